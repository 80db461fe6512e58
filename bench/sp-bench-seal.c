/*
 * sp-bench-seal - the cost of encryption at rest (scheduler/keyring.c) on
 * the two paths it sits on: ingest (each stored telemetry batch sealed
 * once) and `run logs` (each batch read opened once, then inflated). A
 * batch like bench/ingest.sh's (EVENTS Spark driver log lines of 100 -
 * 150 bytes, zlib-compressed as the agent does) is sealed and opened
 * ITER times on one thread; the inflate `run logs` does anyway is timed
 * beside it, and a job's arguments and a run's reason (small values:
 * the latter opened at each restart, through an opener) too.
 *
 *   sp-bench-seal [--events N] [--iter N]
 * Prints, per operation: bytes, microseconds each, MB/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "keyring.h"
#include "strbuf.h"
#include "util.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, size_t bytes, int iter, double secs)
{
	printf("%-34s %7zu bytes  %8.2f us each  %8.0f MB/s\n", what, bytes,
	       secs * 1e6 / iter, (double)bytes * iter / secs / 1e6);
}

/* A batch's worth of driver log lines, zlib-compressed. */
static void make_batch(int events, struct strbuf *raw, struct strbuf *z)
{
	static const char *const words[] = {
		"INFO", "TaskSetManager:", "Finished", "task", "in", "stage",
		"(TID", "ms", "on", "10.0.3.7", "(executor", "2)", "(1/200)",
		"BlockManagerInfo:", "Added", "broadcast_12_piece0", "memory",
		"s3a://acme-data/events/day=2026-12-04/part-00017.parquet",
	};
	unsigned seed = 7;
	uLongf zlen;

	for (int i = 0; i < events; i++) {
		size_t want = 100 + (size_t)(rand_r(&seed) % 50), start = raw->len;
		while (raw->len - start < want) {
			strbuf_addstr(raw, words[rand_r(&seed) % 18]);
			strbuf_addf(raw, " %d ", rand_r(&seed) % 1000);
		}
		strbuf_addch(raw, '\n');
	}
	zlen = compressBound(raw->len);
	strbuf_grow(z, zlen);
	compress2((Bytef *)z->buf, &zlen, (const Bytef *)raw->buf, raw->len,
		  Z_DEFAULT_COMPRESSION);
	strbuf_setlen(z, zlen);
}

int main(int argc, char **argv)
{
	int events = 500, iter = 20000;
	uint8_t master[KEYRING_KEY_BYTES] = { 1 };
	struct strbuf raw = STRBUF_INIT, z = STRBUF_INIT, sealed = STRBUF_INIT,
		      plain = STRBUF_INIT;
	static const char argv_val[] = "\x96\xa6--conf\xb6spark.app.name=etl\xa6"
				       "--conf\xb0spark.executor.x\xa7"
				       "app.jar\xa3" "100";
	uint8_t key[40] = "acme";
	char err[256];
	struct keyring *kr;
	double t0;
	uLongf out;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--events"))
			events = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--iter"))
			iter = atoi(argv[i + 1]);
	}
	kr = keyring_new(master);
	if (keyring_ensure(kr, "acme", 0, err, sizeof(err)))
		die("%s", err);
	make_batch(events, &raw, &z);
	printf("a batch of %d log lines: %zu bytes raw, %zu compressed; %d "
	       "iterations, one thread\n", events, raw.len, z.len, iter);

	t0 = now_s();
	for (int i = 0; i < iter; i++) {
		strbuf_reset(&sealed);
		keyring_seal(kr, "acme", "telemetry", key, 25, z.buf, z.len,
			     &sealed);
	}
	report("seal a batch (ingest)", z.len, iter, now_s() - t0);
	t0 = now_s();
	for (int i = 0; i < iter; i++) {
		strbuf_reset(&plain);
		if (keyring_open_value(kr, "telemetry", key, 25, sealed.buf,
				       sealed.len, &plain))
			die("open failed");
	}
	report("open a batch (run logs)", z.len, iter, now_s() - t0);
	strbuf_grow(&plain, raw.len);
	t0 = now_s();
	for (int i = 0; i < iter; i++) {
		out = raw.len + 1;
		uncompress((Bytef *)plain.buf, &out, (const Bytef *)z.buf,
			   z.len);
	}
	report("inflate a batch (run logs, as before)", z.len, iter,
	       now_s() - t0);
	t0 = now_s();
	for (int i = 0; i < iter; i++) {
		strbuf_reset(&sealed);
		keyring_seal(kr, "acme", "jobs", "acme/prod/etl", 13, argv_val,
			     sizeof(argv_val) - 1, &sealed);
	}
	report("seal a job's arguments", sizeof(argv_val) - 1, iter,
	       now_s() - t0);
	{
		static const char reason[] = "cancelled before it was "
					     "dispatched";
		struct keyring_opener *op = keyring_opener_new();
		uint8_t rk[9] = { 0, 0, 0, 0, 0, 0, 0, 42, 21 };

		strbuf_reset(&sealed);
		keyring_seal(kr, "acme", "runs", rk, 9, reason,
			     sizeof(reason) - 1, &sealed);
		t0 = now_s();
		for (int i = 0; i < iter * 10; i++) {
			strbuf_reset(&plain);
			keyring_open_value(kr, "runs", rk, 9, sealed.buf,
					   sealed.len, &plain);
		}
		report("open a run's reason", sizeof(reason) - 1, iter * 10,
		       now_s() - t0);
		t0 = now_s();
		for (int i = 0; i < iter * 10; i++) {
			strbuf_reset(&plain);
			keyring_open_with(op, kr, "runs", rk, 9, sealed.buf,
					  sealed.len, &plain);
		}
		report("... through an opener (restart)", sizeof(reason) - 1,
		       iter * 10, now_s() - t0);
		keyring_opener_free(op);
	}
	strbuf_release(&raw);
	strbuf_release(&z);
	strbuf_release(&sealed);
	strbuf_release(&plain);
	keyring_free(kr);
	return 0;
}
