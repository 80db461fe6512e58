/* cmdline.c - splitting and quoting admin command lines. */
#include "cmdline.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void cmdline_release(struct cmdline *cl)
{
	for (int i = 0; i < cl->argc; i++)
		free(cl->argv[i]);
	free(cl->argv);
	cl->argv = NULL;
	cl->argc = 0;
}

static int split_fail(struct cmdline *cl, char *err, size_t errlen,
		      const char *why)
{
	cmdline_release(cl);
	snprintf(err, errlen, "%s", why);
	return -1;
}

int cmdline_split(const char *line, size_t len, struct cmdline *cl, char *err,
		  size_t errlen)
{
	struct strbuf word = STRBUF_INIT;
	size_t i = 0, alloc = 0;

	cl->argc = 0;
	cl->argv = NULL;
	if (len && line[len - 1] == '\r')
		len--;
	if (memchr(line, '\0', len))
		return split_fail(cl, err, errlen, "NUL byte in command");
	while (i < len) {
		bool quoted = false, have = false;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		strbuf_reset(&word);
		while (i < len && (quoted || (line[i] != ' ' && line[i] != '\t'))) {
			char c = line[i++];
			have = true;
			if (c == '"') {
				quoted = !quoted;
				continue;
			}
			if (c == '\n') {
				strbuf_release(&word);
				return split_fail(cl, err, errlen,
						  "newline in command");
			}
			if (c == '\\' && quoted) {
				if (i == len)
					break;
				c = line[i++];
				if (c == 'n')
					c = '\n';
				else if (c == 't')
					c = '\t';
				else if (c != '"' && c != '\\') {
					strbuf_release(&word);
					return split_fail(cl, err, errlen,
							  "bad escape in quoted word");
				}
			}
			strbuf_addch(&word, c);
		}
		if (quoted) {
			strbuf_release(&word);
			return split_fail(cl, err, errlen, "unterminated quote");
		}
		if (!have)
			continue;
		if (cl->argc >= CMDLINE_MAX_WORDS) {
			strbuf_release(&word);
			return split_fail(cl, err, errlen, "too many words");
		}
		cl->argv = xgrow(cl->argv, &alloc, (size_t)cl->argc + 2,
				 sizeof(char *));
		cl->argv[cl->argc++] = xstrndup(word.buf, word.len);
		cl->argv[cl->argc] = NULL;
	}
	strbuf_release(&word);
	return 0;
}

void cmdline_quote(struct strbuf *sb, const char *word)
{
	bool plain = *word != '\0';
	for (const char *p = word; *p && plain; p++)
		if (*p == ' ' || *p == '\t' || *p == '"' || *p == '\\' ||
		    *p == '\n' || *p == '\r')
			plain = false;
	if (plain) {
		strbuf_addstr(sb, word);
		return;
	}
	strbuf_addch(sb, '"');
	for (const char *p = word; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_addch(sb, '\\');
		if (*p == '\n')
			strbuf_addstr(sb, "\\n");
		else if (*p == '\t')
			strbuf_addstr(sb, "\\t");
		else
			strbuf_addch(sb, *p);
	}
	strbuf_addch(sb, '"');
}

void cmdline_join(struct strbuf *sb, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (i)
			strbuf_addch(sb, ' ');
		cmdline_quote(sb, argv[i]);
	}
}
