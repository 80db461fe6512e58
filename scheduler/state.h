/*
 * state.h - the scheduler's in-memory state: every record by its key, runs
 * by id, and the queued runs of each environment. Owned by the core thread
 * (no locks); rebuilt from the store at start by records_load().
 */
#ifndef SP_STATE_H
#define SP_STATE_H

#include "model.h"

struct ptrvec {
	void **v;
	size_t n, alloc;
};

/* Queued runs of one environment, in no particular order; queue_pick()
 * chooses by priority, then age (lowest id). */
struct env_queue {
	char env[ENV_KEY_LEN];
	struct ptrvec runs;
};

struct sched_state {
	struct ptrvec tenants; /* struct tenant * */
	struct ptrvec envs;    /* struct env * */
	struct ptrvec agents;  /* struct agent * */
	struct ptrvec tokens;  /* struct token * */
	struct ptrvec jobs;    /* struct job * */
	struct ptrvec queues;  /* struct env_queue * */
	struct run **runs;     /* runs[id - 1]; ids are dense from 1 */
	size_t nruns, aruns;
	uint64_t next_agent_no;
};

void ptrvec_push(struct ptrvec *pv, void *p);
/* Removes element i, moving the last one into its place. */
void ptrvec_remove_at(struct ptrvec *pv, size_t i);

void state_init(struct sched_state *st);
/* Frees every record. */
void state_release(struct sched_state *st);

struct tenant *state_tenant(struct sched_state *st, const char *name);
struct env *state_env(struct sched_state *st, const char *key);
struct agent *state_agent(struct sched_state *st, const char *id);
struct token *state_token(struct sched_state *st, const char *hash);
struct job *state_job(struct sched_state *st, const char *key);
/* Run by id, or NULL. */
struct run *state_run(struct sched_state *st, uint64_t id);

/* These take ownership of a malloc'd record. */
void state_add_tenant(struct sched_state *st, struct tenant *t);
void state_add_env(struct sched_state *st, struct env *e);
void state_add_agent(struct sched_state *st, struct agent *a);
void state_add_token(struct sched_state *st, struct token *t);
void state_add_job(struct sched_state *st, struct job *j);
/* Adds a loaded run (its id must be free); queues it if queued. */
void state_add_run(struct sched_state *st, struct run *r);
/* A new zeroed run with the next id, already registered. */
struct run *state_new_run(struct sched_state *st);

/* The queued runs of an environment. */
void queue_push(struct sched_state *st, struct run *r);
void queue_remove(struct sched_state *st, struct run *r);
/* The best queued run of env (highest priority, then oldest), or NULL. */
struct run *queue_pick(struct sched_state *st, const char *env);
/* 1-based position of r in its environment's queue (dispatch order). */
size_t queue_position(struct sched_state *st, const struct run *r);
size_t queue_length(struct sched_state *st, const char *env);

#endif
