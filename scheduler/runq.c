/* runq.c - binary min-heap of runs with O(log n) removal by index. */
#include "runq.h"

#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

static int before(const struct runq_entry *a, const struct runq_entry *b)
{
	return a->key != b->key ? a->key < b->key : a->id < b->id;
}

static void place(struct runq *q, size_t i, struct runq_entry e)
{
	q->v[i] = e;
	e.run->qidx = i;
}

static void sift_up(struct runq *q, size_t i)
{
	struct runq_entry e = q->v[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(&e, &q->v[parent]))
			break;
		place(q, i, q->v[parent]);
		i = parent;
	}
	place(q, i, e);
}

static void sift_down(struct runq *q, size_t i)
{
	struct runq_entry e = q->v[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(&q->v[c + 1], &q->v[c]))
			c++;
		if (!before(&q->v[c], &e))
			break;
		place(q, i, q->v[c]);
		i = c;
	}
	place(q, i, e);
}

void runq_push(struct runq *q, struct run *r, int64_t key)
{
	q->v = xgrow(q->v, &q->alloc, q->n + 1, sizeof(*q->v));
	q->v[q->n] = (struct runq_entry){ key, r->id, r };
	r->qidx = q->n++;
	sift_up(q, q->n - 1);
}

void runq_reserve(struct runq *q, size_t n)
{
	if (n <= q->alloc)
		return;
	/* exactly n (not the next power of two, as a push grows it): the
	 * pages faulted in now are resident whether filled or not */
	q->v = xrealloc(q->v, n * sizeof(*q->v));
	q->alloc = n;
	xprefault(q->v + q->n, (n - q->n) * sizeof(*q->v));
}

struct run *runq_peek(const struct runq *q, int64_t *key)
{
	if (!q->n)
		return NULL;
	if (key)
		*key = q->v[0].key;
	return q->v[0].run;
}

void runq_remove(struct runq *q, struct run *r)
{
	size_t i = r->qidx;
	struct runq_entry last;

	if (i >= q->n || q->v[i].run != r)
		abort(); /* a caller bug: r is not in q */
	last = q->v[--q->n];
	if (i == q->n)
		return;
	place(q, i, last);
	if (i > 0 && before(&q->v[i], &q->v[(i - 1) / 2]))
		sift_up(q, i);
	else
		sift_down(q, i);
}

struct run *runq_pop(struct runq *q)
{
	struct run *r = runq_peek(q, NULL);
	if (r)
		runq_remove(q, r);
	return r;
}

int runq_contains(const struct runq *q, const struct run *r)
{
	return r->qidx < q->n && q->v[r->qidx].run == r;
}

size_t runq_rank(const struct runq *q, const struct run *r)
{
	size_t rank = 0;
	if (!runq_contains(q, r))
		return 0;
	for (size_t i = 0; i < q->n; i++)
		if (before(&q->v[i], &q->v[r->qidx]))
			rank++;
	return rank;
}

void runq_release(struct runq *q)
{
	free(q->v);
	memset(q, 0, sizeof(*q));
}
