/*
 * tbatch.h - telemetry batches: one run's log lines and metrics, packed as
 * msgpack, zlib-compressed, numbered per agent and signed by the agent's
 * Ed25519 key. A batch is sealed once, when it is made, and then kept (in
 * the agent's spool) and sent byte for byte until the scheduler has stored
 * it; the scheduler checks the signature before storing and stores the
 * sealed bytes, so a stored batch can be checked again later.
 *
 * Sealed form: msgpack [body: bin, sig: bin 64], where body is the packed
 * msgpack array
 *   ["tbatch1", agent, seq, run, epoch, flags, first_ms, last_ms,
 *    events, raw_len, z: bin]
 * and sig is the signature of body's bytes. The leading tag keeps a batch
 * signature from ever passing as a message signature and back. z is the
 * zlib stream of raw_len bytes: `events` msgpack arrays one after another,
 *   [1, ts_ms, stream (1 stdout, 2 stderr), text]            a log line
 *   [2, ts_ms, name, 1 counter | 2 gauge, value]              a metric
 *   [2, ts_ms, name, 3 histogram, count, sum, min, max]
 * docs/protocol.md describes how batches travel and are acknowledged.
 */
#ifndef SP_TBATCH_H
#define SP_TBATCH_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define TBATCH_TAG "tbatch1"
#define TBATCH_MAX_EVENTS 65536u
#define TBATCH_MAX_RAW (4u << 20)     /* events, decompressed */
#define TBATCH_MAX_SEALED (960u << 10) /* fits in one message (WIRE_MAX_MSG) */
#define TBATCH_MAX_LINE 8192u         /* longer log lines are cut */
#define TBATCH_MAX_NAME 128u          /* metric names */
#define TBATCH_AGENT_LEN 64

/* flags */
#define TBATCH_FINAL 0x1u /* the run's last batch: its final log lines */

enum tevent_kind { TEV_LOG = 1, TEV_METRIC = 2 };
enum tmetric_type { TM_COUNTER = 1, TM_GAUGE = 2, TM_HISTOGRAM = 3 };

struct tevent {
	enum tevent_kind kind;
	int64_t ts_ms;
	/* TEV_LOG */
	int stream;
	const char *text; /* not NUL-terminated */
	size_t text_len;
	/* TEV_METRIC */
	const char *name; /* not NUL-terminated */
	size_t name_len;
	enum tmetric_type type;
	int64_t value;                 /* counter, gauge */
	int64_t count, sum, min, max;  /* histogram */
};

/* The header of a batch. z points into the buffer it was opened from. */
struct tbatch_meta {
	char agent[TBATCH_AGENT_LEN];
	uint64_t seq, run, epoch;
	uint32_t flags, events, raw_len;
	int64_t first_ms, last_ms;
	const char *z;
	size_t zlen;
};

/* Collects events until tbatch_seal. */
struct tbatch_builder {
	msgpack_sbuffer raw;
	msgpack_packer pk;
	uint32_t events, logs;
	int64_t first_ms, last_ms;
};

void tbatch_builder_init(struct tbatch_builder *b);
void tbatch_builder_release(struct tbatch_builder *b);
/* Forgets the events collected so far. */
void tbatch_builder_reset(struct tbatch_builder *b);
/* Bytes of events so far (before compression), and how many are log lines. */
size_t tbatch_builder_size(const struct tbatch_builder *b);
uint32_t tbatch_builder_logs(const struct tbatch_builder *b);

void tbatch_add_log(struct tbatch_builder *b, int64_t ts_ms, int stream,
		    const char *text, size_t len);
void tbatch_add_value(struct tbatch_builder *b, int64_t ts_ms,
		      const char *name, enum tmetric_type type, int64_t value);
void tbatch_add_histogram(struct tbatch_builder *b, int64_t ts_ms,
			  const char *name, int64_t count, int64_t sum,
			  int64_t min, int64_t max);

struct sign_key;
/* Compresses the events, signs, and writes the sealed batch to out (which
 * is reset first); m gives agent, seq, run, epoch and flags. The builder
 * is reset. 0, or -1 with a reason (too many events, too big). The same as
 * tbatch_compress then tbatch_seal_compressed. */
int tbatch_seal(struct tbatch_builder *b, const struct sign_key *k,
		const struct tbatch_meta *m, struct strbuf *out, char *err,
		size_t errlen);

/* Compresses the builder's events into z (reset first) and fills m's
 * events, raw_len, first_ms, last_ms, z and zlen (z points into z's
 * buffer: keep it while m is used). The builder is left as it was.
 * 0, or -1 with a reason (too many events, too big). */
int tbatch_compress(const struct tbatch_builder *b, struct strbuf *z,
		    struct tbatch_meta *m, char *err, size_t errlen);

/* Signs events compressed before (m as tbatch_compress filled it, with
 * agent, seq, run, epoch and flags set) and writes the sealed batch to out
 * (reset first): one compressed body can be sealed many times under new
 * numbers. 0, or -1 with a reason (over the limits, cannot sign). */
int tbatch_seal_compressed(const struct tbatch_meta *m,
			   const struct sign_key *k, struct strbuf *out,
			   char *err, size_t errlen);

/* Checks the form of a sealed batch and fills m. With pub, also checks the
 * signature: -2 if it does not verify; -1 (with a reason) if malformed. */
int tbatch_open(const void *buf, size_t len, const uint8_t *pub,
		struct tbatch_meta *m, char *err, size_t errlen);
/* The same with a key made ready for many batches (NULL: form only). */
struct sign_pub;
int tbatch_open_key(const void *buf, size_t len, const struct sign_pub *key,
		    struct tbatch_meta *m, char *err, size_t errlen);

/* Decompresses m's events into raw (reset first), exactly raw_len bytes.
 * 0 / -1 with a reason. */
int tbatch_inflate(const struct tbatch_meta *m, struct strbuf *raw,
		   char *err, size_t errlen);

/* Calls fn for each of the `expect` events in raw. Stops at the first
 * malformed event or at fn's non-zero return: -1 with a reason if
 * malformed, fn's value if it stopped, else 0. */
typedef int (*tevent_fn)(const struct tevent *ev, void *ctx);
int tbatch_each_event(const char *raw, size_t len, uint32_t expect,
		      tevent_fn fn, void *ctx, char *err, size_t errlen);

#endif
