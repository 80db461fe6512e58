/* cmd_usage_by.c - `usage --by job|user|env|day`: one row per group over
 * the days asked for, the way sacct groups, from the roll-ups (usage.h):
 * env and day from the environments' days, job and user from the groups. */
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

enum by { BY_JOB, BY_USER, BY_ENV, BY_DAY };

static const char *const by_names[] = { "job", "user", "env", "day" };

struct group_row {
	char tenant[NAME_MAX_LEN];
	char group[JOB_KEY_LEN]; /* "T/E/J", "uid:N", "T/E", "YYYY-MM-DD" */
	uint64_t runs, succeeded, failed;
	int64_t vcpu_ms, gb_ms, cost;
};

int usage_by_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(by_names); i++)
		if (!strcmp(s, by_names[i]))
			return (int)i;
	return -1;
}

static void group_of(enum by by, const struct usage_day *d, char *buf,
		     size_t len)
{
	time_t t = (time_t)d->day * 86400;
	struct tm tm;

	switch (by) {
	case BY_JOB:
		snprintf(buf, len, "%s/%s/%s", d->tenant, d->env, d->name);
		break;
	case BY_USER: /* runs from before creators were recorded */
		snprintf(buf, len, "%s", d->name[0] ? d->name : "unknown");
		break;
	case BY_ENV:
		snprintf(buf, len, "%s/%s", d->tenant, d->env);
		break;
	case BY_DAY:
		gmtime_r(&t, &tm);
		strftime(buf, len, "%Y-%m-%d", &tm);
		break;
	}
}

static void row_add(struct group_row *to, const struct group_row *from)
{
	to->runs += from->runs;
	to->succeeded += from->succeeded;
	to->failed += from->failed;
	to->vcpu_ms = add_sat(to->vcpu_ms, from->vcpu_ms);
	to->gb_ms = add_sat(to->gb_ms, from->gb_ms);
	to->cost = add_sat(to->cost, from->cost);
}

static int cmp_rows(const void *a, const void *b)
{
	const struct group_row *x = a, *y = b;
	int c = strcmp(x->tenant, y->tenant);
	return c ? c : strcmp(x->group, y->group);
}

/* Sorted rows merged: one per (tenant, group); returns how many. */
static size_t merge(struct group_row *rows, size_t n)
{
	size_t out = 0;

	qsort(rows, n, sizeof(*rows), cmp_rows);
	for (size_t i = 0; i < n; i++) {
		if (out && !cmp_rows(&rows[out - 1], &rows[i]))
			row_add(&rows[out - 1], &rows[i]);
		else
			rows[out++] = rows[i];
	}
	return out;
}

static void write_row(struct jw *w, const char *by,
		      const struct group_row *g)
{
	jw_str(w, "tenant", g->tenant);
	jw_str(w, by, g->group);
	jw_uint(w, "runs", g->runs);
	jw_uint(w, "succeeded", g->succeeded);
	jw_uint(w, "failed", g->failed);
	jw_hours(w, "vcpu_hours", g->vcpu_ms);
	jw_hours(w, "gb_hours", g->gb_ms);
	jw_usd(w, "cost", g->cost);
	if (g->succeeded)
		jw_usd(w, "cost_per_success", g->cost / (int64_t)g->succeeded);
	else
		jw_str(w, "cost_per_success", "-");
	jw_int(w, "cost_micro_usd", g->cost);
}

static void write_report(struct jw *w, const struct usage_span *sp,
			 const char *by, const struct group_row *rows,
			 size_t n, const struct group_row *total)
{
	jw_str(w, "from", sp->from_txt[0] ? sp->from_txt : NULL);
	jw_str(w, "to", sp->to_txt[0] ? sp->to_txt : NULL);
	jw_str(w, "by", by);
	jw_obj_open(w, "total");
	write_row(w, by, total);
	jw_obj_close(w);
	jw_arr_open(w, "items");
	for (size_t i = 0; i < n; i++) {
		jw_obj_open(w, NULL);
		write_row(w, by, &rows[i]);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

static void csv_row(struct strbuf *sb, const struct group_row *g)
{
	char cost[40], each[40] = "";

	format_usd(g->cost, cost, sizeof(cost));
	if (g->succeeded)
		format_usd(g->cost / (int64_t)g->succeeded, each, sizeof(each));
	strbuf_addf(sb, "%s,%s,%llu,%llu,%llu,%lld,%lld,%s,%s\n", g->tenant,
		    g->group, (unsigned long long)g->runs,
		    (unsigned long long)g->succeeded,
		    (unsigned long long)g->failed, (long long)g->vcpu_ms,
		    (long long)g->gb_ms, cost, each);
}

static void write_print(struct reply *r, const struct usage_span *sp,
			const char *by, const struct group_row *rows,
			size_t n, const struct group_row *total)
{
	struct strbuf sb = STRBUF_INIT;

	if (!strcmp(sp->format, "csv")) {
		strbuf_addf(&sb, "tenant,%s,runs,succeeded,failed,vcpu_ms,"
				 "gb_ms,cost_usd,cost_per_success_usd\n", by);
		for (size_t i = 0; i < n; i++)
			csv_row(&sb, &rows[i]);
		csv_row(&sb, total);
	} else {
		struct jw w;
		jw_init(&w, &sb);
		jw_obj_open(&w, NULL);
		write_report(&w, sp, by, rows, n, total);
		jw_obj_close(&w);
	}
	jw_str(&r->w, "print", sb.buf);
	strbuf_release(&sb);
}

int cmd_usage_by(struct sched *c, const struct cmd_args *a, struct reply *r,
		 const struct usage_span *sp, int by)
{
	const struct usage *u = &c->st->usage;
	const struct ptrvec *src = by == BY_JOB || by == BY_USER ? &u->groups
								 : &u->days;
	enum usage_kind want = by == BY_JOB    ? USAGE_JOB
			       : by == BY_USER ? USAGE_USER
					       : USAGE_ENV;
	struct group_row *rows = xcalloc(src->n + 1, sizeof(*rows)), total;
	size_t n = 0;

	for (size_t i = 0; i < src->n; i++) {
		const struct usage_day *d = src->v[i];
		struct group_row *g = &rows[n];
		if (d->kind != want || (sp->tenant && strcmp(d->tenant, sp->tenant)) ||
		    d->day < sp->from || d->day > sp->to ||
		    !cmd_sees(a, d->tenant))
			continue;
		memcpy(g->tenant, d->tenant, sizeof(d->tenant));
		group_of((enum by)by, d, g->group, sizeof(g->group));
		g->runs = d->runs;
		g->succeeded = d->succeeded;
		g->failed = d->failed;
		g->vcpu_ms = d->vcpu_ms;
		g->gb_ms = d->gb_ms;
		g->cost = d->cost;
		n++;
	}
	n = merge(rows, n);
	memset(&total, 0, sizeof(total));
	snprintf(total.tenant, sizeof(total.tenant), "%s",
		 sp->tenant ? sp->tenant : "ALL");
	snprintf(total.group, sizeof(total.group), "ALL");
	for (size_t i = 0; i < n; i++)
		row_add(&total, &rows[i]);
	if (strcmp(sp->format, "table"))
		write_print(r, sp, by_names[by], rows, n, &total);
	write_report(&r->w, sp, by_names[by], rows, n, &total);
	free(rows);
	return 0;
}
