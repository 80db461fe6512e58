/*
 * sp-agentsim - a fleet of simulated agents speaking the real agent
 * protocol (signed envelopes, sequence numbers, enrollment, preflight,
 * long-poll leases with the held list, batched completions), the way
 * kubemark/KWOK stand in for kubelets. No Spark: a leased run "runs" for
 * --run-ms and succeeds (or fails, --fail-percent). One thread per agent.
 *
 *   sp-agentsim --scheduler URL --tokens FILE --state-dir DIR
 *               [--slots N] [--run-ms MS] [--fail-percent P]
 *               [--journal FILE] [--lease-log FILE] [--exit-after-runs N]
 *
 * FILE holds one enrollment token per line (one agent each); agents that
 * enrolled before (DIR/agent-N/agent.id exists) reuse their identity.
 * --journal appends one line per completion the scheduler acknowledged:
 * "done RUN EPOCH RESULT", "stale RUN EPOCH" when it refused one, and
 * "unknown RUN EPOCH" when a resend after a scheduler restart was answered
 * "replayed" (the first send was committed; its verdict is unknown).
 * --lease-log appends "RUN WALL_US" when a lease arrives (latency bench).
 * Stops on SIGINT/SIGTERM, or after --exit-after-runs acknowledged runs;
 * prints totals on exit.
 *
 * Telemetry ingest (bench/ingest.sh): with --telemetry-events E, each agent
 * leases one run (give a long --run-ms so it keeps holding it), waits until
 * every agent holds one, then streams `telemetry` messages back to back for
 * --telemetry-seconds S: --telemetry-batches B signed batches of E events
 * each (Spark driver log lines of 100-150 bytes, one metric in 25), all
 * naming its run and epoch. The events are compressed once per agent; each
 * batch is only sealed again under its next number (tbatch_seal_compressed),
 * so the agents cost the scheduler's CPU little. Prints the events the
 * scheduler acknowledged per second and the ack latency of the messages;
 * --ack-log appends "LATENCY_US ACKED_EVENTS" per message. Then exits.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"
#include "client.h"
#include "mp.h"
#include "tbatch.h"
#include "util.h"

#define MAX_AGENTS 512
#define MAX_SLOTS 256

struct opts {
	const char *url, *tokens, *state_dir, *journal, *lease_log, *ack_log;
	int slots, run_ms, fail_percent;
	long exit_after;
	int tm_events, tm_batches, tm_seconds; /* telemetry; 0 events: off */
};

struct held {
	uint64_t run, epoch;
	int64_t done_at;
};

struct sim_agent {
	int no;
	char token[256];
	struct agent_config cfg;
	struct client *cl;
	struct held held[MAX_SLOTS];
	size_t nheld;
	uint64_t rng;
	pthread_t thread;
	uint32_t *lat_us; /* ack latency of each telemetry message */
	size_t nlat, alat;
	bool arrived; /* at the start of streaming */
};

static struct opts o = { .slots = 64, .run_ms = 0, .tm_batches = 16,
			 .tm_seconds = 10 };
static volatile sig_atomic_t stop;
static pthread_mutex_t journal_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *journal, *lease_log;
static atomic_long n_done, n_stale, n_unknown, n_leased, n_calls, n_retries;
static FILE *ack_log;
static atomic_long tm_msgs, tm_acked, tm_rejected, tm_events, tm_bytes;
/* Streaming starts for all at once, when every agent holds a run (or has
 * given up): the rate is over one common interval. */
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cond = PTHREAD_COND_INITIALIZER;
static int n_agents, n_arrived;
static int64_t tm_start_us, tm_end_us, tm_last_us;

static void on_signal(int sig)
{
	stop = sig;
}

static void note(const char *fmt, ...) SP_PRINTF(1, 2);
static void note(const char *fmt, ...)
{
	va_list ap;
	if (!journal)
		return;
	pthread_mutex_lock(&journal_lock);
	va_start(ap, fmt);
	vfprintf(journal, fmt, ap);
	va_end(ap);
	fflush(journal);
	pthread_mutex_unlock(&journal_lock);
}

/* Seals and sends body as `type` until answered (resending the same bytes
 * while the scheduler is away). Returns 0 with reply set, -1 on stop. */
static int call(struct sim_agent *a, const char *type, msgpack_sbuffer *body,
		int64_t wait_ms, struct strbuf *raw, msgpack_unpacked *reply)
{
	struct strbuf sealed = STRBUF_INIT;
	char err[256];
	int rc = -1;

	if (client_seal(a->cl, type, body->data, body->size, &sealed))
		return -1;
	while (!stop) {
		atomic_fetch_add(&n_calls, 1);
		if (!client_call(a->cl, sealed.buf, sealed.len, wait_ms + 5000,
				 raw, reply, err, sizeof(err))) {
			rc = 0;
			break;
		}
		if (atomic_fetch_add(&n_retries, 1) < 20)
			fprintf(stderr, "agentsim: %s: %s (resending)\n", type, err);
		usleep(100 * 1000);
	}
	strbuf_release(&sealed);
	return rc;
}

static const char *reply_error(const msgpack_object *reply, char *buf,
			       size_t len)
{
	bool ok = false;
	mp_get_bool(reply, "ok", &ok);
	buf[0] = '\0';
	if (!ok)
		mp_get_str(reply, "error", buf, len);
	return ok ? NULL : buf[0] ? buf : "unknown";
}

static int enroll(struct sim_agent *a)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked reply;
	struct strbuf raw = STRBUF_INIT;
	uint8_t pub[32];
	char id[64] = "", code[64];
	const char *e;

	client_public_key(a->cl, pub);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	mp_kv_str(&pk, "token", a->token);
	mp_kv_bin(&pk, "pubkey", pub, sizeof(pub));
	mp_kv_str(&pk, "hostname", "agentsim");
	mp_kv_i64(&pk, "slots", o.slots);
	int rc = call(a, "enroll", &sb, 0, &raw, &reply);
	msgpack_sbuffer_destroy(&sb);
	if (rc)
		return -1;
	e = reply_error(&reply.data, code, sizeof(code));
	mp_get_str(&reply.data, "agent", id, sizeof(id));
	msgpack_unpacked_destroy(&reply);
	strbuf_release(&raw);
	if (e || !id[0] || client_set_agent_id(a->cl, id)) {
		fprintf(stderr, "sp-agentsim: agent %d: enrollment refused: %s\n",
			a->no, e ? e : "no id");
		return -1;
	}
	return 0;
}

static void pack_held(struct sim_agent *a, msgpack_packer *pk)
{
	mp_pack_cstr(pk, "held");
	msgpack_pack_array(pk, a->nheld);
	for (size_t i = 0; i < a->nheld; i++) {
		msgpack_pack_array(pk, 2);
		msgpack_pack_uint64(pk, a->held[i].run);
		msgpack_pack_uint64(pk, a->held[i].epoch);
	}
}

static int preflight(struct sim_agent *a)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked reply;
	struct strbuf raw = STRBUF_INIT;
	char state[32] = "";

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	pack_held(a, &pk);
	mp_kv_bool(&pk, "spark_ok", true);
	mp_kv_str(&pk, "spark_version", "3.5.1 (sp-agentsim)");
	mp_kv_i64(&pk, "disk_free_mb", 1 << 20);
	mp_kv_i64(&pk, "slots", o.slots);
	int rc = call(a, "preflight", &sb, 0, &raw, &reply);
	msgpack_sbuffer_destroy(&sb);
	if (rc)
		return -1;
	mp_get_str(&reply.data, "env_state", state, sizeof(state));
	msgpack_unpacked_destroy(&reply);
	strbuf_release(&raw);
	return strcmp(state, "ready") ? -1 : 0;
}

/* Applies "cancel" from a reply: those runs stop here (a real agent kills
 * them and reports; a stale one is refused, a cancelled one recorded). */
static void apply_cancel(struct sim_agent *a, const msgpack_object *reply,
			 struct held *out, size_t *nout)
{
	const msgpack_object *c = mp_get(reply, "cancel");
	for (uint32_t i = 0; c && c->type == MSGPACK_OBJECT_ARRAY &&
			     i < c->via.array.size; i++)
		for (size_t k = 0; k < a->nheld; k++)
			if (a->held[k].run == c->via.array.ptr[i].via.u64) {
				out[(*nout)++] = a->held[k];
				a->held[k] = a->held[--a->nheld];
				break;
			}
}

static void lease(struct sim_agent *a)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked reply;
	struct strbuf raw = STRBUF_INIT;
	const msgpack_object *runs;
	struct held dropped[MAX_SLOTS]; /* stopped here: not reported */
	size_t ndropped = 0;
	int64_t now;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_i64(&pk, "slots", (int64_t)(o.slots - (int)a->nheld));
	mp_kv_i64(&pk, "wait_ms", a->nheld ? 0 : 1000);
	pack_held(a, &pk);
	int rc = call(a, "lease", &sb, 1000, &raw, &reply);
	msgpack_sbuffer_destroy(&sb);
	if (rc)
		return;
	now = time_mono_ms();
	apply_cancel(a, &reply.data, dropped, &ndropped);
	runs = mp_get(&reply.data, "runs");
	for (uint32_t i = 0; runs && runs->type == MSGPACK_OBJECT_ARRAY &&
			     i < runs->via.array.size && a->nheld < MAX_SLOTS; i++) {
		struct held *h = &a->held[a->nheld];
		if (mp_get_u64(&runs->via.array.ptr[i], "run", &h->run) ||
		    mp_get_u64(&runs->via.array.ptr[i], "epoch", &h->epoch))
			continue;
		h->done_at = now + o.run_ms;
		a->nheld++;
		atomic_fetch_add(&n_leased, 1);
		if (lease_log) {
			pthread_mutex_lock(&journal_lock);
			fprintf(lease_log, "%llu %lld\n",
				(unsigned long long)h->run, (long long)wall_us());
			pthread_mutex_unlock(&journal_lock);
		}
	}
	msgpack_unpacked_destroy(&reply);
	strbuf_release(&raw);
}

/* Reports every held run that is due in one batched "complete". */
static void complete_due(struct sim_agent *a)
{
	struct held due[MAX_SLOTS];
	size_t n = 0;
	int64_t now = time_mono_ms();
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked reply;
	struct strbuf raw = STRBUF_INIT;
	char code[64];
	const char *e;

	for (size_t i = 0; i < a->nheld;)
		if (a->held[i].done_at <= now) {
			due[n++] = a->held[i];
			a->held[i] = a->held[--a->nheld];
		} else {
			i++;
		}
	if (!n)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_pack_cstr(&pk, "results");
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++) {
		bool fail = (int)(xorshift(&a->rng) % 100) < o.fail_percent;
		msgpack_pack_map(&pk, 5);
		mp_kv_u64(&pk, "run", due[i].run);
		mp_kv_u64(&pk, "epoch", due[i].epoch);
		mp_kv_str(&pk, "result", fail ? "failed" : "succeeded");
		mp_kv_i64(&pk, "exit_code", fail ? 1 : 0);
		mp_kv_str(&pk, "reason", fail ? "simulated failure" : "");
	}
	int rc = call(a, "complete", &sb, 0, &raw, &reply);
	msgpack_sbuffer_destroy(&sb);
	if (rc)
		return;
	e = reply_error(&reply.data, code, sizeof(code));
	if (e && !strcmp(e, "replayed")) {
		/* our first send was committed before a restart lost the
		 * scheduler's resend cache: accepted or stale, unknown */
		for (size_t i = 0; i < n; i++)
			note("unknown %llu %llu\n", (unsigned long long)due[i].run,
			     (unsigned long long)due[i].epoch);
		atomic_fetch_add(&n_unknown, (long)n);
	} else if (e) {
		fprintf(stderr, "sp-agentsim: complete refused: %s\n", e);
	} else {
		const msgpack_object *st = mp_get(&reply.data, "stale");
		for (size_t i = 0; i < n; i++) {
			bool stale = false;
			for (uint32_t k = 0; st && st->type == MSGPACK_OBJECT_ARRAY &&
					     k < st->via.array.size; k++)
				stale |= st->via.array.ptr[k].via.u64 == due[i].run;
			note("%s %llu %llu\n", stale ? "stale" : "done",
			     (unsigned long long)due[i].run,
			     (unsigned long long)due[i].epoch);
			atomic_fetch_add(stale ? &n_stale : &n_done, 1);
		}
	}
	msgpack_unpacked_destroy(&reply);
	strbuf_release(&raw);
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Blocks until every agent arrived; the last one starts the clock. */
static void arrive(struct sim_agent *a)
{
	a->arrived = true;
	pthread_mutex_lock(&start_lock);
	if (++n_arrived == n_agents) {
		tm_start_us = mono_us();
		tm_end_us = tm_start_us + (int64_t)o.tm_seconds * 1000000;
		pthread_cond_broadcast(&start_cond);
	}
	while (n_arrived < n_agents)
		pthread_cond_wait(&start_cond, &start_lock);
	pthread_mutex_unlock(&start_lock);
}

/* One event of a Spark driver's log, 100-150 bytes, varied enough that
 * zlib does not shrink it to nothing; one event in 25 is a metric. */
static void add_event(struct tbatch_builder *b, uint64_t *rng, int64_t ts,
		      uint32_t i)
{
	uint64_t r = xorshift(rng);
	unsigned v[8], mm = i / 60 % 60, ss = i % 60;
	char line[200];
	int n = 0;

	for (int k = 0; k < 8; k++)
		v[k] = (unsigned)(xorshift(rng) % 4000);
	if (i % 25 == 24) {
		if (r % 3 == 0)
			tbatch_add_value(b, ts, "records_read", TM_COUNTER,
					 v[0] * 100);
		else if (r % 3 == 1)
			tbatch_add_value(b, ts, "executors_active", TM_GAUGE,
					 v[1] % 64);
		else
			tbatch_add_histogram(b, ts, "task_ms", 25, v[2] * 25,
					     v[3] % 50, 4000 + v[4]);
		return;
	}
	switch (r % 5) {
	case 0:
		n = snprintf(line, sizeof(line),
			     "24/05/14 10:%02u:%02u INFO TaskSetManager: "
			     "Finished task %u.0 in stage %u.0 (TID %u) in "
			     "%u ms on 10.0.%u.%u (executor %u)",
			     mm, ss, v[0], v[1] % 40, v[2] * 7, v[3],
			     v[4] % 255, v[5] % 255, v[6] % 64);
		break;
	case 1:
		n = snprintf(line, sizeof(line),
			     "24/05/14 10:%02u:%02u INFO TaskSetManager: "
			     "Starting task %u.0 in stage %u.0 (TID %u) "
			     "(10.0.%u.%u, executor %u, partition %u, "
			     "PROCESS_LOCAL, 7952 bytes)",
			     mm, ss, v[0], v[1] % 40, v[2] * 7, v[4] % 255,
			     v[5] % 255, v[6] % 64, v[0]);
		break;
	case 2:
		n = snprintf(line, sizeof(line),
			     "24/05/14 10:%02u:%02u INFO BlockManagerInfo: "
			     "Added broadcast_%u_piece0 in memory on 10.0.%u.%u:%u "
			     "(size: %u.%u KiB, free: 2004.%u MiB)",
			     mm, ss, v[0] % 100, v[4] % 255, v[5] % 255,
			     40000 + v[3], v[6] % 64, v[7] % 10, v[1] % 10);
		break;
	case 3:
		n = snprintf(line, sizeof(line),
			     "24/05/14 10:%02u:%02u WARN TaskSetManager: Lost "
			     "task %u.0 in stage %u.0 (TID %u) (10.0.%u.%u "
			     "executor %u): java.io.IOException: Connection "
			     "reset by peer",
			     mm, ss, v[0], v[1] % 40, v[2] * 7, v[4] % 255,
			     v[5] % 255, v[6] % 64);
		break;
	default:
		n = snprintf(line, sizeof(line),
			     "24/05/14 10:%02u:%02u INFO DAGScheduler: "
			     "ShuffleMapStage %u (map at EtlJob.scala:%u) "
			     "finished in %u.%03u s on 10.0.%u.%u",
			     mm, ss, v[1] % 40, v[2] % 300, v[3] % 60,
			     v[7] % 1000, v[4] % 255, v[5] % 255);
		break;
	}
	tbatch_add_log(b, ts, r % 7 ? 2 : 1, line, (size_t)n);
}

static void note_latency(struct sim_agent *a, int64_t us)
{
	if (a->nlat == a->alat) {
		a->alat = a->alat ? a->alat * 2 : 4096;
		a->lat_us = xrealloc(a->lat_us, a->alat * sizeof(*a->lat_us));
	}
	a->lat_us[a->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Reads a telemetry reply: the batches acknowledged; logs refusals. */
static long read_acks(const msgpack_object *reply)
{
	const msgpack_object *acked = mp_get(reply, "acked"),
			     *rej = mp_get(reply, "rejected");
	char code[64];
	const char *e = reply_error(reply, code, sizeof(code));
	long n_rej = rej && rej->type == MSGPACK_OBJECT_ARRAY
			     ? (long)rej->via.array.size
			     : 0;

	if (e) {
		fprintf(stderr, "sp-agentsim: telemetry refused: %s\n", e);
		return 0;
	}
	if (n_rej && atomic_fetch_add(&tm_rejected, n_rej) < 5) {
		const msgpack_object *r0 = rej->via.array.ptr;
		if (r0->type == MSGPACK_OBJECT_ARRAY &&
		    r0->via.array.size == 3 &&
		    r0->via.array.ptr[2].type == MSGPACK_OBJECT_STR)
			fprintf(stderr, "sp-agentsim: batch rejected: %.*s\n",
				(int)r0->via.array.ptr[2].via.str.size,
				r0->via.array.ptr[2].via.str.ptr);
	}
	return acked && acked->type == MSGPACK_OBJECT_ARRAY
		       ? (long)acked->via.array.size
		       : 0;
}

/* Leases one run, then streams telemetry about it until tm_end_us. */
static void stream_telemetry(struct sim_agent *a)
{
	struct tbatch_builder b;
	struct tbatch_meta m;
	struct strbuf z = STRBUF_INIT, one = STRBUF_INIT, msg = STRBUF_INIT;
	struct strbuf raw = STRBUF_INIT;
	msgpack_sbuffer body;
	msgpack_packer pk;
	int64_t ts = time_now_ms();
	char err[256];

	while (!stop && !a->nheld)
		lease(a);
	arrive(a);
	if (stop || !a->nheld)
		return;
	tbatch_builder_init(&b);
	for (uint32_t i = 0; i < (uint32_t)o.tm_events; i++)
		add_event(&b, &a->rng, ts + i / 8, i);
	memset(&m, 0, sizeof(m));
	snprintf(m.agent, sizeof(m.agent), "%s", client_agent_id(a->cl));
	m.run = a->held[0].run;
	m.epoch = a->held[0].epoch;
	/* above any number an earlier run of this agent used */
	m.seq = (uint64_t)wall_us();
	if (tbatch_compress(&b, &z, &m, err, sizeof(err))) {
		fprintf(stderr, "sp-agentsim: agent %d: %s\n", a->no, err);
		goto out;
	}
	msgpack_sbuffer_init(&body);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	while (!stop && mono_us() < tm_end_us) {
		msgpack_unpacked reply;
		int64_t t0;
		long acked;

		msgpack_sbuffer_clear(&body);
		msgpack_pack_map(&pk, 1);
		mp_pack_cstr(&pk, "batches");
		msgpack_pack_array(&pk, (size_t)o.tm_batches);
		for (int k = 0; k < o.tm_batches; k++) {
			m.seq++;
			if (tbatch_seal_compressed(&m, client_key(a->cl), &one,
						   err, sizeof(err))) {
				fprintf(stderr, "sp-agentsim: %s\n", err);
				stop = SIGTERM;
				break;
			}
			msgpack_pack_bin_with_body(&pk, one.buf, one.len);
		}
		if (stop || client_seal(a->cl, "telemetry", body.data,
					body.size, &msg))
			break;
		t0 = mono_us();
		if (client_call(a->cl, msg.buf, msg.len, 30000, &raw, &reply,
				err, sizeof(err))) {
			/* a lost message is not resent: its batches count as
			 * not stored, the next ones carry new numbers */
			fprintf(stderr, "sp-agentsim: telemetry: %s\n", err);
			usleep(100 * 1000);
			continue;
		}
		note_latency(a, mono_us() - t0);
		acked = read_acks(&reply.data);
		msgpack_unpacked_destroy(&reply);
		atomic_fetch_add(&tm_msgs, 1);
		atomic_fetch_add(&tm_acked, acked);
		atomic_fetch_add(&tm_events, acked * (long)m.events);
		atomic_fetch_add(&tm_bytes, (long)msg.len);
		if (ack_log) {
			pthread_mutex_lock(&journal_lock);
			fprintf(ack_log, "%u %ld\n", a->lat_us[a->nlat - 1],
				acked * (long)m.events);
			fflush(ack_log);
			pthread_mutex_unlock(&journal_lock);
		}
	}
	/* the rate is over the time until the last answer came */
	pthread_mutex_lock(&start_lock);
	if (mono_us() > tm_last_us)
		tm_last_us = mono_us();
	pthread_mutex_unlock(&start_lock);
	msgpack_sbuffer_destroy(&body);
out:
	tbatch_builder_release(&b);
	strbuf_release(&z);
	strbuf_release(&one);
	strbuf_release(&msg);
	strbuf_release(&raw);
}

static int by_value(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

static void telemetry_totals(struct sim_agent *agents, int n)
{
	size_t total = 0, k = 0;
	uint32_t *all;
	double secs = tm_last_us > tm_start_us
			      ? (double)(tm_last_us - tm_start_us) / 1e6
			      : (double)o.tm_seconds;
	long ev = atomic_load(&tm_events);

	for (int i = 0; i < n; i++)
		total += agents[i].nlat;
	all = xcalloc(total ? total : 1, sizeof(*all));
	for (int i = 0; i < n; i++) {
		memcpy(all + k, agents[i].lat_us,
		       agents[i].nlat * sizeof(*all));
		k += agents[i].nlat;
		free(agents[i].lat_us);
	}
	qsort(all, total, sizeof(*all), by_value);
#define PCT(q) (total ? all[(size_t)((double)(total - 1) * (q))] / 1000.0 : 0.0)
	printf("telemetry: %d agents x %d batches x %d events per message, "
	       "%.2f s: %ld messages, %ld batches acked, %ld rejected; "
	       "%ld events = %.0f events/s; %.1f MB/s on the wire\n",
	       n, o.tm_batches, o.tm_events, secs, atomic_load(&tm_msgs),
	       atomic_load(&tm_acked), atomic_load(&tm_rejected), ev,
	       (double)ev / secs, (double)atomic_load(&tm_bytes) / secs / 1e6);
	printf("telemetry ack latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms "
	       "(%zu messages)\n",
	       PCT(0.5), PCT(0.99), PCT(1.0), total);
#undef PCT
	/* the agents share the host's cores with the scheduler here */
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("telemetry: agentsim used %.2f s of CPU (user+sys, all "
	       "phases)\n",
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) /
			       1e6);
	free(all);
}

static void *agent_main(void *arg)
{
	struct sim_agent *a = arg;
	char err[256];

	a->cl = client_open(&a->cfg, err, sizeof(err));
	if (!a->cl) {
		fprintf(stderr, "sp-agentsim: agent %d: %s\n", a->no, err);
		return NULL;
	}
	if (!client_agent_id(a->cl)[0] && enroll(a))
		goto out;
	while (!stop && preflight(a))
		usleep(200 * 1000);
	if (o.tm_events) {
		stream_telemetry(a);
		goto out;
	}
	while (!stop) {
		if (o.exit_after && atomic_load(&n_done) >= o.exit_after)
			stop = SIGTERM;
		complete_due(a);
		if (!stop)
			lease(a);
		if (a->nheld && o.run_ms)
			usleep(1000);
	}
out:
	if (o.tm_events && !a->arrived)
		arrive(a); /* gave up before holding a run: not waited for */
	client_close(a->cl);
	return NULL;
}

static int parse(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--scheduler")) o.url = v;
		else if (!strcmp(k, "--tokens")) o.tokens = v;
		else if (!strcmp(k, "--state-dir")) o.state_dir = v;
		else if (!strcmp(k, "--journal")) o.journal = v;
		else if (!strcmp(k, "--lease-log")) o.lease_log = v;
		else if (!strcmp(k, "--slots")) o.slots = atoi(v);
		else if (!strcmp(k, "--run-ms")) o.run_ms = atoi(v);
		else if (!strcmp(k, "--fail-percent")) o.fail_percent = atoi(v);
		else if (!strcmp(k, "--exit-after-runs")) o.exit_after = atol(v);
		else if (!strcmp(k, "--telemetry-events")) o.tm_events = atoi(v);
		else if (!strcmp(k, "--telemetry-batches")) o.tm_batches = atoi(v);
		else if (!strcmp(k, "--telemetry-seconds")) o.tm_seconds = atoi(v);
		else if (!strcmp(k, "--ack-log")) o.ack_log = v;
		else return -1;
	}
	return (argc % 2 == 1 && o.url && o.tokens && o.state_dir &&
		o.slots >= 1 && o.slots <= MAX_SLOTS && o.run_ms >= 0 &&
		o.tm_events >= 0 &&
		(uint32_t)o.tm_events <= TBATCH_MAX_EVENTS &&
		o.tm_batches >= 1 && o.tm_batches <= 64 && o.tm_seconds >= 1)
		       ? 0
		       : -1;
}

int main(int argc, char **argv)
{
	static struct sim_agent agents[MAX_AGENTS];
	char line[512];
	int n = 0;
	FILE *f;
	struct sigaction sa;

	if (parse(argc, argv)) {
		fprintf(stderr, "usage: sp-agentsim --scheduler URL --tokens FILE "
				"--state-dir DIR [--slots N] [--run-ms MS] "
				"[--fail-percent P] [--journal FILE] "
				"[--lease-log FILE] [--exit-after-runs N] "
				"[--telemetry-events E [--telemetry-batches B] "
				"[--telemetry-seconds S] [--ack-log FILE]]\n");
		return 2;
	}
	log_setup("sp-agentsim", LOG_WARN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (!(f = fopen(o.tokens, "r")))
		die("cannot open '%s': %s", o.tokens, strerror(errno));
	while (n < MAX_AGENTS && fgets(line, sizeof(line), f)) {
		struct sim_agent *a = &agents[n];
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		a->no = n + 1;
		a->rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(n + 1);
		snprintf(a->token, sizeof(a->token), "%s", line);
		agent_config_defaults(&a->cfg);
		snprintf(a->cfg.scheduler, sizeof(a->cfg.scheduler), "%s", o.url);
		snprintf(a->cfg.state_dir, sizeof(a->cfg.state_dir), "%s/agent-%d",
			 o.state_dir, n + 1);
		if (mkdir_p(a->cfg.state_dir, 0700))
			die("cannot create '%s'", a->cfg.state_dir);
		n++;
	}
	fclose(f);
	if (o.journal && !(journal = fopen(o.journal, "a")))
		die("cannot open '%s': %s", o.journal, strerror(errno));
	if (o.lease_log && !(lease_log = fopen(o.lease_log, "a")))
		die("cannot open '%s': %s", o.lease_log, strerror(errno));
	if (o.ack_log && !(ack_log = fopen(o.ack_log, "a")))
		die("cannot open '%s': %s", o.ack_log, strerror(errno));
	n_agents = n;
	for (int i = 0; i < n; i++)
		pthread_create(&agents[i].thread, NULL, agent_main, &agents[i]);
	for (int i = 0; i < n; i++)
		pthread_join(agents[i].thread, NULL);
	if (journal)
		fclose(journal);
	if (lease_log)
		fclose(lease_log);
	if (ack_log)
		fclose(ack_log);
	printf("agentsim: %d agents, %ld leased, %ld done, %ld stale, %ld unknown, "
	       "%ld calls, %ld resends\n",
	       n, atomic_load(&n_leased), atomic_load(&n_done),
	       atomic_load(&n_stale), atomic_load(&n_unknown),
	       atomic_load(&n_calls), atomic_load(&n_retries));
	if (o.tm_events)
		telemetry_totals(agents, n);
	return 0;
}
