/* The github_actions family: workflow runs, jobs, logs and artifacts of GitHub Actions, plus the
 * release operations the release-manager agent needs (list/create releases, compare commits).
 *
 * Contract: shared/specs/github-actions-subset.json and CONTRACTS.md section 3 (copies under
 * tests/tools/contracts/); the release operations follow docs.github.com "REST API endpoints for
 * releases" and "Compare two commits". Per-op notes: docs/HTTP-FAMILIES.md.
 *
 * The endpoint URL is the API root: https://api.github.com, or https://HOST/api/v3 for GitHub
 * Enterprise Server; every path here starts at /repos. Logs and artifact archives answer 302 to
 * a storage host valid for a minute: the client follows it (HTTP_F_FOLLOW, the endpoint's
 * redirect_hosts) without the credential, and the result carries the content, never the URL.
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
#include "tools/relplan.h"

#define GH_ACCEPT	"application/vnd.github+json"
#define GH_API_VERSION	"2022-11-28"
#define GH_IGNORED_BODY_MAX	(64u << 10)	/* answers whose body is not used ({} of 201/202) */

/* /repos/{owner}/{repo}[sub] with GitHub's media type, API version and the Bearer credential. */
static int
gh_start(struct tool_pg_x *g, const struct tool_call *call, const char *method,
    const char *sub, struct tool_err *err)
{
	int r;

	if ((r = tool_pg_x_start(g, call, method, err)) < 0)
		return r;
	/* RAW on every request: the client then adds no "Accept: application/json" of its own
	 * next to GitHub's media type; JSON bodies are parsed here (tool_pg_json), and a body
	 * over the cap is still an error there. */
	g->req.flags |= HTTP_F_RAW;
	if ((r = tool_pg_x_lit(g, "/repos", err)) < 0 ||
	    (r = tool_pg_seg(&g->req, "owner", tool_pg_arg_str(call, "owner"), err)) < 0 ||
	    (r = tool_pg_seg(&g->req, "repo", tool_pg_arg_str(call, "repo"), err)) < 0 ||
	    (sub != NULL && (r = tool_pg_x_lit(g, sub, err)) < 0))
		return r;
	if ((r = http_header_add(&g->req, "Accept", GH_ACCEPT)) < 0 ||
	    (r = http_header_add(&g->req, "X-GitHub-Api-Version", GH_API_VERSION)) < 0)
		return tool_pg_fail(err, r, "cannot add headers");
	return tool_pg_x_bearer(g, call, err);
}

/* ------------------------------------------------------------------ shaping */

static const char *const run_fields[] = {
	"id", "name", "display_title", "run_number", "run_attempt", "event", "status",
	"conclusion", "workflow_id", "head_branch", "head_sha", "path", "html_url", "created_at",
	"updated_at", "run_started_at", "actor.login", "triggering_actor.login",
	"head_commit.message", NULL
};
static const char *const job_fields[] = {
	"id", "run_id", "run_attempt", "name", "workflow_name", "head_branch", "head_sha",
	"status", "conclusion", "started_at", "completed_at", "html_url", "runner_name", "labels",
	NULL
};
static const char *const step_fields[] = {
	"number", "name", "status", "conclusion", "started_at", "completed_at", NULL
};
static const char *const artifact_fields[] = {
	"id", "name", "size_in_bytes", "expired", "created_at", "updated_at", "expires_at",
	"digest", "workflow_run.id", "workflow_run.head_branch", "workflow_run.head_sha", NULL
};
static const char *const release_fields[] = {
	"id", "tag_name", "name", "draft", "prerelease", "target_commitish", "created_at",
	"published_at", "html_url", "author.login", "body", NULL
};
static const char *const compare_fields[] = {
	"status", "ahead_by", "behind_by", "total_commits", "html_url", "base_commit.sha",
	"merge_base_commit.sha", NULL
};
static const char *const commit_fields[] = {
	"sha", "commit.message", "commit.author.name", "commit.author.date", "author.login", NULL
};
static const char *const file_fields[] = {
	"filename", "status", "additions", "deletions", NULL
};

#define GH_FILES_MAX	300

static json_t *
shape_run(json_t *it)
{
	return tool_pg_pick(it, run_fields);
}

static json_t *
shape_job(json_t *it)
{
	json_t *o = tool_pg_pick(it, job_fields);

	json_object_set_new(o, "steps", tool_pg_pick_all(json_object_get(it, "steps"),
	    step_fields));
	return o;
}

static json_t *
shape_artifact(json_t *it)
{
	return tool_pg_pick(it, artifact_fields);
}

static json_t *
shape_release(json_t *it)
{
	return tool_pg_pick(it, release_fields);
}

static json_t *
shape_compare(json_t *it)
{
	json_t *o = tool_pg_pick(it, compare_fields), *files = json_array(), *f;
	json_t *all = json_object_get(it, "files");
	size_t i;

	json_object_set_new(o, "commits", tool_pg_pick_all(json_object_get(it, "commits"),
	    commit_fields));
	json_array_foreach(all, i, f) {
		if (i >= GH_FILES_MAX)
			break;
		json_array_append_new(files, tool_pg_pick(f, file_fields));
	}
	json_object_set_new(o, "files", files);
	json_object_set_new(o, "files_total", json_integer((json_int_t)json_array_size(all)));
	return o;
}

/* ------------------------------------------------------------------ common runs */

static int
gh_list(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *g, const char *key,
    const char *out_key, json_t *(*shape)(json_t *), json_t **result, struct tool_err *err)
{
	const struct tool_pg_list l = {
		.per_page = 30, .cursor = TOOL_PG_LINK, .key = key, .out_key = out_key,
		.shape = shape,
	};

	return tool_pg_x_list(io, call, g, &l, result, err);
}

/* GET sub/<the integer argument id_name>[?q...]: one object, shaped. */
static int
gh_get_by_id(struct tool_io *io, const struct tool_call *call, const char *sub,
    const char *id_name, const char *const *q, json_t *(*shape)(json_t *), json_t **result,
    struct tool_err *err)
{
	static const char *const none[] = { NULL };
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gh_start(&g, call, "GET", sub, err)) < 0 ||
	    (r = tool_pg_seg_int(&g.req, tool_pg_arg_int(call, id_name, 0), err)) < 0 ||
	    (r = tool_pg_x_query_args(&g, call, q ? q : none, err)) < 0)
		goto out;
	r = tool_pg_x_get_one(io, call, &g, shape, result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

/* ------------------------------------------------------------------ runs and jobs */

static int
gh_list_workflow_runs(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const char *const q[] = { "branch", "event", "status", "actor", "created",
	    "head_sha", "exclude_pull_requests", "check_suite_id", NULL };
	const char *wf = tool_pg_arg_str(call, "workflow_id");
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gh_start(&g, call, "GET", "/actions", err)) < 0)
		goto out;
	if (wf != NULL && ((r = tool_pg_x_lit(&g, "/workflows", err)) < 0 ||
	    (r = tool_pg_seg(&g.req, "workflow_id", wf, err)) < 0))
		goto out;
	if ((r = tool_pg_x_lit(&g, "/runs", err)) < 0 ||
	    (r = tool_pg_x_query_args(&g, call, q, err)) < 0)
		goto out;
	r = gh_list(io, call, &g, "workflow_runs", "workflow_runs", shape_run, result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

static int
gh_get_workflow_run(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const char *const q[] = { "exclude_pull_requests", NULL };

	return gh_get_by_id(io, call, "/actions/runs", "run_id", q, shape_run, result, err);
}

static int
gh_list_jobs(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const char *const q[] = { "filter", NULL };
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gh_start(&g, call, "GET", "/actions/runs", err)) < 0 ||
	    (r = tool_pg_seg_int(&g.req, tool_pg_arg_int(call, "run_id", 0), err)) < 0 ||
	    (r = tool_pg_x_lit(&g, "/jobs", err)) < 0 ||
	    (r = tool_pg_x_query_args(&g, call, q, err)) < 0)
		goto out;
	r = gh_list(io, call, &g, "jobs", "jobs", shape_job, result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

static int
gh_get_job(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	return gh_get_by_id(io, call, "/actions/jobs", "job_id", NULL, shape_job, result, err);
}

/* 302 to a one-minute plain-text URL: followed without the credential; the tail is returned
 * because a failure is usually at the end of a log. */
static int
gh_get_job_logs(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	int64_t job = tool_pg_arg_int(call, "job_id", 0);
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gh_start(&g, call, "GET", "/actions/jobs", err)) < 0 ||
	    (r = tool_pg_seg_int(&g.req, job, err)) < 0 ||
	    (r = tool_pg_x_lit(&g, "/logs", err)) < 0)
		goto out;
	*result = json_pack("{s:I}", "job_id", (json_int_t)job);
	r = tool_pg_x_log(io, call, &g, HTTP_F_FOLLOW, false, *result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

/* POST /actions/runs/<run_id><what> with an optional JSON body (stolen); the answer's body is
 * not used. After it: *result NULL to be filled in, or the dry-run description. */
static int
gh_run_post(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *g,
    const char *what, int ok, json_t *body, json_t **result, struct tool_err *err)
{
	int r;

	if ((r = gh_start(g, call, "POST", "/actions/runs", err)) < 0 ||
	    (r = tool_pg_seg_int(&g->req, tool_pg_arg_int(call, "run_id", 0), err)) < 0 ||
	    (r = tool_pg_x_lit(g, what, err)) < 0 ||
	    (body != NULL && (r = tool_pg_x_json_body(g, json_incref(body), err)) < 0))
		return r;
	g->req.max_body = GH_IGNORED_BODY_MAX;
	return tool_pg_x_send(io, call, g, &ok, 1, NULL, result, err);
}

static int
gh_cancel_workflow_run(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	bool force = tool_pg_arg_bool(call, "force", false);
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gh_run_post(io, call, &g, force ? "/force-cancel" : "/cancel", 202, NULL, result,
	    err)) < 0 || call->dry_run)
		goto out;
	*result = json_pack("{s:I, s:s, s:b}", "run_id",
	    (json_int_t)tool_pg_arg_int(call, "run_id", 0), "status", "cancel_requested", "force",
	    force);
	r = tool_pg_made(*result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

static int
gh_rerun(struct tool_io *io, const struct tool_call *call, const char *what, json_t **result,
    struct tool_err *err)
{
	static const char dbg[] = "enable_debug_logging";
	json_t *body = NULL;
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if (tool_pg_arg_has(call, dbg) &&
	    (body = json_pack("{s:b}", dbg, tool_pg_arg_bool(call, dbg, false))) == NULL) {
		memset(&g, 0, sizeof(g));
		r = tool_pg_fail(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = gh_run_post(io, call, &g, what, 201, body, result, err)) < 0 || call->dry_run)
		goto out;
	*result = json_pack("{s:I, s:s}", "run_id", (json_int_t)tool_pg_arg_int(call, "run_id", 0),
	    "status",
	    strcmp(what, "/rerun") == 0 ? "rerun_requested" : "failed_jobs_rerun_requested");
	r = tool_pg_made(*result, err);
out:
	json_decref(body);
	return tool_pg_x_end(&g, call, r, result);
}

static int
gh_rerun_workflow(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	return gh_rerun(io, call, "/rerun", result, err);
}

static int
gh_rerun_failed_jobs(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	return gh_rerun(io, call, "/rerun-failed-jobs", result, err);
}

/* 204 without a body, or 200 {workflow_run_id, run_url, html_url} with return_run_details. */
static int
gh_trigger_workflow(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const int ok[] = { 200, 204 };
	static const char *const fields[] = { "workflow_run_id", "run_url", "html_url", NULL };
	const char *wf = tool_pg_arg_str(call, "workflow_id");
	json_t *body, *inputs = json_object_get(call->args, "inputs"), *j;
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gh_start(&g, call, "POST", "/actions/workflows", err)) < 0 ||
	    (r = tool_pg_seg(&g.req, "workflow_id", wf, err)) < 0 ||
	    (r = tool_pg_x_lit(&g, "/dispatches", err)) < 0)
		goto out;
	body = json_pack("{s:s}", "ref", tool_pg_arg_str(call, "ref"));
	if (body != NULL && json_is_object(inputs))
		json_object_set(body, "inputs", inputs);
	if (body != NULL && tool_pg_arg_bool(call, "return_run_details", true))
		json_object_set_new(body, "return_run_details", json_true());
	if ((r = tool_pg_x_json_body(&g, body, err)) < 0 ||
	    (r = tool_pg_x_send(io, call, &g, ok, 2, NULL, result, err)) < 0 || call->dry_run)
		goto out;
	if (g.resp.status == 200) {
		if ((r = tool_pg_json(&g.resp, &j, err)) < 0)
			goto out;
		*result = tool_pg_pick(j, fields);
		json_decref(j);
	} else {
		*result = json_pack("{s:n}", "workflow_run_id");
	}
	if (*result != NULL)
		json_object_set_new(*result, "dispatched", json_true());
	r = tool_pg_made(*result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

/* ------------------------------------------------------------------ artifacts */

static int
gh_list_artifacts(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const char *const q[] = { "name", NULL };
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gh_start(&g, call, "GET", "/actions", err)) < 0)
		goto out;
	if (tool_pg_arg_has(call, "run_id") && ((r = tool_pg_x_lit(&g, "/runs", err)) < 0 ||
	    (r = tool_pg_seg_int(&g.req, tool_pg_arg_int(call, "run_id", 0), err)) < 0))
		goto out;
	if ((r = tool_pg_x_lit(&g, "/artifacts", err)) < 0 ||
	    (r = tool_pg_x_query_args(&g, call, q, err)) < 0)
		goto out;
	r = gh_list(io, call, &g, "artifacts", "artifacts", shape_artifact, result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

/* Why the archive is not downloaded, from its metadata, or NULL. */
static const char *
artifact_skip(json_t *meta, size_t max)
{
	json_t *size = json_object_get(meta, "size_in_bytes");

	if (json_is_true(json_object_get(meta, "expired")))
		return "the artifact has expired";
	if (json_is_integer(size) && json_integer_value(size) > (json_int_t)max)
		return "the artifact is larger than max_bytes";
	return NULL;
}

/* The archive body -> {content_base64, bytes, files} into out, or a reason it is withheld. */
static int
artifact_content(const struct tool_call *call, struct tool_pg_x *g, json_t *out,
    struct tool_err *err)
{
	const unsigned char *p = (const unsigned char *)g->resp.body;
	json_t *files;
	char *b64;
	int r;

	if (g->resp.truncated)
		return json_object_set_new(out, "withheld", json_string(
		    "the archive is larger than max_bytes")), 0;
	if (tool_pg_holds_secret(call, &g->cred, g->resp.body, g->resp.len))
		return json_object_set_new(out, "withheld", json_string(
		    "the content holds the endpoint credential")), 0;
	if ((r = tool_pg_b64(p, g->resp.len, &b64, NULL)) < 0)
		return tool_pg_fail(err, r, "out of memory");
	json_object_set_new(out, "content_base64", json_string(b64));
	free(b64);
	json_object_set_new(out, "bytes", json_integer((json_int_t)g->resp.len));
	files = tool_pg_zip_list(p, g->resp.len);
	json_object_set_new(out, "files", files ? files : json_null());
	return 0;
}

static int
gh_download_artifact(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const int ok[] = { 200 };
	int64_t id = tool_pg_arg_int(call, "artifact_id", 0);
	size_t max = (size_t)tool_pg_arg_int(call, "max_bytes", TOOL_PG_BLOB_DEFAULT);
	const char *skip;
	json_t *meta = NULL;
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gh_start(&g, call, "GET", "/actions/artifacts", err)) < 0 ||
	    (r = tool_pg_seg_int(&g.req, id, err)) < 0 ||
	    (r = tool_pg_x_get_one(io, call, &g, shape_artifact, &meta, err)) < 0)
		goto out;
	*result = json_pack("{s:O, s:n}", "artifact", meta, "content_base64");
	if ((skip = artifact_skip(meta, max)) != NULL) {
		json_object_set_new(*result, "withheld", json_string(skip));
		r = 0;
		goto out;
	}
	http_resp_clear(&g.resp);
	/* the archive: /zip (the only archive_format), 302 to storage, followed */
	if ((r = tool_pg_x_lit(&g, "/zip", err)) < 0)
		goto out;
	g.req.flags |= HTTP_F_FOLLOW | HTTP_F_RAW;
	g.req.max_body = max;
	tool_pg_ok(&g.req, ok, 1);
	if ((r = tool_pg_exchange(io, call, &g.req, &g.resp, err)) < 0)
		goto out;
	r = artifact_content(call, &g, *result, err);
out:
	json_decref(meta);
	return tool_pg_x_end(&g, call, r, result);
}

/* ------------------------------------------------------------------ releases */

static int
gh_list_releases(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = gh_start(&g, call, "GET", "/releases", err)) < 0)
		goto out;
	r = gh_list(io, call, &g, NULL, "releases", shape_release, result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

static int
gh_create_release(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const int ok[] = { 201 };
	static const char *const str[] = { "tag_name", "target_commitish", "name", "body",
	    "make_latest", NULL };
	static const char *const flags[] = { "draft", "prerelease", "generate_release_notes",
	    NULL };
	json_t *body = json_object(), *j;
	struct tool_pg_x g;
	int r;

	*result = NULL;
	for (size_t i = 0; str[i] != NULL && body != NULL; i++)
		if (tool_pg_arg_str(call, str[i]) != NULL)
			json_object_set_new(body, str[i], json_string(tool_pg_arg_str(call, str[i])));
	for (size_t i = 0; flags[i] != NULL && body != NULL; i++)
		if (tool_pg_arg_has(call, flags[i]))
			json_object_set_new(body, flags[i],
			    json_boolean(tool_pg_arg_bool(call, flags[i], false)));
	if ((r = gh_start(&g, call, "POST", "/releases", err)) < 0) {
		json_decref(body);
		goto out;
	}
	if ((r = tool_pg_x_json_body(&g, body, err)) < 0 ||
	    (r = tool_pg_x_send(io, call, &g, ok, 1, NULL, result, err)) < 0 || call->dry_run)
		goto out;
	if ((r = tool_pg_json(&g.resp, &j, err)) < 0)
		goto out;
	*result = shape_release(j);
	json_decref(j);
	r = tool_pg_made(*result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

/* base...head is split by GitHub at the first "...", so a ref must neither hold ".." nor start
 * or end with '.' ("v1." + "..." + "main" reads as base "v1", head ".main"). The rule here is
 * that every '.' stands between two characters that are neither '.' nor '/': that covers the
 * ambiguity and git's own dot rules (git-check-ref-format: no "..", no component starting with
 * '.', no trailing '.'), and COMPARE_REF_RX in the schema says the same of dots. */
static bool
gh_ref_unambiguous(const char *s)
{
	if (*s == '\0')
		return false;
	for (size_t i = 0; s[i] != '\0'; i++)
		if (s[i] == '.' && (i == 0 || s[i - 1] == '.' || s[i - 1] == '/' ||
		    s[i + 1] == '\0' || s[i + 1] == '.' || s[i + 1] == '/'))
			return false;
	return true;
}

static int
gh_basehead(const struct tool_call *call, char *out, size_t len, struct tool_err *err)
{
	static const char *const names[] = { "base", "head" };

	for (size_t i = 0; i < 2; i++) {
		const char *ref = tool_pg_arg_str(call, names[i]);

		if (ref == NULL || !gh_ref_unambiguous(ref))
			return tool_pg_fail(err, ERR_SCHEMA, "%s: empty, or a '.' at its start or "
			    "end, next to another '.' or to a '/' (base...head would be ambiguous)",
			    names[i]);
	}
	if ((size_t)snprintf(out, len, "%s...%s", tool_pg_arg_str(call, "base"),
	    tool_pg_arg_str(call, "head")) >= len)
		return tool_pg_fail(err, ERR_TOOBIG, "base/head: too long");
	return 0;
}

/* GET /repos/{owner}/{repo}/compare/{base}...{head}: basehead is one encoded segment. */
static int
gh_compare_commits(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const char *const q[] = { "per_page", "page", NULL };
	char basehead[1024];
	struct tool_pg_x g;
	int r;

	*result = NULL;
	memset(&g, 0, sizeof(g));
	if ((r = gh_basehead(call, basehead, sizeof(basehead), err)) < 0)
		goto out;
	if ((r = gh_start(&g, call, "GET", "/compare", err)) < 0 ||
	    (r = tool_pg_seg(&g.req, "base...head", basehead, err)) < 0 ||
	    (r = tool_pg_x_query_args(&g, call, q, err)) < 0)
		goto out;
	r = tool_pg_x_get_one(io, call, &g, shape_compare, result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

/* One of this family's reads as part of another op: args validated (defaults filled) like the
 * supervisor does for a call, then run through the same hook. Takes args. */
static int
gh_sub(struct tool_io *io, const struct tool_call *call, const char *op, json_t *args,
    int (*run)(struct tool_io *, const struct tool_call *, json_t **, struct tool_err *),
    json_t **result, struct tool_err *err)
{
	struct tool_call sub = *call;
	char verr[256];
	int r;

	*result = NULL;
	sub.op = tool_op_find(call->family, op);
	sub.args = args;
	if (args == NULL)
		r = -ENOMEM;
	else if (sub.op == NULL || tool_args_validate(sub.op, args, verr, sizeof(verr)) < 0)
		r = tool_pg_fail(err, ERR_SCHEMA, "%s: %s", op, sub.op ? verr : "unknown op");
	else
		r = run(io, &sub, result, err);
	json_decref(args);
	return r;
}

/* Every commit of base...head, a page of 100 at a time (GitHub's total_commits says how many),
 * up to LIM_RELPLAN_COMMITS. */
static int
gh_plan_commits(struct tool_io *io, const struct tool_call *call, const char *base,
    json_t *commits, int64_t *total, struct tool_err *err)
{
	for (int page = 1; json_array_size(commits) < LIM_RELPLAN_COMMITS; page++) {
		json_t *cmp, *c;
		int r;

		if ((r = gh_sub(io, call, "compare_commits", json_pack("{s:O, s:O, s:s, s:O, s:i, "
		    "s:i}", "owner", json_object_get(call->args, "owner"), "repo",
		    json_object_get(call->args, "repo"), "base", base, "head",
		    json_object_get(call->args, "head"), "per_page", 100, "page", page),
		    gh_compare_commits, &cmp, err)) < 0)
			return r;
		c = json_object_get(cmp, "commits");
		*total = json_integer_value(json_object_get(cmp, "total_commits"));
		json_array_extend(commits, c);
		r = json_array_size(c) == 0 || (int64_t)json_array_size(commits) >= *total;
		json_decref(cmp);
		if (r)
			break;
	}
	return 0;
}

/* The next version and changelog from the commits since the last final release (relplan.h):
 * list_releases (100, newest first), then compare_commits from its tag to head. */
static int
gh_release_plan(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	const char *prefix = tool_pg_arg_str(call, "tag_prefix");
	json_t *rels, *list, *commits = json_array();
	const char *base = NULL;
	int64_t total = 0;
	int r, at;

	*result = NULL;
	if ((r = gh_sub(io, call, "list_releases", json_pack("{s:O, s:O, s:i}", "owner",
	    json_object_get(call->args, "owner"), "repo", json_object_get(call->args, "repo"),
	    "per_page", 100), gh_list_releases, &rels, err)) < 0)
		goto out;
	list = json_object_get(rels, "releases");
	if ((at = relplan_last(list, prefix)) >= 0)
		base = json_string_value(json_object_get(json_array_get(list, (size_t)at),
		    "tag_name"));
	if (base && (r = gh_plan_commits(io, call, base, commits, &total, err)) < 0)
		goto out_rels;
	*result = relplan_make(base, prefix, tool_pg_arg_str(call, "initial_version"), commits,
	    total);
	if (*result)
		json_object_set(*result, "head", json_object_get(call->args, "head"));
	r = *result ? 0 : -ENOMEM;
out_rels:
	json_decref(rels);
out:
	json_decref(commits);
	return r;
}

/* ------------------------------------------------------------------ schema */

#define OWNER_RX	"[A-Za-z0-9][A-Za-z0-9_.-]*"
#define REPO_RX		"[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*"	/* not only dots */
#define WORKFLOW_RX	"[0-9]+|[A-Za-z0-9_.-]+\\.ya?ml"
#define SHA_RX		"[0-9a-fA-F]{4,64}"
#define REF_RX		"[A-Za-z0-9_./@+:-]+"
/* REF_RX where every '.' stands between two other non-'/' characters (see gh_basehead) */
#define REF_CH		"[A-Za-z0-9_@+:-]"
#define COMPARE_REF_RX	"/*" REF_CH "+((\\.|/+)" REF_CH "+)*/*"
#define ID_MAX		INT64_MAX

#define P_OWNER { .name = "owner", .type = TP_STRING, .required = true, .pattern = OWNER_RX, \
	.max_len = 100, .desc = "Repository owner (user or organisation)" }
#define P_REPO { .name = "repo", .type = TP_STRING, .required = true, .pattern = REPO_RX, \
	.max_len = 100, .desc = "Repository name (without .git)" }
#define P_ID(n, d) { .name = n, .type = TP_INT, .required = true, .min = 1, .max = ID_MAX, \
	.desc = d }
#define P_PER_PAGE { .name = "per_page", .type = TP_INT, .def = "30", .min = 1, .max = 100, \
	.desc = "Results per page (max 100)" }
#define P_PAGE { .name = "page", .type = TP_INT, .def = "1", .min = 1, .max = 1000000, \
	.desc = "First page to fetch" }
#define P_MAX_PAGES { .name = "max_pages", .type = TP_INT, .def = "1", .min = 1, \
	.max = LIM_HTTP_PAGES_MAX, .desc = "Pages to fetch at most, following the Link header" }

static const char *const run_status[] = { "completed", "action_required", "cancelled",
	"failure", "neutral", "skipped", "stale", "success", "timed_out", "in_progress", "queued",
	"requested", "waiting", "pending", NULL };
static const char *const job_filter[] = { "latest", "all", NULL };
static const char *const make_latest[] = { "true", "false", "legacy", NULL };

static const struct tool_param p_list_runs[] = {
	P_OWNER, P_REPO,
	{ .name = "workflow_id", .type = TP_STRING, .pattern = WORKFLOW_RX, .max_len = 255,
	  .desc = "Workflow ID or file name (e.g. ci.yml); all workflows when absent" },
	{ .name = "branch", .type = TP_STRING, .max_len = 255, .desc = "Branch filter" },
	{ .name = "event", .type = TP_STRING, .pattern = "[a-z_]+", .max_len = 64,
	  .desc = "Event filter (push, pull_request, workflow_dispatch, ...)" },
	{ .name = "status", .type = TP_STRING, .enums = run_status,
	  .desc = "Status or conclusion filter" },
	{ .name = "actor", .type = TP_STRING, .pattern = OWNER_RX, .max_len = 100,
	  .desc = "User who triggered the run" },
	{ .name = "created", .type = TP_STRING, .pattern = "[0-9TZ:.<>=+*-]+", .max_len = 64,
	  .desc = "Creation date filter (e.g. >=2024-01-01, 2024-01-01..2024-02-01)" },
	{ .name = "head_sha", .type = TP_STRING, .pattern = SHA_RX, .desc = "Head commit SHA" },
	{ .name = "check_suite_id", .type = TP_INT, .min = 1, .max = ID_MAX,
	  .desc = "Check suite ID" },
	{ .name = "exclude_pull_requests", .type = TP_BOOL, .desc = "Omit pull_requests" },
	P_PER_PAGE, P_PAGE, P_MAX_PAGES,
	{ 0 }
};
static const struct tool_param p_run[] = {
	P_OWNER, P_REPO, P_ID("run_id", "Workflow run ID"),
	{ .name = "exclude_pull_requests", .type = TP_BOOL, .desc = "Omit pull_requests" },
	{ 0 }
};
static const struct tool_param p_list_jobs[] = {
	P_OWNER, P_REPO, P_ID("run_id", "Workflow run ID"),
	{ .name = "filter", .type = TP_STRING, .def = "\"latest\"", .enums = job_filter,
	  .desc = "latest attempt only, or all attempts" },
	P_PER_PAGE, P_PAGE, P_MAX_PAGES,
	{ 0 }
};
static const struct tool_param p_job[] = {
	P_OWNER, P_REPO, P_ID("job_id", "Job ID"),
	{ 0 }
};
static const struct tool_param p_job_logs[] = {
	P_OWNER, P_REPO, P_ID("job_id", "Job ID"),
	{ .name = "max_bytes", .type = TP_INT, .def = "65536", .min = 1024,
	  .max = TOOL_PG_LOG_MAX, .desc = "Bytes of the end of the log to return" },
	{ 0 }
};
static const struct tool_param p_cancel[] = {
	P_OWNER, P_REPO, P_ID("run_id", "Workflow run ID"),
	{ .name = "force", .type = TP_BOOL, .def = "false",
	  .desc = "Force-cancel (bypasses always() conditions)" },
	{ 0 }
};
static const struct tool_param p_rerun[] = {
	P_OWNER, P_REPO, P_ID("run_id", "Workflow run ID"),
	{ .name = "enable_debug_logging", .type = TP_BOOL, .desc = "Re-run with debug logging" },
	{ 0 }
};
static const struct tool_param p_trigger[] = {
	P_OWNER, P_REPO,
	{ .name = "workflow_id", .type = TP_STRING, .required = true, .pattern = WORKFLOW_RX,
	  .max_len = 255, .desc = "Workflow ID or file name (e.g. deploy.yml)" },
	{ .name = "ref", .type = TP_STRING, .required = true, .pattern = REF_RX, .max_len = 255,
	  .desc = "Branch or tag to run the workflow on" },
	{ .name = "inputs", .type = TP_OBJECT, .max_len = 25,
	  .desc = "workflow_dispatch inputs (at most 25 keys)" },
	{ .name = "return_run_details", .type = TP_BOOL, .def = "true",
	  .desc = "Ask for the new run's ID in the answer" },
	{ 0 }
};
static const struct tool_param p_list_artifacts[] = {
	P_OWNER, P_REPO,
	{ .name = "run_id", .type = TP_INT, .min = 1, .max = ID_MAX,
	  .desc = "Workflow run ID; the whole repository when absent" },
	{ .name = "name", .type = TP_STRING, .max_len = 255, .desc = "Artifact name filter" },
	P_PER_PAGE, P_PAGE, P_MAX_PAGES,
	{ 0 }
};
static const struct tool_param p_download[] = {
	P_OWNER, P_REPO, P_ID("artifact_id", "Artifact ID"),
	{ .name = "max_bytes", .type = TP_INT, .def = "1048576", .min = 1024,
	  .max = TOOL_PG_BLOB_MAX, .desc = "Largest archive to return (base64)" },
	{ 0 }
};
static const struct tool_param p_list_releases[] = {
	P_OWNER, P_REPO, P_PER_PAGE, P_PAGE, P_MAX_PAGES,
	{ 0 }
};
static const struct tool_param p_create_release[] = {
	P_OWNER, P_REPO,
	{ .name = "tag_name", .type = TP_STRING, .required = true, .pattern = REF_RX,
	  .max_len = 255, .desc = "Tag of the release (created from target_commitish if new)" },
	{ .name = "target_commitish", .type = TP_STRING, .pattern = REF_RX, .max_len = 255,
	  .desc = "Branch or SHA the tag is created from (default branch when absent)" },
	{ .name = "name", .type = TP_STRING, .max_len = 1024, .desc = "Release title" },
	{ .name = "body", .type = TP_STRING, .max_len = 125000, .flags = TP_F_MULTILINE,
	  .desc = "Release notes (Markdown)" },
	{ .name = "draft", .type = TP_BOOL, .def = "false", .desc = "Create a draft" },
	{ .name = "prerelease", .type = TP_BOOL, .def = "false", .desc = "Mark as prerelease" },
	{ .name = "generate_release_notes", .type = TP_BOOL, .def = "false",
	  .desc = "Let GitHub generate the notes" },
	{ .name = "make_latest", .type = TP_STRING, .enums = make_latest,
	  .desc = "Mark as the latest release: true, false or legacy" },
	{ 0 }
};
static const struct tool_param p_release_plan[] = {
	P_OWNER, P_REPO,
	{ .name = "head", .type = TP_STRING, .required = true, .pattern = COMPARE_REF_RX,
	  .max_len = 255, .desc = "Branch or ref to release (e.g. main)" },
	{ .name = "tag_prefix", .type = TP_STRING, .def = "\"v\"", .pattern = "[A-Za-z0-9_./-]*",
	  .max_len = 32, .desc = "Release tags are this prefix + MAJOR.MINOR.PATCH" },
	{ .name = "initial_version", .type = TP_STRING, .def = "\"0.1.0\"",
	  .pattern = "(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})",
	  .max_len = 32, .desc = "The first release's version when nothing is released yet" },
	{ 0 }
};
static const struct tool_param p_compare[] = {
	P_OWNER, P_REPO,
	{ .name = "base", .type = TP_STRING, .required = true, .pattern = COMPARE_REF_RX,
	  .max_len = 255, .desc = "Base ref or SHA (e.g. the previous release tag)" },
	{ .name = "head", .type = TP_STRING, .required = true, .pattern = COMPARE_REF_RX,
	  .max_len = 255, .desc = "Head ref or SHA" },
	{ .name = "per_page", .type = TP_INT, .min = 1, .max = 100,
	  .desc = "Commits per page (all up to 250 when absent)" },
	{ .name = "page", .type = TP_INT, .min = 1, .max = 1000000, .desc = "Page of commits" },
	{ 0 }
};

#define RO	TOOL_F_IDEMPOTENT
#define RW	(TOOL_F_MUTATING | TOOL_F_DRY_RUN)

static const struct tool_op gh_ops[] = {
	{ "list_workflow_runs", "List workflow runs of a repository or one workflow", RO,
	  p_list_runs, 0, gh_list_workflow_runs },
	{ "get_workflow_run", "Get one workflow run (status, conclusion, head)", RO, p_run, 0,
	  gh_get_workflow_run },
	{ "list_jobs", "List the jobs of a workflow run, with their steps", RO, p_list_jobs, 0,
	  gh_list_jobs },
	{ "get_job", "Get one job with its steps", RO, p_job, 0, gh_get_job },
	{ "get_job_logs", "Get the end of a job's log (plain text)", RO, p_job_logs, 0,
	  gh_get_job_logs },
	{ "cancel_workflow_run", "Cancel a workflow run (202; 409 when it cannot be)", RW,
	  p_cancel, 0, gh_cancel_workflow_run },
	{ "rerun_workflow", "Re-run every job of a workflow run", RW, p_rerun, 0,
	  gh_rerun_workflow },
	{ "rerun_failed_jobs", "Re-run the failed jobs of a workflow run", RW, p_rerun, 0,
	  gh_rerun_failed_jobs },
	{ "trigger_workflow", "Dispatch a workflow (workflow_dispatch) on a ref", RW, p_trigger,
	  0, gh_trigger_workflow },
	{ "list_artifacts", "List artifacts of a run or of the repository", RO,
	  p_list_artifacts, 0, gh_list_artifacts },
	{ "download_artifact", "Download an artifact: metadata, base64 zip and its file list", RO,
	  p_download, 0, gh_download_artifact },
	{ "list_releases", "List releases, newest first", RO, p_list_releases, 0,
	  gh_list_releases },
	{ "create_release", "Create a release (and its tag when new)", RW, p_create_release, 0,
	  gh_create_release },
	{ "compare_commits", "Commits and files between two refs (base...head)", RO, p_compare,
	  0, gh_compare_commits },
	{ "release_plan", "Next semantic version and changelog from the conventional commits "
	  "since the last release (deterministic: breaking -> major, feat -> minor, fix/perf -> "
	  "patch)", RO, p_release_plan, 0, gh_release_plan },
	{ 0 }
};

const struct tool_family tool_fam_github_actions = {
	.name = "github_actions",
	.desc = "GitHub Actions runs, jobs, logs and artifacts; releases and commit comparison",
	.kind = TOOL_KIND_HTTP,
	.ops = gh_ops,
};
