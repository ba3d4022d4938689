/* See famb.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "tests/tools/famb.h"
#include "tools/http.h"

void
famb_open(struct famb *t, const struct famb_env *env)
{
	const char *args[] = { "--token", env->secret, NULL };

	memset(t, 0, sizeof(*t));
	t->env = *env;
	cr_assert_eq(fake_start(&t->fake, env->script, env->secret ? args : NULL), 0,
	    "%s did not start", env->script);
	cr_assert_eq(harness_init(&t->h, &t->fake, env->secret), 0);
	if (env->endpoint_extra != NULL)
		cr_assert_not_null(t->h.endpoint_extra = json_loads(env->endpoint_extra, 0, NULL));
	t->h.deadline_ms = 8000;
	famb_reset(t, NULL);
}

void
famb_close(struct famb *t)
{
	harness_fini(&t->h);
	fake_stop(&t->fake);
}

void
famb_reset(struct famb *t, const char *extra_state)
{
	json_t *st = json_pack("{s:b}", "reset", 1), *ctl;
	char *txt;

	if (t->env.state != NULL)
		json_object_update(st, json_loads(t->env.state, 0, NULL));
	if (extra_state != NULL) {
		json_t *x = json_loads(extra_state, 0, NULL);

		cr_assert_not_null(x, "bad extra state %s", extra_state);
		json_object_update(st, x);
		json_decref(x);
	}
	ctl = json_pack("{s:b, s:o}", "clear", 1, "state", st);
	txt = json_dumps(ctl, JSON_COMPACT);
	cr_assert_eq(fake_control(&t->fake, txt), 0, "control %s", txt);
	free(txt);
	json_decref(ctl);
	t->h.dry_run = false;
	t->h.deadline_ms = 8000;
}

void
famb_base_url(struct famb *t, const char *state, const char *path)
{
	char url[sizeof(t->fake.url) + 256];

	famb_reset(t, state);
	snprintf(url, sizeof(url), "%s%s", t->fake.url, path);
	if (t->h.endpoint_extra == NULL)
		cr_assert_not_null(t->h.endpoint_extra = json_object());
	json_object_set_new(t->h.endpoint_extra, "url", json_string(url));
}

json_t *
famb_log_since(struct famb *t, size_t from)
{
	json_t *all = fake_log(&t->fake), *out = json_array();

	for (size_t i = from; i < json_array_size(all); i++)
		json_array_append(out, json_array_get(all, i));
	json_decref(all);
	return out;
}

json_t *
famb_entry(struct famb *t, size_t from, size_t i)
{
	json_t *log = famb_log_since(t, from), *e = json_incref(json_array_get(log, i));

	json_decref(log);
	cr_assert_not_null(e, "no request %zu", i);
	return e;
}

const char *
famb_field(json_t *e, const char *k)
{
	return json_string_value(json_object_get(e, k));
}

const char *
famb_query(json_t *e, const char *k)
{
	return json_string_value(json_array_get(json_object_get(json_object_get(e, "query"), k),
	    0));
}

static void
assert_no_violations(json_t *entries, const char *what)
{
	json_t *e, *v;
	size_t i, k;

	json_array_foreach(entries, i, e)
		json_array_foreach(json_object_get(e, "violations"), k, v)
			cr_assert_fail("%s: request %s %s violates the contract: %s", what,
			    json_string_value(json_object_get(e, "method")),
			    json_string_value(json_object_get(e, "raw_path")), json_string_value(v));
}

static int
call(struct famb *t, const char *op, const char *args, json_t **result, struct tool_err *err,
    char *verr, size_t verrlen)
{
	return harness_call(&t->h, t->env.fam, op, args, result, err, verr, verrlen);
}

/* call(), then no request it made may violate the contract. */
static int
call_clean(struct famb *t, const char *op, const char *args, json_t **result,
    struct tool_err *err, char *verr, size_t verrlen)
{
	size_t n0 = fake_count(&t->fake);
	int r = call(t, op, args, result, err, verr, verrlen);
	json_t *log = famb_log_since(t, n0);

	assert_no_violations(log, op);
	json_decref(log);
	return r;
}

json_t *
famb_ok(struct famb *t, const char *op, const char *args)
{
	struct tool_err err;
	json_t *res;
	char verr[256];
	int r = call_clean(t, op, args, &res, &err, verr, sizeof(verr));

	cr_assert_eq(r, 0, "%s %s: rc %d (%s) schema: %s; error: %s", op, args, r, err_name(r), verr,
	    err.text);
	cr_assert_not_null(res, "%s: no result", op);
	return res;
}

const char *
famb_fail(struct famb *t, const char *op, const char *args, int code, int status)
{
	static char text[sizeof(((struct tool_err *)0)->text)];
	struct tool_err err;
	json_t *res;
	char verr[256];
	int r = call_clean(t, op, args, &res, &err, verr, sizeof(verr));

	cr_assert_eq(r, code, "%s %s: rc %d (%s), expected %s; schema: %s; error: %s", op, args, r,
	    err_name(r), err_name(code), verr, err.text);
	cr_assert_null(res, "%s: a failed call returned a result", op);
	if (verr[0] != '\0') {		/* refused by tool_args_validate, before the hook */
		snprintf(text, sizeof(text), "%s", verr);
		return text;
	}
	cr_assert_eq(err.code, code, "%s: err.code %s", op, err_name(err.code));
	if (status != 0)
		cr_assert_eq(err.http_status, status, "%s: http_status %d, expected %d", op,
		    err.http_status, status);
	snprintf(text, sizeof(text), "%s", err.text);
	return text;
}

/* ---------------------------------------------------------------- schema tables */

static bool
listed(const char *const *names, const char *name)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

void
famb_schema_ops(const struct tool_family *fam, const char *name, const char *const *names,
    const char *const *writes)
{
	const struct tool_family *f = tool_family_find(name);
	char e[256];
	size_t n = 0;

	cr_assert_eq(f, fam, "%s: not registered", name);
	cr_assert_eq(tool_schema_init(e, sizeof(e)), 0, "%s", e);
	for (const struct tool_op *op = f->ops; op->name; op++, n++) {
		bool w = listed(writes, op->name);

		cr_assert_not_null(names[n], "%s: more ops than expected", op->name);
		cr_assert_str_eq(op->name, names[n]);
		cr_assert_eq((op->flags & TOOL_F_MUTATING) != 0, w, "%s", op->name);
		cr_assert_eq((op->flags & TOOL_F_DRY_RUN) != 0, w, "%s", op->name);
		cr_assert_eq((op->flags & TOOL_F_IDEMPOTENT) != 0, !w, "%s", op->name);
	}
	cr_assert_null(names[n], "%s: op %s is missing", name, names[n]);
}

void
famb_schema_refuses(const struct tool_family *fam, const struct famb_bad *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_loads(cases[i].args, 0, NULL);
		char e[256];

		cr_assert_not_null(a, "%s", cases[i].args);
		cr_assert_eq(tool_args_validate(tool_op_find(fam, cases[i].op), a, e, sizeof(e)),
		    ERR_SCHEMA, "%s %s accepted", cases[i].op, cases[i].args);
		cr_assert(strncmp(e, cases[i].param, strlen(cases[i].param)) == 0, "%s: '%s'",
		    cases[i].args, e);
		json_decref(a);
	}
}

/* ---------------------------------------------------------------- the matrix */

static const struct {
	const char *control;	/* fakebase modes, or NULL */
	const char *state;	/* state for the success-body modes, or NULL */
	int status;
	uint32_t deadline_ms;
} modes[FAMB_MODE_MAX] = {
	[FAMB_OK] = { NULL, NULL, 0, 8000 },
	[FAMB_S401] = { "{\"modes\":[{\"mode\":\"status\",\"status\":401,\"count\":-1}]}", NULL, 401, 8000 },
	[FAMB_S403] = { "{\"modes\":[{\"mode\":\"status\",\"status\":403,\"count\":-1}]}", NULL, 403, 8000 },
	[FAMB_S404] = { "{\"modes\":[{\"mode\":\"status\",\"status\":404,\"count\":-1}]}", NULL, 404, 8000 },
	[FAMB_S409] = { "{\"modes\":[{\"mode\":\"status\",\"status\":409,\"count\":-1}]}", NULL, 409, 8000 },
	[FAMB_S415] = { "{\"modes\":[{\"mode\":\"status\",\"status\":415,\"count\":-1}]}", NULL, 415, 8000 },
	[FAMB_S422] = { "{\"modes\":[{\"mode\":\"status\",\"status\":422,\"count\":-1}]}", NULL, 422, 8000 },
	[FAMB_S500] = { "{\"modes\":[{\"mode\":\"status\",\"status\":500,\"count\":-1}]}", NULL, 500, 8000 },
	[FAMB_S429] = { "{\"modes\":[{\"mode\":\"status\",\"status\":429,\"retry_after\":120,"
	    "\"count\":-1}]}", NULL, 429, 8000 },
	[FAMB_S503] = { "{\"modes\":[{\"mode\":\"status\",\"status\":503,\"retry_after\":120,"
	    "\"count\":-1}]}", NULL, 503, 8000 },
	[FAMB_S503_ONCE] = { "{\"modes\":[{\"mode\":\"status\",\"status\":503,\"retry_after\":0,"
	    "\"count\":1}]}", NULL, 503, 8000 },
	[FAMB_TIMEOUT] = { "{\"modes\":[{\"mode\":\"hang\",\"seconds\":4,\"count\":-1}]}", NULL, 0, 400 },
	[FAMB_SLOW_OK] = { "{\"modes\":[{\"mode\":\"slow\",\"chunk\":4096,\"delay_ms\":20,"
	    "\"count\":-1}]}", NULL, 0, 8000 },
	[FAMB_SLOW_TIMEOUT] = { "{\"modes\":[{\"mode\":\"slow\",\"chunk\":8,\"delay_ms\":100,"
	    "\"count\":-1}]}", NULL, 0, 500 },
	[FAMB_MALFORMED] = { NULL, "{\"body_mode\":\"malformed\",\"body_count\":-1}", 0, 8000 },
	[FAMB_OVERSIZE] = { NULL, "{\"body_mode\":\"oversize\",\"body_count\":-1}", 0, 8000 },
	[FAMB_ECHO] = { "{\"modes\":[{\"mode\":\"echo_auth\",\"count\":-1}]}", NULL, 0, 8000 },
	[FAMB_ECHO_ERR] = { "{\"modes\":[{\"mode\":\"echo_auth\",\"status\":403,\"count\":-1}]}",
	    NULL, 403, 8000 },
	[FAMB_DRY_RUN] = { NULL, NULL, 0, 8000 },
};

static int
status_code(int st)
{
	return st == 404 || st == 410 ? ERR_NOTFOUND : st == 429 ? ERR_RATE : ERR_HTTP;
}

static void
assert_no_leak(struct famb *t, const struct famb_op *o, json_t *res, const struct tool_err *err)
{
	cr_assert(!harness_leaks(res, err, t->env.secret), "%s: the secret leaked", o->op);
	if (t->env.leak2 != NULL)
		cr_assert(!harness_leaks(res, err, t->env.leak2), "%s: the encoded secret leaked",
		    o->op);
}

/* The outcome of one op in one mode, given the requests it made. */
static void
matrix_check(struct famb *t, const struct famb_op *o, enum famb_mode m, int r, json_t *res,
    const struct tool_err *err, json_t *log, int64_t ms)
{
	json_t *first = json_array_get(log, 0);
	size_t n = json_array_size(log);
	int st = modes[m].status;

	if (m == FAMB_DRY_RUN) {
		cr_assert_eq(r, 0, "%s dry run: %s", o->op, err->text);
		cr_assert(json_is_true(json_object_get(res, "dry_run")), "%s: not a dry run", o->op);
		cr_assert_eq(n, 0, "%s: a dry run sent %zu requests", o->op, n);
		return;
	}
	cr_assert(n >= 1, "%s: no request reached the fake", o->op);
	cr_assert_str_eq(json_string_value(json_object_get(first, "method")), o->method, "%s", o->op);
	cr_assert_str_eq(json_string_value(json_object_get(first, "route")), o->route,
	    "%s: first request went to %s", o->op, json_string_value(json_object_get(first, "raw_path")));
	switch (m) {
	case FAMB_OK:
	case FAMB_SLOW_OK:
	case FAMB_ECHO:
		cr_assert_eq(r, 0, "%s mode %d: %s", o->op, m, err->text);
		break;
	case FAMB_S401: case FAMB_S403: case FAMB_S404: case FAMB_S409: case FAMB_S415:
	case FAMB_S422: case FAMB_S500: case FAMB_S429: case FAMB_S503: case FAMB_ECHO_ERR:
		cr_assert_eq(r, status_code(st), "%s %d: rc %s (%s)", o->op, st, err_name(r), err->text);
		cr_assert_eq(err->http_status, st, "%s: status %d", o->op, err->http_status);
		cr_assert_eq(n, 1, "%s %d: %zu requests (retried?)", o->op, st, n);
		cr_assert_eq(err->retryable, st == 429 || ((st == 500 || st == 503) && !o->write),
		    "%s %d: retryable %d", o->op, st, err->retryable);
		if (m != FAMB_ECHO_ERR)
			cr_assert(strstr(err->text, "scripted failure") != NULL,
			    "%s %d: the API's message is missing from '%s'", o->op, st, err->text);
		break;
	case FAMB_S503_ONCE:
		if (o->write) {
			cr_assert_eq(r, ERR_HTTP, "%s: a write was retried (%s)", o->op, err->text);
			cr_assert_eq(n, 1, "%s: %zu requests for a write", o->op, n);
		} else {
			cr_assert_eq(r, 0, "%s: a read was not retried: %s", o->op, err->text);
			cr_assert(n >= 2, "%s: %zu requests", o->op, n);
			cr_assert_eq(json_integer_value(json_object_get(first, "status")), 503);
		}
		break;
	case FAMB_TIMEOUT:
	case FAMB_SLOW_TIMEOUT:
		cr_assert_eq(r, ERR_TIMEOUT, "%s mode %d: rc %s (%s)", o->op, m, err_name(r),
		    err->text);
		cr_assert(ms < 2500, "%s: took %lld ms past a %u ms deadline", o->op, (long long)ms,
		    modes[m].deadline_ms);
		break;
	case FAMB_MALFORMED:
		cr_assert_eq(r, o->json_body ? ERR_PROTO : 0, "%s malformed: rc %s (%s)", o->op,
		    err_name(r), err->text);
		break;
	case FAMB_OVERSIZE:
		cr_assert_eq(r, o->json_body ? ERR_TOOBIG : 0, "%s oversize: rc %s (%s)", o->op,
		    err_name(r), err->text);
		break;
	default:
		break;
	}
	if (r == 0)
		cr_assert_not_null(res, "%s: success without a result", o->op);
	assert_no_leak(t, o, res, err);
}

static void
matrix_one(struct famb *t, const struct famb_op *o, enum famb_mode m)
{
	struct tool_err err;
	json_t *res = NULL, *log;
	char verr[256];
	size_t n0;
	int64_t t0;
	int r;

	famb_reset(t, modes[m].state);
	if (modes[m].control != NULL)
		cr_assert_eq(fake_control(&t->fake, modes[m].control), 0);
	t->h.deadline_ms = modes[m].deadline_ms;
	t->h.dry_run = m == FAMB_DRY_RUN;
	n0 = fake_count(&t->fake);
	t0 = harness_now_ms();
	r = call(t, o->op, o->args, &res, &err, verr, sizeof(verr));
	cr_assert_neq(r, ERR_SCHEMA, "%s: args refused by the schema: %s", o->op, verr);
	log = famb_log_since(t, n0);
	assert_no_violations(log, o->op);
	matrix_check(t, o, m, r, res, &err, log, harness_now_ms() - t0);
	json_decref(log);
	json_decref(res);
}

void
famb_matrix(struct famb *t, const struct famb_op *ops, size_t n, enum famb_mode m)
{
	for (size_t i = 0; i < n; i++) {
		if (m == FAMB_DRY_RUN && !ops[i].write)
			continue;
		if (m == FAMB_SLOW_TIMEOUT && ops[i].short_body)
			continue;
		matrix_one(t, &ops[i], m);
	}
}

/* ---------------------------------------------------------------- injection */

static const struct {
	const char *v;
	size_t len;
} hostile[] = {
	{ "../../admin", 11 }, { "..", 2 }, { ".", 1 }, { "", 0 }, { "%2e%2e", 6 },
	{ "%2e%2e%2fadmin", 14 }, { "..%2F..%2Fadmin", 15 }, { "a?b=c&d=e", 9 }, { "x#frag", 6 },
	{ "a\r\nX-Injected: 1", 17 }, { "a\0b", 3 }, { "\xff\xfe\xc3", 3 }, { "a b+c;d", 7 },
	{ "/", 1 }, { "a/b", 3 }, { "a//b", 4 }, { "a/./b", 5 }, { "\xc3\xbc" "n" "\xc3\xaf" "c", 6 },
	{ "\\..\\y", 5 }, { NULL, 5000 },
};

static bool
part_bad(const char *p, size_t n)
{
	return n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.');
}

/* The expected encoding of v, or false when it must be refused. */
static bool
expect_enc(enum famb_enc enc, const char *v, size_t len, char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	out[0] = '\0';
	if (memchr(v, '\0', len) != NULL)
		return false;
	if (enc == FAMB_ENC_SEG || enc == FAMB_ENC_PROJECT) {
		for (size_t s = 0; enc == FAMB_ENC_PROJECT && s <= len; s++) {
			size_t e = s;

			while (e < len && v[e] != '/')
				e++;
			if (part_bad(v + s, e - s))
				return false;
			s = e;
		}
		if (part_bad(v, len))
			return false;
		return http_pct_encode(v, len, out, outlen) >= 0;
	}
	while (i <= len) {
		size_t e = i;
		int k;

		while (e < len && v[e] != '/')
			e++;
		if (part_bad(v + i, e - i))
			return false;
		if (enc == FAMB_ENC_JOBPATH)
			o += (size_t)snprintf(out + o, outlen - o, "%sjob/", o ? "/" : "");
		else if (o)
			o += (size_t)snprintf(out + o, outlen - o, "/");
		if (o >= outlen || (k = http_pct_encode(v + i, e - i, out + o, outlen - o)) < 0)
			return false;
		o += (size_t)k;
		i = e + 1;
	}
	return true;
}

/* fmt with its one "%s" replaced by v (not a printf format: fmt comes from the test table). */
static void
subst(char *out, size_t n, const char *fmt, const char *v)
{
	const char *p = strstr(fmt, "%s");

	cr_assert_not_null(p, "raw_fmt without %%s: %s", fmt);
	snprintf(out, n, "%.*s%s%s", (int)(p - fmt), fmt, v, p + 2);
}

static void
inject_one(struct famb *t, const char *op, const char *args, const char *param,
    enum famb_enc enc, const char *raw_fmt, const char *v, size_t len, bool checked)
{
	char enc_v[16384], want[20000], verr[256];
	json_t *a = json_loads(args, 0, NULL), *res = NULL, *log;
	bool ok = expect_enc(enc, v, len, enc_v, sizeof(enc_v));
	struct tool_err err;
	size_t n0;
	int r;

	cr_assert_not_null(a);
	json_object_set_new(a, param, json_stringn_nocheck(v, len));
	if (ok) {
		subst(want, sizeof(want), raw_fmt, enc_v);
		ok = strlen(want) < sizeof(((struct http_req *)0)->path);
	}
	n0 = fake_count(&t->fake);
	memset(&err, 0, sizeof(err));
	if (checked && tool_args_validate(tool_op_find(t->env.fam, op), a, verr, sizeof(verr)) < 0) {
		log = famb_log_since(t, n0);
		cr_assert_eq(json_array_size(log), 0);
		json_decref(log);
		json_decref(a);
		return;		/* refused by the schema: ERR_SCHEMA before any request */
	}
	r = harness_call_unchecked(&t->h, t->env.fam, op, a, &res, &err);
	log = famb_log_since(t, n0);
	if (!ok) {
		cr_assert(r < 0, "%s %s=%.40s: accepted, expected a refusal", op, param, v ? v : "");
		cr_assert_eq(json_array_size(log), 0, "%s %s=%.40s: %zu requests sent", op, param,
		    v ? v : "", json_array_size(log));
	} else {
		json_t *e = json_array_get(log, 0);

		cr_assert_eq(json_array_size(log), 1, "%s %s=%.40s: %zu requests", op, param, v,
		    json_array_size(log));
		cr_assert_str_eq(json_string_value(json_object_get(e, "raw_path")), want,
		    "%s %s=%.40s: wrong path", op, param, v);
		cr_assert_not_null(json_string_value(json_object_get(e, "route")),
		    "%s %s=%.40s: reached no route", op, param, v);
		assert_no_violations(log, op);
	}
	json_decref(log);
	json_decref(res);
	json_decref(a);
}

void
famb_inject(struct famb *t, const char *op, const char *args, const char *param,
    enum famb_enc enc, const char *raw_fmt)
{
	static char longv[5001];

	memset(longv, 'a', sizeof(longv) - 1);
	famb_reset(t, NULL);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const char *v = hostile[i].v ? hostile[i].v : longv;

		inject_one(t, op, args, param, enc, raw_fmt, v, hostile[i].len, false);
		inject_one(t, op, args, param, enc, raw_fmt, v, hostile[i].len, true);
	}
}
