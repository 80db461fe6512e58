/* test_wire.c - the signed envelope: round trip, unsigned and tampered
 * messages, and arbitrary bytes (the parser is fuzzed in this loop). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "wire.h"

static void body(msgpack_sbuffer *sb)
{
	msgpack_packer pk;
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kv_u64(&pk, "run", 42);
	mp_kv_str(&pk, "state", "running");
}

static void test_round_trip(void **s)
{
	struct sign_key *k = sign_key_generate();
	struct strbuf msg = STRBUF_INIT;
	msgpack_sbuffer sb;
	struct wire_msg m;
	uint8_t pub[32];
	char err[128], state[16];
	uint64_t run;
	(void)s;

	body(&sb);
	wire_seal(&msg, "run_event", "ag-1", 7, 1234567, sb.data, sb.size, k);
	assert_int_equal(wire_open(msg.buf, msg.len, &m, err, sizeof(err)),
			 WIRE_OK);
	assert_string_equal(m.type, "run_event");
	assert_string_equal(m.agent, "ag-1");
	assert_int_equal(m.seq, 7);
	assert_int_equal(m.ts, 1234567);
	assert_int_equal(mp_get_u64(m.body, "run", &run), 0);
	assert_int_equal(run, 42);
	assert_int_equal(mp_get_str(m.body, "state", state, sizeof(state)), 0);
	assert_string_equal(state, "running");
	sign_key_public(k, pub);
	assert_int_equal(wire_verify(&m, pub), 0);
	wire_msg_release(&m);

	/* unsigned: still decoded, flagged */
	strbuf_reset(&msg);
	wire_seal(&msg, "heartbeat", "ag-1", 8, 1, sb.data, sb.size, NULL);
	assert_int_equal(wire_open(msg.buf, msg.len, &m, err, sizeof(err)),
			 WIRE_UNSIGNED);
	assert_int_equal(m.seq, 8);
	assert_int_not_equal(wire_verify(&m, pub), 0);
	wire_msg_release(&m);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&msg);
	sign_key_free(k);
}

/* Flipping any single byte must make the message unreadable or its
 * signature invalid: nothing tampered is ever accepted. */
static void test_every_byte_flip(void **s)
{
	struct sign_key *k = sign_key_generate();
	struct strbuf msg = STRBUF_INIT;
	msgpack_sbuffer sb;
	uint8_t pub[32];
	char err[128];
	(void)s;

	body(&sb);
	wire_seal(&msg, "complete", "ag-2", 99, 5, sb.data, sb.size, k);
	sign_key_public(k, pub);
	for (size_t i = 0; i < msg.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			struct wire_msg m;
			int rc;
			msg.buf[i] ^= (char)(1 << bit);
			rc = wire_open(msg.buf, msg.len, &m, err, sizeof(err));
			assert_true(rc != WIRE_OK || wire_verify(&m, pub) != 0);
			wire_msg_release(&m);
			msg.buf[i] ^= (char)(1 << bit);
		}
	}
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&msg);
	sign_key_free(k);
}

static void test_malformed(void **s)
{
	struct wire_msg m;
	char err[128];
	/* array claiming 2^32-1 elements in 5 bytes, map claiming huge */
	static const uint8_t huge_array[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t huge_bin[] = { 0x92, 0xc6, 0x7f, 0xff, 0xff, 0xff };
	static const uint8_t not_array[] = { 0xa3, 'a', 'b', 'c' };
	static const uint8_t trailing[] = { 0x91, 0xc4, 0x01, 0x80, 0x00 };
	(void)s;

	assert_int_equal(wire_open(huge_array, sizeof(huge_array), &m, err,
				   sizeof(err)), WIRE_MALFORMED);
	wire_msg_release(&m);
	assert_int_equal(wire_open(huge_bin, sizeof(huge_bin), &m, err,
				   sizeof(err)), WIRE_MALFORMED);
	wire_msg_release(&m);
	assert_int_equal(wire_open(not_array, sizeof(not_array), &m, err,
				   sizeof(err)), WIRE_MALFORMED);
	wire_msg_release(&m);
	assert_int_equal(wire_open(trailing, sizeof(trailing), &m, err,
				   sizeof(err)), WIRE_MALFORMED);
	wire_msg_release(&m);
	assert_int_equal(wire_open("", 0, &m, err, sizeof(err)),
			 WIRE_MALFORMED);
	wire_msg_release(&m);
}

static void test_random_bytes(void **s)
{
	uint8_t buf[512];
	struct strbuf msg = STRBUF_INIT;
	msgpack_sbuffer sb;
	char err[128];
	(void)s;

	srand(12345);
	body(&sb);
	wire_seal(&msg, "log", "ag-3", 1, 1, sb.data, sb.size, NULL);
	for (int i = 0; i < 100000; i++) {
		struct wire_msg m;
		size_t n = (size_t)(rand() % (int)sizeof(buf));
		if (i % 2) { /* mutate a valid message */
			n = msg.len;
			memcpy(buf, msg.buf, n);
			buf[rand() % (int)n] = (uint8_t)rand();
			n = (size_t)(rand() % (int)n) + 1;
		} else {
			for (size_t k = 0; k < n; k++)
				buf[k] = (uint8_t)rand();
		}
		wire_open(buf, n, &m, err, sizeof(err));
		wire_msg_release(&m);
	}
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&msg);
}

static void test_validate(void **s)
{
	static const uint8_t ok[] = { 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0xc0 };
	static const uint8_t short_map[] = { 0x82, 0xa1, 'a', 0x01 };
	(void)s;
	assert_int_equal(mp_validate(ok, sizeof(ok)), 0);
	assert_int_equal(mp_validate(short_map, sizeof(short_map)), -1);
	assert_int_equal(mp_validate(ok, sizeof(ok) - 1), -1);
	assert_int_equal(mp_validate("\xc1", 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_byte_flip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_validate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
