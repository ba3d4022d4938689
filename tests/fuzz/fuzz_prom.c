/* libFuzzer target: the Prometheus answer parser and shaper. The input's first line is
 * "prometheus.OP[ STATUS[ VARIANT]]" and the rest is what the Prometheus HTTP API answers;
 * OP is query, query_range or canary_analyze (both of whose range queries get the same
 * answer), each with a few argument sets (VARIANT) that reach the size caps, the step and
 * window checks and the judge. The API's error-message extractor sees the same bytes.
 * Invariants: see fuzz_io.h. */
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/fuzz_io.h"
#include "tools/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const query_args[] = {
	"{\"query\":\"up\"}",
	("{\"query\":\"sum by (job) (rate(http_requests_total[5m]))\",\"time\":\"1767225600\","
	    "\"max_series\":2,\"limit\":3}"),
	"{\"query\":\"vector(1)\",\"time\":\"2026-01-01T00:00:00Z\",\"max_series\":1}",
};
static const char *const range_args[] = {
	("{\"query\":\"up\",\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-01-01T01:00:00Z\","
	    "\"step\":\"60s\"}"),
	("{\"query\":\"rate(x[1m])\",\"start\":\"1767225600\",\"end\":\"1767229200\",\"step\":\"15\","
	    "\"max_series\":1,\"max_points\":3}"),
	("{\"query\":\"up\",\"start\":\"1767225600\",\"end\":\"1767225660\",\"step\":\"1s\","
	    "\"max_points\":11000}"),
};
static const char *const canary_args[] = {
	("{\"app_name\":\"web\",\"metrics\":[{\"name\":\"latency\",\"baseline_query\":\"b\","
	    "\"canary_query\":\"c\"}],\"start\":\"1767225600\",\"end\":\"1767226200\"}"),
	("{\"app_name\":\"web\",\"metrics\":[{\"name\":\"errors\",\"baseline_query\":\"b\","
	    "\"canary_query\":\"c\",\"direction\":\"increase\",\"critical\":true,"
	    "\"nan_strategy\":\"replace\"}],\"window\":\"10m\",\"mode\":\"plus\","
	    "\"include_series\":true}"),
};

static json_t *
args_for(const struct tool_op *op, long variant)
{
	static json_t *cache[3][3];
	const char *const *set;
	size_t n, k;
	int which;
	char err[256];

	if (strcmp(op->name, "query") == 0)
		set = query_args, n = 3, which = 0;
	else if (strcmp(op->name, "query_range") == 0)
		set = range_args, n = 3, which = 1;
	else if (strcmp(op->name, "canary_analyze") == 0)
		set = canary_args, n = 2, which = 2;
	else
		return NULL;
	k = (size_t)(variant < 0 ? -variant : variant) % n;
	if (cache[which][k] == NULL) {
		cache[which][k] = json_loads(set[k], 0, NULL);
		/* a broken argument set is the target's bug, not the input's */
		FZ_CHECK(cache[which][k] != NULL);
		FZ_CHECK(tool_args_validate(op, cache[which][k], err, sizeof(err)) == 0);
	}
	return cache[which][k];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tool_family *f;
	const struct tool_op *op;
	const char *body;
	size_t blen;
	long status, variant;
	json_t *args;
	char msg[400];

	fz_init();
	if (fz_split(data, size, &f, &op, &status, &variant, &body, &blen) < 0 ||
	    strcmp(f->name, "prometheus") != 0 || (args = args_for(op, variant)) == NULL)
		return 0;
	http_api_message(body, blen, msg, sizeof(msg));
	FZ_CHECK(strlen(msg) < sizeof(msg));
	for (const char *p = msg; *p; p++)	/* one line, no control characters */
		FZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	fz_run(f, op, args, body, blen, status, false, data, size);
	return 0;
}
