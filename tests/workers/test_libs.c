/* The allow-lists against the real libraries our workers use after lock-down: libcurl over a
 * socket passed in (as the egress broker does) under the HTTP and model kinds, and nng
 * req/rep over the worker's ipc socket under the agent, HTTP and exec kinds. Each probe runs
 * in corral-jail (--worker) and applies its kind's filter after init, like a worker. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/workers/jailrun.h"

/* --- a one-shot HTTP server on loopback ------------------------------------------------ */

struct http_srv {
	int lfd;
	char req[2048];
};

static void *
http_serve(void *p)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n"
		"Connection: close\r\n\r\npong";
	struct http_srv *s = p;
	size_t len = 0;
	ssize_t n;
	int c = accept(s->lfd, NULL, NULL);

	if (c < 0)
		return NULL;
	while (len < sizeof(s->req) - 1 && !strstr(s->req, "\r\n\r\n") &&
	    (n = read(c, s->req + len, sizeof(s->req) - 1 - len)) > 0) {
		len += (size_t)n;
		s->req[len] = '\0';
	}
	if (write(c, reply, sizeof(reply) - 1) < 0) {
		/* the test's assertions on the probe's output report it */
	}
	close(c);
	return NULL;
}

/* A listener and a client already connected to it: what the broker would pass. */
static int
connected_pair(struct http_srv *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int c;

	cr_assert((s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	cr_assert(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s->lfd, 4) == 0);
	cr_assert(getsockname(s->lfd, (struct sockaddr *)&a, &al) == 0);
	cr_assert((c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	cr_assert(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
	return c;
}

Test(libs, curl_over_a_passed_socket_under_http_kinds)
{
	static const char *const modes[][2] = { { "http", "http" }, { "model", "model" },
		{ "http", "jailed" } };

	need_root();
	for (size_t i = 0; i < 3; i++) {
		struct http_srv srv = { .lfd = -1 };
		struct spawn s = { .keep_fd = -1, .leak_fd = -1, .raw = true };
		struct run r;
		pthread_t th;
		char keep[16];
		int c = connected_pair(&srv);

		snprintf(keep, sizeof(keep), "%d", c);
		cr_assert(pthread_create(&th, NULL, http_serve, &srv) == 0);
		s.keep_fd = c;
		s.jail[0] = "--profile", s.jail[1] = modes[i][0], s.jail[2] = "--uid";
		s.jail[3] = "41001", s.jail[4] = "--keep-fd", s.jail[5] = keep;
		s.jail[6] = strcmp(modes[i][1], "jailed") ? "--worker" : NULL;
		s.prog[0] = env_path("CORRAL_PROBE_LIBS");
		s.prog[1] = modes[i][1];
		s.prog[2] = "curl_get";
		run_spawn(&s, &r);
		close(c);
		shutdown(srv.lfd, SHUT_RDWR);
		pthread_join(th, NULL);
		close(srv.lfd);
		cr_expect(strcmp(r.out, "status 200 body pong\n") == 0, "stdout: %s", r.out);
		cr_expect_eq(r.code, 0, "%s/%s: %s%s%s", modes[i][0], modes[i][1], r.out, r.st, r.err);
		cr_expect(strncmp(srv.req, "GET /ping HTTP/1.1\r\n", 20) == 0, "%s", srv.req);
		cr_expect(strstr(srv.req, "\r\nHost: api.example:8080\r\n"), "%s", srv.req);
	}
}

/* --- nng rep on the worker's private socket dir ------------------------------------------ */

struct rep_srv {
	nng_socket sock;
	int served;
};

static void *
rep_serve(void *p)
{
	struct rep_srv *s = p;
	char *buf;
	size_t len;

	while (nng_recv(s->sock, &buf, &len, NNG_FLAG_ALLOC) == 0) {
		bool ping = len == 5 && memcmp(buf, "ping", 5) == 0;

		nng_free(buf, len);
		if (nng_send(s->sock, ping ? "pong" : "what", 5, 0) == 0)
			s->served++;
	}
	return NULL;
}

Test(libs, nng_over_the_worker_socket_under_every_kind)
{
	static const char *const kinds[] = { "agent", "http", "model", "exec" };
	char dir[] = "/tmp/corral-h2-nngXXXXXX", url[96], path[80], rw[80];
	struct rep_srv srv = { .served = 0 };
	pthread_t th;

	need_root();
	cr_assert(mkdtemp(dir));
	cr_assert(chown(dir, TENANT_UID, TENANT_UID) == 0);
	snprintf(url, sizeof(url), "ipc://%s/sock", dir);
	snprintf(path, sizeof(path), "%s/sock", dir);
	snprintf(rw, sizeof(rw), "%s:/ipc", dir);
	cr_assert(nng_rep0_open(&srv.sock) == 0);
	cr_assert(nng_setopt_ms(srv.sock, NNG_OPT_RECVTIMEO, 15000) == 0);
	cr_assert(nng_listen(srv.sock, url, NULL, 0) == 0);
	cr_assert(chown(path, TENANT_UID, TENANT_UID) == 0);
	cr_assert(pthread_create(&th, NULL, rep_serve, &srv) == 0);
	for (size_t i = 0; i < 4; i++) {
		struct spawn s = { .keep_fd = -1, .leak_fd = -1, .raw = true,
			.jail = { "--profile", kinds[i], "--uid", "41001", "--worker", "--bind-rw", rw },
			.prog = { env_path("CORRAL_PROBE_LIBS"), kinds[i], "nng_req" } };
		struct run r;

		run_spawn(&s, &r);
		cr_expect(strcmp(r.out, "reply pong\n") == 0, "stdout: %s", r.out);
		cr_expect_eq(r.code, 0, "%s: %s%s%s", kinds[i], r.out, r.st, r.err);
	}
	nng_close(srv.sock);
	pthread_join(th, NULL);
	cr_expect_eq(srv.served, 4);
	unlink(path);
	rmdir(dir);
}
