/* test_agent_msgs.c - the agent protocol on the core thread (agent_msgs.c,
 * agent_work.c): a real core over a real store, fed sealed messages the
 * way the transport posts them, and restarted over the same store the way
 * the daemon is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core_fixture.h"
#include "json.h"
#include "keyreg.h"
#include "mp.h"
#include "records.h"
#include "sign.h"
#include "wire.h"

static void pack_heartbeat(msgpack_sbuffer *sb)
{
	msgpack_packer pk;
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kv_i64(&pk, "running", 0);
}

/* An older build stored an empty reply (a lease for 0 slots). A resend of
 * that message must run again and get a real answer, not the empty one,
 * which the agent cannot read and would resend forever. */
static void test_empty_stored_reply_runs_again(void **state)
{
	struct fx *f = *state;
	struct strbuf msg = STRBUF_INIT, out = STRBUF_INIT, again = STRBUF_INIT;
	struct store_batch *b = store_batch_new();
	msgpack_sbuffer sb;
	msgpack_unpacked u;
	struct agent *ag;
	uint64_t accepted;
	char err[256];

	msgpack_sbuffer_init(&sb);
	pack_heartbeat(&sb);
	seal(f, "heartbeat", &sb, &msg);
	send_raw(f, &msg, &out);
	assert_true(out.len > 0);
	stop_core(f);

	/* What the older build left in the store. */
	ag = state_agent(&f->st, f->agent);
	assert_non_null(ag);
	assert_int_equal(ag->last_seq, f->seq);
	free(ag->last_reply);
	ag->last_reply = xmalloc(1);
	ag->last_reply_len = 0;
	accepted = ag->accepted;
	records_put_agent(b, f->store, ag);
	assert_int_equal(store_write(f->store, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	state_release(&f->st);
	load_state(f);
	ag = state_agent(&f->st, f->agent);
	assert_non_null(ag->last_reply);
	assert_int_equal(ag->last_reply_len, 0);
	run_core(f);

	send_raw(f, &msg, &out);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, out.buf, out.len, NULL),
			 MSGPACK_UNPACK_SUCCESS);
	assert_true(reply_ok(&u.data));
	msgpack_unpacked_destroy(&u);
	stop_core(f);
	/* It ran again, and its answer is what a resend now gets, after a
	 * restart too. */
	ag = state_agent(&f->st, f->agent);
	assert_int_equal(ag->accepted, accepted + 1);
	state_release(&f->st);
	load_state(f);
	ag = state_agent(&f->st, f->agent);
	assert_int_equal(ag->last_reply_len, out.len);
	assert_memory_equal(ag->last_reply, out.buf, out.len);
	run_core(f);
	send_raw(f, &msg, &again);
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.buf, out.buf, out.len);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&again);
	strbuf_release(&msg);
	strbuf_release(&out);
}

/* Packs a body {held: [[run, epoch], [9999, 1]], ...} plus n more pairs
 * that the caller packs next. Run 9999 does not exist: never ours. */
static void pack_held(msgpack_packer *pk, uint64_t run, uint64_t epoch,
		      size_t extra)
{
	msgpack_pack_map(pk, 1 + extra);
	mp_pack_cstr(pk, "held");
	msgpack_pack_array(pk, 2);
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint64(pk, run);
	msgpack_pack_uint64(pk, epoch);
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint64(pk, 9999);
	msgpack_pack_uint64(pk, 1);
}

/* Sends body as `type`, checks the reply is ok and cancels run 9999 (and
 * only it), then empties body for the next message. */
static void call_expect_cancel_9999(struct fx *f, const char *type,
				    msgpack_sbuffer *body)
{
	struct strbuf out = STRBUF_INIT;
	msgpack_unpacked u;
	const msgpack_object *c;

	call(f, type, body, &out, &u);
	c = mp_get(&u.data, "cancel");
	assert_true(reply_ok(&u.data));
	assert_non_null(c);
	assert_int_equal(c->type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(c->via.array.size, 1);
	assert_int_equal(c->via.array.ptr[0].via.u64, 9999);
	msgpack_unpacked_destroy(&u);
	strbuf_release(&out);
	msgpack_sbuffer_clear(body);
}

/* Every ok reply carries the cancel list of the message it answers. */
static void test_every_reply_carries_cancel(void **state)
{
	struct fx *f = *state;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t run, epoch;

	lease_one(f, &run, &epoch);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

	pack_held(&pk, run, epoch, 1);
	mp_kv_i64(&pk, "running", 1);
	call_expect_cancel_9999(f, "heartbeat", &sb);

	pack_held(&pk, run, epoch, 4);
	mp_kv_u64(&pk, "run", run);
	mp_kv_u64(&pk, "epoch", epoch);
	mp_kv_str(&pk, "state", "running");
	mp_kv_str(&pk, "app_id", "application_1_0001");
	call_expect_cancel_9999(f, "run_event", &sb);

	pack_held(&pk, run, epoch, 3);
	mp_kv_u64(&pk, "run", run);
	mp_kv_u64(&pk, "epoch", epoch);
	mp_pack_cstr(&pk, "lines");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_int64(&pk, time_now_ms());
	msgpack_pack_int(&pk, 1);
	mp_pack_cstr(&pk, "a line");
	call_expect_cancel_9999(f, "log", &sb);

	pack_held(&pk, run, epoch, 4);
	mp_kv_bool(&pk, "spark_ok", true);
	mp_kv_str(&pk, "spark_version", "3.5.1");
	mp_kv_i64(&pk, "disk_free_mb", 100000);
	mp_kv_i64(&pk, "slots", 4);
	call_expect_cancel_9999(f, "preflight", &sb);

	pack_held(&pk, run, epoch, 4);
	mp_kv_u64(&pk, "run", run);
	mp_kv_u64(&pk, "epoch", epoch);
	mp_kv_str(&pk, "result", "succeeded");
	mp_kv_i64(&pk, "exit_code", 0);
	call_expect_cancel_9999(f, "complete", &sb);

	/* A lease with nothing to lease and a long wait is answered at once
	 * when it has runs to cancel. */
	msgpack_pack_map(&pk, 3);
	mp_pack_cstr(&pk, "held");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint64(&pk, 9999);
	msgpack_pack_uint64(&pk, 1);
	mp_kv_u64(&pk, "slots", 1);
	mp_kv_u64(&pk, "wait_ms", 60000);
	call_expect_cancel_9999(f, "lease", &sb);

	msgpack_sbuffer_destroy(&sb);
}

/* A batch of completions names its malformed reports by position; the
 * good ones still apply. */
static void test_batch_reports_malformed(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const msgpack_object *bad, *stale;
	uint64_t run, epoch;

	lease_one(f, &run, &epoch);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_pack_cstr(&pk, "results");
	msgpack_pack_array(&pk, 5);
	mp_pack_cstr(&pk, "not a map");          /* 0 */
	msgpack_pack_map(&pk, 1);                 /* 1: no epoch */
	mp_kv_u64(&pk, "run", run);
	msgpack_pack_map(&pk, 3);                 /* 2: good */
	mp_kv_u64(&pk, "run", run);
	mp_kv_u64(&pk, "epoch", epoch);
	mp_kv_str(&pk, "result", "succeeded");
	msgpack_pack_map(&pk, 3);                 /* 3: unknown result */
	mp_kv_u64(&pk, "run", run);
	mp_kv_u64(&pk, "epoch", epoch);
	mp_kv_str(&pk, "result", "queued");
	msgpack_pack_map(&pk, 3);                 /* 4: stale now */
	mp_kv_u64(&pk, "run", run);
	mp_kv_u64(&pk, "epoch", epoch);
	mp_kv_str(&pk, "result", "failed");
	call(f, "complete", &sb, &out, &u);
	assert_true(reply_ok(&u.data));
	assert_null(mp_get(&u.data, "cancel"));
	bad = mp_get(&u.data, "malformed");
	assert_non_null(bad);
	assert_int_equal(bad->via.array.size, 3);
	assert_int_equal(bad->via.array.ptr[0].via.u64, 0);
	assert_int_equal(bad->via.array.ptr[1].via.u64, 1);
	assert_int_equal(bad->via.array.ptr[2].via.u64, 3);
	stale = mp_get(&u.data, "stale");
	assert_non_null(stale);
	assert_int_equal(stale->via.array.size, 1);
	assert_int_equal(stale->via.array.ptr[0].via.u64, run);
	msgpack_unpacked_destroy(&u);
	stop_core(f);
	assert_int_equal(state_run(&f->st, run)->state, RUN_SUCCEEDED);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
}

/* Packs {run, epoch, result: succeeded}, a single completion report. */
static void pack_complete(msgpack_sbuffer *sb, uint64_t run, uint64_t epoch)
{
	msgpack_packer pk;
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_u64(&pk, "run", run);
	mp_kv_u64(&pk, "epoch", epoch);
	mp_kv_str(&pk, "result", "succeeded");
}

/* Finding: a failure reason over REASON_LEN - 1 bytes (the agent's,
 * redacted) was dropped: run show said "reason: -". It is kept, cut at a
 * character boundary with "..."; so is a long deciding line. */
static void test_long_reason_kept(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT, reason = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const struct run *r;
	uint64_t run, epoch;

	lease_one(f, &run, &epoch);
	strbuf_addstr(&reason, "spark-submit exited with 1: Caused by: "
			       "java.sql.SQLException: password=[REDACTED:"
			       "password] rejected ");
	while (reason.len < REASON_LEN - 6)
		strbuf_addch(&reason, 'x');
	while (reason.len < 700)
		strbuf_addstr(&reason, "\xc3\xa9"); /* é: cut before, not in */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	mp_kv_u64(&pk, "run", run);
	mp_kv_u64(&pk, "epoch", epoch);
	mp_kv_str(&pk, "result", "failed");
	mp_kv_str(&pk, "reason", reason.buf);
	mp_kv_str(&pk, "class", "unknown");
	mp_kv_str(&pk, "diag_line", reason.buf);
	call(f, "complete", &sb, &out, &u);
	assert_true(reply_ok(&u.data));
	msgpack_unpacked_destroy(&u);
	stop_core(f);
	r = state_run(&f->st, run);
	const struct run_detail *d = run_detail(r);
	assert_non_null(d->reason);
	assert_true(strlen(d->reason) <= REASON_LEN - 1);
	assert_int_equal(strncmp(d->reason, reason.buf, 60), 0);
	assert_string_equal(d->reason + strlen(d->reason) - 5, "\xc3\xa9...");
	assert_non_null(d->diag_line);
	assert_string_equal(d->diag_line + strlen(d->diag_line) - 3, "...");
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
	strbuf_release(&reason);
}

/* The synced writes the core has done, from queue stats. */
/* Waits until the core has applied events posted since before (a
 * core_progress reading) and finished the turn that applied the last:
 * what a negative check needs instead of a sleep. */
static void wait_applied(struct fx *f, const struct core_progress *before,
			 uint64_t n)
{
	struct core_progress p;
	for (int i = 0; i < 30000; i++) {
		core_progress(f->core, &p);
		if (p.events >= before->events + n && p.turns >= p.event_turn)
			return;
		usleep(1000);
	}
	fail_msg("the core did not apply %llu event(s) in 30 s",
		 (unsigned long long)n);
}

static uint64_t wal_syncs(struct fx *f)
{
	struct json *j = admin(f, "queue stats");
	const struct json *w = json_get(j, "wal_sync");
	const struct json *n = w ? json_get(w, "syncs") : NULL;
	uint64_t syncs;

	assert_non_null(n);
	syncs = strtoull(n->str, NULL, 10);
	json_free(j);
	return syncs;
}

static void restart_with_ack_delay(struct fx *f, int64_t us)
{
	stop_core(f);
	state_release(&f->st);
	f->cfg.agent_ack_delay_us = us;
	start_core(f);
}

/* The state of run id as a restart reads it from the store. */
static enum run_state stored_state(struct fx *f, uint64_t id)
{
	enum run_state s;

	stop_core(f);
	state_release(&f->st);
	start_core(f);
	assert_non_null(state_run(&f->st, id));
	s = state_run(&f->st, id)->state;
	return s;
}

/* A report acknowledged without the test waiting for it. */
static pthread_mutex_t ack_mu = PTHREAD_MUTEX_INITIALIZER;
static struct strbuf ack = STRBUF_INIT;
static bool acked;

static void on_ack(struct event *ev)
{
	pthread_mutex_lock(&ack_mu);
	strbuf_reset(&ack);
	strbuf_add(&ack, ev->reply.buf, ev->reply.len);
	acked = true;
	pthread_mutex_unlock(&ack_mu);
	event_free(ev);
}

static bool ack_ok(void)
{
	msgpack_unpacked u;
	bool ok;

	pthread_mutex_lock(&ack_mu);
	ok = acked;
	if (ok) {
		msgpack_unpacked_init(&u);
		ok = msgpack_unpack_next(&u, ack.buf, ack.len, NULL) ==
			     MSGPACK_UNPACK_SUCCESS && reply_ok(&u.data);
		msgpack_unpacked_destroy(&u);
	}
	pthread_mutex_unlock(&ack_mu);
	return ok;
}

static bool was_acked(void)
{
	bool a;
	pthread_mutex_lock(&ack_mu);
	a = acked;
	pthread_mutex_unlock(&ack_mu);
	return a;
}

static void drop_reply(struct event *ev)
{
	event_free(ev);
}

/* Enrolls a second agent into acme/prod and parks its request for work
 * (answered when the core stops); f goes on speaking as the first.
 * Returns once that request's turn is over and written; or, given
 * syncs_before, at once, with the WAL syncs counted just before the
 * request was posted (and, given progress, the core's progress then). */
static void park_second_agent(struct fx *f, uint64_t *syncs_before,
			      struct core_progress *progress)
{
	struct sign_key *first_key = f->key;
	uint64_t first_seq = f->seq;
	struct strbuf msg = STRBUF_INIT;
	char first[sizeof(f->agent)];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct event *ev;

	memcpy(first, f->agent, sizeof(first));
	f->key = sign_key_generate();
	f->seq = 0;
	fx_enroll(f);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kv_u64(&pk, "slots", 1);
	mp_kv_u64(&pk, "wait_ms", 60000);
	seal(f, "lease", &sb, &msg);
	ev = agent_event(f, &msg);
	ev->done = drop_reply;
	if (syncs_before)
		*syncs_before = wal_syncs(f);
	if (progress)
		core_progress(f->core, progress);
	core_post(f->core, ev);
	/* answered after the turn that parked the request, and its write */
	if (!syncs_before)
		admin_ok(f, "tenant list");
	sign_key_free(f->key);
	f->key = first_key;
	f->seq = first_seq;
	memcpy(f->agent, first, sizeof(first));
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&msg);
}

/* A turn that only acknowledges an agent's report leaves its commit to
 * the next turn that has to sync anyway (within agent_ack_delay_us): the
 * report waits unanswered until an admin command comes, then both are
 * answered after one synced write, which holds the report. It may wait
 * because another agent of its environment is ready for work. The delay
 * is set past anything the test waits, so only the admin command can end
 * it. */
static void test_report_rides_with_next_commit(void **state)
{
	struct fx *f = *state;
	struct strbuf msg = STRBUF_INIT;
	struct event *ev;
	struct core_progress progress;
	msgpack_sbuffer sb;
	uint64_t run, epoch, before;

	restart_with_ack_delay(f, 600 * 1000000LL);
	lease_one(f, &run, &epoch);
	park_second_agent(f, NULL, NULL);
	before = wal_syncs(f);
	msgpack_sbuffer_init(&sb);
	pack_complete(&sb, run, epoch);
	seal(f, "complete", &sb, &msg);
	acked = false;
	ev = agent_event(f, &msg);
	ev->done = on_ack;
	core_progress(f->core, &progress);
	core_post(f->core, ev);
	wait_applied(f, &progress, 1);
	assert_false(was_acked());
	/* Read in the same turn as the report was applied or a later one,
	 * before that turn's sync. */
	assert_int_equal(wal_syncs(f), before);
	assert_true(ack_ok());
	assert_int_equal(wal_syncs(f), before + 1);
	assert_int_equal(stored_state(f, run), RUN_SUCCEEDED);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&msg);
}

/* A request parked for work writes nothing until it is answered (its
 * answer writes the agent): the turn that parks it syncs nothing, and
 * neither does the next one (each wal_syncs is an admin command, read in
 * its turn before that turn's commit, which would carry a write left
 * pending). An idle agent's poll costs one synced write, not two. */
static void test_parked_request_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct core_progress progress;
	uint64_t before;

	restart_with_ack_delay(f, 600 * 1000000LL);
	park_second_agent(f, &before, &progress);
	wait_applied(f, &progress, 1);
	assert_int_equal(wal_syncs(f), before);
	assert_int_equal(wal_syncs(f), before);
}

/* With nothing else coming, a report is committed and answered on its own
 * once the delay is up; with no delay, in its own turn; and at once, even
 * with a delay longer than the test's wait for the answer, when no other
 * agent of its environment is ready for work (the reporting agent takes
 * none until it hears back). Each time it is on disk when the agent hears
 * back. */
static void test_report_commits_alone(void **state)
{
	static const int64_t delays_us[] = { 2000, 0, 600 * 1000000LL };
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_unpacked u;
	uint64_t run, epoch, before;

	msgpack_sbuffer_init(&sb);
	for (size_t i = 0; i < ARRAY_SIZE(delays_us); i++) {
		restart_with_ack_delay(f, delays_us[i]);
		lease_one(f, &run, &epoch);
		if (delays_us[i] == 2000)
			park_second_agent(f, NULL, NULL);
		before = wal_syncs(f);
		pack_complete(&sb, run, epoch);
		call(f, "complete", &sb, &out, &u);
		assert_true(reply_ok(&u.data));
		msgpack_unpacked_destroy(&u);
		assert_int_equal(wal_syncs(f), before + 1);
		assert_int_equal(stored_state(f, run), RUN_SUCCEEDED);
	}
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
}

/* A heartbeat tells the agent's build: `agent list` shows it, a restart
 * keeps it, and a value that is no version (a blank, a control byte, too
 * long, not a string) leaves the last good one. */
static void beat_version(struct fx *f, const char *v, bool as_int)
{
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kv_i64(&pk, "running", 0);
	if (as_int)
		mp_kv_i64(&pk, "version", 7);
	else
		mp_kv_str(&pk, "version", v);
	call(f, "heartbeat", &sb, &out, &u);
	assert_true(reply_ok(&u.data));
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
}

static const char *listed_version(struct fx *f)
{
	static char v[64];
	struct json *j = admin(f, "agent list");
	const struct json *items = json_get(j, "items");
	assert_non_null(items);
	assert_int_equal(items->n, 1);
	snprintf(v, sizeof(v), "%s", json_get_str(items->items[0], "version"));
	json_free(j);
	return v;
}

static void test_heartbeat_version(void **state)
{
	struct fx *f = *state;
	char longv[100];

	assert_string_equal(listed_version(f), "unknown");
	beat_version(f, "1.4.0-12-gabc1234", false);
	assert_string_equal(listed_version(f), "1.4.0-12-gabc1234");
	beat_version(f, "1.5 evil", false);
	beat_version(f, "1.5\nx", false);
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	beat_version(f, longv, false);
	beat_version(f, "", false);
	beat_version(f, NULL, true);
	assert_string_equal(listed_version(f), "1.4.0-12-gabc1234");
	beat_version(f, "1.5.0", false);
	stop_core(f);
	state_release(&f->st);
	load_state(f);
	run_core(f);
	assert_string_equal(listed_version(f), "1.5.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_empty_stored_reply_runs_again, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_every_reply_carries_cancel,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_batch_reports_malformed,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_long_reason_kept, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_report_rides_with_next_commit, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_report_commits_alone,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_parked_request_writes_nothing, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_version, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
