/*
 * mreply.h - building a msgpack map whose size is not known up front:
 * entries are packed into a scratch buffer and counted, and the map header
 * is written when the reply is finished.
 */
#ifndef SP_MREPLY_H
#define SP_MREPLY_H

#include <msgpack.h>
#include <stdint.h>

#include "strbuf.h"

struct mreply {
	msgpack_sbuffer sb;
	msgpack_packer pk; /* pack each entry's value here after mreply_key */
	uint32_t n;
};

void mreply_init(struct mreply *m);
/* Starts an entry: packs key; the caller packs one value next. */
void mreply_key(struct mreply *m, const char *key);
/* Replaces out's content with the finished map and frees m's buffer. */
void mreply_finish(struct mreply *m, struct strbuf *out);

#endif
