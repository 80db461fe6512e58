/* fairq.c - deficit round robin over per-class FIFO rings. */
#include "fairq.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct fairq_class {
	char *name;
	uint32_t weight;
	uint32_t budget; /* items left in this class's current visit */
	void **ring;
	size_t head, n, cap;
};

void fairq_init(struct fairq *q)
{
	memset(q, 0, sizeof(*q));
}

void fairq_release(struct fairq *q)
{
	for (size_t i = 0; i < q->all.n; i++) {
		struct fairq_class *c = q->all.v[i];
		free(c->name);
		free(c->ring);
		free(c);
	}
	ptrvec_release(&q->all);
	ptrvec_release(&q->active);
	hmap_release(&q->classes);
	memset(q, 0, sizeof(*q));
}

static void ring_push(struct fairq_class *c, void *item)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void **ring = xmalloc(cap * sizeof(*ring));
		for (size_t i = 0; i < c->n; i++)
			ring[i] = c->ring[(c->head + i) % c->cap];
		free(c->ring);
		c->ring = ring;
		c->head = 0;
		c->cap = cap;
	}
	c->ring[(c->head + c->n++) % c->cap] = item;
}

static void *ring_shift(struct fairq_class *c)
{
	void *item = c->ring[c->head];
	c->head = (c->head + 1) % c->cap;
	c->n--;
	return item;
}

void fairq_push(struct fairq *q, const char *cls, uint32_t weight,
		void *item)
{
	struct fairq_class *c = hmap_gets(&q->classes, cls);

	if (!c) {
		c = xcalloc(1, sizeof(*c));
		c->name = xstrdup(cls);
		hmap_puts(&q->classes, c->name, c);
		ptrvec_push(&q->all, c);
	}
	c->weight = weight ? weight : 1;
	if (!c->n) {
		c->budget = 0;
		ptrvec_push(&q->active, c); /* joins at the end of the round */
	}
	ring_push(c, item);
	q->total++;
}

void *fairq_pop(struct fairq *q)
{
	struct fairq_class *c;
	void *item;

	if (!q->total)
		return NULL;
	if (q->cursor >= q->active.n)
		q->cursor = 0;
	c = q->active.v[q->cursor];
	if (!c->budget)
		c->budget = c->weight; /* a fresh visit */
	item = ring_shift(c);
	c->budget--;
	q->total--;
	if (!c->n) {
		/* idle classes keep no credit; keep the round order */
		c->budget = 0;
		memmove(&q->active.v[q->cursor], &q->active.v[q->cursor + 1],
			(q->active.n - q->cursor - 1) * sizeof(void *));
		q->active.n--;
	} else if (!c->budget) {
		q->cursor++;
	}
	return item;
}

size_t fairq_len(const struct fairq *q, const char *cls)
{
	const struct fairq_class *c = hmap_gets(&q->classes, cls);
	return c ? c->n : 0;
}
