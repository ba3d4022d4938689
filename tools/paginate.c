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

	snprintf(b, sizeof(b), "%lld", (long long)v);
	return tool_pg_query(req, k, b, err);
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

/* ------------------------------------------------------------------ text */

/* Length of the well-formed UTF-8 sequence at p (n bytes left; RFC 3629: no overlongs, no
 * surrogates, <= U+10FFFF), or 0 when it is not one. NUL counts as not one. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return c != 0 ? 1 : 0;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

bool
tool_pg_is_text(const char *p, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if ((k = utf8_seq((const unsigned char *)p + i, n - i)) == 0)
			return false;
	return true;
}

/* A JSON string of p[0..n) with every byte that is not valid UTF-8 (and NUL) as U+FFFD. */
static json_t *
json_text(const char *p, size_t n)
{
	char *o;
	size_t k, j = 0;
	json_t *s;

	if (tool_pg_is_text(p, n))
		return json_stringn(p, n);
	if (n > SIZE_MAX / 3 - 1 || (o = malloc(n * 3 + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += k) {
		if ((k = utf8_seq((const unsigned char *)p + i, n - i)) == 0) {
			memcpy(o + j, "\xef\xbf\xbd", 3);
			j += 3;
			k = 1;
			continue;
		}
		memcpy(o + j, p + i, k);
		j += k;
	}
	s = json_stringn(o, j);
	free(o);
	return s;
}

/* Remove ANSI escape sequences in place (CSI "ESC [ ... final", OSC "ESC ] ... BEL|ESC \",
 * other two-byte escapes); returns the new length. */
static size_t
ansi_strip(char *b, size_t n)
{
	size_t o = 0, i = 0;

	while (i < n) {
		if (b[i] != 0x1b) {
			b[o++] = b[i++];
			continue;
		}
		if (i + 1 >= n)
			break;
		if (b[i + 1] == '[') {
			for (i += 2; i < n && !(b[i] >= 0x40 && b[i] <= 0x7e); i++)
				;
			i = i < n ? i + 1 : n;
		} else if (b[i + 1] == ']') {
			for (i += 2; i < n && b[i] != 0x07 && !(b[i] == 0x1b && i + 1 < n &&
			    b[i + 1] == '\\'); i++)
				;
			i = i >= n ? n : (b[i] == 0x07 ? i + 1 : i + 2);
		} else {
			i += 2;
		}
	}
	return o;
}

json_t *
tool_pg_text_tail(char *buf, size_t len, size_t tail, bool strip_ansi, bool *cut)
{
	size_t start = 0;

	*cut = false;
	if (buf == NULL)
		return json_string("");
	if (strip_ansi)
		len = ansi_strip(buf, len);
	if (len > tail) {
		const char *nl;
		size_t look = tail < 4096 ? tail : 4096;

		start = len - tail;
		*cut = true;
		/* start at a line when one begins near the cut, else at a character boundary */
		if ((nl = memchr(buf + start, '\n', look)) != NULL &&
		    (size_t)(nl + 1 - buf) < len)
			start = (size_t)(nl + 1 - buf);
		else
			while (start < len && ((unsigned char)buf[start] & 0xc0) == 0x80)
				start++;
	}
	return json_text(buf + start, len - start);
}

int
tool_pg_b64(const unsigned char *p, size_t n, char **out, size_t *outlen)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t olen = (n + 2) / 3 * 4, o = 0, i;
	char *b;

	if (n > (SIZE_MAX - 4) / 4 * 3 || (b = malloc(olen + 1)) == NULL)
		return -ENOMEM;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		b[o++] = tab[v >> 18];
		b[o++] = tab[(v >> 12) & 63];
		b[o++] = tab[(v >> 6) & 63];
		b[o++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		b[o++] = tab[v >> 18];
		b[o++] = tab[(v >> 12) & 63];
		b[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		b[o++] = '=';
	}
	b[o] = '\0';
	*out = b;
	if (outlen != NULL)
		*outlen = o;
	return 0;
}

/* ------------------------------------------------------------------ zip listing */

static uint32_t
le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* Offset of the end-of-central-directory record, searched backwards over the comment. */
static bool
zip_eocd(const unsigned char *p, size_t n, size_t *at)
{
	size_t lo;

	if (n < 22)
		return false;
	lo = n - 22 > 65535 ? n - 22 - 65535 : 0;
	for (size_t i = n - 22 + 1; i-- > lo;)
		if (le32(p + i) == 0x06054b50 && i + 22 + le16(p + i + 20) == n) {
			*at = i;
			return true;
		}
	return false;
}

json_t *
tool_pg_zip_list(const unsigned char *p, size_t n)
{
	size_t eocd, off, total, cdend;
	json_t *files;

	if (p == NULL || !zip_eocd(p, n, &eocd))
		return NULL;
	total = le16(p + eocd + 10);
	off = le32(p + eocd + 16);
	cdend = off + (size_t)le32(p + eocd + 12);
	if (off == 0xffffffffu || cdend > eocd || cdend < off)
		return NULL;	/* zip64 or inconsistent: not listed */
	files = json_array();
	for (size_t k = 0; k < total && files != NULL; k++) {
		size_t nl, adv;

		if (off + 46 > cdend || le32(p + off) != 0x02014b50)
			goto bad;
		nl = le16(p + off + 28);
		adv = 46 + nl + le16(p + off + 30) + le16(p + off + 32);
		if (off + adv > cdend)
			goto bad;
		if (k < TOOL_PG_ZIP_ENTRIES_MAX)
			json_array_append_new(files, json_pack("{s:o, s:I, s:I}", "name",
			    json_text((const char *)p + off + 46, nl), "size",
			    (json_int_t)le32(p + off + 24), "compressed_size",
			    (json_int_t)le32(p + off + 20)));
		off += adv;
	}
	return json_pack("{s:o, s:I}", "files", files, "total", (json_int_t)total);
bad:
	json_decref(files);
	return NULL;
}

/* ------------------------------------------------------------------ secrets */

#define REDACTED "[REDACTED]"

struct needles {
	const char *s[2];
	size_t n[2];
	size_t count;
};

static void
needles_of(const struct tool_call *call, const struct tool_pg_cred *c, struct needles *nd)
{
	const char *sec = tool_pg_secret(call);

	nd->count = 0;
	if (sec != NULL && strlen(sec) >= TOOL_PG_SECRET_MIN) {
		nd->s[nd->count] = sec;
		nd->n[nd->count++] = strlen(sec);
	}
	if (c != NULL && c->alt != NULL && c->alt_len >= TOOL_PG_SECRET_MIN) {
		nd->s[nd->count] = c->alt;
		nd->n[nd->count++] = c->alt_len;
	}
}

/* s with every needle replaced; NULL when none occurs (or out of memory: the caller then
 * keeps nothing of s, see scrub_string). */
static char *
replace_all(const char *s, size_t len, const struct needles *nd, size_t *olen, bool *hit)
{
	size_t rl = strlen(REDACTED), o = 0;
	char *out;

	*hit = false;
	for (size_t k = 0; k < nd->count; k++)
		if (memmem(s, len, nd->s[k], nd->n[k]) != NULL)
			*hit = true;
	if (!*hit)
		return NULL;
	/* each byte grows to at most rl bytes (a 1-byte match is not scrubbed: min length) */
	if (len > (SIZE_MAX - 1) / rl || (out = malloc(len * rl + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t k;

		for (k = 0; k < nd->count; k++)
			if (nd->n[k] <= len - i && memcmp(s + i, nd->s[k], nd->n[k]) == 0)
				break;
		if (k < nd->count) {
			memcpy(out + o, REDACTED, rl);
			o += rl;
			i += nd->n[k];
		} else {
			out[o++] = s[i++];
		}
	}
	out[o] = '\0';
	*olen = o;
	return out;
}

/* A replacement for v when it (or something inside it) holds a needle, else NULL. */
static json_t *
scrub_value(json_t *v, const struct needles *nd)
{
	if (json_is_string(v)) {
		size_t ol;
		bool hit;
		char *r = replace_all(json_string_value(v), json_string_length(v), nd, &ol, &hit);
		json_t *s;

		if (!hit)
			return NULL;
		s = r ? json_stringn(r, ol) : json_string(REDACTED);
		free(r);
		return s ? s : json_string(REDACTED);
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *e, *n;

		json_array_foreach(v, i, e)
			if ((n = scrub_value(e, nd)) != NULL)
				json_array_set_new(v, i, n);
		return NULL;
	}
	if (json_is_object(v)) {
		const char *k;
		void *tmp;
		json_t *e, *n, *renamed = json_object();

		json_object_foreach_safe(v, tmp, k, e) {
			size_t ol;
			bool hit;
			char *nk;

			if ((n = scrub_value(e, nd)) != NULL)
				json_object_set_new(v, k, n);
			nk = replace_all(k, strlen(k), nd, &ol, &hit);
			if (hit) {
				json_object_set(renamed, nk ? nk : REDACTED, json_object_get(v, k));
				json_object_del(v, k);
			}
			free(nk);
		}
		json_object_update(v, renamed);
		json_decref(renamed);
	}
	return NULL;
}

int
tool_pg_scrub(json_t **result, const struct tool_call *call, const struct tool_pg_cred *c)
{
	struct needles nd;
	json_t *n;

	needles_of(call, c, &nd);
	if (*result == NULL || nd.count == 0)
		return 0;
	if ((n = scrub_value(*result, &nd)) != NULL) {
		json_decref(*result);
		*result = n;
	}
	return 0;
}

void
tool_pg_scrub_text(char *text, size_t size, const struct tool_call *call,
    const struct tool_pg_cred *c)
{
	struct needles nd;
	size_t ol;
	bool hit;
	char *r;

	needles_of(call, c, &nd);
	if (nd.count == 0 || text == NULL)
		return;
	r = replace_all(text, strlen(text), &nd, &ol, &hit);
	if (hit)
		snprintf(text, size, "%s", r ? r : REDACTED);
	free(r);
}

bool
tool_pg_holds_secret(const struct tool_call *call, const struct tool_pg_cred *c,
    const char *p, size_t n)
{
	struct needles nd;

	needles_of(call, c, &nd);
	for (size_t k = 0; k < nd.count; k++)
		if (p != NULL && memmem(p, n, nd.s[k], nd.n[k]) != NULL)
			return true;
	return false;
}

/* ------------------------------------------------------------------ shaping */

static json_t *
capped(json_t *v)
{
	if (json_is_string(v) && json_string_length(v) > TOOL_PG_TEXT_FIELD_MAX) {
		const char *s = json_string_value(v);
		size_t n = TOOL_PG_TEXT_FIELD_MAX;

		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		return json_stringn(s, n);
	}
	return json_incref(v);
}

static void
pick_one(json_t *src, json_t *out, const char *field)
{
	char path[128], *tok[8], *save = NULL, *t;
	size_t nt = 0;
	json_t *cur = src;

	if (snprintf(path, sizeof(path), "%s", field) >= (int)sizeof(path))
		return;
	for (t = strtok_r(path, ".", &save); t != NULL && nt < 8; t = strtok_r(NULL, ".", &save))
		tok[nt++] = t;
	for (size_t i = 0; i < nt && cur != NULL; i++)
		cur = json_object_get(cur, tok[i]);
	if (cur == NULL || nt == 0)
		return;
	for (size_t i = 0; i + 1 < nt; i++) {
		json_t *child = json_object_get(out, tok[i]);

		if (child == NULL) {
			child = json_object();
			json_object_set_new(out, tok[i], child);
		}
		if (!json_is_object(child))
			return;
		out = child;
	}
	json_object_set_new(out, tok[nt - 1], capped(cur));
}

json_t *
tool_pg_pick(json_t *src, const char *const *fields)
{
	json_t *out = json_object();

	if (out == NULL || !json_is_object(src))
		return out;
	for (size_t i = 0; fields[i] != NULL; i++)
		pick_one(src, out, fields[i]);
	return out;
}

json_t *
tool_pg_pick_all(json_t *src, const char *const *fields)
{
	json_t *out = json_array(), *e;
	size_t i;

	json_array_foreach(src, i, e)
		if (json_is_object(e))
			json_array_append_new(out, tool_pg_pick(e, fields));
	return out;
}

json_t *
tool_pg_dry_run(const struct http_req *req, json_t *body)
{
	json_t *q = json_array();

	for (size_t i = 0; i < req->nquery; i++)
		json_array_append_new(q, json_pack("[s,s]", req->query[i].name,
		    req->query[i].value));
	if (body == NULL && req->body != NULL && req->content_type != NULL &&
	    strstr(req->content_type, "json") != NULL)
		body = json_loadb(req->body, req->body_len, 0, NULL);
	return json_pack("{s:b, s:{s:s, s:s, s:o, s:o}}", "dry_run", 1, "request", "method",
	    req->method, "path", req->path, "query", q, "body", body ? body : json_null());
}
