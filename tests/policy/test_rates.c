/* The rate store: sliding windows per (tenant, principal, rule id), counters that survive a
 * reload (and a rate change), pruning, and the cap on counters. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "policy/policy.h"
#include "tests/policy/testfam.h"

#define HEAD "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: r }\nspec:\n  rules:\n"

static struct pol_set *
load(const char *yaml)
{
	struct pol_src src = { "r.yaml", yaml, strlen(yaml) };
	struct pol_set *ps = NULL;

	cr_assert(pol_set_load_mem(&src, 1, &test_opts, &ps, NULL) == 0, "%s", yaml);
	return ps;
}

static struct pol_set *
load_rate(const char *rate)
{
	char yaml[1024];

	snprintf(yaml, sizeof(yaml), HEAD "    - { id: r, effect: allow, principals: [\"agent:*\"], "
	    "tool: echo, operations: [echo], rate: \"%s\" }\n"
	    "    - { id: free, effect: allow, principals: [\"agent:*\"], tool: echo, "
	    "operations: [sleep] }\n", rate);
	return load(yaml);
}

/* Decide at t (ms); commit when allowed. Returns the effect. */
static enum pol_effect
call(const struct pol_set *ps, struct pol_rates *r, const char *tenant, const char *who,
    const char *op, int64_t t)
{
	struct pol_request rq = { .tenant = tenant, .principal = who, .tool = "echo", .op = op,
		.now_ms = t };
	struct pol_state st = { .rates = r };
	struct pol_decision d;

	cr_assert(pol_decide(ps, &rq, &st, &d) == 0);
	if (d.effect == POL_ALLOW)
		cr_assert(pol_rate_commit(r, ps, &rq, &d) == 0);
	return d.effect;
}

Test(policy_rates, sliding_window)
{
	struct pol_set *ps = load_rate("3/1m");
	struct pol_rates *r;
	const int64_t T = 1770000000000LL;
	/* (offset ms, expected) for one principal: 3 per any 60 s, the window is (t-60s, t] */
	static const struct { int64_t at; enum pol_effect want; } seq[] = {
		{ 0, POL_ALLOW }, { 10000, POL_ALLOW }, { 20000, POL_ALLOW }, { 30000, POL_DENY },
		{ 59999, POL_DENY }, { 60000, POL_ALLOW }, { 60001, POL_DENY }, { 69999, POL_DENY },
		{ 70000, POL_ALLOW }, { 80000, POL_ALLOW }, { 80000, POL_DENY }, { 200000, POL_ALLOW },
		{ 200000, POL_ALLOW }, { 200000, POL_ALLOW }, { 200000, POL_DENY },
	};

	cr_assert(pol_rates_new(&r) == 0);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		cr_expect(call(ps, r, "t", "agent:a", "echo", T + seq[i].at) == seq[i].want,
		    "step %zu at +%lld ms", i, (long long)seq[i].at);
	/* others are counted apart: principal, tenant; and rules without a rate never count */
	cr_expect(call(ps, r, "t", "agent:b", "echo", T + 200000) == POL_ALLOW);
	cr_expect(call(ps, r, "u", "agent:a", "echo", T + 200000) == POL_ALLOW);
	cr_expect(call(ps, r, NULL, "agent:a", "echo", T + 200000) == POL_ALLOW);
	for (int i = 0; i < 100; i++)
		cr_expect(call(ps, r, "t", "agent:a", "sleep", T + 200000) == POL_ALLOW);
	/* a NULL store means nothing was admitted yet */
	{
		struct pol_request rq = { .tenant = "t", .principal = "agent:a", .tool = "echo",
			.op = "echo", .now_ms = T + 200000 };
		struct pol_decision d;

		cr_assert(pol_decide(ps, &rq, NULL, &d) == 0);
		cr_expect(d.effect == POL_ALLOW);
		cr_expect(pol_rate_commit(r, ps, &rq, &(struct pol_decision){ .effect = POL_DENY,
		    .rule_index = 0 }) == 0, "a deny commits nothing");
		cr_expect(call(ps, r, "t", "agent:a", "echo", T + 200000) == POL_DENY);
	}
	pol_rates_free(r);
	pol_set_free(ps);
}

/* Counters are keyed by rule id: a reload keeps them, and a new N applies at once. */
Test(policy_rates, survive_reload)
{
	struct pol_set *a = load_rate("2/1h"), *b = load_rate("4/1h"), *c = load_rate("1/1h");
	struct pol_rates *r;
	const int64_t T = 1770000000000LL;

	cr_assert(pol_rates_new(&r) == 0);
	cr_expect(call(a, r, "t", "agent:a", "echo", T) == POL_ALLOW);
	cr_expect(call(a, r, "t", "agent:a", "echo", T + 1) == POL_ALLOW);
	cr_expect(call(a, r, "t", "agent:a", "echo", T + 2) == POL_DENY);
	cr_expect(call(b, r, "t", "agent:a", "echo", T + 3) == POL_ALLOW, "4/1h: third");
	cr_expect(call(b, r, "t", "agent:a", "echo", T + 4) == POL_ALLOW, "4/1h: fourth");
	cr_expect(call(b, r, "t", "agent:a", "echo", T + 5) == POL_DENY);
	cr_expect(call(c, r, "t", "agent:a", "echo", T + 6) == POL_DENY);
	cr_expect(call(c, r, "t", "agent:a", "echo", T + 3600000 + 4) == POL_ALLOW,
	    "1/1h: the newest admission (T+4) has left the window");
	cr_expect(call(a, r, "t", "agent:a", "echo", T + 3600000 + 5) == POL_ALLOW,
	    "2/1h: only T+3600004 is inside (T+5, T+3600005]");
	cr_expect(call(a, r, "t", "agent:a", "echo", T + 3600000 + 6) == POL_DENY);
	pol_rates_free(r);
	pol_set_free(a);
	pol_set_free(b);
	pol_set_free(c);
}

Test(policy_rates, prune_and_cap)
{
	struct pol_set *ps = load_rate("1/1s");
	struct pol_rates *r;
	const int64_t T = 1770000000000LL;
	char who[64];

	cr_assert(pol_rates_new(&r) == 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(who, sizeof(who), "agent:a%d", i);
		cr_assert(call(ps, r, "t", who, "echo", T + i) == POL_ALLOW);
	}
	cr_expect(pol_rates_prune(r, T + 999) == 1000);
	cr_expect(pol_rates_prune(r, T + 1000) == 999, "a%d's only admission left the window", 0);
	cr_expect(pol_rates_prune(r, T + 5000) == 0);
	/* the counters still work after pruning */
	cr_expect(call(ps, r, "t", "agent:a1", "echo", T + 5000) == POL_ALLOW);
	cr_expect(call(ps, r, "t", "agent:a1", "echo", T + 5001) == POL_DENY);
	pol_rates_free(r);
	pol_set_free(ps);
}

/* The store never holds more than LIM_POL_RATE_KEYS_MAX live counters. */
Test(policy_rates, full, .timeout = 30)
{
	struct pol_set *ps = load_rate("1/1h");
	struct pol_rates *r;
	struct pol_request rq = { .tenant = "t", .tool = "echo", .op = "echo",
		.now_ms = 1770000000000LL };
	struct pol_decision d;
	char who[64];

	cr_assert(pol_rates_new(&r) == 0);
	for (unsigned i = 0; i < LIM_POL_RATE_KEYS_MAX; i++) {
		snprintf(who, sizeof(who), "agent:%u", i);
		rq.principal = who;
		cr_assert(pol_decide(ps, &rq, NULL, &d) == 0 && d.effect == POL_ALLOW);
		cr_assert(pol_rate_commit(r, ps, &rq, &d) == 0, "%u", i);
	}
	rq.principal = "agent:one-too-many";
	cr_expect(pol_rate_commit(r, ps, &rq, &d) == ERR_TOOBIG);
	/* an hour later every counter has expired and room is made by pruning */
	rq.now_ms += 3600000;
	cr_expect(pol_rate_commit(r, ps, &rq, &d) == 0);
	pol_rates_free(r);
	pol_set_free(ps);
}

/* pol_rates_room_at: after a refusal, when the caller's rate for that call has room again (the
 * supervisor holds a flooding agent's channel until then); 0 whenever the refusal cannot be the
 * rates': a rule without a rate or with room, no rule naming the caller, an unknown op. */
Test(policy_rates, room_at)
{
	struct pol_set *ps = load_rate("3/1m"), *two;
	struct pol_rates *r;
	const int64_t T = 1770000000000LL;
	static const struct {
		const char *tenant, *who, *op;
		int64_t at, want;		/* offsets from T; want -1: 0 */
	} cases[] = {
		{ "t", "agent:a", "echo", 30000, 60000 },	/* T+0 leaves the window at T+60000 */
		{ "t", "agent:a", "echo", 59999, 60000 },
		{ "t", "agent:a", "echo", 60000, -1 },	/* (T+0, T+60000] holds two: room */
		{ "t", "agent:a", "sleep", 30000, -1 },	/* its rule has no rate */
		{ "t", "agent:b", "echo", 30000, -1 },	/* nothing admitted for b */
		{ "u", "agent:a", "echo", 30000, -1 },	/* counted per tenant */
		{ "t", "user:x", "echo", 30000, -1 },	/* no rule names user:x */
		{ "t", "agent:a", "nope", 30000, -1 },	/* no such op */
	};

	cr_assert(pol_rates_new(&r) == 0);
	for (int i = 0; i < 3; i++)
		cr_assert(call(ps, r, "t", "agent:a", "echo", T + 10000 * i) == POL_ALLOW);
	cr_expect(call(ps, r, "t", "agent:a", "echo", T + 30000) == POL_DENY);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = pol_rates_room_at(r, ps, cases[i].tenant, cases[i].who, "echo",
		    cases[i].op, T + cases[i].at);

		cr_expect_eq(got, cases[i].want < 0 ? 0 : T + cases[i].want, "case %zu: %lld", i,
		    (long long)(got ? got - T : 0));
	}
	cr_expect_eq(pol_rates_room_at(NULL, ps, "t", "agent:a", "echo", "echo", T), 0);
	/* two rate rules for the same call: the refusal is the rates' only when both are
	 * exhausted, and room comes with the first that has it */
	two = load(HEAD "    - { id: a2, effect: allow, principals: [\"agent:a\"], tool: echo, "
	    "operations: [echo], rate: 2/10s }\n"
	    "    - { id: r, effect: allow, principals: [\"agent:*\"], tool: echo, "
	    "operations: [echo], rate: 3/1m }\n");
	pol_rates_free(r);
	cr_assert(pol_rates_new(&r) == 0);
	for (int i = 0; i < 5; i++) {
		if (i == 2)
			cr_expect_eq(pol_rates_room_at(r, two, "t", "agent:a", "echo", "echo", T + 2),
			    0, "a2 is exhausted at T+2, r is not");
		cr_assert(call(two, r, "t", "agent:a", "echo", T + i) == POL_ALLOW, "%d", i);
	}
	cr_expect(call(two, r, "t", "agent:a", "echo", T + 5) == POL_DENY);
	cr_expect_eq(pol_rates_room_at(r, two, "t", "agent:a", "echo", "echo", T + 5), T + 10000);
	cr_expect(call(two, r, "t", "agent:a", "echo", T + 9999) == POL_DENY);
	cr_expect(call(two, r, "t", "agent:a", "echo", T + 10000) == POL_ALLOW);
	pol_rates_free(r);
	pol_set_free(two);
	pol_set_free(ps);
}
