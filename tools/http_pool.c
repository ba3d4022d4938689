/* libcurl's initialisation (with a wiping allocator), the client, and its pool of easy
 * handles, each bound for life to one endpoint (see tools/http.h). */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "tools/http.h"
#include "tools/http_int.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static bool tls_wiping;

/* libcurl's allocator: every block libcurl frees, or moves when it grows one, is overwritten
 * first. libcurl formats each request (credential header included) into heap buffers of its own
 * and frees them as they were; a long-lived worker would keep "Bearer <token>" in freed memory
 * until it happens to be reused. */
static void
wipe_free(void *p)
{
	if (p != NULL)
		explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void *
wipe_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		wipe_free(p);
		return NULL;
	}
	if ((old = malloc_usable_size(p)) >= n)
		return p;	/* fits: glibc would not move it either */
	if ((q = malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, old);
	wipe_free(p);
	return q;
}

/* OpenSSL's allocator, the same way: its TLS record buffers hold each request in clear text
 * (credential header included) before encryption, and each response after. */
static void *
ossl_malloc(size_t n, const char *file, int line)
{
	(void)file, (void)line;
	return malloc(n);
}

static void *
ossl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file, (void)line;
	return wipe_realloc(p, n);
}

static void
ossl_free(void *p, const char *file, int line)
{
	(void)file, (void)line;
	wipe_free(p);
}

static void
curl_once_fn(void)
{
	/* Only before OpenSSL's first allocation: libcurl's init is the first in a worker. A
	 * program that used OpenSSL earlier keeps the plain allocator (http_tls_wiping() says). */
	tls_wiping = CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) == 1;
	curl_init_rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wipe_free, wipe_realloc,
	    strdup, calloc);
}

bool
http_tls_wiping(void)
{
	CRYPTO_malloc_fn m;
	CRYPTO_realloc_fn r;
	CRYPTO_free_fn f;

	CRYPTO_get_mem_functions(&m, &r, &f);
	return tls_wiping && m == ossl_malloc && r == ossl_realloc && f == ossl_free;
}

int
http_global_init(void)
{
	pthread_once(&curl_once, curl_once_fn);
	return curl_init_rc == CURLE_OK ? 0 : -ENOMEM;
}

int
http_client_new(http_connect_fn connect, void *arg, struct http_client **out)
{
	struct http_client *c;

	*out = NULL;
	if (http_global_init() < 0)
		return -ENOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->connect = connect;
	c->arg = arg;
	pthread_mutex_init(&c->mu, NULL);
	*out = c;
	return 0;
}

static void
pooled_free(struct pooled *p)
{
	if (p->h != NULL)
		curl_easy_cleanup(p->h);
	free(p->name);
	free(p->url);
	free(p->ca_file);
	free(p->ca_pem);
	memset(p, 0, sizeof(*p));
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nidle; i++)
		pooled_free(&c->idle[i]);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static bool
str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
pooled_for(const struct pooled *p, const struct http_endpoint *ep)
{
	return str_same(p->url, ep->url) && str_same(p->name, ep->name) &&
	    str_same(p->ca_pem, ep->ca_pem) && str_same(p->ca_file, ep->ca_file);
}

static char *
dup_opt(const char *s, bool *fail)
{
	char *d = NULL;

	if (s != NULL && (d = strdup(s)) == NULL)
		*fail = true;
	return d;
}

/* An idle handle of this endpoint (the most recently used one), else a new handle bound to it. */
int
http_pool_get(struct http_client *c, const struct http_endpoint *ep, struct pooled *out)
{
	bool fail = false;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->mu);
	for (size_t i = c->nidle; i-- > 0;) {
		if (!pooled_for(&c->idle[i], ep))
			continue;
		*out = c->idle[i];
		memmove(&c->idle[i], &c->idle[i + 1], (c->nidle - i - 1) * sizeof(c->idle[0]));
		c->nidle--;
		break;
	}
	pthread_mutex_unlock(&c->mu);
	if (out->h != NULL)
		return 0;
	out->name = dup_opt(ep->name, &fail);
	out->url = dup_opt(ep->url, &fail);
	out->ca_file = dup_opt(ep->ca_file, &fail);
	out->ca_pem = dup_opt(ep->ca_pem, &fail);
	if (fail || (out->h = curl_easy_init()) == NULL) {
		pooled_free(out);
		return -ENOMEM;
	}
	return 0;
}

/* Back to the pool, as the most recently used; the oldest idle handle makes room. */
void
http_pool_put(struct http_client *c, struct pooled *p)
{
	struct pooled old = { 0 };

	curl_easy_reset(p->h);	/* keeps live connections, caches and TLS sessions */
	pthread_mutex_lock(&c->mu);
	if (c->nidle == LIM_HTTP_POOL) {
		old = c->idle[0];
		memmove(&c->idle[0], &c->idle[1], (c->nidle - 1) * sizeof(c->idle[0]));
		c->nidle--;
	}
	c->idle[c->nidle++] = *p;
	pthread_mutex_unlock(&c->mu);
	memset(p, 0, sizeof(*p));
	pooled_free(&old);
}
