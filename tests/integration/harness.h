/* Integration harness: a real corrald (built binary) with a config written into a private
 * temporary directory, driven through the real corralctl. */
#ifndef CORRAL_TESTS_HARNESS_H
#define CORRAL_TESTS_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

struct hx {
	char dir[256];		/* temp dir: config, runtime, state */
	char cfg[300];
	char sock[300];
	char audit[300];
	pid_t pid;		/* corrald */
	char log[300];		/* corrald's stderr */
	/* CORRAL_TEST_PRIVSEP=1: the split install. corral-privd (root) spawns the jails and
	 * corrald runs as HX_CORRALD_UID, owner of the temp dir; the config names privd. */
	bool privsep;
	pid_t privd_pid;
	char privd_sock[300];
};

#define HX_CORRALD_UID	40999
#define HX_TENANT_UIDS	"41000-42999"
/* examples/systemd/corral-privd.service.in's CapabilityBoundingSet= (setpriv's syntax) */
#define HX_PRIVD_CAPS	"-all,+sys_admin,+setuid,+setgid,+setpcap,+net_admin,+chown,+kill"

/* Write dir/corral.yaml from body (runtime_dir, state_dir, libexec_dir, control added). */
void hx_config(struct hx *h, const char *body);
/* Write an extra file into the temp dir (e.g. a policy). Returns its path (static buffer). */
const char *hx_file(struct hx *h, const char *name, const char *content, int mode);
/* Start corrald; wait until the control socket answers and `want_ready` workers are ready. */
void hx_start(struct hx *h, int want_ready);
/* The same with a longer wait: many workers starting at once on a loaded machine can miss
 * their hello deadline once and come up after a restart (docs/PERFORMANCE.md, findings). */
void hx_start_within(struct hx *h, int want_ready, int timeout_ms);
/* Start corrald (and, split, corral-privd) without waiting for anything. */
void hx_launch(struct hx *h, const char *log_level);
/* SIGTERM and wait; returns corrald's exit status (or -1). */
int hx_stop(struct hx *h);
void hx_cleanup(struct hx *h);

/* Run corralctl (argv NULL-terminated, without the program name) with -s sock; returns its
 * exit status and fills *out with stdout (malloc'd). */
int hx_ctl(struct hx *h, char **out, const char *const *argv);
/* The same as a given uid (the control socket maps peer uids to roles). */
int hx_ctl_as(struct hx *h, uid_t uid, char **out, const char *const *argv);
/* corralctl -o json status, parsed. */
json_t *hx_status(struct hx *h);
json_t *hx_worker(json_t *status, const char *name);
/* Poll status until worker name is in state (or timeout ms); returns the worker object
 * (borrowed from *status_out, which the caller frees). */
json_t *hx_wait_state(struct hx *h, const char *name, const char *state, int timeout_ms,
    json_t **status_out);
/* Run a command line (argv) and capture stdout+stderr; returns exit status. */
int hx_run(char **out, const char *const *argv);
char *hx_read(const char *path);	/* whole file, read to the end (/proc too); "" when unreadable */
const char *hx_bin(const char *name);	/* path of a built binary (from env set by meson) */

#endif
