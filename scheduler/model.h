/*
 * model.h - the scheduler's records (tenants, environments, agents,
 * enrollment tokens, jobs, runs) and their state machines. Pure: no I/O, no
 * locks. Owned by the core thread; the records are persisted by records.c.
 */
#ifndef SP_MODEL_H
#define SP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "backend_keys.h"
#include "guard.h"
#include "ptrvec.h"
#include "runq.h"

#define NAME_MAX_LEN 64          /* 63 chars + NUL (parse.h name rules) */
#define ENV_KEY_LEN (2 * NAME_MAX_LEN)
#define JOB_KEY_LEN (3 * NAME_MAX_LEN)
#define AGENT_ID_LEN 32
#define REASON_LEN 512
#define APP_ID_LEN 128
#define MAX_JOB_ARGS 256
#define JOB_VERSION_MAX 65535    /* a run holds its job's version in 16 bits */

enum budget_mode { BUDGET_SOFT, BUDGET_HARD };

/* What the next retention pass removes of a tenant (retention.h), as the
 * last pass (or the last retention change) found it. */
struct retention_figures {
	int64_t as_of_ms;       /* when found; 0: not yet */
	uint64_t due_runs;      /* ended runs due at the next pass */
	uint64_t due_lines;     /* their log lines */
	uint64_t kept_ended;    /* ended runs kept after it */
	uint64_t held_by_key;   /* of those, kept for a live idempotency key */
	int64_t next_expiry_ms; /* the first of them to expire; 0 none */
	bool pending;           /* runs kept only in the store not counted:
				 * a pass will (retention_refresh) */
};

struct tenant {
	char name[NAME_MAX_LEN];
	uint32_t weight;
	uint32_t max_running;    /* 0 = unlimited */
	uint32_t max_queued;     /* 0 = unlimited */
	uint32_t submit_rate;    /* runs/s, 0 = unlimited */
	int64_t monthly_budget;  /* micro-USD, 0 = none */
	enum budget_mode budget_mode;
	bool cancel_running;     /* hard mode: cancel live runs at the cap */
	int64_t created_ms;
	uint32_t retention_days; /* ended runs (records, telemetry) kept
				  * after they end; 0 = the scheduler's
				  * log_retention_days */
	int64_t suspended_ms;    /* since when no run starts or is dispatched
				  * (tenant suspend); 0: not suspended */
	/* runtime, rebuilt at start by policy_init() */
	uint32_t n_queued, n_running;
	int64_t rate_tokens;     /* submit token bucket, in millitokens */
	int64_t rate_refill_ms;  /* when the bucket was last refilled */
	uint64_t dispatched, refused;
	/* cost control (budget.c), rebuilt at start */
	int64_t month_start_ms, month_end_ms; /* the month of month_spent */
	int64_t month_spent;     /* this month's ended attempts, micro-USD */
	int64_t committed;       /* live runs' estimates not yet spent */
	struct ptrvec live;      /* struct run *: leased, submitted, running */
	bool over_budget;        /* this month's spend reached the budget */
	uint64_t budget_refused, budget_cancelled, budget_warnings;
	struct guard guard;      /* burn-rate guard, hard mode */
	struct cost_event_ring {
		struct cost_event_rec {
			int64_t ms;
			char kind[24];
			char text[256];
		} ev[8];
		uint32_t n, head;
	} recent;                /* the last events, for tenant show */
	/* the retention pass (retention.c): the open range [from, to) of
	 * its runs removed in this slice, from = 0 if none; the figures of
	 * the pass under way and of the last one */
	uint64_t expired_from, expired_to;
	struct retention_figures ret_acc, ret_last;
	/* kept by the policy: its ended runs (those in memory and those
	 * only in the store), and when the first of those that ended since
	 * the last tally began ended (0: none) */
	uint64_t n_ended;
	uint64_t n_stored; /* its ended runs only in the store (state.h) */
	int64_t ended_since_ms;
};

struct event; /* a message parked for work (core.h) */

enum env_mode { ENV_FULL, ENV_BYOC_LITE };
enum env_state {
	ENV_PENDING,
	ENV_VALIDATING_RUNTIME,
	ENV_READY,
	ENV_FAILED,
};

struct env {
	char key[ENV_KEY_LEN]; /* "tenant/env" */
	char tenant[NAME_MAX_LEN];
	char name[NAME_MAX_LEN];
	enum env_mode mode;
	enum env_state state;
	char state_reason[REASON_LEN];
	int64_t price_vcpu_hour; /* micro-USD */
	int64_t price_gb_hour;   /* micro-USD */
	uint32_t spot_discount_bp; /* executors' discount, basis points */
	char spark_version[64];
	int64_t disk_free_mb;
	int64_t clock_skew_ms;
	int64_t created_ms;
	int64_t state_ms; /* when state was last changed */
	int64_t ready_ms; /* when it first became ready (the POC report's
			   * time to ready); 0: never, or ready before the
			   * field was recorded (state_ms bounds it then) */
	uint32_t max_concurrent; /* runs leased or running at once, 0 = no cap */
	/* env delete: gone from lists and for new jobs, tokens and agents;
	 * its ended runs stay; an env add of the key revives it */
	int64_t deleted_ms;
	/* the Spark backend its agents use (common/backend_keys.h); "" in
	 * records written before the field: spark-submit */
	char backend[BACKEND_NAME_MAX];
	/* its settings, "key=value\n" each, in the order set; checked by
	 * backend_check_setting, never a secret (a path to one) */
	char backend_settings[2048];
	/* runtime */
	struct tenant *tenantp;
	struct ptrvec jobs;      /* struct job * of this environment */
	uint32_t n_queued, n_running;
	/* agents' lease requests parked for work here (parked.h): their
	 * number, the line of them (oldest first), and whether the env is
	 * on the policy's list of those with queued runs to offer them */
	uint32_t n_polling;
	struct event *park_head, *park_tail;
	bool polled_work;
	uint64_t dispatched, refused;
	/* runs that ended here since the start: succeeded, failed,
	 * cancelled, timed out (enum run_state from RUN_SUCCEEDED; the
	 * metrics' counters) */
	uint64_t ended[4];
	/* starts refused here since the start: busy, quota_exceeded,
	 * budget_exceeded (the metrics' counters) */
	uint64_t refused_by[3];
};

enum agent_state { AGENT_ACTIVE, AGENT_DRAINING, AGENT_REVOKED };

struct agent {
	char id[AGENT_ID_LEN];
	char env[ENV_KEY_LEN];
	uint8_t pubkey[32];
	char hostname[128];
	enum agent_state state;
	uint32_t slots;
	uint64_t seq_hwm;   /* highest accepted sequence number (persisted) */
	int64_t enrolled_ms;
	int64_t last_seen_ms;
	uint64_t rejected_forged;
	uint64_t rejected_replayed;
	uint64_t rejected_unsigned;
	uint64_t rejected_stale; /* completions naming an old epoch */
	uint64_t accepted;       /* messages accepted */
	/* telemetry batches (telemetry.c): the highest batch number stored
	 * and which of the TELEMETRY_WINDOW below it are, then counts */
	uint64_t tb_high;
	uint8_t tb_window[32];
	uint64_t tb_stored, tb_events, tb_duplicate;
	uint64_t tb_bytes; /* sealed (compressed) bytes of batches stored */
	uint64_t tb_rejected_malformed, tb_rejected_forged;
	uint64_t tb_rejected_unknown_key, tb_rejected_replayed;
	uint64_t tb_rejected_stale;
	/* the agent's spool as it last reported it (lease, heartbeat) */
	uint64_t spool_records, spool_bytes, spool_dropped_logs;
	uint64_t spool_dropped_metrics, spool_corrupt, spool_torn;
	/* Key rotation (keyrot.h): the key the last rotation replaced and
	 * until when it is still accepted (wall ms; 0: never rotated), when
	 * the key last changed (0: never), and when an operator asked for a
	 * rotation not yet done (0: none asked). */
	uint8_t pubkey_prev[32];
	int64_t prev_until_ms;
	int64_t key_rotated_ms;
	int64_t rotate_requested_ms;
	bool preflight_ok;       /* last preflight passed: may take work */
	char spark_version[64];
	char version[64];         /* the agent's build (enroll, heartbeat) */
	/* The last accepted message and its reply, persisted in the same batch
	 * as the reply's effects: a resend after a scheduler crash gets the
	 * committed answer instead of being taken for a replay. */
	uint64_t last_seq;
	char last_digest[65];
	char *last_reply; /* NULL while the message waits for its reply */
	size_t last_reply_len;
	int64_t lease_deadline_mono; /* its leases expire when it passes */
	struct ptrvec held;          /* struct run * leased to it */
	size_t busy_slot;            /* its index in the policy's
				      * busy_agents while held.n > 0 */
	struct event *parked;        /* its lease request parked for work
				      * (parked.h), NULL if none */
};

/* Hex digits of a token's hash that name it (agent token list). */
#define TOKEN_ID_LEN 12

struct token {
	char hash[65]; /* sha256 hex of the token; the token itself is never kept */
	char env[ENV_KEY_LEN];
	int64_t created_ms;
	int64_t expires_ms;
	int64_t used_ms; /* 0 while unused */
	char agent[AGENT_ID_LEN];
	int64_t revoked_ms; /* agent token revoke; 0: not revoked */
};

struct job {
	char key[JOB_KEY_LEN]; /* "tenant/env/job" */
	char tenant[NAME_MAX_LEN];
	char env[ENV_KEY_LEN];
	char name[NAME_MAX_LEN];
	uint32_t driver_cores;
	uint32_t driver_memory_mb;
	uint32_t executor_cores;
	uint32_t executor_memory_mb;
	uint32_t executors;
	uint32_t timeout_s;     /* 0 = none */
	uint32_t max_attempts;  /* >= 1 */
	int64_t run_budget;     /* micro-USD, 0 = none */
	int argc;
	char **argv;            /* spark-submit arguments, owned */
	int64_t created_ms;
	uint32_t max_concurrent; /* runs leased or running at once, 0 = no cap */
	/* job delete: the definition is gone (no start, not listed), its
	 * runs stay for their history; a job add of the key revives it */
	int64_t deleted_ms;
	/* job versions (jobvers.h): 1 at job add, one more at each job set
	 * (at most JOB_VERSION_MAX); when this version was written, by whom
	 * ("uid:N") and what it changed */
	uint32_t version;
	int64_t version_ms;
	char version_by[32];
	char version_note[256];
	/* runtime */
	struct ptrvec old_versions; /* struct job *: earlier versions that
				     * live runs use, or job show loaded */
	struct env *envp;
	struct tenant *tenantp;
	struct runq queue;      /* its dispatchable queued runs */
	uint32_t n_running;
	uint32_t load_queued;   /* policy_init's count, to size queue once */
};

enum run_state {
	RUN_QUEUED,
	RUN_LEASED,
	RUN_SUBMITTED,
	RUN_RUNNING,
	RUN_SUCCEEDED,
	RUN_FAILED,
	RUN_CANCELLED,
	RUN_TIMED_OUT,
	RUN_STATE_COUNT
};
_Static_assert(RUN_STATE_COUNT - RUN_SUCCEEDED == 4,
	       "struct env's ended[] holds the terminal states");

/* Kept small, 104 bytes: millions of queued runs must fit and load
 * quickly (fresh memory is slow to touch on a VM: docs/storage.md,
 * Restart). What a run gains once it leaves the queue (its agent, the
 * times of its later states, its usage, why it ended) is in *d, allocated
 * then; rare fields are in *x. Optional strings are heap-allocated and
 * NULL when empty (run_set_str). */
struct run {
	uint64_t id;
	struct job *job;       /* the record stores job->key */
	int64_t created_ms;
	int64_t queued_ms;     /* when it last entered the queued state */
	int64_t enqueued_ms;   /* origin of its aging: when it last entered
				* the queue, after a failure the end of its
				* backoff (policy_queued_since: its wait) */
	int64_t est_cost;      /* the maximum cost estimated at admission,
				* reserved against the tenant's budget */
	char *idem_key;        /* idempotency key given at start */
	struct run_detail *d;  /* NULL until it first leaves the queue
				* (run_detail, run_detail_get) */
	struct run_extra *x;   /* NULL for a plain run (run_extra_get) */
	enum run_state state;
	int32_t priority;
	uint32_t attempt;      /* 1-based */
	int32_t exit_code;     /* -1 until known */
	uint32_t log_lines;    /* next log line number */
	uint32_t qidx;         /* runtime: index in the run queue holding it */
	uint16_t lost;         /* leases lost (agent gone), not failures */
	uint16_t creator;      /* who started it: an index into the state's
				* creators (state_creator), 0 unknown */
	uint16_t job_version;  /* the version of its job it started with:
				* its arguments, retries included */
	uint8_t completions;   /* times recorded terminal: 0 or 1 */
	bool cancel_requested : 1;
	bool dirty : 1;        /* changed since the last flush to the store */
	bool held : 1;         /* run hold: queued, not dispatched until
				* released */
	bool waiting : 1;      /* queued behind runs it depends on (x->after):
				* not dispatchable, shown as "waiting" */
	bool skipped : 1;      /* cancelled because a run it depended on did
				* not end as required: shown as "skipped" */
};

/* What a run has once it was dispatched or ended (a queued run that never
 * left the queue has none): 160 bytes, a 176-byte malloc chunk. */
struct run_detail {
	char agent[AGENT_ID_LEN]; /* the agent holding its lease, "" none */
	uint64_t epoch;        /* lease epoch; bumps on every dispatch (0
				* until the first) */
	int64_t not_before_ms; /* retry backoff: no dispatch before this (a
				* backoff follows a failed attempt, so a run
				* with one has left the queue) */
	int64_t state_ms[RUN_STATE_COUNT - 1]; /* when each state after
						* queued was entered */
	/* usage of its ended attempts, added as each one ends */
	int64_t vcpu_ms;       /* vCPU-milliseconds */
	int64_t gb_ms;         /* GB-milliseconds (memory MB * ms / 1024) */
	int64_t cost;          /* micro-USD */
	char *app_id;
	char *reason;          /* why it ended or was last requeued */
	char *failure_class;   /* as reported by the agent */
	char *diag_line;       /* the output line its failure class came from
				* (redacted by the agent) */
};

/* What few runs have, kept apart so that the many plain runs stay small:
 * the schedule that fired a run, the run it retries, its hold, its
 * parameters and extra arguments, the runs it waits for. */
#define RUN_MAX_PARAMS 32
#define RUN_MAX_EXTRA_ARGS 64
#define RUN_MAX_AFTER 32
struct run_extra {
	uint64_t schedule;     /* the schedule that fired it; 0: none */
	int64_t scheduled_ms;  /* the firing it stands for */
	int32_t scheduled_off_s; /* its zone's offset from UTC then */
	uint64_t retry_of;     /* run retry: the ended run it repeats */
	uint64_t retried_by;   /* the last run retry of this run */
	char *held_by;         /* who held it ("uid:N"), while held */
	int64_t held_ms;
	uint32_t nparams;      /* --param KEY=VALUE, as given */
	char **params;
	uint32_t nargs;        /* arguments after --, appended */
	char **args;
	uint32_t nafter;       /* runs it waits for (--after) */
	uint64_t *after;
	bool after_any;        /* any end will do (--after-any), else each
				* must succeed */
};

const char *env_state_name(enum env_state s);
const char *env_mode_name(enum env_mode m);
int env_mode_parse(const char *s, enum env_mode *out);
const char *agent_state_name(enum agent_state s);
const char *run_state_name(enum run_state s);
/* Returns the state for a name, or -1. */
int run_state_parse(const char *s);
bool run_state_terminal(enum run_state s);
/* true if the run state machine allows from -> to (docs/architecture.md, leases):
 * queued -> leased -> submitted -> running -> terminal, a failed attempt
 * with retries left back to queued, cancel from any live state, timeout
 * from leased/submitted/running. */
bool run_transition_ok(enum run_state from, enum run_state to);
/* Moves r to state `to` at now_ms if allowed; returns 0 or -1. */
int run_set_state(struct run *r, enum run_state to, int64_t now_ms);
/* true if the environment state machine allows from -> to:
 * pending -> validating_runtime -> ready | failed; ready/failed may be
 * validated again (-> validating_runtime). */
bool env_transition_ok(enum env_state from, enum env_state to);
int env_set_state(struct env *e, enum env_state to, const char *reason,
		  int64_t now_ms);

/* What running j's resources for dur_ms costs under e's price card:
 * vCPU-ms, GB-ms and micro-USD (integer arithmetic, rounded down; the
 * spot discount applies to the executors, the driver is on demand). */
#define PRICE_MAX (10000LL * 1000000)       /* 10,000 USD per unit-hour */
#define USAGE_MAX_MS (100000000000LL)       /* 3 years in one attempt */
struct usage_amount {
	int64_t vcpu_ms, gb_ms, cost;
};
void job_usage_for(const struct job *j, const struct env *e, int64_t dur_ms,
		   struct usage_amount *out);

/* What Spark's monitoring REST reported about an attempt's executors (the
 * agent asks it when the application ends): their count, the sum of cores
 * x lifetime and the sum of lifetimes, in ms. */
#define EXECUTOR_USAGE_MAX_MS 1000000000000000LL /* 31,000 years */
struct executor_usage {
	uint32_t count;
	int64_t core_ms, lifetime_ms;
};
/* Like job_usage_for, with the executors billed from *x (their real
 * lifetimes, each with the job's executor memory) instead of the declared
 * executors x dur_ms; the driver stays declared resources x dur_ms. */
void job_usage_measured(const struct job *j, const struct env *e,
			int64_t dur_ms, const struct executor_usage *x,
			struct usage_amount *out);

void job_release(struct job *j);
/* Sets one of the run's optional strings (NULL or "" clears it). */
void run_set_str(char **field, const char *s);
/* Frees r's strings, detail and extra (r itself belongs to the state's
 * run slab). */
void run_clear(struct run *r);
/* r's detail for reading: a shared zeroed one (no agent, no times after
 * queued, no usage, no strings) while it has none. Never written to. */
extern const struct run_detail run_detail_none;
static inline const struct run_detail *run_detail(const struct run *r)
{
	return r->d ? r->d : &run_detail_none;
}
/* r's lease epoch: 0 before its first dispatch. */
static inline uint64_t run_epoch(const struct run *r)
{
	return r->d ? r->d->epoch : 0;
}
/* The end of r's retry backoff, 0 none. */
static inline int64_t run_not_before(const struct run *r)
{
	return r->d ? r->d->not_before_ms : 0;
}
/* r's detail for writing, allocated zeroed when it has none. */
struct run_detail *run_detail_get(struct run *r);
/* When r last entered state s (0: never). */
static inline int64_t run_state_ms(const struct run *r, enum run_state s)
{
	if (s == RUN_QUEUED)
		return r->queued_ms;
	return r->d ? r->d->state_ms[s - 1] : 0;
}
/* Records when r entered state s (a detail is allocated for a state
 * after queued, unless ms is 0 and r has none). */
void run_set_state_ms(struct run *r, enum run_state s, int64_t ms);
/* The agent holding r's lease, "" if none. */
static inline const char *run_agent(const struct run *r)
{
	return r->d ? r->d->agent : "";
}
/* r's extra record, allocated zeroed when it has none. */
struct run_extra *run_extra_get(struct run *r);
void run_extra_free(struct run_extra *x);
/* The state a user sees: run_state_name, except "waiting" for a queued
 * run behind its dependencies and "skipped" for one cancelled because a
 * dependency failed. */
const char *run_state_label(const struct run *r);
static inline const char *run_tenant(const struct run *r)
{
	return r->job->tenant;
}
static inline const char *run_env(const struct run *r)
{
	return r->job->env;
}
/* The logfmt fields that end a log line about r (docs/operator-guide.md,
 * Logs): "run=ID tenant=T env=T/E job=T/E/J attempt=N[ agent=ID]", with a
 * leading blank. Names allow no blank or quote, so no value is quoted. */
const char *run_log_fields(const struct run *r, uint32_t attempt,
			   const char *agent, char *buf, size_t len);
static inline const char *str_or_empty(const char *s)
{
	return s ? s : "";
}
/* Whether key ("tenant/env", "tenant/env/job") is owned by owner, a
 * tenant's name or an environment's key of olen bytes: it starts with
 * owner and a '/' ("acme" owns "acme/prod", not "acme2/prod"). */
static inline bool key_owned_by(const char *key, const char *owner,
				size_t olen)
{
	return !strncmp(key, owner, olen) && key[olen] == '/';
}

#endif
