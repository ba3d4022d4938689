/* Lookup structures built once per set (per-pair rule lists, tenant table) and the set's
 * canonical form and hash. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy/pol_int.h"

static uint64_t
hash_str(const char *s)
{
	return pol_hash_pair(s, "");
}

const struct pol_pair *
pol_pair_find(const struct pol_set *ps, const char *tool, const char *op)
{
	uint64_t h = pol_hash_pair(tool, op);

	for (size_t slot = h & ps->pair_mask; ps->pair_ht[slot] != 0;
	    slot = (slot + 1) & ps->pair_mask) {
		const struct pol_pair *p = &ps->pairs[ps->pair_ht[slot] - 1];

		if (p->hash == h && strcmp(p->op->name, op) == 0 && strcmp(p->fam->name, tool) == 0)
			return p;
	}
	return NULL;
}

int
pol_tenant_find(const struct pol_set *ps, const char *tenant)
{
	if (ps->ten_ht == NULL || tenant == NULL)
		return -1;
	for (size_t slot = hash_str(tenant) & ps->ten_mask; ps->ten_ht[slot] != 0;
	    slot = (slot + 1) & ps->ten_mask)
		if (strcmp(ps->tenants[ps->ten_ht[slot] - 1], tenant) == 0)
			return (int)ps->ten_ht[slot] - 1;
	return -1;
}

static int
tenants_index(struct pol_set *ps)
{
	size_t size = 16;

	while (size < ps->ntenants * 2)
		size *= 2;
	if ((ps->ten_ht = calloc(size, sizeof(*ps->ten_ht))) == NULL)
		return -ENOMEM;
	ps->ten_mask = size - 1;
	for (size_t i = 0; i < ps->ntenants; i++) {
		size_t slot = hash_str(ps->tenants[i]) & ps->ten_mask;

		while (ps->ten_ht[slot] != 0)
			slot = (slot + 1) & ps->ten_mask;
		ps->ten_ht[slot] = (uint32_t)i + 1;
	}
	return 0;
}

static void
cand_fill(struct pol_cand *c, const struct pol_rule *r, size_t k)
{
	const struct pol_glob *g = &r->principals[0];

	c->rule = (uint32_t)k;
	c->tenant = r->tenant;
	c->pkind = POL_CAND_FULL;
	if (r->nprincipals == 1 && g->len <= POL_CAND_LIT && g->kind != PG_FNMATCH) {
		c->pkind = (uint8_t)g->kind;
		c->plen = (uint8_t)g->len;
		memcpy(c->plit, g->lit, g->len);
	}
}

int
pol_set_index(struct pol_set *ps)
{
	for (size_t i = 0; i < ps->npairs; i++) {
		struct pol_pair *p = &ps->pairs[i];
		size_t na = 0, nd = 0;

		for (size_t k = 0; k < ps->nrules; k++)
			if (pol_rule_has_pair(&ps->rules[k], i))
				*(ps->rules[k].deny ? &nd : &na) += 1;
		if ((na && (p->allow = calloc(na, sizeof(*p->allow))) == NULL) ||
		    (nd && (p->deny = calloc(nd, sizeof(*p->deny))) == NULL))
			return -ENOMEM;
		for (size_t k = 0; k < ps->nrules; k++) {
			if (!pol_rule_has_pair(&ps->rules[k], i))
				continue;
			if (ps->rules[k].deny)
				cand_fill(&p->deny[p->ndeny++], &ps->rules[k], k);
			else
				cand_fill(&p->allow[p->nallow++], &ps->rules[k], k);
		}
	}
	return tenants_index(ps);
}

/* ---------------------------------------------------------------- canonical form */

static json_t *
strs_json(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
obligations_json(const struct pol_rule *r)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (r->has_evidence)
		json_object_set_new(o, "evidence", json_string(r->ev_text));
	if (r->has_approval)
		json_object_set_new(o, "approval", json_pack("{s:o, s:i, s:I}", "approvers",
		    strs_json(r->approval.approvers, r->approval.napprovers), "quorum",
		    (int)r->approval.quorum, "timeout_ms", (json_int_t)r->approval.timeout_ms));
	if (r->dry_run_only)
		json_object_set_new(o, "dry_run_only", json_true());
	return o;
}

static json_t *
rule_json(const struct pol_set *ps, const struct pol_rule *r)
{
	json_t *o, *pr = json_array(), *ops = json_array(), *wh = json_array();

	for (size_t i = 0; pr && i < r->nprincipals; i++)
		json_array_append_new(pr, json_string(r->principals[i].src));
	for (size_t i = 0; ops && i < r->nops; i++)
		json_array_append_new(ops, json_string(r->ops[i].cls == POC_READ ? "class:read" :
		    r->ops[i].cls == POC_WRITE ? "class:write" : r->ops[i].g.src));
	for (size_t i = 0; wh && i < r->nwhere; i++)
		json_array_append_new(wh, json_pack("[s,s]", r->where[i].arg, r->where[i].text));
	o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o}",
	    "id", r->id, "effect", r->deny ? "deny" : "allow",
	    "tenant", r->tenant >= 0 ? json_string(ps->tenants[r->tenant]) : json_null(),
	    "principals", pr, "tool", r->tool.src, "operations", ops, "where", wh,
	    "when", r->has_when ? json_string(r->when.text) : json_null(),
	    "rate", r->rate_n ? json_string(r->rate_text) : json_null(),
	    "obligations", obligations_json(r));
	return o;
}

json_t *
pol_set_canonical(const struct pol_set *ps)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < ps->nrules; i++)
		if (json_array_append_new(a, rule_json(ps, &ps->rules[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int
pol_set_compute_hash(struct pol_set *ps)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	json_t *c = pol_set_canonical(ps);
	char *s = c ? json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
	int rc = -ENOMEM;

	if (s != NULL && EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == 32) {
		for (size_t i = 0; i < 32; i++)
			snprintf(ps->hash + 2 * i, 3, "%02x", md[i]);
		rc = 0;
	}
	free(s);
	json_decref(c);
	return rc;
}
