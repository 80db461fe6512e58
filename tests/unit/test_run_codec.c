/* test_run_codec.c - the run record's two decoders (scheduler/run_codec.c):
 * the fast path that reads a common record straight from its bytes and
 * the general one through msgpack_unpack must accept the same records,
 * with the same values, and refuse the same; and a record's summary
 * (run_summary_read, what a report reads of a run kept in the store)
 * must be what they read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "run_codec.h"
#include "util.h"

struct fx {
	struct sched_state st;
	struct job *j;
	msgpack_zone zone;
};

static int setup(void **s)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	state_init(&f->st);
	f->j = xcalloc(1, sizeof(*f->j));
	snprintf(f->j->key, sizeof(f->j->key), "acme/prod/pi");
	snprintf(f->j->tenant, sizeof(f->j->tenant), "acme");
	snprintf(f->j->env, sizeof(f->j->env), "acme/prod");
	snprintf(f->j->name, sizeof(f->j->name), "pi");
	f->j->max_attempts = 3;
	state_add_job(&f->st, f->j);
	msgpack_zone_init(&f->zone, 4096);
	*s = f;
	return 0;
}

static int teardown(void **s)
{
	struct fx *f = *s;

	msgpack_zone_destroy(&f->zone);
	state_release(&f->st);
	free(f);
	return 0;
}

/* The summary of a record that decodes to run r: r's figures, its
 * failure class cut to the summary's buffer. */
static void check_summary(const void *buf, size_t len, const struct run *r)
{
	const char *fc = str_or_empty(run_detail(r)->failure_class);
	size_t n = strlen(fc);
	struct run_summary s;

	if (n >= sizeof(s.failure_class))
		n = sizeof(s.failure_class) - 1;
	assert_int_equal(run_summary_read(buf, len, &s), 0);
	assert_int_equal(s.id, r->id);
	assert_string_equal(s.job, r->job->key);
	assert_int_equal(s.state, r->state);
	assert_int_equal(s.attempt, r->attempt);
	assert_int_equal(s.log_lines, r->log_lines);
	assert_int_equal(s.created_ms, r->created_ms);
	assert_int_equal(strlen(s.failure_class), n);
	assert_memory_equal(s.failure_class, fc, n);
}

/* Decodes buf both ways: both refuse it (-1), or both accept it with the
 * same record once encoded again (0; that encoding in *out if not NULL). */
static int decode_both(struct fx *f, const void *buf, size_t len,
		       msgpack_sbuffer *out)
{
	struct run a, b;
	msgpack_sbuffer ea, eb;
	int ra, rb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ra = run_decode(buf, len, &f->st, &f->zone, &a);
	rb = run_decode_general(buf, len, &f->st, NULL, NULL, &f->zone, &b);
	assert_int_equal(ra, rb);
	if (ra)
		return -1;
	check_summary(buf, len, &a);
	msgpack_sbuffer_init(&ea);
	msgpack_sbuffer_init(&eb);
	run_encode_sealed(&a, state_creator_name(&f->st, a.creator), NULL,
			  &ea);
	run_encode_sealed(&b, state_creator_name(&f->st, b.creator), NULL,
			  &eb);
	assert_int_equal(ea.size, eb.size);
	assert_memory_equal(ea.data, eb.data, ea.size);
	assert_int_equal(a.d == NULL, b.d == NULL);
	if (out)
		msgpack_sbuffer_write(out, ea.data, ea.size);
	msgpack_sbuffer_destroy(&ea);
	msgpack_sbuffer_destroy(&eb);
	run_clear(&a);
	run_clear(&b);
	return 0;
}

/* Every prefix, and every byte replaced by a few telling values (nil,
 * a bin, a map, a signed int, a str8, the largest fixint and negative
 * fixint): each decoded both ways (decode_both asserts the agreement). */
static void sweep(struct fx *f, const char *buf, size_t len)
{
	static const uint8_t vals[] = { 0x00, 0x7f, 0xc0, 0xc3, 0xc4, 0x81,
					0xd0, 0xd3, 0xd9, 0xcf, 0xff, 0xa1 };
	char *m = xmalloc(len);

	for (size_t n = 0; n < len; n++)
		assert_int_equal(decode_both(f, buf, n, NULL), -1);
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(vals); k++) {
			memcpy(m, buf, len);
			m[i] = (char)vals[k];
			decode_both(f, m, len, NULL);
		}
	}
	free(m);
}

/* The job key read from the record's first elements alone: want's, and
 * nothing from any shorter prefix of the record that cuts the key. */
static void check_peek(const char *rec, size_t len, const char *want)
{
	char job[JOB_KEY_LEN], small[8];

	assert_int_equal(run_peek_job(rec, len, job, sizeof(job)), 0);
	assert_string_equal(job, want);
	/* too small a buffer for the key: refused, not cut */
	assert_int_equal(run_peek_job(rec, len, small, sizeof(small)), -1);
	for (size_t n = 0; n < 3 + 9 + 1 + strlen(want); n++)
		if (!run_peek_job(rec, n, job, sizeof(job)))
			assert_string_equal(job, want);
}

/* r's record decodes both ways to itself, on the fast path if fast; then
 * the sweep. */
static void check_record(struct fx *f, const struct run *r,
			 const char *creator, bool fast)
{
	msgpack_sbuffer sb, back;
	uint64_t declined = run_decode_declined();

	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&back);
	run_encode_sealed(r, creator, NULL, &sb);
	assert_int_equal(decode_both(f, sb.data, sb.size, &back), 0);
	check_peek(sb.data, sb.size, r->job->key);
	assert_int_equal(run_decode_declined() - declined, fast ? 0 : 1);
	assert_int_equal(back.size, sb.size);
	assert_memory_equal(back.data, sb.data, sb.size);
	sweep(f, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&back);
}

static void test_queued_run(void **s)
{
	struct fx *f = *s;
	struct run r = { .id = 7, .job = f->j, .state = RUN_QUEUED,
			 .priority = -1000, .attempt = 1, .exit_code = -1,
			 .created_ms = 1764300000123,
			 .queued_ms = 1764300000123,
			 .enqueued_ms = 1764300000123, .est_cost = 96000,
			 .job_version = 3,
			 .idem_key = (char *)"nightly-2026-11-22" };
	struct run back;
	msgpack_sbuffer sb;

	check_record(f, &r, "uid:1000", true);
	/* a run that never left the queue loads without a detail */
	msgpack_sbuffer_init(&sb);
	run_encode_sealed(&r, "uid:1000", NULL, &sb);
	memset(&back, 0, sizeof(back));
	assert_int_equal(run_decode(sb.data, sb.size, &f->st, &f->zone,
				    &back), 0);
	assert_null(back.d);
	assert_int_equal(back.priority, -1000);
	assert_int_equal(back.created_ms, 1764300000123);
	assert_int_equal(run_state_ms(&back, RUN_QUEUED), 1764300000123);
	assert_string_equal(back.idem_key, "nightly-2026-11-22");
	assert_string_equal(state_creator_name(&f->st, back.creator),
			    "uid:1000");
	run_clear(&back);
	msgpack_sbuffer_destroy(&sb);
}

static void test_ended_run(void **s)
{
	struct fx *f = *s;
	char longer[300];
	struct run_detail d = { .agent = "ag-0123456789ab",
				.epoch = 0xfffffffffffull, .not_before_ms = -7,
				.vcpu_ms = 7200000, .gb_ms = 1, .cost = 96000,
				.app_id = (char *)"application_1_0042",
				.failure_class = (char *)"executor_oom",
				.diag_line = longer };
	struct run r = { .id = (uint64_t)1 << 40, .job = f->j,
			 .state = RUN_FAILED, .priority = 5, .attempt = 3,
			 .lost = 1, .exit_code = 1,
			 .completions = 1, .created_ms = 1, .queued_ms = -5,
			 .log_lines = 70000, .d = &d, .job_version = 65535 };
	struct run back;
	msgpack_sbuffer sb;

	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	d.reason = longer + 250; /* a str8 */
	d.state_ms[RUN_LEASED - 1] = INT64_MIN;
	d.state_ms[RUN_FAILED - 1] = INT64_MAX;
	check_record(f, &r, NULL, true);
	msgpack_sbuffer_init(&sb);
	run_encode(&r, &sb);
	memset(&back, 0, sizeof(back));
	assert_int_equal(run_decode(sb.data, sb.size, &f->st, &f->zone,
				    &back), 0);
	assert_non_null(back.d);
	assert_string_equal(run_agent(&back), "ag-0123456789ab");
	assert_int_equal(run_state_ms(&back, RUN_LEASED), INT64_MIN);
	assert_int_equal(run_state_ms(&back, RUN_FAILED), INT64_MAX);
	assert_int_equal(run_state_ms(&back, RUN_QUEUED), -5);
	assert_string_equal(run_detail(&back)->diag_line, longer);
	assert_int_equal(run_epoch(&back), 0xfffffffffffull);
	assert_int_equal(run_not_before(&back), -7);
	run_clear(&back);
	msgpack_sbuffer_destroy(&sb);
}

/* A run with an extra record (a map): the general path's. */
static void test_extra_run(void **s)
{
	struct fx *f = *s;
	uint64_t after[] = { 3, 4 };
	struct run_extra x = { .schedule = 9, .scheduled_ms = 60000,
			       .nafter = 2, .after = after };
	struct run r = { .id = 12, .job = f->j, .state = RUN_QUEUED,
			 .attempt = 1, .exit_code = -1, .waiting = true,
			 .job_version = 1, .x = &x };

	check_record(f, &r, "uid:0", false);
}

/* A summary passes over a sealed field unopened (the general path: the
 * fast one takes no bin) and cuts a failure class longer than its
 * buffer; a record cut before the failure class has none. */
static void test_summary(void **s)
{
	struct fx *f = *s;
	char longer[100];
	struct run_detail d = { .failure_class = longer };
	struct run r = { .id = 9, .job = f->j, .state = RUN_FAILED,
			 .attempt = 2, .exit_code = 1, .completions = 1,
			 .created_ms = 5, .log_lines = 3, .d = &d,
			 .job_version = 1 };
	struct run_summary sum;
	msgpack_sbuffer sb;
	size_t at;

	memset(longer, 'q', sizeof(longer) - 1); /* not 'c' (0x63: 99) */
	longer[sizeof(longer) - 1] = '\0';
	msgpack_sbuffer_init(&sb);
	run_encode(&r, &sb);
	assert_int_equal(decode_both(f, sb.data, sb.size, NULL), 0);
	assert_int_equal(run_summary_read(sb.data, sb.size, &sum), 0);
	assert_int_equal(strlen(sum.failure_class), sizeof(sum.failure_class) - 1);
	/* the reason (nil) made a bin, as a sealed one is */
	at = (size_t)((char *)memmem(sb.data, sb.size, longer, 10) - sb.data);
	assert_int_equal((uint8_t)sb.data[at - 2], 0xd9); /* str8 of 99 */
	assert_int_equal((uint8_t)sb.data[at - 3], 0xc0); /* nil reason */
	msgpack_sbuffer_clear(&sb);
	d.reason = (char *)"x";
	run_encode(&r, &sb);
	at = (size_t)((char *)memmem(sb.data, sb.size, longer, 10) - sb.data);
	assert_int_equal((uint8_t)sb.data[at - 4], 0xa1); /* fixstr "x" */
	sb.data[at - 4] = (char)0xc4; /* bin8 of one byte: "x" */
	msgpack_sbuffer_write(&sb, "", 1); /* room for its length */
	memmove(sb.data + at - 2, sb.data + at - 3, sb.size - 1 - (at - 3));
	sb.data[at - 3] = 1;
	assert_int_equal(run_summary_read(sb.data, sb.size, &sum), 0);
	decode_both(f, sb.data, sb.size, NULL); /* the summary checked if so */
	assert_int_equal(sum.id, 9);
	assert_int_equal(sum.state, RUN_FAILED);
	assert_int_equal(sum.log_lines, 3);
	assert_int_equal(strncmp(sum.failure_class, longer, 63), 0);
	msgpack_sbuffer_destroy(&sb);
}

/* Integers in formats the encoder does not choose (msgpack-c packs the
 * smallest): signed formats holding values >= 0, wide ones holding small
 * values. */
static void test_wide_formats(void **s)
{
	struct fx *f = *s;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t declined;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 29);
	msgpack_pack_fix_int8(&pk, 2);         /* tag */
	msgpack_pack_fix_uint64(&pk, 5);       /* id */
	mp_pack_cstr(&pk, "acme/prod/pi");
	msgpack_pack_fix_int32(&pk, RUN_RUNNING);
	msgpack_pack_fix_int16(&pk, -300);     /* priority */
	msgpack_pack_fix_int64(&pk, 2);        /* attempt */
	msgpack_pack_fix_uint8(&pk, 0);        /* lost */
	msgpack_pack_fix_int16(&pk, 9);        /* epoch */
	mp_pack_cstr(&pk, "ag-1");
	msgpack_pack_fix_int8(&pk, -1);        /* exit code */
	msgpack_pack_false(&pk);
	msgpack_pack_fix_uint16(&pk, 0);       /* completions */
	msgpack_pack_array(&pk, RUN_STATE_COUNT);
	for (int i = 0; i < RUN_STATE_COUNT; i++)
		msgpack_pack_fix_int64(&pk, i < 4 ? 1000 * (i + 1) : 0);
	msgpack_pack_fix_int32(&pk, 1000);     /* created */
	msgpack_pack_fix_int64(&pk, -1000);    /* enqueued */
	msgpack_pack_fix_uint32(&pk, 0);       /* not before */
	msgpack_pack_fix_int32(&pk, 12);       /* log lines */
	msgpack_pack_fix_int64(&pk, 1);        /* vcpu_ms */
	msgpack_pack_fix_int64(&pk, 2);        /* gb_ms */
	msgpack_pack_fix_int64(&pk, 3);        /* cost */
	msgpack_pack_nil(&pk);                 /* app id */
	mp_pack_cstr(&pk, "");                 /* reason: empty */
	msgpack_pack_nil(&pk);                 /* failure class */
	msgpack_pack_nil(&pk);                 /* idempotency key */
	msgpack_pack_nil(&pk);                 /* diag line */
	msgpack_pack_fix_uint64(&pk, 50);      /* est cost */
	msgpack_pack_fix_int16(&pk, 2);        /* job version */
	msgpack_pack_nil(&pk);                 /* creator */
	msgpack_pack_nil(&pk);                 /* extra */
	declined = run_decode_declined();
	assert_int_equal(decode_both(f, sb.data, sb.size, NULL), 0);
	assert_int_equal(run_decode_declined(), declined);
	sweep(f, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/* The older forms (format 1's map, format 3's 25 elements) and a record
 * with an element past those it knows: the general path's, same answer. */
static void test_other_forms(void **s)
{
	struct fx *f = *s;
	struct run r = { .id = 3, .job = f->j, .state = RUN_QUEUED,
			 .attempt = 1, .exit_code = -1 };
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_u64(&pk, "id", 3);
	mp_kv_str(&pk, "job", "acme/prod/pi");
	mp_kv_i64(&pk, "state", RUN_SUCCEEDED);
	assert_int_equal(decode_both(f, sb.data, sb.size, NULL), 0);
	/* the map form has no first elements to peek at */
	assert_int_equal(run_peek_job(sb.data, sb.size, (char[JOB_KEY_LEN]){ 0 },
				      JOB_KEY_LEN), -1);
	msgpack_sbuffer_clear(&sb);
	run_encode(&r, &sb);
	/* a 30th element, after the extra record (an array16 of 29) */
	assert_int_equal((uint8_t)sb.data[0], 0xdc);
	assert_int_equal((uint8_t)sb.data[2], 29);
	sb.data[2] = 30;
	msgpack_pack_uint32(&pk, 1);
	assert_int_equal(decode_both(f, sb.data, sb.size, NULL), 0);
	msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queued_run, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ended_run, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_extra_run, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_formats, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_forms, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
