/* Mann-Whitney confidence interval and estimate, as Kayenta's MannWhitney.scala computes them:
 * Brent's root finder (BrentSolver.java, R's zeroin) on wilcoxonDiff(mu), the continuity-
 * corrected normal score of the rank sum of (x - mu) against y.
 *
 * Kayenta ranks the pooled sample at every evaluation (O(N log N) with boxing). Here both
 * samples are sorted once; an evaluation is then one merge of (x_i - mu) with y, which yields
 * the rank sum as a count of pairs (U = #{y_j < x_i - mu} + #{y_j == x_i - mu}/2) and the tie
 * groups for the variance, in O(nx + ny) and without forming the nx * ny Walsh differences.
 * The arithmetic that follows is Kayenta's, operation for operation; see docs/CANARY.md. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/canary.h"

#define BRENT_MAX_ITERATIONS	1000
#define BRENT_TOLERANCE		1e-4
#define BRENT_EPSILON		2.220446049250313e-16

static int copy_sorted(const double *v, size_t n, double **out)
{
	double *c;
	size_t i;

	for (i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return -EINVAL;
	c = malloc(n * sizeof *c);
	if (!c)
		return -ENOMEM;
	memcpy(c, v, n * sizeof *c);
	canary_sort(c, n);
	*out = c;
	return 0;
}

/* Scala 2.12's Array[Double].min / .max: reduceLeft with IEEE <= / >=, so the first of two
 * equal values (-0.0 and +0.0) wins. */
static double scala_min(const double *v, size_t n)
{
	double m = v[0];
	size_t i;

	for (i = 1; i < n; i++)
		m = (m <= v[i]) ? m : v[i];
	return m;
}

static double scala_max(const double *v, size_t n)
{
	double m = v[0];
	size_t i;

	for (i = 1; i < n; i++)
		m = (m >= v[i]) ? m : v[i];
	return m;
}

int canary_mw_init(struct canary_mw *mw, const double *x, size_t nx, const double *y, size_t ny)
{
	int r;

	memset(mw, 0, sizeof *mw);
	if (nx == 0 || ny == 0)
		return -EINVAL;
	if (nx > LIM_CANARY_SAMPLES_MAX || ny > LIM_CANARY_SAMPLES_MAX)
		return ERR_TOOBIG;
	if ((r = copy_sorted(x, nx, &mw->xs)) < 0 || (r = copy_sorted(y, ny, &mw->ys)) < 0) {
		canary_mw_fini(mw);
		return r;
	}
	mw->nx = nx;
	mw->ny = ny;
	mw->xmin = scala_min(x, nx);
	mw->xmax = scala_max(x, nx);
	mw->ymin = scala_min(y, ny);
	mw->ymax = scala_max(y, ny);
	return 0;
}

void canary_mw_fini(struct canary_mw *mw)
{
	if (!mw)
		return;
	free(mw->xs);
	free(mw->ys);
	memset(mw, 0, sizeof *mw);
}

/* Double.compare for the values met here (no NaN): IEEE order, then -0.0 before +0.0. */
static inline int fcmp(double a, double b)
{
	if (a < b)
		return -1;
	if (a > b)
		return 1;
	return (signbit(b) != 0) - (signbit(a) != 0);
}

/* One merge of (xs - mu) with ys. twice_u = 2U exactly; ties = sum of t^3 - t over the tie
 * groups of the pooled sample (NaturalRanking's groups: Double.compare equality). Both stay
 * below 2^53 under LIM_CANARY_SAMPLES_MAX, so their conversion to double is exact, as
 * Kayenta's double sums of half-integer ranks and of pow(t, 3) - t are. */
static void mw_merge(const struct canary_mw *mw, double mu, uint64_t *twice_u, uint64_t *ties)
{
	size_t i = 0, j = 0, cx, cy, before;
	uint64_t u2 = 0, tt = 0, t;
	double v;

	while (i < mw->nx || j < mw->ny) {
		if (j >= mw->ny || (i < mw->nx && fcmp(mw->xs[i] - mu, mw->ys[j]) <= 0))
			v = mw->xs[i] - mu;
		else
			v = mw->ys[j];
		before = j;
		for (cx = 0; i < mw->nx && fcmp(mw->xs[i] - mu, v) == 0; i++)
			cx++;
		for (cy = 0; j < mw->ny && fcmp(mw->ys[j], v) == 0; j++)
			cy++;
		u2 += (uint64_t)cx * (2 * (uint64_t)before + cy);
		t = cx + cy;
		tt += t * t * t - t;
	}
	*twice_u = u2;
	*ties = tt;
}

int canary_mw_diff(const struct canary_mw *mw, double mu, double quantile, double *out)
{
	double xl = (double)mw->nx, yl = (double)mw->ny, dz, corr, sigma;
	uint64_t u2, ties;

	mw_merge(mw, mu, &u2, &ties);
	/* rankSum - nx(nx+1)/2 - nx*ny/2 == U - nx*ny/2, all exact half-integers */
	dz = (double)((int64_t)u2 - (int64_t)(mw->nx * mw->ny)) / 2.0;
	corr = (dz > 0 ? 1.0 : dz < 0 ? -1.0 : 0.0) * 0.5;
	sigma = sqrt((xl * yl / 12) *
		     ((xl + yl + 1) - (double)ties / ((xl + yl) * (xl + yl - 1))));
	if (sigma == 0)
		return -EDOM;	/* "cannot compute confidence interval when all observations are tied" */
	*out = (dz - corr) / sigma - quantile;
	return 0;
}

/* commons-math Precision.equals(f, 0.0), i.e. within one ulp of zero. */
static bool near_zero(double f)
{
	return fabs(f) <= 0x1p-1074;
}

/* BrentSolver.solve: the same variables and branches, so the same iterates. */
int canary_brent(double ax, double bx, double fa, double fb, canary_fn f, void *ctx,
	double *root)
{
	double a = ax, b = bx, c = a, fc = fa;
	double prev_step, tol_act, p, q, new_step, t1, cb, t2;
	int iteration = BRENT_MAX_ITERATIONS + 1, r;

	if (near_zero(fa)) {
		*root = a;
		return 0;
	}
	if (near_zero(fb)) {
		*root = b;
		return 0;
	}
	while (iteration-- > 0) {
		prev_step = b - a;
		if (fabs(fc) < fabs(fb)) {
			a = b;
			b = c;
			c = a;
			fa = fb;
			fb = fc;
			fc = fa;
		}
		tol_act = 2 * BRENT_EPSILON * fabs(b) + BRENT_TOLERANCE / 2;
		new_step = (c - b) / 2;
		if (fabs(new_step) <= tol_act || near_zero(fb))
			break;
		if (fabs(prev_step) >= tol_act && fabs(fa) > fabs(fb)) {
			cb = c - b;
			if (a == c) {		/* linear interpolation */
				t1 = fb / fa;
				p = cb * t1;
				q = 1.0 - t1;
			} else {		/* inverse quadratic interpolation */
				q = fa / fc;
				t1 = fb / fc;
				t2 = fb / fa;
				p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0));
				q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0);
			}
			if (p > 0.0)
				q = -q;
			else
				p = -p;
			if (p < (0.75 * cb * q - fabs(tol_act * q) / 2) && p < fabs(prev_step * q / 2))
				new_step = p / q;
		}
		if (fabs(new_step) < tol_act)
			new_step = new_step > 0 ? tol_act : -tol_act;
		a = b;
		fa = fb;
		b += new_step;
		if ((r = f(ctx, b, &fb)) < 0)
			return r;
		if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
			c = a;
			fc = fa;
		}
	}
	*root = b;	/* Kayenta returns the last iterate when it runs out of iterations */
	return 0;
}

struct mw_fn {
	const struct canary_mw *mw;
	double quantile;
};

static int mw_fn_eval(void *ctx, double mu, double *out)
{
	const struct mw_fn *fn = ctx;

	return canary_mw_diff(fn->mw, mu, fn->quantile, out);
}

/* calculateConfidenceInterval.findRoot: clamp to the range when the score has no sign change
 * (f(muMin) <= 0 or f(muMax) >= 0), else Brent. */
static int mw_find_root(const struct canary_mw *mw, double mu_min, double mu_max, double zq,
	double *root)
{
	struct mw_fn fn = { mw, zq };
	double flo, fup;
	int r;

	if ((r = canary_mw_diff(mw, mu_min, zq, &flo)) < 0 ||
	    (r = canary_mw_diff(mw, mu_max, zq, &fup)) < 0)
		return r;
	if (flo <= 0) {
		*root = mu_min;
		return 0;
	}
	if (fup >= 0) {
		*root = mu_max;
		return 0;
	}
	return canary_brent(mu_min, mu_max, flo, fup, mw_fn_eval, &fn, root);
}

int canary_mw_test(const double *x, size_t nx, const double *y, size_t ny, double confidence,
	struct canary_mw_result *out)
{
	struct canary_mw mw;
	struct mw_fn fn0;
	double mu_min, mu_max, zq, lo, hi, est, flo, fup;
	int r;

	if (!(confidence > 0.0 && confidence < 1.0))
		return -EINVAL;
	if ((r = canary_mw_init(&mw, x, nx, y, ny)) < 0)
		return r;
	fn0 = (struct mw_fn){ &mw, 0.0 };
	mu_min = mw.xmin - mw.ymax;
	mu_max = mw.xmax - mw.ymin;
	if (!isfinite(mu_min) || !isfinite(mu_max)) {
		r = -ERANGE;	/* the differences overflow binary64 */
		goto out;
	}
	zq = canary_qnorm((1.0 - confidence) / 2);
	if ((r = mw_find_root(&mw, mu_min, mu_max, -zq, &lo)) < 0 ||
	    (r = mw_find_root(&mw, mu_min, mu_max, zq, &hi)) < 0)
		goto out;
	/* the estimate calls Brent without the clamp, as Kayenta does */
	if ((r = canary_mw_diff(&mw, mu_min, 0, &flo)) < 0 ||
	    (r = canary_mw_diff(&mw, mu_max, 0, &fup)) < 0 ||
	    (r = canary_brent(mu_min, mu_max, flo, fup, mw_fn_eval, &fn0, &est)) < 0)
		goto out;
	out->ci_lower = lo;
	out->ci_upper = hi;
	out->estimate = est;
	r = 0;
out:
	canary_mw_fini(&mw);
	return r;
}

/* Monotone map between doubles (no NaN) and int64: key order == numeric order. */
static int64_t dkey(double d)
{
	int64_t k;

	if (d == 0)
		return 0;
	memcpy(&k, &d, sizeof k);
	return k < 0 ? INT64_MIN - k : k;
}

static double dval(int64_t k)
{
	double d;

	if (k < 0)
		k = INT64_MIN - k;
	memcpy(&d, &k, sizeof d);
	return d;
}

/* #{(i, j): xs[i] - ys[j] <= t}. x_i - y_j rounds monotonically in both, so the j bound only
 * moves right as i grows. */
static uint64_t count_le(const struct canary_mw *mw, double t)
{
	uint64_t n = 0;
	size_t i, j = 0;

	for (i = 0; i < mw->nx; i++) {
		while (j < mw->ny && mw->xs[i] - mw->ys[j] > t)
			j++;
		n += mw->ny - j;
	}
	return n;
}

int canary_mw_pairdiff_kth(const struct canary_mw *mw, uint64_t k, double *out)
{
	int64_t lo, hi, mid;

	if (k == 0 || k > (uint64_t)mw->nx * mw->ny)
		return -EINVAL;
	lo = dkey(mw->xs[0] - mw->ys[mw->ny - 1]);
	hi = dkey(mw->xs[mw->nx - 1] - mw->ys[0]);
	/* smallest key whose value has at least k differences at or below it (<= 64 steps) */
	while (lo < hi) {
		mid = lo + (int64_t)(((uint64_t)hi - (uint64_t)lo) / 2);
		if (count_le(mw, dval(mid)) >= k)
			hi = mid;
		else
			lo = mid + 1;
	}
	*out = dval(lo);
	return 0;
}
