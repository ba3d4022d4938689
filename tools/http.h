/* The HTTP client the HTTP families share (libcurl), and the request/response types their run
 * hooks build. Family code fills a struct http_req and calls io->http(); the worker runtime
 * routes that to http_client_do() below with the egress connect hook of its sandbox.
 *
 * Rules the client enforces whatever the family asks (CONTRACTS.md section 1):
 * - User-Agent "corral/<version>" on every request; TLS verification always on (CA file from the
 *   endpoint); connect and total timeouts; response bodies capped (truncation is reported).
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

/* --- the client (tools/http.c; linked only by corral-worker and tests) --- */
struct http_client;

struct http_endpoint {
	const char *name;
	const char *url;		/* base URL, scheme + host [+ port] [+ base path] */
	const char *ca_file;		/* NULL = system bundle */
	uint32_t connect_timeout_ms;
	uint32_t timeout_ms;
	const char *const *redirect_hosts;	/* extra hosts redirects may go to, NULL-terminated */
};

/* Egress hook: return a connected stream socket for host:port (the worker asks the supervisor,
 * which resolves and connects only to configured endpoints). NULL = plain connect (tests). */
typedef int (*http_connect_fn)(void *arg, const char *host, unsigned port, int *fd);

int http_client_new(http_connect_fn connect, void *arg, struct http_client **out);
void http_client_free(struct http_client *c);
int http_client_do(struct http_client *c, const struct http_endpoint *ep, const struct http_req *req,
    int64_t deadline_ms, struct http_resp *resp, struct tool_err *err);

#endif
