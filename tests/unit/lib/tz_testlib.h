/* tz_testlib.h - helpers for the tests of time zones and cron. */
#ifndef SP_TZ_TESTLIB_H
#define SP_TZ_TESTLIB_H

#include <stdint.h>

#include "tzone.h"

/* Seconds since the epoch of y-mo-d h:mi UTC. */
int64_t tz_utc(int64_t y, int mo, int d, int h, int mi);
/* Zone name from the system's database (fails the test if it cannot). */
struct tzone *tz_load(const char *name);

#endif
