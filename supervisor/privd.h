/* The privilege-separated monitor (corral-privd) and corrald's side of its channel.
 *
 * In the split installation corrald runs as an unprivileged user and parses everything a
 * tenant, an agent, a worker or a remote server can send. corral-privd, a small root daemon
 * without network, does the few acts that need privilege, on corrald's request only:
 *
 *   SPAWN   run corral-jail with an argument vector it vets against a fixed grammar
 *           (privd_vet), with the status, stderr and broker fds corrald passes along, and
 *           the /ipc and /state bind sources it opened itself without following links
 *           (bound by descriptor); answers SPAWNED with the jail's pid, or with a refusal
 *           and its reason
 *   KILL    SIGKILL one of the jails it spawned for this connection
 *   EXITED  (event) a jail ended: its pid and wait status
 *   KMSG    (event) the kernel's seccomp record (audit type 1326) of a process running as a
 *           tenant uid, when privd may read /dev/kmsg: corrald names the syscall that killed
 *           a worker from it, as it does from /dev/kmsg itself when it runs as root
 *
 * The channel is one SOCK_SEQPACKET unix socket; privd accepts one peer at a time whose
 * SO_PEERCRED uid is the configured corrald user. Each datagram is a struct privd_hdr, then
 * for SPAWN the argument vector as NUL-terminated strings (hdr.val of them), and 2 or 3 fds
 * (status, stderr[, broker]) in SCM_RIGHTS; for a refused SPAWNED the reason as text. When
 * the peer goes away privd kills every jail it spawned for it. See docs/ARCHITECTURE.md.
 */
#ifndef CORRAL_SUPERVISOR_PRIVD_H
#define CORRAL_SUPERVISOR_PRIVD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/limits.h"

enum privd_op {
	PRIVD_SPAWN = 1,	/* corrald -> privd: id, val = argc; argv; fds */
	PRIVD_KILL,		/* corrald -> privd: pid = jail */
	PRIVD_SPAWNED,		/* privd -> corrald: id, pid (0 when refused), val = 0 or -errno */
	PRIVD_EXITED,		/* privd -> corrald: pid = jail, val = wait status */
	PRIVD_KMSG,		/* privd -> corrald: the record's text */
};

struct privd_hdr {
	uint32_t op;
	uint32_t id;
	int32_t pid;
	int32_t val;
};

/* What privd allows; filled from its command line. */
struct privd_rules {
	const char *jail_path;		/* the one program SPAWN runs */
	const char *runtime_dir;	/* --bind-ro SRC:/ipc must be <runtime_dir>/w/NAME */
	const char *state_dir;		/* --bind-rw SRC:/state must be <state_dir>/agents/T/A */
	uid_t uid_min, uid_max;		/* tenant uids (and gids) workers may run as */
};

/* What a vetted argument vector asks for, for privd to prepare before it spawns. */
struct privd_vetted {
	uid_t uid;
	gid_t gid;
	const char *ipc_src;		/* the /ipc bind's argument ("SRC:/ipc", in argv) */
	const char *state_src;		/* the /state bind's argument, or NULL */
	size_t nkeep;			/* --keep-fd count: 0 or 1 (the broker, fd 3) */
};

/* A SPAWN payload (len bytes) as argv: exactly argc NUL-terminated strings and nothing after
 * them; argv has room for LIM_PRIVD_ARGS_MAX + 1 pointers. 0 or -EINVAL. */
int privd_split_argv(char *buf, size_t len, size_t argc, char **argv);

/* Check argv (argc entries) against the rules: the jail's own options only in the shapes
 * corrald produces, uid/gid in range, binds at the two fixed places, programs that are
 * regular, world-executable files without set-id bits. 0, or ERR_DENIED with the reason
 * in why. */
int privd_vet(const struct privd_rules *rules, char *const *argv, size_t argc,
    struct privd_vetted *out, char *why, size_t whylen);

/* ---- corrald's side ---- */

struct privc;

int privc_connect(const char *path, struct privc **out);	/* 0 or -errno */
void privc_free(struct privc *c);
int privc_fd(const struct privc *c);				/* poll for EXITED events */

/* Ask privd to run the jail. fds: status, stderr, and the broker end or -1. Returns 0 with
 * *jail_pid, ERR_DENIED with privd's reason in why, or -errno when the channel failed.
 * EXITED events that arrive meanwhile are kept for privc_next_exit(). */
int privc_spawn(struct privc *c, char *const *argv, const int fds[3], pid_t *jail_pid,
    char *why, size_t whylen);
int privc_kill(struct privc *c, pid_t jail_pid);
struct privd_event {
	enum privd_op op;		/* PRIVD_EXITED or PRIVD_KMSG */
	pid_t pid;			/* EXITED: the jail */
	int wstatus;			/* EXITED */
	char text[LIM_PRIVD_TEXT];	/* KMSG: the record, NUL-terminated */
};

/* The next event privd sent: 1 with *ev, 0 when none is pending, ERR_CLOSED when the channel
 * is gone (privd died: every jail died with it), ERR_PROTO on a malformed datagram. */
int privc_next(struct privc *c, struct privd_event *ev);

#endif
