/* The control socket: corralctl <-> corrald. AF_UNIX stream, each frame a 4-byte big-endian
 * length and one msgpack message (ipc/msg.h). The peer's uid (SO_PEERCRED) decides its role:
 * admin (uid 0, control.admins), tenant operator (control.operators: calls as operator:NAME
 * within its tenant) or viewer (status only). Commands are CALLs to the pseudo-tool "corral".
 *
 * No client can hold up corrald's one thread: answers wait in the client's own queue and go
 * out as its socket takes them (a client that lets LIM_CTL_OUTQ pile up is dropped), one read
 * of at most 64 KiB is served per turn, and a non-admin uid holds at most LIM_CTL_CLIENTS_UID
 * connections (LIM_CTL_CLIENTS_MAX in all; admins are not counted, so they always get in). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "ipc/err.h"
#include "ipc/json.h"
#include "ipc/limits.h"
#include "ipc/log.h"
#include "supervisor/approval.h"
#include "supervisor/poltools.h"
#include "supervisor/ops.h"
#include "supervisor/router_int.h"
#include "supervisor/sup.h"

struct ctl_client {
	int fd;
	struct src src;
	uid_t uid;
	pid_t pid;
	enum cfg_role_kind role;
	const char *tenant;		/* operators/viewers */
	char principal[160];
	uint8_t *buf;
	size_t len, cap;
	uint8_t *out;			/* answers not yet taken by the socket: [off, olen) */
	size_t off, olen, ocap;
	bool want_out;			/* EPOLLOUT asked for */
	bool doomed;			/* dropped; closed when its own event comes */
	struct ctl_client *next;
};

int
ctl_listen(struct sup *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = s->cfg->control_socket;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0 ||
	    chmod(path, 0666) < 0) {	/* who may do what is decided per peer uid */
		int r = -errno;

		close(fd);
		return r;
	}
	s->ctl_fd = fd;
	s->s_ctl = (struct src){ SRC_CTL_LISTEN, NULL };
	return sup_watch(s, fd, &s->s_ctl);
}

static bool
in_groups(uid_t uid, char *const *groups, size_t n)
{
	struct passwd *pw;
	gid_t gl[64];
	int ng = 64;

	if (n == 0)	/* no lookup (NSS, on the loop's thread) for a role of uids only */
		return false;
	if ((pw = getpwuid(uid)) == NULL || getgrouplist(pw->pw_name, pw->pw_gid, gl, &ng) < 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		struct group *g = getgrnam(groups[i]);

		for (int k = 0; g && k < ng; k++)
			if (gl[k] == g->gr_gid)
				return true;
	}
	return false;
}

/* 0 = known peer, role set; -EPERM = no role. */
static int
classify(struct sup *s, struct ctl_client *c)
{
	struct config *cfg = s->cfg;
	struct passwd *pw = getpwuid(c->uid);

	if (c->uid == 0 || c->uid == geteuid()) {
		c->role = ROLE_ADMIN;
		snprintf(c->principal, sizeof(c->principal), "operator:%s",
		    pw ? pw->pw_name : "root");
		return 0;
	}
	for (size_t i = 0; i < cfg->nroles; i++) {
		struct cfg_role *r = &cfg->roles[i];
		bool match = in_groups(c->uid, r->groups, r->ngroups);

		for (size_t k = 0; k < r->nuids && !match; k++)
			match = r->uids[k] == c->uid;
		if (!match)
			continue;
		c->role = r->kind;
		c->tenant = r->tenant;
		snprintf(c->principal, sizeof(c->principal), "operator:%s",
		    r->name ? r->name : pw ? pw->pw_name : "unknown");
		return 0;
	}
	return -EPERM;
}

/* Room for one more connection of c's uid? Admins always. */
static bool
room_for(const struct sup *s, const struct ctl_client *c)
{
	size_t all = 0, mine = 0;

	if (c->role == ROLE_ADMIN)
		return true;
	for (const struct ctl_client *o = s->clients; o != NULL; o = o->next) {
		if (o->role == ROLE_ADMIN || o->doomed)
			continue;
		all++;
		mine += o->uid == c->uid;
	}
	return all < LIM_CTL_CLIENTS_MAX && mine < LIM_CTL_CLIENTS_UID;
}

void
ctl_on_accept(struct sup *s)
{
	for (int i = 0; i < 16; i++) {
		struct ctl_client *c;
		struct ucred cr;
		socklen_t sl = sizeof(cr);
		int fd = accept4(s->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0 ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cr.uid;
		c->pid = cr.pid;
		if (classify(s, c) < 0) {
			log_kv(LOG_NOTICE, "control peer refused: no role", NULL);
			close(fd);
			free(c);
			continue;
		}
		if (!room_for(s, c)) {
			char uid[16];

			snprintf(uid, sizeof(uid), "%u", (unsigned)c->uid);
			log_kv(LOG_WARNING, "control peer refused: too many connections", "uid", uid,
			    "principal", c->principal, NULL);
			close(fd);
			free(c);
			continue;
		}
		c->src = (struct src){ SRC_CTL_CLIENT, c };
		c->next = s->clients;
		s->clients = c;
		sup_watch(s, fd, &c->src);
	}
}

static void
client_close(struct sup *s, struct ctl_client *c)
{
	for (struct ctl_client **pp = &s->clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	router_origin_gone(s, c);
	sup_unwatch(s, c->fd);
	close(c->fd);
	free(c->buf);
	free(c->out);
	free(c);
}

/* Stop serving c. It is not freed here: its event may still wait in this turn's batch. The
 * shutdown makes its fd readable (EOF), and its own handler closes it. */
static void
client_doom(struct ctl_client *c, const char *why)
{
	if (c->doomed)
		return;
	c->doomed = true;
	shutdown(c->fd, SHUT_RDWR);
	log_kv(LOG_NOTICE, why, "principal", c->principal, NULL);
}

static void
want_out(struct sup *s, struct ctl_client *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = &c->src };

	if (c->want_out != on && epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = on;
}

/* Hand the socket what it takes now; ask for EPOLLOUT while anything is left. */
static void
flush_out(struct sup *s, struct ctl_client *c)
{
	while (c->off < c->olen && !c->doomed) {
		ssize_t n = send(c->fd, c->out + c->off, c->olen - c->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0)
			c->off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else
			client_doom(c, "control client gone while answers were waiting");
	}
	if (c->off == c->olen)
		c->off = c->olen = 0;
	want_out(s, c, c->olen > 0 && !c->doomed);
}

void
ctl_close_all(struct sup *s)
{
	while (s->clients)
		client_close(s, s->clients);
	if (s->ctl_fd >= 0) {
		sup_unwatch(s, s->ctl_fd);
		close(s->ctl_fd);
		unlink(s->cfg->control_socket);
		s->ctl_fd = -1;
	}
}

/* Queue the answer behind the others and send what the socket takes. Never waits: a client
 * that lets LIM_CTL_OUTQ pile up unread is dropped, whatever it asked. */
void
ctl_reply(struct sup *s, struct ctl_client *c, const struct msg *m)
{
	uint8_t *buf = NULL;
	size_t len, need;
	uint32_t be;

	if (c == NULL || c->doomed || msg_encode(m, &buf, &len) < 0)
		return;
	need = c->olen - c->off + 4 + len;
	if (need > LIM_CTL_OUTQ) {
		client_doom(c, "control client not reading its answers; dropped");
		free(buf);
		return;
	}
	if (c->off > 0) {	/* what was sent goes; the rest moves to the front */
		memmove(c->out, c->out + c->off, c->olen - c->off);
		c->olen -= c->off;
		c->off = 0;
	}
	if (c->olen + 4 + len > c->ocap) {
		size_t ncap = c->ocap ? c->ocap : 4096;
		uint8_t *nb;

		while (ncap < c->olen + 4 + len)
			ncap *= 2;
		if ((nb = realloc(c->out, ncap)) == NULL) {
			client_doom(c, "control client dropped: no memory for its answer");
			free(buf);
			return;
		}
		c->out = nb;
		c->ocap = ncap;
	}
	be = htonl((uint32_t)len);
	memcpy(c->out + c->olen, &be, 4);
	memcpy(c->out + c->olen + 4, buf, len);
	c->olen += 4 + len;
	free(buf);
	flush_out(s, c);
}

/* ---------------------------------------------------------------- commands */

static void
answer_json(struct sup *s, struct ctl_client *c, uint64_t id, json_t *v)
{
	struct msg m = { .type = MSG_RESULT, .id = id };

	m.result = json_dumps(v, JSON_COMPACT);
	if (m.result)
		ctl_reply(s, c, &m);
	free(m.result);
	json_decref(v);
}

static void
answer_err(struct sup *s, struct ctl_client *c, uint64_t id, int code, const char *text)
{
	struct msg m = { .type = MSG_ERROR, .id = id, .code = code };

	m.text = (char *)(text ? text : err_str(code));
	ctl_reply(s, c, &m);
}

static json_t *
status_json(struct sup *s, const struct ctl_client *c)
{
	int64_t now = sup_now_ms();
	json_t *ws = json_array();

	for (size_t i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];

		if (c->role != ROLE_ADMIN && (c->tenant == NULL || strcmp(c->tenant, w->tenant) != 0))
			continue;
		json_array_append_new(ws, worker_status_json(w, now));
	}
	/* who spawns the jails: corrald itself (as root, or unprivileged with user namespaces)
	 * or corral-privd (the split install) */
	return json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:o, s:b, s:b, s:s, s:I}", "version",
	    CORRAL_VERSION, "pid", (int)getpid(), "uptime_ms", (json_int_t)(now - s->started_ms),
	    "calls", (json_int_t)s->calls_total, "denied", (json_int_t)s->calls_denied,
	    "inflight", (json_int_t)router_inflight(s), "workers", ws, "policy",
	    s->policy != NULL, "audit", s->audit != NULL, "jails",
	    s->privd ? "corral-privd" : "corrald", "uid", (json_int_t)geteuid());
}

int sup_reload(struct sup *s);
json_t *sup_agents_json(struct sup *s, const char *tenant);
json_t *sup_approvals_list(struct sup *s, const char *tenant, bool pending_only);
int sup_approval_vote(struct sup *s, const char *tenant, const char *id,
    const struct approval_identity *who, bool approve, const char *reason, json_t **out);

/* The approver's identity, from the kernel's peer uid: user name and group names. */
static void
vote(struct sup *s, struct ctl_client *c, uint64_t id, json_t *args, bool approve)
{
	const char *aid = json_string_value(json_object_get(args, "id"));
	const char *why = json_string_value(json_object_get(args, "reason"));
	struct passwd *pw = getpwuid(c->uid);
	struct approval_identity who = { .uid = c->uid };
	char user[64] = "", *gnames[64];
	gid_t gl[64];
	int ng = 64, r;
	json_t *out = NULL;

	if (aid == NULL) {
		answer_err(s, c, id, ERR_SCHEMA, "approve/deny needs an approval id");
		return;
	}
	if (pw != NULL) {
		snprintf(user, sizeof(user), "%s", pw->pw_name);
		who.user = user;
		if (getgrouplist(pw->pw_name, pw->pw_gid, gl, &ng) < 0)
			ng = 0;
	} else {
		ng = 0;
	}
	for (int i = 0; i < ng; i++) {
		struct group *g = getgrgid(gl[i]);

		gnames[i] = strdup(g ? g->gr_name : "");
	}
	who.groups = (const char *const *)gnames;
	who.ngroups = (size_t)ng;
	r = sup_approval_vote(s, c->role == ROLE_ADMIN ? NULL : c->tenant, aid, &who, approve, why,
	    &out);
	for (int i = 0; i < ng; i++)
		free(gnames[i]);
	if (r < 0)
		answer_err(s, c, id, r, r == ERR_DENIED ? "you are not one of its approvers" :
		    r == -EALREADY ? "you have voted on it already" :
		    r == -ESTALE ? "it is no longer pending" : NULL);
	else
		answer_json(s, c, id, out);
}

/* corral.policy_tools: who this peer is and what it could be allowed (the MCP adapter checks
 * its --principal against the answer and lists the tools). Admins may name a tenant. */
static void
policy_tools(struct sup *s, struct ctl_client *c, uint64_t id, json_t *args)
{
	static const char *const roles[] = { "admin", "operator", "viewer" };
	const char *want = json_string_value(json_object_get(args, "tenant"));
	const char *tenant = c->tenant;
	json_t *j;

	if (want && (c->role != ROLE_ADMIN ? tenant == NULL || strcmp(want, tenant) != 0 :
	    config_tenant(s->cfg, want) == NULL)) {
		answer_err(s, c, id, c->role == ROLE_ADMIN ? ERR_NOTFOUND : ERR_DENIED,
		    c->role == ROLE_ADMIN ? "no such tenant" : "not your tenant");
		return;
	}
	if (c->role == ROLE_ADMIN)
		tenant = want ? config_tenant(s->cfg, want)->name : s->cfg->ntenants ?
		    s->cfg->tenants[0].name : NULL;
	j = sup_policy_tools(s, tenant, c->principal, c->role == ROLE_ADMIN);
	if (j && c->role == ROLE_VIEWER)
		json_array_clear(json_object_get(j, "tools"));	/* viewers cannot call */
	if (j)
		json_object_set_new(j, "role", json_string(roles[c->role]));
	if (j)
		answer_json(s, c, id, j);
	else
		answer_err(s, c, id, -ENOMEM, NULL);
}

static void
command(struct sup *s, struct ctl_client *c, struct msg *m)
{
	json_t *args = NULL;
	char err[256];

	if (ipc_json_parse(m->args, strlen(m->args), LIM_ARGS_MAX, &args, err, sizeof(err)) < 0) {
		answer_err(s, c, m->id, ERR_SCHEMA, err);
		return;
	}
	if (strcmp(m->op, "status") == 0 || strcmp(m->op, "ping") == 0) {
		answer_json(s, c, m->id, status_json(s, c));
	} else if (strcmp(m->op, "run") == 0 && c->role != ROLE_VIEWER) {
		struct origin o = { .kind = ORIGIN_CTL, .ctl = c, .id = m->id,
			.tenant = c->tenant, .admin = c->role == ROLE_ADMIN };
		const char *agent = json_string_value(json_object_get(args, "agent"));
		const char *input = json_string_value(json_object_get(args, "input"));
		int r;

		snprintf(o.principal, sizeof(o.principal), "%s", c->principal);
		if (agent == NULL || input == NULL)
			answer_err(s, c, m->id, ERR_SCHEMA, "run needs agent and input");
		else if ((r = sup_run_start(s, &o, agent, input)) < 0)
			answer_err(s, c, m->id, r, r == ERR_NOTFOUND ? "no such agent" : NULL);
	} else if (strcmp(m->op, "agents") == 0) {
		answer_json(s, c, m->id, sup_agents_json(s, c->role == ROLE_ADMIN ? NULL : c->tenant));
	} else if (strcmp(m->op, "policy_tools") == 0) {
		policy_tools(s, c, m->id, args);
	} else if (strcmp(m->op, "approvals") == 0) {
		answer_json(s, c, m->id, sup_approvals_list(s, c->role == ROLE_ADMIN ? NULL :
		    c->tenant, json_is_true(json_object_get(args, "pending"))));
	} else if ((strcmp(m->op, "approve") == 0 || strcmp(m->op, "deny") == 0) &&
	    c->role != ROLE_VIEWER) {
		vote(s, c, m->id, args, strcmp(m->op, "approve") == 0);
	} else if (strcmp(m->op, "reload") == 0 && c->role == ROLE_ADMIN) {
		int r = sup_ops_reload(s);

		if (r < 0)
			answer_err(s, c, m->id, r, "reload failed; the old configuration stays");
		else
			answer_json(s, c, m->id, json_pack("{s:b}", "reloaded", 1));
	} else {
		answer_err(s, c, m->id, ERR_DENIED, "unknown command or not permitted for your role");
	}
	json_decref(args);
}

static void
handle(struct sup *s, struct ctl_client *c, struct msg *m)
{
	struct origin o = { .kind = ORIGIN_CTL, .ctl = c, .id = m->id };

	if (m->type != MSG_CALL) {
		answer_err(s, c, m->id, ERR_PROTO, "only CALL messages are accepted");
		return;
	}
	if (strcmp(m->tool, "corral") == 0) {
		command(s, c, m);
		return;
	}
	if (c->role == ROLE_VIEWER) {
		answer_err(s, c, m->id, ERR_DENIED, "viewers cannot make calls");
		return;
	}
	o.admin = c->role == ROLE_ADMIN;
	/* An admin acts for the tenant named in the call's "tenant" pseudo-field (ctl only) or
	 * the only tenant; an operator only within its own tenant. */
	o.tenant = c->tenant ? c->tenant : s->cfg->ntenants ? s->cfg->tenants[0].name : NULL;
	{
		/* corralctl call FAMILY@TENANT: admins choose the tenant; operators cannot. */
		char *at = strchr(m->tool, '@');

		if (at != NULL) {
			*at++ = '\0';
			if (!o.admin && (c->tenant == NULL || strcmp(at, c->tenant) != 0)) {
				answer_err(s, c, m->id, ERR_DENIED, "not your tenant");
				return;
			}
			if (config_tenant(s->cfg, at) == NULL) {
				answer_err(s, c, m->id, ERR_NOTFOUND, "no such tenant");
				return;
			}
			o.tenant = config_tenant(s->cfg, at)->name;
		}
	}
	snprintf(o.principal, sizeof(o.principal), "%s", c->principal);
	router_call(s, &o, m);
}

/* Its fd is readable, writable or hung up. One read per turn (level-triggered epoll brings
 * it back while more is there), so a client that keeps writing cannot keep the others
 * waiting. */
void
ctl_on_client(struct sup *s, struct ctl_client *c)
{
	ssize_t n;
	uint32_t flen;

	if (c->doomed) {
		client_close(s, c);
		return;
	}
	if (c->olen > 0)
		flush_out(s, c);
	if (c->doomed)
		return;	/* its hang-up comes back as an event */
	if (c->cap - c->len < 65536) {
		size_t ncap = c->cap ? c->cap * 2 : 65536;
		uint8_t *nb;

		if (ncap > LIM_MSG_MAX + 4 + 65536 || (nb = realloc(c->buf, ncap)) == NULL) {
			client_close(s, c);
			return;
		}
		c->buf = nb;
		c->cap = ncap;
	}
	n = read(c->fd, c->buf + c->len, c->cap - c->len);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(s, c);
		return;
	}
	if (n < 0)
		return;
	c->len += (size_t)n;
	while (c->len >= 4 && !c->doomed) {
		struct msg m = { 0 };

		memcpy(&flen, c->buf, 4);
		flen = ntohl(flen);
		if (flen > LIM_MSG_MAX) {
			client_close(s, c);
			return;
		}
		if (c->len < 4 + (size_t)flen)
			break;
		if (msg_decode(c->buf + 4, flen, &m) < 0) {
			client_close(s, c);	/* malformed: drop the peer */
			return;
		}
		memmove(c->buf, c->buf + 4 + flen, c->len - 4 - flen);
		c->len -= 4 + flen;
		handle(s, c, &m);
		msg_clear(&m);
	}
}
