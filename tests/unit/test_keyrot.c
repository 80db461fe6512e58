/* test_keyrot.c - an agent's identity key rotated without re-enrolling
 * (keyrot.c, agentauth.c, docs/protocol.md `rotate`): asked for in the
 * replies after `agent rotate`, accepted with a good proof, refused and
 * counted as forged otherwise, idempotent when sent again, the old key
 * taken during the grace and refused after it, and all of it kept across
 * a core restart. A real core over a real store; every message is judged
 * by the transport's own check (agentauth_judge), not taken as signed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentauth.h"
#include "core_fixture.h"
#include "keyproof.h"
#include "mp.h"
#include "records.h"
#include "tbatch.h"
#include "wire.h"

/* Seals body as `type` in agent's name with key (any key), has the
 * transport's check judge it, posts it; the reply in out. */
static void send_as_agent(struct fx *f, const char *agent,
			  const struct sign_key *key, const char *type,
			  const msgpack_sbuffer *body, struct strbuf *out)
{
	struct strbuf msg = STRBUF_INIT;
	struct event *ev = event_new(EV_AGENT);

	wire_seal(&msg, type, agent, ++f->seq, time_now_ms(), body->data,
		  body->size, key);
	ev->len = msg.len;
	ev->buf = xmalloc(msg.len);
	memcpy(ev->buf, msg.buf, msg.len);
	agentauth_judge(f->keys, ev);
	post_wait(f, ev, out);
	strbuf_release(&msg);
}

static void send_as(struct fx *f, const struct sign_key *key,
		    const char *type, const msgpack_sbuffer *body,
		    struct strbuf *out)
{
	send_as_agent(f, f->agent, key, type, body, out);
}

/* "ok", or the reply's error code. */
static const char *verdict(const struct strbuf *out)
{
	static char code[64];
	msgpack_unpacked u;

	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, out->buf, out->len, NULL),
			 MSGPACK_UNPACK_SUCCESS);
	snprintf(code, sizeof(code), "ok");
	if (!reply_ok(&u.data))
		assert_int_equal(mp_get_str(&u.data, "error", code,
					    sizeof(code)), 0);
	msgpack_unpacked_destroy(&u);
	return code;
}

/* Whether an ok reply asks for a rotation. */
static bool asks_rotation(const struct strbuf *out)
{
	msgpack_unpacked u;
	bool yes = false;

	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, out->buf, out->len, NULL),
			 MSGPACK_UNPACK_SUCCESS);
	assert_true(reply_ok(&u.data));
	mp_get_bool(&u.data, "rotate_key", &yes);
	msgpack_unpacked_destroy(&u);
	return yes;
}

static const char *heartbeat(struct fx *f, const struct sign_key *key,
			     struct strbuf *out)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kv_i64(&pk, "running", 0);
	send_as(f, key, "heartbeat", &sb, out);
	msgpack_sbuffer_destroy(&sb);
	return verdict(out);
}

/* A rotate body: {pubkey: new, old_pubkey: old, proof}, the proof being
 * prover's signature of the statement for (agent, old, new). */
static void pack_rotate(msgpack_sbuffer *sb, const char *agent,
			const struct sign_key *old, const struct sign_key *new_key,
			const struct sign_key *prover)
{
	uint8_t o[SIGN_PUB_LEN], n[SIGN_PUB_LEN], proof[SIGN_SIG_LEN];
	uint8_t st[KEYPROOF_MAX_LEN];
	msgpack_packer pk;
	size_t len;

	sign_key_public(old, o);
	sign_key_public(new_key, n);
	len = keyproof_statement(agent, o, n, st);
	assert_true(len > 0);
	assert_int_equal(sign_data(prover, st, len, proof), 0);
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_bin(&pk, "pubkey", n, sizeof(n));
	mp_kv_bin(&pk, "old_pubkey", o, sizeof(o));
	mp_kv_bin(&pk, "proof", proof, sizeof(proof));
}

/* Sends a rotate from old to new_key (proved by prover), sealed with
 * signer; returns the verdict. *until gets old_key_until if ok. */
static const char *rotate(struct fx *f, const struct sign_key *signer,
			  const struct sign_key *old,
			  const struct sign_key *new_key,
			  const struct sign_key *prover, int64_t *until)
{
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_unpacked u;
	static char v[64];

	msgpack_sbuffer_init(&sb);
	pack_rotate(&sb, f->agent, old, new_key, prover);
	send_as(f, signer, "rotate", &sb, &out);
	snprintf(v, sizeof(v), "%s", verdict(&out));
	if (until && !strcmp(v, "ok")) {
		msgpack_unpacked_init(&u);
		msgpack_unpack_next(&u, out.buf, out.len, NULL);
		assert_int_equal(mp_get_i64(&u.data, "old_key_until", until),
				 0);
		msgpack_unpacked_destroy(&u);
	}
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
	return v;
}

/* The agent as `agent show` prints it (caller frees *j). */
static const struct json *show(struct fx *f, struct json **j)
{
	char line[128];

	snprintf(line, sizeof(line), "agent show %s", f->agent);
	*j = admin(f, line);
	return json_get(*j, "agent");
}

static int64_t jnum(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	assert_non_null(v);
	assert_int_equal(v->type, JSON_NUMBER);
	return strtoll(v->str, NULL, 10);
}

static bool jnull(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	assert_non_null(v);
	return v->type == JSON_NULL;
}

static void assert_current_key(struct fx *f, const struct sign_key *k)
{
	uint8_t pub[SIGN_PUB_LEN];
	char fp[65];
	struct json *j;
	const struct json *ag = show(f, &j);

	sign_key_public(k, pub);
	keyproof_fingerprint(pub, fp);
	assert_string_equal(json_get_str(ag, "key_fingerprint"), fp);
	json_free(j);
}

static int64_t rejected_forged(struct fx *f)
{
	struct json *j;
	int64_t n = jnum(show(f, &j), "rejected_forged");

	json_free(j);
	return n;
}

/* Restarts the core over the same store, with a fresh key registry: what
 * the transport accepts comes from the records alone. */
static void restart(struct fx *f)
{
	stop_core(f);
	state_release(&f->st);
	keyreg_free(f->keys);
	f->keys = keyreg_new();
	start_core(f);
}

/* A sealed batch of one log line for run/epoch, numbered seq. */
static void make_batch(struct strbuf *out, const struct sign_key *key,
		       const char *agent, uint64_t seq, uint64_t run,
		       uint64_t epoch)
{
	struct tbatch_builder b;
	struct tbatch_meta m;
	char err[256];

	tbatch_builder_init(&b);
	tbatch_add_log(&b, 1000, 2, "a line", 6);
	memset(&m, 0, sizeof(m));
	snprintf(m.agent, sizeof(m.agent), "%s", agent);
	m.seq = seq;
	m.run = run;
	m.epoch = epoch;
	assert_int_equal(tbatch_seal(&b, key, &m, out, err, sizeof(err)), 0);
	tbatch_builder_release(&b);
}

/* Sends one batch in a telemetry message sealed with key; returns
 * "acked" or the reason the batch was refused. */
static const char *send_batch(struct fx *f, const struct sign_key *key,
			      const struct strbuf *batch)
{
	static char why[32];
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const msgpack_object *acked, *rej;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_pack_cstr(&pk, "batches");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_bin_with_body(&pk, batch->buf, batch->len);
	send_as(f, key, "telemetry", &sb, &out);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, out.buf, out.len, NULL),
			 MSGPACK_UNPACK_SUCCESS);
	assert_true(reply_ok(&u.data));
	acked = mp_get(&u.data, "acked");
	rej = mp_get(&u.data, "rejected");
	if (acked->via.array.size == 1) {
		snprintf(why, sizeof(why), "acked");
	} else {
		const msgpack_object *r = &rej->via.array.ptr[0].via.array.ptr[2];
		snprintf(why, sizeof(why), "%.*s", (int)r->via.str.size,
			 r->via.str.ptr);
	}
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
	return why;
}

/* `agent rotate` marks the agent; every ok reply (heartbeat, lease) then
 * asks for the rotation, until the agent has rotated. */
static void test_asked_in_replies(void **state)
{
	struct fx *f = *state;
	struct sign_key *k2 = sign_key_generate();
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct json *j;
	char line[128];

	assert_string_equal(heartbeat(f, f->key, &out), "ok");
	assert_false(asks_rotation(&out));
	snprintf(line, sizeof(line), "agent rotate %s", f->agent);
	admin_ok(f, line);
	admin_ok(f, line); /* asked twice: still one request */
	assert_string_equal(json_get_str(show(f, &j), "key_rotation"),
			    "requested");
	assert_false(jnull(json_get(j, "agent"), "key_rotation_requested"));
	assert_true(jnull(json_get(j, "agent"), "key_rotated"));
	json_free(j);

	assert_string_equal(heartbeat(f, f->key, &out), "ok");
	assert_true(asks_rotation(&out));
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kv_u64(&pk, "slots", 0);
	mp_kv_u64(&pk, "wait_ms", 0);
	send_as(f, f->key, "lease", &sb, &out);
	assert_true(asks_rotation(&out));

	/* the request survives a restart */
	restart(f);
	assert_string_equal(heartbeat(f, f->key, &out), "ok");
	assert_true(asks_rotation(&out));

	assert_string_equal(rotate(f, f->key, f->key, k2, k2, NULL), "ok");
	assert_string_equal(heartbeat(f, k2, &out), "ok");
	assert_false(asks_rotation(&out));
	assert_string_equal(json_get_str(show(f, &j), "key_rotation"), "none");
	assert_true(jnull(json_get(j, "agent"), "key_rotation_requested"));
	json_free(j);

	admin_reply(f, "agent rotate ag-000000000000", &out);
	assert_non_null(strstr(out.buf, "\"ok\":false"));
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
	sign_key_free(k2);
}

/* A rotation with a good proof: the new key is the agent's, the old one
 * still works for the grace (messages and batches signed before), a
 * resend is answered ok again and changes nothing, and all of it is read
 * back from the store after a restart. */
static void test_rotate_and_grace(void **state)
{
	struct fx *f = *state;
	struct sign_key *k1 = f->key, *k2 = sign_key_generate();
	struct sign_key *stranger = sign_key_generate();
	struct strbuf out = STRBUF_INIT, b1 = STRBUF_INIT, b2 = STRBUF_INIT;
	int64_t until = 0, before = time_now_ms(), accepted;
	char when[64];
	uint64_t run, epoch;
	struct json *j;
	const struct json *ag;

	lease_one(f, &run, &epoch);
	make_batch(&b1, k1, f->agent, 1, run, epoch); /* spooled before */
	assert_string_equal(rotate(f, k1, k1, k2, k2, &until), "ok");
	assert_true(until >= before + 600 * 1000);
	assert_current_key(f, k2);
	ag = show(f, &j);
	assert_false(jnull(ag, "key_rotated"));
	assert_false(jnull(ag, "old_key_accepted_until"));
	json_free(j);
	/* the audit log has it */
	admin_reply(f, "audit list", &out);
	assert_non_null(strstr(out.buf, "\"kind\":\"key_rotated\""));
	strbuf_reset(&out);

	assert_string_equal(heartbeat(f, k2, &out), "ok");
	assert_string_equal(heartbeat(f, k1, &out), "ok"); /* the grace */
	assert_string_equal(heartbeat(f, stranger, &out), "forged");
	assert_string_equal(send_batch(f, k2, &b1), "acked");
	make_batch(&b2, k2, f->agent, 2, run, epoch);
	assert_string_equal(send_batch(f, k1, &b2), "acked");

	/* sent again (the agent lost the answer, or died before switching):
	 * ok again, with either key, and nothing changes */
	ag = show(f, &j);
	accepted = jnum(ag, "accepted");
	snprintf(when, sizeof(when), "%s", json_get_str(ag, "key_rotated"));
	json_free(j);
	assert_string_equal(rotate(f, k1, k1, k2, k2, NULL), "ok");
	assert_string_equal(rotate(f, k2, k1, k2, k2, NULL), "ok");
	ag = show(f, &j);
	assert_string_equal(json_get_str(ag, "key_rotated"), when);
	assert_int_equal(jnum(ag, "accepted"), accepted + 2);
	assert_int_equal(jnum(ag, "rejected_forged"), 1);
	json_free(j);
	assert_current_key(f, k2);

	restart(f);
	assert_current_key(f, k2);
	assert_string_equal(heartbeat(f, k2, &out), "ok");
	assert_string_equal(heartbeat(f, k1, &out), "ok");
	ag = show(f, &j);
	assert_string_equal(json_get_str(ag, "key_rotated"), when);
	assert_false(jnull(ag, "old_key_accepted_until"));
	json_free(j);

	strbuf_release(&b1);
	strbuf_release(&b2);
	strbuf_release(&out);
	sign_key_free(k2);
	sign_key_free(stranger);
}

/* After the grace the old key is refused, envelopes and batches alike,
 * counted as forged; after a restart too. */
static void test_grace_ends(void **state)
{
	struct fx *f = *state;
	struct sign_key *k1 = f->key, *k2 = sign_key_generate();
	struct strbuf out = STRBUF_INIT, b1 = STRBUF_INIT;
	int64_t until = 0, forged;
	uint64_t run, epoch;
	struct json *j;

	stop_core(f);
	f->cfg.key_rotate_grace_s = 1;
	run_core(f);
	lease_one(f, &run, &epoch);
	make_batch(&b1, k1, f->agent, 1, run, epoch);
	forged = rejected_forged(f);
	assert_string_equal(rotate(f, k1, k1, k2, k2, &until), "ok");
	/* the core reads the clock at the start of each turn: a message
	 * posted after `until` is judged after it */
	while (time_now_ms() <= until)
		usleep(10 * 1000);
	/* a batch first: the core finds the grace over (then tells the
	 * transport to forget the old key, which refuses the heartbeat) */
	assert_string_equal(send_batch(f, k2, &b1), "forged");
	assert_int_equal(jnum(json_get(show(f, &j), "telemetry"),
			      "rejected_forged"), 1);
	json_free(j);
	assert_string_equal(heartbeat(f, k1, &out), "forged");
	assert_int_equal(rejected_forged(f), forged + 1);
	assert_string_equal(heartbeat(f, k2, &out), "ok");
	assert_true(jnull(show(f, &j), "old_key_accepted_until"));
	json_free(j);

	restart(f);
	assert_string_equal(heartbeat(f, k1, &out), "forged");
	assert_string_equal(heartbeat(f, k2, &out), "ok");
	strbuf_release(&b1);
	strbuf_release(&out);
	sign_key_free(k2);
}

/* Refused, counted as forged, and changing nothing: a bad proof, a body
 * without one, the current key again, an old key that is not the
 * current one, another agent's key, a rotation signed by the key being
 * retired, a retired key, a revoked agent. */
static void test_refused(void **state)
{
	struct fx *f = *state;
	struct sign_key *k1 = f->key, *k2 = sign_key_generate();
	struct sign_key *k3 = sign_key_generate(), *k5 = sign_key_generate();
	struct sign_key *k6 = sign_key_generate();
	struct strbuf out = STRBUF_INIT;
	char first[64], line[128];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int64_t forged;

	/* a second agent, with key k3 */
	snprintf(first, sizeof(first), "%s", f->agent);
	f->key = k3;
	fx_enroll(f);
	f->key = k1;
	snprintf(f->agent, sizeof(f->agent), "%s", first);
	forged = rejected_forged(f);

	assert_string_equal(rotate(f, k1, k1, k2, k5, NULL), "bad_proof");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kv_bin(&pk, "pubkey", "0123456789abcdef0123456789abcdef", 32);
	send_as(f, k1, "rotate", &sb, &out);
	assert_string_equal(verdict(&out), "malformed");
	assert_string_equal(rotate(f, k1, k1, k1, k1, NULL), "same_key");
	assert_string_equal(rotate(f, k1, k5, k2, k2, NULL), "stale_key");
	assert_string_equal(rotate(f, k1, k1, k3, k3, NULL), "key_in_use");
	assert_int_equal(rejected_forged(f), forged + 5);
	assert_current_key(f, k1);

	/* none of them took a sequence number or changed the key */
	assert_string_equal(rotate(f, k1, k1, k2, k2, NULL), "ok");
	/* k1 is being retired: it cannot name a successor */
	assert_string_equal(rotate(f, k1, k2, k6, k6, NULL), "stale_key");
	/* a retired key does not come back */
	assert_string_equal(rotate(f, k2, k2, k1, k1, NULL), "key_in_use");
	assert_int_equal(rejected_forged(f), forged + 7);
	assert_current_key(f, k2);

	snprintf(line, sizeof(line), "agent revoke %s", f->agent);
	admin_ok(f, line);
	assert_string_equal(rotate(f, k2, k2, k6, k6, NULL), "forged");
	assert_int_equal(rejected_forged(f), forged + 8);
	snprintf(line, sizeof(line), "agent rotate %s", f->agent);
	admin_reply(f, line, &out);
	assert_non_null(strstr(out.buf, "\"error\":\"conflict\""));

	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
	sign_key_free(k2);
	sign_key_free(k3);
	sign_key_free(k5);
	sign_key_free(k6);
}

/* An agent record written before rotation existed (no key fields) loads,
 * as never rotated, and its key works. */
static void test_old_record_loads(void **state)
{
	struct fx *f = *state;
	struct store_batch *b = store_batch_new();
	struct strbuf out = STRBUF_INIT;
	uint8_t pub[SIGN_PUB_LEN];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct json *j;
	const struct json *ag;
	char err[256];

	stop_core(f);
	sign_key_public(f->key, pub);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	mp_kv_str(&pk, "id", f->agent);
	mp_kv_str(&pk, "env", "acme/prod");
	mp_kv_bin(&pk, "pubkey", pub, sizeof(pub));
	mp_kv_str(&pk, "hostname", "old");
	mp_kv_i64(&pk, "state", 0);
	mp_kv_u64(&pk, "seq_hwm", f->seq);
	store_batch_put(b, f->store, CF_AGENTS, f->agent, strlen(f->agent),
			sb.data, sb.size);
	assert_int_equal(store_write(f->store, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	msgpack_sbuffer_destroy(&sb);
	state_release(&f->st);
	keyreg_free(f->keys);
	f->keys = keyreg_new();
	start_core(f);

	ag = show(f, &j);
	assert_true(jnull(ag, "key_rotated"));
	assert_true(jnull(ag, "old_key_accepted_until"));
	assert_string_equal(json_get_str(ag, "key_rotation"), "none");
	json_free(j);
	assert_string_equal(heartbeat(f, f->key, &out), "ok");
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_asked_in_replies,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rotate_and_grace,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_grace_ends, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_refused, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_old_record_loads,
						fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
