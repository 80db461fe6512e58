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
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "client.h"
#include "mp.h"
#include "util.h"

#define MAX_AGENTS 512
#define MAX_SLOTS 256

struct opts {
	const char *url, *tokens, *state_dir, *journal, *lease_log;
	int slots, run_ms, fail_percent;
	long exit_after;
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
};

static struct opts o = { .slots = 64, .run_ms = 0 };
static volatile sig_atomic_t stop;
static pthread_mutex_t journal_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *journal, *lease_log;
static atomic_long n_done, n_stale, n_unknown, n_leased, n_calls, n_retries;

static void on_signal(int sig)
{
	stop = sig;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int64_t wall_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
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
		else return -1;
	}
	return (argc % 2 == 1 && o.url && o.tokens && o.state_dir &&
		o.slots >= 1 && o.slots <= MAX_SLOTS && o.run_ms >= 0) ? 0 : -1;
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
				"[--lease-log FILE] [--exit-after-runs N]\n");
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
	for (int i = 0; i < n; i++)
		pthread_create(&agents[i].thread, NULL, agent_main, &agents[i]);
	for (int i = 0; i < n; i++)
		pthread_join(agents[i].thread, NULL);
	if (journal)
		fclose(journal);
	if (lease_log)
		fclose(lease_log);
	printf("agentsim: %d agents, %ld leased, %ld done, %ld stale, %ld unknown, "
	       "%ld calls, %ld resends\n",
	       n, atomic_load(&n_leased), atomic_load(&n_done),
	       atomic_load(&n_stale), atomic_load(&n_unknown),
	       atomic_load(&n_calls), atomic_load(&n_retries));
	return 0;
}
