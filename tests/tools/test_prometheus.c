/* The prometheus family against tests/fakes/fake_prometheus.py (contract: prometheus.json,
 * CONTRACTS.md section 7). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/tools/harness.h"

extern const struct tool_family tool_fam_prometheus;

#define TOKEN "prom-proxy-TOKEN-9f8e7d6c5b4a"
#define PROMQL "sum(rate(http_requests_total{job=\\\"api\\\",code=~\\\"5..\\\"}[5m])) by (instance) + 1 & 2 # x"
#define PROMQL_RAW "sum(rate(http_requests_total{job=\"api\",code=~\"5..\"}[5m])) by (instance) + 1 & 2 # x"

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

TestSuite(prometheus, .init = setup, .fini = teardown, .timeout = 60);

static int
call(const char *op, const char *args, json_t **res, struct tool_err *err)
{
	return harness_call_msg(&H, &tool_fam_prometheus, op, args, res, err);
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

Test(prometheus, instant_query)
{
	struct tool_err err;
	json_t *res, *s, *e;

	cr_assert_eq(call("query", "{\"query\":\"" PROMQL "\",\"time\":\"2026-11-05T10:00:00+01:00\","
	    "\"timeout\":\"30s\",\"limit\":2}", &res, &err), 0, "%s", err.text);
	cr_expect_str_eq(json_string_value(json_object_get(res, "result_type")), "vector");
	cr_expect_eq(json_integer_value(json_object_get(res, "count")), 2);
	s = json_array_get(json_object_get(res, "series"), 0);
	cr_expect_str_eq(json_string_value(http_json_get(s, "metric.job")), "api");
	cr_expect(json_is_number(json_array_get(json_object_get(s, "value"), 0)));
	cr_expect(json_is_real(json_array_get(json_object_get(s, "value"), 1)), "value not a number");
	cr_expect_eq(json_array_size(json_object_get(res, "warnings")), 1);
	json_decref(res);
	e = fake_entry(&F, -1);
	cr_expect_str_eq(json_string_value(json_object_get(e, "method")), "GET");
	cr_expect_str_eq(json_string_value(json_object_get(e, "route")), "/api/v1/query");
	cr_expect_str_eq(q1(e, "query"), PROMQL_RAW);
	cr_expect_str_eq(q1(e, "time"), "2026-11-05T10:00:00+01:00");
	cr_expect_str_eq(q1(e, "limit"), "2");
	cr_expect_str_eq(json_string_value(http_json_get(e, "headers.authorization")), "Bearer " TOKEN);
	json_decref(e);
	assert_no_violations();
}

Test(prometheus, scalar_nan_and_inf)
{
	struct tool_err err;
	json_t *res, *s;

	cr_assert_eq(call("query", "{\"query\":\"scalar(up)\"}", &res, &err), 0, "%s", err.text);
	cr_expect_str_eq(json_string_value(json_object_get(res, "result_type")), "scalar");
	cr_expect_eq(json_real_value(json_array_get(json_object_get(res, "value"), 1)), 42.0);
	json_decref(res);
	cr_assert_eq(call("query", "{\"query\":\"nan_metric\"}", &res, &err), 0, "%s", err.text);
	s = json_object_get(res, "series");
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(json_array_get(s, 0),
	    "value"), 1)), "NaN");
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(json_array_get(s, 1),
	    "value"), 1)), "+Inf");
	json_decref(res);
	assert_no_violations();
}

Test(prometheus, long_promql_goes_as_a_form_post)
{
	char *q = malloc(9000), *args;
	struct tool_err err;
	json_t *res, *e, *a;
	size_t n = 0;

	/* up + up + ... with a label matcher holding characters a form must encode */
	while (n < 8000)
		n += (size_t)sprintf(q + n, "up{job=~\"a|b&c=d+e\"} + ");
	strcpy(q + n, "1");
	a = json_pack("{s:s, s:s}", "query", q, "time", "1700000000.5");
	args = json_dumps(a, JSON_COMPACT);
	cr_assert_eq(call("query", args, &res, &err), 0, "%s", err.text);
	cr_expect_eq(json_integer_value(json_object_get(res, "count")), 3);
	json_decref(res);
	e = fake_entry(&F, -1);
	cr_expect_str_eq(json_string_value(json_object_get(e, "method")), "POST");
	cr_expect_str_eq(json_string_value(json_object_get(e, "route")), "/api/v1/query");
	cr_expect_str_eq(json_string_value(http_json_get(e, "headers.content-type")),
	    "application/x-www-form-urlencoded");
	cr_expect_eq(json_object_size(json_object_get(e, "query")), 0, "parameters in the URL");
	cr_expect_not_null(strstr(json_string_value(json_object_get(e, "body")),
	    "time=1700000000.5"));
	cr_expect_not_null(strstr(json_string_value(json_object_get(e, "body")),
	    "a%7Cb%26c%3Dd%2Be"));
	json_decref(e);
	json_decref(a);
	free(args);
	free(q);
	assert_no_violations();
}

Test(prometheus, range_query_and_caps)
{
	struct tool_err err;
	json_t *res, *s, *e;

	cr_assert_eq(call("query_range", "{\"query\":\"up\",\"start\":\"1700000000\",\"end\":"
	    "\"1700000600\",\"step\":\"1m\"}", &res, &err), 0, "%s", err.text);
	cr_expect_str_eq(json_string_value(json_object_get(res, "result_type")), "matrix");
	s = json_array_get(json_object_get(res, "series"), 0);
	cr_expect_eq(json_integer_value(json_object_get(s, "points")), 11);
	cr_expect_eq(json_array_size(json_object_get(s, "values")), 11);
	cr_expect_eq(json_real_value(json_array_get(json_array_get(json_object_get(s, "values"), 1),
	    0)), 1700000060.0);
	cr_expect(json_is_false(json_object_get(res, "truncated")));
	json_decref(res);
	e = fake_entry(&F, -1);
	cr_expect_str_eq(json_string_value(json_object_get(e, "route")), "/api/v1/query_range");
	cr_expect_str_eq(q1(e, "step"), "1m");
	json_decref(e);
	/* caps: series and points per series */
	cr_assert_eq(call("query_range", "{\"query\":\"many\",\"start\":\"2026-11-05T10:00:00Z\","
	    "\"end\":\"2026-11-05T11:00:00Z\",\"step\":\"15s\",\"max_series\":5,\"max_points\":10}",
	    &res, &err), 0, "%s", err.text);
	cr_expect_eq(json_integer_value(json_object_get(res, "count")), 300);
	cr_expect_eq(json_array_size(json_object_get(res, "series")), 5);
	s = json_array_get(json_object_get(res, "series"), 0);
	cr_expect_eq(json_integer_value(json_object_get(s, "points")), 241);
	cr_expect_eq(json_array_size(json_object_get(s, "values")), 10);
	cr_expect(json_is_true(json_object_get(res, "truncated")));
	json_decref(res);
	assert_no_violations();
}

struct bad_case {
	const char *args;
	const char *needle;
};

Test(prometheus, bad_ranges_and_times_are_refused_before_asking)
{
	const struct bad_case cases[] = {
		{ "{\"query\":\"up\",\"start\":\"0\",\"end\":\"86400\",\"step\":\"1\"}", "11,000" },
		{ "{\"query\":\"up\",\"start\":\"100\",\"end\":\"50\",\"step\":\"1s\"}", "before start" },
		{ "{\"query\":\"up\",\"start\":\"yesterday\",\"end\":\"50\",\"step\":\"1s\"}", "start" },
		{ "{\"query\":\"up\",\"start\":\"1\",\"end\":\"50\",\"step\":\"1 s\"}", "step" },
		{ "{\"query\":\"up\",\"start\":\"1\",\"end\":\"50\",\"step\":\"0\"}", "step" },
		{ "{\"query\":\"up\",\"start\":\"1\",\"end\":\"50&x=1\",\"step\":\"1s\"}", "end" },
		{ "{\"query\":\"up\",\"end\":\"50\",\"step\":\"1s\"}", "start" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tool_err err;
		json_t *res;

		cr_expect_eq(call("query_range", cases[i].args, &res, &err), ERR_SCHEMA, "case %zu", i);
		cr_expect_not_null(strstr(err.text, cases[i].needle), "case %zu: %s", i, err.text);
	}
	cr_expect_eq(fake_count(&F), 0);
}

Test(prometheus, api_errors_carry_error_type_and_message)
{
	struct tool_err err;
	json_t *res;

	cr_expect_eq(call("query", "{\"query\":\"bad(\"}", &res, &err), ERR_HTTP);
	cr_expect_eq(err.http_status, 400);
	cr_expect_not_null(strstr(err.text, "bad_data: invalid parameter \"query\""), "%s", err.text);
	cr_expect(!err.retryable);
	cr_expect_eq(call("query_range", "{\"query\":\"exec_fail\",\"start\":\"1\",\"end\":\"2\","
	    "\"step\":\"1\"}", &res, &err), ERR_HTTP);
	cr_expect_eq(err.http_status, 422);
	cr_expect_not_null(strstr(err.text, "execution: "), "%s", err.text);
	cr_expect_eq(fake_count(&F), 2, "a 4xx was retried");
	assert_no_violations();
}

static const char *const ops[][2] = {
	{ "query", "{\"query\":\"up\"}" },
	{ "query_range", "{\"query\":\"up\",\"start\":\"1\",\"end\":\"60\",\"step\":\"15s\"}" },
};

Test(prometheus, every_error_status)
{
	static const struct { int status, code; } st[] = {
		{ 401, ERR_HTTP }, { 403, ERR_HTTP }, { 404, ERR_NOTFOUND }, { 409, ERR_HTTP },
		{ 415, ERR_HTTP }, { 422, ERR_HTTP }, { 429, ERR_RATE }, { 500, ERR_HTTP },
		{ 503, ERR_HTTP },
	};

	for (size_t i = 0; i < 2; i++)
		for (size_t k = 0; k < sizeof(st) / sizeof(st[0]); k++) {
			char ctl[200];
			struct tool_err err;
			size_t before = fake_count(&F);
			json_t *res;

			snprintf(ctl, sizeof(ctl), "{\"clear\":true,\"modes\":[{\"mode\":\"status\","
			    "\"status\":%d,\"retry_after\":0,\"count\":-1,\"message\":\"scripted\"}]}",
			    st[k].status);
			cr_assert_eq(fake_control(&F, ctl), 0);
			cr_expect_eq(call(ops[i][0], ops[i][1], &res, &err), st[k].code, "%s/%d",
			    ops[i][0], st[k].status);
			cr_expect_eq(err.http_status, st[k].status);
			cr_expect_not_null(strstr(err.text, "scripted"), "%s", err.text);
			cr_expect_eq(fake_count(&F) - before, st[k].status == 429 || st[k].status == 503 ?
			    1 + LIM_HTTP_RETRIES : 1, "%s/%d", ops[i][0], st[k].status);
		}
	cr_assert_eq(fake_control(&F, "{\"clear\":true}"), 0);
	assert_no_violations();
}

Test(prometheus, transport_failures)
{
	/* 1 s: the fake must get its 9 MB answer out in time on a loaded machine (at 200 ms
	 * the oversize case timed out before a byte came); the hang outlasts it */
	H.endpoint_extra = json_pack("{s:i}", "timeout_ms", 1000);
	for (size_t i = 0; i < 2; i++) {
		static const struct { const char *ctl; int rc; } m[] = {
			{ "{\"clear\":true,\"modes\":[{\"mode\":\"hang\",\"seconds\":3}]}", ERR_TIMEOUT },
			{ "{\"clear\":true,\"modes\":[{\"mode\":\"slow\",\"chunk\":4,\"delay_ms\":100}]}",
			  ERR_TIMEOUT },
			{ "{\"clear\":true,\"modes\":[{\"mode\":\"close\",\"count\":-1}]}", ERR_CLOSED },
			{ "{\"clear\":true,\"modes\":[{\"mode\":\"oversize\",\"size\":9000000}]}", ERR_TOOBIG },
			{ "{\"clear\":true,\"modes\":[{\"mode\":\"malformed\"}]}", ERR_PROTO },
			{ "{\"clear\":true,\"modes\":[{\"mode\":\"close\",\"count\":1}]}", 0 },
			{ "{\"clear\":true,\"modes\":[{\"mode\":\"status\",\"status\":429,\"retry_after\":0}]}", 0 },
		};

		for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
			struct tool_err err;
			json_t *res;
			int r;

			cr_assert_eq(fake_control(&F, m[k].ctl), 0);
			r = call(ops[i][0], ops[i][1], &res, &err);
			cr_expect_eq(r, m[k].rc, "%s/%zu: %s %s", ops[i][0], k, err_name(r), err.text);
			json_decref(res);
		}
	}
}

Test(prometheus, query_values_cannot_escape)
{
	const char *vals[] = { "up&time=1", "up#frag", "up\r\nX-Evil: 1", "up?x=y", "a%20b",
	    "up/../../admin", "\xc3\xa9t\xc3\xa9" };

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		json_t *args = json_pack("{s:s}", "query", vals[i]), *res, *e;
		struct tool_err err;
		char verr[128];

		/* CR/LF are allowed in PromQL (multiline); they are encoded like the rest */
		cr_assert_eq(tool_args_validate(tool_op_find(&tool_fam_prometheus, "query"), args, verr,
		    sizeof(verr)), 0, "%s", verr);
		cr_assert_eq(harness_call_unchecked(&H, &tool_fam_prometheus, "query", args, &res, &err),
		    0, "case %zu: %s", i, err.text);
		json_decref(res);
		json_decref(args);
		e = fake_entry(&F, -1);
		cr_expect_str_eq(json_string_value(json_object_get(e, "route")), "/api/v1/query");
		cr_expect_str_eq(q1(e, "query"), vals[i], "case %zu", i);
		cr_expect_eq(json_object_size(json_object_get(e, "query")), 1, "case %zu", i);
		cr_expect_null(http_json_get(e, "headers.x-evil"));
		json_decref(e);
	}
	assert_no_violations();
}

Test(prometheus, proxy_token_never_comes_back)
{
	struct tool_err err;
	json_t *res;

	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"echo_auth\"}]}"), 0);
	cr_assert_eq(call("query", "{\"query\":\"up\"}", &res, &err), 0, "%s", err.text);
	cr_expect_not_null(json_object_get(res, "warnings"));
	cr_expect(!harness_leaks(res, &err, "9f8e7d6c5b4a"), "token in result");
	json_decref(res);
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"echo_auth\",\"status\":500,"
	    "\"message\":\"oops\"}]}"), 0);
	cr_expect_eq(call("query", "{\"query\":\"up\"}", &res, &err), ERR_HTTP);
	cr_expect(!harness_leaks(NULL, &err, "9f8e7d6c5b4a"), "token in error: %s", err.text);
	/* Without a secret no Authorization header is sent at all. */
	H.secret = NULL;
	cr_assert_eq(call("query", "{\"query\":\"up\"}", &res, &err), 0);
	json_decref(res);
	json_t *e = fake_entry(&F, -1);

	cr_expect_null(http_json_get(e, "headers.authorization"));
	json_decref(e);
}
