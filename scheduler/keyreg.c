/* keyreg.c - agent public keys behind a read-write lock, found by a hash
 * of the agent id: every agent message looks its key up, so with
 * thousands of agents a scan would cost more than the check itself. */
#include "keyreg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "util.h"

struct keyent {
	char id[64];
	uint8_t pub[32];
	uint8_t prev[32]; /* the key a rotation replaced, while accepted */
	bool has_prev;
};

struct keyreg {
	pthread_rwlock_t lock;
	struct hmap by_id; /* id -> struct keyent * (its own allocation) */
};

struct keyreg *keyreg_new(void)
{
	struct keyreg *k = xcalloc(1, sizeof(*k));
	pthread_rwlock_init(&k->lock, NULL);
	return k;
}

void keyreg_free(struct keyreg *k)
{
	if (!k)
		return;
	pthread_rwlock_destroy(&k->lock);
	for (size_t i = 0; i < k->by_id.cap; i++)
		if (k->by_id.slots[i].key)
			free(k->by_id.slots[i].val);
	hmap_release(&k->by_id);
	free(k);
}

static struct keyent *find(struct keyreg *k, const char *id)
{
	return hmap_gets(&k->by_id, id);
}

void keyreg_set(struct keyreg *k, const char *id, const uint8_t pub[32])
{
	keyreg_set_keys(k, id, pub, NULL);
}

void keyreg_set_keys(struct keyreg *k, const char *id, const uint8_t pub[32],
		     const uint8_t *prev)
{
	struct keyent *e;
	pthread_rwlock_wrlock(&k->lock);
	e = find(k, id);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		strncpy(e->id, id, sizeof(e->id) - 1);
		hmap_puts(&k->by_id, e->id, e);
	}
	memcpy(e->pub, pub, 32);
	e->has_prev = prev != NULL;
	if (prev)
		memcpy(e->prev, prev, 32);
	else
		memset(e->prev, 0, 32);
	pthread_rwlock_unlock(&k->lock);
}

void keyreg_drop_prev(struct keyreg *k, const char *id)
{
	struct keyent *e;
	pthread_rwlock_wrlock(&k->lock);
	e = find(k, id);
	if (e) {
		e->has_prev = false;
		memset(e->prev, 0, 32);
	}
	pthread_rwlock_unlock(&k->lock);
}

void keyreg_remove(struct keyreg *k, const char *id)
{
	struct keyent *e;
	pthread_rwlock_wrlock(&k->lock);
	e = hmap_dels(&k->by_id, id);
	pthread_rwlock_unlock(&k->lock);
	free(e);
}

bool keyreg_get(struct keyreg *k, const char *id, uint8_t pub[32])
{
	struct keyent *e;
	pthread_rwlock_rdlock(&k->lock);
	e = find(k, id);
	if (e)
		memcpy(pub, e->pub, 32);
	pthread_rwlock_unlock(&k->lock);
	return e != NULL;
}

bool keyreg_get_keys(struct keyreg *k, const char *id, uint8_t pub[32],
		     uint8_t prev[32], bool *has_prev)
{
	struct keyent *e;
	pthread_rwlock_rdlock(&k->lock);
	e = find(k, id);
	*has_prev = e && e->has_prev;
	if (e) {
		memcpy(pub, e->pub, 32);
		memcpy(prev, e->prev, 32);
	}
	pthread_rwlock_unlock(&k->lock);
	return e != NULL;
}
