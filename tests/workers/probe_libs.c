/* probe-libs: the libraries our workers run on, used after lock-down, as the workers do.
 *
 * usage: probe-libs MODE NAME
 *   MODE  http | model | agent | exec: initialise, then apply that kind's filter; jailed: the
 *         jail's filter is already in place.
 *   curl_get  libcurl GET http://api.example:8080/ping over fd 3, a TCP socket the test
 *             connected (as the supervisor's egress broker would), name pinned with
 *             CURLOPT_RESOLVE; prints "body <body>".
 *   nng_req   nng req/rep over ipc:///ipc/sock (dialled before lock-down); prints
 *             "reply <reply>".
 * Exit status: 0 worked, 11 failed, 12 setup failed; a SIGSYS death names a missing syscall.
 */
#include <curl/curl.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "workers/sandbox.h"

const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";	/* LeakSanitizer would ptrace at exit */
}

static CURL *curl;
static nng_socket req;

struct body {
	char buf[256];
	size_t len;
};

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t k = size * n;

	if (k > sizeof(b->buf) - 1 - b->len)
		return 0;
	memcpy(b->buf + b->len, p, k);
	b->len += k;
	b->buf[b->len] = '\0';
	return k;
}

static curl_socket_t
open_passed(void *ctx, curlsocktype purpose, struct curl_sockaddr *addr)
{
	return 3;	/* the connected socket the supervisor passed */
}

static int
sockopt_connected(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
	return CURL_SOCKOPT_ALREADY_CONNECTED;
}

static int
curl_init(void)
{
	static struct curl_slist *pin;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(curl = curl_easy_init()))
		return -1;
	pin = curl_slist_append(NULL, "api.example:8080:127.0.0.1");
	curl_easy_setopt(curl, CURLOPT_URL, "http://api.example:8080/ping");
	curl_easy_setopt(curl, CURLOPT_RESOLVE, pin);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_passed);
	curl_easy_setopt(curl, CURLOPT_SOCKOPTFUNCTION, sockopt_connected);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	return 0;
}

static int
curl_get(void)
{
	struct body b = { .len = 0 };
	long code = 0;
	CURLcode rc;

	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	printf("status %ld body %s\n", code, rc == CURLE_OK ? b.buf : curl_easy_strerror(rc));
	fflush(stdout);
	return rc == CURLE_OK && code == 200 ? 0 : 11;
}

static int
nng_init(void)
{
	if (nng_req0_open(&req) != 0 || nng_setopt_ms(req, NNG_OPT_RECVTIMEO, 5000) != 0)
		return -1;
	return nng_dial(req, "ipc:///ipc/sock", NULL, 0) == 0 ? 0 : -1;
}

static int
nng_req_run(void)
{
	char *reply = NULL;
	size_t len = 0;
	int r;

	if ((r = nng_send(req, "ping", 5, 0)) != 0 ||
	    (r = nng_recv(req, &reply, &len, NNG_FLAG_ALLOC)) != 0) {
		printf("nng: %s\n", nng_strerror(r));
		fflush(stdout);
		return 11;
	}
	printf("reply %.*s\n", (int)(len ? len - 1 : 0), reply);
	fflush(stdout);
	nng_free(reply, len);
	return 0;
}

static const struct {
	const char *name;
	int (*init)(void);
	int (*run)(void);
} probes[] = {
	{ "curl_get", curl_init, curl_get },
	{ "nng_req", nng_init, nng_req_run },
};

int
main(int argc, char **argv)
{
	enum sbx_kind k;

	if (argc != 3)
		return 12;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (strcmp(argv[2], probes[i].name) != 0)
			continue;
		if (probes[i].init() < 0) {
			printf("init failed\n");
			return 12;
		}
		if (strcmp(argv[1], "jailed") != 0 && (sbx_kind_parse(argv[1], &k) < 0 ||
		    k >= SBX_JAIL_AGENT || sbx_seccomp_apply(k, 0) < 0)) {
			printf("bad mode or seccomp failed\n");
			return 12;
		}
		fflush(stdout);
		_exit(probes[i].run());
	}
	return 13;
}
