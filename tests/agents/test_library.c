/* The four pre-built agents of agents/library/: each loads cleanly (no error, no warning, no
 * missing tool) with no supervisor vars, names itself like its file, and holds exactly the
 * operations written here (least privilege, reviewed by hand). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "agents/loader.h"
#include "ipc/err.h"

struct lib_case {
	const char *name;
	const char *tools[4][2];	/* family, ops (comma-separated, canonical order) */
	const char *prompt_has[4];	/* phrases the corral-specific prompt must contain */
};

static const struct lib_case lib[] = {
	{ "deployment-guardian", {
	    { "argocd", "get_application,list_applications,get_sync_status,get_resources,"
	      "rollback_application,get_logs" },
	    { "flux", "get_kustomizations,get_kustomization,get_helmreleases,get_helmrelease,"
	      "get_logs" },
	    { "prometheus", "query,query_range,canary_analyze" } },
	  { "prometheus.canary_analyze", "You explain; you do not decide.", "ERR_DENIED",
	    "status.history" } },
	{ "pipeline-doctor", {
	    { "github_actions", "list_workflow_runs,get_workflow_run,list_jobs,get_job,"
	      "get_job_logs,rerun_failed_jobs,list_artifacts,compare_commits" },
	    { "gitlab_ci", "list_pipelines,get_pipeline,get_pipeline_jobs,get_job,get_job_logs,"
	      "retry_pipeline" },
	    { "jenkins", "list_jobs,get_job,get_build,get_build_logs,get_queue,get_nodes" } },
	  { "rerun_failed_jobs", "Never re-run a code", "ERR_RATE", "corrald" } },
	{ "drift-detector", {
	    { "argocd", "get_application,list_applications,sync_application,get_sync_status,"
	      "get_resources,get_manifest" },
	    { "flux", "get_kustomizations,get_kustomization,reconcile_kustomization,"
	      "get_helmreleases,get_helmrelease,reconcile_helmrelease,get_sources,"
	      "reconcile_source" } },
	  { "OutOfSync", "emergency", "prune false", "review-required" } },
	{ "release-manager", {
	    { "github_actions", "list_workflow_runs,get_workflow_run,trigger_workflow,"
	      "list_releases,create_release,compare_commits,release_plan" } },
	  { "BREAKING CHANGE:", "major -> (MAJOR+1).0.0", "### Features", "trigger_workflow" } },
};

static char *
join(const struct agent_tool *t)
{
	char *s = calloc(1, 4096);

	cr_assert_not_null(s);
	for (size_t i = 0; i < t->nops; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, t->ops[i]);
	}
	return s;
}

Test(library, every_agent_loads_cleanly_with_exact_tools)
{
	const char *root = getenv("AGENTS_SRCROOT");

	cr_assert_not_null(root);
	for (size_t k = 0; k < sizeof(lib) / sizeof(lib[0]); k++) {
		const struct lib_case *c = &lib[k];
		struct ydoc_errs e = { 0 };
		struct agent_def *def = NULL;
		char path[4096];
		size_t n = 0;
		int r;

		snprintf(path, sizeof(path), "%s/agents/library/%s.yaml", root, c->name);
		r = agent_load_file(path, NULL, &def, &e);
		cr_assert_eq(r, 0, "%s: %s (%s)", c->name, err_str(r), e.n ? e.msg[0] : "");
		cr_expect_eq(e.n, 0, "%s: %s", c->name, e.n ? e.msg[0] : "");
		cr_expect_str_eq(def->name, c->name);
		cr_expect_str_eq(def->api_version, "corral.dev/v1");
		cr_expect_eq(def->nmissing, 0);
		cr_expect_not_null(def->description);
		cr_expect_eq(def->memory.provider, AGENT_MEM_SQLITE);
		while (n < 4 && c->tools[n][0] != NULL)
			n++;
		cr_expect_eq(def->ntools, n, "%s", c->name);
		for (size_t i = 0; i < n && i < def->ntools; i++) {
			char *ops = join(&def->tools[i]);

			cr_expect_str_eq(def->tools[i].family, c->tools[i][0], "%s", c->name);
			cr_expect_str_eq(ops, c->tools[i][1], "%s %s", c->name, c->tools[i][0]);
			free(ops);
		}
		for (size_t i = 0; i < 4 && c->prompt_has[i] != NULL; i++)
			cr_expect_not_null(strstr(def->system_prompt, c->prompt_has[i]), "%s: '%s'",
			    c->name, c->prompt_has[i]);
		/* Nothing that looks like a credential in what the agent is sent. */
		{
			json_t *j = agent_def_to_json(def);
			char *s = json_dumps(json_object_get(j, "config"), JSON_COMPACT);

			cr_expect_null(strstr(s, "token"), "%s config: %s", c->name, s);
			free(s);
			json_decref(j);
		}
		agent_def_free(def);
		ydoc_errs_free(&e);
	}
}
