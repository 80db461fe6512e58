/*
 * diskguard.h - what the scheduler does when its data dir fills up or
 * fails (docs/storage.md, Disk full and I/O errors). Besides normal, two
 * conditions, each visible in `queue stats` and the log:
 *
 *   low space  free space on the data dir's filesystem is below the floor
 *              (the smaller of store_min_free_mb and store_min_free_pct of
 *              its size, measured at most every store_check_ms): new runs
 *              are refused; completions, cancels and the rest go on.
 *   down       a write to the store failed (ENOSPC, EIO, ...). The turn
 *              whose write failed acknowledges nothing: its replies become
 *              `unavailable` refusals. Its writes stay in the batch, and
 *              the state in memory is the store plus that batch. Every
 *              change is then refused up front, reads are answered, and
 *              the clock-driven work (lease expiry, retries, retention)
 *              waits. Every store_check_ms the data dir is probed; once it
 *              takes writes again the store is reopened and the waiting
 *              batch written before anything else: writes resume by
 *              themselves.
 *
 * Refusals are {"error":"unavailable", "retry_after_ms": store_check_ms}
 * (admin JSON) or {ok:false, error:"unavailable", retry_after_ms} (agents,
 * which back off and resend the same message). Core thread only.
 */
#ifndef SP_DISKGUARD_H
#define SP_DISKGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct diskguard {
	/* the free-space floor */
	int64_t next_check_mono;  /* 0: measure at the next turn */
	uint64_t free_bytes, size_bytes, floor_bytes;
	bool low;
	int64_t low_since_ms;
	uint64_t starts_refused;
	/* a failed write */
	bool down;
	enum store_fault fault;
	char error[256];          /* the failure, as the store told it */
	int64_t down_since_ms, down_since_mono;
	int64_t next_retry_mono;
	int64_t next_report_mono; /* the next "still unavailable" line */
	size_t pending;           /* writes in the batch that wait for it */
	bool apply_due;           /* the batch is logged, not yet applied */
	uint64_t failures, recoveries, refused;
};

struct sched;
struct event;
struct refusal;
struct jw;

/* The floor in bytes for a filesystem of size bytes: the smaller of mb MiB
 * and pct % of size, leaving out a bound set to 0; 0 if both are. */
uint64_t diskguard_floor(uint64_t size, int64_t mb, int64_t pct);

/* At the start of a turn: measures the free space when due and, while the
 * store is down, tries to bring it back when due. */
void diskguard_tick(struct sched *c);
/* true while the store takes no writes. */
bool diskguard_down(const struct sched *c);
/* The monotonic ms of the next attempt to bring the store back, or
 * INT64_MAX when it is up. */
int64_t diskguard_next_wake(const struct sched *c);
/* While the store is down, answers ev with a refusal if it could change
 * anything (an agent message, an admin command that is not a read) and
 * completes it: true. Else false, and ev runs as usual. */
bool diskguard_refuse(struct sched *c, struct event *ev);
/* Logs this turn's batch with a sync, unless the store is down. If the
 * write fails, or the store is down and the turn added writes, every
 * reply of the turn becomes a refusal (nothing is acknowledged) and the
 * writes wait in the batch. Then the caller sends the turn's replies, and
 * calls diskguard_apply. */
void diskguard_commit(struct sched *c);
/* After the turn's replies went out: puts the logged batch into the
 * store, where reads see it (store_apply), before anything else reads
 * it; a failure takes the store down as a failed write does. */
void diskguard_apply(struct sched *c);
/* true, with why filled in, if a new run must be refused now (space below
 * the floor). */
bool diskguard_refuse_start(struct sched *c, struct refusal *why);
/* Adds the "store" member of `queue stats`. */
void diskguard_write_stats(struct sched *c, struct jw *w);
/* At shutdown: says what the store never took (nothing acknowledged). */
void diskguard_stop(struct sched *c);

#endif
