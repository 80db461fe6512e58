/* test_flow.c - holds, priorities and dependencies in the pure scheduling
 * core (policy_flow.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy_fixture.h"
#include "util.h"

/* A run of j waiting for the runs in ids (n of them). */
static struct run *submit_after(struct fx *f, struct job *j,
				const uint64_t *ids, uint32_t n, bool any)
{
	struct run_extra *x = xcalloc(1, sizeof(*x));
	struct submit_opts o = { .x = x };
	struct refusal why;
	struct run *r = NULL;

	x->after = xcalloc(n, sizeof(uint64_t));
	memcpy(x->after, ids, n * sizeof(uint64_t));
	x->nafter = n;
	x->after_any = any;
	assert_int_equal(policy_submit_ex(&f->p, j, &o, &r, &why), 0);
	return r;
}

/* Leases what a1 can get and returns how many; the runs into out. */
static size_t take(struct fx *f, struct run **out)
{
	return lease(f, f->a1, 8, out);
}

static void test_after_ok_waits_for_each(void **state)
{
	struct fx *f = *state;
	struct run *a = submit(f, f->j, 0, NULL), *b = submit(f, f->j, 0, NULL);
	uint64_t ids[] = { a->id, b->id };
	struct run *c = submit_after(f, f->j2, ids, 2, false), *out[8];
	char why[256];

	assert_true(c->waiting);
	assert_string_equal(run_state_label(c), "waiting");
	assert_int_equal(f->t->n_queued, 3); /* waiting runs count */
	policy_why_waiting(&f->p, c, why, sizeof(why));
	assert_non_null(strstr(why, "waiting for runs"));
	assert_int_equal(take(f, out), 2); /* a and b, never c */
	assert_int_equal(complete(f, a, RUN_SUCCEEDED, NULL), 0);
	assert_true(c->waiting);
	assert_int_equal(take(f, out), 0);
	assert_int_equal(complete(f, b, RUN_SUCCEEDED, NULL), 0);
	assert_false(c->waiting);
	assert_string_equal(run_state_label(c), "queued");
	assert_int_equal(take(f, out), 1);
	assert_ptr_equal(out[0], c);
}

static void test_failure_skips_the_chain(void **state)
{
	struct fx *f = *state;
	struct run *a = submit(f, f->j2, 0, NULL), *out[8];
	struct run *b = submit_after(f, f->j2, &a->id, 1, false);
	struct run *c = submit_after(f, f->j2, &b->id, 1, false);
	uint64_t ended_before = f->p.completions;

	assert_int_equal(take(f, out), 1);
	assert_int_equal(complete(f, a, RUN_FAILED, "oom"), 0);
	assert_int_equal(b->state, RUN_CANCELLED);
	assert_true(b->skipped);
	assert_string_equal(run_state_label(b), "skipped");
	assert_non_null(strstr(run_detail(b)->reason, "failed"));
	assert_string_equal(run_detail(b)->failure_class, "dependency_failed");
	assert_true(c->skipped);
	assert_non_null(strstr(run_detail(c)->reason, "was skipped"));
	assert_int_equal(b->completions, 1);
	assert_int_equal(c->completions, 1);
	assert_int_equal(f->p.completions, ended_before + 3);
	assert_int_equal(f->t->n_queued, 0);
	assert_int_equal(f->p.skipped, 2);
}

static void test_after_any_and_ended_already(void **state)
{
	struct fx *f = *state;
	struct run *a = submit(f, f->j2, 0, NULL), *out[8], *b, *c;
	struct refusal why;

	assert_int_equal(take(f, out), 1);
	b = submit_after(f, f->j2, &a->id, 1, true);
	assert_int_equal(complete(f, a, RUN_FAILED, "oom"), 0);
	assert_false(b->waiting); /* any end will do */
	assert_int_equal(b->state, RUN_QUEUED);
	/* on a run ended already: resolved at once, either way */
	c = submit_after(f, f->j2, &a->id, 1, false);
	assert_true(c->skipped);
	assert_int_equal(policy_cancel(&f->p, b, &why), 0);
	c = submit_after(f, f->j2, &a->id, 1, true);
	assert_false(c->waiting);
	assert_int_equal(c->state, RUN_QUEUED);
}

static void test_cancel_waiting_then_dependency_ends(void **state)
{
	struct fx *f = *state;
	struct run *a = submit(f, f->j2, 0, NULL), *out[8];
	struct run *b = submit_after(f, f->j2, &a->id, 1, false);
	struct refusal why;

	assert_int_equal(policy_cancel(&f->p, b, &why), 0);
	assert_int_equal(b->state, RUN_CANCELLED);
	assert_int_equal(f->t->n_queued, 1);
	assert_int_equal(take(f, out), 1);
	assert_int_equal(complete(f, a, RUN_SUCCEEDED, NULL), 0);
	assert_int_equal(b->state, RUN_CANCELLED); /* not revived */
	assert_false(b->skipped);
	assert_int_equal(b->completions, 1);
	/* a cancelled waiting run can be dropped (retention) */
	struct run *d = submit(f, f->j2, 0, NULL);
	struct run *e = submit_after(f, f->j2, &d->id, 1, false);
	uint64_t eid = e->id;
	assert_int_equal(policy_cancel(&f->p, e, &why), 0);
	assert_int_equal(policy_forget_run(&f->p, e), 0);
	assert_null(state_run(&f->st, eid));
	assert_int_equal(take(f, out), 1);
	assert_int_equal(complete(f, d, RUN_SUCCEEDED, NULL), 0);
}

static void test_hold_and_release(void **state)
{
	struct fx *f = *state;
	struct run *a = submit(f, f->j, 0, NULL), *out[8];
	struct refusal why;
	char buf[256];

	assert_int_equal(policy_hold(&f->p, a, "uid:7", &why), 0);
	assert_true(a->held);
	assert_string_equal(a->x->held_by, "uid:7");
	policy_why_waiting(&f->p, a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "held by uid:7"));
	assert_int_equal(policy_hold(&f->p, a, "uid:7", &why), -1);
	assert_string_equal(why.code, "conflict");
	assert_int_equal(take(f, out), 0);
	assert_int_equal(f->t->n_queued, 1);
	assert_int_equal(policy_release_hold(&f->p, a, &why), 0);
	assert_null(a->x->held_by);
	assert_int_equal(policy_release_hold(&f->p, a, &why), -1);
	assert_int_equal(take(f, out), 1);
	/* a leased run cannot be held */
	assert_int_equal(policy_hold(&f->p, a, "uid:7", &why), -1);
	assert_non_null(strstr(why.message, "only a queued or waiting run"));
	/* held while waiting: released, it still waits */
	struct run *b = submit_after(f, f->j, &a->id, 1, false);
	assert_int_equal(policy_hold(&f->p, b, "uid:7", &why), 0);
	assert_int_equal(complete(f, a, RUN_SUCCEEDED, NULL), 0);
	assert_false(b->waiting);
	assert_int_equal(take(f, out), 0); /* held */
	assert_int_equal(policy_release_hold(&f->p, b, &why), 0);
	assert_int_equal(take(f, out), 1);
}

static void test_set_priority(void **state)
{
	struct fx *f = *state;
	struct run *a = submit(f, f->j, 0, NULL), *b = submit(f, f->j, 0, NULL);
	struct run *out[8];
	struct refusal why;

	assert_int_equal(policy_set_priority(&f->p, b, 10, &why), 0);
	assert_int_equal(b->priority, 10);
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_ptr_equal(out[0], b);
	assert_int_equal(policy_set_priority(&f->p, b, 1, &why), -1);
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_ptr_equal(out[0], a);
}

/* A restart rebuilds the lists from the loaded runs; a dependency that
 * ended meanwhile resolves its dependents at once. */
static void test_reload(void **state)
{
	struct fx *f = *state;
	struct run *a = submit(f, f->j2, 0, NULL), *out[8];
	struct run *b = submit_after(f, f->j2, &a->id, 1, false);
	struct run *c = submit(f, f->j2, 0, NULL);
	struct run *d = submit_after(f, f->j2, &c->id, 1, false);
	struct refusal why;

	assert_int_equal(policy_hold(&f->p, c, "uid:1", &why), 0);
	assert_int_equal(take(f, out), 1);
	/* a's end is in the store, as if written before a crash, but the
	 * policy that saw it is gone */
	a->state = RUN_SUCCEEDED;
	a->completions = 1;
	policy_take_dirty(&f->p, NULL, NULL);
	policy_fx_restart(f, f->p.now_ms, f->p.now_mono);
	assert_false(b->waiting);
	assert_int_equal(b->state, RUN_QUEUED);
	assert_true(d->waiting);
	assert_true(c->held);
	assert_int_equal(f->t->n_queued, 3);
	assert_int_equal(take(f, out), 1);
	assert_ptr_equal(out[0], b);
	assert_int_equal(policy_release_hold(&f->p, c, &why), 0);
	assert_int_equal(take(f, out), 1);
	assert_int_equal(complete(f, c, RUN_SUCCEEDED, NULL), 0);
	assert_false(d->waiting);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_after_ok_waits_for_each),
		FX_TEST(test_failure_skips_the_chain),
		FX_TEST(test_after_any_and_ended_already),
		FX_TEST(test_cancel_waiting_then_dependency_ends),
		FX_TEST(test_hold_and_release),
		FX_TEST(test_set_priority),
		FX_TEST(test_reload),
	};
	log_setup("test_flow", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
