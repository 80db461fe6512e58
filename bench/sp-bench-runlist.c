/*
 * sp-bench-runlist - what `run list` with a filter costs, against a real
 * core thread over a store of N runs (default 3,000,000): four tenants,
 * three jobs each, five creators, about 3% of the runs failed (with a
 * failure class), the rest succeeded. Each query is asked the way spctl
 * asks it: page after page from the cursor until --limit rows or the end
 * (cmd_run_list.c, run_list_scan_max). For each it prints, over the
 * repetitions:
 *   - the time of one query (every page, as spctl sees it), median and max;
 *   - the core stall: the longest the core thread was busy with one page
 *     (its CPU time from posting the page to its reply; nothing else runs
 *     on it meanwhile), median and max;
 *   - the pages one query took.
 * Then the same with every run kept only in the store, as a scheduler
 * keeps the runs that ended more than ended_runs_in_memory_s ago: each
 * one a page examines is read back from the store. Each phase also times
 * the core stall and the reply time of `report env` over one tenant's
 * environment (a quarter of the runs), and the stored phase those of
 * `tenant delete` of another tenant: both pass over every run of the
 * store (on worker threads: the report's scan, the delete's search).
 *
 *   sp-bench-runlist DIR [RUNS [REPEAT [SCAN_MAX]]]
 * SCAN_MAX sets run_list_scan_max (default RUN_LIST_SCAN_MAX), to compare.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmdline.h"
#include "config.h"
#include "core.h"
#include "json.h"
#include "keyreg.h"
#include "keyring.h"
#include "parse.h"
#include "records.h"
#include "sched_ctx.h"
#include "util.h"

#define TENANTS 4
#define JOBS 3
#define CREATORS 5

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct strbuf answer = STRBUF_INIT;
static bool answered;

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void on_done(struct event *ev)
{
	pthread_mutex_lock(&mu);
	strbuf_reset(&answer);
	strbuf_add(&answer, ev->reply.buf, ev->reply.len);
	answered = true;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	event_free(ev);
}

static int64_t cpu_us(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One admin line to the core, as the admin socket posts it; the reply
 * into out, the core thread's CPU time for it into *busy_us. */
static void ask(struct sched *c, clockid_t core_clk, const char *line,
		struct strbuf *out, int64_t *busy_us)
{
	struct event *ev = event_new(EV_ADMIN);
	char err[128];
	int64_t t0;

	if (cmdline_split(line, strlen(line), &ev->cmd, err, sizeof(err)))
		die("%s: %s", line, err);
	ev->done = on_done;
	pthread_mutex_lock(&mu);
	answered = false;
	t0 = cpu_us(core_clk);
	core_post(c, ev);
	while (!answered)
		pthread_cond_wait(&cv, &mu);
	*busy_us = cpu_us(core_clk) - t0;
	strbuf_reset(out);
	strbuf_add(out, answer.buf, answer.len);
	pthread_mutex_unlock(&mu);
}

struct query_cost {
	int64_t wall_us, stall_us;
	size_t pages, rows;
};

/* A query as spctl runs it: pages until `limit` rows or complete. */
static void query(struct sched *c, clockid_t clk, const char *filters,
		  size_t limit, struct query_cost *q)
{
	struct strbuf out = STRBUF_INIT;
	uint64_t after = 0;
	int64_t t0 = time_mono_us();
	char line[512], err[128];

	memset(q, 0, sizeof(*q));
	for (;;) {
		struct json *j;
		const struct json *items, *nx;
		int64_t busy;
		int n = snprintf(line, sizeof(line), "run list %s --limit %zu",
				 filters, limit - q->rows);
		if (after)
			snprintf(line + n, sizeof(line) - (size_t)n,
				 " --after-id %llu", (unsigned long long)after);
		ask(c, clk, line, &out, &busy);
		j = json_parse(out.buf, out.len, err, sizeof(err));
		if (!j || !json_get_bool(j, "ok"))
			die("%s: %s", line, out.buf);
		q->pages++;
		if (busy > q->stall_us)
			q->stall_us = busy;
		items = json_get(j, "items");
		q->rows += items ? items->n : 0;
		nx = json_get(j, "next_after_id");
		if (json_get_bool(j, "complete") || q->rows >= limit || !nx ||
		    nx->type != JSON_NUMBER ||
		    parse_u64(nx->str, 1, UINT64_MAX, &after, NULL, 0)) {
			json_free(j);
			break;
		}
		json_free(j);
	}
	q->wall_us = time_mono_us() - t0;
	strbuf_release(&out);
}

static void report(struct sched *c, clockid_t clk, const char *filters,
		   size_t limit, int repeat)
{
	int64_t *wall = xcalloc((size_t)repeat, sizeof(*wall));
	int64_t *stall = xcalloc((size_t)repeat, sizeof(*stall));
	struct query_cost q;

	for (int i = 0; i < repeat; i++) {
		query(c, clk, filters, limit, &q);
		wall[i] = q.wall_us;
		stall[i] = q.stall_us;
	}
	qsort(wall, (size_t)repeat, sizeof(*wall), cmp_i64);
	qsort(stall, (size_t)repeat, sizeof(*stall), cmp_i64);
	printf("run list %s --limit %zu: %zu rows, %zu pages\n", filters,
	       limit, q.rows, q.pages);
	printf("  query       median %8.2f ms, max %8.2f ms (%d queries)\n",
	       wall[repeat / 2] / 1000.0, wall[repeat - 1] / 1000.0, repeat);
	printf("  core stall  median %8.2f ms, max %8.2f ms (longest page)\n",
	       stall[repeat / 2] / 1000.0, stall[repeat - 1] / 1000.0);
	free(wall);
	free(stall);
}

/* A command that reads (or removes) every run of a tenant or an
 * environment: its core stall and the time to its reply (a report reads
 * the store on a worker thread: its reply takes longer than the core's
 * share of it) over the repetitions. */
static void whole(struct sched *c, clockid_t clk, const char *line,
		  int repeat)
{
	int64_t *stall = xcalloc((size_t)repeat, sizeof(*stall));
	int64_t *wall = xcalloc((size_t)repeat, sizeof(*wall));
	struct strbuf out = STRBUF_INIT;

	for (int i = 0; i < repeat; i++) {
		int64_t t0 = time_mono_us();
		ask(c, clk, line, &out, &stall[i]);
		wall[i] = time_mono_us() - t0;
		if (strncmp(out.buf, "{\"ok\":true", 10))
			die("%s: %s", line, out.buf);
	}
	qsort(stall, (size_t)repeat, sizeof(*stall), cmp_i64);
	qsort(wall, (size_t)repeat, sizeof(*wall), cmp_i64);
	printf("%s\n  core stall  median %8.2f ms, max %8.2f ms "
	       "(%d times)\n  reply       median %8.2f ms, max %8.2f ms\n",
	       line, stall[repeat / 2] / 1000.0, stall[repeat - 1] / 1000.0,
	       repeat, wall[repeat / 2] / 1000.0, wall[repeat - 1] / 1000.0);
	strbuf_release(&out);
	free(stall);
	free(wall);
}

static void add_tenant(struct sched_state *st, int n)
{
	struct tenant *t = xcalloc(1, sizeof(*t));
	struct env *e = xcalloc(1, sizeof(*e));

	snprintf(t->name, sizeof(t->name), "t%d", n);
	t->weight = 1;
	state_add_tenant(st, t);
	snprintf(e->key, sizeof(e->key), "t%d/prod", n);
	snprintf(e->tenant, sizeof(e->tenant), "t%d", n);
	snprintf(e->name, sizeof(e->name), "prod");
	state_add_env(st, e);
	for (int k = 0; k < JOBS; k++) {
		struct job *j = xcalloc(1, sizeof(*j));
		snprintf(j->key, sizeof(j->key), "t%d/prod/j%d", n, k);
		snprintf(j->tenant, sizeof(j->tenant), "t%d", n);
		snprintf(j->env, sizeof(j->env), "t%d/prod", n);
		snprintf(j->name, sizeof(j->name), "j%d", k);
		j->max_attempts = 1;
		state_add_job(st, j);
	}
}

/* The store: tenants, environments, jobs, then RUNS ended runs, each with
 * its record, as a scheduler would have written them. */
static void build(struct store *s, size_t runs)
{
	struct sched_state st;
	struct store_batch *b = store_batch_new();
	int64_t now = time_now_ms();
	char err[256], who[32];

	state_init(&st);
	for (int i = 0; i < TENANTS; i++)
		add_tenant(&st, i);
	for (size_t i = 0; i < st.tenants.n; i++)
		records_put_tenant(b, s, st.tenants.v[i]);
	for (size_t i = 0; i < st.envs.n; i++)
		records_put_env(b, s, st.envs.v[i]);
	for (size_t i = 0; i < st.jobs.n; i++)
		records_put_job(b, s, st.jobs.v[i]);
	for (size_t i = 0; i < runs; i++) {
		struct run *r = state_new_run(&st, st.jobs.v[i % st.jobs.n]);
		bool failed = i % 33 == 7; /* 3% */
		snprintf(who, sizeof(who), "uid:%zu", 1000 + i % CREATORS);
		r->creator = state_creator(&st, who);
		r->state = failed ? RUN_FAILED : RUN_SUCCEEDED;
		r->attempt = 1;
		r->exit_code = failed;
		r->completions = 1;
		/* within the day: retention keeps them all */
		r->created_ms = now - 3600000 + (int64_t)(i % 1000000);
		run_set_state_ms(r, RUN_QUEUED, r->created_ms);
		run_set_state_ms(r, r->state, r->created_ms + 60000);
		if (failed)
			run_set_str(&run_detail_get(r)->failure_class,
				    i % 2 ? "executor_oom" : "driver_oom");
		records_put_run_by(b, s, r, who);
		if (store_batch_count(b) >= 10000) {
			if (store_write(s, b, false, err, sizeof(err)))
				die("%s", err);
			store_batch_clear(b);
		}
	}
	if (store_write(s, b, true, err, sizeof(err)))
		die("%s", err);
	store_batch_free(b);
	state_release(&st);
}

int main(int argc, char **argv)
{
	size_t runs = argc > 2 ? strtoul(argv[2], NULL, 10) : 3000000;
	int repeat = argc > 3 ? atoi(argv[3]) : 20;
	struct sched_config cfg;
	struct sched_state st;
	struct keyreg *keys = keyreg_new();
	struct store *s;
	struct sched *c;
	struct keyring *kr;
	clockid_t clk;
	char err[1024], master[4200];
	int64_t t0;

	if (argc < 2 || repeat < 1)
		die("usage: sp-bench-runlist DIR [RUNS [REPEAT [SCAN_MAX]]]");
	s = store_open(argv[1], err, sizeof(err));
	if (!s)
		die("%s", err);
	t0 = time_mono_us();
	build(s, runs);
	printf("store of %zu runs written in %.1f s\n", runs,
	       (time_mono_us() - t0) / 1e6);
	/* tenant delete destroys a data key: the keyring a scheduler has,
	 * its master key beside DIR (never inside it) */
	snprintf(master, sizeof(master), "%s.master-key", argv[1]);
	kr = keyring_load(master, argv[1], false, err, sizeof(err));
	if (!kr)
		die("%s", err);
	for (int i = 0; i < TENANTS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "t%d", i);
		if (keyring_ensure(kr, name, time_now_ms(), err, sizeof(err)))
			die("%s", err);
	}
	store_set_keyring(s, kr);
	config_defaults(&cfg);
	snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s", argv[1]);
	cfg.store_min_free_mb = 0;
	cfg.store_min_free_pct = 0;
	if (argc > 4)
		cfg.run_list_scan_max = strtoll(argv[4], NULL, 10);
	printf("run_list_scan_max %lld\n", (long long)cfg.run_list_scan_max);
	/* the runs in memory, then kept only in the store (runstore.h) */
	for (int stored = 0; stored < 2; stored++) {
		t0 = time_mono_us();
		state_init(&st);
		if (stored)
			st.stored_before_ms = time_now_ms();
		if (records_load(s, &st, err, sizeof(err)))
			die("%s", err);
		printf("== runs %s: loaded in %.1f s (%llu in the store only)\n",
		       stored ? "in the store only" : "in memory",
		       (time_mono_us() - t0) / 1e6,
		       (unsigned long long)st.runs_stored);
		c = core_start(s, &st, &cfg, keys);
		if (!c || pthread_getcpuclockid(c->thread, &clk))
			die("cannot start the core");
		report(c, clk, "--state failed", 100, repeat);
		report(c, clk,
		       "--tenant t1 --created-by uid:1003 --state failed", 100,
		       repeat);
		report(c, clk, "--class no-run-has-it", 100,
		       repeat > (stored ? 3 : 5) ? (stored ? 3 : 5) : repeat);
		report(c, clk, "--oldest-first --class no-run-has-it", 100,
		       repeat > (stored ? 3 : 5) ? (stored ? 3 : 5) : repeat);
		/* a quarter of the runs each: the rest are another
		 * tenant's */
		whole(c, clk, "report env t1/prod", repeat > 3 ? 3 : repeat);
		if (stored)
			whole(c, clk, "tenant delete t3 --confirm", 1);
		core_stop(c);
		state_release(&st);
	}
	store_close(s);
	keyring_free(kr);
	unlink(master);
	keyreg_free(keys);
	return 0;
}
