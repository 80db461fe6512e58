/* test_runner.c - supervising a child: output lines from both pipes,
 * exit codes, timeout, cancel with SIGKILL escalation for a child that
 * ignores SIGTERM, the whole process group, exec failures, workdir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "redact.h"
#include "runner.h"
#include "strbuf.h"
#include "util.h"

struct out {
	struct strbuf text;
	int lines[3];
	size_t longest;
};

/* Set: the runner cuts long lines with it and on_line redacts each piece
 * as the agent does. */
static struct redactor *redactor;
static struct redact_stream rstream;

static void on_line(void *ctx, int stream, const char *line, size_t len)
{
	struct out *o = ctx;
	strbuf_addf(&o->text, "%d:", stream);
	if (redactor)
		redact_line(redactor, &rstream, line, len, &o->text);
	else
		strbuf_add(&o->text, line, len);
	strbuf_addch(&o->text, '\n');
	o->lines[stream]++;
	if (len > o->longest)
		o->longest = len;
}

/* Runs sh -c script to the end; returns the wait status. */
static int run(const char *script, int64_t timeout_ms, int64_t cancel_after,
	       struct out *o, enum runner_end *why, const char *workdir)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)script, NULL };
	struct runner_spec spec = { "/bin/sh", argv,	 workdir,  NULL,
				    timeout_ms, 300, redactor };
	char err[256];
	int64_t start = time_mono_ms();
	bool cancelled = false;
	int status = -1;
	struct runner *r = runner_start(&spec, err, sizeof(err));

	assert_non_null(r);
	strbuf_init(&o->text, 0);
	memset(o->lines, 0, sizeof(o->lines));
	o->longest = 0;
	for (;;) {
		struct pollfd pfd[2];
		int n = 0;
		for (int s = 1; s <= 2; s++)
			if (runner_fd(r, s) >= 0)
				pfd[n++] = (struct pollfd){ runner_fd(r, s),
							    POLLIN, 0 };
		poll(pfd, (nfds_t)n, 20);
		for (int s = 1; s <= 2; s++)
			runner_read(r, s, on_line, o);
		if (cancel_after && !cancelled &&
		    time_mono_ms() - start >= cancel_after) {
			runner_cancel(r, time_mono_ms());
			cancelled = true;
		}
		if (runner_poll(r, time_mono_ms(), &status, why))
			break;
		assert_true(time_mono_ms() - start < 10000);
	}
	runner_free(r);
	return status;
}

static void test_output_and_exit(void **s)
{
	struct out o;
	enum runner_end why;
	int st;
	(void)s;
	st = run("echo one; echo two >&2; printf 'no newline'; exit 3", 0, 0,
		 &o, &why, NULL);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
	assert_int_equal(why, RUNNER_EXITED);
	assert_non_null(strstr(o.text.buf, "1:one\n"));
	assert_non_null(strstr(o.text.buf, "2:two\n"));
	assert_non_null(strstr(o.text.buf, "1:no newline\n"));
	strbuf_release(&o.text);
}

static void test_long_lines_split(void **s)
{
	struct out o;
	enum runner_end why;
	(void)s;
	run("head -c 20000 /dev/zero | tr '\\0' x; echo", 0, 0, &o, &why, NULL);
	assert_int_equal(o.longest, RUNNER_MAX_LINE);
	assert_int_equal(o.lines[1], 3); /* 8192 + 8192 + 3616 */
	strbuf_release(&o.text);
}

/* Finding: a secret across the 8 KiB cut of a long line leaked. With the
 * agent's redactor the runner cuts where no secret straddles; the pieces
 * stay within RUNNER_HARD_LINE and the text around the secret arrives. */
static void test_long_line_secret_whole(void **s)
{
	struct out o;
	enum runner_end why;
	(void)s;
	redactor = redactor_new();
	redact_stream_init(&rstream);
	run("head -c 8180 /dev/zero | tr '\\0' ' '; "
	    "echo 'password=Hunter2Straddles tail'; "
	    "head -c 8185 /dev/zero | tr '\\0' x; "
	    "echo ' ghp_R8bQ2xW4nV6kL9mZ3pT7yH1cF5dS0aJ2uE4i end'; "
	    "head -c 8185 /dev/zero | tr '\\0' ' '; printf '(spark.ssl.key'; "
	    "sleep 0.2; echo 'StorePassword,Kst0rePw)'",
	    0, 0, &o, &why, NULL);
	assert_null(strstr(o.text.buf, "Straddles"));
	assert_null(strstr(o.text.buf, "uE4i"));
	assert_null(strstr(o.text.buf, "Pw)"));
	assert_non_null(strstr(o.text.buf, "password=[REDACTED:password] tail"));
	assert_non_null(strstr(o.text.buf, "[REDACTED:github_token] end"));
	assert_non_null(strstr(o.text.buf,
			       "(spark.ssl.keyStorePassword,[REDACTED:password])"));
	assert_true(o.longest <= RUNNER_MAX_LINE);
	strbuf_release(&o.text);
	redactor_free(redactor);
	redactor = NULL;
}

static void test_timeout(void **s)
{
	struct out o;
	enum runner_end why;
	int st;
	(void)s;
	st = run("sleep 30", 300, 0, &o, &why, NULL);
	assert_int_equal(why, RUNNER_TIMED_OUT);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGTERM);
	strbuf_release(&o.text);
}

static void test_cancel_escalates(void **s)
{
	struct out o;
	enum runner_end why;
	int st;
	int64_t t0 = time_mono_ms();
	(void)s;
	st = run("trap '' TERM; echo ready; while :; do sleep 0.05; done", 0,
		 200, &o, &why, NULL);
	assert_int_equal(why, RUNNER_CANCELLED);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	assert_true(time_mono_ms() - t0 >= 450); /* 200 + 300 grace */
	strbuf_release(&o.text);
}

/* A killed orphan may stay a zombie if nobody reaps it: that is dead. */
static bool alive(int pid)
{
	char path[64], *stat, *paren;
	bool live;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	stat = read_file(path, 4096, NULL);
	if (!stat)
		return false;
	paren = strrchr(stat, ')');
	live = paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
	free(stat);
	return live;
}

static void test_group_killed(void **s)
{
	struct out o;
	enum runner_end why;
	char script[256];
	char pidfile[] = "/tmp/sp-runner-pid.XXXXXX";
	int fd = mkstemp(pidfile);
	char *pid;
	(void)s;
	close(fd);
	/* a grandchild in the same process group must die with it */
	snprintf(script, sizeof(script),
		 "sleep 60 & echo $! > %s; wait", pidfile);
	run(script, 0, 200, &o, &why, NULL);
	pid = read_file(pidfile, 64, NULL);
	assert_non_null(pid);
	/* SIGKILL is sent, not yet acted on: wait for it to take (a bound,
	 * not a guess at how long it takes) */
	for (int i = 0; i < 500 && alive(atoi(pid)); i++)
		usleep(10 * 1000);
	assert_false(alive(atoi(pid)));
	free(pid);
	unlink(pidfile);
	strbuf_release(&o.text);
}

static void test_exec_failure_and_workdir(void **s)
{
	char *argv[] = { (char *)"nope", NULL };
	struct runner_spec spec = { "/nonexistent/spark-submit", argv, NULL,
				    NULL, 0, 100 };
	char err[256], dir[] = "/tmp/sp-runner-wd.XXXXXX", sub[300];
	struct out o;
	enum runner_end why;
	(void)s;
	assert_null(runner_start(&spec, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot run '/nonexistent/spark-submit'"));
	assert_non_null(strstr(err, "No such file"));
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/run/1-1", dir);
	run("pwd", 0, 0, &o, &why, sub);
	assert_non_null(strstr(o.text.buf, sub));
	strbuf_release(&o.text);
	snprintf(sub, sizeof(sub), "rm -rf %s", dir);
	assert_int_equal(system(sub), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_exit),
		cmocka_unit_test(test_long_lines_split),
		cmocka_unit_test(test_long_line_secret_whole),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_cancel_escalates),
		cmocka_unit_test(test_group_killed),
		cmocka_unit_test(test_exec_failure_and_workdir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
