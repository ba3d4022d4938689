/* The flux family in a real confined exec worker: corral-jail --worker --profile exec around
 * corral-worker --kind exec, with kubectl (and the fake flux) in exec slots, driven the way
 * corrald drives it: nng socket with the peer check, HELLO, the outside /proc status check,
 * WELCOME, WORK; and corrald's egress broker on fd 3, which connects only to the fake API
 * server's port on 127.0.0.1. The worker's own network namespace has nothing but loopback, so
 * kubectl reaches the API server only through the worker's proxy and the broker. Needs root. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/broker.h"
#include "ipc/conn.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/workers/flux_fx.h"
#include "workers/sandbox.h"

#define UID	41009		/* a tenant uid no other suite uses (RLIMIT_NPROC is per uid) */

struct jw {
	char dir[64], sock[128], errlog[128];
	struct ipc_conn *conn;
	int brk;
	pid_t jail, pid;
	int allow_port;
	pthread_t th;
	bool th_up;
	volatile bool stop;
	unsigned granted, denied;
	uint64_t seq;
	char logs[4096];		/* LOG lines the worker sent */
};

struct reply {
	int code;			/* 0 = RESULT */
	json_t *result;
	char text[1024];
	char events[4096];
};

static struct kube k;
static struct jw w;

static const char *
env_or(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v && *v, "%s is not set (run through meson test)", name);
	return v;
}

/* ------------------------------------------------------------------ corrald's broker */

static void
broker_one(struct jw *j)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct brk_req req;
	int fd = -1, r;

	memset(&req, 0, sizeof(req));
	if (brk_read_req(j->brk, &req) < 0)
		return;
	if (strcmp(req.host, "127.0.0.1") != 0 || req.port != (unsigned)j->allow_port) {
		__atomic_add_fetch(&j->denied, 1, __ATOMIC_SEQ_CST);
		brk_reply(j->brk, req.id, ERR_EGRESS, -1);
		return;
	}
	__atomic_add_fetch(&j->granted, 1, __ATOMIC_SEQ_CST);
	sa.sin_port = htons(req.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		r = -errno;
	else
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	brk_reply(j->brk, req.id, r, r == 0 ? fd : -1);
	if (fd >= 0)
		close(fd);
}

static void *
broker_thread(void *arg)
{
	struct jw *j = arg;

	while (!j->stop) {
		struct pollfd p = { .fd = j->brk, .events = POLLIN };

		if (poll(&p, 1, 100) > 0) {
			if (p.revents & (POLLHUP | POLLERR))
				break;
			broker_one(j);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ the worker */

static bool
sanitized(void)
{
	const char *v = getenv("CORRAL_SANITIZE");

	return v && *v && strcmp(v, "none") != 0;
}

static void
jail_argv(const char **av, const char *flux)
{
	static char bind[160], uid[16];
	size_t n = 0;

	snprintf(bind, sizeof(bind), "%s:/ipc", w.dir);
	snprintf(uid, sizeof(uid), "%d", UID);
	av[n++] = env_or("CORRAL_JAIL");
	av[n++] = "--worker";
	av[n++] = "--profile";
	av[n++] = "exec";
	av[n++] = "--uid";
	av[n++] = uid;
	av[n++] = "--gid";
	av[n++] = uid;
	av[n++] = "--tenant";
	av[n++] = "demo";
	av[n++] = "--status-fd";
	av[n++] = "4";
	av[n++] = "--keep-fd";
	av[n++] = "3";
	av[n++] = "--bind-rw";
	av[n++] = bind;
	av[n++] = "--exec-slot";
	av[n++] = fx_kubectl_path();
	if (flux) {
		av[n++] = "--exec-slot";
		av[n++] = flux;
	}
	if (sanitized()) {
		av[n++] = "--rlimit-as";
		av[n++] = "unlimited";
	}
	av[n++] = "--";
	av[n++] = env_or("CORRAL_WORKER");
	av[n++] = "--kind";
	av[n++] = "exec";
	av[n++] = "--family";
	av[n++] = "flux";
	av[n++] = "--socket";
	av[n++] = "/ipc/sock";
	av[n++] = "--threads";
	av[n++] = "2";
	av[n++] = "--kubectl";
	av[n++] = fx_kubectl_path();
	if (flux) {
		av[n++] = "--flux";
		av[n++] = flux;
	}
	av[n] = NULL;
}

/* The jail's status lines up to "pid N". */
static pid_t
read_pid(int fd)
{
	char buf[1024] = "", *p;
	size_t len = 0;
	long long until = fx_now_ms() + 10000;

	while (fx_now_ms() < until && len < sizeof(buf) - 1) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pf, 1, 200) <= 0)
			continue;
		if ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0)
			break;
		buf[len += (size_t)r] = '\0';
		if ((p = strstr(buf, "pid ")) != NULL && strchr(p, '\n'))
			return (pid_t)atoi(p + 4);
	}
	return -1;
}

static void
spawn(const char *flux)
{
	const char *av[48];
	int brk[2], st[2], errfd;

	jail_argv(av, flux);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, brk), 0);
	cr_assert_eq(pipe2(st, O_CLOEXEC), 0);
	errfd = open(w.errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(errfd, 0);
	if ((w.jail = fork()) == 0) {
		if (dup2(brk[1], 3) < 0 || dup2(st[1], 4) < 0 || dup2(errfd, 2) < 0 ||
		    dup2(errfd, 1) < 0)
			_exit(120);
		syscall(SYS_close_range, 5, ~0U, 0);
		execv(av[0], (char *const *)av);
		_exit(121);
	}
	close(brk[1]);
	close(st[1]);
	close(errfd);
	w.brk = brk[0];
	fcntl(w.brk, F_SETFL, O_NONBLOCK);
	w.pid = read_pid(st[0]);
	close(st[0]);
	cr_assert_gt(w.pid, 0, "corral-jail reported no pid: %s", fx_read_file(w.errlog));
}

/* HELLO, the outside check corrald makes, WELCOME. */
static void
handshake(void)
{
	struct msg m = { 0 }, wel = { .type = MSG_WELCOME, .version = CORRAL_PROTO_VERSION,
		.name = "flux@demo", .tenant = "demo" };
	struct sbx_status st;
	int r;

	ipc_conn_expect(w.conn, w.pid, UID);
	r = ipc_recv_timed(w.conn, &m, 15000);
	cr_assert_eq(r, 0, "no HELLO: %s; worker said: %s", err_str(r), fx_read_file(w.errlog));
	cr_assert_eq(m.type, MSG_HELLO);
	cr_assert_str_eq(m.kind, "exec");
	cr_assert_str_eq(m.family, "flux");
	msg_clear(&m);
	cr_assert_eq(sbx_proc_status(w.pid, &st), 0);
	cr_assert_eq(sbx_status_check(&st, UID), 0, "not confined: nnp %d seccomp %d uid %u",
	    st.no_new_privs, st.seccomp, (unsigned)st.uid);
	cr_assert_eq(ipc_send(w.conn, &wel, 0), 0);
}

static void
jw_start(const char *flux)
{
	memset(&w, 0, sizeof(w));
	w.brk = -1;
	w.allow_port = k.port;
	snprintf(w.dir, sizeof(w.dir), "/tmp/flux-jail.XXXXXX");
	cr_assert_not_null(mkdtemp(w.dir));
	snprintf(w.sock, sizeof(w.sock), "%s/sock", w.dir);
	snprintf(w.errlog, sizeof(w.errlog), "%s.stderr", w.dir);
	cr_assert_eq(chown(w.dir, UID, UID), 0);
	cr_assert_eq(ipc_listen(w.sock, &w.conn), 0);
	cr_assert_eq(chown(w.sock, UID, UID), 0);
	spawn(flux);
	cr_assert_eq(pthread_create(&w.th, NULL, broker_thread, &w), 0);
	w.th_up = true;
	handshake();
}

static void
jw_stop(void)
{
	struct msg m = { .type = MSG_SHUTDOWN };
	char cmd[200];
	int st;

	if (w.conn)
		ipc_send(w.conn, &m, 0);
	for (int i = 0; w.jail > 0 && i < 50 && waitpid(w.jail, &st, WNOHANG) == 0; i++)
		usleep(100000);
	if (w.jail > 0 && kill(w.jail, SIGKILL) == 0)
		waitpid(w.jail, &st, 0);
	w.jail = 0;
	w.stop = true;
	if (w.th_up)
		pthread_join(w.th, NULL);
	w.th_up = false;
	if (w.brk >= 0)
		close(w.brk);
	w.brk = -1;
	ipc_close(w.conn);
	w.conn = NULL;
	if (w.dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s %s", w.dir, w.errlog);
		if (system(cmd) != 0) {
			/* a leftover temp dir is not a test failure */
		}
	}
}

static json_t *
ctx_for(const char *url)
{
	return json_pack("{s:{s:s, s:s, s:b}, s:n}", "endpoint", "name", "test", "url", url,
	    "allow_private", 1, "secret");
}

/* One WORK, as corrald sends it; the RESULT or ERROR, with the EVENTs before it. */
static void
jw_call(const char *op, const char *args, const json_t *ctx, uint32_t deadline_ms,
    struct reply *out)
{
	struct msg m = { .type = MSG_WORK, .id = ++w.seq, .tool = "flux", .op = (char *)op,
		.args = (char *)args, .deadline_ms = deadline_ms };
	long long until = fx_now_ms() + deadline_ms + 5000;
	int r;

	memset(out, 0, sizeof(*out));
	m.ctx = json_dumps(ctx, JSON_COMPACT);
	cr_assert_eq(ipc_send(w.conn, &m, 0), 0);
	free(m.ctx);
	for (;;) {
		struct msg in = { 0 };

		r = ipc_recv_timed(w.conn, &in, (int)(until - fx_now_ms()));
		cr_assert_eq(r, 0, "%s: no answer (%s); worker said: %s", op, err_str(r),
		    fx_read_file(w.errlog));
		if (in.type == MSG_LOG && in.text) {
			strncat(w.logs, in.text, sizeof(w.logs) - strlen(w.logs) - 2);
			strcat(w.logs, "\n");
		} else if (in.type == MSG_EVENT) {
			strncat(out->events, in.text, sizeof(out->events) - strlen(out->events) - 2);
			strcat(out->events, "\n");
		} else if (in.type == MSG_RESULT && in.id == m.id) {
			out->result = json_loads(in.result, 0, NULL);
			msg_clear(&in);
			return;
		} else if (in.type == MSG_ERROR && in.id == m.id) {
			out->code = in.code;
			snprintf(out->text, sizeof(out->text), "%s", in.text ? in.text : "");
			msg_clear(&in);
			return;
		}
		msg_clear(&in);
	}
}

static void
setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (corral-jail drops to a tenant uid)");
	cr_assert_not_null(fx_kubectl_path(), "kubectl not found on PATH");
	cr_assert_eq(kube_start(&k, NULL), 0);
}

static void
teardown(void)
{
	jw_stop();
	kube_stop(&k);
}

TestSuite(flux_jail, .init = setup, .fini = teardown, .timeout = 120);

/* Every op once, in a confined worker: the request kubectl made and a field of the result. */
static const struct {
	const char *op, *args, *method, *path, *key, *value;
} ops[] = {
	{ "get_kustomizations", "{}", "GET",
	  "/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations", "count", "3" },
	{ "get_kustomization", "{\"name\":\"apps\"}", "GET",
	  "/namespaces/flux-system/kustomizations/apps", "name", "apps" },
	{ "reconcile_kustomization", "{\"name\":\"apps\"}", "PATCH",
	  "/namespaces/flux-system/kustomizations/apps", "reconciled", "true" },
	{ "suspend_kustomization", "{\"name\":\"flux-system\"}", "PATCH",
	  "/namespaces/flux-system/kustomizations/flux-system", "suspended", "true" },
	{ "resume_kustomization", "{\"name\":\"infra\"}", "PATCH",
	  "/namespaces/flux-system/kustomizations/infra", "ready", "true" },
	{ "get_helmreleases", "{\"all_namespaces\":true}", "GET",
	  "/helm.toolkit.fluxcd.io/v2/helmreleases", "count", "2" },
	{ "get_helmrelease", "{\"name\":\"redis\",\"namespace\":\"apps-dev\"}", "GET",
	  "/namespaces/apps-dev/helmreleases/redis", "reason", "InstallFailed" },
	{ "reconcile_helmrelease", "{\"name\":\"podinfo\",\"force\":true}", "PATCH",
	  "/namespaces/flux-system/helmreleases/podinfo", "reconciled", "true" },
	{ "suspend_helmrelease", "{\"name\":\"redis\",\"namespace\":\"apps-dev\"}", "PATCH",
	  "/namespaces/apps-dev/helmreleases/redis", "suspended", "true" },
	{ "resume_helmrelease", "{\"name\":\"redis\",\"namespace\":\"apps-dev\",\"wait\":false}",
	  "PATCH", "/namespaces/apps-dev/helmreleases/redis", "suspended", "false" },
	{ "get_sources", "{\"source_kind\":\"OCIRepository\"}", "GET",
	  "/namespaces/flux-system/ocirepositories", "count", "1" },
	{ "reconcile_source", "{\"name\":\"podinfo\",\"source_kind\":\"HelmRepository\"}", "PATCH",
	  "/namespaces/flux-system/helmrepositories/podinfo", "reconciled", "true" },
	{ "get_alerts", "{}", "GET", "/namespaces/flux-system/alerts", "count", "2" },
	{ "get_logs", "{\"level\":\"error\",\"all_namespaces\":true}", "GET", "/log", "count", "4" },
};

static void
assert_value(const json_t *res, const char *key, const char *want, const char *op)
{
	json_t *v = json_object_get(res, key);
	char got[128];

	if (json_is_string(v))
		snprintf(got, sizeof(got), "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(got, sizeof(got), "%lld", (long long)json_integer_value(v));
	else
		snprintf(got, sizeof(got), "%s", json_is_true(v) ? "true" : json_is_false(v) ?
		    "false" : "?");
	cr_assert_str_eq(got, want, "%s: %s", op, json_dumps(res, JSON_COMPACT));
}

Test(flux_jail, every_op_in_a_confined_worker)
{
	json_t *ctx = ctx_for(k.url);

	jw_start(NULL);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct reply r;
		json_t *reqs;
		size_t before = 0;

		reqs = kube_find(&k, ops[i].method, ops[i].path);
		before = json_array_size(reqs);
		json_decref(reqs);
		jw_call(ops[i].op, ops[i].args, ctx, 30000, &r);
		cr_assert_eq(r.code, 0, "%s: %s %s", ops[i].op, err_name(r.code), r.text);
		assert_value(r.result, ops[i].key, ops[i].value, ops[i].op);
		reqs = kube_find(&k, ops[i].method, ops[i].path);
		cr_assert_gt(json_array_size(reqs), before, "%s: no %s %s", ops[i].op,
		    ops[i].method, ops[i].path);
		cr_assert(json_is_true(json_object_get(json_array_get(reqs, 0), "absolute_form")),
		    "%s did not go through the worker's proxy", ops[i].op);
		json_decref(reqs);
		if (strncmp(ops[i].op, "reconcile", 9) == 0)
			cr_assert(strstr(r.events, "annotated"), "%s events: %s", ops[i].op, r.events);
		json_decref(r.result);
	}
	cr_assert_gt(w.granted, 0);
	cr_assert_eq(w.denied, 0);
	/* what the worker enforces, told to corrald's log once */
	cr_assert(strstr(w.logs, "kubectl pinned at fd 1001 (/"), "%s", w.logs);
	cr_assert(strstr(w.logs, "flux: not configured"), "%s", w.logs);
	json_decref(ctx);
}

Test(flux_jail, failures_in_a_confined_worker)
{
	json_t *ctx = ctx_for(k.url);
	struct reply r;
	long long t0;

	jw_start(NULL);
	jw_call("get_kustomization", "{\"name\":\"nosuch\"}", ctx, 20000, &r);
	cr_assert_eq(r.code, ERR_NOTFOUND, "%s %s", err_name(r.code), r.text);
	kube_mode(&k, "forbidden");
	jw_call("suspend_kustomization", "{\"name\":\"apps\"}", ctx, 20000, &r);
	cr_assert_eq(r.code, ERR_HTTP, "%s %s", err_name(r.code), r.text);
	cr_assert(strstr(r.text, "forbidden"), "%s", r.text);
	kube_mode(&k, "never-ready");
	t0 = fx_now_ms();
	jw_call("reconcile_kustomization", "{\"name\":\"apps\",\"timeout\":2}", ctx, 20000, &r);
	cr_assert_eq(r.code, ERR_TIMEOUT, "%s %s", err_name(r.code), r.text);
	cr_assert_geq(fx_now_ms() - t0, 2000);
	cr_assert(strstr(r.events, "waiting for"), "%s", r.events);
	kube_stop(&k);
	jw_call("get_kustomizations", "{}", ctx, 20000, &r);
	cr_assert_eq(r.code, ERR_CLOSED, "%s %s", err_name(r.code), r.text);
	json_decref(ctx);
}

/* corrald (the broker) is the only way out: another server on the same host is refused. */
Test(flux_jail, kubectl_reaches_only_the_configured_server)
{
	struct kube other;
	struct reply r;
	json_t *ctx;

	cr_assert_eq(kube_start(&other, NULL), 0);
	ctx = ctx_for(other.url);
	jw_start(NULL);
	jw_call("get_kustomizations", "{}", ctx, 20000, &r);
	cr_assert_eq(r.code, ERR_EGRESS, "%s %s", err_name(r.code), r.text);
	cr_assert(strstr(r.text, "refused"), "%s", r.text);
	cr_assert_gt(w.denied, 0);
	cr_assert_eq(kube_count(&other), 0, "nothing reached the other server");
	kube_stop(&other);
	json_decref(ctx);
}

/* The fake flux, exec'd from its slot inside the jail, reports what it can do: no direct
 * connection, no other destination through the proxy, no exec of anything else. */
Test(flux_jail, confinement_seen_from_inside)
{
	json_t *ctx = ctx_for(k.url);
	struct reply r;

	jw_start(fx_fake_flux_path());
	jw_call("suspend_kustomization", "{\"name\":\"egress-probe\"}", ctx, 30000, &r);
	cr_assert_neq(r.code, 0);
	cr_assert(strstr(r.text, "probe direct=refused"), "direct connection: %s", r.text);
	cr_assert(strstr(r.text, "other=403"), "CONNECT elsewhere: %s", r.text);
	cr_assert(strstr(r.text, "exec=-31"), "exec of /bin/true (SIGSYS): %s", r.text);
	cr_assert_gt(w.denied, 0);
	json_decref(ctx);
}

Test(flux_jail, flux_cli_in_a_confined_worker)
{
	json_t *ctx = ctx_for(k.url), *obj;
	struct reply r;

	jw_start(fx_fake_flux_path());
	jw_call("suspend_kustomization", "{\"name\":\"nosuch\"}", ctx, 30000, &r);
	cr_assert_eq(r.code, ERR_NOTFOUND, "%s %s", err_name(r.code), r.text);
	cr_assert(strstr(r.text, "\xe2\x9c\x97"), "%s", r.text);
	jw_call("suspend_kustomization", "{\"name\":\"apps\"}", ctx, 30000, &r);
	cr_assert_eq(r.code, 0, "%s %s", err_name(r.code), r.text);
	cr_assert(strstr(r.events, "suspending kustomization apps"), "%s", r.events);
	obj = kube_object(&k, "Kustomization", "flux-system", "apps");
	cr_assert(json_is_true(json_object_get(json_object_get(obj, "spec"), "suspend")));
	json_decref(obj);
	json_decref(r.result);
	json_decref(ctx);
}
