/*
 * usage.h - metered usage rolled up per tenant, environment and UTC day
 * (issue 5). Each attempt's usage goes to the day it ended; a run is
 * counted (runs, succeeded, failed) on the day it ended for good. So the
 * roll-ups always add up to the run records: the sum of every day's cost
 * is the sum of every run's cost (tests/unit/test_budget.c proves it).
 *
 * The same amounts are also rolled up per tenant, job and day and per
 * tenant, creator (run_created_by: "uid:N", "schedule:ID") and day, for
 * `usage --by job|user`: the groups. They are kept apart from the
 * environments' days (which budgets and the default report read), so a
 * sum over `days` counts every amount once.
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

enum usage_kind {
	USAGE_ENV,  /* per environment: env */
	USAGE_JOB,  /* per job: env and name (the job's name) */
	USAGE_USER, /* per creator: name ("uid:N", "schedule:ID"; "" for
		     * runs that predate the record of who started them) */
};

struct usage_day {
	enum usage_kind kind;
	char tenant[NAME_MAX_LEN];
	char env[NAME_MAX_LEN]; /* the environment's name within the tenant */
	char name[NAME_MAX_LEN]; /* USAGE_JOB, USAGE_USER (above) */
	int32_t day;            /* days since 1970-01-01 (UTC) */
	uint64_t runs, succeeded, failed;
	int64_t vcpu_ms, gb_ms, cost;
	bool dirty;
	/* kind + "tenant\0env\0name\0" + 4 bytes of day: the map key */
	char key[1 + 3 * NAME_MAX_LEN + 4];
	size_t keylen;
};

struct usage {
	struct hmap by_key;
	struct ptrvec days;   /* every USAGE_ENV struct usage_day *, unordered */
	struct ptrvec groups; /* every USAGE_JOB and USAGE_USER one */
	struct ptrvec dirty;  /* changed since the last usage_take_dirty */
};

void usage_init(struct usage *u);
void usage_release(struct usage *u);

/* The UTC day of ms (floor division: before 1970 too). */
int32_t usage_day_of(int64_t ms);

/* An attempt of r, started by `by` (run_created_by), ended at end_ms
 * having used *amt: added to its environment's, job's and creator's day. */
void usage_add_attempt(struct usage *u, const struct run *r, const char *by,
		       int64_t end_ms, const struct usage_amount *amt);
/* r ended for good at end_ms (its state is terminal). */
void usage_add_run_end(struct usage *u, const struct run *r, const char *by,
		       int64_t end_ms);
/* A tenant's cost over days [from_day, to_day). */
int64_t usage_tenant_cost(const struct usage *u, const char *tenant,
			  int32_t from_day, int32_t to_day);

/* Replaces u's groups with those of from (rebuilt from the runs of an
 * older store), marked changed; from keeps its environments' days and is
 * left with no groups. */
void usage_adopt_groups(struct usage *u, struct usage *from);
/* Drops every roll-up of tenant (tenant delete), groups included: from
 * the index, the changed days and memory. Returns how many. */
size_t usage_drop_tenant(struct usage *u, const char *tenant);
/* A day of any kind read back from the store (taken over, not copied). */
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
