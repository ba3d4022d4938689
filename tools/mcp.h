/* The Model Context Protocol face of the tool schemas: an MCP server core over the stdio
 * transport (newline-delimited JSON-RPC 2.0; docs/MCP.md) for `corralctl mcp` and for the
 * MCP bridge of external agent programs.
 *
 * The core knows the protocol (initialize and version negotiation, ping, tools/list,
 * tools/call, notifications, JSON-RPC errors) and the naming of tools (FAMILY__OP, the op's
 * JSON Schema as inputSchema). What tools exist for the caller and what a call does is the
 * backend's: in corral both ask corrald, which validates, decides, injects and audits every
 * call. A call corral refuses (denied, schema, pending approval, timeout...) is an MCP tool
 * error (result.isError), not a JSON-RPC error: the model sees the reason. Unknown methods
 * are -32601, malformed JSON -32700, a malformed request -32600, unknown tools and
 * non-object arguments -32602.
 *
 * No global state; no I/O but in mcp_server_run().
 */
#ifndef CORRAL_TOOLS_MCP_H
#define CORRAL_TOOLS_MCP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ipc/limits.h"
#include "tools/tool.h"

#define MCP_PROTOCOL_LATEST	"2025-06-18"

/* JSON-RPC 2.0 error codes */
#define MCP_PARSE_ERROR		(-32700)
#define MCP_INVALID_REQUEST	(-32600)
#define MCP_METHOD_NOT_FOUND	(-32601)
#define MCP_INVALID_PARAMS	(-32602)
#define MCP_INTERNAL_ERROR	(-32603)

struct mcp_backend {
	void *arg;
	/* tools/list: *tools gets a new JSON array of MCP tool objects (mcp_tool_json()).
	 * 0, or an error code (a JSON-RPC internal error with err's text). */
	int (*list)(void *arg, json_t **tools, char *err, size_t errlen);
	/* tools/call of tool.op (names split at the first "__"; args a JSON object, a "dry_run"
	 * the op's schema does not name already split off into dry). 0 with *text the result (JSON
	 * text), or an error code (ERR_DENIED, ERR_SCHEMA, ERR_PENDING, -errno...) with *text the
	 * reason or NULL: a tool error. *text is malloc'd. */
	int (*call)(void *arg, const char *tool, const char *op, json_t *args, bool dry,
	    char **text);
	/* Optional: does the backend answer tool.op? NULL: the ops of the registry's families
	 * (agents' kind excluded). Others are unknown tools (-32602). */
	bool (*has)(void *arg, const char *tool, const char *op);
	const char *name;		/* serverInfo.name */
	const char *instructions;	/* initialize's instructions, or NULL */
};

struct mcp_server;

int mcp_server_new(const struct mcp_backend *be, struct mcp_server **out);
void mcp_server_free(struct mcp_server *srv);	/* NULL-safe */

/* One message (a line without its newline). *reply gets the line to send back (malloc'd,
 * without newline, never containing one), or NULL when there is nothing to answer
 * (notifications, responses, empty lines). 0 or -ENOMEM. */
int mcp_server_handle(struct mcp_server *srv, const char *line, size_t len, char **reply);

/* Serve in_fd -> out_fd until EOF on in_fd: 0, or -errno (write failed: the client left).
 * A line over LIM_MCP_LINE_MAX is skipped and answered with a parse error. */
int mcp_server_run(struct mcp_server *srv, int in_fd, int out_fd);
/* The same for callers with their own loop: bytes as they come (answers written to out_fd as
 * lines complete), then, at EOF, finish (a last line without its newline). */
int mcp_server_feed(struct mcp_server *srv, const char *data, size_t n, int out_fd);
int mcp_server_finish(struct mcp_server *srv, int out_fd);

/* Has the client sent initialize? (for tests and logs) */
bool mcp_server_initialized(const struct mcp_server *srv);
/* The protocol version agreed at initialize ("" before). */
const char *mcp_server_version(const struct mcp_server *srv);

/* The MCP tool object of an op: {name: "FAMILY__OP", title, description, inputSchema (the
 * op's JSON Schema, plus a boolean dry_run for ops that honour dry runs and have no such
 * parameter), annotations {readOnlyHint, destructiveHint, idempotentHint}}. New reference. */
json_t *mcp_tool_json(const struct tool_family *f, const struct tool_op *op);

/* Split "FAMILY__OP" at the first "__" into tool and op. 0, or -EINVAL (no separator, an
 * empty part, a part too long). */
int mcp_tool_split(const char *name, char tool[LIM_NAME_MAX], char op[LIM_NAME_MAX]);

#endif
