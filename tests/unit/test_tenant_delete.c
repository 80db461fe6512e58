/* test_tenant_delete.c - `tenant delete` of a tenant whose runs are kept
 * only in the store (cmd_tenant_delete.c), on a real core: a worker finds
 * them while the core goes on, then one turn deletes them with the rest of
 * the tenant. Every run of the tenant goes, in memory or in the store, and
 * no other tenant's does, before and after a restart. While the worker
 * reads, no run of the tenant leaves memory for the store: this binary is
 * linked with --wrap=store_scan, so a test can stop the worker's scan at
 * its start (scan_gate) and let the core turn meanwhile. */
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
#include "keyring.h"
#include "run_codec.h"
#include "util.h"

/* ---- the gate: a scan of the runs off the core thread waits for it ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_armed, gate_reached, gate_open;

int __real_store_scan(struct store *s, enum store_cf cf, const void *start,
		      size_t slen, const void *end, size_t elen,
		      store_scan_fn fn, void *ctx);
int __wrap_store_scan(struct store *s, enum store_cf cf, const void *start,
		      size_t slen, const void *end, size_t elen,
		      store_scan_fn fn, void *ctx);

int __wrap_store_scan(struct store *s, enum store_cf cf, const void *start,
		      size_t slen, const void *end, size_t elen,
		      store_scan_fn fn, void *ctx)
{
	pthread_mutex_lock(&gate_mu);
	if (gate_armed && cf == CF_RUNS && !core_on_core_thread()) {
		gate_armed = false;
		gate_reached = true;
		pthread_cond_broadcast(&gate_cv);
		while (!gate_open)
			pthread_cond_wait(&gate_cv, &gate_mu);
	}
	pthread_mutex_unlock(&gate_mu);
	return __real_store_scan(s, cf, start, slen, end, elen, fn, ctx);
}

/* Waits (10 s at most) until *flag, under gate_mu. */
static bool gate_wait(const bool *flag)
{
	struct timespec ts;
	int rc = 0;
	bool set;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&gate_mu);
	while (!*flag && rc == 0)
		rc = pthread_cond_timedwait(&gate_cv, &gate_mu, &ts);
	set = *flag;
	pthread_mutex_unlock(&gate_mu);
	return set;
}

static void gate_release(void)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

/* An admin command whose reply comes later (tenant delete answers once its
 * worker is done): posted by post_later, its reply waited for with
 * gate_wait(&later_done). */
static struct strbuf later_out = STRBUF_INIT;
static bool later_done;

static void on_later_done(struct event *ev)
{
	pthread_mutex_lock(&gate_mu);
	strbuf_add(&later_out, ev->reply.buf, ev->reply.len);
	later_done = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	event_free(ev);
}

static void post_later(struct fx *f, const char *line)
{
	struct event *ev = admin_event(line);

	ev->done = on_later_done;
	core_post(f->core, ev);
}

/* The ids of the runs the store holds records of for tenant, as a bit
 * set (ids below 64). */
struct owned {
	const char *tenant;
	uint64_t ids;
};

static int see_record(const void *key, size_t klen, const void *val,
		      size_t vlen, void *arg)
{
	struct owned *o = arg;
	char job[JOB_KEY_LEN];
	uint64_t id = klen == 8 ? store_get_u64be(key) : 0;

	assert_int_equal(run_peek_job(val, vlen, job, sizeof(job)), 0);
	assert_true(id > 0 && id < 64);
	if (key_owned_by(job, o->tenant, strlen(o->tenant)))
		o->ids |= 1ull << id;
	return 0;
}

static uint64_t records_of(struct fx *f, const char *tenant)
{
	struct owned o = { tenant, 0 };

	assert_int_equal(store_scan(f->store, CF_RUNS, NULL, 0, NULL, 0,
				    see_record, &o),
			 0);
	return o.ids;
}

/* Whether `run show ID` finds the run. */
static bool shown(struct fx *f, uint64_t id)
{
	struct strbuf out = STRBUF_INIT;
	char line[64];
	bool ok;

	snprintf(line, sizeof(line), "run show %llu", (unsigned long long)id);
	admin_reply(f, line, &out);
	ok = strstr(out.buf, "\"ok\":true") != NULL;
	if (!ok && !strstr(out.buf, "not_found"))
		fail_msg("%s: %s", line, out.buf);
	strbuf_release(&out);
	return ok;
}

static void test_stored_runs_go(void **state)
{
	static const uint8_t master[KEYRING_KEY_BYTES] = { 4, 2 };
	struct fx *f = *state;
	struct keyring *kr = keyring_new(master);
	uint64_t globex = 0, acme = 0, later;
	struct json *j;
	char err[256];

	/* tenant delete destroys the tenant's data key: it needs one */
	store_set_keyring(f->store, kr);
	admin_ok(f, "tenant add globex");
	assert_int_equal(keyring_ensure(kr, "globex", 1, err, sizeof(err)), 0);
	assert_int_equal(keyring_ensure(kr, "acme", 1, err, sizeof(err)), 0);
	admin_ok(f, "env add globex/prod");
	admin_ok(f, "job add globex/prod/j -- --master yarn app.jar");
	for (int i = 0; i < 3; i++) {
		globex |= 1ull << fx_start_cancelled(f, "globex/prod/j");
		acme |= 1ull << fx_start_cancelled(f, "acme/prod/j");
	}
	assert_int_equal(records_of(f, "globex"), globex);
	assert_int_equal(fx_restart_stored(f, "globex"), 3);
	/* one more, ended now: in memory */
	later = fx_start_cancelled(f, "globex/prod/j");
	globex |= 1ull << later;

	j = admin(f, "tenant delete globex --confirm");
	assert_string_equal(json_get(json_get(j, "removed"), "runs")->str,
			    "4");
	json_free(j);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(records_of(f, "globex"), 0);
		assert_int_equal(records_of(f, "acme"), acme);
		for (uint64_t id = 1; id < 64; id++) {
			if (globex >> id & 1)
				assert_false(shown(f, id));
			if (acme >> id & 1)
				assert_true(shown(f, id));
		}
		/* and from the store alone, after a restart */
		stop_core(f);
		state_release(&f->st);
		start_core(f);
	}
	stop_core(f);
	store_set_keyring(f->store, NULL);
	keyring_free(kr);
}

/* The fleet's count of ended runs that left memory for the store. */
static uint64_t left_memory(struct fx *f)
{
	struct json *j = admin(f, "queue stats");
	uint64_t n = strtoull(
		json_get(json_get(j, "ended_runs"), "left_memory")->str, NULL,
		10);

	json_free(j);
	return n;
}

/* Sets globex's retention to days, which starts a retention pass (it has
 * runs in the store), once the clock is past every run ended so far (a
 * run leaves memory only in a later millisecond than it ended), and waits
 * for the pass to end. */
static void retention_pass(struct fx *f, int days)
{
	int64_t ended_by = time_now_ms();
	char line[64];

	while (time_now_ms() <= ended_by)
		usleep(200);
	snprintf(line, sizeof(line), "tenant set globex --retention-days %d",
		 days);
	admin_ok(f, line);
	for (int i = 0; i < 10000; i++) {
		struct json *j = admin(f, "tenant show globex");
		bool pending = json_get(json_get(json_get(j, "tenant"),
						 "retention"),
					"pending") != NULL;
		json_free(j);
		if (!pending)
			return;
		usleep(1000);
	}
	fail_msg("the retention pass did not end within 10 s");
}

static void test_runs_stay_while_scanning(void **state)
{
	static const uint8_t master[KEYRING_KEY_BYTES] = { 4, 3 };
	struct fx *f = *state;
	struct keyring *kr = keyring_new(master);
	struct json *j;
	char err[256];

	store_set_keyring(f->store, kr);
	admin_ok(f, "tenant add globex");
	assert_int_equal(keyring_ensure(kr, "globex", 1, err, sizeof(err)), 0);
	admin_ok(f, "env add globex/prod");
	admin_ok(f, "job add globex/prod/j -- --master yarn app.jar");
	for (int i = 0; i < 3; i++)
		fx_start_cancelled(f, "globex/prod/j");
	/* ended runs leave memory at the first retention pass after they
	 * end (the setting is read by the core: changed while it is down) */
	stop_core(f);
	state_release(&f->st);
	f->cfg.ended_runs_in_memory_s = 0;
	start_core(f);
	assert_int_equal(fx_restart_stored(f, "globex"), 3);

	/* with no delete under way, a pass sends an ended run to the store */
	fx_start_cancelled(f, "globex/prod/j");
	retention_pass(f, 30);
	assert_int_equal(left_memory(f), 1);

	/* while the delete's worker reads the store, a pass keeps them */
	fx_start_cancelled(f, "globex/prod/j");
	pthread_mutex_lock(&gate_mu);
	gate_armed = true;
	pthread_mutex_unlock(&gate_mu);
	post_later(f, "tenant delete globex --confirm");
	assert_true(gate_wait(&gate_reached));
	retention_pass(f, 31);
	assert_int_equal(left_memory(f), 1);
	gate_release();
	assert_true(gate_wait(&later_done));
	j = json_parse(later_out.buf, later_out.len, err, sizeof(err));
	assert_non_null(j);
	if (!json_get_bool(j, "ok"))
		fail_msg("tenant delete: %s", later_out.buf);
	assert_string_equal(json_get(json_get(j, "removed"), "runs")->str,
			    "5");
	json_free(j);
	assert_int_equal(records_of(f, "globex"), 0);
	j = admin(f, "queue stats");
	assert_string_equal(
		json_get(json_get(j, "ended_runs"), "in_store_only")->str, "0");
	json_free(j);
	stop_core(f);
	store_set_keyring(f->store, NULL);
	keyring_free(kr);
	strbuf_release(&later_out);
}

/* A failed check leaves the gate shut: opened here, so that the core,
 * which waits for its workers as it stops, can stop. */
static int gate_teardown(void **state)
{
	gate_release();
	return fx_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stored_runs_go, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_runs_stay_while_scanning,
						fx_setup, gate_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
