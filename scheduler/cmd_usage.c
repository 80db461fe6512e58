/* cmd_usage.c - `usage`: metered runs, vCPU-hours, GB-hours and cost per
 * tenant, environment and day, from the day roll-ups (usage.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_cmds.h"
#include "cmd_usage_by.h"
#include "parse.h"
#include "sched_ctx.h"
#include "usage.h"
#include "util.h"

/* A line of the report: one day of one environment, an environment's days
 * together (day -1), or everything (env "ALL"). */
struct usage_row {
	char tenant[NAME_MAX_LEN];
	char env[ENV_KEY_LEN];
	int32_t day;
	uint64_t runs, succeeded, failed;
	int64_t vcpu_ms, gb_ms, cost;
};

/* "YYYY-MM-DD" -> its day number (days since 1970-01-01). */
static int parse_day(const char *s, int32_t *day)
{
	struct tm tm;
	int y, m, d;
	char extra;
	time_t t;

	if (strlen(s) != 10 ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 1970 ||
	    y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	/* timegm normalises 02-31 to 03-03: refuse dates that moved */
	gmtime_r(&t, &tm);
	if (tm.tm_mday != d)
		return -1;
	*day = (int32_t)(t / 86400);
	return 0;
}

static void format_day(int32_t day, char *buf, size_t len)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

static void sum_into(struct usage_row *row, uint64_t runs, uint64_t ok,
		     uint64_t failed, int64_t vcpu_ms, int64_t gb_ms,
		     int64_t cost)
{
	row->runs += runs;
	row->succeeded += ok;
	row->failed += failed;
	row->vcpu_ms = add_sat(row->vcpu_ms, vcpu_ms);
	row->gb_ms = add_sat(row->gb_ms, gb_ms);
	row->cost = add_sat(row->cost, cost);
}

static void add(struct usage_row *row, const struct usage_day *d)
{
	sum_into(row, d->runs, d->succeeded, d->failed, d->vcpu_ms, d->gb_ms,
		 d->cost);
}

static int cmp_rows(const void *a, const void *b)
{
	const struct usage_row *x = a, *y = b;
	int c = strcmp(x->tenant, y->tenant);
	if (!c)
		c = strcmp(x->env, y->env);
	if (!c)
		c = (x->day > y->day) - (x->day < y->day);
	return c;
}

/* The environment's subtotal row for row (rows are sorted), appended to
 * envs[*n] if it is a new environment. */
static struct usage_row *env_row(struct usage_row *envs, size_t *n,
				 const struct usage_row *row)
{
	if (*n && !strcmp(envs[*n - 1].tenant, row->tenant) &&
	    !strcmp(envs[*n - 1].env, row->env))
		return &envs[*n - 1];
	memset(&envs[*n], 0, sizeof(envs[*n]));
	memcpy(envs[*n].tenant, row->tenant, sizeof(row->tenant));
	memcpy(envs[*n].env, row->env, sizeof(row->env));
	envs[*n].day = -1;
	return &envs[(*n)++];
}

static void row_add(struct usage_row *to, const struct usage_row *from)
{
	sum_into(to, from->runs, from->succeeded, from->failed, from->vcpu_ms,
		 from->gb_ms, from->cost);
}

static int64_t per_success(const struct usage_row *u)
{
	return u->succeeded ? u->cost / (int64_t)u->succeeded : 0;
}

static void write_row(struct jw *w, const struct usage_row *u)
{
	char day[16];

	jw_str(w, "tenant", u->tenant);
	jw_str(w, "env", u->env);
	if (u->day >= 0) {
		format_day(u->day, day, sizeof(day));
		jw_str(w, "day", day);
	}
	jw_uint(w, "runs", u->runs);
	jw_uint(w, "succeeded", u->succeeded);
	jw_uint(w, "failed", u->failed);
	jw_hours(w, "vcpu_hours", u->vcpu_ms);
	jw_hours(w, "gb_hours", u->gb_ms);
	jw_usd(w, "cost", u->cost);
	if (u->succeeded)
		jw_usd(w, "cost_per_success", per_success(u));
	else
		jw_str(w, "cost_per_success", "-");
	jw_int(w, "cost_micro_usd", u->cost);
}

static void write_rows(struct jw *w, const char *key,
		       const struct usage_row *rows, size_t n)
{
	jw_arr_open(w, key);
	for (size_t i = 0; i < n; i++) {
		jw_obj_open(w, NULL);
		write_row(w, &rows[i]);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

static void csv_row(struct strbuf *sb, const struct usage_row *u)
{
	char day[16] = "ALL", cost[40], each[40] = "";

	if (u->day >= 0)
		format_day(u->day, day, sizeof(day));
	format_usd(u->cost, cost, sizeof(cost));
	if (u->succeeded)
		format_usd(per_success(u), each, sizeof(each));
	strbuf_addf(sb, "%s,%s,%s,%llu,%llu,%llu,%lld,%lld,%s,%s\n", u->tenant,
		    u->env, day, (unsigned long long)u->runs,
		    (unsigned long long)u->succeeded,
		    (unsigned long long)u->failed, (long long)u->vcpu_ms,
		    (long long)u->gb_ms, cost, each);
}

/* Days, then each environment's total (day ALL), then the total. */
static void write_csv(struct strbuf *sb, const struct usage_row *days,
		      size_t nd, const struct usage_row *envs, size_t ne,
		      const struct usage_row *total)
{
	strbuf_addstr(sb, "tenant,env,day,runs,succeeded,failed,vcpu_ms,gb_ms,"
			  "cost_usd,cost_per_success_usd\n");
	for (size_t i = 0; i < nd; i++)
		csv_row(sb, &days[i]);
	for (size_t i = 0; i < ne; i++)
		csv_row(sb, &envs[i]);
	csv_row(sb, total);
}

static void write_report(struct jw *w, const char *from, const char *to,
			 const struct usage_row *days, size_t nd,
			 const struct usage_row *envs, size_t ne,
			 const struct usage_row *total)
{
	jw_str(w, "from", from[0] ? from : NULL);
	jw_str(w, "to", to[0] ? to : NULL);
	jw_obj_open(w, "total");
	write_row(w, total);
	jw_obj_close(w);
	write_rows(w, "days", days, nd);
	jw_str(w, "title", "environments");
	write_rows(w, "items", envs, ne);
}

int cmd_usage(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	const char *tenant = a->npos ? a->pos[0] : NULL;
	const char *format = arg_str(a, "--format", "table");
	const char *by_s = arg_str(a, "--by", NULL);
	int by = -1;
	const char *from_s = arg_str(a, "--from", ""), *to_s = arg_str(a, "--to", "");
	const struct usage *u = &c->st->usage;
	int32_t from = INT32_MIN, to = INT32_MAX;
	struct usage_row *days, *envs, total;
	size_t nd = 0, ne = 0;
	char from_txt[16] = "", to_txt[16] = "";

	if (tenant && !state_tenant(c->st, tenant))
		return cmd_fail(r, "not_found", "no tenant '%.64s'", tenant);
	if (arg_set(a, "--from") && parse_day(from_s, &from))
		return cmd_fail(r, "invalid",
				"--from: '%.32s' is not a date (YYYY-MM-DD)",
				from_s);
	if (arg_set(a, "--to") && parse_day(to_s, &to))
		return cmd_fail(r, "invalid",
				"--to: '%.32s' is not a date (YYYY-MM-DD)", to_s);
	if (from > to)
		return cmd_fail(r, "invalid", "--from must not be after --to");
	if (strcmp(format, "table") && strcmp(format, "json") &&
	    strcmp(format, "csv"))
		return cmd_fail(r, "invalid",
				"--format: '%.32s' must be table, json or csv",
				format);
	if (by_s && (by = usage_by_parse(by_s)) < 0)
		return cmd_fail(r, "invalid",
				"--by: '%.32s' must be job, user, env or day",
				by_s);
	if (by >= 0) {
		struct usage_span sp = { tenant, from, to, "", "", format };
		if (from != INT32_MIN)
			format_day(from, sp.from_txt, sizeof(sp.from_txt));
		if (to != INT32_MAX)
			format_day(to, sp.to_txt, sizeof(sp.to_txt));
		return cmd_usage_by(c, a, r, &sp, by);
	}
	days = xcalloc(u->days.n + 1, sizeof(*days));
	for (size_t i = 0; i < u->days.n; i++) {
		const struct usage_day *d = u->days.v[i];
		if ((tenant && strcmp(d->tenant, tenant)) || d->day < from ||
		    d->day > to /* --to is inclusive */ ||
		    !cmd_sees(a, d->tenant)) /* totals too: what it sees */
			continue;
		memcpy(days[nd].tenant, d->tenant, sizeof(d->tenant));
		snprintf(days[nd].env, sizeof(days[nd].env), "%s/%s", d->tenant,
			 d->env);
		days[nd].day = d->day;
		add(&days[nd++], d);
	}
	qsort(days, nd, sizeof(*days), cmp_rows);
	envs = xcalloc(nd + 1, sizeof(*envs));
	memset(&total, 0, sizeof(total));
	snprintf(total.tenant, sizeof(total.tenant), "%s", tenant ? tenant : "ALL");
	snprintf(total.env, sizeof(total.env), "ALL");
	total.day = -1;
	for (size_t i = 0; i < nd; i++) {
		row_add(env_row(envs, &ne, &days[i]), &days[i]);
		row_add(&total, &days[i]);
	}
	if (from != INT32_MIN)
		format_day(from, from_txt, sizeof(from_txt));
	if (to != INT32_MAX)
		format_day(to, to_txt, sizeof(to_txt));
	if (strcmp(format, "table")) {
		struct strbuf sb = STRBUF_INIT;
		if (!strcmp(format, "csv")) {
			write_csv(&sb, days, nd, envs, ne, &total);
		} else {
			struct jw w;
			jw_init(&w, &sb);
			jw_obj_open(&w, NULL);
			write_report(&w, from_txt, to_txt, days, nd, envs, ne,
				     &total);
			jw_obj_close(&w);
		}
		jw_str(&r->w, "print", sb.buf);
		strbuf_release(&sb);
	}
	write_report(&r->w, from_txt, to_txt, days, nd, envs, ne, &total);
	free(days);
	free(envs);
	return 0;
}
