/* Benchmark: the canary judge on one metric of 2 x 10,000 samples (the size of a 10,000-point
 * Prometheus range query per side), against a baseline measured in the same run: qsort of the
 * same 20,000 samples. Prints both medians and their ratio, so the number travels between
 * machines. Run with `meson test --benchmark --suite canary` (or the binary itself). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/canary.h"

#define N		10000
#define ROUNDS		15

static uint64_t rng = 0x243f6a8885a308d3u;

static double urand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * UINT64_C(2685821657736338717)) >> 11) * 0x1.0p-53;
}

/* Latency-like samples: log-normal, rounded to 0.1 ms so that ties occur as they do in real
 * series. */
static void fill(double *v, size_t n, double median)
{
	size_t i;
	double u, w;

	for (i = 0; i < n; i++) {
		u = urand();
		w = urand();
		v[i] = round(median * exp(0.3 * sqrt(-2 * log(u > 0 ? u : 1e-300)) *
					 cos(6.283185307179586 * w)) * 10) / 10;
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_ms(const void *a, const void *b)
{
	return dcmp(a, b);
}

static double median(double *t, size_t n)
{
	qsort(t, n, sizeof *t, cmp_ms);
	return t[n / 2];
}

/* One judge run; returns its time and checks the verdict so the work is not optimised away. */
static double run_judge(const double *c, const double *e, bool plus, enum canary_label *label)
{
	struct canary_metric_in m;
	struct canary_input in;
	struct canary_result res;
	double t0, t1;

	canary_input_init(&in);
	canary_metric_init(&m);
	m.name = "latency";
	m.control = c;
	m.ncontrol = N;
	m.experiment = e;
	m.nexperiment = N;
	in.metrics = &m;
	in.nmetrics = 1;
	in.plus = plus;
	t0 = now_ms();
	if (canary_judge(&in, &res) < 0) {
		fprintf(stderr, "bench_canary: judge failed\n");
		exit(1);
	}
	t1 = now_ms();
	*label = res.metrics[0].label;
	canary_result_free(&res);
	return t1 - t0;
}

int main(void)
{
	static double c[N], e[N], same[N], pooled[2 * N];
	double tj[ROUNDS], tp[ROUNDS], ts[ROUNDS], t0, mj, mp, ms;
	enum canary_label label, label_plus;
	int i;

	fill(c, N, 120.0);
	fill(e, N, 126.0);	/* a 5% regression */
	fill(same, N, 120.0);	/* a healthy canary: plus mode runs its extra checks on it */
	for (i = 0; i < ROUNDS; i++) {
		memcpy(pooled, c, sizeof c);
		memcpy(pooled + N, e, sizeof e);
		t0 = now_ms();
		qsort(pooled, 2 * N, sizeof *pooled, dcmp);
		ts[i] = now_ms() - t0;
		tj[i] = run_judge(c, e, false, &label);
		tp[i] = run_judge(c, same, true, &label_plus);
	}
	ms = median(ts, ROUNDS);
	mj = median(tj, ROUNDS);
	mp = median(tp, ROUNDS);
	printf("canary judge, 2 x %d samples: %.3f ms (median of %d), classification %s\n", N, mj,
	       ROUNDS, canary_label_name(label));
	printf("canary judge plus (healthy canary), 2 x %d samples: %.3f ms, classification %s\n", N, mp,
	       canary_label_name(label_plus));
	printf("baseline qsort of the same %d samples: %.3f ms\n", 2 * N, ms);
	printf("ratio judge/qsort: %.1f   plus/qsort: %.1f\n", mj / ms, mp / ms);
	return label == CANARY_HIGH && label_plus == CANARY_PASS ? 0 : 1;
}
