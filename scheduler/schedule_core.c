/* schedule_core.c - recurring schedules on the core thread: loading,
 * firing through run_start, the cursor in the turn's batch. */
#include "schedule_core.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diskguard.h"
#include "log.h"
#include "run_start.h"
#include "sched_ctx.h"
#include "util.h"

static struct schedule_core *sc_of(struct sched *c)
{
	return c->schedules;
}

int schedule_core_compile(struct schedule_def *d, char *err, size_t errlen)
{
	char why[256];

	if (cron_parse(d->cron, &d->spec, why, sizeof(why))) {
		snprintf(err, errlen, "--cron '%.64s': %s", d->cron, why);
		return -1;
	}
	if (d->tz)
		tzone_free(d->tz);
	d->tz = NULL;
	if (tzone_load(d->zone, &d->tz, why, sizeof(why))) {
		snprintf(err, errlen, "--timezone '%.64s': %s", d->zone, why);
		return -1;
	}
	return 0;
}

struct schedule_def *schedule_core_find(struct sched *c, uint64_t id)
{
	struct schedule_core *sc = sc_of(c);

	for (size_t i = 0; sc && i < sc->defs.n; i++) {
		struct schedule_def *d = sc->defs.v[i];
		if (d->id == id)
			return d;
	}
	return NULL;
}

struct schedule_def *schedule_core_find_word(struct sched *c, const char *id)
{
	char *end;
	uint64_t n;

	if (!id || *id < '0' || *id > '9')
		return NULL;
	n = strtoull(id, &end, 10);
	return *end ? NULL : schedule_core_find(c, n);
}

const char *schedule_core_tenant_of(struct sched *c, const char *id)
{
	struct schedule_def *d = schedule_core_find_word(c, id);
	struct schedule_core *sc = sc_of(c);
	char *end;

	if (d)
		return d->tenant;
	if (!sc || !sc->gone_id || !id || *id < '0' || *id > '9' ||
	    strtoull(id, &end, 10) != sc->gone_id || *end)
		return NULL;
	return sc->gone_tenant;
}

size_t schedule_core_count(struct sched *c, const char *tenant)
{
	struct schedule_core *sc = sc_of(c);
	size_t n = 0;

	for (size_t i = 0; i < sc->defs.n; i++)
		n += !strcmp(((struct schedule_def *)sc->defs.v[i])->tenant,
			     tenant);
	return n;
}

/* The next due time of d from its cursor; the core wakes for it. */
static void plan(struct sched *c, struct schedule_def *d)
{
	struct schedule_core *sc = sc_of(c);

	d->next_ms = d->paused ? INT64_MAX
			       : cron_next(&d->spec, d->tz, d->cursor_ms);
	if (d->next_ms < sc->due_ms)
		sc->due_ms = d->next_ms;
}

/* ---- firing ---- */

static bool previous_live(struct sched *c, const struct schedule_def *d)
{
	for (uint32_t i = 0; i < d->nlast; i++) {
		const struct run *r = state_run(c->st, d->last_runs[i]);
		if (r && !run_state_terminal(r->state))
			return true;
	}
	return false;
}

static void cancel_previous(struct sched *c, const struct schedule_def *d)
{
	struct refusal why;

	for (uint32_t i = 0; i < d->nlast; i++) {
		struct run *r = state_run(c->st, d->last_runs[i]);
		if (r && !run_state_terminal(r->state))
			policy_cancel(&c->pol, r, &why);
	}
}

/* A start refused: counted and kept for `schedule show`, never retried
 * (the next firing is the next chance). */
static void refused(struct sched *c, struct schedule_def *d, int64_t t,
		    const char *job, const char *msg)
{
	char when[40];

	d->refused++;
	sc_of(c)->n_refused++;
	time_format_iso(t, when, sizeof(when));
	snprintf(d->last_error, sizeof(d->last_error), "%s at %s: %s", job,
		 when, msg);
	d->last_error_ms = c->now_ms;
	log_warn("schedule %" PRIu64 ": firing of %s not started: %s: %s",
		 d->id, when, job, msg);
}

/* Starts one run of job key for firing t, after run `after` (0: none),
 * as the firing's step-th run. Its id, or 0 if refused. */
static uint64_t start_one(struct sched *c, struct schedule_def *d, int64_t t,
			  const char *key, uint64_t after, int step)
{
	struct job *j = state_job(c->st, key);
	struct run_start_req q = { 0 };
	struct refusal why;
	struct run *run;
	char idem[80];

	if (!j || j->deleted_ms) {
		refused(c, d, t, key, "no such job");
		return 0;
	}
	q.schedule = d->id;
	q.scheduled_ms = t;
	q.scheduled_off_s = d->tz ? tzone_offset(d->tz, t / 1000) : 0;
	q.idem_key = schedule_idem_key(d->id, t, step, idem, sizeof(idem));
	if (step == 1) { /* the extra arguments are the schedule's job's */
		q.args = (const char *const *)d->args;
		q.nargs = (uint32_t)d->nargs;
	}
	if (after) {
		q.after = &after;
		q.nafter = 1;
	}
	if (diskguard_refuse_start(c, &why) ||
	    run_start(c, j, &q, &run, &why) < 0) {
		refused(c, d, t, key, why.message);
		return 0;
	}
	return run->id;
}

/* Starts firing t: the schedule's job, then each --then job waiting for
 * the one before it to succeed. A refused link ends the chain there. */
static void fire(struct sched *c, struct schedule_def *d, int64_t t)
{
	char then[SCHEDULE_THEN_LEN], key[JOB_KEY_LEN], *save = NULL;
	const char *slash = strrchr(d->job, '/');
	uint64_t id = start_one(c, d, t, d->job, 0, 1);
	int step = 1;

	if (!id)
		return;
	d->nlast = 1;
	d->last_runs[0] = id;
	d->last_fired_ms = t;
	d->fired++;
	sc_of(c)->n_fired++;
	snprintf(then, sizeof(then), "%s", d->then);
	for (char *w = strtok_r(then, ",", &save);
	     w && d->nlast < 1 + SCHEDULE_THEN_MAX;
	     w = strtok_r(NULL, ",", &save)) {
		snprintf(key, sizeof(key), "%.*s/%s",
			 (int)(slash - d->job), d->job, w);
		if (!(id = start_one(c, d, t, key, id, ++step)))
			return;
		d->last_runs[d->nlast++] = id;
	}
}

/* What is due of d now: started, skipped or counted missed; the cursor
 * and counts written to the batch with the runs. */
static void run_due(struct sched *c, struct schedule_def *d)
{
	struct schedule_core *sc = sc_of(c);
	struct schedule_due due;

	schedule_due(&d->spec, d->tz, d->cursor_ms, d->watch_ms, d->catchup,
		     d->deadline_ms, c->now_ms, &due);
	d->missed += due.missed;
	sc->n_missed += due.missed;
	for (size_t i = 0; i < due.nfire; i++) {
		switch (schedule_on_fire(d->concurrency, previous_live(c, d))) {
		case SCHED_SKIP:
			d->skipped++;
			sc->n_skipped++;
			continue;
		case SCHED_REPLACE:
			cancel_previous(c, d);
			break;
		case SCHED_START:
			break;
		}
		fire(c, d, due.fire[i]);
	}
	if (due.cursor != d->cursor_ms || due.missed || due.nfire) {
		d->cursor_ms = due.cursor;
		schedule_rec_put(c->batch, c->store, d);
	}
	/* more due than one turn takes: the next turn, at once */
	d->next_ms = due.more ? c->now_ms
			      : cron_next(&d->spec, d->tz, d->cursor_ms);
}

void schedule_core_tick(struct sched *c)
{
	struct schedule_core *sc = sc_of(c);
	int64_t due = INT64_MAX;

	if (!sc || c->now_ms < sc->due_ms)
		return;
	for (size_t i = 0; i < sc->defs.n; i++) {
		struct schedule_def *d = sc->defs.v[i];
		if (d->paused)
			continue;
		if (d->next_ms <= c->now_ms)
			run_due(c, d);
		if (d->next_ms < due)
			due = d->next_ms;
	}
	sc->due_ms = due;
}

int64_t schedule_core_next_wake(struct sched *c)
{
	struct schedule_core *sc = sc_of(c);

	if (!sc || sc->due_ms == INT64_MAX)
		return INT64_MAX;
	if (!c->now_ms) /* before the first turn: it looks at once */
		return 0;
	if (sc->due_ms <= c->now_ms)
		return c->now_mono;
	return c->now_mono + (sc->due_ms - c->now_ms);
}

/* ---- changes by the commands ---- */

static void put_seq(struct sched *c)
{
	uint8_t b[8];

	store_put_u64be(b, sc_of(c)->seq);
	store_batch_put(c->batch, c->store, CF_META, META_SCHEDULE_SEQ,
			strlen(META_SCHEDULE_SEQ), b, 8);
}

struct schedule_def *schedule_core_add(struct sched *c,
				       struct schedule_def *d)
{
	struct schedule_core *sc = sc_of(c);

	d->id = ++sc->seq;
	d->created_ms = d->cursor_ms = d->watch_ms = c->now_ms;
	ptrvec_push(&sc->defs, d);
	schedule_rec_put(c->batch, c->store, d);
	put_seq(c);
	plan(c, d);
	return d;
}

void schedule_core_set_paused(struct sched *c, struct schedule_def *d,
			      bool paused)
{
	d->paused = paused;
	if (!paused)
		d->watch_ms = c->now_ms; /* before: missed while paused */
	schedule_rec_put(c->batch, c->store, d);
	plan(c, d);
}

static void drop(struct schedule_core *sc, struct schedule_def *d)
{
	ptrvec_remove_ordered(&sc->defs, d);
	schedule_def_release(d);
	free(d);
}

void schedule_core_remove(struct sched *c, struct schedule_def *d)
{
	struct schedule_core *sc = sc_of(c);

	sc->gone_id = d->id;
	snprintf(sc->gone_tenant, sizeof(sc->gone_tenant), "%s", d->tenant);
	schedule_rec_delete(c->batch, c->store, d);
	drop(sc_of(c), d);
}

void schedule_core_remove_tenant(struct sched *c, const char *tenant)
{
	struct schedule_core *sc = sc_of(c);

	for (size_t i = sc ? sc->defs.n : 0; i-- > 0;) {
		struct schedule_def *d = sc->defs.v[i];
		if (!strcmp(d->tenant, tenant))
			drop(sc, d);
	}
	if (sc && !strcmp(sc->gone_tenant, tenant))
		sc->gone_id = 0;
}

/* ---- start and stop ---- */

struct load_ctx {
	struct sched *c;
	char *err;
	size_t errlen;
	int64_t now_ms;
};

static int load_one(const void *key, size_t klen, const void *val,
		    size_t vlen, void *ctx)
{
	struct load_ctx *lc = ctx;
	struct schedule_core *sc = sc_of(lc->c);
	struct schedule_def *d = xmalloc(sizeof(*d));
	char why[SCHEDULE_ERR_LEN];

	if (schedule_rec_decode(lc->c->store, key, klen, val, vlen, d,
				lc->err, lc->errlen)) {
		free(d);
		return -1;
	}
	if (schedule_core_compile(d, why, sizeof(why))) {
		/* kept, never firing, saying why: the zone left the
		 * system's database, say */
		memset(&d->spec, 0, sizeof(d->spec));
		snprintf(d->last_error, sizeof(d->last_error), "%s", why);
		log_error("schedule %" PRIu64 " does not fire: %s", d->id, why);
	}
	d->watch_ms = lc->now_ms; /* before: the scheduler was down */
	if (d->id > sc->seq)
		sc->seq = d->id;
	ptrvec_push(&sc->defs, d);
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct schedule_def *x = *(void *const *)a;
	const struct schedule_def *y = *(void *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

int schedule_core_open(struct sched *c, char *err, size_t errlen)
{
	struct schedule_core *sc = xcalloc(1, sizeof(*sc));
	struct load_ctx lc = { c, err, errlen, time_now_ms() };
	char *val = NULL;
	size_t len = 0;
	int rc;

	c->schedules = sc;
	sc->due_ms = INT64_MAX;
	err[0] = '\0';
	if (store_scan(c->store, CF_SCHEDULES, NULL, 0, NULL, 0, load_one,
		       &lc) ||
	    (rc = store_get(c->store, CF_META, META_SCHEDULE_SEQ,
			    strlen(META_SCHEDULE_SEQ), &val, &len, err,
			    errlen)) < 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot read the schedules");
		schedule_core_close(c);
		return -1;
	}
	if (rc == 1 && len == 8 &&
	    store_get_u64be((const uint8_t *)val) > sc->seq)
		sc->seq = store_get_u64be((const uint8_t *)val);
	free(val);
	/* stored by tenant, kept by id */
	if (sc->defs.n)
		qsort(sc->defs.v, sc->defs.n, sizeof(void *), by_id);
	for (size_t i = 0; i < sc->defs.n; i++)
		plan(c, sc->defs.v[i]);
	return 0;
}

void schedule_core_close(struct sched *c)
{
	struct schedule_core *sc = sc_of(c);

	if (!sc)
		return;
	for (size_t i = 0; i < sc->defs.n; i++) {
		schedule_def_release(sc->defs.v[i]);
		free(sc->defs.v[i]);
	}
	ptrvec_release(&sc->defs);
	free(sc);
	c->schedules = NULL;
}
