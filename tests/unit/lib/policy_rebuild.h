/* policy_rebuild.h - a scheduler restart for tests of the pure scheduling
 * core: the policy rebuilt over the same records. */
#ifndef SP_POLICY_REBUILD_H
#define SP_POLICY_REBUILD_H

#include <stdint.h>

#include "policy.h"

/* Releases p and builds it again over st at the given clocks, after
 * clearing the counters and queues a fresh load would not have. */
void policy_fx_rebuild(struct policy *p, struct sched_state *st,
		       const struct policy_limits *lim, int64_t now_ms,
		       int64_t now_mono);

#endif
