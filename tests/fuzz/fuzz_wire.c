/* fuzz_wire.c - the agent -> scheduler envelope (common/wire.c) and the
 * checks the scheduler's transport makes before the core sees a message
 * (scheduler/agentsvc.c, authenticate): decode, verify the signature with
 * the sender's key (for enroll, the key in its body), and for telemetry
 * the batches it carries (telemetry_precheck).
 *
 * The first byte picks what the rest is:
 *   even  a message as it arrives, checked against the fixed key (its
 *         signature verifies only if it was made with that key);
 *   odd   a type (a chunk) and a body: the target seals them itself with
 *         the fixed key, so the fuzzer reaches the paths behind a valid
 *         signature. Such a message, if it opens, must verify. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mp.h"
#include "telemetry.h"
#include "wire.h"

/* What authenticate() does with an opened, signed message. */
static int authenticate(const struct wire_msg *m)
{
	uint8_t pub[SIGN_PUB_LEN];
	const char *bin;
	size_t len;

	if (!strcmp(m->type, "enroll")) {
		if (mp_get_bin(m->body, "pubkey", &bin, &len) ||
		    len != SIGN_PUB_LEN)
			return -1;
		return wire_verify(m, (const uint8_t *)bin);
	}
	fz_pub(pub);
	if (wire_verify(m, pub))
		return -1;
	if (!strcmp(m->type, "telemetry"))
		telemetry_pre_free(telemetry_precheck(m, pub));
	return 0;
}

static void check(const uint8_t *buf, size_t len, bool sealed_here)
{
	struct wire_msg m;
	char err[256] = "";
	int rc = wire_open(buf, len, &m, err, sizeof(err));

	if (rc == WIRE_MALFORMED)
		fz_check_refusal(err, "");
	else if (rc == WIRE_OK && authenticate(&m) && sealed_here &&
		 strcmp(m.type, "enroll"))
		fz_fail("a message sealed here does not verify");
	wire_msg_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t mode = fz_u8(&in);
	struct strbuf msg = STRBUF_INIT;
	const uint8_t *body;
	size_t len;
	char *type;

	if (!(mode & 1)) {
		len = fz_rest(&in, &body);
		check(body, len, false);
		return 0;
	}
	type = fz_str(&in, 64);
	len = fz_rest(&in, &body);
	wire_seal(&msg, type, "ag-fuzz", 1, 1, body, len, fz_key());
	check((const uint8_t *)msg.buf, msg.len, true);
	free(type);
	strbuf_release(&msg);
	return 0;
}
