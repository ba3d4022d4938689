/* Every case of Kayenta's conformance vectors (tests/tools/data/kayenta-vectors.json, see the
 * README there) run through corral's canary judge building blocks, with the tolerances the
 * vectors give. A case whose expectations are not all checked fails (assertCount guard), and
 * every failure message starts with the case's title. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/canary.h"

#ifndef CANARY_VECTORS_DEFAULT
#define CANARY_VECTORS_DEFAULT "tests/tools/data/kayenta-vectors.json"
#endif

static json_t *vectors;
static const char *cname;	/* title of the case being checked */
static int checks;

static void vectors_load(void)
{
	const char *path = getenv("CANARY_VECTORS");
	json_error_t e;

	if (!path)
		path = CANARY_VECTORS_DEFAULT;
	vectors = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	cr_assert(vectors, "cannot load %s: %s (line %d)", path, e.text, e.line);
}

static void vectors_free(void)
{
	json_decref(vectors);
	vectors = NULL;
}

TestSuite(canary_vectors, .init = vectors_load, .fini = vectors_free);

#define CHECK(cond, ...) do {						\
		checks++;						\
		cr_expect(cond, __VA_ARGS__);				\
	} while (0)

static const json_t *get(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	cr_assert(v, "[%s] field %s missing in the vector", cname, key);
	return v;
}

/* A number or the "NaN" string. */
static double num(const json_t *v)
{
	if (json_is_string(v) && strcmp(json_string_value(v), "NaN") == 0)
		return NAN;
	cr_assert(json_is_number(v), "[%s] expected a number", cname);
	return json_number_value(v);
}

static double numf(const json_t *o, const char *key)
{
	return num(get(o, key));
}

static double *arr(const json_t *a, size_t *n)
{
	double *v;
	size_t i;

	cr_assert(json_is_array(a), "[%s] expected an array", cname);
	*n = json_array_size(a);
	v = calloc(*n ? *n : 1, sizeof *v);
	cr_assert(v);
	for (i = 0; i < *n; i++)
		v[i] = num(json_array_get(a, i));
	return v;
}

static double *arrf(const json_t *o, const char *key, size_t *n)
{
	return arr(get(o, key), n);
}

/* JUnit assertEquals(expected, actual, delta) / scalatest `+-`: NaN equals NaN. */
static bool close_to(double got, double want, double tol)
{
	if (isnan(want) || isnan(got))
		return isnan(want) && isnan(got);
	return got == want || fabs(got - want) <= tol;
}

#define CHECK_NUM(what, got, want, tol)						\
	CHECK(close_to((got), (want), (tol)), "[%s] %s: got %.17g, want %.17g (tol %g)",	\
	      cname, (what), (got), (want), (tol))

static void case_begin(const json_t *c)
{
	cname = json_string_value(get(c, "name"));
	checks = 0;
}

static void case_end(const json_t *c)
{
	int want = (int)json_integer_value(get(c, "assertCount"));

	cr_expect(checks >= want && checks > 0,
		  "[%s] %d checks made for %d assertions in the Scala test", cname, checks, want);
}

static const json_t *section(const char *name, size_t count)
{
	const json_t *s = json_object_get(vectors, name);

	cr_assert(json_is_array(s), "vector section %s missing", name);
	cr_assert_eq(json_array_size(s), count, "section %s: %zu cases, expected %zu", name,
		     json_array_size(s), count);
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* ClassifierSuite                                                                            */

static enum canary_direction dir_of(const char *s)
{
	if (strcmp(s, "Increase") == 0)
		return CANARY_DIR_INCREASE;
	if (strcmp(s, "Decrease") == 0)
		return CANARY_DIR_DECREASE;
	cr_assert_str_eq(s, "Either", "[%s] direction", cname);
	return CANARY_DIR_EITHER;
}

static void pair(const json_t *o, const char *key, double *lo, double *hi)
{
	const json_t *a = get(o, key);

	cr_assert(json_array_size(a) == 2, "[%s] %s is not a pair", cname, key);
	*lo = num(json_array_get(a, 0));
	*hi = num(json_array_get(a, 1));
}

static void classifier_run(const json_t *c, struct canary_classification *out)
{
	const json_t *params = get(c, "params"), *cl = get(c, "classify");
	const json_t *ctl = get(c, "control"), *exp = get(c, "experiment");
	const char *kind = json_string_value(get(c, "classifier"));
	struct canary_mwc_params p;
	enum canary_nan nan;
	double *cv, *ev;
	size_t nc, ne;
	int r;

	nan = strcmp(json_string_value(get(cl, "nanStrategy")), "Replace") == 0 ?
	      CANARY_NAN_REPLACE : CANARY_NAN_REMOVE;
	cv = arrf(ctl, "values", &nc);
	ev = arrf(exp, "values", &ne);
	if (strcmp(kind, "MannWhitneyClassifier") == 0) {
		canary_mwc_defaults(&p);
		p.tolerance = numf(params, "tolerance");
		p.confidence = numf(params, "confLevel");
		pair(params, "effectSizeThresholds", &p.effect_low, &p.effect_high);
		pair(params, "criticalThresholds", &p.critical_low, &p.critical_high);
		p.measure = strcmp(json_string_value(get(params, "effectSizeMeasure")), "cles") ?
			    CANARY_EFFECT_MEAN_RATIO : CANARY_EFFECT_CLES;
		r = canary_classify_mw(&p, json_string_value(get(exp, "name")), cv, nc, ev, ne,
				       dir_of(json_string_value(get(cl, "direction"))), nan,
				       json_is_true(get(cl, "isCriticalMetric")),
				       json_is_true(get(cl, "isDataRequired")), out);
	} else {
		cr_assert_str_eq(kind, "MeanInequalityClassifier", "[%s] classifier", cname);
		r = canary_classify_mean(json_string_value(get(exp, "name")), cv, nc, ev, ne,
					 dir_of(json_string_value(get(cl, "direction"))), nan,
					 json_is_true(get(cl, "isCriticalMetric")),
					 json_is_true(get(cl, "isDataRequired")), out);
	}
	cr_assert_eq(r, 0, "[%s] classify failed: %d", cname, r);
	free(cv);
	free(ev);
}

Test(canary_vectors, classifier)
{
	const json_t *sec = section("classifier", 37), *c, *want;
	struct canary_classification got;
	const char *key;
	size_t i;

	json_array_foreach(sec, i, c) {
		case_begin(c);
		classifier_run(c, &got);
		json_object_foreach((json_t *)get(c, "expect"), key, want) {
			if (strcmp(key, "classification") == 0)
				CHECK(strcmp(canary_label_name(got.label), json_string_value(want)) == 0,
				      "[%s] classification: got %s, want %s (ci [%g, %g], estimate %g)",
				      cname, canary_label_name(got.label), json_string_value(want),
				      got.ci_lower, got.ci_upper, got.estimate);
			else if (strcmp(key, "critical") == 0)
				CHECK(got.critical == json_is_true(want), "[%s] critical: got %d",
				      cname, got.critical);
			else if (strcmp(key, "deviation") == 0)
				CHECK_NUM("deviation", got.deviation, num(want), 0.0);
			else if (strcmp(key, "reasonNonEmpty") == 0)
				CHECK((got.reason[0] != '\0') == json_is_true(want),
				      "[%s] reason: \"%s\"", cname, got.reason);
			else
				cr_expect_fail("[%s] unhandled expectation %s", cname, key);
		}
		case_end(c);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* MannWhitneySuite                                                                           */

static void mw_prepare(const json_t *c, struct canary_mw *mw)
{
	double *x, *y;
	size_t nx, ny;

	x = arrf(c, "x", &nx);
	y = arrf(c, "y", &ny);
	cr_assert_eq(canary_mw_init(mw, x, nx, y, ny), 0, "[%s] prepare", cname);
	free(x);
	free(y);
}

static void mw_wilcoxon_diff(const json_t *c)
{
	struct canary_mw mw;
	const json_t *call;
	double got;
	size_t i;

	mw_prepare(c, &mw);
	json_array_foreach(get(c, "calls"), i, call) {
		cr_assert_eq(canary_mw_diff(&mw, numf(call, "mu"), numf(call, "quantile"), &got), 0);
		CHECK_NUM("wilcoxonDiff", got, numf(call, "expected"), numf(call, "tol"));
	}
	canary_mw_fini(&mw);
}

static void check_expect(const json_t *expect, const char *key, double got)
{
	const json_t *e = get(expect, key);

	CHECK_NUM(key, got, numf(e, "value"), numf(e, "tol"));
}

static void mw_utest(const json_t *c)
{
	const json_t *expect = get(c, "expect");
	struct canary_mw_result res;
	double *x, *y;
	size_t nx, ny;
	int r;

	cr_assert(numf(c, "mu") == 0.0, "[%s] only mu = 0 is used by Kayenta", cname);
	x = arrf(c, "x", &nx);
	y = arrf(c, "y", &ny);
	r = canary_mw_test(x, nx, y, ny, numf(c, "confidenceLevel"), &res);
	cr_assert_eq(r, 0, "[%s] mannWhitneyUTest failed: %d", cname, r);
	cr_assert_eq(json_object_size(expect), 3, "[%s] expectations", cname);
	check_expect(expect, "ciLower", res.ci_lower);
	check_expect(expect, "ciUpper", res.ci_upper);
	check_expect(expect, "estimate", res.estimate);
	free(x);
	free(y);
}

struct solve_ctx {
	const struct canary_mw *mw;
	double zq;
};

static int solve_fn(void *ctx, double mu, double *out)
{
	const struct solve_ctx *s = ctx;

	return canary_mw_diff(s->mw, mu, s->zq, out);
}

static double solve(const struct canary_mw *mw, double lo, double hi, double zq)
{
	struct solve_ctx s = { mw, zq };
	double flo, fhi, root;

	cr_assert_eq(canary_mw_diff(mw, lo, zq, &flo), 0);
	cr_assert_eq(canary_mw_diff(mw, hi, zq, &fhi), 0);
	cr_assert_eq(canary_brent(lo, hi, flo, fhi, solve_fn, &s, &root), 0);
	return root;
}

/* The suite's step-by-step replay of calculateConfidenceInterval (no clamp on the roots). */
static void mw_intermediates(const json_t *c)
{
	const json_t *expect = get(c, "expect");
	struct canary_mw mw;
	double mu_min, mu_max, alpha, zql, zqu, f;

	mw_prepare(c, &mw);
	cr_assert_eq(json_object_size(expect), 11, "[%s] expectations", cname);
	alpha = 1.0 - numf(c, "confidenceLevel");
	mu_min = mw.xmin - mw.ymax;
	mu_max = mw.xmax - mw.ymin;
	zql = canary_qnorm(alpha / 2) * -1;
	zqu = canary_qnorm(alpha / 2);
	check_expect(expect, "muMin", mu_min);
	check_expect(expect, "muMax", mu_max);
	check_expect(expect, "zqLower", zql);
	check_expect(expect, "zqUpper", zqu);
	cr_assert_eq(canary_mw_diff(&mw, mu_min, zql, &f), 0);
	check_expect(expect, "fLower1", f);
	cr_assert_eq(canary_mw_diff(&mw, mu_max, zql, &f), 0);
	check_expect(expect, "fUpper1", f);
	cr_assert_eq(canary_mw_diff(&mw, mu_min, zqu, &f), 0);
	check_expect(expect, "fLower2", f);
	cr_assert_eq(canary_mw_diff(&mw, mu_max, zqu, &f), 0);
	check_expect(expect, "fUpper2", f);
	check_expect(expect, "ciLowerSolve", solve(&mw, mu_min, mu_max, zql));
	check_expect(expect, "ciUpperSolve", solve(&mw, mu_min, mu_max, zqu));
	check_expect(expect, "estimate", solve(&mw, mu_min, mu_max, 0));
	canary_mw_fini(&mw);
}

Test(canary_vectors, mannwhitney)
{
	const json_t *sec = section("mannwhitney", 7), *c;
	const char *kind;
	size_t i;

	json_array_foreach(sec, i, c) {
		case_begin(c);
		kind = json_string_value(get(c, "kind"));
		if (strcmp(kind, "wilcoxonDiff") == 0) {
			mw_wilcoxon_diff(c);
		} else if (strcmp(kind, "normalQuantile") == 0) {
			CHECK_NUM("inverseCumulativeProbability",
				  numf(c, "mean") + numf(c, "sd") * canary_qnorm(numf(c, "p")),
				  numf(get(c, "expect"), "value"), numf(get(c, "expect"), "tol"));
		} else if (strcmp(kind, "mannWhitneyUTest") == 0) {
			mw_utest(c);
		} else if (strcmp(kind, "intermediates") == 0) {
			mw_intermediates(c);
		} else {
			cr_expect_fail("[%s] unhandled kind %s", cname, kind);
		}
		case_end(c);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* ScorerSuite                                                                                */

static int dcmp(const void *a, const void *b)
{
	return canary_jcmp(*(const double *)a, *(const double *)b);
}

static void scorer_check(const json_t *expect, const struct canary_score *s)
{
	const json_t *want;
	const char *key;
	double scores[64];
	size_t i, n = s->ngroups;

	cr_assert(n <= 64);
	for (i = 0; i < n; i++)
		scores[i] = s->groups[i].score;
	json_object_foreach((json_t *)expect, key, want) {
		if (strcmp(key, "summaryScore") == 0) {
			CHECK_NUM("summaryScore", s->summary, num(want), 0.0);
		} else if (strcmp(key, "groupScoresDefined") == 0 ||
			   strcmp(key, "groupScoresOptionSize") == 0) {
			/* Some(list) in Scala: corral always returns the group list */
			CHECK(n > 0, "[%s] %s: no group scores", cname, key);
		} else if (strcmp(key, "groupCount") == 0) {
			CHECK(n == (size_t)json_integer_value(want), "[%s] groupCount: got %zu",
			      cname, n);
		} else if (strcmp(key, "groupScores") == 0 || strcmp(key, "groupScoresSorted") == 0) {
			if (strcmp(key, "groupScoresSorted") == 0)
				qsort(scores, n, sizeof *scores, dcmp);
			CHECK(json_array_size(want) == n, "[%s] %s: %zu groups", cname, key, n);
			for (i = 0; i < n && i < json_array_size(want); i++)
				CHECK_NUM(key, scores[i], num(json_array_get(want, i)), 0.0);
		} else {
			cr_expect_fail("[%s] unhandled expectation %s", cname, key);
		}
	}
}

static void scorer_case(const json_t *c)
{
	const json_t *results = get(c, "results"), *weights = get(c, "groupWeights"), *res, *w;
	struct canary_score_item items[16];
	struct canary_group_weight gw[16];
	const char *groups[16][4], *key;
	struct canary_score s;
	size_t i, k, nw = 0;

	cr_assert(json_array_size(results) <= 16 && json_object_size(weights) <= 16);
	json_array_foreach(results, i, res) {
		memset(&items[i], 0, sizeof items[i]);
		cr_assert_eq(canary_label_parse(json_string_value(get(res, "classification")),
						&items[i].label), 0, "[%s] label", cname);
		cr_assert(json_array_size(get(res, "groups")) <= 4);
		for (k = 0; k < json_array_size(get(res, "groups")); k++)
			groups[i][k] = json_string_value(json_array_get(get(res, "groups"), k));
		items[i].groups = groups[i];
		items[i].ngroups = k;
		items[i].critical = json_is_true(get(res, "critical"));
		items[i].muted = json_is_true(get(res, "muted"));
		items[i].reason = json_string_value(get(res, "name"));
	}
	json_object_foreach((json_t *)weights, key, w) {
		gw[nw].name = key;
		gw[nw++].weight = num(w);
	}
	cr_assert_eq(canary_score_weighted(items, json_array_size(results), gw, nw, &s), 0);
	scorer_check(get(c, "expect"), &s);
	canary_score_fini(&s);
}

Test(canary_vectors, scorer)
{
	const json_t *sec = section("scorer", 13), *c;
	size_t i;

	json_array_foreach(sec, i, c) {
		case_begin(c);
		scorer_case(c);
		case_end(c);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* StatisticSuite                                                                             */

static void summary_check(const json_t *chk)
{
	const json_t *want = get(chk, "expect");
	struct canary_stats st;
	double *v, tol = numf(chk, "tol");
	const json_t *field = json_object_get(chk, "field");
	const char *names[] = { "min", "max", "mean", "std", "count" };
	double got[5];
	size_t n, k;

	v = arrf(chk, "values", &n);
	canary_summary(v, n, &st);
	got[0] = st.min;
	got[1] = st.max;
	got[2] = st.mean;
	got[3] = st.std;
	got[4] = (double)st.count;
	for (k = 0; k < 5; k++) {
		if (field && strcmp(json_string_value(field), names[k]) == 0)
			CHECK_NUM(names[k], got[k], num(want), tol);
		else if (!field)
			CHECK_NUM(names[k], got[k], numf(want, names[k]), tol);
	}
	if (!field)
		checks -= 4;	/* the Scala test compares the whole case class in one assert */
	free(v);
}

static void two_samples(const json_t *chk, double **c, size_t *nc, double **e, size_t *ne)
{
	*c = arrf(chk, "control", nc);
	*e = arrf(chk, "experiment", ne);
}

static void stat_check(const json_t *chk)
{
	const char *fn = json_string_value(get(chk, "fn"));
	double *v, *c, *e, got, tol = numf(chk, "tol");
	struct canary_stats sc, se;
	size_t n, nc, ne;

	if (strcmp(fn, "summary") == 0) {
		summary_check(chk);
		return;
	}
	if (strcmp(fn, "percentile") == 0) {
		cr_assert_str_eq(json_string_value(get(chk, "estimation")), "R-7");
		v = arrf(chk, "values", &n);
		cr_assert_eq(canary_percentile(v, n, numf(chk, "p"), &got), 0);
		CHECK_NUM("percentile", got, numf(chk, "expect"), tol);
		free(v);
		return;
	}
	two_samples(chk, &c, &nc, &e, &ne);
	if (strcmp(fn, "meanRatio") == 0 && json_object_get(chk, "overload")) {
		canary_summary(c, nc, &sc);	/* meanRatio(MetricStatistics, MetricStatistics) */
		canary_summary(e, ne, &se);
		got = (sc.mean == 0.0 || se.mean == 0.0) ? NAN : se.mean / sc.mean;
	} else if (strcmp(fn, "meanRatio") == 0) {
		got = canary_mean_ratio(c, nc, e, ne);
	} else if (strcmp(fn, "cohenD") == 0) {
		got = canary_cohen_d(c, nc, e, ne);
	} else {
		cr_assert_str_eq(fn, "cles", "[%s] unhandled statistic", cname);
		cr_assert_eq(canary_cles(c, nc, e, ne, &got), 0);
	}
	CHECK_NUM(fn, got, numf(chk, "expect"), tol);
	free(c);
	free(e);
}

Test(canary_vectors, statistics)
{
	const json_t *sec = section("statistics", 18), *c, *chk;
	size_t i, k;

	json_array_foreach(sec, i, c) {
		case_begin(c);
		json_array_foreach(get(c, "checks"), k, chk)
			stat_check(chk);
		case_end(c);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* TransformSuite, DetectorSuite                                                              */

static void detect(const json_t *c, const double *v, size_t n, bool *out)
{
	const json_t *d = get(c, "detector");
	const char *type = json_string_value(get(d, "type"));

	if (strcmp(type, "IQRDetector") == 0)
		cr_assert_eq(canary_iqr_detect(v, n, numf(d, "factor"),
					       json_is_true(get(d, "reduceSensitivity")), out), 0);
	else if (strcmp(type, "KSigmaDetector") == 0)
		cr_assert_eq(canary_ksigma_detect(v, n, numf(d, "k"), out), 0);
	else
		cr_assert_fail("[%s] unknown detector %s", cname, type);
}

static void same_array(const double *got, size_t n, const json_t *want)
{
	size_t i;
	bool eq = json_array_size(want) == n;

	for (i = 0; eq && i < n; i++)
		eq = close_to(got[i], num(json_array_get(want, i)), 0.0);
	CHECK(eq, "[%s] result differs from the expected array (%zu values)", cname, n);
}

static void noise_check(const json_t *c, double *v, size_t n)
{
	const json_t *st = get(c, "expectStats");

	canary_gaussian_noise(v, n, numf(c, "mean"), numf(c, "stdev"),
			      (int32_t)json_integer_value(get(c, "seed")));
	CHECK_NUM("sampleMean", canary_mean(v, n), numf(get(st, "sampleMean"), "value"),
		  numf(get(st, "sampleMean"), "tol"));
	CHECK_NUM("sampleStdev", sqrt(canary_variance(v, n)),
		  numf(get(st, "sampleStdev"), "value"), numf(get(st, "sampleStdev"), "tol"));
	CHECK(n == (size_t)json_integer_value(get(st, "length")), "[%s] length", cname);
}

static void transform_case(const json_t *c)
{
	const char *op = json_string_value(get(c, "op"));
	size_t n, i, j;
	double *v = arrf(c, "input", &n);
	bool *out = calloc(n ? n : 1, sizeof *out);

	cr_assert(out);
	if (strcmp(op, "removeNaNs") == 0) {
		same_array(v, canary_nan_remove(v, n), get(c, "expect"));
	} else if (strcmp(op, "replaceNaNs") == 0) {
		canary_nan_replace(v, n, numf(c, "value"));
		same_array(v, n, get(c, "expect"));
	} else if (strcmp(op, "removeOutliers") == 0) {
		detect(c, v, n, out);
		for (i = j = 0; i < n; i++)
			if (!out[i])
				v[j++] = v[i];
		same_array(v, j, get(c, "expect"));
	} else if (strcmp(op, "detect") == 0) {
		detect(c, v, n, out);
		bool eq = json_array_size(get(c, "expect")) == n;
		for (i = 0; eq && i < n; i++)
			eq = out[i] == json_is_true(json_array_get(get(c, "expect"), i));
		CHECK(eq, "[%s] detected outliers differ", cname);
	} else if (strcmp(op, "addGaussianNoise") == 0) {
		noise_check(c, v, n);
	} else {
		cr_expect_fail("[%s] unhandled op %s", cname, op);
	}
	free(out);
	free(v);
}

Test(canary_vectors, transforms_and_detectors)
{
	const json_t *sec = section("transforms", 12), *c;
	size_t i;

	json_array_foreach(sec, i, c) {
		case_begin(c);
		transform_case(c);
		case_end(c);
	}
}
