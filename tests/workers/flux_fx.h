/* Fixture for the flux family tests: the loopback fake Kubernetes API server
 * (tests/fakes/fake_kube.py) as a real process, its request log, and a tool_io whose exec hook
 * is the exec kind's real io->exec (real kubectl, real fork/execveat, real loopback proxy) with
 * a connect hook that plays corrald's egress broker: it connects only to allowed ports of
 * 127.0.0.1 and answers ERR_EGRESS for anything else.
 */
#ifndef CORRAL_TESTS_WORKERS_FLUX_FX_H
#define CORRAL_TESTS_WORKERS_FLUX_FX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "tools/io.h"
#include "tools/tool.h"

struct kube {
	pid_t pid;
	int port;
	char log_path[300];
	char url[64];			/* http(s)://127.0.0.1:<port> */
	bool tls;			/* started with --tls */
};

/* Start fake_kube.py (extra args NULL-terminated, may be NULL); 0 or -errno. */
int kube_start(struct kube *k, const char *const *extra);
void kube_stop(struct kube *k);
int kube_mode(struct kube *k, const char *mode);	/* POST /__fake/control */
json_t *kube_log(const struct kube *k);		/* array of request entries (new ref) */
size_t kube_count(const struct kube *k);
/* Entries matching method and a path suffix (new ref, array). */
json_t *kube_find(const struct kube *k, const char *method, const char *path_suffix);
/* The fake's objects: the one of kind/ns/name (new ref or NULL). */
json_t *kube_object(struct kube *k, const char *kind, const char *ns, const char *name);

/* Paths found at start: kubectl via PATH (`command -v kubectl`), the fake flux script. */
const char *fx_kubectl_path(void);
const char *fx_fake_flux_path(void);
const char *fx_fakes_dir(void);
/* The test certificate/key the fake serves with --tls (tests/fakes/kube-tls/). */
#define FX_TLS_CERT	"kube-tls/cert.pem"
#define FX_TLS_KEY	"kube-tls/key.pem"
char *fx_read_file(const char *path);	/* malloc'd text (<= 64 KiB) or NULL */

#define FXH_PORTS_MAX 4

struct fxh {
	struct tool_io io;
	json_t *ctx;			/* the call context; tests may edit it */
	int allow_ports[FXH_PORTS_MAX];	/* egress allowed to 127.0.0.1:<these> */
	unsigned connects, denied;
	unsigned nevents;
	char events[4096];		/* every progress line, '\n'-separated */
	bool dry_run;
	uint32_t deadline_ms;		/* default 20000 */
};

/* exec kind with kubectl (and flux when with_flux) pinned, thread io, ctx for k's URL. */
int fxh_init(struct fxh *h, struct kube *k, bool with_flux);
void fxh_fini(struct fxh *h);
/* Validate args_json against the op's schema (ERR_SCHEMA: the message in verr), then run. */
int fxh_call(struct fxh *h, const char *op, const char *args_json, json_t **result,
    struct tool_err *err, char *verr, size_t verrlen);
/* Run the op's hook on args as given (no schema validation, no defaults). */
int fxh_call_raw(struct fxh *h, const char *op, json_t *args, json_t **result,
    struct tool_err *err);

long long fx_now_ms(void);
bool fx_rfc3339(const char *s);

#endif
