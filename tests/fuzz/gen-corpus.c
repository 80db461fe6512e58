/* gen-corpus.c - writes the fuzz targets' seed corpora: valid inputs made
 * with the project's own encoders (sealed messages and batches, stored
 * records dumped from a real store, a real spool directory) and the sample
 * files of tests/data in each target's input format. `make fuzz-corpus`
 * runs it; its files are named gen-* and replace the earlier ones.
 *   gen-corpus OUTDIR DATADIR    (tests/fuzz/corpus tests/data)
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commitlog.h"
#include "core_fixture.h"
#include "fuzz.h"
#include "mp.h"
#include "records.h"
#include "run_codec.h"
#include "spool.h"
#include "spool_disk.h"
#include "tbatch.h"
#include "util.h"
#include "wire.h"

static const char *outdir, *datadir;

/* Writes OUTDIR/target/gen-name: prefix (plen bytes), then data. */
static void put2(const char *target, const char *name, const void *prefix,
		 size_t plen, const void *data, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir_p(path, 0755))
		die("cannot create '%s': %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s/gen-%s", outdir, target, name);
	strbuf_add(&sb, prefix, plen);
	strbuf_add(&sb, data, len);
	if (fz_write_file(path, sb.buf, sb.len))
		die("cannot write '%s': %s", path, strerror(errno));
	strbuf_release(&sb);
}

static void put(const char *target, const char *name, const void *data,
		size_t len)
{
	put2(target, name, NULL, 0, data, len);
}

static void put_str(const char *target, const char *name, const char *s)
{
	put(target, name, s, strlen(s));
}

/* Each file of DATADIR/sub ending in ext, after a prefix of plen bytes:
 * the number pick gives for its name, big-endian; cut to max bytes. */
static void from_data(const char *target, const char *sub, const char *ext,
		      uint64_t (*pick)(const char *name), size_t plen,
		      size_t max)
{
	char dir[1024], path[2048];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", datadir, sub);
	if (!(d = opendir(dir)))
		die("cannot open '%s': %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name), len;
		uint8_t prefix[8];
		uint64_t v;
		char *text;
		if (n <= strlen(ext) ||
		    strcmp(de->d_name + n - strlen(ext), ext))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!(text = read_file(path, 1 << 20, &len)))
			die("cannot read '%s'", path);
		v = pick ? pick(de->d_name) : 0;
		for (size_t i = 0; i < plen; i++)
			prefix[i] = (uint8_t)(v >> (8 * (plen - 1 - i)));
		put2(target, de->d_name, prefix, plen, text,
		     len < max ? len : max);
		free(text);
	}
	closedir(d);
}

static uint64_t pick_exit(const char *name)
{
	/* exit 1 for the failures (the status byte's bit 7 clear) */
	return strstr(name, "success") ? 0 : 1;
}

static uint64_t pick_diagnose(const char *name)
{
	return strstr(name, "exit101") ? 0x81 : 0x00;
}

static uint64_t pick_redact(const char *name)
{
	(void)name;
	return 0x02; /* lines, then the same lines as arguments */
}

static uint64_t pick_end_ms(const char *name)
{
	(void)name;
	return 1767225600000ull; /* 2026-01-01 */
}

static void gen_text(void)
{
	static const char rule[] =
		"\x01" "employee_id EMP-[0-9]{6}\n"
		"user EMP-123456 logged in with password=hunter2\n";
	static const char reply[] =
		"{\"ok\":false,\"error\":\"usage\",\"message\":\"unknown "
		"command 'x'; try 'help'\",\"retry_after_ms\":1500}";
	static const char nested[] =
		"[{\"a\":[1,-2.5e-3,true,false,null]},\"\\u00e9\\ud83d\\ude00"
		"\\n\\t\\\"\",{}]";

	from_data("spark_output", "spark", ".txt", pick_exit, 1, 8192);
	from_data("diagnose", "diagnose", ".log", pick_diagnose, 1, 8192);
	from_data("redact", "redact", ".txt", pick_redact, 1, 4096);
	put_str("redact", "extra-rule", rule);
	from_data("json", "sparkrest", ".json", NULL, 0, 4096);
	put_str("json", "admin-reply", reply);
	put_str("json", "nested", nested);
	from_data("sparkrest", "sparkrest", ".json", pick_end_ms, 8, 4096);
}

static void gen_configs(void)
{
	put_str("sched_config", "every-setting",
		"# scheduler.conf\n"
		"data_dir = /var/lib/sparkpilot\n"
		"admin_socket = \"/run/sparkpilot/admin.sock\"\n"
		"listen = tls+tcp://0.0.0.0:7450\n"
		"metrics_listen = http://127.0.0.1:9450\n"
		"tls_cert = /etc/sparkpilot/server.crt\n"
		"tls_key = /etc/sparkpilot/server.key\n"
		"tls_ca = /etc/sparkpilot/ca.crt\n"
		"token_ttl_s = 3600\nmax_clock_skew_ms = 30000\n"
		"min_disk_mb = 1024\nlease_wait_max_ms = 5000\n"
		"agent_timeout_ms = 30000\npriority_aging_ms = 60000\n"
		"retry_base_ms = 5000\nretry_max_ms = 300000\n"
		"max_lost_leases = 3\nmax_queued_total = 0\n"
		"idempotency_ttl_s = 86400\nturn_max_events = 256\n"
		"agent_ack_delay_us = 2000\nlog_completions = 1\n"
		"log_retention_days = 30\nretention_interval_s = 3600\n"
		"run_estimate_hours = 24\nguard_interval_s = 60\n"
		"guard_window_s = 3600\nbreaker_cooldown_s = 900\n"
		"log_level = warn\n");
	put_str("sched_config", "bad-value",
		"listen = tcp://127.0.0.1:7450\nretry_max_ms = 10\n"
		"retry_base_ms = \"20\\\"\"\n");
	put_str("agent_config", "every-setting",
		"# agent.conf\n"
		"scheduler = tls+tcp://sparkpilot.example.com:7450\n"
		"state_dir = /var/lib/sparkpilot-agent\n"
		"enroll_token_file = /etc/sparkpilot/token\n"
		"spark_submit = /opt/spark/bin/spark-submit\n"
		"tls_ca = /etc/sparkpilot/ca.crt  # pin the CA\n"
		"tls_server_name = sparkpilot.example.com\n"
		"tls_cert = /etc/sparkpilot/agent.crt\n"
		"tls_key = /etc/sparkpilot/agent.key\n"
		"log_level = info\nslots = 4\nheartbeat_ms = 5000\n"
		"kill_grace_ms = 10000\nrequest_timeout_ms = 10000\n"
		"preflight_retry_ms = 60000\nspool_max_mb = 256\n"
		"spool_fsync = interval\nspool_fsync_ms = 1000\n"
		"spark_rest_url = http://history:18080\n"
		"spark_rest_timeout_ms = 5000\n"
		"redact_rule = employee_id EMP-[0-9]{6}\n"
		"redact_rule = ticket (JIRA|SNOW)-[0-9]+\n");
	put_str("agent_config", "token-twice",
		"enroll_token = \"abc\"\nenroll_token_file = /t\n");
}

static struct run *sample_run(struct sched_state *st, bool ended)
{
	struct run *r = xcalloc(1, sizeof(*r));
	r->id = ended ? 2 : 1;
	r->job = state_job(st, "acme/prod/j");
	r->state = ended ? RUN_FAILED : RUN_QUEUED;
	r->attempt = ended ? 2 : 1;
	if (ended)
		run_detail_get(r)->epoch = 3;
	r->exit_code = ended ? 1 : -1;
	r->created_ms = 1767225600000;
	run_set_state_ms(r, RUN_QUEUED, r->enqueued_ms = r->created_ms);
	r->est_cost = 1500000;
	r->job_version = 1;
	if (ended) {
		snprintf(run_detail_get(r)->agent, AGENT_ID_LEN, "ag-1");
		r->completions = 1;
		struct run_detail *d = run_detail_get(r);
		d->vcpu_ms = 7200000;
		d->cost = 96000;
		d->app_id = xstrdup("application_1700000000000_0042");
		d->reason = xstrdup("exit 1");
		d->failure_class = xstrdup("executor_oom");
		d->diag_line = xstrdup("java.lang.OutOfMemoryError: Java heap");
		r->idem_key = xstrdup("nightly-2026-01-01");
	}
	return r;
}

/* sb holds a run record of 27 elements whose last is 0x01: the same run
 * as a build before job versions wrote it, 26 elements. */
static void put_before_versions(msgpack_sbuffer *sb)
{
	/* array 16: 0xdc, then the count u16 BE; the last three elements
	 * are job_version (1), the creator (nil) and the extra record
	 * (nil) */
	if ((uint8_t)sb->data[0] != 0xdc || sb->data[2] != 29 ||
	    sb->data[sb->size - 3] != 1 ||
	    (uint8_t)sb->data[sb->size - 1] != 0xc0)
		die("gen-corpus: unexpected run record layout");
	sb->data[2] = 26;
	put("run_codec", "before-versions", sb->data, sb->size - 3);
}

static void gen_run_codec(void)
{
	struct sched_state st;
	struct job *j = xcalloc(1, sizeof(*j));
	msgpack_sbuffer sb;
	msgpack_packer pk;

	state_init(&st);
	snprintf(j->key, sizeof(j->key), "acme/prod/j");
	state_add_job(&st, j);
	for (int ended = 0; ended < 2; ended++) {
		struct run *r = sample_run(&st, ended);
		msgpack_sbuffer_init(&sb);
		run_encode(r, &sb);
		put("run_codec", ended ? "failed" : "queued", sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
		run_clear(r);
		free(r);
	}
	/* a run of its job's version 7, and one written before job versions
	 * (26 elements: read as version 1) */
	{
		struct run *r = sample_run(&st, 0);
		r->job_version = 7;
		msgpack_sbuffer_init(&sb);
		run_encode(r, &sb);
		put("run_codec", "job-version", sb.data, sb.size);
		msgpack_sbuffer_clear(&sb);
		r->job_version = 1; /* its last element: the one byte 0x01 */
		run_encode(r, &sb);
		put_before_versions(&sb);
		msgpack_sbuffer_destroy(&sb);
		run_clear(r);
		free(r);
	}
	/* a run with who started it and every field of the extra record */
	{
		struct run *r = sample_run(&st, 0);
		struct run_extra *x = run_extra_get(r);
		x->schedule = 4;
		x->scheduled_ms = 1795000000000;
		x->scheduled_off_s = 3600;
		x->retry_of = 2;
		x->retried_by = 9;
		x->held_by = xstrdup("uid:1000");
		x->held_ms = 1795000000500;
		x->params = xcalloc(2, sizeof(char *));
		x->params[0] = xstrdup("day=2026-12-01");
		x->params[1] = xstrdup("region=eu");
		x->nparams = 2;
		x->args = xcalloc(2, sizeof(char *));
		x->args[0] = xstrdup("--extra");
		x->args[1] = xstrdup("{{day}}");
		x->nargs = 2;
		x->after = xcalloc(2, sizeof(uint64_t));
		x->after[0] = 1;
		x->after[1] = 2;
		x->nafter = 2;
		x->after_any = true;
		r->held = r->waiting = true;
		msgpack_sbuffer_init(&sb);
		run_encode_sealed(r, "uid:1000", NULL, &sb);
		put("run_codec", "workflow", sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
		run_clear(r);
		free(r);
	}
	/* the older map form */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	mp_kv_u64(&pk, "id", 3);
	mp_kv_str(&pk, "job", "acme/prod/j");
	mp_kv_i64(&pk, "state", RUN_SUCCEEDED);
	mp_kv_i64(&pk, "attempt", 1);
	mp_kv_str(&pk, "app_id", "spark-0a1b2c");
	mp_pack_cstr(&pk, "state_ms");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_int64(&pk, 1767225600000);
	msgpack_pack_int64(&pk, 1767225601000);
	put("run_codec", "map-form", sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	state_release(&st);
}

static void sample_events(struct tbatch_builder *b)
{
	tbatch_add_log(b, 1767225600000, 1, "INFO Client: Submitting app", 27);
	tbatch_add_log(b, 1767225600100, 2,
		       "ERROR password=[REDACTED:password]", 35);
	tbatch_add_value(b, 1767225600200, "lines_stdout", TM_COUNTER, 2);
	tbatch_add_value(b, 1767225600200, "run_ms", TM_GAUGE, 1500);
	tbatch_add_histogram(b, 1767225600200, "line_bytes", 2, 62, 27, 35);
}

/* A sealed batch of the fixed key, for agent ag-fuzz, into out. */
static void sealed_batch(struct strbuf *out)
{
	struct tbatch_builder b;
	struct tbatch_meta m;
	char err[256];

	memset(&m, 0, sizeof(m));
	snprintf(m.agent, sizeof(m.agent), "ag-fuzz");
	m.seq = 1;
	m.run = 7;
	m.epoch = 1;
	m.flags = TBATCH_FINAL;
	tbatch_builder_init(&b);
	sample_events(&b);
	if (tbatch_seal(&b, fz_key(), &m, out, err, sizeof(err)))
		die("%s", err);
	tbatch_builder_release(&b);
}

static void gen_tbatch(void)
{
	struct tbatch_builder b;
	struct strbuf sealed = STRBUF_INIT, z = STRBUF_INIT;
	struct tbatch_meta m;
	uint8_t hdr[3];
	char err[256];

	sealed_batch(&sealed);
	hdr[0] = 0; /* as it arrives */
	put2("tbatch", "sealed", hdr, 1, sealed.buf, sealed.len);

	tbatch_builder_init(&b);
	sample_events(&b);
	hdr[0] = 1; /* raw events, with their count */
	hdr[1] = 0;
	hdr[2] = (uint8_t)b.events;
	put2("tbatch", "events", hdr, 3, b.raw.data, b.raw.size);
	memset(&m, 0, sizeof(m));
	if (tbatch_compress(&b, &z, &m, err, sizeof(err)))
		die("%s", err);
	{
		/* a zlib stream: u16 raw length, u16 event count */
		uint8_t h[5] = { 2, (uint8_t)(m.raw_len >> 8),
				 (uint8_t)m.raw_len, 0, (uint8_t)m.events };
		put2("tbatch", "zlib", h, sizeof(h), z.buf, z.len);
	}
	tbatch_builder_release(&b);
	strbuf_release(&sealed);
	strbuf_release(&z);
}

/* Writes a wire seed: mode 0, the message sealed with the fixed key; and
 * mode 1, its type and body for the target to seal. */
static void wire_seed(const char *name, const char *type,
		      const msgpack_sbuffer *body)
{
	struct strbuf msg = STRBUF_INIT, in = STRBUF_INIT;
	size_t tlen = strlen(type);
	char n[64];

	wire_seal(&msg, type, "ag-fuzz", 1, 1767225600000, body->data,
		  body->size, fz_key());
	strbuf_addch(&in, 0);
	strbuf_add(&in, msg.buf, msg.len);
	put("wire", name, in.buf, in.len);
	strbuf_reset(&in);
	strbuf_addch(&in, 1);
	strbuf_addch(&in, (char)(tlen >> 8));
	strbuf_addch(&in, (char)tlen);
	strbuf_addstr(&in, type);
	strbuf_add(&in, body->data, body->size);
	snprintf(n, sizeof(n), "%s-body", name);
	put("wire", n, in.buf, in.len);
	strbuf_release(&msg);
	strbuf_release(&in);
}

static void gen_wire(void)
{
	struct strbuf batch = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint8_t pub[SIGN_PUB_LEN];

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kv_u64(&pk, "slots", 2);
	mp_kv_u64(&pk, "wait_ms", 5000);
	wire_seed("lease", "lease", &sb);

	msgpack_sbuffer_clear(&sb);
	fz_pub(pub);
	msgpack_pack_map(&pk, 3);
	mp_kv_str(&pk, "token", "0123456789abcdef0123456789abcdef");
	mp_kv_bin(&pk, "pubkey", pub, sizeof(pub));
	mp_kv_str(&pk, "hostname", "worker-1");
	wire_seed("enroll", "enroll", &sb);

	msgpack_sbuffer_clear(&sb);
	sealed_batch(&batch);
	msgpack_pack_map(&pk, 1);
	mp_pack_cstr(&pk, "batches");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_bin(&pk, batch.len);
	msgpack_pack_bin_body(&pk, batch.buf, batch.len);
	wire_seed("telemetry", "telemetry", &sb);

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 2);
	mp_pack_cstr(&pk, "held");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint64(&pk, 7);
	msgpack_pack_uint64(&pk, 1);
	mp_kv_i64(&pk, "running", 1);
	wire_seed("heartbeat", "heartbeat", &sb);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&batch);
}

static void add_chunk(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_addch(sb, (char)(len >> 8));
	strbuf_addch(sb, (char)len);
	strbuf_add(sb, data, len);
}

/* A real spool with records in every lane, one acknowledged, as the
 * spool target's input: the state file, then each segment. */
static void gen_spool(void)
{
	char dir[512], path[1024], err[256];
	struct spool_opts o = { .fsync = SPOOL_FSYNC_NEVER };
	struct strbuf in = STRBUF_INIT, scan = STRBUF_INIT;
	struct spool *sp;
	struct dirent *de;
	uint64_t seq;
	size_t len;
	char *text;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/genspool", fz_tmpdir());
	o.dir = dir;
	if (!(sp = spool_open(&o, err, sizeof(err))))
		die("%s", err);
	spool_append(sp, SPOOL_EVENT, 0, "running", 7, &seq, err, sizeof(err));
	spool_append(sp, SPOOL_LOG, 0, "a log line", 10, &seq, err,
		     sizeof(err));
	spool_append(sp, SPOOL_METRIC, 0, "m=1", 3, &seq, err, sizeof(err));
	spool_append(sp, SPOOL_LOG, SPOOL_FINAL, "last", 4, &seq, err,
		     sizeof(err));
	spool_ack(sp, 1, err, sizeof(err));
	spool_close(sp);

	strbuf_addch(&in, 0); /* open the directory */
	snprintf(path, sizeof(path), "%s/state", dir);
	text = read_file(path, 1 << 20, &len);
	add_chunk(&in, text, text ? len : 0);
	free(text);
	if (!(d = opendir(dir)))
		die("cannot open '%s'", dir);
	while ((de = readdir(d))) {
		unsigned long long first;
		char lane;
		if (sscanf(de->d_name, "%20llu-%c.seg", &first, &lane) != 2)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		text = read_file(path, 1 << 20, &len);
		strbuf_addch(&in, (char)spool_lane_from_char(lane));
		strbuf_addch(&in, (char)first);
		add_chunk(&in, text, len);
		if (!scan.len) { /* scan only: no state, lane, image */
			strbuf_add(&scan, "\x03\x00\x00", 3);
			strbuf_addch(&scan, (char)spool_lane_from_char(lane));
			add_chunk(&scan, text, len);
		}
		free(text);
	}
	closedir(d);
	put("spool", "dir", in.buf, in.len);
	put("spool", "scan", scan.buf, scan.len);
	fz_empty_dir(dir);
	strbuf_release(&in);
	strbuf_release(&scan);
}

/* One message of the agent_msgs target: a seq step (0: a resend), type,
 * body. */
static void agent_msg_step(struct strbuf *in, int step, const char *type,
			   const msgpack_sbuffer *body)
{
	strbuf_addch(in, (char)step);
	add_chunk(in, type, strlen(type));
	add_chunk(in, body->data, body->size);
}

static void agent_msg(struct strbuf *in, const char *type,
		      const msgpack_sbuffer *body)
{
	agent_msg_step(in, 1, type, body);
}

static void pack_run(msgpack_packer *pk, size_t more)
{
	msgpack_pack_map(pk, 2 + more);
	mp_kv_u64(pk, "run", 1);
	mp_kv_u64(pk, "epoch", 1);
}

/* A run's life as its agent reports it: running, log lines, a
 * heartbeat, its completion. */
static void gen_run_life(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	struct strbuf in = STRBUF_INIT;

	pack_run(pk, 2);
	mp_kv_str(pk, "state", "running");
	mp_kv_str(pk, "app_id", "application_1700000000000_0001");
	agent_msg(&in, "run_event", sb);
	msgpack_sbuffer_clear(sb);
	pack_run(pk, 1);
	mp_pack_cstr(pk, "lines");
	msgpack_pack_array(pk, 1);
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint64(pk, 1767225600000);
	msgpack_pack_uint64(pk, 2);
	mp_pack_cstr(pk, "ERROR Executor lost");
	agent_msg(&in, "log", sb);
	msgpack_sbuffer_clear(sb);
	msgpack_pack_map(pk, 2);
	mp_pack_cstr(pk, "held");
	msgpack_pack_array(pk, 1);
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_uint64(pk, 1);
	mp_pack_cstr(pk, "spool");
	msgpack_pack_map(pk, 2);
	mp_kv_u64(pk, "records", 3);
	mp_kv_u64(pk, "bytes", 300);
	agent_msg(&in, "heartbeat", sb);
	msgpack_sbuffer_clear(sb);
	msgpack_pack_map(pk, 1);
	mp_pack_cstr(pk, "results");
	msgpack_pack_array(pk, 1);
	pack_run(pk, 5);
	mp_kv_str(pk, "result", "failed");
	mp_kv_i64(pk, "exit_code", 1);
	mp_kv_str(pk, "class", "executor_oom");
	mp_kv_str(pk, "diag_line", "java.lang.OutOfMemoryError");
	mp_pack_cstr(pk, "executors");
	msgpack_pack_map(pk, 3);
	mp_kv_u64(pk, "count", 2);
	mp_kv_u64(pk, "core_ms", 7200000);
	mp_kv_u64(pk, "lifetime_ms", 3600000);
	agent_msg(&in, "complete", sb);
	put("agent_msgs", "run-life", in.buf, in.len);
	strbuf_release(&in);
}

/* A preflight, a lease request and its resend. */
static void gen_preflight_lease(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	struct strbuf in = STRBUF_INIT;

	msgpack_pack_map(pk, 4);
	mp_kv_bool(pk, "spark_ok", true);
	mp_kv_str(pk, "spark_version", "3.5.1");
	mp_kv_i64(pk, "disk_free_mb", 100000);
	mp_kv_i64(pk, "slots", 2);
	agent_msg(&in, "preflight", sb);
	msgpack_sbuffer_clear(sb);
	msgpack_pack_map(pk, 2);
	mp_kv_u64(pk, "slots", 2);
	mp_kv_u64(pk, "wait_ms", 0);
	agent_msg(&in, "lease", sb);
	agent_msg_step(&in, 0, "lease", sb);
	put("agent_msgs", "preflight-lease", in.buf, in.len);
	strbuf_release(&in);
}

/* A key rotation and its resend: the body's shape (the proof cannot
 * verify: the harness's agent id is new each time). */
static void gen_rotate(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	struct strbuf in = STRBUF_INIT;
	uint8_t key[32], sig[64];

	memset(key, 0x42, sizeof(key));
	memset(sig, 0x17, sizeof(sig));
	msgpack_pack_map(pk, 3);
	mp_kv_bin(pk, "pubkey", key, sizeof(key));
	key[0] = 0x43;
	mp_kv_bin(pk, "old_pubkey", key, sizeof(key));
	mp_kv_bin(pk, "proof", sig, sizeof(sig));
	agent_msg(&in, "rotate", sb);
	agent_msg_step(&in, 0, "rotate", sb);
	put("agent_msgs", "rotate", in.buf, in.len);
	strbuf_release(&in);
}

static void gen_agent_msgs(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	gen_run_life(&sb, &pk);
	msgpack_sbuffer_clear(&sb);
	gen_preflight_lease(&sb, &pk);
	msgpack_sbuffer_clear(&sb);
	gen_rotate(&sb, &pk);
	msgpack_sbuffer_destroy(&sb);
}

struct dump {
	struct strbuf *all, *one;
	enum store_cf cf;
	unsigned n, nall;
};

/* One record in the records target's form: { cf - 1, key, value }. */
static int dump_one(const void *key, size_t klen, const void *val,
		    size_t vlen, void *ctx)
{
	struct dump *d = ctx;
	struct strbuf rec = STRBUF_INIT;

	if (vlen > 4096 || klen > 256)
		return 0;
	strbuf_addch(&rec, (char)(d->cf - 1));
	add_chunk(&rec, key, klen);
	add_chunk(&rec, val, vlen);
	if (d->n++ < 8)
		strbuf_add(d->one, rec.buf, rec.len);
	if (d->nall++ < 32)
		strbuf_add(d->all, rec.buf, rec.len);
	strbuf_release(&rec);
	return 0;
}

/* Every record of the fixture's store, per column family and together. */
static void dump_store(struct store *s)
{
	struct strbuf all = STRBUF_INIT, one = STRBUF_INIT;
	struct dump d = { &all, &one, CF_TENANTS, 0, 0 };

	for (int cf = CF_TENANTS; cf < CF_COUNT; cf++) {
		strbuf_reset(&one);
		d.cf = (enum store_cf)cf;
		d.n = 0;
		if (store_scan(s, d.cf, NULL, 0, NULL, 0, dump_one, &d))
			die("cannot scan %s", store_cf_name(d.cf));
		if (one.len)
			put("records", store_cf_name(d.cf), one.buf, one.len);
	}
	put("records", "all", all.buf, all.len);
	strbuf_release(&all);
	strbuf_release(&one);
}

static const char *const admin_seeds[][2] = {
	{ "session",
	  "tenant add beta --monthly-budget=5000 --budget-mode hard\n"
	  "env add beta/prod --price-vcpu-hour 0.048 --price-gb-hour 0.0053\n"
	  "job add beta/prod/pi --executors 2 -- --master yarn "
	  "--class org.apache.spark.examples.SparkPi local:///x.jar 100\n"
	  "run start beta/prod/pi --priority 5 --idempotency-key k1\n"
	  "run list --tenant beta\nqueue stats\nusage beta --format csv\n" },
	{ "accounting",
	  "run list --env acme/prod --job acme/prod/j --state failed,waiting "
	  "--created-by uid:0 --since 2026-01-01 --until 2026-02-01T00:00Z\n"
	  "run list --created-by user:root --class executor_oom --limit 5\n"
	  "run list --created-by schedule:3 --schedule 3 --after-id 9 "
	  "--oldest-first\nrun list --state bogus,queued --since x\n"
	  "usage acme --by job --format csv\nusage --by user\n"
	  "usage --by day --from 2026-01-01\nusage --by week\n" },
	{ "show", "help\ntenant list\ntenant show acme\nenv show acme/prod\n"
		  "job show acme/prod/j\nrun show 1\nrun logs 1 --after 0\n"
		  "run metrics 1\nrun diagnose 1\ntenant events acme\n" },
	{ "set", "tenant set acme weight=3 max_running=unlimited\n"
		 "tenant set acme --retention-days=30 --cancel-running on\n"
		 "env set acme/prod spot_discount=12.5 max_concurrent=4\n" },
	{ "agents", "agent list\nagent token acme/prod --ttl=600\n"
		    "agent show ag-1\nagent drain ag-1\nagent undrain ag-1\n"
		    "agent revoke ag-1\n" },
	{ "runs", "run start acme/prod/j\nrun cancel 1\ndispatch pause\n"
		  "dispatch resume\n"
		  "usage --from 2026-01-01 --to 2026-02-01\n" },
	{ "quoting", "tenant add \"a b\"\nenv add acme/\"x\\\"y\"\n"
		     "job add acme/prod/q -- \"--conf\" \"k=v w\\n\"\n" },
};

/* The stored records of a real core's store, and the admin sessions. */
static void gen_store(void)
{
	void *state;
	struct fx *f;
	uint64_t run, epoch;

	setenv("CMOCKA_TEST_ABORT", "1", 1);
	fx_setup(&state);
	f = state;
	admin_ok(f, "tenant add beta --monthly-budget=5000 --budget-mode hard");
	admin_ok(f, "env add beta/prod --price-vcpu-hour 0.048");
	lease_one(f, &run, &epoch);
	admin_ok(f, "run start acme/prod/j --idempotency-key nightly");
	stop_core(f);
	dump_store(f->store);
	fx_teardown(&state);
	for (size_t i = 0; i < ARRAY_SIZE(admin_seeds); i++)
		put_str("admin", admin_seeds[i][0], admin_seeds[i][1]);
}

static int gen_apply(void *ctx, const void *rec, size_t len, char *err,
		     size_t errlen)
{
	(void)ctx;
	(void)rec;
	(void)len;
	(void)err;
	(void)errlen;
	return 0;
}

/* A real commit log of three small segments, as the commitlog target's
 * input; and the same with its last record torn (a byte flipped). */
static void gen_commitlog(void)
{
	char dir[512], path[1024], err[256], rec[200];
	struct strbuf in = STRBUF_INIT;
	struct commitlog *l;
	uint64_t n, num = 0;
	bool sw;

	snprintf(dir, sizeof(dir), "%s/gencommitlog", fz_tmpdir());
	fz_empty_dir(dir);
	if (!(l = commitlog_open(dir, 512, gen_apply, NULL, &n, err,
				 sizeof(err))))
		die("%s", err);
	for (int i = 0; commitlog_active(l) < 3 || i < 8; i++) {
		memset(rec, 'a' + i % 26, sizeof(rec));
		if (commitlog_append(l, rec, 40 + (size_t)(i * 23) % 150,
				     true, &sw, err, sizeof(err)))
			die("%s", err);
	}
	num = commitlog_active(l);
	commitlog_close(l, false);
	strbuf_addch(&in, (char)(num - 1));
	for (uint64_t i = 1; i <= num; i++) {
		size_t len;
		char *text;
		snprintf(path, sizeof(path), "%s/%016llx.seg", dir,
			 (unsigned long long)i);
		if (!(text = read_file(path, 1 << 20, &len)))
			die("cannot read '%s'", path);
		if (i == num) /* past the whole records: zeros */
			while (len && !text[len - 1])
				len--;
		strbuf_addch(&in, (char)i);
		add_chunk(&in, text, len);
		free(text);
	}
	put("commitlog", "three", in.buf, in.len);
	in.buf[in.len - 1] ^= 0x5a; /* the last record's last byte */
	put("commitlog", "torn", in.buf, in.len);
	fz_empty_dir(dir);
	strbuf_release(&in);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: gen-corpus OUTDIR DATADIR\n");
		return 2;
	}
	outdir = argv[1];
	datadir = argv[2];
	log_setup("gen-corpus", LOG_ERROR);
	gen_text();
	gen_configs();
	gen_run_codec();
	gen_tbatch();
	gen_wire();
	gen_spool();
	gen_commitlog();
	gen_store();
	gen_agent_msgs();
	return 0;
}
