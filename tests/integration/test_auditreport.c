/* corralctl audit report on a crafted log: counts, decisions and outcomes on the page, every
 * string from the log escaped (a principal holding markup), agent runs and deaths as marks,
 * filters, --svg as a document an SVG renderer accepts, bad input. (test_mcp draws the report
 * of a real corrald's log.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"

static struct hx h;

static void
teardown(void)
{
	hx_cleanup(&h);
}

TestSuite(auditreport, .timeout = 30, .fini = teardown);

static const char crafted[] =
    "{\"seq\":1,\"type\":\"lifecycle\",\"event\":\"start\",\"time\":\"2026-01-02T03:04:00.000Z\"}\n"
    "{\"seq\":2,\"type\":\"decision\",\"tenant\":\"demo\",\"principal\":\"agent:x\","
    "\"tool\":\"echo\",\"op\":\"echo\",\"decision\":\"allow\",\"rules\":[\"r1\"],\"call\":1,"
    "\"time\":\"2026-01-02T03:04:01.000Z\"}\n"
    "{\"seq\":3,\"type\":\"outcome\",\"tenant\":\"demo\",\"principal\":\"agent:x\","
    "\"tool\":\"echo\",\"op\":\"echo\",\"call\":1,\"decision_seq\":2,\"outcome\":\"error\","
    "\"error\":\"boom <b>\",\"duration_ms\":5,\"time\":\"2026-01-02T03:04:01.005Z\"}\n"
    "{\"seq\":4,\"type\":\"decision\",\"tenant\":\"demo\",\"principal\":"
    "\"operator:<script>alert(1)</script>\",\"tool\":\"echo\",\"op\":\"crash\","
    "\"decision\":\"deny\",\"reason\":\"no & <rule>\",\"time\":\"2026-01-02T03:05:00.000Z\"}\n"
    "not json at all\n"
    "{\"type\":\"decision\",\"principal\":\"agent:noseq\"}\n"
    "{\"seq\":5,\"type\":\"decision\",\"tenant\":\"demo\",\"principal\":\"agent:x\","
    "\"tool\":\"echo\",\"op\":\"sleep\",\"decision\":\"pending\",\"reason\":\"waiting\","
    "\"time\":\"2026-01-02T03:06:00.000Z\"}\n"
    "{\"seq\":6,\"type\":\"lifecycle\",\"worker\":\"agent-x@demo\",\"tenant\":\"demo\","
    "\"event\":\"died\",\"detail\":\"killed\",\"time\":\"2026-01-02T03:06:30.000Z\"}\n"
    "{\"seq\":7,\"type\":\"approval\",\"event\":\"requested\",\"tenant\":\"demo\","
    "\"principal\":\"agent:x\",\"tool\":\"echo\",\"op\":\"sleep\","
    "\"time\":\"2026-01-02T03:06:00.000Z\"}\n"
    "{\"seq\":8,\"type\":\"lifecycle\",\"worker\":\"echo@demo\",\"tenant\":\"demo\","
    "\"event\":\"died\",\"time\":\"2026-01-02T03:07:00.000Z\"}\n";

static size_t
count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

static int
report(char **out, const char *a1, const char *a2, const char *a3, const char *a4)
{
	const char *av[] = { hx_bin("corralctl"), "audit", "report", a1, a2, a3, a4, NULL };

	return hx_run(out, av);
}

Test(auditreport, crafted_log)
{
	char path[400], *out = NULL;

	hx_config(&h, "tenants: {}\n");
	snprintf(path, sizeof(path), "%s", hx_file(&h, "audit.jsonl", crafted, 0644));
	cr_assert_eq(report(&out, path, path, NULL, NULL), 0, "%s", out);	/* twice: once */
	cr_expect(strstr(out, "3 calls (1 allowed, 1 denied, 1 pending approval, 1 failed after "
	    "being allowed) by 2 principals"), "%s", out);
	cr_expect_null(strstr(out, "<script>"), "unescaped markup from the log");
	cr_expect(strstr(out, "operator:&lt;script&gt;alert(1)&lt;/script&gt;"));
	cr_expect(strstr(out, "no &amp; &lt;rule&gt;"));
	cr_expect(strstr(out, "error: boom &lt;b&gt;</td><td>5 ms"), "%s", out);
	cr_expect_eq(count(out, "<circle class='call "), 3);
	cr_expect_eq(count(out, "stroke='#000'"), 1, "one call failed after being allowed");
	cr_expect_eq(count(out, "class='mark'"), 2, "the agent's death and its approval");
	cr_expect_null(strstr(out, "noseq"));
	cr_expect(strstr(out, "2026-01-02 03:04:01 UTC"));
	free(out);

	cr_assert_eq(report(&out, "--principal", "agent:x", h.dir, NULL), 0, "%s", out);
	cr_expect(strstr(out, "2 calls (1 allowed, 0 denied, 1 pending"), "%s", out);
	free(out);
	cr_assert_eq(report(&out, "--tenant", "other", path, NULL), 0);
	cr_expect(strstr(out, "0 calls"), "%s", out);
	free(out);
}

Test(auditreport, svg_and_errors)
{
	char path[400], svg[400], png[400], *out = NULL;
	const char *rsvg[] = { "/usr/bin/rsvg-convert", svg, "-o", png, NULL };

	hx_config(&h, "tenants: {}\n");
	snprintf(path, sizeof(path), "%s", hx_file(&h, "audit.jsonl", crafted, 0644));
	snprintf(svg, sizeof(svg), "%s/t.svg", h.dir);
	snprintf(png, sizeof(png), "%s/t.png", h.dir);
	cr_assert_eq(report(&out, "--svg", "-o", svg, path), 0, "%s", out);
	free(out);
	out = hx_read(svg);
	cr_expect(strncmp(out, "<svg xmlns='http://www.w3.org/2000/svg'", 39) == 0, "%.80s", out);
	cr_expect_null(strstr(out, "<html"));
	cr_expect_eq(count(out, "<circle"), 3);
	free(out);
	if (access(rsvg[0], X_OK) == 0) {	/* a renderer accepts it, when one is installed */
		cr_expect_eq(hx_run(&out, rsvg), 0, "%s", out);
		free(out);
		cr_expect_eq(access(png, R_OK), 0);
	}
	cr_expect_eq(report(&out, NULL, NULL, NULL, NULL), 2);
	cr_expect(strstr(out, "no audit log given"), "%s", out);
	free(out);
	cr_expect_eq(report(&out, "/nonexistent/audit.jsonl", NULL, NULL, NULL), 2);
	cr_expect(strstr(out, "/nonexistent/audit.jsonl: No such file"), "%s", out);
	free(out);
	cr_expect_eq(report(&out, "--bogus", path, NULL, NULL), 2);
	free(out);
}
