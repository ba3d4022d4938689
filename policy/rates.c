/* Sliding-window rate counters: per (tenant, principal, rule id), a ring of the last N
 * admission times. "At most N in any window W" is exceeded exactly when the N-th most recent
 * admission is still inside (now - W, now], so a check is O(1) and needs no scan. Keys use the
 * rule id rather than its index so counters survive a policy reload. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "policy/pol_int.h"

struct rate_ent {
	char *key;			/* tenant \0 principal \0 rule id */
	size_t klen;			/* including the two separators, without the final NUL */
	uint64_t hash;
	int64_t *ts;			/* ring of admission times, ms */
	uint32_t cap, n, head;		/* head: next slot to write */
	int64_t window_ms;		/* of the rule at the last commit, for pruning */
};

struct pol_rates {
	struct rate_ent *tab;		/* open addressing; key == NULL is empty */
	size_t size, count;
};

static uint64_t
key_hash(const char *t, const char *p, const char *id)
{
	const char *parts[3] = { t, p, id };
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < 3; i++) {
		for (const unsigned char *c = (const unsigned char *)parts[i]; *c; c++)
			h = (h ^ *c) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h;
}

static bool
key_eq(const struct rate_ent *e, const char *t, const char *p, const char *id)
{
	const char *k = e->key;
	size_t lt = strlen(t), lp = strlen(p), li = strlen(id);

	return e->klen == lt + lp + li + 2 && memcmp(k, t, lt + 1) == 0 &&
	    memcmp(k + lt + 1, p, lp + 1) == 0 && memcmp(k + lt + lp + 2, id, li) == 0;
}

static struct rate_ent *
ent_find(const struct pol_rates *r, const char *t, const char *p, const char *id, uint64_t h)
{
	if (r == NULL || r->size == 0)
		return NULL;
	for (size_t s = h & (r->size - 1); r->tab[s].key != NULL; s = (s + 1) & (r->size - 1))
		if (r->tab[s].hash == h && key_eq(&r->tab[s], t, p, id))
			return &r->tab[s];
	return NULL;
}

bool
pol_rates_exceeded(const struct pol_rates *r, const char *tenant, const char *principal,
    const char *rule_id, uint32_t n, int64_t window_ms, int64_t now_ms)
{
	const char *t = tenant ? tenant : "";
	const struct rate_ent *e = ent_find(r, t, principal, rule_id,
	    key_hash(t, principal, rule_id));
	int64_t nth;

	if (e == NULL || e->n < n)
		return false;
	nth = e->ts[(e->head + e->cap - n) % e->cap];
	return nth > now_ms - window_ms;
}

int
pol_rates_new(struct pol_rates **out)
{
	struct pol_rates *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	*out = r;
	return 0;
}

static void
ent_free(struct rate_ent *e)
{
	free(e->key);
	free(e->ts);
}

void
pol_rates_free(struct pol_rates *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->size; i++)
		if (r->tab[i].key)
			ent_free(&r->tab[i]);
	free(r->tab);
	free(r);
}

/* Rebuild into a table of size (power of two), keeping entries keep() accepts. */
static int
rehash(struct pol_rates *r, size_t size, int64_t now_ms, bool prune)
{
	struct rate_ent *nt = calloc(size, sizeof(*nt));

	if (nt == NULL)
		return -ENOMEM;
	r->count = 0;
	for (size_t i = 0; i < r->size; i++) {
		struct rate_ent *e = &r->tab[i];
		size_t s;

		if (e->key == NULL)
			continue;
		if (prune && (e->n == 0 ||
		    e->ts[(e->head + e->cap - 1) % e->cap] <= now_ms - e->window_ms)) {
			ent_free(e);
			continue;
		}
		for (s = e->hash & (size - 1); nt[s].key != NULL; s = (s + 1) & (size - 1))
			;
		nt[s] = *e;
		r->count++;
	}
	free(r->tab);
	r->tab = nt, r->size = size;
	return 0;
}

size_t
pol_rates_prune(struct pol_rates *r, int64_t now_ms)
{
	if (r == NULL || r->size == 0)
		return 0;
	if (rehash(r, r->size, now_ms, true) < 0)
		return r->count;
	return r->count;
}

/* Make room for one more entry: grow up to the cap, then prune. */
static int
room(struct pol_rates *r, int64_t now_ms)
{
	if (r->count >= LIM_POL_RATE_KEYS_MAX && (pol_rates_prune(r, now_ms),
	    r->count >= LIM_POL_RATE_KEYS_MAX))
		return ERR_TOOBIG;
	if (r->size != 0 && (r->count + 1) * 2 <= r->size)
		return 0;
	return rehash(r, r->size ? r->size * 2 : 64, now_ms, false);
}

static int
ent_add(struct pol_rates *r, const char *t, const char *p, const char *id, uint64_t h,
    struct rate_ent **out)
{
	size_t lt = strlen(t), lp = strlen(p), li = strlen(id), s;
	char *k;

	if ((k = malloc(lt + lp + li + 3)) == NULL)
		return -ENOMEM;
	memcpy(k, t, lt + 1);
	memcpy(k + lt + 1, p, lp + 1);
	memcpy(k + lt + lp + 2, id, li + 1);
	for (s = h & (r->size - 1); r->tab[s].key != NULL; s = (s + 1) & (r->size - 1))
		;
	memset(&r->tab[s], 0, sizeof(r->tab[s]));
	r->tab[s].key = k, r->tab[s].klen = lt + lp + li + 2, r->tab[s].hash = h;
	r->count++;
	*out = &r->tab[s];
	return 0;
}

/* Grow the ring to hold at least n times, keeping the newest in order. */
static int
ring_fit(struct rate_ent *e, uint32_t n)
{
	int64_t *nts;

	if (e->cap >= n)
		return 0;
	if ((nts = calloc(n, sizeof(*nts))) == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < e->n; i++)
		nts[i] = e->ts[(e->head + e->cap - e->n + i) % e->cap];
	free(e->ts);
	e->ts = nts, e->cap = n, e->head = e->n % n;
	return 0;
}

int
pol_rate_commit(struct pol_rates *r, const struct pol_set *ps, const struct pol_request *rq,
    const struct pol_decision *d)
{
	const struct pol_rule *rule;
	const char *t;
	struct rate_ent *e;
	uint64_t h;
	int rc;

	if (r == NULL || ps == NULL || rq == NULL || d == NULL || rq->principal == NULL)
		return -EINVAL;
	if (d->effect != POL_ALLOW || d->rule_index < 0 || (size_t)d->rule_index >= ps->nrules)
		return 0;
	rule = &ps->rules[d->rule_index];
	if (rule->rate_n == 0)
		return 0;
	t = rq->tenant ? rq->tenant : "";
	h = key_hash(t, rq->principal, rule->id);
	if ((e = ent_find(r, t, rq->principal, rule->id, h)) == NULL) {
		if ((rc = room(r, rq->now_ms)) < 0 ||
		    (rc = ent_add(r, t, rq->principal, rule->id, h, &e)) < 0)
			return rc;
	}
	if ((rc = ring_fit(e, rule->rate_n)) < 0)
		return rc;
	e->ts[e->head] = rq->now_ms;
	e->head = (e->head + 1) % e->cap;
	if (e->n < e->cap)
		e->n++;
	e->window_ms = rule->rate_ms;
	return 0;
}

/* When the rate of rule has room again for (tenant, principal): now_ms when it has room. */
static int64_t
rule_room_at(const struct pol_rates *r, const char *t, const char *principal,
    const struct pol_rule *rule, int64_t now_ms)
{
	const struct rate_ent *e = ent_find(r, t, principal, rule->id,
	    key_hash(t, principal, rule->id));
	int64_t nth;

	if (e == NULL || e->n < rule->rate_n || e->cap < rule->rate_n)
		return now_ms;
	nth = e->ts[(e->head + e->cap - rule->rate_n) % e->cap];
	return nth > now_ms - rule->rate_ms ? nth + rule->rate_ms : now_ms;
}

int64_t
pol_rates_room_at(const struct pol_rates *r, const struct pol_set *ps, const char *tenant,
    const char *principal, const char *tool, const char *op, int64_t now_ms)
{
	const struct pol_pair *pair;
	const char *t = tenant ? tenant : "";
	size_t plen;
	int64_t at = 0;
	int ti;

	if (r == NULL || ps == NULL || principal == NULL || tool == NULL || op == NULL ||
	    (pair = pol_pair_find(ps, tool, op)) == NULL)
		return 0;
	ti = pol_tenant_find(ps, tenant);
	plen = strlen(principal);
	for (size_t i = 0; i < pair->nallow; i++) {
		const struct pol_rule *rule = &ps->rules[pair->allow[i].rule];
		bool who = false;
		int64_t room;

		if (rule->tenant >= 0 && rule->tenant != ti)
			continue;
		for (size_t k = 0; k < rule->nprincipals && !who; k++)
			who = pol_glob_match(&rule->principals[k], principal, plen);
		if (!who)
			continue;
		/* An allow rule whose rate (if any) has room: the refusal was not the rate's. */
		if (rule->rate_n == 0 || (room = rule_room_at(r, t, principal, rule, now_ms)) <= now_ms)
			return 0;
		if (at == 0 || room < at)
			at = room;
	}
	return at;
}
