/* The release plan (tools/relplan.c): last release, conventional-commit bumps, the changelog
 * grouped by type; then github_actions.release_plan against the contract-checking fake GitHub
 * (tests/fakes/fake_github.py) through the real HTTP client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "tests/tools/harness.h"
#include "tools/relplan.h"

/* A compare result's commits from messages (oldest first); shas 1111111..., 2222222... */
static json_t *
commits(const char *const *msgs)
{
	json_t *a = json_array();

	for (int i = 0; msgs[i]; i++) {
		char sha[41], date[32];

		memset(sha, '1' + i, 40);
		sha[40] = '\0';
		snprintf(date, sizeof(date), "2026-03-%02dT12:00:00Z", i + 1);
		json_array_append_new(a, json_pack("{s:s, s:{s:s, s:{s:s}}}", "sha", sha, "commit",
		    "message", msgs[i], "author", "date", date));
	}
	return a;
}

Test(relplan, semver_tags)
{
	static const struct { const char *tag, *prefix; bool ok; int64_t v[3]; } t[] = {
		{ "v1.2.3", "v", true, { 1, 2, 3 } }, { "v0.0.0", "v", true, { 0, 0, 0 } },
		{ "1.10.0", "", true, { 1, 10, 0 } }, { "rel-2.0.1", "rel-", true, { 2, 0, 1 } },
		{ "v01.2.3", "v", false, { 0 } }, { "v1.2", "v", false, { 0 } },
		{ "v1.2.3-rc1", "v", false, { 0 } }, { "1.2.3", "v", false, { 0 } },
		{ "v1.2.3.4", "v", false, { 0 } }, { "v1..3", "v", false, { 0 } },
		{ "v1234567890.0.0", "v", false, { 0 } }, { "v", "v", false, { 0 } },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t v[3] = { -1, -1, -1 };

		cr_expect_eq(relplan_semver(t[i].tag, t[i].prefix, v), t[i].ok, "%s", t[i].tag);
		if (t[i].ok)
			cr_expect(v[0] == t[i].v[0] && v[1] == t[i].v[1] && v[2] == t[i].v[2], "%s",
			    t[i].tag);
	}
}

/* The highest final release wins, whatever the list order; drafts, prereleases and other
 * tags do not count. */
Test(relplan, last_release)
{
	json_t *r = json_loads("[{\"tag_name\":\"v3.0.0\",\"draft\":true},"
	    "{\"tag_name\":\"v2.1.0\",\"prerelease\":true},{\"tag_name\":\"nightly\"},"
	    "{\"tag_name\":\"v1.9.0\"},{\"tag_name\":\"v1.10.0\"},{\"tag_name\":\"v1.2.0\"}]", 0,
	    NULL);

	cr_expect_eq(relplan_last(r, "v"), 4);
	cr_expect_eq(relplan_last(r, "rel-"), -1);
	json_decref(r);
}

struct bump_case {
	const char *msgs[6];
	const char *bump, *next;
	const char *deciding;	/* first deciding header */
};

Test(relplan, bumps)
{
	static const struct bump_case t[] = {
		{ { "fix: a", "feat(api)!: drop v1", NULL }, "major", "2.0.0", "feat(api)!: drop v1" },
		{ { "chore: x", "refactor: y\n\nBREAKING CHANGE: config renamed", NULL }, "major",
		  "2.0.0", "refactor: y" },
		{ { "fix: z\n\nBREAKING-CHANGE: gone", NULL }, "major", "2.0.0", "fix: z" },
		{ { "fix: a", "feat: b", "perf: c", NULL }, "minor", "1.5.0", "feat: b" },
		{ { "docs: d", "perf(db): faster", NULL }, "patch", "1.4.8", "perf(db): faster" },
		{ { "Fix: Capital type", NULL }, "patch", "1.4.8", "Fix: Capital type" },
		{ { "docs: d", "chore: e", "Merge pull request #7 from x/feat: y", NULL }, "none",
		  NULL, NULL },
		/* not conventional: counts for nothing, even with a breaking footer */
		{ { "feat add thing", "Update readme\n\nBREAKING CHANGE: no", "feat:", NULL }, "none",
		  NULL, NULL },
		{ { "feat(): empty scope", "fix : space", NULL }, "none", NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *c = commits(t[i].msgs), *p = relplan_make("v1.4.7", "v", "0.1.0", c, 99);

		cr_assert_not_null(p, "case %zu", i);
		cr_expect_str_eq(json_string_value(json_object_get(p, "bump")), t[i].bump, "case %zu",
		    i);
		if (t[i].next) {
			cr_expect_str_eq(json_string_value(json_object_get(p, "next_version")), t[i].next,
			    "case %zu", i);
			cr_expect_str_eq(json_string_value(json_object_get(json_array_get(
			    json_object_get(p, "deciding"), 0), "header")), t[i].deciding, "case %zu", i);
		} else {
			cr_expect(json_is_null(json_object_get(p, "next_version")), "case %zu", i);
			cr_expect(json_is_null(json_object_get(p, "changelog")), "case %zu", i);
			cr_expect(json_is_false(json_object_get(p, "releasable")), "case %zu", i);
		}
		cr_expect(json_is_false(json_object_get(p, "complete")), "99 counted, fewer seen");
		json_decref(p);
		json_decref(c);
	}
}

Test(relplan, changelog_grouped_newest_first)
{
	static const char *const msgs[] = { "fix(ci): cache key", "feat!: new config format\n\n"
	    "BREAKING CHANGE: config keys renamed", "docs: readme", "feat(api): list users",
	    "Merge branch 'x'", "perf: faster start", NULL };
	json_t *c = commits(msgs), *p = relplan_make("v1.1.0", "v", "0.1.0", c, 6), *e;

	cr_assert_not_null(p);
	cr_expect_str_eq(json_string_value(json_object_get(p, "next_tag")), "v2.0.0");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(p, "base"), "version")),
	    "1.1.0");
	cr_expect(json_is_true(json_object_get(p, "complete")));
	cr_expect_str_eq(json_string_value(json_object_get(p, "changelog")),
	    "## v2.0.0 (2026-03-06)\n"
	    "\n### \xe2\x9a\xa0 BREAKING CHANGES\n\n- config keys renamed (2222222)\n"
	    "\n### Features\n\n- **api:** list users (4444444)\n- new config format (2222222)\n"
	    "\n### Bug Fixes\n\n- **ci:** cache key (1111111)\n"
	    "\n### Performance Improvements\n\n- faster start (6666666)\n"
	    "\n### Other\n\n- Merge branch 'x' (5555555)\n- docs: readme (3333333)\n");
	e = json_array_get(json_object_get(p, "commits"), 1);
	cr_expect_str_eq(json_string_value(json_object_get(e, "type")), "feat");
	cr_expect(json_is_true(json_object_get(e, "breaking")));
	cr_expect(json_is_null(json_object_get(e, "scope")));
	e = json_array_get(json_object_get(p, "commits"), 4);
	cr_expect(json_is_null(json_object_get(e, "type")));
	cr_expect_str_eq(json_string_value(json_object_get(e, "header")), "Merge branch 'x'");
	json_decref(p);
	json_decref(c);
}

Test(relplan, first_release_and_bad_input)
{
	json_t *c = json_array(), *p = relplan_make(NULL, "v", "0.1.0", c, 0);

	cr_assert_not_null(p);
	cr_expect_str_eq(json_string_value(json_object_get(p, "bump")), "initial");
	cr_expect_str_eq(json_string_value(json_object_get(p, "next_tag")), "v0.1.0");
	cr_expect(json_is_null(json_object_get(p, "base")));
	cr_expect_str_eq(json_string_value(json_object_get(p, "changelog")), "## v0.1.0\n");
	json_decref(p);
	cr_expect_null(relplan_make(NULL, "v", "one", c, 0));
	cr_expect_null(relplan_make("release-1", "v", "0.1.0", c, 0));
	json_decref(c);
}

/* ---------------------------------------------------------------- the op against the fake */

extern const struct tool_family tool_fam_github_actions;

#define GH_SECRET "ghp_relplanTOKEN5e1d"

/* fake_github: releases v1.1.0 and v1.0.0; v1.1.0...main holds "feat!: new config format"
 * (BREAKING CHANGE), "fix(ci): cache key", "docs: readme" -> v2.0.0. Two reads, nothing else. */
Test(relplan, release_plan_against_github)
{
	const char *args[] = { "--token", GH_SECRET, NULL };
	struct fake f;
	struct harness h;
	struct tool_err err;
	json_t *res = NULL, *log;
	char verr[256], v[1024];
	int r;

	cr_assert_eq(fake_start(&f, "fake_github.py", args), 0);
	harness_init(&h, &f, GH_SECRET);
	r = harness_call(&h, &tool_fam_github_actions, "release_plan", "{\"owner\":\"octo-org\","
	    "\"repo\":\"hello-world\",\"head\":\"main\"}", &res, &err, verr, sizeof(verr));
	cr_assert_eq(r, 0, "%s %s", verr, err.text);
	cr_expect_str_eq(json_string_value(http_json_get(res, "base.tag")), "v1.1.0");
	cr_expect_str_eq(json_string_value(json_object_get(res, "bump")), "major");
	cr_expect_str_eq(json_string_value(json_object_get(res, "next_tag")), "v2.0.0");
	cr_expect_str_eq(json_string_value(json_object_get(res, "head")), "main");
	cr_expect_eq(json_integer_value(json_object_get(res, "total_commits")), 3);
	cr_expect(json_is_true(json_object_get(res, "complete")));
	cr_expect(strstr(json_string_value(json_object_get(res, "changelog")),
	    "### Bug Fixes\n\n- **ci:** cache key (0000000)\n") != NULL, "%s",
	    json_string_value(json_object_get(res, "changelog")));
	json_decref(res);
	log = fake_log(&f);
	cr_expect_eq(json_array_size(log), 2, "list releases, compare");
	cr_expect_str_eq(json_string_value(http_json_get(json_array_get(log, 1), "path")),
	    "/repos/octo-org/hello-world/compare/v1.1.0...main");
	json_decref(log);
	cr_expect_eq(fake_violations(&f, v, sizeof(v)), 0, "%s", v);
	/* a prefix nothing was released under: the first release, nothing compared */
	r = harness_call(&h, &tool_fam_github_actions, "release_plan", "{\"owner\":\"octo-org\","
	    "\"repo\":\"hello-world\",\"head\":\"main\",\"tag_prefix\":\"svc-\","
	    "\"initial_version\":\"1.0.0\"}", &res, &err, verr, sizeof(verr));
	cr_assert_eq(r, 0, "%s %s", verr, err.text);
	cr_expect_str_eq(json_string_value(json_object_get(res, "bump")), "initial");
	cr_expect_str_eq(json_string_value(json_object_get(res, "next_tag")), "svc-1.0.0");
	json_decref(res);
	cr_expect_eq(fake_count(&f), 3);
	cr_expect_eq(harness_call(&h, &tool_fam_github_actions, "release_plan", "{\"owner\":"
	    "\"octo-org\",\"repo\":\"hello-world\",\"head\":\"main\",\"initial_version\":\"01.0\"}",
	    &res, &err, verr, sizeof(verr)), ERR_SCHEMA);
	harness_fini(&h);
	fake_stop(&f);
}
