/*
 * keyrot.h - an agent's identity key replaced without enrolling again
 * (docs/protocol.md, `rotate`), on the core thread.
 *
 * The agent sends `rotate`, signed as usual with its current key, carrying
 * the new public key and a proof of possession (common/keyproof.h). Once
 * applied, the new key is the agent's and the old one is still accepted
 * for the scheduler's key_rotate_grace_s (messages and spooled telemetry
 * signed before the rotation), then never again. keyrot_apply is the one
 * place where an enrolled agent's key changes: whatever must follow every
 * rotation (an audit record) hooks there.
 */
#ifndef SP_KEYROT_H
#define SP_KEYROT_H

#include <stdbool.h>
#include <stdint.h>

struct sched;
struct event;
struct agent;
struct keyreg;

/* Whether ag's old key, which signed ev (ev->key_prev), is still
 * accepted at the turn's clock. Once the grace is over the transport is
 * told to forget the old key, and false is returned: the message counts
 * as forged. */
bool keyrot_prev_accepted(struct sched *c, struct agent *ag);

/* Checks ev, a `rotate` of ag whose envelope verified and whose sequence
 * number is fresh. NULL if it may be applied, also when it is a resend of
 * the rotation that made the current key (answered ok again, changing
 * nothing); otherwise the refusal code: malformed, bad_proof, same_key,
 * stale_key or key_in_use (docs/protocol.md). Changes nothing. */
const char *keyrot_check(struct sched *c, const struct event *ev,
			 const struct agent *ag);

/* Applies a rotate that keyrot_check passed: the new key becomes ag's,
 * the old one is kept for the grace (in ag and in the transport's key
 * registry), a pending request is cleared, and the rotation is logged.
 * The caller persists ag with the reply. true if the key changed, false
 * for a resend of a rotation already applied. */
bool keyrot_apply(struct sched *c, const struct event *ev, struct agent *ag);

/* `agent rotate`: asks ag for a rotation (told in its next replies, until
 * it rotates). The caller persists ag. false if one was already asked. */
bool keyrot_request(struct sched *c, struct agent *ag);

/* At start: publishes ag's keys into keys, the old one only while its
 * grace runs at now_ms. Revoked agents are not published. */
void keyrot_publish(struct keyreg *keys, const struct agent *ag,
		    int64_t now_ms);

#endif
