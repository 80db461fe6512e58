/* test_spool.c - the telemetry spool on real files in a temporary
 * directory: order across reopen, durable acks, peek limits, the size bound
 * and its drop order, the hard ceiling, segment rotation and reclaim, acks
 * under each fsync policy, and a child killed with SIGKILL mid-append.
 * Damage (torn tails, corruption, garbage) is in test_spool_damage.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spool_testlib.h"

/* --- order, acks, limits ------------------------------------------------ */

static void test_append_peek_ack_reopen(void **state)
{
	char *dir = make_dir();
	struct spool_opts o = opts(dir, SPOOL_FSYNC_ALWAYS, 0, 0);
	struct spool *sp = open_o(&o);
	static const int kinds[] = {SPOOL_EVENT, SPOOL_LOG, SPOOL_METRIC};
	struct gots g;
	(void)state;

	for (unsigned i = 1; i <= 12; i++) {
		unsigned flags = i == 11 ? SPOOL_FINAL : 0;
		int kind = i == 11 ? SPOOL_LOG : kinds[i % 3];
		assert_int_equal(add(sp, kind, flags, i, payload_len(i)), i);
	}
	peek_all(sp, &g);
	assert_int_equal(g.n, 12);
	for (unsigned i = 0; i < 12; i++) {
		assert_int_equal(g.v[i].seq, i + 1);
		assert_int_equal(g.v[i].tag, i + 1);
		assert_int_equal(g.v[i].kind,
				 i + 1 == 11 ? SPOOL_LOG : kinds[(i + 1) % 3]);
		assert_int_equal(g.v[i].flags, i + 1 == 11 ? SPOOL_FINAL : 0);
	}
	ack(sp, 4);
	peek_all(sp, &g);
	assert_int_equal(g.n, 8);
	assert_int_equal(g.v[0].seq, 5);
	spool_close(sp);

	sp = open_o(&o);
	peek_all(sp, &g);
	assert_int_equal(g.n, 8);
	assert_int_equal(g.v[0].seq, 5);
	assert_int_equal(g.v[7].seq, 12);
	assert_int_equal(stats(sp).live_records[SPOOL_EVENT], 3);
	assert_int_equal(stats(sp).live_records[SPOOL_LOG], 3);
	assert_int_equal(stats(sp).live_records[SPOOL_METRIC], 2);
	/* A clean close gives back the reserved seqs: no gap. */
	assert_int_equal(add(sp, SPOOL_EVENT, 0, 13, 40), 13);
	peek_all(sp, &g);
	assert_int_equal(g.n, 9);
	assert_int_equal(g.v[8].tag, 13);
	assert_int_equal(stats(sp).corrupt, 0);
	assert_int_equal(stats(sp).torn_tails, 0);
	check_disk_bytes(sp, dir);
	spool_close(sp);
	rm_dir(dir);
}

static void test_ack_survives_reopen(void **state)
{
	char *dir = make_dir();
	struct spool_opts o = opts(dir, SPOOL_FSYNC_ALWAYS, 0, 1024);
	struct spool *sp = open_o(&o);
	struct gots g;
	char err[256];
	(void)state;

	for (unsigned i = 1; i <= 40; i++)
		add(sp, i % 2 ? SPOOL_EVENT : SPOOL_LOG, 0, i, 100);
	ack(sp, 25);
	ack(sp, 20); /* going back is a no-op */
	assert_int_equal(spool_ack(sp, 41, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "never handed out"));
	spool_close(sp);

	sp = open_o(&o);
	peek_all(sp, &g);
	assert_int_equal(g.n, 15);
	assert_int_equal(g.v[0].seq, 26);
	assert_int_equal(stats(sp).acked_seq, 25);
	ack(sp, 40);
	spool_close(sp);

	/* Everything acked: nothing comes back, seqs carry on. */
	sp = open_o(&o);
	peek_all(sp, &g);
	assert_int_equal(g.n, 0);
	assert_true(add(sp, SPOOL_EVENT, 0, 41, 50) > 40);
	check_disk_bytes(sp, dir);
	spool_close(sp);
	rm_dir(dir);
}

static void test_peek_limits(void **state)
{
	char *dir = make_dir();
	struct spool *sp = open_sp(dir);
	struct gots g = {.n = 0};
	char err[256];
	(void)state;

	for (unsigned i = 1; i <= 10; i++)
		add(sp, SPOOL_METRIC, 0, i, 100);
	assert_int_equal(
		spool_peek(sp, 0, 3, SIZE_MAX, collect, &g, err, sizeof(err)),
		3);
	assert_int_equal(g.v[2].seq, 3);
	/* Continue after the last one seen: nothing twice, nothing skipped. */
	assert_int_equal(
		spool_peek(sp, 3, 100, 250, collect, &g, err, sizeof(err)), 2);
	assert_int_equal(g.v[3].seq, 4);
	assert_int_equal(g.v[4].seq, 5);
	/* The first record is given even if it alone is over max_bytes. */
	assert_int_equal(
		spool_peek(sp, 5, 100, 10, collect, &g, err, sizeof(err)), 1);
	assert_int_equal(g.v[5].seq, 6);
	assert_int_equal(spool_peek(sp, 10, 100, SIZE_MAX, collect, &g, err,
				    sizeof(err)),
			 0);
	assert_int_equal(spool_peek(sp, UINT64_MAX, 100, SIZE_MAX, collect, &g,
				    err, sizeof(err)),
			 0);
	/* after_seq below the ack starts at the oldest live record. */
	ack(sp, 7);
	g.n = 0;
	assert_int_equal(
		spool_peek(sp, 2, 1, SIZE_MAX, collect, &g, err, sizeof(err)),
		1);
	assert_int_equal(g.v[0].seq, 8);
	spool_close(sp);
	rm_dir(dir);
}

static void test_bad_arguments_and_lock(void **state)
{
	char *dir = make_dir();
	struct spool_opts o = opts(dir, SPOOL_FSYNC_NEVER, 0, 0);
	struct spool *sp = open_o(&o);
	char err[256] = "", big[8];
	uint64_t seq = 99;
	(void)state;

	assert_null(spool_open(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "in use"));
	assert_int_equal(spool_append(sp, SPOOL_EVENT, SPOOL_FINAL, "x", 1,
				      &seq, err, sizeof(err)),
			 SPOOL_ERR);
	assert_int_equal(seq, 0);
	assert_int_equal(spool_append(sp, (enum spool_kind)7, 0, "x", 1, &seq,
				      err, sizeof(err)),
			 SPOOL_ERR);
	assert_int_equal(spool_append(sp, SPOOL_LOG, 0, big,
				      SPOOL_MAX_PAYLOAD + 1, &seq, err,
				      sizeof(err)),
			 SPOOL_ERR);
	assert_int_equal(stats(sp).next_seq, 1);
	/* An empty payload is a record too. */
	assert_int_equal(spool_append(sp, SPOOL_EVENT, 0, NULL, 0, &seq, err,
				      sizeof(err)),
			 SPOOL_OK);
	assert_int_equal(seq, 1);
	spool_close(sp);
	o.segment_bytes = 10;
	assert_null(spool_open(&o, err, sizeof(err)));
	o.dir = "";
	assert_null(spool_open(&o, err, sizeof(err)));
	rm_dir(dir);
}

/* --- size bound --------------------------------------------------------- */

/* The records of (kind, flags) still live are the newest of those tagged
 * first, first + step, ... last, without holes; *kept says how many. */
static void check_suffix(const struct gots *g, int kind, unsigned flags,
			 unsigned first, unsigned last, unsigned step,
			 size_t *kept)
{
	unsigned expect = 0;
	*kept = 0;
	for (size_t i = 0; i < g->n; i++) {
		if (g->v[i].kind != kind || g->v[i].flags != flags)
			continue;
		if (!expect)
			expect = (unsigned)g->v[i].tag;
		assert_true(g->v[i].tag >= first);
		assert_int_equal(g->v[i].tag, expect); /* no holes */
		expect += step;
		(*kept)++;
	}
	if (*kept)
		assert_int_equal(expect - step, last); /* the newest stay */
}

static void test_bound_drop_order(void **state)
{
	char *dir = make_dir();
	/* 64 KiB bound, 4 KiB segments, 228-byte records. */
	struct spool_opts o = opts(dir, SPOOL_FSYNC_NEVER, 64 << 10, 4096);
	struct spool *sp = open_o(&o);
	struct spool_stats st;
	struct gots g;
	char names[64][64];
	size_t kept;
	unsigned tag = 0;
	(void)state;

	for (int i = 0; i < 100; i++)
		add(sp, SPOOL_METRIC, 0, ++tag, 200); /* tags 1..100 */
	for (int i = 0; i < 100; i++)
		add(sp, SPOOL_LOG, 0, ++tag, 200); /* 101..200 */
	for (int i = 0; i < 20; i++) {
		add(sp, SPOOL_EVENT, 0, ++tag, 200);	     /* odd 201.. */
		add(sp, SPOOL_LOG, SPOOL_FINAL, ++tag, 200); /* even */
	}
	st = stats(sp);
	assert_int_equal(st.dropped_records[SPOOL_METRIC], 0);
	assert_true(st.disk_bytes <= 64 << 10);

	/* Over the bound: the oldest metrics go first, logs stay. */
	for (int i = 0; i < 60; i++)
		add(sp, SPOOL_EVENT, 0, ++tag, 200); /* 241..300 */
	st = stats(sp);
	assert_true(st.dropped_records[SPOOL_METRIC] > 0);
	assert_int_equal(st.dropped_records[SPOOL_LOG], 0);
	assert_int_equal(st.dropped_bytes[SPOOL_METRIC],
			 st.dropped_records[SPOOL_METRIC] * (REC_HDR + 200));
	assert_true(st.disk_bytes <= 64 << 10);
	check_disk_bytes(sp, dir);
	peek_all(sp, &g);
	check_suffix(&g, SPOOL_METRIC, 0, 1, 100, 1, &kept);
	assert_int_equal(kept + st.dropped_records[SPOOL_METRIC], 100);
	check_suffix(&g, SPOOL_LOG, 0, 101, 200, 1, &kept);
	assert_int_equal(kept, 100);

	/* Further: every metric, then the oldest non-final logs. */
	for (int i = 0; i < 100; i++)
		add(sp, SPOOL_EVENT, 0, ++tag, 200); /* 301..400 */
	st = stats(sp);
	assert_int_equal(st.dropped_records[SPOOL_METRIC], 100);
	assert_int_equal(st.live_records[SPOOL_METRIC], 0);
	assert_true(st.dropped_records[SPOOL_LOG] > 0);
	assert_true(st.disk_bytes <= 64 << 10);
	peek_all(sp, &g);
	check_suffix(&g, SPOOL_LOG, 0, 101, 200, 1, &kept);
	assert_int_equal(kept + st.dropped_records[SPOOL_LOG], 100);
	/* Events and final logs: all of them. */
	check_suffix(&g, SPOOL_LOG, SPOOL_FINAL, 202, 240, 2, &kept);
	assert_int_equal(kept, 20);
	kept = 0;
	for (size_t i = 0; i < g.n; i++)
		kept += g.v[i].kind == SPOOL_EVENT;
	assert_int_equal(kept, 20 + 60 + 100);
	assert_int_equal(seg_files(dir, 'm', names, 64), 0);
	check_disk_bytes(sp, dir);
	spool_close(sp);
	rm_dir(dir);
}

static void test_hard_ceiling_full(void **state)
{
	char *dir = make_dir();
	struct spool_opts o = opts(dir, SPOOL_FSYNC_NEVER, 32 << 10, 4096);
	struct spool *sp = open_o(&o);
	struct spool_stats st, before;
	char buf[300], err[256];
	uint64_t seq, last = 0;
	enum spool_result r = SPOOL_OK;
	unsigned tag = 0;
	(void)state;

	add(sp, SPOOL_LOG, 0, ++tag, 200);
	/* Only undroppable records: accepted past the bound... */
	for (int i = 0; i < 1000; i++) {
		payload(++tag, 200, buf);
		r = spool_append(sp, SPOOL_EVENT, 0, buf, 200, &seq, err,
				 sizeof(err));
		if (r != SPOOL_OK)
			break;
		last = seq;
	}
	/* ...up to twice the bound, then refused with nothing written. */
	assert_int_equal(r, SPOOL_FULL);
	assert_int_equal(seq, 0);
	st = stats(sp);
	assert_true(st.disk_bytes > 32 << 10);
	assert_true(st.disk_bytes <= 64 << 10);
	assert_true(st.disk_bytes + REC_HDR + 200 + SEG_HDR > 64 << 10);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.dropped_records[SPOOL_LOG], 1);
	assert_int_equal(st.next_seq, last + 1);
	/* Over the bound a droppable record is dropped at the door. */
	before = st;
	assert_int_equal(spool_append(sp, SPOOL_METRIC, 0, buf, 200, &seq, err,
				      sizeof(err)),
			 SPOOL_DROPPED);
	assert_int_equal(spool_append(sp, SPOOL_LOG, 0, buf, 200, &seq, err,
				      sizeof(err)),
			 SPOOL_DROPPED);
	assert_int_equal(spool_append(sp, SPOOL_LOG, SPOOL_FINAL, buf, 200,
				      &seq, err, sizeof(err)),
			 SPOOL_FULL);
	st = stats(sp);
	assert_int_equal(st.dropped_records[SPOOL_METRIC], 1);
	assert_int_equal(st.dropped_records[SPOOL_LOG], 2);
	assert_int_equal(st.disk_bytes, before.disk_bytes);
	assert_int_equal(st.next_seq, before.next_seq);
	check_disk_bytes(sp, dir);
	/* Acks make room again. */
	ack(sp, last / 2);
	assert_int_equal(spool_append(sp, SPOOL_EVENT, 0, buf, 200, &seq, err,
				      sizeof(err)),
			 SPOOL_OK);
	assert_int_equal(seq, last + 1);
	check_disk_bytes(sp, dir);
	spool_close(sp);
	rm_dir(dir);
}

/* --- segments ----------------------------------------------------------- */

static void test_rotation_and_reclaim(void **state)
{
	char *dir = make_dir();
	struct spool_opts o = opts(dir, SPOOL_FSYNC_ALWAYS, 0, 1024);
	struct spool *sp = open_o(&o);
	char names[128][64];
	size_t n;
	(void)state;

	/* 128-byte records, 7 to a 1 KiB segment. */
	for (unsigned i = 1; i <= 70; i++)
		add(sp, SPOOL_EVENT, 0, i, 100);
	n = seg_files(dir, 'k', names, 128);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++)
		assert_true(file_size(dir, names[i]) <= 1024);
	assert_string_equal(names[0], "00000000000000000001-k.seg");
	assert_string_equal(names[1], "00000000000000000008-k.seg");
	check_disk_bytes(sp, dir);

	/* A segment goes once everything in it is acked. */
	ack(sp, 13);
	assert_int_equal(seg_files(dir, 'k', names, 128), 9);
	ack(sp, 14);
	assert_int_equal(seg_files(dir, 'k', names, 128), 8);
	assert_string_equal(names[0], "00000000000000000015-k.seg");
	check_disk_bytes(sp, dir);
	/* The segment appends go to stays, even empty. */
	ack(sp, 70);
	assert_int_equal(seg_files(dir, 0, names, 128), 1);
	assert_string_equal(names[0], "00000000000000000064-k.seg");
	check_disk_bytes(sp, dir);
	spool_close(sp);

	/* Reopened, appends go on in that segment until it is full. */
	sp = open_o(&o);
	add(sp, SPOOL_LOG, 0, 71, 100);
	add(sp, SPOOL_EVENT, 0, 72, 50);
	assert_int_equal(seg_files(dir, 0, names, 128), 2);
	assert_string_equal(names[0], "00000000000000000064-k.seg");
	assert_string_equal(names[1], "00000000000000000071-l.seg");
	/* A record larger than a segment gets a segment to itself. */
	add(sp, SPOOL_EVENT, 0, 73, 2000);
	add(sp, SPOOL_EVENT, 0, 74, 100);
	assert_int_equal(seg_files(dir, 'k', names, 128), 3);
	assert_true(file_size(dir, names[1]) > 2000);
	check_disk_bytes(sp, dir);
	spool_close(sp);
	rm_dir(dir);
}

/* --- fsync policies, crashes -------------------------------------------- */

/* A child opens the spool, appends one record, acks through upto,
 * optionally syncs when due, and dies without closing, like kill -9. */
static void crash_after_ack(const struct spool_opts *o, uint64_t upto,
			    bool sync_due)
{
	pid_t pid = fork();
	int status;
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		struct spool *sp = spool_open(o, err, sizeof(err));
		char buf[64];
		uint64_t seq;
		if (!sp ||
		    spool_append(sp, SPOOL_EVENT, 0, buf,
				 payload(50, sizeof(buf), buf), &seq, err,
				 sizeof(err)) != SPOOL_OK ||
		    spool_ack(sp, upto, err, sizeof(err)) != 0)
			_exit(2);
		if (sync_due &&
		    spool_sync_if_due(sp, 1000000, err, sizeof(err)) != 0)
			_exit(3);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_ack_durability_by_policy(void **state)
{
	char *dir = make_dir();
	struct spool_opts o = opts(dir, SPOOL_FSYNC_INTERVAL, 0, 0);
	struct spool *sp;
	struct gots g;
	char err[256];
	(void)state;

	o.interval_ms = 100;
	sp = open_o(&o);
	for (unsigned i = 1; i <= 3; i++)
		add(sp, SPOOL_EVENT, 0, i, 40);
	/* Unsynced records are readable: their seqs are reserved on disk. */
	peek_all(sp, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(stats(sp).synced_seq, 0);
	assert_int_equal(spool_sync_if_due(sp, 5000, err, sizeof(err)), 0);
	assert_int_equal(stats(sp).synced_seq, 3);
	add(sp, SPOOL_EVENT, 0, 4, 40);
	assert_int_equal(spool_sync_if_due(sp, 5099, err, sizeof(err)), 0);
	assert_int_equal(stats(sp).synced_seq, 3);
	assert_int_equal(spool_sync_if_due(sp, 5100, err, sizeof(err)), 0);
	assert_int_equal(stats(sp).synced_seq, 4);
	spool_close(sp);

	/* An ack not yet synced is lost in a crash: those records come back
	 * (the scheduler dedups by seq)... */
	crash_after_ack(&o, 2, false);
	sp = open_o(&o);
	peek_all(sp, &g);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.v[4].seq, 5); /* the child's append */
	/* ...and the crash skipped the rest of the seqs it had reserved. */
	assert_true(add(sp, SPOOL_EVENT, 0, 6, 40) > 65536);
	spool_close(sp);
	/* A synced one is kept. */
	crash_after_ack(&o, 2, true);
	sp = open_o(&o);
	peek_all(sp, &g);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.v[0].seq, 3);
	spool_close(sp);
	rm_dir(dir);

	/* With fsync=always an ack is on disk when spool_ack returns. */
	dir = make_dir();
	o = opts(dir, SPOOL_FSYNC_ALWAYS, 0, 0);
	sp = open_o(&o);
	for (unsigned i = 1; i <= 3; i++)
		add(sp, SPOOL_EVENT, 0, i, 40);
	spool_close(sp);
	crash_after_ack(&o, 3, false);
	sp = open_o(&o);
	peek_all(sp, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.v[0].seq, 4);
	spool_close(sp);
	rm_dir(dir);
}

/* The child appends with fsync=always and reports every returned seq
 * through the pipe until it is killed. */
static void append_until_killed(const char *dir, int wfd)
{
	struct spool_opts o = opts(dir, SPOOL_FSYNC_ALWAYS, 0, 4096);
	char err[256], buf[4096];
	struct spool *sp = spool_open(&o, err, sizeof(err));

	if (!sp)
		_exit(2);
	for (unsigned tag = 1;; tag++) {
		uint64_t seq;
		int kind = tag % 5 == 0 ? SPOOL_LOG : SPOOL_EVENT;
		size_t len = payload(tag, payload_len(tag) * 3, buf);
		if (spool_append(sp, kind, 0, buf, len, &seq, err,
				 sizeof(err)) != SPOOL_OK ||
		    write(wfd, &seq, sizeof(seq)) != sizeof(seq))
			_exit(3);
	}
}

static void test_kill9_keeps_every_returned_append(void **state)
{
	(void)state;

	srand((unsigned)getpid());
	for (int round = 0; round < 3; round++) {
		char *dir = make_dir();
		uint64_t seq, reported[4096], next;
		size_t n = 0, want = 20 + (size_t)rand() % 400;
		struct spool *sp;
		struct gots g;
		int p[2], status;
		pid_t pid;

		assert_int_equal(pipe(p), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			append_until_killed(dir, p[1]);
		}
		close(p[1]);
		while (n < want && read(p[0], &seq, sizeof(seq)) == sizeof(seq))
			reported[n++] = seq;
		assert_int_equal(n, want);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		/* Seqs reported before the kill landed are returned too. */
		while (n < ARRAY_SIZE(reported) &&
		       read(p[0], &seq, sizeof(seq)) == sizeof(seq))
			reported[n++] = seq;
		close(p[0]);

		sp = open_sp(dir);
		peek_all(sp, &g);
		/* Every reported append is there, in order, intact; at most
		 * the one in flight comes on top. */
		assert_true(g.n == n || g.n == n + 1);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(reported[i], i + 1);
			assert_int_equal(g.v[i].seq, reported[i]);
			assert_int_equal(g.v[i].tag, (long)reported[i]);
		}
		assert_int_equal(stats(sp).corrupt, 0);
		next = add(sp, SPOOL_EVENT, 0, 9999, 30);
		assert_true(next > g.v[g.n - 1].seq);
		spool_close(sp);
		rm_dir(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_peek_ack_reopen),
		cmocka_unit_test(test_ack_survives_reopen),
		cmocka_unit_test(test_peek_limits),
		cmocka_unit_test(test_bad_arguments_and_lock),
		cmocka_unit_test(test_bound_drop_order),
		cmocka_unit_test(test_hard_ceiling_full),
		cmocka_unit_test(test_rotation_and_reclaim),
		cmocka_unit_test(test_ack_durability_by_policy),
		cmocka_unit_test(test_kill9_keeps_every_returned_append),
	};
	log_setup("test_spool", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
