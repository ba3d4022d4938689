/* See mfx.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/model/mfx.h"

json_t *
mfx_json(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &e);

	cr_assert_not_null(j, "bad JSON in the test: %s: %.80s", e.text, text);
	return j;
}

/* The file is the verbatim copy; jansson cannot hold the +-9223372036854776000 bounds of
 * OpenAI's "seed" (a JavaScript rendering of int64): those two numbers become 0 here. */
json_t *
mfx_contract(void)
{
	static json_t *c;
	const char *path = getenv("MODEL_CONTRACT");
	json_error_t e;
	char *text = NULL, *p;
	size_t len = 0;
	FILE *f;

	if (c != NULL)
		return c;
	cr_assert_not_null(path, "MODEL_CONTRACT is not set");
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	cr_assert_gt(getdelim(&text, &len, '\0', f), 0);
	fclose(f);
	while ((p = strstr(text, "9223372036854776000")) != NULL) {
		if (p > text && p[-1] == '-')
			p[-1] = ' ';
		memcpy(p, "                  0", 19);
	}
	c = json_loads(text, 0, &e);
	free(text);
	cr_assert_not_null(c, "%s: %s", path, e.text);
	return c;
}

json_t *
mfx_example(const char *prov, const char *ex, const char *part)
{
	json_t *v = json_object_get(json_object_get(json_object_get(json_object_get(
	    json_object_get(mfx_contract(), "providers"), prov), "examples"), ex), part);

	cr_assert_not_null(v, "no example providers.%s.examples.%s.%s", prov, ex, part);
	return v;
}

const char *
mfx_str(const json_t *v)
{
	static char buf[8192];
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;

	snprintf(buf, sizeof(buf), "%s", s ? s : "(null)");
	free(s);
	return buf;
}
