/*
 * runq.h - a binary min-heap of runs by (key, id). A run is in at most one
 * runq at a time and remembers its index (run->qidx), so removing any run
 * (a cancel) is O(log n). The key is chosen by the user: a job's queue
 * uses the run's virtual start time (priority aging, see policy.c), the
 * retry-backoff queue uses not_before_ms.
 */
#ifndef SP_RUNQ_H
#define SP_RUNQ_H

#include <stddef.h>
#include <stdint.h>

struct run;

struct runq_entry {
	int64_t key;
	uint64_t id; /* tie-break: FIFO among equal keys */
	struct run *run;
};

struct runq {
	struct runq_entry *v;
	size_t n, alloc;
};

void runq_push(struct runq *q, struct run *r, int64_t key);
/* Room for exactly n runs in all, its memory faulted in now: a restart
 * fills a queue of millions at once. */
void runq_reserve(struct runq *q, size_t n);
/* The first run, or NULL; its key in *key if key is not NULL. */
struct run *runq_peek(const struct runq *q, int64_t *key);
struct run *runq_pop(struct runq *q);
/* Removes r, which must be in q. */
void runq_remove(struct runq *q, struct run *r);
/* How many runs come before r in q (O(n): for display only). */
size_t runq_rank(const struct runq *q, const struct run *r);
/* true if r is in q. */
int runq_contains(const struct runq *q, const struct run *r);
void runq_release(struct runq *q);

#endif
