/* corrald: the privileged supervisor. See docs/ARCHITECTURE.md. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agents/loader.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/log.h"
#include "policy/policy.h"
#include "supervisor/audit.h"
#include "supervisor/ops.h"
#include "supervisor/privd.h"
#include "supervisor/router_int.h"
#include "supervisor/sup.h"

int sup_modules_open(struct sup *s);
void sup_modules_close(struct sup *s);
int sup_reload(struct sup *s);
void worker_free_all(struct sup *s);
void sup_approvals_tick(struct sup *s);

int64_t
sup_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sup_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sup *the_sup;

int
sup_watch(struct sup *s, int fd, struct src *src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void
sup_unwatch(struct sup *s, int fd)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* ---------------------------------------------------------------- agents */

struct agent_slot {
	struct agent_def *def;
	const struct cfg_agent *cfg;
};

static struct agent_slot *agent_slots;
static size_t nagent_slots;

static int
agents_load(struct sup *s, bool report_only)
{
	struct config *c = s->cfg;
	int rc = 0;

	for (size_t i = 0; i < c->nagents; i++) {
		struct agent_load_opts ao = { .missing_tools_warn = c->agents[i].missing_tools_warn,
			.var_names = c->var_names, .var_values = c->var_values, .nvars = c->nvars };
		struct ydoc_errs errs = { 0 };
		struct agent_def *def = NULL;
		int r = 0;

		if (c->agents[i].file)
			r = agent_load_file(c->agents[i].file, &ao, &def, &errs);
		ydoc_errs_print(&errs, stderr);
		ydoc_errs_free(&errs);
		if (r < 0) {
			rc = r;
			continue;
		}
		if (report_only) {
			agent_def_free(def);
			continue;
		}
		agent_slots = reallocarray(agent_slots, nagent_slots + 1, sizeof(*agent_slots));
		if (agent_slots == NULL)
			return -ENOMEM;
		agent_slots[nagent_slots++] = (struct agent_slot){ def, &c->agents[i] };
	}
	return rc;
}

static const char *
slot_name(const struct agent_slot *a)
{
	return a->cfg->name ? a->cfg->name : a->def ? a->def->name : "agent";
}

json_t *
sup_agent_def_json(struct sup *s, const struct worker *w)
{
	for (size_t i = 0; i < nagent_slots; i++) {
		struct agent_slot *a = &agent_slots[i];
		json_t *j;

		if (strcmp(slot_name(a), w->agent) != 0 || strcmp(a->cfg->tenant, w->tenant) != 0)
			continue;
		j = a->def ? agent_def_to_json(a->def) : json_object();
		json_object_set_new(j, "name", json_string(w->agent));
		json_object_set_new(j, "tenant", json_string(w->tenant));
		if (a->cfg->model)
			json_object_set_new(j, "gateway_model", json_string(a->cfg->model));
		return j;
	}
	return json_pack("{s:s, s:s}", "name", w->agent, "tenant", w->tenant);
}

bool
sup_agent_lists(struct sup *s, const struct worker *w, const char *family, const char *op,
    char *why, size_t whylen)
{
	(void)s;	/* the definitions live here, beside the configuration they came from */
	for (size_t i = 0; w && w->agent && i < nagent_slots; i++) {
		const struct agent_slot *a = &agent_slots[i];

		if (strcmp(slot_name(a), w->agent) != 0 || strcmp(a->cfg->tenant, w->tenant) != 0)
			continue;
		if (a->def == NULL)
			return true;
		for (size_t t = 0; t < a->def->ntools; t++) {
			const struct agent_tool *at = &a->def->tools[t];

			if (strcmp(at->family, family) != 0)
				continue;
			for (size_t k = 0; k < at->nops; k++)
				if (strcmp(at->ops[k], op) == 0)
					return true;
		}
		snprintf(why, whylen, "%s.%s is not among the tools of agent %s (%s)", family, op,
		    w->agent, a->def->file ? a->def->file : "its definition");
		return false;
	}
	snprintf(why, whylen, "agent %s is no longer configured", w && w->agent ? w->agent : "?");
	return false;
}

int worker_plan_agent(struct sup *s, const char *agent, const char *tenant);
int worker_plan_family(struct sup *s, const char *family, const char *tenant);
const struct cfg_agent *sup_agent_cfg(struct sup *s, const char *agent, const char *tenant);

const struct cfg_agent *
sup_agent_cfg(struct sup *s, const char *agent, const char *tenant)
{
	for (size_t i = 0; i < nagent_slots; i++)
		if (strcmp(slot_name(&agent_slots[i]), agent) == 0 &&
		    strcmp(agent_slots[i].cfg->tenant, tenant) == 0)
			return agent_slots[i].cfg;
	return NULL;
}

static int
agents_plan(struct sup *s)
{
	for (size_t i = 0; i < nagent_slots; i++) {
		const struct cfg_tenant *t = config_tenant(s->cfg, agent_slots[i].cfg->tenant);
		int r;

		if (worker_agent(s, slot_name(&agent_slots[i]), t->name) != NULL)
			continue;
		if ((r = worker_plan_agent(s, slot_name(&agent_slots[i]), t->name)) < 0)
			return r;
		/* The tenant's model gateway, when one of its agents names a model. */
		if (agent_slots[i].cfg->model && tool_family_find("model") != NULL &&
		    worker_for(s, "model", t->name) == NULL &&
		    (r = worker_plan_family(s, "model", t->name)) < 0)
			return r;
	}
	return 0;
}

/* ---------------------------------------------------------------- binaries */

static char *
find_binary(const struct config *c, const char *name, const char *builddir)
{
	char self[PATH_MAX], *p = NULL, *slash;
	ssize_t n;

	if (asprintf(&p, "%s/%s", c->libexec_dir, name) >= 0 && access(p, X_OK) == 0)
		return p;
	free(p);
	p = NULL;
	/* Running from the build tree: supervisor/corrald -> ../<dir>/<name>. */
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return NULL;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return NULL;
	*slash = '\0';
	if (asprintf(&p, "%s/../%s/%s", self, builddir, name) >= 0 && access(p, X_OK) == 0) {
		char *real = realpath(p, NULL);

		free(p);
		return real;
	}
	free(p);
	return NULL;
}

/* ---------------------------------------------------------------- loop */

static int
setup_signals(struct sup *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	sigdelset(&set, SIGPIPE);
	if ((s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return -errno;
	s->s_sig = (struct src){ SRC_SIGNAL, NULL };
	return sup_watch(s, s->sigfd, &s->s_sig);
}

static void
begin_stop(struct sup *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	s->stop_deadline = sup_now_ms() + s->cfg->drain_ms;
	log_kv(LOG_INFO, "stopping: draining calls", NULL);
	sup_ops_stopping(s);
	if (s->ctl_fd >= 0) {
		sup_unwatch(s, s->ctl_fd);
		close(s->ctl_fd);
		unlink(s->cfg->control_socket);
		s->ctl_fd = -1;
	}
}

static void
on_signal(struct sup *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			begin_stop(s);
			break;
		case SIGHUP:
			if (sup_ops_reload(s) < 0)
				log_kv(LOG_ERR, "reload failed; keeping the old configuration", NULL);
			break;
		case SIGCHLD:
			worker_reap(s);
			break;
		}
	}
}

static bool
all_stopped(const struct sup *s)
{
	for (size_t i = 0; i < s->nworkers; i++)
		if (s->workers[i]->jail_pid > 0)
			return false;
	return true;
}

static void
stop_tick(struct sup *s, int64_t now)
{
	bool drained = router_inflight(s) == 0 || now >= s->stop_deadline;

	if (!drained)
		return;
	for (size_t i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];

		if (w->state == WS_READY || w->state == WS_STARTING || w->state == WS_BACKOFF ||
		    w->state == WS_FAILED || w->state == WS_QUEUED || w->state == WS_UIDWAIT)
			worker_event(s, w, WE_STOP);
	}
}

static int
loop(struct sup *s)
{
	struct epoll_event evs[64];

	for (;;) {
		int64_t now = sup_now_ms(), next = now + 200;
		int n, timeout;

		if (s->audit && audit_next_deadline(s->audit) >= 0) {
			int64_t ad = (int64_t)audit_next_deadline(s->audit);

			if (ad < next - now)
				next = now + ad;
		}
		if (router_next_deadline(s) < next)
			next = router_next_deadline(s);
		if (worker_next_deadline(s) < next)	/* starts, restarts, rate holds */
			next = worker_next_deadline(s);
		timeout = next > now ? (int)(next - now) : 0;
		n = epoll_wait(s->epfd, evs, 64, timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			struct src *src = evs[i].data.ptr;

			switch (src->type) {
			case SRC_SIGNAL:
				on_signal(s);
				break;
			case SRC_WORKER:
				worker_on_conn(s, src->obj);
				break;
			case SRC_STATUS:
				worker_on_status(s, src->obj);
				break;
			case SRC_BROKER:
				worker_on_broker(s, src->obj);
				break;
			case SRC_STDERR:
				worker_on_stderr(s, src->obj);
				break;
			case SRC_CTL_LISTEN:
				ctl_on_accept(s);
				break;
			case SRC_CTL_CLIENT:
				ctl_on_client(s, src->obj);
				break;
			case SRC_KMSG:
				worker_on_kmsg(s);
				break;
			case SRC_PRIVD:
				worker_on_privd(s);
				if (s->privd_lost && !s->stopping) {
					log_kv(LOG_ERR, "corral-privd went away; stopping", NULL);
					begin_stop(s);
				}
				break;
			default:
				break;
			}
		}
		now = sup_now_ms();
		worker_tick(s, now);
		router_tick(s, now);
		sup_ops_tick(s, now);
		if (s->audit)
			audit_tick(s->audit, audit_now_ms());
		sup_approvals_tick(s);
		if (s->stopping) {
			stop_tick(s, now);
			if (all_stopped(s) && router_inflight(s) == 0)
				return 0;
		}
	}
}

/* ---------------------------------------------------------------- reload */

/* SIGHUP / corralctl reload: read the file again; on any error keep the running config.
 * Workers whose family/tenant (or agent) vanished are stopped, new ones started; policy,
 * credentials and the audit settings are reopened. */
int
sup_reload(struct sup *s)
{
	struct ydoc_errs errs = { 0 };
	struct config *nc = NULL, *old = s->cfg;
	int r;

	if ((r = config_load(s->cfg_path, &nc, &errs)) < 0) {
		ydoc_errs_print(&errs, stderr);
		ydoc_errs_free(&errs);
		return r;
	}
	ydoc_errs_free(&errs);
	sup_modules_close(s);
	s->cfg = nc;
	if ((r = sup_modules_open(s)) < 0) {
		/* The new file is broken in a way config_load could not see (a credential file):
		 * go back to the old one. */
		sup_modules_close(s);
		s->cfg = old;
		config_free(nc);
		if (sup_modules_open(s) < 0)
			log_kv(LOG_CRIT, "cannot reopen the previous configuration", NULL);
		return r;
	}
	if ((old->privd_socket == NULL) != (nc->privd_socket == NULL) || (nc->privd_socket &&
	    strcmp(old->privd_socket, nc->privd_socket) != 0))
		log_kv(LOG_WARNING, "privd: changed; it takes effect when corrald restarts", NULL);
	for (size_t i = 0; i < s->nworkers; i++)
		s->workers[i]->present = false;
	for (size_t i = 0; i < nagent_slots; i++)
		agent_def_free(agent_slots[i].def);
	free(agent_slots);
	agent_slots = NULL;
	nagent_slots = 0;
	agents_load(s, false);
	{
		size_t before = s->nworkers;

		worker_plan(s);
		agents_plan(s);
		for (size_t i = 0; i < s->nworkers; i++) {
			struct worker *w = s->workers[i];
			bool keep = i >= before;

			if (!keep && w->family) {
				const struct cfg_endpoint *ep = config_endpoint(nc, w->family->name,
				    w->tenant, NULL);
				const struct cfg_tenant *t = config_tenant(nc, w->tenant);

				keep = ep != NULL || nc->shared_isolation;
				for (size_t k = 0; t && !keep && k < t->nfamilies; k++)
					keep = strcmp(t->families[k], w->family->name) == 0;
			} else if (!keep) {
				for (size_t k = 0; k < nagent_slots && !keep; k++)
					keep = strcmp(slot_name(&agent_slots[k]), w->agent) == 0 &&
					    strcmp(agent_slots[k].cfg->tenant, w->tenant) == 0;
			}
			w->present = keep;
			if (!keep)
				worker_event(s, w, WE_STOP);
			else if (w->state == WS_STOPPED)
				worker_revive(s, w);
		}
	}
	config_free(old);
	{
		json_t *rec = json_pack("{s:s, s:s}", "type", "reload", "config", nc->path);

		sup_audit(s, rec);
		json_decref(rec);
	}
	log_kv(LOG_INFO, "configuration reloaded", NULL);
	return 0;
}

/* ---------------------------------------------------------------- unclean stops */

/* <state_dir>/corrald.running exists while corrald runs (it holds the pid). Found at start,
 * it says the previous corrald did not stop cleanly (killed, crashed, power lost): the audit
 * log gets a recovery record naming it, after whatever audit_open() itself recovered. */
static void
running_marker_path(const struct sup *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s/corrald.running", s->cfg->state_dir);
}

static void
unclean_check(struct sup *s)
{
	char path[4096], old[32] = "";
	FILE *f;

	running_marker_path(s, path, sizeof(path));
	if ((f = fopen(path, "re")) != NULL) {
		json_t *rec;

		if (fgets(old, sizeof(old), f) == NULL)
			old[0] = '\0';
		old[strcspn(old, "\n")] = '\0';
		fclose(f);
		rec = json_pack("{s:s, s:s, s:s}", "type", "recovery", "event", "unclean-stop",
		    "previous_pid", old);
		sup_audit(s, rec);
		json_decref(rec);
		log_kv(LOG_WARNING, "the previous corrald did not stop cleanly", "previous_pid", old,
		    NULL);
	}
	if ((f = fopen(path, "we")) != NULL) {
		fprintf(f, "%d\n", (int)getpid());
		fflush(f);
		fsync(fileno(f));
		fclose(f);
	}
}

static void
running_marker_remove(struct sup *s)
{
	char path[4096];

	running_marker_path(s, path, sizeof(path));
	unlink(path);
}

/* ---------------------------------------------------------------- main */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: corrald -c FILE [--check] [--log-level LEVEL] [--log-json]\n"
	    "\n"
	    "The corral supervisor: spawns the confined tool and agent workers of FILE,\n"
	    "decides every call by policy, injects credentials and audits it. As root it\n"
	    "spawns the workers' jails itself; with privd: SOCKET in FILE it runs as an\n"
	    "unprivileged user and corral-privd(8) spawns them (the split install).\n"
	    "  -c, --config FILE   configuration (corral.yaml(5))\n"
	    "      --check         validate FILE (and the policies and agents it names), print\n"
	    "                      every error as file:line:col: message, exit 0 or 2\n"
	    "      --log-level L   debug, info, notice, warning, err (default info)\n"
	    "      --log-json      log JSON lines instead of logfmt\n"
	    "Runs in the foreground; SIGTERM drains and stops, SIGHUP reloads.\n");
}

static int
check_only(struct sup *s)
{
	struct ydoc_errs errs = { 0 };
	int rc = 0;

	if (s->cfg->npolicies > 0) {
		struct pol_set *ps = NULL;

		if (pol_set_load((const char *const *)s->cfg->policies, s->cfg->npolicies, NULL, &ps,
		    &errs) < 0)
			rc = 2;
		pol_set_free(ps);
		ydoc_errs_print(&errs, stderr);
		ydoc_errs_free(&errs);
	}
	if (agents_load(s, true) < 0)
		rc = 2;
	if (rc == 0)
		printf("%s: OK\n", s->cfg->path);
	return rc;
}

/* The split install: corral-privd spawns our jails. It starts first (the units order them);
 * a few retries cover a monitor that is still binding its socket. */
static int
privd_open(struct sup *s)
{
	int r = -ENOENT;

	for (int i = 0; i < 50; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if ((r = privc_connect(s->cfg->privd_socket, &s->privd)) == 0)
			break;
		if (r != -ENOENT && r != -ECONNREFUSED)
			break;
		nanosleep(&ts, NULL);
	}
	if (r < 0) {
		log_kv(LOG_ERR, "cannot reach corral-privd", "socket", s->cfg->privd_socket,
		    "error", err_str(r), NULL);
		return r;
	}
	s->s_privd = (struct src){ SRC_PRIVD, NULL };
	if ((r = sup_watch(s, privc_fd(s->privd), &s->s_privd)) < 0)
		return r;
	log_kv(LOG_INFO, "jails through corral-privd", "socket", s->cfg->privd_socket, NULL);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "log-json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct sup s = { .ctl_fd = -1, .sigfd = -1, .kmsg_fd = -1 };
	struct ydoc_errs errs = { 0 };
	const char *path = NULL;
	bool check = false, json = false;
	int c, level = LOG_INFO, r;
	unsigned stuck, swept;

	while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'l':
			level = log_level_parse(optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		usage(stderr);
		return 2;
	}
	log_init("corrald", level, json);
	if ((r = config_load(path, &s.cfg, &errs)) < 0) {
		ydoc_errs_print(&errs, stderr);
		if (errs.n == 0)
			fprintf(stderr, "%s: %s\n", path, err_str(r));
		ydoc_errs_free(&errs);
		return 2;
	}
	ydoc_errs_print(&errs, stderr);
	ydoc_errs_free(&errs);
	s.cfg_path = path;
	if (check) {
		r = check_only(&s);
		config_free(s.cfg);	/* LeakSanitizer builds check this path too */
		return r;
	}
	the_sup = &s;
	s.started_ms = sup_now_ms();
	s.jail_path = find_binary(s.cfg, "corral-jail", "supervisor");
	s.worker_path = find_binary(s.cfg, "corral-worker", "workers");
	s.agent_path = find_binary(s.cfg, "corral-agent", "agents");
	if (!s.jail_path || !s.worker_path || !s.agent_path) {
		log_msg(LOG_ERR, "corral-jail, corral-worker or corral-agent not found in %s",
		    s.cfg->libexec_dir);
		return 1;
	}
	umask(077);
	/* Credentials are locked and kept out of dumps (cred.c), but requests carry injected
	 * copies for a moment: no core file at all, and no ptrace by another process of our uid
	 * (the split install's corral user). */
	{
		const struct rlimit none = { 0, 0 };

		(void)setrlimit(RLIMIT_CORE, &none);
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	}
	if (mkdir(s.cfg->runtime_dir, 0711) < 0 && errno != EEXIST) {
		log_msg(LOG_ERR, "runtime dir %s: %s", s.cfg->runtime_dir, strerror(errno));
		return 1;
	}
	/* Traverse-only for others: the control socket inside is reachable (its peer uid decides
	 * the role); everything else in it is private to root or to one worker. */
	chmod(s.cfg->runtime_dir, 0711);
	if ((s.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 || setup_signals(&s) < 0)
		return 1;
	if (sup_modules_open(&s) < 0 || agents_load(&s, false) < 0)
		return 1;
	if (s.cfg->privd_socket && privd_open(&s) < 0)
		return 1;
	/* Split: corral-privd walks down to the agents' state directories with no capability to
	 * override permissions; search-only for others, the files inside stay private. */
	if (s.privd && (mkdir(s.cfg->state_dir, 0711) < 0 && errno != EEXIST))
		log_kv(LOG_WARNING, "state_dir", "path", s.cfg->state_dir, "error", strerror(errno),
		    NULL);
	if (s.privd && chmod(s.cfg->state_dir, 0711) < 0)
		log_kv(LOG_WARNING, "state_dir: cannot make it searchable for corral-privd", "path",
		    s.cfg->state_dir, "error", strerror(errno), NULL);
	if (!s.privd)
		worker_kmsg_open(&s);
	if ((r = worker_plan(&s)) < 0 || (r = agents_plan(&s)) < 0 || (r = ctl_listen(&s)) < 0) {
		log_msg(LOG_ERR, "start: %s", err_str(r));
		return 1;
	}
	unclean_check(&s);
	if ((swept = worker_sweep_dirs(&s)) > 0) {
		char n[16];

		snprintf(n, sizeof(n), "%u", swept);
		log_kv(LOG_INFO, "removed the worker directories of a previous run", "count", n, NULL);
	}
	{
		json_t *rec = json_pack("{s:s, s:s, s:i}", "type", "lifecycle", "event", "start",
		    "pid", (int)getpid());

		sup_audit(&s, rec);
		json_decref(rec);
	}
	for (size_t i = 0; i < s.nworkers; i++)
		worker_event(&s, s.workers[i], WE_SPAWNED);
	log_kv(LOG_INFO, "corrald ready", "config", path, "control", s.cfg->control_socket, NULL);
	sup_ops_ready(&s);
	r = loop(&s);
	{
		json_t *rec = json_pack("{s:s, s:s}", "type", "lifecycle", "event", "stop");

		sup_audit(&s, rec);
		json_decref(rec);
	}
	ctl_close_all(&s);
	sup_ops_stopped(&s);
	running_marker_remove(&s);
	sup_modules_close(&s);
	worker_free_all(&s);
	if ((stuck = ipc_close_drain(LIM_CLOSE_DRAIN_MS)) > 0) {
		char n[16];

		snprintf(n, sizeof(n), "%u", stuck);
		log_kv(LOG_WARNING, "worker channels still closing at exit", "count", n, NULL);
	}
	for (size_t i = 0; i < nagent_slots; i++)
		agent_def_free(agent_slots[i].def);
	free(agent_slots);
	privc_free(s.privd);
	free(s.jail_path);
	free(s.worker_path);
	free(s.agent_path);
	config_free(s.cfg);
	log_kv(LOG_INFO, "corrald stopped", NULL);
	return r < 0 || s.privd_lost ? 1 : 0;
}
