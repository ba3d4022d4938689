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
 * for the app -> allowed, and the rollback reaches Argo CD. Then the auto-sync two-step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
