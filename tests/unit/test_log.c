/* test_log.c - log lines as written to stderr: plain, or with syslog
 * priorities when stderr is the journal's stream (JOURNAL_STREAM); and the
 * rate limit for repeated messages, under a fake clock; lines held and
 * released together. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* stderr goes to a temporary file for each test, so that what log.c
 * writes can be read back. */
struct fx {
	char path[64];
	int saved; /* the real stderr */
	int fd;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "/tmp/sp-testlog.XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	f->saved = dup(2);
	assert_int_equal(dup2(f->fd, 2), 2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dup2(f->saved, 2);
	close(f->saved);
	close(f->fd);
	unlink(f->path);
	unsetenv("JOURNAL_STREAM");
	log_setup("sparkpilot", LOG_INFO);
	free(f);
	return 0;
}

/* What was logged since the last call (the file is then emptied). */
static char *logged(struct fx *f)
{
	char *s = read_file(f->path, 1 << 20, NULL);
	assert_non_null(s);
	assert_int_equal(ftruncate(f->fd, 0), 0);
	assert_int_equal(lseek(f->fd, 0, SEEK_SET), 0);
	return s;
}

/* JOURNAL_STREAM naming the stream stderr is (dev and inode + delta). */
static void set_journal_stream(int delta)
{
	struct stat st;
	char v[64];
	assert_int_equal(fstat(2, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (unsigned long long)delta);
	setenv("JOURNAL_STREAM", v, 1);
}

static void test_plain_lines(void **state)
{
	struct fx *f = *state;
	char *s;

	log_setup("sp-test", LOG_INFO);
	assert_false(log_to_journal());
	log_debug("not shown");
	log_info("run %d started", 7);
	log_warn("slow");
	log_error("broken");
	s = logged(f);
	assert_string_equal(s, "sp-test: info: run 7 started\n"
			       "sp-test: warn: slow\n"
			       "sp-test: error: broken\n");
	free(s);
}

/* Under the journal each line starts with its syslog priority, so that
 * journalctl -p warning shows warnings and errors only. */
static void test_journal_priorities(void **state)
{
	struct fx *f = *state;
	char *s;

	set_journal_stream(0);
	log_setup("sp-test", LOG_DEBUG);
	assert_true(log_to_journal());
	log_debug("d");
	log_info("i");
	log_warn("w");
	assert_int_equal(error("e %s", "x"), -1);
	s = logged(f);
	assert_string_equal(s, "<7>debug: d\n<6>info: i\n<4>warn: w\n"
			       "<3>error: e x\n");
	free(s);
}

/* The variable alone is not enough: stderr must be that stream (a child
 * inherits the variable with its stderr redirected elsewhere). */
static void test_journal_stream_must_be_stderr(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = { "", "12", "1:2:3", "x:y", "1:2x" };
	char *s;

	set_journal_stream(1);
	log_setup("sp-test", LOG_INFO);
	assert_false(log_to_journal());
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		setenv("JOURNAL_STREAM", bad[i], 1);
		log_setup("sp-test", LOG_INFO);
		assert_false(log_to_journal());
	}
	log_warn("w");
	s = logged(f);
	assert_string_equal(s, "sp-test: warn: w\n");
	free(s);
}

/* A line longer than the buffer is cut, still one line ending in '\n'. */
static void test_long_line_cut(void **state)
{
	struct fx *f = *state;
	char big[5000];
	char *s;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_setup("sp-test", LOG_INFO);
	log_info("%s", big);
	s = logged(f);
	assert_true(strlen(s) > 1000 && strlen(s) <= 2048);
	assert_non_null(strstr(s, "sp-test: info: aaa"));
	assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1);
	free(s);
}

static void test_limit_admit(void **state)
{
	struct log_limit l = { 0 };
	uint64_t dropped = 99;
	int64_t t0 = 5000; /* monotonic clocks start near 0 after boot */
	(void)state;

	for (int i = 0; i < LOG_LIMIT_BURST; i++) {
		assert_true(log_limit_admit(&l, t0 + i, &dropped));
		assert_int_equal(dropped, 0);
	}
	for (int i = 0; i < 25; i++)
		assert_false(log_limit_admit(&l, t0 + 100 + i, &dropped));
	/* the window's last instant: still closed */
	assert_false(log_limit_admit(&l, t0 + LOG_LIMIT_WINDOW_MS - 1,
				     &dropped));
	/* a new window: the first line tells how many were not logged */
	assert_true(log_limit_admit(&l, t0 + LOG_LIMIT_WINDOW_MS, &dropped));
	assert_int_equal(dropped, 26);
	assert_true(log_limit_admit(&l, t0 + LOG_LIMIT_WINDOW_MS + 1,
				    &dropped));
	assert_int_equal(dropped, 0);
	/* long quiet: a fresh window, nothing dropped */
	assert_true(log_limit_admit(&l, t0 + 10 * LOG_LIMIT_WINDOW_MS,
				    &dropped));
	assert_int_equal(dropped, 0);
}

/* 31,000 guesses of a token make LOG_LIMIT_BURST lines, and the next
 * window's first line counts the rest. */
static void test_limited_lines(void **state)
{
	struct fx *f = *state;
	struct log_limit l = { 0 };
	char *s, *p, want[128];
	int lines = 0;

	log_setup("sp-test", LOG_INFO);
	for (int i = 0; i < 31000; i++)
		log_limited(&l, LOG_WARN, "enroll refused: %s", "invalid_token");
	s = logged(f);
	for (p = s; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, LOG_LIMIT_BURST);
	assert_non_null(strstr(s, "sp-test: warn: enroll refused: "
				  "invalid_token\n"));
	free(s);
	l.window_start -= LOG_LIMIT_WINDOW_MS; /* as if 10 s went by */
	log_limited(&l, LOG_WARN, "enroll refused: %s", "token_used");
	s = logged(f);
	snprintf(want, sizeof(want),
		 "sp-test: warn: enroll refused: token_used (%d more like "
		 "this not logged)\n",
		 31000 - LOG_LIMIT_BURST);
	assert_string_equal(s, want);
	free(s);
	/* below the level: not counted either */
	log_limited(&l, LOG_DEBUG, "hidden");
	s = logged(f);
	assert_string_equal(s, "");
	free(s);
}

/* Held lines wait for log_release and come out whole and in order; any
 * other line goes out at once, after them; a batch larger than the
 * buffer goes out as it fills; without a hold nothing waits. */
static void test_held_lines(void **state)
{
	struct fx *f = *state;
	char *s, want[64];
	size_t len;

	log_setup("sp-test", LOG_INFO);
	log_hold();
	log_msg_held(LOG_INFO, "first");
	log_msg_held(LOG_WARN, "second");
	log_msg_held(LOG_DEBUG, "below the level");
	s = logged(f);
	assert_string_equal(s, "");
	free(s);
	log_release();
	s = logged(f);
	assert_string_equal(s, "sp-test: info: first\n"
			       "sp-test: warn: second\n");
	free(s);
	/* a line not held goes out at once, with the lines before it */
	log_hold();
	log_msg_held(LOG_INFO, "before");
	log_info("now");
	log_msg_held(LOG_INFO, "after");
	s = logged(f);
	assert_string_equal(s, "sp-test: info: before\n"
			       "sp-test: info: now\n");
	free(s);
	log_release();
	s = logged(f);
	assert_string_equal(s, "sp-test: info: after\n");
	free(s);
	/* released: held lines go straight out */
	log_msg_held(LOG_INFO, "third");
	s = logged(f);
	assert_string_equal(s, "sp-test: info: third\n");
	free(s);
	/* 1,000 lines of 24 bytes: more than 16 KiB held */
	log_hold();
	for (int i = 0; i < 1000; i++)
		log_msg_held(LOG_INFO, "line %04d", i);
	s = logged(f);
	len = strlen(s);
	assert_true(len > 0 && len < 24000 && s[len - 1] == '\n');
	free(s);
	log_hold_end();
	s = logged(f);
	snprintf(want, sizeof(want), "sp-test: info: line 0999\n");
	assert_true(strlen(s) >= strlen(want));
	assert_string_equal(s + strlen(s) - strlen(want), want);
	free(s);
}

/* After log_release_batched the held lines wait, across holds, until
 * they are 4 KiB or the first has waited 100 ms (log_held_due_ms: the
 * times given are relative to it, so no clock decides the test); a line
 * not held, or log_release, writes them first. */
static void test_batched_lines(void **state)
{
	struct fx *f = *state;
	size_t line = strlen("sp-test: info: line 0000\n");
	int64_t due;
	char *s;

	log_setup("sp-test", LOG_INFO);
	assert_true(log_held_due_ms() == INT64_MAX);
	log_hold();
	log_msg_held(LOG_INFO, "one");
	due = log_held_due_ms();
	assert_true(due != INT64_MAX);
	log_release_batched(due - 1);
	s = logged(f);
	assert_string_equal(s, "");
	free(s);
	log_hold();
	log_msg_held(LOG_INFO, "two");
	assert_true(log_held_due_ms() == due); /* the first line's */
	log_release_batched(due - 1);
	s = logged(f);
	assert_string_equal(s, "");
	free(s);
	log_release_batched(due);
	s = logged(f);
	assert_string_equal(s, "sp-test: info: one\nsp-test: info: two\n");
	free(s);
	assert_true(log_held_due_ms() == INT64_MAX);
	/* a line not held writes the waiting ones first */
	log_hold();
	log_msg_held(LOG_INFO, "three");
	log_release_batched(log_held_due_ms() - 1);
	log_warn("now");
	s = logged(f);
	assert_string_equal(s, "sp-test: info: three\nsp-test: warn: now\n");
	free(s);
	/* 4 KiB of lines go out at the release, however young */
	log_hold();
	for (int i = 0; i < 200; i++)
		log_msg_held(LOG_INFO, "line %04d", i);
	log_release_batched(log_held_due_ms() - 1);
	s = logged(f);
	assert_int_equal(strlen(s), 200 * line);
	free(s);
	/* and log_release writes them, whatever their age */
	log_hold();
	log_msg_held(LOG_INFO, "last");
	log_release_batched(log_held_due_ms() - 1);
	log_release();
	s = logged(f);
	assert_string_equal(s, "sp-test: info: last\n");
	free(s);
	log_hold_end();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_journal_priorities, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_journal_stream_must_be_stderr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_cut, setup,
						teardown),
		cmocka_unit_test(test_limit_admit),
		cmocka_unit_test_setup_teardown(test_limited_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_held_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_batched_lines, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
