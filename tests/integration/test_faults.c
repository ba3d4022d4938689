/* Fault injection and load through a real corrald (suite 'faults'): agents making mixed
 * allowed/denied/pending calls while workers are killed, corrald killed mid-load and
 * restarted, hostile tool servers (hang, trickle, 100 MB), one tenant flooding, and workers
 * that try to take every process, byte of memory, disk block or fd.
 *
 * Tenants get uids from 41300 up, none shared with other tests: corral-jail's RLIMIT_NPROC
 * (LIM_RL_NPROC) counts every task of a uid on the host, and one corral-agent has ~14 threads,
 * one corral-worker ~18 (docs/PERFORMANCE.md, findings). Nothing here asserts a time: bounds
 * are generous deadlines that only catch hangs. */
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
#include "ipc/limits.h"
#include "tests/integration/faultsfx.h"
#include "tests/tools/harness.h"

static void
teardown(void)
{
	hx_cleanup(&h);
}

TestSuite(faults, .timeout = 120, .fini = teardown);

/* ---------------------------------------------------------------- load while workers die */

#define LOAD_TENANTS	8	/* 8 agents + an echo worker per uid: ~130 tasks (RLIMIT_NPROC) */
#define LOAD_AGENTS	64
#define LOAD_CALLS	200
#define LOAD_KILLS	8

/* Kill up to `kills` distinct ready workers, one every ~150 ms while jobs run, alternating
 * between echo workers (calls in flight die with them) and agents (their runs die). */
static int
kill_while_running(struct job *jobs, int njobs, int kills, unsigned seed, int *echo_kills)
{
	static char names[256][64];
	pid_t pids[256], killed[64];
	int nkilled = 0;

	*echo_kills = 0;
	while (jobs_poll(jobs, njobs) > 0 && nkilled < kills) {
		bool want_echo = nkilled % 2 == 0;
		int n;

		usleep(150000);
		n = worker_pids("ready", pids, names, 256);
		for (int tries = 0; n > 0 && tries < 32; tries++) {
			int k = (int)(rand_r(&seed) % (unsigned)n);
			bool seen = false, is_echo = strncmp(names[k], "echo@", 5) == 0;

			for (int i = 0; i < nkilled; i++)
				seen |= killed[i] == pids[k];
			if (seen || is_echo != want_echo)
				continue;
			if (kill(pids[k], SIGKILL) == 0) {
				killed[nkilled++] = pids[k];
				*echo_kills += is_echo;
			}
			break;
		}
	}
	return nkilled;
}

/* 64 agents x 200 calls (allowed, denied, pending, failing) while random workers are killed
 * with SIGKILL: every call gets exactly one answer that fits it (or its run an explicit
 * error), corrald stays up, every dispatched decision has one outcome record, and the audit
 * log verifies. */
Test(faults, load_while_workers_die, .timeout = 180)
{
	static struct job jobs[LOAD_AGENTS];
	struct tally t = { 0 };
	struct audit_check ac;
	int kills, echo_kills;
	int64_t t0 = ms_now(), t1, t2;

	setup_agents(LOAD_TENANTS, LOAD_AGENTS, LOAD_AGENTS / LOAD_TENANTS, NULL);
	hx_start_within(&h, LOAD_TENANTS + LOAD_AGENTS, 60000);
	t1 = ms_now();
	for (int a = 0; a < LOAD_AGENTS; a++)
		run_start(&jobs[a], a, LOAD_CALLS);
	kills = kill_while_running(jobs, LOAD_AGENTS, LOAD_KILLS, 1234, &echo_kills);
	jobs_wait(jobs, LOAD_AGENTS, 120000);
	t2 = ms_now();
	cr_log_info("load: start %lld ms, runs %lld ms", (long long)(t1 - t0), (long long)(t2 - t1));
	for (int a = 0; a < LOAD_AGENTS; a++)
		check_run(&jobs[a], a, LOAD_CALLS, &t);
	cr_log_info("load: %d kills (%d echo); runs %d ok, %d failed; calls %d: %d ok, %d denied, "
	    "%d pending, %d failed, %d worker errors", kills, echo_kills, t.runs_ok, t.runs_failed, t.calls, t.ok, t.denied,
	    t.pending, t.failed, t.worker_err);
	cr_assert_gt(echo_kills, 0, "no echo worker was killed: the test did not test anything");
	cr_assert_gt(kills - echo_kills, 0, "no agent was killed");
	cr_assert_gt(t.ok, 0);
	cr_assert_gt(t.denied, 0);
	cr_assert_gt(t.pending, 0);
	/* the supervisor survived and still answers */
	cr_assert_eq(kill(h.pid, 0), 0, "corrald died");
	{
		json_t *st = hx_status(&h);

		cr_assert_not_null(st, "corrald does not answer after the load");
		json_decref(st);
	}
	cr_assert_eq(hx_stop(&h), 0, "corrald did not stop cleanly");
	audit_check(h.audit, false, &ac);
	cr_log_info("audit: %zu records, %zu decisions (%zu dispatched), %zu outcomes", ac.records,
	    ac.decisions, ac.dispatched, ac.outcomes);
	/* every call an agent made was decided and recorded once */
	cr_assert_geq(ac.decisions, (size_t)t.calls);
	audit_verify();
}

/* ---------------------------------------------------------------- corrald killed mid-load */

static json_t *
pending_approvals(void)
{
	static const char *const av[] = { "-o", "json", "approvals", "--pending", NULL };
	char *out = NULL;
	json_t *j;

	cr_assert_eq(hx_ctl(&h, &out, av), 0, "corralctl approvals: %s", out);
	j = json_loads(out, 0, NULL);
	cr_assert(json_is_array(j), "%s", out);
	free(out);
	return j;
}

static bool
same_ids(json_t *a, json_t *b)
{
	size_t i, k;
	json_t *x, *y;

	if (json_array_size(a) != json_array_size(b))
		return false;
	json_array_foreach(a, i, x) {
		bool found = false;

		json_array_foreach(b, k, y)
			found |= json_equal(json_object_get(x, "id"), json_object_get(y, "id"));
		if (!found)
			return false;
	}
	return true;
}

/* Index (1-based line) of the last record written before the restart, and whether a recovery
 * record follows it (before or right after the new lifecycle start). */
static bool
recovery_after(const char *path, size_t lines_before)
{
	char *all = hx_read(path), *line, *save = NULL;
	size_t n = 0;
	bool found = false;

	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (++n > lines_before && strstr(line, "\"type\":\"recovery\""))
			found = true;
	free(all);
	return found;
}

static size_t
count_lines(const char *path)
{
	char *all = hx_read(path);
	size_t n = 0;

	for (char *p = all; *p; p++)
		n += *p == '\n';
	free(all);
	return n;
}

#define CRASH_TENANTS	4
#define CRASH_AGENTS	12

/* SIGKILL of corrald in the middle of the load, then a restart: no worker (or jail) of the old
 * supervisor survives, every caller gets an explicit error, the audit log verifies as the
 * crash left it, a recovery record follows on restart, and the pending approvals are still
 * there. */
Test(faults, supervisor_killed_mid_load, .timeout = 180)
{
	static struct job jobs[CRASH_AGENTS];
	pid_t old[256];
	int nold;
	json_t *before, *after;
	size_t lines;
	struct audit_check ac;

	setup_agents(CRASH_TENANTS, CRASH_AGENTS, 3, NULL);
	hx_start_within(&h, CRASH_TENANTS + CRASH_AGENTS, 60000);
	/* one pending approval per agent (each asks for echo.sleep once) */
	for (int a = 0; a < CRASH_AGENTS; a++) {
		char name[16];
		const char *av[] = { "run", name, "{\"calls\":[{\"tool\":\"echo\",\"op\":\"sleep\","
		    "\"args\":{\"ms\":1}}]}", NULL };

		snprintf(name, sizeof(name), "a%02d", a);
		job_start(&jobs[a], av);
	}
	jobs_wait(jobs, CRASH_AGENTS, 30000);
	before = pending_approvals();
	cr_assert_eq(json_array_size(before), (size_t)CRASH_AGENTS);

	for (int a = 0; a < CRASH_AGENTS; a++)
		run_start(&jobs[a], a, 2000);
	usleep(400000);
	nold = worker_pids(NULL, old, NULL, 128);
	nold += children_of(h.pid, old + nold, 128);
	cr_assert_gt(nold, CRASH_AGENTS);
	cr_assert_eq(kill(h.pid, SIGKILL), 0);
	waitpid(h.pid, NULL, 0);
	h.pid = 0;
	/* PDEATHSIG: every jail and worker goes with it */
	for (int64_t end = ms_now() + 5000;; usleep(20000)) {
		int alive = 0;

		for (int i = 0; i < nold; i++)
			alive += !pid_gone(old[i]);
		if (alive == 0)
			break;
		cr_assert(ms_now() < end, "%d processes of the killed supervisor survive", alive);
	}
	jobs_wait(jobs, CRASH_AGENTS, 10000);
	for (int a = 0; a < CRASH_AGENTS; a++)
		cr_assert(WIFEXITED(jobs[a].status) && WEXITSTATUS(jobs[a].status) != 0,
		    "run a%02d did not end with an error when corrald died", a);
	/* the log as the crash left it: chain and MACs up to the last record written */
	audit_verify();
	audit_check(h.audit, true, &ac);
	lines = count_lines(h.audit);

	hx_start_within(&h, CRASH_TENANTS + CRASH_AGENTS, 60000);
	after = pending_approvals();
	cr_assert(same_ids(before, after), "pending approvals changed over the crash");
	cr_assert_eq(hx_stop(&h), 0);
	audit_verify();
	cr_assert(recovery_after(h.audit, lines), "no recovery record after the unclean stop "
	    "(the log had %zu lines when corrald was killed)", lines);
	json_decref(before);
	json_decref(after);
}

/* ---------------------------------------------------------------- hostile tool servers */

/* corralctl call FAMILY@TENANT OP ARGS as a job, returning its exit status, output, time. */
static int
call_timed(const char *tool, const char *op, const char *args, char **out, int64_t *ms)
{
	struct job j;
	const char *av[] = { "-o", "json", "call", tool, op, "--args", args, NULL };
	int64_t t0 = ms_now();

	job_start(&j, av);
	jobs_wait(&j, 1, 60000);
	*ms = ms_now() - t0;
	*out = hx_read(j.out);
	return WIFEXITED(j.status) ? WEXITSTATUS(j.status) : -1;
}

static int
restarts_of(const char *name)
{
	json_t *st = hx_status(&h);
	int r = (int)json_integer_value(json_object_get(hx_worker(st, name), "restarts"));

	json_decref(st);
	return r;
}

/* Meanwhile, the neighbours work: tenant b's prometheus (another fake) and tenant a's echo. */
static void
neighbours_fine(const char *when)
{
	char *out;
	int64_t ms;

	cr_assert_eq(call_timed("prometheus@b", "query", "{\"query\":\"up\"}", &out, &ms), 0,
	    "%s: tenant b's prometheus: %s", when, out);
	free(out);
	cr_assert_eq(call_timed("echo@a", "echo", "{\"msg\":\"hi\"}", &out, &ms), 0,
	    "%s: tenant a's echo: %s", when, out);
	free(out);
}

/* Start a hostile call in the background, check the neighbours while it runs, then its end:
 * an explicit error naming want, within bound_ms. */
static void
hostile(struct fake *fa, const char *mode, const char *want, int bound_ms)
{
	struct job j;
	const char *av[] = { "-o", "json", "call", "prometheus@a", "query", "--args",
		"{\"query\":\"up\"}", NULL };
	int64_t t0;
	char *out;

	cr_assert_eq(fake_control(fa, mode), 0);
	t0 = ms_now();
	job_start(&j, av);
	usleep(200000);
	neighbours_fine(mode);
	jobs_wait(&j, 1, 60000);
	out = hx_read(j.out);
	cr_assert(WIFEXITED(j.status) && WEXITSTATUS(j.status) == 1, "%s: %s", mode, out);
	cr_assert(strstr(out, want) != NULL, "%s: expected '%s': %s", mode, want, out);
	cr_assert_lt(ms_now() - t0, bound_ms, "%s: took %lld ms", mode, (long long)(ms_now() - t0));
	cr_assert_eq(fake_control(fa, "{\"clear\": true}"), 0);
	free(out);
}

/* A tool server that hangs, one that trickles, one that sends 100 MB: the endpoint's timeout
 * and the body cap answer the caller with an error, the other tenant's worker and the same
 * tenant's other worker keep working throughout. A tool that hangs inside the worker is cut by
 * the supervisor's deadline and its worker recycled. */
Test(faults, hostile_tool_servers, .timeout = 180)
{
	struct fake fa, fb;
	char body[2048], *out;
	int64_t ms;
	int r0;

	cr_assert_eq(fake_start(&fa, "fake_prometheus.py", NULL), 0);
	cr_assert_eq(fake_start(&fb, "fake_prometheus.py", NULL), 0);
	snprintf(body, sizeof(body),
	    "limits: { call_deadline: 1500ms }\n"
	    "tenants:\n"
	    "  a: { uid: %d, families: [echo] }\n"
	    "  b: { uid: %d, families: [echo] }\n"
	    "endpoints:\n"
	    "  prometheus:\n"
	    "    - { name: pa, tenant: a, url: \"%s\", allow_private: true, timeout: 1500ms }\n"
	    "    - { name: pb, tenant: b, url: \"%s\", allow_private: true, timeout: 1500ms }\n"
	    "audit: { fsync: batch }\n", UID_BASE + 30, UID_BASE + 31, fa.url, fb.url);
	hx_config(&h, body);
	hx_start(&h, 4);
	neighbours_fine("before");
	hostile(&fa, "{\"modes\": [{\"mode\": \"hang\", \"seconds\": 30}]}", "ERR_TIMEOUT", 10000);
	hostile(&fa, "{\"modes\": [{\"mode\": \"slow\", \"chunk\": 8, \"delay_ms\": 300}]}",
	    "ERR_TIMEOUT", 10000);
	hostile(&fa, "{\"modes\": [{\"mode\": \"oversize\", \"size\": 100000000}]}", "ERR_TOOBIG",
	    20000);
	hostile(&fa, "{\"modes\": [{\"mode\": \"oversize\", \"size\": 100000000, "
	    "\"no_length\": true}]}", "ERR_TOOBIG", 20000);
	cr_assert_eq(call_timed("prometheus@a", "query", "{\"query\":\"up\"}", &out, &ms), 0,
	    "tenant a's prometheus after the hostile answers: %s", out);
	free(out);

	/* a tool that hangs inside its worker: the supervisor's deadline answers and recycles */
	r0 = restarts_of("echo@a");
	cr_assert_eq(call_timed("echo@a", "sleep", "{\"ms\":20000}", &out, &ms), 1, "%s", out);
	cr_assert(strstr(out, "ERR_TIMEOUT") != NULL || strstr(out, "deadline") != NULL, "%s", out);
	cr_assert_lt(ms, 10000);
	free(out);
	cr_assert_eq(call_timed("echo@b", "echo", "{\"msg\":\"hi\"}", &out, &ms), 0, "%s", out);
	free(out);
	{
		json_t *st = NULL, *w = hx_wait_state(&h, "echo@a", "ready", 10000, &st);

		cr_assert_not_null(w);
		cr_assert_eq(json_integer_value(json_object_get(w, "restarts")), r0 + 1,
		    "the overrunning worker was not recycled");
		json_decref(st);
	}
	cr_assert_eq(hx_stop(&h), 0);
	out = hx_read(h.audit);
	cr_assert(strstr(out, "recycled after a call overran its deadline"), "%s", out);
	free(out);
	fake_stop(&fa);
	fake_stop(&fb);
}

/* ---------------------------------------------------------------- one tenant floods */

/* {"calls": [n x echo.echo {"msg": msg}]} as a run of agent name, in the background. */
static void
echo_run(struct job *j, const char *agent, int n, const char *msg)
{
	json_t *calls = json_array(), *in;
	char *txt;

	for (int k = 0; k < n; k++)
		json_array_append_new(calls, json_pack("{s:s, s:s, s:{s:s}}", "tool", "echo", "op",
		    "echo", "args", "msg", msg));
	in = json_pack("{s:o}", "calls", calls);
	txt = json_dumps(in, JSON_COMPACT);
	json_decref(in);
	job_start(j, (const char *const[]){ "-o", "json", "run", agent, txt, NULL });
	free(txt);
}

/* A run's answers: how many succeeded, how many were refused by a rate. */
static void
run_counts(struct job *j, int *ok, int *rated)
{
	char *out = hx_read(j->out);
	json_t *res = json_loads(out, 0, NULL), *r;
	size_t i;

	cr_assert_not_null(res, "%s", out);
	*ok = *rated = 0;
	json_array_foreach(json_object_get(res, "results"), i, r) {
		const char *msg = json_string_value(json_object_get(r, "message"));

		if (json_is_true(json_object_get(r, "ok")))
			(*ok)++;
		else if (json_integer_value(json_object_get(r, "code")) == ERR_DENIED && msg &&
		    strstr(msg, "rate"))
			(*rated)++;
	}
	json_decref(res);
	free(out);
}

/* Decision records of principal: allowed and denied. */
static void
audit_decisions(const char *principal, int *allowed, int *denied)
{
	char *all = hx_read(h.audit), *line, *save = NULL;

	*allowed = *denied = 0;
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *r = json_loads(line, 0, NULL);
		const char *type = json_string_value(json_object_get(r, "type"));
		const char *who = json_string_value(json_object_get(r, "principal"));
		const char *d = json_string_value(json_object_get(r, "decision"));

		if (type && who && d && strcmp(type, "decision") == 0 && strcmp(who, principal) == 0) {
			*allowed += strcmp(d, "allow") == 0;
			*denied += strcmp(d, "deny") == 0;
		}
		json_decref(r);
	}
	free(all);
}

#define FLOOD_OVER	6	/* calls past f's rate */

/* Tenant f's agent floods (its calls against a 100/1m rate) while tenant q's agent works:
 * f's rate limit trips (exactly 100 admitted, every further call refused for the rate) and
 * after each refusal corrald stops reading f's channel until the rate has room or
 * LIM_RATE_HOLD_MS passed (back-pressure: f waits instead of taking corrald's loop), so f's
 * refusals come at least a hold apart; every call of f is still answered, in order, and
 * audited; q's calls all succeed. The latency comparison is a benchmark row (tests/bench,
 * "tenant flood"). */
Test(faults, tenant_flood_rate_limited, .timeout = 120)
{
	static const char *const pol =
	    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: flood }\n"
	    "spec:\n  rules:\n"
	    "    - { id: f-echo, effect: allow, principals: [\"agent:f1\"], tool: echo, "
	    "operations: [echo], rate: 100/1m }\n"
	    "    - { id: q-echo, effect: allow, principals: [\"agent:q1\"], tool: echo, "
	    "operations: [echo] }\n";
	char body[1024];
	struct job jobs[2];
	int ok, rated, allowed, denied;
	int64_t t0, f_ms;

	snprintf(body, sizeof(body),
	    "tenants:\n  f: { uid: %d, families: [echo] }\n  q: { uid: %d, families: [echo] }\n"
	    "agents:\n  - { file: agent.yaml, name: f1, tenant: f }\n"
	    "  - { file: agent.yaml, name: q1, tenant: q }\n"
	    "policies: [policy.yaml]\naudit: { fsync: batch }\n", UID_BASE + 40, UID_BASE + 41);
	hx_config(&h, body);
	hx_file(&h, "agent.yaml", agent_yaml, 0644);
	hx_file(&h, "policy.yaml", pol, 0644);
	hx_start(&h, 4);
	t0 = ms_now();
	echo_run(&jobs[0], "f1", 100 + FLOOD_OVER, "flood");
	echo_run(&jobs[1], "q1", 300, "quiet");
	jobs_wait(jobs, 1, 60000);
	f_ms = ms_now() - t0;
	jobs_wait(jobs + 1, 1, 60000);
	run_counts(&jobs[0], &ok, &rated);
	cr_assert_eq(ok, 100, "the flooding tenant got %d calls through", ok);
	cr_assert_eq(rated, FLOOD_OVER, "%d calls refused for the rate", rated);
	/* the first refusal at once, each next one after a hold */
	cr_assert_geq(f_ms, (FLOOD_OVER - 1) * LIM_RATE_HOLD_MS * 9 / 10,
	    "f's %d refusals took %lld ms: its channel was not held", rated, (long long)f_ms);
	run_counts(&jobs[1], &ok, &rated);
	cr_assert_eq(ok, 300, "the quiet tenant lost calls: %d of 300", ok);
	cr_assert_eq(hx_stop(&h), 0);
	audit_decisions("agent:f1", &allowed, &denied);
	cr_assert(allowed == 100 && denied == FLOOD_OVER, "audit: f1 %d allowed, %d denied",
	    allowed, denied);
	audit_decisions("agent:q1", &allowed, &denied);
	cr_assert(allowed == 300 && denied == 0, "audit: q1 %d allowed, %d denied", allowed,
	    denied);
	audit_verify();
}

/* ---------------------------------------------------------------- the start queue */

/* 44 workers (40 agents, 4 echo) configured at once: corrald starts at most 2 per CPU
 * (LIM_SPAWN_INFLIGHT at most) at a time, the rest wait `queued`, and every one of them
 * becomes ready, none `failed` (docs/PERFORMANCE.md, F6: a thousand forks at once made
 * hundreds miss their hello deadline). Status is polled while they start. */
Test(faults, starts_are_queued, .timeout = 120)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int slots = 2 * ncpu < LIM_SPAWN_INFLIGHT ? (int)(2 * ncpu) : LIM_SPAWN_INFLIGHT;
	int max_starting = 0, queued_seen = 0, ready = 0, failed = 0;
	int64_t end;

	if (slots < 2)
		slots = 2;
	setup_agents(4, 40, 10, NULL);
	hx_launch(&h, "info");
	for (end = ms_now() + 90000; ready < 44 && ms_now() < end; usleep(20000)) {
		json_t *st = access(h.sock, F_OK) == 0 ? hx_status(&h) : NULL, *w;
		int starting = 0, queued = 0;
		size_t i;

		ready = failed = 0;
		json_array_foreach(json_object_get(st, "workers"), i, w) {
			const char *state = json_string_value(json_object_get(w, "state"));

			starting += strcmp(state, "starting") == 0;
			queued += strcmp(state, "queued") == 0;
			ready += strcmp(state, "ready") == 0;
			failed += strcmp(state, "failed") == 0;
		}
		json_decref(st);
		if (starting > max_starting)
			max_starting = starting;
		if (queued > queued_seen)
			queued_seen = queued;
		cr_assert_eq(failed, 0, "a worker failed while starting");
		cr_assert(waitpid(h.pid, NULL, WNOHANG) == 0, "corrald died");
	}
	cr_assert_eq(ready, 44, "%d of 44 workers ready", ready);
	cr_assert(max_starting >= 1 && max_starting <= slots, "%d workers starting at once "
	    "(slots: %d)", max_starting, slots);
	cr_assert(queued_seen >= 10, "only %d seen queued at once", queued_seen);
	cr_assert_eq(hx_stop(&h), 0);
}

/* ---------------------------------------------------------------- resource hogs */

/* Run hog MODE [ARG] under corral-jail exactly as corrald starts a worker of profile (the
 * tenant's uid, the profile's rlimits, a rw bind of a host directory on /ipc like the worker's
 * socket directory), with the profile's seccomp allow-list or (no_seccomp) without any filter,
 * to see the limits alone. Returns hog's report line. */
static char *
hog(const char *profile, bool no_seccomp, const char *mode, const char *arg, const char *ipc)
{
	char uid[16], bind[600], *out = NULL;
	const char *av[16];
	int n = 0;

	snprintf(uid, sizeof(uid), "%d", UID_BASE + 50);
	snprintf(bind, sizeof(bind), "%s:/ipc", ipc);
	av[n++] = hx_bin("corral-jail");
	av[n++] = "--profile";
	av[n++] = profile;
	if (no_seccomp)
		av[n++] = "--no-seccomp";
	av[n++] = "--uid";
	av[n++] = uid;
	av[n++] = "--bind-ro";	/* corrald binds the socket directory read-only */
	av[n++] = bind;
	av[n++] = "--";
	av[n++] = hx_bin("hog");
	av[n++] = mode;
	if (arg)
		av[n++] = arg;
	av[n] = NULL;
	hx_run(&out, av);
	return out;
}

static long
hog_count(const char *out, const char *mode)
{
	long n = -1;
	const char *p = strstr(out, mode);

	cr_assert(p && sscanf(p + strlen(mode), " %ld", &n) == 1, "no report from hog %s: %s", mode,
	    out);
	cr_assert(strstr(p, "stopped: ceiling") == NULL,
	    "hog %s was not stopped by any limit: %s", mode, out);
	return n;
}

static void
hogs(const char *profile, bool no_seccomp, const char *ipc)
{
	char *out;
	long n;

	out = hog(profile, no_seccomp, "fork", NULL, ipc);
	n = hog_count(out, "fork");
	cr_assert_leq(n, LIM_RL_NPROC, "%s: %s", profile, out);
	free(out);
#ifndef CORRAL_SANITIZED
	/* A sanitizer build's corral-jail sets no RLIMIT_AS (ASan's shadow memory needs
	 * terabytes of address space), so nothing stops the memory hog there. */
	out = hog(profile, no_seccomp, "mem", NULL, ipc);
	n = hog_count(out, "mem");
	cr_assert_leq(n, (long)(LIM_RL_AS >> 20), "%s: %s", profile, out);
	free(out);
#endif
	out = hog(profile, no_seccomp, "fds", NULL, ipc);
	n = hog_count(out, "fds");
	cr_assert_leq(n, LIM_RL_NOFILE, "%s: %s", profile, out);
	free(out);
	out = hog(profile, no_seccomp, "disk", "/tmp", ipc);
	n = hog_count(out, "disk");
	cr_assert_leq(n, (long)(LIM_JAIL_TMP_SIZE >> 20), "%s: %s", profile, out);
	free(out);
}

/* The directory the worker's socket is in: corrald binds <runtime_dir>/w/NAME read-write on
 * /ipc (prepare_dir in supervisor/worker.c chowns it to the tenant). */
static void
hog_dir(char *ipc, size_t len)
{
	const char *av[] = { "/bin/chown", NULL, ipc, NULL };
	char uid[16], *out = NULL;

	hx_config(&h, "tenants: {}\n");
	snprintf(ipc, len, "%s/ipc", h.dir);
	mkdir(ipc, 0700);
	snprintf(uid, sizeof(uid), "%d", UID_BASE + 50);
	av[1] = uid;
	cr_assert_eq(hx_run(&out, av), 0, "%s", out);
	free(out);
}

/* Workers that fork-bomb, balloon memory, fill their disk or open fds without end are stopped
 * by the confinement corrald gives them (corral-jail's rlimits, its /tmp, the profile), with
 * and without the seccomp filter. corrald has no op that makes a worker misbehave, so the
 * misbehaving program runs under corral-jail directly, with the same options. */
Test(faults, hogs_stopped_by_limits, .timeout = 120)
{
	char ipc[512];

	hog_dir(ipc, sizeof(ipc));
	hogs("http", false, ipc);
	hogs("agent", false, ipc);
	hogs("http", true, ipc);
}

/* ...and the host directory a worker can write, its socket directory, is bounded too: writing
 * file after file there must not fill the host's runtime_dir file system. */
Test(faults, socket_dir_cannot_fill_host_disk, .timeout = 60)
{
	char ipc[512], *out;
	long n;

	hog_dir(ipc, sizeof(ipc));
	out = hog("http", false, "disk", "/ipc", ipc);
	n = hog_count(out, "disk");
	cr_assert_leq(n, (long)(LIM_RL_FSIZE >> 20), "%s", out);
	free(out);
}

/* A cgroup controller file of pid's cgroup ("" when none): cgroup v2 (0::PATH) or the v1
 * hierarchy of the controller (N:CONTROLLER:PATH). */
static char *
cgroup_value(pid_t pid, const char *controller, const char *v1file, const char *v2file)
{
	char path[700], *cg, *line, *save = NULL, *out = NULL;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	cg = hx_read(path);
	for (line = strtok_r(cg, "\n", &save); line && !out; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (c2 == NULL)
			continue;
		*c2 = '\0';
		if (strcmp(c1 + 1, "") == 0 && strncmp(line, "0:", 2) == 0)
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/%s", c2 + 1, v2file);
		else if (strcmp(c1 + 1, controller) == 0)
			snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s/%s", controller, c2 + 1,
			    v1file);
		else
			continue;
		if (access(path, R_OK) == 0)
			out = hx_read(path);
	}
	free(cg);
	return out ? out : strdup("");
}

static bool
limit_is(const char *limits, pid_t pid, const char *rlimit_line, const char *controller,
    const char *v1file, const char *v2file, const char *val)
{
	char *v;
	bool ok;

	if (strstr(limits, rlimit_line) != NULL)
		return true;
	if (controller == NULL)
		return false;
	v = cgroup_value(pid, controller, v1file, v2file);
	ok = strncmp(v, val, strlen(val)) == 0;
	free(v);
	return ok;
}

/* The tenant's limits (corral.yaml tenants.NAME.limits) are what its workers run under, as
 * rlimits or in the worker's cgroup. */
Test(faults, tenant_limits_applied, .timeout = 60)
{
	char body[512], path[64], *lim;
	json_t *st;
	pid_t pid;

	snprintf(body, sizeof(body), "tenants:\n  a:\n    uid: %d\n    families: [echo]\n"
	    "    limits: { memory: 1G, pids: 48, nofile: 128, fsize: 8M }\n", UID_BASE + 60);
	hx_config(&h, body);
	hx_start(&h, 1);
	st = hx_status(&h);
	pid = (pid_t)json_integer_value(json_object_get(hx_worker(st, "echo@a"), "pid"));
	json_decref(st);
	cr_assert_gt(pid, 0);
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	lim = hx_read(path);
	cr_assert(limit_is(lim, pid, "Max open files            128", NULL, NULL, NULL, NULL),
	    "nofile not applied:\n%s", lim);
	cr_assert(limit_is(lim, pid, "Max processes             48", "pids", "pids.max",
	    "pids.max", "48"), "pids not applied:\n%s", lim);
	cr_assert(limit_is(lim, pid, "Max file size             8388608", NULL, NULL, NULL, NULL),
	    "fsize not applied:\n%s", lim);
#ifndef CORRAL_SANITIZED	/* no RLIMIT_AS in a sanitizer build (shadow memory) */
	cr_assert(limit_is(lim, pid, "Max address space         1073741824", "memory",
	    "memory.limit_in_bytes", "memory.max", "1073741824"), "memory not applied:\n%s",
	    lim);
#endif
	free(lim);
	cr_assert_eq(hx_stop(&h), 0);
}
