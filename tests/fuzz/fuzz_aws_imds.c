/* fuzz_aws_imds.c - the parser of the instance metadata service's
 * credentials (agent/aws_creds.c, aws_imds_parse): any bytes are refused
 * on one line or give credentials with both keys, a token and an expiry. */
#include <string.h>

#include "aws_creds.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct aws_creds c;
	char err[256] = "";

	memset(&c, 0, sizeof(c));
	if (aws_imds_parse((const char *)data, size, &c, err, sizeof(err))) {
		fz_check_refusal(err, "");
		return 0;
	}
	if (!c.access_key[0] || !c.secret_key[0] || !c.token[0] ||
	    c.expires_ms <= 0)
		fz_fail("accepted credentials without keys, token or expiry");
	return 0;
}
