/*
 * runstore.h - ended runs kept only in the store. A run that ended more
 * than ended_runs_in_memory_s ago leaves memory at the retention pass
 * (and is not loaded at start): its slot in the state is empty and its
 * bit set (state_run_stored). Asked for by id (run show, run logs, run
 * retry, --after, telemetry filed late), it is read back and stays in
 * memory until the next pass; passes over every run (run list, retention,
 * tenant delete, the POC report) read it from the store without keeping
 * it. Core thread only.
 */
#ifndef SP_RUNSTORE_H
#define SP_RUNSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "state.h"

struct sched;

/* Run id, in memory or read back from the store into memory; NULL if
 * there is none (or its record cannot be read: logged). */
struct run *runstore_get(struct sched *c, uint64_t id);
/* Stored run id decoded into *r, which the caller clears (run_clear)
 * after use: 1; 0 if id is not a stored run; -1 if its record cannot be
 * read (logged). */
int runstore_read(struct sched *c, uint64_t id, struct run *r);
/* Calls fn with the id of each stored run of owner (a tenant's name or
 * an environment's key: its job key starts with owner and '/'; NULL:
 * every one), in id order. A record is not decoded: the first elements
 * of its record say whose it is (run_peek_job), so a record damaged
 * after them is still its owner's; one whose job cannot be read is
 * skipped (logged). A non-zero return stops the scan and is returned;
 * -1 on a read error. */
typedef int (*runstore_id_fn)(struct sched *c, uint64_t id, void *ctx);
int runstore_scan_ids(struct sched *c, const char *owner, runstore_id_fn fn,
		      void *ctx);
/* Ended run r leaves memory if it ended long enough ago and nothing
 * holds it (policy_may_page_out), while the store takes writes. True if
 * it did (r is freed). */
bool runstore_page_out(struct sched *c, struct run *r);
/* The scratch the reads decode with. */
void runstore_release(struct sched *c);

#endif
