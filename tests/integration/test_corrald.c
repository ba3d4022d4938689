/* corrald end to end: real corrald, real corral-jail, real confined workers, real corralctl. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"

static const char *echo_cfg =
    "tenants:\n"
    "  demo:\n"
    "    uid: 41001\n"
    "    families: [echo]\n"
    "audit:\n"
    "  fsync: batch\n";

static struct hx h;

static void
teardown(void)
{
	hx_cleanup(&h);
}

TestSuite(corrald, .timeout = 60, .fini = teardown);

/* --check: every error with file:line:col, exit 2; a good file exits 0. */
Test(corrald, check_reports_positions)
{
	char *out = NULL;
	const char *av[] = { NULL, "-c", NULL, "--check", NULL };

	hx_config(&h, "tenants:\n"
	    "  demo: { uid: 41001, families: [echo, nosuch] }\n"
	    "endpoints:\n"
	    "  argocd:\n"
	    "    - { name: prod, tenant: ghost, url: \"https://a.example\", credential: nope }\n"
	    "audit: { fsync: sometimes }\n"
	    "bogus: 1\n");
	av[0] = hx_bin("corrald");
	av[2] = h.cfg;
	cr_assert_eq(hx_run(&out, av), 2, "%s", out);
	cr_assert(strstr(out, "corral.yaml:5:40: unknown tool family 'nosuch'"), "%s", out);
	cr_assert(strstr(out, "corral.yaml:9:17: fsync must be every, batch or none"), "%s", out);
	cr_assert(strstr(out, "corral.yaml:10:1: unknown key 'bogus'"), "%s", out);
	cr_assert(strstr(out, "corral.yaml:8:7: endpoint 'prod': unknown tenant 'ghost'"), "%s", out);
	cr_assert(strstr(out, "corral.yaml:8:7: endpoint 'prod': unknown credential 'nope'"), "%s",
	    out);
	free(out);
	hx_cleanup(&h);
	hx_config(&h, echo_cfg);
	av[2] = h.cfg;
	cr_assert_eq(hx_run(&out, av), 0, "%s", out);
	free(out);
}

/* uids: ranges are checked where they are written: uid and uids together, a range that is
 * not FIRST-LAST, tenants whose uids overlap. */
Test(corrald, check_reports_uid_ranges)
{
	char *out = NULL;
	const char *av[] = { NULL, "-c", NULL, "--check", NULL };

	hx_config(&h, "tenants:\n"
	    "  a: { uid: 41001, uids: 41010-41019 }\n"
	    "  b: { uids: 41030-41020 }\n"
	    "  c: { uids: 41100-41199 }\n"
	    "  d: { uids: 41150-41160 }\n"
	    "  e: { uid: 41199 }\n");
	av[0] = hx_bin("corrald");
	av[2] = h.cfg;
	cr_assert_eq(hx_run(&out, av), 2, "%s", out);
	cr_expect(strstr(out, "corral.yaml:5:26: uid and uids exclude each other"), "%s", out);
	cr_expect(strstr(out, "corral.yaml:6:14: uids must be FIRST-LAST"), "%s", out);
	cr_expect(strstr(out, "corral.yaml:8:3: tenant 'd': its uids overlap those of tenant 'c'"),
	    "%s", out);
	cr_expect(strstr(out, "corral.yaml:9:3: tenant 'e': its uids overlap those of tenant 'c'"),
	    "%s", out);
	free(out);
}

/* The echo worker comes up confined and verified, and a call goes through. */
Test(corrald, echo_call_and_status)
{
	const char *call[] = { "-o", "json", "call", "echo", "echo", "--args", "{\"msg\":\"hi\"}",
		NULL };
	const char *bad[] = { "call", "echo", "echo", "--args", "{\"msg\":1}", NULL };
	char *out = NULL;
	json_t *st, *w, *res, *conf;

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	st = hx_status(&h);
	w = hx_worker(st, "echo@demo");
	cr_assert_not_null(w);
	conf = json_object_get(w, "confinement");
	cr_assert(json_is_true(json_object_get(conf, "verified")));
	cr_assert(json_is_true(json_object_get(conf, "seccomp")));
	cr_assert_eq(json_integer_value(json_object_get(conf, "uid")), 41001);
	cr_assert_gt(json_integer_value(json_object_get(w, "pid")), 1);
	json_decref(st);

	cr_assert_eq(hx_ctl(&h, &out, call), 0, "%s", out);
	res = json_loads(out, 0, NULL);
	cr_assert_not_null(res, "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(res, "msg")), "hi");
	json_decref(res);
	free(out);
	cr_assert_eq(hx_ctl(&h, NULL, bad), 1);
	cr_assert_eq(hx_stop(&h), 0);
	/* decision and outcome are in the audit log */
	out = hx_read(h.audit);
	cr_assert(strstr(out, "\"type\":\"decision\""), "%s", out);
	cr_assert(strstr(out, "\"type\":\"outcome\""), "%s", out);
	cr_assert(strstr(out, "invalid arguments"), "%s", out);
	free(out);
}

static json_t *
crash(const char *how, int expect_rc)
{
	char args[64], *out = NULL;
	const char *av[] = { "call", "echo", "crash", "--args", args, NULL };
	int rc;

	snprintf(args, sizeof(args), "{\"how\":\"%s\"}", how);
	rc = hx_ctl(&h, &out, av);
	cr_assert_eq(rc, expect_rc, "crash %s: rc %d: %s", how, rc, out);
	free(out);
	return NULL;
}

/* A crashing worker is restarted after >= 1 s of backoff; SIGSYS names the syscall. */
Test(corrald, crash_restart_and_sigsys)
{
	json_t *st = NULL, *w;
	int64_t pid0;

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	st = hx_status(&h);
	pid0 = json_integer_value(json_object_get(hx_worker(st, "echo@demo"), "pid"));
	json_decref(st);
	crash("segv", 1);
	w = hx_wait_state(&h, "echo@demo", "backoff", 3000, &st);
	cr_assert_not_null(w, "worker did not go to backoff");
	json_decref(st);
	w = hx_wait_state(&h, "echo@demo", "ready", 5000, &st);
	cr_assert_not_null(w, "worker was not restarted");
	cr_assert_eq(json_integer_value(json_object_get(w, "restarts")), 1);
	cr_assert_neq(json_integer_value(json_object_get(w, "pid")), pid0);
	json_decref(st);

	crash("syscall", 1);
	/* The kernel's seccomp record may come a moment after the death: poll for it. */
	for (int i = 0; i < 60; i++) {
		w = hx_wait_state(&h, "echo@demo", "backoff", 3000, &st);
		cr_assert_not_null(w);
		if (json_integer_value(json_object_get(w, "last_syscall")) == 101)
			break;
		json_decref(st);
		st = NULL;
		usleep(50000);
	}
	cr_assert_not_null(st, "no syscall number reported");
	cr_assert(strstr(json_string_value(json_object_get(w, "last_reason")), "SIGSYS"),
	    "%s", json_string_value(json_object_get(w, "last_reason")));
	cr_assert(strstr(json_string_value(json_object_get(w, "last_reason")), "ptrace"),
	    "%s", json_string_value(json_object_get(w, "last_reason")));
	json_decref(st);
	cr_assert_eq(hx_stop(&h), 0);
}

static bool
wdir_exists(const char *name)
{
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/run/w/%s", h.dir, name);
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Each incarnation of a worker listens in its own directory (the old channel's close may still
 * be running off the loop); a restart removes the old one, and a corrald started after a
 * SIGKILL removes what the killed one left. */
Test(corrald, worker_dir_per_incarnation)
{
	json_t *st = NULL;
	char *log;
	int wst;

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	cr_assert(wdir_exists("echo@demo.0"));
	crash("segv", 1);
	cr_assert_not_null(hx_wait_state(&h, "echo@demo", "backoff", 3000, &st));
	json_decref(st);
	cr_assert_not_null(hx_wait_state(&h, "echo@demo", "ready", 5000, &st));
	json_decref(st);
	cr_assert(wdir_exists("echo@demo.1"));
	cr_assert(!wdir_exists("echo@demo.0"), "the dead incarnation's directory is left");

	cr_assert_eq(kill(h.pid, SIGKILL), 0);
	cr_assert_eq(waitpid(h.pid, &wst, 0), h.pid);
	h.pid = 0;
	cr_assert(wdir_exists("echo@demo.1"));
	hx_start(&h, 1);
	cr_assert(!wdir_exists("echo@demo.1"), "the killed corrald's directory is left");
	cr_assert(wdir_exists("echo@demo.0"));
	log = hx_read(h.log);
	cr_assert(strstr(log, "removed the worker directories of a previous run") != NULL, "%s", log);
	free(log);
	cr_assert_eq(hx_stop(&h), 0);
}

/* Garbage on the wire: the worker is killed as a protocol violation, and it is audited. */
Test(corrald, garbage_kills_worker)
{
	json_t *st = NULL, *w;
	char *audit;

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	crash("garbage", 1);
	w = hx_wait_state(&h, "echo@demo", "backoff", 3000, &st);
	cr_assert_not_null(w);
	cr_assert(strstr(json_string_value(json_object_get(w, "last_reason")),
	    "protocol violation"), "%s", json_string_value(json_object_get(w, "last_reason")));
	json_decref(st);
	cr_assert_eq(hx_stop(&h), 0);
	audit = hx_read(h.audit);
	cr_assert(strstr(audit, "\"event\":\"violation\""), "%s", audit);
	free(audit);
}

/* A worker that keeps dying ends failed and is not restarted again. */
Test(corrald, crash_loop_ends_failed, .timeout = 90)
{
	json_t *st = NULL, *w = NULL;

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	for (int i = 0; i < 5; i++) {
		w = hx_wait_state(&h, "echo@demo", "ready", 40000, &st);
		if (w == NULL)
			break;
		json_decref(st);
		crash("exit", 1);
	}
	w = hx_wait_state(&h, "echo@demo", "failed", 40000, &st);
	cr_assert_not_null(w, "worker did not end failed");
	json_decref(st);
	cr_assert_eq(hx_stop(&h), 0);
}

static int
count_descendants(pid_t root)
{
	char *out = NULL;
	const char *av[] = { "/bin/ps", "-e", "-o", "pid=,ppid=", NULL };
	int n = 0, pids[4096], ppids[4096], np = 0;
	char *p;

	hx_run(&out, av);
	for (p = strtok(out, "\n"); p && np < 4096; p = strtok(NULL, "\n"))
		if (sscanf(p, "%d %d", &pids[np], &ppids[np]) == 2)
			np++;
	for (int changed = 1, set[4096] = { 0 }; changed;) {
		changed = 0;
		for (int i = 0; i < np; i++)
			if (!set[i] && (ppids[i] == root || 0)) {
				set[i] = 1;
				n++;
				changed = 1;
			}
		break;
	}
	free(out);
	return n;
}

/* SIGTERM: exit 0 and no worker (or jail) left behind. */
Test(corrald, sigterm_leaves_nothing)
{
	json_t *st;
	int64_t wpid;
	pid_t d;

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	st = hx_status(&h);
	wpid = json_integer_value(json_object_get(hx_worker(st, "echo@demo"), "pid"));
	/* who corrald is, and who spawned its jails */
	cr_assert_str_eq(json_string_value(json_object_get(st, "jails")),
	    h.privsep ? "corral-privd" : "corrald");
	cr_assert_eq(json_integer_value(json_object_get(st, "uid")), h.privsep ? HX_CORRALD_UID : 0);
	json_decref(st);
	d = h.privsep ? h.privd_pid : h.pid;	/* whose children the jails are */
	cr_assert_gt(count_descendants(d), 0);
	cr_assert_eq(hx_stop(&h), 0);
	cr_assert_eq(kill((pid_t)wpid, 0), -1, "worker %lld survived", (long long)wpid);
	cr_assert_eq(count_descendants(d), 0);
}

/* SIGTERM drains: a call in flight when the signal comes still gets its answer. */
Test(corrald, sigterm_drains_inflight)
{
	const char *av[] = { "call", "echo", "sleep", "--args", "{\"ms\":1500}", NULL };
	char *out = NULL;
	pid_t c;
	int st;

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	if ((c = fork()) == 0) {
		int rc = hx_ctl(&h, &out, av);

		_exit(rc == 0 && strstr(out, "slept_ms") ? 0 : 1);
	}
	usleep(400000);
	kill(h.pid, SIGTERM);
	waitpid(c, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the in-flight call lost its answer");
	cr_assert_eq(hx_stop(&h), 0);
}

/* A compromised worker that speaks the protocol well (echo.crash how=lies): it forges
 * RESULTs, ERRORs and EVENTs for every call id but its own, then sends a CALL, which no tool
 * worker may. Every forged answer is dropped (a call is answered only by the worker it was
 * handed to), the CALL gets the liar killed as a violation, and the other tenant's call in
 * flight meanwhile gets its own answer. */
Test(corrald, forged_answers_are_dropped)
{
	const char *lies[] = { "-o", "json", "call", "echo@demo", "crash", "--args",
		"{\"how\":\"lies\"}", NULL };
	const char *slow[] = { "-o", "json", "call", "echo@other", "sleep", "--args",
		"{\"ms\":2000}", NULL };
	json_t *st = NULL, *w;
	char *out = NULL;
	pid_t c;
	int ws;

	hx_config(&h, "tenants:\n  demo: { uid: 41001, families: [echo] }\n"
	    "  other: { uid: 41002, families: [echo] }\naudit:\n  fsync: batch\n");
	hx_start(&h, 2);
	if ((c = fork()) == 0) {
		int rc = hx_ctl(&h, &out, slow);

		_exit(rc == 0 && strstr(out, "\"slept_ms\": 2000") && !strstr(out, "forged") ? 0 : 1);
	}
	usleep(500000);		/* the other tenant's call is in flight */
	cr_assert_eq(hx_ctl(&h, &out, lies), 1, "%s", out);
	cr_assert_null(strstr(out, "forged"), "a forged answer reached the caller: %s", out);
	free(out);
	w = hx_wait_state(&h, "echo@demo", "backoff", 5000, &st);
	cr_assert_not_null(w, "the liar was not killed");
	cr_assert_not_null(strstr(json_string_value(json_object_get(w, "last_reason")),
	    "unexpected CALL message"), "%s", json_string_value(json_object_get(w, "last_reason")));
	json_decref(st);
	cr_assert_eq(waitpid(c, &ws, 0), c);
	cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
	    "the other tenant's call got a forged answer, or none");
	st = hx_status(&h);
	w = hx_worker(st, "echo@other");
	cr_assert_str_eq(json_string_value(json_object_get(w, "state")), "ready");
	cr_assert_eq(json_integer_value(json_object_get(w, "restarts")), 0);
	json_decref(st);
	cr_assert_eq(hx_stop(&h), 0);
	out = hx_read(h.audit);
	cr_assert_not_null(strstr(out, "\"event\":\"violation\""), "%s", out);
	cr_assert_null(strstr(out, "forged"), "a forged answer was audited");
	free(out);
}

/* SIGHUP re-reads the file: a tenant added gets its worker, a tenant removed loses its own;
 * a broken file keeps the running configuration. */
Test(corrald, sighup_reload)
{
	json_t *st = NULL, *w;
	char cfg[2048];
	const char *two = "tenants:\n"
	    "  demo: { uid: 41001, families: [echo] }\n"
	    "  blue: { uid: 41003, families: [echo] }\n";

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	snprintf(cfg, sizeof(cfg), "runtime_dir: %s/run\nstate_dir: %s/state\nlibexec_dir: %s\n%s",
	    h.dir, h.dir, getenv("CORRAL_LIBEXEC"), two);
	hx_file(&h, "corral.yaml", cfg, 0600);
	kill(h.pid, SIGHUP);
	w = hx_wait_state(&h, "echo@blue", "ready", 5000, &st);
	cr_assert_not_null(w, "the added tenant's worker did not start");
	json_decref(st);
	/* broken file: nothing changes */
	hx_file(&h, "corral.yaml", "tenants: [oops\n", 0600);
	kill(h.pid, SIGHUP);
	usleep(300000);
	w = hx_wait_state(&h, "echo@blue", "ready", 2000, &st);
	cr_assert_not_null(w, "a broken reload changed the running configuration");
	json_decref(st);
	snprintf(cfg, sizeof(cfg), "runtime_dir: %s/run\nstate_dir: %s/state\nlibexec_dir: %s\n%s",
	    h.dir, h.dir, getenv("CORRAL_LIBEXEC"), echo_cfg);
	hx_file(&h, "corral.yaml", cfg, 0600);
	kill(h.pid, SIGHUP);
	w = hx_wait_state(&h, "echo@blue", "stopped", 5000, &st);
	cr_assert_not_null(w, "the removed tenant's worker did not stop");
	json_decref(st);
	w = hx_wait_state(&h, "echo@demo", "ready", 2000, &st);
	cr_assert_not_null(w);
	json_decref(st);
	cr_assert_eq(hx_stop(&h), 0);
}

/* The audit log cannot be written (full disk): mutating calls are refused, reads go on when
 * the configuration says reads_when_failed: allow. The state dir is a tiny tmpfs. */
Test(corrald, full_disk_fails_closed)
{
	const char *rd[] = { "call", "echo", "echo", "--args", "{\"msg\":\"read\"}", NULL };
	const char *wr[] = { "call", "echo", "store", "--args", "{\"value\":\"x\"}", NULL };
	char state[400], fill[450], *out = NULL;
	const char *mnt[] = { "/bin/mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", state, NULL };
	const char *umnt[] = { "/bin/umount", "-l", state, NULL };
	const char *dd[] = { "/bin/dd", "if=/dev/zero", fill, "bs=4k", NULL };

	hx_config(&h, "tenants:\n  demo: { uid: 41001, families: [echo] }\n"
	    "audit: { fsync: every, reads_when_failed: allow }\n");
	snprintf(state, sizeof(state), "%s/state", h.dir);
	snprintf(fill, sizeof(fill), "of=%s/state/fill", h.dir);
	mkdir(state, 0700);
	cr_assert_eq(hx_run(&out, mnt), 0, "%s", out);
	free(out);
	hx_start(&h, 1);
	cr_assert_eq(hx_ctl(&h, NULL, wr), 0, "a write must work while the disk has room");
	hx_run(NULL, dd);	/* fills the tmpfs: dd ends with ENOSPC */
	/* The audit file's last page may still hold a few records: write until it is full. */
	for (int i = 0; i < 40; i++) {
		int rc = hx_ctl(&h, &out, wr);

		if (rc != 0)
			break;
		free(out);
		out = NULL;
	}
	cr_assert_not_null(out, "writes went on with a full disk");
	cr_assert(strstr(out, "audit"), "%s", out);
	free(out);
	cr_assert_eq(hx_ctl(&h, &out, wr), 1, "a write after the failure: %s", out);
	free(out);
	cr_assert_eq(hx_ctl(&h, &out, rd), 0, "reads must go on: %s", out);
	free(out);
	unlink(fill + 3);
	cr_assert_eq(hx_ctl(&h, &out, wr), 0, "writes must resume with room: %s", out);
	free(out);
	hx_stop(&h);
	hx_run(NULL, umnt);
}

/* No core file can hold an injected credential: RLIMIT_CORE 0, and not dumpable (which also
 * keeps other processes of its uid from ptrace; the files in /proc/PID then belong to root). */
Test(corrald, no_core_dumps)
{
	char path[64], *limits;
	struct stat st;

	hx_config(&h, echo_cfg);
	hx_start(&h, 1);
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)h.pid);
	limits = hx_read(path);
	cr_assert(strstr(limits, "Max core file size        0                    0") != NULL,
	    "%s", limits);
	free(limits);
	if (h.privsep) {	/* as root, its /proc files are root's whether dumpable or not */
		snprintf(path, sizeof(path), "/proc/%d/status", (int)h.pid);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_uid, 0, "corrald (uid %d) is dumpable", HX_CORRALD_UID);
	}
}
