/*
 * strbuf.h - a growable byte buffer that is always NUL-terminated.
 * Modelled on git's strbuf: STRBUF_INIT, strbuf_release frees, and
 * strbuf_detach hands the memory to the caller.
 */
#ifndef SP_STRBUF_H
#define SP_STRBUF_H

#include <stddef.h>
#include "util.h"

struct strbuf {
	char *buf;    /* always valid and NUL-terminated */
	size_t len;   /* bytes used, not counting the NUL */
	size_t alloc; /* bytes allocated, 0 while buf points at a static "" */
};

extern char strbuf_empty[];
#define STRBUF_INIT { strbuf_empty, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t hint);
/* Frees the memory and leaves sb as STRBUF_INIT. */
void strbuf_release(struct strbuf *sb);
/* Returns the buffer (caller frees) and leaves sb empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
void strbuf_setlen(struct strbuf *sb, size_t len);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
/* Inline: the JSON writer and the command-line splitter add most of
 * their bytes one at a time. */
static inline void strbuf_addch(struct strbuf *sb, int c)
{
	if (sb->alloc - sb->len <= 1)
		strbuf_grow(sb, 1);
	sb->buf[sb->len++] = (char)c;
	sb->buf[sb->len] = '\0';
}
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) SP_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Removes the first n bytes. */
void strbuf_remove_front(struct strbuf *sb, size_t n);

#endif
