/*
 * sp-sim - deterministic simulation of the scheduling core (policy.c).
 *
 * A fake clock, a random world (tenants, environments, jobs with retry and
 * concurrency limits, agents with slots) and simulated agents that run
 * work, complete it, die, stall behind a partition, come back and report
 * late. Every step is chosen by a seeded PRNG, and after every step the
 * invariants are checked:
 *   - no run lost: every run is in exactly one place (a job queue, the
 *     backoff queue, or the held list of the agent it is leased to);
 *   - none completed twice: at most one accepted completion per run, and
 *     a terminal run was recorded terminal exactly once;
 *   - no two live leases: at most one agent holds a run under its epoch;
 *   - counters and caps: queued/running counts match a recount, and no
 *     tenant, environment or job runs more than its cap (quotas also
 *     change at random, as `tenant set` does: a lowered cap evicts no
 *     run, but none is dispatched past it);
 *   - the oldest queued age of each tenant and environment is shown
 *     exactly when it has queued runs, and never lies in the future
 *     (a run in retry backoff counts from when it was requeued);
 *   - idempotency keys return the run they first created;
 *   - cost control (sim_cost.h): one tenant has a hard budget; the day
 *     roll-ups add up to the runs, reservations to a recount, and its
 *     spend stays within the budget but for its runs' own overruns;
 *   - under overload, tenants are served in proportion to their weights
 *     (within 5%) and a light tenant is not starved.
 * At the end the world is healed and driven until every run has ended,
 * then fair queueing is checked. A failure prints its seed, step and phase
 * and the command that replays it exactly: the same seed with the same
 * --steps (the drain and the fair-share check follow the random steps, so
 * a shorter run would replay another sequence).
 *
 *   sp-sim [--seeds N] [--seed S] [--steps M] [--verbose]
 *
 * With --schedules, the recurring schedules' scenario instead (each seed
 * a simulated year; sim_sched.h), in zone --tz ZONE when it loads (else
 * UTC):
 *
 *   sp-sim --schedules [--tz Europe/Berlin] [--seeds N] [--seed S]
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fairq.h"
#include "policy.h"
#include "sim_cost.h"
#include "sim_flow.h"
#include "sim_sched.h"
#include "util.h"

#define MAX_AGENTS 32
#define MAX_HELD 8
#define MAX_TENANTS 8

static uint64_t rng_state;
static const char *prog = "bin/sp-sim"; /* as invoked, for the replay hint */

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static bool chance(uint32_t percent)
{
	return rnd_below(100) < percent;
}

struct sim_held {
	uint64_t run, epoch;
	int64_t done_at;   /* when the Spark job ends */
	enum run_state result;
	const char *cls;
	bool reported_running;
};

struct sim_agent {
	struct agent *ag;
	bool alive;
	int64_t partitioned_until; /* cannot reach the scheduler until then */
	struct sim_held held[MAX_HELD];
	size_t nheld;
};

struct world {
	struct sched_state st;
	struct policy p;
	struct policy_limits lim;
	struct sim_agent agents[MAX_AGENTS];
	size_t nagents;
	uint32_t *accepted;  /* accepted completions per run id */
	size_t naccepted;
	uint64_t seed, step;
	uint64_t steps;      /* random steps asked for (--steps) */
	const char *phase;   /* "random steps", "drain", "fair share" */
	/* per tenant: live runs over a lowered max-running that may stay */
	uint32_t run_allow[MAX_TENANTS];
	bool verbose;
	/* statistics */
	uint64_t submits, refusals, completes, stale, deaths, partitions;
	uint64_t restarts, cancels, limit_changes;
	uint64_t dependents, flow_ops;
};

static void fail(struct world *w, const char *fmt, ...) SP_PRINTF(2, 3);
static void fail(struct world *w, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sim: seed %llu step %llu (%s): invariant violated: ",
		(unsigned long long)w->seed, (unsigned long long)w->step,
		w->phase);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nsim: replay with: %s --seed %llu --steps %llu --verbose\n",
		prog, (unsigned long long)w->seed,
		(unsigned long long)w->steps);
	exit(1);
}

/* ---- the world ---- */

static void random_limits(struct tenant *t)
{
	t->max_running = chance(50) ? 1 + rnd_below(6) : 0;
	t->max_queued = chance(30) ? 5 + rnd_below(50) : 0;
	t->submit_rate = chance(30) ? 1 + rnd_below(20) : 0;
}

static unsigned pick(unsigned n)
{
	return rnd_below(n);
}

static void build_world(struct world *w)
{
	static const char *const tenants[] = { "acme", "globex", "initech" };
	char name[64];

	state_init(&w->st);
	for (size_t ti = 0; ti < ARRAY_SIZE(tenants); ti++) {
		struct tenant *t = xcalloc(1, sizeof(*t));
		snprintf(t->name, sizeof(t->name), "%s", tenants[ti]);
		t->weight = 1u << ti;
		random_limits(t);
		state_add_tenant(&w->st, t);
		uint32_t nenv = 1 + rnd_below(2);
		for (uint32_t ei = 0; ei < nenv; ei++) {
			struct env *e = xcalloc(1, sizeof(*e));
			snprintf(e->tenant, sizeof(e->tenant), "%s", t->name);
			snprintf(e->name, sizeof(e->name), "env%u", ei);
			snprintf(e->key, sizeof(e->key), "%s/env%u", t->name, ei);
			e->state = ENV_READY;
			e->max_concurrent = chance(30) ? 1 + rnd_below(4) : 0;
			e->price_vcpu_hour = 50000;
			state_add_env(&w->st, e);
			uint32_t njob = 1 + rnd_below(3);
			for (uint32_t ji = 0; ji < njob; ji++) {
				struct job *j = xcalloc(1, sizeof(*j));
				snprintf(j->tenant, sizeof(j->tenant), "%s", t->name);
				snprintf(j->env, sizeof(j->env), "%s", e->key);
				snprintf(j->name, sizeof(j->name), "job%u", ji);
				snprintf(j->key, sizeof(j->key), "%s/job%u", e->key, ji);
				j->max_attempts = 1 + rnd_below(4);
				j->max_concurrent = chance(30) ? 1 + rnd_below(3) : 0;
				j->driver_cores = 1;
				state_add_job(&w->st, j);
			}
			uint32_t nag = 1 + rnd_below(3);
			for (uint32_t ai = 0; ai < nag && w->nagents < MAX_AGENTS; ai++) {
				struct agent *a = xcalloc(1, sizeof(*a));
				snprintf(name, sizeof(name), "ag-%zu", w->nagents + 1);
				snprintf(a->id, sizeof(a->id), "%s", name);
				snprintf(a->env, sizeof(a->env), "%s", e->key);
				a->state = AGENT_ACTIVE;
				a->preflight_ok = true;
				a->slots = 1 + rnd_below(MAX_HELD);
				state_add_agent(&w->st, a);
				w->agents[w->nagents].ag = a;
				w->agents[w->nagents++].alive = true;
			}
		}
	}
	sim_cost_setup(&w->st, 30000000 + rnd_below(60000000), pick);
	policy_limits_defaults(&w->lim);
	w->lim.lease_ttl_ms = 2000 + rnd_below(3000);
	w->lim.aging_ms = 100 + rnd_below(5000);
	w->lim.retry_base_ms = 50 + rnd_below(500);
	w->lim.retry_max_ms = w->lim.retry_base_ms * 8;
	w->lim.max_lost_leases = 3 + rnd_below(5);
	w->lim.max_queued_total = chance(30) ? 40 + rnd_below(100) : 0;
	w->lim.idempotency_ttl_ms = 20000; /* short, so that pruning runs */
	policy_init(&w->p, &w->st, &w->lim, 1800000000000LL, 1000);
}

static struct job *random_job(struct world *w)
{
	return w->st.jobs.v[rnd_below((uint32_t)w->st.jobs.n)];
}

static void note_accepted(struct world *w, uint64_t id)
{
	if (id >= w->naccepted) {
		size_t n = w->naccepted ? w->naccepted : 64;
		while (n <= id)
			n *= 2;
		w->accepted = xrealloc(w->accepted, n * sizeof(*w->accepted));
		memset(w->accepted + w->naccepted, 0,
		       (n - w->naccepted) * sizeof(*w->accepted));
		w->naccepted = n;
	}
	if (++w->accepted[id] > 1)
		fail(w, "run %llu completed twice", (unsigned long long)id);
}

/* ---- actions ---- */

static void act_submit(struct world *w)
{
	struct job *j = random_job(w);
	struct tenant *t = j->tenantp;
	char key[32];
	const char *idem = NULL;
	struct run *r = NULL;
	struct refusal why;
	uint32_t queued_before = t->n_queued;
	uint64_t total_before = w->p.queued_total;

	if (chance(30)) {
		snprintf(key, sizeof(key), "key-%u", rnd_below(20));
		idem = key;
	}
	struct submit_opts o = { .priority = (int32_t)rnd_below(11) - 5,
				 .idem_key = idem, .hold = chance(5) };
	if (chance(25) && (o.x = sim_flow_random_after(&w->st, t, pick)))
		w->dependents++;
	if (o.hold) {
		o.x = o.x ? o.x : xcalloc(1, sizeof(*o.x));
		o.x->held_by = xstrdup("uid:1");
	}
	int rc = policy_submit_ex(&w->p, j, &o, &r, &why);
	if (rc != 0)
		run_extra_free(o.x);
	if (rc < 0) {
		w->refusals++;
		if (!why.code || !why.message[0])
			fail(w, "a refusal without a code or message");
		return;
	}
	w->submits++;
	if (rc == 1) {
		if (!r->idem_key || strcmp(r->idem_key, idem) ||
		    r->job->tenantp != t)
			fail(w, "idempotency key %s returned run %llu of another key",
			     idem, (unsigned long long)r->id);
		return;
	}
	if (t->max_queued && queued_before >= t->max_queued)
		fail(w, "tenant %s admitted past max-queued %u", t->name,
		     t->max_queued);
	if (w->lim.max_queued_total && total_before >= w->lim.max_queued_total)
		fail(w, "admitted past the global queued limit");
}

static void agent_reconcile(struct world *w, struct sim_agent *sa)
{
	struct held_run held[MAX_HELD];
	uint64_t cancel[MAX_HELD];
	size_t n;

	for (size_t i = 0; i < sa->nheld; i++) {
		held[i].run = sa->held[i].run;
		held[i].epoch = sa->held[i].epoch;
	}
	policy_heard(&w->p, sa->ag);
	n = policy_reconcile(&w->p, sa->ag, held, sa->nheld, cancel, MAX_HELD);
	/* told to stop: the agent kills those runs and forgets them */
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < sa->nheld; i++)
			if (sa->held[i].run == cancel[k]) {
				sa->held[i] = sa->held[--sa->nheld];
				break;
			}
}

static void act_poll(struct world *w, struct sim_agent *sa)
{
	struct run *got[MAX_HELD];
	size_t free_slots = sa->ag->slots - sa->nheld, n;

	/* "held" is optional in the protocol: sometimes poll without it, so
	 * that fencing by epoch alone is exercised too */
	if (chance(50))
		agent_reconcile(w, sa);
	else
		policy_heard(&w->p, sa->ag);
	if (!free_slots)
		return;
	n = policy_lease(&w->p, sa->ag, free_slots, got);
	for (size_t i = 0; i < n; i++) {
		struct sim_held *h = &sa->held[sa->nheld++];
		uint32_t roll = rnd_below(100);
		h->run = got[i]->id;
		h->epoch = run_epoch(got[i]);
		h->done_at = w->p.now_ms + 10 + rnd_below(3000);
		h->reported_running = false;
		h->cls = NULL;
		h->result = RUN_SUCCEEDED;
		if (roll < 25) {
			h->result = RUN_FAILED;
			h->cls = roll < 5 ? "class_not_found" : roll < 15 ? "node_lost" : NULL;
		} else if (roll < 28) {
			h->result = RUN_TIMED_OUT;
		}
	}
}

/* The agent reports progress and ends what is due. */
static void act_report(struct world *w, struct sim_agent *sa)
{
	for (size_t i = 0; i < sa->nheld;) {
		struct sim_held *h = &sa->held[i];
		struct run *r;
		bool due = w->p.now_ms >= h->done_at;

		if (!due && h->reported_running) {
			i++;
			continue;
		}
		r = policy_owned(&w->p, sa->ag, h->run, h->epoch);
		if (r && (run_epoch(r) != h->epoch ||
			  strcmp(run_agent(r), sa->ag->id)))
			fail(w, "a report for run %llu under epoch %llu was accepted "
				"while the lease is epoch %llu on %s",
			     (unsigned long long)h->run,
			     (unsigned long long)h->epoch,
			     (unsigned long long)run_epoch(r), run_agent(r));
		if (!r) { /* stale: a lease lost while partitioned */
			w->stale++;
			sa->held[i] = sa->held[--sa->nheld];
			continue;
		}
		if (!due) {
			policy_progress(&w->p, r, RUN_RUNNING, "app");
			h->reported_running = true;
			i++;
			continue;
		}
		struct completion c = {
			.result = r->cancel_requested ? RUN_CANCELLED : h->result,
			.exit_code = h->result == RUN_SUCCEEDED ? 0 : 1,
			.reason = "simulated",
			.failure_class = h->cls,
		};
		if (policy_complete(&w->p, r, &c) == 0)
			note_accepted(w, r->id);
		w->completes++;
		sa->held[i] = sa->held[--sa->nheld];
	}
}

static void act_cancel(struct world *w)
{
	struct refusal why;
	struct run *r;

	if (!w->st.nruns)
		return;
	r = w->st.runs[rnd_below((uint32_t)w->st.nruns)];
	if (policy_cancel(&w->p, r, &why) == 0)
		w->cancels++;
	else if (!run_state_terminal(r->state))
		fail(w, "cancel of live run %llu refused: %s",
		     (unsigned long long)r->id, why.message);
}

/* An operator changes a tenant's quotas (`tenant set`). */
static void act_set_limits(struct world *w)
{
	uint32_t i = rnd_below((uint32_t)w->st.tenants.n);
	struct tenant *t = w->st.tenants.v[i], want = *t;

	random_limits(&want);
	policy_set_tenant_limits(&w->p, t, want.max_running, want.max_queued,
				 want.submit_rate);
	if (t->max_running != want.max_running ||
	    t->max_queued != want.max_queued ||
	    t->submit_rate != want.submit_rate)
		fail(w, "tenant %s: limits not applied", t->name);
	if (t->submit_rate && t->rate_tokens > (int64_t)t->submit_rate * 1000)
		fail(w, "tenant %s: %lld millitokens over a rate of %u/s",
		     t->name, (long long)t->rate_tokens, t->submit_rate);
	w->run_allow[i] = t->n_running;
	w->limit_changes++;
}

/* The scheduler restarts: the policy is rebuilt from the records alone
 * (the pure-core half of crash recovery; kill-scheduler.sh does the
 * processes). */
static void act_restart(struct world *w)
{
	policy_take_dirty(&w->p, NULL, NULL);
	policy_release(&w->p);
	for (size_t i = 0; i < w->st.agents.n; i++)
		((struct agent *)w->st.agents.v[i])->held.n = 0;
	for (size_t i = 0; i < w->st.jobs.n; i++) {
		struct job *j = w->st.jobs.v[i];
		runq_release(&j->queue);
		j->n_running = 0;
	}
	for (size_t i = 0; i < w->st.envs.n; i++) {
		struct env *e = w->st.envs.v[i];
		e->n_queued = e->n_running = 0;
	}
	for (size_t i = 0; i < w->st.tenants.n; i++) {
		struct tenant *t = w->st.tenants.v[i];
		t->n_queued = t->n_running = 0;
	}
	int64_t now = w->p.now_ms, mono = w->p.now_mono;
	bool paused = w->p.paused;
	policy_init(&w->p, &w->st, &w->lim, now, mono);
	w->p.paused = paused;
	w->restarts++;
}

static void step(struct world *w, bool chaos)
{
	struct sim_agent *sa = &w->agents[rnd_below((uint32_t)w->nagents)];
	uint32_t roll = rnd_below(1000);
	int64_t dt = rnd_below(60);
	char msg[320];

	policy_set_clock(&w->p, w->p.now_ms + dt, w->p.now_mono + dt);
	policy_tick(&w->p);
	bool reachable = sa->alive && w->p.now_ms >= sa->partitioned_until;

	if (roll < 250) {
		act_submit(w);
	} else if (roll < 550) {
		if (reachable)
			act_poll(w, sa);
	} else if (roll < 850) {
		if (reachable)
			act_report(w, sa);
	} else if (roll < 880) {
		act_cancel(w);
	} else if (chaos && roll < 890) {
		/* the agent dies: its Spark jobs die with it */
		sa->alive = false;
		sa->nheld = 0;
		w->deaths++;
	} else if (roll < 920) {
		if (!sa->alive) { /* restarts empty and reports so */
			sa->alive = true;
			agent_reconcile(w, sa);
		}
	} else if (chaos && roll < 930) {
		/* partitioned: keeps running, cannot report, comes back late */
		sa->partitioned_until = w->p.now_ms + rnd_below(8000);
		w->partitions++;
	} else if (chaos && roll < 933) {
		act_restart(w);
	} else if (chaos && roll < 936) {
		w->p.paused = !w->p.paused;
	} else if (chaos && roll < 940) {
		act_set_limits(w);
	} else if (roll < 960) {
		int rc = sim_flow_act(&w->p, pick, msg, sizeof(msg));
		if (rc < 0)
			fail(w, "%s", msg);
		w->flow_ops += (uint64_t)rc;
	}
	policy_take_dirty(&w->p, NULL, NULL);
}

/* ---- invariants ---- */

/* queue stats' oldest queued age: present exactly when something is
 * queued that may be dispatched (not held, not waiting for other runs),
 * never in the future. */
static void check_oldest(struct world *w)
{
	int64_t *env = xcalloc(w->st.envs.n + 1, sizeof(*env));
	int64_t *ten = xcalloc(w->st.tenants.n + 1, sizeof(*ten));
	uint32_t *eq = xcalloc(w->st.envs.n + 1, sizeof(*eq));
	uint32_t *tq = xcalloc(w->st.tenants.n + 1, sizeof(*tq));

	for (size_t k = 0; k < w->st.nruns; k++) {
		const struct run *r = w->st.runs[k];
		if (r->state != RUN_QUEUED || r->held || r->waiting)
			continue;
		for (size_t i = 0; i < w->st.envs.n; i++)
			eq[i] += w->st.envs.v[i] == r->job->envp;
		for (size_t i = 0; i < w->st.tenants.n; i++)
			tq[i] += w->st.tenants.v[i] == r->job->tenantp;
	}
	policy_oldest_queued(&w->p, env, ten);
	for (size_t i = 0; i < w->st.envs.n; i++) {
		const struct env *e = w->st.envs.v[i];
		if (!env[i] != !eq[i] || env[i] > w->p.now_ms)
			fail(w, "env %s: %u queued, oldest since %lld (now %lld)",
			     e->key, e->n_queued, (long long)env[i],
			     (long long)w->p.now_ms);
	}
	for (size_t i = 0; i < w->st.tenants.n; i++) {
		const struct tenant *t = w->st.tenants.v[i];
		if (!ten[i] != !tq[i] || ten[i] > w->p.now_ms)
			fail(w, "tenant %s: %u queued, oldest since %lld (now %lld)",
			     t->name, t->n_queued, (long long)ten[i],
			     (long long)w->p.now_ms);
	}
	free(env);
	free(ten);
	free(eq);
	free(tq);
}

static void check(struct world *w)
{
	struct policy *p = &w->p;
	uint64_t queued = 0, running = 0;
	char msg[320];

	if (sim_cost_check(p, msg, sizeof(msg)))
		fail(w, "%s", msg);
	for (size_t i = 0; i < w->st.tenants.n; i++) {
		struct tenant *t = w->st.tenants.v[i];
		uint32_t q = 0, r = 0;
		for (size_t k = 0; k < w->st.nruns; k++) {
			const struct run *run = w->st.runs[k];
			if (run->job->tenantp != t)
				continue;
			q += run->state == RUN_QUEUED;
			r += run->state >= RUN_LEASED && !run_state_terminal(run->state);
		}
		if (q != t->n_queued || r != t->n_running)
			fail(w, "tenant %s counts queued %u/%u running %u/%u",
			     t->name, t->n_queued, q, t->n_running, r);
		/* runs live when max-running was lowered may stay; each
		 * that ends lowers what may stay */
		uint32_t cap = t->max_running > w->run_allow[i]
				       ? t->max_running
				       : w->run_allow[i];
		if (t->max_running && t->n_running > cap)
			fail(w, "tenant %s runs %u > max-running %u", t->name,
			     t->n_running, t->max_running);
		if (t->n_running < w->run_allow[i])
			w->run_allow[i] = t->n_running;
	}
	check_oldest(w);
	for (size_t i = 0; i < w->st.envs.n; i++) {
		struct env *e = w->st.envs.v[i];
		if (e->max_concurrent && e->n_running > e->max_concurrent)
			fail(w, "env %s runs %u > max-concurrent %u", e->key,
			     e->n_running, e->max_concurrent);
	}
	for (size_t i = 0; i < w->st.jobs.n; i++) {
		struct job *j = w->st.jobs.v[i];
		if (j->max_concurrent && j->n_running > j->max_concurrent)
			fail(w, "job %s runs %u > max-concurrent %u", j->key,
			     j->n_running, j->max_concurrent);
	}
	/* who holds what, per run id: the scheduler's view (held lists)
	 * and the agents' (a lease they still act on under the current
	 * epoch, which the scheduler would accept) */
	uint32_t *holders = xcalloc(w->st.nruns + 1, sizeof(*holders));
	uint32_t *leases = xcalloc(w->st.nruns + 1, sizeof(*leases));
	for (size_t a = 0; a < w->nagents; a++) {
		struct sim_agent *sa = &w->agents[a];
		for (size_t i = 0; i < sa->ag->held.n; i++)
			holders[((struct run *)sa->ag->held.v[i])->id]++;
		for (size_t i = 0; i < sa->nheld; i++) {
			const struct run *r = state_run(&w->st, sa->held[i].run);
			leases[r->id] += sa->held[i].epoch == run_epoch(r) &&
					 !strcmp(run_agent(r), sa->ag->id) &&
					 !run_state_terminal(r->state) &&
					 r->state != RUN_QUEUED;
		}
	}
	for (size_t k = 0; k < w->st.nruns; k++) {
		struct run *r = w->st.runs[k];
		bool in_job = runq_contains(&r->job->queue, r);
		bool in_backoff = runq_contains(&p->backoff, r);
		size_t nholders = holders[r->id], live_leases = leases[r->id];
		if (live_leases > 1)
			fail(w, "run %llu has %zu live leases",
			     (unsigned long long)r->id, live_leases);
		if (sim_flow_check(&w->st, r, msg, sizeof(msg)))
			fail(w, "%s", msg);
		if (r->state == RUN_QUEUED && (r->held || r->waiting)) {
			queued++; /* counted, not dispatchable */
			if (in_job || in_backoff || nholders)
				fail(w, "%s run %llu is placed for dispatch",
				     run_state_label(r),
				     (unsigned long long)r->id);
		} else if (r->state == RUN_QUEUED) {
			queued++;
			if (in_job == in_backoff || nholders)
				fail(w, "queued run %llu: job queue %d backoff %d holders %zu",
				     (unsigned long long)r->id, in_job,
				     in_backoff, nholders);
		} else if (!run_state_terminal(r->state)) {
			running++;
			struct agent *ag = state_agent(&w->st, run_agent(r));
			bool held_by_it = false;
			for (size_t i = 0; ag && i < ag->held.n; i++)
				held_by_it |= ag->held.v[i] == r;
			if (in_job || in_backoff || nholders != 1 || !held_by_it)
				fail(w, "live run %llu: queued %d/%d, %zu holders, held by its agent %d",
				     (unsigned long long)r->id, in_job,
				     in_backoff, nholders, held_by_it);
		} else {
			if (in_job || in_backoff || nholders || r->completions != 1)
				fail(w, "ended run %llu still placed or recorded %u times",
				     (unsigned long long)r->id, r->completions);
		}
	}
	free(holders);
	free(leases);
	if (queued != p->queued_total || running != p->running_total)
		fail(w, "totals queued %llu/%llu running %llu/%llu",
		     (unsigned long long)p->queued_total,
		     (unsigned long long)queued,
		     (unsigned long long)p->running_total,
		     (unsigned long long)running);
}

/* Weighted fair queueing under overload (fairq.c, as the core thread uses
 * it when a turn cannot apply everything pending): backlogged tenants are
 * served in proportion to their weights, within FAIR_TOLERANCE of their
 * exact share, and a light tenant gets everything it asks for. */
#define FAIR_TOLERANCE 0.05
#define FAIR_STEPS 4000
#define FAIR_CAPACITY 40

static void check_fair_share(struct world *w)
{
	struct fairq q;
	uint32_t ntenants = 3 + rnd_below(4), weight[8];
	uint64_t served[8] = { 0 }, light_in = 0, wsum = 0, heavy = 0;
	char cls[8][8];
	static char token; /* items are opaque: the class is what counts */

	fairq_init(&q);
	for (uint32_t t = 0; t < ntenants; t++) {
		weight[t] = 1 + rnd_below(8);
		snprintf(cls[t], sizeof(cls[t]), "t%u", t);
	}
	for (uint32_t step = 0; step < FAIR_STEPS; step++) {
		/* tenant 0 is light: one event per step; the others flood */
		fairq_push(&q, cls[0], weight[0], &token);
		light_in++;
		for (uint32_t t = 1; t < ntenants; t++)
			for (uint32_t k = rnd_below(2 * FAIR_CAPACITY); k > 0; k--)
				fairq_push(&q, cls[t], weight[t], &token);
		for (uint32_t k = 0; k < FAIR_CAPACITY; k++) {
			size_t before[8];
			for (uint32_t t = 0; t < ntenants; t++)
				before[t] = fairq_len(&q, cls[t]);
			if (!fairq_pop(&q))
				break;
			for (uint32_t t = 0; t < ntenants; t++)
				served[t] += fairq_len(&q, cls[t]) < before[t];
		}
	}
	if (light_in - served[0] > 1)
		fail(w, "fair share: the light tenant got %llu of %llu events",
		     (unsigned long long)served[0],
		     (unsigned long long)light_in);
	for (uint32_t t = 1; t < ntenants; t++) {
		wsum += weight[t];
		heavy += served[t];
	}
	for (uint32_t t = 1; t < ntenants; t++) {
		double share = (double)served[t] / (double)heavy;
		double want = (double)weight[t] / (double)wsum;
		if (share < want * (1 - FAIR_TOLERANCE) ||
		    share > want * (1 + FAIR_TOLERANCE))
			fail(w, "fair share: tenant %u (weight %u of %llu) got %.4f, want %.4f",
			     t, weight[t], (unsigned long long)wsum, share, want);
	}
	fairq_release(&q);
}

/* Heals the world and runs until every run has ended. */
static void drain(struct world *w, uint64_t max_steps)
{
	struct tenant *t = w->st.tenants.v[0];

	w->p.paused = false;
	t->monthly_budget = 0; /* the operator lifts the hard budget */
	budget_changed(&w->p, t, "monthly-budget -> none");
	for (size_t a = 0; a < w->nagents; a++) {
		w->agents[a].alive = true;
		w->agents[a].partitioned_until = 0;
	}
	/* the operator releases every hold; waiting runs then follow the
	 * runs they wait for, which all end */
	for (size_t k = 0; k < w->st.nruns; k++) {
		struct refusal why;
		if (w->st.runs[k]->held &&
		    policy_release_hold(&w->p, w->st.runs[k], &why))
			fail(w, "release of run %zu refused: %s", k + 1,
			     why.message);
	}
	for (uint64_t i = 0; i < max_steps; i++, w->step++) {
		if (!w->p.queued_total && !w->p.running_total)
			return;
		struct sim_agent *sa = &w->agents[rnd_below((uint32_t)w->nagents)];
		int64_t dt = 20;
		policy_set_clock(&w->p, w->p.now_ms + dt, w->p.now_mono + dt);
		policy_tick(&w->p);
		if (chance(50))
			act_poll(w, sa);
		else
			act_report(w, sa);
		policy_take_dirty(&w->p, NULL, NULL);
		check(w);
	}
	fail(w, "%llu runs queued and %llu running after healing",
	     (unsigned long long)w->p.queued_total,
	     (unsigned long long)w->p.running_total);
}

static void free_world(struct world *w)
{
	policy_release(&w->p);
	state_release(&w->st);
	free(w->accepted);
}

static void run_seed(uint64_t seed, uint64_t steps, bool verbose,
		     struct world *total)
{
	struct world w;

	memset(&w, 0, sizeof(w));
	w.seed = seed;
	w.steps = steps;
	w.verbose = verbose;
	w.phase = "world set-up";
	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	build_world(&w);
	w.phase = "random steps";
	for (w.step = 0; w.step < steps; w.step++) {
		step(&w, true);
		check(&w);
	}
	w.phase = "drain";
	drain(&w, 200000);
	w.phase = "fair share";
	check_fair_share(&w);
	if (verbose)
		printf("seed %llu: %zu runs, %llu submits, %llu refused, %llu completes, "
		       "%llu stale, %llu agent deaths, %llu partitions, %llu restarts, "
		       "%llu limit changes, %llu dependent runs (%llu skipped), "
		       "%llu holds/releases/priorities\n",
		       (unsigned long long)seed, w.st.nruns,
		       (unsigned long long)w.submits,
		       (unsigned long long)w.refusals,
		       (unsigned long long)w.completes,
		       (unsigned long long)w.stale,
		       (unsigned long long)w.deaths,
		       (unsigned long long)w.partitions,
		       (unsigned long long)w.restarts,
		       (unsigned long long)w.limit_changes,
		       (unsigned long long)w.dependents,
		       (unsigned long long)w.p.skipped,
		       (unsigned long long)w.flow_ops);
	total->submits += w.submits;
	total->refusals += w.refusals;
	total->completes += w.completes;
	total->stale += w.stale;
	total->deaths += w.deaths;
	total->partitions += w.partitions;
	total->restarts += w.restarts;
	total->cancels += w.cancels;
	total->limit_changes += w.limit_changes;
	total->dependents += w.dependents;
	total->flow_ops += w.flow_ops;
	free_world(&w);
}

int main(int argc, char **argv)
{
	uint64_t seeds = 20, first = 1, steps = 2000;
	bool verbose = false, one = false, schedules = false;
	const char *tz = NULL;
	struct world total;

	prog = argv[0];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
			seeds = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			first = strtoull(argv[++i], NULL, 10), one = true;
		else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
			steps = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "--schedules"))
			schedules = true;
		else if (!strcmp(argv[i], "--tz") && i + 1 < argc)
			tz = argv[++i];
		else {
			fprintf(stderr, "usage: sp-sim [--seeds N] [--seed S] "
					"[--steps M] [--verbose]\n"
					"       sp-sim --schedules [--tz ZONE] "
					"[--seeds N] [--seed S] [--verbose]\n");
			return 2;
		}
	}
	if (one)
		seeds = 1;
	log_setup("sp-sim", verbose ? LOG_WARN : LOG_ERROR);
	if (schedules)
		return sim_sched_main(prog, first, seeds, tz, verbose);
	memset(&total, 0, sizeof(total));
	for (uint64_t s = first; s < first + seeds; s++)
		run_seed(s, steps, verbose, &total);
	printf("sim: %llu seeds x %llu steps: all invariants held "
	       "(%llu submits, %llu refused, %llu completions, %llu stale reports, "
	       "%llu agent deaths, %llu partitions, %llu restarts, %llu cancels, "
	       "%llu limit changes, %llu dependent runs, %llu holds/releases/"
	       "priorities)\n",
	       (unsigned long long)seeds, (unsigned long long)steps,
	       (unsigned long long)total.submits,
	       (unsigned long long)total.refusals,
	       (unsigned long long)total.completes,
	       (unsigned long long)total.stale,
	       (unsigned long long)total.deaths,
	       (unsigned long long)total.partitions,
	       (unsigned long long)total.restarts,
	       (unsigned long long)total.cancels,
	       (unsigned long long)total.limit_changes,
	       (unsigned long long)total.dependents,
	       (unsigned long long)total.flow_ops);
	return 0;
}
