/* test_collections.c - hmap and runq against simple reference models;
 * strbuf's growth and the string helpers of util.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "model.h"
#include "runq.h"
#include "strbuf.h"
#include "util.h"

#define NKEYS 5000

static void test_hmap(void **s)
{
	static char keys[NKEYS][16];
	static int present[NKEYS];
	struct hmap m = { 0 };
	unsigned seed = 7;
	(void)s;

	for (int i = 0; i < NKEYS; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
	for (int step = 0; step < 100000; step++) {
		int i = (int)(rand_r(&seed) % NKEYS);
		switch (rand_r(&seed) % 3) {
		case 0:
			assert_ptr_equal(hmap_puts(&m, keys[i], keys[i]),
					 present[i] ? keys[i] : NULL);
			present[i] = 1;
			break;
		case 1:
			assert_ptr_equal(hmap_dels(&m, keys[i]),
					 present[i] ? keys[i] : NULL);
			present[i] = 0;
			break;
		default:
			assert_ptr_equal(hmap_gets(&m, keys[i]),
					 present[i] ? keys[i] : NULL);
		}
	}
	size_t n = 0;
	for (int i = 0; i < NKEYS; i++) {
		n += (size_t)present[i];
		assert_ptr_equal(hmap_gets(&m, keys[i]),
				 present[i] ? keys[i] : NULL);
	}
	assert_int_equal(m.n, n);
	/* keys with embedded NULs are distinct */
	assert_null(hmap_put(&m, "a\0b", 3, keys[0]));
	assert_null(hmap_get(&m, "a\0c", 3));
	assert_ptr_equal(hmap_get(&m, "a\0b", 3), keys[0]);
	hmap_release(&m);
	assert_null(hmap_gets(&m, "k1"));
}

#define NRUNS 2000

static void test_runq(void **s)
{
	static struct run runs[NRUNS];
	static int64_t key[NRUNS];
	static int in[NRUNS];
	struct runq q = { 0 };
	unsigned seed = 11;
	(void)s;

	for (int i = 0; i < NRUNS; i++)
		runs[i].id = (uint64_t)i + 1;
	for (int step = 0; step < 50000; step++) {
		int i = (int)(rand_r(&seed) % NRUNS);
		int op = (int)(rand_r(&seed) % 3);
		if (op == 0 && !in[i]) {
			key[i] = rand_r(&seed) % 100; /* many equal keys */
			runq_push(&q, &runs[i], key[i]);
			in[i] = 1;
		} else if (op == 1 && in[i]) {
			runq_remove(&q, &runs[i]);
			in[i] = 0;
		} else if (q.n) {
			/* the head is the smallest (key, id) */
			int best = -1;
			for (int k = 0; k < NRUNS; k++)
				if (in[k] && (best < 0 || key[k] < key[best]))
					best = k;
			int64_t hk;
			assert_ptr_equal(runq_peek(&q, &hk), &runs[best]);
			assert_int_equal(hk, key[best]);
			assert_int_equal(runq_rank(&q, &runs[best]), 0);
		}
		assert_int_equal(runq_contains(&q, &runs[i]), in[i]);
	}
	/* popping yields (key, id) order */
	int64_t last_key = INT64_MIN;
	uint64_t last_id = 0;
	struct run *r;
	while ((r = runq_pop(&q))) {
		int k = (int)(r->id - 1);
		assert_true(key[k] > last_key ||
			    (key[k] == last_key && r->id > last_id));
		last_key = key[k];
		last_id = r->id;
		in[k] = 0;
	}
	for (int k = 0; k < NRUNS; k++)
		assert_int_equal(in[k], 0);
	runq_release(&q);
}

/* A reserved queue takes that many runs without moving, keeps one that
 * holds runs as it was, and never shrinks. */
static void test_runq_reserve(void **s)
{
	static struct run runs[NRUNS];
	struct runq q = { 0 };
	struct runq_entry *v;
	(void)s;

	runq_reserve(&q, NRUNS);
	assert_true(q.alloc >= NRUNS);
	v = q.v;
	for (int i = 0; i < NRUNS; i++) {
		runs[i].id = (uint64_t)i + 1;
		runq_push(&q, &runs[i], NRUNS - i); /* each to the head */
	}
	assert_ptr_equal(q.v, v);
	assert_ptr_equal(runq_peek(&q, NULL), &runs[NRUNS - 1]);
	runq_reserve(&q, 8);
	assert_ptr_equal(q.v, v);
	runq_reserve(&q, 4 * NRUNS);
	assert_true(q.alloc >= 4 * NRUNS);
	assert_int_equal(q.n, NRUNS);
	for (int i = NRUNS - 1; i >= 0; i--)
		assert_ptr_equal(runq_pop(&q), &runs[i]);
	runq_release(&q);
}

static void test_strings(void **s)
{
	struct strbuf sb = STRBUF_INIT;
	static char want[2000];
	size_t n = 0;
	char buf[8], num[24];
	(void)s;

	/* one byte at a time and in pieces, across each reallocation */
	for (int i = 0; i < 1000; i++) {
		if (i % 3) {
			strbuf_addch(&sb, 'a' + i % 26);
			want[n++] = (char)('a' + i % 26);
		} else {
			strbuf_add(&sb, "xyz" + i % 2, 2 - (size_t)(i % 2));
			memcpy(want + n, "xyz" + i % 2, 2 - (size_t)(i % 2));
			n += 2 - (size_t)(i % 2);
		}
		assert_int_equal(sb.len, n);
		assert_int_equal(sb.buf[sb.len], '\0');
		assert_true(sb.alloc > sb.len);
	}
	assert_memory_equal(sb.buf, want, n);
	strbuf_release(&sb);
	strbuf_add(&sb, "", 0);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);

	str_copy(buf, sizeof(buf), "1234567");
	assert_string_equal(buf, "1234567");
	str_copy(buf, sizeof(buf), "123456789");
	assert_string_equal(buf, "1234567");
	str_copy(buf, sizeof(buf), "");
	assert_string_equal(buf, "");
	str_copy(buf, 1, "abc");
	assert_string_equal(buf, "");

	assert_int_equal(fmt_u64(num, 0), 1);
	assert_string_equal(num, "0");
	assert_int_equal(fmt_u64(num, 10), 2);
	assert_string_equal(num, "10");
	assert_int_equal(fmt_u64(num, UINT64_MAX), 20);
	assert_string_equal(num, "18446744073709551615");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmap),
		cmocka_unit_test(test_runq),
		cmocka_unit_test(test_runq_reserve),
		cmocka_unit_test(test_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
