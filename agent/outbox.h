/*
 * outbox.h - the agent's messages waiting to be sent, in order. The head is
 * sealed (given its sequence number and signature) once, when first sent,
 * and resent byte for byte until the scheduler answers it. In memory only
 * for now: the durable spool is a later piece of work (issue 4).
 */
#ifndef SP_OUTBOX_H
#define SP_OUTBOX_H

#include <stddef.h>

#include "strbuf.h"

struct outbox_msg {
	char type[16];
	struct strbuf body;   /* packed msgpack map */
	struct strbuf sealed; /* empty until first sent */
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
