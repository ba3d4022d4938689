/* `corralctl agent validate` as corralctl calls it: argv from "validate" on, real files,
 * exact exit status and output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "agents/loader.h"

struct run {
	int rc;
	char *out, *err;
};

static struct run
run_cli(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
    const char *a6)
{
	const char *in[] = { a1, a2, a3, a4, a5, a6 };
	char *argv[8] = { "validate" };
	int argc = 1;
	struct run r = { 0 };
	size_t no, ne;
	FILE *out = open_memstream(&r.out, &no), *err = open_memstream(&r.err, &ne);

	cr_assert(out != NULL && err != NULL);
	for (size_t i = 0; i < 6 && in[i] != NULL; i++)
		argv[argc++] = (char *)in[i];
	r.rc = agent_validate_cli(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static char *
corpus(const char *rel)
{
	static char path[4096];
	const char *d = getenv("AGENTS_TESTDIR");

	cr_assert_not_null(d);
	snprintf(path, sizeof(path), "%s/%s", d, rel);
	return path;
}

Test(cli, text_output_of_a_loaded_agent)
{
	struct run r = run_cli(corpus("aof/lib_cicd_pipeline-doctor.yaml"), NULL, NULL, NULL,
	    NULL, NULL);
	char want[8192];

	cr_expect_eq(r.rc, 0);
	snprintf(want, sizeof(want), "agent pipeline-doctor\n  file: %s\n"
	    "  apiVersion: aof.sh/v1alpha1 (metadata/spec shape)\n"
	    "  model: google:gemini-2.5-flash temperature=0.2 max_tokens=8192\n"
	    "  max_iterations: 10\n  memory: in_memory\n  system_prompt: 3555 bytes\n  tools:\n"
	    "    github_actions: list_workflow_runs, get_workflow_run, list_jobs, get_job_logs\n"
	    "    gitlab_ci: list_pipelines, get_pipeline, get_job_logs\n  config: {}\n",
	    corpus("aof/lib_cicd_pipeline-doctor.yaml"));
	cr_expect_str_eq(r.out, want);
	cr_expect_str_eq(r.err, "");
	run_free(&r);
}

Test(cli, refused_file_exits_2_with_positions)
{
	char *path = corpus("aof/ex_k8s-ops.yaml");
	struct run r = run_cli(path, NULL, NULL, NULL, NULL, NULL);
	char want[8192];

	cr_expect_eq(r.rc, 2);
	cr_expect_str_eq(r.out, "");
	snprintf(want, sizeof(want), "%s:36:7: tool 'kubectl' is not provided by corral (set "
	    "missing_tools: warn to load without it)\n%s:37:7: tool 'helm' is not provided by "
	    "corral (set missing_tools: warn to load without it)\n", path, path);
	cr_expect_str_eq(r.err, want);
	run_free(&r);
}

Test(cli, json_output_and_warn_mode)
{
	struct run r = run_cli("--missing-tools", "warn", corpus("aof/ex_k8s-ops.yaml"), "-o",
	    "json", NULL);
	json_error_t je;
	json_t *doc, *agent, *m;

	cr_expect_eq(r.rc, 0);
	doc = json_loads(r.out, 0, &je);
	cr_assert_not_null(doc, "%s", je.text);
	cr_expect(json_is_true(json_object_get(doc, "ok")));
	agent = json_object_get(doc, "agent");
	cr_expect_str_eq(json_string_value(json_object_get(agent, "name")), "k8s-ops");
	cr_expect_eq(json_array_size(json_object_get(agent, "tools")), 0);
	m = json_object_get(agent, "missing_tools");
	cr_assert_eq(json_array_size(m), 2);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(m, 1), "name")), "helm");
	cr_expect_eq(json_integer_value(json_object_get(json_array_get(m, 1), "line")), 37);
	cr_expect_eq(json_array_size(json_object_get(doc, "warnings")), 2);
	cr_expect_eq(json_array_size(json_object_get(doc, "errors")), 0);
	json_decref(doc);
	run_free(&r);
}

Test(cli, json_output_of_a_refusal)
{
	char *path = corpus("aof/lib_cicd_release-manager.yaml");
	struct run r = run_cli(path, "-o", "json", NULL, NULL, NULL);
	json_t *doc, *errs;
	char want[8192];

	cr_expect_eq(r.rc, 2);
	doc = json_loads(r.out, 0, NULL);
	cr_assert_not_null(doc);
	cr_expect(json_is_false(json_object_get(doc, "ok")));
	cr_expect(json_is_null(json_object_get(doc, "agent")));
	errs = json_object_get(doc, "errors");
	cr_assert_eq(json_array_size(errs), 1);
	snprintf(want, sizeof(want), "%s:14:7: tool 'git' is not provided by corral (set "
	    "missing_tools: warn to load without it)", path);
	cr_expect_str_eq(json_string_value(json_array_get(errs, 0)), want);
	json_decref(doc);
	run_free(&r);
}

Test(cli, var_allow_list_from_the_command_line)
{
	struct run r = run_cli("--var", "GITHUB_OWNER=acme", "--var", "GITHUB_TOKEN=t0k",
	    "--missing-tools", "warn");
	/* no file: a usage error */
	cr_expect_eq(r.rc, 2);
	cr_expect(strstr(r.err, "usage: corralctl agent validate") != NULL);
	run_free(&r);

	{
		char *argv[] = { "validate", "--var", "GITHUB_OWNER=acme", "--var",
			"GITHUB_TOKEN=t0k", "--missing-tools", "warn",
			corpus("aof/ex_cicd_github-actions-ops.yaml"), "-o", "json" };
		size_t no, ne;
		FILE *out = open_memstream(&r.out, &no), *err = open_memstream(&r.err, &ne);
		json_t *doc, *cfg;

		r.rc = agent_validate_cli(10, argv, out, err);
		fclose(out);
		fclose(err);
		cr_expect_eq(r.rc, 0);
		doc = json_loads(r.out, 0, NULL);
		cr_assert_not_null(doc);
		cfg = json_object_get(json_object_get(doc, "agent"), "config");
		cr_expect_str_eq(json_string_value(json_object_get(cfg, "GITHUB_OWNER")), "acme");
		cr_expect_null(json_object_get(cfg, "GITHUB_TOKEN"));
		cr_expect_null(strstr(r.out, "t0k"));
		json_decref(doc);
		run_free(&r);
	}
}

Test(cli, usage_errors_and_help)
{
	static const struct { const char *a[3]; int rc; const char *in_err; } u[] = {
		{ { NULL }, 2, "usage:" },
		{ { "-o", "yaml", "f.yaml" }, 2, "bad argument '-o'" },
		{ { "--missing-tools", "maybe", "f.yaml" }, 2, "bad argument '--missing-tools'" },
		{ { "--var", "=x", "f.yaml" }, 2, "bad argument '--var'" },
		{ { "a.yaml", "b.yaml" }, 2, "bad argument 'b.yaml'" },
		{ { "/nonexistent/x.yaml" }, 2, "/nonexistent/x.yaml: cannot open: No such file" },
		{ { "--help" }, 0, "" },
	};

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		struct run r = run_cli(u[i].a[0], u[i].a[0] ? u[i].a[1] : NULL,
		    u[i].a[0] && u[i].a[1] ? u[i].a[2] : NULL, NULL, NULL, NULL);

		cr_expect_eq(r.rc, u[i].rc, "case %zu", i);
		cr_expect(strstr(r.err, u[i].in_err) != NULL, "case %zu: %s", i, r.err);
		if (u[i].rc == 0)
			cr_expect(strncmp(r.out, "usage: corralctl agent validate", 31) == 0);
		run_free(&r);
	}
}
