/* Request building, response reading and pagination for the HTTP families: pure code (no curl,
 * no I/O), so the supervisor and the family libraries can link it.
 *
 * The path is built from pieces: literals chosen by the family and segments taken from
 * arguments, each percent-encoded so that an argument can never add a '/', a '?', a '#', a
 * dot-segment or a control character to the URL.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bsd/string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/http.h"

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

int
http_pct_encode(const char *s, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c)) {
			if (o + 1 >= outlen)
				return ERR_TOOBIG;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outlen)
				return ERR_TOOBIG;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= outlen)
		return ERR_TOOBIG;
	out[o] = '\0';
	return (int)o;
}

void
http_req_init(struct http_req *req, const char *method)
{
	memset(req, 0, sizeof(*req));
	req->method = method;
}

int
http_path_add(struct http_req *req, const char *literal)
{
	size_t cur = strnlen(req->path, sizeof(req->path)), n = strlen(literal);

	if (literal[0] != '/')
		return ERR_SCHEMA;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)literal[i];

		/* Literals come from family code; still keep them to a safe alphabet. */
		if (!(is_unreserved(c) || c == '/' || c == ':' || c == '@' || c == '%'))
			return ERR_SCHEMA;
	}
	if (cur + n >= sizeof(req->path))
		return ERR_TOOBIG;
	memcpy(req->path + cur, literal, n + 1);
	return 0;
}

static int
seg_append(struct http_req *req, const char *seg, size_t len)
{
	size_t cur = strnlen(req->path, sizeof(req->path));
	int n;

	if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
		return ERR_SCHEMA;	/* empty and dot segments change the path shape */
	if (memchr(seg, '\0', len) != NULL)
		return ERR_SCHEMA;
	if (cur + 1 >= sizeof(req->path))
		return ERR_TOOBIG;
	req->path[cur] = '/';
	if ((n = http_pct_encode(seg, len, req->path + cur + 1, sizeof(req->path) - cur - 1)) < 0) {
		req->path[cur] = '\0';
		return n;
	}
	return 0;
}

int
http_path_seg(struct http_req *req, const char *seg)
{
	return seg_append(req, seg, strlen(seg));
}

int
http_path_segs(struct http_req *req, const char *path)
{
	size_t save = strnlen(req->path, sizeof(req->path));
	const char *p = path;
	int r;

	for (;;) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if ((r = seg_append(req, p, len)) < 0) {
			req->path[save] = '\0';
			return r;
		}
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

int
http_query_add(struct http_req *req, const char *k, const char *v)
{
	if (k == NULL || v == NULL || k[0] == '\0')
		return ERR_SCHEMA;
	if (req->nquery >= HTTP_MAX_KV)
		return ERR_TOOBIG;
	req->query[req->nquery].name = k;
	req->query[req->nquery].value = v;
	req->nquery++;
	return 0;
}

static const char *
sbuf_copy(struct http_req *req, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d;

	if (req->slen + n > sizeof(req->sbuf))
		return NULL;
	d = req->sbuf + req->slen;
	memcpy(d, s, n);
	req->slen += n;
	return d;
}

int
http_query_add_copy(struct http_req *req, const char *k, const char *v)
{
	const char *c;

	if (v == NULL)
		return ERR_SCHEMA;
	if ((c = sbuf_copy(req, v)) == NULL)
		return ERR_TOOBIG;
	return http_query_add(req, k, c);
}

int
http_query_set_copy(struct http_req *req, const char *k, const char *v)
{
	const char *c;

	if (v == NULL)
		return ERR_SCHEMA;
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].name, k) == 0) {
			if ((c = sbuf_copy(req, v)) == NULL)
				return ERR_TOOBIG;
			req->query[i].value = c;
			return 0;
		}
	return http_query_add_copy(req, k, v);
}

int
http_query_add_int(struct http_req *req, const char *k, long long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", v);
	return http_query_add_copy(req, k, b);
}

static bool
header_name_ok(const char *k)
{
	if (k == NULL || k[0] == '\0' || strlen(k) > 128)
		return false;
	for (const char *p = k; *p; p++)
		if (!(is_unreserved((unsigned char)*p) && *p != '~'))
			return false;	/* letters, digits, '-', '.', '_' only */
	return true;
}

static bool
header_value_ok(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

int
http_header_add(struct http_req *req, const char *k, const char *v)
{
	if (!header_name_ok(k) || v == NULL || !header_value_ok(v))
		return ERR_SCHEMA;
	if (req->nheaders >= HTTP_MAX_KV)
		return ERR_TOOBIG;
	req->headers[req->nheaders].name = k;
	req->headers[req->nheaders].value = v;
	req->nheaders++;
	return 0;
}

int
http_cred_add(struct http_req *req, const char *name, const char *prefix, const char *secret)
{
	size_t pl = prefix ? strlen(prefix) : 0, sl, nl;
	char *d;

	if (secret == NULL || secret[0] == '\0')
		return ERR_MISSING;
	sl = strlen(secret);
	nl = strlen(name) + 1;
	if (!header_name_ok(name) || !header_value_ok(secret) || (prefix && !header_value_ok(prefix)))
		return ERR_SCHEMA;
	if (req->ncred >= sizeof(req->cred_headers) / sizeof(req->cred_headers[0]))
		return ERR_TOOBIG;
	if (req->credlen + nl + pl + sl + 1 > sizeof(req->credbuf))
		return ERR_TOOBIG;
	d = req->credbuf + req->credlen;
	memcpy(d, name, nl);
	req->cred_headers[req->ncred].name = d;
	d += nl;
	if (pl)
		memcpy(d, prefix, pl);
	memcpy(d + pl, secret, sl + 1);
	req->cred_headers[req->ncred].value = d;
	req->ncred++;
	req->credlen += nl + pl + sl + 1;
	return 0;
}

int
http_cred_basic(struct http_req *req, const char *userpass)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(userpass), o = 0;
	char enc[2800];
	int r;

	if (n == 0)
		return ERR_MISSING;
	if ((n + 2) / 3 * 4 + 1 > sizeof(enc))
		return ERR_TOOBIG;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)userpass[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)userpass[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)userpass[i + 2];
		enc[o++] = b64[(v >> 18) & 63];
		enc[o++] = b64[(v >> 12) & 63];
		enc[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		enc[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	enc[o] = '\0';
	r = http_cred_add(req, "Authorization", "Basic ", enc);
	explicit_bzero(enc, sizeof(enc));
	return r;
}

const char *
http_ctx_secret(const json_t *ctx)
{
	return json_string_value(json_object_get(ctx, "secret"));
}

void
http_req_wipe(struct http_req *req)
{
	explicit_bzero(req->credbuf, sizeof(req->credbuf));
	req->credlen = 0;
	req->ncred = 0;
	memset(req->cred_headers, 0, sizeof(req->cred_headers));
}

bool
http_status_ok(const struct http_req *req, long status)
{
	if (req->nok == 0)
		return status >= 200 && status < 300;
	for (size_t i = 0; i < req->nok && i < sizeof(req->ok) / sizeof(req->ok[0]); i++)
		if (req->ok[i] == status)
			return true;
	return false;
}

/* ---------------------------------------------------------------- responses */

void
http_resp_clear(struct http_resp *r)
{
	if (r == NULL)
		return;
	free(r->body);
	for (size_t i = 0; i < r->nheaders; i++) {
		free((char *)r->headers[i].name);
		free((char *)r->headers[i].value);
	}
	free(r->headers);
	free(r->final_url);
	memset(r, 0, sizeof(*r));
}

const char *
http_resp_header(const struct http_resp *r, const char *lname)
{
	/* Last one wins: after a 1xx or a retry only the final response's headers are kept, but
	 * a repeated header keeps its latest value. */
	for (size_t i = r->nheaders; i-- > 0;)
		if (strcasecmp(r->headers[i].name, lname) == 0)
			return r->headers[i].value;
	return NULL;
}

void
http_err_set(struct tool_err *err, int code, int http_status, bool retryable, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->code = code;
	err->http_status = http_status;
	err->retryable = retryable;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
}

int
http_resp_json(const struct http_resp *r, json_t **out, struct tool_err *err)
{
	json_error_t jerr;

	*out = NULL;
	if (r->truncated) {
		http_err_set(err, ERR_TOOBIG, (int)r->status, false,
		    "response body too large (over %zu bytes)", r->len);
		return ERR_TOOBIG;
	}
	if (r->body == NULL || r->len == 0) {
		http_err_set(err, ERR_PROTO, (int)r->status, false, "empty response body");
		return ERR_PROTO;
	}
	*out = json_loadb(r->body, r->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (*out == NULL) {
		http_err_set(err, ERR_PROTO, (int)r->status, false,
		    "malformed JSON from server at line %d column %d: %s", jerr.line, jerr.column,
		    jerr.text);
		return ERR_PROTO;
	}
	return 0;
}

static void
one_line(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < len && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r') {
			if (o > 0)
				break;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		out[o++] = (char)c;
	}
	out[o] = '\0';
}

static const char *
json_str_of(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && s[0] ? s : NULL;
}

void
http_api_message(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *j;
	const char *m, *t;

	out[0] = '\0';
	if (body == NULL || len == 0)
		return;
	if ((j = json_loadb(body, len, 0, NULL)) != NULL && json_is_object(j)) {
		char tmp[1024];

		t = json_str_of(j, "errorType");	/* Prometheus */
		if ((m = json_str_of(j, "message")) == NULL && (m = json_str_of(j, "error")) == NULL)
			m = json_str_of(j, "error_description");
		if (m == NULL && json_is_object(json_object_get(j, "message")))
			m = "(see message fields)";	/* GitLab validation errors */
		if (m != NULL) {
			if (t != NULL)
				snprintf(tmp, sizeof(tmp), "%s: %s", t, m);
			else
				snprintf(tmp, sizeof(tmp), "%s", m);
			one_line(tmp, strlen(tmp), out, outlen);
		}
		json_decref(j);
		return;
	}
	json_decref(j);
	one_line(body, len, out, outlen);
}

void
http_err_from_resp(const struct http_resp *r, struct tool_err *err)
{
	char msg[400];
	int code = ERR_HTTP;
	long s = r->status;

	http_api_message(r->body, r->len, msg, sizeof(msg));
	if (s == 404 || s == 410)
		code = ERR_NOTFOUND;
	else if (s == 429)
		code = ERR_RATE;
	http_err_set(err, code, (int)s, s == 429 || s == 502 || s == 503 || s == 504,
	    "HTTP %ld%s%s", s, msg[0] ? ": " : "", msg);
}

/* Overwrite every occurrence of needle in buf with '*' (same length: no reallocation). */
static void
scrub_one(char *buf, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	char *p = buf;

	if (buf == NULL || n < 6)
		return;
	while ((p = memmem(p, len - (size_t)(p - buf), needle, n)) != NULL) {
		memset(p, '*', n);
		p += n;
	}
}

void
http_scrub(char *buf, size_t len, const char *secret)
{
	char esc[4096 * 2 + 1];
	size_t o = 0;

	if (buf == NULL || secret == NULL)
		return;
	scrub_one(buf, len, secret);
	/* The JSON spelling with escaped slashes decodes back to the secret. */
	if (strchr(secret, '/') == NULL)
		return;
	for (const char *s = secret; *s && o + 3 < sizeof(esc); s++) {
		if (*s == '/')
			esc[o++] = '\\';
		esc[o++] = *s;
	}
	esc[o] = '\0';
	scrub_one(buf, len, esc);
	explicit_bzero(esc, sizeof(esc));
}

/* ---------------------------------------------------------------- endpoint from ctx */

int
http_endpoint_from_ctx(const json_t *ctx, struct http_endpoint *ep, const char **hosts,
    size_t nhosts, char *errbuf, size_t errlen)
{
	json_t *e = json_object_get(ctx, "endpoint"), *v, *h;
	size_t i, n = 0;

	memset(ep, 0, sizeof(*ep));
	if (!json_is_object(e) || (ep->url = json_string_value(json_object_get(e, "url"))) == NULL) {
		snprintf(errbuf, errlen, "call context has no endpoint url");
		return ERR_CONFIG;
	}
	ep->name = json_string_value(json_object_get(e, "name"));
	ep->ca_file = json_string_value(json_object_get(e, "ca_file"));
	ep->ca_pem = json_string_value(json_object_get(e, "ca_pem"));
	if ((v = json_object_get(e, "connect_timeout_ms")) && json_integer_value(v) > 0)
		ep->connect_timeout_ms = (uint32_t)json_integer_value(v);
	if ((v = json_object_get(e, "timeout_ms")) && json_integer_value(v) > 0)
		ep->timeout_ms = (uint32_t)json_integer_value(v);
	if (hosts != NULL && nhosts > 0) {
		json_array_foreach(json_object_get(e, "redirect_hosts"), i, h)
			if (json_is_string(h) && n + 1 < nhosts)
				hosts[n++] = json_string_value(h);
		hosts[n] = NULL;
		ep->redirect_hosts = hosts;
	}
	return 0;
}

/* ---------------------------------------------------------------- pagination */

int
http_link_next(const char *link, char *out, size_t outlen)
{
	const char *p = link;

	/* Link: <url>; rel="next", <url>; rel="last" (RFC 8288). URLs never hold '>'. */
	while (p && (p = strchr(p, '<')) != NULL) {
		const char *e = strchr(p, '>'), *params, *next;
		size_t n;

		if (e == NULL)
			return 0;
		params = e + 1;
		next = strchr(params, '<');
		n = next ? (size_t)(next - params) : strlen(params);
		for (const char *q = params; q + 8 <= params + n; q++)
			if (strncasecmp(q, "rel=\"next\"", 10) == 0 || strncasecmp(q, "rel=next", 8) == 0) {
				size_t ul = (size_t)(e - p - 1);

				if (ul + 1 > outlen)
					return ERR_TOOBIG;
				memcpy(out, p + 1, ul);
				out[ul] = '\0';
				return 1;
			}
		p = next;
	}
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %XX and '+' (form encoding) of s[0..len) into the pager buffer. */
static const char *
pg_decode(struct http_pager *pg, size_t *used, const char *s, size_t len)
{
	char *d = pg->buf + *used, *start = d;

	if (*used + len + 1 > sizeof(pg->buf))
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			char c = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));

			if (c == '\0')
				return NULL;
			*d++ = c;
			i += 2;
		} else {
			*d++ = s[i] == '+' ? ' ' : s[i];
		}
	}
	*d++ = '\0';
	*used += (size_t)(d - start);
	return start;
}

/* Split "scheme://authority/path" of a URL; returns the length of "scheme://authority". */
static size_t
url_origin_len(const char *u)
{
	const char *s = strstr(u, "://"), *p;

	if (s == NULL)
		return 0;
	p = s + 3;
	p += strcspn(p, "/?#");
	return (size_t)(p - u);
}

static bool
path_chars_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!(is_unreserved(c) || c == '/' || c == '%' || c == ':' || c == '@' || c == '=' ||
		    c == ',' || c == ';' || c == '+' || c == '!' || c == '$' || c == '&' || c == '\''))
			return false;
	}
	return true;
}

static int
pg_from_link(struct http_pager *pg, const char *base_url, const char *next, struct http_req *req)
{
	size_t olen = url_origin_len(base_url), blen, plen, used = 0;
	const char *base_path = base_url + olen, *path, *q, *e;

	blen = strcspn(base_path, "?#");
	while (blen > 0 && base_path[blen - 1] == '/')
		blen--;
	/* Same scheme, host and port (compared case-insensitively), and under the base path. */
	if (olen == 0 || strncasecmp(next, base_url, olen) != 0 ||
	    (next[olen] != '/' && next[olen] != '?') || strncmp(next + olen, base_path, blen) != 0)
		return ERR_EGRESS;
	path = next + olen + blen;
	plen = strcspn(path, "?#");
	if (plen == 0 || path[0] != '/' || plen >= sizeof(req->path) || !path_chars_ok(path, plen) ||
	    strstr(path, "/../") || strstr(path, "/./"))
		return ERR_EGRESS;
	memcpy(req->path, path, plen);
	req->path[plen] = '\0';
	req->nquery = 0;
	q = path[plen] == '?' ? path + plen + 1 : NULL;
	while (q && *q && *q != '#') {
		size_t n = strcspn(q, "&#"), kl;
		const char *k, *v;

		e = memchr(q, '=', n);
		kl = e ? (size_t)(e - q) : n;
		if (kl > 0) {
			if ((k = pg_decode(pg, &used, q, kl)) == NULL ||
			    (v = pg_decode(pg, &used, e ? e + 1 : q + n, e ? n - kl - 1 : 0)) == NULL)
				return ERR_TOOBIG;
			if (http_query_add(req, k, v) < 0)
				return ERR_TOOBIG;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return 1;
}

int
http_page_next(struct http_pager *pg, const char *base_url, const struct http_resp *resp,
    struct http_req *req)
{
	unsigned max = pg->max_pages ? pg->max_pages : LIM_HTTP_PAGES_MAX;
	const char *link = http_resp_header(resp, "link"), *np = http_resp_header(resp, "x-next-page");
	char next[LIM_URL_MAX];
	int r = 0;

	pg->pages++;
	if (link != NULL && (r = http_link_next(link, next, sizeof(next))) < 0)
		return r;
	if (r == 0 && (np == NULL || np[0] == '\0'))
		return 0;
	if (pg->pages >= max) {
		pg->capped = true;
		return 0;
	}
	if (r == 1)
		return pg_from_link(pg, base_url, next, req);
	for (const char *p = np; *p; p++)
		if (*p < '0' || *p > '9')
			return ERR_PROTO;
	if (strlen(np) >= 16)
		return ERR_PROTO;
	strlcpy(pg->buf, np, sizeof(pg->buf));
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].name, "page") == 0) {
			req->query[i].value = pg->buf;
			return 1;
		}
	return http_query_add(req, "page", pg->buf) < 0 ? ERR_TOOBIG : 1;
}

/* ---------------------------------------------------------------- shaping helpers */

json_t *
http_json_get(const json_t *j, const char *path)
{
	char key[128];

	while (j && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		j = json_object_get(j, key);
		path += n + (path[n] == '.');
	}
	return (json_t *)j;
}

json_t *
http_json_str(const json_t *j, const char *path, size_t max)
{
	json_t *v = http_json_get(j, path);
	const char *s = json_string_value(v);
	size_t n;

	if (s == NULL)
		return json_null();
	n = json_string_length(v);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;	/* cut on a UTF-8 boundary */
	}
	return json_stringn(s, n);
}
