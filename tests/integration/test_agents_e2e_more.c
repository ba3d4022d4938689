/* The pre-built agents end to end over the families test_agents_e2e.c does not reach: a real
 * corrald runs agents/library/pipeline-doctor.yaml over GitLab CI and over Jenkins, and
 * agents/library/drift-detector.yaml over Flux (the real kubectl in the exec worker against
 * tests/fakes/fake_kube.py), each with its example policy (examples/agents/) as shipped, the
 * contract-checking loopback fakes (tests/fakes/) and the script model replaying
 * tests/integration/scripts/<agent>-<family>.script.yaml, whose `expect` checks that each tool
 * result the model gets back is the one the story needs ("DENIED by policy" for a refused call).
 * Each case checks:
 *   - the run's answer and the calls the agent made with their outcomes (corralctl -o json run);
 *   - every decision in the audit log (principal agent:NAME, tool, op, rule, an argument);
 *   - that no approval was asked (these example rules carry no approval obligation);
 *   - what the fake received (and what it did not), and no contract violation there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/integration/agentsfx.h"

#define GL_TOKEN "glpat-e2eTOKEN5d81c3a2f07b"
#define JK_TOKEN "11e2eTOKEN9a4f0c6d2b83e1"

enum { F_GL, F_JK, F_KUBE, F_N };

/* The family's fake, its token (NULL: none; kubectl sends one over TLS only) and the extra
 * fields of its endpoint. */
static const struct afx_fam fams[F_N] = {
	[F_GL] = { "fake_gitlab.py", "gitlab_ci", GL_TOKEN, "" },
	[F_JK] = { "fake_jenkins.py", "jenkins", JK_TOKEN, ", user: corral-bot" },
	[F_KUBE] = { "fake_kube.py", "flux", NULL, "" },
};

static struct hx h;
static struct fake fk[F_N];
static bool fk_on[F_N];
static struct afx ax = { &h, fk, fk_on, fams, F_N };

static void
teardown(void)
{
	afx_teardown(&ax);
}

TestSuite(agents_e2e_more, .timeout = 90, .fini = teardown);

/* ---------------------------------------------------------------- setup */

static void
config_write(const char *agent, uid_t uid, int fam)
{
	char *body = NULL;
	size_t blen = 0;
	FILE *f;

	cr_assert_not_null(f = open_memstream(&body, &blen));
	fprintf(f, "tenants:\n  ops: { uid: %u }\n", (unsigned)uid);
	if (fams[fam].token)
		fprintf(f, "credentials:\n  - { name: c-%s, tenant: ops, source: \"file:%s.token\" }\n",
		    fams[fam].family, fams[fam].family);
	else
		fprintf(f, "binaries: { kubectl: %s }\n", afx_kubectl_path());
	fprintf(f, "endpoints:\n  %s:\n    - { name: e, tenant: ops, url: \"%s\", %s%s%s"
	    "allow_private: true, timeout: 10s%s }\n", fams[fam].family, fk[fam].url,
	    fams[fam].token ? "credential: c-" : "", fams[fam].token ? fams[fam].family : "",
	    fams[fam].token ? ", " : "", fams[fam].extra);
	fprintf(f, "models:\n  - { name: scripted, provider: script, script: turns.yaml }\n"
	    "agents:\n  - { file: \"%s/agents/library/%s.yaml\", tenant: ops, model: scripted }\n"
	    "policies: [policy.yaml]\naudit: { fsync: batch }\n", getenv("CORRAL_SRCROOT"), agent);
	fclose(f);
	hx_config(&h, body);
	free(body);
}

/* The family's fake (with control state, or NULL), then corrald with the agent (tenant "ops",
 * its own uid), the script model (scripts/<script>.script.yaml), the agent's example policy as
 * shipped; its three workers (model gateway, agent, family) ready. */
static void
start(const char *agent, uid_t uid, int fam, const char *script, const char *state)
{
	char rel[256], *text;

	afx_fake_start(&ax, fam, NULL);
	if (state)
		cr_assert_eq(fake_control(&fk[fam], state), 0, "%s", state);
	config_write(agent, uid, fam);
	if (fams[fam].token) {
		snprintf(rel, sizeof(rel), "%s.token", fams[fam].family);
		hx_file(&h, rel, fams[fam].token, 0600);
	}
	snprintf(rel, sizeof(rel), "examples/agents/%s.policy.yaml", agent);
	text = afx_src_read(rel);
	hx_file(&h, "policy.yaml", text, 0644);
	free(text);
	snprintf(rel, sizeof(rel), "tests/integration/scripts/%s.script.yaml", script);
	text = afx_src_read(rel);
	hx_file(&h, "turns.yaml", text, 0644);
	free(text);
	hx_start(&h, 3);
}

/* ---------------------------------------------------------------- checks */

/* None of these rules asks for an approval: the audit has no approval record at all. */
static void
check_no_approval(void)
{
	json_t *a = afx_audit_of(&h, NULL, "approval");
	char *dump = json_dumps(a, JSON_COMPACT);

	cr_expect_eq(json_array_size(a), 0, "approval records: %s", dump);
	free(dump);
	json_decref(a);
}

/* Requests with a method other than GET (state changes), whatever the path. */
static size_t
fake_writes(int i)
{
	json_t *log = fake_log(&fk[i]), *e;
	size_t k, n = 0;

	json_array_foreach(log, k, e)
		if (strcmp(json_string_value(json_object_get(e, "method")), "GET") != 0)
			n++;
	json_decref(log);
	return n;
}

/* ---------------------------------------------------------------- the runs */

/* pipeline-doctor over GitLab CI: acme/payments' pipeline 1000 failed because the runner of its
 * job "unit" (2001) failed under it (runner_system_failure, transient). The agent reads the
 * failed pipelines, the pipeline, its failed jobs and the job's trace, and retries the pipeline
 * (doctor-gitlab-retry); GitLab gets exactly one retry POST. The look at partner/payments-sdk's
 * pipelines is denied (doctor-gitlab-read covers the acme group only) and never reaches GitLab. */
Test(agents_e2e_more, pipeline_doctor_gitlab)
{
	static const struct afx_call calls[] = {
		{ "gitlab_ci", "list_pipelines", "ok" }, { "gitlab_ci", "get_pipeline", "ok" },
		{ "gitlab_ci", "get_pipeline_jobs", "ok" }, { "gitlab_ci", "get_job_logs", "ok" },
		{ "gitlab_ci", "retry_pipeline", "ok" }, { "gitlab_ci", "list_pipelines", "denied" },
	};
	static const struct afx_dec dec[] = {
		{ "gitlab_ci", "list_pipelines", "allow", "doctor-gitlab-read", "project_id",
		  "\"acme/payments\"" },
		{ "gitlab_ci", "get_pipeline", "allow", "doctor-gitlab-read", "pipeline_id", "1000" },
		{ "gitlab_ci", "get_pipeline_jobs", "allow", "doctor-gitlab-read", "scope",
		  "[\"failed\"]" },
		{ "gitlab_ci", "get_job_logs", "allow", "doctor-gitlab-read", "job_id", "2001" },
		{ "gitlab_ci", "retry_pipeline", "allow", "doctor-gitlab-retry", "pipeline_id", "1000" },
		{ "gitlab_ci", "list_pipelines", "deny", NULL, "project_id",
		  "\"partner/payments-sdk\"" },
	};
	const char *const base = "/api/v4/projects/acme/payments";
	char path[200];
	json_t *res;

	start("pipeline-doctor", 41094, F_GL, "pipeline-doctor-gitlab", "{\"state\": {\"project\": "
	    "\"acme/payments\", \"failure_reason\": \"runner_system_failure\", \"log_error\": "
	    "\"ERROR: Job failed (system failure): aborted: terminated\"}}");
	res = afx_run(&h, "pipeline-doctor", "GitLab CI is red on acme/payments. Find out why and "
	    "fix what you can. Also tell me which pipelines of partner/payments-sdk failed.");
	afx_check_calls(res, calls, sizeof(calls) / sizeof(calls[0]));
	afx_check_answer(res, "Classification: infrastructure (transient)");
	afx_check_answer(res, "pipeline 1000 retried");
	afx_check_answer(res, "list_pipelines denied by policy");
	json_decref(res);
	afx_check_decisions(&h, "pipeline-doctor", dec, sizeof(dec) / sizeof(dec[0]));
	check_no_approval();
	snprintf(path, sizeof(path), "%s/pipelines", base);
	cr_expect_eq(afx_fake_hits(&ax, F_GL, "GET", path), 3,
	    "list, get and jobs of the pipelines");
	snprintf(path, sizeof(path), "%s/pipelines/1000/jobs", base);
	cr_expect_eq(afx_fake_hits(&ax, F_GL, "GET", path), 1);
	snprintf(path, sizeof(path), "%s/jobs/2001/trace", base);
	cr_expect_eq(afx_fake_hits(&ax, F_GL, "GET", path), 1, "the trace was not read");
	snprintf(path, sizeof(path), "%s/pipelines/1000/retry", base);
	cr_expect_eq(afx_fake_hits(&ax, F_GL, "POST", path), 1);
	cr_expect_eq(fake_writes(F_GL), 1, "more than the one retry changed GitLab");
	cr_expect_eq(afx_fake_hits(&ax, F_GL, "GET", "/partner/"), 0,
	    "a denied read reached GitLab");
	{
		/* the pipeline the fake keeps shows the retry */
		json_t *log = fake_log(&fk[F_GL]), *last = json_array_get(log, json_array_size(log) - 1);

		cr_expect_str_eq(json_string_value(json_object_get(last, "method")), "POST");
		cr_expect_eq(json_integer_value(json_object_get(last, "status")), 201);
		json_decref(log);
	}
	afx_check_clean(&ax, F_GL);
}

/* pipeline-doctor over Jenkins: team-a/apps/build's last build (5) failed because its agent
 * linux-1 went offline during the build. The agent reads the job (red), the last failed build,
 * its console log, the queue (empty) and the nodes (linux-1 offline, "Connection was broken").
 * The rebuild it then tries is denied before any policy: trigger_build is not among
 * pipeline-doctor's tools (corrald holds an agent to its file's list, builtin:agent-tools;
 * its example policy would not allow it either), so Jenkins gets no POST at all. */
Test(agents_e2e_more, pipeline_doctor_jenkins)
{
	static const struct afx_call calls[] = {
		{ "jenkins", "get_job", "ok" }, { "jenkins", "get_build", "ok" },
		{ "jenkins", "get_build_logs", "ok" }, { "jenkins", "get_queue", "ok" },
		{ "jenkins", "get_nodes", "ok" }, { "jenkins", "trigger_build", "denied" },
	};
	static const struct afx_dec dec[] = {
		{ "jenkins", "get_job", "allow", "doctor-jenkins-read", "job_name",
		  "\"team-a/apps/build\"" },
		{ "jenkins", "get_build", "allow", "doctor-jenkins-read", "build_number",
		  "\"lastFailedBuild\"" },
		{ "jenkins", "get_build_logs", "allow", "doctor-jenkins-read", "build_number",
		  "\"5\"" },
		{ "jenkins", "get_queue", "allow", "doctor-jenkins-read", "job_name", "(none)" },
		{ "jenkins", "get_nodes", "allow", "doctor-jenkins-read", "job_name", "(none)" },
		{ "jenkins", "trigger_build", "deny", "builtin:agent-tools", "job_name",
		  "\"team-a/apps/build\"" },
	};
	const char *const job = "/job/team-a/job/apps/job/build";
	char path[200];
	json_t *res;

	start("pipeline-doctor", 41095, F_JK, "pipeline-doctor-jenkins", "{\"state\": {\"results\": "
	    "{\"team-a/apps/build\": [\"SUCCESS\", \"SUCCESS\", \"FAILURE\", \"SUCCESS\", "
	    "\"FAILURE\"]}, \"log_error\": \"FATAL: command execution failed\\n"
	    "java.nio.channels.ClosedChannelException\\nAgent went offline during the build\\n"
	    "ERROR: Connection was broken\"}}");
	res = afx_run(&h, "pipeline-doctor", "Jenkins job team-a/apps/build is red. Find out why "
	    "and rebuild it.");
	afx_check_calls(res, calls, sizeof(calls) / sizeof(calls[0]));
	afx_check_answer(res, "Classification: infrastructure (transient)");
	afx_check_answer(res, "linux-1 offline");
	afx_check_answer(res, "rebuild denied by policy");
	json_decref(res);
	afx_check_decisions(&h, "pipeline-doctor", dec, sizeof(dec) / sizeof(dec[0]));
	check_no_approval();
	snprintf(path, sizeof(path), "%s/api/json", job);
	cr_expect_eq(afx_fake_hits(&ax, F_JK, "GET", path), 1);
	snprintf(path, sizeof(path), "%s/lastFailedBuild/api/json", job);
	cr_expect_eq(afx_fake_hits(&ax, F_JK, "GET", path), 1,
	    "the build was not read by its permalink");
	snprintf(path, sizeof(path), "%s/5/consoleText", job);
	cr_expect_eq(afx_fake_hits(&ax, F_JK, "GET", path), 1, "the console log was not read");
	cr_expect_eq(afx_fake_hits(&ax, F_JK, "GET", "/queue/api/json"), 1);
	cr_expect_eq(afx_fake_hits(&ax, F_JK, "GET", "/computer/api/json"), 1);
	cr_expect_eq(fake_writes(F_JK), 0, "a denied rebuild reached Jenkins");
	afx_check_clean(&ax, F_JK);
}

/* A production Kustomization that is not Ready, its applied revision behind the one Flux last
 * attempted (added to the fake's objects). */
static const char prod_payments[] = "{\"objects\": [{\"apiVersion\": "
    "\"kustomize.toolkit.fluxcd.io/v1\", \"kind\": \"Kustomization\", \"metadata\": "
    "{\"name\": \"payments\", \"namespace\": \"apps-prod\", \"uid\": \"uid-ks-prod-payments\", "
    "\"generation\": 1, \"resourceVersion\": \"1\", \"creationTimestamp\": "
    "\"2025-05-01T00:00:00Z\"}, \"spec\": {\"interval\": \"10m\", \"path\": \"./payments\", "
    "\"prune\": true, \"sourceRef\": {\"kind\": \"GitRepository\", \"name\": \"flux-system\", "
    "\"namespace\": \"flux-system\"}}, \"status\": {\"observedGeneration\": 1, \"conditions\": "
    "[{\"type\": \"Ready\", \"status\": \"False\", \"reason\": \"HealthCheckFailed\", "
    "\"message\": \"health check failed after 5m0s: timeout waiting for: "
    "[Deployment/apps-prod/payments-api status: 'InProgress']\", \"lastTransitionTime\": "
    "\"2025-06-01T10:00:00Z\", \"observedGeneration\": 1}], \"lastAppliedRevision\": "
    "\"main@sha1:0a1b2c3d4e5f60718293a4b5c6d7e8f901234567\", \"lastAttemptedRevision\": "
    "\"main@sha1:7e4f1a9c0b2d3e5f60718293a4b5c6d7e8f9012\"}}]}";

/* The body of the one merge patch of path (asserts there is exactly one; new reference). */
static json_t *
kube_patch(const char *path)
{
	json_t *log = fake_log(&fk[F_KUBE]), *e, *b = NULL;
	size_t k, n = 0;

	json_array_foreach(log, k, e)
		if (strcmp(json_string_value(json_object_get(e, "method")), "PATCH") == 0 &&
		    strcmp(json_string_value(json_object_get(e, "path")), path) == 0) {
			n++;
			cr_expect_str_eq(json_string_value(json_object_get(e, "content_type")),
			    "application/merge-patch+json");
			cr_expect_eq(json_integer_value(json_object_get(e, "status")), 200);
			b = json_incref(json_object_get(e, "body"));
		}
	json_decref(log);
	cr_assert_eq(n, 1, "%zu patches of %s", n, path);
	return b;
}

/* drift-detector over Flux: apps-dev/podinfo is not Ready (kustomize build failed) because its
 * GitRepository failed to check out, and apps-prod/payments failed its health check on a newer
 * revision than the one applied (the list must show both: attempted_revision). Read
 * through the exec worker's real kubectl, the agent lists the Kustomizations, reads podinfo and
 * the apps-dev sources, reconciles the GitRepository and then the Kustomization (the example
 * rule drift-flux-reconcile covers flux-system, apps-dev and apps-staging): each gets the one
 * reconcile.fluxcd.io/requestedAt annotation patch and comes back Ready. The production
 * reconcile is denied and nothing in apps-prod is patched. */
Test(agents_e2e_more, drift_detector_flux)
{
	static const struct afx_call calls[] = {
		{ "flux", "get_kustomizations", "ok" }, { "flux", "get_kustomization", "ok" },
		{ "flux", "get_sources", "ok" }, { "flux", "reconcile_source", "ok" },
		{ "flux", "reconcile_kustomization", "ok" },
		{ "flux", "reconcile_kustomization", "denied" },
	};
	static const struct afx_dec dec[] = {
		{ "flux", "get_kustomizations", "allow", "drift-flux-read", "all_namespaces", "true" },
		{ "flux", "get_kustomization", "allow", "drift-flux-read", "name", "\"podinfo\"" },
		{ "flux", "get_sources", "allow", "drift-flux-read", "namespace", "\"apps-dev\"" },
		{ "flux", "reconcile_source", "allow", "drift-flux-reconcile", "source_kind",
		  "\"GitRepository\"" },
		{ "flux", "reconcile_kustomization", "allow", "drift-flux-reconcile", "namespace",
		  "\"apps-dev\"" },
		{ "flux", "reconcile_kustomization", "deny", NULL, "namespace", "\"apps-prod\"" },
	};
	static const char *const patched[] = {
		"/apis/source.toolkit.fluxcd.io/v1/namespaces/apps-dev/gitrepositories/podinfo",
		"/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/apps-dev/kustomizations/podinfo",
	};
	json_t *res;

	start("drift-detector", 41096, F_KUBE, "drift-detector-flux", prod_payments);
	res = afx_run(&h, "drift-detector", "Check the Flux objects for drift and remediate what "
	    "you may.");
	afx_check_calls(res, calls, sizeof(calls) / sizeof(calls[0]));
	afx_check_answer(res, "| Kustomization apps-dev/podinfo | GitRepository podinfo checkout "
	    "failed | auto-remediable | reconciled source and kustomization (rule "
	    "drift-flux-reconcile) | Ready |");
	afx_check_answer(res, "| Kustomization apps-prod/payments | health check failed, applied "
	    "0a1b2c3 behind attempted 7e4f1a9 | review-required | denied by policy | not changed |");
	json_decref(res);
	afx_check_decisions(&h, "drift-detector", dec, sizeof(dec) / sizeof(dec[0]));
	check_no_approval();
	for (size_t i = 0; i < 2; i++) {
		json_t *b = kube_patch(patched[i]), *ann;

		ann = json_object_get(json_object_get(b, "metadata"), "annotations");
		cr_expect(json_is_string(json_object_get(ann, "reconcile.fluxcd.io/requestedAt")),
		    "%s: no requestedAt annotation", patched[i]);
		cr_expect_eq(json_object_size(b), 1, "%s: the patch touches more than metadata",
		    patched[i]);
		json_decref(b);
	}
	cr_expect_eq(fake_writes(F_KUBE), 2, "more than the two reconciles changed the cluster");
	cr_expect_eq(afx_fake_hits(&ax, F_KUBE, "GET", "/namespaces/apps-prod/"), 0,
	    "a denied reconcile reached the API server");
	afx_check_clean(&ax, F_KUBE);
}
