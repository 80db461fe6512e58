/* state.c - lookup tables for the core thread's records. */
#include "state.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util.h"

/* Each state's number, so that a thread's last creator lookup is never
 * taken for another state's (one may reuse a freed one's address). */
static atomic_uint_fast64_t state_gens;

void state_init(struct sched_state *st)
{
	memset(st, 0, sizeof(*st));
	st->next_agent_no = 1;
	pthread_mutex_init(&st->creators_lock, NULL);
	st->creators_gen = atomic_fetch_add(&state_gens, 1) + 1;
}

static void free_all(struct ptrvec *pv)
{
	for (size_t i = 0; i < pv->n; i++)
		free(pv->v[i]);
	ptrvec_release(pv);
}

void state_release(struct sched_state *st)
{
	for (size_t i = 0; i < st->gone_tenants.n; i++)
		ptrvec_push(&st->tenants, st->gone_tenants.v[i]);
	for (size_t i = 0; i < st->gone_envs.n; i++)
		ptrvec_push(&st->envs, st->gone_envs.v[i]);
	for (size_t i = 0; i < st->gone_agents.n; i++)
		ptrvec_push(&st->agents, st->gone_agents.v[i]);
	for (size_t i = 0; i < st->gone_tokens.n; i++)
		ptrvec_push(&st->tokens, st->gone_tokens.v[i]);
	for (size_t i = 0; i < st->gone_jobs.n; i++)
		ptrvec_push(&st->jobs, st->gone_jobs.v[i]);
	ptrvec_release(&st->gone_tenants);
	ptrvec_release(&st->gone_envs);
	ptrvec_release(&st->gone_agents);
	ptrvec_release(&st->gone_tokens);
	ptrvec_release(&st->gone_jobs);
	for (size_t i = 0; i < st->jobs.n; i++)
		job_release(st->jobs.v[i]);
	for (size_t i = 0; i < st->envs.n; i++)
		ptrvec_release(&((struct env *)st->envs.v[i])->jobs);
	for (size_t i = 0; i < st->agents.n; i++) {
		struct agent *a = st->agents.v[i];
		free(a->last_reply);
		ptrvec_release(&a->held);
	}
	for (size_t i = 0; i < st->tenants.n; i++)
		ptrvec_release(&((struct tenant *)st->tenants.v[i])->live);
	free_all(&st->tenants);
	usage_release(&st->usage);
	free_all(&st->envs);
	free_all(&st->agents);
	free_all(&st->tokens);
	free_all(&st->jobs);
	hmap_release(&st->by_tenant);
	hmap_release(&st->by_env);
	hmap_release(&st->by_agent);
	hmap_release(&st->by_token);
	hmap_release(&st->by_job);
	for (size_t i = 0; i < st->nruns; i++)
		if (st->runs[i])
			run_clear(st->runs[i]);
	free(st->runs);
	free(st->stored);
	free_all(&st->slab.chunks);
	ptrvec_release(&st->slab.freed);
	free_all(&st->creators);
	hmap_release(&st->by_creator);
	pthread_mutex_destroy(&st->creators_lock);
	state_init(st);
}

struct tenant *state_tenant(struct sched_state *st, const char *name)
{
	return hmap_gets(&st->by_tenant, name);
}

struct env *state_env(struct sched_state *st, const char *key)
{
	return hmap_gets(&st->by_env, key);
}

struct env *state_env_live(struct sched_state *st, const char *key)
{
	struct env *e = state_env(st, key);
	return e && !e->deleted_ms ? e : NULL;
}

struct agent *state_agent(struct sched_state *st, const char *id)
{
	return hmap_gets(&st->by_agent, id);
}

struct token *state_token(struct sched_state *st, const char *hash)
{
	return hmap_gets(&st->by_token, hash);
}

/* The last job each thread looked up: a restart decodes millions of
 * runs of few jobs, on two threads (the table's hashing was 5 % of it).
 * Taken only for the same state and the same jobs table. */
static _Thread_local struct {
	uint64_t gen, jobs_gen;
	struct job *job;
	char key[JOB_KEY_LEN];
} last_job;

struct job *state_job(struct sched_state *st, const char *key)
{
	struct job *j;

	if (last_job.job && last_job.gen == st->creators_gen &&
	    last_job.jobs_gen == st->jobs_gen && !strcmp(last_job.key, key))
		return last_job.job;
	j = hmap_gets(&st->by_job, key);
	if (j && strlen(key) < sizeof(last_job.key)) {
		last_job.gen = st->creators_gen;
		last_job.jobs_gen = st->jobs_gen;
		last_job.job = j;
		strcpy(last_job.key, key);
	}
	return j;
}

struct run *state_run(struct sched_state *st, uint64_t id)
{
	if (id == 0 || id > st->nruns)
		return NULL;
	return st->runs[id - 1];
}

/* Moves every element of v that name owns (key_owned_by) to gone, and
 * out of the index m (keyed by key_of). */
static size_t move_out(struct ptrvec *v, struct hmap *m, struct ptrvec *gone,
		       const char *(*key_of)(const void *),
		       const char *(*owner_of)(const void *), const char *name)
{
	size_t n = strlen(name), moved = 0, kept = 0;

	for (size_t i = 0; i < v->n; i++) {
		void *e = v->v[i];
		if (key_owned_by(owner_of(e), name, n)) {
			hmap_dels(m, key_of(e));
			ptrvec_push(gone, e);
			moved++;
		} else {
			v->v[kept++] = e;
		}
	}
	v->n = kept;
	return moved;
}

static const char *env_key(const void *e) { return ((const struct env *)e)->key; }
static const char *job_key(const void *j) { return ((const struct job *)j)->key; }
static const char *agent_key(const void *a) { return ((const struct agent *)a)->id; }
static const char *agent_env(const void *a) { return ((const struct agent *)a)->env; }
static const char *token_key(const void *t) { return ((const struct token *)t)->hash; }
static const char *token_env(const void *t) { return ((const struct token *)t)->env; }

void state_remove_tenant(struct sched_state *st, const char *name,
			 struct state_removed *out)
{
	struct tenant *t = state_tenant(st, name);

	memset(out, 0, sizeof(*out));
	st->jobs_gen++;
	out->jobs = move_out(&st->jobs, &st->by_job, &st->gone_jobs, job_key,
			     job_key, name);
	out->envs = move_out(&st->envs, &st->by_env, &st->gone_envs, env_key,
			     env_key, name);
	out->agents = move_out(&st->agents, &st->by_agent, &st->gone_agents,
			       agent_key, agent_env, name);
	out->tokens = move_out(&st->tokens, &st->by_token, &st->gone_tokens,
			       token_key, token_env, name);
	out->usage_days = usage_drop_tenant(&st->usage, name);
	if (t) {
		hmap_dels(&st->by_tenant, name);
		ptrvec_remove(&st->tenants, t);
		ptrvec_push(&st->gone_tenants, t);
		out->tenants = 1;
	}
}

void state_add_tenant(struct sched_state *st, struct tenant *t)
{
	ptrvec_push(&st->tenants, t);
	hmap_puts(&st->by_tenant, t->name, t);
}

void state_add_env(struct sched_state *st, struct env *e)
{
	ptrvec_push(&st->envs, e);
	hmap_puts(&st->by_env, e->key, e);
	e->tenantp = state_tenant(st, e->tenant);
}

void state_add_agent(struct sched_state *st, struct agent *a)
{
	ptrvec_push(&st->agents, a);
	hmap_puts(&st->by_agent, a->id, a);
}

void state_add_token(struct sched_state *st, struct token *t)
{
	ptrvec_push(&st->tokens, t);
	hmap_puts(&st->by_token, t->hash, t);
}

void state_add_job(struct sched_state *st, struct job *j)
{
	ptrvec_push(&st->jobs, j);
	hmap_puts(&st->by_job, j->key, j);
	st->jobs_gen++;
	j->envp = state_env(st, j->env);
	j->tenantp = state_tenant(st, j->tenant);
	if (j->envp)
		ptrvec_push(&j->envp->jobs, j);
}

static void ensure_run_slot(struct sched_state *st, uint64_t id)
{
	if (id <= st->nruns)
		return;
	size_t words = (id + 63) / 64, had = st->astored;

	st->runs = xgrow(st->runs, &st->aruns, id, sizeof(*st->runs));
	memset(st->runs + st->nruns, 0,
	       (id - st->nruns) * sizeof(*st->runs));
	st->nruns = id;
	if (words > had) {
		st->stored = xgrow(st->stored, &st->astored, words,
				   sizeof(*st->stored));
		memset(st->stored + had, 0,
		       (st->astored - had) * sizeof(*st->stored));
	}
}

/* 2 MiB, the size of a transparent huge page: one fault per chunk. */
#define RUN_CHUNK (2u << 20)

#define RUNS_PER_CHUNK (RUN_CHUNK / sizeof(struct run))

/* The slab, the memory per queued run and the restart time are sized on
 * it (docs/storage.md, Memory): a field added must fit, or go to the
 * run's detail (struct run_detail) or extra. */
_Static_assert(sizeof(struct run) == 104, "struct run grew past 104 bytes");
_Static_assert(sizeof(struct run_detail) == 160,
	       "struct run_detail grew past 160 bytes (a 176-byte chunk)");

struct run *run_slab_alloc(struct run_slab *slab)
{
	if (slab->freed.n) {
		struct run *r = slab->freed.v[--slab->freed.n];
		memset(r, 0, sizeof(*r));
		return r;
	}
	if (!slab->left) {
		slab->cur = aligned_alloc(RUN_CHUNK, RUN_CHUNK);
		if (!slab->cur)
			abort(); /* out of memory */
		madvise(slab->cur, RUN_CHUNK, MADV_HUGEPAGE);
		ptrvec_push(&slab->chunks, slab->cur);
		slab->left = RUNS_PER_CHUNK;
	}
	struct run *r = &slab->cur[RUNS_PER_CHUNK - slab->left--];
	memset(r, 0, sizeof(*r));
	return r;
}

void run_slab_merge(struct run_slab *dst, struct run_slab *src)
{
	for (size_t i = 0; i < src->chunks.n; i++)
		ptrvec_push(&dst->chunks, src->chunks.v[i]);
	for (size_t i = 0; i < src->freed.n; i++)
		ptrvec_push(&dst->freed, src->freed.v[i]);
	ptrvec_release(&src->chunks);
	ptrvec_release(&src->freed);
	memset(src, 0, sizeof(*src));
}

void state_reserve_runs(struct sched_state *st, uint64_t n)
{
	ensure_run_slot(st, n);
}

void state_add_run(struct sched_state *st, struct run *r)
{
	ensure_run_slot(st, r->id);
	st->runs[r->id - 1] = r;
}

struct run *state_new_run(struct sched_state *st, struct job *j)
{
	struct run *r = run_slab_alloc(&st->slab);
	r->id = st->nruns + 1;
	r->job = j;
	r->exit_code = -1;
	ensure_run_slot(st, r->id);
	st->runs[r->id - 1] = r;
	return r;
}

/* Empties r's slot and gives r back to the slab. */
static void free_run(struct sched_state *st, struct run *r)
{
	st->runs[r->id - 1] = NULL;
	run_clear(r);
	ptrvec_push(&st->slab.freed, r);
}

void state_drop_run(struct sched_state *st, struct run *r)
{
	if (state_run(st, r->id) != r)
		return;
	st->runs_dropped++;
	free_run(st, r);
}

bool state_run_stored(const struct sched_state *st, uint64_t id)
{
	return stored_marked(st->stored, st->nruns, id);
}

uint64_t *state_stored_copy(const struct sched_state *st, uint64_t *n)
{
	size_t words = (st->nruns + 63) / 64;
	uint64_t *marks = xmalloc((words ? words : 1) * sizeof(*marks));

	if (words)
		memcpy(marks, st->stored, words * sizeof(*marks));
	*n = st->nruns;
	return marks;
}

static void set_stored(struct sched_state *st, uint64_t id, bool on)
{
	uint64_t bit = (uint64_t)1 << ((id - 1) % 64);

	if (on)
		st->stored[(id - 1) / 64] |= bit;
	else
		st->stored[(id - 1) / 64] &= ~bit;
}

bool run_stays_stored(const struct sched_state *st, const struct run *r)
{
	return run_state_terminal(r->state) && r->job->tenantp &&
	       run_state_ms(r, r->state) < st->stored_before_ms &&
	       (!r->idem_key || r->created_ms < st->key_horizon_ms);
}

void state_mark_stored(struct sched_state *st, uint64_t id, struct tenant *t)
{
	ensure_run_slot(st, id);
	set_stored(st, id, true);
	st->runs_stored++;
	t->n_stored++;
}

void state_page_out(struct sched_state *st, struct run *r)
{
	if (state_run(st, r->id) != r)
		return;
	state_mark_stored(st, r->id, r->job->tenantp);
	free_run(st, r);
}

void state_page_in(struct sched_state *st, struct run *r)
{
	if (!state_run_stored(st, r->id))
		return;
	set_stored(st, r->id, false);
	st->runs[r->id - 1] = r;
	st->runs_stored--;
	r->job->tenantp->n_stored--;
}

void state_forget_stored(struct sched_state *st, uint64_t id,
			 struct tenant *t)
{
	if (!state_run_stored(st, id))
		return;
	set_stored(st, id, false);
	st->runs_stored--;
	st->runs_dropped++;
	t->n_stored--;
}

/* The last creator each thread looked up: loading runs (two threads,
 * most runs started by few creators) then rarely takes the lock. A name
 * keeps its index for the state's life, so the entry stays right. */
static _Thread_local struct {
	uint64_t gen;
	uint16_t idx;
	char name[64];
} last_creator;

uint16_t state_creator(struct sched_state *st, const char *name)
{
	uintptr_t idx;

	if (!name || !*name)
		return 0;
	if (st->creators_gen && last_creator.gen == st->creators_gen &&
	    !strcmp(last_creator.name, name))
		return last_creator.idx;
	pthread_mutex_lock(&st->creators_lock);
	idx = (uintptr_t)hmap_gets(&st->by_creator, name);
	if (!idx && st->creators.n < UINT16_MAX) {
		char *copy = xstrdup(name);
		ptrvec_push(&st->creators, copy);
		idx = st->creators.n;
		hmap_puts(&st->by_creator, copy, (void *)idx);
	}
	pthread_mutex_unlock(&st->creators_lock);
	if (idx && st->creators_gen &&
	    strlen(name) < sizeof(last_creator.name)) {
		last_creator.gen = st->creators_gen;
		last_creator.idx = (uint16_t)idx;
		strcpy(last_creator.name, name);
	}
	return (uint16_t)idx;
}

uint16_t state_creator_find(struct sched_state *st, const char *name)
{
	uintptr_t idx;

	if (!name || !*name)
		return 0;
	pthread_mutex_lock(&st->creators_lock);
	idx = (uintptr_t)hmap_gets(&st->by_creator, name);
	pthread_mutex_unlock(&st->creators_lock);
	return (uint16_t)idx;
}

const char *state_creator_name(const struct sched_state *st, uint16_t idx)
{
	if (!idx || idx > st->creators.n)
		return "";
	return st->creators.v[idx - 1];
}

const char *run_created_by(const struct sched_state *st,
			   const struct run *r, char *buf, size_t len)
{
	if (r->x && r->x->schedule) {
		snprintf(buf, len, "schedule:%" PRIu64, r->x->schedule);
		return buf;
	}
	snprintf(buf, len, "%s", state_creator_name(st, r->creator));
	return buf;
}
