/* Tool families: the schema tables (single source of truth) and the execution interface.
 *
 * A family is a `struct tool_family` with a table of ops; each op has a table of params. The
 * supervisor validates every call with tool_args_validate() before policy sees it; the worker
 * runs the op's `run` hook; agents and `corralctl tools` see tool_family_describe().
 *
 * Family files (tools/<family>.c) hold schemas, request building and response shaping only. They
 * never call libcurl or exec directly: I/O goes through the hooks in struct tool_io that the
 * worker runtime provides, so the supervisor can link the schemas without any I/O code.
 */
#ifndef CORRAL_TOOLS_TOOL_H
#define CORRAL_TOOLS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum tool_kind {		/* which worker binary and confinement a family runs under */
	TOOL_KIND_HTTP,		/* corral-worker, http allow-list, egress broker */
	TOOL_KIND_EXEC,		/* corral-worker, exec allow-list (kubectl/flux) */
	TOOL_KIND_MODEL,	/* corral-worker, model gateway */
	TOOL_KIND_AGENT,	/* corral-agent */
	TOOL_KIND_MAX
};
const char *tool_kind_name(enum tool_kind k);	/* "http", "exec", "model", "agent" */
int tool_kind_parse(const char *s, enum tool_kind *out);

enum tool_ptype {
	TP_STRING,
	TP_INT,
	TP_NUMBER,
	TP_BOOL,
	TP_OBJECT,		/* map of string -> scalar (e.g. workflow inputs, build parameters) */
	TP_ARRAY,		/* array of strings */
	TP_JSON,		/* any JSON value (e.g. a patch, model messages); size-capped */
};

/* Param flags */
#define TP_F_MULTILINE	0x1	/* string may hold CR/LF/TAB (other control chars never) */
#define TP_F_SECRETISH	0x2	/* redact in audit (e.g. a trigger token passed by the caller) */

struct tool_param {
	const char *name;
	enum tool_ptype type;
	bool required;
	const char *def;		/* default as JSON text ("\"flux-system\"", "false", "20"), or NULL */
	const char *const *enums;	/* NULL-terminated allowed strings, or NULL */
	const char *pattern;		/* POSIX ERE matched against the whole string, or NULL */
	uint32_t max_len;		/* strings: bytes; arrays/objects: entries; JSON: encoded bytes. 0 = default */
	int64_t min, max;		/* TP_INT / TP_NUMBER range when min < max */
	unsigned flags;
	const char *desc;
};

/* Op flags */
#define TOOL_F_MUTATING		0x1	/* changes remote state (class:write in policy) */
#define TOOL_F_IDEMPOTENT	0x2	/* safe to retry */
#define TOOL_F_DRY_RUN		0x4	/* honours dry_run */
#define TOOL_F_PROGRESS		0x8	/* emits progress events */

struct tool_family;
struct tool_io;

/* What a run hook gets. args are validated with defaults filled in. ctx is the supervisor's
 * endpoint context for this call (see docs/ARCHITECTURE.md, "call context"): at least
 * {"endpoint": {"name", "url", ...}, "secret": "..."}; the hook must not copy the secret into
 * its result. */
struct tool_call {
	const struct tool_family *family;
	const struct tool_op *op;
	uint64_t id;
	json_t *args;
	json_t *ctx;
	bool dry_run;
	int64_t deadline;		/* CLOCK_MONOTONIC ms */
};

/* Structured failure of a run hook. */
struct tool_err {
	int code;			/* ERR_HTTP, ERR_TIMEOUT, ERR_EXEC, ERR_NOTFOUND, ... */
	int http_status;		/* 0 when not HTTP */
	bool retryable;
	char text[512];			/* the API's own message where it gave one */
};

typedef int (*tool_run_fn)(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err);

struct tool_op {
	const char *name;
	const char *desc;
	unsigned flags;
	const struct tool_param *params;	/* terminated by an entry with name == NULL */
	uint32_t timeout_ms;			/* default deadline; 0 = LIM_CALL_DEADLINE_MS */
	tool_run_fn run;			/* NULL only for ops the supervisor answers itself */
};

struct tool_family {
	const char *name;		/* "argocd", "github_actions", ... */
	const char *desc;
	enum tool_kind kind;
	const struct tool_op *ops;	/* terminated by an entry with name == NULL */
	/* optional: called once in the worker after lock-down */
	int (*init)(struct tool_io *io);
};

/* --- registry (tools/registry.c) --- */
const struct tool_family *tool_family_find(const char *name);
const struct tool_family *const *tool_families(size_t *n);
const struct tool_op *tool_op_find(const struct tool_family *f, const char *name);
const struct tool_param *tool_param_find(const struct tool_op *op, const char *name);

/* --- schema (tools/schema.c) --- */

/* Validate args (a JSON object) against op: unknown keys, missing required, types, enums,
 * patterns, sizes, control characters. Fills defaults into args in place. On failure returns
 * ERR_SCHEMA and writes "param: reason" into err. Pure: no I/O, thread-safe after
 * tool_schema_init(). */
int tool_args_validate(const struct tool_op *op, json_t *args, char *err, size_t errlen);

/* Compile every pattern of every registered family once (call at start; fails with
 * ERR_CONFIG naming the family/op/param when a pattern does not compile). */
int tool_schema_init(char *err, size_t errlen);

/* JSON description of a family (name, desc, kind, ops with params and flags), for agents
 * (as tool descriptions), `corralctl tools -o json` and MCP. New reference. */
json_t *tool_family_describe(const struct tool_family *f);
json_t *tool_op_describe(const struct tool_family *f, const struct tool_op *op);
/* JSON Schema (draft 2020-12 subset) of an op's parameters, for LLM tool definitions. */
json_t *tool_op_json_schema(const struct tool_op *op);

#endif
