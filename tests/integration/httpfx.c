/* See httpfx.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/httpfx.h"

const struct hf_fam hf_fams[HF_N] = {
	[HF_ARGOCD] = { "argocd", "ta", "fake_argocd.py", "argo-TKN-a81f3c5e9d2b4f60-endpoint", "" },
	[HF_GITHUB] = { "github_actions", "tg", "fake_github.py",
	    "ghp_TKN7d3e91c04ab6f25e8-endpoint", ", redirect_hosts: [localhost]" },
	[HF_GITLAB] = { "gitlab_ci", "tl", "fake_gitlab.py", "glpat-TKN5b20e7f1c93a-endpoint", "" },
	[HF_JENKINS] = { "jenkins", "tj", "fake_jenkins.py", "11TKN4c8e2a9f60d17b35e-endpoint",
	    ", user: corral-bot" },
	[HF_PROM] = { "prometheus", "tp", "fake_prometheus.py", "prom-TKN0f6a3d8e25c41b97-endpoint",
	    "" },
};

const char *hf_token_override[HF_N];

const char *
hf_token(int fam)
{
	return hf_token_override[fam] ? hf_token_override[fam] : hf_fams[fam].token;
}

const char *
hf_tenant(const struct hf *x, int fam)
{
	return x->flags & HF_ONE_TENANT ? hf_fams[0].tenant : hf_fams[fam].tenant;
}

static void
start_fakes(struct hf *x, unsigned mask)
{
	for (int i = 0; i < HF_N; i++) {
		const char *args[] = { "--token", hf_token(i), NULL };

		if (!(mask & (1u << i)))
			continue;
		cr_assert_eq(fake_start(&x->fk[i], hf_fams[i].script, args), 0, "%s did not start",
		    hf_fams[i].script);
		x->on[i] = true;
	}
}

void
hf_open(struct hf *x, unsigned uid_base, unsigned mask, const char *timeout, const char *more,
    unsigned flags)
{
	char *body = NULL;
	size_t blen = 0;
	FILE *f;
	int n = 0;

	memset(x, 0, sizeof(*x));
	x->uid_base = uid_base;
	x->flags = flags;
	start_fakes(x, mask);
	cr_assert_not_null(f = open_memstream(&body, &blen));
	fprintf(f, "tenants:\n");
	for (int i = 0; i < (flags & HF_ONE_TENANT ? 1 : HF_N); i++)
		fprintf(f, "  %s: { uid: %u }\n", hf_fams[i].tenant, uid_base + 1 + (unsigned)i);
	/* relative: the config's directory, where the 0600 token files are written below */
	fprintf(f, "credentials:\n");
	for (int i = 0; i < HF_N; i++)
		fprintf(f, "  - { name: c-%s, tenant: %s, source: \"file:%s.token\" }\n",
		    hf_fams[i].family, hf_tenant(x, i), hf_fams[i].family);
	fprintf(f, "endpoints:\n");
	for (int i = 0; i < HF_N; i++) {
		if (!(mask & (1u << i)))
			continue;
		n++;
		fprintf(f, "  %s:\n    - { name: e, tenant: %s, url: \"http://%s:%d\", "
		    "credential: c-%s, allow_private: %s, timeout: %s%s%s }\n", hf_fams[i].family,
		    hf_tenant(x, i), flags & HF_LOCALHOST ? "localhost" : "127.0.0.1",
		    x->fk[i].port, hf_fams[i].family, flags & HF_NO_PRIVATE ? "false" : "true",
		    timeout, flags & HF_CONNECT_1S ? ", connect_timeout: 1s" : "",
		    hf_fams[i].extra);
	}
	fprintf(f, "audit:\n  fsync: batch\n%s", more ? more : "");
	fclose(f);
	hx_config(&x->hx, body);
	free(body);
	for (int i = 0; i < HF_N; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s.token", hf_fams[i].family);
		hx_file(&x->hx, name, hf_token(i), 0600);
	}
	hx_start(&x->hx, n);
}

void
hf_close(struct hf *x)
{
	for (int i = 0; i < HF_N; i++)
		if (x->on[i]) {
			kill(x->fk[i].pid, SIGCONT);	/* a test may have stopped it */
			fake_stop(&x->fk[i]);
			x->on[i] = false;
		}
	hx_cleanup(&x->hx);
}

int
hf_run(const char *const *argv, char **out, char **err)
{
	char to[] = "/tmp/corral-fxo-XXXXXX", te[] = "/tmp/corral-fxe-XXXXXX";
	int fo = mkstemp(to), fe = mkstemp(te), st;
	pid_t pid;

	cr_assert(fo >= 0 && fe >= 0);
	if ((pid = fork()) == 0) {
		int dn = open("/dev/null", O_RDONLY);

		dup2(dn, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	waitpid(pid, &st, 0);
	close(fo);
	close(fe);
	*out = hx_read(to);
	*err = hx_read(te);
	unlink(to);
	unlink(te);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int
hf_call(struct hf *x, int fam, const char *op, const char *args, struct hf_res *r)
{
	char tool[128];
	const char *av[] = { hx_bin("corralctl"), "-s", x->hx.sock, "-o", "json", "call", tool, op,
		"--args", args, NULL };

	memset(r, 0, sizeof(*r));
	snprintf(tool, sizeof(tool), "%s@%s", hf_fams[fam].family, hf_tenant(x, fam));
	r->rc = hf_run(av, &r->out, &r->err);
	r->j = json_loads(r->out, 0, NULL);
	r->code = json_string_value(json_object_get(r->j, "error"));
	if (r->rc == 0)
		r->code = NULL;
	r->detail = json_string_value(json_object_get(r->j, "detail"));
	if (r->detail == NULL)
		r->detail = "";
	return r->rc;
}

void
hf_res_free(struct hf_res *r)
{
	free(r->out);
	free(r->err);
	json_decref(r->j);
	memset(r, 0, sizeof(*r));
}

json_t *
hf_log_since(struct hf *x, int fam, size_t from)
{
	json_t *all = fake_log(&x->fk[fam]), *out = json_array();

	for (size_t i = from; i < json_array_size(all); i++)
		json_array_append(out, json_array_get(all, i));
	json_decref(all);
	return out;
}

void
hf_assert_clean(json_t *log, const char *what)
{
	json_t *e, *v;
	size_t i, k;

	json_array_foreach(log, i, e)
		json_array_foreach(json_object_get(e, "violations"), k, v)
			cr_assert_fail("%s: %s %s violates the contract: %s", what,
			    json_string_value(json_object_get(e, "method")),
			    json_string_value(json_object_get(e, "raw_path")), json_string_value(v));
}

void
hf_control(struct hf *x, int fam, const char *json)
{
	cr_assert_eq(fake_control(&x->fk[fam], json), 0, "control %s", json);
}

json_t *
hf_audit(struct hf *x)
{
	json_t *a = json_array();
	FILE *f = fopen(x->hx.audit, "r");
	char *line = NULL;
	size_t cap = 0;

	cr_assert_not_null(f, "%s: %s", x->hx.audit, strerror(errno));
	while (getline(&line, &cap, f) > 0) {
		json_t *r = json_loads(line, 0, NULL);

		cr_assert_not_null(r, "audit line is not JSON: %s", line);
		json_array_append_new(a, r);
	}
	free(line);
	fclose(f);
	return a;
}

static bool
is(json_t *rec, const char *k, const char *v)
{
	const char *s = json_string_value(json_object_get(rec, k));

	return s && strcmp(s, v) == 0;
}

json_t *
hf_audit_last(struct hf *x, const char *tool, const char *op, json_t **outcome, json_t **all)
{
	json_t *dec = NULL, *rec;
	size_t i, n;

	*all = hf_audit(x);
	*outcome = NULL;
	n = json_array_size(*all);
	for (i = n; i-- > 0;) {
		rec = json_array_get(*all, i);
		if (is(rec, "type", "decision") && is(rec, "tool", tool) && is(rec, "op", op)) {
			dec = rec;
			break;
		}
	}
	if (dec == NULL) {
		char *txt = hx_read(x->hx.audit);
		size_t len = txt ? strlen(txt) : 0;

		cr_assert_fail("no decision record for %s.%s in %zu records; the file's last 2000 "
		    "bytes:\n%s", tool, op, n, txt ? txt + (len > 2000 ? len - 2000 : 0) : "(none)");
	}
	if (json_object_get(dec, "call") == NULL)
		return dec;	/* refused before dispatch: no outcome */
	for (size_t k = i + 1; k < n; k++) {
		rec = json_array_get(*all, k);
		if (is(rec, "type", "outcome") && json_equal(json_object_get(rec, "call"),
		    json_object_get(dec, "call"))) {
			*outcome = rec;
			break;
		}
	}
	cr_assert_not_null(*outcome, "no outcome record for %s.%s call %lld", tool, op,
	    json_integer_value(json_object_get(dec, "call")));
	cr_assert_eq(json_integer_value(json_object_get(*outcome, "decision_seq")),
	    json_integer_value(json_object_get(dec, "seq")), "outcome does not point at its decision");
	return dec;
}

pid_t
hf_worker_pid(struct hf *x, const char *name)
{
	json_t *st = hx_status(&x->hx), *w = st ? hx_worker(st, name) : NULL;
	pid_t pid = w ? (pid_t)json_integer_value(json_object_get(w, "pid")) : 0;

	json_decref(st);
	return pid;
}
