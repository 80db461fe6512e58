/* test_schedule.c - recurring schedules: the pure module (schedule.c) on a
 * fixed clock, its record (schedule_rec.c), and the commands and firing
 * through a real core and store (cmd_schedule.c, schedule_core.c).
 *
 * The pure tests use '0 * * * *' (every hour on the hour) in UTC, the one
 * zone every build of the time zone module has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_fixture.h"
#include "schedule.h"
#include "schedule_rec.h"

#define H 3600000LL
/* 2026-03-01T00:00:00Z */
#define T0 1772323200000LL

static struct cron_spec hourly(void)
{
	struct cron_spec s;
	char err[128];

	assert_int_equal(cron_parse("0 * * * *", &s, err, sizeof(err)), 0);
	return s;
}

/* Running without a break: each hour fires once, the cursor follows. */
static void test_on_time(void **state)
{
	struct cron_spec s = hourly();
	struct schedule_due d;

	(void)state;
	schedule_due(&s, NULL, T0, T0, SCHED_CATCHUP_NONE, 0, T0 + H - 1, &d);
	assert_int_equal(d.nfire, 0);
	assert_int_equal(d.cursor, T0);
	schedule_due(&s, NULL, T0, T0, SCHED_CATCHUP_NONE, 0, T0 + H + 5, &d);
	assert_int_equal(d.nfire, 1);
	assert_int_equal(d.fire[0], T0 + H);
	assert_int_equal(d.cursor, T0 + H);
	assert_int_equal(d.missed, 0);
	assert_false(d.more);
	/* the same moment again: nothing more (never twice) */
	schedule_due(&s, NULL, d.cursor, T0, SCHED_CATCHUP_NONE, 0,
		     T0 + H + 5, &d);
	assert_int_equal(d.nfire, 0);
	assert_int_equal(d.cursor, T0 + H);
}

/* Down from T0 to T0+5h30: 5 hours passed nobody looked at. */
static void test_catchup_after_outage(void **state)
{
	struct cron_spec s = hourly();
	int64_t now = T0 + 5 * H + H / 2;
	struct schedule_due d;

	(void)state;
	schedule_due(&s, NULL, T0, now, SCHED_CATCHUP_NONE, 0, now, &d);
	assert_int_equal(d.nfire, 0);
	assert_int_equal(d.missed, 5);
	assert_int_equal(d.cursor, T0 + 5 * H);

	schedule_due(&s, NULL, T0, now, SCHED_CATCHUP_LAST, 0, now, &d);
	assert_int_equal(d.nfire, 1);
	assert_int_equal(d.fire[0], T0 + 5 * H);
	assert_int_equal(d.missed, 4);
	assert_int_equal(d.cursor, T0 + 5 * H);

	schedule_due(&s, NULL, T0, now, SCHED_CATCHUP_ALL, 0, now, &d);
	assert_int_equal(d.nfire, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(d.fire[i], T0 + (i + 1) * H);
	assert_int_equal(d.missed, 0);
	assert_int_equal(d.cursor, T0 + 5 * H);
}

/* Catch-up all after a long outage: at most SCHEDULE_FIRE_MAX a call, in
 * order, the rest in the next calls, none twice. */
static void test_catchup_all_bounded(void **state)
{
	struct cron_spec s = hourly();
	int64_t now = T0 + 40 * H, cursor = T0, expect = T0 + H;
	struct schedule_due d;
	int calls = 0;

	(void)state;
	do {
		schedule_due(&s, NULL, cursor, now, SCHED_CATCHUP_ALL, 0, now,
			     &d);
		assert_true(d.nfire <= SCHEDULE_FIRE_MAX);
		for (size_t i = 0; i < d.nfire; i++, expect += H)
			assert_int_equal(d.fire[i], expect);
		cursor = d.cursor;
		calls++;
	} while (d.more);
	assert_int_equal(expect, T0 + 41 * H);
	assert_int_equal(calls, 3);
}

/* Catch-up last with times missed and then one on time (after watch):
 * the latest missed one and the on-time one run. */
static void test_last_then_on_time(void **state)
{
	struct cron_spec s = hourly();
	int64_t watch = T0 + 3 * H + H / 2, now = T0 + 4 * H + 10;
	struct schedule_due d;

	(void)state;
	schedule_due(&s, NULL, T0, watch, SCHED_CATCHUP_LAST, 0, now, &d);
	assert_int_equal(d.nfire, 2);
	assert_int_equal(d.fire[0], T0 + 3 * H);
	assert_int_equal(d.fire[1], T0 + 4 * H);
	assert_int_equal(d.missed, 2);
	assert_int_equal(d.cursor, T0 + 4 * H);
}

/* The starting deadline: a time more than it late is missed, under any
 * catch-up policy; one within it runs. */
static void test_deadline(void **state)
{
	struct cron_spec s = hourly();
	int64_t now = T0 + 3 * H + 20 * 60000; /* 03:20 */
	struct schedule_due d;

	(void)state;
	/* 30 min: 01:00 and 02:00 are too late, 03:00 is not */
	schedule_due(&s, NULL, T0, now, SCHED_CATCHUP_ALL, 30 * 60000, now,
		     &d);
	assert_int_equal(d.nfire, 1);
	assert_int_equal(d.fire[0], T0 + 3 * H);
	assert_int_equal(d.missed, 2);
	/* 10 min: even 03:00 is missed, and the watched one too */
	schedule_due(&s, NULL, T0, T0, SCHED_CATCHUP_LAST, 10 * 60000, now,
		     &d);
	assert_int_equal(d.nfire, 0);
	assert_int_equal(d.missed, 3);
	assert_int_equal(d.cursor, T0 + 3 * H);
}

/* Paused from 00:30 to 04:30 (the cursor stays at 00:00 while paused):
 * on resume, watch is the resume time, and the 4 hours missed follow the
 * policy; afterwards each hour runs again. */
static void test_paused_resumed(void **state)
{
	struct cron_spec s = hourly();
	int64_t resume = T0 + 4 * H + H / 2;
	struct schedule_due d;

	(void)state;
	schedule_due(&s, NULL, T0, resume, SCHED_CATCHUP_NONE, 0, resume, &d);
	assert_int_equal(d.nfire, 0);
	assert_int_equal(d.missed, 4);
	schedule_due(&s, NULL, d.cursor, resume, SCHED_CATCHUP_NONE, 0,
		     T0 + 5 * H, &d);
	assert_int_equal(d.nfire, 1);
	assert_int_equal(d.fire[0], T0 + 5 * H);
	assert_int_equal(d.missed, 0);
}

static void test_concurrency(void **state)
{
	(void)state;
	assert_int_equal(schedule_on_fire(SCHED_CONC_ALLOW, true), SCHED_START);
	assert_int_equal(schedule_on_fire(SCHED_CONC_FORBID, false),
			 SCHED_START);
	assert_int_equal(schedule_on_fire(SCHED_CONC_FORBID, true), SCHED_SKIP);
	assert_int_equal(schedule_on_fire(SCHED_CONC_REPLACE, false),
			 SCHED_START);
	assert_int_equal(schedule_on_fire(SCHED_CONC_REPLACE, true),
			 SCHED_REPLACE);
	assert_int_equal(schedule_concurrency_parse("forbid"),
			 SCHED_CONC_FORBID);
	assert_int_equal(schedule_concurrency_parse("sometimes"), -1);
	assert_int_equal(schedule_catchup_parse("all"), SCHED_CATCHUP_ALL);
	assert_int_equal(schedule_catchup_parse("most"), -1);
}

static void test_duration_and_key(void **state)
{
	int64_t ms = -1;
	char err[128], buf[64];

	(void)state;
	assert_int_equal(schedule_parse_duration("30s", &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(schedule_parse_duration("15m", &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 900000);
	assert_int_equal(schedule_parse_duration("2h", &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 2 * H);
	assert_int_equal(schedule_parse_duration("1d", &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 24 * H);
	assert_int_equal(schedule_parse_duration("0", &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(schedule_parse_duration("5x", &ms, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'5x'"));
	assert_int_equal(schedule_parse_duration("", &ms, err, sizeof(err)), -1);
	assert_int_equal(schedule_parse_duration("400d", &ms, err, sizeof(err)), -1);
	assert_int_equal(schedule_parse_duration("-1m", &ms, err, sizeof(err)), -1);
	assert_string_equal(schedule_format_duration(2 * H, buf, sizeof(buf)),
			    "2h");
	assert_string_equal(schedule_format_duration(90000, buf, sizeof(buf)),
			    "90s");
	assert_string_equal(schedule_idem_key(7, T0, 1, buf, sizeof(buf)),
			    "schedule:7:1772323200000");
	assert_string_equal(schedule_idem_key(7, T0, 3, buf, sizeof(buf)),
			    "schedule:7:1772323200000:3");
}

/* A record read back is the record written; a damaged one is refused
 * and leaves nothing. */
static void test_record(void **state)
{
	struct fx *f = *state;
	struct schedule_def d, back;
	struct store_batch *b = store_batch_new();
	char a0[] = "--conf", a1[] = "x={{scheduled_date}}";
	char *args[] = { a0, a1 };
	uint8_t key[SCHEDULE_KEY_MAX];
	size_t klen;
	char err[128], *val = NULL;
	size_t vlen = 0;

	memset(&d, 0, sizeof(d));
	d.id = 42;
	snprintf(d.tenant, sizeof(d.tenant), "acme");
	snprintf(d.job, sizeof(d.job), "acme/prod/j");
	snprintf(d.cron, sizeof(d.cron), "0 2 * * *");
	snprintf(d.zone, sizeof(d.zone), "UTC");
	snprintf(d.then, sizeof(d.then), "a,b");
	d.concurrency = SCHED_CONC_FORBID;
	d.catchup = SCHED_CATCHUP_ALL;
	d.deadline_ms = 2 * H;
	d.cursor_ms = T0;
	d.nlast = 2;
	d.last_runs[0] = 5;
	d.last_runs[1] = 6;
	d.fired = 3;
	d.missed = 4;
	d.args = args;
	d.nargs = 2;
	schedule_rec_put(b, f->store, &d);
	assert_int_equal(store_write(f->store, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	klen = schedule_rec_key("acme", 42, key);
	assert_int_equal(store_get(f->store, CF_SCHEDULES, key, klen, &val,
				   &vlen, err, sizeof(err)), 1);
	/* sealed when the store has a keyring: not in clear then */
	if (store_keyring(f->store))
		assert_null(memmem(val, vlen, "scheduled_date", 14));
	assert_int_equal(schedule_rec_decode(f->store, key, klen, val, vlen,
					     &back, err, sizeof(err)), 0);
	assert_int_equal(back.id, 42);
	assert_string_equal(back.job, "acme/prod/j");
	assert_string_equal(back.cron, "0 2 * * *");
	assert_string_equal(back.then, "a,b");
	assert_int_equal(back.concurrency, SCHED_CONC_FORBID);
	assert_int_equal(back.catchup, SCHED_CATCHUP_ALL);
	assert_int_equal(back.deadline_ms, 2 * H);
	assert_int_equal(back.cursor_ms, T0);
	assert_int_equal(back.nlast, 2);
	assert_int_equal(back.last_runs[1], 6);
	assert_int_equal(back.missed, 4);
	assert_int_equal(back.nargs, 2);
	assert_string_equal(back.args[1], "x={{scheduled_date}}");
	schedule_def_release(&back);
	/* under another key (another tenant's), refused */
	klen = schedule_rec_key("beta", 42, key);
	assert_int_equal(schedule_rec_decode(f->store, key, klen, val, vlen,
					     &back, err, sizeof(err)), -1);
	assert_string_equal(err, "a schedule record is damaged");
	free(val);
}

static long long num(const struct json *j, const char *obj, const char *key)
{
	const struct json *v = json_get(json_get(j, obj), key);
	assert_non_null(v);
	return strtoll(v->str, NULL, 10);
}

/* Commands through the core: add refusals write nothing; add, show,
 * pause, delete; across a restart the schedule is back as it was. */
static void test_commands(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	struct json *j;

	admin_reply(f, "schedule add acme/prod/j --cron \"0 25 * * *\"", &out);
	assert_non_null(strstr(out.buf, "hour field"));
	strbuf_reset(&out);
	admin_reply(f, "schedule add acme/prod/j --cron \"0 2 * * *\" "
		    "--concurrency sometimes", &out);
	assert_non_null(strstr(out.buf, "--concurrency 'sometimes'"));
	strbuf_reset(&out);
	admin_reply(f, "schedule add acme/prod/j --cron \"0 2 * * *\" "
		    "--then nope", &out);
	assert_non_null(strstr(out.buf, "no job 'nope'"));
	strbuf_reset(&out);
	j = admin(f, "schedule list");
	assert_int_equal(json_get(j, "items")->n, 0);
	json_free(j);

	j = admin(f, "schedule add acme/prod/j --cron \"*/5 * * * *\" "
		  "--concurrency forbid --catch-up none "
		  "--starting-deadline 15m -- --conf a=b");
	assert_int_equal(strtoll(json_get(j, "schedule")->str, NULL, 10), 1);
	json_free(j);
	admin_ok(f, "schedule pause 1");
	stop_core(f);
	state_release(&f->st);
	start_core(f);
	j = admin(f, "schedule show 1");
	assert_string_equal(json_get_str(json_get(j, "schedule"), "cron"),
			    "*/5 * * * *");
	assert_string_equal(json_get_str(json_get(j, "schedule"),
					 "concurrency"), "forbid");
	assert_string_equal(json_get_str(json_get(j, "schedule"),
					 "starting_deadline"), "15m");
	assert_true(json_get(json_get(j, "schedule"), "paused")->boolean);
	assert_int_equal(num(j, "schedule", "extra_args"), 2);
	json_free(j);
	admin_ok(f, "schedule delete 1");
	admin_reply(f, "schedule show 1", &out);
	assert_non_null(strstr(out.buf, "no schedule '1'"));
	strbuf_release(&out);
	/* ids are never given twice */
	j = admin(f, "schedule add acme/prod/j --cron \"0 3 * * *\"");
	assert_int_equal(strtoll(json_get(j, "schedule")->str, NULL, 10), 2);
	json_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_on_time),
		cmocka_unit_test(test_catchup_after_outage),
		cmocka_unit_test(test_catchup_all_bounded),
		cmocka_unit_test(test_last_then_on_time),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_paused_resumed),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_duration_and_key),
		cmocka_unit_test_setup_teardown(test_record, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_commands, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
