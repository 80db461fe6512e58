/*
 * wire.h - the signed agent -> scheduler envelope (docs/protocol.md).
 * On the wire: msgpack [bin envelope, bin signature]; envelope is a packed
 * map {v, type, agent, seq, ts, body}; the Ed25519 signature covers exactly
 * the envelope bytes.
 */
#ifndef SP_WIRE_H
#define SP_WIRE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "sign.h"
#include "strbuf.h"

#define WIRE_VERSION 1
#define WIRE_MAX_MSG (1024 * 1024)

struct wire_msg {
	msgpack_unpacked env;      /* owns the decoded envelope */
	const char *env_bytes;     /* points into the caller's buffer */
	size_t env_len;
	const uint8_t *sig;        /* NULL if unsigned */
	size_t sig_len;
	uint32_t v;
	char type[32];
	char agent[64];
	uint64_t seq;
	int64_t ts;
	const msgpack_object *body; /* a MAP */
};

enum { WIRE_OK = 0, WIRE_MALFORMED = -1, WIRE_UNSIGNED = -2 };

/* Parses buf[0..len) (which must outlive m). Returns WIRE_OK;
 * WIRE_UNSIGNED with every envelope field filled if there is no signature;
 * or WIRE_MALFORMED with a reason in err. Always call wire_msg_release. */
int wire_open(const void *buf, size_t len, struct wire_msg *m, char *err,
	      size_t errlen);
void wire_msg_release(struct wire_msg *m);
/* 0 if m carries a valid signature by pub. */
int wire_verify(const struct wire_msg *m, const uint8_t pub[SIGN_PUB_LEN]);
/* Appends a message to out: body is a packed msgpack map; key NULL makes
 * an unsigned message (for tests). */
void wire_seal(struct strbuf *out, const char *type, const char *agent,
	       uint64_t seq, int64_t ts, const void *body, size_t body_len,
	       const struct sign_key *key);

#endif
