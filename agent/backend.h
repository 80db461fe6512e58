/*
 * backend.h - the one small interface between the agent's run supervision
 * (agent/work.c) and the ways a Spark application can be launched: the
 * local spark-submit child (agent/backend_submit.c), Apache Livy's REST
 * batches (agent/backend_livy.c), EMR on EKS (agent/backend_emr.c).
 *
 * Contract:
 *  - work.c owns the run; a backend owns only its handle. Every callback
 *    runs on the agent's one event loop thread; nothing here may block
 *    for long (an HTTP call is bounded by a short timeout taken from the
 *    settings or the agent config).
 *  - A backend never sends anything to the scheduler and never logs a
 *    line of the application's output: output goes through ctx->sink,
 *    which work.c redacts (common/redact.h) and feeds to the classifier
 *    (common/diagnose.h) before anything leaves the host.
 *  - Settings come from the lease (`spctl env set --backend-setting`):
 *    plain key/value strings, never a secret (a secret is named by a path
 *    on the agent host, e.g. livy_password_file).
 *  - Failures say why in a one-line reason; a backend the agent lacks
 *    fails the run with class "backend_unavailable", never a crash.
 *
 * Adding a backend: one file defining `const struct backend_ops
 * backend_X_ops` (declared below, listed in agent/backend.c's registry),
 * its name and setting keys in common/backend_keys.c (the scheduler
 * checks `env set` against them). submit copies what it needs from ctx
 * into its handle (ctx->argv, settings and workdir are gone after the
 * call; cfg, redactor, sink, report and sink_ctx stay valid until free).
 * poll is called at least by next_deadline and whenever one of its
 * pollfds is readable; a run ends when poll returns true, then work.c
 * calls fetch_logs, classify (failures and timeouts) and free, in that
 * order, and reports the end with st.reason and st.exit_code.
 */
#ifndef SP_BACKEND_H
#define SP_BACKEND_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend_keys.h" /* names and setting keys, shared */

struct agent_config;
struct diagnoser;
struct redactor;

/* Receives one raw output line (no newline, any bytes) of a run: stream 1
 * stdout, 2 stderr (driver logs fetched from a service count as 2). The
 * sink redacts before keeping anything; the line is borrowed. */
typedef void (*backend_sink_fn)(void *sink_ctx, int stream, const char *line,
				size_t len);

enum backend_state {
	BACKEND_SUBMITTED, /* accepted, not running yet */
	BACKEND_RUNNING,
	BACKEND_SUCCEEDED,
	BACKEND_FAILED,
	BACKEND_CANCELLED, /* after backend_ops.cancel */
	BACKEND_TIMED_OUT, /* ctx.timeout_ms passed; the app was stopped */
};

/* Called (with sink_ctx) the moment the backend learns the application
 * id or the application starts running, before the sink sees the next
 * line: work.c reports it to the scheduler (run_event). app_id may be "".
 * Only BACKEND_SUBMITTED and BACKEND_RUNNING are reported this way; the
 * final state comes from poll. */
typedef void (*backend_report_fn)(void *sink_ctx, enum backend_state state,
				  const char *app_id);

/* One setting from the environment (`env set --backend-setting K=V`). */
struct backend_setting {
	const char *key, *value; /* borrowed */
};

/* Declared resources of the job (spctl job add). 0 = not set. */
struct backend_resources {
	uint32_t driver_cores, driver_memory_mb;
	uint32_t executor_cores, executor_memory_mb, executors;
};

/* What submit gets. Everything is borrowed for the call only, except
 * sink/sink_ctx and cfg/redactor, which outlive the handle. */
struct backend_ctx {
	uint64_t run, attempt;
	const char *tenant, *env, *job; /* names, for names and tags */
	char *const *argv; /* spark-submit arguments (no program), NULL-ended */
	size_t argc;
	struct backend_resources res;
	const struct backend_setting *settings;
	size_t nsettings;
	int64_t timeout_ms; /* 0 = none; the backend enforces it */
	const char *workdir; /* this attempt's directory on the agent host */
	const struct agent_config *cfg;
	/* where the current redactor is (a reload swaps it): for cutting
	 * long lines where no secret straddles the cut (runner.h) */
	const struct redactor *const *redactor;
	backend_sink_fn sink;
	backend_report_fn report;
	void *sink_ctx;
};

/* What poll reports. reason is what the run's end says: "" for success,
 * "cancelled", the timeout, or the failure (it is redacted by work.c). */
struct backend_status {
	enum backend_state state;
	char app_id[128];  /* YARN application_..., spark-<hex>, Livy appId */
	char reason[600];  /* failures: one line, may quote the driver */
	int exit_code;     /* -1 unknown */
	int wait_status;   /* a local child's wait status, else 0 */
	bool exited;       /* wait_status is valid */
};

static inline bool backend_state_final(enum backend_state s)
{
	return s >= BACKEND_SUCCEEDED;
}

struct backend_run; /* a backend's handle for one run */

struct backend_ops {
	const char *name; /* "spark-submit", "livy", "emr-eks" */
	/* Starts the application. Returns the handle, or NULL with a
	 * one-line reason in err (the run fails with it). */
	struct backend_run *(*submit)(const struct backend_ctx *ctx, char *err,
				      size_t errlen);
	/* Advances the run: reads output into ctx->sink (unless read_output
	 * is false: the telemetry spool is full, leave the output where it
	 * is), asks the service, enforces the timeout. Fills *st. Returns
	 * true once st->state is final (then work.c reports the end, calls
	 * fetch_logs, classify, free). */
	bool (*poll)(struct backend_run *h, int64_t now_mono, bool read_output,
		     struct backend_status *st);
	/* Asks the application to stop (the service's kill, SIGTERM...). Not
	 * final by itself: poll later reports BACKEND_CANCELLED. */
	void (*cancel)(struct backend_run *h, int64_t now_mono);
	/* After the final state: fetches the remaining driver log into the
	 * sink (optional: NULL when poll already delivered everything). */
	void (*fetch_logs)(struct backend_run *h);
	/* The failure class of a failed or timed-out run: feeds what the
	 * backend knows beyond the log lines (exit status, service state) to
	 * d, which has already read every line through the sink. NULL: the
	 * lines alone decide. */
	void (*classify)(struct backend_run *h, const struct backend_status *st,
			 struct diagnoser *d);
	/* Event loop integration (NULL = none): fds to watch, and the
	 * monotonic time poll must next be called (INT64_MAX = none). */
	int (*pollfds)(struct backend_run *h, struct pollfd *pfd, int max);
	int64_t (*next_deadline)(const struct backend_run *h);
	/* Frees the handle; a run still going is stopped hard first (agent
	 * shutdown, kill of the group) where the backend can. */
	void (*free)(struct backend_run *h);
};

/* The backend named name ("spark-submit" when name is NULL or empty), or
 * NULL if the name is unknown. A known backend that is not built into
 * this agent (emr-eks in the static agent) is returned: its
 * submit fails with "backend X is not built into this agent". */
const struct backend_ops *backend_find(const char *name);
/* The failure class for a run whose backend is unknown or not built in. */
#define BACKEND_UNAVAILABLE_CLASS "backend_unavailable"
/* true if submit of b always fails because it is not built in. */
bool backend_not_built_in(const struct backend_ops *b);

/* The value of key in ctx's settings, or NULL. */
const char *backend_setting(const struct backend_ctx *ctx, const char *key);

/* The registered backends (the registry is agent/backend.c), each in its
 * own file: backend_submit.c, backend_livy.c, backend_emr.c (which the
 * static agent builds without libcurl: emr-eks not built in there). */
extern const struct backend_ops backend_submit_ops;
extern const struct backend_ops backend_livy_ops;
extern const struct backend_ops backend_emr_ops;

/* The emr-eks preflight (docs/protocol.md, preflight): the environment's
 * settings checked, then DescribeVirtualCluster with the agent's
 * credentials; blocks for at most two attempts of backend_timeout_ms.
 * 0 if the virtual cluster is RUNNING, else -1 with a one-line reason
 * (no secret) in err. */
int backend_emr_preflight(const struct agent_config *cfg, const char *tenant,
			  const char *env,
			  const struct backend_setting *settings,
			  size_t nsettings, char *err, size_t errlen);

/* For backends that are registered but not built in (emr-eks in the
 * static agent): a submit that fails with "backend NAME is
 * not built into this agent". */
struct backend_run *backend_unavailable_submit(const char *name, char *err,
					       size_t errlen);

#endif
