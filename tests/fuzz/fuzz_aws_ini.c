/* fuzz_aws_ini.c - the reader of the AWS shared credentials and config
 * files (agent/aws_creds.c, aws_ini_get, aws_ini_has_section): any bytes,
 * any section and key; a value found is terminated, fits, and has no
 * newline or surrounding blanks. */
#include <stdlib.h>
#include <string.h>

#include "aws_creds.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	char *section = fz_str(&in, 64), *key = fz_str(&in, 64);
	size_t outlen = 1 + fz_u8(&in) % 64;
	const uint8_t *text;
	size_t len = fz_rest(&in, &text);
	char out[64];

	memset(out, 'x', sizeof(out));
	if (aws_ini_get((const char *)text, len, section, key, out, outlen) ==
	    0) {
		size_t n = strnlen(out, outlen);
		if (n == outlen)
			fz_fail("value not terminated within %zu", outlen);
		if (strchr(out, '\n'))
			fz_fail("value holds a newline");
		if (n && (out[0] == ' ' || out[n - 1] == ' '))
			fz_fail("value not trimmed: '%s'", out);
		if (!aws_ini_has_section((const char *)text, len, section))
			fz_fail("a key found in a section that is absent");
	}
	free(section);
	free(key);
	return 0;
}
