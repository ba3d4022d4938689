/* The exec kind: how corral-worker runs the flux family's programs (see docs/FLUX.md).
 *
 * preinit pins the binaries: kubectl at exec slot FD_EXEC_SLOT + 1 and flux (optional) at
 * FD_EXEC_SLOT + 2. Under corral-jail the slots are already there (`--exec-slot` in that
 * order) and are checked against the configured paths; outside a jail (tests) the paths are
 * opened O_PATH and placed in the slots. Either way the file must be a regular, executable
 * file that no group or other user can write. preinit also makes the private directory that
 * holds HOME, the caches and the per-call kubeconfig files.
 *
 * Each pool thread gets io->exec and a loopback HTTP proxy (CONNECT, and absolute-form
 * requests for http:// API servers) listening on 127.0.0.1:ephemeral in the worker's own
 * network namespace. For every connection the proxy asks corrald over the broker channel
 * (brk_connect), so kubectl reaches nothing corrald does not allow. io->exec writes the
 * call's kubeconfig (from ctx: endpoint url + secret, or the kubeconfig text corrald read,
 * with proxy-url pointing at the thread's proxy) mode 0600, forks, and in the child: setsid,
 * stdio pipes, every other fd close-on-exec, execveat(slot, "", argv, envp, AT_EMPTY_PATH)
 * with an environment built from scratch. Deadlines kill the whole process group; stdout and
 * stderr are capped; the kubeconfig is removed when the run ends.
 */
#ifndef CORRAL_WORKERS_EXECKIND_H
#define CORRAL_WORKERS_EXECKIND_H

#include <stddef.h>

#include <jansson.h>

#include "tools/io.h"
#include "workers/runtime.h"

/* How the proxy gets a connected socket to host:port: 0 and *fd, ERR_EGRESS when refused,
 * or another negative error. The default asks corrald over BRK_FD. */
typedef int (*exec_connect_fn)(void *arg, const char *host, unsigned port, int timeout_ms,
    int *fd);

struct exec_kind_opts {
	const char *kubectl;		/* pinned path; NULL: the slot corral-jail placed, else
					 * /usr/bin/kubectl */
	const char *flux;		/* NULL: no flux binary (reconcile/suspend use kubectl) */
	exec_connect_fn connect;	/* NULL: brk_connect on BRK_FD */
	void *connect_arg;
	const char *tmp_parent;		/* where the private directory goes; NULL: /tmp */
};

/* Set before wrk_main (corral-worker: --kubectl/--flux) or exec_kind_init (tests). The
 * strings must outlive the worker. */
void exec_kind_configure(const struct exec_kind_opts *o);

extern const struct wrk_kind_ops wrk_kind_exec;

/* The same steps without the runtime, for tests: init = preinit; thread_io gives io->exec
 * and starts the thread's proxy; fini removes the private directory and empties the slots. */
int exec_kind_init(void);
int exec_kind_thread_io(struct tool_io *io);
void exec_kind_thread_io_free(struct tool_io *io);
void exec_kind_fini(void);
/* The private directory (HOME is <dir>/home); "" before init. */
const char *exec_kind_dir(void);
/* The loopback proxy port of a thread's io (0 when none). */
unsigned exec_kind_proxy_port(const struct tool_io *io);

/* The kubeconfig for one call, as JSON text (a kubeconfig is YAML, and JSON is YAML): one
 * cluster (server, CA, proxy-url http://127.0.0.1:port), one user, one context. From
 * ctx.kubeconfig (YAML text corrald read from the endpoint's file; ctx.endpoint.context picks
 * the context, else current-context) or from ctx.endpoint.url (+ ctx.endpoint.ca_pem,
 * ctx.endpoint.tls_server_name) and ctx.secret as a bearer token. File references are
 * refused (the worker cannot read host files); exec:/auth-provider: users are refused unless
 * ctx.endpoint.allow_exec_plugins is true; the server must be ctx.endpoint.url when both are
 * given. *text is malloc'd and holds the credential: explicit_bzero it before free.
 * 0, or ERR_CONFIG with the reason in err. */
int exec_kubeconfig_build(const json_t *ctx, unsigned proxy_port, char **text, char *err,
    size_t errlen);

#endif
