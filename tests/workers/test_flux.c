/* The flux family through the exec kind's real io->exec: the real kubectl (found on PATH)
 * against the loopback fake Kubernetes API server, through the kind's loopback proxy and a
 * connect hook that plays corrald's egress broker. Each op: the request kubectl made (method,
 * path, query, content type, body) and the shaped result; then not-found, forbidden, a down
 * API server, a reconcile that never gets Ready, dry runs and injection attempts. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "tests/workers/flux_fx.h"
#include "workers/execkind.h"

#define KS_PATH "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/"
#define HR_PATH "/apis/helm.toolkit.fluxcd.io/v2/namespaces/"
#define SRC_PATH "/apis/source.toolkit.fluxcd.io/v1/"

static struct kube k;
static struct fxh h;

static void
setup(void)
{
	cr_assert_not_null(fx_kubectl_path(), "kubectl not found on PATH (scripts/setup installs "
	    "Debian's kubernetes-client when there is none)");
	cr_assert_eq(kube_start(&k, NULL), 0, "fake_kube.py did not start");
	cr_assert_eq(fxh_init(&h, &k, false), 0, "exec kind init");
}

static void
teardown(void)
{
	fxh_fini(&h);
	kube_stop(&k);
}

TestSuite(flux, .init = setup, .fini = teardown, .timeout = 60);

static json_t *
call_ok(const char *op, const char *args)
{
	struct tool_err err;
	char verr[256] = "";
	json_t *res = NULL;
	int r = fxh_call(&h, op, args, &res, &err, verr, sizeof(verr));

	cr_assert_eq(r, 0, "%s %s: %d %s %s", op, args, r, err_name(r), *verr ? verr : err.text);
	cr_assert_not_null(res);
	return res;
}

static int
call_err(const char *op, const char *args, struct tool_err *err)
{
	char verr[256] = "";
	json_t *res = NULL;
	int r = fxh_call(&h, op, args, &res, err, verr, sizeof(verr));

	cr_assert_lt(r, 0, "%s %s succeeded: %s", op, args, res ? json_dumps(res, 0) : "");
	json_decref(res);
	return r;
}

static const char *
sget(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_t *
item_named(const json_t *res, const char *ns, const char *name)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(res, "items"), i, it)
		if (strcmp(sget(it, "namespace"), ns) == 0 && strcmp(sget(it, "name"), name) == 0)
			return it;
	return NULL;
}

/* Exactly one request method+path suffix; returns it (borrowed from *all, caller frees). */
static json_t *
one_request(const char *method, const char *suffix, json_t **all)
{
	*all = kube_find(&k, method, suffix);
	cr_assert_eq(json_array_size(*all), 1, "%s %s: %zu requests", method, suffix,
	    json_array_size(*all));
	cr_assert(json_is_true(json_object_get(json_array_get(*all, 0), "absolute_form")),
	    "the request did not come through the worker's proxy");
	return json_array_get(*all, 0);
}

/* ------------------------------------------------------------------ reads */

Test(flux, get_kustomizations_namespace_and_all)
{
	json_t *res = call_ok("get_kustomizations", "{}"), *all, *req, *it;

	req = one_request("GET", KS_PATH "flux-system/kustomizations", &all);
	cr_assert_str_eq(sget(json_object_get(req, "query"), "limit"), "500");
	json_decref(all);
	cr_assert_eq(json_integer_value(json_object_get(res, "count")), 3);
	it = item_named(res, "flux-system", "infra");
	cr_assert(json_is_true(json_object_get(it, "suspended")));
	it = item_named(res, "flux-system", "flux-system");
	cr_assert(json_is_true(json_object_get(it, "ready")));
	cr_assert_str_eq(sget(it, "revision"), "main@sha1:0a1b2c3d4e5f60718293a4b5c6d7e8f901234567");
	cr_assert_str_eq(sget(it, "last_reconcile"), "2025-06-01T09:00:00Z");
	cr_assert_str_eq(sget(it, "reason"), "ReconciliationSucceeded");
	cr_assert_str_eq(sget(json_object_get(it, "source"), "kind"), "GitRepository");
	json_decref(res);

	res = call_ok("get_kustomizations", "{\"all_namespaces\":true}");
	req = one_request("GET", "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations", &all);
	json_decref(all);
	cr_assert_eq(json_integer_value(json_object_get(res, "count")), 4);
	cr_assert_eq(json_integer_value(json_object_get(res, "not_ready")), 1);
	it = item_named(res, "apps-dev", "podinfo");
	cr_assert(json_is_false(json_object_get(it, "ready")));
	cr_assert_str_eq(sget(it, "reason"), "BuildFailed");
	json_decref(res);
}

Test(flux, get_one_kustomization_and_helmrelease)
{
	json_t *res = call_ok("get_kustomization", "{\"name\":\"apps\"}"), *all;

	one_request("GET", KS_PATH "flux-system/kustomizations/apps", &all);
	json_decref(all);
	cr_assert_str_eq(sget(res, "name"), "apps");
	cr_assert_str_eq(sget(res, "path"), "./apps");
	cr_assert(json_is_false(json_object_get(res, "suspended")));
	json_decref(res);

	res = call_ok("get_helmrelease", "{\"name\":\"redis\",\"namespace\":\"apps-dev\"}");
	one_request("GET", HR_PATH "apps-dev/helmreleases/redis", &all);
	json_decref(all);
	cr_assert(json_is_false(json_object_get(res, "ready")));
	cr_assert_str_eq(sget(res, "reason"), "InstallFailed");
	cr_assert_str_eq(sget(res, "chart"), "redis");
	/* its install failed: nothing is applied, 18.1.0 is only what Flux tried */
	cr_assert_null(json_object_get(res, "revision"));
	cr_assert_str_eq(sget(res, "attempted_revision"), "18.1.0");
	json_decref(res);
}

Test(flux, get_helmreleases)
{
	json_t *res = call_ok("get_helmreleases", "{\"all_namespaces\":true}"), *all, *it;

	one_request("GET", "/apis/helm.toolkit.fluxcd.io/v2/helmreleases", &all);
	json_decref(all);
	cr_assert_eq(json_integer_value(json_object_get(res, "count")), 2);
	it = item_named(res, "flux-system", "podinfo");
	cr_assert(json_is_true(json_object_get(it, "ready")));
	cr_assert_str_eq(sget(it, "revision"), "6.5.0");
	cr_assert_str_eq(sget(it, "chart_version"), "6.x");
	json_decref(res);
}

Test(flux, get_sources_by_kind_and_all)
{
	static const char *const plural[] = { "gitrepositories", "helmrepositories", "buckets",
		"ocirepositories", "helmcharts" };
	json_t *res = call_ok("get_sources", "{\"source_kind\":\"Bucket\"}"), *all, *it;
	char path[200];

	one_request("GET", SRC_PATH "namespaces/flux-system/buckets", &all);
	json_decref(all);
	cr_assert_eq(json_integer_value(json_object_get(res, "count")), 1);
	it = item_named(res, "flux-system", "assets");
	cr_assert_str_eq(sget(it, "revision"), "sha256:abcd");
	json_decref(res);

	res = call_ok("get_sources", "{}");
	for (size_t i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), SRC_PATH "namespaces/flux-system/%s", plural[i]);
		all = kube_find(&k, "GET", path);
		cr_assert_geq(json_array_size(all), 1, "no list of %s", plural[i]);
		json_decref(all);
	}
	cr_assert_eq(json_integer_value(json_object_get(res, "count")), 5);
	it = item_named(res, "flux-system", "manifests");
	cr_assert_str_eq(sget(it, "kind"), "OCIRepository");
	cr_assert_str_eq(sget(it, "url"), "oci://ghcr.io/example/manifests");
	json_decref(res);
}

Test(flux, get_alerts_with_providers)
{
	json_t *res = call_ok("get_alerts", "{\"all_namespaces\":true}"), *all, *it;

	one_request("GET", "/apis/notification.toolkit.fluxcd.io/v1beta3/alerts", &all);
	json_decref(all);
	one_request("GET", "/apis/notification.toolkit.fluxcd.io/v1beta3/providers", &all);
	json_decref(all);
	cr_assert_eq(json_integer_value(json_object_get(res, "count")), 3);
	it = item_named(res, "flux-system", "slack-alert");
	cr_assert_str_eq(sget(it, "provider"), "slack");
	cr_assert_str_eq(sget(it, "severity"), "error");
	it = item_named(res, "apps-dev", "dev-alert");
	cr_assert(json_is_true(json_object_get(it, "suspended")));
	it = item_named(res, "flux-system", "slack");
	cr_assert_str_eq(sget(it, "kind"), "Provider");
	cr_assert_str_eq(sget(it, "type"), "slack");
	json_decref(res);
}

/* ------------------------------------------------------------------ mutations */

static void
assert_merge_patch(const json_t *req)
{
	cr_assert_str_eq(sget(req, "content_type"), "application/merge-patch+json");
	cr_assert_str_eq(sget(json_object_get(req, "query"), "fieldManager"),
	    "flux-client-side-apply");
}

Test(flux, reconcile_kustomization_annotates_and_waits)
{
	json_t *res = call_ok("reconcile_kustomization", "{\"name\":\"apps\"}"), *all, *req, *ann;
	const char *token;

	req = one_request("PATCH", KS_PATH "flux-system/kustomizations/apps", &all);
	assert_merge_patch(req);
	ann = json_object_get(json_object_get(json_object_get(req, "body"), "metadata"),
	    "annotations");
	cr_assert_eq(json_object_size(ann), 1);
	cr_assert_eq(json_object_size(json_object_get(req, "body")), 1, "patch touches only "
	    "metadata.annotations");
	token = sget(ann, "reconcile.fluxcd.io/requestedAt");
	cr_assert(fx_rfc3339(token), "not RFC 3339: %s", token ? token : "(none)");
	cr_assert(json_is_true(json_object_get(res, "reconciled")));
	cr_assert(json_is_true(json_object_get(res, "ready")));
	cr_assert_str_eq(sget(res, "last_reconcile"), token);
	cr_assert(strstr(h.events, "annotated Kustomization/flux-system/apps"), "%s", h.events);
	cr_assert(strstr(h.events, "ready"), "%s", h.events);
	json_decref(all);
	json_decref(res);
}

Test(flux, reconcile_helmrelease_force_reset_same_token)
{
	json_t *res = call_ok("reconcile_helmrelease",
	    "{\"name\":\"podinfo\",\"force\":true,\"reset\":true}"), *all, *req, *ann;
	const char *t;

	req = one_request("PATCH", HR_PATH "flux-system/helmreleases/podinfo", &all);
	assert_merge_patch(req);
	ann = json_object_get(json_object_get(json_object_get(req, "body"), "metadata"),
	    "annotations");
	t = sget(ann, "reconcile.fluxcd.io/requestedAt");
	cr_assert(fx_rfc3339(t));
	cr_assert_str_eq(sget(ann, "reconcile.fluxcd.io/forceAt"), t);
	cr_assert_str_eq(sget(ann, "reconcile.fluxcd.io/resetAt"), t);
	cr_assert(json_is_true(json_object_get(res, "ready")));
	json_decref(all);
	json_decref(res);
}

Test(flux, reconcile_source_and_with_source)
{
	json_t *res = call_ok("reconcile_source",
	    "{\"name\":\"assets\",\"source_kind\":\"Bucket\"}"), *all, *l;
	long long n_src, n_ks;

	one_request("PATCH", SRC_PATH "namespaces/flux-system/buckets/assets", &all);
	json_decref(all);
	cr_assert_str_eq(sget(res, "kind"), "Bucket");
	json_decref(res);

	res = call_ok("reconcile_kustomization", "{\"name\":\"apps\",\"with_source\":true}");
	one_request("PATCH", SRC_PATH "namespaces/flux-system/gitrepositories/flux-system", &all);
	n_src = json_integer_value(json_object_get(json_array_get(all, 0), "n"));
	json_decref(all);
	l = kube_find(&k, "PATCH", KS_PATH "flux-system/kustomizations/apps");
	n_ks = json_integer_value(json_object_get(json_array_get(l, 0), "n"));
	json_decref(l);
	cr_assert_lt(n_src, n_ks, "the source is reconciled first");
	cr_assert(strstr(h.events, "reconciling source GitRepository/flux-system/flux-system"));
	json_decref(res);
}

Test(flux, reconcile_suspended_is_refused)
{
	struct tool_err err;
	json_t *l;

	cr_assert_eq(call_err("reconcile_kustomization", "{\"name\":\"infra\"}", &err),
	    ERR_REMOTE_STATE);
	cr_assert(strstr(err.text, "suspended"), "%s", err.text);
	cr_assert_eq(kube_count(&k) > 0, true);
	l = kube_find(&k, "PATCH", "/infra");
	cr_assert_eq(json_array_size(l), 0);
	json_decref(l);
}

Test(flux, suspend_then_resume_verified)
{
	json_t *res = call_ok("suspend_kustomization", "{\"name\":\"apps\"}"), *all, *req, *obj;
	char *body;

	req = one_request("PATCH", KS_PATH "flux-system/kustomizations/apps", &all);
	assert_merge_patch(req);
	body = json_dumps(json_object_get(req, "body"), JSON_COMPACT);
	cr_assert_str_eq(body, "{\"spec\":{\"suspend\":true}}");
	free(body);
	cr_assert(json_is_true(json_object_get(res, "suspended")));
	cr_assert(json_is_true(json_object_get(res, "changed")));
	obj = kube_object(&k, "Kustomization", "flux-system", "apps");
	cr_assert(json_is_true(json_object_get(json_object_get(obj, "spec"), "suspend")));
	json_decref(obj);
	json_decref(all);
	json_decref(res);

	res = call_ok("resume_kustomization", "{\"name\":\"apps\"}");
	all = kube_find(&k, "PATCH", KS_PATH "flux-system/kustomizations/apps");
	cr_assert_eq(json_array_size(all), 2);
	body = json_dumps(json_object_get(json_array_get(all, 1), "body"), JSON_COMPACT);
	cr_assert_str_eq(body, "{\"spec\":{\"suspend\":false}}");
	free(body);
	cr_assert(json_is_false(json_object_get(res, "suspended")));
	cr_assert(json_is_true(json_object_get(res, "ready")), "resume waits for Ready");
	json_decref(all);
	json_decref(res);
}

Test(flux, suspend_resume_helmrelease)
{
	json_t *res = call_ok("suspend_helmrelease", "{\"name\":\"podinfo\"}"), *all;

	one_request("PATCH", HR_PATH "flux-system/helmreleases/podinfo", &all);
	json_decref(all);
	cr_assert(json_is_true(json_object_get(res, "suspended")));
	json_decref(res);
	res = call_ok("resume_helmrelease", "{\"name\":\"podinfo\",\"wait\":false}");
	cr_assert(json_is_false(json_object_get(res, "suspended")));
	json_decref(res);
}

Test(flux, dry_run_patches_nothing)
{
	json_t *res, *all, *req, *obj;

	h.dry_run = true;
	res = call_ok("suspend_kustomization", "{\"name\":\"apps\"}");
	req = one_request("PATCH", KS_PATH "flux-system/kustomizations/apps", &all);
	cr_assert_str_eq(sget(json_object_get(req, "query"), "dryRun"), "All");
	cr_assert(json_is_true(json_object_get(res, "dry_run")));
	cr_assert(json_is_true(json_object_get(json_object_get(res, "would_be"), "suspended")));
	obj = kube_object(&k, "Kustomization", "flux-system", "apps");
	cr_assert_null(json_object_get(json_object_get(obj, "spec"), "suspend"));
	json_decref(obj);
	json_decref(all);
	json_decref(res);
}

/* ------------------------------------------------------------------ logs */

Test(flux, get_logs_filtered_and_capped)
{
	json_t *res = call_ok("get_logs", "{\"kind\":\"Kustomization\",\"level\":\"error\","
	    "\"all_namespaces\":true,\"tail\":50}"), *all, *e, *logs;
	size_t i;

	one_request("GET", "/api/v1/namespaces/flux-system/pods", &all);
	cr_assert_str_eq(sget(json_object_get(json_array_get(all, 0), "query"), "labelSelector"),
	    "app.kubernetes.io/part-of=flux");
	json_decref(all);
	logs = kube_find(&k, "GET", "/log");
	cr_assert_eq(json_array_size(logs), 4, "one log request per controller pod");
	json_array_foreach(logs, i, e) {
		cr_assert_str_eq(sget(json_object_get(e, "query"), "container"), "manager");
		cr_assert_str_eq(sget(json_object_get(e, "query"), "tailLines"), "50");
	}
	json_decref(logs);
	cr_assert_eq(json_integer_value(json_object_get(res, "count")), 1, "%s",
	    json_dumps(res, 0));
	e = json_array_get(json_object_get(res, "entries"), 0);
	cr_assert_str_eq(sget(e, "component"), "kustomize-controller");
	cr_assert_str_eq(sget(e, "name"), "podinfo");
	cr_assert_str_eq(sget(e, "error"), "failed for podinfo");
	cr_assert_eq(json_integer_value(json_object_get(res, "skipped_non_json")), 4);
	json_decref(res);

	/* namespace filter (default flux-system) and the cap */
	res = call_ok("get_logs", "{\"component\":\"helm-controller\",\"limit\":2}");
	all = kube_find(&k, "GET", "/api/v1/namespaces/flux-system/pods");
	cr_assert_str_eq(sget(json_object_get(json_array_get(all, 1), "query"), "labelSelector"),
	    "app=helm-controller");
	json_decref(all);
	cr_assert_eq(json_integer_value(json_object_get(res, "count")), 2);
	cr_assert(json_is_true(json_object_get(res, "truncated")));
	json_array_foreach(json_object_get(res, "entries"), i, e)
		cr_assert_str_eq(sget(e, "namespace"), "flux-system");
	json_decref(res);
}

/* ------------------------------------------------------------------ failures */

Test(flux, not_found)
{
	struct tool_err err;
	json_t *p;

	cr_assert_eq(call_err("get_kustomization", "{\"name\":\"nosuch\"}", &err), ERR_NOTFOUND);
	cr_assert_eq(err.http_status, 404);
	cr_assert(strstr(err.text, "\"nosuch\" not found"), "%s", err.text);
	cr_assert_eq(call_err("suspend_helmrelease", "{\"name\":\"nosuch\"}", &err), ERR_NOTFOUND);
	cr_assert_eq(call_err("reconcile_source", "{\"name\":\"nosuch\",\"source_kind\":"
	    "\"GitRepository\"}", &err), ERR_NOTFOUND);
	p = kube_find(&k, "PATCH", "/nosuch");
	cr_assert_eq(json_array_size(p), 0, "nothing is patched when the object is missing");
	json_decref(p);
	kube_mode(&k, "not-found");
	cr_assert_eq(call_err("get_helmrelease", "{\"name\":\"podinfo\"}", &err), ERR_NOTFOUND);
}

Test(flux, forbidden)
{
	struct tool_err err;

	kube_mode(&k, "forbidden");
	cr_assert_eq(call_err("get_kustomizations", "{}", &err), ERR_HTTP);
	cr_assert_eq(err.http_status, 403);
	cr_assert(strstr(err.text, "forbidden"), "%s", err.text);
	cr_assert_eq(call_err("suspend_kustomization", "{\"name\":\"apps\"}", &err), ERR_HTTP);
	cr_assert_eq(err.http_status, 403);
}

Test(flux, api_server_down)
{
	struct tool_err err;
	long long t0;

	kube_stop(&k);		/* nothing listens on the port any more */
	t0 = fx_now_ms();
	cr_assert_eq(call_err("get_kustomizations", "{}", &err), ERR_CLOSED, "%s", err.text);
	cr_assert(err.retryable);
	cr_assert(strstr(err.text, "unreachable"), "%s", err.text);
	cr_assert_lt(fx_now_ms() - t0, 10000);
}

Test(flux, api_server_closes_connections)
{
	struct tool_err err;
	long long t0;
	int r;

	kube_mode(&k, "down");
	h.deadline_ms = 2500;
	t0 = fx_now_ms();
	r = call_err("get_kustomization", "{\"name\":\"apps\"}", &err);
	cr_assert(r == ERR_CLOSED || r == ERR_TIMEOUT, "%s: %s", err_name(r), err.text);
	cr_assert(err.retryable);
	cr_assert_lt(fx_now_ms() - t0, 5000, "the deadline bounds the run");
}

Test(flux, reconcile_never_ready_times_out)
{
	struct tool_err err;
	json_t *p;
	long long t0;

	kube_mode(&k, "never-ready");
	t0 = fx_now_ms();
	cr_assert_eq(call_err("reconcile_kustomization", "{\"name\":\"apps\",\"timeout\":2}",
	    &err), ERR_TIMEOUT);
	cr_assert_geq(fx_now_ms() - t0, 2000);
	cr_assert_lt(fx_now_ms() - t0, 8000);
	cr_assert(err.retryable);
	cr_assert(strstr(err.text, "Ready=Unknown"), "%s", err.text);
	p = kube_find(&k, "PATCH", KS_PATH "flux-system/kustomizations/apps");
	cr_assert_eq(json_array_size(p), 1);
	json_decref(p);
	cr_assert(strstr(h.events, "waiting for Kustomization/flux-system/apps"), "%s", h.events);
}

/* ------------------------------------------------------------------ injection */

static const char *const bad_names[] = {
	"--kubeconfig=/etc/shadow", "a;b", "$(x)", "../x", "-n", "-A", "x y", "Apps", "a/b", "",
	"x\n", "`id`", ".x", "x.", "a..b", "x\\y", "--all",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 64: too long a label */
	NULL
};

static const char *const name_ops[] = { "get_kustomization", "reconcile_kustomization",
	"suspend_kustomization", "resume_kustomization", "get_helmrelease",
	"reconcile_helmrelease", "suspend_helmrelease", "resume_helmrelease", NULL };

Test(flux, injection_in_names_is_refused_twice)
{
	for (const char *const *op = name_ops; *op; op++)
		for (const char *const *n = bad_names; *n; n++) {
			json_t *args = json_pack("{s:s}", "name", *n), *res = NULL;
			char *text = json_dumps(args, 0), verr[256] = "";
			struct tool_err err;
			int r;

			/* the schema (corrald's check) */
			r = fxh_call(&h, *op, text, &res, &err, verr, sizeof(verr));
			cr_assert_eq(r, ERR_SCHEMA, "%s name=%s passed the schema", *op, *n);
			cr_assert(strstr(verr, "name"), "%s name=%s: %s", *op, *n, verr);
			/* the worker's own check, with the schema skipped */
			json_object_set_new(args, "namespace", json_string("flux-system"));
			r = fxh_call_raw(&h, *op, args, &res, &err);
			cr_assert_eq(r, ERR_SCHEMA, "%s name=%s reached kubectl (%s)", *op, *n,
			    err.text);
			free(text);
			json_decref(args);
		}
	cr_assert_eq(kube_count(&k), 0, "no request reached the API server");
	cr_assert_eq(h.connects, 0);
}

Test(flux, injection_in_namespaces_is_refused_twice)
{
	static const char *const keys[] = { "namespace", "flux_namespace", NULL };

	for (const char *const *n = bad_names; *n; n++)
		for (const char *const *key = keys; *key; key++) {
			const char *op = strcmp(*key, "namespace") == 0 ? "get_kustomizations" :
			    "get_logs";
			json_t *args = json_pack("{s:s}", *key, *n), *res = NULL;
			char *text = json_dumps(args, 0), verr[256] = "";
			struct tool_err err;

			cr_assert_eq(fxh_call(&h, op, text, &res, &err, verr, sizeof(verr)),
			    ERR_SCHEMA, "%s=%s passed the schema", *key, *n);
			cr_assert_eq(fxh_call_raw(&h, op, args, &res, &err), ERR_SCHEMA,
			    "%s=%s reached kubectl", *key, *n);
			free(text);
			json_decref(args);
		}
	cr_assert_eq(kube_count(&k), 0);
}

Test(flux, other_arguments_cannot_become_options)
{
	static const char *const bad[] = {
		"{\"source_kind\":\"--all\"}", "{\"source_kind\":\"gitrepositories\"}",
		"{\"since\":\"5m --all\"}", "{\"since\":\"-1s\"}", "{\"component\":\"--x\"}",
		"{\"level\":\"-n\"}", "{\"kind\":\"a;b\"}", "{\"tail\":-1}", "{\"cluster\":\"../etc\"}",
		"{\"cluster\":\"/etc/kubeconfig\"}", "{\"kubeconfig\":\"/etc/shadow\"}",
		"{\"context\":\"admin\"}", NULL };
	json_t *res = NULL, *args;
	struct tool_err err;
	char verr[256];

	for (const char *const *b = bad; *b; b++) {
		const char *op = strstr(*b, "source_kind") ? "get_sources" : "get_logs";

		cr_assert_eq(fxh_call(&h, op, *b, &res, &err, verr, sizeof(verr)), ERR_SCHEMA,
		    "%s %s passed the schema", op, *b);
	}
	args = json_pack("{s:s, s:s, s:s, s:i, s:i, s:b}", "since", "5m --all", "namespace",
	    "flux-system", "flux_namespace", "flux-system", "tail", 5, "limit", 5,
	    "all_namespaces", 0);
	cr_assert_eq(fxh_call_raw(&h, "get_logs", args, &res, &err), ERR_SCHEMA);
	json_decref(args);
	cr_assert_eq(kube_count(&k), 0);
}

Test(flux, cluster_must_be_the_routed_one)
{
	json_t *res = NULL;
	struct tool_err err;
	char verr[256] = "";

	cr_assert_eq(fxh_call(&h, "get_kustomizations", "{\"cluster\":\"prod\"}", &res, &err,
	    verr, sizeof(verr)), ERR_CONFIG, "%s", verr);
	cr_assert(strstr(err.text, "prod"), "%s", err.text);
	res = call_ok("get_kustomizations", "{\"cluster\":\"test\"}");
	json_decref(res);
}

/* ------------------------------------------------------------------ egress */

Test(flux, kubectl_reaches_only_the_allowed_server)
{
	struct kube other;
	struct tool_err err;

	cr_assert_eq(kube_start(&other, NULL), 0);
	/* the call's endpoint names another server: the broker (played) refuses it */
	json_object_set_new(json_object_get(h.ctx, "endpoint"), "url", json_string(other.url));
	cr_assert_eq(call_err("get_kustomizations", "{}", &err), ERR_EGRESS, "%s", err.text);
	cr_assert(strstr(err.text, "refused"), "%s", err.text);
	cr_assert_gt(h.denied, 0);
	cr_assert_eq(kube_count(&other), 0, "nothing reached the other server");
	kube_stop(&other);
}
