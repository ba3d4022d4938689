/* The model gateway family: the neutral chat format's checks, the exchange with a provider
 * (through io->http, so the worker's egress broker and the shared client apply) and the retry
 * rules. The request is never marked idempotent for the client: retries are decided here,
 * where the provider's own signals are known (Anthropic's 529, retry-after-ms, x-should-retry,
 * Gemini's RetryInfo in the body). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/io.h"
#include "tools/model.h"

/* ---------------------------------------------------------------- helpers */

bool
model_name_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return false;
	}
	return n >= 1 && n <= 64;
}

const char *
model_msg_text(const json_t *m)
{
	const char *s = json_string_value(json_object_get(m, "content"));

	return s ? s : "";
}

size_t
model_assistant_count(const json_t *messages, size_t before)
{
	size_t n = 0;

	for (size_t i = 0; i < before && i < json_array_size(messages); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(messages, i), "role")),
		    "assistant") == 0)
			n++;
	return n;
}

const json_t *
model_call_find(const json_t *messages, size_t before, const char *id)
{
	for (size_t i = before; i-- > 0;) {
		const json_t *m = json_array_get(messages, i), *tc;
		size_t k;

		if (strcmp(json_string_value(json_object_get(m, "role")), "assistant") != 0)
			continue;
		json_array_foreach(json_object_get(m, "tool_calls"), k, tc)
			if (strcmp(json_string_value(json_object_get(tc, "id")), id) == 0)
				return tc;
		return NULL;
	}
	return NULL;
}

/* Length of s cut to at most max bytes, never inside a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

json_t *
model_result_new(const char *text, size_t textlen, json_t *calls, const char *finish,
    int64_t in_tokens, int64_t out_tokens)
{
	size_t keep = text ? utf8_cut(text, textlen, LIM_MODEL_TEXT_MAX) : 0;
	json_t *msg, *res;

	if (calls == NULL)
		calls = json_array();
	msg = json_pack("{s:s, s:o, s:o}", "role", "assistant", "content",
	    text && textlen ? json_stringn(text, keep) : json_null(), "tool_calls", calls);
	res = json_pack("{s:o, s:s, s:{s:I, s:I}}", "message", msg, "finish", finish, "usage",
	    "input_tokens", (json_int_t)(in_tokens > 0 ? in_tokens : 0), "output_tokens",
	    (json_int_t)(out_tokens > 0 ? out_tokens : 0));
	if (res && keep < textlen)
		json_object_set_new(res, "truncated", json_true());
	return res;
}

int
model_result_finish(json_t *result, const char *provider_finish, json_t *model)
{
	if (result == NULL)
		return -ENOMEM;
	if (provider_finish != NULL)
		json_object_set_new(result, "provider_finish", json_string(provider_finish));
	if (json_is_string(model))
		json_object_set(result, "model", model);
	return 0;
}

int
model_text_append(char **text, size_t *tlen, const char *t)
{
	size_t n = strlen(t);
	char *x = realloc(*text, *tlen + n + 1);

	if (x == NULL)
		return -ENOMEM;
	memcpy(x + *tlen, t, n + 1);
	*text = x;
	*tlen += n;
	return 0;
}

void
model_error_format(char *out, size_t len, const char *kind, const char *msg)
{
	if (msg != NULL)
		snprintf(out, len, "%s%s%.300s", kind ? kind : "", kind ? ": " : "", msg);
}

json_t *
model_call_new(const char *id, const char *name, json_t *arguments, const char *raw)
{
	char nm[65];
	size_t n = 0;
	json_t *tc;

	for (; name && name[n] && n < 64; n++) {
		unsigned char c = (unsigned char)name[n];

		nm[n] = (char)(model_name_ok((char[]){ (char)c, 0 }) ? c : '_');
	}
	if (n == 0)
		nm[n++] = '_';
	nm[n] = '\0';
	if (!json_is_object(arguments)) {
		json_decref(arguments);
		arguments = NULL;
	}
	tc = json_pack("{s:s, s:s, s:o}", "id", id, "name", nm, "arguments",
	    arguments ? arguments : json_object());
	if (tc && arguments == NULL && raw != NULL)
		json_object_set_new(tc, "invalid_arguments",
		    json_stringn(raw, utf8_cut(raw, strlen(raw), 4096)));
	return tc;
}

/* ---------------------------------------------------------------- neutral format checks */

static int
bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ERR_SCHEMA;
}

static bool
only_keys(const json_t *o, const char *const *allowed, const char **unknown)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		size_t i;

		for (i = 0; allowed[i] && strcmp(allowed[i], k) != 0; i++)
			;
		if (allowed[i] == NULL) {
			*unknown = k;
			return false;
		}
	}
	return true;
}

static int
check_call(const json_t *tc, size_t i, size_t k, char *err, size_t errlen)
{
	static const char *const keys[] = { "id", "name", "arguments", "invalid_arguments",
		"thought_signature", NULL };
	const char *id = json_string_value(json_object_get(tc, "id")), *u;

	if (!json_is_object(tc))
		return bad(err, errlen, "messages[%zu].tool_calls[%zu]: expected an object", i, k);
	if (!only_keys(tc, keys, &u))
		return bad(err, errlen, "messages[%zu].tool_calls[%zu].%.40s: unknown field", i, k, u);
	if (id == NULL || id[0] == '\0' || strlen(id) > LIM_MODEL_ID_MAX)
		return bad(err, errlen, "messages[%zu].tool_calls[%zu].id: expected a string of "
		    "1..%u bytes", i, k, LIM_MODEL_ID_MAX);
	if (!model_name_ok(json_string_value(json_object_get(tc, "name"))))
		return bad(err, errlen, "messages[%zu].tool_calls[%zu].name: must match "
		    "^[a-zA-Z0-9_-]{1,64}$", i, k);
	if (!json_is_object(json_object_get(tc, "arguments")))
		return bad(err, errlen, "messages[%zu].tool_calls[%zu].arguments: expected an object",
		    i, k);
	return 0;
}

static int
check_message(const json_t *m, size_t i, char *err, size_t errlen)
{
	static const char *const k_plain[] = { "role", "content", NULL };
	static const char *const k_asst[] = { "role", "content", "tool_calls", NULL };
	static const char *const k_tool[] = { "role", "content", "tool_call_id", "name",
		"is_error", NULL };
	const char *role = json_string_value(json_object_get(m, "role")), *u;
	json_t *content = json_object_get(m, "content"), *calls, *tc;
	size_t k;
	int r;

	if (!json_is_object(m))
		return bad(err, errlen, "messages[%zu]: expected an object", i);
	if (role == NULL || (strcmp(role, "system") && strcmp(role, "user") &&
	    strcmp(role, "assistant") && strcmp(role, "tool")))
		return bad(err, errlen, "messages[%zu].role: expected system, user, assistant or "
		    "tool", i);
	if (!only_keys(m, strcmp(role, "assistant") == 0 ? k_asst : strcmp(role, "tool") == 0 ?
	    k_tool : k_plain, &u))
		return bad(err, errlen, "messages[%zu].%.40s: unknown field for role %s", i, u, role);
	if (!json_is_string(content) && !(strcmp(role, "assistant") == 0 &&
	    (content == NULL || json_is_null(content))))
		return bad(err, errlen, "messages[%zu].content: expected a string", i);
	if (strcmp(role, "tool") == 0) {
		const char *id = json_string_value(json_object_get(m, "tool_call_id"));
		json_t *ie = json_object_get(m, "is_error"), *nm = json_object_get(m, "name");

		if (id == NULL || id[0] == '\0' || strlen(id) > LIM_MODEL_ID_MAX)
			return bad(err, errlen, "messages[%zu].tool_call_id: expected a string", i);
		if (ie != NULL && !json_is_boolean(ie))
			return bad(err, errlen, "messages[%zu].is_error: expected true or false", i);
		if (nm != NULL && !model_name_ok(json_string_value(nm)))
			return bad(err, errlen, "messages[%zu].name: must match ^[a-zA-Z0-9_-]{1,64}$",
			    i);
	}
	if ((calls = json_object_get(m, "tool_calls")) == NULL)
		return 0;
	if (!json_is_array(calls) || json_array_size(calls) > LIM_MODEL_CALLS_MAX)
		return bad(err, errlen, "messages[%zu].tool_calls: expected an array of at most %u",
		    i, LIM_MODEL_CALLS_MAX);
	json_array_foreach(calls, k, tc)
		if ((r = check_call(tc, i, k, err, errlen)) < 0)
			return r;
	return 0;
}

/* A tool message must answer a call of the nearest assistant message before it. */
static int
check_tool_links(const json_t *msgs, char *err, size_t errlen)
{
	size_t i;
	json_t *m;

	json_array_foreach(msgs, i, m) {
		const char *id = json_string_value(json_object_get(m, "tool_call_id"));

		if (id != NULL && model_call_find(msgs, i, id) == NULL)
			return bad(err, errlen, "messages[%zu].tool_call_id: no call with id '%.64s' "
			    "in the assistant message before it", i, id);
	}
	return 0;
}

static int
check_tools(const json_t *tools, char *err, size_t errlen)
{
	static const char *const keys[] = { "name", "description", "parameters", NULL };
	const char *u;
	size_t i;
	json_t *t;

	if (!json_is_array(tools) || json_array_size(tools) > LIM_MODEL_TOOLS_MAX)
		return bad(err, errlen, "tools: expected an array of at most %u", LIM_MODEL_TOOLS_MAX);
	json_array_foreach(tools, i, t) {
		json_t *d = json_object_get(t, "description"), *p = json_object_get(t, "parameters");
		const char *pt = json_string_value(json_object_get(p, "type"));

		if (!json_is_object(t))
			return bad(err, errlen, "tools[%zu]: expected an object", i);
		if (!only_keys(t, keys, &u))
			return bad(err, errlen, "tools[%zu].%.40s: unknown field", i, u);
		if (!model_name_ok(json_string_value(json_object_get(t, "name"))))
			return bad(err, errlen, "tools[%zu].name: must match ^[a-zA-Z0-9_-]{1,64}$", i);
		if (d != NULL && !json_is_string(d))
			return bad(err, errlen, "tools[%zu].description: expected a string", i);
		if (p != NULL && (!json_is_object(p) || pt == NULL || strcmp(pt, "object") != 0))
			return bad(err, errlen, "tools[%zu].parameters: expected a JSON Schema object "
			    "with type \"object\"", i);
	}
	return 0;
}

int
model_chat_check(const json_t *args, struct model_chat *c, char *err, size_t errlen)
{
	const json_t *msgs = json_object_get(args, "messages"), *m;
	json_t *tools = json_object_get(args, "tools"), *mt = json_object_get(args, "max_tokens");
	json_t *t = json_object_get(args, "temperature");
	size_t i;
	int r;

	memset(c, 0, sizeof(*c));
	if (!json_is_array(msgs) || json_array_size(msgs) == 0 ||
	    json_array_size(msgs) > LIM_MODEL_MESSAGES_MAX)
		return bad(err, errlen, "messages: expected an array of 1..%u messages",
		    LIM_MODEL_MESSAGES_MAX);
	json_array_foreach(msgs, i, m)
		if ((r = check_message(m, i, err, errlen)) < 0)
			return r;
	if ((r = check_tool_links(msgs, err, errlen)) < 0)
		return r;
	if (tools != NULL && !json_is_null(tools) && (r = check_tools(tools, err, errlen)) < 0)
		return r;
	c->messages = msgs;
	c->tools = json_array_size(tools) ? tools : NULL;
	c->max_tokens = json_is_integer(mt) ? json_integer_value(mt) : 0;
	if (json_is_number(t)) {
		c->temperature = json_number_value(t);
		c->has_temperature = true;
	}
	return 0;
}

int
model_ep_from_ctx(const json_t *ctx, struct model_ep *ep, char *err, size_t errlen)
{
	const json_t *e = json_object_get(ctx, "endpoint");

	memset(ep, 0, sizeof(*ep));
	if (!json_is_object(e)) {
		snprintf(err, errlen, "no model endpoint in the call context");
		return ERR_CONFIG;
	}
	ep->name = json_string_value(json_object_get(e, "name"));
	ep->provider = json_string_value(json_object_get(e, "provider"));
	ep->url = json_string_value(json_object_get(e, "url"));
	ep->model = json_string_value(json_object_get(e, "model"));
	ep->api_version = json_string_value(json_object_get(e, "api_version"));
	ep->script = json_string_value(json_object_get(e, "script"));
	if (ep->provider == NULL) {
		snprintf(err, errlen, "model endpoint '%s' names no provider",
		    ep->name ? ep->name : "?");
		return ERR_CONFIG;
	}
	if (strcmp(ep->provider, "script") == 0 ? ep->script == NULL : ep->url == NULL) {
		snprintf(err, errlen, "model endpoint '%s' (%s) has no %s", ep->name ? ep->name : "?",
		    ep->provider, strcmp(ep->provider, "script") == 0 ? "script text" : "url");
		return ERR_CONFIG;
	}
	return 0;
}

/* ---------------------------------------------------------------- the exchange */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* 408, 409 (a lock the server timed out on), 429, every 5xx (Anthropic's 529 included): the
 * statuses the providers' own SDKs retry. */
static bool
status_retryable(long s)
{
	return s == 408 || s == 409 || s == 429 || (s >= 500 && s <= 599);
}

/* The server's wait: retry-after-ms, retry-after (seconds), then the body's (Gemini
 * RetryInfo); -1 when none was announced. */
static int64_t
announced_wait_ms(const struct model_provider *p, const struct http_resp *resp,
    const json_t *body)
{
	const char *h;
	char *end;
	double v;

	if ((h = http_resp_header(resp, "retry-after-ms")) != NULL &&
	    (v = strtod(h, &end)) >= 0 && end != h && *end == '\0')
		return (int64_t)v;
	if ((h = http_resp_header(resp, "retry-after")) != NULL &&
	    (v = strtod(h, &end)) >= 0 && end != h && *end == '\0')
		return (int64_t)(v * 1000);
	return body && p->body_wait_ms ? p->body_wait_ms(body) : -1;
}

/* A non-2xx answer -> err; returns whether it is worth another attempt and *wait_ms. */
static bool
http_failure(const struct model_provider *p, const struct http_resp *resp, struct tool_err *err,
    int64_t *wait_ms)
{
	json_t *body = resp->body ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
	const char *sr = http_resp_header(resp, "x-should-retry");
	long s = resp->status;
	char msg[400] = "";
	bool retry;

	if (body && p->error_text)
		p->error_text(body, msg, sizeof(msg));
	if (msg[0] == '\0')
		http_api_message(resp->body, resp->len, msg, sizeof(msg));
	retry = status_retryable(s);
	if (sr != NULL)
		retry = strcmp(sr, "true") == 0;
	*wait_ms = announced_wait_ms(p, resp, body);
	http_err_set(err, s == 429 ? ERR_RATE : s == 404 ? ERR_NOTFOUND : ERR_HTTP, (int)s, retry,
	    "%s: HTTP %ld%s%s", p->name, s, msg[0] ? ": " : "", msg);
	json_decref(body);
	return retry;
}

static int
parse_ok(const struct model_provider *p, const struct model_chat *c,
    const struct http_resp *resp, json_t **result, struct tool_err *err)
{
	int r;
	json_t *body = NULL;

	if ((r = http_resp_json(resp, &body, err)) < 0)
		return r;
	if (!json_is_object(body)) {
		json_decref(body);
		http_err_set(err, ERR_PROTO, (int)resp->status, false,
		    "%s: the answer is not a JSON object", p->name);
		return ERR_PROTO;
	}
	r = p->parse(c, body, result, err);
	json_decref(body);
	return r;
}

/* One attempt's outcome: 0 done, 1 try again after *wait_ms (-1: our own backoff), <0 fail. */
static int
attempt_once(struct tool_io *io, const struct tool_call *call, const struct model_provider *p,
    const struct model_chat *c, const struct http_req *req, json_t **result,
    struct tool_err *err, int64_t *wait_ms)
{
	struct http_resp resp = { 0 };
	int r;

	*wait_ms = -1;
	r = io->http(io, call, req, &resp, err);
	if (r == 0)
		r = parse_ok(p, c, &resp, result, err);
	else if (resp.status >= 300)
		r = http_failure(p, &resp, err, wait_ms) ? 1 : err->code;
	else if (err->retryable && err->code != ERR_TIMEOUT && err->code != ERR_EGRESS)
		r = 1;		/* the connection failed before an answer */
	http_resp_clear(&resp);
	return r;
}

static int
chat_http(struct tool_io *io, const struct tool_call *call, const struct model_provider *p,
    const struct model_chat *c, const struct model_ep *ep, json_t **result,
    struct tool_err *err)
{
	struct http_req *req = calloc(1, sizeof(*req));
	json_t *body = NULL;
	char *text = NULL;
	int r;

	if (req == NULL)
		return -ENOMEM;
	if ((r = p->build(c, ep, http_ctx_secret(call->ctx), req, &body, err)) < 0)
		goto out;
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	req->body = text;
	req->body_len = strlen(text);
	req->content_type = "application/json";
	for (unsigned attempt = 0;; attempt++) {
		int64_t wait;
		char ev[160];

		if ((r = attempt_once(io, call, p, c, req, result, err, &wait)) <= 0)
			break;
		r = err->code ? err->code : ERR_HTTP;
		if (wait < 0)
			wait = (int64_t)LIM_MODEL_BACKOFF_MS << attempt;
		if (attempt >= LIM_MODEL_RETRIES || wait > LIM_MODEL_RETRY_WAIT_MAX_MS ||
		    mono_ms() + wait >= call->deadline)
			break;
		snprintf(ev, sizeof(ev), "model %s: %s; retry %u in %lld ms", p->name,
		    err->http_status ? "HTTP error" : "connection failed", attempt + 1,
		    (long long)wait);
		if (io->event)
			io->event(io, call->id, ev);
		sleep_ms(wait);
	}
out:
	http_req_wipe(req);
	free(req);
	free(text);
	json_decref(body);
	return r;
}

static const struct model_provider *const providers[] = {
	&model_prov_openai, &model_prov_anthropic, &model_prov_google,
};

static int
op_chat(struct tool_io *io, const struct tool_call *call, json_t **result, struct tool_err *err)
{
	const struct model_provider *p = NULL;
	struct model_chat c;
	struct model_ep ep;
	char e[400];
	int r;

	*result = NULL;
	if ((r = model_chat_check(call->args, &c, e, sizeof(e))) < 0 ||
	    (r = model_ep_from_ctx(call->ctx, &ep, e, sizeof(e))) < 0) {
		http_err_set(err, r, 0, false, "%s", e);
		return r;
	}
	if (strcmp(ep.provider, "script") == 0) {
		r = model_script_reply(&c, &ep, result, err);
	} else {
		for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
			if (strcmp(providers[i]->name, ep.provider) == 0)
				p = providers[i];
		if (p == NULL) {
			http_err_set(err, ERR_CONFIG, 0, false, "unknown model provider '%.64s'",
			    ep.provider);
			return ERR_CONFIG;
		}
		if (io == NULL || io->http == NULL) {
			http_err_set(err, ERR_NOTREADY, 0, false, "no HTTP in this worker");
			return ERR_NOTREADY;
		}
		r = chat_http(io, call, p, &c, &ep, result, err);
	}
	if (r < 0) {
		json_decref(*result);
		*result = NULL;
		return r;
	}
	json_object_set_new(*result, "provider", json_string(ep.provider));
	if (json_object_get(*result, "model") == NULL)
		json_object_set_new(*result, "model", ep.model ? json_string(ep.model) : json_null());
	return 0;
}

/* ---------------------------------------------------------------- the family */

static const struct tool_param p_chat[] = {
	{ .name = "messages", .type = TP_JSON, .required = true, .max_len = LIM_ARGS_MAX,
	  .desc = "The conversation: [{role, content, tool_calls?, tool_call_id?}]" },
	{ .name = "tools", .type = TP_JSON, .max_len = LIM_ARGS_MAX,
	  .desc = "Tools the model may call: [{name, description, parameters}]" },
	{ .name = "max_tokens", .type = TP_INT, .min = 1, .max = LIM_AGENT_MAX_TOKENS,
	  .desc = "Most tokens the model may generate" },
	{ .name = "temperature", .type = TP_NUMBER, .min = 0, .max = 2,
	  .desc = "Sampling temperature" },
	{ 0 }
};

static const struct tool_op model_ops[] = {
	{ .name = "chat", .desc = "One model turn: the conversation in, the assistant's message "
	  "(text and tool calls) out", .flags = TOOL_F_IDEMPOTENT, .params = p_chat,
	  .timeout_ms = LIM_MODEL_CHAT_MS, .run = op_chat },
	{ 0 }
};

const struct tool_family tool_fam_model = {
	.name = "model",
	.desc = "Model gateway: OpenAI-compatible, Anthropic, Gemini and scripted providers",
	.kind = TOOL_KIND_MODEL,
	.ops = model_ops,
};
