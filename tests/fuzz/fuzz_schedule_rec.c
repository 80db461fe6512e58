/* fuzz_schedule_rec.c - the stored schedule record (scheduler/schedule_rec.c),
 * read back at every start. A damaged record is refused on one line and
 * leaves nothing behind; a decoded one has terminated strings, known
 * enum values, at most the runs a firing starts, and is the record of its
 * own key (tenant, NUL, id). Without a store (no keyring), sealed
 * arguments are refused; plain ones are read.
 *
 * Input: a chunk (the key), the rest (the value). */
#include <string.h>

#include "fuzz.h"
#include "schedule_rec.h"

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void check_str(const char *s, size_t size, const char *what)
{
	if (!memchr(s, '\0', size))
		fz_fail("%s is not terminated", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	const uint8_t *key, *val;
	size_t klen, vlen;
	struct schedule_def d;
	uint8_t want[SCHEDULE_KEY_MAX];
	char err[256] = "";

	klen = fz_chunk(&in, 256, &key);
	vlen = fz_rest(&in, &val);
	if (schedule_rec_decode(NULL, key, klen, val, vlen, &d, err,
				sizeof(err))) {
		fz_check_refusal(err, "");
		if (!all_zero(&d, sizeof(d)))
			fz_fail("a refused schedule record left data behind");
		return 0;
	}
	check_str(d.tenant, sizeof(d.tenant), "tenant");
	check_str(d.job, sizeof(d.job), "job");
	check_str(d.cron, sizeof(d.cron), "cron");
	check_str(d.zone, sizeof(d.zone), "zone");
	check_str(d.then, sizeof(d.then), "then");
	check_str(d.created_by, sizeof(d.created_by), "created_by");
	check_str(d.last_error, sizeof(d.last_error), "last_error");
	if (d.concurrency < 0 || d.concurrency > SCHED_CONC_REPLACE ||
	    d.catchup < 0 || d.catchup > SCHED_CATCHUP_ALL)
		fz_fail("concurrency %d, catch-up %d", d.concurrency,
			d.catchup);
	if (d.nlast > 1 + SCHEDULE_THEN_MAX || d.deadline_ms < 0)
		fz_fail("%u last runs, deadline %lld", d.nlast,
			(long long)d.deadline_ms);
	if (klen != schedule_rec_key(d.tenant, d.id, want) ||
	    memcmp(want, key, klen))
		fz_fail("a schedule was taken under another key");
	for (int i = 0; i < d.nargs; i++)
		if (!d.args[i])
			fz_fail("argument %d is missing", i);
	schedule_def_release(&d);
	return 0;
}
