/* corral.yaml loader: ydoc tree -> struct config, every problem reported with its position. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/config.h"

#ifndef CORRAL_LIBEXECDIR
#define CORRAL_LIBEXECDIR "/usr/libexec/corral"
#endif

struct ld {
	struct config *c;
	struct ydoc *d;
	struct ydoc_errs *e;
};

#define GROW(arr, n) \
	((arr) = reallocarray((arr), (n) + 1, sizeof(*(arr))), \
	 (arr) ? (memset(&(arr)[(n)], 0, sizeof(*(arr))), 0) : -ENOMEM)

/* A path from the file: relative ones are taken from the file's directory. */
static char *
resolve_path(const struct config *c, const char *p)
{
	char *out;

	if (p == NULL)
		return NULL;
	if (p[0] == '/')
		return strdup(p);
	if (asprintf(&out, "%s/%s", c->dir, p) < 0)
		return NULL;
	return out;
}

/* Read the scalar at key into *dst (strdup). Absent: leaves *dst; required -> error. */
static int
get_str(struct ld *l, const struct ydoc_node *m, const char *key, bool required, char **dst)
{
	struct ydoc_node *n = ydoc_get(m, key);
	const char *s;

	if (n == NULL || ydoc_is_null(n)) {
		if (required) {
			ydoc_errf(l->e, l->d, m, "missing required key '%s'", key);
			return ERR_MISSING;
		}
		return 0;
	}
	if (ydoc_str(l->e, l->d, n, &s) < 0)
		return ERR_TYPE;
	free(*dst);
	if ((*dst = strdup(s)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
get_path(struct ld *l, const struct ydoc_node *m, const char *key, bool required, char **dst)
{
	char *raw = NULL;
	int r;

	if ((r = get_str(l, m, key, required, &raw)) < 0 || raw == NULL)
		return r;
	free(*dst);
	*dst = resolve_path(l->c, raw);
	free(raw);
	return *dst ? 0 : -ENOMEM;
}

static int
get_bool(struct ld *l, const struct ydoc_node *m, const char *key, bool *dst)
{
	struct ydoc_node *n = ydoc_get(m, key);

	return n ? ydoc_bool(l->e, l->d, n, dst) : 0;
}

static int
get_ms(struct ld *l, const struct ydoc_node *m, const char *key, uint32_t *dst)
{
	struct ydoc_node *n = ydoc_get(m, key);
	int64_t v;

	if (n == NULL)
		return 0;
	if (ydoc_duration_ms(l->e, l->d, n, &v) < 0)
		return ERR_TYPE;
	if (v <= 0 || v > 86400000) {
		ydoc_errf(l->e, l->d, n, "duration out of range (1ms..24h)");
		return ERR_TOOBIG;
	}
	*dst = (uint32_t)v;
	return 0;
}

static int
get_str_list(struct ld *l, const struct ydoc_node *m, const char *key, char ***out, size_t *n)
{
	struct ydoc_node *s = ydoc_get(m, key);
	const char *v;

	if (s == NULL)
		return 0;
	if (ydoc_want(l->e, l->d, s, YDOC_SEQ) < 0)
		return ERR_TYPE;
	for (size_t i = 0; i < s->n; i++) {
		if (ydoc_str(l->e, l->d, s->items[i], &v) < 0)
			continue;
		if (GROW(*out, *n) < 0 || ((*out)[*n] = strdup(v)) == NULL)
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

static int
check_name(struct ld *l, const struct ydoc_node *at, const char *what, const char *s)
{
	if (s != NULL && !name_ok(s)) {
		ydoc_errf(l->e, l->d, at, "%s '%s' must be 1-63 characters of [A-Za-z0-9_-]", what,
		    s);
		return ERR_CONFIG;
	}
	return 0;
}

/* ---------------------------------------------------------------- sections */

static int
load_limits(struct ld *l, const struct ydoc_node *m, struct cfg_limits *lim)
{
	static const char *const keys[] = { "memory", "pids", "nofile", "fsize", "tokens_per_day",
		NULL };
	struct ydoc_node *n;
	int64_t v;

	if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
		return ERR_TYPE;
	ydoc_check_keys(l->e, l->d, m, keys);
	if ((n = ydoc_get(m, "memory")) != NULL)
		ydoc_size(l->e, l->d, n, &lim->memory);
	if ((n = ydoc_get(m, "fsize")) != NULL)
		ydoc_size(l->e, l->d, n, &lim->fsize);
	if ((n = ydoc_get(m, "pids")) != NULL && ydoc_int(l->e, l->d, n, 1, 65536, &v) == 0)
		lim->pids = (uint32_t)v;
	/* below the exec slots (fd 1000+), which must stay out of reach */
	if ((n = ydoc_get(m, "nofile")) != NULL && ydoc_int(l->e, l->d, n, 16, 900, &v) == 0)
		lim->nofile = (uint32_t)v;
	if ((n = ydoc_get(m, "tokens_per_day")) != NULL &&
	    ydoc_int(l->e, l->d, n, 0, INT64_MAX, &v) == 0)
		lim->tokens_per_day = (uint64_t)v;
	return 0;
}

/* uids: FIRST-LAST: every worker of the tenant gets a uid of its own from the range (its
 * gid the same number unless gid: names a shared one). */
static void
load_uid_range(struct ld *l, const struct ydoc_node *t, const struct ydoc_node *n,
    struct cfg_tenant *ten)
{
	unsigned long lo, hi;
	char *end;

	if (ydoc_get(t, "uid") != NULL) {
		ydoc_errf(l->e, l->d, n, "uid and uids exclude each other");
		return;
	}
	if (n->type != YDOC_SCALAR) {
		ydoc_errf(l->e, l->d, n, "uids must be FIRST-LAST (e.g. 41100-41163)");
		return;
	}
	errno = 0;
	lo = strtoul(n->str, &end, 10);
	if (*end == '-')
		hi = strtoul(end + 1, &end, 10);
	else
		hi = 0;
	if (errno || *end || !isdigit((unsigned char)n->str[0]) || lo == 0 || hi < lo ||
	    hi > 4294967294UL || hi - lo >= LIM_TENANT_UIDS) {
		ydoc_errf(l->e, l->d, n, "uids must be FIRST-LAST, 0 < FIRST <= LAST, at most %u uids",
		    LIM_TENANT_UIDS);
		return;
	}
	ten->uid = (uid_t)lo;
	ten->uid_last = (uid_t)hi;
}

static int
load_tenants(struct ld *l, const struct ydoc_node *m)
{
	static const char *const keys[] = { "uid", "uids", "gid", "limits", "families", NULL };
	struct config *c = l->c;

	if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
		return ERR_TYPE;
	for (size_t i = 0; i < m->n; i++) {
		struct ydoc_node *t = m->items[i], *n;
		struct cfg_tenant *ten;
		int64_t v;

		if (GROW(c->tenants, c->ntenants) < 0)
			return -ENOMEM;
		ten = &c->tenants[c->ntenants++];
		ten->name = strdup(m->keys[i]->str);
		ten->line = m->keys[i]->line;
		ten->col = m->keys[i]->col;
		check_name(l, m->keys[i], "tenant name", ten->name);
		if (ydoc_is_null(t))
			continue;
		if (ydoc_want(l->e, l->d, t, YDOC_MAP) < 0)
			continue;
		ydoc_check_keys(l->e, l->d, t, keys);
		if ((n = ydoc_get(t, "uid")) != NULL && ydoc_int(l->e, l->d, n, 1, 4294967294LL, &v) == 0)
			ten->uid = (uid_t)v;
		if ((n = ydoc_get(t, "uids")) != NULL)
			load_uid_range(l, t, n, ten);
		ten->gid = ten->uid;
		if ((n = ydoc_get(t, "gid")) != NULL && ydoc_int(l->e, l->d, n, 1, 4294967294LL, &v) == 0) {
			ten->gid = (gid_t)v;
			ten->gid_set = true;
		}
		if ((n = ydoc_get(t, "limits")) != NULL)
			load_limits(l, n, &ten->limits);
		get_str_list(l, t, "families", &ten->families, &ten->nfamilies);
		for (size_t j = 0; j < ten->nfamilies; j++)
			if (tool_family_find(ten->families[j]) == NULL)
				ydoc_errf(l->e, l->d, ydoc_get(t, "families")->items[j],
				    "unknown tool family '%s'", ten->families[j]);
	}
	return 0;
}

static int
load_credentials(struct ld *l, const struct ydoc_node *s)
{
	static const char *const keys[] = { "name", "tenant", "source", NULL };
	struct config *c = l->c;

	if (ydoc_want(l->e, l->d, s, YDOC_SEQ) < 0)
		return ERR_TYPE;
	for (size_t i = 0; i < s->n; i++) {
		struct ydoc_node *m = s->items[i];
		struct cfg_credential *cr;

		if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
			continue;
		if (GROW(c->creds, c->ncreds) < 0)
			return -ENOMEM;
		cr = &c->creds[c->ncreds++];
		cr->line = m->line;
		cr->col = m->col;
		ydoc_check_keys(l->e, l->d, m, keys);
		get_str(l, m, "name", true, &cr->name);
		get_str(l, m, "tenant", true, &cr->tenant);
		get_str(l, m, "source", true, &cr->source);
		if (cr->source && strncmp(cr->source, "file:", 5) != 0 &&
		    strncmp(cr->source, "env:", 4) != 0)
			ydoc_errf(l->e, l->d, ydoc_get(m, "source"),
			    "credential source must be file:PATH or env:NAME");
		if (cr->source && strncmp(cr->source, "file:", 5) == 0 && cr->source[5] != '/') {
			char *abs = resolve_path(c, cr->source + 5), *full = NULL;

			if (abs && asprintf(&full, "file:%s", abs) >= 0) {
				free(cr->source);
				cr->source = full;
			}
			free(abs);
		}
	}
	return 0;
}

static int
load_endpoint(struct ld *l, const char *family, const struct ydoc_node *m)
{
	static const char *const keys[] = { "name", "tenant", "url", "credential", "ca_file",
		"user", "kubeconfig", "context", "redirect_hosts", "allow_private",
		"allow_exec_plugins", "timeout", "connect_timeout", NULL };
	struct config *c = l->c;
	struct cfg_endpoint *ep;

	if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
		return ERR_TYPE;
	if (GROW(c->endpoints, c->nendpoints) < 0)
		return -ENOMEM;
	ep = &c->endpoints[c->nendpoints++];
	ep->family = strdup(family);
	ep->line = m->line;
	ep->col = m->col;
	ydoc_check_keys(l->e, l->d, m, keys);
	get_str(l, m, "name", true, &ep->name);
	check_name(l, ydoc_get(m, "name"), "endpoint name", ep->name);
	get_str(l, m, "tenant", false, &ep->tenant);
	get_str(l, m, "url", false, &ep->url);
	get_str(l, m, "credential", false, &ep->credential);
	get_path(l, m, "ca_file", false, &ep->ca_file);
	get_str(l, m, "user", false, &ep->user);
	get_path(l, m, "kubeconfig", false, &ep->kubeconfig);
	get_str(l, m, "context", false, &ep->context);
	get_str_list(l, m, "redirect_hosts", &ep->redirect_hosts, &ep->nredirect_hosts);
	get_bool(l, m, "allow_private", &ep->allow_private);
	get_bool(l, m, "allow_exec_plugins", &ep->allow_exec_plugins);
	get_ms(l, m, "timeout", &ep->timeout_ms);
	get_ms(l, m, "connect_timeout", &ep->connect_timeout_ms);
	if (ep->url && strncmp(ep->url, "https://", 8) != 0 && strncmp(ep->url, "http://", 7) != 0)
		ydoc_errf(l->e, l->d, ydoc_get(m, "url"), "url must start with https:// or http://");
	if (ep->url && strlen(ep->url) > 1024)
		ydoc_errf(l->e, l->d, ydoc_get(m, "url"), "url longer than 1024 bytes");
	return 0;
}

static int
load_endpoints(struct ld *l, const struct ydoc_node *m)
{
	if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
		return ERR_TYPE;
	for (size_t i = 0; i < m->n; i++) {
		const char *fam = m->keys[i]->str;
		struct ydoc_node *s = m->items[i];

		if (tool_family_find(fam) == NULL) {
			ydoc_errf(l->e, l->d, m->keys[i], "unknown tool family '%s'", fam);
			continue;
		}
		if (ydoc_want(l->e, l->d, s, YDOC_SEQ) < 0)
			continue;
		for (size_t j = 0; j < s->n; j++)
			load_endpoint(l, fam, s->items[j]);
	}
	return 0;
}

static int
load_models(struct ld *l, const struct ydoc_node *s)
{
	static const char *const keys[] = { "name", "provider", "base_url", "model", "credential",
		"script", "api_version", "allow_private", NULL };
	static const char *const providers[] = { "openai", "anthropic", "google", "script", NULL };
	struct config *c = l->c;

	if (ydoc_want(l->e, l->d, s, YDOC_SEQ) < 0)
		return ERR_TYPE;
	for (size_t i = 0; i < s->n; i++) {
		struct ydoc_node *m = s->items[i];
		struct cfg_model *mo;
		size_t k;

		if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
			continue;
		if (GROW(c->models, c->nmodels) < 0)
			return -ENOMEM;
		mo = &c->models[c->nmodels++];
		mo->line = m->line;
		mo->col = m->col;
		ydoc_check_keys(l->e, l->d, m, keys);
		get_str(l, m, "name", true, &mo->name);
		get_str(l, m, "provider", true, &mo->provider);
		get_str(l, m, "base_url", false, &mo->base_url);
		get_str(l, m, "model", false, &mo->model);
		get_str(l, m, "credential", false, &mo->credential);
		get_path(l, m, "script", false, &mo->script);
		get_str(l, m, "api_version", false, &mo->api_version);
		get_bool(l, m, "allow_private", &mo->allow_private);
		for (k = 0; mo->provider && providers[k]; k++)
			if (strcmp(providers[k], mo->provider) == 0)
				break;
		if (mo->provider && providers[k] == NULL)
			ydoc_errf(l->e, l->d, ydoc_get(m, "provider"),
			    "unknown provider '%s' (openai, anthropic, google, script)", mo->provider);
		if (mo->provider && strcmp(mo->provider, "script") == 0 && mo->script == NULL)
			ydoc_errf(l->e, l->d, m, "the script provider needs 'script: FILE'");
		if (mo->provider && strcmp(mo->provider, "script") != 0 && mo->base_url == NULL)
			ydoc_errf(l->e, l->d, m, "provider '%s' needs 'base_url'", mo->provider);
	}
	return 0;
}

static int
load_agents(struct ld *l, const struct ydoc_node *s)
{
	static const char *const keys[] = { "file", "name", "tenant", "model", "exec",
		"protocol", "missing_tools", NULL };
	struct config *c = l->c;

	if (ydoc_want(l->e, l->d, s, YDOC_SEQ) < 0)
		return ERR_TYPE;
	for (size_t i = 0; i < s->n; i++) {
		struct ydoc_node *m = s->items[i], *mt;
		struct cfg_agent *a;

		if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
			continue;
		if (GROW(c->agents, c->nagents) < 0)
			return -ENOMEM;
		a = &c->agents[c->nagents++];
		a->line = m->line;
		a->col = m->col;
		ydoc_check_keys(l->e, l->d, m, keys);
		get_path(l, m, "file", false, &a->file);
		get_str(l, m, "name", false, &a->name);
		check_name(l, ydoc_get(m, "name"), "agent name", a->name);
		get_str(l, m, "tenant", true, &a->tenant);
		get_str(l, m, "model", false, &a->model);
		get_path(l, m, "exec", false, &a->exec);
		if ((mt = ydoc_get(m, "missing_tools")) != NULL) {
			if (mt->type == YDOC_SCALAR && strcmp(mt->str, "warn") == 0)
				a->missing_tools_warn = true;
			else if (!(mt->type == YDOC_SCALAR && strcmp(mt->str, "error") == 0))
				ydoc_errf(l->e, l->d, mt, "missing_tools must be 'warn' or 'error'");
		}
		if (a->file == NULL && a->exec == NULL)
			ydoc_errf(l->e, l->d, m, "an agent needs 'file' (agent YAML) or 'exec'");
		if (a->exec != NULL && a->name == NULL)
			ydoc_errf(l->e, l->d, m, "an 'exec' agent needs a 'name'");
		if ((mt = ydoc_get(m, "protocol")) != NULL) {
			/* external programs: corral's ipc protocol on /ipc/sock, or MCP on stdio */
			if (mt->type == YDOC_SCALAR && strcmp(mt->str, "mcp") == 0)
				a->protocol = CFG_PROTO_MCP;
			else if (!(mt->type == YDOC_SCALAR && strcmp(mt->str, "ipc") == 0))
				ydoc_errf(l->e, l->d, mt, "protocol must be 'ipc' or 'mcp'");
			if (a->exec == NULL)
				ydoc_errf(l->e, l->d, mt, "'protocol' is for 'exec' agents only");
		}
	}
	return 0;
}

static int
load_audit(struct ld *l, const struct ydoc_node *m)
{
	static const char *const keys[] = { "path", "fsync", "rotate_size", "checkpoint_every",
		"reads_when_failed", NULL };
	struct ydoc_node *n;
	int64_t v;

	if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
		return ERR_TYPE;
	ydoc_check_keys(l->e, l->d, m, keys);
	get_path(l, m, "path", false, &l->c->audit_path);
	if ((n = ydoc_get(m, "fsync")) != NULL) {
		if (n->type == YDOC_SCALAR && strcmp(n->str, "every") == 0)
			l->c->audit_fsync = CFG_FSYNC_EVERY;
		else if (n->type == YDOC_SCALAR && strcmp(n->str, "batch") == 0)
			l->c->audit_fsync = CFG_FSYNC_BATCH;
		else if (n->type == YDOC_SCALAR && strcmp(n->str, "none") == 0)
			l->c->audit_fsync = CFG_FSYNC_NONE;
		else
			ydoc_errf(l->e, l->d, n, "fsync must be every, batch or none");
	}
	if ((n = ydoc_get(m, "rotate_size")) != NULL)
		ydoc_size(l->e, l->d, n, &l->c->audit_rotate_size);
	if ((n = ydoc_get(m, "checkpoint_every")) != NULL &&
	    ydoc_int(l->e, l->d, n, 1, 1000000, &v) == 0)
		l->c->audit_checkpoint_every = (uint32_t)v;
	if ((n = ydoc_get(m, "reads_when_failed")) != NULL) {
		if (n->type == YDOC_SCALAR && strcmp(n->str, "allow") == 0)
			l->c->audit_fail_open_reads = true;
		else if (n->type == YDOC_SCALAR && strcmp(n->str, "deny") == 0)
			l->c->audit_fail_open_reads = false;
		else
			ydoc_errf(l->e, l->d, n, "reads_when_failed must be allow or deny");
	}
	return 0;
}

static int
load_role(struct ld *l, const struct ydoc_node *m, enum cfg_role_kind kind)
{
	static const char *const keys[] = { "uids", "groups", "tenant", "name", NULL };
	struct config *c = l->c;
	struct cfg_role *ro;
	struct ydoc_node *u;

	if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
		return ERR_TYPE;
	if (GROW(c->roles, c->nroles) < 0)
		return -ENOMEM;
	ro = &c->roles[c->nroles++];
	ro->kind = kind;
	ydoc_check_keys(l->e, l->d, m, keys);
	if ((u = ydoc_get(m, "uids")) != NULL && ydoc_want(l->e, l->d, u, YDOC_SEQ) == 0) {
		for (size_t i = 0; i < u->n; i++) {
			int64_t v;

			if (ydoc_int(l->e, l->d, u->items[i], 0, 4294967294LL, &v) < 0)
				continue;
			if (GROW(ro->uids, ro->nuids) < 0)
				return -ENOMEM;
			ro->uids[ro->nuids++] = (uid_t)v;
		}
	}
	get_str_list(l, m, "groups", &ro->groups, &ro->ngroups);
	get_str(l, m, "tenant", kind != ROLE_ADMIN, &ro->tenant);
	get_str(l, m, "name", kind == ROLE_OPERATOR, &ro->name);
	check_name(l, ydoc_get(m, "name"), "operator name", ro->name);
	return 0;
}

static int
load_control(struct ld *l, const struct ydoc_node *m)
{
	static const char *const keys[] = { "socket", "admins", "operators", "viewers", NULL };
	struct ydoc_node *n;

	if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
		return ERR_TYPE;
	ydoc_check_keys(l->e, l->d, m, keys);
	get_path(l, m, "socket", false, &l->c->control_socket);
	if ((n = ydoc_get(m, "admins")) != NULL)
		load_role(l, n, ROLE_ADMIN);
	for (int k = 0; k < 2; k++) {
		const char *key = k == 0 ? "operators" : "viewers";

		if ((n = ydoc_get(m, key)) == NULL)
			continue;
		if (ydoc_want(l->e, l->d, n, YDOC_SEQ) < 0)
			continue;
		for (size_t i = 0; i < n->n; i++)
			load_role(l, n->items[i], k == 0 ? ROLE_OPERATOR : ROLE_VIEWER);
	}
	return 0;
}

static int
load_vars(struct ld *l, const struct ydoc_node *m)
{
	struct config *c = l->c;

	if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
		return ERR_TYPE;
	for (size_t i = 0; i < m->n; i++) {
		const char *v;

		if (ydoc_str(l->e, l->d, m->items[i], &v) < 0)
			continue;
		if (GROW(c->var_names, c->nvars) < 0 || GROW(c->var_values, c->nvars) < 0)
			return -ENOMEM;
		c->var_names[c->nvars] = strdup(m->keys[i]->str);
		c->var_values[c->nvars++] = strdup(v);
	}
	return 0;
}

static int
load_metrics(struct ld *l, const struct ydoc_node *m)
{
	static const char *const keys[] = { "textfile", "interval", NULL };
	struct ydoc_node *n;

	if (ydoc_want(l->e, l->d, m, YDOC_MAP) < 0)
		return ERR_TYPE;
	ydoc_check_keys(l->e, l->d, m, keys);
	get_path(l, m, "textfile", false, &l->c->metrics_textfile);
	get_ms(l, m, "interval", &l->c->metrics_interval_ms);
	if ((n = ydoc_get(m, "interval")) != NULL && l->c->metrics_interval_ms > 0 &&
	    (l->c->metrics_interval_ms < LIM_METRICS_INTERVAL_MIN_MS ||
	    l->c->metrics_interval_ms > 3600000))
		ydoc_errf(l->e, l->d, n, "metrics interval must be between 1s and 1h");
	return 0;
}

/* ---------------------------------------------------------------- references */

static const struct cfg_credential *
find_cred(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->ncreds; i++)
		if (c->creds[i].name && strcmp(c->creds[i].name, name) == 0)
			return &c->creds[i];
	return NULL;
}

static void
at(struct ydoc_node *n, int line, int col)
{
	memset(n, 0, sizeof(*n));
	n->line = line;
	n->col = col;
}

static void
check_refs(struct ld *l)
{
	struct config *c = l->c;
	struct ydoc_node pos;

	for (size_t i = 0; i < c->ntenants; i++)
		for (size_t j = 0; j < i; j++) {
			const struct cfg_tenant *a = &c->tenants[i], *b = &c->tenants[j];
			uid_t alast = a->uid_last ? a->uid_last : a->uid;
			uid_t blast = b->uid_last ? b->uid_last : b->uid;

			at(&pos, a->line, a->col);
			if (strcmp(a->name, b->name) == 0)
				ydoc_errf(l->e, l->d, &pos, "duplicate tenant '%s'", a->name);
			/* one uid, one tenant: a shared uid would let tenants signal and trace each
			 * other's workers (two tenants on one uid stay allowed, as before) */
			else if ((a->uid_last || b->uid_last) && a->uid && b->uid &&
			    a->uid <= blast && b->uid <= alast)
				ydoc_errf(l->e, l->d, &pos,
				    "tenant '%s': its uids overlap those of tenant '%s'", a->name,
				    b->name);
		}
	for (size_t i = 0; i < c->ncreds; i++) {
		struct cfg_credential *cr = &c->creds[i];

		at(&pos, cr->line, cr->col);
		if (cr->tenant && config_tenant(c, cr->tenant) == NULL)
			ydoc_errf(l->e, l->d, &pos, "credential '%s': unknown tenant '%s'",
			    cr->name ? cr->name : "?", cr->tenant);
		for (size_t j = 0; j < i; j++)
			if (cr->name && c->creds[j].name && strcmp(cr->name, c->creds[j].name) == 0)
				ydoc_errf(l->e, l->d, &pos, "duplicate credential '%s'", cr->name);
	}
	for (size_t i = 0; i < c->nendpoints; i++) {
		struct cfg_endpoint *ep = &c->endpoints[i];
		const struct cfg_credential *cr;
		const struct tool_family *f = tool_family_find(ep->family);

		at(&pos, ep->line, ep->col);
		if (ep->tenant && config_tenant(c, ep->tenant) == NULL)
			ydoc_errf(l->e, l->d, &pos, "endpoint '%s': unknown tenant '%s'",
			    ep->name ? ep->name : "?", ep->tenant);
		if (f && f->kind == TOOL_KIND_HTTP && strcmp(f->name, "echo") != 0 && ep->url == NULL)
			ydoc_errf(l->e, l->d, &pos, "endpoint '%s' of %s needs a 'url'",
			    ep->name ? ep->name : "?", ep->family);
		if (ep->credential && strcmp(ep->credential, "none") != 0) {
			if ((cr = find_cred(c, ep->credential)) == NULL)
				ydoc_errf(l->e, l->d, &pos, "endpoint '%s': unknown credential '%s'",
				    ep->name ? ep->name : "?", ep->credential);
			else if (ep->tenant == NULL || cr->tenant == NULL ||
			    strcmp(cr->tenant, ep->tenant) != 0)
				ydoc_errf(l->e, l->d, &pos,
				    "endpoint '%s': credential '%s' belongs to tenant '%s', "
				    "not to the endpoint's tenant", ep->name ? ep->name : "?",
				    ep->credential, cr->tenant ? cr->tenant : "?");
		}
		for (size_t j = 0; j < i; j++)
			if (ep->name && c->endpoints[j].name &&
			    strcmp(ep->family, c->endpoints[j].family) == 0 &&
			    strcmp(ep->name, c->endpoints[j].name) == 0 &&
			    (ep->tenant == NULL || c->endpoints[j].tenant == NULL ||
			    strcmp(ep->tenant, c->endpoints[j].tenant) == 0))
				ydoc_errf(l->e, l->d, &pos, "duplicate %s endpoint '%s'", ep->family,
				    ep->name);
	}
	for (size_t i = 0; i < c->nmodels; i++) {
		struct cfg_model *mo = &c->models[i];

		at(&pos, mo->line, mo->col);
		if (mo->credential && strcmp(mo->credential, "none") != 0 &&
		    find_cred(c, mo->credential) == NULL)
			ydoc_errf(l->e, l->d, &pos, "model '%s': unknown credential '%s'",
			    mo->name ? mo->name : "?", mo->credential);
	}
	for (size_t i = 0; i < c->nagents; i++) {
		struct cfg_agent *a = &c->agents[i];
		size_t k;

		at(&pos, a->line, a->col);
		if (a->tenant && config_tenant(c, a->tenant) == NULL)
			ydoc_errf(l->e, l->d, &pos, "agent: unknown tenant '%s'", a->tenant);
		for (k = 0; a->model && k < c->nmodels; k++)
			if (c->models[k].name && strcmp(c->models[k].name, a->model) == 0)
				break;
		if (a->model && k == c->nmodels)
			ydoc_errf(l->e, l->d, &pos, "agent: unknown model '%s'", a->model);
		if (a->file && access(a->file, R_OK) != 0)
			ydoc_errf(l->e, l->d, &pos, "agent file '%s': %s", a->file, strerror(errno));
		if (a->exec && access(a->exec, X_OK) != 0)
			ydoc_errf(l->e, l->d, &pos, "agent exec '%s': %s", a->exec, strerror(errno));
	}
	for (size_t i = 0; i < c->npolicies; i++)
		if (access(c->policies[i], R_OK) != 0)
			ydoc_errf(l->e, l->d, NULL, "policy file '%s': %s", c->policies[i],
			    strerror(errno));
	for (size_t i = 0; i < c->nroles; i++)
		if (c->roles[i].tenant && config_tenant(c, c->roles[i].tenant) == NULL)
			ydoc_errf(l->e, l->d, NULL, "control: unknown tenant '%s'", c->roles[i].tenant);
}

/* ---------------------------------------------------------------- top level */

static int
load_root(struct ld *l, const struct ydoc_node *root)
{
	static const char *const keys[] = { "runtime_dir", "state_dir", "libexec_dir", "control",
		"workers", "limits", "tenants", "credentials", "endpoints", "models", "agents",
		"policies", "audit", "vars", "metrics", "binaries", "privd", NULL };
	static const char *const wkeys[] = { "isolation", NULL };
	static const char *const lkeys[] = { "call_deadline", "drain", NULL };
	struct config *c = l->c;
	struct ydoc_node *n;

	if (root == NULL) {
		ydoc_errf(l->e, l->d, NULL, "empty configuration");
		return ERR_CONFIG;
	}
	if (ydoc_want(l->e, l->d, root, YDOC_MAP) < 0)
		return ERR_CONFIG;
	ydoc_check_keys(l->e, l->d, root, keys);
	get_path(l, root, "runtime_dir", false, &c->runtime_dir);
	get_path(l, root, "state_dir", false, &c->state_dir);
	get_path(l, root, "libexec_dir", false, &c->libexec_dir);
	get_path(l, root, "privd", false, &c->privd_socket);
	if ((n = ydoc_get(root, "workers")) != NULL && ydoc_want(l->e, l->d, n, YDOC_MAP) == 0) {
		struct ydoc_node *iso = ydoc_get(n, "isolation");

		ydoc_check_keys(l->e, l->d, n, wkeys);
		if (iso && iso->type == YDOC_SCALAR && strcmp(iso->str, "shared") == 0)
			c->shared_isolation = true;
		else if (iso && !(iso->type == YDOC_SCALAR && strcmp(iso->str, "per-tenant") == 0))
			ydoc_errf(l->e, l->d, iso, "isolation must be per-tenant or shared");
	}
	if ((n = ydoc_get(root, "limits")) != NULL && ydoc_want(l->e, l->d, n, YDOC_MAP) == 0) {
		ydoc_check_keys(l->e, l->d, n, lkeys);
		get_ms(l, n, "call_deadline", &c->call_deadline_ms);
		get_ms(l, n, "drain", &c->drain_ms);
	}
	if ((n = ydoc_get(root, "tenants")) != NULL)
		load_tenants(l, n);
	if ((n = ydoc_get(root, "credentials")) != NULL)
		load_credentials(l, n);
	if ((n = ydoc_get(root, "endpoints")) != NULL)
		load_endpoints(l, n);
	if ((n = ydoc_get(root, "models")) != NULL)
		load_models(l, n);
	if ((n = ydoc_get(root, "agents")) != NULL)
		load_agents(l, n);
	if ((n = ydoc_get(root, "control")) != NULL)
		load_control(l, n);
	if ((n = ydoc_get(root, "audit")) != NULL)
		load_audit(l, n);
	if ((n = ydoc_get(root, "vars")) != NULL)
		load_vars(l, n);
	if ((n = ydoc_get(root, "binaries")) != NULL && ydoc_want(l->e, l->d, n, YDOC_MAP) == 0) {
		static const char *const bkeys[] = { "kubectl", "flux", NULL };

		ydoc_check_keys(l->e, l->d, n, bkeys);
		get_path(l, n, "kubectl", false, &c->kubectl);
		get_path(l, n, "flux", false, &c->flux);
	}
	if ((n = ydoc_get(root, "metrics")) != NULL)
		load_metrics(l, n);
	if ((n = ydoc_get(root, "policies")) != NULL) {
		get_str_list(l, root, "policies", &c->policies, &c->npolicies);
		for (size_t i = 0; i < c->npolicies; i++) {
			char *abs = resolve_path(c, c->policies[i]);

			free(c->policies[i]);
			c->policies[i] = abs;
		}
	}
	if (c->ntenants == 0)
		ydoc_errf(l->e, l->d, root, "at least one tenant is needed under 'tenants'");
	return 0;
}

static int
set_defaults(struct config *c)
{
	if (!c->runtime_dir && !(c->runtime_dir = strdup("/run/corral")))
		return -ENOMEM;
	if (!c->state_dir && !(c->state_dir = strdup("/var/lib/corral")))
		return -ENOMEM;
	if (!c->libexec_dir && !(c->libexec_dir = strdup(CORRAL_LIBEXECDIR)))
		return -ENOMEM;
	if (!c->control_socket && asprintf(&c->control_socket, "%s/ctl.sock", c->runtime_dir) < 0)
		return -ENOMEM;
	if (!c->audit_path && asprintf(&c->audit_path, "%s/audit/audit.jsonl", c->state_dir) < 0)
		return -ENOMEM;
	if (!c->kubectl && !(c->kubectl = strdup("/usr/bin/kubectl")))
		return -ENOMEM;
	if (!c->call_deadline_ms)
		c->call_deadline_ms = LIM_CALL_DEADLINE_MS;
	if (!c->drain_ms)
		c->drain_ms = LIM_DRAIN_MS;
	if (!c->audit_checkpoint_every)
		c->audit_checkpoint_every = 1000;
	if (!c->audit_rotate_size)
		c->audit_rotate_size = 64ull << 20;
	if (!c->metrics_interval_ms)
		c->metrics_interval_ms = LIM_METRICS_INTERVAL_MS;
	return 0;
}

int
config_load(const char *path, struct config **out, struct ydoc_errs *errs)
{
	struct ld l = { .e = errs };
	char *slash;
	size_t before = errs ? errs->errors : 0;
	int r;

	*out = NULL;
	if ((r = ydoc_load_file(path, &l.d, errs)) < 0)
		return r == -ENOMEM ? r : ERR_CONFIG;
	if ((l.c = calloc(1, sizeof(*l.c))) == NULL) {
		ydoc_free(l.d);
		return -ENOMEM;
	}
	l.c->path = strdup(path);
	l.c->dir = strdup(path);
	if (l.c->dir && (slash = strrchr(l.c->dir, '/')) != NULL)
		*(slash == l.c->dir ? slash + 1 : slash) = '\0';
	else {
		free(l.c->dir);
		l.c->dir = strdup(".");
	}
	l.c->audit_fsync = CFG_FSYNC_BATCH;
	r = load_root(&l, l.d->root);
	if (r != -ENOMEM && (r = set_defaults(l.c)) == 0)
		check_refs(&l);
	ydoc_free(l.d);
	if (r == 0 && errs && errs->errors > before)
		r = ERR_CONFIG;
	if (r < 0) {
		config_free(l.c);
		return r;
	}
	*out = l.c;
	return 0;
}

const struct cfg_tenant *
config_tenant(const struct config *c, const char *name)
{
	for (size_t i = 0; name && i < c->ntenants; i++)
		if (strcmp(c->tenants[i].name, name) == 0)
			return &c->tenants[i];
	return NULL;
}

const struct cfg_endpoint *
config_endpoint(const struct config *c, const char *family, const char *tenant, const char *name)
{
	for (size_t i = 0; i < c->nendpoints; i++) {
		const struct cfg_endpoint *ep = &c->endpoints[i];

		if (strcmp(ep->family, family) != 0)
			continue;
		if (ep->tenant && tenant && strcmp(ep->tenant, tenant) != 0)
			continue;
		if (name && (ep->name == NULL || strcmp(ep->name, name) != 0))
			continue;
		return ep;
	}
	return NULL;
}

static void
free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ntenants; i++) {
		free(c->tenants[i].name);
		free_list(c->tenants[i].families, c->tenants[i].nfamilies);
	}
	for (size_t i = 0; i < c->ncreds; i++) {
		free(c->creds[i].name);
		free(c->creds[i].tenant);
		free(c->creds[i].source);
	}
	for (size_t i = 0; i < c->nendpoints; i++) {
		struct cfg_endpoint *ep = &c->endpoints[i];

		free(ep->family); free(ep->name); free(ep->tenant); free(ep->url);
		free(ep->credential); free(ep->ca_file); free(ep->user); free(ep->kubeconfig);
		free(ep->context);
		free_list(ep->redirect_hosts, ep->nredirect_hosts);
	}
	for (size_t i = 0; i < c->nmodels; i++) {
		struct cfg_model *m = &c->models[i];

		free(m->name); free(m->provider); free(m->base_url); free(m->model);
		free(m->credential); free(m->script); free(m->api_version);
	}
	for (size_t i = 0; i < c->nagents; i++) {
		struct cfg_agent *a = &c->agents[i];

		free(a->file); free(a->name); free(a->tenant); free(a->model); free(a->exec);
	}
	for (size_t i = 0; i < c->nroles; i++) {
		free(c->roles[i].uids);
		free_list(c->roles[i].groups, c->roles[i].ngroups);
		free(c->roles[i].tenant);
		free(c->roles[i].name);
	}
	free(c->tenants); free(c->creds); free(c->endpoints); free(c->models); free(c->agents);
	free(c->roles);
	free_list(c->policies, c->npolicies);
	free_list(c->var_names, c->nvars);
	free_list(c->var_values, c->nvars);
	free(c->path); free(c->dir); free(c->runtime_dir); free(c->state_dir);
	free(c->libexec_dir); free(c->control_socket); free(c->privd_socket); free(c->audit_path);
	free(c->kubectl); free(c->flux);
	free(c->metrics_textfile);
	free(c);
}
