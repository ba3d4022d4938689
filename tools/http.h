/* The HTTP client the HTTP families share (libcurl), and the request/response types their run
 * hooks build. Family code fills a struct http_req and calls io->http(); the worker runtime
 * routes that to http_client_do() below with the egress connect hook of its sandbox.
 *
 * Rules the client enforces whatever the family asks (CONTRACTS.md section 1):
 * - User-Agent "corral/<version>" on every request; TLS verification always on (the endpoint's
 *   CA, as text from the call context or as a file); connect and total timeouts; response
 *   bodies capped (truncation is reported).
 * - The URL is the endpoint's base URL + req->path: path and query are built by the client from
 *   pieces (http_path_seg() encodes one segment) so an argument can never change the host, the
 *   path shape or a header (CR/LF/NUL refused in headers).
 * - Retries (connection errors, 429, 502, 503, 504; Retry-After and rate-limit reset honoured,
 *   bounded) only when the request is marked idempotent; never for mutating calls.
 * - Redirects: never followed by libcurl. With HTTP_F_FOLLOW the client follows up to
 *   LIM_HTTP_REDIRECTS_MAX hops itself, only to the endpoint's host or a host on its
 *   redirect allow-list, and never sends the credential headers to another host.
 */
#ifndef CORRAL_TOOLS_HTTP_H
#define CORRAL_TOOLS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/tool.h"

struct http_kv {
	const char *name;
	const char *value;
};

#define HTTP_F_IDEMPOTENT	0x1	/* retry on connection errors / 429 / 5xx per the rules */
#define HTTP_F_FOLLOW		0x2	/* follow redirects (allowed hosts only, no credentials) */
#define HTTP_F_RAW		0x4	/* body is not JSON (logs, archives): don't expect JSON */
#define HTTP_F_CRED_HDR		0x8	/* internal: the client marks credential headers itself */

#define HTTP_MAX_KV	32

struct http_req {
	const char *method;		/* "GET", "POST", "PATCH", "PUT", "DELETE" */
	char path[2048];		/* encoded path after the endpoint's base path, starts with '/' */
	struct http_kv query[HTTP_MAX_KV];	/* raw values: the client percent-encodes them */
	size_t nquery;
	struct http_kv headers[HTTP_MAX_KV];	/* extra headers (no CR/LF/NUL) */
	size_t nheaders;
	struct http_kv cred_headers[2];	/* credential headers: sent to the endpoint host only */
	size_t ncred;
	const char *body;		/* request body or NULL */
	size_t body_len;
	const char *content_type;	/* exact Content-Type to send with the body (ArgoCD: exactly
					 * "application/json", never with a charset) */
	unsigned flags;
	int ok[8];			/* success statuses; empty = any 2xx */
	size_t nok;
	size_t max_body;		/* 0 = LIM_HTTP_BODY_MAX */
	uint32_t timeout_ms;		/* 0 = from the endpoint/op */
	/* Storage the build helpers own (http_query_add_int, http_cred_*, http_page_next). Wipe a
	 * request that carried credentials with http_req_wipe(). */
	char sbuf[1024];
	size_t slen;
	char credbuf[4096];
	size_t credlen;
};

struct http_resp {
	long status;
	char *body;			/* NUL-terminated; malloc'd */
	size_t len;
	bool truncated;			/* body hit max_body */
	struct http_kv *headers;	/* lower-cased names; malloc'd */
	size_t nheaders;
	char *final_url;		/* after followed redirects */
};

void http_resp_clear(struct http_resp *r);
const char *http_resp_header(const struct http_resp *r, const char *lname);

/* Build helpers (return 0, ERR_TOOBIG when the path would not fit, ERR_SCHEMA on NUL). */
int http_path_add(struct http_req *req, const char *literal);	/* literal, e.g. "/api/v1" */
int http_path_seg(struct http_req *req, const char *seg);	/* "/" + percent-encoded seg */
int http_path_segs(struct http_req *req, const char *path);	/* a/b/c, each encoded, '/' kept,
								 * "."/".." segments refused */
int http_query_add(struct http_req *req, const char *k, const char *v);
int http_header_add(struct http_req *req, const char *k, const char *v);

struct http_endpoint;

/* Additions (tools/httpreq.c, no curl). Strings given to http_query_add/http_header_add must
 * outlive the request; the _int/_copy variants copy into req->sbuf. */
void http_req_init(struct http_req *req, const char *method);	/* zero + method */
int http_query_add_int(struct http_req *req, const char *k, long long v);
int http_query_add_copy(struct http_req *req, const char *k, const char *v);
int http_query_set_copy(struct http_req *req, const char *k, const char *v);	/* replace k */
/* Credential header "name: prefix+secret" (e.g. "Authorization", "Bearer "). The value is
 * copied into req->credbuf; never put a secret anywhere else in a request. */
int http_cred_add(struct http_req *req, const char *name, const char *prefix, const char *secret);
/* "Authorization: Basic base64(userpass)" (Jenkins "user:api-token"). */
int http_cred_basic(struct http_req *req, const char *userpass);
/* The secret from a call context ({"secret": "..."}), or NULL. */
const char *http_ctx_secret(const json_t *ctx);
void http_req_wipe(struct http_req *req);	/* explicit_bzero of the credential storage */
bool http_status_ok(const struct http_req *req, long status);

/* Body as JSON (a new reference in *out). Malformed JSON -> ERR_PROTO, truncated body ->
 * ERR_TOOBIG, both with err filled (no body bytes copied into the message). */
int http_resp_json(const struct http_resp *r, json_t **out, struct tool_err *err);
/* The API's own error message from an error body, one line, at most outlen-1 bytes:
 * ArgoCD {"error","code","message"}, Prometheus {"status":"error","errorType","error"},
 * GitHub/GitLab {"message"} / {"error"} / {"error_description"}, or the first line of a
 * text body (control characters dropped). Empty string when there is nothing usable. */
void http_api_message(const char *body, size_t len, char *out, size_t outlen);
/* Fill err from a completed exchange whose status is not in the success set: code
 * (404/410 -> ERR_NOTFOUND, 429 -> ERR_RATE, else ERR_HTTP), http_status, retryable (429, 502,
 * 503, 504) and text "HTTP <status>: <API message>". */
void http_err_from_resp(const struct http_resp *r, struct tool_err *err);
void http_err_set(struct tool_err *err, int code, int http_status, bool retryable,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The endpoint from a call context {"endpoint": {"name", "url", "ca_file", "ca_pem",
 * "connect_timeout_ms", "timeout_ms", "redirect_hosts": [..]}}. Strings point into ctx;
 * hosts (nhosts slots, last one kept NULL) receives redirect_hosts. ERR_CONFIG on a bad ctx. */
int http_endpoint_from_ctx(const json_t *ctx, struct http_endpoint *ep, const char **hosts,
    size_t nhosts, char *errbuf, size_t errlen);

/* Pagination (GitHub/GitLab "Link: <url>; rel=\"next\"", GitLab "x-next-page"). After a
 * response, http_page_next() rewrites req (path + query) for the next page and returns 1, or
 * returns 0 when there is no next page or pg->max_pages pages were fetched (pg->capped tells
 * which). A next link that leaves the endpoint (other scheme/host/port or outside its base path)
 * is refused with ERR_EGRESS. Keep pg alive as long as req: req points into it. */
struct http_pager {
	unsigned pages;			/* pages fetched so far (counted by http_page_next) */
	unsigned max_pages;		/* 0 = LIM_HTTP_PAGES_MAX */
	bool capped;			/* stopped because of max_pages while more were announced */
	char buf[8192];			/* decoded path/query pieces of the next link */
};
int http_page_next(struct http_pager *pg, const char *base_url, const struct http_resp *resp,
    struct http_req *req);
/* "Link" header: copy the URL with rel="next" into out. 1 found, 0 none, ERR_TOOBIG. */
int http_link_next(const char *link, char *out, size_t outlen);

/* Result shaping: the value at a dotted path ("status.sync.status"), borrowed or NULL; and a
 * string at a path cut to max bytes on a UTF-8 boundary, or JSON null (new reference). */
json_t *http_json_get(const json_t *j, const char *path);
json_t *http_json_str(const json_t *j, const char *path, size_t max);

/* Percent-encode every byte outside RFC 3986 unreserved (A-Z a-z 0-9 - . _ ~). Returns the
 * length written (without NUL) or ERR_TOOBIG. */
int http_pct_encode(const char *s, size_t len, char *out, size_t outlen);

/* --- the client (tools/http.c; linked only by corral-worker and tests) --- */
struct http_client;

struct http_endpoint {
	const char *name;
	const char *url;		/* base URL, scheme + host [+ port] [+ base path] */
	const char *ca_file;		/* NULL = system bundle (a path: tests, unconfined use) */
	const char *ca_pem;		/* the CA certificates as PEM text (ctx.endpoint.ca_pem,
					 * which corrald reads for a jailed worker that cannot
					 * open the file); wins over ca_file */
	uint32_t connect_timeout_ms;
	uint32_t timeout_ms;
	const char *const *redirect_hosts;	/* extra hosts redirects may go to, NULL-terminated */
};

/* Egress hook: return a connected stream socket for host:port (the worker asks the supervisor,
 * which resolves and connects only to configured endpoints). NULL = plain connect (tests).
 * Its error decides the call's: ERR_EGRESS (destination refused by policy) stays ERR_EGRESS;
 * -ETIMEDOUT (the connect or the name lookup ran out of time) becomes ERR_TIMEOUT; any other
 * -errno (refused, unreachable, no address, broker busy) is returned as it is; both retryable.
 *
 * Connections: the client keeps up to LIM_HTTP_POOL idle easy handles (with their live
 * connections), each bound for life to one endpoint (name + URL + CA): a handle, and so a
 * connection, is never reused for another endpoint. One client may serve several threads; the
 * last handle returned is the first reused, so sequential calls keep one warm connection. */
typedef int (*http_connect_fn)(void *arg, const char *host, unsigned port, int *fd);

/* libcurl's global initialisation, with an allocator that overwrites every block libcurl frees
 * (its copies of request headers hold credentials). http_client_new() calls it; a program that
 * initialises libcurl earlier (before a seccomp filter) calls this instead of
 * curl_global_init(), or libcurl keeps the plain allocator. 0 or -ENOMEM. */
int http_global_init(void);
/* Does OpenSSL free (and move) its blocks through the wiping allocator too? True when
 * http_global_init() ran before anything in the process allocated through OpenSSL. */
bool http_tls_wiping(void);
int http_client_new(http_connect_fn connect, void *arg, struct http_client **out);
void http_client_free(struct http_client *c);
int http_client_do(struct http_client *c, const struct http_endpoint *ep, const struct http_req *req,
    int64_t deadline_ms, struct http_resp *resp, struct tool_err *err);
/* Overwrite every occurrence of secret (and its JSON "\/" spelling) in buf with '*'. The client
 * applies it to response bodies, headers and error texts for every credential header value. */
void http_scrub(char *buf, size_t len, const char *secret);

#endif
