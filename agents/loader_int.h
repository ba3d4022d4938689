/* Private to agents/loader.c and agents/resolve.c: the loading state and its reporting helpers.
 * Every helper that reports an error counts it in l->bad, so the load fails even when the
 * caller's error list is full (ydoc stops recording after LIM_CONFIG_ERRORS_MAX). */
#ifndef CORRAL_AGENTS_LOADER_INT_H
#define CORRAL_AGENTS_LOADER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "agents/loader.h"
#include "ipc/ydoc.h"

struct agent_ld {
	struct ydoc *d;
	struct ydoc_errs *e;
	const struct agent_load_opts *o;
	struct agent_def *def;
	size_t bad;			/* errors reported by this load */
	int sys;			/* first system error (-ENOMEM) */
	const char *section;		/* "config" or "environment" while expanding */
};

void agent_ld_err(struct agent_ld *l, const struct ydoc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void agent_ld_warn(struct agent_ld *l, const struct ydoc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
char *agent_ld_dup(struct agent_ld *l, const char *s);	/* NULL and l->sys set on ENOMEM */
struct agent_pos agent_ld_pos(const struct ydoc_node *n);
/* Scalar text of n, or NULL (reported): a missing, null or non-scalar value is refused. */
const char *agent_ld_str(struct agent_ld *l, const struct ydoc_node *n, const char *what);
bool agent_ld_want(struct agent_ld *l, const struct ydoc_node *n, enum ydoc_type t);
void agent_ld_keys(struct agent_ld *l, const struct ydoc_node *m, const char *const *allowed);

/* resolve.c */
void agent_ld_config(struct agent_ld *l, const struct ydoc_node *m, const char *section);
void agent_ld_tools(struct agent_ld *l, const struct ydoc_node *spec);

#endif
