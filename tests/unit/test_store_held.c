/* test_store_held.c - the store's held writes (store_held.c): store_apply
 * holds small batches back from RocksDB and applies many at once; every
 * read applies them first, in order, from any thread; a failed apply keeps
 * them and fails the next log write until a reopen (reads go on without
 * them meanwhile); a segment switch
 * applies them before the segments before it are retired, so a crash
 * after the retiring loses nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commitlog.h"
#include "store.h"
#include "store_fixture.h"

static size_t held_records(struct store *st, uint64_t *applies)
{
	size_t n;
	uint64_t a;

	store_held_stats(st, &n, &a);
	if (applies)
		*applies = a;
	return n;
}

/* The store in name, with nothing held (an open may write: the format
 * version of a new store). */
static struct store *open_settled(const char *name)
{
	struct store *st = store_fx_open(name);
	char err[256];

	assert_int_equal(store_apply_held(st, err, sizeof(err)), 0);
	assert_int_equal(held_records(st, NULL), 0);
	return st;
}

static void get_expect(struct store *st, enum store_cf cf, const char *k,
		       const char *want)
{
	char *v = NULL, err[256];
	size_t n;

	assert_int_equal(
		store_get(st, cf, k, strlen(k), &v, &n, err, sizeof(err)), 1);
	assert_string_equal(v, want);
	free(v);
}

static int count_one(const void *k, size_t kl, const void *v, size_t vl,
		     void *ctx)
{
	(void)k, (void)kl, (void)v, (void)vl;
	(*(int *)ctx)++;
	return 0;
}

/* Small writes are held, not applied; each kind of read applies them
 * first and sees them. */
static void test_reads_see_held(void **s)
{
	struct store *st = open_settled("reads");
	struct store_reader *rd;
	uint64_t applies, before;
	char k[16], last[16];
	size_t klen;
	int n = 0;
	(void)s;

	held_records(st, &before);
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "k%02d", i);
		store_fx_put(st, CF_JOBS, k, k);
		assert_int_equal(held_records(st, &applies), (size_t)i + 1);
		assert_int_equal(applies, before);
	}
	get_expect(st, CF_JOBS, "k09", "k09");
	assert_int_equal(held_records(st, &applies), 0);
	assert_int_equal(applies, before + 1);

	store_fx_put(st, CF_JOBS, "k10", "k10");
	assert_int_equal(
		store_scan(st, CF_JOBS, NULL, 0, NULL, 0, count_one, &n), 0);
	assert_int_equal(n, 11);

	store_fx_put(st, CF_JOBS, "k11", "k11");
	assert_int_equal(held_records(st, NULL), 1);
	assert_int_equal(store_last_key(st, CF_JOBS, last, sizeof(last), &klen),
			 1);
	assert_int_equal(klen, 3);
	assert_memory_equal(last, "k11", 3);

	store_fx_put(st, CF_JOBS, "k12", "k12");
	rd = store_reader_open(st, CF_JOBS);
	assert_non_null(rd);
	n = 0;
	assert_int_equal(
		store_reader_scan(rd, "k12", 3, NULL, 0, count_one, &n), 0);
	assert_int_equal(n, 1);
	store_reader_close(rd);
	store_close(st);

	/* a clean close applied and flushed them: all there, none replayed */
	st = store_fx_open("reads");
	get_expect(st, CF_JOBS, "k12", "k12");
	store_close(st);
}

/* What is held stays bounded: a steady stream of writes is applied in
 * groups, and all of them are readable. */
static void test_held_bounded(void **s)
{
	struct store *st = open_settled("bounded");
	char k[16], v[1024];
	uint64_t before, applies;
	size_t most = 0, n;
	(void)s;

	memset(v, 'x', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	held_records(st, &before);
	for (int i = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "k%03d", i);
		store_fx_put(st, CF_RUNS, k, v);
		n = held_records(st, NULL);
		most = n > most ? n : most;
	}
	held_records(st, &applies);
	assert_true(most < 100); /* about 32 KiB of these 1 KiB writes */
	assert_true(applies - before >= 4);
	for (int i = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "k%03d", i);
		get_expect(st, CF_RUNS, k, v);
	}
	store_close(st);
}

/* A batch too large to hold goes to RocksDB at once, after the ones held
 * before it: the later write wins. */
static void test_large_batch_in_order(void **s)
{
	struct store *st = open_settled("large");
	struct store_batch *b = store_batch_new();
	size_t big = 200 * 1024;
	char *filler = malloc(big), err[256];
	(void)s;

	memset(filler, 'f', big);
	store_fx_put(st, CF_META, "k", "old");
	assert_int_equal(held_records(st, NULL), 1);
	store_batch_put(b, st, CF_META, "k", 1, "new", 3);
	store_batch_put(b, st, CF_META, "filler", 6, filler, big);
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
	assert_int_equal(held_records(st, NULL), 0);
	get_expect(st, CF_META, "k", "new");
	store_batch_free(b);
	free(filler);
	store_close(st);
}

/* A failed apply keeps the writes held; the read that needed it goes on
 * without them (reads are answered while the store is down); the next
 * log write fails with the reason (the scheduler then reopens the
 * store), and so does an explicit apply; the reopen's replay brings the
 * writes back. */
static void test_apply_failure(void **s)
{
	struct store *st = open_settled("fail");
	struct store_batch *b = store_batch_new();
	char *v = NULL, err[256];
	size_t n;
	(void)s;

	store_fx_put(st, CF_TENANTS, "acme", "1");
	store_fail_held_applies(st, 2, "IO error: injected");
	assert_int_equal(
		store_get(st, CF_TENANTS, "acme", 4, &v, &n, err, sizeof(err)),
		0);
	assert_int_equal(held_records(st, NULL), 1);

	store_batch_put(b, st, CF_TENANTS, "globex", 6, "2", 1);
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot apply writes to"));
	assert_non_null(strstr(err, "IO error: injected"));
	assert_int_equal(store_fault_of(err), STORE_FAULT_IO);
	assert_int_equal(store_apply_held(st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "IO error: injected"));
	assert_int_equal(held_records(st, NULL), 1);

	assert_int_equal(store_reopen(st, err, sizeof(err)), 0);
	assert_int_equal(held_records(st, NULL), 0);
	get_expect(st, CF_TENANTS, "acme", "1");
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
	get_expect(st, CF_TENANTS, "globex", "2");
	store_batch_free(b);
	store_close(st);
}

struct reader {
	struct store *st;
	int seen_last;	/* the highest value read */
	bool backwards; /* a read saw an older value after a newer one */
	volatile bool stop;
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;
	char *v, err[256];
	size_t n;

	while (!r->stop) {
		if (store_get(r->st, CF_META, "counter", 7, &v, &n, err,
			      sizeof(err)) != 1)
			continue;
		int got = atoi(v);
		free(v);
		if (got < r->seen_last)
			r->backwards = true;
		r->seen_last = got;
	}
	return NULL;
}

/* A reader on another thread applies held writes while the writer holds
 * more: it never sees a value go backwards, and the last one is there. */
static void test_reader_thread(void **s)
{
	struct reader r = {.st = open_settled("thread")};
	pthread_t t;
	char v[16];
	(void)s;

	store_fx_put(r.st, CF_META, "counter", "0");
	assert_int_equal(pthread_create(&t, NULL, read_loop, &r), 0);
	for (int i = 1; i <= 2000; i++) {
		snprintf(v, sizeof(v), "%d", i);
		store_fx_put(r.st, CF_META, "counter", v);
	}
	r.stop = true;
	pthread_join(t, NULL);
	assert_false(r.backwards);
	get_expect(r.st, CF_META, "counter", "2000");
	store_close(r.st);
}

static int segment_count(const char *dir)
{
	char path[256];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, COMMITLOG_DIR);
	if (!(d = opendir(path)))
		return -1;
	while ((e = readdir(d)))
		n += strstr(e->d_name, ".seg") != NULL;
	closedir(d);
	return n;
}

/* The child: small writes until the commit log has retired a segment
 * (the memtables flushed, the segments before the switch deleted), then
 * a few more; it tells the parent how many and waits to be killed. */
static int retire_child(const char *dir, int fd)
{
	struct store_options o = {.max_wal_mb = 1};
	char err[256], k[16], v[64];
	struct store *st = store_open_with(dir, &o, err, sizeof(err));
	int i = 0, most = 0, extra = -1;

	if (!st)
		return 1;
	for (; extra != 0 && i < 1000000; i++) {
		struct store_batch *b = store_batch_new();
		snprintf(k, sizeof(k), "k%07d", i);
		snprintf(v, sizeof(v), "value %d", i);
		store_batch_put(b, st, CF_RUNS, k, strlen(k), v, strlen(v));
		if (store_write(st, b, true, err, sizeof(err)))
			return 1;
		store_batch_free(b);
		int segs = segment_count(dir);
		most = segs > most ? segs : most;
		if (extra < 0 && segs < most)
			extra = 10; /* retired: ten more, then stop */
		else if (extra > 0)
			extra--;
	}
	if (write(fd, &i, sizeof(i)) != sizeof(i))
		return 1;
	pause();
	return 0;
}

static void test_retire_keeps_held(void **s)
{
	char path[128], fd[16], k[16], v[64];
	int p[2], written = 0;
	struct store *st;
	pid_t pid;
	(void)s;

	assert_int_equal(pipe(p), 0);
	snprintf(path, sizeof(path), "%s/retire", store_fx_dir);
	snprintf(fd, sizeof(fd), "%d", p[1]);
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", "test_store_held", "--retire-child",
		      path, fd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &written, sizeof(written)),
			 sizeof(written));
	close(p[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_true(written > 10 && written < 1000000);
	st = store_fx_open("retire");
	for (int i = 0; i < written; i++) {
		snprintf(k, sizeof(k), "k%07d", i);
		snprintf(v, sizeof(v), "value %d", i);
		get_expect(st, CF_RUNS, k, v);
	}
	store_close(st);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--retire-child"))
		return retire_child(argv[2], atoi(argv[3]));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_see_held),
		cmocka_unit_test(test_held_bounded),
		cmocka_unit_test(test_large_batch_in_order),
		cmocka_unit_test(test_apply_failure),
		cmocka_unit_test(test_reader_thread),
		cmocka_unit_test(test_retire_keeps_held),
	};
	return cmocka_run_group_tests(tests, store_fx_setup, store_fx_teardown);
}
