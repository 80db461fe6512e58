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
#include "strbuf.h"
#include "util.h"

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define AWS_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

struct lines {
	char *text;
	char **line;
	size_t n;
};

static void lines_load(struct lines *l, const char *name)
{
	char path[256], *p, *nl;
	size_t alloc = 0;

	snprintf(path, sizeof(path), "tests/data/redact/%s", name);
	l->text = read_file(path, 1 << 20, NULL);
	assert_non_null(l->text);
	l->line = NULL;
	l->n = 0;
	for (p = l->text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl); /* every corpus line ends in a newline */
		*nl = '\0';
		l->line = xgrow(l->line, &alloc, l->n + 1, sizeof(char *));
		l->line[l->n++] = p;
	}
	assert_true(l->n > 0);
}

static void lines_free(struct lines *l)
{
	free(l->line);
	free(l->text);
}

/* Redacts s alone (no stream state) into a fresh string. */
static char *redact_str(const struct redactor *r, const char *s, size_t *n)
{
	struct strbuf out = STRBUF_INIT;
	size_t k = redact_line(r, NULL, s, strlen(s), &out);
	if (n)
		*n = k;
	return strbuf_detach(&out, NULL);
}

static size_t feed(const struct redactor *r, struct redact_stream *st,
		   const char *line, struct strbuf *out);

static void assert_redacts_to(const struct redactor *r, const char *in,
			      const char *want)
{
	char *got = redact_str(r, in, NULL);
	assert_string_equal(got, want);
	free(got);
}

/* Every line of name.txt redacts to the same line of name.expected, as one
 * stream; with secrets_each_line, each line has at least one redaction. */
static void run_corpus(const char *name, bool secrets_each_line)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT;
	struct lines in, want;
	char file[64];
	size_t i, total = 0, counted = 0;
	unsigned k;

	snprintf(file, sizeof(file), "%s.txt", name);
	lines_load(&in, file);
	snprintf(file, sizeof(file), "%s.expected", name);
	lines_load(&want, file);
	assert_int_equal(in.n, want.n);
	for (i = 0; i < in.n; i++) {
		size_t n;
		strbuf_reset(&out);
		n = redact_line(r, &st, in.line[i], strlen(in.line[i]), &out);
		if (strcmp(out.buf, want.line[i]))
			fail_msg("%s line %zu:\n got: %s\nwant: %s", name,
				 i + 1, out.buf, want.line[i]);
		if (secrets_each_line && !n)
			fail_msg("%s line %zu: no redaction", name, i + 1);
		total += n;
	}
	for (k = 0; k < redact_kind_count(r); k++)
		counted += st.counts[k];
	assert_int_equal(counted, total);
	assert_false(st.in_pem);

	/* Redacting the redacted output again changes nothing. */
	redact_stream_init(&st);
	for (i = 0; i < want.n; i++) {
		strbuf_reset(&out);
		assert_int_equal(redact_line(r, &st, want.line[i],
					     strlen(want.line[i]), &out),
				 0);
		assert_string_equal(out.buf, want.line[i]);
	}
	strbuf_release(&out);
	lines_free(&in);
	lines_free(&want);
	redactor_free(r);
}

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

/* A held-out corpus of real log forms (vendor tokens, configuration
 * echoes, connection strings, inline PEM, keytabs, SSNs) mixed into
 * ordinary lines: every line as expected, and no secret listed in
 * heldout.secrets anywhere in the output. */
static void test_corpus_heldout(void **s)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT;
	struct lines in, secrets;
	size_t i, k;
	(void)s;

	run_corpus("heldout", false);
	lines_load(&in, "heldout.txt");
	lines_load(&secrets, "heldout.secrets");
	for (i = 0; i < in.n; i++) {
		strbuf_reset(&out);
		redact_line(r, &st, in.line[i], strlen(in.line[i]), &out);
		for (k = 0; k < secrets.n; k++)
			if (strstr(out.buf, secrets.line[k]))
				fail_msg("heldout line %zu leaks '%s': %s",
					 i + 1, secrets.line[k], out.buf);
	}
	strbuf_release(&out);
	lines_free(&in);
	lines_free(&secrets);
	redactor_free(r);
}

/* Each class on its own, in forms the corpus does not have. */
static void test_vendor_tokens(void **s)
{
	struct redactor *r = redactor_new();
	(void)s;

	assert_redacts_to(r, "gh auth: ghu_0123456789abcdefghijABCDEFGHIJ0123",
			  "gh auth: [REDACTED:github_token]");
	assert_redacts_to(r, "git clone https://ghr_ABCDEFGHIJ0123456789abcdefghij9876@github.com/a/b",
			  "git clone https://[REDACTED:github_token]@github.com/a/b");
	assert_redacts_to(r, "'xoxs-1111111111-2222222222-abcdefabcdef'",
			  "'[REDACTED:slack_token]'");
	assert_redacts_to(r, "key:rk_test_00000000000000000000AbCd end",
			  "key:[REDACTED:stripe_key] end");
	assert_redacts_to(r, "DATABRICKS=dapi00000000000000000000000000000000",
			  "DATABRICKS=[REDACTED:databricks_token]");
	assert_redacts_to(r, "src=\"https://www.youtube.com/embed?key=AIza0000000000000000000000000000000_-X\"",
			  "src=\"https://www.youtube.com/embed?key=[REDACTED:google_api_key]\"");
	assert_redacts_to(r, "OPENAI sk-svcacct-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0",
			  "OPENAI [REDACTED:openai_key]");
	assert_redacts_to(r, "[eyJ0eXAiOiJKV1QifQ.eyJyb2xlIjoiYWRtaW4ifQ.AbCdEf-_01]",
			  "[[REDACTED:jwt]]");
	/* a token cut short by a line limit is still one */
	assert_redacts_to(r, "ghp_0123456789abcdefghijABCDEFGHIJ",
			  "[REDACTED:github_token]");
	/* inside a word, or too short: not a token */
	assert_redacts_to(r, "xghp_0123456789abcdefghijABCDEFGHIJ0123",
			  "xghp_0123456789abcdefghijABCDEFGHIJ0123");
	assert_redacts_to(r, "ask-Abc123Def456Ghi789Jkl012Mno",
			  "ask-Abc123Def456Ghi789Jkl012Mno");
	assert_redacts_to(r, "dapi0123456789abcdef0123456789abcdef0",
			  "dapi0123456789abcdef0123456789abcdef0");
	redactor_free(r);
}

static void test_config_forms(void **s)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT;
	(void)s;

	assert_redacts_to(r, "List((spark.jdbc.password, hunter2), (spark.x,1))",
			  "List((spark.jdbc.password, [REDACTED:password]), (spark.x,1))");
	assert_redacts_to(r, "(spark.ssl.trustStorePassword,\"a b\")",
			  "(spark.ssl.trustStorePassword,\"[REDACTED:password]\")");
	assert_redacts_to(r, "<name>spark.authenticate.secret</name> <value> s3kr1t </value>",
			  "<name>spark.authenticate.secret</name> <value> [REDACTED:secret] </value>");
	assert_redacts_to(r, "[{\"Name\":\"DbPassword\",\"Value\":\"pw1\"}]",
			  "[{\"Name\":\"DbPassword\",\"Value\":\"[REDACTED:password]\"}]");
	assert_redacts_to(r, "ParameterKey=DbPassword,ParameterValue=pw2",
			  "ParameterKey=DbPassword,ParameterValue=[REDACTED:password]");
	assert_redacts_to(r, "{'user': 'etl', 'pass': 'pw3'}",
			  "{'user': 'etl', 'pass': '[REDACTED:password]'}");
	assert_redacts_to(r, "\tspark.ssl.keyPassword\tpw4",
			  "\tspark.ssl.keyPassword\t[REDACTED:password]");
	/* XML and YAML: the name on one line, its value on a later one,
	 * and only the next value */
	feed(r, &st, "<name>hive.metastore.password</name>", &out);
	feed(r, &st, "<description>the metastore's</description>", &out);
	assert_int_equal(feed(r, &st, "<value>pw5</value>", &out), 1);
	assert_string_equal(out.buf, "<value>[REDACTED:password]</value>");
	assert_int_equal(feed(r, &st, "<value>plain</value>", &out), 0);
	feed(r, &st, "- name: API_TOKEN", &out);
	for (int i = 0; i < 4; i++)
		feed(r, &st, "  # a comment", &out);
	assert_int_equal(feed(r, &st, "  value: late", &out), 0);
	strbuf_release(&out);
	redactor_free(r);
}

static void test_connection_strings(void **s)
{
	struct redactor *r = redactor_new();
	(void)s;

	assert_redacts_to(r, "url=jdbc:oracle:thin:a_very_long_service_user_name_for_etl/pw@db:1521/x",
			  "url=jdbc:oracle:thin:a_very_long_service_user_name_for_etl/[REDACTED:password]@db:1521/x");
	assert_redacts_to(r, "exp \"sys/Ch4nge_me@//db/ORCL as sysdba\"",
			  "exp \"sys/[REDACTED:password]@//db/ORCL as sysdba\"");
	assert_redacts_to(r, "Server=x;Database=y;UID=u;PWD=p;",
			  "Server=x;Database=y;UID=u;PWD=[REDACTED:password];");
	assert_redacts_to(r, "DSN=dw;UID=u; PWD={a}}b;c}",
			  "DSN=dw;UID=u; PWD=[REDACTED:password]");
	assert_redacts_to(r, "Host=h;Port=5439;Password=p4;SSL=1",
			  "Host=h;Port=5439;Password=[REDACTED:password];SSL=1");
	/* the shell's working directory is no password */
	assert_redacts_to(r, "PWD=/opt/spark OLDPWD=/", "PWD=/opt/spark OLDPWD=/");
	redactor_free(r);
}

static void test_pem_inline_keytab_ssn(void **s)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT;
	(void)s;

	assert_redacts_to(r, "sslkey: -----BEGIN RSA PRIVATE KEY-----\\nMIIE\\n-----END RSA PRIVATE KEY----- next",
			  "sslkey: -----BEGIN RSA PRIVATE KEY-----[REDACTED:private_key]-----END RSA PRIVATE KEY----- next");
	assert_redacts_to(r, "client_private_key=-----BEGIN OPENSSH PRIVATE KEY-----\\nb3Blbg==\\n-----END OPENSSH PRIVATE KEY-----\\n x=1",
			  "client_private_key=[REDACTED:private_key]\\n x=1");
	/* an inline block cut short does not swallow the next lines */
	feed(r, &st, "{\"k\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQ", &out);
	assert_false(st.in_pem);
	assert_string_equal(out.buf,
			    "{\"k\": \"-----BEGIN PRIVATE KEY-----[REDACTED:private_key]");
	assert_redacts_to(r, "keytab = BQIAAABVAAIADkFDTUUuSU5URVJOQUwAA2V0bAAMaXA",
			  "keytab = [REDACTED:kerberos_keytab]");
	assert_redacts_to(r, "spark.yarn.keytab=/etc/security/keytabs/etl.keytab",
			  "spark.yarn.keytab=/etc/security/keytabs/etl.keytab");
	assert_redacts_to(r, "ssn: \"078-05-1121\", ssn=900-12-3456, SSN=123456789",
			  "ssn: \"[REDACTED:ssn]\", ssn=900-12-3456, SSN=[REDACTED:ssn]");
	assert_redacts_to(r, "tax: SSN 123-45-6789", "tax: SSN 123-45-6789");
	strbuf_release(&out);
	redactor_free(r);
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

static size_t feed(const struct redactor *r, struct redact_stream *st,
		   const char *line, struct strbuf *out)
{
	strbuf_reset(out);
	return redact_line(r, st, line, strlen(line), out);
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

static void assert_refused(struct redactor *r, const char *spec,
			   const char *why)
{
	char err[256] = "";
	assert_int_equal(redact_add_rule(r, spec, err, sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("'%s': error '%s' does not say '%s'", spec, err, why);
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

/* Finding: job add stored Oracle URLs, Slack and Stripe keys and keytab
 * blobs. The check refuses an argument redact_args changes; each of
 * these now changes. */
static void test_args_new_classes(void **s)
{
	static const char *const argv[] = {
		"--conf",
		"spark.jdbc.url=jdbc:oracle:thin:ETL_SERVICE_ACCOUNT_PROD/"
		"Tig3rPw@//ora:1521/DW",
		"--url",
		"etl/Or4clePw@//ora-scan.internal:1521/DWPROD",
		"--conf",
		"spark.executorEnv.SLACK=xoxb-2048675309123-4096815243567-"
		"Zq8YxWvUtSrQpOnMlKjIhGfE",
		"--stripe",
		"sk_live_51HqLyjWDarjtT1zdp7dcXyZ0aBcDeFgH",
		"--conf",
		"spark.kerberos.keytab.b64=BQIAAABHAAIAC0VYQU1QTEUuQ09NAANldGwA"
		"BGhvc3QAAAABZWvQAAEAEgAgq3dP0W9lYkxQqT2u4m8yY5cN0aQn3sVj6KzR1o"
		"2pE7c=",
		"BQIAAABVAAIADkFDTUUuSU5URVJOQUwAA2V0bAAMaXAtMTAtMC0xLTUAAAABZW"
		"vQAAEAEgAg9f8e7d6c5b4a39281706f5e4d3c2b1a0",
		"--conf",
		"spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:sqlserver://"
		"sql:1433;databaseName=dw;user=etl;PWD=p4ss",
	};
	static const bool secret[ARRAY_SIZE(argv)] = {
		[1] = true, [3] = true, [5] = true, [7] = true, [9] = true,
		[10] = true, [12] = true,
	};
	struct redactor *r = redactor_new();
	char *out[ARRAY_SIZE(argv)];
	(void)s;

	redact_args(r, NULL, argv, ARRAY_SIZE(argv), out);
	for (size_t i = 0; i < ARRAY_SIZE(argv); i++) {
		if (secret[i] != !!strcmp(out[i], argv[i]))
			fail_msg("argument %zu: '%s' -> '%s'", i, argv[i],
				 out[i]);
		free(out[i]);
	}
	redactor_free(r);
}

/* Cuts line as the agent's runner does (pieces of at most max, cut by
 * redact_split) and redacts each piece alone, as one stream; the pieces'
 * output joined by '|' goes to out. Returns the number of pieces. */
static size_t cut_and_redact(const struct redactor *r, const char *line,
			     size_t len, size_t max, size_t hard,
			     struct strbuf *out)
{
	struct redact_stream st = REDACT_STREAM_INIT;
	size_t pieces = 0;
	bool drop = false;

	strbuf_reset(out);
	while (len && !drop) {
		size_t c = len > max ? redact_split(r, line, len, max, hard,
						    true, &drop)
				     : len;
		assert_true(c > 0 && c <= len && c <= hard);
		if (c > max) /* only to keep a secret that starts it whole */
			assert_true(len > max);
		redact_line(r, &st, line, c, out);
		strbuf_addch(out, '|');
		line += c;
		len -= c;
		pieces++;
	}
	return pieces;
}

/* Finding: a line longer than the 8 KiB piece was cut before redaction,
 * so a secret across the cut leaked. Each form, at every offset around
 * the cut, with blanks before it or none: the secret never shows. */
static void test_split_keeps_secrets_whole(void **s)
{
	static const struct {
		const char *text, *secret;
	} forms[] = {
		{ "password=Hunter2Straddles", "Straddles" },
		{ "\"password\": \"correct horse battery staple\"", "battery" },
		{ "--password Hunter3Straddles", "Straddles" },
		{ "token: ghp_R8bQ2xW4nV6kL9mZ3pT7yH1cF5dS0aJ2uE4i", "uE4i" },
		{ "ghp_R8bQ2xW4nV6kL9mZ3pT7yH1cF5dS0aJ2uE4i", "uE4i" },
		{ "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJldGwifQ.c2lnbmF0dXJl", "c2lnbmF0dXJl" },
		{ AKID, "7EXAMPLE" },
		{ "(spark.ssl.keyStorePassword,Kst0reStraddles)", "Straddles" },
		{ "jdbc:postgresql://etl:PgStraddles9@db.internal/dw", "Straddles" },
		{ "sqlplus etl/OraStraddles@//ora:1521/DW", "Straddles" },
		{ "private_key=-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----", "BgkqhkiG9w0B" },
		{ "xoxb-2048675309123-4096815243567-Zq8YxWvUtSrQpOnMlKjIhGfE", "IhGfE" },
		{ "jane.doe@example.com", "jane.doe" },
		{ "<name>fs.s3a.secret.key</name><value>" AWS_SECRET "</value>", "EXAMPLEKEY" },
	};
	const size_t max = 1024, hard = 8192;
	struct redactor *r = redactor_new();
	struct strbuf line = STRBUF_INIT, out = STRBUF_INIT;
	(void)s;

	for (size_t f = 0; f < ARRAY_SIZE(forms); f++) {
		size_t flen = strlen(forms[f].text);
		for (int blanks = 0; blanks < 2; blanks++) {
			for (size_t o = max - flen - 8; o <= max + 2; o++) {
				strbuf_reset(&line);
				while (line.len < o)
					strbuf_addstr(&line, blanks ? "INFO a b "
								    : "INFOxab");
				strbuf_setlen(&line, o);
				strbuf_addch(&line, ' ');
				strbuf_addstr(&line, forms[f].text);
				strbuf_addstr(&line, " and then the rest of "
						     "the line");
				while (line.len < 3 * max)
					strbuf_addstr(&line, " filler");
				cut_and_redact(r, line.buf, line.len, max, hard,
					       &out);
				if (strstr(out.buf, forms[f].secret))
					fail_msg("form %zu at %zu (blanks %d) "
						 "leaks: %s",
						 f, o, blanks, out.buf);
			}
		}
	}
	strbuf_release(&line);
	strbuf_release(&out);
	redactor_free(r);
}

/* What redact_split answers when a secret starts the line: its end if
 * it ends within reach, wait while it may go on, or cut at hard and tell
 * the caller to drop the rest. */
static void test_split_long_secret(void **s)
{
	struct redactor *r = redactor_new();
	struct strbuf line = STRBUF_INIT, out = STRBUF_INIT;
	bool drop;
	size_t c;
	(void)s;

	strbuf_addstr(&line, "token=");
	while (line.len < 1500)
		strbuf_addstr(&line, "abcdef0123");
	/* still arriving: wait; the whole line: the piece is the secret */
	assert_int_equal(redact_split(r, line.buf, line.len, 1024, 8192,
				      false, &drop),
			 0);
	assert_int_equal(redact_split(r, line.buf, line.len, 1024, 8192, true,
				      &drop),
			 line.len);
	assert_false(drop);
	c = line.len;
	strbuf_addstr(&line, " and more text after it");
	assert_int_equal(redact_split(r, line.buf, line.len, 1024, 8192, false,
				      &drop),
			 c);
	assert_false(drop);
	/* longer than hard: cut at hard, drop the rest of the line */
	strbuf_reset(&line);
	strbuf_addstr(&line, "token=");
	while (line.len < 20000)
		strbuf_addstr(&line, "abcdef0123");
	c = redact_split(r, line.buf, line.len, 1024, 8192, false, &drop);
	assert_int_equal(c, 8192);
	assert_true(drop);
	assert_int_equal(cut_and_redact(r, line.buf, line.len, 1024, 8192,
					&out),
			 1);
	assert_string_equal(out.buf, "token=[REDACTED:token]|");
	/* no secret near the cut: after the last blank before it */
	strbuf_reset(&line);
	while (line.len < 3000)
		strbuf_addstr(&line, "word ");
	c = redact_split(r, line.buf, line.len, 1024, 8192, false, &drop);
	assert_int_equal(c, 1020);
	strbuf_release(&line);
	strbuf_release(&out);
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
		cmocka_unit_test(test_corpus_heldout),
		cmocka_unit_test(test_vendor_tokens),
		cmocka_unit_test(test_config_forms),
		cmocka_unit_test(test_connection_strings),
		cmocka_unit_test(test_pem_inline_keytab_ssn),
		cmocka_unit_test(test_kinds_and_counters),
		cmocka_unit_test(test_luhn),
		cmocka_unit_test(test_pem_state),
		cmocka_unit_test(test_extra_rules),
		cmocka_unit_test(test_extra_rule_refused),
		cmocka_unit_test(test_extra_rule_bounds),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_args_new_classes),
		cmocka_unit_test(test_split_keeps_secrets_whole),
		cmocka_unit_test(test_split_long_secret),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_long_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
