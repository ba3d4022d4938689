/* ydoc — a YAML document as a tree with file:line:col on every node, and strict helpers.
 *
 * Every corral config (supervisor, policy, agent) is read through this: the whole file is parsed
 * into a tree first (aliases refused, duplicate keys refused, size and depth capped), then decoded
 * by code that reports each problem as "file:line:col: message" into a ydoc_errs list and goes on,
 * so one run shows every error. Scalars keep whether they were quoted: a quoted "true" is a
 * string, a plain true is a boolean.
 */
#ifndef CORRAL_IPC_YDOC_H
#define CORRAL_IPC_YDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ydoc_type { YDOC_SCALAR, YDOC_SEQ, YDOC_MAP };

struct ydoc_node {
	enum ydoc_type type;
	int line, col;			/* 1-based position of the node's start */
	bool quoted;			/* scalar was single/double quoted or a block scalar */
	char *str;			/* scalar text, NUL-terminated (may contain no NUL) */
	size_t len;
	size_t n;			/* SEQ: items; MAP: pairs */
	struct ydoc_node **items;	/* SEQ items, or MAP values */
	struct ydoc_node **keys;	/* MAP keys (always scalars) */
};

struct ydoc {
	char *file;			/* as given to the loader, for messages */
	struct ydoc_node *root;		/* NULL for an empty document */
	/* private */
	size_t nodes;
};

/* Errors collected while loading/decoding; each entry is a full "file:line:col: msg" line. */
struct ydoc_errs {
	char **msg;
	size_t n, cap;
	size_t warnings;		/* entries added by ydoc_warnf (also in msg, prefixed "warning: ") */
	size_t errors;
};

/* Parse a whole file / buffer. On a syntax error returns ERR_CONFIG and appends the message with
 * its position to errs (errs may be NULL). Only the first document of a stream is read; a second
 * document is an error. */
int ydoc_load_file(const char *path, struct ydoc **out, struct ydoc_errs *errs);
int ydoc_load_mem(const char *name, const char *buf, size_t len, struct ydoc **out,
    struct ydoc_errs *errs);
void ydoc_free(struct ydoc *d);

/* Error list. errf appends "file:line:col: <fmt>" (node may be NULL: "file: <fmt>"). */
void ydoc_errf(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ydoc_warnf(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ydoc_errs_print(const struct ydoc_errs *e, void *file /* FILE * */);
void ydoc_errs_free(struct ydoc_errs *e);

/* --- strict decoding helpers: each reports into e and returns 0 / ERR_* --- */

/* Map lookup (NULL when absent or when m is not a map). */
struct ydoc_node *ydoc_get(const struct ydoc_node *m, const char *key);

/* Report every key of map m not in allowed (NULL-terminated). Returns ERR_UNKNOWN if any. */
int ydoc_check_keys(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *m,
    const char *const *allowed);

/* Type checks with messages like "expected a mapping, found a sequence". */
int ydoc_want(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    enum ydoc_type t);

bool ydoc_is_null(const struct ydoc_node *n);	/* plain ~, null, Null, NULL or empty */

/* Scalar conversions of node n (not a lookup). A missing node (n == NULL) is an error only if
 * the caller says so: these take the node, and callers check presence with ydoc_get(). */
int ydoc_str(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    const char **out);
int ydoc_bool(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n, bool *out);
int ydoc_int(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    int64_t min, int64_t max, int64_t *out);
int ydoc_double(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    double *out);
/* "250ms", "5s", "15m", "1h", "2d" (a bare integer is seconds) -> milliseconds. */
int ydoc_duration_ms(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    int64_t *out);
/* "256M", "1G", "512K", bare bytes -> bytes. */
int ydoc_size(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    uint64_t *out);

/* Parse helpers usable on plain strings too (return 0 or ERR_CONFIG). */
int ydoc_parse_duration_ms(const char *s, int64_t *out);
int ydoc_parse_size(const char *s, uint64_t *out);

#endif
