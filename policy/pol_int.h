/* Private to policy/: the loaded form of a policy set. */
#ifndef CORRAL_POLICY_POL_INT_H
#define CORRAL_POLICY_POL_INT_H

#include <regex.h>

#include "policy/policy.h"

/* --- globs (pattern.c) --- */

enum pol_glob_kind { PG_ANY, PG_EXACT, PG_PREFIX, PG_SUFFIX, PG_FNMATCH };

struct pol_glob {
	enum pol_glob_kind kind;
	size_t len;			/* of lit */
	char *src;			/* the pattern as written */
	const char *lit;		/* EXACT: src; PREFIX: src minus '*'; SUFFIX: src + 1 */
};

/* Compile src (copied). Returns 0 or ERR_CONFIG with a reason in why. */
int pol_glob_compile(struct pol_glob *g, const char *src, const char **why);
void pol_glob_free(struct pol_glob *g);
bool pol_glob_match(const struct pol_glob *g, const char *s, size_t slen);
/* Conservative: true only when every string q matches also matches p. */
bool pol_glob_covers(const struct pol_glob *p, const struct pol_glob *q);

/* --- time zones (tz.c) --- */

struct pol_tz;
int pol_tz_load(const char *dir, const char *name, struct pol_tz **out, const char **why);
void pol_tz_free(struct pol_tz *tz);
const char *pol_tz_name(const struct pol_tz *tz);
/* Offset east of UTC, in seconds, in effect at Unix time t (seconds). Pure. */
int32_t pol_tz_offset(const struct pol_tz *tz, int64_t t);
/* A zone from a POSIX TZ string alone ("CET-1CEST,M3.5.0,M10.5.0/3"), for tests. */
int pol_tz_from_posix(const char *name, const char *rule, struct pol_tz **out);

/* Civil date helpers (tz.c). */
int64_t pol_days_from_civil(int64_t y, unsigned m, unsigned d);
void pol_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* --- rules --- */

struct pol_pos {
	const char *file;		/* points into pol_set.files */
	int line, col;
};

enum pol_cond_kind { PC_GLOB, PC_IN, PC_REGEX, PC_RANGE, PC_BOOL, PC_NUM };

struct pol_in_item {
	bool is_num;
	double num;
	char *str;
};

struct pol_cond {
	char *arg;
	enum pol_cond_kind kind;
	struct pol_glob glob;		/* PC_GLOB */
	regex_t re;			/* PC_REGEX */
	bool re_ok;
	struct pol_in_item *in;		/* PC_IN */
	size_t nin;
	bool has_min, has_max;		/* PC_RANGE */
	double min, max;
	bool bval;			/* PC_BOOL */
	double num;			/* PC_NUM */
	char *text;			/* canonical text, for the hash and messages */
	struct pol_pos pos;
};

struct pol_when {
	uint8_t days;			/* bit d = weekday d (0 = Sunday) */
	int32_t start_s, end_s;		/* seconds after local midnight; start > end wraps */
	int tz;				/* index into pol_set.tzs */
	char *text;
};

enum pol_opm_class { POC_NONE, POC_READ, POC_WRITE };

struct pol_opm {
	enum pol_opm_class cls;
	struct pol_glob g;		/* when cls == POC_NONE */
	struct pol_pos pos;
};

struct pol_rule {
	char *id;
	bool deny;
	int tenant;			/* index into pol_set.tenants, -1 = any tenant */
	struct pol_glob *principals;
	size_t nprincipals;
	struct pol_glob tool;
	struct pol_pos tool_pos;
	struct pol_opm *ops;
	size_t nops;
	struct pol_cond *where;
	size_t nwhere;
	bool has_when;
	struct pol_when when;
	uint32_t rate_n;		/* 0 = no rate */
	int64_t rate_ms;
	char *rate_text;
	bool has_approval, has_evidence, dry_run_only;
	struct pol_approval approval;
	char **approvers;
	struct pol_evidence evidence;
	char **same;
	json_t *match;
	char *ev_tool, *ev_op, *ev_text;
	struct pol_pos pos, ev_pos, dry_pos;
	uint8_t *pairs;			/* bitset over pol_set.pairs: (tool, op) it can match */
};

/* A rule as a candidate of one (tool, op): what rejects most rules, kept contiguous so that a
 * scan over a thousand candidates stays in cache without touching the rules themselves. */
#define POL_CAND_LIT	22
#define POL_CAND_FULL	0xff		/* pkind: several principals or a long one: full check */

struct pol_cand {
	uint32_t rule;			/* index into pol_set.rules */
	int32_t tenant;			/* as pol_rule.tenant */
	uint8_t pkind;			/* enum pol_glob_kind of the only principal, or FULL */
	uint8_t plen;
	char plit[POL_CAND_LIT];
};

struct pol_pair {
	const struct tool_family *fam;
	const struct tool_op *op;
	uint64_t hash;
	struct pol_cand *allow, *deny;	/* file order */
	size_t nallow, ndeny;
};

struct pol_set {
	struct pol_rule *rules;
	size_t nrules, caprules;
	char **tenants;
	size_t ntenants;
	uint32_t *ten_ht;		/* open addressing over tenants, index + 1 */
	size_t ten_mask;
	struct pol_tz *tzs[LIM_POL_TZ_MAX];
	size_t ntz;
	char **files;
	size_t nfiles;
	const struct tool_family *const *fams;
	size_t nfams;
	struct pol_pair *pairs;
	size_t npairs;
	uint32_t *pair_ht;		/* open addressing, index + 1, 0 = empty */
	size_t pair_mask;
	char hash[65];
};

/* Decoding context of one file (load.c, cond.c). */
struct pol_ld {
	struct pol_set *ps;
	const struct ydoc *d;
	struct ydoc_errs *e;
	const char *file;		/* interned in ps->files */
	const char *tzdir;
};

struct pol_pos pol_ld_pos(const struct pol_ld *ld, const struct ydoc_node *n);
/* A scalar or a sequence of scalars, as items (a scalar is one item). ERR_TYPE if neither. */
int pol_ld_list(const struct pol_ld *ld, struct ydoc_node *n, const char *what,
    struct ydoc_node **one, struct ydoc_node ***items, size_t *nitems);
int pol_ld_name(const struct pol_ld *ld, const struct ydoc_node *n, const char *what,
    const char **out);

/* cond.c: the parts of a rule with their own small languages. */
int pol_decode_where(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r);
int pol_decode_when(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r);
int pol_decode_rate(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r);
int pol_decode_obligations(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r);
void pol_cond_free(struct pol_cond *c);
/* Scalar node -> JSON (plain true/false/null/numbers typed, anything else a string). */
json_t *pol_scalar_json(const struct ydoc_node *n);

/* bind.c: names against the schema tables; fills r->pairs. */
int pol_rule_bind(struct pol_set *ps, struct pol_rule *r, struct ydoc_errs *e);
int pol_set_pairs_init(struct pol_set *ps);

/* index.c */
uint64_t pol_hash_pair(const char *tool, const char *op);
int pol_set_index(struct pol_set *ps);
const struct pol_pair *pol_pair_find(const struct pol_set *ps, const char *tool, const char *op);
int pol_tenant_find(const struct pol_set *ps, const char *tenant);
int pol_set_compute_hash(struct pol_set *ps);
bool pol_rule_has_pair(const struct pol_rule *r, size_t pair);

/* load.c -> lint.c */
void pol_set_lint(const struct pol_set *ps, struct ydoc_errs *errs);
void pol_rule_free(struct pol_rule *r);

/* decide.c (used by lint: does a condition on a value hold) */
bool pol_cond_eval(const struct pol_cond *c, const json_t *v, bool deny);

/* rates.c: has (tenant, principal, rule id) had n admissions inside (now - window, now]? */
bool pol_rates_exceeded(const struct pol_rates *r, const char *tenant, const char *principal,
    const char *rule_id, uint32_t n, int64_t window_ms, int64_t now_ms);

/* Report at a rule position (lint, index). */
void pol_pos_warnf(struct ydoc_errs *e, const struct pol_pos *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pol_pos_errf(struct ydoc_errs *e, const struct pol_pos *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
