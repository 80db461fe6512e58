/* test_emr.c - EMR on EKS requests (agent/emr.h): StartJobRun's body from
 * a spark-submit argv and the job's resources, the clientToken's
 * stability, DescribeJobRun's states and failure reasons, the driver log
 * keys of a ListObjectsV2 answer, gunzip, and aws_call's retries against
 * an injected HTTP: throttling retried with back-off and the same body,
 * a validation error not retried, an expired token refreshed once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "aws_creds.h"
#include "aws_http.h"
#include "diagnose.h"
#include "emr.h"
#include "json.h"
#include "util.h"

static struct emr_config cfg(void)
{
	struct emr_config c;
	memset(&c, 0, sizeof(c));
	snprintf(c.virtual_cluster_id, sizeof(c.virtual_cluster_id), "vc123");
	snprintf(c.execution_role_arn, sizeof(c.execution_role_arn),
		 "arn:aws:iam::111122223333:role/job");
	snprintf(c.release_label, sizeof(c.release_label), "emr-6.15.0-latest");
	snprintf(c.region, sizeof(c.region), "us-east-1");
	snprintf(c.log_uri, sizeof(c.log_uri), "s3://logs/emr");
	snprintf(c.log_group, sizeof(c.log_group), "/sparkpilot/emr");
	return c;
}

static struct json *build(const char *const *argv, size_t argc,
			  struct strbuf *sb)
{
	struct emr_config c = cfg();
	struct emr_job job = { .run = 42, .attempt = 2, .tenant = "acme",
			       .env = "prod", .name = "nightly etl",
			       .argv = argv, .argc = argc,
			       .executor_memory_mb = 4096, .executors = 3 };
	char err[256];
	int rc = emr_build_start(&c, &job, sb, err, sizeof(err));
	if (rc)
		fail_msg("emr_build_start: %s", err);
	return json_parse(sb->buf, sb->len, err, sizeof(err));
}

static void test_build_start(void **state)
{
	const char *argv[] = { "--master", "yarn", "--deploy-mode", "cluster",
			       "--class", "org.Etl", "--conf",
			       "spark.driver.extraJavaOptions=-Da=1 -Db=\"2\"",
			       "--verbose", "s3://code/etl.jar", "2026-12-05",
			       "--full" };
	struct strbuf sb = STRBUF_INIT;
	struct json *j = build(argv, ARRAY_SIZE(argv), &sb);
	const struct json *drv, *args, *tags;
	(void)state;

	assert_non_null(j);
	assert_string_equal(json_get_str(j, "name"), "nightly_etl");
	assert_string_equal(json_get_str(j, "virtualClusterId"), "vc123");
	assert_string_equal(json_get_str(j, "releaseLabel"),
			    "emr-6.15.0-latest");
	assert_string_equal(json_get_str(j, "executionRoleArn"),
			    "arn:aws:iam::111122223333:role/job");
	drv = json_get(json_get(j, "jobDriver"), "sparkSubmitJobDriver");
	assert_string_equal(json_get_str(drv, "entryPoint"),
			    "s3://code/etl.jar");
	args = json_get(drv, "entryPointArguments");
	assert_int_equal(args->n, 2);
	assert_string_equal(args->items[0]->str, "2026-12-05");
	/* an application's own "--full" stays its argument */
	assert_string_equal(args->items[1]->str, "--full");
	/* --master and --deploy-mode dropped (EMR sets them), a value with
	 * spaces quoted, resources as confs */
	assert_string_equal(json_get_str(drv, "sparkSubmitParameters"),
			    "--class org.Etl --conf \"spark.driver.extraJavaOptions"
			    "=-Da=1 -Db=\\\"2\\\"\" --verbose --conf "
			    "spark.executor.memory=4096m --conf "
			    "spark.executor.instances=3");
	assert_string_equal(
		json_get_str(json_get(json_get(json_get(j, "configurationOverrides"),
						    "monitoringConfiguration"),
				       "s3MonitoringConfiguration"),
			     "logUri"),
		"s3://logs/emr");
	/* and CloudWatch, streams named by tenant and environment */
	assert_string_equal(
		json_get_str(json_get(json_get(json_get(j, "configurationOverrides"),
						    "monitoringConfiguration"),
				       "cloudWatchMonitoringConfiguration"),
			     "logGroupName"),
		"/sparkpilot/emr");
	tags = json_get(j, "tags");
	assert_string_equal(json_get_str(tags, "sparkpilot:tenant"), "acme");
	assert_string_equal(json_get_str(tags, "sparkpilot:env"), "prod");
	assert_string_equal(json_get_str(tags, "sparkpilot:run"), "42");
	assert_string_equal(json_get_str(j, "clientToken"),
			    json_get_str(j, "clientToken"));
	json_free(j);
	strbuf_release(&sb);
}

static void test_build_refused(void **state)
{
	struct emr_config c = cfg();
	const char *no_app[] = { "--class", "X" };
	const char *props[] = { "--properties-file", "p", "a.jar" };
	const char *dangling[] = { "--conf" };
	const char *unknown[] = { "--bogus", "a.jar" };
	struct { const char *const *argv; size_t n; const char *want; } t[] = {
		{ no_app, 2, "no application" },
		{ props, 3, "--properties-file" },
		{ dangling, 1, "lacks its value" },
		{ unknown, 2, "unknown spark-submit option '--bogus'" },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct emr_job job = { .run = 1, .argv = t[i].argv,
				       .argc = t[i].n };
		struct strbuf sb = STRBUF_INIT;
		char err[256] = "";
		assert_int_equal(emr_build_start(&c, &job, &sb, err,
						 sizeof(err)), -1);
		assert_non_null(strstr(err, t[i].want));
		strbuf_release(&sb);
	}
	assert_int_equal(emr_config_check(&c, (char[64]){0}, 64), 0);
	snprintf(c.log_uri, sizeof(c.log_uri), "https://x");
	assert_int_equal(emr_config_check(&c, (char[64]){0}, 64), -1);
}

static void test_client_token(void **state)
{
	struct emr_job a = { .run = 7, .attempt = 1, .tenant = "acme",
			     .env = "prod" };
	struct emr_job b = a;
	char ta[65], tb[65];
	(void)state;

	emr_client_token(&a, ta);
	emr_client_token(&b, tb);
	assert_string_equal(ta, tb); /* stable: a retry starts no 2nd job */
	assert_true(strlen(ta) <= 64 && !strncmp(ta, "sp-7-1-", 7));
	b.attempt = 2; /* the next attempt is a new job */
	emr_client_token(&b, tb);
	assert_string_not_equal(ta, tb);
	b = a;
	b.env = "dev"; /* another environment's run 7 */
	emr_client_token(&b, tb);
	assert_string_not_equal(ta, tb);
	a.run = UINT64_MAX;
	a.attempt = UINT64_MAX;
	emr_client_token(&a, ta);
	assert_true(strlen(ta) <= 64);
}

static void test_states(void **state)
{
	static const char *const names[] = { "PENDING", "SUBMITTED", "RUNNING",
					     "CANCEL_PENDING", "COMPLETED",
					     "FAILED", "CANCELLED" };
	struct emr_status st;
	char err[128];
	const char *body = "{\"jobRun\":{\"id\":\"j\",\"state\":\"FAILED\","
			   "\"stateDetails\":\"Cluster\\nunreachable\","
			   "\"failureReason\":\"CLUSTER_UNAVAILABLE\"}}";
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		enum emr_state s = emr_state_parse(names[i]);
		assert_int_not_equal(s, EMR_UNKNOWN);
		assert_string_equal(emr_state_name(s), names[i]);
		assert_int_equal(emr_state_terminal(s),
				 !strcmp(names[i], "COMPLETED") ||
					 !strcmp(names[i], "FAILED") ||
					 !strcmp(names[i], "CANCELLED"));
	}
	assert_int_equal(emr_state_parse("RUNNING!"), EMR_UNKNOWN);
	assert_int_equal(emr_parse_describe(body, strlen(body), &st, err,
					    sizeof(err)), 0);
	assert_int_equal(st.state, EMR_FAILED);
	assert_string_equal(st.state_details, "Cluster unreachable");
	assert_string_equal(emr_failure_category(&st), "no_resources");
	{
		struct diagnoser *d = diagnoser_new();
		const char *oom = "Caused by: java.lang.OutOfMemoryError: "
				  "Java heap space";
		emr_classify(&st, d);
		assert_string_equal(diagnose_result(d)->category,
				    "no_resources");
		assert_string_equal(diagnose_result(d)->line,
				    "emr-containers: FAILED "
				    "(CLUSTER_UNAVAILABLE): Cluster unreachable");
		/* the log decides first */
		diagnose_line(d, oom, strlen(oom));
		assert_string_equal(diagnose_result(d)->category,
				    "executor_oom");
		diagnoser_reset(d);
		assert_string_equal(diagnose_result(d)->category, "unknown");
		diagnoser_free(d);
	}
	snprintf(st.failure_reason, sizeof(st.failure_reason), "USER_ERROR");
	assert_string_equal(emr_failure_category(&st), "unknown");
	assert_int_equal(emr_parse_describe("{}", 2, &st, err, sizeof(err)),
			 -1);
	assert_int_equal(emr_parse_describe("{\"jobRun\":{}}", 13, &st, err,
					    sizeof(err)), -1);
}

static void test_logs(void **state)
{
	const char *xml = "<ListBucketResult><Contents><Key>p/vc/jobs/j/"
			  "containers/spark-a/spark-a-driver/stderr.gz</Key>"
			  "</Contents><Contents><Key>p/vc/jobs/j/containers/"
			  "spark-a/j-runner/stderr.gz</Key></Contents><Contents>"
			  "<Key>p/vc/jobs/j/containers/spark-a/spark-a-driver/"
			  "stdout.gz</Key></Contents></ListBucketResult>";
	char keys[4][1024], gz[256], err[128];
	uLongf gzlen = sizeof(gz);
	struct strbuf out = STRBUF_INIT;
	(void)state;

	assert_int_equal(emr_driver_keys(xml, strlen(xml), keys, 4), 2);
	assert_non_null(strstr(keys[0], "driver/stderr.gz"));
	assert_non_null(strstr(keys[1], "driver/stdout.gz"));
	assert_int_equal(compress((Bytef *)gz, &gzlen,
				  (const Bytef *)"line1\nline2\n", 12), Z_OK);
	assert_int_equal(emr_gunzip(gz, gzlen, 100, &out, err, sizeof(err)),
			 0);
	assert_string_equal(out.buf, "line1\nline2\n");
	strbuf_reset(&out);
	assert_int_equal(emr_gunzip(gz, gzlen, 5, &out, err, sizeof(err)), -1);
	strbuf_reset(&out);
	assert_int_equal(emr_gunzip(gz, gzlen - 3, 100, &out, err,
				    sizeof(err)), -1);
	strbuf_release(&out);
}

/* ---- aws_call against an injected HTTP ---- */
static int calls, throttle_n, expire_n;
static char first_body[4096];
static int64_t slept;

static int http(const struct aws_req *req, struct aws_resp *resp, char *err,
		size_t errlen)
{
	(void)err;
	(void)errlen;
	assert_string_equal(req->service, "emr-containers");
	assert_non_null(req->creds);
	if (calls++ == 0)
		snprintf(first_body, sizeof(first_body), "%s", req->body);
	else
		assert_string_equal(first_body, req->body);
	strbuf_reset(&resp->body);
	resp->error_type[0] = '\0';
	if (throttle_n-- > 0) {
		resp->status = 429;
		snprintf(resp->error_type, sizeof(resp->error_type),
			 "ThrottlingException");
		strbuf_addstr(&resp->body, "{\"message\":\"Rate exceeded\"}");
	} else if (expire_n-- > 0) {
		resp->status = 403;
		snprintf(resp->error_type, sizeof(resp->error_type),
			 "ExpiredTokenException");
		strbuf_addstr(&resp->body, "{\"message\":\"expired\"}");
	} else if (strstr(req->body, "invalid")) {
		resp->status = 400;
		strbuf_addstr(&resp->body, "{\"__type\":\"ValidationException\","
			      "\"message\":\"bad\"}");
	} else {
		resp->status = 200;
		strbuf_addstr(&resp->body, "{\"id\":\"job1\"}");
	}
	return 0;
}

static void nosleep(int64_t ms)
{
	slept += ms;
}

static const char *env_keys(const char *n)
{
	if (!strcmp(n, "AWS_ACCESS_KEY_ID"))
		return "AK";
	if (!strcmp(n, "AWS_SECRET_ACCESS_KEY"))
		return "SK";
	return NULL;
}

static void test_retries(void **state)
{
	struct aws_provider p;
	struct aws_client c;
	struct aws_resp r;
	char err[256];
	(void)state;

	aws_provider_init(&p);
	p.getenv = env_keys;
	aws_client_init(&c, &p, "us-east-1");
	c.http = http;
	c.sleep_ms = nosleep;
	aws_resp_init(&r);
	calls = 0, throttle_n = 3, expire_n = 0;
	assert_int_equal(aws_call(&c, "emr-containers", "POST", "http://x",
				  "{\"a\":1}", &r, err, sizeof(err)), 0);
	assert_int_equal(calls, 4);
	assert_int_equal(c.retries, 3);
	assert_true(slept <= 200 + 400 + 800);
	/* throttled past max_attempts: the last error */
	calls = 0, throttle_n = 100;
	assert_int_equal(aws_call(&c, "emr-containers", "POST", "http://x",
				  "{\"a\":1}", &r, err, sizeof(err)), -1);
	assert_int_equal(calls, 6);
	assert_string_equal(err, "ThrottlingException: Rate exceeded");
	/* not retried */
	calls = 0, throttle_n = 0;
	assert_int_equal(aws_call(&c, "emr-containers", "POST", "http://x",
				  "{\"invalid\":1}", &r, err, sizeof(err)), -1);
	assert_int_equal(calls, 1);
	assert_string_equal(err, "ValidationException: bad");
	/* an expired token: dropped and retried once */
	calls = 0, expire_n = 1;
	assert_int_equal(aws_call(&c, "emr-containers", "POST", "http://x",
				  "{\"a\":1}", &r, err, sizeof(err)), 0);
	assert_int_equal(calls, 2);
	calls = 0, expire_n = 5;
	assert_int_equal(aws_call(&c, "emr-containers", "POST", "http://x",
				  "{\"a\":1}", &r, err, sizeof(err)), -1);
	assert_int_equal(calls, 2);
	assert_string_equal(err, "ExpiredTokenException: expired");
	aws_resp_release(&r);
	aws_provider_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_start),
		cmocka_unit_test(test_build_refused),
		cmocka_unit_test(test_client_token),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_logs),
		cmocka_unit_test(test_retries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
