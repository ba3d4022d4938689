/* A small metrics registry and its Prometheus text exposition (format 0.0.4).
 *
 * Families are registered once (name, help, type, label names, histogram buckets); series are
 * created on first use, keyed by their label values, up to LIM_METRICS_SERIES_MAX in all (past
 * that an update returns ERR_TOOBIG and is counted in metrics_dropped()). Label values are at
 * most LIM_METRICS_LABEL_MAX bytes of UTF-8 without control characters, else -EINVAL: the
 * caller passes names it knows (config names, schema names), never free text from a peer.
 *
 * Rendering sorts nothing: families in registration order, series in creation order, which is
 * stable from one scrape to the next. The textfile is written for node_exporter's textfile
 * collector: a temporary file in the same directory (mode 0644), fsync, rename over the target,
 * so a reader sees the old file or the new one, never a partial one.
 *
 * Library code: no logging, no global state; one registry per owner, not thread-safe.
 */
#ifndef CORRAL_SUPERVISOR_METRICS_H
#define CORRAL_SUPERVISOR_METRICS_H

#include <stddef.h>

#define METRICS_LABELS_MAX	4
#define METRICS_BUCKETS_MAX	16

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metric_def {
	const char *name;		/* [a-zA-Z_:][a-zA-Z0-9_:]* */
	const char *help;		/* one line */
	enum metric_type type;
	const char *labels[METRICS_LABELS_MAX + 1];	/* NULL-terminated; not "le" */
	const double *buckets;		/* histograms: finite upper bounds, increasing */
	size_t nbuckets;
};

struct metrics;

int metrics_new(struct metrics **out);
void metrics_free(struct metrics *m);

/* Register a family; def and its strings are borrowed and must outlive the registry (static
 * tables). Returns the family id (>= 0), -EINVAL for a bad name, label or bucket list,
 * -EEXIST for a name registered already. */
int metrics_register(struct metrics *m, const struct metric_def *def);

/* lv: one value per label of the family, in order (NULL when the family has no labels).
 * add: counters (v >= 0) and gauges; set: gauges; observe: histograms. -EINVAL for the wrong
 * family type, a negative counter increment or a bad label value. */
int metrics_add(struct metrics *m, int id, const char *const *lv, double v);
int metrics_set(struct metrics *m, int id, const char *const *lv, double v);
int metrics_observe(struct metrics *m, int id, const char *const *lv, double v);
/* The series' value (counter, gauge; a histogram's count), or 0 when it does not exist. */
double metrics_get(const struct metrics *m, int id, const char *const *lv);
/* Forget every series of a family (a gauge family rebuilt from state before each render). */
void metrics_clear(struct metrics *m, int id);
/* Updates refused because the registry was full. */
unsigned long long metrics_dropped(const struct metrics *m);

/* The exposition text (malloc'd, NUL-terminated). ERR_TOOBIG past LIM_METRICS_TEXT_MAX. */
int metrics_render(const struct metrics *m, char **out, size_t *len);
/* Render and replace path atomically (see above). */
int metrics_write_textfile(const struct metrics *m, const char *path);

#endif
