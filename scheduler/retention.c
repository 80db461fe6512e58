/* retention.c - removes the runs that ended longer ago than their tenant's
 * retention, a bounded slice per core turn (see retention.h). */
#include "retention.h"

#include <string.h>

#include "log.h"
#include "policy.h"
#include "records.h"
#include "runstore.h"
#include "sched_ctx.h"
#include "util.h"

#define DAY_MS (86400LL * 1000)
#define PREFIX_MAX (NAME_MAX_LEN + 1 + 8)
/* A run kept only in the store is read back to be examined: it costs a
 * slice this many ids. */
#define STORED_READ_COST 16

static int64_t tenant_days(const struct sched *c, const struct tenant *t)
{
	return t->retention_days ? t->retention_days
				 : c->cfg->log_retention_days;
}

/* The moment the retention of r's tenant has passed since r ended. */
static int64_t ended_expiry(const struct sched *c, const struct run *r)
{
	return run_state_ms(r, r->state) +
	       tenant_days(c, r->job->tenantp) * DAY_MS;
}

int64_t retention_expiry(const struct sched *c, const struct run *r)
{
	int64_t at, key_until;

	if (!run_state_terminal(r->state))
		return INT64_MAX;
	at = ended_expiry(c, r);
	/* its key must keep naming it until the key's TTL */
	key_until = r->idem_key ? r->created_ms + c->pol.lim.idempotency_ttl_ms
				: 0;
	return key_until > at ? key_until : at;
}

/* ---- ranges of removed runs: one DeleteRange each ---- */

/* Drops tenant t's telemetry of runs [lo, hi). */
static void drop_telemetry(struct sched *c, const struct tenant *t,
			   uint64_t lo, uint64_t hi)
{
	uint8_t start[PREFIX_MAX], end[PREFIX_MAX];
	size_t k = strlen(t->name) + 1;

	memcpy(start, t->name, k); /* the name and its NUL */
	memcpy(end, start, k);
	store_put_u64be(start + k, lo);
	store_put_u64be(end + k, hi);
	store_batch_delete_range(c->batch, c->store, CF_TELEMETRY, start, k + 8,
				 end, k + 8);
}

/* Closes t's open range of removed runs, if any. */
static void flush_tenant(struct sched *c, struct tenant *t)
{
	if (!t->expired_from)
		return;
	drop_telemetry(c, t, t->expired_from, t->expired_to);
	t->expired_from = t->expired_to = 0;
}

/* Closes the open range of the format-2 line logs (keyed by run id). */
static void flush_logs(struct sched *c)
{
	uint8_t start[8], end[8];

	if (!c->ret_logs_from)
		return;
	store_put_u64be(start, c->ret_logs_from);
	store_put_u64be(end, c->ret_logs_to);
	store_batch_delete_range(c->batch, c->store, CF_LOGS, start, 8, end, 8);
	c->ret_logs_from = c->ret_logs_to = 0;
}

/* r (of tenant t) stays: the ranges it would break are closed. A range
 * may span the empty slots of runs removed before, never a kept run. */
static void keep(struct sched *c, const struct run *r)
{
	flush_tenant(c, r->job->tenantp);
	if (c->ret_logs)
		flush_logs(c);
}

/* keep() for a run of any tenant. */
static void keep_all(struct sched *c)
{
	for (size_t i = 0; i < c->st->tenants.n; i++)
		flush_tenant(c, c->st->tenants.v[i]);
	flush_logs(c);
}

static void extend(uint64_t *from, uint64_t *to, uint64_t id)
{
	if (!*from)
		*from = id;
	*to = id + 1;
}

/* r is in memory, or a copy of a run kept only in the store. */
static void remove_run(struct sched *c, struct run *r, bool stored)
{
	struct tenant *t = r->job->tenantp;
	uint64_t id = r->id;

	extend(&t->expired_from, &t->expired_to, id);
	if (c->ret_logs)
		extend(&c->ret_logs_from, &c->ret_logs_to, id);
	records_delete_run(c->batch, c->store, id);
	if (stored)
		policy_forget_stored(&c->pol, id, t);
	else
		policy_forget_run(&c->pol, r);
}

/* Adds kept run r (ended, expiring at `at`) to figures f, as of a next
 * pass at next_ms. */
static void tally(const struct sched *c, struct retention_figures *f,
		  const struct run *r, int64_t at, int64_t next_ms)
{
	if (at < next_ms) {
		f->due_runs++;
		f->due_lines += r->log_lines;
		return;
	}
	f->kept_ended++;
	f->held_by_key += ended_expiry(c, r) < next_ms;
	if (!f->next_expiry_ms || at < f->next_expiry_ms)
		f->next_expiry_ms = at;
}

/* The pass's next one starts about an interval after this one: the
 * figures are tallied as of then. */
static int64_t after_this_pass(const struct sched *c)
{
	return c->now_ms + c->cfg->retention_interval_s * 1000;
}

/* The pass is over: its figures become each tenant's last. A tenant
 * whose retention changed while it ran keeps the figures tenant set
 * found (they count from the new retention). */
static void pass_over(struct sched *c)
{
	struct sched_state *st = c->st;

	for (size_t i = 0; i < st->tenants.n; i++) {
		struct tenant *t = st->tenants.v[i];
		if (t->ret_acc.as_of_ms != -1) {
			t->ret_last = t->ret_acc;
			t->ret_last.as_of_ms = c->now_ms;
		}
	}
	if (c->ret_pass_removed)
		log_info("retention: removed %llu ended runs",
			 (unsigned long long)c->ret_pass_removed);
	c->ret_cursor = 0;
	c->ret_pass_removed = 0;
	c->ret_last_pass_ms = c->now_ms;
}

size_t retention_slice(struct sched *c, size_t max_ids, size_t max_removed,
		       bool *done)
{
	struct sched_state *st = c->st;
	size_t removed = 0, seen = 0;
	int64_t next_ms = after_this_pass(c);

	if (!c->ret_cursor) {
		c->ret_cursor = 1;
		for (size_t i = 0; i < st->tenants.n; i++) {
			struct tenant *t = st->tenants.v[i];
			memset(&t->ret_acc, 0, sizeof(t->ret_acc));
			t->ended_since_ms = 0; /* this pass counts them */
		}
	}
	while (seen < max_ids && removed < max_removed &&
	       c->ret_cursor <= st->nruns) {
		uint64_t id = c->ret_cursor;
		struct run *r = st->runs[id - 1], copy;
		bool stored = !r && state_run_stored(st, id);
		int64_t at;
		if (stored) {
			/* read back from the store: costs more of the slice */
			if (seen && seen + STORED_READ_COST > max_ids)
				break;
			seen += STORED_READ_COST - 1;
			r = runstore_read(c, id, &copy) == 1 ? &copy : NULL;
		}
		c->ret_cursor++;
		seen++;
		if (!r && stored) {
			/* unreadable (logged): its tenant is not known, so no
			 * range may span it; the next pass tries again */
			keep_all(c);
			continue;
		}
		if (!r)
			continue;
		at = retention_expiry(c, r);
		if (at < c->now_ms) {
			remove_run(c, r, stored);
			removed++;
		} else {
			keep(c, r);
			if (at != INT64_MAX)
				tally(c, &r->job->tenantp->ret_acc, r, at,
				      next_ms);
			if (!stored)
				runstore_page_out(c, r);
		}
		if (stored)
			run_clear(&copy);
	}
	/* this turn's batch holds the ranges of the runs it removes */
	for (size_t i = 0; i < st->tenants.n; i++)
		flush_tenant(c, st->tenants.v[i]);
	flush_logs(c);
	if (removed)
		records_put_run_ids(c->batch, c->store, st);
	c->ret_pass_removed += removed;
	c->ret_removed += removed;
	*done = c->ret_cursor > st->nruns;
	if (*done)
		pass_over(c);
	return removed;
}

void retention_turn(struct sched *c)
{
	bool done;

	if (!c->ret_cursor && c->now_mono < c->retention_due_mono)
		return;
	retention_slice(c, RETENTION_SLICE, RETENTION_MAX_REMOVED, &done);
	/* Under way: due again at once, so the core turns without sleeping
	 * (next_wake_us) and serves its events between slices. */
	c->retention_due_mono = c->now_mono;
	c->retention_due_ms = c->now_ms;
	if (done && !c->ret_again) {
		c->retention_due_mono += c->cfg->retention_interval_s * 1000;
		c->retention_due_ms += c->cfg->retention_interval_s * 1000;
	}
	if (done)
		c->ret_again = false;
}

int64_t retention_next_pass_ms(const struct sched *c)
{
	/* never in the past, should the wall clock have been set ahead */
	if (c->ret_cursor || c->retention_due_mono <= c->now_mono ||
	    c->retention_due_ms < c->now_ms)
		return c->now_ms;
	return c->retention_due_ms;
}

/* A pass as soon as the core turns: now, or right after the one under
 * way (which cannot count a tenant whose retention changed meanwhile). */
static void pass_soon(struct sched *c)
{
	if (c->ret_cursor) {
		c->ret_again = true;
		return;
	}
	c->retention_due_mono = c->now_mono;
	c->retention_due_ms = c->now_ms;
}

/* Walks the runs in memory; the stored ones wait for a pass (pending). */
static void refresh(struct sched *c, struct tenant *t, bool changed)
{
	const struct sched_state *st = c->st;
	int64_t next_ms;

	if (t->n_stored && (changed || !c->ret_cursor))
		pass_soon(c);
	next_ms = retention_next_pass_ms(c);
	memset(&t->ret_last, 0, sizeof(t->ret_last));
	t->ret_last.as_of_ms = c->now_ms;
	t->ret_last.pending = t->n_stored > 0;
	t->ended_since_ms = 0;
	if (c->ret_cursor && changed) /* the pass under way tallied the old
				       * retention */
		t->ret_acc.as_of_ms = -1;
	for (size_t i = 0; i < st->nruns; i++) {
		const struct run *r = st->runs[i];
		if (r && r->job->tenantp == t && run_state_terminal(r->state))
			tally(c, &t->ret_last, r, retention_expiry(c, r),
			      next_ms);
	}
}

void retention_refresh(struct sched *c, struct tenant *t)
{
	refresh(c, t, true);
}

void retention_figures(struct sched *c, struct tenant *t,
		       struct retention_figures *out)
{
	int64_t at;

	if (!t->ret_last.as_of_ms) /* no pass yet since the start */
		refresh(c, t, false);
	*out = t->ret_last;
	/* runs that ended since: none is due at the next pass (a retention
	 * is a day or more), the first of them expires first */
	out->kept_ended = t->n_ended > out->due_runs
				  ? t->n_ended - out->due_runs
				  : 0;
	if (!t->ended_since_ms)
		return;
	at = t->ended_since_ms + tenant_days(c, t) * DAY_MS;
	if (!out->next_expiry_ms || at < out->next_expiry_ms)
		out->next_expiry_ms = at;
}
