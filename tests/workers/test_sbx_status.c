/* The sandbox library's own API: the /proc status parser and check (on canned text and on
 * real processes, including the supervisor's outside check of a jailed worker), kind names,
 * syscall names, the filter export, and Landlock applied directly in a child. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/err.h"
#include "tests/workers/jailrun.h"
#include "workers/sandbox.h"

/* A real status file (Linux 6.1, trimmed) of a confined worker. */
static const char confined[] =
	"Name:\tcorral-worker\nUmask:\t0077\nState:\tS (sleeping)\nTgid:\t4242\n"
	"Pid:\t4242\nPPid:\t4241\nUid:\t41001\t41001\t41001\t41001\n"
	"Gid:\t41001\t41001\t41001\t41001\nGroups:\t\nNSpid:\t4242\t1\n"
	"CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n"
	"CapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"
	"Seccomp:\t2\nSeccomp_filters:\t2\nSpeculation_Store_Bypass:\tthread vulnerable\n";

struct check_case {
	const char *from, *to;		/* replace this line of `confined` with that */
	uid_t uid;
	int want;
};

Test(sbx_status, parses_a_confined_worker)
{
	struct sbx_status st;

	cr_assert_eq(sbx_status_parse(confined, strlen(confined), &st), 0);
	cr_assert_eq(st.pid, 4242);
	cr_assert_eq(st.uid, 41001);
	cr_assert_eq(st.fsgid, 41001);
	cr_assert_eq(st.no_new_privs, 1);
	cr_assert_eq(st.seccomp, 2);
	cr_assert_eq(st.seccomp_filters, 2);
	cr_assert_eq(st.cap_eff, 0);
	cr_assert_eq(st.nspid_inner, 1);
	cr_assert_eq(st.ns_depth, 2);
	cr_assert_eq(sbx_status_check(&st, 41001), 0);
}

Test(sbx_status, check_refuses_what_is_not_locked_down)
{
	static const struct check_case c[] = {
		{ "NoNewPrivs:\t1", "NoNewPrivs:\t0", 41001, ERR_SANDBOX },
		{ "Seccomp:\t2", "Seccomp:\t0", 41001, ERR_SANDBOX },
		{ "Seccomp:\t2", "Seccomp:\t1", 41001, ERR_SANDBOX },
		{ "CapEff:\t0000000000000000", "CapEff:\t0000000000200000", 41001, ERR_SANDBOX },
		{ "CapPrm:\t0000000000000000", "CapPrm:\t0000000000000001", 41001, ERR_SANDBOX },
		{ "CapAmb:\t0000000000000000", "CapAmb:\t0000000000000001", 41001, ERR_SANDBOX },
		{ "Uid:\t41001\t41001\t41001\t41001", "Uid:\t41001\t0\t41001\t41001", 41001,
		  ERR_SANDBOX },
		{ "Uid:\t41001\t41001\t41001\t41001", "Uid:\t41002\t41002\t41002\t41002", 41001,
		  ERR_SANDBOX },
		{ "Uid:\t41001\t41001\t41001\t41001", "Uid:\t41002\t41002\t41002\t41002", (uid_t)-1,
		  0 },
		{ "NoNewPrivs:\t1\n", "", 41001, ERR_SANDBOX },	/* absent line: not confined */
		{ "CapEff:\t0000000000000000\n", "", 41001, ERR_SANDBOX },
	};
	char text[2048];
	struct sbx_status st;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *at = strstr(confined, c[i].from);

		cr_assert(at, "case %zu", i);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - confined), confined, c[i].to,
		    at + strlen(c[i].from));
		cr_assert_eq(sbx_status_parse(text, strlen(text), &st), 0, "case %zu", i);
		cr_expect_eq(sbx_status_check(&st, c[i].uid), c[i].want, "case %zu", i);
	}
}

Test(sbx_status, malformed_status_is_a_protocol_error)
{
	static const char *const bad[] = {
		"", "Name:\tx\n", "Pid:\t12\n",		/* no Uid line */
		"Pid:\t1\nUid:\t1\t2\n",		/* short Uid */
		"Pid:\t1\nUid:\t1\t1\t1\t1\nCapEff:\tzz\n",
		"Pid:\t1\nUid:\t1\t1\t1\t1\nNSpid:\t\n",
	};
	struct sbx_status st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(sbx_status_parse(bad[i], strlen(bad[i]), &st), ERR_PROTO, "case %zu", i);
}

Test(sbx_status, reads_this_process)
{
	struct sbx_status st;

	cr_assert_eq(sbx_self_status(&st), 0);
	cr_assert_eq(st.pid, getpid());
	cr_assert_eq(st.uid, getuid());
	cr_assert_eq(sbx_proc_status(getpid(), &st), 0);
	cr_assert_eq(sbx_proc_status(-1, &st), -EINVAL);
	cr_assert_eq(sbx_proc_status(0x3ffffff0, &st), -ENOENT);
}

/* What corrald does before routing anything to a worker: read /proc/PID/status from outside,
 * with PID as the jail reported it on the status fd. */
static void
outside_check(const struct run *r, void *ctx)
{
	int *result = ctx;
	const char *p = strstr(r->st, "pid ");
	struct sbx_status st;

	if (!p || sbx_proc_status(atoi(p + 4), &st) < 0)
		*result = -1;
	else
		*result = sbx_status_check(&st, TENANT_UID) == 0 && st.ns_depth == 2 &&
		    st.nspid_inner == 1 ? 1 : -2;
}

Test(sbx_status, supervisor_sees_a_jailed_worker_locked_down)
{
	static const char *const kinds[] = { "agent", "http", "exec" };
	struct spawn s = { .keep_fd = -1, .leak_fd = -1 };
	struct run r;
	int result;

	need_root();
	for (size_t i = 0; i < 3; i++) {
		result = 0;
		s = (struct spawn){ .jail = { "--profile", kinds[i], "--uid", "41001", "--worker" },
			.prog = { kinds[i], "wait_term" }, .keep_fd = -1, .leak_fd = -1,
			.wait_for = "ready", .sig = SIGTERM, .on_ready = outside_check,
			.ctx = &result };
		run_spawn(&s, &r);
		cr_expect_eq(result, 1, "%s: outside check %d: %s", kinds[i], result, r.st);
		cr_expect_eq(r.code, 3, "%s: %s", kinds[i], r.st);
	}
}

Test(sbx_status, kind_names_round_trip)
{
	enum sbx_kind k;

	for (int i = 0; i < SBX_KIND_COUNT; i++) {
		cr_assert_eq(sbx_kind_parse(sbx_kind_name((enum sbx_kind)i), &k), 0);
		cr_assert_eq((int)k, i);
	}
	cr_assert_eq(sbx_kind_parse("root", &k), ERR_UNKNOWN);
	cr_assert_str_eq(sbx_kind_name(SBX_KIND_COUNT), "?");
}

Test(sbx_status, syscall_names)
{
	cr_assert_str_eq(sbx_syscall_name(SYS_execve), "execve");
	cr_assert_str_eq(sbx_syscall_name(SYS_ptrace), "ptrace");
	cr_assert_str_eq(sbx_syscall_name(-5), "?");
}

/* The exported filter is the table: the exec kind names the sanctioned execveat, the agent
 * kind does not name execveat at all. */
Test(sbx_status, export_shows_the_table)
{
	char path[] = "/tmp/corral-h2-pfcXXXXXX", buf[65536];
	int fd = mkstemp(path);
	ssize_t n;

	cr_assert(fd >= 0);
	unlink(path);
	cr_assert_eq(sbx_seccomp_export(SBX_EXEC, fd), 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert(strstr(buf, "\"execveat\""), "exec kind allows the slot exec");
	cr_assert(strstr(buf, "action KILL_PROCESS"));
	cr_assert(ftruncate(fd, 0) == 0);
	cr_assert_eq(sbx_seccomp_export(SBX_AGENT, fd), 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	cr_assert(strstr(buf, "\"clone\""));
	cr_assert_null(strstr(buf, "\"execveat\""));
	cr_assert_null(strstr(buf, "\"ptrace\""));
	close(fd);
	cr_assert_eq(sbx_seccomp_export(SBX_KIND_COUNT, 1), -EINVAL);
}

/* Landlock straight from the library, in a child: read-only everywhere, write nowhere. */
Test(sbx_status, landlock_read_only_child)
{
	const struct sbx_fs_rule rules[] = { { "/", -1, SBX_FS_READ | SBX_FS_EXEC },
		{ "/nonexistent-is-skipped", -1, SBX_FS_WRITE } };
	const struct sbx_landlock ll = { rules, 2, NULL, 0, NULL, 0, SBX_LL_SCOPE };
	char path[] = "/tmp/corral-h2-llXXXXXX";
	int fd = mkstemp(path), st = 0, abi = sbx_landlock_abi();
	pid_t pid;

	cr_assert(fd >= 0);
	close(fd);
	if (abi == 0) {
		unlink(path);
		cr_skip_test("no Landlock in this kernel");
	}
	if ((pid = fork()) == 0) {
		int got = -1;

		if (sbx_landlock_apply(&ll, &got) < 0 || got != (abi > 7 ? 7 : abi))
			_exit(2);
		if (open(path, O_RDONLY) < 0)
			_exit(3);	/* reading is granted */
		if (open(path, O_WRONLY) >= 0 || errno != EACCES)
			_exit(4);	/* writing is not */
		if (unlink(path) == 0 || errno != EACCES)
			_exit(5);
		_exit(0);
	}
	cr_assert(waitpid(pid, &st, 0) == pid);
	unlink(path);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child step %d", WEXITSTATUS(st));
}
