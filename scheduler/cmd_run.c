/* cmd_run.c - admin commands for runs: start, list, show, logs, cancel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "parse.h"
#include "records.h"
#include "sched_ctx.h"
#include "util.h"

static size_t tenant_queued(struct sched *c, const char *tenant)
{
	size_t n = 0;
	for (size_t i = 0; i < c->st->envs.n; i++) {
		const struct env *e = c->st->envs.v[i];
		if (!strcmp(e->tenant, tenant))
			n += queue_length(c->st, e->key);
	}
	return n;
}

int cmd_run_start(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	const struct job *j = state_job(c->st, a->pos[0]);
	const struct tenant *t;
	struct run *run;
	size_t queued;

	if (!j)
		return cmd_fail(r, "not_found", "no job '%.192s'", a->pos[0]);
	t = state_tenant(c->st, j->tenant);
	queued = tenant_queued(c, j->tenant);
	if (t && t->max_queued && queued >= t->max_queued)
		return cmd_fail(r, "quota_exceeded",
				"tenant '%s' has %zu queued runs (max-queued %u); retry after some finish",
				t->name, queued, t->max_queued);
	run = state_new_run(c->st);
	snprintf(run->job, sizeof(run->job), "%s", j->key);
	snprintf(run->tenant, sizeof(run->tenant), "%s", j->tenant);
	snprintf(run->env, sizeof(run->env), "%s", j->env);
	run->priority = (int)arg_num(a, "--priority", 0);
	run->attempt = 1;
	run->state = RUN_QUEUED;
	run->created_ms = run->state_ms[RUN_QUEUED] = c->now_ms;
	queue_push(c->st, run);
	records_put_run(c->batch, c->store, run);
	jw_strf_print(&r->w, "%llu", (unsigned long long)run->id);
	jw_uint(&r->w, "run", run->id);
	jw_str(&r->w, "state", run_state_name(run->state));
	return 0;
}

static bool env_has_ready_agent(struct sched *c, const char *env)
{
	for (size_t i = 0; i < c->st->agents.n; i++) {
		const struct agent *ag = c->st->agents.v[i];
		if (!strcmp(ag->env, env) && ag->state == AGENT_ACTIVE &&
		    ag->preflight_ok)
			return true;
	}
	return false;
}

/* Why a queued run is not running yet, in one line. */
static void run_waiting(struct sched *c, const struct run *run, char *buf,
			size_t len)
{
	const struct env *e = state_env(c->st, run->env);
	if (run->state != RUN_QUEUED) {
		snprintf(buf, len, "-");
	} else if (e && e->state != ENV_READY) {
		snprintf(buf, len, "environment %s is %s: %s", e->key,
			 env_state_name(e->state), e->state_reason);
	} else if (!env_has_ready_agent(c, run->env)) {
		snprintf(buf, len, "no ready agent in environment %s",
			 run->env);
	} else {
		snprintf(buf, len, "position %zu of %zu in the queue of %s",
			 queue_position(c->st, run),
			 queue_length(c->st, run->env), run->env);
	}
}

static void write_run_row(struct jw *w, const struct run *run)
{
	jw_uint(w, "id", run->id);
	jw_str(w, "job", run->job);
	jw_str(w, "state", run_state_name(run->state));
	jw_uint(w, "attempt", run->attempt);
	jw_str(w, "agent", run->agent[0] ? run->agent : NULL);
	jw_str(w, "app_id", run->app_id[0] ? run->app_id : NULL);
	jw_time(w, "created", run->created_ms);
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
	if (tenant && !state_tenant(c->st, tenant))
		return cmd_fail(r, "not_found", "no tenant '%.64s'", tenant);
	/* The newest `limit` matching runs, printed oldest first. */
	while (first > 0 && shown < limit) {
		const struct run *run = c->st->runs[--first];
		if (run && (!tenant || !strcmp(run->tenant, tenant)) &&
		    (want < 0 || (int)run->state == want))
			shown++;
	}
	jw_arr_open(&r->w, "items");
	for (size_t i = first; i < c->st->nruns; i++) {
		const struct run *run = c->st->runs[i];
		if (!run || (tenant && strcmp(run->tenant, tenant)) ||
		    (want >= 0 && (int)run->state != want))
			continue;
		jw_obj_open(&r->w, NULL);
		write_run_row(&r->w, run);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	return 0;
}

static struct run *run_arg(struct sched *c, const char *arg, struct reply *r)
{
	uint64_t id;
	struct run *run;
	char err[128];

	if (parse_u64(arg, 1, UINT64_MAX, &id, err, sizeof(err))) {
		cmd_fail(r, "invalid", "run id: %s", err);
		return NULL;
	}
	run = state_run(c->st, id);
	if (!run)
		cmd_fail(r, "not_found", "no run %llu", (unsigned long long)id);
	return run;
}

int cmd_run_show(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	const struct run *run = run_arg(c, a->pos[0], r);
	const struct job *j;
	char waiting[REASON_LEN + 128];

	if (!run)
		return -1;
	j = state_job(c->st, run->job);
	run_waiting(c, run, waiting, sizeof(waiting));
	jw_obj_open(&r->w, "run");
	jw_uint(&r->w, "id", run->id);
	jw_str(&r->w, "job", run->job);
	jw_str(&r->w, "tenant", run->tenant);
	jw_str(&r->w, "env", run->env);
	jw_str(&r->w, "state", run_state_name(run->state));
	jw_str(&r->w, "waiting", waiting);
	jw_uint(&r->w, "attempt", run->attempt);
	jw_uint(&r->w, "max_attempts", j ? j->max_attempts : 1);
	jw_int(&r->w, "priority", run->priority);
	jw_str(&r->w, "agent", run->agent[0] ? run->agent : NULL);
	jw_uint(&r->w, "epoch", run->epoch);
	jw_str(&r->w, "app_id", run->app_id[0] ? run->app_id : NULL);
	if (run->exit_code >= 0)
		jw_int(&r->w, "exit_code", run->exit_code);
	else
		jw_null(&r->w, "exit_code");
	jw_str(&r->w, "reason", run->reason[0] ? run->reason : NULL);
	jw_bool(&r->w, "cancel_requested", run->cancel_requested);
	jw_uint(&r->w, "log_lines", run->log_lines);
	jw_obj_open(&r->w, "timestamps");
	for (int s = 0; s < RUN_STATE_COUNT; s++)
		if (run->state_ms[s])
			jw_time(&r->w, run_state_name(s), run->state_ms[s]);
	jw_obj_close(&r->w);
	jw_obj_open(&r->w, "usage");
	jw_hours(&r->w, "vcpu_hours", run->vcpu_ms);
	jw_hours(&r->w, "gb_hours", run->gb_ms);
	jw_usd(&r->w, "cost", run->cost);
	jw_obj_close(&r->w);
	jw_obj_close(&r->w);
	return 0;
}

struct log_out {
	struct jw *w;
	uint32_t next;
};

static int log_line_out(uint32_t line, int64_t ts, int stream,
			const char *text, size_t len, void *ctx)
{
	struct log_out *lo = ctx;
	jw_obj_open(lo->w, NULL);
	jw_uint(lo->w, "n", line);
	jw_time(lo->w, "ts", ts);
	jw_str(lo->w, "stream", stream == LOG_STDOUT ? "stdout" : "stderr");
	jw_strn(lo->w, "line", text, len);
	jw_obj_close(lo->w);
	lo->next = line + 1;
	return 0;
}

int cmd_run_logs(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	const struct run *run = run_arg(c, a->pos[0], r);
	struct log_out lo = { &r->w, 0 };
	uint32_t limit;

	if (!run)
		return -1;
	lo.next = (uint32_t)arg_num(a, "--after", 0);
	limit = (uint32_t)arg_num(a, "--limit", 10000);
	jw_arr_open(&r->w, "lines");
	if (records_scan_logs(c->store, run->id, lo.next, limit, log_line_out,
			      &lo) < 0) {
		return cmd_fail(r, "internal", "cannot read the log of run %llu",
				(unsigned long long)run->id);
	}
	jw_arr_close(&r->w);
	jw_uint(&r->w, "next", lo.next);
	jw_str(&r->w, "state", run_state_name(run->state));
	jw_bool(&r->w, "done",
		run_state_terminal(run->state) && lo.next >= run->log_lines);
	return 0;
}

int cmd_run_cancel(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct run *run = run_arg(c, a->pos[0], r);

	if (!run)
		return -1;
	if (run_state_terminal(run->state))
		return cmd_fail(r, "conflict", "run %llu is already %s",
				(unsigned long long)run->id,
				run_state_name(run->state));
	if (run->state == RUN_QUEUED) {
		queue_remove(c->st, run);
		run_set_state(run, RUN_CANCELLED, c->now_ms);
		snprintf(run->reason, sizeof(run->reason),
			 "cancelled by an operator while queued");
		jw_strf_print(&r->w, "run %llu cancelled",
			      (unsigned long long)run->id);
	} else {
		/* The agent learns it from its next reply and reports the
		 * final state itself. */
		run->cancel_requested = true;
		jw_strf_print(&r->w, "run %llu is being cancelled on agent %s",
			      (unsigned long long)run->id, run->agent);
	}
	records_put_run(c->batch, c->store, run);
	jw_uint(&r->w, "run", run->id);
	jw_str(&r->w, "state", run_state_name(run->state));
	jw_bool(&r->w, "cancel_requested", run->cancel_requested);
	return 0;
}
