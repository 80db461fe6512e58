/* rotate.c - the agent's side of an identity key rotation (rotate.h). */
#include "rotate.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "keyproof.h"
#include "mp.h"
#include "outbox.h"
#include "sign.h"
#include "tsink.h"
#include "util.h"

#define DAY_MS (86400LL * 1000)
/* After the scheduler refused a new key: the next try, by age or asked
 * for, waits this long (a refusal is counted as a forged message). */
#define REFUSED_RETRY_MS (3600LL * 1000)
/* After a local failure (the key file cannot be written or renamed). */
#define FAILED_RETRY_MS (10LL * 1000)
/* A scheduler of an older build, which has no `rotate`: once a day. */
#define UNKNOWN_RETRY_MS (86400LL * 1000)

/* The test hook of rotate.h: a crash at a chosen point. */
static void test_crash(const char *at)
{
	const char *v = getenv("SPARKPILOT_TEST_ROTATE_CRASH");

	if (v && !strcmp(v, at)) {
		log_warn("SPARKPILOT_TEST_ROTATE_CRASH=%s: killed here "
			 "(tests only)", at);
		raise(SIGKILL);
	}
}

void rotate_init(struct rotate *r, struct client *cl, int64_t key_rotate_days)
{
	memset(r, 0, sizeof(*r));
	r->max_age_ms = key_rotate_days * DAY_MS;
	if (client_next_key(cl)) {
		r->why = "the last run did not finish it";
		log_info("key rotation: identity.key.next found; sending it to "
			 "the scheduler again");
	}
}

void rotate_request(struct rotate *r, const char *why)
{
	if (!r->why)
		r->why = why;
}

/* Whether identity.key has reached key_rotate_days. */
static bool too_old(const struct rotate *r, struct client *cl)
{
	return r->max_age_ms > 0 &&
	       time_now_ms() - client_key_born_ms(cl) >= r->max_age_ms;
}

/* The body: {pubkey: new, old_pubkey: current, proof}. -1 if the proof
 * cannot be made. */
static int pack_body(struct client *cl, const struct sign_key *next,
		     msgpack_sbuffer *sb)
{
	uint8_t old[SIGN_PUB_LEN], new_pub[SIGN_PUB_LEN], proof[SIGN_SIG_LEN];
	msgpack_packer pk;

	sign_key_public(client_key(cl), old);
	sign_key_public(next, new_pub);
	if (keyproof_sign(next, client_agent_id(cl), old, proof))
		return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_bin(&pk, "pubkey", new_pub, sizeof(new_pub));
	mp_kv_bin(&pk, "old_pubkey", old, sizeof(old));
	mp_kv_bin(&pk, "proof", proof, sizeof(proof));
	return 0;
}

bool rotate_plan(struct rotate *r, struct client *cl, struct outbox *out,
		 int64_t now_mono)
{
	const struct sign_key *next = client_next_key(cl);
	msgpack_sbuffer sb;
	char err[700];
	int rc;

	if (now_mono < r->not_before || !client_agent_id(cl)[0])
		return false;
	if (!next && !r->why && too_old(r, cl))
		r->why = "identity.key reached key_rotate_days";
	if (!next && !r->why)
		return false;
	if (!next) {
		if (client_rotate_begin(cl, err, sizeof(err))) {
			log_error("key rotation: %s; trying again later", err);
			r->not_before = now_mono + FAILED_RETRY_MS;
			return false;
		}
		next = client_next_key(cl);
		log_info("key rotation (%s): a new key is in "
			 "identity.key.next; telling the scheduler", r->why);
		test_crash("after_write");
	}
	msgpack_sbuffer_init(&sb);
	rc = pack_body(cl, next, &sb);
	if (!rc) {
		outbox_push(out, "rotate", sb.data, sb.size);
		/* sealed now: with the new key when the old one was refused
		 * (the scheduler took the new key and its grace is over) */
		client_seal_key(cl, r->with_next ? next : client_key(cl),
				"rotate", sb.data, sb.size, &out->tail->sealed);
	} else {
		log_error("key rotation: cannot sign the proof; trying again "
			  "later");
		r->not_before = now_mono + FAILED_RETRY_MS;
	}
	msgpack_sbuffer_destroy(&sb);
	return rc == 0;
}

void rotate_done(struct rotate *r, struct client *cl, struct tsink *sink,
		 const msgpack_object *reply)
{
	int64_t until = 0;
	char err[1300], fp[65], when[40] = "";
	uint8_t pub[SIGN_PUB_LEN];

	test_crash("before_rename");
	if (client_rotate_commit(cl, err, sizeof(err))) {
		/* the scheduler has the new key: sent again, it answers ok
		 * again, and the rename is tried again */
		log_error("key rotation: %s; trying again", err);
		r->not_before = time_mono_ms() + FAILED_RETRY_MS;
		return;
	}
	tsink_set_key(sink, client_key(cl));
	sign_key_public(client_key(cl), pub);
	keyproof_fingerprint(pub, fp);
	/* a rotation answered again may be past its grace already */
	mp_get_i64(reply, "old_key_until", &until);
	if (until > time_now_ms())
		time_format_iso(until, when, sizeof(when));
	log_info("identity key rotated (sha256 %s): %s; the scheduler %s%s",
		 fp, r->why ? r->why : "asked",
		 until > time_now_ms() ? "accepts the old key until "
				       : "no longer accepts the old key",
		 until > time_now_ms() ? when : "");
	r->why = NULL;
	r->with_next = false;
}

int rotate_refused(struct rotate *r, struct client *cl, const char *code)
{
	if (!strcmp(code, "shutting_down"))
		return -1;
	if (!strcmp(code, "forged") || !strcmp(code, "unsigned") ||
	    !strcmp(code, "unknown_agent")) {
		if (r->with_next || !client_next_key(cl) ||
		    strcmp(code, "forged"))
			return -1;
		/* The old key is refused: the scheduler may have taken the
		 * new one already (our earlier rotate) and ended its grace
		 * while we were away. The new key tells. */
		log_warn("key rotation: the scheduler refuses the old key; "
			 "sending the rotation signed with the new one");
		r->with_next = true;
		return 0;
	}
	if (!strcmp(code, "unknown_type"))
		log_warn("key rotation: the scheduler does not know it (an "
			 "older build); the current key is kept; next try in "
			 "%lld s", UNKNOWN_RETRY_MS / 1000);
	else
		log_error("key rotation refused by the scheduler (%s): the new "
			  "key is dropped and the current one kept; next try in "
			  "%lld s",
			  code, REFUSED_RETRY_MS / 1000);
	client_rotate_abort(cl);
	r->why = NULL;
	r->with_next = false;
	r->not_before = time_mono_ms() + (strcmp(code, "unknown_type")
						  ? REFUSED_RETRY_MS
						  : UNKNOWN_RETRY_MS);
	return 0;
}
