/* fuzz_admin.c - the admin command line (common/cmdline.c, then
 * scheduler/admin_cmds.c and the command handlers) on a real core thread
 * over a real store, as the admin socket drives them: each line of an
 * input is split and posted as one command, and its reply must be one JSON
 * object on one line with a boolean "ok".
 *
 * The core starts from tests/unit/lib/core_fixture.c's state: tenant acme,
 * ready environment acme/prod with job acme/prod/j and one enrolled agent.
 * Commands change that state, so it is made afresh every RESET_EVERY
 * inputs under libFuzzer, and before every input when replayed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "core_fixture.h"
#include "fuzz.h"

#define MAX_LINES 16
#define RESET_EVERY 2000

static void *fx;
static unsigned inputs;

static void stop(void)
{
	if (fx)
		fx_teardown(&fx);
	fx = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A fixture assertion that fails aborts (a crash to libFuzzer). */
	setenv("CMOCKA_TEST_ABORT", "1", 1);
	/* The fixture's store goes in our directory, which is removed at
	 * exit (RocksDB's statics may be gone by then: the store itself is
	 * not closed). */
	setenv("TMPDIR", fz_tmpdir(), 1);
	return 0;
}

static void check_reply(const struct strbuf *out, const char *line, size_t len)
{
	char err[256];
	struct json *j = NULL;

	if (memchr(out->buf, '\n', out->len) ||
	    !(j = json_parse(out->buf, out->len, err, sizeof(err))) ||
	    j->type != JSON_OBJECT || !json_get(j, "ok") ||
	    json_get(j, "ok")->type != JSON_BOOL)
		fz_fail("bad reply to '%.*s': %s", (int)len, line, out->buf);
	if (getenv("SP_FUZZ_VERBOSE"))
		fprintf(stderr, "  %.*s: %.200s\n", (int)len, line, out->buf);
	json_free(j);
}

static int one_line(const char *line, size_t len, void *ctx)
{
	struct event *ev = event_new(EV_ADMIN);
	struct strbuf out = STRBUF_INIT;
	char err[256];

	(void)ctx;
	if (cmdline_split(line, len, &ev->cmd, err, sizeof(err)))
		admin_cmds_refuse(ev, "usage", err);
	post_wait(fx, ev, &out);
	check_reply(&out, line, len);
	strbuf_release(&out);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fx && ++inputs >= RESET_EVERY)
		stop();
	if (!fx) {
		fx_setup(&fx);
		inputs = 0;
	}
	fz_lines(data, size, MAX_LINES, one_line, NULL);
	if (fz_replaying())
		stop();
	return 0;
}
