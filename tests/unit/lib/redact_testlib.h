/*
 * redact_testlib.h - what the redaction tests share: corpus files of
 * tests/data/redact read as lines, redacting a string or a corpus through
 * the real redactor, and adding extra rules, with cmocka assertions.
 */
#ifndef SP_REDACT_TESTLIB_H
#define SP_REDACT_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

#include "redact.h"
#include "strbuf.h"

/* A corpus file's text and its lines (NUL-terminated in text). */
struct lines {
	char *text;
	char **line;
	size_t n;
};

/* Reads tests/data/redact/NAME; every line must end in a newline. */
void lines_load(struct lines *l, const char *name);
void lines_free(struct lines *l);
/* s redacted alone (no stream state) in a malloc'd string; *n (if not
 * NULL) gets the number of redactions. */
char *redact_str(const struct redactor *r, const char *s, size_t *n);
/* out reset to line redacted as the next line of st; returns the
 * redactions. */
size_t feed(const struct redactor *r, struct redact_stream *st,
	    const char *line, struct strbuf *out);
/* Fails unless in redacts to want. */
void assert_redacts_to(const struct redactor *r, const char *in,
		       const char *want);
/* Fails unless the extra rule spec is taken. */
void add_rule(struct redactor *r, const char *spec);
/* Fails unless the extra rule spec is refused with an error saying why. */
void assert_refused(struct redactor *r, const char *spec, const char *why);
/* Every line of NAME.txt redacts to the same line of NAME.expected, as one
 * stream; with secrets_each_line, each line has a redaction; counters add
 * up, and redacting the expected output again changes nothing. */
void run_corpus(const char *name, bool secrets_each_line);

#endif
