/* supervisor/evidence: canary verdicts as policy evidence, read back from the audit log.
 *
 * The record a verdict becomes, the store (expiry by max age, cap, duplicates, newest match),
 * the policy's longest `within`, and loading from real log files: records the audit writer
 * wrote (with rotation), and hand-sealed lines for the cases a writer never produces (an
 * altered record, a broken line, a torn line, a truncated record, a file older than the max
 * age, which ends the walk back). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/evidence.h"
#include "tests/supervisor/audit_fx.h"

#define HOUR	(3600 * 1000LL)

static char *dir;

static void
fini(void)
{
	fx_rmrf(dir);
	free(dir);
	dir = NULL;
}

TestSuite(evidence, .fini = fini, .timeout = 60);

static int64_t
now_ms(void)
{
	return audit_wall_ms();
}

/* A verdict for app in tenant shop at at_ms, as corrald records it (new ref). */
static json_t *
verdict(const char *app, const char *v, double score, int64_t at_ms, uint64_t dseq)
{
	json_t *args = json_pack("{s:s, s:s, s:[{s:s}], s:{s:i}}", "app_name", app, "window", "5m",
	    "metrics", "name", "m", "groups", "errors", 50);
	json_t *res = json_pack("{s:s, s:s, s:f, s:[], s:[], s:{s:i, s:i}, s:n}", "app_name", app,
	    "verdict", v, "score", score, "metrics", "groups", "thresholds", "pass", 95,
	    "marginal", 75, "reason");
	json_t *rec = ev_record_new("shop", "operator:root", "prometheus", "canary_analyze", 7,
	    dseq, args, res, at_ms);

	json_decref(args);
	json_decref(res);
	cr_assert_not_null(rec);
	return rec;
}

static struct pol_evidence_query
query(const char *app, json_t *match, json_t *appv, int64_t within)
{
	static const char *const same[] = { "app_name" };
	struct pol_evidence_query q = { .tenant = "shop", .principal = "operator:x",
		.tool = "prometheus", .op = "canary_analyze", .match = match, .nsame = 1,
		.same = same, .now_ms = now_ms() };

	(void)app;
	q.same_vals[0] = appv;
	q.since_ms = q.now_ms - within;
	return q;
}

Test(evidence, record_keeps_what_policy_can_compare)
{
	json_t *rec = verdict("shop-api", "fail", 0, 1000, 12);
	json_t *args = json_object_get(rec, "args"), *res = json_object_get(rec, "result");

	cr_expect_str_eq(json_string_value(json_object_get(rec, "type")), "evidence");
	cr_expect_eq(json_integer_value(json_object_get(rec, "decision_seq")), 12);
	cr_expect_eq(json_integer_value(json_object_get(rec, "at_ms")), 1000);
	cr_expect_str_eq(json_string_value(json_object_get(args, "app_name")), "shop-api");
	cr_expect_null(json_object_get(args, "metrics"), "queries kept");
	cr_expect_null(json_object_get(args, "groups"), "object argument kept");
	cr_expect_null(json_object_get(res, "metrics"), "per-metric details kept");
	cr_expect_str_eq(json_string_value(json_object_get(res, "verdict")), "fail");
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(res, "thresholds"),
	    "pass")), 95, "nested objects stay (match walks them)");
	cr_expect(json_is_null(json_object_get(res, "reason")));
	json_decref(rec);
	/* no verdict, no evidence */
	res = json_pack("{s:i}", "score", 3);
	cr_expect_null(ev_record_new("t", "p", "prometheus", "canary_analyze", 1, 1, NULL, res, 1));
	json_decref(res);
}

Test(evidence, store_expiry_newest_and_used_json)
{
	struct ev_store *st;
	int64_t now = now_ms();
	json_t *fail = json_pack("{s:s}", "verdict", "fail"), *app = json_string("a");
	struct pol_evidence_query q;
	const struct ev_rec *e;
	json_t *u;
	char err[128];
	static const struct {
		const char *app, *verdict;
		int64_t age;
		uint64_t seq;
	} recs[] = {
		{ "a", "fail", 2 * HOUR, 1 },		/* older than the max age: dropped */
		{ "a", "fail", 20 * 60000, 2 },
		{ "a", "fail", 5 * 60000, 3 },		/* the newest fail for a */
		{ "a", "pass", 60000, 4 },
		{ "b", "fail", 1000, 5 },
		{ "a", "fail", 5 * 60000, 3 },		/* the same record again */
	};

	cr_assert_eq(ev_store_new(HOUR, &st), 0);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		json_t *r = verdict(recs[i].app, recs[i].verdict, 0, now - recs[i].age, 100 + i);

		cr_expect_eq(ev_store_add(st, r, recs[i].seq, now, err, sizeof(err)), 0, "%s", err);
		json_decref(r);
	}
	cr_expect_eq(ev_store_count(st), 4);
	q = query("a", fail, app, 15 * 60000);
	e = ev_store_find(st, &q);
	cr_assert_not_null(e);
	cr_expect_eq(e->seq, 3);
	q = query("a", fail, app, 3 * 60000);
	cr_expect_null(ev_store_find(st, &q), "a fail older than within matched");
	q.tenant = "other";
	cr_expect_null(ev_store_find(st, &q), "another tenant's verdict matched");
	q = query("a", fail, app, 15 * 60000);
	u = ev_used_json(ev_store_find(st, &q));
	cr_expect_eq(json_integer_value(json_object_get(u, "seq")), 3);
	cr_expect_eq(json_integer_value(json_object_get(u, "decision_seq")), 102);
	cr_expect_str_eq(json_string_value(json_object_get(u, "verdict")), "fail");
	cr_expect_str_eq(json_string_value(json_object_get(u, "app_name")), "a");
	cr_expect_str_eq(json_string_value(json_object_get(u, "op")), "prometheus.canary_analyze");
	cr_expect(json_is_number(json_object_get(u, "score")));
	json_decref(u);
	/* a malformed record is refused with the reason */
	u = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "type", "evidence", "tenant",
	    "shop", "tool", "prometheus", "op", "canary_analyze", "at_ms", (json_int_t)now,
	    "decision_seq", (json_int_t)1, "args", json_object(), "result",
	    json_pack("{s:b, s:i}", "truncated", 1, "bytes", 99999));
	cr_expect_eq(ev_store_add(st, u, 9, now, err, sizeof(err)), ERR_PROTO);
	cr_expect(strstr(err, "verdict"), "%s", err);
	json_decref(u);
	ev_store_free(st);
	json_decref(fail);
	json_decref(app);
}

Test(evidence, store_cap_drops_oldest)
{
	struct ev_store *st;
	int64_t now = now_ms();
	char err[128];

	cr_assert_eq(ev_store_new(HOUR, &st), 0);
	for (uint64_t i = 1; i <= LIM_EVIDENCE_MAX + 3; i++) {
		json_t *r = verdict("a", "fail", 0, now - 1000, i);

		cr_assert_eq(ev_store_add(st, r, i, now, err, sizeof(err)), 0);
		json_decref(r);
	}
	cr_expect_eq(ev_store_count(st), LIM_EVIDENCE_MAX);
	ev_store_free(st);
	/* max age 0 (no policy needs evidence): nothing is kept */
	cr_assert_eq(ev_store_new(0, &st), 0);
	{
		json_t *r = verdict("a", "fail", 0, now, 1);

		cr_expect_eq(ev_store_add(st, r, 1, now, err, sizeof(err)), 0);
		json_decref(r);
	}
	cr_expect_eq(ev_store_count(st), 0);
	ev_store_free(st);
}

Test(evidence, policy_max_age)
{
	static const struct {
		const char *within[3];
		int64_t want;
	} cases[] = {
		{ { "15m", NULL }, 15 * 60000 },
		{ { "2s", "15m", "90s" }, 15 * 60000 },
		{ { "2s", "1500ms", NULL }, 2000 },
		{ { "90s", NULL }, 90000 },
		{ { "2h", "1d", NULL }, 24 * HOUR },
		{ { NULL }, 0 },
	};

	cr_expect_eq(pol_set_evidence_max_age(NULL), 0);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char yaml[4096];
		size_t n;
		struct pol_set *ps = NULL;
		struct ydoc_errs e = { 0 };
		struct pol_src src = { "p.yaml", yaml, 0 };

		n = (size_t)snprintf(yaml, sizeof(yaml), "apiVersion: corral.dev/v1\nkind: Policy\n"
		    "metadata: { name: p }\nspec:\n  rules:\n    - id: read\n      effect: allow\n"
		    "      principals: [\"*\"]\n      tool: prometheus\n"
		    "      operations: [canary_analyze]\n");
		for (int k = 0; k < 3 && cases[c].within[k]; k++)
			n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "    - id: r%d\n"
			    "      effect: allow\n      principals: [\"agent:a%d\"]\n"
			    "      tool: argocd\n      operations: [rollback_application]\n"
			    "      obligations:\n        evidence: { op: prometheus.canary_analyze, "
			    "match: { verdict: \"fail within 99m\" }, same: [app_name], within: %s }\n",
			    k, k, cases[c].within[k]);
		src.len = n;
		cr_assert_eq(pol_set_load_mem(&src, 1, NULL, &ps, &e), 0, "case %zu: %s", c,
		    e.n ? e.msg[0] : "-");
		cr_expect_eq(pol_set_evidence_max_age(ps), cases[c].want, "case %zu: %lld", c,
		    (long long)pol_set_evidence_max_age(ps));
		pol_set_free(ps);
		ydoc_errs_free(&e);
	}
}

/* ---------------------------------------------------------------- loading */

struct warns {
	char msg[16][600];
	size_t n;
};

static void
warn_cb(void *arg, const char *file, size_t line, const char *why)
{
	struct warns *w = arg;
	const char *base = strrchr(file, '/');

	if (w->n < 16)
		snprintf(w->msg[w->n++], sizeof(w->msg[0]), "%s:%zu: %s", base ? base + 1 : file,
		    line, why);
}

static bool
warned(const struct warns *w, const char *want)
{
	for (size_t i = 0; i < w->n; i++)
		if (strstr(w->msg[i], want))
			return true;
	return false;
}

/* Records the writer writes, through rotation: evidence in rotated files is found too, the
 * expired one is counted, and every entry carries its record's seq. */
Test(evidence, load_from_rotated_log)
{
	struct audit *a;
	struct ev_store *st;
	struct ev_load_stats ls;
	struct warns w = { 0 };
	char *live;
	int64_t now = now_ms();
	uint64_t seqs[6];
	json_t *fail = json_pack("{s:s}", "verdict", "fail");

	dir = fx_tmpdir();
	a = fx_open(dir, AUDIT_FSYNC_NONE, 0, 4096);
	for (int i = 0; i < 6; i++) {
		char app[16];
		json_t *r;

		snprintf(app, sizeof(app), "app-%d", i);
		r = verdict(app, "fail", 0, i == 0 ? now - 2 * HOUR : now - 1000, 1);
		fx_append(a, 8, "shop");
		cr_assert_eq(audit_append(a, r, &seqs[i]), 0);
		json_decref(r);
	}
	fx_append(a, 3, "shop");
	cr_assert_eq(audit_close(a), 0);
	live = fx_path(dir, "audit.jsonl");
	cr_assert_eq(ev_store_new(HOUR, &st), 0);
	cr_assert_eq(ev_store_load(st, live, fx_key, now, warn_cb, &w, &ls), 0);
	cr_expect_gt(ls.files, 2, "the log did not rotate (%zu files)", ls.files);
	cr_expect_eq(ls.loaded, 5);
	cr_expect_eq(ls.expired, 1);
	cr_expect_eq(ls.bad, 0, "%s", w.n ? w.msg[0] : "");
	for (int i = 1; i < 6; i++) {
		char app[16];
		json_t *appv;
		struct pol_evidence_query q;
		const struct ev_rec *e;

		snprintf(app, sizeof(app), "app-%d", i);
		appv = json_string(app);
		q = query(app, fail, appv, HOUR);
		e = ev_store_find(st, &q);
		cr_expect(e != NULL && e->seq == seqs[i], "%s: seq %llu, want %llu", app,
		    e ? (unsigned long long)e->seq : 0ULL, (unsigned long long)seqs[i]);
		json_decref(appv);
	}
	ev_store_free(st);
	/* a reader with another key loads nothing and says why */
	{
		uint8_t other[AUDIT_KEY_LEN] = { 9 };

		memset(&w, 0, sizeof(w));
		cr_assert_eq(ev_store_new(HOUR, &st), 0);
		cr_assert_eq(ev_store_load(st, live, other, now, warn_cb, &w, &ls), 0);
		cr_expect_eq(ls.loaded, 0);
		cr_expect_eq(ls.bad, 6, "the expired one is checked too");
		cr_expect(warned(&w, "does not verify under the audit key"), "%s", w.msg[0]);
		ev_store_free(st);
	}
	free(live);
	json_decref(fail);
}

/* One sealed line (the writer's format, without the chain: the loader does not walk it). */
static void
put_line(FILE *f, struct audit_mac *m, json_t *rec, int64_t seq, const char *time)
{
	char *s, *buf;
	size_t n;

	json_object_set_new(rec, "seq", json_integer(seq));
	json_object_set_new(rec, "time", json_string(time));
	s = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	n = strlen(s);
	buf = malloc(n + AUDIT_MAC_SUFFIX_LEN + 2);
	memcpy(buf, s, n + 1);
	n = audit_line_seal(m, buf, n);
	fwrite(buf, 1, n, f);
	fputc('\n', f);
	free(buf);
	free(s);
	json_decref(rec);
}

/* The walk back stops after the first file that starts before the max age; bad lines are
 * reported with file and line and skipped, the good ones around them load. */
Test(evidence, load_reports_bad_lines_and_stops_at_old_files)
{
	struct audit_mac *m;
	struct ev_store *st;
	struct ev_load_stats ls;
	struct warns w = { 0 };
	int64_t now = now_ms();
	char now_s[32], *p;
	FILE *f;
	json_t *r;
	static const struct {
		const char *what;	/* a line of the live file, after a good record */
		const char *want;	/* in the warning, NULL: not reported */
	} bad[] = {
		{ "{\"type\":\"evidence\",\"tenant\":\"shop\" broken", "not JSON" },
		{ "{\"args\":{\"note\":{\"type\":\"evidence\"}},\"seq\":40,\"type\":\"decision\"}",
		  NULL },
	};

	dir = fx_tmpdir();
	cr_assert_eq(audit_mac_new(fx_key, &m), 0);
	audit_time_format(now, now_s);
	/* oldest rotated file: never read, the one after it starts before the max age */
	p = fx_path(dir, "audit.00000000000000000001.jsonl");
	f = fopen(p, "w");
	put_line(f, m, verdict("old-file", "fail", 0, now - 1000, 1), 1, "2020-01-01T00:00:00.000Z");
	fclose(f);
	free(p);
	p = fx_path(dir, "audit.00000000000000000002.jsonl");
	f = fopen(p, "w");
	put_line(f, m, json_pack("{s:s}", "type", "lifecycle"), 2, "2020-01-01T00:00:00.000Z");
	put_line(f, m, verdict("in-old-file", "fail", 0, now - 1000, 2), 3, now_s);
	fclose(f);
	free(p);
	p = fx_path(dir, "audit.jsonl");
	f = fopen(p, "w");
	put_line(f, m, verdict("good", "fail", 0, now - 1000, 3), 4, now_s);	/* line 1 */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)		/* 2, 3 */
		fprintf(f, "%s\n", bad[i].what);
	/* line 4: altered after sealing */
	r = verdict("forged", "pass", 0, now - 1000, 4);
	{
		char *s, *buf, *v;
		size_t n;

		json_object_set_new(r, "seq", json_integer(5));
		s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
		n = strlen(s);
		buf = malloc(n + AUDIT_MAC_SUFFIX_LEN + 2);
		memcpy(buf, s, n + 1);
		n = audit_line_seal(m, buf, n);
		v = strstr(buf, "\"verdict\":\"pass\"");
		memcpy(v + 11, "fail", 4);
		fwrite(buf, 1, n, f);
		fputc('\n', f);
		free(buf);
		free(s);
		json_decref(r);
	}
	/* line 5: truncated by the writer's size cap */
	r = verdict("big", "fail", 0, now - 1000, 5);
	json_object_set_new(r, "result", json_pack("{s:b, s:i, s:s}", "truncated", 1, "bytes",
	    70000, "sha256", "00"));
	put_line(f, m, r, 6, now_s);
	put_line(f, m, verdict("good2", "fail", 0, now - 1000, 6), 7, now_s);	/* line 6 */
	fputs("{\"type\":\"evidence\",\"tenant\":\"sh", f);			/* 7, torn */
	fclose(f);

	cr_assert_eq(ev_store_new(HOUR, &st), 0);
	cr_assert_eq(ev_store_load(st, p, fx_key, now, warn_cb, &w, &ls), 0);
	cr_expect_eq(ls.files, 2, "the walk did not stop at the old file");
	cr_expect_eq(ls.loaded, 3, "good, good2, in-old-file");
	cr_expect_eq(ls.bad, 4, "broken, forged, truncated, torn");
	cr_expect(warned(&w, "audit.jsonl:2: evidence record is not JSON"), "%s", w.msg[0]);
	cr_expect(warned(&w, "audit.jsonl:4: seq 5: evidence record does not verify"));
	cr_expect(warned(&w, "audit.jsonl:5: seq 6: evidence record: result is not an object"));
	cr_expect(warned(&w, "audit.jsonl:7: torn line"));
	cr_expect_eq(w.n, 4);
	for (size_t i = 0; i < w.n; i++)
		cr_log_info("%s", w.msg[i]);
	{
		json_t *fail = json_pack("{s:s}", "verdict", "fail");
		static const char *const apps[] = { "good", "good2", "in-old-file", "old-file",
		    "forged", "big" };

		for (size_t i = 0; i < 6; i++) {
			json_t *appv = json_string(apps[i]);
			struct pol_evidence_query q = query(apps[i], fail, appv, HOUR);

			cr_expect_eq(ev_store_find(st, &q) != NULL, i < 3, "%s", apps[i]);
			json_decref(appv);
		}
		json_decref(fail);
	}
	ev_store_free(st);
	audit_mac_free(m);
	free(p);
}
