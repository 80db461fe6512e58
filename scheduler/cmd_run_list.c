/* cmd_run_list.c - run list: the runs a caller sees, filtered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "sched_ctx.h"

static void write_run_row(struct jw *w, const struct run *run)
{
	jw_uint(w, "id", run->id);
	jw_str(w, "job", run->job->key);
	jw_str(w, "state", run_state_label(run));
	jw_uint(w, "attempt", run->attempt);
	jw_str(w, "agent", run->agent[0] ? run->agent : NULL);
	jw_str(w, "app_id", run->app_id);
	jw_time(w, "created", run->created_ms);
	jw_uint(w, "completions", run->completions);
}

/* Whether run list shows run: of tenant (if given), in state want (if
 * not negative), and of a tenant the caller sees. */
static bool run_listed(const struct cmd_args *a, const struct run *run,
		       const char *tenant, int want)
{
	return run && (!tenant || !strcmp(run_tenant(run), tenant)) &&
	       (want < 0 || (int)run->state == want) &&
	       cmd_sees(a, run_tenant(run));
}

int cmd_run_list(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	const char *tenant = arg_str(a, "--tenant", NULL);
	const char *state = arg_str(a, "--state", NULL);
	size_t limit = (size_t)arg_num(a, "--limit", 100), shown = 0;
	int want = -1;
	size_t first = c->st->nruns;

	if (state && (want = run_state_parse(state)) < 0)
		return cmd_fail(r, "invalid", "--state: unknown state '%.32s'",
				state);
	/* a tenant the caller may not see is one that does not exist */
	if (tenant && (!state_tenant(c->st, tenant) || !cmd_sees(a, tenant)))
		return cmd_fail(r, "not_found", "no tenant '%.64s'", tenant);
	/* The newest `limit` matching runs, printed oldest first. */
	while (first > 0 && shown < limit) {
		const struct run *run = c->st->runs[--first];
		if (run_listed(a, run, tenant, want))
			shown++;
	}
	jw_arr_open(&r->w, "items");
	for (size_t i = first; i < c->st->nruns; i++) {
		const struct run *run = c->st->runs[i];
		if (!run_listed(a, run, tenant, want))
			continue;
		jw_obj_open(&r->w, NULL);
		write_run_row(&r->w, run);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	return 0;
}

