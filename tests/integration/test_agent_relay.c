/* A confined corral-agent relays calls from a test driver through corrald: every call is
 * validated, decided by policy (as agent:NAME) and audited; the run is listed by
 * `corralctl agents`. */
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

TestSuite(agent_relay, .timeout = 60, .fini = teardown);

Test(agent_relay, calls_cross_the_supervisor)
{
	const char *run[] = { "-o", "json", "run", "relay",
		"{\"calls\":[{\"tool\":\"echo\",\"op\":\"echo\",\"args\":{\"msg\":\"via agent\"}},"
		"{\"tool\":\"echo\",\"op\":\"crash\",\"args\":{}},"
		"{\"tool\":\"echo\",\"op\":\"echo\",\"args\":{\"msg\":7}}]}", NULL };
	const char *agents[] = { "-o", "json", "agents", NULL };
	char *out = NULL, *audit;
	json_t *j, *res, *st, *w;

	hx_config(&h,
	    "tenants:\n  demo: { uid: 41001, families: [echo] }\n"
	    "agents:\n  - { file: relay.yaml, tenant: demo }\n"
	    "policies: [policy.yaml]\n");
	hx_file(&h, "relay.yaml",
	    "apiVersion: corral.dev/v1\nkind: Agent\nmetadata: { name: relay }\n"
	    "spec:\n  model: google:gemini-2.5-flash\n  tools: [echo]\n  system_prompt: relay\n", 0644);
	hx_file(&h, "policy.yaml",
	    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: p }\nspec:\n"
	    "  tenant: demo\n  rules:\n"
	    "    - { id: agents-echo, effect: allow, principals: [\"agent:*\"], tool: echo, "
	    "operations: [echo] }\n"
	    "    - { id: no-crash, effect: deny, principals: [\"agent:*\"], tool: echo, "
	    "operations: [crash] }\n", 0644);
	hx_start(&h, 2);
	st = hx_status(&h);
	w = hx_worker(st, "agent-relay@demo");
	cr_assert_not_null(w, "no agent worker");
	cr_assert(json_is_true(json_object_get(json_object_get(w, "confinement"), "verified")));
	cr_assert(json_is_true(json_object_get(json_object_get(w, "confinement"), "netns")));
	json_decref(st);

	cr_assert_eq(hx_ctl(&h, &out, run), 0, "%s", out);
	j = json_loads(out, 0, NULL);
	cr_assert_not_null(j, "%s", out);
	res = json_object_get(j, "results");
	cr_assert_eq(json_array_size(res), 3);
	cr_assert(json_is_true(json_object_get(json_array_get(res, 0), "ok")));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(res, 0),
	    "result"), "msg")), "via agent");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 1), "error")),
	    "ERR_DENIED", "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 2), "error")),
	    "ERR_SCHEMA", "%s", out);
	json_decref(j);
	free(out);

	cr_assert_eq(hx_ctl(&h, &out, agents), 0, "%s", out);
	cr_assert(strstr(out, "\"outcome\": \"done\""), "%s", out);
	free(out);
	cr_assert_eq(hx_stop(&h), 0);
	audit = hx_read(h.audit);
	cr_assert(strstr(audit, "\"principal\":\"agent:relay\""), "%s", audit);
	cr_assert(strstr(audit, "\"rules\":[\"no-crash\"]"), "%s", audit);
	free(audit);
}

/* An agent calls only what its file lists: echo.store is allowed to every agent by the
 * policy, but narrow lists echo.echo alone, so corrald refuses it before the policy
 * (builtin:agent-tools), audits the refusal with the file named, and nothing runs. */
Test(agent_relay, the_agents_own_tool_list_binds_it)
{
	const char *run[] = { "-o", "json", "run", "narrow",
		"{\"calls\":[{\"tool\":\"echo\",\"op\":\"echo\",\"args\":{\"msg\":\"listed\"}},"
		"{\"tool\":\"echo\",\"op\":\"store\",\"args\":{\"value\":\"unlisted\"}}]}", NULL };
	char *out = NULL, *audit;
	json_t *j, *res;

	hx_config(&h,
	    "tenants:\n  demo: { uid: 41001, families: [echo] }\n"
	    "agents:\n  - { file: narrow.yaml, tenant: demo }\n"
	    "policies: [policy.yaml]\n");
	hx_file(&h, "narrow.yaml",
	    "apiVersion: corral.dev/v1\nkind: Agent\nmetadata: { name: narrow }\n"
	    "spec:\n  model: google:gemini-2.5-flash\n  tools:\n    - echo: [echo]\n"
	    "  system_prompt: relay\n", 0644);
	hx_file(&h, "policy.yaml",
	    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: p }\nspec:\n"
	    "  tenant: demo\n  rules:\n"
	    "    - { id: agents-echo-all, effect: allow, principals: [\"agent:*\"], tool: echo, "
	    "operations: [\"*\"] }\n", 0644);
	hx_start(&h, 2);
	cr_assert_eq(hx_ctl(&h, &out, run), 0, "%s", out);
	j = json_loads(out, 0, NULL);
	cr_assert_not_null(j, "%s", out);
	res = json_object_get(j, "results");
	cr_assert_eq(json_array_size(res), 2, "%s", out);
	cr_expect(json_is_true(json_object_get(json_array_get(res, 0), "ok")), "%s", out);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(res, 1), "error")),
	    "ERR_DENIED", "%s", out);
	cr_expect(strstr(out, "echo.store is not among the tools of agent narrow") != NULL, "%s",
	    out);
	json_decref(j);
	free(out);
	cr_assert_eq(hx_stop(&h), 0);
	audit = hx_read(h.audit);
	cr_expect(strstr(audit, "\"op\":\"store\"") && strstr(audit, "\"builtin:agent-tools\""),
	    "%s", audit);
	cr_expect(strstr(audit, "\"outcome\":\"ok\"") != NULL, "the listed call ran: %s", audit);
	{
		int store_records = 0;

		for (char *l = strtok(audit, "\n"); l; l = strtok(NULL, "\n"))
			store_records += strstr(l, "\"op\":\"store\"") != NULL;
		cr_expect_eq(store_records, 1, "echo.store went further than its refusal");
	}
	free(audit);
}
