/* Credential store (sources, ownership/mode checks, locked memory) and the redactor. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <openssl/crypto.h>

/* OpenSSL's types.h typedefs ERR_STATE, which ipc/err.h also names (an error code): rename
 * ours for this file. */
#define ERR_STATE CORRAL_ERR_STATE
#include "ipc/err.h"
#undef ERR_STATE
#include "ipc/limits.h"
#include "supervisor/cred.h"

struct cred {
	char *name;
	char *tenant;
	char *val;		/* locked memory, NUL-terminated */
	size_t len;
	size_t maplen;
};

struct cred_store {
	struct cred *v;
	size_t n, cap;
	struct redact_set *rs;
};

/* --- locked memory --- */

static int
lockmem_alloc(size_t n, void **out, size_t *maplen)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t len;
	void *p;

	if (pg <= 0)
		pg = 4096;
	if (n == 0 || n > SIZE_MAX - (size_t)pg)
		return -EINVAL;
	len = (n + (size_t)pg - 1) / (size_t)pg * (size_t)pg;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (mlock(p, len) < 0) {
		int r = -errno;

		munmap(p, len);
		return r;
	}
	/* Out of core dumps, and zero in a forked child (workers fork from corrald). Both are
	 * hardening only: an old kernel without them still has the values locked. */
	(void)madvise(p, len, MADV_DONTDUMP);
	(void)madvise(p, len, MADV_WIPEONFORK);
	*out = p;
	*maplen = len;
	return 0;
}

static void
lockmem_free(void *p, size_t maplen)
{
	if (p == NULL)
		return;
	explicit_bzero(p, maplen);
	munlock(p, maplen);
	munmap(p, maplen);
}

/* --- store --- */

int
cred_store_new(struct cred_store **out)
{
	struct cred_store *cs = calloc(1, sizeof(*cs));

	if (cs == NULL)
		return -ENOMEM;
	*out = cs;
	return 0;
}

void
cred_store_free(struct cred_store *cs)
{
	if (cs == NULL)
		return;
	for (size_t i = 0; i < cs->n; i++) {
		lockmem_free(cs->v[i].val, cs->v[i].maplen);
		free(cs->v[i].name);
		free(cs->v[i].tenant);
	}
	free(cs->v);
	redact_set_free(cs->rs);
	free(cs);
}

/* Read a credential file into locked memory. The checks run on the open descriptor, so the
 * file checked is the file read. */
static int
cred_read_file(const char *path, struct cred *c, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	int fd, r;

	if (path[0] == '\0') {
		snprintf(err, errlen, "empty file path");
		return ERR_CONFIG;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return ERR_CONFIG;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = ERR_CONFIG;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u: must be owned by root or uid %u",
		    path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: mode %04o: must not be accessible by group or others "
		    "(0600 or 0400)", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((uint64_t)st.st_size > LIM_CRED_MAX) {
		snprintf(err, errlen, "%s: %lld bytes: over the %u byte limit", path,
		    (long long)st.st_size, LIM_CRED_MAX);
		r = ERR_TOOBIG;
		goto out;
	}
	if ((r = lockmem_alloc((size_t)st.st_size + 2, (void **)&c->val, &c->maplen)) < 0)
		goto out;
	/* Read one byte more than fstat said, to notice a file that grows under us. */
	while (got <= (size_t)st.st_size) {
		ssize_t k = read(fd, c->val + got, (size_t)st.st_size + 1 - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			goto out;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	if (got > (size_t)st.st_size) {
		snprintf(err, errlen, "%s: changed while being read", path);
		r = ERR_CONFIG;
		goto out;
	}
	c->len = got;
	r = 0;
out:
	close(fd);
	return r;
}

static int
cred_read_env(const char *name, struct cred *c, char *err, size_t errlen)
{
	const char *v;
	size_t n;
	int r;

	if (name[0] == '\0' || strchr(name, '=') != NULL) {
		snprintf(err, errlen, "bad environment variable name \"%s\"", name);
		return ERR_CONFIG;
	}
	if ((v = getenv(name)) == NULL) {
		snprintf(err, errlen, "environment variable %s is not set", name);
		return ERR_CONFIG;
	}
	if ((n = strlen(v)) > LIM_CRED_MAX) {
		snprintf(err, errlen, "environment variable %s: over the %u byte limit", name,
		    LIM_CRED_MAX);
		return ERR_TOOBIG;
	}
	if ((r = lockmem_alloc(n + 1, (void **)&c->val, &c->maplen)) < 0)
		return r;
	memcpy(c->val, v, n);
	c->len = n;
	return 0;
}

/* One trailing newline is the editor's, not the secret's. */
static int
cred_finish(struct cred *c, const char *source, char *err, size_t errlen)
{
	if (c->len > 0 && c->val[c->len - 1] == '\n') {
		c->val[--c->len] = '\0';
		if (c->len > 0 && c->val[c->len - 1] == '\r')
			c->val[--c->len] = '\0';
	}
	c->val[c->len] = '\0';
	if (memchr(c->val, '\0', c->len) != NULL) {
		snprintf(err, errlen, "%s: value contains a NUL byte", source);
		return ERR_CONFIG;
	}
	if (c->len < LIM_CRED_MIN) {
		snprintf(err, errlen, "%s: value shorter than %u bytes", source, LIM_CRED_MIN);
		return ERR_CONFIG;
	}
	return 0;
}

static int
cred_check_names(const struct cred_store *cs, const char *name, const char *tenant,
    char *err, size_t errlen)
{
	if (name == NULL || tenant == NULL || name[0] == '\0' || tenant[0] == '\0' ||
	    strlen(name) > LIM_NAME_MAX || strlen(tenant) > LIM_NAME_MAX) {
		snprintf(err, errlen, "credential name and tenant must be 1..%u bytes",
		    LIM_NAME_MAX);
		return ERR_CONFIG;
	}
	for (size_t i = 0; i < cs->n; i++)
		if (strcmp(cs->v[i].name, name) == 0) {
			snprintf(err, errlen, "credential %s defined twice", name);
			return -EEXIST;
		}
	if (cs->n >= LIM_CREDS_MAX) {
		snprintf(err, errlen, "more than %u credentials", LIM_CREDS_MAX);
		return ERR_TOOBIG;
	}
	return 0;
}

/* Rebuild the redactor over every value. Called after each add: stores are small (configs
 * name tens of credentials) and this keeps one immutable index per generation. */
static int
cred_reindex(struct cred_store *cs)
{
	const char **vals;
	size_t *lens;
	struct redact_set *rs = NULL;
	int r = -ENOMEM;

	vals = calloc(cs->n, sizeof(*vals));
	lens = calloc(cs->n, sizeof(*lens));
	if (vals == NULL || lens == NULL)
		goto out;
	for (size_t i = 0; i < cs->n; i++) {
		vals[i] = cs->v[i].val;
		lens[i] = cs->v[i].len;
	}
	if ((r = redact_set_new(vals, lens, cs->n, &rs)) < 0)
		goto out;
	redact_set_free(cs->rs);
	cs->rs = rs;
	r = 0;
out:
	free(vals);
	free(lens);
	return r;
}

int
cred_add(struct cred_store *cs, const char *name, const char *tenant, const char *source,
    char *err, size_t errlen)
{
	struct cred c = { 0 };
	char dummy[1];
	int r;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if ((r = cred_check_names(cs, name, tenant, err, errlen)) < 0)
		return r;
	if (source == NULL)
		source = "";
	if (strncmp(source, "file:", 5) == 0)
		r = cred_read_file(source + 5, &c, err, errlen);
	else if (strncmp(source, "env:", 4) == 0)
		r = cred_read_env(source + 4, &c, err, errlen);
	else {
		snprintf(err, errlen, "credential %s: source must be file:PATH or env:NAME", name);
		r = ERR_CONFIG;
	}
	if (r < 0)
		goto out;
	if ((r = cred_finish(&c, source, err, errlen)) < 0)
		goto out;
	if (cs->n == cs->cap) {
		size_t ncap = cs->cap ? cs->cap * 2 : 8;
		struct cred *nv = reallocarray(cs->v, ncap, sizeof(*nv));

		if (nv == NULL) {
			r = -ENOMEM;
			goto out;
		}
		cs->v = nv;
		cs->cap = ncap;
	}
	c.name = strdup(name);
	c.tenant = strdup(tenant);
	if (c.name == NULL || c.tenant == NULL) {
		r = -ENOMEM;
		goto out;
	}
	cs->v[cs->n++] = c;
	if ((r = cred_reindex(cs)) < 0) {
		cs->n--;
		goto out;
	}
	return 0;
out:
	lockmem_free(c.val, c.maplen);
	free(c.name);
	free(c.tenant);
	return r;
}

const char *
cred_get(const struct cred_store *cs, const char *name, const char *tenant, size_t *len)
{
	if (cs == NULL || name == NULL || tenant == NULL)
		return NULL;
	for (size_t i = 0; i < cs->n; i++) {
		const struct cred *c = &cs->v[i];

		if (strcmp(c->name, name) != 0)
			continue;
		if (strcmp(c->tenant, tenant) != 0)
			return NULL;
		if (len != NULL)
			*len = c->len;
		return c->val;
	}
	return NULL;
}

size_t
cred_count(const struct cred_store *cs)
{
	return cs ? cs->n : 0;
}

int
cred_info(const struct cred_store *cs, size_t i, const char **name, const char **tenant)
{
	if (cs == NULL || i >= cs->n)
		return ERR_NOTFOUND;
	if (name)
		*name = cs->v[i].name;
	if (tenant)
		*tenant = cs->v[i].tenant;
	return 0;
}

bool
cred_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return false;
	return alen == 0 || CRYPTO_memcmp(a, b, alen) == 0;
}

const struct redact_set *
cred_redactor(const struct cred_store *cs)
{
	return cs ? cs->rs : NULL;
}

/* --- redaction --- */

/* Secret-derived forms the matcher looks for. Base64 forms are the part of the encoding that
 * depends on the secret's bytes only (the chars at both ends also depend on the unknown bytes
 * around it), at each of the three byte alignments. */
enum form_kind {
	F_RAW, F_JSON, F_JSON_GO, F_PCT_UP, F_PCT_LO,
	F_B64_0, F_B64_1, F_B64_2, F_B64U_0, F_B64U_1, F_B64U_2,
	F_KINDS
};

#define B64_CORE_MIN	8		/* shorter cores would match innocent base64 text */
#define REDACT_DEPTH_MAX (2 * LIM_JSON_DEPTH_MAX)

struct rform {
	const uint8_t *p;
	size_t len;
};

struct redact_set {
	size_t maplen;			/* the whole locked region this struct heads */
	size_t nforms;
	struct rform *forms;		/* by first byte, longest first */
	uint32_t bstart[257];		/* forms[bstart[b] .. bstart[b + 1]) start with byte b */
	uint8_t one[32];		/* bitmap: first bytes of 1-byte forms */
	uint8_t two[8192];		/* bitmap: first two bytes of longer forms */
};

static bool
bit_get(const uint8_t *m, unsigned i)
{
	return (m[i >> 3] >> (i & 7)) & 1;
}

static void
bit_set(uint8_t *m, unsigned i)
{
	m[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* JSON string escaping as jansson writes it, or (go) as Go's encoding/json does: most HTTP
 * APIs the workers talk to are written in Go, and it escapes <, > and & too. */
static size_t
form_json(const uint8_t *s, size_t n, uint8_t *o, bool go)
{
	const char *hex = go ? "0123456789abcdef" : "0123456789ABCDEF";
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		char esc = 0;

		switch (c) {
		case '"': esc = '"'; break;
		case '\\': esc = '\\'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\t': esc = 't'; break;
		case '\b': esc = go ? 0 : 'b'; break;
		case '\f': esc = go ? 0 : 'f'; break;
		default: break;
		}
		if (esc) {
			if (o) {
				o[k] = '\\';
				o[k + 1] = (uint8_t)esc;
			}
			k += 2;
		} else if (c < 0x20 || (go && (c == '<' || c == '>' || c == '&'))) {
			if (o) {
				memcpy(o + k, "\\u00", 4);
				o[k + 4] = (uint8_t)hex[c >> 4];
				o[k + 5] = (uint8_t)hex[c & 15];
			}
			k += 6;
		} else {
			if (o)
				o[k] = c;
			k++;
		}
	}
	return k;
}

static size_t
form_pct(const uint8_t *s, size_t n, uint8_t *o, bool upper)
{
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			if (o)
				o[k] = c;
			k++;
			continue;
		}
		if (o) {
			o[k] = '%';
			o[k + 1] = (uint8_t)hex[c >> 4];
			o[k + 2] = (uint8_t)hex[c & 15];
		}
		k += 3;
	}
	return k;
}

/* The stable core of base64(prefix of `align` unknown bytes + s + unknown bytes). */
static size_t
form_b64(const uint8_t *s, size_t n, uint8_t *o, size_t align, bool url)
{
	const char *alpha = url ?
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" :
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	/* For char j of a 3-byte group: the group bytes it reads (first, last) and how. */
	static const uint8_t lo[4] = { 0, 0, 1, 2 }, hi[4] = { 0, 1, 2, 2 };
	size_t total = align + n, k = 0;

	for (size_t g = 0; g * 3 < total; g++) {
		for (unsigned j = 0; j < 4; j++) {
			size_t a = g * 3 + lo[j], b = g * 3 + hi[j];
			unsigned v;

			if (a < align || b >= total)
				continue;
			const uint8_t *x = s + (a - align);	/* byte a; x[1] is byte b */

			switch (j) {
			case 0: v = x[0] >> 2; break;
			case 1: v = ((x[0] & 3u) << 4) | (x[1] >> 4); break;
			case 2: v = ((x[0] & 15u) << 2) | (x[1] >> 6); break;
			default: v = x[0] & 63u; break;
			}
			if (o)
				o[k] = (uint8_t)alpha[v];
			k++;
		}
	}
	return k >= B64_CORE_MIN ? k : 0;
}

static size_t
form_gen(enum form_kind kind, const uint8_t *s, size_t n, uint8_t *o)
{
	switch (kind) {
	case F_RAW:
		if (o)
			memcpy(o, s, n);
		return n;
	case F_JSON: return form_json(s, n, o, false);
	case F_JSON_GO: return form_json(s, n, o, true);
	case F_PCT_UP: return form_pct(s, n, o, true);
	case F_PCT_LO: return form_pct(s, n, o, false);
	case F_B64_0: case F_B64_1: case F_B64_2:
		return form_b64(s, n, o, (size_t)(kind - F_B64_0), false);
	case F_B64U_0: case F_B64U_1: case F_B64U_2:
		return form_b64(s, n, o, (size_t)(kind - F_B64U_0), true);
	default:
		return 0;
	}
}

static int
rform_cmp(const void *pa, const void *pb)
{
	const struct rform *a = pa, *b = pb;

	if (a->p[0] != b->p[0])
		return a->p[0] < b->p[0] ? -1 : 1;
	if (a->len != b->len)
		return a->len > b->len ? -1 : 1;
	return 0;
}

/* Generate every form of every secret into the region's byte area; identical forms of one
 * secret are kept once. */
static void
redact_fill(struct redact_set *rs, uint8_t *bytes, const char *const *secrets,
    const size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t first = rs->nforms;

		if (lens[i] == 0)
			continue;
		for (int kind = 0; kind < F_KINDS; kind++) {
			const uint8_t *s = (const uint8_t *)secrets[i];
			size_t len = form_gen((enum form_kind)kind, s, lens[i], bytes);
			bool dup = false;

			if (len == 0)
				continue;
			for (size_t j = first; j < rs->nforms && !dup; j++)
				dup = rs->forms[j].len == len && memcmp(rs->forms[j].p, bytes, len) == 0;
			if (dup)
				continue;
			rs->forms[rs->nforms].p = bytes;
			rs->forms[rs->nforms++].len = len;
			bytes += len;
		}
	}
}

static void
redact_index(struct redact_set *rs)
{
	size_t i = 0;

	qsort(rs->forms, rs->nforms, sizeof(*rs->forms), rform_cmp);
	for (unsigned b = 0; b <= 256; b++) {
		rs->bstart[b] = (uint32_t)i;
		while (b < 256 && i < rs->nforms && rs->forms[i].p[0] == b)
			i++;
	}
	for (i = 0; i < rs->nforms; i++) {
		const struct rform *f = &rs->forms[i];

		if (f->len == 1)
			bit_set(rs->one, f->p[0]);
		else
			bit_set(rs->two, (unsigned)f->p[0] << 8 | f->p[1]);
	}
}

int
redact_set_new(const char *const *secrets, const size_t *lens, size_t n,
    struct redact_set **out)
{
	size_t nforms = 0, bytes = 0, maplen, hdr;
	struct redact_set *rs;
	void *mem;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (lens[i] == 0)
			continue;
		if (lens[i] > LIM_CRED_MAX)
			return ERR_TOOBIG;
		for (int kind = 0; kind < F_KINDS; kind++) {
			bytes += form_gen((enum form_kind)kind, (const uint8_t *)secrets[i], lens[i],
			    NULL);
			nforms++;
		}
	}
	hdr = sizeof(*rs) + nforms * sizeof(struct rform);
	if ((r = lockmem_alloc(hdr + bytes + 1, &mem, &maplen)) < 0)
		return r;
	rs = mem;
	rs->maplen = maplen;
	rs->forms = (struct rform *)(rs + 1);
	redact_fill(rs, (uint8_t *)mem + hdr, secrets, lens, n);
	redact_index(rs);
	*out = rs;
	return 0;
}

void
redact_set_free(struct redact_set *rs)
{
	if (rs != NULL)
		lockmem_free(rs, rs->maplen);
}

size_t
redact_set_nforms(const struct redact_set *rs)
{
	return rs ? rs->nforms : 0;
}

/* Length of the longest form starting at p, 0 if none. */
static size_t
redact_match(const struct redact_set *rs, const uint8_t *p, size_t rem)
{
	unsigned b = p[0];

	if (!bit_get(rs->one, b) && (rem < 2 || !bit_get(rs->two, b << 8 | p[1])))
		return 0;
	for (uint32_t i = rs->bstart[b]; i < rs->bstart[b + 1]; i++) {
		const struct rform *f = &rs->forms[i];

		if (f->len <= rem && memcmp(f->p, p, f->len) == 0)
			return f->len;
	}
	return 0;
}

/* One pass: counts matches and the output length; copies when out is not NULL. */
static size_t
redact_scan(const struct redact_set *rs, const uint8_t *in, size_t len, char *out,
    size_t *count)
{
	const size_t rl = sizeof(REDACTED_TEXT) - 1;
	size_t o = 0, n = 0, i = 0;

	while (i < len) {
		size_t m = redact_match(rs, in + i, len - i);

		if (m == 0) {
			if (out)
				out[o] = (char)in[i];
			o++;
			i++;
			continue;
		}
		if (out)
			memcpy(out + o, REDACTED_TEXT, rl);
		o += rl;
		i += m;
		n++;
	}
	*count = n;
	return o;
}

bool
redact_text_has(const struct redact_set *rs, const char *in, size_t len)
{
	if (rs == NULL || rs->nforms == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (redact_match(rs, (const uint8_t *)in + i, len - i))
			return true;
	return false;
}

int
redact_text(const struct redact_set *rs, const char *in, size_t len, char **out,
    size_t *outlen)
{
	size_t n, olen;
	char *buf;

	*out = NULL;
	if (outlen)
		*outlen = len;
	if (rs == NULL || rs->nforms == 0 || len == 0)
		return 0;
	if (len > SIZE_MAX / 8)
		return ERR_TOOBIG;
	olen = redact_scan(rs, (const uint8_t *)in, len, NULL, &n);
	if (n == 0)
		return 0;
	if ((buf = malloc(olen + 1)) == NULL)
		return -ENOMEM;
	redact_scan(rs, (const uint8_t *)in, len, buf, &n);
	buf[olen] = '\0';
	*out = buf;
	if (outlen)
		*outlen = olen;
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

static int
redact_json_str(const struct redact_set *rs, json_t *v)
{
	size_t olen;
	char *o;
	int n;

	n = redact_text(rs, json_string_value(v), json_string_length(v), &o, &olen);
	if (n <= 0)
		return n;
	/* A secret that is not valid UTF-8 on its own can cut a character in two: then the
	 * whole string goes. */
	if (json_string_setn(v, o, olen) < 0 && json_string_set(v, REDACTED_TEXT) < 0)
		n = -ENOMEM;
	free(o);
	return n;
}

/* Keys cannot be renamed in place: move each hit to its redacted key. */
static int
redact_json_keys(const struct redact_set *rs, json_t *obj)
{
	json_t *moved = json_object(), *val;
	const char *key;
	void *tmp;
	int n = 0, r;

	if (moved == NULL)
		return -ENOMEM;
	json_object_foreach_safe(obj, tmp, key, val) {
		char *nk;

		if ((r = redact_text(rs, key, strlen(key), &nk, NULL)) <= 0)
			continue;
		n += r;
		json_object_set(moved, nk, val);
		free(nk);
		json_object_del(obj, key);
	}
	r = json_object_update(obj, moved) < 0 ? -ENOMEM : n;
	json_decref(moved);
	return r;
}

static int
redact_json_rec(const struct redact_set *rs, json_t *v, unsigned depth)
{
	const char *key;
	json_t *item;
	size_t i;
	int n = 0, r, keyhits = 0;

	if (depth > REDACT_DEPTH_MAX)
		return ERR_DEPTH;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return redact_json_str(rs, v);
	case JSON_ARRAY:
		json_array_foreach(v, i, item) {
			if ((r = redact_json_rec(rs, item, depth + 1)) < 0)
				return r;
			n += r;
		}
		return n;
	case JSON_OBJECT:
		json_object_foreach(v, key, item) {
			if ((r = redact_json_rec(rs, item, depth + 1)) < 0)
				return r;
			n += r;
			keyhits += redact_text_has(rs, key, strlen(key));
		}
		if (keyhits && (r = redact_json_keys(rs, v)) < 0)
			return r;
		return keyhits ? n + r : n;
	default:
		return 0;
	}
}

int
redact_json(const struct redact_set *rs, json_t *v)
{
	if (rs == NULL || rs->nforms == 0 || v == NULL)
		return 0;
	return redact_json_rec(rs, v, 0);
}

static bool
redact_json_has_rec(const struct redact_set *rs, const json_t *v, unsigned depth)
{
	const char *key;
	json_t *item;
	size_t i;

	if (depth > REDACT_DEPTH_MAX)
		return true;	/* unknown: treat as containing, so the caller redacts or refuses */
	switch (json_typeof(v)) {
	case JSON_STRING:
		return redact_text_has(rs, json_string_value(v), json_string_length(v));
	case JSON_ARRAY:
		json_array_foreach(v, i, item)
			if (redact_json_has_rec(rs, item, depth + 1))
				return true;
		return false;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, item)
			if (redact_text_has(rs, key, strlen(key)) ||
			    redact_json_has_rec(rs, item, depth + 1))
				return true;
		return false;
	default:
		return false;
	}
}

bool
redact_json_has(const struct redact_set *rs, const json_t *v)
{
	if (rs == NULL || rs->nforms == 0 || v == NULL)
		return false;
	return redact_json_has_rec(rs, v, 0);
}
