/* Rendering of a canary result: JSON (written by hand so that numbers come out in their
 * shortest round-trip form, 33.33 rather than 33.329999999999998) and a text table. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/canary_json.h"

struct jb {
	char *p;
	size_t len, cap;
	int err;
};

static void jb_put(struct jb *b, const char *s, size_t n)
{
	size_t cap;
	char *np;

	if (b->err)
		return;
	if (b->len + n + 1 > LIM_CANARY_OUTPUT_MAX) {
		b->err = ERR_TOOBIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(np = realloc(b->p, cap))) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void jb_puts(struct jb *b, const char *s)
{
	jb_put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s, or 0. Names arrive valid (jansson checks them),
 * but a reason cut at CANARY_REASON_MAX may end inside a character. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static void jb_str(struct jb *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];
	size_t n;

	jb_put(b, "\"", 1);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			jb_put(b, esc, 2);
			n = 1;
		} else if (*p < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			jb_put(b, esc, 6);
			n = 1;
		} else if (*p < 0x80) {
			jb_put(b, (const char *)p, 1);
			n = 1;
		} else if ((n = utf8_len(p)) != 0) {
			jb_put(b, (const char *)p, n);
		} else {
			jb_puts(b, "\xef\xbf\xbd");	/* U+FFFD for a broken sequence */
			n = 1;
		}
		p += n;
	}
	jb_put(b, "\"", 1);
}

static void jb_num(struct jb *b, double d)
{
	char buf[40];
	int prec;

	if (!isfinite(d)) {
		jb_puts(b, "null");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	jb_puts(b, buf);
}

static void jb_key(struct jb *b, const char *k)
{
	jb_str(b, k);
	jb_put(b, ":", 1);
}

static void jb_bool(struct jb *b, bool v)
{
	jb_puts(b, v ? "true" : "false");
}

static void jb_stats(struct jb *b, const char *key, const struct canary_stats *s)
{
	char n[32];

	jb_key(b, key);
	snprintf(n, sizeof n, "%zu", s->count);
	jb_puts(b, "{\"count\":");
	jb_puts(b, n);
	jb_puts(b, ",\"min\":");
	jb_num(b, s->min);
	jb_puts(b, ",\"max\":");
	jb_num(b, s->max);
	jb_puts(b, ",\"mean\":");
	jb_num(b, s->mean);
	jb_puts(b, ",\"std\":");
	jb_num(b, s->std);
	jb_puts(b, "}");
}

static void jb_pair(struct jb *b, const char *key, double lo, double hi)
{
	jb_key(b, key);
	if (isnan(lo) && isnan(hi)) {
		jb_puts(b, "null");
		return;
	}
	jb_puts(b, "[");
	jb_num(b, lo);
	jb_puts(b, ",");
	jb_num(b, hi);
	jb_puts(b, "]");
}

static void jb_metric(struct jb *b, const struct canary_metric_result *m, bool plus)
{
	size_t k;

	jb_puts(b, "{\"name\":");
	jb_str(b, m->name);
	jb_puts(b, ",\"groups\":[");
	for (k = 0; k < m->ngroups; k++) {
		jb_puts(b, k ? "," : "");
		jb_str(b, m->groups[k]);
	}
	jb_puts(b, "],\"classification\":");
	jb_str(b, canary_label_name(m->label));
	jb_puts(b, ",\"critical\":");
	jb_bool(b, m->critical);
	jb_puts(b, ",\"muted\":");
	jb_bool(b, m->muted);
	jb_puts(b, ",\"reason\":");
	if (m->reason[0])
		jb_str(b, m->reason);
	else
		jb_puts(b, "null");
	jb_puts(b, ",\"tested\":");
	jb_bool(b, m->tested);
	jb_puts(b, ",\"estimate\":");
	jb_num(b, m->estimate);
	jb_puts(b, ",");
	jb_pair(b, "confidence_interval", m->ci_lower, m->ci_upper);
	jb_puts(b, ",");
	jb_pair(b, "bounds", m->lower_bound, m->upper_bound);
	jb_puts(b, ",\"ratio\":");
	jb_num(b, m->ratio);
	jb_puts(b, ",\"effect_size\":{\"measure\":");
	jb_str(b, canary_effect_name(m->effect_measure));
	jb_puts(b, ",\"value\":");
	jb_num(b, m->effect_size);
	jb_puts(b, "},");
	jb_stats(b, "control", &m->control);
	jb_puts(b, ",");
	jb_stats(b, "experiment", &m->experiment);
	if (plus) {
		jb_puts(b, ",\"plus\":[");
		jb_puts(b, (m->plus_flags & CANARY_PLUS_VARIANCE) ? "\"variance\"" : "");
		jb_puts(b, (m->plus_flags & CANARY_PLUS_VARIANCE) &&
			   (m->plus_flags & CANARY_PLUS_SPARSE) ? "," : "");
		jb_puts(b, (m->plus_flags & CANARY_PLUS_SPARSE) ? "\"sparse\"" : "");
		jb_puts(b, "]");
	}
	jb_puts(b, "}");
}

static void jb_group(struct jb *b, const struct canary_group_result *g)
{
	char n[32];
	int l;

	jb_puts(b, "{\"name\":");
	jb_str(b, g->name);
	jb_puts(b, ",\"score\":");
	jb_num(b, g->score);
	jb_puts(b, ",\"no_data\":");
	jb_bool(b, g->no_data);
	jb_puts(b, ",\"weight\":");
	jb_num(b, g->weight);
	snprintf(n, sizeof n, ",\"metrics\":%zu", g->nmetrics);
	jb_puts(b, n);
	jb_puts(b, ",\"counts\":{");
	for (l = 0; l < CANARY_LABEL_MAX; l++) {
		jb_puts(b, l ? "," : "");
		jb_key(b, canary_label_name((enum canary_label)l));
		snprintf(n, sizeof n, "%zu", g->counts[l]);
		jb_puts(b, n);
	}
	jb_puts(b, "}}");
}

int canary_result_to_json(const struct canary_result *r, char **out)
{
	struct jb b = { 0 };
	size_t i;

	jb_puts(&b, "{\"verdict\":");
	jb_str(&b, canary_verdict_name(r->verdict));
	jb_puts(&b, ",\"score\":");
	jb_num(&b, r->score);
	jb_puts(&b, ",\"thresholds\":{\"pass\":");
	jb_num(&b, r->pass_threshold);
	jb_puts(&b, ",\"marginal\":");
	jb_num(&b, r->marginal_threshold);
	jb_puts(&b, "},\"reason\":");
	if (r->reason[0])
		jb_str(&b, r->reason);
	else
		jb_puts(&b, "null");
	jb_puts(&b, ",\"plus\":");
	jb_bool(&b, r->plus);
	jb_puts(&b, ",\"groups\":[");
	for (i = 0; i < r->ngroups; i++) {
		jb_puts(&b, i ? "," : "");
		jb_group(&b, &r->groups[i]);
	}
	jb_puts(&b, "],\"metrics\":[");
	for (i = 0; i < r->nmetrics; i++) {
		jb_puts(&b, i ? "," : "");
		jb_metric(&b, &r->metrics[i], r->plus);
	}
	jb_puts(&b, "]}\n");
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Text table                                                                                 */

static void fmt_num(char *buf, size_t len, double d)
{
	if (isnan(d))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.4g", d);
}

static void print_metric(FILE *f, const struct canary_metric_result *m)
{
	char est[24], lo[24], hi[24], ratio[24], eff[24], ci[56];

	fmt_num(est, sizeof est, m->estimate);
	fmt_num(lo, sizeof lo, m->ci_lower);
	fmt_num(hi, sizeof hi, m->ci_upper);
	fmt_num(ratio, sizeof ratio, m->ratio);
	fmt_num(eff, sizeof eff, m->effect_size);
	if (m->tested)
		snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
	else
		snprintf(ci, sizeof ci, "-");
	fprintf(f, "%-28.28s %-16.16s %-16s %-4s %10s  %-24s %8s  %8s %s%s\n", m->name,
		m->ngroups ? m->groups[0] : "-", canary_label_name(m->label),
		m->critical ? "yes" : "-", est, ci, ratio, eff, canary_effect_name(m->effect_measure),
		m->muted ? " (muted)" : "");
}

int canary_result_print_table(const struct canary_result *r, FILE *f)
{
	bool first;
	size_t i;

	fprintf(f, "verdict: %s   score: %.2f   (pass >= %g, marginal >= %g)%s\n",
		canary_verdict_name(r->verdict), r->score, r->pass_threshold,
		r->marginal_threshold, r->plus ? "   [plus]" : "");
	if (r->reason[0])
		fprintf(f, "reason: %s\n", r->reason);
	fprintf(f, "\n%-28s %7s %7s %7s\n", "GROUP", "WEIGHT", "SCORE", "METRICS");
	for (i = 0; i < r->ngroups; i++)
		fprintf(f, "%-28.28s %7.2f %7.2f %7zu%s\n", r->groups[i].name, r->groups[i].weight,
			r->groups[i].score, r->groups[i].nmetrics,
			r->groups[i].no_data ? "  (no data)" : "");
	fprintf(f, "\n%-28s %-16s %-16s %-4s %10s  %-24s %8s  %8s\n", "METRIC", "GROUP", "RESULT",
		"CRIT", "ESTIMATE", "CONFIDENCE INTERVAL", "RATIO", "EFFECT");
	for (i = 0; i < r->nmetrics; i++)
		print_metric(f, &r->metrics[i]);
	for (i = 0, first = true; i < r->nmetrics; i++) {
		if (!r->metrics[i].reason[0] || r->metrics[i].label == CANARY_PASS)
			continue;
		fprintf(f, "%s%s: %s\n", first ? "\n" : "", r->metrics[i].name,
			r->metrics[i].reason);
		first = false;
	}
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
