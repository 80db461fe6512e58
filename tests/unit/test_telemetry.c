/* test_telemetry.c - telemetry batches on the scheduler (telemetry.c):
 * stored once, acknowledged, refused and counted when forged, foreign,
 * replayed or malformed, read back as logs and metrics, kept across a
 * restart, and removed with their run by the retention pass. A real core
 * over a real store (tests/unit/lib/core_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_fixture.h"
#include "mp.h"
#include "records.h"
#include "tbatch.h"
#include "telemetry.h"

/* A sealed batch of `lines` log lines "line I" (I from first) and a
 * counter, for run/epoch, numbered seq, signed with key in agent's name. */
static void make_batch(struct strbuf *out, const struct sign_key *key,
		       const char *agent, uint64_t seq, uint64_t run,
		       uint64_t epoch, int first, int lines)
{
	struct tbatch_builder b;
	struct tbatch_meta m;
	char err[256], text[32];

	tbatch_builder_init(&b);
	for (int i = 0; i < lines; i++) {
		int n = snprintf(text, sizeof(text), "line %d", first + i);
		tbatch_add_log(&b, 1000 + first + i, 2, text, (size_t)n);
	}
	tbatch_add_value(&b, 2000, "log_lines", TM_COUNTER, lines);
	tbatch_add_value(&b, 2000 + seq, "executors", TM_GAUGE, (int64_t)seq);
	tbatch_add_histogram(&b, 2000, "line_bytes", lines, 10 * lines, 6, 14);
	memset(&m, 0, sizeof(m));
	snprintf(m.agent, sizeof(m.agent), "%s", agent);
	m.seq = seq;
	m.run = run;
	m.epoch = epoch;
	assert_int_equal(tbatch_seal(&b, key, &m, out, err, sizeof(err)), 0);
	tbatch_builder_release(&b);
}

/* Sends the n sealed batches in one telemetry message; the reply in u. */
static void send_batches(struct fx *f, struct strbuf *batches, size_t n,
			 struct strbuf *out, msgpack_unpacked *u)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_pack_cstr(&pk, "batches");
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_bin_with_body(&pk, batches[i].buf, batches[i].len);
	call(f, "telemetry", &sb, out, u);
	msgpack_sbuffer_destroy(&sb);
}

/* Sends one batch; returns "acked" or the reason it was rejected. */
static const char *send_one(struct fx *f, const struct strbuf *batch)
{
	static char verdict[32];
	struct strbuf out = STRBUF_INIT, copy = STRBUF_INIT;
	msgpack_unpacked u;
	const msgpack_object *acked, *rej;

	strbuf_add(&copy, batch->buf, batch->len);
	send_batches(f, &copy, 1, &out, &u);
	assert_true(reply_ok(&u.data));
	acked = mp_get(&u.data, "acked");
	rej = mp_get(&u.data, "rejected");
	assert_non_null(acked);
	assert_non_null(rej);
	assert_int_equal(acked->via.array.size + rej->via.array.size, 1);
	if (acked->via.array.size) {
		snprintf(verdict, sizeof(verdict), "acked");
	} else {
		const msgpack_object *r = rej->via.array.ptr;
		assert_int_equal(r->via.array.size, 3);
		snprintf(verdict, sizeof(verdict), "%.*s",
			 (int)r->via.array.ptr[2].via.str.size,
			 r->via.array.ptr[2].via.str.ptr);
	}
	msgpack_unpacked_destroy(&u);
	strbuf_release(&out);
	strbuf_release(&copy);
	return verdict;
}

/* A number member of a JSON object (fails the test if absent). */
static int64_t jint(const struct json *j, const char *key)
{
	const struct json *v = json_get(j, key);
	assert_non_null(v);
	assert_int_equal(v->type, JSON_NUMBER);
	return strtoll(v->str, NULL, 10);
}

/* The text of `run logs RUN ...` lines, joined with '|'. */
static void logs(struct fx *f, const char *args, char *out, size_t len)
{
	char cmd[128];
	struct json *j;
	const struct json *lines;
	size_t used = 0;

	snprintf(cmd, sizeof(cmd), "run logs %s", args);
	j = admin(f, cmd);
	lines = json_get(j, "lines");
	out[0] = '\0';
	for (size_t i = 0; lines && i < lines->n; i++) {
		const struct json *l = lines->items[i];
		used += (size_t)snprintf(out + used, len - used, "%s%s",
					 i ? "|" : "",
					 json_get_str(l, "line"));
	}
	json_free(j);
}

static void test_store_and_read(void **state)
{
	struct fx *f = *state;
	struct strbuf b[2] = { STRBUF_INIT, STRBUF_INIT }, out = STRBUF_INIT;
	msgpack_unpacked u;
	uint64_t run, epoch;
	char text[512], args[64];
	struct json *j;
	const struct json *items;

	lease_one(f, &run, &epoch);
	make_batch(&b[0], f->key, f->agent, 1, run, epoch, 0, 3);
	make_batch(&b[1], f->key, f->agent, 2, run, epoch, 3, 2);
	send_batches(f, b, 2, &out, &u);
	assert_true(reply_ok(&u.data));
	const msgpack_object *acked = mp_get(&u.data, "acked");
	assert_int_equal(acked->via.array.size, 2);
	assert_int_equal(acked->via.array.ptr[0].via.u64, 1);
	assert_int_equal(acked->via.array.ptr[1].via.u64, 2);
	assert_int_equal(mp_get(&u.data, "rejected")->via.array.size, 0);
	msgpack_unpacked_destroy(&u);

	snprintf(args, sizeof(args), "%llu", (unsigned long long)run);
	logs(f, args, text, sizeof(text));
	assert_string_equal(text, "line 0|line 1|line 2|line 3|line 4");
	/* pages: the first batch is skipped whole, the second cut */
	snprintf(args, sizeof(args), "%llu --after 3 --limit 1",
		 (unsigned long long)run);
	logs(f, args, text, sizeof(text));
	assert_string_equal(text, "line 3");
	snprintf(args, sizeof(args), "%llu --after 2 --limit 2",
		 (unsigned long long)run);
	logs(f, args, text, sizeof(text));
	assert_string_equal(text, "line 2|line 3");

	snprintf(args, sizeof(args), "run metrics %llu", (unsigned long long)run);
	j = admin(f, args);
	items = json_get(j, "items");
	assert_int_equal(items->n, 3);
	/* by name: executors (gauge, the latest), line_bytes, log_lines */
	assert_string_equal(json_get_str(items->items[0], "name"), "executors");
	assert_int_equal(jint(items->items[0], "value"), 2);
	assert_string_equal(json_get_str(items->items[1], "type"), "histogram");
	assert_int_equal(jint(items->items[1], "count"), 5);
	assert_int_equal(jint(items->items[1], "sum"), 50);
	assert_int_equal(jint(items->items[1], "min"), 6);
	assert_int_equal(jint(items->items[1], "max"), 14);
	assert_int_equal(jint(items->items[2], "value"), 5);
	json_free(j);

	struct agent *ag = state_agent(&f->st, f->agent);
	assert_int_equal(ag->tb_stored, 2);
	assert_int_equal(ag->tb_events, 3 + 3 + 2 + 3);
	strbuf_release(&b[0]);
	strbuf_release(&b[1]);
	strbuf_release(&out);
}

/* A batch sent again (its acknowledgement lost, the agent restarted) is
 * acknowledged again and not stored twice, across a scheduler restart
 * too; one far below the window cannot be told apart and is refused. */
static void test_duplicates_and_window(void **state)
{
	struct fx *f = *state;
	struct strbuf b = STRBUF_INIT;
	uint64_t run, epoch;
	char text[512], args[32];

	lease_one(f, &run, &epoch);
	snprintf(args, sizeof(args), "%llu", (unsigned long long)run);
	make_batch(&b, f->key, f->agent, 5, run, epoch, 0, 1);
	assert_string_equal(send_one(f, &b), "acked");
	assert_string_equal(send_one(f, &b), "acked");
	logs(f, args, text, sizeof(text));
	assert_string_equal(text, "line 0");
	stop_core(f);
	state_release(&f->st);
	start_core(f);
	assert_string_equal(send_one(f, &b), "acked");
	logs(f, args, text, sizeof(text));
	assert_string_equal(text, "line 0");
	struct agent *ag = state_agent(&f->st, f->agent);
	assert_int_equal(ag->tb_stored, 1);
	assert_int_equal(ag->tb_duplicate, 2);

	/* out of order within the window: stored */
	make_batch(&b, f->key, f->agent, TELEMETRY_WINDOW + 10, run, epoch, 1,
		   1);
	assert_string_equal(send_one(f, &b), "acked");
	make_batch(&b, f->key, f->agent, 20, run, epoch, 2, 1);
	assert_string_equal(send_one(f, &b), "acked");
	/* batch 5 is now more than the window below the highest */
	make_batch(&b, f->key, f->agent, 5, run, epoch, 0, 1);
	assert_string_equal(send_one(f, &b), "replayed");
	make_batch(&b, f->key, f->agent, 9, run, epoch, 0, 1);
	assert_string_equal(send_one(f, &b), "replayed");
	logs(f, args, text, sizeof(text));
	assert_string_equal(text, "line 0|line 1|line 2");
	assert_int_equal(ag->tb_rejected_replayed, 2);
	strbuf_release(&b);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct strbuf b = STRBUF_INIT, out = STRBUF_INIT;
	struct sign_key *other = sign_key_generate();
	msgpack_unpacked u;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t run, epoch;
	char text[512], args[32];

	lease_one(f, &run, &epoch);
	snprintf(args, sizeof(args), "%llu", (unsigned long long)run);
	/* in our name, with another key */
	make_batch(&b, other, f->agent, 1, run, epoch, 0, 1);
	assert_string_equal(send_one(f, &b), "forged");
	/* in another agent's name, with its own key or ours */
	make_batch(&b, other, "ag-00000000000000000000000000000000", 1, run,
		   epoch, 0, 1);
	assert_string_equal(send_one(f, &b), "unknown_key");
	make_batch(&b, f->key, "ag-00000000000000000000000000000000", 1, run,
		   epoch, 0, 1);
	assert_string_equal(send_one(f, &b), "unknown_key");
	/* a run that does not exist, a later epoch than the run's */
	make_batch(&b, f->key, f->agent, 1, run + 100, epoch, 0, 1);
	assert_string_equal(send_one(f, &b), "stale");
	make_batch(&b, f->key, f->agent, 1, run, epoch + 1, 0, 1);
	assert_string_equal(send_one(f, &b), "stale");
	/* another tenant's run */
	admin_ok(f, "tenant add other");
	admin_ok(f, "env add other/prod");
	admin_ok(f, "job add other/prod/j -- app.jar");
	struct json *j = admin(f, "run start other/prod/j");
	uint64_t foreign = (uint64_t)jint(j, "run");
	json_free(j);
	make_batch(&b, f->key, f->agent, 1, foreign, 1, 0, 1);
	assert_string_equal(send_one(f, &b), "stale");
	/* bytes that are no batch; a flipped byte in a good one */
	strbuf_reset(&b);
	strbuf_addstr(&b, "not a batch");
	assert_string_equal(send_one(f, &b), "malformed");
	make_batch(&b, f->key, f->agent, 1, run, epoch, 0, 1);
	b.buf[b.len / 2] ^= 0x40;
	assert_true(strcmp(send_one(f, &b), "acked") != 0);
	logs(f, args, text, sizeof(text));
	assert_string_equal(text, "");

	struct agent *ag = state_agent(&f->st, f->agent);
	assert_int_equal(ag->tb_stored, 0);
	assert_int_equal(ag->tb_rejected_forged +
				 ag->tb_rejected_malformed, 3);
	assert_int_equal(ag->tb_rejected_unknown_key, 2);
	assert_int_equal(ag->tb_rejected_stale, 3);
	/* and visible to the operator */
	snprintf(text, sizeof(text), "agent show %s", f->agent);
	j = admin(f, text);
	const struct json *t = json_get(json_get(j, "agent"), "telemetry");
	assert_non_null(t);
	assert_int_equal(jint(t, "rejected_unknown_key"), 2);
	assert_int_equal(jint(t, "rejected_stale"), 3);
	assert_int_equal(jint(t, "batches"), 0);
	json_free(j);

	/* a body without batches, or with too many, is malformed whole */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kv_u64(&pk, "batches", 3);
	call(f, "telemetry", &sb, &out, &u);
	assert_false(reply_ok(&u.data));
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 1);
	mp_pack_cstr(&pk, "batches");
	msgpack_pack_array(&pk, TELEMETRY_MAX_BATCHES + 1);
	for (int i = 0; i <= TELEMETRY_MAX_BATCHES; i++)
		msgpack_pack_bin_with_body(&pk, "x", 1);
	call(f, "telemetry", &sb, &out, &u);
	assert_false(reply_ok(&u.data));
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	sign_key_free(other);
	strbuf_release(&b);
	strbuf_release(&out);
}

/* Ages a run's end by `days` in the store, as if it ended that long ago. */
static void age_run(struct fx *f, uint64_t id, int days)
{
	struct store_batch *wb = store_batch_new();
	struct run *r = state_run(&f->st, id);
	char err[256];

	run_set_state_ms(r, r->state, run_state_ms(r, r->state) -
					      (int64_t)days * 86400 * 1000);
	records_put_run(wb, f->store, r);
	assert_int_equal(store_write(f->store, wb, true, err, sizeof(err)), 0);
	store_batch_free(wb);
}

/* Whether `run show ID` finds the run. */
static bool run_exists(struct fx *f, uint64_t id)
{
	struct strbuf out = STRBUF_INIT;
	char line[64], err[128];
	struct json *j;
	bool ok;

	snprintf(line, sizeof(line), "run show %llu", (unsigned long long)id);
	admin_reply(f, line, &out);
	j = json_parse(out.buf, out.len, err, sizeof(err));
	assert_non_null(j);
	ok = json_get_bool(j, "ok");
	json_free(j);
	strbuf_release(&out);
	return ok;
}

static void test_retention(void **state)
{
	struct fx *f = *state;
	struct strbuf b = STRBUF_INIT;
	uint64_t run[3], epoch[3];
	char text[512], args[32];

	/* runs 1 and 3 end 3 days ago, run 2 stays live between them */
	for (int i = 0; i < 3; i++) {
		lease_one(f, &run[i], &epoch[i]);
		make_batch(&b, f->key, f->agent, (uint64_t)i + 1, run[i],
			   epoch[i], 0, 2);
		assert_string_equal(send_one(f, &b), "acked");
	}
	complete_one(f, run[0], epoch[0], "succeeded", 0);
	complete_one(f, run[2], epoch[2], "succeeded", 0);
	admin_ok(f, "tenant set acme --retention-days 2");
	stop_core(f);
	age_run(f, run[0], 3);
	age_run(f, run[2], 3);
	state_release(&f->st);
	f->cfg.retention_interval_s = 1;
	start_core(f);
	/* the first pass runs a second after the start: wait until it has
	 * removed run 1 (bounded), then check what it kept: runs 1 and 3
	 * are gone with their lines, run 2 keeps its own */
	for (int i = 0; i < 200 && run_exists(f, run[0]); i++)
		usleep(50 * 1000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(run_exists(f, run[i]), i == 1);
	snprintf(args, sizeof(args), "%llu", (unsigned long long)run[1]);
	logs(f, args, text, sizeof(text));
	assert_string_equal(text, "line 0|line 1");
	/* a longer retention keeps what has not been dropped yet */
	admin_ok(f, "tenant set acme --retention-days 30");
	snprintf(args, sizeof(args), "%llu", (unsigned long long)run[1]);
	logs(f, args, text, sizeof(text));
	assert_string_equal(text, "line 0|line 1");
	strbuf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_and_read, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_and_window,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_refusals, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_retention, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
