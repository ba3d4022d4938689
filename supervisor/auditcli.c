/* corralctl audit verify|tail|query. Usage and exit codes: supervisor/auditcli.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <jansson.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/audit.h"
#include "supervisor/auditcli.h"
#include "supervisor/auditreport.h"

#define EXIT_BAD	1
#define EXIT_USAGE	2

/* --- the files of a run, in chain order --- */

struct afile {
	char *path;
	uint64_t first;			/* seq of the first record; 0 unknown, UINT64_MAX empty */
	size_t idx;			/* order given, to keep the sort stable */
};

struct fileset {
	struct afile *f;
	size_t n, cap;
};

static void
fs_free(struct fileset *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->f[i].path);
	free(fs->f);
	memset(fs, 0, sizeof(*fs));
}

static uint64_t
first_seq_of(const char *path)
{
	size_t cap = LIM_AUDIT_RECORD_MAX + 1;
	char *buf = malloc(cap), *nl;
	uint64_t seq = 0;
	ssize_t n = 0;
	json_t *j;
	int fd;

	if (buf == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		goto out;
	n = pread(fd, buf, cap, 0);
	close(fd);
	if (n == 0)
		seq = UINT64_MAX;
	if (n <= 0 || (nl = memchr(buf, '\n', (size_t)n)) == NULL)
		goto out;
	j = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
	if (json_integer_value(json_object_get(j, "seq")) > 0)
		seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
	json_decref(j);
out:
	free(buf);
	return seq;
}

static int
fs_add(struct fileset *fs, const char *path)
{
	if (fs->n >= LIM_AUDIT_QUERY_FILES)
		return ERR_TOOBIG;
	if (fs->n == fs->cap) {
		size_t ncap = fs->cap ? fs->cap * 2 : 8;
		struct afile *nf = reallocarray(fs->f, ncap, sizeof(*nf));

		if (nf == NULL)
			return -ENOMEM;
		fs->f = nf;
		fs->cap = ncap;
	}
	if ((fs->f[fs->n].path = strdup(path)) == NULL)
		return -ENOMEM;
	fs->f[fs->n].first = first_seq_of(path);
	fs->f[fs->n].idx = fs->n;
	fs->n++;
	return 0;
}

static int
fs_add_dir(struct fileset *fs, const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (d == NULL)
		return -errno;
	while (r == 0 && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char path[PATH_MAX];
		struct stat st;

		if (n <= 6 || strcmp(de->d_name + n - 6, ".jsonl") != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			r = fs_add(fs, path);
	}
	closedir(d);
	return r;
}

static int
afile_cmp(const void *pa, const void *pb)
{
	const struct afile *a = pa, *b = pb;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int
fs_collect(struct fileset *fs, int argc, char **argv, const char *cmd, FILE *err)
{
	int r = 0;

	if (optind >= argc) {
		fprintf(err, "audit %s: no log file given\n", cmd);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc && r == 0; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(err, "audit %s: %s: %s\n", cmd, argv[i], strerror(errno));
			return EXIT_USAGE;
		}
		r = S_ISDIR(st.st_mode) ? fs_add_dir(fs, argv[i]) : fs_add(fs, argv[i]);
	}
	if (r < 0) {
		fprintf(err, "audit %s: %s\n", cmd, err_str(r));
		return EXIT_USAGE;
	}
	qsort(fs->f, fs->n, sizeof(*fs->f), afile_cmp);
	return 0;
}

/* Called for every line; torn: the file's last line has no newline. Non-zero stops. */
typedef int (*line_fn)(void *arg, const char *file, size_t lineno, const char *line,
    size_t len, bool torn);

static int
file_each(const char *path, line_fn fn, void *arg, FILE *err)
{
	struct stat st;
	const char *data, *p, *end;
	size_t lineno = 0;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		fprintf(err, "%s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_USAGE;
	}
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (data == MAP_FAILED) {
		fprintf(err, "%s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	end = data + st.st_size;
	for (p = data; p < end && r == 0;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		r = fn(arg, path, ++lineno, p, len, nl == NULL);
		p += len + 1;
	}
	munmap((void *)data, (size_t)st.st_size);
	return r;
}

static int
fs_each(const struct fileset *fs, line_fn fn, void *arg, FILE *err)
{
	int r = 0;

	for (size_t i = 0; i < fs->n && r == 0; i++)
		r = file_each(fs->f[i].path, fn, arg, err);
	return r;
}

/* <dir>/<stem>.checkpoint for <dir>/<stem>.jsonl or <dir>/<stem>.<20 digits>.jsonl. */
static char *
ckpt_for(const char *path)
{
	size_t n = strlen(path);
	char *p;

	if (n > 6 && strcmp(path + n - 6, ".jsonl") == 0)
		n -= 6;
	if (n > 21 && path[n - 21] == '.' && strspn(path + n - 20, "0123456789") >= 20)
		n -= 21;
	if ((p = malloc(n + sizeof(".checkpoint"))) == NULL)
		return NULL;
	memcpy(p, path, n);
	memcpy(p + n, ".checkpoint", sizeof(".checkpoint"));
	return p;
}

/* --- verify --- */

struct anchor {
	uint64_t seq;
	char hash[AUDIT_HEX_LEN + 1];
	const char *src;
	bool seen;
};

struct vstate {
	struct audit_mac *mac;
	FILE *err;
	uint64_t n, first, last, recoveries, ckpts;
	char prev[AUDIT_HEX_LEN + 1];
	const char *last_file;
	struct anchor anchors[2];
	size_t nanchors;
	bool partial;			/* the chain may start after seq 1 */
};

static int __attribute__((format(printf, 6, 7)))
vfail(struct vstate *v, const char *file, size_t lineno, bool hasseq, uint64_t seq,
    const char *fmt, ...)
{
	va_list ap;

	fprintf(v->err, "%s:%zu: ", file, lineno);
	if (hasseq)
		fprintf(v->err, "seq %" PRIu64 ": ", seq);
	va_start(ap, fmt);
	vfprintf(v->err, fmt, ap);
	va_end(ap);
	fputc('\n', v->err);
	return EXIT_BAD;
}

static int
verify_mac(struct vstate *v, const char *file, size_t lineno, bool hasseq, uint64_t seq,
    const char *line, size_t len)
{
	const char *mac;
	size_t body;
	int r;

	if (len > LIM_AUDIT_RECORD_MAX)
		return vfail(v, file, lineno, hasseq, seq, "record over %u bytes", LIM_AUDIT_RECORD_MAX);
	r = v->mac ? audit_line_check(v->mac, line, len) : audit_line_split(line, len, &body, &mac);
	if (r == ERR_PROTO)
		return vfail(v, file, lineno, hasseq, seq, "malformed record (no mac)");
	if (r == ERR_DENIED)
		return vfail(v, file, lineno, hasseq, seq, "mac mismatch");
	if (r < 0)
		return vfail(v, file, lineno, hasseq, seq, "%s", err_str(r));
	return 0;
}

static int
verify_chain(struct vstate *v, const char *file, size_t lineno, uint64_t seq, const char *prev)
{
	static const char zero[] =
	    "0000000000000000000000000000000000000000000000000000000000000000";

	if (v->n == 0) {
		if (seq > 1 && !v->partial)
			return vfail(v, file, lineno, true, seq, "chain does not start at seq 1 "
			    "(records 1..%" PRIu64 " missing; --partial accepts a log whose older "
			    "files were removed)", seq - 1);
		if (seq == 1 && strcmp(prev, zero) != 0)
			return vfail(v, file, lineno, true, seq, "chain break: first record's prev "
			    "is not zero");
		v->first = seq;
		return 0;
	}
	if (seq < v->last + 1)
		return vfail(v, file, lineno, true, seq, "seq out of order or repeated (expected "
		    "%" PRIu64 ")", v->last + 1);
	if (seq > v->last + 1)
		return vfail(v, file, lineno, true, seq, "seq gap: expected %" PRIu64 " (records "
		    "%" PRIu64 "..%" PRIu64 " missing)", v->last + 1, v->last + 1, seq - 1);
	if (strcmp(prev, v->prev) != 0)
		return vfail(v, file, lineno, true, seq, "chain break: prev is not the hash of "
		    "seq %" PRIu64, v->last);
	return 0;
}

static int
verify_line(void *arg, const char *file, size_t lineno, const char *line, size_t len, bool torn)
{
	struct vstate *v = arg;
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL), *js;
	const char *prev, *type;
	bool hasseq;
	uint64_t seq = 0;
	int r;

	js = json_object_get(j, "seq");
	if ((hasseq = json_is_integer(js) && json_integer_value(js) > 0))
		seq = (uint64_t)json_integer_value(js);
	if (torn) {
		r = vfail(v, file, lineno, hasseq, seq, "torn record (no newline at end of file)");
		goto out;
	}
	if ((r = verify_mac(v, file, lineno, hasseq, seq, line, len)) != 0)
		goto out;
	r = EXIT_BAD;
	prev = json_string_value(json_object_get(j, "prev"));
	type = json_string_value(json_object_get(j, "type"));
	if (j == NULL) {
		vfail(v, file, lineno, false, 0, "not a JSON object");
		goto out;
	}
	if (!hasseq || prev == NULL || strlen(prev) != AUDIT_HEX_LEN || type == NULL) {
		vfail(v, file, lineno, hasseq, seq, "missing seq, prev or type");
		goto out;
	}
	if ((r = verify_chain(v, file, lineno, seq, prev)) != 0)
		goto out;
	v->recoveries += strcmp(type, "recovery") == 0;
	v->ckpts += strcmp(type, "checkpoint") == 0;
	v->last = seq;
	v->last_file = file;
	v->n++;
	(void)audit_sha256_hex(line, len, v->prev);
	for (size_t i = 0; i < v->nanchors; i++) {
		struct anchor *a = &v->anchors[i];

		if (a->seq != seq)
			continue;
		a->seen = true;
		if (strcmp(a->hash, v->prev) != 0) {
			r = vfail(v, file, lineno, true, seq, "differs from the record %s names",
			    a->src);
			goto out;
		}
	}
	r = 0;
out:
	json_decref(j);
	return r;
}

static int
verify_anchors(struct vstate *v, const char *last_path)
{
	for (size_t i = 0; i < v->nanchors; i++) {
		const struct anchor *a = &v->anchors[i];

		if (a->seen || a->seq < v->first)
			continue;
		fprintf(v->err, "%s: seq %" PRIu64 ": missing: the log ends at seq %" PRIu64
		    " but %s names seq %" PRIu64 " (truncated tail)\n", last_path, v->last + 1,
		    v->last, a->src, a->seq);
		return EXIT_BAD;
	}
	return 0;
}

static int
parse_anchor(const char *s, struct anchor *a)
{
	char *end;

	errno = 0;
	a->seq = strtoull(s, &end, 10);
	if (errno || end == s || *end != ':' || strlen(end + 1) != AUDIT_HEX_LEN ||
	    strspn(end + 1, "0123456789abcdef") != AUDIT_HEX_LEN)
		return -EINVAL;
	memcpy(a->hash, end + 1, AUDIT_HEX_LEN + 1);
	a->src = "the --anchor";
	return 0;
}

struct vopts {
	const char *key, *ckpt;
	bool no_ckpt, quiet, partial;
	struct anchor anchor;
	bool have_anchor;
};

static int
verify_opts(int argc, char **argv, struct vopts *o, FILE *err)
{
	static const struct option lo[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "no-checkpoint", no_argument, NULL, 'N' },
		{ "anchor", required_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "partial", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "k:c:a:q", lo, NULL)) != -1) {
		switch (c) {
		case 'k': o->key = optarg; break;
		case 'c': o->ckpt = optarg; break;
		case 'N': o->no_ckpt = true; break;
		case 'q': o->quiet = true; break;
		case 'p': o->partial = true; break;
		case 'a':
			if (parse_anchor(optarg, &o->anchor) < 0) {
				fprintf(err, "audit verify: --anchor wants SEQ:HASH (64 hex)\n");
				return EXIT_USAGE;
			}
			o->have_anchor = true;
			break;
		default:
			fprintf(err, "usage: audit verify [--key FILE] [--checkpoint FILE | "
			    "--no-checkpoint] [--anchor SEQ:HASH] [--partial] [-q] FILE|DIR...\n");
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* Load the key and the checkpoint file into v. */
static int
verify_setup(struct vstate *v, const struct vopts *o, const struct fileset *fs, FILE *err,
    char **ckpt)
{
	uint8_t key[AUDIT_KEY_LEN];
	char msg[512];
	struct anchor *a;
	int r;

	if (o->key) {
		if (audit_key_load(o->key, false, key, msg, sizeof(msg)) < 0) {
			fprintf(err, "audit verify: %s\n", msg);
			return EXIT_USAGE;
		}
		r = audit_mac_new(key, &v->mac);
		explicit_bzero(key, sizeof(key));
		if (r < 0)
			return EXIT_USAGE;
	}
	v->partial = o->partial;
	if (o->have_anchor)
		v->anchors[v->nanchors++] = o->anchor;
	if (o->no_ckpt || fs->n == 0)
		return 0;
	*ckpt = o->ckpt ? strdup(o->ckpt) : ckpt_for(fs->f[fs->n - 1].path);
	if (*ckpt == NULL)
		return EXIT_USAGE;
	a = &v->anchors[v->nanchors];
	r = audit_ckpt_read(*ckpt, v->mac, &a->seq, a->hash, NULL, 0);
	if (r == -ENOENT && o->ckpt == NULL) {
		free(*ckpt);
		*ckpt = NULL;
		return 0;
	}
	if (r < 0) {
		fprintf(err, "%s: %s\n", *ckpt, r == ERR_DENIED ? "checkpoint mac mismatch" :
		    r == ERR_PROTO ? "malformed checkpoint" : err_str(r));
		return r == ERR_DENIED || r == ERR_PROTO ? EXIT_BAD : EXIT_USAGE;
	}
	a->src = "the checkpoint";
	v->nanchors++;
	return 0;
}

int
auditcli_verify(int argc, char **argv, FILE *out, FILE *err)
{
	struct vopts o = { 0 };
	struct vstate v = { .err = err };
	struct fileset fs = { 0 };
	char *ckpt = NULL;
	int r;

	if ((r = verify_opts(argc, argv, &o, err)) != 0)
		return r;
	if ((r = fs_collect(&fs, argc, argv, "verify", err)) != 0)
		goto out;
	if ((r = verify_setup(&v, &o, &fs, err, &ckpt)) != 0)
		goto out;
	if ((r = fs_each(&fs, verify_line, &v, err)) != 0)
		goto out;
	if ((r = verify_anchors(&v, fs.n ? fs.f[fs.n - 1].path : "-")) != 0)
		goto out;
	if (!o.quiet) {
		fprintf(out, "OK: %" PRIu64 " records in %zu files", v.n, fs.n);
		if (v.n)
			fprintf(out, ", seq %" PRIu64 "..%" PRIu64, v.first, v.last);
		fprintf(out, ", chain OK, macs %s", v.mac ? "OK" : "NOT CHECKED (no --key)");
		if (ckpt)
			fprintf(out, ", last checkpoint seq %" PRIu64 " OK", v.anchors[v.nanchors - 1].seq);
		else
			fprintf(out, ", no checkpoint file");
		if (v.first > 1)
			fprintf(out, ", chain starts at seq %" PRIu64 " (earlier files not given)",
			    v.first);
		if (v.recoveries)
			fprintf(out, ", %" PRIu64 " recovery events", v.recoveries);
		fputc('\n', out);
	}
	r = 0;
out:
	audit_mac_free(v.mac);
	free(ckpt);
	fs_free(&fs);
	return r;
}

/* --- output shared by tail and query --- */

static const char *
jstr(json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));

	return s ? s : "-";
}

static void
table_header(FILE *out)
{
	fprintf(out, "%-24s  %8s  %-10s  %-12s  %-20s  %-28s  %-8s  %s\n", "TIME", "SEQ", "TYPE",
	    "TENANT", "PRINCIPAL", "CALL/EVENT", "DECISION", "OUTCOME");
}

/* A canary verdict as evidence: " [evidence seq N: fail, score 0]" after a decision or outcome
 * that names one (the decision of a gated call names the record that justified it), and the
 * verdict itself in an "evidence" record's row. */
static void
evidence_note(json_t *j, char *buf, size_t len)
{
	json_t *ev = json_object_get(j, "evidence");
	const char *type = json_string_value(json_object_get(j, "type"));
	char *score;

	buf[0] = '\0';
	if (type != NULL && strcmp(type, "evidence") == 0)
		ev = json_object_get(j, "result");
	if (!json_is_object(ev))
		return;
	score = json_dumps(json_object_get(ev, "score"), JSON_ENCODE_ANY);
	if (type != NULL && strcmp(type, "evidence") == 0)
		snprintf(buf, len, "verdict %s, score %s", jstr(ev, "verdict"), score ? score : "-");
	else if (json_is_integer(json_object_get(ev, "seq")))
		snprintf(buf, len, " [evidence seq %" JSON_INTEGER_FORMAT ": %s, score %s]",
		    json_integer_value(json_object_get(ev, "seq")), jstr(ev, "verdict"),
		    score ? score : "-");
	free(score);
}

static void
table_row(FILE *out, const char *line, size_t len)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	char call[2 * LIM_NAME_MAX + 2], outcome[64], note[128];
	json_t *st;

	if (j == NULL) {
		fprintf(out, "(unreadable line: %.*s)\n", (int)(len > 60 ? 60 : len), line);
		return;
	}
	if (json_object_get(j, "tool"))
		snprintf(call, sizeof(call), "%s.%s", jstr(j, "tool"), jstr(j, "op"));
	else
		snprintf(call, sizeof(call), "%s", jstr(j, "event"));
	st = json_object_get(j, "http_status");
	if (json_is_integer(st))
		snprintf(outcome, sizeof(outcome), "%s (%" JSON_INTEGER_FORMAT ")",
		    jstr(j, "outcome"), json_integer_value(st));
	else
		snprintf(outcome, sizeof(outcome), "%s", jstr(j, "outcome"));
	evidence_note(j, note, sizeof(note));
	if (note[0] != ' ' && note[0] != '\0')
		snprintf(outcome, sizeof(outcome), "%s", "");
	fprintf(out, "%-24s  %8" JSON_INTEGER_FORMAT "  %-10s  %-12s  %-20s  %-28s  %-8s  %s%s\n",
	    jstr(j, "time"), json_integer_value(json_object_get(j, "seq")), jstr(j, "type"),
	    jstr(j, "tenant"), jstr(j, "principal"), call, jstr(j, "decision"), outcome, note);
	json_decref(j);
}

static void
emit_line(FILE *out, bool json, const char *line, size_t len)
{
	if (json) {
		fwrite(line, 1, len, out);
		fputc('\n', out);
	} else
		table_row(out, line, len);
}

static int
parse_output(const char *s, bool *json, const char *cmd, FILE *err)
{
	if (strcmp(s, "json") == 0)
		*json = true;
	else if (strcmp(s, "table") == 0)
		*json = false;
	else {
		fprintf(err, "audit %s: -o wants table or json\n", cmd);
		return EXIT_USAGE;
	}
	return 0;
}

/* --- tail --- */

struct tline {
	char *s;
	size_t len;
};

/* The last `want` complete lines of one mapped file, newest first, into t[*n..]. */
static void
tail_file(const char *data, size_t len, struct tline *t, size_t *n, size_t want)
{
	size_t end = len;

	while (end > 0 && data[end - 1] != '\n')	/* a line being written */
		end--;
	while (end > 0 && *n < want) {
		size_t start = end - 1;

		while (start > 0 && data[start - 1] != '\n')
			start--;
		if ((t[*n].s = malloc(end - 1 - start + 1)) == NULL)
			return;
		memcpy(t[*n].s, data + start, end - 1 - start);
		t[*n].len = end - 1 - start;
		(*n)++;
		end = start;
	}
}

static int
tail_collect(const struct fileset *fs, struct tline *t, size_t want, size_t *n, FILE *err)
{
	*n = 0;
	for (size_t i = fs->n; i-- > 0 && *n < want;) {
		struct stat st;
		const char *data;
		int fd = open(fs->f[i].path, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) < 0) {
			fprintf(err, "%s: %s\n", fs->f[i].path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return EXIT_USAGE;
		}
		if (st.st_size == 0) {
			close(fd);
			continue;
		}
		data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (data == MAP_FAILED)
			return EXIT_USAGE;
		tail_file(data, (size_t)st.st_size, t, n, want);
		munmap((void *)data, (size_t)st.st_size);
	}
	return 0;
}

/* Poll the live file; start over when it is rotated away or cut short. */
static void
tail_follow(const char *path, bool json, FILE *out)
{
	char *buf = malloc(LIM_AUDIT_RECORD_MAX + 2);
	struct stat st;
	off_t off = -1;
	ino_t ino = 0;
	size_t have = 0;

	if (buf == NULL)
		return;
	for (;;) {
		struct timespec ts = { 0, 200 * 1000000L };
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd >= 0 && fstat(fd, &st) == 0) {
			if (off < 0)
				off = st.st_size;	/* start at the end: the tail is printed */
			if (st.st_ino != ino || st.st_size < off) {
				if (ino != 0)
					off = 0;
				ino = st.st_ino;
				have = 0;
			}
			while (off < st.st_size) {
				ssize_t k = pread(fd, buf + have, LIM_AUDIT_RECORD_MAX + 1 - have, off);
				char *nl, *p = buf;

				if (k <= 0)
					break;
				off += k;
				have += (size_t)k;
				while ((nl = memchr(p, '\n', have - (size_t)(p - buf))) != NULL) {
					emit_line(out, json, p, (size_t)(nl - p));
					p = nl + 1;
				}
				have -= (size_t)(p - buf);
				memmove(buf, p, have);
				if (have > LIM_AUDIT_RECORD_MAX)
					have = 0;	/* not a record: drop it */
			}
			fflush(out);
		}
		if (fd >= 0)
			close(fd);
		nanosleep(&ts, NULL);
	}
}

int
auditcli_tail(int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option lo[] = {
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct fileset fs = { 0 };
	struct tline *t = NULL;
	bool json = false, follow = false;
	unsigned long want = 10;
	size_t n = 0;
	char *end;
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:fo:", lo, NULL)) != -1) {
		if (c == 'n' && ((want = strtoul(optarg, &end, 10)) > 100000 || *end || !*optarg))
			c = '?';
		if (c == 'o' && parse_output(optarg, &json, "tail", err) != 0)
			return EXIT_USAGE;
		if (c == 'f')
			follow = true;
		if (c == '?' || c == ':') {
			fprintf(err, "usage: audit tail [-n N] [-f] [-o table|json] FILE|DIR...\n");
			return EXIT_USAGE;
		}
	}
	if ((r = fs_collect(&fs, argc, argv, "tail", err)) != 0)
		goto out;
	r = EXIT_USAGE;
	if ((t = calloc(want + 1, sizeof(*t))) == NULL)
		goto out;
	if ((r = tail_collect(&fs, t, want, &n, err)) != 0)
		goto out;
	if (!json)
		table_header(out);
	for (size_t i = n; i-- > 0;)
		emit_line(out, json, t[i].s, t[i].len);
	fflush(out);
	if (follow && fs.n > 0)
		tail_follow(fs.f[fs.n - 1].path, json, out);
	r = 0;
out:
	for (size_t i = 0; t && i < n; i++)
		free(t[i].s);
	free(t);
	fs_free(&fs);
	return r;
}

/* --- query --- */

/* RFC 3339 (date, or date and time with Z or an offset) or an age: 90s, 15m, 2h, 7d. */
static int
time_arg(const char *s, int64_t now_ms, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, k = 0, oh, om;
	struct tm tm = { 0 };
	long ms = 0;
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!errno && end != s && end[0] != '\0' && end[1] == '\0' && strchr("smhd", end[0])) {
		static const int64_t unit[] = { ['s' - 'd'] = 1000, ['m' - 'd'] = 60000,
			['h' - 'd'] = 3600000, [0] = 86400000 };

		*out = now_ms - (int64_t)v * unit[end[0] - 'd'];
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -EINVAL;
	s += n;
	if ((*s == 'T' || *s == 't' || *s == ' ') &&
	    sscanf(s + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &k) == 3) {
		s += 1 + k;
		if (*s == '.') {
			char frac[4] = "000";

			k = 1;
			for (int i = 1; s[i] >= '0' && s[i] <= '9'; i++, k = i)
				if (i <= 3)
					frac[i - 1] = s[i];
			ms = strtol(frac, NULL, 10);
			s += k;
		}
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm) * 1000 + ms;
	if (*s == 'Z' || *s == 'z' || *s == '\0')
		return s[*s ? 1 : 0] == '\0' ? 0 : -EINVAL;
	if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d%n", &oh, &om, &k) == 2 &&
	    s[1 + k] == '\0') {
		*out -= (*s == '+' ? 1 : -1) * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
		return 0;
	}
	return -EINVAL;
}

struct qstate {
	const char *tenant, *principal, *tool, *op, *type;
	char since[32], until[32];
	bool has_since, has_until, json;
	FILE *out;
	uint64_t matched;
};

static bool
field_is(json_t *j, const char *k, const char *want)
{
	const char *s;

	if (want == NULL)
		return true;
	s = json_string_value(json_object_get(j, k));
	return s != NULL && strcmp(s, want) == 0;
}

static int
query_line(void *arg, const char *file, size_t lineno, const char *line, size_t len, bool torn)
{
	struct qstate *q = arg;
	json_t *j;
	const char *t;
	bool ok;

	if (torn || (j = json_loadb(line, len, 0, NULL)) == NULL)
		return 0;
	t = json_string_value(json_object_get(j, "time"));
	ok = field_is(j, "tenant", q->tenant) && field_is(j, "principal", q->principal) &&
	    field_is(j, "tool", q->tool) && field_is(j, "op", q->op) &&
	    field_is(j, "type", q->type) &&
	    (!q->has_since || (t && strcmp(t, q->since) >= 0)) &&
	    (!q->has_until || (t && strcmp(t, q->until) < 0));
	json_decref(j);
	if (ok) {
		emit_line(q->out, q->json, line, len);
		q->matched++;
	}
	return 0;
}

static int
query_opts(int argc, char **argv, struct qstate *q, FILE *err)
{
	static const struct option lo[] = {
		{ "tenant", required_argument, NULL, 'T' },
		{ "principal", required_argument, NULL, 'P' },
		{ "tool", required_argument, NULL, 'X' },
		{ "op", required_argument, NULL, 'O' },
		{ "type", required_argument, NULL, 'Y' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t ms, now = audit_wall_ms();
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		switch (c) {
		case 'T': q->tenant = optarg; break;
		case 'P': q->principal = optarg; break;
		case 'X': q->tool = optarg; break;
		case 'O': q->op = optarg; break;
		case 'Y': q->type = optarg; break;
		case 'o':
			if (parse_output(optarg, &q->json, "query", err) != 0)
				return EXIT_USAGE;
			break;
		case 'S':
		case 'U':
			if (time_arg(optarg, now, &ms) < 0) {
				fprintf(err, "audit query: bad time \"%s\" (RFC 3339 or 15m, 2h, 7d)\n",
				    optarg);
				return EXIT_USAGE;
			}
			audit_time_format(ms, c == 'S' ? q->since : q->until);
			*(c == 'S' ? &q->has_since : &q->has_until) = true;
			break;
		default:
			fprintf(err, "usage: audit query [--tenant T] [--principal P] [--tool X] "
			    "[--op O] [--type T] [--since TIME] [--until TIME] [-o table|json] "
			    "FILE|DIR...\n");
			return EXIT_USAGE;
		}
	}
	return 0;
}

int
auditcli_query(int argc, char **argv, FILE *out, FILE *err)
{
	struct qstate q = { .out = out };
	struct fileset fs = { 0 };
	int r;

	if ((r = query_opts(argc, argv, &q, err)) != 0)
		return r;
	if ((r = fs_collect(&fs, argc, argv, "query", err)) == 0) {
		if (!q.json)
			table_header(out);
		r = fs_each(&fs, query_line, &q, err);
	}
	fs_free(&fs);
	return r;
}

int
auditcli_main(int argc, char **argv, FILE *out, FILE *err)
{
	if (argc >= 1 && strcmp(argv[0], "verify") == 0)
		return auditcli_verify(argc, argv, out, err);
	if (argc >= 1 && strcmp(argv[0], "tail") == 0)
		return auditcli_tail(argc, argv, out, err);
	if (argc >= 1 && strcmp(argv[0], "query") == 0)
		return auditcli_query(argc, argv, out, err);
	if (argc >= 1 && strcmp(argv[0], "report") == 0)
		return auditreport_main(argc, argv, out, err);
	fprintf(err, "usage: audit verify|tail|query|report ...\n");
	return EXIT_USAGE;
}
