/* test_webhook.c - webhook signatures, secrets, filters, URLs, the retry
 * schedule and the stored records (webhook.h, webhook_rec.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_fixture.h"
#include "model.h"
#include "mp.h"
#include "store.h"
#include "webhook.h"
#include "webhook_rec.h"

/* The Standard Webhooks specification's published test vector (its
 * README and every reference library's tests use it). */
static void test_sign_vector(void **s)
{
	const char *body = "{\"test\": 2432232314}";
	char sig[WEBHOOK_SIG_LEN];
	(void)s;
	assert_int_equal(webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				      "msg_p5jXN8AQM9LWM0D4loKWxJek",
				      1614265330, body, strlen(body), sig),
			 0);
	assert_string_equal(sig,
			    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* the prefix is optional; the key is the decoded part */
	assert_int_equal(webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				      "msg_p5jXN8AQM9LWM0D4loKWxJek",
				      1614265330, body, strlen(body), sig),
			 0);
	assert_string_equal(sig,
			    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* another timestamp, another signature */
	assert_int_equal(webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				      "msg_p5jXN8AQM9LWM0D4loKWxJek",
				      1614265331, body, strlen(body), sig),
			 0);
	assert_string_not_equal(
		sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* a secret that is not base64 signs nothing */
	assert_int_equal(webhook_sign("whsec_not base64!", "m", 1, "x", 1, sig),
			 -1);
	assert_int_equal(webhook_sign("whsec_", "m", 1, "x", 1, sig), -1);
}

/* Computed with: printf 'msg_1.1700000000.{}' | openssl dgst -sha256
 *   -mac HMAC -macopt hexkey:$(printf 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3'
 *   | base64 -d | xxd -p) -binary | base64 */
static void test_sign_openssl(void **s)
{
	char sig[WEBHOOK_SIG_LEN];
	(void)s;
	assert_int_equal(webhook_sign("whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3",
				      "msg_1", 1700000000, "{}", 2, sig),
			 0);
	assert_string_equal(sig, "v1,DjijpYnPcWcWSiPdvC93sCoKwGNWcH97A32JApk39OU=");
}

static void test_secret(void **s)
{
	char a[WEBHOOK_SECRET_LEN], b[WEBHOOK_SECRET_LEN], sig[WEBHOOK_SIG_LEN];
	char id[WEBHOOK_ID_LEN];
	(void)s;
	assert_int_equal(webhook_secret_new(a), 0);
	assert_int_equal(webhook_secret_new(b), 0);
	assert_int_equal(strncmp(a, "whsec_", 6), 0);
	/* 32 random bytes: 44 base64 characters */
	assert_int_equal(strlen(a), 6 + 44);
	assert_string_not_equal(a, b);
	assert_int_equal(webhook_sign(a, "m", 1, "x", 1, sig), 0);
	assert_int_equal(webhook_id_new(id), 0);
	assert_int_equal(strlen(id), 19);
	assert_int_equal(strncmp(id, "wh_", 3), 0);
}

static void test_filter(void **s)
{
	(void)s;
	assert_true(webhook_filter_match("run.*,budget.*", "run.failed"));
	assert_true(webhook_filter_match("run.*,budget.*", "budget.guard"));
	assert_false(webhook_filter_match("run.*,budget.*", "webhook.test"));
	assert_true(webhook_filter_match("run.failed", "run.failed"));
	assert_false(webhook_filter_match("run.failed", "run.failedx"));
	assert_false(webhook_filter_match("run.failed", "run.fail"));
	assert_false(webhook_filter_match("run.*", "run."));
	assert_false(webhook_filter_match("run.*", "runx.failed"));
	assert_false(webhook_filter_match("run.*", "run"));
	assert_true(webhook_filter_match("*", "webhook.test"));
	assert_true(webhook_filter_match("a,run.succeeded", "run.succeeded"));
	assert_false(webhook_filter_match("", "run.failed"));
}

static void test_filter_check(void **s)
{
	char err[256];
	(void)s;
	assert_int_equal(webhook_filter_check("run.*,budget.*", err,
					      sizeof(err)), 0);
	assert_int_equal(webhook_filter_check("run.failed", err, sizeof(err)),
			 0);
	assert_int_equal(webhook_filter_check("*", err, sizeof(err)), 0);
	assert_int_equal(webhook_filter_check("", err, sizeof(err)), -1);
	assert_int_equal(webhook_filter_check("run.*,", err, sizeof(err)), -1);
	assert_int_equal(webhook_filter_check(",run.*", err, sizeof(err)), -1);
	assert_int_equal(webhook_filter_check("RUN", err, sizeof(err)), -1);
	assert_int_equal(webhook_filter_check("run*", err, sizeof(err)), -1);
	assert_int_equal(webhook_filter_check("run.*.x", err, sizeof(err)),
			 -1);
	assert_int_equal(webhook_filter_check("run failed", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "--events"));
}

static void test_url(void **s)
{
	struct webhook_url u;
	char err[256];
	(void)s;
	assert_int_equal(webhook_url_parse("https://hooks.example.com/a?b=1",
					   &u, err, sizeof(err)), 0);
	assert_true(u.https);
	assert_string_equal(u.host, "hooks.example.com");
	assert_string_equal(u.port, "");
	assert_int_equal(webhook_url_parse("http://127.0.0.1:8080/x", &u, err,
					   sizeof(err)), 0);
	assert_false(u.https);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.port, "8080");
	assert_int_equal(webhook_url_parse("http://[::1]:9/x", &u, err,
					   sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "9");
	assert_int_equal(webhook_url_parse("http://h", &u, err, sizeof(err)),
			 0);
	assert_string_equal(u.host, "h");

	assert_int_equal(webhook_url_parse("ftp://x", &u, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "only http and https are allowed");
	assert_int_equal(webhook_url_parse("HTTP://x", &u, err, sizeof(err)),
			 -1);
	assert_int_equal(webhook_url_parse("x", &u, err, sizeof(err)), -1);
	assert_int_equal(webhook_url_parse("http://", &u, err, sizeof(err)),
			 -1);
	assert_int_equal(webhook_url_parse("http:///x", &u, err, sizeof(err)),
			 -1);
	assert_int_equal(webhook_url_parse("http://h:0/", &u, err, sizeof(err)),
			 -1);
	assert_int_equal(webhook_url_parse("http://h:65536/", &u, err,
					   sizeof(err)), -1);
	assert_int_equal(webhook_url_parse("http://h:/", &u, err, sizeof(err)),
			 -1);
	assert_int_equal(webhook_url_parse("http://h:x/", &u, err, sizeof(err)),
			 -1);
	assert_int_equal(webhook_url_parse("http://[::1/", &u, err,
					   sizeof(err)), -1);
	assert_int_equal(webhook_url_parse("http://u:p@h/", &u, err,
					   sizeof(err)), -1);
	assert_non_null(strstr(err, "credentials"));
	assert_int_equal(webhook_url_parse("http://h/a b", &u, err,
					   sizeof(err)), -1);
	assert_int_equal(webhook_url_parse("http://h/\n", &u, err,
					   sizeof(err)), -1);
}

/* base 1 s, cap 60 s: 1, 2, 4, ... 32, 60, 60 s, each with "equal
 * jitter": in [d/2, d). */
static void test_backoff(void **s)
{
	static const int64_t want[] = { 1000,  2000,  4000,  8000, 16000,
					32000, 60000, 60000, 60000 };
	(void)s;
	for (uint32_t n = 1; n <= 9; n++) {
		int64_t d = want[n - 1];
		assert_int_equal(webhook_backoff_ms(1000, 60000, n, 0), d / 2);
		assert_true(webhook_backoff_ms(1000, 60000, n, UINT32_MAX) < d);
		assert_true(webhook_backoff_ms(1000, 60000, n, UINT32_MAX) >=
			    d - 1);
		assert_int_equal(webhook_backoff_ms(1000, 60000, n,
						    1U << 31),
				 d / 2 + d / 4);
	}
	/* no overflow far out */
	assert_true(webhook_backoff_ms(1000, 86400000, 4000000000U, 7) <=
		    86400000);
}

static void test_run_event(void **s)
{
	struct run r;
	(void)s;
	memset(&r, 0, sizeof(r));
	r.state = RUN_SUCCEEDED;
	assert_string_equal(webhook_run_event(&r), "run.succeeded");
	r.state = RUN_FAILED;
	assert_string_equal(webhook_run_event(&r), "run.failed");
	r.state = RUN_TIMED_OUT;
	assert_string_equal(webhook_run_event(&r), "run.failed");
	r.state = RUN_CANCELLED;
	assert_string_equal(webhook_run_event(&r), "run.cancelled");
	r.state = RUN_RUNNING;
	assert_null(webhook_run_event(&r));
}

/* A delivery record as webhook_rec_put_msg packs it. */
static void pack_msg(msgpack_sbuffer *sb, uint64_t v, const char *body)
{
	msgpack_packer pk;
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 10);
	mp_kv_u64(&pk, "v", v);
	mp_kv_str(&pk, "hook", "wh_0123456789abcdef");
	mp_kv_str(&pk, "msg_id", "msg_0000000000000007");
	mp_kv_str(&pk, "type", "run.failed");
	mp_kv_i64(&pk, "created_ms", 1700000000000);
	mp_kv_i64(&pk, "next_ms", 1700000001000);
	mp_kv_u64(&pk, "attempts", 3);
	mp_kv_u64(&pk, "state", 1);
	mp_kv_str(&pk, "last_error", "HTTP status 500");
	mp_kv_str(&pk, "body", body);
}

static void test_records(void **s)
{
	msgpack_sbuffer sb;
	struct webhook_msg m;
	uint8_t key[8];
	char err[128];
	(void)s;
	store_put_u64be(key, 7);
	pack_msg(&sb, 1, "{\"type\":\"run.failed\"}");
	assert_int_equal(webhook_rec_decode_msg(key, 8, sb.data, sb.size, &m,
						err, sizeof(err)), 0);
	assert_int_equal(m.seq, 7);
	assert_string_equal(m.hook, "wh_0123456789abcdef");
	assert_string_equal(m.msg_id, "msg_0000000000000007");
	assert_int_equal(m.attempts, 3);
	assert_int_equal(m.state, WH_DEAD);
	assert_int_equal(m.next_ms, 1700000001000);
	assert_string_equal(m.body, "{\"type\":\"run.failed\"}");
	assert_int_equal(m.body_len, strlen(m.body));
	webhook_msg_release(&m);
	/* a short key, a cut value, another record version: refused */
	assert_int_equal(webhook_rec_decode_msg(key, 7, sb.data, sb.size, &m,
						err, sizeof(err)), -1);
	assert_int_equal(webhook_rec_decode_msg(key, 8, sb.data, sb.size - 3,
						&m, err, sizeof(err)), -1);
	msgpack_sbuffer_destroy(&sb);
	pack_msg(&sb, 2, "{}");
	assert_int_equal(webhook_rec_decode_msg(key, 8, sb.data, sb.size, &m,
						err, sizeof(err)), -1);
	assert_string_equal(err, "a webhook delivery record is damaged");
	msgpack_sbuffer_destroy(&sb);
}

static void test_hook_record(void **s)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct webhook_hook h;
	char err[128];
	(void)s;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	mp_kv_str(&pk, "id", "wh_1");
	mp_kv_str(&pk, "tenant", "acme");
	mp_kv_str(&pk, "url", "http://h/");
	mp_kv_str(&pk, "secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	mp_kv_str(&pk, "events", "run.*");
	mp_kv_u64(&pk, "delivered", 5);
	assert_int_equal(webhook_rec_decode_hook("wh_1", 4, sb.data, sb.size,
						 &h, err, sizeof(err)), 0);
	assert_string_equal(h.tenant, "acme");
	assert_int_equal(h.delivered, 5);
	assert_int_equal(h.dead, 0); /* absent: zero */
	/* the key must be the record's id */
	assert_int_equal(webhook_rec_decode_hook("wh_2", 4, sb.data, sb.size,
						 &h, err, sizeof(err)), -1);
	assert_string_equal(h.secret, ""); /* nothing left behind */
	msgpack_sbuffer_destroy(&sb);
}

struct scan_ctx {
	int n;
	struct webhook_msg m; /* the last one */
};

static int scan_msg(const void *key, size_t klen, const void *val,
		    size_t vlen, void *ctx)
{
	struct scan_ctx *sc = ctx;
	char err[128];

	webhook_msg_release(&sc->m);
	assert_int_equal(webhook_rec_decode_msg(key, klen, val, vlen, &sc->m,
						err, sizeof(err)), 0);
	sc->n++;
	return 0;
}

/* A run's end and its delivery commit together: once the agent's
 * completion is answered (after the commit), the delivery is in the
 * store, with the run's id, without the job's arguments; after a restart
 * it is still pending under the same webhook-id. Port 1 refuses
 * connections: every attempt fails, none is lost. */
static void test_outbox_commits_with_run_end(void **state)
{
	struct fx *f = *state;
	struct scan_ctx sc;
	struct json *j;
	char hook[WEBHOOK_ID_LEN], want[64], line[128];
	uint64_t run, epoch;

	memset(&sc, 0, sizeof(sc));
	j = admin(f, "webhook add acme http://127.0.0.1:1/x");
	snprintf(hook, sizeof(hook), "%s", json_get_str(j, "id"));
	assert_int_equal(strncmp(json_get_str(j, "secret"), "whsec_", 6), 0);
	json_free(j);
	lease_one(f, &run, &epoch);
	assert_int_equal(store_scan(f->store, CF_WHOUTBOX, NULL, 0, NULL, 0,
				    scan_msg, &sc), 0);
	assert_int_equal(sc.n, 0); /* a lease is no event */
	complete_one(f, run, epoch, "succeeded", 0);
	assert_int_equal(store_scan(f->store, CF_WHOUTBOX, NULL, 0, NULL, 0,
				    scan_msg, &sc), 0);
	assert_int_equal(sc.n, 1);
	assert_string_equal(sc.m.type, "run.succeeded");
	assert_string_equal(sc.m.hook, hook);
	snprintf(want, sizeof(want), "\"run_id\":%llu", (unsigned long long)run);
	assert_non_null(strstr(sc.m.body, want));
	assert_non_null(strstr(sc.m.body, "\"tenant\":\"acme\""));
	assert_null(strstr(sc.m.body, "argv"));
	stop_core(f);
	state_release(&f->st);
	start_core(f);
	snprintf(line, sizeof(line), "webhook show %s", hook);
	j = admin(f, line);
	{
		const struct json *d = json_get(j, "deliveries");
		assert_non_null(d);
		assert_int_equal(d->n, 1);
		assert_string_equal(json_get_str(d->items[0], "webhook_id"),
				    sc.m.msg_id);
		assert_string_equal(json_get_str(d->items[0], "state"),
				    "pending");
	}
	json_free(j);
	webhook_msg_release(&sc.m);
}

static int outbox_count(struct fx *f, struct scan_ctx *sc)
{
	webhook_msg_release(&sc->m);
	memset(sc, 0, sizeof(*sc));
	assert_int_equal(store_scan(f->store, CF_WHOUTBOX, NULL, 0, NULL, 0,
				    scan_msg, sc), 0);
	return sc->n;
}

/* A failed attempt that is retried is no event; the run's end for good
 * is. A cost event of the tenant is one too (budget.KIND), and the
 * filter keeps what the hook did not ask for out. */
static void test_events_retry_and_budget(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	struct scan_ctx sc;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const msgpack_object *runs;
	uint64_t run, epoch;

	memset(&sc, 0, sizeof(sc));
	/* a short backoff: the retry is leased well within the long poll */
	stop_core(f);
	state_release(&f->st);
	f->cfg.retry_base_ms = 50;
	start_core(f);
	admin_ok(f, "webhook add acme http://127.0.0.1:1/r "
		    "--events run.failed,budget.*");
	admin_ok(f, "job add acme/prod/r --max-attempts 2 -- app.jar");
	for (int attempt = 1; attempt <= 2; attempt++) {
		if (attempt == 1)
			admin_ok(f, "run start acme/prod/r");
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 2);
		mp_kv_u64(&pk, "slots", 1);
		mp_kv_u64(&pk, "wait_ms", 5000); /* past the retry backoff */
		call(f, "lease", &sb, &out, &u);
		runs = mp_get(&u.data, "runs");
		assert_non_null(runs);
		assert_int_equal(runs->via.array.size, 1);
		assert_int_equal(mp_get_u64(runs->via.array.ptr, "run", &run),
				 0);
		assert_int_equal(mp_get_u64(runs->via.array.ptr, "epoch",
					    &epoch), 0);
		msgpack_unpacked_destroy(&u);
		msgpack_sbuffer_clear(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 4);
		mp_kv_u64(&pk, "run", run);
		mp_kv_u64(&pk, "epoch", epoch);
		mp_kv_str(&pk, "result", "failed");
		mp_kv_str(&pk, "reason", "exit 1");
		call(f, "complete", &sb, &out, &u);
		assert_true(reply_ok(&u.data));
		msgpack_unpacked_destroy(&u);
		msgpack_sbuffer_destroy(&sb);
		/* the first attempt is retried: nothing; the second ends it */
		assert_int_equal(outbox_count(f, &sc), attempt - 1);
	}
	assert_string_equal(sc.m.type, "run.failed");
	assert_non_null(strstr(sc.m.body, "\"attempt\":2"));
	admin_ok(f, "tenant set acme --monthly-budget 100");
	assert_int_equal(outbox_count(f, &sc), 2);
	assert_string_equal(sc.m.type, "budget.budget_set");
	assert_non_null(strstr(sc.m.body, "\"kind\":\"budget_set\""));
	/* run.succeeded is not asked for */
	lease_one(f, &run, &epoch);
	complete_one(f, run, epoch, "succeeded", 0);
	assert_int_equal(outbox_count(f, &sc), 2);
	webhook_msg_release(&sc.m);
	strbuf_release(&out);
}

/* Refusals leave nothing behind; a hook's id names its tenant. */
static void test_commands_refuse(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;

	admin_reply(f, "webhook add acme ftp://x", &out);
	assert_non_null(strstr(out.buf, "invalid: webhook URL 'ftp://x': "
					"only http and https are allowed"));
	admin_reply(f, "webhook add nosuch http://127.0.0.1:1/", &out);
	assert_non_null(strstr(out.buf, "no tenant 'nosuch'"));
	admin_reply(f, "webhook add acme http://127.0.0.1:1/ --events RUN",
		    &out);
	assert_non_null(strstr(out.buf, "--events"));
	admin_reply(f, "webhook test wh_0", &out);
	assert_non_null(strstr(out.buf, "no webhook 'wh_0'"));
	admin_reply(f, "webhook list", &out);
	assert_non_null(strstr(out.buf, "\"items\":[]"));
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_vector),
		cmocka_unit_test(test_sign_openssl),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_filter_check),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_run_event),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_hook_record),
		cmocka_unit_test_setup_teardown(
			test_outbox_commits_with_run_end, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_commands_refuse, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_events_retry_and_budget,
						fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
