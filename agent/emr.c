/* emr.c - EMR on EKS job runs (emr.h). The driver's logs: emr_logs.c. */
#include "emr.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "diagnose.h"
#include "json.h"
#include "util.h"

/* Every API the agent calls and the IAM action it needs. The BYOC-Lite
 * policy (deploy/aws/byoc-lite-iam.json) grants exactly those not marked
 * trust, the role's trust policy (customer-bootstrap-byoc-lite.yaml) the
 * others; t2400 compares (docs/iam.md says why each is needed). */
const struct emr_api emr_apis[] = {
	{ "StartJobRun", "emr-containers:StartJobRun" },
	{ "DescribeJobRun", "emr-containers:DescribeJobRun" },
	{ "CancelJobRun", "emr-containers:CancelJobRun" },
	{ "DescribeVirtualCluster", "emr-containers:DescribeVirtualCluster" },
	{ "ListObjectsV2", "s3:ListBucket" },
	{ "GetObject", "s3:GetObject" },
	/* StartJobRun hands the execution role to EMR */
	{ "StartJobRun (executionRoleArn)", "iam:PassRole" },
	{ "AssumeRoleWithWebIdentity", "sts:AssumeRoleWithWebIdentity", true },
};
const size_t emr_napis = ARRAY_SIZE(emr_apis);

void emr_init(struct emr *e, const struct emr_config *cfg,
	      struct aws_provider *p)
{
	e->cfg = *cfg;
	e->last_retryable = e->last_ambiguous = false;
	aws_client_init(&e->client, p, cfg->region);
}

static bool id_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

int emr_config_check(const struct emr_config *cfg, char *err, size_t errlen)
{
	if (!id_ok(cfg->virtual_cluster_id, 64)) {
		snprintf(err, errlen,
			 "virtual_cluster_id must be 1..64 of [A-Za-z0-9_-]");
		return -1;
	}
	if (strncmp(cfg->execution_role_arn, "arn:", 4) ||
	    !strstr(cfg->execution_role_arn, ":role/")) {
		snprintf(err, errlen,
			 "execution_role_arn must be an IAM role ARN "
			 "(arn:aws:iam::ACCOUNT:role/NAME)");
		return -1;
	}
	if (!cfg->release_label[0] || !cfg->region[0]) {
		snprintf(err, errlen, "release_label and region must be set");
		return -1;
	}
	if (!id_ok(cfg->region, 32)) {
		snprintf(err, errlen, "region '%s' is not a region name",
			 cfg->region);
		return -1;
	}
	if (cfg->log_uri[0] && (strncmp(cfg->log_uri, "s3://", 5) ||
				!cfg->log_uri[5] || cfg->log_uri[5] == '/')) {
		snprintf(err, errlen, "log_uri must be s3://BUCKET[/PREFIX]");
		return -1;
	}
	return 0;
}

/* ---- request building ---- */

void emr_client_token(const struct emr_job *job, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct strbuf in = STRBUF_INIT;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	/* NUL-separated: ("a", "bc") and ("ab", "c") differ */
	strbuf_addstr(&in, job->tenant ? job->tenant : "");
	strbuf_addch(&in, '\0');
	strbuf_addstr(&in, job->env ? job->env : "");
	strbuf_addch(&in, '\0');
	strbuf_addf(&in, "%llu", (unsigned long long)job->run);
	strbuf_addch(&in, '\0');
	strbuf_addf(&in, "%llu", (unsigned long long)job->attempt);
	EVP_Digest(in.buf, in.len, md, &mdlen, EVP_sha256(), NULL);
	strbuf_release(&in);
	hex_encode(md, 8, hex);
	snprintf(out, 65, "sp-%llu-%llu-%s", (unsigned long long)job->run,
		 (unsigned long long)job->attempt, hex);
}

/* spark-submit options that take a value. */
static bool takes_value(const char *opt)
{
	static const char *const opts[] = {
		"--master", "--deploy-mode", "--class", "--name", "--jars",
		"--packages", "--exclude-packages", "--repositories",
		"--py-files", "--files", "--archives", "--conf", "-c",
		"--properties-file", "--driver-memory", "--driver-java-options",
		"--driver-library-path", "--driver-class-path",
		"--executor-memory", "--proxy-user", "--driver-cores",
		"--total-executor-cores", "--executor-cores", "--num-executors",
		"--queue", "--principal", "--keytab",
	};
	return str_in(opt, opts, ARRAY_SIZE(opts));
}

/* Adds " word" to the parameters, double-quoted if it holds whitespace or
 * a quote (EMR splits sparkSubmitParameters like a shell would). */
static void add_word(struct strbuf *p, const char *w)
{
	if (p->len)
		strbuf_addch(p, ' ');
	if (!w[0] || strpbrk(w, " \t\n\"'\\")) {
		strbuf_addch(p, '"');
		for (; *w; w++) {
			if (*w == '"' || *w == '\\')
				strbuf_addch(p, '\\');
			strbuf_addch(p, *w);
		}
		strbuf_addch(p, '"');
	} else {
		strbuf_addstr(p, w);
	}
}

static void add_conf_u32(struct strbuf *p, const char *key, uint32_t v,
			 const char *unit)
{
	char buf[96];

	if (!v)
		return;
	snprintf(buf, sizeof(buf), "%s=%u%s", key, v, unit);
	add_word(p, "--conf");
	add_word(p, buf);
}

/* Splits argv into the spark-submit options (into params; --master and
 * --deploy-mode dropped: EMR on EKS sets them) and the application with
 * its arguments (*app: index of the application in argv). */
static int split_argv(const struct emr_job *job, struct strbuf *params,
		      size_t *app, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < job->argc; i++) {
		const char *a = job->argv[i];
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "--properties-file")) {
			snprintf(err, errlen,
				 "--properties-file cannot be used with "
				 "emr-eks (the file is not on the cluster): "
				 "give the properties as --conf");
			return -1;
		}
		if (!takes_value(a)) {
			if (strcmp(a, "--verbose") && strcmp(a, "-v") &&
			    strcmp(a, "--supervise")) {
				snprintf(err, errlen,
					 "unknown spark-submit option '%.60s'",
					 a);
				return -1;
			}
			add_word(params, a);
			continue;
		}
		if (i + 1 >= job->argc) {
			snprintf(err, errlen, "spark-submit option %s lacks "
				 "its value", a);
			return -1;
		}
		if (strcmp(a, "--master") && strcmp(a, "--deploy-mode")) {
			add_word(params, a);
			add_word(params, job->argv[i + 1]);
		}
		i++;
	}
	if (i >= job->argc) {
		snprintf(err, errlen,
			 "no application (jar or Python file) in the "
			 "spark-submit arguments");
		return -1;
	}
	*app = i;
	return 0;
}

/* EMR's job name pattern is [.\-_/#A-Za-z0-9]+, 1..64. */
static void job_name(const struct emr_job *job, char *out, size_t len)
{
	size_t n = 0;

	if (!job->name || !job->name[0]) {
		snprintf(out, len, "sparkpilot-%llu",
			 (unsigned long long)job->run);
		return;
	}
	for (const char *s = job->name; *s && n + 1 < len && n < 64; s++)
		out[n++] = isalnum((unsigned char)*s) || strchr(".-_/#", *s)
				   ? *s
				   : '_';
	out[n] = '\0';
}

static void monitoring(struct jw *w, const struct emr_config *cfg,
		       const struct emr_job *job)
{
	char prefix[160];

	if (!cfg->log_uri[0] && !cfg->log_group[0])
		return;
	jw_obj_open(w, "configurationOverrides");
	jw_obj_open(w, "monitoringConfiguration");
	if (cfg->log_uri[0]) {
		jw_obj_open(w, "s3MonitoringConfiguration");
		jw_str(w, "logUri", cfg->log_uri);
		jw_obj_close(w);
	}
	if (cfg->log_group[0]) {
		snprintf(prefix, sizeof(prefix), "sparkpilot/%s/%s",
			 job->tenant ? job->tenant : "", job->env ? job->env : "");
		jw_obj_open(w, "cloudWatchMonitoringConfiguration");
		jw_str(w, "logGroupName", cfg->log_group);
		jw_str(w, "logStreamNamePrefix", prefix);
		jw_obj_close(w);
	}
	jw_obj_close(w);
	jw_obj_close(w);
}

int emr_build_start(const struct emr_config *cfg, const struct emr_job *job,
		    struct strbuf *json, char *err, size_t errlen)
{
	struct strbuf params = STRBUF_INIT;
	char token[65], name[80], run[32];
	size_t app;
	struct jw w;

	if (split_argv(job, &params, &app, err, errlen)) {
		strbuf_release(&params);
		return -1;
	}
	add_conf_u32(&params, "spark.driver.cores", job->driver_cores, "");
	add_conf_u32(&params, "spark.driver.memory", job->driver_memory_mb,
		     "m");
	add_conf_u32(&params, "spark.executor.cores", job->executor_cores, "");
	add_conf_u32(&params, "spark.executor.memory", job->executor_memory_mb,
		     "m");
	add_conf_u32(&params, "spark.executor.instances", job->executors, "");
	emr_client_token(job, token);
	job_name(job, name, sizeof(name));
	snprintf(run, sizeof(run), "%llu", (unsigned long long)job->run);
	jw_init(&w, json);
	jw_obj_open(&w, NULL);
	jw_str(&w, "name", name);
	jw_str(&w, "virtualClusterId", cfg->virtual_cluster_id);
	jw_str(&w, "clientToken", token);
	jw_str(&w, "executionRoleArn", cfg->execution_role_arn);
	jw_str(&w, "releaseLabel", cfg->release_label);
	jw_obj_open(&w, "jobDriver");
	jw_obj_open(&w, "sparkSubmitJobDriver");
	jw_str(&w, "entryPoint", job->argv[app]);
	jw_arr_open(&w, "entryPointArguments");
	for (size_t i = app + 1; i < job->argc; i++)
		jw_str(&w, NULL, job->argv[i]);
	jw_arr_close(&w);
	if (params.len)
		jw_str(&w, "sparkSubmitParameters", params.buf);
	jw_obj_close(&w);
	jw_obj_close(&w);
	monitoring(&w, cfg, job);
	jw_obj_open(&w, "tags");
	jw_str(&w, "sparkpilot:tenant", job->tenant ? job->tenant : "");
	jw_str(&w, "sparkpilot:env", job->env ? job->env : "");
	jw_str(&w, "sparkpilot:run", run);
	jw_obj_close(&w);
	jw_obj_close(&w);
	strbuf_release(&params);
	return 0;
}

/* ---- states ---- */

static const char *const state_names[] = {
	[EMR_UNKNOWN] = "UNKNOWN",
	[EMR_PENDING] = "PENDING",
	[EMR_SUBMITTED] = "SUBMITTED",
	[EMR_RUNNING] = "RUNNING",
	[EMR_CANCEL_PENDING] = "CANCEL_PENDING",
	[EMR_COMPLETED] = "COMPLETED",
	[EMR_FAILED] = "FAILED",
	[EMR_CANCELLED] = "CANCELLED",
};

enum emr_state emr_state_parse(const char *s)
{
	for (size_t i = 1; s && i < ARRAY_SIZE(state_names); i++)
		if (!strcmp(s, state_names[i]))
			return (enum emr_state)i;
	return EMR_UNKNOWN;
}

const char *emr_state_name(enum emr_state s)
{
	return (size_t)s < ARRAY_SIZE(state_names) ? state_names[s]
						   : "UNKNOWN";
}

bool emr_state_terminal(enum emr_state s)
{
	return s == EMR_COMPLETED || s == EMR_FAILED || s == EMR_CANCELLED;
}

static void copy_clean(char *out, size_t outlen, const char *s)
{
	size_t n = 0;

	for (; s && *s && n + 1 < outlen; s++)
		out[n++] = (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f
				   ? *s
				   : ' ';
	out[n] = '\0';
}

int emr_parse_describe(const char *body, size_t len, struct emr_status *st,
		       char *err, size_t errlen)
{
	char why[128];
	struct json *j = json_parse(body, len, why, sizeof(why));
	const struct json *run = j ? json_get(j, "jobRun") : NULL;
	const char *state;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (!run || run->type != JSON_OBJECT) {
		snprintf(err, errlen, "DescribeJobRun: answer has no jobRun "
			 "object");
		goto out;
	}
	state = json_get_str(run, "state");
	if (!state) {
		snprintf(err, errlen, "DescribeJobRun: jobRun has no state");
		goto out;
	}
	st->state = emr_state_parse(state);
	copy_clean(st->state_name, sizeof(st->state_name), state);
	copy_clean(st->state_details, sizeof(st->state_details),
		   json_get_str(run, "stateDetails"));
	copy_clean(st->failure_reason, sizeof(st->failure_reason),
		   json_get_str(run, "failureReason"));
	rc = 0;
out:
	json_free(j);
	return rc;
}

const char *emr_failure_category(const struct emr_status *st)
{
	/* the EKS cluster or its namespace could not take the job: capacity
	 * or quota, which a later attempt may find */
	if (!strcmp(st->failure_reason, "CLUSTER_UNAVAILABLE"))
		return "no_resources";
	return "unknown";
}

void emr_classify(const struct emr_status *st, struct diagnoser *d)
{
	const char *cat = emr_failure_category(st);
	char line[DIAGNOSE_LINE_MAX];

	for (int c = 1; c < DIAGNOSE_NCATEGORIES; c++) {
		if (strcmp(diagnose_category_name(c), cat))
			continue;
		snprintf(line, sizeof(line), "emr-containers: %s (%s): %s",
			 st->state_name, st->failure_reason,
			 st->state_details);
		diagnose_fallback(d, (enum diagnose_category)c, line);
	}
}

/* ---- calls ---- */

static void base_url(const struct emr *e, struct strbuf *url)
{
	size_t n;

	if (e->cfg.endpoint[0]) {
		n = strlen(e->cfg.endpoint);
		while (n && e->cfg.endpoint[n - 1] == '/')
			n--;
		strbuf_add(url, e->cfg.endpoint, n);
	} else {
		strbuf_addf(url, "https://emr-containers.%s.amazonaws.com",
			    e->cfg.region);
	}
	strbuf_addstr(url, "/virtualclusters/");
	aws_uri_encode(url, e->cfg.virtual_cluster_id, false);
}

static int call(struct emr *e, const char *api, const char *method,
		const char *id, const char *body, struct aws_resp *resp,
		char *err, size_t errlen)
{
	struct strbuf url = STRBUF_INIT;
	char why[400];
	int rc;

	base_url(e, &url);
	if (strcmp(api, "DescribeVirtualCluster")) {
		strbuf_addstr(&url, "/jobruns");
		if (id) {
			strbuf_addch(&url, '/');
			aws_uri_encode(&url, id, false);
		}
	}
	rc = aws_call(&e->client, "emr-containers", method, url.buf, body, resp,
		      why, sizeof(why));
	/* status -1: no credentials, nothing sent (aws_call) */
	e->last_retryable = rc && (resp->status == 0 ||
				   aws_error_retryable(resp->status,
						       resp->error_type));
	e->last_ambiguous = rc && (resp->status == 0 || resp->status >= 500);
	if (rc)
		snprintf(err, errlen, "emr-containers %s: %s", api, why);
	strbuf_release(&url);
	return rc;
}

int emr_start(struct emr *e, const struct emr_job *job, char *id,
	      size_t idlen, char *err, size_t errlen)
{
	struct strbuf body = STRBUF_INIT;
	struct aws_resp resp;
	struct json *j = NULL;
	const char *got;
	char why[128];
	int rc = -1;

	aws_resp_init(&resp);
	if (emr_build_start(&e->cfg, job, &body, err, errlen))
		goto out;
	if (call(e, "StartJobRun", "POST", NULL, body.buf, &resp, err, errlen))
		goto out;
	j = json_parse(resp.body.buf, resp.body.len, why, sizeof(why));
	got = j ? json_get_str(j, "id") : NULL;
	if (!got || !id_ok(got, 64) || strlen(got) >= idlen) {
		snprintf(err, errlen,
			 "emr-containers StartJobRun: answer has no valid id");
		goto out;
	}
	memcpy(id, got, strlen(got) + 1);
	rc = 0;
out:
	json_free(j);
	strbuf_release(&body);
	aws_resp_release(&resp);
	return rc;
}

int emr_describe(struct emr *e, const char *id, struct emr_status *st,
		 char *err, size_t errlen)
{
	struct aws_resp resp;
	int rc = -1;

	aws_resp_init(&resp);
	if (!id_ok(id, 64))
		snprintf(err, errlen, "bad job run id");
	else if (!call(e, "DescribeJobRun", "GET", id, NULL, &resp, err,
		       errlen))
		rc = emr_parse_describe(resp.body.buf, resp.body.len, st, err,
					errlen);
	aws_resp_release(&resp);
	return rc;
}

int emr_cancel(struct emr *e, const char *id, char *err, size_t errlen)
{
	struct aws_resp resp;
	int rc = -1;

	aws_resp_init(&resp);
	if (!id_ok(id, 64))
		snprintf(err, errlen, "bad job run id");
	else
		rc = call(e, "CancelJobRun", "DELETE", id, NULL, &resp, err,
			  errlen);
	aws_resp_release(&resp);
	return rc;
}

int emr_check_cluster(struct emr *e, char *err, size_t errlen)
{
	struct aws_resp resp;
	struct json *j = NULL;
	const char *state = NULL;
	char why[128];
	int rc = -1;

	aws_resp_init(&resp);
	if (call(e, "DescribeVirtualCluster", "GET", NULL, NULL, &resp, err,
		 errlen))
		goto out;
	j = json_parse(resp.body.buf, resp.body.len, why, sizeof(why));
	if (j)
		state = json_get_str(json_get(j, "virtualCluster"), "state");
	if (!state) {
		snprintf(err, errlen, "DescribeVirtualCluster: answer has no "
			 "virtualCluster.state");
		goto out;
	}
	if (strcmp(state, "RUNNING")) {
		e->last_retryable = false;
		copy_clean(why, sizeof(why), state);
		snprintf(err, errlen, "virtual cluster %s is %s, not RUNNING",
			 e->cfg.virtual_cluster_id, why);
		goto out;
	}
	rc = 0;
out:
	json_free(j);
	aws_resp_release(&resp);
	return rc;
}
