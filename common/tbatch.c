/* tbatch.c - telemetry batches: build, seal, open, inflate, read. */
#include "tbatch.h"

#include <string.h>
#include <zlib.h>

#include "mp.h"
#include "sign.h"
#include "util.h"

#define BODY_FIELDS 11

void tbatch_builder_init(struct tbatch_builder *b)
{
	memset(b, 0, sizeof(*b));
	msgpack_sbuffer_init(&b->raw);
	msgpack_packer_init(&b->pk, &b->raw, msgpack_sbuffer_write);
}

void tbatch_builder_release(struct tbatch_builder *b)
{
	msgpack_sbuffer_destroy(&b->raw);
	memset(b, 0, sizeof(*b));
}

void tbatch_builder_reset(struct tbatch_builder *b)
{
	msgpack_sbuffer_clear(&b->raw);
	b->events = b->logs = 0;
	b->first_ms = b->last_ms = 0;
}

size_t tbatch_builder_size(const struct tbatch_builder *b)
{
	return b->raw.size;
}

uint32_t tbatch_builder_logs(const struct tbatch_builder *b)
{
	return b->logs;
}

static void note_time(struct tbatch_builder *b, int64_t ts_ms)
{
	if (!b->events++ || ts_ms < b->first_ms)
		b->first_ms = ts_ms;
	if (ts_ms > b->last_ms || b->events == 1)
		b->last_ms = ts_ms;
}

void tbatch_add_log(struct tbatch_builder *b, int64_t ts_ms, int stream,
		    const char *text, size_t len)
{
	if (len > TBATCH_MAX_LINE)
		len = TBATCH_MAX_LINE;
	note_time(b, ts_ms);
	b->logs++;
	msgpack_pack_array(&b->pk, 4);
	msgpack_pack_uint8(&b->pk, TEV_LOG);
	msgpack_pack_int64(&b->pk, ts_ms);
	msgpack_pack_uint8(&b->pk, stream == 1 ? 1 : 2);
	msgpack_pack_str_with_body(&b->pk, text, len);
}

static void pack_name(msgpack_packer *pk, const char *name)
{
	size_t n = strlen(name);
	msgpack_pack_str_with_body(pk, name,
				   n > TBATCH_MAX_NAME ? TBATCH_MAX_NAME : n);
}

void tbatch_add_value(struct tbatch_builder *b, int64_t ts_ms,
		      const char *name, enum tmetric_type type, int64_t value)
{
	note_time(b, ts_ms);
	msgpack_pack_array(&b->pk, 5);
	msgpack_pack_uint8(&b->pk, TEV_METRIC);
	msgpack_pack_int64(&b->pk, ts_ms);
	pack_name(&b->pk, name);
	msgpack_pack_uint8(&b->pk, type == TM_GAUGE ? TM_GAUGE : TM_COUNTER);
	msgpack_pack_int64(&b->pk, value);
}

void tbatch_add_histogram(struct tbatch_builder *b, int64_t ts_ms,
			  const char *name, int64_t count, int64_t sum,
			  int64_t min, int64_t max)
{
	note_time(b, ts_ms);
	msgpack_pack_array(&b->pk, 8);
	msgpack_pack_uint8(&b->pk, TEV_METRIC);
	msgpack_pack_int64(&b->pk, ts_ms);
	pack_name(&b->pk, name);
	msgpack_pack_uint8(&b->pk, TM_HISTOGRAM);
	msgpack_pack_int64(&b->pk, count);
	msgpack_pack_int64(&b->pk, sum);
	msgpack_pack_int64(&b->pk, min);
	msgpack_pack_int64(&b->pk, max);
}

static int over_limits(uint32_t events, size_t raw_len, char *err,
		       size_t errlen)
{
	if (events <= TBATCH_MAX_EVENTS && raw_len <= TBATCH_MAX_RAW)
		return 0;
	snprintf(err, errlen, "batch of %u events, %zu bytes: over the limit "
		 "of %u events, %u bytes", events, raw_len, TBATCH_MAX_EVENTS,
		 TBATCH_MAX_RAW);
	return -1;
}

int tbatch_compress(const struct tbatch_builder *b, struct strbuf *z,
		    struct tbatch_meta *m, char *err, size_t errlen)
{
	uLongf zlen = compressBound(b->raw.size);

	strbuf_reset(z);
	if (over_limits(b->events, b->raw.size, err, errlen))
		return -1;
	strbuf_grow(z, zlen + 1);
	/* Level 1: logs still shrink several times, at a fraction of the
	 * CPU of the default level, on a host that runs Spark. */
	if (compress2((Bytef *)z->buf, &zlen, (const Bytef *)b->raw.data,
		      b->raw.size, 1) != Z_OK) {
		snprintf(err, errlen, "cannot compress a batch");
		return -1;
	}
	strbuf_setlen(z, zlen);
	m->events = b->events;
	m->raw_len = (uint32_t)b->raw.size;
	m->first_ms = b->first_ms;
	m->last_ms = b->last_ms;
	m->z = z->buf;
	m->zlen = z->len;
	return 0;
}

/* msgpack writer into a strbuf: the sealed batch goes straight to out. */
static int strbuf_write(void *data, const char *buf, size_t len)
{
	strbuf_add(data, buf, len);
	return 0;
}

int tbatch_seal_compressed(const struct tbatch_meta *m,
			   const struct sign_key *k, struct strbuf *out,
			   char *err, size_t errlen)
{
	msgpack_sbuffer body;
	msgpack_packer pk;
	uint8_t sig[SIGN_SIG_LEN];
	int rc = -1;

	strbuf_reset(out);
	if (over_limits(m->events, m->raw_len, err, errlen))
		return -1;
	/* the sealed batch adds the header and signature to z: refuse
	 * before reading z when that cannot fit */
	if (m->zlen + 96 > TBATCH_MAX_SEALED) {
		snprintf(err, errlen, "compressed batch of %zu bytes: over the "
			 "limit of %u", m->zlen, TBATCH_MAX_SEALED);
		return -1;
	}
	msgpack_sbuffer_init(&body);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, BODY_FIELDS);
	mp_pack_cstr(&pk, TBATCH_TAG);
	mp_pack_cstr(&pk, m->agent);
	msgpack_pack_uint64(&pk, m->seq);
	msgpack_pack_uint64(&pk, m->run);
	msgpack_pack_uint64(&pk, m->epoch);
	msgpack_pack_uint32(&pk, m->flags);
	msgpack_pack_int64(&pk, m->first_ms);
	msgpack_pack_int64(&pk, m->last_ms);
	msgpack_pack_uint32(&pk, m->events);
	msgpack_pack_uint32(&pk, m->raw_len);
	msgpack_pack_bin_with_body(&pk, m->z, m->zlen);
	if (body.size + 96 > TBATCH_MAX_SEALED) {
		snprintf(err, errlen, "sealed batch of %zu bytes: over the "
			 "limit of %u", body.size, TBATCH_MAX_SEALED);
	} else if (sign_data(k, body.data, body.size, sig)) {
		snprintf(err, errlen, "cannot sign a batch");
	} else {
		msgpack_packer spk;
		strbuf_grow(out, body.size + sizeof(sig) + 16);
		msgpack_packer_init(&spk, out, strbuf_write);
		msgpack_pack_array(&spk, 2);
		msgpack_pack_bin_with_body(&spk, body.data, body.size);
		msgpack_pack_bin_with_body(&spk, sig, sizeof(sig));
		rc = 0;
	}
	msgpack_sbuffer_destroy(&body);
	return rc;
}

int tbatch_seal(struct tbatch_builder *b, const struct sign_key *k,
		const struct tbatch_meta *m, struct strbuf *out, char *err,
		size_t errlen)
{
	struct strbuf z = STRBUF_INIT;
	struct tbatch_meta full = *m;
	int rc;

	strbuf_reset(out);
	rc = tbatch_compress(b, &z, &full, err, errlen);
	if (rc == 0)
		rc = tbatch_seal_compressed(&full, k, out, err, errlen);
	strbuf_release(&z);
	if (rc == 0)
		tbatch_builder_reset(b);
	return rc;
}

/* Reads a bin object's header at p: the offset of its bytes and their
 * length, or -1. Only bin 8/16/32, as msgpack-c packs them. */
static int bin_at(const uint8_t *p, size_t left, size_t *off, size_t *n)
{
	if (left < 2)
		return -1;
	switch (p[0]) {
	case 0xc4: *n = p[1]; *off = 2; break;
	case 0xc5:
		if (left < 3)
			return -1;
		*n = (size_t)p[1] << 8 | p[2];
		*off = 3;
		break;
	case 0xc6:
		if (left < 5)
			return -1;
		*n = (size_t)p[1] << 24 | (size_t)p[2] << 16 |
		     (size_t)p[3] << 8 | p[4];
		*off = 5;
		break;
	default:
		return -1;
	}
	return *n <= left - *off ? 0 : -1;
}

static int get_u64(const msgpack_object *o, uint64_t max, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
		return -1;
	*out = o->via.u64;
	return 0;
}

static int get_i64(const msgpack_object *o, int64_t *out)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
		*out = (int64_t)o->via.u64;
	else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*out = o->via.i64;
	else
		return -1;
	return 0;
}

static int read_body(const msgpack_object *a, struct tbatch_meta *m)
{
	const msgpack_object *f = a->via.array.ptr;
	uint64_t v;

	if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size != BODY_FIELDS ||
	    !mp_str_eq(&f[0], TBATCH_TAG) || f[1].type != MSGPACK_OBJECT_STR ||
	    f[1].via.str.size == 0 || f[1].via.str.size >= sizeof(m->agent) ||
	    memchr(f[1].via.str.ptr, 0, f[1].via.str.size) ||
	    f[10].type != MSGPACK_OBJECT_BIN)
		return -1;
	memcpy(m->agent, f[1].via.str.ptr, f[1].via.str.size);
	m->agent[f[1].via.str.size] = '\0';
	if (get_u64(&f[2], UINT64_MAX, &m->seq) || m->seq == 0 ||
	    get_u64(&f[3], UINT64_MAX, &m->run) || m->run == 0 ||
	    get_u64(&f[4], UINT64_MAX, &m->epoch) ||
	    get_u64(&f[5], UINT32_MAX, &v) || (v & ~(uint64_t)TBATCH_FINAL))
		return -1;
	m->flags = (uint32_t)v;
	if (get_i64(&f[6], &m->first_ms) || get_i64(&f[7], &m->last_ms) ||
	    get_u64(&f[8], TBATCH_MAX_EVENTS, &v))
		return -1;
	m->events = (uint32_t)v;
	if (get_u64(&f[9], TBATCH_MAX_RAW, &v))
		return -1;
	m->raw_len = (uint32_t)v;
	m->z = f[10].via.bin.ptr;
	m->zlen = f[10].via.bin.size;
	return 0;
}

int tbatch_open(const void *buf, size_t len, const uint8_t *pub,
		struct tbatch_meta *m, char *err, size_t errlen)
{
	struct sign_pub *key = NULL;
	int rc;

	if (pub && !(key = sign_pub_new(pub))) {
		snprintf(err, errlen, "bad public key");
		return -1;
	}
	rc = tbatch_open_key(buf, len, key, m, err, errlen);
	sign_pub_free(key);
	return rc;
}

int tbatch_open_key(const void *buf, size_t len, const struct sign_pub *key,
		    struct tbatch_meta *m, char *err, size_t errlen)
{
	const uint8_t *p = buf;
	size_t boff, blen, soff, slen, end;
	msgpack_zone zone;
	msgpack_object o;
	size_t off = 0;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	/* [body: bin, sig: bin 64], nothing after */
	if (len > TBATCH_MAX_SEALED || len < 1 || p[0] != 0x92 ||
	    bin_at(p + 1, len - 1, &boff, &blen)) {
		snprintf(err, errlen, "not a sealed batch");
		return -1;
	}
	end = 1 + boff + blen;
	if (bin_at(p + end, len - end, &soff, &slen) ||
	    end + soff + slen != len || slen != SIGN_SIG_LEN) {
		snprintf(err, errlen, "not a sealed batch");
		return -1;
	}
	const uint8_t *body = p + 1 + boff, *sig = p + end + soff;
	if (mp_validate(body, blen)) {
		snprintf(err, errlen, "malformed batch body");
		return -1;
	}
	msgpack_zone_init(&zone, 1024);
	if (msgpack_unpack((const char *)body, blen, &off, &zone, &o) !=
		    MSGPACK_UNPACK_SUCCESS ||
	    read_body(&o, m)) {
		snprintf(err, errlen, "malformed batch header");
	} else if (key && sign_pub_verify(key, body, blen, sig, slen)) {
		snprintf(err, errlen, "bad batch signature");
		rc = -2;
	} else {
		rc = 0;
	}
	msgpack_zone_destroy(&zone);
	/* z points into buf, not into the zone: bin bodies are not copied */
	return rc;
}

int tbatch_inflate(const struct tbatch_meta *m, struct strbuf *raw,
		   char *err, size_t errlen)
{
	uLongf n = m->raw_len;

	strbuf_reset(raw);
	if (m->raw_len > TBATCH_MAX_RAW) {
		snprintf(err, errlen, "batch body too big");
		return -1;
	}
	strbuf_grow(raw, m->raw_len + 1);
	if (uncompress((Bytef *)raw->buf, &n, (const Bytef *)m->z, m->zlen) !=
		    Z_OK ||
	    n != m->raw_len) {
		strbuf_setlen(raw, 0);
		snprintf(err, errlen, "batch body does not decompress to its "
			 "declared %u bytes", m->raw_len);
		return -1;
	}
	strbuf_setlen(raw, n);
	return 0;
}

static int read_event(const msgpack_object *a, struct tevent *ev)
{
	const msgpack_object *f = a->via.array.ptr;
	uint64_t kind, v;

	memset(ev, 0, sizeof(*ev));
	if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size < 4 ||
	    get_u64(&f[0], 2, &kind) || get_i64(&f[1], &ev->ts_ms))
		return -1;
	if (kind == TEV_LOG) {
		if (a->via.array.size != 4 || get_u64(&f[2], 2, &v) || v < 1 ||
		    f[3].type != MSGPACK_OBJECT_STR ||
		    f[3].via.str.size > TBATCH_MAX_LINE)
			return -1;
		ev->kind = TEV_LOG;
		ev->stream = (int)v;
		ev->text = f[3].via.str.ptr;
		ev->text_len = f[3].via.str.size;
		return 0;
	}
	if (kind != TEV_METRIC || f[2].type != MSGPACK_OBJECT_STR ||
	    f[2].via.str.size == 0 || f[2].via.str.size > TBATCH_MAX_NAME ||
	    get_u64(&f[3], TM_HISTOGRAM, &v) || v < TM_COUNTER)
		return -1;
	ev->kind = TEV_METRIC;
	ev->name = f[2].via.str.ptr;
	ev->name_len = f[2].via.str.size;
	ev->type = (enum tmetric_type)v;
	if (ev->type != TM_HISTOGRAM)
		return a->via.array.size == 5 ? get_i64(&f[4], &ev->value) : -1;
	if (a->via.array.size != 8 || get_i64(&f[4], &ev->count) ||
	    get_i64(&f[5], &ev->sum) || get_i64(&f[6], &ev->min) ||
	    get_i64(&f[7], &ev->max) || ev->count < 0)
		return -1;
	return 0;
}

int tbatch_each_event(const char *raw, size_t len, uint32_t expect,
		      tevent_fn fn, void *ctx, char *err, size_t errlen)
{
	msgpack_zone zone;
	size_t off = 0;
	uint32_t n = 0;
	int rc = 0;

	msgpack_zone_init(&zone, 2048);
	while (rc == 0 && off < len) {
		size_t span, at = 0;
		msgpack_object o;
		struct tevent ev;
		if (n == expect || mp_validate_prefix(raw + off, len - off, &span) ||
		    msgpack_unpack(raw + off, span, &at, &zone, &o) !=
			    MSGPACK_UNPACK_SUCCESS ||
		    read_event(&o, &ev)) {
			snprintf(err, errlen, "malformed event %u of a batch", n);
			rc = -1;
			break;
		}
		off += span;
		n++;
		rc = fn(&ev, ctx);
		msgpack_zone_clear(&zone);
	}
	if (rc == 0 && n != expect) {
		snprintf(err, errlen, "batch holds %u events, not the declared %u",
			 n, expect);
		rc = -1;
	}
	msgpack_zone_destroy(&zone);
	return rc;
}
