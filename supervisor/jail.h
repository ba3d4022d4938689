/* The pre-exec confinement corral-jail applies to every worker and to arbitrary programs.
 *
 * jail_exec() runs in a fresh, single-threaded process (corral-jail's main, never corrald:
 * nng is not fork-safe). It unshares the namespaces, forks the program's process (PID 1 of
 * its pid namespace), builds its filesystem view, drops to the tenant's uid, closes every fd
 * but the kept ones, sets rlimits, no_new_privs, Landlock and (for arbitrary programs) the
 * profile's seccomp filter, then execs through the sanctioned exec slot. The calling process
 * stays behind as a small reaper: it forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2,
 * escalates to SIGKILL when a terminating signal is not obeyed within LIM_DRAIN_MS, and
 * returns the program's wait status. See docs/SANDBOX.md.
 */
#ifndef CORRAL_SUPERVISOR_JAIL_H
#define CORRAL_SUPERVISOR_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

enum jail_profile {
	JAIL_AGENT,		/* no network at all */
	JAIL_HTTP,		/* empty net ns: connected sockets come from the supervisor's broker */
	JAIL_MODEL,		/* as HTTP */
	JAIL_EXEC,		/* own net ns with lo up: kubectl talks to a loopback CONNECT proxy */
	JAIL_PROFILE_COUNT
};

enum jail_seccomp {
	JAIL_SC_PROGRAM,	/* the profile's allow-list (SBX_JAIL_*), for arbitrary programs */
	JAIL_SC_WORKER,		/* the SBX_JAIL_WORKER deny-list; our binary adds its allow-list */
	JAIL_SC_NONE,		/* debugging only */
};

enum jail_net {
	JAIL_NET_DEFAULT,	/* the profile's: none for agent/http/model, lo for exec */
	JAIL_NET_NONE,		/* new, empty net ns (lo down) */
	JAIL_NET_LO,		/* new net ns, lo up */
	JAIL_NET_HOST,		/* the host's network: only when asked for explicitly */
};

struct jail_bind {
	const char *src;	/* host path */
	const char *dst;	/* absolute path inside; never under /proc or /dev */
	bool rw;		/* read-write (nosuid, nodev, noexec), else read-only */
};

#define JAIL_RL_DEFAULT		((rlim_t)0)		/* use the ipc/limits.h default */
#define JAIL_RL_UNLIMITED	RLIM_INFINITY

struct jail_spec {
	enum jail_profile profile;
	enum jail_seccomp seccomp;
	enum jail_net net;
	const char *tenant;		/* host name and passwd name inside; NULL = "corral" */
	uid_t uid;			/* as root: required, not 0. Unprivileged: 0 = own uid */
	gid_t gid;			/* 0 = uid's number */
	const struct jail_bind *binds;
	size_t nbinds;
	const int *keep_fds;		/* become 3, 4, ... in the program */
	size_t nkeep;
	const char *const *exec_slots;	/* binaries the program may exec: FD_EXEC_SLOT + 1 + i */
	size_t nexec_slots;
	rlim_t rl_as, rl_nofile, rl_nproc, rl_fsize;	/* JAIL_RL_DEFAULT or a value */
	size_t tmp_size;		/* /tmp tmpfs bytes, 0 = LIM_JAIL_TMP_SIZE */
	const char *path;		/* the program (opened before anything else changes) */
	const char *const *argv;
	const char *const *envp;	/* the whole environment; NULL = empty */
};

/* What the reaper learns from the jailed child, reported before waiting for it. */
struct jail_report {
	pid_t pid;			/* the program's pid in our pid namespace */
	int landlock_abi;		/* 0 = not enforced */
	bool userns, netns;
	enum jail_seccomp seccomp;
	bool exec_ok;			/* false: the child failed before exec */
	const char *step;		/* when !exec_ok: which step failed ("mount /proc") */
	int err;			/* when !exec_ok: errno of that step */
};

typedef void (*jail_report_fn)(void *ctx, const struct jail_report *rep);

/* Exit statuses of the jailed child when it could not reach the program. */
#define JAIL_EXIT_SETUP		125	/* a confinement step failed */
#define JAIL_EXIT_EXEC		126	/* execveat failed */

/* Run spec. Returns 0 with the program's wait status in *wstatus once it ended, or -errno /
 * ERR_* when nothing was started (bad spec, program not found, namespaces refused). report
 * (may be NULL) is called exactly once: when the child has exec'd or failed, or with pid 0
 * and the failed step when nothing was started. */
int jail_exec(const struct jail_spec *spec, jail_report_fn report, void *ctx, int *wstatus);

const char *jail_profile_name(enum jail_profile p);
int jail_profile_parse(const char *name, enum jail_profile *out);	/* 0 or ERR_UNKNOWN */

#endif
