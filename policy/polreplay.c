/* corralctl policy replay: re-decide every recorded call of an audit log under a new policy
 * and list those whose decision would change.
 *
 * The reader is tolerant: it takes records with "type": "decision" and the fields seq, time,
 * tenant, principal, tool, op, args, dry_run, decision (a string, or an object with "effect"),
 * rules or rule_ids, approval_ids; it skips other records and counts malformed lines. Records
 * that carry a "result" or "evidence" object for a tool and op are remembered as evidence for
 * the calls after them. A recorded approval (non-empty approval_ids, or "approval": "granted")
 * counts as granted. Rate counters start empty and count the calls the new policy admits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "policy/pol_int.h"
#include "policy/polcli_int.h"

#define SEQ_ARGS_MAX	4096u		/* recent decisions whose args outcomes may refer to */

struct seq_args {
	int64_t seq;
	json_t *args;
};

struct replay {
	const struct pol_set *ps;
	struct seq_args recent[SEQ_ARGS_MAX];	/* a ring */
	size_t nrecent;
	struct pol_rates *rates;
	struct cli_evidence ev;
	bool json;
	FILE *out;
	size_t lines, decisions, other, malformed, changed;
};

static const char *
old_decision(const json_t *rec)
{
	const json_t *d = json_object_get(rec, "decision");

	if (json_is_object(d))
		d = json_object_get(d, "effect");
	return json_string_value(d);
}

static const json_t *
old_rules(const json_t *rec)
{
	const json_t *r = json_object_get(rec, "rules");

	return json_is_array(r) ? r : json_object_get(rec, "rule_ids");
}

static enum pol_approval_state
old_approval(const json_t *rec)
{
	const json_t *ids = json_object_get(rec, "approval_ids");
	const char *a = json_string_value(json_object_get(rec, "approval"));

	if ((json_is_array(ids) && json_array_size(ids) > 0) || (a && strcmp(a, "granted") == 0))
		return POL_APPROVAL_GRANTED;
	return POL_APPROVAL_NONE;
}

/* What the supervisor would record: an allow that must run as a dry run is "dry_run". */
static const char *
new_label(const struct pol_decision *d)
{
	return d->effect == POL_ALLOW && d->dry_run_only ? "dry_run" : pol_effect_name(d->effect);
}

static void
print_change(struct replay *rp, const json_t *rec, const struct pol_request *rq,
    const struct pol_decision *d, const char *was)
{
	const json_t *seq = json_object_get(rec, "seq"), *rules = old_rules(rec), *v;
	const char *time = json_string_value(json_object_get(rec, "time"));
	json_t *o, *dj;
	size_t i;

	if (rp->json) {
		dj = pol_decision_json(d);
		o = json_pack("{s:O?, s:s?, s:s?, s:s, s:s, s:s, s:{s:s, s:O?}, s:o?}", "seq", seq,
		    "time", time, "tenant", rq->tenant, "principal", rq->principal, "tool", rq->tool,
		    "op", rq->op, "old", "decision", was, "rules", rules, "new", dj);
		if (o != NULL) {
			json_dumpf(o, rp->out, JSON_COMPACT | JSON_SORT_KEYS);
			fputc('\n', rp->out);
		}
		json_decref(o);
		return;
	}
	fprintf(rp->out, "seq %lld %s %s %s %s.%s: %s", (long long)json_integer_value(seq),
	    time ? time : "-", rq->tenant ? rq->tenant : "-", rq->principal, rq->tool, rq->op, was);
	json_array_foreach(rules, i, v)
		fprintf(rp->out, "%s%s", i ? "," : " [", json_string_value(v));
	fprintf(rp->out, "%s -> %s", json_array_size(rules) ? "]" : "", new_label(d));
	for (i = 0; i < d->nrules; i++)
		fprintf(rp->out, "%s%s", i ? "," : " [", d->rules[i]);
	fprintf(rp->out, "%s: %s\n", d->nrules ? "]" : "", d->reason);
}

/* Outcome records name their call's decision record instead of repeating the args. */
static void
remember_args(struct replay *rp, const json_t *rec)
{
	const json_t *seq = json_object_get(rec, "seq"), *args = json_object_get(rec, "args");
	struct seq_args *sa;

	if (!json_is_integer(seq) || !json_is_object(args))
		return;
	sa = &rp->recent[rp->nrecent++ % SEQ_ARGS_MAX];
	json_decref(sa->args);
	sa->seq = json_integer_value(seq);
	sa->args = json_incref((json_t *)args);
}

static const json_t *
recent_args(const struct replay *rp, const json_t *seq)
{
	size_t n = rp->nrecent < SEQ_ARGS_MAX ? rp->nrecent : SEQ_ARGS_MAX;

	for (size_t i = 1; json_is_integer(seq) && i <= n; i++) {
		const struct seq_args *sa = &rp->recent[(rp->nrecent - i) % SEQ_ARGS_MAX];

		if (sa->seq == json_integer_value(seq))
			return sa->args;
	}
	return NULL;
}

static void
remember_evidence(struct replay *rp, const json_t *rec)
{
	const char *tool = json_string_value(json_object_get(rec, "tool"));
	const char *op = json_string_value(json_object_get(rec, "op"));
	const json_t *res = json_object_get(rec, "result"), *args = json_object_get(rec, "args");
	int64_t at;

	if (!json_is_object(res))
		res = json_object_get(rec, "evidence");
	if (args == NULL)
		args = recent_args(rp, json_object_get(rec, "decision_seq"));
	if (tool && op && json_is_object(res) && cli_json_time(json_object_get(rec, "time"),
	    &at) == 0)
		cli_ev_add(&rp->ev, json_string_value(json_object_get(rec, "tenant")), tool, op,
		    args, res, at);
}

static void
replay_decision(struct replay *rp, const json_t *rec)
{
	struct pol_state st = { .rates = rp->rates, .evidence = cli_ev_lookup,
		.evidence_arg = &rp->ev, .approval = old_approval(rec) };
	struct pol_request rq;
	struct pol_decision d;
	const char *was = old_decision(rec);
	enum pol_effect e;
	json_t *args = NULL;
	char why[256];

	if (was == NULL || (pol_effect_parse(was, &e) < 0 && strcmp(was, "dry_run") != 0) ||
	    cli_request(rp->ps, rec, false, &rq, &args, why, sizeof(why)) < 0 ||
	    json_object_get(rec, "time") == NULL || pol_decide(rp->ps, &rq, &st, &d) < 0) {
		rp->malformed++;
		json_decref(args);
		return;
	}
	rp->decisions++;
	if (d.effect == POL_ALLOW)
		pol_rate_commit(rp->rates, rp->ps, &rq, &d);
	if (strcmp(was, new_label(&d)) != 0) {
		rp->changed++;
		print_change(rp, rec, &rq, &d, was);
	}
	json_decref(args);
}

static void
replay_line(struct replay *rp, const char *line, size_t len)
{
	json_t *rec;
	const char *type;

	rp->lines++;
	if (len == 0)
		return;
	if ((rec = json_loadb(line, len, 0, NULL)) == NULL || !json_is_object(rec)) {
		rp->malformed++;
		json_decref(rec);
		return;
	}
	type = json_string_value(json_object_get(rec, "type"));
	if (type != NULL && strcmp(type, "decision") == 0) {
		remember_args(rp, rec);
		replay_decision(rp, rec);
	} else {
		rp->other++;
		remember_evidence(rp, rec);
	}
	json_decref(rec);
}

static int
replay_file(struct replay *rp, const char *path, FILE *err)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		fprintf(err, "%s: %s\n", path, strerror(errno));
		return 2;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if ((size_t)n > LIM_AUDIT_RECORD_MAX) {
			rp->lines++, rp->malformed++;
			continue;
		}
		replay_line(rp, line, (size_t)n);
	}
	free(line);
	fclose(f);
	return 0;
}

static void
print_summary(const struct replay *rp)
{
	if (rp->json) {
		json_t *s = json_pack("{s:{s:I, s:I, s:I, s:I, s:s}}", "summary", "decisions",
		    (json_int_t)rp->decisions, "changed", (json_int_t)rp->changed, "other",
		    (json_int_t)rp->other, "malformed", (json_int_t)rp->malformed, "policy_hash",
		    pol_set_hash(rp->ps));

		json_dumpf(s, rp->out, JSON_COMPACT | JSON_SORT_KEYS);
		fputc('\n', rp->out);
		json_decref(s);
		return;
	}
	fprintf(rp->out, "%zu decision%s replayed, %zu would change (%zu other record%s, %zu "
	    "malformed line%s skipped); policy hash %s\n", rp->decisions,
	    rp->decisions == 1 ? "" : "s", rp->changed, rp->other, rp->other == 1 ? "" : "s",
	    rp->malformed, rp->malformed == 1 ? "" : "s", pol_set_hash(rp->ps));
}

int
cli_replay(const struct pol_load_opts *opts, int argc, char *const argv[], FILE *out,
    FILE *err)
{
	struct cli_args a;
	struct replay *rp = NULL;
	struct pol_set *ps = NULL;
	int rc;

	if ((rc = cli_parse("replay", argc, argv, &a, err)) != 0)
		return rc;
	if (a.audit == NULL) {
		fprintf(err, "policy replay: --audit is required\n");
		return 2;
	}
	if ((rc = cli_load(opts, &a, &ps, err)) != 0)
		return rc;
	rc = 2;
	if ((rp = calloc(1, sizeof(*rp))) == NULL)
		goto out;
	rp->out = out, rp->ps = ps, rp->json = a.json;
	if (pol_rates_new(&rp->rates) < 0 || replay_file(rp, a.audit, err) != 0)
		goto out;
	print_summary(rp);
	rc = rp->changed ? 1 : 0;
out:
	if (rp != NULL) {
		for (size_t i = 0; i < SEQ_ARGS_MAX; i++)
			json_decref(rp->recent[i].args);
		cli_ev_free(&rp->ev);
		pol_rates_free(rp->rates);
		free(rp);
	}
	pol_set_free(ps);
	return rc;
}
