/*
 * store_held.c - the store's write path. store_log makes a turn's batch
 * durable in the commit log; store_apply then holds its records back from
 * RocksDB and puts many turns' records into the memtables with one write:
 * RocksDB's write path costs about as much for a batch of two records as
 * the records themselves (docs/performance.md, Serial request path), and a
 * serial client pays it on every start. Every read through the store
 * applies what is held first, so a reader sees each write logged before
 * it; a crash loses nothing, the commit log's replay applies it.
 */
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commitlog.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

/* A WriteBatch's bytes begin with its sequence number (8 bytes) and its
 * count of records (4, little-endian): RocksDB's own format, the one
 * rocksdb_writebatch_data returns and the commit log's replay reads. */
#define WB_HEADER 12
/* Held records are applied once they reach this many bytes (about a
 * hundred starts): the memory held is bounded, and the write's fixed
 * cost is spread. */
#define HELD_APPLY_BYTES (32 * 1024)
#define HELD_CAP (2 * HELD_APPLY_BYTES)

void store_held_init(struct store *s)
{
	pthread_mutex_init(&s->held.lock, NULL);
	s->held.rep = xmalloc(HELD_CAP);
	memset(s->held.rep, 0, WB_HEADER);
	s->held.len = WB_HEADER;
}

void store_held_free(struct store *s)
{
	pthread_mutex_destroy(&s->held.lock);
	free(s->held.rep);
	s->held.rep = NULL;
}

static void held_clear(struct store *s)
{
	s->held.len = WB_HEADER;
	s->held.count = 0;
	s->held.failed = false;
}

void store_held_drop(struct store *s)
{
	pthread_mutex_lock(&s->held.lock);
	held_clear(s);
	pthread_mutex_unlock(&s->held.lock);
}

static int write_rep(struct store *s, const char *rep, size_t len, char *err,
		     size_t errlen)
{
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create_from(rep, len);
	char *rerr = NULL;

	rocksdb_write(s->db, s->wlog, wb, &rerr);
	rocksdb_writebatch_destroy(wb);
	if (rerr) {
		snprintf(err, errlen, "%s", rerr);
		free(rerr);
		return -1;
	}
	return 0;
}

/* The reason the held records could not be applied, into err (the lock
 * is held); returns -1. */
static int held_failure(const struct store *s, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot apply writes to '%s': %s", s->dir,
		 s->held.err);
	return -1;
}

/* Applies the held records; the lock is held. On failure they stay held,
 * and the next store_log fails with the same reason (the store goes
 * down), until store_reopen drops them for the log's replay. */
static int apply_locked(struct store *s, char *err, size_t errlen)
{
	uint32_t n = s->held.count;
	char *h = s->held.rep;

	if (!n)
		return 0;
	if (!s->db)
		return store_closed_err(s, err, errlen);
	if (s->held.fail) {
		s->held.fail--; /* store_fail_held_applies set the reason */
	} else {
		for (int i = 0; i < 4; i++)
			h[8 + i] = (char)(n >> (8 * i) & 0xff);
		if (!write_rep(s, h, s->held.len, s->held.err,
			       sizeof(s->held.err))) {
			s->held.applies++;
			held_clear(s);
			return 0;
		}
	}
	s->held.failed = true;
	return held_failure(s, err, errlen);
}

int store_apply_held(struct store *s, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&s->held.lock);
	rc = apply_locked(s, err, errlen);
	pthread_mutex_unlock(&s->held.lock);
	return rc;
}

void store_held_for_read(struct store *s)
{
	char err[512];
	bool failed_now;

	pthread_mutex_lock(&s->held.lock);
	failed_now = !s->held.failed && apply_locked(s, err, sizeof(err));
	pthread_mutex_unlock(&s->held.lock);
	if (failed_now)
		log_error("store: %s; reads go on without the writes held "
			  "since, until the store is reopened",
			  err);
}

int store_log(struct store *s, struct store_batch *b, bool sync, char *err,
	      size_t errlen)
{
	const char *data;
	size_t len;
	bool switched, failed;

	if (!s->db)
		return store_closed_err(s, err, errlen);
	if (atomic_load(&s->fail_writes)) {
		atomic_fetch_sub(&s->fail_writes, 1);
		snprintf(err, errlen, "%s", s->fail_err);
		return -1;
	}
	pthread_mutex_lock(&s->held.lock);
	failed = s->held.failed && held_failure(s, err, errlen);
	pthread_mutex_unlock(&s->held.lock);
	if (failed)
		return -1;
	data = rocksdb_writebatch_data(b->wb, &len);
	if (commitlog_append(s->log, data, len, sync, &switched, err, errlen))
		return -1;
	s->switched |= switched;
	return 0;
}

/* Adds b's records to the held ones (the lock is held); one too large to
 * hold goes to RocksDB at once, after them. */
static int hold_locked(struct store *s, struct store_batch *b, char *err,
		       size_t errlen)
{
	size_t len;
	const char *rep = rocksdb_writebatch_data(b->wb, &len);
	size_t body = len - WB_HEADER;

	if (s->held.failed && apply_locked(s, err, errlen))
		return -1;
	if (s->held.len + body > HELD_CAP && apply_locked(s, err, errlen))
		return -1;
	if (WB_HEADER + body > HELD_CAP) {
		if (write_rep(s, rep, len, err, errlen))
			return -1;
		s->held.applies++;
		return 0;
	}
	memcpy(s->held.rep + s->held.len, rep + WB_HEADER, body);
	s->held.len += body;
	s->held.count += (uint32_t)rocksdb_writebatch_count(b->wb);
	/* a segment switch retires the segments before it: their writes
	 * must all be in the memtables that are flushed then */
	if (s->held.len >= HELD_APPLY_BYTES || s->switched)
		return apply_locked(s, err, errlen);
	return 0;
}

int store_apply(struct store *s, struct store_batch *b, char *err,
		size_t errlen)
{
	int rc;

	if (!s->db)
		return store_closed_err(s, err, errlen);
	pthread_mutex_lock(&s->held.lock);
	rc = hold_locked(s, b, err, errlen);
	pthread_mutex_unlock(&s->held.lock);
	if (!rc)
		store_retire_step(s);
	return rc;
}

int store_write(struct store *s, struct store_batch *b, bool sync, char *err,
		size_t errlen)
{
	if (store_log(s, b, sync, err, errlen))
		return -1;
	return store_apply(s, b, err, errlen);
}

void store_held_stats(struct store *s, size_t *records, uint64_t *applies)
{
	pthread_mutex_lock(&s->held.lock);
	*records = s->held.count;
	*applies = s->held.applies;
	pthread_mutex_unlock(&s->held.lock);
}

void store_fail_held_applies(struct store *s, unsigned n, const char *err)
{
	pthread_mutex_lock(&s->held.lock);
	s->held.fail = n;
	snprintf(s->held.err, sizeof(s->held.err), "%s", err);
	pthread_mutex_unlock(&s->held.lock);
}
