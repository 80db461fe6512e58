/* main.c - sparkpilot-agent: enroll once, report a preflight, then pull work
 * for free slots, run spark-submit and report back. One event loop. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"
#include "backend.h"
#include "client.h"
#include "leftovers.h"
#include "mp.h"
#include "notify.h"
#include "outbox.h"
#include "preflight.h"
#include "rotate.h"
#include "settings.h"
#include "sign.h"
#include "tsink.h"
#include "util.h"
#include "version.h"
#include "spool_disk.h"
#include "wire.h"
#include "work.h"

#define MAX_POLLFDS 512
#define RETRY_MS 500
#define BUSY_LEASE_WAIT_MS 200
#define LEASE_EVERY_MS 1000
#define GOODBYE_TIMEOUT_MS 2000

static volatile sig_atomic_t stop_signal;

struct agent {
	struct agent_config cfg;
	struct client *cl;
	struct outbox out;
	struct tsink *sink;  /* reports about runs, durable (tsink.h) */
	struct work *work;
	struct rotate rot;   /* identity key rotation (rotate.h) */
	bool ready;          /* our last preflight passed */
	bool fatal;          /* the scheduler refused our identity */
	int64_t next_heartbeat, next_preflight, next_send;
	int64_t last_ask;    /* when plan_next last asked for work or beat */
	struct strbuf raw;   /* bytes of the last reply */
	int64_t unreachable_since; /* first failed call of a run of them */
	bool unreachable_warned;
	/* the environment's backend, from the last preflight reply: the
	 * emr-eks preflight checks its virtual cluster with these settings */
	char backend[BACKEND_NAME_MAX];
	struct backend_setting *bset; /* owned copies */
	size_t nbset;
	bool backend_checked; /* our last preflight included the check */
	uint64_t rng;         /* jitter of polls and retries (xorshift) */
};

/* Calls to the scheduler failing for this many request timeouts (30 s by
 * default) get a warning: nng keeps redialing, and shorter blips are
 * normal (logged at debug only). */
#define UNREACHABLE_WARN_TIMEOUTS 3

static const char usage[] =
	"usage: sparkpilot-agent [--config FILE] [--scheduler URL] "
	"[--state-dir DIR]\n"
	"                        [--enroll-token TOKEN | --enroll-token-file "
	"FILE]\n"
	"                        [--spark-submit PATH] [--slots N]\n"
	"                        [--spark-rest-url URL] [--tls-ca PEM]\n"
	"                        [--tls-cert PEM] [--tls-key PEM]\n"
	"       sparkpilot-agent [--config FILE] [flags] --print-config\n"
	"       sparkpilot-agent --version | --help\n";

static void parse_flags(int argc, char **argv, struct agent_config *cfg)
{
	char err[256];

	version_flag(argc, argv, "sparkpilot-agent",
		     "agent protocol " SP_STR(WIRE_VERSION)
		     ", spool format " SP_STR(SPOOL_DISK_VERSION));
	agent_config_parse_args(cfg, argc, argv, usage);
	if (agent_config_validate(cfg, err, sizeof(err))) {
		fprintf(stderr, "sparkpilot-agent: error: %s\n%s", err, usage);
		exit(2);
	}
}

static volatile sig_atomic_t reload_signal;
/* Set by either signal: it ends an idle agent's long poll, so that a
 * stop or a reload is not held up for the poll's 25 s. */
static volatile sig_atomic_t poll_break;

static void on_signal(int sig)
{
	stop_signal = sig;
	poll_break = 1;
}

static void on_hup(int sig)
{
	reload_signal = sig;
	poll_break = 1;
}

/* The TLS files named in n, read again on every reload whether their
 * paths changed or not: a rotated certificate usually replaces the file
 * at the same path. The connection up now stays; the next one dialed uses
 * the new files. -1 with the file named in err if one cannot be read or
 * used: nothing changed. */
static int reload_tls(struct agent *a, const struct agent_config *n,
		      char *err, size_t errlen)
{
	if (!client_uses_tls(a->cl))
		return 0;
	if (client_reload_tls(a->cl, n, err, errlen))
		return -1;
	log_info("reload: TLS files read again from tls_ca %s%s%s%s%s, for "
		 "the next connection", n->tls_ca,
		 n->tls_cert[0] ? ", tls_cert " : "", n->tls_cert,
		 n->tls_cert[0] ? ", tls_key " : "",
		 n->tls_cert[0] ? n->tls_key : "");
	memcpy(a->cfg.tls_ca, n->tls_ca, sizeof(n->tls_ca));
	memcpy(a->cfg.tls_server_name, n->tls_server_name,
	       sizeof(n->tls_server_name));
	memcpy(a->cfg.tls_cert, n->tls_cert, sizeof(n->tls_cert));
	memcpy(a->cfg.tls_key, n->tls_key, sizeof(n->tls_key));
	return 0;
}

/* The changes a reload applies at once (agent_config.c, live()): the log
 * level; the redaction rules, for every line read from now on, runs in
 * progress included; the TLS files (reload_tls). Each part that applies
 * is copied into the running settings, so the next reload compares
 * against what is in force. false: key waits for a restart after all
 * (a TLS key of an agent that does not dial tls+tcp://). */
static bool reload_apply(struct agent *a, const struct agent_config *n,
			 const char *key)
{
	char err[1024];

	if (!strcmp(key, "log_level")) {
		log_set_level(!strcmp(n->log_level, "debug") ? LOG_DEBUG
							     : LOG_INFO);
		log_info("reload: log_level %s -> %s", a->cfg.log_level,
			 n->log_level);
		memcpy(a->cfg.log_level, n->log_level, sizeof(n->log_level));
	} else if (!strcmp(key, "redact_rule")) {
		if (work_set_redact_rules(a->work, n->redact_rules, err,
					  sizeof(err)))
			log_error("reload: redact_rule refused: %s; the "
				  "running rules are kept", err);
		else
			memcpy(a->cfg.redact_rules, n->redact_rules,
			       sizeof(n->redact_rules));
	} else if (!strncmp(key, "tls_", 4)) {
		return client_uses_tls(a->cl); /* reload_tls, changed or not */
	}
	return true;
}

/* SIGHUP: the configuration is read again as at start. What reload_tls
 * and reload_apply handle changes at once; other changes are named and
 * wait for a restart. A file that does not load or validate, or TLS files
 * that cannot be used, refuse the reload as a whole and nothing changes
 * (the TLS files go first: the one step that may fail on a valid file). */
static void reload(struct agent *a, int argc, char **argv)
{
	struct agent_config *n = xmalloc(sizeof(*n));
	struct settings_doc doc;
	const char *changed[64];
	char err[1024], status[600];
	size_t k;

	reload_signal = 0;
	notify_send("RELOADING=1\nSTATUS=reading the configuration again");
	if (agent_config_reread(n, argc, argv, err, sizeof(err)) ||
	    reload_tls(a, n, err, sizeof(err))) {
		log_error("reload refused: %s; the running settings are kept",
			  err);
	} else {
		agent_config_describe(&doc);
		k = settings_changed(&doc, &a->cfg, n, changed,
				     ARRAY_SIZE(changed));
		if (!k)
			log_info("reload: no setting changed");
		for (size_t i = 0; i < k; i++) {
			if (!doc.live(changed[i]) ||
			    !reload_apply(a, n, changed[i]))
				log_warn("reload: %s changed; it takes effect "
					 "at the next restart",
					 changed[i]);
		}
	}
	free(n);
	/* back to the status it had before the reload */
	snprintf(status, sizeof(status),
		 "READY=1\nSTATUS=agent %s, scheduler %s",
		 client_agent_id(a->cl), a->cfg.scheduler);
	notify_send(status);
}

/* Handles a reply map; returns 0 if the message is done with, -1 if it
 * must be sent again later. */
static void forget_backend(struct agent *a)
{
	for (size_t i = 0; i < a->nbset; i++) {
		free((char *)a->bset[i].key);
		free((char *)a->bset[i].value);
	}
	free(a->bset);
	a->bset = NULL;
	a->nbset = 0;
}

static char *obj_strdup(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_STR
		       ? xstrndup(o->via.str.ptr, o->via.str.size)
		       : xstrdup("");
}

/* The preflight reply's "backend" and "backend_settings" (the lease's
 * shape); a reply without them (an older scheduler) keeps what we had. */
static void remember_backend(struct agent *a, const msgpack_object *reply)
{
	const msgpack_object *set = mp_get(reply, "backend_settings");

	if (mp_get_str(reply, "backend", a->backend, sizeof(a->backend)))
		return;
	forget_backend(a);
	if (!set || set->type != MSGPACK_OBJECT_MAP)
		return;
	a->bset = xcalloc(set->via.map.size + 1, sizeof(*a->bset));
	for (uint32_t i = 0; i < set->via.map.size; i++) {
		a->bset[i].key = obj_strdup(&set->via.map.ptr[i].key);
		a->bset[i].value = obj_strdup(&set->via.map.ptr[i].val);
	}
	a->nbset = set->via.map.size;
}

static int handle_reply(struct agent *a, const char *type,
			const msgpack_object *reply)
{
	bool ok = false, rotate = false;
	char code[64] = "";
	const msgpack_object *list;

	mp_get_bool(reply, "ok", &ok);
	if (!ok) {
		mp_get_str(reply, "error", code, sizeof(code));
		if (!strcmp(type, "rotate") &&
		    !rotate_refused(&a->rot, a->cl, code))
			return 0;
		if (!strcmp(code, "forged") || !strcmp(code, "unsigned") ||
		    !strcmp(code, "unknown_agent")) {
			log_error("the scheduler refuses this agent's identity "
				  "(%s): it may be revoked; enroll again with "
				  "a new token and a fresh state dir", code);
			a->fatal = true;
			return 0;
		}
		if (!strcmp(code, "shutting_down"))
			return -1;
		log_warn("scheduler refused %s message: %s", type, code);
		return 0;
	}
	list = mp_get(reply, "cancel");
	for (uint32_t i = 0;
	     list && list->type == MSGPACK_OBJECT_ARRAY && i < list->via.array.size;
	     i++)
		if (list->via.array.ptr[i].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			work_cancel(a->work, list->via.array.ptr[i].via.u64);
	if (!mp_get_bool(reply, "rotate_key", &rotate) && rotate)
		rotate_request(&a->rot, "asked by the scheduler");
	if (!strcmp(type, "rotate")) {
		rotate_done(&a->rot, a->cl, a->sink, reply);
	} else if (!strcmp(type, "lease")) {
		list = mp_get(reply, "runs");
		for (uint32_t i = 0; list && list->type == MSGPACK_OBJECT_ARRAY &&
				     i < list->via.array.size;
		     i++)
			work_start(a->work, &list->via.array.ptr[i]);
	} else if (!strcmp(type, "telemetry")) {
		/* refused batches are dropped like acknowledged ones: sent
		 * again they would be refused again */
		list = mp_get(reply, "rejected");
		for (uint32_t i = 0; list && list->type == MSGPACK_OBJECT_ARRAY &&
				     i < list->via.array.size;
		     i++) {
			const msgpack_object *r = &list->via.array.ptr[i];
			if (r->type == MSGPACK_OBJECT_ARRAY &&
			    r->via.array.size == 3 &&
			    r->via.array.ptr[2].type == MSGPACK_OBJECT_STR)
				log_warn("telemetry batch %llu refused: %.*s",
					 (unsigned long long)
						 r->via.array.ptr[1].via.u64,
					 (int)r->via.array.ptr[2].via.str.size,
					 r->via.array.ptr[2].via.str.ptr);
		}
	} else if (!strcmp(type, "preflight")) {
		char state[32] = "", reason[512] = "";
		mp_get_str(reply, "env_state", state, sizeof(state));
		mp_get_str(reply, "reason", reason, sizeof(reason));
		remember_backend(a, reply);
		/* an emr-eks environment: not ready for us before our own
		 * check, even if another agent's made it ready */
		bool unchecked = !a->backend_checked &&
				 !strcmp(a->backend, "emr-eks");
		a->ready = !unchecked && !strcmp(state, "ready");
		log_info("preflight: environment is %s%s%s", state,
			 reason[0] ? ": " : "", reason);
		if (unchecked)
			a->next_preflight = time_mono_ms(); /* with the check */
		else if (!a->ready)
			a->next_preflight = time_mono_ms() +
					    a->cfg.preflight_retry_ms;
	}
	return 0;
}

/* Sends the outbox head once. 0 when it was answered (and popped). */
static int send_head(struct agent *a, int64_t wait_ms)
{
	struct outbox_msg *m = a->out.head;
	msgpack_unpacked reply;
	char err[256];
	int rc;

	if (!m->sealed.len &&
	    client_seal(a->cl, m->type, m->body.buf, m->body.len, &m->sealed))
		return -1;
	if (client_call(a->cl, m->sealed.buf, m->sealed.len,
			wait_ms + a->cfg.request_timeout_ms, &a->raw, &reply,
			err, sizeof(err))) {
		int64_t now = time_mono_ms();
		log_debug("%s: %s; will resend", m->type, err);
		if (!a->unreachable_since)
			a->unreachable_since = now;
		if (!a->unreachable_warned &&
		    now - a->unreachable_since >=
			    UNREACHABLE_WARN_TIMEOUTS *
				    (int64_t)a->cfg.request_timeout_ms) {
			log_warn("cannot reach the scheduler at %s for %lld s "
				 "(%s); retrying: runs go on and their reports "
				 "wait in the spool",
				 a->cfg.scheduler,
				 (long long)(now - a->unreachable_since) / 1000,
				 err);
			a->unreachable_warned = true;
		}
		return -1;
	}
	if (a->unreachable_warned)
		log_info("the scheduler answers again, after %lld s",
			 (long long)(time_mono_ms() - a->unreachable_since) /
				 1000);
	a->unreachable_since = 0;
	a->unreachable_warned = false;
	rc = handle_reply(a, m->type, &reply.data);
	msgpack_unpacked_destroy(&reply);
	if (rc == 0) {
		if (m->spool_upto)
			tsink_done(a->sink, m->spool_upto);
		outbox_pop(&a->out);
	}
	return rc;
}

/* The spool's state, for the scheduler's `agent show`: what waits, what
 * was dropped for room, what was found damaged. */
static void pack_spool(struct agent *a, msgpack_packer *pk)
{
	struct spool_stats st;

	tsink_stats(a->sink, &st);
	mp_pack_cstr(pk, "spool");
	msgpack_pack_map(pk, 6);
	mp_kv_u64(pk, "records", st.live_records[SPOOL_EVENT] +
				      st.live_records[SPOOL_LOG] +
				      st.live_records[SPOOL_METRIC]);
	mp_kv_u64(pk, "bytes", st.disk_bytes);
	mp_kv_u64(pk, "dropped_logs", st.dropped_records[SPOOL_LOG]);
	mp_kv_u64(pk, "dropped_metrics", st.dropped_records[SPOOL_METRIC]);
	mp_kv_u64(pk, "corrupt", st.corrupt);
	mp_kv_u64(pk, "torn", st.torn_tails);
}

static void push_simple(struct agent *a, const char *type, int nkv,
			const char *k1, int64_t v1, const char *k2, int64_t v2)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	bool beat = !strcmp(type, "heartbeat"); /* it tells our build */
	msgpack_pack_map(&pk, (size_t)nkv + 2 + beat);
	if (beat)
		mp_kv_str(&pk, "version", sp_version());
	if (nkv > 0)
		mp_kv_i64(&pk, k1, v1);
	if (nkv > 1)
		mp_kv_i64(&pk, k2, v2);
	mp_pack_cstr(&pk, "held");
	work_pack_held(a->work, &pk);
	pack_spool(a, &pk);
	outbox_push(&a->out, type, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static void push_preflight(struct agent *a)
{
	struct preflight p;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	bool emr = !strcmp(a->backend, "emr-eks");
	bool backend_ok = false;
	char backend_err[400] = "";

	preflight_run(&a->cfg, &p);
	if (emr) {
		backend_ok = !backend_emr_preflight(&a->cfg, NULL, NULL,
						    a->bset, a->nbset,
						    backend_err,
						    sizeof(backend_err));
		if (backend_ok)
			backend_err[0] = '\0';
		log_info("preflight: emr-eks virtual cluster %s%s",
			 backend_ok ? "is RUNNING" : "check failed: ",
			 backend_err);
	}
	a->backend_checked = emr;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, emr ? 9 : 6);
	if (emr) {
		mp_kv_str(&pk, "backend", "emr-eks");
		mp_kv_bool(&pk, "backend_ok", backend_ok);
		mp_kv_str(&pk, "backend_error", backend_err);
	}
	mp_pack_cstr(&pk, "held");
	work_pack_held(a->work, &pk);
	mp_kv_bool(&pk, "spark_ok", p.spark_ok);
	mp_kv_str(&pk, "spark_version", p.spark_version);
	mp_kv_str(&pk, "spark_error", p.spark_error);
	mp_kv_i64(&pk, "disk_free_mb", p.disk_free_mb);
	mp_kv_i64(&pk, "slots", a->cfg.slots);
	outbox_push(&a->out, "preflight", sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	a->next_preflight = INT64_MAX;
	log_info("preflight: spark-submit %s%s%s, %lld MB free",
		 p.spark_ok ? "version " : "not runnable: ",
		 p.spark_ok ? p.spark_version : p.spark_error, "",
		 (long long)p.disk_free_mb);
}

static char *load_token(const struct agent_config *cfg)
{
	char *tok;
	if (cfg->enroll_token[0])
		return xstrdup(cfg->enroll_token);
	if (!cfg->enroll_token_file[0])
		die("this agent is not enrolled yet: pass --enroll-token or "
		    "--enroll-token-file (from 'spctl agent token TENANT/ENV')");
	tok = read_file(cfg->enroll_token_file, 4096, NULL);
	if (!tok)
		die("cannot read token file '%s': %s", cfg->enroll_token_file,
		    strerror(errno));
	tok[strcspn(tok, " \t\r\n")] = '\0';
	return tok;
}

/* Up to a fifth of ms, at random (xorshift: spreading a fleet out needs
 * no better randomness). */
static int64_t jitter(struct agent *a, int64_t ms)
{
	a->rng ^= a->rng << 13;
	a->rng ^= a->rng >> 7;
	a->rng ^= a->rng << 17;
	return (int64_t)(a->rng % (uint64_t)(ms / 5 + 1));
}

/* Enrolls with the one-time token; retries while the scheduler is
 * unreachable, gives up if it refuses the token. */
static void enroll(struct agent *a)
{
	char *token = load_token(&a->cfg);
	char host[128] = "unknown", err[256], id[64] = "", env[128] = "";
	uint8_t pub[32];
	struct strbuf sealed = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked reply;

	gethostname(host, sizeof(host) - 1);
	client_public_key(a->cl, pub);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	mp_kv_str(&pk, "version", sp_version());
	mp_kv_str(&pk, "token", token);
	mp_kv_bin(&pk, "pubkey", pub, sizeof(pub));
	mp_kv_str(&pk, "hostname", host);
	mp_kv_i64(&pk, "slots", a->cfg.slots);
	free(token);
	client_seal(a->cl, "enroll", sb.data, sb.size, &sealed);
	msgpack_sbuffer_destroy(&sb);
	while (!stop_signal) {
		if (client_call(a->cl, sealed.buf, sealed.len,
				a->cfg.request_timeout_ms, &a->raw, &reply, err,
				sizeof(err))) {
			log_warn("enroll: %s; retrying", err);
			notify_watchdog(time_mono_ms());
			/* up to 20 % more: a fleet refused at once (a
			 * scheduler restart) does not come back in step */
			usleep((useconds_t)(RETRY_MS + jitter(a, RETRY_MS)) * 1000);
			continue;
		}
		bool ok = false;
		mp_get_bool(&reply.data, "ok", &ok);
		mp_get_str(&reply.data, "agent", id, sizeof(id));
		mp_get_str(&reply.data, "env", env, sizeof(env));
		mp_get_str(&reply.data, "error", err, sizeof(err));
		msgpack_unpacked_destroy(&reply);
		if (!ok || !id[0])
			die("enrollment refused by the scheduler: %s",
			    ok ? "no agent id" : err);
		if (client_set_agent_id(a->cl, id))
			die("cannot save the agent id in '%s'",
			    a->cfg.state_dir);
		log_info("enrolled as %s in environment %s", id, env);
		break;
	}
	strbuf_release(&sealed);
}

/* The oldest report from the spool, if any, as the next message. */
static bool push_spooled(struct agent *a)
{
	struct strbuf body = STRBUF_INIT;
	char type[16];
	uint64_t upto;
	bool any = tsink_next(a->sink, type, &body, &upto);

	if (any) {
		outbox_push(&a->out, type, body.buf, body.len);
		a->out.tail->spool_upto = upto;
	}
	strbuf_release(&body);
	return any;
}

/* How long a request for work may wait at the scheduler: briefly while
 * runs are going (their reports must not wait behind it), long when idle
 * (a fleet of idle agents then costs the scheduler little). */
static int64_t lease_wait_ms(const struct agent *a)
{
	return work_count(a->work) ? BUSY_LEASE_WAIT_MS : a->cfg.idle_poll_ms;
}

/* The wait asked for: an idle poll up to 20 % shorter at random, so that
 * a fleet that started polling at once (a scheduler restart) does not
 * stay in step, every agent asking in the same second. */
static int64_t lease_wait_asked(struct agent *a)
{
	int64_t ms = lease_wait_ms(a);

	return work_count(a->work) ? ms : ms - jitter(a, ms);
}

/* Queues what the scheduler should hear next when nothing else waits:
 * reports about runs first, in the order they happened; but a request for
 * work or a heartbeat at least every LEASE_EVERY_MS, however many batches
 * the runs have to send. Never ahead of a run event or completion: those
 * messages carry the held list, which no longer has a run that ended. */
static void plan_next(struct agent *a, int64_t now)
{
	bool overdue = now - a->last_ask >= LEASE_EVERY_MS &&
		       !tsink_events_pending(a->sink);

	if (a->out.head || rotate_plan(&a->rot, a->cl, &a->out, now) ||
	    (!overdue && push_spooled(a)))
		return;
	if (!a->ready && now >= a->next_preflight)
		push_preflight(a);
	else if (a->ready && !stop_signal && work_free_slots(a->work) > 0)
		push_simple(a, "lease", 2, "slots", work_free_slots(a->work),
			    "wait_ms", lease_wait_asked(a));
	else if (now >= a->next_heartbeat)
		push_simple(a, "heartbeat", 1, "running",
			    (int64_t)work_count(a->work), NULL, 0);
	else
		push_spooled(a); /* nothing to ask: back to the reports */
	if (a->out.head && !a->out.head->spool_upto)
		a->last_ask = now;
}

static void step(struct agent *a)
{
	struct pollfd pfd[MAX_POLLFDS];
	int64_t now = time_mono_ms(), wake;
	int n = work_pollfds(a->work, pfd, MAX_POLLFDS);

	wake = a->out.head ? a->next_send : a->next_heartbeat;
	if (work_next_deadline(a->work) < wake)
		wake = work_next_deadline(a->work);
	wake -= now;
	if (wake > 200)
		wake = 200;
	poll(pfd, (nfds_t)n, wake > 0 ? (int)wake : 0);
	now = time_mono_ms();
	notify_watchdog(now);
	work_tick(a->work, now);
	tsink_tick(a->sink, now);
	plan_next(a, now);
	if (!a->out.head || now < a->next_send)
		return;
	bool lease = !strcmp(a->out.head->type, "lease");
	int64_t wait = lease ? lease_wait_ms(a) : 0;
	/* A busy agent's short poll is never abandoned: the scheduler may
	 * have leased runs in its answer. Any other wait ends early on a
	 * stop signal, and an idle agent's long poll on a reload too. After
	 * a reload the same request is sent again (a resend: the scheduler
	 * answers it as it answered the first, with any run it leased);
	 * after a stop, shut_down tells the scheduler which runs the agent
	 * holds, so that runs leased in an answer it never read go back to
	 * the queue at once. */
	poll_break = stop_signal || reload_signal;
	if (lease && work_count(a->work))
		client_set_cancel(a->cl, NULL);
	else
		client_set_cancel(a->cl, lease ? &poll_break : &stop_signal);
	if (send_head(a, wait))
		a->next_send = time_mono_ms() + RETRY_MS + jitter(a, RETRY_MS);
	else
		a->next_heartbeat = time_mono_ms() + a->cfg.heartbeat_ms;
}

/* A request for work sent and not answered (an idle agent's long poll
 * that the stop signal cut short): a heartbeat naming the runs we hold
 * takes its place, once and briefly. The scheduler then answers the poll
 * (the answer goes nowhere) instead of keeping it for a run, and puts
 * back in the queue any run it leased in an answer we never read. */
static void replace_lost_poll(struct agent *a)
{
	struct outbox_msg *m = a->out.head;
	msgpack_unpacked reply;
	char err[256];

	if (!m || !m->sealed.len || strcmp(m->type, "lease"))
		return;
	outbox_pop(&a->out);
	if (a->out.head)
		return; /* a lease is only ever asked alone: not reached */
	push_simple(a, "heartbeat", 1, "running", (int64_t)work_count(a->work),
		    NULL, 0);
	m = a->out.head;
	if (!client_seal(a->cl, m->type, m->body.buf, m->body.len,
			 &m->sealed) &&
	    !client_call(a->cl, m->sealed.buf, m->sealed.len,
			 GOODBYE_TIMEOUT_MS, &a->raw, &reply, err, sizeof(err)))
		msgpack_unpacked_destroy(&reply);
	outbox_pop(&a->out);
}

/* Stops the runs and reports them, for a while: what is not sent stays in
 * the spool for the next start. */
static void shut_down(struct agent *a)
{
	int64_t deadline = time_mono_ms() + a->cfg.kill_grace_ms + 5000;

	replace_lost_poll(a);

	/* Only reports about runs matter now: drop requests for work and
	 * heartbeats that were not sent yet, and stop cancelling waits. */
	client_set_cancel(a->cl, NULL);
	work_stop_all(a->work);
	while (time_mono_ms() < deadline && !a->fatal &&
	       (work_count(a->work) || a->out.head || push_spooled(a))) {
		struct pollfd pfd[MAX_POLLFDS];
		int n = work_pollfds(a->work, pfd, MAX_POLLFDS);
		poll(pfd, (nfds_t)n, 50);
		work_tick(a->work, time_mono_ms());
		tsink_tick(a->sink, time_mono_ms());
		if (a->out.head && !a->out.head->sealed.len &&
		    (!strcmp(a->out.head->type, "lease") ||
		     !strcmp(a->out.head->type, "heartbeat") ||
		     !strcmp(a->out.head->type, "preflight")))
			outbox_pop(&a->out);
		if (a->out.head && send_head(a, 0))
			usleep(100 * 1000);
	}
}

/* While a call waits (client_set_tick): systemd's watchdog hears from
 * us. */
static void ping_watchdog(void *arg)
{
	(void)arg;
	notify_watchdog(time_mono_ms());
}

int main(int argc, char **argv)
{
	struct agent a;
	struct sigaction sa;

	memset(&a, 0, sizeof(a));
	agent_config_defaults(&a.cfg);
	parse_flags(argc, argv, &a.cfg);
	log_setup("sparkpilot-agent", !strcmp(a.cfg.log_level, "debug")
					      ? LOG_DEBUG
					      : LOG_INFO);
	notify_init();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	strbuf_init(&a.raw, 0);

	char err[512];
	sign_init_lean();
	if (sign_random(&a.rng, sizeof(a.rng)) || !a.rng)
		a.rng = (uint64_t)time_mono_ms() | 1; /* any non-zero seed */
	a.cl = client_open(&a.cfg, err, sizeof(err));
	if (!a.cl)
		die("%s", err);
	client_set_tick(a.cl, ping_watchdog, NULL);
	/* Ready once its state is open: enrolling and reaching the scheduler
	 * may take long, and go on while the service counts as started. */
	char status[512];
	if (notify_watchdog_ms())
		log_info("watchdog: pinging every %lld ms",
			 (long long)notify_watchdog_ms());
	if (!client_agent_id(a.cl)[0]) {
		snprintf(status, sizeof(status),
			 "READY=1\nSTATUS=enrolling with %s", a.cfg.scheduler);
		notify_send(status);
		enroll(&a);
	} else {
		log_info("agent %s starting", client_agent_id(a.cl));
		notify_send("READY=1");
	}
	snprintf(status, sizeof(status), "STATUS=agent %s, scheduler %s",
		 client_agent_id(a.cl), a.cfg.scheduler);
	notify_send(status);
	client_set_cancel(a.cl, &stop_signal);
	leftovers_reap(a.cfg.state_dir);
	a.sink = tsink_open(&a.cfg, client_key(a.cl), client_agent_id(a.cl), err,
			    sizeof(err));
	if (!a.sink)
		die("%s", err);
	a.work = work_new(&a.cfg, a.sink);
	rotate_init(&a.rot, a.cl, a.cfg.key_rotate_days);
	while (!stop_signal && !a.fatal) {
		step(&a);
		if (reload_signal)
			reload(&a, argc, argv);
	}
	if (stop_signal)
		log_info("signal %d: stopping", (int)stop_signal);
	notify_send("STOPPING=1\nSTATUS=stopping: runs stopped and reported");
	shut_down(&a);
	work_free(a.work);
	tsink_close(a.sink);
	outbox_clear(&a.out);
	client_close(a.cl);
	strbuf_release(&a.raw);
	forget_backend(&a);
	return a.fatal ? 1 : 0;
}
