/* The client's egress hook and TLS verification.
 *
 * Egress: in a confined HTTP worker the supervisor hands over an already connected socket per
 * connection; the client must use it (CURLOPT_OPENSOCKETFUNCTION), never resolve or dial
 * itself (CURLOPT_RESOLVE pins the name), and survive libcurl 7.88 calling connect() on it
 * (curl#10626), which the worker's seccomp filter answers with 0. The test reproduces exactly
 * that in a child: sockets are connected before the filter, then socket() is refused (so curl
 * cannot open its own) and connect() returns 0 without doing anything.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <openssl/crypto.h>
#include <errno.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/tools/harness.h"
#include "tools/http.h"

struct hook {
	int fds[4];
	int nfds;
	int calls;
	char host[128];
	unsigned port;
	bool refuse;
};

static int
dial(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

static int
hook_connect(void *arg, const char *host, unsigned port, int *fd)
{
	struct hook *h = arg;

	h->calls++;
	snprintf(h->host, sizeof(h->host), "%s", host);
	h->port = port;
	if (h->refuse || h->nfds == 0)
		return ERR_EGRESS;
	*fd = h->fds[--h->nfds];
	return 0;
}

static int
get(struct http_client *c, const char *url, const char *method, struct tool_err *err)
{
	struct http_endpoint ep = { .name = "fake", .url = url, .timeout_ms = 3000 };
	struct http_resp resp;
	struct http_req req;
	int r;

	http_req_init(&req, method);
	http_path_add(&req, "/v1/echo");
	if (strcmp(method, "GET") == 0)
		req.flags = HTTP_F_IDEMPOTENT;
	else
		req.content_type = "application/json";
	r = http_client_do(c, &ep, &req, 0, &resp, err);
	http_resp_clear(&resp);
	return r;
}

static int
confine(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (ctx == NULL)
		return -ENOMEM;
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(connect), 0)) == 0 &&
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 0)) == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

/* The child: exit status 0 = every check held, else the number of the failed check. */
static int
egress_child(int port)
{
	struct hook h = { .nfds = 0 };
	struct http_client *c;
	struct tool_err err;
	char url[128];

	for (int i = 0; i < 3; i++)
		if ((h.fds[h.nfds++] = dial(port)) < 0)
			return 10;
	if (http_client_new(hook_connect, &h, &c) < 0)
		return 11;
	if (confine() < 0)
		return 12;
	/* A name nobody can resolve: only the pinned name and the hook's socket can work. */
	snprintf(url, sizeof(url), "http://api.corral-egress.invalid:%d", port);
	if (get(c, url, "GET", &err) != 0)
		return fprintf(stderr, "GET 1: %s\n", err.text), 1;
	if (h.calls != 1 || strcmp(h.host, "api.corral-egress.invalid") != 0 || h.port != (unsigned)port)
		return 2;
	if (get(c, url, "GET", &err) != 0 || h.calls != 1)	/* reused connection */
		return 3;
	if (get(c, url, "POST", &err) != 0 || h.calls != 2)	/* a mutation gets a fresh one */
		return fprintf(stderr, "POST: %s\n", err.text), 4;
	h.refuse = true;
	if (get(c, url, "POST", &err) != ERR_EGRESS || h.calls != 3)
		return 5;
	if (strstr(err.text, "egress") == NULL)
		return 6;
	http_client_free(c);
	return 0;
}

Test(http_egress, hook_socket_under_a_seccomp_filter_like_the_worker)
{
	struct fake f;
	int status;
	pid_t pid;

	cr_assert_eq(fake_start(&f, "fake_http.py", NULL), 0);
	if ((pid = fork()) == 0)
		_exit(egress_child(f.port));
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status), "child died");
	cr_expect_eq(WEXITSTATUS(status), 0, "egress check %d failed", WEXITSTATUS(status));
	/* 3 requests reached the fake, each with the pinned Host header. */
	json_t *log = fake_log(&f), *e;
	size_t i;
	char host[128];

	snprintf(host, sizeof(host), "api.corral-egress.invalid:%d", f.port);
	cr_expect_eq(json_array_size(log), 3);
	json_array_foreach(log, i, e)
		cr_expect_str_eq(json_string_value(http_json_get(e, "headers.host")), host);
	json_decref(log);
	fake_stop(&f);
}

static int
get_as(struct http_client *c, const char *name, const char *url, struct tool_err *err)
{
	struct http_endpoint ep = { .name = name, .url = url, .timeout_ms = 3000 };
	struct http_resp resp;
	struct http_req req;
	int r;

	http_req_init(&req, "GET");
	http_path_add(&req, "/v1/echo");
	req.flags = HTTP_F_IDEMPOTENT;
	r = http_client_do(c, &ep, &req, 0, &resp, err);
	http_resp_clear(&resp);
	return r;
}

/* Two endpoints of one worker at the same host and port: each gets a connection of its own
 * (through the hook), and each reuses its own afterwards. 0 = held, else the failed check. */
static int
endpoints_child(int port)
{
	struct hook h = { .nfds = 0 };
	struct http_client *c;
	struct tool_err err;
	char url[128];

	for (int i = 0; i < 3; i++)
		if ((h.fds[h.nfds++] = dial(port)) < 0)
			return 10;
	if (http_client_new(hook_connect, &h, &c) < 0 || confine() < 0)
		return 11;
	snprintf(url, sizeof(url), "http://api.corral-egress.invalid:%d", port);
	if (get_as(c, "a", url, &err) != 0 || h.calls != 1)
		return fprintf(stderr, "a: %s\n", err.text), 1;
	if (get_as(c, "b", url, &err) != 0 || h.calls != 2)	/* not a's connection */
		return 2;
	if (get_as(c, "a", url, &err) != 0 || get_as(c, "b", url, &err) != 0 || h.calls != 2)
		return 3;	/* each its own, reused */
	http_client_free(c);
	return 0;
}

Test(http_egress, a_connection_serves_one_endpoint)
{
	struct fake f;
	int status;
	pid_t pid;

	cr_assert_eq(fake_start(&f, "fake_http.py", NULL), 0);
	if ((pid = fork()) == 0)
		_exit(endpoints_child(f.port));
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status), "child died");
	cr_expect_eq(WEXITSTATUS(status), 0, "check %d failed", WEXITSTATUS(status));
	cr_expect_eq(fake_count(&f), 4);
	fake_stop(&f);
}

/* Without the filter, libcurl 7.88's extra connect() fails with EISCONN: the client says what
 * the worker must do instead of a bare "couldn't connect". Newer libcurl just works. */
Test(http_egress, without_the_filter_the_failure_is_explained)
{
	struct hook h = { .nfds = 0 };
	struct http_client *c;
	struct tool_err err;
	struct fake f;
	char url[128];
	int r;

	cr_assert_eq(fake_start(&f, "fake_http.py", NULL), 0);
	h.fds[h.nfds++] = dial(f.port);
	cr_assert_eq(http_client_new(hook_connect, &h, &c), 0);
	snprintf(url, sizeof(url), "http://api.corral-egress.invalid:%d", f.port);
	r = get(c, url, "POST", &err);
	if (curl_version_info(CURLVERSION_NOW)->version_num < 0x080000) {
		cr_expect_eq(r, ERR_SANDBOX, "%s", err.text);
		cr_expect_not_null(strstr(err.text, "seccomp"), "%s", err.text);
	} else {
		cr_expect_eq(r, 0, "%s", err.text);
	}
	http_client_free(c);
	fake_stop(&f);
}

/* ---------------------------------------------------------------- TLS */

static const char *const tls_args[] = { "--tls", "tls/server.pem", "tls/server.key", NULL };

Test(http_tls, verification_is_always_on)
{
	struct http_client *c;
	struct http_endpoint ep = { .timeout_ms = 3000 };
	struct http_resp resp;
	struct tool_err err;
	struct http_req req;
	struct fake f;
	char url[128];

	cr_assert_eq(fake_start(&f, "fake_http.py", tls_args), 0);
	cr_assert_eq(http_client_new(NULL, NULL, &c), 0);
	http_req_init(&req, "GET");
	http_path_add(&req, "/v1/echo");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", f.port);
	ep.url = url;
	/* The endpoint's CA: verified. */
	ep.ca_file = HARNESS_FAKES_DIR "/tls/ca.pem";
	cr_expect_eq(http_client_do(c, &ep, &req, 0, &resp, &err), 0, "%s", err.text);
	http_resp_clear(&resp);
	/* The system bundle does not know the test CA: refused. */
	ep.ca_file = NULL;
	cr_expect_eq(http_client_do(c, &ep, &req, 0, &resp, &err), ERR_PEER, "%s", err.text);
	http_resp_clear(&resp);
	/* Right CA, wrong name (the certificate is for 127.0.0.1 only): refused. */
	ep.ca_file = HARNESS_FAKES_DIR "/tls/ca.pem";
	snprintf(url, sizeof(url), "https://localhost:%d", f.port);
	cr_expect_eq(http_client_do(c, &ep, &req, 0, &resp, &err), ERR_PEER, "%s", err.text);
	http_resp_clear(&resp);
	/* A missing CA file is an error, never a fallback to no verification. */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", f.port);
	ep.ca_file = "/nonexistent/ca.pem";
	cr_expect_lt(http_client_do(c, &ep, &req, 0, &resp, &err), 0);
	http_resp_clear(&resp);
	cr_expect_eq(fake_count(&f), 1, "a request went out over an unverified connection");
	http_client_free(c);
	fake_stop(&f);
}

/* OpenSSL's TLS buffers (a request in clear text before encryption, a response after) are
 * freed through the wiping allocator as libcurl's own are, in a process that initialises HTTP
 * first as a worker does. (Criterion's own process cannot show it: its libgit2 starts
 * OpenSSL before any test runs.) */
Test(http_tls, tls_buffers_go_through_the_wiping_allocator)
{
	const char *probe = getenv("CORRAL_TLS_WIPE_PROBE");
	char url[128], cmd[1024], out[256] = "";
	struct fake f;
	size_t n;
	FILE *p;

	cr_assert_not_null(probe, "CORRAL_TLS_WIPE_PROBE not set (run through meson test)");
	cr_assert_eq(fake_start(&f, "fake_http.py", tls_args), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", f.port);
	snprintf(cmd, sizeof(cmd), "%s %s %s", probe, url, HARNESS_FAKES_DIR "/tls/ca.pem");
	cr_assert_not_null(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s", out);
	cr_expect_str_eq(out, "wiping 1\nok 3\nwiping 1\n");
	cr_expect_eq(fake_count(&f), 3);
	fake_stop(&f);
}

/* ... and the check is real: a process that allocated through OpenSSL first cannot. */
Test(http_tls, openssl_used_first_keeps_its_allocator)
{
	OPENSSL_free(OPENSSL_malloc(16));
	cr_assert_eq(http_global_init(), 0);
	cr_expect(!http_tls_wiping());
}

static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n = 0;

	if (f != NULL && buf != NULL)
		n = fread(buf, 1, 65535, f);
	if (f != NULL)
		fclose(f);
	if (n == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* corrald sends the endpoint's CA as text (ctx.endpoint.ca_pem) because a jailed worker cannot
 * open the file it names; the client must verify with that text, whatever the path says. */
Test(http_tls, ca_text_wins_over_an_unreadable_file)
{
	struct http_client *c;
	struct http_endpoint ep = { .timeout_ms = 3000 };
	struct http_resp resp;
	struct tool_err err;
	struct http_req req;
	struct fake f;
	char url[128], *ca = read_text(HARNESS_FAKES_DIR "/tls/ca.pem"),
	    *other = read_text(HARNESS_FAKES_DIR "/kube-tls/cert.pem");

	cr_assert_not_null(ca);
	cr_assert_not_null(other);
	cr_assert_eq(fake_start(&f, "fake_http.py", tls_args), 0);
	cr_assert_eq(http_client_new(NULL, NULL, &c), 0);
	http_req_init(&req, "GET");
	http_path_add(&req, "/v1/echo");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", f.port);
	ep.url = url;
	/* what a jailed worker gets: a path it cannot open, and the certificates as text */
	ep.ca_file = "/nonexistent/ca.pem";
	ep.ca_pem = ca;
	cr_expect_eq(http_client_do(c, &ep, &req, 0, &resp, &err), 0, "%s", err.text);
	http_resp_clear(&resp);
	/* another CA as text: refused, not verified against the system bundle or the file */
	ep.ca_pem = other;
	cr_expect_eq(http_client_do(c, &ep, &req, 0, &resp, &err), ERR_PEER, "%s", err.text);
	http_resp_clear(&resp);
	/* text that holds no certificate: an error, never a fallback */
	ep.ca_pem = "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n";
	cr_expect_lt(http_client_do(c, &ep, &req, 0, &resp, &err), 0);
	http_resp_clear(&resp);
	ep.ca_file = NULL;
	ep.ca_pem = "";
	cr_expect_lt(http_client_do(c, &ep, &req, 0, &resp, &err), 0);
	http_resp_clear(&resp);
	cr_expect_eq(fake_count(&f), 1, "a request went out over an unverified connection");
	http_client_free(c);
	fake_stop(&f);
	free(ca);
	free(other);
}

/* ---------------------------------------------------------------- egress failures */

struct failhook {
	int rc;
	int calls;
};

static int
fail_connect(void *arg, const char *host, unsigned port, int *fd)
{
	struct failhook *h = arg;

	h->calls++;
	return h->rc;
}

/* What the broker answers decides the call's error: only a refusal by policy is ERR_EGRESS; a
 * connect that ran out of time is a timeout (not retried: the broker already waited the whole
 * budget); refused or unreachable keep their errno and are retried like any connect failure. */
Test(http_egress, hook_failures_are_told_apart)
{
	static const struct {
		int hook_rc;
		const char *method;
		int want;
		bool retryable;
		int calls;
		const char *text;
	} cases[] = {
		{ ERR_EGRESS, "GET", ERR_EGRESS, false, 1, "not allowed" },
		{ -ETIMEDOUT, "GET", ERR_TIMEOUT, true, 1, "timed out" },
		{ -ETIMEDOUT, "POST", ERR_TIMEOUT, true, 1, "timed out" },
		{ -ECONNREFUSED, "POST", -ECONNREFUSED, true, 1, "refused" },
		{ -EHOSTUNREACH, "POST", -EHOSTUNREACH, true, 1, "No route" },
		{ -EAGAIN, "POST", -EAGAIN, true, 1, "connect to" },
		{ -ECONNREFUSED, "GET", -ECONNREFUSED, true, 1 + LIM_HTTP_RETRIES, "refused" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct failhook h = { .rc = cases[i].hook_rc };
		struct http_client *c;
		struct tool_err err;
		int r;

		cr_assert_eq(http_client_new(fail_connect, &h, &c), 0);
		r = get(c, "http://prom.corral-egress.invalid:9090", cases[i].method, &err);
		cr_expect_eq(r, cases[i].want, "case %zu: %s (%s)", i, err_name(r), err.text);
		cr_expect_eq(err.code, cases[i].want, "case %zu: err.code %s", i, err_name(err.code));
		cr_expect_eq(err.retryable, cases[i].retryable, "case %zu", i);
		cr_expect_eq(h.calls, cases[i].calls, "case %zu: %d connects", i, h.calls);
		cr_expect_not_null(strstr(err.text, cases[i].text), "case %zu: %s", i, err.text);
		cr_expect_not_null(strstr(err.text, "prom.corral-egress.invalid:9090"), "case %zu: %s",
		    i, err.text);
		http_client_free(c);
	}
}

/* ---------------------------------------------------------------- credential wiping */

/* libcurl's allocator is ours in this test: every string it duplicates that holds the token
 * (the header lines curl_slist_append copies) is watched, and its content is checked when it
 * is freed. The client must overwrite them first: a worker is long-lived, and freed heap keeps
 * its bytes until reused. */
#define WIPE_TOKEN "wipe-me-0123456789abcdef"

static struct {
	void *p[64];
	size_t len[64];
	int watched, freed_with_token;
} W;

static char *
w_strdup(const char *s)
{
	char *d = strdup(s);

	if (d != NULL && strstr(s, WIPE_TOKEN) != NULL && W.watched < 64) {
		W.p[W.watched] = d;
		W.len[W.watched++] = strlen(s);
	}
	return d;
}

static void
w_free(void *p)
{
	for (int i = 0; p != NULL && i < W.watched; i++)
		if (W.p[i] == p) {
			if (memmem(p, W.len[i], WIPE_TOKEN, strlen(WIPE_TOKEN)) != NULL)
				W.freed_with_token++;
			W.p[i] = NULL;
		}
	free(p);
}

Test(http_egress, credential_header_lines_are_wiped_before_free)
{
	struct http_endpoint ep = { .name = "fake", .timeout_ms = 3000 };
	struct http_client *c;
	struct http_resp resp;
	struct tool_err err;
	struct http_req req;
	struct fake f;

	cr_assert_eq(curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, w_free, realloc, w_strdup,
	    calloc), CURLE_OK);
	cr_assert_eq(fake_start(&f, "fake_http.py", NULL), 0);
	ep.url = f.url;
	cr_assert_eq(http_client_new(NULL, NULL, &c), 0);
	for (int i = 0; i < 3; i++) {
		http_req_init(&req, i == 1 ? "POST" : "GET");
		http_path_add(&req, "/v1/echo");
		req.flags = i == 1 ? 0 : HTTP_F_IDEMPOTENT;
		http_cred_add(&req, "Authorization", "Bearer ", WIPE_TOKEN);
		cr_expect_eq(http_client_do(c, &ep, &req, 0, &resp, &err), 0, "%s", err.text);
		http_resp_clear(&resp);
		http_req_wipe(&req);
	}
	/* the hook saw the lines (else this test proves nothing), and none was freed unwiped */
	cr_assert_geq(W.watched, 3, "libcurl did not duplicate the header lines through us");
	cr_expect_eq(W.freed_with_token, 0, "%d of %d credential header lines freed with the token",
	    W.freed_with_token, W.watched);
	http_client_free(c);
	fake_stop(&f);
}

/* After calls that carried a credential, the token is nowhere in the process's heap, thread
 * stacks or anonymous memory, freed blocks included: the client wipes what it builds, and
 * libcurl runs on an allocator that wipes what libcurl frees (its formatted request holds the
 * header). The process's memory is read through /proc/self/mem; the token and the read buffer
 * live in one mapping of their own, which the scan skips. */
static size_t
scan_memory(const char *needle, size_t nlen, const void *skip, size_t skiplen, char *buf,
    size_t buflen, char *where, size_t wlen)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	char line[512];
	size_t found = 0;

	cr_assert_not_null(maps);
	cr_assert_geq(mem, 0);
	where[0] = '\0';
	while (fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char perms[8], path[256] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms, path) < 3 ||
		    perms[0] != 'r' || perms[1] != 'w' || (path[0] != '\0' && path[0] != '['))
			continue;
		if (strncmp(path, "[v", 2) == 0 || hi - lo > (1ul << 30) ||
		    (lo < (uintptr_t)skip + skiplen && (uintptr_t)skip < hi))
			continue;	/* [vvar], [vsyscall]; sanitizer shadow; our own mapping */
		for (unsigned long a = lo; a < hi; a += buflen - nlen) {
			size_t want = hi - a < buflen ? hi - a : buflen;
			ssize_t n = pread(mem, buf, want, (off_t)a);

			if (n > 0 && memmem(buf, (size_t)n, needle, nlen) != NULL) {
				found++;
				snprintf(where + strlen(where), wlen - strlen(where), "%lx %s; ", a,
				    path[0] ? path : "(anon)");
			}
			if ((size_t)n < want)
				break;
		}
	}
	fclose(maps);
	close(mem);
	return found;
}

Test(http_egress, no_token_left_in_memory_after_calls)
{
	size_t plen = 4096, blen = 1u << 20;
	char *region = mmap(NULL, plen + blen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0), *tok = region, *buf = region + plen, where[512];
	struct http_endpoint ep = { .name = "fake", .timeout_ms = 3000 };
	struct http_client *c;
	struct http_resp resp;
	struct tool_err err;
	struct fake f;
	size_t tl;

	cr_assert_neq(region, MAP_FAILED);
	/* made at run time: the whole token is in no string literal */
	snprintf(tok, plen, "tok-%d-%lx-%s", (int)getpid(), (unsigned long)time(NULL),
	    "5c2f0a9e61d84b3f");
	tl = strlen(tok);
	cr_assert_eq(fake_start(&f, "fake_http.py", NULL), 0);
	ep.url = f.url;
	cr_assert_eq(http_client_new(NULL, NULL, &c), 0);
	{
		/* the scan sees a copy where one is */
		char *copy = strdup(tok);

		cr_assert_geq(scan_memory(tok, tl, region, plen + blen, buf, blen, where,
		    sizeof(where)), 1, "the scan does not see a heap copy of the token");
		explicit_bzero(copy, tl);
		free(copy);
	}
	for (int i = 0; i < 3; i++) {
		struct http_req req;

		http_req_init(&req, i == 1 ? "POST" : "GET");
		http_path_add(&req, "/v1/echo");
		req.flags = i == 1 ? 0 : HTTP_F_IDEMPOTENT;
		http_cred_add(&req, "Authorization", "Bearer ", tok);
		cr_expect_eq(http_client_do(c, &ep, &req, 0, &resp, &err), 0, "%s", err.text);
		http_resp_clear(&resp);
		http_req_wipe(&req);
	}
	cr_expect_eq(scan_memory(tok, tl, region, plen + blen, buf, blen, where, sizeof(where)), 0,
	    "the token is still in memory with the client alive: %s", where);
	http_client_free(c);
	cr_expect_eq(scan_memory(tok, tl, region, plen + blen, buf, blen, where, sizeof(where)), 0,
	    "the token is still in memory after the client: %s", where);
	fake_stop(&f);
	munmap(region, plen + blen);
}
