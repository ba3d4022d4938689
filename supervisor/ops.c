/* corrald's operations face: readiness, metrics, call log lines, worker log forwarding.
 * See ops.h and docs/OPERATIONS.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/log.h"
#include "supervisor/approval.h"
#include "supervisor/audit.h"
#include "supervisor/cred.h"
#include "supervisor/metrics.h"
#include "supervisor/notify.h"
#include "supervisor/ops.h"
#include "supervisor/sup.h"

/* ---------------------------------------------------------------- the families */

enum {
	M_BUILD, M_START, M_CALLS, M_DURATION, M_INFLIGHT, M_WORKERS, M_WORKER_UP,
	M_RESTARTS, M_DEATHS, M_VIOLATIONS, M_LOG_DROPPED, M_APPROVALS, M_AUDIT_LAG,
	M_AUDIT_HEALTHY, M_AUDIT_RECORDS, M_AUDIT_FAILED, M_TOKENS, M_RELOADS, M_SERIES_DROPPED,
	M_MAX
};

static const double dur_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10, 30, 60, 120 };

static const struct metric_def defs[M_MAX] = {
	[M_BUILD] = { "corral_build_info", "corrald's version (always 1)", METRIC_GAUGE,
		{ "version" } },
	[M_START] = { "corral_start_time_seconds", "When corrald started (Unix time)",
		METRIC_GAUGE, { NULL } },
	[M_CALLS] = { "corral_calls_total", "Tool calls by family, op, policy decision and "
		"outcome (refused: not run)", METRIC_COUNTER,
		{ "family", "op", "decision", "outcome" } },
	[M_DURATION] = { "corral_call_duration_seconds", "Time from dispatch to the worker's "
		"answer, calls that ran", METRIC_HISTOGRAM, { "family", "op" }, dur_buckets,
		sizeof(dur_buckets) / sizeof(dur_buckets[0]) },
	[M_INFLIGHT] = { "corral_calls_inflight", "Calls dispatched and not yet answered",
		METRIC_GAUGE, { NULL } },
	[M_WORKERS] = { "corral_workers", "Workers by lifecycle state", METRIC_GAUGE,
		{ "state" } },
	[M_WORKER_UP] = { "corral_worker_up", "1 when the worker is ready and its confinement "
		"verified", METRIC_GAUGE, { "worker", "tenant", "kind" } },
	[M_RESTARTS] = { "corral_worker_restarts_total", "Worker restarts after a death",
		METRIC_COUNTER, { "worker", "tenant" } },
	[M_DEATHS] = { "corral_worker_deaths_total", "Unplanned worker deaths", METRIC_COUNTER,
		{ "worker", "tenant" } },
	[M_VIOLATIONS] = { "corral_worker_violations_total", "Protocol violations, refused "
		"egress and seccomp kills", METRIC_COUNTER, { "worker", "tenant", "kind" } },
	[M_LOG_DROPPED] = { "corral_worker_log_lines_dropped_total", "Worker log lines over the "
		"per-worker rate cap", METRIC_COUNTER, { "worker", "tenant" } },
	[M_APPROVALS] = { "corral_approvals_pending", "Approvals waiting for votes",
		METRIC_GAUGE, { "tenant" } },
	[M_AUDIT_LAG] = { "corral_audit_lag_records", "Audit records written but not yet known "
		"durable (fdatasync)", METRIC_GAUGE, { NULL } },
	[M_AUDIT_HEALTHY] = { "corral_audit_healthy", "1 while the audit log can be written",
		METRIC_GAUGE, { NULL } },
	[M_AUDIT_RECORDS] = { "corral_audit_records_total", "Audit records appended",
		METRIC_COUNTER, { "type" } },
	[M_AUDIT_FAILED] = { "corral_audit_write_failures_total", "Audit records that could "
		"not be written", METRIC_COUNTER, { NULL } },
	[M_TOKENS] = { "corral_model_tokens_total", "Model tokens used, per tenant",
		METRIC_COUNTER, { "tenant", "direction" } },
	[M_RELOADS] = { "corral_config_reloads_total", "Configuration reloads by result",
		METRIC_COUNTER, { "result" } },
	[M_SERIES_DROPPED] = { "corral_metrics_series_dropped_total", "Metric updates refused "
		"because the registry was full", METRIC_COUNTER, { NULL } },
};

/* Per-worker window of forwarded log lines (keyed by the worker struct, which corrald never
 * frees while running). */
struct logwin {
	const struct worker *w;
	int64_t start;
	unsigned lines;
	unsigned long long dropped;
};

static struct {
	struct metrics *m;
	int id[M_MAX];
	int64_t next_write, next_wd, wd_ms;
	int last_write_err;
	char status[LIM_NOTIFY_STATUS_MAX];
	struct logwin logwin[LIM_WORKERS_MAX];
	size_t nlogwin;
} ops;

static int
ops_init(void)
{
	if (ops.m != NULL)
		return 0;
	if (metrics_new(&ops.m) < 0)
		return -ENOMEM;
	for (int i = 0; i < M_MAX; i++)
		if ((ops.id[i] = metrics_register(ops.m, &defs[i])) < 0) {
			metrics_free(ops.m);
			ops.m = NULL;
			return ERR_CONFIG;
		}
	metrics_set(ops.m, ops.id[M_BUILD], (const char *const[]){ CORRAL_VERSION }, 1);
	metrics_set(ops.m, ops.id[M_START], NULL, (double)sup_wall_ms() / 1000.0);
	return 0;
}

static void
m_add(int fam, const char *const *lv, double v)
{
	if (ops_init() == 0)
		metrics_add(ops.m, ops.id[fam], lv, v);
}

/* ---------------------------------------------------------------- names we trust */

/* A tenant name from a record, if the configuration knows it ("shared" for shared workers). */
static const char *
known_tenant(struct sup *s, const char *t)
{
	const struct cfg_tenant *ct;

	if (t == NULL)
		return "unknown";
	if (strcmp(t, "shared") == 0 && s->cfg->shared_isolation)
		return "shared";
	return (ct = config_tenant(s->cfg, t)) != NULL ? ct->name : "unknown";
}

static const struct worker *
known_worker(struct sup *s, const char *name)
{
	for (size_t i = 0; name && i < s->nworkers; i++)
		if (strcmp(s->workers[i]->name, name) == 0)
			return s->workers[i];
	return NULL;
}

static const char *
known_outcome(const char *o)
{
	static const char *const known[] = { "ok", "error", "timeout", "worker-died",
		"unavailable", NULL };

	for (size_t i = 0; o && known[i]; i++)
		if (strcmp(o, known[i]) == 0)
			return known[i];
	return "other";
}

static const char *
known_decision(const char *d)
{
	if (d && (strcmp(d, "allow") == 0 || strcmp(d, "deny") == 0 || strcmp(d, "pending") == 0))
		return d;
	return "other";
}

static const char *
rec_str(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

/* ---------------------------------------------------------------- records */

struct callrec {
	const char *family, *op, *tenant, *decision, *outcome, *worker;
	char call[24], seq[24], dur[24];
};

static void
call_names(struct sup *s, const json_t *rec, struct callrec *cr)
{
	const struct tool_family *f = tool_family_find(rec_str(rec, "tool"));
	const struct tool_op *op = f ? tool_op_find(f, rec_str(rec, "op")) : NULL;
	const struct worker *w;
	json_t *v;

	cr->family = f && op ? f->name : "unknown";
	cr->op = f && op ? op->name : "unknown";
	cr->tenant = known_tenant(s, rec_str(rec, "tenant"));
	w = f && op ? worker_for(s, f->name, s->cfg->shared_isolation ? "shared" : cr->tenant) :
	    NULL;
	cr->worker = w ? w->name : "";
	cr->call[0] = cr->seq[0] = cr->dur[0] = '\0';
	if ((v = json_object_get(rec, "call")) != NULL && json_is_integer(v))
		snprintf(cr->call, sizeof(cr->call), "%lld", (long long)json_integer_value(v));
	if ((v = json_object_get(rec, "seq")) != NULL && json_is_integer(v))
		snprintf(cr->seq, sizeof(cr->seq), "%lld", (long long)json_integer_value(v));
}

static void
call_log(int level, const struct callrec *cr, const json_t *rec)
{
	const char *principal = rec_str(rec, "principal");

	/* The principal is corrald's own ("agent:NAME", "operator:NAME", "admin:NAME"). */
	log_kv(level, "call", "worker", cr->worker, "tenant", cr->tenant, "call", cr->call,
	    "principal", principal ? principal : "", "family", cr->family, "op", cr->op,
	    "decision", cr->decision, "outcome", cr->outcome, "duration_ms", cr->dur,
	    "audit_seq", cr->seq, NULL);
}

static void
on_decision(struct sup *s, const json_t *rec)
{
	struct callrec cr;

	call_names(s, rec, &cr);
	cr.decision = known_decision(rec_str(rec, "decision"));
	if (strcmp(cr.decision, "allow") == 0 && json_object_get(rec, "outcome") == NULL)
		return;		/* dispatched: counted and logged with its outcome */
	cr.outcome = strcmp(cr.decision, "allow") == 0 ? known_outcome(rec_str(rec, "outcome")) :
	    "refused";
	m_add(M_CALLS, (const char *const[]){ cr.family, cr.op, cr.decision, cr.outcome }, 1);
	call_log(strcmp(cr.decision, "allow") == 0 ? LOG_NOTICE : LOG_INFO, &cr, rec);
}

static void
on_outcome(struct sup *s, const json_t *rec)
{
	json_t *u = json_object_get(rec, "usage");
	json_int_t dur = json_integer_value(json_object_get(rec, "duration_ms"));
	struct callrec cr;

	call_names(s, rec, &cr);
	cr.decision = "allow";
	cr.outcome = known_outcome(rec_str(rec, "outcome"));
	snprintf(cr.dur, sizeof(cr.dur), "%lld", (long long)dur);
	m_add(M_CALLS, (const char *const[]){ cr.family, cr.op, cr.decision, cr.outcome }, 1);
	if (json_object_get(rec, "duration_ms") != NULL && ops_init() == 0)
		metrics_observe(ops.m, ops.id[M_DURATION], (const char *const[]){ cr.family, cr.op },
		    (double)dur / 1000.0);
	if (json_is_object(u)) {
		json_int_t in = json_integer_value(json_object_get(u, "input_tokens"));
		json_int_t out = json_integer_value(json_object_get(u, "output_tokens"));

		if (in > 0)
			m_add(M_TOKENS, (const char *const[]){ cr.tenant, "input" }, (double)in);
		if (out > 0)
			m_add(M_TOKENS, (const char *const[]){ cr.tenant, "output" }, (double)out);
	}
	call_log(strcmp(cr.outcome, "ok") == 0 ? LOG_INFO : LOG_NOTICE, &cr, rec);
}

/* Lifecycle and violation records name a worker; only corrald's own names are used. */
static void
on_worker_event(struct sup *s, const json_t *rec, const char *type)
{
	const struct worker *w = known_worker(s, rec_str(rec, "worker"));
	const char *event = rec_str(rec, "event"), *kind;

	if (w == NULL)
		return;
	if (strcmp(type, "lifecycle") == 0) {
		if (event && strcmp(event, "died") == 0)
			m_add(M_DEATHS, (const char *const[]){ w->name, w->tenant }, 1);
		if (!event || strcmp(event, "violation") != 0)
			return;
		kind = "protocol";
	} else if (json_object_get(rec, "egress") != NULL) {
		kind = "egress";
	} else if (event && strcmp(event, "seccomp-kill") == 0) {
		kind = "seccomp";
	} else {
		kind = "other";
	}
	m_add(M_VIOLATIONS, (const char *const[]){ w->name, w->tenant, kind }, 1);
}

void
sup_ops_record(struct sup *s, const json_t *rec, int rc)
{
	static const char *const types[] = { "decision", "outcome", "lifecycle", "violation",
		"approval", "reload", "evidence", "control", NULL };
	const char *type = rec_str(rec, "type"), *t = "other";

	if (rc < 0) {
		m_add(M_AUDIT_FAILED, NULL, 1);
	} else {
		for (size_t i = 0; type && types[i]; i++)
			if (strcmp(type, types[i]) == 0)
				t = types[i];
		m_add(M_AUDIT_RECORDS, (const char *const[]){ t }, 1);
	}
	if (type == NULL || s->cfg == NULL)
		return;
	if (strcmp(type, "decision") == 0)
		on_decision(s, rec);
	else if (strcmp(type, "outcome") == 0)
		on_outcome(s, rec);
	else if (strcmp(type, "lifecycle") == 0 || strcmp(type, "violation") == 0)
		on_worker_event(s, rec, type);
}

/* ---------------------------------------------------------------- state at render time */

static void
collect_workers(struct sup *s)
{
	unsigned nstate[WS_MAX] = { 0 };

	metrics_clear(ops.m, ops.id[M_WORKER_UP]);
	metrics_clear(ops.m, ops.id[M_RESTARTS]);
	metrics_clear(ops.m, ops.id[M_WORKERS]);
	for (size_t i = 0; i < s->nworkers; i++) {
		const struct worker *w = s->workers[i];

		if ((unsigned)w->state < WS_MAX)
			nstate[w->state]++;
		if (!w->present && w->state == WS_STOPPED)
			continue;	/* removed by a reload */
		metrics_set(ops.m, ops.id[M_WORKER_UP], (const char *const[]){ w->name, w->tenant,
		    tool_kind_name(w->kind) }, w->state == WS_READY && w->verified);
		metrics_add(ops.m, ops.id[M_RESTARTS], (const char *const[]){ w->name, w->tenant },
		    w->restarts);
	}
	for (int st = 0; st < WS_MAX; st++)
		metrics_set(ops.m, ops.id[M_WORKERS],
		    (const char *const[]){ worker_state_name((enum wstate)st) }, nstate[st]);
}

static void
collect(struct sup *s)
{
	int64_t wall = sup_wall_ms();

	collect_workers(s);
	metrics_set(ops.m, ops.id[M_INFLIGHT], NULL, (double)router_inflight(s));
	metrics_clear(ops.m, ops.id[M_APPROVALS]);
	for (size_t i = 0; s->approvals && i < s->cfg->ntenants; i++)
		metrics_set(ops.m, ops.id[M_APPROVALS],
		    (const char *const[]){ s->cfg->tenants[i].name },
		    (double)approval_list(s->approvals, s->cfg->tenants[i].name, true, wall, NULL, 0));
	if (s->audit) {
		uint64_t seq = audit_seq(s->audit), durable = audit_durable_seq(s->audit);

		metrics_set(ops.m, ops.id[M_AUDIT_LAG], NULL,
		    seq > durable ? (double)(seq - durable) : 0);
	}
	metrics_set(ops.m, ops.id[M_AUDIT_HEALTHY], NULL, s->audit && audit_healthy(s->audit));
	metrics_clear(ops.m, ops.id[M_SERIES_DROPPED]);
	metrics_add(ops.m, ops.id[M_SERIES_DROPPED], NULL, (double)metrics_dropped(ops.m));
}

static void
write_textfile(struct sup *s)
{
	int r;

	if (s->cfg == NULL || s->cfg->metrics_textfile == NULL || ops_init() < 0)
		return;
	collect(s);
	r = metrics_write_textfile(ops.m, s->cfg->metrics_textfile);
	/* Say it once per change of error, not every interval. */
	if (r != ops.last_write_err)
		log_kv(r < 0 ? LOG_WARNING : LOG_INFO, r < 0 ? "metrics textfile not written" :
		    "metrics textfile written", "path", s->cfg->metrics_textfile, "error",
		    r < 0 ? err_str(r) : "", NULL);
	ops.last_write_err = r;
}

/* ---------------------------------------------------------------- service manager */

static void
status_text(struct sup *s, char *buf, size_t len)
{
	size_t ready = 0;

	for (size_t i = 0; i < s->nworkers; i++)
		ready += s->workers[i]->state == WS_READY && s->workers[i]->verified;
	snprintf(buf, len, "%zu/%zu workers ready, %zu calls in flight", ready, s->nworkers,
	    router_inflight(s));
}

static void
logwin_flush(struct logwin *lw, int64_t now)
{
	char n[24];

	if (lw->dropped > 0) {
		snprintf(n, sizeof(n), "%llu", lw->dropped);
		log_kv(LOG_WARNING, "worker log lines dropped (rate cap)", "worker", lw->w->name,
		    "tenant", lw->w->tenant, "dropped", n, NULL);
	}
	lw->start = now;
	lw->lines = 0;
	lw->dropped = 0;
}

void
sup_ops_tick(struct sup *s, int64_t now)
{
	char st[LIM_NOTIFY_STATUS_MAX];

	if (s->cfg && s->cfg->metrics_textfile && now >= ops.next_write) {
		write_textfile(s);
		ops.next_write = now + s->cfg->metrics_interval_ms;
	}
	if (ops.wd_ms > 0 && now >= ops.next_wd) {
		notify_watchdog();
		ops.next_wd = now + ops.wd_ms;
	}
	for (size_t i = 0; i < ops.nlogwin; i++)
		if (ops.logwin[i].dropped && now - ops.logwin[i].start >= LIM_WORKER_LOG_WINDOW_MS)
			logwin_flush(&ops.logwin[i], now);
	if (notify_enabled() && !s->stopping) {
		status_text(s, st, sizeof(st));
		if (strcmp(st, ops.status) != 0) {
			notify_status(st);
			snprintf(ops.status, sizeof(ops.status), "%s", st);
		}
	}
}

void
sup_ops_ready(struct sup *s)
{
	int r;

	ops_init();
	status_text(s, ops.status, sizeof(ops.status));
	if ((r = notify_ready(ops.status)) < 0)
		log_kv(LOG_WARNING, "cannot notify the service manager", "error", err_str(r), NULL);
	if ((ops.wd_ms = notify_watchdog_ms()) > 0)
		ops.next_wd = sup_now_ms();
	ops.next_write = sup_now_ms();
}

int sup_reload(struct sup *s);

int
sup_ops_reload(struct sup *s)
{
	int r;

	notify_reloading("reloading the configuration");
	r = sup_reload(s);
	m_add(M_RELOADS, (const char *const[]){ r < 0 ? "error" : "ok" }, 1);
	status_text(s, ops.status, sizeof(ops.status));
	notify_ready(ops.status);
	ops.next_write = sup_now_ms();
	return r;
}

void
sup_ops_stopping(struct sup *s)
{
	char st[64];

	snprintf(st, sizeof(st), "stopping: draining %zu calls", router_inflight(s));
	notify_stopping(st);
}

void
sup_ops_stopped(struct sup *s)
{
	write_textfile(s);
	metrics_free(ops.m);
	ops.m = NULL;
}

/* ---------------------------------------------------------------- worker log lines */

static struct logwin *
logwin_of(const struct worker *w)
{
	for (size_t i = 0; i < ops.nlogwin; i++)
		if (ops.logwin[i].w == w)
			return &ops.logwin[i];
	if (ops.nlogwin == LIM_WORKERS_MAX)
		return NULL;
	ops.logwin[ops.nlogwin] = (struct logwin){ .w = w };
	return &ops.logwin[ops.nlogwin++];
}

void
sup_ops_worker_log(struct sup *s, struct worker *w, int level, const char *text,
    const char *stream)
{
	struct logwin *lw = logwin_of(w);
	int64_t now = sup_now_ms();
	char *red = NULL;
	size_t rlen;
	int r;

	/* A worker may say err, never crit/alert/emerg: those page people. */
	level = level < LOG_ERR ? LOG_ERR : level > LOG_DEBUG ? LOG_DEBUG : level;
	if (lw != NULL) {
		if (now - lw->start >= LIM_WORKER_LOG_WINDOW_MS)
			logwin_flush(lw, now);
		if (lw->lines >= LIM_WORKER_LOG_LINES) {
			lw->dropped++;
			m_add(M_LOG_DROPPED, (const char *const[]){ w->name, w->tenant }, 1);
			return;
		}
		lw->lines++;
	}
	/* Whatever a worker says may quote the credential it was handed: redact every form. */
	r = redact_text(s->creds ? cred_redactor(s->creds) : NULL, text, strlen(text), &red,
	    &rlen);
	if (r < 0) {
		log_kv(LOG_WARNING, "worker log line withheld: redaction failed", "worker", w->name,
		    "tenant", w->tenant, "stream", stream, "error", err_str(r), NULL);
		return;
	}
	log_kv(level, red ? red : text, "worker", w->name, "tenant", w->tenant, "stream", stream,
	    NULL);
	free(red);
}
