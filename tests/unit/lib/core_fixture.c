/* core_fixture.c - a real core thread over a real store for unit tests:
 * admin commands, sealed agent messages posted the way the transport posts
 * them, and restarts over the same store the way the daemon does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core_fixture.h"
#include "json.h"
#include "mp.h"
#include "records.h"
#include "telemetry.h"
#include "wire.h"


/* The reply of the last event, handed over by the core thread, and the
 * turns the core had finished then (answered_in_turn: on its thread). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct strbuf answer = STRBUF_INIT;
static bool answered, answered_in_turn;
static uint64_t answered_turns;
static struct sched *answering_core;

static void on_done(struct event *ev)
{
	struct core_progress p = { 0 };

	if (core_on_core_thread())
		core_progress(answering_core, &p);
	pthread_mutex_lock(&mu);
	strbuf_reset(&answer);
	strbuf_add(&answer, ev->reply.buf, ev->reply.len);
	answered = true;
	answered_in_turn = core_on_core_thread();
	answered_turns = p.turns;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	event_free(ev);
}

/* Posts ev and waits for its reply (into out). */
void post_wait(struct fx *f, struct event *ev, struct strbuf *out)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	ev->done = on_done;
	pthread_mutex_lock(&mu);
	answered = false;
	answering_core = f->core;
	core_post(f->core, ev);
	while (!answered && rc == 0)
		rc = pthread_cond_timedwait(&cv, &mu, &ts);
	strbuf_reset(out);
	strbuf_add(out, answer.buf, answer.len);
	pthread_mutex_unlock(&mu);
	if (!answered)
		fail_msg("no reply within 10 s");
	/* The reply goes out before the core puts the turn's batch into the
	 * store (store_apply): a test that reads the store next waits for
	 * the end of that turn, as the core's own next turn would. */
	for (int i = 0; answered_in_turn && i < 10000; i++) {
		struct core_progress p;
		core_progress(f->core, &p);
		if (p.turns > answered_turns)
			return;
		usleep(1000);
	}
	if (answered_in_turn)
		fail_msg("the turn that answered did not end within 10 s");
}

/* An admin command line, split as the admin socket splits it, as the
 * event the socket posts (from root). */
struct event *admin_event(const char *line)
{
	struct event *ev = event_new(EV_ADMIN);
	char err[128];

	assert_int_equal(cmdline_split(line, strlen(line), &ev->cmd, err,
				       sizeof(err)), 0);
	return ev;
}

/* Runs an admin command line as the admin socket does; its reply, whatever
 * it is, goes into out. */
void admin_reply(struct fx *f, const char *line, struct strbuf *out)
{
	post_wait(f, admin_event(line), out);
}

void admin_reply_as(struct fx *f, const struct access_peer *peer,
		    const char *line, struct strbuf *out)
{
	struct event *ev = admin_event(line);

	ev->peer = *peer;
	post_wait(f, ev, out);
}

/* Runs an admin command; returns its JSON reply (caller frees). */
struct json *admin(struct fx *f, const char *line)
{
	struct strbuf out = STRBUF_INIT;
	struct json *j;
	char err[128];

	admin_reply(f, line, &out);
	j = json_parse(out.buf, out.len, err, sizeof(err));
	if (!j || !json_get_bool(j, "ok"))
		fail_msg("%s: %s", line, out.buf);
	strbuf_release(&out);
	return j;
}

void admin_ok(struct fx *f, const char *line)
{
	json_free(admin(f, line));
}

/* An event for sealed bytes, as the transport posts it (the signature is
 * ours). */
struct event *agent_event(struct fx *f, const struct strbuf *msg)
{
	struct event *ev = event_new(EV_AGENT);
	char err[128];

	ev->len = msg->len;
	ev->buf = xmalloc(msg->len);
	memcpy(ev->buf, msg->buf, msg->len);
	assert_int_equal(wire_open(ev->buf, ev->len, &ev->msg, err,
				   sizeof(err)), WIRE_OK);
	ev->msg_open = true;
	ev->auth = strcmp(ev->msg.type, "enroll") ? AUTH_OK : AUTH_ENROLL;
	if (!strcmp(ev->msg.type, "telemetry")) {
		uint8_t pub[SIGN_PUB_LEN];
		sign_key_public(f->key, pub);
		ev->pre = telemetry_precheck(&ev->msg, pub);
		ev->pre_free = telemetry_pre_free;
	}
	return ev;
}

/* Sends sealed bytes as the transport would and waits for the reply. */
void send_raw(struct fx *f, const struct strbuf *msg, struct strbuf *out)
{
	post_wait(f, agent_event(f, msg), out);
}

/* Seals body (a packed map) as the next message of the agent into msg. */
void seal(struct fx *f, const char *type, const msgpack_sbuffer *body,
		 struct strbuf *msg)
{
	strbuf_reset(msg);
	wire_seal(msg, type, f->agent, ++f->seq, time_now_ms(), body->data,
		  body->size, f->key);
}

/* Seals and sends; the reply is unpacked into u (over out's bytes). */
void call(struct fx *f, const char *type, const msgpack_sbuffer *body,
		 struct strbuf *out, msgpack_unpacked *u)
{
	struct strbuf msg = STRBUF_INIT;

	seal(f, type, body, &msg);
	send_raw(f, &msg, out);
	strbuf_release(&msg);
	msgpack_unpacked_init(u);
	assert_int_equal(msgpack_unpack_next(u, out->buf, out->len, NULL),
			 MSGPACK_UNPACK_SUCCESS);
}

bool reply_ok(const msgpack_object *o)
{
	bool ok = false;
	return !mp_get_bool(o, "ok", &ok) && ok;
}

/* Loads the state from the store, as the daemon does at start. */
void load_state(struct fx *f)
{
	char err[256];

	state_init(&f->st);
	assert_int_equal(records_load(f->store, &f->st, err, sizeof(err)), 0);
}

uint64_t fx_start_cancelled(struct fx *f, const char *job)
{
	struct json *j;
	char line[128];
	uint64_t id;

	snprintf(line, sizeof(line), "run start %s", job);
	j = admin(f, line);
	id = strtoull(json_get(j, "run")->str, NULL, 10);
	json_free(j);
	snprintf(line, sizeof(line), "run cancel %llu", (unsigned long long)id);
	admin_ok(f, line);
	return id;
}

uint32_t fx_restart_stored(struct fx *f, const char *tenant)
{
	char err[256];
	uint32_t n;

	stop_core(f);
	state_release(&f->st);
	state_init(&f->st);
	f->st.stored_before_ms = INT64_MAX;
	f->st.key_horizon_ms = INT64_MAX;
	assert_int_equal(records_load(f->store, &f->st, err, sizeof(err)), 0);
	n = (uint32_t)state_tenant(&f->st, tenant)->n_stored;
	run_core(f);
	return n;
}

void run_core(struct fx *f)
{
	f->core = core_start(f->store, &f->st, &f->cfg, f->keys);
	assert_non_null(f->core);
}

void start_core(struct fx *f)
{
	load_state(f);
	run_core(f);
}

void stop_core(struct fx *f)
{
	core_stop(f->core);
	f->core = NULL;
}

void enroll_with(struct fx *f, const char *token, struct strbuf *out,
		 msgpack_unpacked *u)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint8_t pub[32];

	sign_key_public(f->key, pub);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kv_str(&pk, "token", token);
	mp_kv_bin(&pk, "pubkey", pub, sizeof(pub));
	call(f, "enroll", &sb, out, u);
	msgpack_sbuffer_destroy(&sb);
}

/* Enrolls f->key as an agent of acme/prod (f->agent) and passes its
 * preflight, which makes acme/prod ready. */
void fx_enroll(struct fx *f)
{
	fx_enroll_in(f, "acme/prod");
}

void fx_enroll_in(struct fx *f, const char *env)
{
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	struct json *tok;
	char line[256];

	snprintf(line, sizeof(line), "agent token %s", env);
	tok = admin(f, line);
	enroll_with(f, json_get_str(tok, "token"), &out, &u);
	assert_true(reply_ok(&u.data));
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	assert_int_equal(mp_get_str(&u.data, "agent", f->agent,
				    sizeof(f->agent)), 0);
	msgpack_unpacked_destroy(&u);
	json_free(tok);

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 4);
	mp_kv_bool(&pk, "spark_ok", true);
	mp_kv_str(&pk, "spark_version", "3.5.1");
	mp_kv_i64(&pk, "disk_free_mb", 100000);
	mp_kv_i64(&pk, "slots", 4);
	call(f, "preflight", &sb, &out, &u);
	line[0] = '\0';
	mp_get_str(&u.data, "env_state", line, sizeof(line));
	assert_string_equal(line, "ready");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
}

/* Enrolls an agent into a ready acme/prod, with job acme/prod/j. */
int fx_setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	char err[256];

	log_setup("test", LOG_ERROR);
	/* $TMPDIR if set: the fuzz target puts the store on a tmpfs */
	snprintf(f->dir, sizeof(f->dir), "%s/sp-corefx.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR")
						       : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	f->store = store_open(f->dir, err, sizeof(err));
	assert_non_null(f->store);
	config_defaults(&f->cfg);
	snprintf(f->cfg.data_dir, sizeof(f->cfg.data_dir), "%s", f->dir);
	/* no free-space floor: a test must not depend on /tmp's space */
	f->cfg.store_min_free_mb = 0;
	f->cfg.store_min_free_pct = 0;
	f->keys = keyreg_new();
	f->key = sign_key_generate();
	start_core(f);
	admin_ok(f, "tenant add acme");
	admin_ok(f, "env add acme/prod");
	admin_ok(f, "job add acme/prod/j -- --master yarn app.jar");
	fx_enroll(f);
	*state = f;
	return 0;
}

int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[600];

	if (f->core)
		stop_core(f);
	state_release(&f->st);
	store_close(f->store);
	keyreg_free(f->keys);
	sign_key_free(f->key);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	free(f);
	return system(cmd);
}

/* Leases one run; sets *run and *epoch. */
void complete_one(struct fx *f, uint64_t run, uint64_t epoch,
		  const char *result, int exit_code)
{
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	mp_kv_u64(&pk, "run", run);
	mp_kv_u64(&pk, "epoch", epoch);
	mp_kv_str(&pk, "result", result);
	mp_kv_i64(&pk, "exit_code", exit_code);
	call(f, "complete", &sb, &out, &u);
	assert_true(reply_ok(&u.data));
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
}

void lease_one(struct fx *f, uint64_t *run, uint64_t *epoch)
{
	struct strbuf out = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const msgpack_object *runs;

	admin_ok(f, "run start acme/prod/j");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kv_u64(&pk, "slots", 1);
	mp_kv_u64(&pk, "wait_ms", 0);
	call(f, "lease", &sb, &out, &u);
	runs = mp_get(&u.data, "runs");
	assert_non_null(runs);
	assert_int_equal(runs->via.array.size, 1);
	assert_int_equal(mp_get_u64(runs->via.array.ptr, "run", run), 0);
	assert_int_equal(mp_get_u64(runs->via.array.ptr, "epoch", epoch), 0);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&out);
}

