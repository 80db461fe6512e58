/*
 * auditlog.h - the audit log's records, as the scheduler stores them and
 * as `audit export` writes them (docs/storage.md, Audit log): the
 * encoding, the hash chain, the signed marks, and the walk that checks a
 * chain. Shared by the scheduler (scheduler/audit.c, `audit verify`) and
 * the offline verifier (sparkpilot-audit-verify), so that both check
 * exactly the same rules. No I/O, no clock.
 *
 * A record is a msgpack map {v, seq, ms, kind, tenant, actor, prev, d[,
 * sig]}; its hash is the SHA-256 of its exact stored bytes, and the next
 * record's prev holds that hash (the first record's prev is 32 zero
 * bytes). A checkpoint is a record of kind "checkpoint" whose sig signs
 * the mark "checkpoint" of the record before it (seq - 1, prev).
 */
#ifndef SP_AUDITLOG_H
#define SP_AUDITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "sign.h"
#include "strbuf.h"

#define AUDIT_FORMAT 1
#define AUDIT_HASH_LEN SIGN_SHA256_LEN
#define AUDIT_MAX_DETAIL 12
#define AUDIT_KEY_LEN 24
#define AUDIT_VAL_LEN 256
#define AUDIT_NAME_LEN 64
#define AUDIT_CHECKPOINT "checkpoint"

struct audit_kv {
	char key[AUDIT_KEY_LEN];
	char val[AUDIT_VAL_LEN];
};

struct audit_rec {
	uint64_t seq;
	int64_t ms;
	char kind[AUDIT_KEY_LEN];   /* admin, enroll, revoke, agent_refused,
				     * budget, delete, checkpoint */
	char tenant[AUDIT_NAME_LEN]; /* "" : about no tenant */
	char actor[AUDIT_NAME_LEN];  /* "uid:N", an agent id, "scheduler" */
	uint8_t prev[AUDIT_HASH_LEN];
	size_t nd;
	struct audit_kv d[AUDIT_MAX_DETAIL]; /* detail, in the order added */
	bool has_sig;
	uint8_t sig[SIGN_SIG_LEN];
};

/* Adds a detail field (truncated to fit; dropped past AUDIT_MAX_DETAIL). */
void audit_rec_add(struct audit_rec *r, const char *key, const char *fmt, ...)
	SP_PRINTF(3, 4);
/* The same for a plain string (no formatting: the common case, cheaper). */
void audit_rec_put(struct audit_rec *r, const char *key, const char *val);
/* The value of detail key, or NULL. */
const char *audit_rec_get(const struct audit_rec *r, const char *key);

/* Appends r's encoding to out (the bytes that are stored and hashed). */
void audit_rec_encode(const struct audit_rec *r, struct strbuf *out);
/* Decodes exactly one record from buf. 0, or -1 with a reason. */
int audit_rec_decode(const void *buf, size_t len, struct audit_rec *r,
		     char *err, size_t errlen);

/* The bytes a mark signs: "sparkpilot-audit:" LABEL, NUL, seq (u64 BE),
 * hash, ms (u64 BE). A mark says "record seq has this hash" (seq 0 with
 * the zero hash: before the first record). Labels: "checkpoint",
 * "export-start", "export-end". */
#define AUDIT_MARK_MAX 96
size_t audit_mark_bytes(const char *label, uint64_t seq,
			const uint8_t hash[AUDIT_HASH_LEN], int64_t ms,
			uint8_t out[AUDIT_MARK_MAX]);
int audit_mark_sign(const struct sign_key *k, const char *label, uint64_t seq,
		    const uint8_t hash[AUDIT_HASH_LEN], int64_t ms,
		    uint8_t sig[SIGN_SIG_LEN]);
/* 0 if sig signs the mark by pub, else -1. */
int audit_mark_verify(const uint8_t pub[SIGN_PUB_LEN], const char *label,
		      uint64_t seq, const uint8_t hash[AUDIT_HASH_LEN],
		      int64_t ms, const uint8_t sig[SIGN_SIG_LEN]);

/* The export line of a stored record (no newline): every field, its
 * time, the hex of prev, of its hash and of its exact bytes ("raw"). The
 * line is a function of the bytes alone, so a verifier renders it again
 * from "raw" and compares: any other byte changed shows. -1 if raw is not
 * a record. */
int audit_json_line(const void *raw, size_t len, struct strbuf *out,
		    char *err, size_t errlen);

/* Checks a chain record by record, from a known start. */
struct audit_walk {
	uint8_t pub[SIGN_PUB_LEN]; /* the key checkpoints must verify with */
	uint64_t last_seq;         /* the record checked last (0: none) */
	uint8_t last_hash[AUDIT_HASH_LEN];
	uint64_t records, checkpoints;
	uint64_t last_checkpoint;  /* seq of the last checkpoint seen */
};
/* A walk from the start of the chain (seq 0, the zero hash), or from the
 * record seq whose hash is hash. */
void audit_walk_init(struct audit_walk *w, const uint8_t pub[SIGN_PUB_LEN],
		     uint64_t seq, const uint8_t hash[AUDIT_HASH_LEN]);
/* Checks the next record's bytes: it decodes, its seq follows, its prev
 * is the hash of the record before, a checkpoint's signature holds. 0, or
 * -1 with why (the caller names the position); *seq gets the record's
 * seq when it decodes (else 0). */
int audit_walk_next(struct audit_walk *w, const void *raw, size_t len,
		    uint64_t *seq, char *err, size_t errlen);

#endif
