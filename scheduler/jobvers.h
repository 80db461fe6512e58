/*
 * jobvers.h - job versions (`job set`, docs/operator-guide.md, Jobs).
 * Each version of a job is kept in the column family `jobvers` (key: the
 * job's key, a NUL, the version u32 BE; value: the job record of that
 * version). struct job is always the current version; a run holds the
 * version it started with (run->job_version), and its dispatches, retries
 * included, send that version's arguments and timeout.
 *
 * Earlier versions live in memory only while a live run may need them
 * (job->old_versions, pruned at each job set); any other is read from the
 * store when asked for. Core thread only.
 */
#ifndef SP_JOBVERS_H
#define SP_JOBVERS_H

#include <stdbool.h>
#include <stdint.h>

struct sched;
struct job;

/* Version v of j (0 or j->version: j itself), from memory or else read
 * from the store and kept in j->old_versions. If it cannot be read (a
 * damaged store), logs it and returns j: the run goes on with the current
 * definition rather than none. */
const struct job *jobvers_get(struct sched *c, struct job *j, uint32_t v);

/* Reads version v of the job named key from the store into the zeroed
 * out (its argv owned by out). 1 found, 0 no such version, -1 damaged. */
int jobvers_load(struct sched *c, const char *key, uint32_t v,
		 struct job *out);

/* Calls fn with each stored version of the job named key, oldest first
 * (each decoded into a temporary released after fn). 0, fn's non-zero
 * value, or -1 (a damaged record). */
typedef int (*jobvers_fn)(const struct job *v, void *ctx);
int jobvers_scan(struct sched *c, const char *key, jobvers_fn fn, void *ctx);

/* j is about to become a new version: keeps the current one in
 * j->old_versions if a live run of j uses it, and drops from there the
 * versions no live run uses (one walk of the runs). */
void jobvers_retire(struct sched *c, struct job *j);

#endif
