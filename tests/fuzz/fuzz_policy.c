/* libFuzzer target: the policy loader (pol_set_load_mem) and, on what loads, the evaluator.
 * The input is split at "\n---\n" into up to four in-memory files, loaded as one set against
 * the real schema registry.
 * Invariants: success <=> a set and no errors; the same files load again to the same hash (the
 * canonical form is layout-independent); the canonical form is JSON; every decision on a few
 * fixed requests is one of allow/deny/pending with a NUL-terminated reason; failures leave no
 * set and carry at least one message naming one of the files. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_policy: %s (line %d)\n", #c, \
	__LINE__); abort(); } } while (0)

static const char *const names[] = { "a.yaml", "b.yaml", "c.yaml", "d.yaml" };

struct rq {
	const char *tenant, *principal, *tool, *op, *args;
};

static const struct rq reqs[] = {
	{ "payments", "agent:deployment-guardian", "argocd", "rollback_application",
	  "{\"app_name\":\"payments-api\",\"id\":3}" },
	{ "payments", "operator:bob", "argocd", "sync_application", "{\"app_name\":\"x\"}" },
	{ "demo", "agent:a", "echo", "echo", "{\"msg\":\"hi\"}" },
	{ "ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs",
	  "{\"owner\":\"org\",\"repo\":\"web\",\"run_id\":7}" },
	{ "ci", "agent:x", "prometheus", "query", "{\"query\":\"up\"}" },
};
#define NREQ	(sizeof(reqs) / sizeof(reqs[0]))

static int
evidence(void *arg, const struct pol_evidence_query *q, int64_t *at)
{
	*at = q->now_ms - 60000;
	return 1;
}

static size_t
split(const uint8_t *data, size_t size, struct pol_src *srcs)
{
	const char *p = (const char *)data, *end = p + size;
	size_t n = 0;

	while (n < 4) {
		const char *sep = n < 3 ? memmem(p, (size_t)(end - p), "\n---\n", 5) : NULL;

		srcs[n].name = names[n];
		srcs[n].buf = p;
		srcs[n].len = sep ? (size_t)(sep - p) + 1 : (size_t)(end - p);
		n++;
		if (sep == NULL)
			break;
		p = sep + 5;
	}
	return n;
}

static void
decide_all(struct pol_set *ps)
{
	struct pol_rates *rates = NULL;
	struct pol_state st = { .evidence = evidence };
	char err[256];

	CHECK(pol_rates_new(&rates) == 0);
	st.rates = rates;
	for (size_t i = 0; i < NREQ; i++) {
		const struct tool_family *f = tool_family_find(reqs[i].tool);
		const struct tool_op *op = tool_op_find(f, reqs[i].op);
		json_t *args = json_loads(reqs[i].args, 0, NULL);
		struct pol_request rq = { .tenant = reqs[i].tenant, .principal = reqs[i].principal,
			.tool = reqs[i].tool, .op = reqs[i].op, .opdef = op, .args = args,
			.now_ms = 1774436400000LL };
		struct pol_decision d;

		CHECK(op && args && tool_args_validate(op, args, err, sizeof(err)) == 0);
		for (int k = 0; k < 2; k++) {	/* twice: the second sees the first's rate count */
			if (pol_decide(ps, &rq, &st, &d) == 0) {
				CHECK(d.effect == POL_ALLOW || d.effect == POL_DENY ||
				    d.effect == POL_PENDING);
				json_t *dj = pol_decision_json(&d);

				CHECK(memchr(d.reason, '\0', sizeof(d.reason)) != NULL);
				CHECK(dj != NULL && json_is_string(json_object_get(dj, "effect")));
				json_decref(dj);
				pol_rate_commit(rates, ps, &rq, &d);
			}
		}
		json_decref(args);
	}
	pol_rates_free(rates);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct pol_src srcs[4];
	struct ydoc_errs errs = { 0 };
	struct pol_set *ps = NULL, *again = NULL;
	size_t n = split(data, size, srcs);
	char err[256];
	int r;

	if (!ready++)
		CHECK(tool_schema_init(err, sizeof(err)) == 0);
	r = pol_set_load_mem(srcs, n, NULL, &ps, &errs);
	if (r == 0) {
		json_t *canon;
		char *txt;

		CHECK(ps != NULL && errs.errors == 0);
		CHECK(strlen(pol_set_hash(ps)) == 64);
		CHECK(pol_set_nrules(ps) <= LIM_POL_RULES_MAX);
		CHECK(pol_set_load_mem(srcs, n, NULL, &again, NULL) == 0);
		CHECK(strcmp(pol_set_hash(ps), pol_set_hash(again)) == 0);
		CHECK((canon = pol_set_canonical(ps)) != NULL);
		CHECK((txt = json_dumps(canon, JSON_COMPACT)) != NULL);
		free(txt);
		json_decref(canon);
		decide_all(ps);
	} else {
		CHECK(r < 0 && ps == NULL);
		CHECK(r == -ENOMEM || errs.errors > 0);
		for (size_t i = 0; i < errs.n; i++)
			CHECK(errs.msg[i][0] && errs.msg[i][1] == '.' && errs.msg[i][0] >= 'a' &&
			    errs.msg[i][0] <= 'd');
	}
	pol_set_free(ps);
	pol_set_free(again);
	ydoc_errs_free(&errs);
	return 0;
}
