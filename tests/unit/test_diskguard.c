/* test_diskguard.c - a store whose writes fail, and the free-space floor,
 * through a real core thread over a real store (scheduler/diskguard.c):
 * the failed turn acknowledges nothing, later changes are refused while
 * reads are answered, the store comes back by itself and writes what
 * waited, and below the floor only new runs are refused. */
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
#include "diskguard.h"
#include "mp.h"
#include "util.h"

#define ENOSPC_ERR                                                            \
	"IO error: No space left on device: While appending to file: "       \
	"000004.log: No space left on device"

/* Any admin reply, refusals too (caller frees). */
static struct json *ask(struct fx *f, const char *line)
{
	struct strbuf out = STRBUF_INIT;
	struct json *j;
	char err[128];

	admin_reply(f, line, &out);
	j = json_parse(out.buf, out.len, err, sizeof(err));
	assert_non_null(j);
	strbuf_release(&out);
	return j;
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

/* An unavailable refusal whose message starts with prefix. */
static void assert_refused(struct fx *f, const char *line, const char *prefix)
{
	struct json *j = ask(f, line);
	const struct json *retry = json_get(j, "retry_after_ms");

	assert_false(json_get_bool(j, "ok"));
	assert_string_equal(json_get_str(j, "error"), "unavailable");
	if (!starts_with(json_get_str(j, "message"), prefix))
		fail_msg("%s: message '%s', expected '%s...'", line,
			 json_get_str(j, "message"), prefix);
	assert_non_null(retry);
	assert_string_equal(retry->str, "10");
	json_free(j);
}

static char *store_state(struct fx *f)
{
	struct json *j = admin(f, "queue stats");
	char *s = xstrdup(json_get_str(json_get(j, "store"), "state"));
	json_free(j);
	return s;
}

/* Waits (at most 10 s) until queue stats shows the store in state. */
static void wait_store(struct fx *f, const char *state)
{
	for (int i = 0; i < 1000; i++) {
		char *s = store_state(f);
		bool done = !strcmp(s, state);
		free(s);
		if (done)
			return;
		usleep(10 * 1000);
	}
	fail_msg("the store never became %s", state);
}

/* The core again over the same store, after a change of f->cfg (the core
 * thread reads its settings unlocked). */
static void restart(struct fx *f)
{
	stop_core(f);
	state_release(&f->st);
	start_core(f);
}

static size_t run_count(struct fx *f)
{
	struct json *j = admin(f, "run list");
	size_t n = json_get(j, "items")->n;
	json_free(j);
	return n;
}

static void test_floor(void **state)
{
	uint64_t gib = 1ULL << 30;
	(void)state;

	/* the smaller bound, leaving out a bound of 0 */
	assert_int_equal(diskguard_floor(100 * gib, 1024, 5), gib);
	assert_int_equal(diskguard_floor(10 * gib, 1024, 5), 10 * gib / 100 * 5);
	assert_int_equal(diskguard_floor(10 * gib, 0, 5), 10 * gib / 100 * 5);
	assert_int_equal(diskguard_floor(10 * gib, 1024, 0), gib);
	assert_int_equal(diskguard_floor(10 * gib, 0, 0), 0);
}

/* The turn whose write fails acknowledges nothing; later changes are
 * refused up front while reads work; an agent is told to back off; once
 * writes succeed the store is reopened and what waited is written, the
 * refused change included. */
static void test_failed_write(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	char code[32] = "";
	int64_t retry = 0;
	size_t before;
	struct json *j;

	f->cfg.store_check_ms = 10;
	restart(f);
	before = run_count(f);
	store_fail_writes(f->store, 1000000, ENOSPC_ERR);
	j = ask(f, "run start acme/prod/j");
	assert_string_equal(json_get_str(j, "error"), "unavailable");
	assert_non_null(strstr(json_get_str(j, "message"),
			       ": this change was not acknowledged; it is kept"));
	json_free(j);
	assert_refused(f, "run start acme/prod/j",
		       "store_unavailable: no space left on the data dir '");
	j = ask(f, "tenant add other");
	assert_string_equal(json_get_str(j, "error"), "unavailable");
	assert_non_null(strstr(json_get_str(j, "message"),
			       "; changes are refused until space is freed "
			       "(reads still work)"));
	json_free(j);
	/* reads: the refused start is in memory, waiting to be written */
	assert_int_equal(run_count(f), before + 1);
	j = admin(f, "queue stats");
	assert_string_equal(json_get_str(json_get(j, "store"), "state"),
			    "unavailable");
	json_free(j);
	/* an agent is told to come back later */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kv_i64(&pk, "running", 0);
	call(f, "heartbeat", &sb, &out, &u);
	assert_false(reply_ok(&u.data));
	mp_get_str(&u.data, "error", code, sizeof(code));
	assert_string_equal(code, "unavailable");
	assert_int_equal(mp_get_i64(&u.data, "retry_after_ms", &retry), 0);
	assert_int_equal(retry, 10);
	msgpack_unpacked_destroy(&u);

	/* writes work again: back by itself */
	store_fail_writes(f->store, 0, NULL);
	wait_store(f, "ok");
	/* the refused heartbeat's sequence number was not used up */
	f->seq--;
	call(f, "heartbeat", &sb, &out, &u);
	assert_true(reply_ok(&u.data));
	msgpack_unpacked_destroy(&u);
	admin_ok(f, "run start acme/prod/j");
	/* the kept start and the new one are in the store */
	restart(f);
	assert_int_equal(run_count(f), before + 2);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
}

/* Below the floor new runs are refused; cancels and completions go on. */
static void test_floor_refuses_starts(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	uint64_t run, epoch;
	struct json *j;
	char line[64];

	f->cfg.store_check_ms = 10;
	restart(f);
	lease_one(f, &run, &epoch);
	admin_ok(f, "run start acme/prod/j");
	j = admin(f, "run list --oldest-first");
	const struct json *items = json_get(j, "items");
	const char *queued = json_get(items->items[items->n - 1], "id")->str;
	snprintf(line, sizeof(line), "run cancel %s", queued);
	json_free(j);

	f->cfg.store_min_free_mb = 1LL << 30; /* a PiB: always below */
	f->cfg.store_min_free_pct = 0;
	restart(f);
	assert_string_equal(json_get_str(json_get(j = admin(f, "queue stats"),
						   "store"), "state"),
			    "low_space");
	json_free(j);
	assert_refused(f, "run start acme/prod/j", "store_low_space: ");
	admin_ok(f, line);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_u64(&pk, "run", run);
	mp_kv_u64(&pk, "epoch", epoch);
	mp_kv_str(&pk, "result", "succeeded");
	call(f, "complete", &sb, &out, &u);
	assert_true(reply_ok(&u.data));
	msgpack_unpacked_destroy(&u);

	f->cfg.store_min_free_mb = 0;
	restart(f);
	admin_ok(f, "run start acme/prod/j");
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_floor),
		cmocka_unit_test_setup_teardown(test_failed_write, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_floor_refuses_starts,
						fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
