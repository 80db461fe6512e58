/*
 * mp.h - msgpack-c conveniences: reading members of a map by key with type
 * and range checks, and packing key/value pairs. Reading never allocates
 * except mp_get_strdup; objects point into the unpacked buffer, which must
 * outlive them.
 */
#ifndef SP_MP_H
#define SP_MP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Checks that buf[0..len) is exactly one well-formed msgpack object whose
 * declared lengths and element counts fit in the buffer, without
 * allocating. msgpack-c sizes its zone from the counts in the headers, so
 * hostile input must pass this before msgpack_unpack_next. 0 / -1. */
int mp_validate(const void *buf, size_t len);
/* The same for the first object of buf[0..len), which may be followed by
 * more: its length in *span. 0 / -1. */
int mp_validate_prefix(const void *buf, size_t len, size_t *span);

/* The value of key in map, or NULL if map is not a map or lacks key. */
const msgpack_object *mp_get(const msgpack_object *map, const char *key);
/* Copies a STR member into buf. -1 if missing, not a string, containing a
 * NUL byte, or too long for size (including the NUL). */
int mp_get_str(const msgpack_object *map, const char *key, char *buf,
	       size_t size);
/* A malloc'd copy of a STR member, or NULL (same rules, no size limit). */
char *mp_get_strdup(const msgpack_object *map, const char *key);
int mp_get_u64(const msgpack_object *map, const char *key, uint64_t *out);
int mp_get_i64(const msgpack_object *map, const char *key, int64_t *out);
int mp_get_bool(const msgpack_object *map, const char *key, bool *out);
/* A BIN or STR member's bytes, pointing into the buffer. */
int mp_get_bin(const msgpack_object *map, const char *key, const char **ptr,
	       size_t *len);
/* true if o is a STR equal to s. */
bool mp_str_eq(const msgpack_object *o, const char *s);
/* Optional members: absent reads as 0 and leaves *v (or buf) as it is;
 * present, it must be valid (the mp_get_* result). */
int mp_opt_str(const msgpack_object *o, const char *k, char *buf, size_t n);
int mp_opt_u64(const msgpack_object *o, const char *k, uint64_t *v);
int mp_opt_i64(const msgpack_object *o, const char *k, int64_t *v);
int mp_opt_bool(const msgpack_object *o, const char *k, bool *v);

/* Packs s as a STR (NULL packs nil). */
void mp_pack_cstr(msgpack_packer *pk, const char *s);
/* Key/value pairs; the caller packs the map header with the right count. */
void mp_kv_str(msgpack_packer *pk, const char *key, const char *val);
void mp_kv_strn(msgpack_packer *pk, const char *key, const char *val,
		size_t len);
void mp_kv_u64(msgpack_packer *pk, const char *key, uint64_t val);
void mp_kv_i64(msgpack_packer *pk, const char *key, int64_t val);
void mp_kv_bool(msgpack_packer *pk, const char *key, bool val);
void mp_kv_bin(msgpack_packer *pk, const char *key, const void *val,
	       size_t len);
void mp_kv_nil(msgpack_packer *pk, const char *key);

#endif
