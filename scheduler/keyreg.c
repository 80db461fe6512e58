/* keyreg.c - agent public keys behind a read-write lock. */
#include "keyreg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct keyent {
	char id[64];
	uint8_t pub[32];
	uint8_t prev[32]; /* the key a rotation replaced, while accepted */
	bool has_prev;
};

struct keyreg {
	pthread_rwlock_t lock;
	struct keyent *v;
	size_t n, alloc;
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
	free(k->v);
	free(k);
}

static struct keyent *find(struct keyreg *k, const char *id)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->v[i].id, id))
			return &k->v[i];
	return NULL;
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
		k->v = xgrow(k->v, &k->alloc, k->n + 1, sizeof(*k->v));
		e = &k->v[k->n++];
		memset(e, 0, sizeof(*e));
		strncpy(e->id, id, sizeof(e->id) - 1);
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
	e = find(k, id);
	if (e)
		*e = k->v[--k->n];
	pthread_rwlock_unlock(&k->lock);
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
