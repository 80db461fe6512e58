/*
 * cron.h - five-field cron expressions (minute hour day-of-month month
 * day-of-week) as cronie and Kubernetes CronJob read them: '*', numbers,
 * ranges a-b, lists a,b, steps a-b/n and "*" then "/n", month and day names
 * (jan..dec, sun..sat, case-insensitive), 7 as Sunday, and the macros
 * @yearly @annually @monthly @weekly @daily @midnight @hourly. When both
 * day fields are restricted a day matches either (cron's OR rule).
 *
 * Firing times are wall-clock times in a time zone (tzone.h). Across
 * daylight-saving changes each matching wall-clock time fires once: one
 * the clocks skip fires at the end of the gap (several skipped ones
 * together, once), one the clocks repeat fires at its first occurrence.
 */
#ifndef SP_CRON_H
#define SP_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tzone.h"

#define CRON_EXPR_MAX 128

struct cron_spec {
	uint64_t minutes; /* bit m: minute m (0-59) */
	uint32_t hours;   /* bit h (0-23) */
	uint32_t mdays;   /* bit d (1-31) */
	uint16_t months;  /* bit m (1-12) */
	uint8_t wdays;    /* bit d (0-6, 0 = Sunday) */
	bool mday_star, wday_star; /* the field was '*' (or '*' with a step) */
};

/* Parses expr. 0, or -1 with a one-line reason in err that names the
 * bad field ("cron: hour field '25': ..."). */
int cron_parse(const char *expr, struct cron_spec *out, char *err,
	       size_t errlen);

/* The first firing strictly after after_ms (ms since the epoch, UTC), in
 * ms, in zone z (NULL: UTC). INT64_MAX if the expression never matches
 * within 8 years (e.g. "0 0 30 2 *"). */
int64_t cron_next(const struct cron_spec *c, const struct tzone *z,
		  int64_t after_ms);

#endif
