/* Metrics registry and Prometheus text exposition. See metrics.h. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/codec.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/metrics.h"

struct series {
	uint32_t hash;
	char *lv[METRICS_LABELS_MAX];
	double value;			/* counter, gauge */
	double sum;			/* histogram */
	unsigned long long count;
	unsigned long long *buckets;	/* per bucket, not cumulative */
	struct series *next;
};

struct family {
	const struct metric_def *def;
	size_t nlabels;
	struct series *head, *tail;
};

struct metrics {
	struct family *fams;
	size_t nfams;
	size_t nseries;
	unsigned long long dropped;
};

int
metrics_new(struct metrics **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void
series_free(struct series *s)
{
	for (size_t i = 0; i < METRICS_LABELS_MAX; i++)
		free(s->lv[i]);
	free(s->buckets);
	free(s);
}

void
metrics_clear(struct metrics *m, int id)
{
	struct family *f;
	struct series *s, *next;

	if (m == NULL || id < 0 || (size_t)id >= m->nfams)
		return;
	f = &m->fams[id];
	for (s = f->head; s != NULL; s = next) {
		next = s->next;
		series_free(s);
		m->nseries--;
	}
	f->head = f->tail = NULL;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nfams; i++)
		metrics_clear(m, (int)i);
	free(m->fams);
	free(m);
}

unsigned long long
metrics_dropped(const struct metrics *m)
{
	return m->dropped;
}

/* ---------------------------------------------------------------- registration */

static bool
name_ok(const char *s, bool colon)
{
	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':')))
			return false;
	return true;
}

static bool
def_ok(const struct metric_def *d, size_t *nlabels)
{
	size_t n = 0;

	if (!name_ok(d->name, true) || d->help == NULL || strchr(d->help, '\n') != NULL ||
	    d->type > METRIC_HISTOGRAM)
		return false;
	for (; n <= METRICS_LABELS_MAX && d->labels[n] != NULL; n++)
		if (!name_ok(d->labels[n], false) || strncmp(d->labels[n], "__", 2) == 0 ||
		    (d->type == METRIC_HISTOGRAM && strcmp(d->labels[n], "le") == 0))
			return false;
	if (n > METRICS_LABELS_MAX)
		return false;
	if (d->type == METRIC_HISTOGRAM) {
		if (d->buckets == NULL || d->nbuckets == 0 || d->nbuckets > METRICS_BUCKETS_MAX)
			return false;
		for (size_t i = 0; i < d->nbuckets; i++)
			if (!isfinite(d->buckets[i]) || (i > 0 && d->buckets[i] <= d->buckets[i - 1]))
				return false;
	}
	*nlabels = n;
	return true;
}

int
metrics_register(struct metrics *m, const struct metric_def *def)
{
	struct family *nf;
	size_t nlabels;

	if (def == NULL || !def_ok(def, &nlabels))
		return -EINVAL;
	for (size_t i = 0; i < m->nfams; i++)
		if (strcmp(m->fams[i].def->name, def->name) == 0)
			return -EEXIST;
	if ((nf = reallocarray(m->fams, m->nfams + 1, sizeof(*nf))) == NULL)
		return -ENOMEM;
	m->fams = nf;
	m->fams[m->nfams] = (struct family){ .def = def, .nlabels = nlabels };
	return (int)m->nfams++;
}

/* ---------------------------------------------------------------- series */

static bool
label_value_ok(const char *v)
{
	size_t n;

	if (v == NULL || (n = strlen(v)) > LIM_METRICS_LABEL_MAX || !utf8_valid(v, n))
		return false;
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return false;
	return true;
}

static uint32_t
lv_hash(const char *const *lv, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		for (const char *p = lv[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		h = (h ^ 0xffu) * 16777619u;	/* separator: ("ab","c") != ("a","bc") */
	}
	return h;
}

static struct series *
series_find(const struct family *f, const char *const *lv, uint32_t h)
{
	for (struct series *s = f->head; s != NULL; s = s->next) {
		size_t i = 0;

		if (s->hash != h)
			continue;
		while (i < f->nlabels && strcmp(s->lv[i], lv[i]) == 0)
			i++;
		if (i == f->nlabels)
			return s;
	}
	return NULL;
}

/* The series for lv, created on first use. */
static int
series_get(struct metrics *m, int id, enum metric_type want, const char *const *lv,
    struct series **out)
{
	struct family *f;
	struct series *s;
	uint32_t h;

	if (id < 0 || (size_t)id >= m->nfams)
		return -EINVAL;
	f = &m->fams[id];
	if (f->def->type != want && !(want == METRIC_COUNTER && f->def->type == METRIC_GAUGE))
		return -EINVAL;
	if (f->nlabels > 0 && lv == NULL)
		return -EINVAL;
	for (size_t i = 0; i < f->nlabels; i++)
		if (!label_value_ok(lv[i]))
			return -EINVAL;
	h = lv_hash(lv, f->nlabels);
	if ((s = series_find(f, lv, h)) != NULL) {
		*out = s;
		return 0;
	}
	if (m->nseries >= LIM_METRICS_SERIES_MAX) {
		m->dropped++;
		return ERR_TOOBIG;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->hash = h;
	for (size_t i = 0; i < f->nlabels; i++)
		if ((s->lv[i] = strdup(lv[i])) == NULL)
			goto nomem;
	if (f->def->type == METRIC_HISTOGRAM &&
	    (s->buckets = calloc(f->def->nbuckets, sizeof(*s->buckets))) == NULL)
		goto nomem;
	if (f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	m->nseries++;
	*out = s;
	return 0;
nomem:
	series_free(s);
	return -ENOMEM;
}

int
metrics_add(struct metrics *m, int id, const char *const *lv, double v)
{
	struct series *s;
	int r;

	/* Refuse before series_get() creates the series. */
	if (!isfinite(v) || (id >= 0 && (size_t)id < m->nfams &&
	    m->fams[id].def->type == METRIC_COUNTER && v < 0))
		return -EINVAL;
	if ((r = series_get(m, id, METRIC_COUNTER, lv, &s)) < 0)
		return r;
	s->value += v;
	return 0;
}

int
metrics_set(struct metrics *m, int id, const char *const *lv, double v)
{
	struct series *s;
	int r;

	if (isnan(v))
		return -EINVAL;
	if ((r = series_get(m, id, METRIC_GAUGE, lv, &s)) < 0)
		return r;
	s->value = v;
	return 0;
}

int
metrics_observe(struct metrics *m, int id, const char *const *lv, double v)
{
	const struct metric_def *d;
	struct series *s;
	int r;

	if (isnan(v))
		return -EINVAL;
	if ((r = series_get(m, id, METRIC_HISTOGRAM, lv, &s)) < 0)
		return r;
	d = m->fams[id].def;
	for (size_t i = 0; i < d->nbuckets; i++)
		if (v <= d->buckets[i]) {
			s->buckets[i]++;
			break;
		}
	s->sum += v;
	s->count++;
	return 0;
}

double
metrics_get(const struct metrics *m, int id, const char *const *lv)
{
	const struct family *f;
	const struct series *s;

	if (id < 0 || (size_t)id >= m->nfams)
		return 0;
	f = &m->fams[id];
	for (size_t i = 0; i < f->nlabels; i++)
		if (lv == NULL || lv[i] == NULL)
			return 0;
	if ((s = series_find(f, lv, lv_hash(lv, f->nlabels))) == NULL)
		return 0;
	return f->def->type == METRIC_HISTOGRAM ? (double)s->count : s->value;
}

/* ---------------------------------------------------------------- rendering */

struct tbuf {
	char *b;
	size_t n, cap;
	int err;
};

static void tb_printf(struct tbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
tb_reserve(struct tbuf *t, size_t more)
{
	size_t want;
	char *nb;

	if (t->err)
		return;
	if (t->n + more + 1 > LIM_METRICS_TEXT_MAX) {
		t->err = ERR_TOOBIG;
		return;
	}
	if (t->n + more + 1 <= t->cap)
		return;
	want = t->cap ? t->cap : 4096;
	while (want < t->n + more + 1)
		want *= 2;
	if (want > LIM_METRICS_TEXT_MAX)
		want = LIM_METRICS_TEXT_MAX;
	if ((nb = realloc(t->b, want)) == NULL) {
		t->err = -ENOMEM;
		return;
	}
	t->b = nb;
	t->cap = want;
}

static void
tb_printf(struct tbuf *t, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0) {
		t->err = -EINVAL;
		return;
	}
	tb_reserve(t, (size_t)k);
	if (t->err)
		return;
	va_start(ap, fmt);
	vsnprintf(t->b + t->n, t->cap - t->n, fmt, ap);
	va_end(ap);
	t->n += (size_t)k;
}

/* Label values: backslash, double quote and line feed are escaped (the format's only rule);
 * label_value_ok() already refused other control characters. HELP: backslash and line feed. */
static void
tb_escaped(struct tbuf *t, const char *s, bool quote)
{
	for (; *s && !t->err; s++) {
		if (*s == '\\')
			tb_printf(t, "\\\\");
		else if (*s == '\n')
			tb_printf(t, "\\n");
		else if (quote && *s == '"')
			tb_printf(t, "\\\"");
		else
			tb_printf(t, "%c", *s);
	}
}

/* Shortest text that reads back as the same double; integers without an exponent. */
static void
fmt_double(double v, char buf[40])
{
	if (isnan(v)) {
		strcpy(buf, "NaN");
	} else if (isinf(v)) {
		strcpy(buf, v > 0 ? "+Inf" : "-Inf");
	} else if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, 40, "%.0f", v);
	} else {
		for (int prec = 6; prec <= 17; prec++) {
			snprintf(buf, 40, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
}

static void
tb_labels(struct tbuf *t, const struct family *f, const struct series *s, const char *le)
{
	bool any = f->nlabels > 0 || le != NULL;

	if (!any)
		return;
	tb_printf(t, "{");
	for (size_t i = 0; i < f->nlabels; i++) {
		tb_printf(t, "%s%s=\"", i ? "," : "", f->def->labels[i]);
		tb_escaped(t, s->lv[i], true);
		tb_printf(t, "\"");
	}
	if (le != NULL)
		tb_printf(t, "%sle=\"%s\"", f->nlabels ? "," : "", le);
	tb_printf(t, "}");
}

static void
render_histogram(struct tbuf *t, const struct family *f, const struct series *s)
{
	const struct metric_def *d = f->def;
	unsigned long long cum = 0;
	char num[40];

	for (size_t i = 0; i < d->nbuckets; i++) {
		cum += s->buckets[i];
		fmt_double(d->buckets[i], num);
		tb_printf(t, "%s_bucket", d->name);
		tb_labels(t, f, s, num);
		tb_printf(t, " %llu\n", cum);
	}
	tb_printf(t, "%s_bucket", d->name);
	tb_labels(t, f, s, "+Inf");
	tb_printf(t, " %llu\n", s->count);
	fmt_double(s->sum, num);
	tb_printf(t, "%s_sum", d->name);
	tb_labels(t, f, s, NULL);
	tb_printf(t, " %s\n", num);
	tb_printf(t, "%s_count", d->name);
	tb_labels(t, f, s, NULL);
	tb_printf(t, " %llu\n", s->count);
}

static void
render_family(struct tbuf *t, const struct family *f)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	char num[40];

	tb_printf(t, "# HELP %s ", f->def->name);
	tb_escaped(t, f->def->help, false);
	tb_printf(t, "\n# TYPE %s %s\n", f->def->name, types[f->def->type]);
	for (const struct series *s = f->head; s != NULL && !t->err; s = s->next) {
		if (f->def->type == METRIC_HISTOGRAM) {
			render_histogram(t, f, s);
			continue;
		}
		fmt_double(s->value, num);
		tb_printf(t, "%s", f->def->name);
		tb_labels(t, f, s, NULL);
		tb_printf(t, " %s\n", num);
	}
}

int
metrics_render(const struct metrics *m, char **out, size_t *len)
{
	struct tbuf t = { 0 };

	tb_reserve(&t, 0);
	for (size_t i = 0; i < m->nfams && !t.err; i++)
		render_family(&t, &m->fams[i]);
	if (t.err) {
		free(t.b);
		return t.err;
	}
	t.b[t.n] = '\0';
	*out = t.b;
	*len = t.n;
	return 0;
}

/* ---------------------------------------------------------------- textfile */

static int
write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The temporary file is ".NAME.XXXXXX" beside the target: same filesystem (rename is atomic),
 * created with O_EXCL by mkostemp (a planted symlink is never followed), and not "*.prom", so
 * the textfile collector never reads it half-written. */
int
metrics_write_textfile(const struct metrics *m, const char *path)
{
	const char *base = strrchr(path, '/');
	char *tmp = NULL, *text = NULL;
	size_t len;
	int fd, r;

	base = base ? base + 1 : path;
	if (*base == '\0')
		return -EINVAL;
	if (asprintf(&tmp, "%.*s.%s.XXXXXX", (int)(base - path), path, base) < 0)
		return -ENOMEM;
	if ((r = metrics_render(m, &text, &len)) < 0)
		goto out;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		r = -errno;
		goto out;
	}
	r = fchmod(fd, 0644) < 0 ? -errno : write_all(fd, text, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
out:
	free(text);
	free(tmp);
	return r;
}
