/* fuzz_aws_sts.c - the parser of STS's AssumeRoleWithWebIdentity answer
 * (agent/aws_creds.c, aws_sts_parse, aws_xml_text, aws_parse_time): any
 * bytes are refused on one line or give credentials with both keys set
 * and an expiry. */
#include <string.h>

#include "aws_creds.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct aws_creds c;
	char err[256] = "";

	memset(&c, 0, sizeof(c));
	if (aws_sts_parse((const char *)data, size, &c, err, sizeof(err))) {
		fz_check_refusal(err, "");
		return 0;
	}
	if (!c.access_key[0] || !c.secret_key[0] || c.expires_ms <= 0)
		fz_fail("accepted credentials without keys or expiry");
	if (strnlen(c.token, sizeof(c.token)) == sizeof(c.token))
		fz_fail("token not terminated");
	return 0;
}
