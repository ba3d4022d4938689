/* The small languages inside a rule: where-conditions, time windows, rates, obligations. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipc/err.h"
#include "policy/pol_int.h"

static const char *const cond_keys[] = { "glob", "in", "regex", "min", "max", NULL };
static const char *const when_keys[] = { "days", "hours", "tz", NULL };
static const char *const obl_keys[] = { "evidence", "approval", "dry_run_only", NULL };
static const char *const ev_keys[] = { "op", "match", "same", "within", NULL };
static const char *const ap_keys[] = { "approvers", "quorum", "timeout", NULL };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

#define RATE_WINDOW_MAX_MS	(31LL * 86400000)
#define APPROVAL_TIMEOUT_DEF_MS	(30LL * 60000)
#define APPROVAL_TIMEOUT_MAX_MS	(7LL * 86400000)

/* ---------------------------------------------------------------- scalars */

static bool
plain_number(const struct ydoc_node *n, double *out)
{
	char *end;
	double v;

	if (n->type != YDOC_SCALAR || n->quoted || n->len == 0)
		return false;
	errno = 0;
	v = strtod(n->str, &end);
	if (*end != '\0' || errno != 0 || !isfinite(v) || strchr(n->str, 'x') ||
	    strchr(n->str, 'X'))
		return false;
	*out = v;
	return true;
}

static int
plain_bool(const struct ydoc_node *n)
{
	if (n->type != YDOC_SCALAR || n->quoted)
		return -1;
	if (strcmp(n->str, "true") == 0 || strcmp(n->str, "True") == 0 ||
	    strcmp(n->str, "TRUE") == 0)
		return 1;
	if (strcmp(n->str, "false") == 0 || strcmp(n->str, "False") == 0 ||
	    strcmp(n->str, "FALSE") == 0)
		return 0;
	return -1;
}

json_t *
pol_scalar_json(const struct ydoc_node *n)
{
	double v;
	int b;
	char *end;
	long long iv;

	if (n->type != YDOC_SCALAR)
		return NULL;
	if (!n->quoted && ydoc_is_null(n))
		return json_null();
	if ((b = plain_bool(n)) >= 0)
		return json_boolean(b);
	if (plain_number(n, &v)) {
		errno = 0;
		iv = strtoll(n->str, &end, 10);
		if (*end == '\0' && errno == 0)
			return json_integer(iv);
		return json_real(v);
	}
	return json_stringn(n->str, n->len);
}

/* ---------------------------------------------------------------- where */

void
pol_cond_free(struct pol_cond *c)
{
	free(c->arg);
	pol_glob_free(&c->glob);
	if (c->re_ok)
		regfree(&c->re);
	for (size_t i = 0; i < c->nin; i++)
		free(c->in[i].str);
	free(c->in);
	free(c->text);
	memset(c, 0, sizeof(*c));
}

static int
cond_glob(const struct pol_ld *ld, const struct ydoc_node *v, struct pol_cond *c)
{
	const char *why;
	int rc;

	c->kind = PC_GLOB;
	if ((rc = pol_glob_compile(&c->glob, v->str, &why)) < 0) {
		if (rc != -ENOMEM)
			ydoc_errf(ld->e, ld->d, v, "where %s: pattern '%s': %s", c->arg, v->str, why);
		return rc;
	}
	return asprintf(&c->text, "glob:%s", v->str) < 0 ? -ENOMEM : 0;
}

static int
cond_scalar(const struct pol_ld *ld, const struct ydoc_node *v, struct pol_cond *c)
{
	int b;

	if ((b = plain_bool(v)) >= 0) {
		c->kind = PC_BOOL, c->bval = b;
		return asprintf(&c->text, "bool:%s", b ? "true" : "false") < 0 ? -ENOMEM : 0;
	}
	if (plain_number(v, &c->num)) {
		/* Also compiled as a glob: on a string parameter the binder turns it into one. */
		int rc = cond_glob(ld, v, c);

		free(c->text);
		c->text = NULL;
		c->kind = PC_NUM;
		if (rc < 0)
			return rc;
		return asprintf(&c->text, "num:%s", v->str) < 0 ? -ENOMEM : 0;
	}
	return cond_glob(ld, v, c);
}

static int
cond_in(const struct pol_ld *ld, const struct ydoc_node *v, struct pol_cond *c)
{
	json_t *arr;
	char *s;
	struct ydoc_node **it, *one;
	size_t cnt;
	int rc;

	c->kind = PC_IN;
	if ((rc = pol_ld_list(ld, (struct ydoc_node *)v, "in", &one, &it, &cnt)) < 0)
		return rc;
	if ((c->in = calloc(cnt, sizeof(*c->in))) == NULL || (arr = json_array()) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		c->in[i].is_num = plain_number(it[i], &c->in[i].num);
		if ((c->in[i].str = strdup(it[i]->str)) == NULL) {
			json_decref(arr);
			return -ENOMEM;
		}
		c->nin++;
		json_array_append_new(arr, json_string(it[i]->str));
	}
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	rc = s && asprintf(&c->text, "in:%s", s) >= 0 ? 0 : -ENOMEM;
	free(s);
	return rc;
}

static int
cond_regex(const struct pol_ld *ld, const struct ydoc_node *v, struct pol_cond *c)
{
	char *anchored = NULL, msg[256];
	int rc;

	c->kind = PC_REGEX;
	if (v->type != YDOC_SCALAR || v->len == 0 || v->len > LIM_POL_REGEX_MAX) {
		ydoc_errf(ld->e, ld->d, v, "where %s: regex: expected a non-empty string of at "
		    "most %u bytes", c->arg, LIM_POL_REGEX_MAX);
		return ERR_CONFIG;
	}
	/* Anchored: the whole value must match, as with globs. */
	if (asprintf(&anchored, "^(%s)$", v->str) < 0)
		return -ENOMEM;
	rc = regcomp(&c->re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc != 0) {
		regerror(rc, &c->re, msg, sizeof(msg));
		ydoc_errf(ld->e, ld->d, v, "where %s: bad regex '%s': %s", c->arg, v->str, msg);
		return ERR_CONFIG;
	}
	c->re_ok = true;
	return asprintf(&c->text, "regex:%s", v->str) < 0 ? -ENOMEM : 0;
}

static int
cond_range(const struct pol_ld *ld, const struct ydoc_node *m, struct pol_cond *c)
{
	const struct ydoc_node *lo = ydoc_get(m, "min"), *hi = ydoc_get(m, "max");
	int rc = 0;

	c->kind = PC_RANGE;
	if (lo && (rc = ydoc_double(ld->e, ld->d, lo, &c->min)) == 0)
		c->has_min = true;
	if (hi && ydoc_double(ld->e, ld->d, hi, &c->max) == 0)
		c->has_max = true;
	else if (hi)
		rc = ERR_TYPE;
	if (rc < 0)
		return rc;
	if (c->has_min && c->has_max && c->min > c->max) {
		ydoc_errf(ld->e, ld->d, m, "where %s: min %g is greater than max %g", c->arg,
		    c->min, c->max);
		return ERR_CONFIG;
	}
	return asprintf(&c->text, "range:%s%.17g,%s%.17g", c->has_min ? "" : "-",
	    c->has_min ? c->min : 0.0, c->has_max ? "" : "-", c->has_max ? c->max : 0.0) < 0 ?
	    -ENOMEM : 0;
}

static int
cond_new(struct pol_rule *r, const struct pol_ld *ld, const struct ydoc_node *key,
    struct pol_cond **out)
{
	struct pol_cond *c = &r->where[r->nwhere];

	memset(c, 0, sizeof(*c));
	c->pos = pol_ld_pos(ld, key);
	if ((c->arg = strdup(key->str)) == NULL)
		return -ENOMEM;
	r->nwhere++;		/* counted now so that pol_rule_free frees it */
	*out = c;
	return 0;
}

/* One argument's condition: a scalar, or a map of glob/in/regex/min/max (all must hold). */
static int
decode_arg(const struct pol_ld *ld, const struct ydoc_node *key, const struct ydoc_node *v,
    struct pol_rule *r)
{
	struct pol_cond *c;
	int rc, r2 = 0;

	if (v->type == YDOC_SCALAR && !ydoc_is_null(v))
		return (rc = cond_new(r, ld, key, &c)) < 0 ? rc : cond_scalar(ld, v, c);
	if (v->type != YDOC_MAP || v->n == 0) {
		ydoc_errf(ld->e, ld->d, v, "where %s: expected a pattern, true/false, a number, or "
		    "a mapping of glob, in, regex, min, max", key->str);
		return ERR_TYPE;
	}
	if ((rc = ydoc_check_keys(ld->e, ld->d, v, cond_keys)) < 0)
		return rc;
	for (size_t i = 0; i < v->n && r2 >= 0; i++) {
		const char *k = v->keys[i]->str;

		if (strcmp(k, "max") == 0 && ydoc_get(v, "min") != NULL)
			continue;	/* one range for both */
		if ((r2 = cond_new(r, ld, key, &c)) < 0)
			break;
		if (strcmp(k, "glob") == 0)
			r2 = v->items[i]->type == YDOC_SCALAR ? cond_glob(ld, v->items[i], c) :
			    ydoc_want(ld->e, ld->d, v->items[i], YDOC_SCALAR);
		else if (strcmp(k, "in") == 0)
			r2 = cond_in(ld, v->items[i], c);
		else if (strcmp(k, "regex") == 0)
			r2 = cond_regex(ld, v->items[i], c);
		else
			r2 = cond_range(ld, v, c);
	}
	return r2;
}

int
pol_decode_where(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r)
{
	const char *name;
	int rc = 0, r2;

	if (ydoc_want(ld->e, ld->d, n, YDOC_MAP) < 0)
		return ERR_TYPE;
	if (n->n > LIM_POL_WHERE_MAX) {
		ydoc_errf(ld->e, ld->d, n, "where: more than %u arguments", LIM_POL_WHERE_MAX);
		return ERR_TOOBIG;
	}
	/* At most 4 conditions per argument (glob, in, regex, one range). */
	if ((r->where = calloc(n->n * 4 + 1, sizeof(*r->where))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n->n; i++) {
		if ((r2 = pol_ld_name(ld, n->keys[i], "where argument", &name)) == 0)
			r2 = decode_arg(ld, n->keys[i], n->items[i], r);
		if (r2 == -ENOMEM)
			return r2;
		if (r2 < 0)
			rc = r2;
	}
	return rc;
}

/* ---------------------------------------------------------------- when */

static int
day_index(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++)
		if (len == 3 && strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* "mon", or a range "mon-fri" (wrapping: "fri-mon" is fri, sat, sun, mon). */
static int
decode_days(const struct pol_ld *ld, struct ydoc_node *n, uint8_t *days)
{
	struct ydoc_node **it, *one;
	size_t cnt;
	int rc;

	if ((rc = pol_ld_list(ld, n, "days", &one, &it, &cnt)) < 0)
		return rc;
	*days = 0;
	for (size_t i = 0; i < cnt; i++) {
		const char *s = it[i]->str, *dash = strchr(s, '-');
		int a = day_index(s, dash ? (size_t)(dash - s) : strlen(s));
		int b = dash ? day_index(dash + 1, strlen(dash + 1)) : a;

		if (a < 0 || b < 0) {
			ydoc_errf(ld->e, ld->d, it[i], "days: '%s' is not a day (mon, tue, wed, "
			    "thu, fri, sat, sun) or a range like mon-fri", s);
			return ERR_CONFIG;
		}
		for (int d = a;; d = (d + 1) % 7) {
			*days |= (uint8_t)(1u << d);
			if (d == b)
				break;
		}
	}
	return 0;
}

static bool
parse_hhmm(const char *s, int32_t *out)
{
	if (!(s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' &&
	    s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9'))
		return false;
	*out = ((s[0] - '0') * 10 + (s[1] - '0')) * 3600 + ((s[3] - '0') * 10 + (s[4] - '0')) * 60;
	return *out <= 86400;
}

static int
decode_hours(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_when *w)
{
	if (n->type != YDOC_SCALAR || n->len != 11 || n->str[5] != '-' ||
	    !parse_hhmm(n->str, &w->start_s) || !parse_hhmm(n->str + 6, &w->end_s) ||
	    w->start_s == 86400) {
		ydoc_errf(ld->e, ld->d, n, "hours: expected \"HH:MM-HH:MM\" (00:00 to 24:00), "
		    "found '%s'", n->type == YDOC_SCALAR ? n->str : "?");
		return ERR_CONFIG;
	}
	if (w->start_s == w->end_s) {
		ydoc_errf(ld->e, ld->d, n, "hours: '%s' is an empty window (use 00:00-24:00 for "
		    "all day)", n->str);
		return ERR_CONFIG;
	}
	return 0;
}

static int
tz_index(const struct pol_ld *ld, const struct ydoc_node *n, int *out)
{
	struct pol_set *ps = ld->ps;
	const char *why = "";
	int rc;

	for (size_t i = 0; i < ps->ntz; i++)
		if (strcmp(pol_tz_name(ps->tzs[i]), n->str) == 0)
			return (*out = (int)i), 0;
	if (ps->ntz >= LIM_POL_TZ_MAX) {
		ydoc_errf(ld->e, ld->d, n, "tz: more than %u time zones", LIM_POL_TZ_MAX);
		return ERR_TOOBIG;
	}
	if ((rc = pol_tz_load(ld->tzdir, n->str, &ps->tzs[ps->ntz], &why)) < 0) {
		if (rc != -ENOMEM)
			ydoc_errf(ld->e, ld->d, n, "tz '%s': %s", n->str, why);
		return rc;
	}
	*out = (int)ps->ntz++;
	return 0;
}

int
pol_decode_when(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r)
{
	struct pol_when *w = &r->when;
	struct ydoc_node *days = ydoc_get(n, "days"), *hours = ydoc_get(n, "hours");
	struct ydoc_node *tz = ydoc_get(n, "tz");
	char dl[64] = "";
	int rc;

	if (ydoc_want(ld->e, ld->d, n, YDOC_MAP) < 0)
		return ERR_TYPE;
	if ((rc = ydoc_check_keys(ld->e, ld->d, n, when_keys)) < 0)
		return rc;
	if (days == NULL && hours == NULL) {
		ydoc_errf(ld->e, ld->d, n, "when: give days, hours or both");
		return ERR_CONFIG;
	}
	w->days = 0x7f, w->start_s = 0, w->end_s = 86400;
	if ((days && (rc = decode_days(ld, days, &w->days)) < 0) ||
	    (hours && (rc = decode_hours(ld, hours, w)) < 0))
		return rc;
	if (tz != NULL && ydoc_want(ld->e, ld->d, tz, YDOC_SCALAR) < 0)
		return ERR_TYPE;
	if ((rc = tz_index(ld, tz ? tz : &(struct ydoc_node){ .type = YDOC_SCALAR,
	    .str = (char *)"UTC", .len = 3, .line = n->line, .col = n->col }, &w->tz)) < 0)
		return rc;
	for (int d = 0; d < 7; d++)
		if (w->days & (1u << d))
			snprintf(dl + strlen(dl), sizeof(dl) - strlen(dl), "%s%s", *dl ? "," : "",
			    day_names[d]);
	r->has_when = true;
	return asprintf(&w->text, "%s %02d:%02d-%02d:%02d %s", dl, w->start_s / 3600,
	    w->start_s / 60 % 60, w->end_s / 3600, w->end_s / 60 % 60,
	    pol_tz_name(ld->ps->tzs[w->tz])) < 0 ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------- rate */

int
pol_decode_rate(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r)
{
	char *end, win[32];
	unsigned long cnt;
	const char *slash;
	int64_t ms;

	if (n->type != YDOC_SCALAR || (slash = strchr(n->str, '/')) == NULL)
		goto bad;
	errno = 0;
	cnt = strtoul(n->str, &end, 10);
	if (end != slash || errno != 0 || cnt == 0 || cnt > LIM_POL_RATE_MAX ||
	    n->str[0] < '0' || n->str[0] > '9')
		goto bad;
	/* "3/h" means "3/1h". */
	snprintf(win, sizeof(win), "%s%s", slash[1] >= '0' && slash[1] <= '9' ? "" : "1",
	    slash + 1);
	if (strlen(slash + 1) >= sizeof(win) - 2 || ydoc_parse_duration_ms(win, &ms) < 0 ||
	    ms <= 0 || ms > RATE_WINDOW_MAX_MS)
		goto bad;
	r->rate_n = (uint32_t)cnt;
	r->rate_ms = ms;
	return asprintf(&r->rate_text, "%lu/%s", cnt, win) < 0 ? -ENOMEM : 0;
bad:
	ydoc_errf(ld->e, ld->d, n, "rate: expected \"N/window\" like 3/1h or 100/1m "
	    "(1 <= N <= %u, window up to 31d), found '%s'", LIM_POL_RATE_MAX,
	    n->type == YDOC_SCALAR ? n->str : "?");
	return ERR_CONFIG;
}

/* ---------------------------------------------------------------- obligations */

static int
decode_match(const struct pol_ld *ld, const struct ydoc_node *m, struct pol_rule *r)
{
	if ((r->match = json_object()) == NULL)
		return -ENOMEM;
	if (m == NULL)
		return 0;
	if (ydoc_want(ld->e, ld->d, m, YDOC_MAP) < 0)
		return ERR_TYPE;
	for (size_t i = 0; i < m->n; i++) {
		json_t *v = pol_scalar_json(m->items[i]);

		if (v == NULL) {
			ydoc_errf(ld->e, ld->d, m->items[i], "match %s: expected a scalar value",
			    m->keys[i]->str);
			return ERR_TYPE;
		}
		json_object_set_new(r->match, m->keys[i]->str, v);
	}
	return 0;
}

static int
decode_same(const struct pol_ld *ld, struct ydoc_node *n, struct pol_rule *r)
{
	struct ydoc_node **it, *one;
	size_t cnt;
	const char *name;
	int rc;

	if (n == NULL)
		return 0;
	if ((rc = pol_ld_list(ld, n, "same", &one, &it, &cnt)) < 0)
		return rc;
	if (cnt > LIM_POL_SAME_MAX) {
		ydoc_errf(ld->e, ld->d, n, "same: more than %u arguments", LIM_POL_SAME_MAX);
		return ERR_TOOBIG;
	}
	if ((r->same = calloc(cnt, sizeof(*r->same))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		if ((rc = pol_ld_name(ld, it[i], "same", &name)) < 0)
			return rc;
		if ((r->same[i] = strdup(name)) == NULL)
			return -ENOMEM;
		r->evidence.nsame++;
	}
	r->evidence.same = (const char *const *)r->same;
	return 0;
}

static int
evidence_text(struct pol_rule *r)
{
	char *m = json_dumps(r->match, JSON_COMPACT | JSON_SORT_KEYS), same[512] = "";
	char within[32];
	int rc;

	if (m == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < r->evidence.nsame; i++)
		snprintf(same + strlen(same), sizeof(same) - strlen(same), "%s%s", i ? "," : "",
		    r->same[i]);
	if (r->evidence.within_ms % 60000 == 0)
		snprintf(within, sizeof(within), "%lldm", (long long)(r->evidence.within_ms / 60000));
	else
		snprintf(within, sizeof(within), "%lldms", (long long)r->evidence.within_ms);
	rc = asprintf(&r->ev_text, "%s.%s %s%s%s within %s", r->ev_tool, r->ev_op, m,
	    *same ? " same " : "", same, within) < 0 ? -ENOMEM : 0;
	free(m);
	r->evidence.text = r->ev_text;
	return rc;
}

static int
decode_evidence(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r)
{
	const struct ydoc_node *op = ydoc_get(n, "op"), *within = ydoc_get(n, "within");
	const char *dot;
	int rc;

	if (ydoc_want(ld->e, ld->d, n, YDOC_MAP) < 0)
		return ERR_TYPE;
	if ((rc = ydoc_check_keys(ld->e, ld->d, n, ev_keys)) < 0)
		return rc;
	r->ev_pos = pol_ld_pos(ld, op ? op : n);
	if (op == NULL || op->type != YDOC_SCALAR || (dot = strchr(op->str, '.')) == NULL ||
	    dot == op->str || dot[1] == '\0') {
		ydoc_errf(ld->e, ld->d, op ? op : n, "evidence.op: expected TOOL.OP, e.g. "
		    "prometheus.canary_analyze");
		return ERR_CONFIG;
	}
	if ((r->ev_tool = strndup(op->str, (size_t)(dot - op->str))) == NULL ||
	    (r->ev_op = strdup(dot + 1)) == NULL)
		return -ENOMEM;
	if (within == NULL) {
		ydoc_errf(ld->e, ld->d, n, "evidence.within: missing (how recent, e.g. 15m)");
		return ERR_MISSING;
	}
	if ((rc = ydoc_duration_ms(ld->e, ld->d, within, &r->evidence.within_ms)) < 0)
		return rc;
	if (r->evidence.within_ms <= 0) {
		ydoc_errf(ld->e, ld->d, within, "evidence.within: must be more than 0");
		return ERR_CONFIG;
	}
	if ((rc = decode_match(ld, ydoc_get(n, "match"), r)) < 0 ||
	    (rc = decode_same(ld, ydoc_get(n, "same"), r)) < 0)
		return rc;
	r->evidence.tool = r->ev_tool;
	r->evidence.op = r->ev_op;
	r->evidence.match = r->match;
	r->has_evidence = true;
	return evidence_text(r);
}

static int
decode_approvers(const struct pol_ld *ld, struct ydoc_node *n, struct pol_rule *r,
    bool *groups)
{
	struct ydoc_node **it, *one;
	size_t cnt;
	int rc;

	if ((rc = pol_ld_list(ld, n, "approvers", &one, &it, &cnt)) < 0)
		return rc;
	if ((r->approvers = calloc(cnt, sizeof(*r->approvers))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		const char *s = it[i]->str;

		if ((strncmp(s, "group:", 6) != 0 || s[6] == '\0') &&
		    (strncmp(s, "user:", 5) != 0 || s[5] == '\0')) {
			ydoc_errf(ld->e, ld->d, it[i], "approver '%s': expected group:NAME or "
			    "user:NAME", s);
			return ERR_CONFIG;
		}
		*groups |= s[0] == 'g';
		if ((r->approvers[i] = strdup(s)) == NULL)
			return -ENOMEM;
		r->approval.napprovers++;
	}
	r->approval.approvers = (const char *const *)r->approvers;
	return 0;
}

static int
decode_approval(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r)
{
	const struct ydoc_node *q = ydoc_get(n, "quorum"), *t = ydoc_get(n, "timeout");
	int64_t quorum = 1;
	bool groups = false;
	int rc;

	if (ydoc_want(ld->e, ld->d, n, YDOC_MAP) < 0)
		return ERR_TYPE;
	if ((rc = ydoc_check_keys(ld->e, ld->d, n, ap_keys)) < 0 ||
	    (rc = decode_approvers(ld, ydoc_get(n, "approvers"), r, &groups)) < 0)
		return rc;
	if (q != NULL && (rc = ydoc_int(ld->e, ld->d, q, 1, LIM_POL_LIST_MAX, &quorum)) < 0)
		return rc;
	if (!groups && (size_t)quorum > r->approval.napprovers) {
		ydoc_errf(ld->e, ld->d, q, "quorum %lld is more than the %zu approvers listed",
		    (long long)quorum, r->approval.napprovers);
		return ERR_CONFIG;
	}
	r->approval.quorum = (uint32_t)quorum;
	r->approval.timeout_ms = APPROVAL_TIMEOUT_DEF_MS;
	if (t != NULL && (rc = ydoc_duration_ms(ld->e, ld->d, t, &r->approval.timeout_ms)) < 0)
		return rc;
	if (r->approval.timeout_ms <= 0 || r->approval.timeout_ms > APPROVAL_TIMEOUT_MAX_MS) {
		ydoc_errf(ld->e, ld->d, t, "timeout: must be between 1s and 7d");
		return ERR_CONFIG;
	}
	r->has_approval = true;
	return 0;
}

int
pol_decode_obligations(const struct pol_ld *ld, const struct ydoc_node *n, struct pol_rule *r)
{
	const struct ydoc_node *v;
	int rc = 0, r2;

	if (ydoc_want(ld->e, ld->d, n, YDOC_MAP) < 0)
		return ERR_TYPE;
	rc = ydoc_check_keys(ld->e, ld->d, n, obl_keys);
	if ((v = ydoc_get(n, "evidence")) != NULL && (r2 = decode_evidence(ld, v, r)) < 0)
		rc = r2;
	if ((v = ydoc_get(n, "approval")) != NULL && (r2 = decode_approval(ld, v, r)) < 0)
		rc = r2;
	if ((v = ydoc_get(n, "dry_run_only")) != NULL) {
		r->dry_pos = pol_ld_pos(ld, v);
		if ((r2 = ydoc_bool(ld->e, ld->d, v, &r->dry_run_only)) < 0)
			rc = r2;
	}
	return rc;
}
