/* policy.c - the pure scheduling core: admission, queues, leases, retries. */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "policy_int.h"
#include "util.h"

void policy_limits_defaults(struct policy_limits *l)
{
	l->lease_ttl_ms = 30000;
	l->aging_ms = 60000;
	l->retry_base_ms = 5000;
	l->retry_max_ms = 300000;
	l->max_lost_leases = 5;
	l->max_queued_total = 5000000;
	l->idempotency_ttl_ms = 24LL * 3600 * 1000;
	l->estimate_hours = 1;
	guard_params_defaults(&l->guard);
}

void policy_mark(struct policy *p, struct run *r)
{
	if (r->dirty)
		return;
	r->dirty = true;
	ptrvec_push(&p->dirty, r);
}

#define mark policy_mark

void policy_touch(struct policy *p, struct run *r)
{
	mark(p, r);
}

void policy_take_dirty(struct policy *p,
		       void (*fn)(void *ctx, struct run *r), void *ctx)
{
	for (size_t i = 0; i < p->dirty.n; i++) {
		struct run *r = p->dirty.v[i];
		r->dirty = false;
		if (fn)
			fn(ctx, r);
	}
	p->dirty.n = 0;
}

void policy_take_ended(struct policy *p,
		       void (*fn)(void *ctx, struct run *r), void *ctx)
{
	for (size_t i = 0; i < p->ended.n; i++)
		fn(ctx, p->ended.v[i]);
	p->ended.n = 0;
}

void policy_refuse(struct refusal *why, const char *code, int64_t retry_ms,
		   const char *fmt, ...)
{
	va_list ap;
	why->code = code;
	why->retry_after_ms = retry_ms;
	va_start(ap, fmt);
	vsnprintf(why->message, sizeof(why->message), fmt, ap);
	va_end(ap);
}

#define refuse policy_refuse

/* ---- queues ---- */

/* A run waiting `aging_ms` gains one priority level: sorting by
 * enqueue time minus priority * aging_ms is priority order with aging, FIFO
 * among equals, and a key that never changes while the run waits. */
static int64_t virtual_time(const struct policy *p, const struct run *r)
{
	return r->enqueued_ms - (int64_t)r->priority * p->lim.aging_ms;
}

void policy_place(struct policy *p, struct run *r)
{
	if (r->held || r->waiting)
		return; /* queued, not dispatchable */
	if (run_not_before(r) > p->now_ms)
		runq_push(&p->backoff, r, run_not_before(r));
	else
		runq_push(&r->job->queue, r, virtual_time(p, r));
}

void policy_unplace(struct policy *p, struct run *r)
{
	if (runq_contains(&p->backoff, r))
		runq_remove(&p->backoff, r);
	else if (runq_contains(&r->job->queue, r))
		runq_remove(&r->job->queue, r);
}

void policy_note_polled_work(struct policy *p, struct env *e)
{
	if (e->n_polling && e->n_queued && !e->polled_work) {
		e->polled_work = true;
		ptrvec_push(&p->polled_work, e);
	}
}

static void enqueue(struct policy *p, struct run *r)
{
	policy_place(p, r);
	r->job->tenantp->n_queued++;
	r->job->envp->n_queued++;
	p->queued_total++;
	policy_note_polled_work(p, r->job->envp);
}

static void dequeue(struct policy *p, struct run *r)
{
	policy_unplace(p, r);
	r->job->tenantp->n_queued--;
	r->job->envp->n_queued--;
	p->queued_total--;
}

void policy_dequeue(struct policy *p, struct run *r)
{
	dequeue(p, r);
}

static void count_running(struct policy *p, struct run *r, int delta)
{
	r->job->n_running += (uint32_t)delta;
	r->job->envp->n_running += (uint32_t)delta;
	r->job->tenantp->n_running += (uint32_t)delta;
	p->running_total += (uint64_t)(int64_t)delta;
	budget_live(p, r, delta > 0);
}

/* ag takes r. Agents holding runs are listed apart: a fleet is mostly
 * idle, and the lease expiry check each turn looks at these only. */
static void hold(struct policy *p, struct agent *ag, struct run *r)
{
	if (!ag->held.n) {
		ag->busy_slot = p->busy_agents.n;
		ptrvec_push(&p->busy_agents, ag);
	}
	ptrvec_push(&ag->held, r);
}

/* r (live) leaves its agent. */
static void release(struct policy *p, struct run *r)
{
	struct agent *ag = state_agent(p->st, run_agent(r));
	if (ag && !ptrvec_remove(&ag->held, r) && !ag->held.n) {
		struct agent *last = p->busy_agents.v[p->busy_agents.n - 1];
		ptrvec_remove_at(&p->busy_agents, ag->busy_slot);
		if (last != ag)
			last->busy_slot = ag->busy_slot;
	}
	count_running(p, r, -1);
}

void policy_record_terminal(struct policy *p, struct run *r,
			    enum run_state to)
{
	run_set_state(r, to, p->now_ms);
	/* an ended run is neither held nor waiting any more */
	r->waiting = false;
	if (r->held) {
		r->held = false;
		run_set_str(&r->x->held_by, NULL);
	}
	if (to >= RUN_SUCCEEDED && to < RUN_STATE_COUNT)
		r->job->envp->ended[to - RUN_SUCCEEDED]++;
	r->completions++;
	p->completions++;
	budget_run_ended(p, r);
	r->job->tenantp->n_ended++;
	if (!r->job->tenantp->ended_since_ms)
		r->job->tenantp->ended_since_ms = p->now_ms;
	if (p->track_ended) /* for webhooks: the run's end is an event */
		ptrvec_push(&p->ended, r);
	flow_run_ended(p, r);
}

#define record_terminal policy_record_terminal

/* ---- idempotency ---- */

static struct run *idem_find(struct policy *p, const char *tenant,
			     const char *key)
{
	return idemidx_get(&p->idem, tenant, key);
}

/* The newest run with a key answers for it. */
static void idem_add(struct policy *p, struct run *r)
{
	idemidx_put(&p->idem, r);
}

/* Keys are dropped in run id order, which is creation order. */
static void idem_prune(struct policy *p)
{
	int64_t horizon = p->now_ms - p->lim.idempotency_ttl_ms;
	while (p->idem_cursor < p->st->nruns) {
		struct run *r = p->st->runs[p->idem_cursor];
		if (r && r->created_ms > horizon)
			break;
		p->idem_cursor++;
		if (r && r->idem_key)
			idemidx_del(&p->idem, r);
	}
}

const struct job *policy_run_job(const struct policy *p, const struct run *r)
{
	return p->run_job ? p->run_job(p->run_job_ctx, r) : r->job;
}

int policy_forget_run(struct policy *p, struct run *r)
{
	if (!run_state_terminal(r->state))
		return -1;
	if (r->idem_key)
		idemidx_del(&p->idem, r);
	/* the others keep their order: they are written, and sent, in it */
	if (r->dirty)
		ptrvec_remove_ordered(&p->dirty, r);
	ptrvec_remove_ordered(&p->ended, r);
	r->job->tenantp->n_ended--;
	flow_forget(p, r);
	state_drop_run(p->st, r);
	return 0;
}

void policy_forget_stored(struct policy *p, uint64_t id, struct tenant *t)
{
	if (!state_run_stored(p->st, id))
		return;
	t->n_ended--;
	state_forget_stored(p->st, id, t);
}

bool policy_may_page_out(const struct policy *p, const struct run *r)
{
	/* An ended run not yet taken for its webhook (p->ended) is dirty
	 * too: the two are taken in one go (policy_take_ended, then
	 * policy_take_dirty). */
	if (!run_state_terminal(r->state) || r->dirty)
		return false;
	/* its key still answers: the index points at it */
	return !r->idem_key || p->idem_cursor >= r->id;
}

/* ---- set-up ---- */

static void requeue_lost(struct policy *p, struct run *r, const char *why);

void policy_init(struct policy *p, struct sched_state *st,
		 const struct policy_limits *lim, int64_t now_ms,
		 int64_t now_mono)
{
	memset(p, 0, sizeof(*p));
	p->st = st;
	p->lim = *lim;
	policy_set_clock(p, now_ms, now_mono);
	p->budget_next_ms = now_ms + 1000; /* budget_tick: once a second */
	for (size_t i = 0; i < st->tenants.n; i++) {
		/* rebuilt below (and again, if the state is reused) */
		struct tenant *t = st->tenants.v[i];
		t->live.n = 0;
		t->committed = 0;
		t->n_ended = t->n_stored; /* those in memory are added below */
	}
	for (size_t i = 0; i < st->agents.n; i++) {
		struct agent *ag = st->agents.v[i];
		/* A restart is not the agents' fault: they get a full TTL
		 * to reach us again. */
		ag->lease_deadline_mono = now_mono + lim->lease_ttl_ms;
	}
	/* the keys that still answer and each job's queued runs, counted
	 * first: the index is sized once instead of growing (and rehashing)
	 * about twenty times, and each queue's memory faulted in at once
	 * instead of a page at a time as it fills (a third of building the
	 * queues of 3 million runs went to those page faults) */
	size_t keyed = 0;
	for (size_t i = 0; i < st->jobs.n; i++)
		((struct job *)st->jobs.v[i])->load_queued = 0;
	for (size_t i = 0; i < st->nruns; i++) {
		struct run *r = st->runs[i];
		if (!r)
			continue;
		keyed += r->idem_key &&
			 r->created_ms > now_ms - lim->idempotency_ttl_ms;
		r->job->load_queued += r->state == RUN_QUEUED;
	}
	idemidx_reserve(&p->idem, keyed);
	for (size_t i = 0; i < st->jobs.n; i++) {
		struct job *j = st->jobs.v[i];
		runq_reserve(&j->queue, j->queue.n + j->load_queued);
	}
	for (size_t i = 0; i < st->nruns; i++) {
		struct run *r = st->runs[i];
		struct agent *ag;
		if (!r)
			continue;
		if (r->idem_key && r->created_ms > now_ms - lim->idempotency_ttl_ms)
			idem_add(p, r);
		budget_loaded(p, r);
		if (r->state == RUN_QUEUED) {
			enqueue(p, r);
		} else if (run_state_terminal(r->state)) {
			r->job->tenantp->n_ended++;
		} else {
			count_running(p, r, +1);
			ag = state_agent(st, run_agent(r));
			if (ag && ag->state != AGENT_REVOKED)
				hold(p, ag, r);
			else
				requeue_lost(p, r, "its agent is gone");
		}
	}
	flow_init(p);
}

void policy_release(struct policy *p)
{
	idemidx_release(&p->idem);
	budget_take_events(p, NULL, NULL);
	ptrvec_release(&p->cost_events);
	runq_release(&p->backoff);
	ptrvec_release(&p->dirty);
	ptrvec_release(&p->ended);
	ptrvec_release(&p->polled_work);
	ptrvec_release(&p->busy_agents);
	flow_release(p);
}

void policy_set_clock(struct policy *p, int64_t now_ms, int64_t now_mono)
{
	p->now_ms = now_ms;
	p->now_mono = now_mono;
}

/* ---- admission ---- */

/* Token bucket in millitokens: refills at `rate` tokens/s, holds one
 * second's worth. Returns 0 and takes a token, or the ms to wait. */
static int64_t take_submit_token(struct policy *p, struct tenant *t)
{
	int64_t cap = (int64_t)t->submit_rate * 1000;
	int64_t elapsed = p->now_ms - t->rate_refill_ms;

	if (t->rate_refill_ms == 0 || elapsed > 1000) {
		t->rate_tokens = cap;
	} else if (elapsed > 0) {
		t->rate_tokens += elapsed * (int64_t)t->submit_rate;
		if (t->rate_tokens > cap)
			t->rate_tokens = cap;
	}
	t->rate_refill_ms = p->now_ms;
	if (t->rate_tokens >= 1000) {
		t->rate_tokens -= 1000;
		return 0;
	}
	/* ceil((1000 - tokens) / rate) ms until one whole token */
	return (1000 - t->rate_tokens + t->submit_rate - 1) / t->submit_rate;
}

static int refused(struct policy *p, struct job *j, const struct refusal *why)
{
	static const char *const codes[] = { "busy", "quota_exceeded",
					     "budget_exceeded" };

	j->tenantp->refused++;
	j->envp->refused++;
	p->refused++;
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(why->code, codes[i]))
			j->envp->refused_by[i]++;
	return -1;
}

int policy_submit(struct policy *p, struct job *j, int32_t priority,
		  const char *idem_key, struct run **out, struct refusal *why)
{
	struct submit_opts o = { .priority = priority, .idem_key = idem_key };
	return policy_submit_ex(p, j, &o, out, why);
}

int policy_submit_ex(struct policy *p, struct job *j,
		     const struct submit_opts *o, struct run **out,
		     struct refusal *why)
{
	const char *idem_key = o->idem_key;
	struct tenant *t = j->tenantp;
	struct run *r;
	int64_t wait, est;

	if (idem_key && *idem_key) {
		r = idem_find(p, t->name, idem_key);
		if (r && r->job != j) {
			refuse(why, "conflict", 0,
			       "idempotency key '%.128s' already names run %llu of job %s",
			       idem_key, (unsigned long long)r->id, r->job->key);
			return -1;
		}
		if (r) {
			*out = r;
			return 1;
		}
	}
	if (t->suspended_ms) {
		refuse(why, "suspended", 0,
		       "tenant '%s' is suspended: no new runs until "
		       "'tenant resume %s'",
		       t->name, t->name);
		return refused(p, j, why);
	}
	if (p->lim.max_queued_total && p->queued_total >= p->lim.max_queued_total) {
		refuse(why, "busy", 1000,
		       "the scheduler holds %llu queued runs (global limit %llu); retry after 1000 ms",
		       (unsigned long long)p->queued_total,
		       (unsigned long long)p->lim.max_queued_total);
		return refused(p, j, why);
	}
	if (t->max_queued && t->n_queued >= t->max_queued) {
		refuse(why, "quota_exceeded", 1000,
		       "tenant '%s' has %u queued runs (max-queued %u); retry after 1000 ms",
		       t->name, t->n_queued, t->max_queued);
		return refused(p, j, why);
	}
	if (t->submit_rate && (wait = take_submit_token(p, t)) > 0) {
		refuse(why, "quota_exceeded", wait,
		       "tenant '%s' submits faster than its submit-rate of %u runs/s; retry after %lld ms",
		       t->name, t->submit_rate, (long long)wait);
		return refused(p, j, why);
	}
	if (budget_admit(p, j, &est, why))
		return refused(p, j, why);
	r = state_new_run(p->st, j);
	r->job_version = o->job_version ? o->job_version : (uint16_t)j->version;
	r->creator = o->creator;
	r->x = o->x;
	r->held = o->hold;
	r->waiting = o->x && o->x->nafter;
	r->est_cost = est;
	budget_reserve(p, r);
	r->priority = o->priority;
	r->attempt = 1;
	r->state = RUN_QUEUED;
	r->created_ms = r->enqueued_ms = r->queued_ms = p->now_ms;
	if (idem_key && *idem_key) {
		run_set_str(&r->idem_key, idem_key);
		idem_add(p, r);
	}
	enqueue(p, r);
	mark(p, r);
	if (r->waiting)
		flow_add(p, r);
	*out = r;
	return 0;
}

void policy_set_tenant_limits(struct policy *p, struct tenant *t,
			      uint32_t max_running, uint32_t max_queued,
			      uint32_t submit_rate)
{
	int64_t cap = (int64_t)submit_rate * 1000;

	(void)p;
	/* A bucket left from an earlier rate, or from none, would let a
	 * burst of the old size through: clamp it to the new one. */
	if (submit_rate && !t->submit_rate)
		t->rate_refill_ms = 0;
	else if (t->rate_tokens > cap)
		t->rate_tokens = cap;
	t->max_running = max_running;
	t->max_queued = max_queued;
	t->submit_rate = submit_rate;
}

int policy_cancel(struct policy *p, struct run *r, struct refusal *why)
{
	if (run_state_terminal(r->state)) {
		refuse(why, "conflict", 0, "run %llu has already %s",
		       (unsigned long long)r->id, run_state_name(r->state));
		return -1;
	}
	if (r->state == RUN_QUEUED) {
		dequeue(p, r);
		record_terminal(p, r, RUN_CANCELLED);
		run_set_str(&run_detail_get(r)->reason,
			    "cancelled before it was dispatched");
	} else {
		r->cancel_requested = true;
	}
	mark(p, r);
	return 0;
}

/* ---- dispatch ---- */

bool policy_agent_may_work(struct policy *p, const struct agent *ag)
{
	const struct env *e = state_env(p->st, ag->env);
	return ag->state == AGENT_ACTIVE && ag->preflight_ok && e &&
	       e->state == ENV_READY;
}

/* The best dispatchable run of e: the smallest (key, id) among the heads
 * of the queues of its jobs that are under their concurrency cap. */
static struct run *pick(struct env *e)
{
	struct run *best = NULL;
	int64_t best_key = 0;

	for (size_t i = 0; i < e->jobs.n; i++) {
		struct job *j = e->jobs.v[i];
		int64_t key;
		struct run *r;
		if (j->max_concurrent && j->n_running >= j->max_concurrent)
			continue;
		r = runq_peek(&j->queue, &key);
		if (r && (!best || key < best_key ||
			  (key == best_key && r->id < best->id))) {
			best = r;
			best_key = key;
		}
	}
	return best;
}

size_t policy_lease(struct policy *p, struct agent *ag, size_t max,
		    struct run **out)
{
	struct env *e = state_env(p->st, ag->env);
	struct tenant *t = e ? e->tenantp : NULL;
	size_t n = 0;

	/* a suspended tenant's queued runs wait; its live runs go on */
	if (p->paused || !t || t->suspended_ms || !policy_agent_may_work(p, ag))
		return 0;
	while (n < max) {
		struct run_detail *d;
		struct run *r;
		if (t->max_running && t->n_running >= t->max_running)
			break;
		if (e->max_concurrent && e->n_running >= e->max_concurrent)
			break;
		if (!budget_may_dispatch(p, t, NULL, 0))
			break;
		if (!(r = pick(e)))
			break;
		dequeue(p, r);
		run_set_state(r, RUN_LEASED, p->now_ms);
		d = run_detail_get(r);
		d->epoch++;
		snprintf(d->agent, AGENT_ID_LEN, "%s", ag->id);
		hold(p, ag, r);
		count_running(p, r, +1);
		t->dispatched++;
		e->dispatched++;
		p->dispatched++;
		mark(p, r);
		out[n++] = r;
	}
	return n;
}

void policy_heard(struct policy *p, struct agent *ag)
{
	ag->lease_deadline_mono = p->now_mono + p->lim.lease_ttl_ms;
}

/* ---- leases ---- */

/* A live run's agent lost it (expired, or no longer reported): back to
 * the queue as the next attempt, fenced by a new epoch. */
static void requeue_lost(struct policy *p, struct run *r, const char *why)
{
	struct run_detail *d = run_detail_get(r); /* a live run has one */
	char reason[REASON_LEN];

	budget_attempt_ended(p, r, NULL);
	release(p, r);
	r->lost++;
	d->epoch++;
	p->lost_runs++;
	char fields[512];
	log_warn("run %llu: lease lost on agent %s: %s%s",
		 (unsigned long long)r->id, run_agent(r), why,
		 run_log_fields(r, r->attempt, run_agent(r), fields,
				sizeof(fields)));
	d->agent[0] = '\0';
	if (r->cancel_requested) {
		record_terminal(p, r, RUN_CANCELLED);
		snprintf(reason, sizeof(reason), "cancelled; the lease was lost: %s", why);
	} else if (r->lost > p->lim.max_lost_leases) {
		record_terminal(p, r, RUN_FAILED);
		snprintf(reason, sizeof(reason), "lost %u leases (limit %u), last: %s",
			 r->lost, p->lim.max_lost_leases, why);
	} else {
		run_set_state(r, RUN_QUEUED, p->now_ms);
		r->attempt++;
		r->enqueued_ms = p->now_ms;
		d->not_before_ms = 0;
		budget_next_attempt(p, r);
		enqueue(p, r);
		snprintf(reason, sizeof(reason), "attempt %u lost its lease: %s",
			 r->attempt - 1, why);
	}
	run_set_str(&d->reason, reason);
	mark(p, r);
}

size_t policy_reconcile(struct policy *p, struct agent *ag,
			const struct held_run *held, size_t n,
			uint64_t *cancel, size_t maxcancel)
{
	size_t ncancel = 0;

	for (size_t i = 0; i < n; i++) {
		struct run *r = state_run(p->st, held[i].run);
		bool mine = r && !run_state_terminal(r->state) &&
			    r->state != RUN_QUEUED &&
			    !strcmp(run_agent(r), ag->id) &&
			    run_epoch(r) == held[i].epoch;
		if (!mine && ncancel < maxcancel)
			cancel[ncancel++] = held[i].run;
	}
	for (size_t k = ag->held.n; k-- > 0;) {
		struct run *r = ag->held.v[k];
		bool reported = false;
		for (size_t i = 0; i < n && !reported; i++)
			reported = held[i].run == r->id && held[i].epoch == run_epoch(r);
		if (!reported)
			requeue_lost(p, r, "its agent no longer reports it");
	}
	return ncancel;
}

void policy_drop_agent(struct policy *p, struct agent *ag, const char *why)
{
	while (ag->held.n)
		requeue_lost(p, ag->held.v[ag->held.n - 1], why);
}

struct run *policy_owned(struct policy *p, struct agent *ag, uint64_t id,
			 uint64_t epoch)
{
	struct run *r = state_run(p->st, id);
	if (r && !run_state_terminal(r->state) && r->state != RUN_QUEUED &&
	    !strcmp(run_agent(r), ag->id) && run_epoch(r) == epoch)
		return r;
	ag->rejected_stale++;
	p->stale++;
	return NULL;
}

int policy_progress(struct policy *p, struct run *r, enum run_state to,
		    const char *app_id)
{
	if (to != RUN_SUBMITTED && to != RUN_RUNNING)
		return -1;
	if (app_id && *app_id)
		run_set_str(&run_detail_get(r)->app_id, app_id);
	/* Reports only move a run forward: a late "submitted" after
	 * "running" just updates the application id. */
	if (r->state < to && run_set_state(r, to, p->now_ms))
		return -1;
	mark(p, r);
	return 0;
}

/* ---- completion and retries ---- */

/* One list of what a retry cannot fix: the classifier's (diagnose.h). */
bool policy_class_retryable(const char *cls)
{
	return diagnose_retryable(cls);
}

int64_t policy_backoff_ms(const struct policy_limits *l, uint64_t run_id,
			  uint32_t failures)
{
	int64_t d = l->retry_base_ms;
	uint64_t h;

	for (uint32_t i = 1; i < failures && d < l->retry_max_ms; i++)
		d *= 2;
	if (d > l->retry_max_ms)
		d = l->retry_max_ms;
	/* "Equal jitter": half fixed, half drawn from a hash of the run and
	 * the attempt, so a simulation replays exactly from its seed. */
	h = (run_id * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)failures << 32);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	return d / 2 + (int64_t)(h % (uint64_t)(d / 2 + 1));
}

int policy_complete(struct policy *p, struct run *r,
		    const struct completion *c)
{
	uint32_t failures = r->attempt - r->lost;
	struct run_detail *d;

	r->exit_code = c->exit_code >= 0 && c->exit_code < 256 ? c->exit_code : -1;
	d = run_detail_get(r);
	if (c->app_id && *c->app_id)
		run_set_str(&d->app_id, c->app_id);
	/* A run the scheduler stopped for its cost keeps that reason. */
	if (!r->cancel_requested || !d->failure_class ||
	    strcmp(d->failure_class, "budget_exceeded")) {
		run_set_str(&d->reason, c->reason);
		run_set_str(&d->failure_class, c->failure_class);
	}
	run_set_str(&d->diag_line, c->diag_line);
	budget_attempt_ended(p, r, c->executors);
	release(p, r);
	mark(p, r);
	if (c->result == RUN_FAILED && !r->cancel_requested &&
	    policy_class_retryable(c->failure_class) &&
	    failures < policy_run_job(p, r)->max_attempts) {
		run_set_state(r, RUN_QUEUED, p->now_ms);
		r->attempt++;
		d->agent[0] = '\0';
		d->not_before_ms =
			p->now_ms + policy_backoff_ms(&p->lim, r->id, failures);
		r->enqueued_ms = d->not_before_ms;
		budget_next_attempt(p, r);
		enqueue(p, r);
		p->retries++;
		return 1;
	}
	record_terminal(p, r, c->result);
	return 0;
}

/* ---- time ---- */

static void release_due_backoffs(struct policy *p)
{
	int64_t due;
	struct run *r;

	while ((r = runq_peek(&p->backoff, &due)) && due <= p->now_ms) {
		runq_remove(&p->backoff, r);
		runq_push(&r->job->queue, r, virtual_time(p, r));
	}
}

static void expire_leases(struct policy *p)
{
	char why[128];

	for (size_t i = p->busy_agents.n; i-- > 0;) {
		struct agent *ag = p->busy_agents.v[i];
		if (p->now_mono < ag->lease_deadline_mono)
			continue;
		snprintf(why, sizeof(why), "agent %s silent for over %lld ms",
			 ag->id, (long long)p->lim.lease_ttl_ms);
		p->expired_leases += ag->held.n;
		policy_drop_agent(p, ag, why);
	}
}

void policy_tick(struct policy *p)
{
	release_due_backoffs(p);
	expire_leases(p);
	idem_prune(p);
	budget_tick(p);
}

int64_t policy_next_wake(const struct policy *p)
{
	int64_t next = INT64_MAX, due;

	for (size_t i = 0; i < p->busy_agents.n; i++) {
		const struct agent *ag = p->busy_agents.v[i];
		if (ag->lease_deadline_mono < next)
			next = ag->lease_deadline_mono;
	}
	if (runq_peek(&p->backoff, &due)) {
		int64_t at = p->now_mono + (due - p->now_ms);
		if (at < next)
			next = at;
	}
	if ((due = budget_next_due(p)) != INT64_MAX &&
	    p->now_mono + (due - p->now_ms) < next)
		next = p->now_mono + (due - p->now_ms);
	return next;
}
