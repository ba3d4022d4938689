/* approval — durable approvals for calls the policy made PENDING.
 *
 * One file per approval in a state directory (<state_dir>/approvals/<id>.json), rewritten
 * atomically on every change (write tmp, fsync, rename, fsync the directory), so pending
 * approvals and their votes survive a restart. A file carries a MAC under the supervisor key
 * and both hashes below, recomputed when it is loaded: a file edited by hand is not loaded.
 *
 * call hash: SHA-256 over (tenant, principal, tool, op, canonical args, dry_run, policy hash):
 *   what a retried call matches its approval by (approval_find).
 * id: SHA-256 over (call hash, approvers, quorum, created, expiry): the approval itself; shown
 *   as its first 16 hex digits, and any unique prefix of >= 8 digits names it.
 *
 * Votes: the approver's identity (uid, user name, group names) comes from the control socket's
 * peer uid, resolved by the caller; it must match one of the approval's patterns ("user:NAME",
 * "group:NAME", "uid:N"). Quorum counts distinct uids. One deny from an allowed approver denies.
 * Past its expiry an approval that is still pending (or approved but unused) is EXPIRED, which
 * denies. An approved approval is used once (approval_consume).
 */
#ifndef CORRAL_SUPERVISOR_APPROVAL_H
#define CORRAL_SUPERVISOR_APPROVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "supervisor/audit.h"

#define APPROVAL_ID_SHORT	16

enum approval_state {
	APPROVAL_PENDING,
	APPROVAL_APPROVED,
	APPROVAL_DENIED,
	APPROVAL_EXPIRED,
	APPROVAL_CONSUMED,		/* approved, and the call ran */
};

struct approval_req {
	const char *tenant, *principal, *tool, *op;
	const json_t *args;		/* canonicalised here (sorted keys, compact) */
	bool dry_run;
	const char *policy_hash;
	const char *const *approvers;	/* "user:NAME", "group:NAME", "uid:N" */
	size_t napprovers;		/* >= 1 */
	unsigned quorum;		/* distinct approvers needed, 1..napprovers-ish (>= 1) */
	int64_t expires_ms;		/* Unix ms */
	const char *reason;		/* why approval is asked (policy text); may be NULL */
};

struct approval_identity {
	uid_t uid;
	const char *user;		/* may be NULL when the uid has no name */
	const char *const *groups;	/* names of the user's groups */
	size_t ngroups;
};

struct approval_vote {
	uid_t uid;
	char *user;
	bool approve;
	char *reason;
	int64_t at_ms;
};

/* Read-only for callers; changed only through the functions below. */
struct approval {
	char id[AUDIT_HEX_LEN + 1];
	char call_hash[AUDIT_HEX_LEN + 1];
	char *tenant, *principal, *tool, *op;
	char *args;			/* canonical JSON text */
	bool dry_run;
	char *policy_hash;
	char **approvers;
	size_t napprovers;
	unsigned quorum;
	char *reason;
	int64_t created_ms, expires_ms, decided_ms;
	enum approval_state state;	/* as stored; approval_state() adds expiry */
	struct approval_vote *votes;
	size_t nvotes;
};

struct approval_store;

/* Open dir (created 0700) and load every approval in it. A file that does not verify (MAC,
 * hashes, format) is left on disk, not loaded, counted in *nbad when nbad is not NULL, and the
 * first such problem is put in err. key may be NULL (no MAC: tests only). */
int approval_store_open(const char *dir, const uint8_t *key, struct approval_store **out,
    size_t *nbad, char *err, size_t errlen);
void approval_store_close(struct approval_store *s);

int approval_call_hash(const struct approval_req *rq, char out[AUDIT_HEX_LEN + 1]);

/* Store a new PENDING approval. -EEXIST (with *out the existing one) when one for the same
 * call is still pending or approved and unexpired. ERR_CONFIG for a bad request (no approver,
 * bad pattern, quorum 0, expiry not after now), ERR_TOOBIG when the store is full. */
int approval_create(struct approval_store *s, const struct approval_req *rq, int64_t now_ms,
    const struct approval **out);

/* The newest approval for a call hash (any state), or NULL. */
const struct approval *approval_find(const struct approval_store *s, const char *call_hash);
/* By full id or unique prefix of >= 8 hex digits: 0, ERR_NOTFOUND, -EINVAL (too short, not
 * hex) or -ENOTUNIQ (prefix of several). */
int approval_lookup(const struct approval_store *s, const char *id, const struct approval **out);

/* Vote. ERR_NOTFOUND; ERR_DENIED when who matches no approver pattern; -EALREADY when this uid
 * has voted; -ESTALE when the approval is no longer pending (expired included; expiry is
 * stored then). On success *out (may be NULL) is the approval with its new state. */
int approval_vote(struct approval_store *s, const char *id, const struct approval_identity *who,
    bool approve, const char *reason, int64_t now_ms, const struct approval **out);

/* The state at now (PENDING/APPROVED past expiry read as EXPIRED). */
enum approval_state approval_state(const struct approval *ap, int64_t now_ms);
const char *approval_state_name(enum approval_state st);

/* Mark an APPROVED, unexpired approval used: -ESTALE otherwise. */
int approval_consume(struct approval_store *s, const char *id, int64_t now_ms);

/* Store EXPIRED for every approval past its expiry and call cb for each (audit, wake the
 * waiting call). Returns how many, or a negative error. */
int approval_sweep(struct approval_store *s, int64_t now_ms,
    void (*cb)(void *arg, const struct approval *ap), void *arg);
/* Earliest expiry among PENDING/APPROVED approvals, -1 if none (for the event loop). */
int64_t approval_next_expiry(const struct approval_store *s);
/* Delete finished approvals decided more than keep_ms ago. Returns how many. */
int approval_gc(struct approval_store *s, int64_t now_ms, int64_t keep_ms);

/* Listing: approvals of tenant (NULL: all), optionally only pending ones, oldest first. Fills
 * up to max pointers and returns how many match in total. */
size_t approval_list(const struct approval_store *s, const char *tenant, bool pending_only,
    int64_t now_ms, const struct approval **out, size_t max);

/* For corralctl: one approval as JSON (new reference), and a table. */
json_t *approval_to_json(const struct approval *ap, int64_t now_ms);
void approval_print_table(FILE *f, const struct approval *const *aps, size_t n, int64_t now_ms);

#endif
