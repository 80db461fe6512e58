/*
 * webhook_send.h - the webhook delivery thread (docs/architecture.md). The
 * core hands it deliveries that are due; it POSTs each one with libcurl,
 * signed (webhook.h), and posts the outcome back to the core as an
 * EV_WEBHOOK event: the core alone writes the store, so a delivery is
 * recorded done (or its next attempt scheduled) in a core turn.
 *
 *   core thread                      delivery thread
 *   webhook_send_push(job) ────────▶ POST url (timeouts, CA checked)
 *   EV_WEBHOOK: webhook_core_result ◀── core_post(result)
 *
 * The thread touches nothing of the core's: a job holds copies.
 */
#ifndef SP_WEBHOOK_SEND_H
#define SP_WEBHOOK_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "webhook_rec.h"

struct sched;

/* One delivery attempt, owned by whoever holds it. */
struct webhook_job {
	struct webhook_job *next;
	uint64_t seq;
	char msg_id[WEBHOOK_MSG_ID_LEN];
	char url[WEBHOOK_URL_MAX + 1];
	char secret[WEBHOOK_SECRET_LEN];
	char *body;
	size_t body_len;
};

/* An attempt's outcome: ev->work of an EV_WEBHOOK event. */
struct webhook_result {
	uint64_t seq;
	bool ok;     /* a 2xx answer */
	long status; /* HTTP status, 0 if none */
	char error[WEBHOOK_ERR_LEN];
};

struct webhook_send_opts {
	int64_t timeout_ms;         /* a whole attempt */
	int64_t connect_timeout_ms;
	char ca_file[512];          /* "" = the system's CA store */
};

struct webhook_sender;
/* Starts the thread, which posts its results to c. NULL on failure. */
struct webhook_sender *webhook_send_start(struct sched *c,
					  const struct webhook_send_opts *o);
/* Queues job (the thread owns it from now on). Any thread. */
void webhook_send_push(struct webhook_sender *ws, struct webhook_job *job);
/* Stops the thread (an attempt in progress is cut short) and frees ws;
 * jobs not sent are dropped: their deliveries stay in the outbox. */
void webhook_send_stop(struct webhook_sender *ws);
void webhook_job_free(struct webhook_job *job);

#endif
