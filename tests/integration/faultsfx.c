/* Shared by the fault tests (test_faults.c): starting a real corrald, corralctl jobs, agent
 * runs of mixed calls and their checks, the audit log's decision/outcome pairs, workers' pids.
 * Everything asserts with Criterion. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "tests/integration/faultsfx.h"

struct hx h;

const char *const agent_yaml =
    "apiVersion: corral.dev/v1\nkind: Agent\nmetadata: { name: a }\n"
    "spec:\n  model: script:none\n  tools: [echo]\n";

/* For every tenant: echo and fail allowed, messages starting "deny" denied, sleep only with an
 * approval (so it is pending). */
const char *const policy_yaml =
    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: faults }\n"
    "spec:\n  rules:\n"
    "    - { id: echo-allow, effect: allow, principals: [\"agent:*\"], tool: echo, "
    "operations: [echo, fail] }\n"
    "    - { id: echo-deny, effect: deny, principals: [\"agent:*\"], tool: echo, "
    "operations: [echo], where: { msg: \"deny*\" } }\n"
    "    - id: sleep-approval\n      effect: allow\n      principals: [\"agent:*\"]\n"
    "      tool: echo\n      operations: [sleep]\n"
    "      obligations: { approval: { approvers: [\"user:root\"], quorum: 1, timeout: 30m } }\n";


int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- configuration */

/* ntenants tenants with the echo family, nagents agents spread over them (per_tenant each),
 * the faults policy, batch audit; extra is appended. Agents are named aNN. */
void
setup_agents(int ntenants, int nagents, int per_tenant, const char *extra)
{
	size_t cap = 65536, len = 0;
	char *body = malloc(cap);

	len += (size_t)snprintf(body + len, cap - len, "tenants:\n");
	for (int t = 0; t < ntenants; t++)
		len += (size_t)snprintf(body + len, cap - len,
		    "  t%02d: { uid: %d, families: [echo] }\n", t, UID_BASE + t);
	len += (size_t)snprintf(body + len, cap - len, "agents:\n");
	for (int a = 0; a < nagents; a++)
		len += (size_t)snprintf(body + len, cap - len,
		    "  - { file: agent.yaml, name: a%02d, tenant: t%02d }\n", a, a / per_tenant);
	snprintf(body + len, cap - len, "policies: [policy.yaml]\naudit: { fsync: batch }\n%s",
	    extra ? extra : "");
	hx_config(&h, body);
	hx_file(&h, "agent.yaml", agent_yaml, 0644);
	hx_file(&h, "policy.yaml", policy_yaml, 0644);
	free(body);
}

/* ---------------------------------------------------------------- corralctl jobs */

void
job_start(struct job *j, const char *const *argv)
{
	const char *av[40];
	int n = 0, fd;

	snprintf(j->out, sizeof(j->out), "%s/job-XXXXXX", h.dir);
	fd = mkstemp(j->out);
	cr_assert(fd >= 0);
	av[n++] = hx_bin("corralctl");
	av[n++] = "-s";
	av[n++] = h.sock;
	for (int i = 0; argv[i] && n < 39; i++)
		av[n++] = argv[i];
	av[n] = NULL;
	j->done = false;
	if ((j->pid = fork()) == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(av[0], (char *const *)av);
		_exit(127);
	}
	close(fd);
	cr_assert(j->pid > 0);
}

/* Reap what has ended; returns how many are still running. */
int
jobs_poll(struct job *jobs, int n)
{
	int running = 0;

	for (int i = 0; i < n; i++) {
		if (jobs[i].done)
			continue;
		if (waitpid(jobs[i].pid, &jobs[i].status, WNOHANG) == jobs[i].pid)
			jobs[i].done = true;
		else
			running++;
	}
	return running;
}

void
jobs_wait(struct job *jobs, int n, int timeout_ms)
{
	int64_t end = ms_now() + timeout_ms;

	while (jobs_poll(jobs, n) > 0) {
		if (ms_now() > end) {
			for (int i = 0; i < n; i++)
				if (!jobs[i].done)
					kill(jobs[i].pid, SIGKILL);
			cr_assert_fail("corralctl did not answer within %d ms", timeout_ms);
		}
		usleep(20000);
	}
}

/* ---------------------------------------------------------------- runs */

static enum kind
call_kind(int k)
{
	switch (k % 10) {
	case 6:
		return K_DENY;
	case 7:
		return K_PENDING;
	case 8:
		return K_FAIL;
	default:
		return K_ECHO;
	}
}

/* {"calls": [...]} for agent a: ncalls calls of the mixed kinds; echo messages are unique so
 * an answer can be told from another agent's. */
char *
run_input(int a, int ncalls)
{
	json_t *calls = json_array(), *in;
	char msg[64], *s;

	for (int k = 0; k < ncalls; k++) {
		switch (call_kind(k)) {
		case K_DENY:
			snprintf(msg, sizeof(msg), "deny a%02d c%d", a, k);
			json_array_append_new(calls, json_pack("{s:s, s:s, s:{s:s}}", "tool", "echo",
			    "op", "echo", "args", "msg", msg));
			break;
		case K_PENDING:
			json_array_append_new(calls, json_pack("{s:s, s:s, s:{s:i}}", "tool", "echo",
			    "op", "sleep", "args", "ms", 1));
			break;
		case K_FAIL:
			json_array_append_new(calls, json_pack("{s:s, s:s, s:{s:s}}", "tool", "echo",
			    "op", "fail", "args", "message", "boom"));
			break;
		default:
			snprintf(msg, sizeof(msg), "a%02d c%d", a, k);
			json_array_append_new(calls, json_pack("{s:s, s:s, s:{s:s}}", "tool", "echo",
			    "op", "echo", "args", "msg", msg));
		}
	}
	in = json_pack("{s:o}", "calls", calls);
	s = json_dumps(in, JSON_COMPACT);
	json_decref(in);
	return s;
}

void
run_start(struct job *j, int a, int ncalls)
{
	char name[16], *input = run_input(a, ncalls);
	const char *av[] = { "-o", "json", "run", name, input, NULL };

	snprintf(name, sizeof(name), "a%02d", a);
	job_start(j, av);
	free(input);
}

/* One answered call: its outcome must fit its kind. */
static void
check_call(int a, int k, json_t *r, struct tally *t)
{
	bool ok = json_is_true(json_object_get(r, "ok"));
	int code = (int)json_integer_value(json_object_get(r, "code"));
	bool worker_trouble = code == ERR_WORKER || code == ERR_NOTREADY || code == ERR_TIMEOUT;
	char want[64], *txt = json_dumps(r, JSON_COMPACT);

	t->calls++;
	switch (call_kind(k)) {
	case K_DENY:
		cr_assert(!ok && code == ERR_DENIED, "a%02d call %d should be denied: %s", a, k, txt);
		t->denied++;
		break;
	case K_PENDING:
		cr_assert(!ok && code == ERR_PENDING, "a%02d call %d should be pending: %s", a, k,
		    txt);
		t->pending++;
		break;
	case K_FAIL:
		cr_assert(!ok && (code == ERR_EXEC || worker_trouble), "a%02d call %d: %s", a, k, txt);
		t->failed++;
		break;
	default:
		snprintf(want, sizeof(want), "a%02d c%d", a, k);
		if (ok) {
			cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r,
			    "result"), "msg")), want, "a%02d call %d got another call's answer: %s", a,
			    k, txt);
			t->ok++;
		} else {
			cr_assert(worker_trouble, "a%02d call %d: %s", a, k, txt);
			t->worker_err++;
		}
	}
	free(txt);
}

/* A run ended either with every call answered once, in order, or with an explicit error. */
void
check_run(struct job *j, int a, int ncalls, struct tally *t)
{
	char *out = hx_read(j->out);
	json_t *res, *results;

	cr_assert(WIFEXITED(j->status), "corralctl run a%02d: %s", a, out);
	if (WEXITSTATUS(j->status) != 0) {
		/* the agent's worker died under it, or the supervisor went away */
		cr_assert(strstr(out, "corralctl: run:") != NULL || strstr(out, "\"error\""),
		    "run a%02d: no explicit error: %s", a, out);
		t->runs_failed++;
		free(out);
		return;
	}
	res = json_loads(out, 0, NULL);
	cr_assert_not_null(res, "run a%02d: %s", a, out);
	results = json_object_get(res, "results");
	cr_assert_eq(json_array_size(results), (size_t)ncalls, "run a%02d: %zu answers for %d calls",
	    a, json_array_size(results), ncalls);
	for (int k = 0; k < ncalls; k++)
		check_call(a, k, json_array_get(results, (size_t)k), t);
	t->runs_ok++;
	json_decref(res);
	free(out);
}

/* ---------------------------------------------------------------- the audit log */

/* Every dispatched decision (one with a "call") of a supervisor run has exactly one outcome
 * record of the same call id, and every outcome has its decision. Call ids restart with each
 * supervisor run, so the log is taken run by run (lifecycle start records). With
 * allow_open_tail, the last run may end with decisions that have no outcome (a crash). */
void
audit_check(const char *path, bool allow_open_tail, struct audit_check *ac)
{
	char *all = hx_read(path), *line, *save = NULL;
	size_t cap = 1 << 16;
	int *dec = calloc(cap, sizeof(int)), *out = calloc(cap, sizeof(int));

	memset(ac, 0, sizeof(*ac));
	for (line = strtok_r(all, "\n", &save);; line = strtok_r(NULL, "\n", &save)) {
		json_t *r = line ? json_loads(line, 0, NULL) : NULL;
		const char *type = json_string_value(json_object_get(r, "type"));
		json_int_t call = json_integer_value(json_object_get(r, "call"));
		bool start = type && strcmp(type, "lifecycle") == 0 &&
		    json_object_get(r, "worker") == NULL &&
		    strcmp(json_string_value(json_object_get(r, "event")), "start") == 0;

		cr_assert(line == NULL || r != NULL, "unparsable audit line: %s", line);
		if (line == NULL || start) {
			/* close the previous supervisor run */
			for (size_t i = 0; i < cap; i++) {
				cr_assert(out[i] <= dec[i], "call %zu: an outcome without a decision", i);
				cr_assert(out[i] <= 1, "call %zu: %d outcomes", i, out[i]);
				cr_assert(out[i] == dec[i] || (allow_open_tail && line == NULL),
				    "call %zu: decision without outcome", i);
			}
			memset(dec, 0, cap * sizeof(int));
			memset(out, 0, cap * sizeof(int));
			if (line == NULL)
				break;
			ac->starts++;
		}
		ac->records++;
		cr_assert(call >= 0 && (size_t)call < cap);
		if (type && strcmp(type, "decision") == 0) {
			ac->decisions++;
			if (call > 0) {
				dec[call]++;
				ac->dispatched++;
			}
		} else if (type && strcmp(type, "outcome") == 0 && call > 0) {
			out[call]++;
			ac->outcomes++;
		} else if (type && strcmp(type, "recovery") == 0) {
			ac->recoveries++;
		}
		json_decref(r);
	}
	free(dec);
	free(out);
	free(all);
}

void
audit_verify(void)
{
	char key[400], dir[400], *out = NULL;
	const char *av[] = { hx_bin("corralctl"), "audit", "verify", "--key", key, dir, NULL };
	int rc;

	snprintf(key, sizeof(key), "%s/state/audit.key", h.dir);
	snprintf(dir, sizeof(dir), "%s/state/audit", h.dir);
	rc = hx_run(&out, av);
	cr_assert_eq(rc, 0, "corralctl audit verify: %s", out);
	cr_assert(strstr(out, "OK:") != NULL, "%s", out);
	free(out);
}

/* ---------------------------------------------------------------- workers */

/* pids of the workers in a state (all when state is NULL) */
int
worker_pids(const char *state, pid_t *pids, char (*names)[64], int max)
{
	json_t *st = hx_status(&h), *w;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(st, "workers"), i, w) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(w, "pid"));

		if (n >= max || pid <= 0 || (state && strcmp(json_string_value(json_object_get(w,
		    "state")), state) != 0))
			continue;
		if (names)
			snprintf(names[n], 64, "%s", json_string_value(json_object_get(w, "name")));
		pids[n++] = pid;
	}
	json_decref(st);
	return n;
}

bool
pid_gone(pid_t pid)
{
	char path[64], buf[512];
	int fd;
	ssize_t k;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	/* a zombie waiting for init is gone too */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return true;
	k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[k > 0 ? k : 0] = '\0';
	return strstr(buf, ") Z ") != NULL;
}

/* The children of pid (corral-jail reapers), from /proc. */
int
children_of(pid_t parent, pid_t *out, int max)
{
	char *ps = NULL, *line, *save = NULL;
	const char *av[] = { "/bin/ps", "-e", "-o", "pid=,ppid=", NULL };
	int n = 0;

	hx_run(&ps, av);
	for (line = strtok_r(ps, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
		int p, pp;

		if (sscanf(line, "%d %d", &p, &pp) == 2 && pp == parent)
			out[n++] = p;
	}
	free(ps);
	return n;
}

