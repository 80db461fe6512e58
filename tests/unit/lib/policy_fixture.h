/* policy_fixture.h - a small world for tests of the pure scheduling core:
 * tenants t and u, environments t/e and u/e, jobs t/e/j (3 attempts),
 * t/e/j2 and u/e/k, agents a1, a2 (t/e) and b1 (u/e). */
#ifndef SP_POLICY_FIXTURE_H
#define SP_POLICY_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "policy_rebuild.h"

struct fx {
	struct sched_state st;
	struct policy p;
	struct policy_limits lim;
	struct tenant *t, *u;
	struct env *e, *ue;
	struct job *j, *j2, *uj;
	struct agent *a1, *a2, *b1;
};

struct tenant *add_tenant(struct sched_state *st, const char *name);
struct env *add_env(struct sched_state *st, const char *tenant,
		    const char *name);
struct job *add_job(struct sched_state *st, struct env *e, const char *name,
		    uint32_t max_attempts);
struct agent *add_agent(struct sched_state *st, const char *id,
			const struct env *e);
/* cmocka setup and teardown: *state is a struct fx *. */
int policy_fx_setup(void **state);
int policy_fx_teardown(void **state);
#define FX_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, policy_fx_setup, policy_fx_teardown)
/* A restart: the policy rebuilt over the same records (its counters
 * and queues cleared first, as a fresh load has them). */
void policy_fx_restart(struct fx *f, int64_t now_ms, int64_t now_mono);

/* Moves both clocks ms on and ticks the policy. */
void advance(struct fx *f, int64_t ms);
/* A run of j (asserted admitted). */
struct run *submit(struct fx *f, struct job *j, int prio, const char *key);
size_t lease(struct fx *f, struct agent *a, size_t max, struct run **out);
/* The attempt of r ends in res with failure class cls. */
int complete(struct fx *f, struct run *r, enum run_state res,
	     const char *cls);

#endif
