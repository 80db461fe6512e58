/* fuzz_emr.c - what EMR on EKS and S3 answer (agent/emr.c, emr_logs.c,
 * aws_http.c): byte 0 picks DescribeJobRun's JSON (emr_parse_describe),
 * an error answer (aws_error_format, with a status and an error type), a
 * ListObjectsV2 answer (emr_driver_keys) or a gzip log (emr_gunzip).
 * Refusals and formatted errors are one printable line; keys found end in
 * a driver log's name; gunzip stays within its bound. */
#include <stdlib.h>
#include <string.h>

#include "emr.h"
#include "fuzz.h"

static void one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			fz_fail("not one printable line: byte 0x%02x",
				(unsigned char)*s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	unsigned mode = fz_u8(&in) % 4;
	long status = fz_u16(&in);
	char *type = fz_str(&in, 200);
	const uint8_t *body;
	size_t len = fz_rest(&in, &body);
	const char *b = (const char *)body;
	char out[512] = "", keys[4][1024];
	struct strbuf sb = STRBUF_INIT;
	struct emr_status st;

	if (mode == 0) {
		if (emr_parse_describe(b, len, &st, out, sizeof(out)))
			fz_check_refusal(out, "DescribeJobRun: ");
		else if (emr_state_terminal(st.state) &&
			 st.state == EMR_UNKNOWN)
			fz_fail("unknown state terminal");
		one_line(st.state_details);
		one_line(st.failure_reason);
	} else if (mode == 1) {
		aws_error_format(status, type, b, len, out, sizeof(out));
		fz_check_refusal(out, "");
		one_line(out);
	} else if (mode == 2) {
		size_t n = emr_driver_keys(b, len, keys, 4);
		for (size_t i = 0; i < n; i++)
			if (!strstr(keys[i], "-driver/std"))
				fz_fail("not a driver log: %s", keys[i]);
	} else {
		if (emr_gunzip(b, len, 4096, &sb, out, sizeof(out)))
			fz_check_refusal(out, "gunzip: ");
		else if (sb.len > 4096)
			fz_fail("gunzip past its bound: %zu", sb.len);
	}
	strbuf_release(&sb);
	free(type);
	return 0;
}
