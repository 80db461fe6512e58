/* sim_sched.c - recurring schedules in the deterministic simulation
 * (sim_sched.h). */
#include "sim_sched.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "schedule.h"
#include "util.h"

#define MIN_MS 60000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
/* 2026-01-01T00:00:00Z to a year later */
#define YEAR_START 1767225600000LL
#define YEAR_MS (365 * DAY_MS)
#define NSCHED 3
#define MAX_LIVE 4096

/* Expressions the seeds draw from: hourly, the night's DST hours (a
 * daily 02:30 the spring change skips, Sundays 01:00-03:00 across both
 * changes), several a day, monthly, working hours. */
static const char *const exprs[] = {
	"0 * * * *",      "30 2 * * *",       "0 1-3 * * 0",
	"15 */6 * * *",   "0 0 1 * *",        "*/20 8-18 * * 1-5",
	"45 1,2,3 * * *",
};

struct ssched {
	uint64_t id;
	struct cron_spec spec;
	int conc, catchup;
	int64_t deadline_ms;
	bool paused;
	int64_t cursor, stored_cursor; /* in memory; as persisted */
	int64_t watch;
	int64_t last_fired;            /* the latest time fired (set check) */
	uint64_t fired, skipped, missed, handled;
	uint64_t prev_runs[1];         /* the last firing's run */
	uint32_t nprev;
	uint64_t live[MAX_LIVE];       /* its runs not seen ended */
	size_t nlive;
	int64_t replay_t;              /* a time fired, to fire again */
	uint64_t replay_run;
};

struct sworld {
	uint64_t rng;
	struct sched_state st;
	struct policy_limits lim;
	struct policy p;
	struct job *job;
	const struct tzone *z;
	struct ssched s[NSCHED];
	int64_t now;
	uint64_t step;
	char *msg;
	size_t len;
	bool failed;
};

static uint64_t rnd(struct sworld *w)
{
	uint64_t x = w->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct sworld *w, uint64_t n)
{
	return n ? rnd(w) % n : 0;
}

static int bad(struct sworld *w, const struct ssched *s, const char *fmt,
	       ...) SP_PRINTF(3, 4);
static int bad(struct sworld *w, const struct ssched *s, const char *fmt,
	       ...)
{
	va_list ap;
	int n;

	if (w->failed)
		return -1;
	w->failed = true;
	n = snprintf(w->msg, w->len, "step %" PRIu64 ", schedule %" PRIu64
		     " (now %" PRId64 "): ", w->step, s ? s->id : 0, w->now);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < w->len)
		vsnprintf(w->msg + n, w->len - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void build(struct sworld *w)
{
	struct tenant *t = xcalloc(1, sizeof(*t));
	struct env *e = xcalloc(1, sizeof(*e));
	struct job *j = xcalloc(1, sizeof(*j));

	state_init(&w->st);
	snprintf(t->name, sizeof(t->name), "acme");
	t->weight = 1;
	state_add_tenant(&w->st, t);
	snprintf(e->tenant, sizeof(e->tenant), "acme");
	snprintf(e->name, sizeof(e->name), "prod");
	snprintf(e->key, sizeof(e->key), "acme/prod");
	e->state = ENV_READY;
	state_add_env(&w->st, e);
	snprintf(j->tenant, sizeof(j->tenant), "acme");
	snprintf(j->env, sizeof(j->env), "acme/prod");
	snprintf(j->name, sizeof(j->name), "nightly");
	snprintf(j->key, sizeof(j->key), "acme/prod/nightly");
	j->max_attempts = 1;
	j->driver_cores = 1;
	state_add_job(&w->st, j);
	w->job = j;
	policy_limits_defaults(&w->lim);
	/* keys outlive the year: a time fired again finds its run */
	w->lim.idempotency_ttl_ms = 2 * YEAR_MS;
	policy_init(&w->p, &w->st, &w->lim, YEAR_START, 1000);
	for (int i = 0; i < NSCHED; i++) {
		struct ssched *s = &w->s[i];
		const char *expr = exprs[below(w, ARRAY_SIZE(exprs))];
		char err[256];
		s->id = (uint64_t)i + 1;
		if (cron_parse(expr, &s->spec, err, sizeof(err)))
			bad(w, s, "'%s' does not parse: %s", expr, err);
		s->conc = (int)below(w, 3);
		s->catchup = (int)below(w, 3);
		s->deadline_ms = below(w, 3) == 0 ? 0
				 : (int64_t)(10 + below(w, 240)) * MIN_MS;
		s->cursor = s->stored_cursor = s->watch = YEAR_START;
		s->last_fired = INT64_MIN;
	}
}

static bool run_live(struct sworld *w, uint64_t id)
{
	const struct run *r = state_run(&w->st, id);
	return r && !run_state_terminal(r->state);
}

/* Whether time t, handled at w->now after watch, may be missed. */
static bool may_miss(struct sworld *w, const struct ssched *s, int64_t t)
{
	if (s->deadline_ms && w->now - t > s->deadline_ms)
		return true;
	if (t >= s->watch || s->catchup == SCHED_CATCHUP_ALL)
		return false;
	if (s->catchup == SCHED_CATCHUP_NONE)
		return true;
	/* last: all but the latest missed one */
	return cron_next(&s->spec, w->z, t) < s->watch;
}

/* One firing's run; 0 if refused. */
static uint64_t submit(struct sworld *w, struct ssched *s, int64_t t,
		       int *rc_out)
{
	struct run_extra *x = xcalloc(1, sizeof(*x));
	struct submit_opts o = { 0 };
	struct refusal why;
	struct run *r = NULL;
	char key[80];

	x->schedule = s->id;
	x->scheduled_ms = t;
	x->scheduled_off_s = w->z ? tzone_offset(w->z, t / 1000) : 0;
	o.x = x;
	o.idem_key = schedule_idem_key(s->id, t, 1, key, sizeof(key));
	*rc_out = policy_submit_ex(&w->p, w->job, &o, &r, &why);
	if (*rc_out != 0)
		run_extra_free(x);
	if (*rc_out < 0)
		return 0;
	if (!r->x || r->x->schedule != s->id || r->x->scheduled_ms != t)
		bad(w, s, "run %" PRIu64 " does not carry its firing %" PRId64,
		    r->id, t);
	return r->id;
}

static void fire(struct sworld *w, struct ssched *s, int64_t t,
		 struct sim_sched_totals *tot)
{
	bool live = false;
	uint64_t id;
	int rc;

	for (uint32_t i = 0; i < s->nprev; i++)
		live |= run_live(w, s->prev_runs[i]);
	switch (schedule_on_fire(s->conc, live)) {
	case SCHED_SKIP:
		s->skipped++;
		tot->skipped++;
		return;
	case SCHED_REPLACE:
		for (uint32_t i = 0; i < s->nprev; i++) {
			struct run *r = state_run(&w->st, s->prev_runs[i]);
			struct refusal why;
			if (r && !run_state_terminal(r->state))
				policy_cancel(&w->p, r, &why);
		}
		break;
	case SCHED_START:
		break;
	}
	if (!(id = submit(w, s, t, &rc))) {
		bad(w, s, "the start of %" PRId64 " was refused", t);
		return;
	}
	if (rc == 1)
		bad(w, s, "time %" PRId64 " found a run already", t);
	s->prev_runs[0] = id;
	s->nprev = 1;
	s->fired++;
	tot->fired++;
	if (s->nlive < MAX_LIVE)
		s->live[s->nlive++] = id;
	if (below(w, 20) == 0) {
		s->replay_t = t;
		s->replay_run = id;
	}
}

/* The due times of s now, checked against an enumeration of its own. */
static void handle(struct sworld *w, struct ssched *s,
		   struct sim_sched_totals *tot)
{
	struct schedule_due d;
	int64_t t = s->cursor;
	size_t k = 0;
	uint64_t missed = 0;

	schedule_due(&s->spec, w->z, s->cursor, s->watch, s->catchup,
		     s->deadline_ms, w->now, &d);
	if (d.cursor < s->cursor)
		bad(w, s, "the cursor went back from %" PRId64 " to %" PRId64,
		    s->cursor, d.cursor);
	if (d.cursor > w->now)
		bad(w, s, "the cursor %" PRId64 " is ahead of now", d.cursor);
	/* every time in (cursor, new cursor]: fired or missed, each once */
	while ((t = cron_next(&s->spec, w->z, t)) <= d.cursor) {
		if (k < d.nfire && d.fire[k] == t) {
			if (t > w->now)
				bad(w, s, "time %" PRId64 " fired early", t);
			if (t <= s->last_fired)
				bad(w, s, "time %" PRId64 " fired twice", t);
			if (s->deadline_ms && w->now - t > s->deadline_ms)
				bad(w, s, "time %" PRId64 " started past its "
				    "deadline", t);
			if (t < s->watch && s->catchup == SCHED_CATCHUP_NONE)
				bad(w, s, "time %" PRId64 " started under "
				    "catch-up none", t);
			if (t < s->watch && s->catchup == SCHED_CATCHUP_LAST &&
			    cron_next(&s->spec, w->z, t) < s->watch)
				bad(w, s, "time %" PRId64 " started but was not "
				    "the latest missed", t);
			s->last_fired = t;
			k++;
		} else {
			if (!may_miss(w, s, t))
				bad(w, s, "time %" PRId64 " missed (watch %"
				    PRId64 ", catch-up %s, deadline %" PRId64
				    ")", t, s->watch,
				    schedule_catchup_name(s->catchup),
				    s->deadline_ms);
			missed++;
		}
		s->handled++;
	}
	if (k != d.nfire)
		bad(w, s, "%zu of %zu fired times are not the expression's",
		    d.nfire - k, d.nfire);
	if (missed != d.missed)
		bad(w, s, "%" PRIu64 " missed counted, %" PRIu64 " seen",
		    d.missed, missed);
	s->missed += d.missed;
	tot->missed += d.missed;
	for (size_t i = 0; i < d.nfire; i++)
		fire(w, s, d.fire[i], tot);
	/* the cursor commits with the runs: one write */
	s->cursor = s->stored_cursor = d.cursor;
	if (!d.more && cron_next(&s->spec, w->z, s->cursor) <= w->now)
		bad(w, s, "a due time was left behind without more");
	if (s->fired + s->skipped + s->missed != s->handled)
		bad(w, s, "fired %" PRIu64 " + skipped %" PRIu64 " + missed %"
		    PRIu64 " != %" PRIu64 " handled", s->fired, s->skipped,
		    s->missed, s->handled);
}

/* Runs end at random (cancelled: a queued run ends at once). */
static void end_some(struct sworld *w, struct ssched *s)
{
	for (size_t i = 0; i < s->nlive;) {
		struct run *r = state_run(&w->st, s->live[i]);
		struct refusal why;
		if (r && !run_state_terminal(r->state) && below(w, 2) == 0)
			policy_cancel(&w->p, r, &why);
		if (!r || run_state_terminal(r->state)) {
			s->live[i] = s->live[--s->nlive];
			continue;
		}
		i++;
	}
}

static void check_forbid(struct sworld *w, const struct ssched *s)
{
	size_t live = 0;

	if (s->conc != SCHED_CONC_FORBID)
		return;
	for (size_t i = 0; i < s->nlive; i++)
		live += run_live(w, s->live[i]);
	if (live > 1)
		bad(w, s, "forbid, yet %zu runs not ended", live);
}

/* After a restart: a time fired before, fired again with its key, gets
 * the run it created. */
static void replay(struct sworld *w, struct ssched *s,
		   struct sim_sched_totals *tot)
{
	uint64_t id;
	int rc;

	if (!s->replay_run)
		return;
	id = submit(w, s, s->replay_t, &rc);
	if (rc != 1 || id != s->replay_run)
		bad(w, s, "time %" PRId64 " fired again: run %" PRIu64
		    " (rc %d), first run %" PRIu64, s->replay_t, id, rc,
		    s->replay_run);
	tot->replays++;
	s->replay_run = 0;
}

static void step(struct sworld *w, struct sim_sched_totals *tot)
{
	uint64_t dice = below(w, 100);

	if (dice < 4) { /* an outage: nobody looks meanwhile */
		w->now += HOUR_MS + (int64_t)below(w, 10 * DAY_MS);
		for (int i = 0; i < NSCHED; i++)
			w->s[i].watch = w->now;
		tot->outages++;
	} else if (dice < 8) { /* a restart: state reloaded */
		w->now += (int64_t)below(w, 5 * MIN_MS);
		for (int i = 0; i < NSCHED; i++) {
			w->s[i].cursor = w->s[i].stored_cursor;
			w->s[i].watch = w->now;
			replay(w, &w->s[i], tot);
		}
		tot->restarts++;
	} else if (dice < 11) { /* pause or resume one */
		struct ssched *s = &w->s[below(w, NSCHED)];
		s->paused = !s->paused;
		if (!s->paused)
			s->watch = w->now;
		else
			tot->pauses++;
	} else if (dice < 16) {
		w->now += (int64_t)below(w, 12 * HOUR_MS);
	} else {
		w->now += MIN_MS + (int64_t)below(w, 90 * MIN_MS);
	}
	policy_set_clock(&w->p, w->now, 1000 + (w->now - YEAR_START));
	for (int i = 0; i < NSCHED && !w->failed; i++) {
		struct ssched *s = &w->s[i];
		end_some(w, s);
		if (!s->paused)
			handle(w, s, tot);
		check_forbid(w, s);
	}
}

int sim_sched_run(uint64_t seed, const char *tz, bool verbose,
		  struct sim_sched_totals *tot, const char **zone_used,
		  char *msg, size_t len)
{
	struct sworld *w = xcalloc(1, sizeof(*w));
	struct tzone *z = NULL;
	char err[256];
	int rc;

	*zone_used = "UTC";
	if (tz && strcmp(tz, "UTC") && !tzone_load(tz, &z, err, sizeof(err)))
		*zone_used = tz;
	w->z = z;
	w->rng = seed * 0x9e3779b97f4a7c15ULL | 1;
	w->msg = msg;
	w->len = len;
	build(w);
	while (!w->failed && w->now < YEAR_START + YEAR_MS) {
		if (!w->now)
			w->now = YEAR_START;
		w->step++;
		step(w, tot);
	}
	if (verbose)
		for (int i = 0; i < NSCHED; i++)
			printf("  schedule %d: %s %s deadline %" PRId64
			       " min: fired %" PRIu64 ", skipped %" PRIu64
			       ", missed %" PRIu64 "\n", i + 1,
			       schedule_concurrency_name(w->s[i].conc),
			       schedule_catchup_name(w->s[i].catchup),
			       (int64_t)(w->s[i].deadline_ms / MIN_MS),
			       w->s[i].fired,
			       w->s[i].skipped, w->s[i].missed);
	rc = w->failed ? -1 : 0;
	policy_release(&w->p);
	state_release(&w->st);
	if (z)
		tzone_free(z);
	free(w);
	return rc;
}

int sim_sched_main(const char *prog, uint64_t first, uint64_t seeds,
		   const char *tz, bool verbose)
{
	struct sim_sched_totals tot;
	const char *zone = "UTC";
	char msg[512];

	memset(&tot, 0, sizeof(tot));
	for (uint64_t s = first; s < first + seeds; s++) {
		if (sim_sched_run(s, tz, verbose, &tot, &zone, msg,
				  sizeof(msg))) {
			fprintf(stderr, "sim: schedules: seed %llu (zone %s): "
				"invariant violated: %s\nsim: replay with: %s "
				"--schedules --seed %llu%s%s --verbose\n",
				(unsigned long long)s, zone, msg, prog,
				(unsigned long long)s, tz ? " --tz " : "",
				tz ? tz : "");
			return 1;
		}
	}
	if (tz && strcmp(tz, zone))
		printf("sim: schedules: zone %s does not load here: UTC\n", tz);
	printf("sim: schedules: %llu seeds x a year (zone %s): all invariants "
	       "held (%llu fired, %llu skipped, %llu missed, %llu outages, "
	       "%llu restarts, %llu pauses, %llu times fired again)\n",
	       (unsigned long long)seeds, zone,
	       (unsigned long long)tot.fired, (unsigned long long)tot.skipped,
	       (unsigned long long)tot.missed, (unsigned long long)tot.outages,
	       (unsigned long long)tot.restarts,
	       (unsigned long long)tot.pauses,
	       (unsigned long long)tot.replays);
	return 0;
}
