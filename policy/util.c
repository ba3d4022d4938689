/* Pure helpers around decisions: evidence matching, request hashes, RFC 3339 times. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy/pol_int.h"

/* ---------------------------------------------------------------- evidence */

static bool
value_eq(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal((json_t *)a, (json_t *)b);
}

/* "a.b.c" walks nested objects. */
static const json_t *
path_get(const json_t *o, const char *path)
{
	char seg[LIM_NAME_MAX];
	const char *p = path, *dot;

	while (o != NULL && json_is_object(o)) {
		size_t len;

		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		if (len >= sizeof(seg))
			return NULL;
		memcpy(seg, p, len);
		seg[len] = '\0';
		o = json_object_get(o, seg);
		if (dot == NULL)
			return o;
		p = dot + 1;
	}
	return NULL;
}

bool
pol_evidence_match(const struct pol_evidence_query *q, const char *tenant, const char *tool,
    const char *op, const json_t *args, const json_t *result, int64_t at_ms)
{
	const char *key;
	json_t *want;

	if (q == NULL || tool == NULL || op == NULL || strcmp(tool, q->tool) != 0 ||
	    strcmp(op, q->op) != 0)
		return false;
	if (strcmp(tenant ? tenant : "", q->tenant ? q->tenant : "") != 0)
		return false;
	if (at_ms < q->since_ms || at_ms > q->now_ms)
		return false;
	if (q->match != NULL) {
		json_object_foreach((json_t *)q->match, key, want) {
			const json_t *got = path_get(result, key);

			if (got == NULL || !value_eq(want, got))
				return false;
		}
	}
	for (size_t i = 0; i < q->nsame && i < LIM_POL_SAME_MAX; i++) {
		const json_t *got = args ? json_object_get(args, q->same[i]) : NULL;

		if (got == NULL || q->same_vals[i] == NULL || !value_eq(q->same_vals[i], got))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- request hash */

int
pol_request_hash(const struct pol_request *rq, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	json_t *o, *empty = NULL;
	char *s = NULL;
	int rc = -ENOMEM;

	if (rq == NULL || rq->principal == NULL || rq->tool == NULL || rq->op == NULL)
		return -EINVAL;
	o = json_pack("{s:s, s:s, s:s, s:s, s:O, s:b}", "tenant", rq->tenant ? rq->tenant : "",
	    "principal", rq->principal, "tool", rq->tool, "op", rq->op, "args",
	    rq->args ? (json_t *)rq->args : (empty = json_object()), "dry_run", rq->dry_run);
	json_decref(empty);
	if (o != NULL)
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (s != NULL && EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == 32) {
		for (size_t i = 0; i < 32; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
		rc = 0;
	}
	free(s);
	json_decref(o);
	return rc;
}

/* ---------------------------------------------------------------- time */

static const char *
digits(const char *p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++, p++) {
		if (*p < '0' || *p > '9')
			return NULL;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return p;
}

static const char *
parse_frac_zone(const char *p, int64_t *ms, int *off_s)
{
	int oh, om;

	*ms = 0, *off_s = 0;
	if (*p == '.') {
		int64_t scale = 100;

		if (*++p < '0' || *p > '9')
			return NULL;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			*ms += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z')
		return p + 1;
	if ((*p != '+' && *p != '-') || !digits(p + 1, 2, &oh) || p[3] != ':' ||
	    !digits(p + 4, 2, &om) || oh > 23 || om > 59)
		return NULL;
	*off_s = (p[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
	return p + 6;
}

int
pol_time_parse(const char *s, int64_t *out_ms)
{
	int y, mo, d, h, mi, se, off;
	int64_t ms, days, y2;
	unsigned m2, d2;
	const char *p = s;

	if (s == NULL || !(p = digits(p, 4, &y)) || *p++ != '-' || !(p = digits(p, 2, &mo)) ||
	    *p++ != '-' || !(p = digits(p, 2, &d)) || (*p != 'T' && *p != 't' && *p != ' ') ||
	    !(p = digits(p + 1, 2, &h)) || *p++ != ':' || !(p = digits(p, 2, &mi)) ||
	    *p++ != ':' || !(p = digits(p, 2, &se)) || !(p = parse_frac_zone(p, &ms, &off)) ||
	    *p != '\0')
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 60)
		return -EINVAL;
	days = pol_days_from_civil(y, (unsigned)mo, (unsigned)d);
	pol_civil_from_days(days, &y2, &m2, &d2);
	if ((int)m2 != mo || (int)d2 != d)	/* 2026-02-30 */
		return -EINVAL;
	*out_ms = ((days * 86400 + h * 3600 + mi * 60 + se) - off) * 1000 + ms;
	return 0;
}

void
pol_time_format(int64_t ms, char buf[32])
{
	int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000), days, y;
	int64_t rem, frac = ms - s * 1000;
	unsigned m, d;

	days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	rem = s - days * 86400;
	pol_civil_from_days(days, &y, &m, &d);
	snprintf(buf, 32, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", (long long)y, m, d,
	    (long long)(rem / 3600), (long long)(rem / 60 % 60), (long long)(rem % 60),
	    (long long)frac);
}
