/* Connections: nng PAIR0 sockets over ipc://, one per worker.
 *
 * The supervisor listens; the worker dials. The receive cap (LIM_MSG_MAX) is set on the socket
 * before listening or dialing, so nng drops larger frames before they are read. The listener
 * checks every new pipe in nng's ADD_PRE hook against the pid and uid the supervisor expects
 * (the kernel's SO_PEERCRED via NNG_OPT_IPC_PEER_PID/UID): any other peer is closed before a
 * single message from it is read.
 *
 * Ownership: ipc_send() encodes and sends; the message struct stays the caller's. Receiving
 * fills a struct msg the caller must msg_clear(). All calls return 0 or a negative error
 * (nng errors converted to -errno / ERR_* by ipc_err_nng). Copies of frames made here are
 * wiped before they are freed (WORK carries a credential).
 *
 * A frame over LIM_MSG_MAX is never delivered: nng reads its length header, drops the pipe
 * (the dialer redials) and the frame is lost. Calls are thread-safe (nng sockets are).
 * nng 1.5.2 is not fork-safe: after any call here a forked child may only exec.
 */
#ifndef CORRAL_IPC_CONN_H
#define CORRAL_IPC_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/msg.h"

struct ipc_conn;

#define IPC_NONBLOCK	1

/* Supervisor side. path is a filesystem path (not a URL); the socket file is created 0600.
 * Until ipc_conn_expect() is called, every peer is refused. */
int ipc_listen(const char *path, struct ipc_conn **out);
/* Accept only a peer with this pid and uid from now on (pid 0: refuse all). A connected pipe
 * from another peer is closed. */
void ipc_conn_expect(struct ipc_conn *c, pid_t pid, uid_t uid);
/* Until ipc_conn_expect() names the pid: accept a peer that is a child of ppid (its parent
 * read from /proc) with this uid. corrald knows the jail's pid at fork, the worker's (the
 * jail's child) only when the jail reports it; this closes the window in which the worker
 * could dial first and have its HELLO dropped with the refused pipe. */
void ipc_conn_expect_child(struct ipc_conn *c, pid_t ppid, uid_t uid);
/* Peer pid/uid of the current pipe (-ENOTCONN if none). */
int ipc_conn_peer(struct ipc_conn *c, pid_t *pid, uid_t *uid);
/* Number of pipes refused by the peer check so far (for tests and status). */
uint64_t ipc_conn_refused(const struct ipc_conn *c);

/* Worker side. Retries for up to timeout_ms while the listener is not there yet (then
 * -ECONNREFUSED: nng reports a missing socket file that way too). A listener that refuses us
 * still lets the dial succeed: the pipe is closed right after, and nng redials by itself. */
int ipc_dial(const char *path, int timeout_ms, struct ipc_conn **out);

/* flags: 0 or IPC_NONBLOCK (-EAGAIN when the send queue of LIM_SENDBUF messages is full).
 * msg_encode's errors come back as they are. */
int ipc_send(struct ipc_conn *c, const struct msg *m, int flags);
/* -EAGAIN when NONBLOCK and nothing is there. A frame that does not decode is consumed and
 * its msg_decode error (ERR_TRUNC, ERR_UNKNOWN, ...) returned: a protocol violation. */
int ipc_recv(struct ipc_conn *c, struct msg *m, int flags);
/* Timed receive: -ETIMEDOUT after timeout_ms (< 0: wait forever). */
int ipc_recv_timed(struct ipc_conn *c, struct msg *m, int timeout_ms);

/* Raw frames, for relays and benchmarks (bytes are not decoded; len > LIM_MSG_MAX is
 * ERR_TOOBIG). */
int ipc_send_raw(struct ipc_conn *c, const void *buf, size_t len, int flags);
int ipc_recv_raw(struct ipc_conn *c, uint8_t **buf, size_t *len, int flags); /* free(*buf) */

/* A file descriptor that polls readable when a message may be received (NNG_OPT_RECVFD).
 * Owned by nng: do not read from or close it. */
int ipc_conn_pollfd(struct ipc_conn *c);

void ipc_close(struct ipc_conn *c);	/* NULL-safe */
/* Close c on a thread of its own and return at once (NULL-safe). For a supervisor's loop,
 * which must never wait on a peer's teardown: nng 1.5's close can hang for good when it races
 * the teardown of a pipe whose peer just died (nanomsg/nng#1543), and nng unlinks a listener's
 * socket file when its close gets that far, so the next listener must use another path.
 * Returns 0, or the error of a synchronous close when no thread could be started. */
int ipc_close_async(struct ipc_conn *c);
/* Wait up to timeout_ms for the closes handed to ipc_close_async() to finish; returns how
 * many are still running (each stuck one holds one socket and one thread). */
unsigned ipc_close_drain(int timeout_ms);

int ipc_err_nng(int nng_rv);

#endif
