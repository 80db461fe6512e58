/* conntable.c - connection caps, shedding and timeouts (pure logic). */
#include "conntable.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A source (address or uid): how many connections it holds, and its
 * unauthenticated ones, oldest first. */
struct source {
	char key[CONNTABLE_MAX_SOURCE];
	size_t n;
	struct conntable_link unauth;
};

struct entry {
	uint64_t id; /* the byid key: its 8 bytes */
	void *data;
	struct source *src;
	int64_t accepted, last;
	unsigned inflight;
	bool authenticated, privileged;
	struct conntable_link all_link; /* in t->unauth */
	struct conntable_link src_link; /* in src->unauth */
	struct conntable_link idle_link; /* in t->idle */
};

#define ENTRY_OF(l, field) \
	((struct entry *)((char *)(l) - offsetof(struct entry, field)))

static void list_init(struct conntable_link *h)
{
	h->prev = h->next = h;
}

static bool linked(const struct conntable_link *l)
{
	return l->next != NULL;
}

static void list_append(struct conntable_link *h, struct conntable_link *l)
{
	l->prev = h->prev;
	l->next = h;
	h->prev->next = l;
	h->prev = l;
}

static void list_unlink(struct conntable_link *l)
{
	if (!linked(l))
		return;
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = NULL;
}

void conntable_init(struct conntable *t, const struct conntable_limits *lim)
{
	memset(t, 0, sizeof(*t));
	t->lim = *lim;
	list_init(&t->unauth);
	list_init(&t->idle);
}

void conntable_set_limits(struct conntable *t,
			  const struct conntable_limits *lim)
{
	t->lim = *lim;
}

void conntable_release(struct conntable *t)
{
	for (size_t i = 0; i < t->byid.cap; i++)
		if (t->byid.slots[i].key)
			free(t->byid.slots[i].val);
	for (size_t i = 0; i < t->sources.cap; i++)
		if (t->sources.slots[i].key)
			free(t->sources.slots[i].val);
	hmap_release(&t->byid);
	hmap_release(&t->sources);
	list_init(&t->unauth);
	list_init(&t->idle);
	t->stats.open = t->stats.authenticated = 0;
}

static struct entry *find(const struct conntable *t, uint64_t id)
{
	return hmap_get(&t->byid, (const char *)&id, sizeof(id));
}

/* The oldest unauthenticated entry of list h (linked through the field at
 * offset off) with nothing in flight, other than not, or NULL. */
static struct entry *oldest_idle_unauth(struct conntable_link *h, size_t off,
					const struct entry *not)
{
	for (struct conntable_link *l = h->next; l != h; l = l->next) {
		struct entry *e = (struct entry *)((char *)l - off);
		if (!e->inflight && e != not)
			return e;
	}
	return NULL;
}

static void forget(struct conntable *t, struct entry *e)
{
	list_unlink(&e->all_link);
	list_unlink(&e->src_link);
	list_unlink(&e->idle_link);
	hmap_del(&t->byid, (const char *)&e->id, sizeof(e->id));
	if (e->authenticated)
		t->stats.authenticated--;
	if (--e->src->n == 0) {
		hmap_dels(&t->sources, e->src->key);
		free(e->src);
	}
	t->stats.open = t->byid.n;
	free(e);
}

static struct source *source_get(struct conntable *t, const char *key)
{
	char k[CONNTABLE_MAX_SOURCE];
	struct source *s;

	snprintf(k, sizeof(k), "%s", key);
	s = hmap_gets(&t->sources, k);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		memcpy(s->key, k, sizeof(k));
		list_init(&s->unauth);
		hmap_puts(&t->sources, s->key, s);
	}
	return s;
}

/* Picks what must go for a connection from source to fit; -1 if the caps
 * cannot make room for it. */
static int choose_victims(struct conntable *t, const char *source,
			  bool privileged, struct entry *v[2], size_t *nv)
{
	char k[CONNTABLE_MAX_SOURCE];
	struct source *s;
	size_t open = t->byid.n;
	size_t limit = t->lim.max_total;

	*nv = 0;
	snprintf(k, sizeof(k), "%s", source);
	s = hmap_gets(&t->sources, k);
	if (!privileged && s && s->n >= t->lim.max_per_source) {
		v[0] = oldest_idle_unauth(&s->unauth,
					  offsetof(struct entry, src_link),
					  NULL);
		/* past the cap (lowered by a reload): one shed is not room */
		if (!v[0] || s->n > t->lim.max_per_source)
			return -1;
		*nv = 1;
		open--;
	}
	if (!privileged)
		limit = limit > t->lim.reserved ? limit - t->lim.reserved : 0;
	if (open >= limit) {
		v[*nv] = oldest_idle_unauth(&t->unauth,
					    offsetof(struct entry, all_link),
					    *nv ? v[0] : NULL);
		if (!v[*nv] || open > limit)
			return -1;
		(*nv)++;
	}
	return 0;
}

int conntable_admit(struct conntable *t, uint64_t id, const char *source,
		    bool privileged, bool authenticated, void *data,
		    int64_t now, uint64_t victims[2], size_t *nvictims)
{
	struct entry *v[2], *e;
	size_t nv;

	*nvictims = 0;
	if (find(t, id) || choose_victims(t, source, privileged, v, &nv)) {
		t->stats.refused++;
		return -1;
	}
	for (size_t i = 0; i < nv; i++) {
		victims[(*nvictims)++] = v[i]->id;
		forget(t, v[i]);
		t->stats.shed++;
	}
	e = xcalloc(1, sizeof(*e));
	e->id = id;
	e->data = data;
	e->src = source_get(t, source);
	e->src->n++;
	e->accepted = e->last = now;
	e->privileged = privileged;
	hmap_put(&t->byid, (const char *)&e->id, sizeof(e->id), e);
	t->stats.accepted++;
	t->stats.open = t->byid.n;
	if (authenticated) {
		e->authenticated = true;
		t->stats.authenticated++;
		list_append(&t->idle, &e->idle_link);
	} else {
		list_append(&t->unauth, &e->all_link);
		list_append(&e->src->unauth, &e->src_link);
	}
	return 0;
}

bool conntable_remove(struct conntable *t, uint64_t id)
{
	struct entry *e = find(t, id);
	if (!e)
		return false;
	forget(t, e);
	return true;
}

void *conntable_get(const struct conntable *t, uint64_t id)
{
	struct entry *e = find(t, id);
	return e ? e->data : NULL;
}

void conntable_busy(struct conntable *t, uint64_t id, int64_t now)
{
	struct entry *e = find(t, id);
	if (!e)
		return;
	e->inflight++;
	e->last = now;
	list_unlink(&e->idle_link);
}

void conntable_done(struct conntable *t, uint64_t id, int64_t now)
{
	struct entry *e = find(t, id);
	if (!e || !e->inflight)
		return;
	e->last = now;
	if (--e->inflight == 0 && e->authenticated)
		list_append(&t->idle, &e->idle_link);
}

void conntable_touch(struct conntable *t, uint64_t id, int64_t now)
{
	struct entry *e = find(t, id);
	if (!e)
		return;
	e->last = now;
	if (linked(&e->idle_link)) {
		list_unlink(&e->idle_link);
		list_append(&t->idle, &e->idle_link);
	}
}

void conntable_authenticate(struct conntable *t, uint64_t id, int64_t now)
{
	struct entry *e = find(t, id);
	if (!e || e->authenticated)
		return;
	list_unlink(&e->all_link);
	list_unlink(&e->src_link);
	e->authenticated = true;
	e->last = now;
	t->stats.authenticated++;
	if (!e->inflight)
		list_append(&t->idle, &e->idle_link);
}

/* The first unauthenticated entry past its deadline with nothing in
 * flight; the list is in accept order, so the walk stops at the first
 * one still in time. */
static struct entry *auth_due(const struct conntable *t, int64_t now)
{
	if (!t->lim.auth_timeout_ms)
		return NULL;
	for (const struct conntable_link *l = t->unauth.next; l != &t->unauth;
	     l = l->next) {
		struct entry *e = ENTRY_OF(l, all_link);
		if (e->accepted + t->lim.auth_timeout_ms > now)
			return NULL;
		if (!e->inflight)
			return e;
	}
	return NULL;
}

bool conntable_expire(struct conntable *t, int64_t now, uint64_t *id,
		      void **data, enum conntable_why *why)
{
	struct entry *e = auth_due(t, now);

	if (e) {
		*why = CONNTABLE_AUTH_TIMEOUT;
		t->stats.auth_timeouts++;
	} else if (t->lim.idle_timeout_ms && t->idle.next != &t->idle &&
		   ENTRY_OF(t->idle.next, idle_link)->last +
				   t->lim.idle_timeout_ms <=
			   now) {
		e = ENTRY_OF(t->idle.next, idle_link);
		*why = CONNTABLE_IDLE_TIMEOUT;
		t->stats.idle_timeouts++;
	} else {
		return false;
	}
	*id = e->id;
	*data = e->data;
	forget(t, e);
	return true;
}

int64_t conntable_next_deadline(const struct conntable *t)
{
	int64_t next = INT64_MAX;

	/* The head of the list may have a request in flight; then its
	 * deadline comes early, which only costs a look. */
	if (t->lim.auth_timeout_ms && t->unauth.next != &t->unauth)
		next = ENTRY_OF(t->unauth.next, all_link)->accepted +
		       t->lim.auth_timeout_ms;
	if (t->lim.idle_timeout_ms && t->idle.next != &t->idle) {
		int64_t d = ENTRY_OF(t->idle.next, idle_link)->last +
			    t->lim.idle_timeout_ms;
		if (d < next)
			next = d;
	}
	return next;
}

bool conntable_warn_due(struct conntable *t, int64_t now, int64_t interval_ms,
			uint64_t *drops)
{
	uint64_t total = t->stats.shed + t->stats.refused;

	if (total == t->warned_drops || now < t->warn_next)
		return false;
	*drops = total - t->warned_drops;
	t->warned_drops = total;
	t->warn_next = now + interval_ms;
	return true;
}

int conntable_budget(uint64_t nofile, size_t agent_want, size_t admin_want,
		     struct conntable_budget *out, char *err, size_t errlen)
{
	uint64_t need = CONNTABLE_FD_RESERVE + CONNTABLE_MIN_AGENT_CONNS +
			CONNTABLE_MIN_ADMIN_CONNS;
	uint64_t rest;

	if (nofile < need) {
		snprintf(err, errlen,
			 "the open files limit (%llu) is below %llu: raise "
			 "LimitNOFILE (ulimit -n)",
			 (unsigned long long)nofile, (unsigned long long)need);
		return -1;
	}
	rest = nofile - CONNTABLE_FD_RESERVE;
	memset(out, 0, sizeof(*out));
	if (admin_want + CONNTABLE_MIN_AGENT_CONNS <= rest) {
		out->admin_conns = admin_want;
	} else {
		out->admin_conns = (size_t)(rest / 4);
		if (out->admin_conns < CONNTABLE_MIN_ADMIN_CONNS)
			out->admin_conns = CONNTABLE_MIN_ADMIN_CONNS;
		out->clamped = true;
	}
	out->agent_conns = agent_want;
	if (agent_want > rest - out->admin_conns) {
		out->agent_conns = (size_t)(rest - out->admin_conns);
		out->clamped = true;
	}
	return 0;
}
