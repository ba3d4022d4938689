/* corrald internals: the supervisor's state, shared by its modules (one file per role):
 *   corrald.c  main, signals, the epoll loop, reload
 *   worker.c   spawning through corral-jail, verification, lifecycle (state x event table),
 *              the egress broker
 *   router.c   calls: validate -> decide -> inject -> audit -> dispatch -> result
 *   ctl.c      the control socket for corralctl (peer uid -> role)
 * The loop is single-threaded: no locks, every handler runs to completion.
 */
#ifndef CORRAL_SUPERVISOR_SUP_H
#define CORRAL_SUPERVISOR_SUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "ipc/conn.h"
#include "supervisor/config.h"
#include "tools/tool.h"

struct privc;

struct sup;
struct worker;
struct ctl_client;

enum src_type { SRC_SIGNAL, SRC_TIMER, SRC_WORKER, SRC_STATUS, SRC_BROKER, SRC_STDERR,
	SRC_CTL_LISTEN, SRC_CTL_CLIENT, SRC_KMSG, SRC_PRIVD };

/* What an epoll event points at. */
struct src {
	enum src_type type;
	void *obj;
};

/* WS_QUEUED: waiting for one of the LIM_SPAWN_INFLIGHT start slots (worker.c). */
enum wstate { WS_STARTING, WS_READY, WS_STOPPING, WS_BACKOFF, WS_FAILED, WS_STOPPED, WS_QUEUED,
	WS_UIDWAIT, WS_MAX };
enum wevent { WE_SPAWNED, WE_HELLO, WE_BAD_HELLO, WE_EXIT, WE_TIMER, WE_STOP, WE_VIOLATION,
	WE_MAX };

struct worker {
	char *name;			/* "echo@payments", "agent:guardian@payments" */
	enum tool_kind kind;
	const struct tool_family *family;	/* NULL for agents */
	char *tenant;
	char *agent;			/* agent name for agent workers */
	uid_t uid;
	gid_t gid;
	enum wstate state;
	pid_t jail_pid;			/* our child (corral-jail's reaper) */
	pid_t pid;			/* the worker itself (global pid), from the jail */
	pid_t last_pid;			/* pid of the previous incarnation (SIGSYS reports) */
	struct ipc_conn *conn;
	unsigned dir_gen;		/* incarnations so far: names <runtime_dir>/w/NAME.N */
	struct src s_conn, s_status, s_broker, s_stderr;
	int status_fd, broker_fd, stderr_fd;
	char status_buf[256];
	size_t status_len;
	char err_buf[1024];
	size_t err_len;
	char *dir, *sock;
	char *state_dir;		/* agents: their private writable directory */
	char *enforced;			/* exec: what the worker reports it pins and proxies */
	int64_t started_ms, ready_ms, deadline_ms, backoff_ms;
	uint32_t restarts;
	int64_t deaths[8];		/* times of recent deaths (ring) */
	unsigned ndeaths;
	int last_exit, last_signal, last_syscall;
	char last_reason[160];
	unsigned inflight;
	bool verified;
	int landlock_abi;		/* reported by the jail */
	bool seccomp, netns, userns;
	bool present;			/* still in the config (reload) */
	bool proto_violation;
	bool hello_pending;		/* HELLO came before the jail's pid line */
	uint64_t queue_seq;		/* WS_QUEUED: order of arrival in the start queue */
	int64_t hold_until_ms;		/* its channel is not read before this (rate hold) */
	bool held;			/* its channel is out of the epoll set until then */
};

struct sup {
	struct config *cfg;
	const char *cfg_path;
	int epfd, sigfd;
	bool stopping;
	int64_t stop_deadline;
	struct worker **workers;
	size_t nworkers;
	struct src s_sig, s_ctl;
	int ctl_fd;
	int kmsg_fd;			/* /dev/kmsg: the kernel's seccomp kill records */
	struct src s_kmsg;
	struct ctl_client *clients;
	uint64_t next_id;
	struct call *calls;		/* in flight */
	int64_t started_ms;
	char *jail_path, *worker_path, *agent_path;
	struct privc *privd;		/* split install: corral-privd spawns and kills jails */
	struct src s_privd;
	bool privd_lost;		/* its channel closed: every jail died with it */
	/* optional modules, NULL when not configured */
	void *policy;			/* struct pol_set * */
	void *rates;			/* struct pol_rates * */
	void *audit;			/* struct audit * */
	void *creds;			/* struct cred_store * */
	void *approvals;		/* struct approval_store * */
	uint64_t calls_total, calls_denied;
};

int64_t sup_now_ms(void);		/* CLOCK_MONOTONIC */
int64_t sup_wall_ms(void);		/* CLOCK_REALTIME */
int sup_watch(struct sup *s, int fd, struct src *src);
void sup_unwatch(struct sup *s, int fd);

/* worker.c */
int worker_plan(struct sup *s);		/* create worker structs from the config */
void worker_event(struct sup *s, struct worker *w, enum wevent ev);
void worker_revive(struct sup *s, struct worker *w);	/* a stopped worker, ids again */
void worker_on_conn(struct sup *s, struct worker *w);
void worker_on_status(struct sup *s, struct worker *w);
void worker_on_broker(struct sup *s, struct worker *w);	/* egress.c */
void worker_close_fd(struct sup *s, int *fd);
void worker_violation(struct sup *s, struct worker *w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void worker_on_stderr(struct sup *s, struct worker *w);
void worker_reap(struct sup *s);
void worker_on_privd(struct sup *s);	/* jail exits corral-privd reports */
void worker_kmsg_open(struct sup *s);
/* Remove the worker directories (<runtime_dir>/w/NAME.N) a previous corrald left behind; call
 * once at start, when this corrald owns runtime_dir and has no worker yet. Returns how many. */
unsigned worker_sweep_dirs(struct sup *s);
void worker_on_kmsg(struct sup *s);
void worker_tick(struct sup *s, int64_t now);
int64_t worker_next_deadline(const struct sup *s);	/* INT64_MAX when none */
void worker_hold(struct sup *s, struct worker *w, int64_t until_ms);
void worker_kill(struct sup *s, struct worker *w, const char *why);
struct worker *worker_for(struct sup *s, const char *family, const char *tenant);
struct worker *worker_agent(struct sup *s, const char *agent, const char *tenant);
const char *worker_state_name(enum wstate st);
json_t *worker_status_json(const struct worker *w, int64_t now);
int worker_send(struct sup *s, struct worker *w, const struct msg *m);

/* router.c */
enum origin_kind { ORIGIN_CTL, ORIGIN_AGENT };
struct origin {
	enum origin_kind kind;
	struct ctl_client *ctl;		/* ORIGIN_CTL */
	struct worker *agent;		/* ORIGIN_AGENT */
	uint64_t id;			/* the caller's id */
	const char *tenant;
	char principal[160];		/* "agent:NAME", "operator:NAME", "admin:NAME" */
	bool admin;
};
void router_call(struct sup *s, const struct origin *o, struct msg *m);
/* Does the agent running in w list family.op among its tools? True when it has no definition
 * file to hold it to (an external program configured without one). False, with the reason,
 * when the file does not list it or the agent is no longer configured. corrald.c. */
bool sup_agent_lists(struct sup *s, const struct worker *w, const char *family, const char *op,
    char *why, size_t whylen);
void router_from_worker(struct sup *s, struct worker *w, struct msg *m);
void router_worker_gone(struct sup *s, struct worker *w, const char *why);
void router_origin_gone(struct sup *s, const void *origin_obj);
void router_tick(struct sup *s, int64_t now);
size_t router_inflight(const struct sup *s);
int64_t router_next_deadline(const struct sup *s);

/* ctl.c */
int ctl_listen(struct sup *s);
void ctl_on_accept(struct sup *s);
void ctl_on_client(struct sup *s, struct ctl_client *c);
void ctl_reply(struct sup *s, struct ctl_client *c, const struct msg *m);
void ctl_close_all(struct sup *s);

/* audit hooks (router.c): record a JSON object; ERR_AUDIT when it cannot be written */
int sup_audit(struct sup *s, json_t *rec);

#endif
