/* Spawn -> ready per worker kind, idle memory per kind, and memory with N hosted agents.
 *
 * Spawn -> ready is read from corrald's own log: corrald spawns its workers, then logs
 * "corrald ready"; the worker's "ready" line is logged once its HELLO came and /proc/PID/status
 * was checked (confined, verified). The difference of the two timestamps (ms resolution) is
 * spawn -> ready; the median of several corrald starts is reported. The baseline is bubblewrap
 * starting /bin/true in new namespaces, timed from fork to exit.
 *
 * Memory is Rss and Pss from /proc/PID/smaps_rollup of the worker and of its corral-jail reaper
 * (a worker costs both), against /bin/sleep under the same jail. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define UID_SPAWN	41440
#define UID_HOSTED	42000
#define HOSTED_PER_TENANT 25	/* ~14 threads each: 350 tasks per uid, under LIM_RL_NPROC */

static const char *const agent_yaml =
    "apiVersion: corral.dev/v1\nkind: Agent\nmetadata: { name: a }\n"
    "spec:\n  model: script:none\n  tools: [echo]\n";

struct kind {
	const char *kind, *worker;
	const char *tenant_extra;	/* inside the tenant's map, after its uid */
	const char *rest;		/* after the tenants */
	int workers;
	const char *target;
	double target_ratio, target_mib;
};

static const struct kind kinds[] = {
	{ "agent", "agent-a1@s", "", "agents:\n  - { file: agent.yaml, name: a1, tenant: s }\n", 1,
	  "<= 1.0x", 1.0, 2.0 },
	{ "http", "echo@s", ", families: [echo]", "", 1, "<= 4x", 4.0, 6.0 },
	{ "exec", "flux@s", ", families: [flux]", "", 1, "", 0, 0 },
	{ "model", "model@s", "", "models:\n  - { name: m, provider: script, script: script.yaml }\n"
	  "agents:\n  - { file: agent.yaml, name: a1, tenant: s, model: m }\n", 2, "", 0, 0 },
};

/* "ts=2026-11-24T13:08:04.734Z" of the first line holding needle: ms of the day, or -1. */
static int64_t
log_ts(const char *log, const char *needle)
{
	const char *p = strstr(log, needle), *line;
	int hh, mm, ss, ms;

	if (p == NULL)
		return -1;
	for (line = p; line > log && line[-1] != '\n'; line--)
		;
	if ((line = strstr(line, "ts=")) == NULL || line > p ||
	    sscanf(line, "ts=%*d-%*d-%*dT%d:%d:%d.%dZ", &hh, &mm, &ss, &ms) != 4)
		return -1;
	return ((int64_t)hh * 3600 + mm * 60 + ss) * 1000 + ms;
}

/* One corrald start: spawn -> ready of the kind's worker (ms), and its memory when mem. */
static double
spawn_once(struct bx *b, const struct kind *k, long mem[4])
{
	char needle[160], *log;
	int64_t end = bench_now_ns() + 15000000000LL, t0 = -1, t1 = -1;

	snprintf(needle, sizeof(needle), "msg=\"ready\" worker=%s ", k->worker);
	if (bx_start(b, 0, 15000) < 0)
		return -1;
	while (bench_now_ns() < end) {
		log = bench_read(b->log);
		t0 = log_ts(log, "msg=\"corrald ready\"");
		t1 = log_ts(log, needle);
		free(log);
		if (t0 >= 0 && t1 >= 0)
			break;
		usleep(2000);
	}
	if (mem && t1 >= 0) {
		json_t *st;
		size_t i;
		json_t *w;

		usleep(1000000);	/* idle */
		st = bx_status(b);
		json_array_foreach(json_object_get(st, "workers"), i, w)
			if (strcmp(json_string_value(json_object_get(w, "name")), k->worker) == 0) {
				pid_t pid = (pid_t)json_integer_value(json_object_get(w, "pid"));

				bench_mem(pid, &mem[0], &mem[1]);
				bench_mem(bench_ppid(pid), &mem[2], &mem[3]);
				mem[4] = bench_uss(pid) + bench_uss(bench_ppid(pid));
			}
		json_decref(st);
	}
	bx_stop(b);
	return t0 >= 0 && t1 >= 0 ? (double)(t1 - t0) : -1;
}

/* bwrap --unshare-all --ro-bind / / /bin/true, fork to exit, median ms. */
static double
bwrap_ms(int n)
{
	const char *av[] = { "/usr/bin/bwrap", "--unshare-all", "--ro-bind", "/", "/", "/bin/true",
		NULL };
	double *t = calloc((size_t)n, sizeof(*t)), m;

	for (int i = 0; i < n; i++) {
		int64_t t0 = bench_now_ns();

		if (bench_run(av, NULL, 10000) != 0) {
			free(t);
			return -1;
		}
		t[i] = (double)(bench_now_ns() - t0) / 1e6;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_dbl);
	m = t[n / 2];
	free(t);
	return m;
}

/* /bin/sleep under corral-jail --profile agent: Pss of the program + the reaper, KiB. */
static long
sleep_pss(long *rss_out)
{
	char uid[16];
	const char *av[] = { bench_bin("corral-jail"), "--profile", "agent", "--uid", uid, "--",
		"/bin/sleep", "30", NULL };
	long rss[2] = { 0 }, pss[2] = { 0 };
	char path[96], *kids;
	pid_t jail, prog = 0;

	snprintf(uid, sizeof(uid), "%d", UID_SPAWN + 9);
	if (av[0] == NULL || (jail = fork()) < 0)
		return -1;
	if (jail == 0) {
		execv(av[0], (char *const *)av);
		_exit(127);
	}
	usleep(500000);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)jail, (int)jail);
	kids = bench_read(path);
	prog = (pid_t)strtol(kids, NULL, 10);
	free(kids);
	if (prog > 0) {
		bench_mem(prog, &rss[0], &pss[0]);
		bench_mem(jail, &rss[1], &pss[1]);
	}
	kill(jail, SIGKILL);
	waitpid(jail, NULL, 0);
	*rss_out = rss[0] + rss[1];
	return prog > 0 ? pss[0] + pss[1] : -1;
}

static void
spawn_kind(const struct kind *k, int samples, double bwrap, long base_pss, long base_rss)
{
	char body[1024], id[8], name[64], note[160];
	struct bx b;
	double *t = calloc((size_t)samples, sizeof(*t)), med;
	long mem[5] = { -1, -1, -1, -1, -1 };
	int n = 0;

	snprintf(body, sizeof(body), "tenants:\n  s: { uid: %d%s }\n%s", UID_SPAWN + (int)(k - kinds),
	    k->tenant_extra, k->rest);
	if (bx_config(&b, body) < 0 || bx_file(&b, "agent.yaml", agent_yaml) < 0 ||
	    bx_file(&b, "script.yaml", "turns:\n  - say: hello\n") < 0) {
		free(t);
		return;
	}
	for (int i = 0; i < samples; i++) {
		double ms = spawn_once(&b, k, i == samples - 1 ? mem : NULL);

		if (ms >= 0)
			t[n++] = ms;
	}
	snprintf(id, sizeof(id), "3%c", 'a' + (int)(k - kinds));
	snprintf(name, sizeof(name), "spawn -> ready (confined, verified), %s", k->kind);
	if (n == 0) {
		char *log = bench_read(b.log), *d = strstr(log, "msg=\"died\"");

		snprintf(note, sizeof(note), "never ready: %.100s", d ? d : "see corrald log");
		row_na(id, name, note);
		row_na(id[1] == 'a' ? "4a" : id[1] == 'b' ? "4b" : id[1] == 'c' ? "4c" : "4d",
		    "idle worker memory", "never ready");
		free(log);
	} else {
		qsort(t, (size_t)n, sizeof(*t), cmp_dbl);
		med = t[n / 2];
		snprintf(note, sizeof(note), "median of %d corrald starts, ms resolution", n);
		row_add(id, name, med, "ms", "bwrap --unshare-all /bin/true", bwrap, k->target,
		    k->target_ratio <= 0 || bwrap <= 0 ? V_NONE : med <= k->target_ratio * bwrap ?
		    V_PASS : V_MISS, note);
		snprintf(id, sizeof(id), "4%c", 'a' + (int)(k - kinds));
		snprintf(name, sizeof(name), "idle %s worker + its jail, PSS", k->kind);
		snprintf(note, sizeof(note), "worker RSS %.2f MiB PSS %.2f, jail RSS %.2f PSS %.2f; "
		    "both private (USS) %.2f; baseline RSS %.2f", mem[0] / 1024.0, mem[1] / 1024.0,
		    mem[2] / 1024.0, mem[3] / 1024.0, mem[4] / 1024.0, base_rss / 1024.0);
		row_add(id, name, (double)(mem[1] + mem[3]) / 1024.0, "MiB",
		    "/bin/sleep + jail, PSS", (double)base_pss / 1024.0, k->target_mib > 0 ?
		    (k->target_mib == 2.0 ? "<= 2 MiB" : "<= 6 MiB") : "", k->target_mib <= 0 ? V_NONE :
		    (double)(mem[1] + mem[3]) / 1024.0 <= k->target_mib ? V_PASS : V_MISS, note);
	}
	bx_cleanup(&b);
	free(t);
}

void
bench_spawn_memory(const struct opts *o)
{
	int samples = o->quick ? 5 : 15;
	double bwrap = access("/usr/bin/bwrap", X_OK) == 0 ? bwrap_ms(samples * 2) : -1;
	long base_rss = 0, base_pss = sleep_pss(&base_rss);

	bench_log("bwrap %.2f ms; jailed sleep PSS %ld KiB", bwrap, base_pss);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		spawn_kind(&kinds[i], samples, bwrap, base_pss, base_rss);
}

/* ---------------------------------------------------------------- N hosted agents */

/* Rss/Pss of root and every descendant, KiB; *nproc how many processes. */
static void
tree_mem(pid_t root, long *rss, long *pss, int *nproc)
{
	enum { PID_LIMIT = 1 << 22 };	/* /proc/sys/kernel/pid_max at most */
	const char *av[] = { "/bin/ps", "-e", "-o", "pid=,ppid=", NULL };
	char *ps = NULL, *line, *save = NULL;
	static int pid[65536], ppid[65536];
	unsigned char *mark = calloc(PID_LIMIT, 1);
	int n = 0;

	*rss = *pss = 0;
	*nproc = 0;
	if (mark == NULL || root <= 0 || root >= PID_LIMIT)
		goto out;
	bench_run(av, &ps, 30000);
	for (line = strtok_r(ps, "\n", &save); line && n < 65536; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%d %d", &pid[n], &ppid[n]) == 2 && pid[n] > 0 &&
		    pid[n] < PID_LIMIT && ppid[n] >= 0 && ppid[n] < PID_LIMIT)
			n++;
	mark[root] = 1;
	for (bool more = true; more;) {
		more = false;
		for (int i = 0; i < n; i++)
			if (!mark[pid[i]] && mark[ppid[i]]) {
				mark[pid[i]] = 1;
				more = true;
			}
	}
	for (int i = 0; i < n; i++) {
		long r, p;

		if (mark[pid[i]] && bench_mem(pid[i], &r, &p) == 0) {
			*rss += r;
			*pss += p;
			(*nproc)++;
		}
	}
out:
	free(ps);
	free(mark);
}

void
bench_hosted(const struct opts *o)
{
	int n = o->agents_total, ntenants = (n + HOSTED_PER_TENANT - 1) / HOSTED_PER_TENANT;
	size_t cap = (size_t)n * 96 + (size_t)ntenants * 64 + 1024, len = 0;
	char *body = malloc(cap), name[64], note[160], *log;
	long rss, pss, base_rss = 0, base_pss = sleep_pss(&base_rss);
	int64_t t0;
	int nproc, r = 0;
	struct bx b;

	len += (size_t)snprintf(body + len, cap - len, "audit: { fsync: batch }\ntenants:\n");
	for (int t = 0; t < ntenants; t++)
		len += (size_t)snprintf(body + len, cap - len, "  h%03d: { uid: %d }\n", t,
		    UID_HOSTED + t);
	len += (size_t)snprintf(body + len, cap - len, "agents:\n");
	for (int a = 0; a < n; a++)
		len += (size_t)snprintf(body + len, cap - len,
		    "  - { file: agent.yaml, name: a%04d, tenant: h%03d }\n", a, a / HOSTED_PER_TENANT);
	snprintf(name, sizeof(name), "supervisor + workers, %d agents, PSS", n);
	t0 = bench_now_ns();
	if (bx_config(&b, body) < 0 || bx_file(&b, "agent.yaml", agent_yaml) < 0 ||
	    (r = bx_start(&b, n, 900000)) == -1) {
		snprintf(note, sizeof(note), "not all %d agents became ready in 15 min", n);
		row_na("4e", name, note);
	} else {
		double start_s = (double)(bench_now_ns() - t0) / 1e9;
		int timeouts = 0;

		usleep(2000000);
		tree_mem(b.pid, &rss, &pss, &nproc);
		log = bench_read(b.log);
		for (char *p = log; (p = strstr(p, "no verified hello in time")) != NULL; p++)
			timeouts++;
		free(log);
		/* agents corrald gave up on (five deaths in a minute) fail the row whatever the
		 * memory: they are not hosted */
		snprintf(note, sizeof(note), "%d processes, RSS %.0f MiB; %d ready, %d failed after "
		    "%.0f s; %d hello timeouts on the way", nproc, rss / 1024.0, b.ready, b.failed,
		    start_s, timeouts);
		row_add("4e", name, (double)pss / 1024.0, "MiB", "N x (/bin/sleep + jail) PSS",
		    (double)base_pss * n / 1024.0, "<= 2048 MiB", r == 0 && pss / 1024.0 <= 2048 ?
		    V_PASS : V_MISS, note);
	}
	bx_cleanup(&b);
	free(body);
}
