/* sim_cost.c - the cost-control invariants of the simulation (sim_cost.h). */
#include "sim_cost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* What the last check saw of each run, by id. An attempt's reservation is
 * what was left of est_cost when it started; when a run is queued again
 * (budget_next_attempt) est_cost is rebased to its cost so far plus one
 * more attempt, which hides the ended attempt's overrun from cost -
 * est_cost: it is added up here instead. The simulation ends at most one
 * attempt of a run per step, so one check sees each attempt end. */
struct seen_run {
	uint32_t attempt;
	int64_t cost, est_cost;
	int64_t overrun; /* of its ended attempts */
};

static struct seen_run *seen;
static size_t nseen;

static struct seen_run *seen_of(const struct run *r)
{
	size_t n = nseen ? nseen : 256;

	if (r->id < nseen)
		return &seen[r->id];
	while (n <= r->id)
		n *= 2;
	seen = xrealloc(seen, n * sizeof(*seen));
	memset(seen + nseen, 0, (n - nseen) * sizeof(*seen));
	nseen = n;
	return &seen[r->id];
}

/* r's overruns: each ended attempt's cost past its reservation, and the
 * current one's so far; -1 if more than one attempt ended unseen. */
static int64_t overrun_of(const struct run *r)
{
	struct seen_run *s = seen_of(r);
	int64_t reserved, cost = run_detail(r)->cost;

	if (s->attempt && r->attempt != s->attempt) {
		if (r->attempt != s->attempt + 1)
			return -1;
		/* attempt s->attempt ended at r's cost, reserved up to
		 * s->est_cost (none left if it had already passed it) */
		reserved = s->est_cost > s->cost ? s->est_cost : s->cost;
		if (cost > reserved)
			s->overrun += cost - reserved;
	}
	s->attempt = r->attempt;
	s->cost = cost;
	s->est_cost = r->est_cost;
	return s->overrun + (cost > r->est_cost ? cost - r->est_cost : 0);
}

void sim_cost_setup(struct sched_state *st, int64_t budget,
		    unsigned (*pick)(unsigned n))
{
	struct tenant *t = st->tenants.v[0];

	free(seen); /* a new world: its run ids start again */
	seen = NULL;
	nseen = 0;
	t->monthly_budget = budget;
	t->budget_mode = BUDGET_HARD;
	/* $3600 a vCPU-hour, a micro-dollar a millisecond: simulated runs
	 * last seconds, and the budget is meant to be reached */
	for (size_t i = 0; i < st->envs.n; i++) {
		struct env *e = st->envs.v[i];
		if (e->tenantp == t)
			e->price_vcpu_hour = 3600LL * 1000000;
	}
	for (size_t i = 0; i < st->jobs.n; i++) {
		struct job *j = st->jobs.v[i];
		j->timeout_s = 5 + pick(16);
	}
}

struct books {
	int64_t cost, committed, overrun;
	uint64_t ended, ok, failed, live;
};

/* t's books from its runs: 0, or the id of a run whose attempts cannot be
 * told apart. */
static uint64_t recount(struct sched_state *st, const struct tenant *t,
			struct books *b)
{
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < st->nruns; i++) {
		const struct run *r = st->runs[i];
		int64_t overrun;
		if (r->job->tenantp != t)
			continue;
		b->cost += run_detail(r)->cost;
		if (run_state_terminal(r->state)) {
			b->ended++;
			b->ok += r->state == RUN_SUCCEEDED;
			b->failed += r->state == RUN_FAILED ||
				     r->state == RUN_TIMED_OUT;
		} else {
			int64_t cost = run_detail(r)->cost;
			b->committed += r->est_cost > cost ? r->est_cost - cost
							   : 0;
			b->live += r->state != RUN_QUEUED;
		}
		if ((overrun = overrun_of(r)) < 0)
			return r->id;
		b->overrun += overrun;
	}
	return 0;
}

static void rolled_up(const struct usage *u, const char *tenant,
		      struct books *b)
{
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < u->days.n; i++) {
		const struct usage_day *d = u->days.v[i];
		if (strcmp(d->tenant, tenant))
			continue;
		b->cost += d->cost;
		b->ended += d->runs;
		b->ok += d->succeeded;
		b->failed += d->failed;
	}
}

int sim_cost_check(struct policy *p, char *msg, size_t len)
{
	struct sched_state *st = p->st;

	for (size_t i = 0; i < st->tenants.n; i++) {
		struct tenant *t = st->tenants.v[i];
		struct books runs, days;
		struct budget_figures f;
		uint64_t id;

		if ((id = recount(st, t, &runs))) {
			snprintf(msg, len,
				 "tenant %s: run %llu ended two attempts in one "
				 "step",
				 t->name, (unsigned long long)id);
			return -1;
		}
		rolled_up(&st->usage, t->name, &days);
		if (runs.cost != days.cost || runs.ended != days.ended ||
		    runs.ok != days.ok || runs.failed != days.failed) {
			snprintf(msg, len,
				 "tenant %s: roll-ups (cost %lld, %llu ended) differ "
				 "from the runs (cost %lld, %llu ended)",
				 t->name, (long long)days.cost,
				 (unsigned long long)days.ended,
				 (long long)runs.cost,
				 (unsigned long long)runs.ended);
			return -1;
		}
		if (t->committed != runs.committed || t->committed < 0) {
			snprintf(msg, len, "tenant %s: committed %lld, recount %lld",
				 t->name, (long long)t->committed,
				 (long long)runs.committed);
			return -1;
		}
		if (t->live.n != runs.live) {
			snprintf(msg, len, "tenant %s: %zu live runs listed, %llu live",
				 t->name, t->live.n, (unsigned long long)runs.live);
			return -1;
		}
		if (!t->monthly_budget || t->budget_mode != BUDGET_HARD)
			continue;
		/* one month: the simulated hours never cross one */
		budget_figures(p, t, &f);
		if (t->month_spent > t->monthly_budget + runs.overrun) {
			snprintf(msg, len,
				 "tenant %s: spent %lld past its hard budget %lld by "
				 "more than its runs' attempts' overruns (%lld)",
				 t->name, (long long)t->month_spent,
				 (long long)t->monthly_budget,
				 (long long)runs.overrun);
			return -1;
		}
	}
	return 0;
}
