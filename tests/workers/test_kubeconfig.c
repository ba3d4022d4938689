/* The per-call kubeconfig: generated from the endpoint and the secret, or distilled from the
 * kubeconfig text corrald read; file references, foreign proxies and credential plugins never
 * pass (plugins only when the endpoint allows them); the server must be the endpoint's. And
 * the real kubectl authenticates to the fake API server with it. */
#include <string.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "tests/workers/flux_fx.h"
#include "workers/execkind.h"

static struct kube k;
static struct fxh h;
static bool h_up;

static void
teardown(void)
{
	if (h_up)
		fxh_fini(&h);
	kube_stop(&k);
}

TestSuite(kubeconfig, .fini = teardown, .timeout = 60);

static json_t *
build(const json_t *ctx, int want, char *err, size_t errlen)
{
	char *text = NULL;
	json_t *kc = NULL;
	int r = exec_kubeconfig_build(ctx, 4242, &text, err, errlen);

	cr_assert_eq(r, want, "%s: %s", err_name(r), err);
	if (text != NULL) {
		kc = json_loads(text, 0, NULL);
		cr_assert_not_null(kc, "%s", text);
		free(text);
	}
	return kc;
}

static json_t *
part(json_t *kc, const char *list, const char *inner)
{
	cr_assert_eq(json_array_size(json_object_get(kc, list)), 1);
	return json_object_get(json_array_get(json_object_get(kc, list), 0), inner);
}

static const char *
sget(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

Test(kubeconfig, from_endpoint_and_secret)
{
	json_t *ctx = json_pack("{s:{s:s, s:s, s:s}, s:s}", "endpoint", "name", "prod", "url",
	    "https://api.prod.example:6443", "ca_pem", "-----BEGIN CERTIFICATE-----\nMIIB\n",
	    "secret", "s3cret-token");
	char err[256] = "";
	json_t *kc = build(ctx, 0, err, sizeof(err)), *cl;

	cl = part(kc, "clusters", "cluster");
	cr_assert_str_eq(sget(cl, "server"), "https://api.prod.example:6443");
	cr_assert_str_eq(sget(cl, "proxy-url"), "http://127.0.0.1:4242");
	cr_assert_str_eq(sget(cl, "certificate-authority-data"),
	    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIK");
	cr_assert_str_eq(sget(part(kc, "users", "user"), "token"), "s3cret-token");
	cr_assert_str_eq(sget(kc, "current-context"), "corral");
	json_decref(kc);
	json_decref(ctx);
}

static const char *kc_yaml =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: dev\n"
    "clusters:\n"
    "- name: dev-cluster\n"
    "  cluster:\n"
    "    server: https://dev.example:6443\n"
    "- name: prod-cluster\n"
    "  cluster:\n"
    "    server: https://API.prod.example\n"
    "    certificate-authority-data: Q0E=\n"
    "    proxy-url: http://evil.example:3128\n"
    "contexts:\n"
    "- name: dev\n"
    "  context: {cluster: dev-cluster, user: dev-user}\n"
    "- name: prod\n"
    "  context: {cluster: prod-cluster, user: prod-user, namespace: apps}\n"
    "users:\n"
    "- name: dev-user\n"
    "  user: {token: dev-token}\n"
    "- name: prod-user\n"
    "  user:\n"
    "    client-certificate-data: Q0VSVA==\n"
    "    client-key-data: S0VZ\n";

Test(kubeconfig, from_text_picks_the_context_and_replaces_the_proxy)
{
	json_t *ctx = json_pack("{s:{s:s, s:s, s:s}, s:s}", "endpoint", "name", "prod", "url",
	    "https://api.prod.example:443", "context", "prod", "kubeconfig", kc_yaml);
	char err[256] = "";
	json_t *kc = build(ctx, 0, err, sizeof(err)), *cl, *us;

	cl = part(kc, "clusters", "cluster");
	cr_assert_str_eq(sget(cl, "server"), "https://API.prod.example");
	cr_assert_str_eq(sget(cl, "proxy-url"), "http://127.0.0.1:4242");
	cr_assert_str_eq(sget(cl, "certificate-authority-data"), "Q0E=");
	us = part(kc, "users", "user");
	cr_assert_str_eq(sget(us, "client-key-data"), "S0VZ");
	cr_assert_null(json_object_get(us, "token"), "no secret given, none invented");
	cr_assert_str_eq(sget(part(kc, "contexts", "context"), "namespace"), "apps");
	json_decref(kc);
	json_decref(ctx);
}

/* Each bad kubeconfig with what the refusal must name. */
static const struct {
	const char *user_or_cluster, *why;
	bool allow_plugins;
} refused[] = {
	{ "  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: gke-auth}\n",
	  "credential plugins", false },
	{ "  user:\n    auth-provider: {name: oidc}\n", "auth-provider", false },
	{ "  user:\n    tokenFile: /var/run/secrets/token\n", "file path", false },
	{ "  user:\n    client-key: /etc/shadow\n", "file path", false },
	{ "  user:\n    token: t\n    impersonate-uid: x\n", "not a field", false },
};

Test(kubeconfig, refusals)
{
	char text[1024], err[256];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		json_t *ctx;

		snprintf(text, sizeof(text), "current-context: c\nclusters:\n- name: k\n  cluster:\n"
		    "    server: https://k.example\ncontexts:\n- name: c\n  context: {cluster: k, "
		    "user: u}\nusers:\n- name: u\n%s", refused[i].user_or_cluster);
		ctx = json_pack("{s:{s:s, s:b}, s:s}", "endpoint", "name", "k", "allow_exec_plugins",
		    refused[i].allow_plugins, "kubeconfig", text);
		err[0] = '\0';
		json_decref(build(ctx, ERR_CONFIG, err, sizeof(err)));
		cr_assert(strstr(err, refused[i].why), "case %zu: %s", i, err);
		json_decref(ctx);
	}
}

Test(kubeconfig, plugins_only_when_allowed)
{
	const char *text = "current-context: c\nclusters:\n- name: k\n  cluster:\n"
	    "    server: https://k.example\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n"
	    "users:\n- name: u\n  user:\n    exec:\n      apiVersion: "
	    "client.authentication.k8s.io/v1\n      command: gke-gcloud-auth-plugin\n"
	    "      provideClusterInfo: true\n";
	json_t *ctx = json_pack("{s:{s:s, s:b}, s:s}", "endpoint", "name", "k",
	    "allow_exec_plugins", 1, "kubeconfig", text);
	char err[256] = "";
	json_t *kc = build(ctx, 0, err, sizeof(err)), *ex;

	ex = json_object_get(part(kc, "users", "user"), "exec");
	cr_assert_str_eq(sget(ex, "command"), "gke-gcloud-auth-plugin");
	cr_assert(json_is_true(json_object_get(ex, "provideClusterInfo")));
	json_decref(kc);
	json_decref(ctx);
}

Test(kubeconfig, server_must_be_the_endpoint)
{
	static const char *const bad_urls[] = { "https://dev.example:6443", "http://127.0.0.1:1",
		"file:///etc/kubeconfig", "https://user@dev.example", NULL };
	char err[256];

	for (const char *const *u = bad_urls; *u; u++) {
		json_t *ctx = json_pack("{s:{s:s, s:s, s:s}, s:s}", "endpoint", "name", "prod", "url",
		    "https://api.prod.example", "context", "dev", "kubeconfig", kc_yaml);

		if (u != bad_urls)
			json_object_set_new(json_object_get(ctx, "endpoint"), "url",
			    json_string(*u));
		json_object_del(ctx, u == bad_urls ? "nothing" : "kubeconfig");
		if (u != bad_urls)
			json_object_set_new(json_object_get(ctx, "endpoint"), "url",
			    json_string(*u));
		err[0] = '\0';
		if (u == bad_urls) {
			json_decref(build(ctx, ERR_CONFIG, err, sizeof(err)));
			cr_assert(strstr(err, "is not the endpoint url"), "%s", err);
		} else if (strncmp(*u, "http", 4) == 0 && !strchr(*u, '@')) {
			json_decref(build(ctx, 0, err, sizeof(err)));	/* endpoint-only: fine */
		} else {
			json_decref(build(ctx, ERR_CONFIG, err, sizeof(err)));
		}
		json_decref(ctx);
	}
	{
		json_t *ctx = json_pack("{s:{s:s}}", "endpoint", "name", "none");

		json_decref(build(ctx, ERR_CONFIG, err, sizeof(err)));
		cr_assert(strstr(err, "no API server"), "%s", err);
		json_decref(ctx);
	}
}

/* The real kubectl with the generated file, against the fake over TLS through the worker's
 * CONNECT tunnel (kubectl sends a bearer token only over TLS): without the secret the server
 * answers 401 and the call says so; with it the token arrives. */
Test(kubeconfig, kubectl_authenticates_over_connect_tunnel)
{
	char cert[512], key[512], verr[128] = "", *pem;
	const char *args[] = { "--token", "tok-abcdef", "--tls", cert, key, NULL };
	struct tool_err err;
	json_t *res = NULL, *log, *e;

	snprintf(cert, sizeof(cert), "%s/" FX_TLS_CERT, fx_fakes_dir());
	snprintf(key, sizeof(key), "%s/" FX_TLS_KEY, fx_fakes_dir());
	cr_assert_not_null(fx_kubectl_path(), "kubectl not found on PATH");
	cr_assert_eq(kube_start(&k, args), 0);
	cr_assert_eq(fxh_init(&h, &k, false), 0);
	h_up = true;
	cr_assert_not_null(pem = fx_read_file(cert));
	json_object_set_new(json_object_get(h.ctx, "endpoint"), "ca_pem", json_string(pem));
	free(pem);
	cr_assert_eq(fxh_call(&h, "get_kustomizations", "{}", &res, &err, verr, sizeof(verr)),
	    ERR_HTTP, "%s", err.text);
	cr_assert_eq(err.http_status, 401, "%s", err.text);
	json_object_set_new(h.ctx, "secret", json_string("tok-abcdef"));
	cr_assert_eq(fxh_call(&h, "get_kustomizations", "{}", &res, &err, verr, sizeof(verr)), 0,
	    "%s", err.text);
	cr_assert_eq(json_integer_value(json_object_get(res, "count")), 3);
	json_decref(res);
	log = kube_find(&k, "GET", "/namespaces/flux-system/kustomizations");
	e = json_array_get(log, json_array_size(log) - 1);
	cr_assert_str_eq(json_string_value(json_object_get(e, "auth")), "ok");
	cr_assert(json_is_false(json_object_get(e, "absolute_form")), "a CONNECT tunnel");
	cr_assert_gt(h.connects, 0);
	json_decref(log);
}
