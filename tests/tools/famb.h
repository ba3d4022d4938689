/* Shared checks for the tests of the GitHub Actions, GitLab CI and Jenkins families
 * (test_github.c, test_gitlab.c, test_jenkins.c): every op against a failure-mode matrix, dry
 * runs, argument injection into path parameters, and credential leaks. Built on the harness
 * (tests/tools/harness.h); assertions are Criterion's, so a failure names the op and the mode.
 */
#ifndef CORRAL_TESTS_TOOLS_FAMB_H
#define CORRAL_TESTS_TOOLS_FAMB_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/tools/harness.h"

/* One op with arguments that succeed against the fake. */
struct famb_op {
	const char *op;
	const char *args;
	const char *method;		/* of the first request */
	const char *route;		/* route template the fake logs for the first request */
	bool write;			/* mutating: never retried, dry-run capable */
	bool json_body;			/* the success body is parsed as JSON */
	bool short_body;		/* too short to be slowed past a deadline */
};

struct famb_env {
	const char *script;		/* tests/fakes/<script> */
	const struct tool_family *fam;
	const char *secret;		/* ctx.secret and the fake's --token */
	const char *leak2;		/* another form of the secret that must never show, or NULL */
	const char *endpoint_extra;	/* JSON object merged into ctx.endpoint, or NULL */
	const char *state;		/* JSON state sent to the fake after each reset, or NULL */
};

enum famb_mode {
	FAMB_OK,		/* plain success, no contract violation */
	FAMB_S401, FAMB_S403, FAMB_S404, FAMB_S409, FAMB_S415, FAMB_S422, FAMB_S500,
	FAMB_S429,		/* Retry-After over the client's cap: answered at once, ERR_RATE */
	FAMB_S503,		/* always 503 with a long Retry-After */
	FAMB_S503_ONCE,		/* one 503, Retry-After 0: reads retried to success, writes not */
	FAMB_TIMEOUT,		/* server hangs past the deadline */
	FAMB_SLOW_OK,		/* body trickles in, within the deadline */
	FAMB_SLOW_TIMEOUT,	/* body trickles past the deadline */
	FAMB_MALFORMED,		/* success status, truncated JSON body */
	FAMB_OVERSIZE,		/* success status, 9 MiB body */
	FAMB_ECHO,		/* success body with the Authorization header copied in */
	FAMB_ECHO_ERR,		/* error body with the Authorization header copied in */
	FAMB_DRY_RUN,		/* write ops: described, nothing sent */
	FAMB_MODE_MAX
};

struct famb {
	struct famb_env env;
	struct fake fake;
	struct harness h;
};

/* Start the fake (with --token) and the harness; assert both worked. */
void famb_open(struct famb *t, const struct famb_env *env);
void famb_close(struct famb *t);
/* Clear the fake's modes, reset its state, apply env->state (and extra, a JSON object or NULL). */
void famb_reset(struct famb *t, const char *extra_state);

/* famb_reset(t, state), then the endpoint URL becomes the fake's URL + path (a base path the
 * fake was told to expect in state: GitHub Enterprise's /api/v3, a context path). */
void famb_base_url(struct famb *t, const char *state, const char *path);

/* Run one op; assert success and no contract violation in the requests it made. The result is
 * returned (new reference) for further checks. */
json_t *famb_ok(struct famb *t, const char *op, const char *args);
/* Run one op; assert it fails with err.code == code (and http_status when status != 0).
 * Returns the error text in a static buffer. */
const char *famb_fail(struct famb *t, const char *op, const char *args, int code, int status);

/* Every op of ops[] in one mode. */
void famb_matrix(struct famb *t, const struct famb_op *ops, size_t n, enum famb_mode m);

/* The log entries since `from` (new reference). */
json_t *famb_log_since(struct famb *t, size_t from);
/* Entry i of the requests since `from` (new reference); asserts it exists. */
json_t *famb_entry(struct famb *t, size_t from, size_t i);
/* The string field k of a log entry, and the first value of its query parameter k (or NULL). */
const char *famb_field(json_t *e, const char *k);
const char *famb_query(json_t *e, const char *k);

/* ---- schema tables ---- */

/* The family is registered under `name`, its patterns compile, its ops are names[] in that
 * order (NULL-terminated), and the ops in writes[] (NULL-terminated) are mutating and honour
 * dry runs while the others are idempotent. */
void famb_schema_ops(const struct tool_family *fam, const char *name, const char *const *names,
    const char *const *writes);
/* Each args is refused by tool_args_validate with ERR_SCHEMA and a message naming param. */
struct famb_bad {
	const char *op, *args, *param;
};
void famb_schema_refuses(const struct tool_family *fam, const struct famb_bad *cases, size_t n);

/* One Criterion test per failure mode: suite::matrix_<mode>, every op of ops[n] in that mode.
 * Expands to Test() definitions: use it at file scope after the TestSuite. */
#define FAMB_MATRIX_TESTS(suite, t, ops, n) \
	FAMB_MATRIX_(suite, t, ops, n, ok, FAMB_OK) \
	FAMB_MATRIX_(suite, t, ops, n, 401, FAMB_S401) \
	FAMB_MATRIX_(suite, t, ops, n, 403, FAMB_S403) \
	FAMB_MATRIX_(suite, t, ops, n, 404, FAMB_S404) \
	FAMB_MATRIX_(suite, t, ops, n, 409, FAMB_S409) \
	FAMB_MATRIX_(suite, t, ops, n, 415, FAMB_S415) \
	FAMB_MATRIX_(suite, t, ops, n, 422, FAMB_S422) \
	FAMB_MATRIX_(suite, t, ops, n, 500, FAMB_S500) \
	FAMB_MATRIX_(suite, t, ops, n, 429, FAMB_S429) \
	FAMB_MATRIX_(suite, t, ops, n, 503, FAMB_S503) \
	FAMB_MATRIX_(suite, t, ops, n, 503_once, FAMB_S503_ONCE) \
	FAMB_MATRIX_(suite, t, ops, n, timeout, FAMB_TIMEOUT) \
	FAMB_MATRIX_(suite, t, ops, n, slow_ok, FAMB_SLOW_OK) \
	FAMB_MATRIX_(suite, t, ops, n, slow_timeout, FAMB_SLOW_TIMEOUT) \
	FAMB_MATRIX_(suite, t, ops, n, malformed, FAMB_MALFORMED) \
	FAMB_MATRIX_(suite, t, ops, n, oversize, FAMB_OVERSIZE) \
	FAMB_MATRIX_(suite, t, ops, n, echo, FAMB_ECHO) \
	FAMB_MATRIX_(suite, t, ops, n, echo_err, FAMB_ECHO_ERR) \
	FAMB_MATRIX_(suite, t, ops, n, dry_run, FAMB_DRY_RUN)
#define FAMB_MATRIX_(suite, t, ops, n, name, mode) \
	Test(suite, matrix_##name) { famb_matrix(&(t), ops, n, mode); }

/* Path-parameter injection: op with args, argument `param` replaced by each hostile value.
 * How the value must reach the raw path: */
enum famb_enc {
	FAMB_ENC_SEG,		/* one percent-encoded segment */
	FAMB_ENC_PROJECT,	/* one segment, '/' -> %2F; '/'-parts must be real names */
	FAMB_ENC_JOBPATH,	/* "a/b" -> job/a/job/b, each part one segment */
	FAMB_ENC_PATH,		/* '/' kept, each part one segment (GitLab artifact_path) */
};
/* raw_fmt: the expected raw path with one "%s" where the encoded value goes (for JOBPATH the
 * "%s" stands for "job/<a>/job/<b>" without the leading '/'). Each value must either be refused
 * before any request, or produce exactly the expected raw path on the expected route; with the
 * schema, a refusal must be ERR_SCHEMA. */
void famb_inject(struct famb *t, const char *op, const char *args, const char *param,
    enum famb_enc enc, const char *raw_fmt);

#endif
