/* probe: attempt one action inside a confined process and say what the kernel answered.
 *
 * usage: probe MODE NAME [ARG]
 *   MODE  http | exec | model | agent: apply that worker kind's seccomp filter first, as our
 *         worker binaries do after init (run it under corral-jail --worker);
 *         jailed: the jail's own filter is in place (corral-jail without --worker).
 * Exit status: 0 refused with an expected errno, or worked (positive and info probes);
 * 10 the forbidden action was allowed; 11 refused with another errno, or a positive probe
 * failed; 12 setup failed; 13 unknown probe. A death by SIGSYS is seccomp's answer.
 * One line on stdout says what happened (info probes print their facts).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "workers/sandbox.h"

enum { P_OK = 0, P_ALLOWED = 10, P_ERRNO = 11, P_SETUP = 12, P_UNKNOWN = 13 };

extern char **environ;
static const char *arg;		/* the optional third argument */
static char **rest;		/* and everything after the name */

/* Sanitizers must not walk the process at exit with ptrace (LeakSanitizer would, and die by
 * SIGSYS): the probe ends with _exit and leak checking is off. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(1, buf, (size_t)n) < 0)
		_exit(P_SETUP);
}

/* rv < 0 with errno in the 0-terminated ok list: refused as expected. */
static int
verdict(long rv, const int *ok)
{
	int e = errno;

	if (rv >= 0) {
		say("allowed");
		return P_ALLOWED;
	}
	for (; *ok; ok++)
		if (*ok == e) {
			say("refused %s", strerrorname_np(e));
			return P_OK;
		}
	say("unexpected %s", strerrorname_np(e));
	return P_ERRNO;
}
#define EXPECT(rv, ...) verdict((long)(rv), (const int[]){ __VA_ARGS__, 0 })

static int
works(long rv, const char *what)
{
	if (rv < 0) {
		say("%s failed: %s", what, strerrorname_np(errno));
		return P_ERRNO;
	}
	say("ok");
	return P_OK;
}

/* ------------------------------------------------------------------ forbidden */

static int
p_execve(void)
{
	char *const av[] = { "true", NULL };

	return EXPECT(execve("/bin/true", av, environ), EPERM, EACCES);
}

static int
p_execveat_fd(void)
{
	char *const av[] = { "true", NULL };
	int fd = open("/bin/true", O_PATH | O_CLOEXEC);

	if (fd < 0)
		return EXPECT(fd, EACCES, ENOENT);
	return EXPECT(syscall(SYS_execveat, fd, "", av, environ, AT_EMPTY_PATH), EPERM, EACCES);
}

/* The slot is closed after the jail's exec, and RLIMIT_NOFILE keeps anyone from refilling it. */
static int
p_slot_refill(void)
{
	int r = EXPECT(dup2(1, FD_EXEC_SLOT), EBADF);

	if (r != P_OK)
		return r;
	return EXPECT(fcntl(1, F_DUPFD, FD_EXEC_SLOT), EINVAL);
}

static int
p_slot_exec(void)
{
	char *const av[] = { "x", NULL };

	return EXPECT(syscall(SYS_execveat, FD_EXEC_SLOT, "", av, environ, AT_EMPTY_PATH), EBADF);
}

/* An extra exec slot, for the exec worker: runs the binary placed there (ARG = slot index,
 * then its arguments). */
static int
p_slot_run(void)
{
	static char *def[] = { "slot", NULL };
	int fd = FD_EXEC_SLOT + (arg ? atoi(arg) : 1);
	char **av = arg ? rest : def;

	av[0] = "slot";		/* the slot index gives way to the program's argv[0] */
	return works(syscall(SYS_execveat, fd, "", av, environ, AT_EMPTY_PATH), "execveat slot");
}

static int
p_socket_inet(void)
{
	return EXPECT(socket(AF_INET, SOCK_STREAM, 0), EACCES, EPERM, EAFNOSUPPORT);
}

static int
p_socket_inet6(void)
{
	return EXPECT(socket(AF_INET6, SOCK_DGRAM, 0), EACCES, EPERM, EAFNOSUPPORT);
}

static int
p_socket_netlink(void)
{
	return EXPECT(socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), EACCES, EPERM);
}

static int
p_socket_packet(void)
{
	return EXPECT(socket(AF_PACKET, SOCK_RAW, 0), EACCES, EPERM);
}

static int
p_ptrace(void)
{
	return EXPECT(ptrace(PTRACE_TRACEME, 0, NULL, NULL), EPERM);
}

static int
p_process_vm_readv(void)
{
	char a[8] = "abc", b[8];
	struct iovec l = { b, sizeof(b) }, r = { a, sizeof(a) };

	return EXPECT(process_vm_readv(getpid(), &l, 1, &r, 1, 0), EPERM);
}

static int
p_unshare(void)
{
	return EXPECT(unshare(CLONE_NEWUSER), EPERM, EINVAL);
}

/* clone with a namespace flag: a child, if it happens, leaves at once. */
static int
p_clone_ns(int flag)
{
	long r = syscall(SYS_clone, (long)(flag | SIGCHLD), 0L, 0L, 0L, 0L);

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return EXPECT(r, EPERM, EINVAL);
}

static int
p_clone_newns(void)
{
	return p_clone_ns(CLONE_NEWNS);
}

static int
p_clone_newnet(void)
{
	return p_clone_ns(CLONE_NEWNET);
}

/* glibc falls back to clone() only on ENOSYS. */
static int
p_clone3(void)
{
	struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size,
		tls; } a = { .exit_signal = SIGCHLD };
	long r = syscall(SYS_clone3, &a, sizeof(a));

	if (r == 0)
		_exit(0);
	return EXPECT(r, ENOSYS);
}

static int
p_mount(void)
{
	return EXPECT(mount("none", "/tmp", "tmpfs", 0, NULL), EPERM);
}

static int
p_bpf(void)
{
	return EXPECT(syscall(SYS_bpf, 0, NULL, 0), EPERM);
}

static int
p_io_uring(void)
{
	struct io_uring_params p = { 0 };

	return EXPECT(syscall(SYS_io_uring_setup, 1, &p), EPERM);
}

static int
p_memfd_exec(void)
{
	char *const av[] = { "x", NULL };
	int fd = memfd_create("probe", MFD_CLOEXEC);

	if (fd < 0)
		return EXPECT(fd, EPERM);
	return EXPECT(syscall(SYS_execveat, fd, "", av, environ, AT_EMPTY_PATH), EPERM, EACCES);
}

static int
p_mmap_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return EXPECT(p == MAP_FAILED ? -1 : 0, EPERM, EACCES);
}

static int
p_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return P_SETUP;
	return EXPECT(mprotect(p, 4096, PROT_READ | PROT_EXEC), EPERM, EACCES);
}

/* Write code to /tmp and map it executable: /tmp is noexec, or the open is refused. */
static int
p_tmp_exec(void)
{
	static const char code[] = "\xc3";	/* ret */
	int fd = open("/tmp/probe-code", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
	void *p;

	if (fd < 0)
		return EXPECT(fd, EACCES, EROFS);
	if (write(fd, code, 1) != 1 || ftruncate(fd, 4096) < 0)
		return P_SETUP;
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	return EXPECT(p == MAP_FAILED ? -1 : 0, EPERM, EACCES);
}

static int
p_open_write(void)
{
	return EXPECT(open("/tmp/probe-w", O_WRONLY | O_CREAT | O_CLOEXEC, 0600), EACCES);
}

static int
p_write_usr(void)
{
	return EXPECT(open("/usr/probe-w", O_WRONLY | O_CREAT | O_CLOEXEC, 0600), EACCES, EROFS);
}

/* Writing /proc/self/mem would patch code pages and undo W^X. */
static int
p_proc_mem(void)
{
	return EXPECT(open("/proc/self/mem", O_RDWR | O_CLOEXEC), EACCES, EROFS, EPERM);
}

/* Only Landlock stands between a jailed program and writing /dev/zero (a writable bind). */
static int
p_dev_zero_write(void)
{
	return EXPECT(open("/dev/zero", O_WRONLY | O_CLOEXEC), EACCES);
}

static int
p_perf(void)
{
	return EXPECT(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
}

static int
p_userfaultfd(void)
{
	return EXPECT(syscall(SYS_userfaultfd, 0), EPERM);
}

static int
p_keyctl(void)
{
	return EXPECT(syscall(SYS_add_key, "user", "probe", "x", 1, -2), EPERM);
}

static int
p_setns(void)
{
	return EXPECT(setns(0, 0), EPERM, EINVAL);
}

static int
p_personality(void)
{
	return EXPECT(syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */), EPERM);
}

static int
p_chroot(void)
{
	return EXPECT(chroot("/tmp"), EPERM);
}

/* x32 and i386 entry points: another architecture is killed, not filtered as x86_64. */
static int
p_x32(void)
{
#if defined(__x86_64__)
	return EXPECT(syscall(0x40000000L | SYS_getpid), ENOSYS, EPERM);
#else
	say("not x86_64");
	return P_OK;
#endif
}

static int
p_int80(void)
{
#if defined(__x86_64__)
	long r = 20;	/* i386 getpid */

	__asm__ volatile ("int $0x80" : "+a"(r) : : "memory");
	say("allowed (%ld)", r);
	return P_ALLOWED;
#else
	say("not x86_64");
	return P_OK;
#endif
}

/* ARG: the supervisor's (the test's) pid. In our pid namespace it does not exist. */
static int
p_kill_parent(void)
{
	return EXPECT(kill(arg ? atoi(arg) : 1, 0), ESRCH, EPERM);
}

static int
p_proc_parent(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%s/status", arg ? arg : "0");
	return EXPECT(open(path, O_RDONLY | O_CLOEXEC), ENOENT, EACCES);
}

/* /run and ARG (a comma-separated list of host paths) are not there. */
static int
p_hidden(void)
{
	char list[1024], *save = NULL;
	struct stat sb;

	snprintf(list, sizeof(list), "/run,/var/run,/home,/root,%s", arg ? arg : "");
	for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save))
		if (stat(p, &sb) == 0 || errno != ENOENT) {
			say("visible %s", p);
			return P_ALLOWED;
		}
	say("refused ENOENT");
	return P_OK;
}

static int
p_fork(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(7);
	if (pid < 0)
		return EXPECT(pid, EPERM, EAGAIN);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		return P_ERRNO;
	say("allowed");
	return P_ALLOWED;
}

/* ------------------------------------------------------------------ allowed */

static int
p_write_stdout(void)
{
	return works(write(1, "", 0), "write");
}

static void *
thread_fn(void *p)
{
	return p;
}

static int
p_thread(void)
{
	static int token;
	pthread_t t;
	void *ret = NULL;
	int e = pthread_create(&t, NULL, thread_fn, &token);

	if (e) {
		errno = e;
		return works(-1, "pthread_create");
	}
	pthread_join(t, &ret);
	return works(ret == &token ? 0 : -1, "pthread_join");
}

static int
p_mmap_rw(void)
{
	char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return works(-1, "mmap");
	memset(p, 1, 1 << 20);
	if ((p = mremap(p, 1 << 20, 2 << 20, MREMAP_MAYMOVE)) == MAP_FAILED)
		return works(-1, "mremap");
	if (mprotect(p, 4096, PROT_READ) < 0)
		return works(-1, "mprotect");
	return works(munmap(p, 2 << 20), "munmap");
}

static int
p_read_file(void)
{
	char buf[64];
	int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return works(-1, "open /etc/hosts");
	return works(read(fd, buf, sizeof(buf)) > 0 ? close(fd) : -1, "read");
}

static int
p_socketpair(void)
{
	int sv[2];
	char c = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return works(-1, "socketpair");
	if (write(sv[0], "x", 1) != 1)
		return works(-1, "write");
	return works(read(sv[1], &c, 1) == 1 && c == 'x' ? 0 : -1, "read");
}

static int
p_basics(void)
{
	struct timespec ts = { 0, 1000000 };
	char rnd[16];

	if (nanosleep(&ts, NULL) < 0 || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return works(-1, "nanosleep/getrandom");
	return works(clock_gettime(CLOCK_MONOTONIC, &ts), "clock_gettime");
}

/* TCP over the namespace's own loopback (the exec profile brings lo up). */
static int
p_tcp_lo(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c, s;
	char ch = 0;

	if (l < 0)
		return EXPECT(l, EACCES, EPERM);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		return works(-1, "listen on 127.0.0.1");
	if ((c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		return works(-1, "connect 127.0.0.1");
	if ((s = accept(l, NULL, NULL)) < 0 || write(c, "y", 1) != 1 || read(s, &ch, 1) != 1)
		return works(-1, "accept/write/read");
	say("allowed");
	return ch == 'y' ? P_ALLOWED : P_ERRNO;
}

static volatile sig_atomic_t got_usr1;

static void
on_usr1(int sig)
{
	got_usr1 = sig;
}

/* abort() and sanitizers signal their own thread: allowed, so that an assertion is not
 * reported as a sandbox violation. (As PID 1 of its namespace the worker has no default
 * action for self-sent signals: a handler shows that the signal arrived.) */
static int
p_tgkill_self(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	sigaction(SIGUSR1, &sa, NULL);
	if (syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1) < 0)
		return works(-1, "tgkill");
	return works(got_usr1 == SIGUSR1 ? 0 : -1, "SIGUSR1 delivery");
}

static int
p_status(void)
{
	struct sbx_status st;
	int r = sbx_self_status(&st);

	if (r < 0)
		return works(-1, "read /proc/self/status");
	say("NoNewPrivs %d Seccomp %d CapEff %llx CapBnd %llx", st.no_new_privs, st.seccomp,
	    (unsigned long long)st.cap_eff, (unsigned long long)st.cap_bnd);
	return sbx_status_check(&st, (uid_t)-1) == 0 ? P_OK : P_ERRNO;
}

/* ------------------------------------------------------------------ facts */

static int
p_ids(void)
{
	say("uid %u gid %u euid %u egid %u pid %d ppid %d groups %d", (unsigned)getuid(),
	    (unsigned)getgid(), (unsigned)geteuid(), (unsigned)getegid(), (int)getpid(),
	    (int)getppid(), getgroups(0, NULL));
	return P_OK;
}

static int
p_rlimits(void)
{
	struct rlimit c, n;

	if (getrlimit(RLIMIT_CORE, &c) < 0 || getrlimit(RLIMIT_NOFILE, &n) < 0)
		return works(-1, "getrlimit");
	say("core %llu %llu nofile %llu %llu", (unsigned long long)c.rlim_cur,
	    (unsigned long long)c.rlim_max, (unsigned long long)n.rlim_cur,
	    (unsigned long long)n.rlim_max);
	return P_OK;
}

static int
p_env(void)
{
	for (char **e = environ; *e; e++)
		say("%s", *e);
	return P_OK;
}

static int
p_fds(void)
{
	char line[512] = "fds";
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int self;

	if (!d)
		return works(-1, "opendir /proc/self/fd");
	self = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(line);

		if (de->d_name[0] == '.' || atoi(de->d_name) == self)
			continue;
		snprintf(line + l, sizeof(line) - l, " %s", de->d_name);
	}
	closedir(d);
	say("%s", line);
	return P_OK;
}

/* Reads what the test wrote into the fd it passed with --keep-fd (our fd 3). */
static int
p_read_fd3(void)
{
	char buf[64];
	ssize_t n = read(3, buf, sizeof(buf) - 1);

	if (n < 0)
		return works(-1, "read fd 3");
	buf[n] = '\0';
	say("fd3 %s", buf);
	return P_OK;
}

/* Writes "probe\n" to ARG (a bind mount, say). */
static int
p_write_file(void)
{
	int fd = open(arg ? arg : "", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, "probe\n", 6) != 6)
		return works(-1, "write");
	return works(close(fd), "close");
}

static int
p_hostname(void)
{
	struct utsname u;

	uname(&u);
	say("hostname %s", u.nodename);
	return P_OK;
}

static int
p_exit(void)
{
	say("exit %s", arg ? arg : "0");
	_exit(arg ? atoi(arg) : 0);
}

static volatile sig_atomic_t got_term;

static void
on_term(int sig)
{
	got_term = sig;
}

/* Says "ready", then waits for SIGTERM (forwarded by the jail's reaper) and exits 3. */
static int
p_wait_term(void)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigaction(SIGTERM, &sa, NULL);
	say("ready");
	while (!got_term)
		poll(NULL, 0, -1);	/* in every kind's list, unlike pause() */
	_exit(3);
}

/* Ignores everything: the reaper must escalate to SIGKILL. */
static int
p_wait_forever(void)
{
	say("ready");
	for (;;)
		poll(NULL, 0, -1);
	return P_SETUP;
}

struct probe {
	const char *name;
	int (*fn)(void);
};

static const struct probe probes[] = {
	{ "execve", p_execve }, { "execveat_fd", p_execveat_fd },
	{ "slot_refill", p_slot_refill }, { "slot_exec", p_slot_exec }, { "slot_run", p_slot_run },
	{ "socket_inet", p_socket_inet }, { "socket_inet6", p_socket_inet6 },
	{ "socket_netlink", p_socket_netlink }, { "socket_packet", p_socket_packet },
	{ "ptrace", p_ptrace }, { "process_vm_readv", p_process_vm_readv },
	{ "unshare", p_unshare }, { "clone_newns", p_clone_newns },
	{ "clone_newnet", p_clone_newnet }, { "clone3", p_clone3 }, { "mount", p_mount },
	{ "bpf", p_bpf }, { "io_uring_setup", p_io_uring }, { "memfd_exec", p_memfd_exec },
	{ "mmap_exec", p_mmap_exec }, { "mprotect_exec", p_mprotect_exec },
	{ "tmp_exec", p_tmp_exec }, { "open_write", p_open_write }, { "write_usr", p_write_usr },
	{ "proc_mem", p_proc_mem }, { "dev_zero_write", p_dev_zero_write },
	{ "perf_event_open", p_perf }, { "userfaultfd", p_userfaultfd }, { "add_key", p_keyctl },
	{ "setns", p_setns }, { "personality", p_personality }, { "chroot", p_chroot },
	{ "x32", p_x32 }, { "int80", p_int80 }, { "kill_parent", p_kill_parent },
	{ "proc_parent", p_proc_parent }, { "hidden", p_hidden }, { "fork", p_fork },
	{ "write_stdout", p_write_stdout }, { "thread", p_thread }, { "mmap_rw", p_mmap_rw },
	{ "read_file", p_read_file }, { "socketpair", p_socketpair }, { "basics", p_basics },
	{ "tcp_lo", p_tcp_lo }, { "tgkill_self", p_tgkill_self }, { "status", p_status },
	{ "ids", p_ids }, { "rlimits", p_rlimits }, { "env", p_env }, { "fds", p_fds },
	{ "read_fd3", p_read_fd3 }, { "write_file", p_write_file }, { "hostname", p_hostname }, { "exit", p_exit },
	{ "wait_term", p_wait_term }, { "wait_forever", p_wait_forever },
	{ NULL, NULL }
};

int
main(int argc, char **argv)
{
	enum sbx_kind k;
	int r;

	if (argc < 3) {
		say("usage: probe http|exec|model|agent|jailed NAME [ARG]");
		_exit(P_SETUP);
	}
	arg = argc > 3 ? argv[3] : NULL;
	rest = argv + 3;
	for (const struct probe *p = probes; p->name; p++) {
		if (strcmp(p->name, argv[2]) != 0)
			continue;
		if (strcmp(argv[1], "jailed") != 0) {
			if (sbx_kind_parse(argv[1], &k) < 0 || k >= SBX_JAIL_AGENT) {
				say("bad mode %s", argv[1]);
				_exit(P_SETUP);
			}
			if ((r = sbx_seccomp_apply(k, 0)) < 0) {
				say("seccomp %s: %d", argv[1], r);
				_exit(P_SETUP);
			}
		}
		_exit(p->fn());
	}
	say("unknown probe %s", argv[2]);
	_exit(P_UNKNOWN);
}
