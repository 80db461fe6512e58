/* cmd_run.c - admin commands for runs: start, list, show, logs, metrics,
 * cancel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "diagnose.h"
#include "diskguard.h"
#include "parse.h"
#include "records.h"
#include "sched_ctx.h"
#include "telemetry.h"
#include "util.h"

int cmd_run_start(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct job *j = state_job(c->st, a->pos[0]);
	const char *key = arg_str(a, "--idempotency-key", NULL);
	struct refusal why;
	struct run *run;
	int rc;

	if (!j || j->deleted_ms)
		return cmd_fail(r, "not_found", "no job '%.192s'", a->pos[0]);
	if (key && (!*key || strlen(key) > 128))
		return cmd_fail(r, "invalid",
				"--idempotency-key must be 1 to 128 characters");
	/* Below the data dir's free-space floor: what is queued can still
	 * run and report, but nothing new is added. */
	if (diskguard_refuse_start(c, &why))
		return cmd_refuse(r, &why);
	rc = policy_submit(&c->pol, j, (int32_t)arg_num(a, "--priority", 0),
			   key, &run, &why);
	if (rc < 0)
		return cmd_refuse(r, &why);
	jw_strf_print(&r->w, "%llu", (unsigned long long)run->id);
	jw_uint(&r->w, "run", run->id);
	jw_str(&r->w, "state", run_state_name(run->state));
	jw_bool(&r->w, "existing", rc == 1);
	return 0;
}

static void write_run_row(struct jw *w, const struct run *run)
{
	jw_uint(w, "id", run->id);
	jw_str(w, "job", run->job->key);
	jw_str(w, "state", run_state_name(run->state));
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
	char waiting[REASON_LEN + 128];

	if (!run)
		return -1;
	policy_why_waiting(&c->pol, run, waiting, sizeof(waiting));
	jw_obj_open(&r->w, "run");
	jw_uint(&r->w, "id", run->id);
	jw_str(&r->w, "job", run->job->key);
	jw_uint(&r->w, "job_version", run->job_version);
	jw_str(&r->w, "tenant", run_tenant(run));
	jw_str(&r->w, "env", run_env(run));
	jw_str(&r->w, "state", run_state_name(run->state));
	jw_str(&r->w, "waiting", waiting);
	if (run->state == RUN_QUEUED)
		jw_uint(&r->w, "position", policy_queue_position(&c->pol, run));
	jw_uint(&r->w, "attempt", run->attempt);
	jw_uint(&r->w, "max_attempts",
		policy_run_job(&c->pol, run)->max_attempts);
	jw_uint(&r->w, "leases_lost", run->lost);
	jw_uint(&r->w, "completions", run->completions);
	if (run->not_before_ms)
		jw_time(&r->w, "not_before", run->not_before_ms);
	jw_str(&r->w, "failure_class", run->failure_class);
	jw_str(&r->w, "idempotency_key", run->idem_key);
	jw_int(&r->w, "priority", run->priority);
	jw_str(&r->w, "agent", run->agent[0] ? run->agent : NULL);
	jw_uint(&r->w, "epoch", run->epoch);
	jw_str(&r->w, "app_id", run->app_id);
	if (run->exit_code >= 0)
		jw_int(&r->w, "exit_code", run->exit_code);
	else
		jw_null(&r->w, "exit_code");
	jw_str(&r->w, "reason", run->reason);
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
	jw_int(&r->w, "cost_micro_usd", run->cost);
	/* what is reserved against the budget: spent + one attempt's maximum */
	jw_usd(&r->w, "estimated_max_cost", run->est_cost);
	if (policy_run_job(&c->pol, run)->run_budget)
		jw_usd(&r->w, "run_budget",
		       policy_run_job(&c->pol, run)->run_budget);
	jw_obj_close(&r->w);
	jw_obj_close(&r->w);
	return 0;
}

/* Passes lines on to the caller's fn, counting them (scan_run_lines). */
struct line_chain {
	telemetry_line_fn fn;
	void *ctx;
	uint32_t sent, next;
};

static int chain_line(uint32_t n, int64_t ts, int stream, const char *text,
		      size_t len, void *p)
{
	struct line_chain *lc = p;
	lc->sent++;
	lc->next = n + 1;
	return lc->fn(n, ts, stream, text, len, lc->ctx);
}

/* A run's log lines numbered >= after, at most max, in order: the line
 * logs a format-2 store kept for it, then its telemetry batches (numbered
 * after them). 0 / -1. */
static int scan_run_lines(struct sched *c, const struct run *run,
			  uint32_t after, uint32_t max, telemetry_line_fn fn,
			  void *ctx)
{
	struct line_chain lc = { fn, ctx, 0, after };

	if (records_scan_logs(c->store, run->id, after, max, chain_line, &lc) < 0)
		return -1;
	if (lc.sent >= max)
		return 0;
	return telemetry_scan_lines(c, run->job->tenant, run->id, lc.next,
				    max - lc.sent, chain_line, &lc);
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
	if (scan_run_lines(c, run, lo.next, limit, log_line_out, &lo)) {
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

int cmd_run_metrics(struct sched *c, const struct cmd_args *a,
		    struct reply *r)
{
	const struct run *run = run_arg(c, a->pos[0], r);
	static const char *const types[] = { "", "counter", "gauge",
					     "histogram" };
	struct telemetry_metric *m;
	int n;

	if (!run)
		return -1;
	m = xcalloc(TELEMETRY_MAX_METRICS, sizeof(*m));
	n = telemetry_run_metrics(c, run->job->tenant, run->id, m);
	if (n < 0) {
		free(m);
		return cmd_fail(r, "internal",
				"cannot read the metrics of run %llu",
				(unsigned long long)run->id);
	}
	jw_uint(&r->w, "run", run->id);
	jw_arr_open(&r->w, "items");
	for (int i = 0; i < n; i++) {
		jw_obj_open(&r->w, NULL);
		jw_str(&r->w, "name", m[i].name);
		jw_str(&r->w, "type", types[m[i].type]);
		/* one shape for every item (a table's columns): a histogram's
		 * value is its mean; the others have no count .. max */
		if (m[i].type == TM_HISTOGRAM) {
			jw_int(&r->w, "value",
			       m[i].count ? m[i].sum / m[i].count : 0);
			jw_int(&r->w, "count", m[i].count);
			jw_int(&r->w, "sum", m[i].sum);
			jw_int(&r->w, "min", m[i].min);
			jw_int(&r->w, "max", m[i].max);
		} else {
			jw_int(&r->w, "value", m[i].value);
			jw_null(&r->w, "count");
			jw_null(&r->w, "sum");
			jw_null(&r->w, "min");
			jw_null(&r->w, "max");
		}
		jw_time(&r->w, "ts", m[i].ts_ms);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	free(m);
	return 0;
}

/* Feeds stored log lines to a diagnoser (runs whose agent sent no
 * class: an older agent, or lines stored before the run ended). */
static int diagnose_out(uint32_t line, int64_t ts, int stream,
			const char *text, size_t len, void *ctx)
{
	(void)line;
	(void)ts;
	(void)stream;
	diagnose_line(ctx, text, len);
	return 0;
}

int cmd_run_diagnose(struct sched *c, const struct cmd_args *a,
		     struct reply *r)
{
	const struct run *run = run_arg(c, a->pos[0], r);
	const char *cls, *line, *from = "agent";
	struct diagnoser *d = NULL;

	if (!run)
		return -1;
	if (run->state != RUN_FAILED && run->state != RUN_TIMED_OUT &&
	    !(run->state == RUN_QUEUED && run->attempt > 1))
		return cmd_fail(r, "not_failed",
				"run %llu is %s: only a failed attempt has "
				"something to diagnose",
				(unsigned long long)run->id,
				run_state_name(run->state));
	cls = run->failure_class;
	line = run->diag_line ? run->diag_line : "";
	if (!cls) {
		/* the agent sent no class: classify the stored log */
		d = diagnoser_new();
		if (scan_run_lines(c, run, 0, UINT32_MAX, diagnose_out, d)) {
			diagnoser_free(d);
			return cmd_fail(r, "internal",
					"cannot read the log of run %llu",
					(unsigned long long)run->id);
		}
		if (run->exit_code >= 0)
			diagnose_exit(d, run->exit_code << 8);
		cls = diagnose_result(d)->category;
		line = diagnose_result(d)->line;
		from = "stored log";
	}
	jw_uint(&r->w, "run", run->id);
	jw_str(&r->w, "state", run_state_name(run->state));
	jw_uint(&r->w, "attempt", run->attempt);
	jw_str(&r->w, "class", cls);
	jw_bool(&r->w, "retryable", diagnose_retryable(cls));
	jw_str(&r->w, "hint", diagnose_hint(cls) ? diagnose_hint(cls) : "");
	jw_str(&r->w, "line", line);
	jw_str(&r->w, "classified_from", from);
	jw_str(&r->w, "reason", run->reason ? run->reason : "");
	if (run->exit_code >= 0)
		jw_int(&r->w, "exit_code", run->exit_code);
	diagnoser_free(d);
	return 0;
}

int cmd_run_cancel(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct run *run = run_arg(c, a->pos[0], r);

	if (!run)
		return -1;
	struct refusal why;
	if (policy_cancel(&c->pol, run, &why))
		return cmd_refuse(r, &why);
	if (run->state == RUN_CANCELLED)
		jw_strf_print(&r->w, "run %llu cancelled",
			      (unsigned long long)run->id);
	else /* the agent learns it from its next reply */
		jw_strf_print(&r->w, "run %llu is being cancelled on agent %s",
			      (unsigned long long)run->id, run->agent);
	jw_uint(&r->w, "run", run->id);
	jw_str(&r->w, "state", run_state_name(run->state));
	jw_bool(&r->w, "cancel_requested", run->cancel_requested);
	return 0;
}
