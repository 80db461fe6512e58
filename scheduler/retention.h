/*
 * retention.h - per-tenant retention of ended runs (docs/storage.md,
 * Telemetry and retention). A run that ended longer ago than its tenant's
 * retention_days (0: the scheduler's log_retention_days) is removed whole:
 * its record, its telemetry batches and its old line logs, in one write
 * batch. The usage roll-ups (monthly usage, budgets) are aggregates and
 * stay; the run's own cost detail goes with it.
 *
 * The pass never stalls the core thread: it is a cursor over the run id
 * range that examines at most RETENTION_SLICE ids per core turn, its
 * deletions added to that turn's batch, and the core turns again at once
 * while a pass is under way, serving events between slices.
 *
 * A run whose idempotency key still answers (created less than
 * idempotency_ttl_s ago) is kept until the key expires.
 */
#ifndef SP_RETENTION_H
#define SP_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Run ids a core turn examines at most (docs/performance.md: the time a
 * slice takes over a million runs). */
#define RETENTION_SLICE 16384

struct sched;
struct run;
struct tenant;

/* When r may be removed (wall ms): the end of its tenant's retention
 * after it ended, or later while its idempotency key is live; INT64_MAX
 * for a live run. */
int64_t retention_expiry(const struct sched *c, const struct run *r);

/* Core thread, after each turn's events: starts a pass when one is due
 * (c->retention_due_mono), works one slice of a pass under way, and sets
 * the next pass when it ends. */
void retention_turn(struct sched *c);

/* One slice: examines up to max run ids from the pass's cursor, removes
 * the runs expired at c->now_ms into c->batch (their records, their
 * telemetry and line logs by range, the runs themselves from memory).
 * Returns the number removed; *done is set once the cursor has passed the
 * last run (the pass is over, the cursor reset). */
size_t retention_slice(struct sched *c, size_t max, bool *done);

/* What the next pass will do for tenant t (tenant show). */
struct retention_preview {
	uint32_t days;          /* its retention */
	int64_t next_pass_ms;   /* wall ms of the next pass (now if under way) */
	uint64_t due_runs;      /* ended runs the next pass removes */
	uint64_t due_lines;     /* their log lines (a measure of telemetry) */
	uint64_t kept_ended;    /* ended runs kept after that pass */
	int64_t next_expiry_ms; /* when the oldest of those expires; 0 none */
	uint64_t held_by_key;   /* expired runs kept for a live idem key */
};
/* Walks the runs (an admin command: one pass over the id array). */
void retention_preview(struct sched *c, const struct tenant *t,
		       struct retention_preview *out);

#endif
