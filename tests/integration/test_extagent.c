/* External agent programs hosted by corrald (agents: exec): a Python script speaking MCP on
 * its stdio (protocol: mcp, through corral-agent --mcp-bridge) and a C program on
 * libcorral-agent (protocol: ipc). Each runs confined (verified from the outside: tenant uid,
 * seccomp, empty net namespace), can act only through corrald (its calls are decided as
 * agent:NAME and audited; one the policy does not allow is refused), cannot read
 * /etc/shadow, write outside its state dir or open a TCP socket (the confinement kills it,
 * the run fails with the reason, and corrald restarts it). */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"

static struct hx h;

static void
teardown(void)
{
	hx_cleanup(&h);
}

TestSuite(extagent, .timeout = 90, .fini = teardown);

static const char policy[] =
    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: ext }\nspec:\n"
    "  tenant: demo\n  rules:\n"
    "    - { id: agents-echo, effect: allow, principals: [\"agent:*\"], tool: echo, "
    "operations: [echo] }\n";

/* agent: "- {...}" line(s) for agents: */
static void
setup(const char *agent)
{
	char cfg[2048], *py = hx_read(getenv("CORRAL_EXT_AGENT_PY"));

	cr_assert_gt(strlen(py), 100, "ext_agent.py not found");
	hx_config(&h, "tenants: {}\n");	/* the temp dir; rewritten below */
	hx_file(&h, "ext_agent.py", py, 0755);
	free(py);
	hx_file(&h, "policy.yaml", policy, 0644);
	snprintf(cfg, sizeof(cfg),
	    "runtime_dir: %s/run\nstate_dir: %s/state\nlibexec_dir: %s\n"
	    "tenants:\n  demo: { uid: 41001, families: [echo] }\n"
	    "agents:\n%s\npolicies: [policy.yaml]\n", h.dir, h.dir, getenv("CORRAL_LIBEXEC"),
	    agent);
	hx_file(&h, "corral.yaml", cfg, 0600);
}

static void
check_confined(const char *worker)
{
	json_t *st = hx_status(&h), *w = hx_worker(st, worker), *c;

	cr_assert_not_null(w, "no worker %s", worker);
	c = json_object_get(w, "confinement");
	cr_expect(json_is_true(json_object_get(c, "verified")), "%s", worker);
	cr_expect(json_is_true(json_object_get(c, "seccomp")), "%s", worker);
	cr_expect(json_is_true(json_object_get(c, "netns")), "%s", worker);
	cr_expect_eq(json_integer_value(json_object_get(c, "uid")), 41001);
	json_decref(st);
}

static json_t *
run(const char *agent, const char *input, int want_rc, char **out)
{
	const char *av[] = { "-o", "json", "run", agent, input, NULL };
	int rc = hx_ctl(&h, out, av);

	cr_assert_eq(rc, want_rc, "run %s %s: rc %d: %s", agent, input, rc, *out);
	return rc == 0 ? json_loads(*out, 0, NULL) : NULL;
}

/* A loopback listener the agent is told to reach: nothing may ever connect. */
static int
listener(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(fd, 4), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Does out contain one of the '|'-separated phrases of says? */
static bool
says_one_of(const char *out, const char *says)
{
	char buf[160], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", says);
	for (char *p = strtok_r(buf, "|", &save); p != NULL; p = strtok_r(NULL, "|", &save))
		if (strstr(out, p) != NULL)
			return true;
	return false;
}

/* "tcp PORT": the confinement kills the program; the run fails saying so; nothing connected;
 * corrald restarts the agent. */
static void
tcp_probe(const char *agent, const char *worker, const char *says)
{
	char input[32], *out = NULL;
	int port, fd = listener(&port);
	json_t *st = NULL, *w;

	snprintf(input, sizeof(input), "tcp %d", port);
	run(agent, input, 1, &out);
	cr_expect(says_one_of(out, says), "%s", out);
	free(out);
	cr_expect(accept(fd, NULL, NULL) < 0 && errno == EAGAIN, "something connected");
	close(fd);
	/* the run fails first, the program's death follows: wait for the restarted one */
	for (int i = 0; i < 200; i++) {
		w = hx_wait_state(&h, worker, "ready", 10000, &st);
		cr_assert_not_null(w, "%s is not ready", worker);
		if (json_integer_value(json_object_get(w, "restarts")) >= 1)
			break;
		json_decref(st);
		st = NULL;
		usleep(50000);
	}
	cr_expect_not_null(st, "%s was not restarted", worker);
	json_decref(st);
}

static const char *
field(json_t *j, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
		j = json_object_get(j, k);
	return json_is_string(j) ? json_string_value(j) : "";
}

/* A record of type with these fields (each "key=value") in the audit log? */
static bool
audited(const char *type, const char *const *kv)
{
	char *log = hx_read(h.audit), *save = NULL;
	bool found = false;

	for (char *l = strtok_r(log, "\n", &save); l && !found; l = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(l, 0, NULL);

		found = strcmp(field(j, "type"), type) == 0;
		for (size_t i = 0; found && kv[i]; i++) {
			const char *eq = strchr(kv[i], '=');
			char k[64];

			snprintf(k, sizeof(k), "%.*s", (int)(eq - kv[i]), kv[i]);
			found = strstr(field(j, k), eq + 1) != NULL;
		}
		json_decref(j);
	}
	free(log);
	return found;
}

static void
check_audit(const char *principal, const char *worker)
{
	char p[96], w[96];
	const char *allow[] = { p, "op=echo", "decision=allow", NULL };
	const char *deny[] = { p, "op=crash", "decision=deny", "reason=default deny", NULL };
	const char *died[] = { w, "event=died", "detail=SIGSYS", NULL };

	snprintf(p, sizeof(p), "principal=%s", principal);
	snprintf(w, sizeof(w), "worker=%s", worker);
	cr_expect(audited("decision", allow), "no allowed echo.echo by %s", principal);
	cr_expect(audited("decision", deny), "no denied echo.crash by %s", principal);
	cr_expect(audited("lifecycle", died), "no death of %s by SIGSYS", worker);
}

Test(extagent, python_mcp_agent)
{
	char *out = NULL, note[400];
	json_t *j, *tools;
	struct stat sb;
	bool listed_echo = false, listed_crash = false;
	size_t i;
	json_t *t;

	setup("  - { name: pyagent, tenant: demo, exec: ext_agent.py, protocol: mcp }");
	hx_start(&h, 2);
	check_confined("agent-pyagent@demo");
	j = run("pyagent", "probe", 0, &out);
	cr_assert_not_null(j, "%s", out);
	tools = json_object_get(j, "tools");
	json_array_foreach(tools, i, t) {
		listed_echo |= strcmp(json_string_value(t), "echo__echo") == 0;
		listed_crash |= strcmp(json_string_value(t), "echo__crash") == 0;
	}
	cr_expect(listed_echo && !listed_crash, "%s", out);
	cr_expect(json_is_true(json_object_get(json_object_get(j, "echo"), "ok")), "%s", out);
	cr_expect_str_eq(field(j, "echo.value.msg"), "from python");
	cr_expect(json_is_false(json_object_get(json_object_get(j, "crash"), "ok")), "%s", out);
	cr_expect(strstr(field(j, "crash.value"), "no rule allows echo.crash for agent:pyagent"),
	    "%s", out);
	for (i = 0; i < 5; i++) {
		static const char *const denied[] = { "read /etc/shadow", "write /tmp/escape",
			"write /ipc/escape", "write /escape", "write /usr/escape" };
		const char *v = json_string_value(json_object_get(json_object_get(j, "files"),
		    denied[i]));

		cr_expect(v && strcmp(v, "ok") != 0, "%s: %s", denied[i], v ? v : "missing");
	}
	cr_expect_str_eq(field(j, "files.write state"), "ok");
	cr_expect_eq(json_integer_value(json_object_get(j, "uid")), 41001);
	json_decref(j);
	free(out);
	snprintf(note, sizeof(note), "%s/state/agents/demo/pyagent/note", h.dir);
	cr_expect(stat(note, &sb) == 0 && sb.st_uid == 41001, "the state dir write");

	/* The MCP bridge's report, always: it flushes (corral.flush) before it exits 128+SIGSYS,
	 * so its last message cannot be lost in nng's send queue and overtaken by corrald's own
	 * report of the death. */
	tcp_probe("pyagent", "agent-pyagent@demo", "the agent program was killed by signal 31");
	cr_assert_eq(hx_stop(&h), 0);
	check_audit("agent:pyagent", "agent-pyagent@demo");
	out = hx_read(h.log);
	cr_expect(strstr(out, "ext_agent: tools echo__echo corral__next_run"), "%s", out);
	free(out);
}

Test(extagent, c_ipc_agent)
{
	char *out = NULL, cfg[600], note[400];
	json_t *j;
	struct stat sb;

	snprintf(cfg, sizeof(cfg), "  - { name: cagent, tenant: demo, exec: %s, protocol: ipc }",
	    hx_bin("ext_agent_ipc"));
	setup(cfg);
	hx_start(&h, 2);
	check_confined("agent-cagent@demo");
	j = run("cagent", "probe", 0, &out);
	cr_assert_not_null(j, "%s", out);
	cr_expect_str_eq(field(j, "name"), "agent-cagent@demo");
	cr_expect(json_is_true(json_object_get(json_object_get(j, "echo"), "ok")), "%s", out);
	cr_expect(strstr(field(j, "echo.result"), "from C"), "%s", out);
	cr_expect_str_eq(field(j, "crash.code"), "ERR_DENIED");
	cr_expect(strstr(field(j, "crash.error"), "agent:cagent"), "%s", out);
	cr_expect_str_neq(field(j, "files.read /etc/shadow"), "ok");
	cr_expect_str_neq(field(j, "files.write /etc/passwd"), "ok");
	cr_expect_str_neq(field(j, "files.write /usr/escape"), "ok");
	cr_expect_str_eq(field(j, "files.write state"), "ok");
	cr_expect_eq(json_integer_value(json_object_get(j, "uid")), 41001);
	cr_expect_eq(json_integer_value(json_object_get(j, "flush")), 0, "corral.flush: %s", out);
	json_decref(j);
	free(out);
	snprintf(note, sizeof(note), "%s/state/agents/demo/cagent/note", h.dir);
	cr_expect(stat(note, &sb) == 0 && sb.st_uid == 41001, "the state dir write");

	tcp_probe("cagent", "agent-cagent@demo", "SIGSYS");
	/* its answer and then _exit(): what it flushed is its run's answer, not corrald's report
	 * of a dead agent */
	run("cagent", "bye", 1, &out);
	cr_expect(strstr(out, "bye: the agent's own last words") != NULL, "%s", out);
	free(out);
	cr_assert_eq(hx_stop(&h), 0);
	check_audit("agent:cagent", "agent-cagent@demo");
}

/* A compromised agent forges progress and answers for every run id but its own: the other
 * agent's run in flight gets its own answer, the liar's own run its own, and nothing forged
 * reaches a caller or the audit (a run is answered only by the agent it was handed to). */
Test(extagent, forged_run_answers_are_dropped)
{
	char cfg[600], *out = NULL;
	pid_t c;
	int ws;

	snprintf(cfg, sizeof(cfg), "  - { name: liar, tenant: demo, exec: %s, protocol: ipc }\n"
	    "  - { name: honest, tenant: demo, exec: %s, protocol: ipc }", hx_bin("ext_agent_ipc"),
	    hx_bin("ext_agent_ipc"));
	setup(cfg);
	hx_start(&h, 3);
	if ((c = fork()) == 0) {
		const char *av[] = { "-o", "json", "run", "honest", "sleep 1500", NULL };
		int rc = hx_ctl(&h, &out, av);

		_exit(rc == 0 && strstr(out, "\"slept\": true") && !strstr(out, "forged") ? 0 : 1);
	}
	usleep(400000);		/* honest's run is in flight */
	json_decref(run("liar", "lies", 0, &out));
	cr_expect(strstr(out, "\"lied\": true") != NULL, "%s", out);
	cr_expect_null(strstr(out, "forged"), "%s", out);
	free(out);
	cr_assert_eq(waitpid(c, &ws, 0), c);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
	    "the honest agent's run got a forged answer, or none");
	cr_assert_eq(hx_stop(&h), 0);
	out = hx_read(h.audit);
	cr_expect_null(strstr(out, "forged"), "a forged answer was audited");
	free(out);
}

/* protocol: is strict, and only for exec agents; exec must be executable. */
Test(extagent, config_is_strict)
{
	char *out = NULL;
	const char *av[] = { NULL, "-c", NULL, "--check", NULL };

	hx_config(&h, "tenants:\n  demo: { uid: 41001, families: [echo] }\n"
	    "agents:\n"
	    "  - { name: a, tenant: demo, exec: /bin/true, protocol: grpc }\n"
	    "  - { file: a.yaml, tenant: demo, protocol: mcp }\n");
	av[0] = hx_bin("corrald");
	av[2] = h.cfg;
	cr_assert_eq(hx_run(&out, av), 2, "%s", out);
	cr_expect(strstr(out, "corral.yaml:7:57: protocol must be 'ipc' or 'mcp'"), "%s", out);
	cr_expect(strstr(out, "corral.yaml:8:45: 'protocol' is for 'exec' agents only"), "%s",
	    out);
	free(out);
	hx_cleanup(&h);
	hx_config(&h, "tenants:\n  demo: { uid: 41001, families: [echo] }\n"
	    "agents:\n  - { name: b, tenant: demo, exec: notexec, protocol: mcp }\n");
	hx_file(&h, "notexec", "#!/bin/sh\n", 0644);
	av[2] = h.cfg;
	cr_assert_eq(hx_run(&out, av), 2, "%s", out);
	cr_expect(strstr(out, "corral.yaml:7:5: agent exec '") && strstr(out,
	    "/notexec': Permission denied"), "%s", out);
	free(out);
	hx_cleanup(&h);
	hx_config(&h, "tenants:\n  demo: { uid: 41001, families: [echo] }\n"
	    "agents:\n  - { name: c, tenant: demo, exec: /bin/true, protocol: ipc }\n");
	av[2] = h.cfg;
	cr_expect_eq(hx_run(&out, av), 0, "%s", out);
	free(out);
}

/* An external program configured with a file is held to the file's tools too: the policy
 * allows echo.echo and echo.crash to every agent, the file lists echo.echo only; tools/list
 * shows what both allow, and the crash the program asks for anyway is refused before the
 * policy (builtin:agent-tools). */
Test(extagent, the_file_s_tool_list_binds_a_program)
{
	char *out = NULL;
	json_t *j, *t;
	size_t i;
	bool listed_echo = false, listed_crash = false;

	setup("  - { name: pyagent, tenant: demo, exec: ext_agent.py, protocol: mcp, "
	    "file: narrow.yaml }");
	hx_file(&h, "narrow.yaml", "apiVersion: corral.dev/v1\nkind: Agent\n"
	    "metadata: { name: pyagent }\nspec:\n  model: google:gemini-2.5-flash\n  tools:\n"
	    "    - echo: [echo]\n", 0644);
	hx_file(&h, "policy.yaml", "apiVersion: corral.dev/v1\nkind: Policy\n"
	    "metadata: { name: ext }\nspec:\n  tenant: demo\n  rules:\n"
	    "    - { id: agents-echo, effect: allow, principals: [\"agent:*\"], tool: echo, "
	    "operations: [echo, crash] }\n", 0644);
	hx_start(&h, 2);
	j = run("pyagent", "probe", 0, &out);
	cr_assert_not_null(j, "%s", out);
	json_array_foreach(json_object_get(j, "tools"), i, t) {
		listed_echo |= strcmp(json_string_value(t), "echo__echo") == 0;
		listed_crash |= strcmp(json_string_value(t), "echo__crash") == 0;
	}
	cr_expect(listed_echo && !listed_crash, "%s", out);
	cr_expect(json_is_true(json_object_get(json_object_get(j, "echo"), "ok")), "%s", out);
	cr_expect(json_is_false(json_object_get(json_object_get(j, "crash"), "ok")), "%s", out);
	cr_expect(strstr(field(j, "crash.value"), "is not among the tools of agent pyagent"),
	    "%s", out);
	json_decref(j);
	free(out);
}
