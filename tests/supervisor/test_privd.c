/* corral-privd: the vetting grammar (table), and the real daemon driven through corrald's
 * own client (privc) as an unprivileged peer: who may connect, what it spawns and refuses,
 * kills, reports, and that a gone corrald's jails die. Needs root (it is a root daemon). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "supervisor/privd.h"

#define PEER_UID	40999		/* "corrald" */
#define TENANT_UID	41001
/* examples/systemd/corral-privd.service.in's CapabilityBoundingSet= */
#define PRIVD_CAPS	"-all,+sys_admin,+setuid,+setgid,+setpcap,+net_admin,+chown,+kill"

static char dir[64];
static char jail[512], privd_bin[512];
static pid_t privd_pid;

static const char *
env_bin(const char *name)
{
	const char *v = getenv(name);

	cr_assert_not_null(v, "%s not set (run through meson test)", name);
	return v;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ the grammar */

struct vet_case {
	const char *name;
	const char *args[24];	/* after argv[0] (the jail); NULL-terminated */
	bool ok;
	const char *why;	/* a piece of the reason when refused */
};

static const struct vet_case vet_cases[] = {
	{ "worker", { "--worker", "--profile", "http", "--tenant", "demo", "--uid", "41001",
	    "--gid", "41001", "--rlimit-nofile", "200", "--status-fd", "4", "--keep-fd", "3",
	    "--bind-ro", "/r/w/echo@demo.0:/ipc", "--", "/usr/bin/true", "--socket", "/ipc/sock",
	    NULL }, true, NULL },
	{ "agent with state", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--bind-rw",
	    "/s/agents/demo/bot:/state", "--env", "HOME=/state", "--", "/usr/bin/true", NULL },
	    true, NULL },
	{ "host network", { "--profile", "agent", "--net", "host", "--uid", "41001", "--gid",
	    "41001", "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--", "/usr/bin/true",
	    NULL }, false, "--net is not allowed" },
	{ "no seccomp", { "--no-seccomp", "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--", "/usr/bin/true", NULL },
	    false, "--no-seccomp" },
	{ "root", { "--profile", "agent", "--uid", "0", "--gid", "41001", "--status-fd", "4",
	    "--bind-ro", "/r/w/a.1:/ipc", "--", "/usr/bin/true", NULL }, false, "tenant range" },
	{ "uid out of range", { "--profile", "agent", "--uid", "1000", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--", "/usr/bin/true", NULL },
	    false, "tenant range" },
	{ "gid out of range", { "--profile", "agent", "--uid", "41001", "--gid", "0",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--", "/usr/bin/true", NULL },
	    false, "tenant range" },
	{ "no uid", { "--profile", "agent", "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc",
	    "--", "/usr/bin/true", NULL }, false, "required" },
	{ "bind /etc", { "--profile", "agent", "--uid", "41001", "--gid", "41001", "--status-fd",
	    "4", "--bind-ro", "/etc:/ipc", "--", "/usr/bin/true", NULL }, false, "socket or state" },
	{ "bind dot-dot", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/../../etc:/ipc", "--", "/usr/bin/true", NULL },
	    false, "socket or state" },
	{ "bind deeper", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a/b:/ipc", "--", "/usr/bin/true", NULL },
	    false, "socket or state" },
	{ "bind elsewhere inside", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/usr", "--", "/usr/bin/true", NULL },
	    false, "socket or state" },
	{ "state writable at /ipc", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-rw", "/r/w/a.1:/ipc", "--", "/usr/bin/true", NULL },
	    false, "socket or state" },
	{ "state too shallow", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--bind-rw", "/s/agents/demo:/state",
	    "--", "/usr/bin/true", NULL }, false, "socket or state" },
	{ "two ipc binds", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--bind-ro", "/r/w/b.1:/ipc", "--",
	    "/usr/bin/true", NULL }, false, "socket or state" },
	{ "status fd elsewhere", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "9", "--bind-ro", "/r/w/a.1:/ipc", "--", "/usr/bin/true", NULL },
	    false, "--status-fd" },
	{ "other kept fd", { "--profile", "http", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--keep-fd", "7", "--bind-ro", "/r/w/a.1:/ipc", "--",
	    "/usr/bin/true", NULL }, false, "--keep-fd" },
	{ "set-uid program", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--", "/usr/bin/passwd", NULL },
	    false, "set-id" },
	{ "set-uid exec slot", { "--profile", "exec", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--exec-slot", "/bin/su", "--",
	    "/usr/bin/true", NULL }, false, "set-id" },
	{ "relative program", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--", "true", NULL }, false,
	    "absolute" },
	{ "directory as program", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--", "/usr/bin", NULL }, false,
	    "regular" },
	{ "no program", { "--profile", "agent", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--", NULL }, false, "no program" },
	{ "unlimited memory", { "--profile", "agent", "--rlimit-as", "unlimited", "--uid", "41001",
	    "--gid", "41001", "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--",
	    "/usr/bin/true", NULL }, false, "--rlimit-as" },
	{ "print status", { "--print-status", "x", "--profile", "agent", "--uid", "41001", "--gid",
	    "41001", "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--", "/usr/bin/true",
	    NULL }, false, "not allowed" },
	{ "unknown profile", { "--profile", "root", "--uid", "41001", "--gid", "41001",
	    "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--", "/usr/bin/true", NULL },
	    false, "unknown" },
	{ "bad tenant name", { "--profile", "agent", "--tenant", "../x", "--uid", "41001", "--gid",
	    "41001", "--status-fd", "4", "--bind-ro", "/r/w/a.1:/ipc", "--", "/usr/bin/true",
	    NULL }, false, "not a name" },
};

Test(privd, vet_table)
{
	const struct privd_rules rules = { .jail_path = "/x/corral-jail", .runtime_dir = "/r",
		.state_dir = "/s", .uid_min = 41000, .uid_max = 41999 };

	for (size_t i = 0; i < sizeof(vet_cases) / sizeof(vet_cases[0]); i++) {
		const struct vet_case *c = &vet_cases[i];
		char *argv[26] = { "/x/corral-jail" }, why[300];
		struct privd_vetted v;
		size_t n = 1;
		int r;

		while (c->args[n - 1])
			argv[n] = (char *)c->args[n - 1], n++;
		r = privd_vet(&rules, argv, n, &v, why, sizeof(why));
		if (c->ok) {
			cr_expect_eq(r, 0, "%s: refused: %s", c->name, why);
			cr_expect_eq(v.uid, 41001, "%s", c->name);
		} else {
			cr_expect_eq(r, ERR_DENIED, "%s: not refused", c->name);
			cr_expect(strstr(why, c->why) != NULL, "%s: reason '%s' lacks '%s'", c->name,
			    why, c->why);
		}
	}
	/* another program than the jail */
	{
		char *argv[] = { "/bin/sh", "--profile", "agent", "--", "/usr/bin/true" }, why[300];
		struct privd_vetted v;

		cr_expect_eq(privd_vet(&rules, argv, 5, &v, why, sizeof(why)), ERR_DENIED);
	}
}

/* A world-executable program behind a directory only root may pass: the jail would open it
 * as root, so privd refuses it. */
Test(privd, programs_behind_closed_directories)
{
	char d[] = "/tmp/corral-privd-vet-XXXXXX", prog[96], why[300];
	const struct privd_rules rules = { .jail_path = "/x/corral-jail", .runtime_dir = "/r",
		.state_dir = "/s", .uid_min = 41000, .uid_max = 41999 };
	char *argv[] = { "/x/corral-jail", "--profile", "agent", "--uid", "41001", "--gid",
		"41001", "--status-fd", "4", "--bind-ro", "/r/w/a.0:/ipc", "--", prog, NULL };
	struct privd_vetted v;
	FILE *f;

	cr_assert_not_null(mkdtemp(d));
	snprintf(prog, sizeof(prog), "%s/tool", d);
	cr_assert_not_null(f = fopen(prog, "w"));
	fclose(f);
	chmod(prog, 0755);
	chmod(d, 0755);
	cr_expect_eq(privd_vet(&rules, argv, 13, &v, why, sizeof(why)), 0, "%s", why);
	chmod(d, 0700);
	cr_expect_eq(privd_vet(&rules, argv, 13, &v, why, sizeof(why)), ERR_DENIED);
	cr_expect(strstr(why, "not searchable by all") != NULL, "%s", why);
	unlink(prog);
	rmdir(d);
}

/* ------------------------------------------------------------------ the daemon */

static void
start_privd(void)
{
	char sock[128], run[128], state[128], log[128];
	int64_t end = now_ms() + 5000;

	snprintf(dir, sizeof(dir), "/tmp/corral-privd-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(jail, sizeof(jail), "%s", env_bin("CORRAL_BIN_corral_jail"));
	snprintf(privd_bin, sizeof(privd_bin), "%s", env_bin("CORRAL_BIN_corral_privd"));
	snprintf(sock, sizeof(sock), "%s/privd.sock", dir);
	snprintf(run, sizeof(run), "%s/run", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(log, sizeof(log), "%s/privd.log", dir);
	mkdir(run, 0711);
	snprintf(run + strlen(run), sizeof(run) - strlen(run), "/w");
	mkdir(run, 0711);
	snprintf(run + strlen(run), sizeof(run) - strlen(run), "/a.0");
	mkdir(run, 0711);
	mkdir(state, 0711);
	if ((privd_pid = fork()) == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 2);
		snprintf(run, sizeof(run), "%s/run", dir);
		/* with the capabilities of corral-privd.service and nothing else */
		execl("/usr/bin/setpriv", "setpriv", "--no-new-privs", "--inh-caps", "-all",
		    "--bounding-set", PRIVD_CAPS, privd_bin, "--user", "40999", "--uids",
		    "41000-41999", "--socket", sock, "--runtime-dir", run, "--state-dir", state,
		    "--jail", jail, (char *)NULL);
		_exit(127);
	}
	while (access(sock, F_OK) != 0) {
		cr_assert(now_ms() < end, "corral-privd did not start");
		usleep(10000);
	}
}

static char *
privd_log(void)
{
	static char buf[16384];
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/privd.log", dir);
	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	return buf;
}

static void
stop_privd(void)
{
	char cmd[128];

	if (privd_pid > 0) {
		kill(privd_pid, SIGTERM);
		waitpid(privd_pid, NULL, 0);
		privd_pid = 0;
	}
	if (dir[0] && getenv("CORRAL_KEEP_TMP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		(void)!system(cmd);
	}
}

/* Connect as uid (the effective uid is what SO_PEERCRED reports); back to root after. */
static struct privc *
connect_as(uid_t uid)
{
	char sock[128];
	struct privc *c = NULL;
	int r;

	snprintf(sock, sizeof(sock), "%s/privd.sock", dir);
	cr_assert_eq(setegid(uid), 0);
	cr_assert_eq(seteuid(uid), 0);
	r = privc_connect(sock, &c);
	cr_assert_eq(seteuid(0), 0);
	cr_assert_eq(setegid(0), 0);
	cr_assert_eq(r, 0, "connect: %s", err_str(r));
	return c;
}

struct spawned {
	int st_fd, er_fd;
	pid_t pid;
	int r;
	char why[300];
};

/* Spawn a jail running prog (argv after --) with the tenant's uid; our ends of its fds. */
static struct spawned
spawn(struct privc *c, const char *uid, const char *const *prog)
{
	struct spawned sp = { .st_fd = -1, .er_fd = -1 };
	char ipc[160];
	const char *argv[32] = { jail, "--profile", "agent", "--tenant", "demo", "--uid", uid,
		"--gid", uid, "--status-fd", "4", "--bind-ro", ipc, "--" };
	size_t n = 14;
	int st[2], er[2];

	snprintf(ipc, sizeof(ipc), "%s/run/w/a.0:/ipc", dir);
	for (size_t i = 0; prog[i]; i++)
		argv[n++] = prog[i];
	argv[n] = NULL;
	cr_assert_eq(pipe2(st, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(er, O_CLOEXEC), 0);
	sp.r = privc_spawn(c, (char *const *)argv, (const int[3]){ st[1], er[1], -1 }, &sp.pid,
	    sp.why, sizeof(sp.why));
	close(st[1]);
	close(er[1]);
	sp.st_fd = st[0];
	sp.er_fd = er[0];
	return sp;
}

/* The next exit privd reports, waiting up to ms. */
static int
wait_exit(struct privc *c, pid_t *pid, int *st, int ms)
{
	int64_t end = now_ms() + ms;
	struct privd_event ev;
	int r;

	do {
		while ((r = privc_next(c, &ev)) == 1 && ev.op != PRIVD_EXITED)
			;	/* a kmsg record */
		if (r == 1) {
			*pid = ev.pid;
			*st = ev.wstatus;
			return 1;
		}
		usleep(5000);
	} while (r == 0 && now_ms() < end);
	return r;
}

static char *
read_all(int fd)
{
	static char buf[4096];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

TestSuite(privd_live, .init = start_privd, .fini = stop_privd, .timeout = 60);

Test(privd_live, runs_a_vetted_jail_as_the_tenant_and_reports_its_end)
{
	struct privc *c = connect_as(PEER_UID);
	const char *prog[] = { "/usr/bin/id", "-u", NULL };
	struct spawned sp = spawn(c, "41001", prog);
	pid_t pid;
	int st;

	cr_assert_eq(sp.r, 0, "spawn: %s (%s)", err_str(sp.r), sp.why);
	cr_assert_eq(wait_exit(c, &pid, &st, 10000), 1, "no exit reported");
	cr_expect_eq(pid, sp.pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	cr_expect(strstr(read_all(sp.er_fd), "41001") != NULL, "the program ran as the tenant");
	cr_expect(strstr(read_all(sp.st_fd), "exit 0") != NULL);
	privc_free(c);
}

Test(privd_live, refuses_what_the_rules_do_not_allow_and_stays_up)
{
	struct privc *c = connect_as(PEER_UID);
	const char *prog[] = { "/usr/bin/true", NULL };
	struct spawned sp = spawn(c, "0", prog);

	cr_expect_eq(sp.r, ERR_DENIED);
	cr_expect(strstr(sp.why, "tenant range") != NULL, "why: %s", sp.why);
	/* the same connection still works */
	sp = spawn(c, "41001", prog);
	cr_expect_eq(sp.r, 0, "%s", sp.why);
	privc_free(c);
}

Test(privd_live, refuses_a_peer_that_is_not_corrald)
{
	struct privc *c = connect_as(41500);
	const char *prog[] = { "/usr/bin/true", NULL };
	struct spawned sp = spawn(c, "41001", prog);

	cr_expect_neq(sp.r, 0, "a stranger's spawn ran");
	cr_expect(strstr(privd_log(), "refused a peer: uid 41500") != NULL, "%s", privd_log());
	privc_free(c);
	/* and root is no exception */
	c = connect_as(0);
	sp = spawn(c, "41001", prog);
	cr_expect_neq(sp.r, 0);
	privc_free(c);
}

Test(privd_live, one_corrald_at_a_time)
{
	struct privc *a = connect_as(PEER_UID), *b;
	const char *prog[] = { "/usr/bin/true", NULL };
	struct spawned sp;

	sp = spawn(a, "41001", prog);	/* a is accepted before b knocks */
	cr_assert_eq(sp.r, 0, "%s", sp.why);
	b = connect_as(PEER_UID);
	sp = spawn(b, "41001", prog);
	cr_expect_neq(sp.r, 0, "a second corrald was served");
	cr_expect(strstr(privd_log(), "refused a second corrald") != NULL);
	privc_free(b);
	privc_free(a);
}

Test(privd_live, kill_reaches_its_jails_only)
{
	struct privc *c = connect_as(PEER_UID);
	const char *prog[] = { "/usr/bin/sleep", "30", NULL };
	struct spawned sp = spawn(c, "41001", prog);
	pid_t bystander, pid;
	int st;

	cr_assert_eq(sp.r, 0, "%s", sp.why);
	if ((bystander = fork()) == 0) {
		pause();
		_exit(0);
	}
	cr_assert_eq(privc_kill(c, bystander), 0);
	cr_assert_eq(privc_kill(c, sp.pid), 0);
	cr_assert_eq(wait_exit(c, &pid, &st, 10000), 1);
	cr_expect_eq(pid, sp.pid);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
	cr_expect_eq(waitpid(bystander, &st, WNOHANG), 0, "privd killed a process not its jail");
	cr_expect(strstr(privd_log(), "not a jail of this corrald") != NULL);
	kill(bystander, SIGKILL);
	waitpid(bystander, NULL, 0);
	privc_free(c);
}

Test(privd_live, a_gone_corralds_jails_die)
{
	struct privc *c = connect_as(PEER_UID);
	const char *prog[] = { "/usr/bin/sleep", "30", NULL };
	struct spawned sp = spawn(c, "41001", prog);
	char path[64];
	int64_t end = now_ms() + 5000;

	cr_assert_eq(sp.r, 0, "%s", sp.why);
	snprintf(path, sizeof(path), "/proc/%d", (int)sp.pid);
	cr_assert_eq(access(path, F_OK), 0);
	privc_free(c);
	while (access(path, F_OK) == 0 && now_ms() < end)
		usleep(10000);
	cr_expect_neq(access(path, F_OK), 0, "the jail outlived its corrald");
	/* the next corrald is served */
	c = connect_as(PEER_UID);
	sp = spawn(c, "41001", (const char *const[]){ "/usr/bin/true", NULL });
	cr_expect_eq(sp.r, 0, "%s", sp.why);
	privc_free(c);
}

/* The state directory is given to the tenant; a link planted in its place is not followed. */
Test(privd_live, state_dir_is_the_tenants_and_links_are_not_followed)
{
	struct privc *c = connect_as(PEER_UID);
	char ipc[160], good[160], bad[160], loose[160], target[160], p[160];
	const char *argv[] = { jail, "--profile", "agent", "--uid", "41001", "--gid", "41001",
		"--status-fd", "4", "--bind-ro", ipc, "--bind-rw", NULL, "--",
		"/usr/bin/touch", "/state/x", NULL };
	struct stat st;
	int so[2], se[2], r;
	pid_t pid;
	char why[300];

	snprintf(ipc, sizeof(ipc), "%s/run/w/a.0:/ipc", dir);
	snprintf(p, sizeof(p), "%s/state/agents", dir);
	mkdir(p, 0711);
	snprintf(p, sizeof(p), "%s/state/agents/demo", dir);
	mkdir(p, 0711);
	snprintf(p, sizeof(p), "%s/state/agents/demo/bot", dir);
	mkdir(p, 0700);
	snprintf(good, sizeof(good), "%s/state/agents/demo/bot:/state", dir);
	snprintf(target, sizeof(target), "%s/victim", dir);
	mkdir(target, 0700);
	snprintf(p, sizeof(p), "%s/state/agents/demo/evil", dir);
	cr_assert_eq(symlink(target, p), 0);
	snprintf(bad, sizeof(bad), "%s/state/agents/demo/evil:/state", dir);
	snprintf(p, sizeof(p), "%s/state/agents/demo/loose", dir);
	mkdir(p, 0700);
	chmod(p, 0777);
	snprintf(loose, sizeof(loose), "%s/state/agents/demo/loose:/state", dir);

	cr_assert_eq(pipe2(so, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(se, O_CLOEXEC), 0);
	argv[12] = good;
	r = privc_spawn(c, (char *const *)argv, (const int[3]){ so[1], se[1], -1 }, &pid, why,
	    sizeof(why));
	cr_assert_eq(r, 0, "%s", why);
	cr_assert_eq(wait_exit(c, &pid, &r, 10000), 1);
	cr_expect(WIFEXITED(r) && WEXITSTATUS(r) == 0, "touch in /state: status %#x: %s", r,
	    read_all(se[0]));
	snprintf(p, sizeof(p), "%s/state/agents/demo/bot/x", dir);
	cr_expect(stat(p, &st) == 0 && st.st_uid == TENANT_UID, "the agent wrote its state");
	snprintf(p, sizeof(p), "%s/state/agents/demo/bot", dir);
	cr_expect(stat(p, &st) == 0 && st.st_uid == TENANT_UID && (st.st_mode & 0777) == 0700);

	argv[12] = bad;
	r = privc_spawn(c, (char *const *)argv, (const int[3]){ so[1], se[1], -1 }, &pid, why,
	    sizeof(why));
	cr_expect_neq(r, 0, "a symlinked state directory was used");
	cr_expect(strstr(why, "state directory") != NULL, "why: %s", why);
	cr_expect(stat(target, &st) == 0 && st.st_uid == 0, "privd chowned a link's target");

	argv[12] = loose;
	r = privc_spawn(c, (char *const *)argv, (const int[3]){ so[1], se[1], -1 }, &pid, why,
	    sizeof(why));
	cr_expect_neq(r, 0, "a state directory others may write was given to the tenant");
	snprintf(p, sizeof(p), "%s/state/agents/demo/loose", dir);
	cr_expect(stat(p, &st) == 0 && st.st_uid == 0);
	privc_free(c);
}

/* A malformed request ends the connection (and nothing else). */
Test(privd_live, malformed_requests_end_the_connection)
{
	char sock[128];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[16];
	int fd;

	snprintf(sock, sizeof(sock), "%s/privd.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	cr_assert_eq(seteuid(PEER_UID), 0);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(seteuid(0), 0);
	cr_assert_eq(send(fd, "abc", 3, 0), 3);
	cr_expect_eq(recv(fd, buf, sizeof(buf), 0), 0, "the connection stayed open");
	close(fd);
	cr_expect(strstr(privd_log(), "malformed request") != NULL);
	cr_expect_eq(kill(privd_pid, 0), 0, "privd died");
}

/* corrald busy, not reading: privd's exits wait for it instead of being dropped when its
 * socket is full (about 300 small datagrams fit), and come in the order they happened. */
TestSuite(privd_load, .init = start_privd, .fini = stop_privd, .timeout = 120);

Test(privd_load, exits_wait_for_a_slow_corrald)
{
	enum { N = 400 };
	struct privc *c = connect_as(PEER_UID);
	const char *prog[] = { "/usr/bin/sleep", "2", NULL };	/* all end while we sleep */
	static pid_t pids[N];
	struct privd_event ev;
	int got = 0, r;
	int64_t end;

	for (int i = 0; i < N; i++) {
		struct spawned sp = spawn(c, "41001", prog);

		cr_assert_eq(sp.r, 0, "spawn %d: %s", i, sp.why);
		pids[i] = sp.pid;
		close(sp.st_fd);
		close(sp.er_fd);
	}
	/* not reading while they end (exits reported during the spawns were queued by the
	 * client, and are counted too) */
	end = now_ms() + 60000;
	for (int i = 0; i < N && now_ms() < end; i++)	/* every jail reaped by privd */
		while (kill(pids[i], 0) == 0 && now_ms() < end)
			usleep(10000);
	while ((r = privc_next(c, &ev)) == 1 || (r == 0 && got < N && now_ms() < end)) {
		if (r == 0) {
			usleep(10000);
			continue;
		}
		if (ev.op == PRIVD_EXITED) {
			cr_expect(WIFEXITED(ev.wstatus) && WEXITSTATUS(ev.wstatus) == 0);
			got++;
		}
	}
	cr_expect_eq(got, N, "%d of %d exits reported", got, N);
	privc_free(c);
}

/* The socket directory is opened by privd without following links and bound through that
 * descriptor: a link corrald (or anyone) planted at <runtime>/w/NAME is refused, and so is a
 * directory others may write. */
Test(privd_live, socket_dir_links_are_not_followed)
{
	struct privc *c = connect_as(PEER_UID);
	char ipc[160], p[160];
	const char *argv[] = { jail, "--profile", "agent", "--uid", "41001", "--gid", "41001",
		"--status-fd", "4", "--bind-ro", ipc, "--", "/usr/bin/true", NULL };
	int so[2], se[2], r;
	pid_t pid;
	char why[300];

	snprintf(p, sizeof(p), "%s/run/w/evil.0", dir);
	cr_assert_eq(symlink("/etc", p), 0);
	snprintf(ipc, sizeof(ipc), "%s:/ipc", p);
	cr_assert_eq(pipe2(so, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(se, O_CLOEXEC), 0);
	r = privc_spawn(c, (char *const *)argv, (const int[3]){ so[1], se[1], -1 }, &pid, why,
	    sizeof(why));
	cr_expect_neq(r, 0, "a linked socket directory was bound");
	cr_expect(strstr(why, "socket directory") != NULL, "why: %s", why);

	snprintf(p, sizeof(p), "%s/run/w/open.0", dir);
	cr_assert_eq(mkdir(p, 0700), 0);
	cr_assert_eq(chmod(p, 0777), 0);
	snprintf(ipc, sizeof(ipc), "%s:/ipc", p);
	r = privc_spawn(c, (char *const *)argv, (const int[3]){ so[1], se[1], -1 }, &pid, why,
	    sizeof(why));
	cr_expect_neq(r, 0, "a socket directory others may write was bound");

	snprintf(p, sizeof(p), "%s/run/w/a.0", dir);	/* the good one still works */
	snprintf(ipc, sizeof(ipc), "%s:/ipc", p);
	r = privc_spawn(c, (char *const *)argv, (const int[3]){ so[1], se[1], -1 }, &pid, why,
	    sizeof(why));
	cr_expect_eq(r, 0, "%s", why);
	privc_free(c);
}
