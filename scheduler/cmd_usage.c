/* cmd_usage.c - `usage`: metered runs, vCPU-hours, GB-hours and cost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_cmds.h"
#include "parse.h"
#include "sched_ctx.h"
#include "util.h"

struct usage_row {
	char tenant[NAME_MAX_LEN];
	char env[ENV_KEY_LEN];
	uint64_t runs, succeeded, failed;
	int64_t vcpu_ms, gb_ms, cost;
};

/* "YYYY-MM-DD" -> ms at 00:00 UTC. */
static int parse_date(const char *s, int64_t *ms)
{
	struct tm tm;
	int y, m, d;
	char extra;
	if (strlen(s) != 10 ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 1970 ||
	    y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*ms = (int64_t)timegm(&tm) * 1000;
	/* timegm normalises 02-31 to 03-03: refuse dates that moved */
	gmtime_r(&(time_t){ (time_t)(*ms / 1000) }, &tm);
	return tm.tm_mday == d ? 0 : -1;
}

static int64_t run_end_ms(const struct run *run)
{
	return run->state_ms[run->state];
}

static struct usage_row *row_for(struct usage_row *rows, size_t *n,
				 size_t max, const struct run *run)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(rows[i].env, run_env(run)))
			return &rows[i];
	if (*n == max)
		return NULL;
	memset(&rows[*n], 0, sizeof(rows[*n]));
	snprintf(rows[*n].tenant, sizeof(rows[*n].tenant), "%s", run_tenant(run));
	snprintf(rows[*n].env, sizeof(rows[*n].env), "%s", run_env(run));
	return &rows[(*n)++];
}

static void add_run(struct usage_row *row, const struct run *run)
{
	row->runs++;
	row->succeeded += run->state == RUN_SUCCEEDED;
	row->failed += run->state == RUN_FAILED || run->state == RUN_TIMED_OUT;
	row->vcpu_ms += run->vcpu_ms;
	row->gb_ms += run->gb_ms;
	row->cost += run->cost;
}

static void write_row(struct jw *w, const struct usage_row *u)
{
	jw_str(w, "tenant", u->tenant);
	jw_str(w, "env", u->env);
	jw_uint(w, "runs", u->runs);
	jw_uint(w, "succeeded", u->succeeded);
	jw_uint(w, "failed", u->failed);
	jw_hours(w, "vcpu_hours", u->vcpu_ms);
	jw_hours(w, "gb_hours", u->gb_ms);
	jw_usd(w, "cost", u->cost);
}

static void write_rows(struct jw *w, const struct usage_row *rows, size_t n,
		       const struct usage_row *total)
{
	jw_arr_open(w, "items");
	for (size_t i = 0; i <= n; i++) {
		jw_obj_open(w, NULL);
		write_row(w, i < n ? &rows[i] : total);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

static void write_csv(struct strbuf *sb, const struct usage_row *rows,
		      size_t n, const struct usage_row *total)
{
	char cost[40];
	strbuf_addstr(sb, "tenant,env,runs,succeeded,failed,vcpu_ms,gb_ms,"
			  "cost_usd\n");
	for (size_t i = 0; i <= n; i++) {
		const struct usage_row *u = i < n ? &rows[i] : total;
		format_usd(u->cost, cost, sizeof(cost));
		strbuf_addf(sb, "%s,%s,%llu,%llu,%llu,%lld,%lld,%s\n",
			    u->tenant, u->env, (unsigned long long)u->runs,
			    (unsigned long long)u->succeeded,
			    (unsigned long long)u->failed,
			    (long long)u->vcpu_ms, (long long)u->gb_ms, cost);
	}
}

int cmd_usage(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	const char *tenant = a->npos ? a->pos[0] : NULL;
	const char *format = arg_str(a, "--format", "table");
	int64_t from = 0, to = INT64_MAX;
	size_t max = c->st->envs.n ? c->st->envs.n : 1, n = 0;
	struct usage_row *rows, total;

	if (tenant && !state_tenant(c->st, tenant))
		return cmd_fail(r, "not_found", "no tenant '%.64s'", tenant);
	if (arg_set(a, "--from") && parse_date(arg_str(a, "--from", ""), &from))
		return cmd_fail(r, "invalid", "--from: '%.32s' is not a date (YYYY-MM-DD)",
				arg_str(a, "--from", ""));
	if (arg_set(a, "--to") && parse_date(arg_str(a, "--to", ""), &to))
		return cmd_fail(r, "invalid", "--to: '%.32s' is not a date (YYYY-MM-DD)",
				arg_str(a, "--to", ""));
	if (to != INT64_MAX)
		to += 86400000; /* --to is inclusive */
	if (from >= to)
		return cmd_fail(r, "invalid", "--from must not be after --to");
	if (strcmp(format, "table") && strcmp(format, "json") &&
	    strcmp(format, "csv"))
		return cmd_fail(r, "invalid",
				"--format: '%.32s' must be table, json or csv",
				format);
	rows = xcalloc(max, sizeof(*rows));
	memset(&total, 0, sizeof(total));
	snprintf(total.tenant, sizeof(total.tenant), "%s", "TOTAL");
	for (size_t i = 0; i < c->st->nruns; i++) {
		const struct run *run = c->st->runs[i];
		struct usage_row *row;
		if (!run || !run_state_terminal(run->state) ||
		    (tenant && strcmp(run_tenant(run), tenant)) ||
		    run_end_ms(run) < from || run_end_ms(run) >= to)
			continue;
		row = row_for(rows, &n, max, run);
		if (row)
			add_run(row, run);
		add_run(&total, run);
	}
	if (!strcmp(format, "csv")) {
		struct strbuf sb = STRBUF_INIT;
		write_csv(&sb, rows, n, &total);
		jw_str(&r->w, "print", sb.buf);
		strbuf_release(&sb);
	}
	if (!strcmp(format, "json")) {
		struct strbuf sb = STRBUF_INIT;
		struct jw w;
		jw_init(&w, &sb);
		jw_obj_open(&w, NULL);
		write_rows(&w, rows, n, &total);
		jw_obj_close(&w);
		jw_str(&r->w, "print", sb.buf);
		strbuf_release(&sb);
	}
	write_rows(&r->w, rows, n, &total);
	free(rows);
	return 0;
}
