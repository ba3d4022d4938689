/* See harness.h. The fake runs as a real child process on loopback; the family's run hook talks
 * to it through the real libcurl client. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ipc/err.h"
#include "tests/tools/harness.h"

#ifndef HARNESS_PYTHON
#define HARNESS_PYTHON "python3"
#endif
#ifndef HARNESS_FAKES_DIR
#error "HARNESS_FAKES_DIR must name tests/fakes"
#endif

int64_t
harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
fake_child(int wfd, const char *script, const char *log, const char *const *extra)
{
	const char *argv[32];
	char path[512];
	size_t n = 0;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	dup2(wfd, STDOUT_FILENO);
	snprintf(path, sizeof(path), "%s/%s", HARNESS_FAKES_DIR, script);
	argv[n++] = HARNESS_PYTHON;
	argv[n++] = "-u";
	argv[n++] = path;
	argv[n++] = log;
	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	execv(HARNESS_PYTHON, (char *const *)argv);
	execvp("python3", (char *const *)argv);
	_exit(127);
}

static int
read_port(int rfd, int *port)
{
	char buf[128];
	size_t len = 0;
	int64_t end = harness_now_ms() + 5000;

	while (harness_now_ms() < end && len < sizeof(buf) - 1) {
		struct pollfd p = { .fd = rfd, .events = POLLIN };
		ssize_t k;
		char *nl;

		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((k = read(rfd, buf + len, sizeof(buf) - 1 - len)) <= 0)
			return -EPIPE;
		len += (size_t)k;
		buf[len] = '\0';
		if ((nl = strchr(buf, '\n')) != NULL && sscanf(buf, "PORT %d", port) == 1)
			return 0;
	}
	return -ETIMEDOUT;
}

int
fake_start(struct fake *f, const char *script, const char *const *extra_args)
{
	const char *tmp = getenv("TMPDIR");
	int pfd[2], fd, r;

	memset(f, 0, sizeof(*f));
	snprintf(f->log_path, sizeof(f->log_path), "%s/corral-fake-XXXXXX", tmp ? tmp : "/tmp");
	if ((fd = mkstemp(f->log_path)) < 0)
		return -errno;
	close(fd);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	if ((f->pid = fork()) < 0) {
		r = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return r;
	}
	if (f->pid == 0)
		fake_child(pfd[1], script, f->log_path, extra_args);
	close(pfd[1]);
	r = read_port(pfd[0], &f->port);
	close(pfd[0]);
	if (r < 0) {
		fake_stop(f);
		return r;
	}
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
	return 0;
}

void
fake_stop(struct fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	if (f->log_path[0])
		unlink(f->log_path);
	f->log_path[0] = '\0';
}

static size_t
sink(char *p, size_t s, size_t n, void *ud)
{
	return s * n;
}

int
fake_control(struct fake *f, const char *json)
{
	char url[128];
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode cc;

	snprintf(url, sizeof(url), "%s/__fake/control", f->url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return cc == CURLE_OK && status == 200 ? 0 : -EIO;
}

json_t *
fake_log(struct fake *f)
{
	json_t *a = json_array();
	FILE *fp = fopen(f->log_path, "r");
	char *line = NULL;
	size_t cap = 0;

	if (fp == NULL)
		return a;
	while (getline(&line, &cap, fp) > 0) {
		json_t *e = json_loads(line, 0, NULL);

		if (e)
			json_array_append_new(a, e);
	}
	free(line);
	fclose(fp);
	return a;
}

size_t
fake_count(struct fake *f)
{
	json_t *a = fake_log(f);
	size_t n = json_array_size(a);

	json_decref(a);
	return n;
}

json_t *
fake_entry(struct fake *f, int i)
{
	json_t *a = fake_log(f), *e;
	size_t n = json_array_size(a);

	e = i < 0 ? (n ? json_array_get(a, n - 1) : NULL) : json_array_get(a, (size_t)i);
	json_incref(e);
	json_decref(a);
	return e;
}

size_t
fake_violations(struct fake *f, char *buf, size_t len)
{
	json_t *a = fake_log(f), *e, *v;
	size_t i, k, n = 0, off = 0;

	if (len)
		buf[0] = '\0';
	json_array_foreach(a, i, e)
		json_array_foreach(json_object_get(e, "violations"), k, v) {
			n++;
			if (off < len)
				off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "; " : "",
				    json_string_value(v));
		}
	json_decref(a);
	return n;
}

/* ---------------------------------------------------------------- tool_io */

static int
h_http(struct tool_io *io, const struct tool_call *call, const struct http_req *req,
    struct http_resp *resp, struct tool_err *err)
{
	struct harness *h = io->priv;
	struct http_endpoint ep;
	const char *hosts[9];
	char e[256];

	if (http_endpoint_from_ctx(call->ctx, &ep, hosts, 9, e, sizeof(e)) < 0) {
		http_err_set(err, ERR_CONFIG, 0, false, "%s", e);
		return ERR_CONFIG;
	}
	h->nhttp++;
	return http_client_do(h->client, &ep, req, call->deadline, resp, err);
}

static void
h_event(struct tool_io *io, uint64_t id, const char *text)
{
	struct harness *h = io->priv;

	h->nevents++;
	snprintf(h->last_event, sizeof(h->last_event), "%s", text);
}

static void
h_log(struct tool_io *io, int level, const char *text)
{
}

int
harness_init(struct harness *h, struct fake *f, const char *secret)
{
	memset(h, 0, sizeof(*h));
	h->fake = f;
	h->secret = secret;
	h->deadline_ms = 10000;
	h->io.priv = h;
	h->io.http = h_http;
	h->io.event = h_event;
	h->io.log = h_log;
	return http_client_new(NULL, NULL, &h->client);
}

void
harness_fini(struct harness *h)
{
	http_client_free(h->client);
	json_decref(h->endpoint_extra);
	h->client = NULL;
	h->endpoint_extra = NULL;
}

json_t *
harness_ctx(struct harness *h)
{
	json_t *ep = json_pack("{s:s, s:s}", "name", "fake", "url", h->fake->url);

	if (h->endpoint_extra)
		json_object_update(ep, h->endpoint_extra);
	if (h->secret)
		return json_pack("{s:o, s:s}", "endpoint", ep, "secret", h->secret);
	return json_pack("{s:o}", "endpoint", ep);
}

int
harness_call_unchecked(struct harness *h, const struct tool_family *fam, const char *op,
    json_t *args, json_t **result, struct tool_err *err)
{
	static uint64_t ids;
	struct tool_call call = { .family = fam, .op = tool_op_find(fam, op), .id = ++ids,
	    .args = args, .dry_run = h->dry_run };
	int r;

	*result = NULL;
	memset(err, 0, sizeof(*err));
	if (call.op == NULL || call.op->run == NULL)
		return ERR_UNKNOWN;
	call.ctx = harness_ctx(h);
	call.deadline = harness_now_ms() + h->deadline_ms;
	r = call.op->run(&h->io, &call, result, err);
	json_decref(call.ctx);
	return r;
}

int
harness_call(struct harness *h, const struct tool_family *fam, const char *op,
    const char *args_json, json_t **result, struct tool_err *err, char *verr, size_t verrlen)
{
	const struct tool_op *o = tool_op_find(fam, op);
	json_error_t jerr;
	json_t *args;
	int r;

	*result = NULL;
	memset(err, 0, sizeof(*err));
	if (verrlen)
		verr[0] = '\0';
	if (o == NULL)
		return ERR_UNKNOWN;
	if ((args = json_loads(args_json, 0, &jerr)) == NULL) {
		snprintf(verr, verrlen, "args: %s", jerr.text);
		return ERR_SCHEMA;
	}
	if ((r = tool_args_validate(o, args, verr, verrlen)) < 0) {
		json_decref(args);
		return r;
	}
	r = harness_call_unchecked(h, fam, op, args, result, err);
	json_decref(args);
	return r;
}

int
harness_call_msg(struct harness *h, const struct tool_family *fam, const char *op,
    const char *args_json, json_t **result, struct tool_err *err)
{
	char verr[256];
	int r = harness_call(h, fam, op, args_json, result, err, verr, sizeof(verr));

	if (r == ERR_SCHEMA && verr[0])
		snprintf(err->text, sizeof(err->text), "%s", verr);
	return r;
}

bool
harness_leaks(const json_t *v, const struct tool_err *err, const char *s)
{
	bool leak = false;

	if (v != NULL) {
		char *txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		leak = txt && strstr(txt, s) != NULL;
		free(txt);
	}
	if (err != NULL && strstr(err->text, s) != NULL)
		leak = true;
	return leak;
}
