/* The script provider: turn selection, YAML-to-JSON arguments, expectations, usage, and the
 * errors that name the script line or what the conversation lacked. Run through the family's
 * own run hook with a call context like the supervisor's. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/model/mfx.h"

static const char *script_text;

static int
run(const char *messages, json_t **res, struct tool_err *err)
{
	const struct tool_op *op = tool_op_find(&tool_fam_model, "chat");
	struct tool_call call = { .family = &tool_fam_model, .op = op, .id = 7,
		.deadline = 0 };
	char *a;
	int r;

	cr_assert(asprintf(&a, "{\"messages\":%s}", messages) > 0);
	call.args = mfx_json(a);
	call.ctx = json_pack("{s:{s:s, s:s, s:s, s:s}, s:n}", "endpoint", "name", "demo",
	    "provider", "script", "model", "scripted", "script", script_text, "secret");
	memset(err, 0, sizeof(*err));
	*res = NULL;
	r = op->run(NULL, &call, res, err);
	json_decref(call.args);
	json_decref(call.ctx);
	free(a);
	return r;
}

#define SYS	"{\"role\":\"system\",\"content\":\"be brief\"}"
#define USER(t)	"{\"role\":\"user\",\"content\":\"" t "\"}"
#define ASST_CALLS(turn) "{\"role\":\"assistant\",\"content\":\"Looking.\",\"tool_calls\":[" \
	"{\"id\":\"call_" turn "_0\",\"name\":\"argocd__get_application\",\"arguments\":{}}," \
	"{\"id\":\"call_" turn "_1\",\"name\":\"prometheus__query\",\"arguments\":{}}]}"
#define RESULT(turn, k, text) "{\"role\":\"tool\",\"tool_call_id\":\"call_" turn "_" k "\"," \
	"\"content\":\"" text "\"}"

static const char demo[] =
	"# two turns: look, then answer\n"
	"turns:\n"
	"  - say: Looking.\n"
	"    tool_calls:\n"
	"      - name: argocd__get_application\n"
	"        arguments: { app_name: guestbook, refresh: true, tries: 3, ratio: 0.5,\n"
	"                     code: \"007\", none: ~, tags: [a, 2] }\n"
	"      - name: prometheus__query\n"
	"        arguments: { query: 'up{job=\"web\"}' }\n"
	"  - expect: { tool: argocd__get_application, tool_result_contains: Synced }\n"
	"    say: guestbook is Synced.\n"
	"    usage: { input_tokens: 1200, output_tokens: 7 }\n";

Test(model_script, first_turn)
{
	json_t *res, *calls, *want;
	struct tool_err err;

	script_text = demo;
	cr_assert_eq(run("[" SYS "," USER("is guestbook ok?") "]", &res, &err), 0, "%s", err.text);
	calls = json_object_get(json_object_get(res, "message"), "tool_calls");
	want = mfx_json("[{\"id\":\"call_0_0\",\"name\":\"argocd__get_application\",\"arguments\":"
	    "{\"app_name\":\"guestbook\",\"refresh\":true,\"tries\":3,\"ratio\":0.5,\"code\":"
	    "\"007\",\"none\":null,\"tags\":[\"a\",2]}},{\"id\":\"call_0_1\",\"name\":"
	    "\"prometheus__query\",\"arguments\":{\"query\":\"up{job=\\\"web\\\"}\"}}]");
	cr_assert(json_equal(calls, want), "got %s", mfx_str(calls));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "message"),
	    "content")), "Looking.");
	cr_assert_str_eq(json_string_value(json_object_get(res, "finish")), "tool_calls");
	cr_assert_str_eq(json_string_value(json_object_get(res, "provider")), "script");
	cr_assert_str_eq(json_string_value(json_object_get(res, "model")), "scripted");
	/* estimated: (8 + 16) bytes / 4 + 1 in; 8/4 + 2 calls * 8 + 1 out */
	cr_assert_eq(json_integer_value(http_json_get(res, "usage.input_tokens")), 7);
	cr_assert_eq(json_integer_value(http_json_get(res, "usage.output_tokens")), 19);
	json_decref(want);
	json_decref(res);
}

Test(model_script, second_turn_checks_results)
{
	json_t *res;
	struct tool_err err;

	script_text = demo;
	cr_assert_eq(run("[" SYS "," USER("is guestbook ok?") "," ASST_CALLS("0") ","
	    RESULT("0", "0", "{\\\"sync\\\":\\\"Synced\\\"}") "," RESULT("0", "1", "DENIED") "]",
	    &res, &err), 0, "%s", err.text);
	cr_assert_str_eq(json_string_value(http_json_get(res, "message.content")),
	    "guestbook is Synced.");
	cr_assert_str_eq(json_string_value(json_object_get(res, "finish")), "stop");
	cr_assert_eq(json_array_size(http_json_get(res, "message.tool_calls")), 0);
	cr_assert_eq(json_integer_value(http_json_get(res, "usage.input_tokens")), 1200);
	cr_assert_eq(json_integer_value(http_json_get(res, "usage.output_tokens")), 7);
	json_decref(res);
}

/* A list of expectations after a turn of two calls: both results are checked, one of them a
 * policy denial as the agent runtime words it. */
Test(model_script, expect_list)
{
	static const char script[] =
	    "turns:\n"
	    "  - tool_calls: [{name: argocd__get_application}, {name: prometheus__query}]\n"
	    "  - expect:\n"
	    "      - { tool: argocd__get_application, tool_result_contains: Synced }\n"
	    "      - { tool: prometheus__query, tool_result_contains: DENIED by policy }\n"
	    "    say: one allowed, one denied\n";
	json_t *res;
	struct tool_err err;

	script_text = script;
	cr_assert_eq(run("[" USER("q") "," ASST_CALLS("0") "," RESULT("0", "0", "Synced") ","
	    RESULT("0", "1", "DENIED by policy: no rule allows") "]", &res, &err), 0, "%s",
	    err.text);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "message"),
	    "content")), "one allowed, one denied");
	json_decref(res);
}

/* Earlier exchanges (an agent's memory) do not move the script forward. */
Test(model_script, turns_count_from_the_last_user_message)
{
	json_t *res;
	struct tool_err err;

	script_text = demo;
	cr_assert_eq(run("[" SYS "," USER("yesterday?") ",{\"role\":\"assistant\",\"content\":"
	    "\"all fine\"}," USER("and today?") "]", &res, &err), 0, "%s", err.text);
	cr_assert_str_eq(json_string_value(json_object_get(res, "finish")), "tool_calls");
	json_decref(res);
}

struct fail_case {
	const char *script;
	const char *messages;
	int rc;
	const char *text;
};

Test(model_script, failures)
{
	static const struct fail_case t[] = {
		/* the result the script waits for is not there */
		{ demo, "[" USER("q") "," ASST_CALLS("0") "," RESULT("0", "0", "OutOfSync") ","
		  RESULT("0", "1", "x") "]", ERR_PROTO, "script turn 1 (line 10) expected a tool "
		  "result from argocd__get_application containing \"Synced\"; the results were: "
		  "argocd__get_application: OutOfSync; prometheus__query: x" },
		/* right text, wrong tool */
		{ demo, "[" USER("q") "," ASST_CALLS("0") "," RESULT("0", "1", "Synced") "]",
		  ERR_PROTO, "the results were: prometheus__query: Synced" },
		/* past the end */
		{ demo, "[" USER("q") "," ASST_CALLS("0") "," RESULT("0", "0", "Synced") ","
		  RESULT("0", "1", "x") ",{\"role\":\"assistant\",\"content\":\"done\"}]", ERR_PROTO,
		  "script 'demo' has 2 turns; the conversation asks for turn 2" },
		{ "turns:\n  - say: hi\n    history_contains: x\n", "[" USER("q") "]", ERR_CONFIG,
		  "demo:3:5: unknown key 'history_contains'" },
		{ "turns:\n  - expect: { history_contains: deploy-42 }\n    say: ok\n",
		  "[" USER("q") "]", ERR_PROTO, "expected the conversation to contain \"deploy-42\"" },
		{ "turns:\n  - tool_calls:\n      - name: argocd.get_application\n", "[" USER("q") "]",
		  ERR_CONFIG, "demo:3:15: tool name 'argocd.get_application' must match" },
		{ "turns:\n  - tool_calls:\n      - name: a__b\n        arguments: [1]\n",
		  "[" USER("q") "]", ERR_CONFIG, "demo:4:20: expected a mapping" },
		{ "turns: {say: hi}\n", "[" USER("q") "]", ERR_CONFIG, "demo:1:8: expected a sequence" },
		{ "steps: []\n", "[" USER("q") "]", ERR_CONFIG, "demo:1:1: unknown key 'steps'" },
		/* a list of expectations: every one must hold (the second result is not DENIED) */
		{ "turns:\n  - tool_calls: [{name: a__b}]\n  - expect:\n"
		  "      - { tool: argocd__get_application, tool_result_contains: Synced }\n"
		  "      - { tool: prometheus__query, tool_result_contains: DENIED }\n    say: ok\n",
		  "[" USER("q") "," ASST_CALLS("0") "," RESULT("0", "0", "Synced") ","
		  RESULT("0", "1", "x") "]", ERR_PROTO, "script turn 1 (line 5) expected a tool "
		  "result from prometheus__query containing \"DENIED\"" },
		{ "turns:\n  - expect: [ { tool: x, bogus: 1 } ]\n", "[" USER("q") "]", ERR_CONFIG,
		  "demo:2:26: unknown key 'bogus'" },
		{ "turns:\n  - say: [unclosed\n", "[" USER("q") "]", ERR_CONFIG, "demo:" },
		{ "turns:\n  - usage: { input_tokens: -1 }\n", "[" USER("q") "]", ERR_CONFIG,
		  "demo:2:28: -1 is out of range" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *res;
		struct tool_err err;

		script_text = t[i].script;
		cr_assert_eq(run(t[i].messages, &res, &err), t[i].rc, "case %zu: %s", i, err.text);
		cr_assert(strstr(err.text, t[i].text) != NULL, "case %zu: got '%s', want '%s'", i,
		    err.text, t[i].text);
		cr_assert_null(res);
	}
}

Test(model_script, size_cap)
{
	size_t n = LIM_MODEL_SCRIPT_MAX + 2;
	char *big = malloc(n + 1);
	json_t *res;
	struct tool_err err;

	memset(big, '#', n);
	big[n] = '\0';
	script_text = big;
	cr_assert_eq(run("[" USER("q") "]", &res, &err), ERR_CONFIG);
	cr_assert(strstr(err.text, "larger than") != NULL, "%s", err.text);
	free(big);
}
