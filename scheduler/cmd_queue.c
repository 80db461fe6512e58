/* cmd_queue.c - admin commands for the queues: stats, dispatch pause. */
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "connstats.h"
#include "diskguard.h"
#include "sched_ctx.h"
#include "util.h"

/* Seconds since a queued run entered the queue; never negative, even if
 * the wall clock stepped back since. */
static int64_t age_s(const struct sched *c, int64_t since)
{
	return since && c->now_ms > since ? (c->now_ms - since) / 1000 : 0;
}

static void write_counts(struct sched *c, struct jw *w, uint32_t queued,
			 uint32_t running, int64_t since, uint64_t dispatched,
			 uint64_t refused)
{
	jw_uint(w, "queued", queued);
	jw_uint(w, "running", running);
	jw_int(w, "oldest_queued_s", age_s(c, since));
	jw_uint(w, "dispatched", dispatched);
	jw_uint(w, "refused", refused);
}

/* The connection counters of the agent port and the admin socket: open
 * now, the caps, and what was turned away or timed out since the start. */
static void write_conns(struct jw *w)
{
	struct connstats ag, ad;

	connstats_read(CONNSTATS_AGENTS, &ag);
	connstats_read(CONNSTATS_ADMIN, &ad);
	jw_obj_open(w, "agent_connections");
	jw_uint(w, "open", ag.t.open);
	jw_uint(w, "authenticated", ag.t.authenticated);
	jw_uint(w, "limit", ag.limit);
	jw_uint(w, "per_address", ag.per_source);
	jw_uint(w, "accepted", ag.t.accepted);
	jw_uint(w, "shed", ag.t.shed);
	jw_uint(w, "refused", ag.t.refused);
	jw_uint(w, "auth_timeouts", ag.t.auth_timeouts);
	jw_uint(w, "idle_timeouts", ag.t.idle_timeouts);
	jw_obj_close(w);
	jw_obj_open(w, "admin_connections");
	jw_uint(w, "open", ad.t.open);
	jw_uint(w, "limit", ad.limit);
	jw_uint(w, "per_uid", ad.per_source);
	jw_uint(w, "accepted", ad.t.accepted);
	jw_uint(w, "refused", ad.t.refused);
	jw_uint(w, "idle_timeouts", ad.t.idle_timeouts);
	jw_uint(w, "accept_backoffs", ad.accept_backoffs);
	jw_obj_close(w);
}

/* What only those who see every tenant are shown: counters of the whole
 * fleet, the store's WAL syncs, connections, the data dir. */
static void write_fleet(struct sched *c, struct jw *w)
{
	struct policy *p = &c->pol;

	jw_uint(w, "retries", p->retries);
	jw_uint(w, "leases_expired", p->expired_leases);
	jw_uint(w, "runs_lost", p->lost_runs);
	jw_uint(w, "stale_reports", p->stale);
	/* ended runs kept only in the store (runstore.h) */
	jw_obj_open(w, "ended_runs");
	jw_uint(w, "in_store_only", c->st->runs_stored);
	jw_uint(w, "left_memory", c->runs_paged_out);
	jw_uint(w, "read_back", c->runs_read_back);
	jw_obj_close(w);
	/* The synced write that ends each core turn: every acknowledgement
	 * waits for one, so its tail is the floor of any reply's. */
	jw_obj_open(w, "wal_sync");
	jw_uint(w, "syncs", c->sync_us.n);
	jw_uint(w, "p50_us", lathist_quantile(&c->sync_us, 0.5));
	jw_uint(w, "p99_us", lathist_quantile(&c->sync_us, 0.99));
	jw_uint(w, "p999_us", lathist_quantile(&c->sync_us, 0.999));
	jw_uint(w, "max_us", c->sync_us.max_us);
	jw_obj_close(w);
	write_conns(w);
	/* The data dir: free space against the floor, failed writes. */
	diskguard_write_stats(c, w);
}

/* Totals and counters, then a row per tenant and per environment (the
 * "items" spctl prints under "environments"). */
int cmd_queue_stats(struct sched *c, const struct cmd_args *a,
		    struct reply *r)
{
	struct policy *p = &c->pol;
	struct ptrvec *tenants = &c->st->tenants, *envs = &c->st->envs;
	int64_t *tsince = xcalloc(tenants->n + 1, sizeof(*tsince));
	int64_t *esince = xcalloc(envs->n + 1, sizeof(*esince));
	int64_t oldest = 0;
	uint64_t queued = 0, running = 0, dispatched = 0, refused = 0;

	policy_oldest_queued(p, esince, tsince);
	for (size_t i = 0; i < tenants->n; i++) {
		const struct tenant *t = tenants->v[i];
		if (!cmd_sees(a, t->name))
			continue;
		if (tsince[i] && (!oldest || tsince[i] < oldest))
			oldest = tsince[i];
		queued += t->n_queued;
		running += t->n_running;
		dispatched += t->dispatched;
		refused += t->refused;
	}
	/* totals over the tenants the caller sees (the policy's own when it
	 * sees them all: they also count what no tenant was charged with);
	 * fleet-wide counters, the store and the connections only then */
	if (cmd_sees_all(a)) {
		queued = p->queued_total;
		running = p->running_total;
		dispatched = p->dispatched;
		refused = p->refused;
	}
	jw_uint(&r->w, "queued", queued);
	jw_uint(&r->w, "running", running);
	jw_int(&r->w, "oldest_queued_s", age_s(c, oldest));
	jw_bool(&r->w, "paused", p->paused);
	jw_uint(&r->w, "dispatched", dispatched);
	jw_uint(&r->w, "refused", refused);
	if (cmd_sees_all(a))
		write_fleet(c, &r->w);
	jw_arr_open(&r->w, "tenants");
	for (size_t i = 0; i < tenants->n; i++) {
		const struct tenant *t = tenants->v[i];
		if (!cmd_sees(a, t->name))
			continue;
		jw_obj_open(&r->w, NULL);
		jw_str(&r->w, "tenant", t->name);
		write_counts(c, &r->w, t->n_queued, t->n_running, tsince[i],
			     t->dispatched, t->refused);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	jw_str(&r->w, "title", "environments");
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < envs->n; i++) {
		const struct env *e = envs->v[i];
		if (e->deleted_ms || !cmd_sees(a, e->tenant))
			continue;
		jw_obj_open(&r->w, NULL);
		jw_str(&r->w, "tenant", e->tenant);
		jw_str(&r->w, "env", e->key);
		write_counts(c, &r->w, e->n_queued, e->n_running, esince[i],
			     e->dispatched, e->refused);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	free(tsince);
	free(esince);
	return 0;
}

static int set_paused(struct sched *c, struct reply *r, bool paused)
{
	static const char key[] = META_DISPATCH_PAUSED;
	bool was = c->pol.paused;

	c->pol.paused = paused;
	store_batch_put(c->batch, c->store, CF_META, key, strlen(key),
			paused ? "1" : "0", 1);
	if (was != paused)
		log_warn("dispatch %s by an operator",
			 paused ? "paused" : "resumed");
	jw_strf_print(&r->w, "dispatch %s%s", paused ? "paused" : "resumed",
		      was == paused ? " (it already was)" : "");
	jw_bool(&r->w, "paused", paused);
	return 0;
}

int cmd_dispatch_pause(struct sched *c, const struct cmd_args *a,
		       struct reply *r)
{
	(void)a;
	return set_paused(c, r, true);
}

int cmd_dispatch_resume(struct sched *c, const struct cmd_args *a,
			struct reply *r)
{
	(void)a;
	return set_paused(c, r, false);
}
