/* Table-driven decisions over tests/policy/data/{base,payments,ci}.yaml: globs, classes,
 * where-conditions, windows across time zones and DST, rates, evidence, approvals, dry runs,
 * deny-overrides and default deny. Each row is one request through the real loader, schema
 * validation (defaults filled) and pol_decide(); rates are built by deciding and committing
 * the same request earlier ("prior"), evidence through pol_evidence_match(). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "policy/policy.h"
#include "tests/policy/testfam.h"

#define J(...) #__VA_ARGS__
#define CASE(...) { __VA_ARGS__, .line = __LINE__ }
#define A POL_ALLOW
#define D POL_DENY
#define P POL_PENDING

enum { DRY = 1, APPROVED = 2, REJECTED = 4 };

struct pcase {
	const char *tenant, *principal, *tool, *op, *args, *time;
	enum pol_effect want;
	const char *rules;		/* exact, comma-separated, "" for none */
	const char *reason;		/* substring, NULL: not checked */
	const char *ob;			/* obligations: "", "dry", "approval", "evidence", ... */
	unsigned flags;
	bool ev;			/* evidence recorded ev_age seconds before each decision */
	int ev_age;
	const char *ev_result;		/* default {"verdict":"fail"} */
	const char *ev_args;		/* default {"app_name": <this call's app_name>} */
	const char *ev_tenant;		/* default this call's tenant */
	const char *ev_op;		/* default canary_analyze */
	int prior, prior_step;		/* earlier admitted calls, prior_step s apart */
	const char *prior_principal;
	int line;
};

#define EV(age) .ev = true, .ev_age = (age)
#define PRIOR(n, step) .prior = (n), .prior_step = (step)

/* Times (UTC). 2026-03-29 and 2026-10-25: Europe/Berlin DST starts/ends; 2026-03-08 and
 * 2026-11-01: America/New_York; 2026-04-05 and 2026-10-04: Australia/Sydney. */
#define WED	"2026-03-25T11:00:00Z"		/* Wed 12:00 CET */
#define SAT	"2026-03-28T10:00:00Z"
#define SUN	"2026-03-29T10:00:00Z"
#define APP(x)	"{\"app_name\":\"" x "\"}"
#define RB(x)	"{\"app_name\":\"" x "\",\"id\":3}"

static const struct pcase cases[] = {
	/* --- echo: globs, regex, deny-overrides, default deny (rules without a tenant) --- */
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"hi"}), WED, A, "echo-any", "allowed by rule 'echo-any'", ""),
	CASE(NULL, "operator:bob", "echo", "echo", J({"msg":"hi"}), WED, A, "echo-any", NULL, ""),
	CASE("payments", "agent:a", "echo", "echo", J({"msg":"hi"}), WED, A, "echo-any", NULL, ""),
	CASE("ci", "agent:a", "echo", "echo", J({"msg":"hi"}), WED, A, "echo-any", NULL, ""),
	CASE("nobody", "agent:a", "echo", "echo", J({"msg":"hi"}), WED, A, "echo-any", NULL, ""),
	CASE(NULL, "user:x", "echo", "echo", J({"msg":"hi"}), WED, D, "", "default deny", ""),
	CASE(NULL, "agent", "echo", "echo", J({"msg":"hi"}), WED, D, "", "no rule allows echo.echo for agent", ""),
	CASE(NULL, "agentx:a", "echo", "echo", J({"msg":"hi"}), WED, D, "", "default deny", ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"my secret"}), WED, D, "echo-no-secrets", "denied by rule 'echo-no-secrets'", ""),
	CASE(NULL, "operator:bob", "echo", "echo", J({"msg":"secret"}), WED, D, "echo-no-secrets", NULL, ""),
	CASE(NULL, "operator:bob", "echo", "echo", J({"msg":"secrets!"}), WED, D, "echo-no-secrets", NULL, ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"HELLO WORLD"}), WED, D, "echo-no-shouting", NULL, ""),
	CASE(NULL, "operator:bob", "echo", "echo", J({"msg":"HELLO"}), WED, A, "echo-any", NULL, ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"SECRET"}), WED, D, "echo-no-shouting", NULL, ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"TOP secret"}), WED, D, "echo-no-secrets", NULL, ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":""}), WED, A, "echo-any", NULL, ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"hello!"}), WED, A, "echo-any", NULL, ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"!!!"}), WED, D, "echo-no-shouting", NULL, ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"   "}), WED, D, "echo-no-shouting", NULL, ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"A\nB"}), WED, A, "echo-any", NULL, ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"this is a secret message!!"}), WED, D, "echo-no-secrets,echo-no-long", "denied by rule 'echo-no-secrets'", ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"aaaaaaaaaaaaaaaaaaaa"}), WED, D, "echo-no-long", NULL, ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"aaaaaaaaaaaaaaaaaaa"}), WED, A, "echo-any", NULL, ""),
	CASE(NULL, "agent:a", "echo", "echo", J({"msg":"AAAAAAAAAAAAAAAAAAAA"}), WED, D, "echo-no-shouting,echo-no-long", NULL, ""),
	CASE(NULL, "operator:bob", "echo", "echo", J({"msg":"aaaaaaaaaaaaaaaaaaaaaaaaa"}), WED, A, "echo-any", NULL, ""),
	/* numbers: min/max inclusive, in-lists of numbers, a bare number is equality */
	CASE(NULL, "agent:a", "echo", "sleep", J({"ms":0}), WED, A, "echo-sleep-bounded", NULL, ""),
	CASE(NULL, "agent:a", "echo", "sleep", J({"ms":1000}), WED, A, "echo-sleep-bounded", NULL, ""),
	CASE(NULL, "agent:a", "echo", "sleep", J({"ms":1001}), WED, D, "", "default deny", ""),
	CASE(NULL, "operator:bob", "echo", "sleep", J({"ms":1001}), WED, A, "echo-sleep-long-ops", NULL, ""),
	CASE(NULL, "operator:bob", "echo", "sleep", J({"ms":1000}), WED, A, "echo-sleep-long-ops", NULL, ""),
	CASE(NULL, "operator:bob", "echo", "sleep", J({"ms":999}), WED, D, "", "default deny", ""),
	CASE(NULL, "operator:bob", "echo", "sleep", J({"ms":600000}), WED, A, "echo-sleep-long-ops", NULL, ""),
	CASE(NULL, "agent:tester", "echo", "fail", J({}), WED, A, "echo-fail-statuses", NULL, ""),
	CASE(NULL, "agent:tester", "echo", "fail", J({"status":500}), WED, A, "echo-fail-statuses", NULL, ""),
	CASE(NULL, "agent:tester", "echo", "fail", J({"status":503}), WED, A, "echo-fail-statuses", NULL, ""),
	CASE(NULL, "agent:tester", "echo", "fail", J({"status":404}), WED, D, "", "default deny", ""),
	CASE(NULL, "agent:tester", "echo", "fail", J({"status":501}), WED, D, "", NULL, ""),
	CASE(NULL, "agent:qa-1", "echo", "fail", J({"status":503}), WED, A, "echo-fail-statuses", NULL, ""),
	CASE(NULL, "agent:qa-x", "echo", "fail", J({"status":0}), WED, A, "echo-fail-statuses", NULL, ""),
	CASE(NULL, "agent:qa-12", "echo", "fail", J({"status":503}), WED, D, "", NULL, ""),
	CASE(NULL, "agent:qa-", "echo", "fail", J({"status":503}), WED, D, "", NULL, ""),
	CASE(NULL, "agent:fuzzer", "echo", "fail", J({}), WED, A, "echo-fail-message", NULL, ""),
	CASE(NULL, "agent:fuzzer", "echo", "fail", J({"message":"boom"}), WED, A, "echo-fail-message", NULL, ""),
	CASE(NULL, "agent:fuzzer", "echo", "fail", J({"message":"bang"}), WED, D, "", NULL, ""),
	CASE(NULL, "agent:fuzzer", "echo", "fail", J({"message":"boom","status":500}), WED, D, "", NULL, ""),
	CASE(NULL, "agent:fuzzer", "echo", "fail", J({"message":"Boom"}), WED, D, "", NULL, ""),
	/* classes: crash is the one mutating echo op (class:write), sleep is class:read */
	CASE(NULL, "operator:oncall-1", "echo", "crash", J({}), WED, A, "crash-operator-only", NULL, ""),
	CASE(NULL, "operator:oncall-1", "echo", "crash", J({"how":"abort"}), WED, A, "crash-operator-only", NULL, ""),
	CASE(NULL, "operator:x", "echo", "crash", J({"how":"syscall"}), WED, D, "", NULL, ""),
	CASE(NULL, "operator:x", "echo", "crash", J({"how":"exit"}), WED, D, "", NULL, ""),
	CASE(NULL, "agent:a", "echo", "crash", J({}), WED, D, "", NULL, ""),
	CASE(NULL, "operator:oncall-1", "echo", "sleep", J({"ms":5}), WED, A, "oncall-reads", NULL, ""),
	CASE(NULL, "operator:oncall", "echo", "sleep", J({"ms":5}), WED, D, "", NULL, ""),
	CASE("payments", "operator:oncall-7", "argocd", "get_application", APP("other-app"), WED, A, "oncall-reads", NULL, ""),
	CASE("payments", "operator:oncall-7", "argocd", "list_applications", J({}), WED, A, "oncall-reads", NULL, ""),
	CASE("payments", "operator:oncall-7", "argocd", "sync_application", APP("payments-api"), WED, D, "", NULL, ""),
	CASE("payments", "operator:oncall-7", "argocd", "rollback_application", RB("payments-api"), WED, P, "human-rollback", NULL, "approval"),
	CASE("payments", "operator:oncall-7", "prometheus", "query", J({"query":"up"}), WED, A, "oncall-reads", NULL, ""),
	CASE("ci", "operator:oncall-7", "github_actions", "list_workflow_runs", J({"owner":"x","repo":"y"}), WED, A, "oncall-reads", NULL, ""),
	CASE("ci", "operator:oncall-7", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"web","run_id":1}), WED, D, "", NULL, ""),
	CASE(NULL, "operator:oncall-7", "echo", "echo", J({"msg":"secret"}), WED, D, "echo-no-secrets", NULL, ""),
	/* a window in UTC (mon-fri 09:00-17:00) */
	CASE(NULL, "agent:office-bot", "echo", "fail", J({}), "2026-03-25T09:00:00Z", A, "utc-office", NULL, ""),
	CASE(NULL, "agent:office-bot", "echo", "fail", J({}), "2026-03-25T08:59:59Z", D, "utc-office", "outside its time window (mon,tue,wed,thu,fri 09:00-17:00 UTC)", ""),
	CASE(NULL, "agent:office-bot", "echo", "fail", J({}), "2026-03-25T16:59:59.999Z", A, "utc-office", NULL, ""),
	CASE(NULL, "agent:office-bot", "echo", "fail", J({}), "2026-03-25T17:00:00Z", D, "utc-office", "outside", ""),
	CASE(NULL, "agent:office-bot", "echo", "fail", J({}), "2026-03-28T12:00:00Z", D, "utc-office", "outside", ""),
	CASE(NULL, "agent:office-bot", "echo", "fail", J({}), "2026-03-29T12:00:00Z", D, "utc-office", "outside", ""),
	CASE(NULL, "agent:office-bot", "echo", "fail", J({}), "2026-03-27T12:00:00Z", A, "utc-office", NULL, ""),
	CASE(NULL, "agent:office-bot", "echo", "fail", J({}), "2026-03-30T09:30:00Z", A, "utc-office", NULL, ""),
	CASE(NULL, "agent:office-bot", "echo", "fail", J({}), "2026-03-30T09:30:00+02:00", D, "utc-office", "outside", ""),
	CASE(NULL, "agent:office-bot", "echo", "sleep", J({"ms":5000}), WED, A, "utc-office", NULL, ""),
	CASE(NULL, "agent:office-bot", "echo", "sleep", J({"ms":5000}), SAT, D, "utc-office", "outside", ""),
	CASE(NULL, "agent:office-bot", "echo", "sleep", J({"ms":5}), SAT, A, "echo-sleep-bounded", NULL, ""),

	/* --- payments: tenant scoping, globs and regexes on app names --- */
	CASE("payments", "agent:a", "argocd", "get_application", APP("payments-api"), WED, A, "argocd-read", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_sync_status", APP("payments-api"), WED, A, "argocd-read", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_application", APP("orders-api"), WED, D, "", "default deny", ""),
	CASE("ci", "agent:a", "argocd", "get_application", APP("payments-api"), WED, D, "", "default deny", ""),
	CASE(NULL, "agent:a", "argocd", "get_application", APP("payments-api"), WED, D, "", NULL, ""),
	CASE("payments-eu", "agent:a", "argocd", "get_application", APP("payments-api"), WED, D, "", NULL, ""),
	CASE("Payments", "agent:a", "argocd", "get_application", APP("payments-api"), WED, D, "", NULL, ""),
	CASE("payments", "agent:a", "argocd", "list_applications", J({}), WED, A, "argocd-list", NULL, ""),
	CASE("payments", "agent:a", "argocd", "list_applications", J({"selector":"team=x"}), WED, A, "argocd-list", NULL, ""),
	CASE("payments", "operator:bob", "argocd", "list_applications", J({}), WED, D, "", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_application", APP("payments-"), WED, A, "argocd-read", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_application", APP("Payments-api"), WED, D, "", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_application", APP("payments"), WED, D, "", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_application", APP("payments-a/b"), WED, A, "argocd-read", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_logs", APP("payments-api"), WED, A, "logs-tail", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_logs", J({"app_name":"payments-api","tail_lines":1000}), WED, A, "logs-tail", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_logs", J({"app_name":"payments-api","tail_lines":1001}), WED, D, "", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_logs", J({"app_name":"payments-api","tail_lines":0}), WED, A, "logs-tail", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_logs", APP("payments-API"), WED, D, "", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_logs", APP("payments-api-2"), WED, D, "", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_logs", APP("xpayments-api"), WED, D, "", NULL, ""),
	CASE("payments", "agent:a", "argocd", "get_logs", APP("payments-"), WED, D, "", NULL, ""),

	/* --- guardian rollback: evidence, Europe/Berlin window across both DST changes --- */
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, A, "guardian-rollback", "allowed by rule 'guardian-rollback'", "evidence", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "no evidence: prometheus.canary_analyze {\"verdict\":\"fail\"} same app_name within 15m", ""),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, A, "guardian-rollback", NULL, "evidence", EV(0)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, A, "guardian-rollback", NULL, "evidence", EV(899)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, A, "guardian-rollback", NULL, "evidence", EV(900)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "no evidence", "", EV(901)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "no evidence", "", EV(-60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "no evidence", "", EV(60), .ev_result = J({"verdict":"pass"})),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "no evidence", "", EV(60), .ev_result = J({"score":10})),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, A, "guardian-rollback", NULL, "evidence", EV(60), .ev_result = J({"verdict":"fail","score":3})),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "no evidence", "", EV(60), .ev_args = APP("payments-web")),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "no evidence", "", EV(60), .ev_args = J({})),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "no evidence", "", EV(60), .ev_tenant = "ci"),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "no evidence", "", EV(60), .ev_op = "query"),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("orders-api"), WED, D, "", "default deny", "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-27T05:00:00Z", A, "guardian-rollback", NULL, "evidence", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-27T04:59:59Z", D, "guardian-rollback", "outside its time window (mon,tue,wed,thu,fri 06:00-22:00 Europe/Berlin)", "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-27T20:59:59Z", A, "guardian-rollback", NULL, "evidence", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-27T21:00:00Z", D, "guardian-rollback", "outside", "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-30T04:00:00Z", A, "guardian-rollback", NULL, "evidence", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-30T03:59:59Z", D, "guardian-rollback", "outside", "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-30T19:59:59Z", A, "guardian-rollback", NULL, "evidence", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-30T20:00:00Z", D, "guardian-rollback", "outside", "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), SAT, D, "freeze-weekend", "denied by rule 'freeze-weekend'", "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), SUN, D, "freeze-weekend", NULL, "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-27T23:30:00Z", D, "freeze-weekend", NULL, "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-27T22:59:59Z", D, "guardian-rollback", "outside", "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-29T21:30:00Z", D, "freeze-weekend", NULL, "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-29T22:30:00Z", D, "guardian-rollback", "outside", "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-29T00:59:59Z", D, "freeze-weekend", NULL, "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-29T01:00:00Z", D, "freeze-weekend", NULL, "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-10-25T22:30:00Z", D, "freeze-weekend", NULL, "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-10-25T23:30:00Z", D, "guardian-rollback", "outside", "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-10-25T00:59:59Z", D, "freeze-weekend", NULL, "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-10-24T21:59:00Z", D, "freeze-weekend", NULL, "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-10-26T05:00:00Z", A, "guardian-rollback", NULL, "evidence", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-10-26T04:59:59Z", D, "guardian-rollback", "outside", "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-10-23T20:00:00Z", D, "guardian-rollback", "outside", "", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-10-23T19:59:59Z", A, "guardian-rollback", NULL, "evidence", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-10-23T06:00:00+02:00", A, "guardian-rollback", NULL, "evidence", EV(60)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-10-26T05:59:00+01:00", D, "guardian-rollback", "outside", "", EV(60)),
	/* rates: 3/1h per principal per rule, sliding, window end exclusive */
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, A, "guardian-rollback", NULL, "evidence", EV(60), PRIOR(2, 600)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "rate 3/1h exceeded for agent:deployment-guardian", "", EV(60), PRIOR(3, 600)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "rate 3/1h exceeded", "", EV(60), PRIOR(3, 1)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, A, "guardian-rollback", NULL, "evidence", EV(60), PRIOR(3, 1200)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "rate", "", EV(60), PRIOR(3, 1199)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, A, "guardian-rollback", NULL, "evidence", EV(60), PRIOR(5, 1500)),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), "2026-03-25T21:05:00Z", D, "guardian-rollback", "outside", "", EV(60), PRIOR(3, 1199)),
	/* approvals */
	CASE("payments", "operator:bob", "argocd", "rollback_application", RB("payments-api"), WED, P, "human-rollback", "rule 'human-rollback': waiting for approval (2 of group:sre, user:alice)", "approval"),
	CASE("payments", "operator:bob", "argocd", "rollback_application", RB("payments-api"), WED, A, "human-rollback", "allowed by rule 'human-rollback'", "approval", .flags = APPROVED),
	CASE("payments", "operator:bob", "argocd", "rollback_application", RB("payments-api"), WED, D, "human-rollback", "approval refused or expired", "", .flags = REJECTED),
	CASE("payments", "operator:bob", "argocd", "rollback_application", RB("payments-api"), SAT, P, "human-rollback", NULL, "approval"),
	CASE("payments", "operator:bob", "argocd", "rollback_application", RB("orders-api"), WED, P, "human-rollback", NULL, "approval"),
	CASE("payments", "operator:bob", "argocd", "rollback_application", RB("orders-api"), WED, P, "human-rollback", NULL, "approval", .flags = DRY),
	CASE("payments", "agent:deployment-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guardian-rollback", "no evidence", "", .flags = APPROVED),
	CASE("ci", "operator:bob", "argocd", "rollback_application", RB("payments-api"), WED, D, "", NULL, ""),
	/* approval AND evidence */
	CASE("payments", "agent:cautious-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guarded-rollback-approved", "no evidence", ""),
	CASE("payments", "agent:cautious-guardian", "argocd", "rollback_application", RB("payments-api"), WED, P, "guarded-rollback-approved", "waiting for approval (1 of group:sre)", "approval,evidence", EV(30)),
	CASE("payments", "agent:cautious-guardian", "argocd", "rollback_application", RB("payments-api"), WED, A, "guarded-rollback-approved", NULL, "approval,evidence", EV(30), .flags = APPROVED),
	CASE("payments", "agent:cautious-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guarded-rollback-approved", "refused", "", EV(30), .flags = REJECTED),
	CASE("payments", "agent:cautious-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guarded-rollback-approved", "no evidence", "", .flags = APPROVED),
	CASE("payments", "agent:cautious-guardian", "argocd", "rollback_application", RB("payments-api"), WED, D, "guarded-rollback-approved", "no evidence", "", EV(3600), .flags = APPROVED),
	CASE("payments", "agent:cautious-guardian", "argocd", "rollback_application", RB("payments-api"), SAT, D, "freeze-weekend", NULL, "", EV(30), .flags = APPROVED),
	/* dry runs: an allow as-is beats a dry-run-only allow */
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", APP("payments-api"), WED, A, "sync-dry-run", "allowed by rule 'sync-dry-run' as a dry run only", "dry"),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", APP("payments-api"), WED, A, "sync-dry-run", "allowed by rule 'sync-dry-run'", "", .flags = DRY),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", APP("payments-config"), WED, A, "sync-auto-remediable", NULL, ""),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", APP("payments-flags"), WED, A, "sync-auto-remediable", NULL, ""),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", J({"app_name":"payments-config","prune":true}), WED, A, "sync-dry-run", NULL, "dry"),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", J({"app_name":"payments-config","prune":false}), WED, A, "sync-auto-remediable", NULL, ""),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", APP("payments-config2"), WED, A, "sync-dry-run", NULL, "dry"),
	CASE("payments", "agent:drift-detector", "argocd", "terminate_sync", APP("payments-api"), WED, D, "sync-dry-run", "allows dry runs only and argocd.terminate_sync has none", ""),
	CASE("payments", "agent:drift-detector", "argocd", "terminate_sync", APP("payments-api"), WED, D, "sync-dry-run", "dry runs only", "", .flags = DRY),
	CASE("payments", "agent:drift-detector", "argocd", "terminate_sync", APP("payments-prod"), WED, D, "no-prod-terminate", NULL, ""),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", APP("payments-config"), WED, A, "sync-dry-run", NULL, "dry", PRIOR(10, 60)),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", APP("payments-config"), WED, A, "sync-auto-remediable", NULL, "", PRIOR(9, 60)),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", APP("payments-config"), WED, A, "sync-auto-remediable", NULL, "", PRIOR(10, 400)),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", APP("payments-config"), SAT, D, "freeze-weekend", NULL, ""),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", APP("payments-config"), SAT, D, "freeze-weekend", NULL, "", .flags = DRY),
	/* deny on a where, allow otherwise */
	CASE("payments", "agent:deployment-guardian", "argocd", "terminate_sync", APP("payments-api"), WED, A, "terminate", NULL, ""),
	CASE("payments", "agent:deployment-guardian", "argocd", "terminate_sync", APP("payments-prod"), WED, D, "no-prod-terminate", NULL, ""),
	CASE("payments", "operator:bob", "argocd", "terminate_sync", APP("payments-prod"), WED, D, "no-prod-terminate", NULL, ""),
	CASE("payments", "operator:bob", "argocd", "terminate_sync", APP("payments-api"), SAT, A, "terminate", NULL, ""),
	CASE("payments", "agent:deployment-guardian", "argocd", "terminate_sync", APP("payments-api"), SAT, D, "freeze-weekend", NULL, ""),
	CASE("payments", "agent:deployment-guardian", "argocd", "terminate_sync", APP("payments-prod"), SAT, D, "no-prod-terminate,freeze-weekend", "denied by rule 'no-prod-terminate'", ""),
	CASE("payments", "agent:deployment-guardian", "argocd", "terminate_sync", APP("prod"), WED, A, "terminate", NULL, ""),
	CASE("payments", "agent:deployment-guardian", "argocd", "terminate_sync", APP("-prod"), WED, D, "no-prod-terminate", NULL, ""),
	CASE("payments", "agent:deployment-guardian", "argocd", "terminate_sync", APP("payments-prod2"), WED, A, "terminate", NULL, ""),
	CASE("payments", "agent:other", "argocd", "terminate_sync", APP("payments-api"), WED, D, "", NULL, ""),
	/* night window 22:00-06:00 on mondays, America/New_York, across EST/EDT */
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-10T03:00:00Z", A, "night-ops", NULL, ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-10T09:59:59Z", A, "night-ops", NULL, ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-10T10:00:00Z", D, "night-ops", "outside its time window (mon 22:00-06:00 America/New_York)", ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-10T01:59:59Z", D, "night-ops", "outside", ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-10T02:00:00Z", A, "night-ops", NULL, ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-09T05:00:00Z", D, "night-ops", "outside", ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-03T03:00:00Z", A, "night-ops", NULL, ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-03T02:30:00Z", D, "night-ops", "outside", ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-10T02:30:00Z", A, "night-ops", NULL, ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-03T10:30:00Z", A, "night-ops", NULL, ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-10T10:30:00Z", D, "night-ops", "outside", ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-11-03T03:30:00Z", A, "night-ops", NULL, ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-11-03T02:30:00Z", D, "night-ops", "outside", ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-10-27T02:30:00Z", A, "night-ops", NULL, ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-11T03:00:00Z", D, "night-ops", "outside", ""),
	CASE("payments", "agent:night-watch", "argocd", "sync_application", APP("payments-api"), "2026-03-10T04:00:00Z", A, "night-ops", NULL, "", .flags = DRY),
	/* Australia/Sydney 09:00-17:00 every day, both DST changes and past 2037 (TZ footer) */
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2026-04-02T22:00:00Z", A, "sydney-window", NULL, ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2026-04-02T21:59:59Z", D, "sydney-window", "outside", ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2026-04-06T23:00:00Z", A, "sydney-window", NULL, ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2026-04-06T22:30:00Z", D, "sydney-window", "outside", ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2026-04-06T22:00:00Z", D, "sydney-window", "outside", ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2026-06-15T06:59:59Z", A, "sydney-window", NULL, ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2026-06-15T07:00:00Z", D, "sydney-window", "outside", ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2026-10-06T22:00:00Z", A, "sydney-window", NULL, ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2026-10-06T21:59:00Z", D, "sydney-window", "outside", ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2040-01-10T22:00:00Z", A, "sydney-window", NULL, ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2040-01-10T21:30:00Z", D, "sydney-window", "outside", ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2040-07-10T23:00:00Z", A, "sydney-window", NULL, ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2040-07-10T22:30:00Z", D, "sydney-window", "outside", ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2040-07-11T06:59:59Z", A, "sydney-window", NULL, ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2040-01-11T05:59:59Z", A, "sydney-window", NULL, ""),
	CASE("payments", "agent:apac-bot", "argocd", "sync_application", APP("payments-api"), "2040-01-11T06:00:00Z", D, "sydney-window", "outside", ""),
	/* prometheus: class '*', numeric max on a number */
	CASE("payments", "agent:a", "prometheus", "query", J({"query":"up"}), WED, A, "prom-all", NULL, ""),
	CASE("payments", "agent:a", "prometheus", "canary_analyze", APP("payments-api"), WED, A, "prom-all", NULL, ""),
	CASE("payments", "agent:a", "prometheus", "canary_analyze", J({"app_name":"x","threshold":0.5}), WED, D, "prom-strict-threshold", NULL, ""),
	CASE("payments", "agent:a", "prometheus", "canary_analyze", J({"app_name":"x","threshold":0.49}), WED, D, "prom-strict-threshold", NULL, ""),
	CASE("payments", "agent:a", "prometheus", "canary_analyze", J({"app_name":"x","threshold":0.51}), WED, A, "prom-all", NULL, ""),
	CASE("payments", "agent:a", "prometheus", "canary_analyze", J({"app_name":"x","threshold":0}), WED, D, "prom-strict-threshold", NULL, ""),
	CASE("payments", "agent:a", "prometheus", "canary_analyze", J({"app_name":"x","threshold":1}), WED, A, "prom-all", NULL, ""),
	CASE("ci", "agent:a", "prometheus", "query", J({"query":"up"}), WED, D, "", NULL, ""),
	/* array arguments: an allow needs every element, a deny any element */
	CASE("payments", "agent:deployer", "argocd", "sync_application", J({"app_name":"p","resources":["Deployment/web"]}), WED, A, "sync-resources", NULL, ""),
	CASE("payments", "agent:deployer", "argocd", "sync_application", J({"app_name":"p","resources":["Deployment/web","Deployment/worker"]}), WED, A, "sync-resources", NULL, ""),
	CASE("payments", "agent:deployer", "argocd", "sync_application", J({"app_name":"p","resources":["Deployment/web","Service/web"]}), WED, D, "", NULL, ""),
	CASE("payments", "agent:deployer", "argocd", "sync_application", J({"app_name":"p","resources":["Deployment/web","Secret/db"]}), WED, D, "no-secret-resources", NULL, ""),
	CASE("payments", "agent:deployer", "argocd", "sync_application", J({"app_name":"p","resources":[]}), WED, D, "", NULL, ""),
	CASE("payments", "agent:deployer", "argocd", "sync_application", J({"app_name":"p"}), WED, D, "", NULL, ""),
	CASE("payments", "operator:bob", "argocd", "sync_application", J({"app_name":"p","resources":["Secret/x"]}), WED, D, "no-secret-resources", NULL, ""),
	CASE("payments", "agent:drift-detector", "argocd", "sync_application", J({"app_name":"payments-config","resources":["Secret/x"]}), WED, D, "no-secret-resources", NULL, ""),
	/* an enum default filled by the schema */
	CASE("payments", "operator:bob", "argocd", "patch_application", J({"app_name":"a","patch":{"a":1}}), WED, A, "patch-merge-only", NULL, ""),
	CASE("payments", "operator:bob", "argocd", "patch_application", J({"app_name":"a","patch":[],"patch_type":"merge"}), WED, A, "patch-merge-only", NULL, ""),
	CASE("payments", "operator:bob", "argocd", "patch_application", J({"app_name":"a","patch":{},"patch_type":"json"}), WED, D, "", NULL, ""),
	CASE("payments", "agent:x", "argocd", "patch_application", J({"app_name":"a","patch":{}}), WED, D, "", NULL, ""),

	/* --- ci: github_actions --- */
	CASE("ci", "agent:a", "github_actions", "list_workflow_runs", J({"owner":"acme","repo":"web"}), WED, A, "gh-read", NULL, ""),
	CASE("ci", "agent:a", "github_actions", "get_workflow_run", J({"owner":"acme","repo":"web","run_id":12}), WED, A, "gh-read", NULL, ""),
	CASE("ci", "agent:a", "github_actions", "list_workflow_runs", J({"owner":"other","repo":"web"}), WED, D, "", NULL, ""),
	CASE("ci", "agent:a", "github_actions", "list_workflow_runs", J({"owner":"acme2","repo":"web"}), WED, D, "", NULL, ""),
	CASE("payments", "agent:a", "github_actions", "list_workflow_runs", J({"owner":"acme","repo":"web"}), WED, D, "", NULL, ""),
	CASE("ci", "agent:a", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"web","run_id":5}), WED, D, "", NULL, ""),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"web","run_id":5}), WED, A, "gh-rerun", NULL, ""),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"api","run_id":5}), WED, A, "gh-rerun", NULL, ""),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"docs","run_id":5}), WED, D, "", NULL, ""),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"Web","run_id":5}), WED, D, "", NULL, ""),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"web","run_id":5}), WED, D, "gh-rerun", "rate 2/10m exceeded for agent:pipeline-doctor", "", PRIOR(2, 60)),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"web","run_id":5}), WED, A, "gh-rerun", NULL, "", PRIOR(2, 300)),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"web","run_id":5}), WED, D, "gh-rerun", "rate", "", PRIOR(2, 299)),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"web","run_id":5}), WED, A, "gh-rerun", NULL, "", PRIOR(2, 60), .prior_principal = "agent:pipeline-doctor-2"),
	CASE("ci", "agent:pipeline-doctor-2", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"web","run_id":5}), WED, D, "gh-rerun", "rate 2/10m exceeded for agent:pipeline-doctor-2", "", PRIOR(2, 60), .prior_principal = "agent:pipeline-doctor-2"),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "rerun_failed_jobs", J({"owner":"acme","repo":"web","run_id":5}), WED, A, "gh-rerun", NULL, "", PRIOR(1, 60)),
	CASE("ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"v1.2.3"}), WED, P, "gh-trigger-release", "waiting for approval (1 of user:bob)", "approval"),
	CASE("ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"v1.2.3"}), WED, A, "gh-trigger-release", NULL, "approval", .flags = APPROVED),
	CASE("ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"v1.2.3"}), WED, D, "gh-trigger-release", "refused", "", .flags = REJECTED),
	CASE("ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"v1.2"}), WED, D, "", NULL, ""),
	CASE("ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"v1.2.3-rc1"}), WED, D, "", NULL, ""),
	CASE("ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"main"}), WED, D, "", NULL, ""),
	CASE("ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"build.yml","ref":"v1.2.3"}), WED, D, "", NULL, ""),
	CASE("ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy-prod.yml","ref":"v1.2.3"}), WED, P, "gh-trigger-release", NULL, "approval"),
	CASE("ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"v10.20.30"}), WED, P, "gh-trigger-release", NULL, "approval"),
	CASE("ci", "agent:release-manager", "github_actions", "trigger_workflow", J({"owner":"acme","repo":"web","workflow_id":"deploy.yml","ref":"v1x2y3"}), WED, D, "", NULL, ""),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "cancel_workflow_run", J({"owner":"acme","repo":"web","run_id":1000}), WED, A, "gh-cancel-own", NULL, ""),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "cancel_workflow_run", J({"owner":"acme","repo":"web","run_id":999}), WED, D, "", NULL, ""),
	CASE("ci", "agent:pipeline-doctor", "github_actions", "cancel_workflow_run", J({"owner":"acme","repo":"legacy-app","run_id":5000}), WED, D, "gh-no-cancel-legacy", NULL, ""),
	CASE("ci", "operator:alice", "github_actions", "cancel_workflow_run", J({"owner":"acme","repo":"legacy-app","run_id":5000}), WED, A, "gh-cancel-own", NULL, ""),
	CASE("ci", "operator:alice", "github_actions", "cancel_workflow_run", J({"owner":"acme","repo":"web","run_id":1}), WED, D, "", NULL, ""),
	CASE("ci", "operator:bob", "github_actions", "list_workflow_runs", J({"owner":"acme","repo":"web","per_page":50}), WED, A, "gh-big-pages", NULL, ""),
	CASE("ci", "operator:bob", "github_actions", "list_workflow_runs", J({"owner":"acme","repo":"web"}), WED, D, "", NULL, ""),
	CASE("ci", "operator:bob", "github_actions", "list_workflow_runs", J({"owner":"acme","repo":"web","per_page":51}), WED, D, "", NULL, ""),
	CASE("ci", "operator:release-1", "github_actions", "list_workflow_runs", J({"owner":"a","repo":"b","branch":"release/v2"}), WED, A, "gh-ops-branch", NULL, ""),
	CASE("ci", "operator:release-1", "github_actions", "list_workflow_runs", J({"owner":"a","repo":"b","branch":"release/x"}), WED, D, "", NULL, ""),
	CASE("ci", "operator:release-1", "github_actions", "list_workflow_runs", J({"owner":"a","repo":"b","branch":"release/v2/hotfix"}), WED, D, "", NULL, ""),
	CASE("ci", "operator:release-1", "github_actions", "list_workflow_runs", J({"owner":"a","repo":"b"}), WED, D, "", NULL, ""),
	CASE("ci", "operator:release-1", "github_actions", "list_workflow_runs", J({"owner":"a","repo":"b","per_page":50}), WED, A, "gh-big-pages", NULL, ""),

	/* --- operations the tables do not know --- */
	CASE("payments", "agent:a", "argocd", "delete_application", APP("payments-api"), WED, D, "", "unknown operation argocd.delete_application", ""),
	CASE("payments", "agent:a", "kubectl", "apply", J({}), WED, D, "", "unknown operation kubectl.apply", ""),
	CASE("payments", "operator:oncall-1", "echo", "Echo", J({}), WED, D, "", "unknown operation", ""),
};

/* ---------------------------------------------------------------- harness */

struct run {
	const struct pcase *c;
	const json_t *args;
};

static int
ev_lookup(void *arg, const struct pol_evidence_query *q, int64_t *found_at)
{
	const struct run *run = arg;
	const struct pcase *c = run->c;
	json_t *res, *args;
	int64_t at = q->now_ms - (int64_t)c->ev_age * 1000;
	bool ok;

	if (!c->ev)
		return 0;
	res = json_loads(c->ev_result ? c->ev_result : "{\"verdict\":\"fail\"}", 0, NULL);
	args = c->ev_args ? json_loads(c->ev_args, 0, NULL) :
	    json_pack("{s:O}", "app_name", json_object_get(run->args, "app_name"));
	cr_assert(res && args, "case line %d: bad evidence JSON", c->line);
	ok = pol_evidence_match(q, c->ev_tenant ? c->ev_tenant : c->tenant, "prometheus",
	    c->ev_op ? c->ev_op : "canary_analyze", args, res, at);
	json_decref(res);
	json_decref(args);
	if (ok)
		*found_at = at;
	return ok;
}

static void
ob_string(const struct pol_decision *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", d->approval ? "approval" : "",
	    d->approval && (d->evidence || d->dry_run_only) ? "," : "", d->evidence ? "evidence" : "",
	    d->evidence && d->dry_run_only ? "," : "", d->dry_run_only ? "dry" : "");
}

static void
rules_string(const struct pol_decision *d, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < d->nrules; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "", d->rules[i]);
}

static json_t *
case_args(const struct pcase *c)
{
	const struct tool_op *op = NULL;
	json_t *args = json_loads(c->args, 0, NULL);
	char err[256];

	cr_assert(args != NULL, "case line %d: bad args JSON", c->line);
	for (size_t i = 0; i < test_nfamilies; i++)
		if (strcmp(test_families[i]->name, c->tool) == 0)
			op = tool_op_find(test_families[i], c->op);
	if (op != NULL)
		cr_assert(tool_args_validate(op, args, err, sizeof(err)) == 0,
		    "case line %d: args rejected by the schema: %s", c->line, err);
	return args;
}

static void
run_case(const struct pol_set *ps, const struct pcase *c)
{
	struct pol_rates *rates;
	struct pol_decision d;
	struct run run = { .c = c };
	struct pol_state st = { .evidence = ev_lookup, .evidence_arg = &run,
		.approval = c->flags & APPROVED ? POL_APPROVAL_GRANTED :
		c->flags & REJECTED ? POL_APPROVAL_REJECTED : POL_APPROVAL_NONE };
	struct pol_request rq = { .tenant = c->tenant, .principal = c->principal, .tool = c->tool,
		.op = c->op, .dry_run = c->flags & DRY };
	char got_rules[512], got_ob[64];
	int64_t now;

	cr_assert(pol_time_parse(c->time, &now) == 0, "case line %d: bad time", c->line);
	cr_assert(pol_rates_new(&rates) == 0);
	st.rates = rates;
	run.args = rq.args = case_args(c);
	for (int i = 0; i < c->prior; i++) {
		struct pol_request prq = rq;

		prq.principal = c->prior_principal ? c->prior_principal : c->principal;
		prq.now_ms = now - (int64_t)(c->prior - i) * c->prior_step * 1000;
		cr_assert(pol_decide(ps, &prq, &st, &d) == 0);
		cr_assert(d.effect == POL_ALLOW, "case line %d: prior call %d not allowed: %s",
		    c->line, i, d.reason);
		cr_assert(pol_rate_commit(rates, ps, &prq, &d) == 0);
	}
	rq.now_ms = now;
	cr_assert(pol_decide(ps, &rq, &st, &d) == 0, "case line %d", c->line);
	rules_string(&d, got_rules, sizeof(got_rules));
	ob_string(&d, got_ob, sizeof(got_ob));
	cr_expect(d.effect == c->want, "case line %d: effect %s, want %s (reason: %s)", c->line,
	    pol_effect_name(d.effect), pol_effect_name(c->want), d.reason);
	cr_expect_str_eq(got_rules, c->rules, "case line %d: rules '%s', want '%s' (reason: %s)",
	    c->line, got_rules, c->rules, d.reason);
	if (c->reason)
		cr_expect(strstr(d.reason, c->reason) != NULL, "case line %d: reason '%s' lacks '%s'",
		    c->line, d.reason, c->reason);
	cr_expect_str_eq(got_ob, c->ob, "case line %d: obligations '%s', want '%s'", c->line,
	    got_ob, c->ob);
	json_decref((json_t *)rq.args);
	pol_rates_free(rates);
}

static struct pol_set *
load_case_set(void)
{
	const char *files[] = { POL_TEST_DATA "/base.yaml", POL_TEST_DATA "/payments.yaml",
		POL_TEST_DATA "/ci.yaml" };
	struct ydoc_errs e = { 0 };
	struct pol_set *ps = NULL;
	int rc = pol_set_load(files, 3, &test_opts, &ps, &e);

	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "%s\n", e.msg[i]);
	cr_assert(rc == 0, "loading the case policies: %d", rc);
	cr_assert(e.n == 0, "the case policies load without warnings (%zu)", e.n);
	ydoc_errs_free(&e);
	return ps;
}

Test(policy_cases, table)
{
	struct pol_set *ps = load_case_set();
	size_t n = sizeof(cases) / sizeof(cases[0]);

	cr_log_info("%zu decision cases", n);
	cr_assert(n >= 200);
	for (size_t i = 0; i < n; i++)
		run_case(ps, &cases[i]);
	pol_set_free(ps);
}

/* The decision JSON the CLI and the audit records carry. */
Test(policy_cases, decision_json)
{
	struct pol_set *ps = load_case_set();
	struct pol_request rq = { .tenant = "payments", .principal = "operator:bob",
		.tool = "argocd", .op = "rollback_application" };
	struct pol_decision d;
	json_t *args = json_pack("{s:s, s:i, s:b}", "app_name", "payments-api", "id", 3, "prune", 0);
	json_t *j;
	char *s;

	cr_assert(pol_time_parse(WED, &rq.now_ms) == 0);
	rq.args = args;
	cr_assert(pol_decide(ps, &rq, NULL, &d) == 0);
	j = pol_decision_json(&d);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_expect_str_eq(s, "{\"effect\":\"pending\",\"obligations\":{\"approval\":{\"approvers\":"
	    "[\"group:sre\",\"user:alice\"],\"quorum\":2,\"timeout_ms\":1800000}},\"reason\":"
	    "\"rule 'human-rollback': waiting for approval (2 of group:sre, user:alice)\","
	    "\"rules\":[\"human-rollback\"]}");
	free(s);
	json_decref(j);
	json_decref(args);
	pol_set_free(ps);
}

Test(policy_cases, bad_requests)
{
	struct pol_set *ps = load_case_set();
	struct pol_request rq = { .tenant = "payments", .principal = "agent:a", .tool = "echo" };
	struct pol_decision d;

	cr_expect(pol_decide(ps, &rq, NULL, &d) == -EINVAL);
	rq.op = "echo";
	rq.principal = NULL;
	cr_expect(pol_decide(ps, &rq, NULL, &d) == -EINVAL);
	cr_expect(pol_decide(NULL, &rq, NULL, &d) == -EINVAL);
	/* no args at all: a where-condition never holds, plain rules still do */
	rq.principal = "agent:a";
	cr_assert(pol_decide(ps, &rq, NULL, &d) == 0);
	cr_expect(d.effect == POL_ALLOW && d.nrules == 1 && strcmp(d.rules[0], "echo-any") == 0);
	pol_set_free(ps);
}

/* The evaluator is pure: the same set decided from 8 threads at once gives, for every row,
 * the same effect and rules as one thread (prior calls and evidence left out here). */
#define NTHREADS 8

struct tjob {
	const struct pol_set *ps;
	json_t **args;
	int64_t *now;
	char (*got)[96];
};

static void
decide_row(const struct pol_set *ps, const struct pcase *c, json_t *args, int64_t now,
    char out[96])
{
	struct pol_request rq = { .tenant = c->tenant, .principal = c->principal, .tool = c->tool,
		.op = c->op, .args = args, .now_ms = now, .dry_run = c->flags & DRY };
	struct pol_state st = { .approval = c->flags & APPROVED ? POL_APPROVAL_GRANTED :
		c->flags & REJECTED ? POL_APPROVAL_REJECTED : POL_APPROVAL_NONE };
	struct pol_decision d;
	char rules[64];

	if (pol_decide(ps, &rq, &st, &d) != 0) {
		snprintf(out, 96, "error");
		return;
	}
	rules_string(&d, rules, sizeof(rules));
	snprintf(out, 96, "%s %s", pol_effect_name(d.effect), rules);
}

static void *
tjob_run(void *arg)
{
	struct tjob *j = arg;
	size_t n = sizeof(cases) / sizeof(cases[0]);

	for (int rep = 0; rep < 20; rep++)
		for (size_t i = 0; i < n; i++)
			decide_row(j->ps, &cases[i], j->args[i], j->now[i], j->got[i]);
	return NULL;
}

Test(policy_cases, threads)
{
	struct pol_set *ps = load_case_set();
	size_t n = sizeof(cases) / sizeof(cases[0]);
	json_t *args[sizeof(cases) / sizeof(cases[0])];
	int64_t now[sizeof(cases) / sizeof(cases[0])];
	static char ref[sizeof(cases) / sizeof(cases[0])][96];
	static char got[NTHREADS][sizeof(cases) / sizeof(cases[0])][96];
	struct tjob jobs[NTHREADS];
	pthread_t th[NTHREADS];

	for (size_t i = 0; i < n; i++) {
		args[i] = case_args(&cases[i]);
		cr_assert(pol_time_parse(cases[i].time, &now[i]) == 0);
		decide_row(ps, &cases[i], args[i], now[i], ref[i]);
	}
	for (int t = 0; t < NTHREADS; t++) {
		jobs[t] = (struct tjob){ ps, args, now, got[t] };
		cr_assert(pthread_create(&th[t], NULL, tjob_run, &jobs[t]) == 0);
	}
	for (int t = 0; t < NTHREADS; t++) {
		pthread_join(th[t], NULL);
		for (size_t i = 0; i < n; i++)
			cr_expect_str_eq(got[t][i], ref[i], "thread %d, case line %d", t,
			    cases[i].line);
	}
	for (size_t i = 0; i < n; i++)
		json_decref(args[i]);
	pol_set_free(ps);
}
