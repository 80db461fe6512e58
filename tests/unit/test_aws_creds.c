/* test_aws_creds.c - the AWS credential chain (agent/aws_creds.h) with an
 * injected environment, clock and HTTP: the order (environment, web
 * identity, credentials file, config file, IMDS), profiles ([x] in the
 * credentials file, [profile x] in the config file), a named profile that
 * is missing, the cache and its refresh 5 minutes before expiry (a failed
 * refresh keeps still-valid credentials), and the parsers of the INI
 * files, STS's XML and IMDS's JSON. No secret appears in an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws_creds.h"
#include "aws_http.h"
#include "util.h"

/* ---- the injected world ---- */
static const char *fake_env[32][2];
static int64_t fake_now;
static int sts_calls, imds_calls;
static bool sts_fail;
static char tmpdir[64];

static const char *get(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(fake_env) && fake_env[i][0]; i++)
		if (!strcmp(fake_env[i][0], name))
			return fake_env[i][1];
	return NULL;
}

static void setenv_fake(const char *k, const char *v)
{
	size_t i;
	for (i = 0; fake_env[i][0] && strcmp(fake_env[i][0], k); i++)
		;
	fake_env[i][0] = k;
	fake_env[i][1] = v;
}

static int64_t now(void)
{
	return fake_now;
}

/* 2026-12-05T00:00:00Z; the fake STS's Nth credentials expire at N:00 */
#define T0 1796428800000LL

static void answer(struct aws_resp *r, long status, const char *body)
{
	r->status = status;
	strbuf_reset(&r->body);
	strbuf_addstr(&r->body, body);
}

static int http(const struct aws_req *req, struct aws_resp *resp, char *err,
		size_t errlen)
{
	char buf[1024];

	(void)err;
	(void)errlen;
	if (strstr(req->url, "sts")) {
		sts_calls++;
		assert_string_equal(req->method, "POST");
		assert_non_null(strstr(req->body, "Action=AssumeRoleWithWebIdentity"));
		assert_non_null(strstr(req->body, "WebIdentityToken=tok%2Bx"));
		assert_null(req->service); /* unsigned */
		if (sts_fail) {
			answer(resp, 400, "<ErrorResponse><Error><Type>Sender</Type>"
			       "<Code>InvalidIdentityToken</Code><Message>bad"
			       "</Message></Error></ErrorResponse>");
			return 0;
		}
		snprintf(buf, sizeof(buf),
			 "<AssumeRoleWithWebIdentityResponse><Result><Credentials>"
			 "<SessionToken>TOKEN%d</SessionToken><SecretAccessKey>"
			 "SECRET%d</SecretAccessKey><Expiration>2026-12-05T%02d:00:00Z"
			 "</Expiration><AccessKeyId>ASIA%d</AccessKeyId>"
			 "</Credentials></Result></AssumeRoleWithWebIdentityResponse>",
			 sts_calls, sts_calls, sts_calls, sts_calls);
		answer(resp, 200, buf);
		return 0;
	}
	imds_calls++;
	if (!strcmp(req->method, "PUT")) {
		assert_non_null(req->headers);
		assert_string_equal(req->headers[0],
				    "X-aws-ec2-metadata-token-ttl-seconds: 21600");
		answer(resp, 200, "imdstoken");
	} else if (strstr(req->url, "security-credentials/role1")) {
		assert_string_equal(req->headers[0],
				    "X-aws-ec2-metadata-token: imdstoken");
		answer(resp, 200, "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAIMDS\","
		       "\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":"
		       "\"2026-12-05T06:00:00Z\"}");
	} else if (strstr(req->url, "security-credentials/")) {
		answer(resp, 200, "role1\n");
	} else {
		answer(resp, 404, "");
	}
	return 0;
}

static void provider(struct aws_provider *p)
{
	aws_provider_init(p);
	p->getenv = get;
	p->now_ms = now;
	p->http = http;
	snprintf(p->sts_endpoint, sizeof(p->sts_endpoint), "http://sts.test");
	snprintf(p->imds_endpoint, sizeof(p->imds_endpoint), "http://imds.test");
}

static int setup(void **state)
{
	(void)state;
	memset(fake_env, 0, sizeof(fake_env));
	fake_now = T0;
	sts_calls = imds_calls = 0;
	sts_fail = false;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sp-awsc.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	setenv_fake("HOME", tmpdir); /* no ~/.aws of the host */
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static const char *write_tmp(const char *name, const char *text)
{
	static char path[2][128];
	static int k;
	char *p = path[k++ % 2];
	snprintf(p, 128, "%s/%s", tmpdir, name);
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0600), 0);
	return p;
}

static void get_ok(struct aws_provider *p, struct aws_creds *c)
{
	char err[256] = "";
	int rc = aws_creds_get(p, c, err, sizeof(err));
	if (rc)
		fail_msg("aws_creds_get: %s", err);
}

/* ---- tests ---- */

static void test_order(void **state)
{
	struct aws_provider p;
	struct aws_creds c;
	(void)state;

	setenv_fake("AWS_SHARED_CREDENTIALS_FILE",
		    write_tmp("credentials", "[default]\naws_access_key_id = "
			      "AKFILE\naws_secret_access_key = SKFILE\n"));
	setenv_fake("AWS_WEB_IDENTITY_TOKEN_FILE", write_tmp("tok", "tok+x\n"));
	setenv_fake("AWS_ROLE_ARN", "arn:aws:iam::1:role/r");
	setenv_fake("AWS_ACCESS_KEY_ID", "AKENV");
	setenv_fake("AWS_SECRET_ACCESS_KEY", "SKENV");
	setenv_fake("AWS_SESSION_TOKEN", "TKENV");
	provider(&p);
	get_ok(&p, &c);
	assert_string_equal(c.source, "env");
	assert_string_equal(c.access_key, "AKENV");
	assert_string_equal(c.token, "TKENV");
	assert_int_equal(c.expires_ms, 0);
	aws_provider_release(&p);

	/* without the environment's keys: web identity beats the file */
	setenv_fake("AWS_ACCESS_KEY_ID", "");
	provider(&p);
	get_ok(&p, &c);
	assert_string_equal(c.source, "web-identity");
	assert_string_equal(c.access_key, "ASIA1");
	assert_string_equal(c.secret_key, "SECRET1");
	assert_string_equal(c.token, "TOKEN1");
	aws_provider_release(&p);

	/* then the credentials file */
	setenv_fake("AWS_ROLE_ARN", "");
	provider(&p);
	get_ok(&p, &c);
	assert_string_equal(c.source, "profile default");
	assert_string_equal(c.access_key, "AKFILE");
	assert_string_equal(c.token, "");
	aws_provider_release(&p);

	/* then IMDS */
	setenv_fake("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
	provider(&p);
	get_ok(&p, &c);
	assert_string_equal(c.source, "imds");
	assert_string_equal(c.access_key, "ASIAIMDS");
	assert_int_equal(imds_calls, 3);
	aws_provider_release(&p);
}

static void test_profiles(void **state)
{
	struct aws_provider p;
	struct aws_creds c;
	char err[256];
	(void)state;

	setenv_fake("AWS_SHARED_CREDENTIALS_FILE",
		    write_tmp("credentials", "# comment\n[default]\n"
			      "aws_access_key_id=AKD\naws_secret_access_key=SKD\n"
			      "[ prod ]\n  aws_access_key_id = AKP ; not a comment\n"));
	setenv_fake("AWS_CONFIG_FILE",
		    write_tmp("config", "[default]\nregion = us-east-1\n"
			      "[profile dev]\nregion = eu-west-1\ns3 =\n"
			      "  aws_access_key_id = NESTED\n"
			      "aws_access_key_id = AKDEV\n"
			      "aws_secret_access_key = SKDEV\n"
			      "aws_session_token = TKDEV\n"
			      "[dev]\naws_access_key_id = WRONG\n"));
	/* [profile dev] of the config file, not [dev], nor the nested key */
	setenv_fake("AWS_PROFILE", "dev");
	provider(&p);
	get_ok(&p, &c);
	assert_string_equal(c.source, "profile dev");
	assert_string_equal(c.access_key, "AKDEV");
	assert_string_equal(c.token, "TKDEV");
	aws_provider_release(&p);

	/* a credentials-file profile without its secret is an error */
	setenv_fake("AWS_PROFILE", "prod");
	provider(&p);
	assert_int_equal(aws_creds_get(&p, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'prod'"));
	assert_null(strstr(err, "AKP"));
	aws_provider_release(&p);

	/* a named profile nowhere: an error, not the instance's role */
	setenv_fake("AWS_PROFILE", "nope");
	provider(&p);
	assert_int_equal(aws_creds_get(&p, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "AWS_PROFILE 'nope'"));
	assert_int_equal(imds_calls, 0);
	aws_provider_release(&p);
}

static void test_refresh(void **state)
{
	struct aws_provider p;
	struct aws_creds c;
	char err[256];
	(void)state;

	setenv_fake("AWS_WEB_IDENTITY_TOKEN_FILE", write_tmp("tok", "tok+x"));
	setenv_fake("AWS_ROLE_ARN", "arn:aws:iam::1:role/r");
	provider(&p);
	get_ok(&p, &c);
	assert_int_equal(sts_calls, 1);
	assert_int_equal(c.expires_ms, T0 + 3600 * 1000);
	/* cached until 5 minutes before 01:00 */
	fake_now = T0 + 55 * 60 * 1000 - 1;
	get_ok(&p, &c);
	assert_int_equal(sts_calls, 1);
	assert_string_equal(c.access_key, "ASIA1");
	fake_now = T0 + 55 * 60 * 1000;
	get_ok(&p, &c);
	assert_int_equal(sts_calls, 2);
	assert_string_equal(c.access_key, "ASIA2");
	assert_int_equal(p.fetches, 2);
	/* a failed refresh keeps credentials that still work ... */
	sts_fail = true;
	fake_now = T0 + 3600 * 1000 + 55 * 60 * 1000;
	get_ok(&p, &c);
	assert_string_equal(c.access_key, "ASIA2");
	/* ... but not expired ones */
	fake_now = T0 + 2 * 3600 * 1000;
	assert_int_equal(aws_creds_get(&p, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "InvalidIdentityToken: bad"));
	/* invalidate forces a new fetch */
	sts_fail = false;
	get_ok(&p, &c);
	aws_creds_invalidate(&p);
	get_ok(&p, &c);
	assert_int_equal(sts_calls, 6);
	aws_provider_release(&p);
}

static void test_parsers(void **state)
{
	struct aws_creds c;
	char out[64], err[128];
	int64_t ms;
	const char *ini = "[a]\nk = 1\n[b]\nk=2\n\t k = nested\n[a]\nk = 3\n";
	(void)state;

	assert_int_equal(aws_ini_get(ini, strlen(ini), "a", "k", out, 64), 0);
	assert_string_equal(out, "3"); /* the last occurrence wins */
	assert_int_equal(aws_ini_get(ini, strlen(ini), "b", "k", out, 64), 0);
	assert_string_equal(out, "2");
	assert_int_equal(aws_ini_get(ini, strlen(ini), "c", "k", out, 64), -1);
	assert_int_equal(aws_xml_text("<a>x&amp;y&lt;</a>", 18, "a", out, 64),
			 0);
	assert_string_equal(out, "x&y<");
	assert_int_equal(aws_xml_text("<a>xy", 5, "a", out, 64), -1);
	assert_int_equal(aws_parse_time("2026-12-05T00:00:00Z", &ms), 0);
	assert_int_equal(ms, T0);
	assert_int_equal(aws_parse_time("2026-12-05T00:00:00.123Z", &ms), 0);
	assert_int_equal(aws_parse_time("2026-12-05 00:00:00", &ms), -1);
	assert_int_equal(aws_parse_time("2026-13-05T00:00:00Z", &ms), -1);
	/* STS without Credentials, and IMDS with a failed Code */
	assert_int_equal(aws_sts_parse("<x/>", 4, &c, err, sizeof(err)), -1);
	assert_int_equal(aws_imds_parse("{\"Code\":\"Fail\"}", 15, &c, err,
					sizeof(err)), -1);
	assert_int_equal(aws_imds_parse("[]", 2, &c, err, sizeof(err)), -1);
}

static void test_error_format(void **state)
{
	char out[256];
	const char *j = "{\"message\":\"1 validation error\"}";
	(void)state;

	aws_error_format(400, "ValidationException:http://internal", j,
			 strlen(j), out, sizeof(out));
	assert_string_equal(out, "ValidationException: 1 validation error");
	j = "{\"__type\":\"com.amazon#ResourceNotFoundException\","
	    "\"Message\":\"no such\\njob\"}";
	aws_error_format(404, "", j, strlen(j), out, sizeof(out));
	assert_string_equal(out, "ResourceNotFoundException: no such job");
	aws_error_format(503, NULL, "", 0, out, sizeof(out));
	assert_string_equal(out, "HTTP 503 (HTTP 503)");
	j = "<Error><Code>SignatureDoesNotMatch</Code><Message>m</Message></Error>";
	aws_error_format(403, NULL, j, strlen(j), out, sizeof(out));
	assert_string_equal(out, "SignatureDoesNotMatch: m");
	assert_true(aws_error_retryable(429, ""));
	assert_true(aws_error_retryable(500, ""));
	assert_true(aws_error_retryable(400, "ThrottlingException"));
	assert_false(aws_error_retryable(400, "ValidationException"));
	assert_false(aws_error_retryable(403, "AccessDeniedException"));
	assert_true(aws_error_expired("ExpiredTokenException"));
	assert_false(aws_error_expired("InvalidSignatureException"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh, setup, teardown),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_error_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
