/* One logfmt (or JSON) line per call on stderr. See ipc/log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipc/codec.h"
#include "ipc/limits.h"
#include "ipc/log.h"

static struct {
	char prog[64];
	int level;
	bool json;
	bool journal;		/* stderr is journald's stream: "<N>" level prefix */
} log_cfg = { "corral", LOG_INFO, false, false };

static const char *const level_names[8] = {
	"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
};

/* Room kept free at the end of the line for: closing quote, truncation mark, "}", "\n". */
#define LOG_TAIL	24

struct lbuf {
	char b[LIM_LOG_LINE_MAX];
	size_t n;
	bool cut;		/* something did not fit: everything after is dropped */
	bool json;
};

/* Append s whole or not at all, keeping LOG_TAIL free. */
static bool
lb_put(struct lbuf *lb, const char *s, size_t n)
{
	if (lb->cut || n > sizeof(lb->b) - LOG_TAIL - lb->n) {
		lb->cut = true;
		return false;
	}
	memcpy(lb->b + lb->n, s, n);
	lb->n += n;
	return true;
}

/* Append into the reserved tail (only the closing bytes use this). */
static void
lb_tail(struct lbuf *lb, const char *s)
{
	size_t n = strlen(s);

	if (n <= sizeof(lb->b) - lb->n) {
		memcpy(lb->b + lb->n, s, n);
		lb->n += n;
	}
}

static unsigned
utf8_len_at(const unsigned char *s, size_t left)
{
	unsigned n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 1;

	if (n > left || !utf8_valid((const char *)s, n))
		return 0;
	return n;
}

/* One escaped unit of s at *i: quotes, backslash, controls, invalid UTF-8 bytes. */
static bool
lb_esc_unit(struct lbuf *lb, const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	char tmp[8];
	unsigned n;

	if (c == '"' || c == '\\') {
		tmp[0] = '\\';
		tmp[1] = (char)c;
		*i += 1;
		return lb_put(lb, tmp, 2);
	}
	if (c < 0x20 || c == 0x7f) {
		*i += 1;
		if (c == '\n')
			return lb_put(lb, "\\n", 2);
		if (c == '\t')
			return lb_put(lb, "\\t", 2);
		if (c == '\r')
			return lb_put(lb, "\\r", 2);
		snprintf(tmp, sizeof(tmp), "\\u%04x", c);
		return lb_put(lb, tmp, 6);
	}
	if (c < 0x80) {
		*i += 1;
		return lb_put(lb, (const char *)&c, 1);
	}
	if ((n = utf8_len_at(s + *i, len - *i)) > 0) {
		*i += n;
		return lb_put(lb, (const char *)s + *i - n, n);
	}
	*i += 1;
	if (lb->json)
		return lb_put(lb, "\\ufffd", 6);
	snprintf(tmp, sizeof(tmp), "\\x%02x", c);
	return lb_put(lb, tmp, 4);
}

static void
lb_esc(struct lbuf *lb, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len;)
		if (!lb_esc_unit(lb, (const unsigned char *)s, len, &i))
			return;
}

/* logfmt leaves a value bare only when it is plainly one token. */
static bool
needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("_.:/@+-,", *s) != NULL))
			return true;
	return false;
}

/* Keys come from our own code, but are still reduced to [A-Za-z0-9_.-]. */
static void
key_clean(const char *key, char *out, size_t outsz)
{
	size_t n = 0;

	for (; key != NULL && *key && n + 1 < outsz; key++)
		out[n++] = (strchr("_.-", *key) || (*key >= 'a' && *key <= 'z') ||
		    (*key >= 'A' && *key <= 'Z') || (*key >= '0' && *key <= '9')) ? *key : '_';
	if (n == 0)
		out[n++] = '_';
	out[n] = '\0';
}

static void
lb_field(struct lbuf *lb, const char *key, const char *val, bool first)
{
	char pre[96];
	bool quote = lb->json || needs_quotes(val) || strcmp(key, "msg") == 0;
	int n;

	if (lb->json)
		n = snprintf(pre, sizeof(pre), "%s\"%s\":\"", first ? "{" : ",", key);
	else
		n = snprintf(pre, sizeof(pre), "%s%s=%s", first ? "" : " ", key, quote ? "\"" : "");
	if (!lb_put(lb, pre, (size_t)n))
		return;
	lb_esc(lb, val);
	if (quote)
		lb_tail(lb, "\"");
}

static void
lb_begin(struct lbuf *lb, int level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char t[40];
	size_t n;

	lb->n = 0;
	lb->cut = false;
	lb->json = log_cfg.json;
	if (log_cfg.journal) {
		n = (size_t)snprintf(t, sizeof(t), "<%d>", level < 0 ? 0 : level > 7 ? 7 : level);
		lb_put(lb, t, n);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + n, sizeof(t) - n, ".%03ldZ", ts.tv_nsec / 1000000);
	lb_field(lb, "ts", t, true);
	lb_field(lb, "level", log_level_name(level), false);
	lb_field(lb, "prog", log_cfg.prog, false);
	lb_field(lb, "msg", msg, false);
}

static void
lb_end_write(struct lbuf *lb)
{
	size_t off = 0;

	if (lb->cut)
		lb_tail(lb, lb->json ? ",\"truncated\":true" : " truncated=true");
	if (lb->json)
		lb_tail(lb, "}");
	lb_tail(lb, "\n");
	while (off < lb->n) {
		ssize_t w = write(STDERR_FILENO, lb->b + off, lb->n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

/* systemd sets $JOURNAL_STREAM to "DEV:INODE" of the stream it connected to stdout/stderr;
 * only when that is our stderr do we prefix lines with "<N>", which journald turns into the
 * entry's priority (and strips). */
static bool
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *prog, int level, int json)
{
	snprintf(log_cfg.prog, sizeof(log_cfg.prog), "%s", prog != NULL ? prog : "corral");
	log_cfg.level = level;
	log_cfg.json = json != 0;
	log_cfg.journal = stderr_is_journal();
}

void
log_msg(int level, const char *fmt, ...)
{
	char msg[LIM_LOG_LINE_MAX];
	struct lbuf lb;
	va_list ap;

	if (level > log_cfg.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lb_begin(&lb, level, msg);
	lb_end_write(&lb);
}

static bool
key_reserved(const char *k)
{
	return !strcmp(k, "ts") || !strcmp(k, "level") || !strcmp(k, "prog") || !strcmp(k, "msg");
}

void
log_kv_array(int level, const char *msg, const char *const *kv)
{
	struct lbuf lb;
	const char *k, *v;
	char key[64];

	if (level > log_cfg.level)
		return;
	lb_begin(&lb, level, msg != NULL ? msg : "");
	for (; (k = kv[0]) != NULL; kv += 2) {
		v = kv[1];	/* in bounds: the macro ends the array with two NULLs */
		key_clean(k, key + 2, sizeof(key) - 2);
		/* a caller's "msg" must not shadow ours (JSON readers reject duplicates) */
		memcpy(key, "x_", 2);
		lb_field(&lb, key_reserved(key + 2) ? key : key + 2, v != NULL ? v : "", false);
	}
	lb_end_write(&lb);
}

int
log_level_parse(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} alias[] = { { "err", LOG_ERR }, { "warning", LOG_WARNING }, { "emergency", LOG_EMERG },
	    { "critical", LOG_CRIT } };

	if (name == NULL)
		return -1;
	if (name[0] >= '0' && name[0] <= '7' && name[1] == '\0')
		return name[0] - '0';
	for (int i = 0; i < 8; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcmp(name, alias[i].name) == 0)
			return alias[i].level;
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < 0)
		return level_names[0];
	if (level > 7)
		return level_names[7];
	return level_names[level];
}
