/* Open-time recovery: find where the chain ends and whether it may be continued.
 *
 * The chain continues from the last complete line of the live file, or, when the live file is
 * empty (fresh after a rotation, or a crash in the middle of one), of the newest rotated file.
 * Bytes after the last newline are a torn write: they are copied to a side file, fsync'd, and
 * cut off, so no byte of evidence is lost and the next record starts on a line of its own. The
 * last complete line must verify under the key, and the log must reach the checkpoint file's
 * record: otherwise the log was altered (or the key replaced) and corrald refuses to go on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <jansson.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/audit.h"
#include "supervisor/audit_int.h"

/* A line is at most LIM_AUDIT_RECORD_MAX + newline; two of them always hold the last one. */
#define TAIL_WINDOW	(2 * ((size_t)LIM_AUDIT_RECORD_MAX + 64))

struct tail {
	uint64_t good_end;		/* end of the last complete line (0: none) */
	char *buf;			/* the window read */
	const char *line;		/* last complete line, without newline (NULL: none) */
	size_t linelen;
	const char *torn;		/* bytes after the last newline */
	size_t tornlen;
};

static int
tail_scan(int fd, uint64_t size, struct tail *t, const char *name, char *err, size_t errlen)
{
	size_t w = size < TAIL_WINDOW ? (size_t)size : TAIL_WINDOW;
	uint64_t base = size - w;
	const char *nl, *prevnl;
	int r;

	memset(t, 0, sizeof(*t));
	if ((t->buf = malloc(w)) == NULL)
		return -ENOMEM;
	if ((r = audit_pread_all(fd, t->buf, w, base)) < 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(-r));
		return r;
	}
	if ((nl = memrchr(t->buf, '\n', w)) == NULL) {
		if (base > 0)
			goto toolong;
		t->torn = t->buf;
		t->tornlen = w;
		return 0;
	}
	t->good_end = base + (uint64_t)(nl - t->buf) + 1;
	t->torn = nl + 1;
	t->tornlen = w - (size_t)(nl + 1 - t->buf);
	prevnl = memrchr(t->buf, '\n', (size_t)(nl - t->buf));
	if (prevnl == NULL && base > 0)
		goto toolong;
	t->line = prevnl ? prevnl + 1 : t->buf;
	t->linelen = (size_t)(nl - t->line);
	return 0;
toolong:
	snprintf(err, errlen, "%s: no record boundary in the last %zu bytes: not an audit log",
	    name, w);
	return ERR_AUDIT;
}

/* The last record: its MAC must verify; it gives seq and prev. */
static int
tail_check(struct audit *a, const char *line, size_t len, const char *name, char *err,
    size_t errlen)
{
	json_t *j, *s;
	int r;

	r = audit_line_check(a->mac, line, len);
	if (r == ERR_DENIED) {
		snprintf(err, errlen, "%s: last record does not verify under the key: the log was "
		    "altered or the key replaced (run corralctl audit verify)", name);
		return ERR_AUDIT;
	}
	j = r < 0 ? NULL : json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	s = json_object_get(j, "seq");
	if (!json_is_integer(s) || json_integer_value(s) < 1) {
		json_decref(j);
		snprintf(err, errlen, "%s: last line is not an audit record", name);
		return ERR_AUDIT;
	}
	a->seq = (uint64_t)json_integer_value(s);
	json_decref(j);
	return audit_sha256_hex(line, len, a->prev);
}

/* seq of the live file's first record, for the name it gets when rotated. */
static uint64_t
first_seq(int fd, uint64_t size, uint64_t fallback)
{
	size_t w = size < LIM_AUDIT_RECORD_MAX + 1 ? (size_t)size : LIM_AUDIT_RECORD_MAX + 1;
	char *buf = malloc(w), *nl;
	uint64_t seq = fallback;
	json_t *j;

	if (buf == NULL || audit_pread_all(fd, buf, w, 0) < 0 ||
	    (nl = memchr(buf, '\n', w)) == NULL)
		goto out;
	j = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
	if (json_is_integer(json_object_get(j, "seq")))
		seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
	json_decref(j);
out:
	free(buf);
	return seq;
}

static int
save_torn(struct audit *a, const struct tail *t)
{
	size_t done = 0;
	int fd, r = 0;

	snprintf(a->torn_name, sizeof(a->torn_name), "%s.torn-%" PRId64, a->stem,
	    audit_wall_ms());
	fd = openat(a->dirfd, a->torn_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (done < t->tornlen && r == 0) {
		ssize_t k = write(fd, t->torn + done, t->tornlen - done);

		if (k > 0)
			done += (size_t)k;
		else if (!(k < 0 && errno == EINTR))
			r = k < 0 ? -errno : -EIO;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && fsync(a->dirfd) < 0)
		r = -errno;
	if (r < 0)
		return r;
	a->torn_bytes = t->tornlen;
	return audit_sha256_hex(t->torn, t->tornlen, a->torn_hash);
}

static int
recover_live(struct audit *a, char *err, size_t errlen)
{
	struct tail t;
	struct stat st;
	int r;

	if (fstat(a->fd, &st) < 0)
		return -errno;
	if (st.st_size == 0)
		return 0;
	if ((r = tail_scan(a->fd, (uint64_t)st.st_size, &t, a->live, err, errlen)) < 0)
		goto out;
	if (t.tornlen > 0) {
		if ((r = save_torn(a, &t)) < 0 || ftruncate(a->fd, (off_t)t.good_end) < 0 ||
		    fsync(a->fd) < 0) {
			r = r < 0 ? r : -errno;
			snprintf(err, errlen, "%s/%s: cannot move the torn tail aside: %s", a->dir,
			    a->live, strerror(-r));
			goto out;
		}
	}
	if (t.line != NULL) {
		if ((r = tail_check(a, t.line, t.linelen, a->live, err, errlen)) < 0)
			goto out;
		a->off = t.good_end;
		a->file_first_seq = first_seq(a->fd, t.good_end, a->seq);
	}
	r = 0;
out:
	free(t.buf);
	return r;
}

/* Newest <stem>.<20 digits>.jsonl in the directory, by name (names sort by first seq). */
static int
newest_rotated(struct audit *a, char *name, size_t namelen)
{
	size_t sl = strlen(a->stem);
	struct dirent *de;
	DIR *d;
	int fd;

	name[0] = '\0';
	if ((fd = dup(a->dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		const char *s = de->d_name;

		if (strncmp(s, a->stem, sl) != 0 || s[sl] != '.' || strlen(s) != sl + 27 ||
		    strcmp(s + sl + 21, ".jsonl") != 0 || strspn(s + sl + 1, "0123456789") != 20)
			continue;
		if (strcmp(s, name) > 0)
			strlcpy(name, s, namelen);
	}
	closedir(d);
	return 0;
}

static int
recover_rotated(struct audit *a, char *err, size_t errlen)
{
	char name[NAME_MAX + 1];
	struct tail t = { 0 };
	struct stat st;
	int fd = -1, r;

	if ((r = newest_rotated(a, name, sizeof(name))) < 0 || name[0] == '\0')
		return r;
	if ((fd = openat(a->dirfd, name, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s/%s: %s", a->dir, name, strerror(-r));
		goto out;
	}
	if ((r = tail_scan(fd, (uint64_t)st.st_size, &t, name, err, errlen)) < 0)
		goto out;
	if (t.tornlen > 0 || t.line == NULL) {
		snprintf(err, errlen, "%s/%s: rotated file ends in a partial record", a->dir, name);
		r = ERR_AUDIT;
		goto out;
	}
	r = tail_check(a, t.line, t.linelen, name, err, errlen);
out:
	free(t.buf);
	if (fd >= 0)
		close(fd);
	return r;
}

static int
recover_ckpt(struct audit *a, char *err, size_t errlen)
{
	char path[PATH_MAX], hash[AUDIT_HEX_LEN + 1];
	uint64_t seq;
	int r;

	snprintf(path, sizeof(path), "%s/%s.checkpoint", a->dir, a->stem);
	r = audit_ckpt_read(path, a->mac, &seq, hash, NULL, 0);
	if (r == -ENOENT)
		return 0;
	if (r == ERR_DENIED || r == ERR_PROTO) {
		snprintf(err, errlen, "%s: %s", path, r == ERR_DENIED ?
		    "does not verify under the key (altered, or the key replaced)" : "malformed");
		return ERR_AUDIT;
	}
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (seq > a->seq) {
		snprintf(err, errlen, "%s/%s: log ends at seq %" PRIu64 " but the checkpoint names "
		    "seq %" PRIu64 ": records were removed (run corralctl audit verify)", a->dir,
		    a->live, a->seq, seq);
		return ERR_AUDIT;
	}
	if (seq == a->seq && strcmp(hash, a->prev) != 0) {
		snprintf(err, errlen, "%s/%s: record seq %" PRIu64 " differs from the checkpoint",
		    a->dir, a->live, seq);
		return ERR_AUDIT;
	}
	return 0;
}

int
audit_recover(struct audit *a, char *err, size_t errlen)
{
	int r;

	a->seq = 0;
	a->off = 0;
	memset(a->prev, '0', AUDIT_HEX_LEN);
	a->prev[AUDIT_HEX_LEN] = '\0';
	if ((r = recover_live(a, err, errlen)) < 0)
		return r;
	if (a->off == 0) {
		if ((r = recover_rotated(a, err, errlen)) < 0)
			return r;
		a->file_first_seq = a->seq + 1;
	}
	return recover_ckpt(a, err, errlen);
}
