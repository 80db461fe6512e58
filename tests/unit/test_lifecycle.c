/* test_lifecycle.c - a tenant suspended and resumed, enrollment tokens
 * listed and revoked, and a job deleted, through a real core and a real
 * store: a suspended tenant starts nothing and has nothing dispatched, its
 * live run goes on, and everything survives a restart of the core; a
 * revoked token enrolls nobody; a deleted job is gone but its runs stay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_fixture.h"
#include "mp.h"

/* Asks for work with slots free: how many runs came. */
static size_t lease(struct fx *f)
{
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const msgpack_object *runs;
	size_t n;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kv_u64(&pk, "slots", 4);
	mp_kv_u64(&pk, "wait_ms", 0);
	call(f, "lease", &sb, &out, &u);
	runs = mp_get(&u.data, "runs");
	n = runs ? runs->via.array.size : 0;
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
	return n;
}

static void reply_is(struct fx *f, const char *line, const char *code,
		     const char *msg)
{
	struct strbuf out = STRBUF_INIT;
	char err[128];
	struct json *j;

	admin_reply(f, line, &out);
	j = json_parse(out.buf, out.len, err, sizeof(err));
	assert_non_null(j);
	if (json_get_bool(j, "ok") || strcmp(json_get_str(j, "error"), code) ||
	    (msg && strcmp(json_get_str(j, "message"), msg)))
		fail_msg("%s: %s", line, out.buf);
	json_free(j);
	strbuf_release(&out);
}

static const char *run_field(struct fx *f, uint64_t id, const char *key,
			     char *buf, size_t len)
{
	char line[64];
	struct json *j;

	snprintf(line, sizeof(line), "run show %llu", (unsigned long long)id);
	j = admin(f, line);
	snprintf(buf, len, "%s", json_get_str(json_get(j, "run"), key));
	json_free(j);
	return buf;
}

static void test_suspend_holds_starts_and_dispatch(void **state)
{
	struct fx *f = *state;
	uint64_t live, epoch, queued;
	char buf[256];
	struct json *j;

	lease_one(f, &live, &epoch); /* a run with the agent */
	j = admin(f, "run start acme/prod/j");
	queued = strtoull(json_get(j, "run")->str, NULL, 10);
	json_free(j);
	j = admin(f, "tenant suspend acme");
	assert_string_equal(json_get_str(j, "print"),
			    "tenant acme suspended: 1 queued runs held, no new "
			    "starts, 1 live runs go on");
	json_free(j);
	reply_is(f, "run start acme/prod/j", "suspended",
		 "tenant 'acme' is suspended: no new runs until 'tenant "
		 "resume acme'");
	/* the queued run waits, and says why */
	assert_int_equal(lease(f), 0);
	assert_string_equal(run_field(f, queued, "state", buf, sizeof(buf)),
			    "queued");
	assert_string_equal(run_field(f, queued, "waiting", buf, sizeof(buf)),
			    "tenant acme is suspended (spctl tenant resume "
			    "acme)");
	j = admin(f, "tenant show acme");
	assert_true(json_get_bool(json_get(j, "tenant"), "suspended"));
	assert_non_null(json_get(json_get(j, "tenant"), "suspended_since"));
	json_free(j);
	/* kept across a restart of the core (the record holds it) */
	stop_core(f);
	state_release(&f->st);
	start_core(f); /* loads the state from the store */
	assert_int_equal(lease(f), 0);
	j = admin(f, "tenant suspend acme");
	assert_non_null(strstr(json_get_str(j, "print"), "(it already was)"));
	json_free(j);
	/* resumed: the queued run goes to the agent at once */
	admin_ok(f, "tenant resume acme");
	assert_int_equal(lease(f), 1);
	j = admin(f, "tenant show acme");
	assert_false(json_get_bool(json_get(j, "tenant"), "suspended"));
	json_free(j);
	admin_ok(f, "run start acme/prod/j");
	reply_is(f, "tenant suspend nosuch", "not_found",
		 "no tenant 'nosuch'");
}

static void test_tokens_listed_and_revoked(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	msgpack_unpacked u;
	struct json *tok, *list;
	const struct json *items;
	char id[16], line[64], err[64];
	bool found = false;

	tok = admin(f, "agent token acme/prod --ttl 600");
	snprintf(id, sizeof(id), "%s", json_get_str(tok, "id"));
	assert_int_equal(strlen(id), 12);
	list = admin(f, "agent token list acme/prod");
	items = json_get(list, "items");
	for (size_t i = 0; i < items->n; i++) {
		const struct json *t = items->items[i];
		if (strcmp(json_get_str(t, "id"), id))
			continue;
		found = true;
		assert_string_equal(json_get_str(t, "state"), "unused");
		/* counted down from --ttl by the core's clock */
		long long ttl = strtoll(json_get(t, "ttl_s")->str, NULL, 10);
		assert_true(ttl > 0 && ttl <= 600);
	}
	assert_true(found);
	/* the fixture's own token was used */
	assert_string_equal(json_get_str(items->items[0], "state"), "used");
	json_free(list);
	/* no token ever shows in a list: only ids */
	{
		struct strbuf all = STRBUF_INIT;
		admin_reply(f, "agent token list", &all);
		assert_null(strstr(all.buf, json_get_str(tok, "token")));
		strbuf_release(&all);
	}
	snprintf(line, sizeof(line), "agent token revoke %.8s", id);
	admin_ok(f, line);
	list = admin(f, "agent token list");
	items = json_get(list, "items");
	assert_string_equal(json_get_str(items->items[items->n - 1], "state"),
			    "revoked");
	json_free(list);
	/* it enrolls nobody */
	enroll_with(f, json_get_str(tok, "token"), &out, &u);
	assert_false(reply_ok(&u.data));
	err[0] = '\0';
	mp_get_str(&u.data, "error", err, sizeof(err));
	assert_string_equal(err, "token_revoked");
	msgpack_unpacked_destroy(&u);
	strbuf_release(&out);
	json_free(tok);
	/* bad ids, a used token */
	reply_is(f, "agent token revoke xyz", "invalid", NULL);
	reply_is(f, "agent token revoke 00000000", "not_found",
		 "no token '00000000'");
	list = admin(f, "agent token list");
	snprintf(line, sizeof(line), "agent token revoke %s",
		 json_get_str(json_get(list, "items")->items[0], "id"));
	json_free(list);
	reply_is(f, line, "invalid", NULL);
}

/* job delete: refused while a run is live; then the definition is gone
 * (not listed, not shown, nothing starts), the runs stay, a job add of the
 * key revives it; all of it across a restart. */
static void test_job_delete(void **state)
{
	struct fx *f = *state;
	uint64_t run, epoch;
	char line[64], buf[64];
	struct json *j;

	lease_one(f, &run, &epoch);
	reply_is(f, "job delete acme/prod/j", "busy",
		 "job acme/prod/j has 1 runs not ended: cancel them (run "
		 "cancel) or let them end first");
	snprintf(line, sizeof(line), "run cancel %llu",
		 (unsigned long long)run);
	admin_ok(f, line);
	/* a cancel of a live run waits for its agent: still not ended */
	reply_is(f, "job delete acme/prod/j", "busy", NULL);
	admin_ok(f, "job add acme/prod/k -- app.jar");
	admin_ok(f, "run start acme/prod/k");
	admin_ok(f, "dispatch pause");
	j = admin(f, "run start acme/prod/k");
	snprintf(line, sizeof(line), "run cancel %s", json_get(j, "run")->str);
	json_free(j);
	reply_is(f, "job delete acme/prod/k", "busy", NULL);
	admin_ok(f, line); /* a queued run: cancelled at once */
	/* the first run of k is still queued behind the pause */
	j = admin(f, "run list --state queued");
	for (size_t i = 0; i < json_get(j, "items")->n; i++) {
		const struct json *it = json_get(j, "items")->items[i];
		if (!strcmp(json_get_str(it, "job"), "acme/prod/k")) {
			snprintf(line, sizeof(line), "run cancel %s",
				 json_get(it, "id")->str);
			admin_ok(f, line);
		}
	}
	json_free(j);
	j = admin(f, "job delete acme/prod/k");
	assert_string_equal(json_get_str(j, "print"),
			    "deleted job acme/prod/k (its past runs are kept)");
	json_free(j);
	reply_is(f, "job show acme/prod/k", "not_found",
		 "no job 'acme/prod/k'");
	/* the audit log has the deletion */
	{
		struct strbuf out = STRBUF_INIT;
		admin_reply(f, "audit list --tenant acme", &out);
		assert_non_null(strstr(out.buf, "\"kind\":\"delete\""));
		assert_non_null(strstr(out.buf, "acme/prod/k"));
		strbuf_release(&out);
	}
	reply_is(f, "run start acme/prod/k", "not_found",
		 "no job 'acme/prod/k'");
	reply_is(f, "job delete acme/prod/k", "not_found", NULL);
	j = admin(f, "job list");
	for (size_t i = 0; i < json_get(j, "items")->n; i++)
		assert_string_not_equal(
			json_get_str(json_get(j, "items")->items[i], "job"),
			"acme/prod/k");
	json_free(j);
	/* its runs stay */
	j = admin(f, "run list");
	snprintf(buf, sizeof(buf), "%zu", json_get(j, "items")->n);
	json_free(j);
	stop_core(f);
	state_release(&f->st);
	start_core(f);
	reply_is(f, "job show acme/prod/k", "not_found", NULL);
	j = admin(f, "run list");
	snprintf(line, sizeof(line), "%zu", json_get(j, "items")->n);
	assert_string_equal(line, buf);
	json_free(j);
	/* defined again */
	admin_ok(f, "job add acme/prod/k --timeout 60 -- other.jar");
	j = admin(f, "job show acme/prod/k");
	assert_string_equal(json_get(json_get(j, "job"), "timeout_s")->str,
			    "60");
	json_free(j);
	admin_ok(f, "dispatch resume");
	admin_ok(f, "run start acme/prod/k");
}

/* env delete: refused while it has runs, jobs or agents, each named;
 * then gone for lists and for new jobs and tokens; env add revives it. */
static void test_env_delete(void **state)
{
	struct fx *f = *state;
	struct json *j;
	char line[96];

	admin_ok(f, "env add acme/dev");
	admin_ok(f, "job add acme/dev/x -- app.jar");
	j = admin(f, "run start acme/dev/x");
	snprintf(line, sizeof(line), "run cancel %s", json_get(j, "run")->str);
	json_free(j);
	reply_is(f, "env delete acme/dev", "busy",
		 "environment acme/dev has 1 queued and 0 live runs: cancel "
		 "them or let them end first");
	admin_ok(f, line);
	reply_is(f, "env delete acme/dev", "busy",
		 "environment acme/dev has 1 jobs: delete them first (job "
		 "delete)");
	admin_ok(f, "job delete acme/dev/x");
	j = admin(f, "env delete acme/dev");
	assert_string_equal(json_get_str(j, "print"),
			    "deleted environment acme/dev (its past runs are "
			    "kept)");
	json_free(j);
	reply_is(f, "env show acme/dev", "not_found",
		 "no environment 'acme/dev'");
	reply_is(f, "agent token acme/dev", "not_found",
		 "no environment 'acme/dev'");
	reply_is(f, "job add acme/dev/y -- app.jar", "not_found",
		 "no environment 'acme/dev'");
	j = admin(f, "env list");
	assert_int_equal(json_get(j, "items")->n, 1); /* acme/prod */
	json_free(j);
	/* the agents of an environment are revoked first */
	admin_ok(f, "job delete acme/prod/j");
	reply_is(f, "env delete acme/prod", "busy",
		 "environment acme/prod has 1 agents not revoked: revoke them "
		 "first (agent revoke)");
	/* kept across a restart; an env add of the key defines it again */
	stop_core(f);
	state_release(&f->st);
	start_core(f);
	reply_is(f, "env show acme/dev", "not_found", NULL);
	/* BYOC-Lite is EMR on EKS only: its backend unless told, and no
	 * other taken, at env add or env set */
	reply_is(f, "env add acme/dev --mode byoc_lite --backend livy",
		 "invalid", "--backend: a byoc_lite environment runs on "
		 "emr-eks only (its agent holds only the BYOC-Lite role's "
		 "permissions: docs/iam.md), not 'livy'");
	reply_is(f, "env show acme/dev", "not_found", NULL);
	admin_ok(f, "env add acme/dev --mode byoc_lite");
	j = admin(f, "env show acme/dev");
	assert_string_equal(json_get_str(json_get(j, "environment"), "state"),
			    "pending");
	assert_string_equal(json_get_str(json_get(j, "environment"), "backend"),
			    "emr-eks");
	json_free(j);
	reply_is(f, "env set acme/dev --backend spark-submit", "invalid",
		 "--backend: a byoc_lite environment runs on emr-eks only (its "
		 "agent holds only the BYOC-Lite role's permissions: "
		 "docs/iam.md), not 'spark-submit'");
	admin_ok(f, "job add acme/dev/x -- app.jar");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_suspend_holds_starts_and_dispatch, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_tokens_listed_and_revoked,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_job_delete, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_env_delete, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
