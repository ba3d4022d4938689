/* The prometheus family: instant and range queries against the Prometheus HTTP API
 * (CONTRACTS.md section 7), for agents and the canary analysis.
 *
 * Short queries go as GET with query parameters; long PromQL goes as POST with an
 * application/x-www-form-urlencoded body (same parameters), both retried as reads. Results keep
 * the series' labels and values; sample values become numbers where finite ("NaN", "+Inf" stay
 * strings), and series and points are capped with a truncation flag.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/http.h"
#include "tools/io.h"
#include "tools/tool.h"

#define GET_QUERY_MAX	2048		/* longer PromQL goes as a POST form */
#define FORM_MAX	(LIM_ARGS_MAX * 3 + 1024)
#define POINTS_TOTAL_MAX 50000		/* samples over all series of one result */
#define PROM_POINTS_MAX	11000		/* Prometheus: max points per series of a range query */

static const char *
arg_str(const struct tool_call *call, const char *name)
{
	return json_string_value(json_object_get(call->args, name));
}

static json_int_t
arg_int(const struct tool_call *call, const char *name, json_int_t def)
{
	json_t *v = json_object_get(call->args, name);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* ---------------------------------------------------------------- time and durations */

/* Unix seconds (float) or RFC 3339 into seconds. 0 or ERR_SCHEMA. */
static int
parse_time(const char *s, double *out)
{
	struct tm tm = { 0 };
	char *end;
	double frac = 0;
	long off = 0;

	*out = strtod(s, &end);
	if (end != s && *end == '\0')
		return 0;
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return ERR_SCHEMA;
	if (*end == '.') {
		char *e2;

		frac = strtod(end, &e2);
		end = e2;
	}
	if (*end == '+' || *end == '-') {
		int hh, mm;

		if (sscanf(end + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(end) != 6)
			return ERR_SCHEMA;
		off = (hh * 3600L + mm * 60L) * (*end == '-' ? -1 : 1);
	} else if (strcmp(end, "Z") != 0 && strcmp(end, "z") != 0) {
		return ERR_SCHEMA;
	}
	*out = (double)timegm(&tm) - (double)off + frac;
	return 0;
}

/* Prometheus duration ("1h30m", "15s", "250ms") or float seconds. 0 or ERR_SCHEMA. */
static int
parse_duration(const char *s, double *out)
{
	static const struct { const char *u; double sec; } units[] = {
		{ "ms", 0.001 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
		{ "w", 604800 }, { "y", 31536000 },
	};
	char *end;
	double v = strtod(s, &end);

	if (end != s && *end == '\0') {
		*out = v;
		return 0;
	}
	*out = 0;
	while (*s) {
		size_t i, ul;
		long n;

		if (*s < '0' || *s > '9')
			return ERR_SCHEMA;
		n = strtol(s, &end, 10);
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			ul = strlen(units[i].u);
			if (strncmp(end, units[i].u, ul) == 0 && !(ul == 1 && end[0] == 'm' && end[1] == 's'))
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return ERR_SCHEMA;
		*out += (double)n * units[i].sec;
		s = end + strlen(units[i].u);
	}
	return *out > 0 ? 0 : ERR_SCHEMA;
}

/* The 11,000-points rule checked before asking (Prometheus would answer 400 bad_data). */
static int
range_check(const struct tool_call *call, struct tool_err *err)
{
	double start, end, step;

	if (parse_time(arg_str(call, "start"), &start) < 0 ||
	    parse_time(arg_str(call, "end"), &end) < 0) {
		http_err_set(err, ERR_SCHEMA, 0, false, "start/end: RFC 3339 time or Unix seconds");
		return ERR_SCHEMA;
	}
	if (parse_duration(arg_str(call, "step"), &step) < 0 || step <= 0) {
		http_err_set(err, ERR_SCHEMA, 0, false, "step: a positive duration (15s, 1m) or seconds");
		return ERR_SCHEMA;
	}
	if (end < start) {
		http_err_set(err, ERR_SCHEMA, 0, false, "end is before start");
		return ERR_SCHEMA;
	}
	if ((end - start) / step > PROM_POINTS_MAX) {
		http_err_set(err, ERR_SCHEMA, 0, false, "%.0f points per series: Prometheus refuses "
		    "more than 11,000; use a step of at least %.0fs", (end - start) / step,
		    ceil((end - start) / PROM_POINTS_MAX));
		return ERR_SCHEMA;
	}
	return 0;
}

/* ---------------------------------------------------------------- request */

struct prom_params {
	const char *k[8];
	const char *v[8];
	size_t n;
	char limit[24];
};

static void
pp_add(struct prom_params *pp, const char *k, const char *v)
{
	if (v != NULL && pp->n < 8) {
		pp->k[pp->n] = k;
		pp->v[pp->n++] = v;
	}
}

/* k=v&k=v with every key and value percent-encoded, into a malloc'd buffer. */
static char *
form_encode(const struct prom_params *pp)
{
	size_t cap = 64, off = 0;
	char *buf;

	for (size_t i = 0; i < pp->n; i++)
		cap += 3 * (strlen(pp->k[i]) + strlen(pp->v[i])) + 2;
	if (cap > FORM_MAX || (buf = malloc(cap)) == NULL)
		return NULL;
	for (size_t i = 0; i < pp->n; i++) {
		int n;

		if (i)
			buf[off++] = '&';
		if ((n = http_pct_encode(pp->k[i], strlen(pp->k[i]), buf + off, cap - off)) < 0)
			goto fail;
		off += (size_t)n;
		buf[off++] = '=';
		if ((n = http_pct_encode(pp->v[i], strlen(pp->v[i]), buf + off, cap - off)) < 0)
			goto fail;
		off += (size_t)n;
	}
	buf[off] = '\0';
	return buf;
fail:
	free(buf);
	return NULL;
}

/* GET (short) or POST form (long) to /api/v1/<what>; *data gets the "data" member. */
static int
prom_do(struct tool_io *io, const struct tool_call *call, const char *what,
    const struct prom_params *pp, json_t **doc, struct tool_err *err)
{
	const char *secret = http_ctx_secret(call->ctx), *q = arg_str(call, "query");
	struct http_resp resp = { 0 };
	bool post = q && strlen(q) > GET_QUERY_MAX;
	struct http_req req;
	char *form = NULL;
	int r;

	*doc = NULL;
	if (io == NULL || io->http == NULL) {
		http_err_set(err, ERR_NOTREADY, 0, false, "no HTTP in this worker");
		return ERR_NOTREADY;
	}
	http_req_init(&req, post ? "POST" : "GET");
	req.flags = HTTP_F_IDEMPOTENT;	/* a query is a read, GET or POST */
	if ((r = http_path_add(&req, "/api/v1")) < 0 || (r = http_path_add(&req, what)) < 0)
		return r;
	/* No auth in Prometheus itself; a fronting proxy may want a bearer token. */
	if (secret && (r = http_cred_add(&req, "Authorization", "Bearer ", secret)) < 0) {
		http_err_set(err, ERR_CONFIG, 0, false, "credential cannot be sent as a header");
		return ERR_CONFIG;
	}
	if (post) {
		if ((form = form_encode(pp)) == NULL) {
			http_req_wipe(&req);
			http_err_set(err, ERR_TOOBIG, 0, false, "query too large");
			return ERR_TOOBIG;
		}
		req.body = form;
		req.body_len = strlen(form);
		req.content_type = "application/x-www-form-urlencoded";
	} else {
		for (size_t i = 0; i < pp->n; i++)
			http_query_add(&req, pp->k[i], pp->v[i]);
	}
	r = io->http(io, call, &req, &resp, err);
	http_req_wipe(&req);
	free(form);
	if (r == 0 && (r = http_resp_json(&resp, doc, err)) == 0) {
		const char *st = json_string_value(json_object_get(*doc, "status"));

		if (st == NULL || strcmp(st, "success") != 0) {
			char msg[400];

			http_api_message(resp.body, resp.len, msg, sizeof(msg));
			http_err_set(err, ERR_PROTO, (int)resp.status, false,
			    "answer without status success%s%s", msg[0] ? ": " : "", msg);
			r = ERR_PROTO;
		}
	}
	if (r < 0) {
		json_decref(*doc);
		*doc = NULL;
	}
	http_resp_clear(&resp);
	return r;
}

static void
common_params(const struct tool_call *call, struct prom_params *pp)
{
	json_int_t limit = arg_int(call, "limit", 0);

	pp_add(pp, "query", arg_str(call, "query"));
	pp_add(pp, "timeout", arg_str(call, "timeout"));
	if (limit > 0) {
		snprintf(pp->limit, sizeof(pp->limit), "%lld", (long long)limit);
		pp_add(pp, "limit", pp->limit);
	}
}

/* ---------------------------------------------------------------- shaping */

/* A sample value: a number when finite, else the API's string ("NaN", "+Inf", "-Inf"). */
static json_t *
sample_value(json_t *v)
{
	const char *s = json_string_value(v);
	char *end;
	double d;

	if (s == NULL)
		return json_null();
	d = strtod(s, &end);
	if (end != s && *end == '\0' && isfinite(d))
		return json_real(d);
	return json_string(s);
}

/* [t, "v"] -> [t, v] */
static json_t *
sample_pair(json_t *p)
{
	return json_pack("[O, o]", json_array_get(p, 0) ? json_array_get(p, 0) : json_null(),
	    sample_value(json_array_get(p, 1)));
}

struct caps {
	size_t series_max;
	size_t points_max;	/* per series */
	size_t total;		/* points so far */
	bool truncated;
};

static json_t *
shape_series(json_t *s, struct caps *c)
{
	json_t *o = json_pack("{s:O}", "metric", json_object_get(s, "metric") ?
	    json_object_get(s, "metric") : json_object());
	json_t *vals = json_object_get(s, "values"), *h;

	if (json_is_array(json_object_get(s, "value")))
		json_object_set_new(o, "value", sample_pair(json_object_get(s, "value")));
	if ((h = json_object_get(s, "histogram")) != NULL)
		json_object_set(o, "histogram", h);
	if (json_is_array(vals)) {
		json_t *out = json_array(), *p;
		size_t i;

		json_array_foreach(vals, i, p) {
			if (i >= c->points_max || c->total >= POINTS_TOTAL_MAX) {
				c->truncated = true;
				break;
			}
			json_array_append_new(out, sample_pair(p));
			c->total++;
		}
		json_object_set_new(o, "values", out);
		json_object_set_new(o, "points", json_integer((json_int_t)json_array_size(vals)));
	}
	if ((h = json_object_get(s, "histograms")) != NULL)
		json_object_set_new(o, "histogram_points", json_integer((json_int_t)json_array_size(h)));
	return o;
}

static json_t *
shape_data(json_t *doc, struct caps *c)
{
	json_t *data = json_object_get(doc, "data"), *res = json_object_get(data, "result");
	const char *type = json_string_value(json_object_get(data, "resultType"));
	json_t *out, *series, *e, *w;
	size_t i;

	out = json_pack("{s:s?}", "result_type", type);
	if (json_is_array(res) && type && (strcmp(type, "scalar") == 0 || strcmp(type, "string") == 0)) {
		json_object_set_new(out, "value", sample_pair(res));
	} else {
		series = json_array();
		json_array_foreach(res, i, e) {
			if (i >= c->series_max) {
				c->truncated = true;
				break;
			}
			json_array_append_new(series, shape_series(e, c));
		}
		json_object_set_new(out, "count", json_integer((json_int_t)json_array_size(res)));
		json_object_set_new(out, "series", series);
	}
	json_object_set_new(out, "truncated", json_boolean(c->truncated));
	if ((w = json_object_get(doc, "warnings")) != NULL && json_array_size(w) > 0)
		json_object_set(out, "warnings", w);
	if ((w = json_object_get(doc, "infos")) != NULL && json_array_size(w) > 0)
		json_object_set(out, "infos", w);
	return out;
}

/* ---------------------------------------------------------------- ops */

static int
op_query(struct tool_io *io, const struct tool_call *call, json_t **result, struct tool_err *err)
{
	struct prom_params pp = { .n = 0 };
	struct caps c = { .series_max = (size_t)arg_int(call, "max_series", 100),
	    .points_max = 1 };
	const char *t = arg_str(call, "time");
	json_t *doc;
	double d;
	int r;

	if (t && parse_time(t, &d) < 0) {
		http_err_set(err, ERR_SCHEMA, 0, false, "time: RFC 3339 time or Unix seconds");
		return ERR_SCHEMA;
	}
	common_params(call, &pp);
	pp_add(&pp, "time", t);
	if ((r = prom_do(io, call, "/query", &pp, &doc, err)) < 0)
		return r;
	*result = shape_data(doc, &c);
	json_decref(doc);
	return *result ? 0 : -ENOMEM;
}

static int
op_query_range(struct tool_io *io, const struct tool_call *call, json_t **result,
    struct tool_err *err)
{
	struct prom_params pp = { .n = 0 };
	struct caps c = { .series_max = (size_t)arg_int(call, "max_series", 50),
	    .points_max = (size_t)arg_int(call, "max_points", 2000) };
	json_t *doc;
	int r;

	if ((r = range_check(call, err)) < 0)
		return r;
	common_params(call, &pp);
	pp_add(&pp, "start", arg_str(call, "start"));
	pp_add(&pp, "end", arg_str(call, "end"));
	pp_add(&pp, "step", arg_str(call, "step"));
	if ((r = prom_do(io, call, "/query_range", &pp, &doc, err)) < 0)
		return r;
	*result = shape_data(doc, &c);
	json_decref(doc);
	return *result ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- schema */

#define TIME_RE	"[0-9]+(\\.[0-9]+)?|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|z|[+-][0-9]{2}:[0-9]{2})"
#define DUR_RE	"([0-9]+(ms|s|m|h|d|w|y))+|[0-9]+(\\.[0-9]+)?"

#define P_QUERY { .name = "query", .type = TP_STRING, .required = true, .max_len = 65536, \
	.flags = TP_F_MULTILINE, .desc = "PromQL expression" }
#define P_TIMEOUT { .name = "timeout", .type = TP_STRING, .pattern = DUR_RE, .max_len = 32, \
	.desc = "Evaluation timeout (capped by the server's -query.timeout)" }
#define P_LIMIT { .name = "limit", .type = TP_INT, .min = 0, .max = 1000000, \
	.desc = "Max series the server returns (0 = no limit)" }

static const struct tool_param p_query[] = {
	P_QUERY,
	{ .name = "time", .type = TP_STRING, .pattern = TIME_RE, .max_len = 40,
	  .desc = "Evaluation time, RFC 3339 or Unix seconds (default now)" },
	P_TIMEOUT, P_LIMIT,
	{ .name = "max_series", .type = TP_INT, .def = "100", .min = 1, .max = 10000,
	  .desc = "Series shown in the result" },
	{ 0 }
};
static const struct tool_param p_range[] = {
	P_QUERY,
	{ .name = "start", .type = TP_STRING, .required = true, .pattern = TIME_RE, .max_len = 40,
	  .desc = "Start, RFC 3339 or Unix seconds (inclusive)" },
	{ .name = "end", .type = TP_STRING, .required = true, .pattern = TIME_RE, .max_len = 40,
	  .desc = "End, RFC 3339 or Unix seconds (inclusive)" },
	{ .name = "step", .type = TP_STRING, .required = true, .pattern = DUR_RE, .max_len = 32,
	  .desc = "Resolution: duration (15s, 1m) or seconds; at most 11,000 points per series" },
	P_TIMEOUT, P_LIMIT,
	{ .name = "max_series", .type = TP_INT, .def = "50", .min = 1, .max = 10000,
	  .desc = "Series shown in the result" },
	{ .name = "max_points", .type = TP_INT, .def = "2000", .min = 1, .max = 11000,
	  .desc = "Points shown per series" },
	{ 0 }
};

/* canary_analyze joins this table later (another module); keep the ops in this order. */
static const struct tool_op prometheus_ops[] = {
	{ .name = "query", .desc = "Instant PromQL query: one value per series",
	  .flags = TOOL_F_IDEMPOTENT, .params = p_query, .timeout_ms = 60000, .run = op_query },
	{ .name = "query_range", .desc = "Range PromQL query: values over time per series",
	  .flags = TOOL_F_IDEMPOTENT, .params = p_range, .timeout_ms = 60000,
	  .run = op_query_range },
	{ 0 }
};

const struct tool_family tool_fam_prometheus = {
	.name = "prometheus",
	.desc = "Prometheus: instant and range PromQL queries",
	.kind = TOOL_KIND_HTTP,
	.ops = prometheus_ops,
};
