/* run_load.c - the runs of a store into memory at start (two threads
 * from 100,000 runs on), with the bounds that keep a corrupt id from
 * growing the runs array, and the records of dropped runs' ids. */
#include "run_load.h"

#include <msgpack.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyring.h"
#include "records.h"
#include "run_codec.h"
#include "util.h"

struct load_ctx {
	struct sched_state *st;
	struct store *s;
	char *err;
	size_t errlen;
	msgpack_zone *zone;    /* scratch for decoding runs */
	struct keyring_opener *opener; /* this thread's, for sealed fields */
	struct run_slab *slab; /* where loaded runs are allocated */
	size_t nruns;	       /* runs loaded, in id order */
	struct ptrvec *later;  /* runs to place after the scan, or NULL */
	struct stored_run *stored; /* later's runs left in the store */
	size_t nstored, astored;
};

/* A run of the upper half that stays in the store: later holds
 * STORED_TAG(i) for stored[i] in its place in id order. */
struct stored_run {
	uint64_t id;
	struct tenant *tenant;
};
#define STORED_TAG(i) ((void *)(((uintptr_t)(i) << 1) | 1))
#define IS_STORED_TAG(p) (((uintptr_t)(p)) & 1)
#define STORED_INDEX(p) ((size_t)((uintptr_t)(p) >> 1))

void records_delete_run(struct store_batch *b, struct store *s, uint64_t id)
{
	uint8_t key[8];

	store_put_u64be(key, id);
	store_batch_delete(b, s, CF_RUNS, key, sizeof(key));
}

void records_put_run_ids(struct store_batch *b, struct store *s,
			 const struct sched_state *st)
{
	uint8_t val[16];

	store_put_u64be(val, st->nruns);
	store_put_u64be(val + 8, st->runs_dropped);
	store_batch_put(b, s, CF_META, META_RUN_IDS, strlen(META_RUN_IDS), val,
			sizeof(val));
}

/* meta/run_ids: st->runs_dropped, and *high the highest id given (0 if
 * no run was ever dropped). 0, or -1 with err. */
static int load_run_ids(struct store *s, struct sched_state *st,
			uint64_t *high, char *err, size_t errlen)
{
	char *val = NULL;
	size_t len = 0;
	int rc = store_get(s, CF_META, META_RUN_IDS, strlen(META_RUN_IDS),
			   &val, &len, err, errlen);

	*high = 0;
	if (rc == 1 && len == 16) {
		*high = store_get_u64be((const uint8_t *)val);
		st->runs_dropped = store_get_u64be((const uint8_t *)val + 8);
	} else if (rc == 1) {
		snprintf(err, errlen, "corrupt record in 'meta' (run_ids: %zu "
			 "bytes, not 16)", len);
		rc = -1;
	}
	free(val);
	return rc < 0 ? -1 : 0;
}

/*
 * Runs are indexed by id in a dense array (ids are given from 1 in order;
 * a dropped run leaves its slot empty, counted in meta/run_ids), so a
 * corrupt id would make the array that long: 2^40 asks for terabytes at
 * start. In id order, the n-th run may have an id of at most 2(n + the
 * runs dropped) + RUN_ID_SLACK; a larger one is refused before it reaches
 * the array, which stays within 16 bytes a run (or a dropped one) and
 * 8 MiB.
 */
#define RUN_ID_SLACK (1u << 20)

static bool run_id_fits(const struct load_ctx *lc, uint64_t id)
{
	return id <= 2 * ((uint64_t)lc->nruns + lc->st->runs_dropped) +
			     RUN_ID_SLACK;
}

/* Counts the next run in id order, loaded or left in the store: 0, or
 * -1 with err if its id is past the bound. */
static int run_id_ok(struct load_ctx *lc, uint64_t id)
{
	lc->nruns++;
	if (run_id_fits(lc, id))
		return 0;
	snprintf(lc->err, lc->errlen,
		 "corrupt record in 'runs' (run id %llu after %zu runs: ids "
		 "are dense from 1)",
		 (unsigned long long)id, lc->nruns - 1);
	return -1;
}

/* Decoded run r stays only in the store (run_stays_stored): its slot
 * is reused for the next run decoded. */
static int leave_stored(struct load_ctx *lc, struct run *r)
{
	uint64_t id = r->id;
	struct tenant *t = r->job->tenantp;

	run_clear(r);
	ptrvec_push(&lc->slab->freed, r);
	if (lc->later) { /* checked and marked after */
		lc->stored = xgrow(lc->stored, &lc->astored, lc->nstored + 1,
				   sizeof(*lc->stored));
		lc->stored[lc->nstored] = (struct stored_run){ id, t };
		ptrvec_push(lc->later, STORED_TAG(lc->nstored++));
		return 0;
	}
	if (run_id_ok(lc, id))
		return -1;
	state_mark_stored(lc->st, id, t);
	return 0;
}

static int load_run(struct load_ctx *lc, const void *key, size_t klen,
		    const void *val, size_t vlen)
{
	struct run *r = run_slab_alloc(lc->slab);

	if (klen != 8 || run_decode_sealed(val, vlen, lc->st,
					    store_keyring(lc->s), lc->opener,
					    lc->zone, r) ||
	    r->id != store_get_u64be(key)) {
		run_clear(r);
		snprintf(lc->err, lc->errlen,
			 "corrupt record in 'runs' (key %zu bytes, value %zu bytes)",
			 klen, vlen);
		return -1;
	}
	if (run_stays_stored(lc->st, r))
		return leave_stored(lc, r);
	if (lc->later) {
		ptrvec_push(lc->later, r); /* checked and placed after */
		return 0;
	}
	if (run_id_ok(lc, r->id)) {
		run_clear(r);
		return -1;
	}
	state_add_run(lc->st, r);
	return 0;
}

static int load_one(const void *key, size_t klen, const void *val,
		    size_t vlen, void *ctx)
{
	return load_run(ctx, key, klen, val, vlen);
}

/* Runs are most of a big store: from this many on, two threads decode
 * the two halves of the id range (ids are dense from 1). */
#define PARALLEL_RUNS 100000

struct half_load {
	struct store *s;
	struct load_ctx lc;
	uint8_t from[8];
	msgpack_zone zone;
	struct run_slab slab;
	char err[256];
	int rc;
};

static void *load_upper_half(void *arg)
{
	struct half_load *h = arg;
	h->rc = store_scan(h->s, CF_RUNS, h->from, 8, NULL, 0, load_one,
			   &h->lc);
	return NULL;
}

/* The id of an entry of the upper half's later list. */
static uint64_t later_id(const void *entry, const struct load_ctx *upper)
{
	return IS_STORED_TAG(entry) ? upper->stored[STORED_INDEX(entry)].id
				    : ((const struct run *)entry)->id;
}

/* The upper half's runs, after the lower half's: each id checked as if
 * one scan had read them all, then placed (or marked stored). After an
 * error (rc, or an id refused here) none is placed and all are cleared.
 * Returns rc or -1. */
static int place_later(struct load_ctx *lc, struct ptrvec *later,
		       const struct load_ctx *upper, int rc)
{
	for (size_t i = 0; i < later->n && !rc; i++)
		rc = run_id_ok(lc, later_id(later->v[i], upper));
	if (!rc && later->n) /* the array grown once */
		state_reserve_runs(lc->st,
				   later_id(later->v[later->n - 1], upper));
	for (size_t i = 0; i < later->n; i++) {
		const struct stored_run *sr;
		if (!IS_STORED_TAG(later->v[i])) {
			if (rc)
				run_clear(later->v[i]);
			else
				state_add_run(lc->st, later->v[i]);
			continue;
		}
		sr = &upper->stored[STORED_INDEX(later->v[i])];
		if (!rc)
			state_mark_stored(lc->st, sr->id, sr->tenant);
	}
	return rc;
}

static int load_runs(struct store *s, struct load_ctx *lc)
{
	uint8_t last[8];
	size_t klen = 0;
	int found = store_last_key(s, CF_RUNS, last, sizeof(last), &klen);
	uint64_t max = found == 1 && klen == 8 ? store_get_u64be(last) : 0;
	struct half_load h = { .s = s };
	struct ptrvec later = { NULL, 0, 0 };
	pthread_t th;
	int rc;

	if (found < 0) {
		snprintf(lc->err, lc->errlen, "cannot read the runs");
		return -1;
	}
	/* A bad last key is reported by the plain scan, as corrupt. */
	if (max < PARALLEL_RUNS || max > UINT32_MAX)
		return store_scan(s, CF_RUNS, NULL, 0, NULL, 0, load_one, lc);
	/* The lower half is placed as it is read; the upper half's runs
	 * wait, since their ids cannot be checked (nor the array grown)
	 * before the lower half is counted. */
	store_put_u64be(h.from, max / 2 + 1);
	h.lc.later = &later;
	h.lc.st = lc->st;
	h.lc.s = s;
	h.lc.opener = keyring_opener_new();
	h.lc.err = h.err;
	h.lc.errlen = sizeof(h.err);
	h.lc.zone = &h.zone;
	h.lc.slab = &h.slab;
	if (!msgpack_zone_init(&h.zone, 4096) ||
	    pthread_create(&th, NULL, load_upper_half, &h))
		die("cannot start a loader thread");
	rc = store_scan(s, CF_RUNS, NULL, 0, h.from, 8, load_one, lc);
	pthread_join(th, NULL);
	keyring_opener_free(h.lc.opener);
	msgpack_zone_destroy(&h.zone);
	run_slab_merge(lc->slab, &h.slab);
	if (!rc && h.rc) {
		snprintf(lc->err, lc->errlen, "%s", h.err);
		rc = h.rc;
	}
	rc = place_later(lc, &later, &h.lc, rc);
	ptrvec_release(&later);
	free(h.lc.stored);
	return rc;
}

/* The highest id given may be a dropped run's, past every loaded one:
 * the next new run must not take it again. */
static int reserve_given(struct load_ctx *lc, uint64_t high)
{
	if (high <= lc->st->nruns)
		return 0;
	if (!run_id_fits(lc, high)) {
		snprintf(lc->err, lc->errlen, "corrupt record in 'meta' "
			 "(run_ids: highest id %llu, %zu runs, %llu dropped)",
			 (unsigned long long)high, lc->nruns,
			 (unsigned long long)lc->st->runs_dropped);
		return -1;
	}
	state_reserve_runs(lc->st, high);
	return 0;
}

int run_load_all(struct store *s, struct sched_state *st, char *err,
		 size_t errlen)
{
	struct load_ctx lc = { .st = st, .s = s, .err = err,
			       .errlen = errlen, .slab = &st->slab };
	msgpack_zone zone;
	uint64_t high;
	int rc = load_run_ids(s, st, &high, err, errlen);

	if (rc)
		return -1;
	lc.opener = keyring_opener_new();
	lc.zone = &zone;
	if (!msgpack_zone_init(&zone, 4096))
		die("out of memory");
	rc = load_runs(s, &lc) || reserve_given(&lc, high);
	msgpack_zone_destroy(&zone);
	keyring_opener_free(lc.opener);
	return rc ? -1 : 0;
}
