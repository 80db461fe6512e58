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
/* Loads the roll-ups into st->usage and each tenant's recent events (the
 * tenants and runs are loaded already). A store from before format 4 has
 * no roll-ups: they are rebuilt from its runs (each run's usage on the day
 * it ended) and marked dirty, to be written with the first commit. */
int cost_records_load(struct store *s, struct sched_state *st, char *err,
		      size_t errlen);

#endif
