/* corral-privd: the privileged monitor of a privilege-separated corral (supervisor/privd.h).
 *
 * A small root daemon without network. It reads nothing but its command line and the
 * requests of one peer, the unprivileged corrald (checked by SO_PEERCRED), and does three
 * things for it: run corral-jail with a vetted argument vector, kill those jails, and report
 * their ends. Single-threaded: one poll loop over the listening socket, the peer and a
 * signalfd. Its jails die with it (PR_SET_PDEATHSIG) and with the peer's connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/notify.h"
#include "supervisor/privd.h"

#ifndef CORRAL_LIBEXECDIR
#define CORRAL_LIBEXECDIR "/usr/libexec/corral"
#endif
#ifndef CORRAL_VERSION
#define CORRAL_VERSION "0"
#endif

struct jail {
	pid_t pid;
	unsigned gen;		/* the connection it was spawned for */
};

/* A datagram corrald's socket had no room for yet: kept, in order, until it has. */
struct outmsg {
	struct privd_hdr h;
	char *text;		/* NULL or the text after the header */
};

struct privd {
	struct privd_rules rules;
	char jail_path[LIM_PATH_MAX];
	const char *sock_path;
	uid_t peer_uid;
	int lfd, cfd, sigfd, kmsg_fd;
	unsigned gen;
	struct jail *jails;
	size_t njails;
	struct outmsg *out;	/* LIM_PRIVD_OUTQ slots */
	size_t nout;
	bool stop;
};

static const char usage[] =
"usage: corral-privd --user USER --uids MIN-MAX [options]\n"
"\n"
"The privileged half of a privilege-separated corral: runs corral-jail for the unprivileged\n"
"corrald (USER), with argument vectors it checks first, kills those jails and reports their\n"
"ends. See corral-privd(8).\n"
"\n"
"  --user USER          the only peer accepted: corrald's user (name or uid)\n"
"  --uids MIN-MAX       the uids and gids workers may run as (never 0)\n"
"  --socket PATH        where to listen (default /run/corral-privd/privd.sock)\n"
"  --runtime-dir DIR    corrald's runtime_dir (default /run/corral)\n"
"  --state-dir DIR      corrald's state_dir (default /var/lib/corral)\n"
"  --jail PATH          corral-jail (default " CORRAL_LIBEXECDIR "/corral-jail)\n"
"  --help, --version\n";

static void plog(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* logfmt on stderr, as corrald's own lines; the messages hold no secret (we see none). */
static void
plog(const char *level, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '"' || *p == '\n' || (unsigned char)*p < 0x20)
			*p = '\'';
	fprintf(stderr, "level=%s component=privd msg=\"%s\"\n", level, msg);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("corral-privd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void
parse_uids(struct privd *p, const char *s)
{
	unsigned long lo, hi;
	char *end;

	errno = 0;
	lo = strtoul(s, &end, 10);
	if (*end != '-' || errno)
		die("--uids '%s': MIN-MAX", s);
	hi = strtoul(end + 1, &end, 10);
	if (*end || errno || lo == 0 || lo > hi || hi >= 0xffffffffu)
		die("--uids '%s': MIN-MAX, 0 < MIN <= MAX", s);
	p->rules.uid_min = (uid_t)lo;
	p->rules.uid_max = (uid_t)hi;
}

static void
parse_user(struct privd *p, const char *s)
{
	struct passwd *pw = getpwnam(s);
	char *end;
	unsigned long v;

	if (pw) {
		p->peer_uid = pw->pw_uid;
	} else {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (*s == '\0' || *end || errno || v >= 0xffffffffu)
			die("--user '%s': no such user", s);
		p->peer_uid = (uid_t)v;
	}
	if (p->peer_uid == 0)
		die("--user '%s': corrald must not run as root with corral-privd", s);
}

static void
parse(struct privd *p, int argc, char **argv)
{
	enum { O_USER = 1, O_UIDS, O_SOCK, O_RUN, O_STATE, O_JAIL, O_HELP, O_VERSION };
	static const struct option lo[] = {
		{ "user", required_argument, NULL, O_USER }, { "uids", required_argument, NULL, O_UIDS },
		{ "socket", required_argument, NULL, O_SOCK },
		{ "runtime-dir", required_argument, NULL, O_RUN },
		{ "state-dir", required_argument, NULL, O_STATE },
		{ "jail", required_argument, NULL, O_JAIL }, { "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION }, { NULL, 0, NULL, 0 },
	};
	bool user = false;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_USER: parse_user(p, optarg); user = true; break;
		case O_UIDS: parse_uids(p, optarg); break;
		case O_SOCK: p->sock_path = optarg; break;
		case O_RUN: p->rules.runtime_dir = optarg; break;
		case O_STATE: p->rules.state_dir = optarg; break;
		case O_JAIL: snprintf(p->jail_path, sizeof(p->jail_path), "%s", optarg); break;
		case O_HELP: fputs(usage, stdout); exit(0);
		case O_VERSION: printf("corral-privd %s\n", CORRAL_VERSION); exit(0);
		default: fputs(usage, stderr); exit(2);
		}
	}
	if (optind != argc)
		die("unexpected argument '%s'", argv[optind]);
	if (!user || p->rules.uid_min == 0)
		die("%s", "--user and --uids are required");
	if (p->rules.runtime_dir[0] != '/' || p->rules.state_dir[0] != '/' ||
	    p->jail_path[0] != '/')
		die("%s", "--runtime-dir, --state-dir and --jail must be absolute paths");
}

static void
listen_on(struct privd *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(p->sock_path) >= sizeof(sa.sun_path))
		die("--socket '%s': path too long", p->sock_path);
	strcpy(sa.sun_path, p->sock_path);
	if ((p->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		die("socket: %s", strerror(errno));
	(void)unlink(p->sock_path);
	/* Anyone may connect; only USER is kept (SO_PEERCRED, below). */
	if (bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(p->sock_path, 0666) < 0 || listen(p->lfd, 4) < 0)
		die("cannot listen on %s: %s", p->sock_path, strerror(errno));
}

/* ------------------------------------------------------------------ the peer */

static int
send_now(struct privd *p, const struct privd_hdr *h, const char *text)
{
	struct iovec iov[2] = { { (void *)h, sizeof(*h) },
		{ (void *)text, text ? strlen(text) + 1 : 0 } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = text ? 2 : 1 };

	return sendmsg(p->cfd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
}

static void
outq_clear(struct privd *p)
{
	for (size_t i = 0; i < p->nout; i++)
		free(p->out[i].text);
	p->nout = 0;
}

/* What waits, in order, while corrald's socket has room. */
static void
outq_flush(struct privd *p)
{
	size_t i = 0;

	while (i < p->nout && p->cfd >= 0 && send_now(p, &p->out[i].h, p->out[i].text) == 0)
		free(p->out[i++].text);
	memmove(p->out, p->out + i, (p->nout - i) * sizeof(*p->out));
	p->nout -= i;
}

/* Send to corrald, in order: a reply or an exit is never dropped because corrald was slow to
 * read (it would wait for a jail that is gone); it waits here (LIM_PRIVD_OUTQ, more than the
 * jails there can be). A kernel log record may be dropped when the queue is half full. */
static int
send_hdr(struct privd *p, struct privd_hdr h, const char *text)
{
	int r;

	if (p->cfd < 0)
		return -ENOTCONN;
	if (p->nout == 0 && (r = send_now(p, &h, text)) != -EAGAIN)
		return r;
	if (p->nout == LIM_PRIVD_OUTQ || (h.op == PRIVD_KMSG && p->nout >= LIM_PRIVD_OUTQ / 2))
		return -ENOBUFS;
	p->out[p->nout].h = h;
	if ((p->out[p->nout].text = text ? strdup(text) : NULL) == NULL && text)
		return -ENOMEM;
	p->nout++;
	return 0;
}

static void
drop_peer(struct privd *p, const char *why)
{
	if (p->cfd < 0)
		return;
	plog("info", "corrald disconnected (%s): killing its %zu jails", why, p->njails);
	close(p->cfd);
	p->cfd = -1;
	outq_clear(p);
	for (size_t i = 0; i < p->njails; i++)
		if (p->jails[i].gen == p->gen)
			kill(p->jails[i].pid, SIGKILL);
}

static void
on_accept(struct privd *p)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	int fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || uc.uid != p->peer_uid) {
		plog("warning", "refused a peer: uid %d is not corrald's (%u)",
		    len == sizeof(uc) ? (int)uc.uid : -1, (unsigned)p->peer_uid);
		close(fd);
		return;
	}
	if (p->cfd >= 0) {
		plog("warning", "refused a second corrald (pid %d): one is connected", (int)uc.pid);
		close(fd);
		return;
	}
	p->cfd = fd;
	p->gen++;
	plog("info", "corrald connected (pid %d)", (int)uc.pid);
}

/* The directory a bind argument names ("<base>/C1/C2...:/DST", vetted), opened without
 * following a link anywhere below base: the jail binds this very directory (through
 * /proc/self/fd), so neither a link planted by corrald nor a swap after our check can point
 * the bind elsewhere. */
static int
open_bind_src(const char *base, const char *arg)
{
	char rel[LIM_PATH_MAX], *c, *save = NULL;
	size_t skip = strlen(base) + 1;
	int fd, nfd;

	snprintf(rel, sizeof(rel), "%.*s", (int)(strrchr(arg, ':') - arg - (ptrdiff_t)skip),
	    arg + skip);
	if ((fd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	for (c = strtok_r(rel, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		nfd = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if ((fd = nfd) < 0)
			return -errno;
	}
	return fd;
}

/* The worker's socket directory: corrald's (or root's), not writable by others. */
static int
open_ipc(struct privd *p, const char *arg)
{
	struct stat st;
	int fd = open_bind_src(p->rules.runtime_dir, arg);

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || (st.st_uid != p->peer_uid && st.st_uid != 0) ||
	    (st.st_mode & 022) != 0) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* The state directory an agent writes, given to the tenant. corrald made it 0700 (each
 * directory on the way searchable by us without an override capability: 0711); one that
 * others may write is refused. */
static int
open_state(struct privd *p, const char *arg, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd = open_bind_src(p->rules.state_dir, arg), r = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if ((st.st_mode & 022) != 0)
		r = -EPERM;
	else if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* The jail's fds: 0 /dev/null, 1-2 stderr, 3 broker (or /dev/null), 4 status, 5 the /ipc
 * directory, 6 the /state directory (or /dev/null). Moved out of the way first: a source may
 * already sit on a number it must not lose before it is copied. */
static int
child_fds(const int *src, int devnull)
{
	int hi[7];

	for (int i = 0; i < 7; i++)
		if ((hi[i] = fcntl(src[i] >= 0 ? src[i] : devnull, F_DUPFD, 100)) < 0)
			return -1;
	for (int i = 0; i < 7; i++)
		if (dup2(hi[i], i) < 0)
			return -1;
	return (int)syscall(SYS_close_range, 7, ~0U, 0);
}

static pid_t
run_jail(struct privd *p, char **argv, const int *fds, size_t nfds, int ipc_fd, int state_fd)
{
	static char *const envp[] = { "PATH=/usr/bin:/bin", NULL };
	pid_t pid, parent = getpid();
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	const int src[7] = { -1, fds[1], fds[1], nfds > 2 ? fds[2] : -1, fds[0], ipc_fd,
		state_fd };

	if (devnull < 0)
		return -errno;
	if ((pid = fork()) < 0) {
		close(devnull);
		return -errno;
	}
	if (pid == 0) {
		sigset_t none;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (child_fds(src, devnull) < 0)
			_exit(127);
		execve(p->jail_path, argv, envp);
		_exit(127);
	}
	close(devnull);
	return pid;
}

/* argv with the vetted binds pointed at the directories privd opened (fds 5 and 6). */
static void
binds_by_fd(char **argv, const struct privd_vetted *v)
{
	static char ipc[] = "/proc/self/fd/5:/ipc", state[] = "/proc/self/fd/6:/state";

	for (size_t i = 0; argv[i]; i++) {
		if (argv[i] == v->ipc_src)
			argv[i] = ipc;
		else if (v->state_src && argv[i] == v->state_src)
			argv[i] = state;
	}
}

static void
on_spawn(struct privd *p, const struct privd_hdr *h, char *payload, size_t len, int *fds,
    size_t nfds)
{
	struct privd_hdr rep = { .op = PRIVD_SPAWNED, .id = h->id };
	char *argv[LIM_PRIVD_ARGS_MAX + 1], why[300] = "";
	struct privd_vetted v;
	int r, ipc_fd = -1, state_fd = -1;

	if (privd_split_argv(payload, len, (size_t)(h->val > 0 ? h->val : 0), argv) < 0) {
		r = ERR_PROTO;
		snprintf(why, sizeof(why), "malformed argument vector");
	} else if ((r = privd_vet(&p->rules, argv, (size_t)h->val, &v, why, sizeof(why))) < 0) {
		/* why is set */
	} else if (nfds != 2 + v.nkeep) {
		r = ERR_DENIED;
		snprintf(why, sizeof(why), "%zu fds passed, the vector keeps %zu", nfds, 2 + v.nkeep);
	} else if (p->njails >= LIM_PRIVD_JAILS) {
		r = -EAGAIN;
		snprintf(why, sizeof(why), "%u jails are running", LIM_PRIVD_JAILS);
	} else if ((ipc_fd = r = open_ipc(p, v.ipc_src)) < 0) {
		snprintf(why, sizeof(why), "socket directory: %s", strerror(-r));
	} else if (v.state_src && (state_fd = r = open_state(p, v.state_src, v.uid, v.gid)) < 0) {
		snprintf(why, sizeof(why), "state directory: %s", strerror(-r));
	} else {
		binds_by_fd(argv, &v);
		if ((r = run_jail(p, argv, fds, nfds, ipc_fd, state_fd)) < 0) {
			snprintf(why, sizeof(why), "fork: %s", strerror(-r));
		} else {
			p->jails[p->njails++] = (struct jail){ r, p->gen };
			rep.pid = r;
			r = 0;
		}
	}
	if (ipc_fd >= 0)
		close(ipc_fd);
	if (state_fd >= 0)
		close(state_fd);
	rep.val = r;
	if (r < 0)
		plog("warning", "refused a spawn: %s", why);
	(void)send_hdr(p, rep, r < 0 ? why : NULL);
}

static void
on_kill(struct privd *p, const struct privd_hdr *h)
{
	for (size_t i = 0; i < p->njails; i++)
		if (p->jails[i].pid == h->pid && p->jails[i].gen == p->gen) {
			kill(h->pid, SIGKILL);
			return;
		}
	plog("notice", "kill of pid %d refused: not a jail of this corrald", (int)h->pid);
}

static size_t
take_fds(struct msghdr *mh, int *fds, size_t max)
{
	size_t n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *in = (int *)CMSG_DATA(c);

		for (size_t i = 0; i < k; i++) {
			if (n < max)
				fds[n++] = in[i];
			else
				close(in[i]);
		}
	}
	return n;
}

static void
on_peer(struct privd *p)
{
	static char buf[LIM_PRIVD_MSG];
	union { char b[CMSG_SPACE(sizeof(int) * 4)]; struct cmsghdr align; } cm;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
		.msg_controllen = sizeof(cm.b) };
	struct privd_hdr h;
	int fds[4];
	size_t nfds;
	ssize_t n = recvmsg(p->cfd, &mh, MSG_CMSG_CLOEXEC);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_peer(p, n == 0 ? "closed" : strerror(errno));
		return;
	}
	nfds = take_fds(&mh, fds, 4);
	if ((size_t)n < sizeof(h) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		drop_peer(p, "malformed request");
	} else {
		memcpy(&h, buf, sizeof(h));
		if (h.op == PRIVD_SPAWN)
			on_spawn(p, &h, buf + sizeof(h), (size_t)n - sizeof(h), fds, nfds);
		else if (h.op == PRIVD_KILL && nfds == 0)
			on_kill(p, &h);
		else
			drop_peer(p, "unknown request");
	}
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
}

/* ------------------------------------------------------------------ the kernel's log */

/* The seccomp kill records (audit type 1326) of processes running as a tenant uid go to
 * corrald, which names the syscall from them. Nothing else leaves: not other users' records,
 * not the rest of the log. Without CAP_SYSLOG (the unit's default) /dev/kmsg stays closed. */
static void
kmsg_open(struct privd *p)
{
	if ((p->kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		plog("notice", "no /dev/kmsg (%s): seccomp kills are reported without the syscall",
		    strerror(errno));
		return;
	}
	lseek(p->kmsg_fd, 0, SEEK_END);
}

static bool
tenant_record(const struct privd *p, const char *line)
{
	const char *u = strstr(line, " uid=");
	unsigned long uid;

	return strstr(line, "type=1326") != NULL && u != NULL &&
	    sscanf(u, " uid=%lu", &uid) == 1 && uid >= p->rules.uid_min && uid <= p->rules.uid_max;
}

static void
on_kmsg(struct privd *p)
{
	char line[LIM_PRIVD_TEXT];
	ssize_t n;

	while ((n = read(p->kmsg_fd, line, sizeof(line) - 1)) != 0) {
		if (n < 0) {
			if (errno == EPIPE || errno == EINTR || errno == EINVAL)
				continue;	/* overwritten, interrupted, a record over our buffer */
			return;
		}
		line[n] = '\0';
		if (p->cfd >= 0 && tenant_record(p, line))
			(void)send_hdr(p, (struct privd_hdr){ .op = PRIVD_KMSG }, line);
	}
}

/* ------------------------------------------------------------------ signals, loop */

static void
reap(struct privd *p)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (size_t i = 0; i < p->njails; i++) {
			if (p->jails[i].pid != pid)
				continue;
			if (p->jails[i].gen == p->gen)
				(void)send_hdr(p, (struct privd_hdr){ .op = PRIVD_EXITED, .pid = pid,
				    .val = st }, NULL);
			p->jails[i] = p->jails[--p->njails];
			break;
		}
	}
}

static void
on_signal(struct privd *p)
{
	struct signalfd_siginfo si;

	while (read(p->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap(p);
		else if (si.ssi_signo != SIGHUP)	/* nothing to reload */
			p->stop = true;
	}
}

static void
run(struct privd *p)
{
	while (!p->stop) {
		struct pollfd pf[4] = { { p->sigfd, POLLIN, 0 }, { p->lfd, POLLIN, 0 },
			{ p->kmsg_fd, POLLIN, 0 },
			{ p->cfd, (short)(POLLIN | (p->nout ? POLLOUT : 0)), 0 } };

		if (poll(pf, p->cfd >= 0 ? 4 : 3, -1) < 0 && errno != EINTR) {
			plog("err", "poll: %s", strerror(errno));
			break;
		}
		if (pf[0].revents)
			on_signal(p);
		if (pf[1].revents)
			on_accept(p);
		if (pf[2].revents)
			on_kmsg(p);
		if (p->cfd >= 0 && (pf[3].revents & POLLOUT))
			outq_flush(p);
		if (p->cfd >= 0 && (pf[3].revents & ~POLLOUT))
			on_peer(p);
	}
}

int
main(int argc, char **argv)
{
	static struct privd p = { .sock_path = "/run/corral-privd/privd.sock",
		.rules = { .runtime_dir = "/run/corral", .state_dir = "/var/lib/corral" },
		.lfd = -1, .cfd = -1, .sigfd = -1, .kmsg_fd = -1 };
	sigset_t set;

	snprintf(p.jail_path, sizeof(p.jail_path), "%s/corral-jail", CORRAL_LIBEXECDIR);
	parse(&p, argc, argv);
	p.rules.jail_path = p.jail_path;
	if (geteuid() != 0)
		die("%s", "must run as root (it spawns jails for other uids)");
	if ((p.jails = calloc(LIM_PRIVD_JAILS, sizeof(*p.jails))) == NULL ||
	    (p.out = calloc(LIM_PRIVD_OUTQ, sizeof(*p.out))) == NULL)
		die("%s", "out of memory");
	umask(077);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((p.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		die("signalfd: %s", strerror(errno));
	listen_on(&p);
	kmsg_open(&p);
	plog("info", "listening on %s for uid %u; workers as uids %u-%u", p.sock_path,
	    (unsigned)p.peer_uid, (unsigned)p.rules.uid_min, (unsigned)p.rules.uid_max);
	(void)notify_ready("waiting for corrald");
	run(&p);
	(void)notify_stopping("stopping");
	drop_peer(&p, "privd stopping");
	for (int i = 0; i < 50 && p.njails; i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		reap(&p);
	}
	(void)unlink(p.sock_path);
	free(p.jails);
	free(p.out);
	return 0;
}
