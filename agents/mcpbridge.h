/* The MCP bridge of external agent programs (`agents: - {exec: PATH, protocol: mcp}`).
 *
 * corrald starts `corral-jail --worker --profile agent --exec-slot PATH -- corral-agent
 * --socket /ipc/sock --mcp-bridge -- PATH`. Inside that one jail the bridge (PID 1) forks the
 * program with its stdin/stdout on two pipes, confines it further (its own Landlock layer:
 * write only the state dir, no TCP; the jail-agent-bridged seccomp allow-list) and, once
 * corrald has verified and welcomed the bridge, lets it exec from the jail's exec slot. The
 * program is an MCP client: tools/list shows the tools policy could allow to agent:NAME, and
 * tools/call goes to corrald as a CALL from this agent worker — validated, decided, injected,
 * audited there. Three bridge tools carry runs (corralctl run NAME INPUT): corral__next_run,
 * corral__finish_run, corral__run_event. See docs/MCP.md for the trust reasoning.
 */
#ifndef CORRAL_AGENTS_MCPBRIDGE_H
#define CORRAL_AGENTS_MCPBRIDGE_H

/* argv: the program's argv (argv[0] its name); it is exec'd from FD_EXEC_SLOT + 1. Returns
 * the exit status: the program's (128 + signal when it was killed), 0 after SHUTDOWN, 1 when
 * the bridge could not start. */
int mcpbridge_main(const char *sock, const char *state_dir, char *const *argv);

#endif
