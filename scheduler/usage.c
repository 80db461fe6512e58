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
	for (size_t i = 0; i < u->groups.n; i++)
		free(u->groups.v[i]);
	ptrvec_release(&u->days);
	ptrvec_release(&u->groups);
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

static struct ptrvec *kind_vec(struct usage *u, enum usage_kind kind)
{
	return kind == USAGE_ENV ? &u->days : &u->groups;
}

static void make_key(struct usage_day *d)
{
	size_t tl = strlen(d->tenant) + 1, el = strlen(d->env) + 1;
	size_t nl = strlen(d->name) + 1;
	uint32_t day = (uint32_t)d->day;
	char *k = d->key;

	*k++ = (char)d->kind;
	memcpy(k, d->tenant, tl);
	memcpy(k + tl, d->env, el);
	memcpy(k + tl + el, d->name, nl);
	memcpy(k + tl + el + nl, &day, 4);
	d->keylen = 1 + tl + el + nl + 4;
}

static void index_day(struct usage *u, struct usage_day *d)
{
	make_key(d);
	ptrvec_push(kind_vec(u, d->kind), d);
	hmap_put(&u->by_key, d->key, d->keylen, d);
}

static void mark_dirty(struct usage *u, struct usage_day *d)
{
	if (!d->dirty) {
		d->dirty = true;
		ptrvec_push(&u->dirty, d);
	}
}

static struct usage_day *day_for(struct usage *u, enum usage_kind kind,
				 const struct run *r, const char *name,
				 int64_t ms)
{
	struct usage_day probe, *d;

	memset(&probe, 0, sizeof(probe));
	probe.kind = kind;
	snprintf(probe.tenant, sizeof(probe.tenant), "%s", run_tenant(r));
	if (kind != USAGE_USER)
		snprintf(probe.env, sizeof(probe.env), "%s",
			 r->job->envp->name);
	snprintf(probe.name, sizeof(probe.name), "%s", name);
	probe.day = usage_day_of(ms);
	make_key(&probe);
	d = hmap_get(&u->by_key, probe.key, probe.keylen);
	if (!d) {
		d = xmalloc(sizeof(*d));
		*d = probe;
		index_day(u, d);
	}
	mark_dirty(u, d);
	return d;
}

/* The three days an amount of r goes to: its environment's, its job's
 * and its creator's. */
static void days_for(struct usage *u, const struct run *r, const char *by,
		     int64_t ms, struct usage_day *out[3])
{
	out[0] = day_for(u, USAGE_ENV, r, "", ms);
	out[1] = day_for(u, USAGE_JOB, r, r->job->name, ms);
	out[2] = day_for(u, USAGE_USER, r, by ? by : "", ms);
}

void usage_add_attempt(struct usage *u, const struct run *r, const char *by,
		       int64_t end_ms, const struct usage_amount *amt)
{
	struct usage_day *d[3];

	days_for(u, r, by, end_ms, d);
	for (int i = 0; i < 3; i++) {
		d[i]->vcpu_ms = add_sat(d[i]->vcpu_ms, amt->vcpu_ms);
		d[i]->gb_ms = add_sat(d[i]->gb_ms, amt->gb_ms);
		d[i]->cost = add_sat(d[i]->cost, amt->cost);
	}
}

void usage_add_run_end(struct usage *u, const struct run *r, const char *by,
		       int64_t end_ms)
{
	struct usage_day *d[3];

	days_for(u, r, by, end_ms, d);
	for (int i = 0; i < 3; i++) {
		d[i]->runs++;
		d[i]->succeeded += r->state == RUN_SUCCEEDED;
		d[i]->failed += r->state == RUN_FAILED ||
				r->state == RUN_TIMED_OUT;
	}
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

/* Frees vec's days of tenant; returns how many. */
static size_t drop_from(struct usage *u, struct ptrvec *vec,
			const char *tenant)
{
	size_t kept = 0, dropped = 0;

	for (size_t i = 0; i < vec->n; i++) {
		struct usage_day *d = vec->v[i];
		if (strcmp(d->tenant, tenant)) {
			vec->v[kept++] = d;
			continue;
		}
		hmap_del(&u->by_key, d->key, d->keylen);
		free(d);
		dropped++;
	}
	vec->n = kept;
	return dropped;
}

size_t usage_drop_tenant(struct usage *u, const char *tenant)
{
	size_t kept = 0;

	for (size_t i = 0; i < u->dirty.n; i++) {
		struct usage_day *d = u->dirty.v[i];
		if (strcmp(d->tenant, tenant))
			u->dirty.v[kept++] = d;
	}
	u->dirty.n = kept;
	return drop_from(u, &u->days, tenant) +
	       drop_from(u, &u->groups, tenant);
}

void usage_adopt_groups(struct usage *u, struct usage *from)
{
	size_t kept = 0;

	for (size_t i = 0; i < u->dirty.n; i++) {
		struct usage_day *d = u->dirty.v[i];
		if (d->kind == USAGE_ENV)
			u->dirty.v[kept++] = d;
	}
	u->dirty.n = kept;
	for (size_t i = 0; i < u->groups.n; i++) {
		struct usage_day *d = u->groups.v[i];
		hmap_del(&u->by_key, d->key, d->keylen);
		free(d);
	}
	u->groups.n = 0;
	for (size_t i = 0; i < from->groups.n; i++) {
		struct usage_day *d = from->groups.v[i];
		hmap_del(&from->by_key, d->key, d->keylen);
		d->dirty = false;
		index_day(u, d);
		mark_dirty(u, d);
	}
	from->groups.n = 0;
	kept = 0;
	for (size_t i = 0; i < from->dirty.n; i++) {
		struct usage_day *d = from->dirty.v[i];
		if (d->kind == USAGE_ENV)
			from->dirty.v[kept++] = d;
	}
	from->dirty.n = kept;
}

void usage_load_day(struct usage *u, struct usage_day *d)
{
	struct usage_day *old;

	d->dirty = false;
	make_key(d);
	old = hmap_get(&u->by_key, d->key, d->keylen);
	if (old) { /* cannot happen with one key per day; keep the last */
		ptrvec_remove(kind_vec(u, old->kind), old);
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
