/* Internals shared by agentrt.c (message pump, calls, relay) and agentloop.c (model loop). */
#ifndef CORRAL_AGENTS_AGENTRT_INT_H
#define CORRAL_AGENTS_AGENTRT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "agents/agentrt.h"
#include "agents/memory.h"
#include "ipc/limits.h"

enum art_cstate {
	CS_IDLE,		/* not started */
	CS_SENT,		/* CALL sent, waiting for RESULT/ERROR */
	CS_RETRY,		/* pending approval: ask again at retry_at */
	CS_DONE,
};

/* One call through the supervisor. The caller owns the struct; art_call_clear() frees. */
struct art_call {
	enum art_cstate st;
	uint64_t id;			/* id of the CALL in flight */
	char tool[LIM_NAME_MAX + 1], op[LIM_NAME_MAX + 1];
	json_t *args;
	int64_t started, deadline;	/* deadline of the CALL in flight */
	uint32_t call_ms;		/* per-CALL allowance */
	int64_t retry_at, pending_until;
	unsigned attempts;
	int code;			/* 0, or the ERROR's code (ERR_TIMEOUT when we gave up) */
	json_t *result;			/* RESULT (any JSON) */
	char *text;			/* ERROR text */
	json_t *detail;			/* ERROR detail, or NULL */
	bool pending;			/* was waiting for an approval at the end */
};

#define ART_ACTIVE_MAX	(LIM_MODEL_CALLS_MAX + 1)

struct art {
	struct ipc_conn *conn;
	struct art_opts o;
	uint64_t next_id;
	uint64_t run_id;		/* the run in progress, 0 when idle */
	bool cancel;			/* CANCEL for the run, or SHUTDOWN */
	bool shutdown;
	int fatal;			/* connection lost or protocol violation */
	struct art_call *active[ART_ACTIVE_MAX];
	struct msg *queue[LIM_AGENT_QUEUED_RUNS];
	size_t nqueue;
	struct agent_mem *mem;		/* opened on the first run that wants it */
	char mem_agent[LIM_NAME_MAX + 1];
	char mem_why[256];		/* why memory is off, "" when it is on or untried */
};

int64_t art_now(void);
/* Progress of the current run, one line, to the supervisor. */
void art_event(struct art *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Start c: tool/op/args (args borrowed: incref'd), call_ms per CALL, pending_ms how long an
 * approval is waited for (0: not at all). Never fails: a send error completes c with it. */
void art_call_start(struct art *a, struct art_call *c, const char *tool, const char *op,
    json_t *args, uint32_t call_ms, uint32_t pending_ms);
/* Wait until every call in cs is done, each bounded by its deadlines and all by
 * run_deadline. Returns 0, or ERR_TIMEOUT when the run was cancelled (calls still open are
 * completed with ERR_TIMEOUT), or the connection's fatal error. */
int art_calls_wait(struct art *a, struct art_call *const *cs, size_t n, int64_t run_deadline);
void art_call_clear(struct art_call *c);

/* The model loop (agentloop.c). On success *done is the DONE result; else *code/text say why
 * the run failed (detail: what happened so far, may be NULL). */
int art_run_model(struct art *a, uint64_t run, const char *input, json_t *agent, json_t **done,
    char *text, size_t textlen, json_t **detail);

#endif
