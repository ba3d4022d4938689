/* Policy files -> pol_set. Every problem is reported with its file:line:col and decoding goes
 * on, so one run shows them all; a set with any error is not returned. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "policy/pol_int.h"

static const char *const doc_keys[] = { "apiVersion", "kind", "metadata", "spec", NULL };
static const char *const meta_keys[] = { "name", "description", "labels", NULL };
static const char *const spec_keys[] = { "tenant", "description", "rules", NULL };
static const char *const rule_keys[] = { "id", "description", "effect", "principals", "tool",
	"operations", "where", "when", "rate", "obligations", NULL };
static const char *const required_keys[] = { "id", "effect", "principals", "tool", "operations",
	NULL };

/* ---------------------------------------------------------------- helpers */

struct pol_pos
pol_ld_pos(const struct pol_ld *ld, const struct ydoc_node *n)
{
	struct pol_pos p = { ld->file, n ? n->line : 0, n ? n->col : 0 };

	return p;
}

static void
pos_report(struct ydoc_errs *e, const struct pol_pos *p, bool warn, const char *fmt, va_list ap)
{
	char msg[1024];
	struct ydoc d = { .file = (char *)p->file };
	struct ydoc_node n = { .line = p->line, .col = p->col };

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (warn)
		ydoc_warnf(e, &d, p->line ? &n : NULL, "%s", msg);
	else
		ydoc_errf(e, &d, p->line ? &n : NULL, "%s", msg);
}

void
pol_pos_warnf(struct ydoc_errs *e, const struct pol_pos *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pos_report(e, p, true, fmt, ap);
	va_end(ap);
}

void
pol_pos_errf(struct ydoc_errs *e, const struct pol_pos *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pos_report(e, p, false, fmt, ap);
	va_end(ap);
}

int
pol_ld_list(const struct pol_ld *ld, struct ydoc_node *n, const char *what,
    struct ydoc_node **one, struct ydoc_node ***items, size_t *nitems)
{
	if (n != NULL && n->type == YDOC_SCALAR && !ydoc_is_null(n)) {
		*one = n;		/* a lone scalar is a list of one */
		*items = one, *nitems = 1;
		return 0;
	}
	if (n == NULL || n->type != YDOC_SEQ || n->n == 0) {
		ydoc_errf(ld->e, ld->d, n, "%s: expected a non-empty list", what);
		return ERR_TYPE;
	}
	if (n->n > LIM_POL_LIST_MAX) {
		ydoc_errf(ld->e, ld->d, n, "%s: more than %u entries", what, LIM_POL_LIST_MAX);
		return ERR_TOOBIG;
	}
	for (size_t i = 0; i < n->n; i++)
		if (n->items[i]->type != YDOC_SCALAR || ydoc_is_null(n->items[i])) {
			ydoc_errf(ld->e, ld->d, n->items[i], "%s: expected a string", what);
			return ERR_TYPE;
		}
	*items = n->items, *nitems = n->n;
	return 0;
}

/* Identifiers: rule ids, tenants, argument names. */
int
pol_ld_name(const struct pol_ld *ld, const struct ydoc_node *n, const char *what,
    const char **out)
{
	const char *s;

	if (n == NULL || n->type != YDOC_SCALAR || ydoc_is_null(n)) {
		ydoc_errf(ld->e, ld->d, n, "%s: expected a name", what);
		return ERR_TYPE;
	}
	s = n->str;
	if (n->len == 0 || n->len >= LIM_NAME_MAX || !((*s >= 'a' && *s <= 'z') ||
	    (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		goto bad;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == ':'))
			goto bad;
	*out = s;
	return 0;
bad:
	ydoc_errf(ld->e, ld->d, n, "%s '%s': use letters, digits, '_', '-', '.', ':' (at most %u)",
	    what, s, LIM_NAME_MAX - 1);
	return ERR_CONFIG;
}

static int
intern(char ***tab, size_t *n, const char *s)
{
	char **nt;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*tab)[i], s) == 0)
			return (int)i;
	if ((nt = realloc(*tab, (*n + 1) * sizeof(*nt))) == NULL)
		return -ENOMEM;
	*tab = nt;
	if ((nt[*n] = strdup(s)) == NULL)
		return -ENOMEM;
	return (int)(*n)++;
}

/* ---------------------------------------------------------------- rule parts */

static int
decode_principals(const struct pol_ld *ld, struct ydoc_node *n, struct pol_rule *r)
{
	struct ydoc_node **it, *one;
	size_t cnt;
	const char *why;
	int r2, rc = 0;

	if ((r2 = pol_ld_list(ld, n, "principals", &one, &it, &cnt)) < 0)
		return r2;
	if ((r->principals = calloc(cnt, sizeof(*r->principals))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		const char *s = it[i]->str;

		if (strcmp(s, "*") != 0 && strncmp(s, "agent:", 6) != 0 &&
		    strncmp(s, "operator:", 9) != 0) {
			ydoc_errf(ld->e, ld->d, it[i], "principal '%s': expected agent:NAME, "
			    "operator:NAME or '*' (NAME may be a glob)", s);
			rc = ERR_CONFIG;
			continue;
		}
		if ((r2 = pol_glob_compile(&r->principals[r->nprincipals], s, &why)) < 0) {
			if (r2 == -ENOMEM)
				return r2;
			ydoc_errf(ld->e, ld->d, it[i], "principal '%s': %s", s, why);
			rc = ERR_CONFIG;
			continue;
		}
		r->nprincipals++;
	}
	return rc;
}

static int
decode_ops(const struct pol_ld *ld, struct ydoc_node *n, struct pol_rule *r)
{
	struct ydoc_node **it, *one;
	size_t cnt;
	const char *why;
	int r2, rc = 0;

	if ((r2 = pol_ld_list(ld, n, "operations", &one, &it, &cnt)) < 0)
		return r2;
	if ((r->ops = calloc(cnt, sizeof(*r->ops))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		struct pol_opm *m = &r->ops[r->nops];
		const char *s = it[i]->str;

		m->pos = pol_ld_pos(ld, it[i]);
		if (strncmp(s, "class:", 6) == 0) {
			if (strcmp(s + 6, "read") == 0)
				m->cls = POC_READ;
			else if (strcmp(s + 6, "write") == 0)
				m->cls = POC_WRITE;
			else {
				ydoc_errf(ld->e, ld->d, it[i], "operation class '%s': expected "
				    "class:read or class:write", s);
				rc = ERR_CONFIG;
				continue;
			}
		} else if ((r2 = pol_glob_compile(&m->g, s, &why)) < 0) {
			if (r2 == -ENOMEM)
				return r2;
			ydoc_errf(ld->e, ld->d, it[i], "operation '%s': %s", s, why);
			rc = ERR_CONFIG;
			continue;
		}
		r->nops++;
	}
	return rc;
}

static int
decode_tool(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r)
{
	const char *why;
	int rc;

	if (n == NULL || n->type != YDOC_SCALAR || ydoc_is_null(n)) {
		ydoc_errf(ld->e, ld->d, n, "tool: expected a tool family name or glob");
		return ERR_TYPE;
	}
	r->tool_pos = pol_ld_pos(ld, n);
	if ((rc = pol_glob_compile(&r->tool, n->str, &why)) < 0 && rc != -ENOMEM)
		ydoc_errf(ld->e, ld->d, n, "tool '%s': %s", n->str, why);
	return rc;
}

static int
decode_effect(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r)
{
	if (n != NULL && n->type == YDOC_SCALAR && strcmp(n->str, "allow") == 0)
		return (r->deny = false), 0;
	if (n != NULL && n->type == YDOC_SCALAR && strcmp(n->str, "deny") == 0)
		return (r->deny = true), 0;
	ydoc_errf(ld->e, ld->d, n, "effect: expected allow or deny");
	return ERR_CONFIG;
}

static const struct pol_rule *
rule_by_id(const struct pol_set *ps, const char *id)
{
	for (size_t i = 0; i < ps->nrules; i++)
		if (strcmp(ps->rules[i].id, id) == 0)
			return &ps->rules[i];
	return NULL;
}

static int
decode_id(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r)
{
	const struct pol_rule *prev;
	const char *id;
	int rc;

	if ((rc = pol_ld_name(ld, n, "id", &id)) < 0)
		return rc;
	if ((prev = rule_by_id(ld->ps, id)) != NULL) {
		ydoc_errf(ld->e, ld->d, n, "duplicate rule id '%s' (first defined at %s:%d:%d)", id,
		    prev->pos.file, prev->pos.line, prev->pos.col);
		return ERR_CONFIG;
	}
	return (r->id = strdup(id)) ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- rules */

/* Runs every part's decoder even after a failure so that all errors are reported. */
static int
decode_rule_parts(const struct pol_ld *ld, struct ydoc_node *n, struct pol_rule *r,
    bool *bindable)
{
	struct ydoc_node *v;
	int rc = 0, r2;
	size_t e0;

	for (const char *const *k = required_keys; *k; k++)
		if (ydoc_get(n, *k) == NULL) {
			ydoc_errf(ld->e, ld->d, n, "rule: '%s' is missing", *k);
			rc = ERR_MISSING;
		}
	if (rc < 0)
		return rc;
#define PART(call) do { if ((r2 = (call)) == -ENOMEM) return r2; if (r2 < 0) rc = r2; } while (0)
	PART(ydoc_check_keys(ld->e, ld->d, n, rule_keys));
	PART(decode_id(ld, ydoc_get(n, "id"), r));
	PART(decode_effect(ld, ydoc_get(n, "effect"), r));
	PART(decode_principals(ld, ydoc_get(n, "principals"), r));
	/* What binding reads (tool, operations, where, obligations) must have decoded cleanly
	 * for its own errors to mean anything. */
	e0 = ld->e->errors;
	PART(decode_tool(ld, ydoc_get(n, "tool"), r));
	PART(decode_ops(ld, ydoc_get(n, "operations"), r));
	if ((v = ydoc_get(n, "where")) != NULL)
		PART(pol_decode_where(ld, v, r));
	if ((v = ydoc_get(n, "obligations")) != NULL)
		PART(pol_decode_obligations(ld, v, r));
	*bindable = ld->e->errors == e0 && r->id != NULL;
	if ((v = ydoc_get(n, "description")) != NULL && v->type != YDOC_SCALAR)
		PART(ydoc_want(ld->e, ld->d, v, YDOC_SCALAR));
	if ((v = ydoc_get(n, "when")) != NULL)
		PART(pol_decode_when(ld, v, r));
	if ((v = ydoc_get(n, "rate")) != NULL)
		PART(pol_decode_rate(ld, v, r));
#undef PART
	if (r->deny && (r->rate_n || r->has_approval || r->has_evidence || r->dry_run_only)) {
		v = ydoc_get(n, r->rate_n ? "rate" : "obligations");
		ydoc_errf(ld->e, ld->d, v, "a deny rule takes no %s",
		    r->rate_n ? "rate" : "obligations");
		rc = ERR_CONFIG;
	}
	return rc;
}

static int
rules_grow(struct pol_set *ps)
{
	struct pol_rule *nr;
	size_t ncap;

	if (ps->nrules < ps->caprules)
		return 0;
	ncap = ps->caprules ? ps->caprules * 2 : 16;
	if ((nr = realloc(ps->rules, ncap * sizeof(*nr))) == NULL)
		return -ENOMEM;
	ps->rules = nr, ps->caprules = ncap;
	return 0;
}

static int
decode_rule(const struct pol_ld *ld, struct ydoc_node *n, int tenant)
{
	struct pol_rule r;
	bool bindable = false;
	int rc, r2;

	memset(&r, 0, sizeof(r));
	r.tenant = tenant;
	r.pos = pol_ld_pos(ld, n);
	if (ydoc_want(ld->e, ld->d, n, YDOC_MAP) < 0)
		return ERR_TYPE;
	if (ld->ps->nrules >= LIM_POL_RULES_MAX) {
		ydoc_errf(ld->e, ld->d, n, "more than %u rules", LIM_POL_RULES_MAX);
		return ERR_TOOBIG;
	}
	rc = decode_rule_parts(ld, n, &r, &bindable);
	if (rc != -ENOMEM && bindable && (r2 = pol_rule_bind(ld->ps, &r, ld->e)) < 0)
		rc = r2;
	if (rc < 0 || (rc = rules_grow(ld->ps)) < 0) {
		pol_rule_free(&r);
		return rc;
	}
	ld->ps->rules[ld->ps->nrules++] = r;
	return 0;
}

static int
decode_spec(const struct pol_ld *ld, struct ydoc_node *spec)
{
	struct ydoc_node *rules, *t;
	const char *tenant;
	int tid = -1, rc = 0, r2;

	if (ydoc_want(ld->e, ld->d, spec, YDOC_MAP) < 0)
		return ERR_TYPE;
	rc = ydoc_check_keys(ld->e, ld->d, spec, spec_keys);
	if ((t = ydoc_get(spec, "tenant")) != NULL) {
		if ((r2 = pol_ld_name(ld, t, "tenant", &tenant)) < 0)
			return r2;
		if ((tid = intern(&ld->ps->tenants, &ld->ps->ntenants, tenant)) < 0)
			return tid;
	}
	rules = ydoc_get(spec, "rules");
	if (rules == NULL || rules->type != YDOC_SEQ) {
		ydoc_errf(ld->e, ld->d, rules ? rules : spec, "rules: expected a list of rules");
		return ERR_CONFIG;
	}
	for (size_t i = 0; i < rules->n; i++)
		if ((r2 = decode_rule(ld, rules->items[i], tid)) < 0) {
			if (r2 == -ENOMEM)
				return r2;
			rc = r2;
		}
	return rc;
}

static int
want_value(const struct pol_ld *ld, const struct ydoc_node *m, const char *key, const char *want)
{
	const struct ydoc_node *n = ydoc_get(m, key);

	if (n != NULL && n->type == YDOC_SCALAR && strcmp(n->str, want) == 0)
		return 0;
	ydoc_errf(ld->e, ld->d, n ? n : m, "%s: expected %s", key, want);
	return ERR_CONFIG;
}

static int
decode_doc(const struct pol_ld *ld, struct ydoc_node *root)
{
	struct ydoc_node *meta;
	const char *name;
	int rc = 0, r2;

	if (root == NULL) {
		ydoc_errf(ld->e, ld->d, NULL, "empty policy file");
		return ERR_CONFIG;
	}
	if (ydoc_want(ld->e, ld->d, root, YDOC_MAP) < 0)
		return ERR_TYPE;
	rc = ydoc_check_keys(ld->e, ld->d, root, doc_keys);
	if ((r2 = want_value(ld, root, "apiVersion", "corral.dev/v1")) < 0)
		rc = r2;
	if ((r2 = want_value(ld, root, "kind", "Policy")) < 0)
		rc = r2;
	meta = ydoc_get(root, "metadata");
	if (meta == NULL) {
		ydoc_errf(ld->e, ld->d, root, "metadata: missing (metadata: { name: ... })");
		rc = ERR_MISSING;
	} else if (ydoc_want(ld->e, ld->d, meta, YDOC_MAP) < 0)
		rc = ERR_CONFIG;
	else if ((r2 = ydoc_check_keys(ld->e, ld->d, meta, meta_keys)) < 0 ||
	    (r2 = pol_ld_name(ld, ydoc_get(meta, "name"), "metadata.name", &name)) < 0)
		rc = r2;
	if (ydoc_get(root, "spec") == NULL) {
		ydoc_errf(ld->e, ld->d, root, "spec: missing");
		return ERR_MISSING;
	}
	if ((r2 = decode_spec(ld, ydoc_get(root, "spec"))) < 0)
		rc = r2;
	return rc;
}

/* ---------------------------------------------------------------- the set */

static int
set_new(const struct pol_load_opts *opts, struct pol_set **out)
{
	struct pol_set *ps;
	int rc;

	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return -ENOMEM;
	if (opts != NULL && opts->families != NULL) {
		ps->fams = opts->families;
		ps->nfams = opts->nfamilies;
	} else {
		ps->fams = tool_families(&ps->nfams);
	}
	if ((rc = pol_set_pairs_init(ps)) < 0) {
		pol_set_free(ps);
		return rc;
	}
	*out = ps;
	return 0;
}

static int
load_one(struct pol_set *ps, const struct pol_load_opts *opts, const char *name,
    const struct pol_src *src, struct ydoc_errs *e)
{
	struct pol_ld ld = { .ps = ps, .e = e, .tzdir = opts ? opts->tzdir : NULL };
	struct ydoc *d = NULL;
	size_t errors0 = e->errors;
	int fid, rc;

	if ((fid = intern(&ps->files, &ps->nfiles, name)) < 0)
		return fid;
	ld.file = ps->files[fid];
	if (src != NULL)
		rc = ydoc_load_mem(name, src->buf, src->len, &d, e);
	else
		rc = ydoc_load_file(name, &d, e);
	if (rc < 0) {
		if (e->errors == errors0)	/* most failures are already reported */
			ydoc_errf(e, &(struct ydoc){ .file = (char *)name }, NULL, "%s",
			    err_str(rc));
		return rc;
	}
	ld.d = d;
	rc = decode_doc(&ld, d->root);
	ydoc_free(d);
	return rc;
}

static int
load_all(const char *const *files, const struct pol_src *srcs, size_t n,
    const struct pol_load_opts *opts, struct pol_set **out, struct ydoc_errs *errs)
{
	struct ydoc_errs local = { 0 }, *e = errs ? errs : &local;
	struct pol_set *ps = NULL;
	size_t errors0 = e->errors;
	int rc, r2;

	if (n == 0 || n > LIM_POL_FILES_MAX) {
		ydoc_errf(e, NULL, NULL, "expected 1 to %d policy files", LIM_POL_FILES_MAX);
		rc = ERR_CONFIG;
		goto out;
	}
	if ((rc = set_new(opts, &ps)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((r2 = load_one(ps, opts, files ? files[i] : srcs[i].name,
		    files ? NULL : &srcs[i], e)) == -ENOMEM) {
			rc = r2;
			goto out;
		}
	if (e->errors > errors0) {
		rc = ERR_CONFIG;
		goto out;
	}
	if ((rc = pol_set_index(ps)) < 0 || (rc = pol_set_compute_hash(ps)) < 0)
		goto out;
	pol_set_lint(ps, e);
	*out = ps, ps = NULL;
	rc = 0;
out:
	pol_set_free(ps);
	ydoc_errs_free(&local);
	return rc;
}

int
pol_set_load(const char *const *files, size_t nfiles, const struct pol_load_opts *opts,
    struct pol_set **out, struct ydoc_errs *errs)
{
	return load_all(files, NULL, nfiles, opts, out, errs);
}

int
pol_set_load_mem(const struct pol_src *srcs, size_t nsrcs, const struct pol_load_opts *opts,
    struct pol_set **out, struct ydoc_errs *errs)
{
	return load_all(NULL, srcs, nsrcs, opts, out, errs);
}

void
pol_rule_free(struct pol_rule *r)
{
	free(r->id);
	for (size_t i = 0; i < r->nprincipals; i++)
		pol_glob_free(&r->principals[i]);
	free(r->principals);
	pol_glob_free(&r->tool);
	for (size_t i = 0; i < r->nops; i++)
		pol_glob_free(&r->ops[i].g);
	free(r->ops);
	for (size_t i = 0; i < r->nwhere; i++)
		pol_cond_free(&r->where[i]);
	free(r->where);
	free(r->when.text);
	free(r->rate_text);
	for (size_t i = 0; r->approvers && i < r->approval.napprovers; i++)
		free(r->approvers[i]);
	free(r->approvers);
	for (size_t i = 0; r->same && i < r->evidence.nsame; i++)
		free(r->same[i]);
	free(r->same);
	json_decref(r->match);
	free(r->ev_tool);
	free(r->ev_op);
	free(r->ev_text);
	free(r->pairs);
	memset(r, 0, sizeof(*r));
}

void
pol_set_free(struct pol_set *ps)
{
	if (ps == NULL)
		return;
	for (size_t i = 0; i < ps->nrules; i++)
		pol_rule_free(&ps->rules[i]);
	free(ps->rules);
	for (size_t i = 0; i < ps->ntenants; i++)
		free(ps->tenants[i]);
	free(ps->tenants);
	free(ps->ten_ht);
	for (size_t i = 0; i < ps->ntz; i++)
		pol_tz_free(ps->tzs[i]);
	for (size_t i = 0; i < ps->nfiles; i++)
		free(ps->files[i]);
	free(ps->files);
	for (size_t i = 0; i < ps->npairs; i++) {
		free(ps->pairs[i].allow);
		free(ps->pairs[i].deny);
	}
	free(ps->pairs);
	free(ps->pair_ht);
	free(ps);
}

const char *
pol_set_hash(const struct pol_set *ps)
{
	return ps->hash;
}

size_t
pol_set_nrules(const struct pol_set *ps)
{
	return ps->nrules;
}

int64_t
pol_set_evidence_max_age(const struct pol_set *ps)
{
	int64_t max = 0;

	for (size_t i = 0; ps != NULL && i < ps->nrules; i++)
		if (ps->rules[i].has_evidence && ps->rules[i].evidence.within_ms > max)
			max = ps->rules[i].evidence.within_ms;
	return max;
}
