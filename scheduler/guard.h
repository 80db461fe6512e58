/*
 * guard.h - the burn-rate guard and circuit breaker of one tenant (issue
 * 5). Pure: no I/O, no clock of its own, no allocation; the caller (the
 * scheduling core) passes the time and the tenant's figures in.
 *
 * From the tenant's recent spend it projects the month's total; while the
 * projection is over the budget it lowers the tenant's dispatch
 * concurrency one step per evaluation (before the cap is reached), and
 * raises it again one step per evaluation once the projection is back under
 * GUARD_RECOVER_PCT of the budget. A circuit breaker sits on top:
 *   closed    - dispatch under the step's cap;
 *   open      - no dispatch: the month's spend reached the budget, or the
 *               projection stayed over it at the last step for a whole
 *               interval; after cooldown_ms it becomes
 *   half-open - one run at a time; at the next evaluation it closes if the
 *               spend is under the budget and the projection recovered,
 *               else it opens again for another cooldown.
 * A new month (month_start_ms changes) closes the breaker and clears the
 * steps: the budget is fresh; the next evaluations throttle again if the
 * rate still projects over it.
 *
 * Money is integer micro-USD; times are int64 ms since the epoch. Any
 * input is safe: times are clamped to +-INT64_MAX / 4, money products are
 * taken in 128 bits, sums saturate at INT64_MAX.
 */
#ifndef SP_GUARD_H
#define SP_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#define GUARD_STEPS 3          /* caps of 75 %, 50 %, 25 % of the base */
#define GUARD_RECOVER_PCT 90   /* step back up under 90 % of the budget */
#define GUARD_SLOTS 96         /* spend history buckets */

struct guard_params {
	int64_t interval_ms; /* evaluate at most this often (default 60 s) */
	int64_t window_ms;   /* recent spend measured over this (default 6 h),
			      * at most GUARD_SLOTS slots of window/GUARD_SLOTS */
	int64_t cooldown_ms; /* open -> half-open after this (default 15 min) */
};

void guard_params_defaults(struct guard_params *p);

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

const char *breaker_state_name(enum breaker_state s);

struct guard {
	uint32_t level;            /* 0 = no throttle, 1..GUARD_STEPS */
	enum breaker_state breaker;
	int64_t breaker_since_ms;  /* when breaker last changed */
	int64_t next_eval_ms;      /* 0 = evaluate at the next call */
	int64_t month_start_ms;    /* the month the state is about */
	uint32_t base_running;     /* the concurrency the steps scale */
	int64_t projection;        /* last projected month total, micro-USD */
	/* spend history: slot i holds spend in
	 * [slot_start_ms + i * slot_ms, + slot_ms), a ring */
	int64_t slot_ms;
	int64_t slot_start_ms;     /* start of the oldest slot kept, a
				    * multiple of slot_ms; INT64_MIN before
				    * the first record */
	uint32_t slot_head;        /* ring index of the oldest slot */
	int64_t slots[GUARD_SLOTS];
};

/* A guard with no history, closed, at level 0. */
void guard_init(struct guard *g, const struct guard_params *p);

/* Records COST micro-USD spent evenly over [from_ms, to_ms) (an attempt
 * that ran that long; from == to, or from > to, puts it all at to_ms).
 * Parts older than the window are dropped; parts after the newest slot
 * advance the ring. Each slot gets the growth of the rounded-down
 * cumulative share, so the parts kept and dropped add up to exactly COST.
 * COST <= 0 records nothing. */
void guard_record_spend(struct guard *g, int64_t from_ms, int64_t to_ms,
			int64_t cost);
/* Spend recorded in [now_ms - window_ms, now_ms): slots count whole,
 * except the one holding now - window_ms, which counts for its share after
 * it (its spend taken as even over its time before now); slots starting at
 * or after now_ms do not count. */
int64_t guard_recent_spend(const struct guard *g, int64_t now_ms,
			   int64_t window_ms);

struct guard_input {
	int64_t now_ms;
	int64_t month_start_ms, month_end_ms; /* this month, [start, end) */
	int64_t budget;          /* micro-USD, > 0 (no budget: no guard) */
	int64_t spent;           /* this month so far, running runs' accrual
				  * included */
	int64_t running_recent;  /* running runs' accrual inside the window
				  * (not yet recorded in the history) */
	uint32_t running;        /* the tenant's runs leased or running */
	uint32_t max_running;    /* the tenant's own cap, 0 = none */
};

/* What an evaluation changed, with the figures behind it, for the record. */
struct guard_action {
	uint32_t level_from, level_to;
	enum breaker_state breaker_from, breaker_to;
	int64_t projection, spent, budget;
	uint32_t cap;            /* guard_cap() after the change */
	char why[160];           /* one line, e.g. "projected 1250.40 USD
				  * for the month, over the 1000.00 USD
				  * budget: concurrency 75% of 8" */
};

/* The month's projected total: spent + rate * (month_end - now), where the
 * rate is (history + running_recent) over the part of the window inside
 * this month (at least one interval). */
int64_t guard_project(const struct guard *g, const struct guard_params *p,
		      const struct guard_input *in);

/* Evaluates when due (now >= next_eval_ms): returns true and fills *act
 * (may be NULL) when the level or the breaker changed; false otherwise
 * (not due, or nothing to change), *act untouched. A new month or no
 * budget (<= 0) resets to closed at level 0, as the evaluation's only
 * change. The next evaluation is due an interval later, or at the end of
 * the cooldown while open if that comes first. */
bool guard_eval(struct guard *g, const struct guard_params *p,
		const struct guard_input *in, struct guard_action *act);

/* How many of the tenant's runs may be leased or running at once under
 * the guard: UINT32_MAX for no limit (closed, level 0), 0 while open, 1
 * half-open, else max(1, base_running * (4 - level) / 4). */
uint32_t guard_cap(const struct guard *g);

/* The monotonic wake-up is the caller's: the next time guard_eval has work
 * (next_eval_ms, which guard_eval keeps at the end of a cooldown while
 * open; 0 before the first evaluation). Never INT64_MAX in practice: the
 * rate is watched every interval. */
int64_t guard_next_due(const struct guard *g, const struct guard_params *p);

#endif
