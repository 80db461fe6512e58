/* test_run_list.c - run list's filters, its pages (a bound on the runs one
 * request examines, lowered here to 2) and usage --by, through a real
 * core: each filter alone and together, refusals naming the problem, a
 * tenant-scoped viewer who sees nothing of another tenant, and the
 * roll-ups by job and by creator surviving a restart and going with
 * their tenant.
 *
 * The runs (ids dense from 1):
 *   1 acme/prod/j    uid:0     failed, class oom, created 2026-01-01
 *   2 acme/prod/k    uid:1001  queued, fired by schedule 7
 *   3 globex/prod/j  uid:0     queued
 *   4 acme/prod/j    uid:1001  queued
 *   5 acme/prod/j    uid:0     waiting (--after 4)
 *   6 acme/prod/k    uid:0     cancelled
 * 2 to 6 created 2026-02-01. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "config.h"
#include "core_fixture.h"
#include "json.h"
#include "keyring.h"
#include "model.h"
#include "strbuf.h"

static const struct access_peer
	op_acme = { .uid = 1001, .gid = 1001 },
	view_acme = { .uid = 1002, .gid = 1002 };

#define JAN1 1767225600000LL /* 2026-01-01T00:00:00Z */
#define FEB1 1769904000000LL /* 2026-02-01T00:00:00Z */

static struct json *as(struct fx *f, const struct access_peer *p,
		       const char *line)
{
	struct strbuf out = STRBUF_INIT;
	char err[128];
	struct json *j;

	if (p)
		admin_reply_as(f, p, line, &out);
	else
		admin_reply(f, line, &out);
	j = json_parse(out.buf, out.len, err, sizeof(err));
	if (!j)
		fail_msg("%s: %s", line, err);
	strbuf_release(&out);
	return j;
}

/* The ids line lists, "6,5,..." ("" for none); its reply in *reply if
 * wanted (caller frees). */
static const char *ids_as(struct fx *f, const struct access_peer *p,
			  const char *line, struct json **reply)
{
	static char buf[256];
	struct json *j = as(f, p, line);
	const struct json *items = json_get(j, "items");

	if (!json_get_bool(j, "ok"))
		fail_msg("%s: %s", line, json_get_str(j, "message"));
	buf[0] = '\0';
	for (size_t i = 0; items && i < items->n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
			 i ? "," : "", json_get(items->items[i], "id")->str);
	if (reply)
		*reply = j;
	else
		json_free(j);
	return buf;
}

static const char *ids(struct fx *f, const char *line)
{
	return ids_as(f, NULL, line, NULL);
}

static void refused_as(struct fx *f, const struct access_peer *p,
		       const char *line, const char *code, const char *msg)
{
	struct json *j = as(f, p, line);
	if (json_get_bool(j, "ok") || strcmp(json_get_str(j, "error"), code) ||
	    strcmp(json_get_str(j, "message"), msg))
		fail_msg("%s: expected %s '%s', got %s '%s'", line, code, msg,
			 json_get_str(j, "error"), json_get_str(j, "message"));
	json_free(j);
}

static void refused(struct fx *f, const char *line, const char *code,
		    const char *msg)
{
	refused_as(f, NULL, line, code, msg);
}

static void set_scan_max(struct fx *f, int64_t n)
{
	f->cfg.run_list_scan_max = n;
	core_reconfigure(f->core, &f->cfg);
}

static int setup(void **state)
{
	struct fx *f;
	uint64_t run, epoch;
	char err[256];

	fx_setup(state);
	f = *state;
	admin_ok(f, "job add acme/prod/k -- --master yarn k.jar");
	admin_ok(f, "tenant add globex");
	admin_ok(f, "env add globex/prod");
	admin_ok(f, "job add globex/prod/j -- --master yarn app.jar");
	lease_one(f, &run, &epoch); /* run 1 */
	complete_one(f, run, epoch, "failed", 1);
	admin_ok(f, "dispatch pause");
	snprintf(f->cfg.role_admin, sizeof(f->cfg.role_admin), "uid:1000");
	snprintf(f->cfg.role_operator, sizeof(f->cfg.role_operator),
		 "uid:1001@acme");
	snprintf(f->cfg.role_viewer, sizeof(f->cfg.role_viewer),
		 "uid:1002@acme");
	assert_int_equal(config_resolve(&f->cfg, err, sizeof(err)), 0);
	core_reconfigure(f->core, &f->cfg);
	json_free(as(f, &op_acme, "run start acme/prod/k"));   /* 2 */
	admin_ok(f, "run start globex/prod/j");                /* 3 */
	json_free(as(f, &op_acme, "run start acme/prod/j"));   /* 4 */
	admin_ok(f, "run start acme/prod/j --after 4");        /* 5 */
	admin_ok(f, "run start acme/prod/k");                  /* 6 */
	admin_ok(f, "run cancel 6");
	/* what the test cannot make happen through commands: a class, the
	 * creation times and a schedule's run (fields only run list reads) */
	stop_core(f);
	run_set_str(&run_detail_get(f->st.runs[0])->failure_class, "oom");
	f->st.runs[0]->created_ms = JAN1;
	for (int i = 1; i < 6; i++)
		f->st.runs[i]->created_ms = FEB1;
	run_extra_get(f->st.runs[1])->schedule = 7;
	run_core(f);
	return 0;
}

static void test_each_filter(void **state)
{
	struct fx *f = *state;

	assert_string_equal(ids(f, "run list"), "6,5,4,3,2,1");
	assert_string_equal(ids(f, "run list --oldest-first"), "1,2,3,4,5,6");
	assert_string_equal(ids(f, "run list --tenant globex"), "3");
	assert_string_equal(ids(f, "run list --env acme/prod"), "6,5,4,2,1");
	assert_string_equal(ids(f, "run list --job acme/prod/k"), "6,2");
	assert_string_equal(ids(f, "run list --state failed"), "1");
	assert_string_equal(ids(f, "run list --state waiting"), "5");
	/* labels: a run waiting for others is not "queued" */
	assert_string_equal(ids(f, "run list --state queued"), "4,3,2");
	assert_string_equal(ids(f, "run list --state cancelled,failed"), "6,1");
	assert_string_equal(ids(f, "run list --created-by uid:1001"), "4");
	assert_string_equal(ids(f, "run list --created-by uid:0"), "6,5,3,1");
	assert_string_equal(ids(f, "run list --created-by user:root"),
			    "6,5,3,1");
	assert_string_equal(ids(f, "run list --created-by uid:4242"), "");
	assert_string_equal(ids(f, "run list --created-by schedule:7"), "2");
	assert_string_equal(ids(f, "run list --schedule 7"), "2");
	assert_string_equal(ids(f, "run list --schedule 8"), "");
	assert_string_equal(ids(f, "run list --since 2026-01-15"), "6,5,4,3,2");
	assert_string_equal(ids(f, "run list --until 2026-01-15T00:00:00Z"),
			    "1");
	assert_string_equal(ids(f, "run list --since 2026-02-01T00:00 "
				   "--until 2026-02-02"), "6,5,4,3,2");
	assert_string_equal(ids(f, "run list --class oom"), "1");
	assert_string_equal(ids(f, "run list --class none-has-it"), "");
}

static void test_filters_combined_and_rows(void **state)
{
	struct fx *f = *state;
	struct json *j;
	const struct json *row;

	assert_string_equal(
		ids(f, "run list --job acme/prod/j --state queued,waiting"),
		"5,4");
	assert_string_equal(ids(f, "run list --tenant acme --created-by "
				   "uid:0 --state cancelled"), "6");
	assert_string_equal(ids(f, "run list --env acme/prod --class oom "
				   "--since 2026-01-15"), "");
	ids_as(f, NULL, "run list --job acme/prod/k --oldest-first", &j);
	row = json_get(j, "items")->items[0];
	assert_string_equal(json_get_str(row, "job"), "acme/prod/k");
	assert_string_equal(json_get_str(row, "state"), "queued");
	assert_string_equal(json_get_str(row, "created_by"), "schedule:7");
	assert_string_equal(json_get_str(row, "created"),
			    "2026-02-01T00:00:00.000Z");
	assert_int_equal(json_get(row, "class")->type, JSON_NULL);
	assert_true(json_get_bool(j, "complete"));
	assert_int_equal(json_get(j, "next_after_id")->type, JSON_NULL);
	json_free(j);
	ids_as(f, NULL, "run list --class oom", &j);
	row = json_get(j, "items")->items[0];
	assert_string_equal(json_get_str(row, "state"), "failed");
	assert_string_equal(json_get_str(row, "class"), "oom");
	assert_string_equal(json_get(row, "attempt")->str, "1");
	assert_string_equal(json_get_str(row, "agent"), f->agent);
	json_free(j);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;

	refused(f, "run list --state bogus", "invalid",
		"--state: unknown state 'bogus'");
	refused(f, "run list --state queued,nope", "invalid",
		"--state: unknown state 'nope'");
	refused(f, "run list --since yesterday", "invalid",
		"--since: 'yesterday' is not a date (YYYY-MM-DD) or time "
		"(YYYY-MM-DDTHH:MM:SSZ)");
	refused(f, "run list --until 2026-13-01", "invalid",
		"--until: '2026-13-01' is not a date (YYYY-MM-DD) or time "
		"(YYYY-MM-DDTHH:MM:SSZ)");
	refused(f, "run list --created-by user:no-such-user-sp", "invalid",
		"--created-by: no user 'no-such-user-sp'");
	refused(f, "run list --created-by bob", "invalid",
		"--created-by: 'bob' is not uid:N, user:NAME or schedule:ID");
	refused(f, "run list --created-by schedule:x", "invalid",
		"--created-by: 'schedule:x' is not uid:N, user:NAME or "
		"schedule:ID");
	refused(f, "run list --tenant nope", "not_found", "no tenant 'nope'");
	refused(f, "run list --env acme/nope", "not_found",
		"no environment 'acme/nope'");
	refused(f, "run list --job acme/prod/nope", "not_found",
		"no job 'acme/prod/nope'");
	refused(f, "usage --by week", "invalid",
		"--by: 'week' must be job, user, env or day");
}

static void assert_page(struct fx *f, const char *line, const char *want,
			bool complete, const char *next)
{
	struct json *j;
	const struct json *nx;

	assert_string_equal(ids_as(f, NULL, line, &j), want);
	if (json_get_bool(j, "complete") != complete)
		fail_msg("%s: complete is not %d", line, complete);
	nx = json_get(j, "next_after_id");
	if (next)
		assert_string_equal(nx->str, next);
	else
		assert_int_equal(nx->type, JSON_NULL);
	json_free(j);
}

static void test_paging(void **state)
{
	struct fx *f = *state;

	/* --limit: a full page, and where the next one starts */
	assert_page(f, "run list --limit 2", "6,5", true, "5");
	assert_page(f, "run list --limit 2 --after-id 5", "4,3", true, "3");
	assert_page(f, "run list --limit 2 --after-id 3", "2,1", true, NULL);
	assert_page(f, "run list --oldest-first --limit 2 --after-id 2",
		    "3,4", true, "4");
	assert_page(f, "run list --oldest-first --limit 2 --after-id 4",
		    "5,6", true, NULL);
	assert_page(f, "run list --after-id 1", "", true, NULL);
	assert_page(f, "run list --oldest-first --after-id 6", "", true, NULL);
	/* the bound: two runs examined per request, then a cursor */
	set_scan_max(f, 2);
	assert_page(f, "run list --state failed", "", false, "5");
	assert_page(f, "run list --state failed --after-id 5", "", false, "3");
	assert_page(f, "run list --state failed --after-id 3", "1", true,
		    NULL);
	assert_page(f, "run list --created-by uid:0 --oldest-first", "1",
		    false, "2");
	assert_page(f, "run list --created-by uid:0 --oldest-first "
		       "--after-id 2", "3", false, "4");
	/* a page full before the bound is complete */
	assert_page(f, "run list --limit 1", "6", true, "6");
	set_scan_max(f, RUN_LIST_SCAN_MAX);
}

static void test_tenant_isolation(void **state)
{
	struct fx *f = *state;
	struct json *j;
	const struct json *items;

	assert_string_equal(ids_as(f, &view_acme, "run list", NULL),
			    "6,5,4,2,1");
	assert_string_equal(ids_as(f, &view_acme, "run list --created-by "
				   "uid:0", NULL), "6,5,1");
	refused_as(f, &view_acme, "run list --tenant globex", "not_found",
		   "no tenant 'globex'");
	refused_as(f, &view_acme, "run list --env globex/prod", "not_found",
		   "no environment 'globex/prod'");
	refused_as(f, &view_acme, "run list --job globex/prod/j",
		   "not_found", "no job 'globex/prod/j'");
	/* pages: the other tenant's run is examined, never shown */
	set_scan_max(f, 1);
	assert_string_equal(ids_as(f, &view_acme, "run list --after-id 4",
				   NULL), "");
	set_scan_max(f, RUN_LIST_SCAN_MAX);
	for (int by = 0; by < 4; by++) {
		static const char *const lines[] = {
			"usage --by job", "usage --by user", "usage --by env",
			"usage --by day" };
		j = as(f, &view_acme, lines[by]);
		assert_true(json_get_bool(j, "ok"));
		items = json_get(j, "items");
		assert_true(items->n > 0);
		for (size_t i = 0; i < items->n; i++)
			assert_string_equal(
				json_get_str(items->items[i], "tenant"), "acme");
		json_free(j);
	}
	refused_as(f, &view_acme, "usage globex --by job", "not_found",
		   "no tenant 'globex'");
}

/* The serialized items of a usage report, into out. */
static void report(struct fx *f, const char *line, struct strbuf *out)
{
	struct json *j = admin(f, line);
	struct jw w;

	strbuf_reset(out);
	jw_init(&w, out);
	json_write(&w, NULL, json_get(j, "items"));
	json_write(&w, NULL, json_get(j, "total"));
	json_free(j);
}

static void test_usage_by_survives_restart(void **state)
{
	struct fx *f = *state;
	struct strbuf job = STRBUF_INIT, user = STRBUF_INIT, again = STRBUF_INIT;
	struct json *j = admin(f, "usage acme --by job --format json");
	const struct json *items = json_get(j, "items"), *row;

	/* run 1 failed (j), run 6 was cancelled (k) */
	assert_int_equal(items->n, 2);
	row = items->items[0];
	assert_string_equal(json_get_str(row, "job"), "acme/prod/j");
	assert_string_equal(json_get(row, "runs")->str, "1");
	assert_string_equal(json_get(row, "failed")->str, "1");
	assert_string_equal(json_get_str(items->items[1], "job"),
			    "acme/prod/k");
	assert_non_null(json_get_str(j, "print"));
	json_free(j);
	j = admin(f, "usage --by user");
	items = json_get(j, "items");
	assert_int_equal(items->n, 1); /* both ended runs are uid:0's */
	assert_string_equal(json_get_str(items->items[0], "user"), "uid:0");
	assert_string_equal(json_get(items->items[0], "runs")->str, "2");
	json_free(j);
	report(f, "usage --by job", &job);
	report(f, "usage --by user", &user);
	stop_core(f);
	state_release(&f->st);
	start_core(f);
	report(f, "usage --by job", &again);
	assert_string_equal(again.buf, job.buf);
	report(f, "usage --by user", &again);
	assert_string_equal(again.buf, user.buf);
	strbuf_release(&job);
	strbuf_release(&user);
	strbuf_release(&again);
}

/* Roll-ups by job and by creator go with their tenant: from memory at
 * once, and from the store (a restart finds none of them). */
static void test_usage_groups_go_with_tenant(void **state)
{
	static const uint8_t master[KEYRING_KEY_BYTES] = { 7, 1, 7 };
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	struct keyring *kr = keyring_new(master);
	char err[256];

	/* tenant delete destroys the tenant's data key: it needs one */
	store_set_keyring(f->store, kr);
	assert_int_equal(keyring_ensure(kr, "globex", 1, err, sizeof(err)), 0);
	admin_ok(f, "run cancel 3"); /* globex's run ends: its usage */
	admin_reply(f, "usage --by job", &out);
	assert_non_null(strstr(out.buf, "globex/prod/j"));
	admin_ok(f, "tenant delete globex --confirm");
	for (int pass = 0; pass < 2; pass++) {
		admin_reply(f, "usage --by job", &out);
		assert_null(strstr(out.buf, "globex"));
		assert_non_null(strstr(out.buf, "acme/prod/j"));
		admin_reply(f, "usage --by user", &out);
		assert_null(strstr(out.buf, "globex"));
		stop_core(f);
		state_release(&f->st);
		start_core(f);
	}
	stop_core(f);
	store_set_keyring(f->store, NULL);
	keyring_free(kr);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_filter, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_filters_combined_and_rows,
						setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_paging, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_tenant_isolation, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_usage_by_survives_restart,
						setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_usage_groups_go_with_tenant, setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
