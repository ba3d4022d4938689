/* The benchmark runner (tests/bench/run, `meson test --benchmark --suite perf`): one table,
 * every row a measurement next to a baseline measured in the same run, with the ratio and the
 * issue's target. docs/PERFORMANCE.md explains each row and the latest results.
 *
 *   bench_main.c     main, the table, the sibling benchmarks (policy, audit, canary)
 *   bench_corrald.c  driving a real corrald: mediated calls, throughput, flood, HTTP, spawn,
 *                    memory
 *   bench_relay.c    the bare two-hop nng relay the mediated call is compared with
 *   bench_agent.c    the agent program corrald hosts for the call rows (a separate binary)
 */
#ifndef CORRAL_TESTS_BENCH_H
#define CORRAL_TESTS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

/* ---------------------------------------------------------------- rows */

enum verdict { V_NONE, V_PASS, V_MISS, V_NA };

/* A row: value (in unit) against base (same unit); ratio = value / base. target is the
 * issue's target as text; verdict is decided by the caller. note: what limits it, etc. */
void row_add(const char *id, const char *name, double value, const char *unit,
    const char *base_name, double base, const char *target, enum verdict v, const char *note);
/* A row that could not be measured: why. */
void row_na(const char *id, const char *name, const char *why);

/* ---------------------------------------------------------------- utilities */

int64_t bench_now_ns(void);
const char *bench_bin(const char *name);	/* $CORRAL_BIN_<name> ('-' -> '_'), or NULL */
void bench_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* stderr */
/* Run argv (NULL-terminated), capturing stdout+stderr (malloc'd, may be NULL); exit status
 * or 128+signal. timeout_ms <= 0: none. */
int bench_run(const char *const *argv, char **out, int timeout_ms);
char *bench_read(const char *path);		/* whole file (/proc too); "" when unreadable */
/* Rss and Pss of pid in KiB from /proc/PID/smaps_rollup; -1 when gone. */
int bench_mem(pid_t pid, long *rss_kb, long *pss_kb);
/* Private_Clean + Private_Dirty of pid in KiB (its unique set: what it costs on its own
 * whoever else maps its libraries); -1 when gone. */
long bench_uss(pid_t pid);
pid_t bench_ppid(pid_t pid);
int cmp_i64(const void *a, const void *b);
int cmp_dbl(const void *a, const void *b);

/* ---------------------------------------------------------------- a real corrald */

struct bx {
	char dir[256];
	char cfg[300], sock[300], log[300], audit[300];
	pid_t pid;
	int ready, failed;		/* workers, as bx_start last saw them */
};

/* A private directory with corral.yaml: runtime/state/libexec dirs, then body. */
int bx_config(struct bx *b, const char *body);
int bx_file(struct bx *b, const char *name, const char *text);
/* Start corrald; wait until want_ready workers are ready (timeout_ms). 0, -1 (timeout, corrald
 * died), or -2 when the workers that are not ready have failed (corrald gave up on them). */
int bx_start(struct bx *b, int want_ready, int timeout_ms);
int bx_stop(struct bx *b);
void bx_cleanup(struct bx *b);
/* corralctl -s SOCK ARGV...; returns the exit status, *out its stdout+stderr. */
int bx_ctl(struct bx *b, const char *const *argv, char **out, int timeout_ms);
json_t *bx_status(struct bx *b);

/* Start `corralctl -o json run AGENT INPUT` without waiting; bx_wait_run collects it. */
pid_t bx_run_start(struct bx *b, const char *agent, const char *input, char *outfile,
    size_t outlen);
json_t *bx_run_wait(pid_t pid, const char *outfile, int timeout_ms);

/* ---------------------------------------------------------------- sections */

struct opts {
	bool quick;			/* shorter runs (CI smoke) */
	int agents_total;		/* row 4: hosted agents (default 1000) */
	const char *only;		/* comma-separated section names, NULL = all */
};

void bench_relay_rows(const struct opts *o, double *p50_us, double *p99_us, double *tput,
    const int *conc, int nconc);
void bench_transport_row(const struct opts *o, double nng_p50);
void bench_calls(const struct opts *o, double relay_p50, double relay_p99,
    const double *relay_tput, const int *conc, int nconc);
void bench_flood(const struct opts *o);
void bench_http_rows(const struct opts *o);
void bench_spawn_memory(const struct opts *o);
void bench_hosted(const struct opts *o);

/* The relay roles (bench_main --role relay|echo ...), never return. */
int bench_relay_role(int argc, char **argv);

#endif
