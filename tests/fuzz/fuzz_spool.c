/* fuzz_spool.c - the agent's spool reader (agent/spool_disk.c, the
 * verifying scan of a segment image, and agent/spool_open.c, which opens a
 * directory of segments and a state file as an agent does after a crash).
 * Damage is never fatal (spool.h): the spool must open, give back its live
 * records in strictly increasing seq order, take an ack and an append, and
 * close.
 *
 * Input: u8 mode; then the state file (a chunk, absent when empty); then
 * up to MAX_SEGS segments of { u8 lane, u8 name seq, chunk content }. With
 * mode bit 0 the first segment is only scanned in memory. */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "spool.h"
#include "spool_disk.h"

#define MAX_SEGS 4

static char dir[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setup("fuzz_spool", LOG_ERROR);
	snprintf(dir, sizeof(dir), "%s/spool", fz_tmpdir());
	return 0;
}

static void on_record(void *ctx, const struct spool_disk_rec *r, uint64_t off)
{
	uint64_t *last = ctx;
	(void)off;
	if (r->seq <= *last && *last)
		fz_fail("scan: seq %llu after %llu", (unsigned long long)r->seq,
			(unsigned long long)*last);
	*last = r->seq;
}

static void on_corrupt(void *ctx, uint64_t off, uint64_t len, const char *why)
{
	(void)ctx;
	(void)off;
	(void)len;
	(void)why;
}

static void scan_only(const uint8_t *img, size_t len, int lane, bool tail)
{
	uint64_t last = 0;
	struct spool_disk_scan_ops ops = { on_record, on_corrupt, &last };
	struct spool_disk_scan res;

	memset(&res, 0, sizeof(res));
	spool_disk_scan(img, len, lane, 1, tail, &ops, &res);
	if (res.keep_len > len || res.max_seq != last)
		fz_fail("scan: keep %llu of %zu, max seq %llu, last %llu",
			(unsigned long long)res.keep_len, len,
			(unsigned long long)res.max_seq,
			(unsigned long long)last);
}

static void quiet(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

static int check_order(void *ctx, const struct spool_record *r)
{
	uint64_t *last = ctx;
	if (r->seq <= *last)
		fz_fail("peek: seq %llu after %llu", (unsigned long long)r->seq,
			(unsigned long long)*last);
	*last = r->seq;
	return 0;
}

/* Opens the directory the input made and uses it as the agent would. */
static void open_and_use(uint8_t ack)
{
	struct spool_opts o = { .dir = dir, .fsync = SPOOL_FSYNC_NEVER,
				.max_bytes = 64 << 10,
				.segment_bytes = 4 << 10, .warn = quiet };
	struct spool *sp;
	struct spool_stats st;
	uint64_t last = 0, seq;
	char err[512];

	sp = spool_open(&o, err, sizeof(err));
	if (!sp) {
		fz_check_refusal(err, "");
		return;
	}
	if (spool_peek(sp, 0, 1000, 1 << 20, check_order, &last, err,
		       sizeof(err)) < 0)
		fz_check_refusal(err, "");
	spool_get_stats(sp, &st);
	spool_ack(sp, st.acked_seq + ack, err, sizeof(err));
	spool_append(sp, SPOOL_LOG, 0, "line", 4, &seq, err, sizeof(err));
	last = 0;
	if (spool_peek(sp, 0, 1000, 1 << 20, check_order, &last, err,
		       sizeof(err)) < 0)
		fz_check_refusal(err, "");
	spool_close(sp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t mode = fz_u8(&in);
	const uint8_t *state, *img;
	size_t slen = fz_chunk(&in, 64, &state);
	char path[600], name[64];

	if (mode & 1) {
		uint8_t lane = fz_u8(&in) % SPOOL_LANES;
		size_t len = fz_chunk(&in, 65536, &img);
		scan_only(img, len, lane, mode & 2);
		return 0;
	}
	fz_empty_dir(dir);
	mkdir_p(dir, 0700);
	if (slen) {
		snprintf(path, sizeof(path), "%s/state", dir);
		fz_write_file(path, state, slen);
	}
	for (int i = 0; i < MAX_SEGS && in.n; i++) {
		uint8_t lane = fz_u8(&in) % SPOOL_LANES;
		uint8_t first = fz_u8(&in);
		size_t len = fz_chunk(&in, 65536, &img);
		snprintf(name, sizeof(name), "%020u-%c.seg", first,
			 spool_lane_char(lane));
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		fz_write_file(path, img, len);
	}
	open_and_use(mode >> 4);
	return 0;
}
