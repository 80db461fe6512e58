/* schedule.c - which firing times of a schedule are due, started or
 * missed (schedule.h). Pure: no I/O, no clock. */
#include "schedule.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const conc_names[] = { "allow", "forbid", "replace" };
static const char *const catchup_names[] = { "none", "last", "all" };

const char *schedule_concurrency_name(int v)
{
	return v >= 0 && v < 3 ? conc_names[v] : "?";
}

const char *schedule_catchup_name(int v)
{
	return v >= 0 && v < 3 ? catchup_names[v] : "?";
}

int schedule_concurrency_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, conc_names[i]))
			return i;
	return -1;
}

int schedule_catchup_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, catchup_names[i]))
			return i;
	return -1;
}

static bool past_deadline(int64_t t, int64_t deadline_ms, int64_t now_ms)
{
	return deadline_ms > 0 && now_ms - t > deadline_ms;
}

/* A due time t to start, or a missed one if past the deadline. */
static void take(struct schedule_due *out, int64_t t, int64_t deadline_ms,
		 int64_t now_ms)
{
	if (past_deadline(t, deadline_ms, now_ms))
		out->missed++;
	else
		out->fire[out->nfire++] = t;
	out->cursor = t;
}

void schedule_due(const struct cron_spec *spec, const struct tzone *z,
		  int64_t cursor_ms, int64_t watch_ms, int catchup,
		  int64_t deadline_ms, int64_t now_ms,
		  struct schedule_due *out)
{
	/* under catch-up last: the latest missed time seen so far, held
	 * back until a later one shows it is not the latest */
	int64_t held = INT64_MIN, before_held = cursor_ms;
	int64_t prev = cursor_ms, t;
	size_t scanned = 0;

	memset(out, 0, sizeof(*out));
	out->cursor = cursor_ms;
	while ((t = cron_next(spec, z, prev)) <= now_ms) {
		if (out->nfire == SCHEDULE_FIRE_MAX ||
		    ++scanned > SCHEDULE_SCAN_MAX) {
			out->more = true;
			break;
		}
		if (t >= watch_ms) { /* on time: it runs */
			if (held != INT64_MIN) { /* the latest missed one */
				take(out, held, deadline_ms, now_ms);
				held = INT64_MIN;
				if (out->nfire == SCHEDULE_FIRE_MAX) {
					out->more = true;
					break;
				}
			}
			take(out, t, deadline_ms, now_ms);
		} else if (catchup == SCHED_CATCHUP_ALL) {
			take(out, t, deadline_ms, now_ms);
		} else if (catchup == SCHED_CATCHUP_LAST) {
			if (held != INT64_MIN) {
				out->missed++;
				out->cursor = held;
			}
			before_held = out->cursor;
			held = t;
		} else {
			out->missed++;
			out->cursor = t;
		}
		prev = t;
	}
	if (held == INT64_MIN)
		return;
	if (out->more) /* not known to be the latest: looked at again */
		out->cursor = before_held;
	else
		take(out, held, deadline_ms, now_ms);
}

enum schedule_action schedule_on_fire(int conc, bool previous_live)
{
	if (!previous_live || conc == SCHED_CONC_ALLOW)
		return SCHED_START;
	return conc == SCHED_CONC_FORBID ? SCHED_SKIP : SCHED_REPLACE;
}

const char *schedule_idem_key(uint64_t id, int64_t scheduled_ms, int step,
			      char *buf, size_t len)
{
	if (step <= 1)
		snprintf(buf, len, "schedule:%" PRIu64 ":%" PRId64, id,
			 scheduled_ms);
	else
		snprintf(buf, len, "schedule:%" PRIu64 ":%" PRId64 ":%d", id,
			 scheduled_ms, step);
	return buf;
}

int schedule_parse_duration(const char *s, int64_t *ms, char *err,
			    size_t errlen)
{
	static const struct { char c; int64_t ms; } units[] = {
		{ 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 },
		{ 'd', 86400000 },
	};
	const int64_t max = 366LL * 86400000;
	int64_t unit = 1000, v = 0;
	size_t n = strlen(s), digits = n;

	if (n && (s[n - 1] < '0' || s[n - 1] > '9')) {
		digits = n - 1;
		unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (s[n - 1] == units[i].c)
				unit = units[i].ms;
	}
	if (!digits || !unit || digits > 12)
		goto bad;
	for (size_t i = 0; i < digits; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max / unit) {
		snprintf(err, errlen,
			 "duration '%.32s' is longer than 366 days", s);
		return -1;
	}
	*ms = v * unit;
	return 0;
bad:
	snprintf(err, errlen, "duration '%.32s': want a number and s, m, h or "
		 "d (30s, 15m, 2h, 1d)", s);
	return -1;
}

const char *schedule_format_duration(int64_t ms, char *buf, size_t len)
{
	if (ms <= 0)
		snprintf(buf, len, "0");
	else if (ms % 86400000 == 0)
		snprintf(buf, len, "%" PRId64 "d", ms / 86400000);
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%" PRId64 "m", ms / 60000);
	else
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	return buf;
}
