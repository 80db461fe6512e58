/*
 * pocreport.h - the go/no-go criteria of a proof of concept for one
 * environment (`spctl report env`, docs/operator-guide.md, POC readiness
 * report). Pure: the state, the environment and a clock in, figures out;
 * no I/O, no clock of its own, so a unit test can drive it with any time.
 *
 * The window is (now - days, now]. A run belongs to it when it was
 * created in it. Ended runs older than the tenant's retention are removed
 * by the retention pass (retention.h): when the window is longer than the
 * retention the report counts what is kept and says so (retention_limited).
 */
#ifndef SP_POCREPORT_H
#define SP_POCREPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "state.h"

struct run_summary;

#define POC_READY_MAX_MS (30LL * 60 * 1000) /* criterion 1 */
#define POC_MIN_RUNS 5                      /* criterion 2 */
#define POC_SUCCESS_MIN_PCT 90              /* criterion 3 */
#define POC_DAYS_DEFAULT 14
#define POC_DAYS_MAX 365
#define POC_MAX_FINDINGS 16

enum poc_criterion {
	POC_TIME_TO_READY,
	POC_RUNS_AND_DAYS,
	POC_FIRST_ATTEMPT_SUCCESS,
	POC_FAILURES_DIAGNOSED,
	POC_SECURITY_FINDINGS,
	POC_NCRITERIA
};

struct poc_report {
	uint32_t days;            /* the window's length */
	int64_t from_ms, to_ms;   /* (from, to] */
	uint32_t retention_days;  /* the tenant's */
	bool retention_limited;   /* days > retention_days */
	/* 1: env add to first ready; -1 never ready. ready_bound: the
	 * environment is ready but its first ready time was not recorded
	 * (older store): the time of its last state change stands in, an
	 * upper bound. */
	int64_t ready_after_ms;
	bool ready_bound;
	/* 2: runs created in the window, the first and last creation */
	uint64_t runs;
	int64_t first_ms, last_ms;
	uint32_t active_days;     /* distinct UTC days with a run created */
	/* 3: ended runs of the window, not cancelled: counted (those not
	 * left out), of them succeeded on attempt 1, left out for a
	 * customer-code failure class, cancelled (never counted) */
	uint64_t counted, first_ok, excluded_customer, cancelled;
	/* 4: failed runs of the window, those without a failure class, those
	 * without a log line */
	uint64_t failed, no_class, no_logs;
	/* 5: one line each: agents whose preflight did not pass, the
	 * environment's own preflight failure */
	uint32_t nfindings, findings_dropped;
	char findings[POC_MAX_FINDINGS][256];
	bool pass[POC_NCRITERIA];
	bool go; /* every criterion passed */
	/* while it is built: the UTC days with a run (the window spans at
	 * most POC_DAYS_MAX + 1) */
	uint8_t seen[(POC_DAYS_MAX + 2 + 7) / 8];
	const struct env *env;
};

/* Computes the report of environment e as of now_ms over the last days
 * (1..POC_DAYS_MAX) days; retention_days is the tenant's effective
 * retention of ended runs. Reads st only. */
void pocreport_build(struct sched_state *st, const struct env *e,
		     int64_t now_ms, uint32_t days, uint32_t retention_days,
		     struct poc_report *out);
/* pocreport_build in two steps, for runs st does not hold (those kept
 * only in the store) to be added between them: begin counts the runs in
 * st; judge adds the security findings and judges the criteria. */
void pocreport_begin(struct sched_state *st, const struct env *e,
		     int64_t now_ms, uint32_t days, uint32_t retention_days,
		     struct poc_report *out);
void pocreport_judge(struct sched_state *st, const struct env *e,
		     struct poc_report *out);
/* Counts run r in report p if it is of p's environment and window. */
void pocreport_add_run(struct poc_report *p, const struct run *r);
/* The same for a run read back from the store, if it is of environment
 * env_key: reads only p and s (a worker thread's, while the core goes
 * on; p->env is not read). */
void pocreport_add_summary(struct poc_report *p, const char *env_key,
			   const struct run_summary *s);

/* The stable name of criterion c ("time_to_ready", ...), and a short
 * title for people ("Time to ready"). */
const char *pocreport_name(enum poc_criterion c);
const char *pocreport_title(enum poc_criterion c);
/* The measured value and the threshold as text for people ("12.5 min",
 * "<= 30 min"), into buf. */
const char *pocreport_value_text(const struct poc_report *p,
				 enum poc_criterion c, char *buf, size_t len);
const char *pocreport_threshold_text(const struct poc_report *p,
				     enum poc_criterion c, char *buf,
				     size_t len);

#endif
