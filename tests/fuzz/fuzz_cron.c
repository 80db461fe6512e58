/* fuzz_cron.c - cron expressions (common/cron.c): any text goes through
 * cron_parse; an accepted one through cron_next in UTC and in a zone with
 * daylight saving time. A refusal is one line starting "cron: "; a firing
 * lies strictly after the instant asked about, in UTC on a minute, and
 * its wall time matches (or it ends a gap, standing for skipped ones). */
#include <stdbool.h>
#include <stdlib.h>

#include "cron.h"
#include "fuzz.h"

/* Zones with whole-hour, half-hour and southern DST; UTC if the machine
 * has no tzdata (the input still decides everything else). */
static const char *const zone_names[] = { "Europe/Berlin",
					   "Australia/Lord_Howe",
					   "America/New_York" };
static struct tzone *zones[3];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < ARRAY_SIZE(zones); i++)
		if (tzone_load(zone_names[i], &zones[i], err, sizeof(err)) &&
		    tzone_load("UTC", &zones[i], err, sizeof(err)))
			fz_fail("%s", err);
	return 0;
}

/* Whether wall time l (seconds) matches c, worked out here afresh. */
static bool wall_matches(const struct cron_spec *c, int64_t l)
{
	int64_t days = l >= 0 ? l / 86400 : -((-l + 86399) / 86400), y;
	int64_t sec = l - days * 86400;
	int mo, d;
	bool md, wd;

	tzone_civil_from_days(days, &y, &mo, &d);
	md = c->mdays >> d & 1;
	wd = c->wdays >> tzone_weekday(days) & 1;
	return (c->minutes >> (sec / 60 % 60) & 1) &&
	       (c->hours >> (sec / 3600) & 1) && (c->months >> mo & 1) &&
	       ((c->mday_star || c->wday_star) ? md && wd : md || wd);
}

static void check_next(const struct cron_spec *c, const struct tzone *z,
		       int64_t after)
{
	int64_t t = cron_next(c, z, after), again, s;

	if (t == INT64_MAX)
		return;
	/* Its wall time matches, unless it ends a gap (where it stands
	 * for the wall times skipped). */
	s = t / 1000;
	if (!wall_matches(c, s + (z ? tzone_offset(z, s) : 0)) &&
	    (!z || tzone_offset(z, s - 1) == tzone_offset(z, s)))
		fz_fail("firing %lld matches nothing", (long long)t);
	if (t <= after)
		fz_fail("next firing %lld is not after %lld", (long long)t,
			(long long)after);
	if (!z && t % 60000)
		fz_fail("UTC firing %lld is not on a minute", (long long)t);
	again = cron_next(c, z, t);
	if (again != INT64_MAX && again <= t)
		fz_fail("firing %lld follows %lld", (long long)again,
			(long long)t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t zi = fz_u8(&in);
	/* Keep the instant within a few thousand years of now, where the
	 * search's eight years are cheap; the bits still vary it. */
	int64_t after = (int64_t)(fz_u64(&in) % ((uint64_t)1 << 47)) -
			((int64_t)1 << 46);
	const uint8_t *rest;
	size_t len = fz_rest(&in, &rest);
	char *expr = xstrndup((const char *)rest, len > 256 ? 256 : len);
	struct cron_spec c;
	char err[256];

	err[0] = '\0';
	if (cron_parse(expr, &c, err, sizeof(err))) {
		fz_check_refusal(err, "cron: ");
	} else {
		check_next(&c, NULL, after);
		check_next(&c, zones[zi % ARRAY_SIZE(zones)], after);
	}
	free(expr);
	return 0;
}
