#include <stdlib.h>
#include <string.h>

#include "ipc/codec.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/ipc/fx.h"

/* Transcribed from the table in ipc/msg.h. */
const struct fx_type fx_types[] = {
	{ MSG_HELLO, { "v", "kind" }, { "family" } },
	{ MSG_WELCOME, { "v", "name", "tenant" }, { "config" } },
	{ MSG_CALL, { "id", "tool", "op", "args" }, { "dry" } },
	{ MSG_WORK, { "id", "tool", "op", "args", "deadline" }, { "ctx", "dry" } },
	{ MSG_RESULT, { "id", "result" }, { NULL } },
	{ MSG_ERROR, { "id", "code", "text" }, { "detail" } },
	{ MSG_EVENT, { "id", "text" }, { NULL } },
	{ MSG_LOG, { "level", "text" }, { NULL } },
	{ MSG_RUN, { "id", "input", "agent" }, { NULL } },
	{ MSG_DONE, { "id", "result" }, { NULL } },
	{ MSG_CANCEL, { "id" }, { NULL } },
	{ MSG_SHUTDOWN, { NULL }, { NULL } },
	{ MSG_PING, { "id" }, { NULL } },
	{ MSG_PONG, { "id" }, { NULL } },
	{ MSG_CONNECT, { "id", "text" }, { NULL } },
};
const size_t fx_ntypes = sizeof(fx_types) / sizeof(fx_types[0]);

const char *const fx_keys[] = {
	"t", "id", "v", "deadline", "code", "level", "dry", "kind", "family", "name", "tenant",
	"tool", "op", "args", "ctx", "result", "text", "detail", "input", "agent", "config", NULL
};

int
fx_key_is_int(const char *key)
{
	static const char *const ints[] = { "t", "id", "v", "deadline", "code", "level", NULL };

	for (size_t i = 0; ints[i] != NULL; i++)
		if (strcmp(ints[i], key) == 0)
			return 1;
	return 0;
}

void
fx_msg_full(enum msg_type t, struct msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = t;
	m->id = 0x1122334455667788ull;		/* needs the 8-byte uint form */
	m->version = CORRAL_PROTO_VERSION;
	m->deadline_ms = 30000;
	m->code = ERR_DENIED;			/* negative: needs an int form */
	m->level = 6;
	m->dry_run = true;
	m->kind = (char *)"http";
	m->family = (char *)"argocd";
	m->name = (char *)"argocd@payments";
	m->tenant = (char *)"payments";
	m->tool = (char *)"argocd";
	m->op = (char *)"sync_application";
	m->args = (char *)"{\"app_name\":\"payments-api\",\"prune\":false}";
	m->ctx = (char *)"{\"token\":\"s3cr3t-t0ken\",\"url\":\"https://argocd.example\"}";
	m->result = (char *)"{\"ok\":true,\"items\":[1,2,3]}";
	m->text = (char *)"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80";	/* 2-, 3-, 4-byte UTF-8 */
	m->detail = (char *)"{\"status\":403}";
	m->input = (char *)"roll back payments-api if the canary fails";
	m->agent = (char *)"{\"name\":\"deployment-guardian\"}";
	m->config = (char *)"{\"family\":\"argocd\"}";
}

static const char *
str_field(const struct msg *m, const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} f[] = {
		{ "kind", offsetof(struct msg, kind) }, { "family", offsetof(struct msg, family) },
		{ "name", offsetof(struct msg, name) }, { "tenant", offsetof(struct msg, tenant) },
		{ "tool", offsetof(struct msg, tool) }, { "op", offsetof(struct msg, op) },
		{ "args", offsetof(struct msg, args) }, { "ctx", offsetof(struct msg, ctx) },
		{ "result", offsetof(struct msg, result) }, { "text", offsetof(struct msg, text) },
		{ "detail", offsetof(struct msg, detail) }, { "input", offsetof(struct msg, input) },
		{ "agent", offsetof(struct msg, agent) }, { "config", offsetof(struct msg, config) },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(f[i].key, key) == 0)
			return *(char *const *)((const char *)m + f[i].off);
	abort();
}

static int64_t
int_field(const struct msg *m, const char *key)
{
	if (strcmp(key, "t") == 0)
		return m->type;
	if (strcmp(key, "id") == 0)
		return (int64_t)m->id;
	if (strcmp(key, "v") == 0)
		return m->version;
	if (strcmp(key, "deadline") == 0)
		return m->deadline_ms;
	if (strcmp(key, "code") == 0)
		return m->code;
	if (strcmp(key, "level") == 0)
		return m->level;
	if (strcmp(key, "dry") == 0)
		return m->dry_run;
	abort();
}

static int
key_diff(const char *k, const struct msg *a, const struct msg *b)
{
	const char *sa, *sb;

	if (fx_key_is_int(k) || strcmp(k, "dry") == 0)
		return int_field(a, k) != int_field(b, k);
	sa = str_field(a, k);
	sb = str_field(b, k);
	if (sa == NULL || sb == NULL)
		return sa != sb;
	return strcmp(sa, sb) != 0;
}

const char *
fx_msg_diff(enum msg_type t, const struct msg *a, const struct msg *b)
{
	const struct fx_type *ft = &fx_types[t - 1];

	if (a->type != b->type)
		return "t";
	for (size_t i = 0; ft->required[i] != NULL; i++)
		if (key_diff(ft->required[i], a, b))
			return ft->required[i];
	for (size_t i = 0; ft->optional[i] != NULL; i++)
		if (key_diff(ft->optional[i], a, b))
			return ft->optional[i];
	return NULL;
}

static void
put_key(struct mp_wr *w, const struct msg *m, const char *k)
{
	mp_wr_cstr(w, k);
	if (strcmp(k, "code") == 0)
		mp_wr_int(w, m->code);
	else if (fx_key_is_int(k))
		mp_wr_uint(w, (uint64_t)int_field(m, k));
	else if (strcmp(k, "dry") == 0)
		mp_wr_bool(w, m->dry_run);
	else
		mp_wr_cstr(w, str_field(m, k));
}

size_t
fx_frame(enum msg_type t, const char *omit, const char *extra, uint8_t *out)
{
	const struct fx_type *ft = &fx_types[t - 1];
	const char *ks[16];
	size_t n = 0, len;
	struct msg m;
	struct mp_wr w;
	uint8_t *buf;

	fx_msg_full(t, &m);
	ks[n++] = "t";
	for (size_t i = 0; ft->required[i] != NULL; i++)
		ks[n++] = ft->required[i];
	for (size_t i = 0; ft->optional[i] != NULL; i++)
		ks[n++] = ft->optional[i];
	if (extra != NULL)
		ks[n++] = extra;
	mp_wr_init(&w, 4096);
	mp_wr_map(&w, (uint32_t)(n - (omit != NULL)));
	for (size_t i = 0; i < n; i++)
		if (omit == NULL || strcmp(ks[i], omit) != 0)
			put_key(&w, &m, ks[i]);
	if (mp_wr_finish(&w, &buf, &len) < 0)
		abort();
	memcpy(out, buf, len);
	free(buf);
	return len;
}
