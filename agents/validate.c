/* The resolved agent as JSON (the RUN message's agent, `validate -o json`), and
 * `corralctl agent validate`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agents/loader.h"
#include "ipc/err.h"

static json_t *
strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
model_json(const struct agent_model *m)
{
	json_t *j = json_pack("{s:s?, s:s?}", "provider", m->provider, "name", m->name);

	if (j != NULL && m->has_temperature &&
	    json_object_set_new(j, "temperature", json_real(m->temperature)) < 0)
		goto fail;
	if (j != NULL && m->max_tokens > 0 &&
	    json_object_set_new(j, "max_tokens", json_integer(m->max_tokens)) < 0)
		goto fail;
	return j;
fail:
	json_decref(j);
	return NULL;
}

static json_t *
tools_json(const struct agent_def *def)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < def->ntools; i++) {
		const struct agent_tool *t = &def->tools[i];

		if (json_array_append_new(a, json_pack("{s:s, s:o*, s:o*}", "family", t->family,
		    "ops", strv_json(t->ops, t->nops), "from", strv_json(t->names, t->nnames))) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
missing_json(const struct agent_def *def)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < def->nmissing; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:i, s:i}", "name",
		    def->missing[i].name, "line", def->missing[i].pos.line, "col",
		    def->missing[i].pos.col)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
labels_json(const struct agent_def *def)
{
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < def->nlabels; i++)
		if (json_object_set_new(o, def->label_keys[i], json_string(def->label_values[i]))) {
			json_decref(o);
			return NULL;
		}
	return o;
}

json_t *
agent_def_to_json(const struct agent_def *def)
{
	json_t *mem;

	if (def == NULL)
		return NULL;
	mem = json_pack("{s:s}", "provider", agent_mem_provider_name(def->memory.provider));
	if (mem != NULL && def->memory.path != NULL &&
	    json_object_set_new(mem, "path", json_string(def->memory.path)) < 0) {
		json_decref(mem);
		mem = NULL;
	}
	/* json_pack with o* fails (and releases the others) if any member is NULL. */
	return json_pack("{s:s, s:s?, s:s?, s:o*, s:o*, s:s, s:i, s:o*, s:O*, s:o*, s:o*}",
	    "name", def->name, "description", def->description, "api_version", def->api_version,
	    "labels", labels_json(def), "model", model_json(&def->model),
	    "system_prompt", def->system_prompt ? def->system_prompt : "",
	    "max_iterations", def->max_iterations, "memory", mem, "config", def->config,
	    "tools", tools_json(def), "missing_tools", missing_json(def));
}

/* ---------------------------------------------------------------- corralctl agent validate */

static void
usage(FILE *f)
{
	fprintf(f, "usage: corralctl agent validate [--missing-tools warn|error] "
	    "[--var NAME=VALUE]... FILE [-o text|json]\n");
}

struct vopts {
	const char *file;
	bool json;
	struct agent_load_opts lo;
	char **names, **values;
};

/* Returns 0, 1 (help shown) or -1 (usage error, reported). */
static int
parse_args(int argc, char **argv, struct vopts *v, FILE *out, FILE *err)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(out);
			return 1;
		} else if (strcmp(a, "-o") == 0 && val != NULL &&
		    (strcmp(val, "json") == 0 || strcmp(val, "text") == 0)) {
			v->json = strcmp(val, "json") == 0;
			i++;
		} else if (strcmp(a, "--missing-tools") == 0 && val != NULL &&
		    (strcmp(val, "warn") == 0 || strcmp(val, "error") == 0)) {
			v->lo.missing_tools_warn = strcmp(val, "warn") == 0;
			i++;
		} else if (strcmp(a, "--var") == 0 && val != NULL && strchr(val, '=') != NULL &&
		    val[0] != '=') {
			char *eq = strchr(val, '=');

			v->names[v->lo.nvars] = strndup(val, (size_t)(eq - val));
			v->values[v->lo.nvars++] = strdup(eq + 1);
			i++;
		} else if (a[0] != '-' && v->file == NULL) {
			v->file = a;
		} else {
			fprintf(err, "corralctl agent validate: bad argument '%s'\n", a);
			usage(err);
			return -1;
		}
	}
	if (v->file == NULL) {
		usage(err);
		return -1;
	}
	return 0;
}

static void
print_text(FILE *out, const struct agent_def *def)
{
	const struct agent_model *m = &def->model;
	char *cfg;

	fprintf(out, "agent %s\n  file: %s\n  apiVersion: %s (%s shape)\n", def->name,
	    def->file, def->api_version ? def->api_version : "(none)",
	    def->shape == AGENT_SHAPE_K8S ? "metadata/spec" : "flat");
	if (def->description != NULL)
		fprintf(out, "  description: %.*s\n", (int)strcspn(def->description, "\n"),
		    def->description);
	fprintf(out, "  model: %s:%s", m->provider, m->name);
	if (m->has_temperature)
		fprintf(out, " temperature=%g", m->temperature);
	if (m->max_tokens > 0)
		fprintf(out, " max_tokens=%lld", (long long)m->max_tokens);
	fprintf(out, "\n  max_iterations: %d\n  memory: %s%s%s\n  system_prompt: %zu bytes\n",
	    def->max_iterations, agent_mem_provider_name(def->memory.provider),
	    def->memory.path ? " " : "", def->memory.path ? def->memory.path : "",
	    strlen(def->system_prompt));
	fprintf(out, "  tools:%s\n", def->ntools ? "" : " (none)");
	for (size_t i = 0; i < def->ntools; i++) {
		fprintf(out, "    %s:", def->tools[i].family);
		for (size_t j = 0; j < def->tools[i].nops; j++)
			fprintf(out, "%s%s", j ? ", " : " ", def->tools[i].ops[j]);
		fprintf(out, "\n");
	}
	for (size_t i = 0; i < def->nmissing; i++)
		fprintf(out, "  missing tool: %s (%s:%d:%d)\n", def->missing[i].name, def->file,
		    def->missing[i].pos.line, def->missing[i].pos.col);
	if ((cfg = json_dumps(def->config, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(12))) != NULL)
		fprintf(out, "  config: %s\n", cfg);
	free(cfg);
}

static void
print_json(FILE *out, const struct agent_def *def, const struct ydoc_errs *e)
{
	json_t *w = json_array(), *x = json_array(), *doc;
	char *s;

	for (size_t i = 0; w != NULL && x != NULL && i < e->n; i++)
		json_array_append_new(strstr(e->msg[i], ": warning: ") ? w : x,
		    json_string(e->msg[i]));
	doc = json_pack("{s:b, s:o*, s:o*, s:o*}", "ok", def != NULL, "agent",
	    def ? agent_def_to_json(def) : json_null(), "warnings", w, "errors", x);
	if (doc != NULL && (s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12))) != NULL) {
		fprintf(out, "%s\n", s);
		free(s);
	}
	json_decref(doc);
}

int
agent_validate_cli(int argc, char **argv, FILE *out, FILE *err)
{
	struct vopts v = { 0 };
	struct ydoc_errs e = { 0 };
	struct agent_def *def = NULL;
	int r, rc = 2;

	v.names = calloc((size_t)argc + 1, sizeof(char *));
	v.values = calloc((size_t)argc + 1, sizeof(char *));
	if (v.names == NULL || v.values == NULL) {
		fprintf(err, "corralctl agent validate: %s\n", err_str(-ENOMEM));
		goto out;
	}
	v.lo.var_names = v.names;
	v.lo.var_values = v.values;
	if ((r = parse_args(argc, argv, &v, out, err)) != 0) {
		rc = r > 0 ? 0 : 2;
		goto out;
	}
	r = agent_load_file(v.file, &v.lo, &def, &e);
	ydoc_errs_print(&e, err);
	if (r < 0 && e.errors == 0)
		fprintf(err, "%s: %s\n", v.file, err_str(r));
	if (v.json)
		print_json(out, def, &e);
	else if (def != NULL)
		print_text(out, def);
	rc = r < 0 ? 2 : 0;
out:
	for (size_t i = 0; i < v.lo.nvars; i++) {
		free(v.names[i]);
		free(v.values[i]);
	}
	free(v.names);
	free(v.values);
	ydoc_errs_free(&e);
	agent_def_free(def);
	return rc;
}
