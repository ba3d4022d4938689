/* Test harness for the HTTP tool families: start a Python loopback fake as a real process,
 * read its request log, and run a family's op through a test tool_io whose http hook is the
 * real client (http_client_do) against the fake.
 *
 *	struct fake f;
 *	struct harness h;
 *	cr_assert_eq(fake_start(&f, "fake_argocd.py", NULL), 0);
 *	harness_init(&h, &f, "s3cret-token");
 *	rc = harness_call(&h, &tool_fam_argocd, "get_application", "{\"app_name\":\"guestbook\"}",
 *	    &result, &err, verr, sizeof(verr));
 *	... fake_log(&f) ...
 *	harness_fini(&h);
 *	fake_stop(&f);
 */
#ifndef CORRAL_TESTS_TOOLS_HARNESS_H
#define CORRAL_TESTS_TOOLS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "tools/http.h"
#include "tools/io.h"
#include "tools/tool.h"

struct fake {
	pid_t pid;
	int port;
	char log_path[256];
	char url[64];		/* "http://127.0.0.1:<port>" */
};

/* Start tests/fakes/<script> with the log file and extra argv (NULL-terminated, may be NULL),
 * wait for its "PORT <n>" line (5 s). 0 or -errno. */
int fake_start(struct fake *f, const char *script, const char *const *extra_args);
void fake_stop(struct fake *f);
/* POST /__fake/control with a JSON text, e.g.
 * {"modes":[{"mode":"status","status":429,"retry_after":1}]}. 0 or <0. */
int fake_control(struct fake *f, const char *json);
/* The request log as a JSON array of entries (new reference; never NULL). */
json_t *fake_log(struct fake *f);
size_t fake_count(struct fake *f);
/* Entry i (0-based) of the log, or the last one with i = -1 (new reference or NULL). */
json_t *fake_entry(struct fake *f, int i);
/* Number of contract violations in the whole log; their text in buf ("; "-separated). */
size_t fake_violations(struct fake *f, char *buf, size_t len);

struct harness {
	struct fake *fake;
	struct http_client *client;
	struct tool_io io;
	const char *secret;
	json_t *endpoint_extra;		/* merged into ctx.endpoint (e.g. timeout_ms) or NULL */
	uint32_t deadline_ms;		/* per call, default 10000 */
	bool dry_run;			/* tool_call.dry_run */
	unsigned nhttp;			/* http hook calls */
	unsigned nevents;
	char last_event[256];
};

/* Client without an egress hook (plain connect to the fake). */
int harness_init(struct harness *h, struct fake *f, const char *secret);
void harness_fini(struct harness *h);
/* {"endpoint": {"name": "fake", "url": <fake url>, ...extra}, "secret": <secret>}. */
json_t *harness_ctx(struct harness *h);
/* Parse args_json, validate with tool_args_validate (verr gets its message; returns ERR_SCHEMA),
 * then run the op's hook. result (new ref or NULL) and err are outputs. */
int harness_call(struct harness *h, const struct tool_family *fam, const char *op,
    const char *args_json, json_t **result, struct tool_err *err, char *verr, size_t verrlen);
/* harness_call with the schema's refusal in err->text (for tests that only look at err). */
int harness_call_msg(struct harness *h, const struct tool_family *fam, const char *op,
    const char *args_json, json_t **result, struct tool_err *err);
/* The same without validation: args are used as given (a json_t, borrowed). For tests that prove
 * the request builders hold even when the schema would let something through. */
int harness_call_unchecked(struct harness *h, const struct tool_family *fam, const char *op,
    json_t *args, json_t **result, struct tool_err *err);
/* True if s occurs in the JSON text of v or in err->text. */
bool harness_leaks(const json_t *v, const struct tool_err *err, const char *s);

int64_t harness_now_ms(void);

#endif
