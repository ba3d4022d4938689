/* The HTTP client (tools/http.c) and the request builders (tools/httpreq.c) against the generic
 * loopback fake tests/fakes/fake_http.py: encoding, exact headers, statuses, retries, timeouts,
 * caps, redirects, pagination, credential scrubbing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/tools/harness.h"
#include "tools/http.h"

static struct fake F;
static struct http_client *C;
static struct http_endpoint EP;

static void
setup(void)
{
	cr_assert_eq(fake_start(&F, "fake_http.py", NULL), 0, "fake did not start");
	cr_assert_eq(http_client_new(NULL, NULL, &C), 0);
	memset(&EP, 0, sizeof(EP));
	EP.name = "fake";
	EP.url = F.url;
	EP.timeout_ms = 5000;
}

static void
teardown(void)
{
	http_client_free(C);
	fake_stop(&F);
}

/* GET path (literal) with the given flags; returns rc. */
static int
get(const char *path, unsigned flags, struct http_resp *resp, struct tool_err *err)
{
	struct http_req req;

	http_req_init(&req, "GET");
	cr_assert_eq(http_path_add(&req, path), 0);
	req.flags = flags;
	return http_client_do(C, &EP, &req, harness_now_ms() + 8000, resp, err);
}

static json_t *
body_json(const struct http_resp *r)
{
	json_t *j = NULL;
	struct tool_err e;

	cr_assert_eq(http_resp_json(r, &j, &e), 0, "body not JSON: %s", e.text);
	return j;
}

/* ---------------------------------------------------------------- pure builders */

struct seg_case {
	const char *in;
	int rc;
	const char *out;
};

Test(http_build, path_segments_encode_or_refuse)
{
	static char longseg[3000];
	const struct seg_case cases[] = {
		{ "guestbook", 0, "/api/guestbook" },
		{ "../x", 0, "/api/..%2Fx" },
		{ "%2e%2e", 0, "/api/%252e%252e" },
		{ "a?b#c", 0, "/api/a%3Fb%23c" },
		{ "a\r\nX-Evil: 1", 0, "/api/a%0D%0AX-Evil%3A%201" },
		{ "\xff\xfe", 0, "/api/%FF%FE" },
		{ "sp ace+plus", 0, "/api/sp%20ace%2Bplus" },
		{ "..", ERR_SCHEMA, "/api" },
		{ ".", ERR_SCHEMA, "/api" },
		{ "", ERR_SCHEMA, "/api" },
		{ longseg, ERR_TOOBIG, "/api" },
	};

	memset(longseg, 'a', sizeof(longseg) - 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_req req;

		http_req_init(&req, "GET");
		cr_assert_eq(http_path_add(&req, "/api"), 0);
		cr_expect_eq(http_path_seg(&req, cases[i].in), cases[i].rc, "case %zu", i);
		cr_expect_str_eq(req.path, cases[i].out, "case %zu", i);
	}
}

Test(http_build, multi_segment_paths_and_literals)
{
	struct http_req req;

	http_req_init(&req, "GET");
	cr_assert_eq(http_path_segs(&req, "group/sub/proj"), 0);
	cr_expect_str_eq(req.path, "/group/sub/proj");
	http_req_init(&req, "GET");
	cr_expect_eq(http_path_segs(&req, "a/../b"), ERR_SCHEMA);
	cr_expect_str_eq(req.path, "");
	cr_expect_eq(http_path_segs(&req, "a//b"), ERR_SCHEMA);
	cr_expect_eq(http_path_add(&req, "/x?y"), ERR_SCHEMA);
	cr_expect_eq(http_path_add(&req, "no-slash"), ERR_SCHEMA);
}

Test(http_build, headers_and_credentials)
{
	struct http_req req;

	http_req_init(&req, "GET");
	cr_expect_eq(http_header_add(&req, "X-A", "a\r\nB: c"), ERR_SCHEMA);
	cr_expect_eq(http_header_add(&req, "X-A\r\n", "v"), ERR_SCHEMA);
	cr_expect_eq(http_header_add(&req, "X:A", "v"), ERR_SCHEMA);
	cr_expect_eq(http_header_add(&req, "X-Ok", "v\tw"), 0);
	cr_expect_eq(http_cred_add(&req, "Authorization", "Bearer ", "tok\nen"), ERR_SCHEMA);
	cr_expect_eq(http_cred_add(&req, "Authorization", "Bearer ", ""), ERR_MISSING);
	cr_assert_eq(http_cred_basic(&req, "user:pass"), 0);
	cr_expect_str_eq(req.cred_headers[0].value, "Basic dXNlcjpwYXNz");
	cr_assert_eq(http_cred_add(&req, "PRIVATE-TOKEN", NULL, "glpat-x"), 0);
	cr_expect_str_eq(req.cred_headers[1].name, "PRIVATE-TOKEN");
	cr_expect_eq(http_cred_add(&req, "X-Third", NULL, "s"), ERR_TOOBIG);
	http_req_wipe(&req);
	cr_expect_eq(req.ncred, 0);
	for (size_t i = 0; i < sizeof(req.credbuf); i++)
		cr_assert_eq(req.credbuf[i], 0);
}

struct msg_case {
	const char *body;
	const char *want;
};

Test(http_build, api_error_messages)
{
	const struct msg_case cases[] = {
		{ "{\"error\":\"app not found\",\"code\":5,\"message\":\"app not found\"}", "app not found" },
		{ "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"parse error\"}",
		  "bad_data: parse error" },
		{ "{\"message\":\"Bad credentials\",\"documentation_url\":\"x\"}", "Bad credentials" },
		{ "{\"error\":\"invalid_token\",\"error_description\":\"expired\"}", "invalid_token" },
		{ "<html>\n<body>oops</body>", "<html>" },
		{ "line one\x01\nline two", "line one " },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[128];

		http_api_message(cases[i].body, strlen(cases[i].body), out, sizeof(out));
		cr_expect_str_eq(out, cases[i].want, "case %zu", i);
	}
}

Test(http_build, link_header_and_pager_stay_on_endpoint)
{
	struct http_kv hv[1] = { { "link", NULL } };
	struct http_resp resp = { .headers = hv, .nheaders = 1 };
	struct http_pager pg = { 0 };
	struct http_req req;
	char out[256];

	cr_expect_eq(http_link_next("<https://h/x?page=2>; rel=\"next\", <https://h/x?page=9>; rel=\"last\"",
	    out, sizeof(out)), 1);
	cr_expect_str_eq(out, "https://h/x?page=2");
	cr_expect_eq(http_link_next("<https://h/x?page=1>; rel=\"prev\"", out, sizeof(out)), 0);

	http_req_init(&req, "GET");
	hv[0].value = "<https://api.example.com/base/repos/o/r/runs?per_page=100&page=2&q=a%20b>; rel=\"next\"";
	cr_assert_eq(http_page_next(&pg, "https://api.example.com/base", &resp, &req), 1);
	cr_expect_str_eq(req.path, "/repos/o/r/runs");
	cr_assert_eq(req.nquery, 3);
	cr_expect_str_eq(req.query[2].name, "q");
	cr_expect_str_eq(req.query[2].value, "a b");

	const char *foreign[] = {
		"<https://evil.example.com/base/x?page=2>; rel=\"next\"",
		"<http://api.example.com/base/x?page=2>; rel=\"next\"",
		"<https://api.example.com:444/base/x?page=2>; rel=\"next\"",
		"<https://api.example.com/other/x?page=2>; rel=\"next\"",
		"<https://api.example.com/base/../admin?page=2>; rel=\"next\"",
		"<https://api.example.com.evil.com/base/x>; rel=\"next\"",
	};
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		memset(&pg, 0, sizeof(pg));
		hv[0].value = foreign[i];
		cr_expect_eq(http_page_next(&pg, "https://api.example.com/base", &resp, &req),
		    ERR_EGRESS, "case %zu", i);
	}
}

/* ---------------------------------------------------------------- against the fake */

TestSuite(http_client, .init = setup, .fini = teardown, .timeout = 30);

Test(http_client, get_sends_user_agent_and_encodes_query)
{
	const char *nasty = "a b&c=d/\xc3\xa9?#%\r\n+";
	struct http_resp resp;
	struct tool_err err;
	struct http_req req;
	json_t *j;

	http_req_init(&req, "GET");
	cr_assert_eq(http_path_add(&req, "/v1/echo"), 0);
	cr_assert_eq(http_query_add(&req, "q", nasty), 0);
	cr_assert_eq(http_query_add_int(&req, "n", -42), 0);
	cr_assert_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0, "%s", err.text);
	cr_expect_eq(resp.status, 200);
	j = body_json(&resp);
	cr_expect_str_eq(json_string_value(json_object_get(j, "user_agent")), "corral/" CORRAL_VERSION);
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(json_object_get(j, "query"),
	    "q"), 0)), nasty);
	cr_expect_str_eq(json_string_value(json_object_get(j, "raw_path")), "/v1/echo");
	cr_expect_not_null(http_resp_header(&resp, "content-type"));
	json_decref(j);
	http_resp_clear(&resp);
	cr_expect_eq(fake_violations(&F, NULL, 0), 0);
}

Test(http_client, path_arguments_never_leave_their_segment)
{
	const char *ids[] = { "../x", "..%2Fx", "%2e%2e", "a?b=c", "a#frag", "a\r\nHost: evil",
	    "x/../../sub", "\xff\xfe", "%00", "' OR 1=1", NULL };
	char longid[1900];

	memset(longid, 'z', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	for (size_t i = 0; ids[i] || i == sizeof(ids) / sizeof(ids[0]) - 1; i++) {
		const char *id = ids[i] ? ids[i] : longid;
		struct http_resp resp;
		struct tool_err err;
		struct http_req req;
		json_t *e;

		http_req_init(&req, "GET");
		cr_assert_eq(http_path_add(&req, "/v1/items"), 0);
		cr_assert_eq(http_path_seg(&req, id), 0, "case %zu", i);
		cr_assert_eq(http_path_add(&req, "/sub"), 0);
		cr_assert_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0, "case %zu: %s", i,
		    err.text);
		http_resp_clear(&resp);
		e = fake_entry(&F, -1);
		cr_assert_not_null(e);
		cr_expect_str_eq(json_string_value(json_object_get(e, "route")), "/v1/items/{id}/sub",
		    "case %zu", i);
		if (ids[i] == NULL || ((unsigned char)id[0] != 0xff))
			cr_expect_str_eq(json_string_value(json_object_get(json_object_get(e, "params"),
			    "id")), id, "case %zu", i);
		json_decref(e);
		if (ids[i] == NULL)
			break;
	}
	cr_expect_eq(fake_violations(&F, NULL, 0), 0);
}

Test(http_client, hand_built_paths_and_headers_are_refused_before_sending)
{
	const char *paths[] = { "/v1/../admin", "/v1/%2e%2e/admin", "/v1/%2E./admin", "/v1/./echo",
	    "/v1/echo?x=1", "/v1/echo#f", "/v1/e cho", "v1/echo", "/v1/echo\r\nX: y" };
	struct http_resp resp;
	struct tool_err err;
	struct http_req req;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		http_req_init(&req, "GET");
		strcpy(req.path, paths[i]);
		cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_SCHEMA, "case %zu", i);
		http_resp_clear(&resp);
	}
	http_req_init(&req, "GET");
	strcpy(req.path, "/v1/echo");
	req.headers[0] = (struct http_kv){ "X-A", "v\r\nHost: evil" };
	req.nheaders = 1;
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_SCHEMA);
	req.headers[0] = (struct http_kv){ "Host", "evil" };
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_SCHEMA);
	req.headers[0] = (struct http_kv){ "Authorization", "Bearer x" };
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_SCHEMA);
	req.nheaders = 0;
	req.method = "TRACE";
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_SCHEMA);
	cr_expect_eq(fake_count(&F), 0, "a refused request reached the server");
}

Test(http_client, endpoint_base_path_and_bad_endpoints)
{
	char url[128];
	struct http_resp resp;
	struct tool_err err;
	json_t *e;
	const char *bad[] = { "ftp://127.0.0.1/", "http://user:pw@127.0.0.1/", "http://127.0.0.1/?x=1",
	    "file:///etc/passwd", "not a url" };

	snprintf(url, sizeof(url), "%s/v1/", F.url);
	EP.url = url;
	cr_assert_eq(get("/echo", 0, &resp, &err), 0, "%s", err.text);
	http_resp_clear(&resp);
	e = fake_entry(&F, -1);
	cr_expect_str_eq(json_string_value(json_object_get(e, "raw_path")), "/v1/echo");
	json_decref(e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EP.url = bad[i];
		cr_expect_eq(get("/echo", 0, &resp, &err), ERR_CONFIG, "case %zu", i);
		http_resp_clear(&resp);
	}
}

Test(http_client, exact_content_type_on_every_non_get)
{
	const char *methods[] = { "POST", "PATCH", "PUT", "DELETE" };

	for (size_t i = 0; i < 4; i++) {
		struct http_resp resp;
		struct tool_err err;
		struct http_req req;
		json_t *j;

		http_req_init(&req, methods[i]);
		cr_assert_eq(http_path_add(&req, "/v1/echo"), 0);
		req.content_type = "application/json";
		if (strcmp(methods[i], "DELETE") != 0) {
			req.body = "{\"a\":1}";
			req.body_len = 7;
		}
		cr_assert_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0, "%s", err.text);
		j = body_json(&resp);
		cr_expect_str_eq(json_string_value(json_object_get(j, "method")), methods[i]);
		cr_expect_str_eq(json_string_value(json_object_get(j, "content_type")),
		    "application/json", "%s", methods[i]);
		cr_expect_str_eq(json_string_value(json_object_get(j, "body")),
		    req.body ? req.body : "");
		json_decref(j);
		http_resp_clear(&resp);
	}
}

struct status_case {
	int status;
	int code;
	bool retryable;
};

Test(http_client, error_statuses_are_structured)
{
	const struct status_case cases[] = {
		{ 400, ERR_HTTP, false }, { 401, ERR_HTTP, false }, { 403, ERR_HTTP, false },
		{ 404, ERR_NOTFOUND, false }, { 409, ERR_HTTP, false }, { 415, ERR_HTTP, false },
		{ 422, ERR_HTTP, false }, { 429, ERR_RATE, true }, { 500, ERR_HTTP, false },
		{ 502, ERR_HTTP, true }, { 503, ERR_HTTP, true }, { 504, ERR_HTTP, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char ctl[256];
		struct http_resp resp;
		struct tool_err err;

		snprintf(ctl, sizeof(ctl), "{\"modes\":[{\"mode\":\"status\",\"status\":%d,"
		    "\"message\":\"why %d\"}]}", cases[i].status, cases[i].status);
		cr_assert_eq(fake_control(&F, ctl), 0);
		/* not idempotent: exactly one request whatever the status */
		cr_expect_eq(get("/v1/echo", 0, &resp, &err), cases[i].code, "status %d", cases[i].status);
		cr_expect_eq(err.http_status, cases[i].status);
		cr_expect_eq(err.code, cases[i].code);
		cr_expect_eq(err.retryable, cases[i].retryable, "status %d", cases[i].status);
		cr_expect_not_null(strstr(err.text, "why"), "API message lost: %s", err.text);
		http_resp_clear(&resp);
	}
	cr_expect_eq(fake_count(&F), sizeof(cases) / sizeof(cases[0]));
}

Test(http_client, idempotent_reads_retry_on_5xx_and_close_mutations_never)
{
	struct http_resp resp;
	struct tool_err err;
	struct http_req req;

	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"status\",\"status\":503,\"count\":2},"
	    "{\"mode\":\"close\",\"count\":1}]}"), 0);
	cr_expect_eq(get("/v1/echo", HTTP_F_IDEMPOTENT, &resp, &err), 0, "%s", err.text);
	cr_expect_eq(resp.status, 200);
	http_resp_clear(&resp);
	cr_expect_eq(fake_count(&F), 4);

	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"status\",\"status\":503,\"count\":1}]}"), 0);
	http_req_init(&req, "POST");
	cr_assert_eq(http_path_add(&req, "/v1/echo"), 0);
	req.content_type = "application/json";
	req.flags = 0;
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_HTTP);
	cr_expect_eq(err.http_status, 503);
	http_resp_clear(&resp);
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"close\",\"count\":1}]}"), 0);
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_CLOSED, "%s", err.text);
	cr_expect(err.retryable);
	http_resp_clear(&resp);
	cr_expect_eq(fake_count(&F), 6, "a mutating call was retried");
}

Test(http_client, retries_are_bounded)
{
	struct http_resp resp;
	struct tool_err err;

	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"status\",\"status\":502,\"count\":-1}]}"), 0);
	cr_expect_eq(get("/v1/echo", HTTP_F_IDEMPOTENT, &resp, &err), ERR_HTTP);
	cr_expect_eq(err.http_status, 502);
	http_resp_clear(&resp);
	cr_expect_eq(fake_count(&F), 1 + LIM_HTTP_RETRIES);
}

Test(http_client, retry_after_is_honoured_and_capped)
{
	struct http_resp resp;
	struct tool_err err;
	int64_t t0;

	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"status\",\"status\":429,\"retry_after\":1}]}"), 0);
	t0 = harness_now_ms();
	cr_expect_eq(get("/v1/echo", HTTP_F_IDEMPOTENT, &resp, &err), 0, "%s", err.text);
	cr_expect_geq(harness_now_ms() - t0, 950, "Retry-After: 1 not honoured");
	http_resp_clear(&resp);
	cr_expect_eq(fake_count(&F), 2);

	/* A wait beyond the cap is not waited for: the caller gets the 429 at once. */
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"status\",\"status\":429,\"retry_after\":3600}]}"), 0);
	t0 = harness_now_ms();
	cr_expect_eq(get("/v1/echo", HTTP_F_IDEMPOTENT, &resp, &err), ERR_RATE);
	cr_expect_lt(harness_now_ms() - t0, 1000);
	cr_expect(err.retryable);
	http_resp_clear(&resp);
	/* Rate-limit reset headers (GitHub): remaining 0, reset in 1 s. */
	char ctl[256];

	snprintf(ctl, sizeof(ctl), "{\"modes\":[{\"mode\":\"status\",\"status\":403,\"headers\":"
	    "{\"x-ratelimit-remaining\":\"0\",\"x-ratelimit-reset\":\"%lld\"}}]}",
	    (long long)time(NULL) + 1);
	cr_assert_eq(fake_control(&F, ctl), 0);
	cr_expect_eq(get("/v1/echo", HTTP_F_IDEMPOTENT, &resp, &err), ERR_HTTP);
	cr_expect_eq(err.http_status, 403, "403 is not retried");
	http_resp_clear(&resp);
	cr_expect_eq(fake_count(&F), 4);
}

Test(http_client, timeouts_hang_and_trickle)
{
	struct http_resp resp;
	struct tool_err err;
	int64_t t0;

	EP.timeout_ms = 600;
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"hang\",\"seconds\":5}]}"), 0);
	t0 = harness_now_ms();
	cr_expect_eq(get("/v1/echo", 0, &resp, &err), ERR_TIMEOUT, "%s", err.text);
	cr_expect_lt(harness_now_ms() - t0, 2000);
	http_resp_clear(&resp);

	/* A body sent 8 bytes every 100 ms outlasts the total timeout even though bytes flow. */
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"slow\",\"chunk\":8,\"delay_ms\":100}]}"), 0);
	t0 = harness_now_ms();
	cr_expect_eq(get("/v1/echo", 0, &resp, &err), ERR_TIMEOUT, "%s", err.text);
	cr_expect_lt(harness_now_ms() - t0, 2000);
	http_resp_clear(&resp);

	/* Slow but within the timeout: fine. */
	EP.timeout_ms = 5000;
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"slow\",\"chunk\":64,\"delay_ms\":20}]}"), 0);
	cr_expect_eq(get("/v1/echo", 0, &resp, &err), 0, "%s", err.text);
	http_resp_clear(&resp);

	/* The call deadline bounds everything, retries included. */
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"hang\",\"seconds\":5,\"count\":-1}]}"), 0);
	struct http_req req;

	http_req_init(&req, "GET");
	cr_assert_eq(http_path_add(&req, "/v1/echo"), 0);
	req.flags = HTTP_F_IDEMPOTENT;
	t0 = harness_now_ms();
	cr_expect_eq(http_client_do(C, &EP, &req, t0 + 700, &resp, &err), ERR_TIMEOUT);
	cr_expect_lt(harness_now_ms() - t0, 1500);
	http_resp_clear(&resp);
	cr_expect_eq(http_client_do(C, &EP, &req, t0 - 1, &resp, &err), ERR_TIMEOUT);
	http_resp_clear(&resp);
}

Test(http_client, bodies_are_capped)
{
	struct http_resp resp;
	struct tool_err err;
	struct http_req req;

	http_req_init(&req, "GET");
	cr_assert_eq(http_path_add(&req, "/v1/echo"), 0);
	req.max_body = 64 << 10;
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"oversize\",\"size\":1000000}]}"), 0);
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_TOOBIG, "%s", err.text);
	cr_expect_leq(resp.len, 64 << 10);
	http_resp_clear(&resp);
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"oversize\",\"size\":1000000,\"no_length\":true}]}"), 0);
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_TOOBIG, "%s", err.text);
	cr_expect_leq(resp.len, 64 << 10);
	http_resp_clear(&resp);
	/* Raw bodies (logs) are cut at the cap and reported as truncated. */
	req.flags = HTTP_F_RAW;
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"oversize\",\"size\":1000000,\"no_length\":true}]}"), 0);
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0, "%s", err.text);
	cr_expect(resp.truncated);
	cr_expect_eq(resp.len, 64 << 10);
	cr_expect_eq(strlen(resp.body), resp.len);
	http_resp_clear(&resp);
}

Test(http_client, malformed_json_is_an_error)
{
	struct http_resp resp;
	struct tool_err err;
	json_t *j;

	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"malformed\"}]}"), 0);
	cr_assert_eq(get("/v1/echo", 0, &resp, &err), 0);
	cr_expect_eq(http_resp_json(&resp, &j, &err), ERR_PROTO);
	cr_expect_null(j);
	cr_expect_not_null(strstr(err.text, "malformed JSON"));
	http_resp_clear(&resp);
}

Test(http_client, redirects_only_when_asked_and_only_to_allowed_hosts)
{
	char path[256];
	const char *hosts[] = { "localhost", NULL };
	struct http_resp resp;
	struct tool_err err;
	struct http_req req;
	json_t *j;

	/* Not followed without HTTP_F_FOLLOW: a 302 outside the success set is an error... */
	http_req_init(&req, "GET");
	cr_assert_eq(http_path_add(&req, "/v1/redirect"), 0);
	cr_assert_eq(http_query_add(&req, "to", "/v1/echo?a=1"), 0);
	cr_assert_eq(http_cred_add(&req, "Authorization", "Bearer ", "tok-123456"), 0);
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_HTTP);
	cr_expect_eq(err.http_status, 302);
	http_resp_clear(&resp);
	/* ... or a success when the family lists 302, with Location readable. */
	req.ok[0] = 302;
	req.nok = 1;
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0);
	cr_expect_str_eq(http_resp_header(&resp, "location"), "/v1/echo?a=1");
	http_resp_clear(&resp);
	/* Followed on the same host, credentials kept. */
	req.nok = 0;
	req.flags = HTTP_F_FOLLOW;
	cr_assert_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0, "%s", err.text);
	j = body_json(&resp);
	cr_expect(json_is_true(json_object_get(j, "has_auth")));
	cr_expect_not_null(strstr(resp.final_url, "/v1/echo?a=1"));
	json_decref(j);
	http_resp_clear(&resp);
	/* To another host: refused unless allow-listed; credentials never go there. */
	snprintf(path, sizeof(path), "http://localhost:%d/v1/echo", F.port);
	req.query[0].value = path;
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_EGRESS);
	http_resp_clear(&resp);
	EP.redirect_hosts = hosts;
	cr_assert_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0, "%s", err.text);
	j = body_json(&resp);
	cr_expect(json_is_false(json_object_get(j, "has_auth")), "credentials sent to another host");
	json_decref(j);
	http_resp_clear(&resp);
	/* Never to another scheme than http(s). */
	req.query[0].value = "file:///etc/passwd";
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_EGRESS);
	http_resp_clear(&resp);
	/* A redirect loop stops at the cap. */
	req.query[0].value = "/v1/redirect?to=/v1/redirect%3Fto%3D/v1/redirect%253Fto%253D/v1/redirect";
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_PROTO, "%s", err.text);
	http_resp_clear(&resp);
	http_req_wipe(&req);
}

Test(http_client, pagination_by_link_and_next_page)
{
	struct http_pager pg = { .max_pages = 0 };
	struct http_resp resp;
	struct tool_err err;
	struct http_req req;
	size_t items = 0;
	int more;

	http_req_init(&req, "GET");
	cr_assert_eq(http_path_add(&req, "/v1/pages"), 0);
	do {
		json_t *j;

		cr_assert_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0, "%s", err.text);
		j = body_json(&resp);
		items += json_array_size(json_object_get(j, "items"));
		json_decref(j);
		more = http_page_next(&pg, EP.url, &resp, &req);
		http_resp_clear(&resp);
		cr_assert_geq(more, 0);
	} while (more);
	cr_expect_eq(items, 8);
	cr_expect_eq(pg.pages, 4);
	cr_expect(!pg.capped);

	memset(&pg, 0, sizeof(pg));
	pg.max_pages = 2;
	http_req_init(&req, "GET");
	cr_assert_eq(http_path_add(&req, "/v1/gl-pages"), 0);
	cr_assert_eq(http_query_add(&req, "per_page", "2"), 0);
	items = 0;
	do {
		json_t *j;

		cr_assert_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0, "%s", err.text);
		j = body_json(&resp);
		items += json_array_size(j);
		json_decref(j);
		more = http_page_next(&pg, EP.url, &resp, &req);
		http_resp_clear(&resp);
	} while (more == 1);
	cr_expect_eq(items, 4);
	cr_expect(pg.capped);
	cr_expect_eq(fake_violations(&F, NULL, 0), 0);
}

Test(http_client, credentials_never_come_back)
{
	const char *token = "tok/With+Slash.and-long-0123456789";
	struct http_resp resp;
	struct tool_err err;
	struct http_req req;

	http_req_init(&req, "GET");
	cr_assert_eq(http_path_add(&req, "/v1/secret-echo"), 0);
	cr_assert_eq(http_cred_add(&req, "Authorization", "Bearer ", token), 0);
	cr_assert_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0, "%s", err.text);
	cr_expect_null(memmem(resp.body, resp.len, "0123456789", 10), "token echoed: %s", resp.body);
	cr_expect_null(strstr(http_resp_header(&resp, "x-echo"), "0123456789"));
	http_resp_clear(&resp);
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"echo_auth\",\"status\":500,"
	    "\"message\":\"denied for\"}]}"), 0);
	cr_expect_eq(http_client_do(C, &EP, &req, 0, &resp, &err), ERR_HTTP);
	cr_expect_null(strstr(err.text, "0123456789"), "token in error: %s", err.text);
	cr_expect_not_null(strstr(err.text, "denied for"));
	http_resp_clear(&resp);
	http_req_wipe(&req);
}

Test(http_client, head_and_raw_text)
{
	struct http_resp resp;
	struct tool_err err;

	struct http_req req;

	http_req_init(&req, "GET");
	cr_assert_eq(http_path_add(&req, "/v1/text"), 0);
	cr_assert_eq(http_query_add(&req, "n", "5"), 0);
	req.flags = HTTP_F_RAW;
	cr_assert_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0, "%s", err.text);
	cr_expect_eq(resp.len, 35);
	cr_expect_str_eq(http_resp_header(&resp, "content-type"), "text/plain");
	http_resp_clear(&resp);
	req.method = "HEAD";
	http_req_init(&req, "HEAD");
	cr_assert_eq(http_path_add(&req, "/v1/echo"), 0);
	cr_assert_eq(http_client_do(C, &EP, &req, 0, &resp, &err), 0, "%s", err.text);
	cr_expect_eq(resp.len, 0);
	http_resp_clear(&resp);
}
