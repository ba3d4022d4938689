/* corral-jail: run one program confined (namespaces, tenant uid, fresh root, rlimits, no new
 * privileges, Landlock, seccomp) and wait for it. corrald starts every worker through it, so
 * the fork between corrald and the worker happens in this fresh single-threaded process and
 * never in corrald (nng is not fork-safe). Exit status: the program's, 128+signal when it was
 * killed, 125 when confinement failed, 126 when the exec failed. See docs/SANDBOX.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/jail.h"
#include "workers/sandbox.h"

struct opts {
	struct jail_spec spec;
	struct jail_bind binds[LIM_JAIL_BINDS_MAX];
	int keep[LIM_JAIL_KEEP_FDS_MAX];
	const char *slots[FD_EXEC_SLOTS];
	const char *env[LIM_JAIL_ENV_MAX + 1];
	size_t nenv;
	char path[PATH_MAX];
	int status_fd;
	bool print_status;
};

/* Sanitizer builds only: LeakSanitizer's exit-time check clones a tracer, which fails in a
 * process whose pid namespace has lost its init (ours, once the program ended). */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

static const char usage[] =
"usage: corral-jail --profile agent|http|model|exec [options] [--] CMD [ARGS...]\n"
"\n"
"Runs CMD confined: own pid/mount/ipc/uts/cgroup/net namespaces (a user namespace when not\n"
"root), a fresh read-only root (system dirs, CA certificates, no /run), the tenant's uid,\n"
"only fds 0-2 and the kept ones, rlimits, no_new_privs, Landlock, and for arbitrary programs\n"
"the profile's seccomp allow-list. Exit status: CMD's, 128+signal, 125 (jail failed),\n"
"126 (exec failed).\n"
"\n"
"  --profile P          agent (no network), http/model (empty net ns), exec (net ns, lo up)\n"
"  --worker             CMD is a corral worker binary: it installs its own allow-list after\n"
"                       init; the jail installs only the kill-list (SBX_JAIL_WORKER)\n"
"  --no-seccomp         no filter at all (debugging only)\n"
"  --tenant NAME        host name and passwd entry inside\n"
"  --uid N --gid N      run as N (required when root; never 0)\n"
"  --status-fd N        write status lines to fd N: pid, userns, netns, landlock, seccomp,\n"
"                       exec ok | error STEP: TEXT, then exit N | signal N\n"
"  --print-status       the same lines on stderr\n"
"  --keep-fd N          pass fd N as 3, 4, ... (repeatable, in order)\n"
"  --bind-ro SRC[:DST]  read-only bind (repeatable)\n"
"  --bind-rw SRC:DST    read-write, noexec bind (repeatable), e.g. the worker's socket dir\n"
"  --exec-slot PATH     a binary the program may execveat from fd 1001, 1002, ... (exec)\n"
"  --env K=V            the whole environment, one entry per option (default: empty)\n"
"  --net none|lo|host   override the profile's network\n"
"  --rlimit-as N|unlimited, --rlimit-nofile N, --rlimit-nproc N, --rlimit-fsize N\n"
"  --tmp-size N         bytes of the /tmp tmpfs\n"
"  --dump-filter KIND   print a seccomp filter (http, exec, model, agent, jail-agent,\n"
"                       jail-http, jail-exec, jail-worker) as pseudo-code and exit\n"
"  --landlock-abi       print the kernel's Landlock ABI and exit\n"
"  --help, --version\n";

enum { O_PROFILE = 256, O_WORKER, O_NOSECCOMP, O_TENANT, O_UID, O_GID, O_STATUS_FD,
	O_PRINT_STATUS, O_KEEP, O_BIND_RO, O_BIND_RW, O_SLOT, O_ENV, O_NET, O_RL_AS, O_RL_NOFILE,
	O_RL_NPROC, O_RL_FSIZE, O_TMP, O_DUMP, O_LLABI, O_HELP, O_VERSION };

static const struct option longopts[] = {
	{ "profile", required_argument, NULL, O_PROFILE },
	{ "worker", no_argument, NULL, O_WORKER },
	{ "no-seccomp", no_argument, NULL, O_NOSECCOMP },
	{ "tenant", required_argument, NULL, O_TENANT },
	{ "uid", required_argument, NULL, O_UID },
	{ "gid", required_argument, NULL, O_GID },
	{ "status-fd", required_argument, NULL, O_STATUS_FD },
	{ "print-status", no_argument, NULL, O_PRINT_STATUS },
	{ "keep-fd", required_argument, NULL, O_KEEP },
	{ "bind-ro", required_argument, NULL, O_BIND_RO },
	{ "bind-rw", required_argument, NULL, O_BIND_RW },
	{ "exec-slot", required_argument, NULL, O_SLOT },
	{ "env", required_argument, NULL, O_ENV },
	{ "net", required_argument, NULL, O_NET },
	{ "rlimit-as", required_argument, NULL, O_RL_AS },
	{ "rlimit-nofile", required_argument, NULL, O_RL_NOFILE },
	{ "rlimit-nproc", required_argument, NULL, O_RL_NPROC },
	{ "rlimit-fsize", required_argument, NULL, O_RL_FSIZE },
	{ "tmp-size", required_argument, NULL, O_TMP },
	{ "dump-filter", required_argument, NULL, O_DUMP },
	{ "landlock-abi", no_argument, NULL, O_LLABI },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 }
};

static __attribute__((noreturn, format(printf, 1, 2))) void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("corral-jail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(JAIL_EXIT_SETUP);
}

static unsigned long long
num(const char *opt, const char *s, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || v > max || s[0] == '-')
		die("--%s: '%s' is not a number up to %llu", opt, s, max);
	return v;
}

static rlim_t
rlim(const char *opt, const char *s)
{
	if (strcmp(s, "unlimited") == 0)
		return JAIL_RL_UNLIMITED;
	return (rlim_t)num(opt, s, (unsigned long long)RLIM_INFINITY - 1);
}

static void
add_bind(struct opts *o, char *arg, bool rw)
{
	char *colon = strchr(arg, ':');

	if (o->spec.nbinds == LIM_JAIL_BINDS_MAX)
		die("more than %u binds", LIM_JAIL_BINDS_MAX);
	if (colon)
		*colon = '\0';
	else if (rw)
		die("--bind-rw needs SRC:DST");
	o->binds[o->spec.nbinds++] = (struct jail_bind){ arg, colon ? colon + 1 : arg, rw };
}

/* CMD without a slash is looked up in a fixed PATH, never the caller's. */
static void
find_program(struct opts *o, const char *cmd)
{
	static const char *const dirs[] = { "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin",
		"/sbin", NULL };

	if (strchr(cmd, '/')) {
		if (snprintf(o->path, sizeof(o->path), "%s", cmd) >= (int)sizeof(o->path))
			die("%s: path too long", cmd);
		return;
	}
	for (const char *const *d = dirs; *d; d++) {
		snprintf(o->path, sizeof(o->path), "%s/%s", *d, cmd);
		if (access(o->path, X_OK) == 0)
			return;
	}
	die("%s: not found", cmd);
}

static void
dump_filter(const char *kind)
{
	enum sbx_kind k;
	int r;

	if (sbx_kind_parse(kind, &k) < 0)
		die("--dump-filter: unknown kind '%s'", kind);
	fflush(stdout);
	if ((r = sbx_seccomp_export(k, STDOUT_FILENO)) < 0)
		die("--dump-filter: %s", err_str(r));
	exit(0);
}

static void
parse_one(struct opts *o, int c, char *arg)
{
	struct jail_spec *s = &o->spec;

	switch (c) {
	case O_PROFILE:
		if (jail_profile_parse(arg, &s->profile) < 0)
			die("--profile: unknown profile '%s'", arg);
		break;
	case O_WORKER: s->seccomp = JAIL_SC_WORKER; break;
	case O_NOSECCOMP: s->seccomp = JAIL_SC_NONE; break;
	case O_TENANT: s->tenant = arg; break;
	case O_UID: s->uid = (uid_t)num("uid", arg, 0xfffffffeu); break;
	case O_GID: s->gid = (gid_t)num("gid", arg, 0xfffffffeu); break;
	case O_STATUS_FD: o->status_fd = (int)num("status-fd", arg, FD_EXEC_SLOT - 2); break;
	case O_PRINT_STATUS: o->print_status = true; break;
	case O_KEEP:
		if (s->nkeep == LIM_JAIL_KEEP_FDS_MAX)
			die("more than %u --keep-fd", LIM_JAIL_KEEP_FDS_MAX);
		o->keep[s->nkeep++] = (int)num("keep-fd", arg, FD_EXEC_SLOT - 2);
		break;
	case O_BIND_RO: add_bind(o, arg, false); break;
	case O_BIND_RW: add_bind(o, arg, true); break;
	case O_SLOT:
		if (s->nexec_slots == FD_EXEC_SLOTS - 1)
			die("more than %d --exec-slot", FD_EXEC_SLOTS - 1);
		o->slots[s->nexec_slots++] = arg;
		break;
	case O_ENV:
		if (o->nenv == LIM_JAIL_ENV_MAX || !strchr(arg, '='))
			die("--env: '%s': K=V, at most %u", arg, LIM_JAIL_ENV_MAX);
		o->env[o->nenv++] = arg;
		break;
	case O_NET:
		if (strcmp(arg, "none") == 0) s->net = JAIL_NET_NONE;
		else if (strcmp(arg, "lo") == 0) s->net = JAIL_NET_LO;
		else if (strcmp(arg, "host") == 0) s->net = JAIL_NET_HOST;
		else die("--net: none, lo or host");
		break;
	case O_RL_AS: s->rl_as = rlim("rlimit-as", arg); break;
	case O_RL_NOFILE: s->rl_nofile = rlim("rlimit-nofile", arg); break;
	case O_RL_NPROC: s->rl_nproc = rlim("rlimit-nproc", arg); break;
	case O_RL_FSIZE: s->rl_fsize = rlim("rlimit-fsize", arg); break;
	case O_TMP: s->tmp_size = (size_t)num("tmp-size", arg, 1ull << 40); break;
	case O_DUMP: dump_filter(arg); break;
	case O_LLABI: printf("%d\n", sbx_landlock_abi()); exit(0);
	case O_HELP: fputs(usage, stdout); exit(0);
	case O_VERSION: printf("corral-jail %s\n", CORRAL_VERSION); exit(0);
	default: fputs(usage, stderr); exit(JAIL_EXIT_SETUP);
	}
}

static void
parse(struct opts *o, int argc, char **argv)
{
	bool have_profile = false;
	int c;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		have_profile |= c == O_PROFILE;
		parse_one(o, c, optarg);
	}
	if (!have_profile)
		die("--profile is required (agent, http, model or exec)");
	if (optind >= argc)
		die("no program given");
	if (argc - optind > LIM_JAIL_ARGS_MAX)
		die("more than %u arguments", LIM_JAIL_ARGS_MAX);
	for (size_t i = 0; i < o->spec.nkeep; i++)
		if (o->keep[i] == o->status_fd)
			die("--keep-fd %d is the status fd", o->keep[i]);
	find_program(o, argv[optind]);
	o->spec.path = o->path;
	o->spec.argv = (const char *const *)argv + optind;
	o->spec.envp = o->env;
	o->spec.binds = o->binds;
	o->spec.keep_fds = o->keep;
	o->spec.exec_slots = o->slots;
}

static void
status(const struct opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
status(const struct opts *o, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (o->status_fd >= 0 && write(o->status_fd, line, (size_t)n) < 0) {
		/* corrald stopped listening: it will learn from our exit status */
	}
	if (o->print_status)
		fprintf(stderr, "corral-jail: %.*s", n, line);
}

static const char *const sc_names[] = { "program", "worker", "none" };

static void
on_report(void *ctx, const struct jail_report *rep)
{
	const struct opts *o = ctx;

	if (rep->pid > 0) {
		status(o, "pid %d", (int)rep->pid);
		status(o, "userns %d", rep->userns);
		status(o, "netns %d", rep->netns);
		status(o, "landlock %d", rep->landlock_abi);
		status(o, "seccomp %s", sc_names[rep->seccomp]);
	}
	if (rep->exec_ok) {
		status(o, "exec ok");
		return;
	}
	status(o, "error %s: %s", rep->step, rep->err ? strerror(rep->err) : "failed");
	if (!o->print_status)
		fprintf(stderr, "corral-jail: %s: %s\n", rep->step,
		    rep->err ? strerror(rep->err) : "failed");
}

int
main(int argc, char **argv)
{
	static struct opts o = { .status_fd = -1 };
	int ws = 0, r, code;

	/* 0-2 must be open, or the first fd we open would become someone's stdout. */
	while ((r = open("/dev/null", O_RDWR)) >= 0 && r <= 2)
		;
	if (r > 2)
		close(r);
	signal(SIGPIPE, SIG_IGN);
	parse(&o, argc, argv);
	if (o.status_fd >= 0 && fcntl(o.status_fd, F_SETFD, FD_CLOEXEC) < 0)
		die("--status-fd %d: %s", o.status_fd, strerror(errno));
	if ((r = jail_exec(&o.spec, on_report, &o, &ws)) < 0)
		return JAIL_EXIT_SETUP;
	if (WIFSIGNALED(ws)) {
		status(&o, "signal %d", WTERMSIG(ws));
		code = 128 + WTERMSIG(ws);
	} else {
		code = WEXITSTATUS(ws);
		status(&o, "exit %d", code);
	}
	return code;
}
