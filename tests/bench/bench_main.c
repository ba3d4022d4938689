/* bench_main: corral's benchmark runner. Runs every benchmark of issue 8 and prints ONE table:
 * each row a measurement, the baseline it is compared with (measured in the same run, on the
 * same machine), both absolute figures, the ratio, the target and whether it is met. It prints
 * and asserts nothing; exit 0 unless the runner itself broke.
 *
 *   bench_main [--quick] [--agents N] [--only SECTIONS]
 *
 * SECTIONS (comma-separated): calls, flood, http, spawn, hosted, policy, audit, canary.
 * Binaries come from $CORRAL_BIN_<name> (set by meson, or by tests/bench/run). Needs root (the
 * jail switches uids). docs/PERFORMANCE.md holds the latest table and how to read it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench.h"

/* ---------------------------------------------------------------- utilities */

int64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void
bench_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

const char *
bench_bin(const char *name)
{
	char env[128], *p;

	snprintf(env, sizeof(env), "CORRAL_BIN_%s", name);
	for (p = env; *p; p++)
		if (*p == '-')
			*p = '_';
	return getenv(env);
}

char *
bench_read(const char *path)
{
	size_t len = 0, cap = 8192;
	char *buf = calloc(1, cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k;

	if (fd < 0)
		return buf;
	while ((k = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)k;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

int
bench_run(const char *const *argv, char **out, int timeout_ms)
{
	char tmp[] = "/tmp/corral-bench-out-XXXXXX";
	int fd = mkstemp(tmp), st = 0;
	int64_t end = bench_now_ns() + (int64_t)timeout_ms * 1000000;
	pid_t pid;

	if (fd < 0)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, timeout_ms > 0 ? WNOHANG : 0) == 0) {
		if (bench_now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(5000);
	}
	close(fd);
	if (out)
		*out = bench_read(tmp);
	unlink(tmp);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int
bench_mem(pid_t pid, long *rss_kb, long *pss_kb)
{
	char path[64], *s, *p;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	s = bench_read(path);
	*rss_kb = *pss_kb = -1;
	if ((p = strstr(s, "\nRss:")) != NULL)
		*rss_kb = strtol(p + 5, NULL, 10);
	if ((p = strstr(s, "\nPss:")) != NULL)
		*pss_kb = strtol(p + 5, NULL, 10);
	free(s);
	return *rss_kb < 0 ? -1 : 0;
}

long
bench_uss(pid_t pid)
{
	char path[64], *s, *p;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	s = bench_read(path);
	if ((p = strstr(s, "\nPrivate_Clean:")) != NULL)
		kb = strtol(p + 15, NULL, 10);
	if (kb >= 0 && (p = strstr(s, "\nPrivate_Dirty:")) != NULL)
		kb += strtol(p + 15, NULL, 10);
	free(s);
	return kb;
}

pid_t
bench_ppid(pid_t pid)
{
	char path[64], *s, *p;
	pid_t pp = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	s = bench_read(path);
	if ((p = strstr(s, "\nPPid:")) != NULL)
		pp = (pid_t)strtol(p + 6, NULL, 10);
	free(s);
	return pp;
}

/* ---------------------------------------------------------------- the table */

struct row {
	char id[8], name[64], unit[12], base_name[48], target[24], note[160];
	double value, base;
	enum verdict v;
};

#define ROWS_MAX	64
static struct row rows[ROWS_MAX];
static size_t nrows;

void
row_add(const char *id, const char *name, double value, const char *unit, const char *base_name,
    double base, const char *target, enum verdict v, const char *note)
{
	struct row *r;

	if (nrows == ROWS_MAX)
		return;
	r = &rows[nrows++];
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	snprintf(r->base_name, sizeof(r->base_name), "%s", base_name ? base_name : "");
	snprintf(r->target, sizeof(r->target), "%s", target ? target : "");
	snprintf(r->note, sizeof(r->note), "%s", note ? note : "");
	r->note[strcspn(r->note, "\n")] = '\0';	/* one line per row */
	r->value = value;
	r->base = base;
	r->v = v;
	bench_log("row %s %s: %.3f %s (baseline %.3f)", id, name, value, unit, base);
}

void
row_na(const char *id, const char *name, const char *why)
{
	row_add(id, name, -1, "", NULL, -1, NULL, V_NA, why);
}

static void
fmt_val(char *buf, size_t len, double v, const char *unit)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else if (strcmp(unit, "/s") == 0 || strcmp(unit, "rec/s") == 0)
		snprintf(buf, len, "%.0f %s", v, unit);
	else if (v >= 100)
		snprintf(buf, len, "%.0f %s", v, unit);
	else
		snprintf(buf, len, "%.2f %s", v, unit);
}

static void
print_table(void)
{
	static const char *const vname[] = { "", "PASS", "MISS", "n/a" };
	struct utsname u;
	time_t now = time(NULL);
	char date[64];

	char *load = bench_read("/proc/loadavg");
	double l1 = -1, l5 = -1, l15 = -1;

	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	/* other work on the host shows here: the rows are only comparable at a low load */
	sscanf(load, "%lf %lf %lf", &l1, &l5, &l15);
	printf("\ncorral benchmarks, %s, %s %s, %ld CPUs, load average %.2f %.2f %.2f\n", date,
	    u.machine, u.release, sysconf(_SC_NPROCESSORS_ONLN), l1, l5, l15);
	free(load);
	printf("%-4s %-44s %12s  %-34s %12s %8s  %-18s %s\n", "#", "measurement", "value",
	    "baseline (same run)", "base value", "ratio", "target", "verdict");
	for (size_t i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		char v[32], b[32], ratio[16];

		fmt_val(v, sizeof(v), r->value, r->unit);
		fmt_val(b, sizeof(b), r->base, r->unit);
		if (r->value >= 0 && r->base > 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", r->value / r->base);
		else
			snprintf(ratio, sizeof(ratio), "-");
		printf("%-4s %-44s %12s  %-34s %12s %8s  %-18s %s%s%s\n", r->id, r->name, v,
		    r->base_name, b, ratio, r->target, vname[r->v], r->note[0] ? "  " : "",
		    r->note);
	}
	fflush(stdout);
}

/* ---------------------------------------------------------------- sibling benchmarks */

static void
policy_rows(void)
{
	const char *bin = bench_bin("bench_policy");
	const char *av[] = { bin, NULL };
	char *out = NULL, *line, *save = NULL;
	int found = 0;

	if (bin == NULL || bench_run(av, &out, 300000) != 0) {
		row_na("5", "policy decision p99", "bench_policy did not run");
		free(out);
		return;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char label[32], name[64], id[8];
		int n;
		long long p50, p99, f50, f99;

		if (sscanf(line, "%31s %d %lld %lld %lld %lld", label, &n, &p50, &p99, &f50,
		    &f99) != 6 || strcmp(label, "tenants") != 0)
			continue;
		snprintf(id, sizeof(id), "5%c", 'a' + found++);
		snprintf(name, sizeof(name), "policy decision p99, %d rules (p50 %lld ns)", n, p50);
		row_add(id, name, (double)p99, "ns", "fnmatch() once per rule, p99", (double)f99,
		    n == 100 ? "<= 1000 ns" : n == 1000 ? "<= 5000 ns" : "",
		    n == 100 ? (p99 <= 1000 ? V_PASS : V_MISS) : n == 1000 ? (p99 <= 5000 ? V_PASS :
		    V_MISS) : V_NONE, NULL);
	}
	if (!found)
		row_na("5", "policy decision p99", "bench_policy output not understood");
	free(out);
}

static double
num_after(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtod(p + strlen(key), NULL) : -1;
}

static void
audit_rows(const struct opts *o)
{
	const char *bin = bench_bin("bench_audit");
	const char *av[] = { bin, "--seconds", o->quick ? "1" : "2", NULL };
	char *out = NULL;
	double raw, every, batch, none;

	if (bin == NULL || bench_run(av, &out, 300000) != 0) {
		row_na("6", "audit append", "bench_audit did not run");
		free(out);
		return;
	}
	raw = num_after(out, "raw pwrite+fdatasync");
	every = num_after(out, "  every ");
	batch = num_after(out, "  batch (1024 / 5 ms)");
	none = num_after(out, "  none ");
	if (raw <= 0 || every < 0 || batch < 0 || none < 0) {
		row_na("6", "audit append", "bench_audit output not understood");
	} else {
		row_add("6a", "audit append, fsync every", every, "rec/s", "raw pwrite+fdatasync", raw,
		    ">= 0.9x", every >= 0.9 * raw ? V_PASS : V_MISS, NULL);
		row_add("6b", "audit append, fsync batch", batch, "rec/s", "raw pwrite+fdatasync", raw,
		    ">= 100000/s", batch >= 100000 ? V_PASS : V_MISS, NULL);
		row_add("6c", "audit append, fsync none", none, "rec/s", "raw pwrite+fdatasync", raw,
		    ">= 0.9x", none >= 0.9 * raw ? V_PASS : V_MISS, NULL);
	}
	free(out);
}

static void
canary_row(void)
{
	const char *bin = bench_bin("bench_canary");
	const char *av[] = { bin, NULL };
	char *out = NULL;
	double judge, qs;

	if (bin == NULL || bench_run(av, &out, 300000) != 0) {
		row_na("8", "canary judge, 2 x 10,000 samples", "bench_canary did not run");
		free(out);
		return;
	}
	/* "canary judge, 2 x N samples: X ms ..." and "baseline qsort of the same N samples: Y ms" */
	judge = num_after(out, "samples: ");
	qs = strstr(out, "baseline qsort") ? num_after(strstr(out, "baseline qsort"), "samples: ") :
	    -1;
	if (judge < 0 || qs <= 0)
		row_na("8", "canary judge, 2 x 10,000 samples", "bench_canary output not understood");
	else
		row_add("8", "canary judge, 2 x 10,000 samples", judge, "ms",
		    "qsort of the 20,000 samples", qs, "", V_NONE, NULL);
	free(out);
}

/* ---------------------------------------------------------------- main */

static bool
want(const struct opts *o, const char *section)
{
	const char *p;
	size_t n = strlen(section);

	if (o->only == NULL)
		return true;
	for (p = o->only; (p = strstr(p, section)) != NULL; p += n)
		if ((p == o->only || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "agents", required_argument, NULL, 'a' },
		{ "only", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static const int conc[] = { 1, 8, 64 };
	struct opts o = { .agents_total = 1000 };
	double rp50 = -1, rp99 = -1, rtput[3] = { -1, -1, -1 };
	int c;

	if (argc >= 2 && strcmp(argv[1], "--role") == 0)
		return bench_relay_role(argc, argv);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'q')
			o.quick = true;
		else if (c == 'a')
			o.agents_total = atoi(optarg);
		else if (c == 'o')
			o.only = optarg;
		else
			return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (geteuid() != 0)
		bench_log("not root: the rows that start corrald will fail");
	if (want(&o, "calls")) {
		bench_relay_rows(&o, &rp50, &rp99, rtput, conc, 3);
		bench_calls(&o, rp50, rp99, rtput, conc, 3);
		bench_transport_row(&o, rp50);
	}
	if (want(&o, "flood"))
		bench_flood(&o);
	if (want(&o, "http"))
		bench_http_rows(&o);
	if (want(&o, "spawn"))
		bench_spawn_memory(&o);
	if (want(&o, "hosted"))
		bench_hosted(&o);
	if (want(&o, "policy"))
		policy_rows();
	if (want(&o, "audit"))
		audit_rows(&o);
	if (want(&o, "canary"))
		canary_row();
	print_table();
	return 0;
}
