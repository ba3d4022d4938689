/* The whole judge through its JSON face (canary_judge_json), as `corralctl canary judge` and
 * the prometheus worker use it: verdicts, scoring rules, transforms, determinism, plus mode,
 * input errors with field paths, and the text table. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "tools/canary_json.h"

static uint64_t rng_state;

static double urand(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * UINT64_C(2685821657736338717)) >> 11) * 0x1.0p-53;
}

static double nrand(double mean, double sd)
{
	double u = urand(), v = urand();

	return mean + sd * sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static json_t *series(size_t n, double mean, double sd)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_real(nrand(mean, sd)));
	return a;
}

static json_t *metric(const char *name, const char *group, json_t *control, json_t *experiment)
{
	return json_pack("{s:s, s:s, s:o, s:o}", "name", name, "group", group,
			 "control", control, "experiment", experiment);
}

/* Run the judge on doc (stolen); returns the parsed output and checks it is valid JSON. */
static json_t *judge(json_t *doc)
{
	char *in = json_dumps(doc, JSON_COMPACT), *out = NULL, err[256];
	json_error_t je;
	json_t *res;
	int r;

	json_decref(doc);
	cr_assert(in);
	r = canary_judge_json(in, strlen(in), &out, err, sizeof err);
	cr_assert_eq(r, 0, "judge failed: %d %s", r, err);
	res = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	cr_assert(res, "output is not JSON: %s\n%s", je.text, out);
	free(in);
	free(out);
	return res;
}

static const json_t *metric_out(const json_t *res, size_t i)
{
	return json_array_get(json_object_get(res, "metrics"), i);
}

static const char *class_of(const json_t *res, size_t i)
{
	return json_string_value(json_object_get(metric_out(res, i), "classification"));
}

static double numv(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

Test(canary_judge, healthy_canary_passes_and_regressions_fail)
{
	json_t *res;
	double lo, hi;

	rng_state = 1;
	res = judge(json_pack("{s:[o,o]}", "metrics",
			      metric("latency", "perf", series(300, 100, 10), series(300, 100, 10)),
			      metric("errors", "health", series(300, 5, 1), series(300, 5, 1))));
	cr_assert_str_eq(json_string_value(json_object_get(res, "verdict")), "pass");
	cr_assert_eq(numv(res, "score"), 100.0);
	cr_assert_str_eq(class_of(res, 0), "Pass");
	lo = json_number_value(json_array_get(json_object_get(metric_out(res, 0),
							      "confidence_interval"), 0));
	hi = json_number_value(json_array_get(json_object_get(metric_out(res, 0),
							      "confidence_interval"), 1));
	cr_assert(lo < 0 && hi > 0, "CI [%g, %g] should straddle 0 for equal distributions", lo, hi);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(metric_out(res, 0),
						"control"), "count")), 300);
	json_decref(res);

	/* latency doubles: High, its group scores 0, summary = 50 (two equal groups) -> fail */
	res = judge(json_pack("{s:[o,o]}", "metrics",
			      metric("latency", "perf", series(300, 100, 10), series(300, 200, 10)),
			      metric("errors", "health", series(300, 5, 1), series(300, 5, 1))));
	cr_assert_str_eq(class_of(res, 0), "High");
	cr_assert_str_eq(class_of(res, 1), "Pass");
	cr_assert_eq(numv(res, "score"), 50.0);
	cr_assert_str_eq(json_string_value(json_object_get(res, "verdict")), "fail");
	lo = json_number_value(json_array_get(json_object_get(metric_out(res, 0),
							      "confidence_interval"), 0));
	cr_assert(lo > 90 && lo < 100, "lower bound of the +100 shift: %g", lo);
	cr_assert(fabs(numv(metric_out(res, 0), "ratio") - 2.0) < 0.05);
	json_decref(res);
}

Test(canary_judge, weights_thresholds_and_marginal)
{
	json_t *res, *g;

	rng_state = 2;
	/* 3 metrics: group a (weight 80) has 1 pass + 1 high = 50; group b unweighted gets the
	 * remaining 20 and passes: 0.8 * 50 + 0.2 * 100 = 60. */
	res = judge(json_pack("{s:{s:f}, s:{s:f, s:f}, s:[o,o,o]}",
			      "groups", "a", 80.0, "thresholds", "pass", 90.0, "marginal", 60.0,
			      "metrics",
			      metric("m1", "a", series(100, 10, 1), series(100, 10, 1)),
			      metric("m2", "a", series(100, 10, 1), series(100, 30, 1)),
			      metric("m3", "b", series(100, 10, 1), series(100, 10, 1))));
	cr_assert_eq(numv(res, "score"), 60.0);
	cr_assert_str_eq(json_string_value(json_object_get(res, "verdict")), "marginal");
	g = json_array_get(json_object_get(res, "groups"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(g, "name")), "a");
	cr_assert_eq(numv(g, "score"), 50.0);
	cr_assert_eq(numv(g, "weight"), 80.0);
	g = json_array_get(json_object_get(res, "groups"), 1);
	cr_assert_eq(numv(g, "weight"), 20.0);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(g, "counts"), "Pass")), 1);
	json_decref(res);
}

Test(canary_judge, critical_failure_zeroes_the_score)
{
	json_t *m, *res;

	rng_state = 3;
	m = metric("errors", "health", series(200, 1, 0.1), series(200, 3, 0.1));
	json_object_set_new(m, "critical", json_true());
	res = judge(json_pack("{s:[o,o]}", "metrics", m,
			      metric("latency", "perf", series(200, 10, 1), series(200, 10, 1))));
	cr_assert_str_eq(class_of(res, 0), "High");
	cr_assert(json_is_true(json_object_get(metric_out(res, 0), "critical")));
	cr_assert_eq(numv(res, "score"), 0.0);
	cr_assert_str_eq(json_string_value(json_object_get(res, "reason")),
			 "Canary Failed: The metric errors was classified as High (Critical)");
	cr_assert_str_eq(json_string_value(json_object_get(res, "verdict")), "fail");
	json_decref(res);
}

Test(canary_judge, nodata_rules_and_must_have_data)
{
	json_t *m, *res;

	rng_state = 4;
	/* one of two metrics without canary data: 50% Nodata -> score 0 */
	res = judge(json_pack("{s:[o,o]}", "metrics",
			      metric("a", "g", series(50, 1, 0.1), json_pack("[s,s]", "NaN", "NaN")),
			      metric("b", "g", series(50, 1, 0.1), series(50, 1, 0.1))));
	cr_assert_str_eq(class_of(res, 0), "Nodata");
	cr_assert_eq(numv(res, "score"), 0.0);
	cr_assert_str_eq(json_string_value(json_object_get(res, "reason")),
			 "Canary Failed: 50% or more metrics returned NODATA");
	json_decref(res);

	/* must_have_data: NodataFailMetric counts as a failure in the group, no forced 0 */
	m = metric("a", "g", series(50, 1, 0.1), json_array());
	json_object_set_new(m, "must_have_data", json_true());
	res = judge(json_pack("{s:[o,o]}", "metrics", m,
			      metric("b", "g", series(50, 1, 0.1), series(50, 1, 0.1))));
	cr_assert_str_eq(class_of(res, 0), "NodataFailMetric");
	cr_assert_eq(numv(res, "score"), 50.0);
	json_decref(res);

	/* nan_strategy replace: missing data is not Nodata but zeros (Kayenta: Pass) */
	m = metric("a", "g", series(50, 1, 0.1), json_array());
	json_object_set_new(m, "nan_strategy", json_string("replace"));
	res = judge(json_pack("{s:[o]}", "metrics", m));
	cr_assert_str_eq(class_of(res, 0), "Pass");
	json_decref(res);
}

Test(canary_judge, nan_and_outlier_transforms)
{
	json_t *m, *res, *c;
	size_t i;

	rng_state = 5;
	c = series(100, 10, 1);
	json_array_set_new(c, 3, json_string("NaN"));
	json_array_set_new(c, 4, json_real(1e6));	/* a spike */
	m = metric("m", "g", c, series(100, 10, 1));
	json_object_set_new(m, "outliers", json_pack("{s:s, s:f}", "strategy", "remove",
						     "factor", 3.0));
	res = judge(json_pack("{s:[o]}", "metrics", m));
	c = json_object_get(metric_out(res, 0), "control");
	cr_assert_eq(json_integer_value(json_object_get(c, "count")), 98, "NaN and spike removed");
	cr_assert(numv(c, "max") < 100);
	json_decref(res);

	c = json_array();
	for (i = 0; i < 10; i++)
		json_array_append_new(c, i % 2 ? json_real(4.0) : json_string("NaN"));
	m = metric("m", "g", c, json_pack("[f,f,f]", 4.0, 4.0, 4.0));
	json_object_set_new(m, "nan_strategy", json_string("replace"));
	res = judge(json_pack("{s:[o]}", "metrics", m));
	c = json_object_get(metric_out(res, 0), "control");
	cr_assert_eq(json_integer_value(json_object_get(c, "count")), 10);
	cr_assert_eq(numv(c, "mean"), 2.0, "NaN replaced by 0");
	json_decref(res);
}

Test(canary_judge, muted_metrics_do_not_score)
{
	json_t *m, *res;

	rng_state = 6;
	m = metric("bad", "g", series(100, 1, 0.1), series(100, 9, 0.1));
	json_object_set_new(m, "muted", json_true());
	json_object_set_new(m, "critical", json_true());
	res = judge(json_pack("{s:[o,o]}", "metrics", m,
			      metric("good", "g", series(100, 1, 0.1), series(100, 1, 0.1))));
	cr_assert_str_eq(class_of(res, 0), "High");
	cr_assert(json_is_true(json_object_get(metric_out(res, 0), "muted")));
	cr_assert_eq(numv(res, "score"), 100.0);
	json_decref(res);
}

Test(canary_judge, direction_and_effect_size_thresholds)
{
	json_t *m, *res;

	rng_state = 7;
	m = metric("throughput", "g", series(100, 100, 5), series(100, 150, 5));
	json_object_set_new(m, "direction", json_string("decrease"));
	res = judge(json_pack("{s:[o]}", "metrics", m));
	cr_assert_str_eq(class_of(res, 0), "Pass", "an increase of a decrease-only metric");
	json_decref(res);

	/* +50% is significant but below an allowed increase of 2x */
	m = metric("latency", "g", series(100, 100, 5), series(100, 150, 5));
	json_object_set_new(m, "effect_size", json_pack("{s:f}", "allowed_increase", 2.0));
	res = judge(json_pack("{s:[o]}", "metrics", m));
	cr_assert_str_eq(class_of(res, 0), "Pass");
	cr_assert(fabs(numv(json_object_get(metric_out(res, 0), "effect_size"), "value") - 1.5) < 0.03);
	json_decref(res);

	m = metric("latency", "g", series(100, 100, 5), series(100, 150, 5));
	json_object_set_new(m, "effect_size", json_pack("{s:s}", "measure", "cles"));
	res = judge(json_pack("{s:[o]}", "metrics", m));
	cr_assert_str_eq(class_of(res, 0), "High");
	cr_assert_eq(numv(json_object_get(metric_out(res, 0), "effect_size"), "value"), 1.0,
		     "no overlap: every canary sample is above every baseline sample");
	json_decref(res);
}

/* Where Kayenta adds unseeded noise (each sample constant), corral takes the noise-free limit:
 * estimate and interval are exactly a - b, every run. */
Test(canary_judge, constant_series_are_decided_deterministically)
{
	char *in, *out1 = NULL, *out2 = NULL, err[128];
	json_t *doc, *res;

	doc = json_pack("{s:[{s:s,s:[f,f,f],s:[f,f,f,f]}, {s:s,s:[f,f],s:[f,f]}]}", "metrics",
			"name", "up", "control", 1.0, 1.0, 1.0, "experiment", 10.0, 10.0, 10.0, 10.0,
			"name", "down", "control", 0.5, 0.5, "experiment", 0.0, 0.0);
	cr_assert(doc);
	in = json_dumps(doc, JSON_COMPACT);
	cr_assert_eq(canary_judge_json(in, strlen(in), &out1, err, sizeof err), 0, "%s", err);
	cr_assert_eq(canary_judge_json(in, strlen(in), &out2, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(out1, out2, "same input, same bytes");
	res = json_loads(out1, 0, NULL);
	cr_assert_str_eq(class_of(res, 0), "High");
	cr_assert_eq(numv(metric_out(res, 0), "estimate"), 9.0);
	cr_assert_eq(json_number_value(json_array_get(json_object_get(metric_out(res, 0),
					"confidence_interval"), 0)), 9.0);
	cr_assert_str_eq(class_of(res, 1), "Low");
	cr_assert_eq(numv(metric_out(res, 1), "estimate"), -0.5);
	json_decref(res);
	json_decref(doc);
	free(in);
	free(out1);
	free(out2);
}

Test(canary_judge, overflowing_values_classify_as_error_not_critical)
{
	json_t *m, *res;

	m = json_pack("{s:s, s:[f,f], s:[f,f], s:b}", "name", "huge", "control", -1e308, 1.0,
		      "experiment", 1e308, 2.0, "critical", 1);
	res = judge(json_pack("{s:[o]}", "metrics", m));
	cr_assert_str_eq(class_of(res, 0), "Error");
	cr_assert(json_is_false(json_object_get(metric_out(res, 0), "critical")));
	cr_assert_str_eq(json_string_value(json_object_get(metric_out(res, 0), "reason")),
			 "Metric Classification Failed");
	json_decref(res);
}

/* ---------------------------------------------------------------------------------------- */
/* plus mode                                                                                  */

static json_t *plus_doc(bool plus, json_t *m)
{
	return json_pack("{s:b, s:[o]}", "plus", plus, "metrics", m);
}

Test(canary_judge, plus_catches_a_rise_in_variance)
{
	json_t *c, *e, *res;

	rng_state = 8;
	c = series(400, 100, 2);
	e = series(400, 100, 12);	/* same centre, six times the spread */
	json_incref(c);
	json_incref(e);
	res = judge(plus_doc(false, metric("latency", "g", c, e)));
	cr_assert_str_eq(class_of(res, 0), "Pass", "Kayenta's location test misses it");
	json_decref(res);
	res = judge(plus_doc(true, metric("latency", "g", c, e)));
	cr_assert_str_eq(class_of(res, 0), "High");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(metric_out(res, 0),
						"plus"), 0)), "variance");
	cr_assert_str_eq(json_string_value(json_object_get(res, "verdict")), "fail");
	json_decref(res);
}

static json_t *sparse(size_t n, size_t nonzero, double v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)	/* spread the non-zero samples over the window */
		json_array_append_new(a, json_real(i % (n / (nonzero ? nonzero : 1)) == 0 &&
						   i / (n / (nonzero ? nonzero : 1)) < nonzero ? v : 0.0));
	return a;
}

Test(canary_judge, plus_catches_sparse_error_counts)
{
	json_t *res;

	res = judge(plus_doc(false, metric("errors", "g", sparse(60, 0, 0), sparse(60, 8, 3.0))));
	cr_assert_str_eq(class_of(res, 0), "Pass", "Kayenta's test sees mostly ties");
	json_decref(res);
	res = judge(plus_doc(true, metric("errors", "g", sparse(60, 0, 0), sparse(60, 8, 3.0))));
	cr_assert_str_eq(class_of(res, 0), "High");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(metric_out(res, 0),
						"plus"), 0)), "sparse");
	json_decref(res);
	/* 2 vs 1 non-zero windows is no evidence */
	res = judge(plus_doc(true, metric("errors", "g", sparse(60, 1, 3.0), sparse(60, 2, 3.0))));
	cr_assert_str_eq(class_of(res, 0), "Pass");
	json_decref(res);
}

Test(canary_judge, plus_stays_quiet_on_healthy_canaries)
{
	json_t *res;
	int rep, highs = 0;

	rng_state = 9;
	for (rep = 0; rep < 20; rep++) {
		res = judge(plus_doc(true, metric("m", "g", series(200, 50, 5), series(200, 50, 5))));
		highs += strcmp(class_of(res, 0), "Pass") != 0;
		json_decref(res);
	}
	cr_assert_leq(highs, 1, "%d of 20 healthy canaries flagged", highs);
}

/* ---------------------------------------------------------------------------------------- */
/* Input errors name the field                                                                */

Test(canary_judge, input_errors_name_the_field)
{
	static const struct { const char *in; int code; const char *msg; } cases[] = {
		{ "{\"metrics\":[{\"name\":\"a\",\"control\":[1],\"experiment\":[1]},"
		  "{\"name\":\"b\",\"control\":[1],\"experiment\":[1]},"
		  "{\"name\":\"c\",\"control\":[1,2,3,4,5,\"x\"],\"experiment\":[1]}]}",
		  ERR_SCHEMA, "metrics[2].control[5]: expected a number or \"NaN\"" },
		{ "{\"metrics\":[{\"name\":\"a\",\"control\":[1],\"experiment\":[1],\"colour\":1}]}",
		  ERR_SCHEMA, "metrics[0]: unknown field \"colour\"" },
		{ "{\"metrics\":[{\"name\":\"a\",\"control\":[1]}]}",
		  ERR_SCHEMA, "metrics[0].experiment: required field missing" },
		{ "{\"confidence\":1.5,\"metrics\":[]}", ERR_SCHEMA, "confidence: 1.5 is out of range" },
		{ "{\"metrics\":[]}", ERR_SCHEMA, "metrics: expected a non-empty array" },
		{ "{\"thresholds\":{\"pass\":50,\"marginal\":70},\"metrics\":[{\"name\":\"a\","
		  "\"control\":[1],\"experiment\":[1]}]}", ERR_SCHEMA,
		  "thresholds.marginal: above thresholds.pass" },
		{ "{\"groups\":{\"a\":70,\"b\":40},\"metrics\":[]}", ERR_SCHEMA,
		  "groups: weights add up to 110, over 100" },
		{ "{\"metrics\":[{\"name\":\"a\",\"control\":[1],\"experiment\":[1],"
		  "\"direction\":\"up\"}]}", ERR_SCHEMA,
		  "metrics[0].direction: expected one of \"either\", \"increase\", \"decrease\"" },
		{ "{\"metrics\":[{\"name\":\"a\",\"control\":[1],\"experiment\":[1]},"
		  "{\"name\":\"a\",\"control\":[1],\"experiment\":[1]}]}", ERR_SCHEMA,
		  "metrics[1].name: duplicate metric name \"a\"" },
		{ "{\"metrics\":[{\"name\":\"a\",\"control\":[1],\"experiment\":[1],"
		  "\"outliers\":{\"strategy\":\"remove\",\"factor\":0}}]}", ERR_SCHEMA,
		  "metrics[0].outliers.factor: 0 is out of range" },
		{ "{\"metrics\":[{\"name\":\"a\",\"control\":[1],\"experiment\":[1],"
		  "\"effect_size\":{\"measure\":\"median\"}}]}", ERR_SCHEMA,
		  "metrics[0].effect_size.measure: expected one of \"meanRatio\", \"cles\"" },
		{ "{\"metrics\":[{\"name\":\"a\",\"group\":[\"x\",3],\"control\":[1],"
		  "\"experiment\":[1]}]}", ERR_SCHEMA, "metrics[0].group[1]: expected a non-empty string" },
		{ "{\"plus\":\"yes\",\"metrics\":[]}", ERR_SCHEMA, "plus: expected true or false" },
		{ "{\"metrics\":[{\"name\":\"a\",\"name\":\"b\"}]}", ERR_PROTO, "(input): line 1" },
		{ "[1,2", ERR_PROTO, "(input): line 1" },
		{ "{\"metrics\":[],\"extra\":1}", ERR_SCHEMA, "(top): unknown field \"extra\"" },
	};
	char err[256], *out = (char *)"untouched";
	size_t i;
	int r;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = canary_judge_json(cases[i].in, strlen(cases[i].in), &out, err, sizeof err);
		cr_expect_eq(r, cases[i].code, "case %zu: %d (%s)", i, r, err);
		cr_expect(strncmp(err, cases[i].msg, strlen(cases[i].msg)) == 0,
			  "case %zu: got \"%s\", want \"%s...\"", i, err, cases[i].msg);
		cr_expect_str_eq(out, "untouched", "case %zu wrote the output", i);
	}
}

Test(canary_judge, too_many_samples_is_too_big)
{
	size_t n = 100001, i, len = 0;
	char *in = malloc(n * 2 + 128), *out = NULL, err[128];

	cr_assert(in);
	len += (size_t)sprintf(in, "{\"metrics\":[{\"name\":\"a\",\"experiment\":[1],\"control\":[");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(in + len, "%s1", i ? "," : "");
	len += (size_t)sprintf(in + len, "]}]}");
	cr_assert_eq(canary_judge_json(in, len, &out, err, sizeof err), ERR_TOOBIG, "%s", err);
	cr_assert_str_eq(err, "metrics[0].control: more than 100000 samples");
	free(in);
}

/* ---------------------------------------------------------------------------------------- */

Test(canary_judge, struct_api_and_table)
{
	static const double c[] = { 10, 11, 12, 10, 11, 12, 10, 11 };
	static const double e[] = { 20, 21, 22, 20, 21, 22, 20, 21 };
	const char *groups[] = { "perf" };
	struct canary_metric_in m;
	struct canary_input in;
	struct canary_result res;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	canary_input_init(&in);
	canary_metric_init(&m);
	m.name = "latency_p99";
	m.groups = groups;
	m.ngroups = 1;
	m.control = c;
	m.ncontrol = 8;
	m.experiment = e;
	m.nexperiment = 8;
	in.metrics = &m;
	in.nmetrics = 1;
	cr_assert_eq(canary_judge(&in, &res), 0);
	cr_assert_eq(res.metrics[0].label, CANARY_HIGH);
	cr_assert_eq(res.verdict, CANARY_VERDICT_FAIL);
	cr_assert(res.metrics[0].ci_lower > 0 && res.metrics[0].estimate > 9 &&
		  res.metrics[0].estimate < 11);
	f = open_memstream(&buf, &len);
	cr_assert(f);
	cr_assert_eq(canary_result_print_table(&res, f), 0);
	fclose(f);
	cr_assert(strstr(buf, "verdict: fail   score: 0.00"), "%s", buf);
	cr_assert(strstr(buf, "latency_p99"), "%s", buf);
	cr_assert(strstr(buf, "High"), "%s", buf);
	cr_assert(strstr(buf, "latency_p99: latency_p99 was classified as High"), "%s", buf);
	free(buf);
	canary_result_free(&res);
	canary_result_free(&res);	/* zeroed: no-op */
	canary_result_free(NULL);

	in.confidence = 1.0;
	cr_assert_eq(canary_judge(&in, &res), -EINVAL);
}

/* The longest multi-byte name in the longest reasons still gives valid UTF-8 JSON. */
Test(canary_judge, long_multibyte_names_stay_valid_json)
{
	char name[129];
	json_t *m, *res;
	size_t i;

	for (i = 0; i < 128; i += 2)
		memcpy(name + i, "\xc3\xa9", 2);	/* é */
	name[128] = '\0';
	m = metric(name, name, sparse(60, 0, 0), sparse(60, 10, 3.0));
	json_object_set_new(m, "critical", json_true());
	res = judge(plus_doc(true, m));	/* judge() parses the output strictly */
	cr_assert_str_eq(class_of(res, 0), "High");
	cr_assert(strstr(json_string_value(json_object_get(res, "reason")), name));
	json_decref(res);
}
