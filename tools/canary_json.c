/* JSON input and output of the canary judge (format in docs/CANARY.md). Parsing is strict:
 * unknown fields, wrong types and out of range values are errors naming their path. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/canary_json.h"

struct canary_doc {
	struct canary_input in;
	json_t *root;			/* keeps every name string alive */
	struct canary_metric_in *metrics;
	struct canary_group_weight *weights;
	const char **group_refs;	/* nmetrics groups arrays, one block */
	double **series;		/* 2 * nmetrics sample arrays */
	size_t nseries;
};

struct pctx {
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 4, 5)))
static int perr(struct pctx *c, int code, const char *path, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (!c->errlen)
		return code;
	n = (size_t)snprintf(c->err, c->errlen, "%s: ", path);
	if (n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* "path.key", or "key" at the top level. */
static const char *fpath(char *buf, size_t len, const char *path, const char *key)
{
	snprintf(buf, len, "%s%s%s", path, *path ? "." : "", key);
	return buf;
}

static int check_keys(struct pctx *c, const char *path, const json_t *o,
	const char *const *allowed)
{
	const char *key;
	const json_t *v;
	size_t i;

	json_object_foreach((json_t *)o, key, v) {
		for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
			;
		if (!allowed[i])
			return perr(c, ERR_SCHEMA, *path ? path : "(top)",
				    "unknown field \"%s\"", key);
	}
	return 0;
}

/* An optional number within [lo, hi]; open ends when the *_open flag is set. */
static int get_num(struct pctx *c, const char *path, const json_t *o, const char *key,
	double lo, double hi, bool lo_open, double *out)
{
	const json_t *v = json_object_get(o, key);
	char p[192];
	double d;

	if (!v)
		return 0;
	fpath(p, sizeof p, path, key);
	if (!json_is_number(v))
		return perr(c, ERR_SCHEMA, p, "expected a number");
	d = json_number_value(v);
	if ((lo_open ? !(d > lo) : !(d >= lo)) || !(d <= hi))
		return perr(c, ERR_SCHEMA, p, "%g is out of range (%s%g .. %g)", d,
			    lo_open ? "above " : "", lo, hi);
	*out = d;
	return 0;
}

static int get_bool(struct pctx *c, const char *path, const json_t *o, const char *key,
	bool *out)
{
	const json_t *v = json_object_get(o, key);
	char p[192];

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return perr(c, ERR_SCHEMA, fpath(p, sizeof p, path, key), "expected true or false");
	*out = json_is_true(v);
	return 0;
}

/* An optional string among choices[]; *out gets its index. */
static int get_enum(struct pctx *c, const char *path, const json_t *o, const char *key,
	const char *const *choices, int *out)
{
	const json_t *v = json_object_get(o, key);
	char p[192];
	int i;

	if (!v)
		return 0;
	if (json_is_string(v))
		for (i = 0; choices[i]; i++)
			if (strcmp(json_string_value(v), choices[i]) == 0) {
				*out = i;
				return 0;
			}
	return perr(c, ERR_SCHEMA, fpath(p, sizeof p, path, key),
		    "expected one of \"%s\", \"%s\"%s%s%s", choices[0], choices[1], choices[2] ? ", \"" : "", choices[2] ? choices[2] : "",
		    choices[2] ? "\"" : "");
}

static int name_ok(struct pctx *c, const char *path, const json_t *v)
{
	if (!json_is_string(v) || json_string_length(v) == 0)
		return perr(c, ERR_SCHEMA, path, "expected a non-empty string");
	if (json_string_length(v) > LIM_NAME_MAX)
		return perr(c, ERR_TOOBIG, path, "longer than %u bytes", LIM_NAME_MAX);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return perr(c, ERR_SCHEMA, path, "contains a NUL character");
	return 0;
}

/* ---------------------------------------------------------------------------------------- */

static int parse_series(struct pctx *c, struct canary_doc *d, const char *mpath,
	const json_t *m, const char *key, const double **out, size_t *n)
{
	const json_t *a = json_object_get(m, key), *v;
	char p[192];
	double *s;
	size_t i;

	fpath(p, sizeof p, mpath, key);
	if (!a)
		return perr(c, ERR_SCHEMA, p, "required field missing");
	if (!json_is_array(a))
		return perr(c, ERR_SCHEMA, p, "expected an array");
	if (json_array_size(a) > LIM_CANARY_SAMPLES_MAX)
		return perr(c, ERR_TOOBIG, p, "more than %u samples", LIM_CANARY_SAMPLES_MAX);
	if (!(s = malloc((json_array_size(a) + 1) * sizeof *s)))
		return -ENOMEM;
	d->series[d->nseries++] = s;
	json_array_foreach(a, i, v) {
		if (json_is_number(v))
			s[i] = json_number_value(v);
		else if (json_is_string(v) && strcmp(json_string_value(v), "NaN") == 0)
			s[i] = NAN;
		else
			break;
	}
	if (i < json_array_size(a)) {
		snprintf(p + strlen(p), sizeof p - strlen(p), "[%zu]", i);
		return perr(c, ERR_SCHEMA, p, "expected a number or \"NaN\"");
	}
	*out = s;
	*n = json_array_size(a);
	return 0;
}

/* "group": "name" or ["a", "b"]; absent: the group "default". */
static int parse_groups(struct pctx *c, struct canary_doc *d, size_t idx, const char *mpath,
	const json_t *m, struct canary_metric_in *mi)
{
	const char **refs = d->group_refs + idx * LIM_CANARY_GROUPS_MAX;
	const json_t *g = json_object_get(m, "group"), *v;
	char p[192];
	size_t i;
	int r;

	snprintf(p, sizeof p, "%s.group", mpath);
	mi->groups = refs;
	if (!g) {
		refs[0] = "default";
		mi->ngroups = 1;
		return 0;
	}
	if (json_is_string(g)) {
		if ((r = name_ok(c, p, g)) < 0)
			return r;
		refs[0] = json_string_value(g);
		mi->ngroups = 1;
		return 0;
	}
	if (!json_is_array(g) || json_array_size(g) > LIM_CANARY_GROUPS_MAX)
		return perr(c, ERR_SCHEMA, p, "expected a group name or an array of at most %u",
			    LIM_CANARY_GROUPS_MAX);
	json_array_foreach(g, i, v) {
		snprintf(p, sizeof p, "%s.group[%zu]", mpath, i);
		if ((r = name_ok(c, p, v)) < 0)
			return r;
		refs[i] = json_string_value(v);
	}
	mi->ngroups = json_array_size(g);
	return 0;
}

static int parse_effect(struct pctx *c, const char *mpath, const json_t *m,
	struct canary_metric_in *mi)
{
	static const char *const keys[] = { "measure", "allowed_increase", "allowed_decrease",
		"critical_increase", "critical_decrease", NULL };
	static const char *const measures[] = { "meanRatio", "cles", NULL };
	const json_t *e = json_object_get(m, "effect_size");
	char p[192];
	int r, measure = 0;

	if (!e)
		return 0;
	snprintf(p, sizeof p, "%s.effect_size", mpath);
	if (!json_is_object(e))
		return perr(c, ERR_SCHEMA, p, "expected an object");
	if ((r = check_keys(c, p, e, keys)) < 0 ||
	    (r = get_enum(c, p, e, "measure", measures, &measure)) < 0 ||
	    (r = get_num(c, p, e, "allowed_increase", 0, 1e6, false, &mi->allowed_increase)) < 0 ||
	    (r = get_num(c, p, e, "allowed_decrease", 0, 1e6, false, &mi->allowed_decrease)) < 0 ||
	    (r = get_num(c, p, e, "critical_increase", 0, 1e6, false, &mi->critical_increase)) < 0 ||
	    (r = get_num(c, p, e, "critical_decrease", 0, 1e6, false, &mi->critical_decrease)) < 0)
		return r;
	mi->effect_measure = (enum canary_effect)measure;
	return 0;
}

static int parse_outliers(struct pctx *c, const char *mpath, const json_t *m,
	struct canary_metric_in *mi)
{
	static const char *const keys[] = { "strategy", "factor", NULL };
	static const char *const strategies[] = { "keep", "remove", NULL };
	const json_t *o = json_object_get(m, "outliers");
	char p[192];
	int r, s = 0;

	if (!o)
		return 0;
	snprintf(p, sizeof p, "%s.outliers", mpath);
	if (!json_is_object(o))
		return perr(c, ERR_SCHEMA, p, "expected an object");
	if ((r = check_keys(c, p, o, keys)) < 0 ||
	    (r = get_enum(c, p, o, "strategy", strategies, &s)) < 0 ||
	    (r = get_num(c, p, o, "factor", 0, 1e6, true, &mi->outlier_factor)) < 0)
		return r;
	mi->outliers = (enum canary_outliers)s;
	return 0;
}

static int parse_metric(struct pctx *c, struct canary_doc *d, size_t idx, const json_t *m)
{
	static const char *const keys[] = { "name", "group", "control", "experiment",
		"direction", "critical", "must_have_data", "muted", "nan_strategy", "outliers",
		"effect_size", NULL };
	static const char *const dirs[] = { "either", "increase", "decrease", NULL };
	static const char *const nans[] = { "remove", "replace", NULL };
	struct canary_metric_in *mi = &d->metrics[idx];
	char path[64], p[96];
	int r, dir = 0, nan = 0;
	size_t k;

	snprintf(path, sizeof path, "metrics[%zu]", idx);
	canary_metric_init(mi);
	if (!json_is_object(m))
		return perr(c, ERR_SCHEMA, path, "expected an object");
	snprintf(p, sizeof p, "%s.name", path);
	if ((r = check_keys(c, path, m, keys)) < 0)
		return r;
	if (!json_object_get(m, "name"))
		return perr(c, ERR_SCHEMA, p, "required field missing");
	if ((r = name_ok(c, p, json_object_get(m, "name"))) < 0)
		return r;
	mi->name = json_string_value(json_object_get(m, "name"));
	for (k = 0; k < idx; k++)
		if (strcmp(d->metrics[k].name, mi->name) == 0)
			return perr(c, ERR_SCHEMA, p, "duplicate metric name \"%s\"", mi->name);
	if ((r = parse_groups(c, d, idx, path, m, mi)) < 0 ||
	    (r = parse_series(c, d, path, m, "control", &mi->control, &mi->ncontrol)) < 0 ||
	    (r = parse_series(c, d, path, m, "experiment", &mi->experiment, &mi->nexperiment)) < 0 ||
	    (r = get_enum(c, path, m, "direction", dirs, &dir)) < 0 ||
	    (r = get_enum(c, path, m, "nan_strategy", nans, &nan)) < 0 ||
	    (r = get_bool(c, path, m, "critical", &mi->critical)) < 0 ||
	    (r = get_bool(c, path, m, "must_have_data", &mi->must_have_data)) < 0 ||
	    (r = get_bool(c, path, m, "muted", &mi->muted)) < 0 ||
	    (r = parse_outliers(c, path, m, mi)) < 0 || (r = parse_effect(c, path, m, mi)) < 0)
		return r;
	mi->direction = (enum canary_direction)dir;
	mi->nan_strategy = (enum canary_nan)nan;
	return 0;
}

static int parse_weights(struct pctx *c, struct canary_doc *d, const json_t *g)
{
	const char *key;
	const json_t *v;
	double sum = 0.0;
	char p[192];

	if (!g)
		return 0;
	if (!json_is_object(g))
		return perr(c, ERR_SCHEMA, "groups", "expected an object of group weights");
	if (json_object_size(g) > LIM_CANARY_GROUPS_MAX)
		return perr(c, ERR_TOOBIG, "groups", "more than %u groups", LIM_CANARY_GROUPS_MAX);
	if (!(d->weights = calloc(json_object_size(g) + 1, sizeof *d->weights)))
		return -ENOMEM;
	json_object_foreach((json_t *)g, key, v) {
		snprintf(p, sizeof p, "groups.%s", key);
		if (!*key || strlen(key) > LIM_NAME_MAX)
			return perr(c, ERR_SCHEMA, p, "group names are 1 to %u bytes", LIM_NAME_MAX);
		if (!json_is_number(v) || !(json_number_value(v) >= 0 && json_number_value(v) <= 100))
			return perr(c, ERR_SCHEMA, p, "expected a weight from 0 to 100");
		d->weights[d->in.nweights].name = key;
		d->weights[d->in.nweights++].weight = json_number_value(v);
		sum += json_number_value(v);
	}
	if (sum > 100.0 + 1e-9)
		return perr(c, ERR_SCHEMA, "groups", "weights add up to %g, over 100", sum);
	d->in.weights = d->weights;
	return 0;
}

static int parse_thresholds(struct pctx *c, struct canary_doc *d, const json_t *t)
{
	static const char *const keys[] = { "pass", "marginal", NULL };
	int r;

	if (!t)
		return 0;
	if (!json_is_object(t))
		return perr(c, ERR_SCHEMA, "thresholds", "expected an object");
	if ((r = check_keys(c, "thresholds", t, keys)) < 0 ||
	    (r = get_num(c, "thresholds", t, "pass", 0, 100, false, &d->in.pass_threshold)) < 0 ||
	    (r = get_num(c, "thresholds", t, "marginal", 0, 100, false,
			 &d->in.marginal_threshold)) < 0)
		return r;
	if (d->in.marginal_threshold > d->in.pass_threshold)
		return perr(c, ERR_SCHEMA, "thresholds.marginal", "above thresholds.pass");
	return 0;
}

static int parse_metrics(struct pctx *c, struct canary_doc *d, const json_t *ms)
{
	const json_t *m;
	size_t i, n;
	int r;

	if (!ms)
		return perr(c, ERR_SCHEMA, "metrics", "required field missing");
	if (!json_is_array(ms) || json_array_size(ms) == 0)
		return perr(c, ERR_SCHEMA, "metrics", "expected a non-empty array");
	n = json_array_size(ms);
	if (n > LIM_CANARY_METRICS_MAX)
		return perr(c, ERR_TOOBIG, "metrics", "more than %u metrics", LIM_CANARY_METRICS_MAX);
	d->metrics = calloc(n, sizeof *d->metrics);
	d->group_refs = calloc(n * LIM_CANARY_GROUPS_MAX, sizeof *d->group_refs);
	d->series = calloc(2 * n, sizeof *d->series);
	if (!d->metrics || !d->group_refs || !d->series)
		return -ENOMEM;
	json_array_foreach(ms, i, m)
		if ((r = parse_metric(c, d, i, m)) < 0)
			return r;
	d->in.metrics = d->metrics;
	d->in.nmetrics = n;
	return 0;
}

static int parse_root(struct pctx *c, struct canary_doc *d)
{
	static const char *const keys[] = { "confidence", "tolerance", "thresholds", "groups",
		"metrics", "plus", NULL };
	const json_t *root = d->root;
	int r;

	if (!json_is_object(root))
		return perr(c, ERR_SCHEMA, "(top)", "expected an object");
	if ((r = check_keys(c, "", root, keys)) < 0 ||
	    (r = get_num(c, "", root, "confidence", 0, 1, true, &d->in.confidence)) < 0 ||
	    (r = get_num(c, "", root, "tolerance", 0, 1e6, false, &d->in.tolerance)) < 0 ||
	    (r = get_bool(c, "", root, "plus", &d->in.plus)) < 0 ||
	    (r = parse_thresholds(c, d, json_object_get(root, "thresholds"))) < 0 ||
	    (r = parse_weights(c, d, json_object_get(root, "groups"))) < 0 ||
	    (r = parse_metrics(c, d, json_object_get(root, "metrics"))) < 0)
		return r;
	if (d->in.confidence >= 1.0)
		return perr(c, ERR_SCHEMA, "confidence", "must be below 1");
	return 0;
}

int canary_doc_parse(const char *json, size_t len, struct canary_doc **out, char *err,
	size_t errlen)
{
	struct pctx c = { err, errlen };
	struct canary_doc *d;
	json_error_t je;
	int r;

	if (errlen)
		err[0] = '\0';
	if (len > LIM_CANARY_INPUT_MAX)
		return perr(&c, ERR_TOOBIG, "(input)", "larger than %u bytes", LIM_CANARY_INPUT_MAX);
	if (!(d = calloc(1, sizeof *d)))
		return -ENOMEM;
	canary_input_init(&d->in);
	d->root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!d->root) {
		r = perr(&c, ERR_PROTO, "(input)", "line %d column %d: %s", je.line, je.column,
			 je.text);
		goto fail;
	}
	if ((r = parse_root(&c, d)) < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	canary_doc_free(d);
	return r;
}

const struct canary_input *canary_doc_input(const struct canary_doc *d)
{
	return &d->in;
}

void canary_doc_free(struct canary_doc *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nseries; i++)
		free(d->series[i]);
	free(d->series);
	free(d->group_refs);
	free(d->metrics);
	free(d->weights);
	json_decref(d->root);
	free(d);
}

int canary_judge_json(const char *input_json, size_t len, char **output_json, char *err,
	size_t errlen)
{
	struct canary_doc *d = NULL;
	struct canary_result res;
	int r;

	if ((r = canary_doc_parse(input_json, len, &d, err, errlen)) < 0)
		return r;
	if ((r = canary_judge(&d->in, &res)) < 0) {
		if (errlen)
			snprintf(err, errlen, "canary judge: %s", err_str(r));
		goto out;
	}
	r = canary_result_to_json(&res, output_json);
	if (r < 0 && errlen)
		snprintf(err, errlen, "canary result: %s", err_str(r));
	canary_result_free(&res);
out:
	canary_doc_free(d);
	return r;
}
