/* Gemini generateContent (POST {base}/v1beta/models/{model}:generateContent). Contract:
 * shared/specs/llm-apis.json, providers.gemini.
 * - The model is in the path; roles are "user" and "model"; system text is systemInstruction.
 * - Function calls have no reliable id: the gateway makes one, "corral_<turn>_<k>", and never
 *   sends such an id back (results are matched by name and order, as Gemini does).
 * - A functionResponse needs the function's name and an object: {"output": result} or
 *   {"error": text}.
 * - Parts keep their thoughtSignature: the model's turn must go back unchanged.
 * - There is no tool-specific finish reason: calls are recognised by functionCall parts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/model.h"

#define GEN_PREFIX	"corral_"

static bool
generated_id(const char *id)
{
	return id && strncmp(id, GEN_PREFIX, strlen(GEN_PREFIX)) == 0;
}

static json_t *
model_part(const json_t *tc)
{
	json_t *fc = json_pack("{s:O, s:O}", "name", json_object_get(tc, "name"), "args",
	    json_object_get(tc, "arguments"));
	const char *id = json_string_value(json_object_get(tc, "id"));
	json_t *p;

	if (fc && !generated_id(id))
		json_object_set_new(fc, "id", json_string(id));
	p = json_pack("{s:o}", "functionCall", fc);
	if (p && json_object_get(tc, "thought_signature"))
		json_object_set(p, "thoughtSignature", json_object_get(tc, "thought_signature"));
	return p;
}

static json_t *
response_part(const json_t *msgs, size_t i, const json_t *m)
{
	const char *id = json_string_value(json_object_get(m, "tool_call_id"));
	const json_t *tc = model_call_find(msgs, i, id);
	const char *text = model_msg_text(m);
	json_t *out, *fr;

	if (json_is_true(json_object_get(m, "is_error")))
		out = json_pack("{s:s}", "error", text);
	else if ((out = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL)) != NULL)
		out = json_pack("{s:o}", "output", out);
	else
		out = json_pack("{s:s}", "output", text);
	fr = json_pack("{s:O, s:o}", "name", json_object_get(tc, "name"), "response", out);
	if (fr && !generated_id(id))
		json_object_set_new(fr, "id", json_string(id));
	return json_pack("{s:o}", "functionResponse", fr);
}

static void
push(json_t *contents, const char *role, json_t *parts)
{
	json_t *last = json_array_get(contents, json_array_size(contents) - 1);

	if (json_array_size(parts) == 0) {
		json_decref(parts);
		return;
	}
	if (last && strcmp(json_string_value(json_object_get(last, "role")), role) == 0) {
		json_array_extend(json_object_get(last, "parts"), parts);
		json_decref(parts);
		return;
	}
	json_array_append_new(contents, json_pack("{s:s, s:o}", "role", role, "parts", parts));
}

static json_t *
assistant_parts(const json_t *m)
{
	json_t *parts = json_array(), *tc;
	const char *text = model_msg_text(m);
	size_t k;

	if (text[0])
		json_array_append_new(parts, json_pack("{s:s}", "text", text));
	json_array_foreach(json_object_get(m, "tool_calls"), k, tc)
		json_array_append_new(parts, model_part(tc));
	return parts;
}

static json_t *
convert(const json_t *msgs, json_t **system)
{
	json_t *contents = json_array(), *m, *sys = json_array();
	size_t i;

	json_array_foreach(msgs, i, m) {
		const char *role = json_string_value(json_object_get(m, "role"));
		const char *text = model_msg_text(m);

		if (strcmp(role, "system") == 0)
			json_array_append_new(sys, json_pack("{s:s}", "text", text));
		else if (strcmp(role, "assistant") == 0)
			push(contents, "model", assistant_parts(m));
		else if (strcmp(role, "tool") == 0)
			push(contents, "user", json_pack("[o]", response_part(msgs, i, m)));
		else
			push(contents, "user", json_pack("[{s:s}]", "text", text));
	}
	*system = NULL;
	if (json_array_size(sys))
		*system = json_pack("{s:o}", "parts", sys);
	else
		json_decref(sys);
	return contents;
}

static json_t *
tools_out(const json_t *tools)
{
	json_t *decls = json_array(), *t;
	size_t i;

	json_array_foreach(tools, i, t) {
		json_t *d = json_object_get(t, "description"), *p = json_object_get(t, "parameters");

		/* description is required by the proto */
		json_array_append_new(decls, json_pack("{s:O, s:O, s:o}", "name",
		    json_object_get(t, "name"), "description", d ? d : json_object_get(t, "name"),
		    "parametersJsonSchema", p ? json_incref(p) : json_pack("{s:s}", "type",
		    "object")));
	}
	return json_pack("[{s:o}]", "functionDeclarations", decls);
}

/* The model id goes into the path literally: only a safe alphabet. */
static bool
model_id_ok(const char *s)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if (!model_name_ok((char[]){ s[n], 0 }) && s[n] != '.')
			return false;
	return n > 0 && n <= LIM_NAME_MAX;
}

static int
go_build(const struct model_chat *c, const struct model_ep *ep, const char *secret,
    struct http_req *req, json_t **body, struct tool_err *err)
{
	const char *model = ep->model;
	char path[256];
	json_t *b, *sys, *gc = json_object();

	http_req_init(req, "POST");
	if (model && strncmp(model, "models/", 7) == 0)
		model += 7;
	if (!model_id_ok(model)) {
		json_decref(gc);
		http_err_set(err, ERR_CONFIG, 0, false, "model endpoint '%s': the model id must be "
		    "letters, digits, '.', '_' and '-'", ep->name ? ep->name : "?");
		return ERR_CONFIG;
	}
	snprintf(path, sizeof(path), "/v1beta/models/%s:generateContent", model);
	if (http_path_add(req, path) < 0 ||
	    (secret && http_cred_add(req, "x-goog-api-key", "", secret) < 0)) {
		json_decref(gc);
		http_err_set(err, ERR_CONFIG, 0, false, "the credential cannot be sent as a header");
		return ERR_CONFIG;
	}
	b = json_pack("{s:o}", "contents", convert(c->messages, &sys));
	if (b && sys)
		json_object_set_new(b, "systemInstruction", sys);
	if (b && c->tools)
		json_object_set_new(b, "tools", tools_out(c->tools));
	if (c->max_tokens > 0)
		json_object_set_new(gc, "maxOutputTokens", json_integer(c->max_tokens));
	if (c->has_temperature)
		json_object_set_new(gc, "temperature", json_real(c->temperature));
	if (b && json_object_size(gc))
		json_object_set(b, "generationConfig", gc);
	json_decref(gc);
	*body = b;
	return b ? 0 : -ENOMEM;
}

static const char *
finish_of(const char *fr, bool calls, const char **pf)
{
	*pf = NULL;
	if (calls)
		return "tool_calls";
	if (fr && strcmp(fr, "MAX_TOKENS") == 0)
		return "length";
	if (fr && strcmp(fr, "STOP") != 0)
		*pf = fr;		/* SAFETY, RECITATION, MALFORMED_FUNCTION_CALL, ... */
	return "stop";
}

/* Text (not thoughts) and calls of the first candidate. */
static int
collect(const json_t *parts, size_t turn, char **text, size_t *tlen, json_t *calls)
{
	const json_t *p;
	size_t k;

	json_array_foreach(parts, k, p) {
		const char *t = json_string_value(json_object_get(p, "text"));
		const json_t *fc = json_object_get(p, "functionCall");

		if (t && !json_is_true(json_object_get(p, "thought")) &&
		    *tlen < LIM_MODEL_TEXT_MAX + 1) {
			if (model_text_append(text, tlen, t) < 0)
				return -ENOMEM;
		} else if (json_is_object(fc) && json_array_size(calls) < LIM_MODEL_CALLS_MAX) {
			const char *id = json_string_value(json_object_get(fc, "id"));
			char gen[64];
			json_t *tc;

			if (id == NULL || id[0] == '\0' || strlen(id) > LIM_MODEL_ID_MAX ||
			    generated_id(id)) {
				snprintf(gen, sizeof(gen), GEN_PREFIX "%zu_%zu", turn,
				    json_array_size(calls));
				id = gen;
			}
			tc = model_call_new(id, json_string_value(json_object_get(fc, "name")),
			    json_incref(json_object_get(fc, "args")), "(args was not an object)");
			if (tc && json_is_string(json_object_get(p, "thoughtSignature")))
				json_object_set(tc, "thought_signature",
				    json_object_get(p, "thoughtSignature"));
			json_array_append_new(calls, tc);
		}
	}
	return 0;
}

static int
go_parse(const struct model_chat *c, const json_t *body, json_t **result, struct tool_err *err)
{
	const json_t *cand = json_array_get(json_object_get(body, "candidates"), 0);
	const json_t *u = json_object_get(body, "usageMetadata");
	const char *block = json_string_value(json_object_get(json_object_get(body,
	    "promptFeedback"), "blockReason")), *pf;
	json_t *calls;
	char *text = NULL;
	size_t tlen = 0;
	int r;

	if (!json_is_object(cand)) {
		if (block)
			http_err_set(err, ERR_REMOTE_STATE, 0, false, "google: the prompt was blocked "
			    "(%.64s)", block);
		else
			http_err_set(err, ERR_PROTO, 0, false, "google: the answer has no candidates");
		return block ? ERR_REMOTE_STATE : ERR_PROTO;
	}
	calls = json_array();
	if ((r = collect(json_object_get(json_object_get(cand, "content"), "parts"),
	    model_assistant_count(c->messages, json_array_size(c->messages)), &text, &tlen,
	    calls)) < 0) {
		json_decref(calls);
		free(text);
		return r;
	}
	*result = model_result_new(text, tlen, calls, finish_of(json_string_value(
	    json_object_get(cand, "finishReason")), json_array_size(calls) > 0, &pf),
	    json_integer_value(json_object_get(u, "promptTokenCount")),
	    json_integer_value(json_object_get(u, "candidatesTokenCount")) +
	    json_integer_value(json_object_get(u, "thoughtsTokenCount")));
	free(text);
	return model_result_finish(*result, pf, json_object_get(body, "modelVersion"));
}

/* {"error": {"code", "message", "status", "details"}} */
static void
go_error_text(const json_t *body, char *out, size_t len)
{
	const json_t *e = json_object_get(body, "error");
	const char *m = json_string_value(json_object_get(e, "message"));
	const char *s = json_string_value(json_object_get(e, "status"));

	model_error_format(out, len, s, m);
}

/* google.rpc.RetryInfo {"retryDelay": "30s" | "1.5s"} among the error's details. */
static int64_t
go_body_wait_ms(const json_t *body)
{
	const json_t *d;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(body, "error"), "details"), i, d) {
		const char *t = json_string_value(json_object_get(d, "@type"));
		const char *delay = json_string_value(json_object_get(d, "retryDelay"));
		char *end;
		double s;

		if (t && delay && strstr(t, "google.rpc.RetryInfo") != NULL &&
		    (s = strtod(delay, &end)) >= 0 && end != delay && strcmp(end, "s") == 0)
			return (int64_t)(s * 1000);
	}
	return -1;
}

const struct model_provider model_prov_google = {
	.name = "google",
	.build = go_build,
	.parse = go_parse,
	.error_text = go_error_text,
	.body_wait_ms = go_body_wait_ms,
};
