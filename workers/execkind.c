/* The exec kind: pinned binaries, the private directory, and io->exec (see execkind.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "ipc/broker.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/exec.h"
#include "workers/exec_int.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

#define SLOT(bin)	(FD_EXEC_SLOT + 1 + (int)(bin))
#define GRACE_MS	2000	/* draining pipes after the child is gone or killed */

static const char *const bin_names[EXEC_BIN_COUNT] = { "kubectl", "flux" };

/* Weak: the tests link the kind without the runtime; corral-worker links both. */
#pragma weak wrk_log

static struct {
	struct exec_kind_opts o;
	bool pinned[EXEC_BIN_COUNT];
	char what[EXEC_BIN_COUNT][160];	/* what was pinned, for the start-up log line */
	atomic_bool logged;
	bool own_slot[EXEC_BIN_COUNT];	/* placed by us (tests), not by corral-jail */
	char dir[PATH_MAX];		/* private directory; "" before init */
	char home[PATH_MAX];
	atomic_uint seq;
} g;

struct exec_thread {
	struct exec_proxy *px;
};

void
exec_kind_configure(const struct exec_kind_opts *o)
{
	g.o = *o;
}

const char *
exec_kind_dir(void)
{
	return g.dir;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ pinning */

/* A pinned program: a regular executable file that only its owner (root or us) can change. */
static int
check_binary(const struct stat *st, const char *what)
{
	if (!S_ISREG(st->st_mode) || !(st->st_mode & 0111)) {
		fprintf(stderr, "corral-worker: %s is not an executable file\n", what);
		return ERR_CONFIG;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH) || (st->st_uid != 0 && st->st_uid != geteuid())) {
		fprintf(stderr, "corral-worker: %s may be changed by others (mode %o, uid %u)\n",
		    what, (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid);
		return ERR_CONFIG;
	}
	return 0;
}

static int
pin(enum exec_bin b, const char *path)
{
	int slot = SLOT(b), fd, r;
	struct stat at, ps;

	if (fcntl(slot, F_GETFD) >= 0) {
		/* corral-jail placed it; a configured path that is visible must be that file */
		if (fstat(slot, &at) < 0)
			return -errno;
		if (path != NULL && stat(path, &ps) == 0 &&
		    (ps.st_dev != at.st_dev || ps.st_ino != at.st_ino)) {
			fprintf(stderr, "corral-worker: exec slot %d is not %s\n", slot, path);
			return ERR_CONFIG;
		}
	} else {
		if (path == NULL)
			return -ENOENT;
		if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0) {
			fprintf(stderr, "corral-worker: %s: %s\n", path, strerror(errno));
			return ERR_CONFIG;
		}
		/* not close-on-exec: a script's interpreter reads it as /dev/fd/N */
		if (dup3(fd, slot, 0) < 0) {
			fprintf(stderr, "corral-worker: cannot place %s at fd %d: %s\n", path, slot,
			    strerror(errno));
			close(fd);
			return ERR_CONFIG;
		}
		close(fd);
		g.own_slot[b] = true;
		if (fstat(slot, &at) < 0)
			return -errno;
	}
	if ((r = check_binary(&at, path ? path : bin_names[b])) < 0)
		return r;
	snprintf(g.what[b], sizeof(g.what[b]), "%s pinned at fd %d (%s, %lld bytes, mode %o, "
	    "uid %u, inode %llu)", bin_names[b], slot, path ? path : "placed by corral-jail",
	    (long long)at.st_size, (unsigned)(at.st_mode & 07777), (unsigned)at.st_uid,
	    (unsigned long long)at.st_ino);
	return 0;
}

static int
make_dirs(void)
{
	const char *parent = g.o.tmp_parent ? g.o.tmp_parent : "/tmp";

	if ((size_t)snprintf(g.dir, sizeof(g.dir), "%s/corral-exec.XXXXXX", parent) >=
	    sizeof(g.dir) - 16 || mkdtemp(g.dir) == NULL) {
		g.dir[0] = '\0';
		return -errno ? -errno : -ENAMETOOLONG;
	}
	snprintf(g.home, sizeof(g.home), "%s/home", g.dir);
	if (mkdir(g.home, 0700) < 0)
		return -errno;
	return 0;
}

int
exec_kind_init(void)
{
	const char *kubectl = g.o.kubectl;
	int r;

	/* Default path only when corral-jail left the slot empty. */
	if (kubectl == NULL && fcntl(SLOT(EXEC_BIN_KUBECTL), F_GETFD) < 0)
		kubectl = "/usr/bin/kubectl";
	if ((r = pin(EXEC_BIN_KUBECTL, kubectl)) < 0)
		return r == -ENOENT ? ERR_CONFIG : r;
	g.pinned[EXEC_BIN_KUBECTL] = true;
	if (g.o.flux != NULL || fcntl(SLOT(EXEC_BIN_FLUX), F_GETFD) >= 0) {
		if ((r = pin(EXEC_BIN_FLUX, g.o.flux)) < 0)
			return r;
		g.pinned[EXEC_BIN_FLUX] = true;
	}
	return make_dirs();
}

static void
rm_tree(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
			    unlinkat(fd, e->d_name, 0) < 0 && errno == EISDIR)
				rm_tree(fd, e->d_name);
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	unlinkat(dfd, name, AT_REMOVEDIR);
}

void
exec_kind_fini(void)
{
	if (g.dir[0] != '\0')
		rm_tree(AT_FDCWD, g.dir);
	for (int b = 0; b < EXEC_BIN_COUNT; b++) {
		if (g.own_slot[b])
			close(SLOT(b));
		g.own_slot[b] = g.pinned[b] = false;
		g.what[b][0] = '\0';
	}
	atomic_store(&g.logged, false);
	g.dir[0] = g.home[0] = '\0';
}

/* ------------------------------------------------------------------ one run */

struct buf {
	char *p;
	size_t len, cap, max;
	bool trunc;
};

struct run {
	const struct exec_req *req;
	pid_t pid;
	int pidfd;
	int in, out, err, ex;		/* parent ends; -1 when closed */
	size_t in_off;
	struct buf o, e;
	size_t line_off;		/* stderr: start of the next unreported line */
	int exec_errno;
	bool exited, killed;
};

static int
buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->len + n > b->max) {
		b->trunc = true;
		n = b->max - b->len;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *q;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((q = realloc(b->p, cap)) == NULL)
			return -ENOMEM;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void
report_lines(struct run *rn, bool flush)
{
	struct buf *b = &rn->e;
	char *nl;

	if (rn->req->on_stderr_line == NULL || b->p == NULL)
		return;
	while (rn->line_off < b->len) {
		nl = memchr(b->p + rn->line_off, '\n', b->len - rn->line_off);
		if (nl == NULL && !flush)
			return;
		if (nl != NULL)
			*nl = '\0';
		rn->req->on_stderr_line(rn->req->line_arg, b->p + rn->line_off);
		if (nl == NULL) {
			rn->line_off = b->len;
			return;
		}
		*nl = '\n';
		rn->line_off = (size_t)(nl - b->p) + 1;
	}
}

/* In the child (async-signal-safe calls only: the parent has threads). */
static void __attribute__((noreturn))
child(struct run *rn, int pin_in, int pin_out, int pin_err, int ex, char *const *argv,
    char *const *envp)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	int slot = SLOT(rn->req->bin), fds[3] = { pin_in, pin_out, pin_err }, e;
	sigset_t none;

	setsid();		/* its own process group: a deadline kills all of it */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	for (int i = 0; i < 3; i++)
		if ((fds[i] == i ? fcntl(i, F_SETFD, 0) : dup2(fds[i], i)) < 0)
			goto fail;
	/* Everything else (the supervisor channel, the broker, the other slot) closes at exec. */
	if (syscall(SYS_close_range, 3, slot - 1, CLOSE_RANGE_CLOEXEC) < 0 ||
	    syscall(SYS_close_range, slot + 1, ~0U, CLOSE_RANGE_CLOEXEC) < 0 ||
	    fcntl(slot, F_SETFD, 0) < 0)
		goto fail;
	syscall(SYS_execveat, slot, "", argv, envp, AT_EMPTY_PATH);
fail:
	e = errno;
	if (write(ex, &e, sizeof(e)) < 0) {
		/* nothing more to say */
	}
	_exit(127);
}

/* pipe2 with both ends at fd >= 3, so the child's dup2 onto 0..2 cannot clobber one. */
static int
pipe_hi(int p[2])
{
	int q[2];

	if (pipe2(q, O_CLOEXEC) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		if (q[i] >= 3) {
			p[i] = q[i];
			continue;
		}
		p[i] = fcntl(q[i], F_DUPFD_CLOEXEC, 3);
		close(q[i]);
		if (p[i] < 0) {
			int e = -errno;

			if (i == 1)
				close(p[0]);
			else
				close(q[1]);
			return e;
		}
	}
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int
spawn(struct run *rn, char *const *argv, char *const *envp)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, ex[2] = { -1, -1 };
	int r;

	if ((r = pipe_hi(in)) < 0 || (r = pipe_hi(out)) < 0 || (r = pipe_hi(err)) < 0 ||
	    (r = pipe_hi(ex)) < 0)
		goto fail;
	if ((rn->pid = fork()) < 0) {
		r = -errno;
		goto fail;
	}
	if (rn->pid == 0)
		child(rn, in[0], out[1], err[1], ex[1], argv, envp);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(ex[1]);
	rn->in = in[1];
	rn->out = out[0];
	rn->err = err[0];
	rn->ex = ex[0];
	if (rn->req->stdin_data == NULL || rn->req->stdin_len == 0)
		close_fd(&rn->in);
	else
		fcntl(rn->in, F_SETFL, O_NONBLOCK);
	rn->pidfd = (int)syscall(SYS_pidfd_open, rn->pid, 0);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&err[i]);
		close_fd(&ex[i]);
	}
	return r;
}

static void
kill_group(struct run *rn)
{
	/* The leader is not reaped yet, so its pgid cannot have been reused. */
	kill(-rn->pid, SIGKILL);
	kill(rn->pid, SIGKILL);
}

static int
drain(struct run *rn, int *fd, struct buf *b)
{
	char chunk[16384];
	ssize_t k = read(*fd, chunk, sizeof(chunk));

	if (k < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (k <= 0) {
		close_fd(fd);
		return 0;
	}
	if (b == NULL) {		/* the exec-failure pipe */
		if (k == sizeof(int))
			memcpy(&rn->exec_errno, chunk, sizeof(int));
		return 0;
	}
	return buf_add(b, chunk, (size_t)k);
}

static void
feed(struct run *rn)
{
	const char *p = (const char *)rn->req->stdin_data + rn->in_off;
	ssize_t k = write(rn->in, p, rn->req->stdin_len - rn->in_off);

	if (k > 0)
		rn->in_off += (size_t)k;
	if ((k < 0 && errno != EAGAIN && errno != EINTR) || rn->in_off == rn->req->stdin_len)
		close_fd(&rn->in);
}

/* Has the child ended? (pidfd when the kernel has it, else a non-reaping waitid.) */
static bool
child_gone(struct run *rn, short pidfd_revents)
{
	siginfo_t si = { 0 };

	if (rn->pidfd >= 0)
		return pidfd_revents & POLLIN;
	return waitid(P_PID, (id_t)rn->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == rn->pid;
}

static int
collect(struct run *rn, long long deadline)
{
	long long stop = 0;
	int r = 0;

	while (rn->out >= 0 || rn->err >= 0 || !rn->exited) {
		struct pollfd p[5] = { { rn->out, POLLIN, 0 }, { rn->err, POLLIN, 0 },
			{ rn->ex, POLLIN, 0 }, { rn->in, POLLOUT, 0 }, { rn->pidfd, POLLIN, 0 } };
		long long now = now_ms(), until = stop ? stop : deadline;
		int n, wait = until > now ? (int)(until - now) : 0;

		if (rn->pidfd < 0 && !rn->exited && wait > 50)
			wait = 50;
		if (rn->exited)
			p[4].fd = -1;
		n = poll(p, 5, wait);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0 && now_ms() >= until) {
			if (stop)
				break;		/* pipes held open past the grace: give up on them */
			rn->killed = true;
			kill_group(rn);
			stop = now_ms() + GRACE_MS;
			continue;
		}
		if (p[0].revents && (r = drain(rn, &rn->out, &rn->o)) < 0)
			return r;
		if (p[1].revents) {
			if ((r = drain(rn, &rn->err, &rn->e)) < 0)
				return r;
			report_lines(rn, false);
		}
		if (p[2].revents)
			drain(rn, &rn->ex, NULL);
		if (p[3].revents)
			feed(rn);
		if (!rn->exited && child_gone(rn, p[4].revents)) {
			rn->exited = true;
			kill_group(rn);		/* nothing it started outlives it */
			if (!stop)
				stop = now_ms() + GRACE_MS;
		}
	}
	report_lines(rn, true);
	return 0;
}

/* Write the call's kubeconfig into the private directory, mode 0600, never over anything. */
static int
write_kubeconfig(struct exec_thread *et, const struct tool_call *call, char *path, size_t len,
    struct tool_err *err)
{
	char msg[400] = "", *text = NULL;
	size_t n, off = 0;
	int fd, r;

	if ((r = exec_kubeconfig_build(call->ctx, exec_proxy_port(et->px), &text, msg,
	    sizeof(msg))) < 0) {
		err->code = r;
		strlcpy(err->text, *msg ? msg : err_str(r), sizeof(err->text));
		return r;
	}
	snprintf(path, len, "%s/kubeconfig.%u", g.dir, atomic_fetch_add(&g.seq, 1));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		r = -errno;
		goto out;
	}
	n = strlen(text);
	while (off < n) {
		ssize_t k = write(fd, text + off, n - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = k < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)k;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
out:
	explicit_bzero(text, strlen(text));
	free(text);
	if (r < 0) {
		err->code = ERR_EXEC;
		snprintf(err->text, sizeof(err->text), "cannot write the kubeconfig: %s",
		    err_str(r));
	}
	return r;
}

/* The child's whole environment: nothing inherited from the worker. */
static void
make_env(struct exec_thread *et, char bufs[][PATH_MAX + 32], char **envp)
{
	unsigned port = exec_proxy_port(et->px);
	size_t n = 0;

	snprintf(bufs[n], sizeof(bufs[0]), "HOME=%s", g.home);
	envp[n] = bufs[n], n++;
	snprintf(bufs[n], sizeof(bufs[0]), "KUBECACHEDIR=%s/.kube/cache", g.home);
	envp[n] = bufs[n], n++;
	snprintf(bufs[n], sizeof(bufs[0]), "XDG_CACHE_HOME=%s/.cache", g.home);
	envp[n] = bufs[n], n++;
	snprintf(bufs[n], sizeof(bufs[0]), "XDG_CONFIG_HOME=%s/.config", g.home);
	envp[n] = bufs[n], n++;
	snprintf(bufs[n], sizeof(bufs[0]), "TMPDIR=%s", g.dir);
	envp[n] = bufs[n], n++;
	/* Programs that ignore the kubeconfig's proxy-url still find only the proxy. */
	snprintf(bufs[n], sizeof(bufs[0]), "HTTPS_PROXY=http://127.0.0.1:%u", port);
	envp[n] = bufs[n], n++;
	snprintf(bufs[n], sizeof(bufs[0]), "HTTP_PROXY=http://127.0.0.1:%u", port);
	envp[n] = bufs[n], n++;
	envp[n++] = "LANG=C.UTF-8";
	envp[n++] = "GOMAXPROCS=2";	/* fewer threads against the tenant's RLIMIT_NPROC */
	envp[n++] = "NO_COLOR=1";
	envp[n] = NULL;
}

static int __attribute__((format(printf, 3, 4)))
exec_fail(struct tool_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return code;
}

static void
finish(struct run *rn, const struct exec_req *req, struct exec_resp *resp)
{
	int st = 0;

	while (waitpid(rn->pid, &st, 0) < 0 && errno == EINTR)
		;
	close_fd(&rn->in);
	close_fd(&rn->out);
	close_fd(&rn->err);
	close_fd(&rn->ex);
	close_fd(&rn->pidfd);
	resp->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	resp->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	resp->timed_out = rn->killed;
	resp->out = rn->o.p ? rn->o.p : strdup("");
	resp->out_len = rn->o.len;
	resp->out_truncated = rn->o.trunc;
	resp->err = rn->e.p ? rn->e.p : strdup("");
	resp->err_len = rn->e.len;
	resp->err_truncated = rn->e.trunc;
}

static int
exec_run(struct tool_io *io, const struct tool_call *call, const struct exec_req *req,
    struct exec_resp *resp, struct tool_err *err)
{
	struct exec_thread *et = io->priv2;
	struct run rn = { .req = req, .pidfd = -1, .in = -1, .out = -1, .err = -1, .ex = -1 };
	char kc[PATH_MAX + 64], envb[7][PATH_MAX + 32], *envp[12], *argv[LIM_EXEC_ARGS_MAX + 3];
	struct exec_proxy_stats s0, s1;
	long long start = now_ms(), deadline;
	uint32_t t = req->timeout_ms ? req->timeout_ms : LIM_EXEC_TIMEOUT_MS;
	int r;

	memset(resp, 0, sizeof(*resp));
	if ((unsigned)req->bin >= EXEC_BIN_COUNT || !g.pinned[req->bin])
		return exec_fail(err, -ENOENT, "%s is not configured in this worker",
		    (unsigned)req->bin < EXEC_BIN_COUNT ? bin_names[req->bin] : "that program");
	if (req->flags & EXEC_F_PROBE)
		return 0;
	if (req->argc > LIM_EXEC_ARGS_MAX || req->argv[req->argc] != NULL)
		return exec_fail(err, ERR_TOOBIG, "%s", "argv is too long or not terminated");
	deadline = start + t;
	if (call->deadline > 0 && call->deadline < deadline)
		deadline = call->deadline;
	if ((r = write_kubeconfig(et, call, kc + 13, sizeof(kc) - 13, err)) < 0)
		return r;
	memcpy(kc, "--kubeconfig=", 13);
	argv[0] = (char *)bin_names[req->bin];
	argv[1] = kc;
	for (size_t i = 0; i <= req->argc; i++)
		argv[2 + i] = (char *)req->argv[i];
	make_env(et, envb, envp);
	rn.o.max = req->stdout_max ? req->stdout_max : LIM_EXEC_OUT_MAX;
	rn.e.max = req->stderr_max ? req->stderr_max : LIM_EXEC_ERR_MAX;
	exec_proxy_stats(et->px, &s0);
	if ((r = spawn(&rn, argv, envp)) == 0) {
		r = collect(&rn, deadline);
		if (r < 0)
			kill_group(&rn);
		finish(&rn, req, resp);
	}
	unlink(kc + 13);
	exec_proxy_stats(et->px, &s1);
	resp->egress_denied = s1.denied - s0.denied;
	resp->egress_failed = s1.failed - s0.failed;
	strlcpy(resp->egress_last, s1.last_refused, sizeof(resp->egress_last));
	resp->elapsed_ms = now_ms() - start;
	if (r < 0)
		return exec_fail(err, ERR_EXEC, "cannot run the program: %s", err_str(r));
	if (rn.exec_errno != 0)
		return exec_fail(err, ERR_EXEC, "exec refused: %s", strerror(rn.exec_errno));
	return 0;
}

/* ------------------------------------------------------------------ kind hooks */

static int
broker_connect(void *arg, const char *host, unsigned port, int timeout_ms, int *fd)
{
	return brk_connect(BRK_FD, host, port, timeout_ms, fd);
}

int
exec_kind_thread_io(struct tool_io *io)
{
	struct exec_thread *et = calloc(1, sizeof(*et));
	exec_connect_fn fn = g.o.connect ? g.o.connect : broker_connect;
	int r;

	if (et == NULL)
		return -ENOMEM;
	if ((r = exec_proxy_start(fn, g.o.connect_arg, &et->px)) < 0) {
		free(et);
		return r;
	}
	io->priv2 = et;
	io->exec = exec_run;
	return 0;
}

void
exec_kind_thread_io_free(struct tool_io *io)
{
	struct exec_thread *et = io->priv2;

	if (et != NULL) {
		exec_proxy_stop(et->px);
		free(et);
	}
	io->priv2 = NULL;
	io->exec = NULL;
}

unsigned
exec_kind_proxy_port(const struct tool_io *io)
{
	const struct exec_thread *et = io ? io->priv2 : NULL;

	return et ? exec_proxy_port(et->px) : 0;
}

static int
kind_preinit(struct wrk *w)
{
	return exec_kind_init();
}

/* Once per worker, to corrald's log: what this worker enforces. */
static void
log_enforced(struct wrk *w, const struct tool_io *io)
{
	char line[600];

	if (atomic_exchange(&g.logged, true) || !wrk_log)
		return;
	snprintf(line, sizeof(line), "exec kind: %s; %s; egress: loopback proxies (this one "
	    "127.0.0.1:%u) whose every connection corrald's broker decides; kubeconfig: "
	    "generated per call, mode 0600, removed after the run; environment: built from "
	    "scratch, HOME=%s", g.what[EXEC_BIN_KUBECTL], g.pinned[EXEC_BIN_FLUX] ?
	    g.what[EXEC_BIN_FLUX] : "flux: not configured (kubectl does reconcile/suspend)",
	    exec_kind_proxy_port(io), g.home);
	wrk_log(w, 6, line);
}

static int
kind_thread_io(struct wrk *w, struct tool_io *io)
{
	int r = exec_kind_thread_io(io);

	if (r == 0)
		log_enforced(w, io);
	return r;
}

const struct wrk_kind_ops wrk_kind_exec = {
	.preinit = kind_preinit,
	.thread_io = kind_thread_io,
	.thread_io_free = exec_kind_thread_io_free,
};
