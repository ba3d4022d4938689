/* Globs: fnmatch(3) syntax without FNM_PATHNAME or FNM_PERIOD, so '*' also matches '/' and '.'
 * (argument values such as "group/sub/proj" or "v1.2.3" are not paths to policy). The common
 * shapes — literal, "prefix*", "*suffix", "*" — are recognised at load and matched without
 * fnmatch, which keeps a decision over hundreds of rules in the microsecond range. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "policy/pol_int.h"

static bool
is_meta(char c)
{
	return c == '*' || c == '?' || c == '[' || c == '\\';
}

/* Checks what fnmatch would silently treat as literals: an unclosed '[' and a trailing '\'. */
static int
glob_check(const char *s, const char **why)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\\') {
			if (p[1] == '\0')
				return (*why = "trailing backslash"), ERR_CONFIG;
			p++;
		} else if (*p == '[') {
			const char *q = p + 1;

			if (*q == '!' || *q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']')
				q++;
			if (*q != ']')
				return (*why = "unclosed '[' in pattern"), ERR_CONFIG;
			p = q;
		}
	}
	return 0;
}

int
pol_glob_compile(struct pol_glob *g, const char *src, const char **why)
{
	size_t len = strlen(src), nmeta = 0;
	int r;

	memset(g, 0, sizeof(*g));
	if (len == 0)
		return (*why = "empty pattern"), ERR_CONFIG;
	if ((r = glob_check(src, why)) < 0)
		return r;
	if ((g->src = strdup(src)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		nmeta += is_meta(src[i]);
	if (nmeta == 0) {
		g->kind = PG_EXACT, g->lit = g->src, g->len = len;
	} else if (len == 1 && src[0] == '*') {
		g->kind = PG_ANY, g->lit = g->src, g->len = 0;
	} else if (nmeta == 1 && src[len - 1] == '*') {
		g->kind = PG_PREFIX, g->lit = g->src, g->len = len - 1;
	} else if (nmeta == 1 && src[0] == '*') {
		g->kind = PG_SUFFIX, g->lit = g->src + 1, g->len = len - 1;
	} else {
		g->kind = PG_FNMATCH, g->lit = g->src, g->len = len;
	}
	return 0;
}

void
pol_glob_free(struct pol_glob *g)
{
	if (g == NULL)
		return;
	free(g->src);
	memset(g, 0, sizeof(*g));
}

bool
pol_glob_match(const struct pol_glob *g, const char *s, size_t slen)
{
	switch (g->kind) {
	case PG_ANY:
		return true;
	case PG_EXACT:
		return slen == g->len && memcmp(s, g->lit, slen) == 0;
	case PG_PREFIX:
		return slen >= g->len && memcmp(s, g->lit, g->len) == 0;
	case PG_SUFFIX:
		return slen >= g->len && memcmp(s + slen - g->len, g->lit, g->len) == 0;
	case PG_FNMATCH:
		/* Values carry no NUL (JSON strings could; the schema refuses control chars). */
		return fnmatch(g->lit, s, 0) == 0;
	}
	return false;
}

/* The literal text before the first metacharacter. */
static size_t
lit_prefix_len(const struct pol_glob *g)
{
	size_t i = 0;

	while (g->src[i] && !is_meta(g->src[i]))
		i++;
	return i;
}

bool
pol_glob_covers(const struct pol_glob *p, const struct pol_glob *q)
{
	if (p->kind == PG_ANY || strcmp(p->src, q->src) == 0)
		return true;
	if (q->kind == PG_EXACT)
		return pol_glob_match(p, q->lit, q->len);
	if (q->kind == PG_ANY)
		return false;
	if (p->kind == PG_PREFIX)
		return lit_prefix_len(q) >= p->len && memcmp(q->src, p->lit, p->len) == 0;
	if (p->kind == PG_SUFFIX && q->kind == PG_SUFFIX)
		return q->len >= p->len &&
		    memcmp(q->lit + q->len - p->len, p->lit, p->len) == 0;
	return false;
}
