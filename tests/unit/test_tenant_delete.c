/* test_tenant_delete.c - `tenant delete` of a tenant whose runs are kept
 * only in the store (cmd_tenant_delete.c), on a real core: a worker finds
 * them while the core goes on, then one turn deletes them with the rest of
 * the tenant. Every run of the tenant goes, in memory or in the store, and
 * no other tenant's does, before and after a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_fixture.h"
#include "keyring.h"
#include "run_codec.h"
#include "util.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stored_runs_go, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
