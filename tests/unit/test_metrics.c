/* test_metrics.c - /metrics as the core renders it (metrics_render.c),
 * from a real core over a real store: values that follow the state, and
 * the text format's rules (a family's HELP and TYPE, then all its
 * samples together; names and label syntax). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_fixture.h"
#include "metrics.h"

/* What a scrape answers once the core has published a snapshot holding
 * want. */
static void scrape_until(struct metrics *m, const char *want,
			 struct strbuf *out)
{
	for (int i = 0; i < 500; i++) {
		strbuf_reset(out);
		metrics_scrape(m, out);
		if (strstr(out->buf, want))
			return;
		usleep(10 * 1000);
	}
	fail_msg("no snapshot with '%s' in 5 s:\n%s", want, out->buf);
}

/* The text format: "# HELP name", "# TYPE name type", then that family's
 * samples only ("name{l=\"v\",...} value"; histograms add _bucket, _sum,
 * _count); no family twice. */
static void check_format(const char *text)
{
	regex_t sample;
	char family[128] = "", seen[8192] = " ";
	const char *line = text;

	assert_int_equal(regcomp(&sample,
				 "^([a-z_]+)(\\{[a-z_]+=\"([^\"\\\\]|\\\\.)*\""
				 "(,[a-z_]+=\"([^\"\\\\]|\\\\.)*\")*\\})? "
				 "[-+0-9.e]+$",
				 REG_EXTENDED),
			 0);
	while (*line) {
		const char *nl = strchr(line, '\n');
		char buf[1024], name[128], type[32];
		regmatch_t mt[2];
		assert_non_null(nl);
		snprintf(buf, sizeof(buf), "%.*s", (int)(nl - line), line);
		if (sscanf(buf, "# TYPE %127s %31s", name, type) == 2) {
			char key[132];
			snprintf(key, sizeof(key), " %s ", name);
			if (strstr(seen, key))
				fail_msg("family %s twice", name);
			strncat(seen, name, sizeof(seen) - strlen(seen) - 2);
			strcat(seen, " ");
			snprintf(family, sizeof(family), "%s", name);
		} else if (strncmp(buf, "# HELP ", 7)) {
			size_t fl = strlen(family);
			if (regexec(&sample, buf, 2, mt, 0))
				fail_msg("not a sample: '%s'", buf);
			if (strncmp(buf, family, fl) ||
			    (buf[fl] != '{' && buf[fl] != ' ' &&
			     strncmp(buf + fl, "_bucket", 7) &&
			     strncmp(buf + fl, "_sum", 4) &&
			     strncmp(buf + fl, "_count", 6)))
				fail_msg("'%s' outside its family (in %s)", buf,
					 family);
		}
		line = nl + 1;
	}
	regfree(&sample);
}

static void test_metrics_follow_state(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	char err[256];
	struct metrics *m = metrics_start("http://127.0.0.1:0", err,
					  sizeof(err));

	assert_non_null(m);
	admin_ok(f, "dispatch pause");
	admin_ok(f, "run start acme/prod/j");
	admin_ok(f, "run start acme/prod/j");
	core_metrics(f->core, m);
	scrape_until(m,
		     "sparkpilot_runs{tenant=\"acme\",env=\"acme/prod\","
		     "state=\"queued\"} 2\n",
		     &out);
	check_format(out.buf);
	assert_non_null(strstr(out.buf, "sparkpilot_dispatch_paused 1\n"));
	assert_non_null(strstr(out.buf,
			       "sparkpilot_agents{tenant=\"acme\","
			       "env=\"acme/prod\",state=\"active\"} 1\n"));
	assert_non_null(strstr(out.buf, "sparkpilot_build_info{version=\""));
	assert_non_null(strstr(out.buf, "sparkpilot_wal_sync_seconds_bucket"
					"{le=\"+Inf\"} "));
	assert_non_null(strstr(out.buf, "\nprocess_open_fds "));
	/* a change shows in a later snapshot */
	admin_ok(f, "run start acme/prod/j");
	scrape_until(m,
		     "sparkpilot_runs{tenant=\"acme\",env=\"acme/prod\","
		     "state=\"queued\"} 3\n",
		     &out);
	check_format(out.buf);
	/* a start refused by a quota counts under its reason */
	struct strbuf reply = STRBUF_INIT;
	admin_ok(f, "tenant set acme --max-queued 3");
	admin_reply(f, "run start acme/prod/j", &reply);
	assert_non_null(strstr(reply.buf, "\"quota_exceeded\""));
	strbuf_release(&reply);
	scrape_until(m,
		     "sparkpilot_starts_refused_total{tenant=\"acme\","
		     "env=\"acme/prod\",reason=\"quota_exceeded\"} 1\n",
		     &out);
	assert_non_null(strstr(out.buf,
			       "sparkpilot_starts_refused_total{tenant=\"acme\","
			       "env=\"acme/prod\",reason=\"busy\"} 0\n"));
	check_format(out.buf);
	/* the core lets go of m at its next turn, which this command makes */
	core_metrics(f->core, NULL);
	admin_ok(f, "queue stats");
	metrics_stop(m);
	strbuf_release(&out);
}

static void test_bad_url(void **state)
{
	char err[256];
	(void)state;
	assert_null(metrics_start("tcp://127.0.0.1:0", err, sizeof(err)));
	assert_string_equal(err, "metrics_listen 'tcp://127.0.0.1:0': not an "
				 "http://HOST:PORT URL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics_follow_state,
						fx_setup, fx_teardown),
		cmocka_unit_test(test_bad_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
