/* Each LLM provider through a real corrald: the confined agent asks the model gateway worker
 * (OpenAI-compatible, Anthropic, Gemini fakes on loopback that check every request against the
 * providers' contracts), the gateway reaches the fake only through corrald's egress broker with
 * the key corrald injected, the model's tool call is decided by policy and run by the echo
 * worker, and the two-turn conversation ends in the scripted answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"
#include "tests/tools/harness.h"

#define KEY "sk-corral-canary-7f3a9c2e"

#define TURNS "{\"turns\":[{\"say\":\"Checking.\",\"tool_calls\":[{\"name\":\"echo__echo\"," \
	"\"arguments\":{\"msg\":\"ping\"}}],\"usage\":{\"in\":50,\"out\":10}},{\"expect\":" \
	"{\"tool\":\"echo__echo\",\"tool_result_contains\":\"ping\"},\"say\":\"echo answered " \
	"ping.\",\"usage\":{\"in\":80,\"out\":12}}]}"

static struct hx h;
static struct fake F;

static void
teardown(void)
{
	fake_stop(&F);
	hx_cleanup(&h);
}

TestSuite(providers, .timeout = 120, .fini = teardown);

static void
one(const char *provider, const char *script, const char *model, const char *suffix)
{
	const char *fargs[] = { "--token", KEY, NULL };
	const char *run[] = { "-o", "json", "run", "helper", "check echo", NULL };
	char cfg[2048], *out = NULL, *audit, *log, v[1024];
	json_t *j;

	memset(&F, 0, sizeof(F));
	cr_assert_eq(fake_start(&F, script, fargs), 0, "%s did not start", script);
	cr_assert_eq(fake_control(&F, "{\"state\":" TURNS "}"), 0);
	hx_config(&h, "tenants: {}\n");
	hx_file(&h, "llm.key", KEY "\n", 0600);
	hx_file(&h, "helper.yaml",
	    "apiVersion: corral.dev/v1\nkind: Agent\nmetadata: { name: helper }\n"
	    "spec:\n  model: openai:gpt-4o\n  tools: [echo]\n  system_prompt: You check tools.\n",
	    0644);
	hx_file(&h, "policy.yaml",
	    "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: p }\nspec:\n"
	    "  tenant: demo\n  rules:\n"
	    "    - { id: r, effect: allow, principals: [\"agent:helper\"], tool: echo, "
	    "operations: [echo] }\n", 0644);
	snprintf(cfg, sizeof(cfg),
	    "runtime_dir: %s/run\nstate_dir: %s/state\nlibexec_dir: %s\n"
	    "tenants:\n  demo: { uid: 41030, families: [echo] }\n"
	    "credentials:\n  - { name: llm, tenant: demo, source: \"file:llm.key\" }\n"
	    "models:\n  - { name: m1, provider: %s, base_url: \"%s%s\", model: %s, "
	    "credential: llm, allow_private: true }\n"
	    "agents:\n  - { file: helper.yaml, tenant: demo, model: m1 }\n"
	    "policies: [policy.yaml]\n",
	    h.dir, h.dir, getenv("CORRAL_LIBEXEC"), provider, F.url, suffix, model);
	hx_file(&h, "corral.yaml", cfg, 0600);
	hx_start(&h, 3);
	cr_assert_eq(hx_ctl(&h, &out, run), 0, "%s: %s", provider, out);
	j = json_loads(strchr(out, '{'), 0, NULL);
	cr_assert_not_null(j, "%s: %s", provider, out);
	cr_assert_str_eq(json_string_value(json_object_get(j, "answer")), "echo answered ping.",
	    "%s: %s", provider, out);
	cr_assert(strstr(out, KEY) == NULL, "%s: the key reached the caller", provider);
	json_decref(j);
	free(out);
	cr_assert_eq(fake_count(&F), 2, "%s: two model turns expected", provider);
	cr_assert_eq(fake_violations(&F, v, sizeof(v)), 0, "%s: %s", provider, v);
	cr_assert_eq(hx_stop(&h), 0);
	audit = hx_read(h.audit);
	log = hx_read(h.log);
	cr_assert(strstr(audit, "\"tool\":\"model\""), "%s", provider);
	cr_assert(strstr(audit, "\"op\":\"echo\""), "%s", provider);
	cr_assert(strstr(audit, KEY) == NULL && strstr(log, KEY) == NULL,
	    "%s: the key is in the audit log or corrald's log", provider);
	free(audit);
	free(log);
	fake_stop(&F);
	hx_cleanup(&h);
}

Test(providers, openai_compatible)
{
	one("openai", "fake_openai.py", "llama3.1:8b", "/v1");
}

Test(providers, anthropic)
{
	one("anthropic", "fake_anthropic.py", "claude-sonnet-4-5", "");
}

Test(providers, gemini)
{
	one("google", "fake_gemini.py", "gemini-2.5-flash", "");
}
