/* tools/canary_svg: the SVG report of a canary analysis. A real analysis comes from
 * prometheus.canary_analyze against fake_prometheus.py (include_series); hand-made ones cover
 * gaps, empty series, escaping, errors and the size cap. The SVG is checked as XML (balanced
 * tags, entities) and by what it draws (panels, points inside the plot, labels). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/tools/harness.h"
#include "tools/canary_svg.h"

extern const struct tool_family tool_fam_prometheus;

/* ---------------------------------------------------------------- checking the SVG */

/* Balanced tags, attributes quoted, & only as an entity. Returns NULL or what is wrong. */
static const char *
xml_check(const char *s)
{
	static char why[128];
	char stack[64][32];
	int depth = 0;

	for (const char *p = s; *p; p++) {
		if (*p == '&' && strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) &&
		    strncmp(p, "&gt;", 4) && strncmp(p, "&quot;", 6) && strncmp(p, "&#", 2))
			return "bare &";
		if (*p != '<')
			continue;
		const char *end = strchr(p, '>');
		char name[32] = "";
		bool closing = p[1] == '/';

		if (end == NULL)
			return "unterminated tag";
		sscanf(p + 1 + closing, "%31[a-zA-Z0-9]", name);
		if (memchr(p + 1, '<', (size_t)(end - p - 1)))
			return "< inside a tag";
		if (closing) {
			if (depth == 0 || strcmp(stack[depth - 1], name) != 0) {
				snprintf(why, sizeof(why), "</%s> closes %s", name,
				    depth ? stack[depth - 1] : "nothing");
				return why;
			}
			depth--;
		} else if (end[-1] != '/') {
			if (depth == 64)
				return "too deep";
			snprintf(stack[depth++], sizeof(stack[0]), "%s", name);
		}
		p = end;
	}
	return depth == 0 ? (strncmp(s, "<svg ", 5) == 0 ? NULL : "not an <svg>") : "unclosed tag";
}

static size_t
count(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* Points of the k-th polyline of class cls (x,y pairs into xs/ys, at most max). */
static size_t
polyline_points(const char *svg, const char *cls, size_t k, double *xs, double *ys, size_t max)
{
	char needle[64];
	const char *p = svg;
	size_t n = 0;

	snprintf(needle, sizeof(needle), "<polyline class=\"%s\"", cls);
	for (size_t i = 0; i <= k; i++) {
		if ((p = strstr(p, needle)) == NULL)
			return 0;
		p += strlen(needle);
	}
	p = strstr(p, "points=\"") + 8;
	while (*p != '"' && n < max) {
		char *e;

		xs[n] = strtod(p, &e);
		ys[n] = strtod(e + 1, &e);
		n++;
		p = e;
		while (*p == ' ')
			p++;
	}
	return n;
}

static char *
render(const json_t *a)
{
	char *out = NULL, err[256];
	size_t len = 0;
	int r = canary_svg_render(a, &out, &len, err, sizeof(err));

	cr_assert_eq(r, 0, "render: %s", err);
	cr_assert_eq(strlen(out), len);
	return out;
}

/* ---------------------------------------------------------------- a real analysis */

static json_t *
analysis_from_fake(void)
{
	static const char args[] = "{\"app_name\":\"bad-checkout\",\"start\":\"2026-11-05T10:00:00Z\","
	    "\"end\":\"2026-11-05T10:10:00Z\",\"include_series\":true,\"metrics\":["
	    "{\"name\":\"error_rate\",\"critical\":true,\"direction\":\"increase\","
	    "\"baseline_query\":\"errors{app=\\\"bad-checkout\\\",track=\\\"baseline\\\",code=~\\\"5..\\\"}\","
	    "\"canary_query\":\"errors{app=\\\"bad-checkout\\\",track=\\\"canary\\\",code=~\\\"5..\\\"}\"},"
	    "{\"name\":\"latency_p99\",\"direction\":\"increase\","
	    "\"baseline_query\":\"histogram_quantile(0.99, x{app=\\\"bad-checkout\\\",track=\\\"baseline\\\"})\","
	    "\"canary_query\":\"histogram_quantile(0.99, x{app=\\\"bad-checkout\\\",track=\\\"canary\\\"})\"}]}";
	struct fake f;
	struct harness h;
	struct tool_err err;
	char verr[256] = "";
	json_t *res = NULL;

	cr_assert_eq(fake_start(&f, "fake_prometheus.py", NULL), 0);
	cr_assert_eq(harness_init(&h, &f, NULL), 0);
	cr_assert_eq(harness_call(&h, &tool_fam_prometheus, "canary_analyze", args, &res, &err,
	    verr, sizeof(verr)), 0, "%s %s", verr, err.text);
	harness_fini(&h);
	fake_stop(&f);
	return res;
}

Test(canary_svg, real_analysis)
{
	json_t *a = analysis_from_fake();
	char *svg = render(a), *again = render(a);
	double xs[64], ys[64];
	const char *bad = xml_check(svg);

	cr_assert_null(bad, "%s", bad);
	cr_expect_str_eq(svg, again, "not deterministic");
	cr_expect_eq(count(svg, "<g class=\"metric\">"), 2);
	cr_expect(strstr(svg, "Canary analysis: bad-checkout"));
	cr_expect(strstr(svg, ">fail (score 0;"), "verdict in the header");
	cr_expect(strstr(svg, ">High (critical)</text>"), "error_rate's label");
	cr_expect_eq(count(svg, "<polyline class=\"baseline\""), 2);
	cr_expect_eq(count(svg, "<polyline class=\"canary\""), 2);
	for (size_t k = 0; k < 2; k++) {
		size_t nb = polyline_points(svg, "baseline", k, xs, ys, 64);

		cr_expect_eq(nb, 41, "panel %zu: %zu baseline points", k, nb);
		cr_expect_eq(polyline_points(svg, "canary", k, xs, ys, 64), 41);
		/* inside the plot of panel k, first at the left edge, last at the right */
		for (size_t i = 0; i < 41; i++) {
			cr_expect(xs[i] >= 80 && xs[i] <= CANARY_SVG_WIDTH - 30, "x %f", xs[i]);
			cr_expect(ys[i] >= 96 + k * CANARY_SVG_PANEL + 34 &&
			    ys[i] <= 96 + k * CANARY_SVG_PANEL + 34 + 150, "y %f", ys[i]);
		}
		cr_expect_eq(xs[0], 80.0);
		cr_expect_eq(xs[40], CANARY_SVG_WIDTH - 30.0);
	}
	/* the degraded canary draws above the baseline (smaller y) on average */
	{
		double bx[64], by[64], cx[64], cy[64], sb = 0, sc = 0;

		polyline_points(svg, "baseline", 1, bx, by, 64);
		polyline_points(svg, "canary", 1, cx, cy, 64);
		for (int i = 0; i < 41; i++) {
			sb += by[i];
			sc += cy[i];
		}
		cr_expect_lt(sc, sb);
	}
	cr_expect(strstr(svg, "10:00:00") && strstr(svg, "10:10:00"), "time axis");
	free(svg);
	free(again);
	json_decref(a);
}

/* ---------------------------------------------------------------- hand-made analyses */

static json_t *
made(const char *name, json_t *baseline, json_t *canary)
{
	return json_pack("{s:s, s:s, s:f, s:{s:i, s:i}, s:n, s:b, s:[{s:s, s:s, s:b, s:f, "
	    "s:{s:f}, s:{s:f}}], s:{s:s, s:s, s:i, s:i}, s:[{s:s, s:o, s:o}]}",
	    "app_name", "shop<&>", "verdict", "pass", "score", 100.0, "thresholds", "pass", 95,
	    "marginal", 75, "reason", "plus", 0, "metrics", "name", name, "classification", "Pass",
	    "critical", 0, "ratio", 1.0, "control", "mean", 2.0, "experiment", "mean", 2.0,
	    "window", "start", "2026-11-05T10:00:00Z", "end", "2026-11-05T10:01:00Z",
	    "seconds", 60, "step_seconds", 15, "series", "name", name, "baseline", baseline,
	    "canary", canary);
}

/* A NaN sample (null) breaks the line in two; a flat line sits mid-plot. */
Test(canary_svg, gaps_and_flat_lines)
{
	json_t *a = made("m", json_pack("[[f,f],[f,f],[f,f],[f,f],[f,f]]", 0.0, 2.0, 15.0, 2.0,
	    30.0, 2.0, 45.0, 2.0, 60.0, 2.0), json_pack("[[f,f],[f,f],[f,n],[f,f],[f,f]]",
	    0.0, 2.0, 15.0, 2.0, 30.0, 45.0, 2.0, 60.0, 2.0));
	char *svg = render(a);
	double xs[8], ys[8];

	cr_assert_null(xml_check(svg), "%s", xml_check(svg));
	cr_expect_eq(count(svg, "<polyline class=\"canary\""), 2);
	cr_expect_eq(count(svg, "<polyline class=\"baseline\""), 1);
	cr_assert_eq(polyline_points(svg, "baseline", 0, xs, ys, 8), 5);
	cr_expect(fabs(ys[0] - (96 + 34 + 75)) < 0.11, "flat line at %f", ys[0]);
	cr_assert_eq(polyline_points(svg, "canary", 1, xs, ys, 8), 2);
	cr_expect_eq(xs[0], 80 + 0.75 * (CANARY_SVG_WIDTH - 30 - 80));
	free(svg);
	json_decref(a);
}

/* Names are escaped; an empty side draws nothing; both empty say "no data". */
Test(canary_svg, escaping_and_no_data)
{
	json_t *a = made("p99 <ms> & \"more\"", json_array(), json_array());
	char *svg = render(a);

	cr_assert_null(xml_check(svg), "%s", xml_check(svg));
	cr_expect(strstr(svg, "p99 &lt;ms&gt; &amp; &quot;more&quot;"));
	cr_expect(strstr(svg, "Canary analysis: shop&lt;&amp;&gt;"));
	cr_expect(strstr(svg, ">no data</text>"));
	cr_expect_eq(count(svg, "<polyline"), 0);
	free(svg);
	json_decref(a);
}

Test(canary_svg, refusals)
{
	static const struct {
		const char *json;
		const char *text;
	} cases[] = {
		{ "[]", "not a canary_analyze result" },
		{ "{\"verdict\":\"pass\"}", "not a canary_analyze result" },
		{ "{\"verdict\":\"pass\",\"metrics\":[]}", "include_series: true" },
		{ "{\"verdict\":\"pass\",\"metrics\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
		  "\"series\":[{\"name\":\"a\",\"baseline\":[],\"canary\":[]}]}",
		  "metrics[1]: no series named \"b\"" },
	};
	char *out = NULL, err[256];
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *a = json_loads(cases[i].json, 0, NULL);

		cr_expect_eq(canary_svg_render(a, &out, &len, err, sizeof(err)), ERR_SCHEMA,
		    "case %zu", i);
		cr_expect(strstr(err, cases[i].text), "case %zu: %s", i, err);
		json_decref(a);
	}
	cr_expect_null(out);
}

/* Past LIM_CANARY_OUTPUT_MAX the render stops with ERR_TOOBIG instead of growing. */
Test(canary_svg, size_cap)
{
	json_t *pts = json_array(), *a;
	char *out = NULL, err[256];
	size_t len;

	for (int i = 0; i < 400000; i++)
		json_array_append_new(pts, json_pack("[i, f]", i, sin(i / 100.0)));
	a = made("big", pts, json_array());
	cr_expect_eq(canary_svg_render(a, &out, &len, err, sizeof(err)), ERR_TOOBIG, "%s", err);
	cr_expect_null(out);
	json_decref(a);
}
