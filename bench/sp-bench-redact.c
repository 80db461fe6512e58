/*
 * sp-bench-redact - edge redaction throughput on one thread: a realistic
 * Spark driver log (YARN and Kubernetes scheduler lines, task and block
 * manager chatter, S3 paths, stack traces, a few secrets) is built in
 * memory, or read from FILE, and redacted line by line as the agent does.
 *
 *   sp-bench-redact [--mb N] [--passes P] [--rule 'KIND REGEX']... [FILE]
 * Prints: corpus size and lines, then per pass and best: MB/s, lines/s,
 * redactions; then the redactor's memory (heap, stream state, buffer).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "redact.h"
#include "strbuf.h"
#include "util.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const classes[] = {
	"org.apache.spark.scheduler.DAGScheduler.handleTaskSetFailed("
	"DAGScheduler.scala:1234)",
	"org.apache.spark.rdd.RDD.$anonfun$mapPartitions$2(RDD.scala:853)",
	"org.apache.spark.executor.Executor$TaskRunner.run(Executor.scala:620)",
	"java.util.concurrent.ThreadPoolExecutor.runWorker("
	"ThreadPoolExecutor.java:1136)",
	"org.apache.hadoop.fs.s3a.S3AInputStream.read(S3AInputStream.java:"
	"512)",
	"scala.collection.Iterator$$anon$10.hasNext(Iterator.scala:460)",
};

static const char *const secrets[] = {
	"INFO Main: connecting to jdbc:postgresql://etl:S3cr3tPa55@db.prod"
	".internal:5432/dw",
	"INFO SparkContext: conf spark.hadoop.fs.s3a.secret.key="
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"WARN RestClient: request failed, headers={Authorization=Bearer "
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJldGwifQ.c2lnbmF0dXJlMTIz}",
	"INFO Notifier: sending report to data-team@example.com",
	"INFO Main: AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
};

/* One log line (no newline) into sb. */
static void log_line(struct strbuf *sb, unsigned *nsecret)
{
	unsigned app = 3345, t = rnd(2000), st = rnd(40), ex = 1 + rnd(50);
	unsigned h = rnd(250), k = rnd(100);
	char ts[32];

	snprintf(ts, sizeof(ts), "26/11/22 %02u:%02u:%02u", 10 + rnd(12),
		 rnd(60), rnd(60));
	if (k == 0 && rnd(10) == 0) {
		strbuf_addf(sb, "%s %s", ts, secrets[rnd(ARRAY_SIZE(secrets))]);
		(*nsecret)++;
	} else if (k < 22) {
		strbuf_addf(sb,
			    "%s INFO TaskSetManager: Starting task %u.0 in "
			    "stage %u.0 (TID %u) (ip-10-0-%u-%u.ec2.internal, "
			    "executor %u, partition %u, PROCESS_LOCAL, %u "
			    "bytes) taskResourceAssignments Map()",
			    ts, t, st, t + 1000, h % 4, h, ex, t, 4000 + h);
	} else if (k < 44) {
		strbuf_addf(sb,
			    "%s INFO TaskSetManager: Finished task %u.0 in "
			    "stage %u.0 (TID %u) in %u ms on ip-10-0-%u-%u.ec2."
			    "internal (executor %u) (%u/2000)",
			    ts, t, st, t + 1000, 50 + rnd(9000), h % 4, h, ex,
			    t);
	} else if (k < 54) {
		strbuf_addf(sb,
			    "%s INFO BlockManagerInfo: Added broadcast_%u_"
			    "piece0 in memory on ip-10-0-%u-%u.ec2.internal:%u "
			    "(size: %u.%u KiB, free: 2004.%u MiB)",
			    ts, st, h % 4, h, 40000 + rnd(20000), rnd(100),
			    rnd(10), rnd(10));
	} else if (k < 60) {
		strbuf_addf(
			sb,
			"%s INFO YarnAllocator: Launching container "
			"container_1623939819531_%04u_01_%06u on host "
			"ip-10-0-%u-%u.ec2.internal for executor with ID %u "
			"for ResourceProfile Id 0",
			ts, app, ex + 1, h % 4, h, ex);
	} else if (k < 66) {
		strbuf_addf(
			sb,
			"%s INFO ExecutorPodsAllocator: Going to request %u "
			"executors from Kubernetes for ResourceProfile Id: "
			"0, target: %u, known: %u, "
			"sharedSlotFromPendingPods: 2147483647.",
			ts, 1 + rnd(5), 10, ex % 10);
	} else if (k < 74) {
		strbuf_addf(
			sb,
			"%s INFO S3AFileSystem: Opening 's3a://acme-"
			"datalake/events/dt=2026-11-%02u/part-%05u-5f3c6a1e-"
			"8d2b-4c1a-9e7f-0a1b2c3d4e5f-c000.snappy.parquet' "
			"for reading",
			ts, 1 + rnd(28), t);
	} else if (k < 80) {
		strbuf_addf(sb,
			    "%s INFO Client: Application report for "
			    "application_1623939819531_%04u (state: RUNNING)",
			    ts, app);
	} else if (k < 84) {
		strbuf_addf(
			sb,
			"%s INFO CodeGenerator: Code generated in %u.%06u ms",
			ts, rnd(80), rnd(1000000));
	} else if (k < 88) {
		strbuf_addf(
			sb,
			"%s WARN TaskSetManager: Lost task %u.0 in stage "
			"%u.0 (TID %u) (ip-10-0-%u-%u.ec2.internal executor "
			"%u): java.io.IOException: Connection reset by peer",
			ts, t, st, t + 1000, h % 4, h, ex);
	} else if (k < 98) {
		strbuf_addf(sb, "\tat %s", classes[rnd(ARRAY_SIZE(classes))]);
	} else {
		strbuf_addf(
			sb,
			"%s INFO DAGScheduler: Submitting %u missing tasks "
			"from ResultStage %u (MapPartitionsRDD[%u] at save at "
			"Main.scala:42) (first 15 tasks are for partitions "
			"Vector(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, "
			"14))",
			ts, 2000, st, st * 3);
	}
}

static char *make_corpus(size_t mb, size_t *len, unsigned *nsecret)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_grow(&sb, mb << 20);
	while (sb.len < mb << 20) {
		log_line(&sb, nsecret);
		strbuf_addch(&sb, '\n');
	}
	return strbuf_detach(&sb, len);
}

/* Redacts every line of text once; returns the redactions. */
static size_t one_pass(const struct redactor *r, const char *text, size_t len,
		       struct strbuf *out, size_t *lines)
{
	struct redact_stream st = REDACT_STREAM_INIT;
	const char *p = text, *end = text + len;
	size_t n = 0;

	*lines = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		strbuf_reset(out);
		n += redact_line(r, &st, p, l, out);
		(*lines)++;
		p += l + 1;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct strbuf out = STRBUF_INIT;
	struct redactor *r;
	struct rusage ru;
	size_t mb = 100, passes = 3, len, lines = 0, i, heap0;
	unsigned nsecret = 0;
	double best = 0;
	const char *file = NULL;
	char *text, err[256];

	heap0 = mallinfo2().uordblks;
	r = redactor_new();
	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--mb") && i + 1 < (size_t)argc) {
			mb = strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--passes") &&
			   i + 1 < (size_t)argc) {
			passes = strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--rule") && i + 1 < (size_t)argc) {
			if (redact_add_rule(r, argv[++i], err, sizeof(err)))
				die("%s", err);
		} else if (argv[i][0] != '-' && !file) {
			file = argv[i];
		} else {
			die("usage: sp-bench-redact [--mb N] [--passes P] "
			    "[--rule 'KIND REGEX']... [FILE]");
		}
	}
	heap0 = mallinfo2().uordblks - heap0;
	if (file) {
		text = read_file(file, (size_t)4 << 30, &len);
		if (!text)
			die("cannot read '%s'", file);
	} else {
		text = make_corpus(mb ? mb : 1, &len, &nsecret);
	}
	printf("corpus: %.1f MB%s, secret lines %u\n", (double)len / 1e6,
	       file ? " (file)" : " (generated)", nsecret);
	for (i = 0; i < (passes ? passes : 1); i++) {
		double t0 = now_s(), dt, mbs;
		size_t n = one_pass(r, text, len, &out, &lines);
		dt = now_s() - t0;
		mbs = (double)len / 1e6 / dt;
		printf("pass %zu: %.3f s, %.0f MB/s, %.0f lines/s, %zu lines, "
		       "%zu redactions\n",
		       i + 1, dt, mbs, (double)lines / dt, lines, n);
		if (mbs > best)
			best = mbs;
	}
	printf("best: %.0f MB/s on one thread\n", best);
	getrusage(RUSAGE_SELF, &ru);
	printf("memory: redactor %zu bytes of heap, stream state %zu bytes, "
	       "output buffer %zu bytes; process max RSS %ld KiB (mostly the "
	       "corpus)\n",
	       heap0, sizeof(struct redact_stream), out.alloc, ru.ru_maxrss);
	strbuf_release(&out);
	redactor_free(r);
	free(text);
	return 0;
}
