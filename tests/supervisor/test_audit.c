/* The audit log: format, chain, MAC, tamper detection by `audit verify`, rotation, reopen,
 * recovery, fsync modes, checkpoints to syslog, ENOSPC, redaction. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* OpenSSL's types.h typedefs ERR_STATE, which ipc/err.h also names (an error code): rename
 * ours for this file. */
#define ERR_STATE CORRAL_ERR_STATE
#include "ipc/err.h"
#undef ERR_STATE
#include "ipc/limits.h"
#include "supervisor/audit.h"
#include "supervisor/auditcli.h"
#include "supervisor/cred.h"
#include "tests/supervisor/audit_fx.h"

TestSuite(audit, .init = fx_dir_init, .fini = fx_dir_fini);

static void
hexs(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* The format, checked with OpenSSL's one-shot HMAC and SHA-256 rather than our code:
 * mac = HMAC(key, bytes before ,"mac":), prev = SHA-256(previous line), seq from 1, sorted
 * keys, the first prev all zeros. */
Test(audit, line_format_is_the_documented_one)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_EVERY, 1000, 0);
	char *path = fx_path(fx_dir, "audit.jsonl"), *buf, *l;
	char want[65], got[65], prevhex[65];
	uint8_t d[32];
	unsigned dl = 32;
	size_t len;

	fx_append(a, 3, "payments");
	buf = fx_read(path, NULL);
	memset(prevhex, '0', 64);
	prevhex[64] = '\0';
	for (int i = 1; i <= 3; i++) {
		char *m, seqs[32];
		json_t *j;

		l = fx_line(buf, i, &len);
		cr_assert_not_null(l);
		m = strstr(l, ",\"mac\":\"");
		cr_assert_not_null(m);
		cr_assert_eq((size_t)(m - l) + 8 + 64 + 2, len, "mac is the last member");
		HMAC(EVP_sha256(), fx_key, sizeof(fx_key), (uint8_t *)l, (size_t)(m - l), d, &dl);
		hexs(d, 32, want);
		memcpy(got, m + 8, 64);
		got[64] = '\0';
		cr_assert_str_eq(got, want);
		j = json_loadb(l, len, JSON_REJECT_DUPLICATES, NULL);
		cr_assert_not_null(j);
		cr_assert_eq(json_integer_value(json_object_get(j, "seq")), i);
		cr_assert_str_eq(json_string_value(json_object_get(j, "prev")), prevhex);
		cr_assert_str_eq(json_string_value(json_object_get(j, "type")), "decision");
		cr_assert_str_eq(json_string_value(json_object_get(j, "tenant")), "payments");
		cr_assert_eq(json_array_size(json_object_get(j, "rule_ids")), 2);
		cr_assert_eq(strlen(json_string_value(json_object_get(j, "time"))), 24);
		/* sorted keys: "args" comes first, "type" last before mac */
		cr_assert(strncmp(l, "{\"args\":", 8) == 0, "%.*s", (int)len, l);
		snprintf(seqs, sizeof(seqs), ",\"seq\":%d,", i);
		cr_assert_not_null(strstr(l, seqs));
		EVP_Digest(l, len, d, NULL, EVP_sha256(), NULL);
		hexs(d, 32, prevhex);
		json_decref(j);
	}
	audit_close(a);
	free(buf);
	free(path);
}

Test(audit, rejects_unknown_and_reserved_types)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_NONE, 1000, 0);
	json_t *bad = json_pack("{s:s}", "type", "bogus"), *ck = json_pack("{s:s}", "type",
	    "checkpoint"), *none = json_pack("{s:s}", "tenant", "x");

	cr_assert_eq(audit_append(a, bad, NULL), ERR_SCHEMA);
	cr_assert_eq(audit_append(a, ck, NULL), ERR_SCHEMA);
	cr_assert_eq(audit_append(a, none, NULL), ERR_SCHEMA);
	cr_assert_eq(audit_seq(a), 0);
	cr_assert(audit_healthy(a));
	json_decref(bad);
	json_decref(ck);
	json_decref(none);
	audit_close(a);
}

Test(audit, caller_fields_cannot_forge_seq_prev_or_mac)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_NONE, 1000, 0);
	json_t *rec = json_pack("{s:s, s:i, s:s, s:s}", "type", "lifecycle", "seq", 99, "prev",
	    "x", "mac", "y");
	char *path = fx_path(fx_dir, "audit.jsonl"), *out, *kf = fx_keyfile(fx_dir);
	uint64_t seq;

	cr_assert_eq(audit_append(a, rec, &seq), 0);
	cr_assert_eq(seq, 1);
	cr_assert_eq(json_integer_value(json_object_get(rec, "seq")), 99, "caller's rec untouched");
	audit_close(a);
	out = fx_verify_ok(kf, path);
	free(out);
	free(kf);
	free(path);
	json_decref(rec);
}

/* --- tampering, detected by verify --- */

/* 10 decision records and the checkpoint written at close (seq 11). */
static char *
make_log(char **kf)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_NONE, 1000, 0);

	fx_append(a, 10, "payments");
	cr_assert_eq(audit_close(a), 0);
	*kf = fx_keyfile(fx_dir);
	return fx_path(fx_dir, "audit.jsonl");
}

/* A value byte of `field` in line `no`, changed to another valid character of its kind. */
static void
flip_field(char *buf, int no, const char *field)
{
	size_t len;
	char *l = fx_line(buf, no, &len), key[32], *p, c;

	snprintf(key, sizeof(key), "\"%s\":", field);
	p = memmem(l, len, key, strlen(key));
	cr_assert_not_null(p, "field %s", field);
	p += strlen(key);
	if (*p == '"' || *p == '{' || *p == '[')
		p++;
	if (*p == '"')		/* object: first key's first char */
		p++;
	c = *p;
	if (c >= '0' && c <= '9')
		*p = c == '9' ? '0' : (char)(c + 1);
	else if (c >= 'a' && c <= 'f')
		*p = c == 'f' ? 'a' : (char)(c + 1);
	else
		*p = (char)(c ^ 0x20);
}

struct flip_case {
	char field[16];
};

ParameterizedTestParameters(audit, flipped_byte_in_each_field)
{
	static struct flip_case cases[] = {
		{ "args" }, { "decision" }, { "op" }, { "policy_hash" }, { "prev" },
		{ "principal" }, { "rule_ids" }, { "seq" }, { "tenant" }, { "time" },
		{ "tool" }, { "type" }, { "mac" },
	};

	return cr_make_param_array(struct flip_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct flip_case *fc, audit, flipped_byte_in_each_field)
{
	char *kf, *path = make_log(&kf), *buf, *out, *err, want[600];
	size_t len;
	int r;

	buf = fx_read(path, &len);
	flip_field(buf, 5, fc->field);
	fx_write(path, buf, len, 0600);
	r = fx_cli(auditcli_verify, &out, &err, "verify", "--key", kf, path, NULL);
	cr_assert_eq(r, 1, "field %s: %s%s", fc->field, out, err);
	snprintf(want, sizeof(want), "%s:5: ", path);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "field %s: %s", fc->field, err);
	cr_assert_not_null(strstr(err, "mac mismatch"), "field %s: %s", fc->field, err);
	free(out);
	free(err);
	free(buf);
	free(kf);
	free(path);
}

struct tamper_case {
	char name[40];
	int kind;		/* 0 flip w/o key, 1 delete line 5, 2 swap 5/6, 3 cut 3 last
				 * lines, 4 torn last line, 5 delete line 1, 6 dup line 5 */
	bool key;
	char where[16];		/* expected prefix after "<path>" */
	char what[32];
};

static void
apply_tamper(int kind, char *buf, size_t *len)
{
	size_t l5, l6, l1;
	char *p5 = fx_line(buf, 5, &l5), *p6 = fx_line(buf, 6, &l6), *p1 = fx_line(buf, 1, &l1);
	char *tmp;

	switch (kind) {
	case 0:
		flip_field(buf, 5, "tenant");
		break;
	case 1:
		memmove(p5, p6, *len - (size_t)(p6 - buf));
		*len -= l5 + 1;
		break;
	case 2:
		tmp = malloc(l5 + l6 + 2);
		memcpy(tmp, p6, l6);
		tmp[l6] = '\n';
		memcpy(tmp + l6 + 1, p5, l5);
		tmp[l6 + 1 + l5] = '\n';
		memcpy(p5, tmp, l5 + l6 + 2);
		free(tmp);
		break;
	case 3:
		for (int i = 0; i < 3; i++) {
			buf[*len - 1] = '\0';
			*len = (size_t)(strrchr(buf, '\n') - buf) + 1;
		}
		break;
	case 4:
		*len -= 10;
		break;
	case 5:
		memmove(p1, p1 + l1 + 1, *len - l1 - 1);
		*len -= l1 + 1;
		break;
	case 6:
		tmp = malloc(*len + l5 + 1);
		memcpy(tmp, buf, (size_t)(p6 - buf));
		memcpy(tmp + (p6 - buf), p5, l5 + 1);
		memcpy(tmp + (p6 - buf) + l5 + 1, p6, *len - (size_t)(p6 - buf));
		*len += l5 + 1;
		memcpy(buf, tmp, *len);
		free(tmp);
		break;
	}
}

ParameterizedTestParameters(audit, tampering_is_found)
{
	static struct tamper_case cases[] = {
		{ "flip without key: chain", 0, false, ":6: seq 6: ", "chain break" },
		{ "deleted record", 1, true, ":5: seq 6: ", "seq gap: expected 5" },
		{ "swapped pair", 2, true, ":5: seq 6: ", "seq gap: expected 5" },
		{ "truncated tail vs checkpoint", 3, true, ": seq 9: ", "truncated tail" },
		{ "torn last line", 4, true, ":11: ", "torn record" },
		{ "first record deleted", 5, true, ":1: seq 2: ", "does not start at seq 1" },
		{ "duplicated record", 6, true, ":6: seq 5: ", "out of order or repeated" },
		{ "truncated tail, no key", 3, false, ": seq 9: ", "truncated tail" },
	};

	return cr_make_param_array(struct tamper_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct tamper_case *tc, audit, tampering_is_found)
{
	char *kf, *path = make_log(&kf), *out, *err, want[600];
	size_t len;
	char *buf = fx_read(path, &len);
	int r;

	buf = realloc(buf, 2 * len + 1);
	apply_tamper(tc->kind, buf, &len);
	fx_write(path, buf, len, 0600);
	if (tc->key)
		r = fx_cli(auditcli_verify, &out, &err, "verify", "--key", kf, path, NULL);
	else
		r = fx_cli(auditcli_verify, &out, &err, "verify", path, NULL);
	cr_assert_eq(r, 1, "%s: %s%s", tc->name, out, err);
	snprintf(want, sizeof(want), "%s%s", path, tc->where);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "%s: want %s, got %s", tc->name, want,
	    err);
	cr_assert_not_null(strstr(err, tc->what), "%s: %s", tc->name, err);
	free(out);
	free(err);
	free(buf);
	free(kf);
	free(path);
}

/* The checkpoint is what catches a clean cut: without it, the same cut log verifies. */
Test(audit, truncation_needs_the_checkpoint)
{
	char *kf, *path = make_log(&kf), *out, *err;
	size_t len;
	char *buf = fx_read(path, &len);

	apply_tamper(3, buf, &len);
	fx_write(path, buf, len, 0600);
	cr_assert_eq(fx_cli(auditcli_verify, &out, &err, "verify", "--key", kf, "--no-checkpoint",
	    path, NULL), 0, "%s", err);
	cr_assert_not_null(strstr(out, "seq 1..8"), "%s", out);
	free(out);
	free(err);
	free(buf);
	free(kf);
	free(path);
}

Test(audit, intact_log_verifies_with_summary)
{
	char *kf, *path = make_log(&kf), *out;

	out = fx_verify_ok(kf, path);
	cr_assert_str_eq(out, "OK: 11 records in 1 files, seq 1..11, chain OK, macs OK, "
	    "last checkpoint seq 11 OK\n");
	free(out);
	free(kf);
	free(path);
}

Test(audit, wrong_key_fails)
{
	char *kf, *path = make_log(&kf), *out, *err;
	char *other = fx_path(fx_dir, "other.key");

	fx_write(other, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n", 65,
	    0600);
	/* the checkpoint file is checked first, under the same key */
	cr_assert_eq(fx_cli(auditcli_verify, &out, &err, "verify", "--key", other, path, NULL), 1);
	cr_assert_not_null(strstr(err, "checkpoint mac mismatch"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(fx_cli(auditcli_verify, &out, &err, "verify", "--key", other,
	    "--no-checkpoint", path, NULL), 1);
	cr_assert_not_null(strstr(err, ":1: seq 1: mac mismatch"), "%s", err);
	free(out);
	free(err);
	free(other);
	free(kf);
	free(path);
}

/* --- rotation, reopen, recovery --- */

Test(audit, rotation_keeps_the_chain_across_files)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_BATCH, 1000, 2000);
	struct audit_stats st;
	char *kf = fx_keyfile(fx_dir), *out, *err, *live = fx_path(fx_dir, "audit.jsonl");
	char *f1 = fx_path(fx_dir, "audit.00000000000000000001.jsonl");
	int n = 0;

	fx_append(a, 40, "payments");
	audit_stats(a, &st);
	cr_assert_geq(st.rotations, 3, "rotations %lu", (unsigned long)st.rotations);
	cr_assert_eq(audit_close(a), 0);
	cr_assert_eq(access(f1, F_OK), 0);
	for (char *buf = fx_read(f1, NULL); buf; free(buf), buf = NULL) {
		size_t len;
		char *last = fx_line(buf, (int)fx_count_lines(buf), &len);

		cr_assert_not_null(strstr(last, "\"type\":\"checkpoint\""), "rotated file ends "
		    "with a checkpoint");
	}
	/* the directory: every file, put in chain order */
	out = fx_verify_ok(kf, fx_dir);
	cr_assert(sscanf(out, "OK: %*d records in %d files", &n) == 1, "%s", out);
	cr_assert_geq(n, 4, "%s", out);
	free(out);
	/* only the live file: refused unless --partial */
	cr_assert_eq(fx_cli(auditcli_verify, &out, &err, "verify", "--key", kf, live, NULL), 1);
	cr_assert_not_null(strstr(err, "does not start at seq 1"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(fx_cli(auditcli_verify, &out, &err, "verify", "--key", kf, "--partial",
	    live, NULL), 0, "%s", err);
	cr_assert_not_null(strstr(out, "chain starts at seq"), "%s", out);
	free(out);
	free(err);
	/* a rotated file missing from the middle breaks it */
	cr_assert_eq(unlink(f1) == 0 && access(f1, F_OK) != 0, 1);
	cr_assert_eq(fx_cli(auditcli_verify, &out, &err, "verify", "--key", kf, "--partial", fx_dir,
	    NULL), 0, "the oldest file gone is a partial log: %s", err);
	free(out);
	free(err);
	free(f1);
	free(live);
	free(kf);
}

Test(audit, middle_rotated_file_missing_is_a_gap)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_NONE, 1000, 2000);
	char *kf = fx_keyfile(fx_dir), *out, *err, **names = NULL;
	struct dirent **de;
	int n, nrot = 0;

	fx_append(a, 40, "payments");
	cr_assert_eq(audit_close(a), 0);
	n = scandir(fx_dir, &de, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (strlen(de[i]->d_name) == 32 && strstr(de[i]->d_name, ".jsonl")) {
			names = realloc(names, (size_t)(nrot + 1) * sizeof(*names));
			names[nrot++] = fx_path(fx_dir, de[i]->d_name);
		}
		free(de[i]);
	}
	free(de);
	cr_assert_geq(nrot, 3);
	unlink(names[1]);
	cr_assert_eq(fx_cli(auditcli_verify, &out, &err, "verify", "--key", kf, fx_dir, NULL), 1);
	cr_assert_not_null(strstr(err, "seq gap"), "%s", err);
	free(out);
	free(err);
	for (int i = 0; i < nrot; i++)
		free(names[i]);
	free(names);
	free(kf);
}

Test(audit, reopen_continues_seq_and_chain)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_EVERY, 1000, 0);
	char *kf = fx_keyfile(fx_dir), *out, *path = fx_path(fx_dir, "audit.jsonl");

	fx_append(a, 5, "t1");
	cr_assert_eq(audit_close(a), 0);	/* + checkpoint: seq 6 */
	a = fx_open(fx_dir, AUDIT_FSYNC_EVERY, 1000, 0);
	cr_assert_eq(audit_seq(a), 6);
	cr_assert_eq(audit_durable_seq(a), 6);
	fx_append(a, 5, "t2");
	cr_assert_eq(audit_seq(a), 11);
	cr_assert_eq(audit_close(a), 0);
	out = fx_verify_ok(kf, path);
	cr_assert_not_null(strstr(out, "seq 1..12"), "%s", out);
	free(out);
	free(kf);
	free(path);
}

Test(audit, second_writer_is_refused)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_NONE, 1000, 0), *b = NULL;
	struct audit_opts o = { .key = fx_key, .syslog_path = "" };
	char err[256];

	o.path = fx_path(fx_dir, "audit.jsonl");
	cr_assert_eq(audit_open(&o, &b, err, sizeof(err)), -EBUSY);
	cr_assert_not_null(strstr(err, "in use"), "%s", err);
	audit_close(a);
	cr_assert_eq(audit_open(&o, &b, err, sizeof(err)), 0, "%s", err);
	audit_close(b);
	free((char *)o.path);
}

Test(audit, torn_tail_is_moved_aside_and_reported)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_EVERY, 1000, 0);
	char *kf = fx_keyfile(fx_dir), *out, *path = fx_path(fx_dir, "audit.jsonl"), *buf;
	const char torn[] = "{\"args\":{\"app_name\":\"half-writ";
	struct dirent **de;
	size_t len, l;
	int n, found = 0;
	FILE *f;

	fx_append(a, 3, "t");
	cr_assert_eq(audit_close(a), 0);	/* seq 4 = checkpoint */
	f = fopen(path, "a");
	fputs(torn, f);
	fclose(f);
	a = fx_open(fx_dir, AUDIT_FSYNC_EVERY, 1000, 0);
	cr_assert_eq(audit_seq(a), 5, "recovery record written at open");
	fx_append(a, 1, "t");
	cr_assert_eq(audit_close(a), 0);
	buf = fx_read(path, &len);
	cr_assert_not_null(strstr(fx_line(buf, 5, &l), "\"event\":\"torn_tail\""));
	cr_assert_null(strstr(buf, "half-writ"));
	free(buf);
	n = scandir(fx_dir, &de, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (strncmp(de[i]->d_name, "audit.torn-", 11) == 0) {
			char *p = fx_path(fx_dir, de[i]->d_name), *t = fx_read(p, &len);

			cr_assert_eq(len, sizeof(torn) - 1);
			cr_assert_eq(memcmp(t, torn, len), 0, "torn bytes kept byte for byte");
			found++;
			free(t);
			free(p);
		}
		free(de[i]);
	}
	free(de);
	cr_assert_eq(found, 1);
	out = fx_verify_ok(kf, path);
	cr_assert_not_null(strstr(out, "1 recovery events"), "%s", out);
	free(out);
	free(kf);
	free(path);
}

struct refuse_case {
	char name[32];
	int kind;		/* 0 flip last record, 1 cut 2 lines, 2 flip checkpoint file */
	char msg[40];
};

ParameterizedTestParameters(audit, open_refuses_a_tampered_log)
{
	static struct refuse_case cases[] = {
		{ "last record altered", 0, "last record does not verify" },
		{ "records cut off", 1, "but the checkpoint names seq 11" },
		{ "checkpoint altered", 2, "does not verify under the key" },
	};

	return cr_make_param_array(struct refuse_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct refuse_case *rc, audit, open_refuses_a_tampered_log)
{
	char *kf, *path = make_log(&kf), *ck = fx_path(fx_dir, "audit.checkpoint");
	struct audit_opts o = { .key = fx_key, .syslog_path = "", .path = path };
	struct audit *a = NULL;
	char err[512] = "";
	size_t len;
	char *buf;

	if (rc->kind == 2) {
		buf = fx_read(ck, &len);
		flip_field(buf, 1, "seq");
		fx_write(ck, buf, len, 0600);
	} else {
		buf = fx_read(path, &len);
		if (rc->kind == 0)
			flip_field(buf, 11, "time");
		else
			for (int i = 0; i < 2; i++) {
				buf[len - 1] = '\0';
				len = (size_t)(strrchr(buf, '\n') - buf) + 1;
			}
		fx_write(path, buf, len, 0600);
	}
	cr_assert_eq(audit_open(&o, &a, err, sizeof(err)), ERR_AUDIT, "%s", rc->name);
	cr_assert_not_null(strstr(err, rc->msg), "%s: %s", rc->name, err);
	free(buf);
	free(ck);
	free(kf);
	free(path);
}

/* --- fsync modes --- */

Test(audit, batch_mode_is_group_commit)
{
	struct audit_opts o = { .key = fx_key, .fsync = AUDIT_FSYNC_BATCH, .batch_max = 4,
		.batch_ms = 50, .ckpt_records = 1000, .syslog_path = "" };
	struct audit *a = NULL;
	struct audit_stats st;
	int64_t dl;

	o.path = fx_path(fx_dir, "audit.jsonl");
	cr_assert_eq(audit_open(&o, &a, NULL, 0), 0);
	fx_append(a, 3, "t");
	cr_assert_eq(audit_seq(a), 3);
	cr_assert_eq(audit_durable_seq(a), 0, "written, not yet synced");
	dl = audit_next_deadline(a);
	cr_assert_gt(dl, 0);
	cr_assert_leq((uint64_t)dl, audit_now_ms() + 50);
	cr_assert_eq(audit_tick(a, (uint64_t)dl - 1), 0);
	cr_assert_eq(audit_durable_seq(a), 0, "before the deadline nothing happens");
	cr_assert_eq(audit_tick(a, (uint64_t)dl), 0);
	cr_assert_eq(audit_durable_seq(a), 3, "the deadline syncs the batch");
	fx_append(a, 4, "t");
	cr_assert_eq(audit_durable_seq(a), 7, "batch_max records sync at once");
	audit_stats(a, &st);
	cr_assert_eq(st.syncs, 2);
	fx_append(a, 1, "t");
	cr_assert_eq(audit_flush(a), 0);
	cr_assert_eq(audit_durable_seq(a), 8);
	audit_close(a);
	free((char *)o.path);
}

Test(audit, every_and_none_modes)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_EVERY, 1000, 0);
	struct audit_stats st;

	fx_append(a, 3, "t");
	cr_assert_eq(audit_durable_seq(a), 3);
	audit_stats(a, &st);
	cr_assert_eq(st.syncs, 3);
	audit_close(a);
	fx_rmrf(fx_dir);
	cr_assert_eq(mkdir(fx_dir, 0700), 0);
	a = fx_open(fx_dir, AUDIT_FSYNC_NONE, 1000, 0);
	fx_append(a, 3, "t");
	cr_assert_eq(audit_durable_seq(a), 0);
	cr_assert_eq(audit_next_deadline(a) > 0, 1, "the timed checkpoint is pending");
	audit_stats(a, &st);
	cr_assert_eq(st.syncs, 0);
	audit_close(a);
}

/* --- checkpoints: file, syslog anchor --- */

Test(audit, checkpoints_go_to_file_and_syslog)
{
	struct audit_opts o = { .key = fx_key, .fsync = AUDIT_FSYNC_NONE, .ckpt_records = 3,
		.ckpt_min_ms = -1 };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *sock = fx_path(fx_dir, "log.sock"), *kf = fx_keyfile(fx_dir), msg[1024], hash[65];
	char *out, *err, *buf, anchor[100], want[120];
	struct pollfd pfd;
	struct audit *a = NULL;
	uint8_t d[32];
	size_t len;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	strcpy(sun.sun_path, sock);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	o.syslog_path = sock;
	o.path = fx_path(fx_dir, "audit.jsonl");
	cr_assert_eq(audit_open(&o, &a, NULL, 0), 0);
	fx_append(a, 3, "t");			/* seq 4 is the checkpoint */
	cr_assert_eq(audit_seq(a), 4);
	cr_assert_eq(audit_durable_seq(a), 4, "a checkpoint syncs first");
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, 2000), 1);
	n = recv(fd, msg, sizeof(msg) - 1, 0);
	cr_assert_gt(n, 0);
	msg[n] = '\0';
	buf = fx_read(o.path, NULL);
	{
		char *l = fx_line(buf, 4, &len);

		cr_assert_not_null(strstr(l, "\"type\":\"checkpoint\""));
		EVP_Digest(l, len, d, NULL, EVP_sha256(), NULL);
		hexs(d, 32, hash);
	}
	snprintf(want, sizeof(want), "checkpoint seq=4 hash=%s ", hash);
	cr_assert(strncmp(msg, "<85>", 4) == 0, "authpriv.notice: %s", msg);
	cr_assert_not_null(strstr(msg, " corral-audit["), "%s", msg);
	cr_assert_not_null(strstr(msg, want), "%s", msg);
	audit_close(a);
	/* the syslog copy works as an anchor when the checkpoint file is gone too */
	snprintf(anchor, sizeof(anchor), "4:%s", hash);
	cr_assert_eq(fx_count_lines(buf), 4, "nothing after the checkpoint: close adds none");
	buf[strlen(buf) - 1] = '\0';
	*strrchr(buf, '\n') = '\0';		/* drop seq 4, the checkpoint */
	strcat(buf, "\n");
	fx_write(o.path, buf, strlen(buf), 0600);
	cr_assert_eq(fx_cli(auditcli_verify, &out, &err, "verify", "--key", kf, "--no-checkpoint",
	    "--anchor", anchor, o.path, NULL), 1);
	cr_assert_not_null(strstr(err, "truncated tail"), "%s", err);
	free(out);
	free(err);
	free(buf);
	close(fd);
	free(sock);
	free(kf);
	free((char *)o.path);
}

/* --- write failure: ENOSPC on a small tmpfs in a private mount namespace --- */

static json_t *
big_rec(int i)
{
	char pad[900];

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	return json_pack("{s:s, s:s, s:{s:s, s:i}}", "type", "decision", "tenant", "t", "args",
	    "pad", pad, "i", i);
}

Test(audit, full_disk_fails_closed_then_recovers)
{
	char *mnt = fx_path(fx_dir, "mnt"), *ballast, *path, *kf, *out, *buf;
	struct audit_stats st;
	struct audit *a;
	json_t *rec;
	int r = 0, i, appended = 0;
	size_t len;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		cr_skip_test("no mount namespace: %s", strerror(errno));
	cr_assert_eq(mkdir(mnt, 0700), 0);
	cr_assert_eq(mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0700"), 0, "%s",
	    strerror(errno));
	ballast = fx_path(mnt, "ballast");
	buf = calloc(1, 16384);
	fx_write(ballast, buf, 16384, 0600);
	free(buf);
	a = fx_open(mnt, AUDIT_FSYNC_EVERY, 100000, 0);
	for (i = 0; i < 1000 && r == 0; i++) {
		rec = big_rec(i);
		r = audit_append(a, rec, NULL);
		appended += r == 0;
		json_decref(rec);
	}
	cr_assert_eq(r, ERR_AUDIT, "the disk filled up");
	cr_assert_gt(appended, 10);
	cr_assert_not(audit_healthy(a));
	audit_stats(a, &st);
	cr_assert_eq(st.last_error, -ENOSPC);
	rec = big_rec(-1);
	cr_assert_eq(audit_append(a, rec, NULL), ERR_AUDIT, "still full: still refused");
	cr_assert_eq(audit_seq(a), (uint64_t)appended, "seq %lu appended %d",
	    (unsigned long)audit_seq(a), appended);
	path = fx_path(mnt, "audit.jsonl");
	buf = fx_read(path, &len);
	cr_assert_eq(buf[len - 1], '\n', "no half-written record left in the file");
	cr_assert_eq(fx_count_lines(buf), (size_t)appended);
	free(buf);
	/* space comes back: the next append works and says what was lost */
	cr_assert_eq(unlink(ballast), 0);
	cr_assert_eq(audit_append(a, rec, NULL), 0);
	cr_assert(audit_healthy(a));
	cr_assert_eq(audit_seq(a), (uint64_t)appended + 2);
	buf = fx_read(path, &len);
	{
		char *l = fx_line(buf, appended + 1, &len);

		cr_assert_not_null(strstr(l, "\"event\":\"write_resumed\""), "%.*s", (int)len, l);
		cr_assert_not_null(strstr(l, "\"lost\":2,"), "%.*s", (int)len, l);
		cr_assert_not_null(strstr(l, "\"error\":\"ENOSPC\""), "%.*s", (int)len, l);
	}
	free(buf);
	json_decref(rec);
	audit_close(a);
	kf = fx_keyfile(fx_dir);
	out = fx_verify_ok(kf, path);
	free(out);
	umount2(mnt, MNT_DETACH);
	free(kf);
	free(path);
	free(ballast);
	free(mnt);
}

/* --- what goes into a record --- */

Test(audit, secrets_never_reach_the_log)
{
	const char canary[] = "CANARY-7f3a9c2e-secret-token";
	char *path = fx_path(fx_dir, "audit.jsonl"), *buf, *b64, *basic;
	struct cred_store *cs;
	struct audit *a;
	json_t *rec, *args;
	char err[256];
	size_t len;
	int n;

	setenv("H6_CANARY", canary, 1);
	cr_assert_eq(cred_store_new(&cs), 0);
	cr_assert_eq(cred_add(cs, "argocd-prod", "payments", "env:H6_CANARY", err, sizeof(err)), 0);
	a = fx_open(fx_dir, AUDIT_FSYNC_NONE, 1000, 0);
	audit_set_redactor(a, cred_redactor(cs));
	cr_assert(asprintf(&basic, "admin:%s", canary) > 0);
	b64 = malloc(4 * strlen(basic) / 3 + 8);
	EVP_EncodeBlock((uint8_t *)b64, (uint8_t *)basic, (int)strlen(basic));
	args = json_pack("{s:s, s:s, s:{s:s}, s:[s]}", "token", canary, "header", b64, "nested",
	    "s", canary, "data", "{\"t\":\"CANARY-7f3a9c2e-secret-token\"}");
	json_object_set_new(args, canary, json_true());
	rec = json_pack("{s:s, s:O, s:s}", "type", "outcome", "args", args, "error",
	    "401 for Bearer CANARY-7f3a9c2e-secret-token");
	n = audit_append(a, rec, NULL);
	cr_assert_eq(n, 0, "append: %d %s", n, err_str(n));
	cr_assert_str_eq(json_string_value(json_object_get(args, "token")), canary,
	    "the caller's record is not modified");
	audit_close(a);
	buf = fx_read(path, &len);
	cr_assert_null(memmem(buf, len, "CANARY", 6), "%s", buf);
	cr_assert_null(memmem(buf, len, b64 + 8, 12), "base64 form: %s", buf);
	n = 0;
	for (char *p = buf; (p = strstr(p, "[REDACTED]")) != NULL; p++)
		n++;
	cr_assert_eq(n, 6, "%s", buf);
	free(buf);
	free(b64);
	free(basic);
	json_decref(rec);
	json_decref(args);
	cred_store_free(cs);
	free(path);
}

Test(audit, oversize_fields_become_digests)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_NONE, 1000, 0);
	char *big = malloc(100001), *path = fx_path(fx_dir, "audit.jsonl"), *buf, *kf, *out;
	json_t *rec;
	size_t len;

	memset(big, 'a', 100000);
	big[100000] = '\0';
	rec = json_pack("{s:s, s:{s:s}}", "type", "decision", "args", "blob", big);
	cr_assert_eq(audit_append(a, rec, NULL), 0);
	json_decref(rec);
	rec = json_pack("{s:s, s:s}", "type", "decision", "other", big);
	cr_assert_eq(audit_append(a, rec, NULL), ERR_TOOBIG);
	cr_assert(audit_healthy(a), "a too-big record is the caller's problem, not the disk's");
	json_decref(rec);
	audit_close(a);
	buf = fx_read(path, &len);
	cr_assert_lt(len, LIM_AUDIT_RECORD_MAX);
	cr_assert_not_null(strstr(buf, "\"args\":{\"bytes\":100011,\"sha256\":\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"truncated\":true"));
	kf = fx_keyfile(fx_dir);
	out = fx_verify_ok(kf, path);
	free(out);
	free(kf);
	free(buf);
	free(big);
	free(path);
}

/* --- key file --- */

Test(audit, key_file_created_checked_and_parsed)
{
	char *p = fx_path(fx_dir, "state.key"), err[256];
	uint8_t k1[32], k2[32];
	struct stat st;
	size_t len;
	char *buf;

	cr_assert_eq(audit_key_load(p, false, k1, err, sizeof(err)), -ENOENT);
	cr_assert_eq(audit_key_load(p, true, k1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	buf = fx_read(p, &len);
	cr_assert_eq(len, 65);
	free(buf);
	cr_assert_eq(audit_key_load(p, true, k2, err, sizeof(err)), 0);
	cr_assert_eq(memcmp(k1, k2, 32), 0, "the second start loads the same key");
	chmod(p, 0640);
	cr_assert_eq(audit_key_load(p, false, k2, err, sizeof(err)), ERR_CONFIG);
	cr_assert_not_null(strstr(err, "mode 0640"), "%s", err);
	chmod(p, 0600);
	if (geteuid() == 0) {
		cr_assert_eq(chown(p, 4242, 4242), 0);
		cr_assert_eq(audit_key_load(p, false, k2, err, sizeof(err)), ERR_CONFIG);
		cr_assert_not_null(strstr(err, "owned by uid 4242"), "%s", err);
		cr_assert_eq(chown(p, 0, 0), 0);
	}
	fx_write(p, fx_key, 32, 0600);
	cr_assert_eq(audit_key_load(p, false, k2, err, sizeof(err)), 0);
	cr_assert_eq(memcmp(k2, fx_key, 32), 0, "32 raw bytes");
	fx_write(p, "not a key\n", 10, 0600);
	cr_assert_eq(audit_key_load(p, false, k2, err, sizeof(err)), ERR_CONFIG);
	free(p);
}

/* A crash between the rename and the new file: the chain continues from the rotated file. */
Test(audit, crash_between_rotation_steps)
{
	struct audit *a = fx_open(fx_dir, AUDIT_FSYNC_EVERY, 1000, 0);
	char *kf = fx_keyfile(fx_dir), *out, *live = fx_path(fx_dir, "audit.jsonl");
	char *rot = fx_path(fx_dir, "audit.00000000000000000001.jsonl");

	fx_append(a, 4, "t");
	cr_assert_eq(audit_close(a), 0);		/* seq 5: checkpoint */
	cr_assert_eq(rename(live, rot), 0);
	a = fx_open(fx_dir, AUDIT_FSYNC_EVERY, 1000, 0);
	cr_assert_eq(audit_seq(a), 5);
	fx_append(a, 2, "t");
	cr_assert_eq(audit_close(a), 0);		/* seq 6, 7, checkpoint 8 */
	out = fx_verify_ok(kf, fx_dir);
	cr_assert_not_null(strstr(out, "OK: 8 records in 2 files, seq 1..8"), "%s", out);
	cr_assert_eq(audit_close(NULL), 0);
	free(out);
	free(rot);
	free(live);
	free(kf);
}
