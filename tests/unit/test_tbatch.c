/* test_tbatch.c - telemetry batches: round trip, signatures, limits and
 * hostile bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sign.h"
#include "tbatch.h"
#include "util.h"

static struct sign_key *key, *other;
static uint8_t pub[SIGN_PUB_LEN], other_pub[SIGN_PUB_LEN];

static int setup(void **s)
{
	(void)s;
	key = sign_key_generate();
	other = sign_key_generate();
	if (!key || !other)
		return -1;
	sign_key_public(key, pub);
	sign_key_public(other, other_pub);
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	sign_key_free(key);
	sign_key_free(other);
	return 0;
}

static void meta(struct tbatch_meta *m, uint64_t seq)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->agent, sizeof(m->agent), "ag-0123456789abcdef");
	m->seq = seq;
	m->run = 42;
	m->epoch = 7;
	m->flags = TBATCH_FINAL;
}

/* A sealed batch with a log line, a counter, a gauge and a histogram. */
static void make(struct strbuf *out, uint64_t seq)
{
	struct tbatch_builder b;
	struct tbatch_meta m;
	char err[256];

	tbatch_builder_init(&b);
	tbatch_add_log(&b, 1000, 1, "INFO Client: Submitting application", 35);
	tbatch_add_value(&b, 1001, "log_lines", TM_COUNTER, 12);
	tbatch_add_value(&b, 999, "executors", TM_GAUGE, -3);
	tbatch_add_histogram(&b, 1002, "batch_ms", 4, 100, 5, 60);
	meta(&m, seq);
	assert_int_equal(tbatch_seal(&b, key, &m, out, err, sizeof(err)), 0);
	assert_int_equal(b.events, 0); /* reset by the seal */
	tbatch_builder_release(&b);
}

struct seen {
	int n;
	struct tevent ev[8];
	char text[8][64];
};

static int collect(const struct tevent *ev, void *ctx)
{
	struct seen *s = ctx;
	s->ev[s->n] = *ev;
	if (ev->kind == TEV_LOG)
		snprintf(s->text[s->n], 64, "%.*s", (int)ev->text_len, ev->text);
	else
		snprintf(s->text[s->n], 64, "%.*s", (int)ev->name_len, ev->name);
	s->n++;
	return 0;
}

static void test_round_trip(void **s)
{
	struct strbuf sealed = STRBUF_INIT, raw = STRBUF_INIT;
	struct tbatch_meta m;
	struct seen seen = { 0 };
	char err[256];
	(void)s;

	make(&sealed, 5);
	assert_int_equal(tbatch_open(sealed.buf, sealed.len, pub, &m, err,
				     sizeof(err)), 0);
	assert_string_equal(m.agent, "ag-0123456789abcdef");
	assert_int_equal(m.seq, 5);
	assert_int_equal(m.run, 42);
	assert_int_equal(m.epoch, 7);
	assert_int_equal(m.flags, TBATCH_FINAL);
	assert_int_equal(m.events, 4);
	assert_int_equal(m.first_ms, 999);
	assert_int_equal(m.last_ms, 1002);
	assert_int_equal(tbatch_inflate(&m, &raw, err, sizeof(err)), 0);
	assert_int_equal(raw.len, m.raw_len);
	assert_int_equal(tbatch_each_event(raw.buf, raw.len, m.events, collect,
					   &seen, err, sizeof(err)), 0);
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.ev[0].kind, TEV_LOG);
	assert_int_equal(seen.ev[0].stream, 1);
	assert_int_equal(seen.ev[0].ts_ms, 1000);
	assert_string_equal(seen.text[0], "INFO Client: Submitting application");
	assert_int_equal(seen.ev[1].type, TM_COUNTER);
	assert_int_equal(seen.ev[1].value, 12);
	assert_string_equal(seen.text[1], "log_lines");
	assert_int_equal(seen.ev[2].type, TM_GAUGE);
	assert_int_equal(seen.ev[2].value, -3);
	assert_int_equal(seen.ev[3].type, TM_HISTOGRAM);
	assert_int_equal(seen.ev[3].count, 4);
	assert_int_equal(seen.ev[3].sum, 100);
	assert_int_equal(seen.ev[3].min, 5);
	assert_int_equal(seen.ev[3].max, 60);
	/* without a key only the form is checked */
	assert_int_equal(tbatch_open(sealed.buf, sealed.len, NULL, &m, err,
				     sizeof(err)), 0);
	strbuf_release(&sealed);
	strbuf_release(&raw);
}

static void test_signature(void **s)
{
	struct strbuf sealed = STRBUF_INIT;
	struct tbatch_meta m;
	char err[256];
	int bad = 0;
	(void)s;

	make(&sealed, 1);
	assert_int_equal(tbatch_open(sealed.buf, sealed.len, other_pub, &m, err,
				     sizeof(err)), -2);
	assert_string_equal(err, "bad batch signature");
	/* every single flipped bit is refused, one way or the other */
	for (size_t i = 0; i < sealed.len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			sealed.buf[i] ^= (char)(1 << bit);
			if (tbatch_open(sealed.buf, sealed.len, pub, &m, err,
					sizeof(err)) < 0)
				bad++;
			sealed.buf[i] ^= (char)(1 << bit);
		}
	}
	assert_int_equal(bad, (int)sealed.len * 3);
	/* every truncation too */
	for (size_t n = 0; n < sealed.len; n++)
		assert_true(tbatch_open(sealed.buf, n, pub, &m, err,
					sizeof(err)) < 0);
	strbuf_release(&sealed);
}

static int stop_at_two(const struct tevent *ev, void *ctx)
{
	(void)ev;
	return ++*(int *)ctx == 2 ? 7 : 0;
}

static void test_events_malformed(void **s)
{
	struct tbatch_builder b;
	msgpack_packer *pk;
	char err[256];
	int n = 0;
	(void)s;

	tbatch_builder_init(&b);
	tbatch_add_log(&b, 1, 2, "x", 1);
	tbatch_add_log(&b, 2, 2, "y", 1);
	tbatch_add_log(&b, 3, 2, "z", 1);
	/* fn stops the walk and its value comes back */
	assert_int_equal(tbatch_each_event(b.raw.data, b.raw.size, 3,
					   stop_at_two, &n, err, sizeof(err)), 7);
	/* a count that does not match */
	assert_int_equal(tbatch_each_event(b.raw.data, b.raw.size, 2,
					   stop_at_two, &(int){ 5 }, err,
					   sizeof(err)), -1);
	assert_int_equal(tbatch_each_event(b.raw.data, b.raw.size, 4,
					   stop_at_two, &(int){ 5 }, err,
					   sizeof(err)), -1);
	/* a log line with a bad stream, then an unknown kind */
	tbatch_builder_reset(&b);
	pk = &b.pk;
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, 1);
	msgpack_pack_int64(pk, 1);
	msgpack_pack_uint8(pk, 3);
	msgpack_pack_str_with_body(pk, "x", 1);
	assert_int_equal(tbatch_each_event(b.raw.data, b.raw.size, 1,
					   stop_at_two, &(int){ 5 }, err,
					   sizeof(err)), -1);
	assert_string_equal(err, "malformed event 0 of a batch");
	tbatch_builder_reset(&b);
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, 9);
	msgpack_pack_int64(pk, 1);
	msgpack_pack_uint8(pk, 1);
	msgpack_pack_str_with_body(pk, "x", 1);
	assert_int_equal(tbatch_each_event(b.raw.data, b.raw.size, 1,
					   stop_at_two, &(int){ 5 }, err,
					   sizeof(err)), -1);
	/* a histogram with a negative count */
	tbatch_builder_reset(&b);
	tbatch_add_histogram(&b, 1, "h", -1, 0, 0, 0);
	assert_int_equal(tbatch_each_event(b.raw.data, b.raw.size, 1,
					   stop_at_two, &(int){ 5 }, err,
					   sizeof(err)), -1);
	tbatch_builder_release(&b);
}

/* A body that inflates past its declared size is refused, however it was
 * signed: the scheduler never allocates more than the declared bytes. */
static void test_inflate_bounds(void **s)
{
	struct tbatch_meta m;
	struct strbuf raw = STRBUF_INIT;
	char *zeros = xcalloc(1, 1 << 20), err[256];
	uLongf zlen = compressBound(1 << 20);
	char *z = xmalloc(zlen);
	(void)s;

	assert_int_equal(compress2((Bytef *)z, &zlen, (Bytef *)zeros, 1 << 20, 9),
			 Z_OK);
	memset(&m, 0, sizeof(m));
	m.z = z;
	m.zlen = zlen;
	m.raw_len = 4096;
	assert_int_equal(tbatch_inflate(&m, &raw, err, sizeof(err)), -1);
	assert_int_equal(raw.len, 0);
	m.raw_len = (1 << 20) + 1; /* shorter than declared */
	assert_int_equal(tbatch_inflate(&m, &raw, err, sizeof(err)), -1);
	m.raw_len = 1 << 20;
	assert_int_equal(tbatch_inflate(&m, &raw, err, sizeof(err)), 0);
	m.zlen = 10; /* cut */
	assert_int_equal(tbatch_inflate(&m, &raw, err, sizeof(err)), -1);
	free(zeros);
	free(z);
	strbuf_release(&raw);
}

/* One compressed body sealed under several numbers: each seal opens with
 * its own header and signature, carries the same events, and is byte for
 * byte what tbatch_seal makes of the same events and header. */
static void test_seal_compressed(void **s)
{
	struct strbuf z = STRBUF_INIT, sealed = STRBUF_INIT, raw = STRBUF_INIT;
	struct strbuf direct = STRBUF_INIT;
	struct tbatch_builder b;
	struct tbatch_meta cm, m;
	struct seen seen;
	char err[256];
	(void)s;

	tbatch_builder_init(&b);
	tbatch_add_log(&b, 2000, 2, "WARN TaskSetManager: Lost task 1.0", 34);
	tbatch_add_value(&b, 1990, "records", TM_COUNTER, 500);
	meta(&cm, 0);
	assert_int_equal(tbatch_compress(&b, &z, &cm, err, sizeof(err)), 0);
	assert_int_equal(b.events, 2); /* left as it was */
	assert_int_equal(cm.events, 2);
	assert_int_equal(cm.raw_len, tbatch_builder_size(&b));
	assert_int_equal(cm.first_ms, 1990);
	assert_int_equal(cm.last_ms, 2000);
	assert_ptr_equal(cm.z, z.buf);
	assert_int_equal(cm.zlen, z.len);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		cm.seq = seq;
		cm.epoch = 10 + seq;
		assert_int_equal(tbatch_seal_compressed(&cm, key, &sealed, err,
							sizeof(err)), 0);
		assert_int_equal(tbatch_open(sealed.buf, sealed.len, pub, &m,
					     err, sizeof(err)), 0);
		assert_int_equal(m.seq, seq);
		assert_int_equal(m.epoch, 10 + seq);
		assert_int_equal(m.run, 42);
		assert_int_equal(m.events, 2);
		assert_int_equal(m.first_ms, 1990);
		assert_int_equal(m.last_ms, 2000);
		assert_int_equal(tbatch_open(sealed.buf, sealed.len, other_pub,
					     &m, err, sizeof(err)), -2);
		assert_int_equal(tbatch_inflate(&m, &raw, err, sizeof(err)), 0);
		memset(&seen, 0, sizeof(seen));
		assert_int_equal(tbatch_each_event(raw.buf, raw.len, m.events,
						   collect, &seen, err,
						   sizeof(err)), 0);
		assert_int_equal(seen.n, 2);
		assert_string_equal(seen.text[0],
				    "WARN TaskSetManager: Lost task 1.0");
		assert_int_equal(seen.ev[0].stream, 2);
		assert_int_equal(seen.ev[1].value, 500);
	}
	/* Ed25519 is deterministic: the same header and events seal to the
	 * same bytes either way */
	meta(&m, 3);
	m.epoch = 13;
	assert_int_equal(tbatch_seal(&b, key, &m, &direct, err, sizeof(err)),
			 0);
	assert_int_equal(direct.len, sealed.len);
	assert_memory_equal(direct.buf, sealed.buf, sealed.len);
	/* over the limits: refused, nothing written */
	cm.events = TBATCH_MAX_EVENTS + 1;
	assert_int_equal(tbatch_seal_compressed(&cm, key, &sealed, err,
						sizeof(err)), -1);
	assert_int_equal(sealed.len, 0);
	cm.events = 2;
	cm.zlen = TBATCH_MAX_SEALED - 90; /* refused before z is read */
	assert_int_equal(tbatch_seal_compressed(&cm, key, &sealed, err,
						sizeof(err)), -1);
	assert_int_equal(sealed.len, 0);
	tbatch_builder_release(&b);
	strbuf_release(&z);
	strbuf_release(&sealed);
	strbuf_release(&raw);
	strbuf_release(&direct);
}

static void test_limits(void **s)
{
	struct tbatch_builder b;
	struct strbuf sealed = STRBUF_INIT;
	struct tbatch_meta m;
	char err[256], line[TBATCH_MAX_LINE + 100];
	(void)s;

	/* a line over the limit is cut to it */
	memset(line, 'a', sizeof(line));
	tbatch_builder_init(&b);
	tbatch_add_log(&b, 1, 1, line, sizeof(line));
	assert_true(tbatch_builder_size(&b) < TBATCH_MAX_LINE + 32);
	tbatch_builder_reset(&b);
	/* too many events: refused, nothing written */
	for (uint32_t i = 0; i <= TBATCH_MAX_EVENTS; i++)
		tbatch_add_value(&b, i, "c", TM_COUNTER, 1);
	meta(&m, 1);
	assert_int_equal(tbatch_seal(&b, key, &m, &sealed, err, sizeof(err)),
			 -1);
	assert_int_equal(sealed.len, 0);
	tbatch_builder_release(&b);
	strbuf_release(&sealed);
}

static void test_random_bytes(void **s)
{
	struct strbuf sealed = STRBUF_INIT, raw = STRBUF_INIT;
	struct tbatch_meta m;
	char buf[512], err[256];
	int n = 0;
	(void)s;

	srand(1234);
	for (int i = 0; i < 100000; i++) {
		size_t len = (size_t)(rand() % (int)sizeof(buf));
		for (size_t j = 0; j < len; j++)
			buf[j] = (char)rand();
		if (i % 3 == 0 && len > 0)
			buf[0] = (char)0x92; /* get past the first check */
		assert_true(tbatch_open(buf, len, pub, &m, err, sizeof(err)) < 0);
		(void)tbatch_each_event(buf, len, 3, stop_at_two, &n, err,
					sizeof(err));
	}
	/* a valid header with random compressed bytes: opens without a key,
	 * then fails to inflate */
	make(&sealed, 9);
	assert_int_equal(tbatch_open(sealed.buf, sealed.len, NULL, &m, err,
				     sizeof(err)), 0);
	char *z = (char *)m.z;
	for (size_t j = 2; j < m.zlen; j++)
		z[j] = (char)rand();
	assert_int_equal(tbatch_open(sealed.buf, sealed.len, pub, &m, err,
				     sizeof(err)), -2);
	assert_int_equal(tbatch_inflate(&m, &raw, err, sizeof(err)), -1);
	strbuf_release(&sealed);
	strbuf_release(&raw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_events_malformed),
		cmocka_unit_test(test_inflate_bounds),
		cmocka_unit_test(test_seal_compressed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
