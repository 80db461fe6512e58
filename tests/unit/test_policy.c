/* test_policy.c - the pure scheduling core, step by step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "util.h"

#include "policy_fixture.h"

static void test_priority_fifo_and_aging(void **state)
{
	struct fx *f = *state;
	struct run *out[8];
	struct run *low = submit(f, f->j, 0, NULL);
	advance(f, 10);
	struct run *hi1 = submit(f, f->j, 5, NULL);
	struct run *hi2 = submit(f, f->j2, 5, NULL);

	assert_int_equal(policy_queue_position(&f->p, hi1), 1);
	assert_int_equal(policy_queue_position(&f->p, hi2), 2);
	assert_int_equal(policy_queue_position(&f->p, low), 3);
	/* queued runs carry no detail; the first lease gives one */
	assert_null(hi1->d);
	assert_string_equal(run_agent(hi1), "");
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_ptr_equal(out[0], hi1); /* priority first, FIFO among equals */
	assert_non_null(hi1->d);
	assert_string_equal(run_agent(hi1), f->a1->id);
	assert_int_equal(run_state_ms(hi1, RUN_LEASED), f->p.now_ms);
	assert_null(low->d);
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_ptr_equal(out[0], hi2);
	/* A priority-5 run arriving 600 ms later than the low one (aging is
	 * one level per 100 ms here) no longer overtakes it. */
	advance(f, 600);
	struct run *late = submit(f, f->j, 5, NULL);
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_ptr_equal(out[0], low);
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_ptr_equal(out[0], late);
	assert_int_equal(run_epoch(out[0]), 1);
	assert_int_equal(f->t->n_running, 4);
	assert_int_equal(f->p.queued_total, 0);
}

static void test_concurrency_caps(void **state)
{
	struct fx *f = *state;
	struct run *out[8];
	char why[256];

	f->j->max_concurrent = 1;
	struct run *r1 = submit(f, f->j, 0, NULL);
	struct run *r2 = submit(f, f->j, 0, NULL);
	struct run *r3 = submit(f, f->j2, -1, NULL);
	/* j is capped at one: the next best is j2's run */
	assert_int_equal(lease(f, f->a1, 3, out), 2);
	assert_ptr_equal(out[0], r1);
	assert_ptr_equal(out[1], r3);
	policy_why_waiting(&f->p, r2, why, sizeof(why));
	assert_non_null(strstr(why, "job t/e/j is at max-concurrent: 1 of 1"));
	complete(f, r1, RUN_SUCCEEDED, NULL);
	f->e->max_concurrent = 1; /* env cap: r3 still runs */
	assert_int_equal(lease(f, f->a1, 3, out), 0);
	policy_why_waiting(&f->p, r2, why, sizeof(why));
	assert_non_null(strstr(why, "environment t/e is at max-concurrent"));
	f->e->max_concurrent = 0;
	f->t->max_running = 1;
	assert_int_equal(lease(f, f->a2, 3, out), 0);
	policy_why_waiting(&f->p, r2, why, sizeof(why));
	assert_non_null(strstr(why, "tenant t is at max-running: 1 of 1"));
	complete(f, r3, RUN_SUCCEEDED, NULL);
	assert_int_equal(lease(f, f->a2, 3, out), 1);
	assert_ptr_equal(out[0], r2);
	/* other tenants' agents never see t's runs */
	submit(f, f->j, 0, NULL);
	assert_int_equal(lease(f, f->b1, 3, out), 0);
}

static void test_pause_drain_and_env(void **state)
{
	struct fx *f = *state;
	struct run *out[4];
	char why[256];
	struct run *r = submit(f, f->j, 0, NULL);

	f->p.paused = true;
	assert_int_equal(lease(f, f->a1, 1, out), 0);
	policy_why_waiting(&f->p, r, why, sizeof(why));
	assert_non_null(strstr(why, "paused"));
	f->p.paused = false;
	f->a1->state = AGENT_DRAINING;
	assert_int_equal(lease(f, f->a1, 1, out), 0);
	f->e->state = ENV_FAILED;
	assert_int_equal(lease(f, f->a2, 1, out), 0);
	policy_why_waiting(&f->p, r, why, sizeof(why));
	assert_non_null(strstr(why, "environment t/e is failed"));
	f->e->state = ENV_READY;
	assert_int_equal(lease(f, f->a2, 1, out), 1);
}

static void test_quotas(void **state)
{
	struct fx *f = *state;
	struct run *r;
	struct refusal why;

	f->t->max_queued = 2;
	submit(f, f->j, 0, NULL);
	submit(f, f->j, 0, NULL);
	assert_int_equal(policy_submit(&f->p, f->j, 0, NULL, &r, &why), -1);
	assert_string_equal(why.code, "quota_exceeded");
	assert_non_null(strstr(why.message, "has 2 queued runs (max-queued 2)"));
	assert_true(why.retry_after_ms > 0);
	assert_int_equal(f->t->refused, 1);
	/* the other tenant is unaffected */
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), 0);

	f->u->submit_rate = 2; /* a bucket of 2, refilled at 2/s */
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), 0);
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), 0);
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), -1);
	assert_string_equal(why.code, "quota_exceeded");
	assert_non_null(strstr(why.message, "submit-rate of 2 runs/s"));
	assert_int_equal(why.retry_after_ms, 500);
	advance(f, 500);
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), 0);

	f->p.lim.max_queued_total = f->p.queued_total;
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), -1);
	assert_string_equal(why.code, "busy");
	assert_non_null(strstr(why.message, "global limit"));
}

/* tenant set: new quotas apply from the next start or dispatch; nothing
 * already queued or live is evicted; the rate bucket follows the rate. */
static void test_set_limits(void **state)
{
	struct fx *f = *state;
	struct run *r, *out[4];
	struct refusal why;

	for (int i = 0; i < 3; i++)
		submit(f, f->j, 0, NULL);
	assert_int_equal(lease(f, f->a1, 2, out), 2);
	/* lowered below what is live and queued: both stay */
	policy_set_tenant_limits(&f->p, f->t, 1, 1, 0);
	assert_int_equal(f->t->n_running, 2);
	assert_int_equal(f->t->n_queued, 1);
	assert_int_equal(lease(f, f->a2, 4, out), 0);
	assert_int_equal(policy_submit(&f->p, f->j, 0, NULL, &r, &why), -1);
	assert_non_null(strstr(why.message, "(max-queued 1)"));
	/* raised: dispatch and starts go on at once */
	policy_set_tenant_limits(&f->p, f->t, 3, 0, 0);
	assert_int_equal(lease(f, f->a2, 4, out), 1);
	assert_int_equal(f->t->n_running, 3);
	assert_int_equal(policy_submit(&f->p, f->j, 0, NULL, &r, &why), 0);

	/* a rate newly set starts with a full bucket of one second */
	policy_set_tenant_limits(&f->p, f->u, 0, 0, 2);
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), 0);
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), 0);
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), -1);
	/* raised: tokens refill at the new rate */
	policy_set_tenant_limits(&f->p, f->u, 0, 0, 100);
	advance(f, 20);
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), 0);
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), 0);
	/* lowered: a bucket full at 100/s holds one second of 1/s */
	advance(f, 1000);
	policy_set_tenant_limits(&f->p, f->u, 0, 0, 1);
	assert_true(f->u->rate_tokens <= 1000);
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), 0);
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), -1);
	assert_int_equal(why.retry_after_ms, 1000);
	/* lifted */
	policy_set_tenant_limits(&f->p, f->u, 0, 0, 0);
	assert_int_equal(policy_submit(&f->p, f->uj, 0, NULL, &r, &why), 0);
}

/* queue stats' oldest queued age counts from when a run entered the
 * queue, also while it waits out a retry backoff (whose enqueued_ms, the
 * origin of its aging, lies in the future). */
static void test_oldest_queued(void **state)
{
	struct fx *f = *state;
	struct run *out[4], *a, *b;
	int64_t env[2], ten[2], failed_at;

	policy_oldest_queued(&f->p, env, ten);
	assert_int_equal(env[0], 0);
	assert_int_equal(ten[0], 0);
	a = submit(f, f->j, 0, NULL);
	advance(f, 100);
	b = submit(f, f->uj, 0, NULL);
	policy_oldest_queued(&f->p, env, ten);
	assert_int_equal(env[0], a->created_ms); /* t/e */
	assert_int_equal(ten[0], a->created_ms); /* t */
	assert_int_equal(env[1], b->created_ms); /* u/e */
	assert_int_equal(ten[1], b->created_ms); /* u */

	advance(f, 100);
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	advance(f, 100);
	failed_at = f->p.now_ms;
	assert_int_equal(complete(f, a, RUN_FAILED, NULL), 1);
	assert_true(a->enqueued_ms > f->p.now_ms); /* in backoff */
	assert_int_equal(policy_queued_since(a), failed_at);
	policy_oldest_queued(&f->p, env, ten);
	assert_int_equal(env[0], failed_at);
	assert_int_equal(ten[0], failed_at);
	/* out of backoff, in its job's queue: still the same */
	advance(f, run_not_before(a) - f->p.now_ms);
	assert_true(runq_contains(&f->j->queue, a));
	policy_oldest_queued(&f->p, env, ten);
	assert_int_equal(env[0], failed_at);
}

static void test_idempotency(void **state)
{
	struct fx *f = *state;
	struct run *r, *again;
	struct refusal why;

	r = submit(f, f->j, 0, "k1");
	assert_int_equal(policy_submit(&f->p, f->j, 0, "k1", &again, &why), 1);
	assert_ptr_equal(again, r);
	/* the same key of another tenant is another run */
	assert_int_equal(policy_submit(&f->p, f->uj, 0, "k1", &again, &why), 0);
	assert_ptr_not_equal(again, r);
	/* the same key for another job of the tenant is a conflict */
	assert_int_equal(policy_submit(&f->p, f->j2, 0, "k1", &again, &why), -1);
	assert_string_equal(why.code, "conflict");
	/* still there after 23 h, gone after the 24 h TTL */
	advance(f, 23LL * 3600 * 1000);
	assert_int_equal(policy_submit(&f->p, f->j, 0, "k1", &again, &why), 1);
	advance(f, 2LL * 3600 * 1000);
	assert_int_equal(policy_submit(&f->p, f->j, 0, "k1", &again, &why), 0);
	assert_ptr_not_equal(again, r);
}

static void test_lease_expiry_and_fencing(void **state)
{
	struct fx *f = *state;
	struct run *out[4];
	struct run *r = submit(f, f->j, 0, NULL);

	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_int_equal(run_epoch(r), 1);
	advance(f, 900);
	policy_heard(&f->p, f->a1); /* a heartbeat extends the lease */
	advance(f, 900);
	assert_int_equal(r->state, RUN_LEASED);
	advance(f, 200); /* silent for 1100 ms > TTL */
	assert_int_equal(r->state, RUN_QUEUED);
	assert_int_equal(r->attempt, 2);
	assert_int_equal(r->lost, 1);
	assert_int_equal(run_epoch(r), 2);
	assert_int_equal(f->a1->held.n, 0);
	assert_non_null(strstr(run_detail(r)->reason, "silent"));
	/* the old holder's report names epoch 1: stale, counted */
	assert_null(policy_owned(&f->p, f->a1, r->id, 1));
	assert_int_equal(f->a1->rejected_stale, 1);
	assert_int_equal(lease(f, f->a2, 1, out), 1);
	assert_int_equal(run_epoch(r), 3);
	assert_null(policy_owned(&f->p, f->a1, r->id, 3)); /* not its run */
	assert_ptr_equal(policy_owned(&f->p, f->a2, r->id, 3), r);
	/* expired again, and leased back to the first agent: its report
	 * under the old epoch is still fenced off */
	advance(f, 1500);
	assert_int_equal(r->state, RUN_QUEUED);
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_int_equal(run_epoch(r), 5);
	assert_null(policy_owned(&f->p, f->a1, r->id, 1));
	assert_ptr_equal(policy_owned(&f->p, f->a1, r->id, 5), r);
	assert_int_equal(complete(f, r, RUN_SUCCEEDED, NULL), 0);
	assert_int_equal(r->completions, 1);
	/* a second completion is stale: the run is done */
	assert_null(policy_owned(&f->p, f->a1, r->id, 5));
	assert_int_equal(f->p.completions, 1);
}

static void test_too_many_lost_leases(void **state)
{
	struct fx *f = *state;
	struct run *out[4];
	struct run *r = submit(f, f->j, 0, NULL);

	for (int i = 0; i < 3; i++) {
		assert_int_equal(lease(f, f->a1, 1, out), 1);
		advance(f, 1500);
	}
	assert_int_equal(r->state, RUN_FAILED);
	assert_int_equal(r->completions, 1);
	assert_non_null(
		strstr(run_detail(r)->reason, "lost 3 leases (limit 2)"));
}

static void test_reconcile(void **state)
{
	struct fx *f = *state;
	struct run *out[4];
	uint64_t cancel[8];
	struct run *r1 = submit(f, f->j, 0, NULL);
	struct run *r2 = submit(f, f->j, 0, NULL);
	struct run *done = submit(f, f->j2, 0, NULL);

	assert_int_equal(lease(f, f->a1, 3, out), 3);
	assert_int_equal(complete(f, done, RUN_SUCCEEDED, NULL), 0);
	/* the agent restarted holding r1 only, and still runs "done" and a
	 * run it never had a lease for */
	struct held_run held[] = { { r1->id, run_epoch(r1) },
				   { done->id, run_epoch(done) },
				   { 999, 1 } };
	size_t n = policy_reconcile(&f->p, f->a1, held, 3, cancel, 8);
	assert_int_equal(n, 2);
	assert_int_equal(cancel[0], done->id);
	assert_int_equal(cancel[1], 999);
	assert_int_equal(r1->state, RUN_LEASED); /* adopted */
	assert_int_equal(r2->state, RUN_QUEUED); /* lost: requeued */
	assert_int_equal(r2->attempt, 2);
	assert_int_equal(f->a1->held.n, 1);
	/* a report with the old epoch of a requeued run means: stop it */
	struct held_run old[] = { { r1->id, run_epoch(r1) }, { r2->id, 1 } };
	n = policy_reconcile(&f->p, f->a1, old, 2, cancel, 8);
	assert_int_equal(n, 1);
	assert_int_equal(cancel[0], r2->id);
}

static void test_retries_backoff_and_classes(void **state)
{
	struct fx *f = *state;
	struct run *out[4];
	char why[256];
	struct run *r = submit(f, f->j, 0, NULL); /* max 3 attempts */

	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_int_equal(complete(f, r, RUN_FAILED, "node_lost"), 1);
	assert_int_equal(r->state, RUN_QUEUED);
	assert_int_equal(r->attempt, 2);
	int64_t wait = run_not_before(r) - f->p.now_ms;
	assert_true(wait >= 500 && wait <= 1000); /* base 1000, equal jitter */
	assert_int_equal(lease(f, f->a1, 1, out), 0); /* in backoff */
	policy_why_waiting(&f->p, r, why, sizeof(why));
	assert_non_null(strstr(why, "retry backoff"));
	advance(f, wait);
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_int_equal(complete(f, r, RUN_FAILED, NULL), 1); /* unknown: retry */
	wait = run_not_before(r) - f->p.now_ms;
	assert_true(wait >= 1000 && wait <= 2000); /* doubled */
	advance(f, wait);
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_int_equal(complete(f, r, RUN_FAILED, NULL), 0); /* 3 of 3 */
	assert_int_equal(r->state, RUN_FAILED);
	assert_string_equal(run_detail(r)->reason, "boom");

	/* a permanent class is not retried */
	struct run *p = submit(f, f->j, 0, NULL);
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	assert_int_equal(complete(f, p, RUN_FAILED, "class_not_found"), 0);
	assert_int_equal(p->state, RUN_FAILED);
	assert_string_equal(run_detail(p)->failure_class, "class_not_found");
	assert_false(policy_class_retryable("class_not_found"));
	assert_true(policy_class_retryable("node_lost"));
	/* backoff is capped */
	assert_true(policy_backoff_ms(&f->lim, 1, 30) <= 8000);
	assert_true(policy_backoff_ms(&f->lim, 1, 30) >= 4000);
}

static void test_cancel(void **state)
{
	struct fx *f = *state;
	struct run *out[4];
	struct refusal why;
	struct run *q = submit(f, f->j, 0, NULL);
	struct run *live = submit(f, f->j, 0, NULL);

	assert_int_equal(policy_cancel(&f->p, q, &why), 0);
	assert_int_equal(q->state, RUN_CANCELLED);
	assert_int_equal(f->p.queued_total, 1);
	assert_int_equal(lease(f, f->a1, 2, out), 1);
	assert_ptr_equal(out[0], live);
	assert_int_equal(policy_cancel(&f->p, live, &why), 0);
	assert_true(live->cancel_requested);
	/* a failure report of a cancelled run is not retried */
	assert_int_equal(complete(f, live, RUN_CANCELLED, NULL), 0);
	assert_int_equal(live->state, RUN_CANCELLED);
	assert_int_equal(policy_cancel(&f->p, live, &why), -1);
	assert_string_equal(why.code, "conflict");
	/* a cancelled run whose agent vanished ends cancelled */
	struct run *gone = submit(f, f->j, 0, NULL);
	assert_int_equal(lease(f, f->a1, 1, out), 1);
	policy_cancel(&f->p, gone, &why);
	advance(f, 2000);
	assert_int_equal(gone->state, RUN_CANCELLED);
}

static int count_dirty;
static void on_dirty(void *ctx, struct run *r)
{
	(void)ctx;
	assert_non_null(r->job);
	count_dirty++;
}

static void test_dirty_once(void **state)
{
	struct fx *f = *state;
	struct run *out[4];
	policy_take_dirty(&f->p, NULL, NULL);
	struct run *r = submit(f, f->j, 0, NULL);
	lease(f, f->a1, 1, out);
	policy_progress(&f->p, r, RUN_RUNNING, "application_1_0001");
	count_dirty = 0;
	policy_take_dirty(&f->p, on_dirty, NULL);
	assert_int_equal(count_dirty, 1);
	assert_false(r->dirty);
	assert_string_equal(run_detail(r)->app_id, "application_1_0001");
	/* progress only moves forward */
	assert_int_equal(policy_progress(&f->p, r, RUN_SUBMITTED, NULL), 0);
	assert_int_equal(r->state, RUN_RUNNING);
	assert_int_equal(policy_progress(&f->p, r, RUN_SUCCEEDED, NULL), -1);
}

static void test_init_from_loaded_state(void **state)
{
	struct fx *f = *state;
	struct run *out[4];
	struct run *a = submit(f, f->j, 0, NULL);
	struct run *b = submit(f, f->j, 0, NULL);
	struct run *c = submit(f, f->j, 0, NULL);

	lease(f, f->a1, 1, out);
	lease(f, f->a2, 1, out);
	f->a2->state = AGENT_REVOKED;
	/* A restart: rebuild the policy over the same records. */
	policy_take_dirty(&f->p, NULL, NULL);
	policy_fx_restart(f, 2000000, 9000);
	assert_int_equal(a->state, RUN_LEASED); /* a1 gets a fresh TTL */
	assert_int_equal(f->a1->held.n, 1);
	assert_int_equal(b->state, RUN_QUEUED); /* a2 is revoked */
	assert_true(b->dirty);
	assert_int_equal(c->state, RUN_QUEUED);
	assert_int_equal(f->p.queued_total, 2);
	assert_int_equal(f->t->n_running, 1);
	assert_int_equal(policy_next_wake(&f->p), 9000 + f->lim.lease_ttl_ms);
}

int main(void)
{
	log_setup("test_policy", LOG_ERROR);
	const struct CMUnitTest tests[] = {
		FX_TEST(test_priority_fifo_and_aging),
		FX_TEST(test_concurrency_caps),
		FX_TEST(test_pause_drain_and_env),
		FX_TEST(test_quotas),
		FX_TEST(test_set_limits),
		FX_TEST(test_oldest_queued),
		FX_TEST(test_idempotency),
		FX_TEST(test_lease_expiry_and_fencing),
		FX_TEST(test_too_many_lost_leases),
		FX_TEST(test_reconcile),
		FX_TEST(test_retries_backoff_and_classes),
		FX_TEST(test_cancel),
		FX_TEST(test_dirty_once),
		FX_TEST(test_init_from_loaded_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
