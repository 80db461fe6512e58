/*
 * schedule_core.h - recurring schedules on the core thread
 * (docs/operator-guide.md, Schedules): the schedules in memory, loaded at
 * the start, and their firing.
 *
 * Each turn's time-driven work asks the pure module (schedule.h) which of
 * a schedule's times are due, starts each through run_start (the same
 * path as `run start`) with the idempotency key "schedule:ID:MS", and
 * writes the schedule's new cursor to the same turn's batch as the runs:
 * both commit, or neither, so a restart never fires a time twice nor
 * loses one. Core thread only.
 */
#ifndef SP_SCHEDULE_CORE_H
#define SP_SCHEDULE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptrvec.h"
#include "schedule_rec.h"

struct sched;

/* Schedules a tenant may have. */
#define SCHEDULE_MAX_PER_TENANT 256

struct schedule_core {
	struct ptrvec defs;  /* struct schedule_def *, by id */
	uint64_t seq;        /* the last id given */
	int64_t due_ms;      /* no schedule is due before this (wall) */
	/* the last schedule deleted, for the audit record of its delete
	 * (written after the command ran) */
	uint64_t gone_id;
	char gone_tenant[NAME_MAX_LEN];
	/* since the start, for /metrics and logs */
	uint64_t n_fired, n_skipped, n_missed, n_refused;
};

/* Loads the schedules (at core_start, before the core thread). 0, or -1
 * with a reason (a damaged record, an expression or zone that no longer
 * loads). */
int schedule_core_open(struct sched *c, char *err, size_t errlen);
void schedule_core_close(struct sched *c);

/* Starts what is due (after the turn's events). */
void schedule_core_tick(struct sched *c);
/* The monotonic ms at which schedule_core_tick has work, or INT64_MAX. */
int64_t schedule_core_next_wake(struct sched *c);

/* For the commands (cmd_schedule.c). */
struct schedule_def *schedule_core_find(struct sched *c, uint64_t id);
/* The schedule named by the word id ("12"), or NULL. */
struct schedule_def *schedule_core_find_word(struct sched *c,
					     const char *id);
size_t schedule_core_count(struct sched *c, const char *tenant);
/* The tenant of the schedule named by the word id, also when it was the
 * one just deleted (the audit record of `schedule delete`); NULL if
 * none. */
const char *schedule_core_tenant_of(struct sched *c, const char *id);
/* Takes d (its spec and zone loaded; id, cursor and watch set here),
 * writes it and the id counter to the batch. Returns it. */
struct schedule_def *schedule_core_add(struct sched *c,
				       struct schedule_def *d);
/* Pause or resume: written to the batch; a resumed schedule's times
 * missed while paused follow its catch-up policy. */
void schedule_core_set_paused(struct sched *c, struct schedule_def *d,
			      bool paused);
/* Removes d from memory and (in the batch) from the store; its runs stay. */
void schedule_core_remove(struct sched *c, struct schedule_def *d);
/* Forgets the tenant's schedules (tenant delete removes the records
 * with a range deletion). */
void schedule_core_remove_tenant(struct sched *c, const char *tenant);

/* Loads d's expression and zone into d->spec and d->tz. 0, or -1 with a
 * one-line reason naming the field. */
int schedule_core_compile(struct schedule_def *d, char *err, size_t errlen);

#endif
