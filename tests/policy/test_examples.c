/* The example policies (examples/policy) against the real tool registry: each file loads without errors or
 * warnings, and a few realistic calls (validated by the real schemas) get the decisions the
 * comments in the files promise. Data-driven: a file that names an operation the registry does
 * not have yet (prometheus.canary_analyze arrives with the canary module) is skipped, and so
 * are its rows. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "policy/policy.h"

#define J(...) #__VA_ARGS__

static const struct {
	const char *file;
	const char *needs_tool, *needs_op;	/* skip the file while the registry lacks it */
} files[] = {
	{ "payments.yaml", "prometheus", "canary_analyze" },
	{ "ci.yaml", NULL, NULL },
};

struct row {
	const char *file, *tenant, *principal, *tool, *op, *args, *time;
	bool evidence;			/* a failed canary verdict for the same app 2 min earlier */
	enum pol_effect want;
	const char *rule;
	int line;
};

#define ROW(...) { __VA_ARGS__, .line = __LINE__ }
#define WED "2026-03-25T10:00:00Z"
#define SAT "2026-03-28T10:00:00Z"

static const struct row rows[] = {
	ROW("ci.yaml", "ci", "agent:pipeline-doctor", "github_actions", "list_workflow_runs", J({"owner":"acme","repo":"web"}), WED, false, POL_ALLOW, "gh-read"),
	ROW("ci.yaml", "ci", "agent:pipeline-doctor", "github_actions", "list_workflow_runs", J({"owner":"other","repo":"web"}), WED, false, POL_DENY, NULL),
	ROW("ci.yaml", "ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"web","run_id":42}), WED, false, POL_ALLOW, "gh-rerun"),
	ROW("ci.yaml", "ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"legacy-billing","run_id":42}), WED, false, POL_DENY, "gh-legacy-hands-off"),
	ROW("ci.yaml", "ci", "agent:pipeline-doctor", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"v1.2.3"}), WED, false, POL_DENY, NULL),
	ROW("ci.yaml", "ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"v1.2.3"}), WED, false, POL_PENDING, "gh-release"),
	ROW("ci.yaml", "ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"v1.2.3"}), "2026-03-27T10:00:00Z", false, POL_DENY, "gh-release"),
	ROW("ci.yaml", "ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"main"}), WED, false, POL_DENY, NULL),
	ROW("ci.yaml", "payments", "agent:pipeline-doctor", "github_actions", "list_workflow_runs", J({"owner":"acme","repo":"web"}), WED, false, POL_DENY, NULL),
	ROW("payments.yaml", "payments", "agent:deployment-guardian", "argocd", "get_application", J({"app_name":"payments-api"}), WED, false, POL_ALLOW, "argocd-read"),
	ROW("payments.yaml", "payments", "agent:deployment-guardian", "argocd", "rollback_application", J({"app_name":"payments-api","id":7}), WED, true, POL_ALLOW, "guardian-rollback"),
	ROW("payments.yaml", "payments", "agent:deployment-guardian", "argocd", "rollback_application", J({"app_name":"payments-api","id":7}), WED, false, POL_DENY, "guardian-rollback"),
	ROW("payments.yaml", "payments", "agent:deployment-guardian", "argocd", "rollback_application", J({"app_name":"payments-api","id":7}), SAT, true, POL_DENY, "weekend-freeze"),
	ROW("payments.yaml", "payments", "operator:bob", "argocd", "rollback_application", J({"app_name":"payments-api","id":7}), SAT, false, POL_PENDING, "human-rollback"),
	ROW("payments.yaml", "payments", "agent:drift-detector", "argocd", "sync_application", J({"app_name":"payments-config"}), WED, false, POL_ALLOW, "drift-resync"),
	ROW("payments.yaml", "payments", "agent:drift-detector", "argocd", "sync_application", J({"app_name":"payments-config","prune":true}), WED, false, POL_ALLOW, "drift-dry-run"),
	ROW("payments.yaml", "payments", "agent:drift-detector", "argocd", "sync_application", J({"app_name":"orders-api"}), WED, false, POL_DENY, NULL),
	ROW("payments.yaml", "payments", "operator:bob", "argocd", "patch_application", J({"app_name":"payments-prod","patch_data":{"a":1}}), WED, false, POL_DENY, "no-prod-patch"),
};

static bool
loadable(size_t i)
{
	const struct tool_family *f;

	if (files[i].needs_tool == NULL)
		return true;
	f = tool_family_find(files[i].needs_tool);
	return f != NULL && tool_op_find(f, files[i].needs_op) != NULL;
}

static int
evidence(void *arg, const struct pol_evidence_query *q, int64_t *at)
{
	const struct row *r = arg;
	json_t *res = json_pack("{s:s}", "verdict", "fail");
	json_t *args = json_loads(r->args, 0, NULL);
	bool ok = r->evidence && pol_evidence_match(q, r->tenant, "prometheus", "canary_analyze",
	    args, res, q->now_ms - 120000);

	json_decref(res);
	json_decref(args);
	if (ok)
		*at = q->now_ms - 120000;
	return ok;
}

static void
run_row(const struct pol_set *ps, const struct row *r)
{
	const struct tool_op *op = tool_op_find(tool_family_find(r->tool), r->op);
	json_t *args = json_loads(r->args, 0, NULL);
	struct pol_state st = { .evidence = evidence, .evidence_arg = (void *)r };
	struct pol_request rq = { .tenant = r->tenant, .principal = r->principal, .tool = r->tool,
		.op = r->op, .opdef = op, .args = args };
	struct pol_decision d;
	char err[256];

	cr_assert(op != NULL, "row %d: %s.%s is not registered", r->line, r->tool, r->op);
	cr_assert(tool_args_validate(op, args, err, sizeof(err)) == 0, "row %d: %s", r->line, err);
	cr_assert(pol_time_parse(r->time, &rq.now_ms) == 0);
	cr_assert(pol_decide(ps, &rq, &st, &d) == 0);
	cr_expect(d.effect == r->want, "row %d: %s (%s)", r->line, pol_effect_name(d.effect),
	    d.reason);
	if (r->rule)
		cr_expect(d.nrules >= 1 && strcmp(d.rules[0], r->rule) == 0, "row %d: rule %s (%s)",
		    r->line, d.nrules ? d.rules[0] : "-", d.reason);
	else
		cr_expect(d.nrules == 0, "row %d: %s", r->line, d.reason);
	json_decref(args);
}

Test(policy_examples, real_registry)
{
	size_t loaded = 0, ran = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *path[] = { POL_EXAMPLES "/policy/x" };
		char buf[512];
		struct ydoc_errs e = { 0 };
		struct pol_set *ps = NULL;
		int rc;

		if (!loadable(i)) {
			cr_log_info("%s skipped: the registry has no %s.%s yet", files[i].file,
			    files[i].needs_tool, files[i].needs_op);
			continue;
		}
		snprintf(buf, sizeof(buf), "%s/policy/%s", POL_EXAMPLES, files[i].file);
		path[0] = buf;
		rc = pol_set_load(path, 1, NULL, &ps, &e);
		for (size_t k = 0; k < e.n; k++)
			cr_log_info("%s", e.msg[k]);
		cr_expect(rc == 0 && e.n == 0, "%s: %zu errors, %zu warnings", buf, e.errors,
		    e.warnings);
		ydoc_errs_free(&e);
		if (ps == NULL)
			continue;
		loaded++;
		for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
			if (strcmp(rows[k].file, files[i].file) == 0) {
				run_row(ps, &rows[k]);
				ran++;
			}
		pol_set_free(ps);
	}
	cr_log_info("%zu example files loaded, %zu rows decided", loaded, ran);
	cr_assert(loaded >= 1 && ran >= 9);
}
