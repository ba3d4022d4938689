/* Test harness: run corral-jail (CORRAL_JAIL) around the probe (CORRAL_PROBE) as real
 * processes and collect how it went. Shared by the sandbox suite's test programs. */
#ifndef CORRAL_TESTS_WORKERS_JAILRUN_H
#define CORRAL_TESTS_WORKERS_JAILRUN_H

#include <stdbool.h>
#include <sys/types.h>

#define TENANT_UID	41001
#define OUT_MAX		8192

struct run {
	int code;			/* corral-jail's exit status */
	int sig;			/* the program's death signal from "signal N", else 0 */
	int exit;			/* the program's exit from "exit N", else -1 */
	char out[OUT_MAX], err[OUT_MAX], st[OUT_MAX];
};

struct spawn {
	const char *jail[24];		/* corral-jail options, NULL-terminated */
	const char *prog[12];		/* probe MODE NAME [ARG...], or with raw: the program */
	bool raw;			/* prog[0] is the program, not the probe's MODE */
	int keep_fd;			/* kept open in corral-jail at the same number, or -1 */
	int leak_fd;			/* an fd number left open without asking, or -1 */
	uid_t as_uid;			/* start corral-jail as this uid (0: as we are) */
	const char *wait_for;		/* stdout text after which to call on_ready, send sig */
	int sig;
	void (*on_ready)(const struct run *r, void *ctx);
	void *ctx;
};

/* Run s; asserts corral-jail itself exited. r->code 77 (with empty st) means the spawn could
 * not run as as_uid (the test should skip). */
void run_spawn(const struct spawn *s, struct run *r);

/* corral-jail --profile P --uid 41001 --gid 41001 --tenant payments [--worker] -- probe MODE
 * NAME [ARG] */
void run_probe(struct run *r, const char *profile, bool worker, const char *mode,
    const char *name, const char *arg);

int jail_landlock_abi(void);		/* corral-jail --landlock-abi */
void need_root(void);			/* skip unless root */
const char *env_path(const char *name);	/* asserted non-empty */

#endif
