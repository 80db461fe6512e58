/* cmd_queue.c - admin commands for the queues: stats, dispatch pause. */
#include <string.h>

#include "admin_cmds.h"
#include "sched_ctx.h"
#include "util.h"

static void write_counts(struct jw *w, uint32_t queued, uint32_t running,
			 uint64_t dispatched, uint64_t refused)
{
	jw_uint(w, "queued", queued);
	jw_uint(w, "running", running);
	jw_uint(w, "dispatched", dispatched);
	jw_uint(w, "refused", refused);
}

int cmd_queue_stats(struct sched *c, const struct cmd_args *a,
		    struct reply *r)
{
	struct policy *p = &c->pol;
	(void)a;

	jw_uint(&r->w, "queued", p->queued_total);
	jw_uint(&r->w, "running", p->running_total);
	jw_bool(&r->w, "paused", p->paused);
	jw_uint(&r->w, "dispatched", p->dispatched);
	jw_uint(&r->w, "refused", p->refused);
	jw_uint(&r->w, "retries", p->retries);
	jw_uint(&r->w, "leases_expired", p->expired_leases);
	jw_uint(&r->w, "runs_lost", p->lost_runs);
	jw_uint(&r->w, "stale_reports", p->stale);
	jw_arr_open(&r->w, "tenants");
	for (size_t i = 0; i < c->st->tenants.n; i++) {
		const struct tenant *t = c->st->tenants.v[i];
		jw_obj_open(&r->w, NULL);
		jw_str(&r->w, "tenant", t->name);
		write_counts(&r->w, t->n_queued, t->n_running, t->dispatched,
			     t->refused);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	/* The table spctl prints: one row per environment. */
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < c->st->envs.n; i++) {
		const struct env *e = c->st->envs.v[i];
		int64_t oldest = policy_oldest_queued(p, e);
		jw_obj_open(&r->w, NULL);
		jw_str(&r->w, "tenant", e->tenant);
		jw_str(&r->w, "env", e->key);
		write_counts(&r->w, e->n_queued, e->n_running, e->dispatched,
			     e->refused);
		jw_int(&r->w, "oldest_queued_s",
		       oldest ? (c->now_ms - oldest) / 1000 : 0);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
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
