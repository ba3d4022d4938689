/* The audit log writer: chain, MAC, fsync modes, rotation, checkpoints, recovery.
 * Format and rules: docs/AUDIT.md. Primitives (MAC, key, checkpoint file) are in audit_util.c,
 * the open-time recovery of the chain's tail in audit_recover.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <openssl/evp.h>

/* OpenSSL's types.h typedefs ERR_STATE, which ipc/err.h also names (an error code). */
#define ERR_STATE CORRAL_ERR_STATE
#include "ipc/err.h"
#undef ERR_STATE
#include "ipc/limits.h"
#include "supervisor/audit.h"
#include "supervisor/audit_int.h"
#include "supervisor/cred.h"

#define BODY_MAX	(LIM_AUDIT_RECORD_MAX - AUDIT_MAC_SUFFIX_LEN)
#define DUMP_FLAGS	(JSON_SORT_KEYS | JSON_COMPACT)

static const char *const audit_types[] = {
	"decision", "outcome", "lifecycle", "violation", "approval", "reload", "recovery",
	"evidence", "control", NULL
};

uint64_t
audit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
audit_zero_hash(char h[AUDIT_HEX_LEN + 1])
{
	memset(h, '0', AUDIT_HEX_LEN);
	h[AUDIT_HEX_LEN] = '\0';
}

/* --- low-level file I/O --- */

/* Write whole lines at the known end; a partial write is cut off again so that the file only
 * ever holds complete lines (the next attempt writes at the same offset anyway). */
static int
audit_write(struct audit *a, const char *buf, size_t len)
{
	size_t done = 0;
	int r;

	while (done < len) {
		ssize_t k = pwrite(a->fd, buf + done, len - done, (off_t)(a->off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = k < 0 ? -errno : -EIO;
			if (done > 0)
				(void)ftruncate(a->fd, (off_t)a->off);
			return r;
		}
		done += (size_t)k;
	}
	return 0;
}

/* durable_seq is read by the loop while the sync thread may advance it: atomic, and only ever
 * raised (under sy_mu when the thread runs). */
static void
audit_durable_raise(struct audit *a, uint64_t seq)
{
	if (a->syncer_on)
		pthread_mutex_lock(&a->sy_mu);
	if (seq > __atomic_load_n(&a->durable_seq, __ATOMIC_RELAXED))
		__atomic_store_n(&a->durable_seq, seq, __ATOMIC_RELEASE);
	if (a->syncer_on)
		pthread_mutex_unlock(&a->sy_mu);
}

/* fdatasync on the caller's thread: EVERY, checkpoints, rotation, flush, close. */
static int
audit_sync(struct audit *a)
{
	if (audit_durable_seq(a) == a->seq && a->pending == 0)
		return 0;
	if (fdatasync(a->fd) < 0) {
		int r = -errno;

		a->healthy = false;
		a->sync_errors++;
		a->st.last_error = r;
		return r;
	}
	audit_durable_raise(a, a->seq);
	a->pending = 0;
	a->st.syncs++;
	return 0;
}

/* --- the sync thread (BATCH with opts.sync_thread) --- */

static void *
audit_syncer_main(void *arg)
{
	struct audit *a = arg;

	pthread_mutex_lock(&a->sy_mu);
	for (;;) {
		uint64_t want;
		int fd, r;

		while (!a->sy_stop && a->sy_want <= a->sy_taken)
			pthread_cond_wait(&a->sy_cv, &a->sy_mu);
		if (a->sy_stop)
			break;
		want = a->sy_taken = a->sy_want;
		fd = a->sy_fd;
		a->sy_busy = true;
		pthread_mutex_unlock(&a->sy_mu);
		r = fdatasync(fd) < 0 ? -errno : 0;
		pthread_mutex_lock(&a->sy_mu);
		a->sy_busy = false;
		if (r < 0)
			a->sy_err = r;
		else {
			a->sy_syncs++;
			if (want > __atomic_load_n(&a->durable_seq, __ATOMIC_RELAXED))
				__atomic_store_n(&a->durable_seq, want, __ATOMIC_RELEASE);
		}
		pthread_cond_broadcast(&a->sy_idle);
	}
	pthread_mutex_unlock(&a->sy_mu);
	return NULL;
}

static int
audit_syncer_start(struct audit *a)
{
	int r;

	a->sy_fd = a->fd;
	a->sy_want = a->sy_taken = a->seq;
	if (pthread_mutex_init(&a->sy_mu, NULL) != 0)
		return -ENOMEM;
	if (pthread_cond_init(&a->sy_cv, NULL) != 0) {
		pthread_mutex_destroy(&a->sy_mu);
		return -ENOMEM;
	}
	if (pthread_cond_init(&a->sy_idle, NULL) != 0) {
		pthread_cond_destroy(&a->sy_cv);
		pthread_mutex_destroy(&a->sy_mu);
		return -ENOMEM;
	}
	if ((r = pthread_create(&a->syncer, NULL, audit_syncer_main, a)) != 0) {
		pthread_cond_destroy(&a->sy_idle);
		pthread_cond_destroy(&a->sy_cv);
		pthread_mutex_destroy(&a->sy_mu);
		return -r;
	}
	a->syncer_on = true;
	return 0;
}

static void
audit_syncer_stop(struct audit *a)
{
	if (!a->syncer_on)
		return;
	pthread_mutex_lock(&a->sy_mu);
	a->sy_stop = true;
	pthread_cond_signal(&a->sy_cv);
	pthread_mutex_unlock(&a->sy_mu);
	pthread_join(a->syncer, NULL);
	pthread_cond_destroy(&a->sy_idle);
	pthread_cond_destroy(&a->sy_cv);
	pthread_mutex_destroy(&a->sy_mu);
	a->syncer_on = false;
}

/* The group commit: hand the batch to the thread (a request it has not taken yet just grows),
 * or sync here. */
static int
audit_sync_batch(struct audit *a)
{
	if (!a->syncer_on)
		return audit_sync(a);
	pthread_mutex_lock(&a->sy_mu);
	a->sy_want = a->seq;
	pthread_cond_signal(&a->sy_cv);
	pthread_mutex_unlock(&a->sy_mu);
	a->pending = 0;
	return 0;
}

/* Before the loop closes the fd the thread syncs (rotation): wait for an fdatasync under way,
 * drop a request not taken (the caller has just synced everything itself), point it at fd. */
static void
audit_syncer_switch(struct audit *a, int fd)
{
	if (!a->syncer_on)
		return;
	pthread_mutex_lock(&a->sy_mu);
	while (a->sy_busy)
		pthread_cond_wait(&a->sy_idle, &a->sy_mu);
	a->sy_taken = a->sy_want;
	a->sy_fd = fd;
	pthread_mutex_unlock(&a->sy_mu);
}

/* A failed fdatasync of the thread counts as one of ours: unhealthy until the next append
 * writes a recovery record naming it. */
static int
audit_syncer_check(struct audit *a)
{
	int r;

	if (!a->syncer_on)
		return 0;
	pthread_mutex_lock(&a->sy_mu);
	r = a->sy_err;
	a->sy_err = 0;
	pthread_mutex_unlock(&a->sy_mu);
	if (r == 0)
		return 0;
	a->healthy = false;
	a->sync_errors++;
	a->st.last_error = r;
	return r;
}

/* --- building one line --- */

/* Replace a big member by its digest so the record fits; the digest still pins the value. */
static int
audit_shrink_field(json_t *rec, const char *key)
{
	json_t *v = json_object_get(rec, key), *d;
	char hex[AUDIT_HEX_LEN + 1];
	char *s;
	int r;

	if (v == NULL)
		return 0;
	if ((s = json_dumps(v, DUMP_FLAGS | JSON_ENCODE_ANY)) == NULL)
		return -ENOMEM;
	r = audit_sha256_hex(s, strlen(s), hex);
	d = json_pack("{s:b, s:I, s:s}", "truncated", 1, "bytes", (json_int_t)strlen(s),
	    "sha256", hex);
	free(s);
	if (r < 0 || d == NULL) {
		json_decref(d);
		return r < 0 ? r : -ENOMEM;
	}
	return json_object_set_new(rec, key, d) < 0 ? -ENOMEM : 1;
}

static int
audit_serialise(json_t *rec, char *out, size_t *len)
{
	static const char *const big[] = { "args", "result", "detail", "error", NULL };
	size_t n;
	int r;

	for (size_t i = 0;; i++) {
		n = json_dumpb(rec, out, BODY_MAX, DUMP_FLAGS);
		if (n == 0)
			return -ENOMEM;
		if (n <= BODY_MAX)
			break;
		if (big[i] == NULL)
			return ERR_TOOBIG;
		if ((r = audit_shrink_field(rec, big[i])) < 0)
			return r;
	}
	*len = n;
	return 0;
}

/* The record's "time": the date and second are rendered once per second. */
static const char *
audit_time_now(struct audit *a)
{
	int64_t ms = audit_wall_ms(), sec = ms / 1000;
	int frac = (int)(ms % 1000);

	if (ms < 0 || sec != a->ts_sec) {
		audit_time_format(ms, a->time_buf);
		a->ts_sec = ms < 0 ? -1 : sec;
		return a->time_buf;
	}
	a->time_buf[20] = (char)('0' + frac / 100);
	a->time_buf[21] = (char)('0' + frac / 10 % 10);
	a->time_buf[22] = (char)('0' + frac % 10);
	return a->time_buf;
}

static int
audit_chain_hash(struct audit *a, const char *buf, size_t len, char hash[AUDIT_HEX_LEN + 1])
{
	static const char hexd[] = "0123456789abcdef";
	uint8_t d[32];

	if (!EVP_DigestInit_ex(a->shactx, a->sha, NULL) || !EVP_DigestUpdate(a->shactx, buf, len) ||
	    !EVP_DigestFinal_ex(a->shactx, d, NULL))
		return -EIO;
	for (size_t i = 0; i < sizeof(d); i++) {
		hash[2 * i] = hexd[d[i] >> 4];
		hash[2 * i + 1] = hexd[d[i] & 15];
	}
	hash[AUDIT_HEX_LEN] = '\0';
	return 0;
}

/* The slow path: a copy that jansson serialises, shrinking big members until it fits. */
static int
audit_serialise_copy(const json_t *src, const char *ts, uint64_t seq, const char *prev,
    char *out, size_t *len)
{
	json_t *c = json_copy((json_t *)src);	/* shallow: only top-level members change */
	int r = -ENOMEM;

	if (c == NULL)
		return -ENOMEM;
	json_object_del(c, "mac");
	if (json_object_set_new(c, "seq", json_integer((json_int_t)seq)) < 0 ||
	    json_object_set_new(c, "time", json_string(ts)) < 0 ||
	    json_object_set_new(c, "prev", json_string(prev)) < 0)
		goto out;
	r = audit_serialise(c, out, len);
out:
	json_decref(c);
	return r;
}

/* One line into out (LIM_AUDIT_RECORD_MAX + 2 bytes): the caller's members, redacted, plus
 * seq, time and prev; sealed; newline. hash gets the line's SHA-256 (the next prev). The
 * caller's record is serialised in place (audit_dump.c); only a record holding a secret is
 * copied (to redact it), only one too big or too wide goes through jansson. */
static int
audit_build(struct audit *a, const json_t *rec, uint64_t seq, const char *prev, char *out,
    size_t *len, char hash[AUDIT_HEX_LEN + 1])
{
	const char *ts = audit_time_now(a);
	json_t *c = NULL;
	const json_t *src = rec;
	int r;

	if (a->rs != NULL && redact_json_has(a->rs, rec)) {
		if ((c = json_deep_copy(rec)) == NULL)
			return -ENOMEM;
		if ((r = redact_json(a->rs, c)) < 0)
			goto out;
		src = c;
	}
	r = audit_dump_rec(src, seq, ts, prev, out, BODY_MAX, len);
	if (r == ERR_TOOBIG || r == -E2BIG)
		r = audit_serialise_copy(src, ts, seq, prev, out, len);
	if (r < 0)
		goto out;
	*len = audit_line_seal(a->mac, out, *len);
	r = audit_chain_hash(a, out, *len, hash);
	out[(*len)++] = '\n';
out:
	json_decref(c);
	return r;
}

/* Build, write (first and rec in one write: both or neither), advance the chain, apply the
 * fsync mode. first may be NULL. */
static int
audit_emit(struct audit *a, const json_t *first, const json_t *rec, uint64_t *seq_out)
{
	char h1[AUDIT_HEX_LEN + 1], h2[AUDIT_HEX_LEN + 1];
	const char *prev = a->prev;
	size_t l1 = 0, l2;
	uint64_t seq = a->seq;
	int r;

	if (first != NULL) {
		if ((r = audit_build(a, first, ++seq, prev, a->buf, &l1, h1)) < 0)
			return r;
		prev = h1;
	}
	if ((r = audit_build(a, rec, ++seq, prev, a->buf + l1, &l2, h2)) < 0)
		return r;
	if ((r = audit_write(a, a->buf, l1 + l2)) < 0) {
		a->st.last_error = r;
		return r;
	}
	if (a->pending == 0)
		a->batch_deadline = audit_now_ms() + a->batch_ms;
	a->off += l1 + l2;
	a->st.records += seq - a->seq;
	a->pending += (unsigned)(seq - a->seq);
	a->seq = seq;
	memcpy(a->prev, h2, sizeof(h2));
	if (seq_out)
		*seq_out = a->seq;
	if (a->mode == AUDIT_FSYNC_EVERY)
		return audit_sync(a);
	/* BATCH: the deadline is checked here too, so a loop too busy to tick still syncs. */
	if (a->mode == AUDIT_FSYNC_BATCH &&
	    (a->pending >= a->batch_max || audit_now_ms() >= a->batch_deadline))
		return audit_sync_batch(a);
	return 0;
}

/* --- checkpoints --- */

static void
audit_syslog(struct audit *a, uint64_t seq, const char *hash)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char msg[512], ts[32];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	if (a->syslog_path == NULL)
		return;
	if (a->syslog_fd < 0) {
		a->syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		strlcpy(sun.sun_path, a->syslog_path, sizeof(sun.sun_path));
		if (a->syslog_fd < 0 ||
		    connect(a->syslog_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			goto fail;
	}
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
	/* RFC 3164 with our own ident: openlog() would change corrald's process-wide ident. */
	n = snprintf(msg, sizeof(msg), "<%d>%s corral-audit[%ld]: checkpoint seq=%" PRIu64
	    " hash=%s file=%s/%s", LOG_AUTHPRIV | LOG_NOTICE, ts, (long)getpid(), seq, hash,
	    a->dir, a->live);
	if (n > 0 && send(a->syslog_fd, msg, (size_t)n, MSG_NOSIGNAL) == n)
		return;
fail:
	a->st.syslog_errors++;
	if (a->syslog_fd >= 0)
		close(a->syslog_fd);
	a->syslog_fd = -1;
}

static int
audit_ckpt_file(struct audit *a)
{
	char body[512], ts[32], tmp[NAME_MAX + 1], name[NAME_MAX + 1];
	size_t len;
	int n, fd, r = 0;

	audit_time_format(audit_wall_ms(), ts);
	n = snprintf(body, sizeof(body), "{\"file\":\"%s\",\"hash\":\"%s\",\"seq\":%" PRIu64
	    ",\"time\":\"%s\"}", a->live, a->prev, a->seq, ts);
	if (n < 0 || (size_t)n + AUDIT_MAC_SUFFIX_LEN + 2 > sizeof(body))
		return -ENAMETOOLONG;
	len = audit_line_seal(a->mac, body, (size_t)n);
	body[len++] = '\n';
	snprintf(name, sizeof(name), "%s.checkpoint", a->stem);
	snprintf(tmp, sizeof(tmp), "%s.checkpoint.tmp", a->stem);
	if ((fd = openat(a->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -errno;
	if (write(fd, body, len) != (ssize_t)len || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	if (r == 0 && renameat(a->dirfd, tmp, a->dirfd, name) < 0)
		r = -errno;
	if (r == 0 && fsync(a->dirfd) < 0)
		r = -errno;
	return r;
}

/* Record, then fdatasync (a checkpoint must never name a record a crash can lose), then the
 * checkpoint file, then syslog. */
static int
audit_ckpt_write(struct audit *a)
{
	json_t *rec = json_pack("{s:s, s:s, s:I}", "type", "checkpoint", "file", a->live,
	    "records", (json_int_t)a->since_ckpt);
	int r;

	if (rec == NULL)
		return -ENOMEM;
	r = audit_emit(a, NULL, rec, NULL);
	json_decref(rec);
	if (r < 0 || (r = audit_sync(a)) < 0 || (r = audit_ckpt_file(a)) < 0) {
		a->healthy = false;
		a->st.last_error = r;
		return r;
	}
	audit_syslog(a, a->seq, a->prev);
	a->since_ckpt = 0;
	a->last_ckpt_mono = audit_now_ms();
	a->st.checkpoints++;
	return 0;
}

/* N records since the last one, but not more often than ckpt_min_ms (each costs three
 * fsyncs); or any record and ckpt_ms gone by. */
static bool
audit_ckpt_due(const struct audit *a, uint64_t now_ms)
{
	if (a->since_ckpt == 0)
		return false;
	if (a->since_ckpt >= a->ckpt_records && now_ms >= a->last_ckpt_mono + a->ckpt_min_ms)
		return true;
	return now_ms >= a->last_ckpt_mono + a->ckpt_ms;
}

int
audit_checkpoint(struct audit *a)
{
	return audit_ckpt_write(a) < 0 ? ERR_AUDIT : 0;
}

/* --- rotation --- */

/* Create the next live file; until that works the chain goes on in the renamed one. */
static int
audit_switch(struct audit *a)
{
	int fd, r;

	fd = openat(a->dirfd, a->live, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if ((r = audit_sync(a)) < 0 || fsync(a->dirfd) < 0) {
		r = r < 0 ? r : -errno;
		close(fd);
		unlinkat(a->dirfd, a->live, 0);
		return r;
	}
	audit_syncer_switch(a, fd);
	close(a->fd);
	a->fd = fd;
	a->off = 0;
	a->rotate_at = a->rotate_bytes;
	a->file_first_seq = a->seq + 1;
	a->need_newfile = false;
	a->st.rotations++;
	return 0;
}

static int
audit_rotate(struct audit *a)
{
	char name[NAME_MAX + 1];
	int r;

	if (a->since_ckpt > 0 && (r = audit_ckpt_write(a)) < 0)
		return r;
	snprintf(name, sizeof(name), "%s.%020" PRIu64 ".jsonl", a->stem, a->file_first_seq);
	if (renameat2(a->dirfd, a->live, a->dirfd, name, RENAME_NOREPLACE) < 0) {
		/* Not fatal: keep writing here and try again after another rotate_bytes. */
		a->st.last_error = -errno;
		a->rotate_at = a->off + a->rotate_bytes;
		return 0;
	}
	a->need_newfile = true;
	(void)fsync(a->dirfd);
	(void)audit_switch(a);
	return 0;
}

/* --- append --- */

static bool
audit_type_ok(const json_t *rec)
{
	const char *t = json_string_value(json_object_get(rec, "type"));

	if (t == NULL)
		return false;
	for (size_t i = 0; audit_types[i]; i++)
		if (strcmp(t, audit_types[i]) == 0)
			return true;
	return false;
}

/* After an outage, the first record says how many were refused and since when. It is written
 * in the same write as the record that follows it. */
static json_t *
audit_resume_rec(struct audit *a)
{
	char ts[32];

	if (a->first_err == 0)
		a->first_err = a->st.last_error;
	if (a->lost_since_ms == 0)
		a->lost_since_ms = audit_wall_ms();
	audit_time_format(a->lost_since_ms, ts);
	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "type", "recovery", "event",
	    "write_resumed", "lost", (json_int_t)a->lost, "sync_errors",
	    (json_int_t)a->sync_errors, "since", ts, "error", err_name(a->first_err));
}

static void
audit_fail(struct audit *a, int r)
{
	if (a->lost == 0) {
		a->lost_since_ms = audit_wall_ms();
		a->first_err = r;
	}
	a->lost++;
	a->healthy = false;
	a->st.failed++;
	if (r != 0)
		a->st.last_error = r;
}

int
audit_append(struct audit *a, const json_t *rec, uint64_t *seq_out)
{
	json_t *first = NULL;
	int r;

	if (a == NULL || !json_is_object(rec) || !audit_type_ok(rec))
		return ERR_SCHEMA;
	(void)audit_syncer_check(a);
	if (a->need_newfile)
		(void)audit_switch(a);
	if (a->off >= a->rotate_at && !a->need_newfile && (r = audit_rotate(a)) < 0)
		goto fail;
	if ((a->lost > 0 || a->sync_errors > 0) && (first = audit_resume_rec(a)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	r = audit_emit(a, first, rec, seq_out);
	json_decref(first);
	if (r == ERR_TOOBIG)
		return r;
	if (r < 0)
		goto fail;
	if (first != NULL) {
		a->since_ckpt++;
		a->lost = a->sync_errors = 0;
		a->first_err = 0;
		a->lost_since_ms = 0;
	}
	a->healthy = true;
	if (++a->since_ckpt >= a->ckpt_records && audit_ckpt_due(a, audit_now_ms()))
		(void)audit_ckpt_write(a);	/* failure leaves the log unhealthy, the record stands */
	return 0;
fail:
	audit_fail(a, r);
	return ERR_AUDIT;
}

int
audit_flush(struct audit *a)
{
	return audit_sync(a) < 0 ? ERR_AUDIT : 0;
}

int
audit_tick(struct audit *a, uint64_t now_ms)
{
	int r = 0;

	if (audit_syncer_check(a) < 0)
		r = ERR_AUDIT;
	if (a->pending > 0 && now_ms >= a->batch_deadline && audit_sync_batch(a) < 0)
		r = ERR_AUDIT;
	if (audit_ckpt_due(a, now_ms) && audit_ckpt_write(a) < 0)
		r = ERR_AUDIT;
	return r;
}

int64_t
audit_next_deadline(const struct audit *a)
{
	int64_t d = -1;

	if (a->pending > 0 && a->mode == AUDIT_FSYNC_BATCH)
		d = (int64_t)a->batch_deadline;
	if (a->since_ckpt > 0) {
		int64_t c = (int64_t)(a->last_ckpt_mono + (a->since_ckpt >= a->ckpt_records ?
		    a->ckpt_min_ms : a->ckpt_ms));

		if (d < 0 || c < d)
			d = c;
	}
	return d;
}

bool
audit_healthy(const struct audit *a)
{
	return a != NULL && a->healthy;
}

uint64_t
audit_seq(const struct audit *a)
{
	return a->seq;
}

uint64_t
audit_durable_seq(const struct audit *a)
{
	return __atomic_load_n(&a->durable_seq, __ATOMIC_ACQUIRE);
}

void
audit_stats(const struct audit *a, struct audit_stats *st)
{
	*st = a->st;
	if (a->syncer_on) {
		pthread_mutex_lock((pthread_mutex_t *)&a->sy_mu);
		st->syncs += a->sy_syncs;
		pthread_mutex_unlock((pthread_mutex_t *)&a->sy_mu);
	}
}

void
audit_set_redactor(struct audit *a, const struct redact_set *rs)
{
	a->rs = rs;
}

/* --- open / close --- */

/* The crash left a partial line; audit_recover() moved it aside. Say so in the chain. */
static int
audit_report_torn(struct audit *a)
{
	json_t *rec = json_pack("{s:s, s:s, s:I, s:s, s:s}", "type", "recovery", "event",
	    "torn_tail", "bytes", (json_int_t)a->torn_bytes, "sha256", a->torn_hash,
	    "saved_as", a->torn_name);
	int r;

	if (rec == NULL)
		return -ENOMEM;
	r = audit_emit(a, NULL, rec, NULL);
	json_decref(rec);
	if (r == 0) {
		a->since_ckpt++;
		r = audit_sync(a);
	}
	return r;
}

static void
audit_free(struct audit *a)
{
	if (a == NULL)
		return;
	audit_syncer_stop(a);
	if (a->fd >= 0)
		close(a->fd);
	if (a->lockfd >= 0)
		close(a->lockfd);
	if (a->dirfd >= 0)
		close(a->dirfd);
	if (a->syslog_fd >= 0)
		close(a->syslog_fd);
	audit_mac_free(a->mac);
	EVP_MD_CTX_free(a->shactx);
	EVP_MD_free(a->sha);
	free(a->dir);
	free(a->live);
	free(a->stem);
	free(a->syslog_path);
	free(a->buf);
	free(a);
}

int
audit_close(struct audit *a)
{
	int r = 0;

	if (a == NULL)
		return 0;
	if (a->since_ckpt > 0 && audit_ckpt_write(a) < 0)
		r = ERR_AUDIT;
	else if (audit_sync(a) < 0)
		r = ERR_AUDIT;
	audit_free(a);
	return r;
}

static void
audit_defaults(struct audit *a, const struct audit_opts *o)
{
	a->mode = o->fsync;
	a->batch_max = o->batch_max ? o->batch_max : LIM_AUDIT_BATCH;
	a->batch_ms = o->batch_ms ? o->batch_ms : LIM_AUDIT_BATCH_MS;
	a->rotate_bytes = o->rotate_bytes ? o->rotate_bytes : LIM_AUDIT_ROTATE_BYTES;
	a->rotate_at = a->rotate_bytes;
	a->ckpt_records = o->ckpt_records ? o->ckpt_records : LIM_AUDIT_CKPT_RECORDS;
	a->ckpt_ms = o->ckpt_ms ? o->ckpt_ms : LIM_AUDIT_CKPT_MS;
	a->ckpt_min_ms = o->ckpt_min_ms < 0 ? 0 : o->ckpt_min_ms ? (unsigned)o->ckpt_min_ms :
	    LIM_AUDIT_CKPT_MIN_MS;
	a->fd = a->dirfd = a->lockfd = a->syslog_fd = -1;
	a->healthy = true;
	audit_zero_hash(a->prev);
}

static int
audit_paths(struct audit *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	a->dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	a->live = strdup(slash ? slash + 1 : path);
	if (a->dir == NULL || a->live == NULL)
		return -ENOMEM;
	if (a->dir[0] == '\0') {
		free(a->dir);
		if ((a->dir = strdup("/")) == NULL)
			return -ENOMEM;
	}
	n = strlen(a->live);
	if (n == 0 || n > NAME_MAX - 32)
		return -EINVAL;
	if (n > 6 && strcmp(a->live + n - 6, ".jsonl") == 0)
		n -= 6;
	return (a->stem = strndup(a->live, n)) ? 0 : -ENOMEM;
}

static int
audit_open_files(struct audit *a, char *err, size_t errlen)
{
	char lock[NAME_MAX + 1];

	if (mkdir(a->dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", a->dir, strerror(errno));
		return -errno;
	}
	if ((a->dirfd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", a->dir, strerror(errno));
		return -errno;
	}
	snprintf(lock, sizeof(lock), "%s.lock", a->stem);
	a->lockfd = openat(a->dirfd, lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (a->lockfd < 0 || flock(a->lockfd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;

		snprintf(err, errlen, "%s/%s: %s", a->dir, lock,
		    r == -EBUSY ? "audit log in use by another process" : strerror(-r));
		return r;
	}
	a->fd = openat(a->dirfd, a->live, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0) {
		snprintf(err, errlen, "%s/%s: %s", a->dir, a->live, strerror(errno));
		return -errno;
	}
	return 0;
}

int
audit_open(const struct audit_opts *o, struct audit **out, char *err, size_t errlen)
{
	struct audit *a;
	char dummy[1];
	int r;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (o == NULL || o->path == NULL || o->key == NULL || o->fsync > AUDIT_FSYNC_NONE)
		return -EINVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	audit_defaults(a, o);
	r = -ENOMEM;
	if ((a->buf = malloc(2 * (LIM_AUDIT_RECORD_MAX + 2))) == NULL)
		goto out;
	if (o->syslog_path == NULL || o->syslog_path[0] != '\0')
		if ((a->syslog_path = strdup(o->syslog_path ? o->syslog_path : "/dev/log")) == NULL)
			goto out;
	if ((r = audit_paths(a, o->path)) < 0 || (r = audit_mac_new(o->key, &a->mac)) < 0)
		goto out;
	a->sha = EVP_MD_fetch(NULL, "SHA256", NULL);
	a->shactx = EVP_MD_CTX_new();
	a->ts_sec = -1;
	if (a->sha == NULL || a->shactx == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = audit_open_files(a, err, errlen)) < 0)
		goto out;
	if ((r = audit_recover(a, err, errlen)) < 0)
		goto out;
	a->durable_seq = a->seq;
	a->last_ckpt_mono = audit_now_ms();
	if (a->torn_bytes > 0 && (r = audit_report_torn(a)) < 0) {
		snprintf(err, errlen, "%s/%s: cannot write the recovery record: %s", a->dir,
		    a->live, err_str(r));
		r = ERR_AUDIT;
		goto out;
	}
	if (o->sync_thread && a->mode == AUDIT_FSYNC_BATCH && (r = audit_syncer_start(a)) < 0) {
		snprintf(err, errlen, "audit sync thread: %s", err_str(r));
		goto out;
	}
	*out = a;
	return 0;
out:
	audit_free(a);
	return r;
}
