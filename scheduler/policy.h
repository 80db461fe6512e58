/*
 * policy.h - the pure scheduling core (docs/architecture.md): admission (quotas,
 * submit rate, global backpressure, idempotency keys), the run queues
 * (priority with aging, FIFO among equals, per-job / per-environment /
 * per-tenant concurrency caps, a dispatch kill switch), leases with fencing
 * epochs and expiry, reconciliation of what an agent reports holding,
 * retries with exponential backoff and failure classes, and completion
 * exactly once.
 *
 * No I/O, no locks, no clock of its own: the caller sets now_ms/now_mono
 * before each step, and collects the runs it changed with
 * policy_take_dirty() to persist them. The core thread drives it for real;
 * tests/sim drives it under a fake clock with simulated agents.
 */
#ifndef SP_POLICY_H
#define SP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "budget.h"
#include "guard.h"
#include "hmap.h"
#include "idemidx.h"
#include "ptrvec.h"
#include "runq.h"
#include "state.h"

struct policy_limits {
	int64_t lease_ttl_ms;       /* an agent silent this long loses its leases */
	int64_t aging_ms;           /* waiting this long is worth one priority level */
	int64_t retry_base_ms;      /* backoff before the 2nd attempt */
	int64_t retry_max_ms;       /* backoff cap */
	uint32_t max_lost_leases;   /* a run that lost more leases fails */
	uint64_t max_queued_total;  /* global backpressure, 0 = none */
	int64_t idempotency_ttl_ms; /* how long a key maps to its run */
	int64_t estimate_hours;     /* cost estimate of a job without timeout */
	struct guard_params guard;  /* burn-rate guard (guard.h) */
};

void policy_limits_defaults(struct policy_limits *l);

/* Why a request was refused: a machine code, a one-line message quoting
 * the limit and the current value, and when retrying may succeed. */
struct refusal {
	const char *code; /* busy, quota_exceeded, conflict, invalid, ... */
	char message[320];
	int64_t retry_after_ms; /* 0 if retrying will not help */
};

struct policy {
	struct sched_state *st;
	struct policy_limits lim;
	int64_t now_ms;   /* wall clock, for records */
	int64_t now_mono; /* monotonic, for lease deadlines */
	bool paused;      /* dispatch kill switch (persisted by the caller) */
	struct runq backoff; /* queued runs whose not_before_ms is ahead */
	struct ptrvec dirty; /* runs changed since the last take_dirty */
	/* with track_ended (the daemon's webhooks): runs recorded complete
	 * since the last policy_take_ended, in order */
	bool track_ended;
	struct ptrvec ended;
	struct idemidx idem; /* runs by tenant and idempotency key */
	/* dependencies (policy_flow.c): a run's id -> the waiting runs that
	 * wait for it (struct dep_list *), and the runs whose dependencies
	 * changed, resolved in a loop rather than by recursion */
	struct hmap deps;
	struct ptrvec flow_due;
	bool flow_busy;
	/* environments with lease requests parked (env->n_polling) that may
	 * have queued runs for them: the core offers those runs each turn
	 * (agent_work.c) and takes an env off once either count is zero */
	struct ptrvec polled_work;
	/* agents holding runs (ag->held.n > 0; ag->busy_slot is the index):
	 * the lease expiry check looks at these only */
	struct ptrvec busy_agents;
	uint64_t skipped;    /* runs skipped since start */
	uint64_t idem_cursor; /* runs below this id are past the key TTL */
	uint64_t queued_total, running_total;
	/* since start */
	uint64_t dispatched, refused, expired_leases, lost_runs, retries;
	uint64_t stale, completions;
	/* cost control (budget.c) */
	struct ptrvec cost_events;  /* struct cost_event *, not yet taken */
	uint64_t cost_seq;
	int64_t budget_next_ms;     /* when budget_tick has work next */
	/* the job version a run started with (jobvers.h), set by the core
	 * after policy_init; NULL: r->job */
	const struct job *(*run_job)(void *ctx, const struct run *r);
	void *run_job_ctx;
};

/* Puts e on polled_work if it has both queued runs and parked lease
 * requests (and is not on it yet). */
void policy_note_polled_work(struct policy *p, struct env *e);

/* The definition r runs under: its job as of the version it started with
 * (its resources for estimates and metering, run budget, attempts). */
const struct job *policy_run_job(const struct policy *p, const struct run *r);

/* Builds queues, counters, leases and the idempotency index over a loaded
 * state. Live runs whose agent is gone are requeued (and made dirty). */
void policy_init(struct policy *p, struct sched_state *st,
		 const struct policy_limits *lim, int64_t now_ms,
		 int64_t now_mono);
void policy_release(struct policy *p);
void policy_set_clock(struct policy *p, int64_t now_ms, int64_t now_mono);

/* Calls fn for every run changed since the last call, once each. */
void policy_take_dirty(struct policy *p,
		       void (*fn)(void *ctx, struct run *r), void *ctx);

/* Drops an ended run for good (retention, tenant deletion): it leaves the
 * idempotency index, the changed runs and the runs ended this turn (no
 * webhook event for it), and is freed from the state.
 * The caller deletes its record and writes records_put_run_ids in the
 * same batch. A run not ended is left alone (-1). */
int policy_forget_run(struct policy *p, struct run *r);
/* policy_forget_run for a run of tenant t kept only in the store
 * (state.h); the caller deletes its record likewise. */
void policy_forget_stored(struct policy *p, uint64_t id, struct tenant *t);
/* Whether ended run r may leave memory for the store (state_page_out):
 * its last change is written, no idempotency key answers with it and no
 * webhook event waits for it. */
bool policy_may_page_out(const struct policy *p, const struct run *r);

/* Calls fn for every run recorded complete (ended for good: not an
 * attempt that is retried) since the last call, once each, when
 * p->track_ended is set. */
void policy_take_ended(struct policy *p,
		       void (*fn)(void *ctx, struct run *r), void *ctx);

/* Marks r changed by the caller (e.g. its log line count). */
void policy_touch(struct policy *p, struct run *r);

/* Admission of a new run of j. 0: *out is the new queued run; 1: the
 * idempotency key already named *out; -1: refused, see why. */
int policy_submit(struct policy *p, struct job *j, int32_t priority,
		  const char *idem_key, struct run **out, struct refusal *why);
/* What policy_submit_ex takes besides the job. */
struct submit_opts {
	int32_t priority;
	const char *idem_key;  /* NULL or "": none */
	uint16_t creator;      /* state_creator index of who starts it */
	uint16_t job_version;  /* the version of j it runs; 0: j's current */
	bool hold;             /* start it held (run hold) */
	/* attached to the new run (taken on 0; left to the caller else):
	 * its schedule, parameters, arguments, held_by and dependencies;
	 * x->after[] must name existing runs of j's tenant */
	struct run_extra *x;
};
/* policy_submit with options: held, with an extra record, waiting for
 * the runs in x->after (see policy_flow.c). A run whose dependencies
 * have all ended already is queued (or skipped) at once. */
int policy_submit_ex(struct policy *p, struct job *j,
		     const struct submit_opts *o, struct run **out,
		     struct refusal *why);

/* ---- policy_flow.c: holds, priorities, dependencies ---- */
/* Holds a queued (or waiting) run: it stays queued, not dispatched, until
 * policy_release_hold. by: who ("uid:N"). -1 with why otherwise. */
int policy_hold(struct policy *p, struct run *r, const char *by,
		struct refusal *why);
int policy_release_hold(struct policy *p, struct run *r,
			struct refusal *why);
/* A queued run's new priority (its place in the queue follows). */
int policy_set_priority(struct policy *p, struct run *r, int32_t priority,
			struct refusal *why);

/* Gives t new quotas (0 = unlimited), in force from the next start or
 * dispatch. Runs already queued or live over a lowered limit stay where
 * they are (none is evicted); the submit-rate bucket keeps at most one
 * second of the new rate, and starts full when a rate is newly set. */
void policy_set_tenant_limits(struct policy *p, struct tenant *t,
			      uint32_t max_running, uint32_t max_queued,
			      uint32_t submit_rate);
/* Cancels a run: a queued one at once, a live one when its agent reports
 * (the agent is told). -1 with why if the run has already ended. */
int policy_cancel(struct policy *p, struct run *r, struct refusal *why);

/* true if ag may be given work now (active, preflight passed, env ready). */
bool policy_agent_may_work(struct policy *p, const struct agent *ag);
/* Leases up to max runs of ag's environment to ag, best first; returns
 * how many were written to out. */
size_t policy_lease(struct policy *p, struct agent *ag, size_t max,
		    struct run **out);
/* Any authenticated message from ag extends its leases. */
void policy_heard(struct policy *p, struct agent *ag);

/* ag is gone for good (revoked): its runs go back to the queue now. */
void policy_drop_agent(struct policy *p, struct agent *ag, const char *why);

struct held_run {
	uint64_t run, epoch;
};
/* ag reports the runs it holds. Each one it may keep is adopted; the ids
 * of the others (ended, requeued, someone else's) go to cancel (up to
 * maxcancel) for the agent to stop; runs leased to ag that it does not
 * report are requeued as lost. Returns the number of ids in cancel. */
size_t policy_reconcile(struct policy *p, struct agent *ag,
			const struct held_run *held, size_t n,
			uint64_t *cancel, size_t maxcancel);
/* The run if it is live on ag under epoch; else counts a stale report on
 * ag and returns NULL. */
struct run *policy_owned(struct policy *p, struct agent *ag, uint64_t run,
			 uint64_t epoch);
/* A forward-only progress report (submitted, running). 0 or -1. */
int policy_progress(struct policy *p, struct run *r, enum run_state to,
		    const char *app_id);

struct completion {
	enum run_state result; /* succeeded, failed, cancelled, timed_out */
	int exit_code;         /* -1 unknown */
	const char *reason;
	const char *failure_class; /* NULL/"" unknown: retryable */
	const char *diag_line;     /* the output line the class came from */
	const char *app_id;
	/* the executors as Spark's monitoring REST reported them, or NULL:
	 * then the job's declared executors are billed */
	const struct executor_usage *executors;
};
/* An owned run's attempt ended. Returns 1 if the run went back to the
 * queue for another attempt, 0 if it is now recorded complete. */
int policy_complete(struct policy *p, struct run *r,
		    const struct completion *c);

/* Time-driven work: backoffs that are due, expired leases, idempotency
 * keys past their TTL. */
void policy_tick(struct policy *p);
/* The monotonic time at which policy_tick has work next, or INT64_MAX. */
int64_t policy_next_wake(const struct policy *p);

/* false for failure classes a retry cannot fix (class_not_found, ...). */
bool policy_class_retryable(const char *failure_class);
/* The backoff before the attempt after `failures` failed ones, with a
 * jitter drawn deterministically from the run id. */
int64_t policy_backoff_ms(const struct policy_limits *l, uint64_t run_id,
			  uint32_t failures);

/* policy_view.c: read-only explanations for operators. */
/* Why a queued run is not running yet, in one line. */
void policy_why_waiting(struct policy *p, const struct run *r, char *buf,
			size_t len);
/* 1-based dispatch position of a queued run among its environment's
 * dispatchable runs, 0 if it is in backoff or not queued. */
size_t policy_queue_position(struct policy *p, const struct run *r);
/* When a queued run entered the queue: its last move to queued. A run
 * waiting out a retry backoff is queued too (its enqueued_ms, the end of
 * the backoff, is the origin of its aging, not of its wait). */
int64_t policy_queued_since(const struct run *r);
/* For each environment and each tenant (env_since[i] for p->st->envs.v[i],
 * tenant_since[i] for p->st->tenants.v[i]): when its longest-waiting
 * queued run entered the queue, or 0 if it has none. One pass over the
 * queues. */
void policy_oldest_queued(struct policy *p, int64_t *env_since,
			  int64_t *tenant_since);

#endif
