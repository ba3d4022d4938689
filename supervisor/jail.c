/* jail_exec(): namespaces, the child's confinement steps in order, the sanctioned exec, and
 * the reaper that stays behind. The filesystem view is jail_fs.c. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/err.h"
#include "supervisor/jail_int.h"
#include "workers/sandbox.h"

#define FD_SYNC		(FD_EXEC_SLOT - 1)	/* the child's sync socket until exec */

static const char *const profile_names[JAIL_PROFILE_COUNT] = {
	[JAIL_AGENT] = "agent", [JAIL_HTTP] = "http", [JAIL_MODEL] = "model", [JAIL_EXEC] = "exec",
};

static const enum sbx_kind profile_filter[JAIL_PROFILE_COUNT] = {
	[JAIL_AGENT] = SBX_JAIL_AGENT, [JAIL_HTTP] = SBX_JAIL_HTTP, [JAIL_MODEL] = SBX_JAIL_HTTP,
	[JAIL_EXEC] = SBX_JAIL_EXEC,
};

/* Signals the reaper passes on; the first four also start the drain clock. */
static const int fwd_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, 0 };

/* child -> reaper, one datagram each on a SOCK_SEQPACKET pair; EOF at exec (CLOEXEC). */
enum { SYNC_READY = 1, SYNC_FAIL };
struct sync_msg {
	int type;
	int landlock_abi;
	int err;
	char step[96];
};

const char *
jail_profile_name(enum jail_profile p)
{
	return (unsigned)p < JAIL_PROFILE_COUNT ? profile_names[p] : "?";
}

int
jail_profile_parse(const char *name, enum jail_profile *out)
{
	for (int p = 0; p < JAIL_PROFILE_COUNT; p++)
		if (strcmp(name, profile_names[p]) == 0) {
			*out = (enum jail_profile)p;
			return 0;
		}
	return ERR_UNKNOWN;
}

/* ------------------------------------------------------------------ validation */

/* An absolute path without ".", ".." or empty components. */
static bool
path_clean(const char *p)
{
	if (!p || p[0] != '/' || strlen(p) >= PATH_MAX - 8)
		return false;
	for (const char *s = p; *s; ) {
		const char *e;
		size_t n;

		while (*s == '/')
			s++;
		e = strchrnul(s, '/');
		n = (size_t)(e - s);
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') ||
		    (n == 0 && e[0] == '/'))
			return false;
		s = e;
	}
	return strstr(p, "//") == NULL;
}

static bool
path_under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* "/proc/self/fd/N", an inherited descriptor of N >= 3 */
static bool
bind_by_fd(const char *src)
{
	const char *p = src + 14;
	char *end;
	long n;

	if (strncmp(src, "/proc/self/fd/", 14) != 0 || *p < '0' || *p > '9')
		return false;
	n = strtol(p, &end, 10);
	return *end == '\0' && n >= 3 && n < FD_SYNC && fcntl((int)n, F_GETFD) >= 0;
}

static int
check_binds(const struct jail_spec *s, struct jail_ctx *c)
{
	if (s->nbinds > LIM_JAIL_BINDS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < s->nbinds; i++) {
		const struct jail_bind *b = &s->binds[i];

		if (!path_clean(b->dst) || strcmp(b->dst, "/") == 0 || path_under(b->dst, "/proc") ||
		    path_under(b->dst, "/dev"))
			return -EINVAL;
		/* Resolved in our (the caller's) view: inside, the host root is only at /old. */
		if (!b->src || b->src[0] != '/')
			return -EINVAL;
		if (bind_by_fd(b->src)) {
			/* a directory our caller opened for us (corral-privd): bound through the
			 * descriptor itself, never by a path that could change meanwhile */
			snprintf(c->bind_src[i], sizeof(c->bind_src[i]), "%s", b->src);
		} else if (realpath(b->src, c->bind_src[i]) == NULL) {
			return -errno;
		}
		c->binds[i] = (struct jail_bind){ c->bind_src[i], b->dst, b->rw };
	}
	c->nbinds = s->nbinds;
	return 0;
}

static int
check_spec(const struct jail_spec *s, struct jail_ctx *c)
{
	int r;

	if ((unsigned)s->profile >= JAIL_PROFILE_COUNT || !s->path || !s->argv || !s->argv[0])
		return -EINVAL;
	if (s->nkeep > LIM_JAIL_KEEP_FDS_MAX || s->nexec_slots > FD_EXEC_SLOTS - 1)
		return -E2BIG;
	for (size_t i = 0; i < s->nkeep; i++)
		if (s->keep_fds[i] < 3 || s->keep_fds[i] >= FD_SYNC ||
		    fcntl(s->keep_fds[i], F_GETFD) < 0)
			return -EBADF;
	if (s->rl_nofile != JAIL_RL_DEFAULT && (s->rl_nofile < 3 + s->nkeep ||
	    s->rl_nofile >= FD_SYNC))
		return -EINVAL;	/* the exec slots must stay out of reach */
	c->root = geteuid() == 0;
	if (c->root && s->uid == 0)
		return -EPERM;	/* never run a jailed program as root */
	if (!c->root && s->uid != 0 && s->uid != geteuid())
		return -EPERM;
	c->uid = c->root ? s->uid : geteuid();
	c->gid = c->root ? (s->gid ? s->gid : (gid_t)s->uid) : getegid();
	c->net = s->net != JAIL_NET_DEFAULT ? s->net :
	    s->profile == JAIL_EXEC ? JAIL_NET_LO : JAIL_NET_NONE;
	if ((r = check_binds(s, c)) < 0)
		return r;
	return 0;
}

/* ------------------------------------------------------------------ the child */

static int
write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;
	size_t n = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		r = -errno;
	close(fd);
	return r;
}

/* Unprivileged: a user namespace mapping only our own ids, so the program keeps its uid and
 * loses every capability at exec. */
static int
userns_enter(struct jail_ctx *c)
{
	char map[64];
	int r;

	if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0)
		return jail_fail(c, errno, "unshare user+pid namespaces");
	if ((r = write_text("/proc/self/setgroups", "deny")) < 0)
		return jail_fail(c, -r, "setgroups deny");
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)c->uid, (unsigned)c->uid);
	if ((r = write_text("/proc/self/uid_map", map)) < 0)
		return jail_fail(c, -r, "uid_map");
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)c->gid, (unsigned)c->gid);
	if ((r = write_text("/proc/self/gid_map", map)) < 0)
		return jail_fail(c, -r, "gid_map");
	return 0;
}

static int
lo_up(struct jail_ctx *c)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (s < 0)
		return jail_fail(c, errno, "socket for lo");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = jail_fail(c, errno, "SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (r == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		r = jail_fail(c, errno, "bring lo up");
	close(s);
	return r;
}

static int
child_namespaces(struct jail_ctx *c)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
	const char *host = jail_safe_name(c->spec->tenant);

	if (c->net != JAIL_NET_HOST)
		flags |= CLONE_NEWNET;
	if (unshare(flags) < 0)
		return jail_fail(c, errno, "unshare mount/ipc/uts/cgroup/net namespaces");
	if (sethostname(host, strlen(host)) < 0)
		return jail_fail(c, errno, "sethostname");
	if (c->net == JAIL_NET_LO)
		return lo_up(c);
	return 0;
}

/* The bounding set goes first (needs CAP_SETPCAP), then the ids; changing euid also clears
 * the parent-death signal, so that is set after. */
static int
child_credentials(struct jail_ctx *c)
{
	struct pollfd pfd = { .fd = c->sync_fd, .events = POLLIN };

	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return jail_fail(c, errno, "drop capability %d from the bounding set", cap);
	if (c->root && (setgroups(0, NULL) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 ||
	    setresuid(c->uid, c->uid, c->uid) < 0))
		return jail_fail(c, errno, "switch to uid %u gid %u", (unsigned)c->uid,
		    (unsigned)c->gid);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return jail_fail(c, errno, "PR_SET_PDEATHSIG");
	/* The reaper may have died before the line above: its end of the pair is then closed. */
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
		return jail_fail(c, ESRCH, "the reaper is gone");
	return 0;
}

/* Kept fds become 3, 4, ...; the program's O_PATH fd goes to FD_EXEC_SLOT (close-on-exec),
 * extra exec slots above it, the sync socket just below; everything else is closed. */
static int
child_fds(struct jail_ctx *c)
{
	const struct jail_spec *s = c->spec;
	int tmp[LIM_JAIL_KEEP_FDS_MAX];
	struct rlimit rl;
	unsigned top = FD_EXEC_SLOT + FD_EXEC_SLOTS;

	/* The slots must be reachable now, and out of reach once RLIMIT_NOFILE is lowered. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < top) {
		rl.rlim_cur = rl.rlim_max < top ? rl.rlim_max : top;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (dup3(c->sync_fd, FD_SYNC, O_CLOEXEC) < 0 ||
	    dup3(c->prog_fd, FD_EXEC_SLOT, O_CLOEXEC) < 0)
		return jail_fail(c, errno, "place the exec slot");
	c->sync_fd = FD_SYNC;
	c->prog_fd = FD_EXEC_SLOT;
	for (size_t i = 0; i + 1 < FD_EXEC_SLOTS; i++) {
		int slot = FD_EXEC_SLOT + 1 + (int)i;

		if (c->slot_fds[i] < 0)
			close(slot);		/* nothing inherited may sit in a slot */
		else if (dup3(c->slot_fds[i], slot, 0) < 0)
			return jail_fail(c, errno, "place exec slot %d", slot);
		else
			c->slot_fds[i] = slot;
	}
	for (size_t i = 0; i < s->nkeep; i++)
		if ((tmp[i] = fcntl(s->keep_fds[i], F_DUPFD_CLOEXEC, 3 + (int)s->nkeep)) < 0)
			return jail_fail(c, errno, "keep fd %d", s->keep_fds[i]);
	for (size_t i = 0; i < s->nkeep; i++)
		if (dup2(tmp[i], 3 + (int)i) < 0)
			return jail_fail(c, errno, "keep fd %d as %zu", s->keep_fds[i], 3 + i);
	if (syscall(SYS_close_range, 3 + (unsigned)s->nkeep, FD_SYNC - 1, 0) < 0 ||
	    syscall(SYS_close_range, top, ~0U, 0) < 0)
		return jail_fail(c, errno, "close_range");
	return 0;
}

static int
set_rlimit(struct jail_ctx *c, int res, rlim_t v, rlim_t def, const char *name)
{
	struct rlimit rl;

	v = v == JAIL_RL_DEFAULT ? def : v;
	rl.rlim_cur = rl.rlim_max = v;
	if (setrlimit(res, &rl) < 0)
		return jail_fail(c, errno, "RLIMIT_%s", name);
	return 0;
}

static int
child_rlimits(struct jail_ctx *c)
{
	const struct jail_spec *s = c->spec;
	rlim_t as = s->profile == JAIL_EXEC ? LIM_RL_AS_EXEC : LIM_RL_AS;
	int r;

#ifdef CORRAL_SANITIZED
	/* ASan/UBSan builds reserve terabytes of shadow address space: an address-space limit
	 * would kill every program at start. Only an explicit --rlimit-as applies there. */
	as = RLIM_INFINITY;
#endif
	if ((r = set_rlimit(c, RLIMIT_CORE, 0, 0, "CORE")) < 0 ||
	    (r = set_rlimit(c, RLIMIT_NOFILE, s->rl_nofile, LIM_RL_NOFILE, "NOFILE")) < 0 ||
	    (r = set_rlimit(c, RLIMIT_NPROC, s->rl_nproc, LIM_RL_NPROC, "NPROC")) < 0 ||
	    (r = set_rlimit(c, RLIMIT_FSIZE, s->rl_fsize, LIM_RL_FSIZE, "FSIZE")) < 0 ||
	    (r = set_rlimit(c, RLIMIT_AS, s->rl_as, as, "AS")) < 0)
		return r;
	return 0;
}

/* No capability survives into the program, not even in its own user namespace. */
static int
caps_clear(struct jail_ctx *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	if (syscall(SYS_capset, &h, d) < 0)
		return jail_fail(c, errno, "capset");
	return 0;
}

static int
child_setup(struct jail_ctx *c, int *abi)
{
	int r;

	if ((r = child_namespaces(c)) < 0 || (r = jail_fs_build(c)) < 0)
		return r;
	if (setsid() < 0)	/* no controlling tty: TIOCSTI cannot type into the caller's shell */
		return jail_fail(c, errno, "setsid");
	if ((r = child_credentials(c)) < 0 || (r = child_fds(c)) < 0 ||
	    (r = child_rlimits(c)) < 0 || (r = caps_clear(c)) < 0)
		return r;
	umask(077);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return jail_fail(c, errno, "PR_SET_NO_NEW_PRIVS");
	if ((r = jail_fs_landlock(c, abi)) < 0)
		return jail_fail(c, -r, "landlock");
	return 0;
}

static void
child_send(struct jail_ctx *c, int type, int abi, int err)
{
	struct sync_msg m = { .type = type, .landlock_abi = abi, .err = err };

	snprintf(m.step, sizeof(m.step), "%s", c->step);
	if (write(c->sync_fd, &m, sizeof(m)) < 0) {
		/* the reaper is gone; PDEATHSIG is on its way */
	}
}

static void
signals_reset(const sigset_t *mask)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);	/* EINVAL for glibc's internal ones: fine */
	sigprocmask(SIG_SETMASK, mask, NULL);
}

static __attribute__((noreturn)) void
child_main(struct jail_ctx *c)
{
	static const char *const empty[] = { NULL };
	const char *const *envp = c->spec->envp ? c->spec->envp : empty;
	sigset_t none;
	int abi = 0, r;

	if ((r = child_setup(c, &abi)) < 0) {
		child_send(c, SYNC_FAIL, 0, -r);
		_exit(JAIL_EXIT_SETUP);
	}
	child_send(c, SYNC_READY, abi, 0);
	sigemptyset(&none);
	signals_reset(&none);
	r = 0;
	if (c->spec->seccomp == JAIL_SC_PROGRAM)
		r = sbx_seccomp_apply(profile_filter[c->spec->profile], 0);
	else if (c->spec->seccomp == JAIL_SC_WORKER)
		r = sbx_seccomp_apply(SBX_JAIL_WORKER, 0);
	if (r < 0) {
		jail_fail(c, 0, "seccomp");
		child_send(c, SYNC_FAIL, abi, r > -4096 ? -r : EPERM);
		_exit(JAIL_EXIT_SETUP);
	}
	syscall(SYS_execveat, FD_EXEC_SLOT, "", (char *const *)c->spec->argv,
	    (char *const *)envp, AT_EMPTY_PATH);
	r = errno;
	jail_fail(c, r, "exec %s", c->spec->path);
	child_send(c, SYNC_FAIL, abi, r);
	_exit(JAIL_EXIT_EXEC);
}

/* ------------------------------------------------------------------ the reaper */

struct reaper {
	struct jail_ctx *c;
	pid_t pid;
	int sigfd, sync;
	jail_report_fn report;
	void *ctx;
	struct sync_msg last;
	bool reported;
	long long drain_deadline;	/* ms, monotonic; 0 = none */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
reaper_report(struct reaper *rp)
{
	struct jail_report rep = { .pid = rp->pid, .userns = !rp->c->root,
		.netns = rp->c->net != JAIL_NET_HOST, .seccomp = rp->c->spec->seccomp };

	if (rp->reported)
		return;
	rp->reported = true;
	rep.landlock_abi = rp->last.landlock_abi;
	rep.exec_ok = rp->last.type == SYNC_READY;
	if (!rep.exec_ok) {
		rep.step = rp->last.type == SYNC_FAIL ? rp->last.step : "the child died before exec";
		rep.err = rp->last.err;
	}
	if (rp->report)
		rp->report(rp->ctx, &rep);
}

/* Read what the child says until EOF (its exec, or its death). */
static void
reaper_sync(struct reaper *rp)
{
	struct sync_msg m;
	ssize_t n;

	while ((n = recv(rp->sync, &m, sizeof(m), MSG_DONTWAIT)) > 0)
		if ((size_t)n == sizeof(m) && rp->last.type != SYNC_FAIL) {
			m.step[sizeof(m.step) - 1] = '\0';
			rp->last = m;
		}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(rp->sync);
		rp->sync = -1;
		reaper_report(rp);
	}
}

/* One signal from the signalfd: forward it, or on SIGCHLD see whether the child is done. */
static bool
reaper_signal(struct reaper *rp, int *wstatus)
{
	struct signalfd_siginfo si;

	if (read(rp->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return false;
	if (si.ssi_signo == SIGCHLD)
		return waitpid(rp->pid, wstatus, WNOHANG) == rp->pid;
	kill(rp->pid, (int)si.ssi_signo);
	/* PID 1 of a namespace ignores signals it has no handler for, SIGKILL aside: give it
	 * LIM_DRAIN_MS to act on a terminating one, then make sure. */
	if (si.ssi_signo != SIGUSR1 && si.ssi_signo != SIGUSR2 && rp->drain_deadline == 0)
		rp->drain_deadline = now_ms() + LIM_DRAIN_MS;
	return false;
}

static int
reaper_run(struct reaper *rp, int *wstatus)
{
	for (;;) {
		struct pollfd p[2] = { { rp->sigfd, POLLIN, 0 }, { rp->sync, POLLIN, 0 } };
		int timeout = -1;

		if (rp->drain_deadline) {
			long long left = rp->drain_deadline - now_ms();

			timeout = left > 0 ? (int)left : 0;
		}
		if (poll(p, rp->sync >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
			return -errno;
		if (rp->sync >= 0 && p[1].revents)
			reaper_sync(rp);
		if (p[0].revents && reaper_signal(rp, wstatus)) {
			if (rp->sync >= 0)
				reaper_sync(rp);
			reaper_report(rp);
			return 0;
		}
		if (rp->drain_deadline && now_ms() >= rp->drain_deadline) {
			kill(rp->pid, SIGKILL);
			rp->drain_deadline = 0;
		}
	}
}

/* ------------------------------------------------------------------ jail_exec */

static int
open_programs(const struct jail_spec *s, struct jail_ctx *c)
{
	struct stat sb;

	for (size_t i = 0; i < FD_EXEC_SLOTS; i++)
		c->slot_fds[i] = -1;
	if ((c->prog_fd = open(s->path, O_PATH | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(c->prog_fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		return -EACCES;
	for (size_t i = 0; i < s->nexec_slots; i++) {
		if ((c->slot_fds[i] = open(s->exec_slots[i], O_PATH | O_CLOEXEC)) < 0)
			return -errno;
		if (fstat(c->slot_fds[i], &sb) < 0 || !S_ISREG(sb.st_mode))
			return -EACCES;
	}
	return 0;
}

static void
close_programs(struct jail_ctx *c)
{
	if (c->prog_fd >= 0)
		close(c->prog_fd);
	c->prog_fd = -1;
	for (size_t i = 0; i < FD_EXEC_SLOTS; i++) {
		if (c->slot_fds[i] >= 0)
			close(c->slot_fds[i]);
		c->slot_fds[i] = -1;
	}
}

/* SIGCHLD and the forwarded signals: blocked before fork, read through a signalfd after. */
static void
reaper_sigset(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (const int *s = fwd_signals; *s; s++)
		sigaddset(set, *s);
}

static int
start(struct jail_ctx *c, int sp[2], sigset_t *old, pid_t *pid)
{
	sigset_t set;
	int r;

	reaper_sigset(&set);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	/* The pid namespace applies to our children; the user namespace (unprivileged) must
	 * exist before the child so that it holds the capabilities to build its view. */
	if (c->root && unshare(CLONE_NEWPID) < 0)
		return jail_fail(c, errno, "unshare pid namespace");
	if (!c->root && (r = userns_enter(c)) < 0)
		return r;
	if ((*pid = fork()) < 0)
		return jail_fail(c, errno, "fork");
	return 0;
}

int
jail_exec(const struct jail_spec *spec, jail_report_fn report, void *ctx, int *wstatus)
{
	static struct jail_ctx c;	/* big (bind paths); one jail per process */
	struct reaper rp = { .c = &c, .sigfd = -1, .sync = -1, .report = report, .ctx = ctx };
	int sp[2] = { -1, -1 }, r;
	sigset_t old, set;

	memset(&c, 0, sizeof(c));
	c.spec = spec;
	c.prog_fd = -1;
	/* Nothing the caller left open may land in an exec slot. */
	syscall(SYS_close_range, FD_SYNC, ~0U, 0);
	if ((r = check_spec(spec, &c)) < 0) {
		jail_fail(&c, r > -4096 ? -r : EINVAL, "invalid jail specification");
		goto fail;
	}
	if ((r = open_programs(spec, &c)) < 0) {
		jail_fail(&c, -r, "open %s", spec->path);
		goto fail;
	}
	if ((r = start(&c, sp, &old, &rp.pid)) < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		goto fail;
	}
	if (rp.pid == 0) {
		close(sp[0]);
		c.sync_fd = sp[1];
		child_main(&c);
	}
	close(sp[1]);
	sp[1] = -1;
	rp.sync = sp[0];
	sp[0] = -1;
	close_programs(&c);
	for (size_t i = 0; i < spec->nkeep; i++)
		close(spec->keep_fds[i]);	/* the peer must see EOF when the program dies */
	reaper_sigset(&set);
	if ((rp.sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		r = -errno;
		kill(rp.pid, SIGKILL);
		waitpid(rp.pid, wstatus, 0);
		goto out;
	}
	r = reaper_run(&rp, wstatus);
	goto out;
fail:
	if (report) {
		struct jail_report rep = { .step = c.step, .err = r > -4096 ? -r : 0 };

		report(ctx, &rep);
	}
out:
	if (rp.sigfd >= 0)
		close(rp.sigfd);
	if (rp.sync >= 0)
		close(rp.sync);
	for (int i = 0; i < 2; i++)
		if (sp[i] >= 0)
			close(sp[i]);
	close_programs(&c);
	return r;
}
