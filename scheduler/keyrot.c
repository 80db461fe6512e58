/* keyrot.c - identity key rotation on the core thread (keyrot.h). */
#include "keyrot.h"

#include <string.h>

#include "audit.h"
#include "keyproof.h"
#include "keyreg.h"
#include "mp.h"
#include "sched_ctx.h"
#include "util.h"

bool keyrot_prev_accepted(struct sched *c, struct agent *ag)
{
	if (c->now_ms < ag->prev_until_ms)
		return true;
	keyreg_drop_prev(c->keys, ag->id);
	return false;
}

/* The 32-byte key under name in body, or NULL. */
static const uint8_t *body_key(const struct event *ev, const char *name)
{
	const char *bin;
	size_t len;

	if (mp_get_bin(ev->msg.body, name, &bin, &len) || len != SIGN_PUB_LEN)
		return NULL;
	return (const uint8_t *)bin;
}

/* Whether key is, or was, any agent's, this one's replaced key included:
 * two agents sharing a key could sign in each other's name, and a key
 * once retired stays retired. */
static bool key_taken(struct sched *c, const struct agent *self,
		      const uint8_t *key)
{
	for (size_t i = 0; i < c->st->agents.n; i++) {
		const struct agent *a = c->st->agents.v[i];
		if ((a != self && !memcmp(a->pubkey, key, SIGN_PUB_LEN)) ||
		    (a->key_rotated_ms &&
		     !memcmp(a->pubkey_prev, key, SIGN_PUB_LEN)))
			return true;
	}
	return false;
}

const char *keyrot_check(struct sched *c, const struct event *ev,
			 const struct agent *ag)
{
	const uint8_t *new_pub = body_key(ev, "pubkey");
	const uint8_t *old = body_key(ev, "old_pubkey");
	const char *proof;
	size_t plen;

	if (!new_pub || !old ||
	    mp_get_bin(ev->msg.body, "proof", &proof, &plen))
		return "malformed";
	if (keyproof_verify(ag->id, old, new_pub, (const uint8_t *)proof,
			    plen))
		return "bad_proof";
	if (!memcmp(new_pub, ag->pubkey, SIGN_PUB_LEN)) {
		/* The agent did not hear our answer (or died before it
		 * could switch keys) and asks again: same answer. */
		if (ag->key_rotated_ms &&
		    !memcmp(old, ag->pubkey_prev, SIGN_PUB_LEN))
			return NULL;
		return "same_key";
	}
	/* Only the current key may name a successor: whoever holds a key
	 * being retired must not be able to pick the next one. */
	if (memcmp(old, ag->pubkey, SIGN_PUB_LEN) || ev->key_prev)
		return "stale_key";
	if (key_taken(c, ag, new_pub))
		return "key_in_use";
	return NULL;
}

bool keyrot_apply(struct sched *c, const struct event *ev, struct agent *ag)
{
	const uint8_t *new_pub = body_key(ev, "pubkey");
	int64_t grace_ms = c->cfg->key_rotate_grace_s * 1000;
	char fp[65], until[40];

	if (!memcmp(new_pub, ag->pubkey, SIGN_PUB_LEN)) {
		log_info("agent %s: key rotation sent again; answered again",
			 ag->id);
		return false;
	}
	memcpy(ag->pubkey_prev, ag->pubkey, SIGN_PUB_LEN);
	memcpy(ag->pubkey, new_pub, SIGN_PUB_LEN);
	ag->key_rotated_ms = c->now_ms;
	ag->prev_until_ms = c->now_ms + grace_ms;
	ag->rotate_requested_ms = 0;
	/* both at once: the transport never lacks a key that works */
	keyreg_set_keys(c->keys, ag->id, ag->pubkey,
			grace_ms > 0 ? ag->pubkey_prev : NULL);
	keyproof_fingerprint(ag->pubkey, fp);
	time_format_iso(ag->prev_until_ms, until, sizeof(until));
	log_info("agent %s: identity key rotated (sha256 %s); the old key is "
		 "%s%s agent=%s env=%s",
		 ag->id, fp, grace_ms > 0 ? "accepted until " : "no longer accepted",
		 grace_ms > 0 ? until : "", ag->id, ag->env);
	audit_key_rotated(c, ag, fp, ag->prev_until_ms);
	return true;
}

bool keyrot_request(struct sched *c, struct agent *ag)
{
	if (ag->rotate_requested_ms)
		return false;
	ag->rotate_requested_ms = c->now_ms;
	log_info("agent %s: key rotation requested; the agent is told in its "
		 "next reply agent=%s env=%s",
		 ag->id, ag->id, ag->env);
	return true;
}

void keyrot_publish(struct keyreg *keys, const struct agent *ag,
		    int64_t now_ms)
{
	if (ag->state == AGENT_REVOKED)
		return;
	keyreg_set_keys(keys, ag->id, ag->pubkey,
			now_ms < ag->prev_until_ms ? ag->pubkey_prev : NULL);
}
