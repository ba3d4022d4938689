/* The control socket under hostile clients: one that asks and never reads its answers, and
 * one uid opening connection after connection. corrald's single thread must keep serving
 * everybody else (supervisor/ctl.c). Real corrald, real sockets, real uids. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "tests/integration/harness.h"

#define OPS_UID		41650	/* a tenant operator's uid */

static struct hx h;

static void
teardown(void)
{
	hx_cleanup(&h);
}

TestSuite(control, .timeout = 120, .fini = teardown);

static void
setup(void)
{
	char cfg[256];

	snprintf(cfg, sizeof(cfg), "tenants:\n  demo: { uid: 41001, families: [echo] }\n"
	    "control:\n  operators:\n    - { name: ops, tenant: demo, uids: [%d] }\n", OPS_UID);
	hx_config(&h, cfg);
	hx_start(&h, 1);
}

static int
dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h.sock);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A status request as corralctl frames it (4-byte big-endian length, msgpack). */
static size_t
status_frame(uint8_t *out, size_t cap, uint64_t id)
{
	struct msg m = { .type = MSG_CALL, .id = id, .tool = (char *)"corral",
		.op = (char *)"status", .args = (char *)"{}" };
	uint8_t *buf;
	size_t len;
	uint32_t be;

	if (msg_encode(&m, &buf, &len) < 0 || len + 4 > cap)
		return 0;
	be = htonl((uint32_t)len);
	memcpy(out, &be, 4);
	memcpy(out + 4, buf, len);
	free(buf);
	return len + 4;
}

static bool
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

static bool
log_says(const char *what, int wait_ms)
{
	for (int i = 0; i <= wait_ms / 50; i++) {
		char *log = hx_read(h.log);
		bool yes = strstr(log, what) != NULL;

		free(log);
		if (yes)
			return true;
		usleep(50000);
	}
	return false;
}

/* A client asks for status over and over and never reads. Before, each answer was a blocking
 * write of up to 2 s on corrald's only thread, so once its socket buffer was full every other
 * client waited behind it. Now the answers wait in its own queue: another client is served
 * at once, and the reader-less one is dropped when LIM_CTL_OUTQ is reached. */
Test(control, a_client_that_never_reads_holds_up_nobody)
{
	const char *status[] = { "-o", "json", "status", NULL };
	uint8_t frame[256];
	char *out = NULL;
	size_t flen, answer, n;
	int fd;
	bool sent_all = true;

	setup();
	cr_assert_eq(hx_ctl(&h, &out, status), 0, "%s", out);
	answer = strlen(out);	/* about what one answer costs in the queue */
	free(out);
	cr_assert_gt(answer, 100);
	/* enough unread answers for the queue cap twice over */
	n = 2 * LIM_CTL_OUTQ / answer + 1000;
	cr_assert_gt(flen = status_frame(frame, sizeof(frame), 1), 0);
	cr_assert((fd = dial()) >= 0);
	for (size_t i = 0; i < n && sent_all; i++)
		sent_all = write_all(fd, frame, flen);	/* fails once corrald dropped us */

	/* corrald serves somebody else meanwhile, and stays up */
	cr_assert_eq(hx_ctl(&h, &out, status), 0, "%s", out);
	cr_assert_not_null(strstr(out, "echo@demo"), "%s", out);
	free(out);
	cr_assert(log_says("control client not reading its answers; dropped", 20000),
	    "the client that never reads was not dropped (%zu requests%s)", n,
	    sent_all ? ", all sent" : "");
	/* it got answers, then the end (a reset: its unread requests were thrown away) */
	{
		char buf[65536];
		ssize_t k;
		size_t got = 0;

		while ((k = read(fd, buf, sizeof(buf))) > 0)
			got += (size_t)k;
		cr_assert(k == 0 || errno == ECONNRESET, "no end after %zu bytes: %s", got,
		    strerror(errno));
		cr_assert_gt(got, 0);
	}
	close(fd);
	cr_assert_eq(hx_stop(&h), 0);
}

/* One non-admin uid gets LIM_CTL_CLIENTS_UID connections, no more; the rest are closed at
 * once and logged, and an admin still gets in. Each kept connection is really served. */
Test(control, one_uid_cannot_take_every_connection)
{
	const char *status[] = { "-o", "json", "status", NULL };
	int want = LIM_CTL_CLIENTS_UID + 4, ws, served_want = LIM_CTL_CLIENTS_UID;
	char *out = NULL;
	int gate[2], done[2];
	pid_t c;

	setup();
	cr_assert_eq(pipe(gate), 0);
	cr_assert_eq(pipe(done), 0);
	if ((c = fork()) == 0) {
		int fds[64], served = 0, refused = 0;
		uint8_t frame[256];
		size_t flen = status_frame(frame, sizeof(frame), 9);
		char b;

		if (setgroups(0, NULL) < 0 || setresgid(OPS_UID, OPS_UID, OPS_UID) < 0 ||
		    setresuid(OPS_UID, OPS_UID, OPS_UID) < 0 || flen == 0)
			_exit(200);
		for (int i = 0; i < want; i++)
			fds[i] = dial();
		for (int i = 0; i < want; i++) {
			struct pollfd p = { .fd = fds[i], .events = POLLIN };
			char buf[65536];
			ssize_t k;

			if (fds[i] < 0 || !write_all(fds[i], frame, flen)) {
				refused++;
				continue;
			}
			/* an answer (served) or the end (refused), whichever comes */
			if (poll(&p, 1, 10000) != 1 || (k = read(fds[i], buf, sizeof(buf))) <= 0)
				refused++;
			else
				served++;
		}
		/* hold them while the admin tries */
		(void)!write(done[1], "x", 1);
		(void)!read(gate[0], &b, 1);
		_exit(refused + served == want ? served : 250);
	}
	close(done[1]);
	close(gate[0]);
	{
		char b;

		cr_assert_eq(read(done[0], &b, 1), 1, "the operator's client died");
	}
	cr_assert_eq(hx_ctl(&h, &out, status), 0, "an admin was kept out: %s", out);
	free(out);
	(void)!write(gate[1], "g", 1);
	cr_assert_eq(waitpid(c, &ws, 0), c);
	cr_assert(WIFEXITED(ws), "the operator's client died");
	cr_assert_eq(WEXITSTATUS(ws), served_want, "served %d of %d connections of one uid",
	    WEXITSTATUS(ws), want);
	cr_assert(log_says("control peer refused: too many connections", 5000));
	cr_assert_eq(hx_stop(&h), 0);
}
