/* /proc/PID/status: what the kernel says about a process's confinement. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/err.h"
#include "workers/sandbox.h"

#define STATUS_MAX	8192u	/* /proc/PID/status is ~1.5 KiB; more is not a status file */

/* Up to four unsigned decimal fields after the tag. */
static int
parse_ids(const char *p, unsigned long v[4])
{
	char *end;

	for (int i = 0; i < 4; i++) {
		errno = 0;
		v[i] = strtoul(p, &end, 10);
		if (end == p || errno)
			return -EINVAL;
		p = end;
	}
	return 0;
}

static int
parse_hex(const char *p, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(p, &end, 16);
	return end == p || errno ? -EINVAL : 0;
}

static int
parse_nspid(const char *p, struct sbx_status *st)
{
	char *end;
	long v;

	st->ns_depth = 0;
	for (;;) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (errno || v <= 0)
			return -EINVAL;
		st->nspid_inner = (pid_t)v;
		st->ns_depth++;
		p = end;
	}
	return st->ns_depth > 0 ? 0 : -EINVAL;
}

/* One "Tag:\tvalue" line; unknown tags are ignored. */
static int
parse_line(const char *line, struct sbx_status *st)
{
	const char *v = strchr(line, ':');
	unsigned long ids[4];
	int r = 0;

	if (!v)
		return 0;
	v++;
#define TAG(t) (strncmp(line, t ":", sizeof(t)) == 0)
	if (TAG("Pid")) {
		st->pid = (pid_t)strtol(v, NULL, 10);
	} else if (TAG("Uid") || TAG("Gid")) {
		if ((r = parse_ids(v, ids)) < 0)
			return r;
		if (line[0] == 'U') {
			st->uid = (uid_t)ids[0], st->euid = (uid_t)ids[1];
			st->suid = (uid_t)ids[2], st->fsuid = (uid_t)ids[3];
		} else {
			st->gid = (gid_t)ids[0], st->egid = (gid_t)ids[1];
			st->sgid = (gid_t)ids[2], st->fsgid = (gid_t)ids[3];
		}
	} else if (TAG("NoNewPrivs")) {
		st->no_new_privs = (int)strtol(v, NULL, 10);
	} else if (TAG("Seccomp")) {
		st->seccomp = (int)strtol(v, NULL, 10);
	} else if (TAG("Seccomp_filters")) {
		st->seccomp_filters = (int)strtol(v, NULL, 10);
	} else if (TAG("CapInh")) {
		r = parse_hex(v, &st->cap_inh);
	} else if (TAG("CapPrm")) {
		r = parse_hex(v, &st->cap_prm);
	} else if (TAG("CapEff")) {
		r = parse_hex(v, &st->cap_eff);
	} else if (TAG("CapBnd")) {
		r = parse_hex(v, &st->cap_bnd);
	} else if (TAG("CapAmb")) {
		r = parse_hex(v, &st->cap_amb);
	} else if (TAG("NSpid")) {
		r = parse_nspid(v, st);
	}
#undef TAG
	return r;
}

int
sbx_status_parse(const char *text, size_t len, struct sbx_status *st)
{
	struct sbx_status s = { .no_new_privs = -1, .seccomp = -1, .seccomp_filters = -1,
		.cap_eff = UINT64_MAX, .cap_prm = UINT64_MAX, .cap_amb = UINT64_MAX,
		.uid = (uid_t)-1, .euid = (uid_t)-1, .suid = (uid_t)-1, .fsuid = (uid_t)-1 };
	char line[256];
	size_t i = 0;
	int r;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;

		if (n < sizeof(line)) {	/* longer lines (Cpus_allowed_list on big boxes) don't matter */
			memcpy(line, text + i, n);
			line[n] = '\0';
			if ((r = parse_line(line, &s)) < 0)
				return ERR_PROTO;
		}
		i += n + 1;
	}
	if (s.pid <= 0 || s.uid == (uid_t)-1)
		return ERR_PROTO;
	*st = s;
	return 0;
}

static int
read_status(const char *path, struct sbx_status *st)
{
	char buf[STATUS_MAX];
	size_t len = 0;
	ssize_t n;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return r;
		}
		len += (size_t)n;
	}
	close(fd);
	return sbx_status_parse(buf, len, st);
}

int
sbx_self_status(struct sbx_status *st)
{
	return read_status("/proc/self/status", st);
}

int
sbx_proc_status(pid_t pid, struct sbx_status *st)
{
	char path[64];

	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return read_status(path, st);
}

int
sbx_status_check(const struct sbx_status *st, uid_t uid)
{
	if (st->no_new_privs != 1 || st->seccomp != 2)
		return ERR_SANDBOX;
	if (st->cap_eff != 0 || st->cap_prm != 0 || st->cap_amb != 0)
		return ERR_SANDBOX;
	if (uid != (uid_t)-1 && (st->uid != uid || st->euid != uid || st->suid != uid ||
	    st->fsuid != uid))
		return ERR_SANDBOX;
	return 0;
}
