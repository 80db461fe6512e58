/* fuzz_diagnose.c - the failure classifier (common/diagnose.c): every line
 * of an input is fed as driver output (any bytes, any length), the first
 * byte picks an exit status and the wait limits, and the result must name
 * a known category with its hint and a clean deciding line. */
#include <string.h>

#include "diagnose.h"
#include "fuzz.h"

static struct diagnoser *d;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	d = diagnoser_new();
	return 0;
}

static int feed(const char *line, size_t len, void *ctx)
{
	diagnose_line(ctx, line, len);
	return 0;
}

static void check(const struct diagnosis *r)
{
	size_t n = strnlen(r->line, sizeof(r->line));

	if (n == sizeof(r->line))
		fz_fail("the deciding line is not terminated");
	if (!diagnose_category_known(r->category) ||
	    strcmp(diagnose_category_name(r->id), r->category))
		fz_fail("category %d '%s' is not known", (int)r->id,
			r->category);
	if (!r->hint || r->retryable != diagnose_retryable(r->category))
		fz_fail("category '%s': hint or retryable wrong", r->category);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r->line[i] < 0x20)
			fz_fail("control byte in the deciding line");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	const uint8_t *rest;
	size_t len;
	uint8_t mode = fz_u8(&in);

	diagnoser_reset(d);
	/* small limits reach the waiting-for-resources rule in a few lines */
	if (mode & 0x40)
		diagnose_set_wait_limits(d, mode & 0x0f, (mode >> 4) & 0x03);
	else
		diagnose_set_wait_limits(d, DIAGNOSE_WAIT_SECONDS,
					 DIAGNOSE_WAIT_REPORTS);
	len = fz_rest(&in, &rest);
	fz_lines(rest, len, 100000, feed, d);
	check(diagnose_result(d));
	if (mode & 0x80) {
		diagnose_exit(d, (mode & 0x01 ? 101 : 1) << 8);
		check(diagnose_result(d));
	}
	return 0;
}
