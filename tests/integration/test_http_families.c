/* The five HTTP families through a real corrald and real confined workers: every op succeeds
 * against the contract-checking fakes, every failure mode comes back with the right code and
 * text, hostile arguments are refused or stay encoded, and every call is audited.
 *
 *   corralctl -o json call FAMILY@TENANT OP --args JSON
 *     -> corrald (schema, policy builtin:admin, credential from a 0600 file, audit)
 *     -> corral-worker --kind http in an empty netns (sockets from the egress broker)
 *     -> tests/fakes/fake_*.py on 127.0.0.1 (endpoints with allow_private: true)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "ipc/msg.h"
#include "tests/integration/httpfx.h"

#define UID_BASE 41200u

static struct hf X;

static void
teardown(void)
{
	hf_close(&X);
}

TestSuite(http_families, .timeout = 120, .fini = teardown);

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define GH	"\"owner\":\"octo-org\",\"repo\":\"hello-world\""
#define GHR	"/repos/{owner}/{repo}/actions"
#define GL	"\"project_id\":\"group/sub/proj\""
#define GLP	"/api/v4/projects/{id}"

struct op_case {
	int fam;
	const char *op;
	const char *args;
	const char *method;		/* of the first request */
	const char *route;		/* its route template in the fake's log */
	const char *auth;		/* Authorization prefix expected, "" = none */
};

/* Every op of every family, with arguments the fakes answer with success. */
static const struct op_case ok_cases[] = {
	{ HF_ARGOCD, "get_application", "{\"app_name\":\"guestbook\"}", "GET",
	  "/api/v1/applications/{name}", "Bearer " },
	{ HF_ARGOCD, "list_applications", "{\"selector\":\"env=prod\"}", "GET",
	  "/api/v1/applications", "Bearer " },
	{ HF_ARGOCD, "sync_application", "{\"app_name\":\"guestbook\",\"revision\":\"v1.2.3\","
	  "\"prune\":true}", "POST", "/api/v1/applications/{name}/sync", "Bearer " },
	{ HF_ARGOCD, "get_sync_status", "{\"app_name\":\"busy\"}", "GET",
	  "/api/v1/applications/{name}", "Bearer " },
	{ HF_ARGOCD, "get_resources", "{\"app_name\":\"guestbook\"}", "GET",
	  "/api/v1/applications/{applicationName}/resource-tree", "Bearer " },
	{ HF_ARGOCD, "rollback_application", "{\"app_name\":\"guestbook\"}", "POST",
	  "/api/v1/applications/{name}/rollback", "Bearer " },
	{ HF_ARGOCD, "terminate_sync", "{\"app_name\":\"busy\"}", "DELETE",
	  "/api/v1/applications/{name}/operation", "Bearer " },
	{ HF_ARGOCD, "patch_application", "{\"app_name\":\"guestbook\",\"patch_data\":{\"spec\":"
	  "{\"source\":{\"targetRevision\":\"v2\"}}}}", "PATCH", "/api/v1/applications/{name}",
	  "Bearer " },
	{ HF_ARGOCD, "get_manifest", "{\"app_name\":\"guestbook\",\"revision\":\"abc123\"}", "GET",
	  "/api/v1/applications/{name}/manifests", "Bearer " },
	{ HF_ARGOCD, "get_logs", "{\"app_name\":\"guestbook\",\"resource_name\":\"guestbook\","
	  "\"resource_kind\":\"Deployment\",\"resource_group\":\"apps\",\"resource_namespace\":"
	  "\"guestbook-prod\",\"container\":\"app\"}", "GET", "/api/v1/applications/{name}/logs",
	  "Bearer " },

	{ HF_GITHUB, "list_workflow_runs", "{" GH ",\"workflow_id\":\"ci.yml\",\"branch\":\"main\"}",
	  "GET", GHR "/workflows/{workflow_id}/runs", "Bearer " },
	{ HF_GITHUB, "get_workflow_run", "{" GH ",\"run_id\":30001}", "GET", GHR "/runs/{run_id}",
	  "Bearer " },
	{ HF_GITHUB, "list_jobs", "{" GH ",\"run_id\":30001}", "GET", GHR "/runs/{run_id}/jobs",
	  "Bearer " },
	{ HF_GITHUB, "get_job", "{" GH ",\"job_id\":40001}", "GET", GHR "/jobs/{job_id}",
	  "Bearer " },
	{ HF_GITHUB, "get_job_logs", "{" GH ",\"job_id\":40001}", "GET", GHR "/jobs/{job_id}/logs",
	  "Bearer " },
	{ HF_GITHUB, "cancel_workflow_run", "{" GH ",\"run_id\":30002}", "POST",
	  GHR "/runs/{run_id}/cancel", "Bearer " },
	{ HF_GITHUB, "rerun_workflow", "{" GH ",\"run_id\":30001}", "POST",
	  GHR "/runs/{run_id}/rerun", "Bearer " },
	{ HF_GITHUB, "rerun_failed_jobs", "{" GH ",\"run_id\":30003}", "POST",
	  GHR "/runs/{run_id}/rerun-failed-jobs", "Bearer " },
	{ HF_GITHUB, "trigger_workflow", "{" GH ",\"workflow_id\":\"deploy.yml\",\"ref\":\"main\","
	  "\"inputs\":{\"environment\":\"prod\"}}", "POST", GHR "/workflows/{workflow_id}/dispatches",
	  "Bearer " },
	{ HF_GITHUB, "list_artifacts", "{" GH ",\"run_id\":30001}", "GET",
	  GHR "/runs/{run_id}/artifacts", "Bearer " },
	{ HF_GITHUB, "download_artifact", "{" GH ",\"artifact_id\":50001}", "GET",
	  GHR "/artifacts/{artifact_id}", "Bearer " },
	{ HF_GITHUB, "list_releases", "{" GH "}", "GET", "/repos/{owner}/{repo}/releases",
	  "Bearer " },
	{ HF_GITHUB, "create_release", "{" GH ",\"tag_name\":\"v2.0.0\",\"name\":\"2.0.0\","
	  "\"body\":\"notes\"}", "POST", "/repos/{owner}/{repo}/releases", "Bearer " },
	{ HF_GITHUB, "compare_commits", "{" GH ",\"base\":\"v1.0.0\",\"head\":\"main\"}", "GET",
	  "/repos/{owner}/{repo}/compare/{basehead}", "Bearer " },

	{ HF_GITLAB, "list_pipelines", "{" GL ",\"status\":\"success\",\"ref\":\"main\"}", "GET",
	  GLP "/pipelines", "Bearer " },
	{ HF_GITLAB, "get_pipeline", "{" GL ",\"pipeline_id\":1000}", "GET",
	  GLP "/pipelines/{pipeline_id}", "Bearer " },
	{ HF_GITLAB, "get_pipeline_jobs", "{" GL ",\"pipeline_id\":1000,\"scope\":[\"failed\","
	  "\"success\"]}", "GET", GLP "/pipelines/{pipeline_id}/jobs", "Bearer " },
	{ HF_GITLAB, "get_job", "{" GL ",\"job_id\":2001}", "GET", GLP "/jobs/{job_id}", "Bearer " },
	{ HF_GITLAB, "get_job_logs", "{" GL ",\"job_id\":2001}", "GET", GLP "/jobs/{job_id}/trace",
	  "Bearer " },
	{ HF_GITLAB, "retry_pipeline", "{" GL ",\"pipeline_id\":1000}", "POST",
	  GLP "/pipelines/{pipeline_id}/retry", "Bearer " },
	{ HF_GITLAB, "cancel_pipeline", "{" GL ",\"pipeline_id\":1001}", "POST",
	  GLP "/pipelines/{pipeline_id}/cancel", "Bearer " },
	{ HF_GITLAB, "trigger_pipeline", "{" GL ",\"ref\":\"main\",\"variables\":{\"DEPLOY\":"
	  "\"yes\"}}", "POST", GLP "/pipeline", "Bearer " },
	{ HF_GITLAB, "download_artifact", "{" GL ",\"job_id\":2003,\"artifact_path\":"
	  "\"dist/report.json\"}", "GET", GLP "/jobs/{job_id}/artifacts/{artifact_path*}", "Bearer " },

	{ HF_JENKINS, "list_jobs", "{}", "GET", "/{job}/api/json", "Basic " },
	{ HF_JENKINS, "get_job", "{\"job_name\":\"team-a/apps/deploy\"}", "GET", "/{job}/api/json",
	  "Basic " },
	{ HF_JENKINS, "get_build", "{\"job_name\":\"deploy\",\"build_number\":\"3\"}", "GET",
	  "/{job}/{number}/api/json", "Basic " },
	{ HF_JENKINS, "get_build_logs", "{\"job_name\":\"deploy\"}", "GET",
	  "/{job}/{number}/consoleText", "Basic " },
	{ HF_JENKINS, "trigger_build", "{\"job_name\":\"deploy\",\"parameters\":{\"ENV\":\"prod\"},"
	  "\"wait_seconds\":0}", "POST", "/{job}/buildWithParameters", "Basic " },
	{ HF_JENKINS, "stop_build", "{\"job_name\":\"team-a/apps/deploy\",\"build_number\":\"6\"}",
	  "POST", "/{job}/{number}/stop", "Basic " },
	{ HF_JENKINS, "get_queue", "{}", "GET", "/queue/api/json", "Basic " },
	{ HF_JENKINS, "get_nodes", "{}", "GET", "/computer/api/json", "Basic " },
	{ HF_JENKINS, "disable_job", "{\"job_name\":\"deploy\"}", "POST", "/{job}/disable",
	  "Basic " },
	{ HF_JENKINS, "enable_job", "{\"job_name\":\"disabled-job\"}", "POST", "/{job}/enable",
	  "Basic " },

	{ HF_PROM, "query", "{\"query\":\"up\"}", "GET", "/api/v1/query", "Bearer " },
	{ HF_PROM, "query_range", "{\"query\":\"up\",\"start\":\"1\",\"end\":\"60\",\"step\":"
	  "\"15s\"}", "GET", "/api/v1/query_range", "Bearer " },
};
#define NOK (sizeof(ok_cases) / sizeof(ok_cases[0]))

static const char *
hdr(json_t *e, const char *name)
{
	return json_string_value(json_object_get(json_object_get(e, "headers"), name));
}

/* The decision and outcome records of the last call of tool.op; returns the outcome's
 * "error" (or NULL) after checking decision allow and the outcome value. */
static void
assert_audited(int fam, const char *op, const char *outcome, int http_status)
{
	json_t *all, *oc, *dec = hf_audit_last(&X, hf_fams[fam].family, op, &oc, &all);

	cr_assert_str_eq(json_string_value(json_object_get(dec, "decision")), "allow");
	cr_assert_str_eq(json_string_value(json_object_get(dec, "tenant")), hf_tenant(&X, fam));
	cr_assert_str_eq(json_string_value(json_object_get(oc, "outcome")), outcome,
	    "%s.%s: outcome %s", hf_fams[fam].family, op,
	    json_string_value(json_object_get(oc, "outcome")));
	if (http_status)
		cr_assert_eq(json_integer_value(json_object_get(oc, "http_status")), http_status,
		    "%s.%s: audited http_status", hf_fams[fam].family, op);
	json_decref(all);
}

Test(http_families, every_op_succeeds_through_corrald)
{
	hf_open(&X, UID_BASE, (1u << HF_N) - 1, "5s", NULL, 0);
	for (size_t i = 0; i < NOK; i++) {
		const struct op_case *c = &ok_cases[i];
		size_t n0 = fake_count(&X.fk[c->fam]);
		struct hf_res r;
		json_t *log, *e;
		const char *auth;

		hf_call(&X, c->fam, c->op, c->args, &r);
		cr_assert_eq(r.rc, 0, "%s.%s: exit %d: %s %s", hf_fams[c->fam].family, c->op, r.rc,
		    r.out, r.err);
		cr_assert(json_is_object(r.j) || json_is_array(r.j), "%s.%s: not JSON: %s",
		    hf_fams[c->fam].family, c->op, r.out);
		cr_assert_null(strstr(r.out, hf_token(c->fam)), "%s: token in the result", c->op);
		log = hf_log_since(&X, c->fam, n0);
		hf_assert_clean(log, c->op);
		cr_assert_geq(json_array_size(log), 1, "%s: no request reached the fake", c->op);
		/* the op's own request (rollback reads the history first, trigger_build polls) */
		e = NULL;
		for (size_t k = 0; k < json_array_size(log) && e == NULL; k++) {
			json_t *x = json_array_get(log, k);

			if (strcmp(json_string_value(json_object_get(x, "method")), c->method) == 0 &&
			    json_is_string(json_object_get(x, "route")) &&
			    strcmp(json_string_value(json_object_get(x, "route")), c->route) == 0)
				e = x;
		}
		cr_assert_not_null(e, "%s: no %s %s in the fake's log", c->op, c->method, c->route);
		auth = hdr(e, "authorization");
		cr_assert_not_null(auth, "%s: no Authorization", c->op);
		cr_assert_eq(strncmp(auth, c->auth, strlen(c->auth)), 0, "%s: %s", c->op, auth);
		cr_assert_not_null(hdr(e, "user-agent"), "%s: no User-Agent", c->op);
		assert_audited(c->fam, c->op, "ok", 0);
		json_decref(log);
		hf_res_free(&r);
	}
}

/* ---------------------------------------------------------------- failure modes */

struct mode {
	const char *name;
	const char *control;		/* fakebase modes */
	const char *code;		/* what corralctl prints as "error" ("" = success) */
	int status;			/* http_status in the detail and the audit record */
	const char *text;		/* in the detail, or NULL */
	int min_req, max_req;		/* requests the fake sees */
	int min_ms;			/* the call takes at least this long */
	bool writes_too;		/* also run for the family's mutating op */
};

#define ST(n, rest) "{\"clear\":true,\"modes\":[{\"mode\":\"status\",\"status\":" #n rest \
	",\"count\":-1}]}"

static const struct mode modes[] = {
	{ "401", ST(401, ""), "ERR_HTTP", 401, "HTTP 401", 1, 1, 0, true },
	{ "403", ST(403, ""), "ERR_HTTP", 403, "HTTP 403", 1, 1, 0, true },
	{ "404", ST(404, ""), "ERR_NOTFOUND", 404, "HTTP 404", 1, 1, 0, true },
	{ "409", ST(409, ""), "ERR_HTTP", 409, "HTTP 409", 1, 1, 0, true },
	{ "415", ST(415, ""), "ERR_HTTP", 415, "HTTP 415", 1, 1, 0, false },
	{ "422", ST(422, ""), "ERR_HTTP", 422, "HTTP 422", 1, 1, 0, true },
	/* a Retry-After over the client's cap is not waited for: reported at once */
	{ "429-long", ST(429, ",\"retry_after\":120"), "ERR_RATE", 429, "\"retryable\":true", 1,
	  1, 0, true },
	/* one 429 with Retry-After: 1, then success: reads wait and retry */
	{ "429-once", "{\"clear\":true,\"modes\":[{\"mode\":\"status\",\"status\":429,"
	  "\"retry_after\":1,\"count\":1}]}", "", 0, NULL, 2, 2, 950, false },
	{ "500", ST(500, ""), "ERR_HTTP", 500, "HTTP 500", 1, 1, 0, true },
	{ "503", ST(503, ",\"retry_after\":120"), "ERR_HTTP", 503, "HTTP 503", 1, 1, 0, true },
	{ "503-retryable", ST(503, ",\"retry_after\":120"), "ERR_HTTP", 503, "\"retryable\":true",
	  1, 1, 0, false },
	{ "hang", "{\"clear\":true,\"modes\":[{\"mode\":\"hang\",\"seconds\":4,\"count\":-1}]}",
	  "ERR_TIMEOUT", 0, NULL, 1, 1, 1900, false },
	{ "slow-ok", "{\"clear\":true,\"modes\":[{\"mode\":\"slow\",\"chunk\":4096,"
	  "\"delay_ms\":10,\"count\":-1}]}", "", 0, NULL, 1, 1, 0, false },
	{ "slow-timeout", "{\"clear\":true,\"modes\":[{\"mode\":\"slow\",\"chunk\":4,"
	  "\"delay_ms\":100,\"count\":-1}]}", "ERR_TIMEOUT", 0, NULL, 1, 1, 1900, false },
	{ "oversize", "{\"clear\":true,\"modes\":[{\"mode\":\"oversize\",\"size\":10485760,"
	  "\"count\":-1}]}", "ERR_TOOBIG", 0, NULL, 1, 1, 0, false },
	{ "oversize-nolength", "{\"clear\":true,\"modes\":[{\"mode\":\"oversize\",\"size\":"
	  "10485760,\"no_length\":true,\"count\":-1}]}", "ERR_TOOBIG", 0, NULL, 1, 1, 0, false },
	{ "malformed", "{\"clear\":true,\"modes\":[{\"mode\":\"malformed\",\"count\":-1}]}",
	  "ERR_PROTO", 0, NULL, 1, 1, 0, false },
	/* closed without an answer: reads are retried (fresh brokered connections), then fail */
	{ "close", "{\"clear\":true,\"modes\":[{\"mode\":\"close\",\"count\":-1}]}", "ERR_CLOSED",
	  0, NULL, 2, 4, 0, false },
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

/* One read op per family (both for prometheus) and one write op. */
static const struct op_case fail_ops[] = {
	{ HF_ARGOCD, "get_application", "{\"app_name\":\"guestbook\"}", "GET",
	  "/api/v1/applications/{name}", "Bearer " },
	{ HF_ARGOCD, "sync_application", "{\"app_name\":\"guestbook\"}", "POST",
	  "/api/v1/applications/{name}/sync", "w" },
	{ HF_GITHUB, "get_workflow_run", "{" GH ",\"run_id\":30001}", "GET", GHR "/runs/{run_id}",
	  "Bearer " },
	{ HF_GITHUB, "cancel_workflow_run", "{" GH ",\"run_id\":30002}", "POST",
	  GHR "/runs/{run_id}/cancel", "w" },
	{ HF_GITLAB, "get_pipeline", "{" GL ",\"pipeline_id\":1000}", "GET",
	  GLP "/pipelines/{pipeline_id}", "Bearer " },
	{ HF_GITLAB, "retry_pipeline", "{" GL ",\"pipeline_id\":1000}", "POST",
	  GLP "/pipelines/{pipeline_id}/retry", "w" },
	{ HF_JENKINS, "get_build", "{\"job_name\":\"deploy\",\"build_number\":\"3\"}", "GET",
	  "/{job}/{number}/api/json", "Basic " },
	{ HF_JENKINS, "disable_job", "{\"job_name\":\"deploy\"}", "POST", "/{job}/disable", "w" },
	{ HF_PROM, "query", "{\"query\":\"up\"}", "GET", "/api/v1/query", "Bearer " },
	{ HF_PROM, "query_range", "{\"query\":\"up\",\"start\":\"1\",\"end\":\"60\",\"step\":"
	  "\"15s\"}", "GET", "/api/v1/query_range", "Bearer " },
};

static void
run_mode(const struct op_case *c, const struct mode *m)
{
	bool write = strcmp(c->auth, "w") == 0;
	size_t n0 = fake_count(&X.fk[c->fam]), n;
	const char *fam = hf_fams[c->fam].family;
	struct hf_res r;
	json_t *log;
	int64_t t0;
	char st[32];

	hf_control(&X, c->fam, m->control);
	t0 = now_ms();
	hf_call(&X, c->fam, c->op, c->args, &r);
	t0 = now_ms() - t0;
	log = hf_log_since(&X, c->fam, n0);
	n = json_array_size(log);
	hf_control(&X, c->fam, "{\"clear\":true}");
	hf_assert_clean(log, c->op);
	if (m->code[0] == '\0') {
		cr_assert_eq(r.rc, 0, "%s.%s %s: exit %d: %s", fam, c->op, m->name, r.rc, r.out);
		assert_audited(c->fam, c->op, "ok", 0);
	} else {
		cr_assert_eq(r.rc, 1, "%s.%s %s: exit %d: %s", fam, c->op, m->name, r.rc, r.out);
		cr_assert_str_eq(r.code ? r.code : "(none)", m->code, "%s.%s %s: %s", fam, c->op,
		    m->name, r.out);
		if (m->text)
			cr_assert_not_null(strstr(r.detail, m->text), "%s.%s %s: detail '%s'", fam,
			    c->op, m->name, r.detail);
		if (m->status) {
			snprintf(st, sizeof(st), "\"http_status\":%d", m->status);
			cr_assert_not_null(strstr(r.detail, st), "%s.%s %s: detail '%s'", fam, c->op,
			    m->name, r.detail);
		}
		assert_audited(c->fam, c->op, "error", m->status);
	}
	/* a mutating call is sent once, whatever happens */
	cr_assert(n >= (size_t)m->min_req && n <= (size_t)(write ? 1 : m->max_req),
	    "%s.%s %s: %zu requests", fam, c->op, m->name, n);
	cr_assert_geq(t0, m->min_ms, "%s.%s %s: %lld ms", fam, c->op, m->name, (long long)t0);
	cr_assert_null(strstr(r.out, hf_token(c->fam)), "%s %s: token in the output", c->op,
	    m->name);
	json_decref(log);
	hf_res_free(&r);
}

static void
failure_matrix(int fam)
{
	/* endpoint timeout 2 s: the hang and slow-timeout modes run into it */
	hf_open(&X, UID_BASE + 10u * (unsigned)(fam + 1), 1u << fam, "2s", NULL, 0);
	for (size_t k = 0; k < sizeof(fail_ops) / sizeof(fail_ops[0]); k++) {
		const struct op_case *c = &fail_ops[k];

		if (c->fam != fam)
			continue;
		for (size_t i = 0; i < NMODES; i++) {
			if (strcmp(c->auth, "w") != 0 || modes[i].writes_too)
				run_mode(c, &modes[i]);
		}
	}
}

Test(http_families, failures_argocd) { failure_matrix(HF_ARGOCD); }
Test(http_families, failures_github) { failure_matrix(HF_GITHUB); }
Test(http_families, failures_gitlab) { failure_matrix(HF_GITLAB); }
Test(http_families, failures_jenkins) { failure_matrix(HF_JENKINS); }
Test(http_families, failures_prometheus) { failure_matrix(HF_PROM); }

/* ---------------------------------------------------------------- argument injection */

/* Hostile values, as JSON string bodies (without quotes); raw bytes where JSON cannot say
 * them (non-UTF-8). */
static const char *const hostile[] = {
	"../../etc/passwd", "..", ".", "a/../../b", "%2e%2e", "%2e%2e%2fadmin", "..%2F..%2Fx",
	"a?b=c", "a#frag", "a&x=1", "a\\r\\nX-Injected: 1", "a\\nb", "a\\u0000b", "a%00b",
	"a\\\\b", "a;b", "\\u00e4pp", "a\xff\xfe" "b", "\\ud800", "a b", "a/b", "/abs", "a//b",
	"@LONG@",
};
#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

struct inj {
	int fam;
	const char *op;
	const char *fmt;		/* args with one %s for the value */
	const char *route;		/* the only route a request may take */
	const char *where;		/* "param:NAME", "query:NAME" or "body:NAME" */
	const char *suffix;		/* what follows the value there ("" or NULL: nothing) */
};

static const struct inj injections[] = {
	{ HF_ARGOCD, "get_application", "{\"app_name\":\"%s\"}", "/api/v1/applications/{name}",
	  "param:name", "" },
	{ HF_ARGOCD, "list_applications", "{\"selector\":\"%s\"}", "/api/v1/applications",
	  "query:selector", "" },
	{ HF_JENKINS, "get_job", "{\"job_name\":\"%s\"}", "/{job}/api/json", "param:job", "" },
	{ HF_JENKINS, "get_build", "{\"job_name\":\"deploy\",\"build_number\":\"%s\"}",
	  "/{job}/{number}/api/json", "param:number", "" },
	{ HF_GITLAB, "get_pipeline", "{\"project_id\":\"%s\",\"pipeline_id\":1000}",
	  GLP "/pipelines/{pipeline_id}", "param:id", "" },
	{ HF_GITLAB, "list_pipelines", "{" GL ",\"ref\":\"%s\"}", GLP "/pipelines", "query:ref", "" },
	{ HF_GITLAB, "trigger_pipeline", "{" GL ",\"ref\":\"%s\"}", GLP "/pipeline", "body:ref", "" },
	{ HF_GITHUB, "compare_commits", "{" GH ",\"base\":\"%s\",\"head\":\"main\"}",
	  "/repos/{owner}/{repo}/compare/{basehead}", "param:basehead", "...main" },
	{ HF_GITHUB, "list_workflow_runs", "{" GH ",\"branch\":\"%s\"}", GHR "/runs",
	  "query:branch", "" },
	{ HF_GITHUB, "trigger_workflow", "{" GH ",\"workflow_id\":\"deploy.yml\",\"ref\":\"%s\"}",
	  GHR "/workflows/{workflow_id}/dispatches", "body:ref", "" },
	{ HF_PROM, "query", "{\"query\":\"%s\"}", "/api/v1/query", "query:query", "" },
};

/* The value the API must receive, decoded from the JSON spelling (NULL: not representable,
 * must be refused). */
static char *
expected_value(const char *v)
{
	char buf[8192], *out;
	json_t *j;

	if (strchr(v, '\xff'))
		return NULL;
	snprintf(buf, sizeof(buf), "[\"%s\"]", v);
	if ((j = json_loads(buf, JSON_ALLOW_NUL, NULL)) == NULL)
		return NULL;
	out = strdup(json_string_value(json_array_get(j, 0)));
	if (json_string_length(json_array_get(j, 0)) != strlen(out)) {
		free(out);
		out = NULL;	/* holds a NUL */
	}
	json_decref(j);
	return out;
}

/* The value of name in an x-www-form-urlencoded body, decoded; NULL when absent. */
static const char *
form_value(const char *body, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name), o = 0;
	const char *p = body;

	while (p && *p) {
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			for (p += nl + 1; *p && *p != '&' && o + 1 < len; p++) {
				unsigned v;

				if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1) {
					buf[o++] = (char)v;
					p += 2;
				} else {
					buf[o++] = *p == '+' ? ' ' : *p;
				}
			}
			buf[o] = '\0';
			return buf;
		}
		p = strchr(p, '&');
		p = p ? p + 1 : NULL;
	}
	return NULL;
}

static const char *
received(json_t *e, const char *where, char *buf, size_t len)
{
	const char *name = strchr(where, ':') + 1;

	if (strncmp(where, "param:", 6) == 0)
		return json_string_value(json_object_get(json_object_get(e, "params"), name));
	if (strncmp(where, "query:", 6) == 0) {
		json_t *q = json_object_get(json_object_get(e, "query"), name);

		if (json_array_size(q) == 1)
			return json_string_value(json_array_get(q, 0));
		/* a long query goes as a form body (Prometheus) */
		return form_value(json_string_value(json_object_get(e, "body")), name, buf, len);
	}
	if (strncmp(where, "body:", 5) == 0) {
		json_t *b = json_loads(json_string_value(json_object_get(e, "body")), 0, NULL);

		snprintf(buf, len, "%s", json_string_value(json_object_get(b, name)) ?
		    json_string_value(json_object_get(b, name)) : "\x01(none)");
		json_decref(b);
		return buf;
	}
	return NULL;
}

/* corralctl will not encode a string that is not UTF-8 (ERR_UTF8), so the bytes go out in a
 * frame built here: a valid CALL whose args placeholder is patched to \xff\xfe in place.
 * Returns 1 when corrald closed the connection without an answer, 0 when it answered
 * (code in *code). */
static int
raw_call(const char *tool, const char *op, const char *args, int *code)
{
	struct msg m = { .type = MSG_CALL, .id = 7 }, in = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t *buf = NULL, *p, rbuf[65536];
	size_t len, got = 0;
	uint32_t be;
	int fd, r = 1;

	m.tool = (char *)tool;
	m.op = (char *)op;
	m.args = (char *)args;
	cr_assert_eq(msg_encode(&m, &buf, &len), 0);
	cr_assert_not_null(p = memmem(buf, len, "@@", 2));
	p[0] = 0xff;
	p[1] = 0xfe;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", X.hx.sock);
	cr_assert((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	be = htonl((uint32_t)len);
	cr_assert_eq(write(fd, &be, 4), 4);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;

		cr_assert_eq(poll(&pf, 1, 5000), 1, "no answer and no close from corrald");
		if ((n = read(fd, rbuf + got, sizeof(rbuf) - got)) <= 0)
			break;
		got += (size_t)n;
		if (got >= 4 && got >= 4 + ntohl(*(uint32_t *)rbuf)) {
			cr_assert_eq(msg_decode(rbuf + 4, got - 4, &in), 0);
			*code = in.code;
			msg_clear(&in);
			r = 0;
			break;
		}
	}
	close(fd);
	free(buf);
	return r;
}

static void
inject_raw(const struct inj *t)
{
	char args[512], tool[128];
	size_t n0 = fake_count(&X.fk[t->fam]), nd0, nd1;
	json_t *a;
	int code = 0, r;
	struct hf_res ok;

	{
		const char *pct = strstr(t->fmt, "%s");

		snprintf(args, sizeof(args), "%.*sa@@b%s", (int)(pct - t->fmt), t->fmt, pct + 2);
	}
	snprintf(tool, sizeof(tool), "%s@%s", hf_fams[t->fam].family, hf_tenant(&X, t->fam));
	a = hf_audit(&X);
	nd0 = json_array_size(a);
	json_decref(a);
	r = raw_call(tool, t->op, args, &code);
	/* refused: either the frame is dropped by the strict decoder, or the call is refused */
	cr_assert(r == 1 || code == ERR_SCHEMA || code == ERR_UTF8, "%s.%s: non-UTF-8 answered %d",
	    hf_fams[t->fam].family, t->op, code);
	cr_assert_eq(fake_count(&X.fk[t->fam]), n0, "%s.%s: non-UTF-8 bytes reached the API",
	    hf_fams[t->fam].family, t->op);
	a = hf_audit(&X);
	nd1 = json_array_size(a);
	json_decref(a);
	cr_assert(r == 1 ? nd1 == nd0 : nd1 > nd0, "audit records %zu -> %zu", nd0, nd1);
	/* and corrald is still serving */
	hf_call(&X, HF_PROM, "query", "{\"query\":\"up\"}", &ok);
	cr_assert_eq(ok.rc, 0, "corrald stopped serving after a bad frame: %s", ok.out);
	hf_res_free(&ok);
}

static void
inject_one(const struct inj *t, const char *value)
{
	char args[16384], got[8192], *want = expected_value(value);
	const char *fam = hf_fams[t->fam].family;
	size_t n0 = fake_count(&X.fk[t->fam]);
	struct hf_res r;
	json_t *log, *e, *all, *oc, *dec;
	size_t i;

	{
		const char *pct = strstr(t->fmt, "%s");

		snprintf(args, sizeof(args), "%.*s%s%s", (int)(pct - t->fmt), t->fmt, value, pct + 2);
	}
	hf_call(&X, t->fam, t->op, args, &r);
	log = hf_log_since(&X, t->fam, n0);
	if (json_array_size(log) == 0) {
		/* refused before anything was sent: by the supervisor's schema check */
		cr_assert_eq(r.rc, 1, "%s.%s '%s': exit %d: %s %s", fam, t->op, value, r.rc, r.out,
		    r.err);
		cr_assert_str_eq(r.code ? r.code : "(none)", "ERR_SCHEMA", "%s.%s '%s': %s", fam,
		    t->op, value, r.out);
		dec = hf_audit_last(&X, fam, t->op, &oc, &all);
		if (strcmp(json_string_value(json_object_get(dec, "decision")), "allow") == 0) {
			/* the schema let it through; the family's request builder refused it in
			 * the worker (e.g. '..' inside a git ref), and that is audited too */
			cr_assert_str_eq(json_string_value(json_object_get(oc, "outcome")), "error");
		} else {
			cr_assert_str_eq(json_string_value(json_object_get(dec, "decision")), "deny");
			cr_assert_not_null(strstr(json_string_value(json_object_get(dec, "reason")),
			    "invalid arguments"), "%s.%s '%s'", fam, t->op, value);
			cr_assert_null(oc);
		}
		json_decref(all);
	} else {
		/* sent: the value must have stayed where it belongs, exactly */
		cr_assert_not_null(want, "%s.%s: a value that cannot be represented was sent: %s",
		    fam, t->op, value);
		hf_assert_clean(log, t->op);
		json_array_foreach(log, i, e) {
			const char *route = json_string_value(json_object_get(e, "route"));
			const char *v;

			cr_assert(route && strcmp(route, t->route) == 0,
			    "%s.%s '%s': request went to %s (raw %s)", fam, t->op, value,
			    route ? route : "(no route)",
			    json_string_value(json_object_get(e, "raw_path")));
			if (i > 0)
				continue;
			v = received(e, t->where, got, sizeof(got));
			cr_assert(v && strncmp(v, want, strlen(want)) == 0 &&
			    strcmp(v + strlen(want), t->suffix ? t->suffix : "") == 0,
			    "%s.%s '%s': the API got '%s'", fam, t->op, value, v ? v : "(nothing)");
		}
	}
	json_decref(log);
	free(want);
	hf_res_free(&r);
}

Test(http_families, hostile_arguments_are_refused_or_stay_encoded)
{
	char *lng = malloc(6001);

	memset(lng, 'a', 6000);
	lng[6000] = '\0';
	hf_open(&X, UID_BASE + 90u, (1u << HF_N) - 1, "5s", NULL, 0);
	for (size_t k = 0; k < sizeof(injections) / sizeof(injections[0]); k++)
		for (size_t i = 0; i < NHOSTILE; i++)
			if (strchr(hostile[i], '\xff') != NULL)
				inject_raw(&injections[k]);
			else
				inject_one(&injections[k], strcmp(hostile[i], "@LONG@") == 0 ?
				    lng : hostile[i]);
	free(lng);
}

/* compare_commits sends base...head as one segment: a ref that starts or ends with a dot makes
 * the three dots ambiguous ("." + "..." + "main" = "....main", which the API splits as base ""
 * and head ".main"). Git refuses such ref names (git-check-ref-format: no component starts
 * with '.', no ref ends with '.'), so they must be refused before anything is sent. */
Test(http_families, compare_refs_are_unambiguous)
{
	static const char *const refs[][2] = {
		{ ".", "main" }, { "v1.", "main" }, { "main", ".x" }, { "v1.0.0", "." },
	};

	hf_open(&X, UID_BASE + 80u, 1u << HF_GITHUB, "5s", NULL, 0);
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		char args[256];
		size_t n0 = fake_count(&X.fk[HF_GITHUB]);
		struct hf_res r;
		json_t *log, *e;
		const char *bh, *dots;

		snprintf(args, sizeof(args), "{" GH ",\"base\":\"%s\",\"head\":\"%s\"}", refs[i][0],
		    refs[i][1]);
		hf_call(&X, HF_GITHUB, "compare_commits", args, &r);
		log = hf_log_since(&X, HF_GITHUB, n0);
		if (json_array_size(log) == 0) {
			cr_assert_str_eq(r.code ? r.code : "(none)", "ERR_SCHEMA", "%s", r.out);
		} else {
			e = json_array_get(log, 0);
			bh = json_string_value(json_object_get(json_object_get(e, "params"),
			    "basehead"));
			cr_assert_not_null(bh);
			dots = strstr(bh, "...");
			cr_expect(dots && (size_t)(dots - bh) == strlen(refs[i][0]) &&
			    strncmp(bh, refs[i][0], strlen(refs[i][0])) == 0 &&
			    strcmp(dots + 3, refs[i][1]) == 0,
			    "base '%s' head '%s' reached the API as '%s', which reads as another pair",
			    refs[i][0], refs[i][1], bh);
		}
		json_decref(log);
		hf_res_free(&r);
	}
}

/* The usual shape: one tenant with all five families. Its workers share the tenant's uid (and
 * the jail's per-uid RLIMIT_NPROC, which nng's and libcurl's threads count against): all five
 * must come up and serve, and keep serving after a burst of calls. */
Test(http_families, one_tenant_runs_every_family)
{
	hf_open(&X, UID_BASE + 70u, (1u << HF_N) - 1, "5s", NULL, HF_ONE_TENANT);
	for (int round = 0; round < 3; round++)
		for (size_t k = 0; k < sizeof(fail_ops) / sizeof(fail_ops[0]); k++) {
			const struct op_case *c = &fail_ops[k];
			struct hf_res r;

			if (strcmp(c->auth, "w") == 0)
				continue;
			hf_call(&X, c->fam, c->op, c->args, &r);
			cr_assert_eq(r.rc, 0, "%s.%s in the shared tenant: %s", hf_fams[c->fam].family,
			    c->op, r.out);
			hf_res_free(&r);
		}
	{
		json_t *st = hx_status(&X.hx), *w;
		size_t i;

		json_array_foreach(json_object_get(st, "workers"), i, w) {
			cr_assert_str_eq(json_string_value(json_object_get(w, "state")), "ready");
			cr_assert_eq(json_integer_value(json_object_get(w, "restarts")), 0, "%s restarted",
			    json_string_value(json_object_get(w, "name")));
		}
		json_decref(st);
	}
}
