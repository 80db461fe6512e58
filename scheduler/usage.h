/*
 * usage.h - metered usage rolled up per tenant, environment and UTC day
 * (issue 5). Each attempt's usage goes to the day it ended; a run is
 * counted (runs, succeeded, failed) on the day it ended for good. So the
 * roll-ups always add up to the run records: the sum of every day's cost
 * is the sum of every run's cost (tests/unit/test_budget.c proves it).
 *
 * Pure and in memory; the caller persists the days changed since the last
 * usage_take_dirty() (records.c, column family `usage`) and loads them at
 * start with usage_load_day().
 */
#ifndef SP_USAGE_H
#define SP_USAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "hmap.h"
#include "model.h"
#include "ptrvec.h"

#define MS_PER_DAY 86400000LL

struct usage_day {
	char tenant[NAME_MAX_LEN];
	char env[NAME_MAX_LEN]; /* the environment's name within the tenant */
	int32_t day;            /* days since 1970-01-01 (UTC) */
	uint64_t runs, succeeded, failed;
	int64_t vcpu_ms, gb_ms, cost;
	bool dirty;
	/* "tenant\0env\0" + 4 bytes of day: the map key */
	char key[2 * NAME_MAX_LEN + 4];
	size_t keylen;
};

struct usage {
	struct hmap by_key;
	struct ptrvec days;  /* every struct usage_day *, unordered */
	struct ptrvec dirty; /* changed since the last usage_take_dirty */
};

void usage_init(struct usage *u);
void usage_release(struct usage *u);

/* The UTC day of ms (floor division: before 1970 too). */
int32_t usage_day_of(int64_t ms);

/* An attempt of r ended at end_ms having used *amt. */
void usage_add_attempt(struct usage *u, const struct run *r, int64_t end_ms,
		       const struct usage_amount *amt);
/* r ended for good at end_ms (its state is terminal). */
void usage_add_run_end(struct usage *u, const struct run *r, int64_t end_ms);
/* A tenant's cost over days [from_day, to_day). */
int64_t usage_tenant_cost(const struct usage *u, const char *tenant,
			  int32_t from_day, int32_t to_day);

/* Drops every roll-up of tenant (tenant delete): from the index, the
 * changed days and memory. Returns how many. */
size_t usage_drop_tenant(struct usage *u, const char *tenant);
/* A day read back from the store (taken over, not copied). */
void usage_load_day(struct usage *u, struct usage_day *d);
/* Calls fn for each day changed since the last call, once each. */
void usage_take_dirty(struct usage *u,
		      void (*fn)(void *ctx, const struct usage_day *d),
		      void *ctx);

/* Saturating addition for money and unit-ms totals. */
static inline int64_t add_sat(int64_t a, int64_t b)
{
	int64_t s;
	return __builtin_add_overflow(a, b, &s) ? (b > 0 ? INT64_MAX : INT64_MIN)
						: s;
}

#endif
