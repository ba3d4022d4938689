/* corrald's operations face end to end: a real corrald with real confined workers.
 *   - readiness: a fake service manager on $NOTIFY_SOCKET gets READY=1 only once the control
 *     socket answers and the workers are spawned, RELOADING=1/READY=1 around SIGHUP, STOPPING=1
 *     on SIGTERM, all from corrald's pid; with $JOURNAL_STREAM every line has its priority;
 *   - metrics: the textfile counts calls by family/op/decision/outcome, durations, deaths,
 *     restarts, violations, reloads, dropped worker lines; it parses as exposition text;
 *   - logs: one line per call tagged with worker, tenant and call id;
 *   - canary: a credential value, and the texts a worker could leak it in, never reach the log
 *     or the metrics (the forwarded worker lines are redacted). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "supervisor/cred.h"
#include "tests/integration/harness.h"
#include "tests/ops/expo.h"

static struct hx h;

static void
teardown(void)
{
	hx_cleanup(&h);
}

TestSuite(ops, .timeout = 60, .fini = teardown);

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
ctl(const char *const *argv)
{
	char *out = NULL;
	int r = hx_ctl(&h, &out, argv);

	free(out);
	return r;
}

/* ---------------------------------------------------------------- a fake service manager */

static int
mgr_open(char *name, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	cr_assert_geq(fd, 0);
	snprintf(name, len, "@corral-ops-it-%d", (int)getpid());
	memcpy(sa.sun_path, name, strlen(name));
	sa.sun_path[0] = '\0';
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name))), 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	return fd;
}

/* The next datagram within timeout_ms (buf NUL-terminated), asserting it came from pid. */
static bool
mgr_next(int fd, pid_t pid, char *buf, size_t size, int timeout_ms)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct iovec iov = { buf, size - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cm,
		.msg_controllen = sizeof(cm) };
	pid_t from = 0;
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1 || (n = recvmsg(fd, &mh, 0)) < 0)
		return false;
	buf[n] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_type == SCM_CREDENTIALS)
			from = ((struct ucred *)CMSG_DATA(c))->pid;
	cr_assert_eq(from, pid, "datagram from pid %d, not corrald's %d: %s", (int)from, (int)pid,
	    buf);
	return true;
}

/* Skip STATUS-only datagrams until one starting with want arrives. */
static void
mgr_expect(int fd, pid_t pid, const char *want, char *buf, size_t size)
{
	int64_t end = now_ms() + 10000;

	while (now_ms() < end) {
		cr_assert(mgr_next(fd, pid, buf, size, (int)(end - now_ms())), "no %s", want);
		if (strncmp(buf, want, strlen(want)) == 0)
			return;
		cr_assert(strncmp(buf, "STATUS=", 7) == 0, "expected %s, got %s", want, buf);
	}
	cr_assert_fail("no %s in time", want);
}

/* Each test has its own tenant uid: RLIMIT_NPROC counts a uid's threads host-wide, and
 * another suite's leftover workers must not starve these. */
#define BASE_CFG(uid) \
    "tenants:\n" \
    "  demo:\n" \
    "    uid: " #uid "\n" \
    "    families: [echo]\n" \
    "audit:\n" \
    "  fsync: batch\n"

/* corrald started by hand: NOTIFY_SOCKET and JOURNAL_STREAM in its environment. */
static pid_t
start_notified(const char *notify)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(h.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		struct stat st;
		char js[64];

		fstat(fd, &st);
		snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		    (unsigned long long)st.st_ino);
		setenv("NOTIFY_SOCKET", notify, 1);
		setenv("JOURNAL_STREAM", js, 1);
		dup2(fd, 2);
		execl(hx_bin("corrald"), "corrald", "-c", h.cfg, (char *)NULL);
		_exit(127);
	}
	return pid;
}

Test(ops, readiness_protocol)
{
	static const char *const status[] = { "-o", "json", "status", NULL };
	char name[108], buf[4096], want[128];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, cfd, st;
	char *out = NULL;
	pid_t pid;

	hx_config(&h, BASE_CFG(41411));
	fd = mgr_open(name, sizeof(name));
	h.pid = pid = start_notified(name);

	/* The first datagram is READY=1, and at that moment the control socket answers and the
	 * worker has been spawned. */
	cr_assert(mgr_next(fd, pid, buf, sizeof(buf), 15000), "no READY=1:\n%s", hx_read(h.log));
	snprintf(want, sizeof(want), "READY=1\nMAINPID=%d\nSTATUS=", (int)pid);
	cr_assert(strncmp(buf, want, strlen(want)) == 0, "%s", buf);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h.sock);
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0, "ctl: %s",
	    strerror(errno));
	close(cfd);
	cr_assert_eq(hx_ctl(&h, &out, status), 0);
	cr_assert(strstr(out, "\"echo@demo\"") && !strstr(out, "\"stopped\""), "%s", out);
	free(out);

	/* STATUS follows the worker to ready. */
	mgr_expect(fd, pid, "STATUS=1/1 workers ready, 0 calls in flight\n", buf, sizeof(buf));
	cr_assert_str_eq(buf, "STATUS=1/1 workers ready, 0 calls in flight\n");

	/* SIGHUP: RELOADING=1 with a timestamp, then READY=1 again. */
	kill(pid, SIGHUP);
	mgr_expect(fd, pid, "RELOADING=1\nMONOTONIC_USEC=", buf, sizeof(buf));
	cr_assert(strstr(buf, "\nSTATUS=reloading the configuration\n"), "%s", buf);
	mgr_expect(fd, pid, want, buf, sizeof(buf));

	/* corralctl reload says the same. */
	cr_assert_eq(ctl((const char *const[]){ "reload", NULL }), 0);
	mgr_expect(fd, pid, "RELOADING=1\n", buf, sizeof(buf));
	mgr_expect(fd, pid, want, buf, sizeof(buf));

	/* SIGTERM: STOPPING=1, then a clean exit. */
	kill(pid, SIGTERM);
	mgr_expect(fd, pid, "STOPPING=1\nSTATUS=stopping: draining 0 calls\n", buf, sizeof(buf));
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	h.pid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);

	/* stderr was "journald's": each line carries its priority prefix. */
	{
		char *log = hx_read(h.log), *save = NULL;
		int lines = 0;

		for (char *l = strtok_r(log, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			int prio = l[1] - '0';
			const char *lv = strstr(l, " level=");

			cr_assert(l[0] == '<' && l[2] == '>' && strncmp(l + 3, "ts=", 3) == 0, "%s", l);
			cr_assert_not_null(lv, "%s", l);
			cr_assert(!strncmp(lv + 7, prio == 6 ? "info " : prio == 5 ? "notice " :
			    prio == 4 ? "warn " : prio == 3 ? "error " : "?", 3), "%s", l);
			lines++;
		}
		cr_assert_gt(lines, 3);
		free(log);
	}
}

/* ---------------------------------------------------------------- metrics and call logs */

static char *
wait_metrics(const char *path, const char *series, double want)
{
	int64_t end = now_ms() + 8000;
	char *t = NULL;
	double v;

	while (now_ms() < end) {
		free(t);
		t = hx_read(path);
		if (expo_value(t, series, &v) && v == want)
			return t;
		usleep(100000);
	}
	cr_assert_fail("%s never reached %g:\n%s", series, want, t);
	return NULL;
}

static void
expect_series(const char *t, const char *series, double want)
{
	double v = -1;

	cr_expect(expo_value(t, series, &v), "missing %s", series);
	cr_expect_eq(v, want, "%s = %g, want %g", series, v, want);
}

static void
wait_ready_again(unsigned restarts)
{
	int64_t end = now_ms() + 10000;

	while (now_ms() < end) {
		json_t *st = hx_status(&h), *w = st ? hx_worker(st, "echo@demo") : NULL;
		bool ok = w && !strcmp(json_string_value(json_object_get(w, "state")), "ready") &&
		    json_integer_value(json_object_get(w, "restarts")) == restarts;

		json_decref(st);
		if (ok)
			return;
		usleep(50000);
	}
	cr_assert_fail("echo@demo not ready again after %u restarts:\n%s", restarts, hx_read(h.log));
}

Test(ops, metrics_and_call_logs)
{
	static const char *const calls[][8] = {
		{ "call", "echo", "echo", "--args", "{\"msg\":\"one\"}", NULL },
		{ "call", "echo", "echo", "--args", "{\"msg\":\"two\"}", NULL },
		{ "call", "echo", "fail", "--args", "{}", NULL },
		{ "call", "echo", "nope", NULL },
		{ "call", "echo", "echo", "--args", "{}", NULL },
	};
	char cfg[1024], path[512];
	struct stat st;
	char *t, *log;

	snprintf(path, sizeof(path), "/tmp/corral-ops-metrics-%d", (int)getpid());
	mkdir(path, 0755);
	snprintf(cfg, sizeof(cfg), "%smetrics: { textfile: %s/corral.prom, interval: 1s }\n",
	    BASE_CFG(41412), path);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/corral.prom");
	hx_config(&h, cfg);
	hx_start(&h, 1);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		ctl(calls[i]);
	/* A worker death (exit), and a protocol violation (garbage on the wire), each restarted. */
	ctl((const char *const[]){ "call", "echo", "crash", "--args", "{\"how\":\"exit\"}", NULL });
	wait_ready_again(1);
	ctl((const char *const[]){ "call", "echo", "crash", "--args", "{\"how\":\"garbage\"}", NULL });
	wait_ready_again(2);
	kill(h.pid, SIGHUP);

	t = wait_metrics(path, "corral_config_reloads_total{result=\"ok\"}", 1);
	free(t);
	t = wait_metrics(path, "corral_worker_up{worker=\"echo@demo\",tenant=\"demo\",kind=\"http\"}",
	    1);
	cr_assert_gt(expo_check(t), 20);
	expect_series(t, "corral_calls_total{family=\"echo\",op=\"echo\",decision=\"allow\","
	    "outcome=\"ok\"}", 2);
	expect_series(t, "corral_calls_total{family=\"echo\",op=\"fail\",decision=\"allow\","
	    "outcome=\"error\"}", 1);
	expect_series(t, "corral_calls_total{family=\"unknown\",op=\"unknown\",decision=\"deny\","
	    "outcome=\"refused\"}", 1);
	expect_series(t, "corral_calls_total{family=\"echo\",op=\"echo\",decision=\"deny\","
	    "outcome=\"refused\"}", 1);
	{
		/* The exit is answered by the death; the garbage by the death or, when its ERROR
		 * frame is read first, by that error. */
		double died = 0, err = 0;

		expo_value(t, "corral_calls_total{family=\"echo\",op=\"crash\",decision=\"allow\","
		    "outcome=\"worker-died\"}", &died);
		expo_value(t, "corral_calls_total{family=\"echo\",op=\"crash\",decision=\"allow\","
		    "outcome=\"error\"}", &err);
		cr_expect(died >= 1 && died + err == 2, "crash calls: %g died, %g error", died, err);
	}
	expect_series(t, "corral_call_duration_seconds_count{family=\"echo\",op=\"echo\"}", 2);
	expect_series(t, "corral_call_duration_seconds_bucket{family=\"echo\",op=\"echo\","
	    "le=\"+Inf\"}", 2);
	expect_series(t, "corral_worker_deaths_total{worker=\"echo@demo\",tenant=\"demo\"}", 2);
	expect_series(t, "corral_worker_restarts_total{worker=\"echo@demo\",tenant=\"demo\"}", 2);
	expect_series(t, "corral_worker_violations_total{worker=\"echo@demo\",tenant=\"demo\","
	    "kind=\"protocol\"}", 1);
	expect_series(t, "corral_workers{state=\"ready\"}", 1);
	expect_series(t, "corral_calls_inflight", 0);
	expect_series(t, "corral_audit_healthy", 1);
	expect_series(t, "corral_approvals_pending{tenant=\"demo\"}", 0);
	expect_series(t, "corral_build_info{version=\"" CORRAL_VERSION "\"}", 1);
	expect_series(t, "corral_metrics_series_dropped_total", 0);
	cr_assert(strstr(t, "# TYPE corral_call_duration_seconds histogram\n"));
	free(t);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644);
	cr_assert_eq(hx_stop(&h), 0);

	/* One log line per call, each tagged; seven calls were made. */
	log = hx_read(h.log);
	{
		int ncall = 0;
		char *save = NULL;

		for (char *l = strtok_r(log, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			if (!strstr(l, " msg=\"call\" "))
				continue;
			ncall++;
			cr_assert(strstr(l, " tenant=demo ") && strstr(l, " principal=") &&
			    strstr(l, " audit_seq="), "%s", l);
			if (strstr(l, " decision=allow ")) {
				cr_assert(strstr(l, " worker=echo@demo ") && !strstr(l, " call=\"\""),
				    "%s", l);
			} else {
				cr_assert(strstr(l, " outcome=refused "), "%s", l);
			}
		}
		cr_assert_eq(ncall, 7);
	}
	free(log);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

/* ---------------------------------------------------------------- the canary */

static void
b64(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
		    (i + 2 < n ? in[i + 2] : 0);

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Is there a line containing a and, after it, b? */
static bool
line_with(const char *log, const char *a, const char *b)
{
	for (const char *p = strstr(log, a); p; p = strstr(p + 1, a)) {
		const char *nl = strchr(p, '\n'), *q = strstr(p, b);

		if (q && (nl == NULL || q < nl))
			return true;
	}
	return false;
}

static void
assert_no_canary(const char *what, const char *text, const char *canary,
    const struct redact_set *rs)
{
	char enc[128], hex[128];

	b64((const unsigned char *)canary, strlen(canary), enc);
	for (size_t i = 0; canary[i]; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)canary[i]);
	cr_assert_null(strstr(text, canary), "%s carries the canary", what);
	cr_assert_null(strstr(text, enc), "%s carries the canary in base64", what);
	cr_assert_null(strstr(text, hex), "%s carries the canary in hex", what);
	/* and every form the redactor knows (JSON-escaped, percent-encoded, base64 shifts) */
	cr_assert(!redact_text_has(rs, text, strlen(text)), "%s carries a form of the canary",
	    what);
}

Test(ops, canary_never_in_logs_or_metrics)
{
	char canary[64], enc[128], cfg[2048], args[512], mdir[256], prom[300];
	const char *canaries[1];
	size_t lens[1];
	struct redact_set *rs;
	unsigned char rnd[12];
	char *log, *t;
	int fd;

	fd = open("/dev/urandom", O_RDONLY);
	cr_assert_eq(read(fd, rnd, sizeof(rnd)), (ssize_t)sizeof(rnd));
	close(fd);
	strcpy(canary, "corralCANARY");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(canary + strlen(canary), 3, "%02x", rnd[i]);
	b64((const unsigned char *)canary, strlen(canary), enc);
	canaries[0] = canary;
	lens[0] = strlen(canary);
	cr_assert_eq(redact_set_new(canaries, lens, 1, &rs), 0);

	snprintf(mdir, sizeof(mdir), "/tmp/corral-ops-canary-%d", (int)getpid());
	mkdir(mdir, 0755);
	snprintf(prom, sizeof(prom), "%s/corral.prom", mdir);
	snprintf(cfg, sizeof(cfg),
	    "tenants:\n"
	    "  demo: { uid: 41413 }\n"
	    "credentials:\n"
	    "  - { name: canary, tenant: demo, source: \"file:canary.token\" }\n"
	    "endpoints:\n"
	    "  echo:\n"
	    "    - { name: e, tenant: demo, credential: canary }\n"
	    "metrics: { textfile: %s, interval: 1s }\n", prom);
	hx_config(&h, cfg);
	hx_file(&h, "canary.token", canary, 0600);
	hx_start(&h, 1);

	/* A worker that says the credential (and its base64) on stderr and in LOG messages, at
	 * level emerg: the lines are forwarded, redacted, clamped to err. */
	snprintf(args, sizeof(args), "{\"text\":\"Authorization: Bearer %s basic=%s\",\"level\":0,"
	    "\"lines\":2}", canary, enc);
	cr_assert_eq(ctl((const char *const[]){ "call", "echo", "log", "--args", args, NULL }), 0);
	/* The canary as call arguments, as an error text, as a tool and op name. */
	snprintf(args, sizeof(args), "{\"msg\":\"%s\"}", canary);
	ctl((const char *const[]){ "call", "echo", "echo", "--args", args, NULL });
	snprintf(args, sizeof(args), "{\"message\":\"%s\"}", canary);
	ctl((const char *const[]){ "call", "echo", "fail", "--args", args, NULL });
	ctl((const char *const[]){ "call", canary, canary, "--args", "{}", NULL });
	ctl((const char *const[]){ "call", "echo", canary, "--args", "{}", NULL });
	/* A flood: capped at 50 lines a second, the rest counted. */
	snprintf(args, sizeof(args), "{\"text\":\"flood %s\",\"lines\":200}", canary);
	ctl((const char *const[]){ "call", "echo", "log", "--args", args, NULL });

	t = wait_metrics(prom, "corral_calls_total{family=\"echo\",op=\"log\",decision=\"allow\","
	    "outcome=\"ok\"}", 2);
	free(t);
	/* The summary of dropped lines comes once their window is over. */
	for (int64_t end = now_ms() + 5000; now_ms() < end; usleep(100000)) {
		log = hx_read(h.log);
		bool seen = strstr(log, "msg=\"worker log lines dropped (rate cap)\"") != NULL;

		free(log);
		if (seen)
			break;
	}
	cr_assert_eq(hx_stop(&h), 0);	/* the last textfile is written at exit */	/* the last textfile is written at exit */
	t = hx_read(prom);
	log = hx_read(h.log);
	expo_check(t);
	{
		double dropped = 0;

		cr_assert(expo_value(t, "corral_worker_log_lines_dropped_total{worker=\"echo@demo\","
		    "tenant=\"demo\"}", &dropped));
		cr_assert_geq(dropped, 300);	/* 404 lines, at most 2 windows of 50 */
	}
	expect_series(t, "corral_calls_total{family=\"unknown\",op=\"unknown\",decision=\"deny\","
	    "outcome=\"refused\"}", 2);
	/* The leak path was taken: worker lines were forwarded, tagged and redacted. */
	cr_assert(line_with(log, "level=notice prog=corrald msg=\"Authorization: Bearer [REDACTED] "
	    "basic=[REDACTED]", "\" worker=echo@demo tenant=demo stream=stderr"), "%s", log);
	cr_assert(line_with(log, "level=error prog=corrald msg=\"Authorization: Bearer [REDACTED] "
	    "basic=[REDACTED]", "\" worker=echo@demo tenant=demo stream=log"), "%s", log);
	cr_assert(strstr(log, "msg=\"worker log lines dropped (rate cap)\" worker=echo@demo"),
	    "%s", log);
	cr_assert_null(strstr(log, "level=emerg"));
	assert_no_canary("the log", log, canary, rs);
	assert_no_canary("the metrics", t, canary, rs);
	free(log);
	free(t);
	redact_set_free(rs);
	unlink(prom);
	rmdir(mdir);
}
