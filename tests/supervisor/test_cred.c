/* Credential store: sources and their checks, tenant binding, locked memory, redaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/evp.h>

#define ERR_STATE CORRAL_ERR_STATE	/* OpenSSL's types.h has an ERR_STATE too */
#include "ipc/err.h"
#undef ERR_STATE
#include "ipc/limits.h"
#include "supervisor/cred.h"
#include "tests/supervisor/audit_fx.h"

static char *dir;
static struct cred_store *cs;

static void
setup(void)
{
	dir = fx_tmpdir();
	cr_assert_eq(cred_store_new(&cs), 0);
}

static void
teardown(void)
{
	cred_store_free(cs);
	fx_rmrf(dir);
	free(dir);
}

TestSuite(cred, .init = setup, .fini = teardown);

struct file_case {
	char name[32];
	char content[40];
	unsigned mode;
	unsigned uid;		/* 0: ours */
	int want;
	char value[40];		/* on success */
	char msg[48];		/* in err on failure */
};

ParameterizedTestParameters(cred, file_sources)
{
	static struct file_case cases[] = {
		{ "0600 ok, newline stripped", "tok-abcdef\n", 0600, 0, 0, "tok-abcdef", "" },
		{ "0400 ok, CRLF stripped", "tok-abcdef\r\n", 0400, 0, 0, "tok-abcdef", "" },
		{ "only one newline stripped", "tok-abcdef\n\n", 0600, 0, 0, "tok-abcdef\n", "" },
		{ "no newline", "tok-abcdef", 0600, 0, 0, "tok-abcdef", "" },
		{ "0644 refused", "tok-abcdef\n", 0644, 0, ERR_CONFIG, "", "mode 0644" },
		{ "0640 refused", "tok-abcdef\n", 0640, 0, ERR_CONFIG, "", "mode 0640" },
		{ "0604 refused", "tok-abcdef\n", 0604, 0, ERR_CONFIG, "", "mode 0604" },
		{ "other owner refused", "tok-abcdef\n", 0600, 4242, ERR_CONFIG, "",
		    "owned by uid 4242" },
		{ "too short", "abc\n", 0600, 0, ERR_CONFIG, "", "shorter than 4" },
		{ "empty", "", 0600, 0, ERR_CONFIG, "", "shorter than 4" },
	};

	return cr_make_param_array(struct file_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct file_case *fc, cred, file_sources)
{
	char *p = fx_path(dir, "secret"), *src, err[256] = "";
	const char *v;
	size_t len;
	int r;

	fx_write(p, fc->content, strlen(fc->content), fc->mode);
	if (fc->uid != 0) {
		if (geteuid() != 0)
			cr_skip_test("needs root to chown");
		cr_assert_eq(chown(p, fc->uid, fc->uid), 0);
	}
	cr_assert(asprintf(&src, "file:%s", p) > 0);
	r = cred_add(cs, "c1", "payments", src, err, sizeof(err));
	cr_assert_eq(r, fc->want, "%s: %d %s", fc->name, r, err);
	if (r == 0) {
		v = cred_get(cs, "c1", "payments", &len);
		cr_assert_not_null(v);
		cr_assert_eq(len, strlen(fc->value), "%s", fc->name);
		cr_assert_str_eq(v, fc->value, "%s", fc->name);
	} else {
		cr_assert_not_null(strstr(err, fc->msg), "%s: %s", fc->name, err);
		cr_assert_null(strstr(err, "tok-abcdef"), "the value is never in a message");
		cr_assert_eq(cred_count(cs), 0);
	}
	free(src);
	free(p);
}

Test(cred, bad_sources_are_refused)
{
	char err[256], *d = fx_path(dir, "sub");
	char *src;

	cr_assert_eq(mkdir(d, 0700), 0);
	cr_assert(asprintf(&src, "file:%s", d) > 0);
	cr_assert_eq(cred_add(cs, "a", "t", src, err, sizeof(err)), ERR_CONFIG);
	cr_assert_not_null(strstr(err, "not a regular file"), "%s", err);
	cr_assert_eq(cred_add(cs, "a", "t", "file:/nonexistent/x", err, sizeof(err)), ERR_CONFIG);
	cr_assert_not_null(strstr(err, "No such file"), "%s", err);
	cr_assert_eq(cred_add(cs, "a", "t", "vault:x", err, sizeof(err)), ERR_CONFIG);
	cr_assert_not_null(strstr(err, "file:PATH or env:NAME"), "%s", err);
	unsetenv("H6_UNSET_VAR");
	cr_assert_eq(cred_add(cs, "a", "t", "env:H6_UNSET_VAR", err, sizeof(err)), ERR_CONFIG);
	cr_assert_not_null(strstr(err, "H6_UNSET_VAR is not set"), "%s", err);
	cr_assert_eq(cred_add(cs, "", "t", "env:HOME", err, sizeof(err)), ERR_CONFIG);
	cr_assert_eq(cred_count(cs), 0);
	free(src);
	free(d);
}

Test(cred, env_source_and_tenant_binding)
{
	char err[256];
	size_t len;

	setenv("H6_TOKEN", "glpat-0123456789abcdef", 1);
	cr_assert_eq(cred_add(cs, "gitlab", "payments", "env:H6_TOKEN", err, sizeof(err)), 0, "%s",
	    err);
	cr_assert_str_eq(cred_get(cs, "gitlab", "payments", &len), "glpat-0123456789abcdef");
	cr_assert_eq(len, 22);
	cr_assert_null(cred_get(cs, "gitlab", "search", NULL), "another tenant gets nothing");
	cr_assert_null(cred_get(cs, "nope", "payments", NULL));
	cr_assert_eq(cred_add(cs, "gitlab", "search", "env:H6_TOKEN", err, sizeof(err)), -EEXIST);
	cr_assert_eq(cred_count(cs), 1);
	{
		const char *n, *t;

		cr_assert_eq(cred_info(cs, 0, &n, &t), 0);
		cr_assert_str_eq(n, "gitlab");
		cr_assert_str_eq(t, "payments");
		cr_assert_eq(cred_info(cs, 1, &n, &t), ERR_NOTFOUND);
	}
}

static long
vmlck_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Values sit in locked pages, and a forked child (every worker starts as one) sees zeros. */
Test(cred, values_are_locked_and_wiped_on_fork)
{
	long before = vmlck_kb();
	const char *v;
	char err[256];
	pid_t pid;
	int st;

	setenv("H6_TOKEN", "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", 1);
	cr_assert_eq(cred_add(cs, "gh", "t", "env:H6_TOKEN", err, sizeof(err)), 0);
#ifndef __SANITIZE_ADDRESS__	/* ASan's mlock() interceptor does nothing */
	cr_assert_gt(vmlck_kb(), before, "VmLck grew");
#else
	(void)before;
#endif
	v = cred_get(cs, "gh", "t", NULL);
	pid = fork();
	if (pid == 0) {
		for (size_t i = 0; i < 36; i++)
			if (v[i] != 0)
				_exit(1);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child saw the secret");
	cr_assert_str_eq(v, "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", "the parent keeps it");
}

Test(cred, constant_time_equal)
{
	cr_assert(cred_equal("abcd", 4, "abcd", 4));
	cr_assert_not(cred_equal("abcd", 4, "abce", 4));
	cr_assert_not(cred_equal("abcd", 4, "abcde", 5));
	cr_assert(cred_equal("", 0, "", 0));
}

/* --- redaction --- */

static const char tok[] = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
static const char tricky[] = "p@ss/w\"rd+x\n\t<&>\x01";

static struct redact_set *
set_of(const char *a, const char *b)
{
	const char *v[2] = { a, b };
	size_t l[2] = { strlen(a), b ? strlen(b) : 0 };
	struct redact_set *rs;

	cr_assert_eq(redact_set_new(v, l, b ? 2 : 1, &rs), 0);
	return rs;
}

static char *
redacted(const struct redact_set *rs, const char *in, int want_n)
{
	char *out;
	size_t olen;
	int n = redact_text(rs, in, strlen(in), &out, &olen);

	cr_assert_eq(n, want_n, "%d replacements in %s", n, in);
	if (n == 0) {
		cr_assert_null(out);
		return strdup(in);
	}
	cr_assert_eq(strlen(out), olen);
	return out;
}

Test(cred, redacts_raw_and_json_escaped_forms)
{
	struct redact_set *rs = set_of(tok, tricky);
	json_t *j = json_pack("{s:s, s:s}", "a", tricky, "b", tok);
	char *dump = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT), *out;
	json_t *wrap = json_pack("{s:s}", "s", dump);
	char *inner = json_dumps(wrap, JSON_COMPACT);

	out = redacted(rs, "Authorization: Bearer ghp_16C7e42F292c6912E7710c838347Ae178B4a\n", 1);
	cr_assert_str_eq(out, "Authorization: Bearer [REDACTED]\n");
	free(out);
	/* what jansson writes (escaped quote, \n, \t, \u0001) */
	out = redacted(rs, dump, 2);
	cr_assert_str_eq(out, "{\"a\":\"[REDACTED]\",\"b\":\"[REDACTED]\"}");
	free(out);
	/* the same escaped once more (JSON in a JSON string) is still caught at one level */
	out = redacted(rs, inner, 1);
	cr_assert_null(strstr(out, tok));
	free(out);
	/* Go's encoding/json: <, >, & and control chars as lower-case \u00xx */
	out = redacted(rs, "{\"pw\":\"p@ss/w\\\"rd+x\\n\\t\\u003c\\u0026\\u003e\\u0001\"}", 1);
	cr_assert_str_eq(out, "{\"pw\":\"[REDACTED]\"}");
	free(out);
	free(inner);
	free(dump);
	json_decref(wrap);
	json_decref(j);
	redact_set_free(rs);
}

Test(cred, redacts_percent_encoded_forms)
{
	struct redact_set *rs = set_of(tricky, NULL);
	char *out = redacted(rs, "user=a&password=p%40ss%2Fw%22rd%2Bx%0A%09%3C%26%3E%01&x=1", 1);

	cr_assert_str_eq(out, "user=a&password=[REDACTED]&x=1");
	free(out);
	out = redacted(rs, "password=p%40ss%2fw%22rd%2bx%0a%09%3c%26%3e%01", 1);
	cr_assert_str_eq(out, "password=[REDACTED]");
	free(out);
	redact_set_free(rs);
}

/* Basic auth and similar: base64 of "<prefix><secret><suffix>" at every byte alignment. At most
 * the characters that also depend on the bytes around the secret are left. */
Test(cred, redacts_base64_at_every_alignment)
{
	static const char *const prefixes[] = { "", "u:", "ab:", "admin:", "x" };
	struct redact_set *rs = set_of(tok, NULL);

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		for (int url = 0; url < 2; url++) {
			char plain[128], enc[256], *out, *rest;
			size_t pl, kept = 0;

			pl = (size_t)snprintf(plain, sizeof(plain), "%s%s;tail", prefixes[i], tok);
			EVP_EncodeBlock((uint8_t *)enc, (uint8_t *)plain, (int)pl);
			for (char *p = enc; url && *p; p++)
				*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
			out = redacted(rs, enc, 1);
			rest = strstr(out, "[REDACTED]");
			cr_assert_not_null(rest);
			kept = strlen(out) - strlen("[REDACTED]");
			cr_assert_leq(kept, (strlen(prefixes[i]) + 5) * 4 / 3 + 4, "prefix \"%s\": %s",
			    prefixes[i], out);
			free(out);
		}
	}
	redact_set_free(rs);
}

Test(cred, nothing_to_redact_and_longest_match)
{
	struct redact_set *rs = set_of("abcd1234", "abcd1234efgh");
	char *out;

	out = redacted(rs, "no secrets here, abcd123 nearly", 0);
	cr_assert_str_eq(out, "no secrets here, abcd123 nearly");
	free(out);
	out = redacted(rs, "x abcd1234efgh y abcd1234 z", 2);
	cr_assert_str_eq(out, "x [REDACTED] y [REDACTED] z");
	free(out);
	cr_assert(redact_text_has(rs, "..abcd1234..", 12));
	cr_assert_not(redact_text_has(rs, "..abcd123..", 11));
	cr_assert_not(redact_text_has(NULL, "abcd1234", 8));
	redact_set_free(rs);
}

Test(cred, redacts_json_values_and_keys_in_place)
{
	char err[256];
	json_t *j;
	char *s;
	int n;

	setenv("H6_TOKEN", tok, 1);
	cr_assert_eq(cred_add(cs, "gh", "t", "env:H6_TOKEN", err, sizeof(err)), 0);
	j = json_pack("{s:[{s:s}], s:i, s:s, s:s}", "a", "b", "x ghp_16C7e42F292c6912E7710c838347Ae178B4a y",
	    "n", 5, "ghp_16C7e42F292c6912E7710c838347Ae178B4a-key", "v", "ok", "fine");
	cr_assert(redact_json_has(cred_redactor(cs), j));
	n = cred_redact_json(cs, j);
	cr_assert_eq(n, 2);
	cr_assert_not(redact_json_has(cred_redactor(cs), j));
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	cr_assert_str_eq(s, "{\"[REDACTED]-key\":\"v\",\"a\":[{\"b\":\"x [REDACTED] y\"}],\"n\":5,"
	    "\"ok\":\"fine\"}");
	free(s);
	json_decref(j);
}

Test(cred, redactor_follows_the_store)
{
	char err[256];

	cr_assert_null(cred_redactor(cs), "empty store: nothing to redact");
	setenv("H6_A", "secret-aaaa", 1);
	setenv("H6_B", "secret-bbbb", 1);
	cr_assert_eq(cred_add(cs, "a", "t1", "env:H6_A", err, sizeof(err)), 0);
	cr_assert_eq(cred_add(cs, "b", "t2", "env:H6_B", err, sizeof(err)), 0);
	cr_assert(redact_text_has(cred_redactor(cs), "xx secret-aaaa", 14));
	cr_assert(redact_text_has(cred_redactor(cs), "secret-bbbb xx", 14),
	    "every tenant's secrets are redacted everywhere");
	cr_assert_gt(redact_set_nforms(cred_redactor(cs)), 2);
}
