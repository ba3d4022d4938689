/* Time zones: the TZif reader and the POSIX-rule footer against exact DST instants, and against
 * glibc's own localtime_r() (an independent implementation reading the same zoneinfo) over
 * 1970-2060, including the years past the last transition stored in the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "policy/pol_int.h"

static struct pol_tz *
tz(const char *name)
{
	struct pol_tz *z = NULL;
	const char *why = "";

	cr_assert(pol_tz_load(NULL, name, &z, &why) == 0, "load %s: %s", name, why);
	return z;
}

static int64_t
t_of(const char *s)
{
	int64_t ms;

	cr_assert(pol_time_parse(s, &ms) == 0, "%s", s);
	return ms / 1000;
}

/* Offsets one second before and at each change (exact instants from the tz database rules). */
static const struct {
	const char *zone, *at;
	int before, after;		/* seconds east of UTC */
} changes[] = {
	{ "Europe/Berlin", "2026-03-29T01:00:00Z", 3600, 7200 },
	{ "Europe/Berlin", "2026-10-25T01:00:00Z", 7200, 3600 },
	{ "Europe/Berlin", "2024-03-31T01:00:00Z", 3600, 7200 },
	{ "Europe/Berlin", "2024-10-27T01:00:00Z", 7200, 3600 },
	{ "Europe/Berlin", "1996-10-27T01:00:00Z", 7200, 3600 },
	{ "Europe/Berlin", "2038-03-28T01:00:00Z", 3600, 7200 },	/* footer rule */
	{ "Europe/Berlin", "2050-10-30T01:00:00Z", 7200, 3600 },
	{ "America/New_York", "2026-03-08T07:00:00Z", -18000, -14400 },
	{ "America/New_York", "2026-11-01T06:00:00Z", -14400, -18000 },
	{ "America/New_York", "2006-04-02T07:00:00Z", -18000, -14400 },	/* pre-2007 rule */
	{ "America/New_York", "2006-10-29T06:00:00Z", -14400, -18000 },
	{ "America/New_York", "2045-03-12T07:00:00Z", -18000, -14400 },
	{ "America/New_York", "2045-11-05T06:00:00Z", -14400, -18000 },
	{ "Australia/Sydney", "2026-04-04T16:00:00Z", 39600, 36000 },
	{ "Australia/Sydney", "2026-10-03T16:00:00Z", 36000, 39600 },
	{ "Australia/Sydney", "2040-03-31T16:00:00Z", 39600, 36000 },
	{ "Australia/Sydney", "2040-10-06T16:00:00Z", 36000, 39600 },
	{ "UTC", "2026-03-29T01:00:00Z", 0, 0 },
	{ "Etc/UTC", "2050-01-01T00:00:00Z", 0, 0 },
	{ "Asia/Kolkata", "2026-06-01T00:00:00Z", 19800, 19800 },
	{ "America/St_Johns", "2026-03-08T05:30:00Z", -12600, -9000 },
	{ "America/Sao_Paulo", "2026-01-01T00:00:00Z", -10800, -10800 },
};

Test(policy_tz, dst_instants)
{
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		struct pol_tz *z = tz(changes[i].zone);
		int64_t t = t_of(changes[i].at);

		cr_expect(pol_tz_offset(z, t - 1) == changes[i].before, "%s %s -1s: %d, want %d",
		    changes[i].zone, changes[i].at, pol_tz_offset(z, t - 1), changes[i].before);
		cr_expect(pol_tz_offset(z, t) == changes[i].after, "%s %s: %d, want %d",
		    changes[i].zone, changes[i].at, pol_tz_offset(z, t), changes[i].after);
		pol_tz_free(z);
	}
}

static const char *const oracle_zones[] = {
	"Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC", "Europe/London",
	"Asia/Kolkata", "America/St_Johns", "Pacific/Auckland", "America/Sao_Paulo",
	"Asia/Tehran", "Pacific/Chatham", "America/Godthab", "Africa/Casablanca", "Asia/Gaza",
};

/* Every 97 minutes from 1970 to 2060 (so every clock time gets visited), plus +-1 s around
 * glibc's own offset changes. */
Test(policy_tz, oracle_glibc, .timeout = 60)
{
	size_t checked = 0;

	for (size_t k = 0; k < sizeof(oracle_zones) / sizeof(oracle_zones[0]); k++) {
		struct pol_tz *z;
		const char *why = "";
		char path[256];
		long prev = 0;

		snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", oracle_zones[k]);
		if (access(path, R_OK) != 0)
			continue;	/* not every tzdata ships every link */
		cr_assert(pol_tz_load(NULL, oracle_zones[k], &z, &why) == 0, "%s: %s",
		    oracle_zones[k], why);
		setenv("TZ", oracle_zones[k], 1);
		tzset();
		for (int64_t t = 0; t < t_of("2060-01-01T00:00:00Z"); t += 97 * 60) {
			struct tm tm;
			time_t tt = (time_t)t;

			localtime_r(&tt, &tm);
			if (t > 0 && tm.tm_gmtoff != prev) {
				/* find the exact change between t - 97m and t */
				int64_t lo = t - 97 * 60, hi = t;

				while (hi - lo > 1) {
					int64_t mid = lo + (hi - lo) / 2;
					time_t mt = (time_t)mid;

					localtime_r(&mt, &tm);
					if (tm.tm_gmtoff == prev)
						lo = mid;
					else
						hi = mid;
				}
				cr_expect(pol_tz_offset(z, lo) == prev, "%s at %lld", oracle_zones[k],
				    (long long)lo);
				localtime_r(&(time_t){ (time_t)hi }, &tm);
				cr_expect(pol_tz_offset(z, hi) == tm.tm_gmtoff, "%s at %lld: %d vs %ld",
				    oracle_zones[k], (long long)hi, pol_tz_offset(z, hi), tm.tm_gmtoff);
				checked += 2;
				localtime_r(&tt, &tm);
			}
			prev = tm.tm_gmtoff;
			if (pol_tz_offset(z, t) != tm.tm_gmtoff) {
				cr_expect(0, "%s at %lld: %d vs glibc %ld", oracle_zones[k], (long long)t,
				    pol_tz_offset(z, t), tm.tm_gmtoff);
				break;
			}
			checked++;
		}
		pol_tz_free(z);
	}
	unsetenv("TZ");
	cr_log_info("%zu instants checked against glibc", checked);
	cr_assert(checked > 1000000);
}

/* A zone from its POSIX rule alone agrees with the TZif file wherever the rule applies. */
Test(policy_tz, posix_rule_matches_file)
{
	static const struct { const char *zone, *rule; } rules[] = {
		{ "Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3" },
		{ "America/New_York", "EST5EDT,M3.2.0,M11.1.0" },
		{ "Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3" },
		{ "Asia/Kolkata", "IST-5:30" },
		{ "America/St_Johns", "NST3:30NDT,M3.2.0,M11.1.0" },
	};

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct pol_tz *file = tz(rules[i].zone), *rule = NULL;

		cr_assert(pol_tz_from_posix(rules[i].zone, rules[i].rule, &rule) == 0, "%s",
		    rules[i].rule);
		for (int64_t t = t_of("2012-01-01T00:00:00Z"); t < t_of("2070-01-01T00:00:00Z");
		    t += 1800)
			if (pol_tz_offset(file, t) != pol_tz_offset(rule, t)) {
				cr_expect(0, "%s at %lld: file %d, rule %d", rules[i].zone,
				    (long long)t, pol_tz_offset(file, t), pol_tz_offset(rule, t));
				break;
			}
		pol_tz_free(file);
		pol_tz_free(rule);
	}
}

Test(policy_tz, posix_rule_forms)
{
	static const struct { const char *rule; const char *at; int off; } ok[] = {
		{ "UTC0", "2026-01-01T00:00:00Z", 0 },
		{ "<+0330>-3:30", "2026-01-01T00:00:00Z", 12600 },
		{ "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "2026-07-01T00:00:00Z", -7200 },
		{ "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "2026-01-01T00:00:00Z", -10800 },
		{ "EST5EDT,0/0,J365/25", "2026-07-01T00:00:00Z", -14400 },	/* DST all year */
		{ "XXX3YYY,J60/2,J300/2", "2026-03-02T12:00:00Z", -7200 },
		{ "XXX3YYY,59/2,300/2", "2026-03-01T12:00:00Z", -7200 },
		{ "EST5EDT", "2026-07-01T00:00:00Z", -14400 },			/* default US rule */
		{ "CET-1CEST-2,M3.5.0,M10.5.0/3", "2026-07-01T00:00:00Z", 7200 },
	};
	static const char *const bad[] = { "", "C1", "CET", "CET-1CEST,M13.1.0,M10.5.0",
		"CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,M3.5.0",
		"CET-1CEST,J0,J300", "CET-168", "<CET-1", "CET-1CEST,M3.5.0,M10.5.0/3x" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct pol_tz *z = NULL;

		cr_assert(pol_tz_from_posix("x", ok[i].rule, &z) == 0, "%s", ok[i].rule);
		cr_expect(pol_tz_offset(z, t_of(ok[i].at)) == ok[i].off, "%s at %s: %d, want %d",
		    ok[i].rule, ok[i].at, pol_tz_offset(z, t_of(ok[i].at)), ok[i].off);
		pol_tz_free(z);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pol_tz *z = NULL;

		cr_expect(pol_tz_from_posix("x", bad[i], &z) == ERR_CONFIG, "'%s' accepted", bad[i]);
		pol_tz_free(z);
	}
}

static void
write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f != NULL, "%s", path);
	cr_assert(fwrite(buf, 1, len, f) == len);
	fclose(f);
}

/* Bad names never reach the file system; broken files are refused, never half-read. */
Test(policy_tz, refused)
{
	static const char *const names[] = { "../etc/passwd", "/etc/localtime", "Europe/../UTC",
		"Europe/Berlin\n", "", "Europe Berlin", "No/Such_Zone" };
	char dir[] = "/tmp/pol-tz-XXXXXX", path[512];
	unsigned char buf[4096];
	FILE *f;
	size_t n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct pol_tz *z = NULL;
		const char *why = "";

		cr_expect(pol_tz_load(NULL, names[i], &z, &why) < 0, "'%s' loaded", names[i]);
		cr_expect(z == NULL);
	}
	cr_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/Junk", dir);
	{
		static const char junk[] = "not a tzif file at all, but long enough to have a header";

		write_file(path, junk, sizeof(junk) - 1);
	}
	f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
	cr_assert(f != NULL);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/Cut", dir);
	write_file(path, buf, n / 2);
	buf[n - 5] = 'Q';	/* breaks the footer's POSIX rule */
	snprintf(path, sizeof(path), "%s/BadFooter", dir);
	write_file(path, buf, n);
	for (const char *const *nm = (const char *const[]){ "Junk", "Cut", "BadFooter", NULL }; *nm;
	    nm++) {
		struct pol_tz *z = NULL;
		const char *why = "";

		cr_expect(pol_tz_load(dir, *nm, &z, &why) == ERR_CONFIG, "%s loaded", *nm);
		cr_expect(strstr(why, "not valid TZif") != NULL, "%s: %s", *nm, why);
		snprintf(path, sizeof(path), "%s/%s", dir, *nm);
		unlink(path);
	}
	rmdir(dir);
	/* UTC needs no file at all */
	{
		struct pol_tz *z = NULL;
		const char *why = "";

		cr_assert(pol_tz_load("/nonexistent", "UTC", &z, &why) == 0);
		cr_expect(pol_tz_offset(z, t_of("2026-07-01T00:00:00Z")) == 0);
		pol_tz_free(z);
	}
}

Test(policy_tz, time_parse_format)
{
	static const struct { const char *s; int64_t ms; } ok[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2026-03-29T01:00:00Z", 1774746000000LL },
		{ "2026-03-29T03:00:00+02:00", 1774746000000LL },
		{ "2026-03-28T20:00:00-05:00", 1774746000000LL },
		{ "2026-03-29T01:00:00.250Z", 1774746000250LL },
		{ "2026-03-29t01:00:00.2z", 1774746000200LL },
		{ "2026-03-29 01:00:00Z", 1774746000000LL },
		{ "1969-12-31T23:59:59Z", -1000 },
		{ "2024-02-29T00:00:00Z", 1709164800000LL },
	};
	static const char *const bad[] = { "2026-03-29", "2026-03-29T01:00:00", "2026-13-01T00:00:00Z",
		"2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-03-29T24:00:00Z",
		"2026-03-29T01:00:00+2:00", "2026-03-29T01:00:00Zjunk", "2026-03-29T01:00:00.Z", "" };
	char buf[32];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t ms = 0;

		cr_expect(pol_time_parse(ok[i].s, &ms) == 0 && ms == ok[i].ms, "%s: %lld", ok[i].s,
		    (long long)ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms;

		cr_expect(pol_time_parse(bad[i], &ms) < 0, "'%s' accepted", bad[i]);
	}
	pol_time_format(1774746000250LL, buf);
	cr_expect_str_eq(buf, "2026-03-29T01:00:00.250Z");
	pol_time_format(-1, buf);
	cr_expect_str_eq(buf, "1969-12-31T23:59:59.999Z");
}
