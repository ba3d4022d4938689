/* aofmap — the tool names an agent file may use, and what they mean in corral.
 *
 * corral's tool families and their operations are listed here as plain names (the schemas live
 * in tools/, which the loader does not link: an agent file is checked against names only, and
 * the supervisor validates every call against the schemas later). AOF agent files name tools
 * either by family ("argocd") or by AOF's per-operation names ("argocd_app_get"); the second
 * table maps each AOF name that has a corral equivalent onto a family and its ops. Every
 * decision is explained in docs/AGENTS.md. A name in neither table is "not provided by corral".
 */
#ifndef CORRAL_AGENTS_AOFMAP_H
#define CORRAL_AGENTS_AOFMAP_H

#include <stdbool.h>
#include <stddef.h>

struct agent_fam {
	const char *name;		/* "argocd", "github_actions", ... */
	const char *const *ops;		/* NULL-terminated, in canonical order */
	bool test_only;			/* echo: for tests and demos */
};

struct agent_aof {
	const char *name;		/* AOF tool name, e.g. "argocd_app_history" */
	const char *family;		/* corral family */
	const char *const *ops;		/* NULL-terminated corral ops it stands for */
	const char *why;		/* one line, for docs and `validate` output */
};

/* The family table, and lookups (NULL when unknown). */
const struct agent_fam *agent_fams(size_t *n);
const struct agent_fam *agent_fam_find(const char *name);
/* Index of op in f->ops, or -1. */
int agent_fam_op_index(const struct agent_fam *f, const char *op);
size_t agent_fam_nops(const struct agent_fam *f);

/* The AOF name table, and lookup (NULL when AOF's name has no corral equivalent). */
const struct agent_aof *agent_aofs(size_t *n);
const struct agent_aof *agent_aof_find(const char *name);

#endif
