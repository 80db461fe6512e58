/*
 * core_fixture.h - a real core thread over a real store, with one enrolled
 * agent in a ready acme/prod that has job acme/prod/j (fx_setup), for the
 * unit tests of what agent messages and admin commands do.
 */
#ifndef SP_CORE_FIXTURE_H
#define SP_CORE_FIXTURE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "core.h"
#include "json.h"
#include "keyreg.h"
#include "sign.h"
#include "state.h"
#include "store.h"
#include "strbuf.h"

struct fx {
	char dir[512];
	struct store *store;
	struct sched_state st;
	struct sched_config cfg;
	struct keyreg *keys;
	struct sched *core;
	struct sign_key *key;
	char agent[64];
	uint64_t seq;
};

/* cmocka group setup / teardown: *state is the struct fx. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* Enrolls f->key as an agent of acme/prod (f->agent) and passes its
 * preflight. */
void fx_enroll(struct fx *f);
/* The same in env (ready once the preflight passes). */
void fx_enroll_in(struct fx *f, const char *env);
/* Sends an enroll of f->key with token; the reply is unpacked into u. */
void enroll_with(struct fx *f, const char *token, struct strbuf *out,
		 msgpack_unpacked *u);
/* Posts ev and waits for its reply (into out). */
void post_wait(struct fx *f, struct event *ev, struct strbuf *out);
/* An admin command line (split as the admin socket splits it) as the
 * event the socket posts, from root; the caller sets its done and posts
 * it. */
struct event *admin_event(const char *line);
/* Runs an admin command line (split as the admin socket splits it) and
 * puts its reply, ok or not, into out. */
void admin_reply(struct fx *f, const char *line, struct strbuf *out);
/* The same, sent by peer (uid, gid, groups) instead of root. */
void admin_reply_as(struct fx *f, const struct access_peer *peer,
		    const char *line, struct strbuf *out);
/* Runs an admin command; returns its JSON reply (caller frees). Fails the
 * test if it is not ok. */
struct json *admin(struct fx *f, const char *line);
void admin_ok(struct fx *f, const char *line);
/* An event for sealed bytes, as the transport posts it (the signature is
 * ours); the caller sets its done and posts it. */
struct event *agent_event(struct fx *f, const struct strbuf *msg);
/* Sends sealed bytes as the transport would and waits for the reply. */
void send_raw(struct fx *f, const struct strbuf *msg, struct strbuf *out);
/* Seals body (a packed map) as the next message of the agent into msg. */
void seal(struct fx *f, const char *type, const msgpack_sbuffer *body,
	  struct strbuf *msg);
/* Seals and sends; the reply is unpacked into u (over out's bytes). */
void call(struct fx *f, const char *type, const msgpack_sbuffer *body,
	  struct strbuf *out, msgpack_unpacked *u);
bool reply_ok(const msgpack_object *o);
/* Loads the state from the store, as the daemon does at start. */
void load_state(struct fx *f);
/* Starts a run of job and cancels it while it is queued; its id. */
uint64_t fx_start_cancelled(struct fx *f, const char *job);
/* Restarts the core with every ended run left in the store, as a start
 * does with the runs that ended before ended_runs_in_memory_s; returns
 * how many tenant has there (read before the core takes the state). */
uint32_t fx_restart_stored(struct fx *f, const char *tenant);
void run_core(struct fx *f);
void start_core(struct fx *f);
void stop_core(struct fx *f);
/* Starts a run of acme/prod/j and leases it; sets *run and *epoch. */
void lease_one(struct fx *f, uint64_t *run, uint64_t *epoch);
/* The agent reports run (leased under epoch) ended with result
 * ("succeeded", "failed", ...) and exit_code; the reply must be ok. */
void complete_one(struct fx *f, uint64_t run, uint64_t epoch,
		  const char *result, int exit_code);

#endif
