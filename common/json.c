/* json.c - JSON writer and strict, depth-limited parser. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define JSON_MAX_DEPTH 64

/* ---- writer ---- */

void jw_init(struct jw *w, struct strbuf *sb)
{
	memset(w, 0, sizeof(*w));
	w->sb = sb;
}


/* Length of a valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	unsigned c = p[0];
	size_t n;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* Bytes that go out as they are: printable ASCII but '"' and '\\'. */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static void add_escaped(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	strbuf_grow(sb, len + 2);
	strbuf_addch(sb, '"');
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		size_t n;
		if (plain(c)) { /* a run of them in one append */
			for (n = 1; i + n < len && plain(p[i + n]); n++)
				;
			strbuf_add(sb, p + i, n);
			i += n;
		} else if (c == '"' || c == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, c);
			i++;
		} else if (c < 0x20) {
			static const char esc[] = "btn\0fr";
			if (c >= 8 && c <= 13 && c != 11)
				strbuf_addf(sb, "\\%c", esc[c - 8]);
			else
				strbuf_addf(sb, "\\u%04x", c);
			i++;
		} else if ((n = utf8_len(p + i, len - i)) == 0) {
			strbuf_addstr(sb, "\xef\xbf\xbd"); /* U+FFFD */
			i++;
		} else {
			strbuf_add(sb, p + i, n);
			i += n;
		}
	}
	strbuf_addch(sb, '"');
}

/* A key is a string like any value: escaped alike, so that control
 * characters or bad UTF-8 in one (a name taken from a client) still give
 * valid JSON. */
static void jw_key(struct jw *w, const char *key)
{
	if (w->need_comma[w->depth])
		strbuf_addch(w->sb, ',');
	w->need_comma[w->depth] = true;
	if (key) {
		add_escaped(w->sb, key, strlen(key));
		strbuf_addch(w->sb, ':');
	}
}

void jw_obj_open(struct jw *w, const char *key)
{
	jw_key(w, key);
	strbuf_addch(w->sb, '{');
	if (w->depth < JW_MAX_DEPTH)
		w->depth++;
	w->need_comma[w->depth] = false;
}

void jw_obj_close(struct jw *w)
{
	strbuf_addch(w->sb, '}');
	if (w->depth > 0)
		w->depth--;
}

void jw_arr_open(struct jw *w, const char *key)
{
	jw_key(w, key);
	strbuf_addch(w->sb, '[');
	if (w->depth < JW_MAX_DEPTH)
		w->depth++;
	w->need_comma[w->depth] = false;
}

void jw_arr_close(struct jw *w)
{
	strbuf_addch(w->sb, ']');
	if (w->depth > 0)
		w->depth--;
}

void jw_str(struct jw *w, const char *key, const char *val)
{
	if (!val) {
		jw_null(w, key);
		return;
	}
	jw_strn(w, key, val, strlen(val));
}

void jw_strn(struct jw *w, const char *key, const char *val, size_t len)
{
	if (!w)
		return;
	jw_key(w, key);
	add_escaped(w->sb, val, len);
}

void jw_int(struct jw *w, const char *key, int64_t val)
{
	char buf[24];
	jw_key(w, key);
	if (val < 0) {
		strbuf_addch(w->sb, '-');
		/* the magnitude, INT64_MIN's included */
		strbuf_add(w->sb, buf, fmt_u64(buf, 0 - (uint64_t)val));
	} else {
		strbuf_add(w->sb, buf, fmt_u64(buf, (uint64_t)val));
	}
}

void jw_uint(struct jw *w, const char *key, uint64_t val)
{
	char buf[24];
	jw_key(w, key);
	strbuf_add(w->sb, buf, fmt_u64(buf, val));
}

void jw_bool(struct jw *w, const char *key, bool val)
{
	jw_key(w, key);
	strbuf_addstr(w->sb, val ? "true" : "false");
}

void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	strbuf_addstr(w->sb, "null");
}

void jw_raw(struct jw *w, const char *key, const char *json)
{
	jw_key(w, key);
	strbuf_addstr(w->sb, json);
}

/* ---- parser ---- */

struct parser {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
	bool failed;
};

static void *perr(struct parser *p, const char *what)
{
	if (!p->failed) {
		p->failed = true;
		if (p->pos < p->len && p->s[p->pos] >= 0x20 &&
		    (unsigned char)p->s[p->pos] < 0x7f)
			snprintf(p->err, p->errlen, "%s: '%c' at offset %zu",
				 what, p->s[p->pos], p->pos);
		else
			snprintf(p->err, p->errlen, "%s at offset %zu", what,
				 p->pos);
	}
	return NULL;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len &&
	       (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
		p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static struct json *node(enum json_type t)
{
	struct json *j = xcalloc(1, sizeof(*j));
	j->type = t;
	return j;
}

static int hex4(struct parser *p, unsigned *out)
{
	unsigned v = 0;
	if (p->pos + 4 > p->len)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void add_utf8(struct strbuf *sb, unsigned cp)
{
	if (cp < 0x80) {
		strbuf_addch(sb, (int)cp);
	} else if (cp < 0x800) {
		strbuf_addch(sb, (int)(0xc0 | cp >> 6));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_addch(sb, (int)(0xe0 | cp >> 12));
		strbuf_addch(sb, (int)(0x80 | (cp >> 6 & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_addch(sb, (int)(0xf0 | cp >> 18));
		strbuf_addch(sb, (int)(0x80 | (cp >> 12 & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp >> 6 & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	}
}

static int parse_escape(struct parser *p, struct strbuf *sb)
{
	char c = p->s[p->pos++];
	unsigned cp, lo;
	switch (c) {
	case '"': case '\\': case '/':
		strbuf_addch(sb, c);
		return 0;
	case 'b': strbuf_addch(sb, '\b'); return 0;
	case 'f': strbuf_addch(sb, '\f'); return 0;
	case 'n': strbuf_addch(sb, '\n'); return 0;
	case 'r': strbuf_addch(sb, '\r'); return 0;
	case 't': strbuf_addch(sb, '\t'); return 0;
	case 'u':
		if (hex4(p, &cp))
			return -1;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return -1; /* lone low surrogate */
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (p->pos + 2 > p->len || p->s[p->pos] != '\\' ||
			    p->s[p->pos + 1] != 'u')
				return -1;
			p->pos += 2;
			if (hex4(p, &lo) || lo < 0xdc00 || lo > 0xdfff)
				return -1;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		add_utf8(sb, cp);
		return 0;
	}
	return -1;
}

static char *parse_string(struct parser *p, size_t *outlen)
{
	struct strbuf sb = STRBUF_INIT;
	p->pos++; /* opening quote */
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos];
		size_t n;
		if (c == '"') {
			p->pos++;
			return strbuf_detach(&sb, outlen);
		}
		if (c < 0x20) {
			strbuf_release(&sb);
			return perr(p, "control character in string");
		}
		if (c == '\\') {
			p->pos++;
			if (p->pos >= p->len || parse_escape(p, &sb)) {
				strbuf_release(&sb);
				return perr(p, "bad escape in string");
			}
			continue;
		}
		n = utf8_len((const unsigned char *)p->s + p->pos,
			     p->len - p->pos);
		if (!n) {
			strbuf_release(&sb);
			return perr(p, "invalid UTF-8 in string");
		}
		strbuf_add(&sb, p->s + p->pos, n);
		p->pos += n;
	}
	strbuf_release(&sb);
	return perr(p, "unterminated string");
}

static struct json *parse_number(struct parser *p)
{
	size_t start = p->pos;
	struct json *j;
#define DIGIT(i) ((i) < p->len && p->s[i] >= '0' && p->s[i] <= '9')
	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (!DIGIT(p->pos))
		return perr(p, "bad number");
	if (p->s[p->pos] == '0' && DIGIT(p->pos + 1))
		return perr(p, "leading zero in number");
	while (DIGIT(p->pos))
		p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (!DIGIT(p->pos))
			return perr(p, "bad fraction");
		while (DIGIT(p->pos))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len &&
		    (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!DIGIT(p->pos))
			return perr(p, "bad exponent");
		while (DIGIT(p->pos))
			p->pos++;
	}
#undef DIGIT
	j = node(JSON_NUMBER);
	j->str = xstrndup(p->s + start, p->pos - start);
	j->str_len = p->pos - start;
	return j;
}

static struct json *parse_value(struct parser *p, int depth);

static void add_item(struct json *j, size_t *alloc, struct json *item,
		     char *key)
{
	if (j->n == *alloc) {
		*alloc = *alloc ? *alloc * 2 : 4;
		j->items = xrealloc(j->items, *alloc * sizeof(*j->items));
		if (j->type == JSON_OBJECT)
			j->keys = xrealloc(j->keys, *alloc * sizeof(*j->keys));
	}
	j->items[j->n] = item;
	if (j->type == JSON_OBJECT)
		j->keys[j->n] = key;
	j->n++;
}

static struct json *parse_container(struct parser *p, int depth, bool obj)
{
	struct json *j = node(obj ? JSON_OBJECT : JSON_ARRAY);
	size_t alloc = 0;
	char close = obj ? '}' : ']';

	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return j;
	}
	for (;;) {
		char *key = NULL;
		struct json *v;
		skip_ws(p);
		if (obj) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				goto bad;
			key = parse_string(p, NULL);
			if (!key)
				goto bad;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(key);
				perr(p, "expected ':'");
				goto bad;
			}
			p->pos++;
		}
		v = parse_value(p, depth + 1);
		if (!v) {
			free(key);
			goto bad;
		}
		add_item(j, &alloc, v, key);
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return j;
		}
		perr(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		goto bad;
	}
bad:
	perr(p, "unexpected character");
	json_free(j);
	return NULL;
}

static bool literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos >= n && !memcmp(p->s + p->pos, word, n)) {
		p->pos += n;
		return true;
	}
	return false;
}

static struct json *parse_value(struct parser *p, int depth)
{
	struct json *j;
	if (depth > JSON_MAX_DEPTH)
		return perr(p, "nesting too deep");
	skip_ws(p);
	if (p->pos >= p->len)
		return perr(p, "unexpected end of input");
	switch (p->s[p->pos]) {
	case '{':
		return parse_container(p, depth, true);
	case '[':
		return parse_container(p, depth, false);
	case '"':
		j = node(JSON_STRING);
		j->str = parse_string(p, &j->str_len);
		if (!j->str) {
			free(j);
			return NULL;
		}
		return j;
	case 't':
	case 'f':
		if (literal(p, "true") || literal(p, "false")) {
			j = node(JSON_BOOL);
			j->boolean = p->s[p->pos - 1] == 'e' &&
				     p->s[p->pos - 2] == 'u';
			return j;
		}
		break;
	case 'n':
		if (literal(p, "null"))
			return node(JSON_NULL);
		break;
	default:
		if (p->s[p->pos] == '-' ||
		    (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
			return parse_number(p);
	}
	return perr(p, "unexpected character");
}

struct json *json_parse(const char *text, size_t len, char *err,
			size_t errlen)
{
	struct parser p = { text, len, 0, err, errlen, false };
	struct json *j = parse_value(&p, 0);
	if (!j)
		return NULL;
	skip_ws(&p);
	if (p.pos != len) {
		perr(&p, "trailing characters");
		json_free(j);
		return NULL;
	}
	return j;
}

void json_free(struct json *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		json_free(j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->str);
	free(j);
}

const struct json *json_get(const struct json *j, const char *key)
{
	if (!j || j->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->keys[i], key))
			return j->items[i];
	return NULL;
}

const char *json_get_str(const struct json *j, const char *key)
{
	const struct json *v = json_get(j, key);
	return v && v->type == JSON_STRING ? v->str : NULL;
}

bool json_get_bool(const struct json *j, const char *key)
{
	const struct json *v = json_get(j, key);
	return v && v->type == JSON_BOOL && v->boolean;
}

void json_write(struct jw *w, const char *key, const struct json *j)
{
	switch (j->type) {
	case JSON_NULL:
		jw_null(w, key);
		break;
	case JSON_BOOL:
		jw_bool(w, key, j->boolean);
		break;
	case JSON_NUMBER:
		jw_raw(w, key, j->str);
		break;
	case JSON_STRING:
		jw_strn(w, key, j->str, j->str_len);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		if (j->type == JSON_ARRAY)
			jw_arr_open(w, key);
		else
			jw_obj_open(w, key);
		for (size_t i = 0; i < j->n; i++)
			json_write(w, j->type == JSON_OBJECT ? j->keys[i]
							      : NULL,
				   j->items[i]);
		if (j->type == JSON_ARRAY)
			jw_arr_close(w);
		else
			jw_obj_close(w);
		break;
	}
}
