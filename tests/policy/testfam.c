#include "tests/policy/testfam.h"

extern const struct tool_family tool_fam_echo;

static const char *const refresh_e[] = { "normal", "hard", NULL };
static const char *const patch_e[] = { "merge", "json", NULL };

#define S(n, req) { .name = n, .type = TP_STRING, .required = req }
#define SD(n, d) { .name = n, .type = TP_STRING, .def = d }
#define I(n, req, d) { .name = n, .type = TP_INT, .required = req, .def = d, .min = 0, .max = 1000000000 }
#define B(n, d) { .name = n, .type = TP_BOOL, .def = d }

static const struct tool_param p_app[] = { S("app_name", true), SD("app_namespace", "\"argocd\""),
	{ .name = "refresh", .type = TP_STRING, .enums = refresh_e }, { 0 } };
static const struct tool_param p_list[] = { S("selector", false), S("project", false), { 0 } };
static const struct tool_param p_sync[] = { S("app_name", true), SD("revision", "\"HEAD\""),
	B("prune", "false"), B("force", "false"),
	{ .name = "resources", .type = TP_ARRAY }, { 0 } };
static const struct tool_param p_rollback[] = { S("app_name", true), I("id", true, NULL),
	B("prune", "false"), { 0 } };
static const struct tool_param p_term[] = { S("app_name", true), { 0 } };
static const struct tool_param p_logs[] = { S("app_name", true), S("container", false),
	I("tail_lines", false, "100"), { 0 } };
static const struct tool_param p_patch[] = { S("app_name", true),
	{ .name = "patch", .type = TP_JSON, .required = true },
	{ .name = "patch_type", .type = TP_STRING, .enums = patch_e, .def = "\"merge\"" }, { 0 } };

static const struct tool_op argocd_ops[] = {
	{ .name = "get_application", .params = p_app },
	{ .name = "get_sync_status", .params = p_app },
	{ .name = "list_applications", .params = p_list },
	{ .name = "sync_application", .flags = TOOL_F_MUTATING | TOOL_F_DRY_RUN, .params = p_sync },
	{ .name = "rollback_application", .flags = TOOL_F_MUTATING | TOOL_F_DRY_RUN,
	  .params = p_rollback },
	{ .name = "terminate_sync", .flags = TOOL_F_MUTATING, .params = p_term },
	{ .name = "get_logs", .params = p_logs },
	{ .name = "patch_application", .flags = TOOL_F_MUTATING, .params = p_patch },
	{ 0 }
};

static const struct tool_param p_query[] = { S("query", true), S("time", false), { 0 } };
static const struct tool_param p_canary[] = { S("app_name", true), S("baseline", false),
	S("canary", false), SD("window", "\"15m\""),
	{ .name = "threshold", .type = TP_NUMBER, .def = "0.95", .min = 0, .max = 1 }, { 0 } };

static const struct tool_op prom_ops[] = {
	{ .name = "query", .params = p_query },
	{ .name = "canary_analyze", .params = p_canary },
	{ 0 }
};

static const struct tool_param p_runs[] = { S("owner", true), S("repo", true), S("branch", false),
	S("status", false), I("per_page", false, "30"), { 0 } };
static const struct tool_param p_run[] = { S("owner", true), S("repo", true),
	I("run_id", true, NULL), { 0 } };
static const struct tool_param p_trigger[] = { S("owner", true), S("repo", true),
	S("workflow_id", true), S("ref", true), { .name = "inputs", .type = TP_OBJECT }, { 0 } };

static const struct tool_op gh_ops[] = {
	{ .name = "list_workflow_runs", .params = p_runs },
	{ .name = "get_workflow_run", .params = p_run },
	{ .name = "rerun_failed_jobs", .flags = TOOL_F_MUTATING, .params = p_run },
	{ .name = "cancel_workflow_run", .flags = TOOL_F_MUTATING, .params = p_run },
	{ .name = "trigger_workflow", .flags = TOOL_F_MUTATING, .params = p_trigger },
	{ 0 }
};

static const struct tool_family fam_argocd = { .name = "argocd", .ops = argocd_ops };
static const struct tool_family fam_prom = { .name = "prometheus", .ops = prom_ops };
static const struct tool_family fam_gh = { .name = "github_actions", .ops = gh_ops };

const struct tool_family *const test_families[] = { &tool_fam_echo, &fam_argocd, &fam_prom,
	&fam_gh };
const size_t test_nfamilies = sizeof(test_families) / sizeof(test_families[0]);
const struct pol_load_opts test_opts = { .families = test_families,
	.nfamilies = sizeof(test_families) / sizeof(test_families[0]) };
