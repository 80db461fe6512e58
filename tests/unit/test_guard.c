/* test_guard.c - the burn-rate guard: spend history, projection, throttle
 * steps and circuit breaker, on a fake clock (plain int64 variables). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "guard.h"

#define USD 1000000LL
#define MIN 60000LL
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
/* 2024-03-01 and 2024-04-01 00:00 UTC: a 31-day month */
#define MARCH 1709251200000LL
#define APRIL 1711929600000LL
#define MID_MARCH (MARCH + 15 * DAY)

/* A tenant's figures at one moment, all of them set by the test. */
static struct guard_input at(int64_t now, int64_t budget, int64_t spent,
			     int64_t running_recent)
{
	struct guard_input in = {
		.now_ms = now,
		.month_start_ms = MARCH,
		.month_end_ms = APRIL,
		.budget = budget,
		.spent = spent,
		.running_recent = running_recent,
		.running = 5,
		.max_running = 8,
	};
	return in;
}

static void expect_action(const struct guard_action *a, uint32_t level_from,
			  uint32_t level_to, enum breaker_state breaker_from,
			  enum breaker_state breaker_to, uint32_t cap)
{
	assert_int_equal(a->level_from, level_from);
	assert_int_equal(a->level_to, level_to);
	assert_int_equal(a->breaker_from, breaker_from);
	assert_int_equal(a->breaker_to, breaker_to);
	assert_int_equal(a->cap, cap);
}

/* Everything recorded and still kept: the whole ring, seen from past its
 * newest slot. */
static int64_t kept(const struct guard *g)
{
	return guard_recent_spend(g, INT64_MAX, INT64_MAX);
}

static void test_defaults_and_init(void **s)
{
	struct guard_params p;
	struct guard g;
	(void)s;

	guard_params_defaults(&p);
	assert_int_equal(p.interval_ms, MIN);
	assert_int_equal(p.window_ms, 6 * HOUR);
	assert_int_equal(p.cooldown_ms, 15 * MIN);
	guard_init(&g, &p);
	assert_int_equal(g.level, 0);
	assert_int_equal(g.breaker, BREAKER_CLOSED);
	assert_int_equal(g.slot_ms, 6 * HOUR / GUARD_SLOTS);
	assert_int_equal(guard_cap(&g), UINT32_MAX);
	assert_int_equal(guard_next_due(&g, &p), 0);
	assert_int_equal(guard_recent_spend(&g, MID_MARCH, 6 * HOUR), 0);
	assert_int_equal(kept(&g), 0);

	p.window_ms = 10; /* shorter than the slots: 1 ms each */
	guard_init(&g, &p);
	assert_int_equal(g.slot_ms, 1);

	assert_string_equal(breaker_state_name(BREAKER_CLOSED), "closed");
	assert_string_equal(breaker_state_name(BREAKER_OPEN), "open");
	assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "half_open");
}

/* 1 s slots: a spend spread over slots, the ring moving on, old spend
 * dropped, a partial slot prorated. */
static void test_ring_advance_and_drop(void **s)
{
	struct guard_params p;
	struct guard g, before;
	(void)s;

	guard_params_defaults(&p);
	p.window_ms = GUARD_SLOTS * 1000;
	guard_init(&g, &p);

	guard_record_spend(&g, 10000, 10000, 500);
	assert_int_equal(g.slot_start_ms, 10000 - 95 * 1000);
	assert_int_equal(guard_recent_spend(&g, 10001, 1000), 500);
	assert_int_equal(kept(&g), 500);

	/* [10500, 12500): a quarter, three quarters, the last quarter */
	guard_record_spend(&g, 10500, 12500, 300);
	assert_int_equal(g.slot_start_ms, 12000 - 95 * 1000);
	assert_int_equal(guard_recent_spend(&g, 11000, 1000), 575);
	assert_int_equal(guard_recent_spend(&g, 12000, 1000), 150);
	assert_int_equal(guard_recent_spend(&g, 13000, 1000), 75);
	assert_int_equal(kept(&g), 800);

	/* the window later: 10000..12999 fall out of the ring */
	guard_record_spend(&g, 108000, 108000, 7);
	assert_int_equal(g.slot_start_ms, 13000);
	assert_int_equal(kept(&g), 7);
	assert_int_equal(guard_recent_spend(&g, 14000, 5000), 0);

	/* half of [12000, 14000) is before the oldest slot: dropped */
	guard_record_spend(&g, 12000, 14000, 40);
	assert_int_equal(guard_recent_spend(&g, 14000, 1000), 20);
	assert_int_equal(kept(&g), 27);

	/* all of it too old, nothing, negative, backwards */
	before = g;
	guard_record_spend(&g, 1000, 5000, 99);
	guard_record_spend(&g, 1000, 13000, 99); /* ends before 13000 */
	guard_record_spend(&g, 40000, 41000, 0);
	guard_record_spend(&g, 40000, 41000, -5);
	assert_memory_equal(&g, &before, sizeof(g));
	guard_record_spend(&g, 50000, 40000, 10); /* from > to: all at to */
	assert_int_equal(guard_recent_spend(&g, 41000, 1000), 10);
	assert_int_equal(kept(&g), 37);

	/* the slot holding now - window counts for its part after it; the
	 * one holding now for its part before now */
	assert_int_equal(guard_recent_spend(&g, 41000, 500), 5);
	assert_int_equal(guard_recent_spend(&g, 41000, 0), 0);
	assert_int_equal(guard_recent_spend(&g, 40500, 1000), 10);
	assert_int_equal(guard_recent_spend(&g, 40000, 1000), 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int64_t rng_below(int64_t n)
{
	return (int64_t)(rng() % (uint64_t)n);
}

/* The part of [from, to) before the oldest kept slot, rounded down: what
 * a record drops. */
static int64_t dropped_part(int64_t from, int64_t to, int64_t cost,
			    int64_t oldest)
{
	if (from > to)
		from = to;
	if (from == to)
		return to < oldest ? cost : 0;
	if (from >= oldest)
		return 0;
	if (to <= oldest)
		return cost;
	return (int64_t)((__int128)cost * (oldest - from) / (to - from));
}

/* Many records, in and out of order, some moving the ring on: the ring
 * always holds exactly what was recorded, less what fell out of it or
 * came too old; every slot is aligned and the newest holds the latest. */
static void test_record_conservation(void **s)
{
	struct guard_params p;
	struct guard g, before;
	int64_t newest_last = MID_MARCH, total = 1;
	(void)s;

	guard_params_defaults(&p);
	guard_init(&g, &p);
	guard_record_spend(&g, MID_MARCH, MID_MARCH, 1);
	for (int i = 0; i < 20000; i++) {
		int64_t to, from, last, cost = 1 + rng_below(5 * USD);
		int64_t evicted = 0, slot = g.slot_ms;

		if (rng_below(10) == 0)
			to = newest_last + rng_below(3 * p.window_ms / 2);
		else
			to = newest_last - rng_below(p.window_ms * 2);
		switch (rng_below(4)) {
		case 0:
			from = to;
			break;
		case 1:
			from = to + rng_below(HOUR); /* backwards: all at to */
			break;
		default:
			from = to - rng_below(p.window_ms);
		}
		last = from < to ? to - 1 : to;
		before = g;
		guard_record_spend(&g, from, to, cost);
		if (g.slot_start_ms > before.slot_start_ms)
			evicted = guard_recent_spend(
				&before, g.slot_start_ms,
				g.slot_start_ms - before.slot_start_ms);
		total += cost - evicted -
			 dropped_part(from, to, cost, g.slot_start_ms);
		assert_int_equal(kept(&g), total);
		if (last > newest_last)
			newest_last = last;
		assert_int_equal(g.slot_start_ms % slot, 0);
		assert_true(g.slot_start_ms + (GUARD_SLOTS - 1) * slot <=
			    newest_last);
		assert_true(newest_last < g.slot_start_ms + GUARD_SLOTS * slot);
		for (int k = 0; k < GUARD_SLOTS; k++)
			assert_true(g.slots[k] >= 0);
	}
	assert_true(total > 1);
}

/* Projections worked out by hand. */
static void test_projection(void **s)
{
	struct guard_params p;
	struct guard g;
	struct guard_input in;
	(void)s;

	guard_params_defaults(&p);
	guard_init(&g, &p);

	/* 30 s into the month: the rate is taken over one interval */
	in = at(MARCH + 30000, 1000 * USD, 1 * USD, 1 * USD);
	assert_int_equal(guard_project(&g, &p, &in),
			 1 * USD + 1 * USD * (APRIL - MARCH - 30000) / MIN);
	assert_int_equal(guard_project(&g, &p, &in), 44640500000LL);

	/* mid-month, 6 USD over the last 6 h, 16 days left: 64 windows */
	guard_record_spend(&g, MID_MARCH - 6 * HOUR, MID_MARCH, 6 * USD);
	in = at(MID_MARCH, 1000 * USD, 100 * USD, 0);
	assert_int_equal(guard_project(&g, &p, &in), 484 * USD);
	in.running_recent = 2 * USD;
	assert_int_equal(guard_project(&g, &p, &in), 612 * USD);

	/* 2 h into the month: the window's 4 h of last month do not count,
	 * the rate is over 2 h, 371 of them left */
	guard_init(&g, &p);
	guard_record_spend(&g, MARCH - 2 * HOUR, MARCH, 10 * USD);
	guard_record_spend(&g, MARCH, MARCH + 2 * HOUR, 3 * USD);
	assert_int_equal(guard_recent_spend(&g, MARCH + 2 * HOUR, 6 * HOUR),
			 13 * USD);
	in = at(MARCH + 2 * HOUR, 1000 * USD, 3 * USD, 0);
	assert_int_equal(guard_project(&g, &p, &in), 3 * USD + 3 * USD * 371);

	/* the month over: what was spent */
	in = at(APRIL, 1000 * USD, 42 * USD, 5 * USD);
	assert_int_equal(guard_project(&g, &p, &in), 42 * USD);
	in.now_ms = APRIL + DAY;
	assert_int_equal(guard_project(&g, &p, &in), 42 * USD);
	in.spent = -1;
	assert_int_equal(guard_project(&g, &p, &in), 0);
}

/* Projected over: one step per interval, 6, 4, 2 of 8, then open after a
 * further interval; calls before the interval change nothing. */
static void test_throttle_steps(void **s)
{
	struct guard_params p;
	struct guard g, before;
	struct guard_action a;
	struct guard_input in;
	int64_t now = MID_MARCH;
	(void)s;

	guard_params_defaults(&p);
	guard_init(&g, &p);
	in = at(now, 1000 * USD, 500 * USD, 11725000);
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 0, 1, BREAKER_CLOSED, BREAKER_CLOSED, 6);
	assert_int_equal(a.projection, 1250400000);
	assert_int_equal(a.spent, 500 * USD);
	assert_int_equal(a.budget, 1000 * USD);
	assert_string_equal(a.why, "projected 1250.40 USD for the month, over "
				   "the 1000.00 USD budget: concurrency 75% "
				   "of 8");
	assert_int_equal(g.base_running, 8);
	assert_int_equal(guard_next_due(&g, &p), now + MIN);

	/* not due: nothing moves, even with the figures far worse */
	before = g;
	in = at(now + 59999, 1000 * USD, 2000 * USD, 11725000);
	assert_false(guard_eval(&g, &p, &in, &a));
	assert_memory_equal(&g, &before, sizeof(g));

	now += MIN;
	in = at(now, 1000 * USD, 500 * USD, 11725000);
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 1, 2, BREAKER_CLOSED, BREAKER_CLOSED, 4);
	assert_int_equal(a.projection, 1250367430);
	assert_string_equal(a.why, "projected 1250.36743 USD for the month, "
				   "over the 1000.00 USD budget: "
				   "concurrency 50% of 8");

	now += MIN;
	in.now_ms = now;
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 2, 3, BREAKER_CLOSED, BREAKER_CLOSED, 2);
	assert_int_equal(a.projection, 1250334861);
	assert_string_equal(a.why, "projected 1250.334861 USD for the month, "
				   "over the 1000.00 USD budget: "
				   "concurrency 25% of 8");

	now += MIN;
	in.now_ms = now;
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 3, 3, BREAKER_CLOSED, BREAKER_OPEN, 0);
	assert_int_equal(a.projection, 1250302291);
	assert_string_equal(a.why, "projected 1250.302291 USD for the month, "
				   "over the 1000.00 USD budget at the last "
				   "step: breaker open");
	assert_int_equal(g.breaker_since_ms, now);
	assert_int_equal(guard_cap(&g), 0);
}

/* With no cap of its own the tenant's steps scale what it runs; they
 * never reach 0 while the breaker is closed. */
static void test_base_from_running(void **s)
{
	struct guard_params p;
	struct guard g;
	struct guard_action a;
	struct guard_input in;
	uint32_t caps5[] = {3, 2, 1}, caps0[] = {1, 1, 1};
	(void)s;

	guard_params_defaults(&p);
	guard_init(&g, &p);
	in = at(MID_MARCH, 1000 * USD, 500 * USD, 100 * USD);
	in.max_running = 0;
	for (uint32_t i = 0; i < GUARD_STEPS; i++) {
		in.now_ms = MID_MARCH + i * MIN;
		in.running = 5 + i; /* the base is taken once, at step 1 */
		assert_true(guard_eval(&g, &p, &in, &a));
		expect_action(&a, i, i + 1, BREAKER_CLOSED, BREAKER_CLOSED,
			      caps5[i]);
	}
	assert_non_null(strstr(a.why, "concurrency 25% of 5"));

	guard_init(&g, &p);
	in.running = 0;
	for (uint32_t i = 0; i < GUARD_STEPS; i++) {
		in.now_ms = MID_MARCH + i * MIN;
		assert_true(guard_eval(&g, &p, &in, &a));
		expect_action(&a, i, i + 1, BREAKER_CLOSED, BREAKER_CLOSED,
			      caps0[i]);
	}
	assert_int_equal(g.base_running, 1);
}

/* Spend at the budget opens the breaker at once, whatever the level. */
static void test_open_at_budget(void **s)
{
	struct guard_params p;
	struct guard g;
	struct guard_action a;
	struct guard_input in;
	int64_t now = MID_MARCH;
	(void)s;

	guard_params_defaults(&p);
	guard_init(&g, &p);
	in = at(now, 1000 * USD, 1000 * USD, 0);
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 0, GUARD_STEPS, BREAKER_CLOSED, BREAKER_OPEN, 0);
	assert_int_equal(a.spent, 1000 * USD);
	assert_int_equal(a.projection, 1000 * USD);
	assert_string_equal(a.why, "spend 1000.00 USD reached the 1000.00 USD "
				   "budget: breaker open");
	assert_int_equal(g.base_running, 8);

	/* cooldown over: half-open; still at the budget: open again */
	now += 15 * MIN;
	in.now_ms = now;
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 3, 3, BREAKER_OPEN, BREAKER_HALF_OPEN, 1);
	assert_string_equal(a.why,
			    "cooldown of 900 s over: half-open, one run at a "
			    "time");
	now += MIN;
	in.now_ms = now;
	in.spent = 1200 * USD;
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 3, 3, BREAKER_HALF_OPEN, BREAKER_OPEN, 0);
	assert_string_equal(a.why, "spend 1200.00 USD reached the 1000.00 USD "
				   "budget: breaker open again");
	assert_int_equal(g.breaker_since_ms, now);
}

/* Open -> half-open exactly at the end of the cooldown (due even inside
 * an interval), half-open -> open while still over, -> closed at the same
 * level once recovered, then one step down per interval. */
static void test_breaker_cycle(void **s)
{
	struct guard_params p;
	struct guard g;
	struct guard_action a;
	struct guard_input in;
	int64_t now = MID_MARCH, opened;
	(void)s;

	guard_params_defaults(&p);
	p.cooldown_ms = 100 * 1000; /* not a multiple of the interval */
	guard_init(&g, &p);
	in = at(now, 1000 * USD, 500 * USD, 100 * USD);
	for (int i = 0; i < GUARD_STEPS + 1; i++) {
		in.now_ms = now;
		assert_true(guard_eval(&g, &p, &in, &a));
		now += MIN;
	}
	opened = now - MIN;
	assert_int_equal(g.breaker, BREAKER_OPEN);
	assert_int_equal(guard_next_due(&g, &p), opened + MIN);

	in.now_ms = opened + MIN;
	assert_false(guard_eval(&g, &p, &in, &a));
	assert_int_equal(guard_next_due(&g, &p), opened + 100 * 1000);
	in.now_ms = opened + 100 * 1000 - 1;
	assert_false(guard_eval(&g, &p, &in, &a));
	in.now_ms = opened + 100 * 1000;
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 3, 3, BREAKER_OPEN, BREAKER_HALF_OPEN, 1);
	assert_string_equal(a.why,
			    "cooldown of 100 s over: half-open, one run at a "
			    "time");
	assert_int_equal(guard_next_due(&g, &p), in.now_ms + MIN);

	/* the probe: projection still over */
	now = in.now_ms + MIN;
	in.now_ms = now;
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 3, 3, BREAKER_HALF_OPEN, BREAKER_OPEN, 0);
	assert_true(a.projection > 1000 * USD);
	assert_non_null(strstr(a.why, "USD for the month, still over the "
				      "1000.00 USD budget: breaker open "
				      "again"));

	/* recovered by the next probe: closed, still at the last step */
	now += 100 * 1000;
	in = at(now, 1000 * USD, 500 * USD, 0);
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 3, 3, BREAKER_OPEN, BREAKER_HALF_OPEN, 1);
	now += MIN;
	in.now_ms = now;
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 3, 3, BREAKER_HALF_OPEN, BREAKER_CLOSED, 2);
	assert_string_equal(a.why, "projected 500.00 USD for the month, within "
				   "the 1000.00 USD budget: breaker closed, "
				   "concurrency 25% of 8");

	uint32_t caps[] = {4, 6, UINT32_MAX};
	for (uint32_t i = 0; i < GUARD_STEPS; i++) {
		in.now_ms = now + MIN / 2;
		assert_false(guard_eval(&g, &p, &in, &a)); /* not due */
		now += MIN;
		in.now_ms = now;
		assert_true(guard_eval(&g, &p, &in, &a));
		expect_action(&a, 3 - i, 2 - i, BREAKER_CLOSED, BREAKER_CLOSED,
			      caps[i]);
	}
	assert_string_equal(a.why, "projected 500.00 USD for the month, under "
				   "90% of the 1000.00 USD budget: "
				   "concurrency unthrottled");
	now += MIN;
	in.now_ms = now;
	assert_false(guard_eval(&g, &p, &in, &a));
	assert_int_equal(g.projection, 500 * USD);
}

/* Between 90 % and 100 % of the budget the level holds; at 90 % it steps
 * back. With nothing recent the projection is the spend itself. */
static void test_recovery_hysteresis(void **s)
{
	struct guard_params p;
	struct guard g;
	struct guard_action a;
	struct guard_input in;
	int64_t now = MID_MARCH;
	int64_t holds[] = {1000 * USD - 1, 950 * USD, 900 * USD + 1};
	(void)s;

	guard_params_defaults(&p);
	guard_init(&g, &p);
	in = at(now, 1000 * USD, 500 * USD, 100 * USD);
	assert_true(guard_eval(&g, &p, &in, &a));
	now += MIN;
	in.now_ms = now;
	assert_true(guard_eval(&g, &p, &in, &a));
	assert_int_equal(g.level, 2);

	for (size_t i = 0; i < sizeof(holds) / sizeof(holds[0]); i++) {
		now += MIN;
		in = at(now, 1000 * USD, holds[i], 0);
		assert_false(guard_eval(&g, &p, &in, &a));
		assert_int_equal(g.level, 2);
		assert_int_equal(g.projection, holds[i]);
		assert_int_equal(guard_cap(&g), 4);
	}
	now += MIN;
	in = at(now, 1000 * USD, 900 * USD, 0);
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 2, 1, BREAKER_CLOSED, BREAKER_CLOSED, 6);
	assert_int_equal(a.projection, 900 * USD);
	assert_string_equal(a.why, "projected 900.00 USD for the month, under "
				   "90% of the 1000.00 USD budget: "
				   "concurrency 75% of 8");
	/* over again: back up a step */
	now += MIN;
	in = at(now, 1000 * USD, 900 * USD, 10 * USD);
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 1, 2, BREAKER_CLOSED, BREAKER_CLOSED, 4);
}

/* A new month closes the breaker and clears the steps, alone in its
 * evaluation; last month's spend does not weigh on the new one. */
static void test_month_rollover(void **s)
{
	struct guard_params p;
	struct guard g;
	struct guard_action a;
	struct guard_input in;
	int64_t now = APRIL - 10 * MIN;
	(void)s;

	guard_params_defaults(&p);
	guard_init(&g, &p);
	guard_record_spend(&g, APRIL - 6 * HOUR, APRIL - 10 * MIN, 900 * USD);
	in = at(now, 1000 * USD, 1000 * USD, 0);
	assert_true(guard_eval(&g, &p, &in, &a));
	assert_int_equal(g.breaker, BREAKER_OPEN);

	now = APRIL + MIN;
	in = at(now, 1000 * USD, 0, 0);
	in.month_start_ms = APRIL;
	in.month_end_ms = APRIL + 30 * DAY;
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, GUARD_STEPS, 0, BREAKER_OPEN, BREAKER_CLOSED,
		      UINT32_MAX);
	assert_string_equal(a.why, "new month: budget fresh");
	assert_int_equal(a.spent, 0);
	assert_int_equal(a.budget, 1000 * USD);
	assert_int_equal(a.projection, 0);
	assert_int_equal(g.month_start_ms, APRIL);

	now += MIN;
	in.now_ms = now;
	assert_false(guard_eval(&g, &p, &in, &a));
	assert_int_equal(g.projection, 0);

	/* unthrottled at the rollover: the new month is judged at once */
	guard_init(&g, &p);
	in = at(APRIL - MIN, 1000 * USD, 10 * USD, 0);
	assert_false(guard_eval(&g, &p, &in, &a));
	in = at(APRIL + MIN, 1000 * USD, 10 * USD, 100 * USD);
	in.month_start_ms = APRIL;
	in.month_end_ms = APRIL + 30 * DAY;
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 0, 1, BREAKER_CLOSED, BREAKER_CLOSED, 6);
}

/* No budget: the guard lets go, and stays off. */
static void test_no_budget(void **s)
{
	struct guard_params p;
	struct guard g;
	struct guard_action a;
	struct guard_input in;
	(void)s;

	guard_params_defaults(&p);
	guard_init(&g, &p);
	in = at(MID_MARCH, 1000 * USD, 500 * USD, 100 * USD);
	assert_true(guard_eval(&g, &p, &in, &a));
	in = at(MID_MARCH + MIN, 0, 500 * USD, 100 * USD);
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 1, 0, BREAKER_CLOSED, BREAKER_CLOSED, UINT32_MAX);
	assert_string_equal(a.why, "no budget: guard off");
	assert_int_equal(a.budget, 0);
	in = at(MID_MARCH + 2 * MIN, -5, 5000 * USD, 100 * USD);
	assert_false(guard_eval(&g, &p, &in, &a));
	assert_int_equal(guard_cap(&g), UINT32_MAX);
}

/* Extreme figures and times: saturated, never wrapped (UBSan watches). */
static void test_overflow_safety(void **s)
{
	struct guard_params p;
	struct guard g;
	struct guard_action a;
	struct guard_input in;
	(void)s;

	guard_params_defaults(&p);
	guard_init(&g, &p);
	for (int i = 0; i < 4; i++)
		guard_record_spend(&g, MID_MARCH - 1, MID_MARCH, INT64_MAX);
	assert_int_equal(kept(&g), INT64_MAX);
	/* spread over aeons: the ring keeps its last hours' sliver */
	guard_record_spend(&g, INT64_MIN, INT64_MAX, INT64_MAX);
	int64_t sliver = kept(&g);
	assert_true(sliver > 0 && sliver < INT64_MAX / 1000);
	guard_record_spend(&g, INT64_MAX, INT64_MIN, INT64_MAX); /* at MIN */
	guard_record_spend(&g, INT64_MIN, INT64_MIN, INT64_MAX);
	assert_int_equal(kept(&g), sliver);
	guard_record_spend(&g, INT64_MAX, INT64_MAX, INT64_MAX);
	assert_int_equal(kept(&g), INT64_MAX);
	assert_int_equal(guard_recent_spend(&g, INT64_MIN, INT64_MAX), 0);

	guard_init(&g, &p);
	guard_record_spend(&g, MID_MARCH - 1, MID_MARCH, INT64_MAX);
	in = at(MID_MARCH, INT64_MAX - 1, INT64_MAX - 2, INT64_MAX);
	assert_int_equal(guard_project(&g, &p, &in), INT64_MAX);
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 0, 1, BREAKER_CLOSED, BREAKER_CLOSED, 6);
	assert_int_equal(a.projection, INT64_MAX);
	assert_string_equal(a.why, "projected 9223372036854.775807 USD for the "
				   "month, over the 9223372036854.775806 USD "
				   "budget: concurrency 75% of 8");

	/* everything at its limits */
	p.interval_ms = INT64_MAX;
	p.window_ms = INT64_MAX;
	p.cooldown_ms = INT64_MAX;
	guard_init(&g, &p);
	guard_record_spend(&g, INT64_MIN, INT64_MAX, INT64_MAX);
	guard_record_spend(&g, INT64_MAX - 1, INT64_MAX, 1);
	in = at(INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX);
	in.month_start_ms = INT64_MIN;
	in.month_end_ms = INT64_MAX;
	in.max_running = UINT32_MAX;
	assert_true(guard_eval(&g, &p, &in, &a));
	expect_action(&a, 0, GUARD_STEPS, BREAKER_CLOSED, BREAKER_OPEN, 0);
	assert_int_equal(guard_next_due(&g, &p), INT64_MAX);
	assert_false(guard_eval(&g, &p, &in, &a));
	in.now_ms = INT64_MIN;
	assert_int_equal(guard_project(&g, &p, &in), INT64_MAX);

	/* a struct guard_init never saw: zeroed */
	memset(&g, 0, sizeof(g));
	guard_record_spend(&g, 0, INT64_MAX, INT64_MAX);
	guard_record_spend(&g, -1000, 1000, 7);
	assert_true(kept(&g) > 0);
	in = at(MID_MARCH, 1000 * USD, 0, 0);
	assert_false(guard_eval(&g, &p, &in, &a));
	g.level = 77;
	g.base_running = UINT32_MAX;
	assert_int_equal(guard_cap(&g), UINT32_MAX / 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_init),
		cmocka_unit_test(test_ring_advance_and_drop),
		cmocka_unit_test(test_record_conservation),
		cmocka_unit_test(test_projection),
		cmocka_unit_test(test_throttle_steps),
		cmocka_unit_test(test_base_from_running),
		cmocka_unit_test(test_open_at_budget),
		cmocka_unit_test(test_breaker_cycle),
		cmocka_unit_test(test_recovery_hysteresis),
		cmocka_unit_test(test_month_rollover),
		cmocka_unit_test(test_no_budget),
		cmocka_unit_test(test_overflow_safety),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
