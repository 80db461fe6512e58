/* fuzz_sparkrest.c - the parser of Spark's monitoring REST answer
 * (agent/sparkrest.c, sparkrest_parse_executors), which reads what a
 * history server sends: any bytes are refused with a one-line reason or
 * give sums that are never negative. */
#include <string.h>

#include "fuzz.h"
#include "sparkrest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct spark_usage u;
	const uint8_t *body;
	int64_t end = (int64_t)(fz_u64(&in) >> 1);
	size_t len = fz_rest(&in, &body);
	char err[256] = "";

	if (sparkrest_parse_executors((const char *)body, len, end, &u, err,
				      sizeof(err))) {
		fz_check_refusal(err, "");
		return 0;
	}
	if (u.exec_core_ms < 0 || u.exec_lifetime_ms < 0)
		fz_fail("negative usage: %lld core-ms, %lld ms",
			(long long)u.exec_core_ms,
			(long long)u.exec_lifetime_ms);
	return 0;
}
