/* OpenAI Chat Completions (POST {base}/chat/completions), which Ollama's and vLLM's /v1
 * endpoints speak too. Contract: shared/specs/llm-apis.json, providers.openai.
 * - Tool-call arguments travel as a JSON *string* both ways; the model may produce invalid
 *   JSON: it is kept as invalid_arguments (the agent reports it back instead of calling).
 * - max_completion_tokens for api.openai.com (max_tokens is deprecated there); max_tokens for
 *   every other server, because Ollama does not accept max_completion_tokens.
 * - finish_reason "tool_calls" is not trusted alone: Ollama answers "stop" with tool calls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/model.h"

/* Is the endpoint OpenAI's own API (not a compatible server)? */
static bool
is_openai_host(const char *url)
{
	const char *h = strstr(url, "://");
	size_t n;

	h = h ? h + 3 : url;
	n = strcspn(h, ":/");
	return n == strlen("api.openai.com") && strncasecmp(h, "api.openai.com", n) == 0;
}

/* Arguments go back as the JSON text of the (neutral) object: a call whose text was not JSON
 * goes back as "{}" (its text reached the model in the tool result that reported it). */
static json_t *
call_out(const json_t *tc)
{
	char *args = json_dumps(json_object_get(tc, "arguments"), JSON_COMPACT);
	json_t *o;

	if (args == NULL)
		return NULL;
	o = json_pack("{s:O, s:s, s:{s:O, s:s}}", "id", json_object_get(tc, "id"), "type",
	    "function", "function", "name", json_object_get(tc, "name"), "arguments", args);
	free(args);
	return o;
}

static json_t *
message_out(const json_t *m)
{
	const char *role = json_string_value(json_object_get(m, "role"));
	json_t *calls = json_object_get(m, "tool_calls"), *tc, *out, *a;
	size_t k;

	if (strcmp(role, "tool") == 0)
		return json_pack("{s:s, s:O, s:s}", "role", "tool", "tool_call_id",
		    json_object_get(m, "tool_call_id"), "content", model_msg_text(m));
	if (strcmp(role, "assistant") != 0)
		return json_pack("{s:s, s:s}", "role", role, "content", model_msg_text(m));
	out = json_pack("{s:s, s:O}", "role", "assistant", "content",
	    json_is_string(json_object_get(m, "content")) ? json_object_get(m, "content") :
	    json_null());
	if (out == NULL || json_array_size(calls) == 0)
		return out;
	a = json_array();
	json_array_foreach(calls, k, tc)
		json_array_append_new(a, call_out(tc));
	json_object_set_new(out, "tool_calls", a);
	return out;
}

static json_t *
tool_out(const json_t *t)
{
	json_t *f = json_pack("{s:O}", "name", json_object_get(t, "name"));

	if (json_object_get(t, "description"))
		json_object_set(f, "description", json_object_get(t, "description"));
	json_object_set_new(f, "parameters", json_object_get(t, "parameters") ?
	    json_incref(json_object_get(t, "parameters")) :
	    json_pack("{s:s, s:{}}", "type", "object", "properties"));
	return json_pack("{s:s, s:o}", "type", "function", "function", f);
}

static int
oa_build(const struct model_chat *c, const struct model_ep *ep, const char *secret,
    struct http_req *req, json_t **body, struct tool_err *err)
{
	json_t *b, *msgs = json_array(), *m, *t;
	size_t i;

	http_req_init(req, "POST");
	if (ep->model == NULL || ep->model[0] == '\0') {
		http_err_set(err, ERR_CONFIG, 0, false, "model endpoint '%s' names no model",
		    ep->name ? ep->name : "?");
		json_decref(msgs);
		return ERR_CONFIG;
	}
	if (http_path_add(req, "/chat/completions") < 0 ||
	    (secret && http_cred_add(req, "Authorization", "Bearer ", secret) < 0)) {
		http_err_set(err, ERR_CONFIG, 0, false, "the credential cannot be sent as a header");
		json_decref(msgs);
		return ERR_CONFIG;
	}
	json_array_foreach(c->messages, i, m)
		json_array_append_new(msgs, message_out(m));
	b = json_pack("{s:s, s:o}", "model", ep->model, "messages", msgs);
	if (c->tools) {
		json_t *tools = json_array();

		json_array_foreach(c->tools, i, t)
			json_array_append_new(tools, tool_out(t));
		json_object_set_new(b, "tools", tools);
	}
	if (c->max_tokens > 0)
		json_object_set_new(b, is_openai_host(ep->url) ? "max_completion_tokens" :
		    "max_tokens", json_integer(c->max_tokens));
	if (c->has_temperature)
		json_object_set_new(b, "temperature", json_real(c->temperature));
	*body = b;
	return b ? 0 : -ENOMEM;
}

static const char *
finish_of(const char *fr, bool calls, const char **provider_finish)
{
	*provider_finish = NULL;
	if (calls)
		return "tool_calls";
	if (fr && strcmp(fr, "length") == 0)
		return "length";
	if (fr && strcmp(fr, "stop") != 0 && strcmp(fr, "tool_calls") != 0)
		*provider_finish = fr;		/* content_filter, function_call */
	return "stop";
}

static json_t *
calls_in(const json_t *msg)
{
	json_t *calls = json_array(), *tc;
	size_t k;

	json_array_foreach(json_object_get(msg, "tool_calls"), k, tc) {
		json_t *f = json_object_get(tc, "function"), *args;
		const char *raw = json_string_value(json_object_get(f, "arguments"));
		const char *id = json_string_value(json_object_get(tc, "id"));
		char gen[32];

		if (json_array_size(calls) >= LIM_MODEL_CALLS_MAX || !json_is_object(f))
			continue;	/* custom tool calls are not ours */
		if (id == NULL || id[0] == '\0' || strlen(id) > LIM_MODEL_ID_MAX) {
			snprintf(gen, sizeof(gen), "call_%zu", k);
			id = gen;
		}
		args = raw ? json_loads(raw, JSON_REJECT_DUPLICATES, NULL) : NULL;
		json_array_append_new(calls, model_call_new(id,
		    json_string_value(json_object_get(f, "name")), args, raw ? raw : ""));
	}
	return calls;
}

static int
oa_parse(const struct model_chat *c, const json_t *body, json_t **result, struct tool_err *err)
{
	const json_t *ch = json_array_get(json_object_get(body, "choices"), 0);
	const json_t *msg = json_object_get(ch, "message"), *u = json_object_get(body, "usage");
	const char *text = json_string_value(json_object_get(msg, "content")), *pf;
	const char *refusal = json_string_value(json_object_get(msg, "refusal"));
	json_t *calls;

	if (!json_is_object(msg)) {
		http_err_set(err, ERR_PROTO, 0, false, "openai: the answer has no choices[0].message");
		return ERR_PROTO;
	}
	calls = calls_in(msg);
	if (text == NULL && refusal != NULL)
		text = refusal;
	*result = model_result_new(text, text ? strlen(text) : 0, calls,
	    finish_of(json_string_value(json_object_get(ch, "finish_reason")),
	    json_array_size(calls) > 0, &pf),
	    json_integer_value(json_object_get(u, "prompt_tokens")),
	    json_integer_value(json_object_get(u, "completion_tokens")));
	if (text == refusal && refusal != NULL)
		pf = "refusal";
	return model_result_finish(*result, pf, json_object_get(body, "model"));
}

/* {"error": {"message", "type", "code"}} (OpenAI, Ollama); vLLM: {"message", "type"}. */
static void
oa_error_text(const json_t *body, char *out, size_t len)
{
	const json_t *e = json_object_get(body, "error");
	const char *m = json_string_value(json_object_get(e, "message"));
	const char *t = json_string_value(json_object_get(e, "type"));

	if (m == NULL) {
		m = json_string_value(json_object_get(body, "message"));
		t = json_string_value(json_object_get(body, "type"));
	}
	if (m == NULL && json_is_string(e))
		m = json_string_value(e);
	model_error_format(out, len, t, m);
}

const struct model_provider model_prov_openai = {
	.name = "openai",
	.build = oa_build,
	.parse = oa_parse,
	.error_text = oa_error_text,
	.body_wait_ms = NULL,
};
