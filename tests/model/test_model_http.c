/* Each HTTP provider through the real libcurl client against its loopback fake, which checks
 * every request against the contract (tests/fakes/fake_{openai,anthropic,gemini}.py) and plays
 * a scripted conversation: multi-turn tool use, retries (429, 529, 5xx, announced waits),
 * errors that must not be retried, and the credential kept out of results. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/model/mfx.h"
#include "tests/tools/harness.h"

#define SECRET	"sk-corral-SECRET-0123456789abcdef"

struct prov {
	const char *name;
	const char *script;
	const char *model;
	const char *url_suffix;		/* after the fake's URL: the base URL's path */
	const char *cred_header;	/* where the fake must see the key (lower-case) */
	bool bearer;			/* "Bearer <key>" rather than the bare key */
};

static const struct prov provs[] = {
	{ "openai", "fake_openai.py", "gpt-4o-mini", "/v1", "authorization", true },
	{ "anthropic", "fake_anthropic.py", "claude-sonnet-4-5", "", "x-api-key", false },
	{ "google", "fake_gemini.py", "gemini-2.5-flash", "", "x-goog-api-key", false },
};
#define NPROV	(sizeof(provs) / sizeof(provs[0]))

static struct fake F;
static struct harness H;

static void
start(const struct prov *p, const char *state)
{
	const char *args[] = { "--token", SECRET, NULL };
	char url[128];

	cr_assert_eq(fake_start(&F, p->script, args), 0, "%s did not start", p->script);
	cr_assert_eq(harness_init(&H, &F, SECRET), 0);
	snprintf(url, sizeof(url), "%s%s", F.url, p->url_suffix);
	H.endpoint_extra = json_pack("{s:s, s:s, s:s}", "provider", p->name, "model", p->model,
	    "url", url);
	if (state) {
		char *ctl;

		cr_assert(asprintf(&ctl, "{\"state\":%s}", state) > 0);
		cr_assert_eq(fake_control(&F, ctl), 0);
		free(ctl);
	}
}

static void
stop(void)
{
	harness_fini(&H);
	fake_stop(&F);
}

static void
assert_clean(const struct prov *p)
{
	char buf[2048];

	cr_assert_eq(fake_violations(&F, buf, sizeof(buf)), 0, "%s: %s", p->name, buf);
}

static int
chat(json_t *args, json_t **res, struct tool_err *err)
{
	char verr[256] = "", *text = json_dumps(args, JSON_COMPACT);
	int r = harness_call(&H, &tool_fam_model, "chat", text, res, err, verr, sizeof(verr));

	if (verr[0])
		snprintf(err->text, sizeof(err->text), "%s", verr);
	free(text);
	return r;
}

static json_t *
msg_of(const json_t *res)
{
	return json_object_get(res, "message");
}

static json_int_t
usage(const json_t *res, const char *k)
{
	return json_integer_value(json_object_get(json_object_get(res, "usage"), k));
}

#define TOOLS_JSON "[{\"name\":\"argocd__get_application\",\"description\":\"Get one " \
	"application\",\"parameters\":{\"type\":\"object\",\"properties\":{\"app_name\":" \
	"{\"type\":\"string\"}},\"required\":[\"app_name\"],\"additionalProperties\":false}}," \
	"{\"name\":\"prometheus__query\",\"description\":\"Instant query\",\"parameters\":" \
	"{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"}},\"required\":" \
	"[\"query\"]}}]"

static json_t *
first_args(void)
{
	return mfx_json("{\"messages\":[{\"role\":\"system\",\"content\":\"You watch deployments."
	    "\"},{\"role\":\"user\",\"content\":\"Is guestbook healthy?\"}],\"tools\":" TOOLS_JSON
	    ",\"max_tokens\":512,\"temperature\":0.1}");
}

#define CONVERSATION "{\"turns\":[" \
	"{\"say\":\"Checking.\",\"tool_calls\":[{\"name\":\"argocd__get_application\"," \
	"\"arguments\":{\"app_name\":\"guestbook\"}},{\"name\":\"prometheus__query\"," \
	"\"arguments\":{\"query\":\"up\"}}],\"usage\":{\"in\":100,\"out\":20}}," \
	"{\"expect\":{\"tool\":\"argocd__get_application\",\"tool_result_contains\":\"Synced\"}," \
	"\"say\":\"guestbook is Synced; the query was denied.\",\"usage\":{\"in\":150,\"out\":12}}]}"

/* Two model turns with two parallel tool calls between them, one answered with a result and
 * one with a denial. */
static void
conversation(const struct prov *p)
{
	json_t *args = first_args(), *res = NULL, *res2 = NULL, *calls, *msgs;
	struct tool_err err;
	const char *id0, *id1;

	start(p, CONVERSATION);
	cr_assert_eq(chat(args, &res, &err), 0, "%s turn 0: %s", p->name, err.text);
	calls = json_object_get(msg_of(res), "tool_calls");
	cr_assert_str_eq(json_string_value(json_object_get(res, "finish")), "tool_calls", "%s",
	    p->name);
	cr_assert_eq(json_array_size(calls), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(calls, 0), "name")),
	    "argocd__get_application");
	cr_assert_str_eq(json_string_value(http_json_get(json_array_get(calls, 0),
	    "arguments.app_name")), "guestbook");
	cr_assert_str_eq(json_string_value(http_json_get(json_array_get(calls, 1),
	    "arguments.query")), "up");
	id0 = json_string_value(json_object_get(json_array_get(calls, 0), "id"));
	id1 = json_string_value(json_object_get(json_array_get(calls, 1), "id"));
	cr_assert(id0 && id1 && id0[0] && strcmp(id0, id1) != 0, "%s: ids %s %s", p->name, id0, id1);
	cr_assert_str_eq(json_string_value(json_object_get(res, "provider")), p->name);
	cr_assert_eq(usage(res, "input_tokens"), 100);
	cr_assert_eq(usage(res, "output_tokens"), 20);

	msgs = json_object_get(args, "messages");
	json_array_append(msgs, msg_of(res));
	json_array_append_new(msgs, json_pack("{s:s, s:s, s:s, s:s}", "role", "tool",
	    "tool_call_id", id0, "name", "argocd__get_application", "content",
	    "{\"sync\":\"Synced\",\"health\":\"Healthy\"}"));
	json_array_append_new(msgs, json_pack("{s:s, s:s, s:s, s:b}", "role", "tool",
	    "tool_call_id", id1, "content", "DENIED by policy: prometheus.query is not granted",
	    "is_error", 1));
	cr_assert_eq(chat(args, &res2, &err), 0, "%s turn 1: %s", p->name, err.text);
	cr_assert_str_eq(json_string_value(json_object_get(msg_of(res2), "content")),
	    "guestbook is Synced; the query was denied.");
	cr_assert_str_eq(json_string_value(json_object_get(res2, "finish")), "stop");
	cr_assert_eq(json_array_size(json_object_get(msg_of(res2), "tool_calls")), 0);
	cr_assert_eq(usage(res2, "input_tokens"), 150);
	cr_assert_eq(fake_count(&F), 2);
	assert_clean(p);
	json_decref(res);
	json_decref(res2);
	json_decref(args);
	stop();
}

Test(model_http, openai_conversation, .timeout = 30) { conversation(&provs[0]); }
Test(model_http, anthropic_conversation, .timeout = 30) { conversation(&provs[1]); }
Test(model_http, google_conversation, .timeout = 30) { conversation(&provs[2]); }

/* The provider-specific shapes of the second request, read from the fake's log. */
Test(model_http, second_request_shapes, .timeout = 30)
{
	for (size_t i = 0; i < NPROV; i++) {
		json_t *args = first_args(), *res = NULL, *msgs, *e, *body;
		struct tool_err err;
		const json_t *calls;

		start(&provs[i], CONVERSATION);
		cr_assert_eq(chat(args, &res, &err), 0, "%s", err.text);
		msgs = json_object_get(args, "messages");
		json_array_append(msgs, msg_of(res));
		calls = json_object_get(msg_of(res), "tool_calls");
		for (size_t k = 0; k < 2; k++)
			json_array_append_new(msgs, json_pack("{s:s, s:O, s:s}", "role", "tool",
			    "tool_call_id", json_object_get(json_array_get(calls, k), "id"), "content",
			    k ? "{\"value\":1}" : "Synced"));
		json_decref(res);
		cr_assert_eq(chat(args, &res, &err), 0, "%s", err.text);
		e = fake_entry(&F, -1);
		body = mfx_json(json_string_value(json_object_get(e, "body")));
		if (i == 0) {	/* openai: system message, two tool messages, args as text */
			cr_assert_eq(json_array_size(json_object_get(body, "messages")), 5);
			cr_assert_str_eq(json_string_value(http_json_get(json_array_get(
			    json_object_get(body, "messages"), 4), "role")), "tool");
			cr_assert_eq(json_integer_value(json_object_get(body, "max_tokens")), 512,
			    "a compatible server (not api.openai.com) gets max_tokens");
		} else if (i == 1) {	/* anthropic: system on top, results in one user turn */
			cr_assert_str_eq(json_string_value(json_object_get(body, "system")),
			    "You watch deployments.");
			cr_assert_eq(json_array_size(json_object_get(body, "messages")), 3);
			cr_assert_eq(json_array_size(json_object_get(json_array_get(json_object_get(
			    body, "messages"), 2), "content")), 2);
			cr_assert_float_eq(json_number_value(json_object_get(body, "temperature")),
			    0.1, 1e-9);
		} else {	/* gemini: functionResponse objects, output wrapping */
			json_t *parts = json_object_get(json_array_get(json_object_get(body,
			    "contents"), 2), "parts");

			cr_assert_eq(json_array_size(parts), 2);
			cr_assert_str_eq(json_string_value(http_json_get(json_array_get(parts, 0),
			    "functionResponse.response.output")), "Synced");
			cr_assert_eq(json_integer_value(http_json_get(json_array_get(parts, 1),
			    "functionResponse.response.output.value")), 1);
			cr_assert_eq(json_integer_value(http_json_get(body,
			    "generationConfig.maxOutputTokens")), 512);
		}
		json_decref(body);
		json_decref(e);
		json_decref(res);
		json_decref(args);
		assert_clean(&provs[i]);
		stop();
	}
}

/* ---------------------------------------------------------------- retries */

struct retry_case {
	size_t prov;
	const char *modes;		/* queued failure modes */
	const char *state;		/* extra fake state, or NULL */
	int rc;				/* expected result */
	size_t requests;		/* requests the fake saw */
	int64_t min_ms, max_ms;		/* elapsed bounds */
	const char *text;		/* in err.text on failure */
	uint32_t deadline_ms;		/* 0 = harness default */
};

#define ONE_TURN	"{\"turns\":[{\"say\":\"fine\"}]}"

static void
retry_case(const struct retry_case *t)
{
	const struct prov *p = &provs[t->prov];
	json_t *args = mfx_json("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
	json_t *res = NULL;
	struct tool_err err;
	char ctl[512];
	int64_t t0, dt;
	int r;

	start(p, t->state ? t->state : ONE_TURN);
	snprintf(ctl, sizeof(ctl), "{\"modes\":%s}", t->modes);
	cr_assert_eq(fake_control(&F, ctl), 0);
	if (t->deadline_ms)
		H.deadline_ms = t->deadline_ms;
	t0 = harness_now_ms();
	r = chat(args, &res, &err);
	dt = harness_now_ms() - t0;
	cr_assert_eq(r, t->rc, "%s %s: rc %d (%s)", p->name, t->modes, r, err.text);
	cr_assert_eq(fake_count(&F), t->requests, "%s %s: %zu requests", p->name, t->modes,
	    fake_count(&F));
	cr_assert(dt >= t->min_ms && dt <= t->max_ms, "%s %s: %lld ms", p->name, t->modes,
	    (long long)dt);
	if (r == 0)
		cr_assert_str_eq(json_string_value(json_object_get(msg_of(res), "content")), "fine");
	else
		cr_assert(strstr(err.text, t->text) != NULL, "%s: '%s' lacks '%s'", p->name,
		    err.text, t->text);
	assert_clean(p);
	json_decref(res);
	json_decref(args);
	stop();
}

Test(model_http, retries, .timeout = 60)
{
	static const struct retry_case t[] = {
		/* 429 with retry-after-ms (the SDKs' header): honoured, then success */
		{ 0, "[{\"mode\":\"status\",\"status\":429,\"headers\":{\"retry-after-ms\":\"300\"}}]",
		  NULL, 0, 2, 300, 3000, NULL, 0 },
		/* Anthropic's 529 overloaded_error, twice, Retry-After in seconds (0) */
		{ 1, "[{\"mode\":\"status\",\"status\":529,\"count\":2,\"retry_after\":0}]",
		  NULL, 0, 3, 0, 3000, NULL, 0 },
		/* Gemini: the wait comes in the body (RetryInfo.retryDelay) */
		{ 2, "[{\"mode\":\"status\",\"status\":429}]",
		  "{\"turns\":[{\"say\":\"fine\"}],\"retry_delay\":\"0.3s\"}", 0, 2, 300, 3000, NULL,
		  0 },
		/* no announced wait: our own backoff (500 ms first) */
		{ 2, "[{\"mode\":\"status\",\"status\":503}]", NULL, 0, 2, 450, 3000, NULL, 0 },
		/* 500 every time: 1 + LIM_MODEL_RETRIES attempts, then the API's message */
		{ 0, "[{\"mode\":\"status\",\"status\":500,\"count\":-1,\"message\":\"boom\","
		  "\"headers\":{\"retry-after-ms\":\"20\"}}]", NULL, ERR_HTTP, 1 + LIM_MODEL_RETRIES, 0,
		  3000, "openai: HTTP 500: api_error: boom", 0 },
		{ 1, "[{\"mode\":\"status\",\"status\":529,\"count\":-1,\"headers\":"
		  "{\"retry-after-ms\":\"20\"}}]", NULL, ERR_HTTP, 1 + LIM_MODEL_RETRIES, 0, 3000,
		  "anthropic: HTTP 529: overloaded_error", 0 },
		/* a 400 is the request's fault: never retried */
		{ 1, "[{\"mode\":\"status\",\"status\":400,\"message\":\"bad things\"}]", NULL,
		  ERR_HTTP, 1, 0, 2000, "invalid_request_error: bad things", 0 },
		/* the server says not to retry */
		{ 0, "[{\"mode\":\"status\",\"status\":503,\"headers\":{\"x-should-retry\":\"false\"}}]",
		  NULL, ERR_HTTP, 1, 0, 2000, "HTTP 503", 0 },
		/* a wait over LIM_MODEL_RETRY_WAIT_MAX_MS: give up at once, as a rate limit */
		{ 2, "[{\"mode\":\"status\",\"status\":429,\"retry_after\":3600}]", NULL, ERR_RATE, 1,
		  0, 2000, "RESOURCE_EXHAUSTED", 0 },
		/* a wait past the call's deadline: give up at once */
		{ 0, "[{\"mode\":\"status\",\"status\":429,\"headers\":{\"retry-after-ms\":\"5000\"}}]",
		  NULL, ERR_RATE, 1, 0, 1500, "HTTP 429", 2000 },
		/* the connection drops before an answer: retried */
		{ 1, "[{\"mode\":\"close\"}]", NULL, 0, 2, 0, 3000, NULL, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		retry_case(&t[i]);
}

/* ---------------------------------------------------------------- credentials */

/* The key goes in the provider's own header and nowhere else; an answer that carries it
 * back (say_auth) reaches the caller scrubbed. */
Test(model_http, credential_stays_out, .timeout = 30)
{
	for (size_t i = 0; i < NPROV; i++) {
		const struct prov *p = &provs[i];
		json_t *args = first_args(), *res = NULL, *e, *hdr;
		struct tool_err err;
		char want[128];

		start(p, "{\"turns\":[{\"say\":\"your key is\",\"say_auth\":true}]}");
		cr_assert_eq(chat(args, &res, &err), 0, "%s: %s", p->name, err.text);
		cr_assert(!harness_leaks(res, NULL, SECRET), "%s leaked the key: %s", p->name,
		    mfx_str(res));
		cr_assert(strstr(json_string_value(json_object_get(msg_of(res), "content")),
		    "your key is") != NULL);
		e = fake_entry(&F, 0);
		hdr = json_object_get(e, "headers");
		snprintf(want, sizeof(want), "%s%s", p->bearer ? "Bearer " : "", SECRET);
		cr_assert_str_eq(json_string_value(json_object_get(hdr, p->cred_header)), want);
		for (const char *h = "authorization\0x-api-key\0x-goog-api-key\0"; *h;
		    h += strlen(h) + 1)
			if (strcmp(h, p->cred_header) != 0)
				cr_assert_null(json_object_get(hdr, h), "%s sent %s", p->name, h);
		cr_assert(strstr(json_string_value(json_object_get(e, "body")), SECRET) == NULL);
		cr_assert(strstr(json_string_value(json_object_get(e, "raw_path")), SECRET) == NULL);
		json_decref(e);
		json_decref(res);
		json_decref(args);
		stop();
	}
}

/* A wrong key is the provider's 401: reported, not retried, the key not in the text. */
Test(model_http, wrong_key, .timeout = 30)
{
	for (size_t i = 0; i < NPROV; i++) {
		json_t *args = first_args(), *res = NULL;
		struct tool_err err;

		start(&provs[i], ONE_TURN);
		H.secret = "sk-wrong-key-0000000000";
		cr_assert_eq(chat(args, &res, &err), ERR_HTTP, "%s", provs[i].name);
		cr_assert_eq(err.http_status, 401);
		cr_assert_eq(fake_count(&F), 1);
		cr_assert(strstr(err.text, "sk-wrong-key") == NULL, "%s", err.text);
		json_decref(args);
		stop();
	}
}

/* ---------------------------------------------------------------- Gemini specifics */

/* Ids Gemini gives are echoed; made-up ones never leave; thoughtSignature goes back. */
Test(model_http, gemini_ids_and_signatures, .timeout = 30)
{
	for (int with_ids = 0; with_ids < 2; with_ids++) {
		json_t *args = first_args(), *res = NULL, *msgs;
		struct tool_err err;
		const json_t *calls;
		char state[1024];
		const char *id;

		snprintf(state, sizeof(state), "{\"with_ids\":%s,\"turns\":[{\"tool_calls\":[{\"name\":"
		    "\"argocd__get_application\",\"arguments\":{\"app_name\":\"a\"}}],"
		    "\"thought_signature\":\"c2lnbmF0dXJl\"},{\"expect\":{\"tool_result_contains\":"
		    "\"ok\"},\"say\":\"done\"}]}", with_ids ? "true" : "false");
		start(&provs[2], state);
		cr_assert_eq(chat(args, &res, &err), 0, "%s", err.text);
		calls = json_object_get(msg_of(res), "tool_calls");
		id = json_string_value(json_object_get(json_array_get(calls, 0), "id"));
		if (with_ids)
			cr_assert_str_eq(id, "fc-0001");
		else
			cr_assert_str_eq(id, "corral_0_0");
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(calls, 0),
		    "thought_signature")), "c2lnbmF0dXJl");
		msgs = json_object_get(args, "messages");
		json_array_append(msgs, msg_of(res));
		json_array_append_new(msgs, json_pack("{s:s, s:s, s:s}", "role", "tool",
		    "tool_call_id", id, "content", "ok"));
		json_decref(res);
		cr_assert_eq(chat(args, &res, &err), 0, "%s", err.text);
		cr_assert_str_eq(json_string_value(json_object_get(msg_of(res), "content")), "done");
		assert_clean(&provs[2]);
		json_decref(res);
		json_decref(args);
		stop();
	}
}

/* A malformed neutral request never reaches the provider. */
Test(model_http, bad_request_stays_home, .timeout = 30)
{
	json_t *args = mfx_json("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":"
	    "\"tool\",\"tool_call_id\":\"nope\",\"content\":\"r\"}]}"), *res = NULL;
	struct tool_err err;

	start(&provs[0], ONE_TURN);
	cr_assert_eq(chat(args, &res, &err), ERR_SCHEMA);
	cr_assert(strstr(err.text, "messages[1].tool_call_id") != NULL, "%s", err.text);
	cr_assert_eq(fake_count(&F), 0);
	json_decref(args);
	stop();
}
