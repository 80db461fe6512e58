/*
 * webhook_core.h - signed webhooks on the core thread (docs/architecture.md,
 * Webhooks): the hooks and the durable outbox of deliveries.
 *
 * A run's end (or a cost event, or `webhook test`) becomes one delivery
 * record per matching hook of the run's tenant, written to the turn's
 * write batch: it commits with the change that caused it, or not at all.
 * Once committed, a delivery is handed to the delivery thread
 * (webhook_send.h) when due; its outcome comes back as an EV_WEBHOOK
 * event and is written here: done (the record deleted), failed (the next
 * attempt's time, with backoff and jitter), or dead (past
 * webhook_max_age_s: kept, no more attempts). So every delivery is sent
 * at least once, with the same webhook-id every time, across restarts.
 * Core thread only, except where said.
 */
#ifndef SP_WEBHOOK_CORE_H
#define SP_WEBHOOK_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptrvec.h"
#include "webhook_rec.h"

struct sched;
struct event;
struct run;
struct cost_event;

/* Hooks a tenant may have. */
#define WEBHOOK_MAX_PER_TENANT 16
/* Dead deliveries kept per hook (for `webhook show`); older ones go. */
#define WEBHOOK_DEAD_KEEP 1000
/* Deliveries handed to the delivery thread at once. */
#define WEBHOOK_INFLIGHT_MAX 64

struct webhook_core {
	struct ptrvec hooks;  /* struct webhook_hook * */
	struct ptrvec msgs;   /* struct webhook_msg *, by seq */
	struct ptrvec fresh;  /* msgs whose write is not committed yet */
	uint64_t seq;         /* the last delivery number given */
	int64_t due_ms;       /* no delivery is due before this (wall) */
	size_t inflight;
	uint64_t pending;     /* msgs not dead */
	uint64_t rnd;         /* jitter (xorshift: not a secret) */
	bool prune;           /* a delivery died: keep WEBHOOK_DEAD_KEEP */
	struct webhook_sender *sender;
	/* since the start, for /metrics */
	uint64_t n_delivered, n_failed, n_dead;
};

/* Loads hooks and deliveries from the store and starts the delivery
 * thread. At core_start, before the core thread. 0, or -1 with a reason
 * (a damaged record). */
int webhook_core_open(struct sched *c, char *err, size_t errlen);
/* Stops the delivery thread (at core_stop, once the core thread ended;
 * its last outcomes may then wait in the inbox: webhook_core_result
 * frees them unapplied). */
void webhook_core_stop_sender(struct sched *c);
void webhook_core_close(struct sched *c);

/* Events into this turn's batch: r ended for good; a cost event. */
void webhook_core_run_ended(struct sched *c, const struct run *r);
void webhook_core_cost_event(struct sched *c, const struct cost_event *ev);
/* `webhook test`: a webhook.test event to h alone. Returns its msg id. */
const char *webhook_core_test(struct sched *c, struct webhook_hook *h);
/* After a turn's commit: its deliveries may be sent from now on. */
void webhook_core_committed(struct sched *c);
/* Deliveries that are due go to the delivery thread; those past the
 * maximum age become dead. */
void webhook_core_tick(struct sched *c);
/* The monotonic ms at which webhook_core_tick has work, or INT64_MAX. */
int64_t webhook_core_next_wake(struct sched *c);
/* An EV_WEBHOOK event: an attempt's outcome; frees ev. stopping: only
 * free it. */
void webhook_core_result(struct sched *c, struct event *ev, bool stopping);

/* For the commands (cmd_webhook.c). */
struct webhook_hook *webhook_core_find(struct sched *c, const char *id);
size_t webhook_core_count(struct sched *c, const char *tenant);
/* Adds h (copied) and writes it to the batch. */
struct webhook_hook *webhook_core_add(struct sched *c,
				      const struct webhook_hook *h);
/* Removes h and its deliveries, pending and dead, from memory and (in
 * the batch) from the store. */
void webhook_core_remove(struct sched *c, struct webhook_hook *h);

#endif
