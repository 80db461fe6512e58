/* run_codec.h - the stored form of a run (docs/storage.md, CF runs). */
#ifndef SP_RUN_CODEC_H
#define SP_RUN_CODEC_H

#include <msgpack.h>

#include "state.h"

/* Appends r's record to sb. */
void run_encode(const struct run *r, msgpack_sbuffer *sb);
/* Decodes a record (format 2, or the older map form) into the zeroed run
 * r; its job must be in st. 0, or -1 if the record is corrupt (r's strings
 * are then freed). zone is scratch space, cleared before returning: one
 * zone reused for a whole load spares an allocation per record (a restart
 * decodes millions). */
int run_decode(const void *buf, size_t len, struct sched_state *st,
	       msgpack_zone *zone, struct run *r);

#endif
