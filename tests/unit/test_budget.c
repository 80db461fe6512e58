/* test_budget.c - cost control in the scheduling core under a fake clock:
 * hard-cap refusals, soft warnings, run budgets, holding and cancelling at
 * the cap, the burn-rate guard's steps and recovery, month rollover, starts
 * racing the cap, an attempt billed past its estimate until its lost lease
 * expires, and day roll-ups that add up to the run records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "policy.h"
#include "policy_rebuild.h"
#include "util.h"

#define USD 1000000LL
#define MIN 60000LL
#define HOUR 3600000LL
/* 2026-11-10T00:00:00Z */
#define T0 1794268800000LL
/* 2026-12-01T00:00:00Z */
#define DEC1 1796083200000LL

struct fx {
	struct sched_state st;
	struct policy p;
	struct policy_limits lim;
	struct tenant *t, *u;
	struct env *e, *ue;
	struct job *j, *cheap, *uj;
	struct agent *a, *b;
};

static struct job *add_job(struct fx *f, struct env *e, const char *name,
			   uint32_t executors, uint32_t timeout_s)
{
	struct job *j = xcalloc(1, sizeof(*j));
	snprintf(j->key, sizeof(j->key), "%s/%s", e->key, name);
	snprintf(j->tenant, sizeof(j->tenant), "%s", e->tenant);
	snprintf(j->env, sizeof(j->env), "%s", e->key);
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->max_attempts = 3;
	j->driver_cores = 1;
	j->executors = executors;
	j->executor_cores = 1;
	j->timeout_s = timeout_s;
	state_add_job(&f->st, j);
	return j;
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	const char *names[2] = { "acme", "other" };
	struct tenant *ts[2];
	struct env *es[2];

	state_init(&f->st);
	for (int i = 0; i < 2; i++) {
		ts[i] = xcalloc(1, sizeof(*ts[i]));
		snprintf(ts[i]->name, sizeof(ts[i]->name), "%s", names[i]);
		ts[i]->weight = 1;
		state_add_tenant(&f->st, ts[i]);
		es[i] = xcalloc(1, sizeof(*es[i]));
		snprintf(es[i]->key, sizeof(es[i]->key), "%s/prod", names[i]);
		snprintf(es[i]->tenant, sizeof(es[i]->tenant), "%s", names[i]);
		snprintf(es[i]->name, sizeof(es[i]->name), "prod");
		es[i]->state = ENV_READY;
		es[i]->price_vcpu_hour = 1 * USD; /* $1 per vCPU-hour */
		state_add_env(&f->st, es[i]);
	}
	f->t = ts[0];
	f->u = ts[1];
	f->e = es[0];
	f->ue = es[1];
	/* driver + 1 executor of 1 core: $2 an hour; timeout 1 h: est $2 */
	f->j = add_job(f, f->e, "etl", 1, 3600);
	/* the driver alone, no timeout: $1 an hour, estimated for 1 h */
	f->cheap = add_job(f, f->e, "small", 0, 0);
	f->uj = add_job(f, f->ue, "etl", 1, 3600);
	for (int i = 0; i < 2; i++) {
		struct agent *a = xcalloc(1, sizeof(*a));
		snprintf(a->id, sizeof(a->id), "ag-%d", i);
		snprintf(a->env, sizeof(a->env), "%s", es[i]->key);
		a->state = AGENT_ACTIVE;
		a->preflight_ok = true;
		a->slots = 64;
		state_add_agent(&f->st, a);
		if (i == 0)
			f->a = a;
		else
			f->b = a;
	}
	policy_limits_defaults(&f->lim);
	f->lim.lease_ttl_ms = 24 * HOUR; /* no lease expires in these tests */
	policy_init(&f->p, &f->st, &f->lim, T0, 1000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	policy_release(&f->p);
	state_release(&f->st);
	free(f);
	return 0;
}

static void advance(struct fx *f, int64_t ms)
{
	policy_set_clock(&f->p, f->p.now_ms + ms, f->p.now_mono + ms);
	policy_heard(&f->p, f->a);
	policy_heard(&f->p, f->b);
	policy_tick(&f->p);
}

static struct run *start(struct fx *f, struct job *j)
{
	struct run *r = NULL;
	struct refusal why;
	if (policy_submit(&f->p, j, 0, NULL, &r, &why) < 0)
		fail_msg("refused: %s", why.message);
	return r;
}

/* Leases up to n runs to ag and reports them running. */
static size_t run_some(struct fx *f, struct agent *ag, size_t n)
{
	struct run *out[64];
	size_t got = policy_lease(&f->p, ag, n, out);
	for (size_t i = 0; i < got; i++)
		assert_int_equal(policy_progress(&f->p, out[i], RUN_RUNNING, NULL),
				 0);
	return got;
}

static void finish(struct fx *f, struct run *r, enum run_state result,
		   const char *reason)
{
	struct completion c = { .result = result, .exit_code = 0,
				.reason = reason };
	assert_int_equal(policy_complete(&f->p, r, &c), 0);
}

static bool has_event(struct fx *f, const char *kind, const char *text)
{
	const struct cost_event_ring *ring = &f->t->recent;
	for (uint32_t i = 0; i < ring->n; i++) {
		const struct cost_event_rec *ev = &ring->ev[(ring->head + i) % 8];
		if (!strcmp(ev->kind, kind) && (!text || strstr(ev->text, text)))
			return true;
	}
	return false;
}

static void set_budget(struct fx *f, int64_t usd_micro, enum budget_mode m)
{
	f->t->monthly_budget = usd_micro;
	f->t->budget_mode = m;
	budget_changed(&f->p, f->t, "test");
}

/* A hard budget refuses the start that does not fit, quoting budget, spent
 * and committed; another tenant is not affected; what ends frees room. */
static void test_hard_cap_refusal(void **state)
{
	struct fx *f = *state;
	struct run *r1, *r = NULL;
	struct refusal why;

	set_budget(f, 5 * USD, BUDGET_HARD);
	r1 = start(f, f->j);
	assert_int_equal(r1->est_cost, 2 * USD);
	start(f, f->j);
	assert_int_equal(policy_submit(&f->p, f->j, 0, NULL, &r, &why), -1);
	assert_string_equal(why.code, "budget_exceeded");
	assert_non_null(strstr(why.message, "estimated cost 2.00 USD does not fit "
					    "in budget 5.00 - spent 0.00 - "
					    "committed 4.00 = 1.00 USD left"));
	assert_int_equal(why.retry_after_ms, DEC1 - T0);
	assert_int_equal(f->t->budget_refused, 1);
	start(f, f->uj); /* no budget for the other tenant */
	start(f, f->uj);
	start(f, f->uj);

	/* run 1 costs $1 (30 minutes): spent 1, committed 2 -> 2 left */
	assert_int_equal(run_some(f, f->a, 1), 1);
	advance(f, 30 * MIN);
	finish(f, r1, RUN_SUCCEEDED, "ok");
	assert_int_equal(run_detail(r1)->cost, 1 * USD);
	assert_int_equal(run_detail(r1)->vcpu_ms, 2 * 30 * MIN);
	struct budget_figures fig;
	budget_figures(&f->p, f->t, &fig);
	assert_int_equal(fig.spent, 1 * USD);
	assert_int_equal(fig.committed, 2 * USD);
	assert_int_equal(fig.left, 2 * USD);
	start(f, f->j);
	assert_int_equal(policy_submit(&f->p, f->j, 0, NULL, &r, &why), -1);
}

/* A soft budget never refuses or holds: it warns once when the month's
 * spend reaches it, with the figures, and flags the tenant. */
static void test_soft_warning(void **state)
{
	struct fx *f = *state;

	set_budget(f, 1 * USD, BUDGET_SOFT);
	start(f, f->j);
	start(f, f->j);
	assert_int_equal(run_some(f, f->a, 1), 1);
	advance(f, 29 * MIN); /* $0.9667 so far */
	assert_false(f->t->over_budget);
	advance(f, 2 * MIN);  /* $1.0333 */
	assert_true(f->t->over_budget);
	assert_int_equal(f->t->budget_warnings, 1);
	assert_true(has_event(f, "soft_warning", "spent 1.03"));
	assert_true(has_event(f, "soft_warning", "of its 1.00 USD soft budget"));
	advance(f, 10 * MIN); /* warned once a month, not at every tick */
	assert_int_equal(f->t->budget_warnings, 1);
	start(f, f->j);                       /* still admitted */
	assert_int_equal(run_some(f, f->a, 2), 2); /* and dispatched */
	assert_int_equal(f->t->budget_refused, 0);
}

/* A run whose cost passes its job's run budget is cancelled with reason
 * budget_exceeded, and keeps that reason when its agent reports the end. */
static void test_run_budget_cancel(void **state)
{
	struct fx *f = *state;
	struct run *r;

	f->j->run_budget = USD / 2; /* $0.50: 15 minutes at $2/h */
	r = start(f, f->j);
	assert_int_equal(run_some(f, f->a, 1), 1);
	advance(f, 14 * MIN);
	assert_false(r->cancel_requested);
	advance(f, 2 * MIN);
	assert_true(r->cancel_requested);
	assert_string_equal(run_detail(r)->failure_class, "budget_exceeded");
	assert_non_null(strstr(run_detail(r)->reason,
			       "budget_exceeded: its cost 0.53"));
	assert_true(has_event(f, "run_budget_cancel", "run budget of 0.50 USD"));
	advance(f, 1000);
	finish(f, r, RUN_CANCELLED, "cancelled by the scheduler");
	assert_int_equal(r->state, RUN_CANCELLED);
	assert_non_null(strstr(run_detail(r)->reason, "budget_exceeded"));
	assert_int_equal(run_detail(r)->cost,
			 2 * USD * (16 * MIN + 1000) / HOUR);
	assert_int_equal(f->t->budget_cancelled, 1);
}

/* At the hard cap: queued runs are held (and say why), live ones are
 * cancelled with --cancel-running. */
static void test_hold_and_cancel_at_cap(void **state)
{
	struct fx *f = *state;
	struct run *big, *small, *out[4];
	char why[256];

	set_budget(f, 3 * USD, BUDGET_HARD);
	f->t->cancel_running = true;
	/* the burn-rate guard would act first; it has a test of its own */
	f->t->guard.next_eval_ms = INT64_MAX;
	big = start(f, f->cheap);   /* no timeout: estimated $1, may run on */
	small = start(f, f->j);     /* $2 */
	assert_int_equal(policy_lease(&f->p, f->a, 1, out), 1);
	assert_ptr_equal(out[0], big);
	policy_progress(&f->p, big, RUN_RUNNING, NULL);
	advance(f, 2 * HOUR);       /* big alone has cost $2: spent 2 < 3 */
	assert_true(budget_may_dispatch(&f->p, f->t, why, sizeof(why)) == false);
	/* spent 2 + committed 2 (small) > 3: the reservations hold it */
	if (!strstr(why, "reservations exceed its hard budget"))
		fail_msg("%s", why);
	advance(f, HOUR + 1000);    /* $3.0006: the cap */
	assert_true(f->t->over_budget);
	assert_true(has_event(f, "cap_reached", "queued runs are held"));
	assert_true(big->cancel_requested);
	assert_non_null(strstr(run_detail(big)->reason,
			       "budget_exceeded: tenant acme spent 3.00"));
	assert_true(has_event(f, "cap_cancel", "cancelled 1 running runs"));
	assert_int_equal(policy_lease(&f->p, f->a, 4, out), 0);
	assert_false(budget_may_dispatch(&f->p, f->t, why, sizeof(why)));
	assert_non_null(strstr(why, "reached its hard budget: spent 3.00"));
	assert_int_equal(small->state, RUN_QUEUED);
	/* the other tenant is not held */
	start(f, f->uj);
	assert_int_equal(run_some(f, f->b, 1), 1);
}

/* The guard lowers the tenant's concurrency one step per interval while
 * the month's projection is over the budget, and raises it one step per
 * interval once the projection is back under 90 %. */
static void test_guard_steps_and_recovery(void **state)
{
	struct fx *f = *state;
	struct run *out[64];
	uint32_t caps[3];

	f->t->max_running = 8;
	set_budget(f, 1000 * USD, BUDGET_HARD);
	for (int i = 0; i < 8; i++)
		start(f, f->cheap); /* $1/h each, estimated $1 */
	assert_int_equal(run_some(f, f->a, 8), 8);
	/* $8/h for the 20 days left of November projects over $1000 once
	 * the 6-hour window has seen enough of it (at about 2 hours) */
	for (int i = 0; i < 240 && !f->t->guard.level; i++)
		advance(f, f->lim.guard.interval_ms);
	assert_int_equal(f->t->guard.level, 1);
	assert_true(f->p.now_ms - T0 > HOUR && f->p.now_ms - T0 < 3 * HOUR);
	caps[0] = guard_cap(&f->t->guard);
	for (int i = 1; i < 3; i++) {
		advance(f, f->lim.guard.interval_ms);
		caps[i] = guard_cap(&f->t->guard);
	}
	assert_int_equal(caps[0], 6);
	assert_int_equal(caps[1], 4);
	assert_int_equal(caps[2], 2);
	assert_true(has_event(f, "guard", "concurrency 25% of 8"));
	assert_true(f->t->guard.projection > 1000 * USD);
	/* the guard's cap holds new dispatches (8 still run: none is evicted) */
	start(f, f->cheap);
	assert_int_equal(policy_lease(&f->p, f->a, 4, out), 0);
	/* a bigger budget: the projection recovers, one step per interval */
	set_budget(f, 100000 * USD, BUDGET_HARD);
	advance(f, f->lim.guard.interval_ms);
	assert_int_equal(f->t->guard.level, 2);
	advance(f, f->lim.guard.interval_ms);
	assert_int_equal(f->t->guard.level, 1);
	advance(f, f->lim.guard.interval_ms);
	assert_int_equal(f->t->guard.level, 0);
	assert_int_equal(guard_cap(&f->t->guard), UINT32_MAX);
	assert_true(has_event(f, "guard", "unthrottled"));
	assert_int_equal(policy_lease(&f->p, f->a, 4, out), 0); /* max 8 */
}

/* A new month starts with nothing spent: the cap reached in November no
 * longer holds runs on December 1st, and the guard starts over. */
static void test_month_rollover(void **state)
{
	struct fx *f = *state;
	struct run *r, *q, *out[4];

	set_budget(f, 4 * USD, BUDGET_HARD);
	r = start(f, f->cheap);
	q = start(f, f->cheap);
	assert_int_equal(policy_lease(&f->p, f->a, 1, out), 1);
	policy_progress(&f->p, r, RUN_RUNNING, NULL);
	/* to 30 minutes before December: r runs over its estimate */
	advance(f, DEC1 - 30 * MIN - f->p.now_ms);
	finish(f, r, RUN_SUCCEEDED, "ok");
	assert_true(run_detail(r)->cost > 4 * USD);
	advance(f, 1000);
	assert_true(f->t->over_budget);
	assert_false(budget_may_dispatch(&f->p, f->t, NULL, 0));
	assert_int_equal(f->t->guard.breaker, BREAKER_OPEN);
	assert_int_equal(policy_lease(&f->p, f->a, 4, out), 0);
	advance(f, 31 * MIN); /* 2026-12-01T00:01 */
	assert_true(has_event(f, "new_month", "spent 0.00 of the 4.00 USD"));
	assert_false(f->t->over_budget);
	assert_int_equal(f->t->month_start_ms, DEC1);
	assert_int_equal(f->t->month_spent, 0);
	assert_int_equal(f->t->guard.breaker, BREAKER_CLOSED);
	assert_int_equal(policy_lease(&f->p, f->a, 4, out), 1);
	assert_ptr_equal(out[0], q);
}

/* An attempt that ends in a new month's first instant, before a tick has
 * seen the month turn, counts once in the new month's spend (its day
 * roll-up already holds it when the month's spend is read from them). */
static void test_attempt_ends_as_month_turns(void **state)
{
	struct fx *f = *state;
	struct run *r, *out[1];

	set_budget(f, 100 * USD, BUDGET_SOFT);
	r = start(f, f->cheap);
	assert_int_equal(policy_lease(&f->p, f->a, 1, out), 1);
	policy_progress(&f->p, r, RUN_RUNNING, NULL);
	advance(f, DEC1 - 10 * MIN - f->p.now_ms);
	policy_set_clock(&f->p, DEC1 + 100, f->p.now_mono + 10 * MIN + 100);
	finish(f, r, RUN_SUCCEEDED, "ok");
	assert_true(run_detail(r)->cost > 0);
	assert_int_equal(f->t->month_start_ms, DEC1);
	assert_int_equal(f->t->month_spent, run_detail(r)->cost);
	advance(f, 1000);
	assert_int_equal(f->t->month_spent, run_detail(r)->cost);
}

/* Many starts at the same instant: each reserves its estimate, so exactly
 * as many are admitted as fit, and running them all to their timeout
 * spends the budget without passing it. */
static void test_starts_race_the_cap(void **state)
{
	struct fx *f = *state;
	struct run *runs[20], *r = NULL;
	struct refusal why;
	int admitted = 0;

	set_budget(f, 10 * USD, BUDGET_HARD);
	for (int i = 0; i < 20; i++)
		if (policy_submit(&f->p, f->j, 0, NULL, &r, &why) == 0)
			runs[admitted++] = r;
	assert_int_equal(admitted, 5);
	assert_int_equal(f->t->budget_refused, 15);
	assert_int_equal(run_some(f, f->a, 20), 5);
	advance(f, HOUR); /* every run to its timeout */
	for (int i = 0; i < admitted; i++)
		finish(f, runs[i], RUN_TIMED_OUT, "timeout");
	struct budget_figures fig;
	budget_figures(&f->p, f->t, &fig);
	assert_int_equal(fig.spent, 10 * USD);
	assert_int_equal(fig.committed, 0);
	assert_true(fig.spent <= f->t->monthly_budget);
}

/* The scheduler restarts: the policy is rebuilt over the same records. */
static void restart(struct fx *f)
{
	policy_fx_rebuild(&f->p, &f->st, &f->lim, f->p.now_ms, f->p.now_mono);
}

/* Moves the clock without hearing from any agent. */
static void silence(struct fx *f, int64_t ms)
{
	policy_set_clock(&f->p, f->p.now_ms + ms, f->p.now_mono + ms);
	policy_tick(&f->p);
}

/* An attempt is metered until the scheduler learns that it ended: a lost
 * one until its lease expires, which may be past the timeout its estimate
 * was made for (the agent was heard until 10 minutes before the timeout,
 * then a restart gave it a full lease time again). The retry holds a fresh
 * estimate, and est_cost, rebased to the cost so far plus that estimate,
 * no longer shows the lost attempt's overrun: the month's spend passes the
 * hard budget by exactly that overrun, and nothing more is dispatched. */
static void test_lost_attempt_overrun(void **state)
{
	struct fx *f = *state;
	struct run *r, *out[2];
	struct budget_figures fig;
	struct usage_amount billed;
	char why[256];

	f->lim.lease_ttl_ms = f->p.lim.lease_ttl_ms = 30 * MIN;
	set_budget(f, 2 * USD, BUDGET_HARD);
	f->t->guard.next_eval_ms = INT64_MAX; /* the guard has its own test */
	r = start(f, f->j); /* 1 h timeout, estimated $2: the whole budget */
	assert_int_equal(run_some(f, f->a, 1), 1);
	advance(f, 50 * MIN);  /* heard: its lease runs to minute 80 */
	silence(f, 20 * MIN);  /* minute 70: still leased */
	assert_int_equal(r->state, RUN_RUNNING);
	restart(f);            /* a full lease time again: to minute 100 */
	silence(f, 30 * MIN - 1);
	assert_int_equal(r->state, RUN_RUNNING);
	silence(f, 1);         /* minute 100: the lease is lost */
	assert_int_equal(r->state, RUN_QUEUED);
	assert_int_equal(r->attempt, 2);
	assert_int_equal(r->lost, 1);
	/* the lost attempt is billed for 100 minutes, not the 60 estimated */
	job_usage_for(f->j, f->e, 100 * MIN, &billed);
	assert_int_equal(run_detail(r)->cost, billed.cost);
	assert_true(run_detail(r)->cost > 2 * USD);
	/* the retry holds one more attempt's estimate; est_cost covers the
	 * cost, so cost - est_cost no longer shows the overrun */
	assert_int_equal(r->est_cost, run_detail(r)->cost + 2 * USD);
	assert_int_equal(f->t->committed, 2 * USD);
	/* spent past the budget by exactly the lost attempt's overrun */
	assert_int_equal(f->t->month_spent - f->t->monthly_budget,
			 run_detail(r)->cost - 2 * USD);
	budget_figures(&f->p, f->t, &fig);
	assert_int_equal(fig.spent, run_detail(r)->cost);
	assert_int_equal(fig.committed, 2 * USD);
	/* and the retry is held there */
	assert_false(budget_may_dispatch(&f->p, f->t, why, sizeof(why)));
	assert_non_null(strstr(why, "reached its hard budget"));
	assert_int_equal(policy_lease(&f->p, f->a, 2, out), 0);
}

/* An attempt whose completion carries Spark's executor report is billed by
 * it: the driver for the wall time, the executors for what they ran. */
static void test_measured_executors(void **state)
{
	struct fx *f = *state;
	struct run *r = start(f, f->j); /* driver 1 core + 1 declared executor */
	struct executor_usage x = { .count = 3, .core_ms = 3 * 10 * MIN,
				    .lifetime_ms = 3 * 10 * MIN };
	struct completion c = { .result = RUN_SUCCEEDED, .exit_code = 0,
				.reason = "ok", .executors = &x };

	assert_int_equal(run_some(f, f->a, 1), 1);
	advance(f, 30 * MIN);
	assert_int_equal(policy_complete(&f->p, r, &c), 0);
	/* driver 30 min at $1/h + 3 executors x 10 min x 1 core at $1/h */
	assert_int_equal(run_detail(r)->cost, USD / 2 + USD / 2);
	assert_int_equal(run_detail(r)->vcpu_ms, 30 * MIN + 30 * MIN);
	assert_int_equal(usage_tenant_cost(&f->st.usage, "acme", INT32_MIN,
					   INT32_MAX), run_detail(r)->cost);
}

static int64_t sum_days(struct fx *f, const char *tenant, uint64_t *runs,
			uint64_t *ok, uint64_t *failed)
{
	int64_t cost = 0;
	*runs = *ok = *failed = 0;
	for (size_t i = 0; i < f->st.usage.days.n; i++) {
		const struct usage_day *d = f->st.usage.days.v[i];
		if (strcmp(d->tenant, tenant))
			continue;
		cost += d->cost;
		*runs += d->runs;
		*ok += d->succeeded;
		*failed += d->failed;
	}
	return cost;
}

/* Retries, lost leases, cancels, failures and successes over two days:
 * the day roll-ups add up exactly to the run records, tenant by tenant. */
static void test_usage_reconciles(void **state)
{
	struct fx *f = *state;
	struct run *rs[12];
	uint64_t runs, ok, failed, want_ok = 0, want_failed = 0, ended = 0;
	int64_t want = 0;

	for (int i = 0; i < 12; i++)
		rs[i] = start(f, i % 3 ? f->j : f->cheap);
	assert_int_equal(run_some(f, f->a, 12), 12);
	advance(f, 23 * HOUR + 50 * MIN); /* crosses midnight below */
	for (int i = 0; i < 12; i++) {
		struct completion c = { .exit_code = 1, .reason = "x" };
		advance(f, 7 * MIN + i * 1000);
		if (i % 4 == 0) {
			c.result = RUN_SUCCEEDED;
			finish(f, rs[i], RUN_SUCCEEDED, "ok");
		} else if (i % 4 == 1) { /* fails, retried later */
			c.result = RUN_FAILED;
			assert_int_equal(policy_complete(&f->p, rs[i], &c), 1);
		} else if (i % 4 == 2) {
			policy_drop_agent(&f->p, f->a, "gone"); /* all lose it */
			assert_int_equal(run_some(f, f->a, 64) > 0, 1);
		} else {
			c.result = RUN_FAILED;
			c.failure_class = "class_not_found"; /* not retried */
			assert_int_equal(policy_complete(&f->p, rs[i], &c), 0);
		}
	}
	advance(f, 2 * HOUR);
	for (int i = 0; i < 12; i++) {
		struct refusal why;
		if (!run_state_terminal(rs[i]->state) &&
		    policy_cancel(&f->p, rs[i], &why) == 0 &&
		    rs[i]->state != RUN_QUEUED && !run_state_terminal(rs[i]->state))
			finish(f, rs[i], RUN_CANCELLED, "cancelled");
	}
	for (size_t i = 0; i < f->st.nruns; i++) {
		const struct run *r = f->st.runs[i];
		if (strcmp(run_tenant(r), "acme"))
			continue;
		want += run_detail(r)->cost;
		ended += run_state_terminal(r->state);
		want_ok += r->state == RUN_SUCCEEDED;
		want_failed += r->state == RUN_FAILED || r->state == RUN_TIMED_OUT;
	}
	assert_true(want > 0);
	assert_int_equal(sum_days(f, "acme", &runs, &ok, &failed), want);
	assert_int_equal(runs, ended);
	assert_int_equal(ok, want_ok);
	assert_int_equal(failed, want_failed);
	assert_int_equal(ended, 12);
	/* the work went to two days, and the other tenant has none */
	assert_true(f->st.usage.days.n >= 2);
	assert_int_equal(sum_days(f, "other", &runs, &ok, &failed), 0);
	assert_int_equal(usage_tenant_cost(&f->st.usage, "acme", INT32_MIN,
					   INT32_MAX), want);
}

int main(void)
{
	log_setup("test_budget", LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hard_cap_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_soft_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_budget_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_and_cancel_at_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guard_steps_and_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_month_rollover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempt_ends_as_month_turns,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_starts_race_the_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_attempt_overrun, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_usage_reconciles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_measured_executors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
