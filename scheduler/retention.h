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

/* A core turn examines at most RETENTION_SLICE run ids and removes at
 * most RETENTION_MAX_REMOVED runs (docs/performance.md, Retention: what a
 * slice costs over a million runs). */
#define RETENTION_SLICE 16384
#define RETENTION_MAX_REMOVED 1024

struct sched;
struct run;
struct tenant;
struct retention_figures;

/* When r may be removed (wall ms): the end of its tenant's retention
 * after it ended, or later while its idempotency key is live; INT64_MAX
 * for a live run. */
int64_t retention_expiry(const struct sched *c, const struct run *r);

/* Core thread, after each turn's events: starts a pass when one is due
 * (c->retention_due_mono), works one slice of a pass under way, and sets
 * the next pass when it ends. */
void retention_turn(struct sched *c);

/* One slice: examines up to max_ids run ids from the pass's cursor and
 * removes the runs expired at c->now_ms, at most max_removed, into
 * c->batch (their records, their telemetry and line logs by range, the
 * runs themselves from memory). It tallies each tenant's figures for the
 * next pass on the way (ret_acc, published to ret_last when the pass
 * ends). Returns the number removed; *done is set once the cursor has
 * passed the last run (the pass is over, the cursor reset). */
size_t retention_slice(struct sched *c, size_t max_ids, size_t max_removed,
		       bool *done);

/* When the next pass starts (wall ms; now if one is under way). */
int64_t retention_next_pass_ms(const struct sched *c);

/* Finds t's figures for the next pass now, into t->ret_last, by one walk
 * of the runs in memory (some 20 ms a million runs): for a retention just
 * changed (tenant set), whose last figures no longer hold. t's ended runs
 * kept only in the store (runstore.h) are left to a pass, started at
 * once: reading them all here would hold the core thread for seconds on
 * millions; the figures say `pending` until that pass has counted them. */
void retention_refresh(struct sched *c, struct tenant *t);

/* t's figures for the next pass (tenant show): the last tally, with the
 * runs that ended since it. */
void retention_figures(struct sched *c, struct tenant *t,
		       struct retention_figures *out);

#endif
