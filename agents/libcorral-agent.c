/* libcorral-agent (see libcorral-agent.h): the agent side of the ipc protocol on top of
 * ipc/conn.h (nng PAIR0 over the worker socket, msgpack messages of ipc/msg.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agents/libcorral-agent.h"
#include "ipc/conn.h"
#include "ipc/err.h"
#include "ipc/limits.h"

#define CANCEL_RING	16

struct cagent {
	struct ipc_conn *conn;
	char *name, *tenant;
	uint64_t next_id;
	struct cagent_run queue[LIM_MCP_RUNS_QUEUED];
	size_t nqueued;
	uint64_t cancelled[CANCEL_RING];
	unsigned ncancelled;
	bool shutdown;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
cagent_dial(const char *path, int timeout_ms, struct cagent **out)
{
	struct cagent *a = calloc(1, sizeof(*a));
	int r;

	if (a == NULL)
		return -ENOMEM;
	if ((r = ipc_dial(path, timeout_ms, &a->conn)) < 0) {
		free(a);
		return r;
	}
	*out = a;
	return 0;
}

int
cagent_hello(struct cagent *a, int timeout_ms)
{
	struct msg m = { .type = MSG_HELLO, .version = CORRAL_PROTO_VERSION, .kind = "agent",
		.family = "" };
	int r;

	if ((r = ipc_send(a->conn, &m, 0)) < 0)
		return r;
	memset(&m, 0, sizeof(m));
	if ((r = ipc_recv_timed(a->conn, &m, timeout_ms)) < 0)
		return r;
	if (m.type != MSG_WELCOME || m.version != CORRAL_PROTO_VERSION) {
		msg_clear(&m);
		return ERR_VERSION;
	}
	a->name = m.name;
	a->tenant = m.tenant;
	m.name = m.tenant = NULL;
	msg_clear(&m);
	return 0;
}

int
cagent_open(const char *path, int timeout_ms, struct cagent **out)
{
	int r;

	if ((r = cagent_dial(path, timeout_ms, out)) < 0)
		return r;
	if ((r = cagent_hello(*out, timeout_ms)) < 0) {
		cagent_close(*out);
		*out = NULL;
	}
	return r;
}

void
cagent_run_clear(struct cagent_run *run)
{
	if (run == NULL)
		return;
	free(run->input);
	free(run->agent);
	memset(run, 0, sizeof(*run));
}

void
cagent_close(struct cagent *a)
{
	if (a == NULL)
		return;
	ipc_close(a->conn);
	for (size_t i = 0; i < a->nqueued; i++)
		cagent_run_clear(&a->queue[i]);
	free(a->name);
	free(a->tenant);
	free(a);
}

const char *
cagent_name(const struct cagent *a)
{
	return a->name ? a->name : "";
}

const char *
cagent_tenant(const struct cagent *a)
{
	return a->tenant ? a->tenant : "";
}

bool
cagent_cancelled(const struct cagent *a, uint64_t run)
{
	for (unsigned i = 0; i < CANCEL_RING && i < a->ncancelled; i++)
		if (a->cancelled[i] == run)
			return true;
	return false;
}

/* ---------------------------------------------------------------- messages */

static int
send_msg(struct cagent *a, const struct msg *m)
{
	return ipc_send(a->conn, m, 0);
}

int
cagent_event(struct cagent *a, uint64_t run, const char *text)
{
	struct msg m = { .type = MSG_EVENT, .id = run, .text = (char *)text };

	return send_msg(a, &m);
}

int
cagent_done(struct cagent *a, uint64_t run, const char *result_json)
{
	struct msg m = { .type = MSG_DONE, .id = run, .result = (char *)result_json };

	return send_msg(a, &m);
}

int
cagent_fail(struct cagent *a, uint64_t run, int code, const char *text)
{
	struct msg m = { .type = MSG_ERROR, .id = run, .code = code < 0 ? code : ERR_WORKER };
	char t[LIM_ERRMSG_MAX];

	snprintf(t, sizeof(t), "%s", text ? text : err_str(m.code));	/* senders truncate */
	m.text = t;
	return send_msg(a, &m);
}

/* A message that is not what we wait for: queue RUNs, note CANCELs, answer PINGs. Takes
 * ownership of the strings it keeps. */
static void
unsolicited(struct cagent *a, struct msg *m)
{
	switch (m->type) {
	case MSG_RUN:
		if (a->nqueued == LIM_MCP_RUNS_QUEUED) {
			cagent_fail(a, m->id, ERR_TOOBIG, "too many runs queued for this agent");
			break;
		}
		a->queue[a->nqueued++] = (struct cagent_run){ m->id, m->input, m->agent };
		m->input = m->agent = NULL;
		break;
	case MSG_CANCEL:
		a->cancelled[a->ncancelled++ % CANCEL_RING] = m->id;
		for (size_t i = 0; i < a->nqueued; i++)
			if (a->queue[i].id == m->id) {
				cagent_run_clear(&a->queue[i]);
				memmove(&a->queue[i], &a->queue[i + 1],
				    (a->nqueued - i - 1) * sizeof(a->queue[0]));
				a->nqueued--;
				break;
			}
		break;
	case MSG_PING: {
		struct msg pong = { .type = MSG_PONG, .id = m->id };

		send_msg(a, &pong);
		break;
	}
	case MSG_SHUTDOWN:
		a->shutdown = true;
		break;
	default:
		break;	/* a late answer to a call we gave up on, an EVENT of a call */
	}
}

/* Receive until done(m) says a message is the one (returned in *out), the deadline passes
 * (-ETIMEDOUT) or SHUTDOWN arrives (ERR_CLOSED). */
static int
wait_for(struct cagent *a, int timeout_ms, uint64_t id, enum msg_type t1, enum msg_type t2,
    struct msg *out)
{
	int64_t end = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;

	for (;;) {
		struct msg m = { 0 };
		int64_t left = end == INT64_MAX ? -1 : end - now_ms();
		int r;

		if (a->shutdown)
			return ERR_CLOSED;
		if (end != INT64_MAX && left <= 0)
			return -ETIMEDOUT;
		if ((r = ipc_recv_timed(a->conn, &m, left > INT32_MAX ? INT32_MAX : (int)left)) < 0)
			return r;
		if ((m.type == t1 || m.type == t2) && (t1 == MSG_RUN || m.id == id)) {
			*out = m;
			return 0;
		}
		unsolicited(a, &m);
		msg_clear(&m);
	}
}

int
cagent_next_run(struct cagent *a, int timeout_ms, struct cagent_run *run)
{
	struct msg m = { 0 };
	int r;

	memset(run, 0, sizeof(*run));
	if (a->nqueued == 0) {
		if ((r = wait_for(a, timeout_ms, 0, MSG_RUN, MSG_RUN, &m)) < 0)
			return r;
		unsolicited(a, &m);	/* queues it */
		msg_clear(&m);
	}
	if (a->nqueued == 0)
		return -ETIMEDOUT;
	*run = a->queue[0];
	memmove(&a->queue[0], &a->queue[1], (a->nqueued - 1) * sizeof(a->queue[0]));
	a->nqueued--;
	return 0;
}

int
cagent_call(struct cagent *a, const char *tool, const char *op, const char *args,
    bool dry_run, int timeout_ms, char **result, char **errtext)
{
	struct msg m = { .type = MSG_CALL, .id = ++a->next_id, .tool = (char *)tool,
		.op = (char *)op, .args = (char *)args, .dry_run = dry_run };
	struct msg in = { 0 };
	int r;

	*result = *errtext = NULL;
	if ((r = send_msg(a, &m)) < 0)
		return r;
	if ((r = wait_for(a, timeout_ms, m.id, MSG_RESULT, MSG_ERROR, &in)) < 0)
		return r;
	if (in.type == MSG_RESULT) {
		*result = in.result;
		in.result = NULL;
		r = 0;
	} else {
		*errtext = in.text;
		in.text = NULL;
		r = in.code < 0 ? in.code : ERR_WORKER;
	}
	msg_clear(&in);
	return r;
}

int
cagent_flush(struct cagent *a, int timeout_ms)
{
	char *res = NULL, *et = NULL;
	int r = cagent_call(a, "corral", "flush", "{}", false, timeout_ms, &res, &et);

	free(res);
	free(et);
	return r;
}

int
cagent_pollfd(struct cagent *a)
{
	return ipc_conn_pollfd(a->conn);
}

int
cagent_pump(struct cagent *a)
{
	for (int i = 0; i < 64 && !a->shutdown; i++) {
		struct msg m = { 0 };
		int r = ipc_recv(a->conn, &m, IPC_NONBLOCK);

		if (r == -EAGAIN)
			break;
		if (r < 0)
			return r;
		unsolicited(a, &m);
		msg_clear(&m);
	}
	return a->shutdown ? ERR_CLOSED : 0;
}
