/* Deciding a validated call, and the supervisor modules around it: policy (policy/),
 * credentials and the audit log (supervisor/cred, supervisor/audit), evidence from results. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/log.h"
#include "policy/policy.h"
#include "supervisor/approval.h"
#include "supervisor/audit.h"
#include "supervisor/cred.h"
#include "supervisor/evidence.h"
#include "supervisor/ops.h"
#include "supervisor/router_int.h"
#include "supervisor/sup.h"

/* ---------------------------------------------------------------- evidence */

/* Canary verdicts that can justify a gated call: a cache of the audit log's "evidence" records
 * (supervisor/evidence.h), rebuilt from the log whenever the modules open (start, reload). */
static struct ev_store *evidence;

static int
evidence_lookup(void *arg, const struct pol_evidence_query *q, int64_t *found_at)
{
	const struct ev_rec *e = ev_store_find(evidence, q);

	if (e == NULL)
		return 0;
	*found_at = e->at_ms;
	return 1;
}

/* The entry that justified an allow: the decision's own query again (the newest match). */
static const struct ev_rec *
evidence_used(const struct pol_request *rq, const struct pol_decision *d)
{
	const struct pol_evidence *pe = d->evidence;
	struct pol_evidence_query q = { .tenant = rq->tenant, .principal = rq->principal,
		.tool = pe->tool, .op = pe->op, .match = pe->match, .nsame = pe->nsame,
		.same = pe->same, .since_ms = rq->now_ms - pe->within_ms, .now_ms = rq->now_ms };

	for (size_t i = 0; i < q.nsame && i < LIM_POL_SAME_MAX; i++)
		q.same_vals[i] = json_object_get(rq->args, q.same[i]);
	return ev_store_find(evidence, &q);
}

static void
evidence_warn(void *arg, const char *file, size_t line, const char *why)
{
	char where[32];

	snprintf(where, sizeof(where), "%zu", line);
	log_kv(LOG_WARNING, "audit log: evidence not loaded", "file", file, "line", where,
	    "problem", why, NULL);
}

/* Rebuild the evidence cache from the audit log (needs the audit key: the MAC of every record
 * loaded is checked). A problem is logged, never fatal: missing evidence only refuses calls. */
static int
evidence_open(struct sup *s, const uint8_t key[AUDIT_KEY_LEN])
{
	struct ev_load_stats ls = { 0 };
	char n[4][24];
	int r;

	ev_store_free(evidence);
	evidence = NULL;
	if ((r = ev_store_new(pol_set_evidence_max_age(s->policy), &evidence)) < 0)
		return r;
	if ((r = ev_store_load(evidence, s->cfg->audit_path, key, sup_wall_ms(), evidence_warn,
	    NULL, &ls)) < 0)
		log_kv(LOG_WARNING, "audit log: reading evidence failed", "error", err_str(r), NULL);
	snprintf(n[0], sizeof(n[0]), "%zu", ls.loaded);
	snprintf(n[1], sizeof(n[1]), "%zu", ls.expired);
	snprintf(n[2], sizeof(n[2]), "%zu", ls.bad);
	snprintf(n[3], sizeof(n[3]), "%zu", ls.files);
	log_kv(ls.bad ? LOG_WARNING : LOG_INFO, "evidence loaded from the audit log", "loaded",
	    n[0], "expired", n[1], "ignored", n[2], "files", n[3], "capped",
	    ls.capped ? "true" : "false", NULL);
	return r == -ENOMEM ? r : 0;
}

/* A verdict becomes evidence once its "evidence" record is in the audit log and on disk; the
 * caller gets the result only after that (finish() replies after this returns). A verdict the
 * log could not take justifies nothing: the outcome record says so. */
static void
evidence_record(struct sup *s, const struct call *c, json_t *res, json_t *rec)
{
	json_t *ev = ev_record_new(c->o.tenant, c->o.principal, c->family, c->op, c->id,
	    c->decision_seq, c->args, res, sup_wall_ms()), *sum;
	uint64_t seq = 0;
	char err[160];
	int r = ev ? 0 : -ENOMEM;

	if (r == 0 && (r = sup_audit(s, ev)) == 0 && s->audit != NULL)
		r = audit_flush(s->audit);
	if (r == 0)
		seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
	if (r == 0 && evidence != NULL &&
	    (r = ev_store_add(evidence, ev, seq, sup_wall_ms(), err, sizeof(err))) < 0)
		log_kv(LOG_ERR, "evidence not kept", "error", err, NULL);
	sum = json_pack("{s:O?, s:O?, s:O?, s:I}", "app_name", json_object_get(c->args,
	    "app_name"), "verdict", json_object_get(res, "verdict"), "score",
	    json_object_get(res, "score"), "decision_seq", (json_int_t)c->decision_seq);
	if (r == 0)
		json_object_set_new(sum, "seq", json_integer((json_int_t)seq));
	else
		json_object_set_new(sum, "error", json_string(err_str(r)));
	json_object_set_new(rec, "evidence", sum);
	json_decref(ev);
}

/* A rollback's outcome record says what changed: from and to which history id, and the steps
 * done (disable_auto_sync, then rollback, when auto-sync was on). */
static void
observe_rollback(const char *result, json_t *rec)
{
	json_t *res = json_loads(result, 0, NULL), *steps = json_array(), *st;
	size_t i;

	if (res == NULL || steps == NULL) {
		json_decref(res);
		json_decref(steps);
		return;
	}
	json_array_foreach(json_object_get(res, "steps"), i, st)
		if (json_is_true(json_object_get(st, "done")))
			json_array_append(steps, json_object_get(st, "step"));
	json_object_set_new(rec, "rollback", json_pack("{s:O?, s:O?, s:O?, s:o}", "from_id",
	    json_object_get(json_object_get(res, "from"), "id"), "to_id",
	    json_object_get(json_object_get(res, "target"), "id"), "dry_run",
	    json_object_get(res, "dry_run"), "steps_done", steps));
	json_decref(res);
}

/* Results that count as evidence are recorded: a canary verdict is the one we know
 * (evidence_record). The outcome record names the verdict, the app, the call's decision seq
 * and the seq of the evidence record. */
void
sup_observe_result(struct sup *s, const struct call *c, const char *result, json_t *rec)
{
	json_t *res;

	if (strcmp(c->family, "model") == 0) {
		if ((res = json_loads(result, 0, NULL)) != NULL)
			sup_model_usage(s, c, res, rec);
		json_decref(res);
		return;
	}
	if (strcmp(c->family, "argocd") == 0 && strcmp(c->op, "rollback_application") == 0) {
		observe_rollback(result, rec);
		return;
	}
	if (strcmp(c->family, "prometheus") != 0 || strcmp(c->op, "canary_analyze") != 0)
		return;
	if ((res = json_loads(result, 0, NULL)) != NULL && json_is_object(res) &&
	    json_is_string(json_object_get(res, "verdict")))
		evidence_record(s, c, res, rec);
	json_decref(res);
}

/* ---------------------------------------------------------------- deciding */

/* A denied or expired approval keeps answering its call for this long; after that the same
 * call may ask again. */
#define APPROVAL_REJECT_MEMORY_MS	(10 * 60 * 1000)

static void
audit_approval(struct sup *s, const struct approval *ap, const char *event, const char *by)
{
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "approval",
	    "event", event, "approval", ap->id, "tenant", ap->tenant, "principal", ap->principal,
	    "tool", ap->tool, "op", ap->op, "state",
	    approval_state_name(approval_state(ap, sup_wall_ms())));

	if (by)
		json_object_set_new(rec, "by", json_string(by));
	sup_audit(s, rec);
	json_decref(rec);
}

/* What the approval store says about this exact call (tenant, principal, tool, op, canonical
 * args, dry run, policy hash). */
static enum pol_approval_state
approval_for(struct sup *s, const struct pol_request *rq, const char *phash,
    const struct approval **found, char hash[AUDIT_HEX_LEN + 1])
{
	struct approval_req ar = { .tenant = rq->tenant, .principal = rq->principal,
		.tool = rq->tool, .op = rq->op, .args = rq->args, .dry_run = rq->dry_run,
		.policy_hash = phash };
	const struct approval *ap;
	int64_t now = rq->now_ms;

	*found = NULL;
	/* Most calls: no approval of this tenant at all, so no need to hash the call. */
	if (s->approvals == NULL ||
	    approval_list(s->approvals, rq->tenant, false, now, NULL, 0) == 0 ||
	    approval_call_hash(&ar, hash) < 0 ||
	    (ap = approval_find(s->approvals, hash)) == NULL)
		return POL_APPROVAL_NONE;
	*found = ap;
	switch (approval_state(ap, now)) {
	case APPROVAL_APPROVED:
		return POL_APPROVAL_GRANTED;
	case APPROVAL_PENDING:
		return POL_APPROVAL_NONE;
	case APPROVAL_DENIED:
	case APPROVAL_EXPIRED:
		if (now - (ap->decided_ms ? ap->decided_ms : ap->expires_ms) <
		    APPROVAL_REJECT_MEMORY_MS)
			return POL_APPROVAL_REJECTED;
		/* FALLTHROUGH */
	default:
		*found = NULL;
		return POL_APPROVAL_NONE;
	}
}

/* PENDING: find or create the approval this call waits for; its id goes to the caller. */
static void
approval_ask(struct sup *s, const struct pol_request *rq, const struct pol_decision *d,
    const char *phash, const struct approval *existing, json_t *rec, char *reason, size_t rlen)
{
	struct approval_req ar = { .tenant = rq->tenant, .principal = rq->principal,
		.tool = rq->tool, .op = rq->op, .args = rq->args, .dry_run = rq->dry_run,
		.policy_hash = phash, .reason = d->reason };
	const struct approval *ap = existing;
	int r;

	if (ap == NULL && d->approval != NULL && s->approvals != NULL) {
		ar.approvers = d->approval->approvers;
		ar.napprovers = d->approval->napprovers;
		ar.quorum = d->approval->quorum;
		ar.expires_ms = rq->now_ms + d->approval->timeout_ms;
		r = approval_create(s->approvals, &ar, rq->now_ms, &ap);
		if (r == 0)
			audit_approval(s, ap, "requested", NULL);
		else if (r != -EEXIST)
			ap = NULL;
	}
	if (ap == NULL) {
		snprintf(reason, rlen, "needs an approval, but it could not be recorded");
		return;
	}
	json_object_set_new(rec, "approval", json_pack("{s:s, s:s%, s:I}", "id", ap->id,
	    "short", ap->id, (size_t)APPROVAL_ID_SHORT, "expires_ms", (json_int_t)ap->expires_ms));
	snprintf(reason, rlen, "waiting for approval %.*s (%u of %zu approvers needed; expires in "
	    "%llds): corralctl approve %.*s", APPROVAL_ID_SHORT, ap->id, ap->quorum,
	    ap->napprovers, (long long)((ap->expires_ms - rq->now_ms) / 1000), APPROVAL_ID_SHORT,
	    ap->id);
}

static enum dec
deny(json_t *rec, char *reason, size_t rlen, const char *text)
{
	snprintf(reason, rlen, "%s", text);
	json_object_set_new(rec, "decision", json_string("deny"));
	json_object_set_new(rec, "reason", json_string(reason));
	return DEC_DENY;
}

/* argocd.rollback_application with disable_auto_sync does a second write: the patch that turns
 * automated sync off. The caller must be allowed that patch too, as if it had asked for it
 * itself (without obligations it could not meet here: an allow that needs more is a no). */
static bool
implied_patch_allowed(struct sup *s, const struct pol_request *rq, json_t *rec, char *why,
    size_t wlen)
{
	const struct tool_family *f = tool_family_find("argocd");
	const struct tool_op *op = tool_op_find(f, "patch_application");
	struct pol_request prq = *rq;
	struct pol_state st = { .rates = s->rates, .evidence = evidence_lookup };
	struct pol_decision d;
	char err[256];
	json_t *args;
	bool ok;

	if (op == NULL)
		return false;
	args = json_pack("{s:O?, s:O?, s:{s:{s:{s:n}}}, s:s, s:O?}", "app_name",
	    json_object_get(rq->args, "app_name"), "app_namespace",
	    json_object_get(rq->args, "app_namespace"), "patch_data", "spec", "syncPolicy",
	    "automated", "patch_type", "merge", "dry_run", json_object_get(rq->args, "dry_run"));
	if (args == NULL || tool_args_validate(op, args, err, sizeof(err)) < 0) {
		snprintf(why, wlen, "disable_auto_sync needs argocd.patch_application: %s",
		    args ? err : "out of memory");
		json_decref(args);
		return false;
	}
	prq.op = op->name;
	prq.opdef = op;
	prq.args = args;
	ok = pol_decide(s->policy, &prq, &st, &d) == 0 && d.effect == POL_ALLOW &&
	    !(d.dry_run_only && !rq->dry_run);
	json_object_set_new(rec, "implied", json_pack("{s:s, s:s}", "op",
	    "argocd.patch_application", "decision", ok ? "allow" : "deny"));
	{
		json_t *dj = pol_decision_json(&d), *im = json_object_get(rec, "implied");

		if (dj) {
			json_object_set(im, "rules", json_object_get(dj, "rules"));
			json_decref(dj);
		}
	}
	if (ok)
		pol_rate_commit(s->rates, s->policy, &prq, &d);
	else
		snprintf(why, wlen, "disable_auto_sync needs argocd.patch_application, which policy "
		    "does not allow this caller: %s", d.reason[0] ? d.reason : "default deny");
	json_decref(args);
	return ok;
}

enum dec
sup_decide(struct sup *s, const struct origin *o, const struct tool_family *f,
    const struct tool_op *op, json_t *args, bool dry_run, json_t *rec, char *reason, size_t rlen)
{
	struct pol_request rq = { .tenant = o->tenant, .principal = o->principal, .tool = f->name,
		.op = op->name, .opdef = op, .args = args, .now_ms = sup_wall_ms(),
		.dry_run = dry_run };
	struct pol_state st = { .rates = s->rates, .evidence = evidence_lookup };
	const struct approval *ap = NULL;
	char hash[AUDIT_HEX_LEN + 1];
	const char *phash;
	struct pol_decision d;
	json_t *dj;
	int r;

	if (s->policy == NULL) {
		/* No policy files: only the host's administrators may call (corralctl). */
		if (o->admin) {
			json_object_set_new(rec, "decision", json_string("allow"));
			json_object_set_new(rec, "rules", json_pack("[s]", "builtin:admin"));
			return DEC_ALLOW;
		}
		return deny(rec, reason, rlen, "no policy is loaded: default deny");
	}
	phash = pol_set_hash(s->policy);
	json_object_set_new(rec, "policy_hash", json_string(phash));
	st.approval = approval_for(s, &rq, phash, &ap, hash);
	if ((r = pol_decide(s->policy, &rq, &st, &d)) < 0) {
		char t[128];

		snprintf(t, sizeof(t), "policy evaluation failed: %s", err_str(r));
		return deny(rec, reason, rlen, t);
	}
	json_object_set_new(rec, "decision", json_string(pol_effect_name(d.effect)));
	if ((dj = pol_decision_json(&d)) != NULL) {
		json_object_set(rec, "rules", json_object_get(dj, "rules"));
		if (json_object_get(dj, "obligations"))
			json_object_set(rec, "obligations", json_object_get(dj, "obligations"));
		json_decref(dj);
	}
	snprintf(reason, rlen, "%s", d.reason);
	if (d.reason[0])
		json_object_set_new(rec, "reason", json_string(d.reason));
	if (st.approval == POL_APPROVAL_REJECTED && ap != NULL && d.effect != POL_ALLOW) {
		char t[160];

		snprintf(t, sizeof(t), "approval %.*s was %s", APPROVAL_ID_SHORT, ap->id,
		    approval_state_name(approval_state(ap, rq.now_ms)));
		return deny(rec, reason, rlen, t);
	}
	if (d.effect == POL_ALLOW && d.dry_run_only && !dry_run)
		return deny(rec, reason, rlen, "policy allows this call only as a dry run "
		    "(call again with dry_run)");
	if (d.effect == POL_PENDING) {
		approval_ask(s, &rq, &d, phash, ap, rec, reason, rlen);
		return DEC_PENDING;
	}
	if (d.effect != POL_ALLOW)
		return DEC_DENY;
	if (d.evidence != NULL) {
		/* Name the verdict that justified this call: its audit seq leads to the analysis. */
		const struct ev_rec *e = evidence_used(&rq, &d);

		if (e != NULL)
			json_object_set_new(rec, "evidence", ev_used_json(e));
	}
	if (strcmp(f->name, "argocd") == 0 && strcmp(op->name, "rollback_application") == 0 &&
	    json_is_true(json_object_get(args, "disable_auto_sync"))) {
		char why[512];

		if (!implied_patch_allowed(s, &rq, rec, why, sizeof(why)))
			return deny(rec, reason, rlen, why);
	}
	if (st.approval == POL_APPROVAL_GRANTED && ap != NULL) {
		json_object_set_new(rec, "approval", json_pack("{s:s}", "id", ap->id));
		if (approval_consume(s->approvals, ap->id, rq.now_ms) == 0)
			audit_approval(s, ap, "consumed", NULL);
	}
	pol_rate_commit(s->rates, s->policy, &rq, &d);
	return DEC_ALLOW;
}

/* ---------------------------------------------------------------- modules */

const char *sup_cred_get(struct sup *s, const char *name, const char *tenant);

const char *
sup_cred_get(struct sup *s, const char *name, const char *tenant)
{
	return s->creds ? cred_get(s->creds, name, tenant, NULL) : NULL;
}

int
sup_audit(struct sup *s, json_t *rec)
{
	uint64_t seq = 0;
	int r;

	if (s->audit == NULL)
		return 0;
	if ((r = audit_append(s->audit, rec, &seq)) == 0)
		json_object_set_new(rec, "seq", json_integer((json_int_t)seq));
	sup_ops_record(s, rec, r);
	return r;
}

static int
load_key(const char *dir, uint8_t key[AUDIT_KEY_LEN])
{
	char path[4096];
	int fd, r = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/audit.key", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, key, AUDIT_KEY_LEN);
		close(fd);
		return n == AUDIT_KEY_LEN ? 0 : ERR_CONFIG;
	}
	if (errno != ENOENT)
		return -errno;
	if (getrandom(key, AUDIT_KEY_LEN, 0) != AUDIT_KEY_LEN)
		return -EIO;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return -errno;
	if (write(fd, key, AUDIT_KEY_LEN) != AUDIT_KEY_LEN || fsync(fd) < 0)
		r = -EIO;
	close(fd);
	return r;
}

/* Open what the config names: credentials, policy, audit. Errors are printed; returns < 0. */
int sup_modules_open(struct sup *s);
void sup_modules_close(struct sup *s);

int
sup_modules_open(struct sup *s)
{
	struct config *c = s->cfg;
	struct ydoc_errs errs = { 0 };
	struct audit_opts ao = { .path = c->audit_path };
	uint8_t key[AUDIT_KEY_LEN];
	char err[512];
	int r;

	if (mkdir(c->state_dir, 0700) < 0 && errno != EEXIST) {
		log_msg(LOG_ERR, "state dir %s: %s", c->state_dir, strerror(errno));
		return -errno;
	}
	if ((r = cred_store_new((struct cred_store **)&s->creds)) < 0)
		return r;
	for (size_t i = 0; i < c->ncreds; i++)
		if ((r = cred_add(s->creds, c->creds[i].name, c->creds[i].tenant,
		    c->creds[i].source, err, sizeof(err))) < 0) {
			log_msg(LOG_ERR, "%s:%d:%d: credential '%s': %s", c->path, c->creds[i].line,
			    c->creds[i].col, c->creds[i].name, err[0] ? err : err_str(r));
			return r;
		}
	if (c->npolicies > 0) {
		if ((r = pol_set_load((const char *const *)c->policies, c->npolicies, NULL,
		    (struct pol_set **)&s->policy, &errs)) < 0) {
			ydoc_errs_print(&errs, stderr);
			ydoc_errs_free(&errs);
			return r;
		}
		ydoc_errs_print(&errs, stderr);	/* warnings */
		ydoc_errs_free(&errs);
		if ((r = pol_rates_new((struct pol_rates **)&s->rates)) < 0)
			return r;
	}
	if ((r = load_key(c->state_dir, key)) < 0) {
		log_msg(LOG_ERR, "audit key in %s: %s", c->state_dir, err_str(r));
		return r;
	}
	ao.key = key;
	ao.fsync = c->audit_fsync == CFG_FSYNC_EVERY ? AUDIT_FSYNC_EVERY :
	    c->audit_fsync == CFG_FSYNC_NONE ? AUDIT_FSYNC_NONE : AUDIT_FSYNC_BATCH;
	ao.rotate_bytes = c->audit_rotate_size;
	ao.ckpt_records = c->audit_checkpoint_every;
	ao.sync_thread = true;		/* BATCH: the group commit's fdatasync off the loop (F8) */
	if ((r = audit_open(&ao, (struct audit **)&s->audit, err, sizeof(err))) < 0) {
		explicit_bzero(key, sizeof(key));
		log_msg(LOG_ERR, "audit %s: %s", c->audit_path, err[0] ? err : err_str(r));
		return r;
	}
	audit_set_redactor(s->audit, cred_redactor(s->creds));
	if ((r = evidence_open(s, key)) < 0) {
		explicit_bzero(key, sizeof(key));
		return r;
	}
	{
		char dir[4096];
		size_t nbad = 0;

		snprintf(dir, sizeof(dir), "%s/approvals", c->state_dir);
		r = approval_store_open(dir, key, (struct approval_store **)&s->approvals, &nbad, err,
		    sizeof(err));
		explicit_bzero(key, sizeof(key));
		if (r < 0) {
			log_msg(LOG_ERR, "approvals %s: %s", dir, err[0] ? err : err_str(r));
			return r;
		}
		if (nbad)
			log_msg(LOG_WARNING, "approvals: %zu file(s) did not verify and were not "
			    "loaded: %s", nbad, err);
	}
	return 0;
}

void
sup_modules_close(struct sup *s)
{
	approval_store_close(s->approvals);
	s->approvals = NULL;
	ev_store_free(evidence);
	evidence = NULL;
	audit_close(s->audit);
	s->audit = NULL;
	pol_set_free(s->policy);
	s->policy = NULL;
	pol_rates_free(s->rates);
	s->rates = NULL;
	cred_store_free(s->creds);
	s->creds = NULL;
}

/* ---------------------------------------------------------------- approvals (ctl, timers) */

static void
expired_cb(void *arg, const struct approval *ap)
{
	audit_approval(arg, ap, "expired", NULL);
}

void sup_approvals_tick(struct sup *s);

void
sup_approvals_tick(struct sup *s)
{
	if (s->approvals)
		approval_sweep(s->approvals, sup_wall_ms(), expired_cb, s);
}

json_t *sup_approvals_list(struct sup *s, const char *tenant, bool pending_only);

json_t *
sup_approvals_list(struct sup *s, const char *tenant, bool pending_only)
{
	const struct approval *aps[256];
	json_t *arr = json_array();
	int64_t now = sup_wall_ms();
	size_t n;

	if (s->approvals == NULL)
		return arr;
	n = approval_list(s->approvals, tenant, pending_only, now, aps, 256);
	for (size_t i = 0; i < n && i < 256; i++)
		json_array_append_new(arr, approval_to_json(aps[i], now));
	return arr;
}

int sup_approval_vote(struct sup *s, const char *tenant, const char *id,
    const struct approval_identity *who, bool approve, const char *reason, json_t **out);

/* A vote from the control socket; tenant non-NULL restricts to that tenant's approvals. */
int
sup_approval_vote(struct sup *s, const char *tenant, const char *id,
    const struct approval_identity *who, bool approve, const char *reason, json_t **out)
{
	const struct approval *ap;
	int r;

	if (s->approvals == NULL)
		return ERR_NOTFOUND;
	if ((r = approval_lookup(s->approvals, id, &ap)) < 0)
		return r;
	if (tenant != NULL && strcmp(ap->tenant, tenant) != 0)
		return ERR_NOTFOUND;	/* another tenant's approval does not exist for you */
	if ((r = approval_vote(s->approvals, ap->id, who, approve, reason, sup_wall_ms(), &ap)) < 0)
		return r;
	audit_approval(s, ap, approve ? "approve" : "deny", who->user);
	*out = approval_to_json(ap, sup_wall_ms());
	return 0;
}
