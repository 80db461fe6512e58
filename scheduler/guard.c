/*
 * guard.c - the burn-rate guard and circuit breaker of one tenant (issue 5).
 *
 * Pure and deterministic: the caller passes every time and figure in; no
 * I/O, no clock, no allocation. Arithmetic never overflows on any input:
 * times are clamped to +-GUARD_TIME_LIMIT (millions of years either side
 * of the epoch), slot lengths to a range whose ring span fits in int64,
 * products of money and time are taken in __int128, and money sums
 * saturate at INT64_MAX.
 */
#include "guard.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"

/* slot_start_ms while the ring holds no spend yet: the first record
 * anchors the ring on its own time. */
#define GUARD_NO_HISTORY INT64_MIN
/* Times beyond this are clamped: it leaves room in int64 for the ring's
 * span and for differences of any two clamped times. */
#define GUARD_TIME_LIMIT (INT64_MAX / 4)
#define GUARD_SLOT_MAX (INT64_MAX / (4 * GUARD_SLOTS))
/* The oldest a ring anchored on -GUARD_TIME_LIMIT can start. */
#define GUARD_RING_MIN (-GUARD_TIME_LIMIT - GUARD_SLOTS * GUARD_SLOT_MAX)

typedef __int128 wide;

static int64_t clamp_wide(wide v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : (int64_t)v;
}

static int64_t clamp_time(int64_t t)
{
	return clamp_wide(t, -GUARD_TIME_LIMIT, GUARD_TIME_LIMIT);
}

static int64_t add_money(int64_t a, int64_t b)
{
	return clamp_wide((wide)a + b, 0, INT64_MAX);
}

/* Rounds down, also for negative times. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* The slot length in use, safe even for a struct guard_init never saw. */
static int64_t slot_len(const struct guard *g)
{
	return clamp_wide(g->slot_ms, 1, GUARD_SLOT_MAX);
}

static int64_t *slot_at(struct guard *g, int64_t k)
{
	return &g->slots[(g->slot_head % GUARD_SLOTS + k) % GUARD_SLOTS];
}

/* slot_start_ms within the range arithmetic on it is safe for. */
static int64_t ring_start(const struct guard *g)
{
	return clamp_wide(g->slot_start_ms, GUARD_RING_MIN, GUARD_TIME_LIMIT);
}

void guard_params_defaults(struct guard_params *p)
{
	p->interval_ms = 60 * 1000;
	p->window_ms = 6 * 3600 * 1000LL;
	p->cooldown_ms = 15 * 60 * 1000;
}

const char *breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED:
		return "closed";
	case BREAKER_OPEN:
		return "open";
	case BREAKER_HALF_OPEN:
		return "half_open";
	}
	return "unknown";
}

void guard_init(struct guard *g, const struct guard_params *p)
{
	memset(g, 0, sizeof(*g));
	g->breaker = BREAKER_CLOSED;
	g->slot_ms = clamp_wide(p->window_ms / GUARD_SLOTS, 1, GUARD_SLOT_MAX);
	g->slot_start_ms = GUARD_NO_HISTORY;
}

/* Moves the ring forward so that LAST falls in its newest slot: the slots
 * that fall out are zeroed and reused. Never moves it back. */
static void ring_advance(struct guard *g, int64_t last)
{
	int64_t slot = slot_len(g);
	int64_t newest = g->slot_start_ms + (GUARD_SLOTS - 1) * slot;
	int64_t n;

	if (last < newest + slot)
		return;
	n = (last - newest) / slot;
	g->slot_start_ms += n * slot;
	if (n >= GUARD_SLOTS) {
		memset(g->slots, 0, sizeof(g->slots));
		g->slot_head = 0;
		return;
	}
	for (int64_t i = 0; i < n; i++) {
		*slot_at(g, 0) = 0;
		g->slot_head = (g->slot_head % GUARD_SLOTS + 1) % GUARD_SLOTS;
	}
}

/* cost * part / whole rounded down; part <= whole, whole > 0. Successive
 * differences of this over a growing part add up to exactly cost. */
static int64_t share(int64_t cost, int64_t part, int64_t whole)
{
	return (int64_t)((wide)cost * part / whole);
}

void guard_record_spend(struct guard *g, int64_t from_ms, int64_t to_ms,
			int64_t cost)
{
	int64_t slot = slot_len(g), from, to, last, start, lo, dur, done, k;

	if (cost <= 0)
		return;
	to = clamp_time(to_ms);
	from = min64(clamp_time(from_ms), to);
	last = from == to ? to : to - 1; /* the last ms the spend covers */
	if (g->slot_start_ms == GUARD_NO_HISTORY) {
		/* aligned on multiples of slot_ms, so that every guard with
		 * the same window slices time alike */
		g->slot_start_ms =
			(floor_div(last, slot) - (GUARD_SLOTS - 1)) * slot;
		g->slot_head = 0;
	} else {
		g->slot_start_ms = ring_start(g);
		ring_advance(g, last);
	}
	start = g->slot_start_ms;
	if (last < start)
		return; /* all of it older than the history kept */
	if (from == to) {
		*slot_at(g, (to - start) / slot) =
			add_money(*slot_at(g, (to - start) / slot), cost);
		return;
	}
	/* Each slot gets the growth of the rounded-down cumulative share, so
	 * the parts differ from the exact pro rata by under 1 micro-USD and
	 * add up to cost with the part before start, which is dropped. */
	dur = to - from;
	lo = max64(from, start);
	done = share(cost, lo - from, dur);
	for (k = (lo - start) / slot; lo < to; k++) {
		int64_t end = min64(start + (k + 1) * slot, to);
		int64_t upto = share(cost, end - from, dur);
		*slot_at(g, k) = add_money(*slot_at(g, k), upto - done);
		done = upto;
		lo = end;
	}
}

/* Slots count whole, except the one holding now - window: it counts in
 * proportion to its part after now - window, its spend taken as spread
 * evenly over its time before now. Slots starting at or after now do not
 * count. */
int64_t guard_recent_spend(const struct guard *g, int64_t now_ms,
			   int64_t window_ms)
{
	int64_t slot = slot_len(g), start, now, lo, sum = 0;

	if (g->slot_start_ms == GUARD_NO_HISTORY)
		return 0;
	/* now may pass the last time a record can hold, and the window reach
	 * back to the oldest start a ring can have: the whole ring can be
	 * summed */
	start = ring_start(g);
	now = clamp_wide(now_ms, -GUARD_TIME_LIMIT, GUARD_TIME_LIMIT + 1);
	lo = now - clamp_wide(window_ms, 0, 3 * GUARD_TIME_LIMIT);
	for (int64_t k = 0; k < GUARD_SLOTS; k++) {
		int64_t a = start + k * slot, end = min64(a + slot, now);
		int64_t v = g->slots[(g->slot_head % GUARD_SLOTS + k) %
				     GUARD_SLOTS];
		if (a >= now)
			break;
		if (end <= lo || v <= 0)
			continue;
		if (a < lo)
			v = share(v, end - lo, end - a);
		sum = add_money(sum, v);
	}
	return sum;
}

int64_t guard_project(const struct guard *g, const struct guard_params *p,
		      const struct guard_input *in)
{
	int64_t now = clamp_time(in->now_ms);
	int64_t month_start = clamp_time(in->month_start_ms);
	int64_t month_end = clamp_time(in->month_end_ms);
	int64_t window = clamp_wide(p->window_ms, 0, 2 * GUARD_TIME_LIMIT);
	int64_t spent = max64(in->spent, 0), lo, elapsed, recent;
	wide projection;

	if (now >= month_end)
		return spent;
	/* the rate is measured over this month's part of the window only:
	 * last month's spend says nothing of this month's budget */
	lo = max64(month_start, now - window);
	elapsed = max64(max64(now - lo, p->interval_ms), 1);
	recent = add_money(guard_recent_spend(g, now, max64(now - lo, 0)),
			   max64(in->running_recent, 0));
	projection = (wide)spent + (wide)recent * (month_end - now) / elapsed;
	return clamp_wide(projection, 0, INT64_MAX);
}

uint32_t guard_cap(const struct guard *g)
{
	uint64_t level = g->level > GUARD_STEPS ? GUARD_STEPS : g->level;
	uint64_t cap;

	if (g->breaker == BREAKER_OPEN)
		return 0;
	if (g->breaker == BREAKER_HALF_OPEN)
		return 1;
	if (level == 0)
		return UINT32_MAX;
	cap = (uint64_t)g->base_running * (GUARD_STEPS + 1 - level) /
	      (GUARD_STEPS + 1);
	return cap < 1 ? 1 : (uint32_t)cap;
}

/* guard_eval keeps next_eval_ms on the next interval, or on the end of
 * the cooldown when that comes first while open: it is the whole answer. */
int64_t guard_next_due(const struct guard *g, const struct guard_params *p)
{
	(void)p;
	return g->next_eval_ms;
}

/* The level's share of the base, for the record. */
static void describe_cap(const struct guard *g, char *buf, size_t len)
{
	if (g->level == 0)
		snprintf(buf, len, "concurrency unthrottled");
	else
		snprintf(buf, len, "concurrency %u%% of %u",
			 (GUARD_STEPS + 1 - g->level) * 100 / (GUARD_STEPS + 1),
			 g->base_running);
}

/* The concurrency the steps scale: the tenant's own cap when it has one,
 * else what it runs now (at least one). */
static uint32_t take_base(const struct guard_input *in)
{
	if (in->max_running)
		return in->max_running;
	return in->running ? in->running : 1;
}

/* While open, the end of the cooldown is due even inside an interval, so
 * that half-open comes on time. */
static void keep_cooldown(struct guard *g, const struct guard_params *p)
{
	wide end = (wide)g->breaker_since_ms + max64(p->cooldown_ms, 0);

	if (g->breaker == BREAKER_OPEN && end < g->next_eval_ms)
		g->next_eval_ms = (int64_t)end;
}

static void set_breaker(struct guard *g, enum breaker_state s, int64_t now)
{
	g->breaker = s;
	g->breaker_since_ms = now;
}

/* Back to closed at level 0; true when that is a change. */
static bool guard_reset(struct guard *g, int64_t now)
{
	if (g->level == 0 && g->breaker == BREAKER_CLOSED)
		return false;
	g->level = 0;
	set_breaker(g, BREAKER_CLOSED, now);
	return true;
}

/* The figures an evaluation quotes, in dollars. */
struct figures {
	char spent[32], budget[32], proj[32], cap[48];
};

static void figures_of(struct figures *f, const struct guard *g,
		       const struct guard_input *in)
{
	format_usd(in->spent, f->spent, sizeof(f->spent));
	format_usd(in->budget, f->budget, sizeof(f->budget));
	format_usd(g->projection, f->proj, sizeof(f->proj));
}

/* The breaker open or half-open: its own transitions. */
static bool eval_breaker(struct guard *g, const struct guard_params *p,
			 const struct guard_input *in, char *why, size_t len)
{
	struct figures f;
	int64_t now = in->now_ms;

	figures_of(&f, g, in);
	if (g->breaker == BREAKER_OPEN) {
		if ((wide)now - g->breaker_since_ms < p->cooldown_ms)
			return false;
		set_breaker(g, BREAKER_HALF_OPEN, now);
		snprintf(why, len,
			 "cooldown of %lld s over: half-open, one run at a "
			 "time",
			 (long long)(p->cooldown_ms / 1000));
		return true;
	}
	if (in->spent < in->budget && g->projection <= in->budget) {
		/* the level stays: concurrency comes back one step per
		 * evaluation, like any other recovery */
		set_breaker(g, BREAKER_CLOSED, now);
		describe_cap(g, f.cap, sizeof(f.cap));
		snprintf(why, len,
			 "projected %s USD for the month, within the %s USD "
			 "budget: breaker closed, %s",
			 f.proj, f.budget, f.cap);
		return true;
	}
	set_breaker(g, BREAKER_OPEN, now);
	if (in->spent >= in->budget)
		snprintf(why, len,
			 "spend %s USD reached the %s USD budget: breaker "
			 "open again",
			 f.spent, f.budget);
	else
		snprintf(why, len,
			 "projected %s USD for the month, still over the %s "
			 "USD budget: breaker open again",
			 f.proj, f.budget);
	return true;
}

/* The breaker closed: step the level, or open it. */
static bool eval_closed(struct guard *g, const struct guard_input *in,
			char *why, size_t len)
{
	struct figures f;
	wide recover = (wide)in->budget * GUARD_RECOVER_PCT / 100;

	figures_of(&f, g, in);
	if (in->spent >= in->budget) {
		if (g->level == 0)
			g->base_running = take_base(in);
		g->level = GUARD_STEPS;
		set_breaker(g, BREAKER_OPEN, in->now_ms);
		snprintf(why, len,
			 "spend %s USD reached the %s USD budget: breaker open",
			 f.spent, f.budget);
		return true;
	}
	if (g->projection > in->budget) {
		if (g->level >= GUARD_STEPS) {
			set_breaker(g, BREAKER_OPEN, in->now_ms);
			snprintf(why, len,
				 "projected %s USD for the month, over the %s "
				 "USD budget at the last step: breaker open",
				 f.proj, f.budget);
			return true;
		}
		if (g->level == 0)
			g->base_running = take_base(in);
		g->level++;
		describe_cap(g, f.cap, sizeof(f.cap));
		snprintf(why, len,
			 "projected %s USD for the month, over the %s USD "
			 "budget: %s",
			 f.proj, f.budget, f.cap);
		return true;
	}
	if (g->level > 0 && g->projection <= recover) {
		g->level--;
		describe_cap(g, f.cap, sizeof(f.cap));
		snprintf(why, len,
			 "projected %s USD for the month, under %d%% of the %s "
			 "USD budget: %s",
			 f.proj, GUARD_RECOVER_PCT, f.budget, f.cap);
		return true;
	}
	return false;
}

/* One evaluation's change, if any: a new month or no budget resets the
 * guard (one change per evaluation: a reset is recorded alone, the month
 * is judged afresh at the next one), else the breaker's state decides. */
static bool eval_step(struct guard *g, const struct guard_params *p,
		      const struct guard_input *in, char *why, size_t len)
{
	if (in->month_start_ms != g->month_start_ms) {
		g->month_start_ms = in->month_start_ms;
		if (guard_reset(g, in->now_ms)) {
			snprintf(why, len, "new month: budget fresh");
			return true;
		}
	}
	if (in->budget <= 0) {
		if (!guard_reset(g, in->now_ms))
			return false;
		snprintf(why, len, "no budget: guard off");
		return true;
	}
	if (g->breaker == BREAKER_CLOSED)
		return eval_closed(g, in, why, len);
	return eval_breaker(g, p, in, why, len);
}

bool guard_eval(struct guard *g, const struct guard_params *p,
		const struct guard_input *in, struct guard_action *act)
{
	char why[sizeof(act->why)] = "";
	uint32_t level_from;
	enum breaker_state breaker_from;
	int64_t now = in->now_ms;
	bool changed;

	if (now < g->next_eval_ms)
		return false;
	g->next_eval_ms = clamp_wide((wide)now + max64(p->interval_ms, 0),
				     INT64_MIN, INT64_MAX);
	if (g->level > GUARD_STEPS)
		g->level = GUARD_STEPS;
	level_from = g->level;
	breaker_from = g->breaker;
	g->projection = guard_project(g, p, in);
	changed = eval_step(g, p, in, why, sizeof(why));
	keep_cooldown(g, p);
	if (!changed || !act)
		return changed;
	act->level_from = level_from;
	act->level_to = g->level;
	act->breaker_from = breaker_from;
	act->breaker_to = g->breaker;
	act->projection = g->projection;
	act->spent = in->spent;
	act->budget = in->budget;
	act->cap = guard_cap(g);
	memcpy(act->why, why, sizeof(why));
	return true;
}
