/* test_spark_output.c - application ids, states and results parsed from
 * recorded spark-submit output (tests/data/spark, made by the fake). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "spark_output.h"
#include "util.h"

#define EXITED(n) ((n) << 8)

static unsigned feed(struct spark_watch *w, const char *name)
{
	char path[256];
	char *text, *line, *save = NULL;
	unsigned all = 0;

	snprintf(path, sizeof(path), "tests/data/spark/%s", name);
	text = read_file(path, 1 << 20, NULL);
	assert_non_null(text);
	spark_watch_init(w);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		all |= spark_watch_line(w, line, strlen(line));
	free(text);
	return all;
}

static void test_yarn_success(void **s)
{
	struct spark_watch w;
	char why[600];
	unsigned ev = feed(&w, "yarn-success.txt");
	(void)s;
	assert_true(ev & SPARK_EV_APP_ID);
	assert_true(ev & SPARK_EV_RUNNING);
	assert_int_equal(w.mode, SPARK_MODE_YARN);
	assert_true(!strncmp(w.app_id, "application_", 12));
	assert_string_equal(w.final_status, "SUCCEEDED");
	assert_int_equal(spark_watch_result(&w, EXITED(0), why, sizeof(why)),
			 SPARK_SUCCEEDED);
}

static void test_yarn_oom(void **s)
{
	struct spark_watch w;
	char why[600];
	(void)s;
	feed(&w, "yarn-executor-oom.txt");
	assert_string_equal(w.final_status, "FAILED");
	assert_int_equal(spark_watch_result(&w, EXITED(1), why, sizeof(why)),
			 SPARK_FAILED);
	/* the innermost cause, not the wrapper */
	assert_non_null(strstr(why, "java.lang.OutOfMemoryError: Java heap space"));
	assert_null(strstr(why, "Job aborted"));
}

static void test_yarn_killed(void **s)
{
	struct spark_watch w;
	char why[600];
	(void)s;
	feed(&w, "yarn-killed.txt");
	assert_int_equal(spark_watch_result(&w, EXITED(1), why, sizeof(why)),
			 SPARK_KILLED);
}

static void test_k8s_success(void **s)
{
	struct spark_watch w;
	char why[600];
	(void)s;
	feed(&w, "k8s-success.txt");
	assert_int_equal(w.mode, SPARK_MODE_K8S);
	assert_true(!strncmp(w.app_id, "spark-", 6));
	assert_int_equal(strlen(w.app_id), 6 + 32);
	assert_non_null(strchr(w.submission_id, ':'));
	assert_true(w.running);
	assert_int_equal(w.driver_exit_code, 0);
	assert_int_equal(spark_watch_result(&w, EXITED(0), why, sizeof(why)),
			 SPARK_SUCCEEDED);
}

static void test_k8s_failed_but_exit_0(void **s)
{
	struct spark_watch w;
	char why[600];
	(void)s;
	feed(&w, "k8s-failed-exit0.txt");
	assert_int_equal(w.driver_exit_code, 1);
	/* SPARK-26365: spark-submit exits 0, the driver's code decides */
	assert_int_equal(spark_watch_result(&w, EXITED(0), why, sizeof(why)),
			 SPARK_FAILED);
	assert_non_null(strstr(why, "driver exit code 1"));
	assert_non_null(strstr(why, "Access Denied"));
}

static void test_k8s_oomkilled(void **s)
{
	struct spark_watch w;
	char why[600];
	(void)s;
	feed(&w, "k8s-oomkilled.txt");
	assert_int_equal(w.driver_exit_code, 137);
	assert_string_equal(w.termination_reason, "OOMKilled");
	assert_int_equal(spark_watch_result(&w, EXITED(0), why, sizeof(why)),
			 SPARK_FAILED);
	assert_non_null(strstr(why, "137 (OOMKilled)"));
}

static void test_class_not_found(void **s)
{
	struct spark_watch w;
	char why[600];
	(void)s;
	feed(&w, "local-class-not-found.txt");
	assert_int_equal(spark_watch_result(&w, EXITED(101), why, sizeof(why)),
			 SPARK_FAILED);
	assert_non_null(strstr(why, "exited with 101"));
	assert_non_null(strstr(why, "Failed to load class com.acme.Missing"));
}

static void test_signal_and_garbage(void **s)
{
	struct spark_watch w;
	char why[600], junk[4096];
	(void)s;
	spark_watch_init(&w);
	srand(7);
	for (int i = 0; i < 2000; i++) {
		size_t n = (size_t)(rand() % (int)sizeof(junk));
		for (size_t k = 0; k < n; k++)
			junk[k] = (char)rand();
		spark_watch_line(&w, junk, n);
	}
	/* truncated markers at the very end of a line */
	spark_watch_line(&w, "final status: ", 14);
	spark_watch_line(&w, "exit code: ", 11);
	spark_watch_line(&w, "application ID ", 15);
	assert_int_equal(spark_watch_result(&w, SIGKILL, why, sizeof(why)),
			 SPARK_FAILED);
	assert_non_null(strstr(why, "signal 9"));
}

/* Feeds text as one line in a heap buffer of exactly its length, with no
 * NUL after it, as the runner hands over a slice of what it read: under
 * ASan any read past the line's end aborts. */
static unsigned feed_exact(struct spark_watch *w, const char *text)
{
	size_t n = strlen(text);
	char *line = xmalloc(n ? n : 1);
	unsigned ev;

	memcpy(line, text, n);
	ev = spark_watch_line(w, line, n);
	free(line);
	return ev;
}

/* Markers cut short at the very end of a line are read within the line. */
static void test_markers_at_line_end(void **s)
{
	static const char *const lines[] = {
		"Caused by: a", "Caused by: at", "x Caused by: b",
		"Caused by: ", "  Caused by: ", "Exception", "Error:", "at", "a",
		"application ID ", "application ID spark", "(state: ",
		"(phase: ", "final status: ", "exit code: ",
		"termination reason: ", "submission ID ",
	};
	struct spark_watch w;
	char why[600];
	(void)s;

	spark_watch_init(&w);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		feed_exact(&w, lines[i]);
	/* the last cause that says something is kept */
	assert_string_equal(w.last_error, "b");
	/* a cut id that is not a Kubernetes one is no application id */
	assert_string_equal(w.app_id, "");
	assert_int_equal(feed_exact(&w, "application ID spark-1a2b"),
			 SPARK_EV_APP_ID);
	assert_string_equal(w.app_id, "spark-1a2b");
	assert_int_equal(spark_watch_result(&w, SIGKILL, why, sizeof(why)),
			 SPARK_FAILED);
	assert_non_null(strstr(why, "signal 9: b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yarn_success),
		cmocka_unit_test(test_yarn_oom),
		cmocka_unit_test(test_yarn_killed),
		cmocka_unit_test(test_k8s_success),
		cmocka_unit_test(test_k8s_failed_but_exit_0),
		cmocka_unit_test(test_k8s_oomkilled),
		cmocka_unit_test(test_class_not_found),
		cmocka_unit_test(test_signal_and_garbage),
		cmocka_unit_test(test_markers_at_line_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
