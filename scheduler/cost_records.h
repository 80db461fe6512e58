/*
 * cost_records.h - the stored form of usage roll-ups (column family
 * `usage`) and cost events (`costlog`); docs/storage.md has the layouts.
 */
#ifndef SP_COST_RECORDS_H
#define SP_COST_RECORDS_H

#include <stddef.h>

#include "budget.h"
#include "state.h"
#include "store.h"
#include "usage.h"

void records_put_usage_day(struct store_batch *b, struct store *s,
			   const struct usage_day *d);
void records_put_cost_event(struct store_batch *b, struct store *s,
			    const struct cost_event *ev);
/* Calls fn for each of tenant's stored cost events, oldest first; fn
 * returns non-zero to stop. 0, fn's value, or -1 (a damaged record: err). */
typedef int (*cost_event_fn)(const struct cost_event *ev, void *ctx);
int cost_records_scan_events(struct store *s, const char *tenant,
			     cost_event_fn fn, void *ctx, char *err,
			     size_t errlen);
/* Loads the roll-ups into st->usage and each tenant's recent events (the
 * tenants and runs are loaded already). A store from before format 4 has
 * no roll-ups: they are rebuilt from its runs (each run's usage on the day
 * it ended) and marked dirty, to be written with the first commit. */
int cost_records_load(struct store *s, struct sched_state *st, char *err,
		      size_t errlen);

#endif
