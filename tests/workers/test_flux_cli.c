/* The flux-CLI paths: with a flux binary pinned (tests/fakes/fake_flux), reconcile, suspend and
 * resume run `flux ...` with a fixed argv and are verified with kubectl afterwards. The flux
 * CLI exits 0 with "✗ ... not found" on stderr for a missing object, and may even claim
 * success for one: corral reports both as failures. */
#include <string.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "tests/workers/flux_fx.h"

static struct kube k;
static struct fxh h;

static void
setup(void)
{
	cr_assert_not_null(fx_kubectl_path(), "kubectl not found on PATH");
	cr_assert_eq(kube_start(&k, NULL), 0, "fake_kube.py did not start");
	cr_assert_eq(fxh_init(&h, &k, true), 0, "exec kind init with flux");
}

static void
teardown(void)
{
	fxh_fini(&h);
	kube_stop(&k);
}

TestSuite(flux_cli, .init = setup, .fini = teardown, .timeout = 60);

static int
call(const char *op, const char *args, json_t **res, struct tool_err *err)
{
	char verr[256] = "";
	int r = fxh_call(&h, op, args, res, err, verr, sizeof(verr));

	cr_assert_str_empty(verr);
	return r;
}

/* The argv fake_flux ran with, from its User-Agent on the fake server's log. */
static json_t *
flux_argv(const char *method, const char *suffix)
{
	json_t *all = kube_find(&k, method, suffix), *e, *argv = NULL;
	size_t i;

	json_array_foreach(all, i, e) {
		const char *ua = json_string_value(json_object_get(e, "user_agent"));

		if (ua && strncmp(ua, "fake-flux/1 ", 12) == 0) {
			json_decref(argv);
			argv = json_loads(ua + 12, 0, NULL);
		}
	}
	json_decref(all);
	cr_assert_not_null(argv, "no request from fake flux for %s %s", method, suffix);
	return argv;
}

static void
assert_argv(json_t *argv, const char *const *want)
{
	size_t i;

	cr_assert(strncmp(json_string_value(json_array_get(argv, 0)), "--kubeconfig=", 13) == 0);
	for (i = 0; want[i]; i++)
		cr_assert_str_eq(json_string_value(json_array_get(argv, i + 1)), want[i],
		    "argv[%zu]", i + 1);
	cr_assert(strncmp(json_string_value(json_array_get(argv, i + 1)), "--timeout=", 10) == 0);
}

Test(flux_cli, suspend_uses_flux_and_verifies)
{
	static const char *const want[] = { "suspend", "kustomization", "apps", "-n",
		"flux-system", NULL };
	struct tool_err err;
	json_t *res = NULL, *argv, *gets;
	int r = call("suspend_kustomization", "{\"name\":\"apps\"}", &res, &err);

	cr_assert_eq(r, 0, "%s", err.text);
	argv = flux_argv("PATCH", "/kustomizations/apps");
	assert_argv(argv, want);
	json_decref(argv);
	cr_assert(json_is_true(json_object_get(res, "suspended")));
	cr_assert(strstr(h.events, "suspending kustomization apps"), "%s", h.events);
	/* the read-back is kubectl's, after flux's patch */
	gets = kube_find(&k, "GET", "/kustomizations/apps");
	cr_assert(strstr(json_string_value(json_object_get(json_array_get(gets,
	    json_array_size(gets) - 1), "user_agent")), "kubectl"));
	json_decref(gets);
	json_decref(res);
}

Test(flux_cli, suspend_missing_exit0_with_cross_is_failure)
{
	struct tool_err err;
	json_t *res = NULL;
	int r = call("suspend_kustomization", "{\"name\":\"nosuch\"}", &res, &err);

	cr_assert_eq(r, ERR_NOTFOUND, "%s: %s", err_name(r), err.text);
	cr_assert_null(res);
	cr_assert(strstr(err.text, "\xe2\x9c\x97"), "the flux ✗ line is reported: %s", err.text);
	cr_assert(strstr(err.text, "not found"), "%s", err.text);
}

Test(flux_cli, flux_claiming_success_is_caught_by_the_read_back)
{
	struct tool_err err;
	json_t *res = NULL;
	int r = call("resume_helmrelease", "{\"name\":\"ghost\"}", &res, &err);

	cr_assert_eq(r, ERR_NOTFOUND, "%s: %s", err_name(r), err.text);
	cr_assert(strstr(h.events, "\xe2\x9c\x94"), "fake flux claimed success: %s", h.events);
}

Test(flux_cli, resume_waits_through_flux)
{
	static const char *const want[] = { "resume", "kustomization", "infra", "-n",
		"flux-system", NULL };
	struct tool_err err;
	json_t *res = NULL, *argv;
	int r = call("resume_kustomization", "{\"name\":\"infra\"}", &res, &err);

	cr_assert_eq(r, 0, "%s", err.text);
	argv = flux_argv("PATCH", "/kustomizations/infra");
	assert_argv(argv, want);
	json_decref(argv);
	cr_assert(json_is_false(json_object_get(res, "suspended")));
	cr_assert(json_is_true(json_object_get(res, "ready")));
	cr_assert(strstr(h.events, "waiting for Kustomization reconciliation"), "%s", h.events);
	json_decref(res);
}

Test(flux_cli, reconcile_helmrelease_flags)
{
	static const char *const want[] = { "reconcile", "helmrelease", "podinfo", "-n",
		"flux-system", NULL };
	struct tool_err err;
	json_t *res = NULL, *argv, *p, *ann;
	size_t n;
	int r = call("reconcile_helmrelease", "{\"name\":\"podinfo\",\"force\":true,"
	    "\"reset\":true,\"timeout\":20}", &res, &err);

	cr_assert_eq(r, 0, "%s", err.text);
	argv = flux_argv("PATCH", "/helmreleases/podinfo");
	assert_argv(argv, want);
	n = json_array_size(argv);
	cr_assert_str_eq(json_string_value(json_array_get(argv, n - 2)), "--force");
	cr_assert_str_eq(json_string_value(json_array_get(argv, n - 1)), "--reset");
	json_decref(argv);
	p = kube_find(&k, "PATCH", "/helmreleases/podinfo");
	ann = json_object_get(json_object_get(json_object_get(json_array_get(p, 0), "body"),
	    "metadata"), "annotations");
	cr_assert(fx_rfc3339(json_string_value(json_object_get(ann,
	    "reconcile.fluxcd.io/requestedAt"))));
	json_decref(p);
	cr_assert(json_is_true(json_object_get(res, "reconciled")));
	cr_assert(strstr(h.events, "annotating HelmRelease podinfo"), "%s", h.events);
	json_decref(res);
}

Test(flux_cli, reconcile_source_chart_words)
{
	static const char *const want[] = { "reconcile", "source", "chart",
		"flux-system-podinfo", "-n", "flux-system", NULL };
	struct tool_err err;
	json_t *res = NULL, *argv;
	int r = call("reconcile_source", "{\"name\":\"flux-system-podinfo\","
	    "\"source_kind\":\"HelmChart\"}", &res, &err);

	cr_assert_eq(r, 0, "%s", err.text);
	argv = flux_argv("PATCH", "/helmcharts/flux-system-podinfo");
	assert_argv(argv, want);
	json_decref(argv);
	json_decref(res);
}

Test(flux_cli, reconcile_never_ready_is_a_timeout)
{
	struct tool_err err;
	json_t *res = NULL;
	int r;

	kube_mode(&k, "never-ready");
	r = call("reconcile_kustomization", "{\"name\":\"apps\",\"timeout\":2}", &res, &err);
	cr_assert_eq(r, ERR_TIMEOUT, "%s: %s", err_name(r), err.text);
	cr_assert(err.retryable);
}

Test(flux_cli, missing_object_reconcile)
{
	struct tool_err err;
	json_t *res = NULL;
	int r = call("reconcile_kustomization", "{\"name\":\"nosuch\"}", &res, &err);

	cr_assert_eq(r, ERR_NOTFOUND, "%s: %s", err_name(r), err.text);
	cr_assert(strstr(err.text, "flux: "), "flux said so: %s", err.text);
}
