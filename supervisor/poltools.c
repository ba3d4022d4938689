/* corral.policy_tools (see poltools.h). A listing only: every call is still validated,
 * decided, audited by the router whatever was listed. */
#include <string.h>

#include "policy/policy.h"
#include "supervisor/poltools.h"
#include "supervisor/router_int.h"
#include "supervisor/sup.h"

/* The model gateway decides by configuration, not by policy: an agent with a model. */
static bool
model_usable(struct sup *s, const char *tenant, const char *principal)
{
	return tenant != NULL && strncmp(principal, "agent:", 6) == 0 &&
	    sup_agent_model(s, principal + 6, tenant) != NULL;
}

static bool
could(struct sup *s, const char *tenant, const char *principal, bool admin,
    const struct tool_family *f, const struct tool_op *op)
{
	if (strcmp(f->name, "model") == 0)
		return model_usable(s, tenant, principal);
	if (s->policy == NULL)
		return admin;
	return pol_could_allow(s->policy, tenant, principal, f->name, op->name);
}

json_t *
sup_policy_tools(struct sup *s, const char *tenant, const char *principal, bool admin)
{
	size_t n;
	const struct tool_family *const *fams = tool_families(&n);
	json_t *tools = json_array();

	for (size_t i = 0; tools && i < n; i++) {
		const struct tool_family *f = fams[i];

		if (f->kind == TOOL_KIND_AGENT || tenant == NULL ||
		    worker_for(s, f->name, s->cfg->shared_isolation ? "shared" : tenant) == NULL)
			continue;
		for (const struct tool_op *op = f->ops; op->name; op++)
			if (could(s, tenant, principal, admin, f, op))
				json_array_append_new(tools, json_pack("{s:s, s:s}", "tool", f->name,
				    "op", op->name));
	}
	return json_pack("{s:s, s:s?, s:s?, s:o*}", "principal", principal, "tenant", tenant,
	    "policy", s->policy ? pol_set_hash(s->policy) : NULL, "tools", tools);
}
