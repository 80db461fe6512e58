/*
 * run_format.h - what the run record's writer (run_encode.c) and readers
 * (run_codec.c) share: the format's tag and element counts, and the
 * bytes a sealed field is bound to. Private to the two.
 */
#ifndef SP_RUN_FORMAT_H
#define SP_RUN_FORMAT_H

#include <stdint.h>

#include "store.h" /* its big-endian helpers */

#define RUN_RECORD_V2 2
#define RUN_FIELDS_V3 25 /* elements of a format-2/3 array, tag included */
#define RUN_FIELDS_V4 26 /* format 4 added est_cost */
#define RUN_FIELDS_V5 27 /* then job_version, without a format change */
#define RUN_FIELDS 29    /* then who created it and the extra record */

/* The record a sealed field is bound to: run id u64 BE ‖ its element. */
static inline void field_aad(uint64_t id, uint8_t elem, uint8_t key[9])
{
	store_put_u64be(key, id);
	key[8] = elem;
}

#endif
