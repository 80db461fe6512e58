/*
 * work.h - the runs in progress on this agent: each run driven by its
 * environment's backend (agent/backend.h: a spark-submit child, a Livy
 * batch...), its output redacted (common/redact.h) and classified when it
 * fails (common/diagnose.h), its lines and metrics batched, and its state
 * changes and result spooled for the scheduler (agent/tsink.h).
 */
#ifndef SP_WORK_H
#define SP_WORK_H

#include <msgpack.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent_config.h"
#include "tsink.h"

struct work;

struct work *work_new(const struct agent_config *cfg, struct tsink *sink);
/* Kills whatever is still running (no reports) and frees everything. */
void work_free(struct work *w);
int work_free_slots(const struct work *w);
/* Packs the runs held here as [[run, epoch], ...]: the scheduler adopts
 * them, tells us to stop the ones that are no longer ours, and requeues
 * the ones leased to us that are missing (docs/architecture.md, Agents). */
void work_pack_held(const struct work *w, msgpack_packer *pk);
size_t work_count(const struct work *w);

/* Starts the run described by one lease map from a lease reply. A run that
 * cannot start is reported as failed. */
void work_start(struct work *w, const msgpack_object *lease);
/* Cancels run id if it is here (SIGTERM, then SIGKILL after the grace). */
void work_cancel(struct work *w, uint64_t run);
/* Stops every run (agent shutdown): they are reported failed, so the
 * scheduler may retry them elsewhere. */
void work_stop_all(struct work *w);

/* For a reload: the built-in rules plus rules ("KIND REGEX" per line, as
 * the config's redact_rule) redact every line read from now on, of every
 * run, those in progress included (a rule added because a long run leaks
 * a secret must stop the leak now). Each run's pending batch goes out
 * first, its redaction counts reported under the old kind names; the
 * counts then start again from zero under the new ones. Logs one line.
 * 0, or -1 with the reason naming the rule (nothing changes). rules is
 * copied. */
int work_set_redact_rules(struct work *w, const char *rules, char *err,
			  size_t errlen);

/* Fills pfd with the output pipes to watch; returns how many (<= max). */
int work_pollfds(struct work *w, struct pollfd *pfd, int max);
/* Reads ready output, enforces timeouts, reaps finished runs, flushes log
 * batches that are due. */
void work_tick(struct work *w, int64_t now_mono);
/* Monotonic time of the next thing work_tick must do, or INT64_MAX. */
int64_t work_next_deadline(const struct work *w);

#endif
