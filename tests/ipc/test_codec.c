/* The typed msgpack reader and the writer: exact bytes, hostile headers, UTF-8, depth. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ipc/codec.h"
#include "ipc/err.h"
#include "ipc/limits.h"

#define B(s) (const uint8_t *)(s), sizeof(s) - 1

static const struct {
	const char *what;
	const char *s;
	size_t len;
	bool ok;
} utf8_cases[] = {
	{ "empty", "", 0, true },
	{ "ascii", "abc", 3, true },
	{ "2-byte e-acute", "\xc3\xa9", 2, true },
	{ "3-byte euro", "\xe2\x82\xac", 3, true },
	{ "4-byte emoji", "\xf0\x9f\x98\x80", 4, true },
	{ "U+D7FF (below surrogates)", "\xed\x9f\xbf", 3, true },
	{ "U+E000 (above surrogates)", "\xee\x80\x80", 3, true },
	{ "U+10FFFF", "\xf4\x8f\xbf\xbf", 4, true },
	{ "U+0800 (smallest 3-byte)", "\xe0\xa0\x80", 3, true },
	{ "U+10000 (smallest 4-byte)", "\xf0\x90\x80\x80", 4, true },
	{ "overlong '/' 2-byte", "\xc0\xaf", 2, false },
	{ "overlong 2-byte c1", "\xc1\xbf", 2, false },
	{ "overlong '/' 3-byte", "\xe0\x80\xaf", 3, false },
	{ "overlong U+07FF 3-byte", "\xe0\x9f\xbf", 3, false },
	{ "overlong '/' 4-byte", "\xf0\x80\x80\xaf", 4, false },
	{ "overlong U+FFFF 4-byte", "\xf0\x8f\xbf\xbf", 4, false },
	{ "surrogate U+D800", "\xed\xa0\x80", 3, false },
	{ "surrogate U+DFFF", "\xed\xbf\xbf", 3, false },
	{ "U+110000", "\xf4\x90\x80\x80", 4, false },
	{ "lead f5", "\xf5\x80\x80\x80", 4, false },
	{ "byte ff", "\xff", 1, false },
	{ "byte fe", "a\xfe", 2, false },
	{ "truncated 2-byte", "\xc3", 1, false },
	{ "truncated 3-byte", "\xe2\x82", 2, false },
	{ "truncated 4-byte", "\xf0\x9f\x98", 3, false },
	{ "truncated then ascii", "\xe2\x82" "a", 3, false },
	{ "lone continuation", "\x80", 1, false },
	{ "bad continuation", "\xc3\x28", 2, false },
};

Test(codec, utf8_table)
{
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		uint8_t f[16];
		struct mp_rd r;
		struct mp_wr w;
		const char *s;
		uint32_t len;
		uint8_t *out;
		size_t olen;
		int rv;

		cr_assert_eq(utf8_valid(utf8_cases[i].s, utf8_cases[i].len), utf8_cases[i].ok,
		    "utf8_valid(%s)", utf8_cases[i].what);
		/* the reader, as a fixstr */
		f[0] = 0xa0 | (uint8_t)utf8_cases[i].len;
		memcpy(f + 1, utf8_cases[i].s, utf8_cases[i].len);
		mp_rd_init(&r, f, utf8_cases[i].len + 1);
		rv = mp_rd_str(&r, &s, &len);
		cr_assert_eq(rv, utf8_cases[i].ok ? 0 : ERR_UTF8, "mp_rd_str(%s): %s",
		    utf8_cases[i].what, err_name(rv));
		/* the writer refuses what the reader refuses */
		mp_wr_init(&w, 64);
		mp_wr_str(&w, utf8_cases[i].s, utf8_cases[i].len);
		rv = mp_wr_finish(&w, &out, &olen);
		cr_assert_eq(rv, utf8_cases[i].ok ? 0 : ERR_UTF8, "mp_wr_str(%s)",
		    utf8_cases[i].what);
		if (rv == 0) {
			cr_assert_eq(olen, utf8_cases[i].len + 1);
			cr_assert_arr_eq(out, f, olen);
			free(out);
		}
	}
}

Test(codec, embedded_nul)
{
	struct mp_rd r;
	struct mp_wr w;
	const char *s;
	uint32_t len;
	uint8_t *out;
	size_t olen;

	mp_rd_init(&r, B("\xa3" "a\0b"));
	cr_assert_eq(mp_rd_str(&r, &s, &len), ERR_UTF8);
	mp_wr_init(&w, 64);
	mp_wr_str(&w, "a\0b", 3);
	cr_assert_eq(mp_wr_finish(&w, &out, &olen), ERR_UTF8);
	/* bin may hold NUL */
	mp_rd_init(&r, B("\xc4\x03" "a\0b"));
	{
		const uint8_t *bin;

		cr_assert_eq(mp_rd_bin(&r, &bin, &len), 0);
		cr_assert_eq(len, 3);
		cr_assert_eq(bin[1], 0);
	}
}

/* Hostile headers: declared counts and lengths the input cannot back. */
static const struct {
	const char *what;
	const char *buf;
	size_t len;
	int want;
} hostile[] = {
#define H(w, s, want) { w, s, sizeof(s) - 1, want }
	H("array32(2^31) header alone", "\xdd\x80\0\0\0", ERR_TOOBIG),
	H("map32(2^31) header alone", "\xdf\x80\0\0\0", ERR_TOOBIG),
	H("array32(2^32-1)", "\xdd\xff\xff\xff\xff", ERR_TOOBIG),
	H("array16(4096) with 3 bytes", "\xdc\x10\x00\xc0\xc0\xc0", ERR_TRUNC),
	H("map16(2) with 3 bytes", "\xde\x00\x02\xc0\xc0\xc0", ERR_TRUNC),
	H("fixarray(15) empty", "\x9f", ERR_TRUNC),
	H("str32(2^31)", "\xdb\x80\0\0\0", ERR_TOOBIG),
	H("str32 just over LIM_STR_MAX", "\xdb\x00\x40\x00\x01", ERR_TOOBIG),
	H("str8(200) with 2 bytes", "\xd9\xc8" "ab", ERR_TRUNC),
	H("bin32(2^31)", "\xc6\x80\0\0\0", ERR_TOOBIG),
	H("ext32(2^31)", "\xc9\x80\0\0\0\x01", ERR_TOOBIG),
	H("fixext16 short", "\xd8\x01" "abc", ERR_TRUNC),
	H("uint64 short", "\xcf\0\0\0", ERR_TRUNC),
	H("float64 short", "\xcb\0\0\0", ERR_TRUNC),
	H("str16 header short", "\xda\x00", ERR_TRUNC),
	H("never-used 0xc1", "\xc1", ERR_PROTO),
	H("empty input", "", ERR_TRUNC),
#undef H
};

Test(codec, hostile_headers)
{
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct mp_rd r;
		int rv;

		mp_rd_init(&r, (const uint8_t *)hostile[i].buf, hostile[i].len);
		rv = mp_rd_skip(&r);
		cr_assert_eq(rv, hostile[i].want, "%s: %s", hostile[i].what, err_name(rv));
		/* a failed read leaves the cursor alone */
		cr_assert_eq(mp_rd_left(&r), hostile[i].len, "%s moved the cursor",
		    hostile[i].what);
		cr_assert_eq(r.depth, 0);
	}
}

Test(codec, typed_container_readers)
{
	struct mp_rd r;
	uint32_t n;

	mp_rd_init(&r, B("\xdd\x80\0\0\0"));
	cr_assert_eq(mp_rd_array(&r, &n), ERR_TOOBIG);
	cr_assert_eq(mp_rd_map(&r, &n), ERR_TYPE);
	mp_rd_init(&r, B("\xdf\x80\0\0\0"));
	cr_assert_eq(mp_rd_map(&r, &n), ERR_TOOBIG);
	/* at the cap and backed by bytes: fine */
	{
		size_t len = 3 + LIM_ARRAY_MAX;
		uint8_t *b = malloc(len + 1);

		b[0] = 0xdc;
		b[1] = LIM_ARRAY_MAX >> 8;
		b[2] = LIM_ARRAY_MAX & 0xff;
		memset(b + 3, 0xc0, LIM_ARRAY_MAX + 1);
		mp_rd_init(&r, b, len);
		cr_assert_eq(mp_rd_array(&r, &n), 0);
		cr_assert_eq(n, LIM_ARRAY_MAX);
		cr_assert_eq(r.depth, 1);
		/* one more element than the cap */
		b[1] = (LIM_ARRAY_MAX + 1) >> 8;
		b[2] = (LIM_ARRAY_MAX + 1) & 0xff;
		mp_rd_init(&r, b, len + 1);
		cr_assert_eq(mp_rd_array(&r, &n), ERR_TOOBIG);
		free(b);
	}
}

Test(codec, four_mb_of_nils)
{
	size_t len = 4u << 20;
	uint8_t *b = malloc(len + 5);
	struct mp_rd r;
	uint32_t n;
	size_t count = 0;

	memset(b, 0xc0, len + 5);
	/* an array32 declaring all of them is over the element cap */
	memcpy(b, "\xdd\x00\x40\x00\x00", 5);
	mp_rd_init(&r, b, len + 5);
	cr_assert_eq(mp_rd_array(&r, &n), ERR_TOOBIG);
	cr_assert_eq(mp_rd_skip(&r), ERR_TOOBIG);
	/* as a stream of top-level values, each is read in O(1) */
	mp_rd_init(&r, b + 5, len);
	while (mp_rd_left(&r) > 0) {
		cr_assert_eq(mp_rd_nil(&r), 0);
		count++;
	}
	cr_assert_eq(count, len);
	cr_assert_eq(mp_rd_end(&r), 0);
	free(b);
}

static size_t
nest(uint8_t *b, unsigned levels, uint8_t hdr)
{
	size_t n = 0;

	for (unsigned i = 0; i < levels; i++) {
		b[n++] = hdr;
		if (hdr == 0x81)	/* map: a key before the nested value */
			b[n++] = 0xc0;
	}
	b[n++] = 0x01;
	return n;
}

Test(codec, nesting_cap)
{
	uint8_t b[512];
	struct mp_rd r;

	for (unsigned m = 0; m < 2; m++) {
		uint8_t hdr = m ? 0x81 : 0x91;

		mp_rd_init(&r, b, nest(b, LIM_DEPTH_MAX, hdr));
		cr_assert_eq(mp_rd_skip(&r), 0, "depth %u", LIM_DEPTH_MAX);
		cr_assert_eq(mp_rd_end(&r), 0);
		cr_assert_eq(r.depth, 0);
		mp_rd_init(&r, b, nest(b, LIM_DEPTH_MAX + 1, hdr));
		cr_assert_eq(mp_rd_skip(&r), ERR_DEPTH);
		mp_rd_init(&r, b, nest(b, 200, hdr));
		cr_assert_eq(mp_rd_skip(&r), ERR_DEPTH);
	}
}

Test(codec, ints_every_form)
{
	static const struct {
		const char *buf;
		size_t len;
		int kind;
		uint64_t u;
		int64_t i;
	} cases[] = {
#define I(s, k, u, i) { s, sizeof(s) - 1, k, u, i }
		I("\x00", MP_UINT, 0, 0),
		I("\x7f", MP_UINT, 127, 127),
		I("\xcc\xff", MP_UINT, 255, 255),
		I("\xcd\xff\xff", MP_UINT, 65535, 65535),
		I("\xce\xff\xff\xff\xff", MP_UINT, UINT32_MAX, UINT32_MAX),
		I("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", MP_UINT, INT64_MAX, INT64_MAX),
		I("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", MP_UINT, UINT64_MAX, 0),
		I("\xff", MP_INT, 0, -1),
		I("\xe0", MP_INT, 0, -32),
		I("\xd0\x80", MP_INT, 0, -128),
		I("\xd0\x05", MP_UINT, 5, 5),
		I("\xd1\x80\x00", MP_INT, 0, -32768),
		I("\xd2\x80\0\0\0", MP_INT, 0, INT32_MIN),
		I("\xd3\x80\0\0\0\0\0\0\0", MP_INT, 0, INT64_MIN),
		I("\xd3\0\0\0\0\0\0\0\x2a", MP_UINT, 42, 42),
#undef I
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct mp_rd r;
		uint64_t u;
		int64_t i;

		mp_rd_init(&r, (const uint8_t *)cases[k].buf, cases[k].len);
		cr_assert_eq(mp_rd_peek(&r), cases[k].kind, "case %zu", k);
		if (cases[k].kind == MP_UINT) {
			cr_assert_eq(mp_rd_uint(&r, &u), 0);
			cr_assert_eq(u, cases[k].u, "case %zu", k);
			mp_rd_init(&r, (const uint8_t *)cases[k].buf, cases[k].len);
		} else {
			cr_assert_eq(mp_rd_uint(&r, &u), ERR_TYPE, "case %zu", k);
		}
		if (cases[k].u > INT64_MAX) {
			cr_assert_eq(mp_rd_int(&r, &i), ERR_TYPE);
			continue;
		}
		cr_assert_eq(mp_rd_int(&r, &i), 0, "case %zu", k);
		cr_assert_eq(i, cases[k].i, "case %zu", k);
		cr_assert_eq(mp_rd_end(&r), 0);
	}
}

Test(codec, scalars)
{
	struct mp_rd r;
	double d;
	bool b;

	mp_rd_init(&r, B("\xca\x3f\xc0\x00\x00\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18\xc3\xc2\xc0"));
	cr_assert_eq(mp_rd_double(&r, &d), 0);
	cr_assert_eq(d, 1.5);
	cr_assert_eq(mp_rd_double(&r, &d), 0);
	cr_assert_float_eq(d, 3.141592653589793, 1e-15);
	cr_assert_eq(mp_rd_bool(&r, &b), 0);
	cr_assert(b);
	cr_assert_eq(mp_rd_bool(&r, &b), 0);
	cr_assert(!b);
	cr_assert_eq(mp_rd_double(&r, &d), ERR_TYPE);
	cr_assert_eq(mp_rd_nil(&r), 0);
	cr_assert_eq(mp_rd_nil(&r), ERR_TRUNC);
	cr_assert_eq(mp_rd_end(&r), 0);
	mp_rd_init(&r, B("\xc0\xc0"));
	cr_assert_eq(mp_rd_nil(&r), 0);
	cr_assert_eq(mp_rd_end(&r), ERR_TRAILING);
}

/* The writer's exact bytes: shortest forms, as the msgpack spec wants. */
Test(codec, writer_exact_bytes)
{
	static const uint8_t want[] = {
		0x83,				/* fixmap 3 */
		0xa1, 'a', 0x7f,		/* 127 */
		0xa1, 'b', 0xcc, 0x80,		/* 128 */
		0xa1, 'c', 0x93,		/* fixarray 3 */
		0xce, 0x00, 0x01, 0x00, 0x00,	/* 65536 */
		0xff,				/* -1 */
		0xd0, 0xdf,			/* -33 */
		0xc3, 0xc2, 0xc0,		/* true false nil */
		0xc4, 0x02, 0x00, 0x01,		/* bin 2 */
		0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,	/* 1.5 */
	};
	struct mp_wr w;
	uint8_t *out;
	size_t len;

	mp_wr_init(&w, 1024);
	mp_wr_map(&w, 3);
	mp_wr_cstr(&w, "a");
	mp_wr_uint(&w, 127);
	mp_wr_cstr(&w, "b");
	mp_wr_int(&w, 128);
	mp_wr_cstr(&w, "c");
	mp_wr_array(&w, 3);
	mp_wr_uint(&w, 65536);
	mp_wr_int(&w, -1);
	mp_wr_int(&w, -33);
	mp_wr_bool(&w, true);
	mp_wr_bool(&w, false);
	mp_wr_nil(&w);
	mp_wr_bin(&w, "\x00\x01", 2);
	mp_wr_double(&w, 1.5);
	cr_assert_eq(mp_wr_finish(&w, &out, &len), 0);
	cr_assert_eq(len, sizeof(want));
	cr_assert_arr_eq(out, want, len);
	free(out);
}

Test(codec, writer_string_forms)
{
	static const struct {
		size_t len;
		uint8_t hdr[5];
		size_t hlen;
	} cases[] = {
		{ 0, { 0xa0 }, 1 }, { 31, { 0xbf }, 1 }, { 32, { 0xd9, 32 }, 2 },
		{ 255, { 0xd9, 0xff }, 2 }, { 256, { 0xda, 0x01, 0x00 }, 3 },
		{ 65536, { 0xdb, 0x00, 0x01, 0x00, 0x00 }, 5 },
	};
	char *s = malloc(65536);

	memset(s, 'x', 65536);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mp_wr w;
		uint8_t *out;
		size_t len;

		mp_wr_init(&w, 1 << 20);
		mp_wr_str(&w, s, cases[i].len);
		cr_assert_eq(mp_wr_finish(&w, &out, &len), 0);
		cr_assert_eq(len, cases[i].hlen + cases[i].len);
		cr_assert_arr_eq(out, cases[i].hdr, cases[i].hlen, "len %zu", cases[i].len);
		free(out);
	}
	free(s);
}

Test(codec, writer_caps_are_sticky)
{
	struct mp_wr w;
	uint8_t *out = NULL;
	size_t len;

	mp_wr_init(&w, 8);
	mp_wr_cstr(&w, "1234567");	/* 8 bytes: fits exactly */
	cr_assert_eq(w.err, 0);
	mp_wr_nil(&w);			/* the 9th byte */
	cr_assert_eq(w.err, ERR_TOOBIG);
	mp_wr_free(&w);			/* a writer left in error still owns its buffer */
	mp_wr_init(&w, 8);
	mp_wr_cstr(&w, "12345678");
	mp_wr_nil(&w);
	cr_assert_eq(mp_wr_finish(&w, &out, &len), ERR_TOOBIG);
	cr_assert_null(out);
	cr_assert_null(w.buf);

	mp_wr_init(&w, 1 << 20);
	mp_wr_array(&w, LIM_ARRAY_MAX + 1);
	mp_wr_nil(&w);
	cr_assert_eq(mp_wr_finish(&w, &out, &len), ERR_TOOBIG);
	mp_wr_init(&w, 1 << 20);
	mp_wr_cstr(&w, NULL);
	cr_assert_eq(mp_wr_finish(&w, &out, &len), -EINVAL);
	mp_wr_init(&w, 1 << 20);
	cr_assert_eq(mp_wr_finish(&w, &out, &len), -EINVAL);	/* nothing written */
	mp_wr_free(&w);
	mp_wr_free(NULL);
}

Test(codec, writer_grows_past_initial_buffer)
{
	struct mp_wr w;
	struct mp_rd r;
	uint8_t *out;
	size_t len;
	uint32_t n;
	uint64_t u;

	mp_wr_init(&w, LIM_MSG_MAX);
	mp_wr_array(&w, LIM_ARRAY_MAX);
	for (uint32_t i = 0; i < LIM_ARRAY_MAX; i++)
		mp_wr_uint(&w, 1000000u + i);
	cr_assert_eq(mp_wr_finish(&w, &out, &len), 0);
	cr_assert_eq(len, 3 + 5 * (size_t)LIM_ARRAY_MAX);
	mp_rd_init(&r, out, len);
	cr_assert_eq(mp_rd_array(&r, &n), 0);
	for (uint32_t i = 0; i < n; i++) {
		cr_assert_eq(mp_rd_uint(&r, &u), 0);
		cr_assert_eq(u, 1000000u + i);
	}
	mp_rd_leave(&r);
	cr_assert_eq(mp_rd_end(&r), 0);
	free(out);
}
