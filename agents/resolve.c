/* Resolving the parts of an agent file that need more than a type check: config values with
 * ${VAR} expansion from the supervisor's allow-list, and tool names mapped onto corral's
 * families and operations (agents/aofmap.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agents/aofmap.h"
#include "agents/loader.h"
#include "agents/loader_int.h"
#include "ipc/err.h"
#include "ipc/limits.h"

/* ---------------------------------------------------------------- config and ${VAR} */

/* Does a variable or key name look like a credential? Names are split into lowercase words at
 * '_', '-', '.' and lower->upper case changes ("apiKey" -> api, key). Credentials are held by
 * corrald and injected per call; an agent never gets one, whatever its file asks for. */
static bool
name_is_secretish(const char *s)
{
	static const char *const words[] = { "token", "secret", "secrets", "password",
		"passwd", "passphrase", "credential", "credentials", "apikey", "privatekey", NULL };
	static const char *const keyprefix[] = { "api", "private", "access", "secret", "signing",
		"ssh", "auth", "client", NULL };
	char w[64], prev[64] = "";
	size_t i = 0, k = 0;

	for (;; i++) {
		bool brk = s[i] == '\0' || strchr("_-.", s[i]) != NULL ||
		    (i > 0 && isupper((unsigned char)s[i]) && islower((unsigned char)s[i - 1]));

		if (brk && k > 0) {
			w[k] = '\0';
			for (size_t j = 0; words[j]; j++)
				if (strcmp(w, words[j]) == 0)
					return true;
			for (size_t j = 0; strcmp(w, "key") == 0 && keyprefix[j]; j++)
				if (strcmp(prev, keyprefix[j]) == 0)
					return true;
			memcpy(prev, w, k + 1);
			k = 0;
		}
		if (s[i] == '\0')
			return false;
		if (isalnum((unsigned char)s[i]) && k < sizeof(w) - 1)
			w[k++] = (char)tolower((unsigned char)s[i]);
	}
}

static const char *
var_lookup(const struct agent_ld *l, const char *name, size_t len)
{
	const struct agent_load_opts *o = l->o;

	for (size_t i = 0; o != NULL && i < o->nvars; i++)
		if (strlen(o->var_names[i]) == len && strncmp(o->var_names[i], name, len) == 0)
			return o->var_values[i];
	return NULL;
}

struct xbuf {
	char *p;
	size_t n;
	bool over;
};

static void
xput(struct xbuf *b, const char *s, size_t n)
{
	if (b->over || b->n + n > LIM_AGENT_VALUE_MAX) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* One ${...} at p (p[0..1] == "${"). Appends its value to b and returns the length consumed;
 * 0 after reporting a malformed reference; -1 when unresolved (warned, entry dropped). */
static long
expand_ref(struct agent_ld *l, const struct ydoc_node *n, const char *key, const char *p,
    struct xbuf *b)
{
	const char *nm = p + 2, *q = nm, *end, *def = NULL, *v;
	char name[128];

	while (isalnum((unsigned char)*q) || *q == '_')
		q++;
	if (q == nm || isdigit((unsigned char)*nm) || (size_t)(q - nm) >= sizeof(name) ||
	    (*q != '}' && strncmp(q, ":-", 2) != 0)) {
		agent_ld_err(l, n, "%s '%s': malformed variable reference (expected ${NAME} or "
		    "${NAME:-default})", l->section, key);
		return 0;
	}
	if (*q == '}') {
		end = q;
	} else if ((end = strchr(def = q + 2, '}')) == NULL) {
		agent_ld_err(l, n, "%s '%s': unterminated ${", l->section, key);
		return 0;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(q - nm), nm);
	if (name_is_secretish(name)) {
		agent_ld_warn(l, n, "%s '%s' dropped: ${%s} names a credential, and corral never "
		    "expands credentials into an agent (corrald injects them per call)", l->section,
		    key, name);
		return -1;
	}
	if ((v = var_lookup(l, nm, (size_t)(q - nm))) != NULL)
		xput(b, v, strlen(v));
	else if (def != NULL)
		xput(b, def, (size_t)(end - def));
	else {
		agent_ld_warn(l, n, "%s '%s' dropped: ${%s} is not in the supervisor's vars: "
		    "allow-list and has no default", l->section, key, name);
		return -1;
	}
	return (long)(end + 1 - p);
}

/* Expand every ${...} of n's text. 0 with *out set; 1 when dropped; < 0 on error. */
static int
expand(struct agent_ld *l, const struct ydoc_node *n, const char *key, json_t **out)
{
	struct xbuf b = { .p = malloc(LIM_AGENT_VALUE_MAX + 1) };
	const char *s = n->str;
	long k;

	if (b.p == NULL)
		return l->sys = -ENOMEM;
	b.p[0] = '\0';
	while (*s != '\0') {
		const char *d = strstr(s, "${");

		xput(&b, s, d ? (size_t)(d - s) : strlen(s));
		if (d == NULL)
			break;
		if ((k = expand_ref(l, n, key, d, &b)) <= 0) {
			free(b.p);
			return k < 0 ? 1 : ERR_CONFIG;
		}
		s = d + k;
	}
	if (b.over) {
		agent_ld_err(l, n, "%s '%s' is longer than %u bytes after expansion", l->section,
		    key, LIM_AGENT_VALUE_MAX);
		free(b.p);
		return ERR_CONFIG;
	}
	*out = json_stringn(b.p, b.n);
	free(b.p);
	if (*out == NULL) {
		agent_ld_err(l, n, "%s '%s' is not valid UTF-8", l->section, key);
		return ERR_CONFIG;
	}
	return 0;
}

/* A plain scalar keeps its YAML type (null, bool, int, float); anything else is a string. */
static json_t *
plain_scalar(const struct ydoc_node *n)
{
	char *end;
	long long iv;
	double dv;

	if (ydoc_is_null(n))
		return json_null();
	if (strcmp(n->str, "true") == 0 || strcmp(n->str, "false") == 0)
		return json_boolean(n->str[0] == 't');
	errno = 0;
	iv = strtoll(n->str, &end, 10);
	if (*end == '\0' && errno == 0)
		return json_integer(iv);
	errno = 0;
	dv = strtod(n->str, &end);
	if (*end == '\0' && errno == 0 && isfinite(dv) && strpbrk(n->str, "0123456789") &&
	    !strpbrk(n->str, "xXpP"))
		return json_real(dv);
	return NULL;
}

/* YAML value -> JSON with ${VAR} expanded in strings. 0 / 1 (dropped) / < 0. */
static int
value_to_json(struct agent_ld *l, const struct ydoc_node *n, const char *key, json_t **out)
{
	json_t *j, *c;
	int r;

	if (n->type == YDOC_SCALAR) {
		if (!n->quoted && (*out = plain_scalar(n)) != NULL)
			return 0;
		return expand(l, n, key, out);
	}
	if ((j = n->type == YDOC_MAP ? json_object() : json_array()) == NULL)
		return l->sys = -ENOMEM;
	for (size_t i = 0; i < n->n; i++) {
		if ((r = value_to_json(l, n->items[i], key, &c)) != 0) {
			json_decref(j);
			return r;
		}
		if ((n->type == YDOC_MAP ? json_object_set_new(j, n->keys[i]->str, c) :
		    json_array_append_new(j, c)) < 0) {
			json_decref(j);
			return l->sys = -ENOMEM;
		}
	}
	*out = j;
	return 0;
}

void
agent_ld_config(struct agent_ld *l, const struct ydoc_node *m, const char *section)
{
	json_t *cfg = l->def->config, *v;

	if (m == NULL || ydoc_is_null(m) || !agent_ld_want(l, m, YDOC_MAP))
		return;
	l->section = section;
	for (size_t i = 0; i < m->n; i++) {
		const char *key = m->keys[i]->str;

		if (json_object_size(cfg) >= LIM_AGENT_CONFIG_MAX) {
			agent_ld_err(l, m->keys[i], "more than %u config entries", LIM_AGENT_CONFIG_MAX);
			return;
		}
		if (json_object_get(cfg, key) != NULL) {
			agent_ld_err(l, m->keys[i], "%s '%s' is also set in the other of config/environment",
			    section, key);
			continue;
		}
		if (name_is_secretish(key)) {
			agent_ld_warn(l, m->keys[i], "%s '%s' dropped: it names a credential, and corral "
			    "never gives credentials to an agent (corrald injects them per call)",
			    section, key);
			continue;
		}
		if (value_to_json(l, m->items[i], key, &v) == 0 &&
		    json_object_set_new(cfg, key, v) < 0)
			l->sys = -ENOMEM;
	}
}

/* ---------------------------------------------------------------- tools */

struct tsel {				/* per family of the table, while resolving */
	uint32_t mask;
	int order;			/* -1 until named */
	struct agent_pos pos;
	char **names;
	size_t nnames;
};

static void
tsel_add(struct agent_ld *l, struct tsel *sel, size_t fi, uint32_t mask, const char *name,
    const struct ydoc_node *at, int *norder)
{
	struct tsel *t = &sel[fi];
	char **nn;

	if (t->order < 0) {
		t->order = (*norder)++;
		t->pos = agent_ld_pos(at);
	}
	t->mask |= mask;
	for (size_t i = 0; i < t->nnames; i++)
		if (strcmp(t->names[i], name) == 0)
			return;
	if ((nn = realloc(t->names, (t->nnames + 1) * sizeof(*nn))) == NULL) {
		l->sys = -ENOMEM;
		return;
	}
	t->names = nn;
	if ((nn[t->nnames] = agent_ld_dup(l, name)) != NULL)
		t->nnames++;
}

static void
tool_missing(struct agent_ld *l, const char *name, const struct ydoc_node *at)
{
	struct agent_def *def = l->def;
	struct agent_missing *m;

	if (l->o == NULL || !l->o->missing_tools_warn) {
		agent_ld_err(l, at, "tool '%s' is not provided by corral (set missing_tools: warn to load "
		    "without it)", name);
		return;
	}
	agent_ld_warn(l, at, "tool '%s' is not provided by corral; loading the agent without it", name);
	for (size_t i = 0; i < def->nmissing; i++)
		if (strcmp(def->missing[i].name, name) == 0)
			return;
	if ((m = realloc(def->missing, (def->nmissing + 1) * sizeof(*m))) == NULL) {
		l->sys = -ENOMEM;
		return;
	}
	def->missing = m;
	m[def->nmissing].pos = agent_ld_pos(at);
	if ((m[def->nmissing].name = agent_ld_dup(l, name)) != NULL)
		def->nmissing++;
}

static size_t
fam_index(const struct agent_fam *f)
{
	size_t n;

	return (size_t)(f - agent_fams(&n));
}

static uint32_t
ops_mask(const struct agent_fam *f, const char *const *ops)
{
	uint32_t m = 0;

	for (size_t i = 0; ops[i] != NULL; i++) {
		int k = agent_fam_op_index(f, ops[i]);

		if (k >= 0)	/* the AOF table names only real ops; tests/agents checks it */
			m |= 1u << k;
	}
	return m;
}

/* family.op */
static void
tool_dotted(struct agent_ld *l, struct tsel *sel, int *norder, const char *s,
    const struct ydoc_node *at)
{
	const char *dot = strchr(s, '.');
	char fam[LIM_NAME_MAX];
	const struct agent_fam *f;
	int oi;

	snprintf(fam, sizeof(fam), "%.*s", (int)(dot - s), s);
	if ((f = agent_fam_find(fam)) == NULL) {
		tool_missing(l, s, at);
		return;
	}
	if ((oi = agent_fam_op_index(f, dot + 1)) < 0) {
		agent_ld_err(l, at, "tool family '%s' has no operation '%s'", fam, dot + 1);
		return;
	}
	tsel_add(l, sel, fam_index(f), 1u << oi, s, at, norder);
}

static void
tool_name(struct agent_ld *l, struct tsel *sel, int *norder, const struct ydoc_node *n)
{
	const struct agent_fam *f;
	const struct agent_aof *a;
	const char *s;

	if ((s = agent_ld_str(l, n, "a tool name")) == NULL)
		return;
	if (strchr(s, '.') != NULL) {
		tool_dotted(l, sel, norder, s, n);
	} else if ((f = agent_fam_find(s)) != NULL) {
		tsel_add(l, sel, fam_index(f), (1u << agent_fam_nops(f)) - 1, s, n, norder);
	} else if ((a = agent_aof_find(s)) != NULL) {
		f = agent_fam_find(a->family);
		tsel_add(l, sel, fam_index(f), ops_mask(f, a->ops), s, n, norder);
	} else {
		tool_missing(l, s, n);
	}
}

/* {family: [op, ...]} or {family: op} */
static void
tool_map(struct agent_ld *l, struct tsel *sel, int *norder, const struct ydoc_node *n)
{
	const struct ydoc_node *k, *v;
	const struct agent_fam *f;
	char name[2 * LIM_NAME_MAX];

	if (n->n != 1) {
		agent_ld_err(l, n, "a tool given as a mapping has one key, its family: {argocd: [ops]}");
		return;
	}
	k = n->keys[0];
	v = n->items[0];
	if ((f = agent_fam_find(k->str)) == NULL) {
		tool_missing(l, k->str, k);
		return;
	}
	if (v->type == YDOC_MAP || ydoc_is_null(v)) {
		agent_ld_err(l, v, "expected the operations of '%s' (a name or a list of names)", k->str);
		return;
	}
	for (size_t i = 0; i < (v->type == YDOC_SEQ ? v->n : 1); i++) {
		const struct ydoc_node *o = v->type == YDOC_SEQ ? v->items[i] : v;
		const char *os = agent_ld_str(l, o, "an operation name");

		if (os == NULL)
			continue;
		snprintf(name, sizeof(name), "%s.%s", k->str, os);
		tool_dotted(l, sel, norder, name, o);
	}
}

static void
tools_collect(struct agent_ld *l, struct tsel *sel, size_t nf, int norder)
{
	struct agent_def *def = l->def;

	if (norder == 0)
		return;
	if ((def->tools = calloc((size_t)norder, sizeof(*def->tools))) == NULL) {
		l->sys = -ENOMEM;
		return;
	}
	def->ntools = (size_t)norder;
	for (size_t fi = 0; fi < nf; fi++) {
		const struct agent_fam *f = &agent_fams(&(size_t){ 0 })[fi];
		struct agent_tool *t;

		if (sel[fi].order < 0)
			continue;
		t = &def->tools[sel[fi].order];
		t->family = agent_ld_dup(l, f->name);
		t->pos = sel[fi].pos;
		t->names = sel[fi].names;
		t->nnames = sel[fi].nnames;
		sel[fi].names = NULL;
		sel[fi].nnames = 0;
		if ((t->ops = calloc(agent_fam_nops(f) + 1, sizeof(char *))) == NULL) {
			l->sys = -ENOMEM;
			continue;
		}
		for (size_t i = 0; f->ops[i] != NULL; i++)
			if (sel[fi].mask & (1u << i))
				t->ops[t->nops++] = agent_ld_dup(l, f->ops[i]);
	}
}

void
agent_ld_tools(struct agent_ld *l, const struct ydoc_node *spec)
{
	const struct ydoc_node *n = ydoc_get(spec, "tools");
	struct tsel *sel;
	size_t nf;
	int norder = 0;

	l->def->pos_tools = agent_ld_pos(n);
	if (n == NULL || ydoc_is_null(n) || !agent_ld_want(l, n, YDOC_SEQ))
		return;
	if (n->n > LIM_AGENT_TOOLS_MAX) {
		agent_ld_err(l, n, "more than %u tools", LIM_AGENT_TOOLS_MAX);
		return;
	}
	agent_fams(&nf);
	if ((sel = calloc(nf, sizeof(*sel))) == NULL) {
		l->sys = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < nf; i++)
		sel[i].order = -1;
	for (size_t i = 0; i < n->n; i++) {
		if (n->items[i]->type == YDOC_MAP)
			tool_map(l, sel, &norder, n->items[i]);
		else
			tool_name(l, sel, &norder, n->items[i]);
	}
	tools_collect(l, sel, nf, norder);
	for (size_t i = 0; i < nf; i++) {
		for (size_t j = 0; j < sel[i].nnames; j++)
			free(sel[i].names[j]);
		free(sel[i].names);
	}
	free(sel);
}

