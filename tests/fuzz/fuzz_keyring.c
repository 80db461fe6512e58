/* fuzz_keyring.c - the keyring file (scheduler/keyring.c), which the
 * scheduler reads at start from its data dir (and a restore copies from
 * the backup dir): anyone who can write either may damage it. Any bytes:
 * the parser refuses them on one line naming the line, or takes keys
 * that unwrap under the master key, each tenant and key id once, every
 * id below the 'next' line's; formatted again, the text parses to the
 * same keys. */
#include <string.h>

#include "fuzz.h"
#include "keyring.h"

static const uint8_t master[KEYRING_KEY_BYTES] = { 0x6b, 0x65, 0x79 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyring *kr = keyring_new(master), *again;
	struct strbuf text = STRBUF_INIT;
	char err[256] = "";

	if (keyring_parse(kr, (const char *)data, size, err, sizeof(err))) {
		fz_check_refusal(err, "keyring line ");
		if (keyring_count(kr))
			fz_fail("a refused keyring kept %zu keys",
				keyring_count(kr));
		keyring_free(kr);
		return 0;
	}
	keyring_format(kr, &text);
	again = keyring_new(master);
	if (keyring_parse(again, text.buf, text.len, err, sizeof(err)))
		fz_fail("a keyring formatted again is refused: %s", err);
	if (keyring_count(again) != keyring_count(kr))
		fz_fail("%zu keys read again as %zu", keyring_count(kr),
			keyring_count(again));
	strbuf_release(&text);
	keyring_free(again);
	keyring_free(kr);
	return 0;
}
