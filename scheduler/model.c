/* model.c - state machines and metering for the scheduler's records. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const env_state_names[] = {
	"pending", "validating_runtime", "ready", "failed"
};
static const char *const run_state_names[] = {
	"queued", "leased", "submitted", "running",
	"succeeded", "failed", "cancelled", "timed_out"
};

const char *env_state_name(enum env_state s)
{
	return (unsigned)s < 4 ? env_state_names[s] : "unknown";
}

const char *env_mode_name(enum env_mode m)
{
	return m == ENV_BYOC_LITE ? "byoc_lite" : "full";
}

int env_mode_parse(const char *s, enum env_mode *out)
{
	if (!strcmp(s, "full"))
		*out = ENV_FULL;
	else if (!strcmp(s, "byoc_lite"))
		*out = ENV_BYOC_LITE;
	else
		return -1;
	return 0;
}

const char *agent_state_name(enum agent_state s)
{
	switch (s) {
	case AGENT_ACTIVE:
		return "active";
	case AGENT_DRAINING:
		return "draining";
	case AGENT_REVOKED:
		return "revoked";
	}
	return "unknown";
}

const char *run_state_name(enum run_state s)
{
	return (unsigned)s < RUN_STATE_COUNT ? run_state_names[s] : "unknown";
}

int run_state_parse(const char *s)
{
	for (int i = 0; i < RUN_STATE_COUNT; i++)
		if (!strcmp(s, run_state_names[i]))
			return i;
	return -1;
}

bool run_state_terminal(enum run_state s)
{
	return s >= RUN_SUCCEEDED && s < RUN_STATE_COUNT;
}

bool run_transition_ok(enum run_state from, enum run_state to)
{
	if (run_state_terminal(from) || from == to)
		return false;
	switch (to) {
	case RUN_QUEUED:
		/* a lost lease or a failed attempt with retries left */
		return from == RUN_LEASED || from == RUN_SUBMITTED ||
		       from == RUN_RUNNING;
	case RUN_LEASED:
		return from == RUN_QUEUED;
	case RUN_SUBMITTED:
		return from == RUN_LEASED;
	case RUN_RUNNING:
		return from == RUN_LEASED || from == RUN_SUBMITTED;
	case RUN_SUCCEEDED:
	case RUN_FAILED:
	case RUN_TIMED_OUT:
		return from != RUN_QUEUED;
	case RUN_CANCELLED:
		return true;
	case RUN_STATE_COUNT:
		break;
	}
	return false;
}

int run_set_state(struct run *r, enum run_state to, int64_t now_ms)
{
	if (!run_transition_ok(r->state, to))
		return -1;
	r->state = to;
	run_set_state_ms(r, to, now_ms);
	return 0;
}

bool env_transition_ok(enum env_state from, enum env_state to)
{
	switch (to) {
	case ENV_VALIDATING_RUNTIME:
		return from != ENV_VALIDATING_RUNTIME;
	case ENV_READY:
	case ENV_FAILED:
		return from == ENV_VALIDATING_RUNTIME;
	case ENV_PENDING:
		return false;
	}
	return false;
}

int env_set_state(struct env *e, enum env_state to, const char *reason,
		  int64_t now_ms)
{
	if (!env_transition_ok(e->state, to))
		return -1;
	e->state = to;
	e->state_ms = now_ms;
	/* the first time only: a later revalidation says nothing about how
	 * long the environment took to come up */
	if (to == ENV_READY && !e->ready_ms)
		e->ready_ms = now_ms;
	snprintf(e->state_reason, sizeof(e->state_reason), "%s",
		 reason ? reason : "");
	return 0;
}

static int64_t clamp64(__int128 v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

void job_usage_for(const struct job *j, const struct env *e, int64_t dur_ms,
		   struct usage_amount *out)
{
	/* bounded so that the product below fits in 128 bits with the
	 * largest resources and prices the commands accept (PRICE_MAX) */
	int64_t dur = dur_ms <= 0 ? 0 : dur_ms > USAGE_MAX_MS ? USAGE_MAX_MS
								: dur_ms;
	int64_t dcpu = j->driver_cores, dmem = j->driver_memory_mb;
	int64_t xcpu = (int64_t)j->executors * j->executor_cores;
	int64_t xmem = (int64_t)j->executors * j->executor_memory_mb;
	int64_t keep = e->spot_discount_bp < 10000 /* of 10000 */
			       ? 10000 - (int64_t)e->spot_discount_bp
			       : 0;
	/* micro-USD = unit-ms * micro-USD-per-unit-hour / 3.6e6, with memory
	 * in MB / 1024 and the executors' part * keep / 10000: one 128-bit
	 * numerator over one divisor, so nothing is rounded twice and a long
	 * run on a big cluster cannot overflow. */
	__int128 price = (__int128)(dcpu * 10000 + xcpu * keep) * 1024 *
				 e->price_vcpu_hour +
			 (__int128)(dmem * 10000 + xmem * keep) *
				 e->price_gb_hour;

	out->vcpu_ms = clamp64((__int128)(dcpu + xcpu) * dur);
	out->gb_ms = clamp64((__int128)(dmem + xmem) * dur / 1024);
	out->cost = clamp64(price * dur / ((__int128)3600000 * 10000 * 1024));
}

void job_usage_measured(const struct job *j, const struct env *e,
			int64_t dur_ms, const struct executor_usage *x,
			struct usage_amount *out)
{
	struct job driver = *j;
	int64_t core = x->core_ms < 0 ? 0 : x->core_ms > EXECUTOR_USAGE_MAX_MS
						    ? EXECUTOR_USAGE_MAX_MS
						    : x->core_ms;
	int64_t life = x->lifetime_ms < 0 ? 0
		       : x->lifetime_ms > EXECUTOR_USAGE_MAX_MS
			       ? EXECUTOR_USAGE_MAX_MS
			       : x->lifetime_ms;
	int64_t keep = e->spot_discount_bp < 10000
			       ? 10000 - (int64_t)e->spot_discount_bp
			       : 0;
	struct usage_amount d;
	/* the same single rounding as job_usage_for: 1.0e15 ms x 4 TB x 10,000
	 * USD x 10,000 stays below 2^127 */
	__int128 price = ((__int128)core * 1024 * e->price_vcpu_hour +
			  (__int128)life * j->executor_memory_mb *
				  e->price_gb_hour) *
			 keep;

	driver.executors = 0;
	job_usage_for(&driver, e, dur_ms, &d);
	out->vcpu_ms = clamp64((__int128)d.vcpu_ms + core);
	out->gb_ms = clamp64((__int128)d.gb_ms +
			     (__int128)life * j->executor_memory_mb / 1024);
	out->cost = clamp64((__int128)d.cost +
			    price / ((__int128)3600000 * 10000 * 1024));
}

void run_set_str(char **field, const char *s)
{
	free(*field);
	*field = s && *s ? strdup(s) : NULL;
	if (s && *s && !*field)
		abort(); /* out of memory */
}

const struct run_detail run_detail_none;

struct run_detail *run_detail_get(struct run *r)
{
	if (!r->d)
		r->d = xcalloc(1, sizeof(*r->d));
	return r->d;
}

void run_set_state_ms(struct run *r, enum run_state s, int64_t ms)
{
	if (s == RUN_QUEUED)
		r->queued_ms = ms;
	else if (ms || r->d)
		run_detail_get(r)->state_ms[s - 1] = ms;
}

static void run_detail_free(struct run_detail *d)
{
	if (!d)
		return;
	free(d->app_id);
	free(d->reason);
	free(d->failure_class);
	free(d->diag_line);
	free(d);
}

void run_clear(struct run *r)
{
	free(r->idem_key);
	r->idem_key = NULL;
	run_detail_free(r->d);
	r->d = NULL;
	run_extra_free(r->x);
	r->x = NULL;
}

struct run_extra *run_extra_get(struct run *r)
{
	if (!r->x)
		r->x = xcalloc(1, sizeof(*r->x));
	return r->x;
}

static void free_strv(char **v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void run_extra_free(struct run_extra *x)
{
	if (!x)
		return;
	free(x->held_by);
	free_strv(x->params, x->nparams);
	free_strv(x->args, x->nargs);
	free(x->after);
	free(x);
}

const char *run_state_label(const struct run *r)
{
	if (r->state == RUN_QUEUED && r->waiting)
		return "waiting";
	if (r->state == RUN_CANCELLED && r->skipped)
		return "skipped";
	return run_state_name(r->state);
}

void job_release(struct job *j)
{
	for (size_t i = 0; i < j->old_versions.n; i++) {
		job_release(j->old_versions.v[i]);
		free(j->old_versions.v[i]);
	}
	ptrvec_release(&j->old_versions);
	runq_release(&j->queue);
	for (int i = 0; i < j->argc; i++)
		free(j->argv[i]);
	free(j->argv);
	j->argv = NULL;
	j->argc = 0;
}

const char *run_log_fields(const struct run *r, uint32_t attempt,
			   const char *agent, char *buf, size_t len)
{
	snprintf(buf, len, " run=%llu tenant=%s env=%s job=%s attempt=%u%s%s",
		 (unsigned long long)r->id, run_tenant(r), run_env(r),
		 r->job->key, attempt, agent && *agent ? " agent=" : "",
		 agent && *agent ? agent : "");
	return buf;
}
