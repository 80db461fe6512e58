/* test_tzone.c - TZif files and POSIX TZ footers (common/tzone.c): zones
 * from /usr/share/zoneinfo at known transitions, far past the last one,
 * and TZif bytes built here so that the results do not hang on the
 * machine's tzdata release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strbuf.h"
#include "tz_testlib.h"
#include "tzone.h"
#include "util.h"

#define H 3600

static void test_civil(void **s)
{
	int64_t y;
	int m, d;
	(void)s;
	assert_int_equal(tzone_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(tzone_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(tzone_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(tzone_weekday(tzone_days_from_civil(2026, 12, 5)),
			 6);
	assert_int_equal(tzone_month_days(2024, 2), 29);
	assert_int_equal(tzone_month_days(2100, 2), 28);
	assert_int_equal(tzone_month_days(2000, 2), 29);
	/* Round trips over four centuries each side of the epoch. */
	for (int64_t day = -300000; day < 300000; day += 7) {
		tzone_civil_from_days(day, &y, &m, &d);
		assert_int_equal(tzone_days_from_civil(y, m, d), day);
	}
	tzone_civil_from_days(tzone_days_from_civil(-4713, 11, 24), &y, &m,
			      &d);
	assert_true(y == -4713 && m == 11 && d == 24);
}

static void test_offsets(void **s)
{
	struct tzone *z;
	(void)s;
	z = tz_load("Europe/Berlin");
	assert_string_equal(tzone_name(z), "Europe/Berlin");
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 29, 1, 0) - 1), H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 29, 1, 0)), 2 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 10, 25, 1, 0) - 1), 2 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 10, 25, 1, 0)), H);
	/* Past the file's transitions (2037): the footer's rule. */
	assert_int_equal(tzone_offset(z, tz_utc(2060, 1, 15, 12, 0)), H);
	assert_int_equal(tzone_offset(z, tz_utc(2060, 7, 15, 12, 0)), 2 * H);
	/* 2060-03-28 is the last Sunday of March. */
	assert_int_equal(tzone_offset(z, tz_utc(2060, 3, 28, 1, 0) - 1), H);
	assert_int_equal(tzone_offset(z, tz_utc(2060, 3, 28, 1, 0)), 2 * H);
	tzone_free(z);

	z = tz_load("America/New_York");
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 8, 7, 0) - 1), -5 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 8, 7, 0)), -4 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 11, 1, 6, 0) - 1), -4 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 11, 1, 6, 0)), -5 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2099, 7, 4, 0, 0)), -4 * H);
	tzone_free(z);

	/* +10:30, and +11 from the first Sunday of October to the first
	 * Sunday of April, changing at 02:00 local. */
	z = tz_load("Australia/Lord_Howe");
	assert_int_equal(tzone_offset(z, tz_utc(2026, 4, 4, 15, 0) - 1),
			 11 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 4, 4, 15, 0)),
			 10 * H + 1800);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 10, 3, 15, 30) - 1),
			 10 * H + 1800);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 10, 3, 15, 30)), 11 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2060, 1, 1, 0, 0)), 11 * H);
	tzone_free(z);

	z = tz_load("Asia/Kolkata");
	assert_int_equal(tzone_offset(z, tz_utc(2026, 6, 1, 0, 0)), 5 * H + 1800);
	assert_int_equal(tzone_offset(z, tz_utc(2060, 6, 1, 0, 0)), 5 * H + 1800);
	tzone_free(z);

	z = tz_load("UTC");
	assert_int_equal(tzone_offset(z, tz_utc(2026, 6, 1, 0, 0)), 0);
	assert_int_equal(tzone_offset(z, INT64_MIN), 0);
	assert_int_equal(tzone_offset(z, INT64_MAX), 0);
	tzone_free(z);

	/* Negative DST in tzdata's default build: winter (GMT) is the
	 * daylight time, its footer "IST-1GMT0,M10.5.0,M3.5.0/1". */
	z = tz_load("Europe/Dublin");
	assert_int_equal(tzone_offset(z, tz_utc(2026, 1, 15, 0, 0)), 0);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 7, 15, 0, 0)), H);
	assert_int_equal(tzone_offset(z, tz_utc(2060, 1, 15, 0, 0)), 0);
	assert_int_equal(tzone_offset(z, tz_utc(2060, 7, 15, 0, 0)), H);
	tzone_free(z);
}

static void test_local_to_utc(void **s)
{
	struct tzone *z;
	int64_t out[2], gap;
	(void)s;
	z = tz_load("Europe/Berlin");
	/* Ordinary. */
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 6, 1, 12, 0), out,
					    &gap), 1);
	assert_int_equal(out[0], tz_utc(2026, 6, 1, 10, 0));
	/* Skipped: 02:30 on 2026-03-29; the gap ends at 01:00 UTC. */
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 3, 29, 2, 30), out,
					    &gap), 0);
	assert_int_equal(gap, tz_utc(2026, 3, 29, 1, 0));
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 3, 29, 2, 0), out,
					    &gap), 0);
	assert_int_equal(gap, tz_utc(2026, 3, 29, 1, 0));
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 3, 29, 3, 0), out,
					    &gap), 1);
	assert_int_equal(out[0], tz_utc(2026, 3, 29, 1, 0));
	/* Repeated: 02:30 on 2026-10-25, at 00:30 and 01:30 UTC. */
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 10, 25, 2, 30), out,
					    &gap), 2);
	assert_int_equal(out[0], tz_utc(2026, 10, 25, 0, 30));
	assert_int_equal(out[1], tz_utc(2026, 10, 25, 1, 30));
	/* Far future, through the footer. */
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2060, 3, 28, 2, 15), out,
					    &gap), 0);
	assert_int_equal(gap, tz_utc(2060, 3, 28, 1, 0));
	tzone_free(z);

	z = tz_load("America/New_York");
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 3, 8, 2, 30), out,
					    &gap), 0);
	assert_int_equal(gap, tz_utc(2026, 3, 8, 7, 0));
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 11, 1, 1, 30), out,
					    &gap), 2);
	assert_int_equal(out[0], tz_utc(2026, 11, 1, 5, 30));
	assert_int_equal(out[1], tz_utc(2026, 11, 1, 6, 30));
	tzone_free(z);

	/* Half-hour DST: 02:00-02:30 skipped, 01:30-02:00 repeated. */
	z = tz_load("Australia/Lord_Howe");
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 10, 4, 2, 15), out,
					    &gap), 0);
	assert_int_equal(gap, tz_utc(2026, 10, 3, 15, 30));
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 10, 4, 2, 30), out,
					    &gap), 1);
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 4, 5, 1, 45), out,
					    &gap), 2);
	assert_int_equal(out[0], tz_utc(2026, 4, 4, 14, 45));
	assert_int_equal(out[1], tz_utc(2026, 4, 4, 15, 15));
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 4, 5, 2, 0), out,
					    &gap), 1);
	tzone_free(z);

	/* Negative DST changes hands the same way as any other. */
	z = tz_load("Europe/Dublin");
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 3, 29, 1, 30), out,
					    &gap), 0);
	assert_int_equal(gap, tz_utc(2026, 3, 29, 1, 0));
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2026, 10, 25, 1, 30), out,
					    &gap), 2);
	assert_int_equal(out[0], tz_utc(2026, 10, 25, 0, 30));
	tzone_free(z);
}

/* TZif version 2+ bytes: a minimal version-1 block (which readers of
 * version 2 skip), then the 64-bit block and the footer. ver 0 writes
 * the version-1 block only, with 32-bit times. */
static uint8_t *tzif(size_t *len, char ver, size_t nt, const int64_t *t,
		     const uint8_t *ix, size_t ntypes, const int32_t *off,
		     const char *footer)
{
	struct strbuf sb = STRBUF_INIT;
	size_t tsize = ver ? 8 : 4;
	uint8_t hdr[44] = "TZif";
	uint8_t b[8];

	hdr[4] = (uint8_t)ver;
	if (ver) {
		/* 1 type, 1 char; one 6-byte ttinfo and a NUL. */
		hdr[20 + 4 * 4 + 3] = 1;
		hdr[20 + 5 * 4 + 3] = 1;
		strbuf_add(&sb, hdr, sizeof(hdr));
		strbuf_add(&sb, "\0\0\0\0\0\0\0", 7);
	}
	memset(hdr + 20, 0, 24);
	hdr[20 + 3 * 4 + 2] = (uint8_t)(nt >> 8);
	hdr[20 + 3 * 4 + 3] = (uint8_t)nt;
	hdr[20 + 4 * 4 + 3] = (uint8_t)ntypes;
	hdr[20 + 5 * 4 + 3] = 4;
	strbuf_add(&sb, hdr, sizeof(hdr));
	for (size_t i = 0; i < nt; i++) {
		for (size_t k = 0; k < tsize; k++)
			b[k] = (uint8_t)((uint64_t)t[i] >>
					 (8 * (tsize - 1 - k)));
		strbuf_add(&sb, b, tsize);
	}
	if (nt)
		strbuf_add(&sb, ix, nt);
	for (size_t i = 0; i < ntypes; i++) {
		uint32_t u = (uint32_t)off[i];
		uint8_t ti[6] = { (uint8_t)(u >> 24), (uint8_t)(u >> 16),
				  (uint8_t)(u >> 8), (uint8_t)u, 0, 0 };
		strbuf_add(&sb, ti, 6);
	}
	strbuf_add(&sb, "XYZ", 4);
	if (ver) {
		strbuf_addch(&sb, '\n');
		strbuf_addstr(&sb, footer);
		strbuf_addch(&sb, '\n');
	}
	return (uint8_t *)strbuf_detach(&sb, len);
}

static struct tzone *parse_ok(const uint8_t *buf, size_t len)
{
	struct tzone *z = NULL;
	char err[256];

	if (tzone_parse(buf, len, "test", &z, err, sizeof(err)))
		fail_msg("%s", err);
	return z;
}

/* A zone with no transitions at all, only a footer (as a slim file may
 * be): the rule gives every offset. */
static struct tzone *footer_zone(const char *footer)
{
	int32_t off = 0;
	size_t len;
	uint8_t *buf = tzif(&len, '2', 0, NULL, NULL, 1, &off, footer);
	struct tzone *z = parse_ok(buf, len);

	free(buf);
	return z;
}

static void test_footers(void **s)
{
	struct tzone *z;
	int64_t out[2], gap;
	(void)s;
	z = footer_zone("CET-1CEST,M3.5.0,M10.5.0/3");
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 29, 1, 0) - 1), H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 29, 1, 0)), 2 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 10, 25, 1, 0) - 1), 2 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 10, 25, 1, 0)), H);
	assert_int_equal(tzone_offset(z, tz_utc(1900, 7, 1, 0, 0)), 2 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2400, 1, 1, 0, 0)), H);
	tzone_free(z);

	z = footer_zone("<+0330>-3:30");
	assert_int_equal(tzone_offset(z, 0), 3 * H + 1800);
	tzone_free(z);
	z = footer_zone("<-03>3");
	assert_int_equal(tzone_offset(z, 0), -3 * H);
	tzone_free(z);

	z = footer_zone("EST5EDT,M3.2.0,M11.1.0");
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 8, 7, 0) - 1), -5 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 8, 7, 0)), -4 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 11, 1, 6, 0)), -5 * H);
	tzone_free(z);

	/* Greenland since 2023: times before midnight, as negative hours. */
	z = footer_zone("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
	/* "-1" on Sunday 2026-03-29 is 23:00 on the 28th local (-02), which
	 * is 01:00 UTC on the 29th. */
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 29, 1, 0) - 1), -2 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 29, 1, 0)), -1 * H);
	tzone_free(z);

	/* Jn never counts February 29: J60 is March 1 in any year. n
	 * counts from 0 and does: 59 is Feb 29 in a leap year. */
	z = footer_zone("AAA0BBB,J60/0,J300/0");
	assert_int_equal(tzone_offset(z, tz_utc(2028, 3, 1, 0, 0) - 1), 0);
	assert_int_equal(tzone_offset(z, tz_utc(2028, 3, 1, 0, 0)), H);
	tzone_free(z);
	z = footer_zone("AAA0BBB,59/0,300/0");
	assert_int_equal(tzone_offset(z, tz_utc(2028, 2, 29, 0, 0) - 1), 0);
	assert_int_equal(tzone_offset(z, tz_utc(2028, 2, 29, 0, 0)), H);
	assert_int_equal(tzone_offset(z, tz_utc(2027, 3, 1, 0, 0)), H);
	tzone_free(z);

	/* Daylight time all year (RFC 8536's example). */
	z = footer_zone("EST5EDT,0/0,J365/25");
	for (int mo = 1; mo <= 12; mo++)
		assert_int_equal(tzone_offset(z, tz_utc(2026, mo, 1, 5, 0)),
				 -4 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2027, 1, 1, 4, 0)), -4 * H);
	assert_int_equal(tzone_local_to_utc(z, tz_utc(2027, 1, 1, 0, 30), out,
					    &gap), 1);
	tzone_free(z);

	/* Daylight time ending in the next year, after the next one has
	 * started: the state at an instant comes from the changes of the
	 * years around it, however their order falls. */
	z = footer_zone("EST5EDT,0/0,J364/50");
	assert_int_equal(tzone_offset(z, -1), tzone_offset(z, 0));
	assert_int_equal(tzone_offset(z, tz_utc(2026, 6, 1, 0, 0)), -5 * H);
	tzone_free(z);

	/* A /time past 24 hours: the change is on the next day. */
	z = footer_zone("AAA0BBB,M3.5.0/26,M10.5.0/0");
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 30, 2, 0) - 1), 0);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 3, 30, 2, 0)), H);
	tzone_free(z);

	/* Southern hemisphere: DST across the new year. */
	z = footer_zone("AEST-10AEDT,M10.1.0,M4.1.0/3");
	assert_int_equal(tzone_offset(z, tz_utc(2026, 1, 1, 0, 0)), 11 * H);
	assert_int_equal(tzone_offset(z, tz_utc(2026, 7, 1, 0, 0)), 10 * H);
	tzone_free(z);
}

static void test_tzif_bytes(void **s)
{
	const int64_t t[] = { tz_utc(2000, 1, 1, 0, 0), tz_utc(2010, 1, 1, 0, 0) };
	const uint8_t ix[] = { 1, 0 };
	const int32_t off[] = { 3600, 7200 };
	struct tzone *z;
	uint8_t *buf;
	size_t len;
	char err[256];
	(void)s;
	/* Version 2: two transitions, then the footer (UTC+3). */
	buf = tzif(&len, '2', 2, t, ix, 2, off, "<+03>-3");
	z = parse_ok(buf, len);
	assert_int_equal(tzone_offset(z, tz_utc(1990, 1, 1, 0, 0)), 3600);
	assert_int_equal(tzone_offset(z, tz_utc(2005, 1, 1, 0, 0)), 7200);
	assert_int_equal(tzone_offset(z, tz_utc(2010, 1, 1, 0, 0) + 1), 3 * H);
	tzone_free(z);
	/* Every truncation is refused, with the zone named. */
	for (size_t n = 0; n < len - 1; n++) {
		assert_int_equal(tzone_parse(buf, n, "cut", &z, err,
					     sizeof(err)), -1);
		assert_non_null(strstr(err, "time zone 'cut': "));
	}
	/* A transition's type out of range. */
	buf[44 + 7 + 44 + 16] = 5;
	assert_int_equal(tzone_parse(buf, len, "x", &z, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "type out of range"));
	free(buf);
	/* Not ascending. */
	{
		const int64_t bad[] = { t[1], t[0] };
		buf = tzif(&len, '3', 2, bad, ix, 2, off, "");
		assert_int_equal(tzone_parse(buf, len, "x", &z, err,
					     sizeof(err)), -1);
		assert_non_null(strstr(err, "ascending"));
		free(buf);
	}
	/* A bad footer. */
	buf = tzif(&len, '4', 2, t, ix, 2, off, "CET-1CEST,M13.5.0,M10.5.0");
	assert_int_equal(tzone_parse(buf, len, "x", &z, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "footer"));
	free(buf);
	/* An empty footer: the last type stays in force. */
	buf = tzif(&len, '2', 2, t, ix, 2, off, "");
	z = parse_ok(buf, len);
	assert_int_equal(tzone_offset(z, tz_utc(2090, 1, 1, 0, 0)), 3600);
	tzone_free(z);
	free(buf);
	/* Version 1: 32-bit times, no footer. */
	buf = tzif(&len, 0, 2, t, ix, 2, off, NULL);
	z = parse_ok(buf, len);
	assert_int_equal(tzone_offset(z, tz_utc(2005, 1, 1, 0, 0)), 7200);
	assert_int_equal(tzone_offset(z, tz_utc(2011, 1, 1, 0, 0)), 3600);
	tzone_free(z);
	free(buf);
	assert_int_equal(tzone_parse((const uint8_t *)"TZjf", 4, "x", &z, err,
				     sizeof(err)), -1);
}

static void test_system_files(void **s)
{
	static const char *const names[] = {
		"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
		"Asia/Kolkata", "Europe/Dublin", "America/Sao_Paulo",
		"Pacific/Chatham", "Africa/Casablanca", "Etc/GMT-14",
	};
	(void)s;
	/* Every hour from 2020 to 2070: each instant's local time maps
	 * back to it (or to an earlier instant with that wall time). */
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct tzone *z = tz_load(names[i]);
		for (int64_t t = tz_utc(2020, 1, 1, 0, 0);
		     t < tz_utc(2070, 1, 1, 0, 0); t += 3 * H + 17 * 60) {
			int64_t out[2], gap, l = t + tzone_offset(z, t);
			int n = tzone_local_to_utc(z, l, out, &gap);
			assert_true(n == 1 || n == 2);
			assert_true(out[0] == t || (n == 2 && out[1] == t));
		}
		tzone_free(z);
	}
}

static void test_names_and_errors(void **s)
{
	static const char *const bad[] = {
		"../etc/passwd", "/etc/localtime", "", "Europe/../../x",
		"a b", "Europe/Berlin\n",
		"x123456789012345678901234567890123456789012345678901234567890"
		"1234567890",
	};
	char dir[] = "/tmp/test_tzone.XXXXXX";
	struct tzone *z = NULL;
	char err[256];
	(void)s;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(tzone_load(bad[i], &z, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "bad time zone name"));
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(tzone_load("Mars/Base", &z, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown time zone 'Mars/Base': no such "
				 "file in /usr/share/zoneinfo");
	if (access("/usr/share/zoneinfo/right/UTC", R_OK) == 0) {
		assert_int_equal(tzone_load("right/UTC", &z, err,
					    sizeof(err)), -1);
		assert_non_null(strstr(err, "leap seconds"));
	}
	assert_int_equal(tzone_load("Europe", &z, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown time zone 'Europe'"));
	/* UTC needs no file. */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(setenv("TZDIR", dir, 1), 0);
	assert_int_equal(tzone_load("Europe/Berlin", &z, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, dir));
	z = tz_load("UTC");
	assert_int_equal(tzone_offset(z, 1000000000), 0);
	tzone_free(z);
	z = tz_load("Etc/UTC");
	assert_string_equal(tzone_name(z), "Etc/UTC");
	tzone_free(z);
	assert_int_equal(unsetenv("TZDIR"), 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_local_to_utc),
		cmocka_unit_test(test_footers),
		cmocka_unit_test(test_tzif_bytes),
		cmocka_unit_test(test_system_files),
		cmocka_unit_test(test_names_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
