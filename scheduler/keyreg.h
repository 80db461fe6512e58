/*
 * keyreg.h - agent public keys, readable from the transport's threads
 * (signature checks happen there, docs/architecture.md) and written by the core
 * thread on enrollment and revocation. A read-write lock guards it.
 */
#ifndef SP_KEYREG_H
#define SP_KEYREG_H

#include <stdbool.h>
#include <stdint.h>

struct keyreg;

struct keyreg *keyreg_new(void);
void keyreg_free(struct keyreg *k);
/* Adds or replaces the key of agent id. */
void keyreg_set(struct keyreg *k, const char *id, const uint8_t pub[32]);
/* Removes agent id (revoked): its messages then count as forged. */
void keyreg_remove(struct keyreg *k, const char *id);
/* Copies agent id's key into pub; false if unknown. */
bool keyreg_get(struct keyreg *k, const char *id, uint8_t pub[32]);

#endif
