/* Binding rules to the schema tables: every (tool, op) pair the registry knows gets an index,
 * and each rule gets the set of pairs it can match. Names that exist nowhere are errors;
 * patterns that match nothing are warnings. Because the tables are finite, "which calls can
 * this rule see" is exact, which is also what lets the linter compare rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "policy/pol_int.h"

static const char *const ptype_names[] = {
	[TP_STRING] = "string", [TP_INT] = "integer", [TP_NUMBER] = "number",
	[TP_BOOL] = "boolean", [TP_OBJECT] = "object", [TP_ARRAY] = "array", [TP_JSON] = "JSON",
};

uint64_t
pol_hash_pair(const char *tool, const char *op)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)tool; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const unsigned char *p = (const unsigned char *)op; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

int
pol_set_pairs_init(struct pol_set *ps)
{
	size_t n = 0, size = 16;

	for (size_t i = 0; i < ps->nfams; i++)
		for (const struct tool_op *op = ps->fams[i]->ops; op && op->name; op++)
			n++;
	while (size < n * 2)
		size *= 2;
	if ((ps->pairs = calloc(n + 1, sizeof(*ps->pairs))) == NULL ||
	    (ps->pair_ht = calloc(size, sizeof(*ps->pair_ht))) == NULL)
		return -ENOMEM;
	ps->pair_mask = size - 1;
	for (size_t i = 0; i < ps->nfams; i++)
		for (const struct tool_op *op = ps->fams[i]->ops; op && op->name; op++) {
			struct pol_pair *p = &ps->pairs[ps->npairs];
			size_t slot;

			if (pol_pair_find(ps, ps->fams[i]->name, op->name) != NULL)
				continue;	/* a duplicate name in the tables: first wins */
			p->fam = ps->fams[i], p->op = op;
			p->hash = pol_hash_pair(ps->fams[i]->name, op->name);
			for (slot = p->hash & ps->pair_mask; ps->pair_ht[slot] != 0;
			    slot = (slot + 1) & ps->pair_mask)
				;
			ps->pair_ht[slot] = (uint32_t)++ps->npairs;
		}
	return 0;
}

static void
bit_set(uint8_t *b, size_t i, bool on)
{
	if (on)
		b[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		b[i / 8] &= (uint8_t)~(1u << (i % 8));
}

bool
pol_rule_has_pair(const struct pol_rule *r, size_t i)
{
	return (r->pairs[i / 8] >> (i % 8)) & 1;
}

static bool
opm_match(const struct pol_opm *m, const struct tool_op *op)
{
	switch (m->cls) {
	case POC_READ:
		return !(op->flags & TOOL_F_MUTATING);
	case POC_WRITE:
		return (op->flags & TOOL_F_MUTATING) != 0;
	case POC_NONE:
		break;
	}
	return pol_glob_match(&m->g, op->name, strlen(op->name));
}

static const char *
opm_text(const struct pol_opm *m)
{
	return m->cls == POC_READ ? "class:read" : m->cls == POC_WRITE ? "class:write" : m->g.src;
}

/* Marks the pairs of families the tool pattern names and ops the operations name. */
static int
bind_ops(const struct pol_set *ps, struct pol_rule *r, struct ydoc_errs *e)
{
	bool tool_any = false;
	int rc = 0;

	for (size_t i = 0; i < ps->nfams; i++)
		tool_any |= pol_glob_match(&r->tool, ps->fams[i]->name, strlen(ps->fams[i]->name));
	if (!tool_any) {
		if (r->tool.kind == PG_EXACT) {
			pol_pos_errf(e, &r->tool_pos, "unknown tool '%s'", r->tool.src);
			return ERR_UNKNOWN;
		}
		pol_pos_warnf(e, &r->tool_pos, "tool pattern '%s' matches no tool", r->tool.src);
		return 0;
	}
	for (size_t k = 0; k < r->nops; k++) {
		bool any = false;

		for (size_t i = 0; i < ps->npairs; i++) {
			const struct pol_pair *p = &ps->pairs[i];

			if (pol_glob_match(&r->tool, p->fam->name, strlen(p->fam->name)) &&
			    opm_match(&r->ops[k], p->op)) {
				bit_set(r->pairs, i, true);
				any = true;
			}
		}
		if (any)
			continue;
		if (r->ops[k].cls == POC_NONE && r->ops[k].g.kind == PG_EXACT) {
			pol_pos_errf(e, &r->ops[k].pos, "unknown operation '%s' for tool '%s'",
			    r->ops[k].g.src, r->tool.src);
			rc = ERR_UNKNOWN;
		} else {
			pol_pos_warnf(e, &r->ops[k].pos, "'%s' matches no operation of tool '%s'",
			    opm_text(&r->ops[k]), r->tool.src);
		}
	}
	return rc;
}

/* Is condition c usable on a parameter of type t? A bare number on a string parameter is a
 * pattern on its text. NULL when fine, else why not. */
static const char *
cond_type_check(struct pol_cond *c, const struct tool_param *p)
{
	bool str = p->type == TP_STRING || p->type == TP_ARRAY;
	bool num = p->type == TP_INT || p->type == TP_NUMBER;

	switch (c->kind) {
	case PC_GLOB:
	case PC_REGEX:
		return str ? NULL : "a pattern needs a string argument";
	case PC_NUM:
		if (str)
			c->kind = PC_GLOB;
		return str || num ? NULL : "a number needs a numeric or string argument";
	case PC_RANGE:
		return num ? NULL : "min/max need a numeric argument";
	case PC_BOOL:
		return p->type == TP_BOOL ? NULL : "true/false needs a boolean argument";
	case PC_IN:
		if (str)
			return NULL;
		for (size_t i = 0; num && i < c->nin; i++)
			if (!c->in[i].is_num)
				return "every 'in' value must be a number for a numeric argument";
		return num ? NULL : "'in' needs a string or numeric argument";
	}
	return "unsupported condition";
}

static void
pair_names(const struct pol_set *ps, const struct pol_rule *r, char *buf, size_t len)
{
	size_t shown = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ps->npairs; i++)
		if (pol_rule_has_pair(r, i) && shown++ < 3)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s.%s", shown > 1 ? ", " : "",
			    ps->pairs[i].fam->name, ps->pairs[i].op->name);
	if (shown > 3)
		snprintf(buf + strlen(buf), len - strlen(buf), ", ...");
}

/* An operation named literally that lacks a where-argument is probably a mistake (a glob
 * such as get_* legitimately spans ops with and without it, so those stay quiet). */
static void
warn_named_op(const struct pol_rule *r, const struct pol_pair *p, const char *arg,
    struct ydoc_errs *e)
{
	for (size_t k = 0; k < r->nops; k++)
		if (r->ops[k].cls == POC_NONE && r->ops[k].g.kind == PG_EXACT &&
		    strcmp(r->ops[k].g.src, p->op->name) == 0)
			pol_pos_warnf(e, &r->ops[k].pos, "rule '%s' never matches %s.%s: it has no "
			    "argument '%s' for the where-condition", r->id, p->fam->name,
			    p->op->name, arg);
}

static int
bind_where(const struct pol_set *ps, struct pol_rule *r, struct ydoc_errs *e)
{
	char names[256];
	int rc = 0;

	pair_names(ps, r, names, sizeof(names));
	for (size_t k = 0; k < r->nwhere; k++) {
		struct pol_cond *c = &r->where[k];
		const char *why = NULL;
		bool found = false;

		for (size_t i = 0; i < ps->npairs && !why; i++) {
			const struct tool_param *p;

			if (!pol_rule_has_pair(r, i) || !(p = tool_param_find(ps->pairs[i].op, c->arg)))
				continue;
			found = true;
			if ((why = cond_type_check(c, p)) != NULL)
				pol_pos_errf(e, &c->pos, "where %s: %s (%s.%s takes %s %s)", c->arg,
				    why, ps->pairs[i].fam->name, ps->pairs[i].op->name,
				    p->type == TP_ARRAY || p->type == TP_INT ? "an" : "a",
				    ptype_names[p->type]);
		}
		if (why != NULL) {
			rc = ERR_CONFIG;
		} else if (!found) {
			pol_pos_errf(e, &c->pos, "unknown argument '%s' (not a parameter of %s)",
			    c->arg, *names ? names : "any operation of the rule");
			rc = ERR_UNKNOWN;
		}
	}
	/* A condition on an argument an op does not take never holds: drop those pairs. */
	for (size_t i = 0; i < ps->npairs; i++)
		for (size_t k = 0; k < r->nwhere && pol_rule_has_pair(r, i); k++)
			if (tool_param_find(ps->pairs[i].op, r->where[k].arg) == NULL) {
				bit_set(r->pairs, i, false);
				if (rc == 0)
					warn_named_op(r, &ps->pairs[i], r->where[k].arg, e);
			}
	return rc;
}

static int
bind_evidence(const struct pol_set *ps, struct pol_rule *r, struct ydoc_errs *e)
{
	const struct pol_pair *ev = pol_pair_find(ps, r->ev_tool, r->ev_op);
	int rc = 0;

	if (ev == NULL) {
		pol_pos_errf(e, &r->ev_pos, "evidence.op: unknown operation '%s.%s'", r->ev_tool,
		    r->ev_op);
		return ERR_UNKNOWN;
	}
	for (size_t k = 0; k < r->evidence.nsame; k++) {
		bool mine = false;

		for (size_t i = 0; i < ps->npairs && !mine; i++)
			mine = pol_rule_has_pair(r, i) &&
			    tool_param_find(ps->pairs[i].op, r->same[k]) != NULL;
		if (tool_param_find(ev->op, r->same[k]) == NULL || !mine) {
			pol_pos_errf(e, &r->ev_pos, "evidence.same: '%s' is not a parameter of %s",
			    r->same[k], !mine ? "the rule's operations" : "the evidence operation");
			rc = ERR_UNKNOWN;
		}
	}
	return rc;
}

static bool
rule_empty(const struct pol_set *ps, const struct pol_rule *r)
{
	for (size_t i = 0; i < ps->npairs; i++)
		if (pol_rule_has_pair(r, i))
			return false;
	return true;
}

int
pol_rule_bind(struct pol_set *ps, struct pol_rule *r, struct ydoc_errs *e)
{
	bool dry = false, had;
	int rc, r2;

	if ((r->pairs = calloc(ps->npairs / 8 + 1, 1)) == NULL)
		return -ENOMEM;
	if ((rc = bind_ops(ps, r, e)) < 0)
		return rc;
	had = !rule_empty(ps, r);	/* when empty here, bind_ops said why */
	if ((r2 = bind_where(ps, r, e)) < 0)
		rc = r2;
	if (r->has_evidence && (r2 = bind_evidence(ps, r, e)) < 0)
		rc = r2;
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ps->npairs; i++)
		dry |= pol_rule_has_pair(r, i) && (ps->pairs[i].op->flags & TOOL_F_DRY_RUN);
	if (had && rule_empty(ps, r))
		pol_pos_warnf(e, &r->pos, "rule '%s' can never match: no operation of the rule "
		    "takes all of its where-arguments", r->id);
	else if (r->dry_run_only && !dry)
		pol_pos_warnf(e, &r->dry_pos, "rule '%s': dry_run_only, but none of its "
		    "operations supports dry runs, so it allows nothing", r->id);
	return 0;
}
