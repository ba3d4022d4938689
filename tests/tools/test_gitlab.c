/* The gitlab_ci family against tests/fakes/fake_gitlab.py, a loopback fake that checks every
 * request against GitLab's documented REST v4 contract (tests/tools/contracts/gitlab-ci.json):
 * every op in every failure mode, then what is easy to get wrong (%2F project paths, literal '/'
 * in artifact paths, the singular create-pipeline path with [{key,value}] variables, the
 * trigger endpoint with its own token and variables[KEY], cancel 200 / retry 201, x-next-page,
 * bridges, Bearer instead of PRIVATE-TOKEN). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "tests/tools/famb.h"
#include "tools/tool.h"

extern const struct tool_family tool_fam_gitlab_ci;

#define SECRET	"glpat-S3cretT0kenForTests42"
#define TRIG	"glptt-trigger-0123"
#define P	"/api/v4/projects/{id}"
#define A	"\"project_id\":\"group/sub/proj\""

static const struct famb_env ENV = {
	.script = "fake_gitlab.py", .fam = &tool_fam_gitlab_ci, .secret = SECRET,
};

static const struct famb_op OPS[] = {
	{ "list_pipelines", "{" A ",\"status\":\"success\",\"ref\":\"main\"}", "GET",
	  P "/pipelines", false, true, false },
	{ "list_pipelines", "{\"project_id\":\"42\",\"order_by\":\"id\",\"sort\":\"desc\","
	  "\"updated_after\":\"2026-01-01T00:00:00Z\"}", "GET", P "/pipelines", false, true, false },
	{ "get_pipeline", "{" A ",\"pipeline_id\":1000}", "GET", P "/pipelines/{pipeline_id}",
	  false, true, false },
	{ "get_pipeline_jobs", "{" A ",\"pipeline_id\":1000,\"scope\":[\"failed\",\"success\"]}",
	  "GET", P "/pipelines/{pipeline_id}/jobs", false, true, false },
	{ "get_job", "{" A ",\"job_id\":2001}", "GET", P "/jobs/{job_id}", false, true, false },
	{ "get_job_logs", "{" A ",\"job_id\":2001}", "GET", P "/jobs/{job_id}/trace", false, false,
	  false },
	{ "retry_pipeline", "{" A ",\"pipeline_id\":1000}", "POST",
	  P "/pipelines/{pipeline_id}/retry", true, true, false },
	{ "cancel_pipeline", "{" A ",\"pipeline_id\":1001}", "POST",
	  P "/pipelines/{pipeline_id}/cancel", true, true, false },
	{ "trigger_pipeline", "{" A ",\"ref\":\"main\",\"variables\":{\"DEPLOY\":\"yes\","
	  "\"REPLICAS\":3}}", "POST", P "/pipeline", true, true, false },
	{ "trigger_pipeline", "{" A ",\"ref\":\"main\",\"token\":\"" TRIG "\","
	  "\"variables\":{\"DEPLOY\":\"yes\"}}", "POST", P "/trigger/pipeline", true, true, false },
	{ "download_artifact", "{" A ",\"job_id\":2003,\"artifact_path\":\"dist/report.json\"}",
	  "GET", P "/jobs/{job_id}/artifacts/{artifact_path*}", false, false, true },
	{ "download_artifact", "{" A ",\"job_id\":2003}", "GET", P "/jobs/{job_id}/artifacts",
	  false, false, false },
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

Test(gitlab_schema, ops_params_and_flags)
{
	static const char *const names[] = { "list_pipelines", "get_pipeline", "get_pipeline_jobs",
	    "get_job", "get_job_logs", "retry_pipeline", "cancel_pipeline", "trigger_pipeline",
	    "download_artifact", NULL };
	static const char *const writes[] = { "retry_pipeline", "cancel_pipeline",
	    "trigger_pipeline", NULL };
	const struct tool_family *f = &tool_fam_gitlab_ci;
	const struct tool_param *tok;

	famb_schema_ops(f, "gitlab_ci", names, writes);
	for (const struct tool_op *op = f->ops; op->name; op++)
		cr_assert(tool_param_find(op, "project_id")->required, "%s", op->name);
	tok = tool_param_find(tool_op_find(f, "trigger_pipeline"), "token");
	cr_assert(tok != NULL && (tok->flags & TP_F_SECRETISH) && !tok->required);
	cr_assert(tool_param_find(tool_op_find(f, "trigger_pipeline"), "ref")->required);
}

Test(gitlab_schema, bad_arguments_are_refused)
{
	static const struct famb_bad cases[] = {
		{ "get_pipeline", "{\"project_id\":\"../x\",\"pipeline_id\":1}", "project_id" },
		{ "get_pipeline", "{\"project_id\":\"a//b\",\"pipeline_id\":1}", "project_id" },
		{ "get_pipeline", "{\"project_id\":42,\"pipeline_id\":1}", "project_id" },
		{ "list_pipelines", "{" A ",\"per_page\":101}", "per_page" },
		{ "list_pipelines", "{" A ",\"status\":\"done\"}", "status" },
		{ "list_pipelines", "{" A ",\"updated_after\":\"yesterday\"}", "updated_after" },
		{ "trigger_pipeline", "{" A "}", "ref" },
		{ "trigger_pipeline", "{" A ",\"ref\":\"main\",\"token\":\"a b\"}", "token" },
		{ "download_artifact", "{" A ",\"job_id\":1,\"artifact_path\":\"/etc/passwd\"}",
		  "artifact_path" },
		{ "get_job_logs", "{" A ",\"job_id\":1,\"max_bytes\":10}", "max_bytes" },
	};

	famb_schema_refuses(&tool_fam_gitlab_ci, cases, sizeof(cases) / sizeof(cases[0]));
}

TestSuite(gitlab, .init = setup, .fini = teardown, .timeout = 60);

FAMB_MATRIX_TESTS(gitlab, T, OPS, NOPS)

Test(gitlab, project_path_is_one_encoded_segment_and_api_v4_is_added_once)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "get_pipeline", "{" A ",\"pipeline_id\":1000}");
	json_t *e = famb_entry(&T, n0, 0);

	cr_assert_str_eq(famb_field(e, "raw_path"),
	    "/api/v4/projects/group%2Fsub%2Fproj/pipelines/1000");
	cr_assert_str_eq(famb_field(json_object_get(e, "headers"), "authorization"),
	    "Bearer " SECRET);
	cr_assert_null(json_object_get(json_object_get(e, "headers"), "private-token"));
	cr_assert_str_eq(famb_field(r, "status"), "failed");
	cr_assert_str_eq(famb_field(json_object_get(r, "user"), "username"), "ci-bot");
	json_decref(e);
	json_decref(r);
	/* a self-hosted instance under a relative URL root, configured with /api/v4 already */
	famb_base_url(&T, "{\"prefix\":\"/gitlab\"}", "/gitlab/api/v4/");
	n0 = fake_count(&T.fake);
	r = famb_ok(&T, "get_pipeline", "{\"project_id\":\"42\",\"pipeline_id\":1001}");
	e = famb_entry(&T, n0, 0);
	cr_assert_str_eq(famb_field(e, "raw_path"), "/gitlab/api/v4/projects/42/pipelines/1001");
	json_decref(e);
	json_decref(r);
}

Test(gitlab, pipelines_follow_x_next_page)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "list_pipelines", "{" A ",\"per_page\":2,\"max_pages\":3}");
	json_t *p = json_object_get(r, "pipelines");

	cr_assert_eq(json_array_size(p), 6);
	cr_assert_eq(json_integer_value(json_object_get(r, "next_page")), 4);
	cr_assert_eq(json_integer_value(json_object_get(r, "total_count")), 7);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(p, 0), "id")), 1006);
	cr_assert_eq(fake_count(&T.fake) - n0, 3);
	json_decref(r);
	r = famb_ok(&T, "list_pipelines", "{" A ",\"per_page\":100,\"max_pages\":10}");
	cr_assert_eq(json_array_size(json_object_get(r, "pipelines")), 7);
	cr_assert(json_is_null(json_object_get(r, "next_page")));
	json_decref(r);
}

Test(gitlab, jobs_with_repeated_scope_and_bridges)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "get_pipeline_jobs", "{" A ",\"pipeline_id\":1000,"
	    "\"scope\":[\"failed\",\"success\"],\"include_bridges\":true}");
	json_t *log = famb_log_since(&T, n0), *jobs = json_object_get(r, "jobs");
	json_t *br = json_object_get(r, "bridges"), *q;
	const char *txt;
	size_t k = 0;

	cr_assert_eq(json_array_size(log), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *e = json_array_get(log, i);

		if (strstr(famb_field(e, "raw_path"), "/bridges"))
			continue;
		q = json_object_get(json_object_get(e, "query"), "scope[]");
		cr_assert_eq(json_array_size(q), 2);
		cr_assert_str_eq(json_string_value(json_array_get(q, 0)), "failed");
		cr_assert_str_eq(json_string_value(json_array_get(q, 1)), "success");
		k++;
	}
	cr_assert_eq(k, 1);
	cr_assert_eq(json_array_size(jobs), 3);
	cr_assert_str_eq(famb_field(json_array_get(jobs, 0), "failure_reason"), "script_failure");
	cr_assert_eq(json_array_size(br), 1);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_array_get(br, 0),
	    "downstream_pipeline"), "id")), 1500);
	json_decref(log);
	json_decref(r);
	/* a scope outside the job statuses never reaches the server */
	n0 = fake_count(&T.fake);
	txt = famb_fail(&T, "get_pipeline_jobs", "{" A ",\"pipeline_id\":1000,"
	    "\"scope\":[\"failed\",\"x&y=z\"]}", ERR_SCHEMA, 0);
	cr_assert(strstr(txt, "scope[1]") != NULL, "%s", txt);
	cr_assert_eq(fake_count(&T.fake), n0);
}

Test(gitlab, trace_tail_without_ansi)
{
	json_t *r = famb_ok(&T, "get_job_logs", "{" A ",\"job_id\":2001,\"max_bytes\":1024}");
	const char *log = famb_field(r, "log");

	cr_assert(strlen(log) <= 1024);
	cr_assert(strstr(log, "FAIL: test_rollback (expected 2, got 3)\nERROR: Job failed: exit code 1"));
	cr_assert_null(strchr(log, '\x1b'), "ANSI escapes left in the log");
	cr_assert(json_is_true(json_object_get(r, "tail_only")));
	json_decref(r);
	r = famb_ok(&T, "get_job_logs", "{" A ",\"job_id\":2001,\"strip_ansi\":false}");
	cr_assert_not_null(strchr(famb_field(r, "log"), '\x1b'));
	json_decref(r);
}

Test(gitlab, success_codes_cancel_200_retry_201)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "cancel_pipeline", "{" A ",\"pipeline_id\":1001}"), *e;

	e = famb_entry(&T, n0, 0);
	cr_assert_eq(json_integer_value(json_object_get(e, "status")), 200);
	cr_assert_str_eq(famb_field(e, "body"), "");
	cr_assert_str_eq(famb_field(r, "status"), "canceled");
	json_decref(e);
	json_decref(r);
	n0 = fake_count(&T.fake);
	r = famb_ok(&T, "retry_pipeline", "{" A ",\"pipeline_id\":1000}");
	e = famb_entry(&T, n0, 0);
	cr_assert_eq(json_integer_value(json_object_get(e, "status")), 201);
	cr_assert_str_eq(famb_field(r, "status"), "pending");
	json_decref(e);
	json_decref(r);
	famb_fail(&T, "retry_pipeline", "{" A ",\"pipeline_id\":99}", ERR_NOTFOUND, 404);
	cr_assert(strstr(famb_fail(&T, "get_pipeline", "{\"project_id\":\"other/proj\","
	    "\"pipeline_id\":1}", ERR_NOTFOUND, 404), "404 Project Not Found") != NULL);
}

Test(gitlab, create_pipeline_sends_variables_as_key_value_array)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "trigger_pipeline", "{" A ",\"ref\":\"release/1.x\","
	    "\"variables\":{\"DEPLOY\":\"yes\",\"REPLICAS\":3,\"DRY\":false},"
	    "\"inputs\":{\"env\":\"prod\"}}"), *e = famb_entry(&T, n0, 0), *body, *want;
	const char *txt;

	cr_assert_str_eq(famb_field(e, "raw_path"), "/api/v4/projects/group%2Fsub%2Fproj/pipeline");
	cr_assert_str_eq(famb_field(json_object_get(e, "headers"), "content-type"),
	    "application/json");
	body = json_loads(famb_field(e, "body"), 0, NULL);
	want = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}], s:{s:s}}", "ref",
	    "release/1.x", "variables", "key", "DEPLOY", "value", "yes", "key", "REPLICAS", "value",
	    "3", "key", "DRY", "value", "false", "inputs", "env", "prod");
	cr_assert(json_equal(body, want), "body %s", famb_field(e, "body"));
	cr_assert_str_eq(famb_field(r, "ref"), "release/1.x");
	cr_assert_str_eq(famb_field(r, "source"), "api");
	json_decref(body);
	json_decref(want);
	json_decref(e);
	json_decref(r);
	txt = famb_fail(&T, "trigger_pipeline", "{" A ",\"ref\":\"nope\"}", ERR_HTTP, 400);
	cr_assert(strstr(txt, "Reference not found") != NULL, "%s", txt);
	n0 = fake_count(&T.fake);
	famb_fail(&T, "trigger_pipeline", "{" A ",\"ref\":\"main\",\"variables\":{\"A-B\":\"x\"}}",
	    ERR_SCHEMA, 0);
	cr_assert_eq(fake_count(&T.fake), n0);
}

Test(gitlab, trigger_token_uses_the_trigger_endpoint_and_never_leaks)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r, *e, *form;

	famb_reset(&T, "{\"echo_token\":true}");
	r = famb_ok(&T, "trigger_pipeline", "{" A ",\"ref\":\"main\",\"token\":\"" TRIG "\","
	    "\"variables\":{\"DEPLOY\":\"yes\",\"NOTE\":\"a&b=c d\"}}");
	e = famb_entry(&T, n0, 0);
	cr_assert_str_eq(famb_field(e, "raw_path"),
	    "/api/v4/projects/group%2Fsub%2Fproj/trigger/pipeline");
	cr_assert_null(json_object_get(json_object_get(e, "headers"), "authorization"),
	    "the user token went to the trigger endpoint");
	cr_assert_str_eq(famb_field(json_object_get(e, "headers"), "content-type"),
	    "application/x-www-form-urlencoded");
	cr_assert_str_eq(famb_field(e, "body"), "token=" TRIG "&ref=main&variables%5BDEPLOY%5D=yes"
	    "&variables%5BNOTE%5D=a%26b%3Dc%20d");
	cr_assert_str_eq(famb_field(r, "source"), "trigger");
	cr_assert(!harness_leaks(r, NULL, TRIG), "the trigger token came back in the result");
	cr_assert(strstr(famb_field(r, "name"), "[REDACTED]") != NULL);
	json_decref(e);
	json_decref(r);
	/* a wrong trigger token: 404, and the error text does not carry it either */
	cr_assert_eq(fake_control(&T.fake, "{\"modes\":[{\"mode\":\"echo_auth\",\"status\":403}]}"),
	    0);
	famb_fail(&T, "trigger_pipeline", "{" A ",\"ref\":\"main\",\"token\":\"glptt-wrong\"}",
	    ERR_HTTP, 403);
	famb_fail(&T, "trigger_pipeline", "{" A ",\"ref\":\"main\",\"token\":\"glptt-wrong\"}",
	    ERR_NOTFOUND, 404);
	/* dry run: the token is redacted from the description */
	T.h.dry_run = true;
	r = famb_ok(&T, "trigger_pipeline", "{" A ",\"ref\":\"main\",\"token\":\"" TRIG "\"}");
	form = json_object_get(json_object_get(r, "request"), "body");
	cr_assert_str_eq(famb_field(form, "token"), "[REDACTED]");
	cr_assert(!harness_leaks(r, NULL, TRIG));
	json_decref(r);
}

Test(gitlab, artifacts_file_keeps_slashes_archive_lists_files)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "download_artifact", "{" A ",\"job_id\":2003,"
	    "\"artifact_path\":\"dist/report.json\"}"), *e = famb_entry(&T, n0, 0), *files;

	cr_assert_str_eq(famb_field(e, "raw_path"),
	    "/api/v4/projects/group%2Fsub%2Fproj/jobs/2003/artifacts/dist/report.json");
	cr_assert_str_eq(famb_field(r, "content"), "{\"passed\": 12, \"failed\": 1}\n");
	cr_assert_null(json_object_get(r, "content_base64"));
	json_decref(e);
	json_decref(r);
	r = famb_ok(&T, "download_artifact", "{" A ",\"job_id\":2003,"
	    "\"artifact_path\":\"dist/app.bin\"}");
	cr_assert_str_eq(famb_field(r, "content_base64"),
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"
	    "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYG"
	    "FiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6Ch"
	    "oqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4e"
	    "Lj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==");
	json_decref(r);
	r = famb_ok(&T, "download_artifact", "{" A ",\"job_id\":2003}");
	files = json_object_get(json_object_get(r, "files"), "files");
	cr_assert_eq(json_array_size(files), 2);
	cr_assert_str_eq(famb_field(json_array_get(files, 0), "name"), "dist/report.json");
	cr_assert_not_null(famb_field(r, "content_base64"));
	json_decref(r);
	famb_fail(&T, "download_artifact", "{" A ",\"job_id\":2001}", ERR_NOTFOUND, 404);
}

Test(gitlab, path_arguments_are_encoded_or_refused)
{
	famb_inject(&T, "get_pipeline", "{" A ",\"pipeline_id\":1000}", "project_id",
	    FAMB_ENC_PROJECT, "/api/v4/projects/%s/pipelines/1000");
	famb_inject(&T, "download_artifact", "{" A ",\"job_id\":2003,\"artifact_path\":\"x\"}",
	    "artifact_path", FAMB_ENC_PATH, "/api/v4/projects/group%2Fsub%2Fproj/jobs/2003/"
	    "artifacts/%s");
}

Test(gitlab, refs_stay_query_values_and_retry_after_is_honoured)
{
	static const char *const refs[] = { "main&status=failed", "a#b", "../../x", "v1?x=y",
	    "r\xc3\xa9" "f", "%2e%2e" };
	json_t *r, *e, *q;
	int64_t t0;
	size_t n0;

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		json_t *a = json_pack("{s:s, s:s}", "project_id", "group/sub/proj", "ref", refs[i]);
		struct tool_err err;

		n0 = fake_count(&T.fake);
		cr_assert_eq(harness_call_unchecked(&T.h, &tool_fam_gitlab_ci, "list_pipelines", a,
		    &r, &err), 0, "%s: %s", refs[i], err.text);
		e = famb_entry(&T, n0, 0);
		q = json_object_get(e, "query");
		cr_assert_str_eq(famb_field(e, "raw_path"),
		    "/api/v4/projects/group%2Fsub%2Fproj/pipelines");
		cr_assert_str_eq(json_string_value(json_array_get(json_object_get(q, "ref"), 0)),
		    refs[i]);
		cr_assert_null(json_object_get(q, "status"), "%s smuggled a parameter", refs[i]);
		json_decref(e);
		json_decref(r);
		json_decref(a);
	}
	cr_assert_eq(fake_control(&T.fake, "{\"modes\":[{\"mode\":\"status\",\"status\":429,"
	    "\"retry_after\":1,\"message\":\"Retry later\"}]}"), 0);
	n0 = fake_count(&T.fake);
	t0 = harness_now_ms();
	json_decref(famb_ok(&T, "get_pipeline", "{" A ",\"pipeline_id\":1000}"));
	cr_assert(harness_now_ms() - t0 >= 900, "Retry-After not honoured");
	cr_assert_eq(fake_count(&T.fake) - n0, 2);
	cr_assert_eq(fake_control(&T.fake, "{\"modes\":[{\"mode\":\"status\",\"status\":429,"
	    "\"retry_after\":1,\"message\":\"Retry later\"}]}"), 0);
	n0 = fake_count(&T.fake);
	cr_assert(strstr(famb_fail(&T, "retry_pipeline", "{" A ",\"pipeline_id\":1000}", ERR_RATE,
	    429), "Retry later") != NULL);
	cr_assert_eq(fake_count(&T.fake) - n0, 1, "a write was retried");
}
