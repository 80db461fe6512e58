/*
 * keyproof.h - the proof of possession carried by a key rotation
 * (docs/protocol.md, `rotate`): the agent's NEW Ed25519 key signs a
 * statement that binds the agent id, its old public key and the new one.
 *
 * The statement is its own format, never a wire envelope or a telemetry
 * batch: it starts with the ASCII tag below (a msgpack envelope starts
 * with an array header, 0x9N; a batch body with one too, then
 * "tbatch1"), so a signature made for one can never pass for another.
 */
#ifndef SP_KEYPROOF_H
#define SP_KEYPROOF_H

#include <stddef.h>
#include <stdint.h>

#include "sign.h"

/* The domain separator, NUL included in the statement. */
#define KEYPROOF_TAG "sparkpilot key rotation v1"
/* Agent ids are "ag-" + 12 hex digits; longer ones are refused. */
#define KEYPROOF_MAX_AGENT 63
#define KEYPROOF_MAX_LEN \
	(sizeof(KEYPROOF_TAG) + KEYPROOF_MAX_AGENT + 1 + 2 * SIGN_PUB_LEN)

/* Builds the statement TAG \0 agent \0 old[32] new[32] into buf (at least
 * KEYPROOF_MAX_LEN bytes). Returns its length, or 0 if agent is empty or
 * longer than KEYPROOF_MAX_AGENT. */
size_t keyproof_statement(const char *agent, const uint8_t old[SIGN_PUB_LEN],
			  const uint8_t new_pub[SIGN_PUB_LEN], uint8_t *buf);
/* Signs the statement with newkey (whose public key is the new one).
 * 0 / -1. */
int keyproof_sign(const struct sign_key *newkey, const char *agent,
		  const uint8_t old[SIGN_PUB_LEN], uint8_t sig[SIGN_SIG_LEN]);
/* 0 if sig is newpub's signature of the statement for (agent, old,
 * newpub), else -1. */
int keyproof_verify(const char *agent, const uint8_t old[SIGN_PUB_LEN],
		    const uint8_t new_pub[SIGN_PUB_LEN], const uint8_t *sig,
		    size_t sig_len);
/* Lowercase hex SHA-256 of a public key: the fingerprint agent show
 * prints and the logs name. */
void keyproof_fingerprint(const uint8_t pub[SIGN_PUB_LEN], char out[65]);

#endif
