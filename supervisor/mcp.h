/* corralctl mcp: corral's tools for an MCP client (an IDE agent, an agent framework) over the
 * stdio transport. Each tools/call is a call through corrald on the control socket: validated,
 * decided, injected and audited there, as the operator the socket's peer uid makes us.
 * See docs/MCP.md. */
#ifndef CORRAL_SUPERVISOR_MCP_H
#define CORRAL_SUPERVISOR_MCP_H

#include <stdio.h>

/* Serve MCP on in/out until EOF. principal must be what corrald says we are (corral's
 * policy_tools answer, from the peer uid): the flag names the identity the client expects and
 * is refused when it differs, it never chooses one. tenant: an admin's choice of tenant (NULL:
 * the operator's own, or the first). Problems go to stderr. Returns the exit status: 0 at EOF,
 * 1 when corrald cannot be reached or the client left mid-answer, 3 when the identity is
 * refused. */
int mcp_main(const char *sock_path, const char *principal, const char *tenant, FILE *in,
    FILE *out);

#endif
