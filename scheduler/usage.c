/* usage.c - per tenant, environment and day usage roll-ups (usage.h). */
#include "usage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void usage_init(struct usage *u)
{
	memset(u, 0, sizeof(*u));
}

void usage_release(struct usage *u)
{
	for (size_t i = 0; i < u->days.n; i++)
		free(u->days.v[i]);
	ptrvec_release(&u->days);
	ptrvec_release(&u->dirty);
	hmap_release(&u->by_key);
}

int32_t usage_day_of(int64_t ms)
{
	int64_t d = ms / MS_PER_DAY;
	if (ms % MS_PER_DAY < 0)
		d--;
	return (int32_t)d;
}

static void make_key(struct usage_day *d)
{
	size_t tl = strlen(d->tenant) + 1, el = strlen(d->env) + 1;
	uint32_t day = (uint32_t)d->day;

	memcpy(d->key, d->tenant, tl);
	memcpy(d->key + tl, d->env, el);
	memcpy(d->key + tl + el, &day, 4);
	d->keylen = tl + el + 4;
}

static void index_day(struct usage *u, struct usage_day *d)
{
	make_key(d);
	ptrvec_push(&u->days, d);
	hmap_put(&u->by_key, d->key, d->keylen, d);
}

static struct usage_day *day_for(struct usage *u, const struct run *r,
				 int64_t ms)
{
	struct usage_day probe, *d;

	memset(&probe, 0, sizeof(probe));
	snprintf(probe.tenant, sizeof(probe.tenant), "%s", run_tenant(r));
	snprintf(probe.env, sizeof(probe.env), "%s", r->job->envp->name);
	probe.day = usage_day_of(ms);
	make_key(&probe);
	d = hmap_get(&u->by_key, probe.key, probe.keylen);
	if (!d) {
		d = xmalloc(sizeof(*d));
		*d = probe;
		index_day(u, d);
	}
	if (!d->dirty) {
		d->dirty = true;
		ptrvec_push(&u->dirty, d);
	}
	return d;
}

void usage_add_attempt(struct usage *u, const struct run *r, int64_t end_ms,
		       const struct usage_amount *amt)
{
	struct usage_day *d = day_for(u, r, end_ms);
	d->vcpu_ms = add_sat(d->vcpu_ms, amt->vcpu_ms);
	d->gb_ms = add_sat(d->gb_ms, amt->gb_ms);
	d->cost = add_sat(d->cost, amt->cost);
}

void usage_add_run_end(struct usage *u, const struct run *r, int64_t end_ms)
{
	struct usage_day *d = day_for(u, r, end_ms);
	d->runs++;
	d->succeeded += r->state == RUN_SUCCEEDED;
	d->failed += r->state == RUN_FAILED || r->state == RUN_TIMED_OUT;
}

int64_t usage_tenant_cost(const struct usage *u, const char *tenant,
			  int32_t from_day, int32_t to_day)
{
	int64_t sum = 0;
	for (size_t i = 0; i < u->days.n; i++) {
		const struct usage_day *d = u->days.v[i];
		if (d->day >= from_day && d->day < to_day &&
		    !strcmp(d->tenant, tenant))
			sum = add_sat(sum, d->cost);
	}
	return sum;
}

size_t usage_drop_tenant(struct usage *u, const char *tenant)
{
	size_t kept = 0, dropped = 0;

	for (size_t i = 0; i < u->dirty.n; i++) {
		struct usage_day *d = u->dirty.v[i];
		if (strcmp(d->tenant, tenant))
			u->dirty.v[kept++] = d;
	}
	u->dirty.n = kept;
	kept = 0;
	for (size_t i = 0; i < u->days.n; i++) {
		struct usage_day *d = u->days.v[i];
		if (strcmp(d->tenant, tenant)) {
			u->days.v[kept++] = d;
			continue;
		}
		hmap_del(&u->by_key, d->key, d->keylen);
		free(d);
		dropped++;
	}
	u->days.n = kept;
	return dropped;
}

void usage_load_day(struct usage *u, struct usage_day *d)
{
	struct usage_day *old;

	d->dirty = false;
	make_key(d);
	old = hmap_get(&u->by_key, d->key, d->keylen);
	if (old) { /* cannot happen with one key per day; keep the last */
		ptrvec_remove(&u->days, old);
		free(old);
	}
	index_day(u, d);
}

void usage_take_dirty(struct usage *u,
		      void (*fn)(void *ctx, const struct usage_day *d),
		      void *ctx)
{
	for (size_t i = 0; i < u->dirty.n; i++) {
		struct usage_day *d = u->dirty.v[i];
		d->dirty = false;
		if (fn)
			fn(ctx, d);
	}
	u->dirty.n = 0;
}
