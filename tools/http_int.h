/* Internals of the libcurl client shared by tools/http.c (exchanges, retries, redirects) and
 * tools/http_pool.c (libcurl's initialisation, the client and its pool of easy handles). */
#ifndef CORRAL_TOOLS_HTTP_INT_H
#define CORRAL_TOOLS_HTTP_INT_H

#include <pthread.h>

#include <curl/curl.h>

#include "ipc/limits.h"
#include "tools/http.h"

/* An easy handle and the endpoint it belongs to (copies: the endpoint's strings live in the
 * call context, which ends with the call). */
struct pooled {
	CURL *h;
	char *name, *url, *ca_file, *ca_pem;
};

struct http_client {
	http_connect_fn connect;
	void *arg;
	pthread_mutex_t mu;
	struct pooled idle[LIM_HTTP_POOL];	/* oldest first */
	size_t nidle;
};

/* An idle handle bound to ep (the most recently used one), else a new handle bound to it:
 * 0 or -ENOMEM. */
int http_pool_get(struct http_client *c, const struct http_endpoint *ep, struct pooled *out);
/* Back to the pool (options reset, connections kept), as the most recently used. */
void http_pool_put(struct http_client *c, struct pooled *p);

#endif
