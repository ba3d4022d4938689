/* bench_policy: latency of one pol_decide() at 10, 100 and 1,000 rules (p50/p99), next to a
 * baseline measured in the same run: a bare fnmatch(3) loop over as many patterns as there are
 * rules. Targets: <= 1 us at 100 rules, <= 5 us at 1,000. Prints; asserts nothing.
 *
 * The policies are generated: per tenant, 20 rules in the shape of examples/policy (reads with
 * app-name globs, a guardian rollback with window, rate and evidence, approvals, dry-run-only
 * syncs, weekend freezes, regexes, class:read/write, a "*" tool); 100 rules are 5 tenants,
 * 1,000 rules are 50. "one pair" is the worst case for the index: every rule names the same
 * tenant, tool and op, and differs only in principal and argument conditions. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"
#include "tests/policy/testfam.h"

#define SAMPLES		200000
#define NREQ		12

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
rule_text(FILE *f, int t, int i)
{
	static const char *const r[20] = {
		"{ id: t@-r0, effect: allow, principals: [\"agent:*\"], tool: argocd, operations: [get_application, get_sync_status], where: { app_name: \"t@-*\" } }",
		"{ id: t@-r1, effect: allow, principals: [\"agent:*\"], tool: argocd, operations: [list_applications] }",
		"{ id: t@-r2, effect: allow, principals: [\"agent:guardian-@\"], tool: argocd, operations: [rollback_application], where: { app_name: \"t@-*\" }, when: { days: [mon-fri], hours: \"06:00-22:00\", tz: Europe/Berlin }, rate: 3/1h, obligations: { evidence: { op: prometheus.canary_analyze, match: { verdict: fail }, same: [app_name], within: 15m } } }",
		"{ id: t@-r3, effect: allow, principals: [\"operator:*\"], tool: argocd, operations: [rollback_application], obligations: { approval: { approvers: [\"group:sre\"], quorum: 1 } } }",
		"{ id: t@-r4, effect: allow, principals: [\"agent:drift-@\"], tool: argocd, operations: [sync_application], where: { app_name: { in: [t@-config, t@-flags] }, prune: false }, rate: 10/1h }",
		"{ id: t@-r5, effect: allow, principals: [\"agent:drift-@\"], tool: argocd, operations: [sync_application], obligations: { dry_run_only: true } }",
		"{ id: t@-r6, effect: deny, principals: [\"agent:*\"], tool: argocd, operations: [\"class:write\"], when: { days: [sat, sun], tz: Europe/Berlin } }",
		"{ id: t@-r7, effect: deny, principals: [\"*\"], tool: argocd, operations: [terminate_sync], where: { app_name: \"*-prod\" } }",
		"{ id: t@-r8, effect: allow, principals: [\"agent:*\"], tool: prometheus, operations: [\"*\"] }",
		"{ id: t@-r9, effect: deny, principals: [\"agent:*\"], tool: prometheus, operations: [canary_analyze], where: { threshold: { max: 0.5 } } }",
		"{ id: t@-r10, effect: allow, principals: [\"agent:doctor-@\"], tool: github_actions, operations: [\"class:read\"], where: { owner: org@ } }",
		"{ id: t@-r11, effect: allow, principals: [\"agent:doctor-@\"], tool: github_actions, operations: [rerun_failed_jobs], where: { owner: org@, repo: { in: [web, api] } }, rate: 5/1h }",
		"{ id: t@-r12, effect: allow, principals: [\"agent:rm-@\"], tool: github_actions, operations: [trigger_workflow], where: { ref: { regex: \"v[0-9]+\\\\.[0-9]+\\\\.[0-9]+\" }, workflow_id: \"deploy*.yml\" }, obligations: { approval: { approvers: [\"user:bob\"] } } }",
		"{ id: t@-r13, effect: deny, principals: [\"agent:*\"], tool: github_actions, operations: [cancel_workflow_run], where: { repo: \"legacy-*\" } }",
		"{ id: t@-r14, effect: allow, principals: [\"agent:*\"], tool: echo, operations: [echo], where: { msg: \"t@ *\" } }",
		"{ id: t@-r15, effect: deny, principals: [\"*\"], tool: echo, operations: [echo], where: { msg: \"*secret*\" } }",
		"{ id: t@-r16, effect: allow, principals: [\"agent:*\"], tool: echo, operations: [sleep], where: { ms: { max: 1000 } } }",
		"{ id: t@-r17, effect: allow, principals: [\"operator:oncall-*\"], tool: \"*\", operations: [\"class:read\"] }",
		"{ id: t@-r18, effect: allow, principals: [\"agent:night-@\"], tool: argocd, operations: [sync_application], when: { hours: \"22:00-06:00\", tz: America/New_York } }",
		"{ id: t@-r19, effect: allow, principals: [\"agent:*\"], tool: argocd, operations: [get_logs], where: { tail_lines: { max: 1000 }, app_name: { regex: \"t@-[a-z]+\" } } }",
	};

	fprintf(f, "    - ");
	for (const char *p = r[i]; *p; p++)	/* '@' stands for the tenant number */
		if (*p == '@')
			fprintf(f, "%d", t);
		else
			fputc(*p, f);
	fprintf(f, "\n");
}

/* The worst case for the index: n rules on one (tenant, tool, op). */
static void
one_pair_text(FILE *f, int i)
{
	if (i % 10 == 9)
		fprintf(f, "    - { id: p%d, effect: deny, principals: [\"agent:x%d\"], tool: argocd, "
		    "operations: [get_application], where: { app_name: \"*-prod%d\" } }\n", i, i, i);
	else
		fprintf(f, "    - { id: p%d, effect: allow, principals: [\"agent:a%d-*\"], tool: argocd, "
		    "operations: [get_application], where: { app_name: \"t%d-*\" } }\n", i, i, i);
}

static struct pol_set *
make_set(int nrules, bool one_pair)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct pol_set *ps = NULL;
	struct ydoc_errs e = { 0 };

	for (int t = 0; t * 20 < nrules || (one_pair && t == 0); t++) {
		fprintf(f, "---\n");	/* one document per tenant: joined below */
		fprintf(f, "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: t%d }\n"
		    "spec:\n  tenant: t%d\n  rules:\n", t, t);
		if (one_pair) {
			for (int i = 0; i < nrules; i++)
				one_pair_text(f, i);
			break;
		}
		for (int i = 0; i < 20 && t * 20 + i < nrules; i++)
			rule_text(f, t, i);
	}
	fclose(f);
	{
		/* split into one in-memory file per document */
		struct pol_src srcs[LIM_POL_FILES_MAX];
		size_t n = 0;
		char *p = buf, *next;

		while (p && (p = strstr(p, "---\n")) != NULL && n < LIM_POL_FILES_MAX) {
			p += 4;
			next = strstr(p, "---\n");
			srcs[n].name = "bench.yaml";
			srcs[n].buf = p;
			srcs[n].len = next ? (size_t)(next - p) : strlen(p);
			n++;
			p = next;
		}
		if (pol_set_load_mem(srcs, n, &test_opts, &ps, &e) < 0) {
			for (size_t i = 0; i < e.n && i < 5; i++)
				fprintf(stderr, "%s\n", e.msg[i]);
			exit(1);
		}
	}
	ydoc_errs_free(&e);
	free(buf);
	return ps;
}

struct req {
	struct pol_request rq;
	json_t *args;
	char tenant[16], principal[64];
};

static int
evidence_found(void *arg, const struct pol_evidence_query *q, int64_t *at)
{
	*at = q->now_ms - 60000;
	return 1;
}

/* Copy tpl with every '@' replaced by t. */
static void
subst(char *out, size_t len, const char *tpl, int t)
{
	size_t o = 0;

	for (const char *p = tpl; *p && o + 12 < len; p++)
		if (*p == '@')
			o += (size_t)snprintf(out + o, len - o, "%d", t);
		else
			out[o++] = *p;
	out[o] = '\0';
}

static void
make_reqs(struct req *r, int ntenants, bool one_pair, int nrules)
{
	static const struct { const char *who, *tool, *op, *args; } tpl[NREQ] = {
		{ "agent:x", "argocd", "get_application", "{\"app_name\":\"t@-api\"}" },
		{ "agent:guardian-@", "argocd", "rollback_application", "{\"app_name\":\"t@-api\",\"id\":3}" },
		{ "operator:bob", "argocd", "rollback_application", "{\"app_name\":\"t@-api\",\"id\":3}" },
		{ "agent:drift-@", "argocd", "sync_application", "{\"app_name\":\"t@-config\"}" },
		{ "agent:drift-@", "argocd", "sync_application", "{\"app_name\":\"t@-other\"}" },
		{ "agent:x", "prometheus", "query", "{\"query\":\"up\"}" },
		{ "agent:doctor-@", "github_actions", "rerun_failed_jobs", "{\"owner\":\"org@\",\"repo\":\"web\",\"run_id\":7}" },
		{ "agent:x", "echo", "echo", "{\"msg\":\"t@ hello\"}" },
		{ "agent:x", "echo", "echo", "{\"msg\":\"t@ secret\"}" },
		{ "agent:nobody", "github_actions", "trigger_workflow", "{\"owner\":\"o\",\"repo\":\"r\",\"workflow_id\":\"deploy.yml\",\"ref\":\"v1.2.3\"}" },
		{ "agent:night-@", "argocd", "sync_application", "{\"app_name\":\"t@-api\"}" },
		{ "agent:y", "argocd", "get_logs", "{\"app_name\":\"t@-api\"}" },
	};
	char a[256], err[256];

	for (int i = 0; i < NREQ; i++) {
		int t = (i * 7) % ntenants, k = one_pair ? 0 : i;
		const struct tool_op *op = NULL;

		snprintf(r[i].tenant, sizeof(r[i].tenant), "t%d", t);
		subst(r[i].principal, sizeof(r[i].principal), tpl[k].who, t);
		subst(a, sizeof(a), tpl[k].args, t);
		if (one_pair) {
			/* the allow that matches sits in the second half of the list */
			int m = nrules - 2 - (i * 7) % (nrules / 2);

			if (m % 10 == 9)
				m--;	/* a deny rule; take the allow before it */
			snprintf(r[i].principal, sizeof(r[i].principal), "agent:a%d-z", m);
			snprintf(a, sizeof(a), "{\"app_name\":\"t%d-api\"}", m);
		}
		r[i].args = json_loads(a, 0, NULL);
		for (size_t f = 0; f < test_nfamilies; f++)
			if (strcmp(test_families[f]->name, tpl[k].tool) == 0)
				op = tool_op_find(test_families[f], tpl[k].op);
		if (!op || !r[i].args || tool_args_validate(op, r[i].args, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench request %d: %s\n", i, err);
			exit(1);
		}
		r[i].rq = (struct pol_request){ .tenant = r[i].tenant, .principal = r[i].principal,
			.tool = tpl[k].tool, .op = tpl[k].op, .opdef = op, .args = r[i].args,
			.now_ms = 1774436400000LL };	/* Wed 2026-03-25 11:00Z */
	}
}

struct stats {
	int64_t p50, p99;
};

static struct stats
percentiles(int64_t *v, size_t n, int64_t overhead)
{
	struct stats s;

	qsort(v, n, sizeof(*v), cmp64);
	s.p50 = v[n / 2] - overhead;
	s.p99 = v[n * 99 / 100] - overhead;
	return s;
}

static int64_t
timer_overhead(int64_t *v)
{
	for (size_t i = 0; i < SAMPLES; i++) {
		int64_t t0 = now_ns();

		v[i] = now_ns() - t0;
	}
	qsort(v, SAMPLES, sizeof(*v), cmp64);
	return v[SAMPLES / 2];
}

static volatile int sink;

static void
bench(const char *label, int nrules, bool one_pair, int64_t *v, int64_t overhead)
{
	struct pol_set *ps = make_set(nrules, one_pair);
	struct pol_rates *rates;
	struct pol_state st = { .evidence = evidence_found };
	struct req reqs[NREQ];
	struct pol_decision d;
	char **pats = calloc((size_t)nrules, sizeof(*pats));
	struct stats sp, sb;
	int ntenants = one_pair ? 1 : (nrules + 19) / 20, counts[3] = { 0 };

	pol_rates_new(&rates);
	st.rates = rates;
	make_reqs(reqs, ntenants, one_pair, nrules);
	for (int i = 0; i < NREQ; i++) {	/* warm up, and put a counter behind each rate */
		pol_decide(ps, &reqs[i].rq, &st, &d);
		pol_rate_commit(rates, ps, &reqs[i].rq, &d);
		counts[d.effect]++;
	}
	for (size_t i = 0; i < SAMPLES; i++) {
		const struct req *r = &reqs[i % NREQ];
		int64_t t0 = now_ns();

		pol_decide(ps, &r->rq, &st, &d);
		v[i] = now_ns() - t0;
		sink += d.effect;
	}
	sp = percentiles(v, SAMPLES, overhead);
	/* baseline: as many fnmatch calls as there are rules, on an app-name-like string */
	for (int i = 0; i < nrules; i++) {
		pats[i] = malloc(32);
		snprintf(pats[i], 32, "t%d-*", i);
	}
	for (size_t i = 0; i < SAMPLES / 10; i++) {
		int64_t t0 = now_ns();
		int m = 0;

		for (int k = 0; k < nrules; k++)
			m += fnmatch(pats[k], "t7-api", 0) == 0;
		v[i] = now_ns() - t0;
		sink += m;
	}
	sb = percentiles(v, SAMPLES / 10, overhead);
	printf("%-9s %6d %8lld %8lld %13lld %8lld %9.2f   %s   (allow %d, deny %d, pending %d)\n",
	    label, nrules, (long long)sp.p50, (long long)sp.p99, (long long)sb.p50,
	    (long long)sb.p99, sb.p50 > 0 ? (double)sp.p50 / (double)sb.p50 : 0.0,
	    nrules == 100 ? (sp.p99 <= 1000 ? "p99<=1us" : "p99>1us!") :
	    nrules == 1000 ? (sp.p99 <= 5000 ? "p99<=5us" : "p99>5us!") : "        ",
	    counts[POL_ALLOW], counts[POL_DENY], counts[POL_PENDING]);
	for (int i = 0; i < nrules; i++)
		free(pats[i]);
	free(pats);
	for (int i = 0; i < NREQ; i++)
		json_decref(reqs[i].args);
	pol_rates_free(rates);
	pol_set_free(ps);
}

int
main(void)
{
	int64_t *v = malloc(SAMPLES * sizeof(*v)), overhead;

	if (v == NULL)
		return 1;
	overhead = timer_overhead(v);
	printf("pol_decide latency, %d decisions per row over %d request shapes; timer overhead "
	    "%lld ns subtracted\n", SAMPLES, NREQ, (long long)overhead);
	printf("baseline: one bare fnmatch() per rule over the same number of rules\n\n");
	printf("%-9s %6s %8s %8s %13s %8s %9s\n", "policy", "rules", "p50_ns", "p99_ns",
	    "fnmatch_p50", "p99", "ratio_p50");
	bench("tenants", 10, false, v, overhead);
	bench("tenants", 100, false, v, overhead);
	bench("tenants", 1000, false, v, overhead);
	bench("one-pair", 100, true, v, overhead);
	bench("one-pair", 1000, true, v, overhead);
	free(v);
	return 0;
}
