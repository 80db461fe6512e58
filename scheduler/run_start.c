/* run_start.c - the one path that starts a run (run start, run retry, a
 * schedule's firing). */
#include "run_start.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobvers.h"
#include "run_args.h"
#include "runstore.h"
#include "sched_ctx.h"
#include "util.h"

static int refuse(struct refusal *why, const char *code, const char *msg)
{
	why->code = code;
	why->retry_after_ms = 0;
	snprintf(why->message, sizeof(why->message), "%s", msg);
	return -1;
}

/* Each run named in after exists, is the tenant's, and is named once.
 * Another tenant's run is reported like a missing one. */
static int check_after(struct sched *c, const struct job *j,
		       const uint64_t *after, uint32_t n, struct refusal *why)
{
	char msg[160];

	if (n > RUN_MAX_AFTER) {
		snprintf(msg, sizeof(msg), "--after names more than %d runs",
			 RUN_MAX_AFTER);
		return refuse(why, "invalid", msg);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct run *dep = runstore_get(c, after[i]);
		if (!dep || strcmp(run_tenant(dep), j->tenant)) {
			snprintf(msg, sizeof(msg), "--after: no run %llu of "
				 "tenant '%s'", (unsigned long long)after[i],
				 j->tenant);
			return refuse(why, "not_found", msg);
		}
		for (uint32_t k = 0; k < i; k++)
			if (after[k] == after[i]) {
				snprintf(msg, sizeof(msg), "--after names run "
					 "%llu twice",
					 (unsigned long long)after[i]);
				return refuse(why, "invalid", msg);
			}
	}
	return 0;
}

static char **strv_dup(const char *const *v, uint32_t n)
{
	char **out = n ? xcalloc(n, sizeof(char *)) : NULL;

	for (uint32_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/* The extra record the request needs, or NULL for a plain run. */
static struct run_extra *make_extra(const struct run_start_req *q)
{
	struct run_extra *x;

	if (!q->schedule && !q->scheduled_ms && !q->retry_of &&
	    !q->nparams && !q->nargs &&
	    !q->nafter && !q->hold)
		return NULL;
	x = xcalloc(1, sizeof(*x));
	x->schedule = q->schedule;
	x->scheduled_ms = q->scheduled_ms;
	x->scheduled_off_s = q->scheduled_off_s;
	x->retry_of = q->retry_of;
	x->params = strv_dup(q->params, q->nparams);
	x->nparams = q->nparams;
	x->args = strv_dup(q->args, q->nargs);
	x->nargs = q->nargs;
	if (q->nafter) {
		x->after = xcalloc(q->nafter, sizeof(uint64_t));
		memcpy(x->after, q->after, q->nafter * sizeof(uint64_t));
		x->nafter = q->nafter;
		x->after_any = q->after_any;
	}
	if (q->hold) {
		x->held_by = xstrdup(q->creator && *q->creator ? q->creator
							      : "?");
	}
	return x;
}

int run_start(struct sched *c, struct job *j, const struct run_start_req *q,
	      struct run **out, struct refusal *why)
{
	const struct job *jv = j;
	struct submit_opts o = {
		.priority = q->priority,
		.idem_key = q->idem_key,
		.job_version = q->job_version,
		.hold = q->hold,
	};
	char err[320];
	int rc;

	if (q->job_version)
		jv = jobvers_get(c, j, q->job_version);
	if (run_args_check(jv, q->params, q->nparams, q->args, q->nargs, err,
			   sizeof(err)))
		return refuse(why, "invalid", err);
	if (check_after(c, j, q->after, q->nafter, why))
		return -1;
	o.creator = state_creator(c->st, q->creator);
	o.x = make_extra(q);
	if (o.x && q->hold)
		o.x->held_ms = c->now_ms;
	rc = policy_submit_ex(&c->pol, j, &o, out, why);
	if (rc != 0)
		run_extra_free(o.x);
	return rc;
}
