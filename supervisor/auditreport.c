/* corralctl audit report (see auditreport.h): audit JSONL -> a self-contained HTML page with
 * an SVG timeline per principal and a table of calls. Reads only; trusts nothing in the log
 * (every string is escaped, every count capped). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "ipc/limits.h"
#include "supervisor/auditreport.h"

#define EXIT_USAGE	2
#define SVG_W		1100		/* px */
#define SVG_LABEL	280		/* the row labels' column */
#define SVG_PAD		24
#define SVG_TOP		44		/* the time axis */
#define SVG_ROW		30

struct rcall {			/* a decision record, with its outcome when one came */
	uint64_t seq;
	int64_t t;
	json_t *dec, *out;	/* borrowed from report.recs */
	size_t row;
};

struct rmark {			/* a run, a worker death, an approval: a tick on a row */
	int64_t t;
	json_t *rec;
	size_t row;
};

struct rrow {
	const char *tenant, *principal;
	size_t n[4];		/* allow, deny, pending, failed outcomes */
};

struct report {
	json_t *recs;		/* every record read, in seq order */
	struct rcall *calls;
	size_t ncalls, capcalls;
	struct rmark *marks;
	size_t nmarks, capmarks;
	struct rrow rows[LIM_REPORT_ROWS];
	size_t nrows;
	int64_t t0, t1;
	size_t first;		/* calls drawn: [first, ncalls) */
	const char *tenant, *principal;
	bool svg_only;
};

static const char *
str(const json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));

	return s ? s : "";
}

/* "2026-03-29T01:30:00.123Z" -> Unix ms; 0 when it does not parse. */
static int64_t
time_ms(const char *s)
{
	struct tm tm = { 0 };
	int ms = 0, n = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return 0;
	if (s[n] == '.')
		sscanf(s + n + 1, "%3d", &ms);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/* ---------------------------------------------------------------- reading */

static int
read_file(struct report *r, const char *path, FILE *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		fprintf(err, "audit report: %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *j;

		if ((size_t)n > LIM_AUDIT_RECORD_MAX + 1 ||
		    json_array_size(r->recs) >= LIM_REPORT_RECORDS)
			continue;
		j = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
		if (json_is_object(j) && json_integer_value(json_object_get(j, "seq")) > 0)
			json_array_append(r->recs, j);
		json_decref(j);
	}
	free(line);
	fclose(f);
	return 0;
}

static int
read_path(struct report *r, const char *path, FILE *err)
{
	struct stat st;
	struct dirent **ents = NULL;
	int n, rc = 0;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return read_file(r, path, err);
	if ((n = scandir(path, &ents, NULL, alphasort)) < 0) {
		fprintf(err, "audit report: %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		size_t l = strlen(ents[i]->d_name);
		char p[4096];

		if (rc == 0 && l > 6 && strcmp(ents[i]->d_name + l - 6, ".jsonl") == 0) {
			snprintf(p, sizeof(p), "%s/%s", path, ents[i]->d_name);
			rc = read_file(r, p, err);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int
seq_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "seq"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "seq"));

	return x < y ? -1 : x > y;
}

/* In seq order, each record once (a file named twice). */
static int
sort_records(struct report *r)
{
	size_t n = json_array_size(r->recs), k = 0;
	json_t **v = calloc(n ? n : 1, sizeof(*v)), *sorted = json_array();

	if (v == NULL || sorted == NULL) {
		free(v);
		json_decref(sorted);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(r->recs, i);
	qsort(v, n, sizeof(*v), seq_cmp);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || seq_cmp(&v[i], &v[i - 1]) != 0 || !json_equal(v[i], v[i - 1])) {
			json_array_append(sorted, v[i]);
			k++;
		}
	free(v);
	json_decref(r->recs);
	r->recs = sorted;
	return 0;
}

/* ---------------------------------------------------------------- model */

static bool
wanted(const struct report *r, const char *tenant, const char *principal)
{
	return (r->tenant == NULL || strcmp(r->tenant, tenant) == 0) &&
	    (r->principal == NULL || strcmp(r->principal, principal) == 0);
}

static size_t
row_of(struct report *r, const char *tenant, const char *principal)
{
	for (size_t i = 0; i < r->nrows; i++)
		if (strcmp(r->rows[i].tenant, tenant) == 0 &&
		    strcmp(r->rows[i].principal, principal) == 0)
			return i;
	if (r->nrows == LIM_REPORT_ROWS)
		return SIZE_MAX;
	r->rows[r->nrows] = (struct rrow){ tenant, principal, { 0 } };
	return r->nrows++;
}

static void
span(struct report *r, int64_t t)
{
	if (t <= 0)
		return;
	if (r->t0 == 0 || t < r->t0)
		r->t0 = t;
	if (t > r->t1)
		r->t1 = t;
}

/* The decision an outcome names (decision_seq; with several logs, also its call id). */
static struct rcall *
call_for(struct report *r, const json_t *out)
{
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(out, "decision_seq"));
	json_int_t id = json_integer_value(json_object_get(out, "call"));
	size_t lo = 0, hi = r->ncalls;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (r->calls[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < r->ncalls && r->calls[lo].seq == seq; lo++)
		if (json_integer_value(json_object_get(r->calls[lo].dec, "call")) == id &&
		    r->calls[lo].out == NULL)
			return &r->calls[lo];
	return NULL;
}

static int
add_call(struct report *r, json_t *rec)
{
	size_t row;

	if (!wanted(r, str(rec, "tenant"), str(rec, "principal")) ||
	    (row = row_of(r, str(rec, "tenant"), str(rec, "principal"))) == SIZE_MAX)
		return 0;
	if (r->ncalls == r->capcalls) {
		size_t nc = r->capcalls ? r->capcalls * 2 : 256;
		struct rcall *p = reallocarray(r->calls, nc, sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		r->calls = p;
		r->capcalls = nc;
	}
	r->calls[r->ncalls++] = (struct rcall){ (uint64_t)json_integer_value(json_object_get(rec,
	    "seq")), time_ms(str(rec, "time")), rec, NULL, row };
	return 0;
}

/* Agent workers are named agent-NAME@TENANT; their principal is agent:NAME. */
static int
add_mark(struct report *r, json_t *rec)
{
	const char *type = str(rec, "type"), *w = str(rec, "worker"), *at;
	char principal[LIM_NAME_MAX + 8];
	const char *tenant = str(rec, "tenant");
	size_t row;

	if (strcmp(type, "approval") == 0) {
		snprintf(principal, sizeof(principal), "%s", str(rec, "principal"));
	} else if (strncmp(w, "agent-", 6) == 0 && (at = strrchr(w, '@')) != NULL &&
	    at - w - 6 < LIM_NAME_MAX) {
		snprintf(principal, sizeof(principal), "agent:%.*s", (int)(at - w - 6), w + 6);
	} else {
		return 0;
	}
	if (!wanted(r, tenant, principal))
		return 0;
	/* the row keeps pointers: intern the principal in the record itself */
	json_object_set_new(rec, "_principal", json_string(principal));
	if ((row = row_of(r, tenant, str(rec, "_principal"))) == SIZE_MAX)
		return 0;
	if (r->nmarks == r->capmarks) {
		size_t nc = r->capmarks ? r->capmarks * 2 : 64;
		struct rmark *p = reallocarray(r->marks, nc, sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		r->marks = p;
		r->capmarks = nc;
	}
	r->marks[r->nmarks++] = (struct rmark){ time_ms(str(rec, "time")), rec, row };
	return 0;
}

static int
build(struct report *r)
{
	size_t i;
	json_t *rec;
	int rc = 0;

	json_array_foreach(r->recs, i, rec) {
		const char *type = str(rec, "type");
		struct rcall *c;

		if (strcmp(type, "decision") == 0)
			rc = add_call(r, rec);
		else if (strcmp(type, "outcome") == 0 && (c = call_for(r, rec)) != NULL)
			c->out = rec;
		else if (strcmp(type, "lifecycle") == 0 || strcmp(type, "approval") == 0)
			rc = add_mark(r, rec);
		if (rc < 0)
			return rc;
	}
	r->first = r->ncalls > LIM_REPORT_CALLS ? r->ncalls - LIM_REPORT_CALLS : 0;
	for (i = r->first; i < r->ncalls; i++) {
		struct rcall *c = &r->calls[i];
		const char *d = str(c->dec, "decision"), *o = str(c->out, "outcome");

		span(r, c->t);
		r->rows[c->row].n[strcmp(d, "allow") == 0 ? 0 : strcmp(d, "pending") == 0 ? 2 : 1]++;
		if (c->out && strcmp(o, "ok") != 0)
			r->rows[c->row].n[3]++;
	}
	for (i = 0; i < r->nmarks; i++)
		span(r, r->marks[i].t);
	return 0;
}

/* ---------------------------------------------------------------- rendering */

static void
esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *
color(const char *decision)
{
	return strcmp(decision, "allow") == 0 ? "#2e7d32" : strcmp(decision, "pending") == 0 ?
	    "#f9a825" : "#c62828";
}

static double
xpos(const struct report *r, int64_t t)
{
	int64_t range = r->t1 > r->t0 ? r->t1 - r->t0 : 1;

	return SVG_LABEL + (double)(t - r->t0) * (SVG_W - SVG_LABEL - SVG_PAD) / (double)range;
}

static void
svg_axis(const struct report *r, FILE *f, int h)
{
	for (int k = 0; k <= 5; k++) {
		int64_t t = r->t0 + (r->t1 - r->t0) * k / 5;
		time_t s = (time_t)(t / 1000);
		struct tm tm;
		char lab[32];
		double x = xpos(r, t);

		gmtime_r(&s, &tm);
		strftime(lab, sizeof(lab), "%H:%M:%S", &tm);
		fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd'/>"
		    "<text x='%.1f' y='%d' font-size='11' text-anchor='middle' fill='#555'>%s</text>\n",
		    x, SVG_TOP - 8, x, h - 10, x, SVG_TOP - 14, lab);
	}
}

/* Calls closer than a mark's width are spread to the right (by at most SVG_SPREAD px) so
 * that none hides another; the exact time is in each mark's title. */
#define SVG_SPREAD	60

static void
svg_call(const struct report *r, const struct rcall *c, double *lastx, FILE *f)
{
	const char *d = str(c->dec, "decision"), *o = c->out ? str(c->out, "outcome") : "";
	bool failed = c->out && strcmp(o, "ok") != 0;
	double y = SVG_TOP + (double)c->row * SVG_ROW + SVG_ROW / 2.0, x = xpos(r, c->t);

	if (x < *lastx + 7 && *lastx + 7 <= x + SVG_SPREAD)
		x = *lastx + 7;
	*lastx = x;
	fprintf(f, "<circle class='call %s' cx='%.1f' cy='%.1f' r='6' fill='%s'%s><title>", d,
	    x, y, color(d), failed ? " stroke='#000' stroke-width='2.5'" : "");
	esc(f, str(c->dec, "time"));
	fputc(' ', f);
	esc(f, str(c->dec, "tool"));
	fputc('.', f);
	esc(f, str(c->dec, "op"));
	fprintf(f, ": %s", d);
	if (json_object_get(c->dec, "reason")) {
		fputs(" — ", f);
		esc(f, str(c->dec, "reason"));
	}
	if (c->out) {
		fputs("; outcome ", f);
		esc(f, o);
	}
	fputs("</title></circle>\n", f);
}

static void
svg_mark(const struct report *r, const struct rmark *m, FILE *f)
{
	const char *ev = str(m->rec, "event");
	bool bad = strcmp(ev, "died") == 0 || strcmp(ev, "run-failed") == 0 ||
	    strcmp(ev, "violation") == 0 || strcmp(ev, "deny") == 0 || strcmp(ev, "expired") == 0;
	double x = xpos(r, m->t), y = SVG_TOP + (double)m->row * SVG_ROW + SVG_ROW - 6;

	fprintf(f, "<path class='mark' d='M%.1f %.1fl-5 6h10z' fill='%s'><title>", x, y - 6,
	    bad ? "#6a1b9a" : "#607d8b");
	esc(f, str(m->rec, "time"));
	fputc(' ', f);
	esc(f, str(m->rec, "type"));
	fputc(' ', f);
	esc(f, ev);
	if (json_object_get(m->rec, "detail")) {
		fputs(": ", f);
		esc(f, str(m->rec, "detail"));
	}
	fputs("</title></path>\n", f);
}

static void
svg(const struct report *r, FILE *f)
{
	int h = SVG_TOP + (int)r->nrows * SVG_ROW + 20;
	double lastx[LIM_REPORT_ROWS];

	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
	    "viewBox='0 0 %d %d' font-family='sans-serif' role='img'>\n", SVG_W, h, SVG_W, h);
	fputs("<title>corral audit timeline</title>\n", f);
	svg_axis(r, f, h);
	for (size_t i = 0; i < r->nrows; i++) {
		const struct rrow *w = &r->rows[i];
		int y = SVG_TOP + (int)i * SVG_ROW;

		fprintf(f, "<rect x='0' y='%d' width='%d' height='%d' fill='%s'/>\n", y, SVG_W,
		    SVG_ROW, i % 2 ? "#fafafa" : "#f0f4f8");
		fprintf(f, "<text x='8' y='%d' font-size='12'>", y + 19);
		esc(f, w->tenant);
		fputs(" / ", f);
		esc(f, w->principal);
		fprintf(f, " <tspan fill='#2e7d32'>%zu</tspan> <tspan fill='#c62828'>%zu</tspan>"
		    " <tspan fill='#b28704'>%zu</tspan></text>\n", w->n[0], w->n[1], w->n[2]);
	}
	for (size_t i = 0; i < r->nmarks; i++)
		svg_mark(r, &r->marks[i], f);
	for (size_t i = 0; i < r->nrows; i++)
		lastx[i] = -1e9;
	for (size_t i = r->first; i < r->ncalls; i++)
		svg_call(r, &r->calls[i], &lastx[r->calls[i].row], f);
	fputs("</svg>\n", f);
}

/* The evidence a gated allow used: which audit record, what verdict. */
static void
evidence_cell(const json_t *dec, FILE *f)
{
	const json_t *ev = json_object_get(dec, "evidence");
	char *score;

	if (!json_is_integer(json_object_get(ev, "seq")))
		return;
	score = json_dumps(json_object_get(ev, "score"), JSON_ENCODE_ANY);
	fprintf(f, "%sevidence: audit seq %" JSON_INTEGER_FORMAT " (", *str(dec, "reason") ? "; " :
	    "", json_integer_value(json_object_get(ev, "seq")));
	esc(f, str(ev, "op"));
	fputs(" ", f);
	esc(f, str(ev, "verdict"));
	fputs(", score ", f);
	esc(f, score ? score : "-");
	fputs(")", f);
	free(score);
}

static void
table_row(const struct rcall *c, FILE *f)
{
	const char *d = str(c->dec, "decision");
	json_t *rules = json_object_get(c->dec, "rules"), *v;
	size_t i;

	fprintf(f, "<tr class='%s'><td>", d);
	esc(f, str(c->dec, "time"));
	fputs("</td><td>", f);
	esc(f, str(c->dec, "tenant"));
	fputs("</td><td>", f);
	esc(f, str(c->dec, "principal"));
	fputs("</td><td><code>", f);
	esc(f, str(c->dec, "tool"));
	fputc('.', f);
	esc(f, str(c->dec, "op"));
	fprintf(f, "</code>%s</td><td class='d'>%s</td><td>",
	    json_is_true(json_object_get(c->dec, "dry_run")) ? " (dry run)" : "", d);
	json_array_foreach(rules, i, v) {
		fputs(i ? ", " : "", f);
		esc(f, json_string_value(v));
	}
	fputs("</td><td>", f);
	esc(f, str(c->dec, "reason"));
	evidence_cell(c->dec, f);
	fputs("</td><td>", f);
	esc(f, c->out ? str(c->out, "outcome") : "—");
	if (c->out && json_object_get(c->out, "error")) {
		fputs(": ", f);
		esc(f, str(c->out, "error"));
	}
	fputs("</td><td>", f);
	if (c->out && json_is_integer(json_object_get(c->out, "duration_ms")))
		fprintf(f, "%lld ms",
		    (long long)json_integer_value(json_object_get(c->out, "duration_ms")));
	fputs("</td></tr>\n", f);
}

static const char style[] =
    "body{font-family:sans-serif;margin:24px;color:#222}"
    "table{border-collapse:collapse;font-size:13px;margin-top:12px}"
    "th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
    "th{background:#eceff1}tr.allow td.d{color:#2e7d32}tr.deny td.d{color:#c62828}"
    "tr.pending td.d{color:#b28704}td.d{font-weight:bold}.legend span{margin-right:16px}";

static void
html(const struct report *r, FILE *f)
{
	size_t n[4] = { 0 };
	char a[32] = "", b[32] = "";
	time_t s0 = (time_t)(r->t0 / 1000), s1 = (time_t)(r->t1 / 1000);
	struct tm tm;

	for (size_t i = 0; i < r->nrows; i++)
		for (int k = 0; k < 4; k++)
			n[k] += r->rows[i].n[k];
	if (r->t0 && gmtime_r(&s0, &tm))
		strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (r->t1 && gmtime_r(&s1, &tm))
		strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
	    "<title>corral audit report</title><style>%s</style></head><body>\n"
	    "<h1>corral audit report</h1>\n<p>%s — %s: %zu calls (%zu allowed, %zu denied, "
	    "%zu pending approval, %zu failed after being allowed) by %zu principals.%s</p>\n",
	    style, a, b, r->ncalls - r->first, n[0], n[1], n[2], n[3], r->nrows,
	    r->first ? " Older calls were left out (the report's cap)." : "");
	fputs("<p class='legend'><span style='color:#2e7d32'>&#9679; allowed</span>"
	    "<span style='color:#c62828'>&#9679; denied</span>"
	    "<span style='color:#f9a825'>&#9679; pending approval</span>"
	    "<span>&#9711; ringed: the call failed</span>"
	    "<span style='color:#607d8b'>&#9650; run, approval</span>"
	    "<span style='color:#6a1b9a'>&#9650; death, failed run, refused approval</span>"
	    "</p>\n", f);
	svg(r, f);
	fputs("<h2>Calls</h2>\n<table><thead><tr><th>time</th><th>tenant</th><th>principal</th>"
	    "<th>call</th><th>decision</th><th>rules</th><th>reason</th><th>outcome</th>"
	    "<th>duration</th></tr></thead><tbody>\n", f);
	for (size_t i = r->first; i < r->ncalls; i++)
		table_row(&r->calls[i], f);
	fputs("</tbody></table>\n</body></html>\n", f);
}

/* ---------------------------------------------------------------- main */

static int
opts(int argc, char **argv, struct report *r, const char **outpath, FILE *err)
{
	static const struct option lo[] = {
		{ "html", no_argument, NULL, 'H' },
		{ "svg", no_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' },
		{ "tenant", required_argument, NULL, 'T' },
		{ "principal", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:", lo, NULL)) != -1) {
		switch (c) {
		case 'H': r->svg_only = false; break;
		case 'S': r->svg_only = true; break;
		case 'o': *outpath = optarg; break;
		case 'T': r->tenant = optarg; break;
		case 'P': r->principal = optarg; break;
		default:
			fprintf(err, "usage: audit report [--html | --svg] [-o FILE] [--tenant T] "
			    "[--principal P] FILE|DIR...\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(err, "audit report: no audit log given\n");
		return EXIT_USAGE;
	}
	return 0;
}

int
auditreport_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct report r = { .recs = json_array() };
	const char *outpath = NULL;
	FILE *f = out;
	int rc;

	if ((rc = opts(argc, argv, &r, &outpath, err)) != 0)
		goto done;
	for (int i = optind; rc == 0 && i < argc; i++)
		rc = read_path(&r, argv[i], err);
	if (rc == 0 && (sort_records(&r) < 0 || build(&r) < 0)) {
		fprintf(err, "audit report: out of memory\n");
		rc = EXIT_USAGE;
	}
	if (rc == 0 && outpath && (f = fopen(outpath, "w")) == NULL) {
		fprintf(err, "audit report: %s: %s\n", outpath, strerror(errno));
		rc = EXIT_USAGE;
	}
	if (rc == 0) {
		if (r.svg_only)
			svg(&r, f);
		else
			html(&r, f);
		if ((f != out && fclose(f) != 0) || (f == out && fflush(f) != 0)) {
			fprintf(err, "audit report: write failed: %s\n", strerror(errno));
			rc = EXIT_USAGE;
		}
	}
done:
	free(r.calls);
	free(r.marks);
	json_decref(r.recs);
	return rc;
}
