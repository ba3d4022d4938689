/* Warnings about rules that cannot change a decision: a rule shadowed by an earlier one with
 * the same effect, and an allow that a deny covers entirely (deny always wins). "Covers" is
 * conservative: when in doubt the linter stays quiet, so every warning is a real one. */
#include <stdio.h>
#include <string.h>

#include "policy/pol_int.h"

#define LINT_RULES_MAX	5000	/* the comparison is quadratic */

static bool
pairs_subset(const struct pol_set *ps, const struct pol_rule *q, const struct pol_rule *p)
{
	for (size_t i = 0; i < ps->npairs / 8 + 1; i++)
		if (q->pairs[i] & ~p->pairs[i])
			return false;
	return true;
}

/* Does q's condition c2 imply p's condition c1 (same argument)? */
static bool
cond_implies(const struct pol_cond *c2, const struct pol_cond *c1)
{
	if (c1->kind == c2->kind && strcmp(c1->text, c2->text) == 0)
		return true;
	if (c1->kind == PC_GLOB && c2->kind == PC_GLOB)
		return pol_glob_covers(&c1->glob, &c2->glob);
	if (c1->kind == PC_RANGE && (c2->kind == PC_RANGE || c2->kind == PC_NUM)) {
		double lo = c2->kind == PC_NUM ? c2->num : c2->min;
		double hi = c2->kind == PC_NUM ? c2->num : c2->max;
		bool has_lo = c2->kind == PC_NUM || c2->has_min;
		bool has_hi = c2->kind == PC_NUM || c2->has_max;

		return (!c1->has_min || (has_lo && lo >= c1->min)) &&
		    (!c1->has_max || (has_hi && hi <= c1->max));
	}
	return false;
}

static bool
where_covers(const struct pol_rule *p, const struct pol_rule *q)
{
	for (size_t i = 0; i < p->nwhere; i++) {
		bool ok = false;

		for (size_t k = 0; k < q->nwhere && !ok; k++)
			ok = strcmp(p->where[i].arg, q->where[k].arg) == 0 &&
			    cond_implies(&q->where[k], &p->where[i]);
		if (!ok)
			return false;
	}
	return true;
}

/* Every call q matches, p matches too (tenant, principals, tool/op, where, window). */
static bool
rule_covers(const struct pol_set *ps, const struct pol_rule *p, const struct pol_rule *q)
{
	if (p->tenant >= 0 && p->tenant != q->tenant)
		return false;
	if (p->has_when && (!q->has_when || strcmp(p->when.text, q->when.text) != 0))
		return false;
	if (!pairs_subset(ps, q, p))
		return false;
	for (size_t k = 0; k < q->nprincipals; k++) {
		bool ok = false;

		for (size_t i = 0; i < p->nprincipals && !ok; i++)
			ok = pol_glob_covers(&p->principals[i], &q->principals[k]);
		if (!ok)
			return false;
	}
	return where_covers(p, q);
}

static bool
approval_eq(const struct pol_approval *a, const struct pol_approval *b)
{
	if (a->napprovers != b->napprovers || a->quorum != b->quorum ||
	    a->timeout_ms != b->timeout_ms)
		return false;
	for (size_t i = 0; i < a->napprovers; i++)
		if (strcmp(a->approvers[i], b->approvers[i]) != 0)
			return false;
	return true;
}

/* An earlier allow p makes q useless only if p never fails where q would pass: no rate of
 * its own, and the same obligations. */
static bool
allow_no_weaker(const struct pol_rule *p, const struct pol_rule *q)
{
	if (p->rate_n != 0 || p->dry_run_only != q->dry_run_only ||
	    p->has_evidence != q->has_evidence || p->has_approval != q->has_approval)
		return false;
	if (p->has_evidence && strcmp(p->ev_text, q->ev_text) != 0)
		return false;
	return !p->has_approval || approval_eq(&p->approval, &q->approval);
}

static bool
rule_empty(const struct pol_set *ps, const struct pol_rule *r)
{
	for (size_t i = 0; i < ps->npairs / 8 + 1; i++)
		if (r->pairs[i])
			return false;
	return true;
}

static void
lint_rule(const struct pol_set *ps, size_t j, struct ydoc_errs *e)
{
	const struct pol_rule *q = &ps->rules[j];

	for (size_t i = 0; i < j; i++) {
		const struct pol_rule *p = &ps->rules[i];

		if (p->deny != q->deny || !rule_covers(ps, p, q) ||
		    (!p->deny && !allow_no_weaker(p, q)))
			continue;
		pol_pos_warnf(e, &q->pos, "rule '%s' is shadowed by rule '%s' (%s:%d:%d): it %s "
		    "every call this one matches", q->id, p->id, p->pos.file, p->pos.line,
		    p->pos.col, p->deny ? "already denies" : "already allows, with the same "
		    "conditions,");
		return;
	}
	if (q->deny)
		return;
	for (size_t i = 0; i < ps->nrules; i++) {
		const struct pol_rule *p = &ps->rules[i];

		if (!p->deny || !rule_covers(ps, p, q))
			continue;
		pol_pos_warnf(e, &q->pos, "allow rule '%s' never takes effect: deny rule '%s' "
		    "(%s:%d:%d) matches every call it matches", q->id, p->id, p->pos.file,
		    p->pos.line, p->pos.col);
		return;
	}
}

void
pol_set_lint(const struct pol_set *ps, struct ydoc_errs *e)
{
	if (ps->nrules > LINT_RULES_MAX) {
		pol_pos_warnf(e, &ps->rules[0].pos, "%zu rules: shadowing and conflicts are only "
		    "checked up to %d rules", ps->nrules, LINT_RULES_MAX);
		return;
	}
	for (size_t j = 0; j < ps->nrules; j++)
		if (!rule_empty(ps, &ps->rules[j]))	/* empty rules were reported at bind */
			lint_rule(ps, j, e);
}
