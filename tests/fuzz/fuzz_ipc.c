/* libFuzzer target: msg_decode on arbitrary bytes. Whatever decodes must re-encode, decode
 * again to the same message, and re-encode to the same bytes (the encoding is canonical).
 * The same input also goes through the generic skipper and, for JSON fields, the JSON parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/codec.h"
#include "ipc/json.h"
#include "ipc/limits.h"
#include "ipc/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
msg_same(const struct msg *a, const struct msg *b)
{
	CHECK(a->type == b->type && a->id == b->id && a->version == b->version);
	CHECK(a->deadline_ms == b->deadline_ms && a->code == b->code && a->level == b->level);
	CHECK(a->dry_run == b->dry_run);
	CHECK(str_eq(a->kind, b->kind) && str_eq(a->family, b->family));
	CHECK(str_eq(a->name, b->name) && str_eq(a->tenant, b->tenant));
	CHECK(str_eq(a->tool, b->tool) && str_eq(a->op, b->op) && str_eq(a->args, b->args));
	CHECK(str_eq(a->ctx, b->ctx) && str_eq(a->result, b->result));
	CHECK(str_eq(a->text, b->text) && str_eq(a->detail, b->detail));
	CHECK(str_eq(a->input, b->input) && str_eq(a->agent, b->agent));
	CHECK(str_eq(a->config, b->config));
}

static void
json_try(const char *s)
{
	json_t *v;
	char *d;

	if (s == NULL || ipc_json_parse(s, strlen(s), LIM_ARGS_MAX, &v, NULL, 0) < 0)
		return;
	/* the canonical dump parses back to a value that dumps the same */
	d = ipc_json_dump(v);
	if (d != NULL) {
		json_t *v2;
		char *d2;

		CHECK(ipc_json_parse(d, strlen(d), (size_t)-1, &v2, NULL, 0) == 0);
		d2 = ipc_json_dump(v2);
		CHECK(d2 != NULL && strcmp(d, d2) == 0);
		free(d2);
		json_decref(v2);
		free(d);
	}
	json_decref(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg m, m2;
	struct mp_rd r;
	uint8_t *buf, *buf2;
	size_t len, len2;

	mp_rd_init(&r, data, size);
	while (mp_rd_skip(&r) == 0)
		;
	CHECK(r.depth == 0);

	if (msg_decode(data, size, &m) < 0) {
		CHECK(m.type == 0 && m.text == NULL && m.args == NULL);
		return 0;
	}
	CHECK(m.type > 0 && m.type < MSG_TYPE_MAX);
	CHECK(msg_encode(&m, &buf, &len) == 0);
	CHECK(len <= size);	/* canonical is shortest: never longer than what we read */
	CHECK(msg_decode(buf, len, &m2) == 0);
	msg_same(&m, &m2);
	CHECK(msg_encode(&m2, &buf2, &len2) == 0);
	CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
	json_try(m.args);
	json_try(m.result);
	free(buf);
	free(buf2);
	msg_clear(&m);
	msg_clear(&m2);
	return 0;
}
