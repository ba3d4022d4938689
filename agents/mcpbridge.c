/* corral-agent --mcp-bridge (see mcpbridge.h): an MCP server for one external agent program,
 * backed by corrald through libcorral-agent. The program is our child in the same jail; the
 * bridge holds nothing the program may not use: its only authority is the socket on which
 * corrald decides every call as agent:NAME. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agents/libcorral-agent.h"
#include "agents/mcpbridge.h"
#include "ipc/err.h"
#include "ipc/json.h"
#include "ipc/limits.h"
#include "tools/mcp.h"
#include "workers/sandbox.h"

#define PROG_SLOT	(FD_EXEC_SLOT + 1)	/* the jail's first --exec-slot */

struct bridge {
	struct cagent *ca;
	pid_t prog;
	uint64_t active[LIM_MCP_RUNS_QUEUED];	/* runs handed to the program, not finished */
	size_t nactive;
	bool shutdown;
};

/* ---------------------------------------------------------------- the program */

static const char *const sys_dirs[] = { "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
	"/libx32", NULL };

/* A layer on top of the jail's, for the program: read everything, run system binaries and
 * the program, write only the state dir (the jail would also allow /tmp and /ipc), no TCP, no
 * signals or abstract sockets outside. The bridge takes it on before forking, so that the
 * program's domain is the bridge's own (Landlock lets a domain read /proc of its own and
 * nested domains only: prog_status); the bridge's seccomp list refuses it every write. */
static int
lock_prog_fs(const char *state_dir)
{
	struct sbx_fs_rule rules[16];
	struct sbx_landlock ll = { .fs = rules, .flags = SBX_LL_NET | SBX_LL_SCOPE };
	size_t n = 0;
	int abi;

	rules[n++] = (struct sbx_fs_rule){ "/", -1, SBX_FS_READ };
	for (const char *const *d = sys_dirs; *d; d++)
		rules[n++] = (struct sbx_fs_rule){ *d, -1, SBX_FS_READ | SBX_FS_EXEC };
	rules[n++] = (struct sbx_fs_rule){ NULL, PROG_SLOT, SBX_FS_READ | SBX_FS_EXEC };
	rules[n++] = (struct sbx_fs_rule){ "/dev/null", -1, SBX_FS_READ | SBX_FS_WRITE };
	if (state_dir)
		rules[n++] = (struct sbx_fs_rule){ state_dir, -1, SBX_FS_READ | SBX_FS_WRITE };
	ll.nfs = n;
	return sbx_landlock_apply(&ll, &abi);
}

static void __attribute__((noreturn))
prog_child(int in, int out, int go, char *const *argv)
{
	extern char **environ;
	char b;
	int r;

	if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
		_exit(125);
	/* Not before corrald has verified and welcomed the bridge. */
	if (read(go, &b, 1) != 1)
		_exit(0);
	syscall(SYS_close_range, 3, FD_EXEC_SLOT, 0);
	syscall(SYS_close_range, PROG_SLOT + 1, ~0U, 0);
	if ((r = sbx_seccomp_apply(SBX_JAIL_AGENT_BRIDGED, 0)) < 0) {
		fprintf(stderr, "corral-agent: cannot confine the agent program: %s\n", err_str(r));
		_exit(125);
	}
	syscall(SYS_execveat, PROG_SLOT, "", argv, environ, AT_EMPTY_PATH);
	fprintf(stderr, "corral-agent: cannot exec the agent program: %s\n", strerror(errno));
	_exit(126);
}

/* Fork the program; *to is its stdin, *from its stdout, *go releases it. */
static int
prog_start(struct bridge *b, char *const *argv, int *to, int *from, int *go)
{
	int in[2], out[2], g[2];

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(g, O_CLOEXEC) < 0)
		return -errno;
	if ((b->prog = fork()) < 0)
		return -errno;
	if (b->prog == 0)
		prog_child(in[0], out[1], g[0], argv);
	close(in[0]);
	close(out[1]);
	close(g[0]);
	*to = in[1];
	*from = out[0];
	*go = g[1];
	return 0;
}

/* How the program ended, from its zombie's /proc/PID/stat (field 52, exit_code in wait(2)
 * form): the bridge's seccomp list has no wait4. -1 when it is still running. */
static int
prog_status(pid_t pid)
{
	for (int i = 0; i < 40; i++) {
		char path[64], buf[1024], *p;
		ssize_t n;
		int fd, st = -1, k = 0;
		struct timespec ts = { 0, 25 * 1000000L };

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return -1;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0 && (buf[n] = '\0', p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
		    p[2] == 'Z') {
			for (char *t = strtok(p + 2, " "); t; t = strtok(NULL, " "))
				if (++k == 50)
					st = atoi(t);
			return st;
		}
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* ---------------------------------------------------------------- bridge tools (runs) */

static const char *const bridge_tools[][3] = {
	{ "next_run", "Wait for the next run of this agent (corralctl run NAME INPUT): its id, "
	  "input and definition, or run null when none came within wait_ms",
	  "{\"type\":\"object\",\"properties\":{\"wait_ms\":{\"type\":\"integer\",\"minimum\":0,"
	  "\"maximum\":600000,\"default\":30000}},\"additionalProperties\":false}" },
	{ "finish_run", "Finish a run: its result (any JSON) goes back to whoever started it; "
	  "error instead reports a failure",
	  "{\"type\":\"object\",\"properties\":{\"run\":{\"type\":\"integer\"},\"result\":{},"
	  "\"error\":{\"type\":\"string\"}},\"required\":[\"run\"],\"additionalProperties\":false}" },
	{ "run_event", "Report progress of a run to whoever started it",
	  "{\"type\":\"object\",\"properties\":{\"run\":{\"type\":\"integer\"},\"text\":"
	  "{\"type\":\"string\"}},\"required\":[\"run\",\"text\"],\"additionalProperties\":false}" },
};
#define NBRIDGE_TOOLS	(sizeof(bridge_tools) / sizeof(bridge_tools[0]))

static json_t *
bridge_tool_json(size_t i)
{
	char name[64];

	snprintf(name, sizeof(name), "corral__%s", bridge_tools[i][0]);
	return json_pack("{s:s, s:s, s:o, s:{s:b}}", "name", name, "description",
	    bridge_tools[i][1], "inputSchema", json_loads(bridge_tools[i][2], 0, NULL),
	    "annotations", "readOnlyHint", 0);
}

static int
text_of(json_t *v, char **text)
{
	*text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	return *text ? 0 : -ENOMEM;
}

static int
fail(char **text, int code, const char *why)
{
	*text = strdup(why);
	return code;
}

static int
t_next_run(struct bridge *b, json_t *args, char **text)
{
	json_int_t wait = json_is_integer(json_object_get(args, "wait_ms")) ?
	    json_integer_value(json_object_get(args, "wait_ms")) : 30000;
	struct cagent_run run;
	json_t *def;
	int r;

	if (wait < 0 || wait > LIM_MCP_RUN_WAIT_MS)
		wait = LIM_MCP_RUN_WAIT_MS;
	if ((r = cagent_next_run(b->ca, (int)wait, &run)) == -ETIMEDOUT)
		return text_of(json_pack("{s:n}", "run"), text);
	if (r == ERR_CLOSED)
		b->shutdown = true;
	if (r < 0)
		return fail(text, r, "no run: the supervisor connection ended");
	if (b->nactive == LIM_MCP_RUNS_QUEUED) {
		cagent_fail(b->ca, run.id, ERR_TOOBIG, "the agent program holds too many runs");
		cagent_run_clear(&run);
		return fail(text, ERR_TOOBIG, "finish your runs before asking for more");
	}
	b->active[b->nactive++] = run.id;
	def = run.agent ? json_loads(run.agent, 0, NULL) : NULL;
	r = text_of(json_pack("{s:I, s:s, s:o*}", "run", (json_int_t)run.id, "input",
	    run.input ? run.input : "", "agent", def), text);
	cagent_run_clear(&run);
	return r;
}

/* Take run id off the active list: 0, ERR_NOTFOUND, or ERR_TIMEOUT when corrald gave up. */
static int
take_run(struct bridge *b, const json_t *args, uint64_t *id, bool remove, char **text)
{
	json_t *v = json_object_get(args, "run");

	for (size_t i = 0; json_is_integer(v) && i < b->nactive; i++) {
		if (b->active[i] != (uint64_t)json_integer_value(v))
			continue;
		*id = b->active[i];
		if (remove)
			memmove(&b->active[i], &b->active[i + 1],
			    (--b->nactive - i) * sizeof(b->active[0]));
		if (cagent_cancelled(b->ca, *id))
			return fail(text, ERR_TIMEOUT, "corrald cancelled this run (its deadline "
			    "passed)");
		return 0;
	}
	return fail(text, ERR_NOTFOUND, "not a run this program was given (corral__next_run)");
}

static int
t_finish_run(struct bridge *b, json_t *args, char **text)
{
	const char *err = json_string_value(json_object_get(args, "error"));
	json_t *res = json_object_get(args, "result");
	uint64_t id;
	char *rt;
	int r;

	if ((r = take_run(b, args, &id, true, text)) < 0)
		return r;
	if (err) {
		r = cagent_fail(b->ca, id, ERR_EXEC, err);
	} else {
		if ((rt = json_dumps(res ? res : json_null(), JSON_COMPACT | JSON_ENCODE_ANY)) ==
		    NULL)
			return -ENOMEM;
		r = strlen(rt) > LIM_RESULT_MAX ? ERR_TOOBIG : cagent_done(b->ca, id, rt);
		free(rt);
	}
	if (r < 0)
		return fail(text, r, "the run's answer could not be sent");
	return text_of(json_pack("{s:I}", "finished", (json_int_t)id), text);
}

static int
t_run_event(struct bridge *b, json_t *args, char **text)
{
	const char *t = json_string_value(json_object_get(args, "text"));
	uint64_t id;
	int r;

	if ((r = take_run(b, args, &id, false, text)) < 0)
		return r;
	if (t == NULL || strlen(t) > LIM_LOG_LINE_MAX)
		return fail(text, ERR_SCHEMA, "text: a string of at most 2048 bytes");
	if ((r = cagent_event(b->ca, id, t)) < 0)
		return fail(text, r, "the event could not be sent");
	return text_of(json_pack("{s:b}", "sent", 1), text);
}

/* ---------------------------------------------------------------- MCP backend */

static bool
be_has(void *arg, const char *tool, const char *op)
{
	const struct tool_family *f = tool_family_find(tool);

	if (strcmp(tool, "corral") == 0) {
		for (size_t i = 0; i < NBRIDGE_TOOLS; i++)
			if (strcmp(op, bridge_tools[i][0]) == 0)
				return true;
		return false;
	}
	return f != NULL && f->kind != TOOL_KIND_AGENT && tool_op_find(f, op) != NULL;
}

static int
be_list(void *arg, json_t **tools, char *err, size_t errlen)
{
	struct bridge *b = arg;
	char *res = NULL, *et = NULL;
	json_t *pt = NULL, *e;
	size_t i;
	int r;

	r = cagent_call(b->ca, "corral", "policy_tools", "{}", false, LIM_MCP_CALL_WAIT_MS, &res,
	    &et);
	if (r == 0 && (pt = json_loads(res, 0, NULL)) == NULL)
		r = ERR_PROTO;
	if (r < 0)
		snprintf(err, errlen, "%s%s%s", err_str(r), et ? ": " : "", et ? et : "");
	free(res);
	free(et);
	if (r < 0)
		return r;
	*tools = json_array();
	json_array_foreach(json_object_get(pt, "tools"), i, e) {
		const struct tool_family *f = tool_family_find(ipc_json_str(e, "tool"));
		const struct tool_op *op = tool_op_find(f, ipc_json_str(e, "op"));

		if (op && *tools)
			json_array_append_new(*tools, mcp_tool_json(f, op));
	}
	for (i = 0; i < NBRIDGE_TOOLS && *tools; i++)
		json_array_append_new(*tools, bridge_tool_json(i));
	json_decref(pt);
	return *tools ? 0 : -ENOMEM;
}

static int
be_call(void *arg, const char *tool, const char *op, json_t *args, bool dry, char **text)
{
	struct bridge *b = arg;
	char *a, *res = NULL, *et = NULL;
	int r;

	*text = NULL;
	if (strcmp(tool, "corral") == 0)
		return strcmp(op, "next_run") == 0 ? t_next_run(b, args, text) :
		    strcmp(op, "finish_run") == 0 ? t_finish_run(b, args, text) :
		    t_run_event(b, args, text);
	if ((a = json_dumps(args, JSON_COMPACT)) == NULL)
		return -ENOMEM;
	r = cagent_call(b->ca, tool, op, a, dry, LIM_MCP_CALL_WAIT_MS, &res, &et);
	free(a);
	if (r == ERR_CLOSED)
		b->shutdown = true;
	*text = r == 0 ? res : et;
	free(r == 0 ? et : res);
	return r;
}

/* ---------------------------------------------------------------- main */

static void
on_term(int sig)
{
	_exit(0);	/* PID 1 of the jail: its end takes the program with it */
}

/* Serve the program until it closes its stdout, or SHUTDOWN. 1: the program ended. */
static int
serve(struct bridge *b, struct mcp_server *srv, int from, int to)
{
	struct pollfd p[2] = { { .fd = from, .events = POLLIN },
		{ .fd = cagent_pollfd(b->ca), .events = POLLIN } };
	char chunk[65536];
	int r = 0;

	while (r == 0 && !b->shutdown) {
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if ((p[1].revents & POLLIN) && (r = cagent_pump(b->ca)) == ERR_CLOSED)
			return 0;
		if (r < 0 || !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if ((n = read(from, chunk, sizeof(chunk))) < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			mcp_server_finish(srv, to);
			return 1;
		}
		r = mcp_server_feed(srv, chunk, (size_t)n, to);
		if (r == -EPIPE)
			return 1;
	}
	return r;
}

/* The program ended: fail the runs it held, say how it ended; the exit status is its. */
static int
prog_ended(struct bridge *b)
{
	int st = prog_status(b->prog), code = 0;
	char why[160];

	if (st < 0)
		snprintf(why, sizeof(why), "closed its output");
	else if (WIFSIGNALED(st))
		snprintf(why, sizeof(why), "was killed by signal %d (%s)%s", WTERMSIG(st),
		    strsignal(WTERMSIG(st)), WTERMSIG(st) == SIGSYS ?
		    ": a system call its confinement forbids" : "");
	else
		snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(st));
	code = st < 0 ? 1 : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	fprintf(stderr, "corral-agent: the agent program %s\n", why);
	for (size_t i = 0; i < b->nactive; i++) {
		char t[200];

		snprintf(t, sizeof(t), "the agent program %s", why);
		cagent_fail(b->ca, b->active[i], ERR_WORKER, t);
	}
	/* the reports must reach corrald before we exit and close (nng drops what is queued) */
	if (b->nactive > 0)
		(void)cagent_flush(b->ca, LIM_AGENT_FLUSH_MS);
	return code;
}

int
mcpbridge_main(const char *sock, const char *state_dir, char *const *argv)
{
	struct bridge b = { 0 };
	struct mcp_backend be = { .arg = &b, .list = be_list, .call = be_call, .has = be_has,
		.name = "corral-agent" };
	struct mcp_server *srv = NULL;
	struct sigaction sa = { .sa_handler = on_term };
	int to = -1, from = -1, go = -1, r;

	if (argv == NULL || argv[0] == NULL)
		return 2;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	if (access(state_dir, F_OK) != 0)
		state_dir = NULL;
	if ((r = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0) < 0 ||
	    (r = lock_prog_fs(state_dir)) < 0 ||
	    (r = prog_start(&b, argv, &to, &from, &go)) < 0 ||
	    (r = cagent_dial(sock, LIM_HELLO_MS, &b.ca)) < 0 ||
	    (r = sbx_seccomp_apply(SBX_AGENT, 0)) < 0 ||
	    (r = cagent_hello(b.ca, LIM_HELLO_MS * 2)) < 0 ||
	    (r = mcp_server_new(&be, &srv)) < 0) {
		fprintf(stderr, "corral-agent: mcp bridge: start: %s\n", err_str(r));
		cagent_close(b.ca);
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	r = write(go, "g", 1) == 1 ? serve(&b, srv, from, to) : -errno;
	if (r == 1)
		r = prog_ended(&b);
	else if (r < 0)
		fprintf(stderr, "corral-agent: mcp bridge: %s\n", err_str(r));
	mcp_server_free(srv);
	cagent_close(b.ca);
	return r < 0 ? 1 : r;
}
