/* The egress broker channel: a SOCK_SEQPACKET socketpair between corrald and an HTTP or exec
 * worker (fd 3 in the worker). The worker lives in an empty network namespace and cannot open
 * a network socket itself; for each connection it asks here, and corrald resolves the name,
 * checks it against the endpoints of that worker's family and tenant, connects, and passes the
 * connected socket back with SCM_RIGHTS.
 *
 * One request or reply is one datagram of fixed binary layout (no parsing of text):
 *   request:  struct brk_req   { magic, id, port, hostlen, host[] }
 *   reply:    struct brk_reply { magic, id, err (0 or negative errno/ERR_*) } + SCM_RIGHTS fd
 * The supervisor treats any malformed request as a protocol violation.
 */
#ifndef CORRAL_IPC_BROKER_H
#define CORRAL_IPC_BROKER_H

#include <stdint.h>

#define BRK_MAGIC_REQ	0x4b524243u	/* "CBRK" */
#define BRK_MAGIC_REP	0x50524243u
#define BRK_HOST_MAX	253u
#define BRK_FD		3		/* the channel's fd number in the worker */

struct brk_req {
	uint32_t magic;
	uint32_t id;
	uint16_t port;
	uint16_t hostlen;
	char host[BRK_HOST_MAX + 1];
};

struct brk_reply {
	uint32_t magic;
	uint32_t id;
	int32_t err;
};

/* Worker side: ask for a connected socket to host:port (blocks, bounded by timeout_ms).
 * Thread-safe (requests are serialised). Returns 0 and *fd, or a negative error. */
int brk_connect(int chan, const char *host, unsigned port, int timeout_ms, int *fd);

/* Supervisor side: read one request (non-blocking socket; -EAGAIN when none). A malformed
 * datagram returns ERR_PROTO. */
int brk_read_req(int chan, struct brk_req *req);
/* Reply with err (0 = success: fd is passed and stays the caller's to close). */
int brk_reply(int chan, uint32_t id, int err, int fd);

#endif
