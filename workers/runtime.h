/* The worker runtime: what every confined worker binary does around its tool families.
 *
 * connect (dial the supervisor's socket for this worker) -> lock down (the seccomp allow-list
 * of its kind; the pre-exec confinement came from corral-jail) -> HELLO -> wait for WELCOME ->
 * serve: a small pool of threads that take turns receiving (leader/followers); the thread that
 * receives a WORK runs it itself, so no call waits for a hand-off to another thread, and a
 * follower takes over receiving once a call has run for WRK_HANDOFF_MS (runtime.c), so a slow
 * call does not hold up the others. Anything the dispatch table does not permit is a protocol
 * error: the worker exits rather than guess.
 */
#ifndef CORRAL_WORKERS_RUNTIME_H
#define CORRAL_WORKERS_RUNTIME_H

#include "ipc/conn.h"
#include "tools/io.h"
#include "tools/tool.h"

#define WRK_THREADS_MAX	8

struct wrk;

struct wrk_opts {
	enum tool_kind kind;
	const char *family;		/* family served (NULL for agents) */
	const char *socket_path;	/* supervisor's socket for this worker */
	int threads;			/* WORK threads (1..WRK_THREADS_MAX) */
	bool no_seccomp;		/* tests of the runtime only; never set by corrald */
};

/* Hooks a kind plugs into the runtime (HTTP client, exec runner, model providers). */
struct wrk_kind_ops {
	/* Before lock-down: open what cannot be opened after (CA bundle, pinned binaries). */
	int (*preinit)(struct wrk *w);
	/* Per-thread I/O hooks for run hooks (called once per pool thread, after lock-down). */
	int (*thread_io)(struct wrk *w, struct tool_io *io);
	void (*thread_io_free)(struct tool_io *io);
};

int wrk_main(const struct wrk_opts *o, const struct wrk_kind_ops *kops);

/* For kind hooks: send a progress event / a log line through the supervisor. */
void wrk_event(struct wrk *w, uint64_t id, const char *text);
void wrk_log(struct wrk *w, int level, const char *text);
const struct tool_family *wrk_family(const struct wrk *w);
int wrk_broker_fd(const struct wrk *w);

#endif
