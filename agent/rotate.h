/*
 * rotate.h - the agent's side of an identity key rotation
 * (docs/protocol.md, `rotate`; the operator guide, Key rotation).
 *
 * A rotation starts when the scheduler asks (`rotate_key` in a reply,
 * after `spctl agent rotate`) or when identity.key is key_rotate_days
 * old. The new key is written durably to identity.key.next first; then a
 * `rotate` message, signed with the current key, carries the new public
 * key and its proof of possession (common/keyproof.h). Only the
 * scheduler's ok makes the agent rename identity.key.next over
 * identity.key and sign with it. A rotation found unfinished at start
 * (identity.key.next) is sent again: the scheduler answers ok again if it
 * already took the key, and if it never got it the old key still works.
 *
 * For tests only: SPARKPILOT_TEST_ROTATE_CRASH=after_write kills the agent
 * (SIGKILL) right after identity.key.next is written, =before_rename right
 * after the scheduler's ok and before the rename.
 */
#ifndef SP_ROTATE_H
#define SP_ROTATE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

struct client;
struct outbox;
struct tsink;

struct rotate {
	const char *why;    /* what asked for a rotation; NULL: nothing */
	bool with_next;     /* seal with the new key: the old one was refused */
	int64_t not_before; /* monotonic ms: no try before (after a failure) */
	int64_t max_age_ms; /* key_rotate_days, 0: no rotation by age */
};

/* Sets r up for cl's key; a rotation left unfinished by the last run
 * (client_next_key) is resumed. key_rotate_days 0: none by age. */
void rotate_init(struct rotate *r, struct client *cl, int64_t key_rotate_days);
/* The scheduler asked for a rotation (why says who, a static string). */
void rotate_request(struct rotate *r, const char *why);
/* With nothing else waiting to be sent: if a rotation is under way or
 * due, makes the new key (if not made yet) and queues the `rotate`
 * message in out, sealed. true if it queued one. */
bool rotate_plan(struct rotate *r, struct client *cl, struct outbox *out,
		 int64_t now_mono);
/* The scheduler's ok to a `rotate`: switches to the new key (sink signs
 * batches with it from now on). */
void rotate_done(struct rotate *r, struct client *cl, struct tsink *sink,
		 const msgpack_object *reply);
/* A refusal (code) of a `rotate`: 0 if handled here (the message is done
 * with: the new key dropped, or tried again signed with the new key);
 * -1 if the caller treats it as any refusal (the agent's identity
 * refused, a scheduler shutting down). */
int rotate_refused(struct rotate *r, struct client *cl, const char *code);

#endif
