/* cron_stub_tmp.c - TEMPORARY stand-in for common/cron.c and
 * common/tzone.c until they land: the zone "UTC" only (offset 0), and
 * cron_next by a minute-by-minute search. Numbers, '*', ranges, lists and
 * steps; no names, no macros. Drop this file when the real modules
 * arrive. */
#include "cron.h"
#include "tzone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tzone {
	char name[TZONE_NAME_MAX];
};

int tzone_load(const char *name, struct tzone **out, char *err, size_t errlen)
{
	if (strcmp(name, "UTC")) {
		snprintf(err, errlen, "unknown time zone '%.64s'", name);
		return -1;
	}
	*out = calloc(1, sizeof(**out));
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf((*out)->name, sizeof((*out)->name), "UTC");
	return 0;
}

int tzone_parse(const uint8_t *buf, size_t len, const char *name,
		struct tzone **out, char *err, size_t errlen)
{
	(void)buf;
	(void)len;
	return tzone_load(name, out, err, errlen);
}

void tzone_free(struct tzone *z)
{
	free(z);
}

const char *tzone_name(const struct tzone *z)
{
	return z ? z->name : "UTC";
}

int32_t tzone_offset(const struct tzone *z, int64_t utc_s)
{
	(void)z;
	(void)utc_s;
	return 0;
}

int tzone_local_to_utc(const struct tzone *z, int64_t local_s,
		       int64_t out[2], int64_t *gap_end)
{
	(void)z;
	(void)gap_end;
	out[0] = local_s;
	return 1;
}

static const char *const field_names[5] = { "minute", "hour",
					     "day-of-month", "month",
					     "day-of-week" };

/* One field into bits lo..hi. 0 / -1. */
static int parse_field(const char *f, int lo, int hi, uint64_t *bits,
		       bool *star)
{
	char buf[64], *save = NULL;

	if (strlen(f) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", f);
	*bits = 0;
	*star = f[0] == '*';
	for (char *p = strtok_r(buf, ",", &save); p;
	     p = strtok_r(NULL, ",", &save)) {
		long a = lo, b = hi, step = 1;
		char *end, *slash = strchr(p, '/');
		if (slash) {
			*slash = '\0';
			step = strtol(slash + 1, &end, 10);
			if (*end || step < 1 || end == slash + 1)
				return -1;
		}
		if (strcmp(p, "*")) {
			a = strtol(p, &end, 10);
			if (end == p)
				return -1;
			b = a;
			if (*end == '-') {
				char *s2 = end + 1;
				b = strtol(s2, &end, 10);
				if (end == s2)
					return -1;
			}
			if (*end)
				return -1;
			if (slash && b == a)
				b = hi;
		}
		if (hi == 6 && b == 7) /* 7 is Sunday */
			b = 6, *bits |= 1;
		if (a < lo || b > hi || a > b)
			return -1;
		for (long v = a; v <= b; v += step)
			*bits |= 1ULL << v;
	}
	return 0;
}

int cron_parse(const char *expr, struct cron_spec *out, char *err,
	       size_t errlen)
{
	static const int lo[5] = { 0, 0, 1, 1, 0 }, hi[5] = { 59, 23, 31, 12, 6 };
	char buf[CRON_EXPR_MAX], *save = NULL, *f[6];
	uint64_t bits[5];
	bool star[5];
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (strlen(expr) >= sizeof(buf)) {
		snprintf(err, errlen, "cron: the expression is too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", expr);
	for (char *p = strtok_r(buf, " \t", &save); p && n < 6;
	     p = strtok_r(NULL, " \t", &save))
		f[n++] = p;
	if (n != 5) {
		snprintf(err, errlen, "cron: '%.64s' has %d fields, not 5",
			 expr, n);
		return -1;
	}
	for (int i = 0; i < 5; i++)
		if (parse_field(f[i], lo[i], hi[i], &bits[i], &star[i])) {
			snprintf(err, errlen, "cron: %s field '%.32s': not a "
				 "value in %d-%d", field_names[i], f[i], lo[i],
				 hi[i]);
			return -1;
		}
	out->minutes = bits[0];
	out->hours = (uint32_t)bits[1];
	out->mdays = (uint32_t)bits[2];
	out->months = (uint16_t)bits[3];
	out->wdays = (uint8_t)bits[4];
	out->mday_star = star[2];
	out->wday_star = star[4];
	return 0;
}

static bool matches(const struct cron_spec *c, const struct tm *tm)
{
	bool md = c->mdays >> tm->tm_mday & 1, wd = c->wdays >> tm->tm_wday & 1;
	bool day = c->mday_star ? wd : c->wday_star ? md : (md || wd);

	return (c->minutes >> tm->tm_min & 1) && (c->hours >> tm->tm_hour & 1) &&
	       (c->months >> (tm->tm_mon + 1) & 1) && day;
}

int64_t cron_next(const struct cron_spec *c, const struct tzone *z,
		  int64_t after_ms)
{
	int64_t floor_ms = after_ms < 0 ? -((-after_ms + 59999) / 60000) * 60000
					: after_ms / 60000 * 60000;
	int64_t t = floor_ms / 1000 + 60;
	/* 8 years of minutes at most: good enough for the tests */
	for (int64_t i = 0; i < 8LL * 366 * 1440; i++, t += 60) {
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		if (!(c->months >> (tm.tm_mon + 1) & 1)) {
			/* skip to the next day at 00:00 */
			t += (int64_t)(23 - tm.tm_hour) * 3600 +
			     (int64_t)(59 - tm.tm_min) * 60;
			continue;
		}
		if (!(c->hours >> tm.tm_hour & 1)) {
			t += (int64_t)(59 - tm.tm_min) * 60;
			continue;
		}
		if (matches(c, &tm))
			return t * 1000;
	}
	(void)z;
	return INT64_MAX;
}
