/* commitlog.c - the store's commit log: preallocated segments, one record
 * per write batch (commitlog.h).
 *
 * A segment prepared ahead (segprep.h: written with zeros) is opened with
 * O_DIRECT | O_DSYNC: each record goes down as one synchronous write of
 * the 4 KiB blocks it touches, the last partial block kept in memory and
 * written again with the next record. That is one device write and its
 * cache flush, where a buffered write then fdatasync takes a system call
 * more and, on a segment only allocated, an extent change besides. The
 * first segment after an open is written with zeros by the open itself,
 * at most FIRST_SEGMENT_MAX of it (a start should not wait for 16 MiB).
 * A segment the log must make at once (for a record larger than a
 * segment, or when preparing failed) is only allocated, and takes
 * buffered writes and fdatasync. */
#include "commitlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "segprep.h"
#include "store.h" /* its big-endian helpers */
#include "util.h"

struct commitlog {
	char dir[4096];
	int dirfd;
	uint64_t seg_bytes;
	int fd;           /* the active segment, -1 when none */
	uint64_t active;  /* its number */
	uint64_t off;     /* where its next record goes */
	uint64_t size;    /* its size */
	bool dirty;       /* written since its last fdatasync */
	bool prepared;    /* a spare from prep (written with zeros) */
	bool direct;      /* opened O_DIRECT | O_DSYNC (a prepared segment) */
	bool no_direct;   /* a direct write was refused: none from now on */
	bool broken;      /* a write failed: take nothing more */
	uint64_t next_seq;
	uint64_t *old;    /* segments before the active one, oldest first */
	size_t nold, oldcap;
	struct segprep *prep; /* NULL: every segment is made by the log */
	uint64_t spare_for;   /* the segment number asked of prep, 0 none */
	uint8_t *blk;     /* the record being written, after (direct) the
			   * bytes of the active segment's partial last
			   * block; aligned for O_DIRECT */
	size_t blkcap;
};

#define BLOCK 4096
#define FIRST_SEGMENT_MAX (1 << 20)

/* No segment is larger (a record that needs more is refused first): a
 * bigger file is not one of ours, and is not read into memory. */
#define COMMITLOG_MAX_SEGMENT (1 << 30)

static uint32_t record_crc(const uint8_t *rec, size_t len)
{
	/* covers the header after the CRC, and the payload */
	return (uint32_t)crc32(0L, rec + 4, (uInt)(COMMITLOG_HEADER - 4 + len));
}

static void seg_path(const struct commitlog *l, uint64_t num, char *out,
		     size_t cap)
{
	snprintf(out, cap, "%s/%016" PRIx64 ".seg", l->dir, num);
}

/* Where prep writes segment num before it is renamed into the log. */
static void spare_path(const struct commitlog *l, uint64_t num, char *out,
		       size_t cap)
{
	snprintf(out, cap, "%s/%016" PRIx64 ".new", l->dir, num);
}

static uint64_t round_block(uint64_t n)
{
	return (n + BLOCK - 1) & ~(uint64_t)(BLOCK - 1);
}

static int fail_errno(char *err, size_t errlen, const char *what,
		      const char *path)
{
	int saved = errno;
	snprintf(err, errlen, "commit log: %s '%s': %s", what, path,
		 strerror(saved));
	errno = saved;
	return -1;
}

/* The length of the valid record at off in a segment's bytes, 0 if
 * there is none. */
static size_t valid_at(const uint8_t *data, size_t n, size_t off,
		       uint64_t num)
{
	const uint8_t *r = data + off;
	uint64_t len;

	if (n - off < COMMITLOG_HEADER)
		return 0;
	len = store_get_u32be(r + 4);
	if (len == 0 || len > n - off - COMMITLOG_HEADER ||
	    store_get_u64be(r + 8) != num ||
	    record_crc(r, (size_t)len) != store_get_u32be(r))
		return 0;
	return COMMITLOG_HEADER + (size_t)len;
}

/* Whether a valid record of segment num starts anywhere after from. */
static bool valid_after(const uint8_t *data, size_t n, size_t from,
			uint64_t num)
{
	uint8_t pat[8];

	store_put_u64be(pat, num);
	while (from + COMMITLOG_HEADER <= n) {
		const uint8_t *hit = memmem(data + from + 8, n - from - 8, pat,
					    8);
		if (!hit)
			return false;
		from = (size_t)(hit - data) - 8;
		if (valid_at(data, n, from, num))
			return true;
		from++;
	}
	return false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int list_segments(struct commitlog *l, char *err, size_t errlen)
{
	DIR *d = opendir(l->dir);
	struct dirent *e;

	if (!d)
		return fail_errno(err, errlen, "cannot list", l->dir);
	while ((e = readdir(d))) {
		char *end;
		uint64_t num;

		if (strlen(e->d_name) == 20 && !strcmp(e->d_name + 16, ".new")) {
			/* a spare left by a stop: only zeros */
			unlinkat(l->dirfd, e->d_name, 0);
			continue;
		}
		if (strlen(e->d_name) != 20 || strcmp(e->d_name + 16, ".seg"))
			continue;
		errno = 0;
		num = strtoull(e->d_name, &end, 16);
		if (errno || end != e->d_name + 16 || num == 0)
			continue;
		l->old = xgrow(l->old, &l->oldcap, l->nold + 1, sizeof(*l->old));
		l->old[l->nold++] = num;
	}
	closedir(d);
	if (l->nold > 1) /* (qsort of NULL is undefined, even for 0) */
		qsort(l->old, l->nold, sizeof(*l->old), cmp_u64);
	return 0;
}

static int replay_segment(struct commitlog *l, uint64_t num,
			  commitlog_apply_fn apply, void *ctx,
			  uint64_t *replayed, char *err, size_t errlen)
{
	char path[4200];
	size_t n = 0, off = 0, rlen;
	struct stat st;
	uint8_t *data;
	int rc = 0;

	seg_path(l, num, path, sizeof(path));
	if (stat(path, &st))
		return fail_errno(err, errlen, "cannot read", path);
	if (st.st_size > COMMITLOG_MAX_SEGMENT)
		return err_fail(err, errlen, "commit log '%s' is damaged: more "
				"than %d MiB, larger than any segment", path,
				COMMITLOG_MAX_SEGMENT >> 20);
	data = (uint8_t *)read_file(path, COMMITLOG_MAX_SEGMENT, &n);
	if (!data)
		return fail_errno(err, errlen, "cannot read", path);
	while (!rc && (rlen = valid_at(data, n, off, num))) {
		uint64_t seq = store_get_u64be(data + off + 16);
		if (l->next_seq && seq != l->next_seq) {
			rc = err_fail(err, errlen,
				      "commit log '%s' is damaged: record %" PRIu64
				      " is missing (offset %zu holds %" PRIu64 ")",
				      path, l->next_seq, off, seq);
			break;
		}
		rc = apply(ctx, data + off + COMMITLOG_HEADER,
			   rlen - COMMITLOG_HEADER, err, errlen);
		l->next_seq = seq + 1;
		off += rlen;
		++*replayed;
	}
	/* An invalid record ends the segment: the torn last write of a
	 * crash, or the zeros never written. A valid one after it means the
	 * bytes between were damaged, and what they held is lost. */
	if (!rc && valid_after(data, n, off + 1, num))
		rc = err_fail(err, errlen,
			      "commit log '%s' is damaged at offset %zu: a "
			      "valid record follows an invalid one",
			      path, off);
	free(data);
	return rc;
}

/* Asks prep for the segment after the active one. */
static void ask_spare(struct commitlog *l)
{
	char path[4200];

	if (!l->prep)
		return;
	l->spare_for = l->active + 1;
	spare_path(l, l->spare_for, path, sizeof(path));
	segprep_request(l->prep, path, l->seg_bytes);
}

static void segment_opened(struct commitlog *l, uint64_t size)
{
	l->size = size;
	l->off = 0;
	l->dirty = false;
}

/* Gives the active segment a new file of its full size, durable (its
 * name too) before a record goes in. Its blocks are allocated, not
 * written: they read as zeros, and a retired segment's records are
 * never in them (a recycled file would keep them readable until
 * overwritten, which a tenant's deletion must not allow). */
static int allocate_segment(struct commitlog *l, uint64_t need, char *err,
			    size_t errlen)
{
	char path[4200];
	uint64_t size = need > l->seg_bytes ? need : l->seg_bytes;

	seg_path(l, l->active, path, sizeof(path));
	l->prepared = l->direct = false;
	l->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (l->fd == -1)
		return fail_errno(err, errlen, "cannot create", path);
	if (fallocate(l->fd, 0, 0, (off_t)size) &&
	    (errno != EOPNOTSUPP || ftruncate(l->fd, (off_t)size)))
		return fail_errno(err, errlen, "cannot allocate", path);
	if (fsync(l->fd) || fsync(l->dirfd))
		return fail_errno(err, errlen, "cannot sync", path);
	segment_opened(l, size);
	return 0;
}

/* Makes the prepared spare the active segment: renamed, the name synced,
 * opened for direct synchronous writes (buffered where the filesystem
 * has no O_DIRECT). */
static int adopt_spare(struct commitlog *l, char *err, size_t errlen)
{
	char path[4200], spare[4200];
	struct stat st;

	seg_path(l, l->active, path, sizeof(path));
	spare_path(l, l->active, spare, sizeof(spare));
	if (rename(spare, path)) {
		fail_errno(err, errlen, "cannot rename", spare);
		unlink(spare);
		return -1;
	}
	if (fsync(l->dirfd))
		return fail_errno(err, errlen, "cannot sync", l->dir);
	l->prepared = true;
	l->fd = l->no_direct ? -1
			     : open(path, O_RDWR | O_CLOEXEC | O_DIRECT | O_DSYNC);
	l->direct = l->fd != -1;
	if (l->fd == -1 && (l->no_direct || errno == EINVAL))
		l->fd = open(path, O_RDWR | O_CLOEXEC);
	if (l->fd == -1 || fstat(l->fd, &st))
		return fail_errno(err, errlen, "cannot open", path);
	segment_opened(l, (uint64_t)st.st_size);
	return 0;
}

/* Opens the active segment's file: the spare made for it when there is
 * one (spare_made) and the record fits, else one allocated here. Then
 * asks prep for the next spare. */
static int open_active(struct commitlog *l, bool spare_made, uint64_t need,
		       char *err, size_t errlen)
{
	char spare[4200];
	int rc;

	if (spare_made && need <= l->seg_bytes) {
		rc = adopt_spare(l, err, errlen);
	} else {
		if (spare_made) { /* too small for this record */
			spare_path(l, l->active, spare, sizeof(spare));
			unlink(spare);
		}
		rc = allocate_segment(l, need, err, errlen);
	}
	ask_spare(l);
	return rc;
}

/* The segment after a switch: the spare prep made ahead, if it could. */
static int new_segment(struct commitlog *l, uint64_t need, char *err,
		       size_t errlen)
{
	char why[256];
	bool asked = l->spare_for == l->active, made = false;

	l->spare_for = 0;
	if (asked && !(made = segprep_take(l->prep, why, sizeof(why))))
		log_warn("%s; segment %016" PRIx64 " is allocated instead",
			 why, l->active);
	return open_active(l, made, need, err, errlen);
}

/* The open's segment, written with zeros here: at most
 * FIRST_SEGMENT_MAX of it (segments need not have one size). No warning
 * when the zeros fail: a full disk fails the allocation too, and the
 * store's reopen is retried every store_check_ms, with its own report. */
static int first_segment(struct commitlog *l, char *err, size_t errlen)
{
	char spare[4200], why[256];
	uint64_t size = l->seg_bytes < FIRST_SEGMENT_MAX ? l->seg_bytes
							 : FIRST_SEGMENT_MAX;

	spare_path(l, l->active, spare, sizeof(spare));
	return open_active(l, segprep_zeros(spare, size, why, sizeof(why)) == 0,
			   0, err, errlen);
}

struct commitlog *commitlog_open(const char *dir, uint64_t segment_bytes,
				 commitlog_apply_fn apply, void *ctx,
				 uint64_t *replayed, char *err, size_t errlen)
{
	struct commitlog *l = xcalloc(1, sizeof(*l));

	*replayed = 0;
	snprintf(l->dir, sizeof(l->dir), "%s", dir);
	l->seg_bytes = segment_bytes;
	l->fd = -1;
	l->dirfd = -1;
	if (posix_memalign((void **)&l->blk, BLOCK, 16 * BLOCK))
		abort();
	l->blkcap = 16 * BLOCK;
	if (mkdir_p(dir, 0700)) {
		fail_errno(err, errlen, "cannot create", dir);
		goto fail;
	}
	l->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd == -1) {
		fail_errno(err, errlen, "cannot open", dir);
		goto fail;
	}
	if (list_segments(l, err, errlen))
		goto fail;
	for (size_t i = 0; i < l->nold; i++)
		if (replay_segment(l, l->old[i], apply, ctx, replayed, err,
				   errlen))
			goto fail;
	if (!l->next_seq)
		l->next_seq = 1;
	l->active = l->nold ? l->old[l->nold - 1] + 1 : 1;
	l->prep = segprep_new();
	if (first_segment(l, err, errlen))
		goto fail;
	return l;
fail:
	commitlog_close(l, false);
	return NULL;
}

static int sync_active(struct commitlog *l, char *err, size_t errlen)
{
	char path[4200];

	if (fdatasync(l->fd)) {
		seg_path(l, l->active, path, sizeof(path));
		return fail_errno(err, errlen, "cannot sync", path);
	}
	l->dirty = false;
	return 0;
}

static int switch_segment(struct commitlog *l, uint64_t need, char *err,
			  size_t errlen)
{
	/* the full segment's records are durable before any of the next
	 * one's: a replay never meets a gap that a sync would have filled */
	if (l->dirty && sync_active(l, err, errlen))
		return -1;
	close(l->fd);
	l->fd = -1;
	l->old = xgrow(l->old, &l->oldcap, l->nold + 1, sizeof(*l->old));
	l->old[l->nold++] = l->active++;
	return new_segment(l, need, err, errlen);
}

/* The filesystem refused a direct write (EINVAL: an alignment it cannot
 * do, though the open succeeded): the segment goes on with buffered
 * writes and fdatasync, as one the log made itself. */
static int leave_direct(struct commitlog *l)
{
	char path[4200];
	int fd;

	seg_path(l, l->active, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd == -1)
		return -1;
	log_warn("commit log '%s': direct writes refused (%s); buffered "
		 "writes and fdatasync instead", path, strerror(EINVAL));
	close(l->fd);
	l->fd = fd;
	l->direct = false;
	l->no_direct = true; /* the next segments too */
	return 0;
}

/* Makes blk hold n bytes, keeping its first keep. */
static void grow_blk(struct commitlog *l, size_t n, size_t keep)
{
	uint8_t *b;

	if (n <= l->blkcap)
		return;
	n = (size_t)round_block(n);
	if (posix_memalign((void **)&b, BLOCK, n))
		abort();
	memcpy(b, l->blk, keep);
	free(l->blk);
	l->blk = b;
	l->blkcap = n;
}

int commitlog_append(struct commitlog *l, const void *rec, size_t len,
		     bool sync, bool *switched, char *err, size_t errlen)
{
	size_t total = COMMITLOG_HEADER + len, head, span, wlen;
	char path[4200];
	uint8_t *r;

	*switched = false;
	if (l->broken || l->fd == -1)
		return err_fail(err, errlen, "commit log: a write failed "
				"before: the store must be opened again");
	if (len == 0 || total > COMMITLOG_MAX_SEGMENT)
		return err_fail(err, errlen, "commit log: record of %zu bytes",
				len);
	if (l->off + total > l->size) {
		*switched = true;
		if (switch_segment(l, total, err, errlen))
			goto broken;
	}
	/* direct: the whole blocks the record touches, from the start of
	 * the partial block before it (whose bytes blk holds) */
	head = l->direct ? (size_t)(l->off % BLOCK) : 0;
	span = head + total;
	wlen = l->direct ? (size_t)round_block(span) : total;
	grow_blk(l, wlen, head);
	r = l->blk + head;
	store_put_u32be(r + 4, (uint32_t)len);
	store_put_u64be(r + 8, l->active);
	store_put_u64be(r + 16, l->next_seq);
	memcpy(r + COMMITLOG_HEADER, rec, len);
	store_put_u32be(r, record_crc(r, len));
	memset(l->blk + span, 0, wlen - span);
	if (l->direct) {
		ssize_t w = pwrite(l->fd, l->blk, wlen, (off_t)(l->off - head));
		if (w == (ssize_t)wlen) {
			/* synced by the write (O_DSYNC); keep the partial
			 * block */
			size_t keep = span % BLOCK;
			memmove(l->blk, l->blk + (span - keep), keep);
			l->off += total;
			l->next_seq++;
			return 0;
		}
		if (w != -1 || errno != EINVAL || leave_direct(l))
			goto write_failed;
	}
	/* buffered: the record alone, synced below */
	if (pwrite(l->fd, l->blk + head, total, (off_t)l->off) !=
	    (ssize_t)total)
		goto write_failed;
	l->off += total;
	l->next_seq++;
	l->dirty = true;
	if (sync && sync_active(l, err, errlen))
		goto broken;
	return 0;
write_failed:
	if (errno == 0)
		errno = EIO;
	seg_path(l, l->active, path, sizeof(path));
	fail_errno(err, errlen, "cannot write", path);
broken:
	l->broken = true;
	return -1;
}

uint64_t commitlog_active(const struct commitlog *l)
{
	return l->active;
}

bool commitlog_prepared(const struct commitlog *l)
{
	return l->prepared;
}

size_t commitlog_retired_pending(const struct commitlog *l)
{
	return l->nold;
}

int commitlog_roll(struct commitlog *l, char *err, size_t errlen)
{
	if (l->broken || l->fd == -1)
		return err_fail(err, errlen, "commit log: a write failed "
				"before: the store must be opened again");
	if (l->off && switch_segment(l, 0, err, errlen)) {
		l->broken = true;
		return -1;
	}
	return 0;
}

int commitlog_retire_below(struct commitlog *l, uint64_t before, char *err,
			   size_t errlen)
{
	char path[4200];
	size_t n = 0;

	while (n < l->nold && l->old[n] < before)
		n++;
	if (!n)
		return 0;
	/* Oldest first: whichever of these a power cut undoes, the segments
	 * left still follow each other, so a replay never applies an old
	 * segment without the ones after it. */
	for (size_t i = 0; i < n; i++) {
		seg_path(l, l->old[i], path, sizeof(path));
		if (unlink(path) && errno != ENOENT)
			return fail_errno(err, errlen, "cannot delete", path);
	}
	memmove(l->old, l->old + n, (l->nold - n) * sizeof(*l->old));
	l->nold -= n;
	if (fsync(l->dirfd))
		return fail_errno(err, errlen, "cannot sync", l->dir);
	return 0;
}

void commitlog_close(struct commitlog *l, bool remove_all)
{
	char path[4200];

	if (!l)
		return;
	if (l->fd != -1)
		close(l->fd);
	if (remove_all && !l->broken && l->dirfd != -1) {
		for (size_t i = 0; i < l->nold; i++) {
			seg_path(l, l->old[i], path, sizeof(path));
			unlink(path);
		}
		seg_path(l, l->active, path, sizeof(path));
		unlink(path);
		fsync(l->dirfd);
	}
	segprep_free(l->prep); /* deletes a spare not taken */
	if (l->dirfd != -1)
		close(l->dirfd);
	free(l->old);
	free(l->blk);
	free(l);
}
