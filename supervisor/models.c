/* The model gateway, supervisor side: which model an agent may use (its configured one only),
 * the call context the gateway worker gets (provider, base URL, model id, key), token budgets
 * per tenant per UTC day, and which hosts the gateway may reach. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/router_int.h"
#include "supervisor/sup.h"

#define SCRIPT_MAX	(256u << 10)

const struct cfg_agent *sup_agent_cfg(struct sup *s, const char *agent, const char *tenant);

const struct cfg_model *
sup_agent_model(struct sup *s, const char *agent, const char *tenant)
{
	const struct cfg_agent *a = sup_agent_cfg(s, agent, tenant);

	if (a == NULL || a->model == NULL)
		return NULL;
	for (size_t i = 0; i < s->cfg->nmodels; i++)
		if (strcmp(s->cfg->models[i].name, a->model) == 0)
			return &s->cfg->models[i];
	return NULL;
}

/* Tokens used per tenant in the current UTC day. */
struct usage {
	char tenant[LIM_NAME_MAX];
	int64_t day;
	uint64_t tokens;
};
static struct usage usage[256];

static struct usage *
usage_of(const char *tenant, bool create)
{
	int64_t day = sup_wall_ms() / 86400000;

	for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++) {
		if (usage[i].tenant[0] == '\0') {
			if (!create)
				return NULL;
			snprintf(usage[i].tenant, sizeof(usage[i].tenant), "%s", tenant);
		}
		if (strcmp(usage[i].tenant, tenant) == 0) {
			if (usage[i].day != day) {
				usage[i].day = day;
				usage[i].tokens = 0;
			}
			return &usage[i];
		}
	}
	return NULL;
}

static const struct cfg_model *
origin_model(struct sup *s, const struct origin *o)
{
	if (o->kind == ORIGIN_AGENT && o->agent)
		return sup_agent_model(s, o->agent->agent, o->tenant);
	/* An administrator may talk to the first configured model (diagnostics). */
	if (o->kind == ORIGIN_CTL && o->admin && s->cfg->nmodels > 0)
		return &s->cfg->models[0];
	return NULL;
}

enum dec
sup_model_decide(struct sup *s, const struct origin *o, json_t *rec, char *reason, size_t rlen)
{
	const struct cfg_tenant *t = config_tenant(s->cfg, o->tenant);
	const struct cfg_model *m = origin_model(s, o);
	struct usage *u = usage_of(o->tenant ? o->tenant : "", false);

	if (m == NULL) {
		snprintf(reason, rlen, "no model is configured for this caller");
	} else if (t && t->limits.tokens_per_day && u && u->tokens >= t->limits.tokens_per_day) {
		snprintf(reason, rlen, "tenant %s used its token budget for today (%llu of %llu)",
		    t->name, (unsigned long long)u->tokens,
		    (unsigned long long)t->limits.tokens_per_day);
		json_object_set_new(rec, "decision", json_string("deny"));
		json_object_set_new(rec, "reason", json_string(reason));
		return DEC_BUDGET;
	} else {
		json_object_set_new(rec, "decision", json_string("allow"));
		json_object_set_new(rec, "rules", json_pack("[s]", "builtin:agent-model"));
		json_object_set_new(rec, "model", json_string(m->name));
		return DEC_ALLOW;
	}
	json_object_set_new(rec, "decision", json_string("deny"));
	json_object_set_new(rec, "reason", json_string(reason));
	return DEC_DENY;
}

static char *
read_script(const char *path)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size > (off_t)SCRIPT_MAX ||
	    (buf = calloc(1, (size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
sup_model_ctx(struct sup *s, const struct origin *o, json_t **ctx, const char **secret)
{
	const struct cfg_model *m = origin_model(s, o);
	json_t *e;

	*secret = NULL;
	if (m == NULL)
		return ERR_DENIED;
	if (m->credential && strcmp(m->credential, "none") != 0 &&
	    (*secret = sup_cred_get(s, m->credential, o->tenant)) == NULL)
		return ERR_CONFIG;
	e = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:[]}", "name", m->name, "provider",
	    m->provider, "url", m->base_url, "model", m->model, "api_version", m->api_version,
	    "redirect_hosts");
	if (m->script) {
		char *text = read_script(m->script);

		if (text == NULL) {
			json_decref(e);
			return ERR_CONFIG;
		}
		json_object_set_new(e, "script", json_string(text));
		free(text);
	}
	*ctx = json_pack("{s:o, s:s?}", "endpoint", e, "secret", *secret);
	return *ctx ? 0 : -ENOMEM;
}

void
sup_model_usage(struct sup *s, const struct call *c, const json_t *result, json_t *rec)
{
	json_t *u = json_object_get(result, "usage");
	json_int_t in = json_integer_value(json_object_get(u, "input_tokens"));
	json_int_t out = json_integer_value(json_object_get(u, "output_tokens"));
	struct usage *tu = usage_of(c->o.tenant ? c->o.tenant : "", true);

	if (in < 0 || out < 0)
		return;
	if (tu)
		tu->tokens += (uint64_t)(in + out);
	json_object_set_new(rec, "usage", json_pack("{s:I, s:I}", "input_tokens", in,
	    "output_tokens", out));
}
