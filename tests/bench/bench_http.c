/* bench_http: the cost of http_client_do() against a direct, minimal libcurl easy call.
 *
 * Both make N sequential GETs of /v1/echo on the same loopback fake (tests/fakes/fake_http.py),
 * reusing their connection. The fake dominates wall time, so the client's own overhead shows
 * best in the process CPU time per request (getrusage); both are printed, with their ratios.
 *
 *	bench_http [--requests N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

#include "ipc/err.h"
#include "tests/tools/harness.h"
#include "tools/http.h"

struct sample {
	double wall_us;
	double cpu_us;
};

static double
cpu_now_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static size_t
sink(char *p, size_t s, size_t n, void *ud)
{
	size_t *len = ud;

	*len += s * n;
	return s * n;
}

static int
run_direct(const char *base, int n, struct sample *out)
{
	char url[256];
	CURL *h = curl_easy_init();
	size_t len = 0;
	int64_t t0;
	double c0;

	snprintf(url, sizeof(url), "%s/v1/echo", base);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "corral/" CORRAL_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &len);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	t0 = harness_now_ms();
	c0 = cpu_now_us();
	for (int i = 0; i < n; i++) {
		long st = 0;

		if (curl_easy_perform(h) != CURLE_OK ||
		    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st) != CURLE_OK || st != 200) {
			curl_easy_cleanup(h);
			return -1;
		}
	}
	out->cpu_us = (cpu_now_us() - c0) / n;
	out->wall_us = (double)(harness_now_ms() - t0) * 1000.0 / n;
	curl_easy_cleanup(h);
	return len > 0 ? 0 : -1;
}

static int
run_client(const char *base, int n, struct sample *out)
{
	struct http_endpoint ep = { .name = "bench", .url = base };
	struct http_client *c;
	int64_t t0;
	double c0;

	if (http_client_new(NULL, NULL, &c) < 0)
		return -1;
	t0 = harness_now_ms();
	c0 = cpu_now_us();
	for (int i = 0; i < n; i++) {
		struct http_resp resp;
		struct tool_err err;
		struct http_req req;

		http_req_init(&req, "GET");
		http_path_add(&req, "/v1/echo");
		req.flags = HTTP_F_IDEMPOTENT;
		http_cred_add(&req, "Authorization", "Bearer ", "bench-token-0123456789");
		if (http_client_do(c, &ep, &req, 0, &resp, &err) < 0) {
			fprintf(stderr, "bench_http: %s\n", err.text);
			http_client_free(c);
			return -1;
		}
		http_req_wipe(&req);
		http_resp_clear(&resp);
	}
	out->cpu_us = (cpu_now_us() - c0) / n;
	out->wall_us = (double)(harness_now_ms() - t0) * 1000.0 / n;
	http_client_free(c);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sample d, k;
	struct fake f;
	int n = 2000;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc)
			n = atoi(argv[++i]);
	if (n <= 0 || fake_start(&f, "fake_http.py", NULL) < 0) {
		fprintf(stderr, "bench_http: cannot start the fake\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* warm up both paths (connection, TLS-free loopback, Python's code paths) */
	if (run_direct(f.url, 50, &d) < 0 || run_client(f.url, 50, &k) < 0 ||
	    run_direct(f.url, n, &d) < 0 || run_client(f.url, n, &k) < 0) {
		fake_stop(&f);
		fprintf(stderr, "bench_http: a request failed\n");
		return 1;
	}
	printf("bench_http: %d GETs over loopback, connection reused\n", n);
	printf("  direct libcurl   : %8.1f us/req wall  %6.1f us/req cpu\n", d.wall_us, d.cpu_us);
	printf("  http_client_do   : %8.1f us/req wall  %6.1f us/req cpu\n", k.wall_us, k.cpu_us);
	printf("  ratio client/direct: wall %.2f  cpu %.2f\n", k.wall_us / d.wall_us,
	    k.cpu_us / d.cpu_us);
	fake_stop(&f);
	curl_global_cleanup();
	return 0;
}
