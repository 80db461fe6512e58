/* auditlog.c - audit records: encoding, hash chain, signed marks, the
 * export line and the walk that checks a chain (auditlog.h). */
#include "auditlog.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mp.h"
#include "util.h"

void audit_rec_add(struct audit_rec *r, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (r->nd >= AUDIT_MAX_DETAIL)
		return;
	snprintf(r->d[r->nd].key, sizeof(r->d[r->nd].key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(r->d[r->nd].val, sizeof(r->d[r->nd].val), fmt, ap);
	va_end(ap);
	r->nd++;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void audit_rec_put(struct audit_rec *r, const char *key, const char *val)
{
	if (r->nd >= AUDIT_MAX_DETAIL)
		return;
	copy_str(r->d[r->nd].key, sizeof(r->d[r->nd].key), key);
	copy_str(r->d[r->nd].val, sizeof(r->d[r->nd].val), val);
	r->nd++;
}

const char *audit_rec_get(const struct audit_rec *r, const char *key)
{
	for (size_t i = 0; i < r->nd; i++)
		if (!strcmp(r->d[i].key, key))
			return r->d[i].val;
	return NULL;
}

static int sb_write(void *data, const char *buf, size_t len)
{
	strbuf_add(data, buf, len);
	return 0;
}

void audit_rec_encode(const struct audit_rec *r, struct strbuf *out)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, sb_write);
	msgpack_pack_map(&pk, r->has_sig ? 9 : 8);
	mp_kv_u64(&pk, "v", AUDIT_FORMAT);
	mp_kv_u64(&pk, "seq", r->seq);
	mp_kv_i64(&pk, "ms", r->ms);
	mp_kv_str(&pk, "kind", r->kind);
	mp_kv_str(&pk, "tenant", r->tenant);
	mp_kv_str(&pk, "actor", r->actor);
	mp_kv_bin(&pk, "prev", r->prev, sizeof(r->prev));
	mp_pack_cstr(&pk, "d");
	msgpack_pack_map(&pk, r->nd);
	for (size_t i = 0; i < r->nd; i++)
		mp_kv_str(&pk, r->d[i].key, r->d[i].val);
	if (r->has_sig)
		mp_kv_bin(&pk, "sig", r->sig, sizeof(r->sig));
}

static int bad(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* Copies a STR object into buf (size n): -1 if not one or too long. */
static int obj_str(const msgpack_object *o, char *buf, size_t n)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= n ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size))
		return -1;
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return 0;
}

static int decode_detail(const msgpack_object *d, struct audit_rec *r)
{
	if (!d || d->type != MSGPACK_OBJECT_MAP ||
	    d->via.map.size > AUDIT_MAX_DETAIL)
		return -1;
	for (uint32_t i = 0; i < d->via.map.size; i++) {
		const msgpack_object_kv *kv = &d->via.map.ptr[i];
		if (obj_str(&kv->key, r->d[i].key, sizeof(r->d[i].key)) ||
		    obj_str(&kv->val, r->d[i].val, sizeof(r->d[i].val)))
			return -1;
	}
	r->nd = d->via.map.size;
	return 0;
}

int audit_rec_decode(const void *buf, size_t len, struct audit_rec *r,
		     char *err, size_t errlen)
{
	msgpack_unpacked u;
	const msgpack_object *o;
	const char *bin;
	size_t blen, off = 0;
	uint64_t v;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (mp_validate(buf, len))
		return bad(err, errlen, "not a msgpack object");
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != len) {
		bad(err, errlen, "not one msgpack object");
		goto out;
	}
	o = &u.data;
	if (o->type != MSGPACK_OBJECT_MAP || mp_get_u64(o, "v", &v)) {
		bad(err, errlen, "not an audit record");
		goto out;
	}
	if (v != AUDIT_FORMAT) {
		snprintf(err, errlen, "audit record format %llu is unknown",
			 (unsigned long long)v);
		goto out;
	}
	if (mp_get_u64(o, "seq", &r->seq) || mp_get_i64(o, "ms", &r->ms) ||
	    mp_get_str(o, "kind", r->kind, sizeof(r->kind)) ||
	    mp_get_str(o, "tenant", r->tenant, sizeof(r->tenant)) ||
	    mp_get_str(o, "actor", r->actor, sizeof(r->actor)) ||
	    mp_get_bin(o, "prev", &bin, &blen) || blen != AUDIT_HASH_LEN) {
		bad(err, errlen, "an audit record's field is missing or bad");
		goto out;
	}
	memcpy(r->prev, bin, AUDIT_HASH_LEN);
	if (decode_detail(mp_get(o, "d"), r)) {
		bad(err, errlen, "an audit record's detail is bad");
		goto out;
	}
	if (mp_get(o, "sig")) {
		if (mp_get_bin(o, "sig", &bin, &blen) || blen != SIGN_SIG_LEN) {
			bad(err, errlen, "an audit record's signature is bad");
			goto out;
		}
		memcpy(r->sig, bin, SIGN_SIG_LEN);
		r->has_sig = true;
	}
	if (o->via.map.size != (r->has_sig ? 9u : 8u)) {
		bad(err, errlen, "an audit record has unknown fields");
		goto out;
	}
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

static void store_u64(uint8_t *out, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

size_t audit_mark_bytes(const char *label, uint64_t seq,
			const uint8_t hash[AUDIT_HASH_LEN], int64_t ms,
			uint8_t out[AUDIT_MARK_MAX])
{
	int n = snprintf((char *)out, AUDIT_MARK_MAX - 48, "sparkpilot-audit:%s",
			 label);
	size_t k = (size_t)n + 1; /* the NUL ends the label */

	store_u64(out + k, seq);
	memcpy(out + k + 8, hash, AUDIT_HASH_LEN);
	store_u64(out + k + 8 + AUDIT_HASH_LEN, (uint64_t)ms);
	return k + 16 + AUDIT_HASH_LEN;
}

int audit_mark_sign(const struct sign_key *k, const char *label, uint64_t seq,
		    const uint8_t hash[AUDIT_HASH_LEN], int64_t ms,
		    uint8_t sig[SIGN_SIG_LEN])
{
	uint8_t m[AUDIT_MARK_MAX];
	return sign_data(k, m, audit_mark_bytes(label, seq, hash, ms, m), sig);
}

int audit_mark_verify(const uint8_t pub[SIGN_PUB_LEN], const char *label,
		      uint64_t seq, const uint8_t hash[AUDIT_HASH_LEN],
		      int64_t ms, const uint8_t sig[SIGN_SIG_LEN])
{
	uint8_t m[AUDIT_MARK_MAX];
	return sign_verify(pub, m, audit_mark_bytes(label, seq, hash, ms, m),
			   sig, SIGN_SIG_LEN);
}

static void jw_hex(struct jw *w, const char *key, const void *b, size_t n)
{
	char *hex = xmalloc(2 * n + 1);
	hex_encode(b, n, hex);
	jw_str(w, key, hex);
	free(hex);
}

int audit_json_line(const void *raw, size_t len, struct strbuf *out,
		    char *err, size_t errlen)
{
	struct audit_rec r;
	uint8_t h[AUDIT_HASH_LEN];
	char when[40];
	struct jw w;

	if (audit_rec_decode(raw, len, &r, err, errlen))
		return -1;
	sign_sha256(raw, len, h);
	time_format_iso(r.ms, when, sizeof(when));
	jw_init(&w, out);
	jw_obj_open(&w, NULL);
	jw_str(&w, "type", strcmp(r.kind, AUDIT_CHECKPOINT) ? "record"
							     : AUDIT_CHECKPOINT);
	jw_uint(&w, "seq", r.seq);
	jw_str(&w, "time", when);
	jw_int(&w, "ms", r.ms);
	jw_str(&w, "kind", r.kind);
	jw_str(&w, "tenant", r.tenant);
	jw_str(&w, "actor", r.actor);
	jw_obj_open(&w, "detail");
	for (size_t i = 0; i < r.nd; i++)
		jw_str(&w, r.d[i].key, r.d[i].val);
	jw_obj_close(&w);
	jw_hex(&w, "prev", r.prev, sizeof(r.prev));
	jw_hex(&w, "hash", h, sizeof(h));
	if (r.has_sig)
		jw_hex(&w, "sig", r.sig, sizeof(r.sig));
	jw_hex(&w, "raw", raw, len);
	jw_obj_close(&w);
	return 0;
}

void audit_walk_init(struct audit_walk *w, const uint8_t pub[SIGN_PUB_LEN],
		     uint64_t seq, const uint8_t hash[AUDIT_HASH_LEN])
{
	memset(w, 0, sizeof(*w));
	memcpy(w->pub, pub, SIGN_PUB_LEN);
	w->last_seq = seq;
	if (hash)
		memcpy(w->last_hash, hash, AUDIT_HASH_LEN);
}

int audit_walk_next(struct audit_walk *w, const void *raw, size_t len,
		    uint64_t *seq, char *err, size_t errlen)
{
	struct audit_rec r;
	char why[160];

	*seq = 0;
	if (audit_rec_decode(raw, len, &r, why, sizeof(why))) {
		snprintf(err, errlen, "altered: %s", why);
		return -1;
	}
	*seq = r.seq;
	if (r.seq != w->last_seq + 1) {
		snprintf(err, errlen, "seq %llu where %llu was expected: %s",
			 (unsigned long long)r.seq,
			 (unsigned long long)w->last_seq + 1,
			 r.seq > w->last_seq ? "records removed before it"
					     : "records reordered or repeated");
		return -1;
	}
	if (memcmp(r.prev, w->last_hash, AUDIT_HASH_LEN)) {
		snprintf(err, errlen, "its prev is not the hash of the record "
			 "before it: that record (seq %llu) was altered or "
			 "replaced", (unsigned long long)w->last_seq);
		return -1;
	}
	if (!strcmp(r.kind, AUDIT_CHECKPOINT)) {
		if (!r.has_sig ||
		    audit_mark_verify(w->pub, AUDIT_CHECKPOINT, r.seq - 1,
				      r.prev, r.ms, r.sig)) {
			snprintf(err, errlen, "checkpoint signature does not "
				 "verify with the trusted key (signed by %.64s)",
				 audit_rec_get(&r, "key") ? audit_rec_get(&r, "key")
							  : "no key");
			return -1;
		}
		w->checkpoints++;
		w->last_checkpoint = r.seq;
	} else {
		w->records++;
	}
	sign_sha256(raw, len, w->last_hash);
	w->last_seq = r.seq;
	return 0;
}
