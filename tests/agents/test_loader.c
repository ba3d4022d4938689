/* The agent loader on small documents: every form it reads, every error it reports (with its
 * exact position), the ${VAR} allow-list and the credential guard, and the RUN JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "agents/loader.h"
#include "ipc/err.h"
#include "ipc/limits.h"

#define HDR "apiVersion: corral.dev/v1\nkind: Agent\nmetadata:\n  name: a\nspec:\n"
#define MODEL "  model: openai:gpt-4o\n"

struct bad_case {
	const char *yaml;
	bool warn;			/* missing_tools: warn */
	const char *want[4];		/* "line:col: message prefix", one per error, in order */
};

static const struct bad_case bad[] = {
	{ "kind: Agent\nmetadata: {name: a}\nspec: {model: a:b}\n", false,
	    { "1:1: missing required key 'apiVersion' (e.g. corral.dev/v1)" } },
	{ "apiVersion: aof.dev/v2\nkind: Agent\nmetadata: {name: a}\nspec: {model: a:b}\n", false,
	    { "1:13: unsupported apiVersion 'aof.dev/v2'" } },
	{ "apiVersion: aof.dev/v1\nkind: Fleet\nmetadata: {name: a}\nspec: {model: a:b}\n", false,
	    { "2:7: kind is 'Fleet'; this loader reads kind: Agent" } },
	{ "apiVersion: aof.dev/v1\nkind: Agent\nspec: {model: a:b}\n", false,
	    { "1:1: missing required key 'metadata'" } },
	{ "- a\n", false, { "1:1: an agent file is a mapping" } },
	{ HDR MODEL "  toolz: []\n", false, { "7:3: unknown key 'toolz' (expected one of: model," } },
	{ HDR "  model: gpt-4o\n", false,
	    { "6:10: model 'gpt-4o' must be provider:name (e.g. google:gpt-4o)" } },
	{ HDR "  model: {provider: openai}\n", false, { "6:10: model: missing required key 'name'" } },
	{ HDR "  model: {provider: Open AI, name: x}\n", false,
	    { "6:21: model provider 'Open AI' must be lowercase" } },
	{ HDR "  description: x\n", false, { "6:3: missing required key 'model'" } },
	{ HDR "  model: {provider: a, name: b, temperature: 0.1}\n  temperature: 0.2\n", false,
	    { "7:16: temperature is given twice (also in model:)" } },
	{ HDR MODEL "  temperature: 3\n", false, { "7:16: temperature 3 is out of range [0, 2]" } },
	{ HDR MODEL "  max_tokens: 0\n", false, { "7:15: 0 is out of range [1, 1000000]" } },
	{ HDR MODEL "  system_prompt: a\n  instructions: b\n", false,
	    { "8:17: system_prompt (line 7) and instructions are the same thing; give one" } },
	{ HDR MODEL "  max_iterations: 0\n", false, { "7:19: 0 is out of range [1, 200]" } },
	{ HDR MODEL "  max_iterations: \"12\"\n", false, { "7:19: expected an integer" } },
	{ HDR MODEL "  memory: {provider: redis}\n", false,
	    { "7:22: memory provider 'redis' is not one of sqlite, file, in_memory" } },
	{ HDR MODEL "  memory: {provider: sqlite}\n", false,
	    { "7:22: memory provider sqlite needs a path" } },
	{ HDR MODEL "  memory: {provider: sqlite, config: {path: /var/lib/x.db}}\n", false,
	    { "7:45: memory path '/var/lib/x.db' must be relative" } },
	{ HDR MODEL "  memory: file:a/../../b\n", false,
	    { "7:11: memory path 'a/../../b' must be relative" } },
	{ HDR MODEL "  memory: {provider: in_memory, config: {path: x}}\n", false,
	    { "7:48: memory provider in_memory takes no path" } },
	{ HDR MODEL "  memory: {provider: sqlite, config: {path: a.db, size: 3}}\n", false,
	    { "7:51: unknown key 'size' (expected one of: path)" } },
	{ HDR MODEL "  tools: [argocd.nuke]\n", true,
	    { "7:11: tool family 'argocd' has no operation 'nuke'" } },
	{ HDR MODEL "  tools: [{argocd: [get_application], flux: [get_logs]}]\n", false,
	    { "7:11: a tool given as a mapping has one key" } },
	{ HDR MODEL "  tools: [[argocd]]\n", false, { "7:11: a tool name must be a non-empty string" } },
	{ HDR MODEL "  tools: argocd\n", false, { "7:10: expected a sequence, found a scalar" } },
	{ HDR MODEL "  tools: [kubectl, argocd, terraform]\n", false,
	    { "7:11: tool 'kubectl' is not provided by corral (set missing_tools: warn to load "
	      "without it)",
	      "7:28: tool 'terraform' is not provided by corral (set missing_tools: warn to load "
	      "without it)" } },
	{ HDR MODEL "  tools: [{terraform: [plan]}]\n", false,
	    { "7:12: tool 'terraform' is not provided by corral" } },
	{ HDR MODEL "  config: {a: \"${X:-abc\"}\n", false, { "7:15: config 'a': unterminated ${" } },
	{ HDR MODEL "  config: {a: \"${BAD\"}\n", false,
	    { "7:15: config 'a': malformed variable reference" } },
	{ HDR MODEL "  config: {a: \"${1X}\"}\n", false,
	    { "7:15: config 'a': malformed variable reference" } },
	{ HDR MODEL "  config: {a: \"$${}\"}\n", false,
	    { "7:15: config 'a': malformed variable reference" } },
	{ HDR MODEL "  config: {a: 1}\n  environment: {a: 2}\n", false,
	    { "8:17: environment 'a' is also set in the other of config/environment" } },
	{ HDR MODEL "  config: [a]\n", false, { "7:11: expected a mapping, found a sequence" } },
	{ "apiVersion: aof.dev/v1\nkind: Agent\nmetadata:\n  name: \"bad name!\"\nspec:\n" MODEL,
	    false, { "4:9: agent name 'bad name!' must be" } },
	{ "apiVersion: aof.dev/v1\nkind: Agent\nmetadata:\n  name: a\n  description: x\nspec:\n"
	    MODEL "  description: y\n", false, { "8:16: description is given twice (also at line 5)" } },
	{ HDR "  model: [a]\n  memory: {provider: x}\n  tools: [helm]\n", false,
	    { "6:10: model must be a non-empty string",
	      "7:22: memory provider 'x' is not one of sqlite, file, in_memory",
	      "8:11: tool 'helm' is not provided by corral" } },
	{ "name: a\nmodel: a:b\nspec_typo: 1\n", false, { "3:1: unknown key 'spec_typo'" } },
	{ "name: a\nmodel: a:b\nkind: Agent\napiVersion: x/y\n", false,
	    { "4:13: unsupported apiVersion 'x/y'" } },
	{ HDR MODEL "  tools: [a\n", false, { "8:1: YAML syntax error" } },
	{ HDR MODEL "  config: {a: &x 1, b: *x}\n", false, { "7:24: YAML aliases (*x) are not supported" } },
};

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

Test(loader, every_error_with_its_position)
{
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		const struct bad_case *c = &bad[k];
		const struct agent_load_opts o = { .missing_tools_warn = c->warn };
		struct ydoc_errs e = { 0 };
		struct agent_def *def = NULL;
		size_t nwant = 0, ie = 0;
		char want[512];
		int r;

		while (nwant < 4 && c->want[nwant] != NULL)
			nwant++;
		r = agent_load_mem("t.yaml", c->yaml, strlen(c->yaml), &o, &def, &e);
		cr_expect_eq(r, ERR_CONFIG, "case %zu: %s", k, err_str(r));
		cr_expect_null(def, "case %zu", k);
		cr_expect_eq(e.errors, nwant, "case %zu: %zu errors (first: %s)", k, e.errors,
		    e.n ? e.msg[0] : "");
		for (size_t i = 0; i < e.n; i++) {
			if (strstr(e.msg[i], ": warning: ") != NULL)
				continue;
			if (ie >= nwant)
				break;
			snprintf(want, sizeof(want), "t.yaml:%s", c->want[ie]);
			cr_expect(starts(e.msg[i], want), "case %zu: got '%s', want '%s...'", k,
			    e.msg[i], want);
			ie++;
		}
		agent_def_free(def);
		ydoc_errs_free(&e);
	}
}

static struct agent_def *
load_ok(const char *yaml, const struct agent_load_opts *o, struct ydoc_errs *e)
{
	struct agent_def *def = NULL;
	int r = agent_load_mem("t.yaml", yaml, strlen(yaml), o, &def, e);

	cr_assert_eq(r, 0, "%s: %s", err_str(r), e->n ? e->msg[0] : "");
	cr_assert_not_null(def);
	return def;
}

Test(loader, flat_shape_and_defaults)
{
	struct ydoc_errs e = { 0 };
	struct agent_def *def = load_ok("name: flat\nmodel: ollama:llama3.1:8b\n", NULL, &e);

	cr_expect_eq(def->shape, AGENT_SHAPE_FLAT);
	cr_expect_null(def->api_version);
	cr_expect_str_eq(def->name, "flat");
	cr_expect_str_eq(def->model.provider, "ollama");
	cr_expect_str_eq(def->model.name, "llama3.1:8b");	/* split at the first ':' */
	cr_expect(!def->model.has_temperature);
	cr_expect_eq(def->model.max_tokens, 0);
	cr_expect_str_eq(def->system_prompt, "");
	cr_expect_eq(def->max_iterations, LIM_AGENT_ITER_DEFAULT);
	cr_expect_eq(def->memory.provider, AGENT_MEM_IN_MEMORY);
	cr_expect_null(def->memory.path);
	cr_expect_eq(def->ntools, 0);
	cr_expect_eq(json_object_size(def->config), 0);
	cr_expect_eq(e.n, 0);
	cr_expect_eq(def->pos_name.line, 1);
	cr_expect_eq(def->pos_name.col, 7);
	agent_def_free(def);
	ydoc_errs_free(&e);
}

Test(loader, every_api_version)
{
	static const char *const v[] = { "aof.dev/v1", "aof.dev/v1alpha1", "aof.sh/v1",
		"aof.sh/v1alpha1", "corral.dev/v1" };

	for (size_t i = 0; i < 5; i++) {
		struct ydoc_errs e = { 0 };
		char buf[256];
		struct agent_def *def;

		snprintf(buf, sizeof(buf), "apiVersion: %s\nkind: Agent\nmetadata: {name: a}\n"
		    "spec: {model: a:b}\n", v[i]);
		def = load_ok(buf, NULL, &e);
		cr_expect_str_eq(def->api_version, v[i]);
		cr_expect_eq(def->shape, AGENT_SHAPE_K8S);
		agent_def_free(def);
		ydoc_errs_free(&e);
	}
}

Test(loader, memory_forms)
{
	static const struct { const char *yaml; enum agent_mem_provider p; const char *path; } m[] = {
		{ "  memory: in_memory\n", AGENT_MEM_IN_MEMORY, NULL },
		{ "  memory: sqlite:mem/a.db\n", AGENT_MEM_SQLITE, "mem/a.db" },
		{ "  memory: {provider: file, config: {path: ./notes.jsonl}}\n", AGENT_MEM_FILE,
		  "./notes.jsonl" },
		{ "  memory: {provider: in_memory}\n", AGENT_MEM_IN_MEMORY, NULL },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		struct ydoc_errs e = { 0 };
		char buf[512];
		struct agent_def *def;

		snprintf(buf, sizeof(buf), HDR MODEL "%s", m[i].yaml);
		def = load_ok(buf, NULL, &e);
		cr_expect_eq(def->memory.provider, m[i].p, "case %zu", i);
		if (m[i].path)
			cr_expect_str_eq(def->memory.path, m[i].path);
		else
			cr_expect_null(def->memory.path);
		agent_def_free(def);
		ydoc_errs_free(&e);
	}
}

/* Names, family.op and {family: [ops]} merge into one entry per family: ops in the family's
 * canonical order, families in order of first mention, duplicates once. */
Test(loader, tool_forms_merge)
{
	struct ydoc_errs e = { 0 };
	struct agent_def *def = load_ok(HDR MODEL "  tools:\n"
	    "    - prometheus.canary_analyze\n"
	    "    - {argocd: [sync_application, get_application]}\n"
	    "    - argocd_app_list\n"
	    "    - prometheus_query\n"
	    "    - argocd_app_list\n"
	    "    - {jenkins: get_queue}\n", NULL, &e);

	cr_assert_eq(def->ntools, 3);
	cr_expect_str_eq(def->tools[0].family, "prometheus");
	cr_expect_eq(def->tools[0].nops, 3);
	cr_expect_str_eq(def->tools[0].ops[0], "query");
	cr_expect_str_eq(def->tools[0].ops[1], "query_range");
	cr_expect_str_eq(def->tools[0].ops[2], "canary_analyze");
	cr_expect_eq(def->tools[0].pos.line, 8);
	cr_expect_eq(def->tools[0].pos.col, 7);
	cr_expect_str_eq(def->tools[1].family, "argocd");
	cr_expect_eq(def->tools[1].nops, 3);
	cr_expect_str_eq(def->tools[1].ops[0], "get_application");
	cr_expect_str_eq(def->tools[1].ops[1], "list_applications");
	cr_expect_str_eq(def->tools[1].ops[2], "sync_application");
	cr_expect_eq(def->tools[1].nnames, 3);	/* argocd.sync_application, .get_application, app_list */
	cr_expect_str_eq(def->tools[2].family, "jenkins");
	cr_expect_eq(def->tools[2].nops, 1);
	cr_expect(agent_def_allows(def, "argocd", "sync_application"));
	cr_expect(!agent_def_allows(def, "argocd", "rollback_application"));
	cr_expect(!agent_def_allows(def, "flux", "get_logs"));
	cr_expect_null(agent_def_tool(def, "flux"));
	cr_expect_eq(e.n, 0);
	agent_def_free(def);
	ydoc_errs_free(&e);
}

Test(loader, missing_tools_warn_loads_without_them)
{
	const struct agent_load_opts o = { .missing_tools_warn = true };
	struct ydoc_errs e = { 0 };
	struct agent_def *def = load_ok(HDR MODEL "  tools: [kubectl, echo, slack, kubectl]\n", &o,
	    &e);

	cr_assert_eq(def->ntools, 1);
	cr_expect_str_eq(def->tools[0].family, "echo");
	cr_expect_eq(def->tools[0].nops, 6);	/* echo, sleep, fail, store, crash, log */
	cr_assert_eq(def->nmissing, 2);
	cr_expect_str_eq(def->missing[0].name, "kubectl");
	cr_expect_eq(def->missing[0].pos.col, 11);
	cr_expect_str_eq(def->missing[1].name, "slack");
	cr_expect_eq(e.errors, 0);
	cr_assert_eq(e.warnings, 3);
	cr_expect_str_eq(e.msg[0], "t.yaml:7:11: warning: tool 'kubectl' is not provided by corral; "
	    "loading the agent without it");
	agent_def_free(def);
	ydoc_errs_free(&e);
}

/* ${VAR} only from the allow-list; ${VAR:-default} when absent; unresolved entries and any
 * credential (by key or by variable name, allow-listed or not) dropped with a warning. */
Test(loader, config_expansion_and_credential_guard)
{
	char *names[] = { "ENV_NAME", "API_TOKEN", "EMPTY" };
	char *values[] = { "prod", "tok-123", "" };
	const struct agent_load_opts o = { .var_names = names, .var_values = values, .nvars = 3 };
	struct ydoc_errs e = { 0 };
	struct agent_def *def;
	char *dump;

	setenv("HOME_DIR_FROM_ENV", "leak", 1);
	def = load_ok(HDR MODEL "  config:\n"
	    "    env: \"${ENV_NAME}\"\n"
	    "    url: \"https://${ENV_NAME}.example/${PATH_PART:-api}/v1\"\n"
	    "    empty: \"x${EMPTY}y\"\n"
	    "    not_allowed: \"${HOME_DIR_FROM_ENV}\"\n"
	    "    auth: \"${API_TOKEN}\"\n"
	    "    db_password: hunter2\n"
	    "    apiKey: k\n"
	    "    max_tokens: 100\n"
	    "    ratio: 1.5\n"
	    "    on: true\n"
	    "    quoted: \"true\"\n"
	    "    none: ~\n"
	    "    dollar: \"cost $5 and ${ENV_NAME}\"\n"
	    "    list: [a, \"${ENV_NAME}\", 3]\n"
	    "    nested: {k: \"${NOPE}\"}\n"
	    "  environment:\n"
	    "    REGION: \"${REGION:-eu-west-1}\"\n", &o, &e);
	dump = json_dumps(def->config, JSON_SORT_KEYS | JSON_COMPACT);
	cr_expect_str_eq(dump, "{\"REGION\":\"eu-west-1\",\"dollar\":\"cost $5 and prod\","
	    "\"empty\":\"xy\",\"env\":\"prod\",\"list\":[\"a\",\"prod\",3],\"max_tokens\":100,"
	    "\"none\":null,\"on\":true,\"quoted\":\"true\",\"ratio\":1.5,"
	    "\"url\":\"https://prod.example/api/v1\"}");
	free(dump);
	cr_expect_eq(e.errors, 0);
	cr_assert_eq(e.warnings, 5);
	cr_expect_str_eq(e.msg[0], "t.yaml:11:18: warning: config 'not_allowed' dropped: "
	    "${HOME_DIR_FROM_ENV} is not in the supervisor's vars: allow-list and has no default");
	cr_expect_str_eq(e.msg[1], "t.yaml:12:11: warning: config 'auth' dropped: ${API_TOKEN} "
	    "names a credential, and corral never expands credentials into an agent (corrald "
	    "injects them per call)");
	cr_expect(starts(e.msg[2], "t.yaml:13:5: warning: config 'db_password' dropped: it names "
	    "a credential"));
	cr_expect(starts(e.msg[3], "t.yaml:14:5: warning: config 'apiKey' dropped"));
	cr_expect(starts(e.msg[4], "t.yaml:22:17: warning: config 'nested' dropped: ${NOPE}"), "%s", e.msg[4]);
	agent_def_free(def);
	ydoc_errs_free(&e);
}

/* Which names count as credentials: whole words, not substrings. */
Test(loader, credential_names)
{
	static const struct { const char *key; bool secret; } k[] = {
		{ "slack_token", true }, { "SLACK_BOT_TOKEN", true }, { "GRAFANA_API_KEY", true },
		{ "apiKey", true }, { "signing-secret", true }, { "client_secret", true },
		{ "password", true }, { "ssh.private_key", true }, { "AccessKey", true },
		{ "credentials", true },
		{ "max_tokens", false }, { "tokenizer", false }, { "monkey", false },
		{ "primary_key", false }, { "keyboard", false }, { "passwordless", false },
		{ "secretariat", false }, { "key", false },
	};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		struct ydoc_errs e = { 0 };
		char buf[512];
		struct agent_def *def;

		snprintf(buf, sizeof(buf), HDR MODEL "  config: {%s: v}\n", k[i].key);
		def = load_ok(buf, NULL, &e);
		cr_expect_eq(json_object_get(def->config, k[i].key) == NULL, k[i].secret, "%s",
		    k[i].key);
		cr_expect_eq(e.warnings, k[i].secret ? 1u : 0u, "%s", k[i].key);
		agent_def_free(def);
		ydoc_errs_free(&e);
	}
}

/* A load fails even when the caller's list is already full (ydoc stops recording at
 * LIM_CONFIG_ERRORS_MAX), and every tool error of a long list is counted. */
Test(loader, errors_over_the_cap_still_fail)
{
	struct ydoc_errs e = { 0 };
	struct agent_def *def = NULL;
	char buf[8192];
	size_t off;
	const char *ok = HDR MODEL "  tools: [kubectl]\n";

	for (unsigned i = 0; i < LIM_CONFIG_ERRORS_MAX; i++)
		ydoc_errf(&e, NULL, NULL, "earlier error %u", i);
	cr_expect_eq(agent_load_mem("t.yaml", ok, strlen(ok), NULL, &def, &e), ERR_CONFIG);
	cr_expect_null(def);
	ydoc_errs_free(&e);

	off = (size_t)snprintf(buf, sizeof(buf), HDR MODEL "  tools:\n");
	for (unsigned i = 0; i < 60; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "    - nope%u\n", i);
	cr_expect_eq(agent_load_mem("t.yaml", buf, off, NULL, &def, &e), ERR_CONFIG);
	cr_expect_eq(e.errors, LIM_CONFIG_ERRORS_MAX);
	ydoc_errs_free(&e);
}

Test(loader, caps)
{
	struct ydoc_errs e = { 0 };
	struct agent_def *def = NULL;
	size_t n = LIM_AGENT_PROMPT_MAX + 64, off;
	char *buf = malloc(n + 256);

	cr_assert_not_null(buf);
	off = (size_t)sprintf(buf, HDR MODEL "  system_prompt: \"");
	memset(buf + off, 'x', LIM_AGENT_PROMPT_MAX + 1);
	off += LIM_AGENT_PROMPT_MAX + 1;
	off += (size_t)sprintf(buf + off, "\"\n");
	cr_expect_eq(agent_load_mem("t.yaml", buf, off, NULL, &def, &e), ERR_CONFIG);
	cr_assert_eq(e.errors, 1);
	cr_expect(starts(e.msg[0], "t.yaml:7:18: system_prompt is longer than 262144 bytes"));
	ydoc_errs_free(&e);

	off = (size_t)sprintf(buf, HDR MODEL "  tools:\n");
	for (unsigned i = 0; i <= LIM_AGENT_TOOLS_MAX; i++)
		off += (size_t)sprintf(buf + off, "    - echo\n");
	cr_expect_eq(agent_load_mem("t.yaml", buf, off, NULL, &def, &e), ERR_CONFIG);
	cr_assert_eq(e.errors, 1);
	cr_expect(starts(e.msg[0], "t.yaml:8:5: more than 64 tools"));
	ydoc_errs_free(&e);
	free(buf);
}

Test(loader, file_errors)
{
	struct ydoc_errs e = { 0 };
	struct agent_def *def = NULL;

	cr_expect_eq(agent_load_file("/nonexistent/agent.yaml", NULL, &def, &e), -ENOENT);
	cr_assert_eq(e.errors, 1);
	cr_expect_str_eq(e.msg[0], "/nonexistent/agent.yaml: cannot open: No such file or "
	    "directory");
	cr_expect_null(def);
	ydoc_errs_free(&e);
	/* errs may be NULL */
	cr_expect_eq(agent_load_mem("t.yaml", "- x\n", 4, NULL, &def, NULL), ERR_CONFIG);
	agent_def_free(NULL);
}

/* What the supervisor sends the confined agent in RUN: everything the runtime needs. */
Test(loader, run_json_exact)
{
	char *names[] = { "TEAM" };
	char *values[] = { "payments" };
	const struct agent_load_opts o = { .missing_tools_warn = true, .var_names = names,
		.var_values = values, .nvars = 1 };
	struct ydoc_errs e = { 0 };
	struct agent_def *def = load_ok("apiVersion: aof.dev/v1\nkind: Agent\nmetadata:\n"
	    "  name: j\n  labels: {tier: core}\nspec:\n"
	    "  model: {provider: anthropic, name: claude-x, temperature: 0.5, max_tokens: 900}\n"
	    "  instructions: |\n    Be brief.\n"
	    "  max_iterations: 7\n"
	    "  memory: {provider: sqlite, config: {path: m/j.db}}\n"
	    "  config: {team: \"${TEAM}\"}\n"
	    "  tools: [gitlab_job_log, slack]\n", &o, &e);
	json_t *j = agent_def_to_json(def);
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);

	cr_expect_str_eq(s, "{\"api_version\":\"aof.dev/v1\",\"config\":{\"team\":\"payments\"},"
	    "\"description\":null,\"labels\":{\"tier\":\"core\"},\"max_iterations\":7,\"memory\":{\"path\":\"m/j.db\","
	    "\"provider\":\"sqlite\"},\"missing_tools\":[{\"col\":27,\"line\":13,\"name\":"
	    "\"slack\"}],\"model\":{\"max_tokens\":900,\"name\":\"claude-x\",\"provider\":"
	    "\"anthropic\",\"temperature\":0.5},\"name\":\"j\",\"system_prompt\":\"Be brief.\\n\","
	    "\"tools\":[{\"family\":\"gitlab_ci\",\"from\":[\"gitlab_job_log\"],\"ops\":"
	    "[\"get_job_logs\"]}]}");
	free(s);
	json_decref(j);
	agent_def_free(def);
	ydoc_errs_free(&e);
}
