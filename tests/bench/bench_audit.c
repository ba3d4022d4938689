/* Audit append rate per fsync mode, against raw pwrite+fdatasync of lines of the same size in
 * the same run and directory.
 *
 *   bench_audit [--dir DIR] [--seconds S] [--check]
 *   bench_audit --records N [--mode every|batch|none] [--sync-thread] [--dir DIR]
 *
 * The second form appends exactly N records in one mode and prints the rate: a fixed amount of
 * work for instruction counts (valgrind --tool=callgrind) and profiles.
 *
 * Targets (docs/AUDIT.md): batch >= 100000 records/s; every >= 0.9x raw fdatasync. The batch
 * row uses the sync thread, as corrald does; "batch, fsync inline" is the same without it. With --check
 * the exit status is 1 when a target is missed. DIR should be on the disk the log will use
 * (default $BENCH_AUDIT_DIR or /var/tmp).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ftw.h>
#include <jansson.h>

#include "supervisor/audit.h"

#define ROUNDS	8

static const uint8_t key[AUDIT_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *
sample_rec(int i)
{
	const char *rules[] = { "payments-rollback-with-evidence" };
	json_t *args = json_pack("{s:s, s:s, s:i, s:b}", "app_name", "payments-api",
	    "namespace", "argocd", "id", i, "prune", 0), *rec;
	struct audit_call c = { .call_id = "c-000000001", .tenant = "payments",
		.principal = "agent:deployment-guardian", .tool = "argocd",
		.op = "rollback_application", .args = args, .decision = "allow",
		.rule_ids = rules, .nrule_ids = 1,
		.policy_hash = "5b1d8c2f9a7e4d3c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c",
		.duration_ms = -1 };

	rec = audit_rec_call("decision", &c);
	json_decref(args);
	return rec;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* Appends for `secs` seconds (or exactly `count` records when count > 0); the event loop's tick
 * runs between appends, as in corrald. */
static double
run_mode(const char *dir, enum audit_fsync mode, bool thread, double secs, uint64_t count,
    size_t *linelen)
{
	struct audit_opts o = { .key = key, .fsync = mode, .syslog_path = "",
		.sync_thread = thread };
	char path[4096], err[512];
	struct audit *a;
	json_t *rec = sample_rec(1);
	uint64_t n = 0;
	double t0, t;

	snprintf(path, sizeof(path), "%s/mode%d%s/audit.jsonl", dir, (int)mode, thread ? "t" : "");
	o.path = path;
	if (audit_open(&o, &a, err, sizeof(err)) < 0) {
		fprintf(stderr, "audit_open: %s\n", err);
		exit(2);
	}
	t0 = now_s();
	do {
		for (int i = 0; i < 64; i++, n++)
			if (audit_append(a, rec, NULL) < 0) {
				fprintf(stderr, "append failed\n");
				exit(2);
			}
		if (audit_next_deadline(a) >= 0)
			audit_tick(a, audit_now_ms());
		t = now_s() - t0;
	} while (count > 0 ? n < count : t < secs);
	audit_flush(a);
	t = now_s() - t0;
	audit_close(a);
	if (linelen) {
		FILE *f = fopen(path, "r");
		char *line = NULL;
		size_t cap = 0;
		ssize_t k = f ? getline(&line, &cap, f) : -1;

		*linelen = k > 0 ? (size_t)k : 0;
		free(line);
		if (f)
			fclose(f);
	}
	json_decref(rec);
	return (double)n / t;
}

/* The floor under EVERY mode: pwrite a line of the same size, fdatasync, repeat. */
static double
run_raw(const char *dir, size_t linelen, double secs)
{
	char path[4096], *line = malloc(linelen);
	uint64_t n = 0;
	off_t off = 0;
	double t0, t;
	int fd;

	memset(line, 'x', linelen);
	line[linelen - 1] = '\n';
	snprintf(path, sizeof(path), "%s/raw.jsonl", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
		exit(2);
	}
	t0 = now_s();
	do {
		if (pwrite(fd, line, linelen, off) != (ssize_t)linelen || fdatasync(fd) < 0) {
			perror("raw");
			exit(2);
		}
		off += (off_t)linelen;
		n++;
		t = now_s() - t0;
	} while (t < secs);
	close(fd);
	free(line);
	return (double)n / t;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'c' },
		{ "records", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "sync-thread", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base = getenv("BENCH_AUDIT_DIR");
	double secs = 1.0, raw = 0, every = 0, batch, inline_batch, none;
	char dir[4096];
	size_t linelen = 0;
	enum audit_fsync mode = AUDIT_FSYNC_BATCH;
	uint64_t count = 0;
	bool check = false, ok = true, thread = false;
	int c;

	while ((c = getopt_long(argc, argv, "d:s:cn:m:t", lo, NULL)) != -1) {
		if (c == 'd')
			base = optarg;
		else if (c == 's')
			secs = atof(optarg);
		else if (c == 'c')
			check = true;
		else if (c == 't')
			thread = true;
		else if (c == 'n')
			count = strtoull(optarg, NULL, 10);
		else if (c == 'm' && strcmp(optarg, "every") == 0)
			mode = AUDIT_FSYNC_EVERY;
		else if (c == 'm' && strcmp(optarg, "batch") == 0)
			mode = AUDIT_FSYNC_BATCH;
		else if (c == 'm' && strcmp(optarg, "none") == 0)
			mode = AUDIT_FSYNC_NONE;
		else
			return 2;
	}
	snprintf(dir, sizeof(dir), "%s/corral-bench-audit-XXXXXX", base ? base : "/var/tmp");
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 2;
	}
	if (count > 0) {
		double rate = run_mode(dir, mode, thread, 0, count, &linelen);

		printf("audit append, %zu-byte lines, %" PRIu64 " records, mode %d: %.0f rec/s\n",
		    linelen, count, (int)mode, rate);
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return 0;
	}
	/* EVERY and raw alternate in short rounds, so that a change in the shared disk's speed
	 * during the run hits both alike. */
	for (int round = 0; round < ROUNDS; round++) {
		every += run_mode(dir, AUDIT_FSYNC_EVERY, false, secs / ROUNDS, 0, &linelen) / ROUNDS;
		raw += run_raw(dir, linelen, secs / ROUNDS) / ROUNDS;
	}
	batch = run_mode(dir, AUDIT_FSYNC_BATCH, true, secs, 0, NULL);
	inline_batch = run_mode(dir, AUDIT_FSYNC_BATCH, false, secs, 0, NULL);
	none = run_mode(dir, AUDIT_FSYNC_NONE, false, secs, 0, NULL);
	printf("audit append, %zu-byte lines, %s\n", linelen, dir);
	printf("  raw pwrite+fdatasync  %10.0f rec/s\n", raw);
	printf("  every                 %10.0f rec/s  %.2fx raw  (target >= 0.90x)  %s\n", every,
	    every / raw, every >= 0.9 * raw ? "PASS" : "MISS");
	printf("  batch (1024 / 5 ms)   %10.0f rec/s             (target >= 100000)  %s\n", batch,
	    batch >= 100000 ? "PASS" : "MISS");
	printf("  batch, fsync inline   %10.0f rec/s\n", inline_batch);
	printf("  none                  %10.0f rec/s\n", none);
	ok = every >= 0.9 * raw && batch >= 100000;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return check && !ok ? 1 : 0;
}
