/* agent_msgs.c - authentication, sequencing and dispatch of agent messages
 * on the core thread. The message handlers live in agent_work.c. */
#include "agent_msgs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_work.h"
#include "audit.h"
#include "keyreg.h"
#include "keyrot.h"
#include "mp.h"
#include "mreply.h"
#include "records.h"
#include "sched_ctx.h"
#include "sign.h"
#include "util.h"

void agent_msgs_refuse(struct event *ev, const char *code)
{
	agent_msgs_refuse_retry(ev, code, 0);
}

void agent_msgs_refuse_retry(struct event *ev, const char *code,
			     int64_t retry_after_ms)
{
	struct mreply m;
	mreply_init(&m);
	mreply_key(&m, "ok");
	msgpack_pack_false(&m.pk);
	mreply_key(&m, "error");
	mp_pack_cstr(&m.pk, code);
	if (retry_after_ms > 0) {
		mreply_key(&m, "retry_after_ms");
		msgpack_pack_int64(&m.pk, retry_after_ms);
	}
	mreply_finish(&m, &ev->reply);
}

static void refuse(struct sched *c, struct event *ev, const char *code)
{
	agent_msgs_refuse(ev, code);
	sched_complete(c, ev);
}

static void enroll_reply(struct sched *c, struct event *ev,
			 const struct agent *ag)
{
	struct mreply m;

	mreply_init(&m);
	mreply_key(&m, "ok");
	msgpack_pack_true(&m.pk);
	mreply_key(&m, "agent");
	mp_pack_cstr(&m.pk, ag->id);
	mreply_key(&m, "env");
	mp_pack_cstr(&m.pk, ag->env);
	mreply_finish(&m, &ev->reply);
	sched_complete(c, ev);
}

/* The agent that token t enrolled, if it was this same key: a resend of an
 * enrollment whose reply was lost (or not sent before a crash) must get
 * the same answer, not token_used, or the agent never learns its id. The
 * transport checked that the sender holds the private key. */
static struct agent *enrolled_with(struct sched *c, const struct token *t,
				   const char *pub)
{
	struct agent *ag;

	if (!t->used_ms || !(ag = state_agent(c->st, t->agent)))
		return NULL;
	if (ag->state == AGENT_REVOKED || memcmp(ag->pubkey, pub, 32))
		return NULL;
	return ag;
}

static void handle_enroll(struct sched *c, struct event *ev)
{
	const msgpack_object *body = ev->msg.body;
	char token[128], hash[65], err[128];
	const char *pub;
	size_t publen;
	struct token *t;
	struct env *e = NULL;
	struct agent *ag;
	uint8_t rnd[6];
	char hex[13];

	if (mp_get_str(body, "token", token, sizeof(token)) ||
	    mp_get_bin(body, "pubkey", &pub, &publen) || publen != 32)
		return refuse(c, ev, "malformed");
	sign_sha256_hex(token, strlen(token), hash);
	t = state_token(c->st, hash);
	if (t && (ag = enrolled_with(c, t, pub))) {
		log_info("agent %s: enrollment resent; answered again", ag->id);
		return enroll_reply(c, ev, ag);
	}
	err[0] = '\0';
	if (!t)
		snprintf(err, sizeof(err), "invalid_token");
	else if (t->used_ms)
		snprintf(err, sizeof(err), "token_used");
	else if (t->revoked_ms)
		snprintf(err, sizeof(err), "token_revoked");
	else if (c->now_ms >= t->expires_ms)
		snprintf(err, sizeof(err), "token_expired");
	else if (!(e = state_env_live(c->st, t->env)))
		snprintf(err, sizeof(err), "no_environment");
	if (err[0]) {
		/* anyone who can reach the port can guess tokens */
		static struct log_limit guesses;
		log_limited(&guesses, LOG_WARN, "enroll refused: %s", err);
		audit_agent_refused(c, NULL, err);
		return refuse(c, ev, err);
	}
	ag = xcalloc(1, sizeof(*ag));
	do {
		sign_random(rnd, sizeof(rnd));
		hex_encode(rnd, sizeof(rnd), hex);
		snprintf(ag->id, sizeof(ag->id), "ag-%s", hex);
	} while (state_agent(c->st, ag->id));
	snprintf(ag->env, sizeof(ag->env), "%s", t->env);
	memcpy(ag->pubkey, pub, 32);
	mp_get_str(body, "hostname", ag->hostname, sizeof(ag->hostname));
	agent_msgs_note_version(ag, body);
	ag->state = AGENT_ACTIVE;
	ag->enrolled_ms = ag->last_seen_ms = c->now_ms;
	state_add_agent(c->st, ag);
	keyreg_set(c->keys, ag->id, ag->pubkey);
	t->used_ms = c->now_ms;
	snprintf(t->agent, sizeof(t->agent), "%s", ag->id);
	if (e->state != ENV_VALIDATING_RUNTIME)
		agent_work_env_move(c, e, ENV_VALIDATING_RUNTIME,
				    "agent enrolled; waiting for its preflight");
	records_put_agent(c->batch, c->store, ag);
	records_put_token(c->batch, c->store, t);
	audit_enroll(c, ag);
	log_info("agent %s enrolled into %s (host %s) agent=%s env=%s "
		 "tenant=%.*s",
		 ag->id, ag->env, ag->hostname, ag->id, ag->env,
		 (int)strcspn(ag->env, "/"), ag->env);
	enroll_reply(c, ev, ag);
}

void agent_msgs_note_version(struct agent *ag, const msgpack_object *body)
{
	char v[sizeof(ag->version)];

	if (mp_get_str(body, "version", v, sizeof(v)) || !v[0])
		return;
	for (const char *p = v; *p; p++)
		if (*p <= ' ' || *p > '~')
			return;
	memcpy(ag->version, v, sizeof(v));
}

/* Counts a rejection on the agent it names and persists the counter. */
static void reject(struct sched *c, struct event *ev, struct agent *ag,
		   uint64_t *counter, const char *code)
{
	static struct log_limit rejections; /* counted per agent besides */

	(*counter)++;
	records_put_agent(c->batch, c->store, ag);
	log_limited(&rejections, LOG_WARN,
		    "agent %s: rejected %s message (seq %llu): %s agent=%s "
		    "env=%s",
		    ag->id, ev->msg.type, (unsigned long long)ev->msg.seq, code,
		    ag->id, ag->env);
	audit_agent_refused(c, ag->id, code);
	refuse(c, ev, code);
}

/* A resend of the last accepted message gets the same answer (the agent
 * resends on timeout, and the answer survives a scheduler restart); a
 * resend of one accepted but never answered (it waited for work when the
 * scheduler stopped) runs again. So does one whose stored answer is empty:
 * an older build stored that for a lease of 0 slots, and sending it again
 * would leave the agent resending forever. Any other old sequence number
 * is a replay. */
static bool check_sequence(struct sched *c, struct event *ev,
			   struct agent *ag, const char *digest)
{
	if (ev->msg.seq > ag->seq_hwm)
		return true;
	if (ev->msg.seq == ag->last_seq && !strcmp(digest, ag->last_digest)) {
		if (!ag->last_reply || !ag->last_reply_len)
			return true;
		/* The agent is alive: its leases must not expire meanwhile. */
		ag->last_seen_ms = c->now_ms;
		policy_heard(&c->pol, ag);
		strbuf_reset(&ev->reply);
		strbuf_add(&ev->reply, ag->last_reply, ag->last_reply_len);
		sched_complete(c, ev);
		return false;
	}
	reject(c, ev, ag, &ag->rejected_replayed, "replayed");
	return false;
}

void agent_msgs_exec(struct sched *c, struct event *ev)
{
	struct agent *ag;
	char digest[65];
	const char *code;

	if (ev->auth == AUTH_MALFORMED) {
		c->rejected_malformed++;
		audit_agent_refused(c, NULL, "malformed");
		return refuse(c, ev, "malformed");
	}
	if (ev->auth == AUTH_ENROLL)
		return handle_enroll(c, ev);
	ag = state_agent(c->st, ev->msg.agent);
	if (!ag) {
		c->rejected_malformed++;
		audit_agent_refused(c, NULL, "unknown_agent");
		return refuse(c, ev, "unknown_agent");
	}
	if (ev->auth == AUTH_UNSIGNED)
		return reject(c, ev, ag, &ag->rejected_unsigned, "unsigned");
	if (ev->auth == AUTH_FORGED || ag->state == AGENT_REVOKED ||
	    (ev->key_prev && !keyrot_prev_accepted(c, ag)))
		return reject(c, ev, ag, &ag->rejected_forged, "forged");
	sign_sha256_hex(ev->msg.env_bytes, ev->msg.env_len, digest);
	if (!check_sequence(c, ev, ag, digest))
		return;
	/* A refused rotation counts as forged and, like a forged message,
	 * does not take the sequence number. */
	if (!strcmp(ev->msg.type, "rotate") &&
	    (code = keyrot_check(c, ev, ag)))
		return reject(c, ev, ag, &ag->rejected_forged, code);
	ag->seq_hwm = ev->msg.seq;
	ag->last_seq = ev->msg.seq;
	memcpy(ag->last_digest, digest, sizeof(digest));
	free(ag->last_reply);
	ag->last_reply = NULL;
	ag->accepted++;
	ag->last_seen_ms = c->now_ms;
	/* The agent asks one thing at a time: a request of its still waiting
	 * for work has been given up. */
	agent_work_unpark(c, ag);
	/* A request parked for work writes nothing yet: its answer writes
	 * the agent (sequence number, counters, the answer for a resend)
	 * when it goes, so an idle poll costs one synced write, not two. A
	 * crash meanwhile loses nothing the agent was told: it resends, and
	 * the request runs again. */
	if (agent_work_exec(c, ev, ag))
		agent_msgs_remember(c, ev, ag);
}

/* Keeps ev's reply as the answer to a resend and persists it with the
 * agent in this turn's batch, the one that carries the reply's effects.
 * An empty reply is never kept: a resend then runs the message again. */
void agent_msgs_remember(struct sched *c, struct event *ev, struct agent *ag)
{
	free(ag->last_reply);
	ag->last_reply = NULL;
	ag->last_reply_len = 0;
	if (ev->reply.len) {
		ag->last_reply = xmalloc(ev->reply.len);
		memcpy(ag->last_reply, ev->reply.buf, ev->reply.len);
		ag->last_reply_len = ev->reply.len;
	} else {
		log_error("agent %s: empty reply to %s message (seq %llu)",
			  ag->id, ev->msg.type,
			  (unsigned long long)ev->msg.seq);
	}
	records_put_agent(c->batch, c->store, ag);
}
