/* cred — corrald's credential store and the redactor built from it.
 *
 * Credentials come from "file:PATH" (a regular file owned by root or by corrald's euid, no
 * group/other permission bits, one trailing newline stripped) or "env:NAME". Each is bound to one
 * tenant: cred_get() with another tenant answers NULL. Values live only in locked memory
 * (mlock, MADV_DONTDUMP, MADV_WIPEONFORK so a forked worker sees zeros) and are wiped with
 * explicit_bzero when the store is freed, so a reload builds a new store and frees the old one.
 *
 * Redaction: every value and the forms it can take in a worker's result or a log line (raw,
 * JSON-escaped, percent-encoded, base64 and base64url at each of the 3 alignments) are replaced
 * by "[REDACTED]". The forms are secret too and sit in the same locked memory. See docs/AUDIT.md.
 */
#ifndef CORRAL_SUPERVISOR_CRED_H
#define CORRAL_SUPERVISOR_CRED_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define REDACTED_TEXT	"[REDACTED]"

struct cred_store;
struct redact_set;

int cred_store_new(struct cred_store **out);
/* Wipes and unmaps every value. NULL-safe. */
void cred_store_free(struct cred_store *cs);

/* Read source now and keep the value under (name, tenant). name is unique in the store
 * (-EEXIST). Refusals return ERR_CONFIG with the reason in err ("file ... is mode 0644: must not
 * be readable by group or others"); the reason never contains the value. Other failures:
 * -errno (mlock refused, out of memory), ERR_TOOBIG (value over LIM_CRED_MAX or store full). */
int cred_add(struct cred_store *cs, const char *name, const char *tenant, const char *source,
    char *err, size_t errlen);

/* The value (NUL-terminated; *len set when len is not NULL), or NULL when name is unknown or
 * bound to another tenant. The pointer stays valid until cred_store_free(). */
const char *cred_get(const struct cred_store *cs, const char *name, const char *tenant,
    size_t *len);
size_t cred_count(const struct cred_store *cs);
/* The i-th credential's name and tenant (never its value), for status output. */
int cred_info(const struct cred_store *cs, size_t i, const char **name, const char **tenant);

/* Constant-time equality (the lengths themselves are not hidden). */
bool cred_equal(const void *a, size_t alen, const void *b, size_t blen);

/* The redactor for every credential in the store (NULL when the store is empty). Valid until
 * the next cred_add() or cred_store_free(). */
const struct redact_set *cred_redactor(const struct cred_store *cs);

/* --- redaction --- */

/* A redactor over arbitrary secrets (tests, callers with their own secrets). Lives in locked
 * memory like the store's. Empty secrets are skipped. */
int redact_set_new(const char *const *secrets, const size_t *lens, size_t n,
    struct redact_set **out);
void redact_set_free(struct redact_set *rs);
/* Number of forms it matches (for tests and status). */
size_t redact_set_nforms(const struct redact_set *rs);

/* Find every secret form in in[0..len) and replace it by REDACTED_TEXT, leftmost-longest.
 * Returns the number of replacements (>= 0) or -ENOMEM/ERR_TOOBIG. When it is 0 *out is NULL;
 * otherwise *out is a malloc'd NUL-terminated copy (the caller frees it) of *outlen bytes.
 * rs may be NULL (nothing to find). */
int redact_text(const struct redact_set *rs, const char *in, size_t len, char **out,
    size_t *outlen);
/* Does in[0..len) contain any form? */
bool redact_text_has(const struct redact_set *rs, const char *in, size_t len);

/* Redact every string value and object key inside v, in place. Returns the number of
 * replacements or a negative error. */
int redact_json(const struct redact_set *rs, json_t *v);
/* Does any string or key inside v contain a form? (read-only) */
bool redact_json_has(const struct redact_set *rs, const json_t *v);

/* The brief's names for the common case. */
static inline int cred_redact_json(const struct cred_store *cs, json_t *v)
{
	return redact_json(cred_redactor(cs), v);
}

#endif
