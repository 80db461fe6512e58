/*
 * emr.h - Amazon EMR on EKS (service emr-containers, REST-JSON, SigV4):
 * StartJobRun, DescribeJobRun, CancelJobRun, DescribeVirtualCluster, and
 * the driver's logs from the S3 monitoring prefix. The agent's emr-eks
 * backend (backend_emr.c) is a thin adapter over this API; the test tool
 * sp-emr-drive drives it directly against the fakes.
 *
 * Idempotence: StartJobRun carries a clientToken derived from the run,
 * its attempt, tenant and environment only, so a request retried after a
 * throttle or a lost answer starts no second job (EMR returns the first
 * one's id for the same token and parameters).
 *
 * Every call blocks (retries with back-off included): call from a worker
 * thread. Nothing here logs.
 */
#ifndef SP_EMR_H
#define SP_EMR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws_creds.h"
#include "aws_http.h"
#include "strbuf.h"

/* An environment's EMR settings (env add --backend emr-eks). */
struct emr_config {
	char virtual_cluster_id[128];
	char execution_role_arn[256];
	char release_label[64];	   /* e.g. emr-6.15.0-latest */
	char region[64];
	char log_uri[512];	   /* s3://BUCKET/PREFIX, "" = none */
	char log_group[256];	   /* CloudWatch log group, "" = none */
	char endpoint[512];	   /* "" = https://emr-containers.REGION... */
	char s3_endpoint[512];	   /* "" = https://BUCKET.s3.REGION...;
				      set: path style ENDPOINT/BUCKET/KEY */
};

/* One run to start. argv is the job's spark-submit arguments (without the
 * program): options, then the application, then its arguments. */
struct emr_job {
	uint64_t run;
	uint64_t attempt;
	const char *tenant;
	const char *env;
	const char *name;	/* job name, "" = sparkpilot-RUN */
	const char *const *argv;
	size_t argc;
	/* resources, 0 = not set (spark's and EMR's defaults) */
	uint32_t driver_cores, driver_memory_mb;
	uint32_t executor_cores, executor_memory_mb, executors;
};

enum emr_state {
	EMR_UNKNOWN,
	EMR_PENDING,
	EMR_SUBMITTED,
	EMR_RUNNING,
	EMR_CANCEL_PENDING,
	EMR_COMPLETED,
	EMR_FAILED,
	EMR_CANCELLED,
};

struct emr_status {
	enum emr_state state;
	char state_name[32];	  /* as EMR wrote it */
	char state_details[300];  /* printable, one line */
	char failure_reason[32];  /* INTERNAL_ERROR, USER_ERROR, ... or "" */
};

/* One IAM action per API the code can call, for the policy check
 * (tests/integration/t2400: the BYOC-Lite policy grants exactly these). */
struct emr_api {
	const char *api;	/* "StartJobRun" */
	const char *iam_action; /* "emr-containers:StartJobRun" */
	/* granted by the role's trust policy, not its permissions policy
	 * (AssumeRoleWithWebIdentity is unsigned: no identity to grant) */
	bool trust;
};
extern const struct emr_api emr_apis[];
extern const size_t emr_napis;

struct emr {
	struct emr_config cfg;
	struct aws_client client;
	/* after a failed call: whether trying again may help (throttling,
	 * 5xx, a transport error), for callers that retry on their own */
	bool last_retryable;
	/* ... and whether the service may have acted on it all the same
	 * (an answer lost: 5xx or a transport error) */
	bool last_ambiguous;
};

/* e->cfg copied from cfg; p is borrowed (shared by all runs: one cache of
 * credentials). */
void emr_init(struct emr *e, const struct emr_config *cfg,
	      struct aws_provider *p);
/* The settings checked: ids and ARNs of the right shape, an s3:// log
 * URI. 0 / -1 with the reason. */
int emr_config_check(const struct emr_config *cfg, char *err, size_t errlen);

/* ---- pure (unit-tested, fuzzed) ---- */
/* "sp-RUN-ATTEMPT-" and 16 hex digits of SHA-256 over tenant, env, run,
 * attempt: 1..64 characters, stable for the same run attempt. */
void emr_client_token(const struct emr_job *job, char out[65]);
/* The StartJobRun body. -1 with the reason for an argv EMR cannot run
 * (no application, --properties-file, an option missing its value). */
int emr_build_start(const struct emr_config *cfg, const struct emr_job *job,
		    struct strbuf *json, char *err, size_t errlen);
/* A DescribeJobRun answer. 0 / -1 with the reason. */
int emr_parse_describe(const char *body, size_t len, struct emr_status *st,
		       char *err, size_t errlen);
enum emr_state emr_state_parse(const char *s);
const char *emr_state_name(enum emr_state s);
bool emr_state_terminal(enum emr_state s);
/* The diagnosis category for a failed run whose driver log decided
 * nothing ("unknown"): from failureReason (CLUSTER_UNAVAILABLE ->
 * no_resources; the others decide nothing: "unknown"). */
const char *emr_failure_category(const struct emr_status *st);
struct diagnoser;
/* Gives d what the final status says (diagnose_fallback): for a failure
 * whose failureReason maps to a category, that category with the line
 * "emr-containers: FAILED (REASON): stateDetails", used only if the
 * driver's log lines decide nothing. */
void emr_classify(const struct emr_status *st, struct diagnoser *d);

/* ---- calls ---- */
/* StartJobRun; the job run id into id. */
int emr_start(struct emr *e, const struct emr_job *job, char *id,
	      size_t idlen, char *err, size_t errlen);
int emr_describe(struct emr *e, const char *id, struct emr_status *st,
		 char *err, size_t errlen);
int emr_cancel(struct emr *e, const char *id, char *err, size_t errlen);
/* DescribeVirtualCluster: 0 if the cluster is RUNNING, else -1 with its
 * state or the error (preflight). */
int emr_check_cluster(struct emr *e, char *err, size_t errlen);

/* Each line of the driver's logs (stderr.gz, then stdout.gz, gunzipped)
 * under LOGURI/VC/jobs/ID/containers/APP/APP-driver/, stream 2 or 1.
 * Needs log_uri. 0 (also when no log is there yet: *found 0), or -1. */
typedef void (*emr_line_fn)(void *ctx, int stream, const char *line,
			    size_t len);
int emr_fetch_driver_logs(struct emr *e, const char *id, emr_line_fn fn,
			  void *ctx, int *found, char *err, size_t errlen);
/* The driver log keys in a ListObjectsV2 answer: those ending in
 * "-driver/stderr.gz" or "-driver/stdout.gz" (at most max). Pure. */
size_t emr_driver_keys(const char *xml, size_t len, char keys[][1024],
		       size_t max);
/* Gunzips in[0..len) (gzip or zlib), at most max bytes out. 0 / -1. */
int emr_gunzip(const char *in, size_t len, size_t max, struct strbuf *out,
	       char *err, size_t errlen);

#endif
