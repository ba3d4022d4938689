/* The flux family: Flux CD objects read and driven through kubectl (and the flux CLI where
 * one is pinned), as the exec kind runs them. Contract: shared/specs/CONTRACTS.md section 6 and
 * flux-cli.json (fluxcd/flux2 @da2d22d3); design notes in docs/FLUX.md.
 *
 * Reads are `kubectl get <plural.group> -o json` (`flux get` has no JSON output), shaped into
 * compact objects. Reconcile merge-patches the reconcile.fluxcd.io/requestedAt annotation and
 * polls until the controller has handled that token and Ready is True (or uses `flux
 * reconcile` when the flux binary is pinned); suspend/resume merge-patch spec.suspend and read
 * the object back, because the flux CLI exits 0 for a missing object. Every argv element is
 * built here one by one; names and namespaces are RFC 1123 checked again before use, so
 * nothing a caller sends can become an option. This file does no I/O of its own: programs run
 * through io->exec.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/err.h"
#include "ipc/json.h"
#include "ipc/limits.h"
#include "tools/flux_int.h"

const struct fx_kind fx_kinds[] = {
	{ "Kustomization", "kustomizations.kustomize.toolkit.fluxcd.io", "kustomization", NULL },
	{ "HelmRelease", "helmreleases.helm.toolkit.fluxcd.io", "helmrelease", NULL },
	{ "GitRepository", "gitrepositories.source.toolkit.fluxcd.io", "source", "git" },
	{ "HelmRepository", "helmrepositories.source.toolkit.fluxcd.io", "source", "helm" },
	{ "Bucket", "buckets.source.toolkit.fluxcd.io", "source", "bucket" },
	{ "OCIRepository", "ocirepositories.source.toolkit.fluxcd.io", "source", "oci" },
	{ "HelmChart", "helmcharts.source.toolkit.fluxcd.io", "source", "chart" },
	{ "Alert", "alerts.notification.toolkit.fluxcd.io", NULL, NULL },
	{ "Provider", "providers.notification.toolkit.fluxcd.io", NULL, NULL },
	{ NULL, NULL, NULL, NULL }
};

const struct fx_kind *
fx_kind_find(const char *kind)
{
	for (const struct fx_kind *k = fx_kinds; kind && k->kind; k++)
		if (strcmp(k->kind, kind) == 0)
			return k;
	return NULL;
}

/* ------------------------------------------------------------------ call state, helpers */

void
fx_init(struct fx *x, struct tool_io *io, const struct tool_call *call, struct tool_err *err)
{
	memset(x, 0, sizeof(*x));
	x->io = io;
	x->call = call;
	x->err = err;
}

int
fx_fail(struct tool_err *err, int code, int http_status, bool retryable, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->http_status = http_status;
	err->retryable = retryable;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return code;
}

const char *
fx_str(struct fx *x, const char *fmt, ...)
{
	size_t room = sizeof(x->arena) - x->used;
	char *p = x->arena + x->used;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return NULL;
	x->used += (size_t)n + 1;
	return p;
}

void
fx_event(struct fx *x, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (strcmp(text, x->last_event) == 0 || x->io == NULL || x->io->event == NULL)
		return;
	snprintf(x->last_event, sizeof(x->last_event), "%s", text);
	x->io->event(x->io, x->call->id, text);
}

const char *
fx_arg_str(const struct fx *x, const char *name)
{
	return json_string_value(json_object_get(x->call->args, name));
}

bool
fx_arg_bool(const struct fx *x, const char *name)
{
	return json_is_true(json_object_get(x->call->args, name));
}

long long
fx_arg_int(const struct fx *x, const char *name, long long def)
{
	json_t *v = json_object_get(x->call->args, name);

	return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
fx_left_ms(const struct fx *x)
{
	long long left = x->call->deadline - mono_ms();

	return left > 0 ? left : 0;
}

void
fx_sleep_ms(long long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ names */

static bool
alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1..63. Never starts with '-'. */
static bool
label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum_lower(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool
fx_label_ok(const char *s)
{
	return s != NULL && label_ok(s, strlen(s));
}

bool
fx_subdomain_ok(const char *s)
{
	const char *p;

	if (s == NULL || strlen(s) > FX_NAME_MAX)
		return false;
	for (;;) {
		p = strchr(s, '.');
		if (!label_ok(s, p ? (size_t)(p - s) : strlen(s)))
			return false;
		if (p == NULL)
			return true;
		s = p + 1;
	}
}

/* Every name that reaches an argv is checked here again: the schema's patterns are the first
 * line, this is the second. The cluster, when named, must be the one corrald gave us. */
int
fx_check_args(struct fx *x)
{
	static const char *const names[] = { "name", NULL };
	static const char *const labels[] = { "namespace", "flux_namespace", NULL };
	const char *v, *cl = fx_arg_str(x, "cluster");
	const char *ep;

	for (const char *const *n = names; *n; n++)
		if ((v = fx_arg_str(x, *n)) != NULL && !fx_subdomain_ok(v))
			return fx_fail(x->err, ERR_SCHEMA, 0, false,
			    "%s: not a Kubernetes object name (RFC 1123 subdomain)", *n);
	for (const char *const *n = labels; *n; n++)
		if ((v = fx_arg_str(x, *n)) != NULL && !fx_label_ok(v))
			return fx_fail(x->err, ERR_SCHEMA, 0, false,
			    "%s: not a Kubernetes namespace (RFC 1123 label)", *n);
	ep = json_string_value(json_object_get(json_object_get(x->call->ctx, "endpoint"),
	    "name"));
	if (cl != NULL && (ep == NULL || strcmp(cl, ep) != 0))
		return fx_fail(x->err, ERR_CONFIG, 0, false,
		    "cluster '%s' is not the cluster this call was routed to", cl);
	return 0;
}

/* ------------------------------------------------------------------ running kubectl/flux */

int
fx_kubectl(struct fx *x, struct exec_req *req)
{
	long long left = fx_left_ms(x) / 1000, t = left > 30 ? 30 : left < 1 ? 1 : left;
	json_t *e = json_object_get(x->call->ctx, "endpoint");
	long long ep_ms = (long long)json_integer_value(json_object_get(e, "timeout_ms"));
	const char *rt;

	if (ep_ms >= 1000 && ep_ms / 1000 < t)
		t = ep_ms / 1000;
	memset(req, 0, sizeof(*req));
	req->bin = EXEC_BIN_KUBECTL;
	if ((rt = fx_str(x, "--request-timeout=%llds", t)) == NULL)
		return fx_fail(x->err, ERR_TOOBIG, 0, false, "argument space exhausted");
	return exec_arg(req, rt);
}

bool
fx_flux_pinned(struct fx *x)
{
	struct exec_req req = { .bin = EXEC_BIN_FLUX, .flags = EXEC_F_PROBE };
	struct exec_resp resp = { 0 };
	struct tool_err e = { 0 };

	return x->io && x->io->exec && x->io->exec(x->io, x->call, &req, &resp, &e) == 0;
}

/* The first line of text that contains needle, copied into out (trimmed). */
static bool
line_with(const char *text, const char *needle, char *out, size_t len)
{
	const char *p = text ? strstr(text, needle) : NULL, *b, *e;

	if (p == NULL)
		return false;
	for (b = p; b > text && b[-1] != '\n'; b--)
		;
	e = strchr(p, '\n');
	e = e ? e : p + strlen(p);
	snprintf(out, len, "%.*s", (int)(e - b), b);
	return true;
}

static void
last_line(const char *text, char *out, size_t len)
{
	const char *e = text + strlen(text), *b;

	while (e > text && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
		e--;
	for (b = e; b > text && b[-1] != '\n'; b--)
		;
	snprintf(out, len, "%.*s", (int)(e - b), b);
}

/* kubectl's "Error from server (Reason): ..." lines, by reason. */
static const struct {
	const char *tag;
	int code, status;
	bool retry;
} server_errors[] = {
	{ "(NotFound)", ERR_NOTFOUND, 404, false },
	{ "(Forbidden)", ERR_HTTP, 403, false },
	{ "(Unauthorized)", ERR_HTTP, 401, false },
	{ "You must be logged in", ERR_HTTP, 401, false },
	{ "(Conflict)", ERR_HTTP, 409, true },
	{ "(Invalid)", ERR_HTTP, 422, false },
	{ "(BadRequest)", ERR_HTTP, 400, false },
	{ "(UnsupportedMediaType)", ERR_HTTP, 415, false },
	{ "(TooManyRequests)", ERR_HTTP, 429, true },
	{ "(InternalError)", ERR_HTTP, 500, true },
	{ "(ServiceUnavailable)", ERR_HTTP, 503, true },
	{ "(Timeout)", ERR_TIMEOUT, 504, true },
};

/* What a refused or unreachable API server looks like in kubectl's and Go's words. */
static const char *const unreachable[] = {
	"connection refused", "Unable to connect to the server", "dial tcp", "no such host",
	"connection reset", ": EOF", "i/o timeout", "proxyconnect", "context deadline exceeded",
	"was refused", "Bad Gateway", "unable to handle the request", NULL
};

int
fx_run_error(struct fx *x, const struct exec_resp *resp, const char *what)
{
	const char *se = resp->err ? resp->err : "";
	char line[400];

	if (resp->timed_out)
		return fx_fail(x->err, ERR_TIMEOUT, 0, true, "%s: deadline passed; the process "
		    "group was killed", what);
	if (resp->egress_denied)
		return fx_fail(x->err, ERR_EGRESS, 0, false, "%s: corrald refused the connection "
		    "to %s (not this cluster's API server)", what, resp->egress_last);
	if (resp->egress_failed) {
		last_line(se, line, sizeof(line));
		return fx_fail(x->err, ERR_CLOSED, 0, true, "%s: API server unreachable at %s: %s",
		    what, resp->egress_last, line);
	}
	if (resp->out && strstr(resp->out, "Please enter Username"))
		return fx_fail(x->err, ERR_HTTP, 401, false, "%s: the API server asks for "
		    "credentials and this endpoint has none", what);
	if (resp->signal)
		return fx_fail(x->err, ERR_EXEC, 0, false, "%s was killed by signal %d%s", what,
		    resp->signal, resp->signal == 31 ? " (a system call the sandbox forbids)" : "");
	for (size_t i = 0; i < sizeof(server_errors) / sizeof(server_errors[0]); i++)
		if (line_with(se, server_errors[i].tag, line, sizeof(line)))
			return fx_fail(x->err, server_errors[i].code, server_errors[i].status,
			    server_errors[i].retry, "%s", line);
	for (const char *const *u = unreachable; *u; u++)
		if (strstr(se, *u)) {
			last_line(se, line, sizeof(line));
			return fx_fail(x->err, ERR_CLOSED, 0, true, "%s: API server unreachable: %s",
			    what, line);
		}
	last_line(se, line, sizeof(line));
	return fx_fail(x->err, ERR_EXEC, 0, false, "%s exited with status %d: %s", what,
	    resp->status, line);
}

int
fx_run(struct fx *x, struct exec_req *req, struct exec_resp *resp, const char *what)
{
	long long left = fx_left_ms(x);
	int r;

	if (x->io == NULL || x->io->exec == NULL)
		return fx_fail(x->err, ERR_CONFIG, 0, false, "this worker cannot run programs");
	if (left < 200)
		return fx_fail(x->err, ERR_TIMEOUT, 0, true, "deadline passed before %s ran", what);
	if (req->timeout_ms == 0 || req->timeout_ms > left)
		req->timeout_ms = (uint32_t)left;
	memset(resp, 0, sizeof(*resp));
	if ((r = x->io->exec(x->io, x->call, req, resp, x->err)) < 0) {
		if (x->err->code == 0)
			fx_fail(x->err, r, 0, false, "%s could not run: %s", what, err_str(r));
		return x->err->code;
	}
	if (resp->status != 0 || resp->signal != 0 || resp->timed_out)
		return fx_run_error(x, resp, what);
	return 0;
}

static int
parse_out(struct fx *x, const struct exec_resp *resp, json_t **out)
{
	char e[160];
	int r;

	if (resp->out_truncated)
		return fx_fail(x->err, ERR_TOOBIG, 0, false, "kubectl output over %u bytes",
		    LIM_EXEC_OUT_MAX);
	if ((r = ipc_json_parse(resp->out ? resp->out : "", resp->out_len, LIM_EXEC_OUT_MAX, out,
	    e, sizeof(e))) < 0)
		return fx_fail(x->err, ERR_PROTO, 0, false, "kubectl printed no JSON: %s", e);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return fx_fail(x->err, ERR_PROTO, 0, false, "kubectl printed no JSON object");
	}
	return 0;
}

int
fx_get(struct fx *x, const struct fx_kind *k, const char *ns, const char *name, json_t **out)
{
	struct exec_req req;
	struct exec_resp resp;
	int r;

	*out = NULL;
	if ((r = fx_kubectl(x, &req)) < 0 || (r = exec_arg(&req, "get")) < 0 ||
	    (r = exec_arg(&req, k->res)) < 0 || (name && (r = exec_arg(&req, name)) < 0))
		return r < -4096 ? r : fx_fail(x->err, ERR_TOOBIG, 0, false, "argv too long");
	if (ns != NULL)
		r = exec_arg(&req, "-n") < 0 ? -E2BIG : exec_arg(&req, ns);
	else
		r = exec_arg(&req, "-A");
	if (r < 0 || exec_arg(&req, "-o") < 0 || exec_arg(&req, "json") < 0)
		return fx_fail(x->err, ERR_TOOBIG, 0, false, "argv too long");
	if ((r = fx_run(x, &req, &resp, "kubectl get")) == 0)
		r = parse_out(x, &resp, out);
	exec_resp_clear(&resp);
	return r;
}

int
fx_patch(struct fx *x, const struct fx_kind *k, const char *ns, const char *name,
    const char *patch, bool dry, json_t **out)
{
	static const char *const tail[] = { "--type=merge", FX_FIELD_MANAGER, "-o", "json", NULL };
	struct exec_req req;
	struct exec_resp resp;
	int r;

	*out = NULL;
	if ((r = fx_kubectl(x, &req)) < 0)
		return r;
	if (exec_arg(&req, "-n") < 0 || exec_arg(&req, ns) < 0 || exec_arg(&req, "patch") < 0 ||
	    exec_arg(&req, k->res) < 0 || exec_arg(&req, name) < 0 || exec_arg(&req, "-p") < 0 ||
	    exec_arg(&req, patch) < 0 || (dry && exec_arg(&req, "--dry-run=server") < 0))
		return fx_fail(x->err, ERR_TOOBIG, 0, false, "argv too long");
	for (const char *const *t = tail; *t; t++)
		if (exec_arg(&req, *t) < 0)
			return fx_fail(x->err, ERR_TOOBIG, 0, false, "argv too long");
	if ((r = fx_run(x, &req, &resp, "kubectl patch")) == 0)
		r = parse_out(x, &resp, out);
	exec_resp_clear(&resp);
	return r;
}

/* ------------------------------------------------------------------ shaping */

static json_t *
jpath(const json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	if (c != NULL)
		v = json_object_get(v, c);
	return v;
}

const char *
fx_ready(const json_t *obj, const char **reason, const char **message)
{
	json_t *conds = jpath(obj, "status", "conditions", NULL), *c;
	size_t i;

	*reason = *message = NULL;
	json_array_foreach(conds, i, c) {
		if (json_is_string(json_object_get(c, "type")) &&
		    strcmp(json_string_value(json_object_get(c, "type")), "Ready") == 0) {
			*reason = json_string_value(json_object_get(c, "reason"));
			*message = json_string_value(json_object_get(c, "message"));
			return json_string_value(json_object_get(c, "status"));
		}
	}
	return NULL;
}

bool
fx_suspended(const json_t *obj)
{
	return json_is_true(jpath(obj, "spec", "suspend", NULL));
}

/* The controller has seen the current spec (status.observedGeneration >= generation). */
bool
fx_observed_current(const json_t *obj)
{
	json_t *g = jpath(obj, "metadata", "generation", NULL);
	json_t *og = jpath(obj, "status", "observedGeneration", NULL);

	return !json_is_integer(g) || (json_is_integer(og) &&
	    json_integer_value(og) >= json_integer_value(g));
}

static const char *
revision_of(const json_t *obj)
{
	static const char *const paths[][2] = {
		{ "lastAppliedRevision", NULL }, { "artifact", "revision" }, { NULL, NULL }
	};
	const char *s;
	json_t *h;

	/* what is applied (or, for a source, served): never the revision Flux only tried */
	for (size_t i = 0; paths[i][0]; i++)
		if ((s = json_string_value(jpath(obj, "status", paths[i][0], paths[i][1]))))
			return s;
	h = json_array_get(jpath(obj, "status", "history", NULL), 0);
	return json_string_value(json_object_get(h, "chartVersion"));
}

static void
set_str(json_t *o, const char *key, const char *v)
{
	if (v != NULL)
		json_object_set_new(o, key, json_string(v));
}

/* Kind-specific fields an agent needs to reason about drift. */
static void
shape_extra(json_t *o, const json_t *obj, const char *kind)
{
	json_t *sref = jpath(obj, "spec", "sourceRef", NULL);
	json_t *chart = jpath(obj, "spec", "chart", "spec");
	const char *s;

	if (strcmp(kind, "Kustomization") == 0) {
		set_str(o, "path", json_string_value(jpath(obj, "spec", "path", NULL)));
	} else if (strcmp(kind, "HelmRelease") == 0 && chart) {
		set_str(o, "chart", json_string_value(json_object_get(chart, "chart")));
		set_str(o, "chart_version", json_string_value(json_object_get(chart, "version")));
		sref = json_object_get(chart, "sourceRef");
	} else if (strcmp(kind, "Alert") == 0) {
		set_str(o, "provider", json_string_value(jpath(obj, "spec", "providerRef", "name")));
		set_str(o, "severity", json_string_value(jpath(obj, "spec", "eventSeverity", NULL)));
	} else if (strcmp(kind, "Provider") == 0) {
		set_str(o, "type", json_string_value(jpath(obj, "spec", "type", NULL)));
	} else if ((s = json_string_value(jpath(obj, "spec", "url", NULL))) != NULL) {
		set_str(o, "url", s);
	}
	if (json_is_object(sref)) {
		const char *k = json_string_value(json_object_get(sref, "kind"));
		const char *n = json_string_value(json_object_get(sref, "name"));
		const char *ns = json_string_value(json_object_get(sref, "namespace"));

		if (k && n)
			json_object_set_new(o, "source", json_pack("{s:s, s:s, s:s?}", "kind", k,
			    "name", n, "namespace", ns));
	}
}

json_t *
fx_shape(const json_t *obj)
{
	const char *reason, *message, *st = fx_ready(obj, &reason, &message);
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *last = json_string_value(jpath(obj, "status", "lastHandledReconcileAt", NULL));
	const char *att;
	json_t *o = json_object(), *ready;

	if (o == NULL)
		return NULL;
	ready = st == NULL ? json_null() : strcmp(st, "True") == 0 ? json_true() :
	    strcmp(st, "False") == 0 ? json_false() : json_null();
	set_str(o, "kind", kind);
	set_str(o, "name", json_string_value(jpath(obj, "metadata", "name", NULL)));
	set_str(o, "namespace", json_string_value(jpath(obj, "metadata", "namespace", NULL)));
	json_object_set_new(o, "ready", ready);
	set_str(o, "status", st);
	set_str(o, "reason", reason);
	set_str(o, "message", message);
	set_str(o, "revision", revision_of(obj));
	/* an object stuck behind its source: Flux tried another revision than the one applied
	 * (or has applied none yet) */
	att = json_string_value(jpath(obj, "status", "lastAttemptedRevision", NULL));
	if (att != NULL && (revision_of(obj) == NULL || strcmp(att, revision_of(obj)) != 0))
		set_str(o, "attempted_revision", att);
	json_object_set_new(o, "suspended", json_boolean(fx_suspended(obj)));
	if (last == NULL) {
		json_t *c, *conds = jpath(obj, "status", "conditions", NULL);
		size_t i;

		json_array_foreach(conds, i, c)
			if (json_is_string(json_object_get(c, "type")) && strcmp(json_string_value(
			    json_object_get(c, "type")), "Ready") == 0)
				last = json_string_value(json_object_get(c, "lastTransitionTime"));
	}
	set_str(o, "last_reconcile", last);
	shape_extra(o, obj, kind ? kind : "");
	return o;
}

/* {"items": [...], "count", "not_ready", "truncated"} from a kubectl List. */
static json_t *
shape_list(const json_t *list, const char *scope)
{
	json_t *items = json_object_get(list, "items"), *arr = json_array(), *it;
	size_t i, not_ready = 0;

	json_array_foreach(items, i, it) {
		json_t *s;

		if (i >= LIM_FLUX_ITEMS_MAX)
			break;
		if ((s = fx_shape(it)) == NULL)
			continue;
		if (!json_is_true(json_object_get(s, "ready")) && !fx_suspended(it) &&
		    json_object_get(s, "status") != NULL)
			not_ready++;
		json_array_append_new(arr, s);
	}
	return json_pack("{s:o, s:I, s:I, s:b, s:s}", "items", arr, "count",
	    (json_int_t)json_array_size(arr), "not_ready", (json_int_t)not_ready, "truncated",
	    json_array_size(items) > LIM_FLUX_ITEMS_MAX, "scope", scope);
}

/* ------------------------------------------------------------------ read ops */

const struct fx_kind *
fx_op_kind(const struct fx *x)
{
	const char *op = x->call->op->name;
	const char *sk = fx_arg_str(x, "source_kind");

	if (strstr(op, "kustomization"))
		return &fx_kinds[0];
	if (strstr(op, "helmrelease"))
		return &fx_kinds[1];
	if (strstr(op, "alert"))
		return fx_kind_find("Alert");
	return fx_kind_find(sk ? sk : "GitRepository");
}

/* get_kustomizations, get_helmreleases, get_alerts and get_sources without a kind. */
static int
fx_list(struct tool_io *io, const struct tool_call *call, json_t **result, struct tool_err *err)
{
	struct fx x;
	const struct fx_kind *k;
	const char *ns, *sk;
	json_t *list = NULL;
	int r;

	fx_init(&x, io, call, err);
	if ((r = fx_check_args(&x)) < 0)
		return r;
	k = fx_op_kind(&x);
	ns = fx_arg_bool(&x, "all_namespaces") ? NULL : fx_arg_str(&x, "namespace");
	sk = fx_arg_str(&x, "source_kind");
	if (strcmp(call->op->name, "get_sources") == 0 && sk == NULL) {
		/* every source kind in one kubectl run: a comma list of resources */
		struct fx_kind all = { "Source", NULL, NULL, NULL };

		all.res = "gitrepositories.source.toolkit.fluxcd.io,"
		    "helmrepositories.source.toolkit.fluxcd.io,buckets.source.toolkit.fluxcd.io,"
		    "ocirepositories.source.toolkit.fluxcd.io,helmcharts.source.toolkit.fluxcd.io";
		r = fx_get(&x, &all, ns, NULL, &list);
	} else if (strcmp(call->op->name, "get_alerts") == 0) {
		struct fx_kind both = { "Alert", "alerts.notification.toolkit.fluxcd.io,"
		    "providers.notification.toolkit.fluxcd.io", NULL, NULL };

		r = fx_get(&x, &both, ns, NULL, &list);
	} else {
		r = fx_get(&x, k, ns, NULL, &list);
	}
	if (r < 0)
		return r;
	*result = shape_list(list, ns ? ns : "all namespaces");
	json_decref(list);
	return *result ? 0 : -ENOMEM;
}

static int
fx_get_one(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct fx x;
	json_t *obj = NULL;
	int r;

	fx_init(&x, io, call, err);
	if ((r = fx_check_args(&x)) < 0)
		return r;
	if ((r = fx_get(&x, fx_op_kind(&x), fx_arg_str(&x, "namespace"), fx_arg_str(&x, "name"),
	    &obj)) < 0)
		return r;
	*result = fx_shape(obj);
	json_decref(obj);
	return *result ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------------ schemas */

#define RX_LABEL "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
#define RX_NAME	RX_LABEL "(\\." RX_LABEL ")*"
#define RX_NS	RX_LABEL
#define RX_CLUSTER "[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"

#define P_NS { .name = "namespace", .type = TP_STRING, .def = "\"flux-system\"", \
	.pattern = RX_NS, .max_len = FX_NS_MAX, .desc = "Kubernetes namespace of the object" }
#define P_NAME { .name = "name", .type = TP_STRING, .required = true, .pattern = RX_NAME, \
	.max_len = FX_NAME_MAX, .desc = "Object name" }
#define P_ALL { .name = "all_namespaces", .type = TP_BOOL, .def = "false", \
	.desc = "List in every namespace (namespace is then ignored)" }
#define P_CLUSTER { .name = "cluster", .type = TP_STRING, .pattern = RX_CLUSTER, \
	.max_len = 63, .desc = "A configured cluster (endpoint) name; default: the tenant's " \
	"first flux endpoint. Never a file path." }
#define P_TIMEOUT { .name = "timeout", .type = TP_INT, .def = "120", .min = 1, \
	.max = LIM_FLUX_WAIT_MAX_S, .desc = "Seconds to wait for Ready" }
#define P_WITH_SOURCE { .name = "with_source", .type = TP_BOOL, .def = "false", \
	.desc = "Reconcile the referenced source first" }

static const char *const source_kinds[] = { "GitRepository", "HelmRepository", "Bucket",
	"OCIRepository", "HelmChart", NULL };
static const char *const components[] = { "kustomize-controller", "helm-controller",
	"source-controller", "notification-controller", "image-reflector-controller",
	"image-automation-controller", NULL };
static const char *const log_kinds[] = { "Kustomization", "HelmRelease", "GitRepository",
	"HelmRepository", "Bucket", "OCIRepository", "HelmChart", "Alert", "Provider", "Receiver",
	"ImageRepository", "ImagePolicy", "ImageUpdateAutomation", NULL };
static const char *const levels[] = { "debug", "info", "error", NULL };

static const struct tool_param p_list[] = { P_NS, P_ALL, P_CLUSTER, { 0 } };
static const struct tool_param p_one[] = { P_NAME, P_NS, P_CLUSTER, { 0 } };
static const struct tool_param p_rec_ks[] = { P_NAME, P_NS, P_CLUSTER, P_TIMEOUT,
	P_WITH_SOURCE, { 0 } };
static const struct tool_param p_rec_hr[] = { P_NAME, P_NS, P_CLUSTER, P_TIMEOUT,
	P_WITH_SOURCE,
	{ .name = "force", .type = TP_BOOL, .def = "false",
	  .desc = "Force a one-off install or upgrade (reconcile.fluxcd.io/forceAt)" },
	{ .name = "reset", .type = TP_BOOL, .def = "false",
	  .desc = "Reset the failure counts (reconcile.fluxcd.io/resetAt)" },
	{ 0 } };
static const struct tool_param p_resume[] = { P_NAME, P_NS, P_CLUSTER, P_TIMEOUT,
	{ .name = "wait", .type = TP_BOOL, .def = "true", .desc = "Wait for Ready after resuming" },
	{ 0 } };
static const struct tool_param p_sources[] = { P_NS, P_ALL, P_CLUSTER,
	{ .name = "source_kind", .type = TP_STRING, .enums = source_kinds,
	  .desc = "Source kind; all source kinds when absent" },
	{ 0 } };
static const struct tool_param p_rec_src[] = { P_NAME, P_NS, P_CLUSTER, P_TIMEOUT,
	{ .name = "source_kind", .type = TP_STRING, .required = true, .enums = source_kinds,
	  .desc = "Source kind" },
	{ 0 } };
static const struct tool_param p_logs[] = {
	{ .name = "component", .type = TP_STRING, .enums = components,
	  .desc = "One controller; all Flux controllers when absent" },
	{ .name = "kind", .type = TP_STRING, .enums = log_kinds, .desc = "Object kind to keep" },
	{ .name = "name", .type = TP_STRING, .pattern = RX_NAME, .max_len = FX_NAME_MAX,
	  .desc = "Object name to keep" },
	P_NS, P_ALL, P_CLUSTER,
	{ .name = "level", .type = TP_STRING, .enums = levels, .desc = "Keep only this level" },
	{ .name = "tail", .type = TP_INT, .def = "200", .min = 1, .max = 5000,
	  .desc = "Lines read from each controller pod" },
	{ .name = "since", .type = TP_STRING, .pattern = "[1-9][0-9]{0,5}(s|m|h)", .max_len = 8,
	  .desc = "Only lines newer than this (e.g. 15m)" },
	{ .name = "limit", .type = TP_INT, .def = "200", .min = 1, .max = LIM_FLUX_LOG_LINES_MAX,
	  .desc = "Entries returned at most" },
	{ .name = "flux_namespace", .type = TP_STRING, .def = "\"flux-system\"", .pattern = RX_NS,
	  .max_len = FX_NS_MAX, .desc = "Namespace the Flux controllers run in" },
	{ 0 } };

#define RD	(TOOL_F_IDEMPOTENT)
#define WR	(TOOL_F_MUTATING | TOOL_F_DRY_RUN)
#define WAIT_MS	((LIM_FLUX_WAIT_MAX_S + 30) * 1000)

static const struct tool_op flux_ops[] = {
	{ "get_kustomizations", "List Kustomizations with readiness, revision and suspension", RD,
	  p_list, 60000, fx_list },
	{ "get_kustomization", "Read one Kustomization", RD, p_one, 60000, fx_get_one },
	{ "reconcile_kustomization", "Request a reconcile now and wait for Ready",
	  WR | TOOL_F_PROGRESS, p_rec_ks, WAIT_MS, fx_op_reconcile },
	{ "suspend_kustomization", "Suspend a Kustomization (spec.suspend=true), verified", WR,
	  p_one, 60000, fx_op_suspend },
	{ "resume_kustomization", "Resume a Kustomization (spec.suspend=false), verified",
	  WR | TOOL_F_PROGRESS, p_resume, WAIT_MS, fx_op_resume },
	{ "get_helmreleases", "List HelmReleases with readiness, revision and suspension", RD,
	  p_list, 60000, fx_list },
	{ "get_helmrelease", "Read one HelmRelease", RD, p_one, 60000, fx_get_one },
	{ "reconcile_helmrelease", "Request a reconcile now and wait for Ready",
	  WR | TOOL_F_PROGRESS, p_rec_hr, WAIT_MS, fx_op_reconcile },
	{ "suspend_helmrelease", "Suspend a HelmRelease (spec.suspend=true), verified", WR,
	  p_one, 60000, fx_op_suspend },
	{ "resume_helmrelease", "Resume a HelmRelease (spec.suspend=false), verified",
	  WR | TOOL_F_PROGRESS, p_resume, WAIT_MS, fx_op_resume },
	{ "get_sources", "List sources (GitRepository, HelmRepository, Bucket, OCIRepository, "
	  "HelmChart)", RD, p_sources, 60000, fx_list },
	{ "reconcile_source", "Request a source reconcile now and wait for Ready",
	  WR | TOOL_F_PROGRESS, p_rec_src, WAIT_MS, fx_op_reconcile },
	{ "get_alerts", "List alerts and their providers", RD, p_list, 60000, fx_list },
	{ "get_logs", "Flux controller logs, filtered by kind/name/namespace/level, capped", RD,
	  p_logs, 60000, fx_op_logs },
	{ 0 }
};

const struct tool_family tool_fam_flux = {
	.name = "flux",
	.desc = "Flux CD: Kustomizations, HelmReleases, sources, alerts and controller logs, "
	    "through a pinned kubectl (and flux) in the exec worker",
	.kind = TOOL_KIND_EXEC,
	.ops = flux_ops,
};
