/* Helpers shared by the GitHub Actions, GitLab CI and Jenkins families: see paginate.h.
 *
 * Everything here works on data the run hook already has (arguments, the call context, one
 * response); the only I/O is io->http in tool_pg_exchange().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/paginate.h"

/* ------------------------------------------------------------------ arguments, context */

const char *
tool_pg_arg_str(const struct tool_call *call, const char *name)
{
	return json_string_value(json_object_get(call->args, name));
}

int64_t
tool_pg_arg_int(const struct tool_call *call, const char *name, int64_t def)
{
	json_t *v = json_object_get(call->args, name);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

bool
tool_pg_arg_bool(const struct tool_call *call, const char *name, bool def)
{
	json_t *v = json_object_get(call->args, name);

	return json_is_boolean(v) ? json_is_true(v) : def;
}

bool
tool_pg_arg_has(const struct tool_call *call, const char *name)
{
	json_t *v = json_object_get(call->args, name);

	return v != NULL && !json_is_null(v);
}

static bool
json_has_nul(json_t *v, int depth)
{
	const char *k;
	json_t *e;
	size_t i;

	if (depth > 64)
		return true;
	if (json_is_string(v))
		return strlen(json_string_value(v)) != json_string_length(v);
	json_array_foreach(v, i, e)
		if (json_has_nul(e, depth + 1))
			return true;
	json_object_foreach(v, k, e)
		if (json_has_nul(e, depth + 1))
			return true;
	return false;
}

int
tool_pg_args_check(const struct tool_call *call, struct tool_err *err)
{
	const char *k;
	json_t *v;

	json_object_foreach(call->args, k, v)
		if (json_has_nul(v, 0))
			return tool_pg_fail(err, ERR_SCHEMA, "%.64s: NUL bytes are not allowed", k);
	return 0;
}

const char *
tool_pg_secret(const struct tool_call *call)
{
	const char *s = json_string_value(json_object_get(call->ctx, "secret"));

	return s != NULL && *s != '\0' ? s : NULL;
}

const char *
tool_pg_endpoint_str(const struct tool_call *call, const char *key)
{
	return json_string_value(json_object_get(json_object_get(call->ctx, "endpoint"), key));
}

int
tool_pg_fail(struct tool_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->http_status = 0;
	err->retryable = false;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return code;
}

/* ------------------------------------------------------------------ request building */

int
tool_pg_seg(struct http_req *req, const char *what, const char *seg, struct tool_err *err)
{
	int r;

	if (seg == NULL || *seg == '\0')
		return tool_pg_fail(err, ERR_SCHEMA, "%s: empty", what);
	if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0)
		return tool_pg_fail(err, ERR_SCHEMA, "%s: '.' and '..' are not allowed", what);
	if ((r = http_path_seg(req, seg)) < 0)
		return tool_pg_fail(err, r, "%s: %s", what,
		    r == ERR_TOOBIG ? "too long for the request path" : "cannot be encoded");
	return 0;
}

int
tool_pg_seg_int(struct http_req *req, int64_t v, struct tool_err *err)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", (long long)v);
	return tool_pg_seg(req, "id", b, err);
}

int
tool_pg_segs(struct http_req *req, const char *what, const char *path, struct tool_err *err)
{
	char part[1024];
	const char *p = path, *slash;
	int r;

	if (path == NULL || *path == '\0')
		return tool_pg_fail(err, ERR_SCHEMA, "%s: empty", what);
	for (;;) {
		size_t n;

		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n >= sizeof(part))
			return tool_pg_fail(err, ERR_TOOBIG, "%s: a path segment is too long", what);
		memcpy(part, p, n);
		part[n] = '\0';
		if ((r = tool_pg_seg(req, what, part, err)) < 0)
			return r;
		if (slash == NULL)
			return 0;
		p = slash + 1;
	}
}

int
tool_pg_query(struct http_req *req, const char *k, const char *v, struct tool_err *err)
{
	int r;

	if (v == NULL)
		return 0;
	if ((r = http_query_add(req, k, v)) < 0)
		return tool_pg_fail(err, r, "%s: cannot be added to the query", k);
	return 0;
}

int
tool_pg_query_int(struct http_req *req, const char *k, int64_t v, struct tool_err *err)
{
	char b[32];
	int r;

	/* copied into the request: b is gone once we return (the request keeps pointers) */
	snprintf(b, sizeof(b), "%lld", (long long)v);
	if ((r = http_query_add_copy(req, k, b)) < 0)
		return tool_pg_fail(err, r, "%s: cannot be added to the query", k);
	return 0;
}

int
tool_pg_query_set(struct http_req *req, const char *k, const char *v, struct tool_err *err)
{
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].name, k) == 0) {
			req->query[i].value = v;
			return 0;
		}
	return tool_pg_query(req, k, v, err);
}

void
tool_pg_ok(struct http_req *req, const int *ok, size_t n)
{
	req->nok = 0;
	for (size_t i = 0; i < n && i < sizeof(req->ok) / sizeof(req->ok[0]); i++)
		req->ok[req->nok++] = ok[i];
}

int
tool_pg_buf_add(struct tool_pg_buf *b, const char *s, size_t n)
{
	size_t max = b->max ? b->max : LIM_HTTP_REQ_BODY_MAX;

	if (b->len + n + 1 > max)
		return ERR_TOOBIG;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > max)
			cap = max;
		/* a fresh block so a body holding a token is never left behind by realloc */
		if ((np = malloc(cap)) == NULL)
			return -ENOMEM;
		if (b->p != NULL) {
			memcpy(np, b->p, b->len);
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int
form_escape(struct tool_pg_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[3];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			r = tool_pg_buf_add(b, (const char *)&c, 1);
		} else {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			r = tool_pg_buf_add(b, e, 3);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int
tool_pg_form_add(struct tool_pg_buf *b, const char *k, const char *v)
{
	int r;

	if (b->len > 0 && (r = tool_pg_buf_add(b, "&", 1)) < 0)
		return r;
	if ((r = form_escape(b, k)) < 0 || (r = tool_pg_buf_add(b, "=", 1)) < 0)
		return r;
	return form_escape(b, v);
}

void
tool_pg_buf_free(struct tool_pg_buf *b)
{
	if (b->p != NULL) {
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ------------------------------------------------------------------ credentials */

static int
cred_set(struct http_req *req, struct tool_pg_cred *c, const char *prefix, const char *tok)
{
	size_t pl = strlen(prefix), tl = strlen(tok);

	if (req->ncred >= sizeof(req->cred_headers) / sizeof(req->cred_headers[0]))
		return ERR_TOOBIG;
	if ((c->value = malloc(pl + tl + 1)) == NULL)
		return -ENOMEM;
	memcpy(c->value, prefix, pl);
	memcpy(c->value + pl, tok, tl + 1);
	c->len = pl + tl;
	req->cred_headers[req->ncred].name = "Authorization";
	req->cred_headers[req->ncred].value = c->value;
	req->ncred++;
	return 0;
}

int
tool_pg_cred_bearer(struct http_req *req, const struct tool_call *call, struct tool_pg_cred *c)
{
	const char *s = tool_pg_secret(call);

	memset(c, 0, sizeof(*c));
	return s != NULL ? cred_set(req, c, "Bearer ", s) : 0;
}

int
tool_pg_cred_basic(struct http_req *req, const struct tool_call *call, struct tool_pg_cred *c)
{
	const char *s = tool_pg_secret(call), *user = tool_pg_endpoint_str(call, "user");
	size_t ul, sl, b64len;
	char *pair;
	int r;

	memset(c, 0, sizeof(*c));
	if (s == NULL)
		return 0;
	if (user == NULL || *user == '\0' || strchr(user, ':') != NULL)
		return ERR_CONFIG;
	ul = strlen(user);
	sl = strlen(s);
	if ((pair = malloc(ul + sl + 2)) == NULL)
		return -ENOMEM;
	memcpy(pair, user, ul);
	pair[ul] = ':';
	memcpy(pair + ul + 1, s, sl + 1);
	r = tool_pg_b64((const unsigned char *)pair, ul + sl + 1, &c->alt, &b64len);
	explicit_bzero(pair, ul + sl + 2);
	free(pair);
	if (r < 0)
		return r;
	c->alt_len = b64len;
	if ((r = cred_set(req, c, "Basic ", c->alt)) < 0)
		tool_pg_cred_wipe(c);
	return r;
}

void
tool_pg_cred_wipe(struct tool_pg_cred *c)
{
	if (c == NULL)
		return;
	if (c->value != NULL) {
		explicit_bzero(c->value, c->len);
		free(c->value);
	}
	if (c->alt != NULL) {
		explicit_bzero(c->alt, c->alt_len);
		free(c->alt);
	}
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ errors */

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 300, "Multiple Choices" }, { 301, "Moved Permanently" }, { 302, "Found" },
	{ 303, "See Other" }, { 304, "Not Modified" }, { 307, "Temporary Redirect" },
	{ 308, "Permanent Redirect" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
	{ 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" }, { 408, "Request Timeout" }, { 409, "Conflict" },
	{ 410, "Gone" }, { 413, "Payload Too Large" }, { 415, "Unsupported Media Type" },
	{ 422, "Unprocessable Entity" }, { 429, "Too Many Requests" },
	{ 500, "Internal Server Error" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
};

static const char *
reason_of(long status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "";
}

/* Append s to out (size n) as one line: control characters and runs of spaces collapsed. */
static void
line_append(char *out, size_t n, const char *s, size_t slen)
{
	size_t o = strlen(out);
	bool space = o > 0 && out[o - 1] == ' ';

	for (size_t i = 0; i < slen && s[i] && o + 1 < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (!space && o > 0)
				out[o++] = ' ';
			space = true;
			continue;
		}
		out[o++] = (char)c;
		space = false;
	}
	out[o] = '\0';
}

static void
msg_json_value(char *out, size_t n, json_t *v)
{
	char *d;

	if (json_is_string(v)) {
		line_append(out, n, json_string_value(v), json_string_length(v));
		return;
	}
	if ((d = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS)) != NULL) {
		line_append(out, n, d, strlen(d));
		free(d);
	}
}

/* GitHub {"message","documentation_url","errors":[...]}, GitLab {"message": str|obj} or
 * {"error","error_description"}. */
static bool
msg_from_json(char *out, size_t n, const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL), *m, *e, *it;
	size_t i;

	if (!json_is_object(j)) {
		json_decref(j);
		return false;
	}
	if ((m = json_object_get(j, "message")) != NULL)
		msg_json_value(out, n, m);
	if ((e = json_object_get(j, "error")) != NULL) {
		if (out[0])
			line_append(out, n, "; ", 2);
		msg_json_value(out, n, e);
		if ((e = json_object_get(j, "error_description")) != NULL) {
			line_append(out, n, ": ", 2);
			msg_json_value(out, n, e);
		}
	}
	json_array_foreach(json_object_get(j, "errors"), i, it) {
		line_append(out, n, i == 0 ? " [" : "; ", 2);
		if (json_is_object(it) && json_object_get(it, "message"))
			msg_json_value(out, n, json_object_get(it, "message"));
		else
			msg_json_value(out, n, it);
		if (i + 1 == json_array_size(json_object_get(j, "errors")))
			line_append(out, n, "]", 1);
	}
	if ((m = json_object_get(j, "documentation_url")) != NULL && json_is_string(m)) {
		line_append(out, n, " (", 2);
		msg_json_value(out, n, m);
		line_append(out, n, ")", 1);
	}
	json_decref(j);
	return out[0] != '\0';
}

/* HTML error pages (Jenkins, Jetty, proxies): the <title>, else the text without tags. */
static void
msg_from_html(char *out, size_t n, const char *body, size_t len)
{
	const char *t = strcasestr(body, "<title>"), *e;
	size_t o;

	if (t != NULL && (e = strcasestr(t, "</title>")) != NULL) {
		line_append(out, n, t + 7, (size_t)(e - t - 7));
		if (out[0])
			return;
	}
	for (size_t i = 0; i < len && body[i] && (o = strlen(out)) < 200 && o + 1 < n; i++) {
		if (body[i] == '<') {
			const char *c = memchr(body + i, '>', len - i);

			if (c == NULL)
				break;
			i = (size_t)(c - body);
			line_append(out, n, " ", 1);
			continue;
		}
		line_append(out, n, body + i, 1);
	}
}

static bool
body_is_html(const struct http_resp *resp)
{
	const char *ct = http_resp_header(resp, "content-type");
	const char *b = resp->body;

	if (ct != NULL && strcasestr(ct, "html") != NULL)
		return true;
	while (b != NULL && (*b == ' ' || *b == '\n' || *b == '\r' || *b == '\t'))
		b++;
	return b != NULL && *b == '<';
}

static bool
rate_limited_403(const struct http_resp *resp)
{
	const char *rem = http_resp_header(resp, "x-ratelimit-remaining");

	if (rem != NULL && strcmp(rem, "0") == 0)
		return true;
	return resp->body != NULL && strcasestr(resp->body, "rate limit") != NULL;
}

static void
shape_http_error(const struct http_req *req, const struct http_resp *resp, struct tool_err *err)
{
	bool read = (req->flags & HTTP_F_IDEMPOTENT) != 0;
	long st = resp->status;
	char msg[384] = "";
	const char *perm;
	int n;

	err->http_status = (int)st;
	if (st == 404 || st == 410)
		err->code = ERR_NOTFOUND;
	else if (st == 429 || (st == 403 && rate_limited_403(resp)))
		err->code = ERR_RATE;
	else
		err->code = ERR_HTTP;
	err->retryable = err->code == ERR_RATE ||
	    (read && (st == 408 || st == 500 || st == 502 || st == 503 || st == 504));
	if (resp->body != NULL && resp->len > 0) {
		if (!msg_from_json(msg, sizeof(msg), resp->body, resp->len)) {
			msg[0] = '\0';
			if (body_is_html(resp))
				msg_from_html(msg, sizeof(msg), resp->body, resp->len);
			else
				line_append(msg, 200, resp->body, resp->len);
		}
	}
	if (st == 403 && (perm = http_resp_header(resp, "x-required-permission")) != NULL) {
		line_append(msg, sizeof(msg), " (needs ", 8);
		line_append(msg, sizeof(msg), perm, strlen(perm));
		line_append(msg, sizeof(msg), ")", 1);
	}
	if (st >= 300 && st < 400 && (perm = http_resp_header(resp, "location")) != NULL &&
	    msg[0] == '\0')
		snprintf(msg, sizeof(msg), "unexpected redirect");
	n = snprintf(err->text, sizeof(err->text), "HTTP %ld%s%s", st, *reason_of(st) ? " " : "",
	    reason_of(st));
	if (msg[0] != '\0' && n > 0 && (size_t)n < sizeof(err->text))
		snprintf(err->text + n, sizeof(err->text) - (size_t)n, ": %s", msg);
}

static bool
status_ok(const struct http_req *req, long st)
{
	if (req->nok == 0)
		return st >= 200 && st < 300;
	for (size_t i = 0; i < req->nok; i++)
		if (req->ok[i] == st)
			return true;
	return false;
}

int
tool_pg_exchange(struct tool_io *io, const struct tool_call *call, struct http_req *req,
    struct http_resp *resp, struct tool_err *err)
{
	int r;

	memset(resp, 0, sizeof(*resp));
	memset(err, 0, sizeof(*err));
	if (io == NULL || io->http == NULL)
		return tool_pg_fail(err, ERR_NOTREADY, "no HTTP client in this worker");
	r = io->http(io, call, req, resp, err);
	if (resp->status >= 400 || (r == 0 && !status_ok(req, resp->status))) {
		shape_http_error(req, resp, err);
		r = err->code;
	} else if (r < 0) {
		if (err->code == 0)
			err->code = r;
		if (err->text[0] == '\0')
			snprintf(err->text, sizeof(err->text), "%s", err_str(r));
	}
	if (r < 0) {
		tool_pg_scrub_text(err->text, sizeof(err->text), call, NULL);
		http_resp_clear(resp);
	}
	return r;
}

int
tool_pg_json(const struct http_resp *resp, json_t **out, struct tool_err *err)
{
	json_error_t je;
	json_t *j;

	*out = NULL;
	if (resp->truncated)
		return tool_pg_fail(err, ERR_TOOBIG, "response body larger than %zu bytes", resp->len);
	if (resp->body == NULL || resp->len == 0)
		return tool_pg_fail(err, ERR_PROTO, "empty response body where JSON was expected");
	if ((j = json_loadb(resp->body, resp->len, JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    (!json_is_object(j) && !json_is_array(j))) {
		tool_pg_fail(err, ERR_PROTO, "malformed JSON from the server: %.200s",
		    j ? "not an object or array" : je.text);
		json_decref(j);
		err->http_status = (int)resp->status;
		return ERR_PROTO;
	}
	*out = j;
	return 0;
}

/* ------------------------------------------------------------------ lists */

static int
list_page(const struct tool_pg_list *l, const struct http_resp *resp, json_t *items,
    json_t **total, struct tool_err *err)
{
	json_t *j, *arr, *e;
	size_t i;
	int r;

	if ((r = tool_pg_json(resp, &j, err)) < 0)
		return r;
	arr = l->key ? json_object_get(j, l->key) : j;
	if (!json_is_array(arr)) {
		json_decref(j);
		return tool_pg_fail(err, ERR_PROTO, "unexpected response: no %s array",
		    l->key ? l->key : "top-level");
	}
	if (l->key && *total == NULL && json_is_integer(json_object_get(j, "total_count")))
		*total = json_incref(json_object_get(j, "total_count"));
	json_array_foreach(arr, i, e) {
		json_t *s = l->shape(e);

		if (s != NULL)
			json_array_append_new(items, s);
	}
	json_decref(j);
	return 0;
}

int
tool_pg_list(struct tool_io *io, const struct tool_call *call, struct http_req *req,
    const struct tool_pg_list *l, json_t **result, struct tool_err *err)
{
	struct http_resp resp;
	json_t *items = json_array(), *total = NULL;
	char pbuf[24], ppbuf[24];
	int64_t page = l->page > 0 ? l->page : 1, next = 0;
	int64_t max = l->max_pages > 0 ? l->max_pages : 1;
	int r;

	snprintf(ppbuf, sizeof(ppbuf), "%lld", (long long)l->per_page);
	if (l->per_page > 0 && (r = tool_pg_query_set(req, "per_page", ppbuf, err)) < 0)
		goto out;
	for (int64_t n = 0; n < max; n++) {
		snprintf(pbuf, sizeof(pbuf), "%lld", (long long)page);
		if ((r = tool_pg_query_set(req, "page", pbuf, err)) < 0 ||
		    (r = tool_pg_exchange(io, call, req, &resp, err)) < 0)
			goto out;
		r = list_page(l, &resp, items, &total, err);
		if (r == 0 && l->cursor == TOOL_PG_XNEXT && total == NULL &&
		    tool_pg_header_long(&resp, "x-total", -1) >= 0)
			total = json_integer(tool_pg_header_long(&resp, "x-total", 0));
		next = l->cursor == TOOL_PG_LINK ? tool_pg_link_next(&resp) :
		    tool_pg_header_long(&resp, "x-next-page", 0);
		http_resp_clear(&resp);
		if (r < 0)
			goto out;
		if (next <= page) {	/* none, or a cursor that does not advance */
			next = 0;
			break;
		}
		page = next;
	}
	*result = json_pack("{s:o, s:o}", l->out_key, items, "next_page",
	    next > 0 ? json_integer(next) : json_null());
	items = NULL;
	if (*result == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (total != NULL)
		json_object_set(*result, "total_count", total);
	r = 0;
out:
	/* the page buffers die here: never leave pointers to them in req */
	for (size_t i = 0; i < req->nquery; i++)
		if (req->query[i].value == pbuf || req->query[i].value == ppbuf)
			req->query[i].value = "";
	json_decref(items);
	json_decref(total);
	return r;
}

/* ------------------------------------------------------------------ page cursors */

long
tool_pg_link_next(const struct http_resp *resp)
{
	const char *link = http_resp_header(resp, "link"), *p;

	for (p = link; p != NULL && (p = strchr(p, '<')) != NULL;) {
		const char *end = strchr(p, '>'), *stop, *q;

		if (end == NULL)
			return 0;
		stop = strchr(end, ',');
		q = strstr(end, "rel=\"next\"");
		if (q != NULL && (stop == NULL || q < stop)) {
			for (q = p; q < end; q++)
				if ((q[0] == '?' || q[0] == '&') && strncmp(q + 1, "page=", 5) == 0) {
					long v = strtol(q + 6, NULL, 10);

					return v > 0 && v < 1000000 ? v : 0;
				}
			return 0;
		}
		p = end;
	}
	return 0;
}

long
tool_pg_header_long(const struct http_resp *resp, const char *lname, long def)
{
	const char *v = http_resp_header(resp, lname);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || n < 0)
		return def;
	return n;
}
