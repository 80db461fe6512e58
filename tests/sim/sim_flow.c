/* sim_flow.c - see sim_flow.h. */
#include "sim_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct run_extra *sim_flow_random_after(struct sched_state *st,
					const struct tenant *t,
					unsigned (*pick)(unsigned n))
{
	struct run_extra *x;
	uint32_t want = 1 + pick(3);

	if (!st->nruns)
		return NULL;
	x = xcalloc(1, sizeof(*x));
	x->after = xcalloc(want, sizeof(uint64_t));
	for (uint32_t i = 0; i < want * 4 && x->nafter < want; i++) {
		const struct run *d = st->runs[pick((unsigned)st->nruns)];
		bool dup = false;
		for (uint32_t k = 0; k < x->nafter; k++)
			dup |= x->after[k] == d->id;
		if (d->job->tenantp == t && !dup)
			x->after[x->nafter++] = d->id;
	}
	x->after_any = pick(100) < 30;
	if (!x->nafter) {
		run_extra_free(x);
		return NULL;
	}
	return x;
}

int sim_flow_act(struct policy *p, unsigned (*pick)(unsigned n), char *msg,
		 size_t len)
{
	struct refusal why;
	bool was_held;
	struct run *r;
	int rc;

	if (!p->st->nruns)
		return 0;
	r = p->st->runs[pick((unsigned)p->st->nruns)];
	switch (pick(3)) {
	case 0:
		was_held = r->held;
		rc = policy_hold(p, r, "uid:2", &why);
		if ((rc == 0) != (r->state == RUN_QUEUED && !was_held) ||
		    (rc == 0 && !r->held))
			goto broke;
		break;
	case 1:
		rc = policy_release_hold(p, r, &why);
		if (rc == 0 && r->held)
			goto broke;
		break;
	default:
		rc = policy_set_priority(p, r, (int32_t)pick(11) - 5, &why);
		if ((rc == 0) != (r->state == RUN_QUEUED))
			goto broke;
	}
	return rc == 0;
broke:
	snprintf(msg, len, "hold, release or priority of run %llu (%s): %d",
		 (unsigned long long)r->id, run_state_label(r), rc);
	return -1;
}

int sim_flow_check(struct sched_state *st, const struct run *r, char *msg,
		   size_t len)
{
	const struct run_extra *x = r->x;
	bool pending = false, bad = false, late = false;
	int64_t left = run_state_ms(r, RUN_LEASED);
	unsigned long long id = r->id;

	if (r->held && r->state != RUN_QUEUED) {
		snprintf(msg, len, "run %llu is held and %s", id,
			 run_state_name(r->state));
		return -1;
	}
	if (!x || !x->nafter)
		return 0;
	for (uint32_t i = 0; i < x->nafter; i++) {
		const struct run *d = state_run(st, x->after[i]);
		if (!d || d->job->tenantp != r->job->tenantp) {
			snprintf(msg, len, "run %llu waits for run %llu of "
				 "another tenant", id,
				 (unsigned long long)x->after[i]);
			return -1;
		}
		if (!run_state_terminal(d->state)) {
			pending = true;
			continue;
		}
		if (!x->after_any && (d->state != RUN_SUCCEEDED || d->skipped))
			bad = true;
		late |= left && run_state_ms(d, d->state) > left;
	}
	if (r->state == RUN_QUEUED && r->waiting && (!pending || bad))
		snprintf(msg, len, "run %llu waits although its dependencies "
			 "%s", id, bad ? "failed" : "have all ended");
	else if (r->skipped && !bad)
		snprintf(msg, len, "run %llu skipped with no failed dependency",
			 id);
	else if (r->state != RUN_QUEUED && !r->skipped &&
		 r->state != RUN_CANCELLED && (pending || bad || late))
		snprintf(msg, len, "run %llu (%s) left the queue before its "
			 "dependencies ended as required", id,
			 run_state_name(r->state));
	else
		return 0;
	return -1;
}
