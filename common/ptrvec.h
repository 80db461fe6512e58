/* ptrvec.h - a growable array of pointers. */
#ifndef SP_PTRVEC_H
#define SP_PTRVEC_H

#include <stddef.h>

struct ptrvec {
	void **v;
	size_t n, alloc;
};

void ptrvec_push(struct ptrvec *pv, void *p);
/* Removes element i, moving the last one into its place (order is lost). */
void ptrvec_remove_at(struct ptrvec *pv, size_t i);
/* Removes p if present (first match, order is lost); returns 0 or -1. */
int ptrvec_remove(struct ptrvec *pv, const void *p);
/* Removes p if present (first match), keeping the others' order. */
int ptrvec_remove_ordered(struct ptrvec *pv, const void *p);
void ptrvec_release(struct ptrvec *pv);

#endif
