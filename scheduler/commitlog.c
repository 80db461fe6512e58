/* commitlog.c - the store's commit log: preallocated segments, one record
 * per write batch (commitlog.h). */
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
	bool broken;      /* a write failed: take nothing more */
	uint64_t next_seq;
	uint64_t *old;    /* segments before the active one, oldest first */
	size_t nold, oldcap;
	uint8_t *buf;
	size_t bufcap;
};

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

/* Gives the active segment a new file of its full size, durable (its
 * name too) before a record goes in. Its blocks are allocated, not
 * written: they read as zeros, and a retired segment's records are
 * never in them (a recycled file would keep them readable until
 * overwritten, which a tenant's deletion must not allow). */
static int new_segment(struct commitlog *l, uint64_t need, char *err,
		       size_t errlen)
{
	char path[4200];
	uint64_t size = need > l->seg_bytes ? need : l->seg_bytes;

	seg_path(l, l->active, path, sizeof(path));
	l->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (l->fd == -1)
		return fail_errno(err, errlen, "cannot create", path);
	if (fallocate(l->fd, 0, 0, (off_t)size) &&
	    (errno != EOPNOTSUPP || ftruncate(l->fd, (off_t)size)))
		return fail_errno(err, errlen, "cannot allocate", path);
	if (fsync(l->fd) || fsync(l->dirfd))
		return fail_errno(err, errlen, "cannot sync", path);
	l->size = size;
	l->off = 0;
	l->dirty = false;
	return 0;
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
	if (new_segment(l, 0, err, errlen))
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

int commitlog_append(struct commitlog *l, const void *rec, size_t len,
		     bool sync, bool *switched, char *err, size_t errlen)
{
	size_t total = COMMITLOG_HEADER + len;
	char path[4200];

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
	if (total > l->bufcap) {
		free(l->buf);
		l->bufcap = total > 65536 ? total : 65536;
		l->buf = xmalloc(l->bufcap);
	}
	store_put_u32be(l->buf + 4, (uint32_t)len);
	store_put_u64be(l->buf + 8, l->active);
	store_put_u64be(l->buf + 16, l->next_seq);
	memcpy(l->buf + COMMITLOG_HEADER, rec, len);
	store_put_u32be(l->buf, record_crc(l->buf, len));
	if (pwrite(l->fd, l->buf, total, (off_t)l->off) != (ssize_t)total) {
		if (errno == 0)
			errno = EIO;
		seg_path(l, l->active, path, sizeof(path));
		fail_errno(err, errlen, "cannot write", path);
		goto broken;
	}
	l->off += total;
	l->next_seq++;
	l->dirty = true;
	if (sync && sync_active(l, err, errlen))
		goto broken;
	return 0;
broken:
	l->broken = true;
	return -1;
}

uint64_t commitlog_active(const struct commitlog *l)
{
	return l->active;
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
	if (l->dirfd != -1)
		close(l->dirfd);
	free(l->old);
	free(l->buf);
	free(l);
}
