/* The audit writer's JSON serialiser: the bytes json_dumpb(JSON_SORT_KEYS | JSON_COMPACT) gives
 * (jansson 2.14's escaping and key order), written straight into the line buffer with the
 * writer's members (seq, time, prev) merged in, so an append needs no copy of the caller's
 * record, no malloc and no per-character callback. The format stays exactly jansson's: a
 * verifier never re-serialises, but tools and tests may compare lines with jansson's output.
 * Reals, and objects too wide or too deep for the fixed key arrays, are handed to jansson. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "ipc/err.h"
#include "supervisor/audit.h"
#include "supervisor/audit_int.h"

#define DUMP_FLAGS	(JSON_SORT_KEYS | JSON_COMPACT)
#define KEYS_MAX	64		/* wider objects go to jansson */
#define DEPTH_MAX	32		/* deeper values go to jansson */

struct dw {
	char *p;
	size_t n, cap;
	bool over;			/* out of room: the length is still counted */
};

struct kv {
	const char *k;
	size_t klen;
	const json_t *v;		/* NULL: raw is the value's text */
	const char *raw;
	size_t rawlen;
};

static inline void
dw_put(struct dw *w, const char *s, size_t k)
{
	if (w->n + k <= w->cap)
		memcpy(w->p + w->n, s, k);
	else
		w->over = true;
	w->n += k;
}

static inline void
dw_putc(struct dw *w, char c)
{
	if (w->n < w->cap)
		w->p[w->n] = c;
	else
		w->over = true;
	w->n++;
}

/* Length of the UTF-8 sequence at s (first byte >= 0x80), 0 when invalid (jansson's rules:
 * no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	uint32_t cp;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Bytes that end a run copied as is: control characters, '"', '\\', non-ASCII. */
static const uint8_t special[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

static int
dump_str(struct dw *w, const char *str, size_t len)
{
	static const char hexu[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	size_t run = 0;

	dw_putc(w, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c;
		char esc[6] = { '\\', 0, '0', '0', 0, 0 };
		size_t elen = 2, k;

		while (i < len && !special[s[i]])
			i++;
		if (i == len)
			break;
		c = s[i];
		if (c >= 0x80) {
			if ((k = utf8_seq(s + i, len - i)) == 0)
				return -EINVAL;
			i += k - 1;
			continue;
		}
		dw_put(w, str + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[4] = hexu[c >> 4];
			esc[5] = hexu[c & 15];
			elen = 6;
		}
		dw_put(w, esc, elen);
	}
	dw_put(w, str + run, len - run);
	dw_putc(w, '"');
	return 0;
}

static size_t
fmt_i64(char buf[24], long long v)
{
	char tmp[24];
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	size_t n = 0, k = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		buf[k++] = '-';
	while (n > 0)
		buf[k++] = tmp[--n];
	return k;
}

/* jansson for what the fixed arrays do not cover; its output is the reference anyway. */
static int
dump_jansson(struct dw *w, const json_t *v)
{
	size_t room = w->n < w->cap ? w->cap - w->n : 0;
	size_t n = json_dumpb(v, w->p + w->n, room, DUMP_FLAGS | JSON_ENCODE_ANY);

	if (n == 0)
		return -EINVAL;
	if (n > room)
		w->over = true;
	w->n += n;
	return 0;
}

/* jansson 2.14 sorts keys by memcmp over the shorter length, then by length. */
static int
kv_cmp(const struct kv *a, const struct kv *b)
{
	int c = memcmp(a->k, b->k, a->klen < b->klen ? a->klen : b->klen);

	if (c != 0)
		return c;
	return a->klen < b->klen ? -1 : a->klen > b->klen;
}

static void
kv_sort(struct kv *e, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct kv t = e[i];
		size_t j = i;

		for (; j > 0 && kv_cmp(&e[j - 1], &t) > 0; j--)
			e[j] = e[j - 1];
		e[j] = t;
	}
}

static int dump_value(struct dw *w, const json_t *v, int depth);

static int
dump_members(struct dw *w, struct kv *e, size_t n, int depth)
{
	int r;

	kv_sort(e, n);
	dw_putc(w, '{');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			dw_putc(w, ',');
		if ((r = dump_str(w, e[i].k, e[i].klen)) < 0)
			return r;
		dw_putc(w, ':');
		if (e[i].v == NULL)
			dw_put(w, e[i].raw, e[i].rawlen);
		else if ((r = dump_value(w, e[i].v, depth + 1)) < 0)
			return r;
	}
	dw_putc(w, '}');
	return 0;
}

static int
dump_object(struct dw *w, const json_t *o, int depth)
{
	struct kv e[KEYS_MAX];
	const char *k;
	size_t klen, n = 0;
	json_t *v;

	if (json_object_size(o) > KEYS_MAX || depth >= DEPTH_MAX)
		return dump_jansson(w, o);
	json_object_keylen_foreach((json_t *)o, k, klen, v)
		e[n++] = (struct kv){ .k = k, .klen = klen, .v = v };
	return dump_members(w, e, n, depth);
}

static int
dump_value(struct dw *w, const json_t *v, int depth)
{
	char num[24];
	int r;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return dump_object(w, v, depth);
	case JSON_ARRAY:
		if (depth >= DEPTH_MAX)
			return dump_jansson(w, v);
		dw_putc(w, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				dw_putc(w, ',');
			if ((r = dump_value(w, json_array_get(v, i), depth + 1)) < 0)
				return r;
		}
		dw_putc(w, ']');
		return 0;
	case JSON_STRING:
		return dump_str(w, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		dw_put(w, num, fmt_i64(num, json_integer_value(v)));
		return 0;
	case JSON_TRUE:
		dw_put(w, "true", 4);
		return 0;
	case JSON_FALSE:
		dw_put(w, "false", 5);
		return 0;
	case JSON_NULL:
		dw_put(w, "null", 4);
		return 0;
	default:
		return dump_jansson(w, v);
	}
}

static bool
writer_key(const char *k, size_t klen)
{
	return (klen == 3 && (memcmp(k, "seq", 3) == 0 || memcmp(k, "mac", 3) == 0)) ||
	    (klen == 4 && (memcmp(k, "time", 4) == 0 || memcmp(k, "prev", 4) == 0));
}

int
audit_dump_rec(const json_t *rec, uint64_t seq, const char *time, const char *prev, char *out,
    size_t cap, size_t *len)
{
	struct kv e[KEYS_MAX + 3];
	struct dw w = { .p = out, .cap = cap };
	char seqs[24], times[40], prevs[AUDIT_HEX_LEN + 2];
	size_t klen, n = 0, tl = strlen(time);
	const char *k;
	json_t *v;
	int r;

	if (json_object_size(rec) > KEYS_MAX || tl > sizeof(times) - 2 ||
	    strlen(prev) != AUDIT_HEX_LEN)
		return -E2BIG;
	json_object_keylen_foreach((json_t *)rec, k, klen, v)
		if (!writer_key(k, klen))
			e[n++] = (struct kv){ .k = k, .klen = klen, .v = v };
	/* time is RFC 3339 and prev lower-case hex: nothing to escape. */
	times[0] = prevs[0] = '"';
	memcpy(times + 1, time, tl);
	times[tl + 1] = '"';
	memcpy(prevs + 1, prev, AUDIT_HEX_LEN);
	prevs[AUDIT_HEX_LEN + 1] = '"';
	e[n++] = (struct kv){ .k = "seq", .klen = 3, .raw = seqs,
		.rawlen = fmt_i64(seqs, (long long)seq) };
	e[n++] = (struct kv){ .k = "time", .klen = 4, .raw = times, .rawlen = tl + 2 };
	e[n++] = (struct kv){ .k = "prev", .klen = 4, .raw = prevs, .rawlen = sizeof(prevs) };
	if ((r = dump_members(&w, e, n, 0)) < 0)
		return r;
	*len = w.n;
	return w.over ? ERR_TOOBIG : 0;
}
