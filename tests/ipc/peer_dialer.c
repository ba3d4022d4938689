/* A peer for test_conn.c, run as its own process (so it has its own pid):
 *   peer_dialer SOCKET MODE [FD]
 * waits for one byte on FD (when given: the test learns our pid first), dials SOCKET, sends
 * PING id 42, and waits up to 3 s for PONG id 42.
 * Exit: 0 got the PONG, 2 no answer, 3 wrong answer, 10 dial failed, 64 usage.
 * MODE is "ping" (the only one so far). Links ipc/ only. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/conn.h"
#include "ipc/msg.h"

const char *__lsan_default_suppressions(void);

/* nng 1.5.2 leaks a message sent on a pipe the other side closes (as the refusing listener
 * does here): not ours to fix (cf. nanomsg/nng#1713). Only matters under ASan. */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libnng.so\n";
}

int
main(int argc, char **argv)
{
	struct ipc_conn *c;
	struct msg m = { .type = MSG_PING, .id = 42 };
	char b;
	int r;

	if (argc < 3 || strcmp(argv[2], "ping") != 0)
		return 64;
	if (argc > 3) {
		int fd = atoi(argv[3]);

		if (read(fd, &b, 1) != 1)
			return 64;
		close(fd);
	}
	if (ipc_dial(argv[1], 2000, &c) < 0)
		return 10;
	if (ipc_send(c, &m, 0) < 0)
		return 10;
	r = ipc_recv_timed(c, &m, 3000);
	ipc_close(c);
	if (r < 0)
		return 2;
	r = m.type == MSG_PONG && m.id == 42 ? 0 : 3;
	msg_clear(&m);
	return r;
}
