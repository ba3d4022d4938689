/* The flux family's mutating ops and logs: reconcile (annotation or `flux reconcile`), suspend
 * and resume (merge patch of spec.suspend or the flux CLI, verified with kubectl either way),
 * and controller logs. See tools/flux.c for the schemas and docs/FLUX.md for the design. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ipc/err.h"
#include "ipc/json.h"
#include "ipc/limits.h"
#include "tools/flux_int.h"

#define POLL_FIRST_MS	300
#define POLL_MAX_MS	2000
#define FLUX_FAIL_MARK	"\xe2\x9c\x97"		/* ✗: the flux CLI's failure prefix */
#define LOG_MSG_MAX	2048

/* RFC 3339 with nanoseconds, UTC, as flux's time.Now().Format(time.RFC3339Nano) (trailing
 * zeros of the fraction dropped). */
static void
rfc3339_now(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char frac[16];
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(frac, sizeof(frac), "%09ld", ts.tv_nsec);
	for (n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d%s%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, n ? "." : "", frac);
}

static long long
wait_budget_ms(const struct fx *x)
{
	long long want = fx_arg_int(x, "timeout", 120) * 1000, left = fx_left_ms(x) - 1500;

	return want < left ? want : left > 0 ? left : 0;
}

static void
on_flux_line(void *arg, const char *line)
{
	struct fx *x = arg;

	if (*line != '\0')
		fx_event(x, "%.200s", line);
}

/* ------------------------------------------------------------------ the flux CLI */

/* The first stderr line carrying flux's failure mark. */
static bool
line_has_fail(const char *text, char *out, size_t len)
{
	const char *p = text ? strstr(text, FLUX_FAIL_MARK) : NULL, *e;

	if (p == NULL)
		return false;
	e = strchr(p, '\n');
	snprintf(out, len, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
	return true;
}

static int
flux_fail(struct fx *x, const struct exec_resp *resp, const char *line)
{
	if (*line == '\0')
		return fx_run_error(x, resp, "flux");
	if (strstr(line, "not found"))
		return fx_fail(x->err, ERR_NOTFOUND, 404, false, "flux: %s", line);
	if (strstr(line, "suspended"))
		return fx_fail(x->err, ERR_REMOTE_STATE, 0, false, "flux: %s", line);
	if (strstr(line, "forbidden"))
		return fx_fail(x->err, ERR_HTTP, 403, false, "flux: %s", line);
	if (strstr(line, "timeout") || strstr(line, "deadline exceeded"))
		return fx_fail(x->err, ERR_TIMEOUT, 0, true, "flux: %s", line);
	return fx_fail(x->err, ERR_EXEC, 0, false, "flux (exit %d): %s", resp->status, line);
}

/* flux <verb> <kind words> NAME -n NS --timeout=Ns [extra...]. A ✗ line is a failure whatever
 * the exit code says: flux suspend/resume exit 0 for a missing object. */
static int
flux_cli(struct fx *x, const char *verb, const struct fx_kind *k, const char *const *extra)
{
	struct exec_req req = { .bin = EXEC_BIN_FLUX, .on_stderr_line = on_flux_line,
		.line_arg = x };
	struct exec_resp resp;
	long long wait_s = wait_budget_ms(x) / 1000;
	char line[400] = "";
	int r = 0;

	if (exec_arg(&req, verb) < 0 || exec_arg(&req, k->flux1) < 0 ||
	    (k->flux2 && exec_arg(&req, k->flux2) < 0) ||
	    exec_arg(&req, fx_arg_str(x, "name")) < 0 || exec_arg(&req, "-n") < 0 ||
	    exec_arg(&req, fx_arg_str(x, "namespace")) < 0 ||
	    exec_arg(&req, fx_str(x, "--timeout=%llds", wait_s > 0 ? wait_s : 1)) < 0)
		return fx_fail(x->err, ERR_TOOBIG, 0, false, "argv too long");
	for (; extra && *extra; extra++)
		if (exec_arg(&req, *extra) < 0)
			return fx_fail(x->err, ERR_TOOBIG, 0, false, "argv too long");
	req.timeout_ms = (uint32_t)(wait_budget_ms(x) + 1000);
	memset(&resp, 0, sizeof(resp));
	if ((r = x->io->exec(x->io, x->call, &req, &resp, x->err)) < 0) {
		if (x->err->code == 0)
			fx_fail(x->err, r, 0, false, "flux could not run: %s", err_str(r));
		r = x->err->code;
	} else if (resp.timed_out || resp.signal) {
		r = fx_run_error(x, &resp, "flux");
	} else if (resp.egress_denied) {
		line_has_fail(resp.err, line, sizeof(line));
		r = fx_fail(x->err, ERR_EGRESS, 0, false, "flux: corrald refused the connection "
		    "to %s (not this cluster's API server)%s%s", resp.egress_last, *line ? ": " : "",
		    line);
	} else if (line_has_fail(resp.err, line, sizeof(line)) || resp.status != 0) {
		r = flux_fail(x, &resp, line);
	}
	exec_resp_clear(&resp);
	return r;
}

/* ------------------------------------------------------------------ waiting for Ready */

/* Poll the object until the controller has handled token (or, without a token, observed the
 * current generation) and says Ready=True; Ready=False after that is a failed reconcile. */
static int
wait_ready(struct fx *x, const struct fx_kind *k, const char *ns, const char *name,
    const char *token, json_t **final)
{
	long long budget = wait_budget_ms(x), waited = 0, step = POLL_FIRST_MS;
	const char *st = NULL, *reason = NULL, *msg = NULL;
	char last[300] = "no status yet";
	int r;

	for (;;) {
		json_t *obj = NULL;
		const char *h;
		bool seen;

		if ((r = fx_get(x, k, ns, name, &obj)) < 0)
			return r;
		h = json_string_value(json_object_get(json_object_get(obj, "status"),
		    "lastHandledReconcileAt"));
		seen = (token == NULL || (h && strcmp(h, token) == 0)) && fx_observed_current(obj);
		st = fx_ready(obj, &reason, &msg);
		snprintf(last, sizeof(last), "Ready=%s %s: %s", st ? st : "?", reason ? reason : "",
		    msg ? msg : "");
		if (seen && st && strcmp(st, "True") == 0) {
			fx_event(x, "%s/%s/%s ready: %.200s", k->kind, ns, name, msg ? msg : "");
			*final = obj;
			return 0;
		}
		if (seen && st && strcmp(st, "False") == 0) {
			json_decref(obj);
			return fx_fail(x->err, ERR_REMOTE_STATE, 0, false, "%s/%s/%s reconciliation failed: "
			    "%s: %s", k->kind, ns, name, reason ? reason : "", msg ? msg : "");
		}
		json_decref(obj);
		fx_event(x, "waiting for %s/%s/%s: %s", k->kind, ns, name,
		    seen ? last : "the controller has not handled the request yet");
		if (waited >= budget)
			return fx_fail(x->err, ERR_TIMEOUT, 0, true, "timed out after %llds waiting "
			    "for %s/%s/%s to become ready (last: %s)", (waited + 999) / 1000, k->kind,
			    ns, name, last);
		if (step > budget - waited)
			step = budget - waited;
		fx_sleep_ms(step);
		waited += step;
		step = step * 2 > POLL_MAX_MS ? POLL_MAX_MS : step * 2;
	}
}

/* ------------------------------------------------------------------ reconcile */

/* The annotation patch: requestedAt (and forceAt/resetAt with the same token). */
static const char *
annotation_patch(struct fx *x, const char *token, bool force, bool reset)
{
	json_t *ann = json_pack("{s:s}", FX_ANN_REQUESTED, token), *p;
	const char *out = NULL;
	char *text;

	if (ann == NULL)
		return NULL;
	if (force)
		json_object_set_new(ann, FX_ANN_FORCE, json_string(token));
	if (reset)
		json_object_set_new(ann, FX_ANN_RESET, json_string(token));
	p = json_pack("{s:{s:o}}", "metadata", "annotations", ann);
	if (p != NULL && (text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS)) != NULL) {
		out = fx_str(x, "%s", text);
		free(text);
	}
	json_decref(p);
	return out;
}

/* The source a Kustomization or HelmRelease reads from, as flux --with-source finds it. */
static int
source_of(struct fx *x, const json_t *obj, const struct fx_kind **k, const char **ns,
    const char **name)
{
	json_t *spec = json_object_get(obj, "spec"), *ref = json_object_get(spec, "sourceRef");
	const char *own = json_string_value(json_object_get(json_object_get(obj, "metadata"),
	    "namespace"));
	const char *hc = json_string_value(json_object_get(json_object_get(obj, "status"),
	    "helmChart"));

	if (ref == NULL)
		ref = json_object_get(spec, "chartRef");
	if (ref == NULL && hc && strchr(hc, '/')) {
		*k = fx_kind_find("HelmChart");
		*ns = fx_str(x, "%.*s", (int)(strchr(hc, '/') - hc), hc);
		*name = fx_str(x, "%s", strchr(hc, '/') + 1);
	} else {
		*k = fx_kind_find(json_string_value(json_object_get(ref, "kind")));
		*name = json_string_value(json_object_get(ref, "name"));
		*ns = json_string_value(json_object_get(ref, "namespace"));
		*ns = *ns ? *ns : own;
	}
	if (*k == NULL || !fx_subdomain_ok(*name) || !fx_label_ok(*ns))
		return fx_fail(x->err, ERR_REMOTE_STATE, 0, false, "cannot tell the source of %s",
		    json_string_value(json_object_get(obj, "kind")));
	return 0;
}

/* Annotate one object and wait for it; *final gets the object at the end. */
static int
reconcile_one(struct fx *x, const struct fx_kind *k, const char *ns, const char *name,
    bool force, bool reset, json_t **final)
{
	char token[48];
	const char *patch;
	json_t *obj = NULL;
	int r;

	rfc3339_now(token, sizeof(token));
	if ((patch = annotation_patch(x, token, force, reset)) == NULL)
		return fx_fail(x->err, -ENOMEM, 0, false, "cannot build the patch");
	if ((r = fx_patch(x, k, ns, name, patch, false, &obj)) < 0)
		return r;
	json_decref(obj);
	fx_event(x, "annotated %s/%s/%s %s=%s", k->kind, ns, name, FX_ANN_REQUESTED, token);
	return wait_ready(x, k, ns, name, token, final);
}

static int
reconcile_kubectl(struct fx *x, const struct fx_kind *k, json_t *obj, json_t **final)
{
	const char *ns = fx_arg_str(x, "namespace"), *name = fx_arg_str(x, "name");
	const struct fx_kind *sk;
	const char *sns, *sname;
	json_t *src = NULL;
	int r;

	if (fx_arg_bool(x, "with_source")) {
		if ((r = source_of(x, obj, &sk, &sns, &sname)) < 0)
			return r;
		fx_event(x, "reconciling source %s/%s/%s", sk->kind, sns, sname);
		if ((r = reconcile_one(x, sk, sns, sname, false, false, &src)) < 0)
			return r;
		json_decref(src);
	}
	return reconcile_one(x, k, ns, name, fx_arg_bool(x, "force"), fx_arg_bool(x, "reset"),
	    final);
}

static int
reconcile_flux(struct fx *x, const struct fx_kind *k, json_t **final)
{
	const char *extra[4];
	size_t n = 0;
	int r;

	if (fx_arg_bool(x, "with_source"))
		extra[n++] = "--with-source";
	if (fx_arg_bool(x, "force"))
		extra[n++] = "--force";
	if (fx_arg_bool(x, "reset"))
		extra[n++] = "--reset";
	extra[n] = NULL;
	if ((r = flux_cli(x, "reconcile", k, extra)) < 0)
		return r;
	return fx_get(x, k, fx_arg_str(x, "namespace"), fx_arg_str(x, "name"), final);
}

/* A dry run: the object must exist; the server validates the patch (dryRun=All) and keeps
 * nothing. */
static int
dry_patch(struct fx *x, const struct fx_kind *k, const char *patch, json_t *obj,
    json_t **result)
{
	json_t *would = NULL;
	int r;

	if ((r = fx_patch(x, k, fx_arg_str(x, "namespace"), fx_arg_str(x, "name"), patch, true,
	    &would)) < 0)
		return r;
	*result = json_pack("{s:b, s:o, s:s, s:o}", "dry_run", 1, "object", fx_shape(obj),
	    "patch", patch, "would_be", fx_shape(would));
	json_decref(would);
	return *result ? 0 : -ENOMEM;
}

/* Without flux: read (missing? suspended?), annotate, wait. A dry run asks the server to
 * validate the annotation patch and keeps nothing. */
static int
reconcile_with_kubectl(struct fx *x, const struct fx_kind *k, json_t **result)
{
	json_t *obj = NULL, *final = NULL;
	char token[48];
	int r;

	if ((r = fx_get(x, k, fx_arg_str(x, "namespace"), fx_arg_str(x, "name"), &obj)) < 0)
		return r;
	if (fx_suspended(obj)) {
		json_decref(obj);
		return fx_fail(x->err, ERR_REMOTE_STATE, 0, false, "%s/%s/%s is suspended: resume "
		    "it first", k->kind, fx_arg_str(x, "namespace"), fx_arg_str(x, "name"));
	}
	if (x->call->dry_run) {
		rfc3339_now(token, sizeof(token));
		r = dry_patch(x, k, annotation_patch(x, token, fx_arg_bool(x, "force"),
		    fx_arg_bool(x, "reset")), obj, result);
	} else if ((r = reconcile_kubectl(x, k, obj, &final)) == 0) {
		*result = fx_shape(final);
	}
	json_decref(obj);
	json_decref(final);
	return r;
}

int
fx_op_reconcile(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct fx x;
	const struct fx_kind *k;
	json_t *final = NULL;
	int r;

	fx_init(&x, io, call, err);
	if ((r = fx_check_args(&x)) < 0)
		return r;
	k = fx_op_kind(&x);
	/* flux checks existence and suspension itself (and fails for either) */
	if (!call->dry_run && fx_flux_pinned(&x)) {
		if ((r = reconcile_flux(&x, k, &final)) == 0)
			*result = fx_shape(final);
		json_decref(final);
	} else {
		r = reconcile_with_kubectl(&x, k, result);
	}
	if (r == 0 && *result == NULL)
		return -ENOMEM;
	if (r == 0 && !call->dry_run)
		json_object_set_new(*result, "reconciled", json_true());
	return r;
}

/* ------------------------------------------------------------------ suspend / resume */

/* Read the object back: the patch (or flux) must have left spec.suspend == want. */
static int
verify_suspend(struct fx *x, const struct fx_kind *k, bool want, json_t **obj)
{
	int r;

	if ((r = fx_get(x, k, fx_arg_str(x, "namespace"), fx_arg_str(x, "name"), obj)) < 0)
		return r;
	if (fx_suspended(*obj) != want) {
		json_decref(*obj);
		*obj = NULL;
		return fx_fail(x->err, ERR_REMOTE_STATE, 0, false, "%s/%s/%s: spec.suspend is still %s "
		    "after the change", k->kind, fx_arg_str(x, "namespace"), fx_arg_str(x, "name"),
		    want ? "false" : "true");
	}
	return 0;
}

/* The flux CLI's way: no read first (flux reports a missing object itself, with exit 0),
 * then the read-back decides. */
static int
set_suspend_flux(struct fx *x, const struct fx_kind *k, bool want, json_t **after)
{
	const char *const no_wait[] = { "--wait=false", NULL };
	int r;

	if ((r = flux_cli(x, want ? "suspend" : "resume", k,
	    !want && !fx_arg_bool(x, "wait") ? no_wait : NULL)) < 0)
		return r;
	return verify_suspend(x, k, want, after);
}

static int
set_suspend_kubectl(struct fx *x, const struct fx_kind *k, bool want, json_t **after,
    json_t **result, int *was)
{
	const char *patch = want ? "{\"spec\":{\"suspend\":true}}" :
	    "{\"spec\":{\"suspend\":false}}";
	const char *ns = fx_arg_str(x, "namespace"), *name = fx_arg_str(x, "name");
	json_t *before = NULL, *obj = NULL;
	int r;

	if ((r = fx_get(x, k, ns, name, &before)) < 0)
		return r;
	if (x->call->dry_run) {
		r = dry_patch(x, k, patch, before, result);
	} else if ((r = fx_patch(x, k, ns, name, patch, false, &obj)) == 0) {
		fx_event(x, "patched %s/%s/%s spec.suspend=%s", k->kind, ns, name,
		    want ? "true" : "false");
		r = verify_suspend(x, k, want, after);
	}
	*was = fx_suspended(before);
	json_decref(before);
	json_decref(obj);
	return r;
}

static int
set_suspend(struct fx *x, bool want, json_t **result)
{
	const struct fx_kind *k = fx_op_kind(x);
	json_t *after = NULL;
	int r, was = -1;	/* unknown on the flux path: flux is not asked first */

	if (!x->call->dry_run && fx_flux_pinned(x))
		r = set_suspend_flux(x, k, want, &after);
	else
		r = set_suspend_kubectl(x, k, want, &after, result, &was);
	if (r < 0 || x->call->dry_run)
		return r;
	if (!want && fx_arg_bool(x, "wait")) {
		json_decref(after);
		after = NULL;
		if ((r = wait_ready(x, k, fx_arg_str(x, "namespace"), fx_arg_str(x, "name"), NULL,
		    &after)) < 0)
			return r;
	}
	if ((*result = fx_shape(after)) != NULL && was >= 0)
		json_object_set_new(*result, "changed", json_boolean((was == 1) != want));
	json_decref(after);
	return *result ? 0 : -ENOMEM;
}

int
fx_op_suspend(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct fx x;
	int r;

	fx_init(&x, io, call, err);
	if ((r = fx_check_args(&x)) < 0)
		return r;
	return set_suspend(&x, true, result);
}

int
fx_op_resume(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct fx x;
	int r;

	fx_init(&x, io, call, err);
	if ((r = fx_check_args(&x)) < 0)
		return r;
	return set_suspend(&x, false, result);
}

/* ------------------------------------------------------------------ logs */

struct log_filter {
	const char *kind, *name, *ns, *level;
	size_t limit;
};

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* "[pod/kustomize-controller-7d9f8c6b5-x2bq/manager] {...}" -> component, JSON start. */
static const char *
split_prefix(const char *line, char *component, size_t len)
{
	const char *p, *e;

	*component = '\0';
	if (strncmp(line, "[pod/", 5) != 0 || (e = strstr(line, "] ")) == NULL)
		return line;
	p = line + 5;
	snprintf(component, len, "%.*s", (int)(strcspn(p, "/]")), p);
	for (size_t i = 0; i < 2; i++) {	/* drop the ReplicaSet and pod hashes */
		char *dash = strrchr(component, '-');

		if (dash != NULL && dash != component)
			*dash = '\0';
	}
	return e + 2;
}

static bool
log_keep(const json_t *j, const struct log_filter *f)
{
	const char *kind = jstr(j, "controllerKind") ? jstr(j, "controllerKind") :
	    jstr(j, "reconciler kind");

	if (f->level && (jstr(j, "level") == NULL || strcmp(jstr(j, "level"), f->level) != 0))
		return false;
	if (f->kind && (kind == NULL || strcasecmp(kind, f->kind) != 0))
		return false;
	if (f->name && (jstr(j, "name") == NULL || strcmp(jstr(j, "name"), f->name) != 0))
		return false;
	if (f->ns && (jstr(j, "namespace") == NULL || strcmp(jstr(j, "namespace"), f->ns) != 0))
		return false;
	return true;
}

static json_t *
log_entry(const json_t *j, const char *component)
{
	const char *kind = jstr(j, "controllerKind") ? jstr(j, "controllerKind") :
	    jstr(j, "reconciler kind");
	const char *msg = jstr(j, "msg"), *e = jstr(j, "error");

	return json_pack("{s:s?, s:s?, s:s, s:s?, s:s?, s:s?, s:s%, s:s%}", "ts", jstr(j, "ts"),
	    "level", jstr(j, "level"), "component", component, "kind", kind, "name",
	    jstr(j, "name"), "namespace", jstr(j, "namespace"), "msg", msg ? msg : "",
	    msg ? strnlen(msg, LOG_MSG_MAX) : 0, "error", e ? e : "", e ? strnlen(e, LOG_MSG_MAX) :
	    0);
}

static json_t *
logs_shape(char *out, const struct log_filter *f)
{
	json_t *arr = json_array();
	size_t skipped = 0, dropped = 0, total = 0;
	char *save = NULL, comp[128];

	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *js = split_prefix(line, comp, sizeof(comp));
		json_t *j = *js == '{' ? json_loads(js, JSON_REJECT_DUPLICATES, NULL) : NULL;

		total++;
		if (!json_is_object(j))
			skipped++;
		else if (!log_keep(j, f))
			dropped++;
		else if (json_array_size(arr) < f->limit)
			json_array_append_new(arr, log_entry(j, comp));
		else
			dropped++;
		json_decref(j);
	}
	return json_pack("{s:o, s:I, s:I, s:I, s:b}", "entries", arr, "count",
	    (json_int_t)json_array_size(arr), "lines_read", (json_int_t)total, "skipped_non_json",
	    (json_int_t)skipped, "truncated", json_array_size(arr) >= f->limit && dropped > 0);
}

static int
logs_argv(struct fx *x, struct exec_req *req)
{
	const char *comp = fx_arg_str(x, "component"), *since = fx_arg_str(x, "since");
	const char *sel = comp ? fx_str(x, "app=%s", comp) : "app.kubernetes.io/part-of=flux";
	const char *tail = fx_str(x, "--tail=%lld", fx_arg_int(x, "tail", 200));
	const char *const words[] = { "-n", fx_arg_str(x, "flux_namespace"), "logs", "-l", sel,
		"-c", "manager", tail, "--prefix", "--max-log-requests=8", NULL };
	int r;

	if (since != NULL && (strspn(since, "0123456789") == 0 ||
	    strspn(since, "0123456789") + 1 != strlen(since) ||
	    strchr("smh", since[strlen(since) - 1]) == NULL))
		return fx_fail(x->err, ERR_SCHEMA, 0, false, "since: a duration like 15m");
	if ((r = fx_kubectl(x, req)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]) - 1; i++)
		if (exec_arg(req, words[i]) < 0)
			return fx_fail(x->err, ERR_TOOBIG, 0, false, "argv too long");
	if (since && exec_arg(req, fx_str(x, "--since=%s", since)) < 0)
		return fx_fail(x->err, ERR_TOOBIG, 0, false, "argv too long");
	return 0;
}

int
fx_op_logs(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct fx x;
	struct exec_req req;
	struct exec_resp resp;
	struct log_filter f;
	int r;

	fx_init(&x, io, call, err);
	if ((r = fx_check_args(&x)) < 0 || (r = logs_argv(&x, &req)) < 0)
		return r;
	f = (struct log_filter){ fx_arg_str(&x, "kind"), fx_arg_str(&x, "name"),
		fx_arg_bool(&x, "all_namespaces") ? NULL : fx_arg_str(&x, "namespace"),
		fx_arg_str(&x, "level"), (size_t)fx_arg_int(&x, "limit", 200) };
	if ((r = fx_run(&x, &req, &resp, "kubectl logs")) == 0) {
		*result = logs_shape(resp.out ? resp.out : (char *)"", &f);
		if (*result == NULL)
			r = -ENOMEM;
		else
			json_object_set_new(*result, "output_truncated",
			    json_boolean(resp.out_truncated));
	}
	exec_resp_clear(&resp);
	return r;
}
