/* mp.c - msgpack map access and key/value packing. */
#include "mp.h"

#include <string.h>

#include "util.h"

/* Reads a big-endian unsigned integer of n bytes at p. */
static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Size of the header and payload of the object at p (0 if invalid), and
 * the number of child objects it announces. */
static size_t object_span(const uint8_t *p, size_t left, uint64_t *children)
{
	uint8_t b = p[0];
	static const uint8_t fixed[] = {
		/* 0xc0..0xdf: bytes after the type byte for fixed types */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 8, 1, 2, 4, 8,
		1, 2, 4, 8, 2, 3, 5, 9, 17, 0, 0, 0, 0, 0, 0, 0,
	};
	int lenbytes = 0, extra = 0;

	*children = 0;
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return 1;
	if (b >= 0x80 && b <= 0x8f) {
		*children = 2u * (b & 0x0f);
		return 1;
	}
	if (b >= 0x90 && b <= 0x9f) {
		*children = b & 0x0f;
		return 1;
	}
	if (b >= 0xa0 && b <= 0xbf)
		return 1 + (size_t)(b & 0x1f);
	switch (b) {
	case 0xc4: case 0xd9: lenbytes = 1; break;
	case 0xc5: case 0xda: lenbytes = 2; break;
	case 0xc6: case 0xdb: lenbytes = 4; break;
	case 0xc7: lenbytes = 1; extra = 1; break;
	case 0xc8: lenbytes = 2; extra = 1; break;
	case 0xc9: lenbytes = 4; extra = 1; break;
	case 0xdc: case 0xde:
		if (left < 3)
			return 0;
		*children = be(p + 1, 2) * (b == 0xde ? 2 : 1);
		return 3;
	case 0xdd: case 0xdf:
		if (left < 5)
			return 0;
		*children = be(p + 1, 4) * (b == 0xdf ? 2 : 1);
		return 5;
	case 0xc1:
		return 0;
	default:
		return 1 + (size_t)fixed[b - 0xc0];
	}
	if (left < (size_t)(1 + lenbytes))
		return 0;
	return 1 + (size_t)lenbytes + (size_t)extra +
	       (size_t)be(p + 1, lenbytes);
}

int mp_validate_prefix(const void *buf, size_t len, size_t *span)
{
	const uint8_t *p = buf;
	size_t off = 0;
	uint64_t pending = 1;

	while (pending > 0) {
		uint64_t children;
		size_t n;
		if (off >= len)
			return -1;
		n = object_span(p + off, len - off, &children);
		if (n == 0 || n > len - off)
			return -1;
		off += n;
		pending--;
		/* every child needs at least one more byte */
		if (children > len - off || pending + children > len - off)
			return -1;
		pending += children;
	}
	*span = off;
	return 0;
}

int mp_validate(const void *buf, size_t len)
{
	size_t span;
	return mp_validate_prefix(buf, len, &span) == 0 && span == len ? 0 : -1;
}

bool mp_str_eq(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       memcmp(o->via.str.ptr, s, n) == 0;
}

const msgpack_object *mp_get(const msgpack_object *map, const char *key)
{
	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++)
		if (mp_str_eq(&map->via.map.ptr[i].key, key))
			return &map->via.map.ptr[i].val;
	return NULL;
}

int mp_get_str(const msgpack_object *map, const char *key, char *buf,
	       size_t size)
{
	const msgpack_object *o = mp_get(map, key);
	if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size >= size ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size))
		return -1;
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return 0;
}

char *mp_get_strdup(const msgpack_object *map, const char *key)
{
	const msgpack_object *o = mp_get(map, key);
	if (!o || o->type != MSGPACK_OBJECT_STR ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size))
		return NULL;
	return xstrndup(o->via.str.ptr, o->via.str.size);
}

int mp_get_u64(const msgpack_object *map, const char *key, uint64_t *out)
{
	const msgpack_object *o = mp_get(map, key);
	if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -1;
	*out = o->via.u64;
	return 0;
}

int mp_get_i64(const msgpack_object *map, const char *key, int64_t *out)
{
	const msgpack_object *o = mp_get(map, key);
	if (!o)
		return -1;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->via.u64 > (uint64_t)INT64_MAX)
		return -1;
	*out = (int64_t)o->via.u64;
	return 0;
}

int mp_get_bool(const msgpack_object *map, const char *key, bool *out)
{
	const msgpack_object *o = mp_get(map, key);
	if (!o || o->type != MSGPACK_OBJECT_BOOLEAN)
		return -1;
	*out = o->via.boolean;
	return 0;
}

int mp_get_bin(const msgpack_object *map, const char *key, const char **ptr,
	       size_t *len)
{
	const msgpack_object *o = mp_get(map, key);
	if (o && o->type == MSGPACK_OBJECT_BIN) {
		*ptr = o->via.bin.ptr;
		*len = o->via.bin.size;
		return 0;
	}
	if (o && o->type == MSGPACK_OBJECT_STR) {
		*ptr = o->via.str.ptr;
		*len = o->via.str.size;
		return 0;
	}
	return -1;
}

void mp_pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t n;
	if (!s) {
		msgpack_pack_nil(pk);
		return;
	}
	n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void mp_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
	mp_pack_cstr(pk, key);
	mp_pack_cstr(pk, val);
}

void mp_kv_strn(msgpack_packer *pk, const char *key, const char *val,
		size_t len)
{
	mp_pack_cstr(pk, key);
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, val, len);
}

void mp_kv_u64(msgpack_packer *pk, const char *key, uint64_t val)
{
	mp_pack_cstr(pk, key);
	msgpack_pack_uint64(pk, val);
}

void mp_kv_i64(msgpack_packer *pk, const char *key, int64_t val)
{
	mp_pack_cstr(pk, key);
	msgpack_pack_int64(pk, val);
}

void mp_kv_bool(msgpack_packer *pk, const char *key, bool val)
{
	mp_pack_cstr(pk, key);
	if (val)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

void mp_kv_bin(msgpack_packer *pk, const char *key, const void *val,
	       size_t len)
{
	mp_pack_cstr(pk, key);
	msgpack_pack_bin(pk, len);
	msgpack_pack_bin_body(pk, val, len);
}

void mp_kv_nil(msgpack_packer *pk, const char *key)
{
	mp_pack_cstr(pk, key);
	msgpack_pack_nil(pk);
}

int mp_opt_str(const msgpack_object *o, const char *k, char *buf, size_t n)
{
	return mp_get(o, k) ? mp_get_str(o, k, buf, n) : 0;
}

int mp_opt_u64(const msgpack_object *o, const char *k, uint64_t *v)
{
	return mp_get(o, k) ? mp_get_u64(o, k, v) : 0;
}

int mp_opt_i64(const msgpack_object *o, const char *k, int64_t *v)
{
	return mp_get(o, k) ? mp_get_i64(o, k, v) : 0;
}

int mp_opt_bool(const msgpack_object *o, const char *k, bool *v)
{
	return mp_get(o, k) ? mp_get_bool(o, k, v) : 0;
}
