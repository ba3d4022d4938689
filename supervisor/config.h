/* corrald's configuration: one YAML file (corral.yaml(5)), strictly checked.
 *
 * config_load() reads and checks everything it can without side effects (no secrets are read,
 * no sockets made): unknown keys, wrong types and bad references are reported as
 * "file:line:col: message" into errs, all of them, and the call fails with ERR_CONFIG.
 * Relative paths in the file are resolved against the file's directory.
 */
#ifndef CORRAL_SUPERVISOR_CONFIG_H
#define CORRAL_SUPERVISOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/ydoc.h"
#include "tools/tool.h"

struct cfg_limits {
	uint64_t memory;		/* bytes, 0 = default */
	uint32_t pids;
	uint32_t nofile;
	uint64_t fsize;
	uint64_t tokens_per_day;	/* model token budget, 0 = unlimited */
};

struct cfg_tenant {
	char *name;
	uid_t uid;			/* worker uid when corrald runs as root; 0 = default */
	uid_t uid_last;			/* uids: uid..uid_last, one per worker; 0 = one uid */
	gid_t gid;
	bool gid_set;			/* gid: given (shared by a uids range's workers) */
	struct cfg_limits limits;
	char **families;		/* endpoint-less families to run (e.g. echo) */
	size_t nfamilies;
	int line, col;
};

struct cfg_credential {
	char *name;
	char *tenant;
	char *source;			/* "file:PATH" or "env:NAME" (not read here) */
	int line, col;
};

struct cfg_endpoint {
	char *family;
	char *name;
	char *tenant;			/* NULL = every tenant (shared endpoint) */
	char *url;			/* http families: base URL; flux: API server URL */
	char *credential;		/* NULL or "none" = no credential */
	char *ca_file;
	char *user;			/* jenkins basic-auth user */
	char *kubeconfig;		/* flux: kubeconfig file (read by corrald) */
	char *context;			/* flux: context in the kubeconfig */
	char **redirect_hosts;
	size_t nredirect_hosts;
	bool allow_private;		/* may resolve to loopback/private addresses */
	bool allow_exec_plugins;	/* flux: kubeconfig exec/auth-provider plugins */
	uint32_t timeout_ms;
	uint32_t connect_timeout_ms;
	int line, col;
};

struct cfg_model {
	char *name;
	char *provider;			/* openai, anthropic, google, script */
	char *base_url;
	char *model;			/* provider's model id */
	char *credential;
	char *script;			/* script provider: YAML file of turns */
	char *api_version;		/* anthropic */
	bool allow_private;		/* base_url may resolve to loopback/private addresses */
	int line, col;
};

struct cfg_agent {
	char *file;
	char *name;			/* override; else the file's metadata.name */
	char *tenant;
	char *model;			/* cfg_model name */
	char *exec;			/* external agent program (instead of corral-agent) */
	enum cfg_agent_proto { CFG_PROTO_IPC, CFG_PROTO_MCP } protocol;	/* exec: how it talks */
	bool missing_tools_warn;
	int line, col;
};

enum cfg_fsync { CFG_FSYNC_EVERY, CFG_FSYNC_BATCH, CFG_FSYNC_NONE };

enum cfg_role_kind { ROLE_ADMIN, ROLE_OPERATOR, ROLE_VIEWER };

struct cfg_role {
	enum cfg_role_kind kind;
	uid_t *uids;
	size_t nuids;
	char **groups;
	size_t ngroups;
	char *tenant;			/* operators/viewers: tenant they belong to */
	char *name;			/* operator name (principal operator:NAME) */
};

struct config {
	char *path;
	char *dir;			/* directory of the file, for relative paths */
	char *runtime_dir;		/* default /run/corral */
	char *state_dir;		/* default /var/lib/corral */
	char *libexec_dir;		/* where corral-worker, corral-agent, corral-jail live */
	char *control_socket;		/* default <runtime_dir>/ctl.sock */
	char *privd_socket;		/* privd: corral-privd's socket (split install), or NULL */
	char *kubectl;			/* binaries.kubectl: pinned for the flux worker */
	char *flux;			/* binaries.flux: optional */
	bool shared_isolation;		/* workers.isolation: shared */
	uint32_t call_deadline_ms;
	uint32_t drain_ms;

	struct cfg_role *roles;		/* control.admins / operators / viewers */
	size_t nroles;

	struct cfg_tenant *tenants;
	size_t ntenants;
	struct cfg_credential *creds;
	size_t ncreds;
	struct cfg_endpoint *endpoints;
	size_t nendpoints;
	struct cfg_model *models;
	size_t nmodels;
	struct cfg_agent *agents;
	size_t nagents;
	char **policies;		/* resolved paths */
	size_t npolicies;
	char **var_names;		/* vars: allow-listed for agent config expansion */
	char **var_values;
	size_t nvars;

	char *audit_path;		/* default <state_dir>/audit/audit.jsonl */
	enum cfg_fsync audit_fsync;
	uint64_t audit_rotate_size;
	uint32_t audit_checkpoint_every;
	bool audit_fail_open_reads;	/* reads continue when the audit cannot be written */

	char *metrics_textfile;		/* metrics: textfile: PATH (NULL = no metrics file) */
	uint32_t metrics_interval_ms;	/* metrics: interval: (default 15 s) */
};

int config_load(const char *path, struct config **out, struct ydoc_errs *errs);
void config_free(struct config *c);

const struct cfg_tenant *config_tenant(const struct config *c, const char *name);
const struct cfg_endpoint *config_endpoint(const struct config *c, const char *family,
    const char *tenant, const char *name /* NULL = first */);

#endif
