/* JSON payloads (args, results, ctx, agent definitions): strict parsing and canonical dumps.
 *
 * Parsing refuses text over max_len, nesting deeper than LIM_JSON_DEPTH_MAX (checked by a flat
 * scan before jansson's recursive parser sees the text), duplicate object keys, invalid UTF-8,
 * NUL characters and trailing garbage. Any JSON value is accepted at the top; callers check the
 * type they want (json_is_object()).
 */
#ifndef CORRAL_IPC_JSON_H
#define CORRAL_IPC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* 0 and *out (json_decref it), or ERR_TOOBIG, ERR_DEPTH, ERR_DUPKEY, ERR_UTF8, ERR_PROTO
 * (syntax), -ENOMEM, -EINVAL. err (may be NULL) gets "line L col C: reason". */
int ipc_json_parse(const char *text, size_t len, size_t max_len, json_t **out, char *err,
    size_t errlen);

/* Compact, keys sorted, any value: the canonical text (args are hashed over it). free() it.
 * NULL on allocation failure or a value jansson cannot encode. */
char *ipc_json_dump(const json_t *v);

/* Member lookups on an object (obj may be NULL or not an object). */
const char *ipc_json_str(const json_t *obj, const char *key);	/* NULL: absent / not a string */
int ipc_json_int(const json_t *obj, const char *key, int64_t *out);	/* ERR_MISSING, ERR_TYPE */
int ipc_json_bool(const json_t *obj, const char *key, bool *out);	/* ERR_MISSING, ERR_TYPE */

#endif
