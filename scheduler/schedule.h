/*
 * schedule.h - recurring schedules, the pure part (docs/operator-guide.md,
 * Schedules): which of a schedule's firing times are due at a given
 * moment, which of them start a run and which are missed, and what the
 * concurrency policy does with a firing while the previous one is live.
 *
 * No I/O, no locks, no clock of its own: the caller passes now_ms. The
 * core thread (schedule_core.h) drives it for real; tests/sim/sim_sched.c
 * drives the same code under a fake clock.
 *
 * A schedule keeps a cursor: the last firing time it has handled (started,
 * skipped or counted missed). Every time the cron expression yields after
 * the cursor and at or before now is due. A due time before watch_ms (the
 * moment the scheduler began watching the schedule without a break: its
 * start, the schedule's creation or resume) fell while nobody looked: it
 * follows the catch-up policy. Any due time more than the starting
 * deadline late is missed.
 */
#ifndef SP_SCHEDULE_H
#define SP_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cron.h"
#include "tzone.h"

enum schedule_concurrency {
	SCHED_CONC_ALLOW = 0,   /* start it anyway */
	SCHED_CONC_FORBID = 1,  /* skip it (counted) */
	SCHED_CONC_REPLACE = 2, /* cancel the live one, then start */
};

enum schedule_catchup {
	SCHED_CATCHUP_NONE = 0, /* every missed time is counted, none runs */
	SCHED_CATCHUP_LAST = 1, /* only the latest missed time runs */
	SCHED_CATCHUP_ALL = 2,  /* each missed time runs, in order */
};

/* Firings one schedule starts in one call at most; the rest wait for the
 * next call (the core calls again at once): a long outage never stalls
 * the core thread. */
#define SCHEDULE_FIRE_MAX 16
/* Due times one call walks at most (counting missed ones). */
#define SCHEDULE_SCAN_MAX 100000

const char *schedule_concurrency_name(int v);
const char *schedule_catchup_name(int v);
/* The value for a name ("allow", "last", ...), or -1. */
int schedule_concurrency_parse(const char *s);
int schedule_catchup_parse(const char *s);

/* What one call decided. */
struct schedule_due {
	int64_t fire[SCHEDULE_FIRE_MAX]; /* times to start, in order */
	size_t nfire;
	uint64_t missed;  /* due times counted missed (catch-up, deadline) */
	int64_t cursor;   /* the new cursor: the last time handled */
	bool more;        /* due times remain past the bounds: call again */
};

/* The due times of cron expression spec in zone z (NULL: UTC) after
 * cursor_ms and at or before now_ms, under catch-up policy catchup and
 * starting deadline deadline_ms (0: none), given the scheduler has
 * watched since watch_ms. out->cursor is where the next call starts. */
void schedule_due(const struct cron_spec *spec, const struct tzone *z,
		  int64_t cursor_ms, int64_t watch_ms, int catchup,
		  int64_t deadline_ms, int64_t now_ms,
		  struct schedule_due *out);

enum schedule_action {
	SCHED_START = 0,   /* start the firing's runs */
	SCHED_SKIP = 1,    /* skip it: count it as skipped */
	SCHED_REPLACE = 2, /* cancel the previous firing's live runs, start */
};

/* What a firing does under concurrency policy conc, given whether the
 * schedule's previous firing has a run not ended. */
enum schedule_action schedule_on_fire(int conc, bool previous_live);

/* The idempotency key of a firing's step-th run (1: the job's, 2: the
 * first --then job's, ...): "schedule:ID:MS" and "schedule:ID:MS:STEP",
 * into buf (>= 64). */
const char *schedule_idem_key(uint64_t id, int64_t scheduled_ms, int step,
			      char *buf, size_t len);

/* "30s", "15m", "2h", "1d" (or a plain number of seconds, or "0": none)
 * to ms, at most 366 days. 0, or -1 with a one-line reason. */
int schedule_parse_duration(const char *s, int64_t *ms, char *err,
			    size_t errlen);
/* ms as the shortest such duration ("90s", "2h", "0"). */
const char *schedule_format_duration(int64_t ms, char *buf, size_t len);

#endif
