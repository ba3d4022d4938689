/* The argocd family against tests/fakes/fake_argocd.py, which checks every request against the
 * Argo CD contract (argocd-subset.json + CONTRACTS.md section 2) and records violations. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/tools/harness.h"

extern const struct tool_family tool_fam_argocd;

#define TOKEN "argo-TOKEN-5ec7e7-0123456789abcdef"

static struct fake F;
static struct harness H;

static void
setup(void)
{
	const char *args[] = { "--token", TOKEN, NULL };

	cr_assert_eq(fake_start(&F, "fake_argocd.py", args), 0, "fake did not start");
	cr_assert_eq(harness_init(&H, &F, TOKEN), 0);
}

static void
teardown(void)
{
	harness_fini(&H);
	fake_stop(&F);
}

TestSuite(argocd, .init = setup, .fini = teardown, .timeout = 60);

static int
call(const char *op, const char *args, json_t **res, struct tool_err *err)
{
	return harness_call_msg(&H, &tool_fam_argocd, op, args, res, err);
}

static const char *
s_at(json_t *j, const char *path)
{
	return json_string_value(http_json_get(j, path));
}

static void
assert_no_violations(void)
{
	char buf[1024];

	cr_assert_eq(fake_violations(&F, buf, sizeof(buf)), 0, "contract violations: %s", buf);
}

/* The logged request i: method, route template, and (optionally) one query value. */
static json_t *
logged(int i, const char *method, const char *route)
{
	json_t *e = fake_entry(&F, i);

	cr_assert_not_null(e, "no request %d in the fake's log", i);
	cr_expect_str_eq(json_string_value(json_object_get(e, "method")), method);
	cr_expect_str_eq(json_string_value(json_object_get(e, "route")), route);
	return e;
}

static const char *
q1(json_t *e, const char *k)
{
	return json_string_value(json_array_get(json_object_get(json_object_get(e, "query"), k), 0));
}

static json_t *
body_of(json_t *e)
{
	json_t *b = json_loads(json_string_value(json_object_get(e, "body")), 0, NULL);

	cr_assert_not_null(b, "request body is not JSON");
	return b;
}

/* ---------------------------------------------------------------- every op, success */

struct op_case {
	const char *op;
	const char *args;
	const char *method;
	const char *route;
	const char *check;	/* a dotted path in the result that must be a string */
	const char *want;	/* its value, or NULL for "any string" */
};

static const struct op_case ok_cases[] = {
	{ "get_application", "{\"app_name\":\"guestbook\"}", "GET", "/api/v1/applications/{name}",
	  "sync.status", "Synced" },
	{ "list_applications", "{\"selector\":\"env=prod\"}", "GET", "/api/v1/applications",
	  NULL, NULL },
	{ "sync_application", "{\"app_name\":\"guestbook\",\"revision\":\"v1.2.3\",\"prune\":true,"
	  "\"force\":true}", "POST", "/api/v1/applications/{name}/sync", "application.operation.phase",
	  "Running" },
	{ "get_sync_status", "{\"app_name\":\"busy\"}", "GET", "/api/v1/applications/{name}",
	  "operation.phase", "Running" },
	{ "get_resources", "{\"app_name\":\"guestbook\"}", "GET",
	  "/api/v1/applications/{applicationName}/resource-tree", NULL, NULL },
	{ "rollback_application", "{\"app_name\":\"guestbook\"}", "POST",
	  "/api/v1/applications/{name}/rollback", "target.revision", NULL },
	{ "terminate_sync", "{\"app_name\":\"busy\"}", "DELETE",
	  "/api/v1/applications/{name}/operation", "name", "busy" },
	{ "patch_application", "{\"app_name\":\"guestbook\",\"patch_data\":{\"spec\":{\"source\":"
	  "{\"targetRevision\":\"v2\"}}}}", "PATCH", "/api/v1/applications/{name}",
	  "application.source.target_revision", "v2" },
	{ "get_manifest", "{\"app_name\":\"guestbook\",\"revision\":\"abc123\"}", "GET",
	  "/api/v1/applications/{name}/manifests", "revision", "abc123" },
	{ "get_logs", "{\"app_name\":\"guestbook\",\"resource_name\":\"guestbook\",\"resource_kind\":"
	  "\"Deployment\",\"resource_group\":\"apps\",\"resource_namespace\":\"guestbook-prod\","
	  "\"container\":\"app\"}",
	  "GET", "/api/v1/applications/{name}/logs", NULL, NULL },
};

#define NOPS (sizeof(ok_cases) / sizeof(ok_cases[0]))

Test(argocd, every_op_succeeds_within_the_contract)
{
	for (size_t i = 0; i < NOPS; i++) {
		const struct op_case *c = &ok_cases[i];
		struct tool_err err;
		json_t *res, *e;
		int r;

		r = call(c->op, c->args, &res, &err);
		cr_assert_eq(r, 0, "%s: %s (%s)", c->op, err.text, err_name(r));
		cr_assert_not_null(res);
		if (c->check) {
			cr_expect_not_null(s_at(res, c->check), "%s: no %s", c->op, c->check);
			if (c->want && s_at(res, c->check))
				cr_expect_str_eq(s_at(res, c->check), c->want, "%s", c->op);
		}
		cr_expect(!harness_leaks(res, &err, TOKEN));
		e = logged(-1, c->method, c->route);
		cr_expect_str_eq(json_string_value(http_json_get(e, "headers.authorization")),
		    "Bearer " TOKEN);
		json_decref(e);
		json_decref(res);
	}
	assert_no_violations();
}

/* Each managed object's own sync status (status.resources) is in the shaped application: what
 * drift-detector names in its report. */
Test(argocd, application_resources_with_sync_status)
{
	struct tool_err err;
	json_t *res, *r;

	cr_assert_eq(fake_control(&F, "{\"state\": {\"apps\": {\"argocd/guestbook\": {\"status\": "
	    "{\"sync\": {\"status\": \"OutOfSync\"}, \"resources\": [{\"version\": \"v1\", "
	    "\"kind\": \"ConfigMap\", \"namespace\": \"gb\", \"name\": \"gb-config\", "
	    "\"status\": \"OutOfSync\", \"health\": {\"status\": \"Healthy\"}}, {\"group\": "
	    "\"apps\", \"version\": \"v1\", \"kind\": \"Deployment\", \"namespace\": \"gb\", "
	    "\"name\": \"gb\", \"status\": \"Synced\", \"requiresPruning\": true}]}}}}}"), 0);
	cr_assert_eq(call("get_application", "{\"app_name\":\"guestbook\"}", &res, &err), 0, "%s",
	    err.text);
	cr_expect_str_eq(s_at(res, "sync.status"), "OutOfSync");
	cr_assert_eq(json_array_size(json_object_get(res, "resources")), 2);
	r = json_array_get(json_object_get(res, "resources"), 0);
	cr_expect_str_eq(s_at(r, "kind"), "ConfigMap");
	cr_expect_str_eq(s_at(r, "name"), "gb-config");
	cr_expect_str_eq(s_at(r, "status"), "OutOfSync");
	cr_expect_str_eq(s_at(r, "health"), "Healthy");
	cr_expect(json_is_null(json_object_get(r, "group")));
	r = json_array_get(json_object_get(res, "resources"), 1);
	cr_expect_str_eq(s_at(r, "group"), "apps");
	cr_expect(json_is_true(json_object_get(r, "requires_pruning")));
	json_decref(res);
}

Test(argocd, shaped_results_are_compact_and_complete)
{
	struct tool_err err;
	json_t *res, *e;

	cr_assert_eq(call("get_application", "{\"app_name\":\"auto-app\"}", &res, &err), 0, "%s",
	    err.text);
	cr_expect_str_eq(s_at(res, "name"), "auto-app");
	cr_expect_str_eq(s_at(res, "namespace"), "argocd");
	cr_expect_str_eq(s_at(res, "project"), "default");
	cr_expect_str_eq(s_at(res, "health.status"), "Healthy");
	cr_expect(json_is_true(json_object_get(res, "auto_sync")));
	cr_expect_eq(json_array_size(json_object_get(res, "history")), 2);
	cr_expect_eq(json_integer_value(http_json_get(json_array_get(json_object_get(res,
	    "history"), 1), "id")), 2);
	cr_expect_null(json_object_get(res, "spec"), "raw dump instead of a shaped result");
	json_decref(res);
	e = logged(-1, "GET", "/api/v1/applications/{name}");
	cr_expect_str_eq(q1(e, "appNamespace"), "argocd");
	json_decref(e);

	cr_assert_eq(call("list_applications", "{\"selector\":\"env=prod\"}", &res, &err), 0);
	cr_expect_eq(json_integer_value(json_object_get(res, "count")), 2);
	cr_expect_str_eq(s_at(json_array_get(json_object_get(res, "applications"), 0), "name"),
	    "auto-app");
	json_decref(res);
	e = logged(-1, "GET", "/api/v1/applications");
	cr_expect_str_eq(q1(e, "selector"), "env=prod");
	json_decref(e);

	cr_assert_eq(call("get_resources", "{\"app_name\":\"guestbook\",\"resource_kind\":\"Pod\"}", &res,
	    &err), 0);
	cr_expect_eq(json_integer_value(json_object_get(res, "count")), 1);
	cr_expect_str_eq(s_at(json_array_get(json_object_get(res, "nodes"), 0), "health_message"),
	    "CrashLoopBackOff");
	cr_expect_str_eq(s_at(json_array_get(json_object_get(res, "nodes"), 0), "parent.kind"),
	    "ReplicaSet");
	json_decref(res);

	cr_assert_eq(call("get_manifest", "{\"app_name\":\"guestbook\"}", &res, &err), 0);
	cr_expect_eq(json_integer_value(json_object_get(res, "count")), 2);
	cr_expect_str_eq(s_at(json_array_get(json_object_get(res, "manifests"), 0), "kind"),
	    "Deployment");
	cr_expect_eq(json_integer_value(http_json_get(json_array_get(json_object_get(res,
	    "manifests"), 0), "manifest.spec.replicas")), 2);
	json_decref(res);

	cr_assert_eq(call("get_logs", "{\"app_name\":\"guestbook\",\"tail_lines\":3}", &res, &err), 0);
	cr_expect_eq(json_integer_value(json_object_get(res, "count")), 3);
	cr_expect_str_eq(s_at(json_array_get(json_object_get(res, "lines"), 2), "text"), "line 4");
	json_decref(res);
	e = logged(-1, "GET", "/api/v1/applications/{name}/logs");
	cr_expect_str_eq(q1(e, "follow"), "false");
	cr_expect_str_eq(q1(e, "tailLines"), "3");
	json_decref(e);
	/* the workload's namespace is "namespace"; the Application's is "appNamespace" */
	cr_assert_eq(call("get_logs", "{\"app_name\":\"team-app\",\"app_namespace\":\"team-a\","
	    "\"resource_namespace\":\"team-app-prod\",\"resource_name\":\"web\","
	    "\"resource_kind\":\"Deployment\"}", &res, &err), 0, "%s", err.text);
	json_decref(res);
	e = logged(-1, "GET", "/api/v1/applications/{name}/logs");
	cr_expect_str_eq(q1(e, "namespace"), "team-app-prod");
	cr_expect_str_eq(q1(e, "appNamespace"), "team-a");
	cr_expect_str_eq(q1(e, "kind"), "Deployment");
	cr_expect_str_eq(q1(e, "resourceName"), "web");
	json_decref(e);
	assert_no_violations();
}

/* ---------------------------------------------------------------- failure statuses */

struct st_case {
	int status;
	int code;
};

static const struct st_case st_cases[] = {
	{ 401, ERR_HTTP }, { 403, ERR_HTTP }, { 404, ERR_NOTFOUND }, { 409, ERR_HTTP },
	{ 415, ERR_HTTP }, { 422, ERR_HTTP }, { 429, ERR_RATE }, { 500, ERR_HTTP },
	{ 503, ERR_HTTP },
};

Test(argocd, every_op_reports_every_error_status)
{
	for (size_t i = 0; i < NOPS; i++)
		for (size_t k = 0; k < sizeof(st_cases) / sizeof(st_cases[0]); k++) {
			const struct op_case *c = &ok_cases[i];
			char ctl[256];
			struct tool_err err;
			size_t before = fake_count(&F), sent;
			bool first_get;
			json_t *res;
			int r;

			snprintf(ctl, sizeof(ctl), "{\"clear\":true,\"modes\":[{\"mode\":\"status\","
			    "\"status\":%d,\"retry_after\":0,\"count\":-1,\"message\":\"scripted %d\"}]}",
			    st_cases[k].status, st_cases[k].status);
			cr_assert_eq(fake_control(&F, ctl), 0);
			r = call(c->op, c->args, &res, &err);
			cr_expect_eq(r, st_cases[k].code, "%s/%d: %s", c->op, st_cases[k].status,
			    err_name(r));
			cr_expect_eq(err.http_status, st_cases[k].status, "%s", c->op);
			cr_expect_not_null(strstr(err.text, "scripted"), "%s: %s", c->op, err.text);
			cr_expect_null(res);
			/* Reads are retried on 429/503; mutations never (rollback reads first). */
			sent = fake_count(&F) - before;
			first_get = strcmp(c->method, "GET") == 0 ||
			    strcmp(c->op, "rollback_application") == 0;
			cr_expect_eq(sent, first_get &&
			    (st_cases[k].status == 429 || st_cases[k].status == 503) ?
			    1 + LIM_HTTP_RETRIES : 1, "%s/%d sent %zu requests", c->op,
			    st_cases[k].status, sent);
		}
	cr_assert_eq(fake_control(&F, "{\"clear\":true}"), 0);
	assert_no_violations();
}

Test(argocd, retry_after_then_success_for_reads)
{
	struct tool_err err;
	json_t *res;
	int64_t t0 = harness_now_ms();

	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"status\",\"status\":429,"
	    "\"retry_after\":1}]}"), 0);
	cr_assert_eq(call("get_sync_status", "{\"app_name\":\"guestbook\"}", &res, &err), 0, "%s",
	    err.text);
	cr_expect_geq(harness_now_ms() - t0, 950);
	cr_expect_eq(fake_count(&F), 2);
	json_decref(res);
	/* A mutation is not retried, but the caller learns when it may try again. */
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"status\",\"status\":429,"
	    "\"retry_after\":7}]}"), 0);
	cr_expect_eq(call("sync_application", "{\"app_name\":\"guestbook\"}", &res, &err), ERR_RATE);
	cr_expect(err.retryable);
	cr_expect_not_null(strstr(err.text, "retry after 7 s"), "%s", err.text);
	cr_expect_eq(fake_count(&F), 3);
}

Test(argocd, transport_failures_for_every_op)
{
	json_t *ep = json_pack("{s:i}", "timeout_ms", 200);

	H.endpoint_extra = ep;
	H.deadline_ms = 3000;
	for (size_t i = 0; i < NOPS; i++) {
		const struct op_case *c = &ok_cases[i];
		bool first_get = strcmp(c->method, "GET") == 0 ||
		    strcmp(c->op, "rollback_application") == 0;
		struct tool_err err;
		size_t before;
		json_t *res;
		int64_t t0;
		int r;

		/* hang: the server never answers in time; a slow server is not asked again */
		cr_assert_eq(fake_control(&F, "{\"clear\":true,\"modes\":[{\"mode\":\"hang\","
		    "\"seconds\":1,\"count\":-1}]}"), 0);
		t0 = harness_now_ms();
		before = fake_count(&F);
		r = call(c->op, c->args, &res, &err);
		cr_expect_eq(r, ERR_TIMEOUT, "%s hang: %s", c->op, err_name(r));
		cr_expect_lt(harness_now_ms() - t0, 600, "%s", c->op);
		cr_expect_eq(fake_count(&F) - before, 1, "%s", c->op);
		/* slow trickle: bytes keep coming but the body outlasts the timeout */
		cr_assert_eq(fake_control(&F, "{\"clear\":true,\"modes\":[{\"mode\":\"slow\","
		    "\"chunk\":4,\"delay_ms\":100,\"count\":-1}]}"), 0);
		r = call(c->op, c->args, &res, &err);
		cr_expect_eq(r, ERR_TIMEOUT, "%s slow: %s", c->op, err_name(r));
		/* connection closed without an answer: reads recover by retrying, mutations don't */
		cr_assert_eq(fake_control(&F, first_get ?
		    "{\"clear\":true,\"modes\":[{\"mode\":\"close\",\"count\":1}]}" :
		    "{\"clear\":true,\"modes\":[{\"mode\":\"close\",\"count\":-1}]}"), 0);
		before = fake_count(&F);
		r = call(c->op, c->args, &res, &err);
		if (first_get) {
			cr_expect_eq(r, 0, "%s close: %s", c->op, err.text);
			cr_expect_geq(fake_count(&F) - before, 2, "%s", c->op);
		} else {
			cr_expect_eq(r, ERR_CLOSED, "%s close: %s", c->op, err_name(r));
			cr_expect(err.retryable);
			cr_expect_eq(fake_count(&F) - before, 1, "%s was resent", c->op);
		}
		json_decref(res);
	}
	cr_assert_eq(fake_control(&F, "{\"clear\":true}"), 0);
}

Test(argocd, oversize_and_malformed_bodies)
{
	for (size_t i = 0; i < NOPS; i++) {
		const struct op_case *c = &ok_cases[i];
		bool logs = strcmp(c->op, "get_logs") == 0;
		struct tool_err err;
		json_t *res;
		int r;

		cr_assert_eq(fake_control(&F, "{\"clear\":true,\"modes\":[{\"mode\":\"oversize\","
		    "\"size\":9000000,\"no_length\":true}]}"), 0);
		r = call(c->op, c->args, &res, &err);
		if (logs) {	/* a log stream is cut, not refused */
			cr_expect_eq(r, 0, "%s: %s", c->op, err.text);
			cr_expect(json_is_true(json_object_get(res, "truncated")));
		} else {
			cr_expect_eq(r, ERR_TOOBIG, "%s oversize: %s", c->op, err_name(r));
		}
		json_decref(res);
		cr_assert_eq(fake_control(&F, "{\"clear\":true,\"modes\":[{\"mode\":\"malformed\"}]}"), 0);
		r = call(c->op, c->args, &res, &err);
		if (logs) {
			cr_expect_eq(r, 0);
			cr_expect_eq(json_integer_value(json_object_get(res, "count")), 0);
		} else {
			cr_expect_eq(r, ERR_PROTO, "%s malformed: %s", c->op, err_name(r));
			cr_expect_not_null(strstr(err.text, "malformed JSON"));
		}
		json_decref(res);
	}
	cr_assert_eq(fake_control(&F, "{\"clear\":true}"), 0);
}

/* ---------------------------------------------------------------- argument injection */

Test(argocd, hostile_app_names_are_refused_by_the_schema)
{
	const char *names[] = { "..%2F..%2Fsettings", "../settings", "%2e%2e", "a?x=1", "a#b",
	    "a\\r\\nX-Evil: 1", "a\\u0000b", "UPPER", "a/b", "" };
	char args[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct tool_err err;
		json_t *res;
		int r;

		snprintf(args, sizeof(args), "{\"app_name\":\"%s\"}", names[i]);
		r = call("get_application", args, &res, &err);
		cr_expect_eq(r, ERR_SCHEMA, "case %zu accepted", i);
	}
	/* very long, and not UTF-8 */
	char longname[400];

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(args, sizeof(args), "{\"app_name\":\"%s\"}", longname);
	struct tool_err err;
	json_t *res;

	cr_expect_eq(call("get_application", args, &res, &err), ERR_SCHEMA);
	cr_expect_eq(call("get_application", "{\"app_name\":\"a\xff\xfe\"}", &res, &err), ERR_SCHEMA);
	cr_expect_eq(fake_count(&F), 0, "a refused call reached the server");
}

/* Even without the schema (a bug, or a future looser pattern) the request builders keep every
 * argument inside its own path segment or query value: the log shows the route never changes
 * and the server decodes exactly the value given. */
Test(argocd, builders_hold_without_the_schema)
{
	const char *names[] = { "../settings", "..%2F..%2Fsettings", "%2e%2e", "a?project=x",
	    "a#frag", "a\r\nX-Evil: 1", "x/../../version", "a b", "\xff\xfe" };
	const char *ops[][2] = { { "get_application", "/api/v1/applications/{name}" },
	    { "terminate_sync", "/api/v1/applications/{name}/operation" },
	    { "get_manifest", "/api/v1/applications/{name}/manifests" } };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (size_t k = 0; k < 3; k++) {
			json_t *args = json_object(), *res, *e;
			struct tool_err err;
			int r;

			json_object_set_new(args, "app_name", json_stringn_nocheck(names[i],
			    strlen(names[i])));
			json_object_set_new(args, "app_namespace", json_string("argocd&project=p"));
			r = harness_call_unchecked(&H, &tool_fam_argocd, ops[k][0], args, &res, &err);
			cr_expect_neq(r, 0, "%s with %zu: unexpected success", ops[k][0], i);
			json_decref(res);
			json_decref(args);
			e = fake_entry(&F, -1);
			cr_assert_not_null(e);
			cr_expect_str_eq(json_string_value(json_object_get(e, "route")), ops[k][1],
			    "case %zu/%zu went to %s", i, k,
			    json_string_value(json_object_get(e, "raw_path")));
			if ((unsigned char)names[i][0] != 0xff)
				cr_expect_str_eq(json_string_value(http_json_get(e, "params.name")),
				    names[i], "case %zu", i);
			cr_expect_str_eq(q1(e, "appNamespace"), "argocd&project=p");
			cr_expect_null(json_object_get(json_object_get(e, "query"), "project"));
			cr_expect_null(http_json_get(e, "headers.x-evil"));
			json_decref(e);
		}
	cr_expect_eq(fake_count(&F), 27);
}

/* ---------------------------------------------------------------- credentials */

Test(argocd, the_token_never_reaches_results_or_errors)
{
	struct tool_err err;
	json_t *res;

	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"echo_auth\"}]}"), 0);
	cr_assert_eq(call("get_application", "{\"app_name\":\"guestbook\"}", &res, &err), 0, "%s",
	    err.text);
	cr_expect(!harness_leaks(res, &err, TOKEN), "token in result");
	cr_expect(!harness_leaks(res, &err, "0123456789abcdef"), "token part in result");
	cr_expect_not_null(strstr(s_at(res, "health.message"), "********"), "echo did not happen");
	json_decref(res);
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"echo_auth\",\"status\":403,"
	    "\"message\":\"denied for\"}]}"), 0);
	cr_expect_eq(call("sync_application", "{\"app_name\":\"guestbook\"}", &res, &err), ERR_HTTP);
	cr_expect(!harness_leaks(res, &err, "0123456789abcdef"), "token in error: %s", err.text);
	cr_expect_not_null(strstr(err.text, "denied for"));
	/* A wrong token is the server's 401, with its message. */
	H.secret = "wrong-token";
	cr_expect_eq(call("get_application", "{\"app_name\":\"guestbook\"}", &res, &err), ERR_HTTP);
	cr_expect_eq(err.http_status, 401);
	cr_expect_not_null(strstr(err.text, "invalid session"));
}

/* ---------------------------------------------------------------- op semantics */

Test(argocd, not_found_is_403_without_project_and_404_with)
{
	struct tool_err err;
	json_t *res;

	cr_expect_eq(call("get_application", "{\"app_name\":\"nope\"}", &res, &err), ERR_HTTP);
	cr_expect_eq(err.http_status, 403);
	cr_expect_not_null(strstr(err.text, "does not exist"), "%s", err.text);
	cr_expect_eq(call("get_application", "{\"app_name\":\"nope\",\"project\":\"default\"}", &res,
	    &err), ERR_NOTFOUND);
	cr_expect_eq(err.http_status, 404);
	/* Apps outside the control-plane namespace: appNamespace as a query parameter. */
	cr_assert_eq(call("get_application", "{\"app_name\":\"team-app\",\"app_namespace\":\"team-a\"}",
	    &res, &err), 0, "%s", err.text);
	cr_expect_str_eq(s_at(res, "namespace"), "team-a");
	json_decref(res);
	assert_no_violations();
}

Test(argocd, sync_body_and_dry_run)
{
	struct tool_err err;
	json_t *res, *e, *b;

	cr_assert_eq(call("sync_application", "{\"app_name\":\"guestbook\",\"revision\":\"abc\","
	    "\"force\":true,\"prune\":true}", &res, &err), 0, "%s", err.text);
	json_decref(res);
	e = logged(-1, "POST", "/api/v1/applications/{name}/sync");
	b = body_of(e);
	cr_expect(json_is_true(http_json_get(b, "strategy.hook.force")));
	cr_expect_null(json_object_get(b, "force"));
	cr_expect(json_is_true(json_object_get(b, "prune")));
	cr_expect(json_is_false(json_object_get(b, "dryRun")));
	cr_expect_str_eq(s_at(b, "revision"), "abc");
	cr_expect_str_eq(s_at(b, "appNamespace"), "argocd");
	cr_expect_str_eq(json_string_value(http_json_get(e, "headers.content-type")),
	    "application/json");
	json_decref(b);
	json_decref(e);
	/* The call-level dry-run flag turns into dryRun: true. */
	H.dry_run = true;
	cr_assert_eq(call("sync_application", "{\"app_name\":\"fresh\"}", &res, &err), 0);
	cr_expect(json_is_true(json_object_get(res, "dry_run")));
	json_decref(res);
	e = fake_entry(&F, -1);
	b = body_of(e);
	cr_expect(json_is_true(json_object_get(b, "dryRun")));
	json_decref(b);
	json_decref(e);
	H.dry_run = false;
	/* An operation already running: Argo CD's 400, passed on. */
	cr_expect_eq(call("sync_application", "{\"app_name\":\"busy\"}", &res, &err), ERR_HTTP);
	cr_expect_eq(err.http_status, 400);
	cr_expect_not_null(strstr(err.text, "another operation is already in progress"));
	assert_no_violations();
}

Test(argocd, rollback_picks_the_previous_deployment)
{
	struct tool_err err;
	json_t *res, *e, *b;

	cr_assert_eq(call("rollback_application", "{\"app_name\":\"guestbook\"}", &res, &err), 0,
	    "%s", err.text);
	cr_expect_eq(json_integer_value(http_json_get(res, "target.id")), 2);
	cr_expect_eq(json_integer_value(http_json_get(res, "from.id")), 3);
	cr_expect_eq(json_array_size(json_object_get(res, "steps")), 1);
	json_decref(res);
	cr_expect_eq(fake_count(&F), 2);
	e = logged(1, "POST", "/api/v1/applications/{name}/rollback");
	b = body_of(e);
	cr_expect(json_is_integer(json_object_get(b, "id")));
	cr_expect_eq(json_integer_value(json_object_get(b, "id")), 2);
	cr_expect(json_is_false(json_object_get(b, "prune")));
	cr_expect(json_is_false(json_object_get(b, "dryRun")));
	cr_expect_str_eq(s_at(b, "appNamespace"), "argocd");
	json_decref(b);
	json_decref(e);
	/* An explicit id (the app is busy now, but the fake lets a rollback through). */
	cr_assert_eq(call("rollback_application", "{\"app_name\":\"guestbook\",\"id\":1}", &res,
	    &err), 0, "%s", err.text);
	cr_expect_eq(json_integer_value(http_json_get(res, "target.id")), 1);
	json_decref(res);
	/* An id not in history: refused before any POST, with the ids listed. */
	cr_expect_eq(call("rollback_application", "{\"app_name\":\"guestbook\",\"id\":42}", &res,
	    &err), ERR_NOTFOUND);
	cr_expect_not_null(strstr(err.text, "ids: 1, 2, 3"), "%s", err.text);
	/* Nothing to go back to. */
	cr_expect_eq(call("rollback_application", "{\"app_name\":\"fresh\"}", &res, &err), ERR_REMOTE_STATE);
	cr_expect_not_null(strstr(err.text, "no previous deployment"));
	cr_expect_eq(fake_count(&F), 6);
	/* A 503 on the rollback POST: reported, never resent. */
	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"status\",\"status\":503,"
	    "\"count\":-1,\"method\":\"POST\"}]}"), 0);
	cr_expect_eq(call("rollback_application", "{\"app_name\":\"guestbook\"}", &res, &err),
	    ERR_HTTP);
	cr_expect(err.retryable);
	cr_expect_eq(fake_count(&F), 8);
	assert_no_violations();
}

Test(argocd, rollback_with_auto_sync)
{
	struct tool_err err;
	json_t *res, *e, *b, *p;

	/* Refused with a clear message; nothing but the read was sent. */
	cr_expect_eq(call("rollback_application", "{\"app_name\":\"auto-app\"}", &res, &err),
	    ERR_REMOTE_STATE);
	cr_expect_not_null(strstr(err.text, "auto-sync is enabled"), "%s", err.text);
	cr_expect_not_null(strstr(err.text, "disable_auto_sync"));
	cr_expect_eq(fake_count(&F), 1);
	/* Dry run: the plan, nothing sent. */
	cr_assert_eq(call("rollback_application", "{\"app_name\":\"auto-app\",\"disable_auto_sync\":"
	    "true,\"dry_run\":true}", &res, &err), 0, "%s", err.text);
	cr_expect_eq(json_array_size(json_object_get(res, "steps")), 2);
	cr_expect(json_is_false(http_json_get(json_array_get(json_object_get(res, "steps"), 0),
	    "done")));
	json_decref(res);
	cr_expect_eq(fake_count(&F), 2);
	/* With disable_auto_sync: PATCH automated away, then the rollback; both reported. */
	cr_assert_eq(call("rollback_application", "{\"app_name\":\"auto-app\",\"disable_auto_sync\":"
	    "true}", &res, &err), 0, "%s", err.text);
	cr_expect_str_eq(s_at(json_array_get(json_object_get(res, "steps"), 0), "step"),
	    "disable_auto_sync");
	cr_expect(json_is_true(http_json_get(json_array_get(json_object_get(res, "steps"), 1),
	    "done")));
	cr_expect_eq(json_integer_value(http_json_get(res, "target.id")), 1);
	cr_expect(json_is_false(http_json_get(res, "application.auto_sync")));
	json_decref(res);
	e = logged(3, "PATCH", "/api/v1/applications/{name}");
	b = body_of(e);
	cr_expect_str_eq(s_at(b, "patchType"), "merge");
	p = json_loads(s_at(b, "patch"), 0, NULL);
	cr_expect(json_is_null(http_json_get(p, "spec.syncPolicy.automated")));
	json_decref(p);
	json_decref(b);
	json_decref(e);
	e = logged(4, "POST", "/api/v1/applications/{name}/rollback");
	json_decref(e);
	assert_no_violations();
}

Test(argocd, rollback_failing_after_disabling_auto_sync_says_so)
{
	struct tool_err err;
	json_t *res;

	cr_assert_eq(fake_control(&F, "{\"modes\":[{\"mode\":\"status\",\"status\":500,"
	    "\"method\":\"POST\",\"match\":\"/rollback$\"}]}"), 0);
	cr_expect_eq(call("rollback_application", "{\"app_name\":\"auto-app\",\"disable_auto_sync\":"
	    "true}", &res, &err), ERR_HTTP);
	cr_expect_not_null(strstr(err.text, "auto-sync WAS disabled"), "%s", err.text);
	cr_expect_eq(fake_count(&F), 3);
	/* and the app now has auto-sync off */
	cr_assert_eq(call("get_application", "{\"app_name\":\"auto-app\"}", &res, &err), 0);
	cr_expect(json_is_false(json_object_get(res, "auto_sync")));
	json_decref(res);
}

Test(argocd, terminate_and_patch)
{
	struct tool_err err;
	json_t *res, *e, *b;

	cr_assert_eq(call("terminate_sync", "{\"app_name\":\"busy\"}", &res, &err), 0, "%s", err.text);
	json_decref(res);
	e = logged(-1, "DELETE", "/api/v1/applications/{name}/operation");
	cr_expect_str_eq(json_string_value(http_json_get(e, "headers.content-type")),
	    "application/json");
	cr_expect_str_eq(json_string_value(json_object_get(e, "body")), "");
	json_decref(e);
	cr_expect_eq(call("terminate_sync", "{\"app_name\":\"guestbook\"}", &res, &err), ERR_HTTP);
	cr_expect_not_null(strstr(err.text, "No operation is in progress"), "%s", err.text);

	cr_assert_eq(call("patch_application", "{\"app_name\":\"guestbook\",\"patch_type\":\"json\","
	    "\"patch_data\":[{\"op\":\"replace\",\"path\":\"/spec/project\",\"value\":\"ops\"}]}",
	    &res, &err), 0, "%s", err.text);
	cr_expect_str_eq(s_at(res, "application.project"), "ops");
	json_decref(res);
	e = logged(-1, "PATCH", "/api/v1/applications/{name}");
	b = body_of(e);
	cr_expect(json_is_string(json_object_get(b, "patch")), "patch must travel as a string");
	cr_expect_str_eq(s_at(b, "patchType"), "json");
	json_decref(b);
	json_decref(e);
	size_t n = fake_count(&F);

	cr_expect_eq(call("patch_application", "{\"app_name\":\"guestbook\",\"patch_data\":[1]}",
	    &res, &err), ERR_SCHEMA);
	cr_expect_eq(call("patch_application", "{\"app_name\":\"guestbook\",\"patch_type\":\"json\","
	    "\"patch_data\":{\"a\":1}}", &res, &err), ERR_SCHEMA);
	cr_assert_eq(call("patch_application", "{\"app_name\":\"guestbook\",\"dry_run\":true,"
	    "\"patch_data\":{\"spec\":{}}}", &res, &err), 0);
	cr_expect(json_is_true(json_object_get(res, "dry_run")));
	json_decref(res);
	cr_assert_eq(call("terminate_sync", "{\"app_name\":\"busy\",\"dry_run\":true}", &res, &err),
	    ERR_SCHEMA, "terminate_sync has no dry_run argument");
	H.dry_run = true;
	cr_assert_eq(call("terminate_sync", "{\"app_name\":\"busy\"}", &res, &err), 0);
	json_decref(res);
	H.dry_run = false;
	cr_expect_eq(fake_count(&F), n, "a refused or dry-run call reached the server");
	assert_no_violations();
}

/* The fake itself: it must catch the classic mistakes, or the tests above prove nothing. */
Test(argocd, the_fake_catches_contract_violations)
{
	struct http_client *c;
	struct http_endpoint ep = { .url = F.url };
	struct {
		const char *method, *path, *ctype, *body;
		int status;
	} cases[] = {
		{ "POST", "/api/v1/applications/guestbook/sync", "application/json; charset=utf-8",
		  "{}", 415 },
		{ "DELETE", "/api/v1/applications/busy/operation", NULL, NULL, 415 },
		{ "POST", "/api/v1/applications/guestbook/sync", "application/json",
		  "{\"force\":true}", 400 },
		{ "POST", "/api/v1/applications/guestbook/rollback", "application/json", "{}", 400 },
		{ "PATCH", "/api/v1/applications/guestbook", "application/json",
		  "{\"patch\":{\"spec\":{}},\"patchType\":\"merge\"}", 400 },
		{ "GET", "/api/v1/applications/argocd/guestbook", NULL, NULL, 404 },
		{ "POST", "/api/v1/applications/guestbook/terminate", "application/json", "{}", 404 },
	};

	cr_assert_eq(http_client_new(NULL, NULL, &c), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_resp resp;
		struct tool_err err;
		struct http_req req;

		http_req_init(&req, cases[i].method);
		strcpy(req.path, cases[i].path);
		req.content_type = cases[i].ctype;
		req.body = cases[i].body;
		req.body_len = cases[i].body ? strlen(cases[i].body) : 0;
		cr_expect_lt(http_client_do(c, &ep, &req, 0, &resp, &err), 0);
		cr_expect_eq(err.http_status, cases[i].status, "case %zu: %s", i, err.text);
		http_resp_clear(&resp);
	}
	http_client_free(c);
	json_t *log = fake_log(&F), *e;
	size_t i;

	cr_expect_eq(json_array_size(log), sizeof(cases) / sizeof(cases[0]));
	json_array_foreach(log, i, e)
		cr_expect_gt(json_array_size(json_object_get(e, "violations")), 0,
		    "request %zu not flagged", i);
	json_decref(log);
}
