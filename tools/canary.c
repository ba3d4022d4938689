/* The judge: NetflixACAJudge.classifyMetric for every metric, then ScoringHelper.score; plus
 * the opt-in `plus` checks. Pure: no I/O, no clock, no randomness. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/canary.h"

const char *canary_direction_name(enum canary_direction d)
{
	switch (d) {
	case CANARY_DIR_INCREASE: return "increase";
	case CANARY_DIR_DECREASE: return "decrease";
	default: return "either";
	}
}

const char *canary_effect_name(enum canary_effect e)
{
	return e == CANARY_EFFECT_CLES ? "cles" : "meanRatio";
}

const char *canary_verdict_name(enum canary_verdict v)
{
	switch (v) {
	case CANARY_VERDICT_PASS: return "pass";
	case CANARY_VERDICT_MARGINAL: return "marginal";
	default: return "fail";
	}
}

void canary_input_init(struct canary_input *in)
{
	memset(in, 0, sizeof *in);
	in->confidence = CANARY_DEF_CONFIDENCE;
	in->tolerance = CANARY_DEF_TOLERANCE;
	in->pass_threshold = CANARY_DEF_PASS;
	in->marginal_threshold = CANARY_DEF_MARGINAL;
}

void canary_metric_init(struct canary_metric_in *m)
{
	memset(m, 0, sizeof *m);
	m->direction = CANARY_DIR_EITHER;
	m->nan_strategy = CANARY_NAN_REMOVE;
	m->outliers = CANARY_OUTLIERS_KEEP;
	m->outlier_factor = CANARY_DEF_OUTLIER_FACTOR;
	m->effect_measure = CANARY_EFFECT_MEAN_RATIO;
	m->allowed_increase = m->allowed_decrease = NAN;
	m->critical_increase = m->critical_decrease = NAN;
}

/* ---------------------------------------------------------------------------------------- */
/* Validation                                                                                 */

static bool series_ok(const double *v, size_t n)
{
	size_t i;

	if (n && !v)
		return false;
	for (i = 0; i < n; i++)
		if (isinf(v[i]))
			return false;
	return true;
}

static bool threshold_ok(double t)
{
	return isnan(t) || isfinite(t);
}

static int metric_check(const struct canary_metric_in *m)
{
	size_t k;

	if (!m->name || (m->ngroups && !m->groups))
		return -EINVAL;
	if (m->ncontrol > LIM_CANARY_SAMPLES_MAX || m->nexperiment > LIM_CANARY_SAMPLES_MAX ||
	    m->ngroups > LIM_CANARY_GROUPS_MAX)
		return ERR_TOOBIG;
	for (k = 0; k < m->ngroups; k++)
		if (!m->groups[k])
			return -EINVAL;
	if (!series_ok(m->control, m->ncontrol) || !series_ok(m->experiment, m->nexperiment))
		return -EINVAL;
	if (m->outliers == CANARY_OUTLIERS_REMOVE && !(m->outlier_factor > 0.0 &&
						      isfinite(m->outlier_factor)))
		return -EINVAL;
	if (!threshold_ok(m->allowed_increase) || !threshold_ok(m->allowed_decrease) ||
	    !threshold_ok(m->critical_increase) || !threshold_ok(m->critical_decrease))
		return -EINVAL;
	return 0;
}

static int input_check(const struct canary_input *in)
{
	double sum = 0.0;
	size_t i, k;
	int r;

	if (!(in->confidence > 0.0 && in->confidence < 1.0) ||
	    !(in->tolerance >= 0.0 && isfinite(in->tolerance)) ||
	    !(in->marginal_threshold >= 0.0 && in->marginal_threshold <= in->pass_threshold &&
	      in->pass_threshold <= 100.0))
		return -EINVAL;
	if (in->nmetrics > LIM_CANARY_METRICS_MAX || in->nweights > LIM_CANARY_GROUPS_MAX)
		return ERR_TOOBIG;
	if ((in->nmetrics && !in->metrics) || (in->nweights && !in->weights))
		return -EINVAL;
	for (i = 0; i < in->nweights; i++) {
		if (!in->weights[i].name || !(in->weights[i].weight >= 0.0 &&
					      in->weights[i].weight <= 100.0))
			return -EINVAL;
		for (k = 0; k < i; k++)
			if (strcmp(in->weights[k].name, in->weights[i].name) == 0)
				return -EINVAL;
		sum += in->weights[i].weight;
	}
	if (sum > 100.0 + 1e-9)
		return -EINVAL;
	for (i = 0; i < in->nmetrics; i++)
		if ((r = metric_check(&in->metrics[i])) < 0)
			return r;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Transforms (NetflixACAJudge.transformMetric)                                               */

static int series_transform(const struct canary_metric_in *m, const double *src, size_t n,
	double **out, size_t *nout)
{
	double *v;
	bool *outlier = NULL;
	size_t i, j;
	int r;

	v = malloc((n ? n : 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	if (n)
		memcpy(v, src, n * sizeof *v);
	if (m->nan_strategy == CANARY_NAN_REMOVE)
		n = canary_nan_remove(v, n);
	else
		canary_nan_replace(v, n, 0.0);
	if (m->outliers == CANARY_OUTLIERS_REMOVE && n > 0) {
		if (!(outlier = malloc(n * sizeof *outlier))) {
			r = -ENOMEM;
			goto fail;
		}
		/* production uses IQRDetector(outlierFactor, reduceSensitivity = true) */
		if ((r = canary_iqr_detect(v, n, m->outlier_factor, true, outlier)) < 0)
			goto fail;
		for (i = j = 0; i < n; i++)
			if (!outlier[i])
				v[j++] = v[i];
		n = j;
		free(outlier);
	}
	*out = v;
	*nout = n;
	return 0;
fail:
	free(outlier);
	free(v);
	return r;
}

/* ---------------------------------------------------------------------------------------- */
/* plus: the checks Kayenta misses. Each may only turn a Pass into a High.                    */

/* |v - median(v)| into d. */
static int abs_dev(const double *v, size_t n, double *d)
{
	double med;
	size_t i;
	int r;

	if ((r = canary_percentile(v, n, 50, &med)) < 0)
		return r;
	for (i = 0; i < n; i++)
		d[i] = fabs(v[i] - med);
	return 0;
}

/* A rise in spread: Kayenta's own rule (Mann-Whitney interval above +/- tolerance*|estimate|)
 * applied to the absolute deviations from each sample's median (a rank-based Brown-Forsythe),
 * guarded by a mean-absolute-deviation ratio of at least CANARY_PLUS_SPREAD_FACTOR. */
static int plus_variance(const struct canary_input *in, const double *c, size_t nc,
	const double *e, size_t ne, double *ratio, bool *fired)
{
	struct canary_mw_result mw;
	double *dc, *de, sc, se;
	int r;

	*fired = false;
	dc = malloc(nc * sizeof *dc);
	de = malloc(ne * sizeof *de);
	if (!dc || !de) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = abs_dev(c, nc, dc)) < 0 || (r = abs_dev(e, ne, de)) < 0)
		goto out;
	sc = canary_mean(dc, nc);
	se = canary_mean(de, ne);
	*ratio = sc > 0 ? se / sc : (se > 0 ? INFINITY : 1.0);
	if (!(*ratio >= CANARY_PLUS_SPREAD_FACTOR))
		goto out;
	r = canary_mw_test(de, ne, dc, nc, in->confidence, &mw);
	if (r == -ENOMEM)
		goto out;
	*fired = r == 0 && mw.ci_lower > in->tolerance * fabs(mw.estimate);
	r = 0;
out:
	free(dc);
	free(de);
	return r;
}

/* One-sided Fisher exact test: P(X >= k) for X ~ Hypergeometric(N, K successes, n draws). */
static double fisher_upper(size_t N, size_t K, size_t n, size_t k)
{
	double lp, p, sum = 0.0;
	size_t x, top = K < n ? K : n;
	int sg;

	if (k > top)
		return 0.0;
	lp = lgamma_r((double)K + 1, &sg) - lgamma_r((double)k + 1, &sg) -
	     lgamma_r((double)(K - k) + 1, &sg) + lgamma_r((double)(N - K) + 1, &sg) -
	     lgamma_r((double)(n - k) + 1, &sg) - lgamma_r((double)(N - K - n + k) + 1, &sg) -
	     (lgamma_r((double)N + 1, &sg) - lgamma_r((double)n + 1, &sg) -
	      lgamma_r((double)(N - n) + 1, &sg));
	p = exp(lp);
	for (x = k; x <= top; x++) {
		sum += p;
		/* pmf(x+1)/pmf(x) = (K-x)(n-x) / ((x+1)(N-K-n+x+1)) */
		p *= (double)(K - x) * (double)(n - x) / ((double)(x + 1) * (double)(N - K - n + x + 1));
	}
	return sum < 1.0 ? sum : 1.0;
}

static size_t count_nonzero(const double *v, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += v[i] != 0.0;
	return k;
}

/* Sparse error counts: when most pooled samples are exactly zero the rank test sees ties and
 * passes; compare how many samples are non-zero instead (one-sided Fisher exact test). */
static bool plus_sparse(const struct canary_input *in, const double *c, size_t nc,
	const double *e, size_t ne, double *pvalue)
{
	size_t kc = count_nonzero(c, nc), ke = count_nonzero(e, ne);
	size_t zeros = (nc - kc) + (ne - ke);

	*pvalue = 1.0;
	if ((double)zeros < CANARY_PLUS_SPARSE_ZEROS * (double)(nc + ne))
		return false;
	if ((double)ke * (double)nc <= (double)kc * (double)ne)
		return false;
	*pvalue = fisher_upper(nc + ne, kc + ke, ne, ke);
	return *pvalue < 1.0 - in->confidence;
}

static int plus_checks(const struct canary_input *in, const struct canary_metric_in *m,
	const double *c, size_t nc, const double *e, size_t ne, struct canary_metric_result *res)
{
	double ratio = 1.0, pvalue;
	bool fired;
	int r;

	if (res->label != CANARY_PASS || m->direction == CANARY_DIR_DECREASE || !nc || !ne)
		return 0;
	if ((r = plus_variance(in, c, nc, e, ne, &ratio, &fired)) < 0)
		return r;
	if (fired) {
		res->plus_flags |= CANARY_PLUS_VARIANCE;
		snprintf(res->reason, sizeof res->reason,
			 "plus: the spread of %s rose %.3gx over the Baseline's", m->name, ratio);
	} else if (plus_sparse(in, c, nc, e, ne, &pvalue)) {
		res->plus_flags |= CANARY_PLUS_SPARSE;
		snprintf(res->reason, sizeof res->reason,
			 "plus: %s is non-zero in %zu of %zu Canary samples vs %zu of %zu Baseline "
			 "samples (Fisher exact p=%.3g)", m->name, count_nonzero(e, ne), ne,
			 count_nonzero(c, nc), nc, pvalue);
	}
	if (res->plus_flags) {
		res->label = CANARY_HIGH;
		res->critical = m->critical;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* One metric (NetflixACAJudge.classifyMetric)                                                */

static double or_default(double v, double def)
{
	return isnan(v) ? def : v;
}

static void mwc_params_of(const struct canary_input *in, const struct canary_metric_in *m,
	struct canary_mwc_params *p)
{
	double def = m->effect_measure == CANARY_EFFECT_CLES ? 0.5 : 1.0;

	*p = (struct canary_mwc_params){
		.tolerance = in->tolerance,
		.confidence = in->confidence,
		.effect_low = or_default(m->allowed_decrease, def),
		.effect_high = or_default(m->allowed_increase, def),
		.critical_low = or_default(m->critical_decrease, def),
		.critical_high = or_default(m->critical_increase, def),
		.measure = m->effect_measure,
	};
}

static void result_from(struct canary_metric_result *res, const struct canary_classification *c)
{
	res->label = c->label;
	res->critical = c->critical;
	res->tested = c->tested;
	memcpy(res->reason, c->reason, sizeof res->reason);
	res->estimate = c->estimate;
	res->ci_lower = c->ci_lower;
	res->ci_upper = c->ci_upper;
	res->lower_bound = c->lower_bound;
	res->upper_bound = c->upper_bound;
	res->ratio = c->deviation;
	res->effect_size = c->effect_size;
}

static int result_names(const struct canary_metric_in *m, struct canary_metric_result *res)
{
	size_t k;

	if (!(res->name = strdup(m->name)))
		return -ENOMEM;
	if (!m->ngroups)
		return 0;
	if (!(res->groups = calloc(m->ngroups, sizeof *res->groups)))
		return -ENOMEM;
	for (k = 0; k < m->ngroups; k++) {
		if (!(res->groups[k] = strdup(m->groups[k])))
			return -ENOMEM;
		res->ngroups++;
	}
	return 0;
}

static int judge_metric(const struct canary_input *in, const struct canary_metric_in *m,
	struct canary_metric_result *res)
{
	struct canary_mwc_params p;
	struct canary_classification c;
	double *cv = NULL, *ev = NULL;
	size_t nc, ne;
	int r;

	if ((r = result_names(m, res)) < 0)
		return r;
	res->muted = m->muted;
	res->effect_measure = m->effect_measure;
	if ((r = series_transform(m, m->control, m->ncontrol, &cv, &nc)) < 0 ||
	    (r = series_transform(m, m->experiment, m->nexperiment, &ev, &ne)) < 0)
		goto out;
	canary_summary(cv, nc, &res->control);
	canary_summary(ev, ne, &res->experiment);
	mwc_params_of(in, m, &p);
	r = canary_classify_mw(&p, m->name, cv, nc, ev, ne, m->direction, m->nan_strategy,
			       m->critical, m->must_have_data, &c);
	if (r == -ENOMEM)
		goto out;
	if (r < 0) {
		/* Kayenta catches the classifier's RuntimeException: Error, not critical */
		memset(&c, 0, sizeof c);
		c.label = CANARY_ERROR;
		c.deviation = c.effect_size = c.estimate = NAN;
		c.ci_lower = c.ci_upper = c.lower_bound = c.upper_bound = NAN;
		snprintf(c.reason, sizeof c.reason, "Metric Classification Failed");
	}
	result_from(res, &c);
	r = in->plus ? plus_checks(in, m, cv, nc, ev, ne, res) : 0;
out:
	free(cv);
	free(ev);
	return r;
}

/* ---------------------------------------------------------------------------------------- */

static int judge_score(const struct canary_input *in, struct canary_result *res)
{
	struct canary_score_item *items;
	struct canary_score s;
	size_t i;
	int r;

	items = calloc(in->nmetrics ? in->nmetrics : 1, sizeof *items);
	if (!items)
		return -ENOMEM;
	for (i = 0; i < in->nmetrics; i++) {
		items[i] = (struct canary_score_item){
			.label = res->metrics[i].label,
			.groups = (const char *const *)res->metrics[i].groups,
			.ngroups = res->metrics[i].ngroups,
			.critical = res->metrics[i].critical,
			.muted = res->metrics[i].muted,
			.reason = res->metrics[i].reason,
		};
	}
	r = canary_score_weighted(items, in->nmetrics, in->weights, in->nweights, &s);
	free(items);
	if (r < 0)
		return r;
	res->score = s.summary;
	res->groups = s.groups;
	res->ngroups = s.ngroups;
	memcpy(res->reason, s.reason, sizeof res->reason);
	res->verdict = canary_verdict_of(s.summary, in->pass_threshold, in->marginal_threshold);
	return 0;
}

int canary_judge(const struct canary_input *in, struct canary_result *out)
{
	struct canary_result res = { 0 };
	size_t i;
	int r;

	if ((r = input_check(in)) < 0)
		return r;
	res.pass_threshold = in->pass_threshold;
	res.marginal_threshold = in->marginal_threshold;
	res.plus = in->plus;
	res.metrics = calloc(in->nmetrics ? in->nmetrics : 1, sizeof *res.metrics);
	if (!res.metrics)
		return -ENOMEM;
	for (i = 0; i < in->nmetrics; i++) {
		res.nmetrics++;
		if ((r = judge_metric(in, &in->metrics[i], &res.metrics[i])) < 0)
			goto fail;
	}
	if ((r = judge_score(in, &res)) < 0)
		goto fail;
	*out = res;
	return 0;
fail:
	canary_result_free(&res);
	return r;
}

void canary_result_free(struct canary_result *r)
{
	size_t i, k;

	if (!r)
		return;
	for (i = 0; i < r->nmetrics; i++) {
		free(r->metrics[i].name);
		for (k = 0; k < r->metrics[i].ngroups; k++)
			free(r->metrics[i].groups[k]);
		free(r->metrics[i].groups);
	}
	free(r->metrics);
	for (i = 0; i < r->ngroups; i++)
		free(r->groups[i].name);
	free(r->groups);
	memset(r, 0, sizeof *r);
}
