/* The jenkins family against tests/fakes/fake_jenkins.py, a loopback fake that follows Jenkins
 * core's remote API (tests/tools/contracts/jenkins.json): every op in every failure mode, then
 * what is easy to get wrong (/job/a/job/b folder paths with per-segment encoding, multibranch
 * %252F, context paths, Basic user:token and no crumb, buildWithParameters, 201 + queue item
 * polled for the build number, 302 = success for stop/enable/disable, HTML error pages). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "tests/tools/famb.h"
#include "tools/paginate.h"
#include "tools/tool.h"

extern const struct tool_family tool_fam_jenkins;

#define SECRET	"11aabbccddeeff00112233445566778899"
#define USER	"corral-bot"
#define J	"/{job}"

static const struct famb_op OPS[] = {
	{ "list_jobs", "{}", "GET", J "/api/json", false, true, false },
	{ "list_jobs", "{\"folder\":\"team-a/apps\"}", "GET", J "/api/json", false, true, false },
	{ "get_job", "{\"job_name\":\"team-a/apps/deploy\"}", "GET", J "/api/json", false, true,
	  false },
	{ "get_build", "{\"job_name\":\"deploy\",\"build_number\":\"3\"}", "GET",
	  J "/{number}/api/json", false, true, false },
	{ "get_build_logs", "{\"job_name\":\"deploy\"}", "GET", J "/{number}/consoleText", false,
	  false, false },
	{ "trigger_build", "{\"job_name\":\"team-a/apps/build\",\"wait_seconds\":0}", "POST",
	  J "/build", true, false, true },
	{ "trigger_build", "{\"job_name\":\"deploy\",\"parameters\":{\"ENV\":\"prod\"},"
	  "\"wait_seconds\":0}", "POST", J "/buildWithParameters", true, false, true },
	{ "stop_build", "{\"job_name\":\"team-a/apps/deploy\",\"build_number\":\"6\"}", "POST",
	  J "/{number}/stop", true, false, true },
	{ "get_queue", "{}", "GET", "/queue/api/json", false, true, true },
	{ "get_nodes", "{}", "GET", "/computer/api/json", false, true, false },
	{ "disable_job", "{\"job_name\":\"deploy\"}", "POST", J "/disable", true, false, true },
	{ "enable_job", "{\"job_name\":\"disabled-job\"}", "POST", J "/enable", true, false, true },
};
#define NOPS (sizeof(OPS) / sizeof(OPS[0]))

static struct famb T;
static char basic_b64[128];

static void
setup(void)
{
	static struct famb_env env = {
		.script = "fake_jenkins.py", .fam = &tool_fam_jenkins, .secret = SECRET,
		.endpoint_extra = "{\"user\":\"" USER "\"}",
	};
	char *b;

	cr_assert_eq(tool_pg_b64((const unsigned char *)USER ":" SECRET,
	    strlen(USER ":" SECRET), &b, NULL), 0);
	snprintf(basic_b64, sizeof(basic_b64), "%s", b);
	free(b);
	env.leak2 = basic_b64;
	famb_open(&T, &env);
}

static void
teardown(void)
{
	famb_close(&T);
}

Test(jenkins_schema, ops_params_and_flags)
{
	static const char *const names[] = { "list_jobs", "get_job", "get_build", "get_build_logs",
	    "trigger_build", "stop_build", "get_queue", "get_nodes", "disable_job", "enable_job",
	    NULL };
	static const char *const writes[] = { "trigger_build", "stop_build", "disable_job",
	    "enable_job", NULL };
	const struct tool_family *f = &tool_fam_jenkins;

	famb_schema_ops(f, "jenkins", names, writes);
	for (const struct tool_op *op = f->ops; op->name; op++) {
		cr_assert_null(tool_param_find(op, "token"));
		cr_assert_null(tool_param_find(op, "user"));
	}
	cr_assert(tool_op_find(f, "trigger_build")->flags & TOOL_F_PROGRESS);
	cr_assert(tool_param_find(tool_op_find(f, "stop_build"), "build_number")->required);
	cr_assert(!tool_param_find(tool_op_find(f, "get_build"), "build_number")->required);
}

Test(jenkins_schema, bad_arguments_are_refused)
{
	static const struct famb_bad cases[] = {
		{ "get_job", "{\"job_name\":\"/deploy\"}", "job_name" },
		{ "get_job", "{\"job_name\":\"a//b\"}", "job_name" },
		{ "get_job", "{\"job_name\":\"a/\"}", "job_name" },
		{ "get_build", "{\"job_name\":\"a\",\"build_number\":\"1;2\"}", "build_number" },
		{ "get_build", "{\"job_name\":\"a\",\"build_number\":7}", "build_number" },
		{ "stop_build", "{\"job_name\":\"a\"}", "build_number" },
		{ "trigger_build", "{\"job_name\":\"a\",\"wait_seconds\":600}", "wait_seconds" },
		{ "trigger_build", "{\"job_name\":\"a\",\"parameters\":{\"A\":[1]}}", "parameters" },
		{ "get_queue", "{\"x\":1}", "x" },
	};

	famb_schema_refuses(&tool_fam_jenkins, cases, sizeof(cases) / sizeof(cases[0]));
}

TestSuite(jenkins, .init = setup, .fini = teardown, .timeout = 60);

FAMB_MATRIX_TESTS(jenkins, T, OPS, NOPS)

Test(jenkins, folder_paths_tree_and_basic_auth_without_crumb)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "get_job", "{\"job_name\":\"team-a/apps/deploy\"}"), *e;
	char auth[200];

	e = famb_entry(&T, n0, 0);
	cr_assert_str_eq(famb_field(e, "raw_path"), "/job/team-a/job/apps/job/deploy/api/json");
	cr_assert_str_eq(famb_query(e, "tree"),
	    "name,fullName,url,buildable,color,inQueue,nextBuildNumber,"
	    "lastBuild[number,url],lastCompletedBuild[number,result],lastSuccessfulBuild[number],"
	    "lastFailedBuild[number],builds[number,url]{0,20},"
	    "property[parameterDefinitions[name,type,defaultParameterValue[value]]]");
	snprintf(auth, sizeof(auth), "Basic %s", basic_b64);
	cr_assert_str_eq(famb_field(json_object_get(e, "headers"), "authorization"), auth);
	cr_assert_null(json_object_get(json_object_get(e, "headers"), "jenkins-crumb"));
	cr_assert_str_eq(famb_field(r, "fullName"), "team-a/apps/deploy");
	cr_assert_eq(json_integer_value(json_object_get(r, "nextBuildNumber")), 7);
	/* what the nested selections asked of each permalink, and no more (the fake applies
	 * them as Jenkins does) */
	cr_assert_not_null(json_object_get(json_object_get(r, "lastCompletedBuild"), "result"));
	cr_assert_not_null(json_object_get(json_object_get(r, "lastSuccessfulBuild"), "number"));
	cr_assert_null(json_object_get(json_object_get(r, "lastSuccessfulBuild"), "url"));
	cr_assert_null(json_object_get(json_object_get(r, "lastBuild"), "result"));
	cr_assert_not_null(json_object_get(json_object_get(r, "lastBuild"), "url"));
	json_decref(e);
	json_decref(r);
	r = famb_ok(&T, "list_jobs", "{\"folder\":\"team-a/apps\"}");
	cr_assert_eq(json_array_size(json_object_get(r, "jobs")), 2);
	cr_assert_str_eq(famb_field(json_array_get(json_object_get(r, "jobs"), 1), "fullName"),
	    "team-a/apps/build");
	json_decref(r);
}

Test(jenkins, multibranch_branch_names_are_encoded_twice)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "get_build", "{\"job_name\":\"repo/feature%2Fx\"}"),
	    *e = famb_entry(&T, n0, 0);

	cr_assert_str_eq(famb_field(e, "raw_path"),
	    "/job/repo/job/feature%252Fx/lastBuild/api/json");
	cr_assert_eq(json_integer_value(json_object_get(r, "number")), 5);
	cr_assert_str_eq(famb_field(r, "result"), "SUCCESS");
	json_decref(e);
	json_decref(r);
}

Test(jenkins, trigger_follows_the_queue_item_to_the_build_number)
{
	size_t n0 = fake_count(&T.fake);
	json_t *r = famb_ok(&T, "trigger_build", "{\"job_name\":\"deploy\","
	    "\"parameters\":{\"ENV\":\"prod\",\"VERSION\":\"1.2.3+b7\",\"DRY\":true}}");
	json_t *log = famb_log_since(&T, n0), *post = json_array_get(log, 0);

	cr_assert_str_eq(famb_field(post, "raw_path"), "/job/deploy/buildWithParameters");
	cr_assert_str_eq(famb_field(post, "body"), "ENV=prod&VERSION=1.2.3%2Bb7&DRY=true");
	cr_assert_str_eq(famb_field(json_object_get(post, "headers"), "content-type"),
	    "application/x-www-form-urlencoded");
	cr_assert_eq(json_integer_value(json_object_get(post, "status")), 201);
	cr_assert_eq(json_array_size(log), 4, "POST + 3 queue polls, got %zu",
	    json_array_size(log));
	for (size_t i = 1; i < 4; i++)
		cr_assert_str_eq(famb_field(json_array_get(log, i), "raw_path"),
		    "/queue/item/501/api/json");
	cr_assert_eq(json_integer_value(json_object_get(r, "queue_id")), 501);
	cr_assert_eq(json_integer_value(json_object_get(r, "build_number")), 6);
	cr_assert_str_eq(famb_field(r, "status"), "started");
	cr_assert(T.h.nevents >= 1);
	cr_assert_str_eq(T.h.last_event, "queued: Waiting for next available executor");
	json_decref(log);
	json_decref(r);
}

Test(jenkins, trigger_outcomes_cancelled_duplicate_and_still_queued)
{
	json_t *r, *r2;
	int64_t t0;

	famb_reset(&T, "{\"queue_cancel\":true}");
	r = famb_ok(&T, "trigger_build", "{\"job_name\":\"team-a/apps/build\"}");
	cr_assert_str_eq(famb_field(r, "status"), "cancelled");
	cr_assert(json_is_null(json_object_get(r, "build_number")));
	json_decref(r);
	famb_reset(&T, "{\"dup\":true}");
	r = famb_ok(&T, "trigger_build", "{\"job_name\":\"deploy\",\"parameters\":{\"ENV\":\"a\"},"
	    "\"wait_seconds\":0}");
	r2 = famb_ok(&T, "trigger_build", "{\"job_name\":\"deploy\",\"parameters\":{\"ENV\":\"a\"},"
	    "\"wait_seconds\":0}");
	cr_assert(json_is_false(json_object_get(r, "already_queued")));
	cr_assert(json_is_true(json_object_get(r2, "already_queued")));
	cr_assert(json_equal(json_object_get(r, "queue_id"), json_object_get(r2, "queue_id")));
	json_decref(r);
	json_decref(r2);
	famb_reset(&T, "{\"queue_polls\":1000}");
	t0 = harness_now_ms();
	r = famb_ok(&T, "trigger_build", "{\"job_name\":\"deploy\",\"parameters\":{},"
	    "\"wait_seconds\":1}");
	cr_assert(harness_now_ms() - t0 < 2500, "the wait was not bounded");
	cr_assert_str_eq(famb_field(r, "status"), "queued");
	cr_assert(json_is_null(json_object_get(r, "build_number")));
	cr_assert_str_eq(famb_field(r, "why"), "Waiting for next available executor");
	json_decref(r);
}

Test(jenkins, trigger_errors_are_jenkins_own_words)
{
	const char *txt;

	txt = famb_fail(&T, "trigger_build", "{\"job_name\":\"team-a/apps/build\","
	    "\"parameters\":{}}", ERR_HTTP, 400);
	cr_assert(strstr(txt, "is not parameterized") != NULL, "%s", txt);
	txt = famb_fail(&T, "trigger_build", "{\"job_name\":\"disabled-job\"}", ERR_HTTP, 409);
	cr_assert(strstr(txt, "is not buildable") != NULL, "%s", txt);
	txt = famb_fail(&T, "get_job", "{\"job_name\":\"no-such-job\"}", ERR_NOTFOUND, 404);
	cr_assert_str_eq(txt, "HTTP 404 Not Found: Error 404 Not Found");
}

Test(jenkins, state_changes_answer_302_which_is_not_followed)
{
	static const char *const cases[][3] = {
		{ "stop_build", "{\"job_name\":\"team-a/apps/deploy\",\"build_number\":\"6\"}",
		  "stop_requested" },
		{ "disable_job", "{\"job_name\":\"deploy\"}", "disabled" },
		{ "enable_job", "{\"job_name\":\"deploy\"}", "enabled" },
	};
	const char *txt;

	for (size_t i = 0; i < 3; i++) {
		size_t n0 = fake_count(&T.fake);
		json_t *r = famb_ok(&T, cases[i][0], cases[i][1]), *e = famb_entry(&T, n0, 0);

		cr_assert_eq(json_integer_value(json_object_get(e, "status")), 302);
		cr_assert_eq(fake_count(&T.fake) - n0, 1, "%s: the redirect was followed",
		    cases[i][0]);
		cr_assert_str_eq(famb_field(r, "status"), cases[i][2]);
		json_decref(e);
		json_decref(r);
	}
	txt = famb_fail(&T, "disable_job", "{\"job_name\":\"locked\"}", ERR_HTTP, 403);
	cr_assert(strstr(txt, "needs hudson.model.Item.Configure") != NULL, "%s", txt);
	txt = famb_fail(&T, "enable_job", "{\"job_name\":\"needs-login\"}", ERR_HTTP, 302);
	cr_assert(strstr(txt, "login") != NULL, "%s", txt);
}

Test(jenkins, console_tail_queue_and_nodes)
{
	json_t *r = famb_ok(&T, "get_build_logs", "{\"job_name\":\"team-a/apps/deploy\","
	    "\"build_number\":\"lastFailedBuild\",\"max_bytes\":1024}"), *c;
	const char *log = famb_field(r, "log");

	cr_assert(strlen(log) <= 1024);
	cr_assert(strstr(log, "ERROR: script returned exit code 2\nFinished: FAILURE\n") != NULL);
	cr_assert_null(strstr(log, "Started by user"));
	json_decref(r);
	r = famb_ok(&T, "get_nodes", "{}");
	c = json_object_get(r, "computer");
	cr_assert_eq(json_array_size(c), 2);
	cr_assert_str_eq(famb_field(json_array_get(c, 1), "offlineCauseReason"),
	    "Connection was broken");
	cr_assert_eq(json_integer_value(json_object_get(r, "totalExecutors")), 6);
	json_decref(r);
	json_decref(famb_ok(&T, "trigger_build", "{\"job_name\":\"deploy\",\"parameters\":{},"
	    "\"wait_seconds\":0}"));
	r = famb_ok(&T, "get_queue", "{}");
	cr_assert_eq(json_array_size(json_object_get(r, "items")), 1);
	json_decref(r);
}

Test(jenkins, context_path_in_the_base_url)
{
	size_t n0;
	json_t *r, *log;

	famb_base_url(&T, "{\"context\":\"/jenkins\"}", "/jenkins");
	n0 = fake_count(&T.fake);
	r = famb_ok(&T, "trigger_build", "{\"job_name\":\"team-a/apps/build\"}");
	log = famb_log_since(&T, n0);
	cr_assert_str_eq(famb_field(json_array_get(log, 0), "raw_path"),
	    "/jenkins/job/team-a/job/apps/job/build/build");
	cr_assert_str_eq(famb_field(json_array_get(log, 1), "raw_path"),
	    "/jenkins/queue/item/501/api/json");
	cr_assert_eq(json_integer_value(json_object_get(r, "build_number")), 6);
	json_decref(log);
	json_decref(r);
}

Test(jenkins, credentials_need_a_user_and_never_show)
{
	size_t n0;
	json_t *r;

	json_object_del(T.h.endpoint_extra, "user");
	n0 = fake_count(&T.fake);
	famb_fail(&T, "get_queue", "{}", ERR_CONFIG, 0);
	cr_assert_eq(fake_count(&T.fake), n0);
	json_object_set_new(T.h.endpoint_extra, "user", json_string(USER));
	T.h.secret = "wrong-token";
	cr_assert(strstr(famb_fail(&T, "get_queue", "{}", ERR_HTTP, 401), "Invalid password/token"));
	T.h.secret = SECRET;
	cr_assert_eq(fake_control(&T.fake, "{\"modes\":[{\"mode\":\"echo_auth\"}]}"), 0);
	r = famb_ok(&T, "list_jobs", "{}");
	cr_assert(!harness_leaks(r, NULL, SECRET) && !harness_leaks(r, NULL, basic_b64));
	json_decref(r);
}

Test(jenkins, job_names_are_encoded_or_refused)
{
	famb_inject(&T, "get_job", "{\"job_name\":\"deploy\"}", "job_name", FAMB_ENC_JOBPATH,
	    "/%s/api/json");
	famb_inject(&T, "list_jobs", "{}", "folder", FAMB_ENC_JOBPATH, "/%s/api/json");
	famb_inject(&T, "disable_job", "{\"job_name\":\"deploy\"}", "job_name", FAMB_ENC_JOBPATH,
	    "/%s/disable");
}

Test(jenkins, retry_after_is_honoured_for_reads_only)
{
	int64_t t0;
	size_t n0;

	cr_assert_eq(fake_control(&T.fake, "{\"modes\":[{\"mode\":\"status\",\"status\":503,"
	    "\"retry_after\":1}]}"), 0);
	n0 = fake_count(&T.fake);
	t0 = harness_now_ms();
	json_decref(famb_ok(&T, "get_nodes", "{}"));
	cr_assert(harness_now_ms() - t0 >= 900, "Retry-After not honoured");
	cr_assert_eq(fake_count(&T.fake) - n0, 2);
	cr_assert_eq(fake_control(&T.fake, "{\"modes\":[{\"mode\":\"status\",\"status\":503,"
	    "\"retry_after\":1}]}"), 0);
	n0 = fake_count(&T.fake);
	famb_fail(&T, "disable_job", "{\"job_name\":\"deploy\"}", ERR_HTTP, 503);
	cr_assert_eq(fake_count(&T.fake) - n0, 1, "a write was retried");
}
