/* Router internals shared by router.c and decide.c. */
#ifndef CORRAL_SUPERVISOR_ROUTER_INT_H
#define CORRAL_SUPERVISOR_ROUTER_INT_H

#include "supervisor/sup.h"

struct call {
	uint64_t id;			/* ours, on the WORK message */
	struct origin o;
	struct worker *w;
	char *family, *op;
	json_t *args;			/* validated, canonical */
	char *secret;			/* the injected credential, for redaction; wiped */
	bool mutating;
	int64_t start_ms, deadline_ms;
	uint64_t decision_seq;
	struct call *next;
};

void router_reply(struct sup *s, const struct origin *o, struct msg *m);
void router_error(struct sup *s, const struct origin *o, int code, const char *text,
    const json_t *detail);

/* decide.c: the policy decision for a validated call. Returns POL effect as
 * 1 allow / 0 deny / 2 pending and fills rec with decision fields for the audit record. */
enum dec { DEC_DENY = 0, DEC_ALLOW = 1, DEC_PENDING = 2, DEC_BUDGET = 3 };
enum dec sup_decide(struct sup *s, const struct origin *o, const struct tool_family *f,
    const struct tool_op *op, json_t *args, bool dry_run, json_t *rec, char *reason,
    size_t rlen);

/* Observing results: evidence (canary verdicts) and token usage; may add fields to rec. */
void sup_observe_result(struct sup *s, const struct call *c, const char *result, json_t *rec);

/* agents.c: agent runs */
void sup_agent_msg(struct sup *s, struct worker *w, struct msg *m);
void sup_agent_gone(struct sup *s, struct worker *w, const char *why);
void sup_runs_origin_gone(struct sup *s, const void *obj);
void sup_runs_tick(struct sup *s, int64_t now);
int sup_run_start(struct sup *s, const struct origin *o, const char *agent, const char *input);

/* The resolved agent definition sent with RUN (new reference). */
json_t *sup_agent_def_json(struct sup *s, const struct worker *w);

/* models.c: the model gateway's call context for an agent's model.chat, its decision, token
 * budgets and the workers it needs. */
int sup_model_ctx(struct sup *s, const struct origin *o, json_t **ctx, const char **secret);
enum dec sup_model_decide(struct sup *s, const struct origin *o, json_t *rec, char *reason,
    size_t rlen);
void sup_model_usage(struct sup *s, const struct call *c, const json_t *result, json_t *rec);
const struct cfg_model *sup_agent_model(struct sup *s, const char *agent, const char *tenant);
const char *sup_cred_get(struct sup *s, const char *name, const char *tenant);

#endif
