/* test_diagnose.c - failure diagnostics: the sample driver outputs in
 * tests/data/diagnose (and the fakes' recordings in tests/data/spark) fed
 * line by line through the streaming API, the priority rules one by one,
 * and survival of garbage, huge lines and a 50 MB output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "strbuf.h"
#include "policy.h"
#include "util.h"

#define EXITED(n) ((n) << 8)
#define DATA "tests/data/diagnose/"

/* ---- helpers ---- */

static void feed(struct diagnoser *d, const char *text)
{
	diagnose_line(d, text, strlen(text));
}

/* Feeds lines (a NULL-terminated list), exit status, returns the result. */
static const struct diagnosis *run_lines(struct diagnoser *d,
					 const char *const *lines, int status)
{
	diagnoser_reset(d);
	for (size_t i = 0; lines[i]; i++)
		feed(d, lines[i]);
	diagnose_exit(d, status);
	return diagnose_result(d);
}

static bool valid_utf8_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && *p < 0xc2) ||
		    *p > 0xf4)
			return false;
		for (size_t i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

static void assert_sane(const struct diagnosis *r)
{
	assert_true(diagnose_category_known(r->category));
	assert_string_equal(r->category, diagnose_category_name(r->id));
	assert_string_equal(r->hint, diagnose_hint(r->category));
	assert_true(strlen(r->line) < DIAGNOSE_LINE_MAX);
	assert_true(valid_utf8_printable(r->line));
}

/* ---- the samples ---- */

/* Line n (1-based) of path, malloc'd into *buf; *want, *len: trimmed. */
static void nth_line(const char *path, uint64_t n, char **buf,
		     const char **want, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t cap = 0;
	ssize_t got = -1;
	assert_non_null(f);
	*buf = NULL;
	for (uint64_t i = 0; i < n; i++)
		assert_true((got = getline(buf, &cap, f)) >= 0);
	fclose(f);
	*want = *buf;
	*len = (size_t)got;
	while (*len && strchr(" \t\r\n", (*want)[*len - 1]))
		(*len)--;
	while (*len && strchr(" \t", **want))
		(*want)++, (*len)--;
}

/* The deciding line is the line, or a window of it cut with "...". */
static void assert_shows(const char *shown, const char *want, size_t len)
{
	size_t n = strlen(shown);
	if (len < DIAGNOSE_LINE_MAX) {
		assert_int_equal(n, len);
		assert_memory_equal(shown, want, len);
		return;
	}
	if (!strncmp(shown, "...", 3))
		shown += 3, n -= 3;
	if (n >= 3 && !strcmp(shown + n - 3, "..."))
		n -= 3;
	assert_true(n > DIAGNOSE_LINE_MAX / 2);
	assert_non_null(memmem(want, len, shown, n));
}

static const struct diagnosis *feed_file(struct diagnoser *d, const char *path,
					 int status)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while ((n = getline(&line, &cap, f)) >= 0)
		diagnose_line(d, line, (size_t)n);
	fclose(f);
	free(line);
	diagnose_exit(d, status);
	return diagnose_result(d);
}

static void check_sample(const char *name, const char *exit_spec,
			 const char *category, uint64_t line_no)
{
	char path[256], *buf;
	const char *want;
	size_t want_len;
	struct diagnoser *d = diagnoser_new();
	const struct diagnosis *r;
	int status = !strncmp(exit_spec, "sig", 3) ? atoi(exit_spec + 3)
						   : EXITED(atoi(exit_spec));

	snprintf(path, sizeof(path), DATA "%s", name);
	r = feed_file(d, path, status);
	print_message("%-36s %-24s %llu\n", name, r->category,
		      (unsigned long long)r->line_no);
	assert_string_equal(r->category, category);
	assert_int_equal(r->line_no, line_no);
	assert_sane(r);
	if (line_no == 0) {
		assert_true(!r->line[0] || strstr(r->line, "status 101"));
	} else {
		nth_line(path, line_no, &buf, &want, &want_len);
		assert_shows(r->line, want, want_len);
		free(buf);
	}
	diagnoser_free(d);
}

static void test_samples(void **s)
{
	FILE *f = fopen(DATA "expected", "r");
	char buf[512], name[128], exit_spec[16], category[64];
	unsigned long long line_no;
	int count = 0;
	(void)s;
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		if (buf[0] == '#' || buf[0] == '\n')
			continue;
		assert_int_equal(sscanf(buf, "%127s %15s %63s %llu", name,
					exit_spec, category, &line_no),
				 4);
		check_sample(name, exit_spec, category, line_no);
		count++;
	}
	fclose(f);
	assert_true(count >= 28);
}

/* ---- priority rules ---- */

static void test_innermost_cause_wins(void **s)
{
	struct diagnoser *d = diagnoser_new();
	static const char *const trace[] = {
		"Exception in thread \"main\" org.apache.spark.SparkException: "
		"Job aborted: "
		"com.amazonaws.services.s3.model.AmazonS3Exception:"
		" NoSuchKey",
		"\tat org.apache.spark.Foo.bar(Foo.scala:1)",
		"Caused by: java.io.IOException: No space left on device",
		"\tat java.io.FileOutputStream.writeBytes(Native Method)",
		"Caused by: java.lang.IllegalStateException: unrelated",
		NULL};
	const struct diagnosis *r = run_lines(d, trace, EXITED(1));
	(void)s;
	/* the last matching Caused by, even below an unmatched one */
	assert_string_equal(r->category, "disk_full");
	assert_int_equal(r->line_no, 3);
	diagnoser_free(d);
}

static void test_rightmost_in_line(void **s)
{
	struct diagnoser *d = diagnoser_new();
	static const char *const spill[] = {
		"Exception in thread \"main\" org.apache.spark.SparkException: "
		"Job aborted due to stage failure: Task 1 in stage 2.0 failed "
		"4 "
		"times, most recent failure: java.io.FileNotFoundException: "
		"/data/x.tmp (No space left on device)",
		NULL};
	static const char *const shuffle_file[] = {
		"Caused by: java.io.FileNotFoundException: /mnt/yarn/blockmgr-"
		"1/0c/shuffle_0_5_0.index (No such file or directory)",
		NULL};
	static const char *const s3_then_key[] = {
		"Exception in thread \"main\" java.nio.file."
		"AccessDeniedException: s3a://b/k: (Service: Amazon S3; Status "
		"Code: 403; Error Code: SignatureDoesNotMatch) Access Denied",
		NULL};
	(void)s;
	assert_string_equal(run_lines(d, spill, EXITED(1))->category,
			    "disk_full");
	/* Spark's own local files missing is no missing input */
	assert_string_equal(run_lines(d, shuffle_file, EXITED(1))->category,
			    "unknown");
	/* credentials_expired refines the 403 around it, wherever it is */
	assert_string_equal(run_lines(d, s3_then_key, EXITED(1))->category,
			    "credentials_expired");
	diagnoser_free(d);
}

static void test_noise_after_failure(void **s)
{
	struct diagnoser *d = diagnoser_new();
	static const char *const lines[] = {
		"26/11/22 10:00:00 WARN TaskSetManager: Lost task 1.0 in stage "
		"1.0: ExecutorLostFailure Reason: Container released on a "
		"*lost* node",
		"Exception in thread \"main\" org.apache.spark.sql."
		"AnalysisException: Path does not exist: s3://b/in/dt=1",
		"\tat org.apache.spark.sql.Foo(Foo.scala:1)",
		"26/11/22 10:00:05 WARN NettyRpcEnv: Ignored failure: "
		"org.apache.spark.rpc.RpcTimeoutException: Cannot receive any "
		"reply in 120 seconds",
		"26/11/22 10:00:05 WARN Cleaner: Path does not exist: /tmp/x",
		"26/11/22 10:00:05 INFO ShutdownHookManager: Shutdown hook "
		"called",
		NULL};
	const struct diagnosis *r = run_lines(d, lines, EXITED(1));
	(void)s;
	/* the final report outweighs both the earlier transient trouble and
	 * the warnings printed while shutting down, even of its category */
	assert_string_equal(r->category, "input_missing");
	assert_int_equal(r->line_no, 2);
	assert_false(r->retryable);
	diagnoser_free(d);
}

static void test_specific_beats_heavier_wrapper(void **s)
{
	struct diagnoser *d = diagnoser_new();
	static const char *const lines[] = {
		"26/11/22 10:00:00 WARN HeartbeatReceiver: Removing executor 2 "
		"with no recent heartbeats: 130000 ms exceeds timeout 120000 "
		"ms",
		"Exception in thread \"main\" org.apache.spark.SparkException: "
		"Job aborted due to stage failure: Task 0 in stage 3.0 failed "
		"4 "
		"times, most recent failure: ExecutorLostFailure (executor 2 "
		"exited)",
		NULL};
	static const char *const wrappers[] = {
		"Exception in thread \"main\" org.apache.spark.SparkException: "
		"Job aborted due to stage failure: Task 0 in stage 3.0 failed "
		"4 "
		"times, most recent failure: org.apache.spark.api.python."
		"PythonException: Traceback (most recent call last):",
		"  File \"/app/udf.py\", line 3, in parse",
		"ValueError: bad amount",
		"\tat org.apache.spark.api.python.BasePythonRunner.read(X:1)",
		"26/11/22 10:00:05 ERROR TaskSetManager: Task 7 in stage 9.0 "
		"failed 4 times; aborting job",
		NULL};
	const struct diagnosis *r = run_lines(d, lines, EXITED(1));
	(void)s;
	assert_string_equal(r->category, "heartbeat_timeout");
	assert_int_equal(r->line_no, 1);
	/* python_error is the nearer cause of a failed stage */
	r = run_lines(d, wrappers, EXITED(1));
	assert_string_equal(r->category, "python_error");
	assert_string_equal(r->line, "ValueError: bad amount");
	diagnoser_free(d);
}

static void test_driver_vs_executor_oom(void **s)
{
	struct diagnoser *d = diagnoser_new();
	static const char *const driver[] = {
		"Exception in thread \"main\" java.lang.OutOfMemoryError: "
		"Requested array size exceeds VM limit",
		NULL};
	static const char *const executor[] = {
		"Exception in thread \"main\" org.apache.spark.SparkException: "
		"Job aborted due to stage failure: Task 3 in stage 2.0 failed "
		"4 "
		"times, most recent failure: java.lang.OutOfMemoryError: Java "
		"heap space",
		NULL};
	static const char *const other_thread[] = {
		"Exception in thread \"Executor task launch worker\" java.lang."
		"OutOfMemoryError: GC overhead limit exceeded",
		NULL};
	(void)s;
	assert_string_equal(run_lines(d, driver, EXITED(1))->category,
			    "driver_oom");
	assert_string_equal(run_lines(d, executor, EXITED(1))->category,
			    "executor_oom");
	assert_string_equal(run_lines(d, other_thread, EXITED(1))->category,
			    "executor_oom");
	diagnoser_free(d);
}

static void test_exit_status(void **s)
{
	struct diagnoser *d = diagnoser_new();
	static const char *const oom[] = {
		"Exception in thread \"main\" java.lang.OutOfMemoryError: Java "
		"heap space",
		NULL};
	static const char *const k8s[] = {"\t exit code: 1370",
					  "\t Exit Code: 42", NULL};
	static const char *const k8s_137[] = {
		"26/11/22 INFO LoggingPodStatusWatcherImpl: Container final "
		"statuses:",
		"\t EXIT CODE: 137", NULL};
	static const char *const k8s_101[] = {"\t exit code: 101", NULL};
	const struct diagnosis *r;
	(void)s;
	/* 101: spark-submit could not load the main class, whatever else */
	r = run_lines(d, oom, EXITED(101));
	assert_string_equal(r->category, "class_not_found");
	assert_int_equal(r->line_no, 0);
	assert_string_equal(r->line, "spark-submit exited with status 101");
	assert_string_equal(run_lines(d, oom, EXITED(1))->category,
			    "driver_oom");
	assert_string_equal(run_lines(d, oom, SIGKILL)->category, "driver_oom");
	assert_string_equal(run_lines(d, k8s, EXITED(0))->category, "unknown");
	assert_string_equal(run_lines(d, k8s_137, EXITED(0))->category,
			    "k8s_oomkilled");
	assert_string_equal(run_lines(d, k8s_101, EXITED(0))->category,
			    "class_not_found");
	diagnoser_free(d);
}

static void test_decommission_only_when_it_hurts(void **s)
{
	struct diagnoser *d = diagnoser_new();
	static const char *const routine[] = {
		"(spark.decommission.enabled,true)",
		"26/11/22 10:00:00 INFO KubernetesClusterSchedulerBackend: "
		"Decommission executors: 3",
		NULL};
	static const char *const lost[] = {
		"26/11/22 10:00:00 WARN TaskSetManager: Lost task 0.0 in stage "
		"1.0: ExecutorLostFailure (executor 3 exited unrelated to the "
		"running tasks) Reason: Executor decommission: spot reclaim",
		NULL};
	(void)s;
	assert_string_equal(run_lines(d, routine, EXITED(1))->category,
			    "unknown");
	assert_string_equal(run_lines(d, lost, EXITED(1))->category,
			    "node_lost");
	diagnoser_free(d);
}

static void accepted(struct diagnoser *d, int minute, const char *state)
{
	char line[160];
	snprintf(line, sizeof(line),
		 "26/11/22 23:%02d:00 INFO Client: Application report for "
		 "application_1_0001 (state: %s)",
		 minute, state);
	feed(d, line);
}

static void test_waiting_for_resources(void **s)
{
	struct diagnoser *d = diagnoser_new();
	const struct diagnosis *r;
	(void)s;
	/* timed reports go by time: 10 over 9 minutes are not long, even
	 * with a report limit of 3; 10 minutes are */
	diagnose_set_wait_limits(d, DIAGNOSE_WAIT_SECONDS, 3);
	for (int m = 0; m < 10; m++)
		accepted(d, m, "ACCEPTED");
	assert_string_equal(diagnose_result(d)->category, "unknown");
	accepted(d, 10, "ACCEPTED");
	r = diagnose_result(d);
	assert_string_equal(r->category, "no_resources");
	assert_int_equal(r->line_no, 11);
	assert_non_null(strstr(r->line, "23:10:00"));
	/* once it runs, the wait is not what failed it */
	accepted(d, 11, "RUNNING");
	assert_string_equal(diagnose_result(d)->category, "unknown");

	/* untimed reports count instead; limits can be changed */
	diagnoser_reset(d);
	diagnose_set_wait_limits(d, 0, 3);
	feed(d, "Application status for spark-1 (phase: Pending)");
	feed(d, "Application status for spark-1 (phase: Pending)");
	assert_string_equal(diagnose_result(d)->category, "unknown");
	feed(d, "Application status for spark-1 (phase: Pending)");
	assert_string_equal(diagnose_result(d)->category, "no_resources");
	feed(d, "Application status for spark-1 (phase: Running)");
	assert_string_equal(diagnose_result(d)->category, "unknown");
	diagnoser_free(d);
}

/* ---- the category list ---- */

static void test_categories(void **s)
{
	(void)s;
	assert_int_equal(DIAGNOSE_NCATEGORIES, 19);
	for (int c = 0; c < DIAGNOSE_NCATEGORIES; c++) {
		const char *name = diagnose_category_name(c), *hint;
		assert_non_null(name);
		assert_true(diagnose_category_known(name));
		hint = diagnose_hint(name);
		assert_non_null(hint);
		assert_true(strlen(hint) > 40 && hint[strlen(hint) - 1] == '.');
		for (int o = 0; o < c; o++)
			assert_string_not_equal(name,
						diagnose_category_name(o));
		/* one list of permanent failures: the scheduler's */
		assert_int_equal(diagnose_retryable(name),
				 policy_class_retryable(name));
	}
	assert_string_equal(diagnose_category_name(DIAGNOSE_UNKNOWN),
			    "unknown");
	assert_null(diagnose_category_name(DIAGNOSE_NCATEGORIES));
	assert_false(diagnose_category_known("Executor_OOM"));
	assert_false(diagnose_category_known(""));
	assert_false(diagnose_category_known(NULL));
	assert_null(diagnose_hint("oom"));
	assert_true(diagnose_retryable(NULL));
	assert_true(diagnose_retryable("something_new"));
	assert_false(diagnose_retryable("class_not_found"));
	assert_true(diagnose_retryable("credentials_expired"));
}

/* ---- hostile input ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_garbage(void **s)
{
	static const char *const bits[] = {
		"Task ",
		"Task 12 in stage ",
		"Task 1 in stage 2.0 failed ",
		"exit code: ",
		"exit code: 13",
		"no recent heartbeats: 12",
		"java.lang.OutOfMemoryError",
		"in thread \"main\" ",
		"Container killed by YARN for exceeding ",
		"(state: ",
		"(phase: ",
		"(state: ACCEPTED",
		"diagnostics: ",
		"Traceback (most recent call last):",
		"Caused by: ",
		"\t",
		"26/11/22 10:00:00 ",
		"Exit status: -10",
		"\xe2\x82",
		"Status Code: 40",
		"decommission",
		".decommission",
	};
	struct diagnoser *d = diagnoser_new();
	char line[700];
	(void)s;
	for (int i = 0; i < 40000; i++) {
		size_t len = next_rand() % sizeof(line), o = 0;
		while (o < len) {
			if (next_rand() % 4 == 0) {
				const char *b =
					bits[next_rand() % ARRAY_SIZE(bits)];
				size_t n = strlen(b);
				if (o + n > len)
					n = len - o; /* cut mid-signature */
				memcpy(line + o, b, n);
				o += n;
			} else {
				line[o++] = (char)next_rand();
			}
		}
		diagnose_line(d, line, len);
		if (i % 997 == 0)
			assert_sane(diagnose_result(d));
	}
	diagnose_line(d, NULL, 0);
	diagnose_line(d, "", 0);
	diagnose_exit(d, SIGSEGV);
	assert_sane(diagnose_result(d));
	diagnoser_free(d);
}

static void test_huge_lines_and_nuls(void **s)
{
	const size_t big = 8 << 20;
	static const char sig[] = "java.lang.OutOfMemoryError: Java heap space";
	char *line = xmalloc(big);
	struct diagnoser *d = diagnoser_new();
	const struct diagnosis *r;
	(void)s;
	/* NULs and invalid UTF-8 all around, the signature in the middle */
	for (size_t i = 0; i < big; i++)
		line[i] = i % 7 == 0 ? '\0' : i % 11 == 0 ? '\xff' : 'x';
	memcpy(line + big / 2, sig, sizeof(sig) - 1);
	diagnose_line(d, line, big);
	r = diagnose_result(d);
	assert_string_equal(r->category, "executor_oom");
	assert_sane(r);
	assert_non_null(strstr(r->line, sig));
	assert_true(!strncmp(r->line, "...", 3));
	assert_string_equal(r->line + strlen(r->line) - 3, "...");

	/* at the very end, after a NUL: found, and shown */
	diagnoser_reset(d);
	memset(line, 'y', big);
	line[100] = '\0';
	memcpy(line + big - 23, "No space left on device", 23);
	diagnose_line(d, line, big);
	r = diagnose_result(d);
	assert_string_equal(r->category, "disk_full");
	assert_sane(r);
	assert_string_equal(r->line + strlen(r->line) - 23,
			    "No space left on device");

	/* a line of nothing but signatures: each checked in bounded time */
	diagnoser_reset(d);
	for (size_t i = 0; i + 31 <= big; i += 31)
		memcpy(line + i, "java.io.FileNotFoundException: ", 31);
	diagnose_line(d, line, big);
	assert_string_equal(diagnose_result(d)->category, "input_missing");

	/* a signature split by a NUL is no signature */
	diagnoser_reset(d);
	diagnose_line(d, "No space left\0on device", 23);
	assert_string_equal(diagnose_result(d)->category, "unknown");
	free(line);
	diagnoser_free(d);
}

/* Finding: the deciding line was cut to its window and only then
 * redacted, so an STS session token whose key name fell before the window
 * went out. The line is redacted whole first: no byte of the token shows,
 * the signature does. */
static void test_window_redacted_first(void **s)
{
	struct diagnoser *d = diagnoser_new();
	struct strbuf line = STRBUF_INIT, token = STRBUF_INIT;
	const struct diagnosis *r;
	(void)s;

	/* an STS token is ~1 KB of base64 */
	strbuf_addstr(&token, "FwoGZXIvYXdzEJr");
	while (token.len < 1200)
		strbuf_addstr(&token, "Qk9HVVNTVFNUT0tFTmZvcnRlc3Rpbmc1");
	strbuf_addf(&line,
		    "26/11/22 10:00:00 ERROR S3AFileSystem: request with "
		    "aws_session_token=%s failed: com.amazonaws.services.s3."
		    "model.AmazonS3Exception: Access Denied (Service: Amazon "
		    "S3; Status Code: 403; Error Code: AccessDenied)",
		    token.buf);
	diagnose_line(d, line.buf, line.len);
	r = diagnose_result(d);
	assert_string_equal(r->category, "s3_access_denied");
	assert_sane(r);
	assert_non_null(strstr(r->line, "Status Code: 403"));
	assert_null(strstr(r->line, "Qk9HVVNT"));
	assert_null(strstr(r->line, "cnRlc3Rpbmc1"));

	/* the same with a password in a JDBC URL before a YARN kill */
	diagnoser_reset(d);
	strbuf_reset(&line);
	strbuf_addstr(&line, "26/11/22 10:00:00 ERROR Client: url=jdbc:mysql:"
			     "//db/x?user=etl&password=");
	for (int i = 0; i < 60; i++)
		strbuf_addstr(&line, "Pw0rdPw0rd");
	strbuf_addstr(&line, " Container killed by YARN for exceeding physical "
			     "memory limits. 5.5 GB of 5.5 GB physical memory "
			     "used.");
	diagnose_line(d, line.buf, line.len);
	r = diagnose_result(d);
	assert_string_equal(r->category, "yarn_memory_kill");
	assert_null(strstr(r->line, "Pw0rd"));
	assert_non_null(strstr(r->line, "Container killed by YARN"));
	strbuf_release(&line);
	strbuf_release(&token);
	diagnoser_free(d);
}

static void test_memory_bounded_on_50mb(void **s)
{
	static const char info[] =
		"26/11/22 10:00:00 INFO TaskSetManager: Finished task 17.0 in "
		"stage 3.0 (TID 4242) in 1532 ms on ip-10-0-1-17.ec2.internal "
		"(executor 4) (17/200)";
	const size_t long_len = 64 << 10;
	char *long_line = xmalloc(long_len);
	struct diagnoser *d = diagnoser_new();
	size_t total = 0, before;
	uint64_t n = 0;
	const struct diagnosis *r;
	(void)s;
	memset(long_line, 'z', long_len);
	before = mallinfo2().uordblks;
	while (total < (size_t)50 << 20) {
		if (++n % 1000 == 0) {
			diagnose_line(d, long_line, long_len);
			total += long_len;
		} else {
			diagnose_line(d, info, sizeof(info) - 1);
			total += sizeof(info);
		}
		if (n % 100000 == 0)
			feed(d, "26/11/22 10:00:00 WARN TaskSetManager: Lost "
				"task 1.0: java.io.IOException: No space left "
				"on device");
	}
	feed(d, "Exception in thread \"main\" org.apache.spark.sql."
		"AnalysisException: Path does not exist: s3://b/in");
	/* nothing allocated while reading 50 MB */
	assert_int_equal(mallinfo2().uordblks, before);
	r = diagnose_result(d);
	assert_string_equal(r->category, "input_missing");
	assert_int_equal(r->line_no, n + n / 100000 + 1);
	free(long_line);
	diagnoser_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_innermost_cause_wins),
		cmocka_unit_test(test_rightmost_in_line),
		cmocka_unit_test(test_noise_after_failure),
		cmocka_unit_test(test_specific_beats_heavier_wrapper),
		cmocka_unit_test(test_driver_vs_executor_oom),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_decommission_only_when_it_hurts),
		cmocka_unit_test(test_waiting_for_resources),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_huge_lines_and_nuls),
		cmocka_unit_test(test_window_redacted_first),
		cmocka_unit_test(test_memory_bounded_on_50mb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
