/* mreply.c - msgpack maps built entry by entry. */
#include "mreply.h"

#include <string.h>

#include "mp.h"

void mreply_init(struct mreply *m)
{
	msgpack_sbuffer_init(&m->sb);
	msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
	m->n = 0;
}

void mreply_key(struct mreply *m, const char *key)
{
	m->n++;
	mp_pack_cstr(&m->pk, key);
}

void mreply_finish(struct mreply *m, struct strbuf *out)
{
	msgpack_sbuffer head;
	msgpack_packer pk;

	msgpack_sbuffer_init(&head);
	msgpack_packer_init(&pk, &head, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, m->n);
	strbuf_reset(out);
	strbuf_add(out, head.data, head.size);
	if (m->sb.size)
		strbuf_add(out, m->sb.data, m->sb.size);
	msgpack_sbuffer_destroy(&head);
	msgpack_sbuffer_destroy(&m->sb);
}
