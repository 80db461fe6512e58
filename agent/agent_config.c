/* agent_config.c - the agent's settings table. */
#include "agent_config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "redact.h"
#include "settings.h"
#include "sparkrest.h"
#include "util.h"

#define A_STR(f, d) SETTING_STR(struct agent_config, f, d)
#define A_INT(f, lo, hi, d) SETTING_INT(struct agent_config, f, lo, hi, d)

/* Bytes of one rule line: the agent's work loop copies each rule into a
 * buffer of one more. */
#define RULE_MAX 319

/* A rule is compiled once here, within the bounds of common/redact_rules.h,
 * so a bad one (or one that would exhaust memory or backtrack without
 * end) stops the start with its line in the config file. */
static int check_redact_rule(const char *value, char *err, size_t errlen)
{
	struct redactor *r;
	int rc;

	if (strlen(value) > RULE_MAX) {
		snprintf(err, errlen, "redact rule longer than %d bytes",
			 RULE_MAX);
		return -1;
	}
	r = redactor_new();
	rc = redact_add_rule(r, value, err, errlen);
	redactor_free(r);
	return rc;
}

static const struct setting settings[] = {
	A_STR(scheduler,
	      "the scheduler's agent port: tcp://HOST:PORT, or "
	      "tls+tcp://HOST:PORT in production (tls+tcp4:// or "
	      "tls+tcp6:// dial only that address family)"),
	A_STR(state_dir,
	      "the agent's identity key, agent id, spool and run records"),
	A_STR(enroll_token,
	      "the one-time enrollment token (`spctl agent token`); prefer "
	      "`enroll_token_file`, which keeps it out of `ps`"),
	A_STR(enroll_token_file,
	      "a file holding the enrollment token (as the unit passes a "
	      "systemd credential)"),
	A_STR(spark_submit,
	      "the spark-submit to run (its preflight runs it with "
	      "--version)"),
	A_STR(tls_ca,
	      "PEM CA bundle that signs the scheduler's certificate "
	      "(tls+tcp://); a reload reads the TLS files again, changed or "
	      "not, for the next connection"),
	A_STR(tls_server_name,
	      "the name to check in the scheduler's certificate, if not "
	      "the host of `scheduler`"),
	A_STR(tls_cert,
	      "PEM client certificate, when the scheduler asks for one "
	      "(its `tls_ca`)"),
	A_STR(tls_key, "PEM private key of `tls_cert`"),
	A_STR(log_level, "`debug`, `info`, `warn` or `error`"),
	A_INT(slots, 1, 256, "runs the agent runs at once"),
	A_INT(heartbeat_ms, 100, 600000,
	      "between heartbeats while every slot is busy"),
	A_INT(idle_poll_ms, 200, 60000,
	      "how long an idle agent's request for work waits at the "
	      "scheduler for a run (long poll; the scheduler's "
	      "lease_wait_max_ms caps it)"),
	A_INT(kill_grace_ms, 0, 600000,
	      "a cancelled or timed-out spark-submit gets SIGTERM, then "
	      "SIGKILL after this"),
	A_INT(request_timeout_ms, 100, 600000,
	      "longest wait for the scheduler's answer before the request "
	      "is sent again"),
	A_INT(preflight_retry_ms, 100, 3600000,
	      "a failed preflight is run again after this"),
	A_INT(spool_max_mb, 1, 1 << 20,
	      "telemetry kept on disk while the scheduler cannot take it; "
	      "past it the oldest metrics, then logs, are dropped"),
	A_STR(spool_fsync,
	      "`interval` (synced every `spool_fsync_ms`), `always` (every "
	      "batch) or `never` (tests); completions are always synced"),
	A_INT(spool_fsync_ms, 10, 60000,
	      "the spool's sync period with `spool_fsync = interval`"),
	A_INT(key_rotate_days, 0, 3650,
	      "the agent makes a new identity key once `identity.key` is "
	      "this many days old (its modification time) and has the "
	      "scheduler take it, without enrolling again; 0 = never (an "
	      "operator can still ask: `spctl agent rotate`)"),
	A_STR(spark_rest_url,
	      "Spark's REST API (history server), asked for executor "
	      "times when a run ends, for metering"),
	A_INT(spark_rest_timeout_ms, 100, 60000,
	      "longest wait for `spark_rest_url`"),
	A_STR(yarn_path,
	      "the `yarn` command: `run cancel` of a YARN cluster-mode run "
	      "runs `yarn application -kill APP_ID`, and the driver log is "
	      "read with `yarn logs -applicationId APP_ID`"),
	A_STR(yarn_rm_url,
	      "the YARN ResourceManager's REST API (http://rm:8088): if "
	      "set, cancel sends `PUT /ws/v1/cluster/apps/ID/state` "
	      "`{\"state\":\"KILLED\"}` instead of running `yarn_path`"),
	A_STR(kubectl_path,
	      "the `kubectl` command, to read a Kubernetes cluster-mode "
	      "driver pod's log (`collect_driver_log`)"),
	A_INT(collect_driver_log, 0, 1,
	      "1: when a cluster-mode run ends, its driver log (`yarn logs`, "
	      "`kubectl logs`) is added to the run's logs, redacted"),
	A_INT(backend_timeout_ms, 100, 600000,
	      "longest wait for one backend call: a Livy or ResourceManager "
	      "request, a `yarn` or `kubectl` command"),
	A_STR(aws_sts_endpoint,
	      "emr-eks: the STS endpoint for web identity credentials "
	      "(IRSA); default https://sts.REGION.amazonaws.com"),
	A_STR(aws_imds_endpoint,
	      "emr-eks: the instance metadata service (IMDSv2), the last "
	      "source of credentials; default http://169.254.169.254"),
	A_STR(aws_emr_endpoint,
	      "emr-eks: the EMR on EKS API, when an environment sets no "
	      "`endpoint`; default https://emr-containers.REGION.amazonaws.com"),
	A_STR(aws_s3_endpoint,
	      "emr-eks: S3 for the driver's logs, addressed path-style "
	      "(ENDPOINT/BUCKET/KEY); default "
	      "https://BUCKET.s3.REGION.amazonaws.com"),
	SETTING_LIST(struct agent_config, redact_rules, "redact_rule",
		     check_redact_rule,
		     "an extra redaction rule, `NAME REGEX` (PCRE2); may be "
		     "repeated (at most 32); a reload applies the rules to "
		     "runs in progress too"),
};

void agent_config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->scheduler, sizeof(c->scheduler), "tcp://127.0.0.1:7450");
	snprintf(c->state_dir, sizeof(c->state_dir),
		 "/var/lib/sparkpilot-agent");
	snprintf(c->spark_submit, sizeof(c->spark_submit),
		 "/opt/spark/bin/spark-submit");
	snprintf(c->log_level, sizeof(c->log_level), "info");
	c->slots = 2;
	c->spark_rest_timeout_ms = 3000;
	snprintf(c->yarn_path, sizeof(c->yarn_path), "yarn");
	snprintf(c->kubectl_path, sizeof(c->kubectl_path), "kubectl");
	c->backend_timeout_ms = 10000;
	c->heartbeat_ms = 2000;
	c->idle_poll_ms = 25000;
	c->kill_grace_ms = 10000;
	c->request_timeout_ms = 10000;
	c->preflight_retry_ms = 30000;
	c->spool_max_mb = 256;
	snprintf(c->spool_fsync, sizeof(c->spool_fsync), "interval");
	c->spool_fsync_ms = 1000;
	c->key_rotate_days = 90;
}

int agent_config_set(struct agent_config *c, const char *key,
		     const char *value, char *err, size_t errlen)
{
	return settings_set(settings, ARRAY_SIZE(settings), c, key, value, err,
			    errlen);
}

int agent_config_load(struct agent_config *c, const char *path, char *err,
		      size_t errlen)
{
	return settings_load(settings, ARRAY_SIZE(settings), c, path, err,
			     errlen);
}

static const struct setting_flag flags[] = {
	{ "--scheduler", "scheduler" },
	{ "--state-dir", "state_dir" },
	{ "--enroll-token", "enroll_token" },
	{ "--enroll-token-file", "enroll_token_file" },
	{ "--spark-submit", "spark_submit" },
	{ "--spark-rest-url", "spark_rest_url" },
	{ "--slots", "slots" },
	{ "--log-level", "log_level" },
	{ "--tls-ca", "tls_ca" },
	{ "--tls-cert", "tls_cert" },
	{ "--tls-key", "tls_key" },
};

/* A reload applies at once the log level, the redaction rules (to runs in
 * progress too: a rule is added because a secret leaks now) and the TLS
 * files (read again on every reload, for the connections dialed from
 * then on); the rest waits for a restart. */
static bool live(const char *key)
{
	static const char *const keys[] = { "log_level", "redact_rule",
					     "tls_ca", "tls_server_name",
					     "tls_cert", "tls_key" };

	return str_in(key, keys, ARRAY_SIZE(keys));
}

void agent_config_describe(struct settings_doc *d)
{
	*d = (struct settings_doc){ "sparkpilot-agent",
				    "/etc/sparkpilot/agent.conf", settings,
				    ARRAY_SIZE(settings), flags,
				    ARRAY_SIZE(flags), live };
}

void agent_config_parse_args(struct agent_config *c, int argc, char **argv,
			     const char *usage)
{
	settings_parse_args(argc, argv, settings, ARRAY_SIZE(settings), c,
			    flags, ARRAY_SIZE(flags), "sparkpilot-agent", usage);
}

/* Lines of a list setting (each ends in a newline). */
static size_t count_lines(const char *list)
{
	size_t n = 0;

	for (; *list; list++)
		n += *list == '\n';
	return n;
}

/* The AWS endpoints are http(s) URLs without credentials or a query. */
static int check_aws_urls(const struct agent_config *c, char *err,
			  size_t errlen)
{
	const struct { const char *key, *url; } u[] = {
		{ "aws_sts_endpoint", c->aws_sts_endpoint },
		{ "aws_imds_endpoint", c->aws_imds_endpoint },
		{ "aws_emr_endpoint", c->aws_emr_endpoint },
		{ "aws_s3_endpoint", c->aws_s3_endpoint },
	};

	for (size_t i = 0; i < ARRAY_SIZE(u); i++) {
		if (!u[i].url[0])
			continue;
		if ((strncmp(u[i].url, "http://", 7) &&
		     strncmp(u[i].url, "https://", 8)) ||
		    strpbrk(u[i].url, "@?# ")) {
			snprintf(err, errlen,
				 "%s must be an http:// or https:// URL "
				 "without user, query or fragment",
				 u[i].key);
			return -1;
		}
	}
	return 0;
}

int agent_config_validate(const struct agent_config *c, char *err,
			  size_t errlen)
{
	int tls = url_scheme(c->scheduler, NULL);

	if (tls < 0) {
		snprintf(err, errlen,
			 "scheduler '%s' must be a tcp:// or tls+tcp:// URL "
			 "(or tcp4, tcp6, tls+tcp4, tls+tcp6)",
			 c->scheduler);
		return -1;
	}
	if (tls && !c->tls_ca[0]) {
		snprintf(err, errlen,
			 "scheduler '%s' needs tls_ca (the CA to pin)",
			 c->scheduler);
		return -1;
	}
	if (!c->state_dir[0] || !c->spark_submit[0]) {
		snprintf(err, errlen, "state_dir and spark_submit must be set");
		return -1;
	}
	if (c->spark_rest_url[0] && strncmp(c->spark_rest_url, "http://", 7) &&
	    strncmp(c->spark_rest_url, "https://", 8)) {
		/* not quoted: a URL may hold credentials */
		snprintf(err, errlen,
			 "spark_rest_url must be an http:// or https:// URL");
		return -1;
	}
	if (c->spark_rest_url[0] && !sparkrest_available(err, errlen))
		return -1;
	if (check_aws_urls(c, err, errlen))
		return -1;
	if (strcmp(c->spool_fsync, "always") &&
	    strcmp(c->spool_fsync, "interval") &&
	    strcmp(c->spool_fsync, "never")) {
		snprintf(err, errlen,
			 "spool_fsync '%s' must be always, interval or never",
			 c->spool_fsync);
		return -1;
	}
	/* each rule was checked alone as it was read; a redactor takes
	 * REDACT_MAX_RULES, and a reload must be refused as a whole */
	if (count_lines(c->redact_rules) > REDACT_MAX_RULES) {
		snprintf(err, errlen, "more than %d redact_rule lines",
			 REDACT_MAX_RULES);
		return -1;
	}
	if (c->enroll_token[0] && c->enroll_token_file[0]) {
		snprintf(err, errlen,
			 "give --enroll-token or --enroll-token-file, not both");
		return -1;
	}
	return 0;
}

int agent_config_reread(struct agent_config *c, int argc, char **argv,
			char *err, size_t errlen)
{
	bool print;

	agent_config_defaults(c);
	if (settings_read_args(argc, argv, settings, ARRAY_SIZE(settings), c,
			       flags, ARRAY_SIZE(flags), &print, err, errlen))
		return -1;
	return agent_config_validate(c, err, errlen);
}

