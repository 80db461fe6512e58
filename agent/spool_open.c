/*
 * spool_open.c - opening the telemetry spool: configuration, the directory
 * and its lock, the state file, a scan of every segment (torn tails cut,
 * damage skipped and reported), the index sorted, the next seq settled and
 * the segments with nothing live removed; and closing it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool_int.h"

/* Parses a segment file name; false for anything else in the directory. */
static bool parse_seg_name(const char *name, uint64_t *seq, int *lane)
{
	uint64_t v = 0;
	if (strlen(name) != SEG_NAME_LEN || name[20] != '-' ||
	    strcmp(name + 22, ".seg") != 0)
		return false;
	for (int i = 0; i < 20; i++) {
		unsigned d = (unsigned)(name[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*seq = v;
	*lane = spool_lane_from_char(name[21]);
	return *lane >= 0;
}

struct scan_ctx {
	struct spool *sp;
	const char *name;
	uint32_t id;
};

static void on_scan_record(void *ctx, const struct spool_disk_rec *r,
			   uint64_t off)
{
	struct scan_ctx *c = ctx;
	struct spool *sp = c->sp;

	if (r->seq <= sp->acked)
		return;
	sp->ents =
		xgrow(sp->ents, &sp->ents_alloc, sp->n + 1, sizeof(*sp->ents));
	sp->ents[sp->n++] = (struct ent){r->seq, c->id,	  (uint32_t)off,
					 r->len, r->kind, r->flags};
}

static void on_scan_corrupt(void *ctx, uint64_t off, uint64_t len,
			    const char *why)
{
	struct scan_ctx *c = ctx;
	spool_warnf(c->sp,
		    "'%s/%s': %s at offset %" PRIu64 ", %" PRIu64
		    " bytes skipped",
		    c->sp->dir, c->name, why, off, len);
}

/* Cuts a torn tail; false if that failed (appends then go elsewhere). */
static bool cut_torn(struct spool *sp, int fd, const char *name, uint64_t from,
		     uint64_t to)
{
	if (ftruncate(fd, (off_t)to) == -1 ||
	    (sp->fsync != SPOOL_FSYNC_NEVER && fdatasync(fd) == -1)) {
		spool_warnf(sp, "cannot truncate '%s/%s': %s", sp->dir, name,
			    strerror(errno));
		return false;
	}
	spool_warnf(sp,
		    "'%s/%s': torn tail truncated from %" PRIu64 " to %" PRIu64
		    " bytes",
		    sp->dir, name, from, to);
	sp->st.torn_tails++;
	return true;
}

/* Verifies one segment, indexes its records above the acked seq and adds
 * it to the table; a file that cannot be read is left alone. */
static void scan_one(struct spool *sp, uint64_t name_seq, int lane,
		     bool is_tail, uint64_t *max_seq)
{
	static const uint8_t empty[1];
	char name[SEG_NAME_LEN + 1];
	struct scan_ctx c = {sp, name, sp->next_id};
	struct spool_disk_scan_ops ops = {on_scan_record, on_scan_corrupt, &c};
	struct spool_disk_scan res;
	struct stat st;
	uint8_t *map = NULL;
	uint64_t size, len;
	int fd;

	spool_seg_name(name, name_seq, lane);
	fd = openat(sp->dirfd, name,
		    (is_tail ? O_RDWR | O_APPEND : O_RDONLY) | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		spool_warnf(sp, "cannot read '%s/%s': %s", sp->dir, name,
			    fd == -1 ? strerror(errno) : "not a regular file");
		if (fd != -1)
			close(fd);
		return;
	}
	/* Offsets are 32-bit: nothing we write comes near that size. */
	size = (uint64_t)st.st_size;
	len = size > UINT32_MAX ? UINT32_MAX : size;
	if (len > 0) {
		map = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			spool_warnf(sp, "cannot map '%s/%s': %s", sp->dir, name,
				    strerror(errno));
			close(fd);
			return;
		}
	}
	spool_disk_scan(map ? map : empty, len, lane, name_seq, is_tail, &ops,
			&res);
	if (map)
		munmap(map, (size_t)len);
	sp->st.corrupt += res.corrupt;
	if (res.torn) {
		if (cut_torn(sp, fd, name, size, res.keep_len))
			size = res.keep_len;
		else
			is_tail = false;
	}
	sp->segs = xgrow(sp->segs, &sp->segs_alloc, sp->nsegs + 1,
			 sizeof(*sp->segs));
	sp->segs[sp->nsegs++] =
		(struct seg){name_seq, size, 0, c.id, -1, (uint8_t)lane, false};
	sp->next_id++;
	sp->disk_bytes += size;
	if (is_tail && res.header_ok) {
		sp->segs[sp->nsegs - 1].fd = fd;
		sp->tail[lane] = c.id;
	} else {
		close(fd);
	}
	if (res.max_seq > *max_seq)
		*max_seq = res.max_seq;
}

struct seg_file {
	uint64_t seq;
	int lane;
};

static int cmp_seg_file(const void *a, const void *b)
{
	const struct seg_file *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->lane - y->lane;
}

/* Lists and scans the segment files in name order; the last of each lane
 * is its tail. Sets *max_name to the highest name. */
static int load_segments(struct spool *sp, uint64_t *max_seq,
			 uint64_t *max_name, char *err, size_t errlen)
{
	struct seg_file *files = NULL;
	size_t n = 0, alloc = 0, last[SPOOL_LANES];
	struct dirent *de;
	DIR *d = opendir(sp->dir);

	if (!d) {
		spool_set_err(err, errlen, "cannot list '%s': %s", sp->dir,
			      strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		struct seg_file f;
		if (parse_seg_name(de->d_name, &f.seq, &f.lane)) {
			files = xgrow(files, &alloc, n + 1, sizeof(*files));
			files[n++] = f;
		}
	}
	closedir(d);
	if (n > 1)
		qsort(files, n, sizeof(*files), cmp_seg_file);
	for (int lane = 0; lane < SPOOL_LANES; lane++)
		last[lane] = SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		last[files[i].lane] = i;
	for (size_t i = 0; i < n; i++) {
		scan_one(sp, files[i].seq, files[i].lane,
			 last[files[i].lane] == i, max_seq);
		if (files[i].seq > *max_name)
			*max_name = files[i].seq;
	}
	free(files);
	return 0;
}

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c)
{
	return a > b ? (a > c ? a : c) : (b > c ? b : c);
}

/* Sorts the index, settles the next seq, writes the state and removes the
 * segments with nothing live. */
static int settle(struct spool *sp, uint64_t max_seq, uint64_t max_name,
		  char *err, size_t errlen)
{
	size_t out = 0;

	if (sp->n > 1)
		qsort(sp->ents, sp->n, sizeof(*sp->ents), cmp_ent);
	for (size_t i = 0; i < sp->n; i++) {
		struct ent e = sp->ents[i];
		if (out > 0 && sp->ents[out - 1].seq == e.seq) {
			sp->st.corrupt++;
			spool_warnf(sp,
				    "'%s': record %" PRIu64 " found twice, "
				    "one copy skipped",
				    sp->dir, e.seq);
			continue;
		}
		spool_seg_by_id(sp, e.seg)->live++;
		spool_live_add(sp, &e, +1);
		sp->ents[out++] = e;
	}
	sp->n = out;
	if (max3(sp->floor, max_seq, max_name) >= UINT64_MAX / 2 ||
	    sp->acked >= UINT64_MAX / 2) {
		spool_set_err(err, errlen, "spool '%s': seqs exhausted",
			      sp->dir);
		return -1;
	}
	sp->next_seq = max3(sp->floor, max_seq + 1, max_name + 1);
	if (sp->next_seq <= sp->acked)
		sp->next_seq = sp->acked + 1;
	sp->floor = sp->next_seq;
	if (spool_state_save(sp, true) == -1) {
		spool_set_err(err, errlen, "cannot write '%s/%s': %s", sp->dir,
			      STATE_NAME, strerror(errno));
		return -1;
	}
	for (size_t i = sp->nsegs; i-- > 0;)
		spool_seg_reclaim(sp, &sp->segs[i]);
	if (spool_dir_sync(sp) == -1)
		spool_warnf(sp, "cannot sync '%s': %s", sp->dir,
			    strerror(errno));
	sp->synced = sp->next_seq - 1;
	return 0;
}

/* The acked seq and the seq floor; a damaged state file means acks since
 * the last good one are replayed (the scheduler deduplicates). */
static void load_state(struct spool *sp)
{
	uint8_t buf[SPOOL_STATE_LEN + 1];
	ssize_t n;
	int fd = openat(sp->dirfd, STATE_NAME, O_RDONLY | O_CLOEXEC);

	unlinkat(sp->dirfd, STATE_TMP, 0);
	if (fd == -1) {
		if (errno != ENOENT)
			spool_warnf(sp, "cannot read '%s/%s': %s", sp->dir,
				    STATE_NAME, strerror(errno));
		return;
	}
	do
		n = read(fd, buf, sizeof(buf));
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n < 0 || spool_disk_get_state(buf, (size_t)n, &sp->acked,
					  &sp->floor) == -1) {
		sp->acked = sp->floor = 0;
		spool_warnf(sp,
			    "'%s/%s' is damaged: acknowledged records may be "
			    "sent again",
			    sp->dir, STATE_NAME);
	}
}

static int open_dir(struct spool *sp, char *err, size_t errlen)
{
	if (mkdir_p(sp->dir, 0700) == -1 ||
	    (sp->dirfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
		    -1 ||
	    (sp->lockfd = openat(sp->dirfd, "lock",
				 O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		spool_set_err(err, errlen, "cannot open spool '%s': %s",
			      sp->dir, strerror(errno));
		return -1;
	}
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) == -1) {
		spool_set_err(err, errlen,
			      "spool '%s' is in use by another process",
			      sp->dir);
		return -1;
	}
	return 0;
}

static int configure(struct spool *sp, const struct spool_opts *o, char *err,
		     size_t errlen)
{
	sp->max_bytes = o->max_bytes ? o->max_bytes : SPOOL_DEFAULT_MAX_BYTES;
	sp->hard_max = o->hard_max_bytes		 ? o->hard_max_bytes
		       : sp->max_bytes <= UINT64_MAX / 2 ? 2 * sp->max_bytes
							 : UINT64_MAX;
	if (sp->hard_max < sp->max_bytes)
		sp->hard_max = sp->max_bytes;
	sp->seg_bytes = o->segment_bytes;
	if (!sp->seg_bytes) {
		sp->seg_bytes = sp->max_bytes / 16;
		if (sp->seg_bytes > SPOOL_DEFAULT_SEGMENT_BYTES)
			sp->seg_bytes = SPOOL_DEFAULT_SEGMENT_BYTES;
		if (sp->seg_bytes < 4096)
			sp->seg_bytes = 4096;
	}
	sp->fsync = o->fsync;
	sp->interval_ms =
		o->interval_ms > 0 ? o->interval_ms : SPOOL_DEFAULT_INTERVAL_MS;
	sp->warn = o->warn;
	sp->warn_ctx = o->warn_ctx;
	if (sp->seg_bytes < SPOOL_SEG_HDR + SPOOL_REC_HDR + 1 ||
	    sp->seg_bytes > (1u << 30) ||
	    (o->fsync != SPOOL_FSYNC_ALWAYS &&
	     o->fsync != SPOOL_FSYNC_INTERVAL &&
	     o->fsync != SPOOL_FSYNC_NEVER)) {
		spool_set_err(err, errlen, "bad spool options for '%s'",
			      sp->dir);
		return -1;
	}
	return 0;
}

static void spool_free(struct spool *sp)
{
	for (size_t i = 0; i < sp->nsegs; i++)
		if (sp->segs[i].fd != -1)
			close(sp->segs[i].fd);
	if (sp->lockfd != -1)
		close(sp->lockfd);
	if (sp->dirfd != -1)
		close(sp->dirfd);
	free(sp->segs);
	free(sp->ents);
	free(sp->buf);
	free(sp->dir);
	free(sp);
}

struct spool *spool_open(const struct spool_opts *o, char *err, size_t errlen)
{
	struct spool *sp;
	uint64_t max_seq = 0, max_name = 0;

	if (!o || !o->dir || !*o->dir) {
		spool_set_err(err, errlen, "no spool directory");
		return NULL;
	}
	sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(o->dir);
	sp->dirfd = sp->lockfd = -1;
	for (int lane = 0; lane < SPOOL_LANES; lane++)
		sp->tail[lane] = NO_SEG;
	if (configure(sp, o, err, errlen) == -1 ||
	    open_dir(sp, err, errlen) == -1) {
		spool_free(sp);
		return NULL;
	}
	load_state(sp);
	if (load_segments(sp, &max_seq, &max_name, err, errlen) == -1 ||
	    settle(sp, max_seq, max_name, err, errlen) == -1) {
		spool_free(sp);
		return NULL;
	}
	return sp;
}

void spool_close(struct spool *sp)
{
	char err[256];

	if (!sp)
		return;
	/* Give back the unused reserved seqs: a clean restart continues
	 * where this one stopped. */
	sp->floor = sp->next_seq;
	sp->state_dirty = true;
	if (sp->fsync == SPOOL_FSYNC_NEVER) {
		if (spool_state_save(sp, false) == -1)
			spool_warnf(sp, "cannot write '%s/%s': %s", sp->dir,
				    STATE_NAME, strerror(errno));
	} else if (spool_sync(sp, err, sizeof(err)) == -1) {
		spool_warnf(sp, "%s", err);
	}
	spool_free(sp);
}
