/* Worker runtime: connect, lock down, hello, serve (see runtime.h). */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "ipc/broker.h"
#include "ipc/err.h"
#include "ipc/json.h"
#include "ipc/limits.h"
#include "workers/runtime.h"
#include "workers/sandbox.h"

/* Pool threads: run hooks are shallow; libcurl and jansson need far less than 8 MiB. */
#define WRK_STACK_SIZE	(1u << 20)

/* Leader/followers: the pool threads take turns receiving. The thread that receives a WORK runs
 * it itself (no hand-off to another thread on the call's path); while it does, another thread
 * becomes the receiver once the call has run for WRK_HANDOFF_MS (a slow call never holds up
 * the others for longer), or at once when the receiver finds a follower idle-waiting and the
 * watcher asleep. See take_turn(). */
#define WRK_HANDOFF_MS	1

struct wrk {
	struct wrk_opts o;
	const struct wrk_kind_ops *kops;
	const struct tool_family *fam;
	struct ipc_conn *conn;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* followers: the receiver role is free, or stop */
	pthread_cond_t wcv;		/* the watcher: the receiver started running a call */
	int owner;			/* thread holding the receiver role, -1: free */
	bool owner_running;		/* ... and running the call it received */
	uint64_t gen;			/* calls started by receivers */
	bool watching;			/* a follower watches the receiver */
	bool watch_idle;		/* ... and sleeps until the next call (nothing ran) */
	bool stop;
	int serve_rc;			/* why serving ended: 0 (SHUTDOWN) or an error */
	pthread_t th[WRK_THREADS_MAX];
	int nth;
	int fatal;		/* first fatal error seen by any thread */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const struct tool_family *
wrk_family(const struct wrk *w)
{
	return w->fam;
}

int
wrk_broker_fd(const struct wrk *w)
{
	return BRK_FD;
}

void
wrk_event(struct wrk *w, uint64_t id, const char *text)
{
	struct msg m = { .type = MSG_EVENT, .id = id, .text = (char *)text };

	(void)ipc_send(w->conn, &m, 0);
}

void
wrk_log(struct wrk *w, int level, const char *text)
{
	struct msg m = { .type = MSG_LOG, .level = (uint8_t)level, .text = (char *)text };

	(void)ipc_send(w->conn, &m, 0);
}

static void
io_event(struct tool_io *io, uint64_t id, const char *text)
{
	wrk_event(io->priv, id, text);
}

static void
io_log(struct tool_io *io, int level, const char *text)
{
	wrk_log(io->priv, level, text);
}

static int
io_raw_send(struct tool_io *io, const void *buf, size_t len)
{
	struct wrk *w = io->priv;

	return ipc_send_raw(w->conn, buf, len, 0);
}

static void
send_error(struct wrk *w, uint64_t id, int code, const char *text, int http_status,
    bool retryable)
{
	struct msg m = { .type = MSG_ERROR, .id = id, .code = code };
	char detail[128];

	m.text = (char *)(text && *text ? text : err_str(code));
	snprintf(detail, sizeof(detail), "{\"http_status\":%d,\"retryable\":%s}", http_status,
	    retryable ? "true" : "false");
	m.detail = detail;
	(void)ipc_send(w->conn, &m, 0);
}

/* The secret travels inside ctx; wipe jansson's copy before it is freed. */
static void
ctx_wipe(json_t *ctx)
{
	json_t *s = json_object_get(ctx, "secret");

	if (json_is_string(s))
		explicit_bzero((char *)json_string_value(s), json_string_length(s));
}

static void
run_work(struct wrk *w, struct tool_io *io, struct msg *m)
{
	struct tool_call call = { .family = w->fam, .id = m->id, .dry_run = m->dry_run };
	struct tool_err terr = { 0 };
	json_t *result = NULL;
	char err[512];
	int r;

	call.deadline = now_ms() + (m->deadline_ms ? m->deadline_ms : LIM_CALL_DEADLINE_MS);
	if (w->fam == NULL || m->tool == NULL || strcmp(m->tool, w->fam->name) != 0 ||
	    (call.op = tool_op_find(w->fam, m->op)) == NULL || call.op->run == NULL) {
		send_error(w, m->id, ERR_UNKNOWN, "this worker does not serve that operation", 0,
		    false);
		return;
	}
	/* Defence in depth: the supervisor validated already; a worker never trusts that. */
	if ((r = ipc_json_parse(m->args, strlen(m->args), LIM_ARGS_MAX, &call.args, err,
	    sizeof(err))) < 0 ||
	    (r = tool_args_validate(call.op, call.args, err, sizeof(err))) < 0) {
		send_error(w, m->id, r, err, 0, false);
		goto out;
	}
	if (m->ctx != NULL && (r = ipc_json_parse(m->ctx, strlen(m->ctx), LIM_ARGS_MAX, &call.ctx,
	    err, sizeof(err))) < 0) {
		send_error(w, m->id, r, err, 0, false);
		goto out;
	}
	if (call.dry_run && !(call.op->flags & TOOL_F_DRY_RUN)) {
		send_error(w, m->id, ERR_SCHEMA, "operation does not support dry-run", 0, false);
		goto out;
	}
	if ((r = call.op->run(io, &call, &result, &terr)) < 0) {
		send_error(w, m->id, terr.code ? terr.code : r, terr.text, terr.http_status,
		    terr.retryable);
		goto out;
	}
	{
		struct msg out = { .type = MSG_RESULT, .id = m->id };

		out.result = json_dumps(result ? result : json_null(),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		if (out.result == NULL || strlen(out.result) > LIM_RESULT_MAX)
			send_error(w, m->id, ERR_TOOBIG, "result too large", 0, false);
		else if ((r = ipc_send(w->conn, &out, 0)) < 0)
			send_error(w, m->id, r, "could not send result", 0, false);
		free(out.result);
	}
out:
	json_decref(result);
	json_decref(call.args);
	if (call.ctx) {
		ctx_wipe(call.ctx);
		json_decref(call.ctx);
	}
}

/* ---------------------------------------------------------------- dispatch */

enum { D_CONTINUE = 0, D_STOP = 1 };

/* A CANCEL names a call this worker already runs or has answered (WORK is run as soon as it
 * is received): the supervisor has finished it; its late answer is dropped there. */
static int
h_cancel(struct wrk *w, struct msg *m)
{
	(void)w;
	(void)m;
	return D_CONTINUE;
}

static int
h_ping(struct wrk *w, struct msg *m)
{
	struct msg pong = { .type = MSG_PONG, .id = m->id };

	return ipc_send(w->conn, &pong, 0) < 0 ? ERR_CLOSED : D_CONTINUE;
}

static int
h_shutdown(struct wrk *w, struct msg *m)
{
	(void)w;
	(void)m;
	return D_STOP;
}

/* What the supervisor may send once WELCOME has arrived (WORK is run by the receiver). */
static const struct {
	enum msg_type type;
	int (*fn)(struct wrk *, struct msg *);
} dispatch[] = {
	{ MSG_CANCEL, h_cancel },
	{ MSG_PING, h_ping },
	{ MSG_SHUTDOWN, h_shutdown },
};

static void
serve_end(struct wrk *w, int rc)
{
	if (!w->stop)
		w->serve_rc = rc;
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_cond_signal(&w->wcv);
}

/* Called with mu held and no role: wait until this thread may receive (true) or must stop.
 * One follower is the watcher: while the receiver runs a call it wakes every WRK_HANDOFF_MS
 * and takes the role over when the same call is still running; when nothing ran since its
 * last look it sleeps until the next call starts. The others wait for the role to be free. */
static bool
take_turn(struct wrk *w, int self)
{
	for (;;) {
		if (w->stop)
			return false;
		if (w->owner < 0) {
			w->owner = self;
			w->owner_running = false;
			return true;
		}
		if (w->watching) {
			pthread_cond_wait(&w->cv, &w->mu);
			continue;
		}
		uint64_t seen = w->gen;
		struct timespec ts;

		w->watching = true;
		if (!w->owner_running && w->watch_idle) {
			pthread_cond_wait(&w->wcv, &w->mu);
			w->watch_idle = false;
		} else {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += WRK_HANDOFF_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->wcv, &w->mu, &ts);
			w->watch_idle = !w->owner_running && w->gen == seen;
			if (w->owner >= 0 && w->owner_running && w->gen == seen) {
				w->owner = -1;	/* a slow call: take the role over */
				pthread_cond_signal(&w->cv);	/* a follower watches next */
			}
		}
		w->watching = false;
	}
}

/* One turn as the receiver, entered and left with mu held. */
static void
receive_one(struct wrk *w, struct tool_io *io, int self)
{
	struct msg m = { 0 };
	size_t i;
	int r;

	pthread_mutex_unlock(&w->mu);
	r = ipc_recv(w->conn, &m, 0);
	pthread_mutex_lock(&w->mu);
	if (r < 0) {
		serve_end(w, r);	/* supervisor gone or garbage: nothing to serve */
		return;
	}
	if (m.type == MSG_WORK) {
		w->owner_running = true;
		w->gen++;
		if (w->watching && w->watch_idle)
			pthread_cond_signal(&w->wcv);
		pthread_mutex_unlock(&w->mu);
		run_work(w, io, &m);
		msg_clear(&m);
		pthread_mutex_lock(&w->mu);
		if (w->owner == self)
			w->owner = -1;	/* this thread takes it again (take_turn) */
		return;
	}
	for (i = 0; i < sizeof(dispatch) / sizeof(dispatch[0]); i++)
		if (dispatch[i].type == m.type)
			break;
	pthread_mutex_unlock(&w->mu);
	r = i == sizeof(dispatch) / sizeof(dispatch[0]) ? ERR_PROTO : dispatch[i].fn(w, &m);
	msg_clear(&m);
	pthread_mutex_lock(&w->mu);
	if (r != D_CONTINUE)
		serve_end(w, r == D_STOP ? 0 : r);
	else if (w->owner == self)
		w->owner = -1;
}

struct pool_arg {
	struct wrk *w;
	int self;
};

static void *
pool_thread(void *arg)
{
	struct pool_arg *pa = arg;
	struct wrk *w = pa->w;
	struct tool_io io = { .priv = w, .event = io_event, .log = io_log,
		.raw_send = io_raw_send };
	int self = pa->self;

	if (w->kops && w->kops->thread_io && w->kops->thread_io(w, &io) < 0) {
		pthread_mutex_lock(&w->mu);
		w->fatal = ERR_WORKER;
		pthread_mutex_unlock(&w->mu);
		return NULL;
	}
	pthread_mutex_lock(&w->mu);
	while (take_turn(w, self))
		receive_one(w, &io, self);
	pthread_mutex_unlock(&w->mu);
	if (w->kops && w->kops->thread_io_free)
		w->kops->thread_io_free(&io);
	return NULL;
}

static int
hello(struct wrk *w)
{
	struct msg m = { .type = MSG_HELLO, .version = CORRAL_PROTO_VERSION };
	int r;

	m.kind = (char *)tool_kind_name(w->o.kind);
	m.family = (char *)(w->o.family ? w->o.family : "");
	if ((r = ipc_send(w->conn, &m, 0)) < 0)
		return r;
	memset(&m, 0, sizeof(m));
	if ((r = ipc_recv_timed(w->conn, &m, LIM_HELLO_MS * 2)) < 0)
		return r;
	if (m.type != MSG_WELCOME || m.version != CORRAL_PROTO_VERSION)
		r = ERR_VERSION;
	msg_clear(&m);
	return r;
}

static enum sbx_kind
sbx_of(enum tool_kind k)
{
	switch (k) {
	case TOOL_KIND_EXEC:
		return SBX_EXEC;
	case TOOL_KIND_MODEL:
		return SBX_MODEL;
	case TOOL_KIND_AGENT:
		return SBX_AGENT;
	default:
		return SBX_HTTP;
	}
}

int
wrk_main(const struct wrk_opts *o, const struct wrk_kind_ops *kops)
{
	struct wrk w = { .o = *o, .kops = kops, .owner = -1 };
	struct pool_arg pa[WRK_THREADS_MAX];
	int r;

	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	pthread_cond_init(&w.wcv, NULL);
	/* The tenant's memory limit is an address-space limit (RLIMIT_AS) where no cgroup is
	 * delegated: keep glibc from reserving 64 MiB arenas per thread. */
	mallopt(M_ARENA_MAX, 2);
	/* No core dumps and no ptrace by our own uid: a worker may hold a credential. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (o->family && (w.fam = tool_family_find(o->family)) == NULL) {
		fprintf(stderr, "corral-worker: unknown family '%s'\n", o->family);
		return 2;
	}
	if ((r = tool_schema_init(NULL, 0)) < 0 || (kops && kops->preinit &&
	    (r = kops->preinit(&w)) < 0)) {
		fprintf(stderr, "corral-worker: init: %s\n", err_str(r));
		return 1;
	}
	if ((r = ipc_dial(o->socket_path, LIM_HELLO_MS, &w.conn)) < 0) {
		fprintf(stderr, "corral-worker: dial %s: %s\n", o->socket_path, err_str(r));
		return 1;
	}
	if (!o->no_seccomp && (r = sbx_seccomp_apply(sbx_of(o->kind), 0)) < 0) {
		fprintf(stderr, "corral-worker: seccomp: %s\n", err_str(r));
		return 1;
	}
	if ((r = hello(&w)) < 0) {
		fprintf(stderr, "corral-worker: hello: %s\n", err_str(r));
		return 1;
	}
	w.nth = o->threads < 1 ? 1 : o->threads > WRK_THREADS_MAX ? WRK_THREADS_MAX : o->threads;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WRK_STACK_SIZE);
	for (int i = 0; i < w.nth; i++) {
		pa[i] = (struct pool_arg){ .w = &w, .self = i };
		if ((r = pthread_create(&w.th[i], &attr, pool_thread, &pa[i])) != 0) {
			fprintf(stderr, "corral-worker: thread: %s (RLIMIT_NPROC counts every "
			    "thread of the tenant's uid)\n", strerror(r));
			return 1;
		}
	}
	for (int i = 0; i < w.nth; i++)
		pthread_join(w.th[i], NULL);
	r = w.serve_rc;
	ipc_close(w.conn);
	if (r < 0 && r != ERR_CLOSED)
		fprintf(stderr, "corral-worker: %s\n", err_str(r));
	return r < 0 && r != ERR_CLOSED ? 1 : (w.fatal ? 1 : 0);
}
