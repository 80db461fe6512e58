/* test_redact_gaps.c - the redaction gaps a held-out corpus of real log
 * formats found, each class through the real redactor: the held-out
 * corpus itself (tests/data/redact/heldout.*), vendor tokens, how Spark
 * and Hadoop echo configuration, connection strings, inline PEM, keytabs
 * and SSNs, job arguments, and long lines cut where no secret straddles
 * (redact_split). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "redact_testlib.h"
#include "strbuf.h"
#include "util.h"

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define AWS_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

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

/* in redacts to want, and want stays as it is. */
static void assert_redacts_stable(const struct redactor *r, const char *in,
				  const char *want)
{
	assert_redacts_to(r, in, want);
	assert_redacts_to(r, want, want);
}

/* Fails if the secret is in out (NUL-terminated). */
static void assert_no_leak(const struct strbuf *out, const char *secret)
{
	if (strstr(out->buf, secret))
		fail_msg("'%s' leaks: %s", secret, out->buf);
}

/* Found by fuzz_redact (tests/fuzz/crashes/redact/
 * aws-key-after-unterminated-pem): inside a PEM block, a line that
 * started with "[REDACTED:" was taken for one redacted already and went
 * out whole, with the AWS key and the S3A secret after it. A line in a
 * block goes as one marker unless it is nothing but markers. */
static void test_pem_line_after_marker(void **s)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf out = STRBUF_INIT;
	(void)s;

	feed(r, &st, "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1r", &out);
	assert_true(st.in_pem);
	assert_int_equal(feed(r, &st, "[REDACTED:ZcJm7jE0 s.key=" AKID
			      " spark.hadoop.fs.s3a.secret.key=" AWS_SECRET,
			      &out),
			 1);
	assert_string_equal(out.buf, "[REDACTED:private_key]");
	assert_int_equal(feed(r, &st, "[REDACTED:private_key] token=" AKID,
			      &out),
			 1);
	assert_no_leak(&out, AKID);
	/* a line redacted already stays, END and all */
	assert_int_equal(feed(r, &st, "[REDACTED:private_key]", &out), 0);
	assert_string_equal(out.buf, "[REDACTED:private_key]");
	assert_int_equal(feed(r, &st, "[REDACTED:private_key]" AKID
			      "-----END RSA PRIVATE KEY----- key=" AKID,
			      &out),
			 2);
	assert_string_equal(out.buf, "[REDACTED:private_key]-----END RSA "
				     "PRIVATE KEY----- key=[REDACTED:"
				     "aws_access_key_id]");
	assert_false(st.in_pem);

	/* the BEGIN line's own body */
	assert_redacts_stable(r, "-----BEGIN RSA PRIVATE KEY-----[REDACTED:"
			      "private_key] password=hunter2",
			      "-----BEGIN RSA PRIVATE KEY-----[REDACTED:"
			      "private_key]");
	assert_redacts_stable(r, "-----BEGIN RSA PRIVATE KEY-----[REDACTED:x]"
			      "MIIE-----END RSA PRIVATE KEY-----",
			      "-----BEGIN RSA PRIVATE KEY-----[REDACTED:"
			      "private_key]-----END RSA PRIVATE KEY-----");
	strbuf_release(&out);
	redactor_free(r);
}

/* Each in redacts to want, and want stays as it is. */
static void assert_all_stable(const struct redactor *r,
			      const char *const (*pairs)[2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_redacts_stable(r, pairs[i][0], pairs[i][1]);
}

/* A marker in the input hides nothing that follows it: text glued to a
 * marker of the kind a rule makes is more of its value (the rule's own
 * marker would have taken it). One of another kind is left as the rule
 * that made it left it. */
static void test_marker_hides_nothing(void **s)
{
	static const char *const pairs[][2] = {
		{ "{\"password\": \"[REDACTED:password]hunter2\"}",
		  "{\"password\": \"[REDACTED:password]\"}" },
		{ "password=[REDACTED:password]hunter2 next",
		  "password=[REDACTED:password] next" },
		{ "Authorization: Basic [REDACTED:authorization]dXNlcjpwYXNz",
		  "Authorization: Basic [REDACTED:authorization]" },
		{ "curl -H 'x: Bearer [REDACTED:bearer_token]0a1b2c3d4e5f'",
		  "curl -H 'x: Bearer [REDACTED:bearer_token]'" },
		{ "<name>ssn</name><value>[REDACTED:ssn]536-22-1234</value>",
		  "<name>ssn</name><value>[REDACTED:ssn]</value>" },
		{ "sqlplus sys/[REDACTED:password]x@//db:1521/orcl",
		  "sqlplus sys/[REDACTED:password]@//db:1521/orcl" },
		{ "sqlplus sys/[REDACTED:a_kind_of_thirty_two_characters_]x@//db:1521/orcl",
		  "sqlplus sys/[REDACTED:a_kind_of_thirty_two_characters_]x@//db:1521/orcl" },
		{ "1/\x02t@d.ic@(", "1/\x02[REDACTED:email]@(" },
		{ "sqlplus sys/[REDACTED:a_kind_of_thirty_two_characters_]@//db:1521/orcl",
		  "sqlplus sys/[REDACTED:a_kind_of_thirty_two_characters_]@//db:1521/orcl" },
		/* a marker left open is no marker; a value in brackets is one */
		{ "password=[REDACTED:hunter2 pwd=[hunter2]",
		  "password=[[REDACTED:password] pwd=[[REDACTED:password]]" },
		/* markers redacted already stay, and so do other kinds' */
		{ "password=[REDACTED:password] Bearer [REDACTED:bearer_token]",
		  "password=[REDACTED:password] Bearer [REDACTED:bearer_token]" },
		{ "Bearer [REDACTED:email]=not-a-forty-char-secret",
		  "Bearer [REDACTED:email]=not-a-forty-char-secret" },
		{ "ssn=[REDACTED:email]+536221234",
		  "ssn=[REDACTED:email]+536221234" },
	};
	struct redactor *r = redactor_new();
	const char *argv[] = {"password=[REDACTED:password]hunter2",
			      "--token", "[REDACTED:token]abc"};
	char *out[3];
	(void)s;

	assert_all_stable(r, pairs, ARRAY_SIZE(pairs));
	assert_int_equal(redact_args(r, NULL, argv, 3, out), 2);
	assert_string_equal(out[0], "password=[REDACTED:password]");
	assert_string_equal(out[2], "[REDACTED:token]");
	for (int i = 0; i < 3; i++)
		free(out[i]);
	redactor_free(r);
}

/* Found by fuzz_redact (tests/fuzz/crashes/redact): lines that came out
 * different when redacted again, most of them leaking something the first
 * time. Each now redacts once and then stays. */
static void test_redacting_again_changes_nothing(void **s)
{
	static const char *const pairs[][2] = {
		/* a scheme not known (or damaged) goes with what follows it */
		{ "Authorization: Basic\x92 ZXRsOmh1bnRlcjI=",
		  "Authorization: [REDACTED:authorization]" },
		{ "{\"authorization\": \"Custom abc def\"}",
		  "{\"authorization\": \"[REDACTED:authorization]\"}" },
		{ "authorization=abc123&next=1",
		  "authorization=[REDACTED:authorization]&next=1" },
		/* an address redacted inside an authority ends it */
		{ "pg://etl_u!a@db.prod.esql://etl_u!@db.internal:54",
		  "pg://etl_u![REDACTED:email]://etl_u!@db.internal:54" },
		/* a token user is the one before the first '@' */
		{ "spark://ab12cd34ef56gh78ij90@x.internal@redis.cache.internal:6379",
		  "spark://[REDACTED:token]@[REDACTED:email]:6379" },
		/* a URL's password redacted already is found again over its
		 * marker; one with a '/' ends at its last '@', as one without */
		{ "https://x-access-token:[REDACTED:url_password]@github.com/a",
		  "https://x-access-token:[REDACTED:url_password]@github.com/a" },
		{ "s3a://" AKID ":wJal/K7M@@bucket/x@2x",
		  "s3a://[REDACTED:aws_access_key_id]:[REDACTED:url_password]@bucket/x@2x" },
		/* a key starts after what was redacted: here an e-mail address
		 * took "s.driver.secretKeyRef.DB", which made it a reference */
		{ "spark.kubernete@s.driver.secretKeyRef.DB_PASSWORD=pw",
		  "[REDACTED:email]_PASSWORD=[REDACTED:password]" },
		/* redacted at the first '@', the password ends there */
		{ "jdbc:oracle:thin:scott/tiger@@//db:1521/orcl",
		  "jdbc:oracle:thin:scott/[REDACTED:password]@@//db:1521/orcl" },
		{ "sqlplus scott/tiger@@//db:1521/orcl",
		  "sqlplus scott/[REDACTED:password]@//db:1521/orcl" },
		/* "jdbc:oracle:" anywhere before, not within 256 bytes */
		{ "jdbc:oracle:thin:scott/tiger@//db:1521/orcl token="
		  "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
		  "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
		  "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
		  "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
		  "a1a1a1a1a1 and:u/pw@h",
		  "jdbc:oracle:thin:scott/[REDACTED:password]@//db:1521/orcl "
		  "token=[REDACTED:token] and:u/[REDACTED:password]@h" },
		/* a shape is judged on the value as first read */
		{ "KEYtab:oooooooooooooooUUUUsssssssssssspassword=IF",
		  "KEYtab:oooooooooooooooUUUUsssssssssssspassword=[REDACTED:password]" },
		/* a value a form ends (PEM, ODBC braces) takes what is glued */
		{ "k.secret.key=-----BEGIN X-----END Y-----BEGIN Z",
		  "k.secret.key=[REDACTED:private_key] Z" },
		{ "DSN=x;PWD={p}}w}q;UID=etl",
		  "DSN=x;PWD=[REDACTED:password];UID=etl" },
		/* an address ends where its domain does, not in a token */
		{ "to data-team+alerts@acme.co.xoxb-1111111111-2222222222-abcdefabcdef",
		  "to [REDACTED:email].[REDACTED:slack_token]" },
		{ "e@e.sk-AKIAILLLLLLLLLLLLLLL",
		  "e@e.sk-[REDACTED:aws_access_key_id]" },
		/* "key ='v w": the keyed form's, not a properties line */
		{ "aws.secret_access_key ='abc def",
		  "aws.secret_access_key ='[REDACTED:secret]" },
		{ "spark.ssl.keyPassword  :  s3cret",
		  "spark.ssl.keyPassword  :  [REDACTED:password]" },
		{ "fs.s3a.secret -x;password=-----BEGIN P@ss w;-----ENDq",
		  "fs.s3a.secret -x;password=[REDACTED:private_key]" },
		{ "--BEG-----.secret ://mb[RED\xdd" "ACTEDiCY ",
		  "--BEG-----.secret [REDACTED:secret][RED\xdd" "ACTEDiCY " },
		/* a properties line's key is scanned too (it went out whole) */
		{ "AIzaSyA-1234567890abcdefghijklmnopqrs.secret   hunter2",
		  "[REDACTED:google_api_key].secret   [REDACTED:secret]" },
		/* "-----END" is no part of an address after it */
		{ "-----BEGIN RSA PRIVATE KEY----- MII -----ENDetl@acme.iam.example.com\"}",
		  "-----BEGIN RSA PRIVATE KEY-----[REDACTED:private_key]-----END[REDACTED:email]\"}" },
		/* a PEM header's label is upper case, digits and blanks */
		{ "-----BEGIN OPENSSH PRIVATE KEY--sk-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7Mm6Ll5Kk4Jj3.x -----END",
		  "-----BEGIN OPENSSH PRIVATE KEY--[REDACTED:openai_key].x -----END" },
	};
	struct redactor *r = redactor_new();
	(void)s;

	assert_all_stable(r, pairs, ARRAY_SIZE(pairs));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_heldout),
		cmocka_unit_test(test_vendor_tokens),
		cmocka_unit_test(test_config_forms),
		cmocka_unit_test(test_connection_strings),
		cmocka_unit_test(test_pem_inline_keytab_ssn),
		cmocka_unit_test(test_pem_line_after_marker),
		cmocka_unit_test(test_marker_hides_nothing),
		cmocka_unit_test(test_redacting_again_changes_nothing),
		cmocka_unit_test(test_args_new_classes),
		cmocka_unit_test(test_split_keeps_secrets_whole),
		cmocka_unit_test(test_split_long_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
