/* metrics_render.c - the scheduler's state as Prometheus text, on the core
 * thread, once a second while /metrics is served (metrics.h). Labels are
 * tenants and environments only, never runs or agents, so the number of
 * series is bounded by the configuration, not by the traffic. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "metrics.h"
#include "sched_ctx.h"
#include "version.h"
#include "schedule_core.h"
#include "webhook_core.h"
#include "wire.h"

/* A label value, escaped as the text format wants (\\, \", \n). */
static void head(struct strbuf *o, const char *name, const char *type,
		 const char *help);

/* Webhook deliveries (webhook_core.h): outcomes since the start, and
 * those waiting (not dead) now. */
static void webhook_metrics(struct sched *c, struct strbuf *o)
{
	const struct webhook_core *w = c->webhooks;

	if (!w)
		return;
	head(o, "sparkpilot_webhook_deliveries_total", "counter",
	     "Webhook delivery attempts since the start, by outcome (dead: "
	     "given up past webhook_max_age_s).");
	strbuf_addf(o, "sparkpilot_webhook_deliveries_total{result=\"delivered\"} "
		    "%" PRIu64 "\n", w->n_delivered);
	strbuf_addf(o, "sparkpilot_webhook_deliveries_total{result=\"failed\"} "
		    "%" PRIu64 "\n", w->n_failed);
	strbuf_addf(o, "sparkpilot_webhook_deliveries_total{result=\"dead\"} "
		    "%" PRIu64 "\n", w->n_dead);
	head(o, "sparkpilot_webhook_pending", "gauge",
	     "Webhook deliveries waiting to be delivered (in the outbox, "
	     "not dead).");
	strbuf_addf(o, "sparkpilot_webhook_pending %" PRIu64 "\n", w->pending);
}

/* Recurring schedules (schedule_core.h): their firings since the start,
 * by outcome, and how many there are. */
static void schedule_metrics(struct sched *c, struct strbuf *o)
{
	const struct schedule_core *sc = c->schedules;
	static const char *const names[] = { "started", "skipped", "missed",
					     "refused" };
	uint64_t v[4];

	if (!sc)
		return;
	v[0] = sc->n_fired;
	v[1] = sc->n_skipped;
	v[2] = sc->n_missed;
	v[3] = sc->n_refused;
	head(o, "sparkpilot_schedule_firings_total", "counter",
	     "Schedule firing times since the start, by outcome (skipped: "
	     "concurrency forbid; missed: catch-up or starting deadline; "
	     "refused: the start was refused).");
	for (int i = 0; i < 4; i++)
		strbuf_addf(o, "sparkpilot_schedule_firings_total{outcome=\"%s\"} "
			    "%" PRIu64 "\n", names[i], v[i]);
	head(o, "sparkpilot_schedules", "gauge", "Recurring schedules.");
	strbuf_addf(o, "sparkpilot_schedules %zu\n", sc->defs.n);
}

static void label(struct strbuf *o, const char *name, const char *v)
{
	strbuf_addf(o, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			strbuf_addf(o, "\\%c", *v);
		else if (*v == '\n')
			strbuf_addstr(o, "\\n");
		else
			strbuf_add(o, v, 1);
	}
	strbuf_addstr(o, "\"");
}

static void head(struct strbuf *o, const char *name, const char *type,
		 const char *help)
{
	strbuf_addf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void env_sample(struct strbuf *o, const char *name,
		       const struct env *e, const char *extra_name,
		       const char *extra, double v)
{
	if (e->deleted_ms) /* env delete: its series end */
		return;
	strbuf_addf(o, "%s{", name);
	label(o, "tenant", e->tenant);
	strbuf_addstr(o, ",");
	label(o, "env", e->key);
	if (extra_name) {
		strbuf_addstr(o, ",");
		label(o, extra_name, extra);
	}
	strbuf_addf(o, "} %.17g\n", v);
}

static void tenant_sample(struct strbuf *o, const char *name,
			  const struct tenant *t, double v)
{
	strbuf_addf(o, "%s{", name);
	label(o, "tenant", t->name);
	strbuf_addf(o, "} %.17g\n", v);
}

/* A latency histogram in seconds, bucket bounds at powers of two of
 * microseconds (where lathist's counts are exact). */
static void histogram(struct strbuf *o, const char *name, const char *help,
		      const struct lathist *h)
{
	head(o, name, "histogram", help);
	for (int k = 6; k <= 24; k += 2)
		strbuf_addf(o, "%s_bucket{le=\"%.6g\"} %" PRIu64 "\n", name,
			    (double)(1ULL << k) / 1e6,
			    lathist_below_pow2(h, k));
	strbuf_addf(o, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->n);
	strbuf_addf(o, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name,
		    (double)h->sum_us / 1e6, name, h->n);
}

static void runs(struct sched *c, struct strbuf *o, const int64_t *since)
{
	struct ptrvec *envs = &c->st->envs;
	static const char *const ended[] = { "succeeded", "failed",
					     "cancelled", "timed_out" };

	head(o, "sparkpilot_runs", "gauge",
	     "Runs queued or live (leased, submitted, running) now.");
	for (size_t i = 0; i < envs->n; i++) {
		const struct env *e = envs->v[i];
		env_sample(o, "sparkpilot_runs", e, "state", "queued",
			   e->n_queued);
		env_sample(o, "sparkpilot_runs", e, "state", "running",
			   e->n_running);
	}
	head(o, "sparkpilot_runs_ended_total", "counter",
	     "Runs that ended since the scheduler started, by final state.");
	for (size_t i = 0; i < envs->n; i++)
		for (int s = 0; s < 4; s++)
			env_sample(o, "sparkpilot_runs_ended_total", envs->v[i],
				   "state", ended[s],
				   (double)((const struct env *)envs->v[i])
					   ->ended[s]);
	head(o, "sparkpilot_queue_oldest_seconds", "gauge",
	     "How long the longest-waiting queued run has waited (0: none).");
	for (size_t i = 0; i < envs->n; i++)
		env_sample(o, "sparkpilot_queue_oldest_seconds", envs->v[i],
			   NULL, NULL,
			   since[i] && c->now_ms > since[i]
				   ? (double)(c->now_ms - since[i]) / 1000
				   : 0);
	head(o, "sparkpilot_dispatched_total", "counter",
	     "Runs handed to agents since the start.");
	for (size_t i = 0; i < envs->n; i++)
		env_sample(o, "sparkpilot_dispatched_total", envs->v[i], NULL,
			   NULL,
			   (double)((const struct env *)envs->v[i])->dispatched);
	head(o, "sparkpilot_starts_refused_total", "counter",
	     "Run starts refused since the start, by reason: busy (the "
	     "global queue limit), quota_exceeded, budget_exceeded.");
	static const char *const why[] = { "busy", "quota_exceeded",
					   "budget_exceeded" };
	for (size_t i = 0; i < envs->n; i++)
		for (int k = 0; k < 3; k++)
			env_sample(o, "sparkpilot_starts_refused_total",
				   envs->v[i], "reason", why[k],
				   (double)((const struct env *)envs->v[i])
					   ->refused_by[k]);
}

/* One environment's agents, summed. */
struct env_agents {
	uint64_t n[3], spool, events, bytes;
	int64_t stalest_ms;
};

/* Per environment: agents by state, the most silent active one, what
 * their spools hold, telemetry stored; and rejected messages by reason
 * for the whole scheduler. Each family's samples together, as the text
 * format wants. */
static void agents(struct sched *c, struct strbuf *o)
{
	struct ptrvec *envs = &c->st->envs, *ags = &c->st->agents;
	static const char *const states[] = { "active", "draining", "revoked" };
	static const char *const why[] = { "forged", "replayed", "unsigned",
					   "stale", "malformed" };
	struct env_agents *ea = xcalloc(envs->n + 1, sizeof(*ea));
	uint64_t rej[5] = { 0 };

	/* one pass over the agents, each to its environment's sums (a
	 * fleet of thousands renders every second on the core thread) */
	struct hmap by_env = { 0 };
	for (size_t i = 0; i < envs->n; i++)
		hmap_puts(&by_env, ((const struct env *)envs->v[i])->key, &ea[i]);
	for (size_t k = 0; k < ags->n; k++) {
		const struct agent *a = ags->v[k];
		struct env_agents *x = hmap_gets(&by_env, a->env);
		if (!x)
			continue;
		x->n[a->state]++;
		x->spool += a->spool_records;
		x->events += a->tb_events;
		x->bytes += a->tb_bytes;
		if (a->state == AGENT_ACTIVE &&
		    c->now_ms - a->last_seen_ms > x->stalest_ms)
			x->stalest_ms = c->now_ms - a->last_seen_ms;
	}
	hmap_release(&by_env);
	head(o, "sparkpilot_environment_ready", "gauge",
	     "1 while the environment is ready (an agent passed its "
	     "preflight), 0 pending, validating or failed.");
	for (size_t i = 0; i < envs->n; i++)
		env_sample(o, "sparkpilot_environment_ready", envs->v[i], NULL,
			   NULL,
			   ((const struct env *)envs->v[i])->state == ENV_READY);
	head(o, "sparkpilot_agents", "gauge", "Enrolled agents by state.");
	for (size_t i = 0; i < envs->n; i++)
		for (int s = 0; s < 3; s++)
			env_sample(o, "sparkpilot_agents", envs->v[i], "state",
				   states[s], (double)ea[i].n[s]);
	head(o, "sparkpilot_agent_last_seen_seconds", "gauge",
	     "Seconds since the most silent active agent was heard from.");
	for (size_t i = 0; i < envs->n; i++)
		env_sample(o, "sparkpilot_agent_last_seen_seconds", envs->v[i],
			   NULL, NULL, (double)ea[i].stalest_ms / 1000);
	head(o, "sparkpilot_agent_spool_records", "gauge",
	     "Telemetry records waiting in the agents' spools, as last "
	     "reported.");
	for (size_t i = 0; i < envs->n; i++)
		env_sample(o, "sparkpilot_agent_spool_records", envs->v[i], NULL,
			   NULL, (double)ea[i].spool);
	head(o, "sparkpilot_telemetry_events_total", "counter",
	     "Telemetry events stored.");
	for (size_t i = 0; i < envs->n; i++)
		env_sample(o, "sparkpilot_telemetry_events_total", envs->v[i],
			   NULL, NULL, (double)ea[i].events);
	head(o, "sparkpilot_telemetry_bytes_total", "counter",
	     "Telemetry received and stored, in compressed bytes.");
	for (size_t i = 0; i < envs->n; i++)
		env_sample(o, "sparkpilot_telemetry_bytes_total", envs->v[i],
			   NULL, NULL, (double)ea[i].bytes);
	free(ea);
	for (size_t k = 0; k < ags->n; k++) {
		const struct agent *a = ags->v[k];
		rej[0] += a->rejected_forged + a->tb_rejected_forged;
		rej[1] += a->rejected_replayed + a->tb_rejected_replayed;
		rej[2] += a->rejected_unsigned;
		rej[3] += a->rejected_stale + a->tb_rejected_stale;
		rej[4] += a->tb_rejected_malformed;
	}
	rej[4] += c->rejected_malformed; /* from no known agent */
	head(o, "sparkpilot_rejected_messages_total", "counter",
	     "Agent messages and telemetry batches refused, by reason.");
	for (int r = 0; r < 5; r++)
		strbuf_addf(o,
			    "sparkpilot_rejected_messages_total{reason=\"%s\"} "
			    "%" PRIu64 "\n",
			    why[r], rej[r]);
}

/* A tenant's money figure, micro-USD, shown in USD. */
struct usd_family {
	const char *name, *help;
	int64_t (*of)(const struct tenant *t);
};

static int64_t spent(const struct tenant *t) { return t->month_spent; }
static int64_t committed(const struct tenant *t) { return t->committed; }
static int64_t limit(const struct tenant *t) { return t->monthly_budget; }
static int64_t projected(const struct tenant *t) { return t->guard.projection; }

static void budgets(struct sched *c, struct strbuf *o)
{
	static const struct usd_family fams[] = {
		{ "sparkpilot_budget_spent_usd",
		  "This month's spend of ended attempts.", spent },
		{ "sparkpilot_budget_committed_usd",
		  "Estimates of live runs, not spent yet.", committed },
		{ "sparkpilot_budget_limit_usd", "The monthly budget (0: none).",
		  limit },
		{ "sparkpilot_budget_projected_usd",
		  "The burn-rate guard's last projection of the month's spend "
		  "(hard budgets).",
		  projected },
	};
	struct ptrvec *ts = &c->st->tenants;

	for (size_t f = 0; f < ARRAY_SIZE(fams); f++) {
		head(o, fams[f].name, "gauge", fams[f].help);
		for (size_t i = 0; i < ts->n; i++)
			tenant_sample(o, fams[f].name, ts->v[i],
				      (double)fams[f].of(ts->v[i]) / 1e6);
	}
	head(o, "sparkpilot_budget_breaker_open", "gauge",
	     "The cost circuit breaker: 0 closed, 1 open, 0.5 half-open.");
	for (size_t i = 0; i < ts->n; i++) {
		const struct tenant *t = ts->v[i];
		tenant_sample(o, "sparkpilot_budget_breaker_open", t,
			      t->guard.breaker == BREAKER_OPEN	      ? 1
			      : t->guard.breaker == BREAKER_HALF_OPEN ? 0.5
								      : 0);
	}
}

void metrics_render(struct sched *c, struct strbuf *o)
{
	struct policy *p = &c->pol;
	int64_t *esince = xcalloc(c->st->envs.n + 1, sizeof(*esince));
	int64_t *tsince = xcalloc(c->st->tenants.n + 1, sizeof(*tsince));
	struct store_memstats ms;

	head(o, "sparkpilot_build_info", "gauge",
	     "The build; its value is always 1.");
	strbuf_addstr(o, "sparkpilot_build_info{");
	label(o, "version", sp_version());
	strbuf_addf(o,
		    ",store_format=\"%d\",agent_protocol=\"%d\"} 1\n",
		    STORE_FORMAT_VERSION, WIRE_VERSION);
	policy_oldest_queued(p, esince, tsince);
	runs(c, o, esince);
	head(o, "sparkpilot_retries_total", "counter",
	     "Failed attempts queued again.");
	strbuf_addf(o, "sparkpilot_retries_total %" PRIu64 "\n", p->retries);
	head(o, "sparkpilot_runs_skipped_total", "counter",
	     "Runs skipped because a run they waited for did not end as "
	     "required.");
	strbuf_addf(o, "sparkpilot_runs_skipped_total %" PRIu64 "\n",
		    p->skipped);
	head(o, "sparkpilot_leases_lost_total", "counter",
	     "Leases lost with a silent agent.");
	strbuf_addf(o, "sparkpilot_leases_lost_total %" PRIu64 "\n",
		    p->lost_runs);
	head(o, "sparkpilot_dispatch_paused", "gauge",
	     "1 while dispatch is paused (spctl dispatch pause).");
	strbuf_addf(o, "sparkpilot_dispatch_paused %d\n", p->paused ? 1 : 0);
	agents(c, o);
	budgets(c, o);
	histogram(o, "sparkpilot_wal_sync_seconds",
		  "The synced store write that ends a core turn.", &c->sync_us);
	histogram(o, "sparkpilot_dispatch_seconds",
		  "A run's wait from entering the queue (its start, or its "
		  "retry) to being leased to an agent; millisecond "
		  "resolution.",
		  &c->dispatch_us);
	histogram(o, "sparkpilot_core_turn_seconds",
		  "A core turn, from taking its events to its replies.",
		  &c->turn_us);
	store_memstats(c->store, &ms);
	head(o, "sparkpilot_store_bytes", "gauge",
	     "The store's table files and memtables.");
	strbuf_addf(o, "sparkpilot_store_bytes{part=\"sst\"} %" PRIu64 "\n",
		    ms.sst_bytes);
	strbuf_addf(o, "sparkpilot_store_bytes{part=\"memtable\"} %" PRIu64
		    "\n", ms.memtable_bytes);
	head(o, "sparkpilot_store_free_bytes", "gauge",
	     "Free space on the data dir's filesystem.");
	strbuf_addf(o, "sparkpilot_store_free_bytes %" PRIu64 "\n",
		    c->disk.free_bytes);
	head(o, "sparkpilot_store_floor_bytes", "gauge",
	     "Below this free space new runs are refused.");
	strbuf_addf(o, "sparkpilot_store_floor_bytes %" PRIu64 "\n",
		    c->disk.floor_bytes);
	head(o, "sparkpilot_backup_last_success_timestamp_seconds", "gauge",
	     "When the newest good backup was taken (Unix time); 0: none "
	     "known (no backup_dir, or none taken).");
	strbuf_addf(o, "sparkpilot_backup_last_success_timestamp_seconds %"
		    PRId64 "\n", c->backup_last_ok_ms / 1000);
	head(o, "sparkpilot_backups_total", "counter",
	     "backup create since the start, by result.");
	strbuf_addf(o, "sparkpilot_backups_total{result=\"ok\"} %" PRIu64
		    "\nsparkpilot_backups_total{result=\"failed\"} %" PRIu64
		    "\n", c->backups_ok, c->backups_failed);
	head(o, "sparkpilot_retention_removed_runs_total", "counter",
	     "Ended runs removed by retention since the start.");
	strbuf_addf(o, "sparkpilot_retention_removed_runs_total %" PRIu64
		    "\n", c->ret_removed);
	head(o, "sparkpilot_runs_in_store_only", "gauge",
	     "Ended runs kept only in the store (read back when asked "
	     "for), not in memory.");
	strbuf_addf(o, "sparkpilot_runs_in_store_only %" PRIu64 "\n",
		    c->st->runs_stored);
	head(o, "sparkpilot_runs_read_back_total", "counter",
	     "Ended runs read back from the store into memory since the "
	     "start.");
	strbuf_addf(o, "sparkpilot_runs_read_back_total %" PRIu64 "\n",
		    c->runs_read_back);
	head(o, "sparkpilot_retention_last_pass_timestamp_seconds", "gauge",
	     "When the last retention pass ended (Unix time); 0: none yet.");
	strbuf_addf(o, "sparkpilot_retention_last_pass_timestamp_seconds %"
		    PRId64 "\n", c->ret_last_pass_ms / 1000);
	head(o, "sparkpilot_store_unavailable", "gauge",
	     "1 while the store takes no writes (disk full, I/O error).");
	strbuf_addf(o, "sparkpilot_store_unavailable %d\n",
		    c->disk.down ? 1 : 0);
	webhook_metrics(c, o);
	schedule_metrics(c, o);
	free(esince);
	free(tsince);
}
