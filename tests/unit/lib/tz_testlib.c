/* tz_testlib.c - see tz_testlib.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tz_testlib.h"

int64_t tz_utc(int64_t y, int mo, int d, int h, int mi)
{
	return tzone_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

struct tzone *tz_load(const char *name)
{
	struct tzone *z = NULL;
	char err[256];

	if (tzone_load(name, &z, err, sizeof(err)))
		fail_msg("%s", err);
	return z;
}
