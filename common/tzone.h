/*
 * tzone.h - time zones from the system's time zone database (TZif files
 * under /usr/share/zoneinfo, or $TZDIR), without touching the process's
 * TZ: each zone is a value the caller owns, safe to use from any thread.
 * Past the last transition in the file, the POSIX TZ rule of its footer
 * (e.g. "CET-1CEST,M3.5.0,M10.5.0/3") gives the offsets.
 */
#ifndef SP_TZONE_H
#define SP_TZONE_H

#include <stddef.h>
#include <stdint.h>

#define TZONE_NAME_MAX 64

struct tzone;

/* Loads zone `name` ("UTC", "Europe/Berlin", ...). The name is checked
 * first (letters, digits, '/', '_', '-', '+', no "..", no leading '/').
 * 0, or -1 with a one-line reason in err naming the zone. */
int tzone_load(const char *name, struct tzone **out, char *err,
	       size_t errlen);
/* Parses TZif bytes (versions 1 to 4) as zone `name`. The fuzz entry. */
int tzone_parse(const uint8_t *buf, size_t len, const char *name,
		struct tzone **out, char *err, size_t errlen);
void tzone_free(struct tzone *z);
const char *tzone_name(const struct tzone *z);

/* The offset from UTC, in seconds, in force at utc_s: local = utc + off. */
int32_t tzone_offset(const struct tzone *z, int64_t utc_s);

/* The UTC instants whose local wall-clock time is local_s (seconds since
 * 1970-01-01T00:00 local). Returns how many there are, in order in out:
 * 1 usually; 2 when the wall clock repeats that time (the clocks went
 * back); 0 when it skips it (the clocks went forward): then *gap_end is
 * the first UTC instant after the gap. */
int tzone_local_to_utc(const struct tzone *z, int64_t local_s,
		       int64_t out[2], int64_t *gap_end);

/* Proleptic Gregorian calendar arithmetic (shared with cron.c): the days
 * since 1970-01-01 of year y, month m (1-12), day d (1-31), and back. */
int64_t tzone_days_from_civil(int64_t y, int m, int d);
void tzone_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* 0 = Sunday. */
int tzone_weekday(int64_t days);
int tzone_month_days(int64_t y, int m);

#endif
