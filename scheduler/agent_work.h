/*
 * agent_work.h - handlers for authenticated agent messages (after the
 * signature and sequence checks of agent_msgs.c): preflight, heartbeat,
 * lease, run_event, log, complete.
 */
#ifndef SP_AGENT_WORK_H
#define SP_AGENT_WORK_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "model.h"

struct sched;

/* Handles ev from ag. Returns true if ev was answered now (and completed),
 * false if it was parked for a long poll. */
bool agent_work_exec(struct sched *c, struct event *ev, struct agent *ag);

/* Answers, with no work, any request of ag's still waiting for work: ag
 * sent another message, which takes its place (and is remembered for a
 * resend instead). */
void agent_work_unpark(struct sched *c, struct agent *ag);
/* Answers ag's request waiting for work now, as its wait's end would:
 * with no work, or refused as forged once ag is revoked; the answer is
 * kept for a resend. For a change the agent should hear at once (a
 * revocation, a key rotation asked for). */
void agent_work_answer_parked(struct sched *c, struct agent *ag);
/* The connection `pipe` closed: its request parked for work, if any, is
 * answered with no work (the answer goes nowhere) and not kept for a
 * resend, so that the agent, back on a new connection, has its request
 * run again. */
void agent_work_hangup(struct sched *c, uint32_t pipe);
/* Answers every request waiting for work with `unavailable` (the store
 * takes no writes): the agents ask again after retry_after_ms. */
void agent_work_refuse_parked(struct sched *c, int64_t retry_after_ms);

/* Moves e to state `to` (if the state machine allows it), logging the
 * transition with its reason, and adds the record to the turn's batch. */
void agent_work_env_move(struct sched *c, struct env *e, enum env_state to,
			 const char *why);

#endif
