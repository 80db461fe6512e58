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
#include "records.h"
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

/* Starts a run of job and cancels it while it is queued. */
static void start_cancelled(struct fx *f, const char *job)
{
	struct json *j;
	char line[128];

	snprintf(line, sizeof(line), "run start %s", job);
	j = admin(f, line);
	snprintf(line, sizeof(line), "run cancel %s", json_get(j, "run")->str);
	json_free(j);
	admin_ok(f, line);
}

/* Restarts the core with every ended run left in the store, as a start
 * does with the runs that ended before ended_runs_in_memory_s; returns
 * how many acme has there (read before the core takes the state). */
static uint32_t restart_with_runs_stored(struct fx *f)
{
	char err[256];
	uint32_t n;

	stop_core(f);
	state_release(&f->st);
	state_init(&f->st);
	f->st.stored_before_ms = INT64_MAX;
	f->st.key_horizon_ms = INT64_MAX;
	assert_int_equal(records_load(f->store, &f->st, err, sizeof(err)), 0);
	n = (uint32_t)state_tenant(&f->st, "acme")->n_stored;
	run_core(f);
	return n;
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
	start_cancelled(f, "acme/prod/j");
	start_cancelled(f, "acme/dev/j");
	start_cancelled(f, "acme/dev/j");
	admin_ok(f, "run start acme/dev/j"); /* queued: stays in memory */
	prod = criteria(f, "acme/prod");
	dev = criteria(f, "acme/dev");
	assert_string_not_equal(prod, dev);

	/* the four ended in acme/prod (the failed one may be queued for
	 * another attempt) and the three cancelled */
	assert_true(restart_with_runs_stored(f) >= 6);
	again = criteria(f, "acme/prod");
	assert_string_equal(again, prod);
	free(again);
	again = criteria(f, "acme/dev");
	assert_string_equal(again, dev);
	free(again);
	free(prod);
	free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stored_runs_counted,
						fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
