/*
 * audit.h - the tamper-evident audit log on the core thread (docs/storage.md,
 * Audit log; docs/operator-guide.md, Audit log). Each call appends one
 * record (common/auditlog.h) to this turn's write batch, so it commits
 * atomically with the change it describes; records are chained by hash
 * and every audit_checkpoint_records records, or audit_checkpoint_s
 * seconds with new ones, a checkpoint signed with the scheduler's own key
 * (DATA_DIR/audit.key) is appended.
 *
 * Never recorded: secrets (the words after `--` of `job add`, tokens, a
 * flag's value that did not parse) and customer data (log lines).
 */
#ifndef SP_AUDIT_H
#define SP_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "auditlog.h"

struct sched;
struct command;
struct cmd_args;
struct agent;
struct cost_event;

/* The key file in the data dir, created (mode 0600) at the first start. */
#define AUDIT_KEY_FILE "audit.key"
/* Refused agent messages: at most one summary per sender in this long. */
#define AUDIT_REFUSED_WINDOW_MS 60000

/* Loads (or creates) the key and finds the chain's head in the store.
 * Before anything is appended. 0, or -1 with a reason. */
int audit_open(struct sched *c, char *err, size_t errlen);
void audit_close(struct sched *c);

/* Appends r (kind, tenant, actor and detail filled by the caller; seq, ms
 * and prev are set here) to this turn's batch. */
void audit_append(struct sched *c, struct audit_rec *r);

/* An admin command that changes something, or any refused one: error
 * is NULL for success, else the error code. parsed: the words parsed
 * (flag values are recorded only then). */
void audit_admin(struct sched *c, const struct command *cmd,
		 const struct cmd_args *a, bool parsed, const char *error);
/* The end of an admin command answered later (audit_admin recorded it
 * "started"): its outcome, with the args worth keeping (never a secret;
 * error NULL for success). */
void audit_admin_result(struct sched *c, const char *tenant,
			const char *actor, const char *role,
			const char *command, const char *args,
			const char *error);
/* An agent enrolled with a token (never recorded itself). */
void audit_enroll(struct sched *c, const struct agent *ag);
/* Counts a refused agent message of agent (NULL: no known sender) for
 * the sender's next summary (code: forged, replayed, invalid_token...). */
void audit_agent_refused(struct sched *c, const char *agent,
			 const char *code);
/* A budget action of the policy (guard step, breaker, cap, warning). */
void audit_budget(struct sched *c, const struct cost_event *ev);
/* A deletion: what ("tenant", "job", ...) named name, by actor ("uid:N"),
 * of tenant (or ""). For the commands that delete. */
/* An agent's identity key replaced (keyrot_apply): the new key's
 * fingerprint and how long the old one is still accepted. */
void audit_key_rotated(struct sched *c, const struct agent *ag,
		       const char *fingerprint, int64_t old_until_ms);
void audit_deleted(struct sched *c, const char *tenant, const char *actor,
		   const char *what, const char *name);

/* Time-driven work: summaries whose window is over, the timed
 * checkpoint. */
void audit_tick(struct sched *c);
/* When audit_tick has work next (monotonic ms), INT64_MAX if none. */
int64_t audit_next_wake(const struct sched *c);

/* The checkpoint key's public half, and the chain's head (seq 0 and the
 * zero hash when empty), as appended (the turn's batch included). */
const uint8_t *audit_pub(const struct sched *c);
void audit_head(struct sched *c, uint64_t *seq, uint8_t hash[AUDIT_HASH_LEN]);
/* Takes the hash of the last record appended, if not taken yet: the core
 * calls it after a turn's replies, so that a command's audit record is
 * hashed off its path to the sync (the stored bytes are the same). */
void audit_settle(struct sched *c);
/* Signs a mark (auditlog.h) with the checkpoint key. 0 / -1. */
int audit_sign(const struct sched *c, const char *label, uint64_t seq,
	       const uint8_t hash[AUDIT_HASH_LEN], int64_t ms,
	       uint8_t sig[SIGN_SIG_LEN]);

#endif
