/*
 * keyreg.h - agent public keys, readable from the transport's threads
 * (signature checks happen there, docs/architecture.md) and written by the core
 * thread on enrollment, key rotation and revocation. A read-write lock
 * guards it. During a key rotation's grace an agent has two keys: its
 * current one and the one it replaced, which the transport still accepts
 * (the core decides, by its clock, whether the grace is over).
 */
#ifndef SP_KEYREG_H
#define SP_KEYREG_H

#include <stdbool.h>
#include <stdint.h>

struct keyreg;

struct keyreg *keyreg_new(void);
void keyreg_free(struct keyreg *k);
/* Adds or replaces the key of agent id; an old key kept beside it is
 * forgotten. */
void keyreg_set(struct keyreg *k, const char *id, const uint8_t pub[32]);
/* Sets agent id's current key and the old one still accepted (NULL:
 * none), at once: a reader sees either both before or both after. */
void keyreg_set_keys(struct keyreg *k, const char *id, const uint8_t pub[32],
		     const uint8_t *prev);
/* Forgets agent id's old key (its grace is over). */
void keyreg_drop_prev(struct keyreg *k, const char *id);
/* Removes agent id (revoked): its messages then count as forged. */
void keyreg_remove(struct keyreg *k, const char *id);
/* Copies agent id's key into pub; false if unknown. */
bool keyreg_get(struct keyreg *k, const char *id, uint8_t pub[32]);
/* Copies agent id's key into pub and its old key, if one is kept, into
 * prev (*has_prev says which); false if the agent is unknown. */
bool keyreg_get_keys(struct keyreg *k, const char *id, uint8_t pub[32],
		     uint8_t prev[32], bool *has_prev);

#endif
