/*
 * sp-wirecraft - a hostile (or just scripted) agent for integration tests.
 *
 *   sp-wirecraft URL TOKEN [FOREIGN_RUN_ID]
 * enrolls with a token under a fresh identity, then sends, over the real
 * protocol: a valid heartbeat, an exact resend of it (must be answered, not
 * counted), a replay of an older message, a message signed by another key,
 * an unsigned message, a tampered message, garbage bytes, and optionally a
 * completion for a run that is not its own. It checks each answer and
 * exits non-zero if the scheduler accepted anything it must not. Prints
 * "agent <id>" first, then one line per probe.
 *
 * Scripted messages, for tests that need exact bytes (resends across a
 * scheduler restart, say):
 *   sp-wirecraft enroll DIR URL TOKEN
 *	enrolls the identity kept in DIR (created if need be); keeps the
 *	sealed request in DIR/enroll.msg and the id in DIR/agent.id; prints it
 *   sp-wirecraft seal DIR TYPE SEQ JSON OUT
 *	seals a message of DIR's agent with JSON (an object) as its body
 *	(integers without a sign are packed unsigned) and writes it to OUT
 *   sp-wirecraft send URL IN [OUT]
 *	sends IN's bytes once; prints the reply as one line of JSON and keeps
 *	its raw bytes in OUT. Exits 1 if there is no reply or it is not
 *	msgpack.
 */
#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mp.h"
#include "sign.h"
#include "strbuf.h"
#include "util.h"
#include "wire.h"

static nng_socket sock;
static int failures;

static int dial(const char *url)
{
	if (nng_req0_open(&sock) || nng_dial(sock, url, NULL, 0) ||
	    nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 10000)) {
		fprintf(stderr, "sp-wirecraft: cannot dial %s\n", url);
		return -1;
	}
	return 0;
}

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

/* Seals an enrollment of key with token into out. */
static void seal_enroll(struct strbuf *out, const char *token,
			const struct sign_key *key)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint8_t pub[32];

	sign_key_public(key, pub);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_str(&pk, "token", token);
	mp_kv_bin(&pk, "pubkey", pub, sizeof(pub));
	mp_kv_str(&pk, "hostname", "wirecraft");
	strbuf_reset(out);
	wire_seal(out, "enroll", "", 0, time_now_ms(), sb.data, sb.size, key);
	msgpack_sbuffer_destroy(&sb);
}

static int probes(int argc, char **argv)
{
	struct sign_key *key = sign_key_generate(), *other = sign_key_generate();
	struct strbuf body = STRBUF_INIT, msg = STRBUF_INIT,
		      first = STRBUF_INIT;
	char code[64], agent[64] = "", again[64] = "";
	uint8_t junk[512];
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (dial(argv[1]))
		return 2;
	/* enroll a fresh identity */
	seal_enroll(&msg, argv[2], key);
	call(msg.buf, msg.len, code, sizeof(code), agent, sizeof(agent));
	if (code[0] || !agent[0]) {
		fprintf(stderr, "sp-wirecraft: enroll refused: %s\n", code);
		return 2;
	}
	printf("agent %s\n", agent);
	/* a resend of the enrollment (its reply was lost) names the same key:
	 * the same answer */
	call(msg.buf, msg.len, code, sizeof(code), again, sizeof(again));
	if (!code[0] && strcmp(again, agent))
		snprintf(code, sizeof(code), "another agent id");
	expect("resend of the enrollment", code, "");
	/* another identity with the same token: it is single use */
	seal_enroll(&msg, argv[2], other);
	call(msg.buf, msg.len, code, sizeof(code), NULL, 0);
	expect("another key with the used token", code, "token_used");

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

/* ---- scripted messages ---- */

/* Packs a parsed JSON value: integers as msgpack integers (unsigned unless
 * negative), other numbers as doubles. */
static int pack_json(msgpack_packer *pk, const struct json *j)
{
	const char *t = j->str;

	switch (j->type) {
	case JSON_NULL:
		return msgpack_pack_nil(pk);
	case JSON_BOOL:
		if (j->boolean)
			return msgpack_pack_true(pk);
		return msgpack_pack_false(pk);
	case JSON_STRING:
		msgpack_pack_str(pk, j->str_len);
		return msgpack_pack_str_body(pk, t, j->str_len);
	case JSON_NUMBER:
		if (strpbrk(t, ".eE"))
			return msgpack_pack_double(pk, strtod(t, NULL));
		if (t[0] == '-')
			return msgpack_pack_int64(pk, strtoll(t, NULL, 10));
		return msgpack_pack_uint64(pk, strtoull(t, NULL, 10));
	case JSON_ARRAY:
		msgpack_pack_array(pk, j->n);
		for (size_t i = 0; i < j->n; i++)
			pack_json(pk, j->items[i]);
		return 0;
	case JSON_OBJECT:
		msgpack_pack_map(pk, j->n);
		for (size_t i = 0; i < j->n; i++) {
			mp_pack_cstr(pk, j->keys[i]);
			pack_json(pk, j->items[i]);
		}
		return 0;
	}
	return -1;
}

/* Writes a msgpack object as JSON (bin as a hex string). */
static void write_json(struct jw *w, const char *key, const msgpack_object *o)
{
	char num[64], *hex, *k;

	switch (o->type) {
	case MSGPACK_OBJECT_BOOLEAN:
		jw_bool(w, key, o->via.boolean);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		jw_uint(w, key, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		jw_int(w, key, o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		snprintf(num, sizeof(num), "%.17g", o->via.f64);
		jw_raw(w, key, num);
		break;
	case MSGPACK_OBJECT_STR:
		jw_strn(w, key, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		hex = xmalloc(2 * o->via.bin.size + 1);
		hex_encode((const uint8_t *)o->via.bin.ptr, o->via.bin.size,
			   hex);
		jw_str(w, key, hex);
		free(hex);
		break;
	case MSGPACK_OBJECT_ARRAY:
		jw_arr_open(w, key);
		for (uint32_t i = 0; i < o->via.array.size; i++)
			write_json(w, NULL, &o->via.array.ptr[i]);
		jw_arr_close(w);
		break;
	case MSGPACK_OBJECT_MAP:
		jw_obj_open(w, key);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			if (kv->key.type != MSGPACK_OBJECT_STR)
				continue;
			k = xstrndup(kv->key.via.str.ptr, kv->key.via.str.size);
			write_json(w, k, &kv->val);
			free(k);
		}
		jw_obj_close(w);
		break;
	default:
		jw_null(w, key);
		break;
	}
}

static int save(const char *path, const void *buf, size_t len)
{
	if (write_file_atomic(path, buf, len, 0600)) {
		fprintf(stderr, "sp-wirecraft: cannot write '%s'\n", path);
		return -1;
	}
	return 0;
}

/* Sends buf once and appends the reply's bytes to raw. 0 / -1. */
static int roundtrip(const void *buf, size_t len, struct strbuf *raw)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, 0) || nng_msg_append(m, buf, len) ||
	    nng_sendmsg(sock, m, 0) || nng_recvmsg(sock, &m, 0)) {
		fprintf(stderr, "sp-wirecraft: no reply\n");
		return -1;
	}
	strbuf_add(raw, nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
	return 0;
}

/* Sends buf once; prints the reply as JSON and keeps its bytes in raw. */
static int send_once(const void *buf, size_t len, struct strbuf *raw)
{
	struct strbuf out = STRBUF_INIT;
	msgpack_unpacked u;
	struct jw w;

	if (roundtrip(buf, len, raw))
		return -1;
	msgpack_unpacked_init(&u);
	if (mp_validate(raw->buf, raw->len) ||
	    msgpack_unpack_next(&u, raw->buf, raw->len, NULL) !=
		    MSGPACK_UNPACK_SUCCESS) {
		fprintf(stderr, "sp-wirecraft: a reply of %zu bytes that is "
			"not msgpack\n", raw->len);
		msgpack_unpacked_destroy(&u);
		return -1;
	}
	jw_init(&w, &out);
	write_json(&w, NULL, &u.data);
	printf("%s\n", out.buf);
	msgpack_unpacked_destroy(&u);
	strbuf_release(&out);
	return 0;
}

static struct sign_key *identity(const char *dir, bool create)
{
	char path[600], err[256];
	struct sign_key *k;

	snprintf(path, sizeof(path), "%s/identity.key", dir);
	k = create ? sign_key_load_or_create(path, err, sizeof(err))
		   : sign_key_load(path, err, sizeof(err));
	if (!k)
		fprintf(stderr, "sp-wirecraft: %s\n", err);
	return k;
}

static int cmd_enroll(const char *dir, const char *url, const char *token)
{
	struct strbuf msg = STRBUF_INIT, raw = STRBUF_INIT;
	struct sign_key *key = NULL;
	char path[600], id[64] = "";
	msgpack_unpacked u;
	int rc = 1;

	if (mkdir_p(dir, 0700) || !(key = identity(dir, true)) || dial(url)) {
		sign_key_free(key);
		return 2;
	}
	seal_enroll(&msg, token, key);
	snprintf(path, sizeof(path), "%s/enroll.msg", dir);
	if (save(path, msg.buf, msg.len))
		goto out;
	if (roundtrip(msg.buf, msg.len, &raw))
		goto out;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, raw.buf, raw.len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS)
		mp_get_str(&u.data, "agent", id, sizeof(id));
	msgpack_unpacked_destroy(&u);
	if (!id[0]) {
		fprintf(stderr, "sp-wirecraft: enroll refused\n");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/agent.id", dir);
	if (save(path, id, strlen(id)))
		goto out;
	printf("%s\n", id);
	rc = 0;
out:
	sign_key_free(key);
	strbuf_release(&msg);
	strbuf_release(&raw);
	return rc;
}

static int cmd_seal(const char *dir, const char *type, const char *seq,
		    const char *body, const char *out)
{
	struct strbuf msg = STRBUF_INIT;
	struct sign_key *key = identity(dir, false);
	struct json *j = NULL;
	char path[600], err[256], *id = NULL;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc = 2;

	snprintf(path, sizeof(path), "%s/agent.id", dir);
	if (!key || !(id = read_file(path, 64, NULL))) {
		fprintf(stderr, "sp-wirecraft: no enrolled agent in %s\n",
			dir);
		goto out;
	}
	j = json_parse(body, strlen(body), err, sizeof(err));
	if (!j || j->type != JSON_OBJECT) {
		fprintf(stderr, "sp-wirecraft: body: %s\n",
			j ? "not an object" : err);
		goto out;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_json(&pk, j);
	wire_seal(&msg, type, id, strtoull(seq, NULL, 10), time_now_ms(),
		  sb.data, sb.size, key);
	msgpack_sbuffer_destroy(&sb);
	rc = save(out, msg.buf, msg.len) ? 2 : 0;
out:
	json_free(j);
	free(id);
	sign_key_free(key);
	strbuf_release(&msg);
	return rc;
}

static int cmd_send(const char *url, const char *in, const char *out)
{
	struct strbuf raw = STRBUF_INIT;
	size_t len = 0;
	char *msg = read_file(in, WIRE_MAX_MSG, &len);
	int rc = 1;

	if (!msg) {
		fprintf(stderr, "sp-wirecraft: cannot read '%s'\n", in);
		return 2;
	}
	if (dial(url)) {
		free(msg);
		return 2;
	}
	if (!send_once(msg, len, &raw))
		rc = out && save(out, raw.buf, raw.len) ? 2 : 0;
	free(msg);
	strbuf_release(&raw);
	nng_close(sock);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "enroll"))
		return cmd_enroll(argv[2], argv[3], argv[4]);
	if (argc == 7 && !strcmp(argv[1], "seal"))
		return cmd_seal(argv[2], argv[3], argv[4], argv[5], argv[6]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "send"))
		return cmd_send(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (argc >= 3 && argc <= 4 && strstr(argv[1], "://"))
		return probes(argc, argv);
	fprintf(stderr,
		"usage: sp-wirecraft URL TOKEN [FOREIGN_RUN]\n"
		"       sp-wirecraft enroll DIR URL TOKEN\n"
		"       sp-wirecraft seal DIR TYPE SEQ JSON OUT\n"
		"       sp-wirecraft send URL IN [OUT]\n");
	return 2;
}
