/* fuzz_webhook_rec.c - the stored webhook records (scheduler/webhook_rec.c),
 * read back at every start: a hook definition (`webhooks`) or a delivery
 * (`whoutbox`). A damaged record is refused on one line and leaves nothing
 * behind (no secret of a half-read hook); a decoded one has terminated
 * strings, a known state and a body whose length is its own.
 *
 * Input: u8 (bit 0: 0 a hook, 1 a delivery), a chunk (the key), the rest
 * (the value). */
#include <string.h>

#include "fuzz.h"
#include "webhook_rec.h"

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void check_str(const char *s, size_t size, const char *what)
{
	if (!memchr(s, '\0', size))
		fz_fail("%s is not terminated", what);
}

static void hook(const uint8_t *key, size_t klen, const uint8_t *val,
		 size_t vlen)
{
	struct webhook_hook h;
	char err[256] = "";

	if (webhook_rec_decode_hook(key, klen, val, vlen, &h, err,
				    sizeof(err))) {
		fz_check_refusal(err, "");
		if (!all_zero(&h, sizeof(h)))
			fz_fail("a refused hook record left data behind");
		return;
	}
	check_str(h.id, sizeof(h.id), "id");
	check_str(h.tenant, sizeof(h.tenant), "tenant");
	check_str(h.url, sizeof(h.url), "url");
	check_str(h.secret, sizeof(h.secret), "secret");
	check_str(h.events, sizeof(h.events), "events");
	check_str(h.last_error, sizeof(h.last_error), "last_error");
	if (strlen(h.id) != klen || memcmp(h.id, key, klen) || !h.tenant[0])
		fz_fail("a hook was taken under another key or no tenant");
	/* whatever was stored, matching a filter must not crash */
	(void)webhook_filter_match(h.events, "run.failed");
}

static void msg(const uint8_t *key, size_t klen, const uint8_t *val,
		size_t vlen)
{
	struct webhook_msg m;
	char err[256] = "";

	if (webhook_rec_decode_msg(key, klen, val, vlen, &m, err,
				   sizeof(err))) {
		fz_check_refusal(err, "");
		if (!all_zero(&m, sizeof(m)))
			fz_fail("a refused delivery record left data behind");
		return;
	}
	check_str(m.hook, sizeof(m.hook), "hook");
	check_str(m.msg_id, sizeof(m.msg_id), "msg_id");
	check_str(m.type, sizeof(m.type), "type");
	check_str(m.last_error, sizeof(m.last_error), "last_error");
	if (m.state != WH_PENDING && m.state != WH_DEAD)
		fz_fail("state %d", m.state);
	if (!m.body || strlen(m.body) != m.body_len)
		fz_fail("the body's length is not its own");
	webhook_msg_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	const uint8_t *key, *val;
	size_t klen, vlen;
	uint8_t mode = fz_u8(&in);

	klen = fz_chunk(&in, 256, &key);
	vlen = fz_rest(&in, &val);
	if (mode & 1)
		msg(key, klen, val, vlen);
	else
		hook(key, klen, val, vlen);
	return 0;
}
