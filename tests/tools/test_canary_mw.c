/* The Mann-Whitney engine against independent computations: a naive full-ranking
 * re-statement of Kayenta's wilcoxonDiff (as NaturalRanking does it, O(N log N) per call),
 * brute-force pairwise differences, plus the numeric helpers (round2, qnorm, java.util.Random).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/canary.h"

/* xorshift64* + Box-Muller: deterministic test data. */
static uint64_t rng_state;

static double urand(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * UINT64_C(2685821657736338717)) >> 11) * 0x1.0p-53;
}

static double nrand(double mean, double sd)
{
	double u = urand(), v = urand();

	return mean + sd * sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

/* One data set per shape: continuous, half-step ties, mostly zeros, tiny spreads, small ints. */
static size_t gen(int shape, double *v, size_t n, double shift)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (shape) {
		case 0: v[i] = nrand(10 + shift, 2); break;
		case 1: v[i] = round(nrand(3 + shift, 1) * 2) / 2; break;
		case 2: v[i] = urand() < 0.8 ? 0.0 : 1 + 3 * urand() + shift; break;
		case 3: v[i] = 0.0333333 + nrand(shift * 1e-5, 1e-5); break;
		default: v[i] = floor(4 * urand() + shift); break;
		}
	}
	return n;
}

/* --- naive reference: rank the pooled sample with average ties, every call ---------------- */

struct ranked {
	double v;
	size_t i;
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	int c = canary_jcmp(x->v, y->v);

	return c ? c : (x->i < y->i ? -1 : x->i > y->i);
}

static double naive_diff(const double *x, size_t nx, const double *y, size_t ny, double mu,
	double q)
{
	size_t n = nx + ny, i, j, k;
	struct ranked *p = calloc(n, sizeof *p);
	double *rank = calloc(n, sizeof *rank), s = 0, ties = 0, xl = (double)nx, yl = (double)ny;
	double dz, sigma;

	cr_assert(p && rank);
	for (i = 0; i < n; i++)
		p[i] = (struct ranked){ i < nx ? x[i] - mu : y[i - nx], i };
	qsort(p, n, sizeof *p, ranked_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && canary_jcmp(p[j].v, p[i].v) == 0; j++)
			;
		for (k = i; k < j; k++)
			rank[p[k].i] = (double)(i + 1 + j) / 2.0;
		ties += pow((double)(j - i), 3) - (double)(j - i);
	}
	for (i = 0; i < nx; i++)
		s += rank[i];
	dz = s - xl * (xl + 1) / 2 - xl * yl / 2;
	sigma = sqrt((xl * yl / 12) * ((xl + yl + 1) - ties / ((xl + yl) * (xl + yl - 1))));
	free(p);
	free(rank);
	return (dz - (dz > 0 ? 0.5 : dz < 0 ? -0.5 : 0)) / sigma - q;
}

Test(canary_mw, merge_count_equals_naive_ranking_bit_for_bit)
{
	static double x[200], y[200];
	struct canary_mw mw;
	double mu, got, want, d;
	size_t nx, ny, probes = 0;
	int shape, rep, k;

	rng_state = 0x9e3779b97f4a7c15u;
	for (shape = 0; shape < 5; shape++) {
		for (rep = 0; rep < 20; rep++) {
			nx = gen(shape, x, 1 + (size_t)(urand() * 199), 0.3 * rep / 20.0);
			ny = gen(shape, y, 1 + (size_t)(urand() * 199), 0);
			if (canary_mw_init(&mw, x, nx, y, ny) < 0)
				cr_assert_fail("init");
			/* probe at data points (ties between x - mu and y) and in between */
			for (k = 0; k < 12; k++) {
				mu = k % 3 == 0 ? x[k % nx] - y[(k * 7) % ny] :
				     (mw.xmin - mw.ymax) + urand() * (mw.xmax - mw.ymin - mw.xmin + mw.ymax);
				want = naive_diff(x, nx, y, ny, mu, k % 2 ? 1.959963984540054 : 0.0);
				if (isnan(want))
					continue;	/* every value tied */
				cr_assert_eq(canary_mw_diff(&mw, mu, k % 2 ? 1.959963984540054 : 0.0, &got), 0);
				d = got - want;
				cr_assert(got == want, "shape %d rep %d mu %.17g: merge %.17g naive %.17g (%g)",
					  shape, rep, mu, got, want, d);
				probes++;
			}
			canary_mw_fini(&mw);
		}
	}
	cr_assert_gt(probes, 1000);
}

Test(canary_mw, all_tied_is_an_error_as_in_kayenta)
{
	double x[] = { 2, 2, 2 }, y[] = { 2, 2 }, out = 42;
	struct canary_mw mw;
	struct canary_mw_result res;

	cr_assert_eq(canary_mw_init(&mw, x, 3, y, 2), 0);
	cr_assert_eq(canary_mw_diff(&mw, 0, 0, &out), -EDOM);
	cr_assert_eq(out, 42, "output written on failure");
	canary_mw_fini(&mw);
	cr_assert_eq(canary_mw_test(x, 3, y, 2, 0.95, &res), -EDOM);
	cr_assert_eq(canary_mw_test(x, 0, y, 2, 0.95, &res), -EINVAL);
	cr_assert_eq(canary_mw_test(x, 3, y, 2, 1.0, &res), -EINVAL);
}

Test(canary_mw, overflowing_range_is_refused)
{
	double x[] = { 1e308, -1e308 }, y[] = { -1e308, 5 };
	struct canary_mw_result res;

	cr_assert_eq(canary_mw_test(x, 2, y, 2, 0.95, &res), -ERANGE);
}

static int dcmp(const void *a, const void *b)
{
	return canary_jcmp(*(const double *)a, *(const double *)b);
}

Test(canary_mw, kth_pairwise_difference_matches_brute_force)
{
	static double x[60], y[60], all[3600];
	struct canary_mw mw;
	size_t nx, ny, i, j, n;
	uint64_t k;
	double got;
	int shape;

	rng_state = 12345;
	for (shape = 0; shape < 5; shape++) {
		nx = gen(shape, x, 1 + (size_t)(urand() * 59), 0.5);
		ny = gen(shape, y, 1 + (size_t)(urand() * 59), 0);
		for (i = n = 0; i < nx; i++)
			for (j = 0; j < ny; j++)
				all[n++] = x[i] - y[j];
		qsort(all, n, sizeof *all, dcmp);
		cr_assert_eq(canary_mw_init(&mw, x, nx, y, ny), 0);
		for (k = 1; k <= n; k += 1 + n / 50) {
			cr_assert_eq(canary_mw_pairdiff_kth(&mw, k, &got), 0);
			cr_assert(got == all[k - 1], "shape %d k %lu: %.17g vs %.17g", shape,
				  (unsigned long)k, got, all[k - 1]);
		}
		cr_assert_eq(canary_mw_pairdiff_kth(&mw, n + 1, &got), -EINVAL);
		canary_mw_fini(&mw);
	}
}

/* Kayenta's estimate is a Brent root of the corrected score, which lands within the solver's
 * tolerance of a jump of the step function, i.e. near the Hodges-Lehmann median of the
 * pairwise differences. */
Test(canary_mw, estimate_is_near_the_hodges_lehmann_median)
{
	static double x[400], y[300];
	struct canary_mw_result res;
	struct canary_mw mw;
	double lo, hi;

	rng_state = 777;
	gen(0, x, 400, 1.5);
	gen(0, y, 300, 0);
	cr_assert_eq(canary_mw_test(x, 400, y, 300, 0.95, &res), 0);
	cr_assert_eq(canary_mw_init(&mw, x, 400, y, 300), 0);
	cr_assert_eq(canary_mw_pairdiff_kth(&mw, 400 * 300 / 2, &lo), 0);
	cr_assert_eq(canary_mw_pairdiff_kth(&mw, 400 * 300 / 2 + 1, &hi), 0);
	canary_mw_fini(&mw);
	cr_assert(fabs(res.estimate - (lo + hi) / 2) < 0.01, "estimate %g, HL %g",
		  res.estimate, (lo + hi) / 2);
	cr_assert(res.ci_lower < res.estimate && res.estimate < res.ci_upper);
	cr_assert(res.ci_lower > 1.0 && res.ci_upper < 2.0, "[%g, %g] should hold the 1.5 shift",
		  res.ci_lower, res.ci_upper);
}

static int sq2(void *ctx, double v, double *out)
{
	(void)ctx;
	*out = v * v - 2;
	return 0;
}

static int failing(void *ctx, double v, double *out)
{
	(void)ctx;
	(void)v;
	(void)out;
	return -EDOM;
}

Test(canary_mw, brent_finds_a_smooth_root_and_reports_callback_errors)
{
	double root;

	cr_assert_eq(canary_brent(0, 2, -2, 2, sq2, NULL, &root), 0);
	cr_assert(fabs(root - sqrt(2)) < 1e-4, "root %.17g", root);
	cr_assert_eq(canary_brent(0, 2, -2, 2, failing, NULL, &root), -EDOM);
	cr_assert_eq(canary_brent(0, 2, 0.0, 2, failing, NULL, &root), 0, "root at an endpoint");
	cr_assert_eq(root, 0);
}

/* ---------------------------------------------------------------------------------------- */

Test(canary_num, round2_is_half_up_on_the_shortest_decimal)
{
	static const struct { double in, want; } cases[] = {
		{ 33.333333333333336, 33.33 }, { 66.66666666666667, 66.67 }, { 66.665, 66.67 },
		{ 1.005, 1.01 },	/* binary 1.00499999999999989... still rounds up */
		{ 2.675, 2.68 }, { 99.995, 100.0 }, { 99.994999, 99.99 }, { 0.004, 0.0 },
		{ 0.005, 0.01 }, { 100.0, 100.0 }, { 0.0, 0.0 }, { 12.5, 12.5 },
		{ 1e-300, 0.0 }, { 123456.789, 123456.79 }, { -2.675, -2.68 },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_expect(canary_round2(cases[i].in) == cases[i].want, "round2(%.17g) = %.17g, want %g",
			  cases[i].in, canary_round2(cases[i].in), cases[i].want);
	cr_expect(signbit(canary_round2(-0.001)), "negative values rounded to zero keep the sign");
}

Test(canary_num, qnorm_inverts_the_normal_cdf)
{
	static const double ps[] = { 1e-300, 1e-10, 0.001, 0.01, 0.025, 0.1, 0.3, 0.5, 0.7, 0.975,
		0.999, 1 - 1e-12 };
	size_t i;
	double z, back;

	for (i = 0; i < sizeof ps / sizeof ps[0]; i++) {
		z = canary_qnorm(ps[i]);
		back = 0.5 * erfc(-z / sqrt(2.0));
		/* one ulp of z moves the cdf by about z^2 ulps relative */
		cr_expect(fabs(back - ps[i]) <= (z * z + 2) * 2.3e-16 * (ps[i] < 0.5 ? ps[i] : 1.0),
			  "p %.17g: z %.17g, cdf(z) %.17g", ps[i], z, back);
	}
	cr_expect(canary_qnorm(0.5) == 0.0);
	cr_expect(canary_qnorm(0.0) == -INFINITY && canary_qnorm(1.0) == INFINITY);
	cr_expect(isnan(canary_qnorm(-0.1)) && isnan(canary_qnorm(NAN)));
	cr_expect(canary_qnorm(0.25) == -canary_qnorm(0.75), "symmetry");
}

/* First draws of new java.util.Random(seed).nextGaussian() printed by OpenJDK 17. Java uses
 * StrictMath.log/sqrt (fdlibm) where corral uses libm, hence the few-ulp tolerance. */
Test(canary_num, gaussian_noise_follows_java_util_random)
{
	static const struct { int32_t seed; double g[5]; } cases[] = {
		{ 12345, { -0.187808989658912, 0.5884363051154796, 0.9488047804400426,
			   -0.49428072062604445, -1.223411937180115 } },
		{ 42, { 1.1419053154730547, 0.9194079489827879, -0.9498666368908959,
			-1.1069902863993377, 0.2809776380727795 } },
		{ -7, { -1.1860262593274535, 0.8896355203316739, 0.07207057524014324,
			1.1801067715873763, -0.8529129767446793 } },
	};
	double v[5];
	size_t i, k;

	for (i = 0; i < 3; i++) {
		for (k = 0; k < 5; k++)
			v[k] = 10.0;
		canary_gaussian_noise(v, 5, 1.0, 2.0, cases[i].seed);
		for (k = 0; k < 5; k++)
			cr_expect(fabs(v[k] - (10.0 + cases[i].g[k] * 2.0 + 1.0)) < 1e-14,
				  "seed %d draw %zu: %.17g", cases[i].seed, k, v[k]);
	}
}

Test(canary_num, java_compare_orders_signed_zero_and_nan)
{
	cr_expect(canary_jcmp(-0.0, 0.0) < 0 && canary_jcmp(0.0, -0.0) > 0);
	cr_expect(canary_jcmp(NAN, INFINITY) > 0 && canary_jcmp(NAN, -NAN) == 0);
	cr_expect(canary_jcmp(1.0, 2.0) < 0 && canary_jcmp(2.0, 2.0) == 0);
	cr_expect(canary_jcmp(-INFINITY, -1e308) < 0);
}

static int jcmp_q(const void *a, const void *b)
{
	return canary_jcmp(*(const double *)a, *(const double *)b);
}

Test(canary_num, sort_is_java_order_for_every_size)
{
	static const double specials[] = { 0.0, -0.0, INFINITY, -INFINITY, 1e-320, -1e-320,
		1.0, -1.0, 1e308, -1e308, 5.0, 5.0 };
	static double v[3000], w[3000];
	size_t n, i;

	rng_state = 99;
	for (n = 0; n <= 3000; n = n < 40 ? n + 1 : n * 3) {
		for (i = 0; i < n; i++)
			v[i] = urand() < 0.3 ? specials[(size_t)(urand() * 12)] :
			       (urand() - 0.5) * pow(10, (int)(urand() * 40) - 20);
		if (n > 7)
			v[n / 2] = NAN;
		memcpy(w, v, n * sizeof *v);
		canary_sort(v, n);
		qsort(w, n, sizeof *w, jcmp_q);
		for (i = 0; i < n; i++)
			cr_assert(canary_jcmp(v[i], w[i]) == 0 && signbit(v[i]) == signbit(w[i]),
				  "n %zu at %zu: %g vs %g", n, i, v[i], w[i]);
	}
}
