/* The jailed program's filesystem: a fresh tmpfs root holding read-only binds of the system
 * directories and a few /etc files, synthesized passwd/group/hosts, a new /proc (read-only,
 * pids only), a /dev with four device binds, a size-capped noexec /tmp and the binds the spec
 * asks for. Never /run, never the host's /tmp, never the supervisor's runtime dir.
 *
 * Construction follows the staging trick: mount a tmpfs on /tmp, pivot into it so the host
 * root sits at /old (with its real /tmp visible again), bind from /old into /new, then pivot
 * into /new and detach the rest. Every writable mount is noexec: with the seccomp rule that
 * allows PROT_EXEC only for file-backed maps, no code can be written and then run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/jail_int.h"
#include "workers/sandbox.h"

#define STAGE	"/tmp"		/* where the staging tmpfs is mounted (host path, must exist) */

/* Host directories exposed read-only (with exec) when present, or re-created as symlinks. */
static const char *const sys_dirs[] = {
	"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", NULL
};

/* /etc entries bound read-only when present: TLS trust, the loader's cache, time zone,
 * Debian's alternatives (symlink farm behind /usr/bin/awk and friends), name service files
 * that do not name any host. */
static const char *const etc_entries[] = {
	"ssl", "ca-certificates", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime",
	"alternatives", "nsswitch.conf", "services", "protocols", NULL
};

static const char *const dev_nodes[] = { "null", "zero", "random", "urandom", NULL };

int
jail_fail(struct jail_ctx *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->step, sizeof(c->step), fmt, ap);
	va_end(ap);
	return -(err ? err : EINVAL);
}

static unsigned long long
attr_of(unsigned long ms)
{
	return (ms & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) | (ms & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
	    (ms & MS_NODEV ? MOUNT_ATTR_NODEV : 0) | (ms & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
}

/* Add mount flags to the mount at path (and beneath when recursive). mount_setattr only sets,
 * so the flags the host locked stay; the remount fallback (before Linux 5.12) must repeat them
 * itself or the kernel refuses it inside a user namespace. */
static int
mount_restrict(struct jail_ctx *c, const char *path, unsigned long ms, bool recursive)
{
	struct mount_attr a = { .attr_set = attr_of(ms) };
	struct statvfs v;

	if (mount_setattr(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a, sizeof(a)) == 0)
		return 0;
	if (errno != ENOSYS)
		return jail_fail(c, errno, "mount_setattr %s", path);
	if (statvfs(path, &v) < 0)
		return jail_fail(c, errno, "statvfs %s", path);
	ms |= (v.f_flag & ST_RDONLY ? MS_RDONLY : 0) | (v.f_flag & ST_NOSUID ? MS_NOSUID : 0) |
	    (v.f_flag & ST_NODEV ? MS_NODEV : 0) | (v.f_flag & ST_NOEXEC ? MS_NOEXEC : 0) |
	    (v.f_flag & ST_NOATIME ? MS_NOATIME : 0) | (v.f_flag & ST_RELATIME ? MS_RELATIME : 0);
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | ms, NULL) < 0)
		return jail_fail(c, errno, "remount %s", path);
	return 0;
}

/* mkdir -p below /new; every existing component must be a real directory, so that no
 * symlink we made can carry a mount point somewhere else. */
static int
mkdir_below(struct jail_ctx *c, const char *path)
{
	char buf[PATH_MAX];
	struct stat sb;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return jail_fail(c, ENAMETOOLONG, "mkdir %s", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char save = *p;

		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return jail_fail(c, errno, "mkdir %s", buf);
		if (lstat(buf, &sb) < 0 || !S_ISDIR(sb.st_mode))
			return jail_fail(c, ENOTDIR, "mkdir %s", buf);
		if ((*p = save) == '\0')
			return 0;
	}
}

static int
make_file(struct jail_ctx *c, const char *path, const char *text, mode_t mode)
{
	size_t len = text ? strlen(text) : 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0)
		return jail_fail(c, errno, "create %s", path);
	if (len && write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return jail_fail(c, errno ? errno : EIO, "write %s", path);
	}
	close(fd);
	return 0;
}

/* Bind src (a host path seen under /old) at dst (under /new) and restrict its flags. */
static int
bind_path(struct jail_ctx *c, const char *src, const char *dst, unsigned long ms)
{
	struct stat sb;
	char parent[PATH_MAX];
	char *slash;
	int r;

	if (stat(src, &sb) < 0)
		return jail_fail(c, errno, "bind %s", src + 4);
	snprintf(parent, sizeof(parent), "%s", dst);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		if ((r = mkdir_below(c, parent)) < 0)
			return r;
	}
	if (S_ISDIR(sb.st_mode)) {
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			return jail_fail(c, errno, "mkdir %s", dst);
	} else if ((r = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
		return jail_fail(c, errno, "create %s", dst);
	} else {
		close(r);
	}
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return jail_fail(c, errno, "bind %s", src + 4);
	return mount_restrict(c, dst, ms, true);
}

/* /usr, /lib*, /bin, /sbin: bound read-only, or the same symlink (merged /usr). */
static int
fs_system(struct jail_ctx *c)
{
	char src[64], dst[64], link[256];
	struct stat sb;
	ssize_t n;
	int r;

	for (const char *const *d = sys_dirs; *d; d++) {
		snprintf(src, sizeof(src), "/old/%s", *d);
		snprintf(dst, sizeof(dst), "/new/%s", *d);
		if (lstat(src, &sb) < 0)
			continue;
		if (S_ISLNK(sb.st_mode)) {
			if ((n = readlink(src, link, sizeof(link) - 1)) < 0)
				return jail_fail(c, errno, "readlink %s", src + 4);
			link[n] = '\0';
			if (symlink(link, dst) < 0)
				return jail_fail(c, errno, "symlink %s", dst + 4);
		} else if (S_ISDIR(sb.st_mode) &&
		    (r = bind_path(c, src, dst, MS_RDONLY | MS_NOSUID | MS_NODEV)) < 0) {
			return r;
		}
	}
	return 0;
}

/* Host name and passwd name: tenant names are checked by the supervisor's config loader;
 * this is the last line. */
const char *
jail_safe_name(const char *s)
{
	if (!s || !*s || strlen(s) > 32)
		return "corral";
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return "corral";
	return s;
}

static int
fs_etc(struct jail_ctx *c)
{
	const char *name = jail_safe_name(c->spec->tenant);
	char src[96], dst[96], text[512];
	struct stat sb;
	int r;

	if (mkdir("/new/etc", 0755) < 0)
		return jail_fail(c, errno, "mkdir /etc");
	for (const char *const *e = etc_entries; *e; e++) {
		snprintf(src, sizeof(src), "/old/etc/%s", *e);
		snprintf(dst, sizeof(dst), "/new/etc/%s", *e);
		if (stat(src, &sb) < 0)
			continue;	/* absent or a dangling link: nothing to show */
		if ((r = bind_path(c, src, dst, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) < 0)
			return r;
	}
	/* Synthesized: the host's user list and host names are none of the program's business. */
	snprintf(text, sizeof(text), "root:x:0:0:root:/:/usr/sbin/nologin\n"
	    "%s:x:%u:%u:%s:/tmp:/usr/sbin/nologin\n"
	    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
	    name, (unsigned)c->uid, (unsigned)c->gid, name);
	if ((r = make_file(c, "/new/etc/passwd", text, 0644)) < 0)
		return r;
	snprintf(text, sizeof(text), "root:x:0:\n%s:x:%u:\nnogroup:x:65534:\n", name,
	    (unsigned)c->gid);
	if ((r = make_file(c, "/new/etc/group", text, 0644)) < 0)
		return r;
	snprintf(text, sizeof(text), "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t%s\n", name);
	if ((r = make_file(c, "/new/etc/hosts", text, 0644)) < 0)
		return r;
	snprintf(text, sizeof(text), "%s\n", name);
	return make_file(c, "/new/etc/hostname", text, 0644);
}

/* A /proc of the new pid namespace, read-only (no write to /proc/self/mem: that would undo
 * W^X) and, where the kernel has subset=pid (5.8), without /proc/sys, kcore and friends. */
static int
fs_proc(struct jail_ctx *c)
{
	const unsigned long ms = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;

	if (mkdir("/new/proc", 0555) < 0)
		return jail_fail(c, errno, "mkdir /proc");
	if (mount("proc", "/new/proc", "proc", ms, "subset=pid") == 0 ||
	    mount("proc", "/new/proc", "proc", ms, NULL) == 0)
		return 0;
	return jail_fail(c, errno, "mount /proc");
}

static int
fs_dev(struct jail_ctx *c)
{
	static const char *const links[][2] = { { "/proc/self/fd", "/new/dev/fd" },
		{ "/proc/self/fd/0", "/new/dev/stdin" }, { "/proc/self/fd/1", "/new/dev/stdout" },
		{ "/proc/self/fd/2", "/new/dev/stderr" } };
	char src[64], dst[64];
	int r;

	if (mkdir("/new/dev", 0755) < 0)
		return jail_fail(c, errno, "mkdir /dev");
	if (mount("tmpfs", "/new/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
		return jail_fail(c, errno, "mount /dev");
	for (const char *const *d = dev_nodes; *d; d++) {
		snprintf(src, sizeof(src), "/old/dev/%s", *d);
		snprintf(dst, sizeof(dst), "/new/dev/%s", *d);
		if ((r = bind_path(c, src, dst, MS_NOSUID | MS_NOEXEC)) < 0)
			return r;
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			return jail_fail(c, errno, "symlink %s", links[i][1] + 4);
	/* The tmpfs itself (not the device binds on it) becomes read-only. */
	return mount_restrict(c, "/new/dev", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, false);
}

static int
fs_tmp(struct jail_ctx *c)
{
	char opt[64];
	size_t size = c->spec->tmp_size ? c->spec->tmp_size : LIM_JAIL_TMP_SIZE;

	snprintf(opt, sizeof(opt), "mode=1777,size=%zu", size);
	if (mkdir("/new/tmp", 01777) < 0)
		return jail_fail(c, errno, "mkdir /tmp");
	if (mount("tmpfs", "/new/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opt) < 0)
		return jail_fail(c, errno, "mount /tmp");
	return 0;
}

/* A bind source given as an inherited descriptor ("/proc/self/fd/N", corral-privd's): it
 * belongs to our caller's mount namespace, from which the kernel does not bind. Its path,
 * opened again in ours, must be the very same directory (device and inode); the bind then
 * goes through that new descriptor, so no path can change between the check and the mount. */
static int
fs_bind_fds(struct jail_ctx *c)
{
	for (size_t i = 0; i < c->nbinds; i++) {
		char path[PATH_MAX];
		struct stat a, b;
		ssize_t k;
		int n, m;

		if (strncmp(c->binds[i].src, "/proc/self/fd/", 14) != 0)
			continue;
		n = atoi(c->binds[i].src + 14);
		if ((k = readlink(c->binds[i].src, path, sizeof(path) - 1)) <= 0 || path[0] != '/')
			return jail_fail(c, k < 0 ? errno : ENOENT, "bind fd %d", n);
		path[k] = '\0';
		if ((m = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			return jail_fail(c, errno, "bind fd %d: %s", n, path);
		if (fstat(n, &a) < 0 || fstat(m, &b) < 0 || a.st_dev != b.st_dev ||
		    a.st_ino != b.st_ino)
			return jail_fail(c, EXDEV, "bind fd %d: %s is another directory now", n, path);
		snprintf(c->bind_src[i], sizeof(c->bind_src[i]), "/proc/self/fd/%d", m);
		c->binds[i].src = c->bind_src[i];
	}
	return 0;
}

static int
fs_binds(struct jail_ctx *c)
{
	char src[PATH_MAX + 8], dst[PATH_MAX + 8];
	int r;

	for (size_t i = 0; i < c->nbinds; i++) {
		const struct jail_bind *b = &c->binds[i];

		snprintf(src, sizeof(src), "/old%s", b->src);
		snprintf(dst, sizeof(dst), "/new%s", b->dst);
		if ((r = bind_path(c, src, dst, b->rw ? MS_NOSUID | MS_NODEV | MS_NOEXEC :
		    MS_RDONLY | MS_NOSUID | MS_NODEV)) < 0)
			return r;
	}
	return 0;
}

static int
fs_stage(struct jail_ctx *c)
{
	char opt[64];

	/* Nothing we mount may propagate back to the host, nor the host's into us. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return jail_fail(c, errno, "make / private");
	if (mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16k") < 0)
		return jail_fail(c, errno, "mount staging tmpfs");
	if (chdir(STAGE) < 0 || mkdir("new", 0755) < 0 || mkdir("old", 0755) < 0)
		return jail_fail(c, errno, "staging dirs");
	snprintf(opt, sizeof(opt), "mode=0755,size=%u", (unsigned)LIM_JAIL_ROOT_SIZE);
	if (mount("tmpfs", "new", "tmpfs", MS_NOSUID | MS_NODEV, opt) < 0)
		return jail_fail(c, errno, "mount root tmpfs");
	if (syscall(SYS_pivot_root, ".", "old") < 0)
		return jail_fail(c, errno, "pivot_root to staging");
	if (chdir("/") < 0)
		return jail_fail(c, errno, "chdir /");
	return 0;
}

int
jail_fs_build(struct jail_ctx *c)
{
	int r;

	if ((r = fs_bind_fds(c)) < 0 || (r = fs_stage(c)) < 0 || (r = fs_system(c)) < 0 ||
	    (r = fs_etc(c)) < 0 ||
	    (r = fs_proc(c)) < 0 || (r = fs_dev(c)) < 0 || (r = fs_tmp(c)) < 0 ||
	    (r = fs_binds(c)) < 0)
		return r;
	/* pivot_root(".", "."): the staging root (with the host under /old) ends up stacked on
	 * the new root and is detached at once. */
	if (chdir("/new") < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return jail_fail(c, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return jail_fail(c, errno, "detach the host root");
	if (chdir("/") < 0)
		return jail_fail(c, errno, "chdir /");
	return mount_restrict(c, "/", MS_RDONLY | MS_NOSUID | MS_NODEV, false);
}

int
jail_fs_landlock(struct jail_ctx *c, int *abi_out)
{
	struct sbx_fs_rule rules[16 + LIM_JAIL_BINDS_MAX + FD_EXEC_SLOTS];
	struct sbx_landlock ll = { .fs = rules, .flags = SBX_LL_SCOPE };
	char sys[8][16];
	size_t n = 0, k = 0;

	/* Everything in this view may be read; writes only where a writable mount is; exec only
	 * from the system directories, read-only binds and the exec slots. */
	rules[n++] = (struct sbx_fs_rule){ "/", -1, SBX_FS_READ };
	for (const char *const *d = sys_dirs; *d && k < 8; d++, k++) {
		snprintf(sys[k], sizeof(sys[k]), "/%s", *d);
		rules[n++] = (struct sbx_fs_rule){ sys[k], -1, SBX_FS_READ | SBX_FS_EXEC };
	}
	rules[n++] = (struct sbx_fs_rule){ "/tmp", -1, SBX_FS_READ | SBX_FS_WRITE };
	rules[n++] = (struct sbx_fs_rule){ "/dev/null", -1, SBX_FS_READ | SBX_FS_WRITE };
	for (size_t i = 0; i < c->nbinds; i++)
		rules[n++] = (struct sbx_fs_rule){ c->binds[i].dst, -1, c->binds[i].rw ?
		    SBX_FS_READ | SBX_FS_WRITE : SBX_FS_READ | SBX_FS_EXEC };
	rules[n++] = (struct sbx_fs_rule){ NULL, c->prog_fd, SBX_FS_READ | SBX_FS_EXEC };
	for (size_t i = 0; i < FD_EXEC_SLOTS; i++)
		if (c->slot_fds[i] >= 0)
			rules[n++] = (struct sbx_fs_rule){ NULL, c->slot_fds[i],
			    SBX_FS_READ | SBX_FS_EXEC };
	ll.nfs = n;
	/* Agents never speak TCP; HTTP workers' passed sockets would meet a Landlock check in
	 * curl's connect() on them (SANDBOX.md gotcha 5); exec binds its loopback proxy. */
	if (c->spec->profile == JAIL_AGENT)
		ll.flags |= SBX_LL_NET;
	return sbx_landlock_apply(&ll, abi_out);
}
