/* The four pre-built agents end to end (issue 6, must-show 2): each of agents/library/ (four files),
 * unchanged, runs through a real corrald with its example policy (examples/agents/), real
 * confined workers and the contract-checking loopback fakes (tests/fakes/); the model is the
 * script provider replaying tests/integration/scripts/<agent>*.script.yaml, whose `expect`
 * checks that each tool result the model gets back is the one the story needs (including
 * "DENIED by policy" for a refused call). Each case checks:
 *   - the run's answer and the calls the agent made with their outcomes (corralctl -o json run);
 *   - every decision in the audit log (principal agent:NAME, tool, op, args, rule);
 *   - what the fake received (and what it did not).
 * The example policies are used as shipped except for the approvers: `group:sre` and
 * `group:release-managers` are groups of the site's machine; here they become `user:bin` (uid 2,
 * an operator of the tenant), so the test can approve or refuse through corralctl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/agentsfx.h"

#define SRE_UID 2		/* bin: the tenant's operator who approves or refuses */
#define ARGO_TOKEN "argo-e2e-token-3c1d9a7f"
#define PROM_TOKEN "prom-e2e-token-b5e20c44"
#define GH_TOKEN "ghp_e2eTOKEN8f2d6b1a9c"

enum { F_ARGO, F_PROM, F_GH, F_N };

/* The family's fake, its token and the extra fields of its endpoint. */
static const struct afx_fam fams[F_N] = {
	[F_ARGO] = { "fake_argocd.py", "argocd", ARGO_TOKEN, "" },
	[F_PROM] = { "fake_prometheus.py", "prometheus", PROM_TOKEN, "" },
	[F_GH] = { "fake_github.py", "github_actions", GH_TOKEN, ", redirect_hosts: [localhost]" },
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

TestSuite(agents_e2e, .timeout = 60, .fini = teardown);

/* ---------------------------------------------------------------- setup */

/* text with every occurrence of from replaced by to (malloc'd); from must occur. */
static char *
subst(const char *text, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	const char *p;
	char *out, *o;

	for (p = text; (p = strstr(p, from)) != NULL; p += fl)
		n++;
	cr_assert_gt(n, 0, "'%s' not found", from);
	o = out = malloc(strlen(text) + n * tl + 1);
	for (p = text; *p;) {
		if (strncmp(p, from, fl) == 0) {
			memcpy(o, to, tl);
			o += tl;
			p += fl;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* examples/agents/<agent>.policy.yaml into the temp dir, its approver group made user:bin. */
static void
policy_copy(const char *agent, const char *group)
{
	char rel[256], *text, *pol;

	snprintf(rel, sizeof(rel), "examples/agents/%s.policy.yaml", agent);
	text = afx_src_read(rel);
	pol = group ? subst(text, group, "user:bin") : strdup(text);
	hx_file(&h, "policy.yaml", pol, 0644);
	free(pol);
	free(text);
}

/* tests/integration/scripts/<name>.script.yaml as the model's turns (read at every model call,
 * so a later run may replace it), with @START@/@END@ the last ten minutes on 15 s steps. */
static void
script_use(const char *name)
{
	char rel[256], start[32], end[32], *a, *b, *c;
	long now = (long)time(NULL) / 15 * 15;

	snprintf(rel, sizeof(rel), "tests/integration/scripts/%s.script.yaml", name);
	a = afx_src_read(rel);
	snprintf(start, sizeof(start), "%ld", now - 600);
	snprintf(end, sizeof(end), "%ld", now);
	b = strstr(a, "@START@") ? subst(a, "@START@", start) : strdup(a);
	c = strstr(b, "@END@") ? subst(b, "@END@", end) : strdup(b);
	hx_file(&h, "turns.yaml", c, 0644);
	free(a);
	free(b);
	free(c);
}

/* The fakes in mask (data: --data FILE relative to the source root, or NULL), then corrald
 * with the agent (tenant "ops", its own uid), the script model (scripts/AGENT.script.yaml), the
 * example policy (its approver group made the SRE) and the SRE; its workers ready. */
static void
start(const char *agent, uid_t uid, unsigned mask, const char *const data[F_N],
    const char *group)
{
	char *body = NULL, path[1024];
	size_t blen = 0;
	FILE *f;
	int n = 2;	/* the model gateway and the agent */

	for (int i = 0; i < F_N; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (data && data[i])
			snprintf(path, sizeof(path), "%s/%s", getenv("CORRAL_SRCROOT"), data[i]);
		afx_fake_start(&ax, i, data && data[i] ? path : NULL);
	}
	cr_assert_not_null(f = open_memstream(&body, &blen));
	fprintf(f, "tenants:\n  ops: { uid: %u }\ncredentials:\n", (unsigned)uid);
	for (int i = 0; i < F_N; i++)
		if (mask & (1u << i))
			fprintf(f, "  - { name: c-%s, tenant: ops, source: \"file:%s.token\" }\n",
			    fams[i].family, fams[i].family);
	fprintf(f, "endpoints:\n");
	for (int i = 0; i < F_N; i++)
		if (mask & (1u << i)) {
			fprintf(f, "  %s:\n    - { name: e, tenant: ops, url: \"%s\", credential: c-%s, "
			    "allow_private: true, timeout: 10s%s }\n", fams[i].family, fk[i].url,
			    fams[i].family, fams[i].extra);
			n++;
		}
	fprintf(f, "models:\n  - { name: scripted, provider: script, script: turns.yaml }\n"
	    "agents:\n  - { file: \"%s/agents/library/%s.yaml\", tenant: ops, model: scripted }\n"
	    "control:\n  operators:\n    - { name: sre, tenant: ops, uids: [%d] }\n"
	    "policies: [policy.yaml]\naudit: { fsync: batch }\n", getenv("CORRAL_SRCROOT"), agent,
	    SRE_UID);
	fclose(f);
	hx_config(&h, body);
	free(body);
	for (int i = 0; i < F_N; i++)
		if (mask & (1u << i)) {
			snprintf(path, sizeof(path), "%s.token", fams[i].family);
			hx_file(&h, path, fams[i].token, 0600);
		}
	policy_copy(agent, group);
	script_use(agent);
	hx_start(&h, n);
}

/* ---------------------------------------------------------------- runs */

/* The approval the SRE sees pending (waits up to 20 s), then approves or refuses it. Returns
 * the pending approval as listed (tool, op, args). */
static json_t *
sre_vote(const char *verb)
{
	static const char *const ls[] = { "-o", "json", "approvals", "--pending", NULL };
	json_t *ap = NULL;

	for (int k = 0; k < 200 && ap == NULL; k++) {
		char *out = NULL;
		json_t *j;

		cr_assert_eq(hx_ctl_as(&h, SRE_UID, &out, ls), 0, "%s", out);
		j = json_loads(out, 0, NULL);
		if (json_array_size(j) > 0)
			ap = json_incref(json_array_get(j, 0));
		json_decref(j);
		free(out);
		if (ap == NULL)
			usleep(100000);
	}
	cr_assert_not_null(ap, "nothing waited for an approval:\n%s", hx_read(h.log));
	{
		const char *av[] = { verb, json_string_value(json_object_get(ap, "id")), "--reason",
			"e2e test", NULL };
		char *out = NULL;

		cr_assert_eq(hx_ctl_as(&h, SRE_UID, &out, av), 0, "%s %s", verb, out);
		free(out);
	}
	return ap;
}

/* ---------------------------------------------------------------- checks */

/* The audit's approval records for tool.op: "event[:by],..." (e.g. requested,approve:bin,
 * consumed). */
static void
check_approval(const char *tool, const char *op, const char *want)
{
	char *log = hx_read(h.audit), *line, *save = NULL, got[512] = "";
	size_t off = 0;

	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *r = json_loads(line, 0, NULL);
		const char *t = json_string_value(json_object_get(r, "type"));
		const char *by = json_string_value(json_object_get(r, "by"));

		if (t && strcmp(t, "approval") == 0 &&
		    strcmp(json_string_value(json_object_get(r, "tool")), tool) == 0 &&
		    strcmp(json_string_value(json_object_get(r, "op")), op) == 0 && off < sizeof(got))
			off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s%s%s",
			    off ? "," : "", json_string_value(json_object_get(r, "event")),
			    by ? ":" : "", by ? by : "");
		json_decref(r);
	}
	free(log);
	cr_expect_str_eq(got, want, "approval records of %s.%s", tool, op);
}

/* The body of the last request with method whose path contains part (parsed; new ref). */
static json_t *
fake_body(int i, const char *method, const char *part)
{
	json_t *log = fake_log(&fk[i]), *e, *b = NULL;
	size_t k;

	json_array_foreach(log, k, e)
		if (strcmp(json_string_value(json_object_get(e, "method")), method) == 0 &&
		    strstr(json_string_value(json_object_get(e, "path")), part)) {
			json_decref(b);
			b = json_loads(json_string_value(json_object_get(e, "body")), 0, NULL);
		}
	json_decref(log);
	cr_assert_not_null(b, "no %s %s", method, part);
	return b;
}

/* ---------------------------------------------------------------- the agents */

/* deployment-guardian: checkout's canary fails and catalog's passes (the demo's data); the
 * judge's fail verdict is the evidence that lets the checkout rollback run, catalog stays.
 * Asked afterwards to roll back catalog anyway, the call waits for an SRE (no evidence), who
 * refuses it: the model gets DENIED and nothing reaches Argo CD. */
Test(agents_e2e, deployment_guardian)
{
	static const char *const data[F_N] = { [F_ARGO] = "examples/demo/argocd-apps.json",
		[F_PROM] = "examples/demo/prometheus-canary.json" };
	static const struct afx_call calls1[] = {
		{ "argocd", "get_application", "ok" }, { "argocd", "get_application", "ok" },
		{ "prometheus", "canary_analyze", "ok" }, { "prometheus", "canary_analyze", "ok" },
		{ "argocd", "rollback_application", "ok" },
	}, calls2[] = { { "argocd", "rollback_application", "denied" } };
	static const struct afx_dec dec[] = {
		{ "argocd", "get_application", "allow", "guardian-argocd-read", "app_name",
		  "\"checkout\"" },
		{ "argocd", "get_application", "allow", "guardian-argocd-read", "app_name",
		  "\"catalog\"" },
		{ "prometheus", "canary_analyze", "allow", "guardian-metrics-and-judge", "app_name",
		  "\"checkout\"" },
		{ "prometheus", "canary_analyze", "allow", "guardian-metrics-and-judge", "app_name",
		  "\"catalog\"" },
		{ "argocd", "rollback_application", "allow", "guardian-rollback-on-failed-canary",
		  "app_name", "\"checkout\"" },
		{ "argocd", "rollback_application", "deny", "guardian-rollback-approved", "app_name",
		  "\"catalog\"" },
	};
	json_t *res, *b, *ap;
	pid_t pid;

	start("deployment-guardian", 41090, 1u << F_ARGO | 1u << F_PROM, data, "group:sre");
	res = afx_run(&h, "deployment-guardian", "checkout and catalog were deployed ten minutes "
	    "ago. Judge their canaries and act on the verdicts.");
	afx_check_calls(res, calls1, 5);
	afx_check_answer(res, "rolled back to 9b3e7d1");
	json_decref(res);
	cr_expect_eq(afx_fake_hits(&ax, F_ARGO, "POST", "/applications/checkout/rollback"), 1);
	b = fake_body(F_ARGO, "POST", "/applications/checkout/rollback");
	cr_expect_eq(json_integer_value(json_object_get(b, "id")), 2);
	json_decref(b);

	script_use("deployment-guardian-manual");
	pid = afx_run_bg(&h, "deployment-guardian", "Users say catalog feels slow. Roll catalog "
	    "back to its previous deployment.", "run2");
	ap = sre_vote("deny");
	cr_expect_str_eq(json_string_value(json_object_get(ap, "op")), "rollback_application");
	json_decref(ap);
	res = afx_run_wait(&h, pid, "run2");
	afx_check_calls(res, calls2, 1);
	afx_check_answer(res, "the SRE refused it");
	json_decref(res);
	afx_check_decisions(&h, "deployment-guardian", dec, sizeof(dec) / sizeof(dec[0]));
	check_approval("argocd", "rollback_application", "requested,deny:bin");
	cr_expect_eq(afx_fake_hits(&ax, F_ARGO, "POST", "/applications/catalog/rollback"), 0,
	    "a refused rollback reached Argo CD");
	afx_check_clean(&ax, F_ARGO);
	afx_check_clean(&ax, F_PROM);
}

/* drift-detector: dev-cart and prod-payments are OutOfSync. The policy's auto-remediable class
 * (dev and staging, no prune) lets the dev-cart sync run; the production sync waits for an SRE,
 * who refuses it: the model gets DENIED, Argo CD gets one sync, for dev-cart, without prune. */
Test(agents_e2e, drift_detector)
{
	static const char state[] = "{\"state\": {\"apps\": {"
	    "\"argocd/dev-cart\": {\"metadata\": {\"labels\": {\"env\": \"dev\"}}, "
	    "\"status\": {\"sync\": {\"status\": \"OutOfSync\"}, \"resources\": [{\"version\": \"v1\", "
	    "\"kind\": \"ConfigMap\", \"namespace\": \"cart-dev\", \"name\": \"cart-config\", "
	    "\"status\": \"OutOfSync\"}]}},"
	    "\"argocd/prod-payments\": {\"metadata\": {\"labels\": {\"env\": \"prod\"}}, "
	    "\"status\": {\"sync\": {\"status\": \"OutOfSync\"}, \"resources\": [{\"group\": \"apps\", "
	    "\"version\": \"v1\", \"kind\": \"Deployment\", \"namespace\": \"payments-prod\", "
	    "\"name\": \"payments-api\", \"status\": \"OutOfSync\"}]}}}}}";
	static const struct afx_call calls[] = {
		{ "argocd", "list_applications", "ok" },
		{ "argocd", "get_application", "ok" }, { "argocd", "get_application", "ok" },
		{ "argocd", "sync_application", "ok" }, { "argocd", "sync_application", "denied" },
	};
	static const struct afx_dec dec[] = {
		{ "argocd", "list_applications", "allow", "drift-argocd-read", "app_name", "(none)" },
		{ "argocd", "get_application", "allow", "drift-argocd-read", "app_name",
		  "\"dev-cart\"" },
		{ "argocd", "get_application", "allow", "drift-argocd-read", "app_name",
		  "\"prod-payments\"" },
		{ "argocd", "sync_application", "allow", "drift-sync-nonprod", "app_name",
		  "\"dev-cart\"" },
		{ "argocd", "sync_application", "deny", "drift-sync-prod-approved", "app_name",
		  "\"prod-payments\"" },
	};
	json_t *res, *b, *ap;
	pid_t pid;

	start("drift-detector", 41091, 1u << F_ARGO, NULL, "group:sre");
	cr_assert_eq(fake_control(&fk[F_ARGO], state), 0);
	pid = afx_run_bg(&h, "drift-detector", "Check the Argo CD applications for drift and "
	    "remediate what you may.", "run");
	ap = sre_vote("deny");
	cr_expect_str_eq(json_string_value(json_object_get(ap, "op")), "sync_application");
	json_decref(ap);
	res = afx_run_wait(&h, pid, "run");
	afx_check_calls(res, calls, sizeof(calls) / sizeof(calls[0]));
	afx_check_answer(res, "| dev-cart | ConfigMap cart-config | auto-remediable | synced");
	afx_check_answer(res, "| prod-payments | Deployment payments-api replicas | review-required | "
	    "denied");
	json_decref(res);
	afx_check_decisions(&h, "drift-detector", dec, sizeof(dec) / sizeof(dec[0]));
	check_approval("argocd", "sync_application", "requested,deny:bin");
	cr_expect_eq(afx_fake_hits(&ax, F_ARGO, "POST", "/applications/dev-cart/sync"), 1);
	b = fake_body(F_ARGO, "POST", "/applications/dev-cart/sync");
	cr_expect(json_is_false(json_object_get(b, "prune")) || json_object_get(b, "prune") == NULL,
	    "dev-cart synced with prune");
	json_decref(b);
	cr_expect_eq(afx_fake_hits(&ax, F_ARGO, "POST", "/applications/prod-payments"), 0,
	    "the refused production sync reached Argo CD");
	afx_check_clean(&ax, F_ARGO);
}

/* pipeline-doctor: acme/payments' run 30001 failed because its runner was lost (transient). The
 * agent reads runs, jobs and the failed job's log, and re-runs the failed jobs (allowed); the
 * re-run it is asked for in partner/payments-sdk is denied by the policy (acme only) and never
 * reaches GitHub. */
Test(agents_e2e, pipeline_doctor)
{
	static const struct afx_call calls[] = {
		{ "github_actions", "list_workflow_runs", "ok" },
		{ "github_actions", "list_jobs", "ok" },
		{ "github_actions", "get_job_logs", "ok" },
		{ "github_actions", "rerun_failed_jobs", "ok" },
		{ "github_actions", "rerun_failed_jobs", "denied" },
	};
	static const struct afx_dec dec[] = {
		{ "github_actions", "list_workflow_runs", "allow", "doctor-github-read", "status",
		  "\"failure\"" },
		{ "github_actions", "list_jobs", "allow", "doctor-github-read", "run_id", "30001" },
		{ "github_actions", "get_job_logs", "allow", "doctor-github-read", "job_id", "40001" },
		{ "github_actions", "rerun_failed_jobs", "allow", "doctor-github-rerun-failed", "owner",
		  "\"acme\"" },
		{ "github_actions", "rerun_failed_jobs", "deny", NULL, "owner", "\"partner\"" },
	};
	json_t *res;

	start("pipeline-doctor", 41092, 1u << F_GH, NULL, NULL);
	cr_assert_eq(fake_control(&fk[F_GH], "{\"state\": {\"owner\": \"acme\", \"repo\": "
	    "\"payments\", \"log_lines\": 40, \"log_error\": \"The self-hosted runner: runner-1 lost "
	    "communication with the server. Verify the machine is running and has a healthy network "
	    "connection.\"}}"), 0);
	res = afx_run(&h, "pipeline-doctor", "CI is red on acme/payments. Find out why and fix "
	    "what you can. partner/payments-sdk's run 30001 failed the same way: re-run it too.");
	afx_check_calls(res, calls, sizeof(calls) / sizeof(calls[0]));
	afx_check_answer(res, "Classification: infrastructure (transient)");
	afx_check_answer(res, "re-run denied by policy");
	json_decref(res);
	afx_check_decisions(&h, "pipeline-doctor", dec, sizeof(dec) / sizeof(dec[0]));
	cr_expect_eq(afx_fake_hits(&ax, F_GH, "GET", "/repos/acme/payments/actions/jobs/40001/logs"),
	    1);
	cr_expect_eq(afx_fake_hits(&ax, F_GH, "GET", "/_blob/logs/40001"), 1,
	    "the log was not fetched");
	cr_expect_eq(afx_fake_hits(&ax, F_GH, "POST", "/repos/acme/payments/actions/runs/30001/"
	    "rerun-failed-jobs"), 1);
	cr_expect_eq(afx_fake_hits(&ax, F_GH, "POST", "/rerun"), 1,
	    "more than one re-run reached GitHub");
	cr_expect_eq(afx_fake_hits(&ax, F_GH, "GET", "/partner/") +
	    afx_fake_hits(&ax, F_GH, "POST", "/partner/"), 0);
	afx_check_clean(&ax, F_GH);
}

/* release-manager: v1.1.0 is the last release; since then a breaking feat, a fix and docs ->
 * v2.0.0, computed by github_actions.release_plan (not by the model). The release waits for a
 * release manager (the test approves), then GitHub gets the release with the plan's tag and
 * changelog grouped by type, and deploy.yml is dispatched on the tag. The look at acme/billing's
 * releases is denied by the policy (acme/payments only). */
Test(agents_e2e, release_manager)
{
	static const struct afx_call calls[] = {
		{ "github_actions", "list_releases", "ok" },
		{ "github_actions", "list_releases", "denied" },
		{ "github_actions", "release_plan", "ok" },
		{ "github_actions", "create_release", "ok" },
		{ "github_actions", "trigger_workflow", "ok" },
		{ "github_actions", "list_workflow_runs", "ok" },
	};
	static const struct afx_dec dec[] = {
		{ "github_actions", "list_releases", "allow", "release-read", "repo", "\"payments\"" },
		{ "github_actions", "list_releases", "deny", NULL, "repo", "\"billing\"" },
		{ "github_actions", "release_plan", "allow", "release-read", "head", "\"main\"" },
		{ "github_actions", "create_release", "allow", "release-create-approved", "tag_name",
		  "\"v2.0.0\"" },
		{ "github_actions", "trigger_workflow", "allow", "release-deploy", "ref", "\"v2.0.0\"" },
		{ "github_actions", "list_workflow_runs", "allow", "release-read", "workflow_id",
		  "\"deploy.yml\"" },
	};
	json_t *res, *b, *ap;
	const char *body;
	pid_t pid;

	start("release-manager", 41093, 1u << F_GH, NULL, "group:release-managers");
	cr_assert_eq(fake_control(&fk[F_GH], "{\"state\": {\"owner\": \"acme\", \"repo\": "
	    "\"payments\"}}"), 0);
	pid = afx_run_bg(&h, "release-manager", "Release acme/payments from main and deploy it. "
	    "Also, what is the latest release of acme/billing?", "run");
	ap = sre_vote("approve");
	cr_expect_str_eq(json_string_value(json_object_get(ap, "op")), "create_release");
	json_decref(ap);
	res = afx_run_wait(&h, pid, "run");
	afx_check_calls(res, calls, sizeof(calls) / sizeof(calls[0]));
	afx_check_answer(res, "v1.1.0 -> v2.0.0");
	afx_check_answer(res, "acme/billing: list_releases denied by policy");
	json_decref(res);
	afx_check_decisions(&h, "release-manager", dec, sizeof(dec) / sizeof(dec[0]));
	check_approval("github_actions", "create_release", "requested,approve:bin,consumed");
	cr_expect_eq(afx_fake_hits(&ax, F_GH, "POST", "/repos/acme/payments/releases"), 1);
	b = fake_body(F_GH, "POST", "/repos/acme/payments/releases");
	cr_expect_str_eq(json_string_value(json_object_get(b, "tag_name")), "v2.0.0");
	cr_expect_str_eq(json_string_value(json_object_get(b, "target_commitish")), "main");
	body = json_string_value(json_object_get(b, "body"));
	cr_assert_not_null(body);
	cr_expect_str_eq(body, "## v2.0.0 (2026-01-06)\n"
	    "\n### \xe2\x9a\xa0 BREAKING CHANGES\n\n- config keys renamed (0000000)\n"
	    "\n### Features\n\n- new config format (0000000)\n"
	    "\n### Bug Fixes\n\n- **ci:** cache key (0000000)\n"
	    "\n### Other\n\n- docs: readme (0000000)\n");
	json_decref(b);
	/* the plan read the releases and compared from the last one */
	cr_expect_eq(afx_fake_hits(&ax, F_GH, "GET", "/repos/acme/payments/compare/v1.1.0...main"),
	    1);
	b = fake_body(F_GH, "POST", "/repos/acme/payments/actions/workflows/deploy.yml/dispatches");
	cr_expect_str_eq(json_string_value(json_object_get(b, "ref")), "v2.0.0");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(b, "inputs"), "version")),
	    "2.0.0");
	json_decref(b);
	cr_expect_eq(afx_fake_hits(&ax, F_GH, "GET", "/billing/"), 0,
	    "a denied read reached GitHub");
	afx_check_clean(&ax, F_GH);
}
