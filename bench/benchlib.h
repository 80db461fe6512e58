/*
 * benchlib.h - small helpers the benchmark tools share: a seeded PRNG and
 * the wall clock in microseconds (latencies across processes).
 */
#ifndef SP_BENCHLIB_H
#define SP_BENCHLIB_H

#include <stdint.h>
#include <sys/time.h>

/* xorshift64: fast, deterministic from its seed (never 0). */
static inline uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static inline int64_t wall_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

#endif
