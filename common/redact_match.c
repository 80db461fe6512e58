/*
 * redact_match.c - secret-like key names, placeholder values and the shapes
 * of AWS secrets, card numbers and e-mail domains, for the redactor's
 * scanner.
 */
#include "redact_match.h"

#include <string.h>

#include "redact.h"
#include "util.h"

#define EMAIL_DOMAIN_MAX 253 /* RFC 1035 */
#define CARD_GROUPS 8

static bool is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       redact_is_digit(c);
}

bool redact_ci_eq(const char *p, size_t n, const char *lit)
{
	size_t i;
	if (strlen(lit) != n)
		return false;
	for (i = 0; i < n; i++)
		if (redact_lc((unsigned char)p[i]) != lit[i])
			return false;
	return true;
}

bool redact_ci_contains(const char *p, size_t n, const char *lit)
{
	size_t i, l = strlen(lit);
	for (i = 0; i + l <= n; i++)
		if (redact_ci_eq(p + i, l, lit))
			return true;
	return false;
}

/* A whole marker "[REDACTED:kind]" at p[0..n): its length, or 0. */
static size_t mark_len(const char *p, size_t n)
{
	size_t k = REDACT_MARK_LEN;

	if (n < REDACT_MARK_LEN + 2 || memcmp(p, REDACT_MARK, REDACT_MARK_LEN))
		return 0;
	while (k < n && k - REDACT_MARK_LEN < REDACT_KIND_MAX_LEN &&
	       (is_alnum(p[k]) || p[k] == '_' || p[k] == '.' || p[k] == '-'))
		k++;
	return k > REDACT_MARK_LEN && k < n && p[k] == ']' ? k + 1 : 0;
}

size_t redact_marks_len(const char *p, size_t n)
{
	size_t at = 0, m;
	while ((m = mark_len(p + at, n - at)))
		at += m;
	return at;
}

bool redact_already_redacted(const char *p, size_t n)
{
	return n && redact_marks_len(p, n) == n;
}

struct span {
	size_t s, e;
};

static bool is_sep(int c)
{
	return c == '.' || c == '_' || c == '-';
}

static bool is_lower_or_digit(int c)
{
	return (c >= 'a' && c <= 'z') || redact_is_digit(c);
}

/* A camelCase word starts at k[b]: "keyPassword", "AWSSecret". */
static bool camel_start(const char *k, size_t b, size_t n)
{
	bool up = k[b] >= 'A' && k[b] <= 'Z';
	bool prev_up = k[b - 1] >= 'A' && k[b - 1] <= 'Z';
	if (!up)
		return false;
	if (is_lower_or_digit(k[b - 1]))
		return true;
	return prev_up && b + 1 < n && k[b + 1] >= 'a' && k[b + 1] <= 'z';
}

/* The last max words of key k, last first, split at . _ - and camelCase. */
static int key_words(const char *k, size_t n, struct span *w, int max)
{
	size_t e = n, b;
	int nw = 0;
	while (nw < max) {
		while (e > 0 && is_sep(k[e - 1]))
			e--;
		if (!e)
			break;
		for (b = e - 1;
		     b > 0 && !is_sep(k[b - 1]) && !camel_start(k, b, n); b--)
			;
		w[nw].s = b;
		w[nw++].e = e;
		e = b;
	}
	return nw;
}

static bool word_is(const char *k, const struct span *w, const char *lit)
{
	return redact_ci_eq(k + w->s, w->e - w->s, lit);
}

static bool word_ends(const char *k, const struct span *w, const char *lit)
{
	size_t l = strlen(lit), n = w->e - w->s;
	return n >= l && redact_ci_eq(k + w->e - l, l, lit);
}

/* "accesstoken", "sessiontoken": a token whose compound is one word. */
static bool compound_token(const char *k, const struct span *w)
{
	static const char *const firsts[] = {
		"access", "session",  "refresh", "auth", "api",
		"id",	  "oauth",    "bearer",	 "sas",	 "security",
		"client", "personal", "github",
	};
	struct span head = {w->s, w->e - 5};
	size_t i;
	if (w->e - w->s <= 5 || !word_ends(k, w, "token"))
		return false;
	for (i = 0; i < ARRAY_SIZE(firsts); i++)
		if (word_is(k, &head, firsts[i]))
			return true;
	return false;
}

static int words_kind(const char *k, const struct span *w, int nw)
{
	const struct span *a = &w[0];
	const struct span *b = nw > 1 ? &w[1] : NULL;
	const struct span *c = nw > 2 ? &w[2] : NULL;

	if (word_is(k, a, "pwd") || word_ends(k, a, "password") ||
	    word_ends(k, a, "passwd") || word_ends(k, a, "passphrase"))
		return REDACT_PASSWORD;
	if (word_is(k, a, "key")) {
		if (!b)
			return -1;
		if (word_is(k, b, "secret") ||
		    (c && word_is(k, b, "access") && word_is(k, c, "secret")))
			return REDACT_AWS_SECRET_ACCESS_KEY;
		if (word_is(k, b, "api"))
			return REDACT_API_KEY;
		if (word_is(k, b, "private"))
			return REDACT_PRIVATE_KEY;
		/* Azure connection strings: AccountKey=, SharedAccessKey= */
		if (word_is(k, b, "encryption") || word_is(k, b, "account") ||
		    (c && word_is(k, b, "access") && word_is(k, c, "shared")))
			return REDACT_SECRET;
		return -1;
	}
	if (word_ends(k, a, "secretaccesskey") || word_ends(k, a, "secretkey"))
		return REDACT_AWS_SECRET_ACCESS_KEY;
	if (word_ends(k, a, "apikey"))
		return REDACT_API_KEY;
	if (word_ends(k, a, "privatekey"))
		return REDACT_PRIVATE_KEY;
	if (word_is(k, a, "secret") || word_ends(k, a, "clientsecret"))
		return REDACT_SECRET;
	if (word_is(k, a, "token") || compound_token(k, a))
		return REDACT_TOKEN;
	if (word_is(k, a, "authorization"))
		return REDACT_AUTHORIZATION;
	if (word_is(k, a, "ssn"))
		return REDACT_SSN;
	if (word_is(k, a, "sig") ||
	    (b && word_is(k, a, "signature") &&
	     (word_is(k, b, "amz") || word_is(k, b, "access"))))
		return REDACT_SIGNATURE;
	return -1;
}

/* Cheap first look: can a key ending in these 3 bytes be secret-like? */
static bool key_tail_maybe(const char *k, size_t n)
{
	static const char tails[][4] = {
		"pwd", "ord", "swd", "ase", "ret", "ken", "key", "ion", "ure",
		"sig", "net", ".cn", ".de", "ssn", "ber", "tab", "b64",
	};
	char t0, t1, t2;
	size_t i;

	if (n < 3)
		return false;
	t0 = (char)redact_lc((unsigned char)k[n - 3]);
	t1 = (char)redact_lc((unsigned char)k[n - 2]);
	t2 = (char)redact_lc((unsigned char)k[n - 1]);
	for (i = 0; i < ARRAY_SIZE(tails); i++)
		if (tails[i][2] == t2 && tails[i][1] == t1 && tails[i][0] == t0)
			return true;
	return false;
}

/* The redaction kind for the value of key k[0..n), or -1 if the key is
 * not secret-like. */
int redact_key_kind(const char *k, size_t n)
{
	struct span w[3];
	int nw, kind;

	if (!key_tail_maybe(k, n))
		return -1;
	nw = key_words(k, n, w, 3);
	kind = nw ? words_kind(k, w, nw) : -1;
	/* Azure's account key is named after the account's host. */
	if (kind < 0 && redact_ci_contains(k, n, "azure.account.key."))
		kind = REDACT_SECRET;
	/* KRB5_KEYTAB_B64, etl.keytab; social_security_number */
	if (kind < 0 &&
	    (redact_ci_eq(k + n - 3, 3, "tab") ||
	     redact_ci_eq(k + n - 3, 3, "b64")) &&
	    redact_ci_contains(k, n, "keytab"))
		kind = REDACT_KERBEROS_KEYTAB;
	if (kind < 0 && redact_ci_eq(k + n - 3, 3, "ber") &&
	    (redact_ci_contains(k, n, "socialsecurity") ||
	     redact_ci_contains(k, n, "social_security")))
		kind = REDACT_SSN;
	/* Kubernetes secret references name a secret; they hold none:
	 * spark.kubernetes.driver.secrets.NAME=PATH, ...secretKeyRef.ENV=N:K */
	if (kind >= 0 && (redact_ci_contains(k, n, "secretkeyref") ||
			  redact_ci_contains(k, n, ".secrets.")))
		return -1;
	/* The shell's working directory, not a password. */
	if (kind == REDACT_PASSWORD && n == 3 && !memcmp(k, "PWD", 3))
		return -1;
	return kind;
}

/* Values that hold no secret: masks, placeholders, structure openers
 * (their members are scanned on their own) and our own markers, so that
 * redacting twice changes nothing. */
bool redact_placeholder(const char *v, size_t n)
{
	static const char *const words[] = {
		"n/a",	"null",	 "none",     "nil",    "undefined",
		"true", "false", "redacted", "hidden", "masked",
	};
	size_t i;
	if (!n || v[0] == '{' || v[0] == '(' || redact_already_redacted(v, n))
		return true;
	if (n >= 2 &&
	    ((v[0] == '*' && v[1] == '*') || (v[0] == '$' && v[1] == '{')))
		return true;
	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (redact_ci_eq(v, n, words[i]))
			return true;
	return false;
}

bool redact_aws_secret_shape(const char *v, size_t n)
{
	size_t i;
	if (n != 40)
		return false;
	for (i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      redact_is_digit(c) || c == '/' || c == '+' || c == '='))
			return false;
	}
	return true;
}

static unsigned digits_at(const char *v, size_t n)
{
	unsigned x = 0;
	for (size_t i = 0; i < n; i++)
		x = x * 10 + (unsigned)(v[i] - '0');
	return x;
}

bool redact_ssn_shape(const char *v, size_t n)
{
	char d[9];
	size_t nd = 0, i;
	unsigned area;

	if (n != 9 && n != 11)
		return false;
	for (i = 0; i < n; i++) {
		if (n == 11 && (i == 3 || i == 6)) {
			if ((v[i] != '-' && v[i] != ' ') || v[i] != v[3])
				return false;
		} else if (redact_is_digit(v[i])) {
			d[nd++] = v[i];
		} else {
			return false;
		}
	}
	area = digits_at(d, 3);
	return area && area != 666 && area < 900 && digits_at(d + 3, 2) &&
	       digits_at(d + 5, 4);
}

bool redact_b64_blob_shape(const char *v, size_t n)
{
	bool letter = false;
	size_t i;

	if (n < 40 || v[0] == '/')
		return false; /* a path */
	for (i = 0; i < n; i++) {
		char c = v[i];
		if (!(is_alnum(c) || c == '+' || c == '/' ||
		      (c == '=' && i + 2 >= n)))
			return false;
		letter |= !redact_is_digit(c) && is_alnum(c);
	}
	return letter;
}

int redact_auth_scheme(const char *p, size_t n)
{
	static const char *const one_token[] = {
		"basic", "bearer", "token", "negotiate", "ntlm", "apikey",
	};
	static const char *const params[] = {
		"digest", "oauth",	 "aws4-hmac-sha256", "hoba",
		"mutual", "scram-sha-1", "scram-sha-256",    "vapid",
	};
	size_t i;
	for (i = 0; i < ARRAY_SIZE(one_token); i++)
		if (redact_ci_eq(p, n, one_token[i]))
			return 1;
	for (i = 0; i < ARRAY_SIZE(params); i++)
		if (redact_ci_eq(p, n, params[i]))
			return 2;
	return 0;
}

bool redact_luhn_ok(const char *digits, size_t len)
{
	unsigned sum = 0;
	size_t k;
	if (!len)
		return false;
	for (k = 0; k < len; k++) {
		unsigned d = (unsigned)(digits[len - 1 - k] - '0');
		if (d > 9)
			return false;
		if (k & 1)
			d = d * 2 > 9 ? d * 2 - 9 : d * 2;
		sum += d;
	}
	return sum % 10 == 0;
}

/* Card networks: Mastercard 2221-2720 and 51-55, Amex/Diners/JCB 3,
 * Visa 4, Discover/UnionPay/Maestro 6. Keeps epoch milliseconds (1...)
 * and most counters out. */
static bool card_prefix_ok(const char *d)
{
	int four;
	if (d[0] >= '3' && d[0] <= '6')
		return true;
	four = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 +
	       (d[3] - '0');
	return four >= 2221 && four <= 2720;
}

/* Groups as printed on cards: 4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3. */
static bool card_groups_ok(const size_t *glen, size_t k)
{
	size_t total = 0, g;
	for (g = 0; g < k; g++) {
		total += glen[g];
		if (k > 1 && (g ? glen[g] < 3 || glen[g] > 6 : glen[g] != 4))
			return false;
	}
	return total >= 13 && total <= 19;
}

bool redact_card_at(const char *in, size_t len, size_t i, size_t *end)
{
	size_t j = i, gend[CARD_GROUPS], glen[CARD_GROUPS], ng = 0, k;
	char sep = 0;

	for (;;) {
		size_t g = j;
		while (j < len && redact_is_digit(in[j]) && j - g <= 19)
			j++;
		gend[ng] = j;
		glen[ng++] = j - g;
		if (ng == CARD_GROUPS || j + 1 >= len ||
		    !(in[j] == ' ' || in[j] == '-') || (sep && in[j] != sep) ||
		    !redact_is_digit(in[j + 1]))
			break;
		sep = in[j++];
	}
	/* The longest run of groups that is a card: "4111 1111 1111 1111
	 * 2027" is a card and a year. */
	for (k = ng; k >= 1; k--) {
		char digits[20] = {0};
		size_t e = gend[k - 1], nd = 0, p;
		if (!card_groups_ok(glen, k))
			continue;
		if (k == ng && e < len &&
		    (is_alnum(in[e]) || in[e] == '_' ||
		     (in[e] == '.' && e + 1 < len &&
		      redact_is_digit(in[e + 1]))))
			continue;
		for (p = i; p < e; p++)
			if (redact_is_digit(in[p]))
				digits[nd++] = in[p];
		if (card_prefix_ok(digits) && redact_luhn_ok(digits, nd)) {
			*end = e;
			return true;
		}
	}
	*end = gend[0];
	return false;
}

/* in[d..e) is a domain: labels, a TLD of letters, some lower case. */
static bool domain_ok(const char *in, size_t d, size_t e)
{
	size_t dot = 0, k;
	bool lower = false;

	if (e == d || !is_alnum(in[d]))
		return false;
	for (k = d; k < e; k++) {
		if (in[k] == '.') {
			if (in[k - 1] == '.')
				return false;
			dot = k;
		}
		lower |= in[k] >= 'a' && in[k] <= 'z';
	}
	/* An upper-case domain is a Kerberos realm: user@EXAMPLE.COM */
	if (!dot || !lower || e - dot < 3)
		return false;
	for (k = dot + 1; k < e; k++)
		if (!((in[k] >= 'a' && in[k] <= 'z') ||
		      (in[k] >= 'A' && in[k] <= 'Z')))
			return false;
	return true;
}

static size_t trim_domain(const char *in, size_t d, size_t e)
{
	while (e > d && (in[e - 1] == '.' || in[e - 1] == '-'))
		e--;
	return e;
}

bool redact_email_domain(const char *in, size_t len, size_t d, size_t *end)
{
	size_t e = d;
	bool whole;

	while (e < len && e - d < EMAIL_DOMAIN_MAX &&
	       (is_alnum(in[e]) || in[e] == '.' || in[e] == '-'))
		e++;
	/* A marker of ours glued to the run: the run went on into what was
	 * redacted there, and was no domain as a whole when it was. */
	whole = e == len || !redact_marks_len(in + e, len - e);
	/* The longest run of labels that is a domain: in
	 * "a@acme.co.xoxb-1-2-abc" a token follows the address, and once it
	 * is redacted the address must read the same. */
	for (e = trim_domain(in, d, e); e > d; e = trim_domain(in, d, e)) {
		const char *dot;
		if (whole && domain_ok(in, d, e)) {
			*end = e;
			return true;
		}
		whole = true;
		if (!(dot = memrchr(in + d, '.', e - d)))
			break;
		e = (size_t)(dot - in);
	}
	return false;
}
