/* Response shaping for the GitHub Actions, GitLab CI and Jenkins families (see paginate.h):
 * text tails as valid UTF-8, base64, zip listings, credential scrubbing, field picking and
 * dry-run descriptions. Pure code, no I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/paginate.h"

/* ------------------------------------------------------------------ text */

/* Length of the well-formed UTF-8 sequence at p (n bytes left; RFC 3629: no overlongs, no
 * surrogates, <= U+10FFFF), or 0 when it is not one. NUL counts as not one. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return c != 0 ? 1 : 0;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

bool
tool_pg_is_text(const char *p, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if ((k = utf8_seq((const unsigned char *)p + i, n - i)) == 0)
			return false;
	return true;
}

/* A JSON string of p[0..n) with every byte that is not valid UTF-8 (and NUL) as U+FFFD. */
static json_t *
json_text(const char *p, size_t n)
{
	char *o;
	size_t k, j = 0;
	json_t *s;

	if (tool_pg_is_text(p, n))
		return json_stringn(p, n);
	if (n > SIZE_MAX / 3 - 1 || (o = malloc(n * 3 + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += k) {
		if ((k = utf8_seq((const unsigned char *)p + i, n - i)) == 0) {
			memcpy(o + j, "\xef\xbf\xbd", 3);
			j += 3;
			k = 1;
			continue;
		}
		memcpy(o + j, p + i, k);
		j += k;
	}
	s = json_stringn(o, j);
	free(o);
	return s;
}

/* Remove ANSI escape sequences in place (CSI "ESC [ ... final", OSC "ESC ] ... BEL|ESC \",
 * other two-byte escapes); returns the new length. */
static size_t
ansi_strip(char *b, size_t n)
{
	size_t o = 0, i = 0;

	while (i < n) {
		if (b[i] != 0x1b) {
			b[o++] = b[i++];
			continue;
		}
		if (i + 1 >= n)
			break;
		if (b[i + 1] == '[') {
			for (i += 2; i < n && !(b[i] >= 0x40 && b[i] <= 0x7e); i++)
				;
			i = i < n ? i + 1 : n;
		} else if (b[i + 1] == ']') {
			for (i += 2; i < n && b[i] != 0x07 && !(b[i] == 0x1b && i + 1 < n &&
			    b[i + 1] == '\\'); i++)
				;
			i = i >= n ? n : (b[i] == 0x07 ? i + 1 : i + 2);
		} else {
			i += 2;
		}
	}
	return o;
}

json_t *
tool_pg_text_tail(char *buf, size_t len, size_t tail, bool strip_ansi, bool *cut)
{
	size_t start = 0;

	*cut = false;
	if (buf == NULL)
		return json_string("");
	if (strip_ansi)
		len = ansi_strip(buf, len);
	if (len > tail) {
		const char *nl;
		size_t look = tail < 4096 ? tail : 4096;

		start = len - tail;
		*cut = true;
		/* start at a line when one begins near the cut, else at a character boundary */
		if ((nl = memchr(buf + start, '\n', look)) != NULL &&
		    (size_t)(nl + 1 - buf) < len)
			start = (size_t)(nl + 1 - buf);
		else
			while (start < len && ((unsigned char)buf[start] & 0xc0) == 0x80)
				start++;
	}
	return json_text(buf + start, len - start);
}

int
tool_pg_b64(const unsigned char *p, size_t n, char **out, size_t *outlen)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t olen = (n + 2) / 3 * 4, o = 0, i;
	char *b;

	if (n > (SIZE_MAX - 4) / 4 * 3 || (b = malloc(olen + 1)) == NULL)
		return -ENOMEM;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		b[o++] = tab[v >> 18];
		b[o++] = tab[(v >> 12) & 63];
		b[o++] = tab[(v >> 6) & 63];
		b[o++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		b[o++] = tab[v >> 18];
		b[o++] = tab[(v >> 12) & 63];
		b[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		b[o++] = '=';
	}
	b[o] = '\0';
	*out = b;
	if (outlen != NULL)
		*outlen = o;
	return 0;
}

/* ------------------------------------------------------------------ zip listing */

static uint32_t
le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* Offset of the end-of-central-directory record, searched backwards over the comment. */
static bool
zip_eocd(const unsigned char *p, size_t n, size_t *at)
{
	size_t lo;

	if (n < 22)
		return false;
	lo = n - 22 > 65535 ? n - 22 - 65535 : 0;
	for (size_t i = n - 22 + 1; i-- > lo;)
		if (le32(p + i) == 0x06054b50 && i + 22 + le16(p + i + 20) == n) {
			*at = i;
			return true;
		}
	return false;
}

json_t *
tool_pg_zip_list(const unsigned char *p, size_t n)
{
	size_t eocd, off, total, cdend;
	json_t *files;

	if (p == NULL || !zip_eocd(p, n, &eocd))
		return NULL;
	total = le16(p + eocd + 10);
	off = le32(p + eocd + 16);
	cdend = off + (size_t)le32(p + eocd + 12);
	if (off == 0xffffffffu || cdend > eocd || cdend < off)
		return NULL;	/* zip64 or inconsistent: not listed */
	files = json_array();
	for (size_t k = 0; k < total && files != NULL; k++) {
		size_t nl, adv;

		if (off + 46 > cdend || le32(p + off) != 0x02014b50)
			goto bad;
		nl = le16(p + off + 28);
		adv = 46 + nl + le16(p + off + 30) + le16(p + off + 32);
		if (off + adv > cdend)
			goto bad;
		if (k < TOOL_PG_ZIP_ENTRIES_MAX)
			json_array_append_new(files, json_pack("{s:o, s:I, s:I}", "name",
			    json_text((const char *)p + off + 46, nl), "size",
			    (json_int_t)le32(p + off + 24), "compressed_size",
			    (json_int_t)le32(p + off + 20)));
		off += adv;
	}
	return json_pack("{s:o, s:I}", "files", files, "total", (json_int_t)total);
bad:
	json_decref(files);
	return NULL;
}

/* ------------------------------------------------------------------ secrets */

#define REDACTED "[REDACTED]"

struct needles {
	const char *s[2];
	size_t n[2];
	size_t count;
};

static void
needles_of(const struct tool_call *call, const struct tool_pg_cred *c, struct needles *nd)
{
	const char *sec = tool_pg_secret(call);

	nd->count = 0;
	if (sec != NULL && strlen(sec) >= TOOL_PG_SECRET_MIN) {
		nd->s[nd->count] = sec;
		nd->n[nd->count++] = strlen(sec);
	}
	if (c != NULL && c->alt != NULL && c->alt_len >= TOOL_PG_SECRET_MIN) {
		nd->s[nd->count] = c->alt;
		nd->n[nd->count++] = c->alt_len;
	}
}

/* s with every needle replaced; NULL when none occurs (or out of memory: the caller then
 * keeps nothing of s, see scrub_string). */
static char *
replace_all(const char *s, size_t len, const struct needles *nd, size_t *olen, bool *hit)
{
	size_t rl = strlen(REDACTED), o = 0;
	char *out;

	*hit = false;
	for (size_t k = 0; k < nd->count; k++)
		if (memmem(s, len, nd->s[k], nd->n[k]) != NULL)
			*hit = true;
	if (!*hit)
		return NULL;
	/* each byte grows to at most rl bytes (a 1-byte match is not scrubbed: min length) */
	if (len > (SIZE_MAX - 1) / rl || (out = malloc(len * rl + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t k;

		for (k = 0; k < nd->count; k++)
			if (nd->n[k] <= len - i && memcmp(s + i, nd->s[k], nd->n[k]) == 0)
				break;
		if (k < nd->count) {
			memcpy(out + o, REDACTED, rl);
			o += rl;
			i += nd->n[k];
		} else {
			out[o++] = s[i++];
		}
	}
	out[o] = '\0';
	*olen = o;
	return out;
}

/* A replacement for v when it (or something inside it) holds a needle, else NULL. */
static json_t *
scrub_value(json_t *v, const struct needles *nd)
{
	if (json_is_string(v)) {
		size_t ol;
		bool hit;
		char *r = replace_all(json_string_value(v), json_string_length(v), nd, &ol, &hit);
		json_t *s;

		if (!hit)
			return NULL;
		s = r ? json_stringn(r, ol) : json_string(REDACTED);
		free(r);
		return s ? s : json_string(REDACTED);
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *e, *n;

		json_array_foreach(v, i, e)
			if ((n = scrub_value(e, nd)) != NULL)
				json_array_set_new(v, i, n);
		return NULL;
	}
	if (json_is_object(v)) {
		const char *k;
		void *tmp;
		json_t *e, *n, *renamed = json_object();

		json_object_foreach_safe(v, tmp, k, e) {
			size_t ol;
			bool hit;
			char *nk;

			if ((n = scrub_value(e, nd)) != NULL)
				json_object_set_new(v, k, n);
			nk = replace_all(k, strlen(k), nd, &ol, &hit);
			if (hit) {
				json_object_set(renamed, nk ? nk : REDACTED, json_object_get(v, k));
				json_object_del(v, k);
			}
			free(nk);
		}
		json_object_update(v, renamed);
		json_decref(renamed);
	}
	return NULL;
}

int
tool_pg_scrub(json_t **result, const struct tool_call *call, const struct tool_pg_cred *c)
{
	struct needles nd;
	json_t *n;

	needles_of(call, c, &nd);
	if (*result == NULL || nd.count == 0)
		return 0;
	if ((n = scrub_value(*result, &nd)) != NULL) {
		json_decref(*result);
		*result = n;
	}
	return 0;
}

void
tool_pg_scrub_text(char *text, size_t size, const struct tool_call *call,
    const struct tool_pg_cred *c)
{
	struct needles nd;
	size_t ol;
	bool hit;
	char *r;

	needles_of(call, c, &nd);
	if (nd.count == 0 || text == NULL)
		return;
	r = replace_all(text, strlen(text), &nd, &ol, &hit);
	if (hit)
		snprintf(text, size, "%s", r ? r : REDACTED);
	free(r);
}

bool
tool_pg_holds_secret(const struct tool_call *call, const struct tool_pg_cred *c,
    const char *p, size_t n)
{
	struct needles nd;

	needles_of(call, c, &nd);
	for (size_t k = 0; k < nd.count; k++)
		if (p != NULL && memmem(p, n, nd.s[k], nd.n[k]) != NULL)
			return true;
	return false;
}

/* ------------------------------------------------------------------ shaping */

static json_t *
capped(json_t *v)
{
	if (json_is_string(v) && json_string_length(v) > TOOL_PG_TEXT_FIELD_MAX) {
		const char *s = json_string_value(v);
		size_t n = TOOL_PG_TEXT_FIELD_MAX;

		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		return json_stringn(s, n);
	}
	return json_incref(v);
}

static void
pick_one(json_t *src, json_t *out, const char *field)
{
	char path[128], *tok[8], *save = NULL, *t;
	size_t nt = 0;
	json_t *cur = src;

	if (snprintf(path, sizeof(path), "%s", field) >= (int)sizeof(path))
		return;
	for (t = strtok_r(path, ".", &save); t != NULL && nt < 8; t = strtok_r(NULL, ".", &save))
		tok[nt++] = t;
	for (size_t i = 0; i < nt && cur != NULL; i++)
		cur = json_object_get(cur, tok[i]);
	if (cur == NULL || nt == 0)
		return;
	for (size_t i = 0; i + 1 < nt; i++) {
		json_t *child = json_object_get(out, tok[i]);

		if (child == NULL) {
			child = json_object();
			json_object_set_new(out, tok[i], child);
		}
		if (!json_is_object(child))
			return;
		out = child;
	}
	json_object_set_new(out, tok[nt - 1], capped(cur));
}

json_t *
tool_pg_pick(json_t *src, const char *const *fields)
{
	json_t *out = json_object();

	if (out == NULL || !json_is_object(src))
		return out;
	for (size_t i = 0; fields[i] != NULL; i++)
		pick_one(src, out, fields[i]);
	return out;
}

json_t *
tool_pg_pick_all(json_t *src, const char *const *fields)
{
	json_t *out = json_array(), *e;
	size_t i;

	json_array_foreach(src, i, e)
		if (json_is_object(e))
			json_array_append_new(out, tool_pg_pick(e, fields));
	return out;
}

json_t *
tool_pg_dry_run(const struct http_req *req, json_t *body)
{
	json_t *q = json_array();

	for (size_t i = 0; i < req->nquery; i++)
		json_array_append_new(q, json_pack("[s,s]", req->query[i].name,
		    req->query[i].value));
	if (body == NULL && req->body != NULL && req->content_type != NULL &&
	    strstr(req->content_type, "json") != NULL)
		body = json_loadb(req->body, req->body_len, 0, NULL);
	return json_pack("{s:b, s:{s:s, s:s, s:o, s:o}}", "dry_run", 1, "request", "method",
	    req->method, "path", req->path, "query", q, "body", body ? body : json_null());
}
