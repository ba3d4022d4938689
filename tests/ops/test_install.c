/* The installed tree: `meson install --destdir` from this build into a temporary root gives
 * exactly the expected files and modes (a new installed file belongs in expected_tree()); both
 * units (corrald.service unprivileged, corral-privd.service root) pass `systemd-analyze verify`
 * and stay within their documented exposure; sysusers.d and tmpfiles.d, applied to a scratch
 * root, make the corral user and its directories; the installed configuration uses privd with
 * tenant uids the privd unit allows; every installed command answers --help; the installed
 * configuration passes --check; the man pages format without warnings; the completion
 * completes; and with --prefix=/usr the layout is the FHS one. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "tests/integration/harness.h"

static char root[256];		/* the DESTDIR */

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	cr_assert_not_null(v, "%s not set (run through meson test)", name);
	return v;
}

/* The absolute path of a program on $PATH, or NULL. */
static const char *
which(const char *prog)
{
	static char buf[4][512];
	static int k;
	char *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin"), *save = NULL;

	k = (k + 1) % 4;
	for (char *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(buf[k], sizeof(buf[k]), "%s/%s", d, prog);
		if (access(buf[k], X_OK) == 0) {
			free(path);
			return buf[k];
		}
	}
	free(path);
	return NULL;
}

static const char *
need(const char *prog, const char *package)
{
	const char *p = which(prog);

	cr_assert_not_null(p, "%s is not installed: it comes with the Debian package '%s' "
	    "(scripts/setup installs it)", prog, package);
	return p;
}

/* root + an absolute installed path */
static const char *
in_root(const char *abs)
{
	static char buf[4][1024];
	static int k;
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%s%s", root, abs);
	k = (k + 1) % 4;
	memcpy(buf[k], tmp, sizeof(tmp));
	return buf[k];
}

static const char *
join(const char *a, const char *b)
{
	static char buf[8][512];
	static int k;
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s/%s", a, b);	/* a may be an earlier result */
	k = (k + 1) % 8;
	memcpy(buf[k], tmp, sizeof(tmp));
	return buf[k];
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

/* One install for the whole run: report hooks run in Criterion's runner, before it starts the
 * test processes, which find the tree through the environment. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char tmpl[] = "/tmp/corral-destdir-XXXXXX", *out = NULL;
	const char *meson = which("meson"), *build = getenv("CORRAL_BUILD_ROOT");
	int r;

	if (meson == NULL || build == NULL || mkdtemp(tmpl) == NULL)
		return;		/* the tests say what is missing */
	chmod(tmpl, 0755);	/* man drops root for the "man" user: it must see the pages */
	const char *av[] = { meson, "install", "-C", build, "--no-rebuild", "--quiet",
		"--destdir", tmpl, NULL };

	if ((r = hx_run(&out, av)) != 0) {
		fprintf(stderr, "meson install failed (%d):\n%s\n", r, out);
		nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	} else {
		snprintf(root, sizeof(root), "%s", tmpl);
		setenv("CORRAL_TEST_DESTDIR", tmpl, 1);
	}
	free(out);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	if (root[0] && getenv("CORRAL_KEEP_TMP") == NULL)
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
installed(void)
{
	const char *d = getenv("CORRAL_TEST_DESTDIR");

	need("meson", "meson");
	env("CORRAL_BUILD_ROOT");
	cr_assert_not_null(d, "meson install --destdir failed (see above)");
	snprintf(root, sizeof(root), "%s", d);
}

TestSuite(install, .init = installed, .timeout = 60);

/* ---------------------------------------------------------------- the tree */

struct want {
	const char *path;	/* absolute, as installed */
	mode_t mode;		/* permission bits */
	bool dir;
};

static struct want wants[64];
static size_t nwants;

static void
want(const char *path, mode_t mode, bool dir)
{
	cr_assert_lt(nwants, sizeof(wants) / sizeof(wants[0]));
	wants[nwants++] = (struct want){ strdup(path), mode, dir };
}

static void
expected_tree(void)
{
	const char *prefix = env("CORRAL_PREFIX"), *conf = env("CORRAL_CONFDIR");
	const char *man = env("CORRAL_MANDIR"), *libexec = env("CORRAL_LIBEXECDIR");
	static const char *const policies[] = { "ci.yaml", "payments.yaml",
		"deployment-guardian.policy.yaml", "drift-detector.policy.yaml",
		"pipeline-doctor.policy.yaml", "release-manager.policy.yaml" };
	static const char *const agents[] = { "deployment-guardian.yaml", "drift-detector.yaml",
		"pipeline-doctor.yaml", "release-manager.yaml" };

	nwants = 0;
	want(join(env("CORRAL_SBINDIR"), "corrald"), 0755, false);
	want(join(env("CORRAL_SBINDIR"), "corral-privd"), 0755, false);
	want(join(env("CORRAL_BINDIR"), "corralctl"), 0755, false);
	want(join(libexec, "corral-jail"), 0755, false);
	want(join(libexec, "corral-worker"), 0755, false);
	want(join(libexec, "corral-agent"), 0755, false);
	want(join(conf, "corral.yaml"), 0640, false);
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		want(join(join(conf, "policies"), policies[i]), 0644, false);
	for (size_t i = 0; i < sizeof(agents) / sizeof(agents[0]); i++)
		want(join(join(conf, "agents"), agents[i]), 0644, false);
	want("/var/lib/corral", 0711, true);
	want("/var/log/corral", 0700, true);
	want(join(prefix, "lib/systemd/system/corrald.service"), 0644, false);
	want(join(prefix, "lib/systemd/system/corral-privd.service"), 0644, false);
	want(join(prefix, "lib/tmpfiles.d/corral.conf"), 0644, false);
	want(join(prefix, "lib/sysusers.d/corral.conf"), 0644, false);
	want(join(man, "man8/corrald.8"), 0644, false);
	want(join(man, "man8/corral-privd.8"), 0644, false);
	want(join(man, "man1/corralctl.1"), 0644, false);
	want(join(man, "man1/corral-jail.1"), 0644, false);
	want(join(man, "man5/corral.yaml.5"), 0644, false);
	want(join(man, "man5/corral-policy.5"), 0644, false);
	want(join(env("CORRAL_DATADIR"), "bash-completion/completions/corralctl"), 0644, false);
	/* agents/: the library external agent programs link (docs/AGENTS.md) */
	want(join(env("CORRAL_LIBDIR"), "libcorral-agent.a"), 0644, false);
	want(join(env("CORRAL_INCLUDEDIR"), "corral/libcorral-agent.h"), 0644, false);
}

static int strays;

static int
check_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	const char *abs = p + strlen(root);
	bool known = false;

	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		cr_expect_fail("%s is neither a file nor a directory", abs);
	for (size_t i = 0; i < nwants; i++) {
		size_t n = strlen(abs);

		/* a wanted path, or a directory on the way to one */
		if (strcmp(wants[i].path, abs) == 0 || (S_ISDIR(st->st_mode) &&
		    (n == 0 || (strncmp(wants[i].path, abs, n) == 0 && wants[i].path[n] == '/'))))
			known = true;
	}
	if (!known) {
		cr_expect_fail("installed but not expected: %s", abs);
		strays++;
	}
	return 0;
}

Test(install, tree_and_modes)
{
	struct stat st;

	expected_tree();
	for (size_t i = 0; i < nwants; i++) {
		cr_assert_eq(lstat(in_root(wants[i].path), &st), 0, "missing: %s", wants[i].path);
		cr_expect_eq(S_ISDIR(st.st_mode), wants[i].dir, "%s: wrong type", wants[i].path);
		cr_expect_eq(st.st_mode & 07777, wants[i].mode, "%s: mode %o, want %o",
		    wants[i].path, st.st_mode & 07777, wants[i].mode);
		cr_expect_eq(st.st_uid, 0, "%s: not owned by root", wants[i].path);
	}
	nftw(root, check_entry, 16, FTW_PHYS);
	cr_assert_eq(strays, 0);
}

Test(install, units_and_tmpfiles)
{
	const char *prefix = env("CORRAL_PREFIX"), *conf = env("CORRAL_CONFDIR");
	char *unit = hx_read(in_root(join(prefix, "lib/systemd/system/corrald.service")));
	char *priv = hx_read(in_root(join(prefix, "lib/systemd/system/corral-privd.service")));
	char *tmpf = hx_read(in_root(join(prefix, "lib/tmpfiles.d/corral.conf"))), line[1024];

	snprintf(line, sizeof(line), "\nExecStart=%s -c %s\n", join(env("CORRAL_SBINDIR"),
	    "corrald"), join(conf, "corral.yaml"));
	cr_assert(strstr(unit, line), "%s\nnot in\n%s", line, unit);
	cr_assert(strstr(unit, "\nType=notify\n") && strstr(unit, "\nNotifyAccess=main\n"));
	cr_assert(strstr(unit, "\nExecReload=/bin/kill -HUP $MAINPID\n"));
	/* the split: corrald unprivileged, bound to the root monitor */
	cr_assert(strstr(unit, "\nUser=corral\n") && strstr(unit, "\nCapabilityBoundingSet=\n"),
	    "%s", unit);
	cr_assert(strstr(unit, "\nBindsTo=corral-privd.service\n") &&
	    strstr(unit, "\nAfter=corral-privd.service\n"), "%s", unit);
	snprintf(line, sizeof(line), "\nExecStart=%s --user corral --uids 41000-42999 --jail %s\n",
	    join(env("CORRAL_SBINDIR"), "corral-privd"), join(env("CORRAL_LIBEXECDIR"),
	    "corral-jail"));
	cr_assert(strstr(priv, line), "%s\nnot in\n%s", line, priv);
	cr_assert(strstr(priv, "\nType=notify\n") && strstr(priv, "\nPrivateNetwork=yes\n"));
	cr_assert(strstr(priv, "\nRuntimeDirectory=corral-privd\n"), "%s", priv);
	for (const char *const *u = (const char *const[]){ unit, priv, tmpf, NULL }; *u; u++)
		for (const char *a = strchr(*u, '@'); a; a = strchr(a + 1, '@'))
			cr_assert(a[1] < 'A' || a[1] > 'Z', "an unsubstituted %.16s is left", a);
	cr_assert(strstr(tmpf, "\nd /run/corral     0711 corral corral -\n"), "%s", tmpf);
	cr_assert(strstr(tmpf, "\nd /var/lib/corral 0711 corral corral -\n"), "%s", tmpf);
	cr_assert(strstr(tmpf, "\nd /var/log/corral 0700 corral corral -\n"), "%s", tmpf);
	snprintf(line, sizeof(line), "\nz %s 0640 root corral -\n", join(conf, "corral.yaml"));
	cr_assert(strstr(tmpf, line), "%s\nnot in\n%s", line, tmpf);
	free(unit);
	free(priv);
	free(tmpf);
}

/* The installed corral.yaml runs the split: its privd: is the socket corral-privd listens on
 * by default (in the unit's RuntimeDirectory=), and every tenant uid is in the unit's --uids,
 * or privd would refuse its workers. */
Test(install, config_fits_privd_unit)
{
	char *cfg = hx_read(in_root(join(env("CORRAL_CONFDIR"), "corral.yaml")));
	char *priv = hx_read(in_root(join(env("CORRAL_PREFIX"),
	    "lib/systemd/system/corral-privd.service")));
	const char *p, *u;
	unsigned lo, hi, uid, n = 0;

	cr_assert(strstr(cfg, "\nprivd: /run/corral-privd/privd.sock\n"), "%s", cfg);
	cr_assert_not_null(u = strstr(priv, " --uids "), "%s", priv);
	cr_assert_eq(sscanf(u, " --uids %u-%u", &lo, &hi), 2, "%s", u);
	for (p = cfg; (p = strstr(p, "\n    uid: ")) != NULL; p++, n++) {
		cr_assert_eq(sscanf(p, "\n    uid: %u", &uid), 1);
		cr_expect(uid >= lo && uid <= hi, "tenant uid %u outside --uids %u-%u", uid, lo, hi);
	}
	cr_assert_gt(n, 0, "no tenant uid found in\n%s", cfg);
	free(cfg);
	free(priv);
}

/* sysusers.d and tmpfiles.d, applied to a scratch root as the boot applies them to /: the user
 * corral exists, the directories are its own with the units' modes, the configuration is
 * readable through its group. */
Test(install, sysusers_and_tmpfiles_apply)
{
	const char *su = need("systemd-sysusers", "systemd"), *tf = need("systemd-tmpfiles",
	    "systemd"), *prefix = env("CORRAL_PREFIX"), *conf = env("CORRAL_CONFDIR");
	char scratch[] = "/tmp/corral-sysroot-XXXXXX", sysusers[512], tmpfiles[512], *out = NULL;
	char cmd[2048], *pw;
	static const struct { const char *path; mode_t mode; } dirs[] = {
		{ "/run/corral", 0711 }, { "/var/lib/corral", 0711 }, { "/var/log/corral", 0700 } };
	struct stat st;
	unsigned uid = 0, gid = 0;

	cr_assert_not_null(mkdtemp(scratch));
	snprintf(sysusers, sizeof(sysusers), "%s", in_root(join(prefix, "lib/sysusers.d/corral.conf")));
	snprintf(tmpfiles, sizeof(tmpfiles), "%s", in_root(join(prefix, "lib/tmpfiles.d/corral.conf")));
	/* the installed configuration, where tmpfiles' z line expects it */
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/etc' '%s%s' && cp '%s' '%s%s/'", scratch, scratch,
	    conf, in_root(join(conf, "corral.yaml")), scratch, conf);
	const char *sh[] = { "/bin/sh", "-c", cmd, NULL };
	cr_assert_eq(hx_run(&out, sh), 0, "%s", out);
	free(out);
	char rootopt[600];
	snprintf(rootopt, sizeof(rootopt), "--root=%s", scratch);
	const char *av_su[] = { su, rootopt, sysusers, NULL };
	const char *av_tf[] = { tf, rootopt, "--create", tmpfiles, NULL };
	cr_assert_eq(hx_run(&out, av_su), 0, "systemd-sysusers:\n%s", out);
	free(out);
	cr_assert_eq(hx_run(&out, av_tf), 0, "systemd-tmpfiles:\n%s", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "%s/etc/passwd", scratch);
	pw = hx_read(cmd);
	cr_assert(strncmp(pw, "corral:x:", 9) == 0 || strstr(pw, "\ncorral:x:"), "%s", pw);
	cr_assert_eq(sscanf(strstr(pw, "corral:x:") + 9, "%u:%u:", &uid, &gid), 2, "%s", pw);
	cr_assert(uid > 0 && uid < 1000, "corral is not a system user: uid %u", uid);
	cr_assert(strstr(pw, ":/usr/sbin/nologin\n"), "%s", pw);
	free(pw);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s%s", scratch, dirs[i].path);
		cr_assert_eq(stat(cmd, &st), 0, "%s not made", dirs[i].path);
		cr_expect(st.st_uid == uid && st.st_gid == gid, "%s: %u:%u, want %u:%u",
		    dirs[i].path, (unsigned)st.st_uid, (unsigned)st.st_gid, uid, gid);
		cr_expect_eq(st.st_mode & 07777, dirs[i].mode, "%s: mode %o", dirs[i].path,
		    st.st_mode & 07777);
	}
	snprintf(cmd, sizeof(cmd), "%s%s", scratch, join(conf, "corral.yaml"));
	cr_assert_eq(stat(cmd, &st), 0);
	cr_expect(st.st_uid == 0 && st.st_gid == gid && (st.st_mode & 07777) == 0640,
	    "corral.yaml: %u:%u %o, want 0:%u 0640", (unsigned)st.st_uid, (unsigned)st.st_gid,
	    st.st_mode & 07777, gid);
	nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A unit as installed, copied into dir with its commands pointed into the DESTDIR (verify
 * checks that they are executable); its man: links are resolved against the installed pages. */
static void
unit_for_verify(const char *dir, const char *name, char *path, size_t len)
{
	const char *prefix = env("CORRAL_PREFIX");
	char *unit = hx_read(in_root(join(join(prefix, "lib/systemd/system"), name))), *p;
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	for (p = unit; *p; p++) {
		if ((p == unit || p[-1] == '=' || p[-1] == ' ') && *p == '/' &&
		    (strncmp(p, env("CORRAL_SBINDIR"), strlen(env("CORRAL_SBINDIR"))) == 0 ||
		    strncmp(p, env("CORRAL_CONFDIR"), strlen(env("CORRAL_CONFDIR"))) == 0))
			fputs(root, f);
		fputc(*p, f);
	}
	fclose(f);
	free(unit);
}

/* systemd-analyze security --offline: exits non-zero when the unit's exposure is above the
 * threshold (exposure x 10). */
static void
exposure_at_most(const char *sa, const char *unit, const char *name, int tenths)
{
	char thr[32], want[128], *out = NULL, *lvl;
	const char *security[] = { sa, "security", "--offline=true", thr, unit, NULL };

	snprintf(thr, sizeof(thr), "--threshold=%d", tenths);
	cr_assert_eq(hx_run(&out, security), 0, "%s: exposure over %d.%d:\n%s", name,
	    tenths / 10, tenths % 10, out);
	snprintf(want, sizeof(want), "Overall exposure level for %s: ", name);
	cr_assert_not_null(lvl = strstr(out, want), "%s", out);
	cr_log_info("%.*s", (int)strcspn(lvl, "\n"), lvl);
	free(out);
}

Test(install, systemd_analyze)
{
	const char *sa = need("systemd-analyze", "systemd");
	char dir[] = "/tmp/corral-verify-XXXXXX", unit[512], priv[512], *out = NULL;
	const char *verify[] = { sa, "verify", unit, priv, NULL };

	cr_assert_not_null(mkdtemp(dir));	/* not in root: the tree test walks that */
	unit_for_verify(dir, "corrald.service", unit, sizeof(unit));
	unit_for_verify(dir, "corral-privd.service", priv, sizeof(priv));
	need("man", "man-db");	/* verify resolves Documentation=man:... */
	cr_assert_eq(setenv("MANPATH", in_root(env("CORRAL_MANDIR")), 1), 0);
	/* together: corrald.service names corral-privd.service (BindsTo=, After=) */
	cr_assert_eq(hx_run(&out, verify), 0, "systemd-analyze verify:\n%s", out);
	cr_assert_str_eq(out, "", "systemd-analyze verify warns:\n%s", out);
	free(out);
	/* docs/OPERATIONS.md lists what is left in each and why: the target is <= 2.0
	 * for corrald (it measures 1.4); the root monitor keeps what the jail needs (2.9). The
	 * thresholds are the documented numbers, so any loosening fails here. */
	exposure_at_most(sa, unit, "corrald.service", 14);
	exposure_at_most(sa, priv, "corral-privd.service", 29);
	unlink(unit);
	unlink(priv);
	rmdir(dir);
}

Test(install, commands_help_and_check)
{
	const char *libexec = env("CORRAL_LIBEXECDIR");
	const char *bins[] = { join(env("CORRAL_SBINDIR"), "corrald"),
		join(env("CORRAL_SBINDIR"), "corral-privd"), join(env("CORRAL_BINDIR"), "corralctl"), join(libexec, "corral-jail"),
		join(libexec, "corral-worker"), join(libexec, "corral-agent") };
	const char *check[] = { NULL, "-c", NULL, "--check", NULL };
	char *out = NULL, conf[512];

	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		char bin[512];
		const char *av[] = { bin, "--help", NULL };

		snprintf(bin, sizeof(bin), "%s", in_root(bins[i]));
		cr_expect_eq(hx_run(&out, av), 0, "%s --help: %s", bins[i], out);
		cr_expect(strncmp(out, "usage: ", 7) == 0, "%s --help: %s", bins[i], out);
		free(out);
	}
	snprintf(conf, sizeof(conf), "%s", in_root(join(env("CORRAL_CONFDIR"), "corral.yaml")));
	check[0] = in_root(bins[0]);
	check[2] = conf;
	cr_assert_eq(hx_run(&out, check), 0, "installed config:\n%s", out);
	cr_assert(strstr(out, ": OK\n"), "%s", out);
	free(out);
}

Test(install, man_pages_format_cleanly)
{
	static const char *const pages[] = { "man8/corrald.8", "man8/corral-privd.8", "man1/corralctl.1",
		"man1/corral-jail.1", "man5/corral.yaml.5", "man5/corral-policy.5" };
	const char *man = need("man", "man-db");

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		char cmd[1200], *out;
		int r;

		/* formatted text to /dev/null, troff's warnings to the capture */
		snprintf(cmd, sizeof(cmd), "MANWIDTH=80 %s --warnings -E UTF-8 -l '%s' 2>&1 "
		    ">/dev/null", man, in_root(join(env("CORRAL_MANDIR"), pages[i])));
		const char *av[] = { "/bin/sh", "-c", cmd, NULL };

		r = hx_run(&out, av);
		cr_expect_eq(r, 0, "%s: %s", pages[i], out);
		cr_expect_str_eq(out, "", "%s warns:\n%s", pages[i], out);
		free(out);
	}
}

Test(install, bash_completion)
{
	static const struct {
		const char *words;
		const char *want;
	} cases[] = {
		{ "'' ''", "status call run agents reload approvals approve deny tools agent policy "
		    "audit canary" },
		{ "'' po", "policy" },
		{ "'' call ar", "argocd" },
		{ "'' call echo ''", "echo sleep fail store crash log" },
		{ "'' -s /x -o json tools e", "echo" },
		{ "'' policy ''", "check eval replay" },
		{ "'' -o ''", "table json" },
		{ "'' call echo echo --a", "--args" },
	};
	const char *bash = need("bash", "bash");
	char ctl[512];

	snprintf(ctl, sizeof(ctl), "%s", in_root(join(env("CORRAL_BINDIR"), "corralctl")));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char script[2048], *out;

		snprintf(script, sizeof(script), "source '%s'; COMP_WORDS=(%s); COMP_WORDS[0]='%s'; "
		    "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _corralctl; printf '%%s' \"${COMPREPLY[*]}\"",
		    in_root(join(env("CORRAL_DATADIR"), "bash-completion/completions/corralctl")),
		    cases[i].words, ctl);
		const char *av[] = { bash, "--norc", "-c", script, NULL };

		cr_expect_eq(hx_run(&out, av), 0, "%s", out);
		cr_expect_str_eq(out, cases[i].want, "[%s]", cases[i].words);
		free(out);
	}
}

/* With --prefix=/usr (how a package is built) the same rules give the FHS tree: checked on
 * meson's own list of what it would install (configure only, nothing compiled). */
Test(install, fhs_layout_with_prefix_usr)
{
	static const char *const fhs[] = { "/usr/sbin/corrald", "/usr/sbin/corral-privd",
		"/usr/bin/corralctl",
		"/usr/libexec/corral/corral-jail", "/usr/libexec/corral/corral-worker",
		"/usr/libexec/corral/corral-agent", "/etc/corral/corral.yaml",
		"/etc/corral/policies/payments.yaml", "/etc/corral/agents/deployment-guardian.yaml",
		"/usr/lib/systemd/system/corrald.service", "/usr/lib/systemd/system/corral-privd.service",
		"/usr/lib/tmpfiles.d/corral.conf", "/usr/lib/sysusers.d/corral.conf",
		"/usr/share/man/man8/corrald.8", "/usr/share/man/man8/corral-privd.8",
		"/usr/share/man/man5/corral.yaml.5",
		"/usr/share/bash-completion/completions/corralctl" };
	const char *meson = need("meson", "meson");
	char bdir[] = "/tmp/corral-build-usr-XXXXXX", *out = NULL, *unit;
	const char *setup[] = { meson, "setup", "--prefix=/usr", "-Dtests=false", bdir,
		env("CORRAL_SOURCE_ROOT"), NULL };
	const char *intro[] = { meson, "introspect", bdir, "--installed", NULL };
	json_t *j;

	cr_assert_not_null(mkdtemp(bdir));
	cr_assert_eq(hx_run(&out, setup), 0, "meson setup --prefix=/usr:\n%s", out);
	free(out);
	cr_assert_eq(hx_run(&out, intro), 0, "%s", out);
	j = json_loads(strchr(out, '{') ? strchr(out, '{') : out, 0, NULL);
	cr_assert_not_null(j, "%s", out);
	for (size_t i = 0; i < sizeof(fhs) / sizeof(fhs[0]); i++) {
		const char *k;
		json_t *v;
		bool found = false;

		json_object_foreach(j, k, v)
			found |= strcmp(json_string_value(v), fhs[i]) == 0;
		cr_expect(found, "%s is not in the /usr install plan", fhs[i]);
	}
	json_decref(j);
	free(out);
	unit = hx_read(join(bdir, "corrald.service"));
	cr_assert(strstr(unit, "\nExecStart=/usr/sbin/corrald -c /etc/corral/corral.yaml\n"),
	    "%s", unit);
	free(unit);
	unit = hx_read(join(bdir, "corral-privd.service"));
	cr_assert(strstr(unit, "\nExecStart=/usr/sbin/corral-privd --user corral --uids 41000-42999 "
	    "--jail /usr/libexec/corral/corral-jail\n"), "%s", unit);
	free(unit);
	unit = hx_read(join(bdir, "corral.conf"));
	cr_assert(strstr(unit, "\nz /etc/corral/corral.yaml 0640 root corral -\n"), "%s", unit);
	free(unit);
	nftw(bdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
