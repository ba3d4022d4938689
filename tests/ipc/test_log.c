/* log.c: the exact line format, escaping, level filter, truncation. stderr is a pipe here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/codec.h"
#include "ipc/json.h"
#include "ipc/limits.h"
#include "ipc/log.h"

static int rd_fd = -1;

static void
capture(void)
{
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	rd_fd = p[0];
}

/* Everything written to stderr since capture(), as one string. */
static char *
captured(void)
{
	static char buf[4 * LIM_LOG_LINE_MAX];
	ssize_t n;

	close(STDERR_FILENO);	/* the pipe's only writer: read to EOF */
	n = read(rd_fd, buf, sizeof(buf) - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	return buf;
}

static bool
utf8_valid_line(const char *s, size_t len)
{
	return utf8_valid(s, len);
}

/* The line without its timestamp (checked separately). */
static const char *
after_ts(const char *line)
{
	const char *p = strstr(line, " level=");

	cr_assert_not_null(p, "no level in %s", line);
	cr_assert_eq(strncmp(line, "ts=", 3), 0);
	cr_assert_eq(p - line, 3 + 24, "timestamp: %.*s", (int)(p - line), line);
	return p + 1;
}

Test(log, logfmt_line, .init = capture)
{
	log_init("corrald", LOG_INFO, 0);
	log_msg(LOG_INFO, "worker %s started", "argocd");
	cr_assert_str_eq(after_ts(captured()),
	    "level=info prog=corrald msg=\"worker argocd started\"\n");
}

Test(log, timestamp_shape, .init = capture)
{
	const char *l;

	log_init("t", LOG_DEBUG, 0);
	log_msg(LOG_ERR, "x");
	l = captured();
	/* ts=2025-01-02T03:04:05.678Z */
	cr_assert(l[7] == '-' && l[10] == '-' && l[13] == 'T' && l[16] == ':' && l[22] == '.' &&
	    l[26] == 'Z', "%s", l);
}

Test(log, kv_and_escaping, .init = capture)
{
	log_init("corrald", LOG_DEBUG, 0);
	log_kv(LOG_WARNING, "call \"denied\"\n", "worker", "argocd@payments", "tenant", "pay ments",
	    "call", "", "ctl", "a\x01" "b\\", "bad key!", "v", "msg", "shadow", "nul", NULL, NULL);
	cr_assert_str_eq(after_ts(captured()),
	    "level=warn prog=corrald msg=\"call \\\"denied\\\"\\n\" worker=argocd@payments "
	    "tenant=\"pay ments\" call=\"\" ctl=\"a\\u0001b\\\\\" bad_key_=v x_msg=shadow nul=\"\"\n");
}

/* The pairs are an array the macro ends with two NULLs: a forgotten terminator or a key
 * without its value ends the line, never a read past the arguments. */
Test(log, kv_without_terminator_or_value, .init = capture)
{
	log_init("p", LOG_INFO, 0);
	log_kv(LOG_INFO, "a", "k", "v");
	log_kv(LOG_INFO, "b", "k", "v", "lone");
	const char *out = captured();

	cr_assert_not_null(strstr(out, " msg=\"a\" k=v\n"), "%s", out);
	cr_assert_not_null(strstr(out, " msg=\"b\" k=v lone=\"\"\n"), "%s", out);
}

Test(log, invalid_utf8_and_unicode, .init = capture)
{
	log_init("p", LOG_INFO, 0);
	log_kv(LOG_INFO, "caf\xc3\xa9 \xff\xc0\xaf ok", NULL);
	cr_assert_str_eq(after_ts(captured()),
	    "level=info prog=p msg=\"caf\xc3\xa9 \\xff\\xc0\\xaf ok\"\n");
}

Test(log, level_filter, .init = capture)
{
	log_init("p", LOG_WARNING, 0);
	log_msg(LOG_INFO, "dropped");
	log_kv(LOG_DEBUG, "dropped", NULL);
	log_msg(LOG_ERR, "kept");
	cr_assert_str_eq(after_ts(captured()), "level=error prog=p msg=\"kept\"\n");
}

Test(log, json_lines, .init = capture)
{
	json_t *v;
	char err[128];
	const char *out;

	log_init("corral-worker", LOG_INFO, 1);
	log_kv(LOG_NOTICE, "tab\there \"q\"", "worker", "argocd", "level", "x", "odd", "\xff", NULL);
	out = captured();
	cr_assert_eq(out[strlen(out) - 1], '\n');
	cr_assert_eq(ipc_json_parse(out, strlen(out) - 1, 4096, &v, err, sizeof(err)), 0, "%s: %s",
	    out, err);
	cr_assert_str_eq(ipc_json_str(v, "level"), "notice");
	cr_assert_str_eq(ipc_json_str(v, "prog"), "corral-worker");
	cr_assert_str_eq(ipc_json_str(v, "msg"), "tab\there \"q\"");
	cr_assert_str_eq(ipc_json_str(v, "worker"), "argocd");
	cr_assert_str_eq(ipc_json_str(v, "x_level"), "x");
	cr_assert_str_eq(ipc_json_str(v, "odd"), "\xef\xbf\xbd");	/* U+FFFD */
	cr_assert_eq(strlen(ipc_json_str(v, "ts")), 24);
	json_decref(v);
}

/* A long message with multi-byte characters: cut at a character, marked, under the cap. */
static char *
long_text(void)
{
	static char s[3 * LIM_LOG_LINE_MAX];
	size_t n = 0;

	while (n + 3 < sizeof(s)) {
		memcpy(s + n, "\xe2\x82\xac", 3);	/* euro sign */
		n += 3;
	}
	s[n] = '\0';
	return s;
}

Test(log, truncation_logfmt, .init = capture)
{
	const char *out;
	size_t len;

	log_init("p", LOG_INFO, 0);
	log_kv(LOG_INFO, long_text(), "after", "dropped", NULL);
	out = captured();
	len = strlen(out);
	cr_assert_leq(len, LIM_LOG_LINE_MAX);
	cr_assert_geq(len, LIM_LOG_LINE_MAX - 32);
	cr_assert_eq(strcmp(out + len - 17, "\" truncated=true\n"), 0, "%s", out + len - 40);
	cr_assert(utf8_valid_line(out, len));
	cr_assert_null(strstr(out, "after="));
}

Test(log, truncation_json, .init = capture)
{
	const char *out;
	json_t *v;
	size_t len;

	log_init("p", LOG_INFO, 1);
	log_msg(LOG_INFO, "%s", long_text());
	out = captured();
	len = strlen(out);
	cr_assert_leq(len, LIM_LOG_LINE_MAX);
	cr_assert_eq(ipc_json_parse(out, len - 1, LIM_LOG_LINE_MAX, &v, NULL, 0), 0, "%s", out);
	cr_assert(json_is_true(json_object_get(v, "truncated")));
	json_decref(v);
}

Test(log, level_names)
{
	cr_assert_eq(log_level_parse("info"), LOG_INFO);
	cr_assert_eq(log_level_parse("warning"), LOG_WARNING);
	cr_assert_eq(log_level_parse("warn"), LOG_WARNING);
	cr_assert_eq(log_level_parse("err"), LOG_ERR);
	cr_assert_eq(log_level_parse("error"), LOG_ERR);
	cr_assert_eq(log_level_parse("debug"), LOG_DEBUG);
	cr_assert_eq(log_level_parse("7"), 7);
	cr_assert_eq(log_level_parse("verbose"), -1);
	cr_assert_eq(log_level_parse(NULL), -1);
	cr_assert_str_eq(log_level_name(LOG_INFO), "info");
}
