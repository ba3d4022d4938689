/* The real corral-worker --kind model, under its own seccomp filter, behind a test broker:
 * WORK for model.chat with a call context like the supervisor's -> the provider's fake ->
 * RESULT. The worker reaches the fake only through sockets the broker connected. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/model/fsup.h"
#include "tests/model/mfx.h"
#include "tests/tools/harness.h"

#define SECRET	"sk-worker-SECRET-0123456789abcdef"

static struct fake F;
static struct fsup_peer W;

static void
spawn_worker(void)
{
	const char *bin = getenv("CORRAL_WORKER");
	const char *argv[] = { bin, "--kind", "model", "--family", "model", "--threads", "2",
		NULL };

	cr_assert_not_null(bin, "CORRAL_WORKER is not set");
	fsup_spawn(&W, argv, "model", true);
	W.allowed_port = (unsigned)F.port;
}

/* One WORK; returns the answer (RESULT or ERROR) in *out. */
static void
work(uint64_t id, json_t *args, json_t *ctx, struct msg *out)
{
	struct msg m = { .type = MSG_WORK, .id = id, .tool = "model", .op = "chat",
		.deadline_ms = 20000 };

	m.args = json_dumps(args, JSON_COMPACT);
	m.ctx = json_dumps(ctx, JSON_COMPACT);
	cr_assert_eq(fsup_send(&W, &m), 0);
	free(m.args);
	free(m.ctx);
	for (;;) {
		memset(out, 0, sizeof(*out));
		cr_assert_eq(fsup_recv(&W, out, 20000), 0, "no answer to WORK %llu",
		    (unsigned long long)id);
		if (out->type == MSG_RESULT || out->type == MSG_ERROR) {
			cr_assert_eq(out->id, id);
			return;
		}
		msg_clear(out);		/* EVENT, LOG */
	}
}

static json_t *
ctx_for(const char *provider, const char *model, const char *url, const char *secret)
{
	return json_pack("{s:{s:s, s:s, s:s, s:s, s:n, s:[]}, s:s?}", "endpoint", "name", "m1",
	    "provider", provider, "url", url, "model", model, "api_version", "redirect_hosts",
	    "secret", secret);
}

Test(model_worker, providers, .timeout = 60)
{
	static const struct { const char *prov, *script, *model, *suffix; } t[] = {
		{ "openai", "fake_openai.py", "qwen2.5:7b", "/v1" },
		{ "anthropic", "fake_anthropic.py", "claude-sonnet-4-5", "" },
		{ "google", "fake_gemini.py", "gemini-2.5-flash", "" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *fargs[] = { "--token", SECRET, NULL };
		json_t *args = mfx_json("{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},"
		    "{\"role\":\"user\",\"content\":\"hello\"}],\"max_tokens\":100}"), *ctx, *res;
		char url[128];
		struct msg m;

		cr_assert_eq(fake_start(&F, t[i].script, fargs), 0);
		cr_assert_eq(fake_control(&F, "{\"state\":{\"turns\":[{\"say\":\"hi there\","
		    "\"say_auth\":true,\"usage\":{\"in\":11,\"out\":3}}]}}"), 0);
		snprintf(url, sizeof(url), "%s%s", F.url, t[i].suffix);
		spawn_worker();
		cr_assert_eq(fsup_seccomp(W.pid), 2, "the worker runs under its seccomp filter");
		ctx = ctx_for(t[i].prov, t[i].model, url, SECRET);
		work(1, args, ctx, &m);
		cr_assert_eq(m.type, MSG_RESULT, "%s: %s", t[i].prov, m.text);
		cr_assert(strstr(m.result, SECRET) == NULL, "the key came back: %s", m.result);
		res = mfx_json(m.result);
		cr_assert(strncmp(json_string_value(http_json_get(res, "message.content")),
		    "hi there", 8) == 0);
		cr_assert_eq(json_integer_value(http_json_get(res, "usage.input_tokens")), 11);
		cr_assert_eq(json_integer_value(http_json_get(res, "usage.output_tokens")), 3);
		cr_assert_str_eq(json_string_value(json_object_get(res, "provider")), t[i].prov);
		cr_assert_geq(W.brk_requests, 1, "the worker asked the broker for its socket");
		cr_assert_eq(W.brk_refused, 0);
		{
			char v[512];

			cr_assert_eq(fake_violations(&F, v, sizeof(v)), 0, "%s", v);
		}
		msg_clear(&m);
		json_decref(res);
		json_decref(ctx);
		json_decref(args);
		cr_assert(WIFEXITED(fsup_stop(&W)), "the worker exits on SHUTDOWN");
		fake_stop(&F);
	}
}

/* The broker decides where the worker may go: another port is refused, nothing is sent. */
Test(model_worker, egress_only_through_the_broker, .timeout = 30)
{
	json_t *args = mfx_json("{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
	json_t *ctx;
	struct msg m;

	cr_assert_eq(fake_start(&F, "fake_openai.py", NULL), 0);
	spawn_worker();
	W.allowed_port = (unsigned)F.port + 1;
	ctx = ctx_for("openai", "gpt-4o-mini", F.url, NULL);
	work(2, args, ctx, &m);
	cr_assert_eq(m.type, MSG_ERROR);
	cr_assert_eq(m.code, ERR_EGRESS, "%s (%d)", m.text, m.code);
	cr_assert_geq(W.brk_refused, 1);
	cr_assert_eq(fake_count(&F), 0);
	msg_clear(&m);
	json_decref(ctx);
	json_decref(args);
	fsup_stop(&W);
	fake_stop(&F);
}

/* The script provider needs no network at all. */
Test(model_worker, script_provider, .timeout = 30)
{
	json_t *args = mfx_json("{\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}");
	json_t *ctx = json_pack("{s:{s:s, s:s, s:s, s:s}}", "endpoint", "name", "demo",
	    "provider", "script", "model", "demo-1", "script",
	    "turns:\n  - tool_calls: [{name: echo__echo, arguments: {msg: hi}}]\n");
	struct msg m;
	json_t *res;

	spawn_worker();
	work(3, args, ctx, &m);
	cr_assert_eq(m.type, MSG_RESULT, "%s", m.text);
	res = mfx_json(m.result);
	cr_assert_str_eq(json_string_value(http_json_get(json_array_get(http_json_get(res,
	    "message.tool_calls"), 0), "arguments.msg")), "hi");
	cr_assert_eq(W.brk_requests, 0);
	msg_clear(&m);
	/* a script mismatch is the call's error, and the worker lives on */
	json_decref(args);
	args = mfx_json("{\"messages\":[{\"role\":\"user\",\"content\":\"go\"},{\"role\":"
	    "\"assistant\",\"content\":\"x\"}]}");
	work(4, args, ctx, &m);
	cr_assert_eq(m.type, MSG_ERROR);
	cr_assert_eq(m.code, ERR_PROTO);
	cr_assert(strstr(m.text, "has 1 turns") != NULL, "%s", m.text);
	msg_clear(&m);
	json_decref(res);
	json_decref(ctx);
	json_decref(args);
	cr_assert(WIFEXITED(fsup_stop(&W)));
}
