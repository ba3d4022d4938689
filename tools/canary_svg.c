/* SVG rendering of a canary analysis (tools/canary_svg.h). Hand-written SVG 1.1: a header,
 * then per metric a panel with axes, the baseline and canary sample lines (broken where a
 * sample is NaN), dashed lines at the means the judge computed, and the classification. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/canary_svg.h"

#define HEADER_H	96
#define PLOT_X0		80
#define PLOT_X1		(CANARY_SVG_WIDTH - 30)
#define PLOT_TOP	34	/* from the panel's top */
#define PLOT_H		150
#define C_BASELINE	"#4c78a8"
#define C_CANARY	"#e45756"

struct sb {
	char *p;
	size_t len, cap;
	int err;
};

__attribute__((format(printf, 2, 3)))
static void
sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int pass = 0; pass < 2 && !b->err; pass++) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
		} else if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		} else if (b->len + (size_t)n + 1 > LIM_CANARY_OUTPUT_MAX) {
			b->err = ERR_TOOBIG;
		} else {
			size_t cap = b->cap ? b->cap : 8192;
			char *np;

			while (cap < b->len + (size_t)n + 1)
				cap *= 2;
			if ((np = realloc(b->p, cap)) == NULL)
				b->err = -ENOMEM;
			b->p = np ? np : b->p;
			b->cap = np ? cap : b->cap;
		}
	}
}

/* Text content and attribute values, XML-escaped. */
static void
sb_text(struct sb *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': sb_printf(b, "&amp;"); break;
		case '<': sb_printf(b, "&lt;"); break;
		case '>': sb_printf(b, "&gt;"); break;
		case '"': sb_printf(b, "&quot;"); break;
		case '\'': sb_printf(b, "&#39;"); break;
		default:
			if ((unsigned char)*s >= 0x20 && *s != 0x7f)
				sb_printf(b, "%c", *s);
		}
	}
}

static double
num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *
str(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : def;
}

static const char *
label_colour(const char *label)
{
	if (strcmp(label, "Pass") == 0)
		return "#2e7d32";
	if (strcmp(label, "High") == 0 || strcmp(label, "Low") == 0 ||
	    strcmp(label, "NodataFailMetric") == 0)
		return "#c62828";
	return "#757575";
}

/* A plain number for labels: 0.0123, 1.5e+06. */
static void
fmt_num(double v, char *buf, size_t len)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (v != 0 && (fabs(v) < 1e-3 || fabs(v) >= 1e6))
		snprintf(buf, len, "%.3g", v);
	else
		snprintf(buf, len, "%.4g", v);
}

static void
fmt_clock(double t, char *buf, size_t len)
{
	time_t s = (time_t)floor(t);
	struct tm tm;

	if (!isfinite(t) || gmtime_r(&s, &tm) == NULL || strftime(buf, len, "%H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%.0f", t);
}

/* ------------------------------------------------------------------------ ranges */

struct range {
	double t0, t1, y0, y1;
	double ystep;		/* between value labels: 1, 2 or 5 times a power of ten */
	size_t nt, n;		/* points with a time, and with a value */
};

static void
range_add(struct range *r, const json_t *points)
{
	const json_t *p, *v;
	size_t i;

	json_array_foreach(points, i, p) {
		double t = json_number_value(json_array_get(p, 0)), y;

		if (!json_is_number(json_array_get(p, 0)))
			continue;
		r->t0 = r->nt ? fmin(r->t0, t) : t;
		r->t1 = r->nt++ ? fmax(r->t1, t) : t;
		if (!json_is_number(v = json_array_get(p, 1)))
			continue;
		y = json_number_value(v);
		r->y0 = r->n ? fmin(r->y0, y) : y;
		r->y1 = r->n++ ? fmax(r->y1, y) : y;
	}
}

/* The smallest 1, 2 or 5 times a power of ten that is >= x (x > 0). */
static double
nice_step(double x)
{
	double p = pow(10, floor(log10(x))), m = x / p;

	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* Zero stays in view for values close to it (ratios, error rates), some room above and below,
 * and a flat line sits in the middle. */
static void
range_pad(struct range *r)
{
	bool nonneg = r->n == 0 || r->y0 >= 0;
	double span;

	if (r->n == 0) {
		r->y0 = 0;
		r->y1 = 1;
	}
	if (r->y0 > 0 && r->y0 < r->y1 - r->y0)
		r->y0 = 0;
	if ((span = r->y1 - r->y0) <= 0) {
		span = r->y1 != 0 ? fabs(r->y1) * 0.2 : 1;
		r->y0 -= span / 2;
		r->y1 += span / 2;
	} else {
		r->y1 += span * 0.08;
		if (r->y0 != 0)
			r->y0 -= span * 0.08;
	}
	if (nonneg && r->y0 < 0)
		r->y0 = 0;
	r->ystep = nice_step((r->y1 - r->y0) / 4);
	r->y0 = floor(r->y0 / r->ystep) * r->ystep;
	r->y1 = ceil(r->y1 / r->ystep) * r->ystep;
	if (!(r->t1 > r->t0)) {
		r->t0 -= 1;
		r->t1 += 1;
	}
}

static double
px_x(const struct range *r, double t)
{
	return PLOT_X0 + (t - r->t0) / (r->t1 - r->t0) * (PLOT_X1 - PLOT_X0);
}

static double
px_y(const struct range *r, double top, double v)
{
	return top + PLOT_H - (v - r->y0) / (r->y1 - r->y0) * PLOT_H;
}

/* ------------------------------------------------------------------------ drawing */

/* One side's samples as polylines, a new one after every NaN gap. */
static void
draw_line(struct sb *b, const struct range *r, double top, const json_t *points,
    const char *colour, const char *cls)
{
	const json_t *p;
	bool open = false;
	size_t i;

	json_array_foreach(points, i, p) {
		const json_t *v = json_array_get(p, 1);

		if (!json_is_number(v) || !json_is_number(json_array_get(p, 0))) {
			if (open)
				sb_printf(b, "\"/>\n");
			open = false;
			continue;
		}
		if (!open)
			sb_printf(b, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" "
			    "stroke-width=\"1.8\" points=\"", cls, colour);
		sb_printf(b, "%s%.1f,%.1f", open ? " " : "",
		    px_x(r, json_number_value(json_array_get(p, 0))),
		    px_y(r, top, json_number_value(v)));
		open = true;
	}
	if (open)
		sb_printf(b, "\"/>\n");
}

static void
draw_axes(struct sb *b, const struct range *r, double top)
{
	char lab[32];

	sb_printf(b, "<rect x=\"%d\" y=\"%.0f\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" "
	    "stroke=\"#bdbdbd\"/>\n", PLOT_X0, top, PLOT_X1 - PLOT_X0, PLOT_H);
	for (int k = 0; k <= 20 && r->y0 + k * r->ystep <= r->y1 + r->ystep * 1e-9; k++) {
		double v = r->y0 + k * r->ystep, y = px_y(r, top, v);

		fmt_num(v, lab, sizeof(lab));
		sb_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>"
		    "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#616161\">"
		    "%s</text>\n", PLOT_X0, y, PLOT_X1, y, PLOT_X0 - 6, y + 4, lab);
	}
	for (int k = 0; k <= 4; k++) {
		double t = r->t0 + (r->t1 - r->t0) * k / 4;

		fmt_clock(t, lab, sizeof(lab));
		sb_printf(b, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\" "
		    "fill=\"#616161\">%s</text>\n", px_x(r, t), top + PLOT_H + 15, lab);
	}
}

static void
draw_mean(struct sb *b, const struct range *r, double top, double mean, const char *colour)
{
	double y = px_y(r, top, mean);

	if (!isfinite(mean) || mean < r->y0 || mean > r->y1)
		return;
	sb_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
	    "stroke-dasharray=\"6 4\" stroke-width=\"1\"/>\n", PLOT_X0, y, PLOT_X1, y, colour);
}

/* The panel's title: name, classification (critical), canary/baseline means. */
static void
draw_title(struct sb *b, const json_t *m, double top)
{
	const char *label = str(m, "classification", "?");
	const json_t *c = json_object_get(m, "control"), *e = json_object_get(m, "experiment");
	char bm[32], cm[32], ratio[32];

	fmt_num(num(c, "mean"), bm, sizeof(bm));
	fmt_num(num(e, "mean"), cm, sizeof(cm));
	fmt_num(num(m, "ratio"), ratio, sizeof(ratio));
	sb_printf(b, "<text x=\"%d\" y=\"%.0f\" font-size=\"14\" font-weight=\"bold\">", PLOT_X0,
	    top + 20);
	sb_text(b, str(m, "name", "?"));
	sb_printf(b, "</text><text class=\"label\" x=\"%d\" y=\"%.0f\" font-size=\"14\" "
	    "font-weight=\"bold\" text-anchor=\"end\" fill=\"%s\">", PLOT_X1, top + 20,
	    label_colour(label));
	sb_text(b, label);
	sb_printf(b, "%s</text>\n", json_is_true(json_object_get(m, "critical")) ?
	    " (critical)" : "");
	sb_printf(b, "<text x=\"%d\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\" "
	    "fill=\"#424242\">mean baseline %s, canary %s, ratio %s</text>\n",
	    (PLOT_X0 + PLOT_X1) / 2, top + 20, bm, cm, ratio);
}

static const json_t *
series_of(const json_t *analysis, const char *name)
{
	const json_t *s;
	size_t i;

	json_array_foreach(json_object_get(analysis, "series"), i, s)
		if (strcmp(str(s, "name", ""), name) == 0)
			return s;
	return NULL;
}

static void
draw_panel(struct sb *b, const json_t *m, const json_t *s, double top)
{
	struct range r = { 0 };
	const json_t *bs = json_object_get(s, "baseline"), *cs = json_object_get(s, "canary");

	range_add(&r, bs);
	range_add(&r, cs);
	range_pad(&r);
	sb_printf(b, "<g class=\"metric\">\n");
	draw_title(b, m, top);
	draw_axes(b, &r, top + PLOT_TOP);
	draw_mean(b, &r, top + PLOT_TOP, num(json_object_get(m, "control"), "mean"), C_BASELINE);
	draw_mean(b, &r, top + PLOT_TOP, num(json_object_get(m, "experiment"), "mean"), C_CANARY);
	draw_line(b, &r, top + PLOT_TOP, bs, C_BASELINE, "baseline");
	draw_line(b, &r, top + PLOT_TOP, cs, C_CANARY, "canary");
	if (r.n == 0)
		sb_printf(b, "<text x=\"%d\" y=\"%.0f\" font-size=\"13\" text-anchor=\"middle\" "
		    "fill=\"#757575\">no data</text>\n", (PLOT_X0 + PLOT_X1) / 2,
		    top + PLOT_TOP + PLOT_H / 2);
	sb_printf(b, "</g>\n");
}

static void
draw_header(struct sb *b, const json_t *a, int height)
{
	const json_t *w = json_object_get(a, "window"), *th = json_object_get(a, "thresholds");
	const char *verdict = str(a, "verdict", "?");
	char score[32], pass[32], marg[32];

	fmt_num(num(a, "score"), score, sizeof(score));
	fmt_num(num(th, "pass"), pass, sizeof(pass));
	fmt_num(num(th, "marginal"), marg, sizeof(marg));
	sb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n<rect width=\"100%%\" "
	    "height=\"100%%\" fill=\"#ffffff\"/>\n<title>Canary analysis: ", CANARY_SVG_WIDTH,
	    height, CANARY_SVG_WIDTH, height);
	sb_text(b, str(a, "app_name", "?"));
	sb_printf(b, "</title>\n<text x=\"20\" y=\"30\" font-size=\"20\" font-weight=\"bold\">"
	    "Canary analysis: ");
	sb_text(b, str(a, "app_name", "?"));
	sb_printf(b, "</text>\n<text class=\"verdict\" x=\"%d\" y=\"30\" font-size=\"20\" "
	    "font-weight=\"bold\" text-anchor=\"end\" fill=\"%s\">", PLOT_X1,
	    strcmp(verdict, "pass") == 0 ? "#2e7d32" : strcmp(verdict, "fail") == 0 ? "#c62828" :
	    "#ef6c00");
	sb_text(b, verdict);
	sb_printf(b, " (score %s; pass &#8805; %s, marginal &#8805; %s)</text>\n", score, pass,
	    marg);
	sb_printf(b, "<text x=\"20\" y=\"54\" font-size=\"12\" fill=\"#424242\">window ");
	sb_text(b, str(w, "start", "?"));
	sb_printf(b, " to ");
	sb_text(b, str(w, "end", "?"));
	sb_printf(b, ", a sample every %gs. Judge: Mann-Whitney (Kayenta NetflixACAJudge)%s.",
	    num(w, "step_seconds"), json_is_true(json_object_get(a, "plus")) ? " + plus" : "");
	sb_printf(b, "</text>\n<text x=\"20\" y=\"72\" font-size=\"12\" fill=\"#424242\">");
	sb_text(b, json_string_length(json_object_get(a, "reason")) ? str(a, "reason", "") :
	    "No metric forced the score to 0.");
	sb_printf(b, "</text>\n<line x1=\"%d\" y1=\"86\" x2=\"%d\" y2=\"86\" stroke=\"%s\" "
	    "stroke-width=\"3\"/><text x=\"%d\" y=\"90\" font-size=\"12\">baseline</text>\n"
	    "<line x1=\"%d\" y1=\"86\" x2=\"%d\" y2=\"86\" stroke=\"%s\" stroke-width=\"3\"/>"
	    "<text x=\"%d\" y=\"90\" font-size=\"12\">canary (dashed: means)</text>\n",
	    20, 44, C_BASELINE, 50, 130, 154, C_CANARY, 160);
}

int
canary_svg_render(const json_t *analysis, char **out, size_t *len, char *err,
    size_t errlen)
{
	const json_t *ms = json_object_get(analysis, "metrics"), *m;
	struct sb b = { 0 };
	size_t i;
	int height;

	if (errlen)
		err[0] = '\0';
	if (!json_is_object(analysis) || !json_is_array(ms) || !json_is_string(json_object_get(
	    analysis, "verdict"))) {
		snprintf(err, errlen, "not a canary_analyze result (verdict, metrics)");
		return ERR_SCHEMA;
	}
	if (!json_is_array(json_object_get(analysis, "series"))) {
		snprintf(err, errlen, "no series: call canary_analyze with include_series: true");
		return ERR_SCHEMA;
	}
	json_array_foreach(ms, i, m)
		if (series_of(analysis, str(m, "name", "")) == NULL) {
			snprintf(err, errlen, "metrics[%zu]: no series named \"%.64s\"", i,
			    str(m, "name", ""));
			return ERR_SCHEMA;
		}
	height = HEADER_H + (int)json_array_size(ms) * CANARY_SVG_PANEL + 10;
	draw_header(&b, analysis, height);
	json_array_foreach(ms, i, m)
		draw_panel(&b, m, series_of(analysis, str(m, "name", "")),
		    HEADER_H + (double)i * CANARY_SVG_PANEL);
	sb_printf(&b, "</svg>\n");
	if (b.err) {
		free(b.p);
		snprintf(err, errlen, "%s", err_str(b.err));
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
