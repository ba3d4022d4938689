/* Helpers shared by the GitHub Actions, GitLab CI and Jenkins families (tools/github_actions.c,
 * gitlab_ci.c, jenkins.c), on top of tools/http.h: argument and context access, path segments,
 * credential headers, one exchange with structured errors, page cursors, and response shaping
 * (field picking, log tails, base64, zip listings, credential scrubbing, dry-run echoes).
 *
 * paginate.c holds the request side, the exchange and the lists; paginate_shape.c the shaping;
 * paginate_x.c the state of one exchange as the family run hooks use it (struct tool_pg_x).
 * Pure code: no I/O of its own (the exchange goes through io->http), so the supervisor can link
 * it with the schemas. Functions return 0, -errno or ERR_*; on failure they fill struct tool_err.
 */
#ifndef CORRAL_TOOLS_PAGINATE_H
#define CORRAL_TOOLS_PAGINATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tools/http.h"
#include "tools/io.h"
#include "tools/tool.h"

/* Caps of the shaping layer (bytes unless said). */
#define TOOL_PG_LOG_DEFAULT	(64u << 10)	/* log tail returned by default */
#define TOOL_PG_LOG_MAX		(1u << 20)	/* largest log tail a caller may ask for */
#define TOOL_PG_LOG_FETCH_MAX	(8u << 20)	/* bytes of log downloaded to take the tail from */
#define TOOL_PG_BLOB_DEFAULT	(1u << 20)	/* artifact bytes returned by default */
#define TOOL_PG_BLOB_MAX	(2u << 20)	/* base64 of this stays under LIM_RESULT_MAX */
#define TOOL_PG_ZIP_ENTRIES_MAX	1000u		/* names listed from one zip */
#define TOOL_PG_TEXT_FIELD_MAX	(16u << 10)	/* one free-text field (release body, message) */
#define TOOL_PG_SECRET_MIN	4u		/* shorter secrets are not scrubbed (too many hits) */

/* ---- arguments and call context ---- */

/* The string / integer / boolean argument `name`, or NULL / def when absent or null. */
const char *tool_pg_arg_str(const struct tool_call *call, const char *name);
int64_t tool_pg_arg_int(const struct tool_call *call, const char *name, int64_t def);
bool tool_pg_arg_bool(const struct tool_call *call, const char *name, bool def);
bool tool_pg_arg_has(const struct tool_call *call, const char *name);

/* Every string argument (also inside objects and arrays) is free of NUL bytes, which C code
 * would silently cut at: ERR_SCHEMA naming the argument otherwise. The schema already refuses
 * them; run hooks check again so that nothing depends on the caller having validated. */
int tool_pg_args_check(const struct tool_call *call, struct tool_err *err);

/* ctx.secret, and ctx.endpoint.<key> (string), or NULL. */
const char *tool_pg_secret(const struct tool_call *call);
const char *tool_pg_endpoint_str(const struct tool_call *call, const char *key);

/* Fill err (code, status 0, not retryable) and return code. fmt is printf-like. */
int tool_pg_fail(struct tool_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- request building ---- */

/* Append "/" + the percent-encoded seg. Refuses an empty seg, "." and "..", NUL, and values
 * that would not fit, naming `what` in err (ERR_SCHEMA / ERR_TOOBIG). */
int tool_pg_seg(struct http_req *req, const char *what, const char *seg, struct tool_err *err);
/* Same for a decimal integer segment. */
int tool_pg_seg_int(struct http_req *req, int64_t v, struct tool_err *err);
/* "a/b/c": each part through tool_pg_seg, the '/' kept (GitLab artifact paths). */
int tool_pg_segs(struct http_req *req, const char *what, const char *path, struct tool_err *err);
int tool_pg_query(struct http_req *req, const char *k, const char *v, struct tool_err *err);
int tool_pg_query_int(struct http_req *req, const char *k, int64_t v, struct tool_err *err);
/* Replace the value of query key k (first occurrence) or add it. v must outlive the request. */
int tool_pg_query_set(struct http_req *req, const char *k, const char *v, struct tool_err *err);
/* The success set of the exchange (at most 8 statuses). */
void tool_pg_ok(struct http_req *req, const int *ok, size_t n);

/* A bounded, growable byte buffer (request bodies: forms, JSON text). */
struct tool_pg_buf {
	char *p;
	size_t len, cap, max;
};
int tool_pg_buf_add(struct tool_pg_buf *b, const char *s, size_t n);
/* application/x-www-form-urlencoded "k=v" pair ('&'-joined). */
int tool_pg_form_add(struct tool_pg_buf *b, const char *k, const char *v);
/* Wipe and free (bodies may hold a trigger token). */
void tool_pg_buf_free(struct tool_pg_buf *b);

/* ---- credentials ---- */

/* Credential header values live in a struct tool_pg_cred until the exchange is over, then are
 * wiped. bearer: "Authorization: Bearer <ctx.secret>"; basic: "Basic base64(user:secret)" with
 * user = ctx.endpoint.user. No secret in ctx: no header, returns 0. */
struct tool_pg_cred {
	char *value;
	size_t len;
	char *alt;		/* another form of the secret to scrub (the base64 of user:secret) */
	size_t alt_len;
};
int tool_pg_cred_bearer(struct http_req *req, const struct tool_call *call, struct tool_pg_cred *c);
int tool_pg_cred_basic(struct http_req *req, const struct tool_call *call, struct tool_pg_cred *c);
void tool_pg_cred_wipe(struct tool_pg_cred *c);

/* ---- one exchange ---- */

/* io->http with the success set in req. Whatever the client reports, a status outside the
 * success set becomes a structured error: code (ERR_NOTFOUND for 404/410, ERR_RATE for 429 and
 * rate-limited 403s, else ERR_HTTP), http_status, the API's own message (JSON "message",
 * "error"/"error_description", "errors[]"; HTML title and text; plain text), and retryable (429,
 * 5xx and rate-limited 403 for reads; only 429 and rate-limited 403 for mutating ops, which were
 * refused before they ran). Secrets of the call are scrubbed from err->text. On failure resp is
 * cleared. */
int tool_pg_exchange(struct tool_io *io, const struct tool_call *call, struct http_req *req,
    struct http_resp *resp, struct tool_err *err);

/* The body as JSON (object or array): ERR_TOOBIG when it was truncated, ERR_PROTO when it is
 * not JSON. New reference in *out. */
int tool_pg_json(const struct http_resp *resp, json_t **out, struct tool_err *err);

/* 0 when p is not NULL, else -ENOMEM ("out of memory") in err. */
int tool_pg_made(const void *p, struct tool_err *err);

/* ---- page cursors ---- */

/* GitHub: the page number in the Link header's rel="next" URL; 0 when there is none. */
long tool_pg_link_next(const struct http_resp *resp);
/* A header holding a decimal number (GitLab x-next-page, x-total); def when absent or empty. */
long tool_pg_header_long(const struct http_resp *resp, const char *lname, long def);

/* A paginated list: fetch pages of req (a GET) from page `page` on, at most max_pages of them,
 * shaping each item. Items are found at key `key` of an object page (GitHub), or the page is the
 * array itself (key NULL: GitLab, GitHub releases). The next page comes from the Link header
 * (GitHub) or x-next-page (GitLab). Returns {"<out_key>": [...], "next_page": n|null} plus
 * "total_count" when the API gave one (GitHub "total_count", GitLab x-total). */
enum tool_pg_cursor { TOOL_PG_LINK, TOOL_PG_XNEXT };
struct tool_pg_list {
	int64_t page, per_page, max_pages;
	enum tool_pg_cursor cursor;
	const char *key;			/* items inside the page object, or NULL */
	const char *out_key;			/* name of the array in the result */
	json_t *(*shape)(json_t *item);	/* new reference, or NULL to skip the item */
};
int tool_pg_list(struct tool_io *io, const struct tool_call *call, struct http_req *req,
    const struct tool_pg_list *l, json_t **result, struct tool_err *err);

/* ---- one exchange of a run hook (paginate_x.c) ---- */

/* A request, its response, the credential it carries and its body; tool_pg_x_end wipes them.
 * A run hook: tool_pg_x_start, path and query, then one of get_one / list / send / log, and
 * `return tool_pg_x_end(...)` on every path (x is zeroed first thing by start). */
struct tool_pg_x {
	struct http_req req;
	struct http_resp resp;
	struct tool_pg_cred cred;
	struct tool_pg_buf body;	/* form bodies (may hold a trigger token) */
	char *jbody;			/* JSON text bodies */
};

/* Zero x, check the call's string arguments (tool_pg_args_check), set the method; a GET is
 * idempotent (HTTP_F_IDEMPOTENT). */
int tool_pg_x_start(struct tool_pg_x *x, const struct tool_call *call, const char *method,
    struct tool_err *err);
/* Append the path literal lit ("/runs"), taken as it is. */
int tool_pg_x_lit(struct tool_pg_x *x, const char *lit, struct tool_err *err);
/* "Authorization: Bearer <ctx.secret>" (tool_pg_cred_bearer), held in x->cred. */
int tool_pg_x_bearer(struct tool_pg_x *x, const struct tool_call *call, struct tool_err *err);
/* The compact JSON text of body (stolen; NULL is out of memory) as an application/json body. */
int tool_pg_x_json_body(struct tool_pg_x *x, json_t *body, struct tool_err *err);
/* A query entry for each argument named that is present: strings as they are, integers in
 * decimal, booleans as true/false. */
int tool_pg_x_query_args(struct tool_pg_x *x, const struct tool_call *call,
    const char *const *names, struct tool_err *err);
/* Send (success set {200}), parse the JSON body, *result = shape(body). */
int tool_pg_x_get_one(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *x,
    json_t *(*shape)(json_t *), json_t **result, struct tool_err *err);
/* tool_pg_list with page, per_page (default how->per_page) and max_pages from the call's
 * arguments, success set {200}; how gives the cursor, key, out_key and shape. */
int tool_pg_x_list(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *x,
    const struct tool_pg_list *how, json_t **result, struct tool_err *err);
/* A mutating request with success set ok[nok]. Dry run: *result describes the request (view
 * stolen, see tool_pg_dry_run) and nothing is sent; callers stop when call->dry_run. Else view
 * is dropped and the request sent (tool_pg_exchange, the answer in x->resp). */
int tool_pg_x_send(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *x,
    const int *ok, size_t nok, json_t *view, json_t **result, struct tool_err *err);
/* A log as raw bytes (HTTP_F_RAW | flags, at most TOOL_PG_LOG_FETCH_MAX, success {200}): adds
 * "log" (the last max_bytes argument bytes, tool_pg_text_tail), "bytes", "tail_only" and
 * "download_truncated" to out, the caller's object naming the log (NULL: out of memory). */
int tool_pg_x_log(struct tool_io *io, const struct tool_call *call, struct tool_pg_x *x,
    unsigned flags, bool strip_ansi, json_t *out, struct tool_err *err);
/* The end of every run hook: r == 0 scrubs the call's secret (and x->cred's forms) from
 * *result, r < 0 drops *result; then the response, credential and bodies are wiped. Returns r. */
int tool_pg_x_end(struct tool_pg_x *x, const struct tool_call *call, int r, json_t **result);

/* ---- shaping ---- */

/* A new object with the listed fields of src; "a.b" copies src.a.b into out.a.b. Absent fields
 * are left out. Long strings are cut to TOOL_PG_TEXT_FIELD_MAX. */
json_t *tool_pg_pick(json_t *src, const char *const *fields);
/* tool_pg_pick over each element of the array src (non-objects skipped). */
json_t *tool_pg_pick_all(json_t *src, const char *const *fields);

/* Text from a raw body: ANSI escapes removed when strip_ansi, then the last `tail` bytes
 * (starting at a line boundary when one is near), as valid UTF-8 (bad bytes -> U+FFFD).
 * *cut tells whether the start was dropped. Modifies buf in place (strip). */
json_t *tool_pg_text_tail(char *buf, size_t len, size_t tail, bool strip_ansi, bool *cut);
/* Is the buffer text (valid UTF-8 without NUL)? */
bool tool_pg_is_text(const char *p, size_t n);
/* Standard base64 with padding; malloc'd, NUL-terminated. */
int tool_pg_b64(const unsigned char *p, size_t n, char **out, size_t *outlen);
/* The entries of a zip from its central directory: {"files":[{name, size, compressed_size}],
 * "total": N} (at most TOOL_PG_ZIP_ENTRIES_MAX listed), or NULL when the buffer is not a complete
 * zip. */
json_t *tool_pg_zip_list(const unsigned char *p, size_t n);
/* Does the buffer hold a secret of the call (ctx.secret, or the credential's alt form)? */
bool tool_pg_holds_secret(const struct tool_call *call, const struct tool_pg_cred *c,
    const char *p, size_t n);

/* Replace every occurrence of the call's secret (and the credential's alt form, c may be NULL)
 * in every string (keys and values) of *result with "[REDACTED]". May replace *result. */
int tool_pg_scrub(json_t **result, const struct tool_call *call, const struct tool_pg_cred *c);
void tool_pg_scrub_text(char *text, size_t size, const struct tool_call *call,
    const struct tool_pg_cred *c);

/* The request a mutating op would send, for dry runs: {"dry_run":true, "request":{method, path,
 * query, body}}. body (stolen, may be NULL) is the family's view of the body with any caller
 * secret already redacted; when NULL and the request body is JSON, that JSON is shown. */
json_t *tool_pg_dry_run(const struct http_req *req, json_t *body);

#endif
