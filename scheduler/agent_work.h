/*
 * agent_work.h - handlers for authenticated agent messages (after the
 * signature and sequence checks of agent_msgs.c): preflight, heartbeat,
 * lease, run_event, log, complete.
 */
#ifndef SP_AGENT_WORK_H
#define SP_AGENT_WORK_H

#include <stdbool.h>

#include "core.h"
#include "model.h"

struct sched;

/* Handles ev from ag. Returns true if ev was answered now (and completed),
 * false if it was parked for a long poll. */
bool agent_work_exec(struct sched *c, struct event *ev, struct agent *ag);

#endif
