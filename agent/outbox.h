/*
 * outbox.h - the agent's messages waiting to be sent, in order. The head is
 * sealed (given its sequence number and signature) once, when first sent,
 * and resent byte for byte until the scheduler answers it. Reports about
 * runs come from the durable spool (agent/tsink.h) one message at a time;
 * the rest (preflight, lease, heartbeat) need no keeping.
 */
#ifndef SP_OUTBOX_H
#define SP_OUTBOX_H

#include <stddef.h>

#include "strbuf.h"

struct outbox_msg {
	char type[16];
	struct strbuf body;   /* packed msgpack map */
	struct strbuf sealed; /* empty until first sent */
	uint64_t spool_upto;  /* from the spool: tsink_done(this) once answered */
	struct outbox_msg *next;
};

struct outbox {
	struct outbox_msg *head, *tail;
	size_t n;
};

/* Appends a copy of body. */
void outbox_push(struct outbox *o, const char *type, const void *body,
		 size_t len);
/* Removes and frees the head. */
void outbox_pop(struct outbox *o);
void outbox_clear(struct outbox *o);

#endif
