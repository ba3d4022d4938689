/* corral wire messages: one table per type drives both the encoder and the strict decoder.
 *
 * Decoding is two passes over the frame. The first validates everything (keys known and not
 * repeated, value types and ranges, UTF-8, no trailing bytes, then the type's required and
 * permitted keys) and only records where each value is; the second copies strings out. So a
 * hostile frame is refused before anything is allocated, and a good one allocates the bytes
 * of its strings plus one NUL each: never more than the frame itself.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/codec.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/msg.h"

enum fkind { F_U64, F_U32, F_I32, F_LEVEL, F_BOOL, F_STR };

/* Every key the protocol knows; a key always carries the same kind of value. */
enum fkey {
	K_T, K_ID, K_V, K_DEADLINE, K_CODE, K_LEVEL, K_DRY, K_KIND, K_FAMILY, K_NAME, K_TENANT,
	K_TOOL, K_OP, K_ARGS, K_CTX, K_RESULT, K_TEXT, K_DETAIL, K_INPUT, K_AGENT, K_CONFIG,
	K_MAX
};

static const struct keydef {
	const char *key;
	enum fkind kind;
	size_t off;		/* into struct msg */
	uint32_t max;		/* F_STR: default byte cap */
} keys[K_MAX] = {
	[K_T] = { "t", F_U32, offsetof(struct msg, type), 0 },
	[K_ID] = { "id", F_U64, offsetof(struct msg, id), 0 },
	[K_V] = { "v", F_U32, offsetof(struct msg, version), 0 },
	[K_DEADLINE] = { "deadline", F_U32, offsetof(struct msg, deadline_ms), 0 },
	[K_CODE] = { "code", F_I32, offsetof(struct msg, code), 0 },
	[K_LEVEL] = { "level", F_LEVEL, offsetof(struct msg, level), 0 },
	[K_DRY] = { "dry", F_BOOL, offsetof(struct msg, dry_run), 0 },
	[K_KIND] = { "kind", F_STR, offsetof(struct msg, kind), LIM_NAME_MAX },
	[K_FAMILY] = { "family", F_STR, offsetof(struct msg, family), LIM_NAME_MAX },
	[K_NAME] = { "name", F_STR, offsetof(struct msg, name), LIM_NAME_MAX },
	[K_TENANT] = { "tenant", F_STR, offsetof(struct msg, tenant), LIM_NAME_MAX },
	[K_TOOL] = { "tool", F_STR, offsetof(struct msg, tool), LIM_NAME_MAX },
	[K_OP] = { "op", F_STR, offsetof(struct msg, op), LIM_NAME_MAX },
	[K_ARGS] = { "args", F_STR, offsetof(struct msg, args), LIM_ARGS_MAX },
	[K_CTX] = { "ctx", F_STR, offsetof(struct msg, ctx), LIM_ARGS_MAX },
	[K_RESULT] = { "result", F_STR, offsetof(struct msg, result), LIM_RESULT_MAX },
	[K_TEXT] = { "text", F_STR, offsetof(struct msg, text), LIM_STR_MAX },
	[K_DETAIL] = { "detail", F_STR, offsetof(struct msg, detail), LIM_STR_MAX },
	[K_INPUT] = { "input", F_STR, offsetof(struct msg, input), LIM_STR_MAX },
	[K_AGENT] = { "agent", F_STR, offsetof(struct msg, agent), LIM_STR_MAX },
	[K_CONFIG] = { "config", F_STR, offsetof(struct msg, config), LIM_STR_MAX },
};

#define R 1	/* required */
#define O 0	/* optional */
#define FIELDS_MAX 8

/* Per type: its fields in wire order ("t" always comes first), required or not, and a
 * tighter byte cap for a string where the type has one (0: the key's default). */
static const struct mtype {
	const char *name;
	struct tfield {
		uint8_t key, req;
		uint32_t max;
	} f[FIELDS_MAX];
	unsigned n;
} types[MSG_TYPE_MAX] = {
	[MSG_HELLO] = { "HELLO", { { K_V, R, 0 }, { K_KIND, R, 0 }, { K_FAMILY, O, 0 } }, 3 },
	[MSG_WELCOME] = { "WELCOME", { { K_V, R, 0 }, { K_NAME, R, 0 }, { K_TENANT, R, 0 },
	    { K_CONFIG, O, 0 } }, 4 },
	[MSG_CALL] = { "CALL", { { K_ID, R, 0 }, { K_TOOL, R, 0 }, { K_OP, R, 0 },
	    { K_ARGS, R, 0 }, { K_DRY, O, 0 } }, 5 },
	[MSG_WORK] = { "WORK", { { K_ID, R, 0 }, { K_TOOL, R, 0 }, { K_OP, R, 0 },
	    { K_ARGS, R, 0 }, { K_CTX, O, 0 }, { K_DEADLINE, R, 0 }, { K_DRY, O, 0 } }, 7 },
	[MSG_RESULT] = { "RESULT", { { K_ID, R, 0 }, { K_RESULT, R, 0 } }, 2 },
	[MSG_ERROR] = { "ERROR", { { K_ID, R, 0 }, { K_CODE, R, 0 },
	    { K_TEXT, R, LIM_ERRMSG_MAX }, { K_DETAIL, O, 0 } }, 4 },
	[MSG_EVENT] = { "EVENT", { { K_ID, R, 0 }, { K_TEXT, R, 0 } }, 2 },
	[MSG_LOG] = { "LOG", { { K_LEVEL, R, 0 }, { K_TEXT, R, LIM_LOG_LINE_MAX } }, 2 },
	[MSG_RUN] = { "RUN", { { K_ID, R, 0 }, { K_INPUT, R, 0 }, { K_AGENT, R, 0 } }, 3 },
	[MSG_DONE] = { "DONE", { { K_ID, R, 0 }, { K_RESULT, R, 0 } }, 2 },
	[MSG_CANCEL] = { "CANCEL", { { K_ID, R, 0 } }, 1 },
	[MSG_SHUTDOWN] = { "SHUTDOWN", { { 0, 0, 0 } }, 0 },
	[MSG_PING] = { "PING", { { K_ID, R, 0 } }, 1 },
	[MSG_PONG] = { "PONG", { { K_ID, R, 0 } }, 1 },
	[MSG_CONNECT] = { "CONNECT", { { K_ID, R, 0 }, { K_TEXT, R, LIM_NAME_MAX } }, 2 },
};

const char *
msg_type_name(enum msg_type t)
{
	if ((int)t <= 0 || t >= MSG_TYPE_MAX)
		return "?";
	return types[t].name;
}

static uint32_t
field_max(const struct tfield *f)
{
	return f->max ? f->max : keys[f->key].max;
}

/* ---------------------------------------------------------------- encode */

static void
enc_field(struct mp_wr *w, const struct msg *m, const struct tfield *f)
{
	const struct keydef *k = &keys[f->key];
	const void *p = (const char *)m + k->off;
	const char *s;

	mp_wr_cstr(w, k->key);
	switch (k->kind) {
	case F_U64:
		mp_wr_uint(w, *(const uint64_t *)p);
		break;
	case F_U32:
		mp_wr_uint(w, *(const uint32_t *)p);
		break;
	case F_I32:
		mp_wr_int(w, *(const int32_t *)p);
		break;
	case F_LEVEL:
		mp_wr_uint(w, *(const uint8_t *)p);
		break;
	case F_BOOL:
		mp_wr_bool(w, *(const bool *)p);
		break;
	case F_STR:
		s = *(char *const *)p;
		if (strlen(s) > field_max(f) && w->err == 0)
			w->err = ERR_TOOBIG;
		mp_wr_cstr(w, s);
		break;
	}
}

/* Optional fields are sent when set: a string when non-NULL, dry when true. */
static bool
enc_present(const struct msg *m, const struct tfield *f)
{
	const struct keydef *k = &keys[f->key];
	const void *p = (const char *)m + k->off;

	if (k->kind == F_STR)
		return *(char *const *)p != NULL;
	if (k->kind == F_BOOL && !f->req)
		return *(const bool *)p;
	return true;
}

int
msg_encode(const struct msg *m, uint8_t **out, size_t *outlen)
{
	const struct mtype *td;
	bool present[FIELDS_MAX];
	struct mp_wr w;
	uint32_t n = 1;

	if (m == NULL || (int)m->type <= 0 || m->type >= MSG_TYPE_MAX)
		return ERR_UNKNOWN;
	td = &types[m->type];
	for (unsigned i = 0; i < td->n; i++) {
		present[i] = enc_present(m, &td->f[i]);
		if (!present[i] && td->f[i].req)
			return ERR_MISSING;
		n += present[i];
	}
	if (m->type == MSG_LOG && m->level > 7)
		return ERR_TYPE;
	mp_wr_init(&w, LIM_MSG_MAX);
	mp_wr_map(&w, n);
	mp_wr_cstr(&w, "t");
	mp_wr_uint(&w, m->type);
	for (unsigned i = 0; i < td->n; i++)
		if (present[i])
			enc_field(&w, m, &td->f[i]);
	return mp_wr_finish(&w, out, outlen);
}

/* ---------------------------------------------------------------- decode */

/* Where pass 1 found each key's value. */
struct slot {
	bool seen;
	uint64_t u;		/* ints (i32 stored two's complement) and bools */
	const char *s;		/* F_STR: points into the frame */
	uint32_t len;
};

static int
key_lookup(const char *s, uint32_t len)
{
	for (int k = 0; k < K_MAX; k++)
		if (strlen(keys[k].key) == len && memcmp(keys[k].key, s, len) == 0)
			return k;
	return ERR_UNKNOWN;
}

static int
dec_value(struct mp_rd *rd, enum fkind kind, struct slot *sl)
{
	int64_t i;
	bool b;
	int rv;

	switch (kind) {
	case F_U64:
		return mp_rd_uint(rd, &sl->u);
	case F_U32:
	case F_LEVEL:
		if ((rv = mp_rd_uint(rd, &sl->u)) < 0)
			return rv;
		return sl->u > (kind == F_LEVEL ? 7 : UINT32_MAX) ? ERR_TYPE : 0;
	case F_I32:
		if ((rv = mp_rd_int(rd, &i)) < 0)
			return rv;
		if (i < INT32_MIN || i > INT32_MAX)
			return ERR_TYPE;
		sl->u = (uint64_t)i;
		return 0;
	case F_BOOL:
		if ((rv = mp_rd_bool(rd, &b)) < 0)
			return rv;
		sl->u = b;
		return 0;
	case F_STR:
		return mp_rd_str(rd, &sl->s, &sl->len);
	}
	return ERR_TYPE;
}

/* Pass 1a: the map, every key known and once, every value of its key's kind. */
static int
dec_scan(const uint8_t *buf, size_t len, struct slot *sl)
{
	struct mp_rd rd;
	const char *ks;
	uint32_t n, klen;
	int rv, k;

	mp_rd_init(&rd, buf, len);
	if ((rv = mp_rd_map(&rd, &n)) < 0)
		return rv;
	for (uint32_t i = 0; i < n; i++) {
		if ((rv = mp_rd_str(&rd, &ks, &klen)) < 0)
			return rv;
		if ((k = key_lookup(ks, klen)) < 0)
			return k;
		if (sl[k].seen)
			return ERR_DUPKEY;
		sl[k].seen = true;
		if ((rv = dec_value(&rd, keys[k].kind, &sl[k])) < 0)
			return rv;
	}
	mp_rd_leave(&rd);
	return mp_rd_end(&rd);
}

/* Pass 1b: the type permits every key present, and every key it requires is there. */
static int
dec_check(const struct slot *sl, const struct mtype **tdp)
{
	const struct mtype *td;
	bool allowed[K_MAX] = { [K_T] = true };

	if (!sl[K_T].seen)
		return ERR_MISSING;
	if (sl[K_T].u == 0 || sl[K_T].u >= MSG_TYPE_MAX)
		return ERR_UNKNOWN;
	td = &types[sl[K_T].u];
	for (unsigned i = 0; i < td->n; i++) {
		const struct tfield *f = &td->f[i];

		allowed[f->key] = true;
		if (f->req && !sl[f->key].seen)
			return ERR_MISSING;
		if (keys[f->key].kind == F_STR && sl[f->key].seen && sl[f->key].len > field_max(f))
			return ERR_TOOBIG;
	}
	for (int k = 0; k < K_MAX; k++)
		if (sl[k].seen && !allowed[k])
			return ERR_UNKNOWN;
	*tdp = td;
	return 0;
}

/* malloc + memcpy rather than strndup: the decoder's allocations must be visible to the
 * test that measures them (it wraps malloc at link time; libc's strndup is not wrapped). */
static char *
str_copy(const char *s, uint32_t len)
{
	char *c = malloc((size_t)len + 1);

	if (c != NULL) {
		memcpy(c, s, len);
		c[len] = '\0';
	}
	return c;
}

/* Pass 2: store. Only allocation failure can go wrong here. */
static int
dec_store(const struct slot *sl, const struct mtype *td, struct msg *m)
{
	m->type = (enum msg_type)sl[K_T].u;
	for (unsigned i = 0; i < td->n; i++) {
		const struct keydef *k = &keys[td->f[i].key];
		const struct slot *s = &sl[td->f[i].key];
		void *p = (char *)m + k->off;

		if (!s->seen)
			continue;
		switch (k->kind) {
		case F_U64:
			*(uint64_t *)p = s->u;
			break;
		case F_U32:
			*(uint32_t *)p = (uint32_t)s->u;
			break;
		case F_I32:
			*(int32_t *)p = (int32_t)(int64_t)s->u;
			break;
		case F_LEVEL:
			*(uint8_t *)p = (uint8_t)s->u;
			break;
		case F_BOOL:
			*(bool *)p = s->u != 0;
			break;
		case F_STR:
			if ((*(char **)p = str_copy(s->s, s->len)) == NULL)
				return -ENOMEM;
			break;
		}
	}
	return 0;
}

int
msg_decode(const uint8_t *buf, size_t len, struct msg *m)
{
	struct slot sl[K_MAX];
	const struct mtype *td = NULL;
	int rv;

	memset(m, 0, sizeof(*m));
	memset(sl, 0, sizeof(sl));
	if (buf == NULL && len > 0)
		return -EINVAL;
	if (len > LIM_MSG_MAX)
		return ERR_TOOBIG;
	if ((rv = dec_scan(buf, len, sl)) < 0 || (rv = dec_check(sl, &td)) < 0 ||
	    (rv = dec_store(sl, td, m)) < 0)
		goto out;
	rv = 0;
out:
	if (rv < 0)
		msg_clear(m);
	return rv;
}

/* ---------------------------------------------------------------- clear */

void
msg_clear(struct msg *m)
{
	if (m == NULL)
		return;
	if (m->ctx != NULL) {
		/* ctx carries the injected credential. */
		explicit_bzero(m->ctx, strlen(m->ctx));
		free(m->ctx);
	}
	free(m->kind);
	free(m->family);
	free(m->name);
	free(m->tenant);
	free(m->tool);
	free(m->op);
	free(m->args);
	free(m->result);
	free(m->text);
	free(m->detail);
	free(m->input);
	free(m->agent);
	free(m->config);
	memset(m, 0, sizeof(*m));
}
