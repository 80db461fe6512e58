/*
 * budget.h - cost control inside the pure scheduling core (issue 5):
 * estimates and reservations at admission, metering of every attempt,
 * monthly budgets in soft and hard mode, per-run budgets, the burn-rate
 * guard (guard.h) and the events that record what was decided and why.
 *
 * The policy calls these at its decision points (policy.c); like the policy
 * they do no I/O and read no clock: p->now_ms is the time. Money is integer
 * micro-USD; a month is a calendar month in UTC.
 *
 * The tenant's figures at a moment:
 *   spent     = this month's ended attempts + the running ones so far
 *   committed = the part of each live run's estimate not yet spent
 *   left      = budget - spent - committed
 * A hard-mode start whose estimate exceeds `left` is refused; queued runs
 * are held while spent >= budget (and, with cancel_running, live runs are
 * cancelled); a run whose own cost passes its job's run budget is
 * cancelled with reason budget_exceeded.
 */
#ifndef SP_BUDGET_H
#define SP_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

struct policy;
struct refusal;

/* A recorded decision: budget changes, warnings, refusals are counted (not
 * recorded one by one), cancellations, guard steps, breaker changes. */
#define COST_EVENT_TEXT 256
struct cost_event {
	char tenant[NAME_MAX_LEN];
	int64_t ms;
	uint64_t seq;        /* per scheduler life, orders events of one ms */
	char kind[24];       /* budget_set, soft_warning, cap_reached,
			      * run_budget_cancel, cap_cancel, guard,
			      * breaker, new_month */
	char text[COST_EVENT_TEXT]; /* one line with the figures */
};

struct budget_figures {
	int64_t month_start_ms, month_end_ms;
	int64_t spent, committed, left; /* left may be negative */
	int64_t accrued;                /* running attempts' part of spent */
	int64_t running_recent;         /* ... inside the guard's window */
	int64_t projection;             /* end of month at the recent rate */
};

/* [start, end) of the UTC calendar month holding ms. */
void budget_month_bounds(int64_t ms, int64_t *start, int64_t *end);

/* The maximum cost of one attempt of j: its resources for its timeout (or
 * default_hours when it has none) at its environment's prices. */
int64_t budget_estimate(const struct job *j, int64_t default_hours);

/* Admission: 0 and *est set, or -1 with why (hard budget too small). A
 * soft budget never refuses (it warns, see budget_tick). */
int budget_admit(struct policy *p, struct job *j, int64_t *est,
		 struct refusal *why);
/* The part of r's est_cost not yet spent is reserved against its tenant
 * (a new run, or a live one at start). */
void budget_reserve(struct policy *p, struct run *r);
/* May another of t's runs be dispatched now? No while t's hard budget is
 * reached or the guard's cap is full; *why says which (may be NULL). */
bool budget_may_dispatch(struct policy *p, struct tenant *t, char *why,
			 size_t len);
/* r (live: leased, submitted or running) starts or stops counting as live. */
void budget_live(struct policy *p, struct run *r, bool live);
/* r's current attempt ended now (r still in its attempt's state): meters
 * it into r, the day's roll-up, the month's spend and the guard; with x,
 * its executors as Spark reported them (else the job's declared ones). */
void budget_attempt_ended(struct policy *p, struct run *r,
			  const struct executor_usage *x);
/* r was loaded at start: a live run's reservation is made again, an ended
 * one's recent spend refills the guard's history. */
void budget_loaded(struct policy *p, struct run *r);
/* r goes back to the queue for another attempt: its reservation becomes
 * what it has cost so far plus one more attempt's estimate. */
void budget_next_attempt(struct policy *p, struct run *r);
/* r ended for good (terminal): releases what is left of its reservation
 * and counts it in the day's roll-up. */
void budget_run_ended(struct policy *p, struct run *r);
/* Time-driven work, at most once a second: month rollover, soft warnings,
 * cancellations at the cap and over run budgets, guard evaluations. */
void budget_tick(struct policy *p);
/* When budget_tick has work next (wall ms), INT64_MAX if never. */
int64_t budget_next_due(const struct policy *p);

/* t's figures now. */
void budget_figures(struct policy *p, struct tenant *t,
		    struct budget_figures *f);
/* Records a budget change made by an operator (tenant add/set). */
void budget_changed(struct policy *p, struct tenant *t, const char *what);

/* Drops tenant's events not yet taken (tenant delete: nothing of it may
 * be written after its records are deleted). */
void budget_drop_events(struct policy *p, const char *tenant);
/* Hands the events recorded since the last call to fn, oldest first. */
void budget_take_events(struct policy *p,
			void (*fn)(void *ctx, const struct cost_event *ev),
			void *ctx);
/* Keeps ev among t's recent events (for tenant show; loading too). */
void budget_remember(struct tenant *t, const struct cost_event *ev);

#endif
