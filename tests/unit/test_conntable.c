/* test_conntable.c - connection caps, shedding, deadlines and the file
 * descriptor budget (conntable.h), under a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conntable.h"

static const struct conntable_limits agent_lim = {
	.max_total = 4,
	.max_per_source = 3,
	.auth_timeout_ms = 1000,
	.idle_timeout_ms = 5000,
};

/* Admits id from src as an agent would be (unauthenticated); returns the
 * verdict and the victims. */
static int admit(struct conntable *t, uint64_t id, const char *src,
		 int64_t now, uint64_t v[2], size_t *nv)
{
	return conntable_admit(t, id, src, false, false, NULL, now, v, nv);
}

/* At the total cap, the oldest unauthenticated connection without a
 * request in flight is shed for the newcomer; authenticated ones never. */
static void test_total_cap_sheds_oldest_unauthenticated(void **s)
{
	struct conntable t;
	uint64_t v[2];
	size_t nv;
	(void)s;

	conntable_init(&t, &agent_lim);
	assert_int_equal(admit(&t, 1, "a", 0, v, &nv), 0);
	assert_int_equal(admit(&t, 2, "b", 1, v, &nv), 0);
	assert_int_equal(admit(&t, 3, "c", 2, v, &nv), 0);
	assert_int_equal(admit(&t, 4, "d", 3, v, &nv), 0);
	assert_int_equal(nv, 0);
	conntable_authenticate(&t, 1, 4); /* a real agent: kept */
	conntable_busy(&t, 2, 4);         /* a first message in flight: kept */
	assert_int_equal(admit(&t, 5, "e", 5, v, &nv), 0);
	assert_int_equal(nv, 1);
	assert_int_equal(v[0], 3);
	assert_false(conntable_remove(&t, 3)); /* forgotten already */
	assert_int_equal(admit(&t, 6, "f", 6, v, &nv), 0);
	assert_int_equal(v[0], 4);
	assert_int_equal(t.stats.open, 4);
	assert_int_equal(t.stats.shed, 2);
	/* all left are authenticated or busy: the next one is refused */
	conntable_authenticate(&t, 5, 7);
	conntable_authenticate(&t, 6, 7);
	assert_int_equal(admit(&t, 7, "g", 8, v, &nv), -1);
	assert_int_equal(nv, 0);
	assert_int_equal(t.stats.refused, 1);
	assert_int_equal(t.stats.open, 4);
	assert_int_equal(t.stats.authenticated, 3);
	conntable_release(&t);
}

/* The per-source cap sheds that source's oldest, not another's. */
static void test_per_source_cap(void **s)
{
	struct conntable t;
	uint64_t v[2];
	size_t nv;
	(void)s;

	conntable_init(&t, &(struct conntable_limits){ .max_total = 100,
						       .max_per_source = 2 });
	assert_int_equal(admit(&t, 1, "10.0.0.1", 0, v, &nv), 0);
	assert_int_equal(admit(&t, 2, "10.0.0.9", 1, v, &nv), 0);
	assert_int_equal(admit(&t, 3, "10.0.0.1", 2, v, &nv), 0);
	assert_int_equal(admit(&t, 4, "10.0.0.1", 3, v, &nv), 0);
	assert_int_equal(nv, 1);
	assert_int_equal(v[0], 1);
	/* an authenticated agent behind the same address is never shed */
	conntable_authenticate(&t, 3, 4);
	assert_int_equal(admit(&t, 5, "10.0.0.1", 5, v, &nv), 0);
	assert_int_equal(v[0], 4);
	conntable_authenticate(&t, 5, 6);
	assert_int_equal(admit(&t, 6, "10.0.0.1", 7, v, &nv), -1);
	assert_int_equal(admit(&t, 7, "10.0.0.9", 7, v, &nv), 0);
	assert_int_equal(nv, 0);
	conntable_release(&t);
}

/* New limits (a reload): a lowered cap keeps what is open but admits
 * nobody new until it fits again, even where one shed would have made room
 * under the old cap; a lowered deadline applies to connections admitted
 * before it; a raised cap admits at once. */
static void test_set_limits(void **s)
{
	struct conntable t;
	uint64_t v[2], id;
	size_t nv;
	void *data;
	enum conntable_why why;
	(void)s;

	conntable_init(&t, &(struct conntable_limits){ .max_total = 10,
						       .max_per_source = 4,
						       .auth_timeout_ms = 1000 });
	for (uint64_t i = 1; i <= 4; i++)
		assert_int_equal(admit(&t, i, "n", (int64_t)i, v, &nv), 0);
	conntable_set_limits(&t, &(struct conntable_limits){
				     .max_total = 10,
				     .max_per_source = 2,
				     .auth_timeout_ms = 100 });
	assert_int_equal(t.stats.open, 4); /* nothing closed */
	assert_int_equal(admit(&t, 5, "n", 5, v, &nv), -1);
	assert_int_equal(nv, 0);
	assert_int_equal(admit(&t, 6, "m", 5, v, &nv), 0);
	/* the shorter deadline: 1..4 are due at 101..104, not 1001.. */
	assert_int_equal(conntable_next_deadline(&t), 101);
	assert_true(conntable_expire(&t, 103, &id, &data, &why));
	assert_int_equal(id, 1);
	assert_int_equal(why, CONNTABLE_AUTH_TIMEOUT);
	assert_true(conntable_expire(&t, 103, &id, &data, &why));
	assert_int_equal(id, 2);
	/* two of "n" left, at the cap: one shed makes room again */
	assert_int_equal(admit(&t, 7, "n", 103, v, &nv), 0);
	assert_int_equal(nv, 1);
	assert_int_equal(v[0], 3);
	/* raised: admitted with nobody shed */
	conntable_set_limits(&t, &(struct conntable_limits){
				     .max_total = 10, .max_per_source = 5 });
	assert_int_equal(admit(&t, 8, "n", 104, v, &nv), 0);
	assert_int_equal(nv, 0);
	assert_int_equal(conntable_next_deadline(&t), INT64_MAX);
	conntable_release(&t);
}

/* Both caps at once: one victim of the source, and the total then fits. */
static void test_both_caps(void **s)
{
	struct conntable t;
	uint64_t v[2];
	size_t nv;
	(void)s;

	conntable_init(&t, &(struct conntable_limits){ .max_total = 3,
						       .max_per_source = 2 });
	admit(&t, 1, "x", 0, v, &nv);
	admit(&t, 2, "y", 1, v, &nv);
	admit(&t, 3, "y", 2, v, &nv);
	assert_int_equal(admit(&t, 4, "y", 3, v, &nv), 0);
	assert_int_equal(nv, 1);
	assert_int_equal(v[0], 2);
	assert_int_equal(t.stats.open, 3);
	conntable_release(&t);
}

/* Root's reserve: others stop at max_total - reserved, root goes on, and
 * root has no per-uid cap. Admin connections are never shed. */
static void test_privileged_reserve(void **s)
{
	struct conntable t;
	uint64_t v[2];
	size_t nv;
	uint64_t id = 0;
	(void)s;

	conntable_init(&t, &(struct conntable_limits){ .max_total = 10,
						       .max_per_source = 4,
						       .reserved = 3 });
	for (int i = 0; i < 4; i++)
		assert_int_equal(conntable_admit(&t, ++id, "uid 1000", false,
						 true, NULL, 0, v, &nv),
				 0);
	assert_int_equal(conntable_admit(&t, ++id, "uid 1000", false, true,
					 NULL, 0, v, &nv),
			 -1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(conntable_admit(&t, ++id, "uid 1001", false,
						 true, NULL, 0, v, &nv),
				 0);
	/* 7 open = 10 - 3: a third user is refused, root is not */
	assert_int_equal(conntable_admit(&t, ++id, "uid 1002", false, true,
					 NULL, 0, v, &nv),
			 -1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(conntable_admit(&t, ++id, "uid 0", true, true,
						 NULL, 0, v, &nv),
				 0);
		assert_int_equal(nv, 0);
	}
	assert_int_equal(conntable_admit(&t, ++id, "uid 0", true, true, NULL,
					 0, v, &nv),
			 -1);
	assert_int_equal(t.stats.open, 10);
	assert_int_equal(t.stats.refused, 3);
	assert_int_equal(t.stats.shed, 0);
	conntable_release(&t);
}

/* Unauthenticated connections expire at accept + auth_timeout, in accept
 * order, skipping any with a request in flight. */
static void test_auth_deadline(void **s)
{
	struct conntable t;
	uint64_t v[2], id;
	size_t nv;
	void *data;
	enum conntable_why why;
	(void)s;

	conntable_init(&t, &agent_lim);
	admit(&t, 1, "a", 0, v, &nv);
	admit(&t, 2, "a", 100, v, &nv);
	admit(&t, 3, "a", 200, v, &nv);
	assert_int_equal(conntable_next_deadline(&t), 1000);
	assert_false(conntable_expire(&t, 999, &id, &data, &why));
	conntable_busy(&t, 1, 500);
	assert_true(conntable_expire(&t, 1150, &id, &data, &why));
	assert_int_equal(id, 2);
	assert_int_equal(why, CONNTABLE_AUTH_TIMEOUT);
	assert_false(conntable_expire(&t, 1150, &id, &data, &why));
	/* 1's first message was answered, but did not verify */
	conntable_done(&t, 1, 1160);
	assert_true(conntable_expire(&t, 1200, &id, &data, &why));
	assert_int_equal(id, 1);
	assert_true(conntable_expire(&t, 1200, &id, &data, &why));
	assert_int_equal(id, 3);
	assert_int_equal(t.stats.auth_timeouts, 3);
	assert_int_equal(t.stats.open, 0);
	assert_int_equal(conntable_next_deadline(&t), INT64_MAX);
	conntable_release(&t);
}

/* An authenticated connection times out idle_timeout after its last
 * traffic, never while a request is in flight (a long poll). */
static void test_idle_timeout(void **s)
{
	struct conntable t;
	uint64_t v[2], id;
	size_t nv;
	void *data;
	int tag = 7;
	enum conntable_why why;
	(void)s;

	conntable_init(&t, &agent_lim);
	conntable_admit(&t, 1, "a", false, false, &tag, 0, v, &nv);
	admit(&t, 2, "a", 0, v, &nv);
	conntable_busy(&t, 1, 10);
	conntable_authenticate(&t, 1, 10);
	conntable_busy(&t, 2, 10);
	conntable_authenticate(&t, 2, 10);
	conntable_done(&t, 2, 20);
	/* 1 is parked in a long poll well past the idle timeout */
	assert_false(conntable_expire(&t, 5019, &id, &data, &why));
	assert_int_equal(conntable_next_deadline(&t), 5020);
	assert_true(conntable_expire(&t, 5020, &id, &data, &why));
	assert_int_equal(id, 2);
	assert_int_equal(why, CONNTABLE_IDLE_TIMEOUT);
	assert_false(conntable_expire(&t, 20000, &id, &data, &why));
	conntable_done(&t, 1, 20000);
	conntable_touch(&t, 1, 24000); /* traffic restarts the clock */
	assert_false(conntable_expire(&t, 28999, &id, &data, &why));
	assert_true(conntable_expire(&t, 29000, &id, &data, &why));
	assert_int_equal(id, 1);
	assert_ptr_equal(data, &tag);
	assert_int_equal(t.stats.idle_timeouts, 2);
	conntable_release(&t);
}

/* The warning about drops comes at most once per interval, with the count
 * since the last one. */
static void test_warn_rate(void **s)
{
	struct conntable t;
	uint64_t v[2], drops;
	size_t nv;
	(void)s;

	conntable_init(&t, &(struct conntable_limits){ .max_total = 1,
						       .max_per_source = 1 });
	assert_false(conntable_warn_due(&t, 0, 10000, &drops));
	admit(&t, 1, "a", 0, v, &nv);
	conntable_authenticate(&t, 1, 0);
	admit(&t, 2, "a", 0, v, &nv);
	assert_true(conntable_warn_due(&t, 0, 10000, &drops));
	assert_int_equal(drops, 1);
	admit(&t, 3, "a", 1, v, &nv);
	admit(&t, 4, "a", 2, v, &nv);
	assert_false(conntable_warn_due(&t, 9999, 10000, &drops));
	assert_true(conntable_warn_due(&t, 10000, 10000, &drops));
	assert_int_equal(drops, 2);
	assert_false(conntable_warn_due(&t, 30000, 10000, &drops));
	conntable_release(&t);
}

/* Many connections, one source each of a few: the lists stay consistent
 * with a brute-force count. */
static void test_churn(void **s)
{
	struct conntable t;
	uint64_t v[2], id;
	size_t nv;
	void *data;
	enum conntable_why why;
	unsigned seed = 3;
	int64_t now = 0;
	(void)s;

	conntable_init(&t, &(struct conntable_limits){ .max_total = 500,
						       .max_per_source = 200,
						       .auth_timeout_ms = 50,
						       .idle_timeout_ms = 80 });
	for (uint64_t i = 1; i <= 20000; i++) {
		char src[16];
		now += rand_r(&seed) % 3;
		snprintf(src, sizeof(src), "s%u", rand_r(&seed) % 4);
		admit(&t, i, src, now, v, &nv);
		if (rand_r(&seed) % 3 == 0)
			conntable_authenticate(&t, i, now);
		if (rand_r(&seed) % 5 == 0)
			conntable_remove(&t, i - rand_r(&seed) % 50);
		while (conntable_expire(&t, now, &id, &data, &why))
			;
		assert_true(t.stats.open <= 500);
		assert_int_equal(t.stats.open, t.byid.n);
	}
	assert_int_equal(t.stats.accepted, 20000 - t.stats.refused);
	conntable_release(&t);
}

static void test_budget(void **s)
{
	struct conntable_budget b;
	char err[256];
	(void)s;

	/* plenty: what was asked */
	assert_int_equal(conntable_budget(65536, 10000, 1024, &b, err,
					  sizeof(err)),
			 0);
	assert_int_equal(b.agent_conns, 10000);
	assert_int_equal(b.admin_conns, 1024);
	assert_false(b.clamped);
	/* 4096: the store's reserve and the admin slots come first */
	assert_int_equal(conntable_budget(4096, 10000, 1024, &b, err,
					  sizeof(err)),
			 0);
	assert_int_equal(b.admin_conns, 1024);
	assert_int_equal(b.agent_conns, 4096 - CONNTABLE_FD_RESERVE - 1024);
	assert_true(b.clamped);
	/* 1024: the admin socket gets a quarter of what is left */
	assert_int_equal(conntable_budget(1024, 10000, 1024, &b, err,
					  sizeof(err)),
			 0);
	assert_int_equal(b.admin_conns, (1024 - CONNTABLE_FD_RESERVE) / 4);
	assert_int_equal(b.agent_conns + b.admin_conns + CONNTABLE_FD_RESERVE,
			 1024);
	/* too few for anything */
	assert_int_equal(conntable_budget(700, 10000, 1024, &b, err,
					  sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "open files limit (700)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_total_cap_sheds_oldest_unauthenticated),
		cmocka_unit_test(test_per_source_cap),
		cmocka_unit_test(test_both_caps),
		cmocka_unit_test(test_set_limits),
		cmocka_unit_test(test_privileged_reserve),
		cmocka_unit_test(test_auth_deadline),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_warn_rate),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
