/* outbox.c - FIFO of messages for the scheduler. */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

void outbox_push(struct outbox *o, const char *type, const void *body,
		 size_t len)
{
	struct outbox_msg *m = xcalloc(1, sizeof(*m));
	snprintf(m->type, sizeof(m->type), "%s", type);
	strbuf_init(&m->body, len);
	strbuf_add(&m->body, body, len);
	strbuf_init(&m->sealed, 0);
	if (o->tail)
		o->tail->next = m;
	else
		o->head = m;
	o->tail = m;
	o->n++;
}

void outbox_pop(struct outbox *o)
{
	struct outbox_msg *m = o->head;
	if (!m)
		return;
	o->head = m->next;
	if (!o->head)
		o->tail = NULL;
	o->n--;
	strbuf_release(&m->body);
	strbuf_release(&m->sealed);
	free(m);
}

void outbox_clear(struct outbox *o)
{
	while (o->head)
		outbox_pop(o);
}
