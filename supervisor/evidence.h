/* evidence — canary verdicts kept as policy evidence, with the audit log as their only store.
 *
 * A verdict becomes evidence by being written to the audit log as a record of type "evidence"
 * (ev_record_new(); the supervisor appends it, fsyncs the log and only then answers the
 * caller). The store in memory is a cache of those records: ev_store_add() parses the record
 * as written, and ev_store_load() rebuilds the same entries from the log at start (and on
 * reload) with the same parser, so a restart, even after SIGKILL, changes nothing about which
 * calls the policy allows. Each entry keeps the seq of its audit record, which the decision of
 * a call it justifies names (ev_used_json()). docs/CANARY.md, "Evidence", has the rules.
 */
#ifndef CORRAL_SUPERVISOR_EVIDENCE_H
#define CORRAL_SUPERVISOR_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy/policy.h"
#include "supervisor/audit.h"

struct ev_store;

struct ev_rec {
	char *tenant, *tool, *op;
	json_t *args;			/* the call's scalar arguments (app_name, window, ...) */
	json_t *result;			/* the result without its arrays (verdict, score, ...) */
	int64_t at_ms;			/* Unix ms when the verdict was recorded */
	uint64_t seq;			/* the "evidence" audit record holding it (0: no audit) */
	uint64_t decision_seq;		/* the decision record of the call that produced it */
};

/* An empty store keeping entries at most max_age_ms old (0: keeps none) and at most
 * LIM_EVIDENCE_MAX of them. */
int ev_store_new(int64_t max_age_ms, struct ev_store **out);
void ev_store_free(struct ev_store *st);		/* NULL-safe */
size_t ev_store_count(const struct ev_store *st);

/* The audit record of a verdict (new reference, NULL when result is not an object with a
 * string "verdict", or out of memory): {"type": "evidence", tenant, principal, tool, op, call,
 * decision_seq, at_ms, args: the scalar members of args, result: result without its array
 * members (per-metric details, series)}. */
json_t *ev_record_new(const char *tenant, const char *principal, const char *tool,
    const char *op, uint64_t call, uint64_t decision_seq, const json_t *args,
    const json_t *result, int64_t at_ms);

/* Add a record as written to the audit log (rec as built by ev_record_new, seq its audit seq).
 * Entries older than the store's max age at now_ms are dropped, then the oldest past the cap.
 * ERR_PROTO when rec is not a well-formed evidence record (why in err). */
int ev_store_add(struct ev_store *st, const json_t *rec, uint64_t seq, int64_t now_ms,
    char *err, size_t errlen);

/* The newest entry that satisfies q (pol_evidence_match), or NULL. */
const struct ev_rec *ev_store_find(const struct ev_store *st, const struct pol_evidence_query *q);

/* What the decision record of a call an entry justified carries as "evidence" (new ref):
 * {seq, decision_seq, op: "tool.op", at, verdict, score, app_name}. */
json_t *ev_used_json(const struct ev_rec *e);

/* Loading from the audit log. */
struct ev_load_stats {
	size_t files;			/* files read (live and rotated, newest first) */
	size_t loaded;			/* entries added */
	size_t expired;			/* evidence records older than the max age */
	size_t bad;			/* evidence records ignored (reported through warn) */
	uint64_t bytes;			/* bytes read */
	bool capped;			/* stopped at LIM_EVIDENCE_SCAN_BYTES */
};
/* Called for each line that is ignored: file, 1-based line number, why. */
typedef void (*ev_warn_fn)(void *arg, const char *file, size_t line, const char *why);

/* Add the evidence records of the audit log whose live file is audit_path (rotated files
 * <stem>.<20 digits>.jsonl beside it), newest file first, until a file starts before the max
 * age or LIM_EVIDENCE_SCAN_BYTES have been read. A record is loaded only when its MAC verifies
 * under key and its fields are well formed; an altered, malformed or torn line is reported
 * through warn (may be NULL) and ignored. Returns 0, or -errno when the directory cannot be
 * read or memory runs out (what was loaded stays). */
int ev_store_load(struct ev_store *st, const char *audit_path, const uint8_t key[AUDIT_KEY_LEN],
    int64_t now_ms, ev_warn_fn warn, void *arg, struct ev_load_stats *stats);

#endif
