/* Release plan: the next semantic version from conventional commits, and the changelog grouped
 * by type — the rules release-manager's prompt used to leave to the model, computed here so the
 * same commits always give the same version (github_actions.release_plan). Pure: JSON in, JSON
 * out, no I/O.
 *
 * Rules: a commit header is "type(scope)!: subject" (scope and "!" optional, type letters).
 * major: "!" in a header, or a body/footer line starting "BREAKING CHANGE:" or
 * "BREAKING-CHANGE:"; else minor: a feat; else patch: a fix or perf; else no release. Merge
 * commits and non-conventional messages count for nothing ("Other"). The last release is the
 * highest PREFIX + MAJOR.MINOR.PATCH tag of a release that is neither draft nor prerelease. */
#ifndef CORRAL_TOOLS_RELPLAN_H
#define CORRAL_TOOLS_RELPLAN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

/* "PREFIX1.2.3" -> {1, 2, 3}; numbers without leading zeros, each below 10^9. */
bool relplan_semver(const char *tag, const char *prefix, int64_t v[3]);

/* The last release in releases (array of {tag_name, draft, prerelease}): its index, or -1. */
int relplan_last(const json_t *releases, const char *prefix);

/* The plan. base_tag NULL: nothing released yet (the first release is initial). commits: the
 * compare result's commits ({sha, commit: {message, author: {date}}}, oldest first);
 * total: how many commits GitHub counts between base and head. New reference, or NULL when
 * out of memory or when initial is not a version. Fields: base {tag, version} or null, bump
 * (major, minor, patch, none, initial), releasable, next_version, next_tag, deciding [{sha,
 * header}], commits [{sha, type, scope, breaking, subject} or {sha, type: null, header}],
 * changelog (markdown) or null, total_commits, complete (every commit was seen). */
json_t *relplan_make(const char *base_tag, const char *prefix, const char *initial,
    const json_t *commits, int64_t total);

#endif
