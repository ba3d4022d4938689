/* The I/O a family's run hook may do, provided by the worker runtime (workers/).
 * Family code calls these hooks and never links libcurl or spawns processes itself. */
#ifndef CORRAL_TOOLS_IO_H
#define CORRAL_TOOLS_IO_H

#include <stdint.h>

#include "tools/tool.h"

struct http_req;	/* tools/http.h */
struct http_resp;
struct exec_req;	/* tools/exec.h */
struct exec_resp;

struct tool_io {
	void *priv;		/* the runtime's */
	void *priv2;		/* the kind's (per thread) */
	/* One HTTP exchange (with the client's retries, caps, redirect rules). NULL in workers
	 * of other kinds. */
	int (*http)(struct tool_io *io, const struct tool_call *call, const struct http_req *req,
	    struct http_resp *resp, struct tool_err *err);
	/* Run one pinned program with a fixed argv. NULL outside the exec kind. */
	int (*exec)(struct tool_io *io, const struct tool_call *call, const struct exec_req *req,
	    struct exec_resp *resp, struct tool_err *err);
	/* Progress line for call id, forwarded to whoever made the call. */
	void (*event)(struct tool_io *io, uint64_t id, const char *text);
	/* Log line (level: syslog 0..7), forwarded to the supervisor's log. */
	void (*log)(struct tool_io *io, int level, const char *text);
	/* Send raw bytes on the supervisor channel. Only the echo family's "garbage" and "lies"
	 * crash modes use it, to act out a compromised worker in tests. */
	int (*raw_send)(struct tool_io *io, const void *buf, size_t len);
};

#endif
