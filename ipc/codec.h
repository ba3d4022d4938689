/* A typed msgpack reader over a bounds-checked cursor, and a writer.
 *
 * The reader never trusts a declared length or count: each is checked against the bytes left
 * (every element needs at least one byte) and against the caps in ipc/limits.h before anything
 * is allocated or looped over. Strings are checked for UTF-8 and refused if they contain NUL.
 * The reader does not allocate at all: strings are returned as pointers into the frame.
 *
 * Errors: ERR_TRUNC (input ends inside a value, or a declared count/length exceeds the bytes
 * left), ERR_TYPE (another type than asked for, or an int that does not fit), ERR_TOOBIG (a
 * declared count or length over its cap), ERR_DEPTH, ERR_UTF8 (invalid UTF-8 or an embedded NUL),
 * ERR_PROTO (the never-used byte 0xc1). A failed read leaves the cursor where it was.
 */
#ifndef CORRAL_IPC_CODEC_H
#define CORRAL_IPC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mp_rd {
	const uint8_t *p, *end;
	unsigned depth;		/* containers entered and not yet finished */
};

void mp_rd_init(struct mp_rd *r, const uint8_t *buf, size_t len);
int mp_rd_map(struct mp_rd *r, uint32_t *n);	/* enters a map of n pairs */
int mp_rd_array(struct mp_rd *r, uint32_t *n);
int mp_rd_str(struct mp_rd *r, const char **s, uint32_t *len);	/* UTF-8, no NUL, <= LIM_STR_MAX */
int mp_rd_bin(struct mp_rd *r, const uint8_t **b, uint32_t *len);
int mp_rd_uint(struct mp_rd *r, uint64_t *v);	/* any non-negative int encoding */
int mp_rd_int(struct mp_rd *r, int64_t *v);	/* any int encoding that fits */
int mp_rd_bool(struct mp_rd *r, bool *v);
int mp_rd_nil(struct mp_rd *r);
int mp_rd_double(struct mp_rd *r, double *v);	/* float32/float64 */
void mp_rd_leave(struct mp_rd *r);		/* a container entered with map/array is done */
int mp_rd_end(struct mp_rd *r);			/* ERR_TRAILING if bytes remain */

/* The kind of the next value without consuming it (ERR_TRUNC at the end, ERR_PROTO for 0xc1). */
enum mp_kind {
	MP_NIL = 1, MP_BOOL, MP_UINT, MP_INT /* negative */, MP_FLOAT, MP_STR, MP_BIN,
	MP_ARRAY, MP_MAP, MP_EXT,
};
int mp_rd_peek(const struct mp_rd *r);
/* Skip one whole value, containers included (same caps and checks, strings UTF-8-checked). */
int mp_rd_skip(struct mp_rd *r);
size_t mp_rd_left(const struct mp_rd *r);

/* Writer into a growable buffer capped at max bytes. Errors are sticky in w->err: write
 * everything, then check mp_wr_finish(). The writer refuses what the reader would refuse:
 * strings that are not UTF-8 or hold NUL (ERR_UTF8), str/bin over LIM_STR_MAX and containers
 * over LIM_ARRAY_MAX (ERR_TOOBIG); past max bytes: ERR_TOOBIG. Ints use the shortest form. */
struct mp_wr {
	uint8_t *buf;
	size_t len, cap, max;
	int err;
};

void mp_wr_init(struct mp_wr *w, size_t max);
void mp_wr_map(struct mp_wr *w, uint32_t n);
void mp_wr_array(struct mp_wr *w, uint32_t n);
void mp_wr_str(struct mp_wr *w, const char *s, size_t len);
void mp_wr_cstr(struct mp_wr *w, const char *s);
void mp_wr_bin(struct mp_wr *w, const void *b, size_t len);
void mp_wr_uint(struct mp_wr *w, uint64_t v);
void mp_wr_int(struct mp_wr *w, int64_t v);
void mp_wr_bool(struct mp_wr *w, bool v);
void mp_wr_nil(struct mp_wr *w);
void mp_wr_double(struct mp_wr *w, double v);
/* Returns w->err; on success hands the buffer to the caller (*out, *len). */
int mp_wr_finish(struct mp_wr *w, uint8_t **out, size_t *len);
void mp_wr_free(struct mp_wr *w);

/* UTF-8 validity (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
bool utf8_valid(const char *s, size_t len);

#endif
