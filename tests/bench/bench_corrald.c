/* Benchmarks through a real corrald: the mediated call (latency and throughput), one tenant
 * flooding, and an HTTP call. The calls are made by bench_agent (an external agent program,
 * protocol ipc), so each one goes agent -> corrald (schema, policy, audit in batch mode) ->
 * worker -> corrald -> agent, and is timed on the agent's side. */
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

#include <curl/curl.h>

#include "tests/bench/bench.h"
#include "tests/tools/harness.h"

/* uids of the benchmarks' tenants: not shared with any test (RLIMIT_NPROC counts per uid) */
#define UID_CALLS	41400
#define UID_FLOOD	41420
#define UID_HTTP	41430

/* ---------------------------------------------------------------- corrald */

int
bx_file(struct bx *b, const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", b->dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -errno;
	fputs(text, f);
	fclose(f);
	return 0;
}

int
bx_config(struct bx *b, const char *body)
{
	const char *jail = bench_bin("corral-jail");
	char libexec[512], *slash, *text;
	int r;

	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "/tmp/corral-bench-XXXXXX");
	if (jail == NULL || mkdtemp(b->dir) == NULL)
		return -1;
	chmod(b->dir, 0755);
	snprintf(b->cfg, sizeof(b->cfg), "%s/corral.yaml", b->dir);
	snprintf(b->sock, sizeof(b->sock), "%s/run/ctl.sock", b->dir);
	snprintf(b->log, sizeof(b->log), "%s/corrald.log", b->dir);
	snprintf(b->audit, sizeof(b->audit), "%s/state/audit/audit.jsonl", b->dir);
	snprintf(libexec, sizeof(libexec), "%s", jail);
	if ((slash = strrchr(libexec, '/')) != NULL)
		*slash = '\0';
	if (asprintf(&text, "runtime_dir: %s/run\nstate_dir: %s/state\nlibexec_dir: %s\n%s",
	    b->dir, b->dir, libexec, body) < 0)
		return -1;
	r = bx_file(b, "corral.yaml", text);
	free(text);
	return r;
}

int
bx_ctl(struct bx *b, const char *const *argv, char **out, int timeout_ms)
{
	const char *av[64];
	int n = 0;

	av[n++] = bench_bin("corralctl");
	av[n++] = "-s";
	av[n++] = b->sock;
	for (int i = 0; argv[i] && n < 63; i++)
		av[n++] = argv[i];
	av[n] = NULL;
	return bench_run(av, out, timeout_ms);
}

json_t *
bx_status(struct bx *b)
{
	static const char *const av[] = { "-o", "json", "status", NULL };
	char *out = NULL;
	json_t *j = NULL;

	if (bx_ctl(b, av, &out, 10000) == 0)
		j = json_loads(out, 0, NULL);
	free(out);
	return j;
}

int
bx_start(struct bx *b, int want_ready, int timeout_ms)
{
	int64_t end = bench_now_ns() + (int64_t)timeout_ms * 1000000;

	if ((b->pid = fork()) == 0) {
		int fd = open(b->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(bench_bin("corrald"), "corrald", "-c", b->cfg, (char *)NULL);
		_exit(127);
	}
	for (;; usleep(50000)) {
		json_t *st = access(b->sock, F_OK) == 0 ? bx_status(b) : NULL, *w;
		int ready = 0;
		size_t i;

		int failed = 0;

		json_array_foreach(json_object_get(st, "workers"), i, w) {
			const char *state = json_string_value(json_object_get(w, "state"));

			ready += strcmp(state, "ready") == 0;
			failed += strcmp(state, "failed") == 0;
		}
		json_decref(st);
		b->ready = ready;
		b->failed = failed;
		if (st && ready >= want_ready)
			return 0;
		if (st && failed > 0 && ready + failed >= want_ready) {
			bench_log("corrald: %d workers failed (too many deaths)", failed);
			return -2;
		}
		if (bench_now_ns() > end || waitpid(b->pid, NULL, WNOHANG) == b->pid) {
			bench_log("corrald: %d of %d workers ready; log in %s", ready, want_ready,
			    b->log);
			return -1;
		}
	}
}

int
bx_stop(struct bx *b)
{
	int st = 0;
	int64_t end = bench_now_ns() + 20000000000LL;

	if (b->pid <= 0)
		return -1;
	kill(b->pid, SIGTERM);
	while (waitpid(b->pid, &st, WNOHANG) == 0) {
		if (bench_now_ns() > end) {
			kill(b->pid, SIGKILL);
			waitpid(b->pid, &st, 0);
			break;
		}
		usleep(20000);
	}
	b->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void
bx_cleanup(struct bx *b)
{
	const char *av[] = { "/bin/rm", "-rf", b->dir, NULL };

	if (b->pid > 0)
		bx_stop(b);
	if (b->dir[0] && getenv("CORRAL_KEEP_TMP") == NULL)
		bench_run(av, NULL, 60000);
}

pid_t
bx_run_start(struct bx *b, const char *agent, const char *input, char *outfile, size_t outlen)
{
	const char *av[] = { bench_bin("corralctl"), "-s", b->sock, "-o", "json", "run", agent,
		input, NULL };
	int fd;
	pid_t pid;

	snprintf(outfile, outlen, "%s/run-XXXXXX", b->dir);
	if ((fd = mkstemp(outfile)) < 0)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(av[0], (char *const *)av);
		_exit(127);
	}
	close(fd);
	return pid;
}

json_t *
bx_run_wait(pid_t pid, const char *outfile, int timeout_ms)
{
	int64_t end = bench_now_ns() + (int64_t)timeout_ms * 1000000;
	int st = 0;
	char *out;
	json_t *j;

	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (bench_now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(10000);
	}
	out = bench_read(outfile);
	j = json_loads(out, 0, NULL);
	if (j == NULL || json_object_get(j, "p50_ns") == NULL)
		bench_log("run: %.300s", out);
	free(out);
	return j;
}

/* ---------------------------------------------------------------- agents making calls */

static const char *const bench_policy =
    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: bench }\n"
    "spec:\n  rules:\n"
    "    - { id: echo, effect: allow, principals: [\"agent:b*\", \"agent:q*\"], tool: echo, "
    "operations: [echo] }\n"
    "    - { id: flood, effect: allow, principals: [\"agent:f*\"], tool: echo, "
    "operations: [echo], rate: 100/1m }\n"
    "    - { id: prom, effect: allow, principals: [\"agent:h*\"], tool: prometheus, "
    "operations: [query] }\n";

/* Agents NAME00..NAME(n-1) (bench_agent) spread over the tenants PREFIX0.. round-robin. */
static void
agents_yaml(char *buf, size_t len, const char *name, int n, const char *tprefix, int ntenants)
{
	size_t o = strlen(buf);

	for (int i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o,
		    "  - { exec: %s, protocol: ipc, name: %s%02d, tenant: %s%d }\n",
		    bench_bin("bench_agent"), name, i, tprefix, i % ntenants);
}

static char *
bench_input(const char *tool, const char *op, const char *args, long warmup, long calls,
    double seconds, int64_t start_at_ms)
{
	json_t *in = json_pack("{s:s, s:s, s:o, s:I, s:I, s:f, s:I}", "tool", tool, "op", op,
	    "args", json_loads(args, 0, NULL), "warmup", (json_int_t)warmup, "calls",
	    (json_int_t)calls, "seconds", seconds, "start_at_ms", (json_int_t)start_at_ms);
	char *s = json_dumps(in, JSON_COMPACT);

	json_decref(in);
	return s;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n agents PREFIX00.. run the same input at once; *rate = the sum of their call rates; the
 * first agent's result is returned (p50/p99). */
static json_t *
run_agents(struct bx *b, const char *prefix, int n, const char *input, double *rate)
{
	static char files[128][600];
	pid_t pids[128];
	json_t *first = NULL;

	*rate = 0;
	for (int i = 0; i < n && i < 128; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s%02d", prefix, i);
		pids[i] = bx_run_start(b, name, input, files[i], sizeof(files[i]));
	}
	for (int i = 0; i < n && i < 128; i++) {
		json_t *j = bx_run_wait(pids[i], files[i], 300000);
		double calls = (double)json_integer_value(json_object_get(j, "calls"));
		double el = (double)json_integer_value(json_object_get(j, "elapsed_ns"));

		if (el > 0)
			*rate += calls * 1e9 / el;
		if (i == 0 && calls > 0)
			bench_log("%s00: %.0f calls, mean %.1f us, p50 %.1f, p90 %.1f, p99 %.1f, max "
			    "%.1f us", prefix, calls, el / calls / 1e3,
			    json_integer_value(json_object_get(j, "p50_ns")) / 1e3,
			    json_integer_value(json_object_get(j, "p90_ns")) / 1e3,
			    json_integer_value(json_object_get(j, "p99_ns")) / 1e3,
			    json_integer_value(json_object_get(j, "max_ns")) / 1e3);
		if (json_integer_value(json_object_get(j, "errors")) > 0)
			bench_log("%s%02d: %lld errors, first: %s", prefix, i,
			    json_integer_value(json_object_get(j, "errors")),
			    json_string_value(json_object_get(j, "first_error")));
		if (i == 0)
			first = j;
		else
			json_decref(j);
	}
	return first;
}

void
bench_calls(const struct opts *o, double relay_p50, double relay_p99, const double *relay_tput,
    const int *conc, int nconc)
{
	static char body[32768];
	struct bx b;
	json_t *r;
	char *in, name[64];
	double rate;
	size_t len = 0;

	len += (size_t)snprintf(body + len, sizeof(body) - len, "tenants:\n");
	for (int t = 0; t < 8; t++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		    "  c%d: { uid: %d, families: [echo] }\n", t, UID_CALLS + t);
	snprintf(body + len, sizeof(body) - len, "policies: [policy.yaml]\n"
	    "audit: { fsync: batch }\nagents:\n");
	agents_yaml(body, sizeof(body), "b", 64, "c", 8);
	if (bx_config(&b, body) < 0 || bx_file(&b, "policy.yaml", bench_policy) < 0 ||
	    bx_start(&b, 8 + 64, 300000) < 0) {
		row_na("1", "mediated no-op call", "corrald did not start (see log)");
		bx_cleanup(&b);
		return;
	}
	in = bench_input("echo", "echo", "{\"msg\":\"x\"}", 500, o->quick ? 5000 : 20000, 0, 0);
	r = run_agents(&b, "b", 1, in, &rate);
	free(in);
	if (json_integer_value(json_object_get(r, "p50_ns")) > 0) {
		double p50 = (double)json_integer_value(json_object_get(r, "p50_ns")) / 1e3;
		double p99 = (double)json_integer_value(json_object_get(r, "p99_ns")) / 1e3;

		row_add("1a", "mediated no-op call p50", p50, "us", "bare 2-hop nng relay p50",
		    relay_p50, "<= 1.2x", p50 <= 1.2 * relay_p50 ? V_PASS : V_MISS, NULL);
		row_add("1b", "mediated no-op call p99", p99, "us", "bare 2-hop nng relay p99",
		    relay_p99, "<= 1.2x", p99 <= 1.2 * relay_p99 ? V_PASS : V_MISS, NULL);
	} else {
		row_na("1", "mediated no-op call", "the agent's run failed");
	}
	json_decref(r);
	for (int i = 0; i < nconc; i++) {
		in = bench_input("echo", "echo", "{\"msg\":\"x\"}", 100, 0, o->quick ? 1.0 : 2.0,
		    wall_ms() + 1000 + 20 * conc[i]);
		json_decref(run_agents(&b, "b", conc[i], in, &rate));
		free(in);
		snprintf(name, sizeof(name), "mediated calls/s, %d concurrent agent%s", conc[i],
		    conc[i] > 1 ? "s" : "");
		row_add(i == 0 ? "2a" : i == 1 ? "2b" : "2c", name, rate, "/s", "bare relay, as many "
		    "clients", relay_tput[i], conc[i] == 64 ? ">= 20000/s" : "", conc[i] == 64 ?
		    (rate >= 20000 ? V_PASS : V_MISS) : V_NONE, NULL);
	}
	bx_stop(&b);
	bx_cleanup(&b);
}

/* ---------------------------------------------------------------- one tenant floods */

/* CPU time (utime + stime) of pid so far, ms. */
static double
cpu_ms(pid_t pid)
{
	char path[64], *st, *p;
	unsigned long ut = 0, stt = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	st = bench_read(path);
	/* fields 14 and 15, after the ")" that ends the command name */
	if ((p = strrchr(st, ')')) != NULL &&
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2)
		ut = stt = 0;
	free(st);
	return (double)(ut + stt) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* q's run twice in a row; the one with the lower p99 (one scheduling hiccup of a shared host
 * moves a p99 by milliseconds: both sides of row 9 are measured this way). */
static json_t *
best_of_two(struct bx *b, const char *input)
{
	double rate;
	json_t *x = run_agents(b, "q", 1, input, &rate), *y = run_agents(b, "q", 1, input, &rate);
	json_int_t px = json_integer_value(json_object_get(x, "p99_ns"));
	json_int_t py = json_integer_value(json_object_get(y, "p99_ns"));

	if (px > 0 && (py <= 0 || px <= py)) {
		json_decref(y);
		return x;
	}
	json_decref(x);
	return y;
}

/* Decision records of the flooding agents (principal agent:f*) so far: allowed, denied. */
static void
flood_decisions(const struct bx *b, long *allowed, long *denied)
{
	char *all = bench_read(b->audit), *line, *save = NULL;

	*allowed = *denied = 0;
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *d = strstr(line, "\"decision\":\"");

		if (d == NULL || strstr(line, "\"principal\":\"agent:f") == NULL)
			continue;
		*allowed += strncmp(d + 12, "allow", 5) == 0;
		*denied += strncmp(d + 12, "deny", 4) == 0;
	}
	free(all);
}

/* Tenant q's agent measures its p99 alone, then while tenant f's 8 agents flood (their rule
 * allows 100 calls a minute each: after that every call is refused for the rate, and corrald
 * holds a refused agent's channel until the rate has room, LIM_RATE_HOLD_MS at most, so each
 * flooder gets about one refusal a second). Target: q's p99 moves < 10%. The note gives what
 * the flood cost corrald while q measured: f's decisions and corrald's CPU time. q runs twice
 * alone and twice during the flood; each side is the run with the lower p99. */
void
bench_flood(const struct opts *o)
{
	static char body[8192];
	struct bx b;
	json_t *alone, *busy;
	char *in, *fin, files[8][600], note[160];
	pid_t pids[8];
	double a99, b99, cpu0, cpu1;
	int64_t t0;
	long calls = o->quick ? 2000 : 5000, al0, de0, al1, de1;

	snprintf(body, sizeof(body), "tenants:\n  q0: { uid: %d, families: [echo] }\n"
	    "  f0: { uid: %d, families: [echo] }\npolicies: [policy.yaml]\n"
	    "audit: { fsync: batch }\nagents:\n", UID_FLOOD, UID_FLOOD + 1);
	agents_yaml(body, sizeof(body), "q", 1, "q", 1);
	agents_yaml(body, sizeof(body), "f", 8, "f", 1);
	if (bx_config(&b, body) < 0 || bx_file(&b, "policy.yaml", bench_policy) < 0 ||
	    bx_start(&b, 2 + 9, 120000) < 0) {
		row_na("9", "tenant flood", "corrald did not start (see log)");
		bx_cleanup(&b);
		return;
	}
	in = bench_input("echo", "echo", "{\"msg\":\"q\"}", 300, calls, 0, 0);
	alone = best_of_two(&b, in);
	fin = bench_input("echo", "echo", "{\"msg\":\"f\"}", 0, 0, 60.0, 0);
	for (int i = 0; i < 8; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%02d", i);
		pids[i] = bx_run_start(&b, name, fin, files[i], sizeof(files[i]));
	}
	usleep(1000000);
	flood_decisions(&b, &al0, &de0);
	cpu0 = cpu_ms(b.pid);
	t0 = bench_now_ns();
	busy = best_of_two(&b, in);
	cpu1 = cpu_ms(b.pid);
	flood_decisions(&b, &al1, &de1);
	a99 = (double)json_integer_value(json_object_get(alone, "p99_ns")) / 1e3;
	b99 = (double)json_integer_value(json_object_get(busy, "p99_ns")) / 1e3;
	snprintf(note, sizeof(note), "during q's runs: flood %ld allowed, %ld refused; corrald CPU "
	    "%.0f ms in %.1f s", al1 - al0, de1 - de0, cpu1 - cpu0,
	    (double)(bench_now_ns() - t0) / 1e9);
	if (a99 > 0 && b99 > 0)
		row_add("9", "other tenant's p99 while one tenant floods", b99, "us",
		    "its p99 without the flood", a99, "< 1.10x", b99 < 1.1 * a99 ? V_PASS : V_MISS,
		    note);
	else
		row_na("9", "tenant flood", "a run failed");
	bx_stop(&b);	/* ends the flood runs too */
	for (int i = 0; i < 8; i++)
		json_decref(bx_run_wait(pids[i], files[i], 10000));
	json_decref(alone);
	json_decref(busy);
	free(in);
	free(fin);
	bx_cleanup(&b);
}

/* ---------------------------------------------------------------- HTTP */

struct body {
	char buf[65536];
	size_t len;
};

static size_t
sink(char *p, size_t s, size_t n, void *ud)
{
	struct body *b = ud;

	if (b->len + s * n < sizeof(b->buf)) {
		memcpy(b->buf + b->len, p, s * n);
		b->len += s * n;
	}
	return s * n;
}

/* CPU time (user + system) of a process so far, us; -1 when unknown. */
static double
proc_cpu_us(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static double
self_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* p50 (us) of n sequential GETs of the same query, straight with libcurl: one handle, so the
 * connection is reused (as the worker reuses its pooled one), corral's User-Agent (the fake
 * checks it), and the body parsed as JSON, the least a client that uses the answer does (the
 * worker parses it too, and shapes it). *cpu_us: this process's CPU per request. */
static double
direct_p50(const char *base, int n, double *cpu_us)
{
	char url[256];
	CURL *h = curl_easy_init();
	int64_t *lat = calloc((size_t)n, sizeof(*lat));
	struct body *b = calloc(1, sizeof(*b));
	double p50 = -1, c0 = 0;
	int i;

	snprintf(url, sizeof(url), "%s/api/v1/query?query=up", base);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "corral/" CORRAL_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	for (i = -100; i < n; i++) {
		int64_t t0 = bench_now_ns();
		long st = 0;
		json_t *j;

		if (i == 0)
			c0 = self_cpu_us();
		b->len = 0;
		if (curl_easy_perform(h) != CURLE_OK ||
		    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st) != CURLE_OK || st != 200 ||
		    (j = json_loadb(b->buf, b->len, 0, NULL)) == NULL)
			break;
		json_decref(j);
		if (i >= 0)
			lat[i] = bench_now_ns() - t0;
	}
	if (i == n) {
		*cpu_us = (self_cpu_us() - c0) / n;
		qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
		p50 = (double)lat[n / 2] / 1e3;
	}
	curl_easy_cleanup(h);
	free(lat);
	free(b);
	return p50;
}

/* The pid of a worker from corrald's status, 0 when none. */
static pid_t
worker_pid(struct bx *b, const char *name)
{
	json_t *st = bx_status(b), *w;
	pid_t pid = 0;
	size_t i;

	json_array_foreach(json_object_get(st, "workers"), i, w)
		if (strcmp(json_string_value(json_object_get(w, "name")), name) == 0)
			pid = (pid_t)json_integer_value(json_object_get(w, "pid"));
	json_decref(st);
	return pid;
}

/* p50 (us) of n calls of tool.op by agent h00; *cpu_us: the worker's CPU per call. */
static double
via_p50(struct bx *b, const char *tool, const char *op, const char *args, const char *worker,
    int n, double *cpu_us)
{
	char *in = bench_input(tool, op, args, 100, n, 0, 0);
	pid_t wp = worker_pid(b, worker);
	double rate, c0 = proc_cpu_us(wp), p50;
	json_t *r = run_agents(b, "h", 1, in, &rate);

	p50 = (double)json_integer_value(json_object_get(r, "p50_ns")) / 1e3;
	/* warm-up calls included: (n + 100) */
	*cpu_us = c0 >= 0 ? (proc_cpu_us(wp) - c0) / (n + 100) : -1;
	if (json_integer_value(json_object_get(r, "errors")) > 0)
		p50 = -1;
	json_decref(r);
	free(in);
	return p50;
}

static const char *const http_policy =
    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: bench-http }\n"
    "spec:\n  rules:\n"
    "    - { id: prom, effect: allow, principals: [\"agent:h*\"], tool: prometheus, "
    "operations: [query] }\n"
    "    - { id: echo, effect: allow, principals: [\"agent:h*\"], tool: echo, "
    "operations: [echo] }\n";

/* Row 7: prometheus.query through corral against libcurl straight to the same fake (wall
 * p50). 7b: what the HTTP exchange costs the worker, in CPU, which the host's load moves far
 * less than wall time: the prometheus worker's CPU per call minus the echo worker's per
 * echo.echo call (same corrald, same agent, same kind of worker, no I/O), against the direct
 * client's own CPU per request (libcurl on a reused connection + parsing the JSON). */
void
bench_http_rows(const struct opts *o)
{
	char body[2048], note[200];
	struct fake f;
	struct bx b;
	double direct, via, echo, dcpu = -1, vcpu = -1, ecpu = -1;
	int n = o->quick ? 500 : 2000;

	if (fake_start(&f, "fake_prometheus.py", NULL) < 0) {
		row_na("7", "HTTP call via corral", "the fake did not start");
		return;
	}
	snprintf(body, sizeof(body), "tenants:\n  h0: { uid: %d, families: [echo] }\n"
	    "endpoints:\n  prometheus:\n    - { name: p, tenant: h0, url: \"%s\", "
	    "allow_private: true }\npolicies: [policy.yaml]\naudit: { fsync: batch }\nagents:\n",
	    UID_HTTP, f.url);
	agents_yaml(body, sizeof(body), "h", 1, "h", 1);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	direct = direct_p50(f.url, n, &dcpu);
	if (bx_config(&b, body) < 0 || bx_file(&b, "policy.yaml", http_policy) < 0 ||
	    bx_start(&b, 3, 120000) < 0) {
		row_na("7", "HTTP call via corral", "corrald did not start (see log)");
	} else {
		via = via_p50(&b, "prometheus", "query", "{\"query\":\"up\"}", "prometheus@h0", n,
		    &vcpu);
		echo = via_p50(&b, "echo", "echo", "{\"msg\":\"x\"}", "echo@h0", n, &ecpu);
		if (via > 0 && direct > 0) {
			snprintf(note, sizeof(note), "baseline reuses its connection and parses the "
			    "JSON; CPU/call: worker %.0f us, direct client %.0f us", vcpu, dcpu);
			row_add("7", "HTTP call via corral p50 (prometheus.query)", via, "us",
			    "direct libcurl, same fake, p50", direct, "<= 1.3x",
			    via <= 1.3 * direct ? V_PASS : V_MISS, note);
		} else {
			row_na("7", "HTTP call via corral", "a run failed");
		}
		if (vcpu > 0 && ecpu > 0 && dcpu > 0) {
			snprintf(note, sizeof(note), "worker CPU/call %.0f us, an echo.echo call's "
			    "%.0f us; wall p50: echo %.0f us, so the HTTP share is %.0f us", vcpu, ecpu,
			    echo, via - echo);
			row_add("7b", "HTTP share of the worker's CPU per call", vcpu - ecpu, "us",
			    "direct client's CPU per request", dcpu, "", V_NONE, note);
		}
		bx_stop(&b);
	}
	bx_cleanup(&b);
	fake_stop(&f);
	curl_global_cleanup();
}
