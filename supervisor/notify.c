/* sd_notify(3)'s wire protocol, without libsystemd. See notify.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "supervisor/notify.h"

bool
notify_enabled(void)
{
	const char *e = getenv("NOTIFY_SOCKET");

	return e != NULL && e[0] != '\0';
}

/* $NOTIFY_SOCKET -> sockaddr. "@name" is abstract: sun_path[0] = '\0' and the length counts
 * exactly the name's bytes (no terminating NUL), as systemd binds it. */
static int
notify_addr(const char *e, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(e);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (e[0] != '/' && e[0] != '@')
		return strchr(e, ':') != NULL ? -EAFNOSUPPORT : -EINVAL;
	if (n < 2)
		return -EINVAL;
	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, e, n);
	if (e[0] == '@') {
		sa->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

int
notify_send(const char *state)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	size_t n;
	ssize_t w;
	int fd, r;

	if (e == NULL || e[0] == '\0')
		return 0;
	if (state == NULL || (n = strlen(state)) == 0)
		return -EINVAL;
	if (n > LIM_NOTIFY_MSG_MAX)
		return -EMSGSIZE;
	if ((r = notify_addr(e, &sa, &salen)) < 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	/* One datagram: systemd reads one notification per message, never a stream. */
	do {
		w = sendto(fd, state, n, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	} while (w < 0 && errno == EINTR);
	r = w < 0 ? -errno : (size_t)w == n ? 0 : -EIO;
	close(fd);
	return r;
}

/* Append "STATUS=<status>\n" with newlines and other control characters made spaces. */
static void
put_status(char *buf, size_t size, size_t *off, const char *status)
{
	size_t n = 0;
	int k;

	if (status == NULL)
		return;
	k = snprintf(buf + *off, size - *off, "STATUS=");
	if (k < 0 || (size_t)k >= size - *off)
		return;
	*off += (size_t)k;
	for (; status[n] != '\0' && n < LIM_NOTIFY_STATUS_MAX && *off + 2 < size; n++) {
		unsigned char c = (unsigned char)status[n];

		buf[(*off)++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	buf[(*off)++] = '\n';
	buf[*off] = '\0';
}

static int
send_with_status(const char *head, const char *status)
{
	char buf[LIM_NOTIFY_STATUS_MAX + 256];
	size_t off;
	int k;

	if (!notify_enabled())
		return 0;
	k = snprintf(buf, sizeof(buf), "%s", head);
	if (k < 0 || (size_t)k >= sizeof(buf))
		return -EMSGSIZE;
	off = (size_t)k;
	put_status(buf, sizeof(buf), &off, status);
	return notify_send(buf);
}

int
notify_ready(const char *status)
{
	char head[64];

	snprintf(head, sizeof(head), "READY=1\nMAINPID=%ld\n", (long)getpid());
	return send_with_status(head, status);
}

int
notify_reloading(const char *status)
{
	struct timespec ts;
	char head[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(head, sizeof(head), "RELOADING=1\nMONOTONIC_USEC=%llu\n",
	    (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	return send_with_status(head, status);
}

int
notify_stopping(const char *status)
{
	return send_with_status("STOPPING=1\n", status);
}

int
notify_status(const char *status)
{
	return send_with_status("", status);
}

int64_t
notify_watchdog_ms(void)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (us == NULL || !notify_enabled())
		return 0;
	if (pid != NULL && pid[0] != '\0') {
		errno = 0;
		v = strtoull(pid, &end, 10);
		if (errno || *end != '\0' || v != (unsigned long long)getpid())
			return 0;
	}
	errno = 0;
	v = strtoull(us, &end, 10);
	if (errno || *end != '\0' || v == 0)
		return 0;
	/* Half the timeout, as sd_watchdog_enabled(3) advises; never below 1 ms. */
	return v / 2000 > 0 ? (int64_t)(v / 2000) : 1;
}

int
notify_watchdog(void)
{
	return notify_send("WATCHDOG=1\n");
}
