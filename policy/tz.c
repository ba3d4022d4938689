/* Time zones without TZ/tzset: a small TZif (RFC 8536) reader run at load time, and a pure
 * UTC-offset lookup for the evaluator. Instants past the file's last transition follow the
 * POSIX TZ rule in the file's footer ("CET-1CEST,M3.5.0,M10.5.0/3"), which is also what "slim"
 * TZif files rely on for every modern instant. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/err.h"
#include "policy/pol_int.h"

struct tz_rule_date {
	char kind;			/* 'M' (month.week.day), 'J' (1..365, no Feb 29), 'N' (0..365) */
	int m, w, d, n;
	int32_t time_s;			/* local time of day of the change, may be < 0 or > 24h */
};

struct pol_tz {
	char name[LIM_NAME_MAX];
	size_t ntrans, ntypes;
	int64_t *trans;
	uint8_t *tidx;
	int32_t *utoff;
	bool has_rule, has_dst;
	int32_t std_off, dst_off;	/* east of UTC */
	struct tz_rule_date start, end;
};

/* ---------------------------------------------------------------- civil dates */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
int64_t
pol_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void
pol_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ---------------------------------------------------------------- POSIX TZ rule */

static const char *
parse_name(const char *s)
{
	const char *p = s;

	if (*p == '<') {
		while (*p && *p != '>')
			p++;
		return *p == '>' && p - s >= 4 ? p + 1 : NULL;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] with hh <= 167 -> seconds (sign as written). */
static const char *
parse_hms(const char *p, int32_t *out)
{
	int sign = 1, part[3] = { 0, 0, 0 };

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		int v = 0, digits = 0;

		while (*p >= '0' && *p <= '9' && digits < 3)
			v = v * 10 + (*p++ - '0'), digits++;
		if (digits == 0)
			return NULL;
		part[i] = v;
		if (*p != ':' || i == 2)
			break;
		p++;
	}
	if (part[0] > 167 || part[1] > 59 || part[2] > 59)
		return NULL;
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return p;
}

static const char *
parse_int(const char *p, int lo, int hi, int *out)
{
	int v = 0, digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 4)
		v = v * 10 + (*p++ - '0'), digits++;
	if (digits == 0 || v < lo || v > hi)
		return NULL;
	*out = v;
	return p;
}

static const char *
parse_rule_date(const char *p, struct tz_rule_date *rd)
{
	memset(rd, 0, sizeof(*rd));
	rd->time_s = 7200;
	if (*p == 'M') {
		rd->kind = 'M';
		if (!(p = parse_int(p + 1, 1, 12, &rd->m)) || *p++ != '.' ||
		    !(p = parse_int(p, 1, 5, &rd->w)) || *p++ != '.' ||
		    !(p = parse_int(p, 0, 6, &rd->d)))
			return NULL;
	} else if (*p == 'J') {
		rd->kind = 'J';
		if (!(p = parse_int(p + 1, 1, 365, &rd->n)))
			return NULL;
	} else {
		rd->kind = 'N';
		if (!(p = parse_int(p, 0, 365, &rd->n)))
			return NULL;
	}
	if (*p == '/' && !(p = parse_hms(p + 1, &rd->time_s)))
		return NULL;
	return p;
}

static int
tz_parse_posix(const char *s, struct pol_tz *tz)
{
	const char *p = s;
	int32_t off;

	if (!(p = parse_name(p)) || !(p = parse_hms(p, &off)))
		return ERR_CONFIG;
	tz->std_off = -off;		/* POSIX offsets count west of Greenwich */
	tz->has_dst = false;
	if (*p != '\0') {
		if (!(p = parse_name(p)))
			return ERR_CONFIG;
		tz->has_dst = true;
		tz->dst_off = tz->std_off + 3600;
		if (*p != ',' && *p != '\0') {
			if (!(p = parse_hms(p, &off)))
				return ERR_CONFIG;
			tz->dst_off = -off;
		}
		if (*p == '\0') {	/* no rule: POSIX leaves it to the system; use the US one */
			p = ",M3.2.0,M11.1.0";
		}
		if (*p++ != ',' || !(p = parse_rule_date(p, &tz->start)) || *p++ != ',' ||
		    !(p = parse_rule_date(p, &tz->end)) || *p != '\0')
			return ERR_CONFIG;
	}
	tz->has_rule = true;
	return 0;
}

/* Local date (days since epoch) a rule date falls on in year y. */
static int64_t
rule_day(int64_t y, const struct tz_rule_date *rd)
{
	int64_t jan1 = pol_days_from_civil(y, 1, 1), first, last, day;
	int wd;

	if (rd->kind == 'J')
		return jan1 + rd->n - 1 + (is_leap(y) && rd->n >= 60);
	if (rd->kind == 'N')
		return jan1 + rd->n;
	first = pol_days_from_civil(y, (unsigned)rd->m, 1);
	last = (rd->m == 12 ? pol_days_from_civil(y + 1, 1, 1) :
	    pol_days_from_civil(y, (unsigned)rd->m + 1, 1)) - 1;
	wd = (int)(((first + 4) % 7 + 7) % 7);
	day = first + (rd->d - wd + 7) % 7 + (int64_t)(rd->w - 1) * 7;
	while (day > last)
		day -= 7;
	return day;
}

static int32_t
rule_offset(const struct pol_tz *tz, int64_t t)
{
	int64_t y, start, end;
	unsigned m, d;

	if (!tz->has_dst)
		return tz->std_off;
	pol_civil_from_days(floor_div(t + tz->std_off, 86400), &y, &m, &d);
	/* The change to DST is written in standard time, the change back in DST. */
	start = rule_day(y, &tz->start) * 86400 + tz->start.time_s - tz->std_off;
	end = rule_day(y, &tz->end) * 86400 + tz->end.time_s - tz->dst_off;
	if (start < end)
		return t >= start && t < end ? tz->dst_off : tz->std_off;
	return t >= end && t < start ? tz->std_off : tz->dst_off;
}

int32_t
pol_tz_offset(const struct pol_tz *tz, int64_t t)
{
	size_t lo = 0, hi;

	if (tz->ntrans == 0 || t < tz->trans[0]) {
		if (tz->ntrans == 0 && tz->has_rule)
			return rule_offset(tz, t);
		return tz->ntypes ? tz->utoff[0] : 0;
	}
	if (t >= tz->trans[tz->ntrans - 1] && tz->has_rule)
		return rule_offset(tz, t);
	hi = tz->ntrans;		/* invariant: trans[lo] <= t < trans[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->utoff[tz->tidx[lo]];
}

/* ---------------------------------------------------------------- TZif */

struct tzif_hdr {
	char version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int
tzif_header(const unsigned char *b, size_t len, size_t off, struct tzif_hdr *h)
{
	if (len - off < 44 || memcmp(b + off, "TZif", 4) != 0)
		return ERR_CONFIG;
	h->version = (char)b[off + 4];
	h->isutcnt = be32(b + off + 20);
	h->isstdcnt = be32(b + off + 24);
	h->leapcnt = be32(b + off + 28);
	h->timecnt = be32(b + off + 32);
	h->typecnt = be32(b + off + 36);
	h->charcnt = be32(b + off + 40);
	if (h->typecnt == 0 || h->typecnt > 256 || h->timecnt > 65536 || h->leapcnt > 65536 ||
	    h->charcnt > 65536 || h->isutcnt > 256 || h->isstdcnt > 256)
		return ERR_CONFIG;
	return 0;
}

static size_t
tzif_block_len(const struct tzif_hdr *h, size_t tsz)
{
	return h->timecnt * tsz + h->timecnt + h->typecnt * 6 + h->charcnt +
	    h->leapcnt * (tsz + 4) + h->isstdcnt + h->isutcnt;
}

static int
tzif_data(struct pol_tz *tz, const unsigned char *p, const struct tzif_hdr *h, size_t tsz)
{
	tz->ntrans = h->timecnt;
	tz->ntypes = h->typecnt;
	tz->trans = calloc(h->timecnt + 1, sizeof(*tz->trans));
	tz->tidx = calloc(h->timecnt + 1, 1);
	tz->utoff = calloc(h->typecnt, sizeof(*tz->utoff));
	if (!tz->trans || !tz->tidx || !tz->utoff)
		return -ENOMEM;
	for (size_t i = 0; i < h->timecnt; i++) {
		tz->trans[i] = tsz == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
			return ERR_CONFIG;
	}
	p += h->timecnt * tsz;
	for (size_t i = 0; i < h->timecnt; i++)
		if ((tz->tidx[i] = p[i]) >= h->typecnt)
			return ERR_CONFIG;
	p += h->timecnt;
	for (size_t i = 0; i < h->typecnt; i++) {
		tz->utoff[i] = (int32_t)be32(p + i * 6);
		if (tz->utoff[i] < -89999 || tz->utoff[i] > 93599)
			return ERR_CONFIG;
	}
	return 0;
}

static int
tzif_parse(struct pol_tz *tz, const unsigned char *b, size_t len)
{
	struct tzif_hdr h;
	size_t off = 0, blk;
	char footer[128];
	const unsigned char *nl;
	int r;

	if ((r = tzif_header(b, len, 0, &h)) < 0)
		return r;
	blk = tzif_block_len(&h, 4);
	if (len - 44 < blk)
		return ERR_CONFIG;
	if (h.version < '2')
		return tzif_data(tz, b + 44, &h, 4);
	off = 44 + blk;
	if ((r = tzif_header(b, len, off, &h)) < 0)
		return r;
	blk = tzif_block_len(&h, 8);
	if (len - off - 44 < blk)
		return ERR_CONFIG;
	if ((r = tzif_data(tz, b + off + 44, &h, 8)) < 0)
		return r;
	off += 44 + blk;
	/* Footer: "\n<POSIX TZ>\n"; empty means no rule. */
	if (off >= len || b[off] != '\n')
		return ERR_CONFIG;
	nl = memchr(b + off + 1, '\n', len - off - 1);
	if (nl == NULL || (size_t)(nl - (b + off + 1)) >= sizeof(footer))
		return ERR_CONFIG;
	memcpy(footer, b + off + 1, (size_t)(nl - (b + off + 1)));
	footer[nl - (b + off + 1)] = '\0';
	if (footer[0] != '\0' && tz_parse_posix(footer, tz) < 0)
		return ERR_CONFIG;
	return 0;
}

static bool
tz_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= LIM_NAME_MAX || name[0] == '/' || strstr(name, "..") != NULL)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '+' || *p == '/'))
			return false;
	return true;
}

static int
read_small_file(const char *path, unsigned char **out, size_t *outlen)
{
	struct stat st;
	unsigned char *b = NULL;
	size_t got = 0;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 44 || st.st_size > (off_t)LIM_POL_TZIF_MAX) {
		r = ERR_CONFIG;
		goto out;
	}
	if ((b = malloc((size_t)st.st_size)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : ERR_TRUNC;
			goto out;
		}
		got += (size_t)n;
	}
	*out = b, *outlen = got, b = NULL;
	r = 0;
out:
	free(b);
	close(fd);
	return r;
}

int
pol_tz_load(const char *dir, const char *name, struct pol_tz **out, const char **why)
{
	char path[PATH_MAX];
	unsigned char *buf = NULL;
	size_t len = 0;
	struct pol_tz *tz;
	int r;

	if (!tz_name_ok(name))
		return (*why = "not a time zone name"), ERR_CONFIG;
	if ((tz = calloc(1, sizeof(*tz))) == NULL)
		return -ENOMEM;
	snprintf(tz->name, sizeof(tz->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "/usr/share/zoneinfo", name);
	r = read_small_file(path, &buf, &len);
	if (r < 0 && (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)) {
		r = tz_parse_posix("UTC0", tz);	/* no tzdata needed for UTC */
	} else if (r < 0) {
		*why = r == -ENOENT ? "unknown time zone (no such file in the zoneinfo "
		    "directory)" : "time zone file cannot be read";
	} else if ((r = tzif_parse(tz, buf, len)) < 0) {
		*why = "time zone file is not valid TZif";
	}
	free(buf);
	if (r < 0) {
		pol_tz_free(tz);
		return r;
	}
	*out = tz;
	return 0;
}

void
pol_tz_free(struct pol_tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->trans);
	free(tz->tidx);
	free(tz->utoff);
	free(tz);
}

const char *
pol_tz_name(const struct pol_tz *tz)
{
	return tz->name;
}

int
pol_tz_from_posix(const char *name, const char *rule, struct pol_tz **out)
{
	struct pol_tz *tz;

	if ((tz = calloc(1, sizeof(*tz))) == NULL)
		return -ENOMEM;
	snprintf(tz->name, sizeof(tz->name), "%s", name);
	if (tz_parse_posix(rule, tz) < 0) {
		pol_tz_free(tz);
		return ERR_CONFIG;
	}
	*out = tz;
	return 0;
}
