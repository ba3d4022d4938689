/* See fuzz_io.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/fuzz/fuzz_io.h"
#include "tools/exec.h"
#include "tools/http.h"

/* A run hook that asks for more exchanges than this is polling or paging: the rest fail, so a
 * waiting loop ends after a few rounds instead of sleeping through the fuzzer's time. */
#define FZ_CALLS_MAX	6

void
fz_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", file, line, what);
	abort();
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
fz_init(void)
{
	static int done;
	char err[256];

	if (done++)
		return;
	FZ_CHECK(tool_schema_init(err, sizeof(err)) == 0);
}

int
fz_split(const uint8_t *data, size_t size, const struct tool_family **fam,
    const struct tool_op **op, long *status, long *variant, const char **body, size_t *blen)
{
	const uint8_t *nl = memchr(data, '\n', size < 128 ? size : 128);
	char head[128], *dot, *sp;
	size_t hl;

	if (nl == NULL)
		return -1;
	hl = (size_t)(nl - data);
	memcpy(head, data, hl);
	head[hl] = '\0';
	*status = -1;
	*variant = 0;
	if ((sp = strchr(head, ' ')) != NULL) {
		char *end;

		*sp++ = '\0';
		*status = strtol(sp, &end, 10);
		*variant = strtol(end, NULL, 10);
	}
	if ((dot = strchr(head, '.')) == NULL)
		return -1;
	*dot++ = '\0';
	if ((*fam = tool_family_find(head)) == NULL || (*op = tool_op_find(*fam, dot)) == NULL ||
	    (*op)->run == NULL)
		return -1;
	*body = (const char *)nl + 1;
	*blen = size - hl - 1;
	return 0;
}

/* ---------------------------------------------------------------- arguments */

static const char *const cands[] = {
	"guestbook", "main", "42", "web", "deploy.yml", "v1.2.3", "org", "abc1234",
	"2026-01-02T03:04:05Z", "5m", "up", "flux-system", "group/project", "a", "1h",
	"0123456789abcdef0123456789abcdef01234567", "main...feature", "job/sub", NULL,
};
#define NCANDS	(sizeof(cands) / sizeof(cands[0]) - 1)

/* First choices by family and parameter: names the loopback fakes know (tests/fakes), so the
 * seed generator (gen_shapers_corpus) records real answers rather than 404s. */
static const struct { const char *family, *param, *json; } prefs[] = {
	{ "github_actions", "owner", "\"octo-org\"" },
	{ "github_actions", "repo", "\"hello-world\"" },
	{ "github_actions", "run_id", "30001" },
	{ "github_actions", "job_id", "40001" },
	{ "github_actions", "artifact_id", "50001" },
	{ "github_actions", "workflow_id", "\"161336\"" },
	{ "github_actions", "ref", "\"main\"" },
	{ "github_actions", "tag_name", "\"v9.9.9\"" },
	{ "github_actions", "base", "\"v1.0.0\"" },
	{ "github_actions", "head", "\"main\"" },
	{ "gitlab_ci", "project_id", "\"42\"" },
	{ "gitlab_ci", "pipeline_id", "1000" },
	{ "gitlab_ci", "job_id", "2001" },
	{ "gitlab_ci", "ref", "\"main\"" },
	{ "jenkins", "job_name", "\"deploy\"" },
	{ "jenkins", "build_number", "\"5\"" },
	{ "prometheus", "query", "\"up\"" },
	{ "prometheus", "start", "\"1767225600\"" },
	{ "prometheus", "end", "\"1767229200\"" },
	{ "prometheus", "step", "\"60s\"" },
	{ "prometheus", "metrics", "[{\"name\":\"latency\",\"baseline_query\":\"b\","
	  "\"canary_query\":\"c\"}]" },
};

static const char *cur_family;	/* while building arguments */

static json_t *
initial(const struct tool_param *p, unsigned k)
{
	const char *s = cands[k % NCANDS];

	for (size_t i = 0; k == 0 && cur_family && i < sizeof(prefs) / sizeof(prefs[0]); i++)
		if (strcmp(prefs[i].family, cur_family) == 0 && strcmp(prefs[i].param, p->name) == 0)
			return json_loads(prefs[i].json, JSON_DECODE_ANY, NULL);
	if (strcmp(p->name, "wait") == 0)
		return json_false();
	switch (p->type) {
	case TP_STRING:
		return json_string(p->enums ? p->enums[0] : s);
	case TP_INT:
		return json_integer(p->min < p->max ? (p->min > 0 ? p->min : p->max > 0 ? 1 : 0) :
		    1 + (json_int_t)k);
	case TP_NUMBER:
		return json_real(p->min < p->max ? (double)p->min : 1.0);
	case TP_BOOL:
		return json_false();
	case TP_ARRAY:
		return json_pack("[s]", s);
	case TP_OBJECT:
	case TP_JSON:
	default:
		return json_object();
	}
}

/* An optional parameter with a first choice is given too (e.g. canary_analyze's window). */
static bool
k0_pref(const struct tool_param *p)
{
	for (size_t i = 0; cur_family && i < sizeof(prefs) / sizeof(prefs[0]); i++)
		if (strcmp(prefs[i].family, cur_family) == 0 && strcmp(prefs[i].param, p->name) == 0)
			return true;
	return false;
}

static json_t *
build_args(const struct tool_op *op)
{
	unsigned idx[64] = { 0 };
	json_t *args = json_object();
	size_t np = 0;
	char err[512];

	size_t nf;
	const struct tool_family *const *fams = tool_families(&nf);

	cur_family = NULL;
	for (size_t i = 0; i < nf; i++)
		for (const struct tool_op *o = fams[i]->ops; o->name; o++)
			if (o == op)
				cur_family = fams[i]->name;
	for (const struct tool_param *p = op->params; p && p->name && np < 64; p++, np++)
		if (p->required || strcmp(p->name, "wait") == 0 || (k0_pref(p) && !p->def))
			json_object_set_new(args, p->name, initial(p, 0));
	for (int tries = 0; tries < 400; tries++) {
		json_t *try = json_deep_copy(args);
		char *colon;
		size_t i = 0;

		if (tool_args_validate(op, try, err, sizeof(err)) == 0) {
			json_decref(args);
			return try;
		}
		json_decref(try);
		if ((colon = strchr(err, ':')) == NULL)
			break;
		*colon = '\0';
		if ((colon = strpbrk(err, ".[")) != NULL)
			*colon = '\0';
		for (const struct tool_param *p = op->params; p && p->name; p++, i++)
			if (strcmp(p->name, err) == 0 && i < 64) {
				if (++idx[i] > NCANDS + 2)
					goto out;
				json_object_set_new(args, p->name, initial(p, idx[i]));
				break;
			}
		if (i >= np)
			break;
	}
out:
	json_decref(args);
	return NULL;
}

json_t *
fz_args_for(const struct tool_op *op)
{
	static struct { const struct tool_op *op; json_t *args; } cache[512];
	static size_t n;

	for (size_t i = 0; i < n; i++)
		if (cache[i].op == op)
			return cache[i].args;
	if (n == sizeof(cache) / sizeof(cache[0]))
		return NULL;
	cache[n].op = op;
	cache[n].args = build_args(op);
	return cache[n++].args;
}

/* ---------------------------------------------------------------- the fake remote side */

static int
fz_http(struct tool_io *io, const struct tool_call *call, const struct http_req *req,
    struct http_resp *resp, struct tool_err *err)
{
	struct fz_io *f = (struct fz_io *)io;
	size_t max = req->max_body ? req->max_body : LIM_HTTP_BODY_MAX, n = f->len;

	memset(resp, 0, sizeof(*resp));
	FZ_CHECK(req->method != NULL && req->path[0] == '/');
	if (++f->calls > FZ_CALLS_MAX) {
		http_err_set(err, ERR_TIMEOUT, 0, true, "fuzz: no more exchanges");
		return ERR_TIMEOUT;
	}
	if (strcmp(req->method, "HEAD") == 0)
		n = 0;
	if (n > max) {
		n = max;
		resp->truncated = true;
	}
	resp->status = f->status;
	if ((resp->body = malloc(n + 1)) == NULL)
		return -ENOMEM;
	memcpy(resp->body, f->body, n);
	resp->body[n] = '\0';
	resp->len = n;
	if (!http_status_ok(req, resp->status)) {
		http_err_from_resp(resp, err);
		return err->code;
	}
	return 0;
}

static int
fz_exec(struct tool_io *io, const struct tool_call *call, const struct exec_req *req,
    struct exec_resp *resp, struct tool_err *err)
{
	struct fz_io *f = (struct fz_io *)io;
	size_t max = req->stdout_max ? req->stdout_max : LIM_EXEC_OUT_MAX, n = f->len;

	memset(resp, 0, sizeof(*resp));
	FZ_CHECK(req->argc <= LIM_EXEC_ARGS_MAX && req->argv[req->argc] == NULL);
	if (req->flags & EXEC_F_PROBE)
		return 0;
	if (++f->calls > FZ_CALLS_MAX) {
		resp->timed_out = true;
		resp->status = -1;
		resp->signal = 9;
	}
	if (n > max) {
		n = max;
		resp->out_truncated = true;
	}
	resp->out = malloc(n + 1);
	resp->err = malloc(n + 1);
	if (resp->out == NULL || resp->err == NULL) {
		exec_resp_clear(resp);
		return -ENOMEM;
	}
	memcpy(resp->out, f->body, n);
	resp->out[n] = '\0';
	resp->out_len = n;
	/* a failing program: its output goes to stderr, as kubectl and flux do */
	resp->err_len = f->status > 0 ? n : 0;
	memcpy(resp->err, f->body, resp->err_len);
	resp->err[resp->err_len] = '\0';
	if (!resp->timed_out)
		resp->status = (int)(f->status > 0 ? f->status % 256 : 0);
	return 0;
}

static void
fz_event(struct tool_io *io, uint64_t id, const char *text)
{
	FZ_CHECK(text != NULL && strstr(text, FZ_SECRET) == NULL);
}

static void
fz_log(struct tool_io *io, int level, const char *text)
{
	FZ_CHECK(text != NULL);
}

/* ---------------------------------------------------------------- running */

static bool
holds_secret(const char *s, size_t n)
{
	return s != NULL && memmem(s, n, FZ_SECRET, sizeof(FZ_SECRET) - 1) != NULL;
}

/* In the values themselves, not in their JSON text: there an escaped control character before
 * a near-miss ("\\f" + "z-Secr3t-...") would spell the secret without the result holding it. */
static bool
json_holds_secret(const json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_STRING:
		return holds_secret(json_string_value(j), json_string_length(j));
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
			if (json_holds_secret(v))
				return true;
		return false;
	case JSON_OBJECT:
		json_object_foreach((json_t *)j, k, v)
			if (holds_secret(k, strlen(k)) || json_holds_secret(v))
				return true;
		return false;
	default:
		return false;
	}
}

int
fz_run(const struct tool_family *f, const struct tool_op *op, const json_t *args,
    const char *body, size_t blen, long status, bool dry_run, const uint8_t *input,
    size_t insize)
{
	struct fz_io io = { .io = { .event = fz_event, .log = fz_log }, .body = body, .len = blen };
	bool exec = f->kind == TOOL_KIND_EXEC;
	struct tool_call call = { .family = f, .op = op, .id = 7, .dry_run = dry_run };
	struct tool_err err;
	json_t *result = NULL;
	bool may_leak = holds_secret((const char *)input, insize);
	int rc;

	if (!may_leak && body != NULL) {	/* or a JSON answer says it in an escape */
		json_t *b = json_loadb(body, blen, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

		may_leak = b != NULL && json_holds_secret(b);
		json_decref(b);
	}
	io.status = status >= 0 ? status : exec ? 0 : 200;
	if (exec)
		io.io.exec = fz_exec;
	else
		io.io.http = fz_http;
	memset(&err, 0, sizeof(err));
	call.args = json_deep_copy(args);
	call.ctx = json_pack("{s:{s:s, s:s, s:i, s:i, s:s, s:s, s:[s]}, s:s}", "endpoint", "name",
	    "fz",
	    "url", "https://api.example.test/base", "timeout_ms", 1000, "connect_timeout_ms",
	    500, "user", "fz-bot", "context", "fz", "redirect_hosts", "dl.example.test", "secret", FZ_SECRET);
	/* Long enough for one exchange, too short for any poll loop to sleep (they check the
	 * deadline before sleeping). */
	call.deadline = mono_ms() + 1000;
	rc = op->run(&io.io, &call, &result, &err);
	if (rc == 0) {
		char *txt;

		FZ_CHECK(result != NULL);
		txt = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
		FZ_CHECK(txt != NULL);
		FZ_CHECK(may_leak || !json_holds_secret(result));
		free(txt);
	} else {
		FZ_CHECK(rc < 0);
		FZ_CHECK(result == NULL);
		FZ_CHECK(memchr(err.text, '\0', sizeof(err.text)) != NULL);
		FZ_CHECK(may_leak || !holds_secret(err.text, strlen(err.text)));
	}
	json_decref(result);
	json_decref(call.args);
	json_decref(call.ctx);
	return rc;
}
