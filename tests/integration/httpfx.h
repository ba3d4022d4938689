/* HTTP families through a real corrald (suite 'integration-http'): the loopback fakes of
 * tests/fakes/ (started with tests/tools/harness.h), credentials in 0600 files, a corral.yaml
 * with one endpoint per family, corrald with its confined workers, and corralctl calls whose
 * stdout and stderr are kept apart.
 *
 * Each family gets a tenant of its own (ta, tg, tl, tj, tp with uids base+1..base+5): the
 * workers of one tenant share its uid, and with it the RLIMIT_NPROC the jail sets.
 */
#ifndef CORRAL_TESTS_INTEGRATION_HTTPFX_H
#define CORRAL_TESTS_INTEGRATION_HTTPFX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "tests/integration/harness.h"
#include "tests/tools/harness.h"

enum { HF_ARGOCD, HF_GITHUB, HF_GITLAB, HF_JENKINS, HF_PROM, HF_N };

struct hf_fam {
	const char *family;	/* tool family */
	const char *tenant;
	const char *script;	/* tests/fakes/<script> */
	const char *token;	/* the endpoint's credential (and the fake's --token) */
	const char *extra;	/* more endpoint fields (YAML flow), or "" */
};
extern const struct hf_fam hf_fams[HF_N];
/* Tokens used instead of hf_fams[].token when set (before hf_open). */
extern const char *hf_token_override[HF_N];
const char *hf_token(int fam);

struct hf {
	struct hx hx;
	struct fake fk[HF_N];
	bool on[HF_N];
	unsigned uid_base;
	unsigned flags;
};

#define HF_NO_PRIVATE	0x1u	/* endpoints without allow_private */
#define HF_LOCALHOST	0x2u	/* endpoint URLs name localhost instead of 127.0.0.1 */
#define HF_CONNECT_1S	0x4u	/* endpoints with connect_timeout: 1s */
#define HF_ONE_TENANT	0x8u	/* every family in tenant "ta" (one uid for all workers) */

/* Start the fakes of mask (1 << HF_*), write the tokens and corral.yaml (endpoint timeout
 * `timeout`, e.g. "1500ms"; `more` is appended to the file, or NULL; flags HF_*), start
 * corrald and wait for the workers. */
void hf_open(struct hf *x, unsigned uid_base, unsigned mask, const char *timeout,
    const char *more, unsigned flags);
void hf_close(struct hf *x);

struct hf_res {
	int rc;			/* corralctl's exit status */
	char *out, *err;	/* its stdout and stderr */
	json_t *j;		/* stdout parsed (NULL when not JSON) */
	const char *code;	/* j.error ("ERR_HTTP", ...) or NULL on success */
	const char *detail;	/* j.detail or "" */
};
/* corralctl -o json call FAMILY@TENANT OP --args ARGS (args passed as raw bytes). */
const char *hf_tenant(const struct hf *x, int fam);
int hf_call(struct hf *x, int fam, const char *op, const char *args, struct hf_res *r);
void hf_res_free(struct hf_res *r);
/* Run argv (program path first) with stdout and stderr captured apart. */
int hf_run(const char *const *argv, char **out, char **err);

/* The fake's log entries from index `from` on (new reference). */
json_t *hf_log_since(struct hf *x, int fam, size_t from);
/* Assert no entry of `log` has contract violations. */
void hf_assert_clean(json_t *log, const char *what);
/* POST a control JSON to a fake; asserts it worked. */
void hf_control(struct hf *x, int fam, const char *json);

/* The audit log as an array of records (new reference). */
json_t *hf_audit(struct hf *x);
/* The last decision record for tool/op at index >= from, and the outcome record of the same
 * call (borrowed from *all, which the caller frees); asserts both exist. */
json_t *hf_audit_last(struct hf *x, const char *tool, const char *op, json_t **outcome,
    json_t **all);

/* A worker's pid from corralctl status (0 when none). */
pid_t hf_worker_pid(struct hf *x, const char *name);

#endif
