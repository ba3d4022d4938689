/* The router: every tool call crosses here.
 *   validate (schema) -> decide (policy) -> inject (credential) -> audit (write-ahead)
 *   -> dispatch (worker, with a deadline) -> result (redacted, capped) -> audit -> caller
 * Identity comes from where the call arrived (an agent worker's socket, a control client's
 * peer uid), never from the message. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/json.h"
#include "ipc/limits.h"
#include "ipc/log.h"
#include "supervisor/router_int.h"
#include "supervisor/sup.h"

static struct call *
call_find(struct sup *s, uint64_t id)
{
	for (struct call *c = s->calls; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void
call_unlink(struct sup *s, struct call *c)
{
	for (struct call **pp = &s->calls; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->w && c->w->inflight)
		c->w->inflight--;
}

static void
call_free(struct call *c)
{
	if (c == NULL)
		return;
	if (c->secret) {
		explicit_bzero(c->secret, strlen(c->secret));
		free(c->secret);
	}
	free(c->family);
	free(c->op);
	json_decref(c->args);
	free(c);
}

size_t
router_inflight(const struct sup *s)
{
	size_t n = 0;

	for (struct call *c = s->calls; c != NULL; c = c->next)
		n++;
	return n;
}

int64_t
router_next_deadline(const struct sup *s)
{
	int64_t d = INT64_MAX;

	for (struct call *c = s->calls; c != NULL; c = c->next)
		if (c->deadline_ms < d)
			d = c->deadline_ms;
	return d;
}

/* ---------------------------------------------------------------- answering the caller */

void
router_reply(struct sup *s, const struct origin *o, struct msg *m)
{
	m->id = o->id;
	if (o->kind == ORIGIN_CTL) {
		ctl_reply(s, o->ctl, m);
	} else if (o->agent && o->agent->state == WS_READY) {
		if (worker_send(s, o->agent, m) < 0)
			log_kv(LOG_WARNING, "cannot answer agent", "worker", o->agent->name,
			    "tenant", o->agent->tenant, NULL);
	}
}

void
router_error(struct sup *s, const struct origin *o, int code, const char *text,
    const json_t *detail)
{
	struct msg m = { .type = MSG_ERROR, .code = code };

	m.text = (char *)(text && *text ? text : err_str(code));
	if (detail)
		m.detail = json_dumps(detail, JSON_COMPACT);
	router_reply(s, o, &m);
	free(m.detail);
}

/* Replace every occurrence of secret in text (in place: same length or shorter). Results are
 * JSON text, where the secret is spelt escaped when it holds '"' or a backslash (jansson
 * writes \" and \\), and '/' may be written \/: every spelling is replaced. A match that
 * starts right after an escaping backslash takes that backslash along, so the JSON around it
 * stays valid. */
static void
redact(char *text, const char *secret)
{
	static const char mark[] = "[REDACTED]";
	size_t sl, ml = sizeof(mark) - 1;
	bool quotes, slash;
	char *spelt;

	if (secret == NULL || (sl = strlen(secret)) < 4 || sl > LIM_CRED_MAX ||
	    (spelt = malloc(2 * sl + 1)) == NULL)
		return;
	quotes = strpbrk(secret, "\"\\") != NULL;
	slash = strchr(secret, '/') != NULL;
	for (int v = 0; v < 3; v++) {		/* raw; JSON-escaped; JSON-escaped with \/ */
		size_t o = 0;

		if ((v == 1 && !quotes) || (v == 2 && !slash))
			continue;
		for (const char *c = secret; *c; c++) {
			if (v > 0 && (*c == '"' || *c == '\\' || (v == 2 && *c == '/')))
				spelt[o++] = '\\';
			spelt[o++] = *c;
		}
		spelt[o] = '\0';
		for (char *p = text, *m; (m = strstr(p, spelt)) != NULL;) {
			size_t bs = 0, len = o, rest;

			while (m - bs > text && m[-1 - (ptrdiff_t)bs] == '\\')
				bs++;
			if (bs % 2 == 1) {	/* the match begins inside an escape */
				m--;
				len++;
			}
			rest = strlen(m + len);
			if (len >= ml) {
				memcpy(m, mark, ml);
				memmove(m + ml, m + len, rest + 1);
				p = m + ml;
			} else {
				memset(m, '*', len);
				p = m + len;
			}
		}
	}
	explicit_bzero(spelt, 2 * sl + 1);
	free(spelt);
}

/* ---------------------------------------------------------------- a call */

/* Built member by member: json_pack would parse its format string on every call. */
static json_t *
audit_base(const char *type, const struct origin *o, const char *family, const char *op)
{
	json_t *r = json_object();

	if (r == NULL)
		return NULL;
	if (json_object_set_new(r, "type", json_string(type)) < 0 ||
	    json_object_set_new(r, "tenant", json_string(o->tenant ? o->tenant : "")) < 0 ||
	    json_object_set_new(r, "principal", json_string(o->principal)) < 0 ||
	    json_object_set_new(r, "tool", json_string(family ? family : "")) < 0 ||
	    json_object_set_new(r, "op", json_string(op ? op : "")) < 0) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/* A configuration file named by the endpoint (CA bundle, kubeconfig), read whole; NULL when
 * missing, not a regular file or larger than LIM_ARGS_MAX / 2 (the context's cap). Sized from
 * fstat: no 128 KiB buffer (an mmap and munmap of its own) per call. */
static char *
read_small(const char *path)
{
	struct stat st;
	char *buf = NULL;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size > LIM_ARGS_MAX / 2 || (buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (done < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + done, (size_t)st.st_size - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;		/* shrank under us: what was read */
		done += (size_t)k;
	}
	if (read(fd, (char[1]){ 0 }, 1) != 0)	/* grew under us, or an error */
		goto fail;
	buf[done] = '\0';
	close(fd);
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

/* The call context handed to the worker: the endpoint (from config only) and the secret. */
static json_t *
make_ctx(struct sup *s, const struct cfg_endpoint *ep, const char *secret)
{
	json_t *e = json_object(), *rh = json_array(), *kubeconfig = NULL;
	char *text = NULL;

	if (ep != NULL) {
		json_object_set_new(e, "name", json_string(ep->name));
		if (ep->url)
			json_object_set_new(e, "url", json_string(ep->url));
		if (ep->ca_file)
			json_object_set_new(e, "ca_file", json_string(ep->ca_file));
		if (ep->user)
			json_object_set_new(e, "user", json_string(ep->user));
		if (ep->context)
			json_object_set_new(e, "context", json_string(ep->context));
		json_object_set_new(e, "timeout_ms", json_integer(ep->timeout_ms));
		json_object_set_new(e, "connect_timeout_ms", json_integer(ep->connect_timeout_ms));
		for (size_t i = 0; i < ep->nredirect_hosts; i++)
			json_array_append_new(rh, json_string(ep->redirect_hosts[i]));
		if (ep->ca_file && (text = read_small(ep->ca_file)) != NULL) {
			/* Workers cannot read files of the host: certificates travel as text. */
			json_object_set_new(e, "ca_pem", json_string(text));
			free(text);
			text = NULL;	/* freed again below when there is no kubeconfig */
		}
		if (strcmp(ep->family, "flux") == 0)
			json_object_set_new(e, "allow_exec_plugins", json_boolean(ep->allow_exec_plugins));
		if (ep->kubeconfig && (text = read_small(ep->kubeconfig)) != NULL)
			kubeconfig = json_string(text);
		free(text);
	}
	json_object_set_new(e, "redirect_hosts", rh);
	return json_pack("{s:o, s:s?, s:o?}", "endpoint", e, "secret", secret, "kubeconfig",
	    kubeconfig);
}

const char *sup_cred_get(struct sup *s, const char *name, const char *tenant);

/* make_ctx(s, NULL, NULL) serialised: the context of a family without an endpoint (echo). */
#define CTX_NONE	"{\"endpoint\":{\"redirect_hosts\":[]}}"

static int
dispatch(struct sup *s, const struct origin *o, struct call *c, const struct tool_op *op,
    bool dry_run)
{
	/* flux: the caller names one of its tenant's configured clusters, never a URL or file */
	const struct cfg_endpoint *ep = config_endpoint(s->cfg, c->family, o->tenant,
	    json_string_value(json_object_get(c->args, "cluster")));
	const char *secret = NULL;
	struct msg m = { .type = MSG_WORK, .id = c->id, .dry_run = dry_run };
	json_t *ctx;
	int r;

	if (ep == NULL && json_is_string(json_object_get(c->args, "cluster")))
		return ERR_NOTFOUND;	/* not one of this tenant's clusters */
	if (strcmp(c->family, "model") == 0) {
		/* The model gateway: the caller's configured model, never one it names. */
		if ((r = sup_model_ctx(s, o, &ctx, &secret)) < 0)
			return r;
	} else if (ep == NULL) {
		ctx = NULL;	/* no endpoint, no secret: CTX_NONE, as make_ctx() would say it */
	} else {
		if (ep->credential && strcmp(ep->credential, "none") != 0 &&
		    (secret = sup_cred_get(s, ep->credential, o->tenant)) == NULL)
			return ERR_CONFIG;
		ctx = make_ctx(s, ep, secret);
	}
	if (secret && (c->secret = strdup(secret)) == NULL) {
		json_decref(ctx);
		return -ENOMEM;
	}
	m.tool = c->family;
	m.op = c->op;
	m.args = json_dumps(c->args, JSON_COMPACT | JSON_SORT_KEYS);
	m.ctx = ctx ? json_dumps(ctx, JSON_COMPACT) : strdup(CTX_NONE);
	m.deadline_ms = (uint32_t)(c->deadline_ms - c->start_ms);
	r = m.args && m.ctx ? worker_send(s, c->w, &m) : -ENOMEM;
	free(m.args);
	if (m.ctx) {
		explicit_bzero(m.ctx, strlen(m.ctx));
		free(m.ctx);
	}
	if (secret) {
		json_t *sv = json_object_get(ctx, "secret");

		explicit_bzero((char *)json_string_value(sv), json_string_length(sv));
	}
	json_decref(ctx);
	return r;
}

static bool
worker_usable(const struct worker *w)
{
	return w != NULL && w->state == WS_READY && w->verified;
}

/* An agent calls only what its own file lists (tools:), whatever a policy would allow: the
 * file is the agent's least privilege, the policy the site's. */
static enum dec
agent_tools_deny(json_t *rec, const char *reason)
{
	json_object_set_new(rec, "decision", json_string("deny"));
	json_object_set_new(rec, "rules", json_pack("[s]", "builtin:agent-tools"));
	json_object_set_new(rec, "reason", json_string(reason));
	return DEC_DENY;
}

void
router_call(struct sup *s, const struct origin *o, struct msg *m)
{
	const struct tool_family *f = tool_family_find(m->tool);
	const struct tool_op *op = tool_op_find(f, m->op);
	json_t *args = NULL, *rec = NULL;
	struct call *c = NULL;
	char err[512] = "", reason[512] = "";
	enum dec d;
	int r;

	s->calls_total++;
	if (f == NULL || op == NULL || f->kind == TOOL_KIND_AGENT) {
		snprintf(err, sizeof(err), "unknown tool or operation %s.%s", m->tool, m->op);
		rec = audit_base("decision", o, m->tool, m->op);
		json_object_set_new(rec, "decision", json_string("deny"));
		json_object_set_new(rec, "reason", json_string(err));
		sup_audit(s, rec);
		router_error(s, o, ERR_UNKNOWN, err, NULL);
		goto out;
	}
	rec = audit_base("decision", o, f->name, op->name);
	if ((r = ipc_json_parse(m->args, strlen(m->args), LIM_ARGS_MAX, &args, err,
	    sizeof(err))) < 0 || (r = tool_args_validate(op, args, err, sizeof(err))) < 0) {
		json_object_set_new(rec, "decision", json_string("deny"));
		json_object_set_new(rec, "reason", json_pack("s+", "invalid arguments: ", err));
		sup_audit(s, rec);
		router_error(s, o, ERR_SCHEMA, err, NULL);
		goto out;
	}
	json_object_set(rec, "args", args);
	if (m->dry_run)
		json_object_set_new(rec, "dry_run", json_true());
	if (strcmp(f->name, "model") == 0)
		d = sup_model_decide(s, o, rec, reason, sizeof(reason));
	else if (o->kind == ORIGIN_AGENT && !sup_agent_lists(s, o->agent, f->name, op->name,
	    reason, sizeof(reason)))
		d = agent_tools_deny(rec, reason);
	else
		d = sup_decide(s, o, f, op, args, m->dry_run, rec, reason, sizeof(reason));
	if (d != DEC_ALLOW) {
		s->calls_denied++;
		if (sup_audit(s, rec) < 0)
			log_kv(LOG_ERR, "audit write failed for a refused call", "tenant",
			    o->tenant, "principal", o->principal, "family", f->name, "op", op->name,
			    NULL);
		router_error(s, o, d == DEC_PENDING ? ERR_PENDING : d == DEC_BUDGET ? ERR_BUDGET :
		    ERR_DENIED, reason,
		    json_object_get(rec, "approval"));
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->family = strdup(f->name)) == NULL ||
	    (c->op = strdup(op->name)) == NULL) {
		/* Allowed, but not carried out: said to the caller and in the audit. */
		json_object_set_new(rec, "outcome", json_string("error"));
		json_object_set_new(rec, "error", json_string(err_str(-ENOMEM)));
		sup_audit(s, rec);
		router_error(s, o, -ENOMEM, "corrald is out of memory; the call was not made", NULL);
		goto out;
	}
	c->w = worker_for(s, f->name, s->cfg->shared_isolation ? "shared" : o->tenant);
	if (!worker_usable(c->w)) {
		json_object_set_new(rec, "outcome", json_string("unavailable"));
		sup_audit(s, rec);
		router_error(s, o, ERR_NOTREADY, c->w ? "the worker for this tool is not ready" :
		    "no worker for this tool in this tenant (no endpoint configured)", NULL);
		goto out;
	}
	c->id = ++s->next_id;
	c->o = *o;
	c->args = json_incref(args);
	c->mutating = (op->flags & TOOL_F_MUTATING) != 0;
	c->start_ms = sup_now_ms();
	c->deadline_ms = c->start_ms + (op->timeout_ms ? op->timeout_ms : s->cfg->call_deadline_ms);
	json_object_set_new(rec, "call", json_integer((json_int_t)c->id));
	/* Write-ahead: no audit record, no mutating call. */
	if ((r = sup_audit(s, rec)) < 0 && (c->mutating || !s->cfg->audit_fail_open_reads)) {
		router_error(s, o, ERR_AUDIT, "the audit log cannot be written; refusing the call",
		    NULL);
		goto out;
	}
	c->decision_seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
	if ((r = dispatch(s, o, c, op, m->dry_run)) < 0) {
		json_t *oc = audit_base("outcome", o, f->name, op->name);

		json_object_set_new(oc, "call", json_integer((json_int_t)c->id));
		json_object_set_new(oc, "outcome", json_string("error"));
		json_object_set_new(oc, "error", json_string(err_str(r)));
		sup_audit(s, oc);
		json_decref(oc);
		router_error(s, o, r, "could not hand the call to the worker", NULL);
		goto out;
	}
	c->w->inflight++;
	c->next = s->calls;
	s->calls = c;
	c = NULL;
out:
	call_free(c);
	json_decref(args);
	json_decref(rec);
}

/* ---------------------------------------------------------------- outcomes */

static void
finish(struct sup *s, struct call *c, const char *outcome, int code, const char *text,
    const char *detail_json, char *result)
{
	json_t *rec = audit_base("outcome", &c->o, c->family, c->op), *det = NULL;
	struct msg m = { 0 };
	int64_t dur = sup_now_ms() - c->start_ms;

	call_unlink(s, c);
	json_object_set_new(rec, "call", json_integer((json_int_t)c->id));
	json_object_set_new(rec, "decision_seq", json_integer((json_int_t)c->decision_seq));
	json_object_set_new(rec, "outcome", json_string(outcome));
	json_object_set_new(rec, "duration_ms", json_integer(dur));
	if (detail_json && (det = json_loads(detail_json, 0, NULL)) != NULL) {
		json_t *hs = json_object_get(det, "http_status");

		if (json_integer_value(hs) > 0)
			json_object_set(rec, "http_status", hs);
	}
	if (code) {
		/* a copy to redact in, without allocating: the answer must go out even without
		 * memory (a worker's text is capped at decoding; a cut secret could not be found) */
		char t[LIM_ERRMSG_MAX + 1];

		if (text && strlen(text) >= sizeof(t))
			text = "the error text was over the cap (not shown: it could not be redacted)";
		snprintf(t, sizeof(t), "%s", text ? text : err_str(code));
		redact(t, c->secret);
		json_object_set_new(rec, "error", json_string(t));
		m.type = MSG_ERROR;
		m.code = code;
		m.text = t;
		/* The worker's detail is worker-made text too: redact it like the rest (without
		 * memory for the copy, it is left out). */
		if (detail_json && (m.detail = strdup(detail_json)) != NULL)
			redact(m.detail, c->secret);
		sup_audit(s, rec);
		router_reply(s, &c->o, &m);
		free(m.detail);
	} else {
		redact(result, c->secret);
		m.type = MSG_RESULT;
		m.result = result;
		json_object_set_new(rec, "result_bytes", json_integer((json_int_t)strlen(result)));
		sup_observe_result(s, c, result, rec);
		sup_audit(s, rec);
		router_reply(s, &c->o, &m);
	}
	json_decref(det);
	json_decref(rec);
	call_free(c);
}

void
router_from_worker(struct sup *s, struct worker *w, struct msg *m)
{
	struct call *c;

	if (w->kind == TOOL_KIND_AGENT) {
		sup_agent_msg(s, w, m);
		return;
	}
	if ((c = call_find(s, m->id)) == NULL || c->w != w) {
		/* A late answer to a call we already timed out: harmless, dropped. */
		char id[24];

		snprintf(id, sizeof(id), "%llu", (unsigned long long)m->id);
		log_kv(LOG_DEBUG, "answer for an unknown call dropped", "worker", w->name, "tenant",
		    w->tenant, "call", id, NULL);
		return;
	}
	switch (m->type) {
	case MSG_EVENT: {
		struct msg ev = { .type = MSG_EVENT, .text = m->text };

		redact(m->text, c->secret);
		router_reply(s, &c->o, &ev);
		break;
	}
	case MSG_RESULT:
		if (strlen(m->result) > LIM_RESULT_MAX)
			finish(s, c, "error", ERR_TOOBIG, "result larger than the cap", NULL, NULL);
		else
			finish(s, c, "ok", 0, NULL, NULL, m->result);
		break;
	case MSG_ERROR:
		finish(s, c, "error", m->code < 0 ? m->code : ERR_WORKER, m->text, m->detail, NULL);
		break;
	default:
		break;
	}
}

void
router_worker_gone(struct sup *s, struct worker *w, const char *why)
{
	struct call *c, *next;

	for (c = s->calls; c != NULL; c = next) {
		next = c->next;
		if (c->w == w)
			finish(s, c, "worker-died", ERR_WORKER, why, NULL, NULL);
	}
	sup_agent_gone(s, w, why);
}

void
router_origin_gone(struct sup *s, const void *obj)
{
	/* The caller left: its calls still finish (and are audited); answers go nowhere. */
	for (struct call *c = s->calls; c != NULL; c = c->next)
		if ((c->o.kind == ORIGIN_CTL && c->o.ctl == obj) ||
		    (c->o.kind == ORIGIN_AGENT && c->o.agent == obj)) {
			c->o.ctl = NULL;
			c->o.agent = NULL;
		}
	sup_runs_origin_gone(s, obj);
}

void
router_tick(struct sup *s, int64_t now)
{
	struct call *c, *next;

	for (c = s->calls; c != NULL; c = next) {
		next = c->next;
		if (now < c->deadline_ms)
			continue;
		/* A worker that overran a deadline may be stuck in a remote call: recycle it. */
		struct worker *w = c->w;
		struct msg cancel = { .type = MSG_CANCEL, .id = c->id };

		worker_send(s, w, &cancel);
		finish(s, c, "timeout", ERR_TIMEOUT, "deadline exceeded", NULL, NULL);
		if (w->state == WS_READY && w->inflight == 0 && !s->stopping)
			worker_kill(s, w, "recycled after a call overran its deadline");
	}
	sup_runs_tick(s, now);
}
