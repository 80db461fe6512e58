/* redact_testlib.c - corpus and rule helpers of the redaction tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact_testlib.h"
#include "util.h"

void lines_load(struct lines *l, const char *name)
{
	char path[256], *p, *nl;
	size_t alloc = 0;

	snprintf(path, sizeof(path), "tests/data/redact/%s", name);
	l->text = read_file(path, 1 << 20, NULL);
	assert_non_null(l->text);
	l->line = NULL;
	l->n = 0;
	for (p = l->text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl); /* every corpus line ends in a newline */
		*nl = '\0';
		l->line = xgrow(l->line, &alloc, l->n + 1, sizeof(char *));
		l->line[l->n++] = p;
	}
	assert_true(l->n > 0);
}

void lines_free(struct lines *l)
{
	free(l->line);
	free(l->text);
}

/* Redacts s alone (no stream state) into a fresh string. */
char *redact_str(const struct redactor *r, const char *s, size_t *n)
{
	struct strbuf out = STRBUF_INIT;
	size_t k = redact_line(r, NULL, s, strlen(s), &out);
	if (n)
		*n = k;
	return strbuf_detach(&out, NULL);
}

size_t feed(const struct redactor *r, struct redact_stream *st,
		   const char *line, struct strbuf *out)
{
	strbuf_reset(out);
	return redact_line(r, st, line, strlen(line), out);
}

void assert_redacts_to(const struct redactor *r, const char *in,
			      const char *want)
{
	char *got = redact_str(r, in, NULL);
	assert_string_equal(got, want);
	free(got);
}

/* Every line of name.txt redacts to the same line of name.expected, as one
 * stream; with secrets_each_line, each line has at least one redaction. */
void run_corpus(const char *name, bool secrets_each_line)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT;
	struct lines in, want;
	char file[64];
	size_t i, total = 0, counted = 0;
	unsigned k;

	snprintf(file, sizeof(file), "%s.txt", name);
	lines_load(&in, file);
	snprintf(file, sizeof(file), "%s.expected", name);
	lines_load(&want, file);
	assert_int_equal(in.n, want.n);
	for (i = 0; i < in.n; i++) {
		size_t n;
		strbuf_reset(&out);
		n = redact_line(r, &st, in.line[i], strlen(in.line[i]), &out);
		if (strcmp(out.buf, want.line[i]))
			fail_msg("%s line %zu:\n got: %s\nwant: %s", name,
				 i + 1, out.buf, want.line[i]);
		if (secrets_each_line && !n)
			fail_msg("%s line %zu: no redaction", name, i + 1);
		total += n;
	}
	for (k = 0; k < redact_kind_count(r); k++)
		counted += st.counts[k];
	assert_int_equal(counted, total);
	assert_false(st.in_pem);

	/* Redacting the redacted output again changes nothing. */
	redact_stream_init(&st);
	for (i = 0; i < want.n; i++) {
		strbuf_reset(&out);
		assert_int_equal(redact_line(r, &st, want.line[i],
					     strlen(want.line[i]), &out),
				 0);
		assert_string_equal(out.buf, want.line[i]);
	}
	strbuf_release(&out);
	lines_free(&in);
	lines_free(&want);
	redactor_free(r);
}

void add_rule(struct redactor *r, const char *spec)
{
	char err[256] = "";
	if (redact_add_rule(r, spec, err, sizeof(err)))
		fail_msg("'%s' refused: %s", spec, err);
}

void assert_refused(struct redactor *r, const char *spec, const char *why)
{
	char err[256] = "";
	assert_int_equal(redact_add_rule(r, spec, err, sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("'%s': error '%s' does not say '%s'", spec, err, why);
}
