/* corralctl audit tail / query on real logs written by the audit library. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "supervisor/audit.h"
#include "supervisor/auditcli.h"
#include "tests/supervisor/audit_fx.h"

static char *dir, *path;

/* 3 records of payments, 2 of search (one a deny with an HTTP status), a lifecycle event. */
static void
setup(void)
{
	struct audit *a;
	json_t *rec;
	struct audit_call c = { .tenant = "search", .principal = "agent:doctor",
		.tool = "github_actions", .op = "rerun_failed_jobs", .decision = "deny",
		.duration_ms = 12, .outcome = "error", .http_status = 403, .error = "forbidden" };

	dir = fx_tmpdir();
	path = fx_path(dir, "audit.jsonl");
	a = fx_open(dir, AUDIT_FSYNC_NONE, 1000, 0);
	fx_append(a, 3, "payments");
	rec = audit_rec_call("outcome", &c);
	cr_assert_eq(audit_append(a, rec, NULL), 0);
	json_decref(rec);
	c.op = "list_workflow_runs";
	c.decision = "allow";
	c.outcome = "ok";
	c.http_status = 200;
	c.error = NULL;
	rec = audit_rec_call("outcome", &c);
	cr_assert_eq(audit_append(a, rec, NULL), 0);
	json_decref(rec);
	rec = json_pack("{s:s, s:s, s:s}", "type", "lifecycle", "event", "worker_started",
	    "tenant", "search");
	cr_assert_eq(audit_append(a, rec, NULL), 0);
	json_decref(rec);
	cr_assert_eq(audit_close(a), 0);	/* seq 7: checkpoint */
}

static void
teardown(void)
{
	fx_rmrf(dir);
	free(dir);
	free(path);
}

TestSuite(auditcli, .init = setup, .fini = teardown);

static int
count_sub(const char *s, const char *sub)
{
	int n = 0;

	for (const char *p = s; p && (p = strstr(p, sub)) != NULL; p++)
		n++;
	return n;
}

static int
count_seqs(const char *out, int *seqs, int max)
{
	int n = 0;

	for (const char *p = out; (p = strstr(p, "\"seq\":")) != NULL && n < max; p++)
		seqs[n++] = atoi(p + 6);
	return n;
}

struct query_case {
	char name[24];
	char opt[16];
	char val[32];
	int n;
	int seqs[7];
};

ParameterizedTestParameters(auditcli, query_filters)
{
	static struct query_case cases[] = {
		{ "tenant", "--tenant", "payments", 3, { 1, 2, 3 } },
		{ "tenant search", "--tenant", "search", 3, { 4, 5, 6 } },
		{ "principal", "--principal", "agent:doctor", 2, { 4, 5 } },
		{ "tool", "--tool", "argocd", 3, { 1, 2, 3 } },
		{ "op", "--op", "rerun_failed_jobs", 1, { 4 } },
		{ "type", "--type", "checkpoint", 1, { 7 } },
		{ "since an hour", "--since", "1h", 7, { 1, 2, 3, 4, 5, 6, 7 } },
		{ "since the future", "--since", "2999-01-01", 0, { 0 } },
		{ "until the past", "--until", "2000-01-01T00:00:00Z", 0, { 0 } },
		{ "until the future", "--until", "2999-01-01T00:00:00+02:00", 7, { 1, 2, 3 } },
	};

	return cr_make_param_array(struct query_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct query_case *qc, auditcli, query_filters)
{
	char *out, *err;
	int seqs[16], n;

	cr_assert_eq(fx_cli(auditcli_query, &out, &err, "query", qc->opt, qc->val, "-o", "json",
	    path, NULL), 0, "%s: %s", qc->name, err);
	n = count_seqs(out, seqs, 16);
	cr_assert_eq(n, qc->n, "%s: %s", qc->name, out);
	for (int i = 0; i < n && i < 7 && qc->seqs[i]; i++)
		cr_assert_eq(seqs[i], qc->seqs[i], "%s", qc->name);
	cr_assert_eq(fx_count_lines(out), (size_t)qc->n, "JSON Lines, verbatim");
	free(out);
	free(err);
}

Test(auditcli, query_json_lines_are_the_log_lines)
{
	char *out, *err, *log = fx_read(path, NULL);

	cr_assert_eq(fx_cli(auditcli_query, &out, &err, "query", "-o", "json", path, NULL), 0);
	cr_assert_str_eq(out, log, "no filter: the whole log, byte for byte");
	free(out);
	free(err);
	free(log);
}

Test(auditcli, query_table)
{
	char *out, *err;

	cr_assert_eq(fx_cli(auditcli_query, &out, &err, "query", "--tenant", "search", path, NULL),
	    0);
	cr_assert_eq(fx_count_lines(out), 4, "%s", out);
	cr_assert(strncmp(out, "TIME ", 5) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "github_actions.rerun_failed_jobs"), "%s", out);
	cr_assert_not_null(strstr(out, "error (403)"), "%s", out);
	cr_assert_not_null(strstr(out, "worker_started"), "%s", out);
	free(out);
	free(err);
}

Test(auditcli, usage_errors)
{
	char *out, *err;

	cr_assert_eq(fx_cli(auditcli_query, &out, &err, "query", "--since", "yesterday", path,
	    NULL), 2);
	cr_assert_not_null(strstr(err, "bad time"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(fx_cli(auditcli_query, &out, &err, "query", "-o", "yaml", path, NULL), 2);
	free(out);
	free(err);
	cr_assert_eq(fx_cli(auditcli_query, &out, &err, "query", NULL), 2);
	cr_assert_not_null(strstr(err, "no log file"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(fx_cli(auditcli_verify, &out, &err, "verify", "/nonexistent/x.jsonl", NULL), 2);
	free(out);
	free(err);
	cr_assert_eq(fx_cli(auditcli_main, &out, &err, "frobnicate", NULL), 2);
	free(out);
	free(err);
}

Test(auditcli, tail_last_lines)
{
	char *out, *err;
	int seqs[16];

	cr_assert_eq(fx_cli(auditcli_tail, &out, &err, "tail", "-n", "3", "-o", "json", path,
	    NULL), 0, "%s", err);
	cr_assert_eq(count_seqs(out, seqs, 16), 3, "%s", out);
	cr_assert_eq(seqs[0], 5);
	cr_assert_eq(seqs[2], 7);
	free(out);
	free(err);
	cr_assert_eq(fx_cli(auditcli_tail, &out, &err, "tail", "-n", "100", "-o", "json", path,
	    NULL), 0);
	cr_assert_eq(count_seqs(out, seqs, 16), 7);
	free(out);
	free(err);
	cr_assert_eq(fx_cli(auditcli_main, &out, &err, "tail", path, NULL), 0);
	cr_assert_eq(fx_count_lines(out), 8, "header and 7 rows: %s", out);
	free(out);
	free(err);
}

/* tail across rotated files, then -f sees new records in a child process. */
Test(auditcli, tail_across_rotation_and_follow)
{
	struct audit *a;
	char *out, *err, *fo = fx_path(dir, "follow.out");
	int seqs[64], n, pfd[2];
	pid_t pid;
	FILE *f;

	fx_rmrf(dir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	a = fx_open(dir, AUDIT_FSYNC_NONE, 1000, 1500);
	fx_append(a, 20, "t");
	cr_assert_eq(fx_cli(auditcli_tail, &out, &err, "tail", "-n", "12", "-o", "json", dir,
	    NULL), 0, "%s", err);
	n = count_seqs(out, seqs, 64);
	cr_assert_eq(n, 12);
	cr_assert_eq(seqs[11], (int)audit_seq(a));
	for (int i = 1; i < n; i++)
		cr_assert_eq(seqs[i], seqs[i - 1] + 1, "in order across files");
	free(out);
	free(err);
	cr_assert_eq(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "tail", "-f", "-n", "0", "-o", "json", path, NULL };

		f = fopen(fo, "w");
		close(pfd[0]);
		write(pfd[1], "x", 1);
		auditcli_tail(7, argv, f, stderr);
		_exit(3);
	}
	close(pfd[1]);
	cr_assert_eq(read(pfd[0], &n, 1), 1);
	usleep(300000);
	fx_append(a, 2, "follow-me");
	audit_flush(a);
	for (int i = 0; i < 50; i++) {
		char *got = fx_read(fo, NULL);
		bool done = got && count_sub(got, "follow-me") >= 2;

		free(got);
		if (done)
			break;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	out = fx_read(fo, NULL);
	cr_assert_not_null(out);
	cr_assert_eq(count_sub(out, "\"tenant\":\"follow-me\""), 2, "%s", out);
	cr_assert_eq(count_sub(out, "\"tenant\":\"t\""), 0, "only what came after: %s", out);
	free(out);
	free(fo);
	close(pfd[0]);
	audit_close(a);
}
