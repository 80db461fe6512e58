/* fuzz_commitlog.c - the store's commit log replay (scheduler/commitlog.c),
 * which an open runs over whatever a crash, a power cut or a damaged disk
 * left in DATA_DIR/commitlog. Any bytes: the open either refuses them on
 * one line, or replays records and takes a new one, which the next open
 * replays after the same records.
 *
 * Input: u8 number of segments (1 to 3); then for each { u8 segment
 * number (0 taken as 1), chunk content }. */
#include <stdio.h>
#include <string.h>

#include "commitlog.h"
#include "fuzz.h"

#define MAX_SEGS 3

static char dir[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setup("fuzz_commitlog", LOG_ERROR);
	snprintf(dir, sizeof(dir), "%s/commitlog", fz_tmpdir());
	return 0;
}

struct seen {
	uint64_t n;
	char last[8];
	size_t last_len;
};

static int count(void *ctx, const void *rec, size_t len, char *err,
		 size_t errlen)
{
	struct seen *s = ctx;
	(void)err;
	(void)errlen;
	if (len == 0)
		fz_fail("an empty record was replayed");
	s->n++;
	s->last_len = len < sizeof(s->last) ? len : sizeof(s->last);
	memcpy(s->last, rec, s->last_len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	int nsegs = fz_u8(&in) % MAX_SEGS + 1;
	struct seen a = { 0 }, b = { 0 };
	struct commitlog *l;
	char path[600], err[1024];
	uint64_t n;
	bool sw;

	fz_empty_dir(dir);
	mkdir_p(dir, 0700);
	for (int i = 0; i < nsegs && in.n; i++) {
		uint8_t num = fz_u8(&in);
		const uint8_t *img;
		size_t len = fz_chunk(&in, 65536, &img);
		snprintf(path, sizeof(path), "%s/%016x.seg", dir,
			 num ? num : 1);
		fz_write_file(path, img, len);
	}
	l = commitlog_open(dir, 4096, count, &a, &n, err, sizeof(err));
	if (!l) {
		fz_check_refusal(err, "commit log");
		return 0;
	}
	if (n != a.n)
		fz_fail("replayed %llu, counted %llu", (unsigned long long)n,
			(unsigned long long)a.n);
	if (commitlog_append(l, "fuzz", 4, true, &sw, err, sizeof(err)))
		fz_fail("append after a good open: %s", err);
	commitlog_close(l, false);
	l = commitlog_open(dir, 4096, count, &b, &n, err, sizeof(err));
	if (!l)
		fz_fail("the log does not open again: %s", err);
	if (b.n != a.n + 1 || b.last_len != 4 || memcmp(b.last, "fuzz", 4))
		fz_fail("reopened: %llu records, not %llu and the new one",
			(unsigned long long)b.n, (unsigned long long)a.n + 1);
	commitlog_close(l, true);
	return 0;
}
