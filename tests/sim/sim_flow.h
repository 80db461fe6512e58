/*
 * sim_flow.h - dependencies and holds in the deterministic simulation
 * (sp-sim.c): runs started --after random runs of their tenant, operators
 * holding, releasing and reprioritising random runs, and the invariants
 * that tie a run's state to those of the runs it waits for.
 */
#ifndef SP_SIM_FLOW_H
#define SP_SIM_FLOW_H

#include <stddef.h>

#include "policy.h"

/* An extra record waiting for 1 to 3 runs of tenant t (any state; after
 * any end with a 30 % chance), or NULL if none was drawn. pick is the
 * seeded PRNG: pick(n) in 0..n-1. */
struct run_extra *sim_flow_random_after(struct sched_state *st,
					const struct tenant *t,
					unsigned (*pick)(unsigned n));

/* An operator holds, releases or reprioritises a random run of p's state.
 * 1 if the policy took it, 0 if it refused (as it should), -1 with what
 * broke in msg. */
int sim_flow_act(struct policy *p, unsigned (*pick)(unsigned n), char *msg,
		 size_t len);

/* r against its dependencies and hold: it never leaves the queue before
 * the runs it waits for have ended as it requires; it waits only while
 * one has not; it is skipped only because one ended otherwise; a held run
 * is queued. 0, or -1 with what broke in msg. */
int sim_flow_check(struct sched_state *st, const struct run *r, char *msg,
		   size_t len);

#endif
