#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/json.h"
#include "ipc/limits.h"

/* jansson parses recursively (up to 2048 levels); a flat scan keeps deep input from it.
 * Brackets inside strings do not count; malformed text is left for jansson to report. */
static int
json_depth_check(const char *s, size_t len, size_t *where)
{
	unsigned depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > LIM_JSON_DEPTH_MAX) {
				*where = i;
				return ERR_DEPTH;
			}
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

static int
json_err_map(enum json_error_code c)
{
	switch (c) {
	case json_error_duplicate_key:
		return ERR_DUPKEY;
	case json_error_invalid_utf8:
	case json_error_null_character:
	case json_error_null_byte_in_key:
		return ERR_UTF8;
	case json_error_numeric_overflow:
		return ERR_TOOBIG;
	case json_error_stack_overflow:
		return ERR_DEPTH;
	case json_error_out_of_memory:
		return -ENOMEM;
	default:
		return ERR_PROTO;
	}
}

int
ipc_json_parse(const char *text, size_t len, size_t max_len, json_t **out, char *err,
    size_t errlen)
{
	json_error_t je;
	size_t where = 0;
	json_t *v;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL || out == NULL)
		return -EINVAL;
	if (len > max_len) {
		if (err != NULL)
			snprintf(err, errlen, "JSON text of %zu bytes is over the cap of %zu",
			    len, max_len);
		return ERR_TOOBIG;
	}
	if ((r = json_depth_check(text, len, &where)) < 0) {
		if (err != NULL)
			snprintf(err, errlen, "offset %zu: nesting deeper than %u", where,
			    LIM_JSON_DEPTH_MAX);
		return r;
	}
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (v == NULL) {
		if (err != NULL)
			snprintf(err, errlen, "line %d col %d: %s", je.line, je.column, je.text);
		return json_err_map(json_error_code(&je));
	}
	*out = v;
	return 0;
}

char *
ipc_json_dump(const json_t *v)
{
	if (v == NULL)
		return NULL;
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

const char *
ipc_json_str(const json_t *obj, const char *key)
{
	if (!json_is_object(obj))
		return NULL;
	return json_string_value(json_object_get(obj, key));
}

int
ipc_json_int(const json_t *obj, const char *key, int64_t *out)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (v == NULL)
		return ERR_MISSING;
	if (!json_is_integer(v))
		return ERR_TYPE;
	*out = json_integer_value(v);
	return 0;
}

int
ipc_json_bool(const json_t *obj, const char *key, bool *out)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (v == NULL)
		return ERR_MISSING;
	if (!json_is_boolean(v))
		return ERR_TYPE;
	*out = json_is_true(v);
	return 0;
}
