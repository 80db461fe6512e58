/* fuzz_redact.c - the edge redactor (common/redact.h), through its public
 * calls only: one stream of lines (PEM state carried from line to line),
 * optionally up to 4 extra rules taken from the first lines (any pattern:
 * PCRE2's limits and ours bound what a rule costs), and the same lines as
 * a command line (redact_args). Redacting a redacted line again must
 * change nothing (redact.h promises it for the built-in rules), and no
 * rule makes a line grow without end. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "redact.h"

#define MAX_LINES 64
/* A built-in marker is at most 32 bytes for at least one byte; the extra
 * rules add at most 8-fold and 1 KiB, and a marker each (redact.h). */
#define GROWTH(len) (32 * 8 * (len) + 1024 + 4 * 64)

struct lines {
	const char *v[MAX_LINES];
	size_t len[MAX_LINES];
	size_t n;
};

static int collect(const char *line, size_t len, void *ctx)
{
	struct lines *l = ctx;
	l->v[l->n] = line;
	l->len[l->n++] = len;
	return l->n == MAX_LINES;
}

static void redact_lines(const struct redactor *r, const struct lines *l,
			 bool check_twice)
{
	struct redact_stream st;
	struct strbuf once = STRBUF_INIT, twice = STRBUF_INIT;

	redact_stream_init(&st);
	for (size_t i = 0; i < l->n; i++) {
		strbuf_reset(&once);
		redact_line(r, &st, l->v[i], l->len[i], &once);
		if (once.len > GROWTH(l->len[i]))
			fz_fail("a line of %zu bytes grew to %zu", l->len[i],
				once.len);
		if (!check_twice)
			continue;
		strbuf_reset(&twice);
		redact_line(r, NULL, once.buf, once.len, &twice);
		if (once.len != twice.len ||
		    memcmp(once.buf, twice.buf, once.len))
			fz_fail("redacting twice changes the line:\n%s\n%s",
				once.buf, twice.buf);
	}
	strbuf_release(&once);
	strbuf_release(&twice);
}

static void redact_argv(const struct redactor *r, const struct lines *l)
{
	char *argv[MAX_LINES], *out[MAX_LINES];

	for (size_t i = 0; i < l->n; i++)
		argv[i] = xstrndup(l->v[i], l->len[i]);
	redact_args(r, NULL, (const char *const *)argv, l->n, out);
	for (size_t i = 0; i < l->n; i++) {
		free(argv[i]);
		free(out[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct redactor *r = redactor_new();
	struct lines l = { .n = 0 };
	const uint8_t *rest;
	size_t len;
	uint8_t mode = fz_u8(&in);
	size_t nrules = mode & 1 ? 1 + (mode >> 2 & 3) : 0;
	bool extra = false;
	char err[256];

	len = fz_rest(&in, &rest);
	fz_lines(rest, len, MAX_LINES, collect, &l);
	for (size_t i = 0; i < nrules && i < l.n; i++) {
		/* the first lines are rules, as in the agent's config */
		char *spec = xstrndup(l.v[i], l.len[i]);
		if (redact_add_rule(r, spec, err, sizeof(err)) == 0)
			extra = true;
		else
			fz_check_refusal(err, "redact rule");
		free(spec);
	}
	redact_lines(r, &l, !extra);
	if (mode & 2)
		redact_argv(r, &l);
	for (unsigned k = 0; k < redact_kind_count(r); k++)
		if (!redact_kind_name(r, k))
			fz_fail("kind %u has no name", k);
	redactor_free(r);
	return 0;
}
