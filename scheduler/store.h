/*
 * store.h - the scheduler's RocksDB store: one column family per kind of
 * record (docs/storage.md), atomic write batches synced in a commit log,
 * point reads and bounded scans. Only the store's own files include
 * rocksdb/c.h. Writes come from the core thread only; reads may come from
 * any thread.
 */
#ifndef SP_STORE_H
#define SP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_cf {
	CF_META,
	CF_TENANTS,
	CF_ENVS,
	CF_AGENTS,
	CF_TOKENS,
	CF_JOBS,
	CF_RUNS,
	CF_QUEUE,
	CF_LOGS,
	CF_USAGE,
	CF_IDEMPOTENCY,
	CF_TELEMETRY,
	CF_COSTLOG,
	CF_AUDIT,
	CF_WEBHOOKS, /* hook definitions (webhook_rec.h) */
	CF_WHOUTBOX, /* webhook deliveries not yet done */
	CF_JOBVERS,  /* job versions (jobvers.h) */
	CF_SCHEDULES, /* recurring schedules (schedule_rec.h) */
	CF_COUNT
};

/* The format this build writes (docs/storage.md). A change of a record's
 * layout bumps it; the readers of older layouts stay. */
#define STORE_FORMAT_VERSION 7
/* From this version on, customer data in values is sealed (keyring.h) and
 * the store needs its keyring file. */
#define STORE_FORMAT_KEYRING 5
/* From this version on, `usage` also holds roll-ups per job and per
 * creator (cost_records.c); an older store's are rebuilt from its runs. */
#define STORE_FORMAT_GROUPS 6
/* From this version on, writes are logged in the commit log
 * (commitlog.h), not in RocksDB's WAL: an older build would open the
 * store without replaying them. */
#define STORE_FORMAT_COMMITLOG 7
/* The version again, in a file in the store's directory (store.c). */
#define STORE_FORMAT_FILE "FORMAT"

struct store;
struct store_batch;

const char *store_cf_name(enum store_cf cf);

/* Opens (creating if needed) the store in dir. A store of an older format
 * version is upgraded to STORE_FORMAT_VERSION; one of a newer version is
 * refused before anything is written to it, and so is a data dir that
 * takes no writes (full, failing: store_probe). NULL with a one-line
 * reason in err on failure. */
struct store *store_open(const char *dir, char *err, size_t errlen);

/* What an open may tune; STORE_OPTIONS_INIT holds the defaults. */
struct store_options {
	/* The commit log kept (MiB): segments of half this; when one fills,
	 * the memtables are flushed and the segments before retired. Bounds
	 * what an open replays after a crash. */
	int64_t max_wal_mb;
};
#define STORE_OPTIONS_INIT { .max_wal_mb = 32 }
/* store_open with o (NULL: the defaults). */
struct store *store_open_with(const char *dir, const struct store_options *o,
			      char *err, size_t errlen);
void store_close(struct store *s);

struct store_batch *store_batch_new(void);
void store_batch_free(struct store_batch *b);
void store_batch_clear(struct store_batch *b);
size_t store_batch_count(const struct store_batch *b);
void store_batch_put(struct store_batch *b, struct store *s, enum store_cf cf,
		     const void *key, size_t klen, const void *val,
		     size_t vlen);
void store_batch_delete(struct store_batch *b, struct store *s,
			enum store_cf cf, const void *key, size_t klen);
/* Deletes every key in [start, end) with one range tombstone. */
void store_batch_delete_range(struct store_batch *b, struct store *s,
			      enum store_cf cf, const void *start, size_t slen,
			      const void *end, size_t elen);

/* The format version the store had when opened, before any upgrade; 0 for
 * a store created by this open. */
uint32_t store_opened_format(const struct store *s);

/* Writes b atomically; with sync, the WAL is fsynced before returning.
 * After a failure, write nothing more through s before store_reopen: the
 * WAL file that failed may still be RocksDB's current one, and 7.8 (built
 * with assertions) aborts on a second write to it. */
int store_write(struct store *s, struct store_batch *b, bool sync, char *err,
		size_t errlen);
/* store_write in two halves, for the core thread, which sends a turn's
 * replies between them: store_log makes b durable (any later open
 * replays it), store_apply hands it to RocksDB, where reads see it. Call
 * store_apply with the same b before anything else writes the store; b
 * may be cleared after it. store_apply holds small batches back and puts
 * many into RocksDB at once: every read through the store applies them
 * first. After a failure of either, as after store_write's. */
int store_log(struct store *s, struct store_batch *b, bool sync, char *err,
	      size_t errlen);
int store_apply(struct store *s, struct store_batch *b, char *err,
		size_t errlen);
/* Puts every record store_apply held back into RocksDB (reads do it
 * themselves; a backup or any direct use of store_db needs it). 0, or -1
 * with a reason: the records stay held, and the next store_log fails too,
 * until store_reopen. Any thread. */
int store_apply_held(struct store *s, char *err, size_t errlen);
/* The records held now, and how many RocksDB writes applied held ones. */
void store_held_stats(struct store *s, size_t *records, uint64_t *applies);
/* For tests: the next n applies of held records fail with err. */
void store_fail_held_applies(struct store *s, unsigned n, const char *err);

/* What a failed write's error says about the data dir. */
enum store_fault {
	STORE_FAULT_OTHER,
	STORE_FAULT_NOSPACE, /* ENOSPC */
	STORE_FAULT_IO,      /* EIO and other I/O errors */
};
enum store_fault store_fault_of(const char *err);

/* Writes, fsyncs and removes a file of STORE_PROBE_BYTES in dir: 0 if the
 * data dir takes writes again, else -1 with the reason (errno kept). */
#define STORE_PROBE_BYTES (1 << 20)
int store_probe(const char *dir, char *err, size_t errlen);
/* After a failed write: closes RocksDB (nothing is flushed) and opens it
 * again on the same directory, once store_probe succeeds. The write
 * batches made for s stay valid. While closed (the open failed), reads
 * fail and nothing may be written: try again later. 0, or -1 with a
 * reason. */
int store_reopen(struct store *s, char *err, size_t errlen);
/* false between a failed reopen and the next successful one. */
bool store_is_open(const struct store *s);
/* The RocksDB handle, for the store's small family that needs more of
 * RocksDB than this API gives (backup.c: a BackupEngine reads through
 * it, from a thread of its own: the handle is thread-safe). NULL while
 * closed. The store keeps it: the caller must see that no reopen or
 * close happens while it is in use (core.c holds reopens while a worker
 * runs), and call store_apply_held first to see every write. */
struct rocksdb_t;
struct rocksdb_t *store_db(struct store *s);
/* The data keys that seal customer data in values (keyring.h): records.c
 * and telemetry.c seal and open through it. The store keeps the pointer,
 * not the keyring (the caller frees it after store_close). NULL (the
 * default, and unit tests'): values are written in clear, sealed ones
 * read as destroyed. */
struct keyring;
void store_set_keyring(struct store *s, struct keyring *kr);
struct keyring *store_keyring(const struct store *s);
/* Flushes every column family's memtable and waits. 0, or -1 with the
 * reason. Thread-safe (the RocksDB handle is); the commit log keeps its
 * segments until store_roll_log or their turn to be retired. */
int store_flush_all(struct store *s, char *err, size_t errlen);
/* Core thread: ends the commit log's segment, flushes every memtable and
 * waits, then deletes every segment before the new one, so that no file
 * of the log holds a write made before the call (a tenant's deletion). 0,
 * or -1 with the reason. */
int store_roll_log(struct store *s, char *err, size_t errlen);
/* Compacts [start, end) of cf down to the last level (range deletions
 * applied, the files that held the range rewritten); blocks for as long
 * as that takes: call it from a worker thread. Thread-safe. */
void store_compact_range(struct store *s, enum store_cf cf, const void *start,
			 size_t slen, const void *end, size_t elen);
/* The directory the store was opened in. */
const char *store_dir(const struct store *s);
/* Failure injection for tests (any thread): the next n writes fail with
 * err, worded as RocksDB words it, without reaching RocksDB; n = 0 ends
 * that. */
void store_fail_writes(struct store *s, unsigned n, const char *err);
/* RocksDB's write buffers, for `queue stats` (and the soak test, which
 * samples memory when they have just been flushed). */
struct store_memstats {
	uint64_t memtable_bytes; /* active and immutable, all families */
	uint64_t immutable;      /* memtables waiting to be flushed */
	uint64_t flushes_running;
	uint64_t sst_bytes;      /* table files, all families */
};
/* Fills ms (zeros while the store is closed). Core thread. */
void store_memstats(struct store *s, struct store_memstats *ms);
/* 1 and a malloc'd copy in *val (caller frees) if found, 0 if not, -1 on
 * error. */
int store_get(struct store *s, enum store_cf cf, const void *key, size_t klen,
	      char **val, size_t *vlen, char *err, size_t errlen);

/* Return non-zero to stop the scan (that value is returned). */
typedef int (*store_scan_fn)(const void *key, size_t klen, const void *val,
			     size_t vlen, void *ctx);
/* Calls fn for every key in [start, end) in order; NULL start / end mean
 * unbounded. An upper bound is set on the iterator so it never walks over
 * tombstones past end. Returns 0, fn's non-zero value, or -1. */
int store_scan(struct store *s, enum store_cf cf, const void *start,
	       size_t slen, const void *end, size_t elen, store_scan_fn fn,
	       void *ctx);

/* One iterator over cf for many short scans in a row (a tenant delete's
 * line logs, a run at a time): store_scan makes an iterator each call,
 * which costs more than a scan of a few keys. It reads the store as it
 * was when opened. NULL if the store is closed (logged). */
struct store_reader;
struct store_reader *store_reader_open(struct store *s, enum store_cf cf);
/* store_scan over [start, end) (both given) with the reader's iterator. */
int store_reader_scan(struct store_reader *rd, const void *start,
		      size_t slen, const void *end, size_t elen,
		      store_scan_fn fn, void *ctx);
void store_reader_close(struct store_reader *rd);

/* Copies the last key of cf (at most cap bytes) to buf, its length to
 * *klen. 1 if there is one, 0 if cf is empty, -1 on a read error. */
int store_last_key(struct store *s, enum store_cf cf, void *buf, size_t cap,
		   size_t *klen);

void store_put_u64be(uint8_t out[8], uint64_t v);
uint64_t store_get_u64be(const uint8_t in[8]);
void store_put_u32be(uint8_t out[4], uint32_t v);
uint32_t store_get_u32be(const uint8_t in[4]);

#endif
