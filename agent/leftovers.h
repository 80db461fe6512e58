/*
 * leftovers.h - spark-submit processes left behind by an agent that died.
 *
 * While a run is in progress its process group is recorded in the state
 * dir (running/RUN: "PGID STARTTIME"). An agent that starts after a crash
 * (kill -9, OOM killer, power loss of the agent alone) stops the groups its
 * predecessor recorded: the scheduler has requeued those runs once their
 * leases expired, and letting them go on would run each twice — and bill
 * the customer twice. The start time (from /proc) makes sure a process
 * group id reused since then is never killed.
 */
#ifndef SP_LEFTOVERS_H
#define SP_LEFTOVERS_H

#include <stdint.h>
#include <sys/types.h>

/* Records run's process group pgid (its leader's pid). 0 or -1. */
int leftovers_record(const char *state_dir, uint64_t run, pid_t pgid);
/* Forgets run's record (it ended, or never started). */
void leftovers_forget(const char *state_dir, uint64_t run);
/* SIGKILLs every recorded process group whose leader is still the process
 * recorded, removes the records, and returns how many groups it killed. */
int leftovers_reap(const char *state_dir);

#endif
