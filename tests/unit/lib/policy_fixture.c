/* policy_fixture.c - see policy_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_fixture.h"
#include "util.h"


struct tenant *add_tenant(struct sched_state *st, const char *name)
{
	struct tenant *t = xcalloc(1, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->weight = 1;
	state_add_tenant(st, t);
	return t;
}

struct env *add_env(struct sched_state *st, const char *tenant,
			   const char *name)
{
	struct env *e = xcalloc(1, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s/%s", tenant, name);
	snprintf(e->tenant, sizeof(e->tenant), "%s", tenant);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->state = ENV_READY;
	state_add_env(st, e);
	return e;
}

struct job *add_job(struct sched_state *st, struct env *e,
			   const char *name, uint32_t max_attempts)
{
	struct job *j = xcalloc(1, sizeof(*j));
	snprintf(j->key, sizeof(j->key), "%s/%s", e->key, name);
	snprintf(j->tenant, sizeof(j->tenant), "%s", e->tenant);
	snprintf(j->env, sizeof(j->env), "%s", e->key);
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->max_attempts = max_attempts;
	j->driver_cores = 1;
	state_add_job(st, j);
	return j;
}

struct agent *add_agent(struct sched_state *st, const char *id,
			       const struct env *e)
{
	struct agent *a = xcalloc(1, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->env, sizeof(a->env), "%s", e->key);
	a->state = AGENT_ACTIVE;
	a->preflight_ok = true;
	a->slots = 4;
	state_add_agent(st, a);
	return a;
}

int policy_fx_setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	state_init(&f->st);
	f->t = add_tenant(&f->st, "t");
	f->u = add_tenant(&f->st, "u");
	f->e = add_env(&f->st, "t", "e");
	f->ue = add_env(&f->st, "u", "e");
	f->j = add_job(&f->st, f->e, "j", 3);
	f->j2 = add_job(&f->st, f->e, "j2", 1);
	f->uj = add_job(&f->st, f->ue, "k", 1);
	f->a1 = add_agent(&f->st, "a1", f->e);
	f->a2 = add_agent(&f->st, "a2", f->e);
	f->b1 = add_agent(&f->st, "b1", f->ue);
	policy_limits_defaults(&f->lim);
	f->lim.lease_ttl_ms = 1000;
	f->lim.aging_ms = 100;
	f->lim.retry_base_ms = 1000;
	f->lim.retry_max_ms = 8000;
	f->lim.max_lost_leases = 2;
	policy_init(&f->p, &f->st, &f->lim, 1000000, 5000);
	*state = f;
	return 0;
}

int policy_fx_teardown(void **state)
{
	struct fx *f = *state;
	policy_release(&f->p);
	state_release(&f->st);
	free(f);
	return 0;
}

void advance(struct fx *f, int64_t ms)
{
	policy_set_clock(&f->p, f->p.now_ms + ms, f->p.now_mono + ms);
	policy_tick(&f->p);
}

struct run *submit(struct fx *f, struct job *j, int prio,
			  const char *key)
{
	struct run *r = NULL;
	struct refusal why;
	assert_true(policy_submit(&f->p, j, prio, key, &r, &why) >= 0);
	return r;
}

size_t lease(struct fx *f, struct agent *a, size_t max,
		    struct run **out)
{
	policy_heard(&f->p, a);
	return policy_lease(&f->p, a, max, out);
}

int complete(struct fx *f, struct run *r, enum run_state res,
		    const char *cls)
{
	struct completion c = { .result = res, .exit_code = 1,
				.reason = "boom", .failure_class = cls };
	return policy_complete(&f->p, r, &c);
}


void policy_fx_rebuild(struct policy *p, struct sched_state *st,
		       const struct policy_limits *lim, int64_t now_ms,
		       int64_t now_mono)
{
	policy_release(p);
	for (size_t i = 0; i < st->agents.n; i++)
		((struct agent *)st->agents.v[i])->held.n = 0;
	for (size_t i = 0; i < st->jobs.n; i++) {
		struct job *j = st->jobs.v[i];
		runq_release(&j->queue);
		j->n_running = 0;
	}
	for (size_t i = 0; i < st->envs.n; i++) {
		struct env *e = st->envs.v[i];
		e->n_queued = e->n_running = 0;
	}
	for (size_t i = 0; i < st->tenants.n; i++) {
		struct tenant *t = st->tenants.v[i];
		t->n_queued = t->n_running = 0;
	}
	policy_init(p, st, lim, now_ms, now_mono);
}

void policy_fx_restart(struct fx *f, int64_t now_ms, int64_t now_mono)
{
	policy_fx_rebuild(&f->p, &f->st, &f->lim, now_ms, now_mono);
}
