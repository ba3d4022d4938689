/* corralctl policy check | eval: argument parsing, shared helpers, and the two commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ipc/err.h"
#include "policy/pol_int.h"
#include "policy/polcli_int.h"

void
pol_cli_usage(FILE *f)
{
	fprintf(f,
	    "usage: corralctl policy check FILE... [-o json]\n"
	    "       corralctl policy eval FILE... --request JSON [--evidence JSON]\n"
	    "                 [--approval granted|rejected|none] [-o json]\n"
	    "       corralctl policy replay FILE... --audit AUDITFILE [-o json]\n"
	    "JSON is inline when it starts with '{' or '[', else a file name.\n");
}

/* ---------------------------------------------------------------- arguments */

static int
opt_value(int argc, char *const argv[], int *i, const char **out, FILE *err)
{
	if (*i + 1 >= argc) {
		fprintf(err, "%s: needs a value\n", argv[*i]);
		return 2;
	}
	*out = argv[++*i];
	return 0;
}

int
cli_parse(const char *cmd, int argc, char *const argv[], struct cli_args *a, FILE *err)
{
	const char *o = NULL;
	bool dashdash = false;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		int rc = 0;

		if (dashdash || s[0] != '-' || s[1] == '\0') {
			if (a->nfiles >= LIM_POL_FILES_MAX) {
				fprintf(err, "policy %s: more than %d files\n", cmd, LIM_POL_FILES_MAX);
				return 2;
			}
			a->files[a->nfiles++] = s;
		} else if (strcmp(s, "--") == 0) {
			dashdash = true;
		} else if (strcmp(s, "--request") == 0 && strcmp(cmd, "eval") == 0) {
			rc = opt_value(argc, argv, &i, &a->request, err);
		} else if (strcmp(s, "--evidence") == 0 && strcmp(cmd, "eval") == 0) {
			rc = opt_value(argc, argv, &i, &a->evidence, err);
		} else if (strcmp(s, "--approval") == 0 && strcmp(cmd, "eval") == 0) {
			rc = opt_value(argc, argv, &i, &a->approval, err);
		} else if (strcmp(s, "--audit") == 0 && strcmp(cmd, "replay") == 0) {
			rc = opt_value(argc, argv, &i, &a->audit, err);
		} else if (strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0) {
			rc = opt_value(argc, argv, &i, &o, err);
		} else {
			fprintf(err, "policy %s: unknown option %s\n", cmd, s);
			pol_cli_usage(err);
			return 2;
		}
		if (rc != 0)
			return rc;
	}
	if (o != NULL && strcmp(o, "json") != 0 && strcmp(o, "text") != 0) {
		fprintf(err, "policy %s: -o takes json or text\n", cmd);
		return 2;
	}
	a->json = o != NULL && strcmp(o, "json") == 0;
	if (a->nfiles == 0) {
		fprintf(err, "policy %s: no policy file given\n", cmd);
		pol_cli_usage(err);
		return 2;
	}
	return 0;
}

int
cli_load(const struct pol_load_opts *opts, const struct cli_args *a, struct pol_set **ps,
    FILE *err)
{
	struct ydoc_errs e = { 0 };
	int rc;

	rc = pol_set_load(a->files, a->nfiles, opts, ps, &e);
	for (size_t i = 0; rc < 0 && i < e.n; i++)
		fprintf(err, "%s\n", e.msg[i]);
	if (rc < 0 && e.n == 0)
		fprintf(err, "policy: %s\n", err_str(rc));
	ydoc_errs_free(&e);
	return rc < 0 ? 2 : 0;
}

json_t *
cli_json_arg(const char *what, const char *v, FILE *err)
{
	json_error_t je;
	json_t *j;
	struct stat st;
	const char *p = v;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '{' || *p == '[') {
		if (strlen(v) > CLI_JSON_MAX) {
			fprintf(err, "%s: longer than %u bytes\n", what, CLI_JSON_MAX);
			return NULL;
		}
		if ((j = json_loads(v, JSON_REJECT_DUPLICATES, &je)) == NULL)
			fprintf(err, "%s: %d:%d: %s\n", what, je.line, je.column, je.text);
		return j;
	}
	errno = 0;
	if (stat(v, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)CLI_JSON_MAX) {
		fprintf(err, "%s: %s: %s\n", what, v, errno ? strerror(errno) :
		    "not a regular file of acceptable size");
		return NULL;
	}
	if ((j = json_load_file(v, JSON_REJECT_DUPLICATES, &je)) == NULL)
		fprintf(err, "%s:%d:%d: %s\n", v, je.line, je.column, je.text);
	return j;
}

int
cli_json_time(const json_t *v, int64_t *ms)
{
	if (json_is_integer(v))
		return (*ms = json_integer_value(v)), 0;
	if (json_is_string(v))
		return pol_time_parse(json_string_value(v), ms);
	return -EINVAL;
}

static const struct tool_op *
find_op(const struct pol_set *ps, const char *tool, const char *op)
{
	const struct pol_pair *p = pol_pair_find(ps, tool, op);

	return p ? p->op : NULL;
}

static int
request_args(const struct pol_set *ps, const json_t *j, bool validate, struct pol_request *rq,
    json_t **args, char *why, size_t whylen)
{
	const json_t *a = json_object_get(j, "args");
	const struct tool_op *op = find_op(ps, rq->tool, rq->op);
	char verr[256];

	if (a != NULL && !json_is_object(a)) {
		snprintf(why, whylen, "args: expected an object");
		return -EINVAL;
	}
	if ((*args = a ? json_deep_copy(a) : json_object()) == NULL)
		return -ENOMEM;
	if (validate && op != NULL && tool_args_validate(op, *args, verr, sizeof(verr)) < 0) {
		snprintf(why, whylen, "args do not match %s.%s: %s", rq->tool, rq->op, verr);
		json_decref(*args);
		*args = NULL;
		return -EINVAL;
	}
	rq->opdef = op;
	rq->args = *args;
	return 0;
}

int
cli_request(const struct pol_set *ps, const json_t *j, bool validate, struct pol_request *rq,
    json_t **args, char *why, size_t whylen)
{
	const json_t *t = json_object_get(j, "time"), *dr = json_object_get(j, "dry_run");
	struct timespec ts;

	memset(rq, 0, sizeof(*rq));
	*args = NULL;
	if (!json_is_object(j)) {
		snprintf(why, whylen, "expected a JSON object");
		return -EINVAL;
	}
	rq->tenant = json_string_value(json_object_get(j, "tenant"));
	rq->principal = json_string_value(json_object_get(j, "principal"));
	rq->tool = json_string_value(json_object_get(j, "tool"));
	rq->op = json_string_value(json_object_get(j, "op"));
	if (rq->principal == NULL || rq->tool == NULL || rq->op == NULL) {
		snprintf(why, whylen, "principal, tool and op are required strings");
		return -EINVAL;
	}
	if (t == NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		rq->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	} else if (cli_json_time(t, &rq->now_ms) < 0) {
		snprintf(why, whylen, "time: expected RFC 3339 (2026-03-29T01:30:00Z) or Unix ms");
		return -EINVAL;
	}
	if (dr != NULL && !json_is_boolean(dr)) {
		snprintf(why, whylen, "dry_run: expected true or false");
		return -EINVAL;
	}
	rq->dry_run = json_is_true(dr);
	return request_args(ps, j, validate, rq, args, why, whylen);
}

/* ---------------------------------------------------------------- evidence store */

int
cli_ev_add(struct cli_evidence *ev, const char *tenant, const char *tool, const char *op,
    const json_t *args, const json_t *result, int64_t at_ms)
{
	struct cli_ev *e;

	if (ev->n < CLI_EVIDENCE_MAX && ev->n == ev->cap) {
		size_t ncap = ev->cap ? ev->cap * 2 : 16;
		struct cli_ev *nv = realloc(ev->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		ev->v = nv, ev->cap = ncap;
	}
	if (ev->n < CLI_EVIDENCE_MAX) {
		e = &ev->v[ev->n++];
	} else {		/* full: replace the oldest */
		e = &ev->v[ev->next];
		ev->next = (ev->next + 1) % CLI_EVIDENCE_MAX;
		free(e->tenant), free(e->tool), free(e->op);
		json_decref(e->args), json_decref(e->result);
	}
	e->tenant = strdup(tenant ? tenant : "");
	e->tool = strdup(tool);
	e->op = strdup(op);
	e->args = args ? json_deep_copy(args) : json_object();
	e->result = json_deep_copy(result);
	e->at_ms = at_ms;
	return e->tenant && e->tool && e->op && e->args && e->result ? 0 : -ENOMEM;
}

int
cli_ev_lookup(void *arg, const struct pol_evidence_query *q, int64_t *found_at)
{
	const struct cli_evidence *ev = arg;
	int found = 0;

	for (size_t i = 0; i < ev->n; i++) {
		const struct cli_ev *e = &ev->v[i];

		if ((!found || e->at_ms > *found_at) && e->tool && e->op && e->result &&
		    pol_evidence_match(q, e->tenant, e->tool, e->op, e->args, e->result, e->at_ms)) {
			*found_at = e->at_ms;
			found = 1;
		}
	}
	return found;
}

void
cli_ev_free(struct cli_evidence *ev)
{
	for (size_t i = 0; i < ev->n; i++) {
		free(ev->v[i].tenant), free(ev->v[i].tool), free(ev->v[i].op);
		json_decref(ev->v[i].args), json_decref(ev->v[i].result);
	}
	free(ev->v);
	memset(ev, 0, sizeof(*ev));
}

/* ---------------------------------------------------------------- check */

static int
cmd_check(const struct pol_load_opts *opts, int argc, char *const argv[], FILE *out, FILE *err)
{
	struct cli_args a;
	struct ydoc_errs e = { 0 };
	struct pol_set *ps = NULL;
	json_t *j = NULL, *errs = NULL, *warns = NULL;
	int rc;

	if ((rc = cli_parse("check", argc, argv, &a, err)) != 0)
		return rc;
	rc = pol_set_load(a.files, a.nfiles, opts, &ps, &e);
	if (rc < 0 && e.errors == 0)
		ydoc_errf(&e, NULL, NULL, "%s", err_str(rc));
	if (a.json) {
		errs = json_array(), warns = json_array();
		for (size_t i = 0; i < e.n; i++)
			json_array_append_new(strstr(e.msg[i], ": warning: ") ? warns : errs,
			    json_string(e.msg[i]));
		j = json_pack("{s:o, s:o, s:i, s:s?}", "errors", errs, "warnings", warns,
		    "rules", ps ? (int)pol_set_nrules(ps) : 0, "hash", ps ? pol_set_hash(ps) : NULL);
		json_dumpf(j, out, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', out);
		json_decref(j);
	} else {
		for (size_t i = 0; i < e.n; i++)
			fprintf(out, "%s\n", e.msg[i]);
		fprintf(out, "%zu file%s, %zu rule%s: %zu error%s, %zu warning%s", a.nfiles,
		    a.nfiles == 1 ? "" : "s", ps ? pol_set_nrules(ps) : 0,
		    ps && pol_set_nrules(ps) == 1 ? "" : "s", e.errors, e.errors == 1 ? "" : "s",
		    e.warnings, e.warnings == 1 ? "" : "s");
		if (ps)
			fprintf(out, "; policy hash %s", pol_set_hash(ps));
		fputc('\n', out);
	}
	rc = e.errors ? 2 : e.warnings ? 1 : 0;
	pol_set_free(ps);
	ydoc_errs_free(&e);
	return rc;
}

/* ---------------------------------------------------------------- eval */

static int
eval_evidence(const char *v, struct cli_evidence *ev, const char *tenant, FILE *err)
{
	json_t *j = cli_json_arg("--evidence", v, err), *rec;
	size_t i;
	int rc = 0;

	if (j == NULL)
		return 2;
	if (json_is_object(j))
		j = json_pack("[o]", j);
	if (!json_is_array(j)) {
		fprintf(err, "--evidence: expected a record or a list of records\n");
		json_decref(j);
		return 2;
	}
	json_array_foreach(j, i, rec) {
		const char *tool = json_string_value(json_object_get(rec, "tool"));
		const char *op = json_string_value(json_object_get(rec, "op"));
		const char *t = json_string_value(json_object_get(rec, "tenant"));
		const json_t *res = json_object_get(rec, "result");
		int64_t at;
		char buf[2 * LIM_NAME_MAX];
		char *dot;

		if (tool == NULL && op && (dot = strchr(op, '.')) && strlen(op) < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%s", op);	/* "op": "prometheus.canary_analyze" */
			buf[dot - op] = '\0';
			tool = buf, op = buf + (dot - op) + 1;
		}
		if (tool == NULL || op == NULL || !json_is_object(res) ||
		    cli_json_time(json_object_get(rec, "time"), &at) < 0) {
			fprintf(err, "--evidence: record %zu: needs tool, op, time and a result "
			    "object\n", i);
			rc = 2;
			break;
		}
		if (cli_ev_add(ev, t ? t : tenant, tool, op, json_object_get(rec, "args"), res,
		    at) < 0) {
			rc = 2;
			break;
		}
	}
	json_decref(j);
	return rc;
}

static void
print_text(const struct pol_decision *d, FILE *out)
{
	char at[32];

	fprintf(out, "effect: %s\nrules:", pol_effect_name(d->effect));
	for (size_t i = 0; i < d->nrules; i++)
		fprintf(out, "%s%s", i ? ", " : " ", d->rules[i]);
	fprintf(out, "%s\nreason: %s\n", d->nrules ? "" : " -", d->reason);
	if (d->approval) {
		fprintf(out, "obligation: approval by %u of", d->approval->quorum);
		for (size_t i = 0; i < d->approval->napprovers; i++)
			fprintf(out, "%s%s", i ? ", " : " ", d->approval->approvers[i]);
		fprintf(out, " (timeout %llds)\n", (long long)(d->approval->timeout_ms / 1000));
	}
	if (d->evidence) {
		pol_time_format(d->evidence_at_ms, at);
		fprintf(out, "obligation: evidence %s%s%s\n", d->evidence->text,
		    d->effect == POL_DENY ? "" : ", found at ", d->effect == POL_DENY ? "" : at);
	}
	if (d->dry_run_only)
		fprintf(out, "obligation: dry run only\n");
}

static int
eval_state(const struct cli_args *a, struct pol_state *st, FILE *err)
{
	if (a->approval == NULL || strcmp(a->approval, "none") == 0)
		st->approval = POL_APPROVAL_NONE;
	else if (strcmp(a->approval, "granted") == 0)
		st->approval = POL_APPROVAL_GRANTED;
	else if (strcmp(a->approval, "rejected") == 0)
		st->approval = POL_APPROVAL_REJECTED;
	else {
		fprintf(err, "--approval: expected granted, rejected or none\n");
		return 2;
	}
	return 0;
}

static int
cmd_eval(const struct pol_load_opts *opts, int argc, char *const argv[], FILE *out, FILE *err)
{
	struct cli_args a;
	struct cli_evidence ev = { 0 };
	struct pol_state st = { .evidence = cli_ev_lookup, .evidence_arg = &ev };
	struct pol_set *ps = NULL;
	struct pol_request rq;
	struct pol_decision d;
	json_t *req = NULL, *args = NULL, *dj;
	char why[512];
	int rc;

	if ((rc = cli_parse("eval", argc, argv, &a, err)) != 0)
		return rc;
	if (a.request == NULL) {
		fprintf(err, "policy eval: --request is required\n");
		return 2;
	}
	if ((rc = eval_state(&a, &st, err)) != 0 || (rc = cli_load(opts, &a, &ps, err)) != 0)
		goto out;
	rc = 2;
	if ((req = cli_json_arg("--request", a.request, err)) == NULL)
		goto out;
	if (cli_request(ps, req, true, &rq, &args, why, sizeof(why)) < 0) {
		fprintf(err, "--request: %s\n", why);
		goto out;
	}
	if (a.evidence && eval_evidence(a.evidence, &ev, rq.tenant, err) != 0)
		goto out;
	if (pol_decide(ps, &rq, &st, &d) < 0)
		goto out;
	if (a.json) {
		if ((dj = pol_decision_json(&d)) == NULL)
			goto out;
		json_dumpf(dj, out, JSON_COMPACT);
		fputc('\n', out);
		json_decref(dj);
	} else {
		print_text(&d, out);
	}
	rc = d.effect == POL_ALLOW ? 0 : 1;
out:
	json_decref(args);
	json_decref(req);
	cli_ev_free(&ev);
	pol_set_free(ps);
	return rc;
}

/* ---------------------------------------------------------------- dispatch */

int
pol_cli_run(const struct pol_load_opts *opts, int argc, char *const argv[], FILE *out,
    FILE *err)
{
	if (argc < 1 || argv[0] == NULL) {
		pol_cli_usage(err);
		return 2;
	}
	if (strcmp(argv[0], "check") == 0)
		return cmd_check(opts, argc, argv, out, err);
	if (strcmp(argv[0], "eval") == 0)
		return cmd_eval(opts, argc, argv, out, err);
	if (strcmp(argv[0], "replay") == 0)
		return cli_replay(opts, argc, argv, out, err);
	fprintf(err, "policy: unknown command '%s'\n", argv[0]);
	pol_cli_usage(err);
	return 2;
}

int
pol_cli(int argc, char *const argv[], FILE *out, FILE *err)
{
	return pol_cli_run(NULL, argc, argv, out, err);
}

int
pol_cli_check(int argc, char *const argv[], FILE *out, FILE *err)
{
	return cmd_check(NULL, argc, argv, out, err);
}

int
pol_cli_eval(int argc, char *const argv[], FILE *out, FILE *err)
{
	return cmd_eval(NULL, argc, argv, out, err);
}

int
pol_cli_replay(int argc, char *const argv[], FILE *out, FILE *err)
{
	return cli_replay(NULL, argc, argv, out, err);
}
