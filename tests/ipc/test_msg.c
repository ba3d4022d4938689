/* msg_encode / msg_decode against the table in ipc/msg.h (transcribed in fx.c). */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ipc/codec.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/msg.h"
#include "tests/ipc/fx.h"

/* A byte-string literal and its length. */
#define B(s) s, sizeof(s) - 1

static void
encode_full(enum msg_type t, uint8_t **buf, size_t *len)
{
	struct msg m;
	int r;

	fx_msg_full(t, &m);
	r = msg_encode(&m, buf, len);
	cr_assert_eq(r, 0, "encode %s: %s", msg_type_name(t), err_name(r));
}

Test(msg, roundtrip_every_type_all_fields)
{
	for (size_t i = 0; i < fx_ntypes; i++) {
		enum msg_type t = fx_types[i].type;
		struct msg in, out;
		uint8_t *buf, *buf2;
		size_t len, len2;
		const char *diff;
		int r;

		encode_full(t, &buf, &len);
		fx_msg_full(t, &in);
		r = msg_decode(buf, len, &out);
		cr_assert_eq(r, 0, "decode %s: %s", msg_type_name(t), err_name(r));
		diff = fx_msg_diff(t, &in, &out);
		cr_assert_null(diff, "%s: field %s differs", msg_type_name(t), diff);
		/* Fields the type does not carry come back zero / NULL. */
		if (t != MSG_WORK)
			cr_assert_null(out.ctx, "%s carries no ctx", msg_type_name(t));
		if (t != MSG_HELLO && t != MSG_WELCOME)
			cr_assert_eq(out.version, 0);
		/* Encoding is canonical: decode-encode gives the same bytes. */
		cr_assert_eq(msg_encode(&out, &buf2, &len2), 0);
		cr_assert_eq(len2, len);
		cr_assert_arr_eq(buf2, buf, len);
		msg_clear(&out);
		cr_assert_null(out.text);
		free(buf);
		free(buf2);
	}
}

Test(msg, exact_bytes_of_a_ping)
{
	static const uint8_t want[] = {
		0x82, 0xa1, 't', 0x0d, 0xa2, 'i', 'd', 0xcd, 0x01, 0x00,
	};
	struct msg m = { .type = MSG_PING, .id = 256 };
	uint8_t *buf;
	size_t len;

	cr_assert_eq(msg_encode(&m, &buf, &len), 0);
	cr_assert_eq(len, sizeof(want));
	cr_assert_arr_eq(buf, want, len);
	free(buf);
}

Test(msg, optional_fields_absent_roundtrip)
{
	struct msg m = { .type = MSG_WORK, .id = 7, .tool = "argocd", .op = "get_application",
	    .args = "{}", .deadline_ms = 1000 }, out;
	uint8_t *buf;
	size_t len;

	cr_assert_eq(msg_encode(&m, &buf, &len), 0);
	cr_assert_eq(msg_decode(buf, len, &out), 0);
	cr_assert_null(out.ctx);
	cr_assert_eq(out.dry_run, false);
	cr_assert_str_eq(out.op, "get_application");
	msg_clear(&out);
	free(buf);
}

Test(msg, every_prefix_is_truncated)
{
	for (size_t i = 0; i < fx_ntypes; i++) {
		uint8_t *buf;
		size_t len;
		struct msg out;

		encode_full(fx_types[i].type, &buf, &len);
		for (size_t n = 0; n < len; n++) {
			int r = msg_decode(buf, n, &out);

			cr_assert_eq(r, ERR_TRUNC, "%s prefix %zu/%zu: %s",
			    msg_type_name(fx_types[i].type), n, len, err_name(r));
			cr_assert_null(out.text);
		}
		free(buf);
	}
}

Test(msg, trailing_bytes)
{
	for (size_t i = 0; i < fx_ntypes; i++) {
		uint8_t *buf, *big;
		size_t len;
		struct msg out;

		encode_full(fx_types[i].type, &buf, &len);
		big = malloc(2 * len);
		memcpy(big, buf, len);
		big[len] = 0xc0;	/* one nil */
		cr_assert_eq(msg_decode(big, len + 1, &out), ERR_TRAILING);
		memcpy(big + len, buf, len);	/* two messages in one frame */
		cr_assert_eq(msg_decode(big, 2 * len, &out), ERR_TRAILING);
		free(big);
		free(buf);
	}
}

Test(msg, missing_required_key)
{
	uint8_t f[4096];
	struct msg out;

	for (size_t i = 0; i < fx_ntypes; i++) {
		const struct fx_type *ft = &fx_types[i];

		/* Without "t" no type is known. */
		cr_assert_eq(msg_decode(f, fx_frame(ft->type, "t", NULL, f), &out), ERR_MISSING);
		for (size_t k = 0; ft->required[k] != NULL; k++) {
			struct msg m;
			uint8_t *buf;
			size_t len;
			int r = msg_decode(f, fx_frame(ft->type, ft->required[k], NULL, f), &out);

			cr_assert_eq(r, ERR_MISSING, "%s without %s: %s", msg_type_name(ft->type),
			    ft->required[k], err_name(r));
			/* The encoder refuses to send it too (strings can be left NULL). */
			if (fx_key_is_int(ft->required[k]))
				continue;
			fx_msg_full(ft->type, &m);
			if (strcmp(ft->required[k], "text") == 0)
				m.text = NULL;
			else if (strcmp(ft->required[k], "args") == 0)
				m.args = NULL;
			else if (strcmp(ft->required[k], "result") == 0)
				m.result = NULL;
			else if (strcmp(ft->required[k], "tool") == 0)
				m.tool = NULL;
			else
				continue;
			cr_assert_eq(msg_encode(&m, &buf, &len), ERR_MISSING);
		}
		/* Every optional key may be left out. */
		for (size_t k = 0; ft->optional[k] != NULL; k++) {
			cr_assert_eq(msg_decode(f, fx_frame(ft->type, ft->optional[k], NULL, f),
			    &out), 0);
			msg_clear(&out);	/* msg_decode overwrites: each result is ours */
		}
	}
}

static int
type_has(const struct fx_type *ft, const char *key)
{
	for (size_t k = 0; ft->required[k] != NULL; k++)
		if (strcmp(ft->required[k], key) == 0)
			return 1;
	for (size_t k = 0; ft->optional[k] != NULL; k++)
		if (strcmp(ft->optional[k], key) == 0)
			return 1;
	return strcmp(key, "t") == 0;
}

Test(msg, keys_not_permitted_for_the_type)
{
	uint8_t f[4096];
	struct msg out;

	for (size_t i = 0; i < fx_ntypes; i++) {
		const struct fx_type *ft = &fx_types[i];

		for (size_t k = 0; fx_keys[k] != NULL; k++) {
			int r, want = type_has(ft, fx_keys[k]) ? ERR_DUPKEY : ERR_UNKNOWN;

			r = msg_decode(f, fx_frame(ft->type, NULL, fx_keys[k], f), &out);
			cr_assert_eq(r, want, "%s + %s: %s", msg_type_name(ft->type), fx_keys[k],
			    err_name(r));
		}
	}
}

/* A frame from a map of (key, raw value bytes) pairs. */
static size_t
raw_map(uint8_t *out, const char *const *keys, const uint8_t *const *vals,
    const size_t *vlens, size_t n)
{
	size_t len = 0;

	out[len++] = 0x80 | (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(keys[i]);

		out[len++] = 0xa0 | (uint8_t)kl;
		memcpy(out + len, keys[i], kl);
		len += kl;
		memcpy(out + len, vals[i], vlens[i]);
		len += vlens[i];
	}
	return len;
}

/* CALL {t:3, id:1, tool:"x", op:"y", args:"{}"} with one value replaced. */
static int
decode_call_with(const char *key, const uint8_t *val, size_t vlen)
{
	const char *keys[] = { "t", "id", "tool", "op", "args" };
	const uint8_t *vals[] = { (const uint8_t *)"\x03", (const uint8_t *)"\x01",
	    (const uint8_t *)"\xa1x", (const uint8_t *)"\xa1y", (const uint8_t *)"\xa2{}" };
	size_t vlens[] = { 1, 1, 2, 2, 3 };
	uint8_t f[256];
	struct msg out;
	int r;

	for (size_t i = 0; i < 5; i++) {
		if (strcmp(keys[i], key) == 0) {
			vals[i] = val;
			vlens[i] = vlen;
		}
	}
	r = msg_decode(f, raw_map(f, keys, vals, vlens, 5), &out);
	msg_clear(&out);
	return r;
}

static const struct {
	const char *what, *key;
	const char *val;
	size_t vlen;
	int want;
} value_cases[] = {
	{ "the reference frame", "id", B("\x01"), 0 },
	{ "id as str", "id", B("\xa1" "1"), ERR_TYPE },
	{ "id negative", "id", B("\xff"), ERR_TYPE },
	{ "id float", "id", B("\xcb\x3f\xf0\0\0\0\0\0\0"), ERR_TYPE },
	{ "id nil", "id", B("\xc0"), ERR_TYPE },
	{ "id as int8 1 (any int form)", "id", B("\xd0\x01"), 0 },
	{ "id uint64 max", "id", B("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), 0 },
	{ "t as str", "t", B("\xa1" "3"), ERR_TYPE },
	{ "t = 0", "t", B("\x00"), ERR_UNKNOWN },
	{ "t = 16 (unknown type)", "t", B("\x10"), ERR_UNKNOWN },
	{ "t = 2^32", "t", B("\xcf\0\0\0\x01\0\0\0\0"), ERR_TYPE },
	{ "tool as int", "tool", B("\x05"), ERR_TYPE },
	{ "tool as bin", "tool", B("\xc4\x01x"), ERR_TYPE },
	{ "tool over LIM_NAME_MAX", "tool", NULL, 0, ERR_TOOBIG },
	{ "args as array", "args", B("\x91\xa0"), ERR_TYPE },
	{ "args as map", "args", B("\x81\xa0\xa0"), ERR_TYPE },
	{ "args with NUL", "args", B("\xa3{\0}"), ERR_UTF8 },
	{ "args overlong UTF-8", "args", B("\xa2\xc0\xaf"), ERR_UTF8 },
	{ "args surrogate", "args", B("\xa3\xed\xa0\x80"), ERR_UTF8 },
	{ "args over U+10FFFF", "args", B("\xa4\xf4\x90\x80\x80"), ERR_UTF8 },
	{ "args truncated sequence", "args", B("\xa2\xe2\x82"), ERR_UTF8 },
	{ "args ext", "args", B("\xd4\x01\x00"), ERR_TYPE },
	{ "args 0xc1", "args", B("\xc1"), ERR_PROTO },
	{ "args str32 2^31 long", "args", B("\xdb\x80\0\0\0"), ERR_TOOBIG },
	{ "args str32 longer than the frame", "args", B("\xdb\0\0\x10\0"), ERR_TRUNC },
	{ "op array32(2^31)", "op", B("\xdd\x80\0\0\0"), ERR_TYPE },
};

Test(msg, wrong_values)
{
	uint8_t longname[LIM_NAME_MAX + 3];

	longname[0] = 0xd9;
	longname[1] = LIM_NAME_MAX + 1;
	memset(longname + 2, 'a', LIM_NAME_MAX + 1);
	for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
		const uint8_t *v = (const uint8_t *)value_cases[i].val;
		size_t vlen = value_cases[i].vlen;
		int r;

		if (v == NULL) {
			v = longname;
			vlen = sizeof(longname);
		}
		r = decode_call_with(value_cases[i].key, v, vlen);
		cr_assert_eq(r, value_cases[i].want, "%s: got %s want %s", value_cases[i].what,
		    err_name(r), err_name(value_cases[i].want));
	}
}

/* {t: type, key: <int written by wr>, and the type's other required fields} */
static int
decode_int_field(enum msg_type t, const char *key, int64_t v, struct msg *out)
{
	struct mp_wr w;
	uint8_t *buf;
	size_t len;
	int r;

	mp_wr_init(&w, 4096);
	mp_wr_map(&w, 3);
	mp_wr_cstr(&w, "t");
	mp_wr_uint(&w, t);
	mp_wr_cstr(&w, "text");
	mp_wr_cstr(&w, "x");
	mp_wr_cstr(&w, key);
	mp_wr_int(&w, v);
	cr_assert_eq(mp_wr_finish(&w, &buf, &len), 0);
	r = msg_decode(buf, len, out);
	free(buf);
	return r;
}

Test(msg, int_ranges)
{
	static const struct {
		enum msg_type t;
		const char *key;
		int64_t v;
		int want;
	} cases[] = {
		{ MSG_LOG, "level", 7, 0 },
		{ MSG_LOG, "level", 8, ERR_TYPE },
		{ MSG_LOG, "level", -1, ERR_TYPE },
		{ MSG_CONNECT, "id", 0, 0 },
		{ MSG_CONNECT, "id", -5, ERR_TYPE },
	};
	struct msg out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = decode_int_field(cases[i].t, cases[i].key, cases[i].v, &out);

		cr_assert_eq(r, cases[i].want, "%s %s=%lld: %s", msg_type_name(cases[i].t),
		    cases[i].key, (long long)cases[i].v, err_name(r));
		msg_clear(&out);
	}
}

Test(msg, error_code_range)
{
	static const struct {
		int64_t code;
		int want;
	} cases[] = {
		{ INT32_MIN, 0 }, { INT32_MAX, 0 }, { -1, 0 }, { ERR_DENIED, 0 },
		{ (int64_t)INT32_MIN - 1, ERR_TYPE }, { (int64_t)INT32_MAX + 1, ERR_TYPE },
	};
	struct mp_wr w;
	struct msg out;
	uint8_t *buf;
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		mp_wr_init(&w, 4096);
		mp_wr_map(&w, 4);
		mp_wr_cstr(&w, "t");
		mp_wr_uint(&w, MSG_ERROR);
		mp_wr_cstr(&w, "id");
		mp_wr_uint(&w, 9);
		mp_wr_cstr(&w, "code");
		mp_wr_int(&w, cases[i].code);
		mp_wr_cstr(&w, "text");
		mp_wr_cstr(&w, "denied");
		cr_assert_eq(mp_wr_finish(&w, &buf, &len), 0);
		r = msg_decode(buf, len, &out);
		cr_assert_eq(r, cases[i].want, "code %lld: %s", (long long)cases[i].code,
		    err_name(r));
		if (r == 0)
			cr_assert_eq(out.code, cases[i].code);
		msg_clear(&out);
		free(buf);
	}
}

Test(msg, uint32_range)
{
	static const struct {
		const char *what, *buf;
		size_t len;
		int want;
	} cases[] = {
		{ "v = 2^32", B("\x83\xa1t\x01\xa1v\xcf\0\0\0\x01\0\0\0\0\xa4kind\xa4http"), ERR_TYPE },
		{ "v = 2^32-1", B("\x83\xa1t\x01\xa1v\xce\xff\xff\xff\xff\xa4kind\xa4http"), 0 },
	};
	struct msg out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = msg_decode((const uint8_t *)cases[i].buf, cases[i].len, &out);

		cr_assert_eq(r, cases[i].want, "%s: %s", cases[i].what, err_name(r));
		if (r == 0)
			cr_assert_eq(out.version, UINT32_MAX);
		msg_clear(&out);
	}
}

Test(msg, top_level_not_a_map)
{
	static const struct {
		const char *what;
		const char *buf;
		size_t len;
		int want;
	} cases[] = {
		{ "empty", B(""), ERR_TRUNC },
		{ "array", B("\x91\x01"), ERR_TYPE },
		{ "nil", B("\xc0"), ERR_TYPE },
		{ "map32(2^31)", B("\xdf\x80\0\0\0"), ERR_TOOBIG },
		{ "map16(100) with 10 bytes", B("\xde\x00\x64\xa1t\x01\xa2id\x01\x00"), ERR_TRUNC },
		{ "array32(2^31)", B("\xdd\x80\0\0\0"), ERR_TYPE },
		{ "non-string key", B("\x81\x01\x01"), ERR_TYPE },
		{ "unknown key", B("\x82\xa1t\x0d\xa3xid\x01"), ERR_UNKNOWN },
		{ "key with NUL", B("\x82\xa1t\x0d\xa3id\0\x01"), ERR_UTF8 },
		{ "duplicate id", B("\x83\xa1t\x0d\xa2id\x01\xa2id\x02"), ERR_DUPKEY },
		{ "duplicate t", B("\x83\xa1t\x0d\xa2id\x01\xa1t\x0d"), ERR_DUPKEY },
		{ "empty map", B("\x80"), ERR_MISSING },
		{ "shutdown", B("\x81\xa1t\x0c"), 0 },
	};
	struct msg out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = msg_decode((const uint8_t *)cases[i].buf, cases[i].len, &out);

		cr_assert_eq(r, cases[i].want, "%s: %s", cases[i].what, err_name(r));
		msg_clear(&out);
	}
}

Test(msg, four_mb_of_nils)
{
	size_t len = 4u << 20;
	uint8_t *b = malloc(len);
	struct msg out;

	memset(b, 0xc0, len);
	cr_assert_eq(msg_decode(b, len, &out), ERR_TYPE);
	/* A map whose first key's value is followed by 4 MB of nils. */
	memcpy(b, "\x81\xa1t\x0c", 4);
	cr_assert_eq(msg_decode(b, len, &out), ERR_TRAILING);
	free(b);
}

Test(msg, nesting_past_the_cap)
{
	uint8_t f[64];
	size_t n = 0;
	struct msg out;

	/* {"t": 13, "id": [[[[...]]]]} — refused as a type error before any depth matters */
	memcpy(f, "\x82\xa1t\x0d\xa2id", 7);
	n = 7;
	for (unsigned i = 0; i < LIM_DEPTH_MAX + 2; i++)
		f[n++] = 0x91;
	f[n++] = 0x01;
	cr_assert_eq(msg_decode(f, n, &out), ERR_TYPE);
}

Test(msg, encode_caps_and_checks)
{
	struct msg m;
	uint8_t *buf;
	size_t len;
	char *big = malloc(LIM_STR_MAX + 2);

	fx_msg_full(MSG_ERROR, &m);
	memset(big, 'e', LIM_ERRMSG_MAX + 1);
	big[LIM_ERRMSG_MAX + 1] = '\0';
	m.text = big;
	cr_assert_eq(msg_encode(&m, &buf, &len), ERR_TOOBIG);
	big[LIM_ERRMSG_MAX] = '\0';
	cr_assert_eq(msg_encode(&m, &buf, &len), 0);
	free(buf);

	fx_msg_full(MSG_EVENT, &m);
	m.text = (char *)"bad \xc0\xaf";
	cr_assert_eq(msg_encode(&m, &buf, &len), ERR_UTF8);

	fx_msg_full(MSG_LOG, &m);
	m.level = 8;
	cr_assert_eq(msg_encode(&m, &buf, &len), ERR_TYPE);

	m.type = MSG_TYPE_MAX;
	cr_assert_eq(msg_encode(&m, &buf, &len), ERR_UNKNOWN);
	m.type = 0;
	cr_assert_eq(msg_encode(&m, &buf, &len), ERR_UNKNOWN);

	/* Two 4 MB strings do not fit one 8 MB frame. */
	fx_msg_full(MSG_RUN, &m);
	memset(big, 'x', LIM_STR_MAX);
	big[LIM_STR_MAX] = '\0';
	m.input = big;
	m.agent = big;
	cr_assert_eq(msg_encode(&m, &buf, &len), ERR_TOOBIG);
	m.agent = (char *)"{}";
	cr_assert_eq(msg_encode(&m, &buf, &len), 0);
	cr_assert_gt(len, (size_t)LIM_STR_MAX);
	free(buf);
	free(big);
}

Test(msg, type_names)
{
	cr_assert_str_eq(msg_type_name(MSG_HELLO), "HELLO");
	cr_assert_str_eq(msg_type_name(MSG_CONNECT), "CONNECT");
	cr_assert_str_eq(msg_type_name(MSG_SHUTDOWN), "SHUTDOWN");
	cr_assert_str_eq(msg_type_name(0), "?");
	cr_assert_str_eq(msg_type_name(MSG_TYPE_MAX), "?");
	cr_assert_str_eq(msg_type_name((enum msg_type)-1), "?");
}

Test(msg, clear_is_null_safe_and_zeroes)
{
	struct msg m;
	uint8_t *buf;
	size_t len;

	msg_clear(NULL);
	fx_msg_full(MSG_WORK, &m);
	cr_assert_eq(msg_encode(&m, &buf, &len), 0);
	cr_assert_eq(msg_decode(buf, len, &m), 0);
	cr_assert_str_eq(m.ctx, "{\"token\":\"s3cr3t-t0ken\",\"url\":\"https://argocd.example\"}");
	msg_clear(&m);
	cr_assert_null(m.ctx);
	cr_assert_eq(m.type, 0);
	cr_assert_eq(m.id, 0);
	free(buf);
}
