/*
 * sim_sched.h - recurring schedules in the deterministic simulation
 * (sp-sim --schedules): the pure schedule module (scheduler/schedule.h)
 * and policy_submit_ex over a fake clock for a simulated year, with steps
 * of random size, outages (the clock jumps ahead while nobody looks),
 * restarts (the cursor reloaded from its persisted copy), pauses and
 * runs ending at random. Several cron expressions, in zone tz when it
 * loads (a daylight-saving zone such as Europe/Berlin exercises the
 * skipped and repeated wall times), else UTC. After every step:
 *   - no time fires before it is due, and none fires twice;
 *   - every time the expression yields (enumerated apart with cron_next)
 *     up to the cursor is handled once: started, or missed only where
 *     the catch-up policy or the starting deadline says so; a started
 *     one is allowed by them too;
 *   - the counts add up (started + skipped + missed = times handled);
 *   - a forbid schedule never has two runs not ended;
 *   - a time fired again after a restart (its idempotency key) gets the
 *     run it first created.
 */
#ifndef SP_SIM_SCHED_H
#define SP_SIM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_sched_totals {
	uint64_t fired, skipped, missed, outages, restarts, pauses, replays;
};

/* One seed: a simulated year. 0, or -1 with what broke (and where) in
 * msg. tz: the zone's name, or NULL for UTC; *zone_used gets the zone
 * the seed ran in (tz, or "UTC" when tz does not load). */
int sim_sched_run(uint64_t seed, const char *tz, bool verbose,
		  struct sim_sched_totals *tot, const char **zone_used,
		  char *msg, size_t len);

/* sp-sim --schedules: seeds first.. first+seeds-1, each a year; prints a
 * summary, or the broken invariant and the command that replays it (prog
 * as invoked). The exit status: 0 or 1. */
int sim_sched_main(const char *prog, uint64_t first, uint64_t seeds,
		   const char *tz, bool verbose);

#endif
