/*
 * cmdline.h - splitting an admin command line into words, and quoting words
 * so that they survive the trip. The admin socket takes one command per line;
 * a word with spaces, quotes or backslashes is written in double quotes with
 * \" and \\ escapes (and \n, \t for newline and tab). spctl quotes, the
 * scheduler splits.
 */
#ifndef SP_CMDLINE_H
#define SP_CMDLINE_H

#include <stddef.h>
#include "strbuf.h"

#define CMDLINE_MAX_WORDS 512

struct cmdline {
	int argc;
	char **argv; /* argc words, each malloc'd, then a NULL */
};

/* Splits line[0..len) into words. Words are separated by spaces or tabs; a
 * double-quoted section may contain anything but a raw newline or NUL; a
 * trailing '\r' is ignored. Fails (returns -1, with a one-line reason in err,
 * e.g. "unterminated quote", "too many words", "NUL byte in command") on
 * malformed input; cl is then left empty. Returns 0 on success; an empty or
 * all-blank line gives argc 0. */
int cmdline_split(const char *line, size_t len, struct cmdline *cl, char *err,
		  size_t errlen);
void cmdline_release(struct cmdline *cl);
/* Appends word to sb, quoted only if needed (empty word -> ""). */
void cmdline_quote(struct strbuf *sb, const char *word);
/* Appends words joined by single spaces, each quoted as needed. */
void cmdline_join(struct strbuf *sb, int argc, char **argv);

#endif
