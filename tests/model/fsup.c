/* See fsup.h. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/broker.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/model/fsup.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

extern char **environ;

/* The child's environment: ours, with LeakSanitizer off (sanitizer builds): its exit-time
 * check ptraces the process, which a seccomp-confined binary may not. Built before fork. */
static char **
child_env(void)
{
	static char *env[256];
	static char asan[512];
	const char *cur = getenv("ASAN_OPTIONS");
	size_t n = 0;

	snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s%sdetect_leaks=0", cur ? cur : "",
	    cur && *cur ? ":" : "");
	for (char **e = environ; *e && n < 254; e++)
		if (strncmp(*e, "ASAN_OPTIONS=", 13) != 0)
			env[n++] = *e;
	env[n++] = asan;
	env[n] = NULL;
	return env;
}

void
fsup_spawn(struct fsup_peer *p, const char *const *argv, const char *kind, bool broker)
{
	char **envp = child_env();
	const char *tmp = getenv("TMPDIR");
	const char *av[32];
	int sp[2] = { -1, -1 }, n = 0;
	struct msg m = { 0 };

	memset(p, 0, sizeof(*p));
	p->brk = -1;
	snprintf(p->dir, sizeof(p->dir), "%s/corral-fsup-XXXXXX", tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(p->dir));
	snprintf(p->sock, sizeof(p->sock), "%s/sock", p->dir);
	cr_assert_eq(ipc_listen(p->sock, &p->conn), 0, "listen %s", p->sock);
	if (broker)
		cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	for (; argv[n] && n < 28; n++)
		av[n] = argv[n];
	av[n++] = "--socket";
	av[n++] = p->sock;
	av[n] = NULL;
	cr_assert_geq(p->pid = fork(), 0);
	if (p->pid == 0) {
		/* nng runs threads in this process: only async-signal-safe calls until exec */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (broker && (sp[1] == BRK_FD ? fcntl(BRK_FD, F_SETFD, 0) :
		    dup2(sp[1], BRK_FD)) < 0)
			_exit(126);
		execve(av[0], (char *const *)av, envp);
		_exit(127);
	}
	if (broker) {
		close(sp[1]);
		p->brk = sp[0];
	}
	ipc_conn_expect(p->conn, p->pid, getuid());
	cr_assert_eq(ipc_recv_timed(p->conn, &m, LIM_HELLO_MS * 2), 0, "no HELLO from %s", av[0]);
	cr_assert_eq(m.type, MSG_HELLO);
	cr_assert_str_eq(m.kind, kind);
	msg_clear(&m);
	m = (struct msg){ .type = MSG_WELCOME, .version = CORRAL_PROTO_VERSION, .name = "test",
		.tenant = "payments" };
	cr_assert_eq(ipc_send(p->conn, &m, 0), 0);
}

/* One broker request, if any: connect to 127.0.0.1:allowed_port, refuse anything else. */
static void
broker_serve(struct fsup_peer *p)
{
	struct brk_req req;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd;

	if (p->brk < 0 || brk_read_req(p->brk, &req) < 0)
		return;
	p->brk_requests++;
	if (strcmp(req.host, "127.0.0.1") != 0 || req.port != p->allowed_port) {
		p->brk_refused++;
		brk_reply(p->brk, req.id, ERR_EGRESS, -1);
		return;
	}
	sa.sin_port = htons(req.port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		brk_reply(p->brk, req.id, -errno, -1);
		if (fd >= 0)
			close(fd);
		return;
	}
	brk_reply(p->brk, req.id, 0, fd);
	close(fd);
}

int
fsup_recv(struct fsup_peer *p, struct msg *m, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	for (;;) {
		int r;

		broker_serve(p);
		r = ipc_recv_timed(p->conn, m, p->brk >= 0 ? 10 : 100);
		if (r != -ETIMEDOUT)
			return r;
		if (now_ms() >= end)
			return -ETIMEDOUT;
	}
}

int
fsup_send(struct fsup_peer *p, const struct msg *m)
{
	return ipc_send(p->conn, m, 0);
}

int
fsup_stop(struct fsup_peer *p)
{
	struct msg sd = { .type = MSG_SHUTDOWN };
	int st = -1;
	int64_t end = now_ms() + 3000;

	if (p->pid > 0) {
		ipc_send(p->conn, &sd, IPC_NONBLOCK);
		while (now_ms() < end && waitpid(p->pid, &st, WNOHANG) == 0)
			usleep(10000);
		if (waitpid(p->pid, &st, WNOHANG) == 0) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
		}
		p->pid = 0;
	}
	ipc_close(p->conn);
	p->conn = NULL;
	if (p->brk >= 0)
		close(p->brk);
	p->brk = -1;
	unlink(p->sock);
	rmdir(p->dir);
	return st;
}

int
fsup_seccomp(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	int v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &v) == 1)
			break;
	fclose(f);
	return v;
}
