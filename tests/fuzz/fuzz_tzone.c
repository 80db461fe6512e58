/* fuzz_tzone.c - the TZif reader (common/tzone.c, tzone_parse): any bytes
 * as a zone file, then offsets and local-to-UTC mappings at a few
 * instants (fixed ones, and ones the input names). A refusal is one line
 * naming the zone; an offset stays within RFC 8536's bounds; every UTC
 * instant local_to_utc returns shows the wall time asked about, in
 * order. */
#include <stdlib.h>

#include "fuzz.h"
#include "tzone.h"

static const int64_t fixed[] = {
	0, -2208988800LL, 1774746000LL, 1792890000LL, 2147483647LL,
	2840140800LL, 32503680000LL, INT64_MIN, INT64_MAX,
};

static void check_at(const struct tzone *z, int64_t t)
{
	int32_t off = tzone_offset(z, t);
	int64_t out[2], gap, l;
	int n;

	if (off < -89999 || off > 93599)
		fz_fail("offset %d at %lld", (int)off, (long long)t);
	/* Near the ends of time the reader clamps; stay inside. */
	if (t < -((int64_t)1 << 59) || t > ((int64_t)1 << 59))
		return;
	l = t + off;
	n = tzone_local_to_utc(z, l, out, &gap);
	if (n < 0 || n > 2)
		fz_fail("%d instants for one wall time", n);
	for (int i = 0; i < n; i++) {
		if (out[i] + tzone_offset(z, out[i]) != l)
			fz_fail("instant %lld does not show %lld",
				(long long)out[i], (long long)l);
		if (i && out[i] <= out[i - 1])
			fz_fail("instants out of order");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tzone *z = NULL;
	char err[256];

	err[0] = '\0';
	if (tzone_parse(data, size, "fuzz", &z, err, sizeof(err))) {
		fz_check_refusal(err, "time zone 'fuzz': ");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		check_at(z, fixed[i]);
	/* Instants from the input's last 64 bytes, 8 at a time. */
	for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
		struct fz_in in = { data + size - 8 - i, 8 };
		check_at(z, (int64_t)fz_u64(&in));
	}
	tzone_free(z);
	return 0;
}
