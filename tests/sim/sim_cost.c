/* sim_cost.c - the cost-control invariants of the simulation (sim_cost.h). */
#include "sim_cost.h"

#include <stdio.h>
#include <string.h>

void sim_cost_setup(struct sched_state *st, int64_t budget,
		    unsigned (*pick)(unsigned n))
{
	struct tenant *t = st->tenants.v[0];

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

static void recount(struct sched_state *st, const struct tenant *t,
		    struct books *b)
{
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < st->nruns; i++) {
		const struct run *r = st->runs[i];
		if (r->job->tenantp != t)
			continue;
		b->cost += r->cost;
		if (run_state_terminal(r->state)) {
			b->ended++;
			b->ok += r->state == RUN_SUCCEEDED;
			b->failed += r->state == RUN_FAILED ||
				     r->state == RUN_TIMED_OUT;
		} else {
			b->committed += r->est_cost > r->cost
						? r->est_cost - r->cost
						: 0;
			b->live += r->state != RUN_QUEUED;
		}
		if (r->cost > r->est_cost)
			b->overrun += r->cost - r->est_cost;
	}
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

		recount(st, t, &runs);
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
				 "more than its runs' overruns (%lld)",
				 t->name, (long long)t->month_spent,
				 (long long)t->monthly_budget,
				 (long long)runs.overrun);
			return -1;
		}
	}
	return 0;
}
