/* libFuzzer target: the agent YAML loader (agents/loader.h, agent_load_mem), with the
 * supervisor's vars allow-list set so ${VAR} expansion runs.
 * Invariants: success <=> a definition and no errors; its resolved JSON (what RUN carries)
 * exists, names the agent, and lists tools whose families and operations the registry knows;
 * loading is deterministic (the same bytes give the same JSON); failures leave no definition
 * and carry at least one message that names the file. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/loader.h"
#include "ipc/err.h"
#include "tools/tool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_agent: %s (line %d)\n", #c, \
	__LINE__); abort(); } } while (0)

static char *const var_names[] = { "CLUSTER", "REGION", "APP" };
static char *const var_values[] = { "prod-eu", "eu-west-1", "${CLUSTER}" };

static void
check_def(const struct agent_def *def, char **json_out)
{
	json_t *j = agent_def_to_json(def), *tools, *t;
	size_t i;

	CHECK(j != NULL);
	CHECK(json_is_string(json_object_get(j, "name")));
	tools = json_object_get(j, "tools");
	CHECK(tools == NULL || json_is_array(tools));
	json_array_foreach(tools, i, t) {
		const struct tool_family *f = tool_family_find(json_string_value(json_object_get(t,
		    "family")));
		json_t *ops = json_object_get(t, "ops"), *o;
		size_t k;

		CHECK(f != NULL);
		json_array_foreach(ops, k, o)
			CHECK(tool_op_find(f, json_string_value(o)) != NULL);
	}
	*json_out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK(*json_out != NULL);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_load_opts o = { .missing_tools_warn = size & 1, .var_names = var_names,
		.var_values = var_values, .nvars = 3 };
	struct ydoc_errs errs = { 0 };
	struct agent_def *def = NULL, *again = NULL;
	int r = agent_load_mem("fuzz.yaml", (const char *)data, size, &o, &def, &errs);

	if (r == 0) {
		char *j1, *j2;

		CHECK(def != NULL && errs.errors == 0);
		check_def(def, &j1);
		CHECK(agent_load_mem("fuzz.yaml", (const char *)data, size, &o, &again, NULL) == 0);
		check_def(again, &j2);
		CHECK(strcmp(j1, j2) == 0);
		free(j1);
		free(j2);
	} else {
		CHECK(r < 0 && def == NULL);
		CHECK(r == -ENOMEM || errs.errors > 0);
		for (size_t i = 0; i < errs.n; i++)
			CHECK(strncmp(errs.msg[i], "fuzz.yaml", 9) == 0);
	}
	agent_def_free(def);
	agent_def_free(again);
	ydoc_errs_free(&errs);
	return 0;
}
