/* Approvals: binding hashes, votes, quorum of distinct approvers, deny, expiry, durability. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "ipc/err.h"
#include "supervisor/approval.h"
#include "tests/supervisor/audit_fx.h"

#define T0	1767225600000LL		/* 2026-01-01T00:00:00Z */
#define HOUR	3600000LL

static char *dir;
static struct approval_store *st;
static json_t *args;
static const char *const approvers[] = { "user:alice", "group:ops", "uid:4242" };

static const char *const ops_groups[] = { "staff", "ops" };
static const struct approval_identity alice = { 1001, "alice", NULL, 0 };
static const struct approval_identity bob = { 1002, "bob", ops_groups, 2 };
static const struct approval_identity carol = { 1003, "carol", ops_groups, 2 };
static const struct approval_identity mallory = { 1666, "mallory", ops_groups, 1 };
static const struct approval_identity byuid = { 4242, NULL, NULL, 0 };

static void
setup(void)
{
	char err[256];

	dir = fx_tmpdir();
	args = json_pack("{s:s, s:i, s:b}", "app_name", "payments-api", "id", 41, "prune", 0);
	cr_assert_eq(approval_store_open(dir, fx_key, &st, NULL, err, sizeof(err)), 0, "%s", err);
}

static void
teardown(void)
{
	approval_store_close(st);
	json_decref(args);
	fx_rmrf(dir);
	free(dir);
}

TestSuite(approval, .init = setup, .fini = teardown);

static struct approval_req
req(unsigned quorum)
{
	return (struct approval_req){ .tenant = "payments", .principal = "agent:guardian",
		.tool = "argocd", .op = "rollback_application", .args = args,
		.policy_hash = "9f86d081884c7d65", .approvers = approvers, .napprovers = 3,
		.quorum = quorum, .expires_ms = T0 + HOUR, .reason = "rule r7: approval" };
}

static const struct approval *
create(unsigned quorum)
{
	struct approval_req rq = req(quorum);
	const struct approval *ap = NULL;
	int r = approval_create(st, &rq, T0, &ap);

	cr_assert_eq(r, 0, "create: %d %s", r, err_str(r));
	return ap;
}

static size_t
count_files(const char *suffix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t n = 0;

	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		n += l > strlen(suffix) && strcmp(de->d_name + l - strlen(suffix), suffix) == 0;
	}
	closedir(d);
	return n;
}

Test(approval, quorum_needs_distinct_approvers)
{
	const struct approval *ap = create(2), *got = NULL;
	char id[65];

	strcpy(id, ap->id);
	cr_assert_eq(approval_state(ap, T0), APPROVAL_PENDING);
	cr_assert_eq(count_files(".json"), 1);
	cr_assert_eq(approval_vote(st, id, &alice, true, "looks right", T0 + 1, &got), 0);
	cr_assert_eq(got->state, APPROVAL_PENDING, "1 of 2");
	cr_assert_eq(approval_vote(st, id, &alice, true, NULL, T0 + 2, NULL), -EALREADY,
	    "the same approver twice does not make a quorum");
	cr_assert_eq(approval_vote(st, id, &mallory, true, NULL, T0 + 2, NULL), ERR_DENIED,
	    "mallory is not in ops");
	cr_assert_eq(approval_vote(st, id, &bob, true, NULL, T0 + 2, NULL), 0, "bob is");
	cr_assert_eq(approval_state(ap, T0 + 3), APPROVAL_APPROVED);
	cr_assert_eq(ap->decided_ms, T0 + 2);
	cr_assert_eq(ap->nvotes, 2);
	cr_assert_eq(approval_vote(st, id, &carol, true, NULL, T0 + 4, NULL), -ESTALE);
}

Test(approval, approver_must_match_a_pattern)
{
	static const char *const nobody_groups[] = { "staff" };
	const struct approval_identity eve = { 1500, "eve", nobody_groups, 1 };
	const struct approval_identity fake_alice = { 1501, "alicex", NULL, 0 };
	const struct approval *ap = create(1);

	cr_assert_eq(approval_vote(st, ap->id, &eve, true, NULL, T0, NULL), ERR_DENIED);
	cr_assert_eq(approval_vote(st, ap->id, &fake_alice, true, NULL, T0, NULL), ERR_DENIED);
	cr_assert_eq(ap->nvotes, 0);
	cr_assert_eq(approval_vote(st, ap->id, &byuid, true, NULL, T0, NULL), 0, "uid:4242");
	cr_assert_eq(approval_state(ap, T0), APPROVAL_APPROVED);
}

Test(approval, one_deny_denies)
{
	const struct approval *ap = create(2);

	cr_assert_eq(approval_vote(st, ap->id, &alice, true, NULL, T0, NULL), 0);
	cr_assert_eq(approval_vote(st, ap->id, &bob, false, "not during the freeze", T0 + 5, NULL),
	    0);
	cr_assert_eq(approval_state(ap, T0 + 6), APPROVAL_DENIED);
	cr_assert_str_eq(ap->votes[1].reason, "not during the freeze");
	cr_assert_eq(approval_vote(st, ap->id, &carol, true, NULL, T0 + 7, NULL), -ESTALE);
}

static int swept;

static void
on_expired(void *arg, const struct approval *ap)
{
	(void)arg;
	cr_assert_eq(ap->state, APPROVAL_EXPIRED);
	swept++;
}

Test(approval, expiry_denies_and_is_stored)
{
	const struct approval *ap = create(1);
	char id[65], err[256];

	strcpy(id, ap->id);
	cr_assert_eq(approval_next_expiry(st), T0 + HOUR);
	cr_assert_eq(approval_state(ap, T0 + HOUR - 1), APPROVAL_PENDING);
	cr_assert_eq(approval_state(ap, T0 + HOUR), APPROVAL_EXPIRED);
	cr_assert_eq(approval_vote(st, id, &alice, true, NULL, T0 + HOUR, NULL), -ESTALE);
	cr_assert_eq(ap->state, APPROVAL_EXPIRED, "stored when first seen");
	cr_assert_eq(approval_sweep(st, T0 + 2 * HOUR, on_expired, NULL), 0, "already stored");
	cr_assert_eq(approval_next_expiry(st), -1);
	approval_store_close(st);
	cr_assert_eq(approval_store_open(dir, fx_key, &st, NULL, err, sizeof(err)), 0);
	cr_assert_eq(approval_lookup(st, id, &ap), 0);
	cr_assert_eq(ap->state, APPROVAL_EXPIRED);
}

Test(approval, sweep_expires_and_reports)
{
	struct approval_req rq = req(1);
	const struct approval *a1, *a2;

	a1 = create(1);
	rq.op = "sync_application";
	rq.expires_ms = T0 + 2 * HOUR;
	cr_assert_eq(approval_create(st, &rq, T0, &a2), 0);
	swept = 0;
	cr_assert_eq(approval_sweep(st, T0 + HOUR, on_expired, NULL), 1);
	cr_assert_eq(swept, 1);
	cr_assert_eq(a1->state, APPROVAL_EXPIRED);
	cr_assert_eq(a2->state, APPROVAL_PENDING);
	cr_assert_eq(approval_next_expiry(st), T0 + 2 * HOUR);
}

/* Pending approvals and their votes survive a restart. */
Test(approval, reload_from_disk)
{
	const struct approval *ap = create(2), *re = NULL;
	char id[65], ch[65], err[256];
	size_t nbad = 9;

	strcpy(id, ap->id);
	strcpy(ch, ap->call_hash);
	cr_assert_eq(approval_vote(st, id, &alice, true, "ok", T0 + 10, NULL), 0);
	approval_store_close(st);
	st = NULL;
	cr_assert_eq(approval_store_open(dir, fx_key, &st, &nbad, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(nbad, 0);
	cr_assert_eq(approval_lookup(st, id, &re), 0);
	cr_assert_eq(re->state, APPROVAL_PENDING);
	cr_assert_eq(re->nvotes, 1);
	cr_assert_eq(re->votes[0].uid, 1001);
	cr_assert_str_eq(re->votes[0].user, "alice");
	cr_assert_str_eq(re->votes[0].reason, "ok");
	cr_assert_eq(re->votes[0].at_ms, T0 + 10);
	cr_assert_str_eq(re->args, "{\"app_name\":\"payments-api\",\"id\":41,\"prune\":false}");
	cr_assert_str_eq(re->reason, "rule r7: approval");
	cr_assert_eq(re->quorum, 2);
	cr_assert_eq(re->napprovers, 3);
	cr_assert_eq(approval_find(st, ch), re);
	cr_assert_eq(approval_vote(st, id, &bob, true, NULL, T0 + 20, NULL), 0);
	cr_assert_eq(approval_state(re, T0 + 21), APPROVAL_APPROVED, "quorum across the restart");
}

struct edit_case {
	char name[24];
	char from[40];
	char to[40];
};

ParameterizedTestParameters(approval, edited_files_are_not_loaded)
{
	static struct edit_case cases[] = {
		{ "tenant", "\"tenant\":\"payments\"", "\"tenant\":\"paymentz\"" },
		{ "state", "\"state\":\"pending\"", "\"state\":\"expired\"" },
		{ "quorum", "\"quorum\":2", "\"quorum\":1" },
		{ "expiry", "\"expires_ms\":1767229200000", "\"expires_ms\":1767229900000" },
		{ "args", "payments-api", "payments-apj" },
	};

	return cr_make_param_array(struct edit_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct edit_case *ec, approval, edited_files_are_not_loaded)
{
	const struct approval *ap = create(2);
	char *name, *path, *buf, *p, err[512] = "";
	size_t len, nbad = 0;

	cr_assert(asprintf(&name, "%s.json", ap->id) > 0);
	path = fx_path(dir, name);
	buf = fx_read(path, &len);
	p = strstr(buf, ec->from);
	cr_assert_not_null(p, "%s in %s", ec->from, buf);
	cr_assert_eq(strlen(ec->from), strlen(ec->to));
	memcpy(p, ec->to, strlen(ec->to));
	fx_write(path, buf, len, 0600);
	approval_store_close(st);
	cr_assert_eq(approval_store_open(dir, fx_key, &st, &nbad, err, sizeof(err)), 0);
	cr_assert_eq(nbad, 1, "%s", ec->name);
	cr_assert_not_null(strstr(err, name), "%s", err);
	cr_assert_eq(approval_lookup(st, name, &ap), -EINVAL);
	name[64] = '\0';
	cr_assert_eq(approval_lookup(st, name, &ap), ERR_NOTFOUND, "%s", ec->name);
	free(buf);
	free(path);
	free(name);
}

/* Every bound field moves the call hash; key order in args does not. */
Test(approval, call_hash_binds_every_field)
{
	struct approval_req base = req(1), rq;
	json_t *reordered = json_pack("{s:b, s:i, s:s}", "prune", 0, "id", 41, "app_name",
	    "payments-api"), *other = json_pack("{s:s, s:i, s:b}", "app_name", "payments-api",
	    "id", 42, "prune", 0);
	char h0[65], h[65];

	cr_assert_eq(approval_call_hash(&base, h0), 0);
#define CHANGED(field, value) do { \
	rq = base; \
	rq.field = value; \
	cr_assert_eq(approval_call_hash(&rq, h), 0); \
	cr_assert_str_neq(h, h0, "%s", #field); \
} while (0)
	CHANGED(tenant, "search");
	CHANGED(principal, "agent:doctor");
	CHANGED(tool, "flux");
	CHANGED(op, "sync_application");
	CHANGED(args, other);
	CHANGED(args, NULL);
	CHANGED(dry_run, true);
	CHANGED(policy_hash, "9f86d081884c7d66");
	CHANGED(policy_hash, NULL);
#undef CHANGED
	rq = base;
	rq.args = reordered;
	cr_assert_eq(approval_call_hash(&rq, h), 0);
	cr_assert_str_eq(h, h0, "canonical args");
	rq = base;
	rq.tenant = "pay";
	rq.principal = "mentsagent:guardian";
	cr_assert_eq(approval_call_hash(&rq, h), 0);
	cr_assert_str_neq(h, h0, "fields are length-prefixed, not concatenated");
	json_decref(reordered);
	json_decref(other);
}

Test(approval, id_binds_expiry_and_approvers)
{
	struct approval_req rq = req(1);
	const struct approval *a1, *a2, *a3;

	a1 = create(1);
	cr_assert_eq(approval_create(st, &rq, T0, &a2), -EEXIST, "same call, still pending");
	cr_assert_eq(a2, a1);
	/* once denied, the same call may ask again; the new one has its own id */
	cr_assert_eq(approval_vote(st, a1->id, &alice, false, NULL, T0 + 1, NULL), 0);
	rq.expires_ms = T0 + 2 * HOUR;
	cr_assert_eq(approval_create(st, &rq, T0 + 2, &a3), 0);
	cr_assert_str_eq(a3->call_hash, a1->call_hash);
	cr_assert_str_neq(a3->id, a1->id);
	cr_assert_eq(approval_find(st, a1->call_hash), a3, "the newest for the call");
}

Test(approval, consume_once)
{
	struct approval_req rq = req(1);
	const struct approval *ap = create(1), *again;

	cr_assert_eq(approval_consume(st, ap->id, T0), -ESTALE, "pending");
	cr_assert_eq(approval_vote(st, ap->id, &alice, true, NULL, T0, NULL), 0);
	cr_assert_eq(approval_consume(st, ap->id, T0 + HOUR), -ESTALE, "expired before use");
	cr_assert_eq(approval_consume(st, ap->id, T0 + 1), 0);
	cr_assert_eq(ap->state, APPROVAL_CONSUMED);
	cr_assert_eq(approval_consume(st, ap->id, T0 + 2), -ESTALE, "used once");
	cr_assert_eq(approval_create(st, &rq, T0 + 3, &again), 0, "a consumed one is not live");
}

Test(approval, lookup_by_prefix)
{
	const struct approval *ap = create(1), *got;
	char pre[17];

	memcpy(pre, ap->id, 16);
	pre[16] = '\0';
	cr_assert_eq(approval_lookup(st, pre, &got), 0);
	cr_assert_eq(got, ap);
	for (char *p = pre; *p; p++)
		*p = (char)(*p >= 'a' ? *p - 32 : *p);
	cr_assert_eq(approval_lookup(st, pre, &got), 0, "upper-case hex");
	pre[7] = '\0';
	cr_assert_eq(approval_lookup(st, pre, &got), -EINVAL, "too short");
	cr_assert_eq(approval_lookup(st, "zzzzzzzzz", &got), -EINVAL);
	memcpy(pre, ap->id, 8);
	pre[0] = pre[0] == '0' ? '1' : '0';
	cr_assert_eq(approval_lookup(st, pre, &got), ERR_NOTFOUND);
}

Test(approval, bad_requests_are_refused)
{
	static const char *const bad_pat[] = { "admin" };
	static const char *const bad_uid[] = { "uid:12x" };
	struct approval_req rq;
	const struct approval *ap;

	rq = req(0);
	cr_assert_eq(approval_create(st, &rq, T0, &ap), ERR_CONFIG, "quorum 0");
	rq = req(1);
	rq.napprovers = 0;
	cr_assert_eq(approval_create(st, &rq, T0, &ap), ERR_CONFIG, "no approver");
	rq = req(1);
	rq.approvers = bad_pat;
	rq.napprovers = 1;
	cr_assert_eq(approval_create(st, &rq, T0, &ap), ERR_CONFIG, "pattern");
	rq.approvers = bad_uid;
	cr_assert_eq(approval_create(st, &rq, T0, &ap), ERR_CONFIG, "uid pattern");
	rq = req(1);
	rq.expires_ms = T0;
	cr_assert_eq(approval_create(st, &rq, T0, &ap), ERR_CONFIG, "already expired");
	rq = req(1);
	rq.tenant = "";
	cr_assert_eq(approval_create(st, &rq, T0, &ap), ERR_CONFIG);
	cr_assert_eq(count_files(".json"), 0);
}

Test(approval, listing_json_and_gc)
{
	struct approval_req rq = req(1);
	const struct approval *list[8], *a1 = create(1), *a2;
	json_t *j;
	char *s;

	rq.tenant = "search";
	cr_assert_eq(approval_create(st, &rq, T0 + 1, &a2), 0);
	cr_assert_eq(approval_list(st, NULL, false, T0, list, 8), 2);
	cr_assert_eq(list[0], a1, "oldest first");
	cr_assert_eq(approval_list(st, "search", false, T0, list, 8), 1);
	cr_assert_eq(list[0], a2);
	cr_assert_eq(approval_vote(st, a2->id, &alice, false, "no", T0 + 2, NULL), 0);
	cr_assert_eq(approval_list(st, NULL, true, T0 + 3, list, 8), 1, "pending only");
	j = approval_to_json(a2, T0 + 3);
	cr_assert_not_null(j);
	cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "denied");
	cr_assert_eq(strlen(json_string_value(json_object_get(j, "short_id"))), 16);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "args"), "id")), 41);
	cr_assert_str_eq(json_string_value(json_object_get(j, "expires")),
	    "2026-01-01T01:00:00.000Z");
	s = json_dumps(json_object_get(j, "votes"), JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_str_eq(s, "[{\"reason\":\"no\",\"time\":\"2026-01-01T00:00:00.002Z\",\"uid\":1001,"
	    "\"user\":\"alice\",\"vote\":\"deny\"}]");
	free(s);
	json_decref(j);
	cr_assert_eq(approval_gc(st, T0 + 3, HOUR), 0, "kept an hour");
	cr_assert_eq(approval_gc(st, T0 + 2 + HOUR + 1, HOUR), 1);
	cr_assert_eq(count_files(".json"), 1);
	cr_assert_eq(approval_list(st, NULL, false, T0, list, 8), 1);
}

Test(approval, table_output)
{
	const struct approval *ap = create(2);
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	approval_print_table(f, &ap, 1, T0);
	fclose(f);
	cr_assert_not_null(strstr(buf, "ID"));
	cr_assert_not_null(strstr(buf, "argocd.rollback_application"));
	cr_assert_not_null(strstr(buf, "0/2"));
	cr_assert(strncmp(strchr(buf, '\n') + 1, ap->id, 16) == 0, "%s", buf);
	free(buf);
}
