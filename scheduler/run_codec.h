/* run_codec.h - the stored form of a run (docs/storage.md, CF runs). */
#ifndef SP_RUN_CODEC_H
#define SP_RUN_CODEC_H

#include <msgpack.h>

#include "state.h"

struct keyring;
struct keyring_opener;

/* The elements that carry customer output (a failure's reason, the
 * output line its class came from): sealed from format 5 on. */
#define RUN_ELEM_REASON 21
#define RUN_ELEM_DIAG 24
/* Inside element 28 (the extra record): a run's parameters and extra
 * arguments, sealed too. */
#define RUN_ELEM_PARAMS 29
#define RUN_ELEM_ARGS 30

/* Appends r's record to sb, every field in clear. */
void run_encode(const struct run *r, msgpack_sbuffer *sb);
/* The same with who created it (creator, or NULL) and with reason,
 * diag_line, parameters and extra arguments sealed under the tenant's
 * data key in kr (keyring.h), each bound to the run id and its element.
 * NULL kr: in clear. */
void run_encode_sealed(const struct run *r, const char *creator,
		       const struct keyring *kr, msgpack_sbuffer *sb);
/* Decodes a record (format 2, or the older map form) into the zeroed run
 * r; its job must be in st. 0, or -1 if the record is corrupt (r's strings
 * are then freed). zone is scratch space, cleared before returning: one
 * zone reused for a whole load spares an allocation per record (a restart
 * decodes millions). */
int run_decode(const void *buf, size_t len, struct sched_state *st,
	       msgpack_zone *zone, struct run *r);
/* run_decode that opens sealed fields with kr (read only: two loader
 * threads may share it), through op (the calling thread's, or NULL); a
 * field whose key was destroyed (or with no kr) reads as
 * KEYRING_DESTROYED_TEXT, one that does not authenticate makes the
 * record corrupt. */
int run_decode_sealed(const void *buf, size_t len, struct sched_state *st,
		      const struct keyring *kr, struct keyring_opener *op,
		      msgpack_zone *zone, struct run *r);
/* run_decode_sealed reads a common record (no sealed field, no extra
 * record) straight from its bytes, and any other through msgpack_unpack:
 * this is the second way alone, for the tests that hold the two to the
 * same answers. */
int run_decode_general(const void *buf, size_t len, struct sched_state *st,
		       const struct keyring *kr, struct keyring_opener *op,
		       msgpack_zone *zone, struct run *r);
/* The job key ("tenant/env/job") a record names, read from its first
 * elements without decoding the rest (no state, no keyring: any thread),
 * into job: 0, or -1 if the record is not in the positional form or its
 * first elements are damaged (run_decode_sealed then says which). */
int run_peek_job(const void *buf, size_t len, char *job, size_t joblen);
/* Whose run the record in buf is, told by its job key alone (peeked):
 * owner's ("tenant" or "tenant/env", olen bytes), another tenant's or
 * environment's, or unknown when the peek fails (only its decode can say
 * what is wrong with it). */
enum record_owner { RECORD_OWNED, RECORD_OTHERS, RECORD_UNREADABLE };
enum record_owner run_record_owner(const void *buf, size_t len,
				   const char *owner, size_t olen);
/* What a report reads of a run kept only in the store (run_summary_read):
 * its job and the figures of its outcome. */
struct run_summary {
	uint64_t id;
	char job[JOB_KEY_LEN]; /* "tenant/env/job" */
	enum run_state state;
	uint32_t attempt;
	uint32_t log_lines;
	int64_t created_ms;
	char failure_class[64]; /* "" none; a longer one is cut */
};
/* Reads the summary of a record without decoding the rest: no state, no
 * keyring (any thread; a sealed field is passed over unopened). 0, or -1
 * if the elements it reads are damaged. A record run_decode reads gives
 * the values of the run it decodes. */
int run_summary_read(const void *buf, size_t len, struct run_summary *s);
/* How many records run_decode_sealed's fast path passed to the general
 * decoder since the start (thread-safe). */
uint64_t run_decode_declined(void);

#endif
