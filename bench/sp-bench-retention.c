/*
 * sp-bench-retention - what one retention slice (retention.c) costs the
 * core thread over a store of N runs (default 1,000,000) of two tenants:
 *   - a pass that finds nothing to remove (every run within retention):
 *     the walk alone, RETENTION_SLICE ids a turn;
 *   - a pass that removes every run: each turn's slice (deletions into the
 *     batch, runs freed) and the synced commit of that batch;
 *   - retention_refresh: one tenant's figures by a walk of the id array
 *     (tenant set --retention-days, the first tenant show after a start).
 *
 *   sp-bench-retention DIR [RUNS]
 * Prints the slowest and the median slice of each kind, in ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "retention.h"
#include "sched_ctx.h"
#include "util.h"

#define DAY (86400LL * 1000)
#define NOW (20801LL * DAY)

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void add_tenant(struct sched_state *st, const char *name)
{
	struct tenant *t = xcalloc(1, sizeof(*t));
	struct env *e = xcalloc(1, sizeof(*e));
	struct job *j = xcalloc(1, sizeof(*j));

	snprintf(t->name, sizeof(t->name), "%s", name);
	t->weight = 1;
	t->retention_days = 7;
	state_add_tenant(st, t);
	snprintf(e->key, sizeof(e->key), "%s/prod", name);
	snprintf(e->tenant, sizeof(e->tenant), "%s", name);
	snprintf(e->name, sizeof(e->name), "prod");
	state_add_env(st, e);
	snprintf(j->key, sizeof(j->key), "%s/prod/j", name);
	snprintf(j->tenant, sizeof(j->tenant), "%s", name);
	snprintf(j->env, sizeof(j->env), "%s/prod", name);
	snprintf(j->name, sizeof(j->name), "j");
	j->max_attempts = 1;
	state_add_job(st, j);
}

static void report(const char *what, int64_t *t, size_t n)
{
	qsort(t, n, sizeof(t[0]), cmp_i64);
	printf("  %-10s median %.2f ms, slowest %.2f ms\n", what,
	       t[n / 2] / 1000.0, t[n - 1] / 1000.0);
}

/* One pass in slices: the time of each slice and of its synced commit. */
static void pass(struct sched *c, const char *what)
{
	static int64_t ts[8192], tc[8192];
	size_t n = 0, removed = 0;
	bool done = false;
	char err[256];

	while (!done && n < ARRAY_SIZE(ts)) {
		int64_t t0 = time_mono_us(), t1;
		removed += retention_slice(c, RETENTION_SLICE,
					   RETENTION_MAX_REMOVED, &done);
		t1 = time_mono_us();
		if (store_batch_count(c->batch) &&
		    store_write(c->store, c->batch, true, err, sizeof(err)))
			die("store_write: %s", err);
		store_batch_clear(c->batch);
		ts[n] = t1 - t0;
		tc[n++] = time_mono_us() - t1;
	}
	printf("%s: %zu slices, %zu runs removed\n", what, n, removed);
	report("slice", ts, n);
	if (removed)
		report("commit", tc, n);
}

int main(int argc, char **argv)
{
	size_t runs = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	struct sched_state st;
	struct sched_config cfg;
	struct policy_limits lim;
	struct store_batch *b;
	struct sched c;
	char err[256];
	int64_t t0;

	if (argc < 2)
		die("usage: sp-bench-retention DIR [RUNS]");
	memset(&c, 0, sizeof(c));
	c.store = store_open(argv[1], err, sizeof(err));
	if (!c.store)
		die("%s", err);
	config_defaults(&cfg);
	state_init(&st);
	add_tenant(&st, "acme");
	add_tenant(&st, "beta");
	/* runs ended 3 days ago, each with a record in the store */
	b = store_batch_new();
	for (size_t i = 0; i < runs; i++) {
		struct run *r = state_new_run(&st, st.jobs.v[i % 2]);
		r->state = RUN_SUCCEEDED;
		r->attempt = 1;
		r->created_ms = NOW - 3 * DAY - 60000;
		run_set_state_ms(r, RUN_SUCCEEDED, NOW - 3 * DAY);
		records_put_run(b, c.store, r);
		if (store_batch_count(b) >= 10000) {
			if (store_write(c.store, b, false, err, sizeof(err)))
				die("%s", err);
			store_batch_clear(b);
		}
	}
	if (store_write(c.store, b, true, err, sizeof(err)))
		die("%s", err);
	store_batch_free(b);
	policy_limits_defaults(&lim);
	c.st = &st;
	c.cfg = &cfg;
	c.batch = store_batch_new();
	c.now_ms = NOW;
	policy_init(&c.pol, &st, &lim, NOW, 0);

	t0 = time_mono_us();
	retention_refresh(&c, st.tenants.v[0]);
	printf("%-34s %.2f ms\n", "figures of one tenant (a walk)",
	       (time_mono_us() - t0) / 1000.0);
	pass(&c, "pass, nothing expired");
	c.now_ms = NOW + 5 * DAY;
	pass(&c, "pass, every run expired (+commit)");
	pass(&c, "pass after, ids all empty");
	policy_release(&c.pol);
	store_batch_free(c.batch);
	state_release(&st);
	store_close(c.store);
	return 0;
}
