/* agent loader: AOF agent YAML (both shapes, both API groups) -> struct agent_def.
 *
 * The file is read whole through ydoc, then decoded section by section; each section reports
 * every problem it finds (file:line:col) and goes on, so one run shows them all. Nothing here
 * reads the environment: ${VAR} comes only from the caller's allow-list. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agents/aofmap.h"
#include "agents/loader.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "agents/loader_int.h"

/* ---------------------------------------------------------------- reporting */

void
agent_ld_err(struct agent_ld *l, const struct ydoc_node *n, const char *fmt, ...)
{
	char buf[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ydoc_errf(l->e, l->d, n, "%s", buf);
	l->bad++;
}

void
agent_ld_warn(struct agent_ld *l, const struct ydoc_node *n, const char *fmt, ...)
{
	char buf[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ydoc_warnf(l->e, l->d, n, "%s", buf);
}

char *
agent_ld_dup(struct agent_ld *l, const char *s)
{
	char *p = strdup(s);

	if (p == NULL && l->sys == 0)
		l->sys = -ENOMEM;
	return p;
}

struct agent_pos
agent_ld_pos(const struct ydoc_node *n)
{
	return (struct agent_pos){ n ? n->line : 0, n ? n->col : 0 };
}

/* Scalar text of n, or NULL (reported). Null scalars are refused: an empty value is a mistake. */
const char *
agent_ld_str(struct agent_ld *l, const struct ydoc_node *n, const char *what)
{
	if (n == NULL || n->type != YDOC_SCALAR || ydoc_is_null(n)) {
		agent_ld_err(l, n, "%s must be a non-empty string", what);
		return NULL;
	}
	return n->str;
}

bool
agent_ld_want(struct agent_ld *l, const struct ydoc_node *n, enum ydoc_type t)
{
	if (ydoc_want(l->e, l->d, n, t) < 0) {
		l->bad++;
		return false;
	}
	return true;
}

void
agent_ld_keys(struct agent_ld *l, const struct ydoc_node *m, const char *const *allowed)
{
	size_t before = l->e->errors;

	if (ydoc_check_keys(l->e, l->d, m, allowed) < 0)
		l->bad += l->e->errors > before ? l->e->errors - before : 1;
}

/* ---------------------------------------------------------------- header */

static const char *const api_versions[] = {
	"aof.dev/v1", "aof.dev/v1alpha1", "aof.sh/v1", "aof.sh/v1alpha1", "corral.dev/v1", NULL };

#define SPEC_KEYS "model", "max_tokens", "temperature", "description", "system_prompt", \
	"instructions", "tools", "max_iterations", "memory", "config", "environment"

static const char *const k8s_keys[] = { "apiVersion", "kind", "metadata", "spec", NULL };
static const char *const meta_keys[] = {
	"name", "namespace", "labels", "annotations", "description", NULL };
static const char *const spec_keys[] = { SPEC_KEYS, NULL };
static const char *const flat_keys[] = {
	"apiVersion", "kind", "name", "labels", "annotations", SPEC_KEYS, NULL };

static void
load_api_version(struct agent_ld *l, const struct ydoc_node *root, bool required)
{
	const struct ydoc_node *n = ydoc_get(root, "apiVersion"), *k = ydoc_get(root, "kind");
	const char *s;

	if (n == NULL && required)
		agent_ld_err(l, root, "missing required key 'apiVersion' (e.g. corral.dev/v1)");
	if (n != NULL && (s = agent_ld_str(l, n, "apiVersion")) != NULL) {
		size_t i;

		for (i = 0; api_versions[i] != NULL && strcmp(api_versions[i], s) != 0; i++)
			;
		if (api_versions[i] == NULL)
			agent_ld_err(l, n, "unsupported apiVersion '%s' (expected aof.dev/v1, "
			    "aof.dev/v1alpha1, aof.sh/v1, aof.sh/v1alpha1 or corral.dev/v1)", s);
		else
			l->def->api_version = agent_ld_dup(l, s);
	}
	if (k == NULL && required)
		agent_ld_err(l, root, "missing required key 'kind' (Agent)");
	if (k != NULL && (s = agent_ld_str(l, k, "kind")) != NULL && strcmp(s, "Agent") != 0)
		agent_ld_err(l, k, "kind is '%s'; this loader reads kind: Agent", s);
}

/* Find the metadata and spec maps. The Kubernetes shape has metadata/spec; the flat shape has
 * everything at the top. Returns false when the document cannot be read further. */
static bool
load_shape(struct agent_ld *l, const struct ydoc_node *root, const struct ydoc_node **meta,
    const struct ydoc_node **spec)
{
	if (root == NULL || root->type != YDOC_MAP) {
		agent_ld_err(l, root, "an agent file is a mapping (apiVersion, kind, metadata, spec)");
		return false;
	}
	if (ydoc_get(root, "metadata") == NULL && ydoc_get(root, "spec") == NULL) {
		l->def->shape = AGENT_SHAPE_FLAT;
		agent_ld_keys(l, root, flat_keys);
		load_api_version(l, root, false);
		*meta = *spec = root;
		return true;
	}
	l->def->shape = AGENT_SHAPE_K8S;
	agent_ld_keys(l, root, k8s_keys);
	load_api_version(l, root, true);
	*meta = ydoc_get(root, "metadata");
	*spec = ydoc_get(root, "spec");
	if (*meta == NULL)
		agent_ld_err(l, root, "missing required key 'metadata'");
	if (*spec == NULL)
		agent_ld_err(l, root, "missing required key 'spec'");
	if (*meta == NULL || *spec == NULL || !agent_ld_want(l, *meta, YDOC_MAP) ||
	    !agent_ld_want(l, *spec, YDOC_MAP))
		return false;
	agent_ld_keys(l, *meta, meta_keys);
	agent_ld_keys(l, *spec, spec_keys);
	return true;
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= LIM_NAME_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return false;
	return true;
}

/* A text value capped at LIM_AGENT_PROMPT_MAX; trailing newlines of block scalars dropped when
 * trim is set. */
static char *
load_text(struct agent_ld *l, const struct ydoc_node *n, const char *what, bool trim)
{
	const char *s;
	char *p;
	size_t len;

	if ((s = agent_ld_str(l, n, what)) == NULL)
		return NULL;
	if (n->len > LIM_AGENT_PROMPT_MAX) {
		agent_ld_err(l, n, "%s is longer than %u bytes", what, LIM_AGENT_PROMPT_MAX);
		return NULL;
	}
	if ((p = agent_ld_dup(l, s)) == NULL)
		return NULL;
	len = strlen(p);
	while (trim && len > 0 && (p[len - 1] == '\n' || p[len - 1] == ' '))
		p[--len] = '\0';
	return p;
}

static void
load_labels(struct agent_ld *l, const struct ydoc_node *m)
{
	struct agent_def *def = l->def;

	if (m == NULL || !agent_ld_want(l, m, YDOC_MAP))
		return;
	if (m->n > LIM_AGENT_LABELS_MAX) {
		agent_ld_err(l, m, "more than %u labels", LIM_AGENT_LABELS_MAX);
		return;
	}
	def->label_keys = calloc(m->n + 1, sizeof(char *));
	def->label_values = calloc(m->n + 1, sizeof(char *));
	if (def->label_keys == NULL || def->label_values == NULL) {
		l->sys = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < m->n; i++) {
		const char *v = agent_ld_str(l, m->items[i], "a label value");

		if (v == NULL)
			continue;
		def->label_keys[def->nlabels] = agent_ld_dup(l, m->keys[i]->str);
		def->label_values[def->nlabels++] = agent_ld_dup(l, v);
	}
}

static void
load_identity(struct agent_ld *l, const struct ydoc_node *meta, const struct ydoc_node *spec)
{
	const struct ydoc_node *n = ydoc_get(meta, "name"), *md, *sd;
	const char *s;

	if (n == NULL)
		agent_ld_err(l, meta, "missing required key 'name'");
	else if ((s = agent_ld_str(l, n, "name")) != NULL) {
		if (!name_ok(s))
			agent_ld_err(l, n, "agent name '%s' must be 1-%u letters, digits, '.', '_' or '-', "
			    "starting with a letter or digit", s, LIM_NAME_MAX - 1);
		else
			l->def->name = agent_ld_dup(l, s);
	}
	l->def->pos_name = agent_ld_pos(n);
	if ((n = ydoc_get(meta, "namespace")) != NULL && meta != spec)
		agent_ld_warn(l, n, "metadata.namespace is ignored: the supervisor config places the agent "
		    "in a tenant");
	md = ydoc_get(meta, "description");
	sd = meta != spec ? ydoc_get(spec, "description") : NULL;
	if (md != NULL && sd != NULL)
		agent_ld_err(l, sd, "description is given twice (also at line %d)", md->line);
	else if (md != NULL || sd != NULL)
		l->def->description = load_text(l, md ? md : sd, "description", true);
	load_labels(l, ydoc_get(meta, "labels"));
	if ((n = ydoc_get(meta, "annotations")) != NULL)
		agent_ld_want(l, n, YDOC_MAP);
}

/* ---------------------------------------------------------------- model */

static bool
provider_ok(const char *s, size_t n)
{
	if (n == 0 || n >= 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static bool
model_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 256)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]))
			return false;
	return true;
}

static void
model_set(struct agent_ld *l, const struct ydoc_node *at, const char *prov, size_t plen,
    const char *name)
{
	struct agent_model *m = &l->def->model;

	if (!provider_ok(prov, plen)) {
		agent_ld_err(l, at, "model provider '%.*s' must be lowercase letters, digits, '_' or '-'",
		    (int)plen, prov);
		return;
	}
	if (!model_name_ok(name)) {
		agent_ld_err(l, at, "model name '%s' must be 1-255 printable characters without spaces",
		    name);
		return;
	}
	if ((m->provider = strndup(prov, plen)) == NULL || (m->name = agent_ld_dup(l, name)) == NULL)
		l->sys = -ENOMEM;
}

static void
model_temperature(struct agent_ld *l, const struct ydoc_node *n)
{
	struct agent_model *m = &l->def->model;
	double v;

	if (ydoc_double(l->e, l->d, n, &v) < 0) {
		l->bad++;
		return;
	}
	if (v < 0.0 || v > 2.0) {
		agent_ld_err(l, n, "temperature %g is out of range [0, 2]", v);
		return;
	}
	m->temperature = v;
	m->has_temperature = true;
}

static void
model_max_tokens(struct agent_ld *l, const struct ydoc_node *n)
{
	int64_t v;

	if (ydoc_int(l->e, l->d, n, 1, LIM_AGENT_MAX_TOKENS, &v) < 0) {
		l->bad++;
		return;
	}
	l->def->model.max_tokens = v;
}

static void
load_model_map(struct agent_ld *l, const struct ydoc_node *n)
{
	static const char *const keys[] = { "provider", "name", "temperature", "max_tokens",
		NULL };
	const struct ydoc_node *p = ydoc_get(n, "provider"), *nm = ydoc_get(n, "name"), *x;
	const char *ps = NULL, *ns = NULL;

	agent_ld_keys(l, n, keys);
	if (p == NULL)
		agent_ld_err(l, n, "model: missing required key 'provider'");
	else
		ps = agent_ld_str(l, p, "model provider");
	if (nm == NULL)
		agent_ld_err(l, n, "model: missing required key 'name'");
	else
		ns = agent_ld_str(l, nm, "model name");
	if (ps != NULL && ns != NULL)
		model_set(l, p, ps, strlen(ps), ns);
	if ((x = ydoc_get(n, "temperature")) != NULL)
		model_temperature(l, x);
	if ((x = ydoc_get(n, "max_tokens")) != NULL)
		model_max_tokens(l, x);
}

static void
load_model(struct agent_ld *l, const struct ydoc_node *spec)
{
	const struct ydoc_node *n = ydoc_get(spec, "model"), *t, *mt;
	const char *s, *colon;

	l->def->model.pos = agent_ld_pos(n);
	if (n == NULL) {
		agent_ld_err(l, spec, "missing required key 'model' (provider:name, e.g. "
		    "google:gemini-2.5-flash)");
	} else if (n->type == YDOC_MAP) {
		load_model_map(l, n);
	} else if ((s = agent_ld_str(l, n, "model")) != NULL) {
		if ((colon = strchr(s, ':')) == NULL)
			agent_ld_err(l, n, "model '%s' must be provider:name (e.g. google:%s)", s, s);
		else
			model_set(l, n, s, (size_t)(colon - s), colon + 1);
	}
	/* AOF's string form keeps temperature and max_tokens beside model. */
	t = ydoc_get(spec, "temperature");
	mt = ydoc_get(spec, "max_tokens");
	if (t != NULL && ydoc_get(n, "temperature") != NULL)
		agent_ld_err(l, t, "temperature is given twice (also in model:)");
	else if (t != NULL)
		model_temperature(l, t);
	if (mt != NULL && ydoc_get(n, "max_tokens") != NULL)
		agent_ld_err(l, mt, "max_tokens is given twice (also in model:)");
	else if (mt != NULL)
		model_max_tokens(l, mt);
}

/* ---------------------------------------------------------------- prompt, iterations, memory */

static void
load_prompt(struct agent_ld *l, const struct ydoc_node *spec)
{
	const struct ydoc_node *sp = ydoc_get(spec, "system_prompt");
	const struct ydoc_node *in = ydoc_get(spec, "instructions");

	if (sp != NULL && in != NULL) {
		agent_ld_err(l, in, "system_prompt (line %d) and instructions are the same thing; "
		    "give one", sp->line);
		return;
	}
	if (sp == NULL)
		sp = in;
	l->def->pos_prompt = agent_ld_pos(sp);
	if (sp == NULL || ydoc_is_null(sp))
		l->def->system_prompt = agent_ld_dup(l, "");
	else
		l->def->system_prompt = load_text(l, sp, "system_prompt", false);
}

static void
load_iterations(struct agent_ld *l, const struct ydoc_node *spec)
{
	const struct ydoc_node *n = ydoc_get(spec, "max_iterations");
	int64_t v;

	l->def->max_iterations = LIM_AGENT_ITER_DEFAULT;
	l->def->pos_max_iterations = agent_ld_pos(n);
	if (n == NULL)
		return;
	if (ydoc_int(l->e, l->d, n, 1, LIM_AGENT_ITER_MAX, &v) < 0)
		l->bad++;
	else
		l->def->max_iterations = (int)v;
}

static const char *const mem_names[] = { "in_memory", "sqlite", "file" };

const char *
agent_mem_provider_name(enum agent_mem_provider p)
{
	return (unsigned)p < 3 ? mem_names[p] : "?";
}

/* Memory lives in corral's state directory for the agent (the confined agent has no
 * filesystem), so the path must stay inside it: relative, no "..". */
static void
memory_set(struct agent_ld *l, const struct ydoc_node *at, const struct ydoc_node *pat,
    const char *prov, size_t plen, const char *path)
{
	struct agent_memory *m = &l->def->memory;
	unsigned i;

	for (i = 0; i < 3; i++)
		if (strlen(mem_names[i]) == plen && strncmp(mem_names[i], prov, plen) == 0)
			break;
	if (i == 3) {
		agent_ld_err(l, at, "memory provider '%.*s' is not one of sqlite, file, in_memory",
		    (int)plen, prov);
		return;
	}
	m->provider = (enum agent_mem_provider)i;
	if (m->provider == AGENT_MEM_IN_MEMORY) {
		if (path != NULL)
			agent_ld_err(l, pat, "memory provider in_memory takes no path");
		return;
	}
	if (path == NULL || *path == '\0') {
		agent_ld_err(l, at, "memory provider %s needs a path (config: {path: ...})", mem_names[i]);
		return;
	}
	if (path[0] == '/' || strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0 ||
	    strstr(path, "/../") != NULL || (strlen(path) >= 3 &&
	    strcmp(path + strlen(path) - 3, "/..") == 0) || strlen(path) > 255) {
		agent_ld_err(l, pat, "memory path '%s' must be relative and stay inside the agent's state "
		    "directory (no '..', at most 255 bytes)", path);
		return;
	}
	m->path = agent_ld_dup(l, path);
}

static void
load_memory_map(struct agent_ld *l, const struct ydoc_node *n)
{
	static const char *const keys[] = { "provider", "config", NULL };
	static const char *const ckeys[] = { "path", NULL };
	const struct ydoc_node *p = ydoc_get(n, "provider"), *c = ydoc_get(n, "config");
	const struct ydoc_node *pa = NULL;
	const char *ps, *path = NULL;

	agent_ld_keys(l, n, keys);
	if (p == NULL) {
		agent_ld_err(l, n, "memory: missing required key 'provider' (sqlite, file, in_memory)");
		return;
	}
	if ((ps = agent_ld_str(l, p, "memory provider")) == NULL)
		return;
	if (c != NULL && !ydoc_is_null(c)) {
		if (!agent_ld_want(l, c, YDOC_MAP))
			return;
		agent_ld_keys(l, c, ckeys);
		if ((pa = ydoc_get(c, "path")) != NULL &&
		    (path = agent_ld_str(l, pa, "memory path")) == NULL)
			return;
	}
	memory_set(l, p, pa ? pa : p, ps, strlen(ps), path);
}

/* memory: in_memory | sqlite:PATH | file:PATH | {provider, config: {path}} */
static void
load_memory(struct agent_ld *l, const struct ydoc_node *spec)
{
	const struct ydoc_node *n = ydoc_get(spec, "memory");
	const char *s, *colon;

	l->def->memory.provider = AGENT_MEM_IN_MEMORY;
	l->def->memory.pos = agent_ld_pos(n);
	if (n == NULL || ydoc_is_null(n))
		return;
	if (n->type == YDOC_MAP) {
		load_memory_map(l, n);
		return;
	}
	if ((s = agent_ld_str(l, n, "memory")) == NULL)
		return;
	colon = strchr(s, ':');
	memory_set(l, n, n, s, colon ? (size_t)(colon - s) : strlen(s), colon ? colon + 1 : NULL);
}

/* ---------------------------------------------------------------- public */

static void
load_doc(struct agent_ld *l)
{
	const struct ydoc_node *meta = NULL, *spec = NULL;

	if (!load_shape(l, l->d->root, &meta, &spec))
		return;
	load_identity(l, meta, spec);
	load_model(l, spec);
	load_prompt(l, spec);
	load_iterations(l, spec);
	load_memory(l, spec);
	if ((l->def->config = json_object()) == NULL) {
		l->sys = -ENOMEM;
		return;
	}
	agent_ld_config(l, ydoc_get(spec, "config"), "config");
	agent_ld_config(l, ydoc_get(spec, "environment"), "environment");
	agent_ld_tools(l, spec);
}

static int
load_common(struct ydoc *d, const struct agent_load_opts *opts, struct agent_def **out,
    struct ydoc_errs *errs)
{
	struct ydoc_errs local = { 0 };
	struct agent_ld l = { .d = d, .e = errs ? errs : &local, .o = opts };
	int r;

	if ((l.def = calloc(1, sizeof(*l.def))) == NULL ||
	    (l.def->file = strdup(d->file)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	load_doc(&l);
	if (l.sys < 0) {
		r = l.sys;
		goto out;
	}
	if (l.bad > 0) {
		r = ERR_CONFIG;
		goto out;
	}
	*out = l.def;
	l.def = NULL;
	r = 0;
out:
	agent_def_free(l.def);
	ydoc_errs_free(&local);
	return r;
}

int
agent_load_mem(const char *name, const char *buf, size_t len,
    const struct agent_load_opts *opts, struct agent_def **out, struct ydoc_errs *errs)
{
	struct ydoc *d;
	int r;

	if ((r = ydoc_load_mem(name, buf, len, &d, errs)) < 0)
		return r;
	r = load_common(d, opts, out, errs);
	ydoc_free(d);
	return r;
}

int
agent_load_file(const char *path, const struct agent_load_opts *opts, struct agent_def **out,
    struct ydoc_errs *errs)
{
	struct ydoc *d;
	int r;

	if ((r = ydoc_load_file(path, &d, errs)) < 0)
		return r;
	r = load_common(d, opts, out, errs);
	ydoc_free(d);
	return r;
}

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

void
agent_def_free(struct agent_def *def)
{
	if (def == NULL)
		return;
	free(def->file);
	free(def->api_version);
	free(def->name);
	free(def->description);
	free_strv(def->label_keys, def->nlabels);
	free_strv(def->label_values, def->nlabels);
	free(def->model.provider);
	free(def->model.name);
	free(def->system_prompt);
	free(def->memory.path);
	json_decref(def->config);
	for (size_t i = 0; i < def->ntools; i++) {
		free(def->tools[i].family);
		free_strv(def->tools[i].ops, def->tools[i].nops);
		free_strv(def->tools[i].names, def->tools[i].nnames);
	}
	free(def->tools);
	for (size_t i = 0; i < def->nmissing; i++)
		free(def->missing[i].name);
	free(def->missing);
	free(def);
}

const struct agent_tool *
agent_def_tool(const struct agent_def *def, const char *family)
{
	for (size_t i = 0; def != NULL && family != NULL && i < def->ntools; i++)
		if (strcmp(def->tools[i].family, family) == 0)
			return &def->tools[i];
	return NULL;
}

bool
agent_def_allows(const struct agent_def *def, const char *family, const char *op)
{
	const struct agent_tool *t = agent_def_tool(def, family);

	for (size_t i = 0; t != NULL && op != NULL && i < t->nops; i++)
		if (strcmp(t->ops[i], op) == 0)
			return true;
	return false;
}
