/* corral-agent: the confined agent worker. No network (empty net namespace, AF_INET refused
 * by seccomp), no credentials; its only channel is its socket to corrald.
 *
 * This build runs the relay loop: a RUN whose input is {"calls": [{"tool","op","args"}, ...]}
 * makes those calls in order through the supervisor (each validated, decided and audited
 * there) and answers DONE with every result or error. The model-driven loop replaces the
 * relay for agents that name a model. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "ipc/conn.h"
#include "ipc/err.h"
#include "ipc/json.h"
#include "ipc/limits.h"
#include "workers/sandbox.h"

static struct ipc_conn *conn;
static uint64_t next_call = 1;

/* One call through the supervisor; returns a JSON object {ok, result} or {ok:false, error}. */
static json_t *
call(const char *tool, const char *op, json_t *args, uint64_t run)
{
	struct msg m = { .type = MSG_CALL, .id = next_call++ };
	json_t *out = NULL;
	int r;

	m.tool = (char *)tool;
	m.op = (char *)op;
	m.args = json_dumps(args ? args : json_object(), JSON_COMPACT);
	r = m.args ? ipc_send(conn, &m, 0) : -ENOMEM;
	free(m.args);
	if (r < 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error", err_str(r));
	for (;;) {
		struct msg in = { 0 };

		if ((r = ipc_recv(conn, &in, 0)) < 0)
			return json_pack("{s:b, s:s}", "ok", 0, "error", err_str(r));
		if (in.id != m.id || (in.type != MSG_RESULT && in.type != MSG_ERROR)) {
			msg_clear(&in);	/* progress events of this call: not needed by the relay */
			continue;
		}
		if (in.type == MSG_RESULT) {
			json_t *res = json_loads(in.result, JSON_DECODE_ANY, NULL);

			out = json_pack("{s:b, s:o}", "ok", 1, "result", res ? res : json_null());
		} else {
			out = json_pack("{s:b, s:i, s:s, s:s}", "ok", 0, "code", in.code, "error",
			    err_name(in.code), "message", in.text);
		}
		msg_clear(&in);
		return out;
	}
}

static int
run(struct msg *m)
{
	struct msg done = { .type = MSG_DONE, .id = m->id };
	json_t *input = json_loads(m->input, 0, NULL), *calls, *results = json_array(), *c;
	size_t i;
	int r;

	calls = json_object_get(input, "calls");
	if (!json_is_array(calls)) {
		struct msg e = { .type = MSG_ERROR, .id = m->id, .code = ERR_SCHEMA,
			.text = "this agent has no model loop configured; input must be "
			    "{\"calls\": [...]}" };

		json_decref(input);
		json_decref(results);
		return ipc_send(conn, &e, 0);
	}
	json_array_foreach(calls, i, c) {
		const char *tool = json_string_value(json_object_get(c, "tool"));
		const char *op = json_string_value(json_object_get(c, "op"));

		json_array_append_new(results, tool && op ? call(tool, op,
		    json_object_get(c, "args"), m->id) :
		    json_pack("{s:b, s:s}", "ok", 0, "error", "call needs tool and op"));
	}
	done.result = json_dumps(json_pack("{s:o}", "results", results), JSON_COMPACT);
	r = done.result ? ipc_send(conn, &done, 0) : -ENOMEM;
	free(done.result);
	json_decref(input);
	return r;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *sock = NULL;
	struct msg m = { .type = MSG_HELLO, .version = CORRAL_PROTO_VERSION, .kind = "agent",
		.family = "" };
	int c, r;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 's')
			sock = optarg;
		else {
			fprintf(c == 'h' ? stdout : stderr,
			    "usage: corral-agent --socket PATH\n"
			    "The confined agent worker; corrald starts it through corral-jail.\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (sock == NULL)
		return 2;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if ((r = ipc_dial(sock, LIM_HELLO_MS, &conn)) < 0 ||
	    (r = sbx_seccomp_apply(SBX_AGENT, 0)) < 0 || (r = ipc_send(conn, &m, 0)) < 0) {
		fprintf(stderr, "corral-agent: start: %s\n", err_str(r));
		return 1;
	}
	memset(&m, 0, sizeof(m));
	if ((r = ipc_recv_timed(conn, &m, LIM_HELLO_MS * 2)) < 0 || m.type != MSG_WELCOME) {
		fprintf(stderr, "corral-agent: no welcome: %s\n", err_str(r));
		return 1;
	}
	msg_clear(&m);
	for (;;) {
		if ((r = ipc_recv(conn, &m, 0)) < 0)
			break;
		if (m.type == MSG_SHUTDOWN) {
			msg_clear(&m);
			break;
		}
		if (m.type == MSG_RUN)
			r = run(&m);
		else if (m.type == MSG_PING) {
			struct msg p = { .type = MSG_PONG, .id = m.id };

			r = ipc_send(conn, &p, 0);
		} else if (m.type != MSG_CANCEL) {
			msg_clear(&m);
			return 1;	/* not in our table: protocol error */
		}
		msg_clear(&m);
		if (r < 0)
			break;
	}
	ipc_close(conn);
	return 0;
}
