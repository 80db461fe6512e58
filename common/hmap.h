/*
 * hmap.h - a hash map from NUL-terminated string keys to pointers (open
 * addressing, linear probing, backward-shift deletion). The map does not
 * own keys or values: a key must stay valid while it is in the map, which
 * is natural when the key is a field of the value.
 */
#ifndef SP_HMAP_H
#define SP_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
	const char *key;
	size_t keylen;
	uint64_t hash;
	void *val;
};

struct hmap {
	struct hmap_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

/* Keys are byte strings of keylen bytes (they may contain NUL). */
void *hmap_get(const struct hmap *m, const char *key, size_t keylen);
/* Inserts or replaces; returns the previous value or NULL. */
void *hmap_put(struct hmap *m, const char *key, size_t keylen, void *val);
/* Removes key; returns its value or NULL. */
void *hmap_del(struct hmap *m, const char *key, size_t keylen);
void hmap_release(struct hmap *m);

/* Shorthands for NUL-terminated keys. */
void *hmap_gets(const struct hmap *m, const char *key);
void *hmap_puts(struct hmap *m, const char *key, void *val);
void *hmap_dels(struct hmap *m, const char *key);

#endif
