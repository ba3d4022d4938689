/* An endpoint's credential through a real corrald: the fakes echo the Authorization header they
 * received back into answer fields and error messages, and the token must show up in none of
 * what an agent or an operator sees (corralctl's output), nor in corrald's log, nor in the
 * audit log, nor in the environment or command line of the worker (or its jail) while the
 * worker is in the middle of a call that uses it.
 */
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/httpfx.h"

#define UID_BASE 41400u

static struct hf X;

static void
teardown(void)
{
	hf_close(&X);
}

TestSuite(secrets, .timeout = 90, .fini = teardown);

/* Every spelling of family fam's credential that must never show: the token, and for Jenkins
 * the Basic value base64("corral-bot:" token). */
static void
spellings(int fam, char out[2][256])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char up[256];
	size_t n, o = 0;

	snprintf(out[0], 256, "%s", hf_token(fam));
	out[1][0] = '\0';
	if (fam != HF_JENKINS)
		return;
	n = (size_t)snprintf(up, sizeof(up), "corral-bot:%s", hf_token(fam));
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)up[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)up[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)up[i + 2];
		out[1][o++] = b64[(v >> 18) & 63];
		out[1][o++] = b64[(v >> 12) & 63];
		out[1][o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[1][o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[1][o] = '\0';
}

/* Assert no credential of any family is in buf (len bytes, may hold NULs). */
static void
assert_clean(const char *what, const char *buf, size_t len)
{
	for (int f = 0; f < HF_N; f++) {
		char sp[2][256];

		spellings(f, sp);
		for (int k = 0; k < 2; k++)
			if (sp[k][0])
				cr_assert_null(memmem(buf, len, sp[k], strlen(sp[k])),
				    "%s holds the %s credential (%s)", what, hf_fams[f].family,
				    k ? "as Basic base64" : "token");
	}
}

static char *
slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	*len = 0;
	if (fd < 0)
		return NULL;
	do {
		if (*len + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			cr_assert_not_null(buf = realloc(buf, cap));
		}
		n = read(fd, buf + *len, cap - *len);
		if (n > 0)
			*len += (size_t)n;
	} while (n > 0);
	close(fd);
	return buf;
}

static void
assert_proc_clean(pid_t pid, const char *who)
{
	static const char *const files[] = { "environ", "cmdline" };

	for (int i = 0; i < 2; i++) {
		char path[64], what[128];
		size_t len;
		char *buf;

		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
		buf = slurp(path, &len);
		cr_assert_not_null(buf, "cannot read %s", path);
		snprintf(what, sizeof(what), "%s's /proc/%d/%s", who, (int)pid, files[i]);
		assert_clean(what, buf, len);
		free(buf);
	}
}

static pid_t
ppid_of(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long pp = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	cr_assert_not_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %ld", &pp) == 1)
			break;
	fclose(f);
	return (pid_t)pp;
}

/* One op per family whose answer carries the echoed header in fields the family returns. */
static const struct { int fam; const char *op, *args; } echo_ops[] = {
	{ HF_ARGOCD, "get_application", "{\"app_name\":\"guestbook\"}" },
	{ HF_GITHUB, "get_workflow_run", "{\"owner\":\"octo-org\",\"repo\":\"hello-world\","
	  "\"run_id\":30001}" },
	{ HF_GITLAB, "get_pipeline", "{\"project_id\":\"group/sub/proj\",\"pipeline_id\":1000}" },
	{ HF_JENKINS, "get_job", "{\"job_name\":\"deploy\"}" },
	{ HF_PROM, "query", "{\"query\":\"up\"}" },
};

Test(secrets, echoed_credentials_reach_no_output_log_or_audit)
{
	char *log, *audit;
	size_t len;

	hf_open(&X, UID_BASE, (1u << HF_N) - 1, "5s", NULL, 0);
	for (size_t i = 0; i < sizeof(echo_ops) / sizeof(echo_ops[0]); i++) {
		int fam = echo_ops[i].fam;
		size_t n0 = fake_count(&X.fk[fam]);
		struct hf_res r;
		json_t *e;

		/* success with the header copied into the answer */
		hf_control(&X, fam, "{\"clear\":true,\"modes\":[{\"mode\":\"echo_auth\",\"count\":-1}]}");
		hf_call(&X, fam, echo_ops[i].op, echo_ops[i].args, &r);
		cr_assert_eq(r.rc, 0, "%s: %s", echo_ops[i].op, r.out);
		assert_clean("the result", r.out, strlen(r.out));
		assert_clean("corralctl's stderr", r.err, strlen(r.err));
		/* the fake did echo it: the scrubbed spelling is in the result */
		cr_assert(strstr(r.out, "****") || strstr(r.out, "[REDACTED]"),
		    "%s: nothing echoed, the test proves nothing: %s", echo_ops[i].op, r.out);
		e = fake_entry(&X.fk[fam], (int)n0);
		cr_assert_not_null(e);
		cr_assert_str_eq(json_string_value(json_object_get(e, "mode")), "echo_auth");
		json_decref(e);
		hf_res_free(&r);

		/* an error whose message holds the header */
		hf_control(&X, fam, "{\"clear\":true,\"modes\":[{\"mode\":\"echo_auth\",\"status\":403,"
		    "\"count\":-1}]}");
		hf_call(&X, fam, echo_ops[i].op, echo_ops[i].args, &r);
		cr_assert_eq(r.rc, 1, "%s: %s", echo_ops[i].op, r.out);
		assert_clean("the error", r.out, strlen(r.out));
		assert_clean("corralctl's stderr", r.err, strlen(r.err));
		hf_control(&X, fam, "{\"clear\":true}");
		hf_res_free(&r);
	}
	/* stopped to have the whole log (the exit status is another test's business: under
	 * ASan, LeakSanitizer fails corrald's exit on the configuration it never frees) */
	cr_assert_geq(hx_stop(&X.hx), 0, "corrald did not stop on SIGTERM");
	log = slurp(X.hx.log, &len);
	cr_assert_not_null(log);
	cr_assert_gt(len, 0);
	assert_clean("corrald's log (debug level)", log, len);
	free(log);
	audit = slurp(X.hx.audit, &len);
	cr_assert_not_null(audit);
	cr_assert_not_null(strstr(audit, "\"type\":\"outcome\""));
	assert_clean("the audit log", audit, len);
	free(audit);
}

/* While a call that uses the credential is in flight (the fake holds the answer), the worker's
 * and its jail's environment and command line hold no credential, nor corrald's. */
Test(secrets, no_credential_in_environ_or_cmdline_during_a_call)
{
	char tool[64];
	json_t *st, *w;
	size_t i, n0;
	pid_t bg, wpid = 0;
	int status;

	hf_open(&X, UID_BASE + 10u, (1u << HF_N) - 1, "10s", NULL, 0);
	hf_control(&X, HF_ARGOCD, "{\"clear\":true,\"modes\":[{\"mode\":\"hang\",\"seconds\":3}]}");
	n0 = fake_count(&X.fk[HF_ARGOCD]);
	snprintf(tool, sizeof(tool), "argocd@%s", hf_fams[HF_ARGOCD].tenant);
	if ((bg = fork()) == 0) {
		int dn = open("/dev/null", O_WRONLY);

		dup2(dn, 1);
		dup2(dn, 2);
		execl(hx_bin("corralctl"), "corralctl", "-s", X.hx.sock, "call", tool,
		    "get_application", "--args", "{\"app_name\":\"guestbook\"}", (char *)NULL);
		_exit(127);
	}
	/* the request (with the token) has reached the fake: the worker is mid-call */
	for (int k = 0; k < 100 && fake_count(&X.fk[HF_ARGOCD]) == n0; k++)
		usleep(50000);
	cr_assert_gt(fake_count(&X.fk[HF_ARGOCD]), n0, "the call never reached the fake");
	st = hx_status(&X.hx);
	cr_assert_not_null(st);
	json_array_foreach(json_object_get(st, "workers"), i, w) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(w, "pid"));
		const char *name = json_string_value(json_object_get(w, "name"));

		cr_assert_gt(pid, 1, "%s has no pid", name);
		assert_proc_clean(pid, name);
		assert_proc_clean(ppid_of(pid), "the jail of a worker");
		if (strncmp(name, "argocd@", 7) == 0) {
			wpid = pid;
			cr_assert_eq(json_integer_value(json_object_get(w, "inflight")), 1);
		}
	}
	cr_assert_gt(wpid, 0);
	json_decref(st);
	assert_proc_clean(X.hx.pid, "corrald");
	waitpid(bg, &status, 0);
}

/* Every string and key of v (decoded JSON, as an agent reads it) is free of the credentials. */
static void
assert_json_clean(const char *what, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_string(v)) {
		assert_clean(what, json_string_value(v), json_string_length(v));
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			assert_clean(what, k, strlen(k));
			assert_json_clean(what, x);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			assert_json_clean(what, x);
	}
}

/* Tokens holding characters JSON escapes ('"', '\\') or may escape ('/'): the answer carries
 * them escaped, so a scrubber that looks for the raw bytes in JSON text misses them. What the
 * agent decodes must still be clean. */
Test(secrets, tokens_with_json_special_characters)
{
	static const char *const odd[HF_N] = {
		[HF_ARGOCD] = "argo\"TKN\\q/9e4c1b7a-odd",
		[HF_GITHUB] = "ghp\"TKN\\q/3a7d0c55-odd",
		[HF_GITLAB] = "glpat\"TKN\\q/6f1e8b2d-odd",
		[HF_JENKINS] = "jk\"TKN\\q/0b9c4e71-odd",
		[HF_PROM] = "prom\"TKN\\q/5d2a9f08-odd",
	};

	for (int f = 0; f < HF_N; f++)
		hf_token_override[f] = odd[f];
	hf_open(&X, UID_BASE + 20u, (1u << HF_N) - 1, "5s", NULL, 0);
	for (size_t i = 0; i < sizeof(echo_ops) / sizeof(echo_ops[0]); i++) {
		int fam = echo_ops[i].fam;
		struct hf_res r;
		char what[96];

		for (int mode = 0; mode < 2; mode++) {
			hf_control(&X, fam, mode ? "{\"clear\":true,\"modes\":[{\"mode\":\"echo_auth\","
			    "\"status\":403,\"count\":-1}]}" :
			    "{\"clear\":true,\"modes\":[{\"mode\":\"echo_auth\",\"count\":-1}]}");
			hf_call(&X, fam, echo_ops[i].op, echo_ops[i].args, &r);
			cr_assert_eq(r.rc, mode, "%s: %s", echo_ops[i].op, r.out);
			cr_assert_not_null(r.j, "%s: not JSON: %s", echo_ops[i].op, r.out);
			snprintf(what, sizeof(what), "%s.%s %s (decoded)", hf_fams[fam].family,
			    echo_ops[i].op, mode ? "error" : "result");
			assert_json_clean(what, r.j);
			assert_clean(what, r.out, strlen(r.out));
			hf_res_free(&r);
		}
		hf_control(&X, fam, "{\"clear\":true}");
	}
}
