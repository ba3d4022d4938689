/* corral-jail's pre-exec steps, seen from inside (the probe) and outside (the status fd, the
 * exit status, the host filesystem): uid switch, pid namespace, exact environment, exact fds,
 * rlimits, binds, exec slots, signal forwarding, the user-namespace path, error reporting. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "tests/workers/jailrun.h"

/* Criterion 2.4's cr_assert_str_eq misreports here; compare plainly and show everything. */
#define OUT_IS(r, want) cr_assert(strcmp((r).out, (want)) == 0, \
	"stdout:\n%s\nwanted:\n%s\nstatus:\n%s\nstderr:\n%s", (r).out, (want), (r).st, (r).err)

/* Fill a NULL-terminated argument array of a struct spawn. */
#define ARGS(dst, ...) copy_args((dst), sizeof(dst) / sizeof((dst)[0]), \
	(const char *const[]){ __VA_ARGS__, NULL })

static void
copy_args(const char **dst, size_t max, const char *const *src)
{
	size_t n = 0;

	for (; src[n]; n++) {
		cr_assert_lt(n, max - 1);
		dst[n] = src[n];
	}
	dst[n] = NULL;
}

#define BASE "--profile", "agent", "--uid", "41001", "--gid", "41001", "--tenant", "payments"

static void
spawn_init(struct spawn *s)
{
	memset(s, 0, sizeof(*s));
	s->keep_fd = -1;
	s->leak_fd = -1;
}

Test(jail, runs_as_tenant_uid_as_pid1_without_groups)
{
	struct run r;

	need_root();
	run_probe(&r, "agent", false, "jailed", "ids", NULL);
	OUT_IS(r, "uid 41001 gid 41001 euid 41001 egid 41001 pid 1 ppid 0 groups 0\n");
	run_probe(&r, "http", true, "jailed", "ids", NULL);
	OUT_IS(r, "uid 41001 gid 41001 euid 41001 egid 41001 pid 1 ppid 0 groups 0\n");
}

Test(jail, rlimits_core_zero_nofile_below_the_exec_slot)
{
	struct run r;

	need_root();
	run_probe(&r, "agent", false, "jailed", "rlimits", NULL);
	OUT_IS(r, "core 0 0 nofile 256 256\n");
	cr_assert_lt(LIM_RL_NOFILE, FD_EXEC_SLOT);
}

Test(jail, environment_is_exactly_the_given_one)
{
	struct spawn s;
	struct run r;

	need_root();
	setenv("CORRAL_SECRET_TEST", "must-not-pass", 1);
	spawn_init(&s);
	ARGS(s.jail, BASE, "--env", "A=1", "--env", "B=two words");
	ARGS(s.prog, "jailed", "env");
	run_spawn(&s, &r);
	OUT_IS(r, "A=1\nB=two words\n");
	s.jail[8] = NULL;
	run_spawn(&s, &r);
	OUT_IS(r, "");
	cr_assert_eq(r.exit, 0);
}

Test(jail, only_std_fds_and_kept_ones_are_open)
{
	struct spawn s;
	struct run r;
	int p[2];

	need_root();
	cr_assert(pipe(p) == 0);
	cr_assert(write(p[1], "hello", 5) == 5);
	close(p[1]);
	spawn_init(&s);
	ARGS(s.jail, BASE);
	ARGS(s.prog, "jailed", "fds");
	s.leak_fd = 7;		/* inherited by corral-jail without being asked for */
	run_spawn(&s, &r);
	OUT_IS(r, "fds 0 1 2\n");

	char keep[16];
	int kfd = fcntl(p[0], F_DUPFD_CLOEXEC, 20);	/* clear of 0-3 and of the leak's 7 */

	cr_assert(kfd >= 20);
	close(p[0]);
	p[0] = kfd;
	snprintf(keep, sizeof(keep), "%d", p[0]);
	ARGS(s.jail, BASE, "--keep-fd", keep);
	s.keep_fd = p[0];
	s.leak_fd = -1;	/* a leak onto the kept number would replace it with our stdin */
	run_spawn(&s, &r);
	OUT_IS(r, "fds 0 1 2 3\n");
	s.prog[1] = "read_fd3";
	run_spawn(&s, &r);
	OUT_IS(r, "fd3 hello\n");
	close(p[0]);
}

Test(jail, status_fd_reports_what_is_enforced)
{
	char want[64];
	struct run r;

	need_root();
	run_probe(&r, "agent", false, "jailed", "hostname", NULL);
	OUT_IS(r, "hostname payments\n");
	cr_assert(strncmp(r.st, "pid ", 4) == 0 && atoi(r.st + 4) > 1, "%s", r.st);
	snprintf(want, sizeof(want), "\nlandlock %d\n", jail_landlock_abi());
	cr_assert(strstr(r.st, want), "%s", r.st);
	cr_assert(strstr(r.st, "\nuserns 0\nnetns 1\n"), "%s", r.st);
	cr_assert(strstr(r.st, "\nseccomp program\nexec ok\nexit 0\n"), "%s", r.st);
	run_probe(&r, "exec", true, "exec", "hostname", NULL);
	cr_assert(strstr(r.st, "\nseccomp worker\nexec ok\nexit 0\n"), "%s", r.st);
}

Test(jail, exit_status_is_the_programs)
{
	struct run r;

	need_root();
	run_probe(&r, "agent", false, "jailed", "exit", "42");
	cr_assert_eq(r.code, 42);
	cr_assert(strstr(r.st, "\nexit 42\n"), "%s", r.st);
	run_probe(&r, "agent", false, "jailed", "execve", NULL);
	cr_assert_eq(r.code, 128 + SIGSYS);
	cr_assert(strstr(r.st, "\nsignal 31\n"), "%s", r.st);
}

Test(jail, sigterm_is_forwarded_to_the_program)
{
	struct spawn s;
	struct run r;

	need_root();
	spawn_init(&s);
	ARGS(s.jail, BASE);
	ARGS(s.prog, "jailed", "wait_term");
	s.wait_for = "ready";
	s.sig = SIGTERM;
	run_spawn(&s, &r);
	cr_assert_eq(r.code, 3, "the program's SIGTERM handler ran: %s", r.st);
}

/* PID 1 ignores a signal it has no handler for: the reaper escalates after LIM_DRAIN_MS. */
Test(jail, unheeded_sigterm_escalates_to_sigkill, .timeout = 30)
{
	struct timespec a, b;
	struct spawn s;
	struct run r;
	long ms;

	need_root();
	spawn_init(&s);
	ARGS(s.jail, BASE);
	ARGS(s.prog, "jailed", "wait_forever");
	s.wait_for = "ready";
	s.sig = SIGTERM;
	clock_gettime(CLOCK_MONOTONIC, &a);
	run_spawn(&s, &r);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	cr_assert_eq(r.code, 128 + SIGKILL, "%s", r.st);
	cr_assert(strstr(r.st, "\nsignal 9\n"), "%s", r.st);
	cr_assert_geq(ms, LIM_DRAIN_MS - 100);
}

Test(jail, rw_bind_is_writable_ro_bind_is_not)
{
	char dir[] = "/tmp/corral-h2-bindXXXXXX", rw[64], ro[64], file[96];
	struct spawn s;
	struct run r;
	struct stat sb;

	need_root();
	cr_assert(mkdtemp(dir));
	cr_assert(chown(dir, TENANT_UID, TENANT_UID) == 0);
	snprintf(rw, sizeof(rw), "%s:/ipc", dir);
	snprintf(ro, sizeof(ro), "%s:/data", dir);
	spawn_init(&s);
	ARGS(s.jail, BASE, "--bind-rw", rw, "--bind-ro", ro);
	ARGS(s.prog, "jailed", "write_file", "/ipc/out");
	run_spawn(&s, &r);
	cr_assert_eq(r.exit, 0, "%s%s%s", r.out, r.st, r.err);
	snprintf(file, sizeof(file), "%s/out", dir);
	cr_assert(stat(file, &sb) == 0 && sb.st_uid == TENANT_UID && sb.st_size == 6);
	s.prog[2] = "/data/out2";
	run_spawn(&s, &r);
	OUT_IS(r, "write failed: EROFS\n");
	unlink(file);
	rmdir(dir);
}

/* The exec worker's kubectl/flux: opened by the jail at FD_EXEC_SLOT + 1, the only thing the
 * exec kind's filter lets it execveat. An agent may not. */
Test(jail, exec_slot_runs_only_under_the_exec_kinds)
{
	struct spawn s;
	struct run r;

	need_root();
	spawn_init(&s);
	ARGS(s.jail, "--profile", "exec", "--uid", "41001", "--worker",
		"--exec-slot", "/usr/bin/env", "--env", "X=1");
	ARGS(s.prog, "exec", "slot_run", "1");
	run_spawn(&s, &r);
	cr_assert_eq(r.exit, 0, "%s%s%s", r.out, r.st, r.err);
	OUT_IS(r, "X=1\n");
	ARGS(s.jail, "--profile", "agent", "--uid", "41001", "--exec-slot", "/usr/bin/env");
	ARGS(s.prog, "jailed", "slot_run", "1");
	run_spawn(&s, &r);
	cr_assert_eq(r.sig, SIGSYS, "%s", r.st);
}

Test(jail, unprivileged_caller_gets_a_user_namespace)
{
	struct spawn s;
	struct run r;

	need_root();
	spawn_init(&s);
	ARGS(s.jail, "--profile", "agent");
	ARGS(s.prog, "jailed", "ids");
	s.as_uid = 65534;
	run_spawn(&s, &r);
	if (r.code == 77 || strstr(r.st, "unshare user"))
		cr_skip_test("nobody cannot reach the build tree or create a user namespace");
	OUT_IS(r, "uid 65534 gid 65534 euid 65534 egid 65534 pid 1 ppid 0 groups 0\n");
	cr_assert(strstr(r.st, "\nuserns 1\n"), "%s", r.st);
	s.prog[1] = "status";
	run_spawn(&s, &r);
	cr_assert_eq(r.exit, 0, "no capability survives, not even in the user namespace: %s",
	    r.out);
}

struct failure {
	const char *jail[12];
	const char *prog;
	const char *stderr_has;
};

Test(jail, failures_say_which_step)
{
	static const struct failure f[] = {
		{ { BASE, NULL }, "/nonexistent/prog", "open /nonexistent/prog" },
		{ { "--profile", "agent", NULL }, "/bin/true",
		  "invalid jail specification: Operation not permitted" },
		{ { BASE, "--bind-rw", "/tmp:/proc/x", NULL }, "/bin/true",
		  "invalid jail specification: Invalid argument" },
		{ { BASE, "--bind-ro", "/nonexistent-src", NULL }, "/bin/true",
		  "invalid jail specification: No such file" },
		{ { BASE, "--keep-fd", "5", NULL }, "/bin/true",
		  "invalid jail specification: Bad file descriptor" },
		{ { "--uid", "41001", NULL }, "/bin/true", "--profile is required" },
		{ { "--profile", "nope", NULL }, "/bin/true", "unknown profile" },
	};
	struct spawn s;
	struct run r;

	need_root();
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		spawn_init(&s);
		s.raw = true;
		memcpy(s.jail, f[i].jail, sizeof(f[i].jail));
		s.prog[0] = f[i].prog;
		run_spawn(&s, &r);
		cr_expect_eq(r.code, 125, "case %zu: exit %d", i, r.code);
		cr_expect(strstr(r.err, f[i].stderr_has), "case %zu: stderr: %s", i, r.err);
	}
}

/* Optional: a real Go binary (kubectl, flux) under the exec profile. Set CORRAL_TEST_GO_BIN to
 * a statically linked Go program that accepts "version --client" (e.g. kubectl). */
Test(jail, go_binary_runs_under_the_exec_profile)
{
	const char *bin = getenv("CORRAL_TEST_GO_BIN");
	struct spawn s;
	struct run r;

	need_root();
	if (!bin || !*bin)
		cr_skip_test("CORRAL_TEST_GO_BIN not set");
	spawn_init(&s);
	s.raw = true;
	ARGS(s.jail, "--profile", "exec", "--uid", "41001", "--env",
		"HOME=/tmp");
	ARGS(s.prog, bin, "version", "--client");
	run_spawn(&s, &r);
	cr_assert_eq(r.code, 0, "%s%s%s", r.out, r.st, r.err);
	cr_assert(strstr(r.out, "Client Version"), "%s", r.out);
	/* The same from the exec worker's slot, under the exec kind's own filter. */
	spawn_init(&s);
	ARGS(s.jail, "--profile", "exec", "--uid", "41001", "--worker",
		"--exec-slot", bin, "--env", "HOME=/tmp");
	ARGS(s.prog, "exec", "slot_run", "1", "version", "--client");
	run_spawn(&s, &r);
	cr_assert_eq(r.code, 0, "%s%s%s", r.out, r.st, r.err);
	cr_assert(strstr(r.out, "Client Version"), "%s", r.out);
}
