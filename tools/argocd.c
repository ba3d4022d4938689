/* The argocd family: Argo CD's application API (grpc-gateway REST, CONTRACTS.md section 2).
 *
 * Every app call is /api/v1/applications/{name} with the Application's namespace as the query
 * parameter (or body field) appNamespace, never a path segment. Every non-GET carries exactly
 * "Content-Type: application/json" (argocd-server answers 415 otherwise), DELETE included.
 * Results are shaped for agents: the fields that matter, long texts and lists capped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "tools/http.h"
#include "tools/io.h"
#include "tools/tool.h"

#define API		"/api/v1/applications"
#define CT_JSON		"application/json"
#define TEXT_MAX	300	/* one message or condition */
#define HISTORY_MAX	10	/* newest history entries shown */
#define CONDITIONS_MAX	10
#define RESOURCES_MAX	200	/* status.resources entries shown (drift: which object differs) */

/* ---------------------------------------------------------------- JSON helpers */

static bool
auto_sync_on(json_t *app)
{
	json_t *a = http_json_get(app, "spec.syncPolicy.automated"), *en;

	if (!json_is_object(a))
		return false;
	en = json_object_get(a, "enabled");	/* v3: automated.enabled=false keeps the block */
	return en == NULL || !json_is_false(en);
}

static json_t *
shape_history(json_t *app)
{
	json_t *h = http_json_get(app, "status.history"), *out = json_array(), *e;
	size_t n = json_array_size(h), i;

	json_array_foreach(h, i, e) {
		if (i + HISTORY_MAX < n)
			continue;	/* only the newest entries */
		json_array_append_new(out, json_pack("{s:O?, s:o, s:o}", "id",
		    json_object_get(e, "id"), "revision", http_json_str(e, "revision", 128),
		    "deployed_at", http_json_str(e, "deployedAt", 64)));
	}
	return out;
}

static json_t *
shape_conditions(json_t *app)
{
	json_t *c = http_json_get(app, "status.conditions"), *out = json_array(), *e;
	size_t i;

	json_array_foreach(c, i, e) {
		if (i >= CONDITIONS_MAX)
			break;
		json_array_append_new(out, json_pack("{s:o, s:o}", "type", http_json_str(e, "type", 64),
		    "message", http_json_str(e, "message", TEXT_MAX)));
	}
	return out;
}

static json_t *
shape_operation(json_t *app)
{
	json_t *op = http_json_get(app, "status.operationState");

	if (!json_is_object(op))
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o}", "phase", http_json_str(op, "phase", 32),
	    "message", http_json_str(op, "message", TEXT_MAX), "started_at",
	    http_json_str(op, "startedAt", 64), "finished_at", http_json_str(op, "finishedAt", 64));
}

/* status.resources: each managed object with its own sync status (Synced/OutOfSync), health
 * and whether a sync would prune it; what a drift report names. */
static json_t *
shape_resources(json_t *app)
{
	json_t *rs = http_json_get(app, "status.resources"), *out = json_array(), *e;
	size_t i;

	json_array_foreach(rs, i, e) {
		if (i >= RESOURCES_MAX)
			break;
		json_array_append_new(out, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b}",
		    "group", http_json_str(e, "group", 253), "kind", http_json_str(e, "kind", 128),
		    "namespace", http_json_str(e, "namespace", 63),
		    "name", http_json_str(e, "name", 253), "status", http_json_str(e, "status", 32),
		    "health", http_json_str(e, "health.status", 32), "requires_pruning",
		    json_is_true(json_object_get(e, "requiresPruning"))));
	}
	return out;
}

/* The compact view of a v1alpha1Application agents get. New reference. */
static json_t *
shape_app(json_t *app)
{
	return json_pack("{s:o, s:o, s:o, s:{s:o, s:o}, s:{s:o, s:o}, s:b, s:{s:o, s:o, s:o, s:o},"
	    " s:{s:o, s:o}, s:o, s:o, s:o, s:o}",
	    "name", http_json_str(app, "metadata.name", 253),
	    "namespace", http_json_str(app, "metadata.namespace", 63),
	    "project", http_json_str(app, "spec.project", 253),
	    "sync", "status", http_json_str(app, "status.sync.status", 32),
	    "revision", http_json_str(app, "status.sync.revision", 128),
	    "health", "status", http_json_str(app, "status.health.status", 32),
	    "message", http_json_str(app, "status.health.message", TEXT_MAX),
	    "auto_sync", auto_sync_on(app),
	    "source", "repo_url", http_json_str(app, "spec.source.repoURL", 512),
	    "path", http_json_str(app, "spec.source.path", 512),
	    "chart", http_json_str(app, "spec.source.chart", 253),
	    "target_revision", http_json_str(app, "spec.source.targetRevision", 128),
	    "destination", "server", http_json_str(app, "spec.destination.server", 512),
	    "namespace", http_json_str(app, "spec.destination.namespace", 63),
	    "operation", shape_operation(app),
	    "history", shape_history(app),
	    "conditions", shape_conditions(app),
	    "resources", shape_resources(app));
}

/* ---------------------------------------------------------------- requests */

static const char *
arg_str(const struct tool_call *call, const char *name)
{
	return json_string_value(json_object_get(call->args, name));
}

static bool
arg_bool(const struct tool_call *call, const char *name)
{
	return json_is_true(json_object_get(call->args, name));
}

/* /api/v1/applications[/{app_name}][suffix], credentials, exact Content-Type on non-GETs. */
static int
argo_req(struct http_req *req, const char *method, const struct tool_call *call, bool with_app,
    const char *suffix, struct tool_err *err)
{
	const char *secret = http_ctx_secret(call->ctx);
	int r;

	http_req_init(req, method);
	if ((r = http_path_add(req, API)) < 0 ||
	    (with_app && (r = http_path_seg(req, arg_str(call, "app_name"))) < 0) ||
	    (suffix && (r = http_path_add(req, suffix)) < 0)) {
		http_err_set(err, ERR_SCHEMA, 0, false, "app_name cannot be used as a path segment");
		return ERR_SCHEMA;
	}
	if (secret && (r = http_cred_add(req, "Authorization", "Bearer ", secret)) < 0) {
		http_err_set(err, ERR_CONFIG, 0, false, "credential cannot be sent as a header");
		return ERR_CONFIG;
	}
	if (strcmp(method, "GET") == 0)
		req->flags |= HTTP_F_IDEMPOTENT;
	else
		req->content_type = CT_JSON;
	return 0;
}

/* The string arguments map[i][0] present in the call, as query parameters named map[i][1]. */
static int
argo_query_map(struct http_req *req, const struct tool_call *call, const char *const (*map)[2],
    size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		const char *v = arg_str(call, map[i][0]);

		if (v && (r = http_query_add(req, map[i][1], v)) < 0)
			return r;
	}
	return 0;
}

/* appNamespace (and project when given) as query parameters. */
static int
argo_query_app(struct http_req *req, const struct tool_call *call)
{
	static const char *const q[][2] = { { "app_namespace", "appNamespace" },
	    { "project", "project" } };

	return argo_query_map(req, call, q, sizeof(q) / sizeof(q[0]));
}

/* Make the exchange and decode the JSON answer (into *out when out != NULL). */
static int
argo_do(struct tool_io *io, const struct tool_call *call, struct http_req *req, json_t **out,
    struct tool_err *err)
{
	struct http_resp resp = { 0 };
	int r;

	if (out)
		*out = NULL;
	if (io == NULL || io->http == NULL) {
		http_err_set(err, ERR_NOTREADY, 0, false, "no HTTP in this worker");
		return ERR_NOTREADY;
	}
	r = io->http(io, call, req, &resp, err);
	http_req_wipe(req);
	if (r == 0 && out)
		r = http_resp_json(&resp, out, err);
	if (r == 0 && out && !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		http_err_set(err, ERR_PROTO, (int)resp.status, false, "expected a JSON object");
		r = ERR_PROTO;
	}
	if (r < 0 && err->http_status == 403 && arg_str(call, "project") == NULL &&
	    json_object_get(call->args, "app_name") != NULL) {
		size_t n = strlen(err->text);

		snprintf(err->text + n, sizeof(err->text) - n, " (without project, Argo CD also "
		    "answers 403 for an application that does not exist)");
	}
	http_resp_clear(&resp);
	return r;
}

static int
get_app(struct tool_io *io, const struct tool_call *call, const char *refresh, json_t **app,
    struct tool_err *err)
{
	struct http_req req;
	int r;

	if ((r = argo_req(&req, "GET", call, true, NULL, err)) < 0)
		return r;
	if ((r = argo_query_app(&req, call)) < 0 ||
	    (refresh && (r = http_query_add(&req, "refresh", refresh)) < 0))
		return r;
	if (refresh)
		req.timeout_ms = 60000;	/* the server answers once the refresh is done */
	return argo_do(io, call, &req, app, err);
}

/* A JSON body from a json_t (consumed); the text lives in *buf until the caller frees it. */
static int
set_body(struct http_req *req, json_t *body, char **buf, struct tool_err *err)
{
	*buf = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (*buf == NULL) {
		http_err_set(err, -ENOMEM, 0, false, "cannot encode the request body");
		return -ENOMEM;
	}
	req->body = *buf;
	req->body_len = strlen(*buf);
	return 0;
}

/* ---------------------------------------------------------------- read ops */

static int
op_get_application(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	json_t *app;
	int r;

	if ((r = get_app(io, call, arg_str(call, "refresh"), &app, err)) < 0)
		return r;
	*result = shape_app(app);
	json_decref(app);
	return *result ? 0 : -ENOMEM;
}

static int
op_get_sync_status(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	json_t *app;
	int r;

	if ((r = get_app(io, call, arg_str(call, "refresh"), &app, err)) < 0)
		return r;
	*result = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "name", http_json_str(app, "metadata.name", 253),
	    "namespace", http_json_str(app, "metadata.namespace", 63),
	    "sync_status", http_json_str(app, "status.sync.status", 32),
	    "revision", http_json_str(app, "status.sync.revision", 128),
	    "health_status", http_json_str(app, "status.health.status", 32),
	    "health_message", http_json_str(app, "status.health.message", TEXT_MAX),
	    "operation", shape_operation(app));
	json_decref(app);
	return *result ? 0 : -ENOMEM;
}

#define LIST_MAX	500

static int
op_list_applications(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const char *const q[][2] = { { "selector", "selector" }, { "project", "projects" },
	    { "app_namespace", "appNamespace" }, { "repo", "repo" } };
	struct http_req req;
	json_t *list, *items, *out, *e;
	size_t i;
	int r;

	if ((r = argo_req(&req, "GET", call, false, NULL, err)) < 0 ||
	    (r = argo_query_map(&req, call, q, sizeof(q) / sizeof(q[0]))) < 0 ||
	    (r = argo_do(io, call, &req, &list, err)) < 0)
		return r;
	items = json_object_get(list, "items");
	out = json_array();
	json_array_foreach(items, i, e) {
		if (i >= LIST_MAX)
			break;
		json_array_append_new(out, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b}",
		    "name", http_json_str(e, "metadata.name", 253),
		    "namespace", http_json_str(e, "metadata.namespace", 63),
		    "project", http_json_str(e, "spec.project", 253),
		    "sync", http_json_str(e, "status.sync.status", 32),
		    "health", http_json_str(e, "status.health.status", 32),
		    "revision", http_json_str(e, "status.sync.revision", 128),
		    "auto_sync", auto_sync_on(e)));
	}
	*result = json_pack("{s:I, s:o, s:b}", "count", (json_int_t)json_array_size(items),
	    "applications", out, "truncated", json_array_size(items) > LIST_MAX);
	json_decref(list);
	return *result ? 0 : -ENOMEM;
}

#define NODES_MAX	500

static json_t *
shape_node(json_t *n)
{
	json_t *p = json_array_get(json_object_get(n, "parentRefs"), 0);

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "kind", http_json_str(n, "kind", 128), "group", http_json_str(n, "group", 253),
	    "namespace", http_json_str(n, "namespace", 63), "name", http_json_str(n, "name", 253),
	    "health", http_json_str(n, "health.status", 32),
	    "health_message", http_json_str(n, "health.message", TEXT_MAX),
	    "parent", p ? json_pack("{s:o, s:o}", "kind", http_json_str(p, "kind", 128), "name",
	    http_json_str(p, "name", 253)) : json_null());
}

static int
op_get_resources(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const char *const q[][2] = { { "resource_kind", "kind" },
	    { "resource_namespace", "namespace" }, { "resource_name", "name" },
	    { "resource_group", "group" } };
	struct http_req req;
	json_t *tree, *nodes, *out, *e;
	size_t i;
	int r;

	if ((r = argo_req(&req, "GET", call, true, "/resource-tree", err)) < 0 ||
	    (r = argo_query_app(&req, call)) < 0 ||
	    (r = argo_query_map(&req, call, q, sizeof(q) / sizeof(q[0]))) < 0 ||
	    (r = argo_do(io, call, &req, &tree, err)) < 0)
		return r;
	nodes = json_object_get(tree, "nodes");
	out = json_array();
	json_array_foreach(nodes, i, e) {
		if (i >= NODES_MAX)
			break;
		json_array_append_new(out, shape_node(e));
	}
	*result = json_pack("{s:I, s:o, s:I, s:b}", "count", (json_int_t)json_array_size(nodes),
	    "nodes", out, "orphaned", (json_int_t)json_array_size(json_object_get(tree,
	    "orphanedNodes")), "truncated", json_array_size(nodes) > NODES_MAX);
	json_decref(tree);
	return *result ? 0 : -ENOMEM;
}

#define MANIFEST_BYTES_MAX	(256u << 10)	/* full manifests shown up to this many bytes */

static json_t *
shape_manifest(const char *text, size_t *budget, bool *cut)
{
	json_t *m = json_loads(text, 0, NULL), *o;
	size_t n = strlen(text);

	if (m == NULL)
		return json_pack("{s:s}", "error", "manifest is not JSON");
	o = json_pack("{s:o, s:o, s:o, s:o}", "kind", http_json_str(m, "kind", 128),
	    "api_version", http_json_str(m, "apiVersion", 128),
	    "name", http_json_str(m, "metadata.name", 253),
	    "namespace", http_json_str(m, "metadata.namespace", 63));
	if (n <= *budget) {
		*budget -= n;
		json_object_set(o, "manifest", m);
	} else {
		*cut = true;	/* listed without its body */
	}
	json_decref(m);
	return o;
}

static int
op_get_manifest(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	const char *rev = arg_str(call, "revision");
	size_t budget = MANIFEST_BYTES_MAX, i;
	bool cut = false;
	struct http_req req;
	json_t *resp, *list, *out, *e;
	int r;

	if ((r = argo_req(&req, "GET", call, true, "/manifests", err)) < 0 ||
	    (r = argo_query_app(&req, call)) < 0 ||
	    (rev && (r = http_query_add(&req, "revision", rev)) < 0))
		return r;
	if ((r = argo_do(io, call, &req, &resp, err)) < 0)
		return r;
	list = json_object_get(resp, "manifests");
	out = json_array();
	json_array_foreach(list, i, e)
		if (json_is_string(e))
			json_array_append_new(out, shape_manifest(json_string_value(e), &budget,
			    &cut));
	*result = json_pack("{s:o, s:o, s:o, s:o, s:I, s:o, s:b}",
	    "revision", http_json_str(resp, "revision", 128),
	    "namespace", http_json_str(resp, "namespace", 63),
	    "server", http_json_str(resp, "server", 512),
	    "source_type", http_json_str(resp, "sourceType", 32),
	    "count", (json_int_t)json_array_size(list), "manifests", out,
	    "truncated", cut);
	json_decref(resp);
	return *result ? 0 : -ENOMEM;
}

#define LOG_LINE_MAX	2048
#define LOG_BODY_MAX	(4u << 20)

/* One NDJSON line of the log stream: {"result": applicationLogEntry} or {"error": {...}}. */
static void
log_line(const char *s, size_t n, json_t *lines, json_t *errors)
{
	json_t *j = json_loadb(s, n, 0, NULL), *res, *e;

	if (j == NULL)
		return;
	if ((res = json_object_get(j, "result")) != NULL) {
		if (!json_is_true(json_object_get(res, "last")) ||
		    json_string_length(json_object_get(res, "content")) > 0)
			json_array_append_new(lines, json_pack("{s:o, s:o, s:o}",
			    "pod", http_json_str(res, "podName", 253),
			    "ts", http_json_str(res, "timeStampStr", 64),
			    "text", http_json_str(res, "content", LOG_LINE_MAX)));
	} else if ((e = json_object_get(j, "error")) != NULL && json_array_size(errors) < 10) {
		json_array_append_new(errors, http_json_str(e, "message", TEXT_MAX));
	}
	json_decref(j);
}

static int
logs_query(struct http_req *req, const struct tool_call *call)
{
	static const char *const q[][2] = { { "resource_name", "resourceName" },
	    { "resource_kind", "kind" }, { "resource_group", "group" },
	    { "resource_namespace", "namespace" }, { "container", "container" },
	    { "pod_name", "podName" }, { "filter", "filter" } };
	json_t *v;
	int r;

	if ((r = argo_query_map(req, call, q, sizeof(q) / sizeof(q[0]))) < 0)
		return r;
	if ((v = json_object_get(call->args, "tail_lines")) && json_is_integer(v) &&
	    (r = http_query_add_int(req, "tailLines", json_integer_value(v))) < 0)
		return r;
	if ((v = json_object_get(call->args, "since_seconds")) && json_is_integer(v) &&
	    (r = http_query_add_int(req, "sinceSeconds", json_integer_value(v))) < 0)
		return r;
	if (arg_bool(call, "previous") && (r = http_query_add(req, "previous", "true")) < 0)
		return r;
	return http_query_add(req, "follow", "false");	/* or the stream never ends */
}

static int
op_get_logs(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct http_resp resp = { 0 };
	struct http_req req;
	json_t *lines, *errors;
	const char *p, *end;
	int r;

	if ((r = argo_req(&req, "GET", call, true, "/logs", err)) < 0)
		return r;
	if ((r = argo_query_app(&req, call)) < 0 || (r = logs_query(&req, call)) < 0) {
		http_err_set(err, ERR_TOOBIG, 0, false, "too many query parameters");
		return r;
	}
	req.flags |= HTTP_F_RAW;
	req.max_body = LOG_BODY_MAX;
	if (io == NULL || io->http == NULL) {
		http_req_wipe(&req);
		http_err_set(err, ERR_NOTREADY, 0, false, "no HTTP in this worker");
		return ERR_NOTREADY;
	}
	r = io->http(io, call, &req, &resp, err);
	http_req_wipe(&req);
	if (r < 0) {
		http_resp_clear(&resp);
		return r;
	}
	lines = json_array();
	errors = json_array();
	for (p = resp.body, end = resp.body + resp.len; p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 0 && (nl != NULL || !resp.truncated))
			log_line(p, n, lines, errors);
		p += n + 1;
	}
	*result = json_pack("{s:I, s:o, s:o, s:b}", "count", (json_int_t)json_array_size(lines),
	    "lines", lines, "errors", errors, "truncated", resp.truncated);
	http_resp_clear(&resp);
	return *result ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- mutating ops */

static bool
want_dry_run(const struct tool_call *call)
{
	return call->dry_run || arg_bool(call, "dry_run");
}

/* POST/PATCH with a JSON body (consumed); *app gets the returned Application. */
static int
argo_send(struct tool_io *io, const struct tool_call *call, const char *method,
    const char *suffix, json_t *body, json_t **app, struct tool_err *err)
{
	struct http_req req;
	char *buf = NULL;
	int r;

	if ((r = argo_req(&req, method, call, true, suffix, err)) < 0) {
		json_decref(body);
		return r;
	}
	if ((r = set_body(&req, body, &buf, err)) == 0)
		r = argo_do(io, call, &req, app, err);
	http_req_wipe(&req);
	free(buf);
	return r;
}

static void
body_ns(json_t *body, const struct tool_call *call)
{
	const char *ns = arg_str(call, "app_namespace");

	if (ns)
		json_object_set_new(body, "appNamespace", json_string(ns));
}

static int
op_sync_application(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	const char *rev = arg_str(call, "revision");
	bool dry = want_dry_run(call), prune = arg_bool(call, "prune"), force = arg_bool(call, "force");
	json_t *body, *app;
	int r;

	/* force sits in strategy.hook.force (Go embedding flattens SyncStrategyApply). */
	body = json_pack("{s:b, s:b, s:{s:{s:b}}}", "prune", prune, "dryRun", dry, "strategy",
	    "hook", "force", force);
	if (body == NULL)
		return -ENOMEM;
	if (rev)
		json_object_set_new(body, "revision", json_string(rev));
	body_ns(body, call);
	if ((r = argo_send(io, call, "POST", "/sync", body, &app, err)) < 0)
		return r;
	*result = json_pack("{s:b, s:b, s:{s:s?, s:b, s:b}, s:o}", "started", 1, "dry_run", dry,
	    "requested", "revision", rev, "prune", prune, "force", force, "application",
	    shape_app(app));
	json_decref(app);
	return *result ? 0 : -ENOMEM;
}

static int
op_terminate_sync(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct http_req req;
	json_t *out;
	int r;

	if ((r = argo_req(&req, "DELETE", call, true, "/operation", err)) < 0 ||
	    (r = argo_query_app(&req, call)) < 0)
		return r;
	if (want_dry_run(call)) {
		http_req_wipe(&req);
		*result = json_pack("{s:b, s:b, s:s}", "dry_run", 1, "terminated", 0, "would",
		    "terminate the running operation (DELETE .../operation)");
		return *result ? 0 : -ENOMEM;
	}
	if ((r = argo_do(io, call, &req, &out, err)) < 0)
		return r;
	json_decref(out);
	*result = json_pack("{s:s?, s:s?, s:b}", "name", arg_str(call, "app_name"), "namespace",
	    arg_str(call, "app_namespace"), "terminated", 1);
	return *result ? 0 : -ENOMEM;
}

static bool
json_patch_ok(json_t *p)
{
	static const char *const ops[] = { "add", "remove", "replace", "move", "copy", "test", NULL };
	size_t i, k;
	json_t *e;

	if (!json_is_array(p) || json_array_size(p) == 0)
		return false;
	json_array_foreach(p, i, e) {
		const char *op = json_string_value(json_object_get(e, "op"));

		if (op == NULL || !json_is_string(json_object_get(e, "path")))
			return false;
		for (k = 0; ops[k] && strcmp(ops[k], op) != 0; k++)
			;
		if (ops[k] == NULL)
			return false;
	}
	return true;
}

static int
op_patch_application(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	const char *type = arg_str(call, "patch_type");
	json_t *patch = json_object_get(call->args, "patch_data"), *body, *app;
	char *text;
	int r;

	if (type == NULL)
		type = "merge";
	if (strcmp(type, "merge") == 0 ? !json_is_object(patch) : !json_patch_ok(patch)) {
		http_err_set(err, ERR_SCHEMA, 0, false, strcmp(type, "merge") == 0 ?
		    "patch_data: a merge patch (RFC 7386) is a JSON object" :
		    "patch_data: a json patch (RFC 6902) is an array of {op, path[, value|from]}");
		return ERR_SCHEMA;
	}
	if (want_dry_run(call)) {
		*result = json_pack("{s:b, s:b, s:s, s:O}", "dry_run", 1, "patched", 0,
		    "patch_type", type, "patch", patch);
		return *result ? 0 : -ENOMEM;
	}
	/* The patch travels as a JSON *string* holding the patch document. */
	if ((text = json_dumps(patch, JSON_COMPACT)) == NULL)
		return -ENOMEM;
	body = json_pack("{s:s, s:s}", "patch", text, "patchType", type);
	free(text);
	if (body == NULL)
		return -ENOMEM;
	body_ns(body, call);
	if ((r = argo_send(io, call, "PATCH", NULL, body, &app, err)) < 0)
		return r;
	*result = json_pack("{s:b, s:s, s:o}", "patched", 1, "patch_type", type, "application",
	    shape_app(app));
	json_decref(app);
	return *result ? 0 : -ENOMEM;
}

/* The history entry to roll back to: the one with the given id, or the one before the current
 * (last) entry. Borrowed; NULL with err filled. */
static json_t *
rollback_target(json_t *app, json_t *want, json_t **current, struct tool_err *err)
{
	json_t *h = http_json_get(app, "status.history"), *e;
	size_t n = json_array_size(h), i;
	char ids[200] = "";
	size_t off = 0;

	*current = n ? json_array_get(h, n - 1) : NULL;
	if (want == NULL || json_is_null(want)) {
		if (n < 2) {
			http_err_set(err, ERR_REMOTE_STATE, 0, false, "no previous deployment to roll back to "
			    "(the application's history has %zu entr%s)", n, n == 1 ? "y" : "ies");
			return NULL;
		}
		return json_array_get(h, n - 2);
	}
	json_array_foreach(h, i, e) {
		if (json_integer_value(json_object_get(e, "id")) == json_integer_value(want))
			return e;
		if (off < sizeof(ids))
			off += (size_t)snprintf(ids + off, sizeof(ids) - off, "%s%lld", i ? ", " : "",
			    (long long)json_integer_value(json_object_get(e, "id")));
	}
	http_err_set(err, ERR_NOTFOUND, 0, false, "history id %lld is not in the application's "
	    "history (ids: %s)", (long long)json_integer_value(want), n ? ids : "none");
	return NULL;
}

static json_t *
step(const char *name, bool done, bool dry, const char *note)
{
	return json_pack("{s:s, s:b, s:b, s:s?}", "step", name, "done", done, "dry_run", dry,
	    "note", note);
}

/* Turn automated sync off with a merge patch: {"spec":{"syncPolicy":{"automated":null}}}. */
static int
disable_auto_sync(struct tool_io *io, const struct tool_call *call, struct tool_err *err)
{
	json_t *body, *app = NULL;
	int r;

	body = json_pack("{s:s, s:s}", "patch", "{\"spec\":{\"syncPolicy\":{\"automated\":null}}}",
	    "patchType", "merge");
	if (body == NULL)
		return -ENOMEM;
	body_ns(body, call);
	r = argo_send(io, call, "PATCH", NULL, body, &app, err);
	json_decref(app);
	if (r < 0) {
		char msg[sizeof(err->text)];

		snprintf(msg, sizeof(msg), "%s", err->text);
		snprintf(err->text, sizeof(err->text), "could not disable auto-sync before the "
		    "rollback (nothing was changed): %s", msg);
	}
	return r;
}

static int
rollback_send(struct tool_io *io, const struct tool_call *call, json_int_t id, bool dry,
    json_t **app, struct tool_err *err)
{
	json_t *body = json_pack("{s:I, s:b, s:b}", "id", id, "prune", arg_bool(call, "prune"),
	    "dryRun", dry);

	if (body == NULL)
		return -ENOMEM;
	body_ns(body, call);
	return argo_send(io, call, "POST", "/rollback", body, app, err);
}

static int
op_rollback_application(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	bool dry = want_dry_run(call), autos;
	json_t *app = NULL, *target, *cur, *steps = NULL, *after = NULL;
	json_int_t id;
	int r;

	if ((r = get_app(io, call, NULL, &app, err)) < 0)
		return r;
	if ((target = rollback_target(app, json_object_get(call->args, "id"), &cur, err)) == NULL) {
		r = err->code;
		goto out;
	}
	id = json_integer_value(json_object_get(target, "id"));
	steps = json_array();
	if ((autos = auto_sync_on(app)) && !arg_bool(call, "disable_auto_sync")) {
		http_err_set(err, ERR_REMOTE_STATE, 0, false, "auto-sync is enabled on this application "
		    "(spec.syncPolicy.automated) and Argo CD refuses a rollback while it is on; "
		    "call again with disable_auto_sync: true to turn it off first (nothing was changed)");
		r = ERR_REMOTE_STATE;
		goto out;
	}
	if (autos && dry) {
		json_array_append_new(steps, step("disable_auto_sync", false, true, "would patch "
		    "spec.syncPolicy.automated to null"));
		json_array_append_new(steps, step("rollback", false, true, "not sent: Argo CD refuses "
		    "even a dry-run rollback while auto-sync is on"));
	} else {
		if (autos) {
			if ((r = disable_auto_sync(io, call, err)) < 0)
				goto out;
			json_array_append_new(steps, step("disable_auto_sync", true, false, NULL));
		}
		if ((r = rollback_send(io, call, id, dry, &after, err)) < 0) {
			if (autos) {
				char msg[sizeof(err->text)];

				snprintf(msg, sizeof(msg), "%s", err->text);
				snprintf(err->text, sizeof(err->text), "auto-sync WAS disabled (step 1 "
				    "done; re-enable it with patch_application) but the rollback failed: %s",
				    msg);
			}
			goto out;
		}
		json_array_append_new(steps, step("rollback", true, dry, NULL));
	}
	*result = json_pack("{s:o, s:o, s:b, s:{s:I, s:o, s:o}, s:{s:O?, s:o}, s:O, s:o}",
	    "name", http_json_str(app, "metadata.name", 253),
	    "namespace", http_json_str(app, "metadata.namespace", 63), "dry_run", dry,
	    "target", "id", id, "revision", http_json_str(target, "revision", 128),
	    "deployed_at", http_json_str(target, "deployedAt", 64),
	    "from", "id", json_object_get(cur, "id"), "revision", http_json_str(cur, "revision", 128),
	    "steps", steps, "application", after ? shape_app(after) : json_null());
	r = *result ? 0 : -ENOMEM;
out:
	json_decref(steps);
	json_decref(after);
	json_decref(app);
	return r;
}

/* ---------------------------------------------------------------- schema */

#define NAME_RE	"[a-z0-9]([-a-z0-9.]*[a-z0-9])?"	/* Kubernetes object name (DNS subdomain) */
#define NS_RE	"[a-z0-9]([-a-z0-9]*[a-z0-9])?"		/* namespace (DNS label) */
#define REV_RE	"[A-Za-z0-9._/+@:~^-]+"			/* commit SHA, tag, branch, chart version */

static const char *const refresh_enum[] = { "normal", "hard", NULL };
static const char *const patch_types[] = { "merge", "json", NULL };

#define P_APP { .name = "app_name", .type = TP_STRING, .required = true, .pattern = NAME_RE, \
	.max_len = 253, .desc = "Argo CD Application name" }
#define P_NS { .name = "app_namespace", .type = TP_STRING, .def = "\"argocd\"", .pattern = NS_RE, \
	.max_len = 63, .desc = "Namespace of the Application resource (sent as appNamespace), " \
	"not the namespace the app deploys to" }
#define P_PROJECT { .name = "project", .type = TP_STRING, .pattern = NAME_RE, .max_len = 253, \
	.desc = "Argo CD project of the app; with it a missing app is a 404 instead of a 403" }
#define P_REFRESH { .name = "refresh", .type = TP_STRING, .enums = refresh_enum, \
	.desc = "Ask the controller to refresh first (blocks until done)" }
#define P_DRY { .name = "dry_run", .type = TP_BOOL, .def = "false", \
	.desc = "Let Argo CD evaluate the operation without applying it" }
#define P_PRUNE { .name = "prune", .type = TP_BOOL, .def = "false", \
	.desc = "Delete resources no longer in Git" }

static const struct tool_param p_app[] = { P_APP, P_NS, P_PROJECT, P_REFRESH, { 0 } };
static const struct tool_param p_list[] = {
	{ .name = "selector", .type = TP_STRING, .pattern = "[A-Za-z0-9._/=!, ()-]+",
	  .max_len = 1024, .desc = "Label selector, e.g. env=prod,team!=ops" },
	{ .name = "project", .type = TP_STRING, .pattern = NAME_RE, .max_len = 253,
	  .desc = "Only apps of this project" },
	{ .name = "app_namespace", .type = TP_STRING, .pattern = NS_RE, .max_len = 63,
	  .desc = "Only Applications in this namespace" },
	{ .name = "repo", .type = TP_STRING, .max_len = 1024, .desc = "Only apps from this repo URL" },
	{ 0 }
};
static const struct tool_param p_sync[] = {
	P_APP, P_NS,
	{ .name = "revision", .type = TP_STRING, .pattern = REV_RE, .max_len = 255,
	  .desc = "Revision to sync to (commit SHA, tag, branch); default the app's target" },
	P_PRUNE, P_DRY,
	{ .name = "force", .type = TP_BOOL, .def = "false",
	  .desc = "Force apply (delete and re-create resources that cannot be patched)" },
	{ 0 }
};
static const struct tool_param p_resources[] = {
	P_APP, P_NS, P_PROJECT,
	{ .name = "resource_kind", .type = TP_STRING, .pattern = "[A-Za-z0-9]+", .max_len = 128,
	  .desc = "Only nodes of this kind, e.g. Deployment" },
	{ .name = "resource_group", .type = TP_STRING, .pattern = "[a-z0-9.-]+", .max_len = 253,
	  .desc = "Only nodes of this API group, e.g. apps" },
	{ .name = "resource_namespace", .type = TP_STRING, .pattern = NS_RE, .max_len = 63,
	  .desc = "Only nodes in this namespace" },
	{ .name = "resource_name", .type = TP_STRING, .pattern = NAME_RE, .max_len = 253,
	  .desc = "Only nodes with this name" },
	{ 0 }
};
static const struct tool_param p_rollback[] = {
	P_APP, P_NS,
	{ .name = "id", .type = TP_INT, .min = 0, .max = INT64_MAX,
	  .desc = "History ID (status.history[].id) to roll back to; default: the deployment "
	  "before the current one" },
	P_PRUNE, P_DRY,
	{ .name = "disable_auto_sync", .type = TP_BOOL, .def = "false",
	  .desc = "If automated sync is on, turn it off first (Argo CD refuses a rollback while it "
	  "is on); both steps are reported" },
	{ 0 }
};
static const struct tool_param p_terminate[] = { P_APP, P_NS, P_PROJECT, { 0 } };
static const struct tool_param p_patch[] = {
	P_APP, P_NS,
	{ .name = "patch_data", .type = TP_JSON, .required = true, .max_len = 64 << 10,
	  .desc = "The patch: an object for merge (RFC 7386), an array of operations for json "
	  "(RFC 6902)" },
	{ .name = "patch_type", .type = TP_STRING, .def = "\"merge\"", .enums = patch_types,
	  .desc = "merge or json" },
	{ .name = "dry_run", .type = TP_BOOL, .def = "false",
	  .desc = "Only show the patch that would be sent" },
	{ 0 }
};
static const struct tool_param p_manifest[] = {
	P_APP, P_NS, P_PROJECT,
	{ .name = "revision", .type = TP_STRING, .pattern = REV_RE, .max_len = 255,
	  .desc = "Render at this revision instead of the target revision" },
	{ 0 }
};
static const struct tool_param p_logs[] = {
	P_APP, P_NS, P_PROJECT,
	{ .name = "resource_name", .type = TP_STRING, .pattern = NAME_RE, .max_len = 253,
	  .desc = "Workload whose pods to read, e.g. the Deployment name" },
	{ .name = "resource_kind", .type = TP_STRING, .pattern = "[A-Za-z0-9]+", .max_len = 128,
	  .desc = "Kind of resource_name, e.g. Deployment" },
	{ .name = "resource_group", .type = TP_STRING, .pattern = "[a-z0-9.-]+", .max_len = 253,
	  .desc = "API group of resource_name, e.g. apps" },
	{ .name = "resource_namespace", .type = TP_STRING, .pattern = NS_RE, .max_len = 63,
	  .desc = "Namespace of the workload (not of the Application)" },
	{ .name = "pod_name", .type = TP_STRING, .pattern = NAME_RE, .max_len = 253,
	  .desc = "One pod instead of a workload" },
	{ .name = "container", .type = TP_STRING, .pattern = NS_RE, .max_len = 63,
	  .desc = "Container name" },
	{ .name = "tail_lines", .type = TP_INT, .def = "100", .min = 1, .max = 10000,
	  .desc = "Last N lines per pod" },
	{ .name = "since_seconds", .type = TP_INT, .min = 1, .max = 2592000,
	  .desc = "Only lines newer than this" },
	{ .name = "previous", .type = TP_BOOL, .def = "false",
	  .desc = "Logs of the previous (crashed) container" },
	{ .name = "filter", .type = TP_STRING, .max_len = 256,
	  .desc = "Only lines containing this text (prefix ! to invert)" },
	{ 0 }
};

static const struct tool_op argocd_ops[] = {
	{ .name = "get_application", .desc = "Application summary: sync, health, source, "
	  "destination, running operation, recent history, conditions",
	  .flags = TOOL_F_IDEMPOTENT, .params = p_app, .timeout_ms = 60000,
	  .run = op_get_application },
	{ .name = "list_applications", .desc = "List applications (name, project, sync, health)",
	  .flags = TOOL_F_IDEMPOTENT, .params = p_list, .run = op_list_applications },
	{ .name = "sync_application", .desc = "Start a sync to the target or given revision; "
	  "returns at once (poll get_sync_status)",
	  .flags = TOOL_F_MUTATING | TOOL_F_DRY_RUN, .params = p_sync, .run = op_sync_application },
	{ .name = "get_sync_status", .desc = "Sync status, revision, health and operation phase",
	  .flags = TOOL_F_IDEMPOTENT, .params = p_app, .timeout_ms = 60000,
	  .run = op_get_sync_status },
	{ .name = "get_resources", .desc = "Resource tree: the Kubernetes objects of the app with "
	  "their health", .flags = TOOL_F_IDEMPOTENT, .params = p_resources,
	  .run = op_get_resources },
	{ .name = "rollback_application", .desc = "Roll back to a history entry (default: the "
	  "previous deployment)", .flags = TOOL_F_MUTATING | TOOL_F_DRY_RUN,
	  .params = p_rollback, .run = op_rollback_application },
	{ .name = "terminate_sync", .desc = "Stop the running sync operation",
	  .flags = TOOL_F_MUTATING | TOOL_F_DRY_RUN, .params = p_terminate,
	  .run = op_terminate_sync },
	{ .name = "patch_application", .desc = "Patch the Application resource (merge or json "
	  "patch)", .flags = TOOL_F_MUTATING | TOOL_F_DRY_RUN, .params = p_patch,
	  .run = op_patch_application },
	{ .name = "get_manifest", .desc = "Rendered manifests of the app (at a revision)",
	  .flags = TOOL_F_IDEMPOTENT, .params = p_manifest, .timeout_ms = 60000,
	  .run = op_get_manifest },
	{ .name = "get_logs", .desc = "Recent pod logs of the app's workload",
	  .flags = TOOL_F_IDEMPOTENT, .params = p_logs, .run = op_get_logs },
	{ 0 }
};

const struct tool_family tool_fam_argocd = {
	.name = "argocd",
	.desc = "Argo CD: inspect, sync, roll back and patch GitOps applications",
	.kind = TOOL_KIND_HTTP,
	.ops = argocd_ops,
};
