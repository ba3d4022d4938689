/* Globs: the fast paths (literal, prefix*, *suffix, *) agree with fnmatch(3) on every pattern
 * and string of a generated corpus, and the linter's "covers" relation is sound: whenever it
 * says p covers q, no string of the corpus matches q without matching p. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "policy/pol_int.h"

static const char *const patterns[] = {
	"*", "a", "ab", "abc", "a*", "ab*", "abc*", "*c", "*bc", "*abc", "a*c", "*b*", "a?c", "?",
	"??", "???*", "[ab]*", "[!a]*", "[^a]bc", "*[0-9]", "a\\*", "\\*", "a\\?c", "[]a]*",
	"payments-*", "payments-?", "*-prod", "*/*", "release/*", "agent:*", "agent:deploy-*",
	"operator:oncall-*", "*.yml", "deploy*.yml", "v[0-9]*", "a*b*c", "**", "*a*", "[a-c]",
	"x", "", NULL,
};

static const char *const strings[] = {
	"", "a", "b", "c", "ab", "abc", "abcd", "xabc", "bc", "ac", "aXc", "a*", "*", "a?c", "]",
	"]a", "a]", "0", "a9", "payments-", "payments-api", "payments-a", "Payments-api",
	"orders-prod", "-prod", "prod", "a/b", "release/v1", "release/", "agent:x", "agent:",
	"agent:deploy-1", "operator:oncall-7", "deploy.yml", "deploy-prod.yml", "build.yml",
	"v1", "v", "aabbcc", "acb", "abcabc", "x", "xx", "a.b", ".hidden", NULL,
};

Test(policy_glob, fast_paths_agree_with_fnmatch)
{
	size_t n = 0;

	for (const char *const *p = patterns; *p; p++) {
		struct pol_glob g;
		const char *why = "";

		if (**p == '\0') {
			cr_expect(pol_glob_compile(&g, *p, &why) == ERR_CONFIG);
			continue;
		}
		cr_assert(pol_glob_compile(&g, *p, &why) == 0, "%s: %s", *p, why);
		for (const char *const *s = strings; *s; s++, n++)
			cr_expect(pol_glob_match(&g, *s, strlen(*s)) == (fnmatch(*p, *s, 0) == 0),
			    "pattern '%s' on '%s': %d", *p, *s, pol_glob_match(&g, *s, strlen(*s)));
		pol_glob_free(&g);
	}
	cr_assert(n > 1500);
}

Test(policy_glob, kinds)
{
	static const struct { const char *p; enum pol_glob_kind k; } kinds[] = {
		{ "*", PG_ANY }, { "abc", PG_EXACT }, { "abc*", PG_PREFIX }, { "*abc", PG_SUFFIX },
		{ "a*c", PG_FNMATCH }, { "**", PG_FNMATCH }, { "a?", PG_FNMATCH },
		{ "a\\*", PG_FNMATCH }, { "[a]*", PG_FNMATCH },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct pol_glob g;
		const char *why;

		cr_assert(pol_glob_compile(&g, kinds[i].p, &why) == 0);
		cr_expect(g.kind == kinds[i].k, "%s: kind %d", kinds[i].p, g.kind);
		pol_glob_free(&g);
	}
}

Test(policy_glob, refused)
{
	static const struct { const char *p, *why; } bad[] = {
		{ "", "empty pattern" }, { "[abc", "unclosed '[' in pattern" },
		{ "a[", "unclosed '[' in pattern" }, { "[]", "unclosed '[' in pattern" },
		{ "[!]", "unclosed '[' in pattern" }, { "abc\\", "trailing backslash" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pol_glob g;
		const char *why = "";

		cr_expect(pol_glob_compile(&g, bad[i].p, &why) == ERR_CONFIG, "'%s' accepted", bad[i].p);
		cr_expect_str_eq(why, bad[i].why);
	}
}

Test(policy_glob, covers_is_sound)
{
	size_t claims = 0;

	for (const char *const *p = patterns; *p; p++) {
		struct pol_glob gp;
		const char *why;

		if (**p == '\0')
			continue;
		cr_assert(pol_glob_compile(&gp, *p, &why) == 0);
		for (const char *const *q = patterns; *q; q++) {
			struct pol_glob gq;

			if (**q == '\0')
				continue;
			cr_assert(pol_glob_compile(&gq, *q, &why) == 0);
			if (pol_glob_covers(&gp, &gq)) {
				claims++;
				for (const char *const *s = strings; *s; s++)
					cr_expect(!(fnmatch(*q, *s, 0) == 0 && fnmatch(*p, *s, 0) != 0),
					    "'%s' claimed to cover '%s', but '%s' matches only the latter",
					    *p, *q, *s);
			}
			pol_glob_free(&gq);
		}
		pol_glob_free(&gp);
	}
	cr_assert(claims > 100, "%zu", claims);
}
