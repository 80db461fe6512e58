/*
 * policy_flow.c - the workflow side of the scheduling core: holds,
 * priority changes, and dependencies between runs.
 *
 * A run started with --after waits, queued but not dispatchable (it
 * counts against its tenant's max-queued like any queued run), until the
 * runs it names have ended. With --after-ok (the default) each must
 * succeed: the first that ends otherwise skips it, and its own
 * dependents in turn. With --after-any any end will do. Dependencies
 * only name runs that exist when the run starts, so there is no cycle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

/* The runs waiting for one run; the key bytes live inline. */
struct dep_list {
	uint64_t id;
	struct ptrvec waiting; /* struct run * */
};

static struct dep_list *dep_list_of(struct policy *p, uint64_t id,
				    bool create)
{
	struct dep_list *l = hmap_get(&p->deps, (const char *)&id, sizeof(id));

	if (!l && create) {
		l = xcalloc(1, sizeof(*l));
		l->id = id;
		hmap_put(&p->deps, (const char *)&l->id, sizeof(l->id), l);
	}
	return l;
}

/* Whether dependency d of a run ended as it requires: 1 yes, 0 not yet,
 * -1 never (it ended otherwise). A run no longer stored ended long ago,
 * before the waiting run's own dependencies were resolved: a run that
 * still waits had only its satisfied ones ended. */
static int dep_status(struct policy *p, const struct run *r, uint64_t d,
		      const struct run **bad)
{
	const struct run *dep = state_run(p->st, d);

	if (!dep)
		return 1;
	if (!run_state_terminal(dep->state))
		return 0;
	if (r->x->after_any || (dep->state == RUN_SUCCEEDED && !dep->skipped))
		return 1;
	*bad = dep;
	return -1;
}

/* r (waiting) ends skipped because dep did not succeed. */
static void skip(struct policy *p, struct run *r, const struct run *dep)
{
	char why[160];

	snprintf(why, sizeof(why), "skipped: run %llu, which it ran after, %s",
		 (unsigned long long)dep->id,
		 dep->skipped ? "was skipped" :
		 dep->state == RUN_FAILED ? "failed" :
		 dep->state == RUN_TIMED_OUT ? "timed out" : "was cancelled");
	r->waiting = false;
	r->skipped = true;
	policy_dequeue(p, r);
	run_set_str(&run_detail_get(r)->reason, why);
	run_set_str(&run_detail_get(r)->failure_class, "dependency_failed");
	policy_record_terminal(p, r, RUN_CANCELLED);
	p->skipped++;
	policy_mark(p, r);
}

/* Resolves r if its dependencies allow: queued for dispatch when all
 * ended as required, skipped when one cannot. */
static void resolve(struct policy *p, struct run *r)
{
	const struct run *bad = NULL;
	bool pending = false;

	if (r->state != RUN_QUEUED || !r->waiting)
		return; /* resolved already, or cancelled meanwhile */
	for (uint32_t i = 0; i < r->x->nafter; i++) {
		int st = dep_status(p, r, r->x->after[i], &bad);
		if (st < 0) {
			skip(p, r, bad);
			return;
		}
		pending |= st == 0;
	}
	if (pending)
		return;
	r->waiting = false;
	/* its wait for dispatch (and its aging) starts now */
	r->enqueued_ms = r->queued_ms = p->now_ms;
	policy_place(p, r);
	policy_mark(p, r);
}

/* Resolves the runs in flow_due, and those their ends make due, in a
 * loop: a long chain of skips does not recurse. */
static void drain(struct policy *p)
{
	if (p->flow_busy)
		return;
	p->flow_busy = true;
	while (p->flow_due.n) {
		struct run *r = p->flow_due.v[--p->flow_due.n];
		resolve(p, r);
	}
	p->flow_busy = false;
}

static void wait_on(struct policy *p, struct run *r)
{
	for (uint32_t i = 0; i < r->x->nafter; i++) {
		const struct run *dep = state_run(p->st, r->x->after[i]);
		if (dep && !run_state_terminal(dep->state))
			ptrvec_push(&dep_list_of(p, dep->id, true)->waiting, r);
	}
}

void flow_add(struct policy *p, struct run *r)
{
	wait_on(p, r);
	ptrvec_push(&p->flow_due, r);
	drain(p);
}

void flow_run_ended(struct policy *p, struct run *r)
{
	struct dep_list *l = hmap_get(&p->deps, (const char *)&r->id,
				      sizeof(r->id));

	if (!l)
		return;
	hmap_del(&p->deps, (const char *)&l->id, sizeof(l->id));
	for (size_t i = l->waiting.n; i-- > 0;)
		ptrvec_push(&p->flow_due, l->waiting.v[i]);
	ptrvec_release(&l->waiting);
	free(l);
	drain(p);
}

void flow_forget(struct policy *p, struct run *r)
{
	if (!r->x)
		return;
	for (uint32_t i = 0; i < r->x->nafter; i++) {
		struct dep_list *l = dep_list_of(p, r->x->after[i], false);
		if (l)
			ptrvec_remove(&l->waiting, r);
	}
}

void flow_init(struct policy *p)
{
	for (size_t i = 0; i < p->st->nruns; i++) {
		struct run *r = p->st->runs[i];
		if (r && r->state == RUN_QUEUED && r->waiting && r->x) {
			wait_on(p, r);
			ptrvec_push(&p->flow_due, r);
		} else if (r && r->waiting) {
			r->waiting = false; /* ended, or no list: not waiting */
		}
	}
	drain(p);
}

void flow_release(struct policy *p)
{
	for (size_t i = 0; i < p->deps.cap; i++) {
		struct dep_list *l = p->deps.slots[i].val;
		if (l) {
			ptrvec_release(&l->waiting);
			free(l);
		}
	}
	hmap_release(&p->deps);
	ptrvec_release(&p->flow_due);
}

/* ---- holds and priorities ---- */

static int queued_only(const struct run *r, const char *what,
		       struct refusal *why)
{
	if (r->state == RUN_QUEUED)
		return 0;
	policy_refuse(why, "conflict", 0,
		      "run %llu is %s: only a queued or waiting run can be %s",
		      (unsigned long long)r->id, run_state_label(r), what);
	return -1;
}

int policy_hold(struct policy *p, struct run *r, const char *by,
		struct refusal *why)
{
	struct run_extra *x;

	if (queued_only(r, "held", why))
		return -1;
	if (r->held) {
		policy_refuse(why, "conflict", 0, "run %llu is held already "
			      "(by %s)", (unsigned long long)r->id,
			      r->x && r->x->held_by ? r->x->held_by : "?");
		return -1;
	}
	policy_unplace(p, r);
	r->held = true;
	x = run_extra_get(r);
	run_set_str(&x->held_by, by && *by ? by : "?");
	x->held_ms = p->now_ms;
	policy_mark(p, r);
	return 0;
}

int policy_release_hold(struct policy *p, struct run *r,
			struct refusal *why)
{
	if (!r->held) {
		policy_refuse(why, "conflict", 0, "run %llu is not held",
			      (unsigned long long)r->id);
		return -1;
	}
	r->held = false;
	run_set_str(&r->x->held_by, NULL);
	r->x->held_ms = 0;
	/* it queues behind the runs of its priority already waiting; a
	 * retry backoff not over yet still counts */
	if (r->enqueued_ms < p->now_ms)
		r->enqueued_ms = p->now_ms;
	policy_place(p, r);
	policy_mark(p, r);
	return 0;
}

int policy_set_priority(struct policy *p, struct run *r, int32_t priority,
			struct refusal *why)
{
	if (queued_only(r, "given a new priority", why))
		return -1;
	policy_unplace(p, r);
	r->priority = priority;
	policy_place(p, r);
	policy_mark(p, r);
	return 0;
}
