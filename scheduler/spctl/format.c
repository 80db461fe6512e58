/* format.c - tables and key/value blocks for spctl. */
#include "format.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The text shown for a scalar (or compact JSON for a container). */
static void cell(struct strbuf *sb, const struct json *v)
{
	struct jw w;
	if (!v) {
		strbuf_addch(sb, '-');
		return;
	}
	switch (v->type) {
	case JSON_NULL:
		strbuf_addch(sb, '-');
		break;
	case JSON_BOOL:
		strbuf_addstr(sb, v->boolean ? "true" : "false");
		break;
	case JSON_NUMBER:
		strbuf_addstr(sb, v->str);
		break;
	case JSON_STRING:
		for (size_t i = 0; i < v->str_len; i++) /* keep one line */
			strbuf_addch(sb, v->str[i] == '\n' || v->str[i] == '\t'
						 ? ' '
						 : v->str[i]);
		break;
	default:
		jw_init(&w, sb);
		json_write(&w, NULL, v);
	}
}

static void pad(struct strbuf *out, size_t n)
{
	while (n--)
		strbuf_addch(out, ' ');
}

void format_table(struct strbuf *out, const struct json *arr, int indent)
{
	const struct json *first;
	size_t ncol, *width;
	struct strbuf tmp = STRBUF_INIT;

	if (!arr->n) {
		pad(out, (size_t)indent);
		strbuf_addstr(out, "(none)\n");
		return;
	}
	first = arr->items[0];
	if (first->type != JSON_OBJECT) {
		for (size_t i = 0; i < arr->n; i++) {
			pad(out, (size_t)indent);
			cell(out, arr->items[i]);
			strbuf_addch(out, '\n');
		}
		return;
	}
	ncol = first->n;
	width = xcalloc(ncol ? ncol : 1, sizeof(*width));
	for (size_t c = 0; c < ncol; c++)
		width[c] = strlen(first->keys[c]);
	for (size_t r = 0; r < arr->n; r++)
		for (size_t c = 0; c < ncol; c++) {
			strbuf_reset(&tmp);
			cell(&tmp, json_get(arr->items[r], first->keys[c]));
			if (tmp.len > width[c])
				width[c] = tmp.len;
		}
	pad(out, (size_t)indent);
	for (size_t c = 0; c < ncol; c++) {
		size_t n = strlen(first->keys[c]);
		for (size_t k = 0; k < n; k++)
			strbuf_addch(out, toupper((unsigned char)first->keys[c][k]));
		if (c + 1 < ncol)
			pad(out, width[c] - n + 2);
	}
	strbuf_addch(out, '\n');
	for (size_t r = 0; r < arr->n; r++) {
		pad(out, (size_t)indent);
		for (size_t c = 0; c < ncol; c++) {
			strbuf_reset(&tmp);
			cell(&tmp, json_get(arr->items[r], first->keys[c]));
			strbuf_addstr(out, tmp.buf);
			if (c + 1 < ncol)
				pad(out, width[c] - tmp.len + 2);
		}
		strbuf_addch(out, '\n');
	}
	strbuf_release(&tmp);
	free(width);
}

static bool is_table(const struct json *v)
{
	return v->type == JSON_ARRAY && v->n && v->items[0]->type == JSON_OBJECT;
}

/* The label of member i of a top-level reply: "items" goes by the reply's
 * "title" when it has one; NULL for members not shown ("ok", "title"). */
static const char *label(const struct json *obj, size_t i, int indent)
{
	const char *key = obj->keys[i], *title;
	if (indent)
		return key;
	if (!strcmp(key, "ok") || !strcmp(key, "title"))
		return NULL;
	title = json_get_str(obj, "title");
	return title && !strcmp(key, "items") ? title : key;
}

static void format_block(struct strbuf *out, const struct json *obj,
			 int indent)
{
	size_t kw = 0;
	for (size_t i = 0; i < obj->n; i++) {
		const char *key = label(obj, i, indent);
		if (key && strlen(key) > kw)
			kw = strlen(key);
	}
	for (size_t i = 0; i < obj->n; i++) {
		const struct json *v = obj->items[i];
		const char *key = label(obj, i, indent);
		if (!key)
			continue;
		pad(out, (size_t)indent);
		strbuf_addf(out, "%s:", key);
		if (v->type == JSON_OBJECT) {
			strbuf_addch(out, '\n');
			format_block(out, v, indent + 2);
			continue;
		}
		if (is_table(v)) {
			strbuf_addch(out, '\n');
			format_table(out, v, indent + 2);
			continue;
		}
		pad(out, kw - strlen(key) + 1);
		if (v->type == JSON_ARRAY) {
			for (size_t k = 0; k < v->n; k++) {
				if (k)
					strbuf_addstr(out, ", ");
				cell(out, v->items[k]);
			}
			if (!v->n)
				strbuf_addch(out, '-');
		} else {
			cell(out, v);
		}
		strbuf_addch(out, '\n');
	}
}

void format_reply(struct strbuf *out, const struct json *reply)
{
	const char *print = json_get_str(reply, "print");
	const struct json *items = json_get(reply, "items");
	const struct json *lines = json_get(reply, "lines");

	if (print) {
		strbuf_addstr(out, print);
		if (out->len && out->buf[out->len - 1] != '\n')
			strbuf_addch(out, '\n');
		return;
	}
	/* A report (queue stats): its totals, then each of its tables. */
	for (size_t i = 0; items && i < reply->n; i++)
		if (reply->items[i] != items &&
		    reply->items[i]->type == JSON_ARRAY) {
			format_block(out, reply, 0);
			return;
		}
	if (items && items->type == JSON_ARRAY) {
		const char *title = json_get_str(reply, "title");
		if (title)
			strbuf_addf(out, "%s\n", title);
		format_table(out, items, 0);
		return;
	}
	if (lines && lines->type == JSON_ARRAY) {
		for (size_t i = 0; i < lines->n; i++) {
			const char *l = json_get_str(lines->items[i], "line");
			if (l) {
				strbuf_addstr(out, l);
				strbuf_addch(out, '\n');
			}
		}
		return;
	}
	format_block(out, reply, 0);
}
