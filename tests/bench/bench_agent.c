/* bench_agent: an agent program for the benchmarks, hosted by corrald like any external agent
 * (`exec: PATH`, protocol: ipc) and driven with `corralctl run NAME INPUT`. It makes calls
 * through corrald back to back and answers with their latency distribution, measured on the
 * agent's side of the socket (agent -> corrald -> worker -> corrald -> agent):
 *
 *   {"tool": "echo", "op": "echo", "args": {...}, "warmup": 200,
 *    "calls": N | "seconds": S, "start_at_ms": T (CLOCK_REALTIME, optional)}
 *   -> {"calls": n, "ok": n_ok, "errors": n_err, "elapsed_ns": t,
 *       "p50_ns": ..., "p90_ns": ..., "p99_ns": ..., "max_ns": ..., "first_error": "..."}
 *
 * With start_at_ms, concurrent agents start measuring together (throughput rows); with
 * seconds, each stops after that long. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "agents/libcorral-agent.h"
#include "ipc/err.h"

#define LAT_MAX		(4u << 20)	/* latencies kept per run */

static int64_t
now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

struct spec {
	const char *tool, *op;
	char *args;
	long warmup, calls;
	double seconds;
	int64_t start_at_ms;
};

static int
parse(const char *input, struct spec *s, json_t **doc)
{
	json_t *in = json_loads(input, 0, NULL);

	if (!json_is_object(in)) {
		json_decref(in);
		return ERR_SCHEMA;
	}
	s->tool = json_string_value(json_object_get(in, "tool"));
	s->op = json_string_value(json_object_get(in, "op"));
	s->args = json_dumps(json_object_get(in, "args") ? json_object_get(in, "args") :
	    json_object(), JSON_COMPACT);
	s->warmup = (long)json_integer_value(json_object_get(in, "warmup"));
	s->calls = (long)json_integer_value(json_object_get(in, "calls"));
	s->seconds = json_number_value(json_object_get(in, "seconds"));
	s->start_at_ms = json_integer_value(json_object_get(in, "start_at_ms"));
	*doc = in;
	if (s->tool == NULL || s->op == NULL || s->args == NULL ||
	    (s->calls <= 0 && s->seconds <= 0))
		return ERR_SCHEMA;
	return 0;
}

/* One call; returns its latency, counts the outcome. */
static int64_t
one(struct cagent *a, const struct spec *s, long *ok, long *err, char *first, size_t flen)
{
	char *res = NULL, *et = NULL;
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	int r = cagent_call(a, s->tool, s->op, s->args, false, 60000, &res, &et);
	int64_t dt = now_ns(CLOCK_MONOTONIC) - t0;

	if (r == ERR_CLOSED) {
		free(res);
		free(et);
		return -1;	/* corrald is going away: stop */
	}
	if (r == 0) {
		(*ok)++;
	} else {
		if (*err == 0)
			snprintf(first, flen, "%s: %s", err_name(r), et ? et : "");
		(*err)++;
	}
	free(res);
	free(et);
	return dt;
}

static json_t *
measure(struct cagent *a, const struct spec *s)
{
	int64_t *lat = malloc(LAT_MAX * sizeof(*lat)), t0, end = 0;
	long n = 0, ok = 0, err = 0, wok = 0, werr = 0;
	char first[512] = "", wfirst[512];
	json_t *out;

	if (lat == NULL)
		return NULL;
	for (long i = 0; i < s->warmup; i++)
		if (one(a, s, &wok, &werr, wfirst, sizeof(wfirst)) < 0)
			break;
	while (s->start_at_ms > 0 && now_ns(CLOCK_REALTIME) / 1000000 < s->start_at_ms) {
		struct timespec ts = { 0, 200000 };

		nanosleep(&ts, NULL);
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	if (s->seconds > 0)
		end = t0 + (int64_t)(s->seconds * 1e9);
	while ((size_t)n < LAT_MAX && (s->calls > 0 ? n < s->calls : now_ns(CLOCK_MONOTONIC) < end))
		if ((lat[n++] = one(a, s, &ok, &err, first, sizeof(first))) < 0) {
			n--;
			break;
		}
	t0 = now_ns(CLOCK_MONOTONIC) - t0;
	qsort(lat, (size_t)n, sizeof(*lat), cmp64);
	out = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "calls", (json_int_t)n,
	    "ok", (json_int_t)ok, "errors", (json_int_t)err, "elapsed_ns", (json_int_t)t0,
	    "p50_ns", (json_int_t)(n ? lat[n / 2] : 0),
	    "p90_ns", (json_int_t)(n ? lat[n * 90 / 100] : 0),
	    "p99_ns", (json_int_t)(n ? lat[n * 99 / 100] : 0),
	    "max_ns", (json_int_t)(n ? lat[n - 1] : 0), "first_error", first);
	free(lat);
	return out;
}

int
main(void)
{
	const char *sock = getenv("CORRAL_SOCKET");
	struct cagent *a = NULL;
	struct cagent_run run;
	int r;

	if ((r = cagent_open(sock ? sock : "/ipc/sock", 5000, &a)) < 0) {
		fprintf(stderr, "bench_agent: %s\n", err_str(r));
		return 1;
	}
	while (cagent_next_run(a, -1, &run) == 0) {
		struct spec s = { 0 };
		json_t *doc = NULL, *res;
		char *txt;

		if ((r = parse(run.input, &s, &doc)) < 0 || (res = measure(a, &s)) == NULL) {
			cagent_fail(a, run.id, r < 0 ? r : -ENOMEM, "bad bench input");
		} else {
			txt = json_dumps(res, JSON_COMPACT);
			cagent_done(a, run.id, txt);
			free(txt);
			json_decref(res);
		}
		free(s.args);
		json_decref(doc);
		cagent_run_clear(&run);
	}
	cagent_close(a);
	return 0;
}
