/* cmd_schedule.c - spctl schedule add | list | show | pause | resume |
 * delete (docs/operator-guide.md, Schedules). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_cmds.h"
#include "log.h"
#include "parse.h"
#include "run_args.h"
#include "sched_ctx.h"
#include "schedule_core.h"
#include "util.h"

/* --then JOB2,JOB3: names of existing jobs of job's environment, each
 * once. 0, or -1 with the refusal in r. */
static int check_then(struct sched *c, const struct job *j, const char *list,
		      struct reply *r)
{
	char buf[SCHEDULE_THEN_LEN], key[JOB_KEY_LEN], why[128], *save = NULL;
	const char *seen[SCHEDULE_THEN_MAX];
	int n = 0;

	if (strlen(list) >= sizeof(buf))
		return cmd_fail(r, "invalid", "--then: the list is too long");
	if (!list[0] || list[0] == ',' || list[strlen(list) - 1] == ',' ||
	    strstr(list, ",,"))
		return cmd_fail(r, "invalid",
				"--then '%.64s': want JOB[,JOB...]", list);
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *w = strtok_r(buf, ",", &save); w;
	     w = strtok_r(NULL, ",", &save)) {
		const struct job *t;
		if (n == SCHEDULE_THEN_MAX)
			return cmd_fail(r, "invalid", "--then names more than "
					"%d jobs", SCHEDULE_THEN_MAX);
		if (name_reason(w, why, sizeof(why)))
			return cmd_fail(r, "invalid", "--then: %s", why);
		for (int i = 0; i < n; i++)
			if (!strcmp(seen[i], w))
				return cmd_fail(r, "invalid", "--then names "
						"job '%s' twice", w);
		snprintf(key, sizeof(key), "%s/%s", j->env, w);
		t = state_job(c->st, key);
		if (!t || t->deleted_ms)
			return cmd_fail(r, "not_found", "--then: no job '%s' "
					"in environment '%s'", w, j->env);
		seen[n++] = w;
	}
	return 0;
}

/* Another schedule that fires the same job at the same times. */
static const struct schedule_def *same_as(struct sched *c,
					  const struct schedule_def *d)
{
	struct schedule_core *sc = c->schedules;

	for (size_t i = 0; i < sc->defs.n; i++) {
		const struct schedule_def *o = sc->defs.v[i];
		if (!strcmp(o->job, d->job) && !strcmp(o->cron, d->cron) &&
		    !strcmp(o->zone, d->zone))
			return o;
	}
	return NULL;
}

/* The flags of schedule add into d (zeroed, job set). 0 / -1 with r. */
static int read_flags(const struct cmd_args *a, struct schedule_def *d,
		      struct reply *r)
{
	const char *conc = arg_str(a, "--concurrency", "allow");
	const char *catchup = arg_str(a, "--catch-up", "last");
	char err[256];

	if (!arg_set(a, "--cron"))
		return cmd_fail(r, "invalid", "--cron 'MIN HOUR DOM MON DOW' "
				"is required");
	if (strlen(arg_str(a, "--cron", "")) >= sizeof(d->cron))
		return cmd_fail(r, "invalid", "--cron: longer than %d "
				"characters", CRON_EXPR_MAX - 1);
	snprintf(d->cron, sizeof(d->cron), "%s", arg_str(a, "--cron", ""));
	if (strlen(arg_str(a, "--timezone", "UTC")) >= sizeof(d->zone))
		return cmd_fail(r, "invalid", "--timezone: longer than %d "
				"characters", TZONE_NAME_MAX - 1);
	snprintf(d->zone, sizeof(d->zone), "%s",
		 arg_str(a, "--timezone", "UTC"));
	if (schedule_core_compile(d, err, sizeof(err)))
		return cmd_fail(r, "invalid", "%s", err);
	if ((d->concurrency = schedule_concurrency_parse(conc)) < 0)
		return cmd_fail(r, "invalid", "--concurrency '%.32s': want "
				"allow, forbid or replace", conc);
	if ((d->catchup = schedule_catchup_parse(catchup)) < 0)
		return cmd_fail(r, "invalid", "--catch-up '%.32s': want none, "
				"last or all", catchup);
	if (arg_set(a, "--starting-deadline") &&
	    schedule_parse_duration(arg_str(a, "--starting-deadline", ""),
				    &d->deadline_ms, err, sizeof(err)))
		return cmd_fail(r, "invalid", "--starting-deadline: %s", err);
	return 0;
}

int cmd_schedule_add(struct sched *c, const struct cmd_args *a,
		     struct reply *r)
{
	struct job *j = state_job(c->st, a->pos[0]);
	struct schedule_def *d;
	const struct schedule_def *dup;
	char err[320];

	if (!j || j->deleted_ms)
		return cmd_fail(r, "not_found", "no job '%.192s'", a->pos[0]);
	d = xcalloc(1, sizeof(*d));
	snprintf(d->job, sizeof(d->job), "%s", j->key);
	snprintf(d->tenant, sizeof(d->tenant), "%s", j->tenant);
	if (read_flags(a, d, r) ||
	    (arg_set(a, "--then") &&
	     check_then(c, j, arg_str(a, "--then", ""), r)))
		goto fail;
	snprintf(d->then, sizeof(d->then), "%s", arg_str(a, "--then", ""));
	if (a->nrest > RUN_MAX_EXTRA_ARGS) {
		cmd_fail(r, "invalid", "more than %d extra arguments",
			 RUN_MAX_EXTRA_ARGS);
		goto fail;
	}
	/* the arguments are checked now, with no parameters: a firing has
	 * none, so each placeholder must be a built-in */
	if (run_args_check(j, NULL, 0, (const char *const *)a->rest,
			   (uint32_t)a->nrest, err, sizeof(err))) {
		cmd_fail(r, "invalid", "%s", err);
		goto fail;
	}
	if ((dup = same_as(c, d))) {
		cmd_fail(r, "conflict", "schedule %" PRIu64 " already starts "
			 "'%s' at '%s' (%s)", dup->id, d->job, d->cron,
			 d->zone);
		goto fail;
	}
	if (schedule_core_count(c, d->tenant) >= SCHEDULE_MAX_PER_TENANT) {
		cmd_fail(r, "quota_exceeded", "tenant '%s' has %d schedules, "
			 "the most it may", d->tenant, SCHEDULE_MAX_PER_TENANT);
		goto fail;
	}
	d->args = xcalloc((size_t)a->nrest + 1, sizeof(char *));
	for (int i = 0; i < a->nrest; i++)
		d->args[d->nargs++] = xstrdup(a->rest[i]);
	cmd_actor(a, d->created_by, sizeof(d->created_by));
	schedule_core_add(c, d);
	log_info("schedule %" PRIu64 " added: %s at '%s' (%s)", d->id, d->job,
		 d->cron, d->zone);
	jw_strf_print(&r->w, "%" PRIu64, d->id);
	jw_uint(&r->w, "schedule", d->id);
	jw_time(&r->w, "next", d->next_ms == INT64_MAX ? 0 : d->next_ms);
	return 0;
fail:
	schedule_def_release(d);
	free(d);
	return -1;
}

/* ms as local wall time in d's zone, with its offset:
 * "2026-03-29T03:00:00+02:00". */
static void local_time(const struct schedule_def *d, int64_t ms, char *buf,
		       size_t len)
{
	/* no zone: it did not load at the start (never fires then) */
	int32_t off = d->tz ? tzone_offset(d->tz, ms / 1000) : 0;
	time_t t = (time_t)(ms / 1000 + off);
	struct tm tm;
	char date[32];
	int a = off < 0 ? -off : off;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s%c%02d:%02d", date, off < 0 ? '-' : '+',
		 a / 3600, a % 3600 / 60);
}

static void write_summary(struct jw *w, const struct schedule_def *d)
{
	jw_uint(w, "id", d->id);
	jw_str(w, "job", d->job);
	jw_str(w, "cron", d->cron);
	jw_str(w, "timezone", d->zone);
	jw_str(w, "concurrency", schedule_concurrency_name(d->concurrency));
	jw_str(w, "catch_up", schedule_catchup_name(d->catchup));
	jw_bool(w, "paused", d->paused);
	if (d->paused || d->next_ms == INT64_MAX)
		jw_null(w, "next");
	else
		jw_time(w, "next", d->next_ms);
	jw_time(w, "last_fired", d->last_fired_ms);
}

int cmd_schedule_list(struct sched *c, const struct cmd_args *a,
		      struct reply *r)
{
	const char *only = arg_str(a, "--tenant", NULL);
	struct schedule_core *sc = c->schedules;

	if (only && (!state_tenant(c->st, only) || !cmd_sees(a, only)))
		return cmd_fail(r, "not_found", "no tenant '%.64s'", only);
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < sc->defs.n; i++) {
		const struct schedule_def *d = sc->defs.v[i];
		if ((only && strcmp(d->tenant, only)) ||
		    !cmd_sees(a, d->tenant))
			continue;
		jw_obj_open(&r->w, NULL);
		write_summary(&r->w, d);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	return 0;
}

static struct schedule_def *schedule_arg(struct sched *c,
					 const struct cmd_args *a,
					 struct reply *r)
{
	struct schedule_def *d = schedule_core_find_word(c, a->pos[0]);

	if (!d || !cmd_sees(a, d->tenant)) {
		cmd_fail(r, "not_found", "no schedule '%.64s'", a->pos[0]);
		return NULL;
	}
	return d;
}

int cmd_schedule_show(struct sched *c, const struct cmd_args *a,
		      struct reply *r)
{
	struct schedule_def *d = schedule_arg(c, a, r);
	char buf[64];

	if (!d)
		return -1;
	jw_obj_open(&r->w, "schedule");
	write_summary(&r->w, d);
	jw_str(&r->w, "starting_deadline",
	       d->deadline_ms ? schedule_format_duration(d->deadline_ms, buf,
							 sizeof(buf))
			      : "none");
	jw_str(&r->w, "then", d->then[0] ? d->then : NULL);
	jw_uint(&r->w, "extra_args", (uint64_t)d->nargs);
	jw_time(&r->w, "created", d->created_ms);
	jw_str(&r->w, "created_by", d->created_by);
	if (!d->paused && d->next_ms != INT64_MAX) {
		local_time(d, d->next_ms, buf, sizeof(buf));
		jw_str(&r->w, "next_local", buf);
	} else {
		jw_null(&r->w, "next_local");
	}
	if (d->last_fired_ms) {
		local_time(d, d->last_fired_ms, buf, sizeof(buf));
		jw_str(&r->w, "last_fired_local", buf);
		jw_uint(&r->w, "last_run", d->nlast ? d->last_runs[0] : 0);
	} else {
		jw_null(&r->w, "last_fired_local");
		jw_null(&r->w, "last_run");
	}
	jw_arr_open(&r->w, "last_runs");
	for (uint32_t i = 0; i < d->nlast; i++)
		jw_uint(&r->w, NULL, d->last_runs[i]);
	jw_arr_close(&r->w);
	jw_time(&r->w, "cursor", d->cursor_ms);
	jw_uint(&r->w, "fired", d->fired);
	jw_uint(&r->w, "skipped", d->skipped);
	jw_uint(&r->w, "missed", d->missed);
	jw_uint(&r->w, "refused", d->refused);
	jw_str(&r->w, "last_error", d->last_error[0] ? d->last_error : NULL);
	jw_time(&r->w, "last_error_at", d->last_error_ms);
	jw_obj_close(&r->w);
	return 0;
}

static int set_paused(struct sched *c, const struct cmd_args *a,
		      struct reply *r, bool paused)
{
	struct schedule_def *d = schedule_arg(c, a, r);

	if (!d)
		return -1;
	if (d->paused != paused) {
		schedule_core_set_paused(c, d, paused);
		log_info("schedule %" PRIu64 " %s", d->id,
			 paused ? "paused" : "resumed");
	}
	jw_uint(&r->w, "schedule", d->id);
	jw_bool(&r->w, "paused", d->paused);
	jw_strf_print(&r->w, "schedule %" PRIu64 " %s", d->id,
		      paused ? "paused" : "resumed");
	return 0;
}

int cmd_schedule_pause(struct sched *c, const struct cmd_args *a,
		       struct reply *r)
{
	return set_paused(c, a, r, true);
}

int cmd_schedule_resume(struct sched *c, const struct cmd_args *a,
			struct reply *r)
{
	return set_paused(c, a, r, false);
}

int cmd_schedule_delete(struct sched *c, const struct cmd_args *a,
			struct reply *r)
{
	struct schedule_def *d = schedule_arg(c, a, r);
	uint64_t id;

	if (!d)
		return -1;
	id = d->id;
	schedule_core_remove(c, d); /* its runs stay */
	log_info("schedule %" PRIu64 " deleted", id);
	jw_uint(&r->w, "schedule", id);
	jw_strf_print(&r->w, "schedule %" PRIu64 " deleted", id);
	return 0;
}
