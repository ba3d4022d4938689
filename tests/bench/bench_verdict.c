/* bench_verdict: how long after a canary window closes the verdict is there, end to end
 * through corrald, against the judge alone.
 *
 * The window ends "now"; `corralctl -o json call prometheus canary_analyze` goes through
 * corrald (schema, policy, audit, the confined prometheus worker, the egress broker) to the
 * loopback fake Prometheus (tests/fakes/fake_prometheus.py, a degraded canary), which answers
 * 2 query_range calls per metric; the worker judges and corrald records the verdict as
 * evidence. Three times are measured per size, as medians (and the worst end-to-end run):
 *   judge    canary_judge() in this process on the same samples;
 *   op       the canary_analyze op in this process (the worker's code: the query_range calls
 *            to the fake, whose Python dominates, and the judge), without corrald;
 *   e2e      the corralctl call, from exec to verdict.
 * and printed with the ratio e2e/judge and corrald's own share (e2e - op): the control
 * socket, schema, policy, audit records, the worker round trip and corralctl itself.
 * Exit 1 when a verdict is wrong or the worst end-to-end run takes 5 s or more (the target).
 * Needs root (corrald), like the integration tests.
 *
 *	bench_verdict [--runs N]
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/err.h"
#include "tests/tools/harness.h"
#include "tools/canary.h"
#include "tools/canary_json.h"

#define TARGET_MS	5000.0
#define UID		41320

extern const struct tool_family tool_fam_prometheus;

struct size_case {
	const char *name;
	int metrics;		/* 1 to 4 */
	int window_s;
	double step_s;
};

static const struct size_case sizes[] = {
	{ "demo: 2 metrics, 10m at 15s", 2, 600, 15 },
	{ "4 metrics, 1h at 5s", 4, 3600, 5 },
	{ "4 metrics, 1h at 1s", 4, 3600, 1 },
};

static char dir[64], sock[128], ctl_bin[512], corrald_bin[512];

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *
env_bin(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL) {
		fprintf(stderr, "bench_verdict: %s not set (run through meson test --benchmark)\n",
		    name);
		exit(2);
	}
	return v;
}

/* ---------------------------------------------------------------- corrald */

/* Run corralctl with args; stdout into *out (malloc'd). Returns the exit status. */
static int
ctl(char **out, const char *const *args)
{
	const char *av[16] = { ctl_bin, "-s", sock };
	int p[2], n = 3, st;
	size_t len = 0, cap = 65536;
	ssize_t k;
	pid_t pid;

	for (int i = 0; args[i] && n < 15; i++)
		av[n++] = args[i];
	av[n] = NULL;
	if (pipe(p) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execv(av[0], (char *const *)av);
		_exit(127);
	}
	close(p[1]);
	*out = malloc(cap);
	while (*out && (k = read(p[0], *out + len, cap - len - 1)) > 0)
		if ((len += (size_t)k) + 1 == cap)
			*out = realloc(*out, cap *= 2);
	close(p[0]);
	if (*out)
		(*out)[len] = '\0';
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static pid_t
corrald_start(const char *prom_url)
{
	char path[128], libexec[512], *slash;
	const char *st[] = { "status", NULL };
	FILE *f;
	pid_t pid;

	snprintf(libexec, sizeof(libexec), "%s", env_bin("CORRAL_BIN_corral_jail"));
	if ((slash = strrchr(libexec, '/')) != NULL)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/corral.yaml", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "runtime_dir: %s/run\nstate_dir: %s/state\nlibexec_dir: %s\n"
	    "tenants:\n  bench: { uid: %d }\n"
	    "endpoints:\n  prometheus:\n    - { name: p, tenant: bench, url: \"%s\", "
	    "allow_private: true }\naudit: { fsync: batch }\n", dir, dir, libexec, UID, prom_url);
	fclose(f);
	if ((pid = fork()) == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 2);
		execl(corrald_bin, "corrald", "-c", path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		char *out = NULL;
		int ok = access(sock, F_OK) == 0 && ctl(&out, st) == 0 && strstr(out, " ready ");

		free(out);
		if (ok)
			return pid;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	return -1;
}

/* ---------------------------------------------------------------- the call */

static const char *const kinds[] = { "errors", "latency", "requests", "errors" };

static void
query(char *buf, size_t len, int m, const char *track)
{
	if (strcmp(kinds[m], "latency") == 0)
		snprintf(buf, len, "histogram_quantile(0.99, sum by (le) (rate(lat_bucket{app=\\\"bad-"
		    "bench\\\",track=\\\"%s\\\",m=\\\"%d\\\"}[1m])))", track, m);
	else
		snprintf(buf, len, "sum(rate(%s{app=\\\"bad-bench\\\",track=\\\"%s\\\","
		    "code=~\\\"5..\\\",m=\\\"%d\\\"}[1m]))", kinds[m], track, m);
}

static char *
args_json(const struct size_case *sc, long end)
{
	char *s = NULL, q1[256], q2[256], *tmp;

	if (asprintf(&s, "{\"app_name\":\"bad-bench\",\"start\":\"%ld\",\"end\":\"%ld\","
	    "\"step\":\"%g\",\"metrics\":[", end - sc->window_s, end, sc->step_s) < 0)
		return NULL;
	for (int m = 0; m < sc->metrics; m++) {
		query(q1, sizeof(q1), m, "baseline");
		query(q2, sizeof(q2), m, "canary");
		tmp = s;
		if (asprintf(&s, "%s%s{\"name\":\"m%d_%s\",\"direction\":\"increase\","
		    "\"baseline_query\":\"%s\",\"canary_query\":\"%s\"}", tmp, m ? "," : "", m,
		    kinds[m], q1, q2) < 0)
			return NULL;
		free(tmp);
	}
	tmp = s;
	if (asprintf(&s, "%s]}", tmp) < 0)
		return NULL;
	free(tmp);
	return s;
}

/* One end-to-end run: ms from exec to verdict; -1 when the verdict is not fail. */
static double
run_e2e(const char *args)
{
	const char *av[] = { "-o", "json", "call", "prometheus", "canary_analyze", "--args", args,
		NULL };
	char *out = NULL;
	double t0 = now_ms(), t;
	int rc = ctl(&out, av);
	json_t *j;

	t = now_ms() - t0;
	j = rc == 0 ? json_loads(out, 0, NULL) : NULL;
	if (j == NULL || strcmp(json_string_value(json_object_get(j, "verdict")) ?
	    json_string_value(json_object_get(j, "verdict")) : "", "fail") != 0) {
		fprintf(stderr, "bench_verdict: unexpected answer (rc %d): %.300s\n", rc, out);
		t = -1;
	}
	json_decref(j);
	free(out);
	return t;
}

/* ---------------------------------------------------------------- the parts alone */

static double *
samples_of(json_t *pts, size_t *n)
{
	double *v = calloc(json_array_size(pts) + 1, sizeof(*v));
	json_t *p;
	size_t i;

	json_array_foreach(pts, i, p)
		v[i] = json_is_number(json_array_get(p, 1)) ? json_number_value(json_array_get(p, 1)) :
		    NAN;
	*n = json_array_size(pts);
	return v;
}

/* canary_judge() on the fetched samples (res[2m] baseline, res[2m+1] canary of metric m, as
 * query_range results): median ms of runs. */
static double
judge_alone(json_t **res, int nm, int runs, size_t *points)
{
	struct canary_metric_in ms[4];
	struct canary_input in;
	double t[64], *bufs[8] = { 0 };
	int ok = 1;

	canary_input_init(&in);
	for (int i = 0; i < nm; i++) {
		canary_metric_init(&ms[i]);
		ms[i].name = kinds[i];
		ms[i].direction = CANARY_DIR_INCREASE;
		ms[i].control = bufs[2 * i] = samples_of(http_json_get(json_array_get(
		    json_object_get(res[2 * i], "series"), 0), "values"), &ms[i].ncontrol);
		ms[i].experiment = bufs[2 * i + 1] = samples_of(http_json_get(json_array_get(
		    json_object_get(res[2 * i + 1], "series"), 0), "values"), &ms[i].nexperiment);
	}
	*points = ms[0].ncontrol;
	in.metrics = ms;
	in.nmetrics = (size_t)nm;
	for (int k = 0; k < runs && ok; k++) {
		struct canary_result r;
		double t0 = now_ms();

		if (canary_judge(&in, &r) < 0)
			ok = 0;
		t[k] = now_ms() - t0;
		canary_result_free(&r);
	}
	for (int i = 0; i < 8; i++)
		free(bufs[i]);
	return ok ? median(t, runs) : -1;
}

/* The samples, fetched with query_range: 2 answers per metric into res. */
static int
fetch_samples(struct harness *h, const struct size_case *sc, long end, json_t **res)
{
	char q[256], args[600];

	for (int i = 0; i < 2 * sc->metrics; i++) {
		struct tool_err err;
		char verr[128];

		query(q, sizeof(q), i / 2, i % 2 ? "canary" : "baseline");
		snprintf(args, sizeof(args), "{\"query\":\"%s\",\"start\":\"%ld\",\"end\":\"%ld\","
		    "\"step\":\"%g\",\"max_points\":11000}", q, end - sc->window_s, end,
		    sc->step_s);
		if (harness_call(h, &tool_fam_prometheus, "query_range", args, &res[i], &err,
		    verr, sizeof(verr)) < 0) {
			fprintf(stderr, "bench_verdict: %s %s\n", verr, err.text);
			return -1;
		}
	}
	return 0;
}

/* The op itself in this process (the worker's code, no corrald): median ms of runs. */
static double
op_direct(struct harness *h, const char *args, int runs)
{
	double t[64];

	for (int k = 0; k < runs; k++) {
		struct tool_err err;
		json_t *r = NULL;
		char verr[128];
		double t0 = now_ms();

		if (harness_call(h, &tool_fam_prometheus, "canary_analyze", args, &r, &err, verr,
		    sizeof(verr)) < 0) {
			fprintf(stderr, "bench_verdict: %s %s\n", verr, err.text);
			return -1;
		}
		t[k] = now_ms() - t0;
		json_decref(r);
	}
	return median(t, runs);
}

static int
bench_size(struct harness *h, const struct size_case *sc, int runs)
{
	double e2e[64], worst = 0, judge = 0, direct = 0, med;
	size_t points = 0;
	long end = (long)time(NULL);
	char *args = args_json(sc, end);
	json_t *res[8] = { 0 };
	int bad = 0;

	if (args == NULL || fetch_samples(h, sc, end, res) < 0 ||
	    (judge = judge_alone(res, sc->metrics, 50, &points)) < 0 ||
	    (direct = op_direct(h, args, runs)) < 0)
		bad = 1;
	for (int i = 0; i < 8; i++)
		json_decref(res[i]);
	if (bad)
		return 1;
	run_e2e(args);		/* warm-up */
	for (int k = 0; k < runs; k++) {
		if ((e2e[k] = run_e2e(args)) < 0)
			bad = 1;
		worst = fmax(worst, e2e[k]);
	}
	med = median(e2e, runs);
	printf("  %-30s %6zu %9.3f %9.1f %9.1f %9.1f %9.0fx %9.1f\n", sc->name, points, judge,
	    direct, med, worst, med / judge, med - direct);
	free(args);
	return bad || worst >= TARGET_MS;
}

int
main(int argc, char **argv)
{
	int runs = 10, rc = 0;
	struct fake prom;
	struct harness h;
	pid_t cpid;
	char tmpl[] = "/tmp/corral-bench-XXXXXX";

	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--runs") == 0)
			runs = atoi(argv[++i]);
	runs = runs < 1 ? 1 : runs > 64 ? 64 : runs;
	snprintf(ctl_bin, sizeof(ctl_bin), "%s", env_bin("CORRAL_BIN_corralctl"));
	snprintf(corrald_bin, sizeof(corrald_bin), "%s", env_bin("CORRAL_BIN_corrald"));
	if (mkdtemp(tmpl) == NULL || chmod(tmpl, 0755) < 0)
		return 2;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(sock, sizeof(sock), "%s/run/ctl.sock", dir);
	if (fake_start(&prom, "fake_prometheus.py", NULL) < 0 || harness_init(&h, &prom, NULL) < 0) {
		fprintf(stderr, "bench_verdict: cannot start the fake\n");
		return 2;
	}
	h.deadline_ms = 60000;
	if ((cpid = corrald_start(prom.url)) < 0) {
		fprintf(stderr, "bench_verdict: corrald did not come up (root needed)\n");
		rc = 2;
		goto out;
	}
	printf("bench_verdict: verdict latency after the window closes, %d runs (median; ms)\n",
	    runs);
	printf("  %-30s %6s %9s %9s %9s %9s %10s %9s\n", "size", "points", "judge", "op",
	    "e2e", "e2e max", "e2e/judge", "corrald");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		rc |= bench_size(&h, &sizes[i], runs);
	printf("  target: every end-to-end run under %.0f ms: %s\n", TARGET_MS, rc ? "MISSED" : "met");
	kill(cpid, SIGTERM);
	waitpid(cpid, NULL, 0);
out:
	harness_fini(&h);
	fake_stop(&prom);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			rc |= 0;
	}
	return rc;
}
