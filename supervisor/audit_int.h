/* Private to supervisor/audit*.c. */
#ifndef CORRAL_SUPERVISOR_AUDIT_INT_H
#define CORRAL_SUPERVISOR_AUDIT_INT_H

#include <limits.h>
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
};

/* Find the end of the chain (live file, else the newest rotated file), cut a torn tail off into
 * a side file, check the last record and the checkpoint file. Sets seq, prev, off,
 * file_first_seq and torn_*. ERR_AUDIT with the reason in err when the log must not be
 * continued. */
int audit_recover(struct audit *a, char *err, size_t errlen);

#endif
