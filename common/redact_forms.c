/*
 * redact_forms.c - the forms in which Spark, Hadoop and their clients echo
 * configuration and connection strings, where a secret is not simply the
 * value of a secret-like "key=": SparkConf's (key,value) tuples, Hadoop's
 * <name>key</name><value>v</value>, name/value pairs in JSON and YAML
 * ({"key":"fs.s3a.secret.key","value":"..."}), properties-file lines
 * ("key   value"), ODBC's ;PWD=, JSON's short "pass", and Oracle's
 * user/password@//host connect strings.
 */
#include "redact_int.h"
#include "util.h"

/* (spark.hadoop.fs.s3a.secret.key,VALUE), as SparkConf.getAll and
 * spark-submit --verbose print a conf, and ('key', 'value'), as PySpark's
 * getConf().getAll() does: the ',' at i. A key without a dot needs the
 * value right after the ',' ("(password, user)" is prose). */
size_t redact_on_comma(struct scan *s, size_t i)
{
	const char *in = s->in;
	size_t j = i, ke = i;
	char q = 0;
	int kind;

	if (i > 0 && (in[i - 1] == '\'' || in[i - 1] == '"'))
		q = in[--ke];
	for (j = ke;
	     j > s->copied && ke - j < KEY_MAX && IS(s, in[j - 1], C_KEY); j--)
		;
	if (q && j > 0 && in[j - 1] == q)
		j--;
	else if (q)
		return i + 1;
	if (j == ke || j == 0 || in[j - 1] != '(')
		return i + 1;
	if (!q && i + 1 < s->len && is_blank(in[i + 1]) &&
	    !memchr(in + j, '.', ke - j))
		return i + 1;
	kind = redact_key_kind(in + j + (q != 0), ke - j - (q != 0));
	if (kind < 0 || kind == REDACT_AUTHORIZATION)
		return i + 1;
	s->lo = j - 1;
	return redact_keyed_value(s, i + 1, kind);
}

/* An element's text from b: [*ts, *te) without blanks; returns where it
 * ends (its '<', or the end of the line). */
static size_t element_text(const struct scan *s, size_t b, size_t *ts,
			   size_t *te)
{
	const char *lt = memchr(s->in + b, '<', s->len - b);
	size_t e = lt ? (size_t)(lt - s->in) : s->len;

	*ts = b;
	*te = e;
	while (*ts < e && is_blank(s->in[*ts]))
		(*ts)++;
	while (*te > *ts &&
	       (is_blank(s->in[*te - 1]) || s->in[*te - 1] == '\r'))
		(*te)--;
	return e;
}

/* Hadoop's <property><name>fs.s3a.secret.key</name><value>V</value>: the
 * name makes the next <value> (on this line or one of the next) secret.
 * The '>' at i. */
size_t redact_on_tag(struct scan *s, size_t i)
{
	const char *in = s->in;
	size_t ts, te, e;
	int kind;

	if (i >= 5 && redact_ci_eq(in + i - 5, 5, "<name")) {
		e = element_text(s, i + 1, &ts, &te);
		s->pend = redact_key_kind(in + ts, te - ts);
		s->pend_new = s->pend >= 0;
		return e > i + 1 ? e : i + 1;
	}
	if (i < 6 || s->pend < 0 || !redact_ci_eq(in + i - 6, 6, "<value"))
		return i + 1;
	kind = s->pend;
	s->pend = -1;
	s->lo = i - 6;
	e = element_text(s, i + 1, &ts, &te);
	if (ts < s->copied || !redact_value_emit(s, ts, te, kind))
		return i + 1;
	return te;
}

/* "spark.hadoop.fs.s3a.secret.key   VALUE": a line of a properties file
 * (spark-defaults.conf printed whole): a dotted secret-like key, blanks,
 * one value. Finds it (s->lo at the key): the key ends at *ke, the value
 * is [*vs, *ve) of kind *kind; false if the line is not one. */
bool redact_props_line(struct scan *s, size_t *ke, size_t *vs, size_t *ve,
		       int *kind)
{
	const char *in = s->in;
	size_t k = 0, e, v, w;

	while (k < s->len && is_blank(in[k]))
		k++;
	for (e = k; e < s->len && e - k < KEY_MAX && IS(s, in[e], C_KEY); e++)
		;
	if (e == k || e >= s->len || !is_blank(in[e]) ||
	    !memchr(in + k, '.', e - k))
		return false;
	*kind = redact_key_kind(in + k, e - k);
	if (*kind < 0 || *kind == REDACT_AUTHORIZATION)
		return false;
	for (v = e; v < s->len && is_blank(in[v]); v++)
		;
	/* "key = v", "key : v", "key -> v" are the keyed forms' (the same
	 * whether or not v is redacted yet) */
	if (v < s->len &&
	    (in[v] == '=' || in[v] == ':' ||
	     (in[v] == '-' && v + 1 < s->len && in[v + 1] == '>')))
		return false;
	for (w = v; w < s->len && !is_blank(in[w]) && in[w] != '\r'; w++)
		;
	/* a marker in a value that is more than markers: this form did not
	 * take the line when it was first redacted (what was redacted there
	 * held a blank, or began with ':'), another did */
	if (v == w || !all_blank(in + w, s->len - w) ||
	    (redact_marks_len(in + v, w - v) < w - v &&
	     memmem(in + v, w - v, REDACT_MARK, REDACT_MARK_LEN)))
		return false;
	s->lo = k;
	*ke = e;
	*vs = v;
	*ve = w;
	return true;
}

static bool key_is(const char *k, size_t n, const char *const *names,
		   size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (redact_ci_eq(k, n, names[i]))
			return true;
	return false;
}

int redact_context_kind(struct scan *s, size_t ks, size_t ke, bool quoted,
			size_t v)
{
	static const char *const name_keys[] = {
		"name",
		"key",
		"parametername",
		"parameterkey",
	};
	static const char *const value_keys[] = {"value", "parametervalue"};
	static const char *const short_pass[] = {"pass", "pw"};
	const char *in = s->in, *k = in + ks;
	size_t n = ke - ks, p = ks, vs, ve;
	bool vq;
	int kind, c;

	/* connection strings: ...;UID=etl;PWD=... (the shell's PWD= is not) */
	if (n == 3 && !memcmp(k, "PWD", 3)) {
		while (p > 0 && is_blank(in[p - 1]))
			p--;
		return p > 0 && (in[p - 1] == ';' || in[p - 1] == '{')
			       ? REDACT_PASSWORD
			       : -1;
	}
	/* the names below: 2-5 or 12-14 bytes, starting k, n, p or v (most
	 * keys stop here) */
	c = redact_lc((unsigned char)k[0]);
	if (n < 2 || (n > 5 && n < 12) || n > 14 ||
	    (c != 'k' && c != 'n' && c != 'p' && c != 'v') ||
	    !redact_value_at(s, v, &vs, &ve, &vq))
		return -1;
	/* JSON's short names: {"user":"etl","pass":"..."} */
	if (quoted && vq && key_is(k, n, short_pass, ARRAY_SIZE(short_pass)))
		return REDACT_PASSWORD;
	/* a name/value pair: {"key":"fs.s3a.secret.key","value":"..."} */
	if (key_is(k, n, name_keys, ARRAY_SIZE(name_keys))) {
		s->pend = redact_key_kind(in + vs, ve - vs);
		s->pend_new = s->pend >= 0;
		return -1;
	}
	if (s->pend < 0 || !key_is(k, n, value_keys, ARRAY_SIZE(value_keys)))
		return -1;
	kind = s->pend;
	s->pend = -1;
	return kind;
}

/* Whether "jdbc:oracle:" is in in[0..u) (u grows from call to call: each
 * byte is looked at once). Anywhere before, not within a window: what is
 * redacted between must not bring it into reach. */
static bool jdbc_before(struct scan *s, size_t u)
{
	size_t from = s->jdbc_to > 11 ? s->jdbc_to - 11 : 0;

	if (!s->jdbc && u > s->jdbc_to) {
		s->jdbc = redact_ci_contains(s->in + from, u - from,
					     "jdbc:oracle:");
		s->jdbc_to = u;
	}
	return s->jdbc;
}

/* What makes user/password@ an Oracle connect string: "jdbc:oracle:...:"
 * before the user, or after the '@' //host (EZConnect), a
 * (DESCRIPTION=...) or host:port/service - and no path before the user. */
static bool oracle_context(struct scan *s, size_t u, size_t at)
{
	const char *in = s->in;
	size_t j = at + 1, d;

	if (u > 0 && in[u - 1] == ':' && jdbc_before(s, u))
		return true;
	if (u > 0 && !is_blank(in[u - 1]) && in[u - 1] != '"' &&
	    in[u - 1] != '\'' && in[u - 1] != '=')
		return false;
	if (j < s->len && (in[j] == '(' || (j + 1 < s->len && in[j] == '/' &&
					    in[j + 1] == '/')))
		return true;
	while (j < s->len &&
	       (IS(s, in[j], C_ALNUM) || in[j] == '.' || in[j] == '-'))
		j++;
	if (j == at + 1 || j >= s->len || in[j] != ':')
		return false;
	for (d = ++j; j < s->len && redact_is_digit(in[j]); j++)
		;
	return j > d && j < s->len && in[j] == '/';
}

/* Where the password of user/password@ ending at i starts: back to a
 * character that cannot be in it, over a password marker of ours whole
 * (its ':' does not end it) - but not over one before an '@' (a password
 * redacted at that '@' ended there), nor over another kind's (looking
 * back, the scan that made it stopped at its end). */
static size_t oracle_password(const struct scan *s, size_t i)
{
	const char *in = s->in, *name = s->r->kinds[REDACT_PASSWORD];
	size_t p = i, n = strlen(name), m = REDACT_MARK_LEN + n + 1;
	bool at = false;

	while (p > s->copied && i - p < 128) {
		if (in[p - 1] == ']') {
			if (at || p - s->copied < m ||
			    memcmp(in + p - m, REDACT_MARK, REDACT_MARK_LEN) ||
			    memcmp(in + p - n - 1, name, n))
				break;
			p -= m;
			continue;
		}
		at |= in[p - 1] == '@';
		if (is_blank(in[p - 1]) || in[p - 1] == '/' ||
		    in[p - 1] == ':' || in[p - 1] == '"' || in[p - 1] == '\'' ||
		    in[p - 1] == '=')
			break;
		p--;
	}
	return p;
}

bool redact_oracle_at(struct scan *s, size_t i)
{
	const char *in = s->in;
	size_t p = oracle_password(s, i), u;

	if (p == i || p == 0 || in[p - 1] != '/' ||
	    redact_already_redacted(in + p, i - p))
		return false;
	for (u = p - 1; u > 0 && (IS(s, in[u - 1], C_KEY) || in[u - 1] == '$' ||
				  in[u - 1] == '#');
	     u--)
		;
	if (u == p - 1 || u < s->copied || !oracle_context(s, u, i))
		return false;
	s->lo = u;
	redact_emit(s, p, i, REDACT_PASSWORD);
	return true;
}
