/* keyproof.c - the proof of possession of a rotated key (keyproof.h). */
#include "keyproof.h"

#include <string.h>

size_t keyproof_statement(const char *agent, const uint8_t old[SIGN_PUB_LEN],
			  const uint8_t new_pub[SIGN_PUB_LEN], uint8_t *buf)
{
	size_t n = strlen(agent), off = 0;

	if (!n || n > KEYPROOF_MAX_AGENT)
		return 0;
	memcpy(buf, KEYPROOF_TAG, sizeof(KEYPROOF_TAG));
	off += sizeof(KEYPROOF_TAG);
	memcpy(buf + off, agent, n + 1);
	off += n + 1;
	memcpy(buf + off, old, SIGN_PUB_LEN);
	off += SIGN_PUB_LEN;
	memcpy(buf + off, new_pub, SIGN_PUB_LEN);
	return off + SIGN_PUB_LEN;
}

int keyproof_sign(const struct sign_key *newkey, const char *agent,
		  const uint8_t old[SIGN_PUB_LEN], uint8_t sig[SIGN_SIG_LEN])
{
	uint8_t st[KEYPROOF_MAX_LEN], pub[SIGN_PUB_LEN];
	size_t n;

	sign_key_public(newkey, pub);
	n = keyproof_statement(agent, old, pub, st);
	return n ? sign_data(newkey, st, n, sig) : -1;
}

int keyproof_verify(const char *agent, const uint8_t old[SIGN_PUB_LEN],
		    const uint8_t new_pub[SIGN_PUB_LEN], const uint8_t *sig,
		    size_t sig_len)
{
	uint8_t st[KEYPROOF_MAX_LEN];
	size_t n = keyproof_statement(agent, old, new_pub, st);

	return n ? sign_verify(new_pub, st, n, sig, sig_len) : -1;
}

void keyproof_fingerprint(const uint8_t pub[SIGN_PUB_LEN], char out[65])
{
	sign_sha256_hex(pub, SIGN_PUB_LEN, out);
}
