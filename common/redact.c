/*
 * redact.c - edge redaction (redact.h). One pass over each line: a table
 * marks the trigger bytes ('=', ':', '>', '@', '-', ',', '_', 'A', 'B'/'b',
 * 'J', digits),
 * everything else is skipped a byte at a time without a branch into a
 * handler. A handler looks around its trigger (back for a key name, ahead
 * for a value) and either emits a redaction or says where to go on from;
 * every handler returns a position past its trigger and scans a bounded or
 * consumed stretch, so a line costs linear time whatever its bytes.
 */
#include "redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact_int.h"
#include "redact_rules.h"
#include "util.h"

void redact_span(struct scan *s, size_t lo, size_t to)
{
	struct redact_spans *sp = s->spans;
	if (!sp)
		return;
	sp->span = xgrow(sp->span, &sp->alloc, sp->n + 1, sizeof(*sp->span));
	sp->span[sp->n][0] = lo;
	sp->span[sp->n++][1] = to;
}

void redact_emit(struct scan *s, size_t from, size_t to, unsigned kind)
{
	redact_span(s, s->lo < from ? s->lo : from, to);
	strbuf_add(s->out, s->in + s->copied, from - s->copied);
	strbuf_add(s->out, REDACT_MARK, REDACT_MARK_LEN);
	strbuf_addstr(s->out, s->r->kinds[kind]);
	strbuf_addch(s->out, ']');
	s->copied = to;
	s->n++;
	if (s->st)
		s->st->counts[kind]++;
}

/* ---- values ------------------------------------------------------- */

/* End of the quoted string opened before vs (q, backslash-escaped when
 * esc: \"...\"), or the end of the line if it is not closed. */
static size_t quote_end(const struct scan *s, size_t vs, char q, bool esc)
{
	size_t j;
	for (j = vs; j < s->len; j++) {
		if (s->in[j] == '\\') {
			if (esc && j + 1 < s->len && s->in[j + 1] == q)
				return j;
			if (q == '"')
				j++; /* skip the escaped character */
		} else if (s->in[j] == q && !esc) {
			return j;
		}
	}
	return s->len;
}

/* Finds the value starting at or after v (blanks skipped, optionally
 * quoted): [*vs, *ve). An unquoted one in brackets is what they hold (a
 * marker of ours ends it at once). Returns false if there is none. */
bool redact_value_at(const struct scan *s, size_t v, size_t *vs, size_t *ve,
		     bool *quoted)
{
	const char *in = s->in;
	size_t j = v;
	char q = 0;
	bool esc = false;

	while (j < s->len && is_blank(in[j]))
		j++;
	if (j >= s->len)
		return false;
	if (in[j] == '\\' && j + 1 < s->len &&
	    (in[j + 1] == '"' || in[j + 1] == '\'')) {
		esc = true;
		q = in[j + 1];
		j += 2;
	} else if (in[j] == '"' || in[j] == '\'') {
		q = in[j++];
	} else if (in[j] == '[' && j + 1 < s->len &&
		   !redact_marks_len(in + j, s->len - j)) {
		j++; /* [value], or a marker left open: the value is inside */
	}
	*vs = j;
	*quoted = q != 0;
	if (q) {
		*ve = quote_end(s, j, q, esc);
	} else {
		while (j < s->len && !IS(s, in[j], C_VEND))
			j++;
		*ve = j;
	}
	return true;
}

/* The bytes our markers of kind (its name: the marker this rule makes)
 * take at in[j..e), one after another; 0 if none starts there. Text glued
 * to such a marker came in with the line - the rule's own marker would
 * have taken it - so it is more of the value, not a value of its own. */
static size_t own_marks(const struct scan *s, size_t j, size_t e, unsigned kind)
{
	const char *name = s->r->kinds[kind];
	size_t n = strlen(name), at = j;

	while (e - at >= REDACT_MARK_LEN + n + 1 &&
	       !memcmp(s->in + at, REDACT_MARK, REDACT_MARK_LEN) &&
	       !memcmp(s->in + at + REDACT_MARK_LEN, name, n) &&
	       s->in[at + REDACT_MARK_LEN + n] == ']')
		at += REDACT_MARK_LEN + n + 1;
	return at - j;
}

/* An unquoted value that is a whole PEM block written on one line
 * ("key=-----BEGIN ... PRIVATE KEY-----\nMII...\n-----END ...-----"):
 * its end past the END marker, or 0 (no END here: on_pem's). */
static size_t pem_value_end(const struct scan *s, size_t vs)
{
	const char *in = s->in, *end, *dash;
	size_t e;

	end = memmem(in + vs, s->len - vs, "-----END", 8);
	if (!end)
		return 0;
	e = (size_t)(end - in) + 8;
	dash = memmem(in + e, s->len - e < 64 ? s->len - e : 64, "-----", 5);
	return dash ? (size_t)(dash - in) + 5 : e;
}

/* ODBC's braced value, PWD={p@ss;word}: its end past the '}' (a "}}"
 * inside stands for one '}'), or 0 if it is not one. */
static size_t brace_value_end(const struct scan *s, size_t vs)
{
	size_t j;
	for (j = vs + 1; j < s->len; j++) {
		if (s->in[j] == '"')
			return 0; /* a JSON object, scanned member by member */
		if (s->in[j] != '}')
			continue;
		if (j + 1 < s->len && s->in[j + 1] == '}')
			j++;
		else
			return j + 1;
	}
	return 0;
}

/* Whether a value of kind has the shape that kind needs: only SSNs and
 * keytab blobs are named by keys that also hold harmless values. A value
 * with a marker of ours glued after it ran on into what was redacted
 * there when first read: the shape judged then was not this one. */
static bool shape_ok(const struct scan *s, size_t vs, size_t ve, int kind)
{
	if ((kind == REDACT_SSN || kind == REDACT_KERBEROS_KEYTAB) &&
	    ve < s->len && redact_marks_len(s->in + ve, s->len - ve))
		return false;
	if (kind == REDACT_SSN)
		return redact_ssn_shape(s->in + vs, ve - vs);
	if (kind == REDACT_KERBEROS_KEYTAB)
		return redact_b64_blob_shape(s->in + vs, ve - vs);
	return true;
}

bool redact_value_emit(struct scan *s, size_t vs, size_t ve, int kind)
{
	/* the value past markers of this kind has the shape */
	size_t own = own_marks(s, vs, ve, (unsigned)kind);

	if (kind == REDACT_AWS_SECRET_ACCESS_KEY && !own)
		own = own_marks(s, vs, ve, REDACT_SECRET);
	if (redact_placeholder(s->in + vs, ve - vs) ||
	    !shape_ok(s, vs + own, ve, kind))
		return false;
	if (kind == REDACT_AWS_SECRET_ACCESS_KEY &&
	    !redact_aws_secret_shape(s->in + vs + own, ve - vs - own))
		kind = REDACT_SECRET;
	redact_emit(s, vs, ve, (unsigned)kind);
	return true;
}

/* An unquoted value whose end a form decides (a PEM block's END marker, a
 * closing brace) still takes what is glued to it up to what ends a value:
 * redacting the output again would take that for the value after our
 * marker. */
static size_t glued_end(const struct scan *s, size_t e)
{
	while (e < s->len && !IS(s, s->in[e], C_VEND))
		e++;
	return e;
}

/* Redacts the value of a secret-like key; returns where to go on. */
size_t redact_keyed_value(struct scan *s, size_t v, int kind)
{
	size_t vs, ve, e;
	bool quoted;
	if (!redact_value_at(s, v, &vs, &ve, &quoted)) {
		redact_span(s, s->lo, s->len); /* its value may come next */
		return s->len;
	}
	if (!quoted && s->len - vs > 11 &&
	    !memcmp(s->in + vs, "-----BEGIN ", 11)) {
		if (!(e = pem_value_end(s, vs)))
			return vs; /* a block over lines: on_pem's */
		e = glued_end(s, e);
		redact_emit(s, vs, e, REDACT_PRIVATE_KEY);
		return e;
	}
	if (!quoted && s->in[vs] == '{' && vs > 0 && s->in[vs - 1] == '=' &&
	    (e = brace_value_end(s, vs)) && kind != REDACT_SSN &&
	    kind != REDACT_KERBEROS_KEYTAB) {
		e = glued_end(s, e);
		redact_emit(s, vs, e, (unsigned)kind);
		return e;
	}
	/* password=[REDACTED:password]hunter2: the value goes on */
	if (!quoted && vs == ve) {
		size_t own = own_marks(s, vs, s->len, (unsigned)kind);
		if (!own && kind == REDACT_AWS_SECRET_ACCESS_KEY)
			own = own_marks(s, vs, s->len, REDACT_SECRET);
		ve = own ? glued_end(s, vs + own) : ve;
	}
	/* "SSN: 536 22 1234": the blanks are part of it */
	if (kind == REDACT_SSN && !quoted && s->len - vs >= 11 &&
	    redact_ssn_shape(s->in + vs, 11) &&
	    (s->len - vs == 11 || !IS(s, s->in[vs + 11], C_ALNUM)))
		ve = vs + 11;
	if (redact_value_emit(s, vs, ve, kind))
		return ve;
	return vs > v ? vs : v;
}

/* Authorization: SCHEME CREDENTIALS. The scheme is kept; credentials are
 * one token for Basic/Bearer-like schemes, the rest of the (quoted) value
 * for schemes with parameters (Digest, AWS4-HMAC-SHA256). A scheme we do
 * not know goes with its credentials: the rest of the value. */
static size_t auth_value(struct scan *s, size_t v)
{
	const char *in = s->in;
	size_t vs, ve, t, cs, ce;
	int scheme;
	bool quoted;

	if (!redact_value_at(s, v, &vs, &ve, &quoted))
		return s->len;
	if (!quoted)
		ve = s->len; /* the header value runs to the end of the line */
	for (t = vs; t < ve && (IS(s, in[t], C_ALNUM) || in[t] == '-'); t++)
		;
	scheme = t < ve && in[t] == ' ' ? redact_auth_scheme(in + vs, t - vs)
					: 0;
	cs = scheme ? t : vs;
	while (cs < ve && is_blank(in[cs]))
		cs++;
	ce = cs + own_marks(s, cs, ve, REDACT_AUTHORIZATION);
	for (; ce < ve && !IS(s, in[ce], C_VEND); ce++)
		;
	/* parameters (Digest ...), or a word that may be a scheme we do not
	 * know with its credentials after it: all to the end of the value */
	if (scheme == 2 || (!scheme && ce < ve && is_blank(in[ce]) &&
			    !all_blank(in + ce, ve - ce))) {
		for (ce = ve;
		     ce > cs && (is_blank(in[ce - 1]) || in[ce - 1] == '\r');
		     ce--)
			;
	}
	if (redact_placeholder(in + cs, ce - cs))
		return cs > v ? cs : v;
	redact_emit(s, cs, ce, REDACT_AUTHORIZATION);
	return ce;
}

/* A key ends just before kend (then blanks, an optional closing quote):
 * "key=", "key: ", "\"key\": ", "key -> ". If secret-like, redact the
 * value from v on. Returns where to go on from (> the trigger). */
static size_t on_keyed(struct scan *s, size_t kend, size_t v)
{
	const char *in = s->in;
	size_t j = kend, ke;
	int kind, blanks = 0;

	while (j > 0 && is_blank(in[j - 1]) && blanks++ < 4)
		j--;
	if (j > 0 && (in[j - 1] == '"' || in[j - 1] == '\'')) {
		j--;
		if (j > 0 && in[j - 1] == '\\')
			j--;
	}
	ke = j;
	/* text redacted already is no part of a key: the key is what
	 * redacting the output again would see */
	while (j > s->copied && ke - j < KEY_MAX && IS(s, in[j - 1], C_KEY))
		j--;
	s->lo = j;
	kind = redact_key_kind(in + j, ke - j);
	if (kind < 0)
		kind = redact_context_kind(s, j, ke, ke < kend, v);
	if (kind < 0)
		return v;
	if (kind == REDACT_AUTHORIZATION)
		return auth_value(s, v);
	return redact_keyed_value(s, v, kind);
}

/* ---- triggers ----------------------------------------------------- */

/* A word starts at t: no letter, digit or '_' just before it. */
static bool word_start(const struct scan *s, size_t t)
{
	return t >= s->copied && (t == 0 || !(IS(s, s->in[t - 1], C_ALNUM) ||
					      s->in[t - 1] == '_'));
}

/* A vendor's token at t: redacted, and where to go on; 0 if none. */
static size_t vendor(struct scan *s, size_t t)
{
	size_t e;
	int kind;

	if (!word_start(s, t) ||
	    (kind = redact_vendor_token(s->in, s->len, t, &e)) < 0)
		return 0;
	s->lo = t;
	redact_emit(s, t, e, (unsigned)kind);
	return e;
}

/* ghp_ gho_ ... github_pat_, sk_live_ rk_test_ ..., whsec_ */
static size_t on_underscore(struct scan *s, size_t i)
{
	const char *in = s->in;
	size_t e = 0;

	if (i >= 3 && in[i - 3] == 'g' && in[i - 2] == 'h')
		e = vendor(s, i - 3);
	else if (i >= 2 && in[i - 1] == 'k' &&
		 (in[i - 2] == 's' || in[i - 2] == 'r'))
		e = vendor(s, i - 2);
	else if (i >= 6 && !memcmp(in + i - 6, "github", 6))
		e = vendor(s, i - 6);
	else if (i >= 5 && !memcmp(in + i - 5, "whsec", 5))
		e = vendor(s, i - 5);
	return e ? e : i + 1;
}

/* eyJ...: a JSON Web Token on its own (after "Bearer" it is that
 * handler's). */
static size_t on_jwt(struct scan *s, size_t i)
{
	size_t t = i - 2, e;

	if (i < 2 || s->in[t] != 'e' || s->in[t + 1] != 'y' ||
	    !word_start(s, t) || !redact_jwt_at(s->in, s->len, t, &e))
		return i + 1;
	s->lo = t;
	redact_emit(s, t, e, REDACT_JWT);
	return e;
}

bool redact_akia_at(const struct scan *s, size_t i, size_t end)
{
	const char *p = s->in + i;
	size_t k;
	if (end - i < 20 || !((p[1] == 'K' || p[1] == 'S') && p[2] == 'I' &&
			      p[3] == 'A' && p[0] == 'A'))
		return false;
	for (k = 4; k < 20; k++)
		if (!is_upper_or_digit(p[k]))
			return false;
	return i + 20 == end || !IS(s, p[20], C_ALNUM);
}

static size_t on_akia(struct scan *s, size_t i)
{
	size_t e;

	if (i + 1 < s->len && s->in[i + 1] == 'I' && (e = vendor(s, i)))
		return e; /* AIza...: a Google API key */
	if ((i > 0 && IS(s, s->in[i - 1], C_ALNUM)) ||
	    !redact_akia_at(s, i, s->len))
		return i + 1;
	redact_emit(s, i, i + 20, REDACT_AWS_ACCESS_KEY_ID);
	return i + 20;
}

static size_t on_bearer(struct scan *s, size_t i)
{
	const char *in = s->in;
	size_t j = i + 6, t, g, own;
	bool digit = false;

	if (i + 1 < s->len && in[i + 1] == 'Q' && (t = vendor(s, i)))
		return t; /* BQIAAA...: a keytab */
	if ((i > 0 && IS(s, in[i - 1], C_ALNUM)) ||
	    !ci_prefix(in + i, s->len - i, "bearer") || j >= s->len ||
	    !is_blank(in[j]))
		return i + 1;
	while (j < s->len && is_blank(in[j]))
		j++;
	t = j;
	own = own_marks(s, j, s->len, REDACT_BEARER_TOKEN);
	j += own;
	for (g = j; j < s->len && IS(s, in[j], C_TOK); j++)
		digit |= redact_is_digit(in[j]);
	/* Real tokens are long and random; "Bearer authentication" is prose;
	 * what is glued to our marker is more of the token */
	if (own ? j == g : j - t < 8 || (!digit && j - t < 20))
		return i + 6;
	redact_emit(s, t, j, REDACT_BEARER_TOKEN);
	return j;
}

static size_t on_colon(struct scan *s, size_t i)
{
	if (i + 2 < s->len && s->in[i + 1] == '/' && s->in[i + 2] == '/')
		return redact_on_url(s, i);
	return on_keyed(s, i, i + 1);
}

static size_t on_at(struct scan *s, size_t i)
{
	const char *in = s->in;
	size_t b = i, e;

	if (redact_oracle_at(s, i))
		return i + 1;
	while (b > s->copied && i - b <= EMAIL_LOCAL_MAX &&
	       IS(s, in[b - 1], C_LOCAL))
		b--;
	if (b == i || i - b > EMAIL_LOCAL_MAX || (b > 0 && in[b - 1] == '/'))
		return i + 1; /* a URL's user: scheme://user@host */
	if (in[b] == '.' || in[i - 1] == '.' ||
	    !redact_email_domain(in, s->len, i + 1, &e))
		return i + 1;
	s->lo = b;
	redact_emit(s, b, e, REDACT_EMAIL);
	return e;
}

/* Passes in[s->copied..to) on as it is: a later construct cannot take
 * any of it (looking back, a scan stops at s->copied), so it reads the
 * same when the output is redacted again ("-----END" is no part of an
 * address after it). */
static void keep(struct scan *s, size_t to)
{
	strbuf_add(s->out, s->in + s->copied, to - s->copied);
	s->copied = to;
}

/* PEM "-----BEGIN ... PRIVATE KEY-----": the body up to "-----END" on
 * this line, or the rest of the line and the lines after it. */
static size_t on_pem(struct scan *s, size_t i)
{
	const char *in = s->in, *end;
	size_t l = i + 11, m, b;

	/* The label: upper case, digits and blanks ("RSA PRIVATE KEY"). No
	 * marker of ours can be part of it, so redacting the output again
	 * finds the same headers. */
	for (m = l; m < s->len && (is_upper_or_digit(in[m]) || in[m] == ' ');)
		m++;
	if (s->len - m < 5 || memcmp(in + m, "-----", 5) ||
	    !memmem(in + l, m - l, "PRIVATE KEY", 11))
		return l;
	b = m + 5;
	end = memmem(in + b, s->len - b, "-----END", 8);
	if (end) {
		size_t e = (size_t)(end - in);
		if (!all_blank(in + b, e - b) &&
		    !redact_already_redacted(in + b, e - b))
			redact_emit(s, b, e, REDACT_PRIVATE_KEY);
		keep(s, e + 8);
		return e + 8;
	}
	if (!all_blank(in + b, s->len - b) &&
	    !redact_already_redacted(in + b, s->len - b))
		redact_emit(s, b, s->len, REDACT_PRIVATE_KEY);
	/* a block written inline with \n escapes was cut short: it does
	 * not go on in the next lines */
	if (s->st && !memmem(in + b, s->len - b, "\\n", 2)) {
		s->st->in_pem = true;
		s->st->pem_lines = 0;
	}
	return s->len;
}

/* A line inside a PEM block: redacted up to "-----END", if any. */
static size_t pem_continue(struct scan *s)
{
	const char *end = memmem(s->in, s->len, "-----END", 8);
	size_t e = end ? (size_t)(end - s->in) : s->len;

	if (!all_blank(s->in, e) && !redact_already_redacted(s->in, e))
		redact_emit(s, 0, e, REDACT_PRIVATE_KEY);
	if (end || ++s->st->pem_lines >= PEM_MAX_LINES)
		s->st->in_pem = false;
	if (!end)
		return s->len;
	keep(s, e + 8);
	return e + 8;
}

/* "--password VALUE" inside a line (the "--password=VALUE" form is the
 * '=' trigger's). */
static size_t on_flag(struct scan *s, size_t i)
{
	size_t e = i + 2, v;
	int kind;

	while (e < s->len && IS(s, s->in[e], C_KEY))
		e++;
	if (e >= s->len || !is_blank(s->in[e]))
		return e;
	kind = redact_key_kind(s->in + i, e - i);
	for (v = e; v < s->len && is_blank(s->in[v]); v++)
		;
	/* "--password --verbose": no value (a prompt) */
	if (kind < 0 ||
	    (v + 1 < s->len && s->in[v] == '-' && s->in[v + 1] == '-'))
		return e;
	return redact_keyed_value(s, e, kind);
}

static size_t on_dash(struct scan *s, size_t i)
{
	const char *in = s->in;
	size_t e;

	if (i >= 4 && in[i - 4] == 'x' && in[i - 3] == 'o' &&
	    in[i - 2] == 'x' && (e = vendor(s, i - 4)))
		return e; /* xoxb-...: Slack */
	if (i >= 2 && in[i - 2] == 's' && in[i - 1] == 'k' &&
	    (e = vendor(s, i - 2)))
		return e; /* sk-...: OpenAI-style */
	if (s->len - i >= 11 && !memcmp(in + i, "-----BEGIN ", 11))
		return on_pem(s, i);
	if (i + 2 < s->len && in[i + 1] == '-' && IS(s, in[i + 2], C_ALNUM) &&
	    (i == 0 || is_blank(in[i - 1]) || in[i - 1] == '"' ||
	     in[i - 1] == '\''))
		return on_flag(s, i);
	return i + 1;
}

/* The first digit of a word's run of digits: a Databricks token (dapi
 * and 32 hex digits) or a base64 PEM key ("LS0t...") may start before. */
static size_t digit_in_word(struct scan *s, size_t i)
{
	const char *in = s->in;
	char c = in[i - 1];
	size_t j = i, e;

	if (c == 'S' && in[i] == '0' && i >= 2 && in[i - 2] == 'L' &&
	    word_start(s, i - 2) && redact_b64_pem_at(in, s->len, i - 2, &e)) {
		s->lo = i - 2;
		redact_emit(s, i - 2, e, REDACT_PRIVATE_KEY);
		return e;
	}
	if (c == 'S')
		return 0;
	while (j > s->copied && i - j < 32 &&
	       (redact_is_digit(in[j - 1]) ||
		(in[j - 1] >= 'a' && in[j - 1] <= 'f')))
		j--;
	if (j >= 4 && !memcmp(in + j - 4, "dapi", 4) && (e = vendor(s, j - 4)))
		return e;
	return 0;
}

/* A digit not inside a word: maybe a card number. */
static size_t on_digit(struct scan *s, size_t i)
{
	size_t e = i;
	char c = i > 0 ? s->in[i - 1] : ' ';

	if (IS(s, c, C_NUMCTX) || s->in[i] < '2' || s->in[i] > '6') {
		/* only a word ending in S (LS0t...), i (dapi...) or a hex
		 * letter can be a token's start */
		if ((c == 'S' || c == 'i' || (c >= 'a' && c <= 'f')) &&
		    (e = digit_in_word(s, i)))
			return e;
		for (e = i; e < s->len && redact_is_digit(s->in[e]); e++)
			;
		return e;
	}
	if (redact_card_at(s->in, s->len, i, &e))
		redact_emit(s, i, e, REDACT_CREDIT_CARD);
	return e;
}

static size_t dispatch(struct scan *s, size_t i)
{
	switch (s->in[i]) {
	case '=':
		if (i + 1 < s->len && s->in[i + 1] == '=')
			return i + 2;
		return on_keyed(s, i, i + 1);
	case ':':
		return on_colon(s, i);
	case '>':
		return i > 0 && s->in[i - 1] == '-' ? on_keyed(s, i - 1, i + 1)
						    : redact_on_tag(s, i);
	case ',':
		return redact_on_comma(s, i);
	case '_':
		return on_underscore(s, i);
	case 'J':
		return on_jwt(s, i);
	case '@':
		return on_at(s, i);
	case '-':
		return on_dash(s, i);
	case 'A':
		return on_akia(s, i);
	case 'B':
	case 'b':
		return on_bearer(s, i);
	default:
		return on_digit(s, i);
	}
}

/* ---- extra rules -------------------------------------------------- */

static size_t apply_rules(const struct redactor *r, struct redact_stream *st,
			  struct strbuf *out, size_t base)
{
	struct strbuf tmp = STRBUF_INIT;
	size_t i, n = 0;
	/* markers on markers, rule after rule, must not grow a line without
	 * end */
	size_t max = (out->len - base) * REDACT_RULE_GROWTH +
		     REDACT_RULE_GROWTH_SLACK;

	for (i = 0; i < r->nrules; i++) {
		const struct extra_rule *x = &r->rules[i];
		bool limited = false;
		size_t k = redact_rule_apply(x->re, r->kinds[x->kind], out,
					     base, max, &tmp, &limited);
		n += k;
		if (!st)
			continue;
		st->counts[x->kind] += k;
		if (limited && !st->rule_limit_hits++)
			log_warn("redact rule '%s' reached its match or growth "
				 "limit on a line: the rest of that line is "
				 "redacted",
				 r->kinds[x->kind]);
	}
	strbuf_release(&tmp);
	return n;
}

/* ---- the API ------------------------------------------------------ */

/* A member naming a secret (<name>fs.s3a.secret.key</name>, YAML "name:
 * DB_PASSWORD") may have its value on one of the next lines. */
#define PEND_LINES 3

static void pend_carry(struct redact_stream *st, const struct scan *s)
{
	if (s->pend < 0) {
		st->pend_lines = 0;
	} else if (s->pend_new) {
		st->pend_kind = (unsigned char)s->pend;
		st->pend_lines = PEND_LINES;
	} else if (st->pend_lines) {
		st->pend_lines--;
	}
}

/* Runs the triggers over s->in from i. */
static void scan_from(struct scan *s, size_t i)
{
	const unsigned char *cls = s->r->cls;
	const unsigned char *in = (const unsigned char *)s->in, *p;
	const unsigned char *end = in + s->len;

	for (;;) {
		for (p = in + i; p < end && !(cls[*p] & C_TRIG); p++)
			;
		if (p >= end)
			break;
		i = (size_t)(p - in);
		s->lo = i;
		i = dispatch(s, i);
	}
}

/* A line's start: a properties-file line's key is scanned like any text
 * (a token may be part of it), then its value redacted whole. Returns
 * where the scan goes on. */
static size_t line_start(struct scan *s)
{
	size_t ke, vs, ve, len = s->len, lo;
	int kind;

	if (!redact_props_line(s, &ke, &vs, &ve, &kind))
		return 0;
	lo = s->lo;
	s->len = ke;
	scan_from(s, 0);
	s->len = len;
	s->lo = lo;
	return redact_value_emit(s, vs, ve, kind) ? ve : ke;
}

size_t redact_line(const struct redactor *r, struct redact_stream *st,
		   const char *in, size_t len, struct strbuf *out)
{
	struct scan s = {r, st, in, len, 0, out, 0, -1, false, 0, NULL};
	size_t i = 0, base = out->len;

	if (!len)
		return 0; /* nothing to hide; in may be NULL */
	if (st && st->pend_lines)
		s.pend = st->pend_kind;
	if (st && st->in_pem)
		i = pem_continue(&s);
	else
		i = line_start(&s);
	scan_from(&s, i);
	strbuf_add(out, in + s.copied, len - s.copied);
	if (st)
		pend_carry(st, &s);
	if (r->nrules)
		s.n += apply_rules(r, st, out, base);
	return s.n;
}

/* ---- cutting long lines ------------------------------------------- */

/* Scans in[0..len) and records where constructs lie. */
static void find_spans(const struct redactor *r, const char *in, size_t len,
		       struct redact_spans *sp)
{
	struct strbuf scratch = STRBUF_INIT;
	struct scan s = {r, NULL, in, len, 0, &scratch, 0, -1, false, 0, sp};

	sp->n = 0;
	scan_from(&s, line_start(&s));
	strbuf_release(&scratch);
}

static bool cut_after(char c)
{
	return is_blank(c) || c == ',' || c == ';' || c == '&';
}

/* Moves c back before every construct that straddles it. */
static size_t before_spans(const struct redact_spans *sp, size_t c)
{
	bool moved = true;
	while (moved) {
		moved = false;
		for (size_t k = 0; k < sp->n; k++)
			if (sp->span[k][0] < c && c < sp->span[k][1]) {
				c = sp->span[k][0];
				moved = true;
			}
	}
	return c;
}

/* The end of the construct that starts the line and straddles max. */
static size_t first_span_end(const struct redact_spans *sp, size_t max)
{
	size_t end = 0;
	for (size_t k = 0; k < sp->n; k++)
		if (sp->span[k][0] == 0 && sp->span[k][1] > max &&
		    sp->span[k][1] > end)
			end = sp->span[k][1];
	return end;
}

size_t redact_split(const struct redactor *r, const char *in, size_t len,
		    size_t max, size_t hard, bool whole, bool *drop)
{
	struct redact_spans sp = {NULL, 0, 0};
	size_t scanned = max + REDACT_SPLIT_AHEAD;
	size_t c = max, b, end,
	       floor = max > REDACT_SPLIT_BACK ? max - REDACT_SPLIT_BACK : 1;

	*drop = false;
	if (len <= max)
		return len;
	if (scanned > hard)
		scanned = hard;
	if (scanned > len)
		scanned = len;
	/* after a blank or separator: words (key names, tokens) stay whole */
	for (b = max; b > floor && !cut_after(in[b - 1]); b--)
		;
	if (cut_after(in[b - 1]))
		c = b;
	find_spans(r, in, scanned, &sp);
	c = before_spans(&sp, c);
	if (c == 0 && scanned < len && scanned < hard) {
		/* a construct from the start goes past the look-ahead */
		scanned = len < hard ? len : hard;
		find_spans(r, in, scanned, &sp);
		c = before_spans(&sp, max);
	}
	end = c ? 0 : first_span_end(&sp, max);
	free(sp.span);
	if (c)
		return c;
	if (end && (end < scanned || (whole && end == len)))
		return end; /* the piece is longer than max, the secret whole */
	if (!whole && len < hard)
		return 0; /* wait for the rest of it */
	/* a secret longer than hard: its piece is redacted to its end, and
	 * the rest of the line must not go out */
	*drop = scanned < len;
	return scanned;
}
