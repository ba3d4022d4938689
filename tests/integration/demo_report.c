/* corral-demo-report: the summary at the end of scripts/demo.
 *
 *   corral-demo-report --audit AUDIT.jsonl [--argocd-log LOG] [--canary ANALYSIS.json]
 *                      [--svg OUT.svg] [--check | --check-warn]
 *   corral-demo-report --answer RUN.json
 *
 * Prints the timeline of the audit log (runs, tool calls with their decisions, deciding rules
 * and outcomes, approvals; model turns counted per run), the canary table of an analysis
 * (prometheus.canary_analyze's result), the mutating requests the fake Argo CD received, and
 * writes the analysis as an SVG chart (tools/canary_svg.h). --check verifies the demo's three
 * outcomes in the audit log and the Argo CD log (exit 1 when one is missing; --check-warn only
 * reports). --answer prints what an agent run (`corralctl run`'s JSON) answered. Exit 0, 1 on
 * a failed check or an unreadable input, 2 on usage. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tools/canary_svg.h"

#define LINE_MAX_BYTES	(1u << 20)

static const char *
s_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* "2026-11-24T12:32:38.804Z" -> "12:32:38.804" */
static const char *
clock_of(const json_t *rec)
{
	const char *t = s_of(rec, "time"), *p = strchr(t, 'T');
	static char buf[16];

	snprintf(buf, sizeof(buf), "%.12s", p ? p + 1 : t);
	return buf;
}

static json_t *
read_jsonl(const char *path)
{
	FILE *f = fopen(path, "r");
	json_t *all = json_array();
	char *line = malloc(LINE_MAX_BYTES);

	if (f == NULL || line == NULL) {
		fprintf(stderr, "corral-demo-report: %s: %s\n", path, strerror(errno));
		free(line);
		json_decref(all);
		if (f)
			fclose(f);
		return NULL;
	}
	while (fgets(line, LINE_MAX_BYTES, f) != NULL) {
		json_t *r = json_loads(line, 0, NULL);

		if (r != NULL)
			json_array_append_new(all, r);
	}
	fclose(f);
	free(line);
	return all;
}

/* ---------------------------------------------------------------- timeline */

static json_t *
outcome_of(json_t *recs, size_t from, json_int_t call)
{
	json_t *r;
	size_t i;

	json_array_foreach(recs, i, r)
		if (i > from && strcmp(s_of(r, "type"), "outcome") == 0 &&
		    json_integer_value(json_object_get(r, "call")) == call)
			return r;
	return NULL;
}

static void
print_call(json_t *recs, size_t i, json_t *d)
{
	const char *dec = s_of(d, "decision"), *app = s_of(json_object_get(d, "args"), "app_name");
	json_t *rules = json_object_get(d, "rules"), *o = NULL, *ev;
	char what[64], upper[16];
	size_t k;

	snprintf(what, sizeof(what), "%s.%s", s_of(d, "tool"), s_of(d, "op"));
	for (k = 0; dec[k] && k < sizeof(upper) - 1; k++)
		upper[k] = (char)(dec[k] >= 'a' && dec[k] <= 'z' ? dec[k] - 32 : dec[k]);
	upper[k] = '\0';
	printf("  %s  %-26s %-29s %-9s %-7s %-27s", clock_of(d), s_of(d, "principal"), what,
	    app, upper, json_string_value(json_array_get(rules, 0)) ?
	    json_string_value(json_array_get(rules, 0)) : "-");
	if (json_object_get(d, "call") != NULL &&
	    (o = outcome_of(recs, i, json_integer_value(json_object_get(d, "call")))) != NULL) {
		printf(" %s %lld ms", s_of(o, "outcome"),
		    (long long)json_integer_value(json_object_get(o, "duration_ms")));
		if ((ev = json_object_get(o, "evidence")) != NULL)
			printf(", verdict %s score %g", s_of(ev, "verdict"),
			    json_number_value(json_object_get(ev, "score")));
		if ((ev = json_object_get(o, "rollback")) != NULL)
			printf(", history id %lld -> %lld",
			    (long long)json_integer_value(json_object_get(ev, "from_id")),
			    (long long)json_integer_value(json_object_get(ev, "to_id")));
	}
	printf("\n");
	if ((ev = json_object_get(json_object_get(d, "obligations"), "evidence")) != NULL &&
	    strcmp(dec, "allow") == 0)
		printf("  %12s  ^ evidence: %s, recorded %s\n", "", s_of(ev, "requires"),
		    s_of(ev, "found_at"));
	if (strcmp(dec, "allow") != 0)
		printf("  %12s  ^ %s\n", "", s_of(d, "reason"));
}

/* Repeated identical pending decisions (the agent asking again while it waits) print once. */
static bool
same_pending(json_t *a, json_t *b)
{
	return a && b && strcmp(s_of(a, "decision"), "pending") == 0 &&
	    strcmp(s_of(b, "decision"), "pending") == 0 &&
	    strcmp(s_of(a, "principal"), s_of(b, "principal")) == 0 &&
	    json_equal(json_object_get(a, "args"), json_object_get(b, "args"));
}

static const char *
approval_event(const char *ev)
{
	return strcmp(ev, "approve") == 0 ? "approved" : strcmp(ev, "deny") == 0 ? "denied" : ev;
}

static void
print_timeline(json_t *recs)
{
	json_t *r, *last_pending = NULL;
	size_t i, turns = 0, repeats = 0;

	printf("\n== Timeline (audit log: %zu records)\n", json_array_size(recs));
	printf("  %-12s  %-26s %-29s %-9s %-7s %-27s %s\n", "time", "principal", "call", "app",
	    "policy", "rule", "outcome");
	json_array_foreach(recs, i, r) {
		const char *type = s_of(r, "type"), *ev = s_of(r, "event");

		if (strcmp(type, "decision") == 0 && strcmp(s_of(r, "tool"), "model") == 0) {
			turns++;
		} else if (strcmp(type, "decision") == 0) {
			if (same_pending(last_pending, r)) {
				repeats++;
				continue;
			}
			last_pending = strcmp(s_of(r, "decision"), "pending") == 0 ? r : NULL;
			print_call(recs, i, r);
		} else if (strcmp(type, "approval") == 0) {
			if (repeats)
				printf("  %12s  ^ asked again %zu times while waiting\n", "", repeats);
			repeats = 0;
			printf("  %s  approval %.16s %s%s%s\n", clock_of(r), s_of(r, "approval"),
			    approval_event(ev), json_object_get(r, "by") ? " by " : "", s_of(r, "by"));
		} else if (strcmp(type, "lifecycle") == 0 && strcmp(ev, "run-start") == 0) {
			turns = 0;
			printf("  %s  -- agent run %lld started by %s on %s\n", clock_of(r),
			    (long long)json_integer_value(json_object_get(r, "run")),
			    s_of(r, "principal"), s_of(r, "worker"));
		} else if (strcmp(type, "lifecycle") == 0 && strcmp(ev, "run-done") == 0) {
			printf("  %s  -- agent run %lld done in %lld ms, %zu model turns\n",
			    clock_of(r), (long long)json_integer_value(json_object_get(r, "run")),
			    (long long)json_integer_value(json_object_get(r, "duration_ms")), turns);
		}
	}
}

/* ---------------------------------------------------------------- canary */

static void
print_canary(const json_t *a)
{
	const json_t *m;
	size_t i;

	printf("\n== Canary analysis of %s: verdict %s, score %g (pass >= %g, marginal >= %g)\n",
	    s_of(a, "app_name"), s_of(a, "verdict"), json_number_value(json_object_get(a, "score")),
	    json_number_value(json_object_get(json_object_get(a, "thresholds"), "pass")),
	    json_number_value(json_object_get(json_object_get(a, "thresholds"), "marginal")));
	printf("   window %s .. %s\n", s_of(json_object_get(a, "window"), "start"),
	    s_of(json_object_get(a, "window"), "end"));
	if (json_string_length(json_object_get(a, "reason")))
		printf("   %s\n", s_of(a, "reason"));
	printf("   %-14s %-9s %8s %14s %14s %8s  %s\n", "metric", "group", "samples",
	    "baseline mean", "canary mean", "ratio", "classification");
	json_array_foreach(json_object_get(a, "metrics"), i, m) {
		const json_t *c = json_object_get(m, "control"), *e = json_object_get(m, "experiment");

		printf("   %-14s %-9s %3lld/%-4lld %14.4g %14.4g %7.2fx  %s%s\n", s_of(m, "name"),
		    json_string_value(json_array_get(json_object_get(m, "groups"), 0)) ?
		    json_string_value(json_array_get(json_object_get(m, "groups"), 0)) : "",
		    (long long)json_integer_value(json_object_get(c, "count")),
		    (long long)json_integer_value(json_object_get(e, "count")),
		    json_number_value(json_object_get(c, "mean")),
		    json_number_value(json_object_get(e, "mean")),
		    json_number_value(json_object_get(m, "ratio")), s_of(m, "classification"),
		    json_is_true(json_object_get(m, "critical")) ? " (critical)" : "");
	}
}

static int
write_svg(const json_t *a, const char *path)
{
	char *svg = NULL, err[256];
	size_t len = 0;
	FILE *f;
	int r;

	if ((r = canary_svg_render(a, &svg, &len, err, sizeof(err))) < 0) {
		fprintf(stderr, "corral-demo-report: chart: %s\n", err);
		return 1;
	}
	if ((f = fopen(path, "w")) == NULL || fwrite(svg, 1, len, f) != len) {
		fprintf(stderr, "corral-demo-report: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		free(svg);
		return 1;
	}
	fclose(f);
	free(svg);
	printf("\n== Canary report (SVG, baseline vs canary per metric): %s\n", path);
	return 0;
}

/* ---------------------------------------------------------------- argocd */

static void
print_argocd(json_t *log)
{
	json_t *e;
	size_t i, reads = 0;

	printf("\n== Requests the (fake) Argo CD received that change something\n");
	json_array_foreach(log, i, e) {
		if (strcmp(s_of(e, "method"), "GET") == 0) {
			reads++;
			continue;
		}
		printf("  #%-3lld %-6s %-48s %s -> HTTP %lld\n",
		    (long long)json_integer_value(json_object_get(e, "n")), s_of(e, "method"),
		    s_of(e, "path"), s_of(e, "body"),
		    (long long)json_integer_value(json_object_get(e, "status")));
	}
	printf("  (and %zu reads)\n", reads);
}

/* ---------------------------------------------------------------- checks */

/* The decision record of principal's tool.op call for app (the first one with effect dec),
 * and its outcome. */
static json_t *
find_decision(json_t *recs, const char *op, const char *app, const char *dec, json_t **outcome)
{
	json_t *r;
	size_t i;

	json_array_foreach(recs, i, r)
		if (strcmp(s_of(r, "type"), "decision") == 0 && strcmp(s_of(r, "op"), op) == 0 &&
		    strcmp(s_of(r, "principal"), "agent:deployment-guardian") == 0 &&
		    strcmp(s_of(json_object_get(r, "args"), "app_name"), app) == 0 &&
		    strcmp(s_of(r, "decision"), dec) == 0) {
			*outcome = outcome_of(recs, i, json_integer_value(json_object_get(r, "call")));
			return r;
		}
	*outcome = NULL;
	return NULL;
}

/* Non-GET requests of the Argo CD log for app; *ok counts those answered 200. */
static size_t
argocd_writes(json_t *log, const char *app, const char *suffix, size_t *ok)
{
	char path[256];
	size_t i, n = 0;
	json_t *e;

	snprintf(path, sizeof(path), "/api/v1/applications/%s%s", app, suffix);
	*ok = 0;
	json_array_foreach(log, i, e)
		if (strcmp(s_of(e, "method"), "GET") != 0 && strncmp(s_of(e, "path"), path,
		    strlen(path)) == 0) {
			n++;
			*ok += json_integer_value(json_object_get(e, "status")) == 200;
		}
	return n;
}

static bool
check(bool ok, const char *what)
{
	printf("  [%s] %s\n", ok ? "ok" : "MISSING", what);
	return ok;
}

static bool
run_checks(json_t *recs, json_t *log, const json_t *analysis)
{
	json_t *d, *o, *ev = NULL;
	size_t ok = 0, n;
	bool all = true;

	printf("\n== Demo checks\n");
	d = find_decision(recs, "canary_analyze", "checkout", "allow", &o);
	ev = json_object_get(o, "evidence");
	all &= check(d && ev && strcmp(s_of(ev, "verdict"), "fail") == 0,
	    "1. the agent's canary_analyze of checkout returned verdict fail (recorded as evidence)");
	d = find_decision(recs, "rollback_application", "checkout", "allow", &o);
	all &= check(d && json_object_get(json_object_get(d, "obligations"), "evidence") &&
	    o && strcmp(s_of(o, "outcome"), "ok") == 0,
	    "1. its rollback of checkout was allowed on that evidence and ran");
	n = argocd_writes(log, "checkout", "/rollback", &ok);
	all &= check(n == 1 && ok == 1, "1. the fake Argo CD received one rollback of checkout "
	    "(HTTP 200)");
	d = find_decision(recs, "rollback_application", "catalog", "deny", &o);
	all &= check(d && strstr(s_of(d, "reason"), "no evidence"),
	    "2. the rollback of catalog was denied: no evidence");
	all &= check(argocd_writes(log, "catalog", "", &ok) == 0,
	    "2. the fake Argo CD received nothing that changes catalog");
	all &= check(find_decision(recs, "rollback_application", "payments", "pending", &o) != NULL,
	    "3. the rollback of payments waited for an approval");
	d = find_decision(recs, "rollback_application", "payments", "allow", &o);
	all &= check(d && json_object_get(d, "approval") && o &&
	    strcmp(s_of(o, "outcome"), "ok") == 0, "3. after corralctl approve it was allowed "
	    "and ran");
	n = argocd_writes(log, "payments", "/rollback", &ok);
	all &= check(n == 1 && ok == 1, "3. the fake Argo CD received one rollback of payments "
	    "(HTTP 200)");
	all &= check(analysis && strcmp(s_of(analysis, "verdict"), "fail") == 0,
	    "report: the chart's analysis of the same window says fail too");
	return all;
}

static int
print_answer(const char *path)
{
	json_error_t je;
	json_t *run = json_load_file(path, 0, &je), *c;
	size_t i;

	if (run == NULL) {
		printf("(the run gave no result: %s)\n", je.text);
		return 1;
	}
	printf("calls:");
	json_array_foreach(json_object_get(run, "calls"), i, c)
		printf("%s %s.%s -> %s", i ? "," : "", s_of(c, "tool"), s_of(c, "op"),
		    s_of(c, "outcome"));
	printf("%s\nanswer (%s):\n", i ? "" : " none", s_of(run, "stopped"));
	for (const char *p = s_of(run, "answer"), *e; *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		printf("  | %.*s\n", (int)(e - p), p);
	}
	json_decref(run);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *audit = NULL, *alog = NULL, *canary = NULL, *svg = NULL, **dst;
	json_t *recs, *log = NULL, *a = NULL;
	json_error_t je;
	int rc = 0, chk = 0;

	for (int i = 1; i < argc; i++) {
		dst = strcmp(argv[i], "--audit") == 0 ? &audit : strcmp(argv[i], "--argocd-log") == 0 ?
		    &alog : strcmp(argv[i], "--canary") == 0 ? &canary : strcmp(argv[i], "--svg") == 0 ?
		    &svg : NULL;
		if (dst && i + 1 < argc)
			*dst = argv[++i];
		else if (strcmp(argv[i], "--check") == 0 || strcmp(argv[i], "--check-warn") == 0)
			chk = argv[i][7] ? 1 : 2;
		else if (strcmp(argv[i], "--answer") == 0 && i + 1 < argc)
			return print_answer(argv[i + 1]);
		else
			audit = NULL, i = argc;
	}
	if (audit == NULL) {
		fprintf(stderr, "usage: corral-demo-report --audit FILE [--argocd-log FILE] "
		    "[--canary FILE [--svg OUT]] [--check|--check-warn] | --answer RUN.json\n");
		return 2;
	}
	if ((recs = read_jsonl(audit)) == NULL || (alog && (log = read_jsonl(alog)) == NULL))
		return 1;
	if (canary && (a = json_load_file(canary, 0, &je)) == NULL) {
		fprintf(stderr, "corral-demo-report: %s: %s\n", canary, je.text);
		return 1;
	}
	print_timeline(recs);
	if (a)
		print_canary(a);
	if (log)
		print_argocd(log);
	if (a && svg)
		rc |= write_svg(a, svg);
	if (chk && !run_checks(recs, log, a) && chk == 2)
		rc = 1;
	json_decref(recs);
	json_decref(log);
	json_decref(a);
	return rc;
}
