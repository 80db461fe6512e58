/* cmd_run_ctl.c - admin commands that steer a run: hold, release, retry,
 * set (its priority). Each is audited, with who did it, like every
 * command that changes something. */
#include <stdio.h>
#include <string.h>

#include "admin_cmds.h"
#include "diskguard.h"
#include "run_start.h"
#include "sched_ctx.h"

static void write_state(struct jw *w, const struct run *run)
{
	jw_uint(w, "run", run->id);
	jw_str(w, "state", run_state_label(run));
	jw_bool(w, "held", run->held);
	jw_int(w, "priority", run->priority);
}

int cmd_run_hold(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct run *run = cmd_run_arg(c, a->pos[0], r);
	struct refusal why;
	char actor[32];

	if (!run)
		return -1;
	if (policy_hold(&c->pol, run, cmd_actor(a, actor, sizeof(actor)),
			&why))
		return cmd_refuse(r, &why);
	jw_strf_print(&r->w, "run %llu held: it is not dispatched until "
		      "'run release %llu'", (unsigned long long)run->id,
		      (unsigned long long)run->id);
	write_state(&r->w, run);
	return 0;
}

int cmd_run_release(struct sched *c, const struct cmd_args *a,
		    struct reply *r)
{
	struct run *run = cmd_run_arg(c, a->pos[0], r);
	struct refusal why;

	if (!run)
		return -1;
	if (policy_release_hold(&c->pol, run, &why))
		return cmd_refuse(r, &why);
	jw_strf_print(&r->w, "run %llu released", (unsigned long long)run->id);
	write_state(&r->w, run);
	return 0;
}

int cmd_run_set(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct run *run = cmd_run_arg(c, a->pos[0], r);
	struct refusal why;

	if (!run)
		return -1;
	if (!arg_set(a, "--priority"))
		return cmd_fail(r, "invalid", "run set: nothing to change "
				"(--priority N)");
	if (policy_set_priority(&c->pol, run,
				(int32_t)arg_num(a, "--priority", 0), &why))
		return cmd_refuse(r, &why);
	jw_strf_print(&r->w, "run %llu: priority %d",
		      (unsigned long long)run->id, run->priority);
	write_state(&r->w, run);
	return 0;
}

/* run retry: a new run of an ended one, with its job version, priority,
 * parameters, arguments and scheduled time, linked to it both ways. */
int cmd_run_retry(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct run *old = cmd_run_arg(c, a->pos[0], r), *run, *live;
	struct run_start_req q = { 0 };
	struct refusal why;
	char actor[32];

	if (!old)
		return -1;
	if (!run_state_terminal(old->state))
		return cmd_fail(r, "conflict", "run %llu is %s: only an ended "
				"run can be retried (run cancel stops it)",
				(unsigned long long)old->id,
				run_state_label(old));
	if (old->job->deleted_ms)
		return cmd_fail(r, "not_found", "job '%s' was deleted",
				old->job->key);
	live = old->x && old->x->retried_by ?
		       state_run(c->st, old->x->retried_by) : NULL;
	if (live && !run_state_terminal(live->state))
		return cmd_fail(r, "conflict", "run %llu has a retry not "
				"ended yet: run %llu (%s)",
				(unsigned long long)old->id,
				(unsigned long long)live->id,
				run_state_label(live));
	if (diskguard_refuse_start(c, &why))
		return cmd_refuse(r, &why);
	q.priority = old->priority;
	q.creator = cmd_actor(a, actor, sizeof(actor));
	q.job_version = old->job_version;
	q.retry_of = old->id;
	if (old->x) {
		q.params = (const char *const *)old->x->params;
		q.nparams = old->x->nparams;
		q.args = (const char *const *)old->x->args;
		q.nargs = old->x->nargs;
		q.scheduled_ms = old->x->scheduled_ms;
		q.scheduled_off_s = old->x->scheduled_off_s;
	}
	if (run_start(c, old->job, &q, &run, &why) < 0)
		return cmd_refuse(r, &why);
	run_extra_get(old)->retried_by = run->id;
	policy_touch(&c->pol, old);
	jw_strf_print(&r->w, "%llu", (unsigned long long)run->id);
	jw_uint(&r->w, "run", run->id);
	jw_uint(&r->w, "retry_of", old->id);
	jw_str(&r->w, "state", run_state_label(run));
	return 0;
}
