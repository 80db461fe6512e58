/* cmd_agent.c - admin commands for agents and enrollment tokens. */
#include <stdio.h>
#include <string.h>

#include "admin_cmds.h"
#include "agent_work.h"
#include "keyproof.h"
#include "keyreg.h"
#include "keyrot.h"
#include "records.h"
#include "sched_ctx.h"
#include "sign.h"
#include "util.h"

int cmd_agent_token(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	const struct env *e = state_env_live(c->st, a->pos[0]);
	uint8_t raw[24];
	char hex[2 * sizeof(raw) + 1], token[64];
	struct token *t;

	if (!e)
		return cmd_fail(r, "not_found", "no environment '%.128s'",
				a->pos[0]);
	if (sign_random(raw, sizeof(raw)))
		return cmd_fail(r, "internal", "cannot get random bytes");
	hex_encode(raw, sizeof(raw), hex);
	snprintf(token, sizeof(token), "spt_%s", hex);
	t = xcalloc(1, sizeof(*t));
	/* Only the hash is stored: a copy of the store cannot enroll. */
	sign_sha256_hex(token, strlen(token), t->hash);
	snprintf(t->env, sizeof(t->env), "%s", e->key);
	t->created_ms = c->now_ms;
	t->expires_ms = c->now_ms +
			arg_num(a, "--ttl", c->cfg->token_ttl_s) * 1000;
	state_add_token(c->st, t);
	records_put_token(c->batch, c->store, t);
	jw_str(&r->w, "print", token);
	jw_str(&r->w, "token", token);
	snprintf(hex, sizeof(hex), "%.*s", TOKEN_ID_LEN, t->hash);
	jw_str(&r->w, "id", hex);
	jw_str(&r->w, "env", e->key);
	jw_time(&r->w, "expires", t->expires_ms);
	return 0;
}

/* What became of a token. */
static const char *token_state(const struct sched *c, const struct token *t)
{
	if (t->used_ms)
		return "used";
	if (t->revoked_ms)
		return "revoked";
	return c->now_ms >= t->expires_ms ? "expired" : "unused";
}

/* Tokens are named by the start of their hash (TOKEN_ID_LEN hex digits):
 * enough to tell them apart, nothing to enroll with. */
int cmd_agent_token_list(struct sched *c, const struct cmd_args *a,
			 struct reply *r)
{
	const char *env = a->npos ? a->pos[0] : NULL;

	if (env && !state_env_live(c->st, env))
		return cmd_fail(r, "not_found", "no environment '%.128s'", env);
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < c->st->tokens.n; i++) {
		const struct token *t = c->st->tokens.v[i];
		int64_t left = t->expires_ms - c->now_ms;
		if (env && strcmp(t->env, env))
			continue;
		char tid[TOKEN_ID_LEN + 1];
		snprintf(tid, sizeof(tid), "%s", t->hash);
		jw_obj_open(&r->w, NULL);
		jw_str(&r->w, "id", tid);
		jw_str(&r->w, "env", t->env);
		jw_str(&r->w, "state", token_state(c, t));
		jw_time(&r->w, "created", t->created_ms);
		jw_time(&r->w, "expires", t->expires_ms);
		/* the time to live left, while it can still enroll */
		if (!strcmp(token_state(c, t), "unused"))
			jw_int(&r->w, "ttl_s", left / 1000);
		else
			jw_str(&r->w, "ttl_s", "-");
		jw_str(&r->w, "agent", t->agent[0] ? t->agent : "-");
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	return 0;
}

int cmd_agent_token_revoke(struct sched *c, const struct cmd_args *a,
			   struct reply *r)
{
	const char *id = a->pos[0];
	size_t n = strlen(id);
	struct token *found = NULL;

	if (n < 8 || n > 64 || strspn(id, "0123456789abcdef") != n)
		return cmd_fail(r, "invalid",
				"token id '%.64s': 8 to 64 lowercase hex digits "
				"(as agent token list shows)",
				id);
	for (size_t i = 0; i < c->st->tokens.n; i++) {
		struct token *t = c->st->tokens.v[i];
		if (strncmp(t->hash, id, n))
			continue;
		if (found)
			return cmd_fail(r, "ambiguous",
					"token id '%s' names more than one "
					"token: give more digits",
					id);
		found = t;
	}
	if (!found)
		return cmd_fail(r, "not_found", "no token '%s'", id);
	if (found->used_ms)
		return cmd_fail(r, "invalid",
				"token %.*s was used by agent %s: revoke the "
				"agent instead (agent revoke %s)",
				TOKEN_ID_LEN, found->hash, found->agent,
				found->agent);
	if (!found->revoked_ms) {
		found->revoked_ms = c->now_ms;
		records_put_token(c->batch, c->store, found);
	}
	char tid[TOKEN_ID_LEN + 1];
	snprintf(tid, sizeof(tid), "%s", found->hash);
	jw_str(&r->w, "id", tid);
	jw_strf_print(&r->w, "token %.*s of %s revoked: it enrolls nobody",
		      TOKEN_ID_LEN, found->hash, found->env);
	return 0;
}

/* The identity key: its fingerprint, the last rotation, one asked for,
 * and the old key while it is still accepted. */
static void write_key(struct jw *w, const struct agent *ag, int64_t now_ms)
{
	char fp[65];

	keyproof_fingerprint(ag->pubkey, fp);
	jw_str(w, "key_fingerprint", fp);
	jw_time(w, "key_rotated", ag->key_rotated_ms);
	jw_str(w, "key_rotation", ag->rotate_requested_ms ? "requested"
							  : "none");
	jw_time(w, "key_rotation_requested", ag->rotate_requested_ms);
	jw_time(w, "old_key_accepted_until",
		now_ms < ag->prev_until_ms ? ag->prev_until_ms : 0);
}

static void write_agent(struct jw *w, const struct agent *ag,
			bool full, int64_t now_ms)
{
	char pub[65];
	jw_str(w, "id", ag->id);
	jw_str(w, "env", ag->env);
	jw_str(w, "state", agent_state_name(ag->state));
	jw_str(w, "preflight", ag->preflight_ok ? "passed" : "not passed");
	jw_str(w, "hostname", ag->hostname);
	jw_uint(w, "slots", ag->slots);
	jw_uint(w, "running", ag->held.n);
	/* a request of it waits at the scheduler for work (long poll): it
	 * gets a run the turn one can be leased to it */
	jw_bool(w, "waiting_for_work", ag->parked != NULL);
	jw_str(w, "version", ag->version[0] ? ag->version : "unknown");
	jw_time(w, "last_seen", ag->last_seen_ms);
	if (!full)
		return;
	hex_encode(ag->pubkey, sizeof(ag->pubkey), pub);
	jw_str(w, "public_key", pub);
	write_key(w, ag, now_ms);
	jw_str(w, "spark_version", ag->spark_version);
	jw_time(w, "enrolled", ag->enrolled_ms);
	jw_uint(w, "seq", ag->seq_hwm);
	jw_uint(w, "accepted", ag->accepted);
	jw_uint(w, "rejected_forged", ag->rejected_forged);
	jw_uint(w, "rejected_replayed", ag->rejected_replayed);
	jw_uint(w, "rejected_unsigned", ag->rejected_unsigned);
	jw_uint(w, "rejected_stale", ag->rejected_stale);
	jw_obj_open(w, "telemetry");
	jw_uint(w, "batches", ag->tb_stored);
	jw_uint(w, "events", ag->tb_events);
	jw_uint(w, "last_batch", ag->tb_high);
	jw_uint(w, "duplicates", ag->tb_duplicate);
	jw_uint(w, "rejected_forged", ag->tb_rejected_forged);
	jw_uint(w, "rejected_unknown_key", ag->tb_rejected_unknown_key);
	jw_uint(w, "rejected_replayed", ag->tb_rejected_replayed);
	jw_uint(w, "rejected_malformed", ag->tb_rejected_malformed);
	jw_uint(w, "rejected_stale", ag->tb_rejected_stale);
	jw_obj_close(w);
	jw_obj_open(w, "spool");
	jw_uint(w, "records", ag->spool_records);
	jw_uint(w, "bytes", ag->spool_bytes);
	jw_uint(w, "dropped_logs", ag->spool_dropped_logs);
	jw_uint(w, "dropped_metrics", ag->spool_dropped_metrics);
	jw_uint(w, "corrupt", ag->spool_corrupt);
	jw_uint(w, "torn", ag->spool_torn);
	jw_obj_close(w);
}

int cmd_agent_list(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < c->st->agents.n; i++) {
		const struct agent *ag = c->st->agents.v[i];
		const struct env *e = state_env(c->st, ag->env);
		if (!e || !cmd_sees(a, e->tenant))
			continue;
		jw_obj_open(&r->w, NULL);
		write_agent(&r->w, ag, false, c->now_ms);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	/* a fleet-wide figure: for those who see every tenant */
	if (cmd_sees_all(a))
		jw_uint(&r->w, "rejected_unknown_agent", c->rejected_malformed);
	return 0;
}

static struct agent *agent_arg(struct sched *c, const struct cmd_args *a,
			       struct reply *r)
{
	struct agent *ag = state_agent(c->st, a->pos[0]);
	if (!ag)
		cmd_fail(r, "not_found", "no agent '%.64s'", a->pos[0]);
	return ag;
}

int cmd_agent_show(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	const struct agent *ag = agent_arg(c, a, r);
	if (!ag)
		return -1;
	jw_obj_open(&r->w, "agent");
	write_agent(&r->w, ag, true, c->now_ms);
	jw_obj_close(&r->w);
	return 0;
}

int cmd_agent_drain(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct agent *ag = agent_arg(c, a, r);
	if (!ag)
		return -1;
	if (ag->state == AGENT_REVOKED)
		return cmd_fail(r, "conflict", "agent '%s' is revoked", ag->id);
	ag->state = AGENT_DRAINING;
	records_put_agent(c->batch, c->store, ag);
	jw_strf_print(&r->w, "agent %s is draining: no new work", ag->id);
	return 0;
}

/* Undoes agent drain: the agent takes work at its next lease request
 * (parked ones are served at the end of this turn). */
int cmd_agent_undrain(struct sched *c, const struct cmd_args *a,
		      struct reply *r)
{
	struct agent *ag = agent_arg(c, a, r);
	bool was;

	if (!ag)
		return -1;
	if (ag->state == AGENT_REVOKED)
		return cmd_fail(r, "conflict",
				"agent '%s' is revoked; enroll a new one", ag->id);
	was = ag->state == AGENT_DRAINING;
	ag->state = AGENT_ACTIVE;
	if (was)
		records_put_agent(c->batch, c->store, ag);
	jw_strf_print(&r->w, "agent %s is active: it takes new work%s", ag->id,
		      was ? "" : " (it was not draining)");
	jw_str(&r->w, "state", agent_state_name(ag->state));
	return 0;
}

int cmd_agent_revoke(struct sched *c, const struct cmd_args *a,
		     struct reply *r)
{
	struct agent *ag = agent_arg(c, a, r);
	if (!ag)
		return -1;
	ag->state = AGENT_REVOKED;
	ag->preflight_ok = false;
	keyreg_remove(c->keys, ag->id);
	policy_drop_agent(&c->pol, ag, "the agent was revoked");
	agent_work_answer_parked(c, ag); /* refused: forged */
	records_put_agent(c->batch, c->store, ag);
	jw_strf_print(&r->w, "agent %s is revoked", ag->id);
	return 0;
}

/* Asks the agent to make a new identity key: it hears it in its next
 * reply and rotates (keyrot.h). */
int cmd_agent_rotate(struct sched *c, const struct cmd_args *a,
		     struct reply *r)
{
	struct agent *ag = agent_arg(c, a, r);

	if (!ag)
		return -1;
	if (ag->state == AGENT_REVOKED)
		return cmd_fail(r, "conflict",
				"agent '%s' is revoked; enroll a new one", ag->id);
	if (keyrot_request(c, ag))
		records_put_agent(c->batch, c->store, ag);
	/* an idle agent's long poll is answered now, with the request */
	agent_work_answer_parked(c, ag);
	jw_strf_print(&r->w,
		      "agent %s: key rotation requested; the agent rotates "
		      "when it next hears from the scheduler (agent show "
		      "tells when)",
		      ag->id);
	jw_time(&r->w, "requested", ag->rotate_requested_ms);
	return 0;
}
