/* Landlock, probed at run time. Debian 12's headers stop at ABI 2 and its stock kernel at
 * ABI 2 too, while newer kernels have TCP port rules (4), device ioctls (5) and scopes (6):
 * the constants are defined here and only the rights the running kernel knows are handled. */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "workers/sandbox.h"

/* Filesystem rights by ABI (uapi/linux/landlock.h of Linux 6.12). */
#define LL_FS_EXECUTE		(1ULL << 0)
#define LL_FS_WRITE_FILE	(1ULL << 1)
#define LL_FS_READ_FILE		(1ULL << 2)
#define LL_FS_READ_DIR		(1ULL << 3)
#define LL_FS_REMOVE_DIR	(1ULL << 4)
#define LL_FS_REMOVE_FILE	(1ULL << 5)
#define LL_FS_MAKE_CHAR		(1ULL << 6)
#define LL_FS_MAKE_DIR		(1ULL << 7)
#define LL_FS_MAKE_REG		(1ULL << 8)
#define LL_FS_MAKE_SOCK		(1ULL << 9)
#define LL_FS_MAKE_FIFO		(1ULL << 10)
#define LL_FS_MAKE_BLOCK	(1ULL << 11)
#define LL_FS_MAKE_SYM		(1ULL << 12)
#define LL_FS_REFER		(1ULL << 13)	/* ABI 2 */
#define LL_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#define LL_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)
#define LL_RULE_NET_PORT	2

/* Rights that make sense on a non-directory (others make landlock_add_rule fail EINVAL). */
#define LL_FS_FILE_RIGHTS	(LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | \
				 LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* The largest ruleset attribute we know. Older kernels accept the longer struct as long as
 * the fields they do not know are zero (copy_struct_from_user). */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

int
sbx_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return v > 0 ? (int)v : 0;
}

static uint64_t
fs_handled(int abi)
{
	uint64_t m = (LL_FS_MAKE_SYM << 1) - 1;	/* ABI 1: bits 0..12 */

	if (abi >= 2)
		m |= LL_FS_REFER;
	if (abi >= 3)
		m |= LL_FS_TRUNCATE;
	if (abi >= 5)
		m |= LL_FS_IOCTL_DEV;
	return m;
}

/* SBX_FS_* -> Landlock rights, restricted to what the ABI handles. */
static uint64_t
fs_rights(unsigned access, int abi)
{
	uint64_t m = 0;

	if (access & SBX_FS_READ)
		m |= LL_FS_READ_FILE | LL_FS_READ_DIR;
	if (access & SBX_FS_EXEC)
		m |= LL_FS_EXECUTE;
	if (access & SBX_FS_WRITE)
		m |= LL_FS_WRITE_FILE | LL_FS_TRUNCATE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE |
		    LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO |
		    LL_FS_MAKE_SYM | LL_FS_REFER;
	if (access & SBX_FS_DEV)
		m |= LL_FS_IOCTL_DEV;
	return m & fs_handled(abi);
}

static int
add_fs_rule(int rfd, const struct sbx_fs_rule *rule, int abi)
{
	struct landlock_path_beneath_attr pb = { 0 };
	struct stat sb;
	int fd = rule->fd, r = 0;

	if (rule->path && (fd = open(rule->path, O_PATH | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -errno;	/* nothing there: nothing to grant */
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		goto out;
	}
	pb.allowed_access = fs_rights(rule->access, abi);
	if (!S_ISDIR(sb.st_mode))
		pb.allowed_access &= LL_FS_FILE_RIGHTS;
	pb.parent_fd = fd;
	if (pb.allowed_access &&
	    syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		r = -errno;
out:
	if (rule->path)
		close(fd);
	return r;
}

static int
add_port_rules(int rfd, const uint16_t *ports, size_t n, uint64_t access)
{
	for (size_t i = 0; i < n; i++) {
		struct ll_net_port_attr np = { .allowed_access = access, .port = ports[i] };

		if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_NET_PORT, &np, 0) < 0)
			return -errno;
	}
	return 0;
}

static int
ruleset_create(const struct sbx_landlock *ll, int abi)
{
	struct ll_ruleset_attr attr = { .handled_access_fs = fs_handled(abi) };
	long fd;

	if ((ll->flags & SBX_LL_NET) && abi >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if ((ll->flags & SBX_LL_SCOPE) && abi >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	return fd < 0 ? -errno : (int)fd;
}

int
sbx_landlock_apply(const struct sbx_landlock *ll, int *abi_out)
{
	int abi = sbx_landlock_abi(), rfd = -1, r;

	if (abi > SBX_LANDLOCK_ABI_KNOWN)
		abi = SBX_LANDLOCK_ABI_KNOWN;	/* we can only handle the rights we can name */
	if (abi == 0) {
		if (abi_out)
			*abi_out = 0;
		return 0;
	}
	if ((rfd = ruleset_create(ll, abi)) < 0)
		return rfd;
	for (size_t i = 0; i < ll->nfs; i++)
		if ((r = add_fs_rule(rfd, &ll->fs[i], abi)) < 0)
			goto out;
	if ((ll->flags & SBX_LL_NET) && abi >= 4 &&
	    ((r = add_port_rules(rfd, ll->tcp_connect, ll->ntcp_connect, LL_NET_CONNECT_TCP)) < 0 ||
	    (r = add_port_rules(rfd, ll->tcp_bind, ll->ntcp_bind, LL_NET_BIND_TCP)) < 0))
		goto out;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, rfd, 0) < 0) {
		r = -errno;
		goto out;
	}
	if (abi_out)
		*abi_out = abi;
	r = 0;
out:
	close(rfd);
	return r;
}
