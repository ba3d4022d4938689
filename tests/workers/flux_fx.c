/* Fixture for the flux tests (see flux_fx.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/err.h"
#include "tests/workers/flux_fx.h"
#include "tools/exec.h"
#include "workers/execkind.h"

#ifndef FX_FAKES_DIR
#error FX_FAKES_DIR must be set by meson
#endif

long long
fx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
fx_fakes_dir(void)
{
	return FX_FAKES_DIR;
}

/* `command -v kubectl`: the first executable "kubectl" on PATH. */
const char *
fx_kubectl_path(void)
{
	static char found[512];
	const char *path = getenv("PATH");
	char *copy, *save = NULL;

	if (found[0])
		return found;
	if ((copy = strdup(path ? path : "/usr/bin:/bin")) == NULL)
		return NULL;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(found, sizeof(found), "%s/kubectl", *d ? d : ".");
		if (access(found, X_OK) == 0)
			break;
		found[0] = '\0';
	}
	free(copy);
	return found[0] ? found : NULL;
}

char *
fx_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n = 0;

	if (f != NULL && buf != NULL)
		n = fread(buf, 1, 65535, f);
	if (f)
		fclose(f);
	if (buf && n == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

const char *
fx_fake_flux_path(void)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/fake_flux", FX_FAKES_DIR);
	return p;
}

/* ------------------------------------------------------------------ the fake server */

int
kube_start(struct kube *k, const char *const *extra)
{
	const char *argv[24];
	int out[2], n = 0;
	char buf[64] = "";
	size_t got = 0;
	long long until = fx_now_ms() + 5000;

	memset(k, 0, sizeof(*k));
	snprintf(k->log_path, sizeof(k->log_path), "/tmp/fake_kube.%d.%ld.log", (int)getpid(),
	    (long)random());
	argv[n++] = "python3";
	argv[n++] = FX_FAKES_DIR "/fake_kube.py";
	argv[n++] = k->log_path;
	for (; extra && *extra && n < 22; extra++) {
		k->tls |= strcmp(*extra, "--tls") == 0;
		argv[n++] = *extra;
	}
	argv[n] = NULL;
	if (pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	if ((k->pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		/* no inherited stdout/stderr: a leaked fake must not hold the runner's pipes */
		dup2(out[1], 1);
		if (null >= 0)
			dup2(null, 2);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	while (fx_now_ms() < until && strchr(buf, '\n') == NULL) {
		ssize_t r = read(out[0], buf + got, sizeof(buf) - 1 - got);

		if (r > 0)
			buf[got += (size_t)r] = '\0';
		else
			usleep(10000);
	}
	close(out[0]);
	if (sscanf(buf, "PORT %d", &k->port) != 1) {
		kube_stop(k);
		return -ETIMEDOUT;
	}
	snprintf(k->url, sizeof(k->url), "%s://127.0.0.1:%d", k->tls ? "https" : "http", k->port);
	return 0;
}

void
kube_stop(struct kube *k)
{
	if (k->pid > 0) {
		kill(k->pid, SIGKILL);
		waitpid(k->pid, NULL, 0);
	}
	k->pid = 0;
	if (k->log_path[0])
		unlink(k->log_path);
}

/* One plain HTTP exchange with the fake (control endpoints). */
static char *
http_do(int port, const char *method, const char *path, const char *body)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char head[512], *resp = NULL, *b;
	size_t len = 0, cap = 0;
	ssize_t r;

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", method, path,
	    body ? strlen(body) : 0);
	if (write(fd, head, strlen(head)) < 0 || (body && write(fd, body, strlen(body)) < 0))
		goto out;
	for (;;) {
		if (len + 4096 + 1 > cap && (resp = realloc(resp, cap = cap ? cap * 2 : 65536)) ==
		    NULL)
			goto out;
		if ((r = read(fd, resp + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)r;
	}
	if (resp)
		resp[len] = '\0';
out:
	if (fd >= 0)
		close(fd);
	if (resp && (b = strstr(resp, "\r\n\r\n")) != NULL) {
		memmove(resp, b + 4, strlen(b + 4) + 1);
		return resp;
	}
	free(resp);
	return NULL;
}

int
kube_mode(struct kube *k, const char *mode)
{
	char body[128], *r;

	snprintf(body, sizeof(body), "{\"mode\":\"%s\"}", mode);
	r = http_do(k->port, "POST", "/__fake/control", body);
	free(r);
	return r ? 0 : -EIO;
}

json_t *
kube_log(const struct kube *k)
{
	json_t *arr = json_array();
	FILE *f = fopen(k->log_path, "r");
	char *line = NULL;
	size_t cap = 0;

	while (f && getline(&line, &cap, f) > 0) {
		json_t *e = json_loads(line, 0, NULL);

		if (e)
			json_array_append_new(arr, e);
	}
	free(line);
	if (f)
		fclose(f);
	return arr;
}

size_t
kube_count(const struct kube *k)
{
	json_t *l = kube_log(k);
	size_t n = json_array_size(l);

	json_decref(l);
	return n;
}

json_t *
kube_find(const struct kube *k, const char *method, const char *suffix)
{
	json_t *l = kube_log(k), *out = json_array(), *e;
	size_t i;

	json_array_foreach(l, i, e) {
		const char *m = json_string_value(json_object_get(e, "method"));
		const char *p = json_string_value(json_object_get(e, "path"));
		size_t pl = p ? strlen(p) : 0, sl = strlen(suffix);

		if (m && p && strcmp(m, method) == 0 && pl >= sl && strcmp(p + pl - sl, suffix) == 0)
			json_array_append(out, e);
	}
	json_decref(l);
	return out;
}

json_t *
kube_object(struct kube *k, const char *kind, const char *ns, const char *name)
{
	char *text = http_do(k->port, "GET", "/__fake/state", NULL);
	json_t *st = text ? json_loads(text, 0, NULL) : NULL, *o, *found = NULL;
	size_t i;

	free(text);
	json_array_foreach(json_object_get(st, "objects"), i, o) {
		json_t *md = json_object_get(o, "metadata");

		if (strcmp(json_string_value(json_object_get(o, "kind")), kind) == 0 &&
		    strcmp(json_string_value(json_object_get(md, "namespace")), ns) == 0 &&
		    strcmp(json_string_value(json_object_get(md, "name")), name) == 0)
			found = json_incref(o);
	}
	json_decref(st);
	return found;
}

/* ------------------------------------------------------------------ tool_io */

/* corrald's broker, played: 127.0.0.1 and the allowed ports only. */
static int
fx_connect(void *arg, const char *host, unsigned port, int timeout_ms, int *fd)
{
	struct fxh *h = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	bool ok = false;

	for (int i = 0; i < FXH_PORTS_MAX; i++)
		ok |= h->allow_ports[i] > 0 && (unsigned)h->allow_ports[i] == port;
	if (!ok || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    ntohl(sa.sin_addr.s_addr) != INADDR_LOOPBACK) {
		__atomic_add_fetch(&h->denied, 1, __ATOMIC_SEQ_CST);
		return ERR_EGRESS;
	}
	__atomic_add_fetch(&h->connects, 1, __ATOMIC_SEQ_CST);
	if ((*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(*fd);
		return e;
	}
	return 0;
}

static void
fx_on_event(struct tool_io *io, uint64_t id, const char *text)
{
	struct fxh *h = (struct fxh *)io;
	size_t l = strlen(h->events);

	h->nevents++;
	snprintf(h->events + l, sizeof(h->events) - l, "%s\n", text);
}

int
fxh_init(struct fxh *h, struct kube *k, bool with_flux)
{
	struct exec_kind_opts o = { 0 };
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = tool_schema_init(NULL, 0)) < 0)
		return r;
	h->io.event = fx_on_event;
	h->deadline_ms = 20000;
	h->allow_ports[0] = k ? k->port : 0;
	o.kubectl = fx_kubectl_path();
	o.flux = with_flux ? fx_fake_flux_path() : NULL;
	o.connect = fx_connect;
	o.connect_arg = h;
	exec_kind_configure(&o);
	if ((r = exec_kind_init()) < 0 || (r = exec_kind_thread_io(&h->io)) < 0)
		return r;
	h->ctx = json_pack("{s:{s:s, s:s}, s:n}", "endpoint", "name", "test", "url",
	    k ? k->url : "http://127.0.0.1:1", "secret");
	return h->ctx ? 0 : -ENOMEM;
}

void
fxh_fini(struct fxh *h)
{
	exec_kind_thread_io_free(&h->io);
	exec_kind_fini();
	json_decref(h->ctx);
	h->ctx = NULL;
}

int
fxh_call_raw(struct fxh *h, const char *op_name, json_t *args, json_t **result,
    struct tool_err *err)
{
	const struct tool_family *f = tool_family_find("flux");
	struct tool_call call = { .family = f, .op = tool_op_find(f, op_name), .id = 7,
		.args = args, .ctx = h->ctx, .dry_run = h->dry_run };

	*result = NULL;
	memset(err, 0, sizeof(*err));
	if (call.op == NULL)
		return ERR_UNKNOWN;
	call.deadline = fx_now_ms() + h->deadline_ms;
	return call.op->run(&h->io, &call, result, err);
}

int
fxh_call(struct fxh *h, const char *op_name, const char *args_json, json_t **result,
    struct tool_err *err, char *verr, size_t verrlen)
{
	const struct tool_family *f = tool_family_find("flux");
	const struct tool_op *op = tool_op_find(f, op_name);
	json_t *args = json_loads(args_json, 0, NULL);
	int r;

	*result = NULL;
	if (op == NULL || args == NULL) {
		json_decref(args);
		return ERR_UNKNOWN;
	}
	if ((r = tool_args_validate(op, args, verr, verrlen)) == 0)
		r = fxh_call_raw(h, op_name, args, result, err);
	json_decref(args);
	return r;
}

bool
fx_rfc3339(const char *s)
{
	regex_t re;
	bool ok;

	if (s == NULL || regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
	    "(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$", REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}
