/* Test harness for the sandbox suite: corral-jail around the probe, as real processes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/workers/jailrun.h"

#define RUN_TIMEOUT_MS	20000

const char *
env_path(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v && *v, "%s is not set (run through meson test)", name);
	return v;
}

static bool
sanitized(void)
{
	const char *v = getenv("CORRAL_SANITIZE");

	return v && *v && strcmp(v, "none") != 0;
}

/* Built in the parent: Criterion reports every assertion to its runner, and a message from
 * a process that is not the test's own confuses it, so the forked child asserts nothing. */
static void
build_argv(const struct spawn *s, const char **argv, size_t max)
{
	size_t n = 0;

	argv[n++] = env_path("CORRAL_JAIL");
	for (size_t i = 0; s->jail[i] && n < max - 8; i++)
		argv[n++] = s->jail[i];
	if (sanitized()) {	/* ASan reserves terabytes of address space */
		argv[n++] = "--rlimit-as";
		argv[n++] = "unlimited";
	}
	argv[n++] = "--status-fd";
	argv[n++] = "3";
	argv[n++] = "--";
	if (!s->raw)
		argv[n++] = env_path("CORRAL_PROBE");
	for (size_t i = 0; s->prog[i] && n < max - 1; i++)
		argv[n++] = s->prog[i];
	cr_assert_lt(n, max - 1);
	argv[n] = NULL;
}

static __attribute__((noreturn)) void
child_exec(const struct spawn *s, const char *const *argv, int out, int err, int st)
{
	if (dup2(out, 1) < 0 || dup2(err, 2) < 0 || dup2(st, 3) < 0)
		_exit(120);
	if (s->keep_fd >= 0 && fcntl(s->keep_fd, F_SETFD, 0) < 0)
		_exit(120);
	for (int fd = 4; fd < 64; fd++)
		if (fd != s->keep_fd && fd != s->leak_fd)
			close(fd);
	if (s->leak_fd >= 0 && dup2(0, s->leak_fd) < 0)
		_exit(120);
	if (s->as_uid && (setgroups(0, NULL) < 0 || setresgid(s->as_uid, s->as_uid, s->as_uid) < 0 ||
	    setresuid(s->as_uid, s->as_uid, s->as_uid) < 0))
		_exit(120);
	if (s->as_uid && access(argv[0], X_OK) < 0)
		_exit(77);
	execv(argv[0], (char *const *)argv);
	_exit(121);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read stdout, stderr and the status pipe until all three close, signalling once when asked. */
static void
collect(const struct spawn *s, pid_t pid, int fds[3], struct run *r)
{
	char *bufs[3] = { r->out, r->err, r->st };
	size_t lens[3] = { 0, 0, 0 };
	long long deadline = now_ms() + RUN_TIMEOUT_MS;
	bool signalled = false;
	int open_n = 3;

	while (open_n > 0 && now_ms() < deadline) {
		struct pollfd p[3];

		for (int i = 0; i < 3; i++)
			p[i] = (struct pollfd){ fds[i], POLLIN, 0 };
		if (poll(p, 3, 200) < 0)
			continue;
		for (int i = 0; i < 3; i++) {
			ssize_t n;

			if (fds[i] < 0 || !p[i].revents)
				continue;
			n = read(fds[i], bufs[i] + lens[i], OUT_MAX - 1 - lens[i]);
			if (n <= 0) {
				close(fds[i]);
				fds[i] = -1;
				open_n--;
				continue;
			}
			lens[i] += (size_t)n;
			bufs[i][lens[i]] = '\0';
		}
		if (s->wait_for && !signalled && strstr(r->out, s->wait_for) &&
		    strstr(r->st, "exec ok")) {
			if (s->on_ready)
				s->on_ready(r, s->ctx);
			if (s->sig)
				kill(pid, s->sig);
			signalled = true;
		}
	}
	if (open_n > 0)
		kill(pid, SIGKILL);
}

void
run_spawn(const struct spawn *s, struct run *r)
{
	int out[2], err[2], st[2], ws = 0;
	const char *argv[64], *p;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->exit = -1;
	/* the child puts the status pipe on 3 and the leak on leak_fd: either would replace it */
	cr_assert(s->keep_fd < 0 || (s->keep_fd > 3 && s->keep_fd != s->leak_fd),
	    "keep_fd %d collides with fd 3 or leak_fd %d", s->keep_fd, s->leak_fd);
	cr_assert(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0 &&
	    pipe2(st, O_CLOEXEC) == 0);
	build_argv(s, argv, sizeof(argv) / sizeof(argv[0]));
	if ((pid = fork()) == 0)
		child_exec(s, argv, out[1], err[1], st[1]);
	cr_assert(pid > 0);
	close(out[1]);
	close(err[1]);
	close(st[1]);
	collect(s, pid, (int[3]){ out[0], err[0], st[0] }, r);
	cr_assert(waitpid(pid, &ws, 0) == pid);
	cr_assert(WIFEXITED(ws), "corral-jail itself died by signal %d (%s %s)\nstatus: %s\nstdout: %s\n"
	    "stderr: %s", WTERMSIG(ws), s->prog[0], s->prog[1] ? s->prog[1] : "", r->st, r->out, r->err);
	r->code = WEXITSTATUS(ws);
	if ((p = strstr(r->st, "signal ")) != NULL)
		r->sig = atoi(p + 7);
	if ((p = strstr(r->st, "\nexit ")) != NULL)
		r->exit = atoi(p + 6);
}

/* corral-jail [profile options] -- probe MODE NAME [ARG] */
void
run_probe(struct run *r, const char *profile, bool worker, const char *mode, const char *name,
    const char *arg)
{
	struct spawn s = { .jail = { "--profile", profile, "--uid", "41001", "--gid", "41001",
		"--tenant", "payments" }, .prog = { mode, name, arg }, .keep_fd = -1,
		.leak_fd = -1 };

	if (worker)
		s.jail[8] = "--worker";
	run_spawn(&s, r);
}

int
jail_landlock_abi(void)
{
	FILE *f;
	char cmd[PATH_MAX + 32];
	int abi = -1;

	snprintf(cmd, sizeof(cmd), "%s --landlock-abi", env_path("CORRAL_JAIL"));
	cr_assert((f = popen(cmd, "r")) != NULL);
	cr_assert(fscanf(f, "%d", &abi) == 1);
	pclose(f);
	return abi;
}

void
need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (the tenant uid switch)");
}

