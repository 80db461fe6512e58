/*
 * redact.c - edge redaction (redact.h). One pass over each line: a table
 * marks the trigger bytes ('=', ':', '>', '@', '-', 'A', 'B'/'b', digits),
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

#include "redact_match.h"
#include "redact_rules.h"
#include "util.h"

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

static const char *const builtin_kinds[REDACT_BUILTIN_KINDS] = {
	[REDACT_AWS_ACCESS_KEY_ID] = "aws_access_key_id",
	[REDACT_AWS_SECRET_ACCESS_KEY] = "aws_secret_access_key",
	[REDACT_AUTHORIZATION] = "authorization",
	[REDACT_BEARER_TOKEN] = "bearer_token",
	[REDACT_URL_PASSWORD] = "url_password",
	[REDACT_PASSWORD] = "password",
	[REDACT_SECRET] = "secret",
	[REDACT_TOKEN] = "token",
	[REDACT_API_KEY] = "api_key",
	[REDACT_SIGNATURE] = "signature",
	[REDACT_PRIVATE_KEY] = "private_key",
	[REDACT_EMAIL] = "email",
	[REDACT_CREDIT_CARD] = "credit_card",
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

/* One line being scanned: in[0..copied) is already in out. */
struct scan {
	const struct redactor *r;
	struct redact_stream *st;
	const char *in;
	size_t len;
	size_t copied;
	struct strbuf *out;
	size_t n; /* redactions in this line */
};

#define IS(s, c, f) ((s)->r->cls[(unsigned char)(c)] & (f))

static bool is_upper_or_digit(int c)
{
	return (c >= 'A' && c <= 'Z') || redact_is_digit(c);
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static bool ci_prefix(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n >= l && redact_ci_eq(p, l, lit);
}

static bool all_digits(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!redact_is_digit(p[i]))
			return false;
	return n > 0;
}

static bool all_blank(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!is_blank(p[i]) && p[i] != '\r')
			return false;
	return true;
}

static void emit(struct scan *s, size_t from, size_t to, unsigned kind)
{
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
 * quoted): [*vs, *ve). Returns false if there is none. */
static bool value_at(const struct scan *s, size_t v, size_t *vs, size_t *ve,
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

/* Redacts the value of a secret-like key; returns where to go on. */
static size_t keyed_value(struct scan *s, size_t v, int kind)
{
	size_t vs, ve;
	bool quoted;
	if (!value_at(s, v, &vs, &ve, &quoted))
		return s->len;
	if (redact_placeholder(s->in + vs, ve - vs))
		return vs > v ? vs : v;
	if (kind == REDACT_AWS_SECRET_ACCESS_KEY &&
	    !redact_aws_secret_shape(s->in + vs, ve - vs))
		kind = REDACT_SECRET;
	emit(s, vs, ve, (unsigned)kind);
	return ve;
}

/* Authorization: SCHEME CREDENTIALS. The scheme is kept; credentials are
 * one token for Basic/Bearer-like schemes, the rest of the (quoted) value
 * for schemes with parameters (Digest, AWS4-HMAC-SHA256). */
static size_t auth_value(struct scan *s, size_t v)
{
	const char *in = s->in;
	size_t vs, ve, t, cs, ce;
	int scheme;
	bool quoted;

	if (!value_at(s, v, &vs, &ve, &quoted))
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
	if (scheme == 2) {
		for (ce = ve;
		     ce > cs && (is_blank(in[ce - 1]) || in[ce - 1] == '\r');
		     ce--)
			;
	} else {
		for (ce = cs; ce < ve && !IS(s, in[ce], C_VEND); ce++)
			;
	}
	if (redact_placeholder(in + cs, ce - cs))
		return cs > v ? cs : v;
	emit(s, cs, ce, REDACT_AUTHORIZATION);
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
	while (j > 0 && ke - j < KEY_MAX && IS(s, in[j - 1], C_KEY))
		j--;
	kind = redact_key_kind(in + j, ke - j);
	if (kind < 0)
		return v;
	if (kind == REDACT_AUTHORIZATION)
		return auth_value(s, v);
	return keyed_value(s, v, kind);
}

/* ---- triggers ----------------------------------------------------- */

static bool akia_at(const struct scan *s, size_t i, size_t end)
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
	if ((i > 0 && IS(s, s->in[i - 1], C_ALNUM)) || !akia_at(s, i, s->len))
		return i + 1;
	emit(s, i, i + 20, REDACT_AWS_ACCESS_KEY_ID);
	return i + 20;
}

static size_t on_bearer(struct scan *s, size_t i)
{
	const char *in = s->in;
	size_t j = i + 6, t;
	bool digit = false;

	if ((i > 0 && IS(s, in[i - 1], C_ALNUM)) ||
	    !ci_prefix(in + i, s->len - i, "bearer") || j >= s->len ||
	    !is_blank(in[j]))
		return i + 1;
	while (j < s->len && is_blank(in[j]))
		j++;
	for (t = j; j < s->len && IS(s, in[j], C_TOK); j++)
		digit |= redact_is_digit(in[j]);
	/* Real tokens are long and random; "Bearer authentication" is prose */
	if (j - t < 8 || (!digit && j - t < 20))
		return i + 6;
	emit(s, t, j, REDACT_BEARER_TOKEN);
	return j;
}

/* scheme://user:password@host - only the password goes. */
static size_t on_url(struct scan *s, size_t i)
{
	const char *in = s->in, *colon;
	size_t a = i + 3, j, at = 0, ps;

	if (i == 0 || !IS(s, in[i - 1], C_ALNUM))
		return a;
	for (j = a; j < s->len; j++) {
		char c = in[j];
		if (c == '/' || c == '?' || c == '#' || IS(s, c, C_VEND))
			break;
		if (c == '@')
			at = j;
	}
	colon = memchr(in + a, ':', j - a);
	if (!at && colon && j < s->len && in[j] == '/' &&
	    !all_digits(colon + 1, (size_t)(in + j - colon) - 1)) {
		/* An unencoded '/' in the password (S3 secret keys have them):
		 * s3a://KEY:abc/def@bucket - but not host:8080/path@x. */
		while (j < s->len && !IS(s, in[j], C_VEND) && in[j] != '@')
			j++;
		if (j < s->len && in[j] == '@')
			at = j;
	}
	if (!at || !(colon = memchr(in + a, ':', at - a)))
		return a;
	ps = (size_t)(colon - in) + 1;
	if (ps == at || redact_already_redacted(in + ps, at - ps))
		return at;
	/* s3a://AKIA...:SECRET@bucket: the user is an access key id */
	if (akia_at(s, a, ps - 1))
		emit(s, a, ps - 1, REDACT_AWS_ACCESS_KEY_ID);
	emit(s, ps, at, REDACT_URL_PASSWORD);
	return at;
}

static size_t on_colon(struct scan *s, size_t i)
{
	if (i + 2 < s->len && s->in[i + 1] == '/' && s->in[i + 2] == '/')
		return on_url(s, i);
	return on_keyed(s, i, i + 1);
}

/* jdbc:oracle:thin:user/password@host - the password before the '@'. */
static bool oracle_password(const struct scan *s, size_t slash)
{
	size_t j = slash, from;
	while (j > 0 && (IS(s, s->in[j - 1], C_KEY) || s->in[j - 1] == '$' ||
			 s->in[j - 1] == '#'))
		j--;
	if (j == 0 || s->in[j - 1] != ':')
		return false;
	from = j > 40 ? j - 40 : 0;
	return redact_ci_contains(s->in + from, j - from, "jdbc:oracle:");
}

static size_t on_at(struct scan *s, size_t i)
{
	const char *in = s->in;
	size_t b = i, e;

	while (b > s->copied && i - b <= EMAIL_LOCAL_MAX &&
	       IS(s, in[b - 1], C_LOCAL))
		b--;
	if (b == i || i - b > EMAIL_LOCAL_MAX)
		return i + 1;
	if (b > 0 && in[b - 1] == '/') {
		/* URL user (scheme://user@host) or Oracle user/password@ */
		if (oracle_password(s, b - 1) &&
		    !redact_already_redacted(in + b, i - b))
			emit(s, b, i, REDACT_PASSWORD);
		return i + 1;
	}
	if (in[b] == '.' || in[i - 1] == '.' ||
	    !redact_email_domain(in, s->len, i + 1, &e))
		return i + 1;
	emit(s, b, e, REDACT_EMAIL);
	return e;
}

/* PEM "-----BEGIN ... PRIVATE KEY-----": the body up to "-----END" on
 * this line, or the rest of the line and the lines after it. */
static size_t on_pem(struct scan *s, size_t i)
{
	const char *in = s->in, *m, *end;
	size_t l = i + 11, b;

	m = memmem(in + l, s->len - l < 64 ? s->len - l : 64, "-----", 5);
	if (!m || !memmem(in + l, (size_t)(m - in) - l, "PRIVATE KEY", 11))
		return l;
	b = (size_t)(m - in) + 5;
	end = memmem(in + b, s->len - b, "-----END", 8);
	if (end) {
		size_t e = (size_t)(end - in);
		if (!all_blank(in + b, e - b) &&
		    !redact_already_redacted(in + b, e - b))
			emit(s, b, e, REDACT_PRIVATE_KEY);
		return e + 8;
	}
	if (!all_blank(in + b, s->len - b) &&
	    !redact_already_redacted(in + b, s->len - b))
		emit(s, b, s->len, REDACT_PRIVATE_KEY);
	if (s->st) {
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
		emit(s, 0, e, REDACT_PRIVATE_KEY);
	if (end || ++s->st->pem_lines >= PEM_MAX_LINES)
		s->st->in_pem = false;
	return end ? e + 8 : s->len;
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
	return keyed_value(s, e, kind);
}

static size_t on_dash(struct scan *s, size_t i)
{
	const char *in = s->in;
	if (s->len - i >= 11 && !memcmp(in + i, "-----BEGIN ", 11))
		return on_pem(s, i);
	if (i + 2 < s->len && in[i + 1] == '-' && IS(s, in[i + 2], C_ALNUM) &&
	    (i == 0 || is_blank(in[i - 1]) || in[i - 1] == '"' ||
	     in[i - 1] == '\''))
		return on_flag(s, i);
	return i + 1;
}

/* A digit not inside a word: maybe a card number. */
static size_t on_digit(struct scan *s, size_t i)
{
	size_t e = i;

	if ((i > 0 && IS(s, s->in[i - 1], C_NUMCTX)) || s->in[i] < '2' ||
	    s->in[i] > '6') {
		while (e < s->len && redact_is_digit(s->in[e]))
			e++;
		return e;
	}
	if (redact_card_at(s->in, s->len, i, &e))
		emit(s, i, e, REDACT_CREDIT_CARD);
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
						    : i + 1;
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

	for (i = 0; i < r->nrules; i++) {
		const struct extra_rule *x = &r->rules[i];
		bool limited = false;
		size_t k = redact_rule_apply(x->re, r->kinds[x->kind], out, base,
					     &tmp, &limited);
		n += k;
		if (!st)
			continue;
		st->counts[x->kind] += k;
		if (limited && !st->rule_limit_hits++)
			log_warn("redact rule '%s' reached its match limit on "
				 "a line: the rest of that line is redacted",
				 r->kinds[x->kind]);
	}
	strbuf_release(&tmp);
	return n;
}

/* ---- the API ------------------------------------------------------ */

size_t redact_line(const struct redactor *r, struct redact_stream *st,
		   const char *in, size_t len, struct strbuf *out)
{
	struct scan s = {r, st, in, len, 0, out, 0};
	const unsigned char *cls = r->cls;
	size_t i = 0, base = out->len;

	if (!len)
		return 0; /* nothing to hide; in may be NULL */
	if (st && st->in_pem)
		i = pem_continue(&s);
	for (;;) {
		while (i < len && !(cls[(unsigned char)in[i]] & C_TRIG))
			i++;
		if (i >= len)
			break;
		i = dispatch(&s, i);
	}
	strbuf_add(out, in + s.copied, len - s.copied);
	if (r->nrules)
		s.n += apply_rules(r, st, out, base);
	return s.n;
}

static void set_class(unsigned char *cls, const char *chars, unsigned flag)
{
	for (; *chars; chars++)
		cls[(unsigned char)*chars] |= flag;
}

struct redactor *redactor_new(void)
{
	struct redactor *r = xcalloc(1, sizeof(*r));
	int c;

	for (c = 0; c < 256; c++) {
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     redact_is_digit(c);
		if (alnum)
			r->cls[c] |=
				C_ALNUM | C_KEY | C_LOCAL | C_TOK | C_NUMCTX;
		if (redact_is_digit(c))
			r->cls[c] |= C_TRIG;
		if (c < 0x20 && c != '\t')
			r->cls[c] |= C_VEND;
	}
	set_class(r->cls, "=:>@-ABb", C_TRIG);
	set_class(r->cls, "._-", C_KEY);
	set_class(r->cls, "._%+-", C_LOCAL);
	set_class(r->cls, " \t\"'&;,)[]}<>\\", C_VEND);
	set_class(r->cls, "._~+/=-", C_TOK);
	set_class(r->cls, "_.-", C_NUMCTX);
	for (c = 0; c < REDACT_BUILTIN_KINDS; c++)
		snprintf(r->kinds[c], sizeof(r->kinds[c]), "%s",
			 builtin_kinds[c]);
	r->nkinds = REDACT_BUILTIN_KINDS;
	return r;
}

void redactor_free(struct redactor *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->nrules; i++)
		redact_rule_free(r->rules[i].re);
	free(r);
}

static unsigned kind_id(struct redactor *r, const char *name, size_t n)
{
	unsigned k;
	for (k = 0; k < r->nkinds; k++)
		if (strlen(r->kinds[k]) == n && !memcmp(r->kinds[k], name, n))
			return k;
	memcpy(r->kinds[k], name, n);
	r->kinds[k][n] = '\0';
	r->nkinds++;
	return k;
}

/* KIND: 1-32 of [A-Za-z0-9_.-]. 0, or -1 with the reason in err. */
static int check_kind(const struct redactor *r, const char *kind, size_t klen,
		      char *err, size_t errlen)
{
	size_t i;
	if (!klen) {
		snprintf(err, errlen, "redact rule: missing kind");
		return -1;
	}
	if (klen > REDACT_KIND_MAX_LEN) {
		snprintf(err, errlen, "redact rule: kind longer than %d",
			 REDACT_KIND_MAX_LEN);
		return -1;
	}
	for (i = 0; i < klen; i++) {
		unsigned char c = (unsigned char)kind[i];
		if (!(r->cls[c] & C_ALNUM) && c != '_' && c != '.' &&
		    c != '-') {
			snprintf(err, errlen,
				 "redact rule: bad character in kind '%.*s' "
				 "(use A-Z a-z 0-9 _ . -)",
				 (int)klen, kind);
			return -1;
		}
	}
	return 0;
}

int redact_add_rule(struct redactor *r, const char *spec, char *err,
		    size_t errlen)
{
	struct extra_rule *x;
	const char *kind, *re;
	char why[256];
	size_t klen;

	while (is_blank(*spec))
		spec++;
	kind = spec;
	klen = strcspn(kind, " \t");
	for (re = kind + klen; is_blank(*re); re++)
		;
	if (check_kind(r, kind, klen, err, errlen))
		return -1;
	if (!*re) {
		snprintf(err, errlen, "redact rule '%.*s': missing pattern",
			 (int)klen, kind);
		return -1;
	}
	if (r->nrules == REDACT_MAX_RULES) {
		snprintf(err, errlen, "redact rule: more than %d rules",
			 REDACT_MAX_RULES);
		return -1;
	}
	x = &r->rules[r->nrules];
	x->re = redact_rule_compile(re, why, sizeof(why));
	if (!x->re) {
		snprintf(err, errlen, "redact rule '%.*s': %s", (int)klen, kind,
			 why);
		return -1;
	}
	x->kind = kind_id(r, kind, klen);
	r->nrules++;
	return 0;
}

void redact_stream_init(struct redact_stream *st)
{
	memset(st, 0, sizeof(*st));
}

/* KEY=VALUE with a secret-like KEY: the whole value is the secret. */
static bool secret_assignment(const struct redactor *r, const char *a,
			      size_t *eq, int *kind)
{
	size_t k = 0;
	while (a[k] && (r->cls[(unsigned char)a[k]] & C_KEY))
		k++;
	if (!k || a[k] != '=' ||
	    redact_placeholder(a + k + 1, strlen(a + k + 1)))
		return false;
	*kind = redact_key_kind(a, k);
	if (*kind < 0 || *kind == REDACT_AUTHORIZATION)
		return false;
	if (*kind == REDACT_AWS_SECRET_ACCESS_KEY &&
	    !redact_aws_secret_shape(a + k + 1, strlen(a + k + 1)))
		*kind = REDACT_SECRET;
	*eq = k;
	return true;
}

/* "--password" (no value in the same argument): the next one is secret. */
static int secret_flag(const struct redactor *r, const char *a)
{
	size_t k;
	if (a[0] != '-' ||
	    !(r->cls[(unsigned char)a[a[1] == '-' ? 2 : 1]] & C_ALNUM))
		return -1;
	for (k = 0; a[k]; k++)
		if (!(r->cls[(unsigned char)a[k]] & C_KEY))
			return -1;
	return redact_key_kind(a, k);
}

static void add_mark(const struct redactor *r, struct redact_stream *st,
		     struct strbuf *sb, int kind)
{
	strbuf_addf(sb, REDACT_MARK "%s]", r->kinds[kind]);
	if (st)
		st->counts[kind]++;
}

size_t redact_args(const struct redactor *r, struct redact_stream *st,
		   const char *const *argv, size_t argc, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, n = 0, eq;
	int pending = -1, kind;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		size_t alen = strlen(a);
		if (pending >= 0 && !redact_placeholder(a, alen) &&
		    strncmp(a, "--", 2)) {
			if (pending == REDACT_AWS_SECRET_ACCESS_KEY &&
			    !redact_aws_secret_shape(a, alen))
				pending = REDACT_SECRET;
			add_mark(r, st, &sb, pending);
			n++;
		} else if (secret_assignment(r, a, &eq, &kind)) {
			strbuf_add(&sb, a, eq + 1);
			add_mark(r, st, &sb, kind);
			n++;
		} else {
			n += redact_line(r, st, a, alen, &sb);
		}
		pending = secret_flag(r, a);
		out[i] = strbuf_detach(&sb, NULL);
	}
	return n;
}

unsigned redact_kind_count(const struct redactor *r)
{
	return r->nkinds;
}

const char *redact_kind_name(const struct redactor *r, unsigned k)
{
	return k < r->nkinds ? r->kinds[k] : NULL;
}
