/* cmd_lifecycle.c - a tenant suspended and resumed: while suspended no run
 * of it starts and none of its queued runs is dispatched; runs already
 * with an agent go on and report, and its agents keep their leases. */
#include <stdio.h>
#include <string.h>

#include "admin_cmds.h"
#include "records.h"
#include "sched_ctx.h"
#include "util.h"

static int set_suspended(struct sched *c, const struct cmd_args *a,
			 struct reply *r, bool suspend)
{
	struct tenant *t = state_tenant(c->st, a->pos[0]);
	bool was;

	if (!t)
		return cmd_fail(r, "not_found", "no tenant '%.64s'", a->pos[0]);
	was = t->suspended_ms != 0;
	if (suspend && !was)
		t->suspended_ms = c->now_ms;
	else if (!suspend)
		t->suspended_ms = 0;
	if (was != suspend) {
		records_put_tenant(c->batch, c->store, t);
		log_warn("tenant %s %s: %u queued runs %s, %u live runs go on "
			 "tenant=%s",
			 t->name, suspend ? "suspended" : "resumed",
			 t->n_queued, suspend ? "held" : "may start",
			 t->n_running, t->name);
	}
	jw_str(&r->w, "tenant", t->name);
	jw_bool(&r->w, "suspended", suspend);
	jw_uint(&r->w, "queued", t->n_queued);
	jw_uint(&r->w, "running", t->n_running);
	jw_strf_print(&r->w,
		      "tenant %s %s%s: %u queued runs %s, %u live runs go on",
		      t->name, suspend ? "suspended" : "resumed",
		      was == suspend ? " (it already was)" : "", t->n_queued,
		      suspend ? "held, no new starts" : "may start",
		      t->n_running);
	return 0;
}

int cmd_tenant_suspend(struct sched *c, const struct cmd_args *a,
		       struct reply *r)
{
	return set_suspended(c, a, r, true);
}

int cmd_tenant_resume(struct sched *c, const struct cmd_args *a,
		      struct reply *r)
{
	return set_suspended(c, a, r, false);
}
