/* The AOF corpus and the origin design's four agents, through the real loader: for every file,
 * the exact outcome in the default mode (loaded with these tools, or refused with exactly these
 * "not provided by corral" errors at these positions) and in missing_tools: warn mode (loaded
 * with these tools and these missing ones). Expected op lists are written out here, not taken
 * from agents/aofmap.c, so that a wrong mapping table fails the test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "agents/loader.h"
#include "ipc/err.h"

#define ARGOCD_ALL "get_application,list_applications,sync_application,get_sync_status," \
	"get_resources,rollback_application,terminate_sync,patch_application,get_manifest,get_logs"
#define FLUX_ALL "get_kustomizations,get_kustomization,reconcile_kustomization," \
	"suspend_kustomization,resume_kustomization,get_helmreleases,get_helmrelease," \
	"reconcile_helmrelease,suspend_helmrelease,resume_helmrelease,get_sources," \
	"reconcile_source,get_alerts,get_logs"
#define GITHUB_ALL "list_workflow_runs,get_workflow_run,list_jobs,get_job,get_job_logs," \
	"cancel_workflow_run,rerun_workflow,rerun_failed_jobs,trigger_workflow,list_artifacts," \
	"download_artifact,list_releases,create_release,compare_commits,release_plan"
#define GITLAB_ALL "list_pipelines,get_pipeline,get_pipeline_jobs,get_job,get_job_logs," \
	"retry_pipeline,cancel_pipeline,trigger_pipeline,download_artifact"
#define JENKINS_ALL "list_jobs,get_job,get_build,get_build_logs,trigger_build,stop_build," \
	"get_queue,get_nodes,disable_job,enable_job"

struct exp_tool {
	const char *family;
	const char *ops;		/* comma-separated, in the family's canonical order */
};

struct corpus_case {
	const char *file;		/* relative to tests/agents */
	const char *missing;		/* "name@line:col,..." or "" when every tool is provided */
	struct exp_tool tools[4];	/* the resolved tools (in warn mode when missing) */
};

static const struct corpus_case cases[] = {
	{ "aof/ex_cicd_argocd-ops.yaml", "", {
	    { "argocd", "get_application,list_applications,sync_application,get_resources,"
	      "get_manifest" } } },
	{ "aof/ex_cicd_flux-ops.yaml", "", {
	    { "flux", "get_kustomizations,get_kustomization,reconcile_kustomization,"
	      "suspend_kustomization,resume_kustomization,get_helmreleases,get_helmrelease,"
	      "reconcile_helmrelease,suspend_helmrelease,resume_helmrelease,reconcile_source,"
	      "get_logs" } } },
	{ "aof/ex_cicd_github-actions-ops.yaml", "github_workflow_list@35:7", {
	    { "github_actions", "list_workflow_runs,get_workflow_run,list_jobs,get_job_logs,"
	      "cancel_workflow_run,rerun_workflow,rerun_failed_jobs,trigger_workflow,"
	      "list_artifacts,download_artifact" } } },
	{ "aof/ex_cicd_gitlab-ci-ops.yaml", "", {
	    { "gitlab_ci", "list_pipelines,get_pipeline,get_pipeline_jobs,get_job,get_job_logs,"
	      "retry_pipeline,cancel_pipeline,trigger_pipeline" } } },
	{ "aof/ex_echo.yaml", "", { { NULL, NULL } } },
	{ "aof/ex_k8s-ops.yaml", "kubectl@36:7,helm@37:7", { { NULL, NULL } } },
	{ "aof/ex_library_prometheus-agent.yaml", "", {
	    { "prometheus", "query,query_range" } } },
	{ "aof/lib_cicd_build-optimizer.yaml", "", {
	    { "github_actions", "list_workflow_runs,get_workflow_run" },
	    { "gitlab_ci", "list_pipelines,get_pipeline_jobs,get_job_logs" } } },
	{ "aof/lib_cicd_deploy-guardian.yaml", "kubectl@14:7,grafana_query@20:7", {
	    { "argocd", "get_application,list_applications,sync_application" },
	    { "prometheus", "query,query_range" } } },
	{ "aof/lib_cicd_pipeline-doctor.yaml", "", {
	    { "github_actions", "list_workflow_runs,get_workflow_run,list_jobs,get_job_logs" },
	    { "gitlab_ci", "list_pipelines,get_pipeline,get_job_logs" } } },
	{ "aof/lib_cicd_release-manager.yaml", "git@14:7", {
	    { "argocd", "get_application,list_applications,sync_application" },
	    { "flux", "get_kustomizations,get_kustomization,reconcile_kustomization,"
	      "reconcile_helmrelease,reconcile_source" } } },
	{ "aof/lib_cicd_test-analyzer.yaml",
	    "sonar_project_status@14:7,sonar_measures_component@15:7,sonar_issues_search@16:7", {
	    { "github_actions", "list_workflow_runs,list_artifacts" },
	    { "gitlab_ci", "list_pipelines" } } },
	{ "aof/lib_cloud_drift-detector.yaml",
	    "terraform@14:7,aws_cloudformation@15:7,kubectl@16:7", { { NULL, NULL } } },
	/* The origin design's agents (one source line added at the top of each file). */
	{ "seed/deployment-guardian.yaml", "grafana@51:7,kubectl@53:7,slack@54:7", {
	    { "argocd", ARGOCD_ALL }, { "flux", FLUX_ALL },
	    { "prometheus", "query,query_range" } } },
	{ "seed/pipeline-doctor.yaml", "git@59:7,shell@60:7", {
	    { "github_actions", GITHUB_ALL }, { "gitlab_ci", GITLAB_ALL },
	    { "jenkins", JENKINS_ALL } } },
	{ "seed/drift-detector.yaml", "kubectl@54:7,git@55:7,slack@56:7", {
	    { "argocd", ARGOCD_ALL }, { "flux", FLUX_ALL } } },
	{ "seed/release-manager.yaml", "git@50:7,shell@53:7,slack@54:7", {
	    { "github_actions", GITHUB_ALL }, { "gitlab_ci", GITLAB_ALL } } },
};

static const char *
testdir(void)
{
	const char *d = getenv("AGENTS_TESTDIR");

	cr_assert_not_null(d, "AGENTS_TESTDIR is not set (run through meson test)");
	return d;
}

static char *
join_ops(const struct agent_tool *t)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < t->nops; i++)
		len += strlen(t->ops[i]) + 1;
	s = calloc(1, len);
	cr_assert_not_null(s);
	for (size_t i = 0; i < t->nops; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, t->ops[i]);
	}
	return s;
}

static void
check_tools(const struct corpus_case *c, const struct agent_def *def)
{
	size_t n = 0;

	while (n < 4 && c->tools[n].family != NULL)
		n++;
	cr_expect_eq(def->ntools, n, "%s: %zu tool families, expected %zu", c->file, def->ntools,
	    n);
	for (size_t i = 0; i < n && i < def->ntools; i++) {
		char *ops = join_ops(&def->tools[i]);

		cr_expect_str_eq(def->tools[i].family, c->tools[i].family, "%s: family %zu", c->file,
		    i);
		cr_expect_str_eq(ops, c->tools[i].ops, "%s: ops of %s", c->file, c->tools[i].family);
		free(ops);
	}
}

/* Split "a@1:2,b@3:4" into names and positions. */
static size_t
parse_missing(const char *spec, char names[8][64], int line[8], int col[8])
{
	size_t n = 0;
	const char *p = spec;

	while (*p != '\0' && n < 8) {
		int used = 0;

		cr_assert_eq(sscanf(p, "%63[^@]@%d:%d%n", names[n], &line[n], &col[n], &used), 3);
		n++;
		p += used;
		if (*p == ',')
			p++;
	}
	return n;
}

Test(corpus, default_mode_exact_outcome)
{
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct corpus_case *c = &cases[k];
		struct ydoc_errs e = { 0 };
		struct agent_def *def = NULL;
		char path[4096], names[8][64], want[1024];
		int line[8], col[8];
		size_t nm = parse_missing(c->missing, names, line, col), ie = 0;
		int r;

		snprintf(path, sizeof(path), "%s/%s", testdir(), c->file);
		r = agent_load_file(path, NULL, &def, &e);
		if (nm == 0) {
			cr_expect_eq(r, 0, "%s: %s (%s)", c->file, err_str(r), e.n ? e.msg[0] : "");
			cr_expect_eq(e.errors, 0);
			if (def != NULL) {
				check_tools(c, def);
				cr_expect_eq(def->nmissing, 0);
			}
		} else {
			cr_expect_eq(r, ERR_CONFIG, "%s should be refused", c->file);
			cr_expect_null(def);
			cr_expect_eq(e.errors, nm, "%s: %zu errors, expected %zu", c->file, e.errors,
			    nm);
			/* Every error is exactly a missing tool, in file order; nothing else. */
			for (size_t i = 0; i < e.n; i++) {
				if (strstr(e.msg[i], ": warning: ") != NULL)
					continue;
				cr_assert_lt(ie, nm, "%s: unexpected error %s", c->file, e.msg[i]);
				snprintf(want, sizeof(want), "%s:%d:%d: tool '%s' is not provided by "
				    "corral (set missing_tools: warn to load without it)", path,
				    line[ie], col[ie], names[ie]);
				cr_expect_str_eq(e.msg[i], want);
				ie++;
			}
		}
		agent_def_free(def);
		ydoc_errs_free(&e);
	}
}

Test(corpus, warn_mode_loads_without_missing_tools)
{
	const struct agent_load_opts warn = { .missing_tools_warn = true };

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct corpus_case *c = &cases[k];
		struct ydoc_errs e = { 0 };
		struct agent_def *def = NULL;
		char path[4096], names[8][64];
		int line[8], col[8];
		size_t nm = parse_missing(c->missing, names, line, col), nw = 0;
		int r;

		snprintf(path, sizeof(path), "%s/%s", testdir(), c->file);
		r = agent_load_file(path, &warn, &def, &e);
		cr_assert_eq(r, 0, "%s: %s (%s)", c->file, err_str(r), e.n ? e.msg[0] : "");
		cr_expect_eq(e.errors, 0, "%s", c->file);
		check_tools(c, def);
		cr_expect_eq(def->nmissing, nm, "%s: %zu missing", c->file, def->nmissing);
		for (size_t i = 0; i < nm && i < def->nmissing; i++) {
			cr_expect_str_eq(def->missing[i].name, names[i]);
			cr_expect_eq(def->missing[i].pos.line, line[i], "%s %s", c->file, names[i]);
			cr_expect_eq(def->missing[i].pos.col, col[i], "%s %s", c->file, names[i]);
		}
		for (size_t i = 0; i < e.n; i++)
			if (strstr(e.msg[i], "is not provided by corral; loading the agent without "
			    "it") != NULL)
				nw++;
		cr_expect_eq(nw, nm, "%s: one warning per missing tool", c->file);
		agent_def_free(def);
		ydoc_errs_free(&e);
	}
}

/* What every corpus file carries beyond tools: the model string form with spec-level
 * temperature / max_tokens, instructions as the prompt, and the AOF environment: map. */
Test(corpus, aof_forms_resolved)
{
	const struct agent_load_opts warn = { .missing_tools_warn = true };
	struct ydoc_errs e = { 0 };
	struct agent_def *def = NULL;
	char path[4096];

	snprintf(path, sizeof(path), "%s/aof/ex_k8s-ops.yaml", testdir());
	cr_assert_eq(agent_load_file(path, &warn, &def, &e), 0);
	cr_expect_str_eq(def->name, "k8s-ops");
	cr_expect_str_eq(def->api_version, "aof.dev/v1");
	cr_expect_eq(def->shape, AGENT_SHAPE_K8S);
	cr_expect_str_eq(def->model.provider, "google");
	cr_expect_str_eq(def->model.name, "gemini-2.5-flash");
	cr_expect(def->model.has_temperature && def->model.temperature == 0.0);
	cr_expect_eq(def->model.max_tokens, 4096);
	cr_expect(strncmp(def->system_prompt, "You are an expert Kubernetes operations engineer.",
	    49) == 0);
	cr_expect_eq(def->max_iterations, 10);
	cr_expect_eq(def->memory.provider, AGENT_MEM_IN_MEMORY);
	cr_expect_eq(def->nlabels, 4);
	agent_def_free(def);
	ydoc_errs_free(&e);

	/* environment: ${VAR:-default} gives the default; the token never reaches the agent. */
	snprintf(path, sizeof(path), "%s/aof/ex_cicd_argocd-ops.yaml", testdir());
	cr_assert_eq(agent_load_file(path, NULL, &def, &e), 0);
	cr_expect_str_eq(json_string_value(json_object_get(def->config, "ARGOCD_NAMESPACE")),
	    "argocd");
	cr_expect_null(json_object_get(def->config, "ARGOCD_TOKEN"));
	cr_expect_null(json_object_get(def->config, "ARGOCD_SERVER"));
	cr_expect_eq(json_object_size(def->config), 1);
	cr_expect_eq(e.warnings, 2);
	agent_def_free(def);
	ydoc_errs_free(&e);
}

/* The origin design's object model, sqlite memory and config: map, with the supervisor's
 * allow-list: allowed names expand, credentials never do even when allow-listed. */
Test(corpus, seed_forms_resolved)
{
	char *names[] = { "ARGOCD_SERVER", "ARGOCD_AUTH_TOKEN", "PROMETHEUS_URL" };
	char *values[] = { "https://argocd.example.com", "s3cr3t-token", "http://prom:9090" };
	const struct agent_load_opts o = { .missing_tools_warn = true, .var_names = names,
		.var_values = values, .nvars = 3 };
	struct ydoc_errs e = { 0 };
	struct agent_def *def = NULL;
	char path[4096], *dump;
	json_t *j;

	snprintf(path, sizeof(path), "%s/seed/deployment-guardian.yaml", testdir());
	cr_assert_eq(agent_load_file(path, &o, &def, &e), 0);
	cr_expect_str_eq(def->model.provider, "google");
	cr_expect_str_eq(def->model.name, "gemini-2.5-flash");
	cr_expect_eq(def->model.max_tokens, 8000);
	cr_expect(def->model.temperature > 0.19 && def->model.temperature < 0.21);
	cr_expect_eq(def->memory.provider, AGENT_MEM_SQLITE);
	cr_expect_str_eq(def->memory.path, "./memory/deployment-guardian.db");
	cr_expect(strncmp(def->description, "Monitor deployments via ArgoCD/Flux", 35) == 0);
	dump = json_dumps(def->config, JSON_SORT_KEYS | JSON_COMPACT);
	cr_expect_str_eq(dump, "{\"argocd_server\":\"https://argocd.example.com\","
	    "\"canary_duration_minutes\":10,\"error_rate_threshold\":5.0,"
	    "\"latency_increase_threshold\":20.0,\"prometheus_endpoint\":\"http://prom:9090\"}");
	free(dump);
	j = agent_def_to_json(def);
	cr_assert_not_null(j);
	dump = json_dumps(j, JSON_COMPACT);
	cr_expect_null(strstr(dump, "s3cr3t"), "a credential reached the agent definition");
	free(dump);
	json_decref(j);
	agent_def_free(def);
	ydoc_errs_free(&e);
}
