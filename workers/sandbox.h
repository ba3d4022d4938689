/* Confinement primitives: seccomp allow-lists per worker kind (data tables), Landlock, and the
 * /proc/PID/status check the supervisor makes from the outside.
 *
 * Used on both sides of the trust line, but holds no policy and no secret: corral-jail applies
 * them before exec, our worker binaries apply their kind's filter after init, corrald reads
 * sbx_proc_status() before routing anything to a worker. See docs/SANDBOX.md.
 */
#ifndef CORRAL_WORKERS_SANDBOX_H
#define CORRAL_WORKERS_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* --- seccomp --------------------------------------------------------------------------- */

enum sbx_kind {
	/* Our own binaries, installed by the binary itself after init (nng dialled, CA loaded). */
	SBX_HTTP,		/* corral-worker serving an HTTP family (connected sockets passed in) */
	SBX_EXEC,		/* corral-worker serving flux: forks kubectl/flux from exec slots */
	SBX_MODEL,		/* the model gateway: like HTTP */
	SBX_AGENT,		/* corral-agent: AF_UNIX to its supervisor socket, nothing else */
	/* Arbitrary programs, installed by corral-jail right before the sanctioned execveat. */
	SBX_JAIL_AGENT,
	SBX_JAIL_HTTP,
	SBX_JAIL_EXEC,
	/* Installed by corral-jail --worker before exec'ing one of our binaries: default allow,
	 * kills the always-kill list and every exec but the sanctioned ones. The binary then stacks
	 * its own allow-list on top (filters stack; the strictest answer wins). */
	SBX_JAIL_WORKER,
	/* An arbitrary program an MCP bridge (corral-agent --mcp-bridge) forks, installed by the
	 * bridge's child before its sanctioned exec: jail-agent's allow-list, the exec slot being
	 * the jail's first --exec-slot (FD_EXEC_SLOT + 1; FD_EXEC_SLOT is closed by then). */
	SBX_JAIL_AGENT_BRIDGED,
	SBX_KIND_COUNT
};

/* sbx_seccomp_apply() flags. LOG and TRAP are for finding a missing syscall, never for use. */
#define SBX_SC_LOG	0x1u	/* SCMP_ACT_LOG instead of killing */
#define SBX_SC_TRAP	0x2u	/* SIGSYS to a handler instead of killing */

/* Load the filter of kind k for every thread of the process (TSYNC): default KILL_PROCESS,
 * other architectures killed, clone3 -> ENOSYS. Sets no_new_privs. 0, -errno or ERR_SANDBOX. */
int sbx_seccomp_apply(enum sbx_kind k, unsigned flags);
/* The same for a read-only kind that keeps a state directory (corral-agent's memory):
 * state_fd is that directory, opened before lock-down. Opens for writing and unlinkat are
 * allowed relative to state_fd only (elsewhere write modes still fail with EACCES), plus
 * pwrite64, fsync, fdatasync and ftruncate on what was opened. state_fd < 0: exactly
 * sbx_seccomp_apply(). -EINVAL for a kind that opens anything anyway. */
int sbx_seccomp_apply_state(enum sbx_kind k, unsigned flags, int state_fd);

/* Write kind k's filter as libseccomp pseudo-code to fd (review and docs). */
int sbx_seccomp_export(enum sbx_kind k, int fd);

const char *sbx_kind_name(enum sbx_kind k);		/* "http", ..., "jail-agent"; never NULL */
int sbx_kind_parse(const char *name, enum sbx_kind *out);	/* 0 or ERR_UNKNOWN */

/* The name of native syscall nr ("execve"), or "?" when unknown. The string lives in a
 * thread-local buffer: valid until the thread's next call. */
const char *sbx_syscall_name(int nr);

/* --- Landlock -------------------------------------------------------------------------- */

/* Access classes for a path rule; mapped to the Landlock rights the running kernel knows. */
#define SBX_FS_READ	0x1u	/* read files, list directories */
#define SBX_FS_EXEC	0x2u	/* execute (execve; mmap of libraries needs only READ) */
#define SBX_FS_WRITE	0x4u	/* write/truncate files, create and remove entries beneath */
#define SBX_FS_DEV	0x8u	/* ioctl on devices opened beneath (ABI >= 5) */

struct sbx_fs_rule {
	const char *path;	/* NULL: use fd instead */
	int fd;			/* an O_PATH fd of a file or directory, when path is NULL */
	unsigned access;	/* SBX_FS_* */
};

/* sbx_landlock flags */
#define SBX_LL_NET	0x1u	/* ABI >= 4: TCP bind/connect only to the ports listed */
#define SBX_LL_SCOPE	0x2u	/* ABI >= 6: no abstract unix sockets or signals leaving the domain */

struct sbx_landlock {
	const struct sbx_fs_rule *fs;
	size_t nfs;
	const uint16_t *tcp_connect;	/* with SBX_LL_NET */
	size_t ntcp_connect;
	const uint16_t *tcp_bind;
	size_t ntcp_bind;
	unsigned flags;
};

#define SBX_LANDLOCK_ABI_KNOWN	7	/* the newest ABI whose rights this code names */

/* The kernel's Landlock ABI version, 0 when Landlock is absent or disabled. */
int sbx_landlock_abi(void);

/* Restrict the calling thread (and what it execs) to ll: every filesystem right the ABI knows
 * is handled, rules grant back. A path that does not exist is skipped (it grants nothing).
 * *abi_out gets the ABI in effect, 0 when the kernel has no Landlock (then nothing is
 * enforced and 0 is returned: the caller decides whether that is acceptable). Needs
 * no_new_privs (or CAP_SYS_ADMIN). 0 or -errno. */
int sbx_landlock_apply(const struct sbx_landlock *ll, int *abi_out);

/* --- the outside check ----------------------------------------------------------------- */

struct sbx_status {
	pid_t pid;
	uid_t uid, euid, suid, fsuid;
	gid_t gid, egid, sgid, fsgid;
	int no_new_privs;	/* -1 when the line is absent */
	int seccomp;		/* 0 none, 1 strict, 2 filter; -1 absent */
	int seccomp_filters;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	pid_t nspid_inner;	/* pid in the innermost pid namespace (NSpid's last field) */
	int ns_depth;		/* number of NSpid fields: 1 = not in a child pid namespace */
};

int sbx_status_parse(const char *text, size_t len, struct sbx_status *st);
int sbx_self_status(struct sbx_status *st);
int sbx_proc_status(pid_t pid, struct sbx_status *st);

/* 0 when st shows a locked-down process: NoNewPrivs 1, Seccomp 2, CapEff/CapPrm/CapAmb 0 and,
 * unless uid is (uid_t)-1, all four uids equal to uid. Else ERR_SANDBOX. */
int sbx_status_check(const struct sbx_status *st, uid_t uid);

#endif
