/* corral.policy_tools: the tools a caller could be allowed, for tool listings (the MCP
 * adapter's tools/list, external MCP agents). Asked on the control socket (identity from the
 * peer uid) and by agents on their own socket (identity: the worker). */
#ifndef CORRAL_SUPERVISOR_POLTOOLS_H
#define CORRAL_SUPERVISOR_POLTOOLS_H

#include <stdbool.h>

#include <jansson.h>

struct sup;

/* {"principal", "tenant", "policy": hash or null, "tools": [{"tool", "op"}...]} (new
 * reference): every op of a family that has a worker in the tenant and that the loaded policy
 * could allow to principal (pol_could_allow); without a policy, every op for an admin and none
 * for anyone else (the supervisor's builtin rule); the model gateway's ops for an agent with a
 * configured model. */
json_t *sup_policy_tools(struct sup *s, const char *tenant, const char *principal, bool admin);

#endif
