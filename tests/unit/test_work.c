/* test_work.c - the agent's runs (agent/work.c) under a reload of the
 * redaction rules: a run in progress redacts its next line with the new
 * rules, and each redaction is counted once, under the kind that made it,
 * although the extra kinds' ids move (emp was id 22, ticket 23; without
 * emp, ticket is 22). The clock handed to work_tick stands still, so no
 * batch goes out on its own: the reload finds the first line's batch
 * pending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"
#include "mp.h"
#include "sign.h"
#include "tbatch.h"
#include "tsink.h"
#include "util.h"
#include "work.h"

/* work_tick's clock: never far enough on for a batch's age to count */
#define NOW 1

/* What came out of the sink: the log lines, and each counter's sum. */
struct seen {
	struct strbuf logs;
	char names[16][64];
	int64_t sums[16];
	int n;
};

struct fx {
	char dir[64], path[128];
	struct agent_config cfg;
	struct sign_key *key;
	struct tsink *sink;
	struct work *w;
};

/* The "spark-submit": a line, a file saying it was written, then a wait
 * for the file go, then a second line. */
static const char script[] =
	"#!/bin/sh\n"
	"echo 'id EMP-111111 ref JIRA-22'\n"
	": >\"$1/printed\"\n"
	"while [ ! -e \"$1/go\" ]; do sleep 0.01; done\n"
	"echo 'id EMP-222222 ref JIRA-33'\n";

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	char err[256];

	strcpy(f->dir, "/tmp/sp-work.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	agent_config_defaults(&f->cfg);
	snprintf(f->cfg.state_dir, sizeof(f->cfg.state_dir), "%s", f->dir);
	snprintf(f->cfg.spool_fsync, sizeof(f->cfg.spool_fsync), "never");
	snprintf(f->cfg.spark_submit, sizeof(f->cfg.spark_submit),
		 "%s/submit", f->dir);
	snprintf(f->cfg.redact_rules, sizeof(f->cfg.redact_rules),
		 "emp EMP-[0-9]{6}\nticket JIRA-[0-9]+\n");
	if (write_file_atomic(f->cfg.spark_submit, script, strlen(script),
			      0700))
		return -1;
	f->key = sign_key_generate();
	f->sink = tsink_open(&f->cfg, f->key, "ag-test", err, sizeof(err));
	if (!f->sink)
		return -1;
	f->w = work_new(&f->cfg, f->sink);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	work_free(f->w);
	tsink_close(f->sink);
	sign_key_free(f->key);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	free(f);
	return system(cmd);
}

static void start_run(struct fx *f)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_u64(&pk, "run", 1);
	mp_kv_u64(&pk, "epoch", 1);
	mp_pack_cstr(&pk, "argv");
	msgpack_pack_array(&pk, 1);
	mp_pack_cstr(&pk, f->dir);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, NULL),
			 MSGPACK_UNPACK_SUCCESS);
	work_start(f->w, &u.data);
	assert_int_equal(work_count(f->w), 1);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

/* One turn of the agent's loop, with the clock standing still. */
static void tick(struct fx *f)
{
	struct pollfd pfd[4];
	int n = work_pollfds(f->w, pfd, 4);

	poll(pfd, (nfds_t)n, 20);
	work_tick(f->w, NOW);
}

static int on_event(const struct tevent *ev, void *ctx)
{
	struct seen *s = ctx;
	int i;

	if (ev->kind == TEV_LOG) {
		strbuf_add(&s->logs, ev->text, ev->text_len);
		strbuf_addch(&s->logs, '\n');
		return 0;
	}
	if (ev->type != TM_COUNTER)
		return 0;
	for (i = 0; i < s->n; i++)
		if (strlen(s->names[i]) == ev->name_len &&
		    !memcmp(s->names[i], ev->name, ev->name_len))
			break;
	if (i == s->n) {
		assert_true(s->n < 16);
		snprintf(s->names[s->n++], sizeof(s->names[0]), "%.*s",
			 (int)ev->name_len, ev->name);
	}
	s->sums[i] += ev->value;
	return 0;
}

/* Takes every telemetry batch the sink holds into s. */
static void drain(struct fx *f, struct seen *s)
{
	struct strbuf body = STRBUF_INIT, raw = STRBUF_INIT;
	char type[16], err[128];
	uint64_t upto;

	while (tsink_next(f->sink, type, &body, &upto)) {
		msgpack_unpacked u;
		const msgpack_object *b;

		msgpack_unpacked_init(&u);
		assert_int_equal(msgpack_unpack_next(&u, body.buf, body.len,
						     NULL),
				 MSGPACK_UNPACK_SUCCESS);
		b = mp_get(&u.data, "batches");
		for (uint32_t i = 0; b && i < b->via.array.size; i++) {
			const msgpack_object_bin *sealed =
				&b->via.array.ptr[i].via.bin;
			struct tbatch_meta m;
			assert_int_equal(tbatch_open(sealed->ptr, sealed->size,
						     NULL, &m, err, sizeof(err)),
					 0);
			assert_int_equal(tbatch_inflate(&m, &raw, err,
							sizeof(err)),
					 0);
			assert_int_equal(tbatch_each_event(raw.buf, raw.len,
							   m.events, on_event,
							   s, err, sizeof(err)),
					 0);
		}
		msgpack_unpacked_destroy(&u);
		tsink_done(f->sink, upto);
	}
	strbuf_release(&body);
	strbuf_release(&raw);
}

static int64_t sum_of(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return s->sums[i];
	return 0;
}

static void touch(const struct fx *f, const char *name)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	assert_int_equal(write_file_atomic(path, "", 0, 0600), 0);
}

static bool exists(const struct fx *f, const char *name)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	return access(path, F_OK) == 0;
}

static void test_reload_rules_mid_run(void **state)
{
	struct fx *f = *state;
	struct seen before = { STRBUF_INIT }, after = { STRBUF_INIT };
	char err[256];
	int64_t deadline = time_mono_ms() + 10000;

	start_run(f);
	while (!exists(f, "printed") && time_mono_ms() < deadline)
		tick(f);
	assert_true(exists(f, "printed"));
	tick(f); /* the first line, written before the file: read now */
	drain(f, &before);
	assert_int_equal(before.logs.len, 0); /* its batch is pending */

	assert_int_equal(work_set_redact_rules(f->w, "ticket JIRA-[0-9]+\n",
					       err, sizeof(err)),
			 0);
	/* the pending batch went out under the old rules' kinds */
	drain(f, &before);
	assert_string_equal(before.logs.buf,
			    "id [REDACTED:emp] ref [REDACTED:ticket]\n");
	assert_int_equal(sum_of(&before, "redactions.emp"), 1);
	assert_int_equal(sum_of(&before, "redactions.ticket"), 1);

	touch(f, "go");
	while (work_count(f->w) && time_mono_ms() < deadline)
		tick(f);
	assert_int_equal(work_count(f->w), 0);
	drain(f, &after);
	/* the same run's next line, under the new rules */
	assert_non_null(strstr(after.logs.buf,
			       "id EMP-222222 ref [REDACTED:ticket]\n"));
	assert_int_equal(sum_of(&after, "redactions.emp"), 0);
	assert_int_equal(sum_of(&after, "redactions.ticket"), 1);
	strbuf_release(&before.logs);
	strbuf_release(&after.logs);
}

/* A rule the redactor refuses: -1 naming it, the rules in force stay. */
static void test_refused_rules_change_nothing(void **state)
{
	struct fx *f = *state;
	struct seen s = { STRBUF_INIT };
	char err[256];
	int64_t deadline = time_mono_ms() + 10000;

	assert_int_equal(work_set_redact_rules(f->w,
					       "ticket JIRA-[0-9]+\nx (\n",
					       err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "redact_rule 'x ('"));
	touch(f, "go");
	start_run(f);
	while (work_count(f->w) && time_mono_ms() < deadline)
		tick(f);
	assert_int_equal(work_count(f->w), 0);
	drain(f, &s);
	assert_non_null(strstr(s.logs.buf,
			       "id [REDACTED:emp] ref [REDACTED:ticket]\n"
			       "id [REDACTED:emp] ref [REDACTED:ticket]\n"));
	assert_int_equal(sum_of(&s, "redactions.emp"), 2);
	strbuf_release(&s.logs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reload_rules_mid_run,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_refused_rules_change_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
