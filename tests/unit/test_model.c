/* test_model.c - the run and environment state machines, metering, and the
 * in-memory queue order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "state.h"

static void test_run_happy_path(void **s)
{
	struct run r = { .state = RUN_QUEUED };
	(void)s;
	/* a queued run has no detail; its first lease gives it one */
	run_set_state_ms(&r, RUN_QUEUED, 5);
	run_set_state_ms(&r, RUN_LEASED, 0);
	assert_null(r.d);
	assert_int_equal(run_state_ms(&r, RUN_QUEUED), 5);
	assert_int_equal(run_state_ms(&r, RUN_LEASED), 0);
	assert_string_equal(run_agent(&r), "");
	assert_int_equal(run_set_state(&r, RUN_LEASED, 10), 0);
	assert_non_null(r.d);
	assert_int_equal(run_set_state(&r, RUN_SUBMITTED, 20), 0);
	assert_int_equal(run_set_state(&r, RUN_RUNNING, 30), 0);
	assert_int_equal(run_set_state(&r, RUN_SUCCEEDED, 40), 0);
	assert_int_equal(run_state_ms(&r, RUN_LEASED), 10);
	assert_int_equal(run_state_ms(&r, RUN_SUCCEEDED), 40);
	/* terminal states are final */
	for (int to = 0; to < RUN_STATE_COUNT; to++)
		assert_int_equal(run_set_state(&r, to, 50), -1);
	assert_int_equal(r.state, RUN_SUCCEEDED);
	run_clear(&r);
	assert_null(r.d);
}

static void test_run_illegal(void **s)
{
	(void)s;
	assert_false(run_transition_ok(RUN_QUEUED, RUN_RUNNING));
	assert_false(run_transition_ok(RUN_QUEUED, RUN_SUCCEEDED));
	assert_false(run_transition_ok(RUN_QUEUED, RUN_TIMED_OUT));
	assert_false(run_transition_ok(RUN_RUNNING, RUN_SUBMITTED));
	assert_false(run_transition_ok(RUN_QUEUED, RUN_QUEUED));
	assert_true(run_transition_ok(RUN_QUEUED, RUN_CANCELLED));
	assert_true(run_transition_ok(RUN_RUNNING, RUN_QUEUED)); /* retry */
	assert_true(run_transition_ok(RUN_LEASED, RUN_RUNNING));
	assert_true(run_transition_ok(RUN_SUBMITTED, RUN_TIMED_OUT));
}

static void test_run_state_names(void **s)
{
	(void)s;
	for (int i = 0; i < RUN_STATE_COUNT; i++)
		assert_int_equal(run_state_parse(run_state_name(i)), i);
	assert_int_equal(run_state_parse("bogus"), -1);
	assert_string_equal(run_state_name(RUN_TIMED_OUT), "timed_out");
}

static void test_env_machine(void **s)
{
	struct env e = { .state = ENV_PENDING };
	(void)s;
	assert_int_equal(env_set_state(&e, ENV_READY, "x", 1), -1);
	assert_int_equal(env_set_state(&e, ENV_VALIDATING_RUNTIME, "v", 2), 0);
	assert_int_equal(env_set_state(&e, ENV_READY, "ok", 3), 0);
	assert_string_equal(e.state_reason, "ok");
	assert_int_equal(env_set_state(&e, ENV_PENDING, "", 4), -1);
	assert_int_equal(env_set_state(&e, ENV_FAILED, "", 4), -1);
	assert_int_equal(env_set_state(&e, ENV_VALIDATING_RUNTIME, "", 5), 0);
	assert_int_equal(env_set_state(&e, ENV_FAILED, "disk", 6), 0);
	assert_int_equal(e.state_ms, 6);
}

static void test_meter(void **s)
{
	struct job j = { .driver_cores = 1, .driver_memory_mb = 1024,
			 .executor_cores = 2, .executor_memory_mb = 4096,
			 .executors = 2 };
	struct env e = { .price_vcpu_hour = 50000,   /* $0.05 */
			 .price_gb_hour = 10000 };   /* $0.01 */
	struct usage_amount u;
	(void)s;
	/* one hour: 5 vCPU, 9 GB -> 5 * 0.05 + 9 * 0.01 = $0.34 */
	job_usage_for(&j, &e, 3600000, &u);
	assert_int_equal(u.vcpu_ms, 5LL * 3600000);
	assert_int_equal(u.gb_ms, 9LL * 3600000);
	assert_int_equal(u.cost, 340000);
	/* a 65 % spot discount on the executors only: driver 0.05 + 0.01,
	 * executors (4 * 0.05 + 8 * 0.01) * 0.35 = 0.098 */
	e.spot_discount_bp = 6500;
	job_usage_for(&j, &e, 3600000, &u);
	assert_int_equal(u.cost, 60000 + 98000);
	assert_int_equal(u.vcpu_ms, 5LL * 3600000); /* usage is not discounted */
	/* rounded down once, at the end: 1 ms of $0.34/h is 0.094 micro-USD,
	 * 1 s is 94.4 */
	e.spot_discount_bp = 0;
	job_usage_for(&j, &e, 1, &u);
	assert_int_equal(u.cost, 0);
	job_usage_for(&j, &e, 1000, &u);
	assert_int_equal(u.cost, 94);
	/* the largest resources and prices the commands accept, over the
	 * longest attempt, neither overflow nor wrap */
	j.driver_cores = 256;
	j.driver_memory_mb = 4096 * 1024;
	j.executors = 100000;
	j.executor_cores = 256;
	j.executor_memory_mb = 4096 * 1024;
	e.price_vcpu_hour = e.price_gb_hour = PRICE_MAX;
	job_usage_for(&j, &e, USAGE_MAX_MS * 2, &u);
	assert_true(u.cost > 0);
	job_usage_for(&j, &e, USAGE_MAX_MS, &u);
	assert_true(u.cost > 0 && u.vcpu_ms > 0 && u.gb_ms > 0);
	/* a negative duration costs nothing */
	job_usage_for(&j, &e, -50, &u);
	assert_int_equal(u.cost, 0);
	assert_int_equal(u.vcpu_ms, 0);
}

/* Executors billed by their reported lifetimes: the driver stays declared
 * resources x wall time, each executor its cores x lifetime with the job's
 * executor memory, discounted as spot. */
static void test_meter_measured(void **s)
{
	struct job j = { .driver_cores = 1, .driver_memory_mb = 1024,
			 .executor_cores = 2, .executor_memory_mb = 4096,
			 .executors = 2 };
	struct env e = { .price_vcpu_hour = 50000,   /* $0.05 */
			 .price_gb_hour = 10000 };   /* $0.01 */
	/* three executors (dynamic allocation): 2 cores for 1 h, 2 cores for
	 * 1 h, 4 cores for 30 min: 6 core-hours over 2.5 executor-hours */
	struct executor_usage x = { .count = 3,
				    .core_ms = 6 * 3600000LL,
				    .lifetime_ms = 9000000 };
	struct usage_amount u, declared;
	(void)s;

	job_usage_measured(&j, &e, 3600000, &x, &u);
	/* driver 1 vCPU-h + 1 GB-h = $0.06; executors 6 x 0.05 + 2.5 h x 4 GB
	 * x 0.01 = $0.40 */
	assert_int_equal(u.cost, 60000 + 400000);
	assert_int_equal(u.vcpu_ms, 7 * 3600000LL);
	assert_int_equal(u.gb_ms, 3600000LL + 4 * 9000000LL);
	/* the declared form of the same hour bills 2 executors x 1 h */
	job_usage_for(&j, &e, 3600000, &declared);
	assert_int_equal(declared.cost, 340000);
	/* spot: the executors' part only */
	e.spot_discount_bp = 5000;
	job_usage_measured(&j, &e, 3600000, &x, &u);
	assert_int_equal(u.cost, 60000 + 200000);
	/* nothing reported, out of range or negative: clamped, never wraps */
	x.core_ms = x.lifetime_ms = 0;
	job_usage_measured(&j, &e, 3600000, &x, &u);
	assert_int_equal(u.cost, 60000);
	x.core_ms = x.lifetime_ms = INT64_MAX;
	e.price_vcpu_hour = e.price_gb_hour = PRICE_MAX;
	job_usage_measured(&j, &e, USAGE_MAX_MS, &x, &u);
	assert_true(u.cost > 0 && u.vcpu_ms > 0 && u.gb_ms > 0);
	x.core_ms = x.lifetime_ms = -5;
	job_usage_measured(&j, &e, 0, &x, &u);
	assert_int_equal(u.cost, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_happy_path),
		cmocka_unit_test(test_run_illegal),
		cmocka_unit_test(test_run_state_names),
		cmocka_unit_test(test_env_machine),
		cmocka_unit_test(test_meter),
		cmocka_unit_test(test_meter_measured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
