/*
 * backend_emr.c - the emr-eks backend (agent/backend.h) over agent/emr.h:
 * StartJobRun, DescribeJobRun with back-off, CancelJobRun, and at the end
 * the driver's logs from the S3 monitoring prefix into the redacting sink,
 * failureReason given to the classifier.
 *
 * The agent's loop must not block: each poll makes at most one call (one
 * attempt, bounded by backend_timeout_ms; the credentials' STS or IMDS
 * call by the same bound). Throttling, 5xx and transport errors are
 * retried on later polls with exponential back-off; StartJobRun is retried
 * with the same clientToken, so a retry never starts a second job.
 *
 * Settings (common/backend_keys.c): virtual_cluster_id, execution_role_arn,
 * release_label, region, log_uri, log_group, endpoint (else the agent's
 * aws_emr_endpoint, else the public one). Credentials: the agent's chain
 * (aws_creds.h), one cache for all runs.
 *
 * Built only when agent/backend.h exists (the backends branch); the
 * static agent (SP_STATIC_AGENT, no libcurl) registers emr-eks as
 * unavailable.
 */
#if defined(__has_include) && __has_include("backend.h")
#include "backend.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"
#include "aws_creds.h"
#include "diagnose.h"
#include "emr.h"
#include "log.h"
#include "util.h"

#ifdef SP_STATIC_AGENT
static struct backend_run *emr_submit(const struct backend_ctx *ctx,
				      char *err, size_t errlen)
{
	(void)ctx;
	return backend_unavailable_submit("emr-eks", err, errlen);
}

const struct backend_ops backend_emr_ops = {
	.name = "emr-eks",
	.submit = emr_submit,
};

int backend_emr_preflight(const struct agent_config *cfg, const char *tenant,
			  const char *env,
			  const struct backend_setting *settings,
			  size_t nsettings, char *err, size_t errlen)
{
	(void)cfg, (void)tenant, (void)env, (void)settings, (void)nsettings;
	snprintf(err, errlen, "backend emr-eks is not built into this agent "
			      "(the static agent has no libcurl)");
	return -1;
}
#else

#define EMR_POLL_FIRST_MS 1000
#define EMR_POLL_MAX_MS 15000
#define EMR_MAX_ERRORS 30 /* failed calls in a row end the run */

enum phase { STARTING, WATCHING, DONE };

struct backend_run {
	struct backend_ctx ctx; /* argv, settings, workdir not kept */
	struct emr e;
	struct emr_job job;
	/* owned copies: ctx's strings are borrowed for submit only, and a
	 * retried StartJobRun must send the very same body */
	char **argv;
	char tenant[128], env[128], name[256];
	char id[80];
	enum phase phase;
	enum backend_state st;
	struct emr_status last;
	bool cancel_wanted, cancel_sent, timed_out;
	bool start_ambiguous; /* a StartJobRun may have worked unanswered */
	int64_t next, interval, deadline;
	int errors;
	char reason[600];
};

static struct aws_provider provider;
static pthread_once_t provider_once = PTHREAD_ONCE_INIT;
static const struct agent_config *provider_cfg;

static void provider_init(void)
{
	aws_provider_init(&provider);
	snprintf(provider.sts_endpoint, sizeof(provider.sts_endpoint), "%s",
		 provider_cfg->aws_sts_endpoint);
	snprintf(provider.imds_endpoint, sizeof(provider.imds_endpoint), "%s",
		 provider_cfg->aws_imds_endpoint);
	provider.timeout_ms = (long)provider_cfg->backend_timeout_ms;
}

static void setting(const struct backend_ctx *ctx, const char *key,
		    char *out, size_t len)
{
	const char *v = backend_setting(ctx, key);
	snprintf(out, len, "%s", v ? v : "");
}

static int setup(struct backend_run *h, const struct backend_ctx *ctx,
		 char *err, size_t errlen)
{
	struct emr_config c;
	char why[300];

	memset(&c, 0, sizeof(c));
	setting(ctx, "virtual_cluster_id", c.virtual_cluster_id,
		sizeof(c.virtual_cluster_id));
	setting(ctx, "execution_role_arn", c.execution_role_arn,
		sizeof(c.execution_role_arn));
	setting(ctx, "release_label", c.release_label, sizeof(c.release_label));
	setting(ctx, "region", c.region, sizeof(c.region));
	setting(ctx, "log_uri", c.log_uri, sizeof(c.log_uri));
	setting(ctx, "log_group", c.log_group, sizeof(c.log_group));
	setting(ctx, "endpoint", c.endpoint, sizeof(c.endpoint));
	if (!c.endpoint[0])
		snprintf(c.endpoint, sizeof(c.endpoint), "%s",
			 ctx->cfg->aws_emr_endpoint);
	snprintf(c.s3_endpoint, sizeof(c.s3_endpoint), "%s",
		 ctx->cfg->aws_s3_endpoint);
	if (emr_config_check(&c, why, sizeof(why))) {
		if (!ctx->tenant) { /* preflight: the scheduler names the env */
			snprintf(err, errlen,
				 "backend emr-eks: %s (spctl env set "
				 "--backend-setting KEY=VALUE)", why);
			return -1;
		}
		snprintf(err, errlen,
			 "backend emr-eks: %s (spctl env set %s/%s "
			 "--backend-setting KEY=VALUE)",
			 why, ctx->tenant, ctx->env);
		return -1;
	}
	provider_cfg = ctx->cfg;
	pthread_once(&provider_once, provider_init);
	if (!provider.region[0])
		snprintf(provider.region, sizeof(provider.region), "%s",
			 c.region);
	emr_init(&h->e, &c, &provider);
	/* one attempt per poll: the back-off is ours, between polls */
	h->e.client.max_attempts = 1;
	h->e.client.timeout_ms = (long)ctx->cfg->backend_timeout_ms;
	return 0;
}

/* Virtual clusters found RUNNING lately: checked again after an hour. */
#define VC_CACHE 8
#define VC_RECHECK_MS (3600 * 1000)
static struct { char id[128]; int64_t at; } vc_ok[VC_CACHE];

/* Preflight of the environment's virtual cluster (DescribeVirtualCluster)
 * at its first run, then hourly: a deleted or terminated cluster fails the
 * run with that reason instead of StartJobRun's. A throttled or failed
 * check does not stop the run (StartJobRun will say). */
static int check_cluster(struct backend_run *h, char *err, size_t errlen)
{
	int64_t now = time_mono_ms();
	size_t slot = 0;

	for (size_t i = 0; i < VC_CACHE; i++) {
		if (!strcmp(vc_ok[i].id, h->e.cfg.virtual_cluster_id) &&
		    now - vc_ok[i].at < VC_RECHECK_MS)
			return 0;
		if (vc_ok[i].at < vc_ok[slot].at)
			slot = i;
	}
	if (emr_check_cluster(&h->e, err, errlen))
		return h->e.last_retryable ? 0 : -1;
	snprintf(vc_ok[slot].id, sizeof(vc_ok[slot].id), "%s",
		 h->e.cfg.virtual_cluster_id);
	vc_ok[slot].at = now;
	return 0;
}

int backend_emr_preflight(const struct agent_config *cfg, const char *tenant,
			  const char *env,
			  const struct backend_setting *settings,
			  size_t nsettings, char *err, size_t errlen)
{
	struct backend_ctx ctx;
	struct backend_run h;

	memset(&ctx, 0, sizeof(ctx));
	memset(&h, 0, sizeof(h));
	ctx.tenant = tenant; /* NULL in the preflight */
	ctx.env = env;
	ctx.settings = settings;
	ctx.nsettings = nsettings;
	ctx.cfg = cfg;
	if (setup(&h, &ctx, err, errlen))
		return -1;
	/* the client's own retries, each attempt bounded by
	 * backend_timeout_ms: this runs on the agent's thread */
	h.e.client.max_attempts = 2;
	if (emr_check_cluster(&h.e, err, errlen))
		return -1;
	return 0;
}

static void copy_job(struct backend_run *h, const struct backend_ctx *ctx)
{
	h->argv = xcalloc(ctx->argc + 1, sizeof(char *));
	for (size_t i = 0; i < ctx->argc; i++)
		h->argv[i] = xstrdup(ctx->argv[i]);
	snprintf(h->tenant, sizeof(h->tenant), "%s", ctx->tenant);
	snprintf(h->env, sizeof(h->env), "%s", ctx->env);
	snprintf(h->name, sizeof(h->name), "%s", ctx->job ? ctx->job : "");
	/* names kept for logs; the borrowed ones are gone after submit */
	h->ctx.tenant = h->tenant;
	h->ctx.env = h->env;
	h->ctx.job = h->name;
	h->job = (struct emr_job){
		.run = ctx->run, .attempt = ctx->attempt,
		.tenant = h->tenant, .env = h->env,
		.name = h->name, .argv = (const char *const *)h->argv,
		.argc = ctx->argc,
		.driver_cores = ctx->res.driver_cores,
		.driver_memory_mb = ctx->res.driver_memory_mb,
		.executor_cores = ctx->res.executor_cores,
		.executor_memory_mb = ctx->res.executor_memory_mb,
		.executors = ctx->res.executors,
	};
}

static void free_run(struct backend_run *h);

/* One call failed: retried later if it may help, else the run fails. */
static void call_failed(struct backend_run *h, const char *err)
{
	if (h->e.last_retryable && ++h->errors < EMR_MAX_ERRORS) {
		log_warn("run %llu: %s (retrying)",
			 (unsigned long long)h->ctx.run, err);
		return;
	}
	h->st = BACKEND_FAILED;
	h->phase = DONE;
	snprintf(h->reason, sizeof(h->reason), "%s", err);
}

static void try_start(struct backend_run *h)
{
	char err[500];

	if (emr_start(&h->e, &h->job, h->id, sizeof(h->id), err,
		      sizeof(err))) {
		h->start_ambiguous |= h->e.last_ambiguous;
		call_failed(h, err);
		return;
	}
	h->errors = 0;
	h->phase = WATCHING;
	h->st = BACKEND_SUBMITTED;
	log_info("run %llu attempt %llu: EMR on EKS job run %s",
		 (unsigned long long)h->ctx.run,
		 (unsigned long long)h->ctx.attempt, h->id);
	h->ctx.report(h->ctx.sink_ctx, BACKEND_SUBMITTED, h->id);
}

/* Cancelled or timed out before StartJobRun was answered. If an attempt
 * may have started the job all the same (its answer lost), StartJobRun
 * again with the same clientToken names it without starting another, and
 * the next poll cancels it; else nothing runs on EMR. */
static void stop_starting(struct backend_run *h)
{
	if (h->start_ambiguous) {
		try_start(h);
		if (h->phase == WATCHING) {
			h->next = 0;
			return;
		}
	}
	h->phase = DONE;
	h->st = h->timed_out ? BACKEND_TIMED_OUT : BACKEND_CANCELLED;
	snprintf(h->reason, sizeof(h->reason), "%s",
		 h->timed_out ? "timeout reached before EMR took the job"
			      : "cancelled");
}

static struct backend_run *emr_submit(const struct backend_ctx *ctx,
				      char *err, size_t errlen)
{
	struct backend_run *h = xcalloc(1, sizeof(*h));
	struct strbuf probe = STRBUF_INIT;

	h->ctx = *ctx;
	h->ctx.argv = NULL;
	h->ctx.settings = NULL;
	h->ctx.nsettings = 0;
	h->ctx.workdir = NULL;
	if (setup(h, ctx, err, errlen)) {
		free(h);
		return NULL;
	}
	copy_job(h, ctx);
	/* an argv EMR cannot run fails now, not after retries */
	if (emr_build_start(&h->e.cfg, &h->job, &probe, err, errlen)) {
		strbuf_release(&probe);
		free_run(h);
		return NULL;
	}
	strbuf_release(&probe);
	if (check_cluster(h, err, errlen)) {
		free_run(h);
		return NULL;
	}
	h->deadline = ctx->timeout_ms ? time_mono_ms() + ctx->timeout_ms : 0;
	h->interval = EMR_POLL_FIRST_MS;
	try_start(h);
	if (h->phase == DONE) { /* refused: the run fails at once */
		snprintf(err, errlen, "%s", h->reason);
		free_run(h);
		return NULL;
	}
	h->next = time_mono_ms() + (h->phase == STARTING ? 200 : h->interval);
	return h;
}

static void map_state(struct backend_run *h)
{
	enum backend_state was = h->st;

	switch (h->last.state) {
	case EMR_RUNNING:
	case EMR_CANCEL_PENDING:
		h->st = h->last.state == EMR_RUNNING || was == BACKEND_RUNNING
				? BACKEND_RUNNING
				: BACKEND_SUBMITTED;
		break;
	case EMR_COMPLETED:
		h->st = BACKEND_SUCCEEDED;
		break;
	case EMR_FAILED:
		h->st = BACKEND_FAILED;
		snprintf(h->reason, sizeof(h->reason),
			 "EMR on EKS job run %s FAILED%s%s%s: %s", h->id,
			 h->last.failure_reason[0] ? " (" : "",
			 h->last.failure_reason,
			 h->last.failure_reason[0] ? ")" : "",
			 h->last.state_details);
		break;
	case EMR_CANCELLED:
		h->st = h->timed_out ? BACKEND_TIMED_OUT : BACKEND_CANCELLED;
		snprintf(h->reason, sizeof(h->reason), "%s",
			 h->timed_out ? "timeout reached: the EMR job run was "
					"cancelled"
				      : "cancelled");
		break;
	default:
		h->st = BACKEND_SUBMITTED;
	}
	if (h->st == BACKEND_RUNNING && was != BACKEND_RUNNING)
		h->ctx.report(h->ctx.sink_ctx, BACKEND_RUNNING, h->id);
	if (h->st != was)
		h->interval = EMR_POLL_FIRST_MS; /* things move: look soon */
	if (backend_state_final(h->st))
		h->phase = DONE;
}

static void watch(struct backend_run *h)
{
	char err[500];

	if (h->cancel_wanted && !h->cancel_sent) {
		if (emr_cancel(&h->e, h->id, err, sizeof(err)) == 0) {
			h->cancel_sent = true;
		} else if (!h->e.last_retryable) {
			/* ValidationException: already ended; look */
			h->cancel_sent = true;
			log_warn("run %llu: %s", (unsigned long long)h->ctx.run,
				 err);
		} else {
			call_failed(h, err);
			return;
		}
	}
	if (emr_describe(&h->e, h->id, &h->last, err, sizeof(err))) {
		call_failed(h, err);
		return;
	}
	h->errors = 0;
	map_state(h);
}

static void fill(const struct backend_run *h, struct backend_status *st)
{
	st->state = h->st;
	snprintf(st->app_id, sizeof(st->app_id), "%s", h->id);
	snprintf(st->reason, sizeof(st->reason), "%s", h->reason);
	st->exit_code = h->st == BACKEND_SUCCEEDED ? 0 : -1;
	st->wait_status = 0;
	st->exited = false;
}

static bool emr_poll(struct backend_run *h, int64_t now, bool read,
		     struct backend_status *st)
{
	(void)read; /* the logs come from S3 once the run ended */
	if (h->phase == DONE || now < h->next) {
		fill(h, st);
		return h->phase == DONE;
	}
	if (h->deadline && now >= h->deadline && !h->timed_out) {
		h->timed_out = true;
		h->cancel_wanted = true;
	}
	if (h->phase == STARTING) {
		if (h->timed_out)
			stop_starting(h);
		else
			try_start(h);
	}	else
		watch(h);
	h->next = now + h->interval;
	h->interval = h->interval * 2 > EMR_POLL_MAX_MS ? EMR_POLL_MAX_MS
							: h->interval * 2;
	fill(h, st);
	return h->phase == DONE;
}

static void emr_cancel_run(struct backend_run *h, int64_t now_mono)
{
	(void)now_mono;
	h->cancel_wanted = true;
	h->next = 0; /* CancelJobRun on the next poll */
	if (h->phase == STARTING)
		stop_starting(h);
}

static void sink_line(void *ctx, int stream, const char *line, size_t len)
{
	struct backend_run *h = ctx;
	h->ctx.sink(h->ctx.sink_ctx, stream, line, len);
}

static void emr_fetch_logs(struct backend_run *h)
{
	char err[500];
	int found = 0;

	if (!h->id[0] || !h->e.cfg.log_uri[0])
		return;
	if (emr_fetch_driver_logs(&h->e, h->id, sink_line, h, &found, err,
				  sizeof(err)))
		log_warn("run %llu: driver logs: %s",
			 (unsigned long long)h->ctx.run, err);
	else if (!found)
		log_info("run %llu: no driver log under log_uri yet",
			 (unsigned long long)h->ctx.run);
}

static void emr_classify_run(struct backend_run *h,
			     const struct backend_status *st,
			     struct diagnoser *d)
{
	(void)st;
	if (h->last.state == EMR_FAILED)
		emr_classify(&h->last, d);
}

static int64_t emr_next_deadline(const struct backend_run *h)
{
	if (h->phase == DONE)
		return 0;
	if (h->deadline && h->deadline < h->next)
		return h->deadline;
	return h->next;
}

static void free_run(struct backend_run *h)
{
	char err[300];

	if (!h)
		return;
	/* an agent stopping leaves no job running on EMR for a run it will
	 * report as ended */
	if (h->phase == WATCHING && !h->cancel_sent &&
	    emr_cancel(&h->e, h->id, err, sizeof(err)))
		log_warn("run %llu: %s", (unsigned long long)h->ctx.run, err);
	for (size_t i = 0; h->argv && h->argv[i]; i++)
		free(h->argv[i]);
	free(h->argv);
	free(h);
}

const struct backend_ops backend_emr_ops = {
	.name = "emr-eks",
	.submit = emr_submit,
	.poll = emr_poll,
	.cancel = emr_cancel_run,
	.fetch_logs = emr_fetch_logs,
	.classify = emr_classify_run,
	.next_deadline = emr_next_deadline,
	.free = free_run,
};
#endif /* SP_STATIC_AGENT */
#else
/* Without agent/backend.h (before the backends branch is merged) this file
 * is empty: sp-emr-drive and the unit tests use agent/emr.h directly. */
typedef int backend_emr_unused;
#endif
