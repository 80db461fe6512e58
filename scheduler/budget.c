/* budget.c - cost control in the scheduling core (budget.h). */
#include "budget.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse.h"
#include "policy.h"
#include "usage.h"
#include "util.h"

#define BUDGET_TICK_MS 1000

void budget_month_bounds(int64_t ms, int64_t *start, int64_t *end)
{
	time_t secs = (time_t)(ms / 1000 - (ms % 1000 < 0));
	struct tm tm;

	gmtime_r(&secs, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	*start = (int64_t)timegm(&tm) * 1000;
	tm.tm_mon++; /* December + 1 is normalised to January */
	*end = (int64_t)timegm(&tm) * 1000;
}

int64_t budget_estimate(const struct job *j, int64_t default_hours)
{
	struct usage_amount u;
	int64_t ms = j->timeout_s ? (int64_t)j->timeout_s * 1000
				  : default_hours * 3600000;
	job_usage_for(j, j->envp, ms, &u);
	return u.cost;
}

static bool hard(const struct tenant *t)
{
	return t->monthly_budget && t->budget_mode == BUDGET_HARD;
}

static int64_t remaining(const struct run *r)
{
	int64_t cost = run_detail(r)->cost;

	return r->est_cost > cost ? r->est_cost - cost : 0;
}

/* When r's current attempt started: the latest state it reached. */
static int64_t attempt_start(const struct run *r)
{
	if (r->state == RUN_RUNNING)
		return run_state_ms(r, RUN_RUNNING);
	if (r->state == RUN_SUBMITTED)
		return run_state_ms(r, RUN_SUBMITTED);
	return run_state_ms(r, RUN_LEASED);
}

static void usd(int64_t micro, char *buf, size_t len)
{
	format_usd(micro, buf, len);
}

/* ---- events ---- */

void budget_remember(struct tenant *t, const struct cost_event *ev)
{
	struct cost_event_ring *ring = &t->recent;
	uint32_t cap = sizeof(ring->ev) / sizeof(ring->ev[0]);
	struct cost_event_rec *rec = &ring->ev[(ring->head + ring->n) % cap];

	if (ring->n == cap) {
		rec = &ring->ev[ring->head];
		ring->head = (ring->head + 1) % cap;
	} else {
		ring->n++;
	}
	rec->ms = ev->ms;
	snprintf(rec->kind, sizeof(rec->kind), "%s", ev->kind);
	snprintf(rec->text, sizeof(rec->text), "%s", ev->text);
}

static void event(struct policy *p, struct tenant *t, const char *kind,
		  const char *fmt, ...) SP_PRINTF(4, 5);
static void event(struct policy *p, struct tenant *t, const char *kind,
		  const char *fmt, ...)
{
	struct cost_event *ev = xcalloc(1, sizeof(*ev));
	va_list ap;

	snprintf(ev->tenant, sizeof(ev->tenant), "%s", t->name);
	snprintf(ev->kind, sizeof(ev->kind), "%s", kind);
	ev->ms = p->now_ms;
	ev->seq = ++p->cost_seq;
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	va_end(ap);
	budget_remember(t, ev);
	ptrvec_push(&p->cost_events, ev);
	log_info("tenant %s: %s: %s", t->name, kind, ev->text);
}

void budget_drop_events(struct policy *p, const char *tenant)
{
	size_t kept = 0;

	for (size_t i = 0; i < p->cost_events.n; i++) {
		struct cost_event *ev = p->cost_events.v[i];
		if (strcmp(ev->tenant, tenant))
			p->cost_events.v[kept++] = ev;
		else
			free(ev);
	}
	p->cost_events.n = kept;
}

void budget_take_events(struct policy *p,
			void (*fn)(void *ctx, const struct cost_event *ev),
			void *ctx)
{
	for (size_t i = 0; i < p->cost_events.n; i++) {
		if (fn)
			fn(ctx, p->cost_events.v[i]);
		free(p->cost_events.v[i]);
	}
	p->cost_events.n = 0;
}

/* ---- figures ---- */

/* Moves t to the month holding now: its spend so far is what the day
 * roll-ups hold for that month. */
static void month_check(struct policy *p, struct tenant *t)
{
	int64_t was = t->month_start_ms;
	char spent[40], budget[40];

	if (!t->guard.slot_ms)
		guard_init(&t->guard, &p->lim.guard);
	if (was && p->now_ms >= was && p->now_ms < t->month_end_ms)
		return;
	budget_month_bounds(p->now_ms, &t->month_start_ms, &t->month_end_ms);
	t->month_spent = usage_tenant_cost(&p->st->usage, t->name,
					   usage_day_of(t->month_start_ms),
					   usage_day_of(t->month_end_ms));
	t->over_budget = false;
	if (was && t->monthly_budget) {
		usd(t->month_spent, spent, sizeof(spent));
		usd(t->monthly_budget, budget, sizeof(budget));
		event(p, t, "new_month",
		      "a new month: spent %s of the %s USD budget so far",
		      spent, budget);
	}
}

/* What the guard judges t by, from t's figures f. */
static void guard_input_of(const struct policy *p, const struct tenant *t,
			   const struct budget_figures *f,
			   struct guard_input *in)
{
	memset(in, 0, sizeof(*in));
	in->now_ms = p->now_ms;
	in->month_start_ms = t->month_start_ms;
	in->month_end_ms = t->month_end_ms;
	in->budget = t->monthly_budget;
	in->spent = f->spent;
	in->running_recent = f->running_recent;
	in->running = t->n_running;
	in->max_running = t->max_running;
}

void budget_figures(struct policy *p, struct tenant *t,
		    struct budget_figures *f)
{
	int64_t window_from = p->now_ms - p->lim.guard.window_ms, covered = 0;
	struct guard_input in;

	month_check(p, t);
	memset(f, 0, sizeof(*f));
	f->month_start_ms = t->month_start_ms;
	f->month_end_ms = t->month_end_ms;
	if (window_from < t->month_start_ms)
		window_from = t->month_start_ms;
	for (size_t i = 0; i < t->live.n; i++) {
		const struct run *r = t->live.v[i];
		const struct job *spec = policy_run_job(p, r);
		int64_t start = attempt_start(r);
		struct usage_amount u;

		job_usage_for(spec, r->job->envp, p->now_ms - start, &u);
		f->accrued = add_sat(f->accrued, u.cost);
		covered += u.cost < remaining(r) ? u.cost : remaining(r);
		if (start < window_from)
			job_usage_for(spec, r->job->envp,
				      p->now_ms - window_from, &u);
		f->running_recent = add_sat(f->running_recent, u.cost);
	}
	f->spent = add_sat(t->month_spent, f->accrued);
	f->committed = t->committed - covered;
	f->left = add_sat(add_sat(t->monthly_budget, -f->spent), -f->committed);
	guard_input_of(p, t, f, &in);
	f->projection = t->monthly_budget
				? guard_project(&t->guard, &p->lim.guard, &in)
				: 0;
}

/* ---- admission and dispatch ---- */

int budget_admit(struct policy *p, struct job *j, int64_t *est,
		 struct refusal *why)
{
	struct tenant *t = j->tenantp;
	struct budget_figures f;
	char e[40], b[40], s[40], c[40], l[40];

	*est = budget_estimate(j, p->lim.estimate_hours);
	if (!hard(t))
		return 0;
	budget_figures(p, t, &f);
	if (*est <= f.left)
		return 0;
	t->budget_refused++;
	usd(*est, e, sizeof(e));
	usd(t->monthly_budget, b, sizeof(b));
	usd(f.spent, s, sizeof(s));
	usd(f.committed, c, sizeof(c));
	usd(f.left > 0 ? f.left : 0, l, sizeof(l));
	why->code = "budget_exceeded";
	why->retry_after_ms = f.month_end_ms - p->now_ms;
	snprintf(why->message, sizeof(why->message),
		 "tenant '%s' hard budget: the run's estimated cost %s USD does "
		 "not fit in budget %s - spent %s - committed %s = %s USD left "
		 "this month",
		 t->name, e, b, s, c, l);
	return -1;
}

void budget_reserve(struct policy *p, struct run *r)
{
	struct tenant *t = r->job->tenantp;
	(void)p;
	t->committed = add_sat(t->committed, remaining(r));
}

bool budget_may_dispatch(struct policy *p, struct tenant *t, char *why,
			 size_t len)
{
	struct budget_figures f;
	uint32_t cap;
	char s[40], b[40], c[40];

	if (!hard(t))
		return true;
	cap = guard_cap(&t->guard);
	if (t->n_running >= cap) {
		if (why && t->guard.breaker != BREAKER_CLOSED)
			snprintf(why, len,
				 "tenant %s's cost circuit breaker is %s "
				 "(%u running, at most %u)",
				 t->name, breaker_state_name(t->guard.breaker),
				 t->n_running, cap);
		else if (why)
			snprintf(why, len,
				 "tenant %s's burn-rate guard allows %u running "
				 "(step %u of %u)",
				 t->name, cap, t->guard.level, GUARD_STEPS);
		return false;
	}
	budget_figures(p, t, &f);
	usd(f.spent, s, sizeof(s));
	usd(t->monthly_budget, b, sizeof(b));
	if (f.spent >= t->monthly_budget) {
		if (why)
			snprintf(why, len,
				 "tenant %s reached its hard budget: spent %s "
				 "of %s USD this month",
				 t->name, s, b);
		return false;
	}
	if (f.left < 0) {
		usd(f.committed, c, sizeof(c));
		if (why)
			snprintf(why, len,
				 "tenant %s's reservations exceed its hard "
				 "budget: spent %s + committed %s > %s USD",
				 t->name, s, c, b);
		return false;
	}
	return true;
}

/* ---- metering ---- */

void budget_live(struct policy *p, struct run *r, bool live)
{
	struct tenant *t = r->job->tenantp;
	(void)p;
	if (live)
		ptrvec_push(&t->live, r);
	else
		ptrvec_remove(&t->live, r);
}

void budget_attempt_ended(struct policy *p, struct run *r,
			  const struct executor_usage *x)
{
	struct tenant *t = r->job->tenantp;
	const struct job *spec = policy_run_job(p, r);
	int64_t start = attempt_start(r), before = remaining(r);
	struct usage_amount u;
	struct run_detail *d;
	char by[64];

	/* the resources of the version it started with */
	if (x)
		job_usage_measured(spec, r->job->envp, p->now_ms - start, x,
				   &u);
	else
		job_usage_for(spec, r->job->envp, p->now_ms - start, &u);
	d = run_detail_get(r);
	d->vcpu_ms = add_sat(d->vcpu_ms, u.vcpu_ms);
	d->gb_ms = add_sat(d->gb_ms, u.gb_ms);
	d->cost = add_sat(d->cost, u.cost);
	t->committed -= before - remaining(r);
	/* the month first: if it just turned, its spend is read from the day
	 * roll-ups, which must not hold this attempt yet */
	month_check(p, t);
	usage_add_attempt(&p->st->usage, r,
			  run_created_by(p->st, r, by, sizeof(by)), p->now_ms,
			  &u);
	t->month_spent = add_sat(t->month_spent, u.cost);
	guard_record_spend(&t->guard, start, p->now_ms, u.cost);
}

void budget_loaded(struct policy *p, struct run *r)
{
	struct tenant *t = r->job->tenantp;
	int64_t end, start;

	month_check(p, t);
	if (!run_state_terminal(r->state)) {
		/* stores before format 4 kept no estimate */
		if (!r->est_cost)
			r->est_cost = add_sat(
				run_detail(r)->cost,
				budget_estimate(policy_run_job(p, r),
						p->lim.estimate_hours));
		budget_reserve(p, r);
		return;
	}
	/* the guard's spend history is not stored: recent runs refill it
	 * (all attempts' cost over the last one's time) */
	end = run_state_ms(r, r->state);
	if (!run_detail(r)->cost || end < p->now_ms - p->lim.guard.window_ms)
		return;
	start = run_state_ms(r, RUN_RUNNING) ? run_state_ms(r, RUN_RUNNING)
					 : run_state_ms(r, RUN_LEASED);
	guard_record_spend(&t->guard, start && start <= end ? start : end, end,
			   run_detail(r)->cost);
}

void budget_next_attempt(struct policy *p, struct run *r)
{
	struct tenant *t = r->job->tenantp;

	t->committed -= remaining(r);
	r->est_cost = add_sat(run_detail(r)->cost,
			      budget_estimate(policy_run_job(p, r),
					      p->lim.estimate_hours));
	t->committed = add_sat(t->committed, remaining(r));
}

void budget_run_ended(struct policy *p, struct run *r)
{
	char by[64];

	/* est_cost stays as the record of what was reserved */
	r->job->tenantp->committed -= remaining(r);
	usage_add_run_end(&p->st->usage, r,
			  run_created_by(p->st, r, by, sizeof(by)), p->now_ms);
}

/* ---- time ---- */

/* Asks r's agent to stop it, saying why (kept as the run's reason). */
static void cancel_for_budget(struct policy *p, struct run *r,
			      const char *reason)
{
	r->cancel_requested = true;
	run_set_str(&run_detail_get(r)->failure_class, "budget_exceeded");
	run_set_str(&run_detail_get(r)->reason, reason);
	r->job->tenantp->budget_cancelled++;
	policy_touch(p, r);
}

static void check_run_budgets(struct policy *p, struct tenant *t)
{
	char reason[REASON_LEN], c[40], b[40];

	for (size_t i = 0; i < t->live.n; i++) {
		struct run *r = t->live.v[i];
		const struct job *spec = policy_run_job(p, r);
		struct usage_amount u;
		int64_t cost;
		if (r->cancel_requested || !spec->run_budget)
			continue;
		job_usage_for(spec, r->job->envp,
			      p->now_ms - attempt_start(r), &u);
		cost = add_sat(run_detail(r)->cost, u.cost);
		if (cost <= spec->run_budget)
			continue;
		usd(cost, c, sizeof(c));
		usd(spec->run_budget, b, sizeof(b));
		snprintf(reason, sizeof(reason),
			 "budget_exceeded: its cost %s USD passed the run "
			 "budget of %s USD",
			 c, b);
		cancel_for_budget(p, r, reason);
		event(p, t, "run_budget_cancel", "run %llu cancelled: cost %s USD passed the run budget of %s USD (job %s)",
		      (unsigned long long)r->id, c, b, r->job->key);
	}
}

static void check_month_budget(struct policy *p, struct tenant *t)
{
	struct budget_figures f;
	struct guard_action act;
	struct guard_input in;
	char s[40], b[40], reason[REASON_LEN];
	size_t n = 0;

	budget_figures(p, t, &f);
	usd(f.spent, s, sizeof(s));
	usd(t->monthly_budget, b, sizeof(b));
	if (f.spent >= t->monthly_budget && !t->over_budget) {
		t->over_budget = true;
		t->budget_warnings += !hard(t);
		event(p, t, hard(t) ? "cap_reached" : "soft_warning",
		      "spent %s USD of its %s USD %s budget this month%s", s, b,
		      hard(t) ? "hard" : "soft",
		      hard(t) ? ": queued runs are held" : "");
	}
	if (!hard(t)) {
		if (t->guard.level || t->guard.breaker != BREAKER_CLOSED)
			guard_init(&t->guard, &p->lim.guard);
		return;
	}
	if (t->cancel_running && f.spent >= t->monthly_budget) {
		snprintf(reason, sizeof(reason),
			 "budget_exceeded: tenant %s spent %s USD of its %s USD "
			 "hard budget",
			 t->name, s, b);
		for (size_t i = 0; i < t->live.n; i++) {
			struct run *r = t->live.v[i];
			if (!r->cancel_requested) {
				cancel_for_budget(p, r, reason);
				n++;
			}
		}
		if (n)
			event(p, t, "cap_cancel",
			      "cancelled %zu running runs: spent %s USD of the %s USD hard budget",
			      n, s, b);
	}
	guard_input_of(p, t, &f, &in);
	if (guard_eval(&t->guard, &p->lim.guard, &in, &act))
		event(p, t,
		      act.breaker_from != act.breaker_to ? "breaker" : "guard",
		      "%s", act.why);
}

void budget_tick(struct policy *p)
{
	if (p->now_ms < p->budget_next_ms)
		return;
	p->budget_next_ms = p->now_ms + BUDGET_TICK_MS;
	for (size_t i = 0; i < p->st->tenants.n; i++) {
		struct tenant *t = p->st->tenants.v[i];
		month_check(p, t);
		check_run_budgets(p, t);
		if (t->monthly_budget)
			check_month_budget(p, t);
	}
}

int64_t budget_next_due(const struct policy *p)
{
	for (size_t i = 0; i < p->st->tenants.n; i++) {
		const struct tenant *t = p->st->tenants.v[i];
		if (t->monthly_budget || t->live.n)
			return p->budget_next_ms;
	}
	return INT64_MAX;
}

void budget_changed(struct policy *p, struct tenant *t, const char *what)
{
	struct budget_figures f;
	char s[40], c[40];

	budget_figures(p, t, &f);
	usd(f.spent, s, sizeof(s));
	usd(f.committed, c, sizeof(c));
	/* checked again at the next tick, which warns if still over */
	t->over_budget = false;
	if (!hard(t))
		guard_init(&t->guard, &p->lim.guard);
	event(p, t, "budget_set", "%s (spent %s USD, committed %s USD this month)",
	      what, s, c);
}
