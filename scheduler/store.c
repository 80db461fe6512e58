/* store.c - RocksDB column families, batches and scans. */
#include "store.h"

#include <rocksdb/c.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commitlog.h"
#include "store_int.h"
#include "util.h"

static const char *const cf_names[CF_COUNT] = {
	"meta", "tenants", "envs",  "agents", "tokens",     "jobs",
	"runs", "queue",   "logs",  "usage",  "idempotency", "telemetry",
	"costlog", "audit", "webhooks", "whoutbox", "jobvers",
	"schedules",
};

const char *store_cf_name(enum store_cf cf)
{
	return (unsigned)cf < CF_COUNT ? cf_names[cf] : "?";
}

void store_memstats(struct store *s, struct store_memstats *ms)
{
	uint64_t v;

	memset(ms, 0, sizeof(*ms));
	if (!store_is_open(s))
		return;
	for (int i = 0; i < CF_COUNT; i++) {
		if (!rocksdb_property_int_cf(s->db, s->cf[i],
					     "rocksdb.cur-size-all-mem-tables",
					     &v))
			ms->memtable_bytes += v;
		if (!rocksdb_property_int_cf(s->db, s->cf[i],
					     "rocksdb.num-immutable-mem-table",
					     &v))
			ms->immutable += v;
		if (!rocksdb_property_int_cf(s->db, s->cf[i],
					     "rocksdb.total-sst-files-size",
					     &v))
			ms->sst_bytes += v;
	}
	if (!rocksdb_property_int(s->db, "rocksdb.num-running-flushes", &v))
		ms->flushes_running = v;
}

void store_put_u64be(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

uint64_t store_get_u64be(const uint8_t in[8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

void store_put_u32be(uint8_t out[4], uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

uint32_t store_get_u32be(const uint8_t in[4])
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | in[i];
	return v;
}

static void setup_options(struct store *s, const struct store_options *o)
{
	rocksdb_options_t *base = rocksdb_options_create();
	char *oerr = NULL;

	/* Not in the C API: after a crash, the WAL's writes stay in the
	 * memtables instead of being flushed to new files during the open,
	 * which would hold up a restart. */
	s->opts = rocksdb_options_create();
	rocksdb_get_options_from_string(base, "avoid_flush_during_recovery=true",
					s->opts, &oerr);
	if (oerr) {
		log_warn("store: %s", oerr); /* s->opts keeps the defaults */
		free(oerr);
	}
	rocksdb_options_destroy(base);
	rocksdb_options_set_create_if_missing(s->opts, 1);
	rocksdb_options_set_create_missing_column_families(s->opts, 1);
	rocksdb_options_set_max_open_files(s->opts, 512);
	/* RocksDB's own LOG file, in the data dir, keeps only its header and
	 * fatal errors. This build (Debian's 7.8, assertions on) aborts on
	 * the next line written to a LOG whose last write failed: on a full
	 * disk the warning about the failed write was that write. Our own
	 * log says what happened to the store. */
	rocksdb_options_set_info_log_level(s->opts, 4 /* FATAL_LEVEL */);
	rocksdb_options_set_keep_log_file_num(s->opts, 3);
	rocksdb_options_set_max_background_jobs(s->opts, 2);
	/* RocksDB's own WAL is written no more (the commit log is), but an
	 * open still replays one an older build left: a torn last record is
	 * dropped, damage anywhere else stops the open. */
	rocksdb_options_set_wal_recovery_mode(s->opts, 0 /* kTolerateCorruptedTailRecords */);
	/* Background flushes and compactions write their files out as they
	 * go rather than in one burst at the end, which would stall the WAL
	 * fsync that every acknowledgement waits for. */
	rocksdb_options_set_bytes_per_sync(s->opts, 1 << 20);
	/* ... and no faster than this, so that a burst of them leaves the
	 * disk to the WAL fsyncs (well above what the WAL itself takes in). */
	s->limiter = rocksdb_ratelimiter_create(160 << 20, 50 * 1000, 10);
	rocksdb_options_set_ratelimiter(s->opts, s->limiter);
	s->cache = rocksdb_cache_create_lru(64 << 20);
	s->table = rocksdb_block_based_options_create();
	rocksdb_block_based_options_set_block_cache(s->table, s->cache);
	rocksdb_block_based_options_set_filter_policy(
		s->table, rocksdb_filterpolicy_create_bloom(10));
	rocksdb_options_set_block_based_table_factory(s->opts, s->table);
	/* Telemetry batches are zlib-compressed already, some KiB each, and
	 * written once: kept in blob files, they are neither compressed again
	 * nor rewritten by every compaction (the keys are); blob GC reclaims
	 * the space that retention's range deletions free. */
	s->blob_opts = rocksdb_options_create_copy(s->opts);
	rocksdb_options_set_compression(s->blob_opts, rocksdb_no_compression);
	rocksdb_options_set_enable_blob_files(s->blob_opts, 1);
	rocksdb_options_set_min_blob_size(s->blob_opts, 1024);
	rocksdb_options_set_blob_file_size(s->blob_opts, 64 << 20);
	rocksdb_options_set_enable_blob_gc(s->blob_opts, 1);
	/* The commit log holds every write until its memtable is flushed;
	 * flushing all column families at one point keeps a flushed state
	 * (and a backup, which flushes) whole across them. */
	rocksdb_options_set_atomic_flush(s->opts, 1);
	s->wlog = rocksdb_writeoptions_create();
	rocksdb_writeoptions_disable_WAL(s->wlog, 1);
	s->seg_bytes = (uint64_t)o->max_wal_mb << 19; /* two make the limit */
	s->ropts = rocksdb_readoptions_create();
}

int store_probe(const char *dir, char *err, size_t errlen)
{
	char path[4200];
	static const char zero[65536];
	int fd, saved;
	size_t done = 0;

	snprintf(path, sizeof(path), "%s/.store-probe", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		goto fail;
	while (done < STORE_PROBE_BYTES) {
		if (write_all(fd, zero, sizeof(zero)) == -1)
			goto fail;
		done += sizeof(zero);
	}
	if (fsync(fd) == -1)
		goto fail;
	close(fd);
	unlink(path);
	return 0;
fail:
	saved = errno;
	snprintf(err, errlen, "cannot write to the data dir '%s': %s", dir,
		 strerror(saved));
	if (fd != -1)
		close(fd);
	unlink(path);
	errno = saved;
	return -1;
}

/* Checked at most this often: whether the retired segments can go. */
#define RETIRE_CHECK_US 20000

static int flush_memtables(struct store *s, bool wait, char **rerr);

static int apply_record(void *ctx, const void *rec, size_t len, char *err,
			size_t errlen)
{
	struct store *s = ctx;
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create_from(rec, len);
	char *rerr = NULL;

	rocksdb_write(s->db, s->wlog, wb, &rerr);
	rocksdb_writebatch_destroy(wb);
	if (rerr) {
		snprintf(err, errlen, "cannot replay the commit log of '%s': "
			 "%s", s->dir, rerr);
		free(rerr);
		return -1;
	}
	return 0;
}

/* The log's segments before the active one go once the memtables that
 * hold their writes are flushed: that flush starts now. */
static void start_retire(struct store *s)
{
	if (!commitlog_retired_pending(s->log))
		return;
	flush_memtables(s, false, NULL); /* a failure: the next switch tries */
	s->retire_before = commitlog_active(s->log);
	s->retire_checked_us = time_mono_us();
}

static void check_retire(struct store *s)
{
	char err[512];
	uint64_t v;
	int64_t now;

	if (!s->retire_before) /* the common case: nothing waits */
		return;
	now = time_mono_us();
	if (now - s->retire_checked_us < RETIRE_CHECK_US)
		return;
	s->retire_checked_us = now;
	for (int i = 0; i <= CF_COUNT; i++)
		if (rocksdb_property_int_cf(s->db, s->cf[i],
					    "rocksdb.num-immutable-mem-table",
					    &v) || v)
			return;
	if (commitlog_retire_below(s->log, s->retire_before, err, sizeof(err)))
		log_warn("store: %s", err); /* kept: replayed again, harmless */
	s->retire_before = 0;
}

void store_retire_step(struct store *s)
{
	/* the segments before a switch are retired once their writes, all
	 * applied now, are flushed */
	if (s->switched)
		start_retire(s);
	else
		check_retire(s);
	s->switched = false;
}

/* Opens the commit log and replays it into the memtables. */
static int open_log(struct store *s, char *err, size_t errlen)
{
	char path[4200];
	uint64_t n;

	snprintf(path, sizeof(path), "%s/%s", s->dir, COMMITLOG_DIR);
	s->log = commitlog_open(path, s->seg_bytes, apply_record, s, &n, err,
				errlen);
	if (!s->log)
		return -1;
	if (n)
		log_info("store '%s': %" PRIu64 " writes replayed from the "
			 "commit log", s->dir, n);
	start_retire(s);
	return 0;
}

/* Opens RocksDB in s->dir with s's options and column families. */
static int open_db(struct store *s, char *err, size_t errlen)
{
	const char *names[CF_COUNT + 1];
	const rocksdb_options_t *cfopts[CF_COUNT + 1];
	char *rerr = NULL;

	for (int i = 0; i < CF_COUNT; i++) {
		names[i] = cf_names[i];
		cfopts[i] = i == CF_TELEMETRY ? s->blob_opts : s->opts;
	}
	names[CF_COUNT] = "default";
	cfopts[CF_COUNT] = s->opts;
	s->db = rocksdb_open_column_families(s->opts, s->dir, CF_COUNT + 1,
					     names, cfopts, s->cf, &rerr);
	if (!s->db) {
		snprintf(err, errlen, "cannot open store '%s': %s", s->dir,
			 rerr ? rerr : "unknown error");
		free(rerr);
		memset(s->cf, 0, sizeof(s->cf));
		return -1;
	}
	return 0;
}

/* Starts a flush of every memtable (wait: until it is done). 0 when
 * every flush was started (or done), -1 if one failed. */
static int flush_memtables(struct store *s, bool wait, char **rerr)
{
	rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
	int rc = 0;

	rocksdb_flushoptions_set_wait(fo, wait);
	for (int i = 0; i <= CF_COUNT; i++) {
		char *ferr = NULL;
		if (s->cf[i])
			rocksdb_flush_cf(s->db, fo, s->cf[i], &ferr);
		if (ferr) {
			rc = -1;
			if (rerr && !*rerr)
				*rerr = ferr;
			else
				free(ferr);
		}
	}
	rocksdb_flushoptions_destroy(fo);
	return rc;
}

/* Closes RocksDB and the commit log; with flush, the memtables are
 * written out first, and then the log is deleted: a clean stop leaves
 * nothing to replay, which makes for a fast start. A failed flush only
 * costs that. */
static void close_db(struct store *s, bool flush)
{
	bool flushed = s->db && flush && flush_memtables(s, true, NULL) == 0;

	commitlog_close(s->log, flushed);
	s->log = NULL;
	s->retire_before = 0;
	s->switched = false;
	for (int i = 0; i <= CF_COUNT; i++)
		if (s->cf[i])
			rocksdb_column_family_handle_destroy(s->cf[i]);
	memset(s->cf, 0, sizeof(s->cf));
	if (s->db)
		rocksdb_close(s->db);
	s->db = NULL;
}

struct store *store_open(const char *dir, char *err, size_t errlen)
{
	return store_open_with(dir, NULL, err, errlen);
}

struct store *store_open_with(const char *dir, const struct store_options *o,
			      char *err, size_t errlen)
{
	static const struct store_options defaults = STORE_OPTIONS_INIT;
	struct store *s = xcalloc(1, sizeof(*s));
	uint32_t probed;

	store_held_init(s);
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	setup_options(s, o ? o : &defaults);
	/* A full (or failing) disk is refused here, in one line: RocksDB
	 * would fail further in, or abort on its own LOG (above). */
	if (mkdir_p(dir, 0700)) {
		snprintf(err, errlen, "cannot create '%s': %s", dir,
			 strerror(errno));
		store_close(s);
		return NULL;
	}
	if (store_probe(dir, err, errlen) ||
	    store_format_probe(s, dir, &probed, err, errlen)) {
		store_close(s);
		return NULL;
	}
	if (probed > STORE_FORMAT_VERSION) {
		store_format_newer(dir, probed, err, errlen);
		store_close(s);
		return NULL;
	}
	if (open_db(s, err, errlen) || open_log(s, err, errlen) ||
	    store_format_set(s, dir, err, errlen)) {
		store_close(s);
		return NULL;
	}
	return s;
}

int store_reopen(struct store *s, char *err, size_t errlen)
{
	if (store_probe(s->dir, err, errlen))
		return -1;
	/* Nothing is flushed: the memtables are dropped, and the log's
	 * replay, into the new handle, brings back what was synced; the
	 * failed segment is never written again. */
	store_held_drop(s);
	close_db(s, false);
	if (open_db(s, err, errlen))
		return -1;
	if (open_log(s, err, errlen)) {
		close_db(s, false);
		return -1;
	}
	return 0;
}

bool store_is_open(const struct store *s)
{
	return s->db != NULL;
}

struct rocksdb_t *store_db(struct store *s)
{
	return s->db;
}

void store_set_keyring(struct store *s, struct keyring *kr)
{
	s->keyring = kr;
}

struct keyring *store_keyring(const struct store *s)
{
	return s->keyring;
}

int store_roll_log(struct store *s, char *err, size_t errlen)
{
	if (!s->db)
		return store_closed_err(s, err, errlen);
	if (commitlog_roll(s->log, err, errlen) ||
	    store_flush_all(s, err, errlen))
		return -1;
	s->retire_before = 0;
	return commitlog_retire_below(s->log, commitlog_active(s->log), err,
				      errlen);
}

int store_flush_all(struct store *s, char *err, size_t errlen)
{
	char *rerr = NULL;

	if (!s->db)
		return store_closed_err(s, err, errlen);
	if (store_apply_held(s, err, errlen))
		return -1;
	if (flush_memtables(s, true, &rerr)) {
		snprintf(err, errlen, "flush: %s", rerr);
		free(rerr);
		return -1;
	}
	return 0;
}

void store_compact_range(struct store *s, enum store_cf cf, const void *start,
			 size_t slen, const void *end, size_t elen)
{
	rocksdb_compactoptions_t *co;
	char err[256];

	if (!s->db)
		return;
	if (store_apply_held(s, err, sizeof(err))) {
		/* the range's deletion may be among them: compact later */
		log_error("%s", err);
		return;
	}
	co = rocksdb_compactoptions_create();
	/* rewrite the bottom level too: its files hold the range's values
	 * until they are rewritten without them */
	rocksdb_compactoptions_set_bottommost_level_compaction(co, 2);
	rocksdb_compactoptions_set_exclusive_manual_compaction(co, 0);
	rocksdb_compact_range_cf_opt(s->db, s->cf[cf], co, start, slen, end,
				     elen);
	rocksdb_compactoptions_destroy(co);
}

const char *store_dir(const struct store *s)
{
	return s->dir;
}

void store_fail_writes(struct store *s, unsigned n, const char *err)
{
	if (n)
		snprintf(s->fail_err, sizeof(s->fail_err), "%s", err);
	atomic_store(&s->fail_writes, n);
}

enum store_fault store_fault_of(const char *err)
{
	if (strstr(err, "No space left on device") ||
	    strstr(err, "Disk quota exceeded"))
		return STORE_FAULT_NOSPACE;
	if (strstr(err, "IO error") || strstr(err, "Input/output error"))
		return STORE_FAULT_IO;
	return STORE_FAULT_OTHER;
}

void store_close(struct store *s)
{
	char err[256];

	if (!s)
		return;
	/* held writes that cannot be applied keep the log for the next
	 * open's replay: nothing is flushed, nothing deleted */
	if (store_apply_held(s, err, sizeof(err))) {
		log_error("%s", err);
		close_db(s, false);
	} else {
		close_db(s, true);
	}
	store_held_free(s);
	rocksdb_writeoptions_destroy(s->wlog);
	rocksdb_readoptions_destroy(s->ropts);
	rocksdb_options_destroy(s->opts);
	rocksdb_options_destroy(s->blob_opts);
	rocksdb_ratelimiter_destroy(s->limiter);
	rocksdb_block_based_options_destroy(s->table);
	rocksdb_cache_destroy(s->cache);
	free(s);
}

struct store_batch *store_batch_new(void)
{
	struct store_batch *b = xmalloc(sizeof(*b));
	b->wb = rocksdb_writebatch_create();
	return b;
}

void store_batch_free(struct store_batch *b)
{
	if (!b)
		return;
	rocksdb_writebatch_destroy(b->wb);
	free(b);
}

void store_batch_clear(struct store_batch *b)
{
	rocksdb_writebatch_clear(b->wb);
}

size_t store_batch_count(const struct store_batch *b)
{
	return (size_t)rocksdb_writebatch_count(b->wb);
}

/* Writes are refused while the store is down (core.c), and a reopen that
 * failed is only ever found then: a write to a closed store is a bug, and
 * going on would acknowledge what cannot be written. */
static void check_open(const struct store *s)
{
	if (!s->db) {
		log_error("store '%s': a write while the store is closed; "
			  "aborting", s->dir);
		abort();
	}
}

void store_batch_put(struct store_batch *b, struct store *s, enum store_cf cf,
		     const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	check_open(s);
	rocksdb_writebatch_put_cf(b->wb, s->cf[cf], key, klen, val, vlen);
}

void store_batch_delete(struct store_batch *b, struct store *s,
			enum store_cf cf, const void *key, size_t klen)
{
	check_open(s);
	rocksdb_writebatch_delete_cf(b->wb, s->cf[cf], key, klen);
}

void store_batch_delete_range(struct store_batch *b, struct store *s,
			      enum store_cf cf, const void *start, size_t slen,
			      const void *end, size_t elen)
{
	check_open(s);
	rocksdb_writebatch_delete_range_cf(b->wb, s->cf[cf], start, slen, end,
					   elen);
}

int store_closed_err(const struct store *s, char *err, size_t errlen)
{
	snprintf(err, errlen, "store '%s' is closed (it could not be opened "
		 "again after a failed write)", s->dir);
	return -1;
}

int store_get(struct store *s, enum store_cf cf, const void *key, size_t klen,
	      char **val, size_t *vlen, char *err, size_t errlen)
{
	char *rerr = NULL, *v;

	if (!s->db)
		return store_closed_err(s, err, errlen);
	store_held_for_read(s);
	v = rocksdb_get_cf(s->db, s->ropts, s->cf[cf], key, klen, vlen,
				 &rerr);
	if (rerr) {
		snprintf(err, errlen, "%s", rerr);
		free(rerr);
		return -1;
	}
	if (!v)
		return 0;
	*val = xmalloc(*vlen + 1);
	memcpy(*val, v, *vlen);
	(*val)[*vlen] = '\0';
	rocksdb_free(v);
	return 1;
}

int store_last_key(struct store *s, enum store_cf cf, void *buf, size_t cap,
		   size_t *klen)
{
	rocksdb_iterator_t *it;
	char *rerr = NULL;
	int rc = 0;

	if (!s->db)
		return -1;
	store_held_for_read(s);
	it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf[cf]);
	rocksdb_iter_seek_to_last(it);
	if (rocksdb_iter_valid(it)) {
		const char *k = rocksdb_iter_key(it, klen);
		memcpy(buf, k, *klen < cap ? *klen : cap);
		rc = 1;
	}
	rocksdb_iter_get_error(it, &rerr);
	if (rerr) {
		log_error("store read of '%s': %s", cf_names[cf], rerr);
		free(rerr);
		rc = -1;
	}
	rocksdb_iter_destroy(it);
	return rc;
}

/* The read options of a scan: it reads each block once (a restart reads
 * every run), so keeping its blocks would only evict the ones point
 * lookups use, and fill fresh memory, which is slow to touch on a VM. */
static rocksdb_readoptions_t *scan_options(void)
{
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();

	rocksdb_readoptions_set_fill_cache(ro, 0);
	return ro;
}

/* The bytewise order of RocksDB's default comparator. */
static int key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

/* Calls fn for each key from where it stands up to end (NULL: the
 * iterator's own bound, if any), then checks the iterator's error.
 * store_scan's return values. */
static int scan_from(rocksdb_iterator_t *it, enum store_cf cf,
		     const void *end, size_t elen, store_scan_fn fn, void *ctx)
{
	char *rerr = NULL;
	int rc = 0;

	for (; rocksdb_iter_valid(it) && rc == 0; rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v;
		if (end && key_cmp(k, klen, end, elen) >= 0)
			break;
		v = rocksdb_iter_value(it, &vlen);
		rc = fn(k, klen, v, vlen, ctx);
	}
	if (rc == 0) {
		rocksdb_iter_get_error(it, &rerr);
		if (rerr) {
			log_error("store scan of '%s': %s", cf_names[cf], rerr);
			free(rerr);
			rc = -1;
		}
	}
	return rc;
}

int store_scan(struct store *s, enum store_cf cf, const void *start,
	       size_t slen, const void *end, size_t elen, store_scan_fn fn,
	       void *ctx)
{
	rocksdb_readoptions_t *ro;
	rocksdb_iterator_t *it;
	int rc;

	if (!s->db) {
		log_error("store scan of '%s': the store is closed", cf_names[cf]);
		return -1;
	}
	store_held_for_read(s);
	ro = scan_options();
	/* the bound also keeps the iterator off the tombstones past end */
	if (end)
		rocksdb_readoptions_set_iterate_upper_bound(ro, end, elen);
	it = rocksdb_create_iterator_cf(s->db, ro, s->cf[cf]);
	if (start)
		rocksdb_iter_seek(it, start, slen);
	else
		rocksdb_iter_seek_to_first(it);
	rc = scan_from(it, cf, NULL, 0, fn, ctx);
	rocksdb_iter_destroy(it);
	rocksdb_readoptions_destroy(ro);
	return rc;
}

struct store_reader {
	rocksdb_readoptions_t *ro;
	rocksdb_iterator_t *it;
	enum store_cf cf;
};

struct store_reader *store_reader_open(struct store *s, enum store_cf cf)
{
	struct store_reader *rd;

	if (!s->db) {
		log_error("store scan of '%s': the store is closed", cf_names[cf]);
		return NULL;
	}
	store_held_for_read(s);
	rd = xcalloc(1, sizeof(*rd));
	rd->ro = scan_options();
	rd->it = rocksdb_create_iterator_cf(s->db, rd->ro, s->cf[cf]);
	rd->cf = cf;
	return rd;
}

int store_reader_scan(struct store_reader *rd, const void *start,
		      size_t slen, const void *end, size_t elen,
		      store_scan_fn fn, void *ctx)
{
	rocksdb_iter_seek(rd->it, start, slen);
	return scan_from(rd->it, rd->cf, end, elen, fn, ctx);
}

void store_reader_close(struct store_reader *rd)
{
	if (!rd)
		return;
	rocksdb_iter_destroy(rd->it);
	rocksdb_readoptions_destroy(rd->ro);
	free(rd);
}
