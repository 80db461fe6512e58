/*
 * spool.h - the agent's durable telemetry spool. Telemetry records (opaque,
 * already-encoded payloads) wait here while the scheduler is unreachable or
 * pushes back, survive kill -9 and a torn last write, and are read back in
 * order after reconnecting.
 *
 * Sequence numbers. Every appended record gets a seq (u64) larger than any
 * seq this spool ever handed out, across restarts. Seqs are strictly
 * increasing but may have gaps. The spool removes a record only when it is
 * acknowledged or dropped (below), never returns an acked or dropped record,
 * and never skips a live one. Acks are made durable lazily (see fsync), so a
 * restart after a crash may return records that were sent and acked but
 * whose ack was not yet on disk: the scheduler deduplicates by seq.
 *
 * Kinds and dropping. EVENT records (run state changes) and LOG records
 * flagged SPOOL_FINAL (a run's last log lines) are never dropped. When an
 * append would take the spool over max_bytes (bytes on disk), whole segments
 * of older METRIC records are deleted, oldest first; then, unless the new
 * record is a METRIC, segments of older non-final LOG records. Records live
 * in three lanes of segment files (keep / log / metric), so dropping is
 * deleting a file: the disk size is exact and nothing is rewritten; the
 * price is that drops come a segment at a time (keep segment_bytes well
 * below max_bytes; the default is a 16th, at most 4 MiB). If there is still
 * no room, a METRIC or non-final LOG record is itself dropped
 * (SPOOL_DROPPED); an EVENT or final LOG record is accepted anyway up to
 * hard_max_bytes (default 2 x max_bytes), beyond which append refuses it
 * with SPOOL_FULL and writes nothing: the agent should then pause that
 * run's producer (backpressure) and retry once acks have made room.
 *
 * Damage. On open every record is verified (CRC32 of header and payload).
 * Damage at the end of a lane's last segment with no good record after it
 * is a torn write: it is truncated away (stats.torn_tails). Damage anywhere
 * else is skipped by resynchronising on the next record whose header
 * verifies, counted in stats.corrupt and reported through the warn
 * callback; it is never fatal. A spool directory is used by one process at
 * a time (a lock file).
 *
 * fsync. SPOOL_FSYNC_ALWAYS: an append is on disk when it returns, and so
 * is an ack. SPOOL_FSYNC_INTERVAL: spool_sync_if_due() syncs appends and
 * acks at most every interval_ms; a machine crash may lose what was
 * appended since (a kill -9 loses nothing). SPOOL_FSYNC_NEVER: for tests
 * and benches. Segment files are created and removed with a directory
 * fsync. Unless the policy is never, a seq is never handed out twice: seqs
 * are reserved in blocks of 65536 with a durable write of a floor to the
 * state file, so a record lost in a crash (possibly already sent) never
 * has its seq reused; a restart after a crash skips the rest of the block,
 * a clean close gives it back.
 *
 * Memory: 24 bytes per live record (an index of seq, segment, offset,
 * length, kind, flags; the array grows by doubling) plus a small table of
 * segments; payloads are read from disk by spool_peek. 256 MiB of 1 KiB
 * records is about 6 MB of index.
 *
 * Not thread-safe: one thread owns a spool.
 */
#ifndef SP_SPOOL_H
#define SP_SPOOL_H

#include <stddef.h>
#include <stdint.h>

enum spool_kind { SPOOL_EVENT, SPOOL_LOG, SPOOL_METRIC };
#define SPOOL_KINDS 3

enum spool_flags {
	SPOOL_FINAL = 1 << 0, /* LOG only: a run's final log lines */
};

enum spool_fsync {
	SPOOL_FSYNC_ALWAYS,
	SPOOL_FSYNC_INTERVAL,
	SPOOL_FSYNC_NEVER,
};

enum spool_result {
	SPOOL_ERR = -1,	   /* I/O error or bad argument: see err */
	SPOOL_OK = 0,	   /* appended; *seq set */
	SPOOL_DROPPED = 1, /* a droppable record found no room: counted */
	SPOOL_FULL = 2,	   /* an undroppable record is over the hard bound */
};

#define SPOOL_DEFAULT_MAX_BYTES (256ull << 20)
#define SPOOL_DEFAULT_SEGMENT_BYTES (4ull << 20)
#define SPOOL_DEFAULT_INTERVAL_MS 1000
#define SPOOL_MAX_PAYLOAD (16u << 20)

struct spool_opts {
	const char *dir;	 /* created if missing */
	uint64_t max_bytes;	 /* 0: SPOOL_DEFAULT_MAX_BYTES */
	uint64_t hard_max_bytes; /* 0: 2 x max_bytes; never below max_bytes */
	uint64_t segment_bytes;	 /* 0: max_bytes / 16, at most 4 MiB */
	enum spool_fsync fsync;
	int64_t interval_ms; /* SPOOL_FSYNC_INTERVAL; 0: the default */
	/* Damage found and other non-fatal trouble, one line each; NULL logs
	 * with log_warn. */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
};

struct spool_stats {
	uint64_t live_records[SPOOL_KINDS];    /* indexed by enum spool_kind */
	uint64_t live_bytes[SPOOL_KINDS];      /* on disk, headers included */
	uint64_t dropped_records[SPOOL_KINDS]; /* since open */
	uint64_t dropped_bytes[SPOOL_KINDS];
	uint64_t corrupt;    /* damaged records/regions skipped */
	uint64_t torn_tails; /* torn ends truncated at open */
	uint64_t full;	     /* appends refused with SPOOL_FULL */
	uint64_t segments;   /* segment files */
	uint64_t disk_bytes; /* their total size */
	uint64_t next_seq;   /* the seq the next append gets */
	uint64_t acked_seq;  /* everything up to here is acknowledged */
	uint64_t synced_seq; /* everything up to here is on disk */
};

struct spool_record {
	uint64_t seq;
	enum spool_kind kind;
	unsigned flags;
	const void *data; /* owned by the spool, valid during the callback */
	size_t len;
};

struct spool;

/* Opens (creating if needed) the spool in o->dir, verifies every segment,
 * truncates torn tails and removes segments with nothing live. NULL with a
 * reason if the directory cannot be used or is locked by another process. */
struct spool *spool_open(const struct spool_opts *o, char *err, size_t errlen);
/* Syncs (unless the policy is never), closes and frees. NULL is fine. */
void spool_close(struct spool *sp);

/* Appends a copy of data (len <= SPOOL_MAX_PAYLOAD bytes) as a record of
 * kind with flags (SPOOL_FINAL for LOG only). Returns SPOOL_OK and sets
 * *seq, or SPOOL_DROPPED / SPOOL_FULL as described above (*seq = 0,
 * nothing written), or SPOOL_ERR with a reason (nothing appended). */
enum spool_result spool_append(struct spool *sp, enum spool_kind kind,
			       unsigned flags, const void *data, size_t len,
			       uint64_t *seq, char *err, size_t errlen);

typedef int (*spool_peek_fn)(void *ctx, const struct spool_record *r);
/* Calls fn for the oldest live records with seq > after_seq (0: from the
 * oldest), in seq order, without removing them: at most max_records, and
 * no more than max_bytes of payload unless the first record alone is
 * larger. fn returns nonzero to stop; it must not call into the spool.
 * A record found damaged on disk now is skipped, counted and warned about.
 * Returns the number of records given to fn, or -1 with a reason. */
int spool_peek(struct spool *sp, uint64_t after_seq, size_t max_records,
	       size_t max_bytes, spool_peek_fn fn, void *ctx, char *err,
	       size_t errlen);

/* Acknowledges every record with seq <= upto: they are never returned
 * again, and segment files left with nothing live are deleted. upto below
 * the current ack is a no-op. 0, or -1 (upto was never handed out, or an
 * I/O error; the ack still holds in memory). */
int spool_ack(struct spool *sp, uint64_t upto, char *err, size_t errlen);

/* SPOOL_FSYNC_INTERVAL: syncs appends and acks if interval_ms have passed
 * since the last sync (now_ms on any monotonic clock). Other policies: a
 * no-op. 0 or -1. */
int spool_sync_if_due(struct spool *sp, int64_t now_ms, char *err,
		      size_t errlen);
/* Syncs now, whatever the policy. 0 or -1. */
int spool_sync(struct spool *sp, char *err, size_t errlen);

void spool_get_stats(const struct spool *sp, struct spool_stats *st);

#endif
