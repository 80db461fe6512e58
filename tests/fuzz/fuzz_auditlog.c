/* fuzz_auditlog.c - the audit record codec (common/auditlog.c), which
 * sparkpilot-audit-verify runs on the "raw" bytes of any export file it
 * is given. Any bytes: the decoder refuses them with a reason or returns
 * a record; the export line renders exactly when the record decodes; a
 * decoded record encoded again decodes to the same record, and encodes
 * to the same bytes (a fixed point after one round); the walk checks it
 * without crashing whatever it holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditlog.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf line = STRBUF_INIT, once = STRBUF_INIT,
		      twice = STRBUF_INIT;
	struct audit_rec r, again;
	struct audit_walk w;
	uint8_t pub[SIGN_PUB_LEN] = { 0 };
	uint64_t seq;
	char err[256];
	int dec = audit_rec_decode(data, size, &r, err, sizeof(err));
	int rendered = audit_json_line(data, size, &line, err, sizeof(err));

	if ((dec == 0) != (rendered == 0))
		abort();
	audit_walk_init(&w, pub, dec ? 0 : r.seq - 1, dec ? NULL : r.prev);
	audit_walk_next(&w, data, size, &seq, err, sizeof(err));
	if (dec == 0) {
		audit_rec_encode(&r, &once);
		if (audit_rec_decode(once.buf, once.len, &again, err,
				     sizeof(err)) ||
		    memcmp(&r, &again, sizeof(r)))
			abort();
		audit_rec_encode(&again, &twice);
		if (once.len != twice.len || memcmp(once.buf, twice.buf, once.len))
			abort();
	}
	strbuf_release(&line);
	strbuf_release(&once);
	strbuf_release(&twice);
	return 0;
}
