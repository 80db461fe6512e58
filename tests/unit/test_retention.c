/* test_retention.c - the retention pass (retention.c) under an injected
 * clock, over a real store: runs ended at various ages in two tenants
 * with different retention; only the expired ones lose their record,
 * their telemetry and their line logs; a run whose idempotency key is live
 * stays; the usage roll-ups and the month's spend do not change; ids are
 * not given again after a reload; a slice examines at most its bound;
 * with ended_runs_in_memory_s = 0 the kept ended runs leave memory, are
 * read back by id, and expire from the store alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cost_records.h"
#include "records.h"
#include "retention.h"
#include "run_codec.h"
#include "runstore.h"
#include "sched_ctx.h"
#include "util.h"

#define DAY (86400LL * 1000)
/* the injected clock: noon of a 15th, so every age below is this month */
#define NOW (20801LL * DAY + DAY / 2)

struct rfx {
	char dir[64];
	struct store *store;
	struct sched_state st;
	struct sched_config cfg;
	struct sched c;
};

static void write_batch(struct rfx *f, struct store_batch *b)
{
	char err[256];
	if (store_write(f->store, b, true, err, sizeof(err)))
		fail_msg("store_write: %s", err);
	store_batch_clear(b);
}

static void add_records(struct rfx *f, struct store_batch *b,
			const char *tenant, uint32_t days)
{
	struct tenant *t = xcalloc(1, sizeof(*t));
	struct env *e = xcalloc(1, sizeof(*e));
	struct job *j = xcalloc(1, sizeof(*j));

	snprintf(t->name, sizeof(t->name), "%s", tenant);
	t->weight = 1;
	t->retention_days = days;
	state_add_tenant(&f->st, t);
	records_put_tenant(b, f->store, t);
	snprintf(e->key, sizeof(e->key), "%s/prod", tenant);
	snprintf(e->tenant, sizeof(e->tenant), "%s", tenant);
	snprintf(e->name, sizeof(e->name), "prod");
	e->price_vcpu_hour = 1000000;
	state_add_env(&f->st, e);
	records_put_env(b, f->store, e);
	snprintf(j->key, sizeof(j->key), "%s/prod/j", tenant);
	snprintf(j->tenant, sizeof(j->tenant), "%s", tenant);
	snprintf(j->env, sizeof(j->env), "%s/prod", tenant);
	snprintf(j->name, sizeof(j->name), "j");
	j->driver_cores = 1;
	j->max_attempts = 1;
	state_add_job(&f->st, j);
	records_put_job(b, f->store, j);
}

/* A telemetry batch key of run (two per run) and a format-2 line log. */
static void add_telemetry(struct rfx *f, struct store_batch *b,
			  const struct run *r)
{
	uint8_t k[NAME_MAX_LEN + 21], lk[12];
	size_t n = strlen(run_tenant(r)) + 1;

	memcpy(k, run_tenant(r), n);
	store_put_u64be(k + n, r->id);
	for (uint32_t line = 0; line < 20; line += 10) {
		store_put_u32be(k + n + 8, line);
		store_put_u64be(k + n + 12, r->id * 100 + line);
		store_batch_put(b, f->store, CF_TELEMETRY, k, n + 20, "batch",
				5);
	}
	store_put_u64be(lk, r->id);
	store_put_u32be(lk + 8, 0);
	store_batch_put(b, f->store, CF_LOGS, lk, sizeof(lk), "line", 4);
}

/* A run of tenant's job ended (succeeded) `ended` ms before NOW, created
 * `created` ms before NOW, with an idempotency key if key; ended < 0:
 * running. */
static struct run *add_run(struct rfx *f, struct store_batch *b,
			   const char *tenant, int64_t created, int64_t ended,
			   const char *key)
{
	char jk[JOB_KEY_LEN];
	struct run *r;
	struct usage_amount amt = { 1000, 2000, 3000 };

	snprintf(jk, sizeof(jk), "%s/prod/j", tenant);
	r = state_new_run(&f->st, state_job(&f->st, jk));
	r->attempt = 1;
	r->exit_code = -1;
	r->created_ms = r->enqueued_ms = NOW - created;
	run_set_state_ms(r, RUN_QUEUED, r->created_ms);
	run_set_str(&r->idem_key, key);
	r->log_lines = 20;
	if (ended < 0) {
		r->state = RUN_RUNNING;
		run_set_state_ms(r, RUN_RUNNING, NOW - 1000);
	} else {
		r->state = RUN_SUCCEEDED;
		run_set_state_ms(r, RUN_SUCCEEDED, NOW - ended);
		run_detail_get(r)->cost = amt.cost;
		usage_add_attempt(&f->st.usage, r, "uid:0", NOW - ended, &amt);
		usage_add_run_end(&f->st.usage, r, "uid:0", NOW - ended);
	}
	records_put_run(b, f->store, r);
	add_telemetry(f, b, r);
	return r;
}

static void put_day(void *ctx, const struct usage_day *d)
{
	struct rfx *f = ctx;
	records_put_usage_day(f->c.batch, f->store, d);
}

/* The core's view (struct sched) over the loaded state, at NOW. */
static void start(struct rfx *f)
{
	struct policy_limits lim;

	policy_limits_defaults(&lim);
	lim.idempotency_ttl_ms = 4 * DAY;
	memset(&f->c, 0, sizeof(f->c));
	f->c.store = f->store;
	f->c.st = &f->st;
	f->c.cfg = &f->cfg;
	f->c.batch = store_batch_new();
	f->c.now_ms = NOW;
	f->c.now_mono = 1000;
	f->c.ret_logs = true;
	policy_init(&f->c.pol, &f->st, &lim, NOW, 1000);
}

static void stop(struct rfx *f)
{
	runstore_release(&f->c);
	policy_release(&f->c.pol);
	store_batch_free(f->c.batch);
	state_release(&f->st);
}

static void reload(struct rfx *f)
{
	char err[256];
	state_init(&f->st);
	if (records_load(f->store, &f->st, err, sizeof(err)))
		fail_msg("records_load: %s", err);
	start(f);
}

static int setup(void **state)
{
	struct rfx *f = xcalloc(1, sizeof(*f));
	struct store_batch *b = store_batch_new();
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/sp-retention.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->store = store_open(f->dir, err, sizeof(err));
	if (!f->store)
		fail_msg("store_open: %s", err);
	config_defaults(&f->cfg);
	/* ended runs stay in memory (test_ended_runs_leave_memory sets 0) */
	f->cfg.ended_runs_in_memory_s = 365 * 86400;
	state_init(&f->st);
	add_records(f, b, "acme", 2);
	add_records(f, b, "beta", 10);
	add_run(f, b, "acme", 4 * DAY, 3 * DAY, NULL);         /* 1 gone */
	add_run(f, b, "acme", 2 * DAY, 1 * DAY, NULL);         /* 2 kept */
	add_run(f, b, "beta", 4 * DAY, 3 * DAY, NULL);         /* 3 kept */
	add_run(f, b, "acme", 5 * DAY, 5 * DAY, "old-key");    /* 4 gone */
	add_run(f, b, "beta", 12 * DAY, 11 * DAY, NULL);       /* 5 gone */
	add_run(f, b, "acme", 9 * DAY, -1, NULL);              /* 6 live */
	add_run(f, b, "acme", 7 * DAY / 2, 3 * DAY, "live-key"); /* 7 held */
	add_run(f, b, "beta", 21 * DAY, 20 * DAY, NULL);       /* 8 gone */
	write_batch(f, b);
	store_batch_free(b);
	start(f);
	usage_take_dirty(&f->st.usage, put_day, f);
	write_batch(f, f->c.batch);
	stop(f);
	reload(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct rfx *f = *state;
	char cmd[128];

	stop(f);
	store_close(f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	free(f);
	return system(cmd);
}

/* Which runs have telemetry (bit id) and line logs (bit id + 16). */
struct seen {
	uint32_t bits;
};

static int saw_telemetry(const void *key, size_t klen, const void *val,
			 size_t vlen, void *ctx)
{
	const uint8_t *k = key;
	size_t n = strlen(key) + 1;
	(void)val;
	(void)vlen;
	assert_int_equal(klen, n + 20);
	((struct seen *)ctx)->bits |= 1u << store_get_u64be(k + n);
	return 0;
}

static int saw_log(const void *key, size_t klen, const void *val, size_t vlen,
		   void *ctx)
{
	(void)val;
	(void)vlen;
	(void)klen;
	((struct seen *)ctx)->bits |= 1u << (16 + store_get_u64be(key));
	return 0;
}

static uint32_t stored(struct rfx *f)
{
	struct seen s = { 0 };
	assert_int_equal(store_scan(f->store, CF_TELEMETRY, NULL, 0, NULL, 0,
				    saw_telemetry, &s), 0);
	assert_int_equal(store_scan(f->store, CF_LOGS, NULL, 0, NULL, 0,
				    saw_log, &s), 0);
	return s.bits;
}

static uint32_t in_memory(struct rfx *f)
{
	uint32_t bits = 0;
	for (uint64_t id = 1; id <= f->st.nruns; id++)
		bits |= state_run(&f->st, id) ? 1u << id : 0;
	return bits;
}

#define KEPT ((1u << 2) | (1u << 3) | (1u << 6) | (1u << 7))
#define ALL 0x1feu

/* Runs slices of at most max ids and max_rm removals until the pass is
 * over, each one committed as a core turn would; returns the number of
 * slices. */
static int pass_rm(struct rfx *f, size_t max, size_t max_rm, size_t *removed)
{
	bool done = false;
	int slices = 0;

	*removed = 0;
	while (!done) {
		uint64_t from = f->c.ret_cursor ? f->c.ret_cursor : 1;
		size_t n = retention_slice(&f->c, max, max_rm, &done);
		assert_true(n <= max_rm);
		assert_true(f->c.ret_cursor - from <= max || done);
		assert_true(done || n == max_rm ||
			    f->c.ret_cursor - from == max);
		*removed += n;
		write_batch(f, f->c.batch);
		slices++;
	}
	return slices;
}

static int pass(struct rfx *f, size_t max, size_t *removed)
{
	return pass_rm(f, max, RETENTION_MAX_REMOVED, removed);
}

/* The cost of tenant's roll-ups of one kind (usage --by job or user). */
static int64_t group_cost(const struct usage *u, enum usage_kind kind,
			  const char *tenant)
{
	int64_t sum = 0;
	for (size_t i = 0; i < u->groups.n; i++) {
		const struct usage_day *d = u->groups.v[i];
		if (d->kind == kind && !strcmp(d->tenant, tenant))
			sum += d->cost;
	}
	return sum;
}

static void test_removes_expired_only(void **state)
{
	struct rfx *f = *state;
	struct tenant *acme = state_tenant(&f->st, "acme");
	int64_t spent = acme->month_spent, beta_spent;
	int64_t cost = usage_tenant_cost(&f->st.usage, "acme", 0, INT32_MAX);
	int64_t by_job = group_cost(&f->st.usage, USAGE_JOB, "acme");
	int64_t by_user = group_cost(&f->st.usage, USAGE_USER, "acme");
	size_t removed;
	struct run *r;
	struct refusal why;

	beta_spent = state_tenant(&f->st, "beta")->month_spent;
	assert_int_equal(in_memory(f), ALL);
	assert_int_equal(stored(f), ALL | (ALL << 16));
	/* bounded: 8 ids, 3 a slice */
	assert_int_equal(pass(f, 3, &removed), 3);
	assert_int_equal(removed, 4);
	assert_int_equal(in_memory(f), KEPT);
	assert_int_equal(stored(f), KEPT | (KEPT << 16));
	assert_int_equal(f->st.runs_dropped, 4);
	/* a second pass finds nothing more */
	assert_int_equal(pass(f, RETENTION_SLICE, &removed), 1);
	assert_int_equal(removed, 0);

	/* the live key still names run 7; the expired one names nothing */
	assert_int_equal(policy_submit(&f->c.pol, state_job(&f->st,
							    "acme/prod/j"),
				       0, "live-key", &r, &why), 1);
	assert_int_equal(r->id, 7);

	/* roll-ups and spend unchanged, also after a reload; ids go on */
	assert_int_equal(usage_tenant_cost(&f->st.usage, "acme", 0, INT32_MAX),
			 cost);
	stop(f);
	reload(f);
	acme = state_tenant(&f->st, "acme");
	assert_int_equal(in_memory(f), KEPT);
	assert_int_equal(f->st.nruns, 8);
	assert_int_equal(acme->month_spent, spent);
	assert_int_equal(state_tenant(&f->st, "beta")->month_spent,
			 beta_spent);
	assert_int_equal(usage_tenant_cost(&f->st.usage, "acme", 0, INT32_MAX),
			 cost);
	/* the roll-ups by job and by creator too (usage --by job|user) */
	assert_true(by_job > 0);
	assert_int_equal(group_cost(&f->st.usage, USAGE_JOB, "acme"), by_job);
	assert_int_equal(group_cost(&f->st.usage, USAGE_USER, "acme"),
			 by_user);
	assert_int_equal(by_user, by_job);
	assert_int_equal(state_new_run(&f->st, state_job(&f->st,
							 "acme/prod/j"))->id,
			 9);
}

static void test_key_then_expires(void **state)
{
	struct rfx *f = *state;
	size_t removed;

	pass(f, RETENTION_SLICE, &removed);
	/* run 7's key lives until 3.5 - 4 days = half a day from now */
	f->c.now_ms = NOW + DAY / 2 + 1;
	pass(f, RETENTION_SLICE, &removed);
	assert_int_equal(removed, 1);
	assert_int_equal(in_memory(f), (1u << 2) | (1u << 3) | (1u << 6));
	assert_int_equal(stored(f) & 0xffff, (1u << 2) | (1u << 3) | (1u << 6));
}

static void test_figures(void **state)
{
	struct rfx *f = *state;
	struct tenant *acme = state_tenant(&f->st, "acme");
	const struct retention_figures *p = &acme->ret_last;
	struct retention_figures fig;
	struct refusal why;
	struct run *r;
	size_t removed;

	/* before a pass: found by a walk, as of the next pass a minute on */
	f->c.retention_due_mono = f->c.now_mono + 60000;
	f->c.retention_due_ms = f->c.now_ms + 60000;
	assert_int_equal(retention_next_pass_ms(&f->c), NOW + 60000);
	retention_refresh(&f->c, acme);
	assert_int_equal(p->as_of_ms, NOW);
	assert_int_equal(p->due_runs, 2); /* 1 and 4 */
	assert_int_equal(p->due_lines, 40);
	assert_int_equal(p->kept_ended, 2); /* 2 and 7 */
	assert_int_equal(p->held_by_key, 1);
	assert_int_equal(p->next_expiry_ms, NOW + DAY / 2); /* 7's key */
	/* the pass tallies them as of the next pass, an interval later */
	pass(f, RETENTION_SLICE, &removed);
	assert_int_equal(p->due_runs, 0);
	assert_int_equal(p->kept_ended, 2);
	assert_int_equal(p->next_expiry_ms, NOW + DAY / 2);
	assert_int_equal(state_tenant(&f->st, "beta")->ret_last.kept_ended, 1);
	/* a longer retention: run 7 now waits for its end, not its key */
	acme->retention_days = 30;
	retention_refresh(&f->c, acme);
	assert_int_equal(p->held_by_key, 0);
	assert_int_equal(p->next_expiry_ms, NOW + 27 * DAY); /* run 7 */
	/* a day on, with a retention of 1 day, both are due */
	acme->retention_days = 1;
	f->c.now_ms = NOW + DAY;
	retention_refresh(&f->c, acme);
	assert_int_equal(p->due_runs, 2);
	assert_int_equal(p->next_expiry_ms, 0);
	/* a run that ends after the tally is counted by tenant show */
	policy_set_clock(&f->c.pol, NOW + DAY, 2000);
	assert_int_equal(policy_submit(&f->c.pol, state_job(&f->st,
							    "acme/prod/j"),
				       0, NULL, &r, &why), 0);
	assert_int_equal(policy_cancel(&f->c.pol, r, &why), 0);
	assert_int_equal(r->state, RUN_CANCELLED);
	retention_figures(&f->c, acme, &fig);
	assert_int_equal(fig.due_runs, 2);
	assert_int_equal(fig.kept_ended, 1);
	assert_int_equal(fig.next_expiry_ms, NOW + 2 * DAY);
}

/* A big id range takes several turns, each examining at most the bound. */
static void test_slice_bound(void **state)
{
	struct rfx *f = *state;
	struct job *j = state_job(&f->st, "acme/prod/j");
	size_t removed;

	for (int i = 0; i < 3 * RETENTION_SLICE; i++) {
		struct run *r = state_new_run(&f->st, j);
		r->state = RUN_FAILED;
		run_set_state_ms(r, RUN_FAILED, NOW - 3 * DAY);
		r->created_ms = NOW - 4 * DAY;
		r->job = j;
	}
	/* 49,156 runs to remove: 48 turns of 1,024, the rest in one more */
	assert_int_equal(pass(f, RETENTION_SLICE, &removed), 49);
	assert_int_equal(removed, 4 + 3 * RETENTION_SLICE);
}

/* Ended runs kept only in the store: the pass frees the kept ended runs
 * (not run 7, whose key answers), keeps their records, logs and
 * telemetry, reads one back by id, and removes one that expires from the
 * store alone; a load leaves old ones there. */
static void test_ended_runs_leave_memory(void **state)
{
	struct rfx *f = *state;
	struct tenant *acme = state_tenant(&f->st, "acme");
	uint64_t ended = acme->n_ended;
	uint8_t key[8];
	char *val = NULL;
	size_t removed, len;
	struct run *r;

	f->cfg.ended_runs_in_memory_s = 0;
	assert_int_equal(pass(f, 3, &removed), 3);
	assert_int_equal(removed, 4);
	assert_int_equal(in_memory(f), (1u << 6) | (1u << 7));
	assert_true(state_run_stored(&f->st, 2));
	assert_true(state_run_stored(&f->st, 3));
	assert_false(state_run_stored(&f->st, 6));
	assert_int_equal(f->st.runs_stored, 2);
	assert_int_equal(f->c.runs_paged_out, 2);
	assert_int_equal(acme->n_stored, 1);
	assert_int_equal(acme->n_ended, ended - 2); /* runs 1 and 4 removed */
	/* what the pass kept is all still stored */
	assert_int_equal(stored(f), KEPT | (KEPT << 16));
	/* read back by id: in memory again, as it was */
	r = runstore_get(&f->c, 2);
	assert_non_null(r);
	assert_int_equal(r->state, RUN_SUCCEEDED);
	assert_int_equal(r->log_lines, 20);
	assert_ptr_equal(r->job->tenantp, acme);
	assert_ptr_equal(state_run(&f->st, 2), r);
	assert_false(state_run_stored(&f->st, 2));
	assert_int_equal(f->c.runs_read_back, 1);
	assert_null(runstore_get(&f->c, 1)); /* removed: nothing to read */
	assert_null(runstore_get(&f->c, 99));
	/* the next pass frees it again */
	pass(f, RETENTION_SLICE, &removed);
	assert_int_equal(removed, 0);
	assert_true(state_run_stored(&f->st, 2));
	/* a day on, acme's run 2 expires in the store (and run 7, whose key
	 * no longer answers, in memory): record, logs, telemetry gone */
	f->c.now_ms = NOW + DAY + 1;
	pass(f, RETENTION_SLICE, &removed);
	assert_int_equal(removed, 2);
	assert_false(state_run_stored(&f->st, 2));
	assert_int_equal(f->st.runs_stored, 1);
	assert_int_equal(acme->n_stored, 0);
	assert_int_equal(f->st.runs_dropped, 6);
	assert_int_equal(stored(f), (1u << 3) | (1u << 6) | (1u << 19) |
					    (1u << 22));
	store_put_u64be(key, 2);
	assert_int_equal(store_get(f->store, CF_RUNS, key, 8, &val, &len, NULL,
				   0), 0);
	/* a load leaves beta's old run 3 in the store */
	stop(f);
	state_init(&f->st);
	f->st.stored_before_ms = NOW;
	f->st.key_horizon_ms = NOW - 4 * DAY;
	assert_int_equal(records_load(f->store, &f->st, (char[256]){ 0 }, 256),
			 0);
	start(f);
	assert_int_equal(in_memory(f), 1u << 6);
	assert_true(state_run_stored(&f->st, 3));
	assert_int_equal(state_tenant(&f->st, "beta")->n_ended, 1);
	assert_int_equal(runstore_get(&f->c, 3)->id, 3);
}

/* A stored run whose record cannot be read is not read back (it stays
 * marked), and no removal's range spans it: runs 9 and 11 expire, run 10
 * between them (kept only in the store, its record damaged) keeps its
 * logs and telemetry. */
static void test_unreadable_stored_run(void **state)
{
	struct rfx *f = *state;
	struct store_batch *b = store_batch_new();
	uint8_t key[8];
	size_t removed;
	char err[256];

	add_run(f, b, "acme", 5 * DAY, 4 * DAY, NULL);     /* 9 gone */
	add_run(f, b, "acme", DAY, DAY / 2, NULL);         /* 10 damaged */
	add_run(f, b, "acme", 5 * DAY, 4 * DAY, NULL);     /* 11 gone */
	assert_int_equal(store_write(f->store, b, true, err, sizeof(err)), 0);
	store_batch_clear(b);
	state_page_out(&f->st, state_run(&f->st, 10));
	store_put_u64be(key, 10);
	store_batch_put(b, f->store, CF_RUNS, key, 8, "\xc1", 1);
	assert_int_equal(store_write(f->store, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	assert_null(runstore_get(&f->c, 10));
	assert_true(state_run_stored(&f->st, 10));
	assert_int_equal(stored(f) & (1u << 10 | 1u << 26), 1u << 10 | 1u << 26);
	pass(f, RETENTION_SLICE, &removed);
	assert_int_equal(removed, 6); /* 1, 4, 5, 8, 9, 11 */
	assert_true(state_run_stored(&f->st, 10));
	assert_int_equal(stored(f), KEPT | (KEPT << 16) | 1u << 10 | 1u << 26);
}

/* Figures with runs kept only in the store: a refresh walks memory only,
 * says pending and starts a pass at once (or right after the one under
 * way, which cannot count a retention changed meanwhile); the pass counts
 * the stored runs and clears pending. */
static void test_figures_with_stored_runs(void **state)
{
	struct rfx *f = *state;
	struct tenant *acme = state_tenant(&f->st, "acme");
	const struct retention_figures *p = &acme->ret_last;
	struct retention_figures fig;
	size_t removed;
	bool done;

	f->cfg.ended_runs_in_memory_s = 0;
	pass(f, RETENTION_SLICE, &removed); /* run 2 (acme) is stored */
	assert_true(state_run_stored(&f->st, 2));
	/* as after a start: no pass yet, the next a minute on */
	memset(&acme->ret_last, 0, sizeof(acme->ret_last));
	f->c.retention_due_mono = f->c.now_mono + 60000;
	f->c.retention_due_ms = f->c.now_ms + 60000;
	retention_figures(&f->c, acme, &fig);
	assert_true(fig.pending);
	assert_int_equal(fig.kept_ended, 2); /* 2 and 7, counted by n_ended */
	assert_int_equal(f->c.retention_due_mono, f->c.now_mono); /* now */
	/* a retention of a day: run 2 (ended a day ago) is due at the next
	 * pass, which only the pass can tell */
	acme->retention_days = 1;
	retention_refresh(&f->c, acme);
	assert_true(p->pending);
	assert_int_equal(p->due_runs, 0);
	retention_turn(&f->c); /* the whole pass, in one slice */
	write_batch(f, f->c.batch);
	assert_false(p->pending);
	assert_int_equal(p->due_runs, 1);
	assert_int_equal(p->due_lines, 20);
	assert_int_equal(f->c.retention_due_mono,
			 f->c.now_mono + f->cfg.retention_interval_s * 1000);
	/* changed while a pass is under way: that pass cannot count it, the
	 * next one starts right after */
	retention_slice(&f->c, 2, RETENTION_MAX_REMOVED, &done);
	write_batch(f, f->c.batch);
	assert_false(done);
	acme->retention_days = 2;
	retention_refresh(&f->c, acme);
	assert_true(f->c.ret_again);
	retention_turn(&f->c); /* the rest of it */
	write_batch(f, f->c.batch);
	assert_false(f->c.ret_again);
	assert_true(p->pending);
	assert_int_equal(f->c.retention_due_mono, f->c.now_mono);
	retention_turn(&f->c); /* the next, at once */
	write_batch(f, f->c.batch);
	assert_false(p->pending);
	assert_int_equal(p->due_runs, 0);
	assert_int_equal(p->kept_ended, 2);
}

struct scan_seen {
	uint32_t ids;
};

static int saw_stored(struct sched *c, uint64_t id, void *arg)
{
	struct scan_seen *s = arg;
	(void)c;
	s->ids |= 1u << id;
	return 0;
}

static uint32_t scan_ids(struct rfx *f, const char *owner)
{
	struct scan_seen s = { 0 };
	assert_int_equal(runstore_scan_ids(&f->c, owner, saw_stored, &s), 0);
	return s.ids;
}

/* A scan of one tenant's or environment's stored runs decodes no record:
 * each one's job key says whose it is. beta's run 9, whose record names
 * its job but is damaged after it, is beta's (a tenant delete removes
 * it); run 10, whose record cannot be read at all, is nobody's, and only
 * that one is decoded (to log what is wrong with it). */
static void test_scan_by_owner(void **state)
{
	struct rfx *f = *state;
	struct store_batch *b = store_batch_new();
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t declined;
	uint8_t key[8];
	size_t removed;
	char err[256];

	f->cfg.ended_runs_in_memory_s = 0;
	pass(f, RETENTION_SLICE, &removed); /* runs 2 (acme), 3 (beta) */
	add_run(f, b, "beta", DAY, DAY / 2, NULL); /* 9 */
	write_batch(f, b);
	state_page_out(&f->st, state_run(&f->st, 9));
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 29);
	msgpack_pack_int(&pk, 2);
	msgpack_pack_uint64(&pk, 9);
	msgpack_pack_str_with_body(&pk, "beta/prod/j", 11);
	for (int i = 3; i < 29; i++)
		msgpack_pack_nil(&pk);
	store_put_u64be(key, 9);
	store_batch_put(b, f->store, CF_RUNS, key, 8, sb.data, sb.size);
	assert_int_equal(store_write(f->store, b, true, err, sizeof(err)), 0);
	msgpack_sbuffer_destroy(&sb);
	store_batch_free(b);

	declined = run_decode_declined();
	assert_int_equal(scan_ids(f, "acme"), 1u << 2);
	assert_int_equal(scan_ids(f, "acme/prod"), 1u << 2);
	assert_int_equal(scan_ids(f, "beta"), 1u << 3 | 1u << 9);
	assert_int_equal(scan_ids(f, "beta/prod"), 1u << 3 | 1u << 9);
	assert_int_equal(scan_ids(f, "beta/dev"), 0);
	assert_int_equal(scan_ids(f, NULL), 1u << 2 | 1u << 3 | 1u << 9);
	assert_int_equal(run_decode_declined(), declined);

	/* run 10: not even its job can be read */
	b = store_batch_new();
	add_run(f, b, "beta", DAY, DAY / 2, NULL); /* 10 */
	write_batch(f, b);
	state_page_out(&f->st, state_run(&f->st, 10));
	store_put_u64be(key, 10);
	store_batch_put(b, f->store, CF_RUNS, key, 8, "\x93\x02", 2);
	assert_int_equal(store_write(f->store, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	assert_int_equal(scan_ids(f, "beta"), 1u << 3 | 1u << 9);
	assert_int_equal(run_decode_declined(), declined + 1);
	assert_int_equal(scan_ids(f, NULL),
			 1u << 2 | 1u << 3 | 1u << 9 | 1u << 10);
	assert_int_equal(scan_ids(f, "gamma"), 0);
	/* a tenant whose name another begins with is not that one */
	assert_int_equal(scan_ids(f, "acm"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_removes_expired_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_then_expires, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_figures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slice_bound, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ended_runs_leave_memory,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_stored_run,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_figures_with_stored_runs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_by_owner, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
