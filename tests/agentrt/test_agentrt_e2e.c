/* A whole run through the real binaries, without corrald: the test routes like the
 * supervisor would — the agent's model.chat CALLs become WORK for the real corral-worker
 * --kind model (with the endpoint and the key in the call context, sockets from a test
 * broker), its tool CALLs get canned answers — and each provider's fake plays a two-turn
 * tool-use conversation, checking every request against its contract. The agent never sees
 * the key, even when the provider echoes it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/err.h"
#include "tests/agentrt/artfx.h"
#include "tests/model/fsup.h"
#include "tests/model/mfx.h"
#include "tests/tools/harness.h"

#define SECRET	"sk-e2e-SECRET-0123456789abcdef"

static struct fake F;
static struct fsup_peer A, W;
static json_t *seen_by_agent;	/* every payload the agent received */

static void
to_agent(struct msg *m)
{
	json_array_append_new(seen_by_agent, json_string(m->result ? m->result :
	    m->text ? m->text : m->agent ? m->agent : ""));
	cr_assert_eq(fsup_send(&A, m), 0);
}

/* The agent's model.chat: WORK to the gateway, its answer back under the agent's id. */
static void
route_model(const struct msg *call, json_t *ctx)
{
	struct msg w = { .type = MSG_WORK, .id = call->id + 1000, .tool = "model", .op = "chat",
		.args = call->args, .deadline_ms = 20000 };
	struct msg r;

	w.ctx = json_dumps(ctx, JSON_COMPACT);
	cr_assert_eq(fsup_send(&W, &w), 0);
	free(w.ctx);
	for (;;) {
		memset(&r, 0, sizeof(r));
		cr_assert_eq(fsup_recv(&W, &r, 20000), 0, "the gateway did not answer");
		if (r.type == MSG_RESULT || r.type == MSG_ERROR)
			break;
		msg_clear(&r);
	}
	cr_assert_eq(r.id, w.id);
	r.id = call->id;
	to_agent(&r);
	msg_clear(&r);
}

static void
route_tool(const struct msg *call)
{
	struct msg r = { .id = call->id };
	json_t *args = mfx_json(call->args);

	if (strcmp(call->tool, "echo") == 0) {
		r.type = MSG_RESULT;
		json_t *res = json_pack("{s:O, s:b}", "msg", json_object_get(args, "msg"), "dry_run",
		    0);

		r.result = json_dumps(res, JSON_COMPACT);
		json_decref(res);
	} else {
		r.type = MSG_ERROR;
		r.code = ERR_DENIED;
		r.text = strdup("rule argocd-readonly: not for this agent");
	}
	to_agent(&r);
	free(r.result);
	free(r.text);
	json_decref(args);
}

/* Play corrald for one run; returns DONE's result. */
static json_t *
serve_run(json_t *ctx)
{
	struct msg run = { .type = MSG_RUN, .id = 7, .input = "Is guestbook ok?",
		.agent = "{\"name\":\"watcher\",\"system_prompt\":\"You watch deployments.\","
		"\"model\":{\"max_tokens\":300},\"memory\":{\"provider\":\"in_memory\"},"
		"\"max_iterations\":5,\"gateway_model\":\"m1\",\"tools\":[{\"family\":\"echo\","
		"\"ops\":[\"echo\"]},{\"family\":\"argocd\",\"ops\":[\"get_application\"]}]}" };
	json_t *done;

	to_agent(&run);
	for (;;) {
		struct msg m = { 0 };

		cr_assert_eq(fsup_recv(&A, &m, 20000), 0, "the agent went quiet");
		if (m.type == MSG_DONE) {
			done = mfx_json(m.result);
			msg_clear(&m);
			return done;
		}
		cr_assert_neq(m.type, MSG_ERROR, "run failed: %s", m.text);
		if (m.type == MSG_CALL && strcmp(m.tool, "model") == 0)
			route_model(&m, ctx);
		else if (m.type == MSG_CALL)
			route_tool(&m);
		msg_clear(&m);
	}
}

#define TURNS "{\"turns\":[{\"say\":\"Checking.\",\"tool_calls\":[{\"name\":\"echo__echo\"," \
	"\"arguments\":{\"msg\":\"ping\"}},{\"name\":\"argocd__get_application\",\"arguments\":" \
	"{\"app_name\":\"guestbook\"}}],\"usage\":{\"in\":50,\"out\":10}},{\"expect\":{\"tool\":" \
	"\"echo__echo\",\"tool_result_contains\":\"ping\"},\"say\":\"echo works; argocd was " \
	"denied. key:\",\"say_auth\":true,\"usage\":{\"in\":80,\"out\":12}}]}"

static void
start_all(const char *script, unsigned port)
{
	const char *wargv[] = { getenv("CORRAL_WORKER"), "--kind", "model", "--family", "model",
		NULL };

	(void)script;
	fsup_spawn(&W, wargv, "model", true);
	W.allowed_port = port;
	artfx_spawn(&A, "/nonexistent");
	seen_by_agent = json_array();
}

static void
stop_all(void)
{
	fsup_stop(&A);
	fsup_stop(&W);
	json_decref(seen_by_agent);
}

static void
assert_done(json_t *done, const char *answer_prefix)
{
	const char *ans = json_string_value(json_object_get(done, "answer"));
	size_t i;
	json_t *s;

	cr_assert(ans && strncmp(ans, answer_prefix, strlen(answer_prefix)) == 0, "answer: %s",
	    ans);
	cr_assert_str_eq(json_string_value(json_object_get(done, "stopped")), "answer");
	cr_assert_eq(json_integer_value(json_object_get(done, "iterations")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(done,
	    "calls"), 0), "outcome")), "ok");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(done,
	    "calls"), 1), "outcome")), "denied");
	json_array_foreach(seen_by_agent, i, s)
		cr_assert(strstr(json_string_value(s), SECRET) == NULL,
		    "the agent received the key: %s", json_string_value(s));
}

Test(agent_e2e, each_provider, .timeout = 60)
{
	static const struct { const char *prov, *script, *model, *suffix; } t[] = {
		{ "openai", "fake_openai.py", "llama3.1:8b", "/v1" },
		{ "anthropic", "fake_anthropic.py", "claude-sonnet-4-5", "" },
		{ "google", "fake_gemini.py", "gemini-2.5-flash", "" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *fargs[] = { "--token", SECRET, NULL };
		char url[128], v[1024];
		json_t *ctx, *done;

		cr_assert_eq(fake_start(&F, t[i].script, fargs), 0);
		cr_assert_eq(fake_control(&F, "{\"state\":" TURNS "}"), 0);
		snprintf(url, sizeof(url), "%s%s", F.url, t[i].suffix);
		ctx = json_pack("{s:{s:s, s:s, s:s, s:s, s:n, s:[]}, s:s}", "endpoint", "name", "m1",
		    "provider", t[i].prov, "url", url, "model", t[i].model, "api_version",
		    "redirect_hosts", "secret", SECRET);
		start_all(t[i].script, (unsigned)F.port);
		done = serve_run(ctx);
		assert_done(done, "echo works; argocd was denied. key:");
		cr_assert_eq(json_integer_value(json_object_get(json_object_get(done, "usage"),
		    "input_tokens")), 130, "%s", t[i].prov);
		cr_assert_eq(fake_count(&F), 2, "%s", t[i].prov);
		cr_assert_eq(fake_violations(&F, v, sizeof(v)), 0, "%s: %s", t[i].prov, v);
		json_decref(done);
		json_decref(ctx);
		stop_all();
		fake_stop(&F);
	}
}

Test(agent_e2e, script_provider, .timeout = 30)
{
	json_t *ctx = json_pack("{s:{s:s, s:s, s:s, s:s}}", "endpoint", "name", "demo",
	    "provider", "script", "model", "demo", "script",
	    "turns:\n"
	    "  - say: Checking.\n"
	    "    tool_calls:\n"
	    "      - { name: echo__echo, arguments: { msg: ping } }\n"
	    "      - { name: argocd__get_application, arguments: { app_name: guestbook } }\n"
	    "  - expect: { tool: echo__echo, tool_result_contains: ping }\n"
	    "    say: echo works; argocd was denied.\n");
	json_t *done;

	start_all(NULL, 1);
	done = serve_run(ctx);
	assert_done(done, "echo works; argocd was denied.");
	cr_assert_eq(W.brk_requests, 0, "the script provider needs no network");
	json_decref(done);
	json_decref(ctx);
	stop_all();
}
