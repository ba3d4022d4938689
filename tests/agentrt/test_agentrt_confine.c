/* The agent's own confinement, tried from inside: a child applies exactly what corral-agent
 * applies after start-up (its Landlock layer, then the agent seccomp filter with the state
 * directory's fd) and attempts things. The network and any write outside the state directory
 * must fail: by death (SIGSYS) for what the filter never allows, by EACCES for opens. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workers/sandbox.h"

static char base[160], state[200], outside[200];

enum { OK, DENIED, KILLED };

struct attempt {
	const char *name;
	int expect;		/* OK, DENIED (EACCES/EPERM), KILLED (SIGSYS) */
};

/* Runs in the confined child: 0 done, 1 refused, 2 something else. */
static int
try(const char *name, int dfd)
{
	char p[300];
	int fd = -1;

	if (strcmp(name, "write_state") == 0)
		fd = openat(dfd, "mem.db", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	else if (strcmp(name, "write_state_by_path") == 0) {
		snprintf(p, sizeof(p), "%s/mem2.db", state);
		fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	} else if (strcmp(name, "write_outside") == 0) {
		snprintf(p, sizeof(p), "%s/x", outside);
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	} else if (strcmp(name, "write_tmp") == 0)
		fd = open("/tmp/corral-agent-escape", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	else if (strcmp(name, "read_outside") == 0)
		fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	else if (strcmp(name, "unlink_state") == 0) {
		if ((fd = openat(dfd, "gone", O_RDWR | O_CREAT | O_CLOEXEC, 0600)) >= 0)
			fd = unlinkat(dfd, "gone", 0) == 0 ? 0 : -1;
	} else if (strcmp(name, "unlink_by_path") == 0) {
		snprintf(p, sizeof(p), "%s/mem.db", state);
		fd = unlink(p);
	} else if (strcmp(name, "socket_inet") == 0)
		fd = socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(name, "socket_inet6") == 0)
		fd = socket(AF_INET6, SOCK_DGRAM, 0);
	else if (strcmp(name, "sync_state") == 0) {
		if ((fd = openat(dfd, "s.db", O_RDWR | O_CREAT | O_CLOEXEC, 0600)) >= 0)
			fd = pwrite(fd, "x", 1, 0) == 1 && fdatasync(fd) == 0 &&
			    ftruncate(fd, 0) == 0 ? 0 : -1;
	}
	if (fd >= 0)
		return 0;
	return errno == EACCES || errno == EPERM ? 1 : 2;
}

static int
attempt(const char *name, bool landlock)
{
	int st;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int dfd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC), abi;
		const struct sbx_fs_rule rules[] = { { "/", -1, SBX_FS_READ },
			{ state, -1, SBX_FS_READ | SBX_FS_WRITE } };
		const struct sbx_landlock ll = { .fs = rules, .nfs = 2,
			.flags = SBX_LL_NET | SBX_LL_SCOPE };

		if (dfd < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    (landlock && sbx_landlock_apply(&ll, &abi) < 0) ||
		    sbx_seccomp_apply_state(SBX_AGENT, 0, dfd) < 0)
			_exit(3);
		_exit(try(name, dfd));
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSYS ? KILLED : 100 + WTERMSIG(st);
	cr_assert(WEXITSTATUS(st) < 2, "%s: unexpected outcome %d", name, WEXITSTATUS(st));
	return WEXITSTATUS(st) == 0 ? OK : DENIED;
}

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(base, sizeof(base), "%s/corral-confine-XXXXXX", tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(base));
	snprintf(state, sizeof(state), "%s/state", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	cr_assert_eq(mkdir(state, 0700), 0);
	cr_assert_eq(mkdir(outside, 0700), 0);
}

static void
teardown(void)
{
	char cmd[256];

	unlink("/tmp/corral-agent-escape");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(agent_confine, .init = setup, .fini = teardown, .timeout = 30);

static const struct attempt table[] = {
	{ "write_state", OK },
	{ "sync_state", OK },
	{ "unlink_state", OK },
	{ "read_outside", OK },
	{ "write_state_by_path", DENIED },	/* only through the directory's fd */
	{ "write_outside", DENIED },
	{ "write_tmp", DENIED },
	{ "unlink_by_path", KILLED },
	{ "socket_inet", KILLED },
	{ "socket_inet6", KILLED },
};

/* The seccomp filter alone decides all of these. */
Test(agent_confine, seccomp_alone)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		cr_assert_eq(attempt(table[i].name, false), table[i].expect, "%s", table[i].name);
	cr_assert_neq(access("/tmp/corral-agent-escape", F_OK), 0);
}

/* With corral-agent's Landlock layer on top, the outcomes are the same (Landlock refuses
 * the same writes again where the kernel has it). */
Test(agent_confine, with_landlock)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		cr_assert_eq(attempt(table[i].name, true), table[i].expect, "%s", table[i].name);
}

/* Other kinds take no state directory. */
Test(agent_confine, only_read_only_kinds)
{
	cr_assert_eq(sbx_seccomp_apply_state(SBX_EXEC, 0, 0), -EINVAL);
	cr_assert_eq(sbx_seccomp_apply_state(SBX_KIND_COUNT, 0, -1), -EINVAL);
}
