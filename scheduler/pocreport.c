/* pocreport.c - the POC readiness criteria (pocreport.h), from the state
 * and the runs read back from the store. */
#include "pocreport.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "diagnose.h"
#include "run_codec.h"

#define DAY_MS (86400LL * 1000)

static const char *const names[POC_NCRITERIA] = {
	"time_to_ready", "runs_and_days", "first_attempt_success",
	"failures_diagnosed", "security_findings",
};
static const char *const titles[POC_NCRITERIA] = {
	"Time from env add to ready", "Runs and days covered",
	"First-attempt success (customer-code failures excluded)",
	"Every failed run diagnosed, with logs", "Open security findings",
};

const char *pocreport_name(enum poc_criterion c)
{
	return (unsigned)c < POC_NCRITERIA ? names[c] : NULL;
}

const char *pocreport_title(enum poc_criterion c)
{
	return (unsigned)c < POC_NCRITERIA ? titles[c] : NULL;
}

/* The next finding's line, or NULL when the list is full (counted). */
static char *finding(struct poc_report *p)
{
	if (p->nfindings == POC_MAX_FINDINGS) {
		p->findings_dropped++;
		return NULL;
	}
	return p->findings[p->nfindings++];
}

/* Criterion 5: what the preflights of the environment's agents left
 * open. An agent not revoked whose last preflight did not pass may not
 * take work (spark-submit not runnable, too little disk, clock skew: the
 * skew undermines the replay window of signed messages); the scheduler
 * keeps the reason of the last failed preflight on the environment. */
static void security_findings(struct sched_state *st, const struct env *e,
			      struct poc_report *p)
{
	for (size_t i = 0; i < st->agents.n; i++) {
		const struct agent *ag = st->agents.v[i];
		if (strcmp(ag->env, e->key) || ag->state == AGENT_REVOKED ||
		    ag->preflight_ok)
			continue;
		char *f = finding(p);
		if (f)
			snprintf(f, sizeof(p->findings[0]),
				 "agent %s (%s): preflight not passed", ag->id,
				 ag->hostname[0] ? ag->hostname
						 : "host unknown");
	}
	if (e->state == ENV_FAILED) {
		char *f = finding(p);
		if (f)
			snprintf(f, sizeof(p->findings[0]),
				 "environment %s: preflight failed: %s",
				 e->key, e->state_reason);
	}
}

/* What a run counts with, in memory or read back from the store. */
struct counted {
	int64_t created_ms;
	enum run_state state;
	uint32_t attempt, log_lines;
	const struct run *run;     /* in memory: its class is in its detail */
	const char *failure_class; /* else this; NULL or "": none */
};

/* Read only where a class counts: a run's detail is an allocation of its
 * own, and most runs counted (succeeded at once) need none. */
static const char *class_of(const struct counted *k)
{
	return k->run ? run_detail(k->run)->failure_class : k->failure_class;
}

static void count_run(const struct counted *r, struct poc_report *p)
{
	p->runs++;
	if (!p->first_ms || r->created_ms < p->first_ms)
		p->first_ms = r->created_ms;
	if (r->created_ms > p->last_ms)
		p->last_ms = r->created_ms;
	if (!run_state_terminal(r->state))
		return; /* live: no result yet */
	if (r->state == RUN_CANCELLED) {
		/* an operator's decision, not a result of the platform */
		p->cancelled++;
		return;
	}
	if (r->state == RUN_FAILED) {
		p->failed++;
		p->no_class += !*str_or_empty(class_of(r));
		p->no_logs += r->log_lines == 0;
	}
	if (r->state == RUN_SUCCEEDED && r->attempt == 1) {
		p->counted++;
		p->first_ok++;
	} else if (diagnose_customer_code(class_of(r))) {
		p->excluded_customer++;
	} else {
		p->counted++;
	}
}

/* Marks the UTC day of ms (counted from the window's first day) in a day
 * set; counts it in p->active_days the first time. */
static void mark_day(struct poc_report *p, uint8_t *seen, size_t bits,
		     int64_t ms)
{
	int64_t d = ms / DAY_MS - p->from_ms / DAY_MS;

	if (d < 0 || d >= (int64_t)bits || (seen[d / 8] & (1u << (d % 8))))
		return;
	seen[d / 8] |= (uint8_t)(1u << (d % 8));
	p->active_days++;
}

static bool in_window(const struct poc_report *p, int64_t created_ms)
{
	return created_ms > p->from_ms && created_ms <= p->to_ms;
}

static void add_counted(struct poc_report *p, const struct counted *k)
{
	count_run(k, p);
	mark_day(p, p->seen, sizeof(p->seen) * 8, k->created_ms);
}

void pocreport_add_run(struct poc_report *p, const struct run *r)
{
	struct counted k = { r->created_ms, r->state, r->attempt,
			     r->log_lines, r, NULL };

	if (in_window(p, r->created_ms) && !strcmp(r->job->env, p->env->key))
		add_counted(p, &k);
}

void pocreport_add_summary(struct poc_report *p, const char *env_key,
			   const struct run_summary *s)
{
	struct counted k = { s->created_ms, s->state, s->attempt,
			     s->log_lines, NULL, s->failure_class };
	if (key_owned_by(s->job, env_key, strlen(env_key)) &&
	    in_window(p, s->created_ms))
		add_counted(p, &k);
}

void pocreport_build(struct sched_state *st, const struct env *e,
		     int64_t now_ms, uint32_t days, uint32_t retention_days,
		     struct poc_report *out)
{
	pocreport_begin(st, e, now_ms, days, retention_days, out);
	pocreport_judge(st, e, out);
}

void pocreport_begin(struct sched_state *st, const struct env *e,
		     int64_t now_ms, uint32_t days, uint32_t retention_days,
		     struct poc_report *out)
{
	struct poc_report *p = out;

	memset(p, 0, sizeof(*p));
	p->env = e;
	if (days < 1)
		days = 1;
	if (days > POC_DAYS_MAX)
		days = POC_DAYS_MAX;
	p->days = days;
	p->to_ms = now_ms;
	p->from_ms = now_ms - (int64_t)days * DAY_MS;
	p->retention_days = retention_days;
	p->retention_limited = retention_days && days > retention_days;
	p->ready_after_ms = -1;
	if (e->ready_ms) {
		p->ready_after_ms = e->ready_ms - e->created_ms;
	} else if (e->state == ENV_READY) {
		p->ready_after_ms = e->state_ms - e->created_ms;
		p->ready_bound = true;
	}
	if (p->ready_after_ms < -1)
		p->ready_after_ms = 0; /* a clock stepped back */
	/* one pass over every run kept: an admin read on the core thread,
	 * like run list */
	for (size_t i = 0; i < st->nruns; i++)
		if (st->runs[i])
			pocreport_add_run(p, st->runs[i]);
}

void pocreport_judge(struct sched_state *st, const struct env *e,
		     struct poc_report *out)
{
	struct poc_report *p = out;

	p->env = e;
	security_findings(st, e, p);
	p->pass[POC_TIME_TO_READY] = p->ready_after_ms >= 0 &&
				     p->ready_after_ms <= POC_READY_MAX_MS;
	/* at least 5 runs, the first and the last at least days - 1 days
	 * apart: a POC that ran its jobs on one afternoon proves nothing
	 * about two weeks of operation */
	p->pass[POC_RUNS_AND_DAYS] =
		p->runs >= POC_MIN_RUNS &&
		p->last_ms - p->first_ms >= (int64_t)(p->days - 1) * DAY_MS;
	p->pass[POC_FIRST_ATTEMPT_SUCCESS] =
		p->counted > 0 &&
		p->first_ok * 100 >= (uint64_t)POC_SUCCESS_MIN_PCT * p->counted;
	p->pass[POC_FAILURES_DIAGNOSED] = !p->no_class && !p->no_logs;
	p->pass[POC_SECURITY_FINDINGS] =
		p->nfindings == 0 && p->findings_dropped == 0;
	p->go = true;
	for (int c = 0; c < POC_NCRITERIA; c++)
		p->go &= p->pass[c];
}

/* x/y as a decimal with one digit ("12.5"), rounded down. */
static void decimal1(char *buf, size_t len, int64_t x, int64_t y)
{
	int64_t tenths = y ? x * 10 / y : 0;
	snprintf(buf, len, "%" PRId64 ".%" PRId64, tenths / 10, tenths % 10);
}

const char *pocreport_value_text(const struct poc_report *p,
				 enum poc_criterion c, char *buf, size_t len)
{
	char a[32], b[32];

	switch (c) {
	case POC_TIME_TO_READY:
		if (p->ready_after_ms < 0) {
			snprintf(buf, len, "not ready yet");
			break;
		}
		decimal1(a, sizeof(a), p->ready_after_ms, 60000);
		snprintf(buf, len, "%s%s min", p->ready_bound ? "at most " : "",
			 a);
		break;
	case POC_RUNS_AND_DAYS:
		decimal1(a, sizeof(a), p->runs ? p->last_ms - p->first_ms : 0,
			 DAY_MS);
		snprintf(buf, len, "%" PRIu64 " runs over %s days (%u with runs)",
			 p->runs, a, p->active_days);
		break;
	case POC_FIRST_ATTEMPT_SUCCESS:
		if (!p->counted) {
			snprintf(buf, len, "no ended run counted");
			break;
		}
		decimal1(a, sizeof(a), (int64_t)p->first_ok * 100,
			 (int64_t)p->counted);
		snprintf(b, sizeof(b), "%" PRIu64 "/%" PRIu64, p->first_ok,
			 p->counted);
		snprintf(buf, len, "%s%% (%s; %" PRIu64 " customer-code left out)",
			 a, b, p->excluded_customer);
		break;
	case POC_FAILURES_DIAGNOSED:
		snprintf(buf, len,
			 "%" PRIu64 " failed: %" PRIu64 " without class, %" PRIu64
			 " without logs",
			 p->failed, p->no_class, p->no_logs);
		break;
	case POC_SECURITY_FINDINGS:
		snprintf(buf, len, "%u open", p->nfindings + p->findings_dropped);
		break;
	default:
		snprintf(buf, len, "-");
	}
	return buf;
}

const char *pocreport_threshold_text(const struct poc_report *p,
				     enum poc_criterion c, char *buf,
				     size_t len)
{
	switch (c) {
	case POC_TIME_TO_READY:
		snprintf(buf, len, "<= %lld min", POC_READY_MAX_MS / 60000);
		break;
	case POC_RUNS_AND_DAYS:
		snprintf(buf, len, ">= %d runs, first to last >= %u days",
			 POC_MIN_RUNS, p->days - 1);
		break;
	case POC_FIRST_ATTEMPT_SUCCESS:
		snprintf(buf, len, ">= %d%%", POC_SUCCESS_MIN_PCT);
		break;
	case POC_FAILURES_DIAGNOSED:
		snprintf(buf, len, "all failed runs");
		break;
	case POC_SECURITY_FINDINGS:
		snprintf(buf, len, "none");
		break;
	default:
		snprintf(buf, len, "-");
	}
	return buf;
}
