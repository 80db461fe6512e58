/*
 * policy_int.h - what the parts of the scheduling core share (policy.c,
 * policy_flow.c, policy_view.c); not for the rest of the scheduler.
 */
#ifndef SP_POLICY_INT_H
#define SP_POLICY_INT_H

#include "policy.h"
#include "util.h"

/* r changed: it is written at the end of the turn. */
void policy_mark(struct policy *p, struct run *r);
void policy_refuse(struct refusal *why, const char *code, int64_t retry_ms,
		   const char *fmt, ...) SP_PRINTF(4, 5);
/* Puts a queued run where dispatch finds it (its job's queue, or the
 * backoff queue), unless it is held or waiting; unplace takes it out. The
 * queued counters are not touched. */
void policy_place(struct policy *p, struct run *r);
void policy_unplace(struct policy *p, struct run *r);
/* A queued run leaves the queue: unplaced and no longer counted. */
void policy_dequeue(struct policy *p, struct run *r);
/* r ends for good in state `to` (counted, its budget released, its
 * dependents resolved). */
void policy_record_terminal(struct policy *p, struct run *r,
			    enum run_state to);

/* policy_flow.c */
/* A new waiting run r: waits for those of x->after not ended yet, or is
 * resolved at once. */
void flow_add(struct policy *p, struct run *r);
/* r ended: the runs waiting for it are resolved. */
void flow_run_ended(struct policy *p, struct run *r);
/* r (ended) is dropped: it leaves the lists of the runs it waited for. */
void flow_forget(struct policy *p, struct run *r);
/* Rebuilds the lists from the loaded waiting runs (policy_init). */
void flow_init(struct policy *p);
void flow_release(struct policy *p);

#endif
