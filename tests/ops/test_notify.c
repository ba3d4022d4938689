/* sd_notify's protocol as notify.c speaks it: a fake service manager listens on a unix
 * datagram socket (a path or an abstract name), checks the exact datagrams and the sender's
 * pid from SCM_CREDENTIALS, as systemd does for NotifyAccess=main. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/limits.h"
#include "supervisor/notify.h"

struct mgr {
	int fd;
	char name[108];		/* as $NOTIFY_SOCKET spells it */
};

static void
mgr_open(struct mgr *g, bool abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int one = 1;

	g->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(g->fd, 0);
	if (abstract) {
		snprintf(g->name, sizeof(g->name), "@corral-notify-test-%d-%ld", (int)getpid(),
		    (long)random());
		memcpy(sa.sun_path, g->name, strlen(g->name));
		sa.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(g->name));
	} else {
		snprintf(g->name, sizeof(g->name), "/tmp/corral-notify-%d-%ld", (int)getpid(),
		    (long)random());
		unlink(g->name);
		strcpy(sa.sun_path, g->name);
		len = sizeof(sa);
	}
	cr_assert_eq(bind(g->fd, (struct sockaddr *)&sa, len), 0, "bind: %s", strerror(errno));
	cr_assert_eq(setsockopt(g->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	cr_assert_eq(setenv("NOTIFY_SOCKET", g->name, 1), 0);
}

static void
mgr_close(struct mgr *g)
{
	close(g->fd);
	if (g->name[0] == '/')
		unlink(g->name);
	unsetenv("NOTIFY_SOCKET");
}

/* One datagram (NUL-terminated in buf) and its sender's pid; -EAGAIN when none is waiting. */
static int
mgr_recv(struct mgr *g, char *buf, size_t size, pid_t *pid)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct iovec iov = { buf, size - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cm,
		.msg_controllen = sizeof(cm) };
	ssize_t n = recvmsg(g->fd, &mh, MSG_DONTWAIT);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	*pid = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
			*pid = ((struct ucred *)CMSG_DATA(c))->pid;
	return (int)n;
}

static void
expect_datagram(struct mgr *g, const char *want)
{
	char buf[LIM_NOTIFY_MSG_MAX + 1];
	pid_t pid;

	cr_assert_gt(mgr_recv(g, buf, sizeof(buf), &pid), 0, "no datagram");
	cr_assert_str_eq(buf, want);
	cr_assert_eq(pid, getpid(), "sender pid %d", (int)pid);
}

static void
states_on(bool abstract)
{
	struct mgr g;
	char want[256];

	mgr_open(&g, abstract);
	cr_assert(notify_enabled());
	cr_assert_eq(notify_ready("2/2 workers ready"), 0);
	snprintf(want, sizeof(want), "READY=1\nMAINPID=%d\nSTATUS=2/2 workers ready\n",
	    (int)getpid());
	expect_datagram(&g, want);
	cr_assert_eq(notify_ready(NULL), 0);
	snprintf(want, sizeof(want), "READY=1\nMAINPID=%d\n", (int)getpid());
	expect_datagram(&g, want);
	cr_assert_eq(notify_stopping("draining"), 0);
	expect_datagram(&g, "STOPPING=1\nSTATUS=draining\n");
	cr_assert_eq(notify_status("up"), 0);
	expect_datagram(&g, "STATUS=up\n");
	cr_assert_eq(notify_send("WATCHDOG=1\n"), 0);
	expect_datagram(&g, "WATCHDOG=1\n");
	mgr_close(&g);
}

Test(notify, path_socket) { states_on(false); }
Test(notify, abstract_socket) { states_on(true); }

Test(notify, reloading_carries_the_monotonic_time)
{
	char buf[512];
	struct timespec a, b;
	unsigned long long us;
	struct mgr g;
	pid_t pid;

	mgr_open(&g, true);
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_assert_eq(notify_reloading("reloading"), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_gt(mgr_recv(&g, buf, sizeof(buf), &pid), 0);
	cr_assert_eq(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu\n", &us), 1, "%s", buf);
	cr_assert_geq(us, (unsigned long long)a.tv_sec * 1000000 + a.tv_nsec / 1000);
	cr_assert_leq(us, (unsigned long long)b.tv_sec * 1000000 + b.tv_nsec / 1000);
	cr_assert(strstr(buf, "\nSTATUS=reloading\n") != NULL);
	mgr_close(&g);
}

/* A STATUS text is one line: control characters become spaces, the length is capped. */
Test(notify, status_is_sanitised)
{
	char big[LIM_NOTIFY_STATUS_MAX * 2], want[LIM_NOTIFY_STATUS_MAX + 16], buf[2048];
	struct mgr g;
	pid_t pid;

	mgr_open(&g, false);
	cr_assert_eq(notify_status("a\nREADY=1\tb\x7f"), 0);
	expect_datagram(&g, "STATUS=a READY=1 b \n");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(notify_status(big), 0);
	cr_assert_gt(mgr_recv(&g, buf, sizeof(buf), &pid), 0);
	snprintf(want, sizeof(want), "STATUS=%.*s\n", (int)LIM_NOTIFY_STATUS_MAX, big);
	cr_assert_str_eq(buf, want);
	mgr_close(&g);
}

Test(notify, nothing_without_a_socket)
{
	struct mgr g;
	char buf[64];
	pid_t pid;

	mgr_open(&g, false);
	unsetenv("NOTIFY_SOCKET");
	cr_assert(!notify_enabled());
	cr_assert_eq(notify_ready("x"), 0);
	cr_assert_eq(notify_stopping(NULL), 0);
	cr_assert_eq(notify_send("READY=1"), 0);
	cr_assert_eq(notify_watchdog_ms(), 0);
	cr_assert_eq(mgr_recv(&g, buf, sizeof(buf), &pid), -EAGAIN);
	setenv("NOTIFY_SOCKET", "", 1);
	cr_assert(!notify_enabled());
	cr_assert_eq(notify_ready("x"), 0);
	cr_assert_eq(mgr_recv(&g, buf, sizeof(buf), &pid), -EAGAIN);
	mgr_close(&g);
}

Test(notify, malformed_sockets)
{
	char longname[200];
	static const struct {
		const char *env;
		int want;
	} cases[] = {
		{ "relative/path", -EINVAL },
		{ "@", -EINVAL },
		{ "/", -EINVAL },
		{ "vsock:2:1234", -EAFNOSUPPORT },
		{ "/nonexistent/corral/notify", -ENOENT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("NOTIFY_SOCKET", cases[i].env, 1);
		cr_expect_eq(notify_ready("x"), cases[i].want, "%s", cases[i].env);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	cr_expect_eq(notify_ready("x"), -ENAMETOOLONG);
	setenv("NOTIFY_SOCKET", "@x", 1);
	cr_expect_eq(notify_send(""), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

Test(notify, watchdog_interval)
{
	char pid[24], other[24];
	static const struct {
		const char *usec, *pid;
		int64_t want;
	} cases[] = {
		{ "3000000", NULL, 1500 },
		{ "3000000", "", 1500 },
		{ "3000000", "SELF", 1500 },
		{ "3000000", "OTHER", 0 },
		{ "1000", NULL, 1 },
		{ "0", NULL, 0 },
		{ "12x", NULL, 0 },
		{ NULL, NULL, 0 },
	};

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(other, sizeof(other), "%d", (int)getpid() + 1);
	setenv("NOTIFY_SOCKET", "@corral-unused", 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].usec)
			setenv("WATCHDOG_USEC", cases[i].usec, 1);
		else
			unsetenv("WATCHDOG_USEC");
		if (cases[i].pid == NULL)
			unsetenv("WATCHDOG_PID");
		else
			setenv("WATCHDOG_PID", !strcmp(cases[i].pid, "SELF") ? pid :
			    !strcmp(cases[i].pid, "OTHER") ? other : cases[i].pid, 1);
		cr_expect_eq(notify_watchdog_ms(), cases[i].want, "case %zu", i);
	}
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unsetenv("NOTIFY_SOCKET");
}
