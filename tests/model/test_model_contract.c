/* The providers' pure halves against the contract's own examples (tests/tools/contracts/
 * llm-apis.json): a neutral conversation must build exactly the example request, and the
 * example responses must parse into the expected neutral results. Plus the neutral format's
 * checks, path/header building, and error texts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/model/mfx.h"

#define SYS	"{\"role\":\"system\",\"content\":\"You are a deployment assistant.\"}"
#define USER	"{\"role\":\"user\",\"content\":\"Is the canary for deployment web healthy?\"}"
#define TOOLS	"[{\"name\":\"get_canary_score\",\"description\":\"Return the latest canary " \
	"score for a deployment.\",\"parameters\":{\"type\":\"object\",\"properties\":" \
	"{\"deployment\":{\"type\":\"string\"}},\"required\":[\"deployment\"]}},{\"name\":" \
	"\"get_error_rate\",\"description\":\"Return the HTTP 5xx error rate for a deployment.\"," \
	"\"parameters\":{\"type\":\"object\",\"properties\":{\"deployment\":{\"type\":\"string\"}}," \
	"\"required\":[\"deployment\"]}}]"
#define CALLS(a, b)	"[{\"id\":\"" a "\",\"name\":\"get_canary_score\",\"arguments\":" \
	"{\"deployment\":\"web\"}},{\"id\":\"" b "\",\"name\":\"get_error_rate\",\"arguments\":" \
	"{\"deployment\":\"web\"}}]"

/* Build the provider's body for args (neutral) and endpoint ep; returns the body. */
static json_t *
build(const struct model_provider *p, const char *args_json, const struct model_ep *ep,
    struct http_req *req)
{
	json_t *args = mfx_json(args_json), *body = NULL;
	struct model_chat c;
	struct tool_err err = { 0 };
	char e[256];

	cr_assert_eq(model_chat_check(args, &c, e, sizeof(e)), 0, "neutral check: %s", e);
	cr_assert_eq(p->build(&c, ep, "k-123456", req, &body, &err), 0, "build: %s", err.text);
	/* the body borrows nothing from args: free them first to prove it */
	json_decref(args);
	return body;
}

static void
assert_json_eq(const json_t *got, const json_t *want, const char *what)
{
	char g[8192];

	snprintf(g, sizeof(g), "%s", mfx_str(got));
	cr_assert(json_equal(got, want), "%s:\n got  %s\n want %s", what, g, mfx_str(want));
}

/* ---------------------------------------------------------------- requests */

static const struct model_ep ep_openai = { .name = "oa", .provider = "openai",
	.url = "https://api.openai.com/v1", .model = "gpt-4o-mini" };
static const struct model_ep ep_anthropic = { .name = "an", .provider = "anthropic",
	.url = "https://api.anthropic.com", .model = "claude-sonnet-4-5" };
static const struct model_ep ep_google = { .name = "go", .provider = "google",
	.url = "https://generativelanguage.googleapis.com", .model = "gemini-2.5-flash" };

Test(model_contract, openai_text_request_is_the_example)
{
	struct http_req req;
	json_t *b = build(&model_prov_openai, "{\"messages\":[" SYS "," USER "],"
	    "\"max_tokens\":256}", &ep_openai, &req);

	assert_json_eq(b, mfx_example("openai", "textAnswer", "request"), "openai text request");
	cr_assert_str_eq(req.method, "POST");
	cr_assert_str_eq(req.path, "/chat/completions");
	cr_assert_eq(req.ncred, 1);
	cr_assert_str_eq(req.cred_headers[0].name, "Authorization");
	cr_assert_str_eq(req.cred_headers[0].value, "Bearer k-123456");
	json_decref(b);
}

Test(model_contract, openai_tool_results_request_is_the_example)
{
	struct http_req req;
	json_t *b = build(&model_prov_openai, "{\"messages\":[" SYS "," USER ","
	    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":" CALLS("call_0001", "call_0002")
	    "},{\"role\":\"tool\",\"tool_call_id\":\"call_0001\",\"content\":\"{\\\"score\\\":97.5}\"},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"call_0002\",\"content\":\"{\\\"rate\\\":0.002}\"}],"
	    "\"tools\":" TOOLS ",\"max_tokens\":256}", &ep_openai, &req);

	assert_json_eq(b, mfx_example("openai", "toolResults", "request"), "openai tool results");
	json_decref(b);
}

/* Ollama and vLLM take max_tokens; only api.openai.com gets max_completion_tokens. */
Test(model_contract, openai_compatible_servers_get_max_tokens)
{
	struct model_ep ep = ep_openai;
	struct http_req req;
	json_t *b;

	ep.url = "http://127.0.0.1:11434/v1";
	b = build(&model_prov_openai, "{\"messages\":[" USER "],\"max_tokens\":64,"
	    "\"temperature\":0.5}", &ep, &req);
	cr_assert_eq(json_integer_value(json_object_get(b, "max_tokens")), 64);
	cr_assert_null(json_object_get(b, "max_completion_tokens"));
	cr_assert_float_eq(json_real_value(json_object_get(b, "temperature")), 0.5, 1e-9);
	json_decref(b);
}

Test(model_contract, anthropic_text_request_is_the_example)
{
	struct http_req req;
	json_t *b = build(&model_prov_anthropic, "{\"messages\":[" SYS "," USER "],"
	    "\"max_tokens\":256}", &ep_anthropic, &req);

	assert_json_eq(b, mfx_example("anthropic", "textAnswer", "request"), "anthropic text");
	cr_assert_str_eq(req.path, "/v1/messages");
	cr_assert_eq(req.nheaders, 1);
	cr_assert_str_eq(req.headers[0].name, "anthropic-version");
	cr_assert_str_eq(req.headers[0].value, "2023-06-01");
	cr_assert_eq(req.ncred, 1);
	cr_assert_str_eq(req.cred_headers[0].name, "x-api-key");
	cr_assert_str_eq(req.cred_headers[0].value, "k-123456");
	json_decref(b);
}

Test(model_contract, anthropic_tool_results_request_is_the_example)
{
	struct http_req req;
	json_t *b = build(&model_prov_anthropic, "{\"messages\":[" SYS "," USER ","
	    "{\"role\":\"assistant\",\"content\":\"Checking both metrics.\",\"tool_calls\":"
	    CALLS("toolu_0001", "toolu_0002") "},{\"role\":\"tool\",\"tool_call_id\":"
	    "\"toolu_0001\",\"content\":\"{\\\"score\\\":97.5}\"},{\"role\":\"tool\",\"tool_call_id\":"
	    "\"toolu_0002\",\"content\":\"metrics backend timed out\",\"is_error\":true}],"
	    "\"tools\":" TOOLS ",\"max_tokens\":256}", &ep_anthropic, &req);

	assert_json_eq(b, mfx_example("anthropic", "toolResults", "request"), "anthropic results");
	json_decref(b);
}

/* 2026-10-21: Bearer credential, no temperature; other versions are refused. */
Test(model_contract, anthropic_versions)
{
	struct model_ep ep = ep_anthropic;
	struct model_chat c;
	struct http_req req;
	struct tool_err err = { 0 };
	json_t *args = mfx_json("{\"messages\":[" USER "],\"temperature\":0.3}"), *b = NULL;
	char e[128];

	cr_assert_eq(model_chat_check(args, &c, e, sizeof(e)), 0);
	ep.api_version = "2026-10-21";
	cr_assert_eq(model_prov_anthropic.build(&c, &ep, "k-123456", &req, &b, &err), 0);
	cr_assert_str_eq(req.headers[0].value, "2026-10-21");
	cr_assert_str_eq(req.cred_headers[0].name, "Authorization");
	cr_assert_str_eq(req.cred_headers[0].value, "Bearer k-123456");
	cr_assert_null(json_object_get(b, "temperature"));
	cr_assert_eq(json_integer_value(json_object_get(b, "max_tokens")),
	    LIM_MODEL_MAX_TOKENS_DEFAULT);
	json_decref(b);
	b = NULL;
	ep.api_version = "2024-01-01";
	cr_assert_eq(model_prov_anthropic.build(&c, &ep, "k-123456", &req, &b, &err), ERR_CONFIG);
	cr_assert(strstr(err.text, "2024-01-01") != NULL, "%s", err.text);
	cr_assert_null(b);
	json_decref(args);
}

/* A user message after tool results joins the same user turn, after the tool_result blocks. */
Test(model_contract, anthropic_merges_user_turns)
{
	struct http_req req;
	json_t *b = build(&model_prov_anthropic, "{\"messages\":[" USER ","
	    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":" CALLS("t1", "t2") "},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"t1\",\"content\":\"a\"},{\"role\":\"tool\","
	    "\"tool_call_id\":\"t2\",\"content\":\"b\"},{\"role\":\"user\",\"content\":\"and?\"}]}",
	    &ep_anthropic, &req);
	json_t *want = mfx_json("[{\"role\":\"user\",\"content\":\"Is the canary for deployment web "
	    "healthy?\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\","
	    "\"name\":\"get_canary_score\",\"input\":{\"deployment\":\"web\"}},{\"type\":\"tool_use\","
	    "\"id\":\"t2\",\"name\":\"get_error_rate\",\"input\":{\"deployment\":\"web\"}}]},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\","
	    "\"content\":\"a\"},{\"type\":\"tool_result\",\"tool_use_id\":\"t2\",\"content\":\"b\"},"
	    "{\"type\":\"text\",\"text\":\"and?\"}]}]");

	assert_json_eq(json_object_get(b, "messages"), want, "anthropic turns");
	cr_assert_null(json_object_get(b, "system"));
	json_decref(want);
	json_decref(b);
}

Test(model_contract, google_text_request_is_the_example)
{
	struct http_req req;
	json_t *b = build(&model_prov_google, "{\"messages\":[" SYS "," USER "],"
	    "\"max_tokens\":256}", &ep_google, &req);

	assert_json_eq(b, mfx_example("gemini", "textAnswer", "request"), "gemini text request");
	cr_assert_str_eq(req.path, "/v1beta/models/gemini-2.5-flash:generateContent");
	cr_assert_str_eq(req.cred_headers[0].name, "x-goog-api-key");
	cr_assert_str_eq(req.cred_headers[0].value, "k-123456");
	json_decref(b);
}

/* Same contents and system instruction as the example; tools as parametersJsonSchema (the
 * plain JSON Schema form, which the example writes as an OpenAPI Schema instead); generated
 * call ids are not sent. */
Test(model_contract, google_tool_results_request)
{
	struct http_req req;
	json_t *ex = mfx_example("gemini", "toolResults", "request"), *d;
	json_t *b = build(&model_prov_google, "{\"messages\":[" SYS "," USER ","
	    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":" CALLS("corral_0_0",
	    "corral_0_1") "},{\"role\":\"tool\",\"tool_call_id\":\"corral_0_0\",\"content\":"
	    "\"{\\\"score\\\":97.5}\"},{\"role\":\"tool\",\"tool_call_id\":\"corral_0_1\","
	    "\"content\":\"metrics backend timed out\",\"is_error\":true}],\"tools\":" TOOLS "}",
	    &ep_google, &req);
	json_t *want_tools = mfx_json(TOOLS);

	assert_json_eq(json_object_get(b, "contents"), json_object_get(ex, "contents"), "contents");
	assert_json_eq(json_object_get(b, "systemInstruction"), json_object_get(ex,
	    "systemInstruction"), "systemInstruction");
	d = json_object_get(json_array_get(json_object_get(b, "tools"), 0), "functionDeclarations");
	cr_assert_eq(json_array_size(d), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *got = json_array_get(d, i), *want = json_array_get(want_tools, i);

		assert_json_eq(json_object_get(got, "name"), json_object_get(want, "name"), "name");
		assert_json_eq(json_object_get(got, "description"), json_object_get(want,
		    "description"), "description");
		assert_json_eq(json_object_get(got, "parametersJsonSchema"), json_object_get(want,
		    "parameters"), "parametersJsonSchema");
	}
	json_decref(want_tools);
	json_decref(b);
}

Test(model_contract, google_model_ids)
{
	static const struct { const char *model; int rc; const char *path; } t[] = {
		{ "models/gemini-2.5-pro", 0, "/v1beta/models/gemini-2.5-pro:generateContent" },
		{ "gemini-1.5-flash-001", 0, "/v1beta/models/gemini-1.5-flash-001:generateContent" },
		{ "../x", ERR_CONFIG, NULL },
		{ "a/b", ERR_CONFIG, NULL },
		{ "gem:ini", ERR_CONFIG, NULL },
		{ "", ERR_CONFIG, NULL },
	};
	json_t *args = mfx_json("{\"messages\":[" USER "]}");
	struct model_chat c;
	char e[128];

	cr_assert_eq(model_chat_check(args, &c, e, sizeof(e)), 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct model_ep ep = ep_google;
		struct http_req req;
		struct tool_err err = { 0 };
		json_t *b = NULL;

		ep.model = t[i].model;
		cr_assert_eq(model_prov_google.build(&c, &ep, NULL, &req, &b, &err), t[i].rc,
		    "%s", t[i].model);
		if (t[i].path) {
			cr_assert_str_eq(req.path, t[i].path);
			cr_assert_eq(req.ncred, 0, "no credential when there is no secret");
		}
		json_decref(b);
	}
	json_decref(args);
}

/* ---------------------------------------------------------------- responses */

struct parse_case {
	const char *prov, *cprov, *ex;
	const struct model_provider *p;
	const char *content;		/* NULL: null */
	const char *calls;		/* expected tool_calls JSON */
	const char *finish;
	int64_t in, out;
	const char *model;
};

static void
check_parse(const struct parse_case *pc)
{
	json_t *args = mfx_json("{\"messages\":[" USER "]}"), *res = NULL, *want;
	struct model_chat c;
	struct tool_err err = { 0 };
	char e[128];

	cr_assert_eq(model_chat_check(args, &c, e, sizeof(e)), 0);
	cr_assert_eq(pc->p->parse(&c, mfx_example(pc->cprov, pc->ex, "response"), &res, &err), 0,
	    "%s %s: %s", pc->prov, pc->ex, err.text);
	if (pc->content)
		cr_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "message"),
		    "content")), pc->content, "%s %s", pc->prov, pc->ex);
	else
		cr_assert(json_is_null(json_object_get(json_object_get(res, "message"), "content")));
	want = mfx_json(pc->calls);
	assert_json_eq(json_object_get(json_object_get(res, "message"), "tool_calls"), want,
	    pc->ex);
	cr_assert_str_eq(json_string_value(json_object_get(res, "finish")), pc->finish);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(res, "usage"),
	    "input_tokens")), pc->in);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(res, "usage"),
	    "output_tokens")), pc->out);
	cr_assert_str_eq(json_string_value(json_object_get(res, "model")), pc->model);
	json_decref(want);
	json_decref(res);
	json_decref(args);
}

Test(model_contract, example_responses_parse)
{
	const struct parse_case t[] = {
		{ "openai", "openai", "textAnswer", &model_prov_openai,
		  "Yes, the canary score is 97.5.", "[]", "stop", 28, 9, "gpt-4o-mini" },
		{ "openai", "openai", "toolCalls", &model_prov_openai, NULL,
		  CALLS("call_0001", "call_0002"), "tool_calls", 96, 44, "gpt-4o-mini" },
		{ "openai", "openai", "toolResults", &model_prov_openai,
		  "Healthy: score 97.5, 5xx rate 0.2%.", "[]", "stop", 170, 14, "gpt-4o-mini" },
		{ "anthropic", "anthropic", "textAnswer", &model_prov_anthropic,
		  "Yes, the canary score is 97.5.", "[]", "stop", 30, 12, "claude-sonnet-4-5" },
		{ "anthropic", "anthropic", "toolCalls", &model_prov_anthropic,
		  "Checking both metrics.", CALLS("toolu_0001", "toolu_0002"), "tool_calls", 410, 96,
		  "claude-sonnet-4-5" },
		{ "google", "gemini", "textAnswer", &model_prov_google,
		  "Yes, the canary score is 97.5.", "[]", "stop", 25, 10, "gemini-2.5-flash" },
		/* no ids from Gemini: made up from the turn (one user message, no assistant yet) */
		{ "google", "gemini", "toolCalls", &model_prov_google, NULL,
		  CALLS("corral_0_0", "corral_0_1"), "tool_calls", 120, 30, "gemini-2.5-flash" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check_parse(&t[i]);
}

/* OpenAI's arguments are a string the model wrote: not JSON -> kept for the agent to report,
 * and the call goes back with "{}". Names outside the pattern are made to fit. */
Test(model_contract, openai_bad_arguments)
{
	json_t *args = mfx_json("{\"messages\":[" USER "]}"), *res = NULL, *tc, *b, *a2;
	json_t *body = mfx_json("{\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"message\":"
	    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":"
	    "\"function\",\"function\":{\"name\":\"argocd.get_application\",\"arguments\":"
	    "\"{app: guestbook\"}}]}}]}");
	struct model_chat c;
	struct http_req req;
	struct tool_err err = { 0 };
	char e[256], *next;

	cr_assert_eq(model_chat_check(args, &c, e, sizeof(e)), 0);
	cr_assert_eq(model_prov_openai.parse(&c, body, &res, &err), 0);
	tc = json_array_get(json_object_get(json_object_get(res, "message"), "tool_calls"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(tc, "name")), "argocd_get_application");
	cr_assert_eq(json_object_size(json_object_get(tc, "arguments")), 0);
	cr_assert_str_eq(json_string_value(json_object_get(tc, "invalid_arguments")),
	    "{app: guestbook");
	cr_assert_str_eq(json_string_value(json_object_get(res, "finish")), "tool_calls",
	    "calls present: tool_calls whatever finish_reason said (Ollama)");
	/* the message goes back in the next request, still valid */
	asprintf(&next, "{\"messages\":[" USER ",%s,{\"role\":\"tool\",\"tool_call_id\":\"c1\","
	    "\"content\":\"invalid arguments\",\"is_error\":true}]}",
	    mfx_str(json_object_get(res, "message")));
	a2 = mfx_json(next);
	cr_assert_eq(model_chat_check(a2, &c, e, sizeof(e)), 0, "%s", e);
	b = NULL;
	cr_assert_eq(model_prov_openai.build(&c, &ep_openai, NULL, &req, &b, &err), 0);
	cr_assert_str_eq(json_string_value(http_json_get(json_array_get(json_object_get(
	    json_array_get(json_object_get(b, "messages"), 1), "tool_calls"), 0),
	    "function.arguments")), "{}");
	free(next);
	json_decref(b);
	json_decref(a2);
	json_decref(res);
	json_decref(body);
	json_decref(args);
}

struct err_case {
	const struct model_provider *p;
	const char *prov, *ex, *want;
	int64_t wait;
};

Test(model_contract, error_bodies)
{
	const struct err_case t[] = {
		{ &model_prov_openai, "openai", "error429", "requests: Rate limit reached for "
		  "requests.", -1 },
		{ &model_prov_openai, "openai", "error400", "invalid_request_error: Invalid "
		  "'messages[3].tool_call_id'.", -1 },
		{ &model_prov_anthropic, "anthropic", "error429", "rate_limit_error: Number of request "
		  "tokens has exceeded your per-minute rate limit.", -1 },
		{ &model_prov_anthropic, "anthropic", "error529", "overloaded_error: Overloaded", -1 },
		{ &model_prov_google, "gemini", "error429", "RESOURCE_EXHAUSTED: Resource has been "
		  "exhausted (e.g. check quota).", 30000 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *body = mfx_example(t[i].prov, t[i].ex, "body");
		char out[400] = "";

		t[i].p->error_text(body, out, sizeof(out));
		cr_assert_str_eq(out, t[i].want);
		cr_assert_eq(t[i].p->body_wait_ms ? t[i].p->body_wait_ms(body) : -1, t[i].wait);
	}
}

/* ---------------------------------------------------------------- the neutral format */

struct check_case {
	const char *args;
	const char *err;		/* NULL: valid */
};

Test(model_contract, neutral_checks)
{
	static const struct check_case t[] = {
		{ "{\"messages\":[" USER "]}", NULL },
		{ "{\"messages\":[]}", "messages: expected an array of 1.." },
		{ "{\"messages\":{}}", "messages: expected an array" },
		{ "{\"messages\":[{\"role\":\"bot\",\"content\":\"x\"}]}", "messages[0].role" },
		{ "{\"messages\":[{\"role\":\"user\"}]}", "messages[0].content: expected a string" },
		{ "{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"name\":\"n\"}]}",
		  "messages[0].name: unknown field for role user" },
		{ "{\"messages\":[{\"role\":\"assistant\",\"content\":null}]}", NULL },
		{ "{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
		  "\"a\",\"name\":\"x.y\",\"arguments\":{}}]}]}", "messages[0].tool_calls[0].name" },
		{ "{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
		  "\"a\",\"name\":\"x__y\",\"arguments\":\"{}\"}]}]}",
		  "messages[0].tool_calls[0].arguments: expected an object" },
		{ "{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
		  "\"\",\"name\":\"x__y\",\"arguments\":{}}]}]}", "messages[0].tool_calls[0].id" },
		{ "{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
		  "\"a\",\"name\":\"x__y\",\"arguments\":{},\"extra\":1}]}]}",
		  "messages[0].tool_calls[0].extra: unknown field" },
		{ "{\"messages\":[" USER ",{\"role\":\"tool\",\"tool_call_id\":\"zz\",\"content\":"
		  "\"r\"}]}", "messages[1].tool_call_id: no call with id 'zz'" },
		{ "{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
		  "\"a\",\"name\":\"x__y\",\"arguments\":{}}]},{\"role\":\"tool\",\"tool_call_id\":"
		  "\"a\",\"content\":\"r\",\"is_error\":\"yes\"}]}", "messages[1].is_error" },
		{ "{\"messages\":[" USER "],\"tools\":[{\"name\":\"a b\"}]}", "tools[0].name" },
		{ "{\"messages\":[" USER "],\"tools\":[{\"name\":\"a\",\"parameters\":{\"type\":"
		  "\"array\"}}]}", "tools[0].parameters" },
		{ "{\"messages\":[" USER "],\"tools\":[{\"name\":\"a\",\"strict\":true}]}",
		  "tools[0].strict: unknown field" },
		{ "{\"messages\":[" USER "],\"tools\":{}}", "tools: expected an array" },
	};


	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct check_case *tc = &t[i];
		json_t *args = mfx_json(tc->args);
		struct model_chat c;
		char e[256] = "";
		int r = model_chat_check(args, &c, e, sizeof(e));

		if (tc->err == NULL) {
			cr_assert_eq(r, 0, "%s -> %s", tc->args, e);
		} else {
			cr_assert_eq(r, ERR_SCHEMA, "%s accepted", tc->args);
			cr_assert(strstr(e, tc->err) != NULL, "%s: got '%s', want '%s'", tc->args, e,
			    tc->err);
		}
		json_decref(args);
	}
}

/* The op's schema table (what the supervisor checks) and its JSON form. */
Test(model_contract, family_registered)
{
	const struct tool_family *f = tool_family_find("model");
	const struct tool_op *op = tool_op_find(f, "chat");
	char e[128];

	cr_assert_not_null(op);
	cr_assert_eq(f->kind, TOOL_KIND_MODEL);
	cr_assert_eq(op->flags & TOOL_F_MUTATING, 0);
	cr_assert_eq(tool_schema_init(e, sizeof(e)), 0, "%s", e);
	{
		json_t *a = mfx_json("{\"messages\":[" USER "],\"temperature\":3}");

		cr_assert_eq(tool_args_validate(op, a, e, sizeof(e)), ERR_SCHEMA);
		json_decref(a);
		a = mfx_json("{\"messages\":[" USER "],\"model\":\"gpt-5\"}");
		cr_assert_eq(tool_args_validate(op, a, e, sizeof(e)), ERR_SCHEMA,
		    "the caller cannot pick the model: that is the configuration's");
		json_decref(a);
	}
}
