/* Egress through a real corrald: an HTTP worker cannot reach the network by itself, and a
 * compromised worker cannot make corrald connect anywhere but to its own endpoint.
 *
 * - The live worker's network namespace (setns from the test, as root) has only lo, down:
 *   a connect to the very fake the worker talks to fails.
 * - The same binary-level confinement (corral-jail --worker --profile http + the http seccomp
 *   filter, applied the way corral-worker applies it) kills or refuses every inet socket: this
 *   test binary re-executes itself as the probe inside the jail.
 * - A compromised worker: the test takes the worker's own broker channel (fd 3, duplicated with
 *   pidfd_getfd(2), which root may do to any process) and speaks the broker protocol on it
 *   with the worker-side library call (brk_connect), exactly as code running inside the worker
 *   could. No test hook exists in corrald: the requests arrive on the real channel of a real
 *   worker and are judged by the production egress code. Other hosts, ports, names, the
 *   metadata address and another tenant's endpoint are refused and audited; a listener the
 *   test owns never sees a connection; malformed datagrams kill the worker.
 * - A slow endpoint (its accept queue full, SYNs dropped) must not stall corrald for other
 *   callers, and the worker's channel stays usable afterwards.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/broker.h"
#include "ipc/err.h"
#include "tests/integration/httpfx.h"
#include "workers/sandbox.h"

#define UID_BASE 41300u

static struct hf X;

static void
teardown(void)
{
	hf_close(&X);
}

TestSuite(egress, .timeout = 90, .fini = teardown);

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- the probe (in the jail) */

/* connect(2) to 127.0.0.1:port with a bound wait; 0 or errno. */
static int
try_connect(int family, const char *addr, int port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd, e = 0;

	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		sl = sizeof(*a);
	}
	if ((fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		e = errno;
		if (e == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			socklen_t el = sizeof(e);

			e = poll(&p, 1, 1000) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 ? e : ETIMEDOUT;
		}
	}
	close(fd);
	return e;
}

/* argv: --netprobe MODE PORT. Prints one line; exit 0 when the action was refused, 10 when it
 * worked, 12 on setup failure. Modes after "own-filter" apply the http kind's seccomp filter
 * first, as corral-worker does after init. */
static int
netprobe(int argc, char **argv)
{
	const char *mode = argv[2];
	int port = atoi(argv[3]), e, fd;

	if (strcmp(mode, "connect") == 0) {
		e = try_connect(AF_INET, "127.0.0.1", port);
		printf("connect %s\n", e ? strerrorname_np(e) : "OK");
		return e ? 0 : 10;
	}
	if (strcmp(mode, "connect6") == 0) {
		e = try_connect(AF_INET6, "::1", port);
		printf("connect6 %s\n", e ? strerrorname_np(e) : "OK");
		return e ? 0 : 10;
	}
	fflush(stdout);
	if (sbx_seccomp_apply(SBX_HTTP, 0) < 0) {
		printf("setup: seccomp\n");
		return 12;
	}
	if (strcmp(mode, "inet") == 0)
		fd = socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(mode, "inet6") == 0)
		fd = socket(AF_INET6, SOCK_STREAM, 0);
	else if (strcmp(mode, "udp") == 0)
		fd = socket(AF_INET, SOCK_DGRAM, 0);
	else if (strcmp(mode, "packet") == 0)
		fd = socket(AF_PACKET, SOCK_RAW, 0);
	else
		return 12;
	printf("%s %s\n", mode, fd < 0 ? strerrorname_np(errno) : "OK");
	return fd < 0 ? 0 : 10;
}

int
main(int argc, char **argv)
{
	struct criterion_test_set *tests;
	int r = 0;

	if (argc == 4 && strcmp(argv[1], "--netprobe") == 0) {
		/* _exit: no exit-time work (LeakSanitizer's tracer cannot run in the jail) */
		r = netprobe(argc, argv);
		fflush(stdout);
		_exit(r);
	}
	tests = criterion_initialize();
	if (criterion_handle_args(argc, argv, true))
		r = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return r;
}

/* ---------------------------------------------------------------- helpers */

/* A TCP listener on 127.0.0.1 the test owns: the place a token must never reach. */
static int
listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 16), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static bool
has_pending(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, 200) == 1;
}

static size_t
count_violations(const char *host, int port)
{
	json_t *a = hf_audit(&X), *r;
	size_t i, n = 0;

	json_array_foreach(a, i, r) {
		const char *t = json_string_value(json_object_get(r, "type"));
		const char *h = json_string_value(json_object_get(r, "egress"));

		if (t && strcmp(t, "violation") == 0 && h && strcmp(h, host) == 0 &&
		    json_integer_value(json_object_get(r, "port")) == port)
			n++;
	}
	json_decref(a);
	return n;
}

/* ---------------------------------------------------------------- the worker's netns */

Test(egress, live_worker_netns_reaches_nothing)
{
	char path[64], buf[4096], line[256];
	struct stat a, b;
	pid_t pid, ch;
	int nsfd, pfd[2], st, port;
	FILE *f;
	size_t n0, nif = 0;

	hf_open(&X, UID_BASE, 1u << HF_ARGOCD, "5s", NULL, 0);
	port = X.fk[HF_ARGOCD].port;
	pid = hf_worker_pid(&X, "argocd@ta");
	cr_assert_gt(pid, 1);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	cr_assert_eq(stat(path, &a), 0);
	cr_assert_eq(stat("/proc/self/ns/net", &b), 0);
	cr_assert_neq(a.st_ino, b.st_ino, "the worker shares our network namespace");
	/* its interfaces, as the kernel lists them for its namespace */
	snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
	cr_assert_not_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f))
		if (strchr(line, ':') != NULL) {
			nif++;
			cr_assert_not_null(strstr(line, "lo:"), "an interface besides lo: %s", line);
		}
	fclose(f);
	cr_assert_eq(nif, 1);

	/* an active attempt from inside that namespace, at the fake the worker talks to */
	n0 = fake_count(&X.fk[HF_ARGOCD]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	cr_assert((nsfd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
	cr_assert_eq(pipe(pfd), 0);
	if ((ch = fork()) == 0) {
		struct ifreq ifr = { 0 };
		int s, e1, e2, e3, len;

		close(pfd[0]);
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(12);
		e1 = try_connect(AF_INET, "127.0.0.1", port);
		e2 = try_connect(AF_INET6, "::1", port);
		e3 = try_connect(AF_INET, "192.0.2.1", 80);	/* TEST-NET-1: any route at all? */
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
		s = socket(AF_INET, SOCK_DGRAM, 0);
		ioctl(s, SIOCGIFFLAGS, &ifr);
		len = snprintf(buf, sizeof(buf), "%d %d %d %d", e1, e2, e3,
		    (ifr.ifr_flags & IFF_UP) != 0);
		if (write(pfd[1], buf, (size_t)len) != len)
			_exit(12);
		_exit(0);
	}
	close(pfd[1]);
	close(nsfd);
	memset(buf, 0, sizeof(buf));
	cr_assert_gt(read(pfd[0], buf, sizeof(buf) - 1), 0);
	close(pfd[0]);
	waitpid(ch, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "setns failed");
	{
		int e1, e2, e3, up;

		cr_assert_eq(sscanf(buf, "%d %d %d %d", &e1, &e2, &e3, &up), 4);
		cr_assert_neq(e1, 0, "connected to 127.0.0.1:%d from the worker's netns", port);
		cr_assert_neq(e2, 0, "connected to [::1]:%d from the worker's netns", port);
		cr_assert_neq(e3, 0, "a route out of the worker's netns");
		cr_assert_eq(e1, ENETUNREACH, "connect: %s", strerrorname_np(e1));
		cr_assert_eq(up, 0, "lo is up in the worker's netns");
	}
	cr_assert_eq(fake_count(&X.fk[HF_ARGOCD]), n0);
	/* and the worker itself still reaches its endpoint, through corrald only */
	{
		struct hf_res r;

		hf_call(&X, HF_ARGOCD, "get_application", "{\"app_name\":\"guestbook\"}", &r);
		cr_assert_eq(r.rc, 0, "%s", r.out);
		hf_res_free(&r);
	}
}

/* ---------------------------------------------------------------- the jail's http profile */

Test(egress, jail_http_profile_refuses_every_socket)
{
	static const char *const modes[] = { "connect", "connect6", "inet", "inet6", "udp",
		"packet" };
	char self[512], portstr[16], uid[16];
	ssize_t n;
	int lport, lfd = listener(&lport);

	cr_assert((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0);
	self[n] = '\0';
	snprintf(portstr, sizeof(portstr), "%d", lport);
	snprintf(uid, sizeof(uid), "%u", UID_BASE + 90u);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *av[] = { hx_bin("corral-jail"), "--worker", "--profile", "http",
			"--uid", uid, "--gid", uid, "--rlimit-as", "unlimited", "--", self,
			"--netprobe", modes[i], portstr, NULL };
		char *out = NULL, *err = NULL;
		int rc = hf_run(av, &out, &err);

		/* 0: refused with an errno; 128+SIGSYS: the filter killed it. Never 10. */
		cr_assert(rc == 0 || rc == 128 + SIGSYS, "%s: exit %d: %s %s", modes[i], rc, out,
		    err);
		if (strcmp(modes[i], "connect") == 0)	/* lo is down: no route at all */
			cr_assert(rc == 0 && strstr(out, "ENETUNREACH"), "%s: %s", modes[i], out);
		free(out);
		free(err);
	}
	cr_assert(!has_pending(lfd), "a jailed probe reached the test's listener");
	close(lfd);
}

/* ---------------------------------------------------------------- a compromised worker */

/* The worker's broker channel (its fd 3), duplicated into this process. */
static int
steal_broker_fd(pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), fd, type = 0;
	socklen_t tl = sizeof(type);

	cr_assert(pidfd >= 0, "pidfd_open %d: %s", (int)pid, strerror(errno));
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, BRK_FD, 0);
	cr_assert(fd >= 0, "pidfd_getfd: %s", strerror(errno));
	close(pidfd);
	cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl), 0);
	cr_assert_eq(type, SOCK_SEQPACKET, "fd 3 of the worker is not the broker channel");
	return fd;
}

Test(egress, compromised_worker_gets_only_its_endpoint)
{
	char other_port[8];
	int lport, lfd = listener(&lport), chan, fd = -1, r, aport, gport;
	const struct { const char *host; int port; const char *why; } refused[] = {
		{ "127.0.0.1", lport, "a listener that is no endpoint" },
		{ "169.254.169.254", 80, "the cloud metadata address" },
		{ "localhost", 0, "the endpoint's address under another name" },
		{ "127.1", 0, "the endpoint's address spelt otherwise" },
		{ "::1", 0, "the endpoint's port on another address" },
		{ "127.0.0.1", 1, "the endpoint's host on another port" },
		{ "127.0.0.1", -1, "another tenant's endpoint" },
		{ "example.com", 443, "a public host" },
	};

	hf_open(&X, UID_BASE + 10u, (1u << HF_ARGOCD) | (1u << HF_GITHUB), "5s", NULL, 0);
	aport = X.fk[HF_ARGOCD].port;
	gport = X.fk[HF_GITHUB].port;
	snprintf(other_port, sizeof(other_port), "%d", gport);
	chan = steal_broker_fd(hf_worker_pid(&X, "argocd@ta"));

	/* the honest request works on this channel: the refusals below are judgements */
	r = brk_connect(chan, "127.0.0.1", (unsigned)aport, 5000, &fd);
	cr_assert_eq(r, 0, "the endpoint itself was refused: %s", err_name(r));
	{
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);

		cr_assert_eq(getpeername(fd, (struct sockaddr *)&peer, &pl), 0);
		cr_assert_eq(ntohs(peer.sin_port), aport);
		close(fd);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int port = refused[i].port == 0 ? aport : refused[i].port == -1 ? gport :
		    refused[i].port == 1 ? aport + 1 : refused[i].port;
		size_t v0 = count_violations(refused[i].host, port);

		fd = -1;
		r = brk_connect(chan, refused[i].host, (unsigned)port, 5000, &fd);
		cr_assert_eq(r, ERR_EGRESS, "%s (%s:%d): %s", refused[i].why, refused[i].host, port,
		    err_name(r));
		cr_assert_eq(fd, -1);
		cr_assert_eq(count_violations(refused[i].host, port), v0 + 1,
		    "%s: no violation record", refused[i].why);
	}
	cr_assert(!has_pending(lfd), "corrald connected to the test's listener");
	cr_assert_eq(fake_count(&X.fk[HF_GITHUB]), 0, "another tenant's endpoint was reached");
	close(lfd);

	/* a malformed datagram is a protocol violation: the worker is killed and audited */
	{
		struct brk_req bad = { .magic = 0xdeadbeef, .id = 9, .port = 80, .hostlen = 1,
			.host = "x" };
		json_t *st = NULL, *w;
		char *audit;

		cr_assert_eq(send(chan, &bad, sizeof(bad), 0), (ssize_t)sizeof(bad));
		w = hx_wait_state(&X.hx, "argocd@ta", "backoff", 5000, &st);
		cr_assert_not_null(w, "the worker was not killed for a malformed egress request");
		cr_assert_not_null(strstr(json_string_value(json_object_get(w, "last_reason")),
		    "malformed egress request"), "%s",
		    json_string_value(json_object_get(w, "last_reason")));
		json_decref(st);
		audit = hx_read(X.hx.audit);
		cr_assert_not_null(strstr(audit, "malformed egress request"));
		free(audit);
	}
	close(chan);
}

/* An endpoint whose host resolves to loopback, without allow_private: refused by corrald. */
Test(egress, internal_address_needs_allow_private)
{
	struct hf_res r;
	json_t *all, *oc;

	hf_open(&X, UID_BASE + 20u, 1u << HF_PROM, "5s", NULL, HF_NO_PRIVATE | HF_LOCALHOST);
	hf_call(&X, HF_PROM, "query", "{\"query\":\"up\"}", &r);
	cr_assert_eq(r.rc, 1, "%s", r.out);
	cr_assert_str_eq(r.code ? r.code : "(none)", "ERR_EGRESS", "%s", r.out);
	cr_assert_eq(fake_count(&X.fk[HF_PROM]), 0, "the fake was reached");
	cr_assert_geq(count_violations("localhost", X.fk[HF_PROM].port), 1,
	    "the refusal of an internal address is not audited");
	hf_audit_last(&X, "prometheus", "query", &oc, &all);
	cr_assert_str_eq(json_string_value(json_object_get(oc, "outcome")), "error");
	json_decref(all);
	hf_res_free(&r);
}

/* ---------------------------------------------------------------- a slow endpoint */

struct bg {
	pid_t pid;
	char out[64];
};

static void
bg_call(struct bg *b, const char *tool, const char *op, const char *args)
{
	const char *av[] = { hx_bin("corralctl"), "-s", X.hx.sock, "-o", "json", "call", tool, op,
		"--args", args, NULL };
	int fd;

	snprintf(b->out, sizeof(b->out), "/tmp/corral-bg-XXXXXX");
	cr_assert((fd = mkstemp(b->out)) >= 0);
	if ((b->pid = fork()) == 0) {
		dup2(fd, 1);
		execv(av[0], (char *const *)av);
		_exit(127);
	}
	close(fd);
}

static int
bg_wait(struct bg *b, char **out)
{
	int st;

	waitpid(b->pid, &st, 0);
	*out = hx_read(b->out);
	unlink(b->out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The prometheus fake stops accepting (SIGSTOP) and its accept queue is filled, so a connect
 * to it hangs in SYN_SENT. Meanwhile corrald must go on answering everyone else; the call
 * fails in bounded time; and once the endpoint is back, the same worker's next call works. */
Test(egress, slow_connect_does_not_stall_corrald)
{
	int fillers[24], nf = 0, rc;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct bg b;
	struct hf_res r;
	char *out = NULL;
	int64_t t0, dt, worst = 0;

	hf_open(&X, UID_BASE + 30u, (1u << HF_PROM) | (1u << HF_ARGOCD), "5s", NULL,
	    HF_CONNECT_1S);
	a.sin_port = htons((uint16_t)X.fk[HF_PROM].port);
	cr_assert_eq(kill(X.fk[HF_PROM].pid, SIGSTOP), 0);
	for (; nf < 24; nf++) {
		fillers[nf] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fillers[nf], (struct sockaddr *)&a, sizeof(a));
	}
	usleep(300000);
	t0 = now_ms();
	bg_call(&b, "prometheus@tp", "query", "{\"query\":\"up\"}");
	usleep(300000);
	/* corrald answers status and another tenant's call while the connect hangs */
	for (int i = 0; i < 3; i++) {
		int64_t s0 = now_ms();
		json_t *st = hx_status(&X.hx);

		cr_assert_not_null(st);
		json_decref(st);
		hf_call(&X, HF_ARGOCD, "get_application", "{\"app_name\":\"guestbook\"}", &r);
		cr_assert_eq(r.rc, 0, "%s", r.out);
		hf_res_free(&r);
		dt = now_ms() - s0;
		if (dt > worst)
			worst = dt;
	}
	rc = bg_wait(&b, &out);
	dt = now_ms() - t0;
	cr_assert_eq(rc, 1, "the call to a dead endpoint: exit %d: %s", rc, out);
	cr_assert_lt(dt, 8000, "the call to a dead endpoint took %lld ms", (long long)dt);
	/* a connect that ran out of time, not a refusal by policy */
	cr_assert_not_null(strstr(out, "timed out"), "%s", out);
	cr_assert_not_null(strstr(out, "\"ERR_TIMEOUT\""), "%s", out);
	cr_assert_null(strstr(out, "ERR_EGRESS"), "a timeout reported as a refusal: %s", out);
	free(out);
	for (int i = 0; i < nf; i++)
		close(fillers[i]);
	cr_assert_eq(kill(X.fk[HF_PROM].pid, SIGCONT), 0);
	cr_expect_lt(worst, 1000, "corrald stalled for %lld ms behind a hanging connect",
	    (long long)worst);
	/* the worker's broker channel is still in step */
	for (int i = 0; i < 2; i++) {
		hf_call(&X, HF_PROM, "query", "{\"query\":\"up\"}", &r);
		cr_assert_eq(r.rc, 0, "call %d after the dead endpoint came back: %s", i, r.out);
		hf_res_free(&r);
	}
}

/* ---------------------------------------------------------------- TLS with a private CA */

static const char *const tls_args[] = { "--tls", "tls/server.pem", "tls/server.key", NULL };

static char *
read_all(const char *path)
{
	char *t = hx_read(path);

	cr_assert_not_null(t, "%s", path);
	return t;
}

/* An https endpoint whose CA is a private one (ca_file in corral.yaml). The jailed worker
 * cannot open that file: corrald sends the certificates as text and the worker verifies with
 * them. The same server under another tenant whose ca_file holds another CA is refused. */
Test(egress, tls_endpoint_with_a_private_ca)
{
	char *ca = read_all(HARNESS_FAKES_DIR "/tls/ca.pem");
	char *other = read_all(HARNESS_FAKES_DIR "/kube-tls/cert.pem");
	char ca_path[300], other_path[300], body[4096], libexec[512], *out = NULL, *err = NULL;
	const char *av[] = { hx_bin("corralctl"), "-s", X.hx.sock, "-o", "json", "call",
		"prometheus@tq", "query", "--args", "{\"query\":\"up\"}", NULL };
	struct hf_res r;
	int rc, port;

	memset(&X, 0, sizeof(X));
	cr_assert_eq(fake_start(&X.fk[HF_PROM], "fake_prometheus.py", tls_args), 0);
	X.on[HF_PROM] = true;
	port = X.fk[HF_PROM].port;
	hx_config(&X.hx, "");	/* the directory; corral.yaml is written again below */
	snprintf(ca_path, sizeof(ca_path), "%s", hx_file(&X.hx, "ca.pem", ca, 0644));
	snprintf(other_path, sizeof(other_path), "%s", hx_file(&X.hx, "other.pem", other, 0644));
	hx_file(&X.hx, "p.token", hf_token(HF_PROM), 0600);
	snprintf(libexec, sizeof(libexec), "%s", hx_bin("corral-jail"));
	*strrchr(libexec, '/') = '\0';
	snprintf(body, sizeof(body), "runtime_dir: %s/run\nstate_dir: %s/state\nlibexec_dir: %s\n"
	    "tenants:\n  tp: { uid: %u }\n  tq: { uid: %u }\n"
	    "credentials:\n  - { name: cp, tenant: tp, source: \"file:p.token\" }\n"
	    "  - { name: cq, tenant: tq, source: \"file:p.token\" }\n"
	    "endpoints:\n  prometheus:\n"
	    "    - { name: e, tenant: tp, url: \"https://127.0.0.1:%d\", credential: cp, "
	    "allow_private: true, timeout: 5s, ca_file: \"%s\" }\n"
	    "    - { name: e, tenant: tq, url: \"https://127.0.0.1:%d\", credential: cq, "
	    "allow_private: true, timeout: 5s, ca_file: \"%s\" }\n"
	    "audit:\n  fsync: batch\n", X.hx.dir, X.hx.dir, libexec, UID_BASE + 41u, UID_BASE + 42u,
	    port, ca_path, port, other_path);
	hx_file(&X.hx, "corral.yaml", body, 0600);
	hx_start(&X.hx, 2);

	hf_call(&X, HF_PROM, "query", "{\"query\":\"up\"}", &r);
	cr_assert_eq(r.rc, 0, "the private CA did not reach the jailed worker: %s\n%s", r.out,
	    hx_read(X.hx.log));
	hf_res_free(&r);
	cr_assert_eq(fake_count(&X.fk[HF_PROM]), 1);

	rc = hf_run(av, &out, &err);
	cr_assert_eq(rc, 1, "another CA was accepted: %s", out);
	cr_assert_not_null(strstr(out, "\"ERR_PEER\""), "%s", out);
	cr_assert_eq(fake_count(&X.fk[HF_PROM]), 1, "a request went out unverified");
	/* the worker's OpenSSL frees through the wiping allocator (tools/http_pool.c) */
	{
		char *log = hx_read(X.hx.log);

		cr_expect(strstr(log, "corral-worker: OpenSSL's buffers are not wiped") == NULL,
		    "%s", log);
		free(log);
	}
	free(out);
	free(err);
	free(ca);
	free(other);
}

/* ---------------------------------------------------------------- a slow resolver */

/* A DNS server on a loopback address of its own (port 53, root), answering every A query with
 * 127.0.0.1 and every other query with no records, each after delay_ms, or never. */
struct dns {
	int fd;
	char addr[32];
	int delay_ms;
	bool answer;
	bool stop;
	unsigned queries;
	pthread_mutex_t mu;
	pthread_t th;
};

static size_t
dns_reply(const uint8_t *q, size_t n, uint8_t *out)
{
	size_t o = 12, end;
	uint16_t qtype;
	static const uint8_t a_rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1 };

	while (o < n && q[o] != 0)
		o += (size_t)q[o] + 1;
	if (n < 12 || o + 5 > n)
		return 0;
	end = o + 5;
	qtype = (uint16_t)(q[o + 1] << 8 | q[o + 2]);
	memcpy(out, q, end);
	out[2] = (uint8_t)(0x84 | (q[2] & 0x01));	/* QR, AA, RD as asked */
	out[3] = 0x80;					/* RA, NOERROR */
	out[4] = 0, out[5] = 1;
	out[6] = 0, out[7] = qtype == 1;
	memset(out + 8, 0, 4);
	if (qtype != 1)
		return end;
	memcpy(out + end, a_rr, sizeof(a_rr));
	return end + sizeof(a_rr);
}

static void *
dns_run(void *arg)
{
	struct dns *d = arg;
	struct { uint8_t q[512]; size_t n; struct sockaddr_in from; int64_t due; } pend[16];
	int np = 0;

	for (;;) {
		struct pollfd p = { .fd = d->fd, .events = POLLIN };
		bool stop, answer;
		int delay;

		pthread_mutex_lock(&d->mu);
		stop = d->stop;
		pthread_mutex_unlock(&d->mu);
		if (stop)
			return NULL;
		if (poll(&p, 1, 20) == 1 && np < 16) {
			socklen_t fl = sizeof(pend[np].from);
			ssize_t n = recvfrom(d->fd, pend[np].q, sizeof(pend[np].q), 0,
			    (struct sockaddr *)&pend[np].from, &fl);

			pthread_mutex_lock(&d->mu);	/* the mode when the query came */
			d->queries++;
			answer = d->answer, delay = d->delay_ms;
			pthread_mutex_unlock(&d->mu);
			if (n > 0 && answer) {
				pend[np].n = (size_t)n;
				pend[np++].due = now_ms() + delay;
			}
		}
		for (int i = 0; i < np; i++) {
			uint8_t out[600];
			size_t len;

			if (pend[i].due > now_ms())
				continue;
			if ((len = dns_reply(pend[i].q, pend[i].n, out)) > 0)
				sendto(d->fd, out, len, 0, (struct sockaddr *)&pend[i].from,
				    sizeof(pend[i].from));
			pend[i--] = pend[--np];
		}
	}
}

static void
dns_start(struct dns *d, int delay_ms, bool answer)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
	unsigned p = (unsigned)getpid();

	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->mu, NULL);
	d->delay_ms = delay_ms;
	d->answer = answer;
	/* an address of our own on lo: parallel tests and other builds do not collide */
	snprintf(d->addr, sizeof(d->addr), "127.53.%u.%u", (p >> 8) & 0xff, 1 + p % 254);
	inet_pton(AF_INET, d->addr, &a.sin_addr);
	cr_assert((d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
	cr_assert_eq(bind(d->fd, (struct sockaddr *)&a, sizeof(a)), 0, "bind %s:53: %s", d->addr,
	    strerror(errno));
	cr_assert_eq(pthread_create(&d->th, NULL, dns_run, d), 0);
}

static void
dns_set(struct dns *d, int delay_ms, bool answer)
{
	pthread_mutex_lock(&d->mu);
	d->delay_ms = delay_ms;
	d->answer = answer;
	pthread_mutex_unlock(&d->mu);
}

static unsigned
dns_queries(struct dns *d)
{
	unsigned n;

	pthread_mutex_lock(&d->mu);
	n = d->queries;
	pthread_mutex_unlock(&d->mu);
	return n;
}

static void
dns_stop(struct dns *d)
{
	pthread_mutex_lock(&d->mu);
	d->stop = true;
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->th, NULL);
	close(d->fd);
}

/* This test process (and corrald, its child) resolve through d only: a mount namespace of its
 * own with /etc/resolv.conf naming d and an /etc/hosts without "localhost", the name the
 * endpoints use (HF_LOCALHOST). Nothing outside this process sees the change. */
static void
resolve_through(const struct dns *d)
{
	char dir[] = "/tmp/corral-dns-XXXXXX", conf[64], hosts[64], text[128];
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/resolv.conf", dir);
	snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
	snprintf(text, sizeof(text), "nameserver %s\noptions timeout:5 attempts:1\n", d->addr);
	cr_assert_not_null(f = fopen(conf, "w"));
	fputs(text, f);
	fclose(f);
	cr_assert_not_null(f = fopen(hosts, "w"));
	fputs("127.0.0.1 corral-test-loopback\n", f);
	fclose(f);
	chmod(dir, 0755);
	chmod(conf, 0644);
	chmod(hosts, 0644);
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert_eq(mount(conf, "/etc/resolv.conf", NULL, MS_BIND, NULL), 0, "%s",
	    strerror(errno));
	cr_assert_eq(mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL), 0, "%s", strerror(errno));
	unlink(conf);
	unlink(hosts);
	rmdir(dir);
}

/* The worst latency of three status requests to corrald, ms. */
static int64_t
status_worst(void)
{
	int64_t worst = 0;

	for (int i = 0; i < 3; i++) {
		int64_t s0 = now_ms(), dt;
		json_t *st = hx_status(&X.hx);

		cr_assert_not_null(st);
		json_decref(st);
		if ((dt = now_ms() - s0) > worst)
			worst = dt;
	}
	return worst;
}

/* The endpoint's name takes 2 s to resolve. corrald looks it up off its loop: it goes on
 * answering meanwhile, and the call then succeeds with the address the resolver gave. */
Test(egress, slow_name_lookup_does_not_stall_corrald)
{
	struct dns d;
	struct bg b;
	char *out = NULL;
	int64_t t0, dt, worst;
	int rc;

	dns_start(&d, 2000, true);
	resolve_through(&d);
	hf_open(&X, UID_BASE + 50u, 1u << HF_PROM, "5s", NULL, HF_LOCALHOST);
	t0 = now_ms();
	bg_call(&b, "prometheus@tp", "query", "{\"query\":\"up\"}");
	usleep(300000);
	worst = status_worst();
	rc = bg_wait(&b, &out);
	dt = now_ms() - t0;
	cr_assert_eq(rc, 0, "the call through the slowly resolved name: exit %d: %s", rc, out);
	cr_assert_geq(dns_queries(&d), 1, "the resolver was not asked");
	cr_assert_geq(dt, 1800, "the call took %lld ms: the name was not looked up slowly",
	    (long long)dt);
	cr_assert_lt(worst, 1000, "corrald stalled %lld ms behind a name lookup",
	    (long long)worst);
	free(out);
	dns_stop(&d);
}

/* The resolver never answers: the connect budget (1 s) ends the request with a timeout, not a
 * refusal by policy; corrald answers meanwhile; once the resolver is back, the same worker's
 * next call works (its broker channel is still in step). */
Test(egress, dead_resolver_is_a_timeout)
{
	struct dns d;
	struct bg b;
	struct hf_res r;
	char *out = NULL;
	int64_t t0, dt, worst;
	int rc;

	dns_start(&d, 0, false);
	resolve_through(&d);
	hf_open(&X, UID_BASE + 60u, 1u << HF_PROM, "5s", NULL, HF_LOCALHOST | HF_CONNECT_1S);
	t0 = now_ms();
	bg_call(&b, "prometheus@tp", "query", "{\"query\":\"up\"}");
	usleep(200000);
	worst = status_worst();
	rc = bg_wait(&b, &out);
	dt = now_ms() - t0;
	cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
	cr_assert_not_null(strstr(out, "\"ERR_TIMEOUT\""), "%s", out);
	cr_assert_null(strstr(out, "ERR_EGRESS"), "%s", out);
	cr_assert_lt(dt, 4000, "the call took %lld ms", (long long)dt);
	cr_assert_geq(dns_queries(&d), 1, "the resolver was not asked");
	cr_assert_lt(worst, 1000, "corrald stalled %lld ms behind a name lookup",
	    (long long)worst);
	cr_assert_eq(count_violations("localhost", X.fk[HF_PROM].port), 0,
	    "a timeout was audited as a violation");
	free(out);
	dns_set(&d, 0, true);
	hf_call(&X, HF_PROM, "query", "{\"query\":\"up\"}", &r);
	cr_assert_eq(r.rc, 0, "after the resolver came back: %s\n%s", r.out, hx_read(X.hx.log));
	hf_res_free(&r);
	dns_stop(&d);
}
