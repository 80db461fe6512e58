/*
 * webhook_rec.h - the stored form of webhooks (docs/storage.md): hook
 * definitions in the column family `webhooks`, keyed by hook id, and
 * deliveries in `whoutbox`, keyed by a sequence number (u64 BE). Both are
 * msgpack maps: a missing field reads as zero, so fields can be added
 * without a format change. The decoders take bytes read back from the
 * store and are fuzzed (tests/fuzz/fuzz_webhook_rec.c).
 */
#ifndef SP_WEBHOOK_REC_H
#define SP_WEBHOOK_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "store.h"
#include "webhook.h"

#define WEBHOOK_ERR_LEN 160

/* A hook: where a tenant's events go, and how its deliveries went. */
struct webhook_hook {
	char id[WEBHOOK_ID_LEN];
	char tenant[NAME_MAX_LEN];
	char url[WEBHOOK_URL_MAX + 1];
	char secret[WEBHOOK_SECRET_LEN]; /* never logged, never shown */
	char events[WEBHOOK_EVENTS_MAX]; /* the filter (webhook.h) */
	int64_t created_ms;
	uint64_t delivered, failed, dead; /* attempts failed: failed */
	char last_error[WEBHOOK_ERR_LEN]; /* the last failed attempt's */
	int64_t last_error_ms, last_ok_ms;
	/* runtime, not stored */
	uint64_t pending;
	bool removed;
};

enum webhook_msg_state { WH_PENDING = 0, WH_DEAD = 1 };

/* One delivery of one event to one hook. */
#define WEBHOOK_MSG_ID_LEN 40
#define WEBHOOK_TYPE_LEN 40
struct webhook_msg {
	uint64_t seq;                   /* the key */
	char hook[WEBHOOK_ID_LEN];
	char msg_id[WEBHOOK_MSG_ID_LEN]; /* webhook-id: the same on every
					  * attempt, across restarts */
	char type[WEBHOOK_TYPE_LEN];
	int64_t created_ms, next_ms;    /* next attempt no sooner */
	uint32_t attempts;
	int state;                      /* enum webhook_msg_state */
	char last_error[WEBHOOK_ERR_LEN];
	char *body;                     /* the JSON sent, owned */
	size_t body_len;
	/* runtime */
	bool inflight;                  /* handed to the delivery thread */
	bool fresh;                     /* its write not yet committed */
};

void webhook_rec_put_hook(struct store_batch *b, struct store *s,
			  const struct webhook_hook *h);
void webhook_rec_delete_hook(struct store_batch *b, struct store *s,
			     const char *id);
void webhook_rec_put_msg(struct store_batch *b, struct store *s,
			 const struct webhook_msg *m);
void webhook_rec_delete_msg(struct store_batch *b, struct store *s,
			    uint64_t seq);

/* Decodes a stored hook (key: its id). 0, or -1 with a reason. */
int webhook_rec_decode_hook(const void *key, size_t klen, const void *val,
			    size_t vlen, struct webhook_hook *h, char *err,
			    size_t errlen);
/* Decodes a stored delivery into m (m->body malloc'd: the caller frees
 * it with webhook_msg_release). 0, or -1 with a reason (m holds nothing
 * to free then). */
int webhook_rec_decode_msg(const void *key, size_t klen, const void *val,
			   size_t vlen, struct webhook_msg *m, char *err,
			   size_t errlen);
void webhook_msg_release(struct webhook_msg *m);

/* The meta key holding the last delivery sequence number (u64 BE), so
 * that a number is never given twice, even when the outbox is empty. */
#define META_WEBHOOK_SEQ "webhook_seq"

#endif
