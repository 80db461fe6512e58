/* test_cron.c - cron expressions (common/cron.c): the parser's forms and
 * refusals, firings across daylight-saving changes, and a year of
 * firings held against a brute-force walk over every minute. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "tz_testlib.h"
#include "tzone.h"
#include "util.h"

#define H 3600

static struct cron_spec spec(const char *expr)
{
	struct cron_spec c;
	char err[256];

	if (cron_parse(expr, &c, err, sizeof(err)))
		fail_msg("%s: %s", expr, err);
	return c;
}

static uint64_t bits(int lo, int hi, int step)
{
	uint64_t b = 0;
	for (int i = lo; i <= hi; i += step)
		b |= (uint64_t)1 << i;
	return b;
}

static void test_parse_valid(void **s)
{
	struct cron_spec c;
	(void)s;
	c = spec("* * * * *");
	assert_true(c.minutes == bits(0, 59, 1) && c.hours == bits(0, 23, 1));
	assert_true(c.mdays == bits(1, 31, 1) && c.months == bits(1, 12, 1));
	assert_true(c.wdays == 0x7f && c.mday_star && c.wday_star);
	c = spec("  5,10-12,*/20 1-23/2 1,15 jan-MAR,Dec mon-fri  ");
	assert_true(c.minutes == (bits(0, 59, 20) | 1u << 5 | bits(10, 12, 1)));
	assert_true(c.hours == bits(1, 23, 2));
	assert_true(c.mdays == ((1u << 1) | (1u << 15)));
	assert_true(c.months == (bits(1, 3, 1) | 1u << 12));
	assert_true(c.wdays == bits(1, 5, 1));
	assert_false(c.mday_star || c.wday_star);
	/* 7 is Sunday, alone and ending a range. */
	assert_int_equal(spec("0 0 * * 7").wdays, 1);
	assert_int_equal(spec("0 0 * * 5-7").wdays, 0x61);
	assert_int_equal(spec("0 0 * * SUN,sat").wdays, 0x41);
	/* A step over '*' still counts as '*' for the day rule. */
	c = spec("0 0 */2 * 1");
	assert_true(c.mday_star && !c.wday_star);
	assert_int_equal(c.mdays, bits(1, 31, 2));
	assert_int_equal(spec("0\t0\t1\t1\t*").months, 2);
	/* Macros. */
	c = spec("@yearly");
	assert_true(c.minutes == 1 && c.hours == 1 && c.mdays == 2 &&
		    c.months == 2 && c.wday_star);
	assert_int_equal(spec("@annually").months, 2);
	c = spec("@monthly");
	assert_true(c.mdays == 2 && c.months == bits(1, 12, 1));
	c = spec("@weekly");
	assert_true(c.wdays == 1 && c.mday_star && !c.wday_star);
	c = spec(" @daily ");
	assert_true(c.minutes == 1 && c.hours == 1 && c.mdays == bits(1, 31, 1));
	assert_int_equal(spec("@midnight").hours, 1);
	c = spec("@hourly");
	assert_true(c.minutes == 1 && c.hours == bits(0, 23, 1));
	assert_int_equal(spec("*/60 * * * *").minutes, 1);
}

static void test_parse_invalid(void **s)
{
	static const struct {
		const char *expr, *err;
	} bad[] = {
		{ "0 25 * * *", "cron: hour field '25': 25 is out of range "
				"0-23" },
		{ "0 0 * *", "cron: expected 5 fields, got 4" },
		{ "0 0 * * * *", "cron: expected 5 fields, got 6" },
		{ "", "cron: expected 5 fields, got 0" },
		{ "0 0 * * fri-mon", "cron: day-of-week field 'fri-mon': "
				     "range start after end" },
		{ "*/0 * * * *", "cron: minute field '*/0': step 0" },
		{ "1,,2 * * * *", "cron: minute field '1,,2': empty list "
				  "item" },
		{ "1, * * * *", "cron: minute field '1,': empty list item" },
		{ ",1 * * * *", "cron: minute field ',1': empty list item" },
		{ "0 0 * foo *", "cron: month field 'foo': unknown name "
				 "'foo'" },
		{ "0 0 * * monday", "cron: day-of-week field 'monday': "
				    "unknown name 'monday'" },
		{ "0 0 mon * *", "cron: day-of-month field 'mon': unknown "
				 "name 'mon'" },
		{ "5x * * * *", "cron: minute field '5x': unexpected 'x'" },
		{ "0 0 0 * *", "cron: day-of-month field '0': 0 is out of "
			       "range 1-31" },
		{ "0 0 * 13 *", "cron: month field '13': 13 is out of range "
				"1-12" },
		{ "0 0 * * 8", "cron: day-of-week field '8': 8 is out of "
			       "range 0-7" },
		{ "60 * * * *", "cron: minute field '60': 60 is out of range "
				"0-59" },
		{ "5/15 * * * *", "cron: minute field '5/15': a step needs" },
		{ "*/ * * * *", "cron: minute field '*/': a step needs a "
				"number" },
		{ "1-2-3 * * * *", "cron: minute field '1-2-3': unexpected "
				   "'-'" },
		{ "-1 * * * *", "cron: minute field '-1': unexpected '-'" },
		{ "1- * * * *", "cron: minute field '1-': empty list item" },
		{ "0 0 * * 1/2x", "cron: day-of-week field '1/2x'" },
		{ "99999999 * * * *", "cron: minute field '99999999': number "
				      "too large" },
		{ "@reboot", "cron: @reboot is not supported" },
		{ "@daily 0", "cron: '@daily' takes no fields" },
		{ "@often", "cron: unknown macro '@often'" },
		{ "0 0 * * *\n", "cron: control character" },
	};
	char err[256], longer[CRON_EXPR_MAX + 8];
	struct cron_spec c;
	(void)s;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (cron_parse(bad[i].expr, &c, err, sizeof(err)) != -1)
			fail_msg("'%s' was accepted", bad[i].expr);
		if (strncmp(err, bad[i].err, strlen(bad[i].err)))
			fail_msg("'%s': got \"%s\", want \"%s\"", bad[i].expr,
				 err, bad[i].err);
	}
	memset(longer, ' ', sizeof(longer));
	memcpy(longer, "* * * * *", 9);
	longer[CRON_EXPR_MAX + 1] = '\0';
	assert_int_equal(cron_parse(longer, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 128"));
	longer[CRON_EXPR_MAX] = '\0';
	assert_int_equal(cron_parse(longer, &c, err, sizeof(err)), 0);
}

/* The n firings after `after` (seconds), in seconds. */
static void firings(const char *expr, const struct tzone *z, int64_t after,
		    int64_t *out, int n)
{
	struct cron_spec c = spec(expr);
	int64_t t = after * 1000;

	for (int i = 0; i < n; i++) {
		t = cron_next(&c, z, t);
		assert_true(t != INT64_MAX);
		out[i] = t / 1000;
	}
}

/* How many firings fall in [from, to) (seconds). */
static int count(const char *expr, const struct tzone *z, int64_t from,
		 int64_t to)
{
	struct cron_spec c = spec(expr);
	int64_t t = from * 1000 - 1;
	int n = 0;

	while ((t = cron_next(&c, z, t)) < to * 1000)
		n++;
	return n;
}

static void test_next_basic(void **s)
{
	struct cron_spec c;
	int64_t f[4];
	(void)s;
	/* UTC (NULL), strictly after. */
	firings("30 2 * * *", NULL, tz_utc(2026, 1, 1, 2, 30), f, 2);
	assert_int_equal(f[0], tz_utc(2026, 1, 2, 2, 30));
	assert_int_equal(f[1], tz_utc(2026, 1, 3, 2, 30));
	c = spec("* * * * *");
	assert_int_equal(cron_next(&c, NULL, tz_utc(2026, 1, 1, 0, 0) * 1000 - 1),
			 tz_utc(2026, 1, 1, 0, 0) * 1000);
	assert_int_equal(cron_next(&c, NULL, tz_utc(2026, 1, 1, 0, 0) * 1000),
			 tz_utc(2026, 1, 1, 0, 1) * 1000);
	assert_int_equal(cron_next(&c, NULL, -1), 0);
	assert_int_equal(cron_next(&c, NULL, -60001), -60000);
	/* Feb 29 only. */
	firings("0 12 29 2 *", NULL, tz_utc(2026, 1, 1, 0, 0), f, 2);
	assert_int_equal(f[0], tz_utc(2028, 2, 29, 12, 0));
	assert_int_equal(f[1], tz_utc(2032, 2, 29, 12, 0));
	/* Never. */
	c = spec("0 0 30 2 *");
	assert_int_equal(cron_next(&c, NULL, 0), INT64_MAX);
	c = spec("0 0 31 4,6,9,11 *");
	assert_int_equal(cron_next(&c, NULL, 0), INT64_MAX);
	/* The OR rule: the 13th or a Friday; '*' makes it AND. */
	firings("0 0 13 * fri", NULL, tz_utc(2026, 12, 5, 0, 0), f, 3);
	assert_int_equal(f[0], tz_utc(2026, 12, 11, 0, 0));
	assert_int_equal(f[1], tz_utc(2026, 12, 13, 0, 0));
	assert_int_equal(f[2], tz_utc(2026, 12, 18, 0, 0));
	firings("0 0 */10 * fri", NULL, tz_utc(2026, 12, 5, 0, 0), f, 2);
	assert_int_equal(f[0], tz_utc(2026, 12, 11, 0, 0));
	assert_int_equal(f[1], tz_utc(2027, 1, 1, 0, 0));
	c = spec("0 0 1 1 *");
	assert_int_equal(cron_next(&c, NULL, INT64_MAX), INT64_MAX);
	assert_true(cron_next(&c, NULL, INT64_MIN) > INT64_MIN);
	/* Asia/Kolkata: +05:30. */
	{
		struct tzone *z = tz_load("Asia/Kolkata");
		firings("0 9 * * *", z, tz_utc(2026, 6, 1, 0, 0), f, 1);
		assert_int_equal(f[0], tz_utc(2026, 6, 1, 3, 30));
		tzone_free(z);
	}
}

static void test_next_dst(void **s)
{
	struct tzone *z = tz_load("Europe/Berlin");
	struct cron_spec c;
	int64_t f[4];
	(void)s;
	/* Spring: 02:30 does not exist on 2026-03-29; it fires once, at
	 * the end of the gap (03:00 CEST = 01:00 UTC). */
	firings("30 2 * * *", z, tz_utc(2026, 3, 28, 12, 0), f, 3);
	assert_int_equal(f[0], tz_utc(2026, 3, 29, 1, 0));
	assert_int_equal(f[1], tz_utc(2026, 3, 30, 0, 30));
	/* Autumn: 02:30 happens twice on 2026-10-25; it fires the first
	 * time (CEST, 00:30 UTC) only. */
	firings("30 2 * * *", z, tz_utc(2026, 10, 24, 12, 0), f, 2);
	assert_int_equal(f[0], tz_utc(2026, 10, 25, 0, 30));
	assert_int_equal(f[1], tz_utc(2026, 10, 26, 1, 30));
	/* Every quarter hour: 02:00-02:45 skipped fire together at the
	 * gap's end, with 03:00. */
	firings("*/15 * * * *", z, tz_utc(2026, 3, 29, 0, 40), f, 3);
	assert_int_equal(f[0], tz_utc(2026, 3, 29, 0, 45));
	assert_int_equal(f[1], tz_utc(2026, 3, 29, 1, 0));
	assert_int_equal(f[2], tz_utc(2026, 3, 29, 1, 15));
	/* The local day of 2026-03-29 has 23 hours: 96 quarter hours, the
	 * four skipped ones merged into 03:00's firing. */
	assert_int_equal(count("*/15 * * * *", z, tz_utc(2026, 3, 28, 23, 0),
			       tz_utc(2026, 3, 29, 22, 0)), 92);
	/* The local day of 2026-10-25 has 25 hours and still 96 quarter
	 * hours of wall time: each fires once. */
	assert_int_equal(count("*/15 * * * *", z, tz_utc(2026, 10, 24, 22, 0),
			       tz_utc(2026, 10, 25, 23, 0)), 96);
	/* Hourly: 24 wall hours over 25 real ones (02:00 fires once), and
	 * 23 over the short day (02:00 merges with 03:00). */
	assert_int_equal(count("0 * * * *", z, tz_utc(2026, 10, 24, 22, 0),
			       tz_utc(2026, 10, 25, 23, 0)), 24);
	assert_int_equal(count("0 * * * *", z, tz_utc(2026, 3, 28, 23, 0),
			       tz_utc(2026, 3, 29, 22, 0)), 23);
	/* after lies in the second pass of the repeated hour (02:10 CET):
	 * 02:15 and 02:30 fired in the first pass and do not again. */
	c = spec("*/15 * * * *");
	assert_int_equal(cron_next(&c, z, tz_utc(2026, 10, 25, 1, 10) * 1000),
			 tz_utc(2026, 10, 25, 2, 0) * 1000);
	/* ... while in the first pass they are still to come. */
	assert_int_equal(cron_next(&c, z, tz_utc(2026, 10, 25, 0, 10) * 1000),
			 tz_utc(2026, 10, 25, 0, 15) * 1000);
	/* Far past the file's transitions. */
	firings("30 2 * * *", z, tz_utc(2060, 3, 27, 12, 0), f, 2);
	assert_int_equal(f[0], tz_utc(2060, 3, 28, 1, 0));
	assert_int_equal(f[1], tz_utc(2060, 3, 29, 0, 30));
	tzone_free(z);

	z = tz_load("America/New_York");
	firings("30 2 * * *", z, tz_utc(2026, 3, 7, 12, 0), f, 2);
	assert_int_equal(f[0], tz_utc(2026, 3, 8, 7, 0));
	assert_int_equal(f[1], tz_utc(2026, 3, 9, 6, 30));
	firings("30 1 * * *", z, tz_utc(2026, 10, 31, 12, 0), f, 2);
	assert_int_equal(f[0], tz_utc(2026, 11, 1, 5, 30));
	assert_int_equal(f[1], tz_utc(2026, 11, 2, 6, 30));
	assert_int_equal(count("0 * * * *", z, tz_utc(2026, 11, 1, 4, 0),
			       tz_utc(2026, 11, 2, 5, 0)), 24);
	assert_int_equal(count("0 * * * *", z, tz_utc(2026, 3, 8, 5, 0),
			       tz_utc(2026, 3, 9, 4, 0)), 23);
	tzone_free(z);

	/* Lord Howe's half hour: 02:00-02:30 skipped on 2026-10-04. */
	z = tz_load("Australia/Lord_Howe");
	firings("15 2 * * *", z, tz_utc(2026, 10, 3, 0, 0), f, 2);
	assert_int_equal(f[0], tz_utc(2026, 10, 3, 15, 30));
	assert_int_equal(f[1], tz_utc(2026, 10, 4, 15, 15));
	tzone_free(z);
}

/* ---- a year of firings against a brute-force walk ---- */

/* Whether wall time l (seconds) matches c, worked out here afresh. */
static bool wall_matches(const struct cron_spec *c, int64_t l)
{
	int64_t days = l >= 0 ? l / 86400 : -((-l + 86399) / 86400), y;
	int64_t sec = l - days * 86400;
	int mo, d, wd;
	bool md, wm;

	tzone_civil_from_days(days, &y, &mo, &d);
	wd = tzone_weekday(days);
	md = c->mdays >> d & 1;
	wm = c->wdays >> wd & 1;
	return (c->minutes >> (sec / 60 % 60) & 1) &&
	       (c->hours >> (sec / 3600) & 1) && (c->months >> mo & 1) &&
	       ((c->mday_star || c->wday_star) ? md && wm : md || wm);
}

struct ivec {
	int64_t *v;
	size_t n, alloc;
};

static void ivec_push(struct ivec *a, int64_t x)
{
	a->v = xgrow(a->v, &a->alloc, a->n + 1, sizeof(*a->v));
	a->v[a->n++] = x;
}

/* The firings in [from, to) by the rule in cron.h, minute by minute in
 * UTC: a wall time fires the first time the clock shows it; wall times
 * the clock jumps over fire at the first minute after the jump. */
static void brute_force(const struct cron_spec *c, const struct tzone *z,
			int64_t from, int64_t to, struct ivec *out)
{
	int64_t t = from - 2 * 86400;
	int64_t max_l = t + (z ? tzone_offset(z, t) : 0);

	for (t += 60; t < to; t += 60) {
		int64_t l = t + (z ? tzone_offset(z, t) : 0);
		bool fire = false;

		if (l <= max_l)
			continue; /* shown before: a repeat */
		for (int64_t w = max_l + 60; w < l && !fire; w += 60)
			fire = wall_matches(c, w);
		fire = fire || wall_matches(c, l);
		max_l = l;
		if (fire && t >= from)
			ivec_push(out, t);
	}
}

static void check_year(const char *expr, const struct tzone *z)
{
	const int64_t from = tz_utc(2026, 1, 1, 0, 0), to = tz_utc(2027, 1, 1, 0, 0);
	struct cron_spec c = spec(expr);
	struct ivec want = { 0 }, got = { 0 };
	int64_t t = from * 1000 - 1, prev_l = INT64_MIN;
	const char *zn = z ? tzone_name(z) : "NULL";

	while ((t = cron_next(&c, z, t)) < to * 1000) {
		int64_t f = t / 1000, off, before, l;
		bool ok;

		/* (a) strictly increasing, on a minute. */
		if (got.n && f <= got.v[got.n - 1])
			fail_msg("%s %s: %" PRId64 " after %" PRId64, expr, zn,
				 f, got.v[got.n - 1]);
		assert_int_equal(t % 60000, 0);
		/* (b) the wall time matches, or the firing ends a gap that
		 * swallowed a match. */
		off = z ? tzone_offset(z, f) : 0;
		before = z ? tzone_offset(z, f - 1) : 0;
		l = f + off;
		ok = wall_matches(&c, l);
		for (int64_t w = f + before; !ok && w < l; w += 60)
			ok = wall_matches(&c, w);
		if (!ok)
			fail_msg("%s %s: %" PRId64 " matches nothing", expr, zn,
				 f);
		/* (d) wall times only move on: none fires twice. */
		if (l <= prev_l)
			fail_msg("%s %s: wall time %" PRId64 " again", expr, zn,
				 l);
		prev_l = l;
		ivec_push(&got, f);
	}
	/* (c) nothing missed, nothing extra. */
	brute_force(&c, z, from, to, &want);
	for (size_t i = 0; i < want.n || i < got.n; i++) {
		int64_t w = i < want.n ? want.v[i] : -1;
		int64_t g = i < got.n ? got.v[i] : -1;
		if (w != g)
			fail_msg("%s %s: firing %zu is %" PRId64 ", brute force "
				 "says %" PRId64, expr, zn, i, g, w);
	}
	assert_true(got.n > 0);
	free(want.v);
	free(got.v);
}

static void test_year(void **s)
{
	static const char *const zones[] = {
		"UTC", "Europe/Berlin", "America/New_York",
		"Australia/Lord_Howe", "Europe/Dublin", "Asia/Kolkata",
	};
	static const char *const exprs[] = {
		"30 2 * * *", "*/15 * * * *", "0 * * * *", "* 2 * * *",
		"0,30 1-3 * * 0", "45 1 25-31 3,10 *", "0 0 1 * mon",
		"*/7 2-3 * 3,4,10,11 *", "59 23 31 12 *",
	};
	(void)s;
	for (size_t i = 0; i < ARRAY_SIZE(exprs); i++)
		check_year(exprs[i], NULL);
	for (size_t zi = 0; zi < ARRAY_SIZE(zones); zi++) {
		struct tzone *z = tz_load(zones[zi]);
		for (size_t i = 0; i < ARRAY_SIZE(exprs); i++)
			check_year(exprs[i], z);
		tzone_free(z);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_next_basic),
		cmocka_unit_test(test_next_dst),
		cmocka_unit_test(test_year),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
