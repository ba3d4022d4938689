/* The seccomp allow-lists per kind, asserted through real confined processes: every case runs
 * corral-jail (built in this tree) around tests/workers/probe and checks how the probe ended:
 * death by SIGSYS as reported on the jail's status fd, refusal with the expected errno, or
 * success. Needs root (CI runs as root). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/workers/jailrun.h"

/* ------------------------------------------------------------------ the probe table */

/* One row per probe; one column per way of running it:
 *   worker kinds (corral-jail --worker, then the kind's filter applied by the probe itself):
 *     agent, http, model, exec
 *   arbitrary programs under the jail's own filter: jail-agent, jail-http, jail-exec
 * K: killed by SIGSYS. R: refused with the expected errno (exit 0). A: the action was allowed
 * (exit 10). P: a positive control worked (exit 0). L: refused by Landlock when the kernel has
 * it, else allowed. */
#define NCOLS 7
static const char *const col_profile[NCOLS] = { "agent", "http", "model", "exec", "agent",
	"http", "exec" };
static const char *const col_mode[NCOLS] = { "agent", "http", "model", "exec", "jailed",
	"jailed", "jailed" };

struct row {
	const char *probe;
	char expect[NCOLS + 1];
	char arg;		/* 'p': our pid, 'd': our runtime dirs */
};

static const struct row rows[] = {
	/*                          agent http model exec | j-agent j-http j-exec */
	{ "execve",            "KKKKKKK", 0 },
	{ "execveat_fd",       "KKKKKKK", 0 },
	{ "memfd_exec",        "KKKKKKK", 0 },
	{ "slot_refill",       "KKKRRRR", 0 },
	{ "slot_exec",         "KKKRRRR", 0 },
	{ "socket_inet",       "KKKAKKA", 0 },
	{ "socket_inet6",      "KKKAKKA", 0 },
	{ "socket_netlink",    "KKKAKKA", 0 },
	{ "socket_packet",     "KKKKKKK", 0 },
	{ "ptrace",            "KKKKKKK", 0 },
	{ "process_vm_readv",  "KKKKKKK", 0 },
	{ "unshare",           "KKKKKKK", 0 },
	{ "clone_newns",       "KKKKKKK", 0 },
	{ "clone_newnet",      "KKKKKKK", 0 },
	{ "clone3",            "RRRRRRR", 0 },
	{ "mount",             "KKKKKKK", 0 },
	{ "chroot",            "KKKKKKK", 0 },
	{ "setns",             "KKKKKKK", 0 },
	{ "bpf",               "KKKKKKK", 0 },
	{ "io_uring_setup",    "KKKKKKK", 0 },
	{ "perf_event_open",   "KKKKKKK", 0 },
	{ "userfaultfd",       "KKKKKKK", 0 },
	{ "add_key",           "KKKKKKK", 0 },
	{ "personality",       "KKKKKKK", 0 },
	{ "x32",               "KKKKKKK", 0 },
	{ "int80",             "KKKKKKK", 0 },
	{ "mmap_exec",         "KKKKKKK", 0 },
	{ "mprotect_exec",     "KKKKKKK", 0 },
	{ "tmp_exec",          "RRRRRRR", 0 },
	{ "open_write",        "RRRAAAA", 0 },
	{ "write_usr",         "RRRRRRR", 0 },
	{ "proc_mem",          "RRRRRRR", 0 },
	{ "dev_zero_write",    "RRRLLLL", 0 },
	{ "kill_parent",       "KKKRRRR", 'p' },
	{ "proc_parent",       "RRRRRRR", 'p' },
	{ "hidden",            "RRRRRRR", 'd' },
	{ "fork",              "KKKAAAA", 0 },
	{ "tcp_lo",            "KKKAKKA", 0 },
	{ "write_stdout",      "PPPPPPP", 0 },
	{ "thread",            "PPPPPPP", 0 },
	{ "mmap_rw",           "PPPPPPP", 0 },
	{ "read_file",         "PPPPPPP", 0 },
	{ "socketpair",        "PPPPPPP", 0 },
	{ "basics",            "PPPPPPP", 0 },
	{ "tgkill_self",       "PPPPPPP", 0 },
	{ "status",            "PPPPPPP", 0 },
};

struct pcase {
	int row;
	int col;
};

static void
free_params(struct criterion_test_params *p)
{
	cr_free(p->params);
}

ParameterizedTestParameters(sandbox, probe)
{
	size_t n = sizeof(rows) / sizeof(rows[0]) * NCOLS;
	struct pcase *c = cr_malloc(n * sizeof(*c));

	for (size_t i = 0; i < n; i++)
		c[i] = (struct pcase){ (int)(i / NCOLS), (int)(i % NCOLS) };
	return cr_make_param_array(struct pcase, c, n, free_params);
}

ParameterizedTest(struct pcase *c, sandbox, probe)
{
	const struct row *row = &rows[c->row];
	char expect = row->expect[c->col], arg[256] = "", rundir[64] = "", tmpdir[64];
	bool worker = c->col < 4;
	struct run r;

	need_root();
	if (row->arg == 'p') {
		snprintf(arg, sizeof(arg), "%d", (int)getpid());
	} else if (row->arg == 'd') {
		/* A supervisor's runtime dir, where corrald would keep its sockets. */
		snprintf(rundir, sizeof(rundir), "/run/corral-h2-%d", (int)getpid());
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/corral-h2-%d", (int)getpid());
		cr_assert(mkdir(rundir, 0700) == 0 || errno == EEXIST);
		cr_assert(mkdir(tmpdir, 0700) == 0 || errno == EEXIST);
		snprintf(arg, sizeof(arg), "%s,%s,%s", rundir, tmpdir, getenv("CORRAL_JAIL"));
	}
	if (expect == 'L')
		expect = jail_landlock_abi() > 0 ? 'R' : 'A';
	run_probe(&r, col_profile[c->col], worker, col_mode[c->col], row->probe,
	    arg[0] ? arg : NULL);
	if (rundir[0]) {
		rmdir(rundir);
		rmdir(tmpdir);
	}
	cr_assert(strstr(r.st, "exec ok"), "%s/%s: the jail failed: %s%s", col_mode[c->col],
	    row->probe, r.st, r.err);
	switch (expect) {
	case 'K':
		cr_expect_eq(r.sig, SIGSYS, "%s/%s: expected death by SIGSYS, got exit %d sig %d: %s",
		    col_mode[c->col], row->probe, r.exit, r.sig, r.out);
		cr_expect_eq(r.code, 128 + SIGSYS);
		break;
	case 'R':
	case 'P':
		cr_expect_eq(r.exit, 0, "%s/%s: expected %s, got exit %d sig %d: %s",
		    col_mode[c->col], row->probe, expect == 'R' ? "refusal" : "success", r.exit,
		    r.sig, r.out);
		cr_expect_eq(r.code, 0);
		break;
	case 'A':
		cr_expect_eq(r.exit, 10, "%s/%s: expected allowed, got exit %d sig %d: %s",
		    col_mode[c->col], row->probe, r.exit, r.sig, r.out);
		break;
	default:
		cr_assert_fail("bad table entry '%c'", expect);
	}
}
