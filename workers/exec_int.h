/* Internal to the exec kind (execkind.c, exec_proxy.c, exec_kubeconfig.c). */
#ifndef CORRAL_WORKERS_EXEC_INT_H
#define CORRAL_WORKERS_EXEC_INT_H

#include <stddef.h>

#include "workers/execkind.h"

struct exec_proxy;

struct exec_proxy_stats {
	unsigned ok, denied, failed;
	char last_refused[300];		/* "host:port" of the last denied or failed connection */
};

/* Listen on 127.0.0.1:0 and serve from a thread; connections use fn. 0 or -errno. */
int exec_proxy_start(exec_connect_fn fn, void *arg, struct exec_proxy **out);
unsigned exec_proxy_port(const struct exec_proxy *p);
void exec_proxy_stats(struct exec_proxy *p, struct exec_proxy_stats *st);
/* Stop accepting, cut every live connection, wait for their threads, free. */
void exec_proxy_stop(struct exec_proxy *p);

/* Wipe every string in a JSON tree (credentials) before it is freed. */
void exec_json_wipe(json_t *v);

#endif
