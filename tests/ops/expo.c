/* Prometheus text exposition checks for the tests (see expo.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/ops/expo.h"

static bool
is_name(const char *s, size_t n, bool colon)
{
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || (colon && s[i] == ':')))
			return false;
	return true;
}

/* name{l="v",...} value. Returns the name's length (0: malformed); *le gets the le label's
 * value when there is one, *value the sample's value. */
static size_t
sample_parse(const char *line, char *le, size_t lelen, double *value)
{
	size_t n = strcspn(line, "{ ");
	const char *p = line + n;
	char *end;

	le[0] = '\0';
	if (!is_name(line, n, true))
		return 0;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t k = strcspn(p, "=");
			bool is_le = k == 2 && strncmp(p, "le", 2) == 0;
			size_t o = 0;

			if (!is_name(p, k, false) || p[k] != '=' || p[k + 1] != '"')
				return 0;
			for (p += k + 2; *p != '"'; p++) {
				if (*p == '\0' || *p == '\n')
					return 0;
				if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == 'n'))
					p++;
				else if (*p == '\\')
					return 0;
				if (is_le && o + 1 < lelen)
					le[o++] = *p;
			}
			if (is_le)
				le[o] = '\0';
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return 0;
		}
		p++;
	}
	if (*p++ != ' ')
		return 0;
	*value = strtod(p, &end);	/* also reads +Inf, -Inf, NaN */
	if (end == p || *end != '\0')
		return 0;
	return n;
}

static bool
suffix_is(const char *line, size_t n, size_t f, const char *suffix)
{
	return n - f == strlen(suffix) && strncmp(line + f, suffix, n - f) == 0;
}

int
expo_check(const char *text)
{
	char family[128] = "", type[16] = "", le[32], *copy = strdup(text), *save = NULL;
	double v, last_le = -1e308, last_bucket = 0;
	int samples = 0;

	cr_assert_not_null(copy);
	cr_assert(text[0] == '\0' || text[strlen(text) - 1] == '\n', "no final newline");
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n, f = strlen(family);

		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (sscanf(line, "# TYPE %127s %15s", family, type) == 2) {
			cr_assert(!strcmp(type, "counter") || !strcmp(type, "gauge") ||
			    !strcmp(type, "histogram"), "type %s", type);
			last_le = -1e308;
			continue;
		}
		n = sample_parse(line, le, sizeof(le), &v);
		cr_assert_gt(n, 0, "malformed sample line: %s", line);
		samples++;
		cr_assert(n >= f && strncmp(line, family, f) == 0, "%s outside %s", line, family);
		if (strcmp(type, "histogram") != 0) {
			cr_assert_eq(n, f, "%s outside %s", line, family);
			continue;
		}
		if (suffix_is(line, n, f, "_bucket")) {
			double b = strcmp(le, "+Inf") == 0 ? 1e308 : strtod(le, NULL);

			cr_assert(le[0] != '\0', "bucket without le: %s", line);
			cr_assert_gt(b, last_le, "le not ascending: %s", line);
			cr_assert_geq(v, last_bucket, "buckets not cumulative: %s", line);
			last_le = b;
			last_bucket = v;
		} else if (suffix_is(line, n, f, "_count")) {
			cr_assert_eq(v, last_bucket, "_count != +Inf bucket: %s", line);
			cr_assert_eq(last_le, 1e308, "no +Inf bucket before: %s", line);
			last_le = -1e308;	/* the next series starts over */
			last_bucket = 0;
		} else {
			cr_assert(suffix_is(line, n, f, "_sum"), "%s outside %s", line, family);
		}
	}
	free(copy);
	return samples;
}

bool
expo_value(const char *text, const char *series, double *v)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			*v = strtod(p + n + 1, NULL);
			return true;
		}
	return false;
}
