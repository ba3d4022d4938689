/* The baseline of the call rows: a bare two-hop nng relay of the same bytes. Clients (threads of
 * the benchmark process, one connection each, like agents) send the CALL frame an agent sends;
 * the relay process (one epoll loop, listening on one socket per client like corrald) forwards
 * it to the echo process (dialling in like a worker), which answers with the RESULT frame the
 * echo worker would; the relay forwards that back. Same transport (ipc/conn.c: nng PAIR over
 * ipc:// with the peer check), no decoding, no policy, no audit.
 *
 *   bench_main --role relay DIR NCLIENTS CLIENT_PID     (listens DIR/cN, DIR/s; starts echo)
 *   bench_main --role echo SOCKET
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/conn.h"
#include "ipc/err.h"
#include "ipc/msg.h"
#include "tests/bench/bench.h"

#define RELAY_CLIENTS_MAX	128
#define FIFO_MAX		4096

static const char call_args[] = "{\"msg\":\"x\"}";
static const char reply_json[] = "{\"dry_run\":false,\"msg\":\"x\"}";

static int
frame(enum msg_type t, uint8_t **buf, size_t *len)
{
	struct msg m = { .type = t, .id = 1 };

	if (t == MSG_CALL) {
		m.tool = "echo";
		m.op = "echo";
		m.args = (char *)call_args;
	} else {
		m.result = (char *)reply_json;
	}
	return msg_encode(&m, buf, len);
}

static int
role_echo(const char *sock)
{
	struct ipc_conn *c;
	uint8_t *reply, *in;
	size_t rlen, n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (frame(MSG_RESULT, &reply, &rlen) < 0 || ipc_dial(sock, 5000, &c) < 0)
		return 1;
	while (ipc_recv_raw(c, &in, &n, 0) == 0) {
		free(in);
		if (ipc_send_raw(c, reply, rlen, 0) < 0)
			break;
	}
	return 0;
}

struct relay {
	struct ipc_conn *cl[RELAY_CLIENTS_MAX], *srv;
	int n;
	int fifo[FIFO_MAX];
	unsigned head, tail;
};

static void
relay_loop(struct relay *r, int ep)
{
	struct epoll_event evs[64];

	for (;;) {
		int k = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < k; i++) {
			int who = (int)evs[i].data.u32;
			struct ipc_conn *c = who < 0 || who >= r->n ? r->srv : r->cl[who];

			for (int m = 0; m < 64; m++) {
				uint8_t *buf;
				size_t len;

				if (ipc_recv_raw(c, &buf, &len, IPC_NONBLOCK) < 0)
					break;
				if (c == r->srv) {
					int to = r->fifo[r->tail++ % FIFO_MAX];

					ipc_send_raw(r->cl[to], buf, len, IPC_NONBLOCK);
				} else {
					r->fifo[r->head++ % FIFO_MAX] = who;
					ipc_send_raw(r->srv, buf, len, IPC_NONBLOCK);
				}
				free(buf);
			}
		}
	}
}

static int
role_relay(const char *dir, int n, pid_t client)
{
	static struct relay r;
	char path[512], self[4096];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	pid_t echo;
	ssize_t sl;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (n < 1 || n > RELAY_CLIENTS_MAX || ep < 0)
		return 1;
	r.n = n;
	for (int i = 0; i <= n; i++) {
		struct ipc_conn **c = i < n ? &r.cl[i] : &r.srv;
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(i < n ? i : 0xffff) };

		snprintf(path, sizeof(path), i < n ? "%s/c%d" : "%s/s", dir, i);
		if (ipc_listen(path, c) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ipc_conn_pollfd(*c),
		    &ev) < 0)
			return 1;
		if (i < n)
			ipc_conn_expect(*c, client, geteuid());
	}
	if ((sl = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return 1;
	self[sl] = '\0';
	snprintf(path, sizeof(path), "%s/s", dir);
	if ((echo = fork()) == 0) {
		execl(self, self, "--role", "echo", path, (char *)NULL);
		_exit(127);
	}
	ipc_conn_expect(r.srv, echo, geteuid());
	relay_loop(&r, ep);
	return 0;
}

int
bench_relay_role(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[2], "echo") == 0)
		return role_echo(argv[3]);
	if (argc >= 6 && strcmp(argv[2], "relay") == 0)
		return role_relay(argv[3], atoi(argv[4]), (pid_t)atoi(argv[5]));
	fprintf(stderr, "bench_main --role relay DIR N PID | echo SOCKET\n");
	return 2;
}

/* ---------------------------------------------------------------- the client side */

struct client {
	pthread_t th;
	struct ipc_conn *c;
	const uint8_t *call;
	size_t clen;
	int64_t end_ns;
	long warmup, calls;		/* calls > 0: exactly that many, timed each */
	int64_t *lat;
	long n;
	int64_t t_first, t_last;	/* the measured window */
	bool failed;
};

static void *
client_main(void *arg)
{
	struct client *cl = arg;

	for (long i = 0; i < cl->warmup + cl->calls || (cl->calls == 0 &&
	    bench_now_ns() < cl->end_ns); i++) {
		uint8_t *in;
		size_t n;
		int64_t t0 = bench_now_ns();

		if (ipc_send_raw(cl->c, cl->call, cl->clen, 0) < 0 ||
		    ipc_recv_raw(cl->c, &in, &n, 0) < 0) {
			cl->failed = true;
			break;
		}
		free(in);
		if (i == cl->warmup)
			cl->t_first = t0;
		if (i >= cl->warmup) {
			cl->t_last = bench_now_ns();
			if (cl->lat)
				cl->lat[cl->n] = cl->t_last - t0;
			cl->n++;
		}
	}
	return NULL;
}

/* One relay with nc clients: latency (calls > 0, first client only) or throughput (seconds). */
static int
relay_run(int nc, long calls, double seconds, int64_t *lat, double *tput)
{
	static struct client cls[RELAY_CLIENTS_MAX];
	char dir[] = "/tmp/corral-bench-relay-XXXXXX", path[600], n_s[16], pid_s[16], self[4096];
	uint8_t *call;
	size_t clen;
	pid_t relay;
	ssize_t sl;
	double rate = 0;
	int rc = 0;

	if (mkdtemp(dir) == NULL || frame(MSG_CALL, &call, &clen) < 0 ||
	    (sl = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return -1;
	self[sl] = '\0';
	snprintf(n_s, sizeof(n_s), "%d", nc);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)getpid());
	if ((relay = fork()) == 0) {
		execl(self, self, "--role", "relay", dir, n_s, pid_s, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < nc; i++) {
		cls[i] = (struct client){ .call = call, .clen = clen, .warmup = 200 };
		snprintf(path, sizeof(path), "%s/c%d", dir, i);
		if (ipc_dial(path, 5000, &cls[i].c) < 0)
			rc = -1;
	}
	for (int i = 0; rc == 0 && i < nc; i++) {
		cls[i].calls = calls;
		cls[i].lat = i == 0 ? lat : NULL;
		cls[i].end_ns = bench_now_ns() + (int64_t)(seconds * 1e9) + 200000000;
		pthread_create(&cls[i].th, NULL, client_main, &cls[i]);
	}
	for (int i = 0; rc == 0 && i < nc; i++) {
		pthread_join(cls[i].th, NULL);
		if (cls[i].n > 0 && cls[i].t_last > cls[i].t_first)
			rate += (double)cls[i].n * 1e9 / (double)(cls[i].t_last - cls[i].t_first);
		rc |= cls[i].failed ? -1 : 0;
	}
	for (int i = 0; i < nc; i++)
		ipc_close(cls[i].c);
	kill(relay, SIGKILL);
	waitpid(relay, NULL, 0);
	if (tput)
		*tput = rate;	/* the clients' rates added: they run over the same window */
	free(call);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		rc = -1;
	return rc;
}

void
bench_relay_rows(const struct opts *o, double *p50_us, double *p99_us, double *tput,
    const int *conc, int nconc)
{
	long calls = o->quick ? 5000 : 20000;
	int64_t *lat = calloc((size_t)calls, sizeof(*lat));

	*p50_us = *p99_us = -1;
	if (lat && relay_run(1, calls, 0, lat, NULL) == 0) {
		qsort(lat, (size_t)calls, sizeof(*lat), cmp_i64);
		*p50_us = (double)lat[calls / 2] / 1e3;
		*p99_us = (double)lat[calls * 99 / 100] / 1e3;
	}
	free(lat);
	for (int i = 0; i < nconc; i++)
		if (relay_run(conc[i], 0, o->quick ? 1.0 : 2.0, NULL, &tput[i]) < 0)
			tput[i] = -1;
	bench_log("relay: p50 %.1f us, p99 %.1f us", *p50_us, *p99_us);
}

/* ---------------------------------------------------------------- the transport alone */

/* The same relay over plain AF_UNIX SOCK_SEQPACKET pairs and one epoll loop, without nng: what
 * the 2-hop relay costs when each message is one sendmsg/recvmsg. Children only read, write and
 * epoll (no nng, no allocation across the fork). Returns the p50 in us, or -1. */
static void
useq_echo(int fd)
{
	uint8_t buf[4096], *reply;
	size_t rlen;

	if (frame(MSG_RESULT, &reply, &rlen) < 0)
		_exit(1);
	while (read(fd, buf, sizeof(buf)) > 0)
		if (write(fd, reply, rlen) != (ssize_t)rlen)
			break;
	_exit(0);
}

static void
useq_relay(int cfd, int sfd)
{
	uint8_t buf[4096];
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = cfd }, evs[4];

	epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	for (;;) {
		int k = epoll_wait(ep, evs, 4, -1);

		for (int i = 0; i < k; i++) {
			int from = evs[i].data.fd;
			ssize_t n = read(from, buf, sizeof(buf));

			if (n <= 0)
				_exit(0);
			if (write(from == cfd ? sfd : cfd, buf, (size_t)n) != n)
				_exit(1);
		}
	}
}

static double
useq_p50(long calls)
{
	int cs[2], ss[2];
	pid_t relay, echo;
	uint8_t *call, buf[4096];
	size_t clen;
	int64_t *lat = calloc((size_t)calls, sizeof(*lat));
	double p50 = -1;
	long i;

	if (lat == NULL || frame(MSG_CALL, &call, &clen) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cs) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ss) < 0)
		return -1;
	if ((echo = fork()) == 0)
		useq_echo(ss[1]);
	if ((relay = fork()) == 0)
		useq_relay(cs[1], ss[0]);
	for (i = -200; i < calls; i++) {
		int64_t t0 = bench_now_ns();

		if (write(cs[0], call, clen) != (ssize_t)clen || read(cs[0], buf, sizeof(buf)) <= 0)
			break;
		if (i >= 0)
			lat[i] = bench_now_ns() - t0;
	}
	if (i == calls) {
		qsort(lat, (size_t)calls, sizeof(*lat), cmp_i64);
		p50 = (double)lat[calls / 2] / 1e3;
	}
	kill(relay, SIGKILL);
	kill(echo, SIGKILL);
	waitpid(relay, NULL, 0);
	waitpid(echo, NULL, 0);
	for (int k = 0; k < 2; k++) {
		close(cs[k]);
		close(ss[k]);
	}
	free(call);
	free(lat);
	return p50;
}

void
bench_transport_row(const struct opts *o, double nng_p50)
{
	double p50 = useq_p50(o->quick ? 5000 : 20000);

	if (p50 <= 0 || nng_p50 <= 0)
		row_na("1c", "2-hop relay over AF_UNIX seqpacket p50", "did not run");
	else
		row_add("1c", "2-hop relay, AF_UNIX seqpacket, no nng, p50", p50, "us",
		    "bare 2-hop nng relay p50", nng_p50, "", V_NONE,
		    "what the transport alone costs (docs/PERFORMANCE.md, findings)");
}
