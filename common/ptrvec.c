/* ptrvec.c - a growable array of pointers. */
#include "ptrvec.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void ptrvec_push(struct ptrvec *pv, void *p)
{
	pv->v = xgrow(pv->v, &pv->alloc, pv->n + 1, sizeof(*pv->v));
	pv->v[pv->n++] = p;
}

void ptrvec_remove_at(struct ptrvec *pv, size_t i)
{
	pv->v[i] = pv->v[--pv->n];
}

int ptrvec_remove(struct ptrvec *pv, const void *p)
{
	for (size_t i = 0; i < pv->n; i++) {
		if (pv->v[i] == p) {
			ptrvec_remove_at(pv, i);
			return 0;
		}
	}
	return -1;
}

int ptrvec_remove_ordered(struct ptrvec *pv, const void *p)
{
	for (size_t i = 0; i < pv->n; i++) {
		if (pv->v[i] == p) {
			memmove(pv->v + i, pv->v + i + 1,
				(pv->n - i - 1) * sizeof(*pv->v));
			pv->n--;
			return 0;
		}
	}
	return -1;
}

void ptrvec_release(struct ptrvec *pv)
{
	free(pv->v);
	memset(pv, 0, sizeof(*pv));
}
