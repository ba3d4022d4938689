/* One exchange's state for the run hooks of the GitHub Actions, GitLab CI and Jenkins families
 * (see paginate.h, "one exchange"): start, path literals, JSON bodies, query arguments, the
 * common GET / list / send / log-tail steps, and the end that scrubs the result and wipes what
 * the request carried. Pure code; the only I/O is io->http through tool_pg_exchange().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "tools/paginate.h"

int
tool_pg_made(const void *p, struct tool_err *err)
{
	return p != NULL ? 0 : tool_pg_fail(err, -ENOMEM, "out of memory");
}

int
tool_pg_x_start(struct tool_pg_x *x, const struct tool_call *call, const char *method,
    struct tool_err *err)
{
	int r;

	memset(x, 0, sizeof(*x));
	if ((r = tool_pg_args_check(call, err)) < 0)
		return r;
	x->req.method = method;
	if (strcmp(method, "GET") == 0)
		x->req.flags |= HTTP_F_IDEMPOTENT;
	return 0;
}

int
tool_pg_x_lit(struct tool_pg_x *x, const char *lit, struct tool_err *err)
{
	int r = http_path_add(&x->req, lit);

	return r < 0 ? tool_pg_fail(err, r, "cannot build the request path") : 0;
}

int
tool_pg_x_bearer(struct tool_pg_x *x, const struct tool_call *call, struct tool_err *err)
{
	int r = tool_pg_cred_bearer(&x->req, call, &x->cred);

	return r < 0 ? tool_pg_fail(err, r, "credential: %s", err_str(r)) : 0;
}

int
tool_pg_x_json_body(struct tool_pg_x *x, json_t *body, struct tool_err *err)
{
	if (body == NULL)
		return tool_pg_fail(err, -ENOMEM, "out of memory");
	x->jbody = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (x->jbody == NULL)
		return tool_pg_fail(err, -ENOMEM, "out of memory");
	x->req.body = x->jbody;
	x->req.body_len = strlen(x->jbody);
	x->req.content_type = "application/json";
	return 0;
}

int
tool_pg_x_query_args(struct tool_pg_x *x, const struct tool_call *call,
    const char *const *names, struct tool_err *err)
{
	int r = 0;

	for (size_t i = 0; names[i] != NULL && r == 0; i++) {
		json_t *v = json_object_get(call->args, names[i]);

		if (json_is_string(v))
			r = tool_pg_query(&x->req, names[i], json_string_value(v), err);
		else if (json_is_integer(v))
			r = tool_pg_query_int(&x->req, names[i], json_integer_value(v), err);
		else if (json_is_boolean(v))
			r = tool_pg_query(&x->req, names[i], json_is_true(v) ? "true" : "false",
			    err);
	}
	return r;
}

int
tool_pg_x_get_one(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *x,
    json_t *(*shape)(json_t *), json_t **result, struct tool_err *err)
{
	static const int ok[] = { 200 };
	json_t *j;
	int r;

	tool_pg_ok(&x->req, ok, 1);
	if ((r = tool_pg_exchange(io, call, &x->req, &x->resp, err)) < 0 ||
	    (r = tool_pg_json(&x->resp, &j, err)) < 0)
		return r;
	*result = shape(j);
	json_decref(j);
	return tool_pg_made(*result, err);
}

int
tool_pg_x_list(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *x,
    const struct tool_pg_list *how, json_t **result, struct tool_err *err)
{
	static const int ok[] = { 200 };
	struct tool_pg_list l = *how;

	l.page = tool_pg_arg_int(call, "page", 1);
	l.per_page = tool_pg_arg_int(call, "per_page", how->per_page);
	l.max_pages = tool_pg_arg_int(call, "max_pages", 1);
	tool_pg_ok(&x->req, ok, 1);
	return tool_pg_list(io, call, &x->req, &l, result, err);
}

int
tool_pg_x_send(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *x,
    const int *ok, size_t nok, json_t *view, json_t **result, struct tool_err *err)
{
	tool_pg_ok(&x->req, ok, nok);
	if (call->dry_run) {
		*result = tool_pg_dry_run(&x->req, view);
		return tool_pg_made(*result, err);
	}
	json_decref(view);
	return tool_pg_exchange(io, call, &x->req, &x->resp, err);
}

int
tool_pg_x_log(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *x,
    unsigned flags, bool strip_ansi, json_t *out, struct tool_err *err)
{
	static const int ok[] = { 200 };
	size_t tail = (size_t)tool_pg_arg_int(call, "max_bytes", TOOL_PG_LOG_DEFAULT);
	json_t *text;
	bool cut;
	int r;

	if (out == NULL)
		return tool_pg_fail(err, -ENOMEM, "out of memory");
	x->req.flags |= flags | HTTP_F_RAW;
	x->req.max_body = TOOL_PG_LOG_FETCH_MAX;
	tool_pg_ok(&x->req, ok, 1);
	if ((r = tool_pg_exchange(io, call, &x->req, &x->resp, err)) < 0)
		return r;
	text = tool_pg_text_tail(x->resp.body, x->resp.len, tail, strip_ansi, &cut);
	if (json_object_set_new(out, "log", text ? text : json_string("")) < 0 ||
	    json_object_set_new(out, "bytes", json_integer((json_int_t)x->resp.len)) < 0 ||
	    json_object_set_new(out, "tail_only", json_boolean(cut)) < 0 ||
	    json_object_set_new(out, "download_truncated", json_boolean(x->resp.truncated)) < 0)
		return tool_pg_fail(err, -ENOMEM, "out of memory");
	return 0;
}

int
tool_pg_x_end(struct tool_pg_x *x, const struct tool_call *call, int r, json_t **result)
{
	if (r == 0 && *result != NULL)
		tool_pg_scrub(result, call, &x->cred);
	if (r < 0 && *result != NULL) {
		json_decref(*result);
		*result = NULL;
	}
	http_resp_clear(&x->resp);
	tool_pg_cred_wipe(&x->cred);
	tool_pg_buf_free(&x->body);
	free(x->jbody);
	x->jbody = NULL;
	return r;
}
