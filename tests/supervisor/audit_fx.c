#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "supervisor/auditcli.h"
#include "tests/supervisor/audit_fx.h"

const uint8_t fx_key[AUDIT_KEY_LEN] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

char *
fx_tmpdir(void)
{
	char *d = strdup("/tmp/corral-h6-XXXXXX");

	cr_assert_not_null(d);
	cr_assert_not_null(mkdtemp(d), "mkdtemp: %s", strerror(errno));
	return d;
}

char *fx_dir;

void
fx_dir_init(void)
{
	fx_dir = fx_tmpdir();
}

void
fx_dir_fini(void)
{
	fx_rmrf(fx_dir);
	free(fx_dir);
	fx_dir = NULL;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

void
fx_rmrf(const char *dir)
{
	if (dir != NULL)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
fx_path(const char *dir, const char *name)
{
	char *p;

	cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

char *
fx_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

void
fx_write(const char *path, const void *buf, size_t len, unsigned mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

char *
fx_keyfile(const char *dir)
{
	char hex[2 * AUDIT_KEY_LEN + 2];
	char *p = fx_path(dir, "audit.key");

	for (int i = 0; i < AUDIT_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", fx_key[i]);
	hex[2 * AUDIT_KEY_LEN] = '\n';
	fx_write(p, hex, sizeof(hex) - 1, 0600);
	return p;
}

struct audit *
fx_open(const char *dir, enum audit_fsync mode, unsigned ckpt, uint64_t rotate)
{
	struct audit_opts o = { .key = fx_key, .fsync = mode, .ckpt_records = ckpt,
		.ckpt_min_ms = -1, .rotate_bytes = rotate, .syslog_path = "" };
	struct audit *a = NULL;
	char err[512] = "";
	char *path = fx_path(dir, "audit.jsonl");
	int r;

	o.path = path;
	r = audit_open(&o, &a, err, sizeof(err));
	cr_assert_eq(r, 0, "audit_open: %d %s", r, err);
	free(path);
	return a;
}

void
fx_append(struct audit *a, int n, const char *tenant)
{
	for (int i = 0; i < n; i++) {
		char app[32];
		json_t *args, *rec;
		const char *rules[] = { "r1", "r2" };
		struct audit_call c = { .tenant = tenant, .principal = "agent:guardian",
			.tool = "argocd", .op = "sync_application", .decision = "allow",
			.rule_ids = rules, .nrule_ids = 2, .policy_hash = "ph",
			.duration_ms = -1 };
		uint64_t seq = 0;
		int r;

		snprintf(app, sizeof(app), "app-%d", i);
		args = json_pack("{s:s, s:i}", "app_name", app, "n", i);
		c.args = args;
		rec = audit_rec_call("decision", &c);
		cr_assert_not_null(rec);
		r = audit_append(a, rec, &seq);
		cr_assert_eq(r, 0, "append %d: %d", i, r);
		cr_assert(seq > 0 && seq <= audit_seq(a));
		json_decref(rec);
		json_decref(args);
	}
}

char *
fx_line(char *buf, int no, size_t *len)
{
	char *p = buf;

	for (int i = 1; i < no; i++) {
		p = strchr(p, '\n');
		if (p == NULL)
			return NULL;
		p++;
	}
	if (*p == '\0')
		return NULL;
	*len = strchrnul(p, '\n') - p;
	return p;
}

size_t
fx_count_lines(const char *buf)
{
	size_t n = 0;

	for (; *buf; buf++)
		n += *buf == '\n';
	return n;
}

int
fx_cli(int (*fn)(int, char **, FILE *, FILE *), char **out, char **err, ...)
{
	char *argv[64];
	size_t olen, elen;
	int argc = 0, r;
	FILE *fo, *fe;
	va_list ap;

	va_start(ap, err);
	while (argc < 63 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	fo = open_memstream(out, &olen);
	fe = open_memstream(err, &elen);
	r = fn(argc, argv, fo, fe);
	fclose(fo);
	fclose(fe);
	return r;
}

char *
fx_verify_ok(const char *kf, const char *target)
{
	char *out, *err;
	int r = fx_cli(auditcli_verify, &out, &err, "verify", "--key", kf, target, NULL);

	cr_assert_eq(r, 0, "%s", err);
	free(err);
	return out;
}
