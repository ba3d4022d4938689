#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/broker.h"
#include "ipc/err.h"

static pthread_mutex_t brk_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t brk_next_id = 1;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read one reply datagram. 1 = a reply (rep, *got filled), or a negative error. */
static int
recv_one(int chan, struct brk_reply *rep, int *got)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { .iov_base = rep, .iov_len = sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
		.msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c;
	ssize_t n;

	*got = -1;
	if ((n = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC)) < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(got, CMSG_DATA(c), sizeof(int));
	if (n == 0)
		return ERR_CLOSED;
	if ((size_t)n != sizeof(*rep) || rep->magic != BRK_MAGIC_REP ||
	    (rep->err == 0) != (*got >= 0)) {
		if (*got >= 0)
			close(*got);
		return ERR_PROTO;
	}
	return 1;
}

/* Wait for the reply to request id. A late reply to an earlier request (one this side stopped
 * waiting for) is dropped, its socket closed, and the wait goes on: the channel stays in step
 * after a timeout. */
static int
recv_reply(int chan, uint32_t id, int timeout_ms, int *fd)
{
	int64_t end = mono_ms() + timeout_ms;
	struct pollfd pfd = { .fd = chan, .events = POLLIN };
	struct brk_reply rep;
	int got, pr, r;

	for (;;) {
		int64_t left = end - mono_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		while ((pr = poll(&pfd, 1, (int)left)) < 0 && errno == EINTR)
			;
		if (pr == 0)
			return -ETIMEDOUT;
		if (pr < 0)
			return -errno;
		if ((r = recv_one(chan, &rep, &got)) < 0)
			return r;
		if (rep.id == id)
			break;
		if (got >= 0)
			close(got);
		if ((int32_t)(id - rep.id) <= 0)
			return ERR_PROTO;	/* a reply to a request never made */
	}
	if (rep.err != 0)
		return rep.err < 0 ? rep.err : -EIO;
	*fd = got;
	return 0;
}

int
brk_connect(int chan, const char *host, unsigned port, int timeout_ms, int *fd)
{
	struct brk_req req = { .magic = BRK_MAGIC_REQ };
	size_t hl = strlen(host);
	int r;

	if (hl == 0 || hl > BRK_HOST_MAX || port == 0 || port > 65535)
		return -EINVAL;
	req.port = (uint16_t)port;
	req.hostlen = (uint16_t)hl;
	memcpy(req.host, host, hl);
	pthread_mutex_lock(&brk_lock);
	req.id = brk_next_id++;
	if (send(chan, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		r = -errno;
	else
		r = recv_reply(chan, req.id, timeout_ms, fd);
	pthread_mutex_unlock(&brk_lock);
	return r;
}

int
brk_read_req(int chan, struct brk_req *req)
{
	ssize_t n = recv(chan, req, sizeof(*req), MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0)
		return -errno;
	if (n == 0)
		return ERR_CLOSED;
	if ((size_t)n != sizeof(*req) || req->magic != BRK_MAGIC_REQ || req->hostlen == 0 ||
	    req->hostlen > BRK_HOST_MAX || req->port == 0 || req->host[req->hostlen] != '\0' ||
	    memchr(req->host, '\0', req->hostlen) != NULL)
		return ERR_PROTO;
	for (size_t i = 0; i < req->hostlen; i++) {
		char ch = req->host[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':'))
			return ERR_PROTO;
	}
	return 0;
}

int
brk_reply(int chan, uint32_t id, int err, int fd)
{
	struct brk_reply rep = { .magic = BRK_MAGIC_REP, .id = id, .err = err };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (err == 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(chan, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return -errno;
	return 0;
}
