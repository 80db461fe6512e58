/* test_spctl_format.c - spctl's human output of admin replies. The
 * formatter is compiled into this test directly (spctl is not a library). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../scheduler/spctl/format.c"

static void check(const char *reply, const char *want)
{
	char err[128];
	struct strbuf out = STRBUF_INIT;
	struct json *j = json_parse(reply, strlen(reply), err, sizeof(err));
	assert_non_null(j);
	format_reply(&out, j);
	assert_string_equal(out.buf, want);
	strbuf_release(&out);
	json_free(j);
}

static void test_print(void **s)
{
	(void)s;
	check("{\"ok\":true,\"print\":\"17\",\"run\":17}", "17\n");
	check("{\"ok\":true,\"print\":\"a\\nb\\n\"}", "a\nb\n");
}

static void test_table(void **s)
{
	(void)s;
	check("{\"ok\":true,\"items\":[{\"id\":1,\"job\":\"acme/prod/pi\","
	      "\"agent\":null},{\"id\":10,\"job\":\"x\",\"agent\":\"ag-1\"}]}",
	      "ID  JOB           AGENT\n"
	      "1   acme/prod/pi  -\n"
	      "10  x             ag-1\n");
	check("{\"ok\":true,\"items\":[]}", "(none)\n");
}

static void test_lines(void **s)
{
	(void)s;
	check("{\"ok\":true,\"lines\":[{\"n\":0,\"line\":\"hello\"},"
	      "{\"n\":1,\"line\":\"\\tat x\"}],\"next\":2,\"done\":true}",
	      "hello\n\tat x\n");
}

static void test_show(void **s)
{
	(void)s;
	check("{\"ok\":true,\"run\":{\"id\":3,\"state\":\"failed\","
	      "\"exit_code\":null,\"timestamps\":{\"queued\":\"T1\"},"
	      "\"args\":[\"a\",\"b\"]}}",
	      "run:\n"
	      "  id:         3\n"
	      "  state:      failed\n"
	      "  exit_code:  -\n"
	      "  timestamps:\n"
	      "    queued: T1\n"
	      "  args:       a, b\n");
}

/* queue stats: totals and the pause flag, then a table per tenant and
 * per environment ("items" under its title). */
static void test_report(void **s)
{
	(void)s;
	check("{\"ok\":true,\"queued\":3,\"oldest_queued_s\":7,"
	      "\"paused\":true,\"tenants\":[{\"tenant\":\"acme\",\"queued\":3,"
	      "\"oldest_queued_s\":7}],\"title\":\"environments\","
	      "\"items\":[{\"env\":\"acme/prod\",\"queued\":3,"
	      "\"oldest_queued_s\":7}]}",
	      "queued:          3\n"
	      "oldest_queued_s: 7\n"
	      "paused:          true\n"
	      "tenants:\n"
	      "  TENANT  QUEUED  OLDEST_QUEUED_S\n"
	      "  acme    3       7\n"
	      "environments:\n"
	      "  ENV        QUEUED  OLDEST_QUEUED_S\n"
	      "  acme/prod  3       7\n");
	/* nothing yet: still the totals */
	check("{\"ok\":true,\"queued\":0,\"tenants\":[],"
	      "\"title\":\"environments\",\"items\":[]}",
	      "queued:       0\n"
	      "tenants:      -\n"
	      "environments: -\n");
	/* a list with a scalar beside it stays a plain table */
	check("{\"ok\":true,\"items\":[{\"id\":\"ag-1\"}],"
	      "\"rejected_unknown_agent\":0}",
	      "ID\nag-1\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
