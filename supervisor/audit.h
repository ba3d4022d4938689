/* audit — corrald's tamper-evident audit log.
 *
 * JSON Lines, one record per line. Each line is the record serialised with sorted keys, compact,
 * with "seq" (1, 2, ...), "time" (RFC 3339 UTC, ms), "prev" (hex SHA-256 of the previous line,
 * 64 zeros for the first record ever) and then a last member "mac": hex HMAC-SHA256, under the
 * supervisor's key, of the line's bytes up to (not including) the ',"mac":' that precedes it.
 * Rotation renames the live file to <stem>.<first seq, 20 digits>.jsonl and the chain goes on in
 * a new live file. Checkpoints are records of type "checkpoint" whose (seq, line hash) is also
 * written, MACed and fsync'd, to <dir>/<stem>.checkpoint and sent to syslog (ident
 * corral-audit) as an off-host anchor: a log that ends before the last checkpoint was truncated.
 * docs/AUDIT.md has the exact format and the recovery rules.
 *
 * Built for one thread (corrald's event loop): audit_append() returns after write(2) (and after
 * fdatasync in EVERY mode); in BATCH mode the loop calls audit_tick() at audit_next_deadline()
 * and the fdatasync covers every record written since the last one (group commit). With
 * opts.sync_thread that fdatasync runs on a helper thread and audit_durable_seq() advances when
 * it returns; a failure is taken up by the next audit_tick() or audit_append(). A caller that
 * needs write-ahead durability waits until audit_durable_seq() reaches its record's seq.
 * When a record cannot be written (ENOSPC, EIO, ...) the call returns ERR_AUDIT and the log is
 * unhealthy until a later write succeeds; the first record written then is a "recovery" record
 * counting what was lost. Nothing half-written stays in the file: the next write overwrites it.
 */
#ifndef CORRAL_SUPERVISOR_AUDIT_H
#define CORRAL_SUPERVISOR_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define AUDIT_KEY_LEN	32
#define AUDIT_HEX_LEN	64		/* SHA-256 / HMAC-SHA256 in lower-case hex, without NUL */
#define AUDIT_MAC_SUFFIX_LEN	(8 + AUDIT_HEX_LEN + 2)	/* ,"mac":"<64 hex>"} */

enum audit_fsync { AUDIT_FSYNC_EVERY, AUDIT_FSYNC_BATCH, AUDIT_FSYNC_NONE };

struct audit;
struct audit_mac;
struct redact_set;

struct audit_opts {
	const char *path;		/* live file, e.g. /var/lib/corral/audit/audit.jsonl; its
					 * directory is created 0700 when missing */
	const uint8_t *key;		/* AUDIT_KEY_LEN bytes, copied */
	enum audit_fsync fsync;
	unsigned batch_max;		/* BATCH: fdatasync after this many records (0: LIM_AUDIT_BATCH) */
	unsigned batch_ms;		/* ... or this long after the first unsynced one (0: LIM_AUDIT_BATCH_MS) */
	uint64_t rotate_bytes;		/* rotate once the live file reaches this (0: LIM_AUDIT_ROTATE_BYTES) */
	unsigned ckpt_records;		/* checkpoint every N records (0: LIM_AUDIT_CKPT_RECORDS) */
	unsigned ckpt_ms;		/* ... and this often while records come (0: LIM_AUDIT_CKPT_MS) */
	int ckpt_min_ms;		/* ... but not more often than this (0: LIM_AUDIT_CKPT_MIN_MS;
					 * < 0: no minimum) */
	const char *syslog_path;	/* datagram socket for anchors: NULL "/dev/log", "" none */
	bool sync_thread;		/* BATCH: the group commit's fdatasync runs on a thread of
					 * the log's own, not in audit_append()/audit_tick() */
};

/* Open (or create) the log and continue its chain: the last record of the live file (or of the
 * newest rotated file) gives seq and prev. A torn tail (bytes after the last newline, left by a
 * crash) is moved to <dir>/<stem>.torn-<unix ms> and reported by a "recovery" record. Refuses
 * (ERR_AUDIT, reason in err) a last record whose MAC does not verify under the key, a checkpoint
 * file that does not verify, and a log that ends before its checkpoint: those are tampering or a
 * changed key, and continuing would bury the evidence. -EBUSY when another process has it open. */
int audit_open(const struct audit_opts *o, struct audit **out, char *err, size_t errlen);

/* Write a final checkpoint, fsync and close. Returns the first error of those steps (the handle
 * is freed either way). NULL-safe. */
int audit_close(struct audit *a);

/* Append one record. rec is an object with a "type" among decision, outcome, lifecycle,
 * violation, approval, reload, recovery, evidence, control (else ERR_SCHEMA); it stays the
 * caller's and is not modified. "seq", "time", "prev" and "mac" are set here (a caller's values
 * are replaced). Secrets of the redactor (audit_set_redactor) are replaced by [REDACTED] in a
 * copy. A record over LIM_AUDIT_RECORD_MAX has its largest fields ("args", "result", "detail",
 * "error") replaced by {"truncated": true, "bytes": N, "sha256": H}; ERR_TOOBIG if that is not
 * enough. ERR_AUDIT when the write (or the fdatasync in EVERY mode) fails. seq_out may be NULL. */
int audit_append(struct audit *a, const json_t *rec, uint64_t *seq_out);

/* fdatasync what has been written (any mode). */
int audit_flush(struct audit *a);
/* Write a checkpoint now (record + checkpoint file + syslog). */
int audit_checkpoint(struct audit *a);
/* Event-loop hooks. now_ms is CLOCK_MONOTONIC in ms (audit_now_ms()). tick runs a due batch
 * fdatasync and a due timed checkpoint; next_deadline is when tick must run next, -1: never. */
int audit_tick(struct audit *a, uint64_t now_ms);
int64_t audit_next_deadline(const struct audit *a);
uint64_t audit_now_ms(void);

bool audit_healthy(const struct audit *a);
uint64_t audit_seq(const struct audit *a);		/* last seq written */
uint64_t audit_durable_seq(const struct audit *a);	/* last seq known fdatasync'd */

struct audit_stats {
	uint64_t records;		/* written by this handle, checkpoints included */
	uint64_t failed;		/* appends refused with ERR_AUDIT */
	uint64_t syncs;
	uint64_t checkpoints;
	uint64_t rotations;
	uint64_t syslog_errors;
	int last_error;			/* -errno of the last failed write/sync, 0 if none */
};
void audit_stats(const struct audit *a, struct audit_stats *st);

/* Secrets to strip from every record (the credential store's redactor). Borrowed: set it again
 * (or NULL) before the redactor it points to is freed, e.g. on reload. */
void audit_set_redactor(struct audit *a, const struct redact_set *rs);

/* --- building records --- */

/* One tool call. NULL / negative members are left out. */
struct audit_call {
	const char *call_id;
	const char *tenant;
	const char *principal;		/* "agent:NAME", "operator:NAME" */
	const char *tool, *op;
	const json_t *args;		/* borrowed */
	const char *decision;		/* allow, deny, pending, dry_run */
	const char *const *rule_ids;
	size_t nrule_ids;
	const char *policy_hash;
	const char *const *approval_ids;
	size_t napproval_ids;
	int64_t duration_ms;		/* < 0: absent */
	const char *outcome;		/* ok, error, timeout, denied, ... */
	int http_status;		/* <= 0: absent */
	const char *error;
	const char *reason;
};
/* {"type": type, "call_id", "tenant", ...} as a new reference, or NULL (out of memory). */
json_t *audit_rec_call(const char *type, const struct audit_call *c);

/* --- the supervisor key --- */

/* Load the key from path: 64 hex digits (one trailing newline allowed) or 32 raw bytes, in a
 * regular file owned by root or the euid with no group/other bits. With create, a missing file
 * is created (0600, 32 random bytes as hex, fsync'd). ERR_CONFIG with the reason in err. */
int audit_key_load(const char *path, bool create, uint8_t key[AUDIT_KEY_LEN], char *err,
    size_t errlen);

/* --- primitives shared with the verifier and the approval store --- */

int audit_mac_new(const uint8_t key[AUDIT_KEY_LEN], struct audit_mac **out);
void audit_mac_free(struct audit_mac *m);
/* hex HMAC-SHA256 of buf; hex gets AUDIT_HEX_LEN chars and a NUL. */
int audit_mac_hex(struct audit_mac *m, const void *buf, size_t len, char hex[AUDIT_HEX_LEN + 1]);
int audit_sha256_hex(const void *buf, size_t len, char hex[AUDIT_HEX_LEN + 1]);
/* Split a line (without its newline): the MAC covers line[0..*bodylen), everything before
 * ,"mac":; *mac points at its 64 hex digits. Returns 0, or ERR_PROTO when the line does not end
 * in ,"mac":"<64 lower-case hex>"}. */
int audit_line_split(const char *line, size_t len, size_t *bodylen, const char **mac);
/* Check a line's MAC (constant time): 0, ERR_PROTO (no MAC) or ERR_DENIED (mismatch). */
int audit_line_check(struct audit_mac *m, const char *line, size_t len);
/* Seal a serialised object: its closing '}' (buf[len - 1]) becomes ,"mac":"<hex>"} with the
 * MAC of buf[0..len - 1). buf must hold len - 1 + AUDIT_MAC_SUFFIX_LEN + 1 bytes (a NUL is
 * added). Returns the new length. Used for records, checkpoint and approval files. */
size_t audit_line_seal(struct audit_mac *m, char *buf, size_t len);
/* Read exactly len bytes at off (-ENODATA when the file is shorter). */
int audit_pread_all(int fd, void *buf, size_t len, uint64_t off);
/* "2026-01-02T03:04:05.678Z" for a Unix time in ms. buf must hold 32 bytes. */
void audit_time_format(int64_t ms, char buf[32]);
int64_t audit_wall_ms(void);

/* Checkpoint file of a log: (seq, hash) with its MAC checked when m is not NULL. ERR_DENIED on a
 * MAC mismatch, ERR_PROTO when malformed, -ENOENT when absent. file may be NULL. */
int audit_ckpt_read(const char *path, struct audit_mac *m, uint64_t *seq,
    char hash[AUDIT_HEX_LEN + 1], char *file, size_t filelen);
/* <dir>/<stem>.checkpoint for a live path <dir>/<stem>.jsonl (malloc'd). */
char *audit_ckpt_path(const char *log_path);

#endif
