/* corral-agent: the confined agent worker. No network (empty net namespace, AF_INET refused
 * by seccomp, TCP refused by its own Landlock layer), no credentials; its only channel is its
 * socket to corrald, and its only writable place is its state directory (memory).
 *
 *   corral-agent --socket PATH [--state-dir DIR]	(DIR defaults to /state)
 *
 * The runtime (agents/agentrt.h) runs the model loop for agents with a model and relays
 * {"calls": [...]} inputs. Start-up order: no dumps -> open DIR -> Landlock (read everything,
 * write only DIR, no TCP, no signals or abstract sockets outside) -> dial -> seccomp (writes
 * only relative to DIR's fd) -> HELLO. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "agents/agentrt.h"
#include "agents/mcpbridge.h"
#include "ipc/conn.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "workers/sandbox.h"

static int
lock_fs(const char *state_dir)
{
	const struct sbx_fs_rule rules[] = {
		{ "/", -1, SBX_FS_READ },
		{ state_dir, -1, SBX_FS_READ | SBX_FS_WRITE },
	};
	const struct sbx_landlock ll = { .fs = rules, .nfs = 2,
		.flags = SBX_LL_NET | SBX_LL_SCOPE };
	int abi;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return sbx_landlock_apply(&ll, &abi);
}

static int
hello(struct ipc_conn *conn)
{
	struct msg m = { .type = MSG_HELLO, .version = CORRAL_PROTO_VERSION, .kind = "agent",
		.family = "" };
	int r;

	if ((r = ipc_send(conn, &m, 0)) < 0)
		return r;
	memset(&m, 0, sizeof(m));
	if ((r = ipc_recv_timed(conn, &m, LIM_HELLO_MS * 2)) < 0)
		return r;
	r = m.type == MSG_WELCOME && m.version == CORRAL_PROTO_VERSION ? 0 : ERR_VERSION;
	msg_clear(&m);
	return r;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: corral-agent --socket PATH [--state-dir DIR]\n"
	    "       corral-agent --socket PATH [--state-dir DIR] --mcp-bridge -- PROGRAM [ARGS]\n"
	    "The confined agent worker; corrald starts it through corral-jail. DIR (default\n"
	    "/state) holds the agent's memory and is the only place it may write. With\n"
	    "--mcp-bridge it hosts an external agent program that speaks MCP on its stdio.\n");
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "mcp-bridge", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct art_opts o = { .state_dir = "/state", .state_fd = -1 };
	const char *sock = NULL;
	struct ipc_conn *conn = NULL;
	struct art *a = NULL;
	bool bridge = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		if (c == 's')
			sock = optarg;
		else if (c == 'd')
			o.state_dir = optarg;
		else if (c == 'm')
			bridge = true;
		else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (sock == NULL || o.state_dir[0] != '/') {
		usage(stderr);
		return 2;
	}
	if (bridge)	/* an external agent program speaking MCP on its stdio: mcpbridge.h */
		return optind < argc ? mcpbridge_main(sock, o.state_dir, argv + optind) : 2;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* absent: memory is off, and the run's result says so */
	o.state_fd = open(o.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((r = lock_fs(o.state_dir)) < 0 || (r = ipc_dial(sock, LIM_HELLO_MS, &conn)) < 0 ||
	    (r = sbx_seccomp_apply_state(SBX_AGENT, 0, o.state_fd)) < 0 || (r = hello(conn)) < 0 ||
	    (r = art_new(conn, &o, &a)) < 0) {
		fprintf(stderr, "corral-agent: start: %s\n", err_str(r));
		ipc_close(conn);
		return 1;
	}
	r = art_serve(a);
	art_free(a);
	ipc_close(conn);
	if (r < 0) {
		fprintf(stderr, "corral-agent: %s\n", err_str(r));
		return 1;
	}
	return 0;
}
