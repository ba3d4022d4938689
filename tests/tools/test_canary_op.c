/* prometheus.canary_analyze against tests/fakes/fake_prometheus.py: the real HTTP client, the
 * fake's synthetic baseline/canary series (deterministic per timestamp), the real judge. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/tools/harness.h"
#include "tools/canary_json.h"

extern const struct tool_family tool_fam_prometheus;

#define TOKEN "canary-proxy-TOKEN-1a2b3c4d"
#define START "2026-11-05T10:00:00Z"
#define END "2026-11-05T10:10:00Z"
#define START_UNIX 1793872800.0		/* 2026-11-05T10:00:00Z */

static struct fake F;
static struct harness H;

static void
setup(void)
{
	cr_assert_eq(fake_start(&F, "fake_prometheus.py", NULL), 0, "fake did not start");
	cr_assert_eq(harness_init(&H, &F, TOKEN), 0);
}

static void
teardown(void)
{
	harness_fini(&H);
	fake_stop(&F);
}

TestSuite(canary_op, .init = setup, .fini = teardown, .timeout = 60);

/* ---------------------------------------------------------------- helpers */

static char *
q_errors(const char *app, const char *track)
{
	char *s;

	cr_assert(asprintf(&s, "sum(rate(http_requests_total{app=\"%s\",track=\"%s\",code=~\"5..\"}"
	    "[1m])) / sum(rate(http_requests_total{app=\"%s\",track=\"%s\"}[1m]))", app, track, app,
	    track) > 0);
	return s;
}

static char *
q_latency(const char *app, const char *track)
{
	char *s;

	cr_assert(asprintf(&s, "histogram_quantile(0.99, sum by (le) (rate("
	    "http_request_duration_seconds_bucket{app=\"%s\",track=\"%s\"}[1m])))", app, track) > 0);
	return s;
}

/* {name, group, direction: increase, baseline_query, canary_query} for one kind of metric. */
static json_t *
metric(const char *name, const char *app, char *(*q)(const char *, const char *))
{
	char *b = q(app, "baseline"), *c = q(app, "canary");
	json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name, "group",
	    strcmp(name, "latency_p99") == 0 ? "latency" : "errors", "direction", "increase",
	    "baseline_query", b, "canary_query", c);

	free(b);
	free(c);
	return m;
}

/* The two metrics of the demo for app, over START..END at 15s, plus extra (consumed). */
static json_t *
args_for(const char *app, json_t *extra)
{
	json_t *a = json_pack("{s:s, s:[o, o], s:s, s:s, s:s}", "app_name", app, "metrics",
	    metric("error_rate", app, q_errors), metric("latency_p99", app, q_latency),
	    "start", START, "end", END, "step", "15s");

	if (extra) {
		json_object_update(a, extra);
		json_decref(extra);
	}
	return a;
}

static int
call_json(json_t *args, json_t **res, struct tool_err *err)
{
	char verr[256] = "", *text = json_dumps(args, JSON_COMPACT);
	int r;

	memset(err, 0, sizeof(*err));
	*res = NULL;
	r = harness_call(&H, &tool_fam_prometheus, "canary_analyze", text, res, err, verr,
	    sizeof(verr));
	if (r == ERR_SCHEMA && verr[0])
		snprintf(err->text, sizeof(err->text), "%s", verr);
	free(text);
	json_decref(args);
	return r;
}

static json_t *
metric_out(json_t *res, size_t i)
{
	return json_array_get(json_object_get(res, "metrics"), i);
}

static const char *
label(json_t *res, size_t i)
{
	return json_string_value(json_object_get(metric_out(res, i), "classification"));
}

static json_int_t
samples(json_t *res, size_t i, const char *side, const char *what)
{
	return json_integer_value(http_json_get(json_object_get(metric_out(res, i), "samples"),
	    side) ? json_object_get(http_json_get(json_object_get(metric_out(res, i), "samples"),
	    side), what) : NULL);
}

static const char *
q1(json_t *e, const char *k)
{
	return json_string_value(json_array_get(json_object_get(json_object_get(e, "query"), k), 0));
}

static void
assert_no_violations(void)
{
	char buf[1024];

	cr_assert_eq(fake_violations(&F, buf, sizeof(buf)), 0, "contract violations: %s", buf);
}

/* ---------------------------------------------------------------- verdicts */

/* The degraded canary fails on both metrics; every query went out as a range query over the
 * window with the proxy token, in metric order, baseline first. */
Test(canary_op, degraded_canary_fails)
{
	struct tool_err err;
	json_t *res, *e;
	char *want[4] = { q_errors("bad-checkout", "baseline"), q_errors("bad-checkout", "canary"),
		q_latency("bad-checkout", "baseline"), q_latency("bad-checkout", "canary") };
	char start[32];

	cr_assert_eq(call_json(args_for("bad-checkout", NULL), &res, &err), 0, "%s", err.text);
	cr_expect_str_eq(json_string_value(json_object_get(res, "app_name")), "bad-checkout");
	cr_expect_str_eq(json_string_value(json_object_get(res, "verdict")), "fail");
	cr_expect_eq(json_number_value(json_object_get(res, "score")), 0.0);
	cr_expect_str_eq(label(res, 0), "High");
	cr_expect_str_eq(label(res, 1), "High");
	for (size_t i = 0; i < 2; i++) {
		cr_expect_eq(samples(res, i, "baseline", "points"), 41);
		cr_expect_eq(samples(res, i, "canary", "points"), 41);
		cr_expect_eq(samples(res, i, "baseline", "series"), 1);
		cr_expect_eq(samples(res, i, "canary", "nan"), 0);
	}
	cr_expect_str_eq(json_string_value(http_json_get(res, "window.start")), START);
	cr_expect_str_eq(json_string_value(http_json_get(res, "window.end")), END);
	cr_expect_eq(json_number_value(http_json_get(res, "window.seconds")), 600.0);
	cr_expect_null(json_object_get(res, "series"), "series only when asked");
	/* the canary's mean error ratio is several times the baseline's */
	cr_expect_gt(json_number_value(http_json_get(metric_out(res, 0), "ratio")), 3.0);
	cr_expect(!harness_leaks(res, &err, "1a2b3c4d"), "token in result");
	json_decref(res);

	cr_assert_eq(fake_count(&F), 4);
	snprintf(start, sizeof(start), "%.3f", START_UNIX);
	for (int i = 0; i < 4; i++) {
		e = fake_entry(&F, i);
		cr_expect_str_eq(json_string_value(json_object_get(e, "route")),
		    "/api/v1/query_range");
		cr_expect_str_eq(json_string_value(json_object_get(e, "method")), "GET");
		cr_expect_str_eq(q1(e, "query"), want[i]);
		cr_expect_str_eq(q1(e, "start"), start);
		cr_expect_str_eq(q1(e, "step"), "15");
		cr_expect_str_eq(json_string_value(http_json_get(e, "headers.authorization")),
		    "Bearer " TOKEN);
		json_decref(e);
		free(want[i]);
	}
	assert_no_violations();
}

/* A healthy canary passes with 100; the marginal band and custom thresholds reach the judge. */
Test(canary_op, healthy_canary_passes)
{
	struct tool_err err;
	json_t *res;

	cr_assert_eq(call_json(args_for("checkout", NULL), &res, &err), 0, "%s", err.text);
	cr_expect_str_eq(json_string_value(json_object_get(res, "verdict")), "pass");
	cr_expect_eq(json_number_value(json_object_get(res, "score")), 100.0);
	cr_expect_str_eq(label(res, 0), "Pass");
	cr_expect_str_eq(label(res, 1), "Pass");
	json_decref(res);

	/* degraded errors only (weights 50/50 -> 50): fail at 95/75, marginal at 60/40 */
	cr_assert_eq(call_json(json_pack("{s:s, s:[o, o], s:s, s:s, s:{s:i, s:i}, s:{s:i, s:i}}",
	    "app_name", "mixed", "metrics", metric("error_rate", "bad-mixed", q_errors),
	    metric("latency_p99", "mixed", q_latency), "start", START, "end", END,
	    "thresholds", "pass", 60, "marginal", 40, "groups", "errors", 50, "latency", 50),
	    &res, &err), 0, "%s", err.text);
	cr_expect_eq(json_number_value(json_object_get(res, "score")), 50.0);
	cr_expect_str_eq(json_string_value(json_object_get(res, "verdict")), "marginal");
	cr_expect_eq(json_number_value(http_json_get(res, "thresholds.pass")), 60.0);
	json_decref(res);
}

/* mode plus: a canary with the baseline's centre and three times its spread passes Kayenta's
 * test and is caught by the variance check. */
Test(canary_op, plus_mode_catches_spread)
{
	struct tool_err err;
	json_t *res;

	cr_assert_eq(call_json(args_for("spread-api", NULL), &res, &err), 0, "%s", err.text);
	cr_expect_str_eq(label(res, 1), "Pass", "kayenta mode: %s", label(res, 1));
	json_decref(res);
	cr_assert_eq(call_json(args_for("spread-api", json_pack("{s:s}", "mode", "plus")), &res,
	    &err), 0, "%s", err.text);
	cr_expect(json_is_true(json_object_get(res, "plus")));
	cr_expect_str_eq(label(res, 1), "High");
	cr_expect_str_neq(json_string_value(json_object_get(res, "verdict")), "pass");
	json_decref(res);
}

/* No canary series: Nodata, and with half the metrics without data the score is forced to 0. */
Test(canary_op, no_data)
{
	struct tool_err err;
	json_t *res;

	cr_assert_eq(call_json(args_for("empty-api", NULL), &res, &err), 0, "%s", err.text);
	cr_expect_str_eq(label(res, 0), "Nodata");
	cr_expect_eq(samples(res, 0, "canary", "series"), 0);
	cr_expect_eq(samples(res, 0, "canary", "points"), 0);
	cr_expect_eq(samples(res, 0, "baseline", "points"), 41);
	cr_expect_str_eq(json_string_value(json_object_get(res, "verdict")), "fail");
	cr_expect(json_string_length(json_object_get(res, "reason")) > 0);
	json_decref(res);
}

/* Several series are pooled; "NaN" samples are counted and removed by nan_strategy. */
Test(canary_op, pooled_series_and_nan)
{
	struct tool_err err;
	json_t *res;

	cr_assert_eq(call_json(args_for("multi-api", NULL), &res, &err), 0, "%s", err.text);
	cr_expect_eq(samples(res, 0, "baseline", "series"), 2);
	cr_expect_eq(samples(res, 0, "canary", "points"), 82);
	cr_expect_eq(json_integer_value(http_json_get(metric_out(res, 0), "control.count")), 82);
	json_decref(res);

	cr_assert_eq(call_json(args_for("nan-api", NULL), &res, &err), 0, "%s", err.text);
	cr_expect_gt(samples(res, 0, "canary", "nan"), 10);
	cr_expect_eq(samples(res, 0, "baseline", "nan"), 0);
	cr_expect_eq(json_integer_value(http_json_get(metric_out(res, 0), "experiment.count")),
	    41 - samples(res, 0, "canary", "nan"));
	cr_expect_str_eq(label(res, 0), "Pass");
	json_decref(res);
}

/* include_series returns the fetched samples, in time order, for charts. */
Test(canary_op, include_series)
{
	struct tool_err err;
	json_t *res, *s, *p;

	cr_assert_eq(call_json(args_for("bad-checkout", json_pack("{s:b}", "include_series", 1)),
	    &res, &err), 0, "%s", err.text);
	s = json_array_get(json_object_get(res, "series"), 1);
	cr_assert_not_null(s);
	cr_expect_str_eq(json_string_value(json_object_get(s, "name")), "latency_p99");
	cr_assert_eq(json_array_size(json_object_get(s, "baseline")), 41);
	cr_assert_eq(json_array_size(json_object_get(s, "canary")), 41);
	p = json_array_get(json_object_get(s, "canary"), 40);
	cr_expect_eq(json_number_value(json_array_get(p, 0)), START_UNIX + 600);
	cr_expect_gt(json_number_value(json_array_get(p, 1)), 0.3, "degraded p99");
	p = json_array_get(json_object_get(s, "baseline"), 0);
	cr_expect_lt(json_number_value(json_array_get(p, 1)), 0.3, "baseline p99");
	cr_expect(json_is_false(json_object_get(res, "series_truncated")));
	json_decref(res);
}

/* The same window gives the same bytes: the fake is deterministic and so is the judge. */
Test(canary_op, deterministic)
{
	struct tool_err err;
	json_t *a, *b;
	char *ta, *tb;

	cr_assert_eq(call_json(args_for("bad-checkout", NULL), &a, &err), 0, "%s", err.text);
	cr_assert_eq(call_json(args_for("bad-checkout", NULL), &b, &err), 0, "%s", err.text);
	ta = json_dumps(a, JSON_SORT_KEYS);
	tb = json_dumps(b, JSON_SORT_KEYS);
	cr_expect_str_eq(ta, tb);
	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
}

/* window alone ends now; window with start extends from start. */
Test(canary_op, windows)
{
	struct tool_err err;
	json_t *a, *res, *e;
	double now = (double)time(NULL), s, en;

	a = args_for("checkout", NULL);
	json_object_del(a, "start");
	json_object_del(a, "end");
	json_object_set_new(a, "window", json_string("5m"));
	cr_assert_eq(call_json(a, &res, &err), 0, "%s", err.text);
	json_decref(res);
	e = fake_entry(&F, 0);
	s = strtod(q1(e, "start"), NULL);
	en = strtod(q1(e, "end"), NULL);
	cr_expect_eq(en - s, 300.0);
	cr_expect(fabs(en - now) < 5, "end %f not now %f", en, now);
	json_decref(e);

	a = args_for("checkout", json_pack("{s:s, s:s}", "window", "2m", "step", "30s"));
	json_object_del(a, "end");
	cr_assert_eq(call_json(a, &res, &err), 0, "%s", err.text);
	cr_expect_eq(json_number_value(http_json_get(res, "window.seconds")), 120.0);
	cr_expect_eq(samples(res, 0, "baseline", "points"), 5);
	cr_expect_str_eq(json_string_value(http_json_get(res, "window.end")), "2026-11-05T10:02:00Z");
	json_decref(res);
}

/* ---------------------------------------------------------------- refusals */

/* Bad arguments are refused before any query is sent, with the argument path named. */
Test(canary_op, bad_arguments_send_nothing)
{
	static const struct {
		const char *patch;	/* merged into the good arguments */
		int code;
		const char *text;
	} cases[] = {
		{ "{\"metrics\": []}", ERR_SCHEMA, "metrics: a non-empty array" },
		{ "{\"metrics\": {\"name\": \"x\"}}", ERR_SCHEMA, "metrics: a non-empty array" },
		{ "{\"metrics\": [3]}", ERR_SCHEMA, "metrics[0]: expected an object" },
		{ "{\"metrics\": [{\"name\": \"x\", \"canary_query\": \"up\"}]}", ERR_SCHEMA,
		  "metrics[0].baseline_query: required" },
		{ "{\"metrics\": [{\"name\": \"x\", \"baseline_query\": \"up\", \"canary_query\": \"\"}]}",
		  ERR_SCHEMA, "metrics[0].canary_query: required" },
		{ "{\"metrics\": [{\"name\": \"x\", \"baseline_query\": \"up\\u0001\", "
		  "\"canary_query\": \"up\"}]}", ERR_SCHEMA, "without control characters" },
		{ "{\"metrics\": [{\"name\": \"x\", \"baseline_query\": \"up\", \"canary_query\": \"up\","
		  " \"control\": [1]}]}", ERR_SCHEMA, "metrics[0].control: not accepted here" },
		{ "{\"metrics\": [{\"name\": \"x\", \"baseline_query\": \"up\", \"canary_query\": \"up\","
		  " \"direction\": \"up\"}]}", ERR_SCHEMA, "metrics[0].direction" },
		{ "{\"metrics\": [{\"name\": \"x\", \"baseline_query\": \"up\", \"canary_query\": \"up\","
		  " \"colour\": 1}]}", ERR_SCHEMA, "metrics[0]: unknown field \"colour\"" },
		{ "{\"metrics\": [{\"name\": \"x\", \"baseline_query\": \"a\", \"canary_query\": \"b\"},"
		  " {\"name\": \"x\", \"baseline_query\": \"a\", \"canary_query\": \"b\"}]}", ERR_SCHEMA,
		  "duplicate metric name" },
		{ "{\"thresholds\": {\"pass\": 50, \"marginal\": 70}}", ERR_SCHEMA,
		  "thresholds.marginal" },
		{ "{\"thresholds\": {\"pass\": 50, \"fail\": 70}}", ERR_SCHEMA,
		  "thresholds: unknown field \"fail\"" },
		{ "{\"groups\": {\"errors\": 80, \"latency\": 40}}", ERR_SCHEMA, "over 100" },
		{ "{\"confidence\": 1.5}", ERR_SCHEMA, "confidence" },
		{ "{\"tolerance\": -1}", ERR_SCHEMA, "tolerance" },
		{ "{\"window\": \"10m\"}", ERR_SCHEMA, "not all three" },
		{ "{\"end\": \"2026-11-05T09:00:00Z\"}", ERR_SCHEMA, "end is not after start" },
		{ "{\"step\": \"1s\", \"end\": \"2026-11-06T10:00:00Z\"}", ERR_SCHEMA,
		  "more than 11,000" },
		{ "{\"app_name\": \"Bad_App\"}", ERR_SCHEMA, "app_name" },
		{ "{\"mode\": \"strict\"}", ERR_SCHEMA, "mode" },
	};
	struct tool_err err;
	json_t *res, *a, *patch;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		patch = json_loads(cases[i].patch, 0, NULL);
		cr_assert_not_null(patch, "case %zu", i);
		a = args_for("checkout", patch);
		cr_expect_eq(call_json(a, &res, &err), cases[i].code, "case %zu: %s", i, err.text);
		cr_expect(strstr(err.text, cases[i].text), "case %zu: \"%s\" lacks \"%s\"", i,
		    err.text, cases[i].text);
		cr_expect_null(res);
	}
	cr_expect_eq(fake_count(&F), 0, "a refused call sent queries");
}

Test(canary_op, too_many_metrics)
{
	struct tool_err err;
	json_t *res, *a = args_for("checkout", NULL), *ms = json_array();
	char name[16];

	for (unsigned i = 0; i <= LIM_CANARY_OP_METRICS_MAX; i++) {
		snprintf(name, sizeof(name), "m%u", i);
		json_array_append_new(ms, json_pack("{s:s, s:s, s:s}", "name", name,
		    "baseline_query", "a", "canary_query", "b"));
	}
	json_object_set_new(a, "metrics", ms);
	cr_expect_eq(call_json(a, &res, &err), ERR_TOOBIG, "%s", err.text);
	cr_expect_eq(fake_count(&F), 0);
}

/* A Prometheus error names the metric and side; nothing is judged. */
Test(canary_op, prometheus_errors_name_the_query)
{
	struct tool_err err;
	json_t *res, *a = args_for("checkout", NULL);

	json_object_set_new(json_array_get(json_object_get(a, "metrics"), 1), "canary_query",
	    json_string("bad(up)"));
	cr_expect_eq(call_json(a, &res, &err), ERR_HTTP, "%s", err.text);
	cr_expect_eq(err.http_status, 400);
	cr_expect(strstr(err.text, "metrics[1].canary_query: "), "%s", err.text);
	cr_expect(strstr(err.text, "parse error"), "%s", err.text);
	cr_expect_eq(fake_count(&F), 4);

	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"status\",\"status\":503,"
	    "\"count\":-1}]}"), 0);
	cr_expect_lt(call_json(args_for("checkout", NULL), &res, &err), 0);
	cr_expect(strstr(err.text, "metrics[0].baseline_query: "), "%s", err.text);
	cr_expect_eq(err.http_status, 503);
	cr_assert_eq(fake_control(&F, "{\"clear\":true}"), 0);
}

/* PromQL over the GET limit goes as a form POST, like query_range's. */
Test(canary_op, long_query_is_posted)
{
	struct tool_err err;
	json_t *res, *a = args_for("bad-checkout", NULL), *m;
	char *pad = malloc(4000), *q;
	json_t *e;

	memset(pad, ' ', 3999);
	pad[3999] = '\0';
	m = json_array_get(json_object_get(a, "metrics"), 0);
	cr_assert(asprintf(&q, "%s%s", json_string_value(json_object_get(m, "canary_query")),
	    pad) > 0);
	json_object_set_new(m, "canary_query", json_string(q));
	cr_assert_eq(call_json(a, &res, &err), 0, "%s", err.text);
	cr_expect_str_eq(label(res, 0), "High");
	json_decref(res);
	e = fake_entry(&F, 1);
	cr_expect_str_eq(json_string_value(json_object_get(e, "method")), "POST");
	cr_expect(strstr(json_string_value(json_object_get(e, "body")), "track%3D%22canary%22"),
	    "%s", json_string_value(json_object_get(e, "body")));
	json_decref(e);
	assert_no_violations();
	free(q);
	free(pad);
}
