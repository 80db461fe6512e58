/* fuzz_tbatch.c - telemetry batches (common/tbatch.c) as the scheduler
 * reads them: open (form and signature), inflate, decode every event.
 *
 * The first byte picks what the rest is:
 *   0  a sealed batch as it arrives, opened with the fixed key's public
 *      half, then again without a key (as a stored batch is read back);
 *   1  the events, raw: the target compresses and seals them itself with
 *      the fixed key (u16 event count first), so the fuzzer reaches the
 *      event decoder past the signature;
 *   2  a zlib stream: sealed with a declared raw length (u16 first), so
 *      the fuzzer reaches inflate past the signature.
 * A batch the target sealed must open and inflate to what it sealed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz.h"
#include "tbatch.h"

static int touch_event(const struct tevent *ev, void *ctx)
{
	unsigned *sum = ctx;
	/* read every byte the event points at, for ASan */
	for (size_t i = 0; i < ev->text_len; i++)
		*sum += (unsigned char)ev->text[i];
	for (size_t i = 0; i < ev->name_len; i++)
		*sum += (unsigned char)ev->name[i];
	return 0;
}

/* Inflates and decodes an opened batch; 0 if every event decoded. */
static int read_events(const struct tbatch_meta *m)
{
	struct strbuf raw = STRBUF_INIT;
	char err[256] = "";
	unsigned sum = 0;
	int rc = tbatch_inflate(m, &raw, err, sizeof(err));

	if (rc == 0)
		rc = tbatch_each_event(raw.buf, raw.len, m->events,
				       touch_event, &sum, err, sizeof(err));
	if (rc)
		fz_check_refusal(err, "");
	strbuf_release(&raw);
	return rc;
}

static void open_sealed(const uint8_t *buf, size_t len, bool must_open)
{
	uint8_t pub[SIGN_PUB_LEN];
	struct tbatch_meta m;
	char err[256] = "";
	int rc;

	fz_pub(pub);
	rc = tbatch_open(buf, len, pub, &m, err, sizeof(err));
	if (rc && must_open)
		fz_fail("a batch sealed here does not open: %s", err);
	if (rc)
		fz_check_refusal(err, "");
	if (rc == 0 || rc == -2) {
		if (tbatch_open(buf, len, NULL, &m, err, sizeof(err)))
			fz_fail("opens with a key but not without");
		read_events(&m);
	}
}

/* Seals z as a batch of the fixed key and opens it again. */
static void seal_and_open(struct tbatch_meta *m)
{
	struct strbuf sealed = STRBUF_INIT;
	char err[256] = "";

	snprintf(m->agent, sizeof(m->agent), "ag-fuzz");
	m->seq = 1;
	m->run = 7;
	m->epoch = 1;
	if (tbatch_seal_compressed(m, fz_key(), &sealed, err, sizeof(err)))
		fz_check_refusal(err, "");
	else
		open_sealed((const uint8_t *)sealed.buf, sealed.len, true);
	strbuf_release(&sealed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t mode = fz_u8(&in);
	struct tbatch_meta m;
	const uint8_t *rest;
	size_t len;

	memset(&m, 0, sizeof(m));
	if (mode % 3 == 0) {
		len = fz_rest(&in, &rest);
		open_sealed(rest, len, false);
	} else if (mode % 3 == 1) {
		uLongf zlen;
		Bytef *z;
		m.events = fz_u16(&in);
		m.flags = mode >> 7;
		len = fz_rest(&in, &rest);
		zlen = compressBound(len);
		z = xmalloc(zlen);
		if (compress2(z, &zlen, rest, len, 1) != Z_OK)
			fz_fail("compress2 failed");
		m.raw_len = (uint32_t)len;
		m.z = (const char *)z;
		m.zlen = zlen;
		seal_and_open(&m);
		free(z);
	} else {
		/* small, or one past the limit */
		m.raw_len = mode & 0x80 ? TBATCH_MAX_RAW + 1 : fz_u16(&in);
		m.events = fz_u16(&in);
		len = fz_rest(&in, &rest);
		m.z = (const char *)rest;
		m.zlen = len;
		seal_and_open(&m);
	}
	return 0;
}
