/* The MCP adapter: the protocol core against a scripted backend (JSON-RPC corner cases), the
 * listing rule (pol_could_allow), and a scripted MCP session through a real corrald with
 * `corralctl mcp` running as an operator's uid: initialize, tools/list shows only what the
 * policy could allow, tools/call allowed / denied / pending / schema, every decision in the
 * audit log, and the audit report drawn from that log. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "policy/policy.h"
#include "tests/integration/harness.h"
#include "tools/mcp.h"

/* ---------------------------------------------------------------- the core, scripted */

struct fake {
	char tool[64], op[64], args[256];
	bool dry;
	int calls;
	int answer;			/* what call() returns */
};

static int
fake_list(void *arg, json_t **tools, char *err, size_t errlen)
{
	const struct tool_family *f = tool_family_find("echo");

	*tools = json_pack("[o]", mcp_tool_json(f, tool_op_find(f, "echo")));
	return 0;
}

static int
fake_call(void *arg, const char *tool, const char *op, json_t *args, bool dry, char **text)
{
	struct fake *fk = arg;
	char *a = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);

	snprintf(fk->tool, sizeof(fk->tool), "%s", tool);
	snprintf(fk->op, sizeof(fk->op), "%s", op);
	snprintf(fk->args, sizeof(fk->args), "%s", a);
	free(a);
	fk->dry = dry;
	fk->calls++;
	*text = strdup(fk->answer == 0 ? "{\"msg\":\"back\"}" : "no rule allows it");
	return fk->answer;
}

static json_t *
handle(struct mcp_server *srv, const char *line)
{
	char *reply = NULL;
	json_t *j;

	cr_assert_eq(mcp_server_handle(srv, line, strlen(line), &reply), 0);
	if (reply == NULL)
		return NULL;
	cr_assert_null(strchr(reply, '\n'), "a reply must be one line: %s", reply);
	j = json_loads(reply, 0, NULL);
	cr_assert_not_null(j, "%s", reply);
	free(reply);
	return j;
}

static int
error_code(const json_t *j)
{
	return (int)json_integer_value(json_object_get(json_object_get(j, "error"), "code"));
}

TestSuite(mcp_core, .timeout = 10);

Test(mcp_core, jsonrpc_errors_and_notifications)
{
	static const struct {
		const char *line;
		int code;		/* 0: a result; 1: no reply */
		const char *id;		/* the id echoed, as JSON */
	} cases[] = {
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", 0, "1" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"method\":\"ping\"}", 0, "\"s-1\"" },
		{ "not json", MCP_PARSE_ERROR, "null" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"id\":2}", MCP_PARSE_ERROR,
		  "null" },	/* duplicate key */
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", MCP_INVALID_REQUEST, "null" },
		{ "42", MCP_INVALID_REQUEST, "null" },
		{ "{\"id\":3,\"method\":\"ping\"}", MCP_INVALID_REQUEST, "3" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", MCP_INVALID_REQUEST, "null" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/list\"}", MCP_METHOD_NOT_FOUND,
		  "4" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\",\"params\":[1]}",
		  MCP_INVALID_PARAMS, "5" },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", 1, NULL },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"no/such/notification\"}", 1, NULL },
		{ "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}", 1, NULL },	/* a response */
		{ "   \r", 1, NULL },
	};
	struct fake fk = { 0 };
	struct mcp_backend be = { .arg = &fk, .list = fake_list, .call = fake_call };
	struct mcp_server *srv;

	cr_assert_eq(mcp_server_new(&be, &srv), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = handle(srv, cases[i].line), *want;

		if (cases[i].code == 1) {
			cr_expect_null(j, "case %zu: no reply expected", i);
			json_decref(j);
			continue;
		}
		cr_assert_not_null(j, "case %zu: a reply expected", i);
		cr_expect_str_eq(json_string_value(json_object_get(j, "jsonrpc")), "2.0");
		want = json_loads(cases[i].id, JSON_DECODE_ANY, NULL);
		cr_expect(json_equal(json_object_get(j, "id"), want), "case %zu: id", i);
		json_decref(want);
		if (cases[i].code == 0)
			cr_expect_not_null(json_object_get(j, "result"), "case %zu", i);
		else
			cr_expect_eq(error_code(j), cases[i].code, "case %zu: %s", i, cases[i].line);
		json_decref(j);
	}
	cr_expect_eq(fk.calls, 0);
	cr_expect_not(mcp_server_initialized(srv));
	mcp_server_free(srv);
}

Test(mcp_core, initialize_negotiates_the_version)
{
	static const char *const asks[][2] = {
		{ "2025-06-18", "2025-06-18" }, { "2025-03-26", "2025-03-26" },
		{ "2024-11-05", "2024-11-05" }, { "1999-01-01", MCP_PROTOCOL_LATEST },
	};
	struct fake fk = { 0 };
	struct mcp_backend be = { .arg = &fk, .list = fake_list, .call = fake_call,
		.name = "corral", .instructions = "hello" };

	for (size_t i = 0; i < 4; i++) {
		struct mcp_server *srv;
		char line[256];
		json_t *j, *res;

		cr_assert_eq(mcp_server_new(&be, &srv), 0);
		snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
		    "\"params\":{\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":"
		    "{\"name\":\"t\",\"version\":\"1\"}}}", asks[i][0]);
		j = handle(srv, line);
		res = json_object_get(j, "result");
		cr_expect_str_eq(json_string_value(json_object_get(res, "protocolVersion")), asks[i][1]);
		cr_expect(json_is_object(json_object_get(json_object_get(res, "capabilities"),
		    "tools")));
		cr_expect_str_eq(json_string_value(json_object_get(json_object_get(res, "serverInfo"),
		    "name")), "corral");
		cr_expect_str_eq(json_string_value(json_object_get(res, "instructions")), "hello");
		cr_expect(mcp_server_initialized(srv));
		cr_expect_str_eq(mcp_server_version(srv), asks[i][1]);
		json_decref(j);
		mcp_server_free(srv);
	}
}

Test(mcp_core, tools_call_mapping)
{
	static const struct {
		const char *params;
		int answer;		/* the backend's */
		int code;		/* JSON-RPC error, 0: a result */
		bool is_error, dry;
		const char *args;	/* what the backend got */
	} cases[] = {
		{ "{\"name\":\"echo__echo\",\"arguments\":{\"msg\":\"a\"}}", 0, 0, false, false,
		  "{\"msg\":\"a\"}" },
		{ "{\"name\":\"echo__echo\",\"arguments\":{\"msg\":\"a\",\"dry_run\":true}}", 0, 0,
		  false, true, "{\"msg\":\"a\"}" },
		{ "{\"name\":\"echo__echo\"}", 0, 0, false, false, "{}" },
		{ "{\"name\":\"echo__crash\",\"arguments\":{}}", ERR_DENIED, 0, true, false, "{}" },
		{ "{\"name\":\"echo__echo\",\"arguments\":{\"msg\":1}}", ERR_SCHEMA, 0, true, false,
		  "{\"msg\":1}" },
		{ "{\"name\":\"echo__sleep\",\"arguments\":{\"ms\":1,\"dry_run\":true}}", 0, 0, false,
		  false, "{\"dry_run\":true,\"ms\":1}" },	/* no dry runs: an argument like others */
		{ "{\"name\":\"echo__echo\",\"arguments\":{\"dry_run\":\"yes\"}}", 0,
		  MCP_INVALID_PARAMS, false, false, NULL },
		{ "{\"name\":\"echo__nosuch\",\"arguments\":{}}", 0, MCP_INVALID_PARAMS, false, false,
		  NULL },
		{ "{\"name\":\"nosuchfamily__echo\"}", 0, MCP_INVALID_PARAMS, false, false, NULL },
		{ "{\"name\":\"echo\"}", 0, MCP_INVALID_PARAMS, false, false, NULL },
		{ "{\"arguments\":{}}", 0, MCP_INVALID_PARAMS, false, false, NULL },
		{ "{\"name\":\"echo__echo\",\"arguments\":[1]}", 0, MCP_INVALID_PARAMS, false, false,
		  NULL },
	};
	struct fake fk = { 0 };
	struct mcp_backend be = { .arg = &fk, .list = fake_list, .call = fake_call };
	struct mcp_server *srv;

	cr_assert_eq(mcp_server_new(&be, &srv), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[512];
		int before = fk.calls;
		json_t *j, *res;

		fk.answer = cases[i].answer;
		snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":"
		    "\"tools/call\",\"params\":%s}", i, cases[i].params);
		j = handle(srv, line);
		if (cases[i].code) {
			cr_expect_eq(error_code(j), cases[i].code, "case %zu", i);
			cr_expect_eq(fk.calls, before, "case %zu: the backend must not be asked", i);
			json_decref(j);
			continue;
		}
		res = json_object_get(j, "result");
		cr_assert_not_null(res, "case %zu", i);
		cr_expect_eq(json_is_true(json_object_get(res, "isError")), cases[i].is_error,
		    "case %zu", i);
		cr_expect_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(res,
		    "content"), 0), "type")), "text");
		if (cases[i].is_error)
			cr_expect(strstr(json_string_value(json_object_get(json_array_get(
			    json_object_get(res, "content"), 0), "text")), "no rule allows it"));
		cr_expect_str_eq(fk.args, cases[i].args, "case %zu", i);
		cr_expect_eq(fk.dry, cases[i].dry, "case %zu", i);
		cr_expect_str_eq(fk.tool, "echo");
		json_decref(j);
	}
	mcp_server_free(srv);
}

Test(mcp_core, tool_objects_and_stdio)
{
	const struct tool_family *f = tool_family_find("echo");
	json_t *t = mcp_tool_json(f, tool_op_find(f, "store")), *props;
	struct fake fk = { 0 };
	struct mcp_backend be = { .arg = &fk, .list = fake_list, .call = fake_call };
	struct mcp_server *srv;
	char tool[LIM_NAME_MAX], op[LIM_NAME_MAX], buf[4096];
	int in[2], out[2];
	ssize_t n;

	cr_expect_str_eq(json_string_value(json_object_get(t, "name")), "echo__store");
	props = json_object_get(json_object_get(t, "inputSchema"), "properties");
	cr_expect(json_is_object(json_object_get(props, "value")));
	cr_expect(json_is_object(json_object_get(props, "dry_run")));
	cr_expect(json_is_false(json_object_get(json_object_get(t, "inputSchema"),
	    "additionalProperties")));
	cr_expect(json_is_false(json_object_get(json_object_get(t, "annotations"),
	    "readOnlyHint")));
	json_decref(t);
	cr_expect_eq(mcp_tool_split("github_actions__list_runs", tool, op), 0);
	cr_expect_str_eq(tool, "github_actions");
	cr_expect_str_eq(op, "list_runs");
	cr_expect_eq(mcp_tool_split("__x", tool, op), -EINVAL);
	cr_expect_eq(mcp_tool_split("x__", tool, op), -EINVAL);

	/* Over the pipes: two messages in one write, the second split, a last one without its
	 * newline, and a line over the cap answered with a parse error, then back in step. */
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(mcp_server_new(&be, &srv), 0);
	if (fork() == 0) {
		static char big[LIM_MCP_LINE_MAX + 100];
		const char *a = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n{\"jsonrpc\":";

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\n';
		(void)!write(in[1], a, strlen(a));
		usleep(20000);
		(void)!write(in[1], "\"2.0\",\"id\":2,\"method\":\"ping\"}\n", 30);
		(void)!write(in[1], big, sizeof(big));
		(void)!write(in[1], "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}", 40);
		_exit(0);
	}
	close(in[1]);
	cr_expect_eq(mcp_server_run(srv, in[0], out[1]), 0);
	close(out[1]);
	n = read(out[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	cr_expect(strstr(buf, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n"
	    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error: "
	    "message larger than") == buf, "%s", buf);
	cr_expect(strstr(buf, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}\n"), "%s", buf);
	mcp_server_free(srv);
	wait(NULL);
}

/* ---------------------------------------------------------------- the listing rule */

Test(mcp_core, could_allow)
{
	static const char t1[] =
	    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: t1 }\nspec:\n"
	    "  tenant: t1\n  rules:\n"
	    "    - { id: a-echo, effect: allow, principals: [\"operator:a*\"], "
	    "tool: echo, operations: [echo] }\n";
	static const char pol[] =
	    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: p }\nspec:\n  rules:\n"
	    "    - { id: any-sleep, effect: allow, principals: [\"agent:*\"], tool: echo, "
	    "operations: [sleep], where: { ms: { max: 5 } } }\n"
	    "    - { id: no-crash, effect: deny, principals: [\"*\"], tool: echo, "
	    "operations: [crash] }\n"
	    "    - { id: crash, effect: allow, principals: [\"operator:alice\"], tool: echo, "
	    "operations: [crash] }\n"
	    "    - { id: some-fail, effect: deny, principals: [\"*\"], tool: echo, "
	    "operations: [fail], where: { status: { min: 500 } } }\n"
	    "    - { id: fail, effect: allow, principals: [\"operator:alice\"], tool: echo, "
	    "operations: [fail] }\n"
	    "    - { id: dry-only, effect: allow, principals: [\"operator:alice\"], tool: echo, "
	    "operations: [sleep, store], obligations: { dry_run_only: true } }\n";
	static const struct {
		const char *tenant, *principal, *op;
		bool want;
	} cases[] = {
		{ "t1", "operator:alice", "echo", true },
		{ "t2", "operator:alice", "echo", false },	/* another tenant's rule */
		{ "t1", "operator:bob", "echo", false },	/* principal glob */
		{ "t1", "agent:x", "sleep", true },		/* where is not looked at */
		{ "t1", "operator:alice", "crash", false },	/* an unconditional deny */
		{ "t1", "operator:alice", "fail", true },	/* a deny with where: maybe */
		{ "t1", "operator:alice", "store", true },	/* dry runs only, op has them */
		{ "t1", "operator:alice", "sleep", false },	/* dry runs only, op has none */
		{ "t1", "operator:alice", "nosuch", false },
	};
	struct pol_src src[] = { { "t1.yaml", t1, sizeof(t1) - 1 },
		{ "p.yaml", pol, sizeof(pol) - 1 } };
	struct ydoc_errs e = { 0 };
	struct pol_set *ps = NULL;

	cr_assert_eq(pol_set_load_mem(src, 2, NULL, &ps, &e), 0, "%s", e.n ? e.msg[0] : "");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(pol_could_allow(ps, cases[i].tenant, cases[i].principal, "echo",
		    cases[i].op), cases[i].want, "case %zu: %s %s echo.%s", i, cases[i].tenant,
		    cases[i].principal, cases[i].op);
	cr_expect_not(pol_could_allow(NULL, "t1", "operator:alice", "echo", "echo"));
	pol_set_free(ps);
	ydoc_errs_free(&e);
}

/* ---------------------------------------------------------------- a session through corrald */

#define ALICE 1		/* daemon: operator alice of tenant demo */
#define NOBODY_ROLE 2	/* bin: no role on the control socket */

static struct hx h;

static void
teardown(void)
{
	hx_cleanup(&h);
}

TestSuite(mcp, .timeout = 90, .fini = teardown);

static const char policy[] =
    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: mcp }\nspec:\n"
    "  tenant: demo\n  rules:\n"
    "    - { id: alice-echo, effect: allow, principals: [\"operator:alice\"], tool: echo, "
    "operations: [echo] }\n"
    "    - id: alice-sleep-approved\n      effect: allow\n      principals: [\"operator:alice\"]\n"
    "      tool: echo\n      operations: [sleep]\n"
    "      obligations: { approval: { approvers: [\"user:bin\"], quorum: 1, timeout: 30m } }\n"
    "    - { id: no-store, effect: deny, principals: [\"operator:*\"], tool: echo, "
    "operations: [store] }\n"
    "    - { id: alice-store, effect: allow, principals: [\"operator:alice\"], tool: echo, "
    "operations: [store] }\n";

static void
setup(void)
{
	char cfg[1024];

	hx_config(&h, "tenants: {}\n");	/* the temp dir; rewritten below */
	hx_file(&h, "policy.yaml", policy, 0644);
	snprintf(cfg, sizeof(cfg),
	    "runtime_dir: %s/run\nstate_dir: %s/state\nlibexec_dir: %s\n"
	    "tenants:\n  demo: { uid: 41001, families: [echo] }\n"
	    "control:\n  operators:\n    - { name: alice, tenant: demo, uids: [%d] }\n"
	    "policies: [policy.yaml]\n", h.dir, h.dir, getenv("CORRAL_LIBEXEC"), ALICE);
	hx_file(&h, "corral.yaml", cfg, 0600);
}

struct mc {
	pid_t pid;
	FILE *to, *from;
	char err[320];
	int next;
};

static void
mc_start(struct mc *m, uid_t uid, const char *principal)
{
	int in[2], out[2];

	memset(m, 0, sizeof(*m));
	snprintf(m->err, sizeof(m->err), "%s/mcp.err", h.dir);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	if ((m->pid = fork()) == 0) {
		int fd = open(m->err, O_WRONLY | O_CREAT | O_TRUNC, 0666);

		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(fd, 2);
		close(in[1]);
		close(out[0]);
		if (uid != 0 && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0))
			_exit(126);
		execl(hx_bin("corralctl"), "corralctl", "-s", h.sock, "mcp", "--principal", principal,
		    (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	m->to = fdopen(in[1], "w");
	m->from = fdopen(out[0], "r");
	signal(SIGPIPE, SIG_IGN);
}

static void
mc_send(struct mc *m, const char *line)
{
	fputs(line, m->to);
	fputc('\n', m->to);
	fflush(m->to);
}

/* A request and its answer (the next line must be it: nothing else comes unasked). */
static json_t *
mc_rpc(struct mc *m, const char *method, const char *params)
{
	char *line = NULL, req[1024];
	size_t cap = 0;
	json_t *j;

	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\","
	    "\"params\":%s}", ++m->next, method, params ? params : "{}");
	mc_send(m, req);
	cr_assert_gt(getline(&line, &cap, m->from), 0, "no answer to %s: %s", method,
	    hx_read(m->err));
	j = json_loads(line, 0, NULL);
	cr_assert_not_null(j, "%s", line);
	cr_assert_eq(json_integer_value(json_object_get(j, "id")), m->next, "%s", line);
	free(line);
	return j;
}

static int
mc_end(struct mc *m)
{
	int st;

	if (m->to)
		fclose(m->to);
	if (m->from)
		fclose(m->from);
	waitpid(m->pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* tools/call's result: isError and the text. */
static bool
call_tool(struct mc *m, const char *name, const char *args, char **text)
{
	char params[512];
	json_t *j, *res;
	bool is_error;

	snprintf(params, sizeof(params), "{\"name\":\"%s\",\"arguments\":%s}", name, args);
	j = mc_rpc(m, "tools/call", params);
	res = json_object_get(j, "result");
	cr_assert_not_null(res, "tools/call %s: not a result", name);
	is_error = json_is_true(json_object_get(res, "isError"));
	*text = strdup(json_string_value(json_object_get(json_array_get(json_object_get(res,
	    "content"), 0), "text")));
	json_decref(j);
	return is_error;
}

static void
session(void)
{
	struct mc m;
	json_t *j, *tools, *t;
	char *text = NULL, names[256] = "";
	size_t i;

	mc_start(&m, ALICE, "operator:alice");
	j = mc_rpc(&m, "initialize", "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
	    "\"clientInfo\":{\"name\":\"test_mcp\",\"version\":\"1\"}}");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "result"),
	    "protocolVersion")), "2025-06-18");
	cr_expect(strstr(json_string_value(json_object_get(json_object_get(j, "result"),
	    "instructions")), "operator:alice"));
	json_decref(j);
	mc_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");

	/* Only what the policy could allow: echo (allowed), sleep (with an approval); not store
	 * (an unconditional deny wins), crash, fail (no rule). */
	j = mc_rpc(&m, "tools/list", NULL);
	tools = json_object_get(json_object_get(j, "result"), "tools");
	json_array_foreach(tools, i, t)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s ",
		    json_string_value(json_object_get(t, "name")));
	cr_expect_str_eq(names, "echo__echo echo__sleep ");
	cr_expect(json_is_object(json_object_get(json_array_get(tools, 0), "inputSchema")));
	json_decref(j);

	cr_expect_not(call_tool(&m, "echo__echo", "{\"msg\":\"over mcp\"}", &text));
	cr_expect(strstr(text, "\"msg\":\"over mcp\""), "%s", text);
	free(text);
	cr_expect(call_tool(&m, "echo__crash", "{}", &text));	/* not listed, still decided */
	cr_expect(strstr(text, "denied") && strstr(text, "default deny"), "%s", text);
	free(text);
	cr_expect(call_tool(&m, "echo__store", "{\"value\":\"v\"}", &text));
	cr_expect(strstr(text, "no-store"), "%s", text);
	free(text);
	cr_expect(call_tool(&m, "echo__sleep", "{\"ms\":1}", &text));
	cr_expect(strstr(text, "waiting for approval"), "%s", text);
	free(text);
	cr_expect(call_tool(&m, "echo__echo", "{\"msg\":7}", &text));
	cr_expect(strstr(text, "msg"), "%s", text);
	free(text);
	j = mc_rpc(&m, "tools/call", "{\"name\":\"nosuch__op\",\"arguments\":{}}");
	cr_expect_eq(error_code(j), MCP_INVALID_PARAMS);
	json_decref(j);
	j = mc_rpc(&m, "prompts/list", NULL);
	cr_expect_eq(error_code(j), MCP_METHOD_NOT_FOUND);
	json_decref(j);
	cr_expect_eq(mc_end(&m), 0, "%s", hx_read(m.err));
}

/* Every call the session made is in the audit log, decided as operator:alice. */
static void
check_audit(void)
{
	static const struct {
		const char *op, *decision, *reason;
	} want[] = {
		{ "echo", "allow", "alice-echo" },
		{ "crash", "deny", "default deny" },
		{ "store", "deny", "no-store" },
		{ "sleep", "pending", "waiting for approval" },
		{ "echo", "deny", "invalid arguments" },
	};
	char *log = hx_read(h.audit), *save = NULL;
	size_t k = 0;

	for (char *line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);

		if (k < 5 && strcmp(json_string_value(json_object_get(j, "type")), "decision") == 0) {
			cr_expect_str_eq(json_string_value(json_object_get(j, "principal")),
			    "operator:alice");
			cr_expect_str_eq(json_string_value(json_object_get(j, "op")), want[k].op);
			cr_expect_str_eq(json_string_value(json_object_get(j, "decision")),
			    want[k].decision, "record %zu: %s", k, line);
			/* the reason, or for an allow the rule that decided */
			cr_expect(strstr(line, want[k].reason), "record %zu: %s", k, line);
			k++;
		}
		json_decref(j);
	}
	cr_expect_eq(k, 5, "decisions in the audit log: %zu", k);
	free(log);
}

/* The report of that real log: every call and decision is on the page. */
static void
check_report(void)
{
	char out[400], *html = NULL, *run = NULL;
	const char *av[] = { hx_bin("corralctl"), "audit", "report", "-o", out, h.audit, NULL };
	const char *chromium[] = { "/usr/bin/chromium", "--headless", "--no-sandbox",
		"--disable-gpu", NULL, NULL, NULL };
	size_t circles = 0;

	snprintf(out, sizeof(out), "%s/report.html", h.dir);
	cr_assert_eq(hx_run(&run, av), 0, "%s", run);
	free(run);
	html = hx_read(out);
	cr_expect(strncmp(html, "<!DOCTYPE html>", 15) == 0);
	cr_expect(strstr(html, "5 calls (1 allowed, 3 denied, 1 pending approval"), "%.600s", html);
	cr_expect(strstr(html, "demo / operator:alice"));
	for (const char *p = html; (p = strstr(p, "<circle class='call ")) != NULL; p++)
		circles++;
	cr_expect_eq(circles, 5);
	cr_expect(strstr(html, "<code>echo.crash</code></td><td class='d'>deny</td>"), "%s", html);
	cr_expect(strstr(html, "<code>echo.sleep</code></td><td class='d'>pending</td>"));
	cr_expect(strstr(html, "<code>echo.echo</code></td><td class='d'>allow</td><td>alice-echo"
	    "</td>"));
	cr_expect(strstr(html, "</td><td>ok</td><td>"), "the allowed call's outcome");
	cr_expect_null(strstr(html, "<script"));
	free(html);
	/* A browser's view of it, when one is installed (never installed for this). */
	if (access(chromium[0], X_OK) == 0) {
		char shot[400], url[420];

		snprintf(shot, sizeof(shot), "--screenshot=%s/report.png", h.dir);
		snprintf(url, sizeof(url), "file://%s", out);
		chromium[4] = shot;
		chromium[5] = url;
		cr_expect_eq(hx_run(NULL, chromium), 0);
		snprintf(shot, sizeof(shot), "%s/report.png", h.dir);
		cr_expect_eq(access(shot, R_OK), 0);
	}
}

Test(mcp, session_through_corrald)
{
	setup();
	hx_start(&h, 1);
	session();
	cr_assert_eq(hx_stop(&h), 0);
	check_audit();
	check_report();
}

/* --principal names who the client expects; corrald's peer-uid check decides who it is. */
Test(mcp, identity_comes_from_the_socket)
{
	static const struct {
		uid_t uid;
		const char *principal, *says;
	} cases[] = {
		{ ALICE, "operator:bob", "knows this user as operator:alice, not operator:bob" },
		{ 0, "operator:alice", "knows this user as operator:root" },
		{ NOBODY_ROLE, "operator:alice", "has no role" },
	};

	setup();
	hx_start(&h, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mc m;
		char *err;

		mc_start(&m, cases[i].uid, cases[i].principal);
		cr_expect_eq(mc_end(&m), 3, "case %zu", i);
		err = hx_read(m.err);
		cr_expect(strstr(err, cases[i].says), "case %zu: %s", i, err);
		free(err);
	}
	cr_assert_eq(hx_stop(&h), 0);
	{
		char *log = hx_read(h.audit);

		cr_expect_null(strstr(log, "\"type\":\"decision\""), "no call was made: %s", log);
		free(log);
	}
}
