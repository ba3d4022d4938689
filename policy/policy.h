/* policy — the corral policy language: a loader and a pure evaluator.
 *
 * pol_set_load() reads policy YAML files (docs/POLICY.md) into an immutable pol_set: names are
 * checked against the tool schema tables, globs and regexes are compiled, time zones are read
 * from TZif files, and every rule is indexed by the (tool, op) pairs it can match. All I/O
 * happens there. pol_decide() is then pure: no I/O, no allocation, no global state; it may run
 * on many threads at once over the same set. The state it consults (rate counters, evidence,
 * approvals) belongs to the caller and is passed in read-only.
 *
 * Semantics (docs/POLICY.md): default deny; any matching deny wins over every allow; among
 * matching allows, the first (in file order) whose conditions all hold allows the call as it
 * is; else the first that only lacks an approval makes it POL_PENDING; else the first
 * dry_run_only allow allows it as a dry run; else POL_DENY with the first failing allow's
 * reason (window, rate, evidence, refused approval). Decisions carry the ids of the rules that
 * decided.
 */
#ifndef CORRAL_POLICY_POLICY_H
#define CORRAL_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ipc/limits.h"
#include "ipc/ydoc.h"
#include "tools/tool.h"

struct pol_set;
struct pol_rates;

/* --- loading --- */

struct pol_load_opts {
	const char *tzdir;			/* NULL: /usr/share/zoneinfo */
	/* The schema tables to check names against; NULL: the registry (tool_families()). */
	const struct tool_family *const *families;
	size_t nfamilies;
};

struct pol_src {			/* an in-memory policy file */
	const char *name;		/* used in messages as the file name */
	const char *buf;
	size_t len;
};

/* Load files in order into one set. Every problem goes into errs as "file:line:col: message"
 * (errors) or "file:line:col: warning: message" (shadowed rules, conflicts, patterns that match
 * nothing). Returns 0 with *out set when there is no error (warnings allowed), else ERR_CONFIG
 * (or -errno) and *out untouched. errs may be NULL. opts may be NULL. */
int pol_set_load(const char *const *files, size_t nfiles, const struct pol_load_opts *opts,
    struct pol_set **out, struct ydoc_errs *errs);
int pol_set_load_mem(const struct pol_src *srcs, size_t nsrcs, const struct pol_load_opts *opts,
    struct pol_set **out, struct ydoc_errs *errs);
void pol_set_free(struct pol_set *ps);

/* SHA-256 (hex, 64 chars) of the canonical form of the set's rules: the same rules in the same
 * order give the same hash whatever the YAML layout, comments or file names. For audit records. */
const char *pol_set_hash(const struct pol_set *ps);
size_t pol_set_nrules(const struct pol_set *ps);
/* The longest `within` of any evidence obligation in ps (ms), 0 when none or ps is NULL: how far
 * back recorded evidence can still justify a call. */
int64_t pol_set_evidence_max_age(const struct pol_set *ps);
/* Canonical form as JSON (new reference), what the hash is computed over. */
json_t *pol_set_canonical(const struct pol_set *ps);

/* --- deciding --- */

enum pol_effect { POL_DENY = 0, POL_ALLOW, POL_PENDING };
const char *pol_effect_name(enum pol_effect e);		/* "deny", "allow", "pending" */
int pol_effect_parse(const char *s, enum pol_effect *out);

struct pol_request {
	const char *tenant;
	const char *principal;		/* "agent:NAME" or "operator:NAME" */
	const char *tool;
	const char *op;
	const struct tool_op *opdef;	/* optional; the set's own table is used when NULL */
	const json_t *args;		/* validated, defaults filled; NULL means {} */
	int64_t now_ms;			/* Unix time, milliseconds */
	bool dry_run;
};

/* What an evidence obligation asks for: a recorded call of tool.op in the same tenant, at or
 * after since_ms, whose result has every field of match (dotted paths, JSON-equal) and whose
 * arguments named in same equal this call's (same_vals, in order). */
struct pol_evidence_query {
	const char *tenant;
	const char *principal;		/* the caller asking; the evidence may come from anyone */
	const char *tool, *op;
	const json_t *match;		/* object or NULL */
	size_t nsame;
	const char *const *same;
	const json_t *same_vals[LIM_POL_SAME_MAX];
	int64_t since_ms, now_ms;
};

/* Does one recorded call satisfy q? Pure; for evidence callbacks (supervisor, CLI, tests). */
bool pol_evidence_match(const struct pol_evidence_query *q, const char *tenant, const char *tool,
    const char *op, const json_t *args, const json_t *result, int64_t at_ms);

enum pol_approval_state {
	POL_APPROVAL_NONE = 0,		/* none asked or none decided yet */
	POL_APPROVAL_GRANTED,		/* quorum reached for this request's hash */
	POL_APPROVAL_REJECTED,		/* an approver refused, or it timed out */
};

/* What the caller knows; every member may be zero/NULL. The evaluator only reads. */
struct pol_state {
	const struct pol_rates *rates;
	/* 1 = found (and *found_at_ms set), 0 = not found, < 0 = lookup failed. Must be pure
	 * enough to call from the deciding thread (the supervisor's index, a test table). */
	int (*evidence)(void *arg, const struct pol_evidence_query *q, int64_t *found_at_ms);
	void *evidence_arg;
	enum pol_approval_state approval;
};

/* Obligations, as loaded; pointers stay valid as long as the set. */
struct pol_approval {
	const char *const *approvers;	/* "group:NAME" or "user:NAME" */
	size_t napprovers;
	uint32_t quorum;
	int64_t timeout_ms;
};

struct pol_evidence {
	const char *tool, *op;
	const json_t *match;		/* object (may be empty) */
	const char *const *same;
	size_t nsame;
	int64_t within_ms;
	const char *text;		/* "prometheus.canary_analyze {verdict: fail} same app_name within 15m" */
};

struct pol_decision {
	enum pol_effect effect;
	size_t nrules;
	const char *rules[LIM_POL_DECISION_RULES];	/* ids, pointing into the set */
	char reason[LIM_POL_REASON_MAX];
	/* Obligations of the deciding allow rule (ALLOW or PENDING), else NULL/false. */
	const struct pol_approval *approval;	/* PENDING: what to ask; ALLOW: was granted */
	const struct pol_evidence *evidence;	/* the evidence required (found when ALLOW) */
	int64_t evidence_at_ms;			/* when that evidence was recorded */
	bool dry_run_only;			/* the call must run with dry_run = true */
	/* private: the deciding allow rule for pol_rate_commit(), -1 when none */
	int32_t rule_index;
};

/* Decide rq under ps. Returns 0 with *out filled (whatever the effect), or -EINVAL when a
 * required request field is missing. Pure and thread-safe; st may be NULL. The rate store must
 * not be written while this runs (the caller's lock). */
int pol_decide(const struct pol_set *ps, const struct pol_request *rq, const struct pol_state *st,
    struct pol_decision *out);

/* The decision as {"effect", "rules", "obligations", "reason"} (new reference). */
json_t *pol_decision_json(const struct pol_decision *d);

/* Could some call of tool.op by principal in tenant be allowed? True when an allow rule of ps
 * names the pair, the tenant and the principal (its where, when, rate and obligations are not
 * looked at) and no deny rule without where and when refuses the pair for them. For listings
 * (the MCP adapter's tools/list): a listed op may still be denied for given arguments or at a
 * given time; an op not listed is denied whatever the call. Pure, like pol_decide(). */
bool pol_could_allow(const struct pol_set *ps, const char *tenant, const char *principal,
    const char *tool, const char *op);

/* --- rate counters (plain data structure owned by the caller; no I/O) --- */

int pol_rates_new(struct pol_rates **out);
void pol_rates_free(struct pol_rates *r);
/* Record that the call rq, decided d (ALLOW), was admitted: counts against the deciding rule's
 * rate for (tenant, principal, rule id). A no-op when that rule has no rate. Counters are keyed
 * by rule id, so they survive a policy reload. ERR_TOOBIG when the store is full even after
 * dropping expired counters (LIM_POL_RATE_KEYS_MAX). */
int pol_rate_commit(struct pol_rates *r, const struct pol_set *ps, const struct pol_request *rq,
    const struct pol_decision *d);
/* Drop counters with no admission inside their window; returns how many are left. */
size_t pol_rates_prune(struct pol_rates *r, int64_t now_ms);
/* A call of tool.op by principal in tenant was refused: if every allow rule of ps that names
 * that pair, tenant and principal has a rate and that rate is exhausted, the time (ms, the
 * clock of pol_request.now_ms) when the first of them has room again; 0 when some such rule
 * has no rate or room (the refusal was not the rates'), or none names them. Their where and
 * when are not looked at. Read-only, like pol_decide(); for back-pressure on a flooding caller. */
int64_t pol_rates_room_at(const struct pol_rates *r, const struct pol_set *ps, const char *tenant,
    const char *principal, const char *tool, const char *op, int64_t now_ms);

/* --- helpers --- */

/* SHA-256 hex of (tenant, principal, tool, op, canonical args, dry_run): what an approval is
 * granted for. out must hold 65 bytes. */
int pol_request_hash(const struct pol_request *rq, char out[65]);

/* "2026-03-29T01:30:00Z", "...+02:00", fractional seconds allowed -> Unix ms. */
int pol_time_parse(const char *s, int64_t *out_ms);
/* Unix ms -> "2026-03-29T01:30:00.000Z". buf must hold 32 bytes. */
void pol_time_format(int64_t ms, char buf[32]);

#endif
