/* The model kind: the model gateway (family "model") reaches providers exactly as the http
 * kind reaches APIs — the shared libcurl client, sockets from the supervisor's egress broker,
 * an empty network namespace — so its hooks are the http kind's. A separate kind still gets
 * its own seccomp table (SBX_MODEL), confinement profile and worker per tenant. */
#include "workers/kinds.h"

static int
model_preinit(struct wrk *w)
{
	return wrk_kind_http.preinit(w);
}

static int
model_thread_io(struct wrk *w, struct tool_io *io)
{
	return wrk_kind_http.thread_io(w, io);
}

static void
model_thread_io_free(struct tool_io *io)
{
	wrk_kind_http.thread_io_free(io);
}

const struct wrk_kind_ops wrk_kind_model = {
	.preinit = model_preinit,
	.thread_io = model_thread_io,
	.thread_io_free = model_thread_io_free,
};
