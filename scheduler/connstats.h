/*
 * connstats.h - the connection counters of the agent port and the admin
 * socket, for `queue stats`. Each transport publishes a copy of its own
 * counters (under its own lock, as they change); the core thread reads the
 * latest copy. One slot per transport, written by that transport only.
 */
#ifndef SP_CONNSTATS_H
#define SP_CONNSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "conntable.h"

enum connstats_kind { CONNSTATS_AGENTS, CONNSTATS_ADMIN, CONNSTATS_KINDS };

struct connstats {
	struct conntable_stats t;
	uint64_t limit;           /* connections at once (after the budget) */
	uint64_t per_source;      /* per address / per uid */
	uint64_t accept_backoffs; /* accepts paused for want of descriptors */
	int64_t cert_not_after;   /* the agent port's TLS certificate expires
				   * then (Unix seconds); 0 without TLS */
};

/* Replaces kind's published counters with *s (any thread). */
void connstats_publish(enum connstats_kind kind, const struct connstats *s);
/* Copies kind's latest counters into *out; zeros if none were published. */
void connstats_read(enum connstats_kind kind, struct connstats *out);

#endif
