/* fuzz_cron.c - cron expressions (common/cron.c): any text goes through
 * cron_parse; an accepted one through cron_next in UTC and in a zone with
 * daylight saving time. A refusal is one line starting "cron: "; a firing
 * lies strictly after the instant asked about, and in UTC on a minute. */
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

static void check_next(const struct cron_spec *c, const struct tzone *z,
		       int64_t after)
{
	int64_t t = cron_next(c, z, after), again;

	if (t == INT64_MAX)
		return;
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
