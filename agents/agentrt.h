/* The agent runtime inside corral-agent: serves RUNs from corrald on the agent's one socket.
 *
 * A RUN whose agent definition names a model (the supervisor adds "gateway_model") runs the
 * model loop: [system prompt, earlier exchanges from memory, the input] -> model.chat (a CALL
 * like any tool call, so the supervisor validates, decides, audits and counts its tokens) ->
 * the tool calls it asks for, all sent at once -> their results (or the denial, the schema
 * error, the pending approval) back to the model as tool messages -> ... until the model
 * answers without calls, max_iterations, or the run's deadline. An input of the form
 * {"calls": [{"tool", "op", "args"}]} is relayed instead, in order, without a model.
 * docs/AGENTRT.md describes the messages.
 *
 * Every wait is bounded: per call (the op's deadline plus a grace), per run (the agent's
 * "deadline_ms" or LIM_AGENT_RUN_MS), and approvals (LIM_AGENT_PENDING_MS, asked again every
 * LIM_AGENT_PENDING_POLL_MS). While it waits it answers PING and honours CANCEL and SHUTDOWN;
 * a RUN arriving meanwhile is queued (LIM_AGENT_QUEUED_RUNS). */
#ifndef CORRAL_AGENTS_AGENTRT_H
#define CORRAL_AGENTS_AGENTRT_H

#include "ipc/conn.h"

struct art;

struct art_opts {
	const char *state_dir;		/* memory: <state_dir>/<agent>.db; "/state" in the jail */
	int state_fd;			/* that directory, opened before lock-down; -1: none */
};

int art_new(struct ipc_conn *conn, const struct art_opts *o, struct art **out);
/* Serve until SHUTDOWN (0) or the connection fails / the supervisor breaks the protocol
 * (< 0). */
int art_serve(struct art *a);
void art_free(struct art *a);		/* NULL-safe; does not close the connection */

#endif
