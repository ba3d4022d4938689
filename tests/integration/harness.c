#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"

const char *
hx_bin(const char *name)
{
	char env[64], *p;
	const char *v;

	snprintf(env, sizeof(env), "CORRAL_BIN_%s", name);
	for (p = env; *p; p++)
		if (*p == '-')
			*p = '_';
	v = getenv(env);
	cr_assert_not_null(v, "%s not set (run through meson test)", env);
	return v;	/* the environment's own string: it lives as long as we do */
}

char *
hx_read(const char *path)
{
	size_t len = 0, cap = 8192;
	char *buf = calloc(1, cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k;

	/* to the end, not by size: /proc and /sys files stat as 0 bytes */
	if (fd < 0)
		return buf;
	while ((k = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)k;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

const char *
hx_file(struct hx *h, const char *name, const char *content, int mode)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", h->dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(content, f);
	/* a test's own corral.yaml gets the split install's privd key too */
	if (h->privsep && strcmp(name, "corral.yaml") == 0 && strstr(content, "privd:") == NULL)
		fprintf(f, "%sprivd: %s\n", content[0] && content[strlen(content) - 1] != '\n' ?
		    "\n" : "", h->privd_sock);
	fclose(f);
	chmod(path, (mode_t)mode);
	if (h->privsep && chown(path, HX_CORRALD_UID, HX_CORRALD_UID) < 0)
		cr_assert_fail("chown %s: %m", path);
	return path;
}

void
hx_config(struct hx *h, const char *body)
{
	char *tmpl = strdup("/tmp/corral-it-XXXXXX"), buf[8192];
	const char *jail = hx_bin("corral-jail");
	char libexec[512], *slash;

	if (h->privd_pid > 0) {		/* a second config in one test: a fresh monitor too */
		kill(h->privd_pid, SIGTERM);
		waitpid(h->privd_pid, NULL, 0);
	}
	memset(h, 0, sizeof(*h));
	h->privsep = getenv("CORRAL_TEST_PRIVSEP") && strcmp(getenv("CORRAL_TEST_PRIVSEP"), "1") == 0;
	cr_assert_not_null(mkdtemp(tmpl));
	chmod(tmpl, 0755);
	snprintf(h->dir, sizeof(h->dir), "%s", tmpl);
	free(tmpl);
	snprintf(h->cfg, sizeof(h->cfg), "%s/corral.yaml", h->dir);
	snprintf(h->sock, sizeof(h->sock), "%s/run/ctl.sock", h->dir);
	snprintf(h->audit, sizeof(h->audit), "%s/state/audit/audit.jsonl", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/corrald.log", h->dir);
	snprintf(libexec, sizeof(libexec), "%s", jail);
	if ((slash = strrchr(libexec, '/')) != NULL)
		*slash = '\0';
	snprintf(h->privd_sock, sizeof(h->privd_sock), "%s/privd/privd.sock", h->dir);
	/* privd last, so that the body's line numbers stay what a test expects */
	snprintf(buf, sizeof(buf), "runtime_dir: %s/run\nstate_dir: %s/state\n"
	    "libexec_dir: %s\n%s%s%s%s", h->dir, h->dir, libexec, body,
	    h->privsep && body[0] && body[strlen(body) - 1] != '\n' ? "\n" : "",
	    h->privsep ? "privd: " : "", h->privsep ? h->privd_sock : "");
	hx_file(h, "corral.yaml", buf, 0600);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
hx_run(char **out, const char *const *argv)
{
	char tmp[] = "/tmp/corral-out-XXXXXX";
	int fd = mkstemp(tmp), st;
	pid_t pid;

	cr_assert(fd >= 0);
	if ((pid = fork()) == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	close(fd);
	if (out)
		*out = hx_read(tmp);
	unlink(tmp);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int
hx_ctl(struct hx *h, char **out, const char *const *argv)
{
	return hx_ctl_as(h, 0, out, argv);
}

int
hx_ctl_as(struct hx *h, uid_t uid, char **out, const char *const *argv)
{
	const char *av[32];
	char tmp[] = "/tmp/corral-ctl-XXXXXX";
	int n = 0, fd = mkstemp(tmp), st;
	pid_t pid;

	av[n++] = hx_bin("corralctl");
	av[n++] = "-s";
	av[n++] = h->sock;
	for (int i = 0; argv[i] && n < 31; i++)
		av[n++] = argv[i];
	av[n] = NULL;
	if ((pid = fork()) == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (uid != 0 && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0))
			_exit(126);
		execv(av[0], (char *const *)av);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	close(fd);
	if (out)
		*out = hx_read(tmp);
	unlink(tmp);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

json_t *
hx_status(struct hx *h)
{
	static const char *const av[] = { "-o", "json", "status", NULL };
	char *out = NULL;
	json_t *j = NULL;

	if (hx_ctl(h, &out, av) == 0)
		j = json_loads(out, 0, NULL);
	free(out);
	return j;
}

json_t *
hx_worker(json_t *status, const char *name)
{
	size_t i;
	json_t *w;

	json_array_foreach(json_object_get(status, "workers"), i, w)
		if (strcmp(json_string_value(json_object_get(w, "name")), name) == 0)
			return w;
	return NULL;
}

json_t *
hx_wait_state(struct hx *h, const char *name, const char *state, int timeout_ms,
    json_t **status_out)
{
	int64_t end = now_ms() + timeout_ms;

	do {
		json_t *st = hx_status(h), *w = st ? hx_worker(st, name) : NULL;

		if (w && strcmp(json_string_value(json_object_get(w, "state")), state) == 0) {
			*status_out = st;
			return w;
		}
		json_decref(st);
		usleep(50000);
	} while (now_ms() < end);
	*status_out = NULL;
	return NULL;
}

static int
chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return lchown(path, HX_CORRALD_UID, HX_CORRALD_UID) < 0 ? -1 : 0;
}

/* The split install's monitor, once per harness (corrald restarts keep it). */
static void
privd_start(struct hx *h)
{
	char run[320], state[320], plog[320], bin[512], jail[512];
	int64_t end = now_ms() + 5000;

	cr_assert_eq(nftw(h->dir, chown_one, 16, FTW_PHYS), 0, "chown -R %s: %m", h->dir);
	/* privd's own directory, root's as its RuntimeDirectory= is: it has no capability to
	 * write into corrald's */
	snprintf(run, sizeof(run), "%s/privd", h->dir);
	if ((mkdir(run, 0755) < 0 && errno != EEXIST) || chown(run, 0, 0) < 0)
		cr_assert_fail("%s: %m", run);
	if (h->privd_pid > 0)
		return;
	snprintf(run, sizeof(run), "%s/run", h->dir);
	snprintf(state, sizeof(state), "%s/state", h->dir);
	snprintf(plog, sizeof(plog), "%s/privd.log", h->dir);
	snprintf(bin, sizeof(bin), "%s", hx_bin("corral-privd"));
	snprintf(jail, sizeof(jail), "%s", hx_bin("corral-jail"));
	if ((h->privd_pid = fork()) == 0) {
		int fd = open(plog, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(fd, 2);
		/* the capabilities of corral-privd.service, plus CAP_SYSLOG as its documented
		 * drop-in adds (/dev/kmsg: the syscall that killed a worker) */
		execl("/usr/bin/setpriv", "setpriv", "--no-new-privs", "--inh-caps", "-all",
		    "--bounding-set", HX_PRIVD_CAPS ",+syslog", bin, "--user", "40999", "--uids",
		    HX_TENANT_UIDS, "--socket", h->privd_sock, "--runtime-dir", run, "--state-dir",
		    state, "--jail", jail, (char *)NULL);
		_exit(127);
	}
	while (access(h->privd_sock, F_OK) != 0) {
		cr_assert(now_ms() < end && waitpid(h->privd_pid, NULL, WNOHANG) == 0,
		    "corral-privd did not start:\n%s", hx_read(plog));
		usleep(10000);
	}
}

void
hx_start(struct hx *h, int want_ready)
{
	hx_start_within(h, want_ready, 15000);
}

void
hx_launch(struct hx *h, const char *log_level)
{
	const char *corrald = hx_bin("corrald");

	if (h->privsep)
		privd_start(h);
	if ((h->pid = fork()) == 0) {
		int fd = open(h->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 2);
		dup2(fd, 1);
		if (h->privsep && (setgroups(0, NULL) < 0 || setgid(HX_CORRALD_UID) < 0 ||
		    setuid(HX_CORRALD_UID) < 0))
			_exit(126);
		execl(corrald, "corrald", "-c", h->cfg, "--log-level", log_level, (char *)NULL);
		_exit(127);
	}
}

void
hx_start_within(struct hx *h, int want_ready, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	hx_launch(h, "debug");
	for (;;) {
		json_t *st = access(h->sock, F_OK) == 0 ? hx_status(h) : NULL;
		int ready = 0;
		size_t i;
		json_t *w;

		json_array_foreach(json_object_get(st, "workers"), i, w)
			if (strcmp(json_string_value(json_object_get(w, "state")), "ready") == 0)
				ready++;
		json_decref(st);
		if (st && ready >= want_ready)
			return;
		if (now_ms() > end || waitpid(h->pid, NULL, WNOHANG) == h->pid) {
			char *log = hx_read(h->log);

			cr_assert_fail("corrald did not get %d workers ready (%d are):\n%.8000s",
			    want_ready, ready, log);
		}
		usleep(50000);
	}
}

int
hx_stop(struct hx *h)
{
	int st;
	int64_t end = now_ms() + 10000;

	if (h->pid <= 0)
		return -1;
	kill(h->pid, SIGTERM);
	while (waitpid(h->pid, &st, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, &st, 0);
			h->pid = 0;
			return -1;
		}
		usleep(20000);
	}
	h->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void
hx_cleanup(struct hx *h)
{
	char *out = NULL;
	const char *av[] = { "/bin/rm", "-rf", h->dir, NULL };

	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	if (h->privd_pid > 0) {
		kill(h->privd_pid, SIGTERM);
		waitpid(h->privd_pid, NULL, 0);
		h->privd_pid = 0;
	}
	if (h->dir[0] && getenv("CORRAL_KEEP_TMP") == NULL)
		hx_run(&out, av);
	free(out);
}
