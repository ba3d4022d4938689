/* The agents' end-to-end fixture (agentsfx.h): runs, audit reading and the checks both agent
 * test files make. Assertions are Criterion's, so a failure names the case it failed in. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/agentsfx.h"

void
afx_teardown(struct afx *x)
{
	hx_cleanup(x->h);
	for (int i = 0; i < x->n; i++)
		if (x->on[i]) {
			fake_stop(&x->fk[i]);
			x->on[i] = false;
		}
}

char *
afx_src_read(const char *rel)
{
	const char *root = getenv("CORRAL_SRCROOT");
	char path[1024];
	FILE *f;

	cr_assert_not_null(root, "CORRAL_SRCROOT not set (run through meson test)");
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	cr_assert_not_null(f = fopen(path, "r"), "cannot read %s", path);
	fclose(f);
	return hx_read(path);
}

const char *
afx_kubectl_path(void)
{
	static char path[512];
	char *out = NULL, *nl;
	const char *av[] = { "/bin/sh", "-c", "command -v kubectl", NULL };

	cr_assert_eq(hx_run(&out, av), 0, "no kubectl on PATH (scripts/setup installs one)");
	snprintf(path, sizeof(path), "%s", out);
	if ((nl = strchr(path, '\n')) != NULL)
		*nl = '\0';
	free(out);
	return path;
}

void
afx_fake_start(struct afx *x, int i, const char *data_path)
{
	const char *args[5] = { NULL };
	int k = 0;

	if (x->fams[i].token) {
		args[k++] = "--token";
		args[k++] = x->fams[i].token;
	}
	if (data_path) {
		args[k++] = "--data";
		args[k++] = data_path;
	}
	cr_assert_eq(fake_start(&x->fk[i], x->fams[i].script, k ? args : NULL), 0, "%s",
	    x->fams[i].script);
	x->on[i] = true;
}

/* ---------------------------------------------------------------- runs */

pid_t
afx_run_bg(struct hx *h, const char *agent, const char *input, const char *tag)
{
	char out[400];
	pid_t pid;

	snprintf(out, sizeof(out), "%s/%s.json", h->dir, tag);
	if ((pid = fork()) == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int dn = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(dn, 2);
		execl(hx_bin("corralctl"), "corralctl", "-s", h->sock, "-o", "json", "run", agent,
		    input, (char *)NULL);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	return pid;
}

json_t *
afx_run_wait(struct hx *h, pid_t pid, const char *tag)
{
	char path[400], *text;
	json_t *j;
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	snprintf(path, sizeof(path), "%s/%s.json", h->dir, tag);
	text = hx_read(path);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "run %s: status %d: %s\n%s", tag, st, text,
	    hx_read(h->log));
	cr_assert_not_null(j = json_loads(text, 0, NULL), "run %s: not JSON: %s", tag, text);
	cr_assert_str_eq(json_string_value(json_object_get(j, "stopped")), "answer", "%s", text);
	free(text);
	return j;
}

json_t *
afx_run(struct hx *h, const char *agent, const char *input)
{
	return afx_run_wait(h, afx_run_bg(h, agent, input, "run"), "run");
}

/* ---------------------------------------------------------------- checks */

void
afx_check_calls(const json_t *res, const struct afx_call *w, size_t n)
{
	const json_t *calls = json_object_get(res, "calls");
	char *dump = json_dumps(calls, JSON_COMPACT);

	cr_assert_eq(json_array_size(calls), n, "calls: %s", dump);
	for (size_t i = 0; i < n; i++) {
		const json_t *c = json_array_get(calls, i);

		cr_expect_str_eq(json_string_value(json_object_get(c, "tool")), w[i].tool, "%zu: %s",
		    i, dump);
		cr_expect_str_eq(json_string_value(json_object_get(c, "op")), w[i].op, "%zu: %s", i,
		    dump);
		cr_expect_str_eq(json_string_value(json_object_get(c, "outcome")), w[i].outcome,
		    "%zu: %s", i, dump);
	}
	free(dump);
}

void
afx_check_answer(const json_t *res, const char *part)
{
	const char *a = json_string_value(json_object_get(res, "answer"));

	cr_assert(a && strstr(a, part), "answer lacks '%s': %s", part, a ? a : "(none)");
}

json_t *
afx_audit_of(struct hx *h, const char *agent, const char *type)
{
	char *log = hx_read(h->audit), *line, *save = NULL, who[160];
	json_t *out = json_array();

	snprintf(who, sizeof(who), "agent:%s", agent ? agent : "");
	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *r = json_loads(line, 0, NULL);
		const char *t = json_string_value(json_object_get(r, "type"));
		const char *p = json_string_value(json_object_get(r, "principal"));
		const char *tool = json_string_value(json_object_get(r, "tool"));

		cr_assert_not_null(r, "audit line is not JSON: %s", line);
		if (t && strcmp(t, type) == 0 && (agent == NULL || (p && strcmp(p, who) == 0)) &&
		    (tool == NULL || strcmp(tool, "model") != 0))
			json_array_append(out, r);
		json_decref(r);
	}
	free(log);
	return out;
}

static bool
afx_str_is(const json_t *o, const char *key, const char *want)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && want && strcmp(s, want) == 0;
}

/* The agent's decisions; a call waiting for an approval is decided again each time the agent
 * asks while it waits, so a pending record followed by the same op and args is one entry. */
static json_t *
afx_decisions(struct hx *h, const char *agent)
{
	json_t *all = afx_audit_of(h, agent, "decision"), *out = json_array(), *r;
	size_t i;

	json_array_foreach(all, i, r) {
		json_t *last = json_array_get(out, json_array_size(out) - 1);

		if (last && json_equal(json_object_get(last, "args"), json_object_get(r, "args")) &&
		    afx_str_is(last, "decision", "pending") &&
		    afx_str_is(last, "op", json_string_value(json_object_get(r, "op"))))
			json_array_remove(out, json_array_size(out) - 1);
		json_array_append(out, r);
	}
	json_decref(all);
	return out;
}

static bool
afx_has_rule(const json_t *r, const char *rule)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(r, "rules"), i, v)
		if (strcmp(json_string_value(v), rule) == 0)
			return true;
	return false;
}

void
afx_check_decisions(struct hx *h, const char *agent, const struct afx_dec *w, size_t n)
{
	json_t *d = afx_decisions(h, agent);
	char *dump = json_dumps(d, JSON_COMPACT);

	cr_assert_eq(json_array_size(d), n, "decisions: %s", dump);
	for (size_t i = 0; i < n; i++) {
		const json_t *r = json_array_get(d, i);
		const json_t *a = json_object_get(json_object_get(r, "args"), w[i].arg);
		char *av = json_dumps(a, JSON_ENCODE_ANY), *rs = json_dumps(r, JSON_COMPACT);

		cr_expect_str_eq(json_string_value(json_object_get(r, "tool")), w[i].tool, "%zu", i);
		cr_expect_str_eq(json_string_value(json_object_get(r, "op")), w[i].op, "%zu", i);
		cr_expect_str_eq(json_string_value(json_object_get(r, "decision")), w[i].decision,
		    "%zu: %s", i, rs);
		if (w[i].rule)
			cr_expect(afx_has_rule(r, w[i].rule), "%zu: no rule %s: %s", i, w[i].rule, rs);
		else
			cr_expect_eq(json_array_size(json_object_get(r, "rules")), 0,
			    "%zu: a default denial names no rule: %s", i, rs);
		cr_expect_str_eq(av ? av : "(none)", w[i].value, "%zu: args.%s", i, w[i].arg);
		free(rs);
		free(av);
	}
	free(dump);
	json_decref(d);
}

size_t
afx_fake_hits(struct afx *x, int i, const char *method, const char *part)
{
	json_t *log = fake_log(&x->fk[i]), *e;
	size_t k, n = 0;

	json_array_foreach(log, k, e)
		if (strcmp(json_string_value(json_object_get(e, "method")), method) == 0 &&
		    strstr(json_string_value(json_object_get(e, "path")), part))
			n++;
	json_decref(log);
	return n;
}

void
afx_check_clean(struct afx *x, int i)
{
	char v[2048], *audit = hx_read(x->h->audit), *log = hx_read(x->h->log);

	cr_expect_eq(fake_violations(&x->fk[i], v, sizeof(v)), 0, "%s: %s", x->fams[i].script, v);
	if (x->fams[i].token) {
		cr_expect_null(strstr(audit, x->fams[i].token), "token in the audit log");
		cr_expect_null(strstr(log, x->fams[i].token), "token in corrald's log");
	}
	free(audit);
	free(log);
}
