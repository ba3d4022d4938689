/* The prometheus family: instant and range queries against the Prometheus HTTP API
 * (CONTRACTS.md section 7), for agents and the canary analysis.
 *
 * Short queries go as GET with query parameters; long PromQL goes as POST with an
 * application/x-www-form-urlencoded body (same parameters), both retried as reads. Results keep
 * the series' labels and values; sample values become numbers where finite ("NaN", "+Inf" stay
 * strings), and series and points are capped with a truncation flag.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/canary.h"
#include "tools/canary_json.h"
#include "tools/http.h"
#include "tools/io.h"
#include "tools/tool.h"

#define GET_QUERY_MAX	2048		/* longer PromQL goes as a POST form */
#define FORM_MAX	(LIM_ARGS_MAX * 3 + 1024)
#define POINTS_TOTAL_MAX 50000		/* samples over all series of one result */
#define PROM_POINTS_MAX	11000		/* Prometheus: max points per series of a range query */

static const char *
arg_str(const struct tool_call *call, const char *name)
{
	return json_string_value(json_object_get(call->args, name));
}

static json_int_t
arg_int(const struct tool_call *call, const char *name, json_int_t def)
{
	json_t *v = json_object_get(call->args, name);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* ---------------------------------------------------------------- time and durations */

/* Unix seconds (float) or RFC 3339 into seconds. 0 or ERR_SCHEMA. */
static int
parse_time(const char *s, double *out)
{
	struct tm tm = { 0 };
	char *end;
	double frac = 0;
	long off = 0;

	*out = strtod(s, &end);
	if (end != s && *end == '\0')
		return 0;
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return ERR_SCHEMA;
	if (*end == '.') {
		char *e2;

		frac = strtod(end, &e2);
		end = e2;
	}
	if (*end == '+' || *end == '-') {
		int hh, mm;

		if (sscanf(end + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(end) != 6)
			return ERR_SCHEMA;
		off = (hh * 3600L + mm * 60L) * (*end == '-' ? -1 : 1);
	} else if (strcmp(end, "Z") != 0 && strcmp(end, "z") != 0) {
		return ERR_SCHEMA;
	}
	*out = (double)timegm(&tm) - (double)off + frac;
	return 0;
}

/* Prometheus duration ("1h30m", "15s", "250ms") or float seconds. 0 or ERR_SCHEMA. */
static int
parse_duration(const char *s, double *out)
{
	static const struct { const char *u; double sec; } units[] = {
		{ "ms", 0.001 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
		{ "w", 604800 }, { "y", 31536000 },
	};
	char *end;
	double v = strtod(s, &end);

	if (end != s && *end == '\0') {
		*out = v;
		return 0;
	}
	*out = 0;
	while (*s) {
		size_t i, ul;
		long n;

		if (*s < '0' || *s > '9')
			return ERR_SCHEMA;
		n = strtol(s, &end, 10);
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			ul = strlen(units[i].u);
			if (strncmp(end, units[i].u, ul) == 0 && !(ul == 1 && end[0] == 'm' && end[1] == 's'))
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return ERR_SCHEMA;
		*out += (double)n * units[i].sec;
		s = end + strlen(units[i].u);
	}
	return *out > 0 ? 0 : ERR_SCHEMA;
}

/* The 11,000-points rule checked before asking (Prometheus would answer 400 bad_data). */
static int
range_check(const struct tool_call *call, struct tool_err *err)
{
	double start, end, step;

	if (parse_time(arg_str(call, "start"), &start) < 0 ||
	    parse_time(arg_str(call, "end"), &end) < 0) {
		http_err_set(err, ERR_SCHEMA, 0, false, "start/end: RFC 3339 time or Unix seconds");
		return ERR_SCHEMA;
	}
	if (parse_duration(arg_str(call, "step"), &step) < 0 || step <= 0) {
		http_err_set(err, ERR_SCHEMA, 0, false, "step: a positive duration (15s, 1m) or seconds");
		return ERR_SCHEMA;
	}
	if (end < start) {
		http_err_set(err, ERR_SCHEMA, 0, false, "end is before start");
		return ERR_SCHEMA;
	}
	if ((end - start) / step > PROM_POINTS_MAX) {
		http_err_set(err, ERR_SCHEMA, 0, false, "%.0f points per series: Prometheus refuses "
		    "more than 11,000; use a step of at least %.0fs", (end - start) / step,
		    ceil((end - start) / PROM_POINTS_MAX));
		return ERR_SCHEMA;
	}
	return 0;
}

/* ---------------------------------------------------------------- request */

struct prom_params {
	const char *k[8];
	const char *v[8];
	size_t n;
	char limit[24];
};

static void
pp_add(struct prom_params *pp, const char *k, const char *v)
{
	if (v != NULL && pp->n < 8) {
		pp->k[pp->n] = k;
		pp->v[pp->n++] = v;
	}
}

/* k=v&k=v with every key and value percent-encoded, into a malloc'd buffer. */
static char *
form_encode(const struct prom_params *pp)
{
	size_t cap = 64, off = 0;
	char *buf;

	for (size_t i = 0; i < pp->n; i++)
		cap += 3 * (strlen(pp->k[i]) + strlen(pp->v[i])) + 2;
	if (cap > FORM_MAX || (buf = malloc(cap)) == NULL)
		return NULL;
	for (size_t i = 0; i < pp->n; i++) {
		int n;

		if (i)
			buf[off++] = '&';
		if ((n = http_pct_encode(pp->k[i], strlen(pp->k[i]), buf + off, cap - off)) < 0)
			goto fail;
		off += (size_t)n;
		buf[off++] = '=';
		if ((n = http_pct_encode(pp->v[i], strlen(pp->v[i]), buf + off, cap - off)) < 0)
			goto fail;
		off += (size_t)n;
	}
	buf[off] = '\0';
	return buf;
fail:
	free(buf);
	return NULL;
}

/* GET (short) or POST form (long) to /api/v1/<what>; *data gets the "data" member. */
static int
prom_do(struct tool_io *io, const struct tool_call *call, const char *what,
    const struct prom_params *pp, json_t **doc, struct tool_err *err)
{
	const char *secret = http_ctx_secret(call->ctx), *q = NULL;
	struct http_resp resp = { 0 };
	struct http_req req;
	char *form = NULL;
	bool post;
	int r;

	for (size_t i = 0; i < pp->n; i++)
		if (strcmp(pp->k[i], "query") == 0)
			q = pp->v[i];
	post = q && strlen(q) > GET_QUERY_MAX;
	*doc = NULL;
	if (io == NULL || io->http == NULL) {
		http_err_set(err, ERR_NOTREADY, 0, false, "no HTTP in this worker");
		return ERR_NOTREADY;
	}
	http_req_init(&req, post ? "POST" : "GET");
	req.flags = HTTP_F_IDEMPOTENT;	/* a query is a read, GET or POST */
	if ((r = http_path_add(&req, "/api/v1")) < 0 || (r = http_path_add(&req, what)) < 0)
		return r;
	/* No auth in Prometheus itself; a fronting proxy may want a bearer token. */
	if (secret && (r = http_cred_add(&req, "Authorization", "Bearer ", secret)) < 0) {
		http_err_set(err, ERR_CONFIG, 0, false, "credential cannot be sent as a header");
		return ERR_CONFIG;
	}
	if (post) {
		if ((form = form_encode(pp)) == NULL) {
			http_req_wipe(&req);
			http_err_set(err, ERR_TOOBIG, 0, false, "query too large");
			return ERR_TOOBIG;
		}
		req.body = form;
		req.body_len = strlen(form);
		req.content_type = "application/x-www-form-urlencoded";
	} else {
		for (size_t i = 0; i < pp->n; i++)
			http_query_add(&req, pp->k[i], pp->v[i]);
	}
	r = io->http(io, call, &req, &resp, err);
	http_req_wipe(&req);
	free(form);
	if (r == 0 && (r = http_resp_json(&resp, doc, err)) == 0) {
		const char *st = json_string_value(json_object_get(*doc, "status"));

		if (st == NULL || strcmp(st, "success") != 0) {
			char msg[400];

			http_api_message(resp.body, resp.len, msg, sizeof(msg));
			http_err_set(err, ERR_PROTO, (int)resp.status, false,
			    "answer without status success%s%s", msg[0] ? ": " : "", msg);
			r = ERR_PROTO;
		}
	}
	if (r < 0) {
		json_decref(*doc);
		*doc = NULL;
	}
	http_resp_clear(&resp);
	return r;
}

static void
common_params(const struct tool_call *call, struct prom_params *pp)
{
	json_int_t limit = arg_int(call, "limit", 0);

	pp_add(pp, "query", arg_str(call, "query"));
	pp_add(pp, "timeout", arg_str(call, "timeout"));
	if (limit > 0) {
		snprintf(pp->limit, sizeof(pp->limit), "%lld", (long long)limit);
		pp_add(pp, "limit", pp->limit);
	}
}

/* ---------------------------------------------------------------- shaping */

/* A sample value: a number when finite, else the API's string ("NaN", "+Inf", "-Inf"). */
static json_t *
sample_value(json_t *v)
{
	const char *s = json_string_value(v);
	char *end;
	double d;

	if (s == NULL)
		return json_null();
	d = strtod(s, &end);
	if (end != s && *end == '\0' && isfinite(d))
		return json_real(d);
	return json_string(s);
}

/* [t, "v"] -> [t, v] */
static json_t *
sample_pair(json_t *p)
{
	return json_pack("[O, o]", json_array_get(p, 0) ? json_array_get(p, 0) : json_null(),
	    sample_value(json_array_get(p, 1)));
}

struct caps {
	size_t series_max;
	size_t points_max;	/* per series */
	size_t total;		/* points so far */
	bool truncated;
};

static json_t *
shape_series(json_t *s, struct caps *c)
{
	json_t *m = json_object_get(s, "metric");
	/* "O" takes a reference, "o" steals one: a fresh empty object must be stolen */
	json_t *o = m ? json_pack("{s:O}", "metric", m) : json_pack("{s:o}", "metric",
	    json_object());
	json_t *vals = json_object_get(s, "values"), *h;

	if (json_is_array(json_object_get(s, "value")))
		json_object_set_new(o, "value", sample_pair(json_object_get(s, "value")));
	if ((h = json_object_get(s, "histogram")) != NULL)
		json_object_set(o, "histogram", h);
	if (json_is_array(vals)) {
		json_t *out = json_array(), *p;
		size_t i;

		json_array_foreach(vals, i, p) {
			if (i >= c->points_max || c->total >= POINTS_TOTAL_MAX) {
				c->truncated = true;
				break;
			}
			json_array_append_new(out, sample_pair(p));
			c->total++;
		}
		json_object_set_new(o, "values", out);
		json_object_set_new(o, "points", json_integer((json_int_t)json_array_size(vals)));
	}
	if ((h = json_object_get(s, "histograms")) != NULL)
		json_object_set_new(o, "histogram_points", json_integer((json_int_t)json_array_size(h)));
	return o;
}

static json_t *
shape_data(json_t *doc, struct caps *c)
{
	json_t *data = json_object_get(doc, "data"), *res = json_object_get(data, "result");
	const char *type = json_string_value(json_object_get(data, "resultType"));
	json_t *out, *series, *e, *w;
	size_t i;

	out = json_pack("{s:s?}", "result_type", type);
	if (json_is_array(res) && type && (strcmp(type, "scalar") == 0 || strcmp(type, "string") == 0)) {
		json_object_set_new(out, "value", sample_pair(res));
	} else {
		series = json_array();
		json_array_foreach(res, i, e) {
			if (i >= c->series_max) {
				c->truncated = true;
				break;
			}
			json_array_append_new(series, shape_series(e, c));
		}
		json_object_set_new(out, "count", json_integer((json_int_t)json_array_size(res)));
		json_object_set_new(out, "series", series);
	}
	json_object_set_new(out, "truncated", json_boolean(c->truncated));
	if ((w = json_object_get(doc, "warnings")) != NULL && json_array_size(w) > 0)
		json_object_set(out, "warnings", w);
	if ((w = json_object_get(doc, "infos")) != NULL && json_array_size(w) > 0)
		json_object_set(out, "infos", w);
	return out;
}

/* ---------------------------------------------------------------- ops */

static int
op_query(struct tool_io *io, const struct tool_call *call, json_t **result, struct tool_err *err)
{
	struct prom_params pp = { .n = 0 };
	struct caps c = { .series_max = (size_t)arg_int(call, "max_series", 100),
	    .points_max = 1 };
	const char *t = arg_str(call, "time");
	json_t *doc;
	double d;
	int r;

	if (t && parse_time(t, &d) < 0) {
		http_err_set(err, ERR_SCHEMA, 0, false, "time: RFC 3339 time or Unix seconds");
		return ERR_SCHEMA;
	}
	common_params(call, &pp);
	pp_add(&pp, "time", t);
	if ((r = prom_do(io, call, "/query", &pp, &doc, err)) < 0)
		return r;
	*result = shape_data(doc, &c);
	json_decref(doc);
	return *result ? 0 : -ENOMEM;
}

static int
op_query_range(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct prom_params pp = { .n = 0 };
	struct caps c = { .series_max = (size_t)arg_int(call, "max_series", 50),
	    .points_max = (size_t)arg_int(call, "max_points", 2000) };
	json_t *doc;
	int r;

	if ((r = range_check(call, err)) < 0)
		return r;
	common_params(call, &pp);
	pp_add(&pp, "start", arg_str(call, "start"));
	pp_add(&pp, "end", arg_str(call, "end"));
	pp_add(&pp, "step", arg_str(call, "step"));
	if ((r = prom_do(io, call, "/query_range", &pp, &doc, err)) < 0)
		return r;
	*result = shape_data(doc, &c);
	json_decref(doc);
	return *result ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- canary_analyze */

/* The judge behind canary_analyze is tools/canary.c (docs/CANARY.md); this part fetches the
 * samples. Each metric names a baseline and a canary PromQL expression; both are evaluated
 * with query_range over the same window and step, every sample of every returned series is
 * pooled per side, and the two pools are judged as control (baseline) and experiment
 * (canary). */

#define CANARY_WINDOW_DEF_S	600.0	/* neither window nor start/end given: the last 10m */

struct side {			/* one side of one metric: samples of every series, pooled */
	double *v, *t;
	size_t n, cap;
	size_t series, nan;
};

struct canary_run {
	struct canary_doc *doc;		/* the judge input with empty sample arrays */
	const char **bq, **cq;		/* queries per metric, borrowed from the call's args */
	struct side *base, *can;
	size_t n;
	double t0, t1, step;
	char start[32], end[32], step_s[32];
};

static void
canary_run_free(struct canary_run *cr)
{
	for (size_t i = 0; i < cr->n; i++) {
		if (cr->base) {
			free(cr->base[i].v);
			free(cr->base[i].t);
		}
		if (cr->can) {
			free(cr->can[i].v);
			free(cr->can[i].t);
		}
	}
	free(cr->base);
	free(cr->can);
	free(cr->bq);
	free(cr->cq);
	canary_doc_free(cr->doc);
}

static void
fmt_rfc3339(double t, char *buf, size_t len)
{
	time_t s = (time_t)floor(t);
	struct tm tm;

	if (gmtime_r(&s, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%.3f", t);
}

/* window alone (ending now), window with start or end, or start and end. */
static int
canary_window(const struct tool_call *call, struct canary_run *cr, struct tool_err *err)
{
	const char *w = arg_str(call, "window"), *s = arg_str(call, "start"), *e = arg_str(call, "end");
	double win = CANARY_WINDOW_DEF_S;
	struct timespec now;

	if (w && s && e) {
		http_err_set(err, ERR_SCHEMA, 0, false, "window: give window (with start or end, or "
		    "alone for the last window up to now) or start and end, not all three");
		return ERR_SCHEMA;
	}
	if ((w && (parse_duration(w, &win) < 0 || win <= 0)) || (s && parse_time(s, &cr->t0) < 0) ||
	    (e && parse_time(e, &cr->t1) < 0)) {
		http_err_set(err, ERR_SCHEMA, 0, false, "window/start/end: a positive duration (10m) "
		    "and RFC 3339 times or Unix seconds");
		return ERR_SCHEMA;
	}
	if (s && !e) {
		cr->t1 = cr->t0 + win;
	} else if (!s) {
		if (!e) {
			clock_gettime(CLOCK_REALTIME, &now);
			cr->t1 = (double)now.tv_sec + (double)(now.tv_nsec / 1000000) / 1000.0;
		}
		cr->t0 = cr->t1 - win;
	}
	if (parse_duration(arg_str(call, "step"), &cr->step) < 0 || cr->step <= 0) {
		http_err_set(err, ERR_SCHEMA, 0, false, "step: a positive duration (15s, 1m) or seconds");
		return ERR_SCHEMA;
	}
	if (cr->t1 <= cr->t0) {
		http_err_set(err, ERR_SCHEMA, 0, false, "end is not after start");
		return ERR_SCHEMA;
	}
	if ((cr->t1 - cr->t0) / cr->step > PROM_POINTS_MAX) {
		http_err_set(err, ERR_SCHEMA, 0, false, "%.0f points per series: Prometheus refuses "
		    "more than 11,000; use a step of at least %.0fs", (cr->t1 - cr->t0) / cr->step,
		    ceil((cr->t1 - cr->t0) / PROM_POINTS_MAX));
		return ERR_SCHEMA;
	}
	snprintf(cr->start, sizeof(cr->start), "%.3f", cr->t0);
	snprintf(cr->end, sizeof(cr->end), "%.3f", cr->t1);
	snprintf(cr->step_s, sizeof(cr->step_s), "%g", cr->step);
	return 0;
}

static bool
query_ok(const json_t *q)
{
	const char *s = json_string_value(q);
	size_t n = json_string_length(q);

	if (s == NULL || n == 0 || n > LIM_CANARY_QUERY_MAX || strlen(s) != n)
		return false;
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r') || *s == 0x7f)
			return false;
	return true;
}

/* One metric of the argument, checked, as a judge metric: the queries out, empty sample
 * arrays in. NULL with err filled. */
static json_t *
canary_metric(const json_t *m, size_t i, struct canary_run *cr, struct tool_err *err)
{
	static const char *const q[] = { "baseline_query", "canary_query" };
	static const char *const fixed[] = { "control", "experiment" };
	json_t *c;

	if (!json_is_object(m)) {
		http_err_set(err, ERR_SCHEMA, 0, false, "metrics[%zu]: expected an object "
		    "{name, baseline_query, canary_query, ...}", i);
		return NULL;
	}
	for (size_t k = 0; k < 2; k++) {
		if (json_object_get(m, fixed[k]) != NULL) {
			http_err_set(err, ERR_SCHEMA, 0, false, "metrics[%zu].%s: not accepted here: "
			    "the samples come from baseline_query and canary_query", i, fixed[k]);
			return NULL;
		}
		if (!query_ok(json_object_get(m, q[k]))) {
			http_err_set(err, ERR_SCHEMA, 0, false, "metrics[%zu].%s: required: a PromQL "
			    "expression of 1 to %u bytes without control characters", i, q[k],
			    LIM_CANARY_QUERY_MAX);
			return NULL;
		}
	}
	cr->bq[i] = json_string_value(json_object_get(m, q[0]));
	cr->cq[i] = json_string_value(json_object_get(m, q[1]));
	if ((c = json_copy((json_t *)m)) == NULL)
		return NULL;
	json_object_del(c, q[0]);
	json_object_del(c, q[1]);
	json_object_set_new(c, fixed[0], json_array());
	json_object_set_new(c, fixed[1], json_array());
	return c;
}

/* Check every judge setting before any query is sent, with the judge's own strict parser:
 * its messages name the argument path ("metrics[1].direction: ..."). */
static int
canary_doc_build(const struct tool_call *call, struct canary_run *cr, struct tool_err *err)
{
	static const char *const pass[] = { "thresholds", "groups", "confidence", "tolerance" };
	const char *mode = arg_str(call, "mode");
	json_t *ms = json_object_get(call->args, "metrics"), *root, *arr, *m, *c;
	char perr[sizeof(err->text)] = "", *text;
	size_t i;
	int r = -ENOMEM;

	if (!json_is_array(ms) || json_array_size(ms) == 0) {
		http_err_set(err, ERR_SCHEMA, 0, false, "metrics: a non-empty array of "
		    "{name, baseline_query, canary_query, ...}");
		return ERR_SCHEMA;
	}
	if (json_array_size(ms) > LIM_CANARY_OP_METRICS_MAX) {
		http_err_set(err, ERR_TOOBIG, 0, false, "metrics: at most %u per call",
		    LIM_CANARY_OP_METRICS_MAX);
		return ERR_TOOBIG;
	}
	cr->n = json_array_size(ms);
	cr->bq = calloc(cr->n, sizeof(*cr->bq));
	cr->cq = calloc(cr->n, sizeof(*cr->cq));
	cr->base = calloc(cr->n, sizeof(*cr->base));
	cr->can = calloc(cr->n, sizeof(*cr->can));
	root = json_object();
	arr = json_array();
	if (!cr->bq || !cr->cq || !cr->base || !cr->can || !root || !arr)
		goto out;
	json_array_foreach(ms, i, m) {
		if ((c = canary_metric(m, i, cr, err)) == NULL) {
			r = err->code ? err->code : -ENOMEM;
			goto out;
		}
		json_array_append_new(arr, c);
	}
	for (i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
		if (json_object_get(call->args, pass[i]) != NULL)
			json_object_set(root, pass[i], json_object_get(call->args, pass[i]));
	json_object_set_new(root, "plus", json_boolean(mode && strcmp(mode, "plus") == 0));
	json_object_set(root, "metrics", arr);
	if ((text = json_dumps(root, JSON_COMPACT)) == NULL)
		goto out;
	r = canary_doc_parse(text, strlen(text), &cr->doc, perr, sizeof(perr));
	free(text);
	if (r < 0)
		http_err_set(err, r == ERR_TOOBIG ? ERR_TOOBIG : ERR_SCHEMA, 0, false, "%s", perr);
out:
	json_decref(arr);
	json_decref(root);
	return r;
}

static int
side_push(struct side *s, double t, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		double *nv, *nt;

		if ((nv = realloc(s->v, cap * sizeof(*nv))) == NULL)
			return -ENOMEM;
		s->v = nv;
		if ((nt = realloc(s->t, cap * sizeof(*nt))) == NULL)
			return -ENOMEM;
		s->t = nt;
		s->cap = cap;
	}
	s->t[s->n] = t;
	s->v[s->n++] = v;
	return 0;
}

/* The samples of a matrix answer into s. "NaN" and infinities (a ratio over zero requests)
 * become NaN, which the metric's nan_strategy then removes or replaces. */
static int
side_fill(json_t *doc, struct side *s, struct tool_err *err)
{
	json_t *data = json_object_get(doc, "data"), *res = json_object_get(data, "result"), *e, *p;
	const char *type = json_string_value(json_object_get(data, "resultType"));
	size_t i, k;
	int r;

	if (type == NULL || strcmp(type, "matrix") != 0 || !json_is_array(res)) {
		http_err_set(err, ERR_PROTO, 0, false, "expected a matrix answer, got %s",
		    type ? type : "none");
		return ERR_PROTO;
	}
	json_array_foreach(res, i, e) {
		s->series++;
		json_array_foreach(json_object_get(e, "values"), k, p) {
			const char *vs = json_string_value(json_array_get(p, 1));
			json_t *tj = json_array_get(p, 0);
			char *end;
			double v;

			if (vs == NULL || !json_is_number(tj)) {
				http_err_set(err, ERR_PROTO, 0, false, "a sample is not [time, \"value\"]");
				return ERR_PROTO;
			}
			v = strtod(vs, &end);
			if (end == vs || *end != '\0' || !isfinite(v)) {
				v = NAN;
				s->nan++;
			}
			if (s->n >= LIM_CANARY_SAMPLES_MAX) {
				http_err_set(err, ERR_TOOBIG, 0, false, "more than %u samples: aggregate "
				    "the series in PromQL (sum, avg) or use a larger step",
				    LIM_CANARY_SAMPLES_MAX);
				return ERR_TOOBIG;
			}
			if ((r = side_push(s, json_number_value(tj), v)) < 0)
				return r;
		}
	}
	return 0;
}

static int
canary_fetch(struct tool_io *io, const struct tool_call *call, struct canary_run *cr,
    const char *q, struct side *s, const char *what, size_t i, struct tool_err *err)
{
	struct prom_params pp = { .n = 0 };
	json_t *doc;
	int r;

	pp_add(&pp, "query", q);
	pp_add(&pp, "start", cr->start);
	pp_add(&pp, "end", cr->end);
	pp_add(&pp, "step", cr->step_s);
	pp_add(&pp, "timeout", arg_str(call, "timeout"));
	if ((r = prom_do(io, call, "/query_range", &pp, &doc, err)) == 0) {
		r = side_fill(doc, s, err);
		json_decref(doc);
	}
	if (r < 0) {
		char msg[sizeof(err->text)];

		snprintf(msg, sizeof(msg), "%s", err->text);
		snprintf(err->text, sizeof(err->text), "metrics[%zu].%s_query: %s", i, what, msg);
		if (err->code == 0)
			err->code = r;
	}
	return r;
}

static json_t *
side_sizes(const struct side *s)
{
	return json_pack("{s:I, s:I, s:I}", "series", (json_int_t)s->series, "points",
	    (json_int_t)s->n, "nan", (json_int_t)s->nan);
}

/* [[t, v], ...] with NaN as null, at most *budget points. */
static json_t *
side_points(const struct side *s, size_t *budget, bool *cut)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n && a; i++) {
		if (*budget == 0) {
			*cut = true;
			break;
		}
		(*budget)--;
		json_array_append_new(a, json_pack("[f, o]", s->t[i], isnan(s->v[i]) ? json_null() :
		    json_real(s->v[i])));
	}
	return a;
}

/* {app_name, the judge's result, window, per metric sample counts[, series]}. */
static json_t *
canary_shape(const struct tool_call *call, const struct canary_run *cr,
    const struct canary_result *res)
{
	json_t *judged = NULL, *out, *v, *series, *mj;
	size_t budget = LIM_CANARY_CHART_POINTS, i;
	char *text = NULL, t0[40], t1[40];
	const char *k;
	bool cut = false;

	if (canary_result_to_json(res, &text) < 0 || (judged = json_loads(text, 0, NULL)) == NULL ||
	    (out = json_pack("{s:s}", "app_name", arg_str(call, "app_name"))) == NULL) {
		free(text);
		json_decref(judged);
		return NULL;
	}
	free(text);
	json_object_foreach(judged, k, v)
		json_object_set(out, k, v);
	json_array_foreach(json_object_get(out, "metrics"), i, mj)
		if (i < cr->n)
			json_object_set_new(mj, "samples", json_pack("{s:o, s:o}", "baseline",
			    side_sizes(&cr->base[i]), "canary", side_sizes(&cr->can[i])));
	fmt_rfc3339(cr->t0, t0, sizeof(t0));
	fmt_rfc3339(cr->t1, t1, sizeof(t1));
	json_object_set_new(out, "window", json_pack("{s:s, s:s, s:f, s:f}", "start", t0, "end", t1,
	    "seconds", cr->t1 - cr->t0, "step_seconds", cr->step));
	if (json_is_true(json_object_get(call->args, "include_series"))) {
		series = json_array();
		for (i = 0; i < cr->n; i++)
			json_array_append_new(series, json_pack("{s:s, s:o, s:o}", "name",
			    res->metrics[i].name, "baseline", side_points(&cr->base[i], &budget, &cut),
			    "canary", side_points(&cr->can[i], &budget, &cut)));
		json_object_set_new(out, "series", series);
		json_object_set_new(out, "series_truncated", json_boolean(cut));
	}
	json_decref(judged);
	return out;
}

static int
op_canary_analyze(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct canary_run cr = { 0 };
	struct canary_input in;
	struct canary_metric_in *ms = NULL;
	struct canary_result res = { 0 };
	int r;

	if ((r = canary_window(call, &cr, err)) < 0 || (r = canary_doc_build(call, &cr, err)) < 0)
		goto out;
	for (size_t i = 0; i < cr.n; i++)
		if ((r = canary_fetch(io, call, &cr, cr.bq[i], &cr.base[i], "baseline", i, err)) < 0 ||
		    (r = canary_fetch(io, call, &cr, cr.cq[i], &cr.can[i], "canary", i, err)) < 0)
			goto out;
	in = *canary_doc_input(cr.doc);
	if ((ms = calloc(cr.n, sizeof(*ms))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < cr.n; i++) {
		ms[i] = in.metrics[i];
		ms[i].control = cr.base[i].v;
		ms[i].ncontrol = cr.base[i].n;
		ms[i].experiment = cr.can[i].v;
		ms[i].nexperiment = cr.can[i].n;
	}
	in.metrics = ms;
	if ((r = canary_judge(&in, &res)) < 0) {
		http_err_set(err, r, 0, false, "canary judge: %s", err_str(r));
		goto out;
	}
	*result = canary_shape(call, &cr, &res);
	r = *result ? 0 : -ENOMEM;
out:
	canary_result_free(&res);
	free(ms);
	canary_run_free(&cr);
	return r;
}

/* ---------------------------------------------------------------- schema */

#define TIME_RE	"[0-9]+(\\.[0-9]+)?|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|z|[+-][0-9]{2}:[0-9]{2})"
#define DUR_RE	"([0-9]+(ms|s|m|h|d|w|y))+|[0-9]+(\\.[0-9]+)?"

#define P_QUERY { .name = "query", .type = TP_STRING, .required = true, .max_len = 65536, \
	.flags = TP_F_MULTILINE, .desc = "PromQL expression" }
#define P_TIMEOUT { .name = "timeout", .type = TP_STRING, .pattern = DUR_RE, .max_len = 32, \
	.desc = "Evaluation timeout (capped by the server's -query.timeout)" }
#define P_LIMIT { .name = "limit", .type = TP_INT, .min = 0, .max = 1000000, \
	.desc = "Max series the server returns (0 = no limit)" }

static const struct tool_param p_query[] = {
	P_QUERY,
	{ .name = "time", .type = TP_STRING, .pattern = TIME_RE, .max_len = 40,
	  .desc = "Evaluation time, RFC 3339 or Unix seconds (default now)" },
	P_TIMEOUT, P_LIMIT,
	{ .name = "max_series", .type = TP_INT, .def = "100", .min = 1, .max = 10000,
	  .desc = "Series shown in the result" },
	{ 0 }
};
static const struct tool_param p_range[] = {
	P_QUERY,
	{ .name = "start", .type = TP_STRING, .required = true, .pattern = TIME_RE, .max_len = 40,
	  .desc = "Start, RFC 3339 or Unix seconds (inclusive)" },
	{ .name = "end", .type = TP_STRING, .required = true, .pattern = TIME_RE, .max_len = 40,
	  .desc = "End, RFC 3339 or Unix seconds (inclusive)" },
	{ .name = "step", .type = TP_STRING, .required = true, .pattern = DUR_RE, .max_len = 32,
	  .desc = "Resolution: duration (15s, 1m) or seconds; at most 11,000 points per series" },
	P_TIMEOUT, P_LIMIT,
	{ .name = "max_series", .type = TP_INT, .def = "50", .min = 1, .max = 10000,
	  .desc = "Series shown in the result" },
	{ .name = "max_points", .type = TP_INT, .def = "2000", .min = 1, .max = 11000,
	  .desc = "Points shown per series" },
	{ 0 }
};

static const char *const canary_modes[] = { "kayenta", "plus", NULL };
static const struct tool_param p_canary[] = {
	{ .name = "app_name", .type = TP_STRING, .required = true,
	  .pattern = "[a-z0-9]([-a-z0-9.]*[a-z0-9])?", .max_len = 253,
	  .desc = "The application under analysis (Argo CD app or Flux object name): the verdict "
	  "is recorded as evidence for it, for policies with `same: [app_name]`" },
	{ .name = "metrics", .type = TP_JSON, .required = true, .max_len = 192 << 10,
	  .desc = "Array (1 to 32) of {name, baseline_query, canary_query, group, direction "
	  "(increase|decrease|either), critical, must_have_data, muted, nan_strategy "
	  "(remove|replace), outliers {strategy, factor}, effect_size {measure, allowed_increase, "
	  "...}}: each query is PromQL whose samples over the window are that side's data; "
	  "aggregate to one series (sum, histogram_quantile)" },
	{ .name = "window", .type = TP_STRING, .pattern = DUR_RE, .max_len = 32,
	  .desc = "Length of the analysis window: alone it ends now; with start or end it extends "
	  "from it (default 10m when no start/end is given)" },
	{ .name = "start", .type = TP_STRING, .pattern = TIME_RE, .max_len = 40,
	  .desc = "Window start, RFC 3339 or Unix seconds" },
	{ .name = "end", .type = TP_STRING, .pattern = TIME_RE, .max_len = 40,
	  .desc = "Window end, RFC 3339 or Unix seconds" },
	{ .name = "step", .type = TP_STRING, .def = "\"15s\"", .pattern = DUR_RE, .max_len = 32,
	  .desc = "Sample spacing (query_range step): one sample per step and series" },
	{ .name = "thresholds", .type = TP_JSON, .max_len = 256,
	  .desc = "Score thresholds {pass, marginal}, default {pass: 95, marginal: 75}" },
	{ .name = "groups", .type = TP_JSON, .max_len = 8192,
	  .desc = "Group weights in percent, e.g. {errors: 60, latency: 40}" },
	{ .name = "confidence", .type = TP_NUMBER,
	  .desc = "Mann-Whitney confidence in (0, 1), default 0.98" },
	{ .name = "tolerance", .type = TP_NUMBER,
	  .desc = "Allowed shift relative to the estimate, default 0.25" },
	{ .name = "mode", .type = TP_STRING, .def = "\"kayenta\"", .enums = canary_modes,
	  .desc = "kayenta: Kayenta's NetflixACAJudge; plus: also flag a spread increase and "
	  "sparse error bursts (docs/CANARY.md)" },
	{ .name = "include_series", .type = TP_BOOL, .def = "false",
	  .desc = "Also return the samples (for a chart)" },
	P_TIMEOUT,
	{ 0 }
};

static const struct tool_op prometheus_ops[] = {
	{ .name = "query", .desc = "Instant PromQL query: one value per series",
	  .flags = TOOL_F_IDEMPOTENT, .params = p_query, .timeout_ms = 60000, .run = op_query },
	{ .name = "query_range", .desc = "Range PromQL query: values over time per series",
	  .flags = TOOL_F_IDEMPOTENT, .params = p_range, .timeout_ms = 60000,
	  .run = op_query_range },
	{ .name = "canary_analyze", .desc = "Canary analysis: baseline vs canary PromQL per metric "
	  "over a window, judged by Kayenta's Mann-Whitney method; verdict pass, marginal or fail "
	  "with a score and a classification per metric", .flags = TOOL_F_IDEMPOTENT,
	  .params = p_canary, .timeout_ms = 120000, .run = op_canary_analyze },
	{ 0 }
};

const struct tool_family tool_fam_prometheus = {
	.name = "prometheus",
	.desc = "Prometheus: instant and range PromQL queries, canary analysis",
	.kind = TOOL_KIND_HTTP,
	.ops = prometheus_ops,
};
