/* wire.c - sealing and opening signed envelopes. */
#include "wire.h"

#include <stdio.h>
#include <string.h>

#include "mp.h"

static int malformed(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return WIRE_MALFORMED;
}

/* Unpacks one complete object filling exactly len bytes. */
static int unpack_exact(msgpack_unpacked *u, const char *buf, size_t len)
{
	size_t off = 0;
	if (mp_validate(buf, len))
		return -1;
	return msgpack_unpack_next(u, buf, len, &off) ==
			       MSGPACK_UNPACK_SUCCESS &&
		       off == len
		       ? 0
		       : -1;
}

static int open_envelope(struct wire_msg *m, char *err, size_t errlen)
{
	const msgpack_object *env = &m->env.data;
	uint64_t v;

	if (unpack_exact(&m->env, m->env_bytes, m->env_len) ||
	    env->type != MSGPACK_OBJECT_MAP)
		return malformed(err, errlen, "envelope is not a msgpack map");
	if (mp_get_u64(env, "v", &v) || v != WIRE_VERSION)
		return malformed(err, errlen, "unsupported protocol version");
	m->v = (uint32_t)v;
	if (mp_get_str(env, "type", m->type, sizeof(m->type)))
		return malformed(err, errlen, "missing or bad 'type'");
	if (mp_get_str(env, "agent", m->agent, sizeof(m->agent)))
		return malformed(err, errlen, "missing or bad 'agent'");
	if (mp_get_u64(env, "seq", &m->seq))
		return malformed(err, errlen, "missing or bad 'seq'");
	if (mp_get_i64(env, "ts", &m->ts))
		return malformed(err, errlen, "missing or bad 'ts'");
	m->body = mp_get(env, "body");
	if (!m->body || m->body->type != MSGPACK_OBJECT_MAP)
		return malformed(err, errlen, "missing or bad 'body'");
	return WIRE_OK;
}

int wire_open(const void *buf, size_t len, struct wire_msg *m, char *err,
	      size_t errlen)
{
	msgpack_unpacked outer;
	const msgpack_object *a;
	int rc;

	memset(m, 0, sizeof(*m));
	msgpack_unpacked_init(&m->env);
	if (len > WIRE_MAX_MSG)
		return malformed(err, errlen, "message too large");
	msgpack_unpacked_init(&outer);
	if (unpack_exact(&outer, buf, len) ||
	    outer.data.type != MSGPACK_OBJECT_ARRAY ||
	    outer.data.via.array.size < 1 || outer.data.via.array.size > 2 ||
	    outer.data.via.array.ptr[0].type != MSGPACK_OBJECT_BIN) {
		msgpack_unpacked_destroy(&outer);
		return malformed(err, errlen,
				 "not a [envelope, signature] array");
	}
	a = outer.data.via.array.ptr;
	/* The bin bodies point into buf (msgpack-c does not copy them). */
	m->env_bytes = a[0].via.bin.ptr;
	m->env_len = a[0].via.bin.size;
	if (outer.data.via.array.size == 2) {
		if (a[1].type == MSGPACK_OBJECT_BIN && a[1].via.bin.size) {
			m->sig = (const uint8_t *)a[1].via.bin.ptr;
			m->sig_len = a[1].via.bin.size;
		} else if (a[1].type != MSGPACK_OBJECT_NIL &&
			   a[1].type != MSGPACK_OBJECT_BIN) {
			msgpack_unpacked_destroy(&outer);
			return malformed(err, errlen, "signature is not bin");
		}
	}
	msgpack_unpacked_destroy(&outer);
	rc = open_envelope(m, err, errlen);
	if (rc == WIRE_OK && !m->sig)
		return WIRE_UNSIGNED;
	return rc;
}

void wire_msg_release(struct wire_msg *m)
{
	msgpack_unpacked_destroy(&m->env);
	memset(m, 0, sizeof(*m));
}

int wire_verify(const struct wire_msg *m, const uint8_t pub[SIGN_PUB_LEN])
{
	return sign_verify(pub, m->env_bytes, m->env_len, m->sig, m->sig_len);
}

void wire_seal(struct strbuf *out, const char *type, const char *agent,
	       uint64_t seq, int64_t ts, const void *body, size_t body_len,
	       const struct sign_key *key)
{
	msgpack_sbuffer env, msg;
	msgpack_packer pk;
	uint8_t sig[SIGN_SIG_LEN];

	msgpack_sbuffer_init(&env);
	msgpack_packer_init(&pk, &env, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	mp_kv_u64(&pk, "v", WIRE_VERSION);
	mp_kv_str(&pk, "type", type);
	mp_kv_str(&pk, "agent", agent);
	mp_kv_u64(&pk, "seq", seq);
	mp_kv_i64(&pk, "ts", ts);
	mp_pack_cstr(&pk, "body");
	msgpack_sbuffer_write(&env, body, body_len);

	msgpack_sbuffer_init(&msg);
	msgpack_packer_init(&pk, &msg, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, key ? 2 : 1);
	msgpack_pack_bin(&pk, env.size);
	msgpack_pack_bin_body(&pk, env.data, env.size);
	if (key && sign_data(key, env.data, env.size, sig) == 0) {
		msgpack_pack_bin(&pk, sizeof(sig));
		msgpack_pack_bin_body(&pk, sig, sizeof(sig));
	} else if (key) {
		msgpack_pack_nil(&pk);
	}
	strbuf_add(out, msg.data, msg.size);
	msgpack_sbuffer_destroy(&env);
	msgpack_sbuffer_destroy(&msg);
}
