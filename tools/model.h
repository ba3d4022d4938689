/* The model gateway: family "model", op "chat". Agents speak one neutral chat format; the
 * provider files translate it to and from OpenAI Chat Completions (also Ollama and vLLM),
 * Anthropic Messages and Gemini generateContent, and the script provider replays a YAML file.
 * Provider code is pure (JSON in, JSON out); the HTTP exchange and the retries live in model.c
 * and go through io->http. docs/MODEL.md describes the formats.
 *
 * Neutral request (the op's args):
 *   {"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": "text" (null allowed
 *     for assistant), "tool_calls": [{"id", "name", "arguments": {...}}] (assistant),
 *     "tool_call_id", "name"?, "is_error"? (tool)}],
 *    "tools": [{"name", "description"?, "parameters"?: JSON Schema}],
 *    "max_tokens"?, "temperature"?}
 * Neutral result:
 *   {"message": {"role": "assistant", "content": "text" | null, "tool_calls": [...]},
 *    "finish": "stop" | "tool_calls" | "length", "usage": {"input_tokens", "output_tokens"},
 *    "provider", "model"} (+ "provider_finish" when the provider's reason had no neutral twin,
 *    + "truncated": true when the text was cut to LIM_MODEL_TEXT_MAX)
 * Tool names are FAMILY__OP (^[a-zA-Z0-9_-]{1,64}$, what every provider accepts).
 */
#ifndef CORRAL_TOOLS_MODEL_H
#define CORRAL_TOOLS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tools/http.h"
#include "tools/tool.h"

extern const struct tool_family tool_fam_model;

/* The endpoint from the call context: strings borrowed from ctx.endpoint. */
struct model_ep {
	const char *name;
	const char *provider;		/* "openai", "anthropic", "google", "script" */
	const char *url;		/* base URL (NULL for script) */
	const char *model;		/* provider's model id */
	const char *api_version;	/* anthropic; NULL = the pinned default */
	const char *script;		/* script provider: the YAML text */
};

/* A validated chat request (borrowed from the call's args). */
struct model_chat {
	const json_t *messages;
	const json_t *tools;		/* NULL or an array */
	int64_t max_tokens;		/* 0 = not given */
	double temperature;
	bool has_temperature;
};

struct model_provider {
	const char *name;
	/* Path, headers, credential into req; the body into *body (new reference). */
	int (*build)(const struct model_chat *c, const struct model_ep *ep, const char *secret,
	    struct http_req *req, json_t **body, struct tool_err *err);
	/* A 2xx body -> the neutral result (new reference). */
	int (*parse)(const struct model_chat *c, const json_t *body, json_t **result,
	    struct tool_err *err);
	/* The API's own message from an error body ("" when none). */
	void (*error_text)(const json_t *body, char *out, size_t len);
	/* Wait announced in an error body (ms), or -1 (headers are read by model.c). */
	int64_t (*body_wait_ms)(const json_t *body);
};

extern const struct model_provider model_prov_openai;
extern const struct model_provider model_prov_anthropic;
extern const struct model_provider model_prov_google;

/* Script provider: the turn for this conversation, or an error naming what the conversation
 * lacks (ERR_PROTO) or what is wrong with the script (ERR_CONFIG, "script:line:col: ..."). */
int model_script_reply(const struct model_chat *c, const struct model_ep *ep, json_t **result,
    struct tool_err *err);

/* --- shared helpers (tools/model.c) --- */

/* Validate args against the neutral format and fill c (borrowing from args). ERR_SCHEMA with
 * "messages[3].tool_calls[0].name: ..." in err. */
int model_chat_check(const json_t *args, struct model_chat *c, char *err, size_t errlen);
int model_ep_from_ctx(const json_t *ctx, struct model_ep *ep, char *err, size_t errlen);
bool model_name_ok(const char *s);		/* ^[a-zA-Z0-9_-]{1,64}$ */
/* The tool call with this id in the nearest assistant message before index `before`. */
const json_t *model_call_find(const json_t *messages, size_t before, const char *id);
/* Assistant messages in messages[0..before). */
size_t model_assistant_count(const json_t *messages, size_t before);
/* {"message": {"role": "assistant", "content": text|null, "tool_calls": calls (stolen)},
 *  "finish", "usage"} with text cut to LIM_MODEL_TEXT_MAX on a UTF-8 boundary. */
json_t *model_result_new(const char *text, size_t textlen, json_t *calls, const char *finish,
    int64_t in_tokens, int64_t out_tokens);
/* The end of a provider's parse: -ENOMEM when result is NULL; else "provider_finish" when the
 * provider's reason had no neutral twin, and "model" when the answer named one (a string). */
int model_result_finish(json_t *result, const char *provider_finish, json_t *model);
/* Append t to the malloc'd text (*tlen bytes so far); -ENOMEM leaves both as they were. */
int model_text_append(char **text, size_t *tlen, const char *t);
/* An error body's message as "kind: message" (message cut to 300 bytes; kind may be NULL);
 * out is left alone when msg is NULL. */
void model_error_format(char *out, size_t len, const char *kind, const char *msg);
/* A neutral tool call {"id", "name", "arguments"}: name made to fit the pattern (other bytes
 * become '_', cut to 64) so the conversation stays valid when it is sent back; arguments
 * stolen (NULL or not an object: {} and "invalid_arguments": raw, cut to 4 KiB). */
json_t *model_call_new(const char *id, const char *name, json_t *arguments, const char *raw);
/* Text of a tool message as a provider wants it (never NULL; "" when absent). */
const char *model_msg_text(const json_t *m);

#endif
