/* Private to supervisor/audit*.c. */
#ifndef CORRAL_SUPERVISOR_AUDIT_INT_H
#define CORRAL_SUPERVISOR_AUDIT_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/audit.h"

struct audit {
	char *dir, *live, *stem;	/* directory, live file's name in it, name without .jsonl */
	int dirfd, fd, lockfd;
	uint64_t off;			/* end of the last complete line in the live file */
	uint64_t seq, durable_seq;
	uint64_t file_first_seq;	/* seq of the live file's first record (rotated name) */
	char prev[AUDIT_HEX_LEN + 1];	/* hash of the last line */
	struct audit_mac *mac;

	enum audit_fsync mode;
	unsigned batch_max, batch_ms, ckpt_records, ckpt_ms, ckpt_min_ms;
	uint64_t rotate_bytes, rotate_at;
	unsigned pending;		/* BATCH: records written since the last fdatasync */
	uint64_t batch_deadline;
	unsigned since_ckpt;
	uint64_t last_ckpt_mono;
	bool need_newfile;		/* rotated away, new live file not created yet */

	bool healthy;
	size_t torn_bytes;		/* found by audit_recover(): reported once open */
	char torn_name[NAME_MAX + 1];
	char torn_hash[AUDIT_HEX_LEN + 1];
	uint64_t lost, sync_errors;	/* outage accounting for the next recovery record */
	int64_t lost_since_ms;
	int first_err;

	const struct redact_set *rs;
	char *syslog_path;
	int syslog_fd;
	char *buf;			/* one line: LIM_AUDIT_RECORD_MAX + newline + NUL */
	struct audit_stats st;

	struct evp_md_st *sha;		/* SHA-256 fetched once, for the chain hash */
	struct evp_md_ctx_st *shactx;
	int64_t ts_sec;			/* the second time_buf's first 19 characters render */
	char time_buf[32];

	/* BATCH with opts.sync_thread: the group commit's fdatasync off the loop (audit.c). */
	bool syncer_on;
	pthread_t syncer;
	pthread_mutex_t sy_mu;
	pthread_cond_t sy_cv;		/* a request, or stop */
	pthread_cond_t sy_idle;		/* the thread finished an fdatasync */
	uint64_t sy_want;		/* under sy_mu: make records up to this durable */
	uint64_t sy_taken;		/* under sy_mu: the last want the thread took */
	int sy_fd;			/* under sy_mu: the live file to sync */
	bool sy_busy, sy_stop;
	int sy_err;			/* under sy_mu: -errno of a failed fdatasync, not yet seen */
	uint64_t sy_syncs;		/* under sy_mu: done by the thread */
};

/* Find the end of the chain (live file, else the newest rotated file), cut a torn tail off into
 * a side file, check the last record and the checkpoint file. Sets seq, prev, off,
 * file_first_seq and torn_*. ERR_AUDIT with the reason in err when the log must not be
 * continued. */
int audit_recover(struct audit *a, char *err, size_t errlen);

/* audit_dump.c: rec serialised as json_dumpb(JSON_SORT_KEYS | JSON_COMPACT) would, with the
 * caller's seq, time, prev and mac left out and the writer's seq, time and prev in their sorted
 * places, into out[0..cap). 0 and *len; ERR_TOOBIG when it needs more than cap (*len is then
 * what it needs); -EINVAL for what jansson refuses to dump (invalid UTF-8, a cycle); -E2BIG for
 * a record too wide for the fast path (then jansson serialises a copy). */
int audit_dump_rec(const json_t *rec, uint64_t seq, const char *time, const char *prev,
    char *out, size_t cap, size_t *len);

#endif
