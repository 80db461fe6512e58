/*
 * sp-wirecraft - a hostile agent for integration tests. It enrolls with a
 * token under a fresh identity, then sends, over the real protocol:
 * a valid heartbeat, an exact resend of it (must be answered, not counted),
 * a replay of an older message, a message signed by another key, an
 * unsigned message, a tampered message, garbage bytes, and optionally a
 * completion for a run that is not its own. It checks each answer and exits
 * non-zero if the scheduler accepted anything it must not.
 *
 *   sp-wirecraft URL TOKEN [FOREIGN_RUN_ID]
 * Prints "agent <id>" first, then one line per probe.
 */
#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "sign.h"
#include "strbuf.h"
#include "util.h"
#include "wire.h"

static nng_socket sock;
static int failures;

/* Sends raw bytes and returns the reply's "error" code ("" when ok). */
static void call(const void *buf, size_t len, char *code, size_t codelen,
		 char *agent_out, size_t agent_len)
{
	nng_msg *m;
	msgpack_unpacked u;
	struct strbuf raw = STRBUF_INIT;
	bool ok = false;

	code[0] = '\0';
	if (nng_msg_alloc(&m, 0) || nng_msg_append(m, buf, len) ||
	    nng_sendmsg(sock, m, 0) || nng_recvmsg(sock, &m, 0)) {
		snprintf(code, codelen, "no_reply");
		return;
	}
	strbuf_add(&raw, nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, raw.buf, raw.len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS) {
		mp_get_bool(&u.data, "ok", &ok);
		if (!ok)
			mp_get_str(&u.data, "error", code, codelen);
		if (agent_out)
			mp_get_str(&u.data, "agent", agent_out, agent_len);
	} else {
		snprintf(code, codelen, "bad_reply");
	}
	msgpack_unpacked_destroy(&u);
	strbuf_release(&raw);
}

static void expect(const char *probe, const char *code, const char *want)
{
	bool good = !strcmp(code, want);
	printf("%s: %s (%s)\n", probe, code[0] ? code : "ok",
	       good ? "as expected" : "UNEXPECTED");
	if (!good)
		failures++;
}

static void body_map(struct strbuf *out, const char *k1, uint64_t v1,
		     const char *k2, uint64_t v2)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, k2 ? 2 : (k1 ? 1 : 0));
	if (k1)
		mp_kv_u64(&pk, k1, v1);
	if (k2)
		mp_kv_u64(&pk, k2, v2);
	strbuf_reset(out);
	strbuf_add(out, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

int main(int argc, char **argv)
{
	struct sign_key *key = sign_key_generate(), *other = sign_key_generate();
	struct strbuf body = STRBUF_INIT, msg = STRBUF_INIT,
		      first = STRBUF_INIT;
	char code[64], agent[64] = "";
	uint8_t pub[32], junk[512];
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: sp-wirecraft URL TOKEN [FOREIGN_RUN]\n");
		return 2;
	}
	if (nng_req0_open(&sock) || nng_dial(sock, argv[1], NULL, 0) ||
	    nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 10000)) {
		fprintf(stderr, "sp-wirecraft: cannot dial %s\n", argv[1]);
		return 2;
	}
	/* enroll a fresh identity */
	sign_key_public(key, pub);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_str(&pk, "token", argv[2]);
	mp_kv_bin(&pk, "pubkey", pub, sizeof(pub));
	mp_kv_str(&pk, "hostname", "wirecraft");
	wire_seal(&msg, "enroll", "", 0, time_now_ms(), sb.data, sb.size, key);
	msgpack_sbuffer_destroy(&sb);
	call(msg.buf, msg.len, code, sizeof(code), agent, sizeof(agent));
	if (code[0] || !agent[0]) {
		fprintf(stderr, "sp-wirecraft: enroll refused: %s\n", code);
		return 2;
	}
	printf("agent %s\n", agent);
	/* the same enrollment again: the token is single use */
	call(msg.buf, msg.len, code, sizeof(code), NULL, 0);
	expect("enroll again with the same token", code, "token_used");

	body_map(&body, "running", 0, NULL, 0);
	wire_seal(&first, "heartbeat", agent, 1, time_now_ms(), body.buf,
		  body.len, key);
	call(first.buf, first.len, code, sizeof(code), NULL, 0);
	expect("valid heartbeat", code, "");
	call(first.buf, first.len, code, sizeof(code), NULL, 0);
	expect("exact resend of the last message", code, "");

	strbuf_reset(&msg);
	wire_seal(&msg, "heartbeat", agent, 2, time_now_ms(), body.buf,
		  body.len, key);
	call(msg.buf, msg.len, code, sizeof(code), NULL, 0);
	expect("second heartbeat", code, "");
	call(first.buf, first.len, code, sizeof(code), NULL, 0);
	expect("replay of an older message", code, "replayed");

	strbuf_reset(&msg);
	wire_seal(&msg, "heartbeat", agent, 3, time_now_ms(), body.buf,
		  body.len, other);
	call(msg.buf, msg.len, code, sizeof(code), NULL, 0);
	expect("signed by another key", code, "forged");

	strbuf_reset(&msg);
	wire_seal(&msg, "heartbeat", agent, 4, time_now_ms(), body.buf,
		  body.len, NULL);
	call(msg.buf, msg.len, code, sizeof(code), NULL, 0);
	expect("unsigned", code, "unsigned");

	strbuf_reset(&msg);
	wire_seal(&msg, "heartbeat", agent, 5, time_now_ms(), body.buf,
		  body.len, key);
	msg.buf[msg.len - 70] ^= 0x01; /* a byte of the envelope's body */
	call(msg.buf, msg.len, code, sizeof(code), NULL, 0);
	if (!strcmp(code, "malformed"))
		strcpy(code, "forged"); /* the flip broke the encoding */
	expect("tampered", code, "forged");

	sign_random(junk, sizeof(junk));
	call(junk, sizeof(junk), code, sizeof(code), NULL, 0);
	expect("random bytes", code, "malformed");

	if (argc == 4) {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 4);
		mp_kv_u64(&pk, "run", strtoull(argv[3], NULL, 10));
		mp_kv_u64(&pk, "epoch", 1);
		mp_kv_str(&pk, "result", "succeeded");
		mp_kv_i64(&pk, "exit_code", 0);
		strbuf_reset(&msg);
		wire_seal(&msg, "complete", agent, 6, time_now_ms(), sb.data,
			  sb.size, key);
		msgpack_sbuffer_destroy(&sb);
		call(msg.buf, msg.len, code, sizeof(code), NULL, 0);
		expect("completion for another tenant's run", code, "stale");
	}
	strbuf_release(&body);
	strbuf_release(&msg);
	strbuf_release(&first);
	sign_key_free(key);
	sign_key_free(other);
	nng_close(sock);
	return failures ? 1 : 0;
}
