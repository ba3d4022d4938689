/* seccomp allow-lists per worker kind, as data.
 *
 * A kind is a row of the profile table: the syscall groups it may use unconditionally, plus a
 * few knobs for the syscalls whose arguments matter (socket families, open modes, process
 * creation, the sanctioned exec, executable memory, ioctls). The builder turns a row into a
 * libseccomp filter; nothing else decides what a kind may do. Default action: kill the whole
 * process, so a violation is a death by SIGSYS that the supervisor sees and reports.
 * Names unknown to libseccomp on this architecture are skipped (e.g. "open" on arm64).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "workers/sandbox.h"

/* --- syscall groups ------------------------------------------------------------------- */

/* SANDBOX.md's base list (glibc + OpenSSL + nng after lock-down), plus what glibc does behind
 * ordinary calls: mremap (realloc of large blocks), the id getters, clock_getres, and
 * rt_sigaction (glibc installs its SIGCANCEL handler at the first pthread_create, abort()
 * resets SIGABRT's). */
static const char *const g_base[] = {
	"read", "readv", "pread64", "write", "writev", "sendmsg", "recvmsg", "close", "fcntl",
	"lseek", "newfstatat", "fstat", "statx", "poll", "ppoll", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "epoll_ctl", "eventfd2", "pipe2", "futex", "brk", "munmap", "mremap",
	"madvise", "getrandom", "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"clock_gettime", "clock_getres", "gettimeofday", "clock_nanosleep", "nanosleep",
	"sched_yield", "sched_getaffinity", "uname", "restart_syscall", "set_robust_list", "rseq",
	"rt_sigprocmask", "rt_sigreturn", "rt_sigaction", "sigaltstack", "exit", "exit_group",
	NULL
};

/* Operations on sockets a worker already has or may create per its family list. */
static const char *const g_sock[] = {
	"sendto", "recvfrom", "getsockopt", "setsockopt", "getsockname",
	"getpeername", "shutdown", NULL
};

/* Go runtimes (kubectl, flux) and most other language runtimes at start-up and after. */
static const char *const g_runtime[] = {
	"arch_prctl", "set_tid_address", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_sigpending", "epoll_create1", "epoll_create", "readlinkat",
	"readlink", "getdents64", "prlimit64", "getrlimit", "setrlimit", "getppid", "getcwd",
	"faccessat", "faccessat2", "access", "fstatfs", "statfs", "stat", "lstat", "dup", "dup2",
	"dup3", "pipe", "select", "pselect6", "tgkill", "tkill", "kill", "wait4", "waitid",
	"pidfd_open", "pidfd_send_signal", "getpgrp", "getpgid", "getsid", "setsid", "setpgid",
	"getresuid", "getresgid", "getgroups", "umask", "getrusage", "times", "sysinfo",
	"getcpu", "membarrier", "close_range", "timer_create", "timer_settime", "timer_gettime",
	"timer_getoverrun", "timer_delete", "timerfd_create", "timerfd_settime",
	"timerfd_gettime", "setitimer", "getitimer", "alarm", "pause", "signalfd4",
	"sched_getparam", "sched_getscheduler", "sched_get_priority_max",
	"sched_get_priority_min", "getpriority", "mincore", "msync", "fadvise64", "futex_waitv",
	"chdir", "fchdir", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "sendfile",
	"copy_file_range", "flock", "fsync", "fdatasync", "bind", "listen", "accept", "accept4",
	"sendmmsg", "recvmmsg", "time", NULL
};

/* Changing the filesystem: only for kinds whose writable places Landlock and the mount
 * namespace already confine (/tmp, the worker's private dir). */
static const char *const g_fs_write[] = {
	"mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2",
	"link", "linkat", "symlink", "symlinkat", "ftruncate", "truncate", "fallocate", "fchmod",
	"fchmodat", "utimensat", "creat", NULL
};

/* Killed everywhere: the allow-lists never name them, and the deny-list of SBX_JAIL_WORKER
 * (default allow) names them explicitly. execve/execveat, clone flags, socket families and
 * W^X are argument rules below. */
static const char *const g_always_kill[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key",
	"request_key", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
	"memfd_create", "memfd_secret", "personality", "kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module", "open_by_handle_at",
	"name_to_handle_at", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
	"open_tree", "mount_setattr", "swapon", "swapoff", "reboot", "acct", "quotactl",
	"quotactl_fd", "pidfd_getfd", "kcmp", "lookup_dcookie", "vhangup", "iopl", "ioperm",
	"modify_ldt", "syslog", "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
	"sethostname", "setdomainname", "uselib", "fanotify_init", "migrate_pages",
	"move_pages", NULL
};

/* --- the profile table ---------------------------------------------------------------- */

enum open_mode { OPEN_RO, OPEN_ANY };		/* RO: write modes fail EACCES */
enum procs { PROC_THREADS, PROC_FORK };		/* clone for threads only, or fork too */
enum mexec { MX_NEVER, MX_FILE };		/* PROT_EXEC never, or only file-backed maps */
enum ioctls { IOCTL_TTYQ, IOCTL_ANY };		/* a few queries, or any (jail does setsid) */

struct sbx_profile {
	const char *name;
	const char *const *groups[4];
	int families[5];		/* socket() families, 0-terminated (AF_UNSPEC never allowed) */
	bool netlink_route;		/* AF_NETLINK only with NETLINK_ROUTE */
	bool connect_inet_noop;		/* connect() to an IPv4/IPv6-sized address returns 0 */
	enum open_mode open;
	enum procs procs;
	int exec_slots;			/* execveat(FD_EXEC_SLOT + i, "", ..., AT_EMPTY_PATH) */
	enum mexec mexec;
	enum ioctls ioctl;
	bool deny_list;			/* default allow: kill only the always-kill list */
};

static const struct sbx_profile profiles[SBX_KIND_COUNT] = {
	[SBX_HTTP] = { "http", { g_base, g_sock }, { AF_UNIX }, false, true,
		OPEN_RO, PROC_THREADS, 0, MX_NEVER, IOCTL_TTYQ, false },
	[SBX_MODEL] = { "model", { g_base, g_sock }, { AF_UNIX }, false, true,
		OPEN_RO, PROC_THREADS, 0, MX_NEVER, IOCTL_TTYQ, false },
	[SBX_AGENT] = { "agent", { g_base, g_sock }, { AF_UNIX }, false, false,
		OPEN_RO, PROC_THREADS, 0, MX_NEVER, IOCTL_TTYQ, false },
	/* The exec worker's filter is inherited by the kubectl/flux it forks from its exec slots:
	 * Go's needs, and file-backed PROT_EXEC for a dynamically linked one's loader. */
	[SBX_EXEC] = { "exec", { g_base, g_sock, g_runtime, g_fs_write },
		{ AF_UNIX, AF_INET, AF_INET6, AF_NETLINK }, true, false,
		OPEN_ANY, PROC_FORK, FD_EXEC_SLOTS, MX_FILE, IOCTL_TTYQ, false },
	[SBX_JAIL_AGENT] = { "jail-agent", { g_base, g_sock, g_runtime, g_fs_write },
		{ AF_UNIX }, false, false, OPEN_ANY, PROC_FORK, 1, MX_FILE, IOCTL_ANY, false },
	[SBX_JAIL_HTTP] = { "jail-http", { g_base, g_sock, g_runtime, g_fs_write },
		{ AF_UNIX }, false, true, OPEN_ANY, PROC_FORK, 1, MX_FILE, IOCTL_ANY, false },
	[SBX_JAIL_EXEC] = { "jail-exec", { g_base, g_sock, g_runtime, g_fs_write },
		{ AF_UNIX, AF_INET, AF_INET6, AF_NETLINK }, true, false,
		OPEN_ANY, PROC_FORK, FD_EXEC_SLOTS, MX_FILE, IOCTL_ANY, false },
	/* exec_slots 2: FD_EXEC_SLOT + 1, where the jail put the program; FD_EXEC_SLOT itself was
	 * the bridge's own binary, closed at its exec and out of reach (RLIMIT_NOFILE). */
	[SBX_JAIL_AGENT_BRIDGED] = { "jail-agent-bridged", { g_base, g_sock, g_runtime, g_fs_write },
		{ AF_UNIX }, false, false, OPEN_ANY, PROC_FORK, 2, MX_FILE, IOCTL_ANY, false },
	[SBX_JAIL_WORKER] = { "jail-worker", { NULL }, { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK },
		false, false, OPEN_ANY, PROC_FORK, FD_EXEC_SLOTS, MX_FILE, IOCTL_ANY, true },
};

#define NS_FLAGS	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
			 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/* ioctls a C worker meets without asking: isatty() from stdio, non-blocking toggles. */
static const unsigned long tty_queries[] = {
	TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, 0
};

static const int prctl_ok[] = { PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, -1 };

/* --- the builder ---------------------------------------------------------------------- */

struct build {
	scmp_filter_ctx ctx;
	const struct sbx_profile *p;
	uint32_t kill;			/* KILL_PROCESS, or LOG/TRAP while debugging */
	int state_fd;			/* sbx_seccomp_apply_state(): writes only beneath it */
};

static int
rule(struct build *b, uint32_t act, const char *name, unsigned n, const struct scmp_arg_cmp *c)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;		/* not a syscall on this architecture */
	return seccomp_rule_add_array(b->ctx, act, nr, n, c);
}

static int
rule0(struct build *b, uint32_t act, const char *name)
{
	return rule(b, act, name, 0, NULL);
}

static int
rule1(struct build *b, uint32_t act, const char *name, struct scmp_arg_cmp c)
{
	return rule(b, act, name, 1, &c);
}

static int
rule2(struct build *b, uint32_t act, const char *name, struct scmp_arg_cmp c0,
    struct scmp_arg_cmp c1)
{
	struct scmp_arg_cmp c[2] = { c0, c1 };

	return rule(b, act, name, 2, c);
}

static int
add_groups(struct build *b)
{
	int r;

	for (size_t g = 0; g < 4 && b->p->groups[g]; g++)
		for (const char *const *s = b->p->groups[g]; *s; s++)
			if ((r = rule0(b, SCMP_ACT_ALLOW, *s)) < 0)
				return r;
	return 0;
}

/* W^X: no executable anonymous memory ever; for arbitrary programs, file-backed executable
 * maps are left to the dynamic loader (every writable mount in a jail is noexec). */
static int
add_memory(struct build *b)
{
	static const char *const prot2[] = { "mmap", "mprotect", "pkey_mprotect", NULL };
	int r;

	for (const char *const *s = prot2; *s; s++)
		if ((r = rule1(b, SCMP_ACT_ALLOW, *s, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
			return r;
	if (b->p->mexec == MX_FILE &&
	    (r = rule1(b, SCMP_ACT_ALLOW, "mmap",
	    SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0))) < 0)
		return r;
	return 0;
}

/* A read-only kind with a state directory (the agent's memory): any open relative to the
 * directory's fd, write modes refused elsewhere (libseccomp refuses overlapping rules of
 * different actions, hence the A0 != fd on the refusals); on files opened there, the writes,
 * syncs and truncation SQLite makes, and unlinkat of its journal. The path is not what is
 * checked: the fd is, so a name can never lead a write elsewhere; the directory the fd names
 * is the jail's /state, and Landlock confines writes there as well. */
static int
add_open_state(struct build *b, const int *wflags)
{
	static const char *const io[] = { "pwrite64", "fsync", "fdatasync", "ftruncate", NULL };
	const scmp_datum_t fd = (scmp_datum_t)b->state_fd;
	int r;

	if ((r = rule1(b, SCMP_ACT_ALLOW, "openat", SCMP_A0(SCMP_CMP_EQ, fd))) < 0 ||
	    (r = rule1(b, SCMP_ACT_ALLOW, "unlinkat", SCMP_A0(SCMP_CMP_EQ, fd))) < 0)
		return r;
	for (const int *f = wflags; *f; f++)
		if ((r = rule2(b, SCMP_ACT_ERRNO(EACCES), "openat", SCMP_A0(SCMP_CMP_NE, fd),
		    SCMP_A2(SCMP_CMP_MASKED_EQ, (scmp_datum_t)*f, (scmp_datum_t)*f))) < 0)
			return r;
	for (const char *const *s = io; *s; s++)
		if ((r = rule0(b, SCMP_ACT_ALLOW, *s)) < 0)
			return r;
	return 0;
}

/* Read-only kinds: a write mode is refused with EACCES (a library probing a cache file must
 * not take the worker down); the read-only open is allowed. openat2 hides its flags in a
 * struct: ENOSYS makes callers fall back to openat. */
static int
add_open(struct build *b)
{
	static const int wflags[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, 0 };
	const int mask = O_ACCMODE | O_CREAT | O_TRUNC;
	int r;

	if ((r = rule0(b, SCMP_ACT_ERRNO(ENOSYS), "openat2")) < 0)
		return r;
	if (b->p->open == OPEN_ANY) {
		if ((r = rule0(b, SCMP_ACT_ALLOW, "openat")) < 0 ||
		    (r = rule0(b, SCMP_ACT_ALLOW, "open")) < 0)
			return r;
		return 0;
	}
	if ((r = rule1(b, SCMP_ACT_ALLOW, "openat", SCMP_A2(SCMP_CMP_MASKED_EQ, mask, 0))) < 0)
		return r;
	if (b->state_fd >= 0)
		return add_open_state(b, wflags);
	for (const int *f = wflags; *f; f++)
		if ((r = rule1(b, SCMP_ACT_ERRNO(EACCES), "openat",
		    SCMP_A2(SCMP_CMP_MASKED_EQ, (scmp_datum_t)*f, (scmp_datum_t)*f))) < 0)
			return r;
	return 0;
}

/* clone: threads (CLONE_THREAD) and, for fork kinds, plain children; never a namespace.
 * clone3 hides its flags in a struct: ENOSYS, on which glibc falls back to clone (EPERM
 * would make pthread_create fail, SANDBOX.md gotcha 2). */
static int
add_clone(struct build *b)
{
	const scmp_datum_t m = CLONE_THREAD | NS_FLAGS;
	int r;

	if ((r = rule0(b, SCMP_ACT_ERRNO(ENOSYS), "clone3")) < 0 ||
	    (r = rule1(b, SCMP_ACT_ALLOW, "clone",
	    SCMP_A0(SCMP_CMP_MASKED_EQ, m, CLONE_THREAD))) < 0)
		return r;
	if (b->p->procs == PROC_FORK &&
	    ((r = rule1(b, SCMP_ACT_ALLOW, "clone", SCMP_A0(SCMP_CMP_MASKED_EQ, m, 0))) < 0 ||
	    (r = rule0(b, SCMP_ACT_ALLOW, "fork")) < 0 || (r = rule0(b, SCMP_ACT_ALLOW, "vfork")) < 0))
		return r;
	return 0;
}

/* The sanctioned exec (docs/SANDBOX.md): execveat of an exec slot with AT_EMPTY_PATH only.
 * execve never. The slots sit above RLIMIT_NOFILE, so no confined code can refill them. */
static int
add_exec(struct build *b)
{
	int r;

	for (int i = 0; i < b->p->exec_slots; i++)
		if ((r = rule2(b, SCMP_ACT_ALLOW, "execveat",
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)(FD_EXEC_SLOT + i)),
		    SCMP_A4(SCMP_CMP_EQ, AT_EMPTY_PATH))) < 0)
			return r;
	return 0;
}

/* connect(): HTTP kinds hold no inet socket but the connected ones the broker passes, and
 * curl 7.88 calls connect() on those even with CURL_SOCKOPT_ALREADY_CONNECTED (SANDBOX.md
 * gotcha 5), which then fails EISCONN. Seccomp cannot see the family, but the address length
 * tells: 16 (sockaddr_in) and 28 (sockaddr_in6) return 0 without a syscall; any other length
 * (AF_UNIX: nng's reconnect) is a real connect. One rule per value: libseccomp takes one
 * comparison per argument and rule. */
static int
add_connect(struct build *b)
{
	const scmp_datum_t in4 = 16, in6 = 28;
	int r;

	if (!b->p->connect_inet_noop)
		return rule0(b, SCMP_ACT_ALLOW, "connect");
	if ((r = rule1(b, SCMP_ACT_ERRNO(0), "connect", SCMP_A2(SCMP_CMP_EQ, in4))) < 0 ||
	    (r = rule1(b, SCMP_ACT_ERRNO(0), "connect", SCMP_A2(SCMP_CMP_EQ, in6))) < 0 ||
	    (r = rule1(b, SCMP_ACT_ALLOW, "connect", SCMP_A2(SCMP_CMP_LT, in4))) < 0 ||
	    (r = rule1(b, SCMP_ACT_ALLOW, "connect", SCMP_A2(SCMP_CMP_GT, in6))) < 0)
		return r;
	for (scmp_datum_t len = in4 + 1; len < in6; len++)
		if ((r = rule1(b, SCMP_ACT_ALLOW, "connect", SCMP_A2(SCMP_CMP_EQ, len))) < 0)
			return r;
	return 0;
}

static int
add_sockets(struct build *b)
{
	int r;

	if ((r = add_connect(b)) < 0)
		return r;

	if ((r = rule1(b, SCMP_ACT_ALLOW, "socketpair", SCMP_A0(SCMP_CMP_EQ, AF_UNIX))) < 0)
		return r;
	for (const int *f = b->p->families; *f; f++) {
		if (*f == AF_NETLINK && b->p->netlink_route)
			r = rule2(b, SCMP_ACT_ALLOW, "socket", SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
			    SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE));
		else
			r = rule1(b, SCMP_ACT_ALLOW, "socket", SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)*f));
		if (r < 0)
			return r;
	}
	return 0;
}

static int
add_misc(struct build *b)
{
	int r;

	if (b->p->ioctl == IOCTL_ANY) {
		if ((r = rule0(b, SCMP_ACT_ALLOW, "ioctl")) < 0)
			return r;
	} else {
		for (const unsigned long *q = tty_queries; *q; q++)
			if ((r = rule1(b, SCMP_ACT_ALLOW, "ioctl",
			    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, *q))) < 0)
				return r;
	}
	for (const int *o = prctl_ok; *o >= 0; o++)
		if ((r = rule1(b, SCMP_ACT_ALLOW, "prctl", SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)*o))) < 0)
			return r;
	/* abort() and sanitizers signal their own process: tgkill on our own tgid only, so an
	 * assertion shows as SIGABRT rather than as a sandbox violation. */
	if (b->p->procs == PROC_THREADS &&
	    (r = rule1(b, SCMP_ACT_ALLOW, "tgkill", SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()))) < 0)
		return r;
	return 0;
}

/* SBX_JAIL_WORKER: default allow, kill what no worker ever needs, before or after init. */
static int
add_deny(struct build *b)
{
	static const scmp_datum_t ns[] = { CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS,
		CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, 0 };
	int r;

	for (const char *const *s = g_always_kill; *s; s++)
		if ((r = rule0(b, b->kill, *s)) < 0)
			return r;
	if ((r = rule0(b, b->kill, "execve")) < 0 ||
	    (r = rule1(b, b->kill, "execveat", SCMP_A0(SCMP_CMP_LT, FD_EXEC_SLOT))) < 0 ||
	    (r = rule1(b, b->kill, "execveat",
	    SCMP_A0(SCMP_CMP_GT, FD_EXEC_SLOT + b->p->exec_slots - 1))) < 0 ||
	    (r = rule1(b, b->kill, "execveat", SCMP_A4(SCMP_CMP_NE, AT_EMPTY_PATH))) < 0 ||
	    (r = rule0(b, SCMP_ACT_ERRNO(ENOSYS), "clone3")) < 0)
		return r;
	for (const scmp_datum_t *f = ns; *f; f++)
		if ((r = rule1(b, b->kill, "clone", SCMP_A0(SCMP_CMP_MASKED_EQ, *f, *f))) < 0)
			return r;
	/* socket(): every family not listed, and anything out of range, is killed. */
	for (int fam = 0; fam < AF_MAX; fam++) {
		bool ok = false;

		for (const int *f = b->p->families; *f; f++)
			ok |= *f == fam;
		if (!ok && (r = rule1(b, b->kill, "socket", SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fam))) < 0)
			return r;
	}
	return rule1(b, b->kill, "socket", SCMP_A0(SCMP_CMP_GE, AF_MAX));
}

static int
build_filter(enum sbx_kind k, unsigned flags, int state_fd, scmp_filter_ctx *out)
{
	struct build b = { .p = &profiles[k], .kill = SCMP_ACT_KILL_PROCESS,
		.state_fd = state_fd };
	int r;

	if (flags & SBX_SC_LOG)
		b.kill = SCMP_ACT_LOG;
	else if (flags & SBX_SC_TRAP)
		b.kill = SCMP_ACT_TRAP;
	if ((b.ctx = seccomp_init(b.p->deny_list ? SCMP_ACT_ALLOW : b.kill)) == NULL)
		return -ENOMEM;
	if ((r = seccomp_attr_set(b.ctx, SCMP_FLTATR_ACT_BADARCH, b.kill)) < 0 ||
	    (r = seccomp_attr_set(b.ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0 ||
	    (r = seccomp_attr_set(b.ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0)
		goto out;
	if (b.p->deny_list)
		r = add_deny(&b);
	else if ((r = add_groups(&b)) >= 0 && (r = add_memory(&b)) >= 0 &&
	    (r = add_open(&b)) >= 0 && (r = add_clone(&b)) >= 0 && (r = add_exec(&b)) >= 0 &&
	    (r = add_sockets(&b)) >= 0)
		r = add_misc(&b);
	if (r < 0)
		goto out;
	*out = b.ctx;
	return 0;
out:
	seccomp_release(b.ctx);
	return r;
}

int
sbx_seccomp_apply(enum sbx_kind k, unsigned flags)
{
	return sbx_seccomp_apply_state(k, flags, -1);
}

int
sbx_seccomp_apply_state(enum sbx_kind k, unsigned flags, int state_fd)
{
	scmp_filter_ctx ctx;
	int r;

	if ((unsigned)k >= SBX_KIND_COUNT || (state_fd >= 0 && profiles[k].open != OPEN_RO))
		return -EINVAL;
	if ((r = build_filter(k, flags, state_fd, &ctx)) < 0)
		return r;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	/* libseccomp reports a failed TSYNC as a positive thread id on some versions */
	return r == 0 ? 0 : r < 0 ? r : ERR_SANDBOX;
}

int
sbx_seccomp_export(enum sbx_kind k, int fd)
{
	scmp_filter_ctx ctx;
	int r;

	if ((unsigned)k >= SBX_KIND_COUNT)
		return -EINVAL;
	if ((r = build_filter(k, 0, -1, &ctx)) < 0)
		return r;
	r = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	return r;
}

const char *
sbx_kind_name(enum sbx_kind k)
{
	return (unsigned)k < SBX_KIND_COUNT ? profiles[k].name : "?";
}

int
sbx_kind_parse(const char *name, enum sbx_kind *out)
{
	for (int k = 0; k < SBX_KIND_COUNT; k++)
		if (strcmp(name, profiles[k].name) == 0) {
			*out = (enum sbx_kind)k;
			return 0;
		}
	return ERR_UNKNOWN;
}

const char *
sbx_syscall_name(int nr)
{
	static _Thread_local char buf[40];
	char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

	snprintf(buf, sizeof(buf), "%s", s ? s : "?");
	free(s);
	return buf;
}
