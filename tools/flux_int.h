/* Internal to the flux family (tools/flux.c, tools/flux_ops.c): one call's state and the
 * helpers that build kubectl/flux argv, run them through io->exec and read their output. */
#ifndef CORRAL_TOOLS_FLUX_INT_H
#define CORRAL_TOOLS_FLUX_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tools/exec.h"
#include "tools/io.h"
#include "tools/tool.h"

#define FX_NS_MAX	63		/* RFC 1123 label */
#define FX_NAME_MAX	253		/* RFC 1123 subdomain */
#define FX_FIELD_MANAGER "--field-manager=flux-client-side-apply"
#define FX_ANN_REQUESTED "reconcile.fluxcd.io/requestedAt"
#define FX_ANN_FORCE	"reconcile.fluxcd.io/forceAt"
#define FX_ANN_RESET	"reconcile.fluxcd.io/resetAt"

/* A Flux object kind: the kubectl resource (plural.group, so no short name can be ambiguous)
 * and the words of the flux CLI that name it. */
struct fx_kind {
	const char *kind;		/* "Kustomization" */
	const char *res;		/* "kustomizations.kustomize.toolkit.fluxcd.io" */
	const char *flux1, *flux2;	/* "kustomization" / "source" "git"; NULL: no CLI form */
};

extern const struct fx_kind fx_kinds[];	/* terminated by kind == NULL */
const struct fx_kind *fx_kind_find(const char *kind);

/* One call. Built strings live in arena until the call ends. */
struct fx {
	struct tool_io *io;
	const struct tool_call *call;
	struct tool_err *err;
	char arena[8192];
	size_t used;
	char last_event[256];		/* progress dedupe */
};

void fx_init(struct fx *x, struct tool_io *io, const struct tool_call *call,
    struct tool_err *err);
int fx_fail(struct tool_err *err, int code, int http_status, bool retryable, const char *fmt,
    ...) __attribute__((format(printf, 5, 6)));
/* printf into the call's arena; NULL when it is full. */
const char *fx_str(struct fx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fx_event(struct fx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Argument accessors (validated args with defaults filled in). */
const char *fx_arg_str(const struct fx *x, const char *name);
bool fx_arg_bool(const struct fx *x, const char *name);
long long fx_arg_int(const struct fx *x, const char *name, long long def);
/* Milliseconds left before the call's deadline (never negative). */
long long fx_left_ms(const struct fx *x);
void fx_sleep_ms(long long ms);

/* RFC 1123 checks, applied in the worker whatever the schema said. */
bool fx_label_ok(const char *s);		/* namespace: label, <= 63 */
bool fx_subdomain_ok(const char *s);		/* object name: subdomain, <= 253 */

/* kubectl: req gets the binary and --request-timeout; run: io->exec with the call's deadline,
 * mapping a failed run (non-zero exit, signal, timeout, refused egress) to err. */
int fx_kubectl(struct fx *x, struct exec_req *req);
int fx_run(struct fx *x, struct exec_req *req, struct exec_resp *resp, const char *what);
/* Map a failed run's stderr to an error (NotFound, Forbidden, unreachable, ...). */
int fx_run_error(struct fx *x, const struct exec_resp *resp, const char *what);
bool fx_flux_pinned(struct fx *x);

/* kubectl get (-o json) of one object (name) or a list (name NULL; ns NULL = -A). */
int fx_get(struct fx *x, const struct fx_kind *k, const char *ns, const char *name, json_t **out);
/* kubectl patch --type=merge (server dry-run when dry): the patched object. */
int fx_patch(struct fx *x, const struct fx_kind *k, const char *ns, const char *name,
    const char *patch, bool dry, json_t **out);

/* Shaping. */
json_t *fx_shape(const json_t *obj);
/* The Ready condition: "True"/"False"/"Unknown" (NULL when absent), reason, message. */
const char *fx_ready(const json_t *obj, const char **reason, const char **message);
bool fx_suspended(const json_t *obj);
bool fx_observed_current(const json_t *obj);

/* Ops living in flux_ops.c. */
int fx_op_reconcile(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err);
int fx_op_suspend(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err);
int fx_op_resume(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err);
int fx_op_logs(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err);

/* The op's fixed kind (by op name), or the kind in args.source_kind. */
const struct fx_kind *fx_op_kind(const struct fx *x);
/* Common per-call argument checks (names, namespace, cluster vs ctx). */
int fx_check_args(struct fx *x);

#endif
