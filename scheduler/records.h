/*
 * records.h - persistence of the scheduler's records in the store: each
 * record is a msgpack map described by a field table, so adding a field
 * keeps old records readable (a missing field reads as zero). Key layouts
 * are documented in docs/storage.md.
 */
#ifndef SP_RECORDS_H
#define SP_RECORDS_H

#include <msgpack.h>
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
/* The same with who created the run (state_creator_name), or NULL. */
void records_put_run_by(struct store_batch *b, struct store *s,
			const struct run *r, const char *creator);

/* A record's spark-submit arguments (a job's; any record kind that holds
 * argv uses these two, so it is sealed the same way everywhere): packs
 * the map member "argv", sealed under tenant's data key (keyring.h) for
 * the record (cf, key): a bin holding the sealed msgpack array of
 * strings. With no keyring on s, a plain array (as format 4 wrote it). */
void records_pack_argv(msgpack_packer *pk, struct store *s, enum store_cf cf,
		       const char *key, size_t klen, const char *tenant,
		       int argc, char *const *argv);
/* Reads the member "argv" of map (sealed or a plain array; absent or nil:
 * none) into *argc and a malloc'd, NULL-terminated *argv (the caller
 * frees each string and the array, also after -1). 0; 1 when its data
 * key was destroyed (argv is then the one word KEYRING_DESTROYED_TEXT);
 * -1 when malformed or not authentic. */
int records_unpack_argv(const msgpack_object *map, struct store *s,
			enum store_cf cf, const void *key, size_t klen,
			int *argc, char ***argv);

/* Job versions (column family `jobvers`, jobvers.h): key = the job's key,
 * a NUL, the version u32 BE (into key, JOB_KEY_LEN + 4 bytes; returns its
 * length); value = the job record of that version, encoded as in `jobs`
 * (its arguments through the same encoder). */
size_t records_job_version_key(const char *job, uint32_t version,
			       uint8_t *key);
void records_put_job_version(struct store_batch *b, struct store *s,
			     const struct job *j);
/* Decodes a job record (of `jobs` or `jobvers`: cf, stored under key)
 * into the zeroed j, its argv owned by j and opened with s's keyring
 * (records_unpack_argv: a destroyed key's arguments read as
 * KEYRING_DESTROYED_TEXT). 0, or -1 if malformed (j released). */
int records_decode_job(struct store *s, enum store_cf cf, const void *key,
		       size_t klen, const void *val, size_t len, struct job *j);

/* Deletes run id's record (the run is dropped: retention, deletion). */
void records_delete_run(struct store_batch *b, struct store *s, uint64_t id);
/* meta/run_ids: the highest run id given and how many runs were dropped,
 * 16 bytes (two u64 BE). Written in the batch of every run deletion, so
 * that a restart neither gives a dropped run's id again nor takes the
 * gaps for a corrupt id. */
#define META_RUN_IDS "run_ids"
/* meta/deleted_tenants: the pseudonyms of deleted tenants (keyring.h),
 * one a line (cmd_tenant_delete.c writes it, audit list reads it). */
#define META_DELETED_TENANTS "deleted_tenants"
void records_put_run_ids(struct store_batch *b, struct store *s,
			 const struct sched_state *st);

enum log_stream { LOG_STDOUT = 1, LOG_STDERR = 2 };

/* One log line of a run: key = run id (u64 BE) + line number (u32 BE);
 * the value sealed under tenant's data key when s has a keyring. */
void records_put_log(struct store_batch *b, struct store *s,
		     const char *tenant, uint64_t run, uint32_t line,
		     int64_t ts, int stream, const char *text, size_t len);

typedef int (*records_log_fn)(uint32_t line, int64_t ts, int stream,
			      const char *text, size_t len, void *ctx);
/* Calls fn for the log lines of run numbered >= from, in order, at most max
 * of them; a line sealed under a destroyed key comes as the text
 * KEYRING_DESTROYED_TEXT. Returns 0, the callback's non-zero value, or -1. */
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
