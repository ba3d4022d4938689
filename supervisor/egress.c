/* The egress broker, supervisor side: a worker in an empty network namespace asks for a
 * connection on its broker channel (ipc/broker.h); corrald checks the destination against that
 * worker's endpoints, connects without blocking its loop, and passes the socket back. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ipc/broker.h"
#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/log.h"
#include "supervisor/sup.h"

/* ---------------------------------------------------------------- egress broker */

/* A name lookup on a thread of its own: getaddrinfo blocks for as long as DNS takes, and a
 * slow or dead resolver must not stall corrald's loop (every tenant's calls). The job is shared
 * by the thread and the request waiting for it; the last one to let go frees it, so a request
 * that timed out (or whose worker died) leaves the thread to finish alone. The thread writes
 * the eventfd, which the loop watches under the worker's broker source. */
struct egress_lookup {
	unsigned refs;
	bool done;
	int efd;
	int gai;			/* getaddrinfo's result */
	struct addrinfo *res;
	char host[BRK_HOST_MAX + 1];
	char port[8];
};

static pthread_mutex_t lookup_mu = PTHREAD_MUTEX_INITIALIZER;	/* refs, done, res, nlookups */
static unsigned nlookups;		/* jobs alive (their threads running or results unread) */

/* A connection corrald is making for a worker. Nothing of it blocks the loop: a name is looked
 * up on a thread (egress_lookup), a numeric address needs no lookup; the socket is non-blocking
 * and is watched for EPOLLOUT together with a timerfd for its deadline, all under the worker's
 * broker source, so worker_on_broker() runs when any of them fires. The deadline (lookup
 * included) ends before the worker stops waiting (brk_connect waits LIM_HTTP_CONNECT_MS); a
 * reply that came after that would be dropped by the worker as stale. */
struct egress_conn {
	struct worker *w;		/* NULL: the slot is free */
	pid_t pid;			/* the incarnation that asked */
	uint32_t id;
	int fd, tfd;
	int64_t deadline_ms;
	int err;			/* the last failure, answered when no address is left */
	bool allow_private, internal;
	struct egress_lookup *lk;	/* the lookup under way, or NULL */
	struct addrinfo *res, *next;
	char host[BRK_HOST_MAX + 1];
	unsigned port;
};

static struct egress_conn egress_conns[LIM_EGRESS_PENDING];

static int
url_hostport(const char *url, char *host, size_t hlen, unsigned *port)
{
	const char *p, *end;
	char *e;
	size_t n;
	unsigned long v;

	*port = strncmp(url, "https://", 8) == 0 ? 443 : 80;
	if ((p = strstr(url, "://")) == NULL)
		return -EINVAL;
	p += 3;
	if (*p == '[') {
		if ((end = strchr(++p, ']')) == NULL)
			return -EINVAL;
		n = (size_t)(end - p);
		end++;
	} else {
		end = p + strcspn(p, ":/?#");
		n = (size_t)(end - p);
	}
	if (n == 0 || n >= hlen)
		return -EINVAL;
	memcpy(host, p, n);
	host[n] = '\0';
	if (*end == ':') {
		errno = 0;
		v = strtoul(end + 1, &e, 10);
		if (errno || e == end + 1 || (*e != '\0' && *e != '/') || v == 0 || v > 65535)
			return -EINVAL;
		*port = (unsigned)v;
	}
	return 0;
}

static bool
v4_internal(uint32_t a)
{
	/* this network, 10/8, CGNAT 100.64/10, loopback, link-local (cloud metadata),
	 * 172.16/12, IETF 192.0.0/24, 192.168/16, benchmarking 198.18/15, multicast, reserved */
	return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 22) == (100u << 2 | 1) ||
	    (a >> 24) == 127 || (a >> 16) == 0xa9fe || (a >> 20) == 0xac1 ||
	    (a >> 8) == 0xc00000 || (a >> 16) == 0xc0a8 || (a >> 17) == (0xc612 >> 1) ||
	    (a >> 28) >= 0xe;
}

/* Loopback, private, link-local (incl. cloud metadata 169.254.169.254), CGNAT, ULA, multicast,
 * and IPv6 spellings of IPv4 addresses (mapped, compatible, NAT64, 6to4) judged as IPv4. */
static bool
addr_is_internal(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_internal(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		const uint8_t *b = a6->s6_addr;
		static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
		uint32_t v4;

		if (IN6_IS_ADDR_V4MAPPED(a6) || IN6_IS_ADDR_V4COMPAT(a6) ||
		    memcmp(b, nat64, 12) == 0) {
			memcpy(&v4, b + 12, 4);
			return v4_internal(ntohl(v4));
		}
		if (b[0] == 0x20 && b[1] == 0x02) {	/* 6to4: 2002:AABB:CCDD::/48 */
			memcpy(&v4, b + 2, 4);
			return v4_internal(ntohl(v4));
		}
		return IN6_IS_ADDR_LOOPBACK(a6) || IN6_IS_ADDR_UNSPECIFIED(a6) ||
		    IN6_IS_ADDR_LINKLOCAL(a6) || IN6_IS_ADDR_SITELOCAL(a6) ||
		    IN6_IS_ADDR_MULTICAST(a6) || (b[0] & 0xfe) == 0xfc;
	}
	return true;
}

/* Is host:port one this worker's endpoints may reach? Returns the endpoint (which also says
 * allow_private and the connect timeout), or NULL. */
static const struct cfg_endpoint *
egress_allowed(struct sup *s, struct worker *w, const char *host, unsigned port)
{
	struct config *c = s->cfg;

	/* The model gateway may reach the configured models' base URLs only. The endpoint
	 * returned is made from the model's entry and used at once (single-threaded loop). */
	if (w->family && strcmp(w->family->name, "model") == 0) {
		static struct cfg_endpoint model_ep;

		for (size_t i = 0; i < c->nmodels; i++) {
			const struct cfg_model *m = &c->models[i];
			char h[256];
			unsigned p;

			if (m->base_url == NULL || url_hostport(m->base_url, h, sizeof(h), &p) < 0 ||
			    strcasecmp(h, host) != 0 || p != port)
				continue;
			memset(&model_ep, 0, sizeof(model_ep));
			model_ep.family = (char *)"model";
			model_ep.name = m->name;
			model_ep.url = m->base_url;
			model_ep.allow_private = m->allow_private;
			return &model_ep;
		}
		return NULL;
	}
	for (size_t i = 0; w->family && i < c->nendpoints; i++) {
		const struct cfg_endpoint *ep = &c->endpoints[i];
		char h[256];
		unsigned p;

		if (strcmp(ep->family, w->family->name) != 0 || ep->url == NULL)
			continue;
		if (!c->shared_isolation && ep->tenant && strcmp(ep->tenant, w->tenant) != 0)
			continue;
		if (url_hostport(ep->url, h, sizeof(h), &p) < 0)
			continue;
		if (strcasecmp(h, host) == 0 && p == port)
			return ep;
		for (size_t k = 0; k < ep->nredirect_hosts; k++)
			if (strcasecmp(ep->redirect_hosts[k], host) == 0 && (port == 443 ||
			    (ep->allow_private && port == p)))
				return ep;
	}
	return NULL;
}

static void
egress_audit(struct sup *s, struct worker *w, const char *event, const char *host,
    unsigned port)
{
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "type", "violation", "worker",
	    w->name, "tenant", w->tenant, "event", event, "egress", host, "port", (int)port);

	sup_audit(s, rec);
	json_decref(rec);
}

/* Drop one reference (lookup_mu held); the last one frees the job. */
static void
lookup_unref_locked(struct egress_lookup *l)
{
	if (--l->refs > 0)
		return;
	if (l->res)
		freeaddrinfo(l->res);
	close(l->efd);
	free(l);
	nlookups--;
}

static void *
lookup_run(void *arg)
{
	struct egress_lookup *l = arg;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	uint64_t one = 1;
	int g = getaddrinfo(l->host, l->port, &hints, &res);

	pthread_mutex_lock(&lookup_mu);
	l->gai = g;
	l->res = g == 0 ? res : NULL;
	l->done = true;
	if (l->refs > 1 && write(l->efd, &one, sizeof(one)) < 0)
		l->gai = EAI_SYSTEM;	/* cannot happen (eventfd counter far from full) */
	lookup_unref_locked(l);
	pthread_mutex_unlock(&lookup_mu);
	return NULL;
}

/* Look e->host up on a thread; its eventfd wakes this worker's broker source. */
static int
lookup_start(struct sup *s, struct egress_conn *e)
{
	struct egress_lookup *l;
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t th;
	int r;

	pthread_mutex_lock(&lookup_mu);
	r = nlookups >= LIM_EGRESS_LOOKUPS ? -EAGAIN : 0;
	if (r == 0)
		nlookups++;
	pthread_mutex_unlock(&lookup_mu);
	if (r < 0)
		return r;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		r = l ? -errno : -ENOMEM;
		free(l);
		goto undo;
	}
	l->refs = 2;	/* the thread and e */
	snprintf(l->host, sizeof(l->host), "%s", e->host);
	snprintf(l->port, sizeof(l->port), "%u", e->port);
	if ((r = sup_watch(s, l->efd, &e->w->s_broker)) < 0) {
		close(l->efd);
		free(l);
		goto undo;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, LIM_EGRESS_LOOKUP_STACK);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);	/* signals stay the loop's */
	r = -pthread_create(&th, &attr, lookup_run, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r < 0) {
		sup_unwatch(s, l->efd);
		close(l->efd);
		free(l);
		goto undo;
	}
	e->lk = l;
	return 0;
undo:
	pthread_mutex_lock(&lookup_mu);
	nlookups--;
	pthread_mutex_unlock(&lookup_mu);
	return r;
}

/* Let go of e's lookup; with take, keep its addresses in e->res. */
static void
lookup_release(struct sup *s, struct egress_conn *e, bool take)
{
	struct egress_lookup *l = e->lk;

	e->lk = NULL;
	sup_unwatch(s, l->efd);
	pthread_mutex_lock(&lookup_mu);
	if (take) {
		e->res = l->res;
		l->res = NULL;
	}
	lookup_unref_locked(l);
	pthread_mutex_unlock(&lookup_mu);
}

static bool
lookup_done(struct egress_lookup *l)
{
	bool d;

	pthread_mutex_lock(&lookup_mu);
	d = l->done;
	pthread_mutex_unlock(&lookup_mu);
	return d;
}

static void
egress_free(struct sup *s, struct egress_conn *e)
{
	if (e->fd >= 0) {
		sup_unwatch(s, e->fd);
		close(e->fd);
	}
	if (e->tfd >= 0) {
		sup_unwatch(s, e->tfd);
		close(e->tfd);
	}
	if (e->lk)
		lookup_release(s, e, false);
	if (e->res)
		freeaddrinfo(e->res);
	memset(e, 0, sizeof(*e));
	e->fd = e->tfd = -1;
}

/* Answer the worker (if the incarnation that asked is still there) and free the slot. */
static void
egress_reply(struct sup *s, struct egress_conn *e, int err)
{
	struct worker *w = e->w;

	if (err == ERR_EGRESS && e->internal)
		egress_audit(s, w, "egress-internal-address", e->host, e->port);
	if (w->broker_fd >= 0 && w->pid == e->pid) {
		if (err == 0)
			fcntl(e->fd, F_SETFL, fcntl(e->fd, F_GETFL) & ~O_NONBLOCK);
		brk_reply(w->broker_fd, e->id, err, err == 0 ? e->fd : -1);
	}
	egress_free(s, e);
}

/* Start connecting to the next usable address. 1 connected, 0 in progress (watched),
 * -1 no address left (e->err says why). */
static int
egress_connect(struct sup *s, struct egress_conn *e)
{
	for (; e->next != NULL; e->next = e->next->ai_next) {
		struct addrinfo *ai = e->next;
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = &e->w->s_broker };

		if (!e->allow_private && addr_is_internal(ai->ai_addr)) {
			e->err = ERR_EGRESS;
			e->internal = true;
			continue;
		}
		if ((e->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0)) < 0) {
			e->err = -errno;
			continue;
		}
		if (connect(e->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			e->next = ai->ai_next;
			return 1;
		}
		if (errno == EINPROGRESS && epoll_ctl(s->epfd, EPOLL_CTL_ADD, e->fd, &ev) == 0) {
			e->next = ai->ai_next;
			return 0;
		}
		e->err = -errno;
		close(e->fd);
		e->fd = -1;
	}
	return -1;
}

/* Addresses are known (e->res): start connecting; answer at once when that ends already. */
static void
egress_begin(struct sup *s, struct egress_conn *e)
{
	int r;

	e->next = e->res;
	if ((r = egress_connect(s, e)) != 0)
		egress_reply(s, e, r > 0 ? 0 : e->err);
}

/* One step of a pending request: lookup done, connect done or failed (next address), or out
 * of time. */
static void
egress_step(struct sup *s, struct egress_conn *e, int64_t now)
{
	struct pollfd p = { .fd = e->fd, .events = POLLOUT };
	int err = 0, r;
	socklen_t el = sizeof(err);
	uint64_t ticks;
	bool fired = e->tfd >= 0 && read(e->tfd, &ticks, sizeof(ticks)) == sizeof(ticks);

	if (e->w->pid != e->pid || e->w->broker_fd < 0) {
		egress_free(s, e);		/* the worker that asked is gone */
		return;
	}
	if (e->lk != NULL) {
		if (!lookup_done(e->lk)) {
			if (fired || now >= e->deadline_ms)
				egress_reply(s, e, -ETIMEDOUT);	/* the lookup runs on alone */
			return;
		}
		lookup_release(s, e, true);
		if (e->res == NULL)
			egress_reply(s, e, -EHOSTUNREACH);	/* the name has no address */
		else
			egress_begin(s, e);
		return;
	}
	if (e->fd >= 0 && poll(&p, 1, 0) == 1) {
		if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err == 0) {
			egress_reply(s, e, 0);
			return;
		}
		e->err = -err;
		sup_unwatch(s, e->fd);
		close(e->fd);
		e->fd = -1;
		if ((r = egress_connect(s, e)) != 0) {
			egress_reply(s, e, r > 0 ? 0 : e->err);
			return;
		}
	}
	if (fired || now >= e->deadline_ms)
		egress_reply(s, e, -ETIMEDOUT);
}

/* The deadline wakes the loop for this request even if nothing else ever answers. */
static int
egress_timer(struct sup *s, struct egress_conn *e, int64_t budget)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = budget / 1000;
	its.it_value.tv_nsec = (budget % 1000) * 1000000;
	if ((e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
		return -errno;
	if (timerfd_settime(e->tfd, 0, &its, NULL) < 0) {
		int r = -errno;

		close(e->tfd);
		e->tfd = -1;
		return r;
	}
	return sup_watch(s, e->tfd, &e->w->s_broker);
}

/* A free slot for w, or NULL when all are taken or w has its share. */
static struct egress_conn *
egress_slot(struct worker *w)
{
	struct egress_conn *e = NULL;
	unsigned mine = 0;

	for (size_t i = 0; i < LIM_EGRESS_PENDING; i++) {
		if (egress_conns[i].w == w)
			mine++;
		else if (egress_conns[i].w == NULL && e == NULL)
			e = &egress_conns[i];
	}
	return mine >= LIM_EGRESS_PER_WORKER ? NULL : e;
}

/* A new request that egress_allowed() accepted: look the name up (a numeric address at once,
 * a name on a thread), then connect without blocking. */
static void
egress_start(struct sup *s, struct worker *w, const struct brk_req *req,
    const struct cfg_endpoint *ep)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST };
	struct egress_conn *e = egress_slot(w);
	int64_t budget = LIM_HTTP_CONNECT_MS - LIM_EGRESS_MARGIN_MS;
	char ps[8];
	int r;

	if (e == NULL) {
		brk_reply(w->broker_fd, req->id, -EAGAIN, -1);
		return;
	}
	memset(e, 0, sizeof(*e));
	e->fd = e->tfd = -1;
	e->w = w;
	e->pid = w->pid;
	e->id = req->id;
	e->port = req->port;
	e->allow_private = ep->allow_private;
	e->err = -EHOSTUNREACH;
	snprintf(e->host, sizeof(e->host), "%s", req->host);
	if (ep->connect_timeout_ms > 0 && ep->connect_timeout_ms < budget)
		budget = ep->connect_timeout_ms;
	e->deadline_ms = sup_now_ms() + budget;
	if ((r = egress_timer(s, e, budget)) < 0) {
		egress_reply(s, e, r);
		return;
	}
	snprintf(ps, sizeof(ps), "%u", e->port);
	if (getaddrinfo(e->host, ps, &hints, &e->res) == 0) {
		egress_begin(s, e);	/* an address: no lookup */
		return;
	}
	e->res = NULL;
	if ((r = lookup_start(s, e)) < 0)
		egress_reply(s, e, r);
}

void
worker_on_broker(struct sup *s, struct worker *w)
{
	int64_t now = sup_now_ms();
	struct brk_req req;
	int r;

	for (size_t i = 0; i < LIM_EGRESS_PENDING; i++)
		if (egress_conns[i].w == w)
			egress_step(s, &egress_conns[i], now);
	for (int i = 0; i < 16 && w->broker_fd >= 0; i++) {
		const struct cfg_endpoint *ep;

		memset(&req, 0, sizeof(req));
		if ((r = brk_read_req(w->broker_fd, &req)) == -EAGAIN)
			return;
		if (r == ERR_CLOSED) {
			worker_close_fd(s, &w->broker_fd);
			return;
		}
		if (r < 0) {
			worker_violation(s, w, "%s", "malformed egress request");
			return;
		}
		if ((ep = egress_allowed(s, w, req.host, req.port)) == NULL) {
			egress_audit(s, w, "egress-refused", req.host, req.port);
			brk_reply(w->broker_fd, req.id, ERR_EGRESS, -1);
			continue;
		}
		egress_start(s, w, &req, ep);
	}
}

