/* test_idemidx.c - the index of runs by tenant and idempotency key
 * (scheduler/idemidx.c) against a plain list, through puts, replacements
 * and removals that make its probe chains wrap and shift back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idemidx.h"
#include "model.h"
#include "util.h"

#define NRUNS 3000
#define NKEYS 700 /* fewer than runs: keys are reused */

static struct job jobs[2];
static struct run runs[NRUNS];
static char keys[NRUNS][16];
/* the reference: per (tenant, key), the run that answers, or NULL */
static struct run *want[2][NKEYS];

static uint64_t rnd = 0x9e3779b97f4a7c15ull;
static uint64_t next_rnd(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return rnd;
}

static void check_all(const struct idemidx *x)
{
	size_t n = 0;
	char key[16];

	for (int t = 0; t < 2; t++) {
		for (int k = 0; k < NKEYS; k++) {
			snprintf(key, sizeof(key), "k%d", k);
			assert_ptr_equal(idemidx_get(x, jobs[t].tenant, key),
					 want[t][k]);
			n += want[t][k] != NULL;
		}
	}
	assert_int_equal(x->n, n);
}

static void test_against_a_list(void **s)
{
	struct idemidx x = { 0 };
	(void)s;

	snprintf(jobs[0].tenant, sizeof(jobs[0].tenant), "acme");
	snprintf(jobs[1].tenant, sizeof(jobs[1].tenant), "globex");
	assert_null(idemidx_get(&x, "acme", "k1"));
	for (int round = 0; round < 20000; round++) {
		int i = (int)(next_rnd() % NRUNS);
		struct run *r = &runs[i];
		int t = (int)(next_rnd() % 2), k = (int)(next_rnd() % NKEYS);
		if (!r->idem_key) { /* a new run with a key: it answers */
			snprintf(keys[i], sizeof(keys[i]), "k%d", k);
			r->idem_key = keys[i];
			r->job = &jobs[t];
			struct run *old = want[t][k];
			assert_ptr_equal(idemidx_put(&x, r), old);
			want[t][k] = r;
		} else { /* the run goes (pruned or forgotten) */
			t = (int)(r->job - jobs);
			k = atoi(r->idem_key + 1);
			int was = want[t][k] == r;
			assert_int_equal(idemidx_del(&x, r), was);
			if (was)
				want[t][k] = NULL;
			r->idem_key = NULL;
		}
		if (round % 997 == 0)
			check_all(&x);
	}
	check_all(&x);
	idemidx_release(&x);
	assert_null(idemidx_get(&x, "acme", "k1"));
}

static void test_same_key_two_tenants(void **s)
{
	struct job a = { .tenant = "acme" }, b = { .tenant = "globex" };
	struct run ra = { .id = 1, .job = &a, .idem_key = (char *)"nightly" };
	struct run rb = { .id = 2, .job = &b, .idem_key = (char *)"nightly" };
	struct run ra2 = { .id = 3, .job = &a, .idem_key = (char *)"nightly" };
	struct idemidx x = { 0 };
	(void)s;

	assert_null(idemidx_put(&x, &ra));
	assert_null(idemidx_put(&x, &rb));
	assert_ptr_equal(idemidx_get(&x, "acme", "nightly"), &ra);
	assert_ptr_equal(idemidx_get(&x, "globex", "nightly"), &rb);
	assert_null(idemidx_get(&x, "initech", "nightly"));
	/* a newer run of the key answers for it; the older one's removal
	 * then takes nothing out */
	assert_ptr_equal(idemidx_put(&x, &ra2), &ra);
	assert_int_equal(idemidx_del(&x, &ra), 0);
	assert_ptr_equal(idemidx_get(&x, "acme", "nightly"), &ra2);
	assert_int_equal(idemidx_del(&x, &ra2), 1);
	assert_null(idemidx_get(&x, "acme", "nightly"));
	assert_ptr_equal(idemidx_get(&x, "globex", "nightly"), &rb);
	assert_int_equal(x.n, 1);
	idemidx_release(&x);
}

/* Reserved room takes n runs without growing; they are all found. */
static void test_reserve(void **s)
{
	static struct run rs[1000];
	static char ks[1000][16];
	struct job j = { .tenant = "acme" };
	struct idemidx x = { 0 };
	size_t cap;
	(void)s;

	idemidx_reserve(&x, 1000);
	cap = x.cap;
	assert_true(cap * 3 >= 1001 * 4);
	for (int i = 0; i < 1000; i++) {
		snprintf(ks[i], sizeof(ks[i]), "key-%d", i);
		rs[i] = (struct run){ .id = (uint64_t)i + 1, .job = &j,
				      .idem_key = ks[i] };
		assert_null(idemidx_put(&x, &rs[i]));
	}
	assert_int_equal(x.cap, cap);
	for (int i = 0; i < 1000; i++)
		assert_ptr_equal(idemidx_get(&x, "acme", ks[i]), &rs[i]);
	/* a smaller reservation keeps what is there */
	idemidx_reserve(&x, 10);
	assert_int_equal(x.cap, cap);
	assert_ptr_equal(idemidx_get(&x, "acme", "key-999"), &rs[999]);
	idemidx_release(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_a_list),
		cmocka_unit_test(test_same_key_two_tenants),
		cmocka_unit_test(test_reserve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
