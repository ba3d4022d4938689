/* Argument validation against an op's schema table, and the descriptions agents see.
 *
 * Patterns are POSIX EREs compiled once (tool_schema_init, or lazily on first use through
 * pthread_once) and matched against the whole string. Validation is strict: unknown keys,
 * wrong types, enum misses, pattern misses, over-long values and control characters are
 * refused with a message naming the parameter. Defaults are filled in, so policy and workers
 * see one canonical set of arguments.
 */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tools/tool.h"

#define DEFAULT_STR_MAX		4096u
#define DEFAULT_ENTRIES_MAX	256u
#define DEFAULT_JSON_MAX	(64u << 10)

struct rx {
	const char *pattern;	/* identity: the table's pointer */
	regex_t re;
};

static struct rx *rxs;
static size_t nrx;
static pthread_once_t rx_once = PTHREAD_ONCE_INIT;
static int rx_init_rc;
static char rx_init_err[256];

static int
rx_add(const char *pattern, char *err, size_t errlen, const char *where)
{
	char anchored[1024];
	struct rx *n;
	int rc;

	for (size_t i = 0; i < nrx; i++)
		if (rxs[i].pattern == pattern)
			return 0;
	if ((size_t)snprintf(anchored, sizeof(anchored), "^(%s)$", pattern) >= sizeof(anchored)) {
		snprintf(err, errlen, "%s: pattern too long", where);
		return ERR_CONFIG;
	}
	if ((n = realloc(rxs, (nrx + 1) * sizeof(*rxs))) == NULL)
		return -ENOMEM;
	rxs = n;
	if ((rc = regcomp(&rxs[nrx].re, anchored, REG_EXTENDED | REG_NOSUB)) != 0) {
		char msg[128];

		regerror(rc, &rxs[nrx].re, msg, sizeof(msg));
		snprintf(err, errlen, "%s: bad pattern: %s", where, msg);
		return ERR_CONFIG;
	}
	rxs[nrx++].pattern = pattern;
	return 0;
}

static int
schema_init_all(char *err, size_t errlen)
{
	const struct tool_family *const *fams;
	size_t nf;
	int r;

	fams = tool_families(&nf);
	for (size_t i = 0; i < nf; i++)
		for (const struct tool_op *op = fams[i]->ops; op->name; op++)
			for (const struct tool_param *p = op->params; p && p->name; p++) {
				char where[256];

				if (p->pattern == NULL)
					continue;
				snprintf(where, sizeof(where), "%s.%s.%s", fams[i]->name, op->name,
				    p->name);
				if ((r = rx_add(p->pattern, err, errlen, where)) < 0)
					return r;
			}
	return 0;
}

static void
rx_once_fn(void)
{
	rx_init_rc = schema_init_all(rx_init_err, sizeof(rx_init_err));
}

int
tool_schema_init(char *err, size_t errlen)
{
	pthread_once(&rx_once, rx_once_fn);
	if (rx_init_rc < 0 && err != NULL)
		snprintf(err, errlen, "%s", rx_init_err);
	return rx_init_rc;
}

static const regex_t *
rx_find(const char *pattern)
{
	for (size_t i = 0; i < nrx; i++)
		if (rxs[i].pattern == pattern)
			return &rxs[i].re;
	return NULL;
}

/* Control characters: never NUL (jansson refuses it anyway), CR/LF/TAB only when multiline. */
static bool
text_ok(const char *s, size_t len, bool multiline)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x7f || (c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))))
			return false;
	}
	return true;
}

static int fail(char *err, size_t errlen, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, const char *param, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", param, msg);
	return ERR_SCHEMA;
}

static int
check_string(const struct tool_param *p, json_t *v, char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	size_t max = p->max_len ? p->max_len : DEFAULT_STR_MAX;

	if (len > max) {
		snprintf(err, errlen, "%s: longer than %u bytes", p->name, (unsigned)max);
		return ERR_SCHEMA;
	}
	if (!text_ok(s, len, p->flags & TP_F_MULTILINE))
		return fail(err, errlen, p->name, "%s", "control characters are not allowed");
	if (p->enums != NULL) {
		size_t i;

		for (i = 0; p->enums[i] != NULL; i++)
			if (strcmp(p->enums[i], s) == 0)
				break;
		if (p->enums[i] == NULL) {
			char list[256] = "";
			size_t off = 0;

			for (i = 0; p->enums[i] != NULL && off < sizeof(list) - 1; i++)
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
				    i ? ", " : "", p->enums[i]);
			return fail(err, errlen, p->name, "must be one of: %s", list);
		}
	}
	if (p->pattern != NULL) {
		const regex_t *re = rx_find(p->pattern);

		if (re == NULL || regexec(re, s, 0, NULL, 0) != 0)
			return fail(err, errlen, p->name, "does not match %s", p->pattern);
	}
	return 0;
}

static int
check_scalar_map(const struct tool_param *p, json_t *v, char *err, size_t errlen)
{
	size_t max = p->max_len ? p->max_len : DEFAULT_ENTRIES_MAX;
	const char *k;
	json_t *e;

	if (json_object_size(v) > max) {
		snprintf(err, errlen, "%s: more than %u entries", p->name, (unsigned)max);
		return ERR_SCHEMA;
	}
	json_object_foreach(v, k, e) {
		if (!text_ok(k, strlen(k), false) || strlen(k) > LIM_NAME_MAX)
			return fail(err, errlen, p->name, "bad key '%.64s'", k);
		if (json_is_string(e)) {
			if (json_string_length(e) > DEFAULT_STR_MAX ||
			    !text_ok(json_string_value(e), json_string_length(e), true))
				return fail(err, errlen, p->name, "bad value for key '%.64s'", k);
		} else if (!json_is_integer(e) && !json_is_real(e) && !json_is_boolean(e)) {
			return fail(err, errlen, p->name,
			    "value of '%.64s' must be a string, number or boolean", k);
		}
	}
	return 0;
}

static int
check_string_array(const struct tool_param *p, json_t *v, char *err, size_t errlen)
{
	size_t max = p->max_len ? p->max_len : DEFAULT_ENTRIES_MAX, i;
	json_t *e;

	if (json_array_size(v) > max) {
		snprintf(err, errlen, "%s: more than %u items", p->name, (unsigned)max);
		return ERR_SCHEMA;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || json_string_length(e) > DEFAULT_STR_MAX ||
		    !text_ok(json_string_value(e), json_string_length(e), false)) {
			snprintf(err, errlen, "%s[%zu]: expected a string without control characters",
			    p->name, i);
			return ERR_SCHEMA;
		}
	}
	return 0;
}

static int
check_number(const struct tool_param *p, json_t *v, char *err, size_t errlen)
{
	double d = json_number_value(v);

	if (p->type == TP_INT && !json_is_integer(v))
		return fail(err, errlen, p->name, "%s", "expected an integer");
	if (p->min < p->max && (d < (double)p->min || d > (double)p->max)) {
		snprintf(err, errlen, "%s: must be between %lld and %lld", p->name,
		    (long long)p->min, (long long)p->max);
		return ERR_SCHEMA;
	}
	return 0;
}

static int
check_value(const struct tool_param *p, json_t *v, char *err, size_t errlen)
{
	switch (p->type) {
	case TP_STRING:
		if (!json_is_string(v))
			return fail(err, errlen, p->name, "%s", "expected a string");
		return check_string(p, v, err, errlen);
	case TP_INT:
	case TP_NUMBER:
		if (!json_is_number(v))
			return fail(err, errlen, p->name, "%s", "expected a number");
		return check_number(p, v, err, errlen);
	case TP_BOOL:
		if (!json_is_boolean(v))
			return fail(err, errlen, p->name, "%s", "expected true or false");
		return 0;
	case TP_OBJECT:
		if (!json_is_object(v))
			return fail(err, errlen, p->name, "%s", "expected an object");
		return check_scalar_map(p, v, err, errlen);
	case TP_ARRAY:
		if (!json_is_array(v))
			return fail(err, errlen, p->name, "%s", "expected an array of strings");
		return check_string_array(p, v, err, errlen);
	case TP_JSON: {
		size_t max = p->max_len ? p->max_len : DEFAULT_JSON_MAX;
		size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT);

		if (n == 0 || n > max) {
			snprintf(err, errlen, "%s: encoded value larger than %u bytes", p->name,
			    (unsigned)max);
			return ERR_SCHEMA;
		}
		return 0;
	}
	}
	return fail(err, errlen, p->name, "%s", "unsupported type");
}

int
tool_args_validate(const struct tool_op *op, json_t *args, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	int r;

	if ((r = tool_schema_init(err, errlen)) < 0)
		return r;
	if (!json_is_object(args)) {
		snprintf(err, errlen, "arguments must be a JSON object");
		return ERR_SCHEMA;
	}
	json_object_foreach(args, k, v) {
		const struct tool_param *p = tool_param_find(op, k);

		if (p == NULL) {
			snprintf(err, errlen, "%.64s: unknown argument for %s", k, op->name);
			return ERR_SCHEMA;
		}
		if (json_is_null(v) && !p->required)
			continue;	/* explicit null = absent; defaults are filled below */
		if ((r = check_value(p, v, err, errlen)) < 0)
			return r;
	}
	for (const struct tool_param *p = op->params; p && p->name; p++) {
		json_t *cur = json_object_get(args, p->name);
		json_error_t jerr;

		if (cur != NULL && !json_is_null(cur))
			continue;
		if (p->required) {
			snprintf(err, errlen, "%s: required argument missing", p->name);
			return ERR_SCHEMA;
		}
		if (p->def == NULL) {
			if (cur != NULL)
				json_object_del(args, p->name);
			continue;
		}
		if ((v = json_loads(p->def, JSON_DECODE_ANY, &jerr)) == NULL) {
			snprintf(err, errlen, "%s: bad default in schema", p->name);
			return ERR_CONFIG;
		}
		json_object_set_new(args, p->name, v);
	}
	return 0;
}

/* ---------------------------------------------------------------- descriptions */

static const char *const ptype_names[] = {
	[TP_STRING] = "string", [TP_INT] = "integer", [TP_NUMBER] = "number",
	[TP_BOOL] = "boolean", [TP_OBJECT] = "object", [TP_ARRAY] = "array", [TP_JSON] = "any",
};

static json_t *
param_describe(const struct tool_param *p)
{
	json_t *o = json_pack("{s:s, s:s, s:b}", "name", p->name, "type", ptype_names[p->type],
	    "required", p->required);

	if (p->desc)
		json_object_set_new(o, "description", json_string(p->desc));
	if (p->def) {
		json_t *d = json_loads(p->def, JSON_DECODE_ANY, NULL);

		if (d)
			json_object_set_new(o, "default", d);
	}
	if (p->enums) {
		json_t *a = json_array();

		for (size_t i = 0; p->enums[i]; i++)
			json_array_append_new(a, json_string(p->enums[i]));
		json_object_set_new(o, "enum", a);
	}
	if (p->pattern)
		json_object_set_new(o, "pattern", json_string(p->pattern));
	if (p->max_len)
		json_object_set_new(o, "max_length", json_integer(p->max_len));
	if (p->min < p->max) {
		json_object_set_new(o, "minimum", json_integer(p->min));
		json_object_set_new(o, "maximum", json_integer(p->max));
	}
	return o;
}

json_t *
tool_op_describe(const struct tool_family *f, const struct tool_op *op)
{
	json_t *params = json_array();

	for (const struct tool_param *p = op->params; p && p->name; p++)
		json_array_append_new(params, param_describe(p));
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:o}", "family", f->name, "name",
	    op->name, "description", op->desc ? op->desc : "", "mutating",
	    (op->flags & TOOL_F_MUTATING) != 0, "idempotent", (op->flags & TOOL_F_IDEMPOTENT) != 0,
	    "dry_run", (op->flags & TOOL_F_DRY_RUN) != 0, "params", params);
}

json_t *
tool_family_describe(const struct tool_family *f)
{
	json_t *ops = json_array();

	for (const struct tool_op *op = f->ops; op->name; op++)
		json_array_append_new(ops, tool_op_describe(f, op));
	return json_pack("{s:s, s:s, s:s, s:o}", "name", f->name, "description",
	    f->desc ? f->desc : "", "kind", tool_kind_name(f->kind), "ops", ops);
}

json_t *
tool_op_json_schema(const struct tool_op *op)
{
	json_t *props = json_object(), *req = json_array();

	for (const struct tool_param *p = op->params; p && p->name; p++) {
		json_t *s = json_object();

		if (p->type != TP_JSON)
			json_object_set_new(s, "type", json_string(ptype_names[p->type]));
		if (p->type == TP_ARRAY)
			json_object_set_new(s, "items", json_pack("{s:s}", "type", "string"));
		if (p->desc)
			json_object_set_new(s, "description", json_string(p->desc));
		if (p->enums) {
			json_t *a = json_array();

			for (size_t i = 0; p->enums[i]; i++)
				json_array_append_new(a, json_string(p->enums[i]));
			json_object_set_new(s, "enum", a);
		}
		if (p->def) {
			json_t *d = json_loads(p->def, JSON_DECODE_ANY, NULL);

			if (d)
				json_object_set_new(s, "default", d);
		}
		json_object_set_new(props, p->name, s);
		if (p->required)
			json_array_append_new(req, json_string(p->name));
	}
	return json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "properties", props,
	    "required", req, "additionalProperties", 0);
}
