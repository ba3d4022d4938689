/* Agent runs: corralctl run AGENT "input" -> RUN to the agent's confined worker; the agent's
 * CALLs go through the router like any caller's (as principal agent:NAME of its tenant);
 * EVENTs are relayed to whoever started the run; DONE ends it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/log.h"
#include "policy/policy.h"
#include "supervisor/poltools.h"
#include "supervisor/router_int.h"
#include "supervisor/sup.h"

struct run {
	uint64_t id;
	struct origin o;		/* who started it */
	struct worker *w;
	int64_t start_ms, deadline_ms;
	struct run *next;
};

static struct run *runs;

/* The last finished run of each agent worker, for `corralctl agents`. */
struct last_run {
	const struct worker *w;
	uint64_t id;
	char outcome[16];
	int64_t duration_ms, ended_wall_ms;
};
static struct last_run last_runs[256];

static void
remember(const struct run *run, const char *outcome)
{
	size_t i, free_slot = 256;

	for (i = 0; i < 256; i++) {
		if (last_runs[i].w == run->w)
			break;
		if (last_runs[i].w == NULL && free_slot == 256)
			free_slot = i;
	}
	if (i == 256 && (i = free_slot) == 256)
		return;
	last_runs[i].w = run->w;
	last_runs[i].id = run->id;
	snprintf(last_runs[i].outcome, sizeof(last_runs[i].outcome), "%s", outcome);
	last_runs[i].duration_ms = sup_now_ms() - run->start_ms;
	last_runs[i].ended_wall_ms = sup_wall_ms();
}

json_t *sup_agents_json(struct sup *s, const char *tenant);

json_t *
sup_agents_json(struct sup *s, const char *tenant)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];
		json_t *a, *def;

		if (w->kind != TOOL_KIND_AGENT || (tenant && strcmp(tenant, w->tenant) != 0))
			continue;
		def = sup_agent_def_json(s, w);
		a = json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:O?}", "name", w->agent, "tenant",
		    w->tenant, "state", worker_state_name(w->state), "model",
		    json_object_get(def, "gateway_model"), "tools", json_object_get(def, "tools"),
		    "max_iterations", json_object_get(def, "max_iterations"));
		json_decref(def);
		for (size_t k = 0; k < 256; k++)
			if (last_runs[k].w == w)
				json_object_set_new(a, "last_run", json_pack("{s:I, s:s, s:I, s:I}",
				    "id", (json_int_t)last_runs[k].id, "outcome", last_runs[k].outcome,
				    "duration_ms", (json_int_t)last_runs[k].duration_ms, "ended_ms",
				    (json_int_t)last_runs[k].ended_wall_ms));
		json_array_append_new(arr, a);
	}
	return arr;
}

#define RUN_DEADLINE_MS	(10 * 60 * 1000)

static struct run *
run_find(uint64_t id, const struct worker *w)
{
	for (struct run *r = runs; r != NULL; r = r->next)
		if (r->id == id && r->w == w)
			return r;
	return NULL;
}

static void
run_end(struct sup *s, struct run *run, struct msg *m)
{
	json_t *rec = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I}", "type", "lifecycle", "worker",
	    run->w->name, "tenant", run->w->tenant, "run", (json_int_t)run->id, "event",
	    m->type == MSG_DONE ? "run-done" : "run-failed", "duration_ms",
	    (json_int_t)(sup_now_ms() - run->start_ms));

	sup_audit(s, rec);
	json_decref(rec);
	remember(run, m->type == MSG_DONE ? "done" : "failed");
	for (struct run **pp = &runs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == run) {
			*pp = run->next;
			break;
		}
	if (m->type == MSG_DONE)
		m->type = MSG_RESULT;
	if (run->o.ctl || run->o.agent)
		router_reply(s, &run->o, m);
	free(run);
}

int
sup_run_start(struct sup *s, const struct origin *o, const char *agent, const char *input)
{
	struct worker *w = worker_agent(s, agent, o->admin ? NULL : o->tenant);
	struct msg m = { .type = MSG_RUN };
	struct run *run;
	json_t *def;
	int r;

	if (w == NULL)
		return ERR_NOTFOUND;
	if (w->state != WS_READY || !w->verified)
		return ERR_NOTREADY;
	if ((run = calloc(1, sizeof(*run))) == NULL)
		return -ENOMEM;
	run->id = ++s->next_id;
	run->o = *o;
	run->w = w;
	run->start_ms = sup_now_ms();
	run->deadline_ms = run->start_ms + RUN_DEADLINE_MS;
	def = sup_agent_def_json(s, w);
	m.id = run->id;
	m.input = (char *)input;
	m.agent = json_dumps(def, JSON_COMPACT);
	json_decref(def);
	r = m.agent ? worker_send(s, w, &m) : -ENOMEM;
	free(m.agent);
	if (r < 0) {
		free(run);
		return r;
	}
	run->next = runs;
	runs = run;
	{
		json_t *rec = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "type", "lifecycle",
		    "worker", w->name, "tenant", w->tenant, "run", (json_int_t)run->id, "event",
		    "run-start", "principal", o->principal);

		sup_audit(s, rec);
		json_decref(rec);
	}
	return 0;
}

/* corral.policy_tools from an agent: its tool listing (an MCP bridge's tools/list). With
 * corral.flush (agent_flush), the only "corral" commands an agent has; any other goes to the
 * router, which refuses and audits it as an unknown tool. */
static void
agent_policy_tools(struct sup *s, const struct origin *o)
{
	struct msg r = { .type = MSG_RESULT };
	json_t *j;

	j = sup_policy_tools(s, o->tenant, o->principal, false);
	/* what the agent's own file lists, too: the router refuses the rest (builtin:agent-tools) */
	{
		json_t *tools = json_object_get(j, "tools");
		char why[256];

		for (size_t i = 0; i < json_array_size(tools);) {
			json_t *t = json_array_get(tools, i);

			if (sup_agent_lists(s, o->agent, json_string_value(json_object_get(t, "tool")),
			    json_string_value(json_object_get(t, "op")), why, sizeof(why)) ||
			    strcmp(json_string_value(json_object_get(t, "tool")), "model") == 0)
				i++;
			else
				json_array_remove(tools, i);
		}
	}
	r.result = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (r.result)
		router_reply(s, o, &r);
	else
		router_error(s, o, -ENOMEM, NULL, NULL);
	free(r.result);
}

/* corral.flush: answered at once with {}. The channel is in order, so the answer tells the
 * agent that corrald has read everything it sent before: an agent about to exit (an MCP
 * bridge whose program died, reporting its runs failed) waits for it, so its last messages
 * are not lost with nng's send queue when it closes. Not audited: it does nothing. */
static void
agent_flush(struct sup *s, const struct origin *o)
{
	struct msg r = { .type = MSG_RESULT, .result = (char *)"{}" };

	router_reply(s, o, &r);
}

/* Back-pressure on a flooding agent: its call was just refused and its rate for that call is
 * exhausted, so whatever it sends next would be refused too, each refusal costing a decision
 * and an audit record on corrald's only thread. Its channel is not read until the rate has
 * room again (LIM_RATE_HOLD_MS at most, so that a call it has queued behind is not held past
 * its deadline); it waits for its answer or blocks in its send meanwhile. Every call is still
 * read, decided, audited and answered, in order (docs/PERFORMANCE.md, F9). */
static void
rate_hold(struct sup *s, struct worker *w, const struct origin *o, const struct msg *m)
{
	int64_t wall = sup_wall_ms(), at, wait;

	if (s->rates == NULL || s->policy == NULL)
		return;
	at = pol_rates_room_at(s->rates, s->policy, o->tenant, o->principal, m->tool, m->op, wall);
	if (at <= wall)
		return;
	wait = at - wall < LIM_RATE_HOLD_MS ? at - wall : LIM_RATE_HOLD_MS;
	worker_hold(s, w, sup_now_ms() + wait);
}

void
sup_agent_msg(struct sup *s, struct worker *w, struct msg *m)
{
	struct run *run;

	if (m->type == MSG_CALL) {
		struct origin o = { .kind = ORIGIN_AGENT, .agent = w, .id = m->id,
			.tenant = w->tenant };

		snprintf(o.principal, sizeof(o.principal), "agent:%s", w->agent);
		if (strcmp(m->tool, "corral") == 0 && strcmp(m->op, "policy_tools") == 0) {
			agent_policy_tools(s, &o);
		} else if (strcmp(m->tool, "corral") == 0 && strcmp(m->op, "flush") == 0) {
			agent_flush(s, &o);
		} else {
			uint64_t denied = s->calls_denied;

			router_call(s, &o, m);
			if (s->calls_denied != denied)
				rate_hold(s, w, &o, m);
		}
		return;
	}
	if ((run = run_find(m->id, w)) == NULL)
		return;	/* a run we already ended (deadline): dropped */
	switch (m->type) {
	case MSG_EVENT: {
		struct msg ev = { .type = MSG_EVENT, .text = m->text };

		if (run->o.ctl || run->o.agent)
			router_reply(s, &run->o, &ev);
		break;
	}
	case MSG_DONE:
	case MSG_ERROR:
		run_end(s, run, m);
		break;
	default:
		break;
	}
}

void
sup_agent_gone(struct sup *s, struct worker *w, const char *why)
{
	struct run *r, *next;

	for (r = runs; r != NULL; r = next) {
		next = r->next;
		if (r->w == w) {
			struct msg m = { .type = MSG_ERROR, .code = ERR_WORKER, .text = (char *)why };

			run_end(s, r, &m);
		}
	}
}

void
sup_runs_origin_gone(struct sup *s, const void *obj)
{
	for (struct run *r = runs; r != NULL; r = r->next)
		if (r->o.ctl == obj || r->o.agent == obj) {
			r->o.ctl = NULL;
			r->o.agent = NULL;
		}
}

void
sup_runs_tick(struct sup *s, int64_t now)
{
	struct run *r, *next;

	for (r = runs; r != NULL; r = next) {
		next = r->next;
		if (now >= r->deadline_ms) {
			struct msg m = { .type = MSG_ERROR, .code = ERR_TIMEOUT,
				.text = "agent run deadline exceeded" };
			struct msg cancel = { .type = MSG_CANCEL, .id = r->id };

			worker_send(s, r->w, &cancel);
			run_end(s, r, &m);
		}
	}
}
