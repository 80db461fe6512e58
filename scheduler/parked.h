/*
 * parked.h - agents' lease requests parked for work (long polls), indexed
 * so that a fleet of idle agents costs the core thread nothing per turn:
 *
 *   - each in its environment's line, oldest first (env->park_head), so
 *     that work queued in one environment is offered to its agents only;
 *   - all of them in a heap by deadline, so that the next deadline is
 *     known at once and the expired ones leave in O(log n) each;
 *   - at most one per agent (ag->parked): an agent asks one thing at a
 *     time, and any message of its answers the request it gave up.
 *
 * Pure bookkeeping: answering the requests is agent_work.c's. Owned by
 * the core thread.
 */
#ifndef SP_PARKED_H
#define SP_PARKED_H

#include <stdint.h>

#include "core.h"
#include "hmap.h"
#include "model.h"

struct parked {
	struct event **heap; /* by park_until_mono; ev->park_slot is the index */
	size_t n, alloc;
	struct hmap by_pipe; /* the 4 bytes of ev->pipe -> ev, pipe != 0 */
};

/* Parks ev, ag's request in environment e, until the monotonic deadline
 * `until`. ag must have none parked. */
void parked_add(struct parked *q, struct event *ev, struct agent *ag,
		struct env *e, int64_t until);
/* Takes ev out of every index (it must be parked). */
void parked_remove(struct parked *q, struct event *ev);
/* The request with the earliest deadline if that deadline is at or before
 * now, else NULL. */
struct event *parked_due(const struct parked *q, int64_t now);
/* The earliest deadline, INT64_MAX if nothing is parked. */
int64_t parked_next_deadline(const struct parked *q);
/* The request parked from connection pipe (not 0), NULL if none. */
struct event *parked_by_pipe(const struct parked *q, uint32_t pipe);
/* Any parked request (the last of the heap), NULL if none: for emptying. */
struct event *parked_any(const struct parked *q);
void parked_release(struct parked *q);

#endif
