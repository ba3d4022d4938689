/* Shared between jail.c (processes, credentials, fds) and jail_fs.c (the filesystem view). */
#ifndef CORRAL_SUPERVISOR_JAIL_INT_H
#define CORRAL_SUPERVISOR_JAIL_INT_H

#include <limits.h>

#include "ipc/limits.h"
#include "supervisor/jail.h"

struct jail_ctx {
	const struct jail_spec *spec;
	uid_t uid;			/* the program's uid and gid */
	gid_t gid;
	bool root;			/* started as root: switch uid; else a user namespace */
	enum jail_net net;		/* resolved from the profile */
	int prog_fd;			/* O_PATH of the program */
	int slot_fds[FD_EXEC_SLOTS];	/* O_PATH of the extra exec slots, -1 when unused */
	int sync_fd;			/* our end of the socketpair to the reaper */
	struct jail_bind binds[LIM_JAIL_BINDS_MAX];	/* spec's, with sources made real */
	size_t nbinds;
	char bind_src[LIM_JAIL_BINDS_MAX][PATH_MAX];
	char step[96];			/* the step that failed, for the report */
};

/* Record the failing step (printf-style) and return -err. */
int jail_fail(struct jail_ctx *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* s if it is a plain name ([A-Za-z0-9._-], at most 32), else "corral". */
const char *jail_safe_name(const char *s);

/* In the child, in its new mount namespace: build the new root and pivot into it. */
int jail_fs_build(struct jail_ctx *c);

/* Landlock rules matching the view jail_fs_build() made. *abi_out: 0 when not enforced. */
int jail_fs_landlock(struct jail_ctx *c, int *abi_out);

#endif
