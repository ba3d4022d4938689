/* One run of a pinned program, as the exec kind performs it for a family's run hook.
 *
 * The family builds the argv element by element (never a shell, never a path to a program:
 * it names one of the pinned binaries by number); the exec kind (workers/execkind.c) adds the
 * program name and, for binaries that talk to Kubernetes, `--kubeconfig=<per-call file>` as
 * the first arguments, runs it from its exec slot with a fresh environment, in its own
 * process group, bounded by the timeout and the call's deadline, and captures capped output.
 * This header is pure data and tiny helpers: the family code links no exec code.
 */
#ifndef CORRAL_TOOLS_EXEC_H
#define CORRAL_TOOLS_EXEC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/limits.h"

enum exec_bin {
	EXEC_BIN_KUBECTL,		/* exec slot FD_EXEC_SLOT + 1 */
	EXEC_BIN_FLUX,			/* exec slot FD_EXEC_SLOT + 2 (optional) */
	EXEC_BIN_COUNT
};

/* exec_req.flags */
#define EXEC_F_PROBE	0x1u	/* run nothing: 0 when bin is pinned, -ENOENT when it is not */

struct exec_req {
	enum exec_bin bin;
	/* Arguments after the program name (and after the --kubeconfig the kind adds),
	 * NULL-terminated; argc of them. Each element is one execve argument. */
	const char *argv[LIM_EXEC_ARGS_MAX + 1];
	size_t argc;
	const void *stdin_data;		/* NULL: stdin is /dev/null */
	size_t stdin_len;
	uint32_t timeout_ms;		/* 0 = LIM_EXEC_TIMEOUT_MS; the call's deadline bounds it too */
	size_t stdout_max;		/* 0 = LIM_EXEC_OUT_MAX */
	size_t stderr_max;		/* 0 = LIM_EXEC_ERR_MAX */
	unsigned flags;
	/* Called for each complete stderr line while the program runs (progress), or NULL. */
	void (*on_stderr_line)(void *arg, const char *line);
	void *line_arg;
};

struct exec_resp {
	int status;			/* exit code 0..255, or -1 when ended by a signal */
	int signal;			/* the signal that ended it, 0 when it exited */
	bool timed_out;			/* killed (the whole process group) at the deadline */
	char *out;			/* stdout, NUL-terminated (malloc'd; exec_resp_clear) */
	size_t out_len;
	bool out_truncated;		/* more than the cap was written; the rest was dropped */
	char *err;			/* stderr, NUL-terminated */
	size_t err_len;
	bool err_truncated;
	int64_t elapsed_ms;
	/* What the kind's egress proxy saw during the run: connections corrald refused (with
	 * the last refused destination) and connections it could not open. */
	unsigned egress_denied;
	unsigned egress_failed;
	char egress_last[300];		/* "host:port" */
};

/* Append one argument; -E2BIG when argv is full (or -EINVAL for NULL). */
static inline int
exec_arg(struct exec_req *r, const char *a)
{
	if (a == NULL)
		return -EINVAL;
	if (r->argc >= LIM_EXEC_ARGS_MAX)
		return -E2BIG;
	r->argv[r->argc++] = a;
	r->argv[r->argc] = NULL;
	return 0;
}

static inline void
exec_resp_clear(struct exec_resp *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

#endif
