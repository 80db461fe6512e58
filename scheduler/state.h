/*
 * state.h - the scheduler's in-memory records: every record by its key and
 * runs by id. Owned by the core thread (no locks); rebuilt from the store
 * at start by records_load(). Queues, counters and leases are the
 * policy's (policy.h), built over this state.
 */
#ifndef SP_STATE_H
#define SP_STATE_H

#include <pthread.h>

#include "hmap.h"
#include "model.h"
#include "ptrvec.h"
#include "usage.h"

/* Runs live in big chunks, never freed one by one: a restart loads
 * millions, and one malloc each (with a page fault per 16) was most of the
 * restart time. */
struct run_slab {
	struct ptrvec chunks; /* every chunk, for freeing */
	struct run *cur;      /* the chunk being filled */
	size_t left;          /* free run slots in it */
	struct ptrvec freed;  /* slots of dropped runs, reused first */
};

/* A zeroed run from slab. */
struct run *run_slab_alloc(struct run_slab *slab);
/* Hands src's chunks to dst (which keeps filling its own). */
void run_slab_merge(struct run_slab *dst, struct run_slab *src);

struct sched_state {
	struct ptrvec tenants; /* struct tenant *, in creation order */
	struct ptrvec envs;    /* struct env * */
	struct ptrvec agents;  /* struct agent * */
	struct ptrvec tokens;  /* struct token * */
	struct ptrvec jobs;    /* struct job * */
	struct hmap by_tenant, by_env, by_agent, by_token, by_job;
	struct run **runs;     /* runs[id - 1], NULL for a dropped run; ids
				* are given from 1 in order, never reused */
	size_t nruns, aruns;   /* nruns: the highest id ever given */
	uint64_t runs_dropped; /* runs removed so far (retention, deletion) */
	/* Ended runs kept only in the store (runstore.h): a bit per id, set
	 * while runs[id - 1] is NULL for it, and their number. */
	uint64_t *stored;
	size_t astored;        /* words allocated in stored */
	uint64_t runs_stored;
	/* What the load leaves in the store (run_stays_stored): runs ended
	 * before stored_before_ms whose idempotency key, if any, was given
	 * before key_horizon_ms. 0: every run is loaded. */
	int64_t stored_before_ms, key_horizon_ms;
	struct run_slab slab;
	uint64_t next_agent_no;
	struct usage usage;    /* roll-ups per tenant, environment and day */
	/* records of deleted tenants (state_remove_tenant): out of every
	 * list and index, freed by state_release, since an event queued or
	 * parked may still point at one */
	struct ptrvec gone_tenants, gone_envs, gone_agents, gone_tokens,
		gone_jobs;
	/* who started runs ("uid:N"), each name once: a run holds its index
	 * (struct run's creator). Loader threads add to it at start, under
	 * the lock; afterwards only the core thread does. */
	struct ptrvec creators;
	struct hmap by_creator; /* name -> index */
	pthread_mutex_t creators_lock;
	uint64_t creators_gen; /* this state's, for a thread's last lookup */
	uint64_t jobs_gen;     /* changes with the jobs table (state_job) */
};

void state_init(struct sched_state *st);
/* Frees every record. */
void state_release(struct sched_state *st);

struct tenant *state_tenant(struct sched_state *st, const char *name);
struct env *state_env(struct sched_state *st, const char *key);
/* state_env, but NULL for a deleted environment (env delete): what
 * commands and enrollment may name. */
struct env *state_env_live(struct sched_state *st, const char *key);
struct agent *state_agent(struct sched_state *st, const char *id);
struct token *state_token(struct sched_state *st, const char *hash);
struct job *state_job(struct sched_state *st, const char *key);
/* The index of creator `name` (added if new; thread-safe), 0 for an
 * empty name or when 65,535 are known already. */
uint16_t state_creator(struct sched_state *st, const char *name);
/* The index of a known creator, 0 if no run was ever started by name
 * (nothing is added). */
uint16_t state_creator_find(struct sched_state *st, const char *name);
/* Its name, "" for 0. */
const char *state_creator_name(const struct sched_state *st, uint16_t idx);
/* Who started r: "schedule:ID" for a schedule's run, else its creator's
 * name ("uid:N"), "" if unknown (runs older than the field). */
const char *run_created_by(const struct sched_state *st,
			   const struct run *r, char *buf, size_t len);
/* Run by id, or NULL. */
struct run *state_run(struct sched_state *st, uint64_t id);

/* These take ownership of a malloc'd record. An env is linked to its
 * tenant and a job to its env and tenant, which must exist already. */
void state_add_tenant(struct sched_state *st, struct tenant *t);
void state_add_env(struct sched_state *st, struct env *e);
void state_add_agent(struct sched_state *st, struct agent *a);
void state_add_token(struct sched_state *st, struct token *t);
void state_add_job(struct sched_state *st, struct job *j);
/* What state_remove_tenant took out, per kind. */
struct state_removed {
	size_t tenants, envs, agents, tokens, jobs, usage_days;
};
/* Takes tenant name, its environments, jobs, agents and tokens, and its
 * usage roll-ups out of every list and index (runs are the policy's:
 * policy_forget_run them first). The records stay allocated until
 * state_release. Fills *out. */
void state_remove_tenant(struct sched_state *st, const char *name,
			 struct state_removed *out);
/* Makes runs[] hold ids up to n (loading sizes it once, up front). */
void state_reserve_runs(struct sched_state *st, uint64_t n);
/* Adds a loaded run from a slab (its id must be free and its job set).
 * Only writes runs[id - 1]: with the ids reserved, threads loading
 * disjoint id ranges may call it at once. */
void state_add_run(struct sched_state *st, struct run *r);
/* A new zeroed run of job j with the next id, already registered. */
struct run *state_new_run(struct sched_state *st, struct job *j);
/* Removes run r from the state and frees it (its slot is reused). Only
 * for a run nothing else points to: policy_forget_run() is the way in
 * from the core. The caller deletes its record (records_delete_run) and
 * writes records_put_run_ids in the same batch. */
void state_drop_run(struct sched_state *st, struct run *r);

/* Ended runs kept only in the store: runs[id - 1] is NULL, the bit is
 * set, and the tenant's n_stored counts it (its n_ended still does). */
bool state_run_stored(const struct sched_state *st, uint64_t id);
/* Whether marks (a bit per id from 1, n of them) mark id. */
static inline bool stored_marked(const uint64_t *marks, uint64_t n,
				 uint64_t id)
{
	return id >= 1 && id <= n && (marks[(id - 1) / 64] >> ((id - 1) % 64) & 1);
}
/* A copy of the marks of the runs kept only in the store, for a reader
 * on another thread (stored_marked): *n ids; the caller frees it. */
uint64_t *state_stored_copy(const struct sched_state *st, uint64_t *n);
/* Whether the load leaves decoded run r in the store (stored_before_ms,
 * key_horizon_ms). */
bool run_stays_stored(const struct sched_state *st, const struct run *r);
/* Run id of tenant t is only in the store (the load's, for a run it did
 * not keep). */
void state_mark_stored(struct sched_state *st, uint64_t id, struct tenant *t);
/* Frees in-memory run r (nothing else may point to it) and marks it
 * stored. */
void state_page_out(struct sched_state *st, struct run *r);
/* r, read back from the store, is in memory again. */
void state_page_in(struct sched_state *st, struct run *r);
/* Stored run id of tenant t was deleted from the store: its id counts as
 * dropped. */
void state_forget_stored(struct sched_state *st, uint64_t id,
			 struct tenant *t);

#endif
