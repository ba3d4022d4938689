/* The agent runtime's message pump, calls through the supervisor, the relay mode and the
 * serve loop (see agentrt.h). Single-threaded: every wait is a bounded receive on the one
 * connection, and every message that arrives meanwhile is handled by the table below. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agents/agentrt_int.h"
#include "ipc/err.h"
#include "ipc/json.h"

int64_t
art_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
art_event(struct art *a, const char *fmt, ...)
{
	struct msg m = { .type = MSG_EVENT, .id = a->run_id };
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	m.text = text;
	(void)ipc_send(a->conn, &m, IPC_NONBLOCK);	/* progress only: never block the run */
}

/* ---------------------------------------------------------------- calls */

static void
call_finish(struct art_call *c, int code, const char *text, json_t *detail)
{
	c->st = CS_DONE;
	c->code = code;
	free(c->text);
	c->text = text ? strdup(text) : NULL;
	json_decref(c->detail);
	c->detail = detail;
}

static void
active_add(struct art *a, struct art_call *c)
{
	for (size_t i = 0; i < ART_ACTIVE_MAX; i++)
		if (a->active[i] == NULL || a->active[i] == c) {
			a->active[i] = c;
			return;
		}
}

static void
active_del(struct art *a, struct art_call *c)
{
	for (size_t i = 0; i < ART_ACTIVE_MAX; i++)
		if (a->active[i] == c)
			a->active[i] = NULL;
}

static void
call_send(struct art *a, struct art_call *c)
{
	struct msg m = { .type = MSG_CALL, .id = ++a->next_id, .tool = c->tool, .op = c->op };
	int r;

	c->id = m.id;
	c->attempts++;
	c->deadline = art_now() + c->call_ms;
	m.args = json_dumps(c->args, JSON_COMPACT);
	r = m.args ? ipc_send(a->conn, &m, 0) : -ENOMEM;
	free(m.args);
	if (r < 0) {
		call_finish(c, r, r == ERR_TOOBIG ? "the arguments are larger than the cap" :
		    "the call could not be sent", NULL);
		return;
	}
	c->st = CS_SENT;
	active_add(a, c);
}

void
art_call_start(struct art *a, struct art_call *c, const char *tool, const char *op,
    json_t *args, uint32_t call_ms, uint32_t pending_ms)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->tool, sizeof(c->tool), "%s", tool);
	snprintf(c->op, sizeof(c->op), "%s", op);
	c->args = args ? json_incref(args) : json_object();
	c->call_ms = call_ms;
	c->started = art_now();
	c->pending_until = c->started + pending_ms;
	call_send(a, c);
}

void
art_call_clear(struct art_call *c)
{
	json_decref(c->args);
	json_decref(c->result);
	json_decref(c->detail);
	free(c->text);
	memset(c, 0, sizeof(*c));
}

/* A RESULT or ERROR for call id (late answers to calls we gave up on are dropped). */
static void
deliver(struct art *a, struct msg *m)
{
	struct art_call *c = NULL;
	json_t *detail = NULL;

	for (size_t i = 0; i < ART_ACTIVE_MAX && c == NULL; i++)
		if (a->active[i] && a->active[i]->st == CS_SENT && a->active[i]->id == m->id)
			c = a->active[i];
	if (c == NULL)
		return;
	if (m->type == MSG_RESULT) {
		c->result = json_loads(m->result, JSON_DECODE_ANY, NULL);
		call_finish(c, 0, NULL, NULL);
		c->pending = false;
	} else {
		if (m->detail)
			detail = json_loads(m->detail, 0, NULL);
		c->pending = m->code == ERR_PENDING;
		if (c->pending && art_now() + LIM_AGENT_PENDING_POLL_MS < c->pending_until) {
			c->st = CS_RETRY;
			c->retry_at = art_now() + LIM_AGENT_PENDING_POLL_MS;
			free(c->text);
			c->text = strdup(m->text);
			json_decref(c->detail);
			c->detail = detail;
		} else {
			call_finish(c, m->code, m->text, detail);
		}
	}
	if (c->st != CS_SENT)
		active_del(a, c);
}

/* ---------------------------------------------------------------- the pump */

static void
queue_run(struct art *a, struct msg *m)
{
	struct msg *q;

	if (a->nqueue >= LIM_AGENT_QUEUED_RUNS || (q = malloc(sizeof(*q))) == NULL) {
		struct msg e = { .type = MSG_ERROR, .id = m->id, .code = ERR_NOTREADY,
			.text = "the agent is busy: too many runs waiting" };

		(void)ipc_send(a->conn, &e, 0);
		return;
	}
	*q = *m;
	memset(m, 0, sizeof(*m));
	a->queue[a->nqueue++] = q;
}

/* Receive and handle one message (or nothing within timeout_ms). */
static int
pump(struct art *a, int timeout_ms)
{
	struct msg m = { 0 };
	int r = ipc_recv_timed(a->conn, &m, timeout_ms < 0 ? -1 : timeout_ms);

	if (r == -ETIMEDOUT)
		return 0;
	if (r < 0)
		return a->fatal = r;
	switch (m.type) {
	case MSG_RESULT:
	case MSG_ERROR:
		deliver(a, &m);
		break;
	case MSG_EVENT:		/* progress of one of our calls: not needed */
		break;
	case MSG_PING: {
		struct msg p = { .type = MSG_PONG, .id = m.id };

		(void)ipc_send(a->conn, &p, 0);
		break;
	}
	case MSG_CANCEL:
		if (m.id == a->run_id && a->run_id != 0)
			a->cancel = true;
		break;
	case MSG_SHUTDOWN:
		a->shutdown = a->cancel = true;
		break;
	case MSG_RUN:
		queue_run(a, &m);
		break;
	default:		/* not in our table: the supervisor broke the protocol */
		a->fatal = ERR_PROTO;
		break;
	}
	msg_clear(&m);
	return a->fatal;
}

/* Advance one call's timers; returns whether it is still open and lowers *wake. */
static bool
call_tick(struct art *a, struct art_call *c, int64_t now, int64_t run_deadline, int64_t *wake)
{
	if (c->st == CS_SENT && (now >= c->deadline || now >= run_deadline)) {
		active_del(a, c);
		call_finish(c, ERR_TIMEOUT, now >= run_deadline ? "the run's deadline passed" :
		    "no answer within the call's deadline", NULL);
	}
	if (c->st == CS_RETRY && (now >= c->pending_until || now >= run_deadline)) {
		c->st = CS_DONE;	/* still pending: text and detail are the last answer's */
		c->code = ERR_PENDING;
	}
	if (c->st == CS_RETRY && now >= c->retry_at)
		call_send(a, c);	/* ask again: approved by now? */
	if (c->st == CS_SENT && c->deadline < *wake)
		*wake = c->deadline;
	if (c->st == CS_RETRY && c->retry_at < *wake)
		*wake = c->retry_at;
	return c->st == CS_SENT || c->st == CS_RETRY;
}

int
art_calls_wait(struct art *a, struct art_call *const *cs, size_t n, int64_t run_deadline)
{
	for (;;) {
		int64_t now = art_now(), wake = run_deadline;
		bool open = false;

		for (size_t i = 0; i < n; i++)
			open |= call_tick(a, cs[i], now, run_deadline, &wake);
		if (!open)
			return 0;
		if (a->fatal || a->cancel) {
			for (size_t i = 0; i < n; i++)
				if (cs[i]->st == CS_SENT || cs[i]->st == CS_RETRY) {
					active_del(a, cs[i]);
					call_finish(cs[i], ERR_TIMEOUT, "the run was cancelled", NULL);
				}
			return a->fatal ? a->fatal : ERR_TIMEOUT;
		}
		if (pump(a, (int)(wake > now ? wake - now : 0)) < 0)
			continue;	/* fatal: the loop above closes the calls */
	}
}

/* ---------------------------------------------------------------- relay */

/* {"ok": true, "result"} or {"ok": false, "code", "error", "message"} */
static json_t *
relay_outcome(const struct art_call *c)
{
	if (c->code == 0)
		return json_pack("{s:b, s:O}", "ok", 1, "result", c->result ? c->result : json_null());
	return json_pack("{s:b, s:i, s:s, s:s}", "ok", 0, "code", c->code, "error",
	    err_name(c->code), "message", c->text ? c->text : err_str(c->code));
}

static json_t *
relay(struct art *a, json_t *calls, int64_t deadline)
{
	json_t *results = json_array(), *c;
	size_t i;

	json_array_foreach(calls, i, c) {
		const char *tool = json_string_value(json_object_get(c, "tool"));
		const char *op = json_string_value(json_object_get(c, "op"));
		struct art_call call, *cp = &call;

		if (tool == NULL || op == NULL || strlen(tool) > LIM_NAME_MAX ||
		    strlen(op) > LIM_NAME_MAX) {
			json_array_append_new(results, json_pack("{s:b, s:s}", "ok", 0, "error",
			    "call needs tool and op"));
			continue;
		}
		art_call_start(a, &call, tool, op, json_object_get(c, "args"),
		    LIM_CALL_DEADLINE_MS + LIM_AGENT_CALL_GRACE_MS, 0);
		art_calls_wait(a, &cp, 1, deadline);
		json_array_append_new(results, relay_outcome(&call));
		art_call_clear(&call);
	}
	return json_pack("{s:o}", "results", results);
}

/* ---------------------------------------------------------------- runs */

static int
send_done(struct art *a, uint64_t id, json_t *result)
{
	struct msg m = { .type = MSG_DONE, .id = id };
	int r;

	m.result = json_dumps(result, JSON_COMPACT);
	r = m.result ? ipc_send(a->conn, &m, 0) : -ENOMEM;
	free(m.result);
	return r;
}

static int
send_error(struct art *a, uint64_t id, int code, const char *text, json_t *detail)
{
	struct msg m = { .type = MSG_ERROR, .id = id, .code = code, .text = (char *)text };
	int r;

	if (detail)
		m.detail = json_dumps(detail, JSON_COMPACT);
	r = ipc_send(a->conn, &m, 0);
	free(m.detail);
	return r;
}

static int
run(struct art *a, struct msg *m)
{
	json_t *input = json_loads(m->input, 0, NULL), *agent = NULL, *done = NULL;
	json_t *detail = NULL, *calls = json_object_get(input, "calls");
	char why[LIM_ERRMSG_MAX] = "";
	int r;

	a->run_id = m->id;
	a->cancel = false;
	if (json_is_array(calls)) {
		done = relay(a, calls, art_now() + LIM_AGENT_RUN_MS);
		r = send_done(a, m->id, done);
	} else if ((r = ipc_json_parse(m->agent, strlen(m->agent), LIM_STR_MAX,
	    &agent, why, sizeof(why))) < 0) {
		r = send_error(a, m->id, ERR_SCHEMA, why, NULL);
	} else if (!json_is_string(json_object_get(agent, "gateway_model"))) {
		r = send_error(a, m->id, ERR_SCHEMA, "this agent has no model configured; input "
		    "must be {\"calls\": [...]}", NULL);
	} else if ((r = art_run_model(a, m->id, m->input, agent, &done, why, sizeof(why),
	    &detail)) < 0) {
		r = send_error(a, m->id, r, why, detail);
	} else {
		r = send_done(a, m->id, done);
	}
	json_decref(detail);
	json_decref(done);
	json_decref(agent);
	json_decref(input);
	a->run_id = 0;
	return a->fatal ? a->fatal : r;
}

int
art_new(struct ipc_conn *conn, const struct art_opts *o, struct art **out)
{
	struct art *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	a->conn = conn;
	a->o = *o;
	*out = a;
	return 0;
}

int
art_serve(struct art *a)
{
	for (;;) {
		int r;

		if (a->nqueue > 0 && !a->shutdown) {
			struct msg *m = a->queue[0];

			memmove(a->queue, a->queue + 1, --a->nqueue * sizeof(a->queue[0]));
			r = run(a, m);
			msg_clear(m);
			free(m);
			if (r < 0 && a->fatal)
				return a->fatal;
			continue;
		}
		if (a->shutdown)
			return 0;
		if ((r = pump(a, 1000)) < 0)
			return r == ERR_CLOSED ? 0 : r;
	}
}

void
art_free(struct art *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nqueue; i++) {
		msg_clear(a->queue[i]);
		free(a->queue[i]);
	}
	agent_mem_close(a->mem);
	free(a);
}
