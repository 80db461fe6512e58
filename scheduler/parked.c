/* parked.c - parked lease requests by environment, deadline and agent. */
#include "parked.h"

#include <stdlib.h>

#include "util.h"

static void heap_set(struct parked *q, size_t i, struct event *ev)
{
	q->heap[i] = ev;
	ev->park_slot = i;
}

static void sift_up(struct parked *q, size_t i)
{
	struct event *ev = q->heap[i];

	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (q->heap[up]->park_until_mono <= ev->park_until_mono)
			break;
		heap_set(q, i, q->heap[up]);
		i = up;
	}
	heap_set(q, i, ev);
}

static void sift_down(struct parked *q, size_t i)
{
	struct event *ev = q->heap[i];

	for (;;) {
		size_t l = 2 * i + 1, m = i;
		int64_t best = ev->park_until_mono;
		if (l < q->n && q->heap[l]->park_until_mono < best) {
			m = l;
			best = q->heap[l]->park_until_mono;
		}
		if (l + 1 < q->n && q->heap[l + 1]->park_until_mono < best)
			m = l + 1;
		if (m == i)
			break;
		heap_set(q, i, q->heap[m]);
		i = m;
	}
	heap_set(q, i, ev);
}

void parked_add(struct parked *q, struct event *ev, struct agent *ag,
		struct env *e, int64_t until)
{
	ev->park_until_mono = until;
	ev->park_agent = ag;
	ev->park_env = e;
	ev->park_next = NULL;
	ev->park_prev = e->park_tail;
	if (e->park_tail)
		e->park_tail->park_next = ev;
	else
		e->park_head = ev;
	e->park_tail = ev;
	e->n_polling++;
	ag->parked = ev;
	/* a connection carries one request at a time (nng's REQ/REP) */
	if (ev->pipe)
		hmap_put(&q->by_pipe, (const char *)&ev->pipe, sizeof(ev->pipe),
			 ev);
	q->heap = xgrow(q->heap, &q->alloc, q->n + 1, sizeof(*q->heap));
	heap_set(q, q->n++, ev);
	sift_up(q, q->n - 1);
}

void parked_remove(struct parked *q, struct event *ev)
{
	struct env *e = ev->park_env;
	size_t i = ev->park_slot;

	if (ev->park_prev)
		ev->park_prev->park_next = ev->park_next;
	else
		e->park_head = ev->park_next;
	if (ev->park_next)
		ev->park_next->park_prev = ev->park_prev;
	else
		e->park_tail = ev->park_prev;
	ev->park_prev = ev->park_next = NULL;
	e->n_polling--;
	ev->park_agent->parked = NULL;
	if (ev->pipe && parked_by_pipe(q, ev->pipe) == ev)
		hmap_del(&q->by_pipe, (const char *)&ev->pipe, sizeof(ev->pipe));
	q->n--;
	if (i < q->n) {
		struct event *moved = q->heap[q->n];
		/* the last one fills the hole: it may belong above or below */
		heap_set(q, i, moved);
		sift_up(q, i);
		sift_down(q, moved->park_slot);
	}
}

struct event *parked_due(const struct parked *q, int64_t now)
{
	return q->n && q->heap[0]->park_until_mono <= now ? q->heap[0] : NULL;
}

int64_t parked_next_deadline(const struct parked *q)
{
	return q->n ? q->heap[0]->park_until_mono : INT64_MAX;
}

struct event *parked_by_pipe(const struct parked *q, uint32_t pipe)
{
	return hmap_get(&q->by_pipe, (const char *)&pipe, sizeof(pipe));
}

struct event *parked_any(const struct parked *q)
{
	return q->n ? q->heap[q->n - 1] : NULL;
}

void parked_release(struct parked *q)
{
	free(q->heap);
	hmap_release(&q->by_pipe);
	q->heap = NULL;
	q->n = q->alloc = 0;
}
