/* fuzz_livy.c - what the Livy backend reads from outside (agent/livy_req.c):
 * Livy's answers (a batch, a log page) and a job's spark-submit arguments
 * turned into a batch. Byte 0 picks: 0 a batch answer, 1 a log page,
 * else up to 32 argument words (u16-length chunks). Answers are refused
 * on one line or give a non-negative id and terminated strings; a batch
 * built from any words is JSON that parses. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "livy_req.h"

static void sink(void *ctx, int stream, const char *line, size_t len)
{
	(void)line;
	(void)len;
	if (stream != 1 && stream != 2)
		fz_fail("log line on stream %d", stream);
	(*(size_t *)ctx)++;
}

static void words(struct fz_in *in)
{
	char *argv[33];
	size_t n = 0;
	struct backend_ctx ctx;
	struct strbuf out = STRBUF_INIT;
	struct json *j;
	char err[300] = "";

	while (n < 32 && in->n)
		argv[n++] = fz_str(in, 512);
	argv[n] = NULL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.argv = argv;
	ctx.argc = n;
	ctx.res.executors = 3;
	if (livy_batch_json(&ctx, &out, err, sizeof(err))) {
		fz_check_refusal(err, "");
	} else {
		j = json_parse(out.buf, out.len, err, sizeof(err));
		if (!j)
			fz_fail("batch is not JSON: %s", err);
		json_free(j);
	}
	strbuf_release(&out);
	for (size_t i = 0; i < n; i++)
		free(argv[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t mode = fz_u8(&in);
	const uint8_t *body;
	size_t len, lines = 0;
	char state[32], app[128], err[300] = "";
	int64_t id;
	int stream = 2, n;

	if (mode >= 2) {
		words(&in);
		return 0;
	}
	len = fz_rest(&in, &body);
	if (mode == 0) {
		if (livy_parse_batch((const char *)body, len, &id, state,
				     sizeof(state), app, sizeof(app), err,
				     sizeof(err))) {
			fz_check_refusal(err, "");
			return 0;
		}
		if (id < 0 || strlen(state) >= sizeof(state) ||
		    strlen(app) >= sizeof(app))
			fz_fail("bad batch: id %lld", (long long)id);
		return 0;
	}
	n = livy_log_page((const char *)body, len, sink, &lines, &stream, err,
			  sizeof(err));
	if (n < 0)
		fz_check_refusal(err, "");
	else if ((size_t)n < lines)
		fz_fail("%d lines counted, %zu delivered", n, lines);
	return 0;
}
