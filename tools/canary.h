/* The deterministic canary judge: Kayenta's NetflixACAJudge (spinnaker/kayenta @ a69573be)
 * reproduced in pure C, with no I/O and no randomness.
 *
 * canary_judge() takes control and experiment samples per metric and returns a verdict
 * (pass / marginal / fail), the summary score, per group scores and per metric classifications.
 * The pipeline per metric is Kayenta's: NaN strategy -> optional IQR outlier removal ->
 * MannWhitneyClassifier (Mann-Whitney confidence interval and Hodges-Lehmann style estimate,
 * bounds of +/-tolerance*|estimate|, effect size guard, critical rules) -> WeightedSumScorer ->
 * ThresholdScoreClassifier. The building blocks are public so that the conformance vectors can
 * exercise each of them; docs/CANARY.md explains the method and where corral differs.
 *
 * Every function is pure: same input, same output, bit for bit. Functions that allocate return
 * -ENOMEM on failure; inputs over the caps in ipc/limits.h give ERR_TOOBIG.
 */
#ifndef CORRAL_TOOLS_CANARY_H
#define CORRAL_TOOLS_CANARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kayenta's metric classification labels, in its order. */
enum canary_label {
	CANARY_PASS,
	CANARY_HIGH,
	CANARY_LOW,
	CANARY_NODATA_FAIL_METRIC,
	CANARY_NODATA,
	CANARY_ERROR,
	CANARY_LABEL_MAX
};
const char *canary_label_name(enum canary_label l);	/* "Pass", "High", ... (Kayenta spelling) */
int canary_label_parse(const char *s, enum canary_label *out);	/* 0 or -EINVAL */

enum canary_direction { CANARY_DIR_EITHER, CANARY_DIR_INCREASE, CANARY_DIR_DECREASE };
enum canary_nan { CANARY_NAN_REMOVE, CANARY_NAN_REPLACE };
enum canary_outliers { CANARY_OUTLIERS_KEEP, CANARY_OUTLIERS_REMOVE };
enum canary_effect { CANARY_EFFECT_MEAN_RATIO, CANARY_EFFECT_CLES };
enum canary_verdict { CANARY_VERDICT_PASS, CANARY_VERDICT_MARGINAL, CANARY_VERDICT_FAIL };
const char *canary_direction_name(enum canary_direction d);	/* "increase", ... */
const char *canary_effect_name(enum canary_effect e);		/* "meanRatio", "cles" */
const char *canary_verdict_name(enum canary_verdict v);		/* "pass", "marginal", "fail" */

/* Production defaults of NetflixACAJudge (see docs/CANARY.md for the source of each). */
#define CANARY_DEF_CONFIDENCE		0.98
#define CANARY_DEF_TOLERANCE		0.25
#define CANARY_DEF_OUTLIER_FACTOR	3.0
#define CANARY_DEF_PASS			95.0	/* Kayenta takes these from the request */
#define CANARY_DEF_MARGINAL		75.0

/* plus mode (opt-in, corral only): the checks Kayenta is known to miss. */
#define CANARY_PLUS_SPREAD_FACTOR	1.5	/* experiment spread >= 1.5x control's */
#define CANARY_PLUS_SPARSE_ZEROS	0.5	/* pooled share of exact zeros that makes a series sparse */
#define CANARY_PLUS_VARIANCE		0x1u	/* canary_metric_result.plus_flags */
#define CANARY_PLUS_SPARSE		0x2u

#define CANARY_REASON_MAX	256

/* ---------------------------------------------------------------------------------------- */
/* The judge                                                                                 */

struct canary_metric_in {
	const char *name;			/* required */
	const char *const *groups;		/* a metric may sit in several groups (or none) */
	size_t ngroups;
	const double *control, *experiment;	/* NaN allowed; other non-finite values are not */
	size_t ncontrol, nexperiment;
	enum canary_direction direction;
	bool critical, must_have_data, muted;
	enum canary_nan nan_strategy;
	enum canary_outliers outliers;
	double outlier_factor;			/* > 0 */
	enum canary_effect effect_measure;
	/* effect size thresholds; NaN means Kayenta's default for the measure (1.0 for
	 * meanRatio, 0.5 for cles) */
	double allowed_increase, allowed_decrease, critical_increase, critical_decrease;
};

struct canary_group_weight {
	const char *name;
	double weight;				/* percent, 0..100; sum over groups <= 100 */
};

struct canary_input {
	double confidence;			/* (0, 1) */
	double tolerance;			/* >= 0 */
	double pass_threshold, marginal_threshold;	/* 0 <= marginal <= pass <= 100 */
	const struct canary_group_weight *weights;
	size_t nweights;
	const struct canary_metric_in *metrics;
	size_t nmetrics;
	bool plus;				/* opt-in extra checks, see docs/CANARY.md */
};

void canary_input_init(struct canary_input *in);	/* defaults above, no metrics */
void canary_metric_init(struct canary_metric_in *m);	/* Kayenta's per metric defaults */

struct canary_stats {		/* Kayenta's DescriptiveStatistics.summary */
	double min, max, mean, std;
	size_t count;
};

struct canary_metric_result {
	char *name;
	char **groups;
	size_t ngroups;
	enum canary_label label;
	bool critical;			/* a critical failure (Kayenta's CanaryAnalysisResult.critical) */
	bool muted;
	bool tested;			/* false: short-circuited before the Mann-Whitney test */
	char reason[CANARY_REASON_MAX];	/* "" when Kayenta gives none */
	double estimate, ci_lower, ci_upper;	/* NaN when !tested */
	double lower_bound, upper_bound;	/* +/- tolerance * |estimate|; NaN when !tested */
	double ratio;			/* Kayenta's "deviation": mean(experiment)/mean(control) */
	enum canary_effect effect_measure;
	double effect_size;		/* NaN when undefined or !tested */
	struct canary_stats control, experiment;	/* after the NaN and outlier transforms */
	unsigned plus_flags;		/* CANARY_PLUS_* that fired */
};

struct canary_group_result {
	char *name;
	double score;			/* 100 * pass / (pass + high + low + nodataFailMetric) */
	bool no_data;			/* no metric counted: score 0, but 100 in the summary */
	double weight;			/* the weight used in the summary */
	size_t counts[CANARY_LABEL_MAX];
	size_t nmetrics;
};

struct canary_result {
	enum canary_verdict verdict;
	double score;			/* summary score, rounded to 2 decimals half-up */
	double pass_threshold, marginal_threshold;
	char reason[CANARY_REASON_MAX];	/* why the score was forced to 0, or "" */
	struct canary_group_result *groups;	/* in order of first appearance */
	size_t ngroups;
	struct canary_metric_result *metrics;	/* in input order */
	size_t nmetrics;
	bool plus;
};

/* Judge. Returns 0, -EINVAL for an invalid input (out of range parameter, non-finite sample),
 * ERR_TOOBIG over the caps, -ENOMEM. *out is written only on success; free it with
 * canary_result_free(). */
int canary_judge(const struct canary_input *in, struct canary_result *out);
void canary_result_free(struct canary_result *r);	/* NULL and zeroed results are no-ops */

/* ---------------------------------------------------------------------------------------- */
/* Classifiers (Kayenta's MannWhitneyClassifier and MeanInequalityClassifier)                */

struct canary_mwc_params {	/* MannWhitneyClassifier constructor */
	double tolerance, confidence;
	double effect_low, effect_high;		/* effectSizeThresholds (_1, _2) */
	double critical_low, critical_high;	/* criticalThresholds (_1, _2) */
	enum canary_effect measure;
};
void canary_mwc_defaults(struct canary_mwc_params *p);	/* the class defaults (conf 0.95) */

struct canary_classification {
	enum canary_label label;
	bool critical;
	bool tested;
	double deviation;		/* Kayenta's ratio */
	double effect_size;
	double estimate, ci_lower, ci_upper, lower_bound, upper_bound;
	char reason[CANARY_REASON_MAX];
};

/* MannWhitneyClassifier.classify(control, experiment, direction, nanStrategy, isCritical,
 * isDataRequired). name is used in reasons. A failure of the test itself (every value tied,
 * values whose differences overflow) is returned as -EDOM / -ERANGE; the judge maps it to
 * Error as NetflixACAJudge does. */
int canary_classify_mw(const struct canary_mwc_params *p, const char *name,
	const double *control, size_t nc, const double *experiment, size_t ne,
	enum canary_direction dir, enum canary_nan nan, bool critical, bool data_required,
	struct canary_classification *out);
int canary_classify_mean(const char *name, const double *control, size_t nc,
	const double *experiment, size_t ne, enum canary_direction dir, enum canary_nan nan,
	bool critical, bool data_required, struct canary_classification *out);

/* ---------------------------------------------------------------------------------------- */
/* Mann-Whitney (Kayenta's MannWhitney.scala + BrentSolver.java)                             */

struct canary_mw {		/* prepared samples: sorted copies, Scala min/max */
	double *xs, *ys;
	size_t nx, ny;
	double xmin, xmax, ymin, ymax;
};
/* x and y non-empty and finite (-EINVAL otherwise). */
int canary_mw_init(struct canary_mw *mw, const double *x, size_t nx, const double *y, size_t ny);
void canary_mw_fini(struct canary_mw *mw);
/* wilcoxonDiff(mu, quantile, x, y): the continuity-corrected normal score of the rank sum of
 * (x - mu) against y, minus quantile. O(nx + ny). -EDOM when every value is tied. */
int canary_mw_diff(const struct canary_mw *mw, double mu, double quantile, double *out);
/* BrentSolver.solve(ax, bx, fa, fb, f): R's zeroin, tolerance 1e-4, 1000 iterations. */
typedef int (*canary_fn)(void *ctx, double x, double *out);
int canary_brent(double ax, double bx, double fa, double fb, canary_fn f, void *ctx,
	double *root);
struct canary_mw_result {
	double ci_lower, ci_upper, estimate;
};
/* mannWhitneyUTest(x, y, confidence): interval and estimate of the shift x - y. */
int canary_mw_test(const double *x, size_t nx, const double *y, size_t ny, double confidence,
	struct canary_mw_result *out);
/* The k-th smallest (1-based) of the nx*ny differences x_i - y_j, without materialising them:
 * bisection over doubles, each step a two-pointer count. mw must be prepared. */
int canary_mw_pairdiff_kth(const struct canary_mw *mw, uint64_t k, double *out);
/* Standard normal quantile, accurate to the last bit or so (see docs/CANARY.md). */
double canary_qnorm(double p);

/* ---------------------------------------------------------------------------------------- */
/* Statistics, effect sizes, detectors, transforms                                            */

/* Java's Double.compare: -0.0 < +0.0, NaN above everything and equal to itself. */
int canary_jcmp(double a, double b);
void canary_sort(double *v, size_t n);			/* ascending in canary_jcmp order */
double canary_mean(const double *v, size_t n);		/* commons-math Mean; NaN if n == 0 */
double canary_variance(const double *v, size_t n);	/* bias-corrected; 0 if n == 1 */
void canary_summary(const double *v, size_t n, struct canary_stats *out);
/* R-7 percentile, p in (0, 100]; NaN for n == 0. _sorted takes canary_sort()ed values. */
double canary_percentile_sorted(const double *sorted, size_t n, double p);
int canary_percentile(const double *v, size_t n, double p, double *out);
double canary_mean_ratio(const double *control, size_t nc, const double *experiment, size_t ne);
double canary_cohen_d(const double *control, size_t nc, const double *experiment, size_t ne);
int canary_cles(const double *control, size_t nc, const double *experiment, size_t ne,
	double *out);
/* IQRDetector(factor, reduceSensitivity) and KSigmaDetector(k): outlier[i] for each v[i]. */
int canary_iqr_detect(const double *v, size_t n, double factor, bool reduce, bool *outlier);
int canary_ksigma_detect(const double *v, size_t n, double k, bool *outlier);
size_t canary_nan_remove(double *v, size_t n);		/* compacts in place, returns new n */
void canary_nan_replace(double *v, size_t n, double value);
/* Transforms.addGaussianNoise with RandomUtils.init(seed): java.util.Random's generator, so
 * the same seed gives Kayenta's numbers. Not used by the judge (see docs/CANARY.md). */
void canary_gaussian_noise(double *v, size_t n, double mean, double sd, int32_t seed);
/* commons-math Precision.round(x, 2): half-up on the shortest decimal form of x. */
double canary_round2(double x);

/* ---------------------------------------------------------------------------------------- */
/* Scoring (WeightedSumScorer + ThresholdScoreClassifier)                                     */

struct canary_score_item {
	enum canary_label label;
	const char *const *groups;
	size_t ngroups;
	bool critical, muted;
	const char *reason;		/* for the "Canary Failed: ..." reason; may be NULL */
};

struct canary_score {
	double summary;
	struct canary_group_result *groups;	/* owned; free with canary_score_fini() */
	size_t ngroups;
	char reason[CANARY_REASON_MAX];
};
/* Muted items are left out, as ScoringHelper does. */
int canary_score_weighted(const struct canary_score_item *items, size_t n,
	const struct canary_group_weight *w, size_t nw, struct canary_score *out);
void canary_score_fini(struct canary_score *s);
enum canary_verdict canary_verdict_of(double score, double pass, double marginal);

#endif
