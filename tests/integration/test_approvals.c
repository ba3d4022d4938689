/* Approvals end to end through corrald: pending, quorum of distinct approvers, deny, expiry,
 * a restart in between, and tenant isolation on the control socket. Operators are real
 * uids (daemon=1, bin=2, sys=3 exist on every Debian system); corralctl runs as them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"

#define ALICE 1		/* daemon: operator of tenant demo, asks */
#define BOB 2		/* bin: operator of tenant demo, approver */
#define CAROL 3		/* sys: operator of tenant other */

static struct hx h;

static void
teardown(void)
{
	hx_cleanup(&h);
}

TestSuite(approvals, .timeout = 90, .fini = teardown);

#define POLICY_FMT \
    "apiVersion: corral.dev/v1\n" \
    "kind: Policy\n" \
    "metadata: { name: approvals }\n" \
    "spec:\n" \
    "  tenant: demo\n" \
    "  rules:\n" \
    "    - id: sleep-needs-two\n" \
    "      effect: allow\n" \
    "      principals: [\"operator:alice\"]\n" \
    "      tool: echo\n" \
    "      operations: [sleep]\n" \
    "      obligations:\n" \
    "        approval: { approvers: [\"user:bin\", \"user:root\", \"user:sys\"], quorum: 2, " \
    "timeout: %s }\n"

static void
setup(const char *timeout)
{
	char pol[2048], cfg[2048];

	hx_config(&h, "tenants: {}\n");	/* for the temp dir; rewritten below */
	snprintf(pol, sizeof(pol), POLICY_FMT, timeout);
	hx_file(&h, "policy.yaml", pol, 0644);
	snprintf(cfg, sizeof(cfg),
	    "runtime_dir: %s/run\nstate_dir: %s/state\nlibexec_dir: %s\n"
	    "tenants:\n"
	    "  demo: { uid: 41001, families: [echo] }\n"
	    "  other: { uid: 41002, families: [echo] }\n"
	    "control:\n"
	    "  operators:\n"
	    "    - { name: alice, tenant: demo, uids: [%d] }\n"
	    "    - { name: bob, tenant: demo, uids: [%d] }\n"
	    "    - { name: carol, tenant: other, uids: [%d] }\n"
	    "policies: [policy.yaml]\n",
	    h.dir, h.dir, getenv("CORRAL_LIBEXEC") ? getenv("CORRAL_LIBEXEC") : "/nonexistent",
	    ALICE, BOB, CAROL);
	hx_file(&h, "corral.yaml", cfg, 0600);
}

static int
ask(char **out)
{
	static const char *const av[] = { "call", "echo", "sleep", "--args", "{\"ms\":1}", NULL };

	return hx_ctl_as(&h, ALICE, out, av);
}

/* The pending approval's id as the given uid sees it ("" when none). */
static char *
pending_id(uid_t uid)
{
	static const char *const av[] = { "-o", "json", "approvals", "--pending", NULL };
	char *out = NULL, *id;
	json_t *j;

	cr_assert_eq(hx_ctl_as(&h, uid, &out, av), 0, "%s", out);
	j = json_loads(out, 0, NULL);
	cr_assert(json_is_array(j), "%s", out);
	id = strdup(json_array_size(j) ? json_string_value(json_object_get(json_array_get(j, 0),
	    "id")) : "");
	json_decref(j);
	free(out);
	return id;
}

static int
vote(uid_t uid, const char *verb, const char *id, char **out)
{
	const char *av[] = { verb, id, "--reason", "test", NULL };

	return hx_ctl_as(&h, uid, out, av);
}

Test(approvals, quorum_distinct_restart_and_tenants)
{
	char *out = NULL, *id, *seen;

	setup("30m");
	hx_start(&h, 2);
	cr_assert_eq(ask(&out), 3, "first ask must be pending: %s", out);
	cr_assert(strstr(out, "waiting for approval"), "%s", out);
	free(out);
	id = pending_id(ALICE);
	cr_assert_gt(strlen(id), 15);
	/* The other tenant's operator sees nothing and cannot vote. */
	seen = pending_id(CAROL);
	cr_assert_str_eq(seen, "");
	free(seen);
	cr_assert_neq(vote(CAROL, "approve", id, &out), 0, "%s", out);
	free(out);
	/* The asker is no approver. */
	cr_assert_neq(vote(ALICE, "approve", id, &out), 0, "%s", out);
	free(out);
	cr_assert_eq(vote(BOB, "approve", id, &out), 0, "%s", out);
	free(out);
	cr_assert_neq(vote(BOB, "approve", id, &out), 0, "a second vote by the same uid counts: %s",
	    out);
	free(out);
	cr_assert_eq(ask(&out), 3, "one of two votes must not allow: %s", out);
	free(out);

	/* Restart: the approval and bob's vote survive. */
	cr_assert_eq(hx_stop(&h), 0);
	hx_start(&h, 2);
	seen = pending_id(ALICE);
	cr_assert_str_eq(seen, id);
	free(seen);
	cr_assert_eq(vote(0, "approve", id, &out), 0, "%s", out);
	free(out);
	cr_assert_eq(ask(&out), 0, "approved call must run: %s", out);
	cr_assert(strstr(out, "slept_ms"), "%s", out);
	free(out);
	/* Used once: the next identical call asks again. */
	cr_assert_eq(ask(&out), 3, "%s", out);
	free(out);
	free(id);
	id = pending_id(ALICE);
	cr_assert_eq(vote(BOB, "deny", id, &out), 0, "%s", out);
	free(out);
	cr_assert_eq(ask(&out), 3, "%s", out);
	cr_assert(strstr(out, "denied"), "%s", out);
	free(out);
	free(id);
	cr_assert_eq(hx_stop(&h), 0);
	out = hx_read(h.audit);
	cr_assert(strstr(out, "\"event\":\"requested\""), "%s", out);
	cr_assert(strstr(out, "\"event\":\"approve\""), "%s", out);
	cr_assert(strstr(out, "\"event\":\"consumed\""), "%s", out);
	cr_assert(strstr(out, "\"event\":\"deny\""), "%s", out);
	free(out);
}

Test(approvals, expiry_denies)
{
	char *out = NULL;

	setup("2s");
	hx_start(&h, 2);
	cr_assert_eq(ask(&out), 3, "%s", out);
	free(out);
	sleep(3);
	cr_assert_eq(ask(&out), 3, "%s", out);
	cr_assert(strstr(out, "expired"), "%s", out);
	free(out);
	cr_assert_eq(hx_stop(&h), 0);
}
