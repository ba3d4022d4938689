/* ipc_json_parse / ipc_json_dump: caps, depth, duplicates, canonical output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "ipc/json.h"
#include "ipc/limits.h"

#define S(s) s, sizeof(s) - 1

static const struct {
	const char *what, *text;
	size_t len;
	int want;
} parse_cases[] = {
	{ "object", S("{\"a\":1,\"b\":[true,null,\"x\"]}"), 0 },
	{ "scalar top level", S("42"), 0 },
	{ "string with escaped quote and brackets", S("{\"a\":\"[[[\\\"{{{\"}"), 0 },
	{ "duplicate key", S("{\"a\":1,\"a\":2}"), ERR_DUPKEY },
	{ "nested duplicate key", S("{\"o\":{\"k\":1,\"k\":1}}"), ERR_DUPKEY },
	{ "invalid UTF-8", S("{\"a\":\"\xc0\xaf\"}"), ERR_UTF8 },
	{ "surrogate in raw UTF-8", S("\"\xed\xa0\x80\""), ERR_UTF8 },
	{ "escaped NUL", S("{\"a\":\"x\\u0000y\"}"), ERR_UTF8 },
	{ "trailing garbage", S("{} x"), ERR_PROTO },
	{ "two values", S("{}{}"), ERR_PROTO },
	{ "syntax error", S("{\"a\":}"), ERR_PROTO },
	{ "truncated", S("{\"a\":[1,2"), ERR_PROTO },
	{ "empty", S(""), ERR_PROTO },
	{ "integer overflow", S("123456789012345678901234567890"), ERR_TOOBIG },
};

Test(json, parse_table)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		json_t *v = NULL;
		char err[200];
		int r = ipc_json_parse(parse_cases[i].text, parse_cases[i].len, 1024, &v, err,
		    sizeof(err));

		cr_assert_eq(r, parse_cases[i].want, "%s: %s (%s)", parse_cases[i].what,
		    err_name(r), err);
		if (r == 0)
			cr_assert_not_null(v);
		else
			cr_assert_neq(err[0], '\0', "%s: no error text", parse_cases[i].what);
		json_decref(v);
	}
}

Test(json, size_cap)
{
	json_t *v;
	char err[200];

	cr_assert_eq(ipc_json_parse("[1,2,3]", 7, 6, &v, err, sizeof(err)), ERR_TOOBIG);
	cr_assert_str_eq(err, "JSON text of 7 bytes is over the cap of 6");
	cr_assert_eq(ipc_json_parse("[1,2,3]", 7, 7, &v, NULL, 0), 0);
	json_decref(v);
	cr_assert_eq(ipc_json_parse(NULL, 0, 7, &v, NULL, 0), -EINVAL);
}

static char *
nested(unsigned depth, char open, char close)
{
	char *s = malloc(2 * depth + 2);
	size_t n = 0;

	for (unsigned i = 0; i < depth; i++)
		s[n++] = open;
	s[n++] = '1';
	for (unsigned i = 0; i < depth; i++)
		s[n++] = close;
	s[n] = '\0';
	return s;
}

Test(json, depth_cap)
{
	json_t *v;
	char err[200];
	char *s;

	s = nested(LIM_JSON_DEPTH_MAX, '[', ']');
	cr_assert_eq(ipc_json_parse(s, strlen(s), 1 << 20, &v, err, sizeof(err)), 0, "%s", err);
	json_decref(v);
	free(s);
	s = nested(LIM_JSON_DEPTH_MAX + 1, '[', ']');
	cr_assert_eq(ipc_json_parse(s, strlen(s), 1 << 20, &v, err, sizeof(err)), ERR_DEPTH);
	cr_assert_str_eq(err, "offset 32: nesting deeper than 32");
	free(s);
	/* a million open brackets never reach the recursive parser */
	s = nested(1000000, '[', ']');
	cr_assert_eq(ipc_json_parse(s, strlen(s), 4 << 20, &v, NULL, 0), ERR_DEPTH);
	free(s);
	/* objects count too, and brackets in strings do not */
	cr_assert_eq(ipc_json_parse(S("{\"a\":{\"b\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}}"),
	    1024, &v, NULL, 0), 0);
	json_decref(v);
}

Test(json, canonical_dump)
{
	json_t *v;
	char *out;

	cr_assert_eq(ipc_json_parse(S("{ \"b\" : [1, 2.5, \"\xc3\xa9\"],\n \"a\": {\"z\":null,\"y\":true} }"),
	    1024, &v, NULL, 0), 0);
	out = ipc_json_dump(v);
	cr_assert_str_eq(out, "{\"a\":{\"y\":true,\"z\":null},\"b\":[1,2.5,\"\xc3\xa9\"]}");
	free(out);
	json_decref(v);
	/* any value */
	v = json_integer(-7);
	out = ipc_json_dump(v);
	cr_assert_str_eq(out, "-7");
	free(out);
	json_decref(v);
	cr_assert_null(ipc_json_dump(NULL));
}

Test(json, member_helpers)
{
	json_t *v;
	int64_t i = 0;
	bool b = false;

	cr_assert_eq(ipc_json_parse(S("{\"s\":\"x\",\"i\":-12,\"b\":true,\"f\":1.5}"), 1024, &v, NULL,
	    0), 0);
	cr_assert_str_eq(ipc_json_str(v, "s"), "x");
	cr_assert_null(ipc_json_str(v, "i"));
	cr_assert_null(ipc_json_str(v, "nope"));
	cr_assert_null(ipc_json_str(NULL, "s"));
	cr_assert_eq(ipc_json_int(v, "i", &i), 0);
	cr_assert_eq(i, -12);
	cr_assert_eq(ipc_json_int(v, "f", &i), ERR_TYPE);
	cr_assert_eq(ipc_json_int(v, "s", &i), ERR_TYPE);
	cr_assert_eq(ipc_json_int(v, "nope", &i), ERR_MISSING);
	cr_assert_eq(ipc_json_bool(v, "b", &b), 0);
	cr_assert(b);
	cr_assert_eq(ipc_json_bool(v, "i", &b), ERR_TYPE);
	cr_assert_null(ipc_json_str(json_array_get(v, 0), "s"));
	json_decref(v);
}
