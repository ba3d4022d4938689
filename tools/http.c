/* The libcurl client behind io->http (see tools/http.h and docs/HTTP.md).
 *
 * One client holds a small pool of idle easy handles, so that connections and TLS sessions
 * are reused between calls while several calls may run on different threads. Each handle is
 * bound for life to the endpoint (name, URL, CA) it was made for: its connection cache only
 * ever holds connections made for that endpoint, and a connection is never reused for another
 * one (the worker itself serves one tenant and one family); the pool is in tools/http_pool.c.
 * Every exchange sets every option again (curl_easy_reset on return to the pool), so no option
 * of one call leaks into the next.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <curl/curl.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/http.h"
#include "tools/http_int.h"

#define BACKOFF_BASE_MS	200

/* One attempt's state, shared with the curl callbacks. */
struct xfer {
	struct http_client *c;
	struct http_resp *resp;
	size_t cap;
	bool raw;
	bool too_big;		/* JSON body over the cap: the exchange fails */
	int egress_rc;		/* the connect hook's failure, if it failed */
	unsigned requests;	/* requests sent: libcurl resends once on its own when a reused
				 * connection turns out dead, and that one counts as a retry */
	char host[256];
	unsigned port;
};

static int64_t
now_ms(void)
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

/* ---------------------------------------------------------------- callbacks */

/* Bytes allocated for a body of n bytes and its NUL: powers of two up to the cap, so a body
 * costs O(log n) reallocs, not one per chunk (each a full copy under ASan). A function of n
 * alone: nothing to keep in step when a retry clears the response. */
static size_t
body_alloc(size_t n, size_t cap)
{
	size_t a = 4096;

	while (a < n + 1)
		a *= 2;
	return a < cap + 1 ? a : cap + 1;
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	struct http_resp *r = x->resp;
	size_t n = size * nmemb, take = n;
	char *nb;

	if (r->len + take > x->cap) {
		take = x->cap - r->len;
		r->truncated = true;
	}
	if (take > 0) {
		size_t have = body_alloc(r->len, x->cap), need = body_alloc(r->len + take, x->cap);

		if (r->body == NULL || need > have) {
			if ((nb = realloc(r->body, need)) == NULL)
				return 0;
			r->body = nb;
		}
		memcpy(r->body + r->len, ptr, take);
		r->len += take;
		r->body[r->len] = '\0';
	}
	if (r->truncated) {
		x->too_big = !x->raw;
		return 0;	/* stop reading: CURLE_WRITE_ERROR, judged by the caller */
	}
	return n;
}

static void
resp_headers_reset(struct http_resp *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free((char *)r->headers[i].name);
		free((char *)r->headers[i].value);
	}
	r->nheaders = 0;
}

static int
resp_header_add(struct http_resp *r, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t nl, vs, ve;
	struct http_kv *nh;
	char *name, *val;

	if (colon == NULL || colon == line || r->nheaders >= LIM_HTTP_HEADERS_MAX)
		return 0;
	nl = (size_t)(colon - line);
	vs = nl + 1;
	while (vs < n && (line[vs] == ' ' || line[vs] == '\t'))
		vs++;
	ve = n;
	while (ve > vs && (line[ve - 1] == '\r' || line[ve - 1] == '\n' || line[ve - 1] == ' '))
		ve--;
	if ((nh = realloc(r->headers, (r->nheaders + 1) * sizeof(*nh))) == NULL)
		return -ENOMEM;
	r->headers = nh;
	if ((name = strndup(line, nl)) == NULL || (val = strndup(line + vs, ve - vs)) == NULL) {
		free(name);
		return -ENOMEM;
	}
	for (char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	r->headers[r->nheaders].name = name;
	r->headers[r->nheaders].value = val;
	r->nheaders++;
	return 0;
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	const char *cl;

	if (n > LIM_HTTP_HEADER_LINE_MAX)
		return n;	/* ignore absurd lines rather than store them */
	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		resp_headers_reset(x->resp);	/* a new response (after 1xx) */
		return n;
	}
	if (resp_header_add(x->resp, ptr, n) < 0)
		return 0;
	/* A JSON body announced over the cap fails before any byte of it is read. */
	if (!x->raw && (cl = http_resp_header(x->resp, "content-length")) != NULL &&
	    strtoull(cl, NULL, 10) > x->cap) {
		x->resp->truncated = true;
		x->too_big = true;
		return 0;
	}
	return n;
}

static int
on_prereq(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct xfer *x = ud;

	x->requests++;
	return CURL_PREREQFUNC_OK;
}

static curl_socket_t
on_opensocket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct xfer *x = ud;
	int fd = -1, r;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if ((r = x->c->connect(x->c->arg, x->host, x->port, &fd)) < 0 || fd < 0) {
		x->egress_rc = r < 0 ? r : ERR_EGRESS;
		return CURL_SOCKET_BAD;
	}
	return fd;
}

/* curl 7.88.1 still calls connect() on the socket after this answer (curl#10626): the worker's
 * seccomp filter makes connect() return 0 (docs/HTTP.md, "Egress"). */
static int
on_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose)
{
	return CURL_SOCKOPT_ALREADY_CONNECTED;
}

/* ---------------------------------------------------------------- URL and request */

struct target {
	char scheme[8];
	char host[256];
	unsigned port;
	char url[LIM_URL_MAX];
};

static bool
host_is_ip(const char *h)
{
	return strchr(h, ':') != NULL || strspn(h, "0123456789.") == strlen(h);
}

/* Check the request's own path: our encoder's alphabet only, no dot segments (raw or
 * percent-encoded), so nothing a family assembled can climb out of the base path. */
static int
path_check(const char *p)
{
	if (p[0] != '/')
		return ERR_SCHEMA;
	for (const char *s = p; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/%:@", c)))
			return ERR_SCHEMA;
	}
	for (const char *s = p; (s = strchr(s, '/')) != NULL; s++) {
		size_t n = strcspn(s + 1, "/");
		char seg[8];
		size_t k = 0;

		/* Decode a short segment; "." / ".." in any spelling is refused. */
		for (size_t i = 1; i <= n && k < sizeof(seg) - 1; i++) {
			if (s[i] == '%' && i + 2 <= n && (s[i + 1] == '2') &&
			    (s[i + 2] == 'e' || s[i + 2] == 'E')) {
				seg[k++] = '.';
				i += 2;
			} else {
				seg[k++] = s[i];
			}
		}
		seg[k] = '\0';
		if (n <= 6 && (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0))
			return ERR_SCHEMA;
	}
	return 0;
}

static int
target_build(const struct http_endpoint *ep, const struct http_req *req, struct target *t,
    struct tool_err *err)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
	size_t off;
	int r = ERR_CONFIG;

	if ((u = curl_url()) == NULL)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, ep->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		http_err_set(err, ERR_CONFIG, 0, false, "endpoint url is not a valid URL");
		goto out;
	}
	if ((strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) ||
	    curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK) {
		http_err_set(err, ERR_CONFIG, 0, false,
		    "endpoint url must be http(s)://host[:port][/path] without credentials, query or fragment");
		goto out;
	}
	strlcpy(t->scheme, scheme, sizeof(t->scheme));
	strlcpy(t->host, host, sizeof(t->host));
	t->port = (unsigned)strtoul(port, NULL, 10);
	off = strlen(path);
	while (off > 0 && path[off - 1] == '/')
		path[--off] = '\0';
	if ((r = path_check(req->path)) < 0) {
		http_err_set(err, ERR_SCHEMA, 0, false, "request path refused");
		goto out;
	}
	r = ERR_TOOBIG;
	off = (size_t)snprintf(t->url, sizeof(t->url), "%s://%s%s%s:%u%s%s", scheme,
	    strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", t->port, path,
	    req->path);
	if (off >= sizeof(t->url))
		goto toobig;
	for (size_t i = 0; i < req->nquery; i++) {
		const struct http_kv *q = &req->query[i];
		int n;

		if (off + 2 >= sizeof(t->url))
			goto toobig;
		t->url[off++] = i == 0 ? '?' : '&';
		if ((n = http_pct_encode(q->name, strlen(q->name), t->url + off,
		    sizeof(t->url) - off)) < 0)
			goto toobig;
		off += (size_t)n;
		if (off + 2 >= sizeof(t->url))
			goto toobig;
		t->url[off++] = '=';
		if ((n = http_pct_encode(q->value, strlen(q->value), t->url + off,
		    sizeof(t->url) - off)) < 0)
			goto toobig;
		off += (size_t)n;
	}
	r = 0;
	goto out;
toobig:
	http_err_set(err, ERR_TOOBIG, 0, false, "request URL longer than %u bytes", LIM_URL_MAX);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(extra);
	curl_url_cleanup(u);
	return r;
}

/* Headers a family may never set: they belong to the client or to the framing. */
static bool
header_reserved(const char *name)
{
	static const char *const res[] = { "host", "content-length", "transfer-encoding",
	    "connection", "expect", "user-agent", "content-type", "authorization", "cookie",
	    "proxy-authorization", "te", "upgrade", NULL };

	for (size_t i = 0; res[i]; i++)
		if (strcasecmp(name, res[i]) == 0)
			return true;
	return false;
}

static bool
header_text_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

/* Free a header list we built, overwriting every line first: the credential headers ("Bearer
 * <token>") must not stay behind in freed heap memory of a long-lived worker. (libcurl's own
 * copies, the request it formats, are wiped by the allocator http_global_init() gives it.) */
static void
slist_wipe_free(struct curl_slist *l)
{
	for (struct curl_slist *n = l; n != NULL; n = n->next)
		if (n->data != NULL)
			explicit_bzero(n->data, strlen(n->data));
	curl_slist_free_all(l);
}

static int
hdr_append(struct curl_slist **l, const char *name, const char *value)
{
	char line[LIM_HTTP_HEADER_LINE_MAX];
	struct curl_slist *n;
	int len;

	if (!header_text_ok(name) || !header_text_ok(value) || strchr(name, ':') || !name[0])
		return ERR_SCHEMA;
	/* "Name;" is curl's way to send a header with an empty value. */
	len = value[0] ? snprintf(line, sizeof(line), "%s: %s", name, value)
		       : snprintf(line, sizeof(line), "%s;", name);
	if (len < 0 || (size_t)len >= sizeof(line))
		return ERR_TOOBIG;
	n = curl_slist_append(*l, line);
	explicit_bzero(line, sizeof(line));
	if (n == NULL)
		return -ENOMEM;
	*l = n;
	return 0;
}

static int
headers_build(const struct http_req *req, bool with_cred, struct curl_slist **out,
    struct tool_err *err)
{
	struct curl_slist *l = NULL;
	int r = 0;

	for (size_t i = 0; i < req->nheaders && r == 0; i++) {
		if (header_reserved(req->headers[i].name)) {
			http_err_set(err, ERR_SCHEMA, 0, false, "header %.64s may not be set by a family",
			    req->headers[i].name);
			r = ERR_SCHEMA;
			break;
		}
		r = hdr_append(&l, req->headers[i].name, req->headers[i].value);
	}
	for (size_t i = 0; with_cred && i < req->ncred && i < 2 && r == 0; i++)
		r = hdr_append(&l, req->cred_headers[i].name, req->cred_headers[i].value);
	if (r == 0 && !(req->flags & HTTP_F_RAW))
		r = hdr_append(&l, "Accept", "application/json");
	/* ArgoCD wants Content-Type on every non-GET, bodiless DELETE included. */
	if (r == 0 && req->content_type != NULL)
		r = hdr_append(&l, "Content-Type", req->content_type);
	if (r == 0) {	/* "Expect:" removes curl's 100-continue round trip */
		struct curl_slist *n = curl_slist_append(l, "Expect:");

		if (n == NULL)
			r = -ENOMEM;
		else
			l = n;
	}
	if (r < 0) {
		if (err->code == 0)
			http_err_set(err, r, 0, false, "request header refused");
		slist_wipe_free(l);
		return r;
	}
	*out = l;
	return 0;
}

/* ---------------------------------------------------------------- one exchange */

static bool
method_ok(const char *m)
{
	static const char *const ms[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", NULL };

	for (size_t i = 0; m && ms[i]; i++)
		if (strcmp(m, ms[i]) == 0)
			return true;
	return false;
}

static void
set_method(CURL *h, const struct http_req *req)
{
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		return;
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body != NULL || strcmp(req->method, "DELETE") != 0) {
		/* POST/PUT/PATCH without a body still send "Content-Length: 0". */
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
}

static void
set_common(CURL *h, const struct http_endpoint *ep, struct xfer *x, char *errbuf,
    int64_t timeout_ms)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);	/* send exactly the path we checked */
	curl_easy_setopt(h, CURLOPT_USERAGENT, "corral/" CORRAL_VERSION);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ep->ca_pem != NULL) {
		/* the certificates themselves: a jailed worker cannot open the file */
		struct curl_blob ca = { .data = (void *)ep->ca_pem, .len = strlen(ep->ca_pem),
		    .flags = CURL_BLOB_COPY };

		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
	} else if (ep->ca_file != NULL) {
		curl_easy_setopt(h, CURLOPT_CAINFO, ep->ca_file);
	}
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(ep->connect_timeout_ms ? ep->connect_timeout_ms : LIM_HTTP_CONNECT_MS));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");	/* the cap applies after decoding */
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(h, CURLOPT_PREREQDATA, x);
	if (x->c->connect != NULL) {
		curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
		curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, x);
		curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
		curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, x);
	}
}

/* The egress hook failed: a refusal by policy is ERR_EGRESS; a connect (or name lookup) that
 * ran out of time is ERR_TIMEOUT; refused, unreachable, no address or a busy broker keep their
 * errno (and a broken broker channel its ERR_PROTO / ERR_CLOSED). Only the refusal is final. */
static int
egress_err(const struct xfer *x, struct tool_err *err)
{
	int rc = x->egress_rc;

	if (rc == ERR_EGRESS) {
		http_err_set(err, ERR_EGRESS, 0, false, "egress to %s:%u refused: destination not "
		    "allowed", x->host, x->port);
		return ERR_EGRESS;
	}
	if (rc == -ETIMEDOUT) {
		http_err_set(err, ERR_TIMEOUT, 0, true, "connect to %s:%u timed out", x->host,
		    x->port);
		return ERR_TIMEOUT;
	}
	http_err_set(err, rc, 0, true, "connect to %s:%u failed: %s", x->host, x->port,
	    err_str(rc));
	return rc;
}

/* Map a failed transfer to a structured error. Returns the error code. */
static int
transfer_err(CURLcode cc, const struct xfer *x, const char *errbuf, long os_errno,
    struct tool_err *err)
{
	const char *what = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	if (x->egress_rc < 0)
		return egress_err(x, err);
	if (x->too_big) {
		http_err_set(err, ERR_TOOBIG, (int)x->resp->status, false,
		    "response body larger than %zu bytes", x->cap);
		return ERR_TOOBIG;
	}
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		http_err_set(err, ERR_TIMEOUT, 0, true, "timed out: %s", what);
		return ERR_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		if (os_errno == EISCONN && x->c->connect != NULL) {
			http_err_set(err, ERR_SANDBOX, 0, false, "libcurl called connect() on the "
			    "supplied socket (curl#10626): the worker's seccomp filter must make "
			    "connect() return 0");
			return ERR_SANDBOX;
		}
		http_err_set(err, -ECONNREFUSED, 0, true, "connection failed: %s", what);
		return -ECONNREFUSED;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		http_err_set(err, ERR_CLOSED, 0, true, "connection lost: %s", what);
		return ERR_CLOSED;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		http_err_set(err, ERR_PEER, 0, false, "TLS: %s", what);
		return ERR_PEER;
	case CURLE_COULDNT_RESOLVE_HOST:
		http_err_set(err, ERR_CONFIG, 0, false, "cannot resolve: %s", what);
		return ERR_CONFIG;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
		http_err_set(err, ERR_PROTO, 0, false, "bad reply: %s", what);
		return ERR_PROTO;
	default:
		http_err_set(err, ERR_HTTP, 0, false, "transfer failed: %s", what);
		return ERR_HTTP;
	}
}

struct hop {
	const struct target *t;
	bool with_cred;
	int64_t timeout_ms;
	bool no_retry;		/* out: timed out after sending (a slow server, not a dead one) */
	unsigned requests;	/* out: requests sent (libcurl's own resend included) */
};

/* One attempt. 0 = an HTTP response arrived (any status) in resp; <0 = transfer error in err. */
static int
exchange(struct http_client *c, const struct http_endpoint *ep, const struct http_req *req,
    struct hop *hp, struct http_resp *resp, struct tool_err *err)
{
	struct xfer x = { .c = c, .resp = resp, .port = hp->t->port,
	    .raw = (req->flags & HTTP_F_RAW) != 0 || strcmp(req->method, "HEAD") == 0 };
	struct curl_slist *hdrs = NULL, *res = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", pin[300];
	long os_errno = 0;
	struct pooled ph;
	CURLcode cc;
	CURL *h;
	int r;

	x.cap = req->max_body ? req->max_body : LIM_HTTP_BODY_MAX;
	strlcpy(x.host, hp->t->host, sizeof(x.host));
	if ((r = headers_build(req, hp->with_cred, &hdrs, err)) < 0)
		return r;
	if ((r = http_pool_get(c, ep, &ph)) < 0) {
		slist_wipe_free(hdrs);
		return r;
	}
	h = ph.h;
	set_common(h, ep, &x, errbuf, hp->timeout_ms);
	set_method(h, req);
	curl_easy_setopt(h, CURLOPT_URL, hp->t->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (!(req->flags & HTTP_F_IDEMPOTENT)) {
		/* libcurl resends a request once by itself when a reused connection turns out to be
		 * dead; a mutating call must never be sent twice, so it gets a fresh connection. */
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	}
	if (c->connect != NULL && !host_is_ip(hp->t->host)) {
		/* No DNS in the worker: the hook's socket is the connection; the pinned address is
		 * never dialled (connect() is neutralised, see on_sockopt). */
		snprintf(pin, sizeof(pin), "%s:%u:127.0.0.1", hp->t->host, hp->t->port);
		res = curl_slist_append(NULL, pin);
		curl_easy_setopt(h, CURLOPT_RESOLVE, res);
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		long sent = 0;	/* the request went out (on a new or a reused connection) */

		curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
		hp->no_retry = sent > 0;
	}
	/* the broker already waited the whole connect budget: another try would wait it again */
	if (x.egress_rc == -ETIMEDOUT)
		hp->no_retry = true;
	hp->requests = x.requests;
	slist_wipe_free(hdrs);
	curl_slist_free_all(res);
	http_pool_put(c, &ph);
	if (cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && resp->truncated && !x.too_big &&
	    x.egress_rc == 0))
		return 0;
	return transfer_err(cc, &x, errbuf, os_errno, err);
}

/* How long to wait before retrying after a 429/503: Retry-After (seconds or HTTP date), then
 * rate-limit reset headers (GitHub x-ratelimit-reset, GitLab ratelimit-reset: Unix time), else
 * exponential backoff. */
static int64_t
retry_wait_ms(const struct http_resp *resp, unsigned attempt)
{
	const char *ra = resp ? http_resp_header(resp, "retry-after") : NULL, *rs;
	time_t now = time(NULL);
	long long v;

	if (ra != NULL) {
		char *end;

		v = strtoll(ra, &end, 10);
		if (end != ra && *end == '\0' && v >= 0)
			return v * 1000;
		if ((v = (long long)curl_getdate(ra, NULL)) > 0)
			return v > now ? (v - now) * 1000 : 0;
	}
	rs = resp ? http_resp_header(resp, "x-ratelimit-reset") : NULL;
	if (rs == NULL && resp)
		rs = http_resp_header(resp, "ratelimit-reset");
	if (rs != NULL && (v = strtoll(rs, NULL, 10)) > 0) {
		const char *rem = http_resp_header(resp, "x-ratelimit-remaining");

		if (rem == NULL || strcmp(rem, "0") == 0) {
			if (v > 1000000000LL)
				return v > now ? (v - now) * 1000 : 0;
			return v * 1000;
		}
	}
	return (int64_t)BACKOFF_BASE_MS << attempt;
}

/* Tell the caller when the server said it may try again (rate limits, maintenance). */
static void
retry_hint(const struct http_resp *resp, struct tool_err *err)
{
	const char *rem = http_resp_header(resp, "x-ratelimit-remaining");
	size_t n = strlen(err->text);

	if (http_resp_header(resp, "retry-after") == NULL &&
	    !(rem != NULL && strcmp(rem, "0") == 0) && http_resp_header(resp, "ratelimit-reset") == NULL)
		return;
	err->retryable = true;
	snprintf(err->text + n, sizeof(err->text) - n, " (retry after %lld s)",
	    (long long)((retry_wait_ms(resp, 0) + 999) / 1000));
}

static bool
status_retryable(long s)
{
	return s == 429 || s == 502 || s == 503 || s == 504;
}

static void
scrub_resp(const struct http_req *req, struct http_resp *resp, struct tool_err *err)
{
	for (size_t i = 0; i < req->ncred && i < 2; i++) {
		const char *v = req->cred_headers[i].value, *sp = strrchr(v, ' ');

		http_scrub(resp->body, resp->len, v);
		if (sp != NULL)
			http_scrub(resp->body, resp->len, sp + 1);	/* the token after "Bearer " */
		for (size_t k = 0; k < resp->nheaders; k++) {
			char *hv = (char *)resp->headers[k].value;

			http_scrub(hv, strlen(hv), v);
			if (sp != NULL)
				http_scrub(hv, strlen(hv), sp + 1);
		}
		if (err != NULL) {
			http_scrub(err->text, strlen(err->text), v);
			if (sp != NULL)
				http_scrub(err->text, strlen(err->text), sp + 1);
		}
	}
}

/* ---------------------------------------------------------------- retries and redirects */

/* One hop with the retry rules: only HTTP_F_IDEMPOTENT requests are retried, at most
 * LIM_HTTP_RETRIES times, on connection errors (connect timeouts included), 429, 502, 503 and
 * 504, and never past the deadline or after a server-announced wait over
 * LIM_HTTP_RETRY_AFTER_MAX_MS. A server that accepted the connection but was too slow is not
 * asked again: that would multiply the wait. */
static int
hop_do(struct http_client *c, const struct http_endpoint *ep, const struct http_req *req,
    const struct target *t, bool with_cred, int64_t deadline, struct http_resp *resp,
    struct tool_err *err)
{
	uint32_t op_ms = req->timeout_ms ? req->timeout_ms :
	    ep->timeout_ms ? ep->timeout_ms : LIM_HTTP_TOTAL_MS;
	bool idem = (req->flags & HTTP_F_IDEMPOTENT) != 0;
	unsigned sent = 0;
	int r;

	for (unsigned attempt = 0;; attempt++) {
		int64_t left = deadline - now_ms(), wait;
		struct hop hp = { .t = t, .with_cred = with_cred,
		    .timeout_ms = left < (int64_t)op_ms ? left : (int64_t)op_ms };

		if (left <= 0) {
			if (attempt == 0)
				http_err_set(err, ERR_TIMEOUT, 0, true, "deadline passed before the request");
			return attempt == 0 ? ERR_TIMEOUT : (err->code ? err->code : ERR_TIMEOUT);
		}
		http_resp_clear(resp);
		memset(err, 0, sizeof(*err));
		r = exchange(c, ep, req, &hp, resp, err);
		sent += hp.requests;
		if (r == 0 && !status_retryable(resp->status))
			return 0;
		if (r < 0 && (!err->retryable || hp.no_retry))
			return r;
		if (!idem || attempt >= LIM_HTTP_RETRIES || sent > LIM_HTTP_RETRIES)
			return r;
		wait = retry_wait_ms(r == 0 ? resp : NULL, attempt);
		if (wait > LIM_HTTP_RETRY_AFTER_MAX_MS || now_ms() + wait >= deadline)
			return r;
		sleep_ms(wait);
	}
}

static bool
host_allowed(const struct http_endpoint *ep, const char *epHost, const char *host)
{
	if (strcasecmp(epHost, host) == 0)
		return true;
	for (size_t i = 0; ep->redirect_hosts && ep->redirect_hosts[i]; i++)
		if (strcasecmp(ep->redirect_hosts[i], host) == 0)
			return true;
	return false;
}

/* Resolve Location against the current URL into next; refuse other hosts than the endpoint's
 * and its redirect allow-list, and https -> http downgrades. */
static int
redirect_target(const struct http_endpoint *ep, const struct target *ept, const struct target *cur,
    const char *loc, struct target *next, struct tool_err *err)
{
	CURLU *u = curl_url();
	char *url = NULL, *host = NULL, *scheme = NULL, *port = NULL, *user = NULL;
	int r = ERR_EGRESS;

	if (u == NULL)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, cur->url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, loc, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		http_err_set(err, ERR_PROTO, 0, false, "redirect with an unusable Location");
		r = ERR_PROTO;
		goto out;
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		http_err_set(err, ERR_EGRESS, 0, false, "redirect to a %.16s URL is not allowed",
		    scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		http_err_set(err, ERR_PROTO, 0, false, "redirect with an unusable Location");
		r = ERR_PROTO;
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    (strcmp(scheme, "http") == 0 && strcmp(ept->scheme, "https") == 0) ||
	    !host_allowed(ep, ept->host, host) ||
	    strlen(url) >= sizeof(next->url) || strlen(host) >= sizeof(next->host)) {
		http_err_set(err, ERR_EGRESS, 0, false, "redirect to %.128s is not allowed", host);
		goto out;
	}
	strlcpy(next->scheme, scheme, sizeof(next->scheme));
	strlcpy(next->host, host, sizeof(next->host));
	next->port = (unsigned)strtoul(port, NULL, 10);
	strlcpy(next->url, url, sizeof(next->url));
	r = 0;
out:
	curl_free(url);
	curl_free(host);
	curl_free(scheme);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return r;
}

static bool
is_redirect(long s)
{
	return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

static int
req_check(const struct http_req *req, struct tool_err *err)
{
	if (!method_ok(req->method)) {
		http_err_set(err, ERR_SCHEMA, 0, false, "method not allowed");
		return ERR_SCHEMA;
	}
	if (req->body != NULL && req->body_len > LIM_HTTP_REQ_BODY_MAX) {
		http_err_set(err, ERR_TOOBIG, 0, false, "request body larger than %u bytes",
		    LIM_HTTP_REQ_BODY_MAX);
		return ERR_TOOBIG;
	}
	if (req->nquery > HTTP_MAX_KV || req->nheaders > HTTP_MAX_KV || req->ncred > 2) {
		http_err_set(err, ERR_TOOBIG, 0, false, "too many request fields");
		return ERR_TOOBIG;
	}
	return 0;
}

int
http_client_do(struct http_client *c, const struct http_endpoint *ep, const struct http_req *req,
    int64_t deadline_ms, struct http_resp *resp, struct tool_err *err)
{
	struct target *ept = NULL, *cur = NULL, *tmp;
	int r;

	memset(resp, 0, sizeof(*resp));
	memset(err, 0, sizeof(*err));
	if (deadline_ms <= 0)
		deadline_ms = now_ms() + LIM_CALL_DEADLINE_MS;
	if ((r = req_check(req, err)) < 0)
		return r;
	if ((ept = calloc(1, sizeof(*ept))) == NULL || (cur = calloc(1, sizeof(*cur))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = target_build(ep, req, ept, err)) < 0)
		goto out;
	*cur = *ept;
	for (unsigned hops = 0;; hops++) {
		bool with_cred = strcasecmp(cur->host, ept->host) == 0 && cur->port == ept->port &&
		    strcmp(cur->scheme, ept->scheme) == 0;
		const char *loc;

		if ((r = hop_do(c, ep, req, cur, with_cred, deadline_ms, resp, err)) < 0)
			goto out;
		loc = http_resp_header(resp, "location");
		if (!(req->flags & HTTP_F_FOLLOW) || !is_redirect(resp->status) || loc == NULL ||
		    (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0))
			break;
		if (hops >= LIM_HTTP_REDIRECTS_MAX) {
			http_err_set(err, ERR_PROTO, (int)resp->status, false,
			    "more than %d redirects", LIM_HTTP_REDIRECTS_MAX);
			r = ERR_PROTO;
			goto out;
		}
		if ((tmp = calloc(1, sizeof(*tmp))) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		if ((r = redirect_target(ep, ept, cur, loc, tmp, err)) < 0) {
			free(tmp);
			goto out;
		}
		free(cur);
		cur = tmp;
	}
	resp->final_url = strdup(cur->url);
	if (!http_status_ok(req, resp->status)) {
		scrub_resp(req, resp, NULL);
		http_err_from_resp(resp, err);
		retry_hint(resp, err);
		r = err->code;
		goto out;
	}
	r = 0;
out:
	scrub_resp(req, resp, err);
	if (r < 0 && err->code == 0)
		http_err_set(err, r, 0, false, "%s", err_str(r));
	free(ept);
	free(cur);
	return r;
}
