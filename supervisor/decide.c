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
#include "supervisor/audit.h"
#include "supervisor/cred.h"
#include "supervisor/router_int.h"
#include "supervisor/sup.h"

/* ---------------------------------------------------------------- evidence */

struct evidence {
	char *tenant, *tool, *op;
	json_t *args, *result;
	int64_t at_ms;
	uint64_t seq;
	struct evidence *next;
};

static struct evidence *evidence_list;

static int
evidence_lookup(void *arg, const struct pol_evidence_query *q, int64_t *found_at)
{
	int found = 0;

	for (struct evidence *e = evidence_list; e != NULL; e = e->next)
		if (pol_evidence_match(q, e->tenant, e->tool, e->op, e->args, e->result, e->at_ms) &&
		    (!found || e->at_ms > *found_at)) {
			*found_at = e->at_ms;
			found = 1;
		}
	return found;
}

/* Results that count as evidence are recorded: a canary verdict is the one we know. */
void
sup_observe_result(struct sup *s, const struct call *c, const char *result, json_t *rec)
{
	struct evidence *e;
	json_t *res;

	if (strcmp(c->family, "prometheus") != 0 || strcmp(c->op, "canary_analyze") != 0)
		return;
	if ((res = json_loads(result, 0, NULL)) == NULL || !json_is_object(res)) {
		json_decref(res);
		return;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		json_decref(res);
		return;
	}
	e->tenant = strdup(c->o.tenant ? c->o.tenant : "");
	e->tool = strdup(c->family);
	e->op = strdup(c->op);
	e->args = json_incref(c->args);
	e->result = res;
	e->at_ms = sup_wall_ms();
	e->next = evidence_list;
	evidence_list = e;
	json_object_set_new(rec, "evidence", json_pack("{s:O?, s:O?}", "verdict",
	    json_object_get(res, "verdict"), "score", json_object_get(res, "score")));
}

/* ---------------------------------------------------------------- deciding */

enum dec
sup_decide(struct sup *s, const struct origin *o, const struct tool_family *f,
    const struct tool_op *op, json_t *args, bool dry_run, json_t *rec, char *reason, size_t rlen)
{
	struct pol_request rq = { .tenant = o->tenant, .principal = o->principal, .tool = f->name,
		.op = op->name, .opdef = op, .args = args, .now_ms = sup_wall_ms(),
		.dry_run = dry_run };
	struct pol_state st = { .rates = s->rates, .evidence = evidence_lookup };
	struct pol_decision d;
	int r;

	if (s->policy == NULL) {
		/* No policy files: only the host's administrators may call (corralctl). */
		if (o->admin) {
			json_object_set_new(rec, "decision", json_string("allow"));
			json_object_set_new(rec, "rules", json_pack("[s]", "builtin:admin"));
			return DEC_ALLOW;
		}
		snprintf(reason, rlen, "no policy is loaded: default deny");
		json_object_set_new(rec, "decision", json_string("deny"));
		json_object_set_new(rec, "reason", json_string(reason));
		return DEC_DENY;
	}
	json_object_set_new(rec, "policy_hash", json_string(pol_set_hash(s->policy)));
	if ((r = pol_decide(s->policy, &rq, &st, &d)) < 0) {
		snprintf(reason, rlen, "policy evaluation failed: %s", err_str(r));
		json_object_set_new(rec, "decision", json_string("deny"));
		json_object_set_new(rec, "reason", json_string(reason));
		return DEC_DENY;
	}
	{
		json_t *dj = pol_decision_json(&d);

		json_object_set_new(rec, "decision", json_string(pol_effect_name(d.effect)));
		if (dj) {
			json_object_set(rec, "rules", json_object_get(dj, "rules"));
			if (json_object_get(dj, "obligations"))
				json_object_set(rec, "obligations", json_object_get(dj, "obligations"));
			json_decref(dj);
		}
	}
	snprintf(reason, rlen, "%s", d.reason);
	if (d.reason[0])
		json_object_set_new(rec, "reason", json_string(d.reason));
	if (d.effect == POL_ALLOW && d.dry_run_only && !dry_run) {
		snprintf(reason, rlen, "policy allows this call only as a dry run");
		json_object_set_new(rec, "decision", json_string("deny"));
		json_object_set_new(rec, "reason", json_string(reason));
		return DEC_DENY;
	}
	if (d.effect == POL_ALLOW) {
		pol_rate_commit(s->rates, s->policy, &rq, &d);
		return DEC_ALLOW;
	}
	return d.effect == POL_PENDING ? DEC_PENDING : DEC_DENY;
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
	if ((r = audit_append(s->audit, rec, &seq)) < 0)
		return r;
	json_object_set_new(rec, "seq", json_integer((json_int_t)seq));
	return 0;
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
	if ((r = audit_open(&ao, (struct audit **)&s->audit, err, sizeof(err))) < 0) {
		explicit_bzero(key, sizeof(key));
		log_msg(LOG_ERR, "audit %s: %s", c->audit_path, err[0] ? err : err_str(r));
		return r;
	}
	explicit_bzero(key, sizeof(key));
	audit_set_redactor(s->audit, cred_redactor(s->creds));
	return 0;
}

void
sup_modules_close(struct sup *s)
{
	audit_close(s->audit);
	s->audit = NULL;
	pol_set_free(s->policy);
	s->policy = NULL;
	pol_rates_free(s->rates);
	s->rates = NULL;
	cred_store_free(s->creds);
	s->creds = NULL;
}
