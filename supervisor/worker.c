/* Workers: spawn through corral-jail, verify, supervise (state x event table), egress broker. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/broker.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/log.h"
#include "supervisor/ops.h"
#include "supervisor/privd.h"
#include "supervisor/sup.h"
#include "workers/sandbox.h"

static const char *const state_names[WS_MAX] = {
	"starting", "ready", "stopping", "backoff", "failed", "stopped", "queued", "waiting-uid",
};

const char *
worker_state_name(enum wstate st)
{
	return (unsigned)st < WS_MAX ? state_names[st] : "?";
}

static struct worker *
worker_new(struct sup *s, enum tool_kind kind, const struct tool_family *f, const char *tenant,
    const char *agent, uid_t uid, gid_t gid)
{
	struct worker *w, **nw;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->kind = kind;
	w->family = f;
	w->tenant = strdup(tenant);
	w->agent = agent ? strdup(agent) : NULL;
	w->uid = uid;
	w->gid = gid;
	w->state = WS_STOPPED;
	w->status_fd = w->broker_fd = w->stderr_fd = -1;
	w->present = true;
	if (agent)
		(void)!asprintf(&w->name, "agent-%s@%s", agent, tenant);
	else
		(void)!asprintf(&w->name, "%s@%s", f->name, tenant);
	if ((nw = reallocarray(s->workers, s->nworkers + 1, sizeof(*nw))) == NULL)
		return NULL;
	s->workers = nw;
	s->workers[s->nworkers++] = w;
	return w;
}

struct worker *
worker_for(struct sup *s, const char *family, const char *tenant)
{
	for (size_t i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];

		if (w->family && strcmp(w->family->name, family) == 0 &&
		    (s->cfg->shared_isolation || strcmp(w->tenant, tenant) == 0))
			return w;
	}
	return NULL;
}

struct worker *
worker_agent(struct sup *s, const char *agent, const char *tenant)
{
	for (size_t i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];

		if (w->agent && strcmp(w->agent, agent) == 0 &&
		    (tenant == NULL || strcmp(w->tenant, tenant) == 0))
			return w;
	}
	return NULL;
}

/* Whether w holds its uid: every worker does, except one waiting for a uid and one a reload
 * removed that has stopped. A stopped worker's jail has been reaped, and with it the pid
 * namespace its processes lived in (the kernel ends them all before the namespace's first
 * process is reaped), so nothing of it still runs as that uid. */
static bool
holds_uid(const struct worker *w)
{
	return w->state != WS_UIDWAIT && !(w->state == WS_STOPPED && !w->present);
}

static bool
uid_taken(const struct sup *s, const struct worker *self, uid_t u)
{
	for (size_t i = 0; i < s->nworkers; i++)
		if (s->workers[i] != self && s->workers[i]->uid == u && holds_uid(s->workers[i]))
			return true;
	return false;
}

/* The ids a worker of tenant t runs as: the tenant's uid, or, with a uids range, one no other
 * worker holds: self's own from before when it is free again (a re-added worker keeps it),
 * else the lowest free one. False when the range is used up. */
static bool
tenant_ids(struct sup *s, const struct cfg_tenant *t, const struct worker *self, uid_t *uid,
    gid_t *gid)
{
	*uid = t ? t->uid : 0;
	*gid = t ? t->gid : 0;
	if (t == NULL || t->uid_last == 0 || s->cfg->shared_isolation)
		return true;
	if (self && self->uid >= t->uid && self->uid <= t->uid_last &&
	    !uid_taken(s, self, self->uid)) {
		*uid = self->uid;
		*gid = t->gid_set ? t->gid : (gid_t)self->uid;
		return true;
	}
	for (uid_t u = t->uid;; u++) {
		if (!uid_taken(s, self, u)) {
			*uid = u;
			*gid = t->gid_set ? t->gid : (gid_t)u;
			return true;
		}
		if (u == t->uid_last)
			break;
	}
	return false;
}

/* A worker of a tenant whose uids are all held waits (WS_UIDWAIT) for one to come free:
 * a worker the same reload removed holds its uid until its jail has been reaped. */
static struct worker *
worker_new_ids(struct sup *s, enum tool_kind kind, const struct tool_family *f,
    const char *tenant, const char *agent)
{
	const struct cfg_tenant *t = config_tenant(s->cfg, tenant);
	bool ok;
	uid_t uid;
	gid_t gid;
	struct worker *w;

	ok = tenant_ids(s, t, NULL, &uid, &gid);
	if ((w = worker_new(s, kind, f, tenant, agent, ok ? uid : 0, ok ? gid : 0)) == NULL)
		return NULL;
	if (!ok) {
		w->state = WS_UIDWAIT;
		log_kv(LOG_WARNING, "tenant's uids are used up: the worker waits for one to come "
		    "free", "worker", w->name, "tenant", tenant, NULL);
	}
	return w;
}

/* (Re)start a stopped worker that is (again) in the configuration, with ids it may hold. */
void
worker_revive(struct sup *s, struct worker *w)
{
	const struct cfg_tenant *t = config_tenant(s->cfg, w->tenant);
	uid_t uid;
	gid_t gid;

	if (w->state != WS_STOPPED && w->state != WS_FAILED)
		return;
	if (!tenant_ids(s, t, w, &uid, &gid)) {
		w->state = WS_UIDWAIT;
		log_kv(LOG_WARNING, "tenant's uids are used up: the worker waits for one to come "
		    "free", "worker", w->name, "tenant", w->tenant, NULL);
		return;
	}
	w->uid = uid;
	w->gid = gid;
	worker_event(s, w, WE_SPAWNED);
}

/* A removed worker of tenant has stopped: its uid goes to a worker waiting for one. */
static void
uid_handoff(struct sup *s, const char *tenant)
{
	for (size_t i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];

		if (w->state == WS_UIDWAIT && w->present && strcmp(w->tenant, tenant) == 0) {
			uid_t uid;
			gid_t gid;
			char us[16];

			if (!tenant_ids(s, config_tenant(s->cfg, tenant), w, &uid, &gid))
				return;	/* none left */
			w->uid = uid;
			w->gid = gid;
			w->state = WS_STOPPED;
			snprintf(us, sizeof(us), "%u", (unsigned)uid);
			log_kv(LOG_INFO, "a uid came free: the waiting worker starts", "worker",
			    w->name, "uid", us, NULL);
			worker_event(s, w, WE_SPAWNED);
		}
	}
}

/* Which workers the config asks for: per tenant, every family with an endpoint for it (or a
 * shared endpoint) plus the tenant's endpoint-less families; with isolation: shared, one
 * worker per family. Agents: one worker each. */
int
worker_plan(struct sup *s)
{
	struct config *c = s->cfg;

	for (size_t t = 0; t < c->ntenants; t++) {
		const struct cfg_tenant *ten = &c->tenants[t];
		const char *tname = c->shared_isolation ? "shared" : ten->name;
		size_t nf;
		const struct tool_family *const *fams = tool_families(&nf);

		for (size_t i = 0; i < nf; i++) {
			bool want = false;

			for (size_t e = 0; e < c->nendpoints && !want; e++)
				if (strcmp(c->endpoints[e].family, fams[i]->name) == 0 &&
				    (c->endpoints[e].tenant == NULL ||
				    strcmp(c->endpoints[e].tenant, ten->name) == 0))
					want = true;
			for (size_t k = 0; k < ten->nfamilies && !want; k++)
				if (strcmp(ten->families[k], fams[i]->name) == 0)
					want = true;
			if (!want || fams[i]->kind == TOOL_KIND_AGENT)
				continue;
			if (worker_for(s, fams[i]->name, tname) != NULL)
				continue;
			if (worker_new_ids(s, fams[i]->kind, fams[i], tname, NULL) == NULL)
				return -ENOMEM;
		}
	}
	return 0;
}

void
worker_close_fd(struct sup *s, int *fd)
{
	if (*fd >= 0) {
		sup_unwatch(s, *fd);
		close(*fd);
		*fd = -1;
	}
}

/* Does w run as its tenant's own uid? When corrald is root, or through corral-privd. */
static bool
own_uid(const struct sup *s, const struct worker *w)
{
	return w->uid != 0 && (geteuid() == 0 || s->privd != NULL);
}

static void
worker_cleanup(struct sup *s, struct worker *w)
{
	if (w->conn) {
		sup_unwatch(s, ipc_conn_pollfd(w->conn));
		/* off the loop: nng's close can hang on a peer that just died (ipc/conn.h) */
		ipc_close_async(w->conn);
		w->conn = NULL;
	}
	worker_close_fd(s, &w->status_fd);
	worker_close_fd(s, &w->broker_fd);
	worker_close_fd(s, &w->stderr_fd);
	if (w->sock)
		unlink(w->sock);
	if (w->dir)
		(void)rmdir(w->dir);	/* empty now; the next incarnation gets its own */
	if (w->pid)
		w->last_pid = w->pid;
	w->pid = 0;
	w->hello_pending = false;
	w->verified = false;
	w->held = false;
	w->hold_until_ms = 0;
}

/* ---------------------------------------------------------------- spawn */

/* An agent's private state directory (its memory), the only place it may write:
 * <state_dir>/agents/<tenant>/<agent>, owned by the tenant's uid, bound at /state. */
static int
prepare_state(struct sup *s, struct worker *w)
{
	char path[4096];
	const char *parts[] = { "agents", w->tenant, w->agent };
	size_t off;

	off = (size_t)snprintf(path, sizeof(path), "%s", s->cfg->state_dir);
	for (size_t i = 0; i < 3; i++) {
		off += (size_t)snprintf(path + off, sizeof(path) - off, "/%s", parts[i]);
		if (off >= sizeof(path))
			return -ENAMETOOLONG;
		if (mkdir(path, i == 2 ? 0700 : 0711) < 0 && errno != EEXIST)
			return -errno;
		/* search-only for others (our umask took it away): corral-privd walks down to
		 * the agent's directory without a capability to override permissions */
		if (i < 2 && chmod(path, 0711) < 0)
			return -errno;
	}
	if (geteuid() == 0 && w->uid != 0 && chown(path, w->uid, w->gid) < 0)
		return -errno;
	free(w->state_dir);
	w->state_dir = strdup(path);
	return w->state_dir ? 0 : -ENOMEM;
}

unsigned
worker_sweep_dirs(struct sup *s)
{
	char base[4096], path[4096 + 512];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(base, sizeof(base), "%s/w", s->cfg->runtime_dir);
	if ((d = opendir(base)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		snprintf(path, sizeof(path), "%s/%s/sock", base, e->d_name);
		(void)unlink(path);
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		if (rmdir(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int
prepare_dir(struct sup *s, struct worker *w)
{
	char *base = NULL;
	int r = 0;

	if (asprintf(&base, "%s/w", s->cfg->runtime_dir) < 0)
		return -ENOMEM;
	if ((mkdir(base, 0711) < 0 && errno != EEXIST) || chmod(base, 0711) < 0)
		r = -errno;	/* 0711 whatever the umask: the jail binds the worker dirs inside */
	free(base);
	if (r < 0)
		return r;
	free(w->dir);
	free(w->sock);
	w->sock = NULL;
	/* A directory per incarnation: the old socket's close may still be running on its own
	 * thread, and nng unlinks that socket's path when it gets there. */
	if (asprintf(&w->dir, "%s/w/%s.%u", s->cfg->runtime_dir, w->name, w->dir_gen++) < 0 ||
	    asprintf(&w->sock, "%s/sock", w->dir) < 0)
		return -ENOMEM;
	if (mkdir(w->dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	unlink(w->sock);
	if (w->kind == TOOL_KIND_AGENT && (r = prepare_state(s, w)) < 0)
		return r;
	/* The worker runs as its tenant's uid: its private directory is its own. Without root
	 * (corral-privd spawns) it stays ours, searchable: runtime_dir is ours, and only the
	 * worker has it bound (at /ipc); corrald still checks every peer's pid and uid. */
	if (geteuid() == 0 && w->uid != 0 && chown(w->dir, w->uid, w->gid) < 0)
		return -errno;
	if (geteuid() != 0 && s->privd && chmod(w->dir, 0711) < 0)
		return -errno;
	return 0;
}

const struct cfg_agent *sup_agent_cfg(struct sup *s, const char *agent, const char *tenant);

/* An external agent program (agents: exec), or NULL. protocol ipc: an arbitrary program the
 * jail confines with jail-agent's allow-list, dialling /ipc/sock itself; protocol mcp: run by
 * corral-agent --mcp-bridge from the jail's exec slot (agents/mcpbridge.h). */
static const struct cfg_agent *
ext_agent(struct sup *s, const struct worker *w)
{
	const struct cfg_agent *a = w->kind == TOOL_KIND_AGENT ?
	    sup_agent_cfg(s, w->agent, w->tenant) : NULL;

	return a && a->exec ? a : NULL;
}

static int
build_argv(struct sup *s, struct worker *w, char **argv, size_t max, char *bufs, size_t blen)
{
	size_t n = 0, off = 0;
	const char *kind = tool_kind_name(w->kind);
	const struct cfg_agent *ext = ext_agent(s, w);
	bool ipc_prog = ext && ext->protocol == CFG_PROTO_IPC;

#define ARG(x) do { if (n + 1 >= max) return -E2BIG; argv[n++] = (char *)(x); } while (0)
#define FMT(...) do { \
		int k_ = snprintf(bufs + off, blen - off, __VA_ARGS__); \
		if (k_ < 0 || (size_t)k_ >= blen - off) \
			return -E2BIG; \
		ARG(bufs + off); \
		off += (size_t)k_ + 1; \
	} while (0)
	ARG(s->jail_path);
	if (!ipc_prog)
		ARG("--worker");
	ARG("--profile");
	ARG(kind);
	ARG("--tenant");
	ARG(w->tenant);
	if (own_uid(s, w)) {
		ARG("--uid");
		FMT("%u", (unsigned)w->uid);
		ARG("--gid");
		FMT("%u", (unsigned)w->gid);
	}
	{
		const struct cfg_tenant *t = config_tenant(s->cfg, w->tenant);

		if (t && t->limits.pids) {
			ARG("--rlimit-nproc");
			FMT("%u", t->limits.pids);
		}
		if (t && t->limits.nofile) {
			ARG("--rlimit-nofile");
			FMT("%u", t->limits.nofile);
		}
		if (t && t->limits.fsize) {
			ARG("--rlimit-fsize");
			FMT("%llu", (unsigned long long)t->limits.fsize);
		}
#ifndef CORRAL_SANITIZED	/* sanitizer shadow memory needs terabytes of address space */
		if (t && t->limits.memory) {
			uint64_t as = t->limits.memory;

			/* kubectl (Go) reserves ~768 MiB of address space before it does anything */
			if (w->kind == TOOL_KIND_EXEC && as < (1ull << 30))
				as = 1ull << 30;
			ARG("--rlimit-as");
			FMT("%llu", (unsigned long long)as);
		}
#endif
	}
	ARG("--status-fd");
	ARG("4");
	if (w->kind != TOOL_KIND_AGENT) {
		ARG("--keep-fd");
		ARG("3");
	}
	/* The socket directory is read-only inside: connecting needs no write access, and a
	 * worker must not be able to fill the host's disk through it. */
	ARG("--bind-ro");
	FMT("%s:/ipc", w->dir);
	if (w->kind == TOOL_KIND_AGENT && w->state_dir) {
		ARG("--bind-rw");
		FMT("%s:/state", w->state_dir);
	}
	if (ext) {
		ARG("--env");
		ARG("PATH=/usr/bin:/bin");
		ARG("--env");
		ARG("LANG=C.UTF-8");
		ARG("--env");
		FMT("CORRAL_AGENT=%s", w->agent);
		ARG("--env");
		ARG(w->state_dir ? "HOME=/state" : "HOME=/");
		ARG(ipc_prog ? "--env" : "--exec-slot");
		ARG(ipc_prog ? "CORRAL_SOCKET=/ipc/sock" : ext->exec);
	}
	if (w->kind == TOOL_KIND_EXEC) {
		/* The pinned binaries, opened by the jail: fds 1001 (kubectl), 1002 (flux). */
		ARG("--exec-slot");
		ARG(s->cfg->kubectl);
		if (s->cfg->flux) {
			ARG("--exec-slot");
			ARG(s->cfg->flux);
		}
	}
	ARG("--");
	if (ipc_prog) {
		ARG(ext->exec);
	} else if (w->kind == TOOL_KIND_AGENT) {
		ARG(s->agent_path);
		ARG("--socket");
		ARG("/ipc/sock");
		if (ext) {
			ARG("--mcp-bridge");
			ARG("--");
			ARG(ext->exec);
		}
	} else {
		ARG(s->worker_path);
		ARG("--kind");
		ARG(kind);
		ARG("--family");
		ARG(w->family->name);
		ARG("--socket");
		ARG("/ipc/sock");
		if (w->kind == TOOL_KIND_EXEC) {
			ARG("--kubectl");
			ARG(s->cfg->kubectl);
			if (s->cfg->flux) {
				ARG("--flux");
				ARG(s->cfg->flux);
			}
		}
	}
	argv[n] = NULL;
#undef ARG
#undef FMT
	return 0;
}

static void
set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* fork + immediate exec of corral-jail: between the two only dup2/close/prctl (nng and curl
 * threads exist in this process; see SANDBOX.md on fork-safety). */
static int
fork_jail(char **argv, int devnull, const int st[2], const int er[2], const int brk[2])
{
	static char *const envp[] = { "PATH=/usr/bin:/bin", NULL };
	pid_t pid;

	if ((pid = fork()) < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(devnull, 0) < 0 || dup2(er[1], 1) < 0 || dup2(er[1], 2) < 0 ||
		    (brk[1] >= 0 && dup2(brk[1], 3) < 0) || dup2(st[1], 4) < 0)
			_exit(127);
		if (brk[1] < 0)
			dup2(devnull, 3);
		syscall(SYS_close_range, 5, ~0U, 0);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	return pid;
}

/* The jail from corral-privd (split install): it vets argv and runs it with our fds. */
static int
privd_jail(struct sup *s, struct worker *w, char **argv, const int st[2], const int er[2],
    const int brk[2])
{
	const int fds[3] = { st[1], er[1], brk[1] };
	char why[300];
	pid_t pid;
	int r;

	if ((r = privc_spawn(s->privd, argv, fds, &pid, why, sizeof(why))) < 0) {
		snprintf(w->last_reason, sizeof(w->last_reason), "corral-privd: %s",
		    why[0] ? why : err_str(r));
		return r;
	}
	return pid;
}

static int
spawn(struct sup *s, struct worker *w)
{
	char *argv[40], bufs[2048];
	int brk[2] = { -1, -1 }, st[2] = { -1, -1 }, er[2] = { -1, -1 }, devnull, r;
	pid_t pid;

	if ((r = prepare_dir(s, w)) < 0 || (r = build_argv(s, w, argv, 40, bufs, sizeof(bufs))) < 0)
		return r;
	if ((r = ipc_listen(w->sock, &w->conn)) < 0)
		return r;
	if (geteuid() == 0 && w->uid != 0 && chown(w->sock, w->uid, w->gid) < 0)
		return -errno;
	/* Not root: the socket stays ours; its directory decides who reaches it (prepare_dir) */
	if (geteuid() != 0 && s->privd && chmod(w->sock, 0666) < 0)
		return -errno;
	if (w->kind != TOOL_KIND_AGENT &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, brk) < 0)
		return -errno;
	if (pipe2(st, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0 ||
	    (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		r = -errno;
		goto fail;
	}
	pid = s->privd ? privd_jail(s, w, argv, st, er, brk) : fork_jail(argv, devnull, st, er, brk);
	close(devnull);
	if (pid < 0) {
		r = pid;
		goto fail;
	}
	close(st[1]);
	close(er[1]);
	if (brk[1] >= 0)
		close(brk[1]);
	w->jail_pid = pid;
	/* The worker will be the jail's child: accept it before the jail has told us its pid. */
	ipc_conn_expect_child(w->conn, pid, own_uid(s, w) ? w->uid : geteuid());
	w->status_fd = st[0];
	w->stderr_fd = er[0];
	w->broker_fd = brk[0];
	w->status_len = w->err_len = 0;
	set_nonblock(w->status_fd);
	set_nonblock(w->stderr_fd);
	w->s_conn = (struct src){ SRC_WORKER, w };
	w->s_status = (struct src){ SRC_STATUS, w };
	w->s_stderr = (struct src){ SRC_STDERR, w };
	w->s_broker = (struct src){ SRC_BROKER, w };
	sup_watch(s, ipc_conn_pollfd(w->conn), &w->s_conn);
	sup_watch(s, w->status_fd, &w->s_status);
	sup_watch(s, w->stderr_fd, &w->s_stderr);
	if (w->broker_fd >= 0) {
		set_nonblock(w->broker_fd);
		sup_watch(s, w->broker_fd, &w->s_broker);
	}
	w->started_ms = sup_now_ms();
	w->deadline_ms = w->started_ms + LIM_HELLO_MS;
	w->last_syscall = -1;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (brk[i] >= 0)
			close(brk[i]);
		if (st[i] >= 0)
			close(st[i]);
		if (er[i] >= 0)
			close(er[i]);
	}
	return r;
}

/* ---------------------------------------------------------------- lifecycle */

static void
record(struct sup *s, struct worker *w, const char *event, const char *detail)
{
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:i}", "type", "lifecycle", "worker",
	    w->name, "tenant", w->tenant, "event", event, "pid", (int)w->pid);

	if (detail)
		json_object_set_new(rec, "detail", json_string(detail));
	if (w->last_syscall >= 0 && strcmp(event, "died") == 0) {
		json_object_set_new(rec, "syscall", json_integer(w->last_syscall));
		json_object_set_new(rec, "syscall_name",
		    json_string(sbx_syscall_name(w->last_syscall)));
	}
	sup_audit(s, rec);
	json_decref(rec);
	log_kv(strcmp(event, "died") == 0 ? LOG_WARNING : LOG_INFO, event, "worker", w->name,
	    "tenant", w->tenant, "detail", detail ? detail : "", NULL);
}

/* Start slots: at most this many workers in `starting` at once. A thousand simultaneous
 * forks on two CPUs made workers miss their hello deadline by the hundred, and each such
 * death counted toward `failed` (docs/PERFORMANCE.md, F6). */
static unsigned
spawn_slots(void)
{
	static unsigned slots;

	if (slots == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		slots = n > 0 && 2 * n < LIM_SPAWN_INFLIGHT ? (unsigned)(2 * n) : LIM_SPAWN_INFLIGHT;
		if (slots < 2)
			slots = 2;
	}
	return slots;
}

static unsigned
starting_count(const struct sup *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->nworkers; i++)
		n += s->workers[i]->state == WS_STARTING;
	return n;
}

static void
spawn_now(struct sup *s, struct worker *w)
{
	int r;

	w->last_reason[0] = '\0';
	if ((r = spawn(s, w)) < 0) {
		char why[sizeof(w->last_reason)];

		/* corral-privd's own reason when it refused, else the error */
		snprintf(why, sizeof(why), "%s", w->last_reason[0] ? w->last_reason : err_str(r));
		snprintf(w->last_reason, sizeof(w->last_reason), "spawn failed: %s", why);
		worker_cleanup(s, w);
		record(s, w, "spawn-failed", w->last_reason);
		w->state = WS_FAILED;
		return;
	}
	w->state = WS_STARTING;
}

/* Start now if a slot is free, else wait in the queue (FIFO): the hello deadline runs from
 * the fork, not from here. */
static void
a_start(struct sup *s, struct worker *w)
{
	static uint64_t seq;

	if (starting_count(s) < spawn_slots()) {
		spawn_now(s, w);
		return;
	}
	w->queue_seq = ++seq;
	w->state = WS_QUEUED;
}

/* Free slots go to the longest-waiting queued workers. */
static void
queue_drain(struct sup *s)
{
	unsigned busy = starting_count(s);

	while (busy < spawn_slots() && !s->stopping) {
		struct worker *first = NULL;

		for (size_t i = 0; i < s->nworkers; i++) {
			struct worker *w = s->workers[i];

			if (w->state == WS_QUEUED && (first == NULL || w->queue_seq < first->queue_seq))
				first = w;
		}
		if (first == NULL)
			return;
		spawn_now(s, first);
		busy++;
	}
}

static void
a_verify(struct sup *s, struct worker *w)
{
	struct sbx_status st;
	struct msg m = { .type = MSG_WELCOME, .version = CORRAL_PROTO_VERSION };
	char why[160] = "";
	int r;

	/* From the outside, never from the worker's word: /proc/PID/status. */
	if ((r = sbx_proc_status(w->pid, &st)) < 0)
		snprintf(why, sizeof(why), "cannot read /proc/%d/status: %s", (int)w->pid,
		    err_str(r));
	else if (st.no_new_privs != 1 || st.seccomp != 2 || st.cap_eff != 0)
		snprintf(why, sizeof(why), "not confined (NoNewPrivs %d, Seccomp %d, CapEff %llx)",
		    st.no_new_privs, st.seccomp, (unsigned long long)st.cap_eff);
	else if (own_uid(s, w) && st.uid != w->uid)
		snprintf(why, sizeof(why), "runs as uid %u, expected %u", (unsigned)st.uid,
		    (unsigned)w->uid);
	if (why[0]) {
		snprintf(w->last_reason, sizeof(w->last_reason), "%s", why);
		worker_kill(s, w, why);
		return;
	}
	w->seccomp = true;
	m.name = w->name;
	m.tenant = w->tenant;
	if ((r = worker_send(s, w, &m)) < 0) {
		worker_kill(s, w, "cannot send WELCOME");
		return;
	}
	w->verified = true;
	w->state = WS_READY;
	w->ready_ms = sup_now_ms();
	record(s, w, "ready", NULL);
}

static void
a_kill(struct sup *s, struct worker *w)
{
	/* corral-privd's jails are its children, and the tenant's processes not ours to signal:
	 * privd kills the jail; the worker, PID 1 of the jail's pid namespace, dies with it. */
	if (s->privd) {
		if (w->jail_pid > 0)
			(void)privc_kill(s->privd, w->jail_pid);
		return;
	}
	if (w->jail_pid > 0)
		kill(w->jail_pid, SIGKILL);
	if (w->pid > 0)
		kill(w->pid, SIGKILL);
}

static void
a_shutdown(struct sup *s, struct worker *w)
{
	struct msg m = { .type = MSG_SHUTDOWN };

	if (w->verified && worker_send(s, w, &m) == 0) {
		w->state = WS_STOPPING;
		w->deadline_ms = sup_now_ms() + (s->cfg ? s->cfg->drain_ms : LIM_DRAIN_MS);
		return;
	}
	a_kill(s, w);
	w->state = WS_STOPPING;
	w->deadline_ms = sup_now_ms() + 1000;
}

static void
a_died(struct sup *s, struct worker *w)
{
	int64_t now = sup_now_ms();
	unsigned recent = 0;
	char detail[200];

	snprintf(detail, sizeof(detail), "%s%s%s", w->last_reason[0] ? w->last_reason : "exited",
	    w->last_signal ? ", signal " : "", w->last_signal ? strsignal(w->last_signal) : "");
	record(s, w, "died", detail);
	router_worker_gone(s, w, detail);
	worker_cleanup(s, w);
	w->deaths[w->ndeaths++ % 8] = now;
	for (unsigned i = 0; i < 8 && i < w->ndeaths; i++)
		if (now - w->deaths[i] <= LIM_DEATH_WINDOW_MS)
			recent++;
	if (s->stopping || !w->present) {
		w->state = WS_STOPPED;
		return;
	}
	if (recent >= LIM_DEATHS_MAX) {
		w->state = WS_FAILED;
		record(s, w, "failed", "too many deaths in the window; not restarting");
		return;
	}
	w->backoff_ms = LIM_RESTART_MIN_MS << (w->restarts < 5 ? w->restarts : 5);
	if (w->backoff_ms > LIM_RESTART_MAX_MS)
		w->backoff_ms = LIM_RESTART_MAX_MS;
	w->deadline_ms = now + w->backoff_ms;
	w->state = WS_BACKOFF;
}

static void
a_exited(struct sup *s, struct worker *w)
{
	worker_cleanup(s, w);
	router_worker_gone(s, w, "worker stopped");
	w->state = WS_STOPPED;
	record(s, w, "stopped", NULL);
}

static void
a_restart(struct sup *s, struct worker *w)
{
	w->restarts++;
	w->last_reason[0] = '\0';
	w->last_signal = 0;
	a_start(s, w);
}

static void
a_violation(struct sup *s, struct worker *w)
{
	record(s, w, "violation", w->last_reason);
	a_kill(s, w);
}

static void
a_stopped(struct sup *s, struct worker *w)
{
	w->state = WS_STOPPED;
}

static void
a_timeout_kill(struct sup *s, struct worker *w)
{
	snprintf(w->last_reason, sizeof(w->last_reason), "%s",
	    w->state == WS_STARTING ? "no verified hello in time" : "did not stop in time");
	a_kill(s, w);
}

typedef void (*waction)(struct sup *, struct worker *);

/* state x event. NULL: the event does not apply in that state and is ignored. */
static const waction fsm[WS_MAX][WE_MAX] = {
	[WS_STOPPED] = { [WE_SPAWNED] = a_start },
	[WS_STARTING] = { [WE_HELLO] = a_verify, [WE_BAD_HELLO] = a_violation,
		[WE_EXIT] = a_died, [WE_TIMER] = a_timeout_kill, [WE_STOP] = a_shutdown,
		[WE_VIOLATION] = a_violation },
	[WS_READY] = { [WE_EXIT] = a_died, [WE_STOP] = a_shutdown, [WE_VIOLATION] = a_violation },
	[WS_STOPPING] = { [WE_EXIT] = a_exited, [WE_TIMER] = a_timeout_kill,
		[WE_VIOLATION] = a_kill },
	[WS_BACKOFF] = { [WE_TIMER] = a_restart, [WE_STOP] = a_stopped },
	[WS_FAILED] = { [WE_STOP] = a_stopped, [WE_SPAWNED] = a_restart },
	[WS_QUEUED] = { [WE_STOP] = a_stopped },
	[WS_UIDWAIT] = { [WE_STOP] = a_stopped },
};

void
worker_event(struct sup *s, struct worker *w, enum wevent ev)
{
	waction a = fsm[w->state][ev];
	enum wstate before = w->state;

	if (a == NULL)
		return;
	a(s, w);
	if (w->state == WS_STOPPED && before != WS_STOPPED && before != WS_UIDWAIT &&
	    !w->present && !s->stopping)
		uid_handoff(s, w->tenant);
}

void
worker_kill(struct sup *s, struct worker *w, const char *why)
{
	if (why && !w->last_reason[0])
		snprintf(w->last_reason, sizeof(w->last_reason), "%s", why);
	a_kill(s, w);
}

int
worker_send(struct sup *s, struct worker *w, const struct msg *m)
{
	if (w->conn == NULL)
		return ERR_NOTREADY;
	return ipc_send(w->conn, m, IPC_NONBLOCK);
}

/* ---------------------------------------------------------------- I/O from a worker */

void
worker_violation(struct sup *s, struct worker *w, const char *fmt, ...)
{
	size_t l;
	va_list ap;

	snprintf(w->last_reason, sizeof(w->last_reason), "protocol violation: ");
	l = strlen(w->last_reason);
	va_start(ap, fmt);
	vsnprintf(w->last_reason + l, sizeof(w->last_reason) - l, fmt, ap);
	va_end(ap);
	w->proto_violation = true;
	worker_event(s, w, WE_VIOLATION);
}

static bool
permitted(const struct worker *w, enum msg_type t)
{
	if (!w->verified)
		return t == MSG_HELLO;
	if (w->kind == TOOL_KIND_AGENT)
		return t == MSG_CALL || t == MSG_DONE || t == MSG_EVENT || t == MSG_LOG ||
		    t == MSG_ERROR || t == MSG_PONG;
	return t == MSG_RESULT || t == MSG_ERROR || t == MSG_EVENT || t == MSG_LOG ||
	    t == MSG_PONG;
}

static void
on_hello(struct sup *s, struct worker *w, struct msg *m)
{
	const char *want = tool_kind_name(w->kind);

	if (m->version != CORRAL_PROTO_VERSION) {
		worker_violation(s, w, "%s", "protocol version mismatch");
		return;
	}
	if (strcmp(m->kind, want) != 0 || (w->family && (m->family == NULL ||
	    strcmp(m->family, w->family->name) != 0))) {
		worker_violation(s, w, "%s", "hello names another kind or family");
		return;
	}
	if (w->pid == 0) {
		/* The worker (a child of its jail, as ipc_conn_expect_child checked) was quicker
		 * than the jail's status line: act on the HELLO once the pid is known. */
		w->hello_pending = true;
		return;
	}
	worker_event(s, w, WE_HELLO);
}

/* A few messages per peer per loop turn: the loop serves every ready peer in turn (epoll hands
 * out level-triggered fds round-robin), so one busy channel cannot keep the others waiting
 * (docs/PERFORMANCE.md, F9). A peer put on hold by what it sent is left alone. */
void
worker_on_conn(struct sup *s, struct worker *w)
{
	for (int i = 0; i < LIM_PEER_MSGS_TURN && w->conn != NULL && !w->held; i++) {
		struct msg m = { 0 };
		int r = ipc_recv(w->conn, &m, IPC_NONBLOCK);

		if (r == -EAGAIN)
			return;
		if (r < 0) {
			worker_violation(s, w, "%s", err_str(r));
			return;
		}
		if (!permitted(w, m.type)) {
			worker_violation(s, w, "unexpected %s message", msg_type_name(m.type));
		} else if (m.type == MSG_HELLO) {
			on_hello(s, w, &m);
		} else if (m.type == MSG_LOG) {
			/* The exec worker says once what it pins and proxies: shown in status
			 * (as the worker's own report, next to what corrald verified itself). */
			if (w->kind == TOOL_KIND_EXEC && strncmp(m.text, "exec kind: ", 11) == 0) {
				free(w->enforced);
				w->enforced = strndup(m.text + 11, 600);
			}
			sup_ops_worker_log(s, w, m.level, m.text, "log");
		} else if (m.type != MSG_PONG) {
			router_from_worker(s, w, &m);
		}
		msg_clear(&m);
	}
}

/* The jail's status lines: "pid N", "landlock N", "netns 1", "userns 1", "error ...". */
void
worker_on_status(struct sup *s, struct worker *w)
{
	ssize_t n;
	char *nl;

	while ((n = read(w->status_fd, w->status_buf + w->status_len,
	    sizeof(w->status_buf) - 1 - w->status_len)) > 0) {
		w->status_len += (size_t)n;
		w->status_buf[w->status_len] = '\0';
		while ((nl = strchr(w->status_buf, '\n')) != NULL) {
			long v;

			*nl = '\0';
			if (sscanf(w->status_buf, "pid %ld", &v) == 1 && v > 0 && w->pid == 0) {
				w->pid = (pid_t)v;
				ipc_conn_expect(w->conn, w->pid, own_uid(s, w) ? w->uid : geteuid());
				if (w->hello_pending) {
					pid_t pp;

					w->hello_pending = false;
					if (ipc_conn_peer(w->conn, &pp, NULL) == 0 && pp == w->pid)
						worker_event(s, w, WE_HELLO);
					else
						worker_violation(s, w, "%s", "hello from another "
						    "process than the one the jail started");
				}
			} else if (sscanf(w->status_buf, "landlock %ld", &v) == 1) {
				w->landlock_abi = (int)v;
			} else if (sscanf(w->status_buf, "netns %ld", &v) == 1) {
				w->netns = v != 0;
			} else if (sscanf(w->status_buf, "userns %ld", &v) == 1) {
				w->userns = v != 0;
			} else if (strncmp(w->status_buf, "error ", 6) == 0) {
				snprintf(w->last_reason, sizeof(w->last_reason), "jail: %s",
				    w->status_buf + 6);
			}
			w->status_len -= (size_t)(nl + 1 - w->status_buf);
			memmove(w->status_buf, nl + 1, w->status_len + 1);
		}
		if (w->status_len == sizeof(w->status_buf) - 1)
			w->status_len = 0;	/* an over-long line from the jail: drop it */
	}
	if (n == 0)
		worker_close_fd(s, &w->status_fd);
}

/* A worker's stderr: forwarded to our log line by line, capped, tagged. A seccomp reporter
 * line ("corral-sigsys nr=N") records the syscall that killed the worker. */
void
worker_on_stderr(struct sup *s, struct worker *w)
{
	ssize_t n;
	char *nl;

	while ((n = read(w->stderr_fd, w->err_buf + w->err_len,
	    sizeof(w->err_buf) - 1 - w->err_len)) > 0) {
		w->err_len += (size_t)n;
		w->err_buf[w->err_len] = '\0';
		while ((nl = strchr(w->err_buf, '\n')) != NULL ||
		    w->err_len == sizeof(w->err_buf) - 1) {
			int nr;

			if (nl == NULL)
				nl = w->err_buf + w->err_len - 1;
			*nl = '\0';
			if (sscanf(w->err_buf, "corral-sigsys nr=%d", &nr) == 1)
				w->last_syscall = nr;
			sup_ops_worker_log(s, w, LOG_NOTICE, w->err_buf, "stderr");
			w->err_len -= (size_t)(nl + 1 - w->err_buf);
			memmove(w->err_buf, nl + 1, w->err_len + 1);
		}
	}
	if (n == 0)
		worker_close_fd(s, &w->stderr_fd);
}

/* ---------------------------------------------------------------- reaping, timers, status */

static void kmsg_seccomp(struct sup *s, const char *line);

static void
jail_ended(struct sup *s, pid_t pid, int st)
{
	for (size_t i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];

		if (w->jail_pid != pid)
			continue;
		w->jail_pid = 0;
		w->last_signal = 0;
		if (WIFSIGNALED(st))
			w->last_signal = WTERMSIG(st);
		else if (WIFEXITED(st)) {
			w->last_exit = WEXITSTATUS(st);
			/* corral-jail reports the worker's death by signal as 128+sig */
			if (w->last_exit > 128 && w->last_exit < 128 + 65)
				w->last_signal = w->last_exit - 128;
		}
		if (w->last_signal == SIGSYS && !w->last_reason[0])
			snprintf(w->last_reason, sizeof(w->last_reason),
			    "killed by seccomp (SIGSYS)%s", w->last_syscall >= 0 ? "" : "");
		if (w->last_signal == SIGSYS && w->last_syscall >= 0) {
			size_t l = strlen(w->last_reason);

			snprintf(w->last_reason + l, sizeof(w->last_reason) - l,
			    ": syscall %d (%s)", w->last_syscall,
			    sbx_syscall_name(w->last_syscall));
		}
		if (!w->last_reason[0] && !w->last_signal)
			snprintf(w->last_reason, sizeof(w->last_reason), "exit status %d",
			    w->last_exit);
		/* Drain what it said last, so the reason is complete. */
		if (w->stderr_fd >= 0)
			worker_on_stderr(s, w);
		worker_event(s, w, WE_EXIT);
	}
}

void
worker_reap(struct sup *s)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		jail_ended(s, pid, st);
}

/* Jail exits corral-privd reports. When its channel closes, privd is gone and its jails with
 * it (parent-death signal): each is ended as killed, and corrald stops (a supervisor that
 * cannot spawn is no supervisor; the service manager restarts the pair). */
void
worker_on_privd(struct sup *s)
{
	struct privd_event ev;
	int r;

	while ((r = privc_next(s->privd, &ev)) == 1) {
		if (ev.op == PRIVD_EXITED)
			jail_ended(s, ev.pid, ev.wstatus);
		else if (ev.op == PRIVD_KMSG)
			kmsg_seccomp(s, ev.text);
	}
	if (r == 0 || s->privd_lost)
		return;
	s->privd_lost = true;
	sup_unwatch(s, privc_fd(s->privd));
	for (size_t i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];

		if (w->jail_pid > 0) {
			snprintf(w->last_reason, sizeof(w->last_reason), "corral-privd went away");
			jail_ended(s, w->jail_pid, SIGKILL);
		}
	}
}

/* Stop reading w's channel until until_ms: its fd leaves the epoll set (nng's receive fd is
 * level-triggered: left in, it would wake the loop for nothing). What w sends meanwhile waits
 * in nng's receive queue (LIM_SENDBUF messages); once that is full nng stops reading the pipe
 * and a sender that does not wait for answers blocks in its own send. Nothing is dropped:
 * every message is read, and every call answered, when the hold ends. */
void
worker_hold(struct sup *s, struct worker *w, int64_t until_ms)
{
	if (w->conn == NULL)
		return;
	if (!w->held)
		sup_unwatch(s, ipc_conn_pollfd(w->conn));
	w->held = true;
	if (until_ms > w->hold_until_ms)
		w->hold_until_ms = until_ms;
}

static void
hold_release(struct sup *s, struct worker *w)
{
	w->held = false;
	w->hold_until_ms = 0;
	if (w->conn != NULL && sup_watch(s, ipc_conn_pollfd(w->conn), &w->s_conn) < 0)
		worker_kill(s, w, "cannot watch its channel again");
}

void
worker_tick(struct sup *s, int64_t now)
{
	for (size_t i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];

		if ((w->state == WS_STARTING || w->state == WS_STOPPING ||
		    w->state == WS_BACKOFF) && now >= w->deadline_ms)
			worker_event(s, w, WE_TIMER);
		if (w->held && now >= w->hold_until_ms)
			hold_release(s, w);
	}
	queue_drain(s);
}

int64_t
worker_next_deadline(const struct sup *s)
{
	int64_t d = INT64_MAX;

	for (size_t i = 0; i < s->nworkers; i++) {
		const struct worker *w = s->workers[i];

		if ((w->state == WS_STARTING || w->state == WS_STOPPING ||
		    w->state == WS_BACKOFF) && w->deadline_ms < d)
			d = w->deadline_ms;
		if (w->held && w->hold_until_ms < d)
			d = w->hold_until_ms;
	}
	return d;
}

json_t *
worker_status_json(const struct worker *w, int64_t now)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I, s:I}", "name", w->name, "kind",
	    tool_kind_name(w->kind), "tenant", w->tenant, "pid", (int)w->pid, "state",
	    worker_state_name(w->state), "restarts", (json_int_t)w->restarts, "uptime_ms",
	    (json_int_t)(w->state == WS_READY ? now - w->ready_ms : 0));
	json_t *conf = json_pack("{s:b, s:b, s:b, s:i, s:b, s:i, s:b}", "verified", w->verified,
	    "seccomp", w->seccomp, "netns", w->netns, "landlock_abi", w->landlock_abi,
	    "userns", w->userns, "uid", (int)w->uid, "namespaces", w->pid > 0);

	json_object_set_new(o, "family", json_string(w->family ? w->family->name : ""));
	if (w->agent)
		json_object_set_new(o, "agent", json_string(w->agent));
	if (w->enforced)
		json_object_set_new(conf, "exec_reported", json_string(w->enforced));
	json_object_set_new(o, "confinement", conf);
	json_object_set_new(o, "inflight", json_integer(w->inflight));
	if (w->last_reason[0])
		json_object_set_new(o, "last_reason", json_string(w->last_reason));
	if (w->last_syscall >= 0 && w->last_signal == SIGSYS)
		json_object_set_new(o, "last_syscall", json_integer(w->last_syscall));
	return o;
}

int worker_plan_agent(struct sup *s, const char *agent, const char *tenant);
int worker_plan_family(struct sup *s, const char *family, const char *tenant);

int
worker_plan_family(struct sup *s, const char *family, const char *tenant)
{
	const struct tool_family *f = tool_family_find(family);

	if (f == NULL)
		return ERR_UNKNOWN;
	return worker_new_ids(s, f->kind, f, tenant, NULL) ? 0 : -ENOMEM;
}

int
worker_plan_agent(struct sup *s, const char *agent, const char *tenant)
{
	return worker_new_ids(s, TOOL_KIND_AGENT, NULL, tenant, agent) ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- SIGSYS reports */

/* A seccomp kill is logged by the kernel (audit type 1326, "sig=31 ... syscall=N") with the
 * killed task's global pid. corrald reads /dev/kmsg to name the syscall: the record comes from
 * the kernel, so a worker cannot forge it. Without access to /dev/kmsg the death is still
 * reported as SIGSYS, without the number. */
void
worker_kmsg_open(struct sup *s)
{
	s->kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (s->kmsg_fd < 0)
		return;
	lseek(s->kmsg_fd, 0, SEEK_END);
	s->s_kmsg = (struct src){ SRC_KMSG, NULL };
	sup_watch(s, s->kmsg_fd, &s->s_kmsg);
}

static void
kmsg_seccomp(struct sup *s, const char *line)
{
	const char *p;
	long pid, sig, nr;

	if (strstr(line, "type=1326") == NULL || (p = strstr(line, " pid=")) == NULL ||
	    sscanf(p, " pid=%ld", &pid) != 1 || (p = strstr(line, " sig=")) == NULL ||
	    sscanf(p, " sig=%ld", &sig) != 1 || sig != SIGSYS ||
	    (p = strstr(line, " syscall=")) == NULL || sscanf(p, " syscall=%ld", &nr) != 1)
		return;
	for (size_t i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];
		json_t *rec;

		if (w->pid != (pid_t)pid && w->last_pid != (pid_t)pid)
			continue;
		w->last_syscall = (int)nr;
		if (w->pid != (pid_t)pid) {
			size_t l;

			/* already reaped: complete the reason given then */
			snprintf(w->last_reason, sizeof(w->last_reason), "killed by seccomp (SIGSYS)");
			l = strlen(w->last_reason);
			snprintf(w->last_reason + l, sizeof(w->last_reason) - l, ": syscall %ld (%s)",
			    nr, sbx_syscall_name((int)nr));
		}
		rec = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:s}", "type", "violation",
		    "worker", w->name, "tenant", w->tenant, "event", "seccomp-kill", "pid",
		    (int)pid, "syscall", (json_int_t)nr, "syscall_name",
		    sbx_syscall_name((int)nr));
		sup_audit(s, rec);
		json_decref(rec);
		log_kv(LOG_WARNING, "worker killed by seccomp", "worker", w->name, "tenant",
		    w->tenant, "syscall", sbx_syscall_name((int)nr), NULL);
		return;
	}
}

void
worker_on_kmsg(struct sup *s)
{
	char line[2048];
	ssize_t n;

	/* /dev/kmsg hands out one record per read; EPIPE means records were overwritten. */
	while ((n = read(s->kmsg_fd, line, sizeof(line) - 1)) != 0) {
		if (n < 0) {
			if (errno == EPIPE || errno == EINTR)
				continue;
			return;
		}
		line[n] = '\0';
		kmsg_seccomp(s, line);
	}
}

void worker_free_all(struct sup *s);

/* At exit: every worker is stopped by now; free what is left (sanitizer builds check). */
void
worker_free_all(struct sup *s)
{
	for (size_t i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];

		worker_cleanup(s, w);
		free(w->name);
		free(w->tenant);
		free(w->agent);
		free(w->dir);
		free(w->sock);
		free(w->state_dir);
		free(w->enforced);
		free(w);
	}
	free(s->workers);
	s->workers = NULL;
	s->nworkers = 0;
}
