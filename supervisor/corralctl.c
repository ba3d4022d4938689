/* corralctl: the operator's tool. Online commands talk to corrald over its control socket;
 * offline ones (tools, policy, agent, canary, audit) need no running supervisor. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agents/loader.h"
#include "policy/polcli.h"
#include "supervisor/auditcli.h"
#include "tools/canary.h"
#include "tools/canary_json.h"
#include "ipc/err.h"
#include "ipc/json.h"
#include "ipc/limits.h"
#include "ipc/msg.h"
#include "supervisor/ctlclient.h"
#include "supervisor/mcp.h"
#include "tools/tool.h"

#define DEFAULT_SOCKET "/run/corral/ctl.sock"

const char *sock_path;
static bool out_json;

static void
print_event(void *arg, const char *text)
{
	fprintf(stderr, "... %s\n", text);
}

static int
report(int r, char *result, char *errtext, const char *what)
{
	if (r == 0) {
		json_t *j = json_loads(result, JSON_DECODE_ANY, NULL);

		if (j) {
			char *pretty = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);

			printf("%s\n", pretty ? pretty : result);
			free(pretty);
			json_decref(j);
		} else {
			printf("%s\n", result);
		}
	} else if (out_json) {
		json_t *e = json_pack("{s:s, s:s, s:s?}", "error", err_name(r), "message",
		    err_str(r), "detail", errtext);

		json_dumpf(e, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(e);
	} else {
		fprintf(stderr, "corralctl: %s: %s%s%s\n", what, err_str(r), errtext ? ": " : "",
		    errtext ? errtext : "");
	}
	free(result);
	free(errtext);
	if (r == 0)
		return 0;
	return r == ERR_DENIED || r == ERR_PENDING ? 3 : 1;
}

/* ---------------------------------------------------------------- commands */

static int
cmd_status(int argc, char **argv)
{
	char *res, *et;
	int r = ctl_request(sock_path, "corral", "status", "{}", false, print_event, NULL, &res, &et);
	json_t *j, *ws, *w;
	size_t i;

	if (r < 0 || out_json)
		return report(r, res, et, "status");
	if ((j = json_loads(res, 0, NULL)) == NULL)
		return report(ERR_PROTO, res, et, "status");
	printf("corrald %s  pid %lld  up %llds  calls %lld  denied %lld  in flight %lld  "
	    "policy %s  audit %s  uid %lld  jails by %s\n",
	    json_string_value(json_object_get(j, "version")),
	    json_integer_value(json_object_get(j, "pid")),
	    json_integer_value(json_object_get(j, "uptime_ms")) / 1000,
	    json_integer_value(json_object_get(j, "calls")),
	    json_integer_value(json_object_get(j, "denied")),
	    json_integer_value(json_object_get(j, "inflight")),
	    json_is_true(json_object_get(j, "policy")) ? "loaded" : "none",
	    json_is_true(json_object_get(j, "audit")) ? "on" : "off",
	    json_integer_value(json_object_get(j, "uid")),
	    json_string_value(json_object_get(j, "jails")) ?
	    json_string_value(json_object_get(j, "jails")) : "?");
	printf("%-32s %-6s %-12s %-8s %-11s %-8s %-8s %s\n", "WORKER", "KIND", "TENANT", "PID",
	    "STATE", "RESTARTS", "UPTIME", "CONFINEMENT");
	ws = json_object_get(j, "workers");
	json_array_foreach(ws, i, w) {
		json_t *c = json_object_get(w, "confinement");
		char conf[160];

		snprintf(conf, sizeof(conf), "%s seccomp=%s netns=%s landlock=%lld uid=%lld%s%s",
		    json_is_true(json_object_get(c, "verified")) ? "verified" : "unverified",
		    json_is_true(json_object_get(c, "seccomp")) ? "on" : "off",
		    json_is_true(json_object_get(c, "netns")) ? "empty" : "host",
		    json_integer_value(json_object_get(c, "landlock_abi")),
		    json_integer_value(json_object_get(c, "uid")),
		    json_object_get(w, "last_reason") ? "  last: " : "",
		    json_object_get(w, "last_reason") ?
		    json_string_value(json_object_get(w, "last_reason")) : "");
		printf("%-32s %-6s %-12s %-8lld %-11s %-8lld %-8lld %s\n",
		    json_string_value(json_object_get(w, "name")),
		    json_string_value(json_object_get(w, "kind")),
		    json_string_value(json_object_get(w, "tenant")),
		    json_integer_value(json_object_get(w, "pid")),
		    json_string_value(json_object_get(w, "state")),
		    json_integer_value(json_object_get(w, "restarts")),
		    json_integer_value(json_object_get(w, "uptime_ms")) / 1000, conf);
		if (json_object_get(c, "exec_reported"))
			printf("%-32s   exec: %s\n", "",
			    json_string_value(json_object_get(c, "exec_reported")));
	}
	json_decref(j);
	free(res);
	free(et);
	return 0;
}

static int
cmd_call(int argc, char **argv)
{
	const char *args = "{}", *tenant = NULL;
	char tool[256], *res, *et;
	bool dry = false;
	int i, r, wait_s = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: corralctl call FAMILY OP [--args JSON] [--tenant T] "
		    "[--dry-run] [--wait SECONDS] [-o json]\n");
		return 2;
	}
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--args") == 0 && i + 1 < argc)
			args = argv[++i];
		else if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc)
			tenant = argv[++i];
		else if (strcmp(argv[i], "--dry-run") == 0)
			dry = true;
		else if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc)
			wait_s = atoi(argv[++i]);
		else {
			fprintf(stderr, "corralctl call: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	snprintf(tool, sizeof(tool), "%s%s%s", argv[1], tenant ? "@" : "", tenant ? tenant : "");
	r = ctl_request(sock_path, tool, argv[2], args, dry, print_event, NULL, &res, &et);
	/* Pending: the same call is asked again until it is decided or --wait runs out. */
	for (int waited = 0; r == ERR_PENDING && waited < wait_s; waited++) {
		if (waited == 0)
			fprintf(stderr, "corralctl: %s\n", et ? et : "pending approval");
		free(res);
		free(et);
		sleep(1);
		r = ctl_request(sock_path, tool, argv[2], args, dry, print_event, NULL, &res, &et);
	}
	return report(r, res, et, "call");
}

static int
cmd_approvals(int argc, char **argv)
{
	bool pending = false;
	char *res, *et;
	json_t *j, *a;
	size_t i;
	int r;

	for (int k = 1; k < argc; k++)
		if (strcmp(argv[k], "--pending") == 0)
			pending = true;
	r = ctl_request(sock_path, "corral", "approvals", pending ? "{\"pending\":true}" : "{}",
	    false, print_event, NULL, &res, &et);
	if (r < 0 || out_json)
		return report(r, res, et, "approvals");
	if ((j = json_loads(res, 0, NULL)) == NULL)
		return report(ERR_PROTO, res, et, "approvals");
	printf("%-16s %-10s %-12s %-28s %-34s %s\n", "ID", "STATE", "TENANT", "PRINCIPAL",
	    "CALL", "VOTES");
	json_array_foreach(j, i, a) {
		char call[80];

		snprintf(call, sizeof(call), "%s.%s", json_string_value(json_object_get(a, "tool")),
		    json_string_value(json_object_get(a, "op")));
		printf("%-16.16s %-10s %-12s %-28s %-34s %zu/%lld\n",
		    json_string_value(json_object_get(a, "id")),
		    json_string_value(json_object_get(a, "state")),
		    json_string_value(json_object_get(a, "tenant")),
		    json_string_value(json_object_get(a, "principal")), call,
		    json_array_size(json_object_get(a, "votes")),
		    json_integer_value(json_object_get(a, "quorum")));
	}
	json_decref(j);
	free(res);
	free(et);
	return 0;
}

static int
vote_cmd(int argc, char **argv, const char *op)
{
	const char *reason = NULL;
	char *args, *res, *et;
	json_t *a;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: corralctl %s ID [--reason TEXT]\n", op);
		return 2;
	}
	for (int k = 2; k + 1 < argc; k++)
		if (strcmp(argv[k], "--reason") == 0)
			reason = argv[k + 1];
	a = json_pack("{s:s, s:s?}", "id", argv[1], "reason", reason);
	args = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	r = ctl_request(sock_path, "corral", op, args, false, print_event, NULL, &res, &et);
	free(args);
	return report(r, res, et, op);
}

static int
cmd_approve(int argc, char **argv)
{
	return vote_cmd(argc, argv, "approve");
}

static int
cmd_deny(int argc, char **argv)
{
	return vote_cmd(argc, argv, "deny");
}

static int
cmd_run(int argc, char **argv)
{
	json_t *a;
	char *args, *res, *et;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: corralctl run AGENT INPUT [-o json]\n");
		return 2;
	}
	a = json_pack("{s:s, s:s}", "agent", argv[1], "input", argv[2]);
	args = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	r = ctl_request(sock_path, "corral", "run", args, false, print_event, NULL, &res, &et);
	free(args);
	return report(r, res, et, "run");
}

static int
cmd_agents(int argc, char **argv)
{
	char *res, *et;
	int r = ctl_request(sock_path, "corral", "agents", "{}", false, print_event, NULL, &res,
	    &et);
	json_t *j, *a;
	size_t i;

	if (r < 0 || out_json)
		return report(r, res, et, "agents");
	if ((j = json_loads(res, 0, NULL)) == NULL)
		return report(ERR_PROTO, res, et, "agents");
	printf("%-24s %-12s %-11s %-12s %-6s %s\n", "AGENT", "TENANT", "STATE", "MODEL", "TOOLS",
	    "LAST RUN");
	json_array_foreach(j, i, a) {
		json_t *lr = json_object_get(a, "last_run");
		char last[80] = "-";

		if (lr)
			snprintf(last, sizeof(last), "#%lld %s in %lld ms",
			    json_integer_value(json_object_get(lr, "id")),
			    json_string_value(json_object_get(lr, "outcome")),
			    json_integer_value(json_object_get(lr, "duration_ms")));
		printf("%-24s %-12s %-11s %-12s %-6zu %s\n",
		    json_string_value(json_object_get(a, "name")),
		    json_string_value(json_object_get(a, "tenant")),
		    json_string_value(json_object_get(a, "state")),
		    json_object_get(a, "model") ? json_string_value(json_object_get(a, "model")) :
		    "-", json_array_size(json_object_get(a, "tools")), last);
	}
	json_decref(j);
	free(res);
	free(et);
	return 0;
}

static int
cmd_reload(int argc, char **argv)
{
	char *res, *et;
	int r = ctl_request(sock_path, "corral", "reload", "{}", false, print_event, NULL, &res, &et);

	return report(r, res, et, "reload");
}

static void
print_family(const struct tool_family *f)
{
	printf("%s (%s) - %s\n", f->name, tool_kind_name(f->kind), f->desc ? f->desc : "");
	for (const struct tool_op *op = f->ops; op->name; op++) {
		printf("  %-24s %-5s %s%s %s\n", op->name,
		    op->flags & TOOL_F_MUTATING ? "write" : "read",
		    op->flags & TOOL_F_IDEMPOTENT ? "idempotent" : "          ",
		    op->flags & TOOL_F_DRY_RUN ? " dry-run" : "        ", op->desc ? op->desc : "");
		for (const struct tool_param *p = op->params; p && p->name; p++)
			printf("      %s%s%s%s%s\n", p->name, p->required ? " (required)" : "",
			    p->def ? " = " : "", p->def ? p->def : "",
			    p->desc ? "" : "");
	}
}

static int
cmd_tools(int argc, char **argv)
{
	size_t n;
	const struct tool_family *const *fams = tool_families(&n);
	json_t *arr = json_array();
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], fams[i]->name) != 0)
			continue;
		found++;
		if (out_json)
			json_array_append_new(arr, tool_family_describe(fams[i]));
		else
			print_family(fams[i]);
	}
	if (argc > 1 && !found) {
		fprintf(stderr, "corralctl tools: unknown family '%s'\n", argv[1]);
		json_decref(arr);
		return 2;
	}
	if (out_json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		printf("\n");
	}
	json_decref(arr);
	return 0;
}

static int
cmd_agent(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "validate") != 0) {
		fprintf(stderr, "usage: corralctl agent validate FILE [-o json]\n");
		return 2;
	}
	return agent_validate_cli(argc - 1, argv + 1, stdout, stderr);
}

static int
cmd_policy(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: corralctl policy check FILE... | eval FILE... --request JSON "
		    "[--evidence JSON] [-o json] | replay FILE... --audit FILE\n");
		return 2;
	}
	return pol_cli(argc - 1, argv + 1, stdout, stderr);
}

static int
cmd_audit(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: corralctl audit verify FILE... [--key FILE] | tail FILE | "
		    "query FILE... [--tenant T] [--principal P] [--tool F] [--op O] [--since T] "
		    "[-o table|json] | report [--html|--svg] [-o OUT] FILE...\n");
		return 2;
	}
	return auditcli_main(argc - 1, argv + 1, stdout, stderr);
}

/* canary judge [-o json] < INPUT: the deterministic judge, offline. */
static int
cmd_canary(int argc, char **argv)
{
	char *in = NULL, *out = NULL, err[512] = "";
	size_t len = 0, cap = 0;
	bool json = out_json;
	int r;

	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			json = strcmp(argv[++i], "json") == 0;
	if (argc < 2 || strcmp(argv[1], "judge") != 0) {
		fprintf(stderr, "usage: corralctl canary judge [-o json] < INPUT.json\n");
		return 2;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *nb;

			if (cap >= LIM_CANARY_INPUT_MAX || (nb = realloc(in, cap + 65536)) == NULL) {
				fprintf(stderr, "corralctl canary: input too large\n");
				free(in);
				return 2;
			}
			in = nb;
			cap += 65536;
		}
		if ((n = fread(in + len, 1, cap - len, stdin)) == 0)
			break;
		len += n;
	}
	if (json) {
		r = canary_judge_json(in, len, &out, err, sizeof(err));
		if (r == 0)
			printf("%s\n", out);
	} else {
		struct canary_doc *doc = NULL;
		struct canary_result res;

		memset(&res, 0, sizeof(res));
		r = canary_doc_parse(in, len, &doc, err, sizeof(err));
		if (r == 0 && (r = canary_judge(canary_doc_input(doc), &res)) == 0)
			canary_result_print_table(&res, stdout);
		canary_result_free(&res);
		canary_doc_free(doc);
	}
	if (r < 0)
		fprintf(stderr, "corralctl canary judge: %s\n", err[0] ? err : err_str(r));
	free(in);
	free(out);
	return r < 0 ? 2 : 0;
}

/* mcp --principal operator:NAME [--tenant T]: corral's tools over MCP on stdio
 * (supervisor/mcp.c, docs/MCP.md). */
static int
cmd_mcp(int argc, char **argv)
{
	const char *principal = NULL, *tenant = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--principal") == 0 && i + 1 < argc)
			principal = argv[++i];
		else if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc)
			tenant = argv[++i];
		else {
			fprintf(stderr, "usage: corralctl mcp --principal operator:NAME [--tenant T]\n");
			return 2;
		}
	}
	return mcp_main(sock_path, principal, tenant, stdin, stdout);
}

/* ---------------------------------------------------------------- main */

static const struct {
	const char *name;
	int (*fn)(int, char **);
	bool online;
	const char *help;
} cmds[] = {
	{ "status", cmd_status, true, "status [-o table|json]      workers, states, confinement" },
	{ "call", cmd_call, true, "call FAMILY OP --args JSON   make a call through corrald" },
	{ "run", cmd_run, true, "run AGENT INPUT              run an agent, show progress" },
	{ "agents", cmd_agents, true, "agents [-o json]             hosted agents and their last runs" },
	{ "reload", cmd_reload, true, "reload                       re-read the configuration" },
	{ "approvals", cmd_approvals, true, "approvals [--pending]        approvals you may see" },
	{ "approve", cmd_approve, true, "approve ID [--reason TEXT]   vote for a pending call" },
	{ "deny", cmd_deny, true, "deny ID [--reason TEXT]      vote against a pending call" },
	{ "mcp", cmd_mcp, true, "mcp --principal operator:NAME  serve corral's tools over MCP (stdio)" },
	{ "tools", cmd_tools, false, "tools [FAMILY] [-o json]     families, ops, parameters" },
	{ "agent", cmd_agent, false, "agent validate FILE          check an agent YAML file" },
	{ "policy", cmd_policy, false, "policy check|eval|replay     offline policy tools" },
	{ "audit", cmd_audit, false, "audit verify|tail|query|report  read, verify, draw audit logs" },
	{ "canary", cmd_canary, false, "canary judge [-o json]       the canary judge on stdin" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: corralctl [-s SOCKET] COMMAND [ARGS] [-o table|json]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %s\n", cmds[i].help);
	fprintf(f, "\nThe socket defaults to $CORRAL_SOCKET or " DEFAULT_SOCKET ".\n"
	    "Exit status: 0 ok, 1 error, 2 usage, 3 denied or pending.\n");
}

int
main(int argc, char **argv)
{
	int i = 1;

	sock_path = getenv("CORRAL_SOCKET") ? getenv("CORRAL_SOCKET") : DEFAULT_SOCKET;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sock_path = argv[++i];
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out_json = strcmp(argv[++i], "json") == 0;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("corralctl %s\n", CORRAL_VERSION);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		char **av = argv + i;
		int ac = argc - i;

		if (strcmp(cmds[k].name, argv[i]) != 0)
			continue;
		if (cmds[k].online || strcmp(cmds[k].name, "tools") == 0) {
			/* -o FMT may also trail the command */
			for (int j = 1; j + 1 < ac; j++)
				if (strcmp(av[j], "-o") == 0) {
					out_json = strcmp(av[j + 1], "json") == 0;
					memmove(&av[j], &av[j + 2], (size_t)(ac - j - 2) * sizeof(*av));
					ac -= 2;
					break;
				}
		}
		return cmds[k].fn(ac, av);
	}
	fprintf(stderr, "corralctl: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
