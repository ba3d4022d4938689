/* The exec kind's loopback proxy: kubectl's only way out of the worker's network namespace.
 *
 * One listener per pool thread on 127.0.0.1:ephemeral; one detached thread per connection.
 * A connection starts with an HTTP request head:
 *   CONNECT host:port HTTP/1.1           (https:// API servers: a TLS tunnel)
 *   GET http://host:port/path HTTP/1.1   (http:// API servers: absolute form)
 * For either, the destination is asked of corrald (the connect hook: brk_connect), which
 * connects only to this worker's configured endpoints. The absolute-form head is forwarded
 * with "Connection: close" so that every further request opens a new connection and is
 * asked about again. Then bytes are copied both ways until either side is done.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "workers/exec_int.h"

#define IDLE_MS		120000		/* a tunnel with no byte either way for this long ends */
#define HEAD_MS		10000		/* the client must send its request head within this */

struct exec_proxy {
	int lfd;
	unsigned port;
	pthread_t th;
	exec_connect_fn connect;
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fds[LIM_EXEC_PROXY_CONNS * 2];	/* live sockets, -1 = free, for stop */
	unsigned live;
	bool stopping;
	struct exec_proxy_stats st;
};

struct conn {
	struct exec_proxy *px;
	int cfd, ufd;
	char head[LIM_EXEC_PROXY_HEAD + 1];
	size_t len, head_len;
};

static void
track(struct exec_proxy *px, int fd, bool add)
{
	pthread_mutex_lock(&px->mu);
	for (size_t i = 0; i < LIM_EXEC_PROXY_CONNS * 2; i++)
		if (add ? px->fds[i] < 0 : px->fds[i] == fd) {
			px->fds[i] = add ? fd : -1;
			break;
		}
	pthread_mutex_unlock(&px->mu);
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void
reply(int fd, const char *status, const char *text)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "HTTP/1.1 %s\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status, strlen(text), text);

	if (n > 0 && (size_t)n < sizeof(buf))
		(void)send_all(fd, buf, (size_t)n);
}

/* Read until the end of the request head; bytes after it stay in c->head[head_len..len). */
static int
read_head(struct conn *c)
{
	struct pollfd p = { .fd = c->cfd, .events = POLLIN };
	char *end;

	for (;;) {
		ssize_t k;

		if (poll(&p, 1, HEAD_MS) <= 0)
			return -ETIMEDOUT;
		if ((k = recv(c->cfd, c->head + c->len, LIM_EXEC_PROXY_HEAD - c->len, 0)) <= 0)
			return k == 0 ? -ECONNRESET : -errno;
		c->len += (size_t)k;
		c->head[c->len] = '\0';
		if ((end = strstr(c->head, "\r\n\r\n")) != NULL) {
			c->head_len = (size_t)(end - c->head) + 4;
			return 0;
		}
		if (c->len == LIM_EXEC_PROXY_HEAD)
			return -E2BIG;
	}
}

/* "host:port" or "[v6]:port" (port required unless def_port) into host, *port. */
static int
parse_hostport(const char *s, size_t n, unsigned def_port, char *host, size_t hlen,
    unsigned *port)
{
	const char *colon, *h = s;
	size_t hl;
	char ps[8];

	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (rb == NULL)
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1 < s + n && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(s, ':', n);
		hl = colon ? (size_t)(colon - s) : n;
	}
	if (hl == 0 || hl >= hlen)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = def_port;
	if (colon != NULL) {
		size_t pl = (size_t)(s + n - colon - 1);

		if (pl == 0 || pl >= sizeof(ps))
			return -EINVAL;
		memcpy(ps, colon + 1, pl);
		ps[pl] = '\0';
		*port = (unsigned)strtoul(ps, NULL, 10);
	}
	for (size_t i = 0; host[i]; i++)
		if (host[i] <= ' ' || host[i] == '/' || host[i] == '@')
			return -EINVAL;
	return *port > 0 && *port < 65536 ? 0 : -EINVAL;
}

static void
count(struct exec_proxy *px, int r, const char *host, unsigned port)
{
	pthread_mutex_lock(&px->mu);
	if (r == 0)
		px->st.ok++;
	else if (r == ERR_EGRESS)
		px->st.denied++;
	else
		px->st.failed++;
	if (r != 0)
		snprintf(px->st.last_refused, sizeof(px->st.last_refused), "%s:%u", host, port);
	pthread_mutex_unlock(&px->mu);
}

/* Ask for the upstream socket; on refusal answer the client. */
static int
upstream(struct conn *c, const char *host, unsigned port)
{
	char text[400];
	int r = c->px->connect(c->px->arg, host, port, LIM_HTTP_CONNECT_MS, &c->ufd);

	count(c->px, r, host, port);
	if (r == ERR_EGRESS) {
		snprintf(text, sizeof(text), "corral: egress to %s:%u refused by corrald\n", host,
		    port);
		reply(c->cfd, "403 Forbidden", text);
	} else if (r < 0) {
		snprintf(text, sizeof(text), "corral: cannot connect to %s:%u: %s\n", host, port,
		    err_str(r));
		reply(c->cfd, "502 Bad Gateway", text);
	} else {
		track(c->px, c->ufd, true);
	}
	return r;
}

/* Hop-by-hop headers the proxy owns. */
static bool
hop_header(const char *line, size_t n)
{
	static const char *const hop[] = { "connection:", "proxy-connection:", "keep-alive:",
		"proxy-authorization:", NULL };

	for (const char *const *h = hop; *h; h++)
		if (n >= strlen(*h) && strncasecmp(line, *h, strlen(*h)) == 0)
			return true;
	return false;
}

/* Forward an absolute-form head with the hop-by-hop headers replaced by Connection: close. */
static int
forward_head(struct conn *c)
{
	char out[LIM_EXEC_PROXY_HEAD + 64];
	size_t o = 0, end = c->head_len - 2;	/* keep the request line and headers' CRLFs */
	const char *p = c->head;

	while (p < c->head + end) {
		const char *nl = strstr(p, "\r\n");
		size_t n = (size_t)(nl - p) + 2;

		if (p == c->head || !hop_header(p, n)) {
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	o += (size_t)snprintf(out + o, sizeof(out) - o, "Connection: close\r\n\r\n");
	return send_all(c->ufd, out, o);
}

/* Copy both ways until the client is done (or both sides are), or nothing moves for
 * IDLE_MS. */
static void
splice_loop(int a, int b)
{
	struct pollfd p[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
	bool open_[2] = { true, true };
	char buf[16384];

	while (open_[0]) {
		int n = poll(p, 2, IDLE_MS);

		if (n <= 0 && !(n < 0 && errno == EINTR))
			return;
		for (int i = 0; i < 2; i++) {
			ssize_t k;

			if (!open_[i] || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = recv(p[i].fd, buf, sizeof(buf), 0);
			if (k <= 0 || send_all(p[1 - i].fd, buf, (size_t)k) < 0) {
				open_[i] = false;
				p[i].fd = -1;
				shutdown(i == 0 ? b : a, SHUT_WR);
				if (i == 0)
					return;	/* the client is gone: the exchange is over */
			}
		}
	}
}

static void
serve(struct conn *c)
{
	char method[16], host[256];
	const char *sp1, *sp2, *t;
	unsigned port;

	if (read_head(c) < 0)
		return;
	sp1 = strchr(c->head, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || (size_t)(sp1 - c->head) >= sizeof(method)) {
		reply(c->cfd, "400 Bad Request", "corral: malformed request\n");
		return;
	}
	snprintf(method, sizeof(method), "%.*s", (int)(sp1 - c->head), c->head);
	t = sp1 + 1;
	if (strcmp(method, "CONNECT") == 0) {
		if (parse_hostport(t, (size_t)(sp2 - t), 0, host, sizeof(host), &port) < 0) {
			reply(c->cfd, "400 Bad Request", "corral: bad CONNECT target\n");
			return;
		}
		if (upstream(c, host, port) < 0 ||
		    send_all(c->cfd, "HTTP/1.1 200 Connection established\r\n\r\n", 39) < 0)
			return;
	} else if (strncmp(t, "http://", 7) == 0) {
		const char *hs = t + 7, *he = hs + strcspn(hs, "/? ");

		if (parse_hostport(hs, (size_t)(he - hs), 80, host, sizeof(host), &port) < 0) {
			reply(c->cfd, "400 Bad Request", "corral: bad request target\n");
			return;
		}
		if (upstream(c, host, port) < 0 || forward_head(c) < 0)
			return;
	} else {
		reply(c->cfd, "400 Bad Request", "corral: only CONNECT and http:// targets\n");
		return;
	}
	if (c->len > c->head_len &&
	    send_all(c->ufd, c->head + c->head_len, c->len - c->head_len) < 0)
		return;
	splice_loop(c->cfd, c->ufd);
}

static void
conn_done(struct conn *c)
{
	struct exec_proxy *px = c->px;

	track(px, c->cfd, false);
	close(c->cfd);
	if (c->ufd >= 0) {
		track(px, c->ufd, false);
		close(c->ufd);
	}
	free(c);
	pthread_mutex_lock(&px->mu);
	px->live--;
	pthread_cond_broadcast(&px->cv);
	pthread_mutex_unlock(&px->mu);
}

static void *
conn_thread(void *arg)
{
	serve(arg);
	conn_done(arg);
	return NULL;
}

static void
spawn_conn(struct exec_proxy *px, int cfd)
{
	struct conn *c = calloc(1, sizeof(*c));
	pthread_attr_t at;
	pthread_t th;

	pthread_mutex_lock(&px->mu);
	if (c == NULL || px->live >= LIM_EXEC_PROXY_CONNS || px->stopping) {
		pthread_mutex_unlock(&px->mu);
		free(c);
		close(cfd);
		return;
	}
	px->live++;
	pthread_mutex_unlock(&px->mu);
	*c = (struct conn){ .px = px, .cfd = cfd, .ufd = -1 };
	track(px, cfd, true);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 << 10);
	if (pthread_create(&th, &at, conn_thread, c) != 0)
		conn_done(c);
	pthread_attr_destroy(&at);
}

static void *
accept_thread(void *arg)
{
	struct exec_proxy *px = arg;

	for (;;) {
		int fd = accept4(px->lfd, NULL, NULL, SOCK_CLOEXEC);
		bool stop;

		pthread_mutex_lock(&px->mu);
		stop = px->stopping;
		pthread_mutex_unlock(&px->mu);
		if (stop) {
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				struct timespec ts = { 0, 50000000 };

				nanosleep(&ts, NULL);
				continue;
			}
			return NULL;
		}
		spawn_conn(px, fd);
	}
}

int
exec_proxy_start(exec_connect_fn fn, void *arg, struct exec_proxy **out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct exec_proxy *px = calloc(1, sizeof(*px));
	int r;

	if (px == NULL)
		return -ENOMEM;
	px->connect = fn;
	px->arg = arg;
	for (size_t i = 0; i < LIM_EXEC_PROXY_CONNS * 2; i++)
		px->fds[i] = -1;
	pthread_mutex_init(&px->mu, NULL);
	pthread_cond_init(&px->cv, NULL);
	if ((px->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(px->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(px->lfd, LIM_EXEC_PROXY_CONNS) < 0 ||
	    getsockname(px->lfd, (struct sockaddr *)&sa, &sl) < 0) {
		r = -errno;
		goto fail;
	}
	px->port = ntohs(sa.sin_port);
	if ((r = -pthread_create(&px->th, NULL, accept_thread, px)) < 0)
		goto fail;
	*out = px;
	return 0;
fail:
	if (px->lfd >= 0)
		close(px->lfd);
	pthread_mutex_destroy(&px->mu);
	pthread_cond_destroy(&px->cv);
	free(px);
	return r;
}

unsigned
exec_proxy_port(const struct exec_proxy *p)
{
	return p ? p->port : 0;
}

void
exec_proxy_stats(struct exec_proxy *p, struct exec_proxy_stats *st)
{
	pthread_mutex_lock(&p->mu);
	*st = p->st;
	pthread_mutex_unlock(&p->mu);
}

void
exec_proxy_stop(struct exec_proxy *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_mutex_unlock(&p->mu);
	/* shutdown() wakes the accept() of a listening socket with EINVAL on Linux. */
	shutdown(p->lfd, SHUT_RDWR);
	pthread_join(p->th, NULL);
	close(p->lfd);
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < LIM_EXEC_PROXY_CONNS * 2; i++)
		if (p->fds[i] >= 0)
			shutdown(p->fds[i], SHUT_RDWR);
	while (p->live > 0)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
