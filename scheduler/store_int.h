/*
 * store_int.h - the store's insides, shared by its two files: store.c
 * (open, close, the commit log, batches, reads) and store_format.c (the
 * format version). Nothing else includes it.
 */
#ifndef SP_STORE_INT_H
#define SP_STORE_INT_H

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
};

struct store_batch {
	rocksdb_writebatch_t *wb;
};

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
