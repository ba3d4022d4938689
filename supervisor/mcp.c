/* corralctl mcp (see mcp.h): the MCP server core (tools/mcp.h) with the control socket as its
 * backend. corrald lists (corral.policy_tools) and decides; nothing here is trusted for
 * identity or permission. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/ctlclient.h"
#include "supervisor/mcp.h"
#include "tools/mcp.h"

struct mcp_ctl {
	const char *sock;
	const char *tenant;		/* the --tenant of an admin, or NULL */
	char principal[160];
	char instructions[512];
};

/* corral.policy_tools: who corrald says we are, and what we could be allowed. */
static int
policy_tools(const struct mcp_ctl *m, json_t **out, char *err, size_t errlen)
{
	json_t *a = json_pack("{s:s*}", "tenant", m->tenant);
	char *args = a ? json_dumps(a, JSON_COMPACT) : NULL, *res = NULL, *et = NULL;
	int r;

	json_decref(a);
	if (args == NULL)
		return -ENOMEM;
	r = ctl_request(m->sock, "corral", "policy_tools", args, false, NULL, NULL, &res, &et);
	free(args);
	if (r == 0 && (*out = json_loads(res, 0, NULL)) == NULL)
		r = ERR_PROTO;
	if (r < 0)
		snprintf(err, errlen, "%s%s%s", err_str(r), et ? ": " : "", et ? et : "");
	free(res);
	free(et);
	return r;
}

static int
be_list(void *arg, json_t **tools, char *err, size_t errlen)
{
	struct mcp_ctl *m = arg;
	json_t *pt = NULL, *e;
	size_t i;
	int r;

	if ((r = policy_tools(m, &pt, err, errlen)) < 0)
		return r;
	*tools = json_array();
	json_array_foreach(json_object_get(pt, "tools"), i, e) {
		const struct tool_family *f = tool_family_find(json_string_value(json_object_get(e,
		    "tool")));
		const struct tool_op *op = tool_op_find(f, json_string_value(json_object_get(e,
		    "op")));

		/* corrald may know a family this corralctl does not: it cannot describe it. */
		if (op != NULL && *tools != NULL)
			json_array_append_new(*tools, mcp_tool_json(f, op));
	}
	json_decref(pt);
	return *tools ? 0 : -ENOMEM;
}

static int
be_call(void *arg, const char *tool, const char *op, json_t *args, bool dry, char **text)
{
	struct mcp_ctl *m = arg;
	char name[2 * LIM_NAME_MAX + 2], *a = json_dumps(args, JSON_COMPACT), *res = NULL,
	    *et = NULL;
	int r;

	*text = NULL;
	if (a == NULL)
		return -ENOMEM;
	snprintf(name, sizeof(name), "%s%s%s", tool, m->tenant ? "@" : "",
	    m->tenant ? m->tenant : "");
	r = ctl_request(m->sock, name, op, a, dry, NULL, NULL, &res, &et);
	free(a);
	*text = r == 0 ? res : et;
	free(r == 0 ? et : res);
	return r;
}

/* The identity check: corrald's word (peer uid) against the flag. */
static int
whoami(struct mcp_ctl *m, const char *principal)
{
	json_t *pt = NULL;
	const char *p, *role, *tenant;
	char err[512];
	int r;

	if ((r = policy_tools(m, &pt, err, sizeof(err))) < 0) {
		bool hung_up = r == ERR_CLOSED || r == -EPIPE || r == -ECONNRESET;

		fprintf(stderr, "corralctl mcp: %s: %s\n", hung_up ? "refused: corrald closed the "
		    "control connection (this user has no role there)" :
		    "cannot ask corrald who we are", err);
		return hung_up || r == ERR_DENIED ? 3 : 1;
	}
	p = json_string_value(json_object_get(pt, "principal"));
	role = json_string_value(json_object_get(pt, "role"));
	tenant = json_string_value(json_object_get(pt, "tenant"));
	r = 0;
	if (p == NULL || strcmp(p, principal) != 0) {
		fprintf(stderr, "corralctl mcp: refused: the control socket knows this user as %s, "
		    "not %s\n", p ? p : "(nobody)", principal);
		r = 3;
	} else if (role && strcmp(role, "viewer") == 0) {
		fprintf(stderr, "corralctl mcp: refused: %s is a viewer and cannot make calls\n", p);
		r = 3;
	} else {
		snprintf(m->principal, sizeof(m->principal), "%s", p);
		snprintf(m->instructions, sizeof(m->instructions), "corral tools as %s in tenant "
		    "%s. corrald validates, decides by policy and audits every call; a refused call "
		    "comes back as a tool error with its reason (an approval it waits for included).",
		    p, tenant ? tenant : "(none)");
	}
	json_decref(pt);
	return r;
}

int
mcp_main(const char *sock_path, const char *principal, const char *tenant, FILE *in, FILE *out)
{
	struct mcp_ctl m = { .sock = sock_path, .tenant = tenant };
	struct mcp_backend be = { .arg = &m, .list = be_list, .call = be_call, .name = "corral" };
	struct mcp_server *srv = NULL;
	int r;

	if (principal == NULL) {
		fprintf(stderr, "corralctl mcp: --principal operator:NAME is required\n");
		return 2;
	}
	/* corrald hanging up on a peer without a role, or a client that leaves: EPIPE, not a
	 * silent death */
	signal(SIGPIPE, SIG_IGN);
	if ((r = whoami(&m, principal)) != 0)
		return r;
	be.instructions = m.instructions;
	if ((r = mcp_server_new(&be, &srv)) < 0)
		return 1;
	fflush(out);
	r = mcp_server_run(srv, fileno(in), fileno(out));
	mcp_server_free(srv);
	if (r < 0) {
		fprintf(stderr, "corralctl mcp: %s\n", err_str(r));
		return 1;
	}
	return 0;
}
