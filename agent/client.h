/*
 * client.h - the agent's identity and its link to the scheduler: the
 * Ed25519 key (state_dir/identity.key, mode 0600), the agent id
 * (state_dir/agent.id), sequence numbers that never repeat across restarts
 * (reserved in blocks in state_dir/seq), and an nng REQ socket that dials
 * out over tcp:// or tls+tcp://. Only this module includes nng.
 */
#ifndef SP_CLIENT_H
#define SP_CLIENT_H

#include <msgpack.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_config.h"
#include "strbuf.h"

struct client;

/* Loads or creates the identity in cfg->state_dir and starts dialing the
 * scheduler (in the background; calls fail until it is reachable). */
struct client *client_open(const struct agent_config *cfg, char *err,
			   size_t errlen);
void client_close(struct client *c);
/* Whether the scheduler URL the client dials (the one it was opened with)
 * is tls+tcp://. */
bool client_uses_tls(const struct client *c);
/* For a reload: reads cfg's TLS files (tls_ca, tls_cert, tls_key;
 * tls_server_name) again, also when their paths did not change (a rotated
 * certificate usually replaces the file), into a new configuration that
 * the connections dialed from now on use; the connection up now stays.
 * The scheduler URL stays the one the client was opened with. Returns 0
 * (also when the client does not use TLS: nothing is done), or -1 with
 * the reason naming the file that could not be read or used: the running
 * configuration is kept. */
int client_reload_tls(struct client *c, const struct agent_config *cfg,
		      char *err, size_t errlen);
/* The agent id, or "" before enrollment. */
const char *client_agent_id(const struct client *c);
/* The identity's Ed25519 public key. */
void client_public_key(const struct client *c, uint8_t pub[32]);
/* The identity key (telemetry batches are signed with it too). */
struct sign_key;
const struct sign_key *client_key(const struct client *c);
/* Stores the id given by the scheduler at enrollment (durably). 0 / -1. */
int client_set_agent_id(struct client *c, const char *id);

/* Key rotation (agent/rotate.h). identity.key.next holds the new key from
 * before the scheduler is told until it has answered; a start that finds
 * it (with an agent id) loads it: client_next_key is then not NULL. */
/* When identity.key was written (its modification time), wall ms. */
int64_t client_key_born_ms(const struct client *c);
/* The new key of a rotation under way, or NULL. */
const struct sign_key *client_next_key(const struct client *c);
/* Makes a new key and writes it durably (file and directory synced) to
 * identity.key.next, mode 0600; nothing if a rotation is already under
 * way. 0, or -1 with the reason naming the file. */
int client_rotate_begin(struct client *c, char *err, size_t errlen);
/* The scheduler took the new key: renames identity.key.next over
 * identity.key (directory synced) and signs with it from now on. The old
 * key is freed: hand client_key to whatever held it. 0, or -1 with the
 * reason (nothing changed: the rotation is still under way). */
int client_rotate_commit(struct client *c, char *err, size_t errlen);
/* The scheduler refused the new key: removes identity.key.next; the
 * current key stays. */
void client_rotate_abort(struct client *c);

/* While *flag is non-zero, client_call gives up waiting (within 20 ms);
 * NULL turns this off (used for the final flush at shutdown). */
void client_set_cancel(struct client *c, volatile sig_atomic_t *flag);
/* Has client_call call tick(arg) about every 20 ms while it waits (an
 * idle agent's long poll lasts 25 s: systemd's watchdog must still hear
 * from it); NULL: none. */
void client_set_tick(struct client *c, void (*tick)(void *), void *arg);
/* Seals body (a packed msgpack map) as a message of `type` with the next
 * sequence number, signed with the identity key, into out (replaced). */
int client_seal(struct client *c, const char *type, const void *body,
		size_t len, struct strbuf *out);
/* The same, signed with key (the new key of a rotation). */
int client_seal_key(struct client *c, const struct sign_key *key,
		    const char *type, const void *body, size_t len,
		    struct strbuf *out);
/* Sends a sealed message and waits up to timeout_ms for the reply, which
 * must be a msgpack map: its bytes go to raw, and reply (then initialised;
 * destroy it) points into raw, so keep raw until reply is gone. Returns 0,
 * or -1 with a reason (timeout, unreachable): send the same bytes again,
 * the scheduler answers a resend of its last message from its cache.
 * An `unavailable` answer (the scheduler's store takes no writes: it did
 * nothing with the message) is -1 too, and for the retry_after_ms it
 * names every call returns -1 at once without sending: the caller keeps
 * the message and resends it later, like after a timeout. */
int client_call(struct client *c, const void *msg, size_t len,
		int64_t timeout_ms, struct strbuf *raw, msgpack_unpacked *reply,
		char *err, size_t errlen);

#endif
