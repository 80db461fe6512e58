/* fuzz_records.c - the stored record decoders (scheduler/records.c,
 * run_codec.c, cost_records.c) through records_load, as a restart reads
 * them: the input is a list of (column family, key, value) that is written
 * to a real store, loaded into an empty state, and deleted again, so every
 * input starts from an empty store. A corrupt record must be refused with
 * one line naming it, never crash the load.
 *
 * Input: up to MAX_RECORDS of { u8 column family, u16 key length, key,
 * u16 value length, value }. The meta family is left out (it holds the
 * store's format version, which store_open checks, not records_load).
 * Run ids are taken as they come: the loader indexes runs by id in a
 * dense array, and must refuse an id far past the runs stored (2^40
 * would ask for terabytes) before the array grows to it. Each input is
 * loaded twice: whole, and with every ended run left in the store. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "records.h"
#include "store.h"

#define MAX_RECORDS 32

static struct store *store;
static struct store_batch *batch;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[512], err[256];

	(void)argc;
	(void)argv;
	log_setup("fuzz_records", LOG_ERROR);
	snprintf(dir, sizeof(dir), "%s/store", fz_tmpdir());
	store = store_open(dir, err, sizeof(err));
	if (!store)
		die("%s", err);
	batch = store_batch_new();
	return 0;
}

struct rec {
	enum store_cf cf;
	uint8_t key[256];
	size_t klen;
	const uint8_t *val;
	size_t vlen;
};

static void write_batch(void)
{
	char err[256];
	if (store_write(store, batch, false, err, sizeof(err)))
		fz_fail("store write: %s", err);
	store_batch_clear(batch);
}

static size_t read_records(struct fz_in *in, struct rec *recs)
{
	size_t n = 0;

	while (in->n && n < MAX_RECORDS) {
		struct rec *r = &recs[n++];
		const uint8_t *k;
		/* the families records_load reads (up to costlog): the audit
		 * log is not loaded, and the corpus keeps its meaning */
		r->cf = (enum store_cf)(1 + fz_u8(in) % (CF_AUDIT - 1));
		r->klen = fz_chunk(in, sizeof(r->key), &k);
		memcpy(r->key, k, r->klen);
		r->vlen = fz_chunk(in, 4096, &r->val);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct rec recs[MAX_RECORDS];
	struct sched_state st;
	size_t n = read_records(&in, recs);
	char err[512] = "";

	for (size_t i = 0; i < n; i++)
		store_batch_put(batch, store, recs[i].cf, recs[i].key,
				recs[i].klen, recs[i].val, recs[i].vlen);
	write_batch();
	/* loaded whole, then as a start long after: every ended run left
	 * in the store (the loader's other path, with the same id bound) */
	for (int stored = 0; stored < 2; stored++) {
		state_init(&st);
		if (stored)
			st.stored_before_ms = st.key_horizon_ms = INT64_MAX;
		if (records_load(store, &st, err, sizeof(err)))
			fz_check_refusal(err, "");
		state_release(&st);
	}
	for (size_t i = 0; i < n; i++)
		store_batch_delete(batch, store, recs[i].cf, recs[i].key,
				   recs[i].klen);
	write_batch();
	return 0;
}
