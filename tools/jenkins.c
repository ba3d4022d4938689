/* The jenkins family: jobs, builds, console logs, queue and nodes of Jenkins (core remote API).
 *
 * Contract: shared/specs/jenkins.json and CONTRACTS.md section 5 (copies under
 * tests/tools/contracts/). Per-op notes: docs/HTTP-FAMILIES.md.
 *
 * The endpoint URL is the Jenkins root, with its context path if any (https://ci.example.com/
 * jenkins). A job name "team-a/apps/deploy" is the path /job/team-a/job/apps/job/deploy, each
 * part encoded on its own (a multibranch branch "feature%2Fx" becomes feature%252Fx). Auth is
 * HTTP Basic user:API-token (user from the endpoint config, token = the credential); requests
 * with an API token are exempt from the CSRF crumb, so none is fetched. State changes are POSTs
 * answered with 302, which is success and is not followed. A trigger answers 201 with a queue
 * item, which is polled (bounded) for the build number.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/http.h"
#include "tools/paginate.h"

#define JK_POLLS_MAX		40	/* queue polls per trigger */
#define JK_POLL_FIRST_MS	100
#define JK_POLL_MAX_MS		2000
#define JK_IGNORED_BODY_MAX	(64u << 10)	/* bodies of answers whose body is not used */

static int
jk_start(struct tool_pg_x *g, const struct tool_call *call, const char *method,
    struct tool_err *err)
{
	int r;

	if ((r = tool_pg_x_start(g, call, method, err)) < 0)
		return r;
	if ((r = tool_pg_cred_basic(&g->req, call, &g->cred)) == ERR_CONFIG)
		return tool_pg_fail(err, r, "the jenkins endpoint needs a user for its API token");
	if (r < 0)
		return tool_pg_fail(err, r, "credential: %s", err_str(r));
	return 0;
}

/* "a/b/c" -> /job/a/job/b/job/c, each part one encoded segment; empty parts refused. */
static int
jk_job_path(struct tool_pg_x *g, const char *what, const char *name, struct tool_err *err)
{
	char part[512];
	const char *p = name;
	int r;

	if (name == NULL || *name == '\0')
		return tool_pg_fail(err, ERR_SCHEMA, "%s: empty", what);
	for (;;) {
		const char *s = strchr(p, '/');
		size_t n = s ? (size_t)(s - p) : strlen(p);

		if (n >= sizeof(part))
			return tool_pg_fail(err, ERR_TOOBIG, "%s: a path part is too long", what);
		memcpy(part, p, n);
		part[n] = '\0';
		if ((r = tool_pg_x_lit(g, "/job", err)) < 0 ||
		    (r = tool_pg_seg(&g->req, what, part, err)) < 0)
			return r;
		if (s == NULL)
			return 0;
		p = s + 1;
	}
}

/* job path + "/" + build number or alias (lastBuild, ...). */
static int
jk_build_path(struct tool_pg_x *g, const struct tool_call *call, struct tool_err *err)
{
	int r;

	if ((r = jk_job_path(g, "job_name", tool_pg_arg_str(call, "job_name"), err)) < 0)
		return r;
	return tool_pg_seg(&g->req, "build_number", tool_pg_arg_str(call, "build_number"), err);
}

/* GET .../api/json?tree=<tree>: the JSON as Jenkins gives it (tree already selects fields). */
static int
jk_get_json(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *g, const char *tree,
    json_t **out, struct tool_err *err)
{
	static const int ok[] = { 200 };
	int r;

	if ((r = tool_pg_x_lit(g, "/api/json", err)) < 0 ||
	    (tree != NULL && (r = tool_pg_query(&g->req, "tree", tree, err)) < 0))
		return r;
	tool_pg_ok(&g->req, ok, 1);
	if ((r = tool_pg_exchange(io, call, &g->req, &g->resp, err)) < 0)
		return r;
	return tool_pg_json(&g->resp, out, err);
}

/* ------------------------------------------------------------------ reads */

static int
jk_list_jobs(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	const char *folder = tool_pg_arg_str(call, "folder");
	json_t *j = NULL;
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = jk_start(&g, call, "GET", err)) < 0 ||
	    (folder != NULL && (r = jk_job_path(&g, "folder", folder, err)) < 0) ||
	    (r = jk_get_json(io, call, &g, "jobs[name,fullName,url,color,_class]", &j, err)) < 0)
		goto out;
	/* "o" with a new reference: an answer without a jobs array leaked the empty one ("O") */
	*result = json_pack("{s:o}", "jobs", json_is_array(json_object_get(j, "jobs")) ?
	    json_incref(json_object_get(j, "jobs")) : json_array());
	r = tool_pg_made(*result, err);
out:
	json_decref(j);
	return tool_pg_x_end(&g, call, r, result);
}

static int
jk_get_job(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const char tree[] = "name,fullName,url,buildable,color,inQueue,nextBuildNumber,"
	    "lastBuild[number,url],lastCompletedBuild[number,result],lastSuccessfulBuild[number],"
	    "lastFailedBuild[number],builds[number,url]{0,20},"
	    "property[parameterDefinitions[name,type,defaultParameterValue[value]]]";
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = jk_start(&g, call, "GET", err)) < 0 ||
	    (r = jk_job_path(&g, "job_name", tool_pg_arg_str(call, "job_name"), err)) < 0)
		goto out;
	r = jk_get_json(io, call, &g, tree, result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

static int
jk_get_build(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const char tree[] = "number,result,building,inProgress,duration,"
	    "estimatedDuration,timestamp,url,displayName,queueId";
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = jk_start(&g, call, "GET", err)) < 0 || (r = jk_build_path(&g, call, err)) < 0)
		goto out;
	r = jk_get_json(io, call, &g, tree, result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

/* consoleText, tail first (the failure is at the end). */
static int
jk_get_build_logs(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = jk_start(&g, call, "GET", err)) < 0 || (r = jk_build_path(&g, call, err)) < 0 ||
	    (r = tool_pg_x_lit(&g, "/consoleText", err)) < 0)
		goto out;
	*result = json_pack("{s:s, s:s}", "job_name", tool_pg_arg_str(call, "job_name"),
	    "build_number", tool_pg_arg_str(call, "build_number"));
	r = tool_pg_x_log(io, call, &g, 0, true, *result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

static int
jk_get_root_json(struct tool_io *io, const struct tool_call *call, const char *where,
    const char *tree, json_t **result, struct tool_err *err)
{
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = jk_start(&g, call, "GET", err)) < 0 || (r = tool_pg_x_lit(&g, where, err)) < 0)
		goto out;
	r = jk_get_json(io, call, &g, tree, result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

static int
jk_get_queue(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	return jk_get_root_json(io, call, "/queue",
	    "items[id,inQueueSince,why,blocked,buildable,stuck,task[name,url]]", result, err);
}

static int
jk_get_nodes(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	return jk_get_root_json(io, call, "/computer",
	    "computer[displayName,offline,temporarilyOffline,offlineCauseReason,idle,"
	    "numExecutors,assignedLabels[name]],busyExecutors,totalExecutors", result, err);
}

/* ------------------------------------------------------------------ state changes */

/* Jenkins answers a POST it does not authorise with a 302 to its login page: not a success. */
static int
jk_check_login(const struct http_resp *resp, struct tool_err *err)
{
	const char *loc = http_resp_header(resp, "location");

	size_t n = loc ? strlen(loc) : 0;

	if (resp->status >= 300 && resp->status < 400 && loc != NULL &&
	    (strstr(loc, "/login?") != NULL || (n >= 6 && strcmp(loc + n - 6, "/login") == 0) ||
	    strstr(loc, "securityRealm") != NULL)) {
		tool_pg_fail(err, ERR_HTTP, "HTTP %ld: redirected to the login page "
		    "(credential refused)", resp->status);
		err->http_status = (int)resp->status;
		return ERR_HTTP;
	}
	return 0;
}

/* The answer's body is not used (201/302 pages): read it as raw bytes under a small cap, so
 * that an unexpected body never turns a state change that happened into a reported failure. */
static void
jk_body_ignored(struct tool_pg_x *g)
{
	g->req.flags |= HTTP_F_RAW;
	g->req.max_body = JK_IGNORED_BODY_MAX;
}

/* POST <path built by the caller>: 2xx/3xx success, the redirect not followed. */
static int
jk_post(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *g, const char *status,
    json_t **result, struct tool_err *err)
{
	static const int ok[] = { 200, 201, 202, 204, 302, 303 };
	int r;

	jk_body_ignored(g);
	if ((r = tool_pg_x_send(io, call, g, ok, sizeof(ok) / sizeof(ok[0]), NULL, result,
	    err)) < 0 || call->dry_run || (r = jk_check_login(&g->resp, err)) < 0)
		return r;
	*result = json_pack("{s:s, s:s?, s:s}", "job_name", tool_pg_arg_str(call, "job_name"),
	    "build_number", tool_pg_arg_str(call, "build_number"), "status", status);
	return tool_pg_made(*result, err);
}

static int
jk_stop_build(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = jk_start(&g, call, "POST", err)) < 0 || (r = jk_build_path(&g, call, err)) < 0 ||
	    (r = tool_pg_x_lit(&g, "/stop", err)) < 0)
		goto out;
	r = jk_post(io, call, &g, "stop_requested", result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

static int
jk_job_action(struct tool_io *io, const struct tool_call *call, const char *what,
    const char *status, json_t **result, struct tool_err *err)
{
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = jk_start(&g, call, "POST", err)) < 0 ||
	    (r = jk_job_path(&g, "job_name", tool_pg_arg_str(call, "job_name"), err)) < 0 ||
	    (r = tool_pg_x_lit(&g, what, err)) < 0)
		goto out;
	r = jk_post(io, call, &g, status, result, err);
out:
	return tool_pg_x_end(&g, call, r, result);
}

static int
jk_disable_job(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	return jk_job_action(io, call, "/disable", "disabled", result, err);
}

static int
jk_enable_job(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	return jk_job_action(io, call, "/enable", "enabled", result, err);
}

/* ------------------------------------------------------------------ trigger */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The queue item id in "Location: <base>/queue/item/<id>/", or 0. The URL itself is never
 * fetched: the poll is built from the endpoint and the number. */
static int64_t
queue_id_of(const char *loc)
{
	const char *p = loc ? strstr(loc, "/queue/item/") : NULL;
	int64_t id = 0;

	if (p == NULL)
		return 0;
	for (p += 12; *p >= '0' && *p <= '9'; p++) {
		if (id > (INT64_MAX - 9) / 10)
			return 0;
		id = id * 10 + (*p - '0');
	}
	return *p == '/' || *p == '\0' ? id : 0;
}

/* One look at the queue item: 1 when it is settled (started or cancelled), 0 while waiting,
 * <0 when the poll failed (reported in out, the trigger itself stays a success). */
static int
jk_queue_look(struct tool_io *io, const struct tool_call *call, int64_t qid, json_t *out,
    char *why_prev, size_t why_size)
{
	struct tool_err perr = { 0 };
	json_t *j = NULL, *exe, *why;
	struct tool_pg_x q;
	int r;

	if ((r = jk_start(&q, call, "GET", &perr)) == 0 &&
	    (r = tool_pg_x_lit(&q, "/queue/item", &perr)) == 0 &&
	    (r = tool_pg_seg_int(&q.req, qid, &perr)) == 0)
		r = jk_get_json(io, call, &q, "id,why,cancelled,executable[number,url]", &j, &perr);
	tool_pg_x_end(&q, call, r, &j);
	if (r < 0) {
		json_object_set_new(out, "poll_error", json_string(perr.text));
		return r;
	}
	exe = json_object_get(j, "executable");
	if (json_is_integer(json_object_get(exe, "number"))) {
		json_object_set(out, "build_number", json_object_get(exe, "number"));
		json_object_set_new(out, "status", json_string("started"));
		r = 1;
	} else if (json_is_true(json_object_get(j, "cancelled"))) {
		json_object_set_new(out, "status", json_string("cancelled"));
		r = 1;
	} else if (json_is_string(why = json_object_get(j, "why"))) {
		json_object_set(out, "why", why);
		if (strcmp(json_string_value(why), why_prev) != 0 && io->event != NULL) {
			char ev[300];

			snprintf(ev, sizeof(ev), "queued: %.280s", json_string_value(why));
			io->event(io, call->id, ev);
			snprintf(why_prev, why_size, "%s", json_string_value(why));
		}
	}
	json_decref(j);
	return r;
}

/* Poll /queue/item/<id>/api/json until it has executable.number, bounded by wait_seconds,
 * JK_POLLS_MAX and the call's deadline; the delay doubles from JK_POLL_FIRST_MS. */
static void
jk_poll_queue(struct tool_io *io, const struct tool_call *call, int64_t qid, json_t *out)
{
	int64_t wait = tool_pg_arg_int(call, "wait_seconds", 10) * 1000, t0 = mono_ms();
	int64_t delay = JK_POLL_FIRST_MS;
	char why_prev[256] = "";

	for (int i = 0; i < JK_POLLS_MAX; i++) {
		int64_t now;

		if (jk_queue_look(io, call, qid, out, why_prev, sizeof(why_prev)) != 0)
			return;
		now = mono_ms();
		if (now - t0 + delay > wait ||
		    (call->deadline > 0 && now + delay + 1000 > call->deadline))
			return;
		sleep_ms(delay);
		delay = delay * 2 > JK_POLL_MAX_MS ? JK_POLL_MAX_MS : delay * 2;
	}
}

/* Form body NAME=value for buildWithParameters (values as text). */
static int
jk_params_form(struct tool_pg_x *g, json_t *params, struct tool_err *err)
{
	const char *k;
	json_t *v;
	int r;

	json_object_foreach(params, k, v) {
		char *t = json_is_string(v) ? strdup(json_string_value(v)) :
		    json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		r = t ? tool_pg_form_add(&g->body, k, t) : -ENOMEM;
		free(t);
		if (r < 0)
			return tool_pg_fail(err, r, "parameters: request body too large");
	}
	g->req.body = g->body.p ? g->body.p : "";
	g->req.body_len = g->body.len;
	g->req.content_type = "application/x-www-form-urlencoded";
	return 0;
}

/* parameters present (even {}) -> buildWithParameters (201, or 303 when an identical item is
 * already queued); absent -> build (201). Both answer with a queue item, not a build. */
static int
jk_trigger_build(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	static const int ok_build[] = { 201 }, ok_params[] = { 201, 303 };
	json_t *params = json_object_get(call->args, "parameters");
	bool with = json_is_object(params);
	int64_t qid;
	struct tool_pg_x g;
	int r;

	*result = NULL;
	if ((r = jk_start(&g, call, "POST", err)) < 0 ||
	    (r = jk_job_path(&g, "job_name", tool_pg_arg_str(call, "job_name"), err)) < 0 ||
	    (r = tool_pg_x_lit(&g, with ? "/buildWithParameters" : "/build", err)) < 0 ||
	    (with && (r = jk_params_form(&g, params, err)) < 0))
		goto out;
	jk_body_ignored(&g);
	if ((r = tool_pg_x_send(io, call, &g, with ? ok_params : ok_build, with ? 2 : 1,
	    json_incref(params), result, err)) < 0 || call->dry_run ||
	    (r = jk_check_login(&g.resp, err)) < 0)
		goto out;
	qid = queue_id_of(http_resp_header(&g.resp, "location"));
	*result = json_pack("{s:s, s:s, s:n, s:b}", "job_name", tool_pg_arg_str(call, "job_name"),
	    "status", "queued", "build_number", "already_queued", g.resp.status == 303);
	if (*result == NULL) {
		r = tool_pg_fail(err, -ENOMEM, "out of memory");
		goto out;
	}
	json_object_set_new(*result, "queue_id", qid > 0 ? json_integer(qid) : json_null());
	if (qid > 0 && tool_pg_arg_int(call, "wait_seconds", 10) > 0)
		jk_poll_queue(io, call, qid, *result);
	r = 0;
out:
	return tool_pg_x_end(&g, call, r, result);
}

/* ------------------------------------------------------------------ schema */

/* '/'-separated parts, none empty and none only dots ("." and ".." would climb) */
#define JOB_PART_RX	"[^/]*[^/.][^/]*"
#define JOB_RX		JOB_PART_RX "(/" JOB_PART_RX ")*"
#define BUILD_RX	"[0-9]+|lastBuild|lastCompletedBuild|lastSuccessfulBuild|lastFailedBuild|" \
			"lastStableBuild|lastUnstableBuild|lastUnsuccessfulBuild"

#define P_JOB { .name = "job_name", .type = TP_STRING, .required = true, .pattern = JOB_RX, \
	.max_len = 1024, .desc = "Job full name; folders separated by '/' (team-a/apps/deploy)" }
#define P_BUILD_DEF { .name = "build_number", .type = TP_STRING, .def = "\"lastBuild\"", \
	.pattern = BUILD_RX, .max_len = 32, \
	.desc = "Build number (\"42\") or lastBuild, lastCompletedBuild, lastFailedBuild, ..." }

static const struct tool_param p_list_jobs[] = {
	{ .name = "folder", .type = TP_STRING, .pattern = JOB_RX, .max_len = 1024,
	  .desc = "Folder full name; the top level when absent" },
	{ 0 }
};
static const struct tool_param p_job[] = {
	P_JOB,
	{ 0 }
};
static const struct tool_param p_build[] = {
	P_JOB, P_BUILD_DEF,
	{ 0 }
};
static const struct tool_param p_build_logs[] = {
	P_JOB, P_BUILD_DEF,
	{ .name = "max_bytes", .type = TP_INT, .def = "65536", .min = 1024,
	  .max = TOOL_PG_LOG_MAX, .desc = "Bytes of the end of the console log to return" },
	{ 0 }
};
static const struct tool_param p_stop[] = {
	P_JOB,
	{ .name = "build_number", .type = TP_STRING, .required = true, .pattern = BUILD_RX,
	  .max_len = 32, .desc = "Build number (\"42\") or lastBuild" },
	{ 0 }
};
static const struct tool_param p_trigger[] = {
	P_JOB,
	{ .name = "parameters", .type = TP_OBJECT, .max_len = 100,
	  .desc = "Build parameters NAME -> value; present (even {}) uses buildWithParameters" },
	{ .name = "wait_seconds", .type = TP_INT, .def = "10", .min = 0, .max = 50,
	  .desc = "How long to wait for the queue to give the build number (0 = don't)" },
	{ 0 }
};
static const struct tool_param p_none[] = {
	{ 0 }
};

#define RO	TOOL_F_IDEMPOTENT
#define RW	(TOOL_F_MUTATING | TOOL_F_DRY_RUN)

static const struct tool_op jk_ops[] = {
	{ "list_jobs", "List the jobs of Jenkins or of a folder", RO, p_list_jobs, 0,
	  jk_list_jobs },
	{ "get_job", "Get a job: state, last builds, parameter definitions", RO, p_job, 0,
	  jk_get_job },
	{ "get_build", "Get a build: result (null while building), duration, timestamp", RO,
	  p_build, 0, jk_get_build },
	{ "get_build_logs", "Get the end of a build's console log", RO, p_build_logs, 0,
	  jk_get_build_logs },
	{ "trigger_build", "Queue a build and wait (bounded) for its number", RW |
	  TOOL_F_PROGRESS, p_trigger, 0, jk_trigger_build },
	{ "stop_build", "Abort a running build", RW, p_stop, 0, jk_stop_build },
	{ "get_queue", "List the build queue", RO, p_none, 0, jk_get_queue },
	{ "get_nodes", "List the agents (nodes) and their executors", RO, p_none, 0,
	  jk_get_nodes },
	{ "disable_job", "Disable a job", RW, p_job, 0, jk_disable_job },
	{ "enable_job", "Enable a job", RW, p_job, 0, jk_enable_job },
	{ 0 }
};

const struct tool_family tool_fam_jenkins = {
	.name = "jenkins",
	.desc = "Jenkins jobs, builds, console logs, queue and nodes (core remote API)",
	.kind = TOOL_KIND_HTTP,
	.ops = jk_ops,
};
