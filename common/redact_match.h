/*
 * redact_match.h - the word lists and shapes behind the redactor's scanner
 * (redact.c): which key names are secret-like, which values hold no
 * secret, what an AWS secret key, an Authorization scheme, a card
 * number and an e-mail domain look like. Internal to the redactor; pure
 * functions over byte ranges (not NUL-terminated), ASCII case folding, no
 * locale.
 */
#ifndef SP_REDACT_MATCH_H
#define SP_REDACT_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#define REDACT_MARK "[REDACTED:"
#define REDACT_MARK_LEN (sizeof(REDACT_MARK) - 1)

static inline int redact_lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static inline bool redact_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* p[0..n) equals the lower-case literal lit, ignoring ASCII case. */
bool redact_ci_eq(const char *p, size_t n, const char *lit);
/* p[0..n) contains the lower-case literal lit, ignoring ASCII case. */
bool redact_ci_contains(const char *p, size_t n, const char *lit);
/* The bytes that whole markers of our own ("[REDACTED:kind]", one after
 * another) take at the start of p[0..n); 0 if none starts it. */
size_t redact_marks_len(const char *p, size_t n);
/* p[0..n) is nothing but whole markers of our own: redacted already. Text
 * after a marker, or a marker left open ("[REDACTED:abc..."), is not: a
 * marker never hides what comes after it. */
bool redact_already_redacted(const char *p, size_t n);

/*
 * The kind (enum redact_kind) for the value of key k[0..n), or -1 if the
 * key is not secret-like. The key is split into words at . _ - and
 * camelCase and its last words decide: "spark.ssl.keyPassword" and
 * "DB_PASSWD" are passwords, "fs.s3a.secret.key" an AWS secret (the
 * caller checks the value's shape, else it is a plain secret),
 * "SSN", "social_security_number" an SSN and "*keytab*" a keytab (the
 * caller checks the value's shape: most are paths),
 * "tokenizer", "max_tokens", "oauthTokenFile" are nothing. Kubernetes
 * secret references (".secrets.", "secretKeyRef") and the shell's PWD are
 * not secret.
 */
int redact_key_kind(const char *k, size_t n);
/* A value that holds no secret: empty, N/A, null, none, true, false, a
 * mask ("**..."), a reference ("${...}"), a structure opener ('{', '('),
 * or our own markers and nothing else. */
bool redact_placeholder(const char *v, size_t n);
/* 40 characters of [A-Za-z0-9/+=], like an AWS secret access key. */
bool redact_aws_secret_shape(const char *v, size_t n);
/* A US social security number: 9 digits, or 3-2-4 with '-' or ' ', not
 * one the SSA never issues (area 000, 666, 9xx; group 00; serial 0000). */
bool redact_ssn_shape(const char *v, size_t n);
/* A base64 blob of 40 or more characters (a keytab's, not a path). */
bool redact_b64_blob_shape(const char *v, size_t n);
/* Authorization scheme p[0..n): 1 if its credentials are one token
 * (Basic, Bearer, ...), 2 if they are parameters to the end of the value
 * (Digest, AWS4-HMAC-SHA256, ...), 0 if unknown. */
int redact_auth_scheme(const char *p, size_t n);
/* A card number starting at in[i] (in[0..len)): 13-19 digits, grouped as
 * printed on cards (4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3) or not, a card
 * network's prefix, the Luhn check. Returns true and sets *end past it;
 * else false with *end past the first run of digits. */
bool redact_card_at(const char *in, size_t len, size_t i, size_t *end);
/* The domain of an e-mail address starting at in[d]: labels, a TLD of
 * letters, some lower case (upper-case domains are Kerberos realms); the
 * longest run of labels there that is one (not the whole run when a
 * marker of ours is glued to it). Sets *end past it. */
bool redact_email_domain(const char *in, size_t len, size_t d, size_t *end);

/*
 * Bare vendor tokens (redact_vendor.c). Each takes a candidate start t in
 * in[0..len) (the caller checks that a word starts there) and on success
 * sets *end past the token.
 *  redact_vendor_token: GitHub (ghp_ gho_ ghu_ ghs_ ghr_ github_pat_),
 *    Slack (xoxb- xoxp- xoxa- xoxr- xoxs- xoxe-), Stripe (sk_live_
 *    rk_live_ sk_test_ rk_test_ whsec_), Databricks (dapi + 32 hex),
 *    Google API keys (AIza...), OpenAI-style sk-... (mixed case and
 *    digits), a Kerberos keytab in base64 (BQIAAA...); returns the kind
 *    (enum redact_kind) or -1.
 *  redact_jwt_at: a JSON Web Token, eyJ<header>.ey<payload>[.<sig>].
 *  redact_b64_pem_at: a PEM private key in base64 ("LS0tLS1CRUdJTi...",
 *    as in Kubernetes secrets); certificates are not taken.
 */
int redact_vendor_token(const char *in, size_t len, size_t t, size_t *end);
bool redact_jwt_at(const char *in, size_t len, size_t t, size_t *end);
bool redact_b64_pem_at(const char *in, size_t len, size_t t, size_t *end);

#endif
