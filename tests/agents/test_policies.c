/* The example policies of examples/agents/: each loads with the real policy loader against the
 * real schema registry, allows its agent exactly the operations the agent holds (no more, no
 * fewer), and decides the cases that matter as written (rollback only on a failed canary or
 * with approval, re-runs rate-limited, production syncs approved, releases approved).
 *
 * A policy names families whose schemas other modules register; until all of a policy's
 * families are in the registry, its test is skipped with the missing family named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "agents/loader.h"
#include "policy/policy.h"
#include "tools/tool.h"

static const char *
root(void)
{
	const char *r = getenv("AGENTS_SRCROOT");

	cr_assert_not_null(r);
	return r;
}

static struct agent_def *
agent(const char *name)
{
	struct agent_def *def = NULL;
	char path[4096];

	snprintf(path, sizeof(path), "%s/agents/library/%s.yaml", root(), name);
	cr_assert_eq(agent_load_file(path, NULL, &def, NULL), 0, "%s", name);
	return def;
}

/* Load the agent's example policy, or skip when a family it needs is not registered yet. */
static struct pol_set *
policy_for(const struct agent_def *def)
{
	struct ydoc_errs e = { 0 };
	struct pol_set *ps = NULL;
	char path[4096];
	const char *files[] = { path };
	int r;

	for (size_t i = 0; i < def->ntools; i++)
		if (tool_family_find(def->tools[i].family) == NULL)
			cr_skip_test("family '%s' is not in the schema registry yet",
			    def->tools[i].family);
	snprintf(path, sizeof(path), "%s/examples/agents/%s.policy.yaml", root(), def->name);
	r = pol_set_load(files, 1, NULL, &ps, &e);
	for (size_t i = 0; i < e.n; i++)
		cr_log_error("%s", e.msg[i]);
	cr_assert_eq(r, 0, "%s does not load", path);
	cr_expect_eq(e.warnings, 0, "%s: warnings", path);
	ydoc_errs_free(&e);
	return ps;
}

static bool
in_json_strings(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

/* Every allow rule is for this agent only and names operations literally; their union per
 * family is exactly the agent's tools. */
static void
check_exact_grant(const struct agent_def *def, const struct pol_set *ps)
{
	json_t *rules = pol_set_canonical(ps), *r;
	char principal[256];
	size_t i, granted = 0, held = 0;

	snprintf(principal, sizeof(principal), "agent:%s", def->name);
	json_array_foreach(rules, i, r) {
		const char *tool = json_string_value(json_object_get(r, "tool"));
		json_t *ops = json_object_get(r, "operations"), *op;
		size_t j;

		cr_expect(in_json_strings(json_object_get(r, "principals"), principal));
		cr_expect_eq(json_array_size(json_object_get(r, "principals")), 1);
		if (strcmp(json_string_value(json_object_get(r, "effect")), "allow") != 0)
			continue;
		json_array_foreach(ops, j, op)
			cr_expect(agent_def_allows(def, tool, json_string_value(op)),
			    "%s: policy allows %s.%s, which the agent does not hold", def->name, tool,
			    json_string_value(op));
	}
	for (size_t t = 0; t < def->ntools; t++)
		for (size_t o = 0; o < def->tools[t].nops; o++) {
			bool found = false;

			held++;
			json_array_foreach(rules, i, r)
				if (strcmp(json_string_value(json_object_get(r, "tool")),
				    def->tools[t].family) == 0 &&
				    in_json_strings(json_object_get(r, "operations"),
				    def->tools[t].ops[o]))
					found = true;
			cr_expect(found, "%s holds %s.%s but no rule allows it", def->name,
			    def->tools[t].family, def->tools[t].ops[o]);
			granted += found;
		}
	cr_expect_eq(granted, held);
	json_decref(rules);
}

static int
evidence_yes(void *arg, const struct pol_evidence_query *q, int64_t *found_at)
{
	*found_at = q->now_ms - 60000;
	return 1;
}

struct dcase {
	const char *tool, *op, *args;
	bool evidence;
	enum pol_effect want;
	const char *rule;		/* a rule id that must be among the deciding ones, or NULL */
};

static void
decide_all(const char *name, const struct dcase *c, size_t n)
{
	struct agent_def *def = agent(name);
	struct pol_set *ps = policy_for(def);
	char principal[256];

	check_exact_grant(def, ps);
	snprintf(principal, sizeof(principal), "agent:%s", name);
	for (size_t i = 0; i < n; i++) {
		json_t *args = json_loads(c[i].args, 0, NULL);
		struct pol_request rq = { .tenant = "payments", .principal = principal,
			.tool = c[i].tool, .op = c[i].op, .args = args, .now_ms = 1767261600000 };
		struct pol_state st = { .evidence = c[i].evidence ? evidence_yes : NULL };
		struct pol_decision d;
		bool has_rule = c[i].rule == NULL;

		cr_assert_not_null(args, "case %zu", i);
		cr_assert_eq(pol_decide(ps, &rq, &st, &d), 0);
		cr_expect_eq(d.effect, c[i].want, "%s case %zu (%s.%s): %s, %s", name, i, c[i].tool,
		    c[i].op, pol_effect_name(d.effect), d.reason);
		for (size_t k = 0; k < d.nrules; k++)
			has_rule |= strcmp(d.rules[k], c[i].rule) == 0;
		cr_expect(has_rule, "%s case %zu: decided by the wrong rule", name, i);
		json_decref(args);
	}
	pol_set_free(ps);
	agent_def_free(def);
}

Test(policies, deployment_guardian)
{
	static const struct dcase c[] = {
		{ "argocd", "get_application", "{\"app_name\":\"payments-api\"}", false, POL_ALLOW,
		  "guardian-argocd-read" },
		{ "argocd", "rollback_application", "{\"app_name\":\"payments-api\",\"id\":3}", true,
		  POL_ALLOW, "guardian-rollback-on-failed-canary" },
		{ "argocd", "rollback_application", "{\"app_name\":\"payments-api\",\"id\":3}", false,
		  POL_PENDING, "guardian-rollback-approved" },
		{ "argocd", "sync_application", "{\"app_name\":\"payments-api\"}", false, POL_DENY,
		  NULL },
		{ "flux", "suspend_kustomization", "{\"name\":\"apps\"}", false, POL_DENY, NULL },
	};

	decide_all("deployment-guardian", c, sizeof(c) / sizeof(c[0]));
}

Test(policies, pipeline_doctor)
{
	static const struct dcase c[] = {
		{ "github_actions", "get_job_logs", "{\"owner\":\"acme\",\"repo\":\"payments\","
		  "\"job_id\":7}", false, POL_ALLOW, "doctor-github-read" },
		{ "github_actions", "rerun_failed_jobs", "{\"owner\":\"acme\",\"repo\":\"payments\","
		  "\"run_id\":9}", false, POL_ALLOW, "doctor-github-rerun-failed" },
		{ "github_actions", "rerun_failed_jobs", "{\"owner\":\"evil\",\"repo\":\"x\","
		  "\"run_id\":9}", false, POL_DENY, NULL },
		{ "github_actions", "rerun_workflow", "{\"owner\":\"acme\",\"repo\":\"payments\","
		  "\"run_id\":9}", false, POL_DENY, NULL },
		{ "gitlab_ci", "retry_pipeline", "{\"project_id\":\"acme/payments\","
		  "\"pipeline_id\":5}", false, POL_ALLOW, "doctor-gitlab-retry" },
		{ "jenkins", "trigger_build", "{\"job_name\":\"build\"}", false, POL_DENY, NULL },
	};

	decide_all("pipeline-doctor", c, sizeof(c) / sizeof(c[0]));
}

Test(policies, drift_detector)
{
	static const struct dcase c[] = {
		{ "argocd", "sync_application", "{\"app_name\":\"staging-web\",\"prune\":false,"
		  "\"force\":false}", false, POL_ALLOW, "drift-sync-nonprod" },
		{ "argocd", "sync_application", "{\"app_name\":\"prod-web\",\"prune\":false,"
		  "\"force\":false}", false, POL_PENDING, "drift-sync-prod-approved" },
		{ "argocd", "sync_application", "{\"app_name\":\"staging-web\",\"prune\":true,"
		  "\"force\":false}", false, POL_DENY, NULL },
		{ "argocd", "sync_application", "{\"app_name\":\"staging-web\",\"prune\":false,"
		  "\"force\":true}", false, POL_DENY, NULL },
		{ "flux", "reconcile_kustomization", "{\"name\":\"apps\",\"namespace\":"
		  "\"apps-staging\"}", false, POL_ALLOW, "drift-flux-reconcile" },
		{ "argocd", "rollback_application", "{\"app_name\":\"staging-web\",\"id\":1}",
		  false, POL_DENY, NULL },
	};

	decide_all("drift-detector", c, sizeof(c) / sizeof(c[0]));
}

Test(policies, release_manager)
{
	static const struct dcase c[] = {
		{ "github_actions", "compare_commits", "{\"owner\":\"acme\",\"repo\":\"payments\","
		  "\"base\":\"v1.2.3\",\"head\":\"main\"}", false, POL_ALLOW, "release-read" },
		{ "github_actions", "create_release", "{\"owner\":\"acme\",\"repo\":\"payments\","
		  "\"tag_name\":\"v1.3.0\"}", false, POL_PENDING, "release-create-approved" },
		{ "github_actions", "create_release", "{\"owner\":\"acme\",\"repo\":\"payments\","
		  "\"tag_name\":\"latest\"}", false, POL_DENY, NULL },
		{ "github_actions", "trigger_workflow", "{\"owner\":\"acme\",\"repo\":\"payments\","
		  "\"workflow_id\":\"deploy.yml\",\"ref\":\"v1.3.0\"}", false, POL_ALLOW,
		  "release-deploy" },
		{ "github_actions", "trigger_workflow", "{\"owner\":\"acme\",\"repo\":\"payments\","
		  "\"workflow_id\":\"nuke.yml\",\"ref\":\"v1.3.0\"}", false, POL_DENY, NULL },
	};

	decide_all("release-manager", c, sizeof(c) / sizeof(c[0]));
}
