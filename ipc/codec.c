/* Typed msgpack reader over a bounds-checked cursor, and a capped writer on msgpack-c's packer.
 *
 * The reader never hands a declared count or length to an allocator or a loop before checking
 * it against the bytes left and the caps in ipc/limits.h: msgpack-c's own unpacker reserves
 * memory for declared sizes first (SANDBOX.md, gotcha 3), which is why it is not used here.
 */
#include <errno.h>
#include <limits.h>	/* the system one, before msgpack.h (needs CHAR_MIN) */
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "ipc/codec.h"
#include "ipc/err.h"
#include "ipc/limits.h"

/* ---------------------------------------------------------------- UTF-8 */

/* Length of the sequence led by byte c, 0 for a byte that cannot lead one. */
static unsigned
utf8_seqlen(uint8_t c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;	/* continuation byte, overlong lead 0xc0/0xc1, or > U+10FFFF */
}

bool
utf8_valid(const char *str, size_t len)
{
	const uint8_t *s = (const uint8_t *)str, *end = s + len;

	while (s < end) {
		unsigned n;
		uint8_t lo = 0x80, hi = 0xbf;
		uint64_t w8;

		/* ASCII runs (most of every frame: JSON text) eight bytes at a time. */
		while ((size_t)(end - s) >= 8 && (memcpy(&w8, s, 8), (w8 & 0x8080808080808080ull) == 0))
			s += 8;
		if (s == end)
			break;
		if ((n = utf8_seqlen(*s)) == 1) {
			s++;
			continue;
		}
		if (n == 0 || (size_t)(end - s) < n)
			return false;
		/* The second byte's range rules out overlongs, surrogates and > U+10FFFF. */
		if (*s == 0xe0)
			lo = 0xa0;
		else if (*s == 0xed)
			hi = 0x9f;
		else if (*s == 0xf0)
			lo = 0x90;
		else if (*s == 0xf4)
			hi = 0x8f;
		for (unsigned i = 1; i < n; i++) {
			if (s[i] < lo || s[i] > hi)
				return false;
			lo = 0x80;
			hi = 0xbf;
		}
		s += n;
	}
	return true;
}

/* ---------------------------------------------------------------- reader */

/* The next value's header, parsed but not consumed. */
struct mp_head {
	int kind;		/* enum mp_kind */
	size_t hlen;		/* header bytes (payload of str/bin/ext follows) */
	uint64_t n;		/* container count, or str/bin/ext payload length */
	uint64_t u;		/* MP_UINT value */
	int64_t i;		/* MP_INT value (negative) */
	double d;
	bool b;
};

static uint64_t
be_load(const uint8_t *p, unsigned k)
{
	uint64_t v = 0;

	for (unsigned j = 0; j < k; j++)
		v = v << 8 | p[j];
	return v;
}

static void
head_sint(struct mp_head *h, int64_t v)
{
	/* An int encoding of a non-negative value is a uint as far as readers care. */
	if (v >= 0) {
		h->kind = MP_UINT;
		h->u = (uint64_t)v;
	} else {
		h->kind = MP_INT;
		h->i = v;
	}
}

static int64_t
sign_extend(uint64_t v, unsigned k)
{
	unsigned shift = 64 - 8 * k;

	return (int64_t)(v << shift) >> shift;
}

/* Fixed-width forms 0xc4..0xdf: kind, bytes of length/value after the type byte. */
static const struct {
	uint8_t kind, k;
} fixed[] = {
	[0xc4 - 0xc4] = { MP_BIN, 1 }, { MP_BIN, 2 }, { MP_BIN, 4 },
	[0xc7 - 0xc4] = { MP_EXT, 1 }, { MP_EXT, 2 }, { MP_EXT, 4 },
	[0xca - 0xc4] = { MP_FLOAT, 4 }, { MP_FLOAT, 8 },
	[0xcc - 0xc4] = { MP_UINT, 1 }, { MP_UINT, 2 }, { MP_UINT, 4 }, { MP_UINT, 8 },
	[0xd0 - 0xc4] = { MP_INT, 1 }, { MP_INT, 2 }, { MP_INT, 4 }, { MP_INT, 8 },
	[0xd4 - 0xc4] = { MP_EXT, 0 }, { MP_EXT, 0 }, { MP_EXT, 0 }, { MP_EXT, 0 }, { MP_EXT, 0 },
	[0xd9 - 0xc4] = { MP_STR, 1 }, { MP_STR, 2 }, { MP_STR, 4 },
	[0xdc - 0xc4] = { MP_ARRAY, 2 }, { MP_ARRAY, 4 },
	[0xde - 0xc4] = { MP_MAP, 2 }, { MP_MAP, 4 },
};

static int
head_fixed(const uint8_t *p, size_t left, struct mp_head *h)
{
	uint8_t c = p[0];
	unsigned k = fixed[c - 0xc4].k;
	uint64_t v;

	h->kind = fixed[c - 0xc4].kind;
	if (c >= 0xd4 && c <= 0xd8) {	/* fixext 1..16: type byte, then 2^(c-0xd4) bytes */
		if (left < 2)
			return ERR_TRUNC;
		h->hlen = 2;
		h->n = 1u << (c - 0xd4);
		return 0;
	}
	if (left < 1 + (size_t)k)
		return ERR_TRUNC;
	v = be_load(p + 1, k);
	h->hlen = 1 + k;
	switch (h->kind) {
	case MP_UINT:
		h->u = v;
		break;
	case MP_INT:
		head_sint(h, sign_extend(v, k));
		break;
	case MP_FLOAT:
		if (k == 4) {
			uint32_t v32 = (uint32_t)v;
			float f;

			memcpy(&f, &v32, sizeof(f));
			h->d = f;
		} else {
			memcpy(&h->d, &v, sizeof(h->d));
		}
		break;
	case MP_EXT:		/* ext 8/16/32: length, then a type byte */
		if (left < 2 + (size_t)k)
			return ERR_TRUNC;
		h->hlen = 2 + k;
		h->n = v;
		break;
	default:		/* str, bin, array, map: v is the count or length */
		h->n = v;
	}
	return 0;
}

static int
rd_head(const struct mp_rd *r, struct mp_head *h)
{
	size_t left = (size_t)(r->end - r->p);
	uint8_t c;

	memset(h, 0, sizeof(*h));
	if (left == 0)
		return ERR_TRUNC;
	c = r->p[0];
	h->hlen = 1;
	if (c <= 0x7f) {
		h->kind = MP_UINT;
		h->u = c;
	} else if (c <= 0x8f) {
		h->kind = MP_MAP;
		h->n = c & 0x0f;
	} else if (c <= 0x9f) {
		h->kind = MP_ARRAY;
		h->n = c & 0x0f;
	} else if (c <= 0xbf) {
		h->kind = MP_STR;
		h->n = c & 0x1f;
	} else if (c == 0xc0) {
		h->kind = MP_NIL;
	} else if (c == 0xc1) {
		return ERR_PROTO;
	} else if (c <= 0xc3) {
		h->kind = MP_BOOL;
		h->b = c == 0xc3;
	} else if (c <= 0xdf) {
		return head_fixed(r->p, left, h);
	} else {
		h->kind = MP_INT;
		h->i = (int8_t)c;
	}
	return 0;
}

void
mp_rd_init(struct mp_rd *r, const uint8_t *buf, size_t len)
{
	r->p = buf;
	r->end = buf + len;
	r->depth = 0;
}

size_t
mp_rd_left(const struct mp_rd *r)
{
	return (size_t)(r->end - r->p);
}

int
mp_rd_peek(const struct mp_rd *r)
{
	struct mp_head h;
	int rv;

	if ((rv = rd_head(r, &h)) < 0)
		return rv;
	return h.kind;
}

/* Read a header of the wanted kind. */
static int
rd_want(const struct mp_rd *r, int kind, struct mp_head *h)
{
	int rv;

	if ((rv = rd_head(r, h)) < 0)
		return rv;
	if (h->kind != kind)
		return ERR_TYPE;
	return 0;
}

static int
rd_container(struct mp_rd *r, int kind, uint32_t *n)
{
	struct mp_head h;
	uint64_t per = kind == MP_MAP ? 2 : 1;	/* values per declared element */
	int rv;

	if ((rv = rd_want(r, kind, &h)) < 0)
		return rv;
	if (r->depth >= LIM_DEPTH_MAX)
		return ERR_DEPTH;
	if (h.n > LIM_ARRAY_MAX)
		return ERR_TOOBIG;
	/* Every element takes at least one byte: a count the input cannot hold is a lie. */
	if (h.n * per > mp_rd_left(r) - h.hlen)
		return ERR_TRUNC;
	r->p += h.hlen;
	r->depth++;
	*n = (uint32_t)h.n;
	return 0;
}

int
mp_rd_map(struct mp_rd *r, uint32_t *n)
{
	return rd_container(r, MP_MAP, n);
}

int
mp_rd_array(struct mp_rd *r, uint32_t *n)
{
	return rd_container(r, MP_ARRAY, n);
}

void
mp_rd_leave(struct mp_rd *r)
{
	if (r->depth > 0)
		r->depth--;
}

/* A str/bin/ext payload: cap, then bytes left. */
static int
rd_payload(struct mp_rd *r, const struct mp_head *h, const uint8_t **b)
{
	if (h->n > LIM_STR_MAX)
		return ERR_TOOBIG;
	if (h->n > mp_rd_left(r) - h->hlen)
		return ERR_TRUNC;
	*b = r->p + h->hlen;
	return 0;
}

int
mp_rd_str(struct mp_rd *r, const char **s, uint32_t *len)
{
	struct mp_head h;
	const uint8_t *b;
	int rv;

	if ((rv = rd_want(r, MP_STR, &h)) < 0 || (rv = rd_payload(r, &h, &b)) < 0)
		return rv;
	if (memchr(b, 0, h.n) != NULL || !utf8_valid((const char *)b, h.n))
		return ERR_UTF8;
	r->p = b + h.n;
	*s = (const char *)b;
	*len = (uint32_t)h.n;
	return 0;
}

int
mp_rd_bin(struct mp_rd *r, const uint8_t **bp, uint32_t *len)
{
	struct mp_head h;
	const uint8_t *b;
	int rv;

	if ((rv = rd_want(r, MP_BIN, &h)) < 0 || (rv = rd_payload(r, &h, &b)) < 0)
		return rv;
	r->p = b + h.n;
	*bp = b;
	*len = (uint32_t)h.n;
	return 0;
}

int
mp_rd_uint(struct mp_rd *r, uint64_t *v)
{
	struct mp_head h;
	int rv;

	if ((rv = rd_want(r, MP_UINT, &h)) < 0)
		return rv;
	r->p += h.hlen;
	*v = h.u;
	return 0;
}

int
mp_rd_int(struct mp_rd *r, int64_t *v)
{
	struct mp_head h;
	int rv;

	if ((rv = rd_head(r, &h)) < 0)
		return rv;
	if (h.kind == MP_UINT && h.u <= INT64_MAX)
		*v = (int64_t)h.u;
	else if (h.kind == MP_INT)
		*v = h.i;
	else
		return ERR_TYPE;
	r->p += h.hlen;
	return 0;
}

int
mp_rd_bool(struct mp_rd *r, bool *v)
{
	struct mp_head h;
	int rv;

	if ((rv = rd_want(r, MP_BOOL, &h)) < 0)
		return rv;
	r->p += h.hlen;
	*v = h.b;
	return 0;
}

int
mp_rd_nil(struct mp_rd *r)
{
	struct mp_head h;
	int rv;

	if ((rv = rd_want(r, MP_NIL, &h)) < 0)
		return rv;
	r->p += h.hlen;
	return 0;
}

int
mp_rd_double(struct mp_rd *r, double *v)
{
	struct mp_head h;
	int rv;

	if ((rv = rd_want(r, MP_FLOAT, &h)) < 0)
		return rv;
	r->p += h.hlen;
	*v = h.d;
	return 0;
}

int
mp_rd_end(struct mp_rd *r)
{
	return r->p == r->end ? 0 : ERR_TRAILING;
}

/* Recursion is bounded by LIM_DEPTH_MAX through rd_container. */
static int
rd_skip(struct mp_rd *r)
{
	struct mp_head h;
	const uint8_t *b;
	const char *s;
	uint32_t n, len;
	int rv;

	if ((rv = rd_head(r, &h)) < 0)
		return rv;
	switch (h.kind) {
	case MP_MAP:
	case MP_ARRAY:
		if ((rv = rd_container(r, h.kind, &n)) < 0)
			return rv;
		for (uint64_t i = 0; i < (uint64_t)n * (h.kind == MP_MAP ? 2 : 1); i++)
			if ((rv = rd_skip(r)) < 0)
				return rv;
		mp_rd_leave(r);
		return 0;
	case MP_STR:
		return mp_rd_str(r, &s, &len);
	case MP_BIN:
	case MP_EXT:
		if ((rv = rd_payload(r, &h, &b)) < 0)
			return rv;
		r->p = b + h.n;
		return 0;
	default:
		r->p += h.hlen;
		return 0;
	}
}

int
mp_rd_skip(struct mp_rd *r)
{
	struct mp_rd save = *r;
	int rv;

	if ((rv = rd_skip(r)) < 0)
		*r = save;
	return rv;
}

/* ---------------------------------------------------------------- writer */

void
mp_wr_init(struct mp_wr *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
}

/* Grow by copying, not realloc: the old block is wiped, since frames may carry a credential. */
static int
wr_grow(struct mp_wr *w, size_t need)
{
	size_t cap = w->cap ? w->cap : 256;
	uint8_t *nb;

	while (cap < need)
		cap = cap > w->max / 2 ? w->max : cap * 2;
	if (cap > w->max)
		cap = w->max;
	if ((nb = malloc(cap)) == NULL)
		return -ENOMEM;
	if (w->buf != NULL) {
		memcpy(nb, w->buf, w->len);
		explicit_bzero(w->buf, w->len);
		free(w->buf);
	}
	w->buf = nb;
	w->cap = cap;
	return 0;
}

/* msgpack_packer write callback. */
static int
wr_put(void *data, const char *b, size_t n)
{
	struct mp_wr *w = data;
	int rv;

	if (w->err != 0)
		return -1;
	if (n > w->max - w->len) {
		w->err = ERR_TOOBIG;
		return -1;
	}
	if (w->len + n > w->cap && (rv = wr_grow(w, w->len + n)) < 0) {
		w->err = rv;
		return -1;
	}
	memcpy(w->buf + w->len, b, n);
	w->len += n;
	return 0;
}

#define WR_BEGIN(w, pk)							\
	msgpack_packer pk;						\
	if ((w)->err != 0)						\
		return;							\
	msgpack_packer_init(&pk, (w), wr_put)

void
mp_wr_map(struct mp_wr *w, uint32_t n)
{
	WR_BEGIN(w, pk);
	if (n > LIM_ARRAY_MAX) {
		w->err = ERR_TOOBIG;
		return;
	}
	msgpack_pack_map(&pk, n);
}

void
mp_wr_array(struct mp_wr *w, uint32_t n)
{
	WR_BEGIN(w, pk);
	if (n > LIM_ARRAY_MAX) {
		w->err = ERR_TOOBIG;
		return;
	}
	msgpack_pack_array(&pk, n);
}

void
mp_wr_str(struct mp_wr *w, const char *s, size_t len)
{
	WR_BEGIN(w, pk);
	if (len > LIM_STR_MAX) {
		w->err = ERR_TOOBIG;
		return;
	}
	if (len > 0 && (s == NULL || memchr(s, 0, len) != NULL || !utf8_valid(s, len))) {
		w->err = s == NULL ? -EINVAL : ERR_UTF8;
		return;
	}
	if (msgpack_pack_str(&pk, len) == 0 && len > 0)
		msgpack_pack_str_body(&pk, s, len);
}

void
mp_wr_cstr(struct mp_wr *w, const char *s)
{
	if (s == NULL) {
		if (w->err == 0)
			w->err = -EINVAL;
		return;
	}
	mp_wr_str(w, s, strlen(s));
}

void
mp_wr_bin(struct mp_wr *w, const void *b, size_t len)
{
	WR_BEGIN(w, pk);
	if (len > LIM_STR_MAX || (len > 0 && b == NULL)) {
		w->err = len > LIM_STR_MAX ? ERR_TOOBIG : -EINVAL;
		return;
	}
	if (msgpack_pack_bin(&pk, len) == 0 && len > 0)
		msgpack_pack_bin_body(&pk, b, len);
}

void
mp_wr_uint(struct mp_wr *w, uint64_t v)
{
	WR_BEGIN(w, pk);
	msgpack_pack_uint64(&pk, v);
}

void
mp_wr_int(struct mp_wr *w, int64_t v)
{
	WR_BEGIN(w, pk);
	msgpack_pack_int64(&pk, v);
}

void
mp_wr_bool(struct mp_wr *w, bool v)
{
	WR_BEGIN(w, pk);
	if (v)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
}

void
mp_wr_nil(struct mp_wr *w)
{
	WR_BEGIN(w, pk);
	msgpack_pack_nil(&pk);
}

void
mp_wr_double(struct mp_wr *w, double v)
{
	WR_BEGIN(w, pk);
	msgpack_pack_double(&pk, v);
}

int
mp_wr_finish(struct mp_wr *w, uint8_t **out, size_t *len)
{
	int rv = w->err;

	if (rv == 0 && w->len == 0)
		rv = -EINVAL;	/* nothing written: a caller bug, not an empty frame */
	if (rv < 0) {
		mp_wr_free(w);
		w->err = rv;
		return rv;
	}
	*out = w->buf;
	*len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return 0;
}

void
mp_wr_free(struct mp_wr *w)
{
	if (w == NULL)
		return;
	if (w->buf != NULL) {
		explicit_bzero(w->buf, w->len);
		free(w->buf);
	}
	w->buf = NULL;
	w->len = w->cap = 0;
}
