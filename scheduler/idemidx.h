/*
 * idemidx.h - runs by (tenant, idempotency key): the policy's index of the
 * keys that still answer (policy.h). An open-addressing table of run
 * pointers, 8 bytes a slot: the tenant and the key are read from the run
 * itself (run_tenant, r->idem_key), never copied, so that a keyed run
 * costs its key's string and a slot or two, not a second copy of the key
 * and a 32-byte map slot (docs/storage.md, Memory per run). Pure: no I/O,
 * no locks; owned by the core thread.
 */
#ifndef SP_IDEMIDX_H
#define SP_IDEMIDX_H

#include <stddef.h>

struct run;

struct idemidx {
	struct run **slots; /* NULL: empty */
	size_t cap;         /* a power of two, or 0 */
	size_t n;
};

/* The run indexed under tenant and key, or NULL. */
struct run *idemidx_get(const struct idemidx *x, const char *tenant,
			const char *key);
/* Indexes r (which has an idempotency key, and keeps it while indexed)
 * under its tenant and key; returns the run it replaced there, or NULL. */
struct run *idemidx_put(struct idemidx *x, struct run *r);
/* Takes r out if it is the run indexed under its tenant and key; returns
 * 1 if it was, else 0. */
int idemidx_del(struct idemidx *x, const struct run *r);
/* Makes room for n runs in all without growing again (a restart indexes
 * every live key at once). */
void idemidx_reserve(struct idemidx *x, size_t n);
/* Frees the table (not the runs). */
void idemidx_release(struct idemidx *x);

#endif
