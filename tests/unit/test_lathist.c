/* test_lathist.c - latency histogram buckets and quantiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lathist.h"

/* Every value lands in a bucket whose bounds hold it, at most 25% wide,
 * and buckets are contiguous and ordered. */
static void test_buckets(void **s)
{
	(void)s;
	for (uint64_t v = 0; v < 100000; v++) {
		int b = lathist_bucket(v);
		assert_true(b >= 0 && b < LATHIST_BUCKETS);
		assert_true(v <= lathist_bucket_upper(b));
		if (b > 0)
			assert_true(v > lathist_bucket_upper(b - 1));
		assert_true(lathist_bucket_upper(b) - v <= v / 4 + 1);
	}
	assert_int_equal(lathist_bucket(UINT64_MAX), LATHIST_BUCKETS - 1);
	assert_int_equal(lathist_bucket((1ULL << 32) - 1), LATHIST_BUCKETS - 1);
	assert_int_equal(lathist_bucket_upper(LATHIST_BUCKETS - 1),
			 (1ULL << 32) - 1);
}

/* Quantiles of a known spread are within a bucket's width of the truth,
 * and never above the largest value. */
static void test_quantiles(void **s)
{
	struct lathist h;
	(void)s;

	memset(&h, 0, sizeof(h));
	assert_int_equal(lathist_quantile(&h, 0.99), 0);
	for (uint64_t v = 1; v <= 10000; v++)
		lathist_add(&h, v);
	assert_int_equal(h.n, 10000);
	assert_int_equal(h.max_us, 10000);
	uint64_t p50 = lathist_quantile(&h, 0.5), p99 = lathist_quantile(&h, 0.99);
	assert_true(p50 >= 5000 && p50 <= 5000 * 5 / 4);
	assert_true(p99 >= 9900 && p99 <= 10000);
	assert_int_equal(lathist_quantile(&h, 1.0), 10000);

	/* one slow sync among a thousand fast ones: p99 stays fast, p999 and
	 * max show it */
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 999; i++)
		lathist_add(&h, 300);
	lathist_add(&h, 7000);
	assert_true(lathist_quantile(&h, 0.99) < 400);
	assert_int_equal(lathist_quantile(&h, 0.999),
			 lathist_bucket_upper(lathist_bucket(300)));
	assert_true(lathist_quantile(&h, 1.0) == 7000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_quantiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
