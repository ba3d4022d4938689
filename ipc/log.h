/* Logging for program mains (corrald, corralctl, worker and agent binaries). Library folders
 * never log: they return errors.
 *
 * One line per call on stderr, written with a single write(2):
 *   ts=2025-01-02T03:04:05.678Z level=info prog=corrald msg="worker started" worker=argocd
 * or, with json set, {"ts":"...","level":"info","prog":"corrald","msg":"...","worker":"..."}.
 * Levels are syslog's (LOG_ERR .. LOG_DEBUG); a call above the configured level prints nothing.
 * Quotes, backslashes and control characters are escaped, invalid UTF-8 bytes are shown as
 * \xNN (logfmt) or U+FFFD (JSON), and a line longer than LIM_LOG_LINE_MAX is cut at a character
 * boundary and marked truncated=true. Never pass a secret.
 * When stderr is journald's stream ($JOURNAL_STREAM names it), each line starts with "<N>",
 * the syslog level, which journald takes as the entry's priority and strips.
 */
#ifndef CORRAL_IPC_LOG_H
#define CORRAL_IPC_LOG_H

#include <stddef.h>	/* NULL, which ends log_kv's pairs */
#include <syslog.h>	/* LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, ... */

void log_init(const char *prog, int level, int json);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Key/value string pairs after msg, ended by NULL: log_kv(LOG_INFO, "started", "worker", w,
 * "pid", pidstr, NULL). A NULL value prints as an empty string. The pairs become an array of
 * strings, so a number passed by mistake is a compile error, not a crash in a varargs walk. */
void log_kv_array(int level, const char *msg, const char *const *kv);
#define log_kv(level, msg, ...) \
	log_kv_array((level), (msg), (const char *const[]){ __VA_ARGS__, NULL, NULL })
/* "err", "error", "warning", "warn", "notice", "info", "debug" (and the rest of syslog's
 * names) -> level; -1 for anything else. */
int log_level_parse(const char *name);
const char *log_level_name(int level);

#endif
