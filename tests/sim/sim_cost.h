/*
 * sim_cost.h - cost control in the deterministic simulation (sp-sim.c):
 * one tenant gets a hard monthly budget and every job a timeout, so that
 * estimates are reserved, attempts metered, starts refused and dispatch
 * held; after every step the books are checked.
 */
#ifndef SP_SIM_COST_H
#define SP_SIM_COST_H

#include <stddef.h>

#include "policy.h"

/* Gives st's first tenant a hard budget of budget micro-USD and each job a
 * timeout of 5 to 20 s drawn from pick (a seeded PRNG: pick(n) in 0..n-1). */
void sim_cost_setup(struct sched_state *st, int64_t budget,
		    unsigned (*pick)(unsigned n));

/* The invariants; 0, or -1 with what broke in msg:
 *   - the day roll-ups add up to the run records (cost, runs ended,
 *     succeeded, failed), tenant by tenant;
 *   - each tenant's committed amount is the recount of its live and queued
 *     runs' unspent estimates, and never negative;
 *   - its live list holds exactly its leased, submitted and running runs;
 *   - a hard-budget tenant's spend never passes its budget by more than
 *     its attempts' overruns: each attempt's cost beyond what its run
 *     still had reserved (est_cost - cost) when it started; a retry's
 *     rebased est_cost hides the ended attempts' overruns, so they are
 *     added up as each attempt ends (docs/operator-guide.md, Budgets). */
int sim_cost_check(struct policy *p, char *msg, size_t len);

#endif
