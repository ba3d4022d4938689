/* The github_actions family against tests/fakes/fake_github.py, a loopback fake that checks
 * every request against the official OpenAPI description (tests/tools/contracts/): every op in
 * every failure mode, then the behaviours that are easy to get wrong (302 logs and archives
 * followed without the credential, success codes 201/202/204, dispatch run details, pagination,
 * GitHub Enterprise base paths, argument injection, credential echoes). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "tests/tools/famb.h"
#include "tools/tool.h"

extern const struct tool_family tool_fam_github_actions;

#define SECRET	"ghp_S3cretT0kenForTests42"
#define R	"/repos/{owner}/{repo}/actions"
#define A	"\"owner\":\"octo-org\",\"repo\":\"hello-world\""

static const struct famb_env ENV = {
	.script = "fake_github.py", .fam = &tool_fam_github_actions, .secret = SECRET,
	.endpoint_extra = "{\"redirect_hosts\":[\"localhost\"]}",
};

static const struct famb_op OPS[] = {
	{ "list_workflow_runs", "{" A "}", "GET", R "/runs", false, true, false },
	{ "list_workflow_runs", "{" A ",\"workflow_id\":\"ci.yml\",\"branch\":\"main\","
	  "\"status\":\"failure\",\"event\":\"push\"}", "GET", R "/workflows/{workflow_id}/runs",
	  false, true, false },
	{ "get_workflow_run", "{" A ",\"run_id\":30001}", "GET", R "/runs/{run_id}", false, true,
	  false },
	{ "list_jobs", "{" A ",\"run_id\":30001}", "GET", R "/runs/{run_id}/jobs", false, true,
	  false },
	{ "get_job", "{" A ",\"job_id\":40001}", "GET", R "/jobs/{job_id}", false, true, false },
	{ "get_job_logs", "{" A ",\"job_id\":40001}", "GET", R "/jobs/{job_id}/logs", false, false,
	  false },
	{ "cancel_workflow_run", "{" A ",\"run_id\":30002}", "POST", R "/runs/{run_id}/cancel",
	  true, false, true },
	{ "rerun_workflow", "{" A ",\"run_id\":30001}", "POST", R "/runs/{run_id}/rerun", true,
	  false, true },
	{ "rerun_failed_jobs", "{" A ",\"run_id\":30001}", "POST",
	  R "/runs/{run_id}/rerun-failed-jobs", true, false, true },
	{ "trigger_workflow", "{" A ",\"workflow_id\":\"deploy.yml\",\"ref\":\"main\","
	  "\"inputs\":{\"environment\":\"prod\"}}", "POST",
	  R "/workflows/{workflow_id}/dispatches", true, true, false },
	{ "list_artifacts", "{" A ",\"run_id\":30001}", "GET", R "/runs/{run_id}/artifacts", false,
	  true, false },
	{ "list_artifacts", "{" A ",\"name\":\"dist\"}", "GET", R "/artifacts", false, true, false },
	{ "download_artifact", "{" A ",\"artifact_id\":50001}", "GET", R "/artifacts/{artifact_id}",
	  false, true, false },
	{ "list_releases", "{" A "}", "GET", "/repos/{owner}/{repo}/releases", false, true, false },
	{ "create_release", "{" A ",\"tag_name\":\"v2.0.0\",\"name\":\"2.0.0\",\"body\":\"notes\"}",
	  "POST", "/repos/{owner}/{repo}/releases", true, true, false },
	{ "compare_commits", "{" A ",\"base\":\"v1.0.0\",\"head\":\"main\"}", "GET",
	  "/repos/{owner}/{repo}/compare/{basehead}", false, true, false },
};
#define NOPS (sizeof(OPS) / sizeof(OPS[0]))

static struct famb T;

static void
setup(void)
{
	famb_open(&T, &ENV);
}

static void
teardown(void)
{
	famb_close(&T);
}

/* ---------------------------------------------------------------- schema table */

Test(github_schema, ops_params_and_flags)
{
	static const char *const names[] = { "list_workflow_runs", "get_workflow_run", "list_jobs",
	    "get_job", "get_job_logs", "cancel_workflow_run", "rerun_workflow", "rerun_failed_jobs",
	    "trigger_workflow", "list_artifacts", "download_artifact", "list_releases",
	    "create_release", "compare_commits", "release_plan", NULL };
	static const char *const writes[] = { "cancel_workflow_run", "rerun_workflow",
	    "rerun_failed_jobs", "trigger_workflow", "create_release", NULL };
	const struct tool_family *f = &tool_fam_github_actions;

	famb_schema_ops(f, "github_actions", names, writes);
	for (const struct tool_op *op = f->ops; op->name; op++) {
		cr_assert(tool_param_find(op, "owner")->required && tool_param_find(op, "repo")->required);
		cr_assert_null(tool_param_find(op, "token"), "%s: credentials are not params", op->name);
		cr_assert_not_null(op->run);
	}
	cr_assert(tool_param_find(tool_op_find(f, "rerun_failed_jobs"), "run_id")->required);
	cr_assert(tool_param_find(tool_op_find(f, "trigger_workflow"), "ref")->required);
}

Test(github_schema, bad_arguments_are_refused)
{
	static const struct famb_bad cases[] = {
		{ "list_workflow_runs", "{" A ",\"per_page\":101}", "per_page" },
		{ "list_workflow_runs", "{" A ",\"status\":\"broken\"}", "status" },
		{ "list_workflow_runs", "{" A ",\"workflow_id\":\"../x.yml\"}", "workflow_id" },
		{ "list_workflow_runs", "{" A ",\"max_pages\":11}", "max_pages" },
		{ "get_workflow_run", "{" A ",\"run_id\":\"30001\"}", "run_id" },
		{ "get_workflow_run", "{" A ",\"run_id\":0}", "run_id" },
		{ "get_job", "{\"owner\":\"-x\",\"repo\":\"r\",\"job_id\":1}", "owner" },
		{ "get_job", "{\"owner\":\"o\",\"repo\":\"a/b\",\"job_id\":1}", "repo" },
		{ "get_job", "{" A ",\"job_id\":1,\"token\":\"x\"}", "token" },
		{ "get_job_logs", "{" A ",\"job_id\":1,\"max_bytes\":99999999}", "max_bytes" },
		{ "trigger_workflow", "{" A ",\"workflow_id\":\"d.yml\"}", "ref" },
		{ "trigger_workflow", "{" A ",\"workflow_id\":\"d.yml\",\"ref\":\"main\\r\\nX: y\"}",
		  "ref" },
		{ "create_release", "{" A ",\"tag_name\":\"v1\",\"make_latest\":\"yes\"}",
		  "make_latest" },
		{ "compare_commits", "{" A ",\"base\":\"a b\",\"head\":\"main\"}", "base" },
	};
	const struct tool_family *f = &tool_fam_github_actions;

	famb_schema_refuses(f, cases, sizeof(cases) / sizeof(cases[0]));
	{	/* 26 inputs: over GitHub's 25 */
		json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:o}", "owner", "o", "repo", "r",
		    "workflow_id", "d.yml", "ref", "main", "inputs", json_object());
		char e[256], k[8];

		for (int i = 0; i < 26; i++) {
			snprintf(k, sizeof(k), "k%d", i);
			json_object_set_new(json_object_get(a, "inputs"), k, json_string("v"));
		}
		cr_assert_eq(tool_args_validate(tool_op_find(f, "trigger_workflow"), a, e, sizeof(e)),
		    ERR_SCHEMA);
		json_decref(a);
	}
}

/* ---------------------------------------------------------------- every op, every mode */

TestSuite(github, .init = setup, .fini = teardown, .timeout = 60);

FAMB_MATRIX_TESTS(github, T, OPS, NOPS)

/* ---------------------------------------------------------------- behaviours */

Test(github, runs_are_paginated_by_link_and_shaped)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "list_workflow_runs", "{" A ",\"per_page\":2,\"max_pages\":3}");
	json_t *runs = json_object_get(r, "workflow_runs"), *run0 = json_array_get(runs, 0);

	cr_assert_eq(json_array_size(runs), 6);
	cr_assert_eq(json_integer_value(json_object_get(r, "next_page")), 4);
	cr_assert_eq(json_integer_value(json_object_get(r, "total_count")), 7);
	cr_assert_eq(fake_count(&T.fake) - n0, 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *e = famb_entry(&T, n0, i);
		char want[8];

		snprintf(want, sizeof(want), "%zu", i + 1);
		cr_assert_str_eq(famb_query(e, "page"), want);
		cr_assert_str_eq(famb_query(e, "per_page"), "2");
		json_decref(e);
	}
	cr_assert_eq(json_integer_value(json_object_get(run0, "id")), 30007);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(run0, "actor"), "login")),
	    "octocat");
	cr_assert_null(json_object_get(run0, "repository"), "unshaped run returned");
	cr_assert_null(json_object_get(run0, "head_repository"));
	json_decref(r);
	/* the last page: no next */
	r = famb_ok(&T, "list_workflow_runs", "{" A ",\"per_page\":5,\"page\":2,\"max_pages\":5}");
	cr_assert_eq(json_array_size(json_object_get(r, "workflow_runs")), 2);
	cr_assert(json_is_null(json_object_get(r, "next_page")));
	json_decref(r);
}

Test(github, runs_of_one_workflow_by_file_name)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "list_workflow_runs", "{" A ",\"workflow_id\":\"ci.yml\","
	    "\"status\":\"success\",\"exclude_pull_requests\":true}"), *run;
	json_t *e = famb_entry(&T, n0, 0);
	size_t i;

	cr_assert_str_eq(json_string_value(json_object_get(e, "raw_path")),
	    "/repos/octo-org/hello-world/actions/workflows/ci.yml/runs");
	cr_assert_str_eq(famb_query(e, "status"), "success");
	cr_assert_str_eq(famb_query(e, "exclude_pull_requests"), "true");
	cr_assert_str_eq(famb_query(e, "per_page"), "30");
	cr_assert(json_array_size(json_object_get(r, "workflow_runs")) > 0);
	json_array_foreach(json_object_get(r, "workflow_runs"), i, run) {
		cr_assert_eq(json_integer_value(json_object_get(run, "workflow_id")), 161335);
		cr_assert_str_eq(json_string_value(json_object_get(run, "conclusion")), "success");
	}
	json_decref(e);
	json_decref(r);
}

Test(github, jobs_carry_their_steps)
{
	json_t *r = famb_ok(&T, "list_jobs", "{" A ",\"run_id\":30001,\"filter\":\"all\"}");
	json_t *j = json_array_get(json_object_get(r, "jobs"), 0);

	cr_assert_eq(json_array_size(json_object_get(r, "jobs")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(j, "conclusion")), "failure");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j,
	    "steps"), 1), "name")), "Run tests");
	json_decref(r);
}

Test(github, job_logs_follow_302_without_the_credential_and_return_the_tail)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "get_job_logs", "{" A ",\"job_id\":40001,\"max_bytes\":4096}");
	const char *log = json_string_value(json_object_get(r, "log"));
	json_t *api = famb_entry(&T, n0, 0), *blob = famb_entry(&T, n0, 1);
	char *dump;

	cr_assert_not_null(log);
	cr_assert(strlen(log) <= 4096);
	cr_assert(strstr(log, "##[error]Process completed with exit code 1.") != NULL);
	cr_assert(strstr(log, "step output line 0\n") == NULL, "the head of the log was returned");
	cr_assert(strncmp(log, "2026-", 5) == 0, "the tail does not start at a line: %.40s", log);
	cr_assert(json_is_true(json_object_get(r, "tail_only")));
	cr_assert(json_integer_value(json_object_get(r, "bytes")) > 100000);
	cr_assert_eq(json_integer_value(json_object_get(api, "status")), 302);
	cr_assert_str_eq(json_string_value(json_object_get(blob, "route")), "/_blob/{kind}/{name}");
	cr_assert_null(json_object_get(json_object_get(blob, "headers"), "authorization"),
	    "the token went to the storage host");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(api, "headers"),
	    "authorization")), "Bearer " SECRET);
	dump = json_dumps(r, 0);
	cr_assert(strstr(dump, "_blob") == NULL, "the one-minute URL leaked out");
	free(dump);
	json_decref(api);
	json_decref(blob);
	json_decref(r);
}

Test(github, redirects_to_hosts_not_allowed_are_refused)
{
	size_t n0;

	json_decref(T.h.endpoint_extra);
	T.h.endpoint_extra = NULL;
	n0 = fake_count(&T.fake);
	famb_fail(&T, "get_job_logs", "{" A ",\"job_id\":40001}", ERR_EGRESS, 0);
	cr_assert_eq(fake_count(&T.fake) - n0, 1, "the storage host was contacted");
	famb_fail(&T, "download_artifact", "{" A ",\"artifact_id\":50001}", ERR_EGRESS, 0);
}

Test(github, artifacts_come_back_as_base64_with_their_file_list)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "download_artifact", "{" A ",\"artifact_id\":50001}");
	json_t *files = json_object_get(json_object_get(r, "files"), "files");
	json_int_t bytes = json_integer_value(json_object_get(r, "bytes"));
	const char *b64 = json_string_value(json_object_get(r, "content_base64"));
	json_t *zipreq = famb_entry(&T, n0, 1), *blob = famb_entry(&T, n0, 2);

	cr_assert_eq(bytes, json_integer_value(json_object_get(json_object_get(r, "artifact"),
	    "size_in_bytes")));
	cr_assert_not_null(b64);
	cr_assert_eq(strlen(b64), (size_t)(bytes + 2) / 3 * 4);
	cr_assert(strncmp(b64, "UEsDB", 5) == 0, "not a zip: %.8s", b64);
	cr_assert_eq(json_array_size(files), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 0), "name")),
	    "report.txt");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(files, 0), "size")), 20);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 1), "name")),
	    "dist/app.bin");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(files, 1), "size")), 1024);
	cr_assert_str_eq(json_string_value(json_object_get(zipreq, "raw_path")),
	    "/repos/octo-org/hello-world/actions/artifacts/50001/zip");
	cr_assert_null(json_object_get(json_object_get(blob, "headers"), "authorization"));
	cr_assert_null(json_object_get(r, "download_url"));
	json_decref(zipreq);
	json_decref(blob);
	json_decref(r);
}

Test(github, expired_and_large_artifacts_are_not_downloaded)
{
	static const char *const args[] = { "{" A ",\"artifact_id\":50002}",
	    "{" A ",\"artifact_id\":50003}" };

	for (size_t i = 0; i < 2; i++) {
		size_t n0 = fake_count(&T.fake);
		json_t *r = famb_ok(&T, "download_artifact", args[i]);

		cr_assert_not_null(json_string_value(json_object_get(r, "withheld")));
		cr_assert(json_is_null(json_object_get(r, "content_base64")));
		cr_assert_eq(fake_count(&T.fake) - n0, 1, "the archive was fetched");
		json_decref(r);
	}
}

Test(github, dispatch_with_and_without_run_details)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "trigger_workflow", "{" A ",\"workflow_id\":\"deploy.yml\","
	    "\"ref\":\"main\",\"inputs\":{\"environment\":\"prod\",\"version\":\"1.2.3\"}}");
	json_t *e = famb_entry(&T, n0, 0);
	json_t *body = json_loads(famb_field(e, "body"), 0, NULL);
	json_t *want = json_pack("{s:s, s:{s:s, s:s}, s:b}", "ref", "main", "inputs",
	    "environment", "prod", "version", "1.2.3", "return_run_details", 1);

	cr_assert(json_equal(body, want), "body %s", json_string_value(json_object_get(e, "body")));
	cr_assert_eq(json_integer_value(json_object_get(r, "workflow_run_id")), 39001);
	cr_assert(json_is_true(json_object_get(r, "dispatched")));
	json_decref(r);
	json_decref(e);
	json_decref(body);
	json_decref(want);
	n0 = fake_count(&T.fake);
	r = famb_ok(&T, "trigger_workflow", "{" A ",\"workflow_id\":\"161335\",\"ref\":\"v1.0.0\","
	    "\"return_run_details\":false}");
	e = famb_entry(&T, n0, 0);
	cr_assert_eq(json_integer_value(json_object_get(e, "status")), 204);
	cr_assert_str_eq(json_string_value(json_object_get(e, "body")), "{\"ref\":\"v1.0.0\"}");
	cr_assert(json_is_null(json_object_get(r, "workflow_run_id")));
	cr_assert(json_is_true(json_object_get(r, "dispatched")));
	json_decref(e);
	json_decref(r);
	cr_assert(strstr(famb_fail(&T, "trigger_workflow", "{" A ",\"workflow_id\":\"deploy.yml\","
	    "\"ref\":\"nope\"}", ERR_HTTP, 422), "No ref found for: nope") != NULL);
	cr_assert(strstr(famb_fail(&T, "trigger_workflow", "{" A ",\"workflow_id\":\"deploy.yml\","
	    "\"ref\":\"main\",\"inputs\":{\"colour\":\"red\"}}", ERR_HTTP, 422),
	    "Unexpected inputs") != NULL);
	famb_fail(&T, "trigger_workflow", "{" A ",\"workflow_id\":\"nope.yml\",\"ref\":\"main\"}",
	    ERR_NOTFOUND, 404);
}

Test(github, cancel_and_rerun_success_codes_and_conflicts)
{
	size_t n0;
	json_t *r = famb_ok(&T, "cancel_workflow_run", "{" A ",\"run_id\":30002}"), *e;
	const char *txt;

	cr_assert_str_eq(json_string_value(json_object_get(r, "status")), "cancel_requested");
	json_decref(r);
	txt = famb_fail(&T, "cancel_workflow_run", "{" A ",\"run_id\":30002}", ERR_HTTP, 409);
	cr_assert(strstr(txt, "Cannot cancel a workflow run that is completed.") != NULL, "%s", txt);
	cr_assert(strstr(txt, "HTTP 409") == txt, "%s", txt);
	n0 = fake_count(&T.fake);
	famb_fail(&T, "cancel_workflow_run", "{" A ",\"run_id\":30001,\"force\":true}", ERR_HTTP, 409);
	e = famb_entry(&T, n0, 0);
	cr_assert_str_eq(json_string_value(json_object_get(e, "raw_path")),
	    "/repos/octo-org/hello-world/actions/runs/30001/force-cancel");
	json_decref(e);
	n0 = fake_count(&T.fake);
	json_decref(famb_ok(&T, "rerun_failed_jobs", "{" A ",\"run_id\":30001,"
	    "\"enable_debug_logging\":true}"));
	e = famb_entry(&T, n0, 0);
	cr_assert_str_eq(json_string_value(json_object_get(e, "body")),
	    "{\"enable_debug_logging\":true}");
	json_decref(e);
	famb_reset(&T, NULL);
	n0 = fake_count(&T.fake);
	json_decref(famb_ok(&T, "rerun_workflow", "{" A ",\"run_id\":30001}"));
	e = famb_entry(&T, n0, 0);
	cr_assert_str_eq(json_string_value(json_object_get(e, "body")), "");
	cr_assert_eq(json_integer_value(json_object_get(e, "status")), 201);
	json_decref(e);
	famb_fail(&T, "rerun_workflow", "{" A ",\"run_id\":30002}", ERR_HTTP, 403);
}

Test(github, releases_and_compare_for_the_release_manager)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "create_release", "{" A ",\"tag_name\":\"v2.0.0\","
	    "\"target_commitish\":\"main\",\"body\":\"## Features\\n- x\"}"), *e, *body, *c;
	const char *txt;

	e = famb_entry(&T, n0, 0);
	body = json_loads(json_string_value(json_object_get(e, "body")), 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(body, "tag_name")), "v2.0.0");
	cr_assert(json_is_false(json_object_get(body, "draft")));
	cr_assert_null(json_object_get(body, "make_latest"));
	cr_assert_str_eq(json_string_value(json_object_get(r, "tag_name")), "v2.0.0");
	cr_assert_str_eq(json_string_value(json_object_get(r, "body")), "## Features\n- x");
	json_decref(body);
	json_decref(e);
	json_decref(r);
	txt = famb_fail(&T, "create_release", "{" A ",\"tag_name\":\"v1.0.0\"}", ERR_HTTP, 422);
	cr_assert(strstr(txt, "Validation Failed") && strstr(txt, "already_exists"), "%s", txt);
	r = famb_ok(&T, "list_releases", "{" A ",\"per_page\":1,\"max_pages\":2}");
	cr_assert_eq(json_array_size(json_object_get(r, "releases")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(r,
	    "releases"), 0), "tag_name")), "v2.0.0");
	json_decref(r);
	n0 = fake_count(&T.fake);
	r = famb_ok(&T, "compare_commits", "{" A ",\"base\":\"release/1.x\",\"head\":\"main\"}");
	e = famb_entry(&T, n0, 0);
	cr_assert_str_eq(json_string_value(json_object_get(e, "raw_path")),
	    "/repos/octo-org/hello-world/compare/release%2F1.x...main");
	cr_assert_str_eq(json_string_value(json_object_get(r, "status")), "ahead");
	cr_assert_eq(json_integer_value(json_object_get(r, "ahead_by")), 4);
	c = json_object_get(json_array_get(json_object_get(r, "commits"), 1), "commit");
	cr_assert(strstr(json_string_value(json_object_get(c, "message")), "BREAKING CHANGE"));
	cr_assert_eq(json_integer_value(json_object_get(r, "files_total")), 4);
	json_decref(e);
	json_decref(r);
	n0 = fake_count(&T.fake);
	famb_fail(&T, "compare_commits", "{" A ",\"base\":\"v1..main\",\"head\":\"x\"}", ERR_SCHEMA,
	    0);
	cr_assert_eq(fake_count(&T.fake), n0);
}

Test(github, enterprise_server_base_path)
{
	size_t n0;
	json_t *r, *e;

	famb_base_url(&T, "{\"prefix\":\"/api/v3\"}", "/api/v3");
	n0 = fake_count(&T.fake);
	r = famb_ok(&T, "get_workflow_run", "{" A ",\"run_id\":30001}");
	e = famb_entry(&T, n0, 0);
	cr_assert_str_eq(json_string_value(json_object_get(e, "raw_path")),
	    "/api/v3/repos/octo-org/hello-world/actions/runs/30001");
	json_decref(e);
	json_decref(r);
	r = famb_ok(&T, "list_workflow_runs", "{" A ",\"per_page\":3,\"max_pages\":2}");
	cr_assert_eq(json_array_size(json_object_get(r, "workflow_runs")), 6);
	json_decref(r);
}

Test(github, wrong_token_and_rate_limits)
{
	const char *txt;
	int64_t t0;
	size_t n0;
	json_t *r;

	T.h.secret = "ghp_wrong_token_0000";
	txt = famb_fail(&T, "get_job", "{" A ",\"job_id\":40001}", ERR_HTTP, 401);
	cr_assert(strstr(txt, "Bad credentials") != NULL, "%s", txt);
	T.h.secret = SECRET;
	/* primary rate limit: 403 with x-ratelimit-remaining 0 is a rate limit, retryable */
	cr_assert_eq(fake_control(&T.fake, "{\"modes\":[{\"mode\":\"status\",\"status\":403,"
	    "\"message\":\"API rate limit exceeded for user\",\"retry_after\":120,"
	    "\"headers\":{\"X-RateLimit-Remaining\":\"0\"}}]}"), 0);
	famb_fail(&T, "get_job", "{" A ",\"job_id\":40001}", ERR_RATE, 403);
	/* 429 + Retry-After: 1 once: a read waits and succeeds, a write is never retried */
	cr_assert_eq(fake_control(&T.fake, "{\"modes\":[{\"mode\":\"status\",\"status\":429,"
	    "\"retry_after\":1}]}"), 0);
	n0 = fake_count(&T.fake);
	t0 = harness_now_ms();
	r = famb_ok(&T, "get_job", "{" A ",\"job_id\":40001}");
	cr_assert(harness_now_ms() - t0 >= 900, "Retry-After not honoured");
	cr_assert_eq(fake_count(&T.fake) - n0, 2);
	json_decref(r);
	cr_assert_eq(fake_control(&T.fake, "{\"modes\":[{\"mode\":\"status\",\"status\":429,"
	    "\"retry_after\":1}]}"), 0);
	n0 = fake_count(&T.fake);
	famb_fail(&T, "rerun_workflow", "{" A ",\"run_id\":30001}", ERR_RATE, 429);
	cr_assert_eq(fake_count(&T.fake) - n0, 1);
}

Test(github, dry_run_describes_the_request)
{
	json_t *r, *req;

	T.h.dry_run = true;
	r = famb_ok(&T, "trigger_workflow", "{" A ",\"workflow_id\":\"deploy.yml\",\"ref\":\"main\"}");
	req = json_object_get(r, "request");
	cr_assert_str_eq(json_string_value(json_object_get(req, "method")), "POST");
	cr_assert_str_eq(json_string_value(json_object_get(req, "path")),
	    "/repos/octo-org/hello-world/actions/workflows/deploy.yml/dispatches");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(req, "body"), "ref")),
	    "main");
	cr_assert(!harness_leaks(r, NULL, SECRET));
	json_decref(r);
}

Test(github, path_arguments_are_encoded_or_refused)
{
	famb_inject(&T, "list_workflow_runs", "{" A "}", "owner", FAMB_ENC_SEG,
	    "/repos/%s/hello-world/actions/runs");
	famb_inject(&T, "get_job", "{" A ",\"job_id\":40001}", "repo", FAMB_ENC_SEG,
	    "/repos/octo-org/%s/actions/jobs/40001");
	famb_inject(&T, "list_workflow_runs", "{" A ",\"workflow_id\":\"ci.yml\"}", "workflow_id",
	    FAMB_ENC_SEG, "/repos/octo-org/hello-world/actions/workflows/%s/runs");
	famb_inject(&T, "trigger_workflow", "{" A ",\"workflow_id\":\"deploy.yml\",\"ref\":\"main\"}",
	    "workflow_id", FAMB_ENC_SEG, "/repos/octo-org/hello-world/actions/workflows/%s/dispatches");
}

Test(github, compare_refs_are_one_segment_or_refused)
{
	static const struct {
		const char *base;
		const char *raw;	/* NULL: refused before any request */
	} cases[] = {
		{ "v1.0.0", "/repos/octo-org/hello-world/compare/v1.0.0...main" },
		{ "feature/x", "/repos/octo-org/hello-world/compare/feature%2Fx...main" },
		{ "a?b#c", "/repos/octo-org/hello-world/compare/a%3Fb%23c...main" },
		{ "a\r\nX: y", "/repos/octo-org/hello-world/compare/a%0D%0AX%3A%20y...main" },
		{ "%2e%2e", "/repos/octo-org/hello-world/compare/%252e%252e...main" },
		{ "../../x", NULL }, { "..", NULL }, { "a..b", NULL }, { "", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *a = json_pack("{s:s, s:s, s:s, s:s}", "owner", "octo-org", "repo",
		    "hello-world", "base", cases[i].base, "head", "main"), *r, *log;
		size_t n0 = fake_count(&T.fake);
		struct tool_err err;
		int rc = harness_call_unchecked(&T.h, &tool_fam_github_actions, "compare_commits", a,
		    &r, &err);

		log = famb_log_since(&T, n0);
		if (cases[i].raw == NULL) {
			cr_assert(rc < 0 && json_array_size(log) == 0, "%s: not refused", cases[i].base);
		} else {
			cr_assert_eq(json_array_size(log), 1, "%s", cases[i].base);
			cr_assert_str_eq(json_string_value(json_object_get(json_array_get(log, 0),
			    "raw_path")), cases[i].raw);
		}
		json_decref(log);
		json_decref(r);
		json_decref(a);
	}
}

/* GitHub splits base...head at the first "...": a ref with a '.' at its start or end, or next to
 * another '.' or a '/', is refused by the schema and, without the schema, by the run hook with
 * ERR_SCHEMA naming the ref; both say the same, and refs that pass reach the API as one segment
 * that splits back into the same pair. */
struct compare_case {
	const char *base, *head;
	const char *refused;	/* the param named in the refusal, or NULL: sent */
	int rc;			/* when sent: the fake knows the refs, or 404 */
};

/* The schema's verdict on one pair. */
static void
compare_schema(const struct compare_case *c, json_t *args)
{
	const struct tool_op *op = tool_op_find(&tool_fam_github_actions, "compare_commits");
	json_t *v = json_deep_copy(args);
	char e[256];
	int rc;

	cr_assert_eq(tool_schema_init(e, sizeof(e)), 0, "%s", e);
	rc = tool_args_validate(op, v, e, sizeof(e));
	json_decref(v);
	if (c->refused != NULL)
		cr_assert(rc == ERR_SCHEMA && strncmp(e, c->refused, strlen(c->refused)) == 0,
		    "%s...%s: schema said %d '%s'", c->base, c->head, rc, e);
	else
		cr_assert_eq(rc, 0, "%s...%s: schema said '%s'", c->base, c->head, e);
}

/* The run hook's verdict on one pair, without the schema, and what reached the API. */
static void
compare_hook(const struct compare_case *c, json_t *args)
{
	size_t n0 = fake_count(&T.fake), nb = strlen(c->base);
	struct tool_err err;
	const char *bh;
	json_t *r, *log;
	int rc;

	rc = harness_call_unchecked(&T.h, &tool_fam_github_actions, "compare_commits", args, &r,
	    &err);
	log = famb_log_since(&T, n0);
	if (c->refused != NULL) {
		cr_assert(rc == ERR_SCHEMA && err.code == ERR_SCHEMA && r == NULL,
		    "%s...%s: run hook gave %d", c->base, c->head, rc);
		cr_assert(strncmp(err.text, c->refused, strlen(c->refused)) == 0 &&
		    strstr(err.text, "ambiguous"), "%s", err.text);
		cr_assert_eq(json_array_size(log), 0, "%s...%s: sent", c->base, c->head);
	} else {
		cr_assert_eq(rc, c->rc, "%s...%s: %s", c->base, c->head, err.text);
		cr_assert_eq(json_array_size(log), 1);
		bh = json_string_value(json_object_get(json_object_get(json_array_get(log, 0),
		    "params"), "basehead"));
		cr_assert(bh && strncmp(bh, c->base, nb) == 0 && strstr(bh, "...") == bh + nb &&
		    strcmp(bh + nb + 3, c->head) == 0, "%s...%s reached the API as '%s'", c->base,
		    c->head, bh);
	}
	json_decref(log);
	json_decref(r);
}

Test(github, compare_refs_that_make_basehead_ambiguous_are_refused)
{
	static const struct compare_case cases[] = {
		{ ".", "main", "base", 0 }, { "v1.", "main", "base", 0 },
		{ "main", ".x", "head", 0 }, { "v1.0.0", ".", "head", 0 },
		{ "v1...main", "x", "base", 0 }, { "a", "b...c", "head", 0 },
		{ "release/.hidden", "main", "base", 0 }, { "release./x", "main", "base", 0 },
		{ "v1.0.0", "main.", "head", 0 }, { "v1.0.0.", ".main", "base", 0 },
		{ "v1.0.0", "main", NULL, 0 }, { "release/1.x", "v1.1.0", NULL, 0 },
		{ "release/1.x", "v2.0.0-rc.1", NULL, ERR_NOTFOUND },
		{ "octocat:feature.x", "main", NULL, ERR_NOTFOUND },
		{ "a//b", "c/d", NULL, ERR_NOTFOUND },
		{ "1a2b3c4d", "feature/x.y", NULL, ERR_NOTFOUND },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *a = json_pack("{s:s, s:s, s:s, s:s}", "owner", "octo-org", "repo",
		    "hello-world", "base", cases[i].base, "head", cases[i].head);

		compare_schema(&cases[i], a);
		compare_hook(&cases[i], a);
		json_decref(a);
	}
}
