/*
 * redact.h - edge redaction: secrets and personal data are cut out of
 * everything a customer host sends (driver log lines, job arguments, Spark
 * confs) before it leaves the host. A redacted value becomes
 * "[REDACTED:kind]"; the text around it is kept.
 *
 * The built-in rules run in one hand-written pass over each line that only
 * looks closer at trigger characters, so redaction costs little next to
 * reading the log (see bench/sp-bench-redact.c). Built-in kinds:
 *   aws_access_key_id      AKIA... / ASIA... followed by 16 [A-Z0-9]
 *   aws_secret_access_key  40-char value of aws_secret_access_key,
 *                          secretAccessKey, fs.s3a.secret.key, *.secret.key
 *   authorization          credentials of an Authorization header (the
 *                          scheme, e.g. "Basic" or "Bearer", is kept)
 *   bearer_token           "Bearer <token>" anywhere
 *   url_password           the password of scheme://user:password@host
 *   password secret token api_key private_key signature
 *                          the value of a key whose name ends in such a word
 *                          (password, passwd, pwd, passphrase; secret,
 *                          secret.key, client_secret; token, access_token;
 *                          api_key, apikey; private_key; X-Amz-Signature,
 *                          sig), case-insensitive, as key=value, key: value,
 *                          "key": "value", key -> value, --key value, and
 *                          as Spark and Hadoop echo configuration:
 *                          (key,value) tuples, <name>key</name><value>v,
 *                          {"key":"k","value":"v"} and name:/value: pairs
 *                          (also over the next lines), "key   value"
 *                          properties-file lines; JSON's short "pass" and
 *                          "pw"; ODBC's ;PWD= and braced {values}; Oracle's
 *                          user/password@//host, @(DESCRIPTION=...),
 *                          @host:port/service
 *                          An unquoted value ends at white space or one of
 *                          & ; , ) [ ] } < > \ " '; a quoted one at its
 *                          closing quote. Placeholders (N/A, null, "****",
 *                          ${VAR}) and our own markers are left alone, so
 *                          redacting twice changes nothing; text after a
 *                          marker, or a marker left open, is redacted
 *                          like any other.
 *   private_key            also the lines of a PEM "PRIVATE KEY" block, a
 *                          block written inline with \n escapes after any
 *                          key, and one encoded in base64 (LS0tLS1CRUdJTi)
 *   email                  e-mail addresses (not Kerberos REALMs)
 *   credit_card            13-19 digits with a card-network prefix, grouped
 *                          or not, that pass the Luhn check
 *   github_token slack_token stripe_key databricks_token google_api_key
 *   openai_key jwt kerberos_keytab
 *                          vendor tokens found bare, by their documented
 *                          prefix and body (redact_match.h): ghp_ ...
 *                          github_pat_, xoxb- ..., sk_live_ rk_live_ ...,
 *                          dapi + 32 hex, AIza..., sk-..., eyJ...eyJ...,
 *                          a keytab's base64 (BQIAAA...)
 *   ssn                    a US social security number after an SSN label
 *                          (SSN:, ssn=, social_security_number)
 *
 * Extra rules (PCRE2 patterns from the agent config, redact_rules.h) run
 * after the built-in pass, over its output, only when configured; they
 * replace whole matches. Each is compiled and matched within fixed limits
 * (per line, whatever its length), and together they make a line at most
 * 8 times as long plus 1 KiB; a line on which a rule reaches a limit is
 * redacted from there to its end.
 *
 * Thread safety: a redactor is read-only after its rules are added, so one
 * may serve many threads; each stream of lines needs its own redact_stream.
 */
#ifndef SP_REDACT_H
#define SP_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Kind ids: the built-in ones, then one per distinct extra-rule kind. */
enum redact_kind {
	REDACT_AWS_ACCESS_KEY_ID,
	REDACT_AWS_SECRET_ACCESS_KEY,
	REDACT_AUTHORIZATION,
	REDACT_BEARER_TOKEN,
	REDACT_URL_PASSWORD,
	REDACT_PASSWORD,
	REDACT_SECRET,
	REDACT_TOKEN,
	REDACT_API_KEY,
	REDACT_SIGNATURE,
	REDACT_PRIVATE_KEY,
	REDACT_EMAIL,
	REDACT_CREDIT_CARD,
	REDACT_GITHUB_TOKEN,
	REDACT_SLACK_TOKEN,
	REDACT_STRIPE_KEY,
	REDACT_DATABRICKS_TOKEN,
	REDACT_GOOGLE_API_KEY,
	REDACT_OPENAI_KEY,
	REDACT_JWT,
	REDACT_KERBEROS_KEYTAB,
	REDACT_SSN,
	REDACT_BUILTIN_KINDS
};

#define REDACT_MAX_RULES 32 /* extra rules per redactor */
#define REDACT_MAX_KINDS (REDACT_BUILTIN_KINDS + REDACT_MAX_RULES)
#define REDACT_KIND_MAX_LEN 32 /* characters in a kind name */

/* Per-stream state: whether the stream is inside a PEM private key block
 * (the agent redacts line by line, the block spans lines), and how many
 * redactions of each kind id the stream has seen. */
struct redact_stream {
	bool in_pem;
	unsigned pem_lines;
	/* a name/key member named a secret: its value may follow on one of
	 * the next pend_lines lines (Hadoop XML, YAML) */
	unsigned char pend_kind, pend_lines;
	uint64_t counts[REDACT_MAX_KINDS];
	uint64_t rule_limit_hits; /* lines an extra rule could not finish */
};
#define REDACT_STREAM_INIT                                                     \
	{                                                                      \
		0                                                              \
	}

struct redactor;

/* A redactor with the built-in rules only. Never NULL (aborts on OOM). */
struct redactor *redactor_new(void);
/* Frees r and its extra rules; NULL is fine. */
void redactor_free(struct redactor *r);

/*
 * Adds an extra rule from a config value "KIND PCRE2-PATTERN", e.g.
 * "employee_id EMP-[0-9]{6}". KIND is 1-32 of [A-Za-z0-9_.-]; a KIND that
 * already exists (built-in or extra) shares its counter. Returns 0, or -1
 * with a one-line reason in err (no kind, bad kind characters, missing
 * pattern, too many rules, or a pattern redact_rule_compile refuses: too
 * long, too deep, too big to compile, matching the empty string,
 * backtracking past the limit); the caller adds the config line number.
 */
int redact_add_rule(struct redactor *r, const char *spec, char *err,
		    size_t errlen);

void redact_stream_init(struct redact_stream *st);

/*
 * Redacts one line (no newline; any bytes, NULs included) and appends the
 * result to out (out is not reset). st carries the PEM state and the
 * counters from line to line; NULL treats the line alone and counts
 * nothing. Returns the number of redactions made in this line (each line
 * inside a PEM block counts one).
 */
size_t redact_line(const struct redactor *r, struct redact_stream *st,
		   const char *in, size_t len, struct strbuf *out);

/*
 * Redacts a command line (spark-submit argv, or Spark conf strings
 * "k=v"): out[i] gets a malloc'd redacted copy of argv[i] (the caller
 * frees each). Besides what redact_line finds in each argument, the whole
 * value of a KEY=VALUE argument with a secret-like key is redacted
 * ("--conf", "spark.x.password=a b" -> "spark.x.password=[REDACTED:
 * password]"), and so is the argument after a secret-named flag
 * ("--password", "--secret", "--token", "--api-key" ...). st may be NULL.
 * Returns the number of redactions.
 */
size_t redact_args(const struct redactor *r, struct redact_stream *st,
		   const char *const *argv, size_t argc, char **out);

#define REDACT_SPLIT_BACK 1024	/* bytes a cut moves back to a blank */
#define REDACT_SPLIT_AHEAD 8192 /* bytes past the cut looked at first */

/*
 * Where to cut a line too long to pass whole (the agent passes output in
 * pieces of at most max bytes) so that no secret straddles the cut and
 * leaks through the redaction of each piece alone. in[0..len) is what has
 * arrived of the line (len > max); whole says the line ends there. The cut
 * goes after the last blank within REDACT_SPLIT_BACK bytes before max (key
 * names and tokens stay whole), then before any construct the built-in
 * rules find that would straddle it (a key and its value, a token, a URL
 * with credentials). Returns:
 *   1..max    cut there;
 *   > max     a construct that starts the line ends there: the piece is
 *             that long (at most hard);
 *   0         such a construct reaches the end of what arrived: wait for
 *             more (only when !whole and len < hard);
 * with *drop set when a construct is longer than hard: the piece returned
 * (hard bytes) is redacted to its end and the caller must drop the rest
 * of the line. The operator's extra rules are not consulted.
 */
size_t redact_split(const struct redactor *r, const char *in, size_t len,
		    size_t max, size_t hard, bool whole, bool *drop);

/* Number of kind ids in use (built-in plus distinct extra kinds). */
unsigned redact_kind_count(const struct redactor *r);
/* Name of kind id k ("password", or an extra rule's KIND); NULL if k is
 * out of range. The string belongs to r. */
const char *redact_kind_name(const struct redactor *r, unsigned k);

/* The Luhn checksum over len ASCII digits (false if any is not a digit or
 * len is 0). */
bool redact_luhn_ok(const char *digits, size_t len);

#endif
