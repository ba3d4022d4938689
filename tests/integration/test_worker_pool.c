/* The worker runtime's leader/followers pool (workers/runtime.c) through a real corrald and a
 * real confined echo worker: the thread that receives a call runs it, yet a slow call does
 * not hold up the others (a follower takes over receiving), concurrent calls each get their
 * own answer, and a SHUTDOWN with slow calls in flight still ends the worker cleanly. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"

static const char *echo_cfg =
    "tenants:\n"
    "  pool:\n"
    "    uid: 41374\n"
    "    families: [echo]\n"
    "audit:\n"
    "  fsync: batch\n";

static struct hx h;

static void
teardown(void)
{
	hx_cleanup(&h);
}

TestSuite(worker_pool, .timeout = 90, .fini = teardown);

static long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Run a call in a child; the child exits 0 when the answer holds want. */
static pid_t
call_bg(const char *op, const char *args, const char *want)
{
	pid_t c = fork();

	if (c == 0) {
		const char *av[] = { "call", "echo", op, "--args", args, NULL };
		char *out = NULL;
		int rc = hx_ctl(&h, &out, av);

		_exit(rc == 0 && out && strstr(out, want) ? 0 : 1);
	}
	return c;
}

static int
wait_ok(pid_t c)
{
	int st;

	return waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

Test(worker_pool, slow_call_does_not_hold_up_fast_ones)
{
	const char *av[] = { "call", "echo", "echo", "--args", "{\"msg\":\"fast-one\"}", NULL };
	pid_t slow[3];
	char *out = NULL;
	long t0, took;

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	/* three of the worker's four threads busy for 3 s */
	for (int i = 0; i < 3; i++)
		slow[i] = call_bg("sleep", "{\"ms\":3000}", "slept_ms");
	usleep(500000);
	t0 = ms_now();
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(hx_ctl(&h, &out, av), 0, "%s", out);
		cr_assert_not_null(strstr(out, "fast-one"), "%s", out);
		free(out);
		out = NULL;
	}
	took = ms_now() - t0;
	cr_assert_lt(took, 2000, "5 fast calls took %ld ms behind 3 slow ones", took);
	for (int i = 0; i < 3; i++)
		cr_assert(wait_ok(slow[i]), "slow call %d lost its answer", i);
	cr_assert_eq(hx_stop(&h), 0);
}

Test(worker_pool, concurrent_calls_get_their_own_answers)
{
	char args[64], want[32];
	pid_t c[24];

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	for (int i = 0; i < 24; i++) {
		snprintf(args, sizeof(args), "{\"msg\":\"m-%02d-x\"}", i);
		snprintf(want, sizeof(want), "m-%02d-x", i);
		c[i] = i % 6 == 0 ? call_bg("sleep", "{\"ms\":200}", "slept_ms") :
		    call_bg("echo", args, want);
	}
	for (int i = 0; i < 24; i++)
		cr_assert(wait_ok(c[i]), "call %d", i);
	cr_assert_eq(hx_stop(&h), 0);
}

/* SIGTERM while slow calls run: they are answered, then the worker and corrald exit. */
Test(worker_pool, stop_with_slow_calls_in_flight)
{
	pid_t slow[4];

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	for (int i = 0; i < 4; i++)
		slow[i] = call_bg("sleep", "{\"ms\":1200}", "slept_ms");
	usleep(400000);
	kill(h.pid, SIGTERM);
	for (int i = 0; i < 4; i++)
		cr_assert(wait_ok(slow[i]), "in-flight call %d lost its answer", i);
	cr_assert_eq(hx_stop(&h), 0);
}

/* uids: FIRST-LAST gives every worker of the tenant a uid of its own (docs/PERFORMANCE.md,
 * F10): RLIMIT_NPROC counts a uid's tasks host-wide, so with one shared uid a pids limit of
 * 32 holds no more than two agents (~14 threads each) next to the echo worker (~18); with a
 * uid each, all come up. Each agent's state directory is its own uid's. A reload that asks
 * for one worker more than the range holds starts it not, says why, and shows it waiting; the
 * next reload, which removes another agent, hands that one's uid over once its jail has been
 * reaped. */
static const char *const agent_file =
    "apiVersion: corral.dev/v1\nkind: Agent\nmetadata: { name: %s }\n"
    "spec:\n  model: google:gemini-2.5-flash\n  tools: [echo]\n  system_prompt: x\n";

static void
uids_config(struct hx *hx, int first, int nagents)
{
	char body[2048], f[256], name[32];
	size_t off;

	off = (size_t)snprintf(body, sizeof(body), "runtime_dir: %s/run\nstate_dir: %s/state\n"
	    "libexec_dir: %s\ntenants:\n  demo: { uids: 41200-41203, families: [echo], "
	    "limits: { pids: 32 } }\nagents:\n", hx->dir, hx->dir, getenv("CORRAL_LIBEXEC"));
	for (int i = first; i < nagents; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		snprintf(f, sizeof(f), agent_file, name);
		snprintf(body + off, sizeof(body) - off, "  - { file: %s.yaml, tenant: demo }\n", name);
		off = strlen(body);
		snprintf(name, sizeof(name), "a%d.yaml", i);
		hx_file(hx, name, f, 0644);
	}
	hx_file(hx, "corral.yaml", body, 0600);
}

static uid_t
worker_uid(json_t *st, const char *name)
{
	json_t *w = hx_worker(st, name);

	cr_assert_not_null(w, "no worker %s", name);
	return (uid_t)json_integer_value(json_object_get(json_object_get(w, "confinement"),
	    "uid"));
}

Test(worker_pool, a_uid_per_worker_from_the_tenants_range)
{
	json_t *st, *w;
	uid_t seen[4] = { 0 }, a0_uid;
	size_t i, n = 0;
	char path[512], *log;
	struct stat sb;

	hx_config(&h, "tenants: {}\n");
	uids_config(&h, 0, 3);
	hx_start(&h, 4);
	st = hx_status(&h);
	json_array_foreach(json_object_get(st, "workers"), i, w) {
		json_int_t uid = json_integer_value(json_object_get(json_object_get(w,
		    "confinement"), "uid"));

		cr_expect_str_eq(json_string_value(json_object_get(w, "state")), "ready");
		cr_assert(uid >= 41200 && uid <= 41203, "uid %lld outside the range",
		    (long long)uid);
		for (size_t k = 0; k < n; k++)
			cr_expect_neq(seen[k], (uid_t)uid, "uid %lld given twice", (long long)uid);
		if (n < 4)
			seen[n++] = (uid_t)uid;
		if (strncmp(json_string_value(json_object_get(w, "name")), "agent-", 6) == 0) {
			snprintf(path, sizeof(path), "%s/state/agents/demo/%s", h.dir,
			    json_string_value(json_object_get(w, "name")) + 6);
			*strchr(path + strlen(h.dir), '@') = '\0';
			cr_expect(stat(path, &sb) == 0 && sb.st_uid == (uid_t)uid,
			    "%s is not its agent's (uid %lld)", path, (long long)uid);
		}
	}
	cr_expect_eq(n, 4);
	json_decref(st);
	/* a fourth agent: five workers for four uids */
	uids_config(&h, 0, 4);
	kill(h.pid, SIGHUP);
	usleep(1500000);
	st = hx_status(&h);
	w = hx_worker(st, "agent-a3@demo");
	cr_assert_not_null(w);
	cr_expect_str_eq(json_string_value(json_object_get(w, "state")), "waiting-uid");
	cr_expect_eq(json_integer_value(json_object_get(w, "pid")), 0, "a worker beyond the range");
	cr_expect_not_null(hx_worker(st, "agent-a2@demo"));
	a0_uid = worker_uid(st, "agent-a0@demo");
	json_decref(st);
	log = hx_read(h.log);
	cr_expect(strstr(log, "tenant's uids are used up") != NULL, "%s", log);
	free(log);
	/* a0 goes: a3 gets its uid once a0's jail is gone, never while it runs */
	uids_config(&h, 1, 4);
	kill(h.pid, SIGHUP);
	for (int tries = 0; tries < 100; tries++) {
		usleep(100000);
		st = hx_status(&h);
		w = hx_worker(st, "agent-a3@demo");
		if (w && strcmp(json_string_value(json_object_get(w, "state")), "ready") == 0)
			break;
		json_decref(st);
		st = NULL;
	}
	cr_assert_not_null(st, "agent-a3 never started on the uid agent-a0 gave up");
	cr_expect_eq(worker_uid(st, "agent-a3@demo"), a0_uid);
	w = hx_worker(st, "agent-a0@demo");
	cr_expect(w == NULL || strcmp(json_string_value(json_object_get(w, "state")),
	    "stopped") == 0, "agent-a0 still runs next to the holder of its uid");
	json_decref(st);
	snprintf(path, sizeof(path), "%s/state/agents/demo/a3", h.dir);
	cr_expect(stat(path, &sb) == 0 && sb.st_uid == a0_uid, "%s is not agent-a3's", path);
	log = hx_read(h.log);
	cr_expect(strstr(log, "a uid came free") != NULL, "%s", log);
	free(log);
	cr_assert_eq(hx_stop(&h), 0);
}
