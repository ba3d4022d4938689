/* corralctl policy check | eval | replay, through the library entry points with real files:
 * exit codes, exact output lines, JSON output, and a replay of an audit log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "policy/polcli.h"
#include "tests/policy/testfam.h"

static char dir[64];

static const char policy_yaml[] =
	"apiVersion: corral.dev/v1\n"
	"kind: Policy\n"
	"metadata: { name: cli }\n"
	"spec:\n"
	"  tenant: payments\n"
	"  rules:\n"
	"    - id: guardian-rollback\n"
	"      effect: allow\n"
	"      principals: [\"agent:deployment-guardian\"]\n"
	"      tool: argocd\n"
	"      operations: [rollback_application]\n"
	"      where: { app_name: \"payments-*\" }\n"
	"      rate: 2/1h\n"
	"      obligations:\n"
	"        evidence: { op: prometheus.canary_analyze, match: { verdict: fail },\n"
	"                    same: [app_name], within: 15m }\n"
	"    - id: human-rollback\n"
	"      effect: allow\n"
	"      principals: [\"operator:*\"]\n"
	"      tool: argocd\n"
	"      operations: [rollback_application]\n"
	"      obligations:\n"
	"        approval: { approvers: [\"group:sre\"], quorum: 1, timeout: 30m }\n"
	"    - id: reads\n"
	"      effect: allow\n"
	"      principals: [\"agent:*\"]\n"
	"      tool: argocd\n"
	"      operations: [\"class:read\"]\n";

static char *
path(const char *name)
{
	static char p[4][128];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static void
put(const char *name, const char *text)
{
	FILE *f = fopen(path(name), "w");

	cr_assert(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pol-cli-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
	put("p.yaml", policy_yaml);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect(system(cmd) == 0);
}

struct out {
	char *out, *err;
	int rc;
};

/* Runs one command; argv is NULL-terminated. opts NULL: the real registry. */
static struct out
run(const struct pol_load_opts *opts, const char *const *argv)
{
	struct out o = { 0 };
	size_t lo, le;
	FILE *fo = open_memstream(&o.out, &lo), *fe = open_memstream(&o.err, &le);
	int argc = 0;

	while (argv[argc])
		argc++;
	o.rc = opts ? pol_cli_run(opts, argc, (char *const *)argv, fo, fe) :
	    pol_cli(argc, (char *const *)argv, fo, fe);
	fclose(fo);
	fclose(fe);
	return o;
}

static void
out_free(struct out *o)
{
	free(o->out);
	free(o->err);
}

TestSuite(policy_cli, .init = setup, .fini = teardown);

Test(policy_cli, check)
{
	struct out o;

	o = run(&test_opts, (const char *[]){ "check", path("p.yaml"), NULL });
	cr_expect(o.rc == 0, "rc %d: %s%s", o.rc, o.out, o.err);
	cr_expect(strncmp(o.out, "1 file, 3 rules: 0 errors, 0 warnings; policy hash ", 51) == 0 &&
	    strlen(o.out) == 51 + 64 + 1, "%s", o.out);
	out_free(&o);

	put("w.yaml", "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: w }\nspec:\n"
	    "  rules:\n    - { id: a, effect: allow, principals: [\"agent:*\"], tool: echo, operations: [echo] }\n"
	    "    - { id: b, effect: allow, principals: [\"agent:x\"], tool: echo, operations: [echo] }\n");
	o = run(&test_opts, (const char *[]){ "check", path("p.yaml"), path("w.yaml"), NULL });
	cr_expect(o.rc == 1, "rc %d", o.rc);
	cr_expect(strstr(o.out, "/w.yaml:7:7: warning: rule 'b' is shadowed by rule 'a' (") != NULL,
	    "%s", o.out);
	cr_expect(strstr(o.out, "\n2 files, 5 rules: 0 errors, 1 warning; policy hash ") != NULL,
	    "%s", o.out);
	out_free(&o);

	put("e.yaml", "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: e }\nspec:\n"
	    "  rules:\n    - { id: a, effect: allow, principals: [\"agent:*\"], tool: argo, operations: [echo] }\n"
	    "    - { id: b, effect: allow, principals: [\"agent:x\"], tool: echo, operations: [echo], rate: 3/1y }\n");
	o = run(&test_opts, (const char *[]){ "check", path("e.yaml"), NULL });
	cr_expect(o.rc == 2);
	cr_expect(strstr(o.out, "/e.yaml:6:62: unknown tool 'argo'\n") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "/e.yaml:7:94: rate: expected") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "1 file, 0 rules: 2 errors, 0 warnings\n") != NULL, "%s", o.out);
	out_free(&o);

	o = run(&test_opts, (const char *[]){ "check", "-o", "json", path("w.yaml"), NULL });
	cr_expect(o.rc == 1);
	{
		json_t *j = json_loads(o.out, 0, NULL);

		cr_assert(j != NULL, "%s", o.out);
		cr_expect(json_array_size(json_object_get(j, "errors")) == 0);
		cr_expect(json_array_size(json_object_get(j, "warnings")) == 1);
		cr_expect(json_integer_value(json_object_get(j, "rules")) == 2);
		cr_expect(json_string_length(json_object_get(j, "hash")) == 64);
		json_decref(j);
	}
	out_free(&o);

	o = run(&test_opts, (const char *[]){ "check", path("missing.yaml"), NULL });
	cr_expect(o.rc == 2 && strstr(o.out, "/missing.yaml: cannot open: No such file") != NULL,
	    "%s", o.out);
	out_free(&o);
	o = run(&test_opts, (const char *[]){ "check", NULL });
	cr_expect(o.rc == 2 && strstr(o.err, "no policy file given") != NULL);
	out_free(&o);
	o = run(&test_opts, (const char *[]){ "check", "--bogus", path("p.yaml"), NULL });
	cr_expect(o.rc == 2 && strstr(o.err, "unknown option --bogus") != NULL);
	out_free(&o);
	o = run(&test_opts, (const char *[]){ "lint", path("p.yaml"), NULL });
	cr_expect(o.rc == 2 && strstr(o.err, "unknown command 'lint'") != NULL);
	out_free(&o);
}

#define GUARD_RQ "{\"tenant\":\"payments\",\"principal\":\"agent:deployment-guardian\"," \
	"\"tool\":\"argocd\",\"op\":\"rollback_application\",\"args\":{\"app_name\":\"payments-api\"," \
	"\"id\":3},\"time\":\"2026-03-25T11:00:00Z\"}"
#define EVIDENCE "[{\"op\":\"prometheus.canary_analyze\",\"time\":\"2026-03-25T10:59:00Z\"," \
	"\"args\":{\"app_name\":\"payments-api\"},\"result\":{\"verdict\":\"fail\",\"score\":2}}]"

Test(policy_cli, eval)
{
	struct out o;
	json_t *j, *want;

	o = run(&test_opts, (const char *[]){ "eval", path("p.yaml"), "--request", GUARD_RQ,
	    "--evidence", EVIDENCE, NULL });
	cr_expect(o.rc == 0, "rc %d: %s", o.rc, o.err);
	cr_expect_str_eq(o.out, "effect: allow\nrules: guardian-rollback\nreason: allowed by rule "
	    "'guardian-rollback'\nobligation: evidence prometheus.canary_analyze "
	    "{\"verdict\":\"fail\"} same app_name within 15m, found at 2026-03-25T10:59:00.000Z\n");
	out_free(&o);

	put("rq.json", GUARD_RQ);
	put("ev.json", EVIDENCE);
	o = run(&test_opts, (const char *[]){ "eval", path("p.yaml"), "--request", path("rq.json"),
	    "--evidence", path("ev.json"), "-o", "json", NULL });
	cr_expect(o.rc == 0);
	j = json_loads(o.out, 0, NULL);
	want = json_loads("{\"effect\":\"allow\",\"rules\":[\"guardian-rollback\"],\"reason\":"
	    "\"allowed by rule 'guardian-rollback'\",\"obligations\":{\"evidence\":{\"requires\":"
	    "\"prometheus.canary_analyze {\\\"verdict\\\":\\\"fail\\\"} same app_name within 15m\","
	    "\"op\":\"prometheus.canary_analyze\",\"found_at\":\"2026-03-25T10:59:00.000Z\"}}}", 0, NULL);
	cr_expect(j && want && json_equal(j, want), "%s", o.out);
	json_decref(j);
	json_decref(want);
	out_free(&o);

	/* without the evidence: deny, exit 1 */
	o = run(&test_opts, (const char *[]){ "eval", path("p.yaml"), "--request", GUARD_RQ, NULL });
	cr_expect(o.rc == 1);
	cr_expect(strstr(o.out, "effect: deny\nrules: guardian-rollback\nreason: rule "
	    "'guardian-rollback': no evidence: ") != NULL, "%s", o.out);
	out_free(&o);

	/* approvals */
	o = run(&test_opts, (const char *[]){ "eval", path("p.yaml"), "--request",
	    "{\"tenant\":\"payments\",\"principal\":\"operator:bob\",\"tool\":\"argocd\","
	    "\"op\":\"rollback_application\",\"args\":{\"app_name\":\"x\",\"id\":1},\"time\":0}", NULL });
	cr_expect(o.rc == 1);
	cr_expect_str_eq(o.out, "effect: pending\nrules: human-rollback\nreason: rule "
	    "'human-rollback': waiting for approval (1 of group:sre)\nobligation: approval by 1 of "
	    "group:sre (timeout 1800s)\n");
	out_free(&o);
	o = run(&test_opts, (const char *[]){ "eval", path("p.yaml"), "--approval", "granted",
	    "--request", "{\"tenant\":\"payments\",\"principal\":\"operator:bob\",\"tool\":\"argocd\","
	    "\"op\":\"rollback_application\",\"args\":{\"app_name\":\"x\",\"id\":1}}", NULL });
	cr_expect(o.rc == 0 && strncmp(o.out, "effect: allow\n", 14) == 0, "%s", o.out);
	out_free(&o);

	/* default deny */
	o = run(&test_opts, (const char *[]){ "eval", path("p.yaml"), "--request",
	    "{\"principal\":\"agent:x\",\"tool\":\"echo\",\"op\":\"echo\",\"args\":{\"msg\":\"hi\"}}", NULL });
	cr_expect(o.rc == 1);
	cr_expect_str_eq(o.out, "effect: deny\nrules: -\nreason: no rule allows echo.echo for "
	    "agent:x (default deny)\n");
	out_free(&o);

	/* bad input: exit 2 with a reason */
	static const struct { const char *rq, *err; } bad[] = {
		{ "{\"tool\":\"echo\",\"op\":\"echo\"}", "--request: principal, tool and op are required" },
		{ "{\"principal\":\"agent:x\",\"tool\":\"echo\",\"op\":\"echo\",\"args\":{}}", "--request: args do not match echo.echo: msg: required argument missing" },
		{ "{\"principal\":\"agent:x\",\"tool\":\"echo\",\"op\":\"echo\",\"args\":{\"msg\":1}}", "--request: args do not match echo.echo" },
		{ "{\"principal\":\"agent:x\",\"tool\":\"echo\",\"op\":\"echo\",\"args\":[]}", "--request: args: expected an object" },
		{ "{\"principal\":\"agent:x\",\"tool\":\"echo\",\"op\":\"echo\",\"time\":\"yesterday\"}", "--request: time: expected RFC 3339" },
		{ "{\"principal\":\"agent:x\",\"tool\":\"echo\",\"op\":\"echo\",\"dry_run\":1}", "--request: dry_run: expected true or false" },
		{ "{\"principal\":", "--request: 1:13: " },
		{ "/nonexistent/rq.json", "--request: /nonexistent/rq.json: No such file or directory" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = run(&test_opts, (const char *[]){ "eval", path("p.yaml"), "--request", bad[i].rq,
		    NULL });
		cr_expect(o.rc == 2 && strncmp(o.err, bad[i].err, strlen(bad[i].err)) == 0,
		    "%zu: rc %d, err %s", i, o.rc, o.err);
		out_free(&o);
	}
	o = run(&test_opts, (const char *[]){ "eval", path("p.yaml"), NULL });
	cr_expect(o.rc == 2 && strstr(o.err, "--request is required") != NULL);
	out_free(&o);
	o = run(&test_opts, (const char *[]){ "eval", path("p.yaml"), "--request", GUARD_RQ,
	    "--evidence", "[{\"op\":\"x\"}]", NULL });
	cr_expect(o.rc == 2 && strstr(o.err, "--evidence: record 0: needs tool, op, time") != NULL,
	    "%s", o.err);
	out_free(&o);
	o = run(&test_opts, (const char *[]){ "eval", path("p.yaml"), "--request", GUARD_RQ,
	    "--approval", "maybe", NULL });
	cr_expect(o.rc == 2);
	out_free(&o);
}

static const char audit_log[] =
	"{\"seq\":1,\"type\":\"lifecycle\",\"time\":\"2026-03-25T10:00:00.000Z\",\"event\":\"start\"}\n"
	"{\"seq\":2,\"type\":\"decision\",\"time\":\"2026-03-25T10:54:00.000Z\",\"tenant\":\"payments\","
	"\"principal\":\"agent:deployment-guardian\",\"tool\":\"prometheus\",\"op\":\"canary_analyze\","
	"\"args\":{\"app_name\":\"payments-api\"},\"decision\":\"deny\"}\n"
	"{\"seq\":30,\"type\":\"outcome\",\"time\":\"2026-03-25T10:55:00.000Z\",\"tenant\":\"payments\","
	"\"principal\":\"agent:deployment-guardian\",\"tool\":\"prometheus\",\"op\":\"canary_analyze\","
	"\"call\":7,\"decision_seq\":2,\"outcome\":\"ok\",\"evidence\":{\"verdict\":\"fail\",\"score\":1}}\n"
	"{\"seq\":3,\"type\":\"decision\",\"time\":\"2026-03-25T11:00:00.000Z\",\"tenant\":\"payments\","
	"\"principal\":\"agent:deployment-guardian\",\"tool\":\"argocd\",\"op\":\"rollback_application\","
	"\"args\":{\"app_name\":\"payments-api\",\"id\":3,\"prune\":false},\"decision\":\"allow\","
	"\"rules\":[\"guardian-rollback\"]}\n"
	"{\"seq\":4,\"type\":\"decision\",\"time\":\"2026-03-25T11:01:00.000Z\",\"tenant\":\"payments\","
	"\"principal\":\"agent:deployment-guardian\",\"tool\":\"argocd\",\"op\":\"rollback_application\","
	"\"args\":{\"app_name\":\"payments-api\",\"id\":3,\"prune\":false},\"decision\":\"allow\","
	"\"rules\":[\"guardian-rollback\"]}\n"
	"{\"seq\":5,\"type\":\"decision\",\"time\":\"2026-03-25T11:02:00.000Z\",\"tenant\":\"payments\","
	"\"principal\":\"agent:deployment-guardian\",\"tool\":\"argocd\",\"op\":\"rollback_application\","
	"\"args\":{\"app_name\":\"payments-api\",\"id\":3,\"prune\":false},\"decision\":\"allow\","
	"\"rules\":[\"guardian-rollback\"]}\n"
	"{\"seq\":6,\"type\":\"decision\",\"time\":\"2026-03-25T11:03:00.000Z\",\"tenant\":\"payments\","
	"\"principal\":\"operator:bob\",\"tool\":\"argocd\",\"op\":\"rollback_application\","
	"\"args\":{\"app_name\":\"x\",\"id\":1},\"decision\":\"pending\",\"rule_ids\":[\"human-rollback\"]}\n"
	"{\"seq\":7,\"type\":\"decision\",\"time\":\"2026-03-25T11:04:00.000Z\",\"tenant\":\"payments\","
	"\"principal\":\"operator:bob\",\"tool\":\"argocd\",\"op\":\"rollback_application\","
	"\"args\":{\"app_name\":\"x\",\"id\":1},\"decision\":\"allow\",\"approval_ids\":[\"ap-1\"]}\n"
	"{\"seq\":8,\"type\":\"decision\",\"time\":\"2026-03-25T11:10:00.000Z\",\"tenant\":\"payments\","
	"\"principal\":\"agent:x\",\"tool\":\"argocd\",\"op\":\"get_application\","
	"\"args\":{\"app_name\":\"payments-api\"},\"decision\":\"deny\"}\n"
	"this is not json\n"
	"{\"seq\":10,\"type\":\"decision\"}\n"
	"{\"seq\":11,\"type\":\"decision\",\"time\":\"2026-03-25T12:05:00.000Z\",\"tenant\":\"payments\","
	"\"principal\":\"agent:deployment-guardian\",\"tool\":\"argocd\",\"op\":\"rollback_application\","
	"\"args\":{\"app_name\":\"payments-web\",\"id\":9},\"decision\":\"allow\","
	"\"rules\":[\"guardian-rollback\"]}\n"
	"{\"seq\":12,\"type\":\"decision\",\"time\":\"2026-03-25T12:06:00.000Z\",\"tenant\":\"payments\","
	"\"principal\":\"agent:x\",\"tool\":\"argocd\",\"op\":\"list_applications\",\"args\":{},"
	"\"decision\":{\"effect\":\"deny\"}}\n"
	"\n";

Test(policy_cli, replay)
{
	struct out o;
	char *line, *save = NULL;
	int seqs[8], n = 0;

	put("audit.jsonl", audit_log);
	o = run(&test_opts, (const char *[]){ "replay", path("p.yaml"), "--audit",
	    path("audit.jsonl"), NULL });
	cr_expect(o.rc == 1, "rc %d: %s", o.rc, o.err);
	cr_expect(strstr(o.out, "seq 5 2026-03-25T11:02:00.000Z payments agent:deployment-guardian "
	    "argocd.rollback_application: allow [guardian-rollback] -> deny [guardian-rollback]: "
	    "rule 'guardian-rollback': rate 2/1h exceeded for agent:deployment-guardian\n") != NULL,
	    "%s", o.out);
	cr_expect(strstr(o.out, "seq 8 2026-03-25T11:10:00.000Z payments agent:x "
	    "argocd.get_application: deny -> allow [reads]: allowed by rule 'reads'\n") != NULL);
	cr_expect(strstr(o.out, "seq 11 2026-03-25T12:05:00.000Z payments agent:deployment-guardian "
	    "argocd.rollback_application: allow [guardian-rollback] -> deny [guardian-rollback]: "
	    "rule 'guardian-rollback': no evidence: ") != NULL);
	cr_expect(strstr(o.out, "seq 12 2026-03-25T12:06:00.000Z payments agent:x "
	    "argocd.list_applications: deny -> allow [reads]") != NULL);
	cr_expect(strstr(o.out, "seq 3 ") == NULL && strstr(o.out, "seq 6 ") == NULL &&
	    strstr(o.out, "seq 7 ") == NULL);
	cr_expect(strstr(o.out, "\n9 decisions replayed, 4 would change (2 other records, 2 "
	    "malformed lines skipped); policy hash ") != NULL, "%s", o.out);
	out_free(&o);

	o = run(&test_opts, (const char *[]){ "replay", "-o", "json", path("p.yaml"), "--audit",
	    path("audit.jsonl"), NULL });
	cr_expect(o.rc == 1);
	for (line = strtok_r(o.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);

		cr_assert(j != NULL, "%s", line);
		if (json_object_get(j, "summary")) {
			cr_expect(json_integer_value(json_object_get(json_object_get(j, "summary"),
			    "changed")) == 4);
		} else if (n < 8) {
			seqs[n++] = (int)json_integer_value(json_object_get(j, "seq"));
			cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "new"),
			    "effect")), seqs[n - 1] % 2 ? "deny" : "allow");
		}
		json_decref(j);
	}
	cr_expect(n == 4 && seqs[0] == 5 && seqs[1] == 8 && seqs[2] == 11 && seqs[3] == 12);
	out_free(&o);

	/* a log that agrees with the policy replays without changes */
	put("same.jsonl", "{\"seq\":1,\"type\":\"decision\",\"time\":\"2026-03-25T11:10:00Z\","
	    "\"tenant\":\"payments\",\"principal\":\"agent:x\",\"tool\":\"argocd\","
	    "\"op\":\"get_application\",\"args\":{\"app_name\":\"a\"},\"decision\":\"allow\"}\n");
	o = run(&test_opts, (const char *[]){ "replay", path("p.yaml"), "--audit",
	    path("same.jsonl"), NULL });
	cr_expect(o.rc == 0 && strncmp(o.out, "1 decision replayed, 0 would change", 35) == 0,
	    "%s", o.out);
	out_free(&o);
	o = run(&test_opts, (const char *[]){ "replay", path("p.yaml"), "--audit",
	    path("none.jsonl"), NULL });
	cr_expect(o.rc == 2 && strstr(o.err, "none.jsonl: No such file") != NULL);
	out_free(&o);
	o = run(&test_opts, (const char *[]){ "replay", path("p.yaml"), NULL });
	cr_expect(o.rc == 2 && strstr(o.err, "--audit is required") != NULL);
	out_free(&o);
}

/* The default: names checked against the real tool registry (echo is always there). */
Test(policy_cli, real_registry)
{
	struct out o;

	put("echo.yaml", "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: e }\nspec:\n"
	    "  rules:\n    - { id: e, effect: allow, principals: [\"agent:*\"], tool: echo, "
	    "operations: [echo], where: { msg: \"hello*\" } }\n");
	o = run(NULL, (const char *[]){ "check", path("echo.yaml"), NULL });
	cr_expect(o.rc == 0, "%s", o.out);
	out_free(&o);
	o = run(NULL, (const char *[]){ "eval", path("echo.yaml"), "--request", "{\"tenant\":\"t\","
	    "\"principal\":\"agent:a\",\"tool\":\"echo\",\"op\":\"echo\",\"args\":{\"msg\":\"hello "
	    "world\"}}", "-o", "json", NULL });
	cr_expect(o.rc == 0);
	cr_expect_str_eq(o.out, "{\"effect\":\"allow\",\"rules\":[\"e\"],\"obligations\":{},"
	    "\"reason\":\"allowed by rule 'e'\"}\n");
	out_free(&o);
}
