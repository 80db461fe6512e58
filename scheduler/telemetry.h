/*
 * telemetry.h - the scheduler's side of telemetry batches (common/tbatch.h):
 * checked on nng's threads (signature, decompression, every event), stored
 * by the core thread once per agent batch number, read back for `run logs`
 * and `run metrics`, and dropped by range with their run (retention.h).
 *
 * Key in the telemetry column family:
 *   tenant ‖ 0x00 ‖ run u64 BE ‖ first line u32 BE ‖ agent batch seq u64 BE
 * value: the batch's log lines u32 BE ‖ the sealed batch as the agent sent
 * it. A run's line numbers are given at storing time (the run's log_lines
 * counter), so `run logs --after N` skips whole batches by their key and
 * line count without decompressing them.
 */
#ifndef SP_TELEMETRY_H
#define SP_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tbatch.h"

#define TELEMETRY_MAX_BATCHES 64 /* per message */
#define TELEMETRY_WINDOW 256     /* batch numbers below the highest */

enum tb_verdict {
	TB_STORE,      /* new: store it */
	TB_DUPLICATE,  /* stored before: acknowledged again, not stored */
	TB_MALFORMED,
	TB_FORGED,     /* its signature does not verify with the agent's key */
	TB_UNKNOWN_KEY, /* signed in another agent's name */
	TB_REPLAYED,   /* more than TELEMETRY_WINDOW below the highest seen */
	TB_STALE,      /* names a run this agent never held */
};

struct tb_item {
	const char *sealed; /* points into the message */
	size_t len;
	struct tbatch_meta m;
	uint32_t lines;     /* log events in it */
	enum tb_verdict v;
	bool by_prev;       /* signed by the key a rotation replaced */
};

/* What the nng thread found in a `telemetry` message. */
struct tb_pre {
	struct tb_item *items;
	size_t n;
};

const char *tb_verdict_name(enum tb_verdict v);

struct wire_msg;
/* nng thread: checks each batch of msg (signed by the agent whose key is
 * pub). NULL if the body is not {batches: [bin, ...]} within the limits. */
struct tb_pre *telemetry_precheck(const struct wire_msg *msg,
				  const uint8_t *pub);
/* The same, also taking batches signed by prev (NULL: none), the agent's
 * key before a rotation, marked by_prev for the core to check the grace
 * (telemetry_apply). */
struct tb_pre *telemetry_precheck_keys(const struct wire_msg *msg,
				       const uint8_t *pub, const uint8_t *prev);
void telemetry_pre_free(void *pre);

struct sched;
struct agent;
/* Core thread: gives each item of p its final verdict, stores the new ones
 * in this turn's batch, and counts everything on ag. */
void telemetry_apply(struct sched *c, struct agent *ag, struct tb_pre *p);

/* Log lines of run (of tenant) numbered >= after, at most max, in order. */
typedef int (*telemetry_line_fn)(uint32_t n, int64_t ts, int stream,
				 const char *text, size_t len, void *ctx);
int telemetry_scan_lines(struct sched *c, const char *tenant, uint64_t run,
			 uint32_t after, uint32_t max, telemetry_line_fn fn,
			 void *ctx);

/* A run's metrics, merged over all its batches: counters summed, the last
 * value of a gauge, histograms merged. */
struct telemetry_metric {
	char name[TBATCH_MAX_NAME + 1];
	enum tmetric_type type;
	int64_t value, ts_ms;
	int64_t count, sum, min, max;
};
#define TELEMETRY_MAX_METRICS 256
/* Fills out (up to TELEMETRY_MAX_METRICS, sorted by name); returns how many,
 * or -1 on a read error. */
int telemetry_run_metrics(struct sched *c, const char *tenant, uint64_t run,
			  struct telemetry_metric *out);

#endif
