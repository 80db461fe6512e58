/*
 * json.h - a small JSON writer (onto a strbuf) and a strict JSON parser that
 * keeps object keys in document order. Used by the admin socket (replies are
 * one JSON object per line) and by spctl (which formats them as tables).
 */
#ifndef SP_JSON_H
#define SP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "strbuf.h"

/* ---- writer ----
 * Every call that adds a value takes a key: pass a key inside an object,
 * NULL inside an array or for the top-level value. Commas are inserted
 * automatically. Strings, keys included, are escaped (", \, control
 * characters as \uXXXX; invalid UTF-8 bytes are replaced by U+FFFD so the
 * output is always valid JSON). The writer never emits a newline. */
#define JW_MAX_DEPTH 32
struct jw {
	struct strbuf *sb;
	int depth;
	bool need_comma[JW_MAX_DEPTH + 1];
};
void jw_init(struct jw *w, struct strbuf *sb);
void jw_obj_open(struct jw *w, const char *key);
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w, const char *key);
void jw_arr_close(struct jw *w);
/* val NULL writes null. */
void jw_str(struct jw *w, const char *key, const char *val);
/* Writes len bytes of val (which may contain NULs, escaped as \u0000). */
void jw_strn(struct jw *w, const char *key, const char *val, size_t len);
void jw_int(struct jw *w, const char *key, int64_t val);
void jw_uint(struct jw *w, const char *key, uint64_t val);
void jw_bool(struct jw *w, const char *key, bool val);
void jw_null(struct jw *w, const char *key);
/* Appends an already-encoded JSON value verbatim. */
void jw_raw(struct jw *w, const char *key, const char *json);

/* ---- parser ---- */
enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json {
	enum json_type type;
	bool boolean;          /* JSON_BOOL */
	char *str;             /* JSON_STRING: decoded UTF-8, NUL-terminated;
	                          JSON_NUMBER: the literal text as written */
	size_t str_len;        /* bytes in str (strings may contain NUL) */
	size_t n;              /* JSON_ARRAY / JSON_OBJECT: element count */
	struct json **items;   /* the n elements (values for objects) */
	char **keys;           /* JSON_OBJECT: the n keys, in document order */
};

/* Parses exactly one JSON value from text[0..len) (surrounding whitespace
 * allowed, anything else after it is an error). Nesting is limited to 64
 * levels. Returns a tree the caller frees with json_free, or NULL with a
 * one-line reason in err (e.g. "unexpected character 'x' at offset 12"). */
struct json *json_parse(const char *text, size_t len, char *err,
			size_t errlen);
void json_free(struct json *j);
/* Object member by key, or NULL if j is not an object or has no such key. */
const struct json *json_get(const struct json *j, const char *key);
/* String value of member key, or NULL if absent or not a string. */
const char *json_get_str(const struct json *j, const char *key);
/* true if member key is the boolean true. */
bool json_get_bool(const struct json *j, const char *key);
/* Writes a parsed value back as compact JSON (round trip). */
void json_write(struct jw *w, const char *key, const struct json *j);

#endif
