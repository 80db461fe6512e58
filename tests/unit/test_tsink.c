/* test_tsink.c - the agent's reports through the spool (agent/tsink.c):
 * messages come out in the order the reports were made, events alone and
 * batches grouped, survive a reopen until done, and a full spool makes the
 * sink backlogged until acknowledgements make room. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"
#include "mp.h"
#include "sign.h"
#include "tbatch.h"
#include "tsink.h"
#include "util.h"

struct fx {
	char dir[64];
	struct agent_config cfg;
	struct sign_key *key;
	uint8_t pub[SIGN_PUB_LEN];
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/sp-tsink.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	agent_config_defaults(&f->cfg);
	snprintf(f->cfg.state_dir, sizeof(f->cfg.state_dir), "%s", f->dir);
	snprintf(f->cfg.spool_fsync, sizeof(f->cfg.spool_fsync), "never");
	f->key = sign_key_generate();
	sign_key_public(f->key, f->pub);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	sign_key_free(f->key);
	free(f);
	return system(cmd);
}

static struct tsink *open_sink(struct fx *f)
{
	char err[256];
	struct tsink *t = tsink_open(&f->cfg, f->key, "ag-test", err,
				     sizeof(err));
	if (!t)
		fail_msg("%s", err);
	return t;
}

static void event(struct tsink *t, const char *type, uint64_t run)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kv_u64(&pk, "run", run);
	tsink_event(t, type, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static void batch(struct tsink *t, uint64_t run, const char *line, bool final)
{
	struct tbatch_builder b;
	tbatch_builder_init(&b);
	tbatch_add_log(&b, 1, 1, line, strlen(line));
	tsink_batch(t, &b, run, 1, final);
	assert_int_equal(b.events, 0);
	tbatch_builder_release(&b);
}

/* The next message: its type, the run of an event or the number of
 * batches (checked: signed by our key, in our name), and done with it. */
static void expect(struct fx *f, struct tsink *t, const char *type,
		   uint64_t n)
{
	struct strbuf body = STRBUF_INIT;
	msgpack_unpacked u;
	char got[16];
	uint64_t upto, v = 0;

	assert_true(tsink_next(t, got, &body, &upto));
	assert_string_equal(got, type);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, body.buf, body.len, NULL),
			 MSGPACK_UNPACK_SUCCESS);
	if (!strcmp(type, "telemetry")) {
		const msgpack_object *b = mp_get(&u.data, "batches");
		assert_non_null(b);
		v = b->via.array.size;
		for (uint32_t i = 0; i < b->via.array.size; i++) {
			struct tbatch_meta m;
			char err[128];
			assert_int_equal(tbatch_open(b->via.array.ptr[i].via.bin.ptr,
						     b->via.array.ptr[i].via.bin.size,
						     f->pub, &m, err, sizeof(err)),
					 0);
			assert_string_equal(m.agent, "ag-test");
		}
	} else {
		assert_int_equal(mp_get_u64(&u.data, "run", &v), 0);
	}
	assert_int_equal(v, n);
	msgpack_unpacked_destroy(&u);
	strbuf_release(&body);
	tsink_done(t, upto);
}

static void test_order_and_reopen(void **state)
{
	struct fx *f = *state;
	struct tsink *t = open_sink(f);
	struct strbuf body = STRBUF_INIT;
	char type[16];
	uint64_t upto;

	assert_false(tsink_next(t, type, &body, &upto));
	event(t, "run_event", 7);
	batch(t, 7, "a", false);
	batch(t, 7, "b", false);
	event(t, "complete", 7);
	batch(t, 8, "c", true);
	/* a crash before anything was sent: all of it is still there */
	tsink_close(t);
	t = open_sink(f);
	expect(f, t, "run_event", 7);
	expect(f, t, "telemetry", 2);
	expect(f, t, "complete", 7);
	/* done with part: a reopen goes on from there */
	tsink_close(t);
	t = open_sink(f);
	expect(f, t, "telemetry", 1);
	assert_false(tsink_next(t, type, &body, &upto));
	tsink_close(t);
	t = open_sink(f);
	assert_false(tsink_next(t, type, &body, &upto));
	tsink_close(t);
	strbuf_release(&body);
}

/* Batch numbers keep growing across reopens (the scheduler stores a
 * batch once per number). */
static void test_batch_numbers(void **state)
{
	struct fx *f = *state;
	struct tsink *t = open_sink(f);
	struct strbuf body = STRBUF_INIT;
	msgpack_unpacked u;
	struct tbatch_meta m;
	char type[16], err[128];
	uint64_t upto, last = 0;

	for (int round = 0; round < 3; round++) {
		batch(t, 1, "x", false);
		assert_true(tsink_next(t, type, &body, &upto));
		msgpack_unpacked_init(&u);
		assert_int_equal(msgpack_unpack_next(&u, body.buf, body.len,
						     NULL),
				 MSGPACK_UNPACK_SUCCESS);
		const msgpack_object *b = mp_get(&u.data, "batches");
		assert_int_equal(tbatch_open(b->via.array.ptr[0].via.bin.ptr,
					     b->via.array.ptr[0].via.bin.size,
					     NULL, &m, err, sizeof(err)), 0);
		assert_true(m.seq > last);
		last = m.seq;
		msgpack_unpacked_destroy(&u);
		tsink_done(t, upto);
		tsink_close(t);
		t = open_sink(f);
	}
	tsink_close(t);
	strbuf_release(&body);
}

/* Over the hard bound, final batches wait in memory (backlogged) and go
 * in, in order, once acknowledgements made room. */
static void test_backlog(void **state)
{
	struct fx *f = *state;
	struct tsink *t;
	struct strbuf body = STRBUF_INIT;
	char type[16], line[8000];
	uint64_t upto;
	int n = 0, sent = 0;

	f->cfg.spool_max_mb = 1;
	t = open_sink(f);
	/* random text: it does not compress */
	srand(7);
	while (!tsink_backlogged(t) && n < 2000) {
		for (size_t i = 0; i < sizeof(line) - 1; i++)
			line[i] = (char)('!' + rand() % 90);
		line[sizeof(line) - 1] = '\0';
		batch(t, 1, line, true);
		n++;
	}
	assert_true(tsink_backlogged(t));
	batch(t, 1, "after the backlog", true);
	n++;
	while (tsink_next(t, type, &body, &upto)) {
		msgpack_unpacked u;
		msgpack_unpacked_init(&u);
		assert_int_equal(msgpack_unpack_next(&u, body.buf, body.len,
						     NULL),
				 MSGPACK_UNPACK_SUCCESS);
		sent += (int)mp_get(&u.data, "batches")->via.array.size;
		msgpack_unpacked_destroy(&u);
		tsink_done(t, upto);
		tsink_tick(t, 0);
	}
	assert_false(tsink_backlogged(t));
	assert_int_equal(sent, n); /* every final batch, none dropped */
	tsink_close(t);
	strbuf_release(&body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_reopen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_batch_numbers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_backlog, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
