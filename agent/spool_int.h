/*
 * spool_int.h - what spool.c (appending, reading, acks) and spool_open.c
 * (opening, verifying, closing) share: the spool's structures and a few
 * helpers. Not an API: use spool.h.
 */
#ifndef SP_SPOOL_INT_H
#define SP_SPOOL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spool.h"
#include "spool_disk.h"
#include "util.h"

#define NO_SEG UINT32_MAX
#define SEG_NAME_LEN 26 /* 20 digits, '-', the lane letter, ".seg" */
#define STATE_NAME "state"
#define STATE_TMP "state.tmp"
/* Seqs are reserved this many at a time with one durable state write, so
 * a seq is never handed out twice even if the machine loses the records
 * written since the last sync; a crash skips at most this many. */
#define SEQ_RESERVE 65536
#define SCRATCH_KEEP (1u << 20) /* larger peek buffers are freed after use */

/* One live record; 24 bytes, the spool's memory cost per record. */
struct ent {
	uint64_t seq;
	uint32_t seg; /* segment id */
	uint32_t off; /* of the record header in the segment */
	uint32_t len; /* payload bytes */
	uint8_t kind, flags;
};
_Static_assert(sizeof(struct ent) == 24, "the index costs 24 bytes a record");

struct seg {
	uint64_t name_seq; /* the file name: the first seq it was made for */
	uint64_t size;	   /* bytes on disk */
	uint64_t live;	   /* live records in it */
	uint32_t id;	   /* ids grow with name_seq */
	int fd;		   /* -1 until needed */
	uint8_t lane;
	bool dirty; /* written since the last sync */
};

struct spool {
	char *dir;
	int dirfd, lockfd;
	uint64_t max_bytes, hard_max, seg_bytes;
	enum spool_fsync fsync;
	int64_t interval_ms, last_sync;
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;

	struct seg *segs; /* in id order */
	size_t nsegs, segs_alloc;
	uint32_t next_id;
	uint32_t tail[SPOOL_LANES]; /* the segment appends go to, or NO_SEG */

	struct ent *ents; /* live records are ents[head..n), in seq order */
	size_t head, n, ents_alloc;

	uint64_t next_seq, acked, synced;
	uint64_t floor; /* on disk: every seq handed out is below it */
	bool state_dirty;
	uint64_t disk_bytes;
	struct spool_stats st; /* the counters; the rest is filled on demand */
	uint8_t *buf;	       /* peek scratch */
	size_t buf_alloc;
};

static inline uint64_t rec_bytes(size_t len)
{
	return SPOOL_REC_HDR + (uint64_t)len;
}

void spool_set_err(char *err, size_t errlen, const char *fmt, ...)
	SP_PRINTF(3, 4);
/* A warning through the warn callback (or log_warn). */
void spool_warnf(struct spool *sp, const char *fmt, ...) SP_PRINTF(2, 3);
/* The file name of a segment: "<20-digit seq>-<lane letter>.seg". */
void spool_seg_name(char out[SEG_NAME_LEN + 1], uint64_t seq, int lane);
struct seg *spool_seg_by_id(struct spool *sp, uint32_t id);
/* fsync of the directory unless the policy is never. 0 or -1. */
int spool_dir_sync(struct spool *sp);
/* Writes the state file (acked seq, floor) atomically; with durable (and
 * a policy other than never) it is on disk when this returns. 0 or -1. */
int spool_state_save(struct spool *sp, bool durable);
/* Deletes s if nothing in it is live and appends do not go to it; the
 * caller syncs the directory. */
void spool_seg_reclaim(struct spool *sp, struct seg *s);
/* Counts e in (delta > 0) or out of the live stats. */
void spool_live_add(struct spool *sp, const struct ent *e, int delta);

#endif
