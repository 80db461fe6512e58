/*
 * run_start.h - starting a run: the one path behind run start, run retry
 * and a schedule's firing. It checks what the core alone can check (the
 * parameters against the job's placeholders, secrets, dependencies on
 * runs of the same tenant) and hands the run to the policy.
 */
#ifndef SP_RUN_START_H
#define SP_RUN_START_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

struct sched;

struct run_start_req {
	int32_t priority;
	const char *idem_key;      /* NULL: none */
	const char *creator;       /* who ("uid:N"); NULL for a schedule's */
	uint64_t schedule;         /* the schedule firing it; 0: none */
	int64_t scheduled_ms;      /* the firing time it stands for (also
				    * in a retry of a schedule's run) */
	int32_t scheduled_off_s;   /* the schedule's zone offset then */
	const char *const *params; /* "KEY=VALUE" each */
	uint32_t nparams;
	const char *const *args;   /* appended to the job's arguments */
	uint32_t nargs;
	const uint64_t *after;     /* runs it waits for */
	uint32_t nafter;
	bool after_any;            /* any end will do; else each must succeed */
	bool hold;                 /* start it held */
	uint64_t retry_of;         /* run retry: the ended run it repeats */
	uint16_t job_version;      /* 0: the job's current version */
};

/* 0: *out is the new run; 1: the idempotency key named *out already;
 * -1: refused, why says why (code "invalid", "not_found", or a policy
 * refusal), nothing changed. */
int run_start(struct sched *c, struct job *j, const struct run_start_req *q,
	      struct run **out, struct refusal *why);

#endif
