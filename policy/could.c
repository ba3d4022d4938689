/* Could a principal ever be allowed a (tool, op)? For tool listings (the MCP adapter's
 * tools/list): which tools are worth showing to a caller. See policy.h, pol_could_allow(). */
#include <string.h>

#include "policy/pol_int.h"

static bool
who_matches(const struct pol_rule *r, int tenant, const char *principal, size_t plen)
{
	if (r->tenant >= 0 && r->tenant != tenant)
		return false;
	for (size_t i = 0; i < r->nprincipals; i++)
		if (pol_glob_match(&r->principals[i], principal, plen))
			return true;
	return false;
}

bool
pol_could_allow(const struct pol_set *ps, const char *tenant, const char *principal,
    const char *tool, const char *op)
{
	const struct pol_pair *pair;
	size_t plen;
	int t;

	if (ps == NULL || principal == NULL || tool == NULL || op == NULL ||
	    (pair = pol_pair_find(ps, tool, op)) == NULL)
		return false;
	t = pol_tenant_find(ps, tenant);
	plen = strlen(principal);
	/* A deny without where and when refuses every call of the pair: nothing to show. */
	for (size_t i = 0; i < pair->ndeny; i++) {
		const struct pol_rule *r = &ps->rules[pair->deny[i].rule];

		if (r->nwhere == 0 && !r->has_when && who_matches(r, t, principal, plen))
			return false;
	}
	for (size_t i = 0; i < pair->nallow; i++) {
		const struct pol_rule *r = &ps->rules[pair->allow[i].rule];

		/* A dry-run-only allow of an op without dry runs never allows anything. */
		if (r->dry_run_only && !(pair->op->flags & TOOL_F_DRY_RUN))
			continue;
		if (who_matches(r, t, principal, plen))
			return true;
	}
	return false;
}
