/* agent loader — AOF-compatible agent YAML -> a resolved agent definition.
 *
 * A pure library (no logging, no environment, no network): corrald links it to load the agents
 * its config names, corralctl links it for `corralctl agent validate`. It reads both shapes AOF
 * writes (Kubernetes metadata/spec and flat), apiVersion aof.dev/v1, aof.dev/v1alpha1,
 * aof.sh/v1, aof.sh/v1alpha1 and corral.dev/v1, and resolves tool names (corral families,
 * family.op, AOF per-operation names) onto corral's families and ops (agents/aofmap.h).
 * docs/AGENTS.md describes the format and every mapping decision.
 *
 * Every problem is reported into a ydoc_errs list as "file:line:col: message"; a tool corral
 * does not provide is an error unless opts->missing_tools_warn, which loads the agent without
 * it (a warning, and an entry in def->missing). ${VAR} / ${VAR:-default} are expanded in the
 * config: (and AOF environment:) values only, from opts->vars — never from the process
 * environment, and never for a name that looks like a credential.
 */
#ifndef CORRAL_AGENTS_LOADER_H
#define CORRAL_AGENTS_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ipc/ydoc.h"

struct agent_pos {
	int line, col;			/* 1-based; 0 when the item was not in the file */
};

enum agent_shape { AGENT_SHAPE_K8S, AGENT_SHAPE_FLAT };

enum agent_mem_provider { AGENT_MEM_IN_MEMORY, AGENT_MEM_SQLITE, AGENT_MEM_FILE };

struct agent_model {
	char *provider;			/* "google", "openai", ... */
	char *name;			/* provider's model id */
	double temperature;		/* valid when has_temperature */
	bool has_temperature;
	int64_t max_tokens;		/* 0 = not set */
	struct agent_pos pos;
};

struct agent_memory {
	enum agent_mem_provider provider;	/* in_memory when the file says nothing */
	char *path;			/* sqlite/file: relative path, no "..", as written */
	struct agent_pos pos;
};

struct agent_tool {			/* one corral family and the ops the agent may call */
	char *family;
	char **ops;			/* canonical order of the family table */
	size_t nops;
	char **names;			/* the names in the file that gave this family, in order */
	size_t nnames;
	struct agent_pos pos;		/* the first of them */
};

struct agent_missing {			/* a tool corral does not provide (warn mode) */
	char *name;
	struct agent_pos pos;
};

struct agent_def {
	char *file;			/* as given to agent_load_file() */
	char *api_version;		/* as written; NULL when a flat file has none */
	enum agent_shape shape;
	char *name;
	char *description;		/* NULL when none */
	char **label_keys, **label_values;
	size_t nlabels;
	struct agent_model model;
	char *system_prompt;		/* "" when none; from system_prompt or instructions */
	int max_iterations;		/* default LIM_AGENT_ITER_DEFAULT */
	struct agent_memory memory;
	json_t *config;			/* object: config: and environment:, expanded */
	struct agent_tool *tools;
	size_t ntools;
	struct agent_missing *missing;
	size_t nmissing;
	struct agent_pos pos_name, pos_prompt, pos_tools, pos_max_iterations;
};

struct agent_load_opts {
	bool missing_tools_warn;	/* the supervisor's agents[].missing_tools: warn */
	/* The supervisor config's vars: allow-list (names and values, nvars each). Only these
	 * expand; a name that looks like a credential never does. */
	char *const *var_names;
	char *const *var_values;
	size_t nvars;
};

/* Load and resolve one agent file. Returns 0 with *out set (warnings may be in errs), or
 * ERR_CONFIG (or -errno, e.g. -ENOENT / -ENOMEM) with every problem in errs and *out untouched.
 * opts and errs may be NULL. */
int agent_load_file(const char *path, const struct agent_load_opts *opts, struct agent_def **out,
    struct ydoc_errs *errs);
/* Same from memory; name is used as the file name in messages. */
int agent_load_mem(const char *name, const char *buf, size_t len,
    const struct agent_load_opts *opts, struct agent_def **out, struct ydoc_errs *errs);
void agent_def_free(struct agent_def *def);

/* Resolved definition as JSON (new reference, NULL on ENOMEM): what the supervisor sends in RUN
 * and what `validate -o json` prints:
 * {"name","description","api_version","labels":{},"model":{"provider","name","temperature"?,
 *  "max_tokens"?},"system_prompt","max_iterations","memory":{"provider","path"?},"config":{},
 *  "tools":[{"family","ops":[...],"from":[names in the file]}],
 *  "missing_tools":[{"name","line","col"}]}; "description" is null when the file has none. */
json_t *agent_def_to_json(const struct agent_def *def);

/* The ops granted for family, or NULL when the agent has none of it. */
const struct agent_tool *agent_def_tool(const struct agent_def *def, const char *family);
bool agent_def_allows(const struct agent_def *def, const char *family, const char *op);

const char *agent_mem_provider_name(enum agent_mem_provider p);	/* "in_memory", ... */

/* `corralctl agent validate [--missing-tools warn|error] [--var NAME=VALUE]... FILE [-o json]`.
 * argv[0] is "validate" (the subcommand); offline. Prints the resolved agent to out (text, or
 * JSON {"ok","agent","warnings","errors"} with -o json); errors and warnings go to err as
 * file:line:col lines. Returns the exit status: 0 loaded, 2 not (or a usage error). */
int agent_validate_cli(int argc, char **argv, FILE *out, FILE *err);

#endif
