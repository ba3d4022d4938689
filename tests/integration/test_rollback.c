/* Rollbacks gated by canary evidence, through a real corrald: the operator (root, principal
 * operator:root) calls `corralctl call prometheus canary_analyze` and then
 * `corralctl call argocd rollback_application`; the policy's rollback rule needs a fail verdict
 * of the judge for the same app_name within a window. The prometheus and argocd workers are
 * real confined workers talking to the loopback fakes (tests/fakes/) through the egress
 * broker. Each case checks corralctl's answer, the decision in the audit log, and what the
 * fake Argo CD received.
 *
 * Cases (issue 7, must-show 3): no evidence -> denied; stale evidence (outside `within`) ->
 * denied; a pass verdict -> denied; a fail verdict for another app -> denied; a fail verdict
 * for the app -> allowed, and the rollback reaches Argo CD. Then the auto-sync two-step.
 *
 * Evidence across restarts (the verdict lives in the audit log as an "evidence" record, read
 * back at start): a verdict survives a SIGKILL of corrald and a torn tail, and the allowed
 * rollback's decision names the evidence record's seq; a verdict that expired while corrald
 * was down justifies nothing; a forged (edited) or broken evidence line is reported with its
 * file and line and ignored. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"
#include "tests/tools/harness.h"

#define UID 41310
#define ARGO_TOKEN "argo-rollback-token-5f6e7d"
#define PROM_TOKEN "prom-rollback-token-8a9b0c"

static struct hx h;
static struct fake argo, prom;

static void
teardown(void)
{
	hx_cleanup(&h);
	fake_stop(&argo);
	fake_stop(&prom);
}

TestSuite(rollback, .timeout = 90, .fini = teardown);

#define POLICY_FMT \
    "apiVersion: corral.dev/v1\n" \
    "kind: Policy\n" \
    "metadata: { name: rollback-test }\n" \
    "spec:\n" \
    "  tenant: shop\n" \
    "  rules:\n" \
    "    - id: reads\n" \
    "      effect: allow\n" \
    "      principals: [\"operator:*\"]\n" \
    "      tool: argocd\n" \
    "      operations: [get_application%s]\n" \
    "    - id: judge\n" \
    "      effect: allow\n" \
    "      principals: [\"operator:*\"]\n" \
    "      tool: prometheus\n" \
    "      operations: [canary_analyze]\n" \
    "    - id: rollback-on-evidence\n" \
    "      effect: allow\n" \
    "      principals: [\"operator:*\"]\n" \
    "      tool: argocd\n" \
    "      operations: [rollback_application]\n" \
    "      obligations:\n" \
    "        evidence: { op: prometheus.canary_analyze, match: { verdict: fail }, " \
    "same: [app_name], within: %s }\n"

/* The fakes (guestbook and auto-app judged degraded, busy and fresh healthy), the tokens,
 * corral.yaml and the policy; corrald with its two workers ready. */
static void
start(const char *within, bool allow_patch)
{
	static const char prom_data[] = "{\"canary\": {\"guestbook\": \"degraded\", "
	    "\"auto-app\": \"degraded\", \"busy\": \"healthy\"}}";
	const char *pa[] = { "--token", PROM_TOKEN, "--data", NULL, NULL };
	const char *aa[] = { "--token", ARGO_TOKEN, NULL };
	char pol[4096], cfg[4096], data[600];

	hx_config(&h, "tenants: {}\n");		/* the temp dir; rewritten below */
	snprintf(data, sizeof(data), "%s", hx_file(&h, "prom.json", prom_data, 0644));
	pa[3] = data;
	cr_assert_eq(fake_start(&prom, "fake_prometheus.py", pa), 0);
	cr_assert_eq(fake_start(&argo, "fake_argocd.py", aa), 0);
	hx_file(&h, "argo.token", ARGO_TOKEN, 0600);
	hx_file(&h, "prom.token", PROM_TOKEN, 0600);
	snprintf(pol, sizeof(pol), POLICY_FMT, allow_patch ? ", patch_application" : "", within);
	hx_file(&h, "policy.yaml", pol, 0644);
	snprintf(cfg, sizeof(cfg),
	    "tenants:\n"
	    "  shop: { uid: %d }\n"
	    "credentials:\n"
	    "  - { name: argo, tenant: shop, source: \"file:argo.token\" }\n"
	    "  - { name: prom, tenant: shop, source: \"file:prom.token\" }\n"
	    "endpoints:\n"
	    "  argocd:\n"
	    "    - { name: a, tenant: shop, url: \"%s\", credential: argo, allow_private: true }\n"
	    "  prometheus:\n"
	    "    - { name: p, tenant: shop, url: \"%s\", credential: prom, allow_private: true }\n"
	    "policies: [policy.yaml]\n"
	    "audit: { fsync: batch }\n", UID, argo.url, prom.url);
	{
		/* hx_config prepends the dirs; keep them and replace the body */
		char *old = hx_read(h.cfg), *cut = strstr(old, "tenants:");

		cr_assert_not_null(cut);
		*cut = '\0';
		snprintf(pol, sizeof(pol), "%s%s", old, cfg);
		hx_file(&h, "corral.yaml", pol, 0600);
		free(old);
	}
	hx_start(&h, 2);
}

/* The canary_analyze arguments of the demo's two metrics for app, over the last 5 minutes. */
static char *
canary_args(const char *app)
{
	char *s;

	cr_assert(asprintf(&s, "{\"app_name\":\"%s\",\"window\":\"5m\",\"metrics\":["
	    "{\"name\":\"error_rate\",\"direction\":\"increase\",\"critical\":true,"
	    "\"baseline_query\":\"errors{app=\\\"%s\\\",track=\\\"baseline\\\",code=~\\\"5..\\\"}\","
	    "\"canary_query\":\"errors{app=\\\"%s\\\",track=\\\"canary\\\",code=~\\\"5..\\\"}\"},"
	    "{\"name\":\"latency_p99\",\"direction\":\"increase\","
	    "\"baseline_query\":\"histogram_quantile(0.99, lat{app=\\\"%s\\\",track=\\\"baseline\\\"})\","
	    "\"canary_query\":\"histogram_quantile(0.99, lat{app=\\\"%s\\\",track=\\\"canary\\\"})\"}]}",
	    app, app, app, app, app) > 0);
	return s;
}

/* corralctl -o json call FAMILY OP --args ARGS: exit status, stdout parsed into *out. */
static int
call(const char *family, const char *op, const char *args, json_t **out)
{
	const char *av[] = { "-o", "json", "call", family, op, "--args", args, NULL };
	char *text = NULL;
	int rc = hx_ctl(&h, &text, av);

	*out = json_loads(text, 0, NULL);
	cr_assert_not_null(*out, "%s.%s: not JSON: %s", family, op, text);
	free(text);
	return rc;
}

static void
canary(const char *app, const char *want_verdict)
{
	char *args = canary_args(app);
	json_t *res;

	cr_assert_eq(call("prometheus", "canary_analyze", args, &res), 0, "%s",
	    json_dumps(res, 0));
	cr_assert_str_eq(json_string_value(json_object_get(res, "verdict")), want_verdict, "%s",
	    json_dumps(res, 0));
	cr_assert_str_eq(json_string_value(json_object_get(res, "app_name")), app);
	json_decref(res);
	free(args);
}

/* The last decision record of argocd.rollback_application in the audit log (new ref). */
static json_t *
last_rollback_decision(void)
{
	char *log = hx_read(h.audit), *line, *save = NULL;
	json_t *last = NULL;

	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *r = json_loads(line, 0, NULL);
		const char *t = json_string_value(json_object_get(r, "type"));
		const char *op = json_string_value(json_object_get(r, "op"));

		if (t && op && strcmp(t, "decision") == 0 && strcmp(op, "rollback_application") == 0) {
			json_decref(last);
			last = r;
		} else {
			json_decref(r);
		}
	}
	free(log);
	cr_assert_not_null(last, "no rollback decision in the audit log");
	return last;
}

/* Requests the fake Argo CD got that are not GETs. */
static size_t
argo_writes(const char *path_part)
{
	json_t *log = fake_log(&argo), *e;
	size_t i, n = 0;

	json_array_foreach(log, i, e)
		if (strcmp(json_string_value(json_object_get(e, "method")), "GET") != 0 &&
		    strstr(json_string_value(json_object_get(e, "path")), path_part))
			n++;
	json_decref(log);
	return n;
}

static void
rollback_denied(const char *app, const char *why)
{
	char args[128];
	json_t *res, *d;

	snprintf(args, sizeof(args), "{\"app_name\":\"%s\"}", app);
	cr_assert_eq(call("argocd", "rollback_application", args, &res), 3, "%s",
	    json_dumps(res, 0));
	cr_expect_str_eq(json_string_value(json_object_get(res, "error")), "ERR_DENIED");
	cr_expect(strstr(json_string_value(json_object_get(res, "detail")), why), "%s",
	    json_string_value(json_object_get(res, "detail")));
	json_decref(res);
	d = last_rollback_decision();
	cr_expect_str_eq(json_string_value(json_object_get(d, "decision")), "deny");
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(d, "rules"), 0)),
	    "rollback-on-evidence");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(d, "args"),
	    "app_name")), app);
	json_decref(d);
	cr_expect_eq(argo_writes("/rollback"), 0, "a denied rollback reached Argo CD");
}

Test(rollback, without_evidence_denied)
{
	start("15m", false);
	rollback_denied("guestbook", "no evidence: prometheus.canary_analyze {\"verdict\":\"fail\"} "
	    "same app_name within 15m");
}

Test(rollback, stale_evidence_denied)
{
	start("2s", false);
	canary("guestbook", "fail");
	usleep(2600 * 1000);
	rollback_denied("guestbook", "no evidence");
}

Test(rollback, pass_verdict_denied)
{
	start("15m", false);
	canary("busy", "pass");
	rollback_denied("busy", "no evidence");
}

Test(rollback, fail_for_another_app_denied)
{
	start("15m", false);
	canary("guestbook", "fail");
	rollback_denied("busy", "no evidence");
}

/* The allowed case: the decision names the evidence, the rollback reaches Argo CD with the
 * previous history id, and the audit holds the verdict as evidence of the canary call. */
Test(rollback, fail_for_the_app_allowed)
{
	json_t *res, *d, *e, *log;
	char *audit;
	size_t i;
	int found = 0;

	start("15m", false);
	canary("guestbook", "fail");
	cr_assert_eq(call("argocd", "rollback_application", "{\"app_name\":\"guestbook\"}", &res),
	    0, "%s", json_dumps(res, 0));
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(res, "target"), "id")), 2);
	json_decref(res);
	d = last_rollback_decision();
	cr_expect_str_eq(json_string_value(json_object_get(d, "decision")), "allow");
	e = json_object_get(json_object_get(d, "obligations"), "evidence");
	cr_expect_not_null(e, "the allow names its evidence");
	cr_expect_str_eq(json_string_value(json_object_get(e, "op")), "prometheus.canary_analyze");
	cr_expect_not_null(json_object_get(e, "found_at"));
	json_decref(d);
	log = fake_log(&argo);
	json_array_foreach(log, i, e)
		if (strcmp(json_string_value(json_object_get(e, "method")), "POST") == 0 &&
		    strcmp(json_string_value(json_object_get(e, "path")),
		    "/api/v1/applications/guestbook/rollback") == 0) {
			json_t *b = json_loads(json_string_value(json_object_get(e, "body")), 0, NULL);

			cr_expect_eq(json_integer_value(json_object_get(b, "id")), 2);
			cr_expect_eq(json_integer_value(json_object_get(e, "status")), 200);
			cr_expect_str_eq(json_string_value(http_json_get(e, "headers.authorization")),
			    "Bearer " ARGO_TOKEN);
			json_decref(b);
			found++;
		}
	json_decref(log);
	cr_expect_eq(found, 1, "Argo CD got %d rollbacks", found);
	audit = hx_read(h.audit);
	cr_expect(strstr(audit, "\"evidence\":{\"app_name\":\"guestbook\""), "verdict evidence "
	    "bound to the app in the outcome record");
	cr_expect(strstr(audit, "\"verdict\":\"fail\""));
	cr_expect(strstr(audit, "\"rollback\":{\"dry_run\":false,\"from_id\":3,"
	    "\"steps_done\":[\"rollback\"],\"to_id\":2}"), "rollback not in the outcome record");
	cr_expect_null(strstr(audit, ARGO_TOKEN), "token in the audit log");
	free(audit);
}

/* Auto-sync on: without disable_auto_sync the clear error and nothing sent; with it, auto-sync
 * is turned off by a patch, then the rollback runs, and both steps are reported. */
Test(rollback, auto_sync_two_step)
{
	json_t *res, *steps, *log, *e;
	const char *path;
	char *audit;
	size_t i, n = 0;

	start("15m", true);
	canary("auto-app", "fail");
	cr_assert_eq(call("argocd", "rollback_application", "{\"app_name\":\"auto-app\"}", &res),
	    1, "%s", json_dumps(res, 0));
	cr_expect_str_eq(json_string_value(json_object_get(res, "error")), "ERR_REMOTE_STATE");
	cr_expect(strstr(json_string_value(json_object_get(res, "detail")),
	    "call again with disable_auto_sync: true"), "%s",
	    json_string_value(json_object_get(res, "detail")));
	json_decref(res);
	cr_expect_eq(argo_writes("auto-app"), 0, "the refused rollback changed something");

	cr_assert_eq(call("argocd", "rollback_application",
	    "{\"app_name\":\"auto-app\",\"disable_auto_sync\":true}", &res), 0, "%s",
	    json_dumps(res, 0));
	steps = json_object_get(res, "steps");
	cr_assert_eq(json_array_size(steps), 2);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(steps, 0), "step")),
	    "disable_auto_sync");
	cr_expect(json_is_true(json_object_get(json_array_get(steps, 0), "done")));
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(steps, 1), "step")),
	    "rollback");
	cr_expect(json_is_false(http_json_get(res, "application.auto_sync")));
	json_decref(res);
	/* Argo CD saw the patch first, then the rollback to the previous history id (1) */
	log = fake_log(&argo);
	json_array_foreach(log, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "method")), "GET") == 0)
			continue;
		path = json_string_value(json_object_get(e, "path"));
		if (n == 0) {
			cr_expect_str_eq(json_string_value(json_object_get(e, "method")), "PATCH");
			cr_expect_str_eq(path, "/api/v1/applications/auto-app");
			cr_expect(strstr(json_string_value(json_object_get(e, "body")),
			    "automated\\\":null"), "%s", json_string_value(json_object_get(e, "body")));
		} else {
			cr_expect_str_eq(path, "/api/v1/applications/auto-app/rollback");
			cr_expect(strstr(json_string_value(json_object_get(e, "body")), "\"id\":1"));
		}
		cr_expect_eq(json_integer_value(json_object_get(e, "status")), 200);
		n++;
	}
	json_decref(log);
	cr_expect_eq(n, 2);
	/* the audit's outcome record holds both steps */
	audit = hx_read(h.audit);
	cr_expect(strstr(audit, "\"rollback\":{\"dry_run\":false,\"from_id\":2,"
	    "\"steps_done\":[\"disable_auto_sync\",\"rollback\"],\"to_id\":1}"), "%s", audit);
	free(audit);
}

/* Auto-sync off needs patch_application: a caller that may roll back but not patch gets a
 * clear denial naming patch_application, and nothing is sent. Needs corrald to decide the
 * implied patch (see docs/CANARY.md, "Rollback with auto-sync on"). */
Test(rollback, auto_sync_needs_patch_permission)
{
	json_t *res;

	start("15m", false);
	canary("auto-app", "fail");
	cr_assert_eq(call("argocd", "rollback_application",
	    "{\"app_name\":\"auto-app\",\"disable_auto_sync\":true}", &res), 3, "%s",
	    json_dumps(res, 0));
	cr_expect_str_eq(json_string_value(json_object_get(res, "error")), "ERR_DENIED");
	cr_expect(strstr(json_string_value(json_object_get(res, "detail")), "patch_application"),
	    "%s", json_string_value(json_object_get(res, "detail")));
	json_decref(res);
	cr_expect_eq(argo_writes("auto-app"), 0);
}

/* ---------------------------------------------------------------- evidence across restarts */

/* The audit log's "evidence" record for app (new ref), and its 1-based line. */
static json_t *
evidence_record(const char *app, size_t *lineno)
{
	char *log = hx_read(h.audit), *line, *next;
	json_t *found = NULL;
	size_t n = 0;

	for (line = log; line && *line; line = next) {
		json_t *r;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		n++;
		r = json_loads(line, 0, NULL);
		if (r && strcmp(json_string_value(json_object_get(r, "type")) ?: "", "evidence") == 0 &&
		    strcmp(json_string_value(http_json_get(r, "args.app_name")) ?: "", app) == 0) {
			json_decref(found);
			found = json_incref(r);
			if (lineno)
				*lineno = n;
		}
		json_decref(r);
	}
	free(log);
	cr_assert_not_null(found, "no evidence record for %s in the audit log", app);
	return found;
}

/* The audit record with this seq (new ref). */
static json_t *
audit_seq(json_int_t seq)
{
	char *log = hx_read(h.audit), *line, *save = NULL;
	json_t *found = NULL;

	for (line = strtok_r(log, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		json_t *r = json_loads(line, 0, NULL);

		if (json_integer_value(json_object_get(r, "seq")) == seq)
			found = json_incref(r);
		json_decref(r);
	}
	free(log);
	cr_assert_not_null(found, "no audit record with seq %lld", (long long)seq);
	return found;
}

static void
crash(void)
{
	cr_assert_eq(kill(h.pid, SIGKILL), 0);
	waitpid(h.pid, NULL, 0);
	h.pid = 0;
}

static void
append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* corralctl audit verify --key KEY DIR: exit status, output in *out. */
static int
verify(char **out)
{
	char key[400], dir[400];
	const char *av[] = { hx_bin("corralctl"), "audit", "verify", "--key", key, dir, NULL };

	snprintf(key, sizeof(key), "%s/state/audit.key", h.dir);
	snprintf(dir, sizeof(dir), "%s/state/audit", h.dir);
	return hx_run(out, av);
}

/* The verdict is on disk before corralctl gets it; corrald is killed, a crash leaves half a
 * record at the end of the log; the restarted corrald allows the rollback, and its decision
 * record leads to the evidence record, which leads to the canary call's decision. */
Test(rollback, evidence_survives_sigkill)
{
	json_t *ev, *d, *used, *cd, *res;
	json_int_t eseq;
	char *log, *out = NULL, want[96];
	const char *av[] = { "audit", "query", "--type", "decision", "--op",
	    "rollback_application", NULL, NULL };
	char dir[400];

	start("15m", false);
	canary("guestbook", "fail");
	ev = evidence_record("guestbook", NULL);
	eseq = json_integer_value(json_object_get(ev, "seq"));
	cr_assert_gt(eseq, 0);
	cr_expect_str_eq(json_string_value(http_json_get(ev, "result.verdict")), "fail");
	cr_expect_null(json_object_get(json_object_get(ev, "args"), "metrics"),
	    "the queries are not kept as evidence");
	cd = audit_seq(json_integer_value(json_object_get(ev, "decision_seq")));
	cr_expect_str_eq(json_string_value(json_object_get(cd, "op")), "canary_analyze");
	cr_expect_str_eq(json_string_value(json_object_get(cd, "decision")), "allow");
	json_decref(cd);

	crash();
	append(h.audit, "{\"type\":\"evidence\",\"tenant\":\"shop\",\"result\":{\"verd");
	hx_start(&h, 2);
	log = hx_read(h.log);
	cr_expect(strstr(log, "evidence loaded from the audit log") && strstr(log, "loaded=1"),
	    "%s", log);
	free(log);

	cr_assert_eq(call("argocd", "rollback_application", "{\"app_name\":\"guestbook\"}", &res),
	    0, "%s", json_dumps(res, 0));
	json_decref(res);
	d = last_rollback_decision();
	cr_expect_str_eq(json_string_value(json_object_get(d, "decision")), "allow");
	used = json_object_get(d, "evidence");
	cr_assert_not_null(used, "the allow does not name its evidence: %s", json_dumps(d, 0));
	cr_expect_eq(json_integer_value(json_object_get(used, "seq")), eseq);
	cr_expect_eq(json_integer_value(json_object_get(used, "decision_seq")),
	    json_integer_value(json_object_get(ev, "decision_seq")));
	cr_expect_str_eq(json_string_value(json_object_get(used, "verdict")), "fail");
	cr_expect(json_equal(json_object_get(used, "score"), http_json_get(ev, "result.score")));
	cr_expect_str_eq(json_string_value(json_object_get(used, "app_name")), "guestbook");
	cr_expect_str_eq(json_string_value(json_object_get(used, "op")),
	    "prometheus.canary_analyze");
	json_decref(d);

	log = hx_read(h.audit);
	cr_expect(strstr(log, "\"event\":\"torn_tail\""), "the torn tail was not recovered");
	free(log);
	cr_expect_eq(verify(&out), 0, "%s", out);
	cr_expect(strstr(out, "OK:"), "%s", out);
	free(out);
	/* corralctl audit query shows the link */
	snprintf(dir, sizeof(dir), "%s/state/audit", h.dir);
	av[6] = dir;
	cr_expect_eq(hx_ctl(&h, &out, av), 0, "%s", out);
	snprintf(want, sizeof(want), "[evidence seq %lld: fail, score ", (long long)eseq);
	cr_expect(strstr(out, want), "%s", out);
	free(out);
	/* and so does the HTML report, in the rollback's reason */
	{
		char html[400];
		const char *rav[] = { "audit", "report", "-o", html, dir, NULL };

		snprintf(html, sizeof(html), "%s/report.html", h.dir);
		cr_expect_eq(hx_ctl(&h, &out, rav), 0, "%s", out);
		free(out);
		out = hx_read(html);
		snprintf(want, sizeof(want), "evidence: audit seq %lld (prometheus.canary_analyze "
		    "fail, score ", (long long)eseq);
		cr_expect(strstr(out, want), "report lacks '%s'", want);
		free(out);
	}
	json_decref(ev);
}

/* A verdict that got older than `within` while corrald was down justifies nothing. */
Test(rollback, evidence_expired_after_restart)
{
	char *log;

	start("3s", false);
	canary("guestbook", "fail");
	crash();
	usleep(3300 * 1000);
	hx_start(&h, 2);
	log = hx_read(h.log);
	cr_expect(strstr(log, "evidence loaded from the audit log") && strstr(log, "loaded=0") &&
	    strstr(log, "expired=1"), "%s", log);
	free(log);
	rollback_denied("guestbook", "no evidence");
}

/* A pass verdict edited into a fail (same length, so every other byte stays), and a broken line
 * that claims to be evidence: corrald starts, names file and line of both, loads neither, and
 * the rollback stays refused. audit verify sees the edit too. */
Test(rollback, forged_evidence_ignored)
{
	char *log, *p, *out = NULL, where[64];
	size_t line = 0, n = 0;
	json_t *ev;
	FILE *f;

	start("15m", false);
	canary("busy", "pass");
	ev = evidence_record("busy", &line);
	json_decref(ev);
	crash();
	log = hx_read(h.audit);
	for (p = log; n + 1 < line; p = strchr(p, '\n') + 1)
		n++;
	cr_assert(strncmp(p, "{", 1) == 0);
	p = strstr(p, "\"verdict\":\"pass\"");
	cr_assert_not_null(p);
	memcpy(p + 11, "fail", 4);
	p = strchr(p, '\n') + 1;
	f = fopen(h.audit, "w");
	cr_assert_not_null(f);
	fwrite(log, 1, (size_t)(p - log), f);
	fputs("{\"type\":\"evidence\",\"tenant\":\"shop\" broken\n", f);
	fputs(p, f);
	fclose(f);
	free(log);

	hx_start(&h, 2);
	log = hx_read(h.log);
	snprintf(where, sizeof(where), "line=%zu", line);
	cr_expect(strstr(log, "audit.jsonl") && strstr(log, where) &&
	    strstr(log, "does not verify"), "%s", log);
	snprintf(where, sizeof(where), "line=%zu", line + 1);
	cr_expect(strstr(log, where) && strstr(log, "not JSON"), "%s", log);
	cr_expect(strstr(log, "loaded=0") && strstr(log, "ignored=2"), "%s", log);
	free(log);
	rollback_denied("busy", "no evidence");
	cr_expect_eq(verify(&out), 1, "audit verify missed the edit: %s", out);
	free(out);
}
