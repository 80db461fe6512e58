/* cmd_lifecycle.c - a tenant suspended and resumed (while suspended no
 * run of it starts and none of its queued runs is dispatched; runs
 * already with an agent go on and report, and its agents keep their
 * leases), and an environment deleted. */
#include <stdio.h>
#include <string.h>

#include "admin_cmds.h"
#include "audit.h"
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

/* Deletes an environment: gone from lists, no job, token or agent may
 * name it (its unused tokens then enroll nobody), while its ended runs
 * stay for their history and usage; an env add of the key defines it
 * again. Refused while it has a job, an agent that is not revoked, or a
 * run not ended: each is named, so the operator knows what to do first. */
int cmd_env_delete(struct sched *c, const struct cmd_args *a,
		   struct reply *r)
{
	struct env *e = state_env_live(c->st, a->pos[0]);
	size_t jobs = 0, agents = 0;
	char actor[32];

	if (!e)
		return cmd_fail(r, "not_found", "no environment '%.128s'",
				a->pos[0]);
	for (size_t i = 0; i < e->jobs.n; i++)
		jobs += !((struct job *)e->jobs.v[i])->deleted_ms;
	for (size_t i = 0; i < c->st->agents.n; i++) {
		const struct agent *ag = c->st->agents.v[i];
		agents += !strcmp(ag->env, e->key) &&
			  ag->state != AGENT_REVOKED;
	}
	if (e->n_queued || e->n_running)
		return cmd_fail(r, "busy",
				"environment %s has %u queued and %u live "
				"runs: cancel them or let them end first",
				e->key, e->n_queued, e->n_running);
	if (jobs)
		return cmd_fail(r, "busy",
				"environment %s has %zu jobs: delete them "
				"first (job delete)",
				e->key, jobs);
	if (agents)
		return cmd_fail(r, "busy",
				"environment %s has %zu agents not revoked: "
				"revoke them first (agent revoke)",
				e->key, agents);
	e->deleted_ms = c->now_ms;
	records_put_env(c->batch, c->store, e);
	audit_deleted(c, e->tenant, cmd_actor(a, actor, sizeof(actor)),
		      "environment", e->key);
	log_info("environment %s deleted tenant=%s env=%s", e->key, e->tenant,
		 e->key);
	jw_str(&r->w, "env", e->key);
	jw_strf_print(&r->w, "deleted environment %s (its past runs are kept)",
		      e->key);
	return 0;
}
