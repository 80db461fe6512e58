/* test_jobvers.c - job versions (jobvers.c, cmd_job.c) through a real core
 * and store: job set writes the next version and keeps what it is not
 * given; a run's dispatches, its retry included, carry the arguments of
 * the version it started with after later sets; job show --version and
 * job history read the versions back; all of it survives a restart, a
 * live run's old version then read from the store. */
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

/* Asks for one run: its id (0 if none came), epoch and last argument. */
static uint64_t lease(struct fx *f, uint64_t *epoch, char *last, size_t len)
{
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const msgpack_object *runs, *argv;
	uint64_t run = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kv_u64(&pk, "slots", 1);
	mp_kv_u64(&pk, "wait_ms", 0);
	call(f, "lease", &sb, &out, &u);
	runs = mp_get(&u.data, "runs");
	if (runs && runs->via.array.size) {
		const msgpack_object *one = runs->via.array.ptr, *a;
		assert_int_equal(mp_get_u64(one, "run", &run), 0);
		assert_int_equal(mp_get_u64(one, "epoch", epoch), 0);
		argv = mp_get(one, "argv");
		assert_non_null(argv);
		assert_true(argv->via.array.size > 0);
		a = &argv->via.array.ptr[argv->via.array.size - 1];
		snprintf(last, len, "%.*s", (int)a->via.str.size,
			 a->via.str.ptr);
	}
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
	return run;
}

/* Leases until run comes (its backoff may still run); its last argument. */
static void lease_run(struct fx *f, uint64_t run, uint64_t *epoch,
		      char *last, size_t len)
{
	for (int i = 0; i < 200; i++) {
		uint64_t got = lease(f, epoch, last, len);
		if (got) {
			assert_int_equal(got, run);
			return;
		}
		usleep(10 * 1000);
	}
	fail_msg("run %llu was not dispatched", (unsigned long long)run);
}

/* A number member of a JSON object (fails the test if absent). */
static long long json_get_num(const struct json *j, const char *key)
{
	const struct json *v = json_get(j, key);
	assert_non_null(v);
	assert_int_equal(v->type, JSON_NUMBER);
	return strtoll(v->str, NULL, 10);
}

static uint64_t start_run(struct fx *f)
{
	struct json *j = admin(f, "run start acme/prod/j");
	uint64_t id = (uint64_t)json_get_num(j, "run");
	json_free(j);
	return id;
}

/* A member of `CMD`'s reply object obj (a number or a string). */
static long long num(struct fx *f, const char *cmd, const char *obj,
		     const char *key)
{
	struct json *j = admin(f, cmd);
	long long v = (long long)json_get_num(json_get(j, obj), key);
	json_free(j);
	return v;
}

static void str_of(struct fx *f, const char *cmd, const char *obj,
		   const char *key, char *buf, size_t len)
{
	struct json *j = admin(f, cmd);
	snprintf(buf, len, "%s", json_get_str(json_get(j, obj), key));
	json_free(j);
}

/* A run's estimated_max_cost (run show's usage). */
static void estimate(struct fx *f, uint64_t id, char *buf, size_t len)
{
	char cmd[64];
	struct json *j;

	snprintf(cmd, sizeof(cmd), "run show %llu", (unsigned long long)id);
	j = admin(f, cmd);
	snprintf(buf, len, "%s",
		 json_get_str(json_get(json_get(j, "run"), "usage"),
			      "estimated_max_cost"));
	json_free(j);
}

static void restart(struct fx *f)
{
	stop_core(f);
	state_release(&f->st);
	start_core(f);
}

/* The changes of each version in job history, joined with '|'. */
static void history(struct fx *f, char *buf, size_t len)
{
	struct json *j = admin(f, "job history acme/prod/j");
	const struct json *items = json_get(j, "items");
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; items && i < items->n; i++) {
		const struct json *v = items->items[i];
		used += (size_t)snprintf(buf + used, len - used, "%s%lld:%s",
					 i ? "|" : "", json_get_num(v, "version"),
					 json_get_str(v, "changes"));
	}
	json_free(j);
}

static void test_versions(void **state)
{
	struct fx *f = *state;
	uint64_t r1, r2, epoch;
	char last[64], buf[512];

	char est1[32], est2[32];

	f->cfg.retry_base_ms = f->cfg.retry_max_ms = 1;
	restart(f);
	admin_ok(f, "env set acme/prod --price-vcpu-hour 1");
	assert_int_equal(num(f, "job show acme/prod/j", "job", "version"), 1);
	/* a set keeps what it is not given */
	admin_ok(f, "job set acme/prod/j --executors 5 --max-attempts 2");
	assert_int_equal(num(f, "job show acme/prod/j", "job", "version"), 2);
	assert_int_equal(num(f, "job show acme/prod/j", "job", "executors"), 5);
	assert_int_equal(num(f, "job show acme/prod/j", "job", "driver_cores"),
			 1);
	r1 = start_run(f);
	assert_int_equal(num(f, "run show 1", "run", "job_version"), 2);
	estimate(f, r1, est1, sizeof(est1));
	admin_ok(f, "job set acme/prod/j --executors 50 -- --master yarn "
		    "v3.jar");
	assert_int_equal(num(f, "job show acme/prod/j", "job", "max_attempts"),
			 2);
	/* run 1 is dispatched with version 2's arguments, its retry too */
	lease_run(f, r1, &epoch, last, sizeof(last));
	assert_string_equal(last, "app.jar");
	complete_one(f, r1, epoch, "failed", 1);
	/* its next attempt is estimated with its version's 5 executors (plus
	 * the first attempt's cost, a few micro-dollars), not with 50 */
	estimate(f, r1, buf, sizeof(buf));
	assert_true(strtod(buf, NULL) - strtod(est1, NULL) < 0.5);
	lease_run(f, r1, &epoch, last, sizeof(last));
	assert_string_equal(last, "app.jar");
	complete_one(f, r1, epoch, "succeeded", 0);
	r2 = start_run(f);
	lease_run(f, r2, &epoch, last, sizeof(last));
	assert_string_equal(last, "v3.jar");
	assert_int_equal(num(f, "run show 2", "run", "job_version"), 3);
	estimate(f, r2, est2, sizeof(est2));
	assert_true(strtod(est2, NULL) > 5 * strtod(est1, NULL));
	/* earlier versions and the history */
	assert_int_equal(num(f, "job show acme/prod/j --version 1", "job",
			     "executors"), 2);
	str_of(f, "job show acme/prod/j --version 2", "job", "version_by", buf,
	       sizeof(buf));
	assert_string_equal(buf, "uid:0");
	history(f, buf, sizeof(buf));
	assert_string_equal(buf, "1:created|2:executors 2 -> 5, max-attempts "
				 "1 -> 2|3:executors 5 -> 50, spark-submit "
				 "arguments replaced (3 -> 3)");
	restart(f);
	history(f, buf, sizeof(buf));
	assert_string_equal(buf, "1:created|2:executors 2 -> 5, max-attempts "
				 "1 -> 2|3:executors 5 -> 50, spark-submit "
				 "arguments replaced (3 -> 3)");
	assert_int_equal(num(f, "run show 1", "run", "job_version"), 2);
	assert_int_equal(num(f, "job show acme/prod/j", "job", "version"), 3);
}

/* A run queued under a version that a set replaced, across a restart:
 * its old version is read back from the store for its dispatch. */
static void test_live_run_across_restart(void **state)
{
	struct fx *f = *state;
	uint64_t r, first, epoch;
	char last[64];

	admin_ok(f, "dispatch pause");
	r = start_run(f);
	admin_ok(f, "job set acme/prod/j -- --master yarn v2.jar");
	admin_ok(f, "job set acme/prod/j -- --master yarn v3.jar");
	restart(f);
	admin_ok(f, "dispatch resume");
	lease_run(f, r, &epoch, last, sizeof(last));
	assert_string_equal(last, "app.jar");
	first = r;
	r = start_run(f);
	complete_one(f, first, epoch, "succeeded", 0);
	lease_run(f, r, &epoch, last, sizeof(last));
	assert_string_equal(last, "v3.jar");
}

/* What job set refuses or does not count as a change. */
static void test_set_refusals(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;

	admin_reply(f, "job set acme/prod/j --timeout 3600", &out);
	assert_non_null(strstr(out.buf, "unchanged (version 1)"));
	strbuf_reset(&out);
	admin_reply(f, "job set acme/prod/j --", &out);
	assert_non_null(strstr(out.buf, "\"ok\":false"));
	strbuf_reset(&out);
	admin_reply(f, "job set acme/prod/nope --executors 3", &out);
	assert_non_null(strstr(out.buf, "not_found"));
	strbuf_reset(&out);
	admin_reply(f, "job show acme/prod/j --version 2", &out);
	assert_non_null(strstr(out.buf, "has no version 2 (versions 1-1)"));
	assert_int_equal(num(f, "job show acme/prod/j", "job", "version"), 1);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_versions, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_run_across_restart,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_set_refusals, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
