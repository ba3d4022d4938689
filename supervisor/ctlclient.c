/* Control socket client (see ctlclient.h). Frames: 4-byte big-endian length + msgpack. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/msg.h"
#include "supervisor/ctlclient.h"

static int
ctl_connect(const char *sock_path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static int
read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n == 0)
			return ERR_CLOSED;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

/* Send one CALL and wait for its answer; EVENTs go to stderr as they come.
 * Returns 0 with *result (JSON text, malloc'd) or the error code with *errtext. */
int
ctl_request(const char *sock_path, const char *tool, const char *op, const char *args, bool dry,
    void (*on_event)(void *arg, const char *text), void *arg, char **result, char **errtext)
{
	struct msg m = { .type = MSG_CALL, .id = 1, .dry_run = dry };
	uint8_t *buf = NULL;
	size_t len;
	uint32_t be;
	int fd, r;

	*result = *errtext = NULL;
	if ((fd = ctl_connect(sock_path)) < 0)
		return fd;
	m.tool = (char *)tool;
	m.op = (char *)op;
	m.args = (char *)args;
	if ((r = msg_encode(&m, &buf, &len)) < 0)
		goto out;
	be = htonl((uint32_t)len);
	if (write(fd, &be, 4) != 4 || write(fd, buf, len) != (ssize_t)len) {
		r = -errno;
		goto out;
	}
	for (;;) {
		struct msg in = { 0 };
		uint8_t *fb;

		if ((r = read_full(fd, &be, 4)) < 0)
			goto out;
		len = ntohl(be);
		if (len > LIM_MSG_MAX || (fb = malloc(len)) == NULL) {
			r = ERR_TOOBIG;
			goto out;
		}
		if ((r = read_full(fd, fb, len)) < 0 || (r = msg_decode(fb, len, &in)) < 0) {
			free(fb);
			goto out;
		}
		free(fb);
		if (in.type == MSG_EVENT) {
			if (on_event)
				on_event(arg, in.text);
		} else if (in.type == MSG_RESULT) {
			*result = strdup(in.result);
			msg_clear(&in);
			r = 0;
			goto out;
		} else if (in.type == MSG_ERROR) {
			if (asprintf(errtext, "%s%s%s", in.text, in.detail ? " " : "",
			    in.detail ? in.detail : "") < 0)
				*errtext = NULL;
			r = in.code < 0 ? in.code : ERR_WORKER;
			msg_clear(&in);
			goto out;
		}
		msg_clear(&in);
	}
out:
	free(buf);
	close(fd);
	return r;
}

