/* lathist.c - log-linear latency buckets (see lathist.h). */
#include "lathist.h"

int lathist_bucket(uint64_t us)
{
	int e;

	if (us < 4)
		return (int)us;
	if (us >> 32)
		return LATHIST_BUCKETS - 1;
	e = 63 - __builtin_clzll(us); /* 2^e <= us < 2^(e+1), e >= 2 */
	return 4 + (e - 2) * 4 + (int)((us >> (e - 2)) & 3);
}

uint64_t lathist_bucket_upper(int bucket)
{
	int e, m;

	if (bucket < 4)
		return (uint64_t)bucket;
	e = (bucket - 4) / 4 + 2;
	m = (bucket - 4) % 4;
	return ((uint64_t)(4 + m + 1) << (e - 2)) - 1;
}

void lathist_add(struct lathist *h, uint64_t us)
{
	h->counts[lathist_bucket(us)]++;
	h->n++;
	h->sum_us += us;
	if (us > h->max_us)
		h->max_us = us;
}

uint64_t lathist_quantile(const struct lathist *h, double q)
{
	uint64_t rank, seen = 0, upper;

	if (!h->n)
		return 0;
	rank = (uint64_t)(q * (double)h->n);
	if ((double)rank < q * (double)h->n)
		rank++;
	if (rank < 1)
		rank = 1;
	for (int i = 0; i < LATHIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			upper = lathist_bucket_upper(i);
			return upper < h->max_us ? upper : h->max_us;
		}
	}
	return h->max_us;
}

uint64_t lathist_below_pow2(const struct lathist *h, int k)
{
	uint64_t n = 0;

	for (int b = 0; b < LATHIST_BUCKETS; b++)
		if (lathist_bucket_upper(b) < (1ULL << k))
			n += h->counts[b];
	return n;
}
