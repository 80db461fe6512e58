/*
 * spool.c - the agent's durable telemetry spool (see spool.h): segment
 * files in three lanes, an in-memory index of live records in seq order,
 * drops by deleting a lane's oldest segment, a state file holding the acked
 * seq and a floor for seqs reserved in blocks.
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "spool_int.h"

void spool_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void spool_warnf(struct spool *sp, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sp->warn)
		sp->warn(sp->warn_ctx, msg);
	else
		log_warn("%s", msg);
}

void spool_seg_name(char out[SEG_NAME_LEN + 1], uint64_t seq, int lane)
{
	snprintf(out, SEG_NAME_LEN + 1, "%020" PRIu64 "-%c.seg", seq,
		 spool_lane_char(lane));
}

struct seg *spool_seg_by_id(struct spool *sp, uint32_t id)
{
	size_t lo = 0, hi = sp->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sp->segs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sp->nsegs && sp->segs[lo].id == id ? &sp->segs[lo] : NULL;
}

static int seg_fd(struct spool *sp, struct seg *s)
{
	char name[SEG_NAME_LEN + 1];
	if (s->fd == -1) {
		spool_seg_name(name, s->name_seq, s->lane);
		s->fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC);
	}
	return s->fd;
}

int spool_dir_sync(struct spool *sp)
{
	if (sp->fsync == SPOOL_FSYNC_NEVER)
		return 0;
	return fsync(sp->dirfd);
}

/* Writes the state file (acked seq, floor) atomically; with durable, the
 * file and the rename are on disk when it returns. */
int spool_state_save(struct spool *sp, bool durable)
{
	uint8_t buf[SPOOL_STATE_LEN];
	int fd, saved;

	durable = durable && sp->fsync != SPOOL_FSYNC_NEVER;
	spool_disk_put_state(buf, sp->acked, sp->floor);
	fd = openat(sp->dirfd, STATE_TMP,
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if (write_all(fd, buf, sizeof(buf)) == -1 ||
	    (durable && fsync(fd) == -1)) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1 ||
	    renameat(sp->dirfd, STATE_TMP, sp->dirfd, STATE_NAME) == -1 ||
	    (durable && fsync(sp->dirfd) == -1))
		return -1;
	sp->state_dirty = false;
	return 0;
}

/* Deletes segment s (its records must be out of the index). The caller
 * syncs the directory once it is done. */
static void seg_remove(struct spool *sp, struct seg *s)
{
	char name[SEG_NAME_LEN + 1];
	size_t i = (size_t)(s - sp->segs);

	spool_seg_name(name, s->name_seq, s->lane);
	if (s->fd != -1)
		close(s->fd);
	if (unlinkat(sp->dirfd, name, 0) == -1)
		spool_warnf(sp, "cannot remove '%s/%s': %s", sp->dir, name,
			    strerror(errno));
	if (sp->tail[s->lane] == s->id)
		sp->tail[s->lane] = NO_SEG;
	sp->disk_bytes -= s->size;
	memmove(s, s + 1, (sp->nsegs - i - 1) * sizeof(*s));
	sp->nsegs--;
}

/* A segment with nothing live goes, unless appends still go to it. */
void spool_seg_reclaim(struct spool *sp, struct seg *s)
{
	if (s->live == 0 && sp->tail[s->lane] != s->id)
		seg_remove(sp, s);
}

void spool_live_add(struct spool *sp, const struct ent *e, int delta)
{
	uint64_t bytes = rec_bytes(e->len);
	if (delta > 0) {
		sp->st.live_records[e->kind]++;
		sp->st.live_bytes[e->kind] += bytes;
	} else {
		sp->st.live_records[e->kind]--;
		sp->st.live_bytes[e->kind] -= bytes;
	}
}

/* The first index position whose seq is >= seq. */
static size_t ent_lower_bound(const struct spool *sp, uint64_t seq)
{
	size_t lo = sp->head, hi = sp->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sp->ents[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Moves the live records to the front once the acked prefix is large, and
 * gives memory back after a backlog drained. */
static void ents_compact(struct spool *sp)
{
	size_t live = sp->n - sp->head;
	if (sp->head < 4096 || sp->head < live)
		return;
	memmove(sp->ents, sp->ents + sp->head, live * sizeof(*sp->ents));
	sp->head = 0;
	sp->n = live;
	if (sp->ents_alloc > 8192 && live < sp->ents_alloc / 4) {
		sp->ents_alloc /= 2;
		sp->ents =
			xrealloc(sp->ents, sp->ents_alloc * sizeof(*sp->ents));
	}
}

/* Drops segment s: its live records are counted as dropped. */
static void seg_drop(struct spool *sp, struct seg *s)
{
	size_t i = ent_lower_bound(sp, s->name_seq), out = i;

	for (; i < sp->n; i++) {
		struct ent *e = &sp->ents[i];
		if (e->seg != s->id) {
			sp->ents[out++] = *e;
			continue;
		}
		spool_live_add(sp, e, -1);
		sp->st.dropped_records[e->kind]++;
		sp->st.dropped_bytes[e->kind] += rec_bytes(e->len);
	}
	sp->n = out;
	s->live = 0;
	seg_remove(sp, s);
}

static struct seg *oldest_of_lane(struct spool *sp, int lane)
{
	for (size_t i = 0; i < sp->nsegs; i++)
		if (sp->segs[i].lane == lane)
			return &sp->segs[i];
	return NULL;
}

/* Disk bytes an append of rec bytes to lane adds (a new segment's header
 * included when the lane has no tail). */
static uint64_t bytes_needed(struct spool *sp, int lane, uint64_t rec)
{
	return rec + (sp->tail[lane] == NO_SEG ? SPOOL_SEG_HDR : 0);
}

static bool fits(struct spool *sp, int lane, uint64_t rec, uint64_t bound)
{
	return sp->disk_bytes + bytes_needed(sp, lane, rec) <= bound;
}

/* Makes room under max_bytes for rec bytes going to lane by dropping the
 * oldest segments of the lanes that rank below it: metrics, then (for logs
 * and undroppable records) non-final logs. */
static enum spool_result make_room(struct spool *sp, int lane, int kind,
				   uint64_t rec)
{
	bool dropped = false;

	for (int d = SPOOL_LANE_METRIC; d >= SPOOL_LANE_LOG && d >= lane; d--) {
		struct seg *s;
		while (!fits(sp, lane, rec, sp->max_bytes) &&
		       (s = oldest_of_lane(sp, d))) {
			seg_drop(sp, s);
			dropped = true;
		}
	}
	if (dropped && spool_dir_sync(sp) == -1)
		spool_warnf(sp, "cannot sync '%s': %s", sp->dir,
			    strerror(errno));
	if (fits(sp, lane, rec, sp->max_bytes))
		return SPOOL_OK;
	if (lane != SPOOL_LANE_KEEP) {
		sp->st.dropped_records[kind]++;
		sp->st.dropped_bytes[kind] += rec;
		return SPOOL_DROPPED;
	}
	if (!fits(sp, lane, rec, sp->hard_max)) {
		sp->st.full++;
		return SPOOL_FULL;
	}
	return SPOOL_OK;
}

/* Stops appending to the lane's tail if rec bytes would overflow it (a
 * record larger than a segment gets a segment of its own). */
static void maybe_rotate(struct spool *sp, int lane, uint64_t rec)
{
	struct seg *t;

	if (sp->tail[lane] == NO_SEG)
		return;
	t = spool_seg_by_id(sp, sp->tail[lane]);
	if (t->size + rec <= sp->seg_bytes || t->size <= SPOOL_SEG_HDR)
		return;
	sp->tail[lane] = NO_SEG;
	if (t->live == 0) {
		seg_remove(sp, t);
		if (spool_dir_sync(sp) == -1)
			spool_warnf(sp, "cannot sync '%s': %s", sp->dir,
				    strerror(errno));
	}
}

/* Creates the lane's tail segment, named after the next seq. */
static struct seg *seg_create(struct spool *sp, int lane, char *err,
			      size_t errlen)
{
	char name[SEG_NAME_LEN + 1];
	uint8_t hdr[SPOOL_SEG_HDR];
	struct seg *s;
	int fd;

	spool_seg_name(name, sp->next_seq, lane);
	fd = openat(sp->dirfd, name,
		    O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1) {
		spool_set_err(err, errlen, "cannot create '%s/%s': %s", sp->dir,
			      name, strerror(errno));
		return NULL;
	}
	spool_disk_put_seg_hdr(hdr, lane, sp->next_seq);
	if (write_all(fd, hdr, sizeof(hdr)) == -1 ||
	    (sp->fsync != SPOOL_FSYNC_NEVER && fdatasync(fd) == -1) ||
	    spool_dir_sync(sp) == -1) {
		spool_set_err(err, errlen, "cannot write '%s/%s': %s", sp->dir,
			      name, strerror(errno));
		close(fd);
		unlinkat(sp->dirfd, name, 0);
		return NULL;
	}
	sp->segs = xgrow(sp->segs, &sp->segs_alloc, sp->nsegs + 1,
			 sizeof(*sp->segs));
	s = &sp->segs[sp->nsegs++];
	*s = (struct seg){.name_seq = sp->next_seq,
			  .size = sizeof(hdr),
			  .id = sp->next_id++,
			  .fd = fd,
			  .lane = (uint8_t)lane};
	sp->tail[lane] = s->id;
	sp->disk_bytes += sizeof(hdr);
	return s;
}

/* Writes header and payload with one writev, finishing short writes. */
static int write_rec(int fd, const uint8_t *hdr, const void *data, size_t len)
{
	struct iovec iov[2] = {{(void *)hdr, SPOOL_REC_HDR},
			       {(void *)data, len}};
	ssize_t n = writev(fd, iov, 2);

	if (n == -1 && errno != EINTR)
		return -1;
	if (n < 0)
		n = 0;
	if ((size_t)n < SPOOL_REC_HDR) {
		if (write_all(fd, hdr + n, SPOOL_REC_HDR - (size_t)n) == -1)
			return -1;
		n = SPOOL_REC_HDR;
	}
	n -= SPOOL_REC_HDR;
	return write_all(fd, (const uint8_t *)data + n, len - (size_t)n);
}

/* Hands out seqs only below a floor that is on disk. */
static int reserve_seq(struct spool *sp, char *err, size_t errlen)
{
	uint64_t old = sp->floor;

	if (sp->next_seq < sp->floor)
		return 0;
	sp->floor = sp->next_seq + SEQ_RESERVE;
	if (spool_state_save(sp, true) == -1) {
		sp->floor = old;
		spool_set_err(err, errlen, "cannot write '%s/%s': %s", sp->dir,
			      STATE_NAME, strerror(errno));
		return -1;
	}
	return 0;
}

/* Appends the record to the lane's tail (creating it) and indexes it. */
static int append_rec(struct spool *sp, int lane, int kind, unsigned flags,
		      const void *data, size_t len, char *err, size_t errlen)
{
	uint8_t hdr[SPOOL_REC_HDR];
	struct seg *s = sp->tail[lane] == NO_SEG
				? seg_create(sp, lane, err, errlen)
				: spool_seg_by_id(sp, sp->tail[lane]);
	struct ent e = {.seq = sp->next_seq,
			.len = (uint32_t)len,
			.kind = (uint8_t)kind,
			.flags = (uint8_t)flags};

	if (!s)
		return -1;
	e.seg = s->id;
	e.off = (uint32_t)s->size;
	spool_disk_put_rec_hdr(hdr, kind, flags, e.seq, data, len);
	if (write_rec(s->fd, hdr, data, len) == -1 ||
	    (sp->fsync == SPOOL_FSYNC_ALWAYS && fdatasync(s->fd) == -1)) {
		spool_set_err(err, errlen, "cannot append to '%s': %s", sp->dir,
			      strerror(errno));
		/* Nothing half-written may stay, or the next open would call
		 * this record torn and cut later ones with it. */
		if (ftruncate(s->fd, (off_t)s->size) == -1) {
			/* Append elsewhere; skip this seq, as a new segment
			 * named after it could not be created. */
			sp->tail[lane] = NO_SEG;
			sp->next_seq++;
		}
		return -1;
	}
	s->size += rec_bytes(len);
	s->live++;
	s->dirty = true;
	sp->disk_bytes += rec_bytes(len);
	sp->ents =
		xgrow(sp->ents, &sp->ents_alloc, sp->n + 1, sizeof(*sp->ents));
	sp->ents[sp->n++] = e;
	spool_live_add(sp, &e, +1);
	sp->next_seq++;
	if (sp->fsync == SPOOL_FSYNC_ALWAYS) {
		sp->synced = e.seq;
		s->dirty = false;
	}
	return 0;
}

enum spool_result spool_append(struct spool *sp, enum spool_kind kind,
			       unsigned flags, const void *data, size_t len,
			       uint64_t *seq, char *err, size_t errlen)
{
	int lane = spool_lane_of((int)kind, flags);
	enum spool_result r;

	*seq = 0;
	if (lane < 0 || len > SPOOL_MAX_PAYLOAD || (!data && len)) {
		spool_set_err(err, errlen,
			      "bad spool record (kind %d, flags %u, "
			      "%zu bytes)",
			      (int)kind, flags, len);
		return SPOOL_ERR;
	}
	maybe_rotate(sp, lane, rec_bytes(len));
	r = make_room(sp, lane, (int)kind, rec_bytes(len));
	if (r != SPOOL_OK)
		return r;
	if (reserve_seq(sp, err, errlen) == -1 ||
	    append_rec(sp, lane, (int)kind, flags, data, len, err, errlen) ==
		    -1)
		return SPOOL_ERR;
	*seq = sp->next_seq - 1;
	return SPOOL_OK;
}

/* Removes the record at index i (damaged on disk). */
static void ent_discard(struct spool *sp, size_t i)
{
	struct ent e = sp->ents[i];
	struct seg *s = spool_seg_by_id(sp, e.seg);

	memmove(sp->ents + i, sp->ents + i + 1,
		(sp->n - i - 1) * sizeof(*sp->ents));
	sp->n--;
	spool_live_add(sp, &e, -1);
	sp->st.corrupt++;
	if (s) {
		s->live--;
		spool_seg_reclaim(sp, s);
	}
}

/* Reads and verifies the record of e into sp->buf: 1 good, 0 damaged
 * (warned about), -1 I/O error. */
static int read_rec(struct spool *sp, const struct ent *e,
		    struct spool_disk_rec *r, char *err, size_t errlen)
{
	struct seg *s = spool_seg_by_id(sp, e->seg);
	size_t want = (size_t)rec_bytes(e->len);
	char name[SEG_NAME_LEN + 1];
	ssize_t got;
	int fd;

	if (!s)
		return 0; /* cannot happen: records keep their segment */
	spool_seg_name(name, s->name_seq, s->lane);
	fd = seg_fd(sp, s);
	if (fd == -1 && errno == ENOENT) {
		spool_warnf(sp, "'%s/%s' is gone: record %" PRIu64 " skipped",
			    sp->dir, name, e->seq);
		return 0;
	}
	if (fd == -1) {
		spool_set_err(err, errlen, "cannot open '%s/%s': %s", sp->dir,
			      name, strerror(errno));
		return -1;
	}
	sp->buf = xgrow(sp->buf, &sp->buf_alloc, want, 1);
	do
		got = pread(fd, sp->buf, want, (off_t)e->off);
	while (got == -1 && errno == EINTR);
	if (got == -1) {
		spool_set_err(err, errlen, "cannot read '%s/%s': %s", sp->dir,
			      name, strerror(errno));
		return -1;
	}
	if ((size_t)got == want &&
	    spool_disk_parse_rec(sp->buf, want, r) == SPOOL_REC_OK &&
	    r->seq == e->seq && r->len == e->len && r->kind == e->kind &&
	    r->flags == e->flags)
		return 1;
	spool_warnf(sp,
		    "'%s/%s': record %" PRIu64 " at offset %" PRIu32
		    " damaged since open, skipped",
		    sp->dir, name, e->seq, e->off);
	return 0;
}

int spool_peek(struct spool *sp, uint64_t after_seq, size_t max_records,
	       size_t max_bytes, spool_peek_fn fn, void *ctx, char *err,
	       size_t errlen)
{
	size_t i = ent_lower_bound(sp, after_seq + 1), bytes = 0;
	int count = 0, rc = 0;

	if (after_seq == UINT64_MAX)
		i = sp->n;
	while (i < sp->n && (size_t)count < max_records && count < INT32_MAX) {
		struct ent e = sp->ents[i];
		struct spool_disk_rec r;
		struct spool_record out;

		if (count > 0 && bytes + e.len > max_bytes)
			break;
		rc = read_rec(sp, &e, &r, err, errlen);
		if (rc == -1)
			break;
		if (rc == 0) {
			ent_discard(sp, i);
			continue;
		}
		out = (struct spool_record){e.seq, (enum spool_kind)e.kind,
					    e.flags, r.payload, e.len};
		count++;
		bytes += e.len;
		i++;
		if (fn(ctx, &out))
			break;
	}
	if (sp->buf_alloc > SCRATCH_KEEP) {
		free(sp->buf);
		sp->buf = NULL;
		sp->buf_alloc = 0;
	}
	if (rc == -1)
		return -1;
	return count;
}

int spool_ack(struct spool *sp, uint64_t upto, char *err, size_t errlen)
{
	int rc = 0;
	bool removed = false;

	if (upto >= sp->next_seq) {
		spool_set_err(err, errlen,
			      "ack of seq %" PRIu64 " never handed out "
			      "(next is %" PRIu64 ")",
			      upto, sp->next_seq);
		return -1;
	}
	if (upto <= sp->acked)
		return 0;
	sp->acked = upto;
	sp->state_dirty = true;
	if (sp->fsync != SPOOL_FSYNC_INTERVAL &&
	    spool_state_save(sp, sp->fsync == SPOOL_FSYNC_ALWAYS) == -1) {
		spool_set_err(err, errlen, "cannot write '%s/%s': %s", sp->dir,
			      STATE_NAME, strerror(errno));
		rc = -1;
	}
	while (sp->head < sp->n && sp->ents[sp->head].seq <= upto) {
		struct ent *e = &sp->ents[sp->head++];
		struct seg *s = spool_seg_by_id(sp, e->seg);
		spool_live_add(sp, e, -1);
		if (s && --s->live == 0 && sp->tail[s->lane] != s->id) {
			seg_remove(sp, s);
			removed = true;
		}
	}
	ents_compact(sp);
	if (removed && spool_dir_sync(sp) == -1)
		spool_warnf(sp, "cannot sync '%s': %s", sp->dir,
			    strerror(errno));
	return rc;
}

int spool_sync(struct spool *sp, char *err, size_t errlen)
{
	for (size_t i = 0; i < sp->nsegs; i++) {
		struct seg *s = &sp->segs[i];
		if (!s->dirty || s->fd == -1)
			continue;
		if (fdatasync(s->fd) == -1) {
			spool_set_err(err, errlen, "cannot sync '%s': %s",
				      sp->dir, strerror(errno));
			return -1;
		}
		s->dirty = false;
	}
	if (sp->state_dirty && spool_state_save(sp, true) == -1) {
		spool_set_err(err, errlen, "cannot write '%s/%s': %s", sp->dir,
			      STATE_NAME, strerror(errno));
		return -1;
	}
	sp->synced = sp->next_seq - 1;
	return 0;
}

int spool_sync_if_due(struct spool *sp, int64_t now_ms, char *err,
		      size_t errlen)
{
	if (sp->fsync != SPOOL_FSYNC_INTERVAL ||
	    now_ms - sp->last_sync < sp->interval_ms)
		return 0;
	sp->last_sync = now_ms;
	return spool_sync(sp, err, errlen);
}

void spool_get_stats(const struct spool *sp, struct spool_stats *st)
{
	*st = sp->st;
	st->segments = sp->nsegs;
	st->disk_bytes = sp->disk_bytes;
	st->next_seq = sp->next_seq;
	st->acked_seq = sp->acked;
	st->synced_seq = sp->synced;
}
