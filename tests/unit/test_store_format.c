/* test_store_format.c - the store's format version: refused when newer,
 * upgraded when older, with what an upgrade rebuilds (usage roll-ups). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mp.h"
#include "policy.h"
#include "cost_records.h"
#include "records.h"
#include "store.h"
#include "strbuf.h"
#include "store_fixture.h"
#include "util.h"

/* Every file of the store in sub, with its bytes, in name order. */
static void snapshot(const char *sub, struct strbuf *out)
{
	char path[256];
	struct dirent **names;
	int n;

	snprintf(path, sizeof(path), "%s/%s", store_fx_dir, sub);
	n = scandir(path, &names, NULL, alphasort);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		char file[512], buf[4096];
		FILE *f;
		size_t got;
		snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
		strbuf_addf(out, "%s\n", names[i]->d_name);
		if (names[i]->d_type == DT_REG && (f = fopen(file, "rb"))) {
			while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
				strbuf_add(out, buf, got);
			fclose(f);
		}
		free(names[i]);
	}
	free(names);
}

/* Sets the meta key of the store open as st in dir/name, and removes the
 * FORMAT file: the store as an older (or newer) build would have left it. */
static void set_version(struct store *st, const char *name, uint32_t version)
{
	uint8_t v[4];
	char err[256], path[128];
	struct store_batch *b = store_batch_new();

	store_put_u32be(v, version);
	store_batch_put(b, st, CF_META, "format_version", 14, v, 4);
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	snprintf(path, sizeof(path), "%s/%s/%s", store_fx_dir, name, STORE_FORMAT_FILE);
	assert_int_equal(unlink(path), 0);
}

/* The FORMAT file of dir/name, or "" if there is none. */
static void format_file(const char *name, char *out, size_t len)
{
	char path[128], *text;
	snprintf(path, sizeof(path), "%s/%s/%s", store_fx_dir, name, STORE_FORMAT_FILE);
	text = read_file(path, 64, NULL);
	snprintf(out, len, "%s", text ? text : "");
	free(text);
}

static uint32_t get_version(struct store *st)
{
	char *v, err[256];
	size_t n;
	uint32_t version;

	assert_int_equal(store_get(st, CF_META, "format_version", 14, &v, &n,
				   err, sizeof(err)), 1);
	assert_int_equal(n, 4);
	version = store_get_u32be((uint8_t *)v);
	free(v);
	return version;
}

/* A new store gets the current version; a newer one is refused with both
 * versions named and not a byte written to it. */
static void test_format_version(void **s)
{
	struct store *st = store_fx_open("c");
	char path[128], err[256];
	struct strbuf before = STRBUF_INIT, after = STRBUF_INIT;
	(void)s;

	char file[64];

	assert_int_equal(get_version(st), STORE_FORMAT_VERSION);
	assert_int_equal(STORE_FORMAT_VERSION, 7);
	format_file("c", file, sizeof(file));
	assert_string_equal(file, "7\n");
	set_version(st, "c", 99);
	store_close(st);
	snapshot("c", &before);
	snprintf(path, sizeof(path), "%s/c", store_fx_dir);
	assert_null(store_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "format version 99"));
	assert_non_null(strstr(err, "up to 7"));
	assert_null(strchr(err, '\n'));
	snapshot("c", &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.buf, after.buf, before.len);
	/* the FORMAT file alone is enough to refuse (no RocksDB open) */
	snprintf(path, sizeof(path), "%s/c/%s", store_fx_dir, STORE_FORMAT_FILE);
	assert_int_equal(write_file_atomic(path, "98\n", 3, 0600), 0);
	snapshot("c", &before);
	snprintf(path, sizeof(path), "%s/c", store_fx_dir);
	assert_null(store_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "format version 98"));
	snapshot("c", &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.buf, after.buf, before.len);
	strbuf_release(&before);
	strbuf_release(&after);
}

/* A version-1 store is upgraded on open: its version becomes the current
 * one and stays so (the format-1 run reader is test_run_v1_record). */
static void test_format_upgrade(void **s)
{
	struct store *st = store_fx_open("h");
	char *v, err[256];
	size_t n;
	(void)s;

	set_version(st, "h", 1);
	store_fx_put(st, CF_TENANTS, "kept", "t");
	store_close(st);
	st = store_fx_open("h");
	assert_int_equal(get_version(st), STORE_FORMAT_VERSION);
	assert_int_equal(store_get(st, CF_TENANTS, "kept", 4, &v, &n, err,
				   sizeof(err)), 1);
	free(v);
	store_close(st);
	char file[64];
	format_file("h", file, sizeof(file));
	assert_string_equal(file, "7\n"); /* written by the upgrade */
	st = store_fx_open("h");
	assert_int_equal(get_version(st), STORE_FORMAT_VERSION);
	store_close(st);
}

/* A format-3 store has no usage roll-ups: loading it rebuilds them from
 * the run records, each run's usage on the day it ended; they are dirty,
 * to be written with the first commit, and not rebuilt again after. */
static void test_usage_rebuilt_on_upgrade(void **s)
{
	struct store *st = store_fx_open("u");
	struct store_batch *b = store_batch_new();
	struct sched_state ss;
	struct tenant t = { .name = "acme", .weight = 1 };
	struct env e = { .key = "acme/prod", .tenant = "acme", .name = "prod" };
	struct job j = { .key = "acme/prod/pi", .tenant = "acme",
			 .env = "acme/prod", .name = "pi", .max_attempts = 1 };
	struct run_detail d1 = { .vcpu_ms = 5, .gb_ms = 6, .cost = 700 };
	struct run_detail d2 = d1;
	struct run r = { .id = 1, .job = &j, .state = RUN_SUCCEEDED,
			 .attempt = 1, .exit_code = 0, .completions = 1,
			 .d = &d1 };
	struct run r2 = r;
	char err[256];
	(void)s;

	run_set_state_ms(&r, RUN_SUCCEEDED, 2 * 86400000LL + 5); /* day 2 */
	r2.id = 2;
	r2.state = RUN_FAILED;
	r2.d = &d2;
	d2.cost = 300;
	run_set_state_ms(&r2, RUN_FAILED, 3 * 86400000LL); /* day 3 */
	records_put_tenant(b, st, &t);
	records_put_env(b, st, &e);
	records_put_job(b, st, &j);
	records_put_run(b, st, &r);
	records_put_run(b, st, &r2);
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	set_version(st, "u", 3);
	store_close(st);

	st = store_fx_open("u");
	assert_int_equal(store_opened_format(st), 3);
	state_init(&ss);
	if (records_load(st, &ss, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(ss.usage.days.n, 2);
	/* per environment, job and creator ("": runs older than the
	 * record of who started them), each on days 2 and 3 */
	assert_int_equal(ss.usage.groups.n, 4);
	assert_int_equal(ss.usage.dirty.n, 6);
	assert_int_equal(usage_tenant_cost(&ss.usage, "acme", 2, 3), 700);
	assert_int_equal(usage_tenant_cost(&ss.usage, "acme", 3, 4), 300);
	assert_int_equal(usage_tenant_cost(&ss.usage, "acme", 0, 100), 1000);
	state_release(&ss);
	store_close(st);
	st = store_fx_open("u");
	assert_int_equal(store_opened_format(st), 7);
	store_close(st);
}

static int64_t group_cost(const struct usage *u, enum usage_kind kind,
			  const char *name)
{
	int64_t sum = 0;
	for (size_t i = 0; i < u->groups.n; i++) {
		const struct usage_day *d = u->groups.v[i];
		if (d->kind == kind && !strcmp(d->name, name))
			sum += d->cost;
	}
	return sum;
}

/* A format-5 store has the environments' days but not the roll-ups per
 * job and per creator: those are rebuilt from the runs it kept, the
 * environments' days stay as stored (they count runs retention removed),
 * and after the first commit both load back as they were. */
static void test_usage_groups_rebuilt_on_upgrade(void **s)
{
	struct store *st = store_fx_open("g");
	struct store_batch *b = store_batch_new();
	struct sched_state ss;
	struct tenant t = { .name = "acme", .weight = 1 };
	struct env e = { .key = "acme/prod", .tenant = "acme", .name = "prod" };
	struct job j = { .key = "acme/prod/pi", .tenant = "acme",
			 .env = "acme/prod", .name = "pi", .max_attempts = 1 };
	struct run_detail d1 = { .cost = 700 }, d2 = d1;
	struct run r = { .id = 1, .job = &j, .state = RUN_SUCCEEDED,
			 .attempt = 1, .completions = 1, .d = &d1 };
	struct run r2 = r;
	struct usage_day day = { .kind = USAGE_ENV, .tenant = "acme",
				 .env = "prod", .day = 2, .runs = 3,
				 .succeeded = 3, .cost = 1500 };
	char err[256];
	(void)s;

	run_set_state_ms(&r, RUN_SUCCEEDED, 2 * 86400000LL);
	r2.id = 2;
	r2.d = &d2;
	d2.cost = 300;
	run_set_state_ms(&r2, RUN_SUCCEEDED, 2 * 86400000LL + 7);
	records_put_tenant(b, st, &t);
	records_put_env(b, st, &e);
	records_put_job(b, st, &j);
	records_put_run_by(b, st, &r, "uid:1000");
	records_put_run_by(b, st, &r2, "uid:1001");
	records_put_usage_day(b, st, &day); /* 500 of a run removed since */
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	set_version(st, "g", 5);
	store_close(st);

	for (int pass = 0; pass < 2; pass++) {
		st = store_fx_open("g");
		assert_int_equal(store_opened_format(st), pass ? 7 : 5);
		state_init(&ss);
		if (records_load(st, &ss, err, sizeof(err)))
			fail_msg("%s", err);
		assert_int_equal(ss.usage.days.n, 1);
		assert_int_equal(usage_tenant_cost(&ss.usage, "acme", 0, 9),
				 1500);
		assert_int_equal(group_cost(&ss.usage, USAGE_JOB, "pi"), 1000);
		assert_int_equal(group_cost(&ss.usage, USAGE_USER, "uid:1000"),
				 700);
		assert_int_equal(group_cost(&ss.usage, USAGE_USER, "uid:1001"),
				 300);
		/* the groups are written with the first commit, once */
		assert_int_equal(ss.usage.dirty.n, pass ? 0 : 3);
		b = store_batch_new();
		for (size_t i = 0; i < ss.usage.dirty.n; i++)
			records_put_usage_day(b, st, ss.usage.dirty.v[i]);
		assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
		store_batch_free(b);
		state_release(&ss);
		store_close(st);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_version),
		cmocka_unit_test(test_format_upgrade),
		cmocka_unit_test(test_usage_rebuilt_on_upgrade),
		cmocka_unit_test(test_usage_groups_rebuilt_on_upgrade),
	};
	return cmocka_run_group_tests(tests, store_fx_setup, store_fx_teardown);
}
