/*
 * store_int.h - the store's insides, shared by its files: store.c (open,
 * close, the commit log's retiring, batches, reads), store_held.c (the
 * write path: the log, then the memtables, many turns' writes at once)
 * and store_format.c (the format version). Nothing else includes it.
 */
#ifndef SP_STORE_INT_H
#define SP_STORE_INT_H

#include <pthread.h>
#include <rocksdb/c.h>
#include <stdatomic.h>

#include "store.h"

struct store {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_options_t *blob_opts; /* the telemetry column family's */
	rocksdb_ratelimiter_t *limiter; /* background writes */
	rocksdb_cache_t *cache;
	rocksdb_block_based_table_options_t *table;
	rocksdb_writeoptions_t *wlog; /* the WAL off: commitlog.c logs */
	rocksdb_readoptions_t *ropts;
	rocksdb_column_family_handle_t *cf[CF_COUNT + 1]; /* + "default" */
	uint32_t opened_format; /* the version found on open (0: new store) */
	char dir[4096];
	atomic_uint fail_writes; /* store_fail_writes */
	struct keyring *keyring;  /* store_set_keyring */
	char fail_err[256];
	struct commitlog *log;
	uint64_t seg_bytes;
	/* Once no memtable awaits a flush, the segments below this are
	 * retired (0: none waits); checked at most every RETIRE_CHECK_US. */
	uint64_t retire_before;
	int64_t retire_checked_us;
	bool switched; /* store_log started a segment: retire at the apply */
	/* Writes synced in the commit log but not yet in RocksDB's
	 * memtables (store_held.c): one WriteBatch's bytes (its header, then
	 * the records of many). Any thread may apply them, under lock. */
	struct {
		pthread_mutex_t lock;
		char *rep;
		size_t len;         /* bytes in rep: WB_HEADER when empty */
		uint32_t count;     /* the records in rep */
		uint64_t applies;   /* RocksDB writes of held records */
		unsigned fail;      /* store_fail_held_applies */
		bool failed;        /* the last apply failed; rep kept */
		char err[256];      /* its reason */
	} held;
};

struct store_batch {
	rocksdb_writebatch_t *wb;
};

/* "store ... is closed" into err; returns -1. */
int store_closed_err(const struct store *s, char *err, size_t errlen);
/* After a write applied (store_held.c): a segment switch starts the
 * retiring of the segments before it, else a due check of it runs. */
void store_retire_step(struct store *s);
/* Held writes: set up at open, freed at close, dropped at a reopen (the
 * commit log's replay puts them into the new handle). */
void store_held_init(struct store *s);
void store_held_free(struct store *s);
void store_held_drop(struct store *s);
/* Before a read: applies what is held. If that fails, the read goes on
 * without it, as reads are answered while the store is down: the
 * failure is logged once, and the next store_log fails with it. */
void store_held_for_read(struct store *s);

/* The format version of the store in dir, read without writing anything
 * (the FORMAT file, else a read-only open of `meta`); 0 for none. 0, or
 * -1 with a reason. */
int store_format_probe(struct store *s, const char *dir, uint32_t *v,
		       char *err, size_t errlen);
/* Says in err that v is newer than this build reads; returns -1. */
int store_format_newer(const char *dir, uint32_t v, char *err,
		       size_t errlen);
/* Writes the current version into a new store and upgrades an older one
 * (s open); sets s->opened_format. 0, or -1 with a reason. */
int store_format_set(struct store *s, const char *dir, char *err,
		     size_t errlen);

#endif
