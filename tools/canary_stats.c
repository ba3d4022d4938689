/* Statistics behind the canary judge, each reproducing the commons-math / Kayenta routine
 * named in its comment down to the order of floating-point operations, so that results match
 * bit for bit where the arithmetic allows it. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/canary.h"

/* Double.doubleToLongBits as a signed integer: every NaN canonical, -0.0 below +0.0. */
static int64_t jbits(double d)
{
	uint64_t u;

	if (isnan(d))
		return INT64_C(0x7ff8000000000000);
	memcpy(&u, &d, sizeof u);
	return (int64_t)u;
}

int canary_jcmp(double a, double b)
{
	int64_t x, y;

	if (a < b)
		return -1;
	if (a > b)
		return 1;
	x = jbits(a);
	y = jbits(b);
	/* Two negative bit patterns only meet here as -0.0 vs -0.0; positive ones order as
	 * signed integers: NaN > +Inf > ... > +0.0 > -0.0. */
	return x == y ? 0 : (x < y ? -1 : 1);
}

/* The key whose unsigned order is Double.compare's order: flip every bit of a negative value,
 * only the sign bit of a positive one (NaN canonicalised first, so it sorts last). */
static uint64_t jkey(double d)
{
	uint64_t u = (uint64_t)jbits(d);

	return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

static double jkey_value(uint64_t k)
{
	uint64_t u = (k >> 63) ? k & ~(UINT64_C(1) << 63) : ~k;
	double d;

	memcpy(&d, &u, sizeof d);
	return d;
}

/* LSD radix sort on the keys, 8 passes of a byte; falls back to insertion sort when short.
 * A NaN comes back as the canonical NaN, which no caller can tell apart. */
static void radix_sort(double *v, size_t n, uint64_t *a, uint64_t *b)
{
	size_t count[256], i, pos, sum;
	uint64_t *t;
	int pass;

	for (i = 0; i < n; i++)
		a[i] = jkey(v[i]);
	for (pass = 0; pass < 64; pass += 8) {
		memset(count, 0, sizeof count);
		for (i = 0; i < n; i++)
			count[(a[i] >> pass) & 0xff]++;
		if (count[(a[0] >> pass) & 0xff] == n)
			continue;	/* this byte is the same everywhere */
		for (i = 0, sum = 0; i < 256; i++) {
			pos = count[i];
			count[i] = sum;
			sum += pos;
		}
		for (i = 0; i < n; i++)
			b[count[(a[i] >> pass) & 0xff]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (i = 0; i < n; i++)
		v[i] = jkey_value(a[i]);
}

void canary_sort(double *v, size_t n)
{
	uint64_t *keys;
	size_t i, j;
	double x;

	keys = n > 32 ? malloc(2 * n * sizeof *keys) : NULL;
	if (keys) {
		radix_sort(v, n, keys, keys + n);
		free(keys);
		return;
	}
	/* short input, or no memory for the keys: insertion sort in place */
	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && canary_jcmp(v[j - 1], x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* commons-math Mean.evaluate: the definitional mean plus a second-pass correction. */
double canary_mean(const double *v, size_t n)
{
	double sum = 0.0, xbar, corr = 0.0;
	size_t i;

	if (n == 0)
		return NAN;
	for (i = 0; i < n; i++)
		sum += v[i];
	xbar = sum / (double)n;
	for (i = 0; i < n; i++)
		corr += v[i] - xbar;
	return xbar + corr / (double)n;
}

/* commons-math Variance.evaluate(values, mean): the corrected two-pass algorithm. */
static double variance_with(const double *v, size_t n, bool bias_corrected)
{
	double m, accum = 0.0, accum2 = 0.0, dev, len = (double)n;
	size_t i;

	if (n == 0)
		return NAN;
	if (n == 1)
		return 0.0;
	m = canary_mean(v, n);
	for (i = 0; i < n; i++) {
		dev = v[i] - m;
		accum += dev * dev;
		accum2 += dev;
	}
	if (bias_corrected)
		return (accum - (accum2 * accum2 / len)) / (len - 1.0);
	return (accum - (accum2 * accum2 / len)) / len;
}

double canary_variance(const double *v, size_t n)
{
	return variance_with(v, n, true);
}

/* DescriptiveStatistics.summary: zeros for an empty metric; StatUtils.min/max keep the later
 * of two equal values, exactly as commons-math's Min/Max do. */
void canary_summary(const double *v, size_t n, struct canary_stats *out)
{
	double mn, mx;
	size_t i;

	memset(out, 0, sizeof *out);
	out->count = n;
	if (n == 0)
		return;
	mn = mx = v[0];
	for (i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		mn = (mn < v[i]) ? mn : v[i];
		mx = (mx > v[i]) ? mx : v[i];
	}
	out->min = mn;
	out->max = mx;
	out->mean = canary_mean(v, n);
	out->std = sqrt(canary_variance(v, n));
}

/* Percentile with EstimationType.R_7: pos = 1 + (n - 1) * p/100, linear interpolation. */
double canary_percentile_sorted(const double *s, size_t n, double p)
{
	double q, pos, fpos, dif;
	size_t ipos;

	if (n == 0 || !(p > 0.0 && p <= 100.0))
		return NAN;
	if (n == 1)
		return s[0];
	q = p / 100.0;
	if (q == 1.0)
		pos = (double)n;
	else
		pos = 1.0 + (double)(n - 1) * q;
	fpos = floor(pos);
	ipos = (size_t)fpos;
	dif = pos - fpos;
	if (pos < 1.0)
		return s[0];
	if (pos >= (double)n)
		return s[n - 1];
	return s[ipos - 1] + dif * (s[ipos] - s[ipos - 1]);
}

static int sorted_copy(const double *v, size_t n, double **out)
{
	double *c;

	if (n > LIM_CANARY_SAMPLES_MAX)
		return ERR_TOOBIG;
	c = malloc((n ? n : 1) * sizeof *c);
	if (!c)
		return -ENOMEM;
	if (n)
		memcpy(c, v, n * sizeof *c);
	canary_sort(c, n);
	*out = c;
	return 0;
}

int canary_percentile(const double *v, size_t n, double p, double *out)
{
	double *s;
	int r;

	if ((r = sorted_copy(v, n, &s)) < 0)
		return r;
	*out = canary_percentile_sorted(s, n, p);
	free(s);
	return 0;
}

/* EffectSizes.meanRatio: NaN when either mean is 0 (or undefined). */
double canary_mean_ratio(const double *control, size_t nc, const double *experiment, size_t ne)
{
	double cm = canary_mean(control, nc), em = canary_mean(experiment, ne);

	if (cm == 0.0 || em == 0.0)
		return NAN;
	return em / cm;
}

/* EffectSizes.cohenD over the two summaries (pooled sample standard deviation). */
double canary_cohen_d(const double *control, size_t nc, const double *experiment, size_t ne)
{
	struct canary_stats c, e;
	double pooled;

	canary_summary(control, nc, &c);
	canary_summary(experiment, ne, &e);
	pooled = sqrt(((double)((long long)e.count - 1) * (e.std * e.std) +
		       (double)((long long)c.count - 1) * (c.std * c.std)) /
		      (double)((long long)c.count + (long long)e.count - 2));
	return fabs(e.mean - c.mean) / pooled;
}

/* Twice the Mann-Whitney U of a over b: 2 * (#{b < a} + #{b == a}/2) over all pairs, with
 * Java's ordering, from two sorted arrays in one merge. Exact in 64 bits under the caps. */
static uint64_t twice_u(const double *a, size_t na, const double *b, size_t nb)
{
	uint64_t u2 = 0;
	size_t i = 0, j = 0, ca, cb, before;
	double v;

	while (i < na) {
		v = a[i];
		while (j < nb && canary_jcmp(b[j], v) < 0)
			j++;
		before = j;
		for (cb = 0; j + cb < nb && canary_jcmp(b[j + cb], v) == 0; cb++)
			;
		for (ca = 0; i < na && canary_jcmp(a[i], v) == 0; i++)
			ca++;
		u2 += (uint64_t)ca * (2 * (uint64_t)before + cb);
	}
	return u2;
}

/* EffectSizes.cles: (2 R1 - m(m+1)) / (2nm) with R1 the experiment's rank sum, i.e. U / (nm).
 * Kayenta's Int product 2*n*m would overflow past 32768 x 32768; corral's does not. */
int canary_cles(const double *control, size_t nc, const double *experiment, size_t ne,
	double *out)
{
	double *c = NULL, *e = NULL;
	int r;

	if ((r = sorted_copy(control, nc, &c)) < 0 || (r = sorted_copy(experiment, ne, &e)) < 0)
		goto out;
	if (nc == 0 || ne == 0)
		*out = NAN;
	else
		*out = (double)twice_u(e, ne, c, nc) / (double)(2 * (uint64_t)nc * ne);
	r = 0;
out:
	free(c);
	free(e);
	return r;
}

/* java.lang.Math.min/max: NaN wins, -0.0 < +0.0. */
static double jmin(double a, double b)
{
	if (isnan(a) || isnan(b))
		return NAN;
	return canary_jcmp(a, b) <= 0 ? a : b;
}

static double jmax(double a, double b)
{
	if (isnan(a) || isnan(b))
		return NAN;
	return canary_jcmp(a, b) >= 0 ? a : b;
}

/* IQRDetector: fences p25 - f*IQR and p75 + f*IQR; reduceSensitivity widens them to the 1st
 * and 99th percentiles. An empty input has NaN fences and therefore no outlier. */
int canary_iqr_detect(const double *v, size_t n, double factor, bool reduce, bool *outlier)
{
	double *s, p25, p75, iqr, lo, hi;
	size_t i;
	int r;

	if (!(factor > 0.0))
		return -EINVAL;
	if ((r = sorted_copy(v, n, &s)) < 0)
		return r;
	p75 = canary_percentile_sorted(s, n, 75);
	p25 = canary_percentile_sorted(s, n, 25);
	iqr = p75 - p25;
	lo = p25 - (factor * iqr);
	hi = p75 + (factor * iqr);
	if (reduce) {
		lo = jmin(canary_percentile_sorted(s, n, 1), lo);
		hi = jmax(canary_percentile_sorted(s, n, 99), hi);
	}
	free(s);
	for (i = 0; i < n; i++)
		outlier[i] = v[i] > hi || v[i] < lo;
	return 0;
}

/* KSigmaDetector: |x - mean| > k * population standard deviation. */
int canary_ksigma_detect(const double *v, size_t n, double k, bool *outlier)
{
	double mean, sd;
	size_t i;

	if (!(k > 0.0))
		return -EINVAL;
	mean = canary_mean(v, n);
	sd = sqrt(variance_with(v, n, false));
	for (i = 0; i < n; i++)
		outlier[i] = fabs(v[i] - mean) > (sd * k);
	return 0;
}

size_t canary_nan_remove(double *v, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[j++] = v[i];
	return j;
}

void canary_nan_replace(double *v, size_t n, double value)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (isnan(v[i]))
			v[i] = value;
}

/* java.util.Random: the 48-bit LCG, nextDouble and the polar nextGaussian, so that a seed
 * gives the JVM's sequence. */
struct jrandom {
	uint64_t seed;
	double next_gaussian;
	bool have_next;
};

#define JR_MULT		UINT64_C(0x5DEECE66D)
#define JR_MASK		((UINT64_C(1) << 48) - 1)

static int32_t jr_next(struct jrandom *jr, int bits)
{
	jr->seed = (jr->seed * JR_MULT + 0xB) & JR_MASK;
	return (int32_t)(uint32_t)(jr->seed >> (48 - bits));
}

static double jr_double(struct jrandom *jr)
{
	int64_t hi = jr_next(jr, 26), lo = jr_next(jr, 27);

	return (double)((hi << 27) + lo) * 0x1.0p-53;
}

static double jr_gaussian(struct jrandom *jr)
{
	double v1, v2, s, mul;

	if (jr->have_next) {
		jr->have_next = false;
		return jr->next_gaussian;
	}
	do {
		v1 = 2 * jr_double(jr) - 1;
		v2 = 2 * jr_double(jr) - 1;
		s = v1 * v1 + v2 * v2;
	} while (s >= 1 || s == 0);
	mul = sqrt(-2 * log(s) / s);
	jr->next_gaussian = v2 * mul;
	jr->have_next = true;
	return v1 * mul;
}

void canary_gaussian_noise(double *v, size_t n, double mean, double sd, int32_t seed)
{
	struct jrandom jr = { .seed = ((uint64_t)(int64_t)seed ^ JR_MULT) & JR_MASK };
	size_t i;

	/* RandomUtils.normal draws all the noise first, then the arrays are zipped. */
	for (i = 0; i < n; i++)
		v[i] = v[i] + (jr_gaussian(&jr) * sd + mean);
}

/* Shortest decimal that reads back as x, in "%.*e" form. */
static void shortest_e(double x, char *buf, size_t len)
{
	int prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*e", prec - 1, x);
		if (strtod(buf, NULL) == x)
			return;
	}
}

/* Precision.round(x, 2) = new BigDecimal(Double.toString(x)).setScale(2, HALF_UP): decimal
 * rounding of the shortest decimal form, never of the binary value. */
double canary_round2(double x)
{
	char buf[40], digits[24], kept[28], out[40];
	size_t nd = 0, i;
	int exp10, keep;
	char *p;
	double r;

	if (!isfinite(x))
		return x;
	shortest_e(fabs(x), buf, sizeof buf);
	for (p = buf; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	exp10 = atoi(p + 1);
	keep = exp10 + 1 + 2;	/* significant digits down to the second decimal place */
	if (keep >= (int)nd)
		return x;
	if (keep < 0)
		return 0.0 * x;
	/* kept = "0" + the kept digits, the leading 0 absorbing a carry out of all nines */
	kept[0] = '0';
	memcpy(kept + 1, digits, (size_t)keep);
	kept[keep + 1] = '\0';
	if (digits[keep] >= '5') {
		for (i = (size_t)keep; kept[i] == '9'; i--)
			kept[i] = '0';
		kept[i]++;
	}
	snprintf(out, sizeof out, "%se-2", kept);
	r = strtod(out, NULL);
	if (r == 0.0)
		return 0.0 * x;		/* MATH-1089: keep the sign of zero */
	return x < 0 ? -r : r;
}

/* Standard normal quantile: a textbook start (Abramowitz & Stegun 26.2.23), then Halley steps
 * on erfc in long double until the correction vanishes. Deterministic, no table to copy. */
double canary_qnorm(double p)
{
	long double q, t, z, cdf, pdf, dz;
	int k;

	if (isnan(p) || p < 0.0 || p > 1.0)
		return NAN;
	if (p == 0.0)
		return -INFINITY;
	if (p == 1.0)
		return INFINITY;
	if (p == 0.5)
		return 0.0;
	q = p < 0.5 ? (long double)p : 1.0L - (long double)p;	/* exact */
	t = sqrtl(-2.0L * logl(q));
	z = -(t - (2.515517L + 0.802853L * t + 0.010328L * t * t) /
		     (1.0L + 1.432788L * t + 0.189269L * t * t + 0.001308L * t * t * t));
	for (k = 0; k < 50; k++) {
		cdf = 0.5L * erfcl(-z / sqrtl(2.0L));
		pdf = expl(-z * z / 2.0L) / sqrtl(2.0L * 3.14159265358979323846264338327950288L);
		dz = (cdf - q) / pdf;
		dz = dz / (1.0L + z * dz / 2.0L);
		z -= dz;
		if (fabsl(dz) <= 1e-20L * fabsl(z))
			break;
	}
	return (double)(p < 0.5 ? z : -z);
}
