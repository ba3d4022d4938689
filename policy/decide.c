/* The evaluator: pure, no I/O, no allocation, no writes outside *out. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipc/err.h"
#include "policy/pol_int.h"

enum verdict { V_DENY, V_ALLOW, V_PENDING };

struct dctx {
	const struct pol_set *ps;
	const struct pol_request *rq;
	const struct pol_state *st;
	const struct tool_op *op;
	int tenant;
	size_t plen;
	uint32_t tz_done;		/* bit i: tz_off[i] computed */
	int32_t tz_off[LIM_POL_TZ_MAX];
};

/* ---------------------------------------------------------------- matching */

static bool
cond_scalar(const struct pol_cond *c, const json_t *v)
{
	switch (c->kind) {
	case PC_GLOB:
		return json_is_string(v) &&
		    pol_glob_match(&c->glob, json_string_value(v), json_string_length(v));
	case PC_REGEX:
		return json_is_string(v) && regexec(&c->re, json_string_value(v), 0, NULL, 0) == 0;
	case PC_IN:
		for (size_t i = 0; i < c->nin; i++)
			if (json_is_string(v) ? strcmp(c->in[i].str, json_string_value(v)) == 0 :
			    json_is_number(v) && c->in[i].is_num &&
			    c->in[i].num == json_number_value(v))
				return true;
		return false;
	case PC_RANGE:
		return json_is_number(v) && (!c->has_min || json_number_value(v) >= c->min) &&
		    (!c->has_max || json_number_value(v) <= c->max);
	case PC_BOOL:
		return json_is_boolean(v) && json_is_true(v) == c->bval;
	case PC_NUM:
		return json_is_number(v) && json_number_value(v) == c->num;
	}
	return false;
}

/* On an array argument a deny condition holds when any element matches (so a forbidden
 * value cannot hide among allowed ones) and an allow condition when every element does. */
bool
pol_cond_eval(const struct pol_cond *c, const json_t *v, bool deny)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return cond_scalar(c, v);
	if (json_array_size(v) == 0)
		return false;
	json_array_foreach(v, i, e) {
		if (cond_scalar(c, e) == deny)
			return deny;
	}
	return !deny;
}

/* The cheap rejection of a candidate, from the candidate entry alone. */
static bool
cand_may_match(const struct dctx *dc, const struct pol_cand *c)
{
	const char *p = dc->rq->principal;
	size_t n = dc->plen;

	if (c->tenant >= 0 && c->tenant != dc->tenant)
		return false;
	switch (c->pkind) {
	case PG_EXACT:
		return n == c->plen && memcmp(p, c->plit, n) == 0;
	case PG_PREFIX:
		return n >= c->plen && memcmp(p, c->plit, c->plen) == 0;
	case PG_SUFFIX:
		return n >= c->plen && memcmp(p + n - c->plen, c->plit, c->plen) == 0;
	default:
		return true;
	}
}

static bool
rule_matches(const struct dctx *dc, const struct pol_rule *r)
{
	bool who = false;

	if (r->tenant >= 0 && r->tenant != dc->tenant)
		return false;
	for (size_t i = 0; i < r->nprincipals && !who; i++)
		who = pol_glob_match(&r->principals[i], dc->rq->principal, dc->plen);
	if (!who)
		return false;
	for (size_t i = 0; i < r->nwhere; i++) {
		const json_t *v = dc->rq->args ? json_object_get(dc->rq->args, r->where[i].arg) : NULL;

		if (v == NULL || !pol_cond_eval(&r->where[i], v, r->deny))
			return false;
	}
	return true;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static bool
in_window(struct dctx *dc, const struct pol_rule *r)
{
	const struct pol_when *w = &r->when;
	int64_t now_s = floor_div(dc->rq->now_ms, 1000), local, day, sod;
	int wd;

	if (!(dc->tz_done & (1u << w->tz))) {
		dc->tz_off[w->tz] = pol_tz_offset(dc->ps->tzs[w->tz], now_s);
		dc->tz_done |= 1u << w->tz;
	}
	local = now_s + dc->tz_off[w->tz];
	day = floor_div(local, 86400);
	sod = local - day * 86400;
	wd = (int)((day % 7 + 7 + 4) % 7);	/* 1970-01-01 was a Thursday */
	if (w->start_s < w->end_s)
		return (w->days >> wd & 1) && sod >= w->start_s && sod < w->end_s;
	/* Wrapping window: the part after midnight belongs to the day the window opened. */
	if (sod >= w->start_s)
		return w->days >> wd & 1;
	return sod < w->end_s && (w->days >> ((wd + 6) % 7) & 1);
}

/* ---------------------------------------------------------------- allow conditions */

static int
evidence_check(const struct dctx *dc, const struct pol_rule *r, int64_t *at)
{
	struct pol_evidence_query q = {
		.tenant = dc->rq->tenant, .principal = dc->rq->principal,
		.tool = r->evidence.tool, .op = r->evidence.op, .match = r->evidence.match,
		.nsame = r->evidence.nsame, .same = r->evidence.same,
		.since_ms = dc->rq->now_ms - r->evidence.within_ms, .now_ms = dc->rq->now_ms,
	};
	int rc;

	for (size_t i = 0; i < q.nsame; i++)
		if (!dc->rq->args || !(q.same_vals[i] = json_object_get(dc->rq->args, q.same[i])))
			return 0;
	if (dc->st == NULL || dc->st->evidence == NULL)
		return 0;
	if ((rc = dc->st->evidence(dc->st->evidence_arg, &q, at)) < 0)
		return rc;
	return rc > 0 && *at >= q.since_ms && *at <= q.now_ms;
}

static void
approvers_text(const struct pol_rule *r, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < r->approval.napprovers; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? ", " : "",
		    r->approval.approvers[i]);
}

/* Conditions of a matching allow rule, in the order a human would check them. why is written
 * only when non-NULL (the first failing rule gives the decision's reason). */
static enum verdict
allow_check(struct dctx *dc, const struct pol_rule *r, char *why, size_t whylen, int64_t *ev_at)
{
	const struct pol_request *rq = dc->rq;
	int rc;

	if (r->has_when && !in_window(dc, r)) {
		if (why)
			snprintf(why, whylen, "rule '%s': outside its time window (%s)", r->id,
			    r->when.text);
		return V_DENY;
	}
	if (r->rate_n && dc->st && pol_rates_exceeded(dc->st->rates, rq->tenant, rq->principal,
	    r->id, r->rate_n, r->rate_ms, rq->now_ms)) {
		if (why)
			snprintf(why, whylen, "rule '%s': rate %s exceeded for %s", r->id,
			    r->rate_text, rq->principal);
		return V_DENY;
	}
	/* An op without dry-run support would run for real whatever the request says. */
	if (r->dry_run_only && !(dc->op->flags & TOOL_F_DRY_RUN)) {
		if (why)
			snprintf(why, whylen, "rule '%s': allows dry runs only and %s.%s has none",
			    r->id, rq->tool, rq->op);
		return V_DENY;
	}
	if (r->has_evidence && (rc = evidence_check(dc, r, ev_at)) <= 0) {
		if (why)
			snprintf(why, whylen, "rule '%s': %s: %s", r->id, rc < 0 ?
			    "evidence lookup failed" : "no evidence", r->ev_text);
		return V_DENY;
	}
	if (r->has_approval && dc->st && dc->st->approval == POL_APPROVAL_REJECTED) {
		if (why)
			snprintf(why, whylen, "rule '%s': approval refused or expired", r->id);
		return V_DENY;
	}
	if (r->has_approval && (!dc->st || dc->st->approval != POL_APPROVAL_GRANTED))
		return V_PENDING;
	return V_ALLOW;
}

/* ---------------------------------------------------------------- deciding */

static void
decision_rule(struct pol_decision *out, const struct pol_rule *r)
{
	if (out->nrules < LIM_POL_DECISION_RULES)
		out->rules[out->nrules] = r->id;
	out->nrules++;
}

static void
set_obligations(struct pol_decision *out, const struct pol_set *ps, uint32_t k, int64_t ev_at,
    const struct pol_request *rq)
{
	const struct pol_rule *r = &ps->rules[k];

	out->rule_index = (int32_t)k;
	out->approval = r->has_approval ? &r->approval : NULL;
	out->evidence = r->has_evidence ? &r->evidence : NULL;
	out->evidence_at_ms = r->has_evidence ? ev_at : 0;
	out->dry_run_only = r->dry_run_only && !rq->dry_run;
}

static void
decide_allow(struct pol_decision *out, const struct pol_set *ps, uint32_t k, int64_t ev_at,
    const struct pol_request *rq)
{
	const struct pol_rule *r = &ps->rules[k];

	out->effect = POL_ALLOW;
	out->nrules = 0;
	decision_rule(out, r);
	set_obligations(out, ps, k, ev_at, rq);
	snprintf(out->reason, sizeof(out->reason), "allowed by rule '%s'%s", r->id,
	    out->dry_run_only ? " as a dry run only" : "");
}

/* Preference among matching allows: one that allows the call as it is, then one waiting for an
 * approval of the call as it is, then one that allows it only as a dry run; each the first in
 * file order. Otherwise the failed allows decide the deny, the first giving the reason. */
static void
decide_allows(struct dctx *dc, const struct pol_pair *pair, struct pol_decision *out)
{
	const struct pol_set *ps = dc->ps;
	int64_t ev_at = 0, pending_at = 0, dry_at = 0;
	int64_t pending = -1, dry = -1;
	char aps[256];

	for (size_t i = 0; i < pair->nallow; i++) {
		const struct pol_rule *r;
		enum verdict v;

		if (!cand_may_match(dc, &pair->allow[i]))
			continue;
		r = &ps->rules[pair->allow[i].rule];
		if (!rule_matches(dc, r))
			continue;
		v = allow_check(dc, r, out->nrules == 0 ? out->reason : NULL, sizeof(out->reason),
		    &ev_at);
		if (v == V_ALLOW && r->dry_run_only && !dc->rq->dry_run) {
			if (dry < 0)
				dry = pair->allow[i].rule, dry_at = ev_at;
		} else if (v == V_ALLOW) {
			decide_allow(out, ps, pair->allow[i].rule, ev_at, dc->rq);
			return;
		} else if (v == V_PENDING && pending < 0) {
			pending = pair->allow[i].rule, pending_at = ev_at;
		} else if (v == V_DENY) {
			decision_rule(out, r);
		}
	}
	if (pending < 0 && dry >= 0) {
		decide_allow(out, ps, (uint32_t)dry, dry_at, dc->rq);
	} else if (pending >= 0) {
		const struct pol_rule *r = &ps->rules[pending];

		out->effect = POL_PENDING;
		out->nrules = 0;
		decision_rule(out, r);
		set_obligations(out, ps, (uint32_t)pending, pending_at, dc->rq);
		approvers_text(r, aps, sizeof(aps));
		snprintf(out->reason, sizeof(out->reason), "rule '%s': waiting for approval "
		    "(%u of %s)", r->id, r->approval.quorum, aps);
	} else if (out->nrules == 0) {
		snprintf(out->reason, sizeof(out->reason), "no rule allows %s.%s for %s "
		    "(default deny)", dc->rq->tool, dc->rq->op, dc->rq->principal);
	}
}

int
pol_decide(const struct pol_set *ps, const struct pol_request *rq, const struct pol_state *st,
    struct pol_decision *out)
{
	const struct pol_pair *pair;
	struct dctx dc;

	if (ps == NULL || rq == NULL || out == NULL || rq->principal == NULL ||
	    rq->tool == NULL || rq->op == NULL)
		return -EINVAL;
	out->effect = POL_DENY;
	out->nrules = 0;
	out->reason[0] = '\0';
	out->approval = NULL;
	out->evidence = NULL;
	out->evidence_at_ms = 0;
	out->dry_run_only = false;
	out->rule_index = -1;
	if ((pair = pol_pair_find(ps, rq->tool, rq->op)) == NULL) {
		snprintf(out->reason, sizeof(out->reason), "unknown operation %s.%s (default deny)",
		    rq->tool, rq->op);
		return 0;
	}
	dc.ps = ps, dc.rq = rq, dc.st = st, dc.tz_done = 0;
	dc.op = rq->opdef ? rq->opdef : pair->op;
	dc.tenant = pol_tenant_find(ps, rq->tenant);
	dc.plen = strlen(rq->principal);
	for (size_t i = 0; i < pair->ndeny; i++) {
		const struct pol_rule *r;

		if (!cand_may_match(&dc, &pair->deny[i]))
			continue;
		r = &ps->rules[pair->deny[i].rule];
		if (rule_matches(&dc, r) && (!r->has_when || in_window(&dc, r)))
			decision_rule(out, r);
	}
	if (out->nrules > 0) {
		snprintf(out->reason, sizeof(out->reason), "denied by rule '%s'", out->rules[0]);
		return 0;
	}
	decide_allows(&dc, pair, out);
	if (out->nrules > LIM_POL_DECISION_RULES)
		out->nrules = LIM_POL_DECISION_RULES;
	return 0;
}

/* ---------------------------------------------------------------- output */

static const char *const effect_names[] = { "deny", "allow", "pending" };

const char *
pol_effect_name(enum pol_effect e)
{
	return (unsigned)e <= POL_PENDING ? effect_names[e] : "?";
}

int
pol_effect_parse(const char *s, enum pol_effect *out)
{
	for (unsigned i = 0; s && i <= POL_PENDING; i++)
		if (strcmp(s, effect_names[i]) == 0)
			return (*out = (enum pol_effect)i), 0;
	return -EINVAL;
}

json_t *
pol_decision_json(const struct pol_decision *d)
{
	json_t *rules = json_array(), *ob = json_object(), *ap;
	char at[32], op[2 * LIM_NAME_MAX + 2];

	if (rules == NULL || ob == NULL)
		goto fail;
	for (size_t i = 0; i < d->nrules && i < LIM_POL_DECISION_RULES; i++)
		json_array_append_new(rules, json_string(d->rules[i]));
	if (d->approval) {
		if ((ap = json_array()) == NULL)
			goto fail;
		for (size_t i = 0; i < d->approval->napprovers; i++)
			json_array_append_new(ap, json_string(d->approval->approvers[i]));
		json_object_set_new(ob, "approval", json_pack("{s:o, s:i, s:I}", "approvers", ap,
		    "quorum", (int)d->approval->quorum, "timeout_ms",
		    (json_int_t)d->approval->timeout_ms));
	}
	if (d->evidence) {
		pol_time_format(d->evidence_at_ms, at);
		snprintf(op, sizeof(op), "%s.%s", d->evidence->tool, d->evidence->op);
		json_object_set_new(ob, "evidence", json_pack("{s:s, s:s, s:s?}", "requires",
		    d->evidence->text, "op", op, "found_at",
		    d->effect == POL_DENY ? NULL : at));
	}
	if (d->dry_run_only)
		json_object_set_new(ob, "dry_run_only", json_true());
	return json_pack("{s:s, s:o, s:o, s:s}", "effect", pol_effect_name(d->effect),
	    "rules", rules, "obligations", ob, "reason", d->reason);
fail:
	json_decref(rules);
	json_decref(ob);
	return NULL;
}
