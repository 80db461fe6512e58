/* test_report_stored.c - `report env` over runs kept only in the store
 * (cmd_report.c), on a real core: the runs in the store are read back on
 * a worker thread and the command answered when it ends; the report is
 * the one the same runs gave while all were in memory, and another
 * environment's runs in the store are not counted in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_fixture.h"
#include "sched_ctx.h"
#include "util.h"

/* The report's criteria as the reply writes them: the part of a report
 * that does not move with the clock (its window does). */
static char *criteria(struct fx *f, const char *env)
{
	struct strbuf out = STRBUF_INIT;
	char line[128], *c;
	const char *from, *to;

	snprintf(line, sizeof(line), "report env %s --days 1", env);
	admin_reply(f, line, &out);
	from = strstr(out.buf, "\"criteria\":");
	to = from ? strstr(from, "\"verdict\":") : NULL;
	if (!to)
		fail_msg("report env %s: %s", env, out.buf);
	c = xstrndup(from, (size_t)(to - from));
	strbuf_release(&out);
	return c;
}

static void test_stored_runs_counted(void **state)
{
	struct fx *f = *state;
	uint64_t run, epoch;
	char *prod, *dev, *again;

	admin_ok(f, "env add acme/dev");
	admin_ok(f, "job add acme/dev/j -- --master yarn app.jar");
	for (int i = 0; i < 4; i++) {
		lease_one(f, &run, &epoch);
		complete_one(f, run, epoch, i == 3 ? "failed" : "succeeded",
			     i == 3 ? 1 : 0);
	}
	fx_start_cancelled(f, "acme/prod/j");
	fx_start_cancelled(f, "acme/dev/j");
	fx_start_cancelled(f, "acme/dev/j");
	admin_ok(f, "run start acme/dev/j"); /* queued: stays in memory */
	prod = criteria(f, "acme/prod");
	dev = criteria(f, "acme/dev");
	assert_string_not_equal(prod, dev);

	/* the four ended in acme/prod (the failed one may be queued for
	 * another attempt) and the three cancelled */
	assert_true(fx_restart_stored(f, "acme") >= 6);
	again = criteria(f, "acme/prod");
	assert_string_equal(again, prod);
	free(again);
	again = criteria(f, "acme/dev");
	assert_string_equal(again, dev);
	free(again);
	free(prod);
	free(dev);
}

/* With REPORT_SCANS_MAX reports reading the store, one more is refused
 * with `busy` and a retry time, and nothing is left counted against
 * later ones; a report of a tenant with no run in the store reads
 * nothing there and is not limited. The count is set while no scan runs: the test's admin
 * request, posted after it, orders the write before the core reads it. */
static void test_fifth_report_busy(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	struct json *j;
	uint64_t run, epoch;
	char *before, *after, err[128];

	lease_one(f, &run, &epoch);
	complete_one(f, run, epoch, "succeeded", 0);
	before = criteria(f, "acme/prod");
	assert_true(fx_restart_stored(f, "acme") >= 1);

	/* every scan ended: a finished one gave its place back */
	after = criteria(f, "acme/prod");
	assert_string_equal(after, before);
	free(after);
	assert_int_equal(f->core->report_scans, 0);

	f->core->report_scans = REPORT_SCANS_MAX;
	admin_reply(f, "report env acme/prod --days 1", &out);
	j = json_parse(out.buf, out.len, err, sizeof(err));
	assert_non_null(j);
	strbuf_release(&out);
	assert_false(json_get_bool(j, "ok"));
	assert_string_equal(json_get_str(j, "error"), "busy");
	assert_true(json_get(j, "retry_after_ms") &&
		    atoll(json_get(j, "retry_after_ms")->str) > 0);
	json_free(j);
	/* refused before it took a place */
	assert_int_equal(f->core->report_scans, REPORT_SCANS_MAX);

	/* a tenant with no run in the store is answered at once */
	admin_ok(f, "tenant add globex");
	admin_ok(f, "env add globex/prod");
	j = admin(f, "report env globex/prod --days 1");
	assert_true(json_get_bool(j, "ok"));
	json_free(j);

	f->core->report_scans = REPORT_SCANS_MAX - 1;
	after = criteria(f, "acme/prod");
	assert_string_equal(after, before);
	free(after);
	assert_int_equal(f->core->report_scans, REPORT_SCANS_MAX - 1);
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stored_runs_counted,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fifth_report_busy,
						fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
