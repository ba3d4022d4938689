/* A fake supervisor for tests that drive our real confined binaries (corral-worker,
 * corral-agent) without corrald: it listens with ipc_listen, spawns the binary with
 * --socket, checks its HELLO, answers WELCOME, and plays the egress broker on fd 3 (connects
 * only to 127.0.0.1:<allowed port>). Everything else is the test's: it sends and receives
 * struct msg itself. */
#ifndef CORRAL_TESTS_MODEL_FSUP_H
#define CORRAL_TESTS_MODEL_FSUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "ipc/conn.h"

struct fsup_peer {
	struct ipc_conn *conn;
	pid_t pid;
	int brk;			/* our end of the broker channel, -1 when none */
	unsigned allowed_port;		/* the only port the broker connects to */
	unsigned brk_requests;		/* requests seen */
	unsigned brk_refused;
	char dir[128];			/* private temp dir holding the socket */
	char sock[192];
};

/* argv: the binary and its arguments (NULL-terminated; " --socket PATH" is appended). kind:
 * the HELLO kind expected ("model", "agent"). broker: give the child fd 3. 0 or aborts the
 * test with a message. */
void fsup_spawn(struct fsup_peer *p, const char *const *argv, const char *kind, bool broker);
/* Receive one message (timeout_ms; -ETIMEDOUT), serving the broker meanwhile. */
int fsup_recv(struct fsup_peer *p, struct msg *m, int timeout_ms);
int fsup_send(struct fsup_peer *p, const struct msg *m);
/* SHUTDOWN, wait up to 3 s, then SIGKILL. Returns the wait status. */
int fsup_stop(struct fsup_peer *p);
/* Seccomp mode from /proc/PID/status (2 = filter), -1 when unknown. */
int fsup_seccomp(pid_t pid);

#endif
