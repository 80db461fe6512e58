/*
 * spool_testlib.h - helpers for the spool's unit tests (test_spool.c,
 * test_spool_damage.c): temporary directories, records whose payload
 * proves its integrity (a tag and a pattern), reading everything back,
 * and poking at segment files. Header-only, static inline, so each test
 * binary takes what it uses.
 */
#ifndef SP_SPOOL_TESTLIB_H
#define SP_SPOOL_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spool.h"
#include "util.h"

/* Warnings the spool reported through the callback. */
static int warnings;

static inline void count_warning(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
	warnings++;
}

static inline char *make_dir(void)
{
	char tmpl[] = "/tmp/sp-spool-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static inline int rm_one(const char *path, const struct stat *st, int flag,
			 struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void rm_dir(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static inline struct spool_opts opts(const char *dir, enum spool_fsync fs,
				     uint64_t max, uint64_t seg)
{
	struct spool_opts o = {0};
	o.dir = dir;
	o.fsync = fs;
	o.max_bytes = max;
	o.segment_bytes = seg;
	o.warn = count_warning;
	return o;
}

static inline struct spool *open_o(const struct spool_opts *o)
{
	char err[256] = "";
	struct spool *sp = spool_open(o, err, sizeof(err));
	if (!sp)
		fail_msg("spool_open: %s", err);
	return sp;
}

static inline struct spool *open_sp(const char *dir)
{
	struct spool_opts o = opts(dir, SPOOL_FSYNC_NEVER, 0, 0);
	return open_o(&o);
}

/* The payload of the record tagged tag: its tag, then a pattern, of a
 * length that varies with the tag. */
static inline size_t payload(unsigned tag, size_t len, char *buf)
{
	int n = snprintf(buf, len, "t%u:", tag);
	for (size_t i = (size_t)n; i < len; i++)
		buf[i] = (char)('a' + (tag * 7 + i) % 26);
	return len;
}

static inline size_t payload_len(unsigned tag)
{
	return 16 + (tag * 37) % 200;
}

static inline uint64_t add(struct spool *sp, enum spool_kind kind,
			   unsigned flags, unsigned tag, size_t len)
{
	char buf[4096], err[256] = "";
	uint64_t seq;
	enum spool_result r = SPOOL_OK;

	assert_true(len <= sizeof(buf));
	payload(tag, len, buf);
	r = spool_append(sp, kind, flags, buf, len, &seq, err, sizeof(err));
	if (r != SPOOL_OK)
		fail_msg("append of %u: %d %s", tag, (int)r, err);
	return seq;
}

/* An appended record as read back: seq, kind, flags, and the tag parsed
 * from a payload that matched the pattern in full (or -1). */
struct got {
	uint64_t seq;
	int kind;
	unsigned flags;
	long tag;
};

struct gots {
	struct got v[4096];
	size_t n;
};

static inline int collect(void *ctx, const struct spool_record *r)
{
	struct gots *g = ctx;
	char want[4096], head[16] = "";
	unsigned tag;
	long t = -1;

	/* Payloads are not NUL-terminated. */
	memcpy(head, r->data, r->len < 15 ? r->len : 15);
	if (sscanf(head, "t%u:", &tag) == 1 && r->len < sizeof(want) &&
	    r->len > 4) {
		payload(tag, r->len, want);
		if (memcmp(want, r->data, r->len) == 0)
			t = tag;
	}
	assert_true(g->n < ARRAY_SIZE(g->v));
	g->v[g->n++] = (struct got){r->seq, r->kind, r->flags, t};
	return 0;
}

/* Everything live, oldest first; checks that seqs increase and every
 * payload is intact. */
static inline void peek_all(struct spool *sp, struct gots *g)
{
	char err[256] = "";
	int n;

	g->n = 0;
	n = spool_peek(sp, 0, SIZE_MAX, SIZE_MAX, collect, g, err, sizeof(err));
	if (n < 0)
		fail_msg("peek: %s", err);
	assert_int_equal((size_t)n, g->n);
	for (size_t i = 0; i < g->n; i++) {
		assert_true(g->v[i].tag >= 0);
		if (i > 0)
			assert_true(g->v[i].seq > g->v[i - 1].seq);
	}
}

static inline struct spool_stats stats(struct spool *sp)
{
	struct spool_stats st;
	spool_get_stats(sp, &st);
	return st;
}

static inline void ack(struct spool *sp, uint64_t upto)
{
	char err[256] = "";
	if (spool_ack(sp, upto, err, sizeof(err)) != 0)
		fail_msg("ack %llu: %s", (unsigned long long)upto, err);
}

/* The segment files of a lane ('k', 'l', 'm'; 0 for all), sorted. */
static inline size_t seg_files(const char *dir, char lane, char names[][64],
			       size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len != 26 || strcmp(de->d_name + 22, ".seg") != 0 ||
		    (lane && de->d_name[21] != lane))
			continue;
		assert_true(n < max);
		snprintf(names[n++], 64, "%s", de->d_name);
	}
	closedir(d);
	qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
	return n;
}

static inline off_t file_size(const char *dir, const char *name)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* The bytes the segment files really take match what the spool says. */
static inline void check_disk_bytes(struct spool *sp, const char *dir)
{
	char names[512][64];
	size_t n = seg_files(dir, 0, names, 512);
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += (uint64_t)file_size(dir, names[i]);
	assert_int_equal(stats(sp).segments, n);
	assert_int_equal(stats(sp).disk_bytes, total);
}

static inline void patch_file(const char *dir, const char *name, off_t off,
			      const void *data, size_t len)
{
	char path[512];
	int fd;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, len, off), (ssize_t)len);
	close(fd);
}

static inline void truncate_file(const char *dir, const char *name, off_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(truncate(path, len), 0);
}

static inline int unlink_seg(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return unlink(path);
}

#define REC_HDR 28 /* spool_disk.h: the framing before each payload */
#define SEG_HDR 24

static inline void write_file(const char *dir, const char *name,
			      const void *data, size_t len)
{
	char path[512];
	int fd;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

#endif
