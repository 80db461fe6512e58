/*
 * agentauth.h - how the transport judges an agent message before the core
 * sees it (docs/protocol.md, Envelope): the envelope decoded, its signature
 * checked against the enrolled keys (keyreg.h), and a telemetry message's
 * batches checked. Runs on nng's threads (CPU work that needs no
 * scheduling state); includes neither nng nor the store, so that unit
 * tests judge messages exactly as the daemon does.
 */
#ifndef SP_AGENTAUTH_H
#define SP_AGENTAUTH_H

struct keyreg;
struct event;

/* Opens ev->buf[0..ev->len) into ev->msg and sets ev->auth (with
 * ev->auth_detail for a malformed one), ev->key_prev when the signature
 * is by the agent's old key kept during a rotation's grace, and, for a
 * telemetry message, ev->pre / ev->pre_free. ev owns all of it. */
void agentauth_judge(struct keyreg *keys, struct event *ev);

#endif
