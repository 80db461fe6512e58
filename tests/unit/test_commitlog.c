/* test_commitlog.c - the store's commit log: records replayed in order
 * across segments, a torn last record dropped, damage and gaps refused,
 * retired segments gone, a roll leaving no file with an older record,
 * segments prepared ahead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commitlog.h"
#include "store_fixture.h"
#include "util.h"

#define MAXREC 400

struct seen {
	size_t n;
	size_t len[MAXREC];
	uint8_t first[MAXREC]; /* each test record is one byte repeated */
	int fail_at;           /* apply fails at this record (0: never) */
};

static int collect(void *ctx, const void *rec, size_t len, char *err,
		   size_t errlen)
{
	struct seen *s = ctx;
	const uint8_t *r = rec;

	if (s->fail_at && (int)s->n + 1 == s->fail_at)
		return err_fail(err, errlen, "apply refused");
	assert_true(s->n < MAXREC);
	for (size_t i = 1; i < len; i++)
		assert_int_equal(r[i], r[0]);
	s->len[s->n] = len;
	s->first[s->n++] = r[0];
	return 0;
}

static void log_dir(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", store_fx_dir, name);
}

static struct commitlog *open_log(const char *dir, uint64_t seg,
				  struct seen *s)
{
	char err[512];
	uint64_t n;
	struct commitlog *l = commitlog_open(dir, seg, collect, s, &n, err,
					     sizeof(err));
	if (!l)
		fail_msg("commitlog_open: %s", err);
	assert_int_equal(n, s->n);
	return l;
}

/* Record i: 1 + (i * 37) % 300 bytes of the byte i. */
static size_t rec_len(int i)
{
	return 1 + (size_t)(i * 37) % 300;
}

static int append_n(struct commitlog *l, int from, int to)
{
	uint8_t buf[400];
	char err[512];
	int switches = 0;

	for (int i = from; i < to; i++) {
		bool sw;
		memset(buf, i, rec_len(i));
		if (commitlog_append(l, buf, rec_len(i), i % 3 == 0, &sw, err,
				     sizeof(err)))
			fail_msg("append %d: %s", i, err);
		switches += sw;
	}
	return switches;
}

static void assert_replayed(const struct seen *s, int n)
{
	assert_int_equal(s->n, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(s->len[i], rec_len(i));
		assert_int_equal(s->first[i], (uint8_t)i);
	}
}

static off_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void seg_file(const char *dir, uint64_t num, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%016llx.seg", dir, (unsigned long long)num);
}

static void flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x5a;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

/* Every record comes back, in order, across segment switches; a segment
 * file has its full size from the start. */
static void test_replay_across_segments(void **state)
{
	char dir[128], path[256];
	struct seen a = { 0 }, b = { 0 };
	struct commitlog *l;
	(void)state;

	log_dir("across", dir, sizeof(dir));
	l = open_log(dir, 4096, &a);
	seg_file(dir, 1, path, sizeof(path));
	assert_int_equal(file_size(path), 4096);
	assert_true(append_n(l, 0, 200) >= 5);
	assert_int_equal(commitlog_retired_pending(l),
			 commitlog_active(l) - 1);
	commitlog_close(l, false);

	l = open_log(dir, 4096, &b);
	assert_replayed(&b, 200);
	/* the replayed segments wait to be retired; new records follow */
	assert_true(commitlog_retired_pending(l) >= 6);
	append_n(l, 200, 210);
	commitlog_close(l, false);
	memset(&b, 0, sizeof(b));
	l = open_log(dir, 4096, &b);
	assert_replayed(&b, 210);
	commitlog_close(l, true);
	memset(&b, 0, sizeof(b));
	l = open_log(dir, 4096, &b); /* removed: nothing to replay */
	assert_int_equal(b.n, 0);
	commitlog_close(l, true);
}

/* A torn last record is dropped, and the next record takes its place. */
static void test_torn_tail(void **state)
{
	char dir[128], path[256];
	struct seen a = { 0 }, b = { 0 };
	struct commitlog *l;
	off_t end = 0;
	(void)state;

	log_dir("torn", dir, sizeof(dir));
	l = open_log(dir, 1 << 20, &a);
	append_n(l, 0, 10);
	commitlog_close(l, false);
	for (int i = 0; i < 10; i++)
		end += COMMITLOG_HEADER + (off_t)rec_len(i);
	seg_file(dir, 1, path, sizeof(path));
	flip_byte(path, end - 1); /* the last record's last byte */

	l = open_log(dir, 1 << 20, &b);
	assert_replayed(&b, 9);
	append_n(l, 9, 12); /* in a new segment */
	commitlog_close(l, false);
	memset(&b, 0, sizeof(b));
	l = open_log(dir, 1 << 20, &b);
	assert_replayed(&b, 12);
	commitlog_close(l, true);
}

/* Damage before a valid record stops the open, naming where. */
static void test_damage_refused(void **state)
{
	char dir[128], path[256], err[512];
	struct seen a = { 0 }, b = { 0 };
	struct commitlog *l;
	uint64_t n;
	off_t third = 0;
	(void)state;

	log_dir("damage", dir, sizeof(dir));
	l = open_log(dir, 1 << 20, &a);
	append_n(l, 0, 10);
	commitlog_close(l, false);
	for (int i = 0; i < 2; i++)
		third += COMMITLOG_HEADER + (off_t)rec_len(i);
	seg_file(dir, 1, path, sizeof(path));
	flip_byte(path, third + COMMITLOG_HEADER); /* record 2's payload */

	l = commitlog_open(dir, 1 << 20, collect, &b, &n, err, sizeof(err));
	assert_null(l);
	assert_non_null(strstr(err, "is damaged at offset"));
	assert_non_null(strstr(err, "0000000000000001.seg"));
	assert_int_equal(b.n, 2);
}

/* A segment missing between two others is a gap the open refuses. */
static void test_gap_refused(void **state)
{
	char dir[128], path[256], err[512];
	struct seen a = { 0 }, b = { 0 };
	struct commitlog *l;
	uint64_t n;
	(void)state;

	log_dir("gap", dir, sizeof(dir));
	l = open_log(dir, 2048, &a);
	assert_true(append_n(l, 0, 60) >= 3);
	commitlog_close(l, false);
	seg_file(dir, 2, path, sizeof(path));
	assert_int_equal(unlink(path), 0);

	l = commitlog_open(dir, 2048, collect, &b, &n, err, sizeof(err));
	assert_null(l);
	assert_non_null(strstr(err, "is missing"));
}

/* Retired segments are gone, and only they; a roll ends the active
 * segment, so that retiring below the next one leaves no file holding a
 * record written before the roll. */
static void test_retire_and_roll(void **state)
{
	char dir[128], path[256], err[512];
	struct seen a = { 0 }, b = { 0 };
	struct commitlog *l;
	uint64_t active;
	(void)state;

	log_dir("retire", dir, sizeof(dir));
	l = open_log(dir, 4096, &a);
	append_n(l, 0, 100);
	active = commitlog_active(l);
	assert_true(active >= 3);
	assert_int_equal(commitlog_retire_below(l, active, err, sizeof(err)),
			 0);
	assert_int_equal(commitlog_retired_pending(l), 0);
	for (uint64_t i = 1; i < active; i++) {
		seg_file(dir, i, path, sizeof(path));
		assert_int_equal(access(path, F_OK), -1);
	}
	seg_file(dir, active, path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);

	assert_int_equal(commitlog_roll(l, err, sizeof(err)), 0);
	assert_int_equal(commitlog_active(l), active + 1);
	assert_int_equal(commitlog_roll(l, err, sizeof(err)), 0); /* empty */
	assert_int_equal(commitlog_active(l), active + 1);
	assert_int_equal(commitlog_retire_below(l, active + 1, err,
						sizeof(err)),
			 0);
	assert_int_equal(access(path, F_OK), -1);
	append_n(l, 100, 105);
	commitlog_close(l, false);

	l = open_log(dir, 4096, &b); /* only what came after the roll */
	assert_int_equal(b.n, 5);
	for (size_t i = 0; i < b.n; i++)
		assert_int_equal(b.first[i], (uint8_t)(100 + i));
	commitlog_close(l, true);
}

/* A record bigger than a segment gets a segment of its own size. */
static void test_big_record(void **state)
{
	char dir[128], err[512];
	struct seen a = { 0 }, b = { 0 };
	struct commitlog *l;
	uint8_t buf[300];
	bool sw;
	(void)state;

	log_dir("big", dir, sizeof(dir));
	l = open_log(dir, 256, &a);
	memset(buf, 7, sizeof(buf));
	assert_int_equal(commitlog_append(l, buf, sizeof(buf), true, &sw, err,
					  sizeof(err)),
			 0);
	assert_true(sw);
	assert_int_equal(commitlog_append(l, buf, 0, true, &sw, err,
					  sizeof(err)),
			 -1);
	commitlog_close(l, false);
	l = open_log(dir, 256, &b);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.len[0], sizeof(buf));
	commitlog_close(l, true);
}

/* A replay whose apply fails fails the open with apply's reason. */
static void test_apply_failure(void **state)
{
	char dir[128], err[512];
	struct seen a = { 0 }, b = { .fail_at = 3 };
	struct commitlog *l;
	uint64_t n;
	(void)state;

	log_dir("applyfail", dir, sizeof(dir));
	l = open_log(dir, 1 << 16, &a);
	append_n(l, 0, 5);
	commitlog_close(l, false);
	l = commitlog_open(dir, 1 << 16, collect, &b, &n, err, sizeof(err));
	assert_null(l);
	assert_string_equal(err, "apply refused");
}

/* A file bigger than any segment is refused, not read into memory. */
static void test_oversized_segment(void **state)
{
	char dir[128], path[256], err[512];
	struct seen a = { 0 };
	uint64_t n;
	int fd;
	(void)state;

	log_dir("oversized", dir, sizeof(dir));
	assert_int_equal(mkdir_p(dir, 0700), 0);
	seg_file(dir, 1, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, ((off_t)1 << 30) + 1), 0); /* sparse */
	close(fd);
	assert_null(commitlog_open(dir, 4096, collect, &a, &n, err,
				   sizeof(err)));
	assert_non_null(strstr(err, "larger than any segment"));
	assert_int_equal(a.n, 0);
	unlink(path);
}

/* The names in dir that end with suffix. */
static int count_suffix(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len > strlen(suffix) &&
		    !strcmp(e->d_name + len - strlen(suffix), suffix))
			n++;
	}
	closedir(d);
	return n;
}

/* Every segment is prepared (written with zeros; direct writes of whole
 * blocks with the partial last one kept in memory): the open's own, at
 * most 1 MiB, then those the preparer makes at their full size. Every
 * record comes back in order; a spare left by a stop is deleted at the
 * open, and the one not taken at the close. */
static void test_prepared_segments(void **state)
{
	char dir[128], stale[256], path[256];
	struct seen a = { 0 }, b = { 0 }, c = { 0 };
	struct commitlog *l;
	int fd;
	(void)state;

	log_dir("prepared", dir, sizeof(dir));
	assert_int_equal(mkdir_p(dir, 0700), 0);
	snprintf(stale, sizeof(stale), "%s/00000000000000aa.new", dir);
	fd = open(stale, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	l = open_log(dir, 8192, &a);
	assert_int_equal(access(stale, F_OK), -1);
	assert_true(commitlog_prepared(l));
	/* about 55 records a segment: several switches, each to a spare */
	assert_true(append_n(l, 0, MAXREC) >= 4);
	assert_true(commitlog_prepared(l));
	seg_file(dir, commitlog_active(l), path, sizeof(path));
	assert_int_equal(file_size(path), 8192);
	commitlog_close(l, false);
	assert_int_equal(count_suffix(dir, ".new"), 0);
	l = open_log(dir, 8192, &b);
	assert_replayed(&b, MAXREC);
	commitlog_close(l, true);
	assert_int_equal(count_suffix(dir, ".seg"), 0);
	assert_int_equal(count_suffix(dir, ".new"), 0);
	/* a large segment size: the open writes 1 MiB of it */
	l = open_log(dir, 64 << 20, &c);
	seg_file(dir, commitlog_active(l), path, sizeof(path));
	assert_int_equal(file_size(path), 1 << 20);
	assert_true(commitlog_prepared(l));
	commitlog_close(l, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_across_segments),
		cmocka_unit_test(test_torn_tail),
		cmocka_unit_test(test_damage_refused),
		cmocka_unit_test(test_gap_refused),
		cmocka_unit_test(test_retire_and_roll),
		cmocka_unit_test(test_big_record),
		cmocka_unit_test(test_apply_failure),
		cmocka_unit_test(test_oversized_segment),
		cmocka_unit_test(test_prepared_segments),
	};
	return cmocka_run_group_tests(tests, store_fx_setup, store_fx_teardown);
}
