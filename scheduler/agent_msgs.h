/*
 * agent_msgs.h - the core thread's side of the agent protocol
 * (docs/protocol.md): enrollment, preflight, heartbeats, lease requests
 * (long-polled), run state events, log lines and completions. Checks the
 * per-agent sequence number (replays), lease epochs (stale completions) and
 * ownership (an agent only ever touches its own environment's runs).
 */
#ifndef SP_AGENT_MSGS_H
#define SP_AGENT_MSGS_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

struct sched;

/* Handles one agent message: replies (completing ev) or parks it. */
void agent_msgs_exec(struct sched *c, struct event *ev);
/* Serves parked lease requests that now have work or whose wait is over
 * (all of them when stopping). Called once per turn. */
void agent_msgs_serve_parked(struct sched *c, bool stopping);
/* Earliest monotonic deadline of a parked request, or INT64_MAX. */
int64_t agent_msgs_next_deadline(struct sched *c);
struct agent;
/* Keeps ev's reply as ag's last answer, for a resend of the same message. */
void agent_msgs_remember(struct sched *c, struct event *ev, struct agent *ag);
/* Writes an error reply {ok:false, error:code} into ev->reply. */
void agent_msgs_refuse(struct event *ev, const char *code);
/* Notes the agent's build from a message body's "version" (enroll,
 * heartbeat), if it is there and looks like one: up to 63 printable
 * bytes, no blank; anything else is kept out. */
void agent_msgs_note_version(struct agent *ag, const msgpack_object *body);
/* The same with retry_after_ms: the agent resends the same message once
 * that much time has passed (unavailable: the store takes no writes). */
void agent_msgs_refuse_retry(struct event *ev, const char *code,
			     int64_t retry_after_ms);

#endif
