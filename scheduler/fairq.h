/*
 * fairq.h - weighted fair queueing across tenants (deficit round robin
 * with unit cost). When the core thread has more events than one turn
 * applies, it takes them from here instead of in arrival order, so that
 * tenants are served in proportion to their weights and one noisy tenant
 * cannot starve the others. Pure: no locks, no clock.
 */
#ifndef SP_FAIRQ_H
#define SP_FAIRQ_H

#include <stddef.h>
#include <stdint.h>

#include "hmap.h"
#include "ptrvec.h"

struct fairq_class;

struct fairq {
	struct hmap classes;  /* name -> struct fairq_class * */
	struct ptrvec all;    /* every class, for release */
	struct ptrvec active; /* classes with items, in round-robin order */
	size_t cursor;        /* the class being served in active */
	size_t total;         /* items queued */
};

void fairq_init(struct fairq *q);
void fairq_release(struct fairq *q);
/* Queues item in class cls (created on first use) with weight >= 1; the
 * latest weight given for a class is the one used. */
void fairq_push(struct fairq *q, const char *cls, uint32_t weight,
		void *item);
/* The next item by weighted round robin, or NULL when empty. */
void *fairq_pop(struct fairq *q);
/* Items queued in cls. */
size_t fairq_len(const struct fairq *q, const char *cls);

#endif
