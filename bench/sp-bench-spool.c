/*
 * sp-bench-spool - the telemetry spool's append rate for each fsync policy,
 * then the cost of reopening a full spool (verifying every record) and of
 * draining it (peek + ack).
 *
 *   sp-bench-spool [DIR [RECORDS [SIZE [ALWAYS_RECORDS]]]]
 * DIR (default: a new directory under /var/tmp, removed at the end) must be
 * on the disk the agent would use: tmpfs makes fsync free. RECORDS
 * (default 200000) of SIZE bytes (default 1024) are appended with fsync
 * never and interval (200 ms); ALWAYS_RECORDS (default 2000) with always.
 * Prints one line per measurement.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "util.h"

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static struct spool *open_or_die(const char *dir, enum spool_fsync fs)
{
	struct spool_opts o = {.dir = dir, .fsync = fs, .interval_ms = 200};
	char err[256];
	struct spool *sp;

	/* Large enough that nothing is dropped during the bench. */
	o.max_bytes = 8ull << 30;
	sp = spool_open(&o, err, sizeof(err));
	if (!sp)
		die("%s", err);
	return sp;
}

static void append_bench(const char *dir, const char *name, enum spool_fsync fs,
			 long n, size_t size)
{
	struct spool *sp = open_or_die(dir, fs);
	char *buf = xmalloc(size), err[256];
	int64_t t0 = time_mono_ms(), ms;
	uint64_t seq;

	for (size_t i = 0; i < size; i++)
		buf[i] = (char)('a' + i % 26);
	for (long i = 0; i < n; i++) {
		/* Mostly log batches and metrics, some events. */
		enum spool_kind kind = i % 10 == 0  ? SPOOL_EVENT
				       : i % 3 == 0 ? SPOOL_METRIC
						    : SPOOL_LOG;
		memcpy(buf, &i, sizeof(i));
		if (spool_append(sp, kind, 0, buf, size, &seq, err,
				 sizeof(err)) != SPOOL_OK ||
		    spool_sync_if_due(sp, time_mono_ms(), err, sizeof(err)) ==
			    -1)
			die("append: %s", err);
	}
	/* Interval and always: everything on disk before the clock stops. */
	if (fs != SPOOL_FSYNC_NEVER && spool_sync(sp, err, sizeof(err)) == -1)
		die("sync: %s", err);
	ms = time_mono_ms() - t0;
	if (ms < 1)
		ms = 1;
	printf("append fsync=%-8s records=%-7ld size=%zu  %9.0f appends/s "
	       "%7.1f MB/s  (%.2f s)\n",
	       name, n, size, n * 1000.0 / (double)ms,
	       (double)n * (double)size / 1e6 * 1000.0 / (double)ms,
	       (double)ms / 1000.0);
	spool_close(sp);
	free(buf);
}

static int count_rec(void *ctx, const struct spool_record *r)
{
	uint64_t *last = ctx;
	*last = r->seq;
	return 0;
}

/* Reopens the spool in dir (a full scan) and drains it in batches. */
static void reopen_and_drain(const char *dir, long n, size_t size)
{
	int64_t t0 = time_mono_ms(), t1;
	struct spool *sp = open_or_die(dir, SPOOL_FSYNC_INTERVAL);
	struct spool_stats st;
	uint64_t last = 0;
	char err[256];
	long got = 0;
	int k;

	t1 = time_mono_ms();
	spool_get_stats(sp, &st);
	printf("reopen: %ld records, %.1f MB on disk, %lu segments verified "
	       "in %.2f s\n",
	       n, (double)st.disk_bytes / 1e6, (unsigned long)st.segments,
	       (double)(t1 - t0) / 1000.0);
	while ((k = spool_peek(sp, 0, 256, 1 << 20, count_rec, &last, err,
			       sizeof(err))) > 0) {
		got += k;
		if (spool_ack(sp, last, err, sizeof(err)) == -1)
			die("ack: %s", err);
		spool_sync_if_due(sp, time_mono_ms(), err, sizeof(err));
	}
	if (k < 0)
		die("peek: %s", err);
	t0 = time_mono_ms() - t1;
	if (t0 < 1)
		t0 = 1;
	printf("drain (peek 256 + ack): %ld records in %.2f s, %.0f records/s "
	       "%.1f MB/s\n",
	       got, (double)t0 / 1000.0, got * 1000.0 / (double)t0,
	       (double)got * (double)size / 1e6 * 1000.0 / (double)t0);
	spool_close(sp);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/var/tmp/sp-bench-spool-XXXXXX", sub[4096];
	const char *dir = argc > 1 ? argv[1] : NULL;
	long n = argc > 2 ? atol(argv[2]) : 200000;
	size_t size = argc > 3 ? (size_t)atol(argv[3]) : 1024;
	long n_always = argc > 4 ? atol(argv[4]) : 2000;
	static const struct {
		const char *name;
		enum spool_fsync fs;
	} pol[] = {{"never", SPOOL_FSYNC_NEVER},
		   {"interval", SPOOL_FSYNC_INTERVAL},
		   {"always", SPOOL_FSYNC_ALWAYS}};

	log_setup("sp-bench-spool", LOG_WARN);
	if (n < 1 || n_always < 1 || size < 8 || size > SPOOL_MAX_PAYLOAD)
		die("usage: sp-bench-spool [DIR [RECORDS [SIZE [ALWAYS]]]]");
	if (!dir && !(dir = mkdtemp(tmpl)))
		die("cannot create a directory under /var/tmp");
	for (size_t i = 0; i < 3; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, pol[i].name);
		append_bench(sub, pol[i].name, pol[i].fs,
			     pol[i].fs == SPOOL_FSYNC_ALWAYS ? n_always : n,
			     size);
	}
	snprintf(sub, sizeof(sub), "%s/never", dir);
	reopen_and_drain(sub, n, size);
	if (argc <= 1)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
