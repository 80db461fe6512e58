/* cmd_run_list.c - run list: the runs a caller sees, filtered, one page
 * at a time.
 *
 * The runs are in memory (st->runs, by id), or read back from the store
 * for an ended one kept only there (runstore.h), so a filter is a scan of
 * ids from a cursor; a read from the store counts as STORED_READ_COST
 * ids. A filter that matches few of millions of runs would
 * hold the core thread for the whole scan, so one request examines at
 * most run_list_scan_max ids (config.h, RUN_LIST_SCAN_MAX): when that
 * stops the scan before --limit rows were found, the reply has the rows
 * found, "complete": false and the cursor to go on from; spctl asks again
 * from there, and the core serves other events between its requests. */
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin_cmds.h"
#include "parse.h"
#include "runstore.h"
#include "sched_ctx.h"
#include "util.h"

/* Labels beyond the run states: run_state_label's "waiting", "skipped". */
#define LABEL_WAITING RUN_STATE_COUNT
#define LABEL_SKIPPED (RUN_STATE_COUNT + 1)

enum creator_kind { BY_ANYONE, BY_CREATOR, BY_SCHEDULE };

struct run_filter {
	const char *tenant;
	const char *env;      /* "tenant/env" */
	const char *job;      /* "tenant/env/job" */
	unsigned labels;      /* bit per label; 0: any */
	enum creator_kind by;
	uint16_t creator;     /* BY_CREATOR: 0 matches nothing */
	uint64_t schedule;    /* BY_SCHEDULE, or --schedule (0: any) */
	int64_t since, until; /* created in [since, until) */
	const char *class;
	/* the caller's view, cached per job (runs of one job come in runs) */
	const struct cmd_args *a;
	bool sees_all;
	const struct job *last_job;
	bool last_seen;
};

static unsigned label_bit(const struct run *r)
{
	if (r->state == RUN_QUEUED && r->waiting)
		return 1u << LABEL_WAITING;
	if (r->state == RUN_CANCELLED && r->skipped)
		return 1u << LABEL_SKIPPED;
	return 1u << r->state;
}

static bool sees(struct run_filter *f, const struct run *r)
{
	if (f->sees_all)
		return true;
	if (r->job != f->last_job) {
		f->last_job = r->job;
		f->last_seen = cmd_sees(f->a, run_tenant(r));
	}
	return f->last_seen;
}

static bool run_matches(struct run_filter *f, const struct run *r)
{
	bool by_schedule = r->x && r->x->schedule;

	if (f->labels && !(f->labels & label_bit(r)))
		return false;
	if (r->created_ms < f->since || r->created_ms >= f->until)
		return false;
	if (f->tenant && strcmp(run_tenant(r), f->tenant))
		return false;
	if (f->env && strcmp(run_env(r), f->env))
		return false;
	if (f->job && strcmp(r->job->key, f->job))
		return false;
	if (f->class && strcmp(str_or_empty(run_detail(r)->failure_class),
			       f->class))
		return false;
	if (f->schedule && (!by_schedule || r->x->schedule != f->schedule))
		return false;
	if (f->by == BY_CREATOR && (by_schedule || !f->creator ||
				    r->creator != f->creator))
		return false;
	return sees(f, r);
}

/* --state S[,S...]: each a label run_state_label gives. */
static int parse_labels(const char *s, unsigned *out, struct reply *r)
{
	char buf[256], *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return cmd_fail(r, "invalid", "--state: too long");
	snprintf(buf, sizeof(buf), "%s", s);
	*out = 0;
	for (char *w = strtok_r(buf, ",", &save); w;
	     w = strtok_r(NULL, ",", &save)) {
		int st = run_state_parse(w);
		if (!strcmp(w, "waiting"))
			st = LABEL_WAITING;
		else if (!strcmp(w, "skipped"))
			st = LABEL_SKIPPED;
		if (st < 0)
			return cmd_fail(r, "invalid",
					"--state: unknown state '%.32s'", w);
		*out |= 1u << st;
	}
	if (!*out)
		return cmd_fail(r, "invalid", "--state: no state given");
	return 0;
}

/* user:NAME -> "uid:N". The lookup is the caller's passwd database
 * (files, usually): the scheduler records creators by uid only. */
static int user_uid(const char *name, char *buf, size_t len, struct reply *r)
{
	struct passwd pw, *found = NULL;
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	char *mem;
	int rc;

	if (sz < 1024)
		sz = 16384;
	mem = xmalloc((size_t)sz);
	rc = getpwnam_r(name, &pw, mem, (size_t)sz, &found);
	if (!rc && found)
		snprintf(buf, len, "uid:%u", (unsigned)pw.pw_uid);
	free(mem);
	if (rc || !found)
		return cmd_fail(r, "invalid", "--created-by: no user '%.64s'",
				name);
	return 0;
}

/* --created-by uid:N | user:NAME | schedule:ID */
static int parse_creator(struct sched *c, const char *s,
			 struct run_filter *f, struct reply *r)
{
	char who[96];
	uint64_t n;

	if (!strncmp(s, "schedule:", 9)) {
		if (parse_u64(s + 9, 1, INT64_MAX, &n, NULL, 0))
			goto bad;
		f->by = BY_SCHEDULE;
		if (f->schedule && f->schedule != n)
			f->schedule = UINT64_MAX; /* both: nothing matches */
		else
			f->schedule = n;
		return 0;
	}
	if (!strncmp(s, "user:", 5)) {
		if (user_uid(s + 5, who, sizeof(who), r))
			return -1;
	} else if (!strncmp(s, "uid:", 4) &&
		   !parse_u64(s + 4, 0, UINT32_MAX, &n, NULL, 0)) {
		snprintf(who, sizeof(who), "uid:%" PRIu64, n);
	} else {
		goto bad;
	}
	f->by = BY_CREATOR;
	f->creator = state_creator_find(c->st, who);
	return 0;
bad:
	return cmd_fail(r, "invalid",
			"--created-by: '%.64s' is not uid:N, user:NAME or "
			"schedule:ID", s);
}

static int parse_time_flag(const struct cmd_args *a, const char *flag,
			   int64_t *ms, struct reply *r)
{
	const char *s = arg_str(a, flag, NULL);

	if (s && parse_utc_time(s, ms))
		return cmd_fail(r, "invalid",
				"%s: '%.64s' is not a date (YYYY-MM-DD) or "
				"time (YYYY-MM-DDTHH:MM:SSZ)", flag, s);
	return 0;
}

/* --tenant, --env, --job: each must name something the caller sees (one
 * it may not see is one that does not exist). */
static int parse_scope(struct sched *c, const struct cmd_args *a,
		       struct run_filter *f, struct reply *r)
{
	const struct env *e;
	const struct job *j;

	f->tenant = arg_str(a, "--tenant", NULL);
	f->env = arg_str(a, "--env", NULL);
	f->job = arg_str(a, "--job", NULL);
	if (f->tenant &&
	    (!state_tenant(c->st, f->tenant) || !cmd_sees(a, f->tenant)))
		return cmd_fail(r, "not_found", "no tenant '%.64s'", f->tenant);
	if (f->env && (!(e = state_env(c->st, f->env)) ||
		       !cmd_sees(a, e->tenant)))
		return cmd_fail(r, "not_found", "no environment '%.128s'",
				f->env);
	if (f->job && (!(j = state_job(c->st, f->job)) ||
		       !cmd_sees(a, j->tenant)))
		return cmd_fail(r, "not_found", "no job '%.192s'", f->job);
	return 0;
}

static int parse_filter(struct sched *c, const struct cmd_args *a,
			struct run_filter *f, struct reply *r)
{
	const char *s;

	memset(f, 0, sizeof(*f));
	f->a = a;
	f->sees_all = cmd_sees_all(a);
	f->since = INT64_MIN;
	f->until = INT64_MAX;
	f->schedule = (uint64_t)arg_num(a, "--schedule", 0);
	f->class = arg_str(a, "--class", NULL);
	if ((s = arg_str(a, "--state", NULL)) && parse_labels(s, &f->labels, r))
		return -1;
	if ((s = arg_str(a, "--created-by", NULL)) &&
	    parse_creator(c, s, f, r))
		return -1;
	if (parse_time_flag(a, "--since", &f->since, r) ||
	    parse_time_flag(a, "--until", &f->until, r))
		return -1;
	return parse_scope(c, a, f, r);
}

static void write_run_row(struct sched *c, struct jw *w, const struct run *r)
{
	char by[64];

	jw_uint(w, "id", r->id);
	jw_str(w, "job", r->job->key);
	jw_str(w, "state", run_state_label(r));
	jw_uint(w, "attempt", r->attempt);
	jw_str(w, "agent", run_agent(r)[0] ? run_agent(r) : NULL);
	jw_time(w, "created", r->created_ms);
	run_created_by(c->st, r, by, sizeof(by));
	jw_str(w, "created_by", by[0] ? by : NULL);
	jw_str(w, "class", run_detail(r)->failure_class);
}

/* A run kept only in the store is read back to be matched (runstore.h):
 * each costs the scan this many ids of the bound. */
#define STORED_READ_COST 64

/* One page: ids from the cursor, newest first unless oldest, until
 * limit rows, the end of the ids, or scan_max ids examined. */
struct page {
	uint64_t after;  /* the cursor: 0 = from the start */
	bool oldest;
	size_t limit, scan_max;
	/* out */
	struct run **rows;
	size_t n, examined;
	uint64_t last;   /* the last id examined */
	bool at_end;     /* no id left beyond last */
	struct ptrvec read; /* rows read from the store: freed after */
	uint64_t unreadable; /* a stored run that could not be read, or 0 */
};

/* Stored run id if it matches f (a copy the page owns), else NULL; sets
 * p->unreadable if it cannot be read. */
static struct run *stored_match(struct sched *c, struct run_filter *f,
				struct page *p, uint64_t id)
{
	struct run *r = xmalloc(sizeof(*r));
	int rc = runstore_read(c, id, r);

	if (rc == 1) {
		if (run_matches(f, r)) {
			ptrvec_push(&p->read, r);
			return r;
		}
		run_clear(r);
	}
	if (rc < 0)
		p->unreadable = id;
	free(r);
	return NULL;
}

static void scan_page(struct sched *c, struct run_filter *f, struct page *p)
{
	uint64_t nruns = c->st->nruns, id;

	if (p->oldest)
		id = p->after + 1;
	else
		id = p->after && p->after <= nruns ? p->after - 1 : nruns;
	p->last = p->after;
	while (id >= 1 && id <= nruns && p->n < p->limit &&
	       p->examined < p->scan_max) {
		struct run *r = c->st->runs[id - 1];
		if (!r && state_run_stored(c->st, id)) {
			if (p->examined && p->examined + STORED_READ_COST >
						   p->scan_max)
				break; /* the next request reads it */
			p->examined += STORED_READ_COST - 1;
			r = stored_match(c, f, p, id);
			if (p->unreadable)
				break;
		} else if (r && !run_matches(f, r)) {
			r = NULL;
		}
		p->examined++;
		p->last = id;
		if (r)
			p->rows[p->n++] = r;
		id = p->oldest ? id + 1 : id - 1;
	}
	p->at_end = id < 1 || id > nruns;
}

int cmd_run_list(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct run_filter f;
	struct page p = {
		.after = (uint64_t)arg_num(a, "--after-id", 0),
		.oldest = arg_set(a, "--oldest-first"),
		.limit = (size_t)arg_num(a, "--limit", 100),
		.scan_max = (size_t)c->cfg->run_list_scan_max,
	};
	bool complete;

	if (parse_filter(c, a, &f, r))
		return -1;
	p.rows = xcalloc(p.limit, sizeof(*p.rows));
	scan_page(c, &f, &p);
	if (p.unreadable) {
		cmd_fail(r, "unavailable", "run %llu is kept only in the store, "
			 "and its record cannot be read now (see the "
			 "scheduler's log)", (unsigned long long)p.unreadable);
		goto out;
	}
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < p.n; i++) {
		jw_obj_open(&r->w, NULL);
		write_run_row(c, &r->w, p.rows[i]);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	/* complete: this page has all it can (limit rows, or the end of the
	 * runs); else the bound stopped it and the next request goes on
	 * from next_after_id. */
	complete = p.n == p.limit || p.at_end;
	jw_bool(&r->w, "complete", complete);
	if (p.at_end)
		jw_null(&r->w, "next_after_id");
	else
		jw_uint(&r->w, "next_after_id", p.last);
	jw_uint(&r->w, "examined", p.examined);
out:
	free(p.rows);
	for (size_t i = 0; i < p.read.n; i++) {
		run_clear(p.read.v[i]);
		free(p.read.v[i]);
	}
	ptrvec_release(&p.read);
	return p.unreadable ? -1 : 0;
}
