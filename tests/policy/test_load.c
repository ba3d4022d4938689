/* The loader: every error and warning with its file:line:col, the linter's shadowing and
 * conflict findings, merging several files, and the canonical hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "policy/policy.h"
#include "tests/policy/testfam.h"

/* A document whose first rule sits on lines 6-10; EXTRA lines start at line 11:
 *   6     - id: r1            ("id" at column 7)
 *   7       effect: allow     (value at column 15)
 *   8       principals: [..]  ('[' at column 19, first item at 20)
 *   9       tool: echo        (value at column 13)
 *  10       operations: [..]  (first item at column 20)
 *  11       where: { msg: x } ("msg" at column 16, x at 21) */
#define HEAD "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: t }\nspec:\n  rules:\n"
#define RULE(id, eff, pr, tool, ops) "    - id: " id "\n      effect: " eff "\n      principals: " \
	pr "\n      tool: " tool "\n      operations: " ops "\n"
#define R1(extra) HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[echo]") extra

struct lcase {
	const char *yaml;
	const char *want[4];		/* each must appear as a line (prefix match) */
	size_t nerrors, nwarnings;
	int line;
};

#define L(...) { __VA_ARGS__, .line = __LINE__ }

static const struct lcase errors[] = {
	L(R1("      colour: red\n"), { "t.yaml:11:7: unknown key 'colour' (expected one of: id, description, effect, principals, tool, operations, where, when, rate, obligations)" }, 1, 0),
	L(HEAD RULE("r1", "permit", "[\"agent:*\"]", "echo", "[echo]"), { "t.yaml:7:15: effect: expected allow or deny" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"user:x\"]", "echo", "[echo]"), { "t.yaml:8:20: principal 'user:x': expected agent:NAME, operator:NAME or '*' (NAME may be a glob)" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"agent:a\", \"agent:[a\"]", "echo", "[echo]"), { "t.yaml:8:31: principal 'agent:[a': unclosed '[' in pattern" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"agent:a\\\\\"]", "echo", "[echo]"), { "t.yaml:8:20: principal 'agent:a\\': trailing backslash" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[]", "echo", "[echo]"), { "t.yaml:8:19: principals: expected a non-empty list" }, 1, 0),
	L(HEAD RULE("r1", "allow", "{a: b}", "echo", "[echo]"), { "t.yaml:8:19: principals: expected a non-empty list" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "nosuch", "[echo]"), { "t.yaml:9:13: unknown tool 'nosuch'" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "\"\"", "[echo]"), { "t.yaml:9:13: tool '': empty pattern" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[echo, nosuch]"), { "t.yaml:10:26: unknown operation 'nosuch' for tool 'echo'" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[\"class:admin\"]"), { "t.yaml:10:20: operation class 'class:admin': expected class:read or class:write" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "argocd", "[get_logs, sync]"), { "t.yaml:10:30: unknown operation 'sync' for tool 'argocd'" }, 1, 0),
	L(R1("      where: { nosuch: x }\n"), { "t.yaml:11:16: unknown argument 'nosuch' (not a parameter of echo.echo)" }, 1, 0),
	L(R1("      where: { msg: \"[x\" }\n"), { "t.yaml:11:21: where msg: pattern '[x': unclosed '[' in pattern" }, 1, 0),
	L(R1("      where: { msg: { regex: \"(\" } }\n"), { "t.yaml:11:30: where msg: bad regex '(': " }, 1, 0),
	L(R1("      where: { msg: { regex: \"\" } }\n"), { "t.yaml:11:30: where msg: regex: expected a non-empty string" }, 1, 0),
	L(R1("      where: { msg: true }\n"), { "t.yaml:11:16: where msg: true/false needs a boolean argument (echo.echo takes a string)" }, 1, 0),
	L(R1("      where: { msg: { min: 1 } }\n"), { "t.yaml:11:16: where msg: min/max need a numeric argument (echo.echo takes a string)" }, 1, 0),
	L(R1("      where: { msg: [a, b] }\n"), { "t.yaml:11:21: where msg: expected a pattern, true/false, a number, or a mapping of glob, in, regex, min, max" }, 1, 0),
	L(R1("      where: { msg: { in: [] } }\n"), { "t.yaml:11:27: in: expected a non-empty list" }, 1, 0),
	L(R1("      where: { msg: { foo: 1 } }\n"), { "t.yaml:11:23: unknown key 'foo' (expected one of: glob, in, regex, min, max)" }, 1, 0),
	L(R1("      where: { \"bad name\": x }\n"), { "t.yaml:11:16: where argument 'bad name': use letters, digits, '_', '-', '.', ':' (at most 127)" }, 1, 0),
	L(R1("      where: [msg]\n"), { "t.yaml:11:14: expected a mapping, found a sequence" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[sleep]") "      where: { ms: \"a*\" }\n", { "t.yaml:11:16: where ms: a pattern needs a string argument (echo.sleep takes an integer)" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[sleep]") "      where: { ms: { min: 5, max: 1 } }\n", { "t.yaml:11:20: where ms: min 5 is greater than max 1" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[sleep]") "      where: { ms: { min: x } }\n", { "t.yaml:11:27: expected a number, found 'x'" }, 1, 0),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[sleep]") "      where: { ms: { in: [1, two] } }\n", { "t.yaml:11:16: where ms: every 'in' value must be a number for a numeric argument (echo.sleep takes an integer)" }, 1, 0),
	L(R1("      when: { days: [mon, funday] }\n"), { "t.yaml:11:27: days: 'funday' is not a day (mon, tue, wed, thu, fri, sat, sun) or a range like mon-fri" }, 1, 0),
	L(R1("      when: { days: [mon-xyz] }\n"), { "t.yaml:11:22: days: 'mon-xyz' is not a day" }, 1, 0),
	L(R1("      when: { hours: \"6-22\" }\n"), { "t.yaml:11:22: hours: expected \"HH:MM-HH:MM\" (00:00 to 24:00), found '6-22'" }, 1, 0),
	L(R1("      when: { hours: \"10:00-10:00\" }\n"), { "t.yaml:11:22: hours: '10:00-10:00' is an empty window (use 00:00-24:00 for all day)" }, 1, 0),
	L(R1("      when: { hours: \"25:00-26:00\" }\n"), { "t.yaml:11:22: hours: expected \"HH:MM-HH:MM\"" }, 1, 0),
	L(R1("      when: { hours: \"24:00-06:00\" }\n"), { "t.yaml:11:22: hours: expected \"HH:MM-HH:MM\"" }, 1, 0),
	L(R1("      when: { hours: \"10:60-11:00\" }\n"), { "t.yaml:11:22: hours: expected \"HH:MM-HH:MM\"" }, 1, 0),
	L(R1("      when: { days: [mon], tz: \"Mars/Olympus\" }\n"), { "t.yaml:11:32: tz 'Mars/Olympus': unknown time zone (no such file in the zoneinfo directory)" }, 1, 0),
	L(R1("      when: { days: [mon], tz: \"../../etc/passwd\" }\n"), { "t.yaml:11:32: tz '../../etc/passwd': not a time zone name" }, 1, 0),
	L(R1("      when: { tz: UTC }\n"), { "t.yaml:11:13: when: give days, hours or both" }, 1, 0),
	L(R1("      when: { days: [mon], zone: UTC }\n"), { "t.yaml:11:28: unknown key 'zone' (expected one of: days, hours, tz)" }, 1, 0),
	L(R1("      rate: \"3\"\n"), { "t.yaml:11:13: rate: expected \"N/window\" like 3/1h or 100/1m (1 <= N <= 10000, window up to 31d), found '3'" }, 1, 0),
	L(R1("      rate: 0/1h\n"), { "t.yaml:11:13: rate: expected \"N/window\"" }, 1, 0),
	L(R1("      rate: 3/1x\n"), { "t.yaml:11:13: rate: expected \"N/window\"" }, 1, 0),
	L(R1("      rate: 3/0s\n"), { "t.yaml:11:13: rate: expected \"N/window\"" }, 1, 0),
	L(R1("      rate: 10001/1h\n"), { "t.yaml:11:13: rate: expected \"N/window\"" }, 1, 0),
	L(R1("      rate: 3/32d\n"), { "t.yaml:11:13: rate: expected \"N/window\"" }, 1, 0),
	L(R1("      rate: -3/1h\n"), { "t.yaml:11:13: rate: expected \"N/window\"" }, 1, 0),
	L(HEAD RULE("r1", "deny", "[\"agent:*\"]", "echo", "[echo]") "      rate: 3/1h\n", { "t.yaml:11:13: a deny rule takes no rate" }, 1, 0),
	L(HEAD RULE("r1", "deny", "[\"agent:*\"]", "echo", "[echo]") "      obligations: { dry_run_only: true }\n", { "t.yaml:11:20: a deny rule takes no obligations" }, 1, 0),
	L(R1("      obligations: { evidence: { op: canary, within: 5m } }\n"), { "t.yaml:11:38: evidence.op: expected TOOL.OP, e.g. prometheus.canary_analyze" }, 1, 0),
	L(R1("      obligations: { evidence: { op: nosuch.op, within: 5m } }\n"), { "t.yaml:11:38: evidence.op: unknown operation 'nosuch.op'" }, 1, 0),
	L(R1("      obligations: { evidence: { op: prometheus.canary_analyze } }\n"), { "t.yaml:11:32: evidence.within: missing (how recent, e.g. 15m)" }, 1, 0),
	L(R1("      obligations: { evidence: { op: prometheus.canary_analyze, within: soon } }\n"), { "t.yaml:11:73: expected a duration like 30s, 15m or 1h, found a scalar 'soon'" }, 1, 0),
	L(R1("      obligations: { evidence: { op: prometheus.canary_analyze, within: 5m, same: [nosuch] } }\n"), { "t.yaml:11:38: evidence.same: 'nosuch' is not a parameter of the rule's operations" }, 1, 0),
	L(R1("      obligations: { evidence: { op: prometheus.canary_analyze, within: 5m, same: [msg] } }\n"), { "t.yaml:11:38: evidence.same: 'msg' is not a parameter of the evidence operation" }, 1, 0),
	L(R1("      obligations: { evidence: { op: prometheus.query, within: 5m, match: { x: [1] } } }\n"), { "t.yaml:11:80: match x: expected a scalar value" }, 1, 0),
	L(R1("      obligations: { approval: { approvers: [bob] } }\n"), { "t.yaml:11:46: approver 'bob': expected group:NAME or user:NAME" }, 1, 0),
	L(R1("      obligations: { approval: { approvers: [\"user:\"] } }\n"), { "t.yaml:11:46: approver 'user:': expected group:NAME or user:NAME" }, 1, 0),
	L(R1("      obligations: { approval: { approvers: [user:a, user:b], quorum: 3 } }\n"), { "t.yaml:11:71: quorum 3 is more than the 2 approvers listed" }, 1, 0),
	L(R1("      obligations: { approval: { approvers: [user:a], quorum: 0 } }\n"), { "t.yaml:11:63: 0 is out of range [1, 256]" }, 1, 0),
	L(R1("      obligations: { approval: { approvers: [group:sre], timeout: 30d } }\n"), { "t.yaml:11:67: timeout: must be between 1s and 7d" }, 1, 0),
	L(R1("      obligations: { dry_run_only: maybe }\n"), { "t.yaml:11:36: expected true or false, found a scalar 'maybe'" }, 1, 0),
	L(R1("      obligations: { review: true }\n"), { "t.yaml:11:22: unknown key 'review' (expected one of: evidence, approval, dry_run_only)" }, 1, 0),
	L(R1(RULE("r1", "allow", "[\"agent:*\"]", "echo", "[echo]")), { "t.yaml:11:11: duplicate rule id 'r1' (first defined at t.yaml:6:7)" }, 1, 0),
	L(HEAD RULE("\"r 1\"", "allow", "[\"agent:*\"]", "echo", "[echo]"), { "t.yaml:6:11: id 'r 1': use letters, digits, '_', '-', '.', ':' (at most 127)" }, 1, 0),
	L(HEAD "    - effect: allow\n      principals: [\"agent:*\"]\n      tool: echo\n", { "t.yaml:6:7: rule: 'id' is missing", "t.yaml:6:7: rule: 'operations' is missing" }, 2, 0),
	L(HEAD "    - just a string\n", { "t.yaml:6:7: expected a mapping, found a scalar" }, 1, 0),
	L("apiVersion: corral.dev/v2\nkind: Policy\nmetadata: { name: t }\nspec: { rules: [] }\n", { "t.yaml:1:13: apiVersion: expected corral.dev/v1" }, 1, 0),
	L("apiVersion: corral.dev/v1\nkind: Agent\nmetadata: { name: t }\nspec: { rules: [] }\n", { "t.yaml:2:7: kind: expected Policy" }, 1, 0),
	L("apiVersion: corral.dev/v1\nkind: Policy\nspec: { rules: [] }\n", { "t.yaml:1:1: metadata: missing (metadata: { name: ... })" }, 1, 0),
	L("apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: t }\n", { "t.yaml:1:1: spec: missing" }, 1, 0),
	L("apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: t }\nspec: { rules: x }\n", { "t.yaml:4:16: rules: expected a list of rules" }, 1, 0),
	L("apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: t }\nspec: { tenant: \"a b\", rules: [] }\n", { "t.yaml:4:17: tenant 'a b': use letters" }, 1, 0),
	L("apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: t }\nspec: { rules: [], owner: x }\nextra: 1\n", { "t.yaml:5:1: unknown key 'extra' (expected one of: apiVersion, kind, metadata, spec)", "t.yaml:4:20: unknown key 'owner' (expected one of: tenant, description, rules)" }, 2, 0),
	L("apiVersion: corral.dev/v1\nkind: [Policy\n", { "t.yaml:3:1: " }, 1, 0),
	L("", { "t.yaml: empty policy file" }, 1, 0),
	/* several problems in one file are all reported */
	L(HEAD RULE("r1", "permit", "[\"user:x\"]", "nosuch", "[echo]") "      rate: x\n", { "t.yaml:7:15: effect: expected allow or deny", "t.yaml:8:20: principal 'user:x'", "t.yaml:9:13: unknown tool 'nosuch'", "t.yaml:11:13: rate: expected" }, 4, 0),
};

static const struct lcase warnings[] = {
	L(R1(RULE("r2", "allow", "[\"agent:*\"]", "echo", "[echo]")), { "t.yaml:11:7: warning: rule 'r2' is shadowed by rule 'r1' (t.yaml:6:7): it already allows, with the same conditions, every call this one matches" }, 0, 1),
	L(R1(RULE("r2", "allow", "[\"agent:x\", \"agent:y*\"]", "echo", "[echo]") "      where: { msg: \"hi*\" }\n"), { "t.yaml:11:7: warning: rule 'r2' is shadowed by rule 'r1'" }, 0, 1),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[echo]") "      where: { msg: \"payments-*\" }\n" RULE("r2", "allow", "[\"agent:a\"]", "\"*\"", "[echo]") "      where: { msg: payments-api }\n", { "t.yaml:12:7: warning: rule 'r2' is shadowed by rule 'r1'" }, 0, 1),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[sleep]") "      where: { ms: { max: 100 } }\n" RULE("r2", "allow", "[\"agent:a\"]", "echo", "[sleep]") "      where: { ms: { min: 5, max: 10 } }\n", { "t.yaml:12:7: warning: rule 'r2' is shadowed by rule 'r1'" }, 0, 1),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[\"class:read\"]") RULE("r2", "allow", "[\"agent:a\"]", "echo", "[sleep, fail]"), { "t.yaml:11:7: warning: rule 'r2' is shadowed by rule 'r1'" }, 0, 1),
	L(HEAD RULE("r1", "deny", "[\"*\"]", "echo", "[echo]") RULE("r2", "deny", "[\"agent:a\"]", "echo", "[echo]"), { "t.yaml:11:7: warning: rule 'r2' is shadowed by rule 'r1' (t.yaml:6:7): it already denies every call this one matches" }, 0, 1),
	L(HEAD RULE("r1", "deny", "[\"agent:*\"]", "echo", "[echo]") RULE("r2", "allow", "[\"agent:x\"]", "echo", "[echo]"), { "t.yaml:11:7: warning: allow rule 'r2' never takes effect: deny rule 'r1' (t.yaml:6:7) matches every call it matches" }, 0, 1),
	L(HEAD RULE("r1", "allow", "[\"agent:x\"]", "echo", "[echo]") RULE("r2", "deny", "[\"agent:*\"]", "\"*\"", "[\"*\"]"), { "t.yaml:6:7: warning: allow rule 'r1' never takes effect: deny rule 'r2' (t.yaml:11:7) matches every call it matches" }, 0, 1),
	L(R1("      when: { days: [sat] }\n" RULE("r2", "deny", "[\"agent:*\"]", "echo", "[echo]") "      when: { days: [sat] }\n"), { "t.yaml:6:7: warning: allow rule 'r1' never takes effect: deny rule 'r2'" }, 0, 1),
	L(R1("      obligations: { dry_run_only: true }\n" RULE("r2", "allow", "[\"agent:*\"]", "echo", "[echo]") "      obligations: { dry_run_only: true }\n"), { "t.yaml:12:7: warning: rule 'r2' is shadowed by rule 'r1'" }, 0, 1),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[echo, \"nope*\"]"), { "t.yaml:10:26: warning: 'nope*' matches no operation of tool 'echo'" }, 0, 1),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "\"zzz*\"", "[echo]"), { "t.yaml:9:13: warning: tool pattern 'zzz*' matches no tool" }, 0, 1),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "prometheus", "[\"class:write\"]"), { "t.yaml:10:20: warning: 'class:write' matches no operation of tool 'prometheus'" }, 0, 1),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[echo, sleep]") "      where: { msg: x }\n", { "t.yaml:10:26: warning: rule 'r1' never matches echo.sleep: it has no argument 'msg' for the where-condition" }, 0, 1),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[sleep]") "      obligations: { dry_run_only: true }\n", { "t.yaml:11:36: warning: rule 'r1': dry_run_only, but none of its operations supports dry runs, so it allows nothing" }, 0, 1),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[echo, sleep]") "      where: { msg: x, ms: 1 }\n", { "t.yaml:10:20: warning: rule 'r1' never matches echo.echo: it has no argument 'ms'", "t.yaml:10:26: warning: rule 'r1' never matches echo.sleep: it has no argument 'msg'", "t.yaml:6:7: warning: rule 'r1' can never match: no operation of the rule takes all of its where-arguments" }, 0, 3),
};

/* No warning: each of these differs from its neighbour in a way that matters. */
static const struct lcase quiet[] = {
	L(R1("      rate: 3/1h\n" RULE("r2", "allow", "[\"agent:*\"]", "echo", "[echo]"))),
	L(R1("      where: { msg: \"a*\" }\n" RULE("r2", "allow", "[\"agent:*\"]", "echo", "[echo]"))),
	L(R1("      when: { days: [mon] }\n" RULE("r2", "allow", "[\"agent:*\"]", "echo", "[echo]"))),
	L(R1("      obligations: { approval: { approvers: [user:a] } }\n" RULE("r2", "allow", "[\"agent:*\"]", "echo", "[echo]"))),
	L(R1("      obligations: { dry_run_only: true }\n" RULE("r2", "allow", "[\"agent:*\"]", "echo", "[echo]"))),
	L(R1(RULE("r2", "allow", "[\"operator:*\"]", "echo", "[echo]"))),
	L(R1(RULE("r2", "allow", "[\"agent:*\"]", "echo", "[echo, sleep]"))),
	L(HEAD RULE("r1", "deny", "[\"agent:*\"]", "echo", "[echo]") "      where: { msg: x }\n" RULE("r2", "allow", "[\"agent:x\"]", "echo", "[echo]")),
	L(HEAD RULE("r1", "deny", "[\"agent:*\"]", "echo", "[echo]") "      when: { days: [sat] }\n" RULE("r2", "allow", "[\"agent:x\"]", "echo", "[echo]")),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[echo]") "      where: { msg: { regex: \"a.*\" } }\n" RULE("r2", "allow", "[\"agent:x\"]", "echo", "[echo]") "      where: { msg: abc }\n"),
	L(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[\"e*\", echo]")),
};

static void
check(const struct lcase *c)
{
	struct pol_src src = { "t.yaml", c->yaml, strlen(c->yaml) };
	struct ydoc_errs e = { 0 };
	struct pol_set *ps = NULL;
	int rc = pol_set_load_mem(&src, 1, &test_opts, &ps, &e);

	for (size_t k = 0; k < 4 && c->want[k]; k++) {
		bool found = false;

		for (size_t i = 0; i < e.n && !found; i++)
			found = strncmp(e.msg[i], c->want[k], strlen(c->want[k])) == 0;
		cr_expect(found, "line %d: no message '%s'", c->line, c->want[k]);
	}
	cr_expect(e.errors == c->nerrors && e.warnings == c->nwarnings,
	    "line %d: %zu errors, %zu warnings; want %zu, %zu", c->line, e.errors, e.warnings,
	    c->nerrors, c->nwarnings);
	if (e.errors != c->nerrors || e.warnings != c->nwarnings || c->want[0] == NULL)
		for (size_t i = 0; i < e.n; i++)
			cr_log_info("line %d: %s", c->line, e.msg[i]);
	cr_expect((rc == 0) == (c->nerrors == 0), "line %d: rc %d", c->line, rc);
	cr_expect((ps != NULL) == (c->nerrors == 0), "line %d: a set was returned", c->line);
	pol_set_free(ps);
	ydoc_errs_free(&e);
}

Test(policy_load, errors)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		check(&errors[i]);
}

Test(policy_load, warnings)
{
	for (size_t i = 0; i < sizeof(warnings) / sizeof(warnings[0]); i++)
		check(&warnings[i]);
	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
		check(&quiet[i]);
}

/* Several files merge in order; ids are unique across them; errors name the right file. */
Test(policy_load, several_files)
{
	const char *a = HEAD RULE("shared", "allow", "[\"agent:*\"]", "echo", "[echo]");
	const char *b = "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: b }\n"
	    "spec:\n  tenant: t2\n  rules:\n" RULE("shared", "allow", "[\"agent:*\"]", "echo", "[sleep]");
	const char *c = "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: c }\n"
	    "spec:\n  tenant: t2\n  rules:\n" RULE("other", "deny", "[\"agent:*\"]", "echo", "[echo]");
	struct pol_src s1[] = { { "a.yaml", a, strlen(a) }, { "b.yaml", b, strlen(b) } };
	struct pol_src s2[] = { { "a.yaml", a, strlen(a) }, { "c.yaml", c, strlen(c) } };
	struct ydoc_errs e = { 0 };
	struct pol_set *ps = NULL;
	struct pol_request rq = { .tenant = "t2", .principal = "agent:x", .tool = "echo",
		.op = "echo" };
	struct pol_decision d;

	cr_expect(pol_set_load_mem(s1, 2, &test_opts, &ps, &e) == ERR_CONFIG);
	cr_expect(e.n == 1 && strcmp(e.msg[0], "b.yaml:7:11: duplicate rule id 'shared' (first "
	    "defined at a.yaml:6:7)") == 0, "%s", e.n ? e.msg[0] : "-");
	ydoc_errs_free(&e);
	cr_assert(pol_set_load_mem(s2, 2, &test_opts, &ps, &e) == 0);
	cr_expect(pol_set_nrules(ps) == 2);
	/* the tenant-scoped deny in the second file overrides the allow of the first */
	cr_assert(pol_decide(ps, &rq, NULL, &d) == 0);
	cr_expect(d.effect == POL_DENY && d.nrules == 1 && strcmp(d.rules[0], "other") == 0);
	rq.tenant = "t1";
	cr_assert(pol_decide(ps, &rq, NULL, &d) == 0);
	cr_expect(d.effect == POL_ALLOW && strcmp(d.rules[0], "shared") == 0);
	pol_set_free(ps);
	ydoc_errs_free(&e);
	cr_expect(pol_set_load_mem(s1, 0, &test_opts, &ps, &e) == ERR_CONFIG);
	ydoc_errs_free(&e);
	{
		const char *files[] = { "/nonexistent/p.yaml" };

		cr_expect(pol_set_load(files, 1, &test_opts, &ps, &e) == ERR_CONFIG);
		cr_expect(e.n == 1 && strncmp(e.msg[0], "/nonexistent/p.yaml: cannot open", 32) == 0);
		ydoc_errs_free(&e);
	}
}

static const char *
hash_of(const char *yaml)
{
	static char out[65];
	struct pol_src src = { "h.yaml", yaml, strlen(yaml) };
	struct pol_set *ps = NULL;

	cr_assert(pol_set_load_mem(&src, 1, &test_opts, &ps, NULL) == 0, "%s", yaml);
	snprintf(out, sizeof(out), "%s", pol_set_hash(ps));
	pol_set_free(ps);
	return out;
}

/* The hash follows the rules, not the YAML layout. */
Test(policy_load, canonical_hash)
{
	char h1[65], h2[65];
	const char *block = HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[echo]")
	    "      where: { msg: \"hi*\" }\n      when: { days: [mon, tue], hours: \"06:00-22:00\", tz: Europe/Berlin }\n";
	const char *flow = "# comment\napiVersion: corral.dev/v1\nkind: Policy\nmetadata: {name: other-name}\n"
	    "spec: {rules: [{when: {tz: Europe/Berlin, hours: \"06:00-22:00\", days: [tue, mon]}, "
	    "where: {msg: 'hi*'}, operations: echo, tool: echo, principals: 'agent:*', effect: allow, id: r1}]}\n";

	snprintf(h1, sizeof(h1), "%s", hash_of(block));
	snprintf(h2, sizeof(h2), "%s", hash_of(flow));
	cr_expect(strlen(h1) == 64);
	cr_expect_str_eq(h1, h2);
	cr_expect_str_neq(h1, hash_of(HEAD RULE("r1", "allow", "[\"agent:*\"]", "echo", "[echo]")
	    "      where: { msg: \"hi*\" }\n      when: { days: [mon, tue], hours: \"06:00-22:00\", tz: Europe/London }\n"));
	cr_expect_str_neq(h1, hash_of(HEAD RULE("r2", "allow", "[\"agent:*\"]", "echo", "[echo]")
	    "      where: { msg: \"hi*\" }\n      when: { days: [mon, tue], hours: \"06:00-22:00\", tz: Europe/Berlin }\n"));
	snprintf(h2, sizeof(h2), "%s", hash_of(HEAD RULE("a", "allow", "[\"agent:*\"]", "echo", "[echo]")
	    RULE("b", "allow", "[\"agent:*\"]", "echo", "[sleep]")));
	cr_expect_str_neq(h2, hash_of(HEAD RULE("b", "allow", "[\"agent:*\"]", "echo", "[sleep]")
	    RULE("a", "allow", "[\"agent:*\"]", "echo", "[echo]")), "order matters");
}

/* Robustness: thousands of byte-level mutations of the case policies load or fail cleanly
 * (run under -Db_sanitize=address,undefined this is a small fuzzer), and a failure always
 * comes with at least one file:line:col error. */
Test(policy_load, mutations, .timeout = 60)
{
	static const char *const names[] = { "base.yaml", "payments.yaml", "ci.yaml" };
	static const char alphabet[] = "{}[]:,-\"'*?\\ \n#&!|>%@`0123456789azAZ._/";
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	size_t ok = 0, failed = 0;

	for (size_t f = 0; f < 3; f++) {
		char path[512], *orig;
		size_t len;
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", POL_TEST_DATA, names[f]);
		fp = fopen(path, "rb");
		cr_assert(fp != NULL);
		fseek(fp, 0, SEEK_END);
		len = (size_t)ftell(fp);
		rewind(fp);
		orig = malloc(len + 1);
		cr_assert(fread(orig, 1, len, fp) == len);
		fclose(fp);
		for (int iter = 0; iter < 1500; iter++) {
			char *buf = malloc(len + 1);
			struct pol_src src = { names[f], buf, len };
			struct ydoc_errs e = { 0 };
			struct pol_set *ps = NULL;
			int rc, nmut;

			memcpy(buf, orig, len);
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			nmut = 1 + (int)(rng % 4);
			for (int m = 0; m < nmut; m++) {
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				buf[(rng >> 8) % len] = alphabet[(rng >> 40) % (sizeof(alphabet) - 1)];
			}
			rc = pol_set_load_mem(&src, 1, &test_opts, &ps, &e);
			cr_expect((rc == 0) == (ps != NULL));
			cr_expect(rc == 0 || e.errors > 0, "iteration %d failed without an error", iter);
			for (size_t i = 0; i < e.n; i++)
				cr_expect(strncmp(e.msg[i], names[f], strlen(names[f])) == 0, "%s", e.msg[i]);
			*(rc == 0 ? &ok : &failed) += 1;
			pol_set_free(ps);
			ydoc_errs_free(&e);
			free(buf);
		}
		free(orig);
	}
	cr_log_info("%zu mutants loaded, %zu refused", ok, failed);
	cr_expect(ok > 0 && failed > 0);
}
