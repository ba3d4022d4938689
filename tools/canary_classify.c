/* Kayenta's metric classifiers (MannWhitneyClassifier, MeanInequalityClassifier) and its
 * scoring (WeightedSumScorer, ThresholdScoreClassifier). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/canary.h"

static const char *const label_names[CANARY_LABEL_MAX] = {
	[CANARY_PASS] = "Pass",
	[CANARY_HIGH] = "High",
	[CANARY_LOW] = "Low",
	[CANARY_NODATA_FAIL_METRIC] = "NodataFailMetric",
	[CANARY_NODATA] = "Nodata",
	[CANARY_ERROR] = "Error",
};

const char *canary_label_name(enum canary_label l)
{
	return (unsigned)l < CANARY_LABEL_MAX ? label_names[l] : "?";
}

int canary_label_parse(const char *s, enum canary_label *out)
{
	int i;

	for (i = 0; i < CANARY_LABEL_MAX; i++) {
		if (strcmp(s, label_names[i]) == 0) {
			*out = (enum canary_label)i;
			return 0;
		}
	}
	return -EINVAL;
}

void canary_mwc_defaults(struct canary_mwc_params *p)
{
	*p = (struct canary_mwc_params){
		.tolerance = 0.25, .confidence = 0.95,
		.effect_low = 1.0, .effect_high = 1.0,
		.critical_low = 1.0, .critical_high = 1.0,
		.measure = CANARY_EFFECT_MEAN_RATIO,
	};
}

static void classification_init(struct canary_classification *out)
{
	memset(out, 0, sizeof *out);
	out->deviation = out->effect_size = NAN;
	out->estimate = out->ci_lower = out->ci_upper = NAN;
	out->lower_bound = out->upper_bound = NAN;
}

__attribute__((format(printf, 2, 3)))
static void set_reason(struct canary_classification *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
}

/* The empty-sample branch shared by both classifiers. */
static void classify_nodata(const char *name, enum canary_nan nan, bool critical,
	bool data_required, double nodata_deviation, bool with_reason,
	struct canary_classification *out)
{
	if (nan != CANARY_NAN_REMOVE) {
		out->label = CANARY_PASS;
		out->deviation = 1.0;
		return;
	}
	if (with_reason)
		set_reason(out, "Missing data for %s", name ? name : "");
	out->deviation = 1.0;
	if (data_required && !critical) {
		out->label = CANARY_NODATA_FAIL_METRIC;
		return;
	}
	out->label = CANARY_NODATA;
	out->deviation = nodata_deviation;
	out->critical = critical;
}

static int sorted_dup(const double *v, size_t n, double **out)
{
	double *c = malloc((n ? n : 1) * sizeof *c);

	if (!c)
		return -ENOMEM;
	if (n)
		memcpy(c, v, n * sizeof *c);
	canary_sort(c, n);
	*out = c;
	return 0;
}

/* MannWhitneyClassifier.MannWhitneyUTest + compare(): interval, estimate, bounds, effect size
 * and the High / Low / Pass decision. Both samples constant is where Kayenta adds unseeded
 * Gaussian noise (sd = value * 1e-5); corral takes the noise-free limit instead: the shift is
 * exactly a - b and the interval is the point [a - b, a - b]. */
static int mw_compare(const struct canary_mwc_params *p, const char *name,
	const double *control, size_t nc, const double *experiment, size_t ne,
	enum canary_direction dir, bool constant, struct canary_classification *out)
{
	struct canary_mw_result mw;
	double crit, es;
	bool high, low;
	int r;

	if (constant) {
		mw.estimate = experiment[0] - control[0];
		mw.ci_lower = mw.ci_upper = mw.estimate;
		if (!isfinite(mw.estimate))
			return -ERANGE;	/* as canary_mw_test() refuses an overflowing range */
	} else if ((r = canary_mw_test(experiment, ne, control, nc, p->confidence, &mw)) < 0) {
		return r;
	}
	out->tested = true;
	out->estimate = mw.estimate;
	out->ci_lower = mw.ci_lower;
	out->ci_upper = mw.ci_upper;
	crit = p->tolerance * fabs(mw.estimate);
	out->lower_bound = -1 * crit;
	out->upper_bound = crit;
	out->deviation = canary_mean_ratio(control, nc, experiment, ne);
	if (p->measure == CANARY_EFFECT_CLES) {
		if ((r = canary_cles(control, nc, experiment, ne, &es)) < 0)
			return r;
	} else {
		es = canary_mean_ratio(control, nc, experiment, ne);
	}
	out->effect_size = es;
	high = (dir == CANARY_DIR_INCREASE || dir == CANARY_DIR_EITHER) &&
	       mw.ci_lower > out->upper_bound && (isnan(es) || es >= p->effect_high);
	low = (dir == CANARY_DIR_DECREASE || dir == CANARY_DIR_EITHER) &&
	      mw.ci_upper < out->lower_bound && (isnan(es) || es <= p->effect_low);
	out->label = high ? CANARY_HIGH : low ? CANARY_LOW : CANARY_PASS;
	if (high || low)
		set_reason(out, "%s was classified as %s", name ? name : "",
			   canary_label_name(out->label));
	return 0;
}

/* The classify() short-circuits on sorted copies: identical multisets (numeric equality, as
 * Scala's sameElements on boxed doubles), then a single distinct value overall (bit equality,
 * as distinct on boxed doubles). Sets *constant when each sample is constant on its own. */
static int classify_shortcuts(const double *control, size_t nc, const double *experiment,
	size_t ne, bool *done, bool *constant, struct canary_classification *out)
{
	double *sc = NULL, *se = NULL;
	size_t i;
	int r;

	*done = *constant = false;
	if ((r = sorted_dup(control, nc, &sc)) < 0 || (r = sorted_dup(experiment, ne, &se)) < 0)
		goto out;
	for (i = 0; nc == ne && i < ne && se[i] == sc[i]; i++)
		;
	if (nc == ne && i == ne) {
		out->label = CANARY_PASS;
		out->deviation = 1.0;
		snprintf(out->reason, sizeof out->reason,
			 "The Canary and Baseline data are identical");
		*done = true;
	} else {
		*constant = canary_jcmp(sc[0], sc[nc - 1]) == 0 &&
			    canary_jcmp(se[0], se[ne - 1]) == 0;
		if (*constant && canary_jcmp(sc[0], se[0]) == 0) {
			out->label = CANARY_PASS;
			out->deviation = 1.0;
			*done = true;
		}
	}
	r = 0;
out:
	free(sc);
	free(se);
	return r;
}

int canary_classify_mw(const struct canary_mwc_params *p, const char *name,
	const double *control, size_t nc, const double *experiment, size_t ne,
	enum canary_direction dir, enum canary_nan nan, bool critical, bool data_required,
	struct canary_classification *out)
{
	struct canary_classification c;
	bool done, constant, crit_high, crit_low;
	int r;

	classification_init(&c);
	if (ne == 0 || nc == 0) {
		classify_nodata(name, nan, critical, data_required, 1.0, true, &c);
		goto done;
	}
	if ((r = classify_shortcuts(control, nc, experiment, ne, &done, &constant, &c)) < 0)
		return r;
	if (done)
		goto done;
	if ((r = mw_compare(p, name, control, nc, experiment, ne, dir, constant, &c)) < 0)
		return r;
	crit_high = critical && c.label == CANARY_HIGH &&
		    (isnan(c.effect_size) || c.effect_size >= p->critical_high);
	crit_low = critical && c.label == CANARY_LOW &&
		   (isnan(c.effect_size) || c.effect_size <= p->critical_low);
	if (crit_high || crit_low) {
		c.critical = true;
		snprintf(c.reason, sizeof c.reason, "The metric %s was classified as %s (Critical)",
			 name ? name : "", canary_label_name(c.label));
	}
done:
	*out = c;
	return 0;
}

int canary_classify_mean(const char *name, const double *control, size_t nc,
	const double *experiment, size_t ne, enum canary_direction dir, enum canary_nan nan,
	bool critical, bool data_required, struct canary_classification *out)
{
	struct canary_classification c;
	double em, cm;

	classification_init(&c);
	if (ne == 0 || nc == 0) {
		/* MeanInequalityClassifier gives no reason and a 0.0 deviation for Nodata */
		classify_nodata(name, nan, critical, data_required, 0.0, false, &c);
		goto done;
	}
	em = canary_mean(experiment, ne);
	cm = canary_mean(control, nc);
	c.deviation = 1.0;
	if ((dir == CANARY_DIR_INCREASE || dir == CANARY_DIR_EITHER) && em > cm) {
		c.label = CANARY_HIGH;
		snprintf(c.reason, sizeof c.reason, "The Canary mean was greater than the Baseline mean");
	} else if ((dir == CANARY_DIR_DECREASE || dir == CANARY_DIR_EITHER) && em < cm) {
		c.label = CANARY_LOW;
		snprintf(c.reason, sizeof c.reason, "The Canary mean was less than the Baseline mean");
	}
	if (c.label != CANARY_PASS) {
		c.deviation = em / cm;
		c.critical = critical;
	}
done:
	*out = c;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* WeightedSumScorer                                                                          */

static int group_find_add(struct canary_score *s, const char *name, struct canary_group_result **g)
{
	struct canary_group_result *ng;
	size_t i;

	for (i = 0; i < s->ngroups; i++) {
		if (strcmp(s->groups[i].name, name) == 0) {
			*g = &s->groups[i];
			return 0;
		}
	}
	if (s->ngroups >= LIM_CANARY_GROUPS_MAX)
		return ERR_TOOBIG;
	ng = realloc(s->groups, (s->ngroups + 1) * sizeof *ng);
	if (!ng)
		return -ENOMEM;
	s->groups = ng;
	ng = &s->groups[s->ngroups];
	memset(ng, 0, sizeof *ng);
	if (!(ng->name = strdup(name)))
		return -ENOMEM;
	s->ngroups++;
	*g = ng;
	return 0;
}

/* calculateGroupScore: Pass share of the metrics that count (Nodata and Error do not). */
static void group_finish(struct canary_group_result *g)
{
	size_t total = g->counts[CANARY_PASS] + g->counts[CANARY_HIGH] + g->counts[CANARY_LOW] +
		       g->counts[CANARY_NODATA_FAIL_METRIC];

	g->no_data = total == 0;
	g->score = g->no_data ? 0.0 : ((double)g->counts[CANARY_PASS] / (double)total) * 100;
}

static const struct canary_group_weight *weight_of(const struct canary_group_weight *w,
	size_t nw, const char *name)
{
	size_t i;

	for (i = 0; i < nw; i++)
		if (strcmp(w[i].name, name) == 0)
			return &w[i];
	return NULL;
}

/* calculateSummaryScore: configured weights, the rest of 100 shared by unweighted groups; a
 * group without data counts as 100. */
static double summary_score(struct canary_score *s, const struct canary_group_weight *w,
	size_t nw)
{
	const struct canary_group_weight *gw;
	double sum = 0.0, calculated = 0.0, summary = 0.0;
	size_t i, missing = 0;

	for (i = 0; i < nw; i++)
		sum += w[i].weight;
	for (i = 0; i < s->ngroups; i++)
		missing += weight_of(w, nw, s->groups[i].name) == NULL;
	if (missing)
		calculated = (100 - sum) / (double)missing;
	for (i = 0; i < s->ngroups; i++) {
		gw = weight_of(w, nw, s->groups[i].name);
		s->groups[i].weight = gw ? gw->weight : calculated;
		summary += (s->groups[i].no_data ? 100.0 : s->groups[i].score) *
			   (s->groups[i].weight / 100);
	}
	return canary_round2(summary);
}

int canary_score_weighted(const struct canary_score_item *items, size_t n,
	const struct canary_group_weight *w, size_t nw, struct canary_score *out)
{
	struct canary_score s = { 0 };
	struct canary_group_result *g;
	const struct canary_score_item *failure = NULL;
	size_t i, k, counted = 0, nodata = 0;
	int r;

	for (i = 0; i < n; i++) {
		if (items[i].muted)
			continue;
		counted++;
		nodata += items[i].label == CANARY_NODATA;
		if (!failure && items[i].critical && items[i].label != CANARY_PASS)
			failure = &items[i];
		for (k = 0; k < items[i].ngroups; k++) {
			if ((r = group_find_add(&s, items[i].groups[k], &g)) < 0)
				goto fail;
			g->counts[items[i].label]++;
			g->nmetrics++;
		}
	}
	for (i = 0; i < s.ngroups; i++)
		group_finish(&s.groups[i]);
	s.summary = summary_score(&s, w, nw);	/* also records each group's weight */
	if (failure) {
		s.summary = 0.0;
		snprintf(s.reason, sizeof s.reason, "Canary Failed: %s",
			 failure->reason ? failure->reason : "");
	} else if ((double)nodata / (double)counted * 100 >= 50) {	/* 0/0 is NaN: false */
		s.summary = 0.0;
		snprintf(s.reason, sizeof s.reason, "Canary Failed: 50%% or more metrics returned NODATA");
	}
	*out = s;
	return 0;
fail:
	canary_score_fini(&s);
	return r;
}

void canary_score_fini(struct canary_score *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ngroups; i++)
		free(s->groups[i].name);
	free(s->groups);
	memset(s, 0, sizeof *s);
}

enum canary_verdict canary_verdict_of(double score, double pass, double marginal)
{
	if (score >= pass)
		return CANARY_VERDICT_PASS;
	if (score >= marginal)
		return CANARY_VERDICT_MARGINAL;
	return CANARY_VERDICT_FAIL;
}
