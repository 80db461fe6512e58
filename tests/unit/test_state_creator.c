/* test_state_creator.c - the table of who started runs (state_creator):
 * one index per name, kept for the state's life, right across states
 * that reuse an address (each thread remembers its last lookup) and
 * under two threads adding names at once, as the loader's do; and the
 * jobs table's remembered lookup (state_job), which must follow the
 * table as jobs come and go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

static void test_names_keep_their_index(void **s)
{
	struct sched_state st;
	uint16_t a, b;
	(void)s;

	state_init(&st);
	assert_int_equal(state_creator(&st, ""), 0);
	assert_int_equal(state_creator(&st, NULL), 0);
	a = state_creator(&st, "uid:1000");
	b = state_creator(&st, "uid:1001");
	assert_int_not_equal(a, 0);
	assert_int_not_equal(a, b);
	assert_int_equal(state_creator(&st, "uid:1000"), a);
	assert_int_equal(state_creator(&st, "uid:1001"), b);
	assert_int_equal(state_creator(&st, "uid:1001"), b);
	assert_int_equal(state_creator_find(&st, "uid:1000"), a);
	assert_string_equal(state_creator_name(&st, a), "uid:1000");
	assert_string_equal(state_creator_name(&st, b), "uid:1001");
	state_release(&st);
}

/* A new state at the old one's address: the last lookup (uid:2 was
 * number 2 there) must not answer for it. */
static void test_new_state_same_address(void **s)
{
	struct sched_state st;
	(void)s;

	state_init(&st);
	assert_int_equal(state_creator(&st, "uid:1"), 1);
	assert_int_equal(state_creator(&st, "uid:2"), 2);
	state_release(&st);
	state_init(&st);
	assert_int_equal(state_creator(&st, "uid:2"), 1);
	assert_string_equal(state_creator_name(&st, 1), "uid:2");
	assert_int_equal(state_creator(&st, "uid:1"), 2);
	state_release(&st);
}

struct worker {
	struct sched_state *st;
	int offset;
	uint16_t idx[64];
};

static void *lookups(void *arg)
{
	struct worker *w = arg;
	char name[32];

	for (int round = 0; round < 2000; round++) {
		int n = (round * 7 + w->offset) % 64;
		snprintf(name, sizeof(name), "user:%d", n);
		uint16_t idx = state_creator(w->st, name);
		if (w->idx[n] && w->idx[n] != idx)
			return (void *)1; /* a name changed its index */
		w->idx[n] = idx;
	}
	return NULL;
}

/* Two threads adding and finding the same names: each name gets one
 * index, the same in both, and the table holds each name once. */
static void test_two_threads(void **s)
{
	struct sched_state st;
	struct worker w[2] = { { .offset = 0 }, { .offset = 31 } };
	pthread_t t[2];
	void *rc;
	char name[32];
	(void)s;

	state_init(&st);
	for (int i = 0; i < 2; i++) {
		w[i].st = &st;
		assert_int_equal(pthread_create(&t[i], NULL, lookups, &w[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], &rc), 0);
		assert_null(rc);
	}
	for (int n = 0; n < 64; n++) {
		snprintf(name, sizeof(name), "user:%d", n);
		assert_int_equal(w[0].idx[n], w[1].idx[n]);
		assert_string_equal(state_creator_name(&st, w[0].idx[n]), name);
	}
	assert_int_equal(st.creators.n, 64);
	state_release(&st);
}

static struct job *new_job(struct sched_state *st, const char *tenant)
{
	struct job *j = calloc(1, sizeof(*j));

	snprintf(j->key, sizeof(j->key), "%s/prod/pi", tenant);
	snprintf(j->tenant, sizeof(j->tenant), "%s", tenant);
	snprintf(j->env, sizeof(j->env), "%s/prod", tenant);
	snprintf(j->name, sizeof(j->name), "pi");
	state_add_job(st, j);
	return j;
}

/* A job looked up, then removed with its tenant, or replaced under its
 * key, or a new state at the same address: the remembered lookup never
 * answers for what the table no longer holds. */
static void test_job_lookup_follows_the_table(void **s)
{
	struct sched_state st;
	struct state_removed out;
	struct job *a, *b, *c;
	(void)s;

	state_init(&st);
	a = new_job(&st, "acme");
	b = new_job(&st, "beta");
	assert_ptr_equal(state_job(&st, "acme/prod/pi"), a);
	assert_ptr_equal(state_job(&st, "acme/prod/pi"), a);
	assert_ptr_equal(state_job(&st, "beta/prod/pi"), b);
	assert_null(state_job(&st, "acme/prod/p"));
	assert_ptr_equal(state_job(&st, "acme/prod/pi"), a);
	state_remove_tenant(&st, "acme", &out);
	assert_int_equal(out.jobs, 1);
	assert_null(state_job(&st, "acme/prod/pi"));
	c = new_job(&st, "acme");
	assert_ptr_equal(state_job(&st, "acme/prod/pi"), c);
	state_release(&st);
	state_init(&st);
	assert_null(state_job(&st, "acme/prod/pi"));
	a = new_job(&st, "acme");
	assert_ptr_equal(state_job(&st, "acme/prod/pi"), a);
	state_release(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_keep_their_index),
		cmocka_unit_test(test_new_state_same_address),
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test(test_job_lookup_follows_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
