/* hmap.c - string-keyed hash map, open addressing with linear probing. */
#include "hmap.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* FNV-1a, 64 bits: fast on short keys, good enough spread for names. */
static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

static size_t find_slot(const struct hmap *m, const char *key, size_t len,
			uint64_t h)
{
	size_t mask = m->cap - 1, i = h & mask;
	for (;;) {
		const struct hmap_slot *s = &m->slots[i];
		if (!s->key || (s->hash == h && s->keylen == len &&
				!memcmp(s->key, key, len)))
			return i;
		i = (i + 1) & mask;
	}
}

void *hmap_get(const struct hmap *m, const char *key, size_t keylen)
{
	if (!m->cap)
		return NULL;
	size_t i = find_slot(m, key, keylen, hash_bytes(key, keylen));
	return m->slots[i].key ? m->slots[i].val : NULL;
}

static void grow(struct hmap *m)
{
	struct hmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old.cap; i++) {
		struct hmap_slot *s = &old.slots[i];
		if (s->key)
			m->slots[find_slot(m, s->key, s->keylen, s->hash)] = *s;
	}
	free(old.slots);
}

void *hmap_put(struct hmap *m, const char *key, size_t keylen, void *val)
{
	uint64_t h = hash_bytes(key, keylen);
	size_t i;
	void *prev;

	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	i = find_slot(m, key, keylen, h);
	prev = m->slots[i].key ? m->slots[i].val : NULL;
	if (!m->slots[i].key)
		m->n++;
	m->slots[i] = (struct hmap_slot){ key, keylen, h, val };
	return prev;
}

void *hmap_del(struct hmap *m, const char *key, size_t keylen)
{
	size_t mask, i, j;
	void *val;

	if (!m->cap)
		return NULL;
	mask = m->cap - 1;
	i = find_slot(m, key, keylen, hash_bytes(key, keylen));
	if (!m->slots[i].key)
		return NULL;
	val = m->slots[i].val;
	/* Backward shift: move later members of the probe run into the
	 * hole so that lookups never stop early at it. */
	for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	memset(&m->slots[i], 0, sizeof(m->slots[i]));
	m->n--;
	return val;
}

void hmap_release(struct hmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

void *hmap_gets(const struct hmap *m, const char *key)
{
	return hmap_get(m, key, strlen(key));
}

void *hmap_puts(struct hmap *m, const char *key, void *val)
{
	return hmap_put(m, key, strlen(key), val);
}

void *hmap_dels(struct hmap *m, const char *key)
{
	return hmap_del(m, key, strlen(key));
}
