/* test_audit.c - the audit log (audit.h, cmd_audit.c, common/auditlog.c)
 * through a real core: a record for each change and each refusal, none
 * for reads, no secret in any stored byte, a summary (not a record per
 * message) for forged agent messages, signed checkpoints, a chain that
 * verifies, and a stored record rewritten through the store API found by
 * `audit verify` at its seq. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditlog.h"
#include "config.h"
#include "core_fixture.h"
#include "json.h"
#include "store.h"
#include "strbuf.h"

static struct sched_config cfg; /* handed to the core by reconfigure */

static const struct access_peer view_acme = { .uid = 1002, .gid = 1002 },
				admin_u = { .uid = 1000, .gid = 1000 };

/* The records `audit list` shows root (caller frees). */
static struct json *records(struct fx *f)
{
	return admin(f, "audit list --limit 1000");
}

static size_t count(struct fx *f)
{
	struct json *j = records(f);
	size_t n = json_get(j, "items")->n;
	json_free(j);
	return n;
}

/* The newest record's detail member key (into buf). */
static void newest(struct fx *f, const char *field, const char *key,
		   char *buf, size_t len)
{
	struct json *j = records(f);
	const struct json *items = json_get(j, "items");
	const struct json *last = items->items[items->n - 1];
	const char *v = key ? json_get_str(json_get(last, "detail"), key)
			    : json_get_str(last, field);
	snprintf(buf, len, "%s", v ? v : "(none)");
	json_free(j);
}

/* Every stored byte of the audit log, concatenated. */
static int gather(const void *key, size_t klen, const void *val, size_t vlen,
		  void *ctx)
{
	(void)key;
	(void)klen;
	strbuf_add(ctx, val, vlen);
	return 0;
}

static bool stored_has(struct fx *f, const char *needle)
{
	struct strbuf all = STRBUF_INIT;
	bool found;

	assert_int_equal(store_scan(f->store, CF_AUDIT, NULL, 0, NULL, 0,
				    gather, &all), 0);
	found = all.len && memmem(all.buf, all.len, needle, strlen(needle));
	strbuf_release(&all);
	return found;
}

static int setup(void **state)
{
	struct fx *f;
	char err[256];

	fx_setup(state);
	f = *state;
	admin_ok(f, "tenant add globex");
	cfg = f->cfg;
	snprintf(cfg.role_admin, sizeof(cfg.role_admin), "uid:1000");
	snprintf(cfg.role_viewer, sizeof(cfg.role_viewer), "uid:1002@acme");
	assert_int_equal(config_resolve(&cfg, err, sizeof(err)), 0);
	core_reconfigure(f->core, &cfg);
	return 0;
}

static void test_changes_recorded_reads_not(void **state)
{
	struct fx *f = *state;
	char v[256];
	size_t n = count(f);

	admin_ok(f, "tenant set acme --weight 3");
	assert_int_equal(count(f), n + 1);
	newest(f, NULL, "command", v, sizeof(v));
	assert_string_equal(v, "tenant set");
	newest(f, NULL, "args", v, sizeof(v));
	assert_string_equal(v, "acme --weight=3");
	newest(f, NULL, "result", v, sizeof(v));
	assert_string_equal(v, "ok");
	newest(f, "tenant", NULL, v, sizeof(v));
	assert_string_equal(v, "acme");
	newest(f, "actor", NULL, v, sizeof(v));
	assert_string_equal(v, "uid:0");
	static const char *const reads[] = {
		"tenant list", "tenant show acme", "tenant events acme",
		"env list", "job show acme/prod/j", "agent list", "run list",
		"queue stats", "usage", "audit list", "audit verify",
		"audit key", "audit export", "help",
	};
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		admin_ok(f, reads[i]);
	assert_int_equal(count(f), n + 1);
	/* a change that fails is recorded with its error */
	struct strbuf out = STRBUF_INIT;
	admin_reply(f, "tenant set nosuch --weight 2", &out);
	strbuf_release(&out);
	newest(f, NULL, "result", v, sizeof(v));
	assert_string_equal(v, "not_found");
}

static void test_refusals_recorded(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	char v[256];
	size_t n = count(f);

	admin_reply_as(f, &view_acme, "run start acme/prod/j", &out);
	assert_non_null(strstr(out.buf, "forbidden"));
	assert_int_equal(count(f), n + 1);
	newest(f, NULL, "result", v, sizeof(v));
	assert_string_equal(v, "forbidden");
	newest(f, NULL, "role", v, sizeof(v));
	assert_string_equal(v, "viewer");
	newest(f, "actor", NULL, v, sizeof(v));
	assert_string_equal(v, "uid:1002");
	/* a read refused is recorded too */
	admin_reply_as(f, &view_acme, "audit export", &out);
	assert_non_null(strstr(out.buf, "forbidden"));
	newest(f, NULL, "command", v, sizeof(v));
	assert_string_equal(v, "audit export");
	assert_int_equal(count(f), n + 2);
	strbuf_release(&out);
}

static void test_no_secrets(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	struct json *tok = admin(f, "agent token acme/prod");
	char v[256];

	assert_false(stored_has(f, json_get_str(tok, "token")));
	newest(f, NULL, "command", v, sizeof(v));
	assert_string_equal(v, "agent token");
	json_free(tok);
	admin_reply(f, "job add acme/prod/k -- --conf spark.x.password=hunter2",
		    &out);
	assert_null(strstr(out.buf, "\"ok\":true"));
	admin_ok(f, "job add acme/prod/k2 --executors 2 -- --master yarn "
		    "customer-arg-7f3e.jar");
	newest(f, NULL, "args", v, sizeof(v));
	assert_string_equal(v, "acme/prod/k2 --executors=2 -- (3 words not "
			       "recorded)");
	/* a flag value that did not parse is not kept either */
	admin_reply(f, "tenant set acme --weight hunter3", &out);
	assert_false(stored_has(f, "hunter2"));
	assert_false(stored_has(f, "hunter3"));
	assert_false(stored_has(f, "customer-arg-7f3e"));
	assert_true(stored_has(f, "acme/prod/k2"));
	strbuf_release(&out);
}

static void test_enroll_and_forged_summary(void **state)
{
	struct fx *f = *state;
	struct json *j = records(f);
	const struct json *items = json_get(j, "items");
	struct strbuf msg = STRBUF_INIT, out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	bool enrolled = false;
	size_t n, forged = 0;
	char v[64];

	for (size_t i = 0; i < items->n; i++)
		enrolled |= !strcmp(json_get_str(items->items[i], "kind"),
				    "enroll") &&
			    !strcmp(json_get_str(items->items[i], "actor"),
				    f->agent);
	assert_true(enrolled);
	n = items->n;
	json_free(j);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 0);
	for (int i = 0; i < 20; i++) {
		struct event *ev;
		seal(f, "heartbeat", &sb, &msg);
		ev = agent_event(f, &msg);
		ev->auth = AUTH_FORGED; /* as the transport judges it */
		post_wait(f, ev, &out);
	}
	/* the first at once, the other 19 wait for the window's summary */
	j = records(f);
	items = json_get(j, "items");
	for (size_t i = n; i < items->n; i++)
		forged += !strcmp(json_get_str(items->items[i], "kind"),
				  "agent_refused");
	assert_int_equal(forged, 1);
	assert_int_equal(items->n, n + 1);
	json_free(j);
	newest(f, NULL, "forged", v, sizeof(v));
	assert_string_equal(v, "1");
	newest(f, "tenant", NULL, v, sizeof(v));
	assert_string_equal(v, "acme");
	/* senders no agent is known for share one summary, about no tenant */
	for (int i = 0; i < 3; i++) {
		struct event *ev;
		seal(f, "heartbeat", &sb, &msg);
		ev = agent_event(f, &msg);
		ev->auth = AUTH_MALFORMED;
		post_wait(f, ev, &out);
	}
	newest(f, "actor", NULL, v, sizeof(v));
	assert_string_equal(v, "-");
	newest(f, NULL, "malformed", v, sizeof(v));
	assert_string_equal(v, "1");
	newest(f, "tenant", NULL, v, sizeof(v));
	assert_string_equal(v, "");
	assert_int_equal(count(f), n + 2);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&msg);
	strbuf_release(&out);
}

/* audit verify's reply (caller frees); ok or not. */
static struct json *verify(struct fx *f)
{
	struct strbuf out = STRBUF_INIT;
	char err[128];
	struct json *j;

	admin_reply(f, "audit verify", &out);
	j = json_parse(out.buf, out.len, err, sizeof(err));
	assert_non_null(j);
	strbuf_release(&out);
	return j;
}

static void test_checkpoints_verify(void **state)
{
	struct fx *f = *state;
	struct json *j;
	char line[64];

	cfg.audit_checkpoint_records = 5;
	core_reconfigure(f->core, &cfg);
	for (int i = 0; i < 6; i++) {
		snprintf(line, sizeof(line), "tenant set acme --weight %d", i + 1);
		admin_ok(f, line);
	}
	j = verify(f);
	assert_true(json_get_bool(j, "ok"));
	assert_true(strtoull(json_get(j, "checkpoints")->str, NULL, 10) >= 1);
	assert_true(strtoull(json_get(j, "last_checkpoint")->str, NULL, 10) > 5);
	json_free(j);
	j = records(f);
	const struct json *items = json_get(j, "items");
	size_t ck = 0;
	for (size_t i = 0; i < items->n; i++)
		ck += !strcmp(json_get_str(items->items[i], "kind"),
			      AUDIT_CHECKPOINT);
	assert_true(ck >= 1);
	json_free(j);
	/* by time: a checkpoint audit_checkpoint_s after the last one, once
	 * there is a new record */
	cfg.audit_checkpoint_records = 1000;
	cfg.audit_checkpoint_s = 1;
	core_reconfigure(f->core, &cfg);
	admin_ok(f, "tenant set acme --weight 9");
	newest(f, "kind", NULL, line, sizeof(line));
	assert_string_equal(line, "admin");
	for (int i = 0; i < 100 && strcmp(line, AUDIT_CHECKPOINT); i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		newest(f, "kind", NULL, line, sizeof(line));
	}
	assert_string_equal(line, AUDIT_CHECKPOINT);
	j = verify(f);
	assert_true(json_get_bool(j, "ok"));
	json_free(j);
}

/* A command that appends two records in one turn (job delete: the
 * deletion, then the command): each chains to the one before it,
 * although the last record's hash is taken only after the replies. */
static void test_two_records_one_turn(void **state)
{
	struct fx *f = *state;
	struct json *j;
	size_t n;

	admin_ok(f, "job add acme/prod/gone -- app.jar");
	n = count(f);
	admin_ok(f, "job delete acme/prod/gone");
	assert_int_equal(count(f), n + 2);
	admin_ok(f, "tenant set acme --weight 4");
	j = verify(f);
	assert_true(json_get_bool(j, "ok"));
	json_free(j);
}

/* A budget action of the scheduler (here a soft warning) is recorded. */
static void test_budget_action(void **state)
{
	struct fx *f = *state;
	uint64_t run, epoch;
	char v[256] = "";

	admin_ok(f, "env set acme/prod --price-vcpu-hour 1000");
	admin_ok(f, "tenant set acme --monthly-budget 0.01 --budget-mode soft");
	lease_one(f, &run, &epoch); /* costs 0.28 USD a second and vCPU */
	for (int i = 0; i < 100 && strcmp(v, "budget"); i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		newest(f, "kind", NULL, v, sizeof(v));
	}
	assert_string_equal(v, "budget");
	newest(f, NULL, "action", v, sizeof(v));
	assert_string_equal(v, "soft_warning");
	newest(f, "tenant", NULL, v, sizeof(v));
	assert_string_equal(v, "acme");
	newest(f, "actor", NULL, v, sizeof(v));
	assert_string_equal(v, "scheduler");
}

/* A scoped viewer's list shows its tenant's records only. */
static void test_list_scoped(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	struct json *j;
	const struct json *items;
	char err[128];

	admin_ok(f, "tenant set globex --weight 2");
	admin_ok(f, "dispatch pause");
	admin_ok(f, "dispatch resume");
	admin_reply_as(f, &view_acme, "audit list --limit 1000", &out);
	j = json_parse(out.buf, out.len, err, sizeof(err));
	assert_true(json_get_bool(j, "ok"));
	items = json_get(j, "items");
	assert_true(items->n > 0);
	for (size_t i = 0; i < items->n; i++)
		assert_string_equal(json_get_str(items->items[i], "tenant"),
				    "acme");
	json_free(j);
	admin_reply_as(f, &view_acme, "audit list --tenant globex", &out);
	assert_non_null(strstr(out.buf, "not_found"));
	j = admin(f, "audit list --tenant globex --limit 1000");
	items = json_get(j, "items");
	assert_true(items->n >= 2);
	for (size_t i = 0; i < items->n; i++)
		assert_string_equal(json_get_str(items->items[i], "tenant"),
				    "globex");
	json_free(j);
	admin_reply_as(f, &admin_u, "audit list --since 2000-01-01 --limit 2",
		       &out);
	j = json_parse(out.buf, out.len, err, sizeof(err));
	assert_int_equal(json_get(j, "items")->n, 2);
	json_free(j);
	admin_reply(f, "audit list --since yesterday", &out);
	assert_non_null(strstr(out.buf, "\"invalid\""));
	strbuf_release(&out);
}

static void test_tampering_found(void **state)
{
	struct fx *f = *state;
	struct strbuf enc = STRBUF_INIT;
	struct store_batch *b;
	struct audit_rec r;
	struct json *j;
	uint8_t key[8];
	char *val = NULL, err[256];
	size_t vlen = 0;
	const char *msg;

	j = verify(f);
	assert_true(json_get_bool(j, "ok"));
	json_free(j);
	stop_core(f);
	store_put_u64be(key, 3);
	assert_int_equal(store_get(f->store, CF_AUDIT, key, 8, &val, &vlen, err,
				   sizeof(err)), 1);
	assert_int_equal(audit_rec_decode(val, vlen, &r, err, sizeof(err)), 0);
	snprintf(r.actor, sizeof(r.actor), "uid:4242");
	audit_rec_encode(&r, &enc);
	b = store_batch_new();
	store_batch_put(b, f->store, CF_AUDIT, key, 8, enc.buf, enc.len);
	assert_int_equal(store_write(f->store, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	free(val);
	strbuf_release(&enc);
	state_release(&f->st);
	start_core(f);
	j = verify(f);
	assert_false(json_get_bool(j, "ok"));
	msg = json_get_str(j, "message");
	assert_non_null(strstr(msg, "position 4 (seq 4)"));
	assert_non_null(strstr(msg, "(seq 3) was altered"));
	json_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_changes_recorded_reads_not,
						setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_refusals_recorded, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_secrets, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_enroll_and_forged_summary,
						setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_two_records_one_turn,
						setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_checkpoints_verify, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_budget_action, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_list_scoped, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_tampering_found, setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
