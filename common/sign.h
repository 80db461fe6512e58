/*
 * sign.h - Ed25519 identity keys (OpenSSL EVP), signatures, SHA-256 and
 * random bytes. Verification is thread-safe.
 */
#ifndef SP_SIGN_H
#define SP_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define SIGN_PUB_LEN 32
#define SIGN_SIG_LEN 64

struct sign_key;

/* Initialise OpenSSL without its config file and error strings, before any
 * other call: for small processes that only sign (the agent). */
void sign_init_lean(void);
/* A new random key, or NULL. */
struct sign_key *sign_key_generate(void);
/* Writes the private key as PEM PKCS#8, atomically, mode 0600. 0 / -1. */
int sign_key_save(const struct sign_key *k, const char *path);
/* Loads a private key; refuses a file readable by group or others, or a
 * key that is not Ed25519 (NULL + reason). */
struct sign_key *sign_key_load(const char *path, char *err, size_t errlen);
/* Loads path, or creates and saves a new key there if it does not exist. */
struct sign_key *sign_key_load_or_create(const char *path, char *err,
					 size_t errlen);
void sign_key_free(struct sign_key *k);
void sign_key_public(const struct sign_key *k, uint8_t pub[SIGN_PUB_LEN]);
/* Signs data. 0 / -1. */
int sign_data(const struct sign_key *k, const void *data, size_t len,
	      uint8_t sig[SIGN_SIG_LEN]);
/* 0 if sig is a valid signature of data by pub, else -1. */
int sign_verify(const uint8_t pub[SIGN_PUB_LEN], const void *data, size_t len,
		const uint8_t *sig, size_t sig_len);

/* A public key made ready once for many checks (a message's batches):
 * building OpenSSL's key object costs about as much as a small check. */
struct sign_pub;
struct sign_pub *sign_pub_new(const uint8_t pub[SIGN_PUB_LEN]);
void sign_pub_free(struct sign_pub *k);
int sign_pub_verify(const struct sign_pub *k, const void *data, size_t len,
		    const uint8_t *sig, size_t sig_len);
/* SHA-256 of data. */
#define SIGN_SHA256_LEN 32
void sign_sha256(const void *data, size_t len, uint8_t out[SIGN_SHA256_LEN]);
/* Lowercase hex SHA-256 of data. */
void sign_sha256_hex(const void *data, size_t len, char out[65]);
/* Cryptographically random bytes. 0 / -1. */
int sign_random(void *buf, size_t len);

#endif
