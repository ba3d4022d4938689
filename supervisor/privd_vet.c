/* privd_vet: the grammar of the corral-jail argument vectors corral-privd runs for corrald.
 *
 * The vector comes from the unprivileged corrald, so it is treated as untrusted: every option
 * must be one corrald produces, in the shape it produces it (worker.c build_argv), and every
 * value is checked against privd's own rules. What is not named here is refused: --net,
 * --no-seccomp, --print-status, --dump-filter, other binds, a second status or kept fd.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/privd.h"

struct vet {
	const struct privd_rules *r;
	struct privd_vetted *out;
	char *why;
	size_t whylen;
	bool have_profile, have_uid, have_gid, have_status, have_ipc;
};

static int refuse(struct vet *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
refuse(struct vet *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->why, v->whylen, fmt, ap);
	va_end(ap);
	return ERR_DENIED;
}

static int
number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return *end || errno || *out > max ? -EINVAL : 0;
}

/* A name corrald puts into paths and the jail's hostname: [A-Za-z0-9._@-], not "." or "..". */
static bool
name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-' || *s == '@'))
			return false;
	return true;
}

/* path == base "/" c1 ["/" c2 ...] with exactly ncomp name_ok components after prefix. */
static bool
under(const char *path, const char *base, const char *mid, unsigned ncomp)
{
	size_t bl = strlen(base), ml = strlen(mid);
	char buf[LIM_PATH_MAX], *p, *save = NULL;
	unsigned n = 0;

	if (strncmp(path, base, bl) != 0 || strncmp(path + bl, mid, ml) != 0 ||
	    strlen(path + bl + ml) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", path + bl + ml);
	if (buf[0] == '\0' || buf[strlen(buf) - 1] == '/')
		return false;
	for (p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save), n++)
		if (!name_ok(p, LIM_NAME_MAX * 2 + 8))
			return false;
	return n == ncomp && strstr(path + bl + ml, "//") == NULL;
}

/* A program the jail may open and run (as the tenant): a regular file every user may run,
 * without set-id bits, named by an absolute path. */
static int
program_ok(struct vet *v, const char *what, const char *path)
{
	struct stat st;

	if (path[0] != '/')
		return refuse(v, "%s '%s' is not an absolute path", what, path);
	if (stat(path, &st) < 0)
		return refuse(v, "%s '%s': %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode) || (st.st_mode & S_IXOTH) == 0 ||
	    (st.st_mode & (S_ISUID | S_ISGID)) != 0)
		return refuse(v, "%s '%s' is not a regular, world-executable file without set-id "
		    "bits", what, path);
	/* the jail opens it as root: every directory on the way must be one anybody may pass,
	 * or a tenant would run what its own uid could not reach */
	{
		char dir[LIM_PATH_MAX], *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		while ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			if (stat(dir, &st) < 0 || (st.st_mode & S_IXOTH) == 0)
				return refuse(v, "%s '%s': directory %s is not searchable by all",
				    what, path, dir);
		}
	}
	return 0;
}

static int
id_ok(struct vet *v, const char *opt, const char *val, unsigned long long *out)
{
	if (number(val, 0xfffffffeu, out) < 0 || *out == 0 ||
	    *out < v->r->uid_min || *out > v->r->uid_max)
		return refuse(v, "%s %s is outside the tenant range %u-%u", opt, val,
		    (unsigned)v->r->uid_min, (unsigned)v->r->uid_max);
	return 0;
}

static int
bind_ok(struct vet *v, const char *opt, const char *val)
{
	const char *colon = strrchr(val, ':');
	char src[LIM_PATH_MAX];

	if (colon == NULL || (size_t)(colon - val) >= sizeof(src))
		return refuse(v, "%s '%s' is not SRC:DST", opt, val);
	snprintf(src, sizeof(src), "%.*s", (int)(colon - val), val);
	if (strcmp(opt, "--bind-ro") == 0 && strcmp(colon, ":/ipc") == 0 && !v->have_ipc &&
	    under(src, v->r->runtime_dir, "/w/", 1)) {
		v->have_ipc = true;
		v->out->ipc_src = val;		/* the caller reads it up to the colon */
		return 0;
	}
	if (strcmp(opt, "--bind-rw") == 0 && strcmp(colon, ":/state") == 0 &&
	    v->out->state_src == NULL && under(src, v->r->state_dir, "/agents/", 2)) {
		v->out->state_src = val;	/* the caller reads it up to the colon */
		return 0;
	}
	return refuse(v, "%s '%s' is not a worker's socket or state directory", opt, val);
}

static int
rlimit_ok(struct vet *v, const char *opt, const char *val)
{
	static const struct { const char *opt; unsigned long long max; } caps[] = {
		{ "--rlimit-as", LIM_PRIVD_RL_AS_MAX }, { "--rlimit-nofile", LIM_PRIVD_RL_NOFILE_MAX },
		{ "--rlimit-nproc", LIM_PRIVD_RL_NPROC_MAX }, { "--rlimit-fsize", LIM_PRIVD_RL_FSIZE_MAX },
	};
	unsigned long long n;

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (strcmp(opt, caps[i].opt) == 0)
			return number(val, caps[i].max, &n) < 0 || n == 0 ?
			    refuse(v, "%s %s is not a number in 1..%llu", opt, val, caps[i].max) : 0;
	return refuse(v, "option %s is not allowed", opt);
}

static int
option(struct vet *v, const char *opt, const char *val)
{
	unsigned long long n;
	int r;

	if (strcmp(opt, "--profile") == 0) {
		if (strcmp(val, "agent") && strcmp(val, "http") && strcmp(val, "model") &&
		    strcmp(val, "exec"))
			return refuse(v, "--profile '%s' is unknown", val);
		v->have_profile = true;
	} else if (strcmp(opt, "--tenant") == 0) {
		if (!name_ok(val, LIM_NAME_MAX))
			return refuse(v, "--tenant '%s' is not a name", val);
	} else if (strcmp(opt, "--uid") == 0 || strcmp(opt, "--gid") == 0) {
		if ((r = id_ok(v, opt, val, &n)) < 0)
			return r;
		if (opt[2] == 'u') {
			v->out->uid = (uid_t)n;
			v->have_uid = true;
		} else {
			v->out->gid = (gid_t)n;
			v->have_gid = true;
		}
	} else if (strcmp(opt, "--status-fd") == 0) {
		if (strcmp(val, "4") != 0 || v->have_status)
			return refuse(v, "--status-fd must be 4, once");
		v->have_status = true;
	} else if (strcmp(opt, "--keep-fd") == 0) {
		if (strcmp(val, "3") != 0 || v->out->nkeep)
			return refuse(v, "--keep-fd must be 3, once");
		v->out->nkeep = 1;
	} else if (strcmp(opt, "--bind-ro") == 0 || strcmp(opt, "--bind-rw") == 0) {
		return bind_ok(v, opt, val);
	} else if (strcmp(opt, "--exec-slot") == 0) {
		return program_ok(v, "--exec-slot", val);
	} else if (strcmp(opt, "--env") == 0) {
		if (strchr(val, '=') == NULL || val[0] == '=')
			return refuse(v, "--env '%s' is not K=V", val);
	} else {
		return rlimit_ok(v, opt, val);
	}
	return 0;
}

int
privd_vet(const struct privd_rules *rules, char *const *argv, size_t argc,
    struct privd_vetted *out, char *why, size_t whylen)
{
	struct vet v = { .r = rules, .out = out, .why = why, .whylen = whylen };
	size_t i = 1;
	int r;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	if (argc < 2 || argc > LIM_PRIVD_ARGS_MAX || strcmp(argv[0], rules->jail_path) != 0)
		return refuse(&v, "not a corral-jail argument vector (%zu arguments)", argc);
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--worker") == 0)
			continue;
		if (i + 1 >= argc)
			return refuse(&v, "option %s without a value", argv[i]);
		if ((r = option(&v, argv[i], argv[i + 1])) < 0)
			return r;
		i++;
	}
	if (!v.have_profile || !v.have_uid || !v.have_gid || !v.have_status || !v.have_ipc)
		return refuse(&v, "--profile, --uid, --gid, --status-fd and the /ipc bind are "
		    "required");
	if (i + 1 >= argc)
		return refuse(&v, "no program after --");
	return program_ok(&v, "program", argv[i + 1]);
}

int
privd_split_argv(char *buf, size_t len, size_t argc, char **argv)
{
	size_t i = 0, off = 0;

	if (argc == 0 || argc > LIM_PRIVD_ARGS_MAX || len == 0 || buf[len - 1] != '\0')
		return -EINVAL;
	while (off < len && i < argc) {
		argv[i++] = buf + off;
		off += strlen(buf + off) + 1;
	}
	argv[i] = NULL;
	return i == argc && off == len ? 0 : -EINVAL;
}
