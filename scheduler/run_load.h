/*
 * run_load.h - loading the runs at start (records_load's last part). Runs
 * are most of a big store; docs/storage.md, Restart time, says how they
 * are read.
 */
#ifndef SP_RUN_LOAD_H
#define SP_RUN_LOAD_H

#include <stddef.h>

#include "state.h"
#include "store.h"

/* Loads every run into st, whose jobs are loaded. 0, or -1 with err
 * naming the bad record (a run whose id is far past the runs before it
 * is one: records_load). */
int run_load_all(struct store *s, struct sched_state *st, char *err,
		 size_t errlen);

#endif
