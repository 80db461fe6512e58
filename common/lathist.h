/* lathist.h - a latency histogram in microseconds: four buckets per power
 * of two (each at most 25% wide), so quantiles are exact to within a
 * quarter of their value at any scale, in a fixed 1 KB with no allocation.
 * The scheduler keeps one for its WAL syncs (spctl queue stats). */
#ifndef SP_LATHIST_H
#define SP_LATHIST_H

#include <stdint.h>

/* values 0..3 each have a bucket; then 4 per power of two up to 2^32 us */
#define LATHIST_BUCKETS (4 + 30 * 4)

struct lathist {
	uint64_t n, max_us;
	uint64_t sum_us; /* for a Prometheus histogram's _sum */
	uint64_t counts[LATHIST_BUCKETS];
};

void lathist_add(struct lathist *h, uint64_t us);
/* The bucket holding a value, and the largest value that bucket holds. */
int lathist_bucket(uint64_t us);
uint64_t lathist_bucket_upper(int bucket);
/* The Q-quantile (0 < Q <= 1): the upper bound of the bucket holding the
 * ceil(Q * n)-th smallest value, never above the largest seen; 0 if empty. */
uint64_t lathist_quantile(const struct lathist *h, double q);
/* How many values were below 2^k us (exact: every fourth bucket ends
 * there). */
uint64_t lathist_below_pow2(const struct lathist *h, int k);

#endif
