/* runstore.c - ended runs kept only in the store, read back when asked
 * for (see runstore.h). */
#include "runstore.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "keyring.h"
#include "log.h"
#include "run_codec.h"
#include "sched_ctx.h"
#include "util.h"

/* The decoding scratch, made at the first read. */
struct runstore {
	msgpack_zone zone;
	struct keyring_opener *opener;
};

static struct runstore *scratch(struct sched *c)
{
	if (!c->runstore) {
		c->runstore = xcalloc(1, sizeof(*c->runstore));
		if (!msgpack_zone_init(&c->runstore->zone, 4096))
			die("out of memory");
		c->runstore->opener = keyring_opener_new();
	}
	return c->runstore;
}

void runstore_release(struct sched *c)
{
	if (!c->runstore)
		return;
	msgpack_zone_destroy(&c->runstore->zone);
	keyring_opener_free(c->runstore->opener);
	free(c->runstore);
	c->runstore = NULL;
}

/* Decodes stored run id's record val into *r: 0, or -1 (logged). */
static int decode(struct sched *c, uint64_t id, const void *val, size_t len,
		  struct run *r)
{
	struct runstore *rs = scratch(c);

	memset(r, 0, sizeof(*r));
	if (run_decode_sealed(val, len, c->st, store_keyring(c->store),
			      rs->opener, &rs->zone, r) ||
	    r->id != id) {
		run_clear(r);
		log_warn("run %llu: its record in the store cannot be read "
			 "(%zu bytes)", (unsigned long long)id, len);
		return -1;
	}
	return 0;
}

int runstore_read(struct sched *c, uint64_t id, struct run *r)
{
	uint8_t key[8];
	char *val = NULL, err[256];
	size_t len = 0;
	int rc;

	if (!state_run_stored(c->st, id))
		return 0;
	store_put_u64be(key, id);
	rc = store_get(c->store, CF_RUNS, key, sizeof(key), &val, &len, err,
		       sizeof(err));
	if (rc == 1)
		rc = decode(c, id, val, len, r) ? -1 : 1;
	else if (rc == 0)
		log_warn("run %llu: kept in the store, but not found there",
			 (unsigned long long)id);
	else
		log_warn("run %llu: cannot read it from the store: %s",
			 (unsigned long long)id, err);
	free(val);
	return rc == 1 ? 1 : -1;
}

struct run *runstore_get(struct sched *c, uint64_t id)
{
	struct run *r = state_run(c->st, id);

	if (r || !state_run_stored(c->st, id))
		return r;
	r = run_slab_alloc(&c->st->slab);
	if (runstore_read(c, id, r) != 1) {
		ptrvec_push(&c->st->slab.freed, r);
		return NULL;
	}
	state_page_in(c->st, r);
	c->runs_read_back++;
	return r;
}

struct scan_ctx {
	struct sched *c;
	const char *owner; /* "tenant" or "tenant/env", or NULL */
	size_t olen;
	runstore_id_fn fn;
	void *ctx;
};

static int scan_one(const void *key, size_t klen, const void *val,
		    size_t vlen, void *arg)
{
	struct scan_ctx *sc = arg;
	uint64_t id = klen == 8 ? store_get_u64be(key) : 0;
	struct run r;

	if (!state_run_stored(sc->c->st, id))
		return 0;
	if (!sc->owner)
		return sc->fn(sc->c, id, sc->ctx);
	switch (run_record_owner(val, vlen, sc->owner, sc->olen)) {
	case RECORD_OWNED:
		return sc->fn(sc->c, id, sc->ctx);
	case RECORD_OTHERS:
		return 0;
	case RECORD_UNREADABLE:
		break;
	}
	/* whose it is cannot be told: the decode logs what is wrong */
	if (!decode(sc->c, id, val, vlen, &r))
		run_clear(&r);
	return 0;
}

int runstore_scan_ids(struct sched *c, const char *owner, runstore_id_fn fn,
		      void *ctx)
{
	struct scan_ctx sc = { c, owner, owner ? strlen(owner) : 0, fn, ctx };

	if (!c->st->runs_stored)
		return 0;
	return store_scan(c->store, CF_RUNS, NULL, 0, NULL, 0, scan_one, &sc);
}

bool runstore_page_out(struct sched *c, struct run *r)
{
	int64_t keep_ms = c->cfg->ended_runs_in_memory_s * 1000;

	if (!run_state_terminal(r->state) ||
	    run_state_ms(r, r->state) >= c->now_ms - keep_ms ||
	    !policy_may_page_out(&c->pol, r) || diskguard_down(c) ||
	    tenant_delete_holds(c, r) ||
	    !store_is_open(c->store))
		return false;
	state_page_out(c->st, r);
	c->runs_paged_out++;
	return true;
}
