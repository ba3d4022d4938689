/* The gitlab_ci family: pipelines, jobs, logs and artifacts of GitLab CI (REST v4).
 *
 * Contract: shared/specs/gitlab-ci.json and CONTRACTS.md section 4 (copies under
 * tests/tools/contracts/). Per-op notes: docs/HTTP-FAMILIES.md.
 *
 * The endpoint URL is the GitLab root (https://gitlab.example.com, or with a relative URL root);
 * "/api/v4" is added unless the URL already ends with it. The project is the numeric ID or the
 * full path sent as ONE segment ("group/sub/proj" -> group%2Fsub%2Fproj); an artifact path keeps
 * its '/'. The credential goes in "Authorization: Bearer", never PRIVATE-TOKEN, which a
 * redirect could carry to another host (SANDBOX.md gotcha 7). trigger_pipeline with a caller
 * `token` uses the trigger endpoint and sends no endpoint credential at all.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/http.h"
#include "tools/paginate.h"

static bool
url_has_api_v4(const char *url)
{
	size_t n = url ? strlen(url) : 0;

	while (n > 0 && url[n - 1] == '/')
		n--;
	return n >= 7 && strncmp(url + n - 7, "/api/v4", 7) == 0;
}

/* "group/sub/proj" or "42": every part a real name, sent as one segment. */
static int
gl_project(struct tool_pg_x *g, const char *id, struct tool_err *err)
{
	const char *p = id;

	if (id == NULL || *id == '\0')
		return tool_pg_fail(err, ERR_SCHEMA, "project_id: empty");
	for (;;) {
		const char *s = strchr(p, '/');
		size_t n = s ? (size_t)(s - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return tool_pg_fail(err, ERR_SCHEMA,
			    "project_id: empty, '.' or '..' path component");
		if (s == NULL)
			break;
		p = s + 1;
	}
	return tool_pg_seg(&g->req, "project_id", id, err);
}

/* /api/v4/projects/<id>; with_cred: Authorization: Bearer <ctx.secret>. */
static int
gl_start(struct tool_pg_x *g, const struct tool_call *call, const char *method, bool with_cred,
    struct tool_err *err)
{
	int r;

	if ((r = tool_pg_x_start(g, call, method, err)) < 0)
		return r;
	if ((!url_has_api_v4(tool_pg_endpoint_str(call, "url")) &&
	    (r = tool_pg_x_lit(g, "/api/v4", err)) < 0) ||
	    (r = tool_pg_x_lit(g, "/projects", err)) < 0 ||
	    (r = gl_project(g, tool_pg_arg_str(call, "project_id"), err)) < 0)
		return r;
	return with_cred ? tool_pg_x_bearer(g, call, err) : 0;
}

/* /projects/<id><lit>/<the integer argument name>, with the credential. */
static int
gl_start_id(struct tool_pg_x *g, const struct tool_call *call, const char *method,
    const char *lit, const char *name, struct tool_err *err)
{
	int r;

	if ((r = gl_start(g, call, method, true, err)) < 0 || (r = tool_pg_x_lit(g, lit, err)) < 0)
		return r;
	return tool_pg_seg_int(&g->req, tool_pg_arg_int(call, name, 0), err);
}

/* extra: another secret to scrub from the result and the error (the caller's trigger token). */
static int
gl_end(struct tool_pg_x *g, const struct tool_call *call, int r, json_t **result,
    struct tool_err *err, const char *extra)
{
	struct tool_pg_cred tok = { .alt = (char *)extra, .alt_len = extra ? strlen(extra) : 0 };

	r = tool_pg_x_end(g, call, r, result);
	if (r == 0 && *result != NULL && extra != NULL)
		tool_pg_scrub(result, call, &tok);
	if (r < 0 && extra != NULL)
		tool_pg_scrub_text(err->text, sizeof(err->text), call, &tok);
	return r;
}

/* ------------------------------------------------------------------ shaping */

static const char *const pipeline_fields[] = {
	"id", "iid", "project_id", "name", "status", "source", "ref", "sha", "before_sha", "tag",
	"yaml_errors", "user.username", "created_at", "updated_at", "started_at", "finished_at",
	"committed_at", "duration", "queued_duration", "coverage", "web_url",
	"detailed_status.text", "detailed_status.label", "detailed_status.group", NULL
};
static const char *const job_fields[] = {
	"id", "name", "stage", "status", "ref", "tag", "allow_failure", "created_at",
	"started_at", "finished_at", "duration", "queued_duration", "failure_reason", "web_url",
	"user.username", "runner.description", "pipeline.id", "commit.id", "commit.title",
	"artifacts", "artifacts_expire_at", "downstream_pipeline.id",
	"downstream_pipeline.status", NULL
};

static json_t *
shape_pipeline(json_t *it)
{
	return tool_pg_pick(it, pipeline_fields);
}

static json_t *
shape_job(json_t *it)
{
	return tool_pg_pick(it, job_fields);
}

/* ------------------------------------------------------------------ common runs */

static int
gl_list(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *g,
    const char *out_key, json_t *(*shape)(json_t *), json_t **result, struct tool_err *err)
{
	const struct tool_pg_list l = {
		.per_page = 20, .cursor = TOOL_PG_XNEXT, .key = NULL, .out_key = out_key,
		.shape = shape,
	};

	return tool_pg_x_list(io, call, g, &l, result, err);
}

/* A mutating POST: dry run, or send, check the success set and shape the pipeline answered. */
static int
gl_post(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *g, int ok_status,
    json_t *dry_body, json_t **result, struct tool_err *err)
{
	json_t *j;
	int r;

	if ((r = tool_pg_x_send(io, call, g, &ok_status, 1, dry_body, result, err)) < 0 ||
	    call->dry_run || (r = tool_pg_json(&g->resp, &j, err)) < 0)
		return r;
	*result = shape_pipeline(j);
	json_decref(j);
	return tool_pg_made(*result, err);
}

/* GET /projects/<id><lit>/<the integer argument name>: one object, shaped. */
static int
gl_get_by_id(struct tool_io *io, const struct tool_call *call, const char *lit,
    const char *name, json_t *(*shape)(json_t *), json_t **result, struct tool_err *err)
{
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gl_start_id(&g, call, "GET", lit, name, err)) < 0)
		goto out;
	r = tool_pg_x_get_one(io, call, &g, shape, result, err);
out:
	return gl_end(&g, call, r, result, err, NULL);
}

/* ------------------------------------------------------------------ pipelines and jobs */

static int
gl_list_pipelines(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const char *const q[] = { "ref", "status", "scope", "sha", "source", "name",
	    "username", "updated_after", "updated_before", "created_after", "created_before",
	    "yaml_errors", "order_by", "sort", NULL };
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gl_start(&g, call, "GET", true, err)) < 0 ||
	    (r = tool_pg_x_lit(&g, "/pipelines", err)) < 0 ||
	    (r = tool_pg_x_query_args(&g, call, q, err)) < 0)
		goto out;
	r = gl_list(io, call, &g, "pipelines", shape_pipeline, result, err);
out:
	return gl_end(&g, call, r, result, err, NULL);
}

static int
gl_get_pipeline(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	return gl_get_by_id(io, call, "/pipelines", "pipeline_id", shape_pipeline, result, err);
}

static const char *const job_scopes[] = { "canceled", "canceling", "created", "failed",
	"manual", "pending", "preparing", "running", "scheduled", "skipped", "success",
	"waiting_for_callback", "waiting_for_resource", NULL };

/* scope[] is repeatable: one query entry per value, each checked against the enum (the schema
 * checks arrays for type and size only). */
static int
gl_scopes(struct tool_pg_x *g, const struct tool_call *call, struct tool_err *err)
{
	json_t *v;
	size_t i;
	int r;

	json_array_foreach(json_object_get(call->args, "scope"), i, v) {
		const char *s = json_string_value(v);
		size_t k;

		for (k = 0; s != NULL && job_scopes[k] != NULL; k++)
			if (strcmp(job_scopes[k], s) == 0)
				break;
		if (s == NULL || job_scopes[k] == NULL)
			return tool_pg_fail(err, ERR_SCHEMA, "scope[%zu]: not a job status", i);
		if ((r = tool_pg_query(&g->req, "scope[]", s, err)) < 0)
			return r;
	}
	return 0;
}

/* Jobs of a pipeline; trigger (bridge) jobs are not in /jobs, so include_bridges adds the
 * /bridges list. */
static int
gl_get_pipeline_jobs(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const char *const q[] = { "include_retried", NULL };
	json_t *bridges = NULL;
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gl_start_id(&g, call, "GET", "/pipelines", "pipeline_id", err)) < 0)
		goto out;
	if (tool_pg_arg_bool(call, "include_bridges", false)) {
		struct tool_pg_x b;

		if ((r = gl_start_id(&b, call, "GET", "/pipelines", "pipeline_id", err)) == 0 &&
		    (r = tool_pg_x_lit(&b, "/bridges", err)) == 0)
			r = gl_list(io, call, &b, "bridges", shape_job, &bridges, err);
		gl_end(&b, call, r, &bridges, err, NULL);
		if (r < 0)
			goto out;
	}
	if ((r = tool_pg_x_lit(&g, "/jobs", err)) < 0 || (r = gl_scopes(&g, call, err)) < 0 ||
	    (r = tool_pg_x_query_args(&g, call, q, err)) < 0 ||
	    (r = gl_list(io, call, &g, "jobs", shape_job, result, err)) < 0)
		goto out;
	if (bridges != NULL)
		json_object_set(*result, "bridges", json_object_get(bridges, "bridges"));
out:
	json_decref(bridges);
	return gl_end(&g, call, r, result, err, NULL);
}

static int
gl_get_job(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	return gl_get_by_id(io, call, "/jobs", "job_id", shape_job, result, err);
}

/* The raw trace (ANSI colour codes removed by default), tail first. */
static int
gl_get_job_logs(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gl_start_id(&g, call, "GET", "/jobs", "job_id", err)) < 0 ||
	    (r = tool_pg_x_lit(&g, "/trace", err)) < 0)
		goto out;
	*result = json_pack("{s:I}", "job_id", (json_int_t)tool_pg_arg_int(call, "job_id", 0));
	r = tool_pg_x_log(io, call, &g, HTTP_F_FOLLOW, tool_pg_arg_bool(call, "strip_ansi", true),
	    *result, err);
out:
	return gl_end(&g, call, r, result, err, NULL);
}

static int
gl_pipeline_action(struct tool_io *io, const struct tool_call *call, const char *what,
    int ok_status, json_t **result, struct tool_err *err)
{
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gl_start_id(&g, call, "POST", "/pipelines", "pipeline_id", err)) < 0 ||
	    (r = tool_pg_x_lit(&g, what, err)) < 0)
		goto out;
	r = gl_post(io, call, &g, ok_status, NULL, result, err);
out:
	return gl_end(&g, call, r, result, err, NULL);
}

/* Retries the failed and canceled jobs only: 201 with the pipeline. */
static int
gl_retry_pipeline(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	return gl_pipeline_action(io, call, "/retry", 201, result, err);
}

/* 200 whatever the pipeline state (explicit in lib/api/ci/pipelines.rb). */
static int
gl_cancel_pipeline(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	return gl_pipeline_action(io, call, "/cancel", 200, result, err);
}

/* ------------------------------------------------------------------ trigger */

/* GitLab CI variable names: letters, digits and '_' only. */
static bool
var_key_ok(const char *k)
{
	size_t n = 0;

	for (; k[n]; n++)
		if (!((k[n] >= 'A' && k[n] <= 'Z') || (k[n] >= 'a' && k[n] <= 'z') ||
		    (k[n] >= '0' && k[n] <= '9') || k[n] == '_'))
			return false;
	return n > 0 && n <= 255;
}

/* A variable value as text: strings as they are, numbers and booleans as JSON text. */
static char *
var_text(json_t *v)
{
	return json_is_string(v) ? strdup(json_string_value(v)) :
	    json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* User token: POST /projects/:id/pipeline {"ref", "variables":[{key,value}], "inputs"}. */
static int
gl_trigger_body_json(struct tool_pg_x *g, const struct tool_call *call, struct tool_err *err)
{
	json_t *vars = json_object_get(call->args, "variables"), *v, *arr = json_array();
	json_t *body = json_pack("{s:s}", "ref", tool_pg_arg_str(call, "ref"));
	const char *k;

	if (body == NULL || arr == NULL) {
		json_decref(body);
		json_decref(arr);
		return tool_pg_fail(err, -ENOMEM, "out of memory");
	}
	json_object_foreach(vars, k, v) {
		char *t = var_text(v);

		json_array_append_new(arr, json_pack("{s:s, s:s}", "key", k, "value", t ? t : ""));
		free(t);
	}
	if (json_object_size(vars) > 0)
		json_object_set(body, "variables", arr);
	if (json_is_object(json_object_get(call->args, "inputs")))
		json_object_set(body, "inputs", json_object_get(call->args, "inputs"));
	json_decref(arr);
	return tool_pg_x_json_body(g, body, err);
}

/* Trigger token: POST /projects/:id/trigger/pipeline, form token=..&ref=..&variables[K]=v.
 * *view receives the same fields with the token redacted, for dry runs. */
static int
gl_trigger_body_form(struct tool_pg_x *g, const struct tool_call *call, json_t **view,
    struct tool_err *err)
{
	json_t *vars = json_object_get(call->args, "variables"), *v, *vv = json_object();
	const char *k;
	int r;

	*view = json_pack("{s:s, s:s, s:o}", "token", "[REDACTED]", "ref",
	    tool_pg_arg_str(call, "ref"), "variables", vv);
	if ((r = tool_pg_form_add(&g->body, "token", tool_pg_arg_str(call, "token"))) < 0 ||
	    (r = tool_pg_form_add(&g->body, "ref", tool_pg_arg_str(call, "ref"))) < 0)
		return tool_pg_fail(err, r, "request body too large");
	json_object_foreach(vars, k, v) {
		char name[300], *t = var_text(v);

		snprintf(name, sizeof(name), "variables[%s]", k);
		r = tool_pg_form_add(&g->body, name, t ? t : "");
		json_object_set_new(vv, k, json_string(t ? t : ""));
		free(t);
		if (r < 0)
			return tool_pg_fail(err, r, "request body too large");
	}
	g->req.body = g->body.p;
	g->req.body_len = g->body.len;
	g->req.content_type = "application/x-www-form-urlencoded";
	return 0;
}

static int
gl_trigger_pipeline(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	const char *token = tool_pg_arg_str(call, "token"), *k;
	json_t *view = NULL, *v;
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gl_start(&g, call, "POST", token == NULL, err)) < 0)
		goto out;
	json_object_foreach(json_object_get(call->args, "variables"), k, v)
		if (!var_key_ok(k)) {
			r = tool_pg_fail(err, ERR_SCHEMA, "variables: bad variable name '%.64s'", k);
			goto out;
		}
	if (token != NULL)
		r = tool_pg_x_lit(&g, "/trigger/pipeline", err) < 0 ? ERR_TOOBIG :
		    gl_trigger_body_form(&g, call, &view, err);
	else
		r = tool_pg_x_lit(&g, "/pipeline", err) < 0 ? ERR_TOOBIG :
		    gl_trigger_body_json(&g, call, err);
	if (r < 0)
		goto out;
	r = gl_post(io, call, &g, 201, view, result, err);
	view = NULL;
out:
	json_decref(view);
	return gl_end(&g, call, r, result, err, token);
}

/* ------------------------------------------------------------------ artifacts */

/* One file of the job's artifacts (artifact_path, '/' kept), or the whole zip without it.
 * Text comes back as text; anything else as base64 (zips with their file list). */
static int
gl_artifact_content(const struct tool_call *call, struct tool_pg_x *g, json_t *out)
{
	const char *b = g->resp.body;
	json_t *files;
	char *b64;

	if (g->resp.truncated) {
		json_object_set_new(out, "withheld", json_string("larger than max_bytes"));
		return 0;
	}
	if (tool_pg_holds_secret(call, &g->cred, b, g->resp.len)) {
		json_object_set_new(out, "withheld",
		    json_string("the content holds the endpoint credential"));
		return 0;
	}
	json_object_set_new(out, "bytes", json_integer((json_int_t)g->resp.len));
	if ((files = tool_pg_zip_list((const unsigned char *)b, g->resp.len)) == NULL &&
	    tool_pg_is_text(b, g->resp.len)) {
		json_object_set_new(out, "content", json_stringn(b ? b : "", g->resp.len));
		return 0;
	}
	if (tool_pg_b64((const unsigned char *)b, g->resp.len, &b64, NULL) < 0) {
		json_decref(files);
		return -ENOMEM;
	}
	json_object_set_new(out, "content_base64", json_string(b64));
	json_object_set_new(out, "files", files ? files : json_null());
	free(b64);
	return 0;
}

static int
gl_download_artifact(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const int ok[] = { 200 };
	const char *path = tool_pg_arg_str(call, "artifact_path");
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gl_start_id(&g, call, "GET", "/jobs", "job_id", err)) < 0 ||
	    (r = tool_pg_x_lit(&g, "/artifacts", err)) < 0 ||
	    (path != NULL && (r = tool_pg_segs(&g.req, "artifact_path", path, err)) < 0))
		goto out;
	g.req.flags |= HTTP_F_FOLLOW | HTTP_F_RAW;
	g.req.max_body = (size_t)tool_pg_arg_int(call, "max_bytes", TOOL_PG_BLOB_DEFAULT);
	tool_pg_ok(&g.req, ok, 1);
	if ((r = tool_pg_exchange(io, call, &g.req, &g.resp, err)) < 0)
		goto out;
	*result = json_pack("{s:I, s:s?}", "job_id",
	    (json_int_t)tool_pg_arg_int(call, "job_id", 0), "artifact_path", path);
	if (*result == NULL || gl_artifact_content(call, &g, *result) < 0)
		r = tool_pg_fail(err, -ENOMEM, "out of memory");
out:
	return gl_end(&g, call, r, result, err, NULL);
}

/* ------------------------------------------------------------------ schema */

/* A path component is never only dots ("." and ".." would climb). */
#define COMP_RX		"[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*"
#define PROJECT_RX	"[0-9]+|" COMP_RX "(/" COMP_RX ")*"
#define DATE_RX		"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9:]+)?)?"
#define ID_MAX		INT64_MAX

#define P_PROJECT { .name = "project_id", .type = TP_STRING, .required = true, \
	.pattern = PROJECT_RX, .max_len = 1024, \
	.desc = "Numeric project ID, or the full path (group/subgroup/project)" }
#define P_ID(n, d) { .name = n, .type = TP_INT, .required = true, .min = 1, .max = ID_MAX, \
	.desc = d }
#define P_PER_PAGE { .name = "per_page", .type = TP_INT, .def = "20", .min = 1, .max = 100, \
	.desc = "Results per page (max 100)" }
#define P_PAGE { .name = "page", .type = TP_INT, .def = "1", .min = 1, .max = 1000000, \
	.desc = "First page to fetch" }
#define P_MAX_PAGES { .name = "max_pages", .type = TP_INT, .def = "1", .min = 1, \
	.max = LIM_HTTP_PAGES_MAX, .desc = "Pages to fetch at most, following x-next-page" }
#define P_DATE(n, d) { .name = n, .type = TP_STRING, .pattern = DATE_RX, .max_len = 40, \
	.desc = d }

static const char *const pipeline_status[] = { "created", "waiting_for_resource",
	"preparing", "pending", "running", "success", "failed", "canceled", "skipped", "manual",
	"scheduled", NULL };
static const char *const pipeline_scope[] = { "running", "pending", "finished", "branches",
	"tags", NULL };
static const char *const order_by[] = { "id", "status", "ref", "updated_at", "user_id", NULL };
static const char *const sort_dir[] = { "asc", "desc", NULL };

static const struct tool_param p_list_pipelines[] = {
	P_PROJECT,
	{ .name = "ref", .type = TP_STRING, .max_len = 255, .desc = "Branch or tag" },
	{ .name = "status", .type = TP_STRING, .enums = pipeline_status,
	  .desc = "Pipeline status" },
	{ .name = "scope", .type = TP_STRING, .enums = pipeline_scope,
	  .desc = "running, pending, finished, branches or tags" },
	{ .name = "sha", .type = TP_STRING, .pattern = "[0-9a-fA-F]{4,64}", .desc = "Commit SHA" },
	{ .name = "source", .type = TP_STRING, .pattern = "[a-z_]+", .max_len = 64,
	  .desc = "Pipeline source (push, web, trigger, schedule, parent_pipeline, ...)" },
	{ .name = "name", .type = TP_STRING, .max_len = 255, .desc = "Pipeline name" },
	{ .name = "username", .type = TP_STRING, .pattern = "[A-Za-z0-9_.-]+", .max_len = 255,
	  .desc = "User who triggered the pipelines" },
	P_DATE("updated_after", "ISO 8601 date-time"),
	P_DATE("updated_before", "ISO 8601 date-time"),
	P_DATE("created_after", "ISO 8601 date-time"),
	P_DATE("created_before", "ISO 8601 date-time"),
	{ .name = "yaml_errors", .type = TP_BOOL, .desc = "Only pipelines with invalid config" },
	{ .name = "order_by", .type = TP_STRING, .enums = order_by, .desc = "Sort key" },
	{ .name = "sort", .type = TP_STRING, .enums = sort_dir, .desc = "asc or desc" },
	P_PER_PAGE, P_PAGE, P_MAX_PAGES,
	{ 0 }
};
static const struct tool_param p_pipeline[] = {
	P_PROJECT, P_ID("pipeline_id", "Pipeline ID"),
	{ 0 }
};
static const struct tool_param p_pipeline_jobs[] = {
	P_PROJECT, P_ID("pipeline_id", "Pipeline ID"),
	{ .name = "scope", .type = TP_ARRAY, .max_len = 13,
	  .desc = "Job statuses to list (failed, success, running, manual, ...)" },
	{ .name = "include_retried", .type = TP_BOOL, .def = "false",
	  .desc = "Include retried jobs" },
	{ .name = "include_bridges", .type = TP_BOOL, .def = "false",
	  .desc = "Also list trigger (bridge) jobs, which /jobs leaves out" },
	P_PER_PAGE, P_PAGE, P_MAX_PAGES,
	{ 0 }
};
static const struct tool_param p_job[] = {
	P_PROJECT, P_ID("job_id", "Job ID"),
	{ 0 }
};
static const struct tool_param p_job_logs[] = {
	P_PROJECT, P_ID("job_id", "Job ID"),
	{ .name = "max_bytes", .type = TP_INT, .def = "65536", .min = 1024,
	  .max = TOOL_PG_LOG_MAX, .desc = "Bytes of the end of the log to return" },
	{ .name = "strip_ansi", .type = TP_BOOL, .def = "true",
	  .desc = "Remove ANSI colour codes" },
	{ 0 }
};
static const struct tool_param p_trigger[] = {
	P_PROJECT,
	{ .name = "ref", .type = TP_STRING, .required = true, .pattern = "[A-Za-z0-9_./@+-]+",
	  .max_len = 255, .desc = "Branch or tag to run the pipeline for" },
	{ .name = "variables", .type = TP_OBJECT, .max_len = 100,
	  .desc = "CI/CD variables, name -> value" },
	{ .name = "inputs", .type = TP_OBJECT, .max_len = 100,
	  .desc = "Pipeline inputs (GitLab >= 17.10; not with token)" },
	{ .name = "token", .type = TP_STRING, .pattern = "[A-Za-z0-9_.-]+", .max_len = 255,
	  .flags = TP_F_SECRETISH,
	  .desc = "Pipeline trigger token: use the trigger endpoint instead of the user token" },
	{ 0 }
};
static const struct tool_param p_download[] = {
	P_PROJECT, P_ID("job_id", "Job ID"),
	{ .name = "artifact_path", .type = TP_STRING, .pattern = "[^/]*[^/.][^/]*(/[^/]*[^/.][^/]*)*",
	  .max_len = 1024, .desc = "File inside the artifacts (dist/report.json); the whole zip "
	  "when absent" },
	{ .name = "max_bytes", .type = TP_INT, .def = "1048576", .min = 1024,
	  .max = TOOL_PG_BLOB_MAX, .desc = "Largest content to return" },
	{ 0 }
};

#define RO	TOOL_F_IDEMPOTENT
#define RW	(TOOL_F_MUTATING | TOOL_F_DRY_RUN)

static const struct tool_op gl_ops[] = {
	{ "list_pipelines", "List the pipelines of a project", RO, p_list_pipelines, 0,
	  gl_list_pipelines },
	{ "get_pipeline", "Get one pipeline", RO, p_pipeline, 0, gl_get_pipeline },
	{ "get_pipeline_jobs", "List the jobs of a pipeline", RO, p_pipeline_jobs, 0,
	  gl_get_pipeline_jobs },
	{ "get_job", "Get one job", RO, p_job, 0, gl_get_job },
	{ "get_job_logs", "Get the end of a job's log (trace)", RO, p_job_logs, 0,
	  gl_get_job_logs },
	{ "retry_pipeline", "Retry the failed and canceled jobs of a pipeline", RW, p_pipeline, 0,
	  gl_retry_pipeline },
	{ "cancel_pipeline", "Cancel the running jobs of a pipeline", RW, p_pipeline, 0,
	  gl_cancel_pipeline },
	{ "trigger_pipeline", "Create a pipeline on a ref, with variables", RW, p_trigger, 0,
	  gl_trigger_pipeline },
	{ "download_artifact", "Download a job artifact file, or the job's artifacts zip", RO,
	  p_download, 0, gl_download_artifact },
	{ 0 }
};

const struct tool_family tool_fam_gitlab_ci = {
	.name = "gitlab_ci",
	.desc = "GitLab CI pipelines, jobs, logs and artifacts (REST v4)",
	.kind = TOOL_KIND_HTTP,
	.ops = gl_ops,
};
