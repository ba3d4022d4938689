/* Anthropic Messages (POST {base}/v1/messages). Contract: shared/specs/llm-apis.json,
 * providers.anthropic.
 * - The API version is pinned per endpoint: 2023-06-01 (x-api-key, temperature allowed) by
 *   default, or 2026-10-21 (Authorization: Bearer, no temperature). Anything else is refused
 *   rather than guessed.
 * - System text goes in the top-level "system"; max_tokens is required.
 * - Tool results are tool_result blocks in ONE user message after the assistant's tool_use
 *   blocks; consecutive messages of one role are merged, as the API wants turns to alternate.
 * - 529 overloaded_error is retryable like 429 (model.c retries every 5xx). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/model.h"

#define AN_VERSION_DEFAULT	"2023-06-01"
#define AN_VERSION_BEARER	"2026-10-21"

static json_t *
text_block(const char *text)
{
	return json_pack("{s:s, s:s}", "type", "text", "text", text);
}

/* Append blocks under role, merging with the previous message when the role repeats (a
 * plain-text user message becomes a text block then). A lone user text stays a string, as
 * the API's own examples write it. */
static void
push(json_t *msgs, const char *role, json_t *blocks)
{
	json_t *last = json_array_get(msgs, json_array_size(msgs) - 1), *content;

	if (json_array_size(blocks) == 0) {
		json_decref(blocks);
		return;
	}
	if (last && strcmp(json_string_value(json_object_get(last, "role")), role) == 0) {
		content = json_object_get(last, "content");
		if (json_is_string(content)) {
			content = json_pack("[o]", text_block(json_string_value(content)));
			json_object_set_new(last, "content", content);
		}
		json_array_extend(content, blocks);
		json_decref(blocks);
		return;
	}
	if (strcmp(role, "user") == 0 && json_array_size(blocks) == 1 &&
	    strcmp(json_string_value(json_object_get(json_array_get(blocks, 0), "type")),
	    "text") == 0) {
		json_array_append_new(msgs, json_pack("{s:s, s:O}", "role", role, "content",
		    json_object_get(json_array_get(blocks, 0), "text")));
		json_decref(blocks);
		return;
	}
	json_array_append_new(msgs, json_pack("{s:s, s:o}", "role", role, "content", blocks));
}

static json_t *
assistant_blocks(const json_t *m)
{
	json_t *b = json_array(), *tc;
	const char *text = model_msg_text(m);
	size_t k;

	if (text[0])
		json_array_append_new(b, text_block(text));
	json_array_foreach(json_object_get(m, "tool_calls"), k, tc)
		json_array_append_new(b, json_pack("{s:s, s:O, s:O, s:O}", "type", "tool_use", "id",
		    json_object_get(tc, "id"), "name", json_object_get(tc, "name"), "input",
		    json_object_get(tc, "arguments")));
	return b;
}

static json_t *
tool_block(const json_t *m)
{
	json_t *b = json_pack("{s:s, s:O, s:s}", "type", "tool_result", "tool_use_id",
	    json_object_get(m, "tool_call_id"), "content", model_msg_text(m));

	if (b && json_is_true(json_object_get(m, "is_error")))
		json_object_set_new(b, "is_error", json_true());
	return b;
}

/* messages -> (system text, Anthropic messages) */
static int
convert(const json_t *in, json_t **msgs_out, char **system)
{
	json_t *msgs = json_array(), *m;
	size_t i, slen = 0;

	*system = NULL;
	json_array_foreach(in, i, m) {
		const char *role = json_string_value(json_object_get(m, "role"));
		const char *text = model_msg_text(m);

		if (strcmp(role, "system") == 0) {
			size_t n = strlen(text);
			char *s = realloc(*system, slen + n + 3);

			if (s == NULL)
				goto fail;
			if (slen) {
				memcpy(s + slen, "\n\n", 2);
				slen += 2;
			}
			memcpy(s + slen, text, n + 1);
			slen += n;
			*system = s;
		} else if (strcmp(role, "assistant") == 0) {
			push(msgs, "assistant", assistant_blocks(m));
		} else if (strcmp(role, "tool") == 0) {
			push(msgs, "user", json_pack("[o]", tool_block(m)));
		} else {
			push(msgs, "user", json_pack("[o]", text_block(text[0] ? text : "(empty)")));
		}
	}
	*msgs_out = msgs;
	return 0;
fail:
	json_decref(msgs);
	free(*system);
	*system = NULL;
	return -ENOMEM;
}

static json_t *
tools_out(const json_t *tools)
{
	json_t *a = json_array(), *t;
	size_t i;

	json_array_foreach(tools, i, t) {
		json_t *p = json_object_get(t, "parameters");
		json_t *o = json_pack("{s:O, s:o}", "name", json_object_get(t, "name"),
		    "input_schema", p ? json_incref(p) : json_pack("{s:s}", "type", "object"));

		if (json_object_get(t, "description"))
			json_object_set(o, "description", json_object_get(t, "description"));
		json_array_append_new(a, o);
	}
	return a;
}

static int
an_headers(const struct model_ep *ep, const char *secret, struct http_req *req,
    const char **version, struct tool_err *err)
{
	const char *v = ep->api_version ? ep->api_version : AN_VERSION_DEFAULT;
	bool bearer = strcmp(v, AN_VERSION_BEARER) == 0;

	if (!bearer && strcmp(v, AN_VERSION_DEFAULT) != 0) {
		http_err_set(err, ERR_CONFIG, 0, false, "anthropic api_version '%.40s' is not one "
		    "corral speaks (%s, %s)", v, AN_VERSION_DEFAULT, AN_VERSION_BEARER);
		return ERR_CONFIG;
	}
	if (http_path_add(req, "/v1/messages") < 0 ||
	    http_header_add(req, "anthropic-version", v) < 0 ||
	    (secret && (bearer ? http_cred_add(req, "Authorization", "Bearer ", secret) :
	    http_cred_add(req, "x-api-key", "", secret)) < 0)) {
		http_err_set(err, ERR_CONFIG, 0, false, "the credential cannot be sent as a header");
		return ERR_CONFIG;
	}
	*version = v;
	return 0;
}

static int
an_build(const struct model_chat *c, const struct model_ep *ep, const char *secret,
    struct http_req *req, json_t **body, struct tool_err *err)
{
	const char *version;
	json_t *msgs, *b;
	char *system;
	int r;

	http_req_init(req, "POST");
	if (ep->model == NULL || ep->model[0] == '\0') {
		http_err_set(err, ERR_CONFIG, 0, false, "model endpoint '%s' names no model",
		    ep->name ? ep->name : "?");
		return ERR_CONFIG;
	}
	if ((r = an_headers(ep, secret, req, &version, err)) < 0)
		return r;
	if ((r = convert(c->messages, &msgs, &system)) < 0)
		return r;
	b = json_pack("{s:s, s:I, s:o}", "model", ep->model, "max_tokens",
	    (json_int_t)(c->max_tokens > 0 ? c->max_tokens : LIM_MODEL_MAX_TOKENS_DEFAULT),
	    "messages", msgs);
	if (b && system)
		json_object_set_new(b, "system", json_string(system));
	free(system);
	if (b && c->tools)
		json_object_set_new(b, "tools", tools_out(c->tools));
	/* 2026-10-21 dropped temperature (llm-apis.json differencesBetweenApiVersions). */
	if (b && c->has_temperature && strcmp(version, AN_VERSION_DEFAULT) == 0)
		json_object_set_new(b, "temperature", json_real(c->temperature));
	*body = b;
	return b ? 0 : -ENOMEM;
}

static const char *
finish_of(const char *sr, bool calls, const char **pf)
{
	*pf = NULL;
	if (calls)
		return "tool_calls";
	if (sr && (strcmp(sr, "max_tokens") == 0 ||
	    strcmp(sr, "model_context_window_exceeded") == 0)) {
		if (strcmp(sr, "max_tokens") != 0)
			*pf = sr;
		return "length";
	}
	if (sr && strcmp(sr, "end_turn") != 0 && strcmp(sr, "stop_sequence") != 0 &&
	    strcmp(sr, "tool_use") != 0)
		*pf = sr;			/* pause_turn, refusal */
	return "stop";
}

static int
an_parse(const struct model_chat *c, const json_t *body, json_t **result, struct tool_err *err)
{
	const json_t *content = json_object_get(body, "content"), *blk, *u;
	json_t *calls = json_array();
	char *text = NULL;
	size_t k, tlen = 0;
	const char *pf;

	if (!json_is_array(content)) {
		json_decref(calls);
		http_err_set(err, ERR_PROTO, 0, false, "anthropic: the answer has no content array");
		return ERR_PROTO;
	}
	json_array_foreach(content, k, blk) {
		const char *type = json_string_value(json_object_get(blk, "type"));
		const char *t = json_string_value(json_object_get(blk, "text"));

		if (type && strcmp(type, "text") == 0 && t && tlen < LIM_MODEL_TEXT_MAX + 1) {
			if (model_text_append(&text, &tlen, t) < 0)
				break;
		} else if (type && strcmp(type, "tool_use") == 0 &&
		    json_is_string(json_object_get(blk, "id")) &&
		    json_array_size(calls) < LIM_MODEL_CALLS_MAX) {
			json_array_append_new(calls, model_call_new(
			    json_string_value(json_object_get(blk, "id")),
			    json_string_value(json_object_get(blk, "name")),
			    json_incref(json_object_get(blk, "input")), "(input was not an object)"));
		}
	}
	u = json_object_get(body, "usage");
	*result = model_result_new(text, tlen, calls, finish_of(json_string_value(
	    json_object_get(body, "stop_reason")), json_array_size(calls) > 0, &pf),
	    json_integer_value(json_object_get(u, "input_tokens")) +
	    json_integer_value(json_object_get(u, "cache_creation_input_tokens")) +
	    json_integer_value(json_object_get(u, "cache_read_input_tokens")),
	    json_integer_value(json_object_get(u, "output_tokens")));
	free(text);
	return model_result_finish(*result, pf, json_object_get(body, "model"));
}

/* {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}} */
static void
an_error_text(const json_t *body, char *out, size_t len)
{
	const json_t *e = json_object_get(body, "error");
	const char *m = json_string_value(json_object_get(e, "message"));
	const char *t = json_string_value(json_object_get(e, "type"));

	model_error_format(out, len, t, m);
}

const struct model_provider model_prov_anthropic = {
	.name = "anthropic",
	.build = an_build,
	.parse = an_parse,
	.error_text = an_error_text,
	.body_wait_ms = NULL,
};
