/* libcorral-agent: a minimal client of corral's agent protocol (docs/PROTOCOL.md), for agent
 * programs written in C that corrald hosts with `exec: PATH` (protocol: ipc), and for corral's
 * own MCP bridge.
 *
 * A hosted agent program runs confined (corral-jail --profile agent: no network, the tenant's
 * uid, the arbitrary-program seccomp allow-list) with one channel: the socket corrald listens
 * on for it, /ipc/sock ($CORRAL_SOCKET). It holds no credential: it asks corrald for calls,
 * and corrald validates, decides (as principal agent:NAME of its tenant), injects and audits
 * each of them.
 *
 *     struct cagent *a;
 *     struct cagent_run run;
 *     cagent_open("/ipc/sock", 5000, &a);              dial, HELLO, wait for WELCOME
 *     while (cagent_next_run(a, -1, &run) == 0) {       RUN: corralctl run NAME INPUT
 *         char *res, *err;
 *         if (cagent_call(a, "echo", "echo", "{\"msg\":\"hi\"}", false, 60000, &res, &err) == 0)
 *             ...                                        RESULT
 *         else
 *             ...                                        ERROR: denied, schema, pending...
 *         cagent_done(a, run.id, "{\"ok\":true}");     the run's answer
 *         cagent_run_clear(&run);
 *     }
 *     cagent_close(a);
 *
 * Single-threaded use; every function returns 0 or a negative error (ipc/err.h). Messages that
 * arrive while waiting for something else are handled: RUNs are queued (LIM_MCP_RUNS_QUEUED,
 * beyond that refused with an ERROR), PINGs answered, CANCELs of runs remembered, SHUTDOWN
 * ends every wait with ERR_CLOSED.
 */
#ifndef CORRAL_AGENTS_LIBCORRAL_AGENT_H
#define CORRAL_AGENTS_LIBCORRAL_AGENT_H

#include <stdbool.h>
#include <stdint.h>

struct cagent;

struct cagent_run {
	uint64_t id;			/* corrald's run id: answer with cagent_done/fail */
	char *input;			/* the run's input text */
	char *agent;			/* JSON: the agent definition corrald resolved */
};

/* Dial path (waiting up to timeout_ms for the listener), then HELLO/WELCOME. The two halves
 * exist for programs that lock themselves down in between (corral's own binaries install their
 * seccomp filter after dialling: nng opens its sockets then). */
int cagent_open(const char *path, int timeout_ms, struct cagent **out);
int cagent_dial(const char *path, int timeout_ms, struct cagent **out);
int cagent_hello(struct cagent *a, int timeout_ms);	/* ERR_VERSION: not welcomed */
void cagent_close(struct cagent *a);			/* NULL-safe */

const char *cagent_name(const struct cagent *a);	/* WELCOME's worker name */
const char *cagent_tenant(const struct cagent *a);	/* WELCOME's tenant */

/* The next run, waiting up to timeout_ms (< 0: forever). -ETIMEDOUT, ERR_CLOSED (SHUTDOWN). */
int cagent_next_run(struct cagent *a, int timeout_ms, struct cagent_run *run);
void cagent_run_clear(struct cagent_run *run);
/* Has corrald cancelled run id (its deadline passed)? Answers to it are dropped. */
bool cagent_cancelled(const struct cagent *a, uint64_t run);

/* CALL tool.op with args (a JSON object's text) and wait up to timeout_ms for the answer.
 * 0 with *result (JSON text), or corrald's error code (ERR_DENIED, ERR_SCHEMA, ERR_PENDING,
 * ERR_TIMEOUT, ERR_UNKNOWN, ...) with *errtext (its reason); both malloc'd, the other NULL. */
int cagent_call(struct cagent *a, const char *tool, const char *op, const char *args,
    bool dry_run, int timeout_ms, char **result, char **errtext);

/* For programs with their own poll loop: a descriptor that polls readable when a message may
 * have arrived (do not read or close it), and the handling of what has (RUNs queued, PINGs
 * answered...) without waiting. cagent_pump: 0, or ERR_CLOSED once SHUTDOWN came. */
int cagent_pollfd(struct cagent *a);
int cagent_pump(struct cagent *a);

/* Wait up to timeout_ms until corrald has read everything sent before (a corral.flush round
 * trip: any answer proves it, ERR_UNKNOWN from a corrald without flush too). Call it before
 * exiting: messages still in the send queue are lost when the connection closes. 0, or the
 * error (-ETIMEDOUT, ERR_CLOSED, ...). */
int cagent_flush(struct cagent *a, int timeout_ms);

/* A run's progress text, its answer (JSON text), or its failure. */
int cagent_event(struct cagent *a, uint64_t run, const char *text);
int cagent_done(struct cagent *a, uint64_t run, const char *result_json);
int cagent_fail(struct cagent *a, uint64_t run, int code, const char *text);

#endif
