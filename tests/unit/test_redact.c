/* test_redact.c - edge redaction through the real redactor: the corpus in
 * tests/data/redact (secrets with their expected output, PEM blocks across
 * lines, ordinary Spark/YARN/Kubernetes lines that must come out as they
 * went in), then Luhn, PEM state, extra rules, argv, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "redact_rules.h"
#include "redact_testlib.h"
#include "strbuf.h"
#include "util.h"

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define AWS_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static void test_corpus_secrets(void **s)
{
	(void)s;
	run_corpus("secrets", true);
}

static void test_corpus_pem(void **s)
{
	(void)s;
	run_corpus("pem", false);
}

static void test_corpus_nearmiss(void **s)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT;
	struct lines in;
	size_t i;
	unsigned k;
	(void)s;

	lines_load(&in, "nearmiss.txt");
	for (i = 0; i < in.n; i++) {
		size_t n;
		strbuf_reset(&out);
		n = redact_line(r, &st, in.line[i], strlen(in.line[i]), &out);
		if (n || strcmp(out.buf, in.line[i]))
			fail_msg("nearmiss line %zu changed:\n got: %s", i + 1,
				 out.buf);
	}
	for (k = 0; k < redact_kind_count(r); k++)
		assert_int_equal(st.counts[k], 0);
	strbuf_release(&out);
	lines_free(&in);
	redactor_free(r);
}

static void test_kinds_and_counters(void **s)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT;
	const char *line = "password=a token=b jane@example.com "
			   "password=c 4111111111111111";
	(void)s;

	assert_string_equal(redact_kind_name(r, REDACT_EMAIL), "email");
	assert_string_equal(redact_kind_name(r, REDACT_AWS_ACCESS_KEY_ID),
			    "aws_access_key_id");
	assert_null(redact_kind_name(r, REDACT_BUILTIN_KINDS));
	assert_int_equal(redact_kind_count(r), REDACT_BUILTIN_KINDS);
	assert_int_equal(redact_line(r, &st, line, strlen(line), &out), 5);
	assert_string_equal(out.buf, "password=[REDACTED:password] "
				     "token=[REDACTED:token] "
				     "[REDACTED:email] "
				     "password=[REDACTED:password] "
				     "[REDACTED:credit_card]");
	assert_int_equal(st.counts[REDACT_PASSWORD], 2);
	assert_int_equal(st.counts[REDACT_TOKEN], 1);
	assert_int_equal(st.counts[REDACT_EMAIL], 1);
	assert_int_equal(st.counts[REDACT_CREDIT_CARD], 1);
	assert_int_equal(st.counts[REDACT_SECRET], 0);
	/* out is appended to, not reset */
	redact_line(r, &st, "x", 1, &out);
	assert_int_equal(out.buf[out.len - 1], 'x');
	strbuf_release(&out);
	redactor_free(r);
}

static void test_luhn(void **s)
{
	struct redactor *r = redactor_new();
	(void)s;
	assert_true(redact_luhn_ok("4111111111111111", 16));
	assert_true(redact_luhn_ok("378282246310005", 15));
	assert_true(redact_luhn_ok("0", 1));
	assert_false(redact_luhn_ok("4111111111111112", 16));
	assert_false(redact_luhn_ok("41111111x1111111", 16));
	assert_false(redact_luhn_ok("", 0));

	assert_redacts_to(r, "pan 4111111111111111.",
			  "pan [REDACTED:credit_card].");
	assert_redacts_to(r, "pan 4111111111111112.", "pan 4111111111111112.");
	/* the card ends where its groups end, even if a number follows */
	assert_redacts_to(r, "4111 1111 1111 1111 2027",
			  "[REDACTED:credit_card] 2027");
	/* mixed separators, glued to a word, or a decimal: not a card */
	assert_redacts_to(r, "4111 1111-1111 1111", "4111 1111-1111 1111");
	assert_redacts_to(r, "id4111111111111111", "id4111111111111111");
	assert_redacts_to(r, "4111111111111111.25", "4111111111111111.25");
	/* 20 digits is too long, 12 too short (an AWS account id) */
	assert_redacts_to(r, "41111111111111111110", "41111111111111111110");
	assert_redacts_to(r, "123456789012", "123456789012");
	redactor_free(r);
}

static void test_pem_state(void **s)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT;
	int i;
	(void)s;

	assert_int_equal(feed(r, &st, "-----BEGIN EC PRIVATE KEY-----", &out),
			 0);
	assert_true(st.in_pem);
	assert_int_equal(feed(r, &st, "MHcCAQEEIBkg4LVWM9nuwNSk3yBYZ", &out),
			 1);
	assert_string_equal(out.buf, "[REDACTED:private_key]");
	assert_int_equal(feed(r, &st, "", &out), 0); /* nothing to hide */
	/* END mid-line: what follows it is scanned normally */
	assert_int_equal(feed(r, &st,
			      "tail==-----END EC PRIVATE KEY----- password=x",
			      &out),
			 2);
	assert_string_equal(out.buf, "[REDACTED:private_key]-----END EC "
				     "PRIVATE KEY----- password=[REDACTED:"
				     "password]");
	assert_false(st.in_pem);
	assert_int_equal(feed(r, &st, "MHcCAQEEIBkg4LVWM9nuwNSk3yBYZ", &out),
			 0);
	assert_int_equal(st.counts[REDACT_PRIVATE_KEY], 2);

	/* Certificates and public keys are not secret. */
	assert_int_equal(feed(r, &st, "-----BEGIN PUBLIC KEY-----", &out), 0);
	assert_false(st.in_pem);

	/* Without a stream only the BEGIN line itself can be cut. */
	assert_int_equal(
		feed(r, NULL, "-----BEGIN PRIVATE KEY-----MIIEv", &out), 1);
	assert_string_equal(
		out.buf, "-----BEGIN PRIVATE KEY-----[REDACTED:private_key]");

	/* An unclosed block does not swallow the rest of the log. */
	feed(r, &st, "-----BEGIN PRIVATE KEY-----", &out);
	for (i = 0; i < 1000 && st.in_pem; i++)
		feed(r, &st, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", &out);
	assert_false(st.in_pem);
	assert_true(i > 100 && i < 1000);
	assert_int_equal(feed(r, &st, "INFO back to normal", &out), 0);
	strbuf_release(&out);
	redactor_free(r);
}

static void test_extra_rules(void **s)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT;
	char err[256];
	unsigned emp;
	(void)s;

	assert_int_equal(redact_add_rule(r, "employee_id EMP-[0-9]{6}", err,
					 sizeof(err)),
			 0);
	emp = REDACT_BUILTIN_KINDS;
	assert_int_equal(redact_kind_count(r), emp + 1);
	assert_string_equal(redact_kind_name(r, emp), "employee_id");
	/* same kind again, and a built-in kind: no new counters */
	assert_int_equal(redact_add_rule(r, "  employee_id\tE#[0-9]{4}", err,
					 sizeof(err)),
			 0);
	assert_int_equal(
		redact_add_rule(r, "password hunter[0-9]", err, sizeof(err)),
		0);
	assert_int_equal(
		redact_add_rule(r, "acct ^ACCT-[0-9]+", err, sizeof(err)), 0);
	assert_int_equal(redact_kind_count(r), emp + 2);

	assert_int_equal(feed(r, &st,
			      "ACCT-7 EMP-123456 and EMP-654321, E#1234, "
			      "ACCT-8 said hunter2 token=abc",
			      &out),
			 6);
	assert_string_equal(out.buf,
			    "[REDACTED:acct] [REDACTED:employee_id] and "
			    "[REDACTED:employee_id], [REDACTED:employee_id], "
			    "ACCT-8 said [REDACTED:password] "
			    "token=[REDACTED:token]");
	assert_int_equal(st.counts[emp], 3);
	assert_int_equal(st.counts[emp + 1], 1);
	assert_int_equal(st.counts[REDACT_PASSWORD], 1);
	assert_int_equal(st.counts[REDACT_TOKEN], 1);
	/* text appended after earlier output: rules see only this line */
	strbuf_reset(&out);
	strbuf_addstr(&out, "EMP-000001 ");
	redact_line(r, NULL, "ACCT-9", 6, &out);
	assert_string_equal(out.buf, "EMP-000001 [REDACTED:acct]");
	strbuf_release(&out);
	redactor_free(r);
}

static void test_extra_rule_refused(void **s)
{
	struct redactor *r = redactor_new();
	char err[256], spec[64];
	int i;
	(void)s;

	assert_refused(r, "", "missing kind");
	assert_refused(r, "   ", "missing kind");
	assert_refused(r, "bad/kind x+", "bad character in kind 'bad/kind'");
	assert_refused(r, "ssn", "missing pattern");
	assert_refused(r, "ssn   ", "missing pattern");
	assert_refused(r, "ssn ([0-9]", "bad pattern at offset 6");
	assert_refused(r, "ssn [0-9]*", "matches the empty string");
	assert_refused(r, "ssn ^$", "matches the empty string");
	assert_refused(r, "a123456789012345678901234567890123 x",
		       "kind longer than 32");
	assert_int_equal(redact_kind_count(r), REDACT_BUILTIN_KINDS);
	for (i = 0; i < REDACT_MAX_RULES; i++) {
		snprintf(spec, sizeof(spec), "k%d x%dy", i, i);
		assert_int_equal(redact_add_rule(r, spec, err, sizeof(err)), 0);
	}
	assert_refused(r, "one_more z", "more than 32 rules");
	assert_int_equal(redact_kind_count(r), REDACT_MAX_KINDS);
	redactor_free(r);
}

/* Finding: stacked repetitions made regcomp take gigabytes. Each is now
 * refused at once by PCRE2's own bounds or ours, and what compiles cannot
 * run away on a line. */
static void test_extra_rule_bounds(void **s)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT, spec = STRBUF_INIT;
	int i;
	(void)s;

	assert_refused(r, "k x{255}{255}{255}", "bad pattern at offset 10");
	assert_refused(r, "k ((((x{255}){255}){255}){255})", "too large");
	assert_refused(r, "k ((a{1,100}){1,100}){1,100}", "too large");
	assert_refused(r, "k (a|b){65535}", "too large");
	strbuf_addstr(&spec, "k ");
	for (i = 0; i < REDACT_RULE_MAX_NEST + 1; i++)
		strbuf_addch(&spec, '(');
	strbuf_addch(&spec, 'x');
	for (i = 0; i < REDACT_RULE_MAX_NEST + 1; i++)
		strbuf_addch(&spec, ')');
	assert_refused(r, spec.buf, "too deeply nested");
	strbuf_reset(&spec);
	strbuf_addstr(&spec, "k ");
	for (i = 0; i <= REDACT_RULE_MAX_PATTERN; i++)
		strbuf_addch(&spec, 'x');
	assert_refused(r, spec.buf, "pattern longer than 256 bytes");
	/* catastrophic backtracking shows on the test lines at start */
	assert_refused(r, "k (a+)+$", "backtracks past the match limit");
	assert_refused(r, "k (\\w+\\s?)+$", "backtracks past the match limit");
	assert_refused(r, "k ^(\\d+)+$", "backtracks past the match limit");
	assert_refused(r, "k (a|a)+$", "backtracks past the match limit");
	assert_int_equal(redact_kind_count(r), REDACT_BUILTIN_KINDS);

	/* One the test lines miss runs into the limit on a real line: that
	 * line is redacted from there on (fail closed), the call returns,
	 * and the next line is matched normally. */
	assert_int_equal(redact_add_rule(r, "runaway (x+x+)+z\\d", NULL, 0), 0);
	strbuf_reset(&spec);
	strbuf_addstr(&spec, "user=jo ");
	for (i = 0; i < 60; i++)
		strbuf_addch(&spec, 'x');
	strbuf_addstr(&spec, "z! password=hunter2 tail");
	assert_int_equal(feed(r, &st, spec.buf, &out), 2);
	assert_string_equal(out.buf, "[REDACTED:runaway]");
	assert_int_equal(st.rule_limit_hits, 1);
	assert_int_equal(feed(r, &st, "id xxxz7 ok", &out), 1);
	assert_string_equal(out.buf, "id [REDACTED:runaway] ok");
	assert_int_equal(st.rule_limit_hits, 1);
	strbuf_release(&spec);
	strbuf_release(&out);
	redactor_free(r);
}

static void test_args(void **s)
{
	static const char *const argv[] = {
		"spark-submit",
		"--conf",
		"spark.hadoop.fs.s3a.secret.key=" AWS_SECRET,
		"--conf",
		"spark.executor.memory=4g",
		"--conf",
		"spark.x.password=a b;c",
		"--password",
		"hunter 2",
		"--api-key",
		"k-123",
		"--token=abc def",
		"--conf",
		"spark.driver.extraJavaOptions=-Dssl.keyStorePassword=changeit "
		"-Xmx2g",
		"--secret",
		"--verbose",
		"--class",
		"com.acme.Main",
		"--conf",
		"spark.hadoop.fs.s3a.secret.key=*********(redacted)",
		"etl.jar",
		"jdbc:postgresql://etl:pw@db/dw",
		"--notify",
		"ops@example.com",
		"--key",
		"events",
	};
	static const char *const want[] = {
		"spark-submit",
		"--conf",
		"spark.hadoop.fs.s3a.secret.key=[REDACTED:aws_secret_access_"
		"key]",
		"--conf",
		"spark.executor.memory=4g",
		"--conf",
		"spark.x.password=[REDACTED:password]",
		"--password",
		"[REDACTED:password]",
		"--api-key",
		"[REDACTED:api_key]",
		"--token=[REDACTED:token]",
		"--conf",
		"spark.driver.extraJavaOptions=-Dssl.keyStorePassword=["
		"REDACTED:"
		"password] -Xmx2g",
		"--secret",
		"--verbose",
		"--class",
		"com.acme.Main",
		"--conf",
		"spark.hadoop.fs.s3a.secret.key=*********(redacted)",
		"etl.jar",
		"jdbc:postgresql://etl:[REDACTED:url_password]@db/dw",
		"--notify",
		"[REDACTED:email]",
		"--key",
		"events",
	};
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	char *out[ARRAY_SIZE(argv)];
	size_t i;
	(void)s;

	assert_int_equal(redact_args(r, &st, argv, ARRAY_SIZE(argv), out), 8);
	for (i = 0; i < ARRAY_SIZE(argv); i++) {
		assert_string_equal(out[i], want[i]);
		free(out[i]);
	}
	assert_int_equal(st.counts[REDACT_PASSWORD], 3);
	assert_int_equal(st.counts[REDACT_AWS_SECRET_ACCESS_KEY], 1);
	assert_int_equal(st.counts[REDACT_EMAIL], 1);
	/* NULL stream, empty argv */
	assert_int_equal(redact_args(r, NULL, argv, 0, out), 0);
	redactor_free(r);
}

static uint64_t rng_state = 42;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng_state >> 33) % n);
}

static size_t count_marks(const char *p, size_t len)
{
	size_t n = 0;
	const char *m;
	while ((m = memmem(p, len, "[REDACTED:", 10))) {
		n++;
		len -= (size_t)(m - p) + 10;
		p = m + 10;
	}
	return n;
}

/* Arbitrary bytes, and bytes biased to the trigger characters: no crash
 * (see the ASan build), output untouched when nothing was found, one
 * marker per redaction, NUL-terminated. */
static void test_random_bytes(void **s)
{
	static const char alphabet[] = "=:>@-AKISBbearer0123456789 \t\"'\\/."
				       "-----BEGIN PRIVATE KEY-----password"
				       "token://x@y.com4111";
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT;
	char line[600];
	int iter;
	(void)s;

	assert_int_equal(redact_add_rule(r, "x x[0-9]", NULL, 0), 0);
	for (iter = 0; iter < 20000; iter++) {
		size_t len = rnd(sizeof(line)), i, n;
		bool biased = iter & 1;
		for (i = 0; i < len; i++)
			line[i] = biased ? alphabet[rnd(sizeof(alphabet) - 1)]
					 : (char)rnd(256);
		strbuf_reset(&out);
		n = redact_line(r, &st, line, len, &out);
		assert_int_equal(out.buf[out.len], '\0');
		if (!n) {
			assert_int_equal(out.len, len);
			assert_memory_equal(out.buf, line, len);
		} else {
			assert_true(count_marks(out.buf, out.len) >= n);
		}
	}
	strbuf_release(&out);
	redactor_free(r);
}

/* One line of 1 MB: secrets at its start, middle and end are all found. */
static void test_long_line(void **s)
{
	struct redactor *r = redactor_new();
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT, want = STRBUF_INIT;
	size_t n, k;
	(void)s;

	strbuf_addstr(&in, "password=first ");
	strbuf_addstr(&want, "password=[REDACTED:password] ");
	for (k = 0; in.len < (1 << 20); k++) {
		const char *chunk = k == 5000 ? "jane@example.com "
					      : "INFO spark.x=4g 12:00:01 a-b ";
		const char *wchunk = k == 5000 ? "[REDACTED:email] " : chunk;
		strbuf_addstr(&in, chunk);
		strbuf_addstr(&want, wchunk);
	}
	strbuf_addstr(&in, AKID);
	strbuf_addstr(&want, "[REDACTED:aws_access_key_id]");
	n = redact_line(r, NULL, in.buf, in.len, &out);
	assert_int_equal(n, 3);
	assert_int_equal(out.len, want.len);
	assert_string_equal(out.buf, want.buf);

	/* Pathological 1 MB lines: repeated triggers, one key that never
	 * ends, an unclosed quote. */
	strbuf_reset(&in);
	while (in.len < (1 << 20))
		strbuf_addstr(&in, "a=@:-->4 ");
	strbuf_reset(&out);
	assert_int_equal(redact_line(r, NULL, in.buf, in.len, &out), 0);
	assert_int_equal(out.len, in.len);
	strbuf_reset(&in);
	strbuf_addstr(&in, "token=\"");
	while (in.len < (1 << 20))
		strbuf_addstr(&in, "abcdefgh");
	strbuf_reset(&out);
	assert_int_equal(redact_line(r, NULL, in.buf, in.len, &out), 1);
	assert_string_equal(out.buf, "token=\"[REDACTED:token]");
	strbuf_release(&in);
	strbuf_release(&out);
	strbuf_release(&want);
	redactor_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_secrets),
		cmocka_unit_test(test_corpus_pem),
		cmocka_unit_test(test_corpus_nearmiss),
		cmocka_unit_test(test_kinds_and_counters),
		cmocka_unit_test(test_luhn),
		cmocka_unit_test(test_pem_state),
		cmocka_unit_test(test_extra_rules),
		cmocka_unit_test(test_extra_rule_refused),
		cmocka_unit_test(test_extra_rule_bounds),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_long_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
