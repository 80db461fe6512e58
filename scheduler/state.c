/* state.c - lookup tables for the core thread's records. */
#include "state.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void ptrvec_push(struct ptrvec *pv, void *p)
{
	pv->v = xgrow(pv->v, &pv->alloc, pv->n + 1, sizeof(*pv->v));
	pv->v[pv->n++] = p;
}

void ptrvec_remove_at(struct ptrvec *pv, size_t i)
{
	pv->v[i] = pv->v[--pv->n];
}

void state_init(struct sched_state *st)
{
	memset(st, 0, sizeof(*st));
	st->next_agent_no = 1;
}

static void free_all(struct ptrvec *pv)
{
	for (size_t i = 0; i < pv->n; i++)
		free(pv->v[i]);
	free(pv->v);
	memset(pv, 0, sizeof(*pv));
}

void state_release(struct sched_state *st)
{
	for (size_t i = 0; i < st->jobs.n; i++)
		job_release(st->jobs.v[i]);
	for (size_t i = 0; i < st->agents.n; i++)
		free(((struct agent *)st->agents.v[i])->last_reply);
	for (size_t i = 0; i < st->queues.n; i++)
		free(((struct env_queue *)st->queues.v[i])->runs.v);
	free_all(&st->tenants);
	free_all(&st->envs);
	free_all(&st->agents);
	free_all(&st->tokens);
	free_all(&st->jobs);
	free_all(&st->queues);
	for (size_t i = 0; i < st->nruns; i++)
		free(st->runs[i]);
	free(st->runs);
	state_init(st);
}

/* Every record type starts with its key as a char array. */
static void *find_by_key(struct ptrvec *pv, const char *key)
{
	for (size_t i = 0; i < pv->n; i++)
		if (!strcmp((const char *)pv->v[i], key))
			return pv->v[i];
	return NULL;
}

struct tenant *state_tenant(struct sched_state *st, const char *name)
{
	return find_by_key(&st->tenants, name);
}

struct env *state_env(struct sched_state *st, const char *key)
{
	return find_by_key(&st->envs, key);
}

struct agent *state_agent(struct sched_state *st, const char *id)
{
	return find_by_key(&st->agents, id);
}

struct token *state_token(struct sched_state *st, const char *hash)
{
	return find_by_key(&st->tokens, hash);
}

struct job *state_job(struct sched_state *st, const char *key)
{
	return find_by_key(&st->jobs, key);
}

struct run *state_run(struct sched_state *st, uint64_t id)
{
	if (id == 0 || id > st->nruns)
		return NULL;
	return st->runs[id - 1];
}

void state_add_tenant(struct sched_state *st, struct tenant *t)
{
	ptrvec_push(&st->tenants, t);
}

void state_add_env(struct sched_state *st, struct env *e)
{
	ptrvec_push(&st->envs, e);
}

void state_add_agent(struct sched_state *st, struct agent *a)
{
	ptrvec_push(&st->agents, a);
}

void state_add_token(struct sched_state *st, struct token *t)
{
	ptrvec_push(&st->tokens, t);
}

void state_add_job(struct sched_state *st, struct job *j)
{
	ptrvec_push(&st->jobs, j);
}

static void ensure_run_slot(struct sched_state *st, uint64_t id)
{
	if (id <= st->nruns)
		return;
	st->runs = xgrow(st->runs, &st->aruns, id, sizeof(*st->runs));
	memset(st->runs + st->nruns, 0,
	       (id - st->nruns) * sizeof(*st->runs));
	st->nruns = id;
}

void state_add_run(struct sched_state *st, struct run *r)
{
	ensure_run_slot(st, r->id);
	st->runs[r->id - 1] = r;
	if (r->state == RUN_QUEUED)
		queue_push(st, r);
}

struct run *state_new_run(struct sched_state *st)
{
	struct run *r = xcalloc(1, sizeof(*r));
	r->id = st->nruns + 1;
	r->exit_code = -1;
	ensure_run_slot(st, r->id);
	st->runs[r->id - 1] = r;
	return r;
}

static struct env_queue *env_queue(struct sched_state *st, const char *env,
				   bool create)
{
	struct env_queue *q = find_by_key(&st->queues, env);
	if (q || !create)
		return q;
	q = xcalloc(1, sizeof(*q));
	strcpy(q->env, env); /* same size as the run's env field */
	ptrvec_push(&st->queues, q);
	return q;
}

void queue_push(struct sched_state *st, struct run *r)
{
	ptrvec_push(&env_queue(st, r->env, true)->runs, r);
}

void queue_remove(struct sched_state *st, struct run *r)
{
	struct env_queue *q = env_queue(st, r->env, false);
	if (!q)
		return;
	for (size_t i = 0; i < q->runs.n; i++) {
		if (q->runs.v[i] == r) {
			ptrvec_remove_at(&q->runs, i);
			return;
		}
	}
}

/* true if a should be dispatched before b */
static bool run_before(const struct run *a, const struct run *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return a->id < b->id;
}

struct run *queue_pick(struct sched_state *st, const char *env)
{
	struct env_queue *q = env_queue(st, env, false);
	struct run *best = NULL;
	if (!q)
		return NULL;
	for (size_t i = 0; i < q->runs.n; i++) {
		struct run *r = q->runs.v[i];
		if (!best || run_before(r, best))
			best = r;
	}
	return best;
}

size_t queue_position(struct sched_state *st, const struct run *r)
{
	struct env_queue *q = env_queue(st, r->env, false);
	size_t pos = 1;
	if (!q)
		return 0;
	for (size_t i = 0; i < q->runs.n; i++)
		if (q->runs.v[i] != r && run_before(q->runs.v[i], r))
			pos++;
	return pos;
}

size_t queue_length(struct sched_state *st, const char *env)
{
	struct env_queue *q = env_queue(st, env, false);
	return q ? q->runs.n : 0;
}
