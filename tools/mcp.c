/* MCP server core: JSON-RPC 2.0 over newline-delimited stdio (see mcp.h, docs/MCP.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/json.h"
#include "ipc/limits.h"
#include "tools/mcp.h"

/* Versions we speak; the first is what we answer a client asking for one we do not know. */
static const char *const versions[] = { MCP_PROTOCOL_LATEST, "2025-03-26", "2024-11-05", NULL };

struct mcp_server {
	struct mcp_backend be;
	bool initialized;
	char version[16];
	char *buf;			/* the line being read (mcp_server_feed) */
	size_t len;
	bool skipping;			/* inside a line over the cap */
};

int
mcp_server_new(const struct mcp_backend *be, struct mcp_server **out)
{
	struct mcp_server *s;

	if (be == NULL || be->list == NULL || be->call == NULL)
		return -EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->be = *be;
	*out = s;
	return 0;
}

void
mcp_server_free(struct mcp_server *srv)
{
	if (srv)
		free(srv->buf);
	free(srv);
}

bool
mcp_server_initialized(const struct mcp_server *srv)
{
	return srv->initialized;
}

const char *
mcp_server_version(const struct mcp_server *srv)
{
	return srv->version;
}

/* ---------------------------------------------------------------- tools */

int
mcp_tool_split(const char *name, char tool[LIM_NAME_MAX], char op[LIM_NAME_MAX])
{
	const char *sep = name ? strstr(name, "__") : NULL;
	size_t tl, ol;

	if (sep == NULL)
		return -EINVAL;
	tl = (size_t)(sep - name);
	ol = strlen(sep + 2);
	if (tl == 0 || ol == 0 || tl >= LIM_NAME_MAX || ol >= LIM_NAME_MAX)
		return -EINVAL;
	memcpy(tool, name, tl);
	tool[tl] = '\0';
	memcpy(op, sep + 2, ol + 1);
	return 0;
}

/* Dry runs ride on the message, not in the arguments: MCP has no such flag, so the schema
 * gets a dry_run property the adapter takes out again. Ops with their own dry_run parameter
 * keep it as an argument. */
static bool
dry_property(const struct tool_op *op)
{
	return (op->flags & TOOL_F_DRY_RUN) && tool_param_find(op, "dry_run") == NULL;
}

json_t *
mcp_tool_json(const struct tool_family *f, const struct tool_op *op)
{
	json_t *schema = tool_op_json_schema(op);
	bool mut = (op->flags & TOOL_F_MUTATING) != 0;
	char name[2 * LIM_NAME_MAX + 2], title[2 * LIM_NAME_MAX + 2], desc[1024];

	if (schema == NULL)
		return NULL;
	if (dry_property(op))
		json_object_set_new(json_object_get(schema, "properties"), "dry_run",
		    json_pack("{s:s, s:s, s:b}", "type", "boolean", "description",
		    "Simulate only: corral runs the call as a dry run", "default", 0));
	snprintf(name, sizeof(name), "%s__%s", f->name, op->name);
	snprintf(title, sizeof(title), "%s.%s", f->name, op->name);
	snprintf(desc, sizeof(desc), "%s (%s%s%s; %s)", op->desc ? op->desc : op->name, f->name,
	    f->desc ? ": " : "", f->desc ? f->desc : "", mut ? "changes remote state" :
	    "read-only");
	return json_pack("{s:s, s:s, s:s, s:o, s:{s:b, s:b, s:b}}", "name", name, "title", title,
	    "description", desc, "inputSchema", schema, "annotations", "readOnlyHint", !mut,
	    "destructiveHint", mut, "idempotentHint", (op->flags & TOOL_F_IDEMPOTENT) != 0);
}

static const struct tool_op *
registry_op(const char *tool, const char *op)
{
	const struct tool_family *f = tool_family_find(tool);

	if (f == NULL || f->kind == TOOL_KIND_AGENT)
		return NULL;
	return tool_op_find(f, op);
}

/* ---------------------------------------------------------------- replies */

static char *
dump(json_t *msg)
{
	char *s = msg ? json_dumps(msg, JSON_COMPACT) : NULL;

	json_decref(msg);
	return s;
}

static char *
reply_result(const json_t *id, json_t *result)
{
	if (result == NULL)
		return NULL;
	return dump(json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result));
}

static char *
reply_error(const json_t *id, int code, const char *message)
{
	json_t *nul = json_null();
	char *s = dump(json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
	    id ? id : nul, "error", "code", code, "message", message));

	json_decref(nul);
	return s;
}

/* ---------------------------------------------------------------- methods */

static json_t *
m_initialize(struct mcp_server *srv, const json_t *params)
{
	const char *want = json_string_value(json_object_get(params, "protocolVersion"));
	const char *v = versions[0];

	for (size_t i = 0; want && versions[i]; i++)
		if (strcmp(want, versions[i]) == 0)
			v = versions[i];
	snprintf(srv->version, sizeof(srv->version), "%s", v);
	srv->initialized = true;
	return json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s}, s:s*}", "protocolVersion", v,
	    "capabilities", "tools", "listChanged", 0, "serverInfo", "name",
	    srv->be.name ? srv->be.name : "corral", "version", CORRAL_VERSION, "instructions",
	    srv->be.instructions);
}

static json_t *
m_tools_list(struct mcp_server *srv, int *code, char *msg, size_t mlen)
{
	json_t *tools = NULL;
	char err[256] = "";
	int r;

	if ((r = srv->be.list(srv->be.arg, &tools, err, sizeof(err))) < 0 || tools == NULL) {
		*code = MCP_INTERNAL_ERROR;
		snprintf(msg, mlen, "cannot list tools: %s", err[0] ? err : err_str(r));
		return NULL;
	}
	return json_pack("{s:o}", "tools", tools);
}

/* The call's result: the answer as text (and as structuredContent when it is an object and
 * the client speaks a version that has it), or a tool error with corral's reason. */
static json_t *
call_result(struct mcp_server *srv, int r, char *text)
{
	json_t *res, *sc = NULL;
	char *t = NULL;

	if (r < 0) {
		if (asprintf(&t, "%s%s%s", err_str(r), text ? ": " : "", text ? text : "") < 0)
			t = NULL;
	} else if (strcmp(srv->version, "2025-06-18") == 0 &&
	    (sc = json_loads(text, 0, NULL)) != NULL && !json_is_object(sc)) {
		json_decref(sc);
		sc = NULL;
	}
	res = json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text",
	    r < 0 ? (t ? t : err_str(r)) : text, "isError", r < 0);
	if (res && sc)
		json_object_set_new(res, "structuredContent", sc);
	else
		json_decref(sc);
	free(t);
	return res;
}

static json_t *
m_tools_call(struct mcp_server *srv, const json_t *params, int *code, char *msg, size_t mlen)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *args = json_object_get(params, "arguments"), *a, *dv;
	const struct tool_op *op;
	char tool[LIM_NAME_MAX], opn[LIM_NAME_MAX], *text = NULL;
	bool dry = false, known;
	int r;

	*code = MCP_INVALID_PARAMS;
	if (name == NULL || mcp_tool_split(name, tool, opn) < 0) {
		snprintf(msg, mlen, "Unknown tool: %s", name ? name : "(no name)");
		return NULL;
	}
	op = registry_op(tool, opn);
	known = srv->be.has ? srv->be.has(srv->be.arg, tool, opn) : op != NULL;
	if (!known) {
		snprintf(msg, mlen, "Unknown tool: %s", name);
		return NULL;
	}
	if (args != NULL && !json_is_object(args)) {
		snprintf(msg, mlen, "arguments must be an object");
		return NULL;
	}
	if ((a = args ? json_copy(args) : json_object()) == NULL) {
		*code = MCP_INTERNAL_ERROR;
		snprintf(msg, mlen, "out of memory");
		return NULL;
	}
	if (op && dry_property(op) && (dv = json_object_get(a, "dry_run")) != NULL) {
		if (!json_is_boolean(dv)) {
			json_decref(a);
			snprintf(msg, mlen, "dry_run must be a boolean");
			return NULL;
		}
		dry = json_is_true(dv);
		json_object_del(a, "dry_run");
	}
	r = srv->be.call(srv->be.arg, tool, opn, a, dry, &text);
	json_decref(a);
	if (r == 0 && text == NULL)
		r = ERR_WORKER;
	a = call_result(srv, r, text);
	free(text);
	if (a == NULL) {
		*code = MCP_INTERNAL_ERROR;
		snprintf(msg, mlen, "out of memory");
	}
	return a;
}

static char *
request(struct mcp_server *srv, const char *method, const json_t *id, const json_t *params)
{
	char msg[512];
	int code = MCP_INTERNAL_ERROR;
	json_t *res;

	if (strcmp(method, "initialize") == 0)
		res = m_initialize(srv, params);
	else if (strcmp(method, "ping") == 0)
		res = json_object();
	else if (strcmp(method, "tools/list") == 0)
		res = m_tools_list(srv, &code, msg, sizeof(msg));
	else if (strcmp(method, "tools/call") == 0)
		res = m_tools_call(srv, params, &code, msg, sizeof(msg));
	else {
		snprintf(msg, sizeof(msg), "Method not found: %.200s", method);
		return reply_error(id, MCP_METHOD_NOT_FOUND, msg);
	}
	if (res == NULL)
		return reply_error(id, code, code == MCP_INTERNAL_ERROR && !msg[0] ? "internal error" :
		    msg);
	return reply_result(id, res);
}

static bool
blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

int
mcp_server_handle(struct mcp_server *srv, const char *line, size_t len, char **reply)
{
	json_t *req = NULL, *id, *params;
	const char *method;
	char err[160], msg[256];

	*reply = NULL;
	if (blank(line, len))
		return 0;
	if (ipc_json_parse(line, len, LIM_MCP_LINE_MAX, &req, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "Parse error: %s", err);
		*reply = reply_error(NULL, MCP_PARSE_ERROR, msg);
		return *reply ? 0 : -ENOMEM;
	}
	id = json_object_get(req, "id");
	if (id && !json_is_string(id) && !json_is_integer(id))
		id = NULL;	/* MCP ids are strings or integers; answer such a request with null */
	method = json_string_value(json_object_get(req, "method"));
	params = json_object_get(req, "params");
	if (!json_is_object(req)) {
		*reply = reply_error(NULL, MCP_INVALID_REQUEST, json_is_array(req) ?
		    "Invalid Request: batches are not supported" : "Invalid Request");
	} else if (method == NULL && (json_object_get(req, "result") ||
	    json_object_get(req, "error"))) {
		;	/* a response: we send no requests, so there is nothing to match it to */
	} else if (method == NULL || !json_is_string(json_object_get(req, "jsonrpc")) ||
	    strcmp(json_string_value(json_object_get(req, "jsonrpc")), "2.0") != 0 ||
	    (json_object_get(req, "id") && id == NULL)) {
		*reply = reply_error(id, MCP_INVALID_REQUEST, "Invalid Request");
	} else if (params != NULL && !json_is_object(params)) {
		if (id)
			*reply = reply_error(id, MCP_INVALID_PARAMS, "params must be an object");
	} else if (id == NULL) {
		;	/* notifications (initialized, cancelled, ...): nothing to answer */
	} else {
		*reply = request(srv, method, id, params);
		if (*reply == NULL)
			*reply = reply_error(id, MCP_INTERNAL_ERROR, "out of memory");
	}
	json_decref(req);
	return 0;
}

/* ---------------------------------------------------------------- stdio */

static int
write_line(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;

	while (off <= len) {
		const char *p = off < len ? s + off : "\n";
		size_t n = off < len ? len - off : 1;
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (size_t)w;
	}
	return 0;
}

static int
answer(struct mcp_server *srv, int out_fd, const char *line, size_t len)
{
	char *reply = NULL;
	int r;

	if ((r = mcp_server_handle(srv, line, len, &reply)) < 0)
		return r;
	r = reply ? write_line(out_fd, reply) : 0;
	free(reply);
	return r;
}

static int
too_long(int out_fd)
{
	char msg[96], *reply;
	int r;

	snprintf(msg, sizeof(msg), "Parse error: message larger than %u bytes",
	    (unsigned)LIM_MCP_LINE_MAX);
	if ((reply = reply_error(NULL, MCP_PARSE_ERROR, msg)) == NULL)
		return -ENOMEM;
	r = write_line(out_fd, reply);
	free(reply);
	return r;
}

int
mcp_server_feed(struct mcp_server *srv, const char *data, size_t n, int out_fd)
{
	const size_t cap = LIM_MCP_LINE_MAX + 1;
	int r = 0;

	if (srv->buf == NULL && (srv->buf = malloc(cap)) == NULL)
		return -ENOMEM;
	while (r == 0 && n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;

		if (!srv->skipping && srv->len + take >= cap) {
			srv->skipping = true;	/* over the cap: drop it, answer at its end */
			srv->len = 0;
		}
		if (!srv->skipping) {
			memcpy(srv->buf + srv->len, data, take);
			srv->len += take;
		}
		if (nl == NULL)
			break;
		r = srv->skipping ? too_long(out_fd) : answer(srv, out_fd, srv->buf, srv->len);
		srv->skipping = false;
		srv->len = 0;
		data = nl + 1;
		n -= take + 1;
	}
	return r;
}

int
mcp_server_finish(struct mcp_server *srv, int out_fd)
{
	int r = srv->len && !srv->skipping ? answer(srv, out_fd, srv->buf, srv->len) : 0;

	srv->len = 0;
	srv->skipping = false;
	return r;
}

int
mcp_server_run(struct mcp_server *srv, int in_fd, int out_fd)
{
	char chunk[65536];
	ssize_t n;
	int r = 0;

	while (r == 0) {
		if ((n = read(in_fd, chunk, sizeof(chunk))) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : mcp_server_finish(srv, out_fd);
		r = mcp_server_feed(srv, chunk, (size_t)n, out_fd);
	}
	return r;
}
