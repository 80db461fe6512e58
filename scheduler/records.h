/*
 * records.h - persistence of the scheduler's records in the store: each
 * record is a msgpack map described by a field table, so adding a field
 * keeps old records readable (a missing field reads as zero). Key layouts
 * are documented in docs/storage.md.
 */
#ifndef SP_RECORDS_H
#define SP_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "store.h"

/* Each adds a put of the record to batch b. */
void records_put_tenant(struct store_batch *b, struct store *s,
			const struct tenant *t);
void records_put_env(struct store_batch *b, struct store *s,
		     const struct env *e);
void records_put_agent(struct store_batch *b, struct store *s,
		       const struct agent *a);
void records_put_token(struct store_batch *b, struct store *s,
		       const struct token *t);
void records_put_job(struct store_batch *b, struct store *s,
		     const struct job *j);
void records_put_run(struct store_batch *b, struct store *s,
		     const struct run *r);

/* Job versions (column family `jobvers`, jobvers.h): key = the job's key,
 * a NUL, the version u32 BE (into key, JOB_KEY_LEN + 4 bytes; returns its
 * length); value = the job record of that version, encoded as in `jobs`
 * (its arguments through the same encoder). */
size_t records_job_version_key(const char *job, uint32_t version,
			       uint8_t *key);
void records_put_job_version(struct store_batch *b, struct store *s,
			     const struct job *j);
/* Decodes a job record (of `jobs` or `jobvers`) into the zeroed j, its
 * argv owned by j. 0, or -1 if malformed (j released). */
int records_decode_job(const void *val, size_t len, struct job *j);

/* Deletes run id's record (the run is dropped: retention, deletion). */
void records_delete_run(struct store_batch *b, struct store *s, uint64_t id);
/* meta/run_ids: the highest run id given and how many runs were dropped,
 * 16 bytes (two u64 BE). Written in the batch of every run deletion, so
 * that a restart neither gives a dropped run's id again nor takes the
 * gaps for a corrupt id. */
#define META_RUN_IDS "run_ids"
void records_put_run_ids(struct store_batch *b, struct store *s,
			 const struct sched_state *st);

enum log_stream { LOG_STDOUT = 1, LOG_STDERR = 2 };

/* One log line of a run: key = run id (u64 BE) + line number (u32 BE). */
void records_put_log(struct store_batch *b, struct store *s, uint64_t run,
		     uint32_t line, int64_t ts, int stream, const char *text,
		     size_t len);

typedef int (*records_log_fn)(uint32_t line, int64_t ts, int stream,
			      const char *text, size_t len, void *ctx);
/* Calls fn for the log lines of run numbered >= from, in order, at most max
 * of them. Returns 0, the callback's non-zero value, or -1. */
int records_scan_logs(struct store *s, uint64_t run, uint32_t from,
		      uint32_t max, records_log_fn fn, void *ctx);

/* Loads every record into st (which must be empty). 0, or -1 with a reason
 * naming the bad record; a run whose id is far past the number of runs
 * before it (more than twice, plus 2^20, counting the runs dropped: ids
 * are dense from 1) is one, refused before the runs array would grow to
 * its id. */
int records_load(struct store *s, struct sched_state *st, char *err,
		 size_t errlen);

#endif
