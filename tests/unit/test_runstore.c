/* test_runstore.c - ended runs kept only in the store: the load leaves
 * the old ended runs in the store (one-thread and two-thread loads), the
 * state's marks (page out, read back, forget), and the policy's count of
 * ended runs. The read-back path through the daemon is
 * t2660-stored-runs.sh's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "records.h"
#include "store.h"
#include "store_fixture.h"

#define ENDED_AT 1000000     /* the ended runs' end */
#define KEY_AT 2000000       /* the keyed runs' creation */

/* n runs: every third ended at ENDED_AT; of those, every second has an
 * idempotency key given at KEY_AT; the others queued. */
static void put_runs(struct store *st, struct tenant *t, struct env *e,
		     struct job *j, uint64_t n)
{
	struct store_batch *b = store_batch_new();
	char err[256];

	records_put_tenant(b, st, t);
	records_put_env(b, st, e);
	records_put_job(b, st, j);
	for (uint64_t id = 1; id <= n; id++) {
		struct run_detail d = { 0 };
		struct run r = { .id = id, .job = j, .state = RUN_QUEUED,
				 .attempt = 1, .exit_code = -1,
				 .created_ms = 1 };
		if (id % 3 == 0) {
			r.state = RUN_SUCCEEDED;
			r.exit_code = 0;
			r.d = &d;
			d.state_ms[RUN_SUCCEEDED - 1] = ENDED_AT;
			if (id % 2 == 0) {
				r.idem_key = (char *)"k";
				r.created_ms = KEY_AT;
			}
		}
		records_put_run(b, st, &r);
		if (id % 10000 == 0) {
			assert_int_equal(store_write(st, b, false, err,
						     sizeof(err)), 0);
			store_batch_clear(b);
		}
	}
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
}

/* Loads n runs with the marks set so that the unkeyed ended runs stay in
 * the store (the keyed ones' keys still answer), and checks every id. */
static void load_and_check(const char *name, uint64_t n)
{
	struct tenant t = { .name = "acme" };
	struct env e = { .key = "acme/prod", .tenant = "acme", .name = "prod" };
	struct job j = { .key = "acme/prod/pi", .tenant = "acme",
			 .env = "acme/prod", .name = "pi", .max_attempts = 1 };
	struct store *st = store_fx_open(name);
	struct sched_state ss;
	struct policy_limits lim;
	struct policy pol;
	uint64_t stored = 0, ended = 0;
	char err[256];

	put_runs(st, &t, &e, &j, n);
	state_init(&ss);
	ss.stored_before_ms = ENDED_AT + 1;
	ss.key_horizon_ms = KEY_AT; /* keys given at KEY_AT still answer */
	if (records_load(st, &ss, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(ss.nruns, n);
	for (uint64_t id = 1; id <= n; id++) {
		bool want = id % 3 == 0 && id % 2 != 0;
		assert_int_equal(state_run_stored(&ss, id), want);
		if (want)
			assert_null(state_run(&ss, id));
		else
			assert_int_equal(state_run(&ss, id)->id, id);
		stored += want;
		ended += id % 3 == 0;
	}
	assert_int_equal(ss.runs_stored, stored);
	assert_int_equal(state_tenant(&ss, "acme")->n_stored, stored);
	/* the policy counts every ended run, stored or not */
	policy_limits_defaults(&lim);
	policy_init(&pol, &ss, &lim, KEY_AT, KEY_AT);
	assert_int_equal(state_tenant(&ss, "acme")->n_ended, ended);
	/* forgetting a stored run counts its id as dropped */
	policy_forget_stored(&pol, 3, state_tenant(&ss, "acme"));
	assert_false(state_run_stored(&ss, 3));
	assert_int_equal(ss.runs_dropped, 1);
	assert_int_equal(state_tenant(&ss, "acme")->n_ended, ended - 1);
	assert_int_equal(state_tenant(&ss, "acme")->n_stored, stored - 1);
	/* a run not stored is not forgotten that way */
	policy_forget_stored(&pol, 1, state_tenant(&ss, "acme"));
	assert_non_null(state_run(&ss, 1));
	assert_int_equal(ss.runs_dropped, 1);
	policy_release(&pol);
	state_release(&ss);
	store_close(st);
}

static void test_load_leaves_ended_runs(void **s)
{
	(void)s;
	load_and_check("small", 100);     /* one thread */
	load_and_check("big", 120000);    /* two threads: upper half later */
}

/* Nothing stays in the store without the marks (a unit test's state, an
 * upgrade that rebuilds roll-ups from the runs). */
static void test_no_marks_loads_all(void **s)
{
	struct tenant t = { .name = "acme" };
	struct env e = { .key = "acme/prod", .tenant = "acme", .name = "prod" };
	struct job j = { .key = "acme/prod/pi", .tenant = "acme",
			 .env = "acme/prod", .name = "pi", .max_attempts = 1 };
	struct store *st = store_fx_open("nomarks");
	struct sched_state ss;
	char err[256];
	(void)s;

	put_runs(st, &t, &e, &j, 30);
	state_init(&ss);
	if (records_load(st, &ss, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(ss.runs_stored, 0);
	for (uint64_t id = 1; id <= 30; id++)
		assert_non_null(state_run(&ss, id));
	state_release(&ss);
	store_close(st);
}

/* The state's marks: a run paged out leaves runs[] and is counted; read
 * back, it is in memory again; its slot is reused by the next run. */
static void test_page_out_and_in(void **s)
{
	struct sched_state ss;
	struct tenant *t = calloc(1, sizeof(*t));
	struct env *e = calloc(1, sizeof(*e));
	struct job *j = calloc(1, sizeof(*j));
	struct run *r, *again;
	(void)s;

	state_init(&ss);
	snprintf(t->name, sizeof(t->name), "acme");
	state_add_tenant(&ss, t);
	snprintf(e->key, sizeof(e->key), "acme/prod");
	snprintf(e->tenant, sizeof(e->tenant), "acme");
	state_add_env(&ss, e);
	snprintf(j->key, sizeof(j->key), "acme/prod/pi");
	snprintf(j->tenant, sizeof(j->tenant), "acme");
	snprintf(j->env, sizeof(j->env), "acme/prod");
	snprintf(j->name, sizeof(j->name), "pi");
	state_add_job(&ss, j);
	r = state_new_run(&ss, j);
	r->state = RUN_FAILED;
	state_new_run(&ss, j);
	state_page_out(&ss, r);
	assert_null(state_run(&ss, 1));
	assert_true(state_run_stored(&ss, 1));
	assert_false(state_run_stored(&ss, 2));
	assert_false(state_run_stored(&ss, 0));
	assert_false(state_run_stored(&ss, 99));
	assert_int_equal(ss.runs_stored, 1);
	assert_int_equal(t->n_stored, 1);
	/* read back (runstore_get decodes into a slab slot) */
	again = run_slab_alloc(&ss.slab);
	assert_ptr_equal(again, r); /* the freed slot, reused */
	again->id = 1;
	again->job = j;
	again->state = RUN_FAILED;
	state_page_in(&ss, again);
	assert_ptr_equal(state_run(&ss, 1), again);
	assert_false(state_run_stored(&ss, 1));
	assert_int_equal(ss.runs_stored, 0);
	assert_int_equal(t->n_stored, 0);
	assert_int_equal(ss.runs_dropped, 0);
	state_release(&ss);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_leaves_ended_runs),
		cmocka_unit_test(test_no_marks_loads_all),
		cmocka_unit_test(test_page_out_and_in),
	};
	return cmocka_run_group_tests(tests, store_fx_setup, store_fx_teardown);
}
