/* cmd_cost.c - what `tenant show` says about a tenant's money: this month's
 * budget figures, the burn-rate guard, the circuit breaker and the recent
 * cost events (budget.h). */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "admin_cmds.h"
#include "budget.h"
#include "cost_records.h"
#include "sched_ctx.h"
#include "util.h"

static void write_events(struct jw *w, const struct tenant *t)
{
	const struct cost_event_ring *ring = &t->recent;
	uint32_t cap = sizeof(ring->ev) / sizeof(ring->ev[0]);

	jw_arr_open(w, "recent_events");
	for (uint32_t i = 0; i < ring->n; i++) {
		const struct cost_event_rec *ev =
			&ring->ev[(ring->head + i) % cap];
		jw_obj_open(w, NULL);
		jw_time(w, "time", ev->ms);
		jw_str(w, "kind", ev->kind);
		jw_str(w, "what", ev->text);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

void write_tenant_budget(struct sched *c, struct jw *w, struct tenant *t)
{
	struct budget_figures f;
	uint32_t cap;

	budget_figures(&c->pol, t, &f);
	jw_obj_open(w, "budget");
	if (t->monthly_budget)
		jw_usd(w, "monthly", t->monthly_budget);
	else
		jw_str(w, "monthly", "none");
	jw_str(w, "mode", t->budget_mode == BUDGET_HARD ? "hard" : "soft");
	jw_bool(w, "cancel_running", t->cancel_running);
	jw_time(w, "month_start", f.month_start_ms);
	jw_usd(w, "spent", f.spent);
	jw_usd(w, "committed", f.committed);
	if (t->monthly_budget)
		jw_usd(w, "left", f.left > 0 ? f.left : 0);
	jw_usd(w, "projected", f.projection);
	jw_bool(w, "over_budget", t->over_budget);
	jw_uint(w, "refused_starts", t->budget_refused);
	jw_uint(w, "cancelled_runs", t->budget_cancelled);
	jw_uint(w, "soft_warnings", t->budget_warnings);
	jw_obj_close(w);
	cap = guard_cap(&t->guard);
	jw_obj_open(w, "guard");
	jw_str(w, "breaker", breaker_state_name(t->guard.breaker));
	if (t->guard.breaker_since_ms)
		jw_time(w, "breaker_since", t->guard.breaker_since_ms);
	jw_uint(w, "step", t->guard.level);
	if (cap == UINT32_MAX)
		jw_str(w, "max_running", "no limit");
	else
		jw_uint(w, "max_running", cap);
	jw_obj_close(w);
	write_events(w, t);
}

/* The last `limit` events seen, in a ring. */
struct last_events {
	struct cost_event *ev;
	size_t limit, n, head;
	uint64_t total;
};

static int keep_event(const struct cost_event *ev, void *ctx)
{
	struct last_events *l = ctx;
	l->ev[(l->head + l->n) % l->limit] = *ev;
	if (l->n < l->limit)
		l->n++;
	else
		l->head = (l->head + 1) % l->limit;
	l->total++;
	return 0;
}

/* tenant events NAME [--limit N]: the tenant's recorded cost events (budget
 * changes, warnings, caps, cancellations, guard steps, breaker changes),
 * the last N (100) of them, oldest first, from the store. */
int cmd_tenant_events(struct sched *c, const struct cmd_args *a,
		      struct reply *r)
{
	const struct tenant *t = state_tenant(c->st, a->pos[0]);
	struct last_events l = { NULL, (size_t)arg_num(a, "--limit", 100), 0,
				 0, 0 };
	char err[256] = "";

	if (!t)
		return cmd_fail(r, "not_found", "no tenant '%.64s'", a->pos[0]);
	l.ev = xcalloc(l.limit, sizeof(*l.ev));
	if (cost_records_scan_events(c->store, t->name, keep_event, &l, err,
				     sizeof(err))) {
		free(l.ev);
		return cmd_fail(r, "internal", "cannot read the cost events: %s",
				err[0] ? err : "store read failed");
	}
	jw_uint(&r->w, "total", l.total);
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < l.n; i++) {
		const struct cost_event *ev = &l.ev[(l.head + i) % l.limit];
		jw_obj_open(&r->w, NULL);
		jw_time(&r->w, "time", ev->ms);
		jw_str(&r->w, "kind", ev->kind);
		jw_str(&r->w, "what", ev->text);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	free(l.ev);
	return 0;
}
