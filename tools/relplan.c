/* See relplan.h. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipc/limits.h"
#include "tools/relplan.h"

#define NUM_DIGITS_MAX	9

bool
relplan_semver(const char *tag, const char *prefix, int64_t v[3])
{
	size_t pl = strlen(prefix);
	const char *p;

	if (tag == NULL || strncmp(tag, prefix, pl) != 0)
		return false;
	p = tag + pl;
	for (int i = 0; i < 3; i++) {
		int64_t n = 0;
		int d = 0;

		if (p[0] == '0' && isdigit((unsigned char)p[1]))
			return false;
		for (; isdigit((unsigned char)*p); p++) {
			if (++d > NUM_DIGITS_MAX)
				return false;
			n = n * 10 + (*p - '0');
		}
		if (d == 0)
			return false;
		v[i] = n;
		if (i < 2 && *p++ != '.')
			return false;
	}
	return *p == '\0';
}

static int
ver_cmp(const int64_t a[3], const int64_t b[3])
{
	for (int i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

int
relplan_last(const json_t *releases, const char *prefix)
{
	int64_t best[3] = { 0 }, v[3];
	int at = -1;
	size_t i;
	json_t *r;

	json_array_foreach(releases, i, r) {
		if (json_is_true(json_object_get(r, "draft")) ||
		    json_is_true(json_object_get(r, "prerelease")) ||
		    !relplan_semver(json_string_value(json_object_get(r, "tag_name")), prefix, v))
			continue;
		if (at < 0 || ver_cmp(v, best) > 0) {
			memcpy(best, v, sizeof(best));
			at = (int)i;
		}
	}
	return at;
}

/* ---------------------------------------------------------------- one commit */

enum { G_BREAK, G_FEAT, G_FIX, G_PERF, G_OTHER, G_N };

struct cc {
	const char *msg, *type, *scope, *subj, *note;
	size_t hlen, tlen, slen, sublen, nlen;
	bool conv, breaking;
	int group;
};

static bool
header_parse(struct cc *c)
{
	const char *h = c->msg;
	size_t i = 0, n = c->hlen;

	while (i < n && isalpha((unsigned char)h[i]))
		i++;
	if (i == 0)
		return false;
	c->type = h;
	c->tlen = i;
	if (i < n && h[i] == '(') {
		size_t s = ++i;

		while (i < n && h[i] != ')' && h[i] != '(')
			i++;
		if (i >= n || h[i] != ')' || i == s)
			return false;
		c->scope = h + s;
		c->slen = i - s;
		i++;
	}
	if (i < n && h[i] == '!') {
		c->breaking = true;
		i++;
	}
	if (i + 1 >= n || h[i] != ':' || h[i + 1] != ' ')
		return false;
	for (i += 2; i < n && h[i] == ' '; i++)
		;
	if (i >= n)
		return false;
	c->subj = h + i;
	c->sublen = n - i;
	return true;
}

static bool
type_is(const struct cc *c, const char *t)
{
	return c->tlen == strlen(t) && strncasecmp(c->type, t, c->tlen) == 0;
}

/* The first "BREAKING CHANGE:" / "BREAKING-CHANGE:" line after the header: its text. */
static void
breaking_note(struct cc *c)
{
	static const char *const keys[] = { "BREAKING CHANGE:", "BREAKING-CHANGE:" };
	const char *p = c->msg + c->hlen;

	while ((p = strchr(p, '\n')) != NULL) {
		p++;
		for (size_t k = 0; k < 2; k++) {
			size_t kl = strlen(keys[k]);

			if (strncmp(p, keys[k], kl) != 0)
				continue;
			c->breaking = true;
			for (p += kl; *p == ' '; p++)
				;
			c->note = p;
			c->nlen = strcspn(p, "\r\n");
			return;
		}
	}
}

static void
cc_parse(const char *msg, struct cc *c)
{
	memset(c, 0, sizeof(*c));
	c->msg = msg;
	c->hlen = strcspn(msg, "\n");
	if (c->hlen > 0 && msg[c->hlen - 1] == '\r')
		c->hlen--;
	c->group = G_OTHER;
	if (strncmp(msg, "Merge ", 6) == 0 || !header_parse(c)) {
		c->breaking = false;
		return;
	}
	c->conv = true;
	breaking_note(c);
	if (c->breaking && c->note == NULL) {
		c->note = c->subj;
		c->nlen = c->sublen;
	}
	c->group = type_is(c, "feat") ? G_FEAT : type_is(c, "fix") ? G_FIX :
	    type_is(c, "perf") ? G_PERF : G_OTHER;
}

/* ---------------------------------------------------------------- the changelog */

static const char *
sha_of(const json_t *commits, size_t i)
{
	const char *s = json_string_value(json_object_get(json_array_get(commits, i), "sha"));

	return s ? s : "";
}

struct buf {
	char *p;
	size_t n, cap;
	bool over;
};

static void buf_add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
buf_add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (b->over)
		return;
	for (;;) {
		va_start(ap, fmt);
		k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0 || b->n + (size_t)k + 1 > LIM_RELPLAN_CHANGELOG) {
			b->over = true;
			return;
		}
		if (b->p && b->n + (size_t)k < b->cap) {
			b->n += (size_t)k;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 4096;
			char *np;

			while (cap < b->n + (size_t)k + 1)
				cap *= 2;
			if ((np = realloc(b->p, cap)) == NULL) {
				b->over = true;
				return;
			}
			b->p = np;
			b->cap = cap;
		}
	}
}

static const char *const group_title[G_N] = { "\xe2\x9a\xa0 BREAKING CHANGES", "Features",
	"Bug Fixes", "Performance Improvements", "Other" };

static void
changelog_line(struct buf *b, const struct cc *c, int g, const char *sha)
{
	if (g == G_BREAK)
		buf_add(b, "- %.*s (%.7s)\n", (int)c->nlen, c->note, sha);
	else if (g == G_OTHER)
		buf_add(b, "- %.*s (%.7s)\n", (int)c->hlen, c->msg, sha);
	else if (c->scope)
		buf_add(b, "- **%.*s:** %.*s (%.7s)\n", (int)c->slen, c->scope, (int)c->sublen,
		    c->subj, sha);
	else
		buf_add(b, "- %.*s (%.7s)\n", (int)c->sublen, c->subj, sha);
}

/* "## TAG (DATE)" and the groups, newest commit first in each. */
static json_t *
changelog(const char *tag, const char *date, const struct cc *cs, const json_t *commits)
{
	struct buf b = { 0 };
	size_t n = json_array_size(commits);
	json_t *out;

	buf_add(&b, "## %s", tag);
	if (date)
		buf_add(&b, " (%.10s)", date);
	buf_add(&b, "\n");
	for (int g = 0; g < G_N; g++) {
		bool any = false;

		for (size_t i = n; i-- > 0;) {
			const struct cc *c = &cs[i];

			if (g == G_BREAK ? !c->breaking : c->group != g)
				continue;
			if (!any)
				buf_add(&b, "\n### %s\n\n", group_title[g]);
			any = true;
			changelog_line(&b, c, g, sha_of(commits, i));
		}
	}
	out = b.over ? NULL : json_stringn(b.p, b.n);
	free(b.p);
	return out;
}

/* ---------------------------------------------------------------- the plan */

/* A commit's short id: its first 7 characters (fewer when the sha is shorter). */
static json_t *
short_sha(const char *sha)
{
	return json_stringn(sha, strnlen(sha, 7));
}

static json_t *
commit_json(const struct cc *c, const char *sha)
{
	json_t *o = json_pack("{s:o}", "sha", short_sha(sha));

	if (o == NULL)
		return NULL;
	if (!c->conv) {
		json_object_set_new(o, "type", json_null());
		json_object_set_new(o, "header", json_stringn(c->msg, c->hlen));
		return o;
	}
	json_object_set_new(o, "type", json_stringn(c->type, c->tlen));
	json_object_set_new(o, "scope", c->scope ? json_stringn(c->scope, c->slen) : json_null());
	json_object_set_new(o, "breaking", json_boolean(c->breaking));
	json_object_set_new(o, "subject", json_stringn(c->subj, c->sublen));
	return o;
}

static const char *
bump_of(const struct cc *cs, size_t n)
{
	int best = 3;	/* 0 major, 1 minor, 2 patch, 3 none */

	for (size_t i = 0; i < n; i++) {
		if (!cs[i].conv)
			continue;
		if (cs[i].breaking)
			best = 0;
		else if (cs[i].group == G_FEAT && best > 1)
			best = 1;
		else if ((cs[i].group == G_FIX || cs[i].group == G_PERF) && best > 2)
			best = 2;
	}
	return (const char *const[]){ "major", "minor", "patch", "none" }[best];
}

/* Whether commit c decided the bump. */
static bool
decides(const struct cc *c, const char *bump)
{
	if (!c->conv)
		return false;
	if (strcmp(bump, "major") == 0)
		return c->breaking;
	if (strcmp(bump, "minor") == 0)
		return c->group == G_FEAT;
	return strcmp(bump, "patch") == 0 && (c->group == G_FIX || c->group == G_PERF);
}

static void
next_version(const char *bump, const int64_t base[3], int64_t v[3])
{
	memcpy(v, base, 3 * sizeof(v[0]));
	if (strcmp(bump, "major") == 0) {
		v[0]++;
		v[1] = v[2] = 0;
	} else if (strcmp(bump, "minor") == 0) {
		v[1]++;
		v[2] = 0;
	} else {
		v[2]++;
	}
}

json_t *
relplan_make(const char *base_tag, const char *prefix, const char *initial,
    const json_t *commits, int64_t total)
{
	size_t n = json_array_size(commits);
	struct cc *cs = calloc(n ? n : 1, sizeof(*cs));
	json_t *plan = NULL, *list = json_array(), *dec = json_array();
	int64_t base[3], v[3];
	const char *bump, *date = NULL;
	char ver[64], tag[320];

	if (cs == NULL || list == NULL || dec == NULL || !relplan_semver(initial, "", v) ||
	    (base_tag && !relplan_semver(base_tag, prefix, base)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(commits, i);
		const char *msg = json_string_value(json_object_get(json_object_get(e, "commit"),
		    "message"));
		cc_parse(msg ? msg : "", &cs[i]);
		json_array_append_new(list, commit_json(&cs[i], sha_of(commits, i)));
		date = json_string_value(json_object_get(json_object_get(json_object_get(e,
		    "commit"), "author"), "date"));
	}
	bump = base_tag ? bump_of(cs, n) : "initial";
	if (base_tag && strcmp(bump, "none") != 0)
		next_version(bump, base, v);
	snprintf(ver, sizeof(ver), "%lld.%lld.%lld", (long long)v[0], (long long)v[1],
	    (long long)v[2]);
	snprintf(tag, sizeof(tag), "%s%s", prefix, ver);
	for (size_t i = 0; i < n; i++)
		if (decides(&cs[i], bump))
			json_array_append_new(dec, json_pack("{s:o, s:s%}", "sha",
			    short_sha(sha_of(commits, i)), "header", cs[i].msg, cs[i].hlen));
	plan = json_pack("{s:o, s:s, s:b, s:o, s:o, s:O, s:O, s:I, s:b}",
	    "base", base_tag ? json_pack("{s:s, s:s}", "tag", base_tag, "version",
	    base_tag + strlen(prefix)) : json_null(), "bump", bump,
	    "releasable", strcmp(bump, "none") != 0,
	    "next_version", strcmp(bump, "none") ? json_string(ver) : json_null(),
	    "next_tag", strcmp(bump, "none") ? json_string(tag) : json_null(),
	    "deciding", dec, "commits", list, "total_commits", (json_int_t)total,
	    "complete", (int64_t)n >= total);
	if (plan)
		json_object_set_new(plan, "changelog", strcmp(bump, "none") ?
		    changelog(tag, date, cs, commits) : json_null());
out:
	json_decref(list);
	json_decref(dec);
	free(cs);
	return plan;
}
