/* idemidx.c - runs by (tenant, idempotency key): linear probing over run
 * pointers, kept under 3/4 full; a removal shifts the entries after it
 * back (no tombstones), so a lookup stops at the first empty slot. */
#include "idemidx.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

/* FNV-1a over the tenant, a NUL, then the key. */
static uint64_t hash_of(const char *tenant, const char *key)
{
	uint64_t h = 14695981039346656037ull;

	for (const char *s = tenant; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	h *= 1099511628211ull; /* the NUL between them */
	for (const char *s = key; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static bool names(const struct run *r, const char *tenant, const char *key)
{
	return !strcmp(r->idem_key, key) && !strcmp(run_tenant(r), tenant);
}

static size_t home(const struct idemidx *x, const struct run *r)
{
	return hash_of(run_tenant(r), r->idem_key) & (x->cap - 1);
}

struct run *idemidx_get(const struct idemidx *x, const char *tenant,
			const char *key)
{
	size_t mask = x->cap - 1;

	if (!x->n)
		return NULL;
	/* there is always an empty slot: the table is under 3/4 full */
	for (size_t i = hash_of(tenant, key) & mask; x->slots[i];
	     i = (i + 1) & mask)
		if (names(x->slots[i], tenant, key))
			return x->slots[i];
	return NULL;
}

static void place(struct idemidx *x, struct run *r)
{
	size_t i = home(x, r);

	while (x->slots[i])
		i = (i + 1) & (x->cap - 1);
	x->slots[i] = r;
	x->n++;
}

static void resize(struct idemidx *x, size_t cap)
{
	struct idemidx old = *x;

	x->cap = cap;
	x->slots = xcalloc(x->cap, sizeof(*x->slots));
	x->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i])
			place(x, old.slots[i]);
	free(old.slots);
}

static void grow(struct idemidx *x)
{
	resize(x, x->cap ? x->cap * 2 : 16);
}

void idemidx_reserve(struct idemidx *x, size_t n)
{
	size_t cap = x->cap ? x->cap : 16;

	while ((n + 1) * 4 > cap * 3)
		cap *= 2;
	if (cap != x->cap)
		resize(x, cap);
}

struct run *idemidx_put(struct idemidx *x, struct run *r)
{
	size_t i;

	if ((x->n + 1) * 4 > x->cap * 3)
		grow(x);
	for (i = home(x, r); x->slots[i]; i = (i + 1) & (x->cap - 1)) {
		struct run *old = x->slots[i];
		if (names(old, run_tenant(r), r->idem_key)) {
			x->slots[i] = r;
			return old;
		}
	}
	x->slots[i] = r;
	x->n++;
	return NULL;
}

int idemidx_del(struct idemidx *x, const struct run *r)
{
	size_t mask = x->cap - 1, i, j;

	if (!x->n)
		return 0;
	for (i = home(x, r); x->slots[i] != r; i = (i + 1) & mask)
		if (!x->slots[i])
			return 0;
	x->slots[i] = NULL;
	x->n--;
	/* An entry further along may move into the hole if the hole lies on
	 * its probe path: its home is at least as far back as the hole. */
	for (j = (i + 1) & mask; x->slots[j]; j = (j + 1) & mask) {
		size_t h = home(x, x->slots[j]);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			x->slots[i] = x->slots[j];
			x->slots[j] = NULL;
			i = j;
		}
	}
	return 1;
}

void idemidx_release(struct idemidx *x)
{
	free(x->slots);
	memset(x, 0, sizeof(*x));
}
