/* test_spool_damage.c - the telemetry spool meets damaged files: torn
 * tails cut at every byte, garbage after the last record, corruption in
 * the middle (payload, length, seq, magic), damage in an older segment,
 * damage and missing files under a running spool, random garbage segment
 * and state files, and random bit flips: never a crash or a wrong
 * payload, and the records around the damage intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spool_testlib.h"

/* Five events in one segment; returns its name in name. */
static void five_events(const char *dir, char name[64])
{
	struct spool *sp = open_sp(dir);
	char names[4][64];
	for (unsigned i = 1; i <= 5; i++)
		add(sp, SPOOL_EVENT, 0, i, 50 + i);
	spool_close(sp);
	assert_int_equal(seg_files(dir, 'k', names, 4), 1);
	memcpy(name, names[0], 64);
}

static void expect_tags(struct spool *sp, const unsigned *tags, size_t n)
{
	struct gots g;
	peek_all(sp, &g);
	assert_int_equal(g.n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(g.v[i].tag, tags[i]);
}

static void test_torn_tail_truncated(void **state)
{
	static const unsigned four[] = {1, 2, 3, 4};
	static const unsigned after[] = {1, 2, 3, 4, 6};
	char name[64];
	(void)state;

	/* Cut the last record at every byte: header or payload. */
	for (off_t cut = 1; cut < REC_HDR + 55; cut += 3) {
		char *dir = make_dir();
		struct spool *sp;
		off_t full, last_start;

		five_events(dir, name);
		full = file_size(dir, name);
		last_start = full - (REC_HDR + 55);
		truncate_file(dir, name, last_start + cut);
		warnings = 0;
		sp = open_sp(dir);
		assert_int_equal(stats(sp).torn_tails, 1);
		assert_int_equal(stats(sp).corrupt, 0);
		assert_true(warnings >= 1);
		assert_int_equal(file_size(dir, name), last_start);
		expect_tags(sp, four, 4);
		/* Appends carry on after the cut; seq 5 is not reused. */
		assert_int_equal(add(sp, SPOOL_EVENT, 0, 6, 60), 6);
		spool_close(sp);
		sp = open_sp(dir);
		assert_int_equal(stats(sp).torn_tails, 0);
		assert_int_equal(stats(sp).corrupt, 0);
		expect_tags(sp, after, 5);
		check_disk_bytes(sp, dir);
		spool_close(sp);
		rm_dir(dir);
	}
}

static void test_garbage_tail_truncated(void **state)
{
	static const unsigned five[] = {1, 2, 3, 4, 5};
	static const unsigned six[] = {1, 2, 3, 4, 5, 6};
	char name[64];
	(void)state;

	srand(7);
	for (int round = 0; round < 40; round++) {
		char *dir = make_dir();
		uint8_t junk[300];
		size_t len = 1 + (size_t)rand() % sizeof(junk);
		struct spool *sp;
		off_t full;

		five_events(dir, name);
		full = file_size(dir, name);
		for (size_t i = 0; i < len; i++)
			junk[i] = (uint8_t)rand();
		if (round % 2 && len >= 4)
			memcpy(junk, "SPRC", 4); /* looks like a header */
		patch_file(dir, name, full, junk, len);
		sp = open_sp(dir);
		assert_int_equal(stats(sp).torn_tails, 1);
		assert_int_equal(file_size(dir, name), full);
		expect_tags(sp, five, 5);
		add(sp, SPOOL_EVENT, 0, 6, 70);
		spool_close(sp);
		sp = open_sp(dir);
		assert_int_equal(stats(sp).torn_tails, 0);
		assert_int_equal(stats(sp).corrupt, 0);
		expect_tags(sp, six, 6);
		spool_close(sp);
		rm_dir(dir);
	}
}

/* Offset of record i (1-based) in five_events' segment. */
static off_t rec_off(unsigned i)
{
	off_t off = SEG_HDR;
	for (unsigned j = 1; j < i; j++)
		off += REC_HDR + 50 + j;
	return off;
}

static void test_corrupt_middle_skipped(void **state)
{
	static const unsigned no3[] = {1, 2, 4, 5};
	static const unsigned no2no4[] = {1, 3, 5};
	static const unsigned no3no5[] = {1, 2, 4};
	char *dir = make_dir();
	char name[64];
	struct spool *sp;
	(void)state;

	/* A flipped payload byte: the header is sound, skip by its length. */
	five_events(dir, name);
	patch_file(dir, name, rec_off(3) + REC_HDR + 10, "\xff", 1);
	warnings = 0;
	sp = open_sp(dir);
	assert_int_equal(stats(sp).corrupt, 1);
	assert_int_equal(stats(sp).torn_tails, 0);
	assert_int_equal(warnings, 1);
	expect_tags(sp, no3, 4);
	spool_close(sp);
	rm_dir(dir);

	/* A damaged length (runs past the end) and a damaged seq: resync on
	 * the next good header. */
	dir = make_dir();
	five_events(dir, name);
	patch_file(dir, name, rec_off(2) + 4, "\xff\xff\xff\x7f", 4);
	patch_file(dir, name, rec_off(4) + 12, "\x09", 1);
	sp = open_sp(dir);
	assert_int_equal(stats(sp).corrupt, 2);
	assert_int_equal(stats(sp).torn_tails, 0);
	expect_tags(sp, no2no4, 3);
	spool_close(sp);
	rm_dir(dir);

	/* A bad payload checksum on the very last record is a torn write,
	 * and a bad magic in the middle is skipped. */
	dir = make_dir();
	five_events(dir, name);
	patch_file(dir, name, rec_off(5) + REC_HDR + 3, "\x00", 1);
	patch_file(dir, name, rec_off(3), "X", 1);
	sp = open_sp(dir);
	assert_int_equal(stats(sp).corrupt, 1);
	assert_int_equal(stats(sp).torn_tails, 1);
	expect_tags(sp, no3no5, 3);
	check_disk_bytes(sp, dir);
	spool_close(sp);
	rm_dir(dir);
}

static void test_damage_in_older_segment_is_corruption(void **state)
{
	char *dir = make_dir();
	struct spool_opts o = opts(dir, SPOOL_FSYNC_NEVER, 0, 512);
	struct spool *sp = open_o(&o);
	char names[64][64];
	size_t n;
	struct gots g;
	(void)state;

	for (unsigned i = 1; i <= 20; i++)
		add(sp, SPOOL_EVENT, 0, i, 100);
	spool_close(sp);
	n = seg_files(dir, 'k', names, 64);
	assert_true(n >= 4);
	/* Cutting the end of an older segment is not a torn write: appends
	 * never went there after it was closed. */
	truncate_file(dir, names[0], file_size(dir, names[0]) - 20);
	sp = open_o(&o);
	assert_int_equal(stats(sp).torn_tails, 0);
	assert_int_equal(stats(sp).corrupt, 1);
	peek_all(sp, &g);
	assert_int_equal(g.n, 19);
	/* The damaged file still counts on disk until it is reclaimed. */
	check_disk_bytes(sp, dir);
	ack(sp, g.v[g.n - 1].seq);
	assert_int_equal(seg_files(dir, 'k', names, 64), 1);
	check_disk_bytes(sp, dir);
	spool_close(sp);
	rm_dir(dir);
}

static void test_damage_after_open(void **state)
{
	static const unsigned no3[] = {1, 2, 4, 5};
	char *dir = make_dir(), names[64][64];
	struct spool_opts o = opts(dir, SPOOL_FSYNC_NEVER, 0, 300);
	struct spool *sp = open_o(&o);
	struct gots g;
	(void)state;

	for (unsigned i = 1; i <= 5; i++)
		add(sp, SPOOL_METRIC, 0, i, 50 + i); /* 3 + 2 a segment */
	assert_int_equal(seg_files(dir, 'm', names, 64), 2);
	/* Damage under a running spool: found when read, skipped. */
	patch_file(dir, names[0], rec_off(3) + REC_HDR + 1, "#", 1);
	expect_tags(sp, no3, 4);
	assert_int_equal(stats(sp).corrupt, 1);
	assert_int_equal(stats(sp).live_records[SPOOL_METRIC], 4);
	spool_close(sp);

	/* A segment file removed behind the spool's back: its records are
	 * skipped, the others still come. */
	sp = open_o(&o);
	assert_int_equal(stats(sp).corrupt, 1);
	assert_int_equal(seg_files(dir, 'm', names, 64), 2);
	assert_int_equal(unlink_seg(dir, names[0]), 0);
	peek_all(sp, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.v[0].tag, 4);
	assert_int_equal(stats(sp).corrupt, 3);
	assert_int_equal(stats(sp).segments, 1);
	spool_close(sp);
	rm_dir(dir);
}

static void test_garbage_files_do_not_crash(void **state)
{
	static const char lanes[] = "klm";
	(void)state;

	srand(11);
	for (int round = 0; round < 150; round++) {
		char *dir = make_dir(), name[64], names[64][64];
		uint8_t junk[3000];
		struct spool *sp = open_sp(dir);
		struct gots g;
		size_t n;

		for (unsigned i = 1; i <= 6; i++)
			add(sp, i % 3 == 0 ? SPOOL_METRIC : SPOOL_EVENT, 0, i,
			    payload_len(i));
		spool_close(sp);
		n = seg_files(dir, 0, names, 64);
		for (int f = 0; f < 1 + rand() % 3; f++) {
			size_t len = (size_t)rand() % sizeof(junk);
			for (size_t i = 0; i < len; i++)
				junk[i] = (uint8_t)rand();
			/* Sometimes a copy of a real segment with damage. */
			if (rand() % 2) {
				char path[512];
				size_t got;
				FILE *fp;
				snprintf(path, sizeof(path), "%s/%s", dir,
					 names[(size_t)rand() % n]);
				fp = fopen(path, "rb");
				got = fread(junk, 1, sizeof(junk), fp);
				fclose(fp);
				if (len > got)
					len = got;
				if (len)
					junk[(size_t)rand() % len] ^= 0x10;
			}
			/* Named after the real ones: they become tails. */
			snprintf(name, sizeof(name), "%020d-%c.seg",
				 7 + rand() % 20, lanes[rand() % 3]);
			write_file(dir, name, junk, len);
		}
		if (rand() % 3 == 0)
			write_file(dir, "state", junk, (size_t)rand() % 40);
		sp = open_sp(dir);
		peek_all(sp, &g); /* every payload given back is intact */
		assert_true(stats(sp).next_seq > 6);
		add(sp, SPOOL_EVENT, 0, 100, 50);
		check_disk_bytes(sp, dir);
		spool_close(sp);
		sp = open_sp(dir);
		peek_all(sp, &g);
		assert_true(g.n >= 1);
		assert_int_equal(g.v[g.n - 1].tag, 100);
		spool_close(sp);
		rm_dir(dir);
	}
}

static void test_bit_flips_never_give_bad_data(void **state)
{
	(void)state;

	srand(13);
	for (int round = 0; round < 150; round++) {
		char *dir = make_dir(), names[64][64];
		struct spool_opts o = opts(dir, SPOOL_FSYNC_NEVER, 0, 2048);
		struct spool *sp = open_o(&o);
		struct gots g;
		size_t n;

		for (unsigned i = 1; i <= 40; i++)
			add(sp, (enum spool_kind)(i % 3),
			    i % 9 == 1 ? SPOOL_FINAL : 0, i, payload_len(i));
		spool_close(sp);
		n = seg_files(dir, 0, names, 64);
		for (int f = 0; f < 1 + rand() % 6; f++) {
			const char *victim = names[(size_t)rand() % n];
			off_t size = file_size(dir, victim);
			uint8_t b = (uint8_t)(1 << (rand() % 8));
			if (rand() % 5 == 0) {
				truncate_file(dir, victim, rand() % (size + 1));
				continue;
			}
			if (size == 0)
				continue;
			patch_file(dir, victim, rand() % size, &b, 1);
		}
		sp = open_o(&o);
		peek_all(sp, &g);
		for (size_t i = 0; i < g.n; i++)
			assert_int_equal(g.v[i].seq, (uint64_t)g.v[i].tag);
		assert_true(stats(sp).next_seq > 40);
		spool_close(sp);
		rm_dir(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_torn_tail_truncated),
		cmocka_unit_test(test_garbage_tail_truncated),
		cmocka_unit_test(test_corrupt_middle_skipped),
		cmocka_unit_test(test_damage_in_older_segment_is_corruption),
		cmocka_unit_test(test_damage_after_open),
		cmocka_unit_test(test_garbage_files_do_not_crash),
		cmocka_unit_test(test_bit_flips_never_give_bad_data),
	};
	log_setup("test_spool_damage", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
