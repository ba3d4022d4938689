/* privc: corrald's end of the channel to corral-privd (supervisor/privd.h).
 *
 * Requests are synchronous and short (privd forks and answers); jail exits privd reports
 * while corrald waits for an answer are queued here and handed out by privc_next_exit().
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/privd.h"

#define PRIVC_REPLY_MS	10000	/* privd answers in a fork's time; longer means it is stuck */

struct privc {
	int fd;
	uint32_t next_id;
	struct { pid_t pid; int status; } *exits;
	size_t nexits, cap;
	bool gone;
};

int
privc_connect(const char *path, struct privc **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct privc *c;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	*out = c;
	return 0;
}

void
privc_free(struct privc *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->exits);
	free(c);
}

int
privc_fd(const struct privc *c)
{
	return c->fd;
}

static int
queue_exit(struct privc *c, pid_t pid, int status)
{
	if (c->nexits == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		void *n;

		if (ncap > LIM_PRIVD_JAILS || (n = reallocarray(c->exits, ncap,
		    sizeof(*c->exits))) == NULL)
			return -ENOMEM;
		c->exits = n;
		c->cap = ncap;
	}
	c->exits[c->nexits].pid = pid;
	c->exits[c->nexits++].status = status;
	return 0;
}

/* One datagram from privd. Returns its length (>= header), 0 when nothing is there (nonblock),
 * or -errno / ERR_CLOSED / ERR_PROTO. */
static ssize_t
read_one(struct privc *c, char *buf, size_t len, int flags)
{
	ssize_t n = recv(c->fd, buf, len, flags);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if (n == 0) {
		c->gone = true;
		return ERR_CLOSED;
	}
	if ((size_t)n < sizeof(struct privd_hdr))
		return ERR_PROTO;
	return n;
}

int
privc_spawn(struct privc *c, char *const *argv, const int fds[3], pid_t *jail_pid, char *why,
    size_t whylen)
{
	static char buf[LIM_PRIVD_MSG];
	union { char b[CMSG_SPACE(sizeof(int) * 3)]; struct cmsghdr align; } cm;
	struct privd_hdr h = { .op = PRIVD_SPAWN, .id = ++c->next_id };
	size_t off = sizeof(h), nfds = fds[2] >= 0 ? 3 : 2;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
		.msg_controllen = CMSG_SPACE(sizeof(int) * nfds) };
	struct cmsghdr *cmh;
	ssize_t n;

	why[0] = '\0';
	for (size_t i = 0; argv[i]; i++, h.val++) {
		size_t l = strlen(argv[i]) + 1;

		if (off + l > sizeof(buf) || h.val >= LIM_PRIVD_ARGS_MAX)
			return -E2BIG;
		memcpy(buf + off, argv[i], l);
		off += l;
	}
	memcpy(buf, &h, sizeof(h));
	iov = (struct iovec){ buf, off };
	memset(cm.b, 0, sizeof(cm.b));
	cmh = CMSG_FIRSTHDR(&mh);
	cmh->cmsg_level = SOL_SOCKET;
	cmh->cmsg_type = SCM_RIGHTS;
	cmh->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(cmh), fds, sizeof(int) * nfds);
	if (sendmsg(c->fd, &mh, MSG_NOSIGNAL) < 0)
		return -errno;
	for (;;) {
		struct pollfd pf = { c->fd, POLLIN, 0 };
		struct privd_hdr rep;

		if (poll(&pf, 1, PRIVC_REPLY_MS) == 0)
			return ERR_TIMEOUT;
		if ((n = read_one(c, buf, sizeof(buf) - 1, MSG_DONTWAIT)) <= 0) {
			if (n == 0)
				continue;
			return (int)n;
		}
		memcpy(&rep, buf, sizeof(rep));
		if (rep.op == PRIVD_EXITED) {
			if (queue_exit(c, rep.pid, rep.val) < 0)
				return -ENOMEM;
			continue;
		}
		if (rep.op != PRIVD_SPAWNED || rep.id != h.id)
			return ERR_PROTO;
		if (rep.val < 0 || rep.pid <= 0) {
			buf[n] = '\0';
			snprintf(why, whylen, "%s", (size_t)n > sizeof(rep) ? buf + sizeof(rep) :
			    "refused");
			return rep.val < 0 ? rep.val : ERR_PROTO;
		}
		*jail_pid = rep.pid;
		return 0;
	}
}

int
privc_kill(struct privc *c, pid_t jail_pid)
{
	struct privd_hdr h = { .op = PRIVD_KILL, .pid = jail_pid };

	return send(c->fd, &h, sizeof(h), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
}

int
privc_next_exit(struct privc *c, pid_t *pid, int *wstatus)
{
	char buf[sizeof(struct privd_hdr) + 512];
	struct privd_hdr h;
	ssize_t n;

	for (;;) {
		if (c->nexits > 0) {
			*pid = c->exits[0].pid;
			*wstatus = c->exits[0].status;
			memmove(c->exits, c->exits + 1, --c->nexits * sizeof(*c->exits));
			return 1;
		}
		if (c->gone)
			return ERR_CLOSED;
		if ((n = read_one(c, buf, sizeof(buf), MSG_DONTWAIT)) <= 0)
			return (int)n;
		memcpy(&h, buf, sizeof(h));
		if (h.op != PRIVD_EXITED)
			return ERR_PROTO;
		*pid = h.pid;
		*wstatus = h.val;
		return 1;
	}
}
