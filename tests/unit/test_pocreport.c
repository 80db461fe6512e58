/* test_pocreport.c - the POC readiness criteria (pocreport.h) over a
 * state built by hand, at a clock the test chooses: each criterion's pass
 * and fail, the customer-code exclusion from the success rate, the
 * window's edges and the retention flag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "pocreport.h"
#include "run_codec.h"
#include "util.h"

#define MIN_MS (60LL * 1000)
#define DAY_MS (86400LL * 1000)
/* 2026-11-20 00:00 UTC, the POC's start: env add */
#define T0 1795132800000LL

struct fx {
	struct sched_state st;
	struct env *e, *other;
	struct job *j, *oj;
	struct agent *ag;
	int64_t now;
};

static struct env *add_env(struct sched_state *st, const char *name)
{
	struct env *e = xcalloc(1, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "acme/%s", name);
	snprintf(e->tenant, sizeof(e->tenant), "acme");
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->state = ENV_PENDING;
	e->created_ms = e->state_ms = T0;
	state_add_env(st, e);
	return e;
}

static struct job *add_job(struct sched_state *st, struct env *e)
{
	struct job *j = xcalloc(1, sizeof(*j));
	snprintf(j->key, sizeof(j->key), "%s/j", e->key);
	snprintf(j->tenant, sizeof(j->tenant), "%s", e->tenant);
	snprintf(j->env, sizeof(j->env), "%s", e->key);
	snprintf(j->name, sizeof(j->name), "j");
	j->max_attempts = 3;
	state_add_job(st, j);
	return j;
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct tenant *t = xcalloc(1, sizeof(*t));

	state_init(&f->st);
	snprintf(t->name, sizeof(t->name), "acme");
	state_add_tenant(&f->st, t);
	f->e = add_env(&f->st, "poc");
	f->other = add_env(&f->st, "other");
	f->j = add_job(&f->st, f->e);
	f->oj = add_job(&f->st, f->other);
	f->ag = xcalloc(1, sizeof(*f->ag));
	snprintf(f->ag->id, sizeof(f->ag->id), "ag-1");
	snprintf(f->ag->env, sizeof(f->ag->env), "%s", f->e->key);
	snprintf(f->ag->hostname, sizeof(f->ag->hostname), "edge-1");
	state_add_agent(&f->st, f->ag);
	/* the agent's preflight passes 12 minutes after env add */
	assert_int_equal(env_set_state(f->e, ENV_VALIDATING_RUNTIME, "",
				       T0 + 11 * MIN_MS), 0);
	assert_int_equal(env_set_state(f->e, ENV_READY, "preflight passed",
				       T0 + 12 * MIN_MS), 0);
	f->ag->preflight_ok = true;
	f->now = T0 + 15 * DAY_MS;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	state_release(&f->st);
	free(f);
	return 0;
}

/* A run of job j created at ms that ended in state s at attempt n, with a
 * failure class (or NULL) and log lines. */
static struct run *add_run(struct fx *f, struct job *j, int64_t ms,
			   enum run_state s, uint32_t n, const char *cls,
			   uint32_t lines)
{
	struct run *r = state_new_run(&f->st, j);
	r->created_ms = ms;
	r->state = s;
	r->attempt = n;
	r->log_lines = lines;
	run_set_str(&run_detail_get(r)->failure_class, cls);
	return r;
}

/* One succeeded run a day on days 1..14 of the POC: every criterion
 * passes. */
static void fill_good(struct fx *f)
{
	for (int d = 1; d <= 14; d++)
		add_run(f, f->j, T0 + d * DAY_MS + 3600000, RUN_SUCCEEDED, 1,
			NULL, 40);
}

static void build(struct fx *f, uint32_t days, uint32_t keep,
		  struct poc_report *p)
{
	pocreport_build(&f->st, f->e, f->now, days, keep, p);
}

static void test_all_pass(void **state)
{
	struct fx *f = *state;
	struct poc_report p;
	char buf[256];

	fill_good(f);
	build(f, 14, 30, &p);
	for (int c = 0; c < POC_NCRITERIA; c++)
		if (!p.pass[c])
			fail_msg("%s failed: %s", pocreport_name(c),
				 pocreport_value_text(&p, c, buf, sizeof(buf)));
	assert_true(p.go);
	assert_int_equal(p.ready_after_ms, 12 * MIN_MS);
	assert_false(p.ready_bound);
	assert_int_equal(p.runs, 14);
	assert_int_equal(p.active_days, 14);
	assert_int_equal(p.counted, 14);
	assert_int_equal(p.first_ok, 14);
	assert_false(p.retention_limited);
	assert_string_equal(pocreport_value_text(&p, POC_TIME_TO_READY, buf,
						 sizeof(buf)),
			    "12.0 min");
	assert_string_equal(pocreport_value_text(&p, POC_RUNS_AND_DAYS, buf,
						 sizeof(buf)),
			    "14 runs over 13.0 days (14 with runs)");
}

/* Ready after 31 minutes fails; never ready fails; a later revalidation
 * does not move the first ready time. */
static void test_time_to_ready(void **state)
{
	struct fx *f = *state;
	struct poc_report p;

	f->e->ready_ms = 0;
	f->e->state = ENV_VALIDATING_RUNTIME;
	assert_int_equal(env_set_state(f->e, ENV_READY, "", T0 + 31 * MIN_MS),
			 0);
	build(f, 14, 30, &p);
	assert_false(p.pass[POC_TIME_TO_READY]);
	assert_false(p.go);
	assert_int_equal(env_set_state(f->e, ENV_VALIDATING_RUNTIME, "",
				       T0 + DAY_MS), 0);
	assert_int_equal(env_set_state(f->e, ENV_READY, "", T0 + DAY_MS), 0);
	assert_int_equal(f->e->ready_ms, T0 + 31 * MIN_MS);
	/* exactly 30 minutes passes */
	f->e->ready_ms = T0 + 30 * MIN_MS;
	build(f, 14, 30, &p);
	assert_true(p.pass[POC_TIME_TO_READY]);
	/* never ready */
	f->e->ready_ms = 0;
	f->e->state = ENV_FAILED;
	build(f, 14, 30, &p);
	assert_int_equal(p.ready_after_ms, -1);
	assert_false(p.pass[POC_TIME_TO_READY]);
	/* ready, from a store older than ready_ms: its last change bounds it */
	f->e->state = ENV_READY;
	f->e->state_ms = T0 + 20 * MIN_MS;
	build(f, 14, 30, &p);
	assert_true(p.ready_bound);
	assert_int_equal(p.ready_after_ms, 20 * MIN_MS);
	assert_true(p.pass[POC_TIME_TO_READY]);
}

/* 4 runs over 14 days fail; 5 runs on one day fail; 5 runs whose first
 * and last are 13 days apart pass; runs of another environment and runs
 * outside the window do not count. */
static void test_runs_and_days(void **state)
{
	struct fx *f = *state;
	struct poc_report p;

	add_run(f, f->j, f->now - 13 * DAY_MS, RUN_SUCCEEDED, 1, NULL, 1);
	for (int i = 0; i < 3; i++)
		add_run(f, f->j, f->now - i * 3600000, RUN_SUCCEEDED, 1, NULL,
			1);
	for (int i = 0; i < 9; i++)
		add_run(f, f->oj, f->now - i * DAY_MS, RUN_SUCCEEDED, 1, NULL,
			1);
	add_run(f, f->j, f->now - 14 * DAY_MS, RUN_SUCCEEDED, 1, NULL, 1);
	add_run(f, f->j, f->now + 1, RUN_SUCCEEDED, 1, NULL, 1);
	build(f, 14, 30, &p);
	assert_int_equal(p.runs, 4);
	assert_false(p.pass[POC_RUNS_AND_DAYS]);
	/* a live run counts as a run (UTC days: 2, 10, 14 and 15) */
	add_run(f, f->j, f->now - 5 * DAY_MS, RUN_QUEUED, 1, NULL, 0);
	build(f, 14, 30, &p);
	assert_int_equal(p.runs, 5);
	assert_int_equal(p.active_days, 4);
	assert_true(p.pass[POC_RUNS_AND_DAYS]);
	/* over a 1-day window: only the 3 of its last 24 hours */
	build(f, 1, 30, &p);
	assert_int_equal(p.runs, 3);
	assert_false(p.pass[POC_RUNS_AND_DAYS]);
}

static void test_runs_on_one_day(void **state)
{
	struct fx *f = *state;
	struct poc_report p;

	for (int i = 0; i < 8; i++)
		add_run(f, f->j, f->now - i * 60000, RUN_SUCCEEDED, 1, NULL, 1);
	build(f, 14, 30, &p);
	assert_int_equal(p.runs, 8);
	assert_false(p.pass[POC_RUNS_AND_DAYS]);
	build(f, 1, 30, &p); /* a 1-day POC: first to last >= 0 days */
	assert_true(p.pass[POC_RUNS_AND_DAYS]);
}

/* 9 of 10 first-attempt successes pass, 8 of 10 fail; a customer-code
 * failure (input_missing, class_not_found, version_conflict,
 * python_error) is left out; a platform failure, a success on a retry and
 * a timeout count against; a cancelled run is not counted. */
static void test_first_attempt_success(void **state)
{
	struct fx *f = *state;
	struct poc_report p;
	int64_t at = f->now - DAY_MS;

	for (int i = 0; i < 9; i++)
		add_run(f, f->j, at + i, RUN_SUCCEEDED, 1, NULL, 5);
	add_run(f, f->j, at + 10, RUN_FAILED, 1, "executor_oom", 5);
	build(f, 14, 30, &p);
	assert_int_equal(p.counted, 10);
	assert_int_equal(p.first_ok, 9);
	assert_true(p.pass[POC_FIRST_ATTEMPT_SUCCESS]);
	/* customer code: left out, the rate stays 90 % */
	add_run(f, f->j, at + 11, RUN_FAILED, 1, "input_missing", 5);
	add_run(f, f->j, at + 12, RUN_FAILED, 1, "class_not_found", 5);
	add_run(f, f->j, at + 13, RUN_FAILED, 1, "version_conflict", 5);
	add_run(f, f->j, at + 14, RUN_FAILED, 1, "python_error", 5);
	add_run(f, f->j, at + 15, RUN_CANCELLED, 1, NULL, 5);
	build(f, 14, 30, &p);
	assert_int_equal(p.excluded_customer, 4);
	assert_int_equal(p.cancelled, 1);
	assert_int_equal(p.counted, 10);
	assert_true(p.pass[POC_FIRST_ATTEMPT_SUCCESS]);
	/* succeeded only on its second attempt: not a first-attempt success */
	add_run(f, f->j, at + 16, RUN_SUCCEEDED, 2, "node_lost", 5);
	build(f, 14, 30, &p);
	assert_int_equal(p.counted, 11);
	assert_false(p.pass[POC_FIRST_ATTEMPT_SUCCESS]);
	assert_false(p.go);
}

static void test_no_runs_no_rate(void **state)
{
	struct fx *f = *state;
	struct poc_report p;
	char buf[128];

	add_run(f, f->j, f->now - DAY_MS, RUN_FAILED, 1, "class_not_found",
		3);
	build(f, 14, 30, &p);
	assert_int_equal(p.counted, 0);
	assert_false(p.pass[POC_FIRST_ATTEMPT_SUCCESS]);
	assert_string_equal(pocreport_value_text(&p, POC_FIRST_ATTEMPT_SUCCESS,
						 buf, sizeof(buf)),
			    "no ended run counted");
}

/* Every failed run needs a class and a log line. */
static void test_failures_diagnosed(void **state)
{
	struct fx *f = *state;
	struct poc_report p;
	struct run *r;

	fill_good(f);
	r = add_run(f, f->j, f->now - DAY_MS, RUN_FAILED, 1, "executor_oom",
		    12);
	build(f, 14, 30, &p);
	assert_int_equal(p.failed, 1);
	assert_true(p.pass[POC_FAILURES_DIAGNOSED]);
	run_set_str(&run_detail_get(r)->failure_class, NULL);
	build(f, 14, 30, &p);
	assert_int_equal(p.no_class, 1);
	assert_false(p.pass[POC_FAILURES_DIAGNOSED]);
	run_set_str(&run_detail_get(r)->failure_class, "executor_oom");
	r->log_lines = 0;
	build(f, 14, 30, &p);
	assert_int_equal(p.no_logs, 1);
	assert_false(p.pass[POC_FAILURES_DIAGNOSED]);
	assert_false(p.go);
}

/* An agent whose preflight did not pass is a finding, and so is the
 * environment's failed preflight; a revoked agent is not. */
static void test_security_findings(void **state)
{
	struct fx *f = *state;
	struct poc_report p;

	fill_good(f);
	build(f, 14, 30, &p);
	assert_int_equal(p.nfindings, 0);
	assert_true(p.pass[POC_SECURITY_FINDINGS]);
	f->ag->preflight_ok = false;
	assert_int_equal(env_set_state(f->e, ENV_VALIDATING_RUNTIME, "",
				       f->now - 1000), 0);
	assert_int_equal(env_set_state(f->e, ENV_FAILED,
				       "clock skew 45210 ms exceeds 30000 ms",
				       f->now - 1000), 0);
	build(f, 14, 30, &p);
	assert_int_equal(p.nfindings, 2);
	assert_string_equal(p.findings[0],
			    "agent ag-1 (edge-1): preflight not passed");
	assert_string_equal(p.findings[1],
			    "environment acme/poc: preflight failed: clock "
			    "skew 45210 ms exceeds 30000 ms");
	assert_false(p.pass[POC_SECURITY_FINDINGS]);
	assert_false(p.go);
	/* ready again 12 min after env add still counts as first ready */
	assert_true(p.pass[POC_TIME_TO_READY]);
	f->ag->state = AGENT_REVOKED;
	build(f, 14, 30, &p);
	assert_int_equal(p.nfindings, 1);
}

/* A window longer than the retention says so; the one list of
 * customer-code classes. */
static void test_retention_and_classes(void **state)
{
	struct fx *f = *state;
	struct poc_report p;
	int n = 0;

	build(f, 14, 7, &p);
	assert_true(p.retention_limited);
	build(f, 7, 7, &p);
	assert_false(p.retention_limited);
	for (int c = 0; c < DIAGNOSE_NCATEGORIES; c++)
		n += diagnose_customer_code(diagnose_category_name(c));
	assert_int_equal(n, 4);
	assert_true(diagnose_customer_code("python_error"));
	assert_false(diagnose_customer_code("executor_oom"));
	assert_false(diagnose_customer_code("s3_access_denied"));
	assert_false(diagnose_customer_code(NULL));
	assert_false(diagnose_customer_code("nonsense"));
}

/* Runs read back from the store count as the same runs in memory: a
 * report begun over no runs, given every run as a summary, judges as
 * the one built over the state; another environment's are not counted,
 * nor those of an environment whose key only starts the same. */
static void test_summaries_count_as_runs(void **state)
{
	struct fx *f = *state;
	struct poc_report a, b;
	struct sched_state none;
	struct run_summary s;

	fill_good(f);
	add_run(f, f->j, T0 + 2 * DAY_MS, RUN_FAILED, 2, "python_error", 9);
	add_run(f, f->j, T0 + 3 * DAY_MS, RUN_FAILED, 1, NULL, 0);
	add_run(f, f->j, T0 + 4 * DAY_MS, RUN_CANCELLED, 1, NULL, 0);
	add_run(f, f->j, T0 + 5 * DAY_MS, RUN_RUNNING, 1, NULL, 3);
	add_run(f, f->j, T0 - DAY_MS, RUN_SUCCEEDED, 1, NULL, 3); /* before */
	add_run(f, f->oj, T0 + 6 * DAY_MS, RUN_FAILED, 1, NULL, 0);
	build(f, 14, 30, &a);
	state_init(&none);
	pocreport_begin(&none, f->e, f->now, 14, 30, &b);
	assert_int_equal(b.runs, 0);
	for (size_t i = 0; i < f->st.nruns; i++) {
		const struct run *r = f->st.runs[i];
		memset(&s, 0, sizeof(s));
		s.id = r->id;
		snprintf(s.job, sizeof(s.job), "%s", r->job->key);
		s.state = r->state;
		s.attempt = r->attempt;
		s.log_lines = r->log_lines;
		s.created_ms = r->created_ms;
		snprintf(s.failure_class, sizeof(s.failure_class), "%s",
			 str_or_empty(run_detail(r)->failure_class));
		pocreport_add_summary(&b, f->e->key, &s);
		/* the same run under a look-alike environment's key */
		snprintf(s.job, sizeof(s.job), "%s2/j", f->e->key);
		pocreport_add_summary(&b, f->e->key, &s);
	}
	pocreport_judge(&f->st, f->e, &b);
	state_release(&none);
	assert_int_equal(b.runs, a.runs);
	assert_int_equal(b.runs, 18);
	assert_int_equal(b.first_ms, a.first_ms);
	assert_int_equal(b.last_ms, a.last_ms);
	assert_int_equal(b.active_days, a.active_days);
	assert_int_equal(b.counted, a.counted);
	assert_int_equal(b.first_ok, a.first_ok);
	assert_int_equal(b.excluded_customer, 1);
	assert_int_equal(b.excluded_customer, a.excluded_customer);
	assert_int_equal(b.cancelled, a.cancelled);
	assert_int_equal(b.failed, 2);
	assert_int_equal(b.failed, a.failed);
	assert_int_equal(b.no_class, a.no_class);
	assert_int_equal(b.no_logs, a.no_logs);
	for (int c = 0; c < POC_NCRITERIA; c++)
		assert_int_equal(b.pass[c], a.pass[c]);
	assert_int_equal(b.go, a.go);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summaries_count_as_runs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_to_ready, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_runs_and_days, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_runs_on_one_day, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_first_attempt_success,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_runs_no_rate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failures_diagnosed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_security_findings, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retention_and_classes,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
