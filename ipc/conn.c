/* Connections: nng PAIR0 over ipc://, receive cap set before listen/dial, peer pid/uid checked
 * in the ADD_PRE hook so that a wrong peer is closed before nng reads a message from it.
 *
 * Frames can hold a credential (WORK's ctx): every copy we make is wiped before it is freed.
 * nng 1.5.2 is not fork-safe: a child forked after these calls may only exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/supplemental/util/platform.h>
#include <nng/transport/ipc/ipc.h>

#include "ipc/conn.h"
#include "ipc/err.h"
#include "ipc/limits.h"

struct ipc_conn {
	nng_socket sock;
	bool listener;
	_Atomic uint64_t expect;	/* pid << 32 | uid; pid 0 refuses everyone */
	_Atomic uint64_t expect_child;	/* ppid << 32 | uid: a child of ppid (until expect) */
	_Atomic uint64_t refused;
	pthread_mutex_t mu;		/* guards cur */
	nng_pipe cur;			/* the peer's pipe, id 0 when none */
};

int
ipc_err_nng(int rv)
{
	static const int map[] = {
		[NNG_EINTR] = -EINTR, [NNG_ENOMEM] = -ENOMEM, [NNG_EINVAL] = -EINVAL,
		[NNG_EBUSY] = -EBUSY, [NNG_ETIMEDOUT] = -ETIMEDOUT,
		[NNG_ECONNREFUSED] = -ECONNREFUSED, [NNG_ECLOSED] = ERR_CLOSED,
		[NNG_EAGAIN] = -EAGAIN, [NNG_ENOTSUP] = -ENOTSUP, [NNG_EADDRINUSE] = -EADDRINUSE,
		[NNG_ESTATE] = -EALREADY, [NNG_ENOENT] = -ENOENT, [NNG_EPROTO] = ERR_PROTO,
		[NNG_EUNREACHABLE] = -EHOSTUNREACH, [NNG_EADDRINVAL] = -EINVAL,
		[NNG_EPERM] = -EPERM, [NNG_EMSGSIZE] = ERR_TOOBIG,
		[NNG_ECONNABORTED] = -ECONNABORTED, [NNG_ECONNRESET] = -ECONNRESET,
		[NNG_ECANCELED] = -ECANCELED, [NNG_ENOFILES] = -EMFILE, [NNG_ENOSPC] = -ENOSPC,
		[NNG_EEXIST] = -EEXIST, [NNG_EREADONLY] = -EROFS, [NNG_EWRITEONLY] = -EBADF,
		[NNG_ECRYPTO] = ERR_PROTO, [NNG_EPEERAUTH] = ERR_PEER, [NNG_ENOARG] = -EINVAL,
		[NNG_EAMBIGUOUS] = -EINVAL, [NNG_EBADTYPE] = -EINVAL, [NNG_ECONNSHUT] = ERR_CLOSED,
	};

	if (rv == 0)
		return 0;
	if (rv & NNG_ESYSERR) {
		int e = rv & ~NNG_ESYSERR;

		return e > 0 && e < 4096 ? -e : -EIO;
	}
	if (rv > 0 && (size_t)rv < sizeof(map) / sizeof(map[0]) && map[rv] != 0)
		return map[rv];
	return -EIO;	/* NNG_EINTERNAL, NNG_ETRANERR, unknown */
}

static uint64_t
expect_word(pid_t pid, uid_t uid)
{
	return (uint64_t)(uint32_t)pid << 32 | (uint32_t)uid;
}

static int
pipe_ids(nng_pipe p, pid_t *pid, uid_t *uid)
{
	uint64_t vp, vu;
	int rv;

	if ((rv = nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &vp)) != 0 ||
	    (rv = nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &vu)) != 0)
		return ipc_err_nng(rv);
	*pid = (pid_t)vp;
	*uid = (uid_t)vu;
	return 0;
}

/* The parent of pid, from /proc (the kernel's word, like SO_PEERCRED). -1 when unknown. */
static pid_t
parent_of(pid_t pid)
{
	char path[64], buf[512], *close_paren;
	long ppid;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses; take the last ')' */
	if ((close_paren = strrchr(buf, ')')) == NULL ||
	    sscanf(close_paren + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/* Is the peer of p the one we expect? Unknown credentials are a no. */
static bool
pipe_expected(struct ipc_conn *c, nng_pipe p)
{
	uint64_t want = atomic_load(&c->expect), child = atomic_load(&c->expect_child);
	pid_t pid, ppid;
	uid_t uid;

	if ((want >> 32 == 0 && child >> 32 == 0) || pipe_ids(p, &pid, &uid) < 0)
		return false;
	if (want >> 32 != 0)
		return expect_word(pid, uid) == want;
	return (uint32_t)child == (uint32_t)uid && (ppid = parent_of(pid)) > 0 &&
	    expect_word(ppid, uid) == child;
}

static void
pipe_refuse(struct ipc_conn *c, nng_pipe p)
{
	atomic_fetch_add(&c->refused, 1);
	nng_pipe_close(p);
}

/* Runs on nng's threads. ADD_PRE: a pipe closed here never joins the socket, so nothing it
 * sent is read. ADD_POST checks again, for an ipc_conn_expect() that raced the first check. */
static void
pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct ipc_conn *c = arg;

	switch (ev) {
	case NNG_PIPE_EV_ADD_PRE:
		if (c->listener && !pipe_expected(c, p))
			pipe_refuse(c, p);
		break;
	case NNG_PIPE_EV_ADD_POST:
		if (c->listener && !pipe_expected(c, p)) {
			pipe_refuse(c, p);
			break;
		}
		pthread_mutex_lock(&c->mu);
		c->cur = p;
		pthread_mutex_unlock(&c->mu);
		break;
	case NNG_PIPE_EV_REM_POST:
		pthread_mutex_lock(&c->mu);
		if (nng_pipe_id(c->cur) == nng_pipe_id(p))
			c->cur = (nng_pipe)NNG_PIPE_INITIALIZER;
		pthread_mutex_unlock(&c->mu);
		break;
	default:
		break;
	}
}

static nng_pipe
conn_pipe(struct ipc_conn *c)
{
	nng_pipe p;

	pthread_mutex_lock(&c->mu);
	p = c->cur;
	pthread_mutex_unlock(&c->mu);
	return p;
}

/* A socket with the caps set: before any listener or dialer exists, as they copy them. */
static int
conn_open(const char *path, bool listener, struct ipc_conn **out, char *url, size_t urlsz)
{
	static const nng_pipe_ev evs[] = {
		NNG_PIPE_EV_ADD_PRE, NNG_PIPE_EV_ADD_POST, NNG_PIPE_EV_REM_POST,
	};
	struct ipc_conn *c;
	int rv;

	if (path == NULL || out == NULL)
		return -EINVAL;
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	snprintf(url, urlsz, "ipc://%s", path);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->listener = listener;
	pthread_mutex_init(&c->mu, NULL);
	if ((rv = nng_pair0_open(&c->sock)) != 0) {
		pthread_mutex_destroy(&c->mu);
		free(c);
		return ipc_err_nng(rv);
	}
	if ((rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, LIM_MSG_MAX)) != 0 ||
	    (rv = nng_socket_set_int(c->sock, NNG_OPT_SENDBUF, LIM_SENDBUF)) != 0 ||
	    (rv = nng_socket_set_int(c->sock, NNG_OPT_RECVBUF, LIM_SENDBUF)) != 0)
		goto fail;
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if ((rv = nng_pipe_notify(c->sock, evs[i], pipe_event, c)) != 0)
			goto fail;
	*out = c;
	return 0;
fail:
	ipc_close(c);
	return ipc_err_nng(rv);
}

int
ipc_listen(const char *path, struct ipc_conn **out)
{
	struct ipc_conn *c;
	nng_listener l;
	char url[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	int rv;

	if ((rv = conn_open(path, true, &c, url, sizeof(url))) < 0)
		return rv;
	/* nng chmods the socket file after bind; the directory holding it must be private
	 * too, and the peer check below is what actually decides. */
	if ((rv = nng_listener_create(&l, c->sock, url)) != 0 ||
	    (rv = nng_listener_set_size(l, NNG_OPT_RECVMAXSZ, LIM_MSG_MAX)) != 0 ||
	    (rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600)) != 0 ||
	    (rv = nng_listener_start(l, 0)) != 0) {
		ipc_close(c);
		return ipc_err_nng(rv);
	}
	*out = c;
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ipc_dial(const char *path, int timeout_ms, struct ipc_conn **out)
{
	struct ipc_conn *c;
	char url[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int rv;

	if ((rv = conn_open(path, false, &c, url, sizeof(url))) < 0)
		return rv;
	for (;;) {
		rv = nng_dial(c->sock, url, NULL, 0);
		if (rv == 0)
			break;
		/* Not there yet (no file, or nobody accepting): retry until the deadline. */
		if ((rv != NNG_ECONNREFUSED && rv != NNG_ENOENT) || now_ms() >= deadline) {
			ipc_close(c);
			return ipc_err_nng(rv);
		}
		nng_msleep(10);
	}
	*out = c;
	return 0;
}

void
ipc_conn_expect_child(struct ipc_conn *c, pid_t ppid, uid_t uid)
{
	atomic_store(&c->expect_child, ppid > 0 ? expect_word(ppid, uid) : 0);
}

void
ipc_conn_expect(struct ipc_conn *c, pid_t pid, uid_t uid)
{
	nng_pipe p;

	atomic_store(&c->expect, pid > 0 ? expect_word(pid, uid) : 0);
	p = conn_pipe(c);
	if (nng_pipe_id(p) > 0 && !pipe_expected(c, p))
		pipe_refuse(c, p);
}

int
ipc_conn_peer(struct ipc_conn *c, pid_t *pid, uid_t *uid)
{
	nng_pipe p = conn_pipe(c);
	pid_t pp;
	uid_t pu;
	int r;

	if (nng_pipe_id(p) <= 0)
		return -ENOTCONN;
	if ((r = pipe_ids(p, &pp, &pu)) < 0)
		return r == ERR_CLOSED ? -ENOTCONN : r;
	if (pid != NULL)
		*pid = pp;
	if (uid != NULL)
		*uid = pu;
	return 0;
}

uint64_t
ipc_conn_refused(const struct ipc_conn *c)
{
	return atomic_load(&((struct ipc_conn *)c)->refused);
}

static int
nng_flags(int flags, int *out)
{
	if (flags & ~IPC_NONBLOCK)
		return -EINVAL;
	*out = (flags & IPC_NONBLOCK) ? NNG_FLAG_NONBLOCK : 0;
	return 0;
}

/* Wipe and free an nng message (a frame may hold a credential). */
static void
nmsg_free(nng_msg *nm)
{
	if (nm == NULL)
		return;
	explicit_bzero(nng_msg_body(nm), nng_msg_len(nm));
	nng_msg_free(nm);
}

#ifdef CORRAL_SANITIZED
/* LeakSanitizer: a message ipc_send_raw() handed to nng belongs to nng. nng 1.5.2 leaks one
 * that was in flight on a pipe whose peer died (cf. nanomsg/nng#1713; seen in corrald in the
 * faults suite's worker kills: one message in some runs); that is the only way a block
 * allocated here can outlive a successful send (a failed send frees it below). Weak: a test
 * program may bring its own list. */
const char *__lsan_default_suppressions(void);
__attribute__((weak)) const char *
__lsan_default_suppressions(void)
{
	return "leak:ipc_send_raw\n";
}
#endif

int
ipc_send_raw(struct ipc_conn *c, const void *buf, size_t len, int flags)
{
	nng_msg *nm;
	int nf, rv;

	if ((rv = nng_flags(flags, &nf)) < 0)
		return rv;
	if (len > LIM_MSG_MAX)
		return ERR_TOOBIG;
	if ((rv = nng_msg_alloc(&nm, len)) != 0)
		return ipc_err_nng(rv);
	if (len > 0)
		memcpy(nng_msg_body(nm), buf, len);
	/* nng owns nm only if the send succeeds. */
	if ((rv = nng_sendmsg(c->sock, nm, nf)) != 0) {
		nmsg_free(nm);
		return ipc_err_nng(rv);
	}
	return 0;
}

int
ipc_send(struct ipc_conn *c, const struct msg *m, int flags)
{
	uint8_t *buf;
	size_t len;
	int rv;

	if ((rv = msg_encode(m, &buf, &len)) < 0)
		return rv;
	rv = ipc_send_raw(c, buf, len, flags);
	explicit_bzero(buf, len);
	free(buf);
	return rv;
}

static int
decode_free(nng_msg *nm, struct msg *m)
{
	int rv = msg_decode(nng_msg_body(nm), nng_msg_len(nm), m);

	nmsg_free(nm);
	return rv;
}

int
ipc_recv(struct ipc_conn *c, struct msg *m, int flags)
{
	nng_msg *nm;
	int nf, rv;

	memset(m, 0, sizeof(*m));
	if ((rv = nng_flags(flags, &nf)) < 0)
		return rv;
	if ((rv = nng_recvmsg(c->sock, &nm, nf)) != 0)
		return ipc_err_nng(rv);
	return decode_free(nm, m);
}

int
ipc_recv_timed(struct ipc_conn *c, struct msg *m, int timeout_ms)
{
	nng_aio *aio;
	int rv;

	memset(m, 0, sizeof(*m));
	/* An aio per call, not NNG_OPT_RECVTIMEO: that is per socket and would race other
	 * threads' receives. */
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0)
		return ipc_err_nng(rv);
	nng_aio_set_timeout(aio, timeout_ms < 0 ? NNG_DURATION_INFINITE : timeout_ms);
	nng_recv_aio(c->sock, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) == 0)
		rv = decode_free(nng_aio_get_msg(aio), m);
	else
		rv = ipc_err_nng(rv);
	nng_aio_free(aio);
	return rv;
}

int
ipc_recv_raw(struct ipc_conn *c, uint8_t **buf, size_t *len, int flags)
{
	nng_msg *nm;
	uint8_t *b;
	size_t n;
	int nf, rv;

	if ((rv = nng_flags(flags, &nf)) < 0)
		return rv;
	if ((rv = nng_recvmsg(c->sock, &nm, nf)) != 0)
		return ipc_err_nng(rv);
	n = nng_msg_len(nm);
	if ((b = malloc(n ? n : 1)) == NULL) {
		nmsg_free(nm);
		return -ENOMEM;
	}
	memcpy(b, nng_msg_body(nm), n);
	nmsg_free(nm);
	*buf = b;
	*len = n;
	return 0;
}

int
ipc_conn_pollfd(struct ipc_conn *c)
{
	int fd, rv;

	if ((rv = nng_socket_get_int(c->sock, NNG_OPT_RECVFD, &fd)) != 0)
		return ipc_err_nng(rv);
	return fd;
}

static _Atomic unsigned closing;	/* ipc_close_async() closes not yet finished */

static void *
closer_main(void *arg)
{
	ipc_close(arg);
	atomic_fetch_sub(&closing, 1);
	return NULL;
}

int
ipc_close_async(struct ipc_conn *c)
{
	pthread_attr_t at;
	pthread_t th;
	int rv;

	if (c == NULL)
		return 0;
	atomic_fetch_add(&closing, 1);
	if ((rv = pthread_attr_init(&at)) == 0) {
		(void)pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		(void)pthread_attr_setstacksize(&at, 64u << 10);
		rv = pthread_create(&th, &at, closer_main, c);
		pthread_attr_destroy(&at);
	}
	if (rv == 0)
		return 0;
	atomic_fetch_sub(&closing, 1);
	ipc_close(c);
	return -rv;
}

unsigned
ipc_close_drain(int timeout_ms)
{
	for (int waited = 0; atomic_load(&closing) > 0 && waited < timeout_ms; waited += 5)
		nng_msleep(5);
	return atomic_load(&closing);
}

void
ipc_close(struct ipc_conn *c)
{
	if (c == NULL)
		return;
	/* nng_close waits for the pipe callbacks, which use c. */
	nng_close(c->sock);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
