/* aofmap: corral's families and ops by name, and AOF's per-operation tool names mapped onto
 * them. Kept as names only so the loader stays pure and builds without the schema registry;
 * tests/agents checks every corpus tool name against these tables. */
#include <string.h>

#include "agents/aofmap.h"

#define OPS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct agent_fam fams[] = {
	{ "argocd", OPS("get_application", "list_applications", "sync_application",
	    "get_sync_status", "get_resources", "rollback_application", "terminate_sync",
	    "patch_application", "get_manifest", "get_logs"), false },
	{ "github_actions", OPS("list_workflow_runs", "get_workflow_run", "list_jobs", "get_job",
	    "get_job_logs", "cancel_workflow_run", "rerun_workflow", "rerun_failed_jobs",
	    "trigger_workflow", "list_artifacts", "download_artifact", "list_releases",
	    "create_release", "compare_commits", "release_plan"), false },
	{ "gitlab_ci", OPS("list_pipelines", "get_pipeline", "get_pipeline_jobs", "get_job",
	    "get_job_logs", "retry_pipeline", "cancel_pipeline", "trigger_pipeline",
	    "download_artifact"), false },
	{ "jenkins", OPS("list_jobs", "get_job", "get_build", "get_build_logs", "trigger_build",
	    "stop_build", "get_queue", "get_nodes", "disable_job", "enable_job"), false },
	{ "prometheus", OPS("query", "query_range", "canary_analyze"), false },
	{ "flux", OPS("get_kustomizations", "get_kustomization", "reconcile_kustomization",
	    "suspend_kustomization", "resume_kustomization", "get_helmreleases",
	    "get_helmrelease", "reconcile_helmrelease", "suspend_helmrelease",
	    "resume_helmrelease", "get_sources", "reconcile_source", "get_alerts", "get_logs"),
	    false },
	{ "echo", OPS("echo", "sleep", "fail", "store", "crash", "log"), true },
};

/* AOF names seen in the AOF corpus and the origin design. The reasons are repeated, longer, in
 * docs/AGENTS.md; keep both in step. */
static const struct agent_aof aofs[] = {
	/* ArgoCD */
	{ "argocd_app_list", "argocd", OPS("list_applications"), "lists applications" },
	{ "argocd_app_get", "argocd", OPS("get_application"), "reads one application" },
	{ "argocd_app_sync", "argocd", OPS("sync_application"), "syncs an application" },
	{ "argocd_app_refresh", "argocd", OPS("get_application"),
	    "ArgoCD refreshes through GET application?refresh=normal|hard" },
	{ "argocd_app_history", "argocd", OPS("get_application"),
	    "sync history is status.history of the application" },
	{ "argocd_app_diff", "argocd", OPS("get_resources", "get_manifest"),
	    "live state per resource and the desired manifests" },
	/* Flux */
	{ "flux_kustomization_list", "flux", OPS("get_kustomizations"), "lists Kustomizations" },
	{ "flux_kustomization_get", "flux", OPS("get_kustomization"), "reads one Kustomization" },
	{ "flux_helmrelease_list", "flux", OPS("get_helmreleases"), "lists HelmReleases" },
	{ "flux_helmrelease_get", "flux", OPS("get_helmrelease"), "reads one HelmRelease" },
	{ "flux_reconcile", "flux",
	    OPS("reconcile_kustomization", "reconcile_helmrelease", "reconcile_source"),
	    "AOF's reconcile takes a kind; corral has one op per kind" },
	{ "flux_suspend", "flux", OPS("suspend_kustomization", "suspend_helmrelease"),
	    "AOF's suspend takes a kind; corral has one op per kind" },
	{ "flux_resume", "flux", OPS("resume_kustomization", "resume_helmrelease"),
	    "AOF's resume takes a kind; corral has one op per kind" },
	{ "flux_logs", "flux", OPS("get_logs"), "controller logs" },
	/* GitHub Actions */
	{ "github_workflow_dispatch", "github_actions", OPS("trigger_workflow"),
	    "workflow_dispatch event" },
	{ "github_run_list", "github_actions", OPS("list_workflow_runs"), "lists runs" },
	{ "github_run_get", "github_actions", OPS("get_workflow_run"), "reads one run" },
	{ "github_run_cancel", "github_actions", OPS("cancel_workflow_run"), "cancels a run" },
	{ "github_run_force_cancel", "github_actions", OPS("cancel_workflow_run"),
	    "force-cancel is the escalation of cancel; corral has one cancel op" },
	{ "github_run_rerun", "github_actions", OPS("rerun_workflow", "rerun_failed_jobs"),
	    "AOF reruns all or only failed jobs; corral has one op each" },
	{ "github_artifacts_list", "github_actions", OPS("list_artifacts"), "lists artifacts" },
	{ "github_artifacts_download", "github_actions", OPS("download_artifact"),
	    "downloads one artifact" },
	{ "github_run_logs", "github_actions", OPS("list_jobs", "get_job_logs"),
	    "corral reads logs per job (the run-level zip is not offered)" },
	/* GitLab CI */
	{ "gitlab_pipeline_list", "gitlab_ci", OPS("list_pipelines"), "lists pipelines" },
	{ "gitlab_pipeline_get", "gitlab_ci", OPS("get_pipeline"), "reads one pipeline" },
	{ "gitlab_pipeline_create", "gitlab_ci", OPS("trigger_pipeline"),
	    "POST /projects/:id/pipeline" },
	{ "gitlab_pipeline_cancel", "gitlab_ci", OPS("cancel_pipeline"), "cancels a pipeline" },
	{ "gitlab_pipeline_retry", "gitlab_ci", OPS("retry_pipeline"), "retries a pipeline" },
	{ "gitlab_job_list", "gitlab_ci", OPS("get_pipeline_jobs"), "jobs of a pipeline" },
	{ "gitlab_job_get", "gitlab_ci", OPS("get_job"), "reads one job" },
	{ "gitlab_job_log", "gitlab_ci", OPS("get_job_logs"), "job trace" },
	/* Prometheus */
	{ "prometheus_query", "prometheus", OPS("query", "query_range"),
	    "instant and range PromQL queries" },
};

const struct agent_fam *
agent_fams(size_t *n)
{
	*n = sizeof(fams) / sizeof(fams[0]);
	return fams;
}

const struct agent_fam *
agent_fam_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof(fams) / sizeof(fams[0]); i++)
		if (strcmp(fams[i].name, name) == 0)
			return &fams[i];
	return NULL;
}

int
agent_fam_op_index(const struct agent_fam *f, const char *op)
{
	for (int i = 0; f != NULL && op != NULL && f->ops[i] != NULL; i++)
		if (strcmp(f->ops[i], op) == 0)
			return i;
	return -1;
}

size_t
agent_fam_nops(const struct agent_fam *f)
{
	size_t n = 0;

	while (f != NULL && f->ops[n] != NULL)
		n++;
	return n;
}

const struct agent_aof *
agent_aofs(size_t *n)
{
	*n = sizeof(aofs) / sizeof(aofs[0]);
	return aofs;
}

const struct agent_aof *
agent_aof_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof(aofs) / sizeof(aofs[0]); i++)
		if (strcmp(aofs[i].name, name) == 0)
			return &aofs[i];
	return NULL;
}
