/* Canary verdicts as policy evidence, kept in the audit log (see evidence.h).
 *
 * Why the audit log and not a file of its own: the verdict is already there (the canary call's
 * records), the log is MACed and hash-chained, and one store cannot disagree with itself. A
 * second file could hold a verdict whose audit record a crash lost (batch fsync), or the other
 * way round; then a rollback would be justified by something no auditor can see. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/evidence.h"

/* Records are written compact with sorted keys, so an evidence record holds this text; inside a
 * string value the quotes would be escaped. Lines without it are not looked at further. */
#define EV_MARKER	"\"type\":\"evidence\""

struct ev_store {
	struct ev_rec *v;		/* oldest first (by seq) */
	size_t n, cap;
	int64_t max_age_ms;
};

static void
rec_clear(struct ev_rec *e)
{
	free(e->tenant);
	free(e->tool);
	free(e->op);
	json_decref(e->args);
	json_decref(e->result);
	memset(e, 0, sizeof(*e));
}

int
ev_store_new(int64_t max_age_ms, struct ev_store **out)
{
	struct ev_store *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -ENOMEM;
	st->max_age_ms = max_age_ms > 0 ? max_age_ms : 0;
	*out = st;
	return 0;
}

void
ev_store_free(struct ev_store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->n; i++)
		rec_clear(&st->v[i]);
	free(st->v);
	free(st);
}

size_t
ev_store_count(const struct ev_store *st)
{
	return st ? st->n : 0;
}

/* ---------------------------------------------------------------- records */

json_t *
ev_record_new(const char *tenant, const char *principal, const char *tool, const char *op,
    uint64_t call, uint64_t decision_seq, const json_t *args, const json_t *result,
    int64_t at_ms)
{
	json_t *a, *res, *v;
	const char *k;

	if (!json_is_object(result) || !json_is_string(json_object_get(result, "verdict")) ||
	    tool == NULL || op == NULL)
		return NULL;
	a = json_object();
	res = json_object();
	/* Only what a policy can compare: `same:` names scalar arguments, `match:` walks objects
	 * (never arrays), so the queries, per-metric details and series add nothing but size. */
	json_object_foreach((json_t *)args, k, v)
		if (!json_is_object(v) && !json_is_array(v))
			json_object_set(a, k, v);
	json_object_foreach((json_t *)result, k, v)
		if (!json_is_array(v))
			json_object_set(res, k, v);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "type", "evidence",
	    "tenant", tenant ? tenant : "", "principal", principal ? principal : "", "tool", tool,
	    "op", op, "call", (json_int_t)call, "decision_seq", (json_int_t)decision_seq, "at_ms",
	    (json_int_t)at_ms, "args", a, "result", res);
}

/* rec -> e (all members owned), or ERR_PROTO with why. */
static int
rec_parse(const json_t *rec, struct ev_rec *e, char *err, size_t errlen)
{
	const char *tenant = json_string_value(json_object_get(rec, "tenant"));
	const char *tool = json_string_value(json_object_get(rec, "tool"));
	const char *op = json_string_value(json_object_get(rec, "op"));
	const json_t *at = json_object_get(rec, "at_ms"), *ds = json_object_get(rec, "decision_seq");
	const json_t *args = json_object_get(rec, "args"), *res = json_object_get(rec, "result");
	const char *why = NULL;

	memset(e, 0, sizeof(*e));
	if (tenant == NULL || tool == NULL || *tool == '\0' || op == NULL || *op == '\0')
		why = "tenant, tool or op missing";
	else if (!json_is_integer(at) || json_integer_value(at) <= 0)
		why = "at_ms missing or not a positive integer";
	else if (!json_is_integer(ds) || json_integer_value(ds) < 0)
		why = "decision_seq missing or negative";
	else if (!json_is_object(args))
		why = "args is not an object (truncated?)";
	else if (!json_is_object(res) || !json_is_string(json_object_get(res, "verdict")))
		why = "result is not an object with a verdict (truncated?)";
	if (why != NULL) {
		snprintf(err, errlen, "%s", why);
		return ERR_PROTO;
	}
	e->tenant = strdup(tenant);
	e->tool = strdup(tool);
	e->op = strdup(op);
	e->args = json_deep_copy(args);
	e->result = json_deep_copy(res);
	e->at_ms = json_integer_value(at);
	e->decision_seq = (uint64_t)json_integer_value(ds);
	if (!e->tenant || !e->tool || !e->op || !e->args || !e->result) {
		rec_clear(e);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int
push(struct ev_store *st, struct ev_rec *e)
{
	if (st->n == st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 64;
		struct ev_rec *nv = reallocarray(st->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		st->v = nv;
		st->cap = ncap;
	}
	st->v[st->n++] = *e;
	memset(e, 0, sizeof(*e));
	return 0;
}

static int
by_seq(const void *pa, const void *pb)
{
	const struct ev_rec *a = pa, *b = pb;

	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return a->at_ms < b->at_ms ? -1 : a->at_ms > b->at_ms;
}

/* Order by seq, drop duplicates (the same record read twice), entries past the max age, and
 * the oldest past the cap: they are the first to fall outside any `within`. */
static void
settle(struct ev_store *st, int64_t now_ms)
{
	size_t k = 0, drop;

	if (st->n > 1)		/* qsort(NULL, 0) is undefined: an empty store has v NULL */
		qsort(st->v, st->n, sizeof(*st->v), by_seq);
	for (size_t i = 0; i < st->n; i++) {
		bool dup = k > 0 && st->v[i].seq != 0 && st->v[i].seq == st->v[k - 1].seq;

		if (dup || st->v[i].at_ms < now_ms - st->max_age_ms || st->max_age_ms == 0)
			rec_clear(&st->v[i]);
		else
			st->v[k++] = st->v[i];
	}
	st->n = k;
	if (st->n > LIM_EVIDENCE_MAX) {
		drop = st->n - LIM_EVIDENCE_MAX;
		for (size_t i = 0; i < drop; i++)
			rec_clear(&st->v[i]);
		memmove(st->v, st->v + drop, (st->n - drop) * sizeof(*st->v));
		st->n -= drop;
	}
}

int
ev_store_add(struct ev_store *st, const json_t *rec, uint64_t seq, int64_t now_ms, char *err,
    size_t errlen)
{
	struct ev_rec e;
	int r;

	if ((r = rec_parse(rec, &e, err, errlen)) < 0)
		return r;
	e.seq = seq;
	if ((r = push(st, &e)) < 0) {
		rec_clear(&e);
		return r;
	}
	settle(st, now_ms);
	return 0;
}

const struct ev_rec *
ev_store_find(const struct ev_store *st, const struct pol_evidence_query *q)
{
	const struct ev_rec *best = NULL;

	for (size_t i = 0; st != NULL && i < st->n; i++) {
		const struct ev_rec *e = &st->v[i];

		if (pol_evidence_match(q, e->tenant, e->tool, e->op, e->args, e->result, e->at_ms) &&
		    (best == NULL || e->at_ms >= best->at_ms))
			best = e;
	}
	return best;
}

json_t *
ev_used_json(const struct ev_rec *e)
{
	char at[32], op[2 * LIM_NAME_MAX + 2];

	audit_time_format(e->at_ms, at);
	snprintf(op, sizeof(op), "%s.%s", e->tool, e->op);
	return json_pack("{s:I, s:I, s:s, s:s, s:O?, s:O?, s:O?}", "seq", (json_int_t)e->seq,
	    "decision_seq", (json_int_t)e->decision_seq, "op", op, "at", at, "verdict",
	    json_object_get(e->result, "verdict"), "score", json_object_get(e->result, "score"),
	    "app_name", json_object_get(e->args, "app_name"));
}

/* ---------------------------------------------------------------- loading from the log */

struct ev_load {
	struct ev_store *st;
	struct audit_mac *mac;
	int64_t now_ms, since_ms;
	ev_warn_fn warn;
	void *arg;
	struct ev_load_stats *stats;
	const char *file;
	size_t lineno;
};

static void __attribute__((format(printf, 2, 3)))
ld_warn(struct ev_load *ld, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	ld->stats->bad++;
	if (ld->warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ld->warn(ld->arg, ld->file, ld->lineno, why);
}

/* One complete line that holds the marker. */
static int
ld_line(struct ev_load *ld, const char *line, size_t len)
{
	json_error_t je;
	json_t *rec;
	const json_t *seq;
	struct ev_rec e;
	char err[160];
	int r;

	if (len > LIM_AUDIT_RECORD_MAX) {
		ld_warn(ld, "evidence record longer than %u bytes: ignored", LIM_AUDIT_RECORD_MAX);
		return 0;
	}
	if ((rec = json_loadb(line, len, 0, &je)) == NULL) {
		ld_warn(ld, "evidence record is not JSON (%s): ignored", je.text);
		return 0;
	}
	if (!json_is_object(rec) || !json_is_string(json_object_get(rec, "type")) ||
	    strcmp(json_string_value(json_object_get(rec, "type")), "evidence") != 0) {
		json_decref(rec);
		return 0;	/* the text was inside another record */
	}
	seq = json_object_get(rec, "seq");
	if ((r = audit_line_check(ld->mac, line, len)) < 0)
		ld_warn(ld, "seq %" JSON_INTEGER_FORMAT ": evidence record %s: ignored",
		    json_integer_value(seq), r == ERR_PROTO ? "has no MAC" :
		    "does not verify under the audit key (altered?)");
	else if (!json_is_integer(seq) || json_integer_value(seq) <= 0)
		ld_warn(ld, "evidence record without a seq: ignored");
	else if (json_integer_value(json_object_get(rec, "at_ms")) < ld->since_ms)
		ld->stats->expired++;
	else if ((r = rec_parse(rec, &e, err, sizeof(err))) < 0) {
		ld_warn(ld, "seq %" JSON_INTEGER_FORMAT ": evidence record: %s: ignored",
		    json_integer_value(seq), err);
		if (r == -ENOMEM) {
			json_decref(rec);
			return r;
		}
	} else {
		e.seq = (uint64_t)json_integer_value(seq);
		if ((r = push(ld->st, &e)) < 0) {
			rec_clear(&e);
			json_decref(rec);
			return r;
		}
		ld->stats->loaded++;
	}
	json_decref(rec);
	return 0;
}

/* Unix ms of a line's "time" member, 0 when it has none. */
static int64_t
line_time(const char *line, size_t len)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	int64_t t = 0;

	if (json_is_string(json_object_get(j, "time")) &&
	    pol_time_parse(json_string_value(json_object_get(j, "time")), &t) < 0)
		t = 0;
	json_decref(j);
	return t;
}

/* Scan data[off..size) line by line. *older: the file's first record is older than the
 * max age (so every older file is too). */
static int
ld_scan(struct ev_load *ld, const char *data, size_t size, size_t off, bool *older)
{
	const char *p = data + off, *end = data + size;
	int r = 0;

	while (p < end && r == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		ld->lineno++;
		if (p == data) {
			int64_t t = line_time(p, len);

			*older = t > 0 && t < ld->since_ms;
		}
		if (nl == NULL)
			ld_warn(ld, "torn line (%zu bytes, no newline at the end of the file): ignored",
			    len);
		else if (memmem(p, len, EV_MARKER, sizeof(EV_MARKER) - 1) != NULL)
			r = ld_line(ld, p, len);
		p += len + 1;
	}
	return r;
}

/* One file. A file larger than what is left of the scan budget is read from its end (the
 * newest records), from the first line start after the cut; line numbers then count from
 * there, which the message says. */
static int
ld_file(struct ev_load *ld, const char *path, bool *older)
{
	uint64_t left = LIM_EVIDENCE_SCAN_BYTES - ld->stats->bytes;
	size_t off = 0, size;
	struct stat sb;
	char *data;
	int fd, r;

	*older = false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return 0;
	}
	ld->stats->files++;
	if ((size = (size_t)sb.st_size) == 0) {
		close(fd);
		return 0;
	}
	data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (data == MAP_FAILED)
		return -errno;
	ld->file = path;
	ld->lineno = 0;
	if (size > left) {
		const char *nl = memchr(data + (size - left), '\n', left);

		ld->stats->capped = true;
		off = nl ? (size_t)(nl + 1 - data) : size;
		*older = true;
	}
	ld->stats->bytes += size - off;
	r = ld_scan(ld, data, size, off, older);
	munmap(data, size);
	return r;
}

/* Rotated files of stem in dir, newest first (names end in the 20-digit first seq). */
static int
rotated_names(const char *dir, const char *stem, char ***out, size_t *nout)
{
	size_t sl = strlen(stem), n = 0, cap = 0;
	struct dirent *de;
	char **v = NULL, **nv;
	DIR *d;

	*out = NULL;
	*nout = 0;
	if ((d = opendir(dir)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL && n < LIM_AUDIT_QUERY_FILES) {
		const char *s = de->d_name;

		if (strlen(s) != sl + 1 + 20 + 6 || strncmp(s, stem, sl) != 0 || s[sl] != '.' ||
		    strspn(s + sl + 1, "0123456789") != 20 || strcmp(s + sl + 21, ".jsonl") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		if ((v[n] = strdup(s)) == NULL)
			break;
		n++;
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)		/* insertion sort, newest first */
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) < 0; j--) {
			char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*out = v;
	*nout = n;
	return 0;
}

int
ev_store_load(struct ev_store *st, const char *audit_path, const uint8_t key[AUDIT_KEY_LEN],
    int64_t now_ms, ev_warn_fn warn, void *arg, struct ev_load_stats *stats)
{
	struct ev_load ld = { .st = st, .now_ms = now_ms, .since_ms = now_ms - st->max_age_ms,
		.warn = warn, .arg = arg, .stats = stats };
	char dir[PATH_MAX], stem[NAME_MAX + 1], path[PATH_MAX], **names = NULL;
	const char *slash = strrchr(audit_path, '/'), *base = slash ? slash + 1 : audit_path;
	size_t nnames = 0, bl = strlen(base);
	bool older = false;
	int r;

	memset(stats, 0, sizeof(*stats));
	if (st->max_age_ms == 0)
		return 0;
	if (slash == audit_path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - audit_path) : 1,
		    slash ? audit_path : ".");
	snprintf(stem, sizeof(stem), "%.*s", bl > 6 && strcmp(base + bl - 6, ".jsonl") == 0 ?
	    (int)(bl - 6) : (int)bl, base);
	if ((r = audit_mac_new(key, &ld.mac)) < 0)
		return r;
	if ((r = ld_file(&ld, audit_path, &older)) < 0 ||
	    (r = rotated_names(dir, stem, &names, &nnames)) < 0)
		goto out;
	for (size_t i = 0; i < nnames && !older && r == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		r = ld_file(&ld, path, &older);
	}
out:
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	audit_mac_free(ld.mac);
	settle(st, now_ms);
	return r;
}
