/* cmd_tenant.c - admin commands for tenants and environments. */
#include <stdio.h>
#include <string.h>

#include "admin_cmds.h"
#include "budget.h"
#include "env_backend.h"
#include "keyring.h"
#include "parse.h"
#include "records.h"
#include "retention.h"
#include "sched_ctx.h"
#include "strbuf.h"
#include "util.h"

int cmd_tenant_add(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	char err[256];
	const char *name = a->pos[0];
	const char *mode = arg_str(a, "--budget-mode", "soft");
	struct tenant *t;

	if (name_reason(name, err, sizeof(err)))
		return cmd_fail(r, "invalid", "tenant %s", err);
	if (strcmp(mode, "soft") && strcmp(mode, "hard"))
		return cmd_fail(r, "invalid",
				"--budget-mode: '%.64s' must be soft or hard",
				mode);
	if (state_tenant(c->st, name))
		return cmd_fail(r, "exists", "tenant '%s' already exists", name);
	/* its data key is on disk before anything is sealed with it */
	if (store_keyring(c->store) &&
	    keyring_ensure(store_keyring(c->store), name, c->now_ms, err,
			   sizeof(err)))
		return cmd_fail(r, "internal", "%s", err);
	t = xcalloc(1, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->weight = (uint32_t)arg_num(a, "--weight", 1);
	t->max_running = (uint32_t)arg_num(a, "--max-running", 0);
	t->max_queued = (uint32_t)arg_num(a, "--max-queued", 0);
	t->submit_rate = (uint32_t)arg_num(a, "--submit-rate", 0);
	t->monthly_budget = arg_num(a, "--monthly-budget", 0);
	t->budget_mode = strcmp(mode, "hard") ? BUDGET_SOFT : BUDGET_HARD;
	t->cancel_running = arg_num(a, "--cancel-running", 0);
	t->retention_days = (uint32_t)arg_num(a, "--retention-days", 0);
	t->created_ms = c->now_ms;
	state_add_tenant(c->st, t);
	records_put_tenant(c->batch, c->store, t);
	if (t->monthly_budget) {
		char b[40], what[96];
		format_usd(t->monthly_budget, b, sizeof(b));
		snprintf(what, sizeof(what), "created with a %s USD %s budget",
			 b, t->budget_mode == BUDGET_HARD ? "hard" : "soft");
		budget_changed(&c->pol, t, what);
	}
	jw_str(&r->w, "tenant", t->name);
	jw_strf_print(&r->w, "created tenant %s", t->name);
	return 0;
}

static void write_limit(struct jw *w, const char *key, uint32_t v)
{
	if (v)
		jw_uint(w, key, v);
	else
		jw_str(w, key, "unlimited");
}

/* What the retention pass removes next (docs/operator-guide.md, Data kept
 * and removed): the last pass's tally and the runs ended since. */
static void write_retention(struct sched *c, struct jw *w, struct tenant *t)
{
	struct retention_figures fig, *f = &fig;

	retention_figures(c, t, f);
	jw_obj_open(w, "retention");
	jw_uint(w, "days",
		t->retention_days ? t->retention_days
				  : (uint64_t)c->cfg->log_retention_days);
	jw_time(w, "next_pass", retention_next_pass_ms(c));
	jw_uint(w, "runs_to_remove", f->due_runs);
	jw_uint(w, "log_lines_to_remove", f->due_lines);
	jw_uint(w, "ended_runs_kept", f->kept_ended);
	if (f->held_by_key)
		jw_uint(w, "kept_for_idempotency_key", f->held_by_key);
	if (f->next_expiry_ms)
		jw_time(w, "next_expiry", f->next_expiry_ms);
	else
		jw_str(w, "next_expiry", "none");
	jw_time(w, "as_of", f->as_of_ms);
	/* ended runs kept only in the store are counted by the pass under
	 * way (retention_refresh) */
	if (f->pending)
		jw_bool(w, "pending", true);
	jw_obj_close(w);
}

static void write_tenant(struct sched *c, struct jw *w, struct tenant *t,
			 bool full)
{
	size_t envs = 0, queued = t->n_queued;
	for (size_t i = 0; i < c->st->envs.n; i++) {
		const struct env *e = c->st->envs.v[i];
		envs += !e->deleted_ms && !strcmp(e->tenant, t->name);
	}
	jw_str(w, "name", t->name);
	jw_uint(w, "weight", t->weight);
	write_limit(w, "max_running", t->max_running);
	write_limit(w, "max_queued", t->max_queued);
	if (!full) {
		if (t->monthly_budget)
			jw_usd(w, "monthly_budget", t->monthly_budget);
		else
			jw_str(w, "monthly_budget", "none");
		jw_bool(w, "over_budget", t->over_budget);
	} else {
		write_limit(w, "submit_rate", t->submit_rate);
		jw_uint(w, "retention_days",
			t->retention_days ? t->retention_days
					  : (uint64_t)c->cfg->log_retention_days);
	}
	jw_bool(w, "suspended", t->suspended_ms != 0);
	if (full && t->suspended_ms)
		jw_time(w, "suspended_since", t->suspended_ms);
	jw_uint(w, "environments", envs);
	jw_uint(w, "queued", queued);
	jw_uint(w, "running", t->n_running);
	jw_time(w, "created", t->created_ms);
	if (full) {
		write_tenant_budget(c, w, t);
		write_retention(c, w, t);
	}
}

int cmd_tenant_list(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < c->st->tenants.n; i++) {
		const struct tenant *t = c->st->tenants.v[i];
		if (!cmd_sees(a, t->name))
			continue;
		jw_obj_open(&r->w, NULL);
		write_tenant(c, &r->w, c->st->tenants.v[i], false);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	return 0;
}

int cmd_tenant_show(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct tenant *t = state_tenant(c->st, a->pos[0]);
	if (!t)
		return cmd_fail(r, "not_found", "no tenant '%.64s'", a->pos[0]);
	jw_obj_open(&r->w, "tenant");
	write_tenant(c, &r->w, t, true);
	jw_obj_close(&r->w);
	return 0;
}

/* Appends ", KEY OLD -> NEW" for a limit that changes (0 = unlimited). */
static void note_limit(struct strbuf *sb, const char *key, uint32_t was,
		       uint32_t now)
{
	char a[16], b[16];
	if (was == now)
		return;
	snprintf(a, sizeof(a), "%u", was);
	snprintf(b, sizeof(b), "%u", now);
	strbuf_addf(sb, "%s %s %s -> %s", sb->len ? "," : "", key,
		    was ? a : "unlimited", now ? b : "unlimited");
}

/* What tenant set changes, for its one-line answer. */
static void describe_changes(struct strbuf *sb, const struct tenant *was,
			     const struct tenant *now)
{
	char a[40], b[40];

	if (was->weight != now->weight)
		strbuf_addf(sb, " weight %u -> %u", was->weight, now->weight);
	note_limit(sb, "max-running", was->max_running, now->max_running);
	note_limit(sb, "max-queued", was->max_queued, now->max_queued);
	note_limit(sb, "submit-rate", was->submit_rate, now->submit_rate);
	if (was->monthly_budget != now->monthly_budget) {
		format_usd(was->monthly_budget, a, sizeof(a));
		format_usd(now->monthly_budget, b, sizeof(b));
		strbuf_addf(sb, "%s monthly-budget %s -> %s",
			    sb->len ? "," : "", was->monthly_budget ? a : "none",
			    now->monthly_budget ? b : "none");
	}
	if (was->budget_mode != now->budget_mode)
		strbuf_addf(sb, "%s budget-mode -> %s", sb->len ? "," : "",
			    now->budget_mode == BUDGET_HARD ? "hard" : "soft");
	if (was->cancel_running != now->cancel_running)
		strbuf_addf(sb, "%s cancel-running -> %s", sb->len ? "," : "",
			    now->cancel_running ? "on" : "off");
	if (was->retention_days != now->retention_days)
		strbuf_addf(sb, "%s retention-days -> %u", sb->len ? "," : "",
			    now->retention_days);
}

/* tenant set NAME [--max-running N|unlimited] ... (or max-running=N ...):
 * the same bounds as tenant add; quotas apply from the next start or
 * dispatch (policy_set_tenant_limits). */
int cmd_tenant_set(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct tenant *t = state_tenant(c->st, a->pos[0]), now;
	const char *mode = arg_str(a, "--budget-mode", NULL);
	struct strbuf sb = STRBUF_INIT, money = STRBUF_INIT;
	bool any = false;

	if (!t)
		return cmd_fail(r, "not_found", "no tenant '%.64s'", a->pos[0]);
	for (int i = 0; a->specs[i].name; i++)
		any |= a->set[i];
	if (!any)
		return cmd_fail(r, "usage",
				"nothing to change; usage: tenant set NAME KEY=VALUE... "
				"(keys: weight, max-running, max-queued, submit-rate, "
				"monthly-budget, budget-mode, cancel-running, "
				"retention-days)");
	if (mode && strcmp(mode, "soft") && strcmp(mode, "hard"))
		return cmd_fail(r, "invalid",
				"--budget-mode: '%.64s' must be soft or hard",
				mode);
	now = *t;
	now.weight = (uint32_t)arg_num(a, "--weight", t->weight);
	now.max_running = (uint32_t)arg_num(a, "--max-running", t->max_running);
	now.max_queued = (uint32_t)arg_num(a, "--max-queued", t->max_queued);
	now.submit_rate = (uint32_t)arg_num(a, "--submit-rate", t->submit_rate);
	now.monthly_budget = arg_num(a, "--monthly-budget", t->monthly_budget);
	if (mode)
		now.budget_mode = strcmp(mode, "hard") ? BUDGET_SOFT : BUDGET_HARD;
	now.cancel_running =
		arg_num(a, "--cancel-running", t->cancel_running) != 0;
	now.retention_days =
		(uint32_t)arg_num(a, "--retention-days", t->retention_days);
	describe_changes(&sb, t, &now);
	/* budget changes are recorded with the figures they were made at */
	{
		struct tenant only = *t;
		only.monthly_budget = now.monthly_budget;
		only.budget_mode = now.budget_mode;
		only.cancel_running = now.cancel_running;
		describe_changes(&money, t, &only);
	}
	t->weight = now.weight;
	if (t->retention_days != now.retention_days) {
		t->retention_days = now.retention_days;
		retention_refresh(c, t);
	}
	t->monthly_budget = now.monthly_budget;
	t->budget_mode = now.budget_mode;
	t->cancel_running = now.cancel_running;
	if (money.len)
		budget_changed(&c->pol, t, money.buf + 1);
	policy_set_tenant_limits(&c->pol, t, now.max_running, now.max_queued,
				 now.submit_rate);
	records_put_tenant(c->batch, c->store, t);
	jw_strf_print(&r->w, "updated tenant %s:%s", t->name,
		      sb.len ? sb.buf : " nothing changed");
	jw_obj_open(&r->w, "tenant");
	write_tenant(c, &r->w, t, true);
	jw_obj_close(&r->w);
	strbuf_release(&sb);
	strbuf_release(&money);
	return 0;
}

int cmd_env_add(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	char tenant[64], name[64], dummy[64], err[256];
	const char *mode = arg_str(a, "--mode", "full");
	const char *backend = arg_str(a, "--backend", NULL);
	struct strbuf changes = STRBUF_INIT;
	enum env_mode m;
	struct env *e;

	if (parse_path3(a->pos[0], tenant, name, dummy, 2, err, sizeof(err)))
		return cmd_fail(r, "invalid", "%s", err);
	if (env_mode_parse(mode, &m))
		return cmd_fail(r, "invalid",
				"--mode: '%.64s' must be full or byoc_lite",
				mode);
	/* BYOC-Lite is EMR on EKS only: its backend unless told */
	if (!backend)
		backend = m == ENV_BYOC_LITE ? "emr-eks" : BACKEND_DEFAULT;
	if (!backend_name_valid(backend))
		return cmd_fail(r, "invalid", "--backend: unknown backend "
				"'%.64s' (known: %s)", backend,
				backend_names());
	if (env_backend_mode_check(m, backend, err, sizeof(err)))
		return cmd_fail(r, "invalid", "%s", err);
	if (!state_tenant(c->st, tenant))
		return cmd_fail(r, "not_found", "no tenant '%s'", tenant);
	e = state_env(c->st, a->pos[0]);
	if (e && !e->deleted_ms)
		return cmd_fail(r, "exists", "environment '%s' already exists",
				a->pos[0]);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s/%s", tenant, name);
		snprintf(e->tenant, sizeof(e->tenant), "%s", tenant);
		snprintf(e->name, sizeof(e->name), "%s", name);
		state_add_env(c->st, e);
	}
	/* new, or a deleted one's key again (its old runs stay under it) */
	e->deleted_ms = 0;
	e->mode = m;
	e->state = ENV_PENDING;
	snprintf(e->state_reason, sizeof(e->state_reason),
		 "waiting for an agent to enroll");
	e->price_vcpu_hour = arg_num(a, "--price-vcpu-hour", 0);
	e->price_gb_hour = arg_num(a, "--price-gb-hour", 0);
	e->spot_discount_bp = (uint32_t)arg_num(a, "--spot-discount", 0);
	e->max_concurrent = (uint32_t)arg_num(a, "--max-concurrent", 0);
	/* a revived key starts with no settings, like its other fields */
	e->backend_settings[0] = '\0';
	env_backend_apply(e, backend, NULL, &changes);
	strbuf_release(&changes);
	e->created_ms = e->state_ms = c->now_ms;
	e->ready_ms = 0; /* a revived key is a new environment to bring up */
	records_put_env(c->batch, c->store, e);
	jw_str(&r->w, "env", e->key);
	jw_str(&r->w, "state", env_state_name(e->state));
	jw_strf_print(&r->w, "created environment %s (%s)", e->key,
		      env_state_name(e->state));
	return 0;
}

static void write_env(struct sched *c, struct jw *w, const struct env *e,
		      bool full)
{
	char pct[16];
	size_t agents = 0;
	for (size_t i = 0; i < c->st->agents.n; i++) {
		const struct agent *ag = c->st->agents.v[i];
		if (!strcmp(ag->env, e->key) && ag->state != AGENT_REVOKED)
			agents++;
	}
	jw_str(w, "env", e->key);
	jw_str(w, "mode", env_mode_name(e->mode));
	jw_str(w, "state", env_state_name(e->state));
	jw_uint(w, "agents", agents);
	jw_uint(w, "queued", e->n_queued);
	jw_uint(w, "running", e->n_running);
	if (!full) {
		jw_str(w, "reason", e->state_reason);
		return;
	}
	jw_str(w, "state_reason", e->state_reason);
	jw_time(w, "state_changed", e->state_ms);
	jw_str(w, "spark_version", e->spark_version[0] ? e->spark_version
						       : NULL);
	jw_int(w, "disk_free_mb", e->disk_free_mb);
	jw_int(w, "clock_skew_ms", e->clock_skew_ms);
	jw_usd(w, "price_vcpu_hour", e->price_vcpu_hour);
	jw_usd(w, "price_gb_hour", e->price_gb_hour);
	snprintf(pct, sizeof(pct), "%u.%02u%%", e->spot_discount_bp / 100,
		 e->spot_discount_bp % 100);
	jw_str(w, "spot_discount", pct);
	write_limit(w, "max_concurrent", e->max_concurrent);
	env_backend_write(w, e);
	jw_time(w, "created", e->created_ms);
	jw_time(w, "first_ready", e->ready_ms);
}

int cmd_env_list(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < c->st->envs.n; i++) {
		const struct env *e = c->st->envs.v[i];
		if (e->deleted_ms || !cmd_sees(a, e->tenant))
			continue;
		jw_obj_open(&r->w, NULL);
		write_env(c, &r->w, c->st->envs.v[i], false);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	return 0;
}

int cmd_env_show(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	const struct env *e = state_env_live(c->st, a->pos[0]);
	if (!e)
		return cmd_fail(r, "not_found", "no environment '%.128s'",
				a->pos[0]);
	jw_obj_open(&r->w, "environment");
	write_env(c, &r->w, e, true);
	jw_obj_close(&r->w);
	return 0;
}

/* env set TENANT/ENV [--price-vcpu-hour USD] ... (or price-vcpu-hour=USD ...):
 * new prices apply to estimates from the next start and to attempts that
 * end from now on. */
int cmd_env_set(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct env *e = state_env_live(c->st, a->pos[0]);
	struct strbuf sb = STRBUF_INIT;
	const char *backend = arg_str(a, "--backend", NULL);
	const char *setting = arg_str(a, "--backend-setting", NULL);
	char was[40], now[40], err[320];
	bool any = false;
	int64_t v;

	if (!e)
		return cmd_fail(r, "not_found", "no environment '%.128s'",
				a->pos[0]);
	/* checked before anything changes: nothing half-applied */
	if (env_backend_check(e, backend, setting, err, sizeof(err)))
		return cmd_fail(r, "invalid", "%s", err);
	for (int i = 0; a->specs[i].name; i++)
		any |= a->set[i];
	if (!any)
		return cmd_fail(r, "usage",
				"nothing to change; usage: env set TENANT/ENV KEY=VALUE... "
				"(keys: price-vcpu-hour, price-gb-hour, spot-discount, "
				"max-concurrent, backend, backend-setting)");
	if ((v = arg_num(a, "--price-vcpu-hour", e->price_vcpu_hour)) !=
	    e->price_vcpu_hour) {
		format_usd(e->price_vcpu_hour, was, sizeof(was));
		format_usd(v, now, sizeof(now));
		strbuf_addf(&sb, " price-vcpu-hour %s -> %s,", was, now);
		e->price_vcpu_hour = v;
	}
	if ((v = arg_num(a, "--price-gb-hour", e->price_gb_hour)) !=
	    e->price_gb_hour) {
		format_usd(e->price_gb_hour, was, sizeof(was));
		format_usd(v, now, sizeof(now));
		strbuf_addf(&sb, " price-gb-hour %s -> %s,", was, now);
		e->price_gb_hour = v;
	}
	if ((v = arg_num(a, "--spot-discount", e->spot_discount_bp)) !=
	    e->spot_discount_bp) {
		strbuf_addf(&sb, " spot-discount %u.%02u%% -> %u.%02u%%,",
			    e->spot_discount_bp / 100, e->spot_discount_bp % 100,
			    (uint32_t)v / 100, (uint32_t)v % 100);
		e->spot_discount_bp = (uint32_t)v;
	}
	if ((v = arg_num(a, "--max-concurrent", e->max_concurrent)) !=
	    e->max_concurrent) {
		snprintf(was, sizeof(was), "%u", e->max_concurrent);
		snprintf(now, sizeof(now), "%u", (uint32_t)v);
		strbuf_addf(&sb, " max-concurrent %s -> %s,",
			    e->max_concurrent ? was : "unlimited",
			    v ? now : "unlimited");
		e->max_concurrent = (uint32_t)v;
	}
	if (backend || setting)
		env_backend_apply(e, backend, setting, &sb);
	if (sb.len)
		sb.buf[--sb.len] = '\0';
	records_put_env(c->batch, c->store, e);
	jw_strf_print(&r->w, "updated environment %s:%s", e->key,
		      sb.len ? sb.buf : " nothing changed");
	jw_obj_open(&r->w, "environment");
	write_env(c, &r->w, e, true);
	jw_obj_close(&r->w);
	strbuf_release(&sb);
	return 0;
}
