/* policy_view.c - read-only explanations of the queues for operators. */
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "util.h"

/* Entries of q that come before (key, id); q is a heap, so this is a scan. */
static size_t count_before(const struct runq *q, int64_t key, uint64_t id)
{
	size_t n = 0;
	for (size_t i = 0; i < q->n; i++)
		if (q->v[i].key < key || (q->v[i].key == key && q->v[i].id < id))
			n++;
	return n;
}

size_t policy_queue_position(struct policy *p, const struct run *r)
{
	const struct env *e = r->job->envp;
	const struct runq *own = &r->job->queue;
	size_t pos = 1;
	int64_t key;

	if (r->state != RUN_QUEUED || !runq_contains(own, r) ||
	    runq_contains(&p->backoff, r))
		return 0;
	key = own->v[r->qidx].key;
	for (size_t i = 0; i < e->jobs.n; i++)
		pos += count_before(&((struct job *)e->jobs.v[i])->queue, key,
				    r->id);
	return pos;
}

int64_t policy_queued_since(const struct run *r)
{
	/* 0 only in a format-1 record that lacks state_ms */
	return r->queued_ms ? r->queued_ms : r->created_ms;
}

static void older(int64_t *slot, const struct run *r)
{
	int64_t since = policy_queued_since(r);
	if (slot && since > 0 && (!*slot || since < *slot))
		*slot = since;
}

void policy_oldest_queued(struct policy *p, int64_t *env_since,
			  int64_t *tenant_since)
{
	struct sched_state *st = p->st;
	struct hmap envs = { 0 }, tenants = { 0 };

	/* Slots by name, so that a run in the one backoff queue finds its
	 * environment's and tenant's without a search. */
	for (size_t i = 0; i < st->tenants.n; i++) {
		tenant_since[i] = 0;
		hmap_puts(&tenants, ((struct tenant *)st->tenants.v[i])->name,
			  &tenant_since[i]);
	}
	for (size_t i = 0; i < st->envs.n; i++) {
		const struct env *e = st->envs.v[i];
		int64_t *t = hmap_gets(&tenants, e->tenant);
		env_since[i] = 0;
		hmap_puts(&envs, e->key, &env_since[i]);
		for (size_t j = 0; j < e->jobs.n; j++) {
			const struct runq *q = &((struct job *)e->jobs.v[j])->queue;
			for (size_t k = 0; k < q->n; k++) {
				older(&env_since[i], q->v[k].run);
				older(t, q->v[k].run);
			}
		}
	}
	for (size_t k = 0; k < p->backoff.n; k++) {
		const struct run *r = p->backoff.v[k].run;
		older(hmap_gets(&envs, run_env(r)), r);
		older(hmap_gets(&tenants, run_tenant(r)), r);
	}
	hmap_release(&envs);
	hmap_release(&tenants);
}

static bool env_has_worker(struct policy *p, const struct env *e)
{
	for (size_t i = 0; i < p->st->agents.n; i++) {
		const struct agent *ag = p->st->agents.v[i];
		if (!strcmp(ag->env, e->key) && policy_agent_may_work(p, ag))
			return true;
	}
	return false;
}

/* "waiting for runs 12 (running), 13 (queued) to succeed" */
static void why_dependencies(struct policy *p, const struct run *r,
			     char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "waiting for run%s ",
				    r->x->nafter > 1 ? "s" : "");
	bool first = true;

	for (uint32_t i = 0; i < r->x->nafter && n < len; i++) {
		const struct run *d = state_run(p->st, r->x->after[i]);
		if (!d || run_state_terminal(d->state))
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%llu (%s)",
				      first ? "" : ", ",
				      (unsigned long long)d->id,
				      run_state_label(d));
		first = false;
	}
	if (n < len)
		snprintf(buf + n, len - n, " to %s%s",
			 r->x->after_any ? "end" : "succeed",
			 r->held ? "; held too" : "");
}

void policy_why_waiting(struct policy *p, const struct run *r, char *buf,
			size_t len)
{
	const struct job *j = r->job;
	const struct env *e = j->envp;
	struct tenant *t = j->tenantp;

	if (r->state != RUN_QUEUED)
		snprintf(buf, len, "-");
	else if (r->waiting)
		why_dependencies(p, r, buf, len);
	else if (r->held)
		snprintf(buf, len, "held by %s (spctl run release %llu)",
			 r->x && r->x->held_by ? r->x->held_by : "?",
			 (unsigned long long)r->id);
	else if (runq_contains(&p->backoff, r))
		snprintf(buf, len,
			 "retry backoff: attempt %u may start in %lld ms",
			 r->attempt, (long long)(run_not_before(r) - p->now_ms));
	else if (p->paused)
		snprintf(buf, len,
			 "dispatch is paused for all tenants (spctl dispatch resume)");
	else if (t->suspended_ms)
		snprintf(buf, len,
			 "tenant %s is suspended (spctl tenant resume %s)",
			 t->name, t->name);
	else if (e->state != ENV_READY)
		snprintf(buf, len, "environment %s is %s: %s", e->key,
			 env_state_name(e->state), e->state_reason);
	else if (!env_has_worker(p, e))
		snprintf(buf, len, "no active agent with a passed preflight in environment %s",
			 e->key);
	else if (t->max_running && t->n_running >= t->max_running)
		snprintf(buf, len, "tenant %s is at max-running: %u of %u runs live",
			 t->name, t->n_running, t->max_running);
	else if (!budget_may_dispatch(p, t, buf, len))
		; /* buf says which: the hard budget, the guard or the breaker */
	else if (e->max_concurrent && e->n_running >= e->max_concurrent)
		snprintf(buf, len,
			 "environment %s is at max-concurrent: %u of %u runs live",
			 e->key, e->n_running, e->max_concurrent);
	else if (j->max_concurrent && j->n_running >= j->max_concurrent)
		snprintf(buf, len, "job %s is at max-concurrent: %u of %u runs live",
			 j->key, j->n_running, j->max_concurrent);
	else
		snprintf(buf, len,
			 "position %zu of %u in the queue of %s, waiting for a free agent slot",
			 policy_queue_position(p, r), e->n_queued, e->key);
}
