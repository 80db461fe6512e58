/*
 * sp-fleetsim - a fleet of simulated agents in one process: up to 20,000
 * agents, each with its own nng REQ socket and dialer (its own TCP
 * connection, as real agents have), all driven by nng aio callbacks on
 * nng's few task threads: no thread per agent (sp-agentsim has one, and
 * stops at 512). nng sets no limit on sockets or aios; each agent holds
 * one descriptor, so the open files limit is raised to its hard limit
 * (20,000 on the development machine: about 19,900 agents), and 10,000
 * agents take about 170 MiB. The scheduler must let them in: from one
 * address that takes agent_conns_per_source (and agent_conns_max) above
 * the fleet (bench/fanin.sh sets both).
 *
 *   sp-fleetsim --scheduler URL --tokens FILE [--slots N] [--run-ms MS]
 *               [--enroll-window W] [--idle-poll MS] [--lease-log FILE]
 *               [--status FILE]
 *
 * Each agent speaks the real agent's protocol with its own fresh Ed25519
 * identity (nothing is persisted: sequence numbers start at 1 in memory):
 * enroll with one token of FILE (one per line), preflight, then what
 * agent/main.c does: with a free slot a long-polled `lease` (wait_ms
 * --idle-poll, default 25000 as the agent's idle_poll_ms, when idle, 200
 * while it holds a run) carrying the held list; with every slot
 * busy a `heartbeat` every 2 s; a run leased "runs" for --run-ms and is
 * reported in one batched `complete`. A failed call (timeout, no
 * connection) is resent byte for byte after the agent's RETRY_MS (500 ms),
 * an `unavailable` answer after its retry_after_ms (100 ms..60 s); each
 * delay gets up to 20 % more at random, as the agent's RETRY_MS does, so
 * that 10,000 agents that failed together do not resend in step.
 * Enrollment is paced: at most W agents (default 256) are between their
 * dial and their first preflight answer at once.
 *
 * --lease-log appends "RUN WALL_US" when a lease reaches an agent (the
 * submit -> agent latency, with sp-bench-submit's log). --status rewrites
 * FILE every second: "STARTED ENROLLED READY LEASED CALLS" (counts;
 * CALLS: messages sent, resends included).
 * Stops on SIGINT/SIGTERM and prints totals and its CPU time.
 */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"
#include "mp.h"
#include "sign.h"
#include "strbuf.h"
#include "util.h"
#include "wire.h"

#define MAX_AGENTS 20000
#define MAX_SLOTS 64
/* agent/main.c and agent/agent_config.c's defaults */
#define RETRY_MS 500
#define BUSY_LEASE_WAIT_MS 200
#define HEARTBEAT_MS 2000
#define PREFLIGHT_RETRY_MS 30000
#define REQUEST_TIMEOUT_MS 10000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 60000

enum msg_kind { K_NONE, K_ENROLL, K_PREFLIGHT, K_LEASE, K_HEARTBEAT,
		K_COMPLETE };
static const char *const kind_name[] = { "", "enroll", "preflight", "lease",
					 "heartbeat", "complete" };
enum io { IO_SLEEP, IO_SEND, IO_RECV };
/* What an answer leads to: the next step (after a delay), the same bytes
 * again (after a delay), or nothing more (a refused enrollment). */
enum next { NEXT_STEP, NEXT_RESEND, NEXT_GIVE_UP };

struct held {
	uint64_t run, epoch;
	int64_t done_at; /* monotonic ms */
};

struct fa {
	int no;
	char token[128];
	struct sign_key *key;
	char id[64];
	uint64_t seq;
	nng_socket sock;
	nng_dialer dialer;
	nng_aio *aio;   /* sends and receives */
	/* sleeps, never on aio: libnng 1.5 ends any later timeout of an aio
	 * that once slept with result 0 (and a receive with no message) */
	nng_aio *timer;
	enum io io;
	enum msg_kind kind;     /* the message in flight (or to resend) */
	struct strbuf sealed;   /* its bytes, resent as they are */
	int64_t wait_ms;        /* its long-poll wait */
	struct held held[MAX_SLOTS];
	int nheld;
	struct held sent[MAX_SLOTS]; /* the runs the `complete` reports */
	int nsent;
	bool ready, open;
	bool resend; /* the sleep under way ends in a resend of sealed */
	int64_t next_heartbeat;
	uint64_t rng;
};

static struct {
	const char *url, *tokens, *lease_log, *status;
	int slots, run_ms, window, idle_poll_ms;
} o = { .slots = 4, .window = 256, .idle_poll_ms = 25000 };

static struct fa *agents;
static int n_agents;
static volatile sig_atomic_t stop_sig;
static atomic_bool stopping;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *lease_log;
static atomic_int n_started, n_enrolled, n_ready, n_pending, n_failed;
static atomic_long n_calls, n_errors, n_leased, n_done, n_stale, n_hb;
static atomic_long n_unavailable;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void agent_step(struct fa *a);

/* A retry delay plus up to 20 % (never less than the agent waits), so
 * that a fleet that failed at once does not resend in step. */
static int64_t jittered(struct fa *a, int64_t ms)
{
	return ms + (int64_t)(xorshift(&a->rng) % (uint64_t)(ms / 5 + 1));
}

static void sleep_then(struct fa *a, int64_t ms)
{
	a->io = IO_SLEEP;
	nng_sleep_aio((nng_duration)(ms > 0 ? ms : 0), a->timer);
}

/* Sends a->sealed (again); the answer comes to agent_cb. */
static void send_sealed(struct fa *a)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, 0) ||
	    nng_msg_append(m, a->sealed.buf, a->sealed.len))
		die("out of memory");
	atomic_fetch_add(&n_calls, 1);
	a->io = IO_SEND;
	nng_aio_set_msg(a->aio, m);
	nng_aio_set_timeout(a->aio, REQUEST_TIMEOUT_MS);
	nng_send_aio(a->sock, a->aio);
}

/* Seals body (a packed map) as the next message of `kind` and sends it. */
static void seal_send(struct fa *a, enum msg_kind kind, msgpack_sbuffer *sb,
		      int64_t wait_ms)
{
	a->kind = kind;
	a->wait_ms = wait_ms;
	strbuf_reset(&a->sealed);
	wire_seal(&a->sealed, kind_name[kind], a->id, ++a->seq,
		  time_now_ms(), sb->data, sb->size, a->key);
	msgpack_sbuffer_destroy(sb);
	send_sealed(a);
}

static void pack_init(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
}

static void pack_held(struct fa *a, msgpack_packer *pk)
{
	mp_pack_cstr(pk, "held");
	msgpack_pack_array(pk, (size_t)a->nheld);
	for (int i = 0; i < a->nheld; i++) {
		msgpack_pack_array(pk, 2);
		msgpack_pack_uint64(pk, a->held[i].run);
		msgpack_pack_uint64(pk, a->held[i].epoch);
	}
}

/* The spool figures the real agent adds to leases and heartbeats (an
 * empty spool), so that the messages have the real agent's size. */
static void pack_spool(msgpack_packer *pk)
{
	static const char *const k[] = { "records", "bytes", "dropped_logs",
					 "dropped_metrics", "corrupt", "torn" };
	mp_pack_cstr(pk, "spool");
	msgpack_pack_map(pk, 6);
	for (int i = 0; i < 6; i++)
		mp_kv_u64(pk, k[i], 0);
}

static void send_enroll(struct fa *a)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint8_t pub[SIGN_PUB_LEN];

	sign_key_public(a->key, pub);
	pack_init(&sb, &pk);
	msgpack_pack_map(&pk, 5);
	mp_kv_str(&pk, "version", "sp-fleetsim");
	mp_kv_str(&pk, "token", a->token);
	mp_kv_bin(&pk, "pubkey", pub, sizeof(pub));
	mp_kv_str(&pk, "hostname", "fleetsim");
	mp_kv_i64(&pk, "slots", o.slots);
	seal_send(a, K_ENROLL, &sb, 0);
}

static void send_preflight(struct fa *a)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	pack_init(&sb, &pk);
	msgpack_pack_map(&pk, 6);
	pack_held(a, &pk);
	mp_kv_bool(&pk, "spark_ok", true);
	mp_kv_str(&pk, "spark_version", "3.5.1 (sp-fleetsim)");
	mp_kv_str(&pk, "spark_error", "");
	mp_kv_i64(&pk, "disk_free_mb", 1 << 20);
	mp_kv_i64(&pk, "slots", o.slots);
	seal_send(a, K_PREFLIGHT, &sb, 0);
}

static void send_lease(struct fa *a)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	/* the agent's idle poll is up to 20 % shorter at random */
	int64_t wait = a->nheld ? BUSY_LEASE_WAIT_MS
				: o.idle_poll_ms -
					  (int64_t)(xorshift(&a->rng) %
						    (uint64_t)(o.idle_poll_ms / 5 + 1));

	pack_init(&sb, &pk);
	msgpack_pack_map(&pk, 4);
	mp_kv_i64(&pk, "slots", o.slots - a->nheld);
	mp_kv_i64(&pk, "wait_ms", wait);
	pack_held(a, &pk);
	pack_spool(&pk);
	seal_send(a, K_LEASE, &sb, wait);
}

static void send_heartbeat(struct fa *a)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	pack_init(&sb, &pk);
	msgpack_pack_map(&pk, 4);
	mp_kv_str(&pk, "version", "sp-fleetsim");
	mp_kv_i64(&pk, "running", a->nheld);
	pack_held(a, &pk);
	pack_spool(&pk);
	seal_send(a, K_HEARTBEAT, &sb, 0);
}

/* Reports the held runs that are due, in one batched `complete`. */
static void send_complete(struct fa *a, int64_t now)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	a->nsent = 0;
	for (int i = 0; i < a->nheld;)
		if (a->held[i].done_at <= now) {
			a->sent[a->nsent++] = a->held[i];
			a->held[i] = a->held[--a->nheld];
		} else {
			i++;
		}
	pack_init(&sb, &pk);
	msgpack_pack_map(&pk, 1);
	mp_pack_cstr(&pk, "results");
	msgpack_pack_array(&pk, (size_t)a->nsent);
	for (int i = 0; i < a->nsent; i++) {
		msgpack_pack_map(&pk, 5);
		mp_kv_u64(&pk, "run", a->sent[i].run);
		mp_kv_u64(&pk, "epoch", a->sent[i].epoch);
		mp_kv_str(&pk, "result", "succeeded");
		mp_kv_i64(&pk, "exit_code", 0);
		mp_kv_str(&pk, "reason", "");
	}
	seal_send(a, K_COMPLETE, &sb, 0);
}

/* Decides the next message, as agent/main.c's plan_next does: reports of
 * ended runs first, then work while a slot is free, else a heartbeat when
 * one is due; otherwise sleeps until something is. */
static void agent_step(struct fa *a)
{
	int64_t now = time_mono_ms(), wake;

	if (atomic_load(&stopping))
		return;
	if (!a->id[0]) {
		send_enroll(a);
		return;
	}
	if (!a->ready) {
		send_preflight(a);
		return;
	}
	wake = a->next_heartbeat;
	for (int i = 0; i < a->nheld; i++) {
		if (a->held[i].done_at <= now) {
			send_complete(a, now);
			return;
		}
		if (a->held[i].done_at < wake)
			wake = a->held[i].done_at;
	}
	if (a->nheld < o.slots)
		send_lease(a);
	else if (now >= a->next_heartbeat)
		send_heartbeat(a);
	else
		sleep_then(a, wake - now);
}

static const char *reply_error(const msgpack_object *r, char *buf, size_t len)
{
	bool ok = false;
	mp_get_bool(r, "ok", &ok);
	buf[0] = '\0';
	if (!ok)
		mp_get_str(r, "error", buf, len);
	return ok ? NULL : buf[0] ? buf : "unknown";
}

/* A reply's "cancel": those runs stop here, unreported. */
static void apply_cancel(struct fa *a, const msgpack_object *r)
{
	const msgpack_object *c = mp_get(r, "cancel");
	for (uint32_t i = 0; c && c->type == MSGPACK_OBJECT_ARRAY &&
			     i < c->via.array.size; i++)
		for (int k = 0; k < a->nheld; k++)
			if (a->held[k].run == c->via.array.ptr[i].via.u64) {
				a->held[k] = a->held[--a->nheld];
				break;
			}
}

static void got_runs(struct fa *a, const msgpack_object *r)
{
	const msgpack_object *runs = mp_get(r, "runs");
	int64_t now = time_mono_ms(), wall = wall_us();

	for (uint32_t i = 0; runs && runs->type == MSGPACK_OBJECT_ARRAY &&
			     i < runs->via.array.size && a->nheld < MAX_SLOTS;
	     i++) {
		struct held *h = &a->held[a->nheld];
		if (mp_get_u64(&runs->via.array.ptr[i], "run", &h->run) ||
		    mp_get_u64(&runs->via.array.ptr[i], "epoch", &h->epoch))
			continue;
		h->done_at = now + o.run_ms;
		a->nheld++;
		atomic_fetch_add(&n_leased, 1);
		if (lease_log) {
			pthread_mutex_lock(&log_lock);
			fprintf(lease_log, "%llu %lld\n",
				(unsigned long long)h->run, (long long)wall);
			pthread_mutex_unlock(&log_lock);
		}
	}
	/* the bench counts the lines while it runs */
	if (lease_log && runs && runs->type == MSGPACK_OBJECT_ARRAY &&
	    runs->via.array.size) {
		pthread_mutex_lock(&log_lock);
		fflush(lease_log);
		pthread_mutex_unlock(&log_lock);
	}
}

static void got_complete(struct fa *a, const msgpack_object *r)
{
	const msgpack_object *st = mp_get(r, "stale");
	for (int i = 0; i < a->nsent; i++) {
		bool stale = false;
		for (uint32_t k = 0; st && st->type == MSGPACK_OBJECT_ARRAY &&
				     k < st->via.array.size; k++)
			stale |= st->via.array.ptr[k].via.u64 == a->sent[i].run;
		atomic_fetch_add(stale ? &n_stale : &n_done, 1);
	}
	a->nsent = 0;
}

/* The enrollment's answer (e: its error, or NULL): the agent id. */
static enum next got_enroll(struct fa *a, const msgpack_object *r,
			    const char *e)
{
	if (e || mp_get_str(r, "agent", a->id, sizeof(a->id)) || !a->id[0]) {
		fprintf(stderr, "sp-fleetsim: agent %d: enrollment refused: "
			"%s\n", a->no, e ? e : "no id");
		a->id[0] = '\0';
		atomic_fetch_add(&n_failed, 1);
		atomic_fetch_sub(&n_pending, 1);
		return NEXT_GIVE_UP;
	}
	atomic_fetch_add(&n_enrolled, 1);
	return NEXT_STEP;
}

/* The preflight's answer: ready for work, or another preflight later. */
static enum next got_preflight(struct fa *a, const msgpack_object *r,
			       int64_t *ms)
{
	char state[32] = "";

	apply_cancel(a, r);
	mp_get_str(r, "env_state", state, sizeof(state));
	if (strcmp(state, "ready")) {
		*ms = PREFLIGHT_RETRY_MS;
		return NEXT_STEP;
	}
	a->ready = true;
	a->next_heartbeat = time_mono_ms() + HEARTBEAT_MS;
	atomic_fetch_add(&n_ready, 1);
	atomic_fetch_sub(&n_pending, 1);
	return NEXT_STEP;
}

/* Handles an answer to a->kind: what comes next, and *ms, how long to
 * wait for it (0: at once). */
static enum next handle_reply(struct fa *a, const msgpack_object *r,
			      int64_t *ms)
{
	char code[64];
	const char *e = reply_error(r, code, sizeof(code));

	*ms = 0;
	if (e && !strcmp(e, "unavailable")) {
		/* nothing was done: the same bytes once the time it asks
		 * for has passed, as client.c's backoff() */
		*ms = 1000;
		mp_get_i64(r, "retry_after_ms", ms);
		*ms = *ms < BACKOFF_MIN_MS ? BACKOFF_MIN_MS
		      : *ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *ms;
		atomic_fetch_add(&n_unavailable, 1);
		return NEXT_RESEND;
	}
	if (e && !strcmp(e, "shutting_down")) {
		*ms = RETRY_MS;
		return NEXT_RESEND;
	}
	switch (a->kind) {
	case K_ENROLL:
		return got_enroll(a, r, e);
	case K_PREFLIGHT:
		return got_preflight(a, r, ms);
	case K_LEASE:
		if (!e) {
			apply_cancel(a, r);
			got_runs(a, r);
		}
		break;
	case K_HEARTBEAT:
		if (!e)
			apply_cancel(a, r);
		atomic_fetch_add(&n_hb, 1);
		break;
	case K_COMPLETE:
		if (e)
			fprintf(stderr, "sp-fleetsim: complete refused: %s\n", e);
		else
			got_complete(a, r);
		break;
	default:
		break;
	}
	/* the real agent beats HEARTBEAT_MS after any answered message */
	a->next_heartbeat = time_mono_ms() + HEARTBEAT_MS;
	return NEXT_STEP;
}

/* A failed call: resend the same bytes after the agent's retry delay. */
static void retry(struct fa *a, int64_t ms)
{
	long n = atomic_fetch_add(&n_errors, 1);
	if (n < 10)
		fprintf(stderr, "sp-fleetsim: agent %d: %s failed (resending)\n",
			a->no, kind_name[a->kind]);
	a->resend = true;
	sleep_then(a, jittered(a, ms));
}

static void on_recv(struct fa *a)
{
	nng_msg *m = nng_aio_get_msg(a->aio);
	msgpack_unpacked up;
	enum next next;
	int64_t wait;

	msgpack_unpacked_init(&up);
	/* no message with a result of 0: a timeout, however reported */
	if (!m || msgpack_unpack_next(&up, nng_msg_body(m), nng_msg_len(m),
				      NULL) != MSGPACK_UNPACK_SUCCESS ||
	    up.data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(&up);
		if (m)
			nng_msg_free(m);
		retry(a, RETRY_MS);
		return;
	}
	next = handle_reply(a, &up.data, &wait);
	msgpack_unpacked_destroy(&up);
	nng_msg_free(m);
	if (next == NEXT_GIVE_UP)
		return;
	if (next == NEXT_RESEND) {
		retry(a, wait);
		return;
	}
	if (wait > 0)
		sleep_then(a, wait);
	else
		agent_step(a);
}

/* The agent's one aio: a sleep, a send or a receive ended. */
static void agent_cb(void *arg)
{
	struct fa *a = arg;
	int rv = nng_aio_result(a->aio);

	if (atomic_load(&stopping))
		return;
	switch (a->io) {
	case IO_SLEEP:
		if (a->resend) {
			a->resend = false;
			send_sealed(a);
		} else {
			agent_step(a);
		}
		return;
	case IO_SEND:
		if (rv) {
			nng_msg_free(nng_aio_get_msg(a->aio));
			retry(a, RETRY_MS);
			return;
		}
		a->io = IO_RECV;
		nng_aio_set_timeout(a->aio, a->wait_ms + REQUEST_TIMEOUT_MS);
		nng_recv_aio(a->sock, a->aio);
		return;
	case IO_RECV:
		if (rv)
			retry(a, RETRY_MS);
		else
			on_recv(a);
		return;
	}
}

/* Opens the agent's socket, dials, and sends its enrollment (queued by
 * the REQ socket until the connection is up). */
static int agent_start(struct fa *a)
{
	int rv;

	if ((rv = nng_req0_open(&a->sock)) ||
	    (rv = nng_socket_set_size(a->sock, NNG_OPT_RECVMAXSZ,
				      WIRE_MAX_MSG)) ||
	    (rv = nng_socket_set_ms(a->sock, NNG_OPT_REQ_RESENDTIME,
				    NNG_DURATION_INFINITE)) ||
	    (rv = nng_aio_alloc(&a->aio, agent_cb, a)) ||
	    (rv = nng_aio_alloc(&a->timer, agent_cb, a)) ||
	    (rv = nng_dialer_create(&a->dialer, a->sock, o.url)) ||
	    (rv = nng_dialer_start(a->dialer, NNG_FLAG_NONBLOCK))) {
		fprintf(stderr, "sp-fleetsim: agent %d: cannot dial '%s': %s\n",
			a->no, o.url, nng_strerror(rv));
		nng_close(a->sock); /* an error for a socket never opened */
		nng_aio_free(a->aio);
		nng_aio_free(a->timer);
		a->aio = a->timer = NULL;
		atomic_fetch_add(&n_failed, 1);
		return -1;
	}
	a->open = true;
	atomic_fetch_add(&n_started, 1);
	atomic_fetch_add(&n_pending, 1);
	agent_step(a);
	return 0;
}

static int parse(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--scheduler")) o.url = v;
		else if (!strcmp(k, "--tokens")) o.tokens = v;
		else if (!strcmp(k, "--lease-log")) o.lease_log = v;
		else if (!strcmp(k, "--status")) o.status = v;
		else if (!strcmp(k, "--slots")) o.slots = atoi(v);
		else if (!strcmp(k, "--run-ms")) o.run_ms = atoi(v);
		else if (!strcmp(k, "--enroll-window")) o.window = atoi(v);
		else if (!strcmp(k, "--idle-poll")) o.idle_poll_ms = atoi(v);
		else return -1;
	}
	return (argc % 2 == 1 && o.url && o.tokens && o.slots >= 1 &&
		o.slots <= MAX_SLOTS && o.run_ms >= 0 && o.window >= 1 &&
		o.idle_poll_ms >= 0)
		       ? 0
		       : -1;
}

static void load_tokens(void)
{
	char line[512];
	FILE *f = fopen(o.tokens, "r");

	if (!f)
		die("cannot open '%s': %s", o.tokens, strerror(errno));
	agents = xcalloc(MAX_AGENTS, sizeof(*agents));
	while (n_agents < MAX_AGENTS && fgets(line, sizeof(line), f)) {
		struct fa *a = &agents[n_agents];
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		a->no = n_agents + 1;
		a->rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(n_agents + 1);
		snprintf(a->token, sizeof(a->token), "%s", line);
		strbuf_init(&a->sealed, 0);
		if (!(a->key = sign_key_generate()))
			die("cannot generate a key");
		n_agents++;
	}
	fclose(f);
}

/* Each agent needs a socket: the open files limit goes up to its hard
 * limit (20,000 agents need about 20,100). */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)n_agents + 64)
		fprintf(stderr, "sp-fleetsim: the open files limit (%llu) is "
			"below %d agents' sockets\n",
			(unsigned long long)rl.rlim_cur, n_agents);
}

static void write_status(void)
{
	char tmp[600];
	FILE *f;

	if (!o.status)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", o.status);
	if (!(f = fopen(tmp, "w")))
		return;
	fprintf(f, "%d %d %d %ld %ld\n", atomic_load(&n_started),
		atomic_load(&n_enrolled), atomic_load(&n_ready),
		atomic_load(&n_leased), atomic_load(&n_calls));
	fclose(f);
	rename(tmp, o.status);
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Starts the agents, at most o.window of them between their dial and
 * their first passed preflight; then waits for a stop signal. */
static void run(void)
{
	int64_t t0 = time_mono_ms(), last = 0, ready_ms = -1;
	int next = 0;

	while (!stop_sig) {
		while (next < n_agents &&
		       atomic_load(&n_pending) < o.window)
			agent_start(&agents[next++]);
		if (ready_ms < 0 && next == n_agents &&
		    atomic_load(&n_ready) + atomic_load(&n_failed) ==
			    n_agents) {
			ready_ms = time_mono_ms() - t0;
			printf("fleetsim: %d agents ready (%d refused) in "
			       "%.2f s (window %d); CPU so far %.2f s\n",
			       atomic_load(&n_ready), atomic_load(&n_failed),
			       (double)ready_ms / 1000, o.window, cpu_s());
			fflush(stdout);
		}
		if (time_mono_ms() - last >= 1000) {
			last = time_mono_ms();
			write_status();
		}
		usleep(next < n_agents ? 2000 : 50000);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	if (parse(argc, argv)) {
		fprintf(stderr, "usage: sp-fleetsim --scheduler URL --tokens "
			"FILE [--slots N] [--run-ms MS] [--enroll-window W] "
			"[--idle-poll MS] [--lease-log FILE] [--status FILE]\n");
		return 2;
	}
	log_setup("sp-fleetsim", LOG_WARN);
	sign_init_lean();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	load_tokens();
	raise_nofile();
	if (o.lease_log && !(lease_log = fopen(o.lease_log, "a")))
		die("cannot open '%s': %s", o.lease_log, strerror(errno));
	run();
	atomic_store(&stopping, true);
	/* stop every aio (its callback sees stopping), then the sockets */
	for (int i = 0; i < n_agents; i++)
		if (agents[i].open) {
			nng_aio_stop(agents[i].aio);
			nng_aio_stop(agents[i].timer);
		}
	for (int i = 0; i < n_agents; i++) {
		if (agents[i].open) {
			nng_close(agents[i].sock);
			nng_aio_free(agents[i].aio);
			nng_aio_free(agents[i].timer);
		}
		sign_key_free(agents[i].key);
		strbuf_release(&agents[i].sealed);
	}
	if (lease_log)
		fclose(lease_log);
	printf("fleetsim: %d agents (%d enrolled, %d ready), %ld calls, "
	       "%ld failed calls resent, %ld unavailable, %ld leased, %ld done, "
	       "%ld stale, %ld heartbeats; CPU %.2f s\n",
	       n_agents, atomic_load(&n_enrolled), atomic_load(&n_ready),
	       atomic_load(&n_calls), atomic_load(&n_errors),
	       atomic_load(&n_unavailable), atomic_load(&n_leased),
	       atomic_load(&n_done), atomic_load(&n_stale),
	       atomic_load(&n_hb), cpu_s());
	free(agents);
	return 0;
}
