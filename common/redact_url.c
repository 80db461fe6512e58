/*
 * redact_url.c - credentials in URLs, for the redactor's scanner
 * (redact.c): the password of scheme://user:password@host (an S3 secret
 * with its unencoded '/' too), a user that is a token
 * (https://TOKEN@github.com), an AWS key id as the user. Our own markers
 * in an authority are read as the scan that made them saw it, so that
 * redacting the output again changes nothing.
 */
#include "redact_int.h"
#include "util.h"

/* scheme://TOKEN@host: a user that is a credential (long, letters and
 * digits: GitHub's https://TOKEN@github.com), not a name like git@. */
static bool token_user(const struct scan *s, size_t a, size_t at)
{
	bool digit = false, alpha = false;
	size_t j;

	if (at - a < 20)
		return false;
	for (j = a; j < at; j++) {
		char c = s->in[j];
		if (!IS(s, c, C_ALNUM) && c != '_' && c != '-')
			return false;
		digit |= redact_is_digit(c);
		alpha |= !redact_is_digit(c) && IS(s, c, C_ALNUM);
	}
	return digit && alpha && !redact_already_redacted(s->in + a, at - a);
}

/* Our markers at in[j..e): their length (only a '[' starts one). */
static size_t marks_at(const struct scan *s, size_t j, size_t e)
{
	return s->in[j] == '[' ? redact_marks_len(s->in + j, e - j) : 0;
}

/* The first ':' of in[a..e) outside our markers, or NULL. */
static const char *url_colon(const struct scan *s, size_t a, size_t e)
{
	size_t j, m;
	for (j = a; j < e; j++) {
		if ((m = marks_at(s, j, e)))
			j += m - 1;
		else if (s->in[j] == ':')
			return s->in + j;
	}
	return NULL;
}

/* A URL's authority from a: where it ends ('/', '?', '#' or what ends a
 * value), *at its last '@' (0 if none). Our markers just before an '@'
 * are part of it, so that a password redacted already is found again,
 * not taken for the value of the user name (x-access-token:[REDACTED:
 * url_password]@host); any other (an address taken out of it) ends it,
 * as its first byte did for the scan that redacted it. */
static size_t url_authority(const struct scan *s, size_t a, size_t *at)
{
	size_t j, m;

	*at = 0;
	for (j = a; j < s->len; j++) {
		char c = s->in[j];
		if ((m = marks_at(s, j, s->len)) && j + m < s->len &&
		    s->in[j + m] == '@') {
			j += m - 1;
			continue;
		}
		if (c == '/' || c == '?' || c == '#' || IS(s, c, C_VEND))
			break;
		if (c == '@')
			*at = j;
	}
	return j;
}

/* An unencoded '/' in the password (S3 secret keys have them):
 * s3a://KEY:abc/def@bucket, from the '/' at j - but not host:8080/path@x.
 * Its end: the last '@' before the host's end ('/', '?' or '#' after an
 * '@', or what ends a value), as where no '/' is; 0 if none. */
static size_t slash_password_end(const struct scan *s, size_t j)
{
	size_t at = 0;

	for (; j < s->len && !IS(s, s->in[j], C_VEND); j++) {
		char c = s->in[j];
		if (c == '@')
			at = j;
		else if (at && (c == '/' || c == '?' || c == '#'))
			break;
	}
	return at;
}

/* scheme://user:password@host - only the password goes. */
size_t redact_on_url(struct scan *s, size_t i)
{
	const char *in = s->in, *colon;
	size_t a = i + 3, j, at, fa, ps;

	if (i == 0 || !IS(s, in[i - 1], C_ALNUM))
		return a;
	for (j = i; j > s->copied && i - j < 32 && IS(s, in[j - 1], C_ALNUM);)
		j--;
	s->lo = j; /* the scheme: a URL cut there is still one */
	j = url_authority(s, a, &at);
	colon = url_colon(s, a, j);
	if (!at && colon && j < s->len && in[j] == '/' &&
	    !all_digits(colon + 1, (size_t)(in + j - colon) - 1))
		at = slash_password_end(s, j);
	/* the user before the first '@': an address later in the
	 * authority may be redacted, and redacting again must see the same
	 * user */
	fa = at ? (size_t)((const char *)memchr(in + a, '@', at + 1 - a) - in)
		: 0;
	if (at && !url_colon(s, a, at) && token_user(s, a, fa)) {
		int kind = redact_vendor_token(in, s->len, a, &j);
		redact_emit(s, a, fa,
			    kind >= 0 && j == fa ? (unsigned)kind
						 : REDACT_TOKEN);
		return fa;
	}
	if (!at || !(colon = url_colon(s, a, at)))
		return a;
	ps = (size_t)(colon - in) + 1;
	if (ps == at || redact_already_redacted(in + ps, at - ps))
		return at;
	/* s3a://AKIA...:SECRET@bucket: the user is an access key id */
	if (redact_akia_at(s, a, ps - 1))
		redact_emit(s, a, ps - 1, REDACT_AWS_ACCESS_KEY_ID);
	redact_emit(s, ps, at, REDACT_URL_PASSWORD);
	return at;
}
