/* The http kind: run hooks reach the network only through the HTTP client, whose sockets come
 * from the supervisor's egress broker (the worker's own network namespace is empty). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "ipc/broker.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/http.h"
#include "workers/kinds.h"

static int
broker_connect(void *arg, const char *host, unsigned port, int *fd)
{
	return brk_connect(BRK_FD, host, port, LIM_HTTP_CONNECT_MS, fd);
}

static int
http_preinit(struct wrk *w)
{
	int r = http_global_init();	/* libcurl with the wiping allocator, before the filter */

	/* OpenSSL's too, unless something allocated through it first: say so (corrald logs it) */
	if (r == 0 && !http_tls_wiping())
		fprintf(stderr, "corral-worker: OpenSSL's buffers are not wiped when freed (it "
		    "allocated before HTTP was initialised)\n");
	return r;
}

static int
io_http(struct tool_io *io, const struct tool_call *call, const struct http_req *req,
    struct http_resp *resp, struct tool_err *err)
{
	struct kind_thread *kt = io->priv2;
	struct http_endpoint ep;
	const char *hosts[17];
	char e[160];

	/* ctx.endpoint (from corrald's configuration only); strings borrowed from ctx */
	if (http_endpoint_from_ctx(call->ctx, &ep, hosts, 17, e, sizeof(e)) < 0) {
		http_err_set(err, ERR_CONFIG, 0, false, "no endpoint configured for this call: %s", e);
		return ERR_CONFIG;
	}
	return http_client_do(kt->http, &ep, req, call->deadline, resp, err);
}

/* One client for all pool threads of the worker (one tenant, one family): its idle handles
 * are shared, the most recently used first, so sequential calls on whichever thread keep one
 * warm connection per endpoint instead of one per thread. */
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct http_client *shared;
static unsigned shared_refs;

static int
http_thread_io(struct wrk *w, struct tool_io *io)
{
	struct kind_thread *kt = calloc(1, sizeof(*kt));
	int r = 0;

	if (kt == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&shared_mu);
	if (shared == NULL)
		r = http_client_new(broker_connect, NULL, &shared);
	if (r == 0) {
		shared_refs++;
		kt->http = shared;
	}
	pthread_mutex_unlock(&shared_mu);
	if (r < 0) {
		free(kt);
		return r;
	}
	io->priv2 = kt;
	io->http = io_http;
	return 0;
}

static void
http_thread_io_free(struct tool_io *io)
{
	struct kind_thread *kt = io->priv2;

	if (kt == NULL)
		return;
	pthread_mutex_lock(&shared_mu);
	if (--shared_refs == 0) {
		http_client_free(shared);
		shared = NULL;
	}
	pthread_mutex_unlock(&shared_mu);
	free(kt);
}

const struct wrk_kind_ops wrk_kind_http = {
	.preinit = http_preinit,
	.thread_io = http_thread_io,
	.thread_io_free = http_thread_io_free,
};
