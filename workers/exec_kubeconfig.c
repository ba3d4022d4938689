/* The per-call kubeconfig of the exec kind (see execkind.h, exec_kubeconfig_build).
 *
 * Whatever the source, the file kubectl gets is generated here: one cluster, one user, one
 * context, with proxy-url set to this thread's loopback proxy. Nothing of the source that the
 * worker does not understand is passed through, so a kubeconfig cannot smuggle in a file
 * path, another proxy or (unless the endpoint allows it) a credential plugin.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bsd/string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/ydoc.h"
#include "workers/exec_int.h"

static int
kc_fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return ERR_CONFIG;
}

void
exec_json_wipe(json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
	else if (json_is_object(v))
		json_object_foreach(v, k, e)
			exec_json_wipe(e);
	else if (json_is_array(v))
		json_array_foreach(v, i, e)
			exec_json_wipe(e);
}

static char *
b64(const char *in, size_t n)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
	const unsigned char *s = (const unsigned char *)in;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
		    (i + 2 < n ? s[i + 2] : 0);

		*o++ = t[v >> 18 & 63];
		*o++ = t[v >> 12 & 63];
		*o++ = i + 1 < n ? t[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? t[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* YAML node -> JSON: maps, sequences, plain true/false/null, everything else a string. */
static json_t *
node_json(const struct ydoc_node *n, int depth)
{
	json_t *o;

	if (n == NULL || depth > 16)
		return NULL;
	if (n->type == YDOC_SCALAR) {
		if (!n->quoted && (strcmp(n->str, "true") == 0 || strcmp(n->str, "false") == 0))
			return json_boolean(n->str[0] == 't');
		if (ydoc_is_null(n))
			return json_null();
		return json_stringn(n->str, n->len);
	}
	o = n->type == YDOC_MAP ? json_object() : json_array();
	for (size_t i = 0; o && i < n->n; i++) {
		json_t *v = node_json(n->items[i], depth + 1);

		if (v == NULL) {
			json_decref(o);
			return NULL;
		}
		if (n->type == YDOC_MAP)
			json_object_set_new(o, n->keys[i]->str, v);
		else
			json_array_append_new(o, v);
	}
	return o;
}

/* The entry of a named list (clusters/users/contexts) whose name is name: its inner map. */
static const struct ydoc_node *
named(const struct ydoc_node *root, const char *list, const char *inner, const char *name)
{
	const struct ydoc_node *seq = ydoc_get(root, list);

	for (size_t i = 0; seq && seq->type == YDOC_SEQ && i < seq->n; i++) {
		const struct ydoc_node *e = seq->items[i], *nm = ydoc_get(e, "name");

		if (nm && nm->type == YDOC_SCALAR && name && strcmp(nm->str, name) == 0)
			return ydoc_get(e, inner);
	}
	return NULL;
}

static const char *
scalar(const struct ydoc_node *m, const char *key)
{
	const struct ydoc_node *n = ydoc_get(m, key);

	return n && n->type == YDOC_SCALAR ? n->str : NULL;
}

/* Copy keys of src into dst: copy[] as is, refuse[] with a reason, skip[] silently; any other
 * key is refused (an unknown key may carry meaning the worker cannot vouch for). */
static int
copy_keys(json_t *dst, const struct ydoc_node *src, const char *what, const char *const *copy,
    const char *const *refuse, const char *const *skip, char *err, size_t len)
{
	for (size_t i = 0; src && i < src->n; i++) {
		const char *k = src->keys[i]->str;
		bool done = false;

		for (const char *const *c = copy; *c && !done; c++)
			if (strcmp(k, *c) == 0) {
				json_t *v = node_json(src->items[i], 0);

				if (v == NULL)
					return kc_fail(err, len, "%s.%s: unusable value", what, k);
				json_object_set_new(dst, k, v);
				done = true;
			}
		for (const char *const *s = skip; *s && !done; s++)
			done = strcmp(k, *s) == 0;
		if (done)
			continue;
		for (const char *const *r = refuse; *r; r += 2)
			if (strcmp(k, r[0]) == 0)
				return kc_fail(err, len, "kubeconfig %s.%s: %s", what, k, r[1]);
		return kc_fail(err, len, "kubeconfig %s.%s: not a field corral passes on", what, k);
	}
	return 0;
}

static const char *const cluster_copy[] = { "server", "certificate-authority-data",
	"tls-server-name", "insecure-skip-tls-verify", "disable-compression", NULL };
static const char *const cluster_refuse[] = {
	"certificate-authority", "a file path: inline the CA as certificate-authority-data", NULL };
static const char *const cluster_skip[] = { "proxy-url", "extensions", NULL };
static const char *const user_copy[] = { "token", "client-certificate-data",
	"client-key-data", "username", "password", "as", "as-groups", NULL };
static const char *const user_copy_plugins[] = { "token", "client-certificate-data",
	"client-key-data", "username", "password", "as", "as-groups", "exec", "auth-provider",
	NULL };
static const char *const user_refuse[] = {
	"tokenFile", "a file path: inline the token", "token-file", "a file path",
	"client-certificate", "a file path: use client-certificate-data",
	"client-key", "a file path: use client-key-data",
	"exec", "credential plugins are refused unless the endpoint sets allow_exec_plugins",
	"auth-provider", "auth-provider plugins are refused unless the endpoint sets "
	"allow_exec_plugins", NULL };
static const char *const none[] = { NULL };

static int
from_kubeconfig(const char *text, const json_t *ep, json_t *cluster, json_t *user,
    const char **nsp, struct ydoc **docp, char *err, size_t len)
{
	const char *ctxname = json_string_value(json_object_get(ep, "context"));
	bool plugins = json_is_true(json_object_get(ep, "allow_exec_plugins"));
	const struct ydoc_node *c, *cl, *us;
	struct ydoc_errs e = { 0 };
	int r;

	if (strlen(text) > LIM_KUBECONFIG_MAX)
		return kc_fail(err, len, "kubeconfig over %u bytes", LIM_KUBECONFIG_MAX);
	if ((r = ydoc_load_mem("kubeconfig", text, strlen(text), docp, &e)) < 0) {
		kc_fail(err, len, "%s", e.n ? e.msg[0] : "kubeconfig: not YAML");
		ydoc_errs_free(&e);
		return ERR_CONFIG;
	}
	ydoc_errs_free(&e);
	if (ctxname == NULL)
		ctxname = scalar((*docp)->root, "current-context");
	if ((c = named((*docp)->root, "contexts", "context", ctxname)) == NULL)
		return kc_fail(err, len, "kubeconfig: no context '%s'", ctxname ? ctxname : "");
	if ((cl = named((*docp)->root, "clusters", "cluster", scalar(c, "cluster"))) == NULL ||
	    (us = named((*docp)->root, "users", "user", scalar(c, "user"))) == NULL)
		return kc_fail(err, len, "kubeconfig: context '%s' names a missing cluster or "
		    "user", ctxname);
	*nsp = scalar(c, "namespace");
	if ((r = copy_keys(cluster, cl, "cluster", cluster_copy, cluster_refuse, cluster_skip,
	    err, len)) < 0)
		return r;
	return copy_keys(user, us, "user", plugins ? user_copy_plugins : user_copy, user_refuse,
	    none, err, len);
}

/* No kubeconfig file: the endpoint's URL, CA and the call's secret as a bearer token. */
static int
from_endpoint(const json_t *ep, json_t *cluster, char *err, size_t len)
{
	const char *url = json_string_value(json_object_get(ep, "url"));
	const char *ca = json_string_value(json_object_get(ep, "ca_pem"));
	const char *sni = json_string_value(json_object_get(ep, "tls_server_name"));
	char *ca64;

	if (url == NULL)
		return kc_fail(err, len, "no API server configured for this call (endpoint url "
		    "or kubeconfig)");
	json_object_set_new(cluster, "server", json_string(url));
	if (ca != NULL) {
		if ((ca64 = b64(ca, strlen(ca))) == NULL)
			return -ENOMEM;
		json_object_set_new(cluster, "certificate-authority-data", json_string(ca64));
		free(ca64);
	}
	if (sni != NULL)
		json_object_set_new(cluster, "tls-server-name", json_string(sni));
	return 0;
}

/* scheme://host:port of a URL, lower-cased, the default port made explicit. */
static int
url_origin(const char *url, char *out, size_t len)
{
	const char *p = strstr(url, "://"), *hp, *e, *from, *colon;
	bool tls;
	size_t n;

	if (p == NULL)
		return -EINVAL;
	tls = (size_t)(p - url) == 5 && strncasecmp(url, "https", 5) == 0;
	if (!tls && !((size_t)(p - url) == 4 && strncasecmp(url, "http", 4) == 0))
		return -EINVAL;
	hp = p + 3;
	e = hp + strcspn(hp, "/?#");
	n = (size_t)(e - hp);
	if (n == 0 || n + 16 >= len || memchr(hp, '@', n))
		return -EINVAL;
	from = memchr(hp, ']', n);		/* after an IPv6 literal */
	from = from ? from : hp;
	colon = memchr(from, ':', (size_t)(e - from));
	snprintf(out, len, "%s://%.*s%s", tls ? "https" : "http", (int)n, hp,
	    colon ? "" : tls ? ":443" : ":80");
	for (char *c = out; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	return 0;
}

/* The source document holds the credential too. */
static void
wipe_node(struct ydoc_node *n)
{
	if (n == NULL)
		return;
	if (n->type == YDOC_SCALAR && n->str)
		explicit_bzero(n->str, n->len);
	for (size_t i = 0; n->type != YDOC_SCALAR && i < n->n; i++)
		wipe_node(n->items[i]);
}

static bool
has_credential(const json_t *user)
{
	static const char *const keys[] = { "token", "client-certificate-data", "username",
		"exec", "auth-provider", NULL };

	for (const char *const *k = keys; *k; k++)
		if (json_object_get(user, *k) != NULL)
			return true;
	return false;
}

static json_t *
assemble(json_t *cluster, json_t *user, const char *ns)
{
	json_t *ctx = json_pack("{s:s, s:s}", "cluster", "corral", "user", "corral");

	if (ctx != NULL && ns != NULL)
		json_object_set_new(ctx, "namespace", json_string(ns));
	return json_pack("{s:s, s:s, s:[{s:s, s:O}], s:[{s:s, s:O}], s:[{s:s, s:o}], s:s, "
	    "s:{}}", "apiVersion", "v1", "kind", "Config", "clusters", "name", "corral",
	    "cluster", cluster, "users", "name", "corral", "user", user, "contexts", "name",
	    "corral", "context", ctx, "current-context", "corral", "preferences");
}

int
exec_kubeconfig_build(const json_t *ctx, unsigned proxy_port, char **text, char *err,
    size_t errlen)
{
	const json_t *ep = json_object_get(ctx, "endpoint");
	const char *kc = json_string_value(json_object_get(ctx, "kubeconfig"));
	const char *secret = json_string_value(json_object_get(ctx, "secret"));
	const char *url = json_string_value(json_object_get(ep, "url")), *ns = NULL, *server;
	json_t *cluster = json_object(), *user = json_object(), *doc = NULL;
	char a[300], b[300], proxy[48];
	struct ydoc *d = NULL;
	int r;

	*text = NULL;
	if (cluster == NULL || user == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = kc ? from_kubeconfig(kc, ep, cluster, user, &ns, &d, err, errlen) :
	    from_endpoint(ep, cluster, err, errlen);
	if (r < 0)
		goto out;
	server = json_string_value(json_object_get(cluster, "server"));
	if (server == NULL || url_origin(server, a, sizeof(a)) < 0) {
		r = kc_fail(err, errlen, "the API server URL must be http(s)://host[:port]");
		goto out;
	}
	if (url != NULL && (url_origin(url, b, sizeof(b)) < 0 || strcmp(a, b) != 0)) {
		r = kc_fail(err, errlen, "the kubeconfig's server %s is not the endpoint url %s", a,
		    b);
		goto out;
	}
	if (secret != NULL && !has_credential(user))
		json_object_set_new(user, "token", json_string(secret));
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u", proxy_port);
	json_object_set_new(cluster, "proxy-url", json_string(proxy));
	if ((doc = assemble(cluster, user, ns)) == NULL ||
	    (*text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		r = -ENOMEM;
out:
	exec_json_wipe(user);
	exec_json_wipe(doc);
	json_decref(doc);
	json_decref(cluster);
	json_decref(user);
	if (d != NULL)
		wipe_node(d->root);
	ydoc_free(d);
	return r;
}
