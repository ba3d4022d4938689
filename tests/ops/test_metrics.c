/* The metrics registry: exact exposition text, refusals, the series cap, a grammar check of
 * everything it renders, and the atomic textfile. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/metrics.h"
#include "tests/ops/expo.h"

static const double two_buckets[] = { 0.1, 1 };

#define DEF(n, h, t, ...) { .name = n, .help = h, .type = t, .labels = { __VA_ARGS__ } }
#define HIST(n, h, b, nb, ...) { .name = n, .help = h, .type = METRIC_HISTOGRAM, \
	.labels = { __VA_ARGS__ }, .buckets = b, .nbuckets = nb }

static const struct metric_def d_calls = DEF("t_calls_total", "Calls", METRIC_COUNTER,
	"family", "outcome");
static const struct metric_def d_up = DEF("t_up", "Up", METRIC_GAUGE, NULL);
static const struct metric_def d_dur = HIST("t_seconds", "Durations", two_buckets, 2, "op");
static const struct metric_def d_esc = DEF("t_esc", "Back\\slash help", METRIC_GAUGE, "v");

static char *
render(struct metrics *m)
{
	char *t = NULL;
	size_t n = 0;

	cr_assert_eq(metrics_render(m, &t, &n), 0);
	cr_assert_eq(strlen(t), n);
	return t;
}

Test(metrics, exact_text)
{
	struct metrics *m;
	int calls, up, dur;
	char *t;

	cr_assert_eq(metrics_new(&m), 0);
	calls = metrics_register(m, &d_calls);
	up = metrics_register(m, &d_up);
	dur = metrics_register(m, &d_dur);
	cr_assert(calls == 0 && up == 1 && dur == 2);
	cr_assert_eq(metrics_add(m, calls, (const char *const[]){ "argocd", "ok" }, 1), 0);
	cr_assert_eq(metrics_add(m, calls, (const char *const[]){ "argocd", "ok" }, 2), 0);
	cr_assert_eq(metrics_add(m, calls, (const char *const[]){ "flux", "error" }, 1), 0);
	cr_assert_eq(metrics_set(m, up, NULL, 1), 0);
	cr_assert_eq(metrics_set(m, up, NULL, 0.25), 0);
	for (double v = 0.05; v < 10; v *= 10)	/* 0.05, 0.5, 5 */
		cr_assert_eq(metrics_observe(m, dur, (const char *const[]){ "sync" }, v), 0);
	t = render(m);
	cr_assert_str_eq(t,
	    "# HELP t_calls_total Calls\n"
	    "# TYPE t_calls_total counter\n"
	    "t_calls_total{family=\"argocd\",outcome=\"ok\"} 3\n"
	    "t_calls_total{family=\"flux\",outcome=\"error\"} 1\n"
	    "# HELP t_up Up\n"
	    "# TYPE t_up gauge\n"
	    "t_up 0.25\n"
	    "# HELP t_seconds Durations\n"
	    "# TYPE t_seconds histogram\n"
	    "t_seconds_bucket{op=\"sync\",le=\"0.1\"} 1\n"
	    "t_seconds_bucket{op=\"sync\",le=\"1\"} 2\n"
	    "t_seconds_bucket{op=\"sync\",le=\"+Inf\"} 3\n"
	    "t_seconds_sum{op=\"sync\"} 5.55\n"
	    "t_seconds_count{op=\"sync\"} 3\n");
	cr_assert_eq(metrics_get(m, calls, (const char *const[]){ "argocd", "ok" }), 3);
	cr_assert_eq(metrics_get(m, calls, (const char *const[]){ "argocd", "error" }), 0);
	cr_assert_eq(metrics_get(m, dur, (const char *const[]){ "sync" }), 3);
	free(t);
	metrics_free(m);
}

/* Label values: backslash and quote escaped; "ab","c" and "a","bc" are different series. */
Test(metrics, escaping_and_numbers)
{
	static const struct metric_def d2 = DEF("t_two", "Two labels", METRIC_GAUGE, "a", "b");
	struct metrics *m;
	int e, two;
	char *t;

	cr_assert_eq(metrics_new(&m), 0);
	e = metrics_register(m, &d_esc);
	two = metrics_register(m, &d2);
	cr_assert_eq(metrics_set(m, e, (const char *const[]){ "q\"b\\s ü" }, 0.1 + 0.2), 0);
	cr_assert_eq(metrics_set(m, e, (const char *const[]){ "big" }, 1e20), 0);
	cr_assert_eq(metrics_set(m, e, (const char *const[]){ "neg" }, -3), 0);
	cr_assert_eq(metrics_set(m, e, (const char *const[]){ "inf" }, INFINITY), 0);
	cr_assert_eq(metrics_set(m, two, (const char *const[]){ "ab", "c" }, 1), 0);
	cr_assert_eq(metrics_set(m, two, (const char *const[]){ "a", "bc" }, 2), 0);
	t = render(m);
	cr_assert_str_eq(t,
	    "# HELP t_esc Back\\\\slash help\n"
	    "# TYPE t_esc gauge\n"
	    "t_esc{v=\"q\\\"b\\\\s ü\"} 0.30000000000000004\n"
	    "t_esc{v=\"big\"} 1e+20\n"
	    "t_esc{v=\"neg\"} -3\n"
	    "t_esc{v=\"inf\"} +Inf\n"
	    "# HELP t_two Two labels\n"
	    "# TYPE t_two gauge\n"
	    "t_two{a=\"ab\",b=\"c\"} 1\n"
	    "t_two{a=\"a\",b=\"bc\"} 2\n");
	free(t);
	metrics_free(m);
}

struct bad_def {
	const char *why;
	struct metric_def def;
};

static const double dec_buckets[] = { 1, 0.5 };
static const double nan_buckets[] = { 1, NAN };

static const struct bad_def bad_defs[] = {
	{ "digit first", DEF("9x", "h", METRIC_GAUGE, NULL) },
	{ "dash in name", DEF("a-b", "h", METRIC_GAUGE, NULL) },
	{ "empty name", DEF("", "h", METRIC_GAUGE, NULL) },
	{ "colon in label", DEF("ok", "h", METRIC_GAUGE, "a:b") },
	{ "reserved label", DEF("ok", "h", METRIC_GAUGE, "__name") },
	{ "le on histogram", HIST("ok", "h", two_buckets, 2, "le") },
	{ "no buckets", HIST("ok", "h", NULL, 0, NULL) },
	{ "decreasing buckets", HIST("ok", "h", dec_buckets, 2, NULL) },
	{ "NaN bucket", HIST("ok", "h", nan_buckets, 2, NULL) },
	{ "newline in help", DEF("ok", "two\nlines", METRIC_GAUGE, NULL) },
	{ "no help", DEF("ok", NULL, METRIC_GAUGE, NULL) },
	{ "five labels", DEF("ok", "h", METRIC_GAUGE, "a", "b", "c", "d", "e") },
};

Test(metrics, bad_definitions)
{
	struct metrics *m;

	cr_assert_eq(metrics_new(&m), 0);
	for (size_t i = 0; i < sizeof(bad_defs) / sizeof(bad_defs[0]); i++)
		cr_expect_eq(metrics_register(m, &bad_defs[i].def), -EINVAL, "%s", bad_defs[i].why);
	cr_assert_eq(metrics_register(m, &d_up), 0);
	cr_assert_eq(metrics_register(m, &d_up), -EEXIST);
	metrics_free(m);
}

Test(metrics, bad_updates)
{
	char longv[LIM_METRICS_LABEL_MAX + 2];
	struct metrics *m;
	int calls, up, dur;
	char *t;

	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	cr_assert_eq(metrics_new(&m), 0);
	calls = metrics_register(m, &d_calls);
	up = metrics_register(m, &d_up);
	dur = metrics_register(m, &d_dur);
	struct {
		const char *why;
		int r;
	} cases[] = {
		{ "newline in a value", metrics_add(m, calls, (const char *const[]){ "a\nb", "ok" }, 1) },
		{ "escape character", metrics_add(m, calls, (const char *const[]){ "a\x1b", "ok" }, 1) },
		{ "invalid UTF-8", metrics_add(m, calls, (const char *const[]){ "\xc3\x28", "ok" }, 1) },
		{ "too long", metrics_add(m, calls, (const char *const[]){ longv, "ok" }, 1) },
		{ "NULL value", metrics_add(m, calls, (const char *const[]){ NULL, "ok" }, 1) },
		{ "no values", metrics_add(m, calls, NULL, 1) },
		{ "negative counter", metrics_add(m, calls, (const char *const[]){ "a", "ok" }, -1) },
		{ "NaN", metrics_add(m, calls, (const char *const[]){ "a", "ok" }, NAN) },
		{ "set on a counter", metrics_set(m, calls, (const char *const[]){ "a", "ok" }, 1) },
		{ "observe on a gauge", metrics_observe(m, up, NULL, 1) },
		{ "add on a histogram", metrics_add(m, dur, (const char *const[]){ "x" }, 1) },
		{ "unknown family", metrics_add(m, 42, NULL, 1) },
		{ "negative family", metrics_set(m, -1, NULL, 1) },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(cases[i].r, -EINVAL, "%s: %d", cases[i].why, cases[i].r);
	/* A refused update leaves nothing behind, and a gauge may go down. */
	cr_assert_eq(metrics_add(m, up, NULL, 2), 0);
	cr_assert_eq(metrics_add(m, up, NULL, -0.5), 0);
	t = render(m);
	cr_assert_str_eq(t, "# HELP t_calls_total Calls\n# TYPE t_calls_total counter\n"
	    "# HELP t_up Up\n# TYPE t_up gauge\nt_up 1.5\n"
	    "# HELP t_seconds Durations\n# TYPE t_seconds histogram\n");
	free(t);
	metrics_free(m);
}

Test(metrics, series_cap_and_clear)
{
	static const struct metric_def d = DEF("t_many", "Many", METRIC_GAUGE, "i");
	struct metrics *m;
	char v[16];
	int id;

	cr_assert_eq(metrics_new(&m), 0);
	id = metrics_register(m, &d);
	for (unsigned i = 0; i < LIM_METRICS_SERIES_MAX; i++) {
		snprintf(v, sizeof(v), "%u", i);
		cr_assert_eq(metrics_set(m, id, (const char *const[]){ v }, i), 0);
	}
	cr_assert_eq(metrics_set(m, id, (const char *const[]){ "one-more" }, 1), ERR_TOOBIG);
	cr_assert_eq(metrics_set(m, id, (const char *const[]){ "again" }, 1), ERR_TOOBIG);
	cr_assert_eq(metrics_dropped(m), 2);
	/* An existing series still updates at the cap. */
	cr_assert_eq(metrics_set(m, id, (const char *const[]){ "7" }, 70), 0);
	cr_assert_eq(metrics_get(m, id, (const char *const[]){ "7" }), 70);
	metrics_clear(m, id);
	cr_assert_eq(metrics_get(m, id, (const char *const[]){ "7" }), 0);
	cr_assert_eq(metrics_set(m, id, (const char *const[]){ "one-more" }, 1), 0);
	metrics_free(m);
}

Test(metrics, grammar_of_everything_rendered)
{
	struct metrics *m;
	int calls, up, dur, e;
	char *t;

	cr_assert_eq(metrics_new(&m), 0);
	calls = metrics_register(m, &d_calls);
	up = metrics_register(m, &d_up);
	dur = metrics_register(m, &d_dur);
	e = metrics_register(m, &d_esc);
	for (int i = 0; i < 50; i++) {
		char a[32];

		snprintf(a, sizeof(a), "fam \"%d\" \\", i);
		metrics_add(m, calls, (const char *const[]){ a, i % 2 ? "ok" : "error" }, i);
		metrics_observe(m, dur, (const char *const[]){ a }, i / 7.0);
		metrics_set(m, e, (const char *const[]){ a }, -i / 3.0);
	}
	metrics_set(m, up, NULL, NAN);	/* refused: stays absent */
	metrics_set(m, up, NULL, -INFINITY);
	t = render(m);
	cr_assert_gt(expo_check(t), 100);
	free(t);
	metrics_free(m);
}

/* ------------------------------------------------ textfile */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *b;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return b;
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

Test(metrics, textfile_atomic)
{
	char dir[] = "/tmp/corral-metrics-XXXXXX", path[256], victim[256], link[256];
	struct metrics *m;
	struct stat st;
	char *want, *got;
	int up;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/corral.prom", dir);
	cr_assert_eq(metrics_new(&m), 0);
	up = metrics_register(m, &d_up);
	metrics_set(m, up, NULL, 1);
	cr_assert_eq(metrics_write_textfile(m, path), 0);
	want = render(m);
	got = slurp(path);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "mode %o", st.st_mode & 07777);
	cr_assert_eq(count_entries(dir), 1, "a temporary file was left behind");

	/* The next write replaces the file (new inode), never edits it in place. */
	{
		ino_t before = st.st_ino;

		metrics_set(m, up, NULL, 2);
		cr_assert_eq(metrics_write_textfile(m, path), 0);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_neq(st.st_ino, before);
		got = slurp(path);
		cr_assert(strstr(got, "t_up 2\n") != NULL);
		free(got);
	}

	/* A symlink planted at the target is replaced, not followed. */
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(link, sizeof(link), "%s/linked.prom", dir);
	FILE *f = fopen(victim, "w");
	fputs("precious\n", f);
	fclose(f);
	cr_assert_eq(symlink(victim, link), 0);
	cr_assert_eq(metrics_write_textfile(m, link), 0);
	got = slurp(victim);
	cr_assert_str_eq(got, "precious\n");
	free(got);
	cr_assert_eq(lstat(link, &st), 0);
	cr_assert(S_ISREG(st.st_mode));

	/* Errors: a directory that does not exist, a target that is a directory. */
	{
		char nodir[300], isdir[300];

		snprintf(nodir, sizeof(nodir), "%s/missing/corral.prom", dir);
		cr_assert_eq(metrics_write_textfile(m, nodir), -ENOENT);
		snprintf(isdir, sizeof(isdir), "%s/adir", dir);
		cr_assert_eq(mkdir(isdir, 0755), 0);
		cr_assert_lt(metrics_write_textfile(m, isdir), 0);
		cr_assert_eq(metrics_write_textfile(m, "/"), -EINVAL);
	}
	cr_assert_eq(count_entries(dir), 4, "temporary files left behind");	/* prom x2, victim, adir */
	metrics_free(m);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		cr_assert_eq(system(cmd), 0);
	}
}
