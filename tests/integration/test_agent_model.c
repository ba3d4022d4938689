/* An agent with a model, end to end through corrald: corral-agent (confined, no network) asks
 * the model gateway worker (script provider) through the supervisor, the model asks for tools,
 * the supervisor decides them as agent:NAME (one allowed, one denied by policy), the denial goes
 * back to the model as a tool result, and the final answer comes back to corralctl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"

static struct hx h;

static void
teardown(void)
{
	hx_cleanup(&h);
}

TestSuite(agent_model, .timeout = 60, .fini = teardown);

Test(agent_model, script_provider_through_corrald)
{
	const char *run[] = { "-o", "json", "run", "helper", "check the echo tool", NULL };
	char *out = NULL, *audit;
	json_t *j;

	hx_config(&h,
	    "tenants:\n  demo: { uid: 41001, families: [echo] }\n"
	    "models:\n  - { name: scripted, provider: script, script: turns.yaml }\n"
	    "agents:\n  - { file: helper.yaml, tenant: demo, model: scripted }\n"
	    "policies: [policy.yaml]\n");
	hx_file(&h, "helper.yaml",
	    "apiVersion: corral.dev/v1\nkind: Agent\nmetadata: { name: helper }\n"
	    "spec:\n  model: openai:gpt-4o\n  tools: [echo]\n  max_iterations: 4\n"
	    "  system_prompt: You check tools.\n", 0644);
	hx_file(&h, "turns.yaml",
	    "turns:\n"
	    "  - say: Checking.\n"
	    "    tool_calls:\n"
	    "      - { name: echo__echo, arguments: { msg: ping } }\n"
	    "      - { name: echo__store, arguments: { value: x } }\n"
	    "  - expect: { tool: echo__echo, tool_result_contains: ping }\n"
	    "    say: echo answered ping; store was refused.\n", 0644);
	hx_file(&h, "policy.yaml",
	    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: p }\nspec:\n"
	    "  tenant: demo\n  rules:\n"
	    "    - { id: agent-reads, effect: allow, principals: [\"agent:helper\"], tool: echo, "
	    "operations: [\"class:read\"] }\n", 0644);
	hx_start(&h, 3);	/* echo, model gateway, agent */
	cr_assert_eq(hx_ctl(&h, &out, run), 0, "%s", out);
	j = json_loads(strchr(out, '{'), 0, NULL);
	cr_assert_not_null(j, "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(j, "answer")),
	    "echo answered ping; store was refused.", "%s", out);
	json_decref(j);
	free(out);
	cr_assert_eq(hx_stop(&h), 0);
	audit = hx_read(h.audit);
	cr_assert(strstr(audit, "\"tool\":\"model\""), "no model call audited");
	cr_assert(strstr(audit, "\"principal\":\"agent:helper\""), "%s", audit);
	cr_assert(strstr(audit, "\"op\":\"store\""), "%s", audit);
	cr_assert(strstr(audit, "\"decision\":\"deny\""), "%s", audit);
	cr_assert(strstr(audit, "\"usage\""), "token usage not recorded");
	free(audit);
}

/* The tenant's daily token budget: once the model's answers have used it up, the next model
 * call is refused with ERR_BUDGET and the run ends with it. */
Test(agent_model, token_budget)
{
	const char *run[] = { "run", "helper", "go", NULL };
	char *out = NULL, *audit;

	hx_config(&h,
	    "tenants:\n  demo: { uid: 41001, families: [echo], limits: { tokens_per_day: 100 } }\n"
	    "models:\n  - { name: scripted, provider: script, script: turns.yaml }\n"
	    "agents:\n  - { file: helper.yaml, tenant: demo, model: scripted }\n"
	    "policies: [policy.yaml]\n");
	hx_file(&h, "helper.yaml",
	    "apiVersion: corral.dev/v1\nkind: Agent\nmetadata: { name: helper }\n"
	    "spec:\n  model: openai:gpt-4o\n  tools: [echo]\n  system_prompt: s\n", 0644);
	hx_file(&h, "turns.yaml",
	    "turns:\n"
	    "  - tool_calls: [ { name: echo__echo, arguments: { msg: a } } ]\n"
	    "    usage: { input_tokens: 90, output_tokens: 20 }\n"
	    "  - say: never reached\n", 0644);
	hx_file(&h, "policy.yaml",
	    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: p }\nspec:\n"
	    "  tenant: demo\n  rules:\n"
	    "    - { id: r, effect: allow, principals: [\"agent:*\"], tool: echo, "
	    "operations: [echo] }\n", 0644);
	hx_start(&h, 3);
	cr_assert_neq(hx_ctl(&h, &out, run), 0, "%s", out);
	cr_assert(strstr(out, "budget"), "%s", out);
	cr_assert(strstr(out, "never reached") == NULL, "%s", out);
	free(out);
	cr_assert_eq(hx_stop(&h), 0);
	audit = hx_read(h.audit);
	cr_assert(strstr(audit, "token budget"), "%s", audit);
	free(audit);
}
