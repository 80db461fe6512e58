/* fuzz_spark_output.c - the spark-submit output parser (agent/
 * spark_output.c): every line of an input is fed as a line of output, then
 * the result is read for a wait status taken from the first byte. Its
 * facts must stay NUL-terminated strings, and a result always comes with a
 * one-line reason when it is not a success. */
#include <string.h>
#include <sys/wait.h>

#include "fuzz.h"
#include "spark_output.h"

static int feed(const char *line, size_t len, void *ctx)
{
	spark_watch_line(ctx, line, len);
	return 0;
}

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct spark_watch w;
	const uint8_t *rest;
	size_t len;
	uint8_t st = fz_u8(&in);
	/* exit codes 0..127, or a signal */
	int status = st & 0x80 ? (st & 0x1f) : (st & 0x7f) << 8;
	char reason[256] = "";
	enum spark_result r;

	spark_watch_init(&w);
	len = fz_rest(&in, &rest);
	fz_lines(rest, len, 100000, feed, &w);
	if (!TERMINATED(w.app_id) || !TERMINATED(w.submission_id) ||
	    !TERMINATED(w.state) || !TERMINATED(w.final_status) ||
	    !TERMINATED(w.termination_reason) || !TERMINATED(w.last_error))
		fz_fail("a watch string is not terminated");
	r = spark_watch_result(&w, status, reason, sizeof(reason));
	if (r != SPARK_SUCCEEDED && r != SPARK_FAILED && r != SPARK_KILLED)
		fz_fail("result %d is not a spark_result", (int)r);
	if (strchr(reason, '\n'))
		fz_fail("reason is not one line: %s", reason);
	return 0;
}
