/*
 * redact_int.h - what the redactor's files share (redact.c the scanner,
 * redact_forms.c the configuration and connection-string forms,
 * redact_url.c credentials in URLs,
 * redact_setup.c the redactor's life cycle, rules and argv): the
 * redactor, one line's scan, character classes. Internal.
 */
#ifndef SP_REDACT_INT_H
#define SP_REDACT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "redact.h"
#include "redact_match.h"
#include "strbuf.h"

#define KEY_MAX 256	   /* bytes of a key name looked at, from its end */
#define EMAIL_LOCAL_MAX 64 /* RFC 5321 limits */
#define PEM_MAX_LINES 400  /* no key is longer: an unclosed block ends here */

/* Character classes, one bit each, in redactor->cls. */
enum {
	C_TRIG = 1 << 0,  /* the scanner looks closer */
	C_KEY = 1 << 1,	  /* key name: [A-Za-z0-9._-] */
	C_ALNUM = 1 << 2, /* [A-Za-z0-9] */
	C_LOCAL = 1 << 3, /* e-mail local part: [A-Za-z0-9._%+-] */
	C_VEND = 1 << 4,  /* ends an unquoted value */
	C_TOK = 1 << 5,	  /* bearer token (RFC 6750): [A-Za-z0-9._~+/=-] */
	C_NUMCTX = 1 << 6 /* before a digit, makes it part of a word */
};

struct extra_rule {
	struct redact_rule *re;
	unsigned kind;
};

struct redactor {
	unsigned char cls[256];
	unsigned nkinds;
	char kinds[REDACT_MAX_KINDS][REDACT_KIND_MAX_LEN + 1];
	size_t nrules;
	struct extra_rule rules[REDACT_MAX_RULES];
};

/* Where redact_split may not cut: [lo, to) of each construct found (a
 * key with its value, a token), to == the scanned length if it may go
 * on past it. */
struct redact_spans {
	size_t (*span)[2];
	size_t n, alloc;
};

/* One line being scanned: in[0..copied) is already in out. */
struct scan {
	const struct redactor *r;
	struct redact_stream *st;
	const char *in;
	size_t len;
	size_t copied;
	struct strbuf *out;
	size_t n;      /* redactions in this line */
	int pend;      /* kind named by a name/key member, for the next value */
	bool pend_new; /* ... named on this line */
	size_t lo;     /* where the construct being looked at starts */
	struct redact_spans *spans; /* recorded for redact_split, or NULL */
	size_t jdbc_to; /* in[0..jdbc_to) looked at for "jdbc:oracle:"... */
	bool jdbc;	/* ... and whether it is there */
};

/* Records a construct [lo, to) when s->spans is set. */
void redact_span(struct scan *s, size_t lo, size_t to);

#define IS(s, c, f) ((s)->r->cls[(unsigned char)(c)] & (f))

static inline bool is_upper_or_digit(int c)
{
	return (c >= 'A' && c <= 'Z') || redact_is_digit(c);
}

static inline bool is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static inline bool ci_prefix(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n >= l && redact_ci_eq(p, l, lit);
}

static inline bool all_digits(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!redact_is_digit(p[i]))
			return false;
	return n > 0;
}

static inline bool all_blank(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!is_blank(p[i]) && p[i] != '\r')
			return false;
	return true;
}

/* Replaces in[from..to) by the marker of kind (from >= s->copied). */
void redact_emit(struct scan *s, size_t from, size_t to, unsigned kind);
/* The value at or after v (blanks skipped, optionally quoted): [*vs, *ve);
 * false if the line ends first. */
bool redact_value_at(const struct scan *s, size_t v, size_t *vs, size_t *ve,
		     bool *quoted);
/* Redacts in[vs..ve) as kind unless it is a placeholder or has not the
 * shape kind needs (an AWS secret of the wrong shape is a secret); our
 * own markers at its start are passed over, not taken as the value. */
bool redact_value_emit(struct scan *s, size_t vs, size_t ve, int kind);
/* Redacts the value of a key of kind from v on (placeholders and values
 * of the wrong shape stay); returns where to go on from. */
size_t redact_keyed_value(struct scan *s, size_t v, int kind);

/* AKIA.../ASIA... and 16 [A-Z0-9] at in[i], ending at end or before
 * what is not a letter or digit. */
bool redact_akia_at(const struct scan *s, size_t i, size_t end);
/* redact_url.c: scheme://user:password@host, the "://" at i (> 0). */
size_t redact_on_url(struct scan *s, size_t i);

/* redact_forms.c: handlers of the scanner's triggers. */
size_t redact_on_comma(struct scan *s, size_t i); /* (key,value) */
size_t redact_on_tag(struct scan *s, size_t i);	  /* <name>/<value> */
/* key<blanks>value: the key ends at *ke, the value is [*vs, *ve) */
bool redact_props_line(struct scan *s, size_t *ke, size_t *vs, size_t *ve,
		       int *kind);
/* kind for a key that is not secret-like on its own, from its context
 * (;PWD=, "pass": "...", a name/value pair); -1 for none. */
int redact_context_kind(struct scan *s, size_t ks, size_t ke, bool quoted,
			size_t v);
/* user/password@ of an Oracle connect string ending at the '@' at i:
 * true if one was redacted. */
bool redact_oracle_at(struct scan *s, size_t i);

#endif
