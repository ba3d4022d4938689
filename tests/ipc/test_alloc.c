/* "msg_decode never allocates more than ~2x the frame": measured, not assumed.
 *
 * This binary is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc: every call to
 * those from our objects (this file and libcorral_ipc.a) goes through the counters below while
 * `counting` is set on the calling thread. The first test checks the counter sees allocations
 * made inside the library, so the others cannot pass by counting nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ipc/codec.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/msg.h"
#include "tests/ipc/fx.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static _Thread_local bool counting;
static _Thread_local size_t alloc_bytes, alloc_calls;

void *
__wrap_malloc(size_t n)
{
	if (counting) {
		alloc_bytes += n;
		alloc_calls++;
	}
	return __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	if (counting) {
		alloc_bytes += n * size;
		alloc_calls++;
	}
	return __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	if (counting) {
		alloc_bytes += n;
		alloc_calls++;
	}
	return __real_realloc(p, n);
}

/* Decode buf and return what it allocated (bytes requested, whatever was freed since). */
static size_t
decode_counted(const uint8_t *buf, size_t len, int want)
{
	struct msg m;
	int r;

	alloc_bytes = alloc_calls = 0;
	counting = true;
	r = msg_decode(buf, len, &m);
	counting = false;
	cr_assert_eq(r, want, "decode of %zu bytes: %s, want %s", len, err_name(r),
	    err_name(want));
	msg_clear(&m);
	return alloc_bytes;
}

Test(alloc, the_counter_sees_library_allocations)
{
	struct mp_wr w;
	uint8_t *out;
	size_t len;

	alloc_bytes = 0;
	counting = true;
	mp_wr_init(&w, 1 << 20);
	mp_wr_str(&w, "x", 1);		/* the writer mallocs its first 256-byte block */
	counting = false;
	cr_assert_eq(alloc_bytes, 256);
	cr_assert_eq(mp_wr_finish(&w, &out, &len), 0);
	free(out);
}

Test(alloc, every_type_within_the_frame_size)
{
	for (size_t i = 0; i < fx_ntypes; i++) {
		enum msg_type t = fx_types[i].type;
		struct msg m;
		uint8_t *buf;
		size_t len, got;

		fx_msg_full(t, &m);
		cr_assert_eq(msg_encode(&m, &buf, &len), 0);
		got = decode_counted(buf, len, 0);
		cr_assert_leq(got, 2 * len, "%s: %zu bytes for a %zu-byte frame",
		    msg_type_name(t), got, len);
		/* types with strings really allocate: the measurement is live */
		if (t != MSG_CANCEL && t != MSG_SHUTDOWN && t != MSG_PING && t != MSG_PONG)
			cr_assert_gt(got, 0, "%s allocated nothing?", msg_type_name(t));
		free(buf);
	}
}

Test(alloc, large_valid_frame)
{
	struct msg m = { .type = MSG_RESULT, .id = 1 };
	char *big = malloc(LIM_RESULT_MAX + 1);
	uint8_t *buf;
	size_t len, got;

	memset(big, 'r', LIM_RESULT_MAX);
	big[LIM_RESULT_MAX] = '\0';
	m.result = big;
	cr_assert_eq(msg_encode(&m, &buf, &len), 0);
	got = decode_counted(buf, len, 0);
	cr_assert_leq(got, 2 * len);
	cr_assert_geq(got, (size_t)LIM_RESULT_MAX);
	free(buf);
	free(big);
}

/* Hostile frames: refused with nothing allocated, whatever they declare. */
Test(alloc, hostile_frames_allocate_nothing)
{
	static const struct {
		const char *what, *buf;
		size_t len;
		int want;
	} cases[] = {
#define C(w, s, want) { w, s, sizeof(s) - 1, want }
		C("array32(2^31)", "\xdd\x80\0\0\0", ERR_TYPE),
		C("map32(2^31)", "\xdf\x80\0\0\0", ERR_TOOBIG),
		C("map32(4096) short", "\xdf\0\0\x10\0\xa1t", ERR_TRUNC),
		C("args str32(2^31)", "\x82\xa1t\x03\xa4" "args\xdb\x80\0\0\0", ERR_TOOBIG),
		C("id array32(2^31)", "\x82\xa1t\x0d\xa2id\xdd\x80\0\0\0", ERR_TYPE),
#undef C
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = decode_counted((const uint8_t *)cases[i].buf, cases[i].len,
		    cases[i].want);

		cr_assert_eq(got, 0, "%s allocated %zu bytes", cases[i].what, got);
	}
}

Test(alloc, four_mb_of_nils)
{
	size_t len = 4u << 20;
	uint8_t *b = malloc(len);

	memset(b, 0xc0, len);
	cr_assert_eq(decode_counted(b, len, ERR_TYPE), 0);
	memcpy(b, "\x81\xa1t\x0c", 4);	/* a SHUTDOWN followed by 4 MB of nils */
	cr_assert_eq(decode_counted(b, len, ERR_TRAILING), 0);
	free(b);
}

/* A big valid CALL spoiled by its last key: validation ends before the copy starts. */
Test(alloc, spoiled_big_frame_allocates_nothing)
{
	struct mp_wr w;
	char *args = malloc(LIM_ARGS_MAX + 1);
	uint8_t *buf;
	size_t len;

	memset(args, 'a', LIM_ARGS_MAX);
	args[0] = '"';
	args[LIM_ARGS_MAX - 1] = '"';
	args[LIM_ARGS_MAX] = '\0';
	mp_wr_init(&w, LIM_MSG_MAX);
	mp_wr_map(&w, 6);
	mp_wr_cstr(&w, "t");
	mp_wr_uint(&w, MSG_CALL);
	mp_wr_cstr(&w, "id");
	mp_wr_uint(&w, 1);
	mp_wr_cstr(&w, "tool");
	mp_wr_cstr(&w, "argocd");
	mp_wr_cstr(&w, "op");
	mp_wr_cstr(&w, "sync");
	mp_wr_cstr(&w, "args");
	mp_wr_cstr(&w, args);
	mp_wr_cstr(&w, "result");	/* not a CALL key */
	mp_wr_cstr(&w, "{}");
	cr_assert_eq(mp_wr_finish(&w, &buf, &len), 0);
	cr_assert_eq(decode_counted(buf, len, ERR_UNKNOWN), 0);
	/* without the spoiler it is a valid CALL and allocates about the args size */
	buf[0] = 0x85;
	cr_assert_geq(decode_counted(buf, len - 10, 0), (size_t)LIM_ARGS_MAX);
	free(buf);
	free(args);
}
