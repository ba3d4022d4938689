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
	struct privd_event *evs;		/* events that came while we waited for a reply */
	size_t nevs, cap;
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
	free(c->evs);
	free(c);
}

int
privc_fd(const struct privc *c)
{
	return c->fd;
}

/* An event datagram (EXITED, KMSG) into ev. */
static int
to_event(const char *buf, size_t n, struct privd_event *ev)
{
	struct privd_hdr h;

	memcpy(&h, buf, sizeof(h));
	memset(ev, 0, sizeof(*ev) - sizeof(ev->text));
	ev->text[0] = '\0';
	ev->op = (enum privd_op)h.op;
	if (h.op == PRIVD_EXITED) {
		ev->pid = h.pid;
		ev->wstatus = h.val;
		return 0;
	}
	if (h.op != PRIVD_KMSG)
		return ERR_PROTO;
	n -= sizeof(h);
	if (n >= sizeof(ev->text))
		n = sizeof(ev->text) - 1;
	memcpy(ev->text, buf + sizeof(h), n);
	ev->text[n] = '\0';
	return 0;
}

static int
queue_event(struct privc *c, const char *buf, size_t n)
{
	if (c->nevs == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		void *p;

		if (ncap > 2 * LIM_PRIVD_JAILS || (p = reallocarray(c->evs, ncap,
		    sizeof(*c->evs))) == NULL)
			return -ENOMEM;
		c->evs = p;
		c->cap = ncap;
	}
	return to_event(buf, n, &c->evs[c->nevs++]) < 0 ? (c->nevs--, ERR_PROTO) : 0;
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
		if (rep.op == PRIVD_EXITED || rep.op == PRIVD_KMSG) {
			int r = queue_event(c, buf, (size_t)n);

			if (r < 0)
				return r;
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

/* A kill is not dropped when privd is slow to read: wait for room, as long as a reply. */
int
privc_kill(struct privc *c, pid_t jail_pid)
{
	struct privd_hdr h = { .op = PRIVD_KILL, .pid = jail_pid };
	struct pollfd pf = { c->fd, POLLOUT, 0 };

	while (send(c->fd, &h, sizeof(h), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (errno == EAGAIN && poll(&pf, 1, PRIVC_REPLY_MS) == 0)
			return ERR_TIMEOUT;
	}
	return 0;
}

int
privc_next(struct privc *c, struct privd_event *ev)
{
	char buf[sizeof(struct privd_hdr) + LIM_PRIVD_TEXT];
	ssize_t n;

	if (c->nevs > 0) {
		*ev = c->evs[0];
		memmove(c->evs, c->evs + 1, --c->nevs * sizeof(*c->evs));
		return 1;
	}
	if (c->gone)
		return ERR_CLOSED;
	if ((n = read_one(c, buf, sizeof(buf), MSG_DONTWAIT)) <= 0)
		return (int)n;
	return to_event(buf, (size_t)n, ev) < 0 ? ERR_PROTO : 1;
}
