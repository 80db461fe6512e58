/*
 * tsink.h - where the agent's reports about its runs go: into the durable
 * spool (agent/spool.h), in the order they happened, so that neither a
 * scheduler that is away nor a kill -9 of the agent loses them.
 *
 *   - run state events and completions (`run_event`, `complete` bodies):
 *     kept whatever the spool's size, and synced before tsink_event
 *     returns, since a lost completion would make the scheduler run the
 *     run again;
 *   - telemetry batches (common/tbatch.h): sealed here with the agent's key
 *     and a batch number of their own (agent/seqfile.h), so the scheduler
 *     stores each once however often it is sent. A run's last batch is
 *     kept like an event; earlier ones may be dropped when the spool is
 *     full (log lines after metrics, oldest first, counted by the spool).
 *
 * The sender asks for the next message (tsink_next): an event as its own
 * message, or consecutive batches as one `telemetry` message; and reports
 * it done once the scheduler answered (tsink_done), which removes it.
 * When the spool is over its hard bound, records wait in memory and
 * tsink_backlogged() says so: the runs stop reading their output (the
 * pipes fill and spark-submit waits) until acknowledgements make room.
 */
#ifndef SP_TSINK_H
#define SP_TSINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_config.h"
#include "spool.h"
#include "strbuf.h"
#include "tbatch.h"

struct sign_key;
struct tsink;

/* Opens the spool in cfg->state_dir/spool for agent_id (enrolled), whose
 * batches key signs. NULL with a reason. */
struct tsink *tsink_open(const struct agent_config *cfg,
			 const struct sign_key *key, const char *agent_id,
			 char *err, size_t errlen);
/* Syncs and closes. NULL is fine. */
void tsink_close(struct tsink *t);
/* The key batches are signed with from now on (after a key rotation);
 * batches already spooled keep the signature they have. */
void tsink_set_key(struct tsink *t, const struct sign_key *key);

/* A run state message: type ("run_event", "complete") and its packed body. */
void tsink_event(struct tsink *t, const char *type, const void *body,
		 size_t len);
/* Seals b's events (if any) as the next batch of run/epoch and spools it;
 * b is reset. final: the run's last batch (never dropped). */
void tsink_batch(struct tsink *t, struct tbatch_builder *b, uint64_t run,
		 uint64_t epoch, bool final);
/* true while records wait in memory for room in the spool. */
bool tsink_backlogged(const struct tsink *t);
/* true while a run event or completion waits to be sent. A message that
 * lists the runs held here must not overtake one: the scheduler would take
 * a run that ended, its completion not yet told, for one that was lost. */
bool tsink_events_pending(const struct tsink *t);

/* The next message to send, oldest first: its type and body, and in *upto
 * what tsink_done must be given once it was answered. false if nothing
 * waits. */
bool tsink_next(struct tsink *t, char type[16], struct strbuf *body,
		uint64_t *upto);
void tsink_done(struct tsink *t, uint64_t upto);

/* Periodic: syncs the spool when due, moves records waiting in memory in. */
void tsink_tick(struct tsink *t, int64_t now_mono);
void tsink_stats(const struct tsink *t, struct spool_stats *st);

#endif
