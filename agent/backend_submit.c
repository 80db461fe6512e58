/*
 * backend_submit.c - the spark-submit backend: a local child (runner.h)
 * whose output says what the application does (spark_output.h). In
 * cluster mode the application outlives its client, so a cancel also
 * stops the application itself: `yarn application -kill ID` (or the
 * ResourceManager's REST API) on YARN, `spark-submit --kill DRIVER_ID`
 * through a standalone master, `spark-submit --kill NS:POD` on
 * Kubernetes; and the driver's own log can be collected at the end
 * (`yarn logs`, `kubectl logs`, config collect_driver_log).
 */
#include "backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "agent_config.h"
#include "bhttp.h"
#include "diagnose.h"
#include "leftovers.h"
#include "log.h"
#include "runner.h"
#include "spark_output.h"
#include "util.h"

struct backend_run {
	struct backend_ctx ctx; /* argv and settings not kept */
	struct runner *runner;  /* spark-submit */
	struct runner *helper;  /* yarn kill, spark-submit --kill, logs */
	char helper_what[160];  /* what it does, for the log */
	struct spark_watch watch;
	bool cluster;           /* --deploy-mode cluster */
	char master[512];       /* --master, for spark-submit --kill */
	bool cancelled, collected;
	bool ended;             /* spark-submit reaped: status below */
	int status;
	enum runner_end why;
	char workdir[700];
};

static const struct redactor *cur_redactor(const struct backend_run *h)
{
	return h->ctx.redactor ? *h->ctx.redactor : NULL;
}

/* Reads --deploy-mode and --master (both "--x v" and "--x=v") and the
 * deploy mode given as --conf spark.submit.deployMode=cluster. */
static void scan_argv(struct backend_run *h, char *const *argv, size_t argc)
{
	for (size_t i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strncmp(a, "--deploy-mode=", 14))
			h->cluster = !strcmp(a + 14, "cluster");
		else if (!strcmp(a, "--deploy-mode"))
			h->cluster = !strcmp(v, "cluster");
		else if (!strcmp(a, "--conf") &&
			 !strcmp(v, "spark.submit.deployMode=cluster"))
			h->cluster = true;
		else if (!strncmp(a, "--master=", 9))
			snprintf(h->master, sizeof(h->master), "%s", a + 9);
		else if (!strcmp(a, "--master"))
			snprintf(h->master, sizeof(h->master), "%s", v);
	}
}

static struct backend_run *submit(const struct backend_ctx *ctx, char *err,
				  size_t errlen)
{
	struct backend_run *h = xcalloc(1, sizeof(*h));
	const struct agent_config *cfg = ctx->cfg;
	char **argv = xcalloc(ctx->argc + 2, sizeof(char *));
	struct runner_spec spec;

	h->ctx = *ctx;
	h->ctx.argv = NULL;
	h->ctx.settings = NULL;
	h->ctx.nsettings = 0;
	snprintf(h->workdir, sizeof(h->workdir), "%s", ctx->workdir);
	h->ctx.workdir = h->workdir;
	spark_watch_init(&h->watch);
	scan_argv(h, ctx->argv, ctx->argc);
	argv[0] = (char *)cfg->spark_submit;
	for (size_t i = 0; i < ctx->argc; i++)
		argv[i + 1] = ctx->argv[i];
	memset(&spec, 0, sizeof(spec));
	spec.path = cfg->spark_submit;
	spec.argv = argv;
	spec.workdir = ctx->workdir;
	spec.timeout_ms = ctx->timeout_ms;
	spec.grace_ms = cfg->kill_grace_ms;
	spec.redactor = cur_redactor(h); /* long lines cut where no secret is */
	h->runner = runner_start(&spec, err, errlen);
	free(argv);
	if (!h->runner) {
		free(h);
		return NULL;
	}
	if (leftovers_record(cfg->state_dir, ctx->run, runner_pid(h->runner)))
		log_warn("run %llu: cannot record its process group: %s",
			 (unsigned long long)ctx->run, strerror(errno));
	log_info("run %llu attempt %llu: started spark-submit (pid %d)",
		 (unsigned long long)ctx->run, (unsigned long long)ctx->attempt,
		 (int)runner_pid(h->runner));
	return h;
}

static void on_line(void *arg, int stream, const char *line, size_t len)
{
	struct backend_run *h = arg;
	unsigned ev = spark_watch_line(&h->watch, line, len);

	if (ev & SPARK_EV_RUNNING)
		h->ctx.report(h->ctx.sink_ctx, BACKEND_RUNNING,
			      h->watch.app_id);
	else if (ev & SPARK_EV_APP_ID)
		h->ctx.report(h->ctx.sink_ctx, BACKEND_SUBMITTED,
			      h->watch.app_id);
	h->ctx.sink(h->ctx.sink_ctx, stream, line, len);
}

/* A helper's output is part of the run's logs (what yarn said about the
 * kill, the collected driver log), through the same redacting sink, but
 * not read as spark-submit's own. */
static void on_helper_line(void *arg, int stream, const char *line,
			   size_t len)
{
	struct backend_run *h = arg;
	(void)stream;
	h->ctx.sink(h->ctx.sink_ctx, 2, line, len);
}

/* Starts argv[0] as the helper; false (logged) if it cannot start. */
static bool start_helper(struct backend_run *h, const char *const *args,
			 const char *what)
{
	struct runner_spec spec;
	char err[256], *argv[8];
	size_t n = 0;

	/* runner_spec wants writable strings: copies, freed below */
	for (; args[n] && n < 7; n++)
		argv[n] = xstrdup(args[n]);
	argv[n] = NULL;
	memset(&spec, 0, sizeof(spec));
	spec.path = argv[0];
	spec.argv = argv;
	spec.workdir = h->workdir;
	spec.timeout_ms = h->ctx.cfg->backend_timeout_ms;
	spec.grace_ms = 1000;
	spec.redactor = cur_redactor(h);
	h->helper = runner_start(&spec, err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		free(argv[i]);
	if (!h->helper) {
		log_warn("run %llu: cannot %s: %s",
			 (unsigned long long)h->ctx.run, what, err);
		return false;
	}
	snprintf(h->helper_what, sizeof(h->helper_what), "%s", what);
	log_info("run %llu: %s (%s, pid %d)", (unsigned long long)h->ctx.run,
		 what, args[0], (int)runner_pid(h->helper));
	return true;
}

/* PUT {rm}/ws/v1/cluster/apps/{id}/state {"state":"KILLED"}: 200 or 202
 * (the kill is under way) are both success. */
static void rm_kill(struct backend_run *h)
{
	const struct agent_config *cfg = h->ctx.cfg;
	struct strbuf url = STRBUF_INIT, body = STRBUF_INIT;
	struct bhttp_req req = { "PUT", NULL, "{\"state\":\"KILLED\"}", NULL,
				 NULL, NULL, (long)cfg->backend_timeout_ms };
	char err[256];
	long status;

	strbuf_addf(&url, "%s%sws/v1/cluster/apps/%s/state", cfg->yarn_rm_url,
		    cfg->yarn_rm_url[strlen(cfg->yarn_rm_url) - 1] == '/' ? ""
									   : "/",
		    h->watch.app_id);
	req.url = url.buf;
	if (bhttp_call(&req, &status, &body, err, sizeof(err)))
		log_warn("run %llu: ResourceManager kill of %s: %s",
			 (unsigned long long)h->ctx.run, h->watch.app_id, err);
	else if (status != 200 && status != 202)
		log_warn("run %llu: ResourceManager kill of %s: HTTP %ld",
			 (unsigned long long)h->ctx.run, h->watch.app_id,
			 status);
	else
		log_info("run %llu: asked the ResourceManager to kill %s",
			 (unsigned long long)h->ctx.run, h->watch.app_id);
	strbuf_release(&url);
	strbuf_release(&body);
}

/* Stops the application itself in cluster mode (the client's death
 * does not): only ids that spark-submit printed are used, checked to be
 * plain ids before they reach a command line. */
static void kill_cluster_app(struct backend_run *h)
{
	const struct agent_config *cfg = h->ctx.cfg;
	char what[160];

	if (!h->cluster || h->helper)
		return;
	if (h->watch.mode == SPARK_MODE_YARN && h->watch.app_id[0]) {
		if (cfg->yarn_rm_url[0]) {
			rm_kill(h);
			return;
		}
		const char *const argv[] = { cfg->yarn_path, "application",
				 "-kill", h->watch.app_id, NULL };
		snprintf(what, sizeof(what), "kill YARN application %s",
			 h->watch.app_id);
		start_helper(h, argv, what);
	} else if (h->watch.mode == SPARK_MODE_K8S &&
		   h->watch.submission_id[0] && h->master[0]) {
		const char *const argv[] = { cfg->spark_submit, "--kill",
				 h->watch.submission_id, "--master", h->master,
				 NULL };
		snprintf(what, sizeof(what), "kill Kubernetes driver %s",
			 h->watch.submission_id);
		start_helper(h, argv, what);
	} else if (h->watch.mode == SPARK_MODE_STANDALONE &&
		   h->watch.app_id[0] && h->master[0]) {
		/* the driver id (driver-...), killed through the master */
		const char *const argv[] = { cfg->spark_submit, "--kill",
				 h->watch.app_id, "--master", h->master, NULL };
		snprintf(what, sizeof(what), "kill standalone driver %s",
			 h->watch.app_id);
		start_helper(h, argv, what);
	}
}

static void cancel(struct backend_run *h, int64_t now_mono)
{
	h->cancelled = true;
	runner_cancel(h->runner, now_mono);
	kill_cluster_app(h);
}

/* collect_driver_log: the driver's log, once spark-submit has ended. */
static void start_collect(struct backend_run *h)
{
	const struct agent_config *cfg = h->ctx.cfg;
	char ns[256], *pod;

	h->collected = true;
	if (!cfg->collect_driver_log || !h->cluster)
		return;
	if (h->watch.mode == SPARK_MODE_YARN && h->watch.app_id[0]) {
		const char *const argv[] = { cfg->yarn_path, "logs",
				 "-applicationId", h->watch.app_id, NULL };
		start_helper(h, argv, "collect the YARN driver log");
	} else if (h->watch.mode == SPARK_MODE_K8S &&
		   (pod = strchr(h->watch.submission_id, ':'))) {
		snprintf(ns, sizeof(ns), "%.*s",
			 (int)(pod - h->watch.submission_id),
			 h->watch.submission_id);
		const char *const argv[] = { cfg->kubectl_path, "logs", "-n", ns,
				 pod + 1, NULL };
		start_helper(h, argv, "collect the Kubernetes driver log");
	}
}

/* Drives the helper; true once there is none (or it has ended). */
static bool helper_done(struct backend_run *h, int64_t now, bool read)
{
	int status;
	enum runner_end why;

	if (!h->helper)
		return true;
	for (int s = 1; s <= 2 && read; s++)
		if (runner_fd(h->helper, s) >= 0)
			runner_read(h->helper, s, on_helper_line, h);
	if (!runner_poll(h->helper, now, &status, &why))
		return false;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		log_warn("run %llu: %s: %s %d", (unsigned long long)h->ctx.run,
			 h->helper_what,
			 WIFEXITED(status) ? "exit status" : "killed by signal",
			 WIFEXITED(status) ? WEXITSTATUS(status)
					   : WTERMSIG(status));
	runner_free(h->helper);
	h->helper = NULL;
	return true;
}

static void fill_status(struct backend_run *h, struct backend_status *st)
{
	enum spark_result res;
	int code = WIFEXITED(h->status) ? WEXITSTATUS(h->status) : -1;

	snprintf(st->app_id, sizeof(st->app_id), "%s", h->watch.app_id);
	st->exited = true;
	st->wait_status = h->status;
	res = spark_watch_result(&h->watch, h->status, st->reason,
				 sizeof(st->reason));
	if (h->watch.driver_exit_code >= 0)
		code = h->watch.driver_exit_code;
	st->exit_code = code;
	if (h->why == RUNNER_TIMED_OUT) {
		st->state = BACKEND_TIMED_OUT;
		snprintf(st->reason, sizeof(st->reason),
			 "timeout reached: spark-submit was stopped");
	} else if (h->why == RUNNER_CANCELLED) {
		st->state = BACKEND_CANCELLED;
		snprintf(st->reason, sizeof(st->reason), "cancelled");
	} else if (res == SPARK_SUCCEEDED) {
		st->state = BACKEND_SUCCEEDED;
		st->reason[0] = '\0';
	} else {
		st->state = BACKEND_FAILED;
	}
}

static bool poll_run(struct backend_run *h, int64_t now, bool read,
		     struct backend_status *st)
{
	runner_set_redactor(h->runner, cur_redactor(h));
	if (h->helper)
		runner_set_redactor(h->helper, cur_redactor(h));
	for (int s = 1; s <= 2 && read; s++)
		if (runner_fd(h->runner, s) >= 0)
			runner_read(h->runner, s, on_line, h);
	if (!h->ended &&
	    runner_poll(h->runner, now, &h->status, &h->why)) {
		h->ended = true;
		/* the timeout stops the application like a cancel does */
		if (h->why == RUNNER_TIMED_OUT)
			kill_cluster_app(h);
	}
	if (!h->ended) {
		st->state = h->watch.running ? BACKEND_RUNNING
					     : BACKEND_SUBMITTED;
		snprintf(st->app_id, sizeof(st->app_id), "%s",
			 h->watch.app_id);
		helper_done(h, now, read); /* a kill under way */
		return false;
	}
	if (!helper_done(h, now, read))
		return false;
	if (!h->collected) {
		start_collect(h);
		if (h->helper)
			return false;
	}
	fill_status(h, st);
	return true;
}

static void classify(struct backend_run *h, const struct backend_status *st,
		     struct diagnoser *d)
{
	(void)st;
	diagnose_exit(d, h->status);
}

static int pollfds(struct backend_run *h, struct pollfd *pfd, int max)
{
	struct runner *r[2] = { h->runner, h->helper };
	int n = 0;

	for (int i = 0; i < 2; i++)
		for (int s = 1; s <= 2 && r[i]; s++) {
			int fd = runner_fd(r[i], s);
			if (fd >= 0 && n < max)
				pfd[n++] = (struct pollfd){ fd, POLLIN, 0 };
		}
	return n;
}

static int64_t next_deadline(const struct backend_run *h)
{
	int64_t a = h->ended ? INT64_MAX : runner_next_deadline(h->runner);
	int64_t b = h->helper ? runner_next_deadline(h->helper) : INT64_MAX;
	/* spark-submit gone, helper not started yet: poll at once */
	if (h->ended && !h->helper)
		return 0;
	return a < b ? a : b;
}

static void free_run(struct backend_run *h)
{
	if (!h)
		return;
	leftovers_forget(h->ctx.cfg->state_dir, h->ctx.run);
	runner_free(h->runner);
	if (h->helper)
		runner_free(h->helper);
	free(h);
}

const struct backend_ops backend_submit_ops = {
	.name = "spark-submit",
	.submit = submit,
	.poll = poll_run,
	.cancel = cancel,
	.classify = classify,
	.pollfds = pollfds,
	.next_deadline = next_deadline,
	.free = free_run,
};
