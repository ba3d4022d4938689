/* The table of every tool family corral knows. Adding a family: one extern, one entry. */
#include <string.h>

#include "tools/tool.h"

extern const struct tool_family tool_fam_echo;
extern const struct tool_family tool_fam_argocd;
extern const struct tool_family tool_fam_prometheus;
extern const struct tool_family tool_fam_github_actions;
extern const struct tool_family tool_fam_gitlab_ci;
extern const struct tool_family tool_fam_jenkins;
extern const struct tool_family tool_fam_flux;
extern const struct tool_family tool_fam_model;

static const struct tool_family *const families[] = {
	&tool_fam_echo,
	&tool_fam_argocd,
	&tool_fam_prometheus,
	&tool_fam_github_actions,
	&tool_fam_gitlab_ci,
	&tool_fam_jenkins,
	&tool_fam_flux,
	&tool_fam_model,
};

const struct tool_family *const *
tool_families(size_t *n)
{
	*n = sizeof(families) / sizeof(families[0]);
	return families;
}

const struct tool_family *
tool_family_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (strcmp(families[i]->name, name) == 0)
			return families[i];
	return NULL;
}

const struct tool_op *
tool_op_find(const struct tool_family *f, const char *name)
{
	if (f == NULL || name == NULL)
		return NULL;
	for (const struct tool_op *op = f->ops; op->name != NULL; op++)
		if (strcmp(op->name, name) == 0)
			return op;
	return NULL;
}

const struct tool_param *
tool_param_find(const struct tool_op *op, const char *name)
{
	if (op == NULL || name == NULL || op->params == NULL)
		return NULL;
	for (const struct tool_param *p = op->params; p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static const char *const kind_names[TOOL_KIND_MAX] = { "http", "exec", "model", "agent" };

const char *
tool_kind_name(enum tool_kind k)
{
	return (unsigned)k < TOOL_KIND_MAX ? kind_names[k] : "?";
}

int
tool_kind_parse(const char *s, enum tool_kind *out)
{
	for (unsigned i = 0; i < TOOL_KIND_MAX; i++)
		if (s != NULL && strcmp(s, kind_names[i]) == 0) {
			*out = (enum tool_kind)i;
			return 0;
		}
	return -22;	/* -EINVAL */
}
