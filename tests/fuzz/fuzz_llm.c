/* libFuzzer target: the LLM response parsers of the model gateway. The input's first line names
 * the provider (openai, anthropic, google, script) and a conversation variant; the rest is the
 * provider's answer (JSON) or, for the script provider, the script (YAML). Each provider's
 * parse, error-text and announced-wait functions see the answer; the script provider replays
 * the script against the conversation.
 * Invariants on every neutral result (tools/model.h): role assistant, finish one of stop,
 * tool_calls, length; content a string of at most LIM_MODEL_TEXT_MAX bytes or null; every tool
 * call has a string id, a name that fits ^[a-zA-Z0-9_-]{1,64}$ and object arguments; failures
 * carry a code and a NUL-terminated text and no result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/limits.h"
#include "tools/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_llm: %s (line %d)\n", #c, __LINE__); \
	abort(); } } while (0)

static const char *const chats[] = {
	("{\"messages\":[{\"role\":\"system\",\"content\":\"You are an ops agent.\"},"
	"{\"role\":\"user\",\"content\":\"Is guestbook synced?\"}],"
	"\"tools\":[{\"name\":\"argocd__get_application\",\"description\":\"Get an app\","
	"\"parameters\":{\"type\":\"object\",\"properties\":{\"app_name\":{\"type\":\"string\"}},"
	"\"required\":[\"app_name\"]}}],\"max_tokens\":256}"),

	("{\"messages\":[{\"role\":\"user\",\"content\":\"Is guestbook synced?\"},"
	"{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\","
	"\"name\":\"argocd__get_application\",\"arguments\":{\"app_name\":\"guestbook\"}}]},"
	"{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"{\\\"sync\\\":\\\"Synced\\\"}\"}],"
	"\"tools\":[{\"name\":\"argocd__get_application\",\"parameters\":{\"type\":\"object\"}}],"
	"\"temperature\":0.2}"),
};
#define NCHATS	(sizeof(chats) / sizeof(chats[0]))

static json_t *chat_args[NCHATS];
static struct model_chat chat[NCHATS];

static void
init(void)
{
	char err[512];

	for (size_t i = 0; i < NCHATS; i++) {
		chat_args[i] = json_loads(chats[i], 0, NULL);
		CHECK(chat_args[i] != NULL);
		CHECK(model_chat_check(chat_args[i], &chat[i], err, sizeof(err)) == 0);
	}
}

static void
check_result(int rc, json_t *res, const struct tool_err *err)
{
	json_t *m, *calls, *c, *content;
	const char *fin;
	size_t i;

	if (rc < 0) {
		CHECK(res == NULL);
		CHECK(memchr(err->text, '\0', sizeof(err->text)) != NULL);
		return;
	}
	CHECK(rc == 0 && json_is_object(res));
	m = json_object_get(res, "message");
	CHECK(json_is_object(m));
	CHECK(json_is_string(json_object_get(m, "role")));
	CHECK(strcmp(json_string_value(json_object_get(m, "role")), "assistant") == 0);
	fin = json_string_value(json_object_get(res, "finish"));
	CHECK(fin && (strcmp(fin, "stop") == 0 || strcmp(fin, "tool_calls") == 0 ||
	    strcmp(fin, "length") == 0));
	content = json_object_get(m, "content");
	CHECK(content == NULL || json_is_null(content) || (json_is_string(content) &&
	    json_string_length(content) <= LIM_MODEL_TEXT_MAX));
	calls = json_object_get(m, "tool_calls");
	CHECK(calls == NULL || json_is_array(calls));
	CHECK(json_array_size(calls) <= LIM_MODEL_CALLS_MAX);
	json_array_foreach(calls, i, c) {
		CHECK(json_is_string(json_object_get(c, "id")));
		CHECK(model_name_ok(json_string_value(json_object_get(c, "name"))));
		CHECK(json_is_object(json_object_get(c, "arguments")));
	}
}

static void
provider(const struct model_provider *p, const struct model_chat *c, const char *body,
    size_t len)
{
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL), *res = NULL;
	struct tool_err err;
	char text[400] = "";	/* as model.c calls it: providers leave it alone without a message */
	int rc;

	if (doc == NULL)
		return;
	memset(&err, 0, sizeof(err));
	rc = p->parse(c, doc, &res, &err);
	check_result(rc, res, &err);
	json_decref(res);
	p->error_text(doc, text, sizeof(text));
	CHECK(strlen(text) < sizeof(text));
	if (p->body_wait_ms)
		CHECK(p->body_wait_ms(doc) >= -1);
	json_decref(doc);
}

static void
script(const struct model_chat *c, const char *body, size_t len)
{
	struct model_ep ep = { .name = "fuzz", .provider = "script", .model = "m" };
	struct tool_err err;
	json_t *res = NULL;
	char *s;
	int rc;

	if (memchr(body, '\0', len) != NULL || (s = strndup(body, len)) == NULL)
		return;
	ep.script = s;
	memset(&err, 0, sizeof(err));
	rc = model_script_reply(c, &ep, &res, &err);
	check_result(rc, res, &err);
	json_decref(res);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const char *nl = memchr(data, '\n', size < 32 ? size : 32), *body;
	char head[32], *sp;
	size_t hl, blen, v = 0;

	if (!ready++)
		init();
	if (nl == NULL)
		return 0;
	hl = (size_t)(nl - (const char *)data);
	memcpy(head, data, hl);
	head[hl] = '\0';
	if ((sp = strchr(head, ' ')) != NULL) {
		*sp++ = '\0';
		v = strtoul(sp, NULL, 10) % NCHATS;
	}
	body = nl + 1;
	blen = size - hl - 1;
	if (strcmp(head, "openai") == 0)
		provider(&model_prov_openai, &chat[v], body, blen);
	else if (strcmp(head, "anthropic") == 0)
		provider(&model_prov_anthropic, &chat[v], body, blen);
	else if (strcmp(head, "google") == 0)
		provider(&model_prov_google, &chat[v], body, blen);
	else if (strcmp(head, "script") == 0)
		script(&chat[v], body, blen);
	return 0;
}
