/* The audit writer's fast paths: records serialised in place must be the bytes jansson's
 * json_dumps(JSON_SORT_KEYS | JSON_COMPACT) gives for the same record (escapes, key order,
 * numbers, nesting, the writer's members merged in, wide/deep/oversized records through the
 * fallback); and BATCH mode with the sync thread (opts.sync_thread): group commit off the
 * caller's thread, durable_seq reached, rotation and close with the thread running, a log that
 * verifies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/audit.h"
#include "supervisor/auditcli.h"
#include "tests/supervisor/audit_fx.h"

TestSuite(audit_fast, .init = fx_dir_init, .fini = fx_dir_fini);

static json_t *
wide(const char *inner_key, int n)
{
	json_t *o = json_pack("{s:s}", "type", "control"), *in = o;
	char k[16];

	if (inner_key != NULL) {
		in = json_object();
		json_object_set_new(o, inner_key, in);
	}
	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "k%03d", n - 1 - i);
		json_object_set_new(in, k, json_integer(i));
	}
	return o;
}

static json_t *
deep(int levels)
{
	json_t *o = json_pack("{s:s}", "type", "control"), *cur = json_array();

	json_object_set_new(o, "deep", cur);
	for (int i = 0; i < levels; i++) {
		json_t *x = json_pack("{s:i, s:i}", "z", i, "a", -i), *next = json_array();

		json_array_append_new(cur, x);
		json_object_set_new(x, "n", next);
		cur = next;
	}
	return o;
}

static json_t *
big(void)
{
	size_t n = LIM_AUDIT_RECORD_MAX + 100;
	char *s = malloc(n + 1);
	json_t *o;

	memset(s, 'x', n);
	s[n] = '\0';
	o = json_pack("{s:s, s:s, s:s}", "type", "outcome", "result", s, "call_id", "c-1");
	free(s);
	return o;
}

Test(audit_fast, lines_are_janssons_bytes)
{
	static const char *const texts[] = {
		"{\"type\":\"decision\",\"a\":1}",
		"{\"type\":\"decision\",\"seq\":5,\"mac\":\"x\",\"time\":3,\"prev\":null,"
		    "\"zz\":[1,2.5,-3,1e300,0.1,true,false,null,{},[]]}",
		"{\"type\":\"outcome\",\"s\":\"q\\\"uo\\\\te\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f/"
		    "\\u00e9\\u20ac\\ud83d\\ude00\"}",
		"{\"type\":\"outcome\",\"k\\u00e9\":{\"b\":1,\"a\":{\"c\":[{\"y\":1,\"x\":2}]},"
		    "\"ab\":0,\"a\":\"dup\"},\"A\":-9223372036854775808,\"B\":9223372036854775807}",
		"{\"type\":\"evidence\",\"prev2\":1,\"se\":2,\"seqq\":3,\"tim\":4,\"timez\":5,"
		    "\"\":6,\"Z\":7,\"_\":8}",
		"{\"type\":\"approval\",\"args\":{\"x\":\"\\u001b[31m\\u0000\"}}",
	};
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_NONE, 1000, 0);
	char *path = fx_path(fx_dir, "audit.jsonl"), *buf;
	json_t *more[] = { wide(NULL, 100), wide("inner", 100), deep(50), big() };
	size_t n = sizeof(texts) / sizeof(texts[0]), lines;

	for (size_t i = 0; i < n; i++) {
		json_error_t e;
		json_t *r = json_loads(texts[i], JSON_ALLOW_NUL, &e);

		cr_assert_not_null(r, "%zu: %s", i, e.text);
		cr_assert_eq(audit_append(a, r, NULL), 0, "record %zu", i);
		json_decref(r);
	}
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(audit_append(a, more[i], NULL), 0, "record %zu", n + i);
		json_decref(more[i]);
	}
	cr_assert_eq(audit_close(a), 0);
	buf = fx_read(path, NULL);
	lines = fx_count_lines(buf);
	cr_assert_eq(lines, n + 4 + 1, "records and the closing checkpoint");
	for (int i = 1; i <= (int)lines; i++) {
		size_t len;
		char *l = fx_line(buf, i, &len), *body, *ref;
		json_t *j;

		cr_assert_gt(len, AUDIT_MAC_SUFFIX_LEN);
		body = strndup(l, len - AUDIT_MAC_SUFFIX_LEN + 1);
		body[len - AUDIT_MAC_SUFFIX_LEN] = '}';
		j = json_loads(body, JSON_ALLOW_NUL, NULL);
		cr_assert_not_null(j, "line %d parses", i);
		ref = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
		cr_assert_str_eq(body, ref, "line %d", i);
		cr_assert_eq(json_integer_value(json_object_get(j, "seq")), i);
		if (i == 2) {
			cr_assert_not_null(json_object_get(j, "zz"), "the caller's members are kept");
			cr_assert(json_is_string(json_object_get(j, "time")) &&
			    json_is_string(json_object_get(j, "prev")), "the caller's time and prev "
			    "were replaced");
		}
		free(ref);
		free(body);
		json_decref(j);
	}
	cr_assert_not_null(strstr(buf, "\"result\":{\"bytes\":"), "the oversized member was "
	    "replaced by its digest");
	free(buf);
	free(path);
}

Test(audit_fast, lines_verify)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_BATCH, 7, 0);
	char *kf = fx_keyfile(fx_dir), *out;
	json_t *w = wide("inner", 80), *d = deep(40), *b = big();

	fx_append(a, 20, "payments");
	cr_assert_eq(audit_append(a, w, NULL), 0);
	cr_assert_eq(audit_append(a, d, NULL), 0);
	cr_assert_eq(audit_append(a, b, NULL), 0);
	fx_append(a, 5, "payments");
	cr_assert_eq(audit_close(a), 0);
	out = fx_verify_ok(kf, fx_dir);
	cr_assert_not_null(strstr(out, "macs OK"), "%s", out);
	free(out);
	free(kf);
	json_decref(w);
	json_decref(d);
	json_decref(b);
}

static void
wait_durable(struct audit *a, uint64_t seq)
{
	for (int i = 0; i < 400 && audit_durable_seq(a) < seq; i++)
		usleep(5000);
	cr_assert_geq(audit_durable_seq(a), seq, "durable %lu, want %lu",
	    (unsigned long)audit_durable_seq(a), (unsigned long)seq);
}

Test(audit_fast, sync_thread_group_commit)
{
	struct audit_opts o = { .key = fx_key, .fsync = AUDIT_FSYNC_BATCH, .batch_max = 4,
		.batch_ms = 50, .ckpt_records = 1000, .syslog_path = "", .sync_thread = true,
		.rotate_bytes = 3000 };
	struct audit *a = NULL;
	struct audit_stats st;
	char *kf = fx_keyfile(fx_dir), *out;
	int64_t dl;

	o.path = fx_path(fx_dir, "audit.jsonl");
	cr_assert_eq(audit_open(&o, &a, NULL, 0), 0);
	fx_append(a, 3, "t");
	cr_assert_eq(audit_seq(a), 3);
	usleep(20000);
	cr_assert_eq(audit_durable_seq(a), 0, "below batch_max and before the deadline: no sync");
	dl = audit_next_deadline(a);
	cr_assert_gt(dl, 0);
	cr_assert_eq(audit_tick(a, (uint64_t)dl), 0);
	cr_assert_eq(audit_next_deadline(a) < 0 || audit_next_deadline(a) > dl, 1,
	    "the batch was handed over");
	wait_durable(a, 3);
	fx_append(a, 4, "t");
	wait_durable(a, 7);
	/* rotation (3000 bytes) while the thread syncs batches */
	for (int i = 0; i < 10; i++) {
		fx_append(a, 4, "t");
		usleep(1000);
	}
	audit_stats(a, &st);
	cr_assert_geq(st.rotations, 2, "rotations %lu", (unsigned long)st.rotations);
	if ((dl = audit_next_deadline(a)) > 0)
		cr_assert_eq(audit_tick(a, (uint64_t)dl + 60000), 0);
	wait_durable(a, audit_seq(a));
	audit_stats(a, &st);
	cr_assert_geq(st.syncs, 3, "syncs %lu", (unsigned long)st.syncs);
	cr_assert(audit_healthy(a));
	fx_append(a, 1, "t");
	cr_assert_eq(audit_flush(a), 0);
	cr_assert_eq(audit_durable_seq(a), audit_seq(a), "flush syncs on the caller's thread");
	cr_assert_eq(audit_close(a), 0);
	out = fx_verify_ok(kf, fx_dir);
	free(out);
	free(kf);
	free((char *)o.path);
}

/* sync_thread is a BATCH option: EVERY still syncs before audit_append() returns. */
Test(audit_fast, sync_thread_ignored_in_every_mode)
{
	struct audit_opts o = { .key = fx_key, .fsync = AUDIT_FSYNC_EVERY, .ckpt_records = 1000,
		.syslog_path = "", .sync_thread = true };
	struct audit *a = NULL;

	o.path = fx_path(fx_dir, "audit.jsonl");
	cr_assert_eq(audit_open(&o, &a, NULL, 0), 0);
	for (int i = 1; i <= 3; i++) {
		fx_append(a, 1, "t");
		cr_assert_eq(audit_durable_seq(a), (uint64_t)i);
	}
	cr_assert_eq(audit_close(a), 0);
	free((char *)o.path);
}
