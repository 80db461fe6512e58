/* cmd_run.c - admin commands for runs: start, show, logs, metrics,
 * cancel (run list: cmd_run_list.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "diagnose.h"
#include "diskguard.h"
#include "parse.h"
#include "jobvers.h"
#include "records.h"
#include "run_args.h"
#include "run_start.h"
#include "runstore.h"
#include "sched_ctx.h"
#include "telemetry.h"
#include "util.h"

/* "--after 12,15": run ids into out (at most max); how many, or -1. */
static int parse_after(const char *list, uint64_t *out, int max,
		       struct reply *r)
{
	char buf[1024], err[128], *save = NULL;
	int n = 0;

	if (strlen(list) >= sizeof(buf))
		return cmd_fail(r, "invalid", "--after: the list is too long");
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *w = strtok_r(buf, ",", &save); w;
	     w = strtok_r(NULL, ",", &save)) {
		if (n >= max)
			return cmd_fail(r, "invalid", "--after names more "
					"than %d runs", max);
		if (parse_u64(w, 1, UINT64_MAX, &out[n++], err, sizeof(err)))
			return cmd_fail(r, "invalid", "--after '%.32s': %s",
					w, err);
	}
	if (!n)
		return cmd_fail(r, "invalid", "--after needs a run id");
	return n;
}

int cmd_run_start(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct job *j = state_job(c->st, a->pos[0]);
	const char *key = arg_str(a, "--idempotency-key", NULL);
	const char *params[RUN_MAX_PARAMS];
	uint64_t after[RUN_MAX_AFTER];
	struct run_start_req q = { 0 };
	char actor[32], id[24];
	struct refusal why;
	struct run *run;
	int rc, n;

	if (!j || j->deleted_ms)
		return cmd_fail(r, "not_found", "no job '%.192s'", a->pos[0]);
	if (key && (!*key || strlen(key) > 128))
		return cmd_fail(r, "invalid",
				"--idempotency-key must be 1 to 128 characters");
	if ((n = arg_multi(a, "--param", params, RUN_MAX_PARAMS)) >
	    RUN_MAX_PARAMS)
		return cmd_fail(r, "invalid", "more than %d --param",
				RUN_MAX_PARAMS);
	q.params = params;
	q.nparams = (uint32_t)n;
	if (arg_set(a, "--after-any") && arg_set(a, "--after-ok"))
		return cmd_fail(r, "invalid", "--after-any and --after-ok "
				"exclude each other");
	if ((arg_set(a, "--after-any") || arg_set(a, "--after-ok")) &&
	    !arg_set(a, "--after"))
		return cmd_fail(r, "invalid", "--after-any and --after-ok go "
				"with --after RUN[,RUN...]");
	if (arg_set(a, "--after")) {
		if ((n = parse_after(arg_str(a, "--after", ""), after,
				     RUN_MAX_AFTER, r)) < 0)
			return -1;
		q.after = after;
		q.nafter = (uint32_t)n;
		q.after_any = arg_set(a, "--after-any");
	}
	q.args = (const char *const *)a->rest;
	q.nargs = (uint32_t)a->nrest;
	q.priority = (int32_t)arg_num(a, "--priority", 0);
	q.idem_key = key;
	q.hold = arg_set(a, "--hold");
	q.creator = cmd_actor(a, actor, sizeof(actor));
	/* Below the data dir's free-space floor: what is queued can still
	 * run and report, but nothing new is added. */
	if (diskguard_refuse_start(c, &why))
		return cmd_refuse(r, &why);
	rc = run_start(c, j, &q, &run, &why);
	if (rc < 0)
		return cmd_refuse(r, &why);
	fmt_u64(id, run->id);
	jw_str(&r->w, "print", id);
	jw_uint(&r->w, "run", run->id);
	jw_str(&r->w, "state", run_state_label(run));
	jw_bool(&r->w, "existing", rc == 1);
	return 0;
}

struct run *cmd_run_arg(struct sched *c, const char *arg, struct reply *r)
{
	uint64_t id;
	struct run *run;
	char err[128];

	if (parse_u64(arg, 1, UINT64_MAX, &id, err, sizeof(err))) {
		cmd_fail(r, "invalid", "run id: %s", err);
		return NULL;
	}
	run = runstore_get(c, id);
	if (!run && state_run_stored(c->st, id))
		cmd_fail(r, "unavailable", "run %llu is kept only in the store, "
			 "and its record cannot be read now (see the "
			 "scheduler's log)", (unsigned long long)id);
	else if (!run)
		cmd_fail(r, "not_found", "no run %llu", (unsigned long long)id);
	return run;
}

/* What the workflow gave the run: its schedule, the run it retries, its
 * hold, the runs it waits for, its parameters. */
static void write_run_flow(struct sched *c, struct jw *w,
			   const struct run *run)
{
	const struct run_extra *x = run->x;

	(void)c;
	if (!x)
		return;
	if (x->schedule) {
		char at[64];
		jw_uint(w, "schedule", x->schedule);
		jw_time(w, "scheduled_time", x->scheduled_ms);
		/* the firing's wall-clock time in its schedule's zone */
		run_args_local_time(x->scheduled_ms, x->scheduled_off_s, at,
				  sizeof(at));
		jw_str(w, "scheduled_local", at);
	}
	if (x->retry_of)
		jw_uint(w, "retry_of", x->retry_of);
	if (run->held) {
		jw_str(w, "held_by", x->held_by);
		jw_time(w, "held_since", x->held_ms);
	}
	if (x->nafter) {
		jw_arr_open(w, "after");
		for (uint32_t i = 0; i < x->nafter; i++)
			jw_uint(w, NULL, x->after[i]);
		jw_arr_close(w);
		jw_str(w, "after_mode", x->after_any ? "any" : "ok");
	}
	if (x->nparams) {
		jw_obj_open(w, "params");
		for (uint32_t i = 0; i < x->nparams; i++) {
			const char *eq = strchr(x->params[i], '=');
			char key[RUN_PARAM_KEY_MAX + 1];
			snprintf(key, sizeof(key), "%.*s",
				 (int)(eq - x->params[i]), x->params[i]);
			jw_str(w, key, eq + 1);
		}
		jw_obj_close(w);
	}
}

/* The arguments its next (or last) attempt gets, resolved. */
static void write_run_args(struct sched *c, struct jw *w,
			   const struct run *run)
{
	const struct job *jv = jobvers_get(c, run->job, run->job_version);
	char **argv;
	int argc = run_args_resolve(jv, run, &argv);

	jw_arr_open(w, "args");
	for (int i = 0; i < argc; i++)
		jw_str(w, NULL, argv[i]);
	jw_arr_close(w);
	run_args_free(argv, argc);
}

int cmd_run_show(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	const struct run *run = cmd_run_arg(c, a->pos[0], r);
	char waiting[REASON_LEN + 128], by[64];

	if (!run)
		return -1;
	policy_why_waiting(&c->pol, run, waiting, sizeof(waiting));
	jw_obj_open(&r->w, "run");
	jw_uint(&r->w, "id", run->id);
	jw_str(&r->w, "job", run->job->key);
	jw_uint(&r->w, "job_version", run->job_version);
	jw_str(&r->w, "tenant", run_tenant(run));
	jw_str(&r->w, "env", run_env(run));
	jw_str(&r->w, "state", run_state_label(run));
	jw_str(&r->w, "waiting", waiting);
	jw_str(&r->w, "created_by", run_created_by(c->st, run, by, sizeof(by)));
	write_run_flow(c, &r->w, run);
	if (run->state == RUN_QUEUED)
		jw_uint(&r->w, "position", policy_queue_position(&c->pol, run));
	jw_uint(&r->w, "attempt", run->attempt);
	jw_uint(&r->w, "max_attempts",
		policy_run_job(&c->pol, run)->max_attempts);
	jw_uint(&r->w, "leases_lost", run->lost);
	jw_uint(&r->w, "completions", run->completions);
	if (run_not_before(run))
		jw_time(&r->w, "not_before", run_not_before(run));
	jw_str(&r->w, "failure_class", run_detail(run)->failure_class);
	jw_str(&r->w, "idempotency_key", run->idem_key);
	jw_int(&r->w, "priority", run->priority);
	jw_str(&r->w, "agent", run_agent(run)[0] ? run_agent(run) : NULL);
	jw_uint(&r->w, "epoch", run_epoch(run));
	jw_str(&r->w, "app_id", run_detail(run)->app_id);
	if (run->exit_code >= 0)
		jw_int(&r->w, "exit_code", run->exit_code);
	else
		jw_null(&r->w, "exit_code");
	jw_str(&r->w, "reason", run_detail(run)->reason);
	jw_bool(&r->w, "cancel_requested", run->cancel_requested);
	jw_uint(&r->w, "log_lines", run->log_lines);
	write_run_args(c, &r->w, run);
	jw_obj_open(&r->w, "timestamps");
	for (int s = 0; s < RUN_STATE_COUNT; s++)
		if (run_state_ms(run, s))
			jw_time(&r->w, run_state_name(s), run_state_ms(run, s));
	jw_obj_close(&r->w);
	jw_obj_open(&r->w, "usage");
	jw_hours(&r->w, "vcpu_hours", run_detail(run)->vcpu_ms);
	jw_hours(&r->w, "gb_hours", run_detail(run)->gb_ms);
	jw_usd(&r->w, "cost", run_detail(run)->cost);
	jw_int(&r->w, "cost_micro_usd", run_detail(run)->cost);
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
	const struct run *run = cmd_run_arg(c, a->pos[0], r);
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
	jw_str(&r->w, "state", run_state_label(run));
	jw_bool(&r->w, "done",
		run_state_terminal(run->state) && lo.next >= run->log_lines);
	return 0;
}

int cmd_run_metrics(struct sched *c, const struct cmd_args *a,
		    struct reply *r)
{
	const struct run *run = cmd_run_arg(c, a->pos[0], r);
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
	const struct run *run = cmd_run_arg(c, a->pos[0], r);
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
				run_state_label(run));
	cls = run_detail(run)->failure_class;
	line = run_detail(run)->diag_line ? run_detail(run)->diag_line : "";
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
	jw_str(&r->w, "state", run_state_label(run));
	jw_uint(&r->w, "attempt", run->attempt);
	jw_str(&r->w, "class", cls);
	jw_bool(&r->w, "retryable", diagnose_retryable(cls));
	jw_str(&r->w, "hint", diagnose_hint(cls) ? diagnose_hint(cls) : "");
	jw_str(&r->w, "line", line);
	jw_str(&r->w, "classified_from", from);
	jw_str(&r->w, "reason", str_or_empty(run_detail(run)->reason));
	if (run->exit_code >= 0)
		jw_int(&r->w, "exit_code", run->exit_code);
	diagnoser_free(d);
	return 0;
}

int cmd_run_cancel(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct run *run = cmd_run_arg(c, a->pos[0], r);

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
			      (unsigned long long)run->id, run_agent(run));
	jw_uint(&r->w, "run", run->id);
	jw_str(&r->w, "state", run_state_label(run));
	jw_bool(&r->w, "cancel_requested", run->cancel_requested);
	return 0;
}
