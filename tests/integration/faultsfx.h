/* Helpers of the fault tests (faultsfx.c); see test_faults.c. */
#ifndef CORRAL_TESTS_FAULTSFX_H
#define CORRAL_TESTS_FAULTSFX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "tests/integration/harness.h"

/* Tenants get uids from here up, none shared with other tests (RLIMIT_NPROC is per uid). */
#define UID_BASE	41300

extern struct hx h;			/* the corrald of the running test */
extern const char *const agent_yaml;	/* kind: Agent, tools [echo] */
extern const char *const policy_yaml;	/* echo/fail allowed, "deny*" denied, sleep pending */

int64_t ms_now(void);

/* ntenants tenants tNN with the echo family and nagents agents aNN, per_tenant per tenant, the
 * faults policy, batch audit, then extra. */
void setup_agents(int ntenants, int nagents, int per_tenant, const char *extra);
/* Start corrald and wait (timeout_ms) until want_ready workers are ready. */

/* corralctl -s SOCK ARGV... running in the background, output in out. */
struct job {
	pid_t pid;
	int status;
	bool done;
	char out[128];		/* stdout + stderr */
};
void job_start(struct job *j, const char *const *argv);
int jobs_poll(struct job *jobs, int n);		/* reaps; returns how many still run */
void jobs_wait(struct job *jobs, int n, int timeout_ms);

/* Agent runs of mixed calls: call k of agent a is an echo (allowed, message "aNN cK"), a
 * "deny..." echo, a pending sleep or a failing call, by k % 10. */
enum kind { K_ECHO, K_DENY, K_PENDING, K_FAIL };
char *run_input(int a, int ncalls);		/* {"calls": [...]}, malloc'd */
void run_start(struct job *j, int a, int ncalls);
struct tally {
	int runs_ok, runs_failed, calls, ok, denied, pending, failed, worker_err;
};
/* A run ended with every call answered once, in order, each answer fitting its call, or with an
 * explicit error; counts go to t. */
void check_run(struct job *j, int a, int ncalls, struct tally *t);

struct audit_check {
	size_t records, decisions, dispatched, outcomes, recoveries, starts;
};
/* Every dispatched decision of a supervisor run has exactly one outcome record and every outcome
 * its decision; with allow_open_tail the last run may end with decisions alone (a crash). */
void audit_check(const char *path, bool allow_open_tail, struct audit_check *ac);
void audit_verify(void);			/* corralctl audit verify --key ... passes */

/* pids (and names) of the workers in state (all when NULL) */
int worker_pids(const char *state, pid_t *pids, char (*names)[64], int max);
bool pid_gone(pid_t pid);			/* gone or a zombie */
int children_of(pid_t parent, pid_t *out, int max);

#endif
